"""Inputs that carry (almost) nothing about the targets: ``uninformative_inputs``.

The fault: features that take one value in nearly every row, so that most rows look alike. The
common way to make it is a cast after scaling (``((x - min) / (max - min)).long()``: every feature
is 0 except in its maximum row), a wrong column, a broken join, an image read as all-black. The
symptom alone proves nothing: a bag of words, one-hot categories and the border pixels of MNIST
are zero in nearly every row too, and train well. What tells them apart is what the identical rows
cost. A model gives identical inputs identical outputs, so grouping the training rows by their
input vector bounds any model's training fit (no experiment needed; ``fit_ceiling``):

* class ids: the best training accuracy is the share of rows that carry their group's majority
  label; it is set against always guessing the commonest class (``informative`` = the share of the
  gap from that guess to 100 % the inputs can close);
* a regression: the best training R^2 is the share of the targets' variance between the groups.

The finding needs both: most features constant in ``CONSTANT_ROWS`` of the rows, and inputs that
can close less than ``INFORMATIVE_SHARE`` of the gap. Bags of words and images have distinct rows
(each document, each digit differs somewhere), so their ceiling is 100 % and they stay quiet.
Read on at most ``ROWS`` training rows on the host, before any loss is computed.

A second way to lose the columns' information is **scaling each row on its own** (``check_rows_scaled``:
a standardization written with the wrong axis, ``(x - x.mean(1)) / x.std(1)``). Per-row scaling is
right for features of one unit (the pixels of an image, the bins of a spectrum); on a table of
mixed units the row's mean and std are set by its largest columns (an income next to a count of
late payments), so every other column is divided by that scale and ends up as nearly the same
value, -mean / std, in every row: what it carried survives only in differences far under its
spread. Two measurements, both needed: every row has the same mean and the same std (to
``ROW_TOLERANCE``, in ``SAME_ROWS`` of the rows: the mark of a per-row scaling), and at least
``SQUASHED_COLUMNS`` of the varying columns squashed onto one value: a group of columns each pair of
which differs by less than ``SQUASHED`` of their spread (std(x_j - x_k) / mean(std x_j, std x_k), from
the columns' covariance; ``squashed_group``). Columns identical to the last bit (``IDENTICAL``: the
background pixels of a digit, all 0 before the scaling and all -mean / std after) carried nothing to
lose. The finding is a warning (the evidence says the information is squashed, not that no model can
use it). With one column alone setting the row's scale, -mean / std is nearly the same number in
every row and the squashed columns' spread itself falls under ``data_checks.STD_LOW``
(``unnormalized_inputs``); the group is the case of several large columns, whose changing ratio
gives the squashed columns a shared spread. Measured without a false alarm on 8x8 digits scaled per
image (no pair within 6% of its spread) and on smooth spectra scaled per row (standard normal
variate, 200-1000 bins: neighbouring bins within 1% form chains, up to 46% of the bins, but no
group: the widest pair of a bin's twins differs by 1.8x their spread); set 6's loans table scaled
per row: 9 of 13 columns, the widest pair at 0.6%. Inputs of more than ``MAX_COLUMNS`` columns are
not paired (the covariance costs columns^2).

A third way is **binning every reading into a few equal-count levels** (``check_binned_columns``:
``KBinsDiscretizer(n_bins=3, encode="ordinal")``, ``pd.qcut(x, 3, labels=False)`` on each column "robust
to outliers"): each column keeps which tercile a row fell in, and what the reading said within it is
gone before the model sees it. Quantile bins fitted on the training rows leave their mark there: each
level holds the same number of rows, to a row or so, where counts drawn at random vary by about
sqrt(n / k) (Fisher 1936's test of data "too good to be true": the chance of counts this close to their
expectation). Its chance, per column of k levels and n rows whose largest and smallest count differ by
d, is at most about (d + 1)^(k - 1) times the multinomial's peak probability, k^(k / 2) / (2 pi n)^((k -
1) / 2) (the local normal approximation: 0.021 for two exactly equal halves of 1,440 rows, 5.7e-4 for
three equal thirds); the finding needs at least ``BINNED_COLUMNS`` of the varying columns with 2 to
``MAX_BINS`` levels, and their chances together under ``first_layer.ALPHA`` (Fisher's method: -2 times
the sum of their logarithms against a chi-square of twice as many degrees of freedom; every such column
counted, none chosen for being equal). No more than ``MAX_BINS`` levels: a
reading uniform within its range loses 1 / k^2 of its variance to k equal bins (a normal one more),
at least ``value_codes.ROUNDED_NOISE`` (a signal-to-noise ratio of 10 or less, the rounding rule of a
cast) up to k = 3. Read on all the training rows (up to ``BIN_ROWS``): the counts are equal on the
split the bins were fitted on, not on a sample of it; tables of at most ``MAX_COLUMNS`` columns. Not found: bins fitted before the split (the
training rows' counts then vary as a sample's), finer bins, a few columns binned among many.
"""
from __future__ import annotations

