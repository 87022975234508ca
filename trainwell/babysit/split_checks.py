"""Splits that don't match: the validation and test targets against the training split's.

A model learns the training split's classes; validation and test measure it on the same
distribution. Rows grouped by class and cut in file order (a sorted export split 60/20/20) give a
training split without the classes the others hold: the model cannot predict them, and every
validation number is meaningless. Regression data sorted by its target and cut in order asks the
model to extrapolate beyond every target it saw. Cheap: one pass over each split's targets, on the
host.

``split_mismatch``:

- class ids (integer targets): a class present in validation or test that never occurs in
  training is an error (a warning while it holds less than ``UNSEEN_ERROR`` of the split); a
  class of training that a split lacks although the training share predicts at least
  ``ABSENT_EXPECTED`` of its rows is a warning (rows sorted into splits).
- class shares that differ (a training split oversampled, or undersampled, to balance its
  classes: resampling on purpose) are no mismatch: the total-variation distance between the class
  shares, TV = 1/2 sum_k |p_k - q_k|, is reported as ``info`` when it is above ``TV_HIGH`` and
  above ``NOISE_FACTOR`` times the distance sampling alone gives two splits of these sizes drawn
  from one distribution: each p_k - q_k is about normal with variance p_k (1 - p_k) (1/n + 1/m),
  so E|p_k - q_k| = sqrt(2/pi) sigma_k and E[TV] = 1/2 sum_k sqrt(2/pi) sigma_k (the normal
  approximation to the multinomial; tests/babysit/test_split_checks.py checks it against random
  splits).
- the same class, other inputs (``features_shift``): per feature, the mean of each class in the
  split minus its mean in training, in units of the feature's training std, averaged over the
  classes (weighted by the split's rows); a warning when some feature's shift is above ``SHIFT``
  and above ``SHIFT_Z`` standard errors of the difference of two means (Welch). Resampling
  repeats rows of a class, which leaves its mean where it was. Signals (N, C, L) and images (N, C,
  H, W) add their ``structure`` function (per channel, half the mean squared difference of values
  ``LAGS`` apart along each axis) as features: a rhythm sampled at another rate keeps every
  position's mean and spread (a random phase) but not its scale of variation.
- regression (float targets): a warning when more than ``OUTSIDE_SHARE`` of a split's rows lie
  outside the training targets' range; a split drawn from the training distribution has about
  2 / (n + 1) of its rows outside the range of n training values (order statistics).
- the inputs-to-targets relation (``_relation``; targets in range, classes in the training shares):
  a target column swapped between the files (train.csv lists (x, y), val.csv (y, x)), classes
  relabelled in one file. Every target column (every class, as one-hot columns) is predicted for
  the split's rows by k-nearest-neighbour regression (the mean of the ``RELATION_K`` nearest rows,
  inputs in training stds): from the split's own other rows (leave-one-out) and from the training
  rows. k-NN assumes no form of the relation, so a split drawn with the training split's relation
  is predicted at least as well from the training rows (more of them) as from its own; a warning
  when the split's own rows explain ``RELATION_OWN`` of a column's variance and the training rows
  ``RELATION_GAP`` less. Only the split's rows that lie among the training rows are compared (nearer
  a training row than ``RELATION_COVER`` of the training rows are to theirs): a split that moves
  beyond the training inputs (a split in time) is judged by the checks above, not as a new relation.
- classes coded otherwise in the split (``_recoded``; class ids): a second source that codes positive as
  0, ids assigned in another order. The training rows' ``RELATION_K`` nearest neighbours vote each of the
  split's rows a class (inputs in training stds, the rows among the training rows as above; each
  class's vote share divided by its training share, so the votes carry no training prior); the
  confusion of votes and the split's labels is read under the relabelling that agrees most (the
  Hungarian assignment, ``scipy.optimize.linear_sum_assignment``). Flagged when it moves classes, the
  split's agreement rises by ``RECODE_GAP`` of its rows, and every moved class's rows are voted its new
  class more often than their own by ``RECODE_Z`` standard errors (a sign test per class). Unlike
  ``_relation`` it does not read the votes' shares, so it runs where the class shares differ too: with
  the prior divided out, a class's rows are voted their own class at least as often as any other
  wherever the inputs tell it apart, whatever the split's mix; where they cannot (two confusable
  classes, votes near chance) no class's move is significant.
- one-hot input columns (``_categories``): a run of at least ``MIN_CATEGORIES`` adjacent columns of
  two values each (0 / 1, or the same standardized: the larger value read as 1) with exactly one 1 in
  every training row is a category's one-hot encoding. A split's row whose
  category has no training row gets a column whose weights no training row ever moved (its gradient
  is 0 there): what the model knows of that row's category is its initialization. A category with a
  handful of training rows is barely better: its column's weights are fitted to those few rows'
  labels, noise included (fewer than ``MIN_CATEGORY_ROWS`` rows: the ten events per variable a
  logistic regression's coefficient needs, Peduzzi et al. 1996). A warning when more than
  ``OUTSIDE_SHARE`` of a split's rows fall in categories with fewer than ``MIN_CATEGORY_ROWS``
  training rows, none included (the share of targets outside the training range that the regression
  check allows): a number read as text and one-hot encoded (one column per value seen) or ids too
  rare to learn. Not compared with what random splits give: a random split of such data leaves as
  many rows in rare categories, and they are as unknown.
- the split sizes (``_sizes``): every row the model learns from is a row fewer to measure it
  with, and the usual cut gives training the most: 50 / 25 / 25 (Hastie, Tibshirani & Friedman,
  ESL 2nd ed., 7.2), 60 / 20 / 20 or 80 / 10 / 10 in practice. A training split with fewer rows
  than a validation or test split is ``info`` (a subsample trained on purpose, splits fixed by
  the data's provider); fewer than ``SMALL_TRAIN`` of them is a warning: the shares read the wrong
  way round, ``train_test_split``'s ``test_size`` taken for the training share (a held-out share
  of 1/3 or less read as training's leaves at most half as many training rows). The model learns
  from the smaller part, on the steep part of its learning curve, while the validation estimate
  gains little: its standard error falls as 1 / sqrt(rows), so twice the rows narrow it by 30 %.
  The message says what share of the rows trains. Where that is a warning, ``learning_curve`` reads
  whether the data's learning curve still climbs at the training size (an ``overfitting`` warning).
- a feature that holds the training rows' own labels (label_leak.py, ``split_mismatch`` too): a
  target encoding computed with each row's own label scores far better on held-out training rows
  than on the other splits' rows; judged where the class shares match (a share shift moves every
  column's accuracy) or, for regression, where the targets lie in the training range.
- an input column constant in training that varies in a split (``_constant``): a column that takes one
  value on every training row gives the model no row to learn what its other values mean (after
  ``standardize`` it is 0 in training and its first-layer weights get no gradient at all), and a split
  where it takes other values meets weights it never trained. Alone a constant column is harmless (a
  count of 1 in every row), so it is reported only where a split's rows differ from the training
  value in more rows than splits drawn from one distribution give: with n training rows, m in the
  split and k of the split's rows off the training value, all k land outside training by chance with
  probability C(m, k) / C(n + m, k) (hypergeometric); reported below ``first_layer.ALPHA`` over the
  constant columns tested (a pixel that is bright in one image of a thousand stays quiet). What the
  model does with such a value is its untrained first-layer weights times the value's distance from
  the training value: the same size of weight every column starts with. Where that distance stays
  within what the training rows' varying columns reach from their means (the median over them of each
  column's largest deviation, ``_training_reach``), the column moves the first layer as one more noise
  column of the inputs' own size would: ``info`` (set 21's counter held at 0 by the training export,
  counts of 1-2 in validation under a scaler that reads a zero std as 1). Beyond it (a zero training
  std divided by 1e-8: counts of 1e8) the untrained weights meet inputs larger than any the model was
  fitted on, and the outputs follow them: a warning, where the rows beyond it are themselves more than
  chance puts outside training (the same hypergeometric test on them: a random re-split of the pooled
  rows, a permutation test). One image of 400 whose product reaches a pixel that is background in all
  1,200 training images lands outside them with p = 0.25 (set 27's healthy catalog photos, exact white
  in training, camera noise in validation): it says nothing of the split, and the finding stays info.
- a training split doubled with flipped copies of its rows (mirror_copies.py): the split's
  rows are compared with their flips appended (``features_shift`` reads the distribution the model
  is trained on); copies labelled unlike their rows are ``label_problem`` (a warning), and then no
  class's mean is compared (the training classes' rows are not the class's inputs).
- two class ids the inputs cannot tell apart (class_pairs.py, ``label_problem`` as a warning): one
  class split in two by its names; read on the rows of every split together (the same ids name the
  same classes in each; more rows narrow the test's bound).
- a class of a signal whose rows run in both time orders, the second reading as another class
  (reversed_rows.py, ``label_problem`` as a warning): a source stacked newest first; read on the
  same rows.

Every ``split_mismatch`` warning above is then measured by intervention (mismatch_cost.py): probes
fitted on the training rows score the split's rows against held-back training rows (a leak: also
against the split's own rows, out of fold); a mismatch that costs less than the kill rule is ``info``,
its measurement in the message (a training split of random crops, a leak beside columns that tell the
labels as well, a small training split drawn from the validation split's distribution).
"""
from __future__ import annotations

import math

import torch

from trainwell.babysit.absorbing_class import check_absorbing_classes
from trainwell.babysit.class_pairs import check_class_pairs
from trainwell.babysit.class_weighting import judge
from trainwell.babysit.first_layer import ALPHA
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.label_leak import check_label_leak
from trainwell.babysit.learning_curve import check_learning_curve
from trainwell.babysit.mismatch_cost import grade_mismatches
from trainwell.babysit.mirror_copies import check_mirror_labels, mirrored_axes, with_mirrors
from trainwell.babysit.reversed_rows import check_reversed_rows

TV_HIGH = 0.2             # info: a fifth of the rows would have to change class to match the training shares
NOISE_FACTOR = 4.0        # ... and 4x the distance two random splits of these sizes show
OUTSIDE_SHARE = 0.1       # regression: a tenth of the split's targets outside the training range
UNSEEN_ERROR = 0.01       # classes absent from training: an error from 1% of the split's rows (a rare class a
                          # random split left out of training costs less than that: a warning)
SHOWN = 10                # class ids listed in a message
MIN_CATEGORIES = 3        # one-hot runs: at least 3 columns (two 0/1 columns summing to 1 are one flag and its negation)
MIN_CATEGORY_ROWS = 10    # one-hot runs: a category's weights learn from >= 10 training rows (ten events per
                          # variable, Peduzzi et al. 1996); rarer categories are memorized, not learned
ABSENT_EXPECTED = 10.0    # a class absent from a split where the training share predicts >= 10 of its rows: a
                          # random split leaves it out with probability about exp(-10) = 5e-5 (Poisson)
SHIFT = 0.5               # features_shift: a class's mean half a training std away (Cohen's d 0.5, "medium") ...
SHIFT_Z = 5.0             # ... and 5 standard errors of the difference (two-sided p ~ 6e-7 per feature: many
                          # features tested at once stay silent on a random split)
MIN_CLASS_ROWS = 5        # features_shift: classes with fewer rows in either split are left out
LAGS = (1, 2, 4, 8)       # features_shift on signals and images: the structure function at lags of 1-8 steps, an
                          # octave apart (Kolmogorov 1941; a signal's power spectrum read in the lag domain)
FEATURE_ROWS = 5000       # features_shift: at most this many rows of each split (seeded sample)
RELATION_ROWS = 2000      # relation: at most this many rows of each split (seeded sample; distances are n x m)
RELATION_K = 10           # relation: targets predicted by the mean of the 10 nearest rows (k-NN regression)
RELATION_DIMS = 64        # relation: wider inputs are compared through a seeded random projection to 64 columns
RELATION_MIN_ROWS = 30    # relation: fewer of the split's rows among the training rows: not judged
RELATION_COVER = 0.9      # relation: a split's row "among the training rows": nearer a training row than 90% of the
                          # training rows are to their own nearest neighbour
RELATION_OWN = 0.5        # relation: the split's own neighbours explain at least half its targets' variance ...
RELATION_GAP = 0.5        # ... and the training split's neighbours explain half of the variance less
RECODE_Z = 4.0            # recoded classes: every moved class's rows land on its new class this many standard
                          # errors more often than on their own (sign test; one-sided p ~ 3e-5 per class)
RECODE_GAP = 0.2          # ... and the split's accuracy rises by a fifth of its rows under the relabelling
SMALL_TRAIN = 0.5         # sizes: a warning when training has fewer rows than half a validation or test split (the
                          # usual cut gives training 2x to 8x a split's rows: ESL 7.2's 50 / 25 / 25, 60 / 20 / 20,
                          # 80 / 10 / 10; a held-out share t <= 1/3 read as training's gives t / (1 - t) <= 0.5);
                          # fewer rows than the split: info


def _targets(pair):
    """The targets of a split as a host tensor, or None (no split, or targets not a tensor)."""
    if pair is None:
        return None
    y = pair[1]
    return y.detach().cpu() if isinstance(y, torch.Tensor) and y.numel() > 0 else None


def expected_tv(p: torch.Tensor, n: int, m: int) -> float:
    """E[TV] between the class shares of two samples of sizes ``n`` and ``m`` drawn from the
    shares ``p`` (the normal approximation; the module docstring)."""
    sigma = torch.sqrt(p * (1 - p) * (1.0 / n + 1.0 / m))
    return 0.5 * math.sqrt(2 / math.pi) * float(sigma.sum())


def _shown(ids) -> str:
    return str(ids[:SHOWN])[:-1] + (f", ... {len(ids)} in all]" if len(ids) > SHOWN else "]")