import math

import torch

from trainwell.babysit.erased_values import check_erased_values
from trainwell.babysit.filled_rows import check_filled_rows
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.first_layer import ALPHA
from trainwell.babysit.row_scale import check_row_scale
from trainwell.babysit.unmatched_join import check_unmatched_join
from trainwell.babysit.value_codes import ROUNDED_NOISE

ROWS = 2000               # the training rows read (data_checks.STATS_ROWS: the input statistics' sample)
CONSTANT_ROWS = 0.99      # a feature is near-constant when one value fills >= 99% of the rows
CONSTANT_FEATURES = 0.5   # ... and the symptom is present when at least half the (non-constant-by-design)
                          # features are near-constant
INFORMATIVE_SHARE = 0.5   # the inputs can close less than half of the gap from the trivial guess to a
                          # perfect training fit: a model on them cannot do better than that, whatever
                          # it is (issue 11: inputs cast to integers cost 92 -> 50 %)
LISTED = 10               # the near-constant columns named in the evidence
ROW_TOLERANCE = 1e-3      # per-row scaling: every row's mean and std equal the median row's to 0.1% of its std
                          # (float32 rounding leaves 1e-7; a real table's rows differ by their whole scale)
SAME_ROWS = 0.99          # ... in 99% of the rows read (CONSTANT_ROWS' share)
SQUASHED = 1e-2           # a column's squashed twin: the pair differs by < 1% of their spread, so what tells
                          # them apart sits two decades under the scale the model sees (data_checks.SCALE_SPREAD:
                          # feature scales 100x apart are unnormalized inputs)
IDENTICAL = 1e-6          # ... but not identical to float64 rounding of the covariance: equal columns (constant
                          # before the scaling) carried nothing to lose
SQUASHED_COLUMNS = 0.5    # at least half the varying columns have a squashed twin (CONSTANT_FEATURES' half)
PAIR_ROWS = 512           # the rows the columns' covariance is computed on
MAX_COLUMNS = 1024        # wider inputs are not paired: the covariance costs PAIR_ROWS x columns^2
MEASURED = 0.9            # repeated rows: a measured column holds a value of its own in >= 90% of the distinct
                          # rows (a reading to the last bit: two rows share all of them only as copies)
BIN_ROWS = 100_000        # equal-count bins: all training rows read up to this many (the counts are equal on the
                          # split the bins were fitted on; a sample's vary)
MAX_BINS = int(ROUNDED_NOISE ** -0.5)   # k equal bins of a uniform reading lose 1 / k^2 of its variance: >= 10 %
                          # (value_codes.ROUNDED_NOISE) up to k = 3
BINNED_COLUMNS = 0.5      # at least half the varying columns binned (CONSTANT_FEATURES' half): a column or two in
                          # bands among measured ones is feature engineering
LOST = 0.05               # ... and repeated rows with other labels cap the training fit 5 points below 100%
                          # (more than the kill rule's 3 points: issue 11's "measurably worse")