def _counts(t, ids):
    """Rows of ``t`` per class id in ``ids`` (sorted), as float64 (any ids: no bincount of the largest)."""
    values, counts = torch.unique(t, return_counts=True)
    out = torch.zeros(ids.numel(), dtype=torch.float64)
    out[torch.searchsorted(ids, values)] = counts.double()
    return out


def _share_distance(a, b) -> tuple[float, float]:
    """(TV, E[TV] between random splits of these sizes) of the class counts ``a`` and ``b``."""
    tv = 0.5 * float((a / a.sum() - b / b.sum()).abs().sum())
    pooled = (a + b) / (a.sum() + b.sum())
    return tv, expected_tv(pooled, int(a.sum()), int(b.sum()))


def _shares_differ(tv: float, noise: float) -> bool:
    """Two splits' class shares differ: their total-variation distance ``tv`` is above ``TV_HIGH``
    and above ``NOISE_FACTOR`` x ``noise``, what random splits of their sizes show (``_share_distance``)."""
    return tv > TV_HIGH and tv > NOISE_FACTOR * noise


def _classes(train, name, other) -> list[Finding]:
    ids = torch.unique(torch.cat([train, other]))
    a, b = _counts(train, ids), _counts(other, ids)
    unseen = (b > 0) & (a == 0)
    if bool(unseen.any()):
        share = float(b[unseen].sum() / b.sum())
        return [make("split_mismatch",
                     f"the {name} split holds classes {_shown(ids[unseen].tolist())} ({100 * share:.1f}% of its "
                     f"rows) that never occur in the training split (training has classes "
                     f"{_shown(ids[a > 0].tolist())}): the model cannot learn them",
                     evidence={"split": name, "unseen_classes": ids[unseen].tolist(), "unseen_share": share,
                               "classes": ids.tolist(), "train_counts": a.tolist(), f"{name}_counts": b.tolist()},
                     where=name, severity="error" if share >= UNSEEN_ERROR else "warning")]
    p = a / a.sum()
    absent = (b == 0) & (p * b.sum() >= ABSENT_EXPECTED)
    if bool(absent.any()):
        expected = (p * b.sum())[absent]
        return [make("split_mismatch",
                     f"the {name} split lacks classes {_shown(ids[absent].tolist())} of the training split, where "
                     f"their training shares predict {float(expected.min()):.0f} or more of its {int(b.sum())} rows: "
                     f"the rows were sorted into the splits",
                     evidence={"split": name, "absent_classes": ids[absent].tolist(),
                               "expected_rows": expected.tolist(), "classes": ids.tolist(),
                               "train_counts": a.tolist(), f"{name}_counts": b.tolist()}, where=name)]
    tv, noise = _share_distance(a, b)
    if not _shares_differ(tv, noise):
        return []
    return [make("split_mismatch",
                 f"the class shares of the {name} split differ from the training split's by a total-variation "
                 f"distance of {tv:.2f} ({noise:.3f} expected between random splits of these sizes): a resampled "
                 f"split (e.g. a minority class repeated to balance training) is no mismatch; the model's scores "
                 f"then follow the training shares",
                 evidence={"split": name, "tv": tv, "expected_tv": noise, "classes": ids.tolist(),
                           "train_counts": a.tolist(), f"{name}_counts": b.tolist()},
                 # a place of its own: a Diagnosis keeps one finding per code and place, and at ``name``
                 # this info would hide the split's warnings measured after it (features, relation)
                 where=f"{name} class shares", severity="info")]


def _rows(pair, limit: int, *, texture: bool = False):
    """A split's inputs (rows flattened, float64, host) and class ids, at most ``limit`` rows (a
    seeded sample), or None when they are not tensors of one row each per target. ``texture``: a
    signal's or an image's ``structure`` columns after the flattened values."""
    X, y = pair
    if not (isinstance(X, torch.Tensor) and isinstance(y, torch.Tensor)) or X.shape[0] != y.shape[0] \
            or not torch.is_floating_point(X) or X.shape[0] == 0:
        return None
    if X.shape[0] > limit:
        keep = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(0))[:limit]
        X, y = X[keep], y[keep]
    X = X.detach().cpu().double()
    flat = X.reshape(X.shape[0], -1)
    extra = structure(X) if texture else None
    return (flat if extra is None else torch.cat([flat, extra], dim=1)), y.detach().cpu()


def structure(X: torch.Tensor) -> torch.Tensor | None:
    """Per row of (N, C, L) signals or (N, C, H, W) images: the structure function, half the mean
    squared difference of values ``LAGS`` steps apart along each spatial axis, per channel (columns:
    axis, then lag, then channel); None for other shapes. A translation-invariant reading of the
    row's scale of variation (for a stationary signal it is the variance less the autocovariance at
    that lag, the power spectrum's Fourier pair): the same rhythm at another sampling rate, or an
    image at another zoom, keeps every position's mean and spread but not these."""
    if X.ndim not in (3, 4):
        return None
    columns = []
    for axis in range(2, X.ndim):
        for lag in LAGS:
            if lag >= X.shape[axis]:
                break
            d = X.narrow(axis, lag, X.shape[axis] - lag) - X.narrow(axis, 0, X.shape[axis] - lag)
            columns.append((d * d).mean(dim=tuple(range(2, X.ndim))) / 2)
    return torch.cat(columns, dim=1) if columns else None


def _class_moments(X, y, ids):
    """Per class id in ``ids``: row counts (C), means and variances of every feature (C x D)."""
    onehot = (y.reshape(-1, 1) == ids.reshape(1, -1)).double()
    n = onehot.sum(dim=0)
    mean = onehot.T @ X / n.clamp(min=1).reshape(-1, 1)
    var = onehot.T @ (X * X) / n.clamp(min=1).reshape(-1, 1) - mean * mean
    return n, mean, var.clamp(min=0) * (n / (n - 1).clamp(min=1)).reshape(-1, 1)


def _features(train_pair, name, other_pair) -> list[Finding]:
    """``features_shift`` (module docstring): the same class, other inputs in ``other_pair``."""
    t, o = _rows(train_pair, FEATURE_ROWS, texture=True), _rows(other_pair, FEATURE_ROWS, texture=True)
    if t is None or o is None or t[0].shape[1] != o[0].shape[1]:
        return []
    values = train_pair[0][0].numel()           # the columns past a row's values are its structure function
    (Xt, yt), (Xo, yo) = t, o
    finite = torch.isfinite(Xt).all(dim=1)
    Xt, yt = Xt[finite], yt[finite]
    finite = torch.isfinite(Xo).all(dim=1)
    Xo, yo = Xo[finite], yo[finite]
    ids = torch.unique(torch.cat([yt, yo]))
    n, mt, vt = _class_moments(Xt, yt, ids)
    m, mo, vo = _class_moments(Xo, yo, ids)
    both = (n >= MIN_CLASS_ROWS) & (m >= MIN_CLASS_ROWS)
    scale = Xt.std(dim=0) if Xt.shape[0] > 1 else torch.zeros(Xt.shape[1], dtype=torch.float64)
    varies = scale > 0
    if not bool(both.any()) or not bool(varies.any()):
        return []
    w = m[both] / m[both].sum()                                   # the split's rows of each class
    diff = ((mo - mt)[both][:, varies] / scale[varies])           # classes x features, in training stds
    se2 = ((vt / n.clamp(min=1).reshape(-1, 1) + vo / m.clamp(min=1).reshape(-1, 1))[both][:, varies]
           / scale[varies] ** 2)
    shift = (w.reshape(-1, 1) * diff).sum(dim=0)
    se = torch.sqrt((w.reshape(-1, 1) ** 2 * se2).sum(dim=0))
    z = shift.abs() / se.clamp(min=1e-300)
    flagged = (shift.abs() > SHIFT) & (z > SHIFT_Z)
    if not bool(flagged.any()):
        return []
    features = torch.nonzero(varies).flatten()[flagged]
    worst = int(torch.argmax(torch.where(flagged, shift.abs(), torch.zeros_like(shift))))
    feature = int(torch.nonzero(varies).flatten()[worst])
    return [make("split_mismatch",
                 f"the {name} split's inputs differ from the training split's for the same classes: "
                 f"{int(flagged.sum())} of {int(varies.sum())} features shift by more than {SHIFT:g} training std "
                 f"within a class (feature {_feature_name(feature, values, train_pair[0].shape)}: "
                 f"{float(shift[worst]):+.2f} std, {float(z[worst]):.0f} standard errors): the splits were not drawn "
                 f"from one distribution",
                 evidence={"split": name, "shifted_features": features[:SHOWN].tolist(),
                           "shifted_count": int(flagged.sum()), "shift": float(shift[worst]),
                           "z": float(z[worst]), "feature": feature, "structure": feature >= values}, where=name)]


def _feature_name(feature: int, values: int, shape) -> str:
    """Feature ``feature`` of ``_rows(..., texture=True)``: its index among a row's ``values``, or
    which structure-function column it is (``structure``) on inputs of ``shape``."""
    if feature < values:
        return str(feature)
    k, channels = feature - values, shape[1]
    for axis in range(2, len(shape)):
        kept = [lag for lag in LAGS if lag < shape[axis]]
        if k < len(kept) * channels:
            return (f"the structure function at lag {kept[k // channels]} along spatial axis {axis - 2} of "
                    f"channel {k % channels}: the rows vary on another scale")
        k -= len(kept) * channels
    return str(feature)


def _range(train, name, other) -> list[Finding]:
    t = train.reshape(train.shape[0], -1).double()
    o = other.reshape(other.shape[0], -1).double()
    if t.shape[1] != o.shape[1]:
        return []
    finite_t, finite_o = t[torch.isfinite(t).all(dim=1)], o[torch.isfinite(o).all(dim=1)]
    if finite_t.shape[0] < 2 or finite_o.shape[0] == 0:
        return []
    lo, hi = finite_t.min(dim=0).values, finite_t.max(dim=0).values
    outside = ((finite_o < lo) | (finite_o > hi)).any(dim=1)
    share = float(outside.double().mean())
    expected = 2.0 / (finite_t.shape[0] + 1)
    if share <= max(OUTSIDE_SHARE, NOISE_FACTOR * expected):
        return []
    return [make("split_mismatch",
                 f"{100 * share:.0f}% of the {name} split's targets lie outside the training targets' range "
                 f"[{float(lo.min()):.4g}, {float(hi.max()):.4g}] (about {100 * expected:.1f}% for a random split): "
                 f"the model is asked to extrapolate",
                 evidence={"split": name, "outside_share": share, "expected_share": expected,
                           "train_min": lo.tolist(), "train_max": hi.tolist()}, where=name)]


def _inputs(X, mean, std, projection):
    """Rows flattened, in training stds, projected to at most ``RELATION_DIMS`` columns."""
    Z = (X.reshape(X.shape[0], -1).double() - mean) / std
    return Z @ projection if projection is not None else Z


def _compared(Xt, Xo):
    """The training and the split's rows as the neighbour checks compare them (``_relation``,
    ``_recoded``): the columns that vary over training, in training stds (``_inputs``), or None
    where none varies."""
    mean, std = Xt.mean(dim=0), Xt.std(dim=0)
    varies = std > 0
    if not bool(varies.any()):
        return None
    Xt, Xo, mean, std = Xt[:, varies], Xo[:, varies], mean[varies], std[varies]
    projection = None
    if Xt.shape[1] > RELATION_DIMS:         # a seeded random projection keeps distances (Johnson-Lindenstrauss)
        g = torch.Generator().manual_seed(0)
        projection = torch.randn(Xt.shape[1], RELATION_DIMS, generator=g, dtype=torch.float64) / RELATION_DIMS ** 0.5
    return _inputs(Xt, mean, std, projection), _inputs(Xo, mean, std, projection)


def _among_training(Zt, Zo):
    """``(d_cross, covered)``: the split's rows' distances to the training rows, and which of them lie
    among the training rows (nearer a training row than ``RELATION_COVER`` of the training rows are
    to their own nearest); a split that extrapolates in its inputs (a time split) is judged by
    ``_range`` and ``_features``, not by the neighbour checks."""
    d_train = torch.cdist(Zt, Zt)
    d_train.fill_diagonal_(math.inf)
    d_train[d_train == 0] = math.inf               # a repeated row (oversampling) is no neighbour of its copy
    d_cross = torch.cdist(Zo, Zt)
    covered = d_cross.min(dim=1).values <= torch.quantile(d_train.min(dim=1).values, RELATION_COVER)
    return d_cross, covered


def _target_matrix(y, ids):
    """Targets as rows of numbers: one-hot rows over ``ids`` for class ids, the values otherwise."""
    if ids is not None:
        return (y.reshape(-1, 1) == ids.reshape(1, -1)).double()
    return y.reshape(y.shape[0], -1).double()


def _neighbour_mean(d, T, k):
    """The mean of ``T``'s rows at the ``k`` smallest distances of each row of ``d``."""
    idx = torch.topk(d, min(k, d.shape[1]), dim=1, largest=False).indices
    return T[idx].mean(dim=1)


def _placed(Xt, yt, Xo, yo) -> tuple | None:
    """The rows of both splits whose inputs and targets are finite, their inputs placed where the
    neighbours are measured (``_compared``): ``(Zt, yt, Zo, yo)``; None when too few rows are left
    (``RELATION_K`` training rows, ``RELATION_MIN_ROWS`` of the split) or the inputs cannot be placed."""
    def finite(X, y):
        keep = torch.isfinite(X).all(dim=1) & torch.isfinite(y.reshape(y.shape[0], -1).double()).all(dim=1)
        return X[keep], y[keep]
    (Xt, yt), (Xo, yo) = finite(Xt, yt), finite(Xo, yo)
    if Xt.shape[0] <= RELATION_K or Xo.shape[0] < RELATION_MIN_ROWS:
        return None
    compared = _compared(Xt, Xo)
    return None if compared is None else (compared[0], yt, compared[1], yo)