def near_constant(x: torch.Tensor) -> torch.Tensor:
    """A bool per column of the 2-D ``x``: one value fills at least ``CONSTANT_ROWS`` of the rows."""
    s, _ = torch.sort(x, dim=0)
    n = x.shape[0]
    k = max(int(CONSTANT_ROWS * n + 0.5), 1)
    # a value filling k of n sorted rows fills some window s[i] .. s[i + k - 1]
    same = (s[k - 1:] == s[:n - k + 1])
    return same.any(dim=0)


def fit_ceiling(x: torch.Tensor, y: torch.Tensor, *, class_ids: bool) -> dict:
    """The best training fit any model can reach when identical input rows get identical outputs:
    ``{"groups", "ceiling", "trivial", "informative"}`` (accuracies for class ids, R^2 otherwise:
    ``trivial`` 0)."""
    _, group = torch.unique(x, dim=0, return_inverse=True)
    groups = int(group.max()) + 1
    n = x.shape[0]
    if class_ids:
        labels = y.reshape(-1).long()
        labels = labels - labels.min()
        classes = int(labels.max()) + 1
        counts = torch.zeros(groups, classes, dtype=torch.float64)
        counts.index_put_((group, labels), torch.ones(n, dtype=torch.float64), accumulate=True)
        ceiling = float(counts.max(dim=1).values.sum()) / n
        trivial = float(counts.sum(dim=0).max()) / n
    else:
        t = y.reshape(n, -1).double()
        sums = torch.zeros(groups, t.shape[1], dtype=torch.float64).index_add_(0, group, t)
        sizes = torch.bincount(group, minlength=groups).double()[:, None]
        within = float(((t - (sums / sizes)[group]) ** 2).sum())
        total = float(((t - t.mean(dim=0)) ** 2).sum())
        ceiling = 1.0 - within / total if total > 0 else 1.0
        trivial = 0.0
    informative = (ceiling - trivial) / (1.0 - trivial) if trivial < 1.0 else 1.0
    return {"groups": groups, "ceiling": ceiling, "trivial": trivial, "informative": informative}


def check_inputs_informative(X, y, *, class_ids: bool, seed: int = 0) -> list[Finding]:
    """``uninformative_inputs``: most features near-constant and identical input rows that cap any
    model's training fit below ``INFORMATIVE_SHARE`` of the way from the trivial guess, rows scaled on
    their own (see the module docstring); rows each multiplied by a factor of their own (``row_scale``); rows
    filled in wholesale (``filled_rows``), readings a transform erased (``erased_values``) and a join that matched few rows and told them nothing (``unmatched_join``). ``class_ids``: the targets are class ids (else a regression's values)."""
    found = _carry_little(X, y, class_ids=class_ids)
    if found:
        return found
    found = check_row_scale(X, y, class_ids=class_ids, seed=seed)
    if found:
        return found
    found = check_filled_rows(X, y, class_ids=class_ids, seed=seed)
    if found:
        return found
    found = check_unmatched_join(X, y, class_ids=class_ids, seed=seed)
    if found:
        return found
    found = check_erased_values(X, y, class_ids=class_ids)      # one value written over a share of a column's readings (erased_values.py)
    if found:
        return found
    found = check_repeated_rows(X, y, class_ids=class_ids)
    if found:
        return found
    return check_binned_columns(X)


def equal_count_chance(counts: torch.Tensor) -> float:
    """About the chance that k level counts drawn at random (a multinomial of equal shares over their n
    rows) lie as close to one another as ``counts`` do: (d + 1)^(k - 1) k^(k / 2) / (2 pi n)^((k - 1) / 2),
    d the largest count less the smallest (the local normal approximation to the multinomial's peak,
    times the counts within d of it), at most 1."""
    k, n = counts.numel(), int(counts.sum())
    spread = int(counts.max() - counts.min())
    log_p = (k - 1) * math.log(spread + 1) + k / 2 * math.log(k) - (k - 1) / 2 * math.log(2 * math.pi * n)
    return min(1.0, math.exp(log_p))


def check_binned_columns(X) -> list[Finding]:
    """``uninformative_inputs`` (a warning): at least ``BINNED_COLUMNS`` of a table's varying columns
    hold 2 to ``MAX_BINS`` levels, their counts equal beyond chance (``equal_count_chance`` of each,
    combined by Fisher's method, under ``first_layer.ALPHA``): readings binned into equal-count levels
    (see the module docstring)."""
    from scipy.stats import chi2
    if not torch.is_tensor(X) or X.ndim != 2 or not torch.is_floating_point(X) or X.shape[0] < 10 \
            or X.shape[1] > MAX_COLUMNS:        # wider inputs (a bag of words, flattened signals): not read
        return []
    x = X[:BIN_ROWS].detach().cpu()
    x = x[torch.isfinite(x).all(dim=1)]
    binned, varying, log_chances = [], 0, []
    for j in range(x.shape[1]):
        values, counts = torch.unique(x[:, j], return_counts=True)
        varying += values.numel() > 1
        if 2 <= values.numel() <= MAX_BINS:
            binned.append((j, values.numel(), counts.tolist()))
            log_chances.append(math.log(max(equal_count_chance(counts), 1e-300)))
    if not binned or len(binned) < BINNED_COLUMNS * varying:
        return []
    chance = float(chi2.sf(-2 * sum(log_chances), 2 * len(log_chances)))
    if chance >= ALPHA:
        return []
    columns = [j for j, _, _ in binned]
    return [make("uninformative_inputs",
                 f"{len(binned)} of the {varying} varying input columns (columns {columns[:LISTED]}"
                 f"{' ...' if len(binned) > LISTED else ''}) each hold {MAX_BINS} or fewer levels filled by equal "
                 f"counts of the {x.shape[0]} training rows (column {columns[0]}: {binned[0][2]}; counts drawn at random "
                 f"come this close with a chance of about {chance:.2g} over these columns): readings binned into "
                 f"equal-count levels (KBinsDiscretizer(encode='ordinal'), pd.qcut), so what each said within its "
                 f"bin (at least 1 / k^2 of a uniform reading's variance with k bins) never reaches the model",
                 evidence={"binned_columns": columns, "levels": [k for _, k, _ in binned], "varying_columns": varying,
                           "chance": chance, "rows": int(x.shape[0]), "counts": [c for _, _, c in binned[:LISTED]]},
                 severity="warning", where="input columns",
                 fix="give the model the readings themselves, standardized (scale them robustly, e.g. RobustScaler or "
                     "a clip at far quantiles, if outliers are the worry); bin a column only where its bands are "
                     "what matters, with enough bins to keep its variation")]


def check_repeated_rows(X, y, *, class_ids: bool) -> list[Finding]:
    """``label_problem`` (a warning): training rows repeated to the last bit of their measured columns
    with other class ids, so many that no model fits the training rows within ``LOST`` of 100 %.

    A join on a key that is not unique (``rows.merge(labels, on="surname")``) repeats each row once
    per label row of its key, each copy with that label row's class. Measured columns (a reading of
    its own in ``MEASURED`` of the distinct rows) repeat in full only when a row was copied, and a
    copy's label is its row's; inputs that fix the label to a coin (one input, several classes) leave
    every model's fit at ``fit_ceiling``. Tables of codes, counts or categories repeat rows by nature
    and have no measured column: not judged."""
    if not class_ids or not torch.is_tensor(X) or not torch.is_tensor(y) or y.ndim != 1 \
            or X.shape[0] != y.shape[0] or X.shape[0] < 10 or torch.is_floating_point(y):
        return []
    n = min(X.shape[0], ROWS)
    x = X[:n].reshape(n, -1).detach().cpu().double()
    t = y[:n].detach().cpu()
    rows = torch.isfinite(x).all(dim=1)
    x, t = x[rows], t[rows]
    if x.shape[0] < 10 or x.shape[1] == 0:
        return []
    distinct = torch.unique(x, dim=0)
    measured = torch.tensor([len(torch.unique(distinct[:, j])) >= MEASURED * distinct.shape[0]
                             for j in range(distinct.shape[1])])
    if distinct.shape[0] < 10 or not bool(measured.any()):
        return []
    bound = fit_ceiling(x, t, class_ids=True)
    if 1.0 - bound["ceiling"] < LOST:
        return []
    repeated = x.shape[0] - distinct.shape[0]
    return [make("label_problem",
                 f"{repeated} of the {x.shape[0]} training rows read repeat another row to the last bit of its "
                 f"measured columns ({int(measured.sum())} of {x.shape[1]} columns hold a value of their own in "
                 f">= {MEASURED:.0%} of the distinct rows), many with another class: identical inputs get identical "
                 f"outputs, so no model fits the training rows better than accuracy {bound['ceiling']:.3f}; rows "
                 f"copied with other rows' labels (a join on a key that is not unique: each row once per label "
                 f"row of its key)",
                 evidence={"rows": int(x.shape[0]), "distinct_rows": int(distinct.shape[0]),
                           "measured_columns": int(measured.sum()), "fit_ceiling": bound["ceiling"],
                           "lost": LOST, "measured": MEASURED},
                 severity="warning", where="training rows",
                 fix="join the labels on a key that is unique per row (an id, not a name), or check the key's "
                     "uniqueness before the merge (pandas: merge(..., validate=\"one_to_one\"))")]