def _relation(train_pair, name, other_pair) -> list[Finding]:
    """``split_mismatch`` when the split's inputs predict its own targets but the training split's
    relation does not (module docstring: the inputs-to-targets relation)."""
    t, o = _rows(train_pair, RELATION_ROWS), _rows(other_pair, RELATION_ROWS)
    if t is None or o is None or t[0].shape[1] != o[0].shape[1]:
        return []
    (Xt, yt), (Xo, yo) = t, o
    if torch.is_floating_point(yt) != torch.is_floating_point(yo) or (
            torch.is_floating_point(yt) and yt[0].numel() != yo[0].numel()):
        return []
    placed = _placed(Xt, yt, Xo, yo)
    if placed is None:
        return []
    Zt, yt, Zo, yo = placed
    ids = None if torch.is_floating_point(yt) else torch.unique(torch.cat([yt.reshape(-1), yo.reshape(-1)]))
    if ids is not None and (yt.ndim != 1 or yo.ndim != 1):
        return []
    Tt, To = _target_matrix(yt, ids), _target_matrix(yo, ids)
    d_self = torch.cdist(Zo, Zo)
    d_self.fill_diagonal_(math.inf)                 # leave each row out of its own neighbours
    d_cross, covered = _among_training(Zt, Zo)
    if int(covered.sum()) < RELATION_MIN_ROWS:
        return []
    To_c = To[covered]
    spread_c = ((To_c - To_c.mean(dim=0)) ** 2).mean(dim=0)             # per target column (per class)
    own = ((_neighbour_mean(d_self[covered], To, RELATION_K) - To_c) ** 2).mean(dim=0)
    cross = ((_neighbour_mean(d_cross[covered], Tt, RELATION_K) - To_c) ** 2).mean(dim=0)
    varies = spread_c > 0
    r2_own = torch.where(varies, 1 - own / spread_c.clamp(min=1e-300), torch.zeros_like(own))
    r2_cross = torch.where(varies, 1 - cross / spread_c.clamp(min=1e-300), torch.zeros_like(own))
    flagged = varies & (r2_own >= RELATION_OWN) & (r2_own - r2_cross >= RELATION_GAP)
    if not bool(flagged.any()):
        return []
    worst = int(torch.argmax(torch.where(flagged, r2_own - r2_cross, torch.full_like(own, -math.inf))))
    columns = torch.nonzero(flagged).flatten()
    labels = (ids[columns] if ids is not None else columns).tolist()
    what = "class" if ids is not None else "target column"
    label = int(ids[worst]) if ids is not None else worst
    return [make("split_mismatch",
                 f"the {name} split's inputs predict its own targets but the training split's rows do not: {what} "
                 f"{label} has R^2 {float(r2_own[worst]):.2f} from the split's own {RELATION_K} nearest rows and "
                 f"{float(r2_cross[worst]):.2f} from the training split's ({len(labels)} {what}"
                 f"{'es' if what == 'class' and len(labels) > 1 else 's' if len(labels) > 1 else ''} so): the same "
                 f"inputs mean other targets in the two splits (a target column swapped or re-encoded between the "
                 f"files, relabelled classes)",
                 evidence={"split": name, "r2_own": float(r2_own[worst]), "r2_from_train": float(r2_cross[worst]),
                           ("classes" if ids is not None else "columns"): labels[:SHOWN], "k": RELATION_K,
                           "rows_compared": int(covered.sum()), "rows": int(Xo.shape[0])}, where=name)]


def relabelling(confusion: torch.Tensor) -> list[int]:
    """The relabelling ``perm`` (label ``j`` read as class ``perm[j]``) under which the most rows of
    ``confusion`` (votes x labels, counts) agree: the assignment of labels to votes that maximizes
    ``sum_j confusion[perm[j], j]`` (Hungarian method, ``scipy.optimize.linear_sum_assignment``)."""
    from scipy.optimize import linear_sum_assignment     # lazily: scipy.optimize's import is slow
    votes, labels = linear_sum_assignment(confusion.double().numpy(), maximize=True)
    perm = list(range(confusion.shape[1]))
    for v, j in zip(votes.tolist(), labels.tolist()):
        perm[j] = v
    return perm


def _sign_z(moved: float, kept: float) -> float:
    """Sign test: how many standard errors more of a class's rows were voted its new class
    (``moved``) than its own (``kept``); 0 where neither."""
    return (moved - kept) / math.sqrt(moved + kept) if moved + kept > 0 else 0.0


def _recoded(train_pair, name, other_pair) -> list[Finding]:
    """``split_mismatch`` when the split's classes are coded otherwise than training's (module
    docstring: classes coded otherwise in the split)."""
    t, o = _rows(train_pair, RELATION_ROWS), _rows(other_pair, RELATION_ROWS)
    if t is None or o is None or t[0].shape[1] != o[0].shape[1] or t[1].ndim != 1 or o[1].ndim != 1:
        return []
    (Xt, yt), (Xo, yo) = t, o
    placed = _placed(Xt, yt, Xo, yo)
    if placed is None:
        return []
    Zt, yt, Zo, yo = placed
    ids = torch.unique(torch.cat([yt, yo]))
    if ids.numel() < 2:
        return []
    d_cross, covered = _among_training(Zt, Zo)
    if int(covered.sum()) < RELATION_MIN_ROWS:
        return []
    # each class's vote share over its training share: votes free of the training prior, so a class
    # training holds less of is not outvoted by the majority where the inputs overlap
    share = _target_matrix(yt, ids).mean(dim=0).clamp(min=1.0 / yt.shape[0])
    votes = (_neighbour_mean(d_cross[covered], _target_matrix(yt, ids), RELATION_K) / share).argmax(dim=1)
    labels = torch.searchsorted(ids, yo[covered])
    confusion = torch.zeros(ids.numel(), ids.numel(), dtype=torch.float64)
    confusion.index_put_((votes, labels), torch.ones_like(votes, dtype=torch.float64), accumulate=True)
    perm = relabelling(confusion)
    moved = [j for j in range(len(perm)) if perm[j] != j]
    if not moved:
        return []
    rows = float(confusion.sum())
    coded, relabelled = float(confusion.trace()) / rows, sum(float(confusion[perm[j], j]) for j in range(len(perm))) / rows
    z = min(_sign_z(float(confusion[perm[j], j]), float(confusion[j, j])) for j in moved)
    if relabelled - coded < RECODE_GAP or z < RECODE_Z:
        return []
    pairs = {int(ids[j]): int(ids[perm[j]]) for j in moved}
    said = ", ".join(f"{a} as {b}" for a, b in list(pairs.items())[:SHOWN])
    return [make("split_mismatch",
                 f"the {name} split's classes read as coded otherwise than training's: the training rows' "
                 f"{RELATION_K} nearest neighbours agree with {coded:.1%} of its labels as coded and with "
                 f"{relabelled:.1%} when its labels are read {said}, every moved class by at least "
                 f"{z:.0f} standard errors (a second source's label convention, ids "
                 f"assigned in another order: map the split's labels to training's codes)",
                 evidence={"split": name, "relabelling": pairs, "accuracy_as_coded": coded,
                           "accuracy_relabelled": relabelled, "z": z, "k": RELATION_K,
                           "rows_compared": int(rows), "rows": int(Xo.shape[0])},
                 where=f"{name} labels")]