def _carry_little(X, y, *, class_ids: bool) -> list[Finding]:
    """``check_inputs_informative``'s near-constant features and rows scaled on their own."""
    if X.shape[0] < 10 or not torch.is_tensor(y) or y.shape[0] != X.shape[0]:
        return []
    n = min(X.shape[0], ROWS)
    x = X[:n].reshape(n, -1).detach().cpu()
    t = y[:n].detach().cpu()
    if not torch.is_floating_point(x):
        x = x.double()
    rows = torch.isfinite(x).all(dim=1) & (torch.isfinite(t.reshape(n, -1)).all(dim=1) if torch.is_floating_point(t)
                                           else torch.ones(n, dtype=torch.bool))
    x, t = x[rows], t[rows]
    class_ids = class_ids and t.reshape(t.shape[0], -1).shape[1] == 1    # one label per row (else: columns' R^2)
    if x.shape[0] < 10 or (class_ids and torch.is_floating_point(t) and not bool((t == t.round()).all())):
        return []
    constant = near_constant(x)
    share = float(constant.double().mean())
    if share < CONSTANT_FEATURES:
        return check_rows_scaled(x)
    bound = fit_ceiling(x, t, class_ids=class_ids)
    if bound["informative"] >= INFORMATIVE_SHARE:
        return check_rows_scaled(x)
    columns = constant.nonzero().flatten()
    measure = "accuracy" if class_ids else "R^2"
    trivial = (f", always guessing the commonest class scores {100 * bound['trivial']:.1f}%" if class_ids else "")
    return [make("uninformative_inputs",
                 f"the inputs carry almost nothing: {int(constant.sum())} of {x.shape[1]} features take one value in "
                 f">= {100 * CONSTANT_ROWS:.0f}% of the rows (columns {columns[:LISTED].tolist()}"
                 f"{' ...' if columns.numel() > LISTED else ''}), so the {x.shape[0]} training rows read show only "
                 f"{bound['groups']} distinct inputs; identical inputs get identical outputs, so no model can fit "
                 f"the training rows better than {measure} {bound['ceiling']:.3f}{trivial}",
                 evidence={"near_constant_features": int(constant.sum()), "features": int(x.shape[1]),
                           "near_constant_share": share, "columns": columns[:LISTED].tolist(),
                           "distinct_rows": bound["groups"], "rows": int(x.shape[0]), "fit_ceiling": bound["ceiling"],
                           "trivial_fit": bound["trivial"], "informative_share": bound["informative"],
                           "measure": measure},
                 fix="check the input pipeline: scale to floats without casting to integers (x = (x - min) / "
                     "(max - min) stays float), read the right columns, and keep the features' variation")]