def one_hot_runs(X: torch.Tensor) -> list[tuple[int, int]]:
    """Runs ``(start, stop)`` of at least ``MIN_CATEGORIES`` adjacent columns of ``X`` (N, D) that hold
    only 0 and 1 with exactly one 1 per row over the run, cut greedily left to right. Column sums by
    prefix sums P (N, D + 1): [k, m) is a run where P[:, m] - P[:, k] is 1 in every row; a positive
    random projection of P's columns is nondecreasing in m, so the one candidate m is found by binary
    search and then checked exactly (O(N D) for the whole table)."""
    binary = ((X == 0) | (X == 1)).all(dim=0)      # NaN columns: not 0 / 1
    if int(binary.sum()) < MIN_CATEGORIES:
        return []
    Xb = torch.where(binary, X, torch.zeros_like(X))
    P = torch.cat([torch.zeros(X.shape[0], 1, dtype=torch.float64), Xb.double().cumsum(dim=1)], 1)
    w = torch.rand(X.shape[0], generator=torch.Generator().manual_seed(0), dtype=torch.float64) + 1.0
    h, total = w @ P, float(w.sum())
    runs, k, D = [], 0, X.shape[1]
    flags = binary.tolist()
    while k < D:
        if not flags[k]:
            k += 1
            continue
        m = int(torch.searchsorted(h, h[k] + total - 1e-9 * total))
        if m > k and m <= D and all(flags[k:m]) and m - k >= MIN_CATEGORIES \
                and bool((P[:, m] - P[:, k] == 1).all()):
            runs.append((k, m))
            k = m
        else:
            k += 1
    return runs


def _indicators(Xt: torch.Tensor, Xo: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each column with at most two values in training as 0 / 1 (its larger value 1, in both splits; a
    column constant in training is 0 there and 1 where a split differs from it), other columns as
    NaN: one-hot columns standardized by the user (a 1 becomes (1 - p) / s, a 0 -p / s) read as one-hot."""
    It, Io = torch.full_like(Xt, float("nan")), torch.full_like(Xo, float("nan"))
    for j in range(Xt.shape[1]):
        lo, hi = Xt[:, j].min(), Xt[:, j].max()
        if not bool(((Xt[:, j] == lo) | (Xt[:, j] == hi)).all()):
            continue
        if lo == hi:
            It[:, j] = 0.0
            Io[:, j] = (~torch.isclose(Xo[:, j], lo)).double()
        else:
            It[:, j] = (Xt[:, j] == hi).double()
            Io[:, j] = torch.isclose(Xo[:, j], hi).double()
    return It, Io


def _category_rows(X: torch.Tensor, start: int, stop: int) -> torch.Tensor:
    """The training rows of each category of the one-hot run ``[start, stop)`` of ``X`` (all rows,
    flattened): the rows holding its column's larger value (1, or ``(1 - p) / s`` standardized); a
    column with one value has none."""
    cols = X.detach().reshape(X.shape[0], -1)[:, start:stop]
    hi, lo = cols.max(dim=0).values, cols.min(dim=0).values
    return torch.where(hi > lo, (cols == hi).sum(dim=0), torch.zeros_like(hi, dtype=torch.long)).cpu().double()


def _categories(train_pair, name, other_pair) -> list[Finding]:
    """``split_mismatch`` (a warning) when more than ``OUTSIDE_SHARE`` of a split's rows fall, in some
    one-hot run of the inputs, in a category that fewer than ``MIN_CATEGORY_ROWS`` training rows have
    (none included). The runs are found on a sample of at most ``FEATURE_ROWS`` training rows; each
    category's rows are counted on the whole training split (``_category_rows``)."""
    if not all(isinstance(pair[0], torch.Tensor) and pair[0].ndim == 2 for pair in (train_pair, other_pair)):
        return []           # a table's columns; images and sequences hold no one-hot runs of this kind
    t, o = _rows(train_pair, FEATURE_ROWS), _rows(other_pair, FEATURE_ROWS)
    if t is None or o is None or t[0].shape[1] != o[0].shape[1]:
        return []
    Xt, Xo = _indicators(t[0], o[0])
    unseen = torch.zeros(Xo.shape[0], dtype=torch.bool)
    rare_rows = torch.zeros(Xo.shape[0], dtype=torch.bool)
    worst = None
    for start, stop in one_hot_runs(Xt):
        counts = _category_rows(train_pair[0], start, stop)
        held, empty = Xo[:, start:stop] != 0, Xo[:, start:stop].sum(dim=1) == 0
        never = held[:, counts == 0].any(dim=1) | empty
        rows = held[:, counts < MIN_CATEGORY_ROWS].any(dim=1) | empty
        unseen |= never
        rare_rows |= rows
        share = float(rows.double().mean())
        if worst is None or share > worst["share"]:
            worst = {"start": start, "stop": stop, "share": share, "never": int((counts == 0).sum()),
                     "rare": int(((counts > 0) & (counts < MIN_CATEGORY_ROWS)).sum()),
                     "median": float(counts.median())}
    total = float(rare_rows.double().mean())
    if worst is None or total <= OUTSIDE_SHARE:
        return []
    start, stop = worst["start"], worst["stop"]
    return [make("split_mismatch",
                 f"{100 * total:.0f}% of the {name} split's rows fall in input categories that fewer than "
                 f"{MIN_CATEGORY_ROWS} training rows have ({100 * float(unseen.double().mean()):.0f}% in categories "
                 f"no training row has): columns {start}..{stop - 1} one-hot encode {stop - start} categories, "
                 f"{worst['never']} of them in no training row and {worst['rare']} in 1 to {MIN_CATEGORY_ROWS - 1} "
                 f"(a median of {worst['median']:.0f} training rows a category), and {100 * worst['share']:.0f}% of "
                 f"the {name} rows have one of them (or none of the columns set): a category's weights fitted to "
                 f"a handful of rows hold those rows' labels, noise included, not what the category means",
                 evidence={"split": name, "unseen_share": float(unseen.double().mean()), "rare_share": total,
                           "columns": [start, stop], "categories": stop - start, "never_trained": worst["never"],
                           "rare_categories": worst["rare"], "median_rows": worst["median"],
                           "run_share": worst["share"]},
                 where=name,
                 fix="encode a measured number as one number, not one column per value seen (a number read as "
                     "text: parse it); merge rare categories into one, or give the ids an embedding trained with "
                     "an 'unknown' id")]


def _constant(train_pair, name, other_pair) -> list[Finding]:
    """``split_mismatch`` (module docstring): input columns constant over every training row whose
    values in the split ``other_pair`` differ from it on more rows than chance puts outside training."""
    Xt, Xo = train_pair[0], other_pair[0]
    if not (isinstance(Xt, torch.Tensor) and isinstance(Xo, torch.Tensor)) or Xt.shape[1:] != Xo.shape[1:] \
            or Xt.shape[0] < 2 or Xo.shape[0] == 0:
        return []
    xt, xo = Xt.detach().reshape(Xt.shape[0], -1), Xo.detach().reshape(Xo.shape[0], -1)
    lo, hi = xt.amin(0), xt.amax(0)
    constant = ((lo == hi) & torch.isfinite(lo)).cpu()
    if not bool(constant.any()) or bool(constant.all()):
        return []
    n, m = xt.shape[0], xo.shape[0]
    off = (xo != lo.to(xo.device)).sum(0).cpu()
    columns = constant.nonzero().flatten()

    bound = ALPHA / columns.numel()
    p = {int(c): _all_outside_chance(n, m, int(off[c])) for c in columns if int(off[c]) > 0}
    flagged = sorted(c for c, v in p.items() if v < bound)
    if not flagged:
        return []
    worst = max(flagged, key=lambda c: int(off[c]))
    shown = ", ".join(f"{c} = {float(lo[c]):.4g}" for c in flagged[:SHOWN])
    reach = _training_reach(xt, constant)
    steps = (xo[:, flagged] - lo[flagged].to(xo.device)).abs().cpu()
    step = float(steps.amax())
    far = (~(steps <= reach)).sum(0)    # per column, the rows beyond the reach (a NaN or inf step is beyond too)
    far_p = min(_all_outside_chance(n, m, int(k)) for k in far)
    beyond = far_p < bound
    said = (f"values up to {step:.3g} from it, beyond the {reach:.3g} the training rows' varying columns reach from "
            f"their means on {int(far.max())} rows (p = {far_p:.2g}): the untrained weights meet inputs larger than "
            f"any the model was fitted on"
            if beyond else
            f"values up to {step:.3g} from it, beyond the {reach:.3g} the training rows' varying columns reach from "
            f"their means on no more rows than chance gives ({int(far.max())}, p = {far_p:.2g}): elsewhere the "
            f"untrained weights move the first layer as one more noise column of the inputs' own size would"
            if int(far.max()) else
            f"values up to {step:.3g} from it, within the {reach:.3g} the training rows' varying columns reach from "
            f"their means: the untrained weights move the first layer as one more noise column of the inputs' own "
            f"size would")
    return [make("split_mismatch",
                 f"input column{'s' if len(flagged) > 1 else ''} {flagged[:SHOWN]}{' ...' if len(flagged) > SHOWN else ''} "
                 f"take{'' if len(flagged) > 1 else 's'} one value on every one of the {n} training rows ({shown}) but "
                 f"another on {int(off[worst])} of the {m} {name} rows (column {worst}; splits drawn from one "
                 f"distribution put all of them outside training with p = {p[worst]:.2g}): the model had no training "
                 f"row to learn what the column's other values mean, and meets them there ({said})",
                 evidence={"split": name, "constant_columns": flagged[:SHOWN], "constant_count": len(flagged),
                           "training_values": [float(lo[c]) for c in flagged[:SHOWN]], "column": worst,
                           "rows_off": int(off[worst]), "rows": m, "p": p[worst], "p_threshold": bound,
                           "off_step": step, "training_reach": reach, "rows_beyond": int(far.max()),
                           "p_beyond": far_p},
                 where=name, severity="warning" if beyond else "info",
                 fix="build the training split from the same source and steps as the others (the column was "
                     "filled, cast or joined differently for training), or drop the column if it has no meaning")]


def _all_outside_chance(n: int, m: int, k: int) -> float:
    """C(m, k) / C(n + m, k): the chance that ``k`` rows of ``n`` training and ``m`` split rows pooled all
    fall in the split, as a random re-split of the pooled rows (a permutation test) places them."""
    lg = math.lgamma
    return math.exp(lg(m + 1) - lg(m - k + 1) - lg(n + m + 1) + lg(n + m - k + 1))


def _training_reach(xt: torch.Tensor, constant: torch.Tensor) -> float:
    """How far the training rows' varying columns reach from their means: the median over those columns of
    each one's largest absolute deviation (``_constant``'s scale for a constant column's values off training)."""
    varying = xt[:, ~constant.to(xt.device)].double()
    return float((varying - varying.mean(0)).abs().amax(0).median())


def _sizes(train, name, other) -> list[Finding]:
    """A training split with fewer rows than the split ``name``: info, a warning below ``SMALL_TRAIN`` of them."""
    n, m = train.shape[0], other.shape[0]
    if n >= m:
        return []
    share, swapped = n / (n + m), _too_few(n, m)
    said = ("the shares read the wrong way round (test_size taken for the training share)?" if swapped else
            "fine for a subsample trained on purpose or splits fixed by the data's provider")
    return [make("split_mismatch",
                 f"the training split has {n} rows, the {name} split {m}: the model learns from {share:.0%} of "
                 f"these rows and is measured on {1 - share:.0%} (the usual cut trains on the most, 50-80 %); {said}",
                 evidence={"split": name, "train_rows": n, "split_rows": m, "train_share": share,
                           "small_train": SMALL_TRAIN},
                 where=f"{name} size", severity="warning" if swapped else "info",
                 fix="give training the larger share (sklearn's train_test_split: test_size is the held-out "
                     "share, e.g. test_size=0.2); a validation split of a few hundred rows measures accuracy "
                     "to a few points")]


def check_splits(splits) -> list[Finding]:
    """``split_mismatch`` findings for the validation and test splits of ``splits`` (a
    ``data.splits.Splits``, or anything with ``train`` / ``val`` / ``test`` pairs ``(X, y)``), and
    the ``label_problem`` warning for class ids the training inputs cannot tell apart."""
    train = _targets(splits.train)
    if train is None:
        return []
    found, judged, measurable = [], {}, []

    def measured(new: list) -> list:
        """``new``, kept to be graded by what the mismatch costs (mismatch_cost.py): every check but the
        classes' (a class a split cannot measure), the rare categories' (as rare in held-back training
        rows) and the constant columns' (untrained weights)."""
        measurable.extend(new)
        return new
    # a training split holding flipped copies of its rows (offline augmentation, mirror_copies.py):
    # the other splits are compared with their rows flipped the same way; copies labelled unlike
    # their rows are a label_problem, and the class means of such labels say nothing of the inputs
    axes = sorted(mirrored_axes(splits.train[0])) if not torch.is_floating_point(train) else []
    mislabelled = check_mirror_labels(*splits.train) if axes else []
    found += mislabelled
    for name in ("validation", "test"):
        pair = splits.val if name == "validation" else splits.test
        other = _targets(pair)
        if other is None:
            continue
        found += measured(_sizes(train, name, other))
        if torch.is_floating_point(other) != torch.is_floating_point(train):
            continue
        before = len(found)
        if not torch.is_floating_point(train):
            if train.ndim == 1 and other.ndim == 1:
                by_class = _classes(train, name, other)
                found += by_class
                if all(f.severity == "info" for f in by_class) and not mislabelled:
                    # a relabelling moves every class's mean, which features_shift would read as a shift
                    shifted = _recoded(splits.train, name, pair) or _features(splits.train, name, _mirrored(pair, axes))
                    # the neighbours' class votes follow the training shares: with other shares (the
                    # info finding, a resampled split) they would differ without any relabelling
                    found += measured(shifted or ([] if by_class else _relation(splits.train, name, pair)))
        else:
            by_range = _range(train, name, other)
            found += measured(by_range or _relation(splits.train, name, pair))
        if len(found) == before:    # one class mix, one range, the same inputs: a column's score compares
            judged[name] = pair
        found += _categories(splits.train, name, pair)
        found += _constant(splits.train, name, pair)
    if judged:
        found += measured(check_label_leak(splits.train, judged))
    if _few_training_rows(splits):  # the sizes' warning: is the data's learning curve still climbing there?
        found += check_learning_curve(splits.train, {"validation": splits.val, "test": splits.test})
    parts = [pair for pair in (splits.train, splits.val, splits.test) if _labelled_like(pair, splits.train)]
    if not torch.is_floating_point(train) and parts and 2 <= parts[0][0].ndim <= 4:   # tables', signals', images' ids
        # every labelled row: the pair test's bound narrows with rows (absorbing classes: tables only)
        rows, labels = torch.cat([X for X, _ in parts]), torch.cat([y for _, y in parts])
        found += check_class_pairs(rows, labels)
        found += check_absorbing_classes(rows, labels)
        found += check_reversed_rows(rows, labels)     # a class's rows in both time orders (signals)
    graded = dict(zip(map(id, measurable), grade_mismatches(measurable, splits)))   # each kept one by its new one
    return [graded.get(id(f), f) for f in found]


def _few_training_rows(splits) -> bool:
    """A validation or test split with more than 1 / ``SMALL_TRAIN`` x the training split's rows (``_sizes``'
    warning)."""
    train = _targets(splits.train)
    others = [_targets(pair) for pair in (splits.val, splits.test)]
    return train is not None and any(o is not None and _too_few(train.shape[0], o.shape[0]) for o in others)


def _too_few(train_rows: int, split_rows: int) -> bool:
    """Fewer training rows than ``SMALL_TRAIN`` of another split's: the sizes' warning (the shares swapped)."""
    return train_rows < SMALL_TRAIN * split_rows


def _mirrored(pair, axes):
    """A split's ``(X, y)`` with its rows' flips along ``axes`` appended (the training split's
    augmentation), or the pair as it is where that does not apply."""
    X, y = pair
    if not axes or not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor) or X.ndim <= max(axes):
        return pair
    return with_mirrors(X, y, axes)