def rows_scaled(x: torch.Tensor) -> dict | None:
    """``{"row_mean", "row_std", "same_rows"}`` when every row of the 2-D ``x`` has the same mean and
    std (``ROW_TOLERANCE``, in ``SAME_ROWS`` of the rows: a per-row scaling), else None."""
    x = x.double()
    if x.shape[1] < 3:
        return None
    means, stds = x.mean(dim=1), x.std(dim=1)
    mean, std = float(means.median()), float(stds.median())
    if not std > 0:
        return None
    same = ((means - mean).abs() <= ROW_TOLERANCE * std) & ((stds - std).abs() <= ROW_TOLERANCE * std)
    share = float(same.double().mean())
    return {"row_mean": mean, "row_std": std, "same_rows": share} if share >= SAME_ROWS else None


def squashed_group(x: torch.Tensor) -> dict:
    """The varying columns of the 2-D ``x`` (first ``PAIR_ROWS`` rows) squashed onto one value: the
    column with the most *squashed twins* (another column it differs from by less than ``SQUASHED``
    of their spread, std(x_j - x_k) / mean(std x_j, std x_k), and not ``IDENTICAL``) with those twins,
    kept only when every pair of them is within ``SQUASHED`` too (a clique: one row scale squashed
    them all, where the neighbouring bins of a smooth spectrum form a chain whose ends differ by
    their whole spread). ``{"group": column indices, "features": varying columns, "closest": the
    smallest ratio, "widest": the largest ratio within the group}``."""
    x = x[:PAIR_ROWS].double()
    sd = x.std(dim=0)
    varying = (sd > 1e-12 * (1 + x.mean(dim=0).abs())).nonzero().flatten()
    z = x[:, varying] - x[:, varying].mean(dim=0)
    cov = z.T @ z / max(1, z.shape[0] - 1)
    var = cov.diagonal()
    apart = (var[:, None] + var[None, :] - 2 * cov).clamp_min(0).sqrt()     # std(x_j - x_k)
    ratio = apart / ((var.sqrt()[:, None] + var.sqrt()[None, :]) / 2)
    ratio.fill_diagonal_(0.0)
    twin = (ratio < SQUASHED) & (ratio >= IDENTICAL)
    out = {"group": varying[:0], "features": int(varying.numel()), "closest": float("inf"), "widest": float("inf")}
    if not bool(twin.any()):
        return out
    centre = int(twin.sum(dim=1).argmax())
    members = (twin[centre] | (torch.arange(varying.numel()) == centre)).nonzero().flatten()
    within = ratio[members][:, members]
    out.update(closest=float(ratio[twin].min()), widest=float(within.max()))
    if out["widest"] < SQUASHED:
        out["group"] = varying[members]
    return out


def check_rows_scaled(x: torch.Tensor) -> list[Finding]:
    """``uninformative_inputs`` (a warning): rows scaled on their own (``rows_scaled``) and at least
    ``SQUASHED_COLUMNS`` of the varying columns squashed onto one value (``squashed_group``); see the
    module docstring. ``x``: the 2-D training rows read, finite."""
    if x.shape[1] > MAX_COLUMNS:
        return []
    rows = rows_scaled(x)
    if rows is None:
        return []
    squashed = squashed_group(x)
    count = int(squashed["group"].numel())
    share = count / max(1, squashed["features"])
    if share < SQUASHED_COLUMNS:
        return []
    listed = squashed["group"][:LISTED].tolist()
    return [make("uninformative_inputs",
                 f"each row is scaled on its own (every row has mean {rows['row_mean']:.3g} and std "
                 f"{rows['row_std']:.3g}) and {count} of {squashed['features']} varying columns (columns "
                 f"{listed}{' ...' if count > LISTED else ''}) differ from each other by less than "
                 f"{100 * SQUASHED:g}% of their spread (the widest pair by {100 * squashed['widest']:.2g}%): a row's "
                 f"scale set by its largest columns squashed the others, so what they carried is nearly gone",
                 evidence={"row_mean": rows["row_mean"], "row_std": rows["row_std"], "same_rows": rows["same_rows"],
                           "squashed_columns": count, "features": squashed["features"],
                           "squashed_share": share, "widest_ratio": squashed["widest"], "columns": listed,
                           "per_row_scaling": True},
                 severity="warning",
                 fix="standardize each column with the training split's statistics (x - x.mean(0)) / x.std(0); "
                     "scale rows on their own only when their features share one unit (pixels, spectrum bins)")]