def _labelled_like(pair, train) -> bool:
    """``pair`` holds class ids and inputs shaped as the training split's (tensors on one device)."""
    return (pair is not None and all(isinstance(t, torch.Tensor) for t in (*pair, *train))
            and pair[0].shape[1:] == train[0].shape[1:] and pair[1].shape[1:] == train[1].shape[1:]
            and pair[0].dtype == train[0].dtype and pair[1].dtype == train[1].dtype
            and pair[0].device == train[0].device and pair[1].device == train[1].device)


def grade_imbalance(found: list, splits) -> list:
    """``found`` with its ``class_imbalance`` findings graded by the splits given: the training counts'
    (``_grade_counts``) and the loss's class weights' (``_grade_class_weights``)."""
    return _grade_class_weights(_grade_counts(found, splits), splits)


def _grade_class_weights(found: list, splits) -> list:
    """``class_weighting.check_class_weights``' finding judged against the evaluated mix: the class ids of
    the validation split, else the test split's, else the training rows' (``class_weighting.judge``); off
    balance where its distance from equal shares passes ``_shares_differ`` (against what as many rows
    drawn from equal shares show; the equal shares are exact, so only the split's rows add noise)."""
    weighted = [f for f in found if f.code == "class_imbalance" and "trained_prior" in f.evidence]
    evaluated = [(name, y) for name, y in (("validation", _targets(splits.val)), ("test", _targets(splits.test)),
                                           ("training", _targets(splits.train)))
                 if y is not None and not torch.is_floating_point(y) and y.ndim == 1]
    if not weighted or not evaluated:
        return found
    name, y = evaluated[0]
    for f in weighted:
        classes = len(f.evidence["trained_prior"])
        if int(y.min()) >= 0 and int(y.max()) < classes:
            counts = torch.bincount(y, minlength=classes).double()
            balance = torch.full_like(counts, 1.0 / classes)
            tv = 0.5 * float((counts / counts.sum() - balance).abs().sum())
            judge(f, name, counts, _shares_differ(tv, expected_tv(balance, int(counts.sum()), math.inf)))
    return found


def _grade_counts(found: list, splits) -> list:
    """``found`` with its ``class_imbalance`` warning (the training split's counts alone) graded by
    the splits given: it stays a warning when a validation or test split holds another class mix
    (the total-variation distance of ``_classes``: above ``TV_HIGH`` and ``NOISE_FACTOR`` x what
    random splits show), since the model's scores follow the training shares and the evaluated mix
    differs (a prior shift; Saerens et al. 2002); with splits that hold the training mix it is
    ``info``: the rare classes are rare where the model is measured too. No split of class ids to
    compare: unchanged."""
    imbalance = [f for f in found if f.code == "class_imbalance" and f.severity == "warning"]
    train = _targets(splits.train)
    if not imbalance or train is None or torch.is_floating_point(train) or train.ndim != 1:
        return found
    distances = {}
    for name, pair in (("validation", splits.val), ("test", splits.test)):
        other = _targets(pair)
        if other is not None and not torch.is_floating_point(other) and other.ndim == 1:
            ids = torch.unique(torch.cat([train, other]))
            distances[name] = _share_distance(_counts(train, ids), _counts(other, ids))
    if not distances:
        return found
    shifted = {n: d for n, d in distances.items() if _shares_differ(*d)}
    said = ", ".join(f"{n} {tv:.2f} ({noise:.3f} between random splits)" for n, (tv, noise) in distances.items())
    for f in imbalance:
        f.evidence["split_tv"] = {n: tv for n, (tv, _) in distances.items()}
        if shifted:
            f.message += f"; the evaluated class mix differs from training's (total-variation distance {said})"
        else:
            f.severity = "info"
            f.message += (f"; the splits measured hold the training mix (total-variation distance {said}): "
                          f"weight the classes or report balanced accuracy if the rare classes matter")
    return found
