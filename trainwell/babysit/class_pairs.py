"""Two class ids the inputs cannot tell apart: one class split in two.

Label names that differ in case or spelling (``"finch"`` and ``"Finch"``), a class coded twice
after two exports were merged, ids remapped in part of the rows: ``np.unique`` makes two ids of one
class, and the rows of the two ids come from one distribution of inputs. No model can learn which
of the two a row has: the loss keeps at least the entropy of the split for those rows and the
accuracy on them is that of a coin weighted by the two ids' shares. A real pair of classes, however
alike, differs in some input, and a probe trained on more rows tells it apart better.

``check_class_pairs`` (``label_problem``, a warning): probes fitted on the labelled rows of a
table (split_checks.check_splits passes every split's rows: the bound below narrows with rows; a
multinomial logistic regression on standardized columns and ``NEIGHBOURS`` nearest neighbours,
the pre-flight probes of first_layer.py) predict every row out of fold (``FOLDS``-fold cross-
fitting). For each pair of classes (a, b), the rows of a and b are ranked by the probe's log-odds
log p_a - log p_b and the Mann-Whitney AUC says how well that separates them (0.5: not at all,
whatever the two classes' shares; the log-probabilities are the two probes' mean, an ensemble
at least about as sharp as either). A classifier two-sample test (Lopez-Paz & Oquab 2017,
"Revisiting classifier two-sample tests"): when a and b share one distribution the AUC is 0.5 in
expectation. The finding claims the pair indistinguishable, so it needs the opposite of a failure
to reject: the AUC's upper confidence bound (the normal approximation to the Mann-Whitney
statistic, the null variance (n_a + n_b + 1) / (12 n_a n_b), one-sided at ``first_layer.ALPHA``
split over the pairs) must lie below ``SAME_AUC``, an equivalence test (Schuirmann's one-sided
test, 1987) whose margin is a small effect: AUC 0.6 is Cohen's d ~ 0.36 between two normal
classes. A pair that passes is tested again by a probe of its own: a logistic regression fitted
on the two classes' rows only, out of fold, whose AUC must pass the same bound (both must pass,
an intersection-union test, so the level is not split over them). The multinomial probe spends
its weights on all the classes; two real classes that its a-vs-b odds barely split (labels cut
from a noisy quantity at a threshold: low and medium power) are split better by a probe that
has only them to tell apart. Where columns hold a few whole numbers (at most ``MAX_CODES``), the
same pair probe is fitted once more on their one-hot columns, and that AUC must pass the bound too:
a number there may be a code (an event kind at a position of a session, a category id), and a
linear model on the code's magnitude, or neighbours by distances between codes, miss what a model
reading the codes as categories (an embedding) sees: two classes that differ only in the order of
two events (a password reset before or after a new-device login) share every event's count and
every column's mean, while the one-hot columns of each position tell them apart.
And one class lies at one distance from every third class: for each
third class c, the log-probability of c ranks the rows of a against those of b at AUC 0.5 when a
and b are one class; a pair where some c does so significantly (two-sided at ``REAL_ALPHA``, split
over the third classes) is two real classes, the middle one of an order nearer its neighbour
(medium power nearer high than low is). This test rejects the split, so its level is the share of
split classes it misses, and its power grows with the rows, where the bound above lets real
classes through. And the probes must have learned the
classes: the pair's union is told apart from the other classes at ``APART_AUC`` or better (a split
class is one class, as distinct from the rest as any), which keeps quiet on inputs that say little
about any class (``uninformative_inputs`` and the cannot-learn codes read those). The other classes
are those outside the pair's group (``groups``: the classes joined to it by pairs whose bound lies
below the margin): one class under three ids (a name typed three ways, a size token dropped from
three of four boxes) makes three pairs, and each pair's rows lie beside the third id's, which is no
other class (against two real classes of as many rows, the pair's union scores ~0.75).

Signals ``(N, C, L)`` and images ``(N, C, H, W)`` are read too, their entries as a table's columns,
with one more pair probe: preprocessing can make two classes one in what reaches the model (a
detrend that removes the trend telling rising from falling readings, one camera's negatives joined
as they are, so its pits read as the other's spots), and no model learns what the inputs no longer
hold (notes 004: the preprocessing is checked before the learning process is). Raw entries miss what
a convolution pooled over positions reads (a pit and a scratch at random places: a pixel is dark in
either), so a pair that passes is probed once more on the magnitudes of each row's Fourier transform
along its steps or its two image axes (``spectrum_features``: the same wherever a pattern lies,
different for patterns of other shapes, sizes or frequencies), and that AUC must pass the bound too.

Quiet: fewer than three classes (a pair with no third class to be told apart from), a class with
fewer than ``MIN_CLASS_ROWS`` training rows, inputs that are neither a table of numbers, nor
signals, nor images (token ids, sets, 5-d inputs). Not told apart from a split class: two real
classes the columns do not separate at all and that lie alike to every other class (with thousands
of rows a class each, their bounds fall below the margin); the finding then says that the inputs do
not tell the two apart, which is true but no fault of the labels.
"""
from __future__ import annotations

import math
import warnings

import torch

from trainwell.babysit.findings import Finding, make
from trainwell.babysit.first_layer import ALPHA, MAX_FEATURES

ROWS = 6000             # labelled rows read (a seeded sample beyond this: 2 probes x 3 folds of a table)
FOLDS = 3               # out-of-fold predictions: every row predicted by probes fitted on the other 2/3
NEIGHBOURS = 15         # the nearest-neighbour probe's k (log-odds need k large enough to leave few ties)
MIN_CLASS_ROWS = 30     # a class with fewer training rows is not judged (an AUC of 30 x 30 rows has a null
                        # sd of 0.075: no equivalence bound below SAME_AUC is reachable with fewer)
SAME_AUC = 0.6          # equivalence margin: a pair the probes separate at AUC < 0.6 is one class
                        # (AUC 0.6 is Cohen's d ~ 0.36 between two normal classes: a small effect)
APART_AUC = 0.8         # ... while the pair's union is told from the other classes at AUC >= 0.8 (the
                        # probes learned the classes; Hosmer & Lemeshow's "excellent" discrimination)
REAL_ALPHA = 0.01       # a pair whose rows a third class's log-probability ranks apart at this level (split over
                        # the third classes) is two real classes: a split class is missed this rarely
SHOWN = 5               # pairs named in the message
MAX_CODES = 32          # a column of at most 32 distinct whole numbers is read as codes too: one 0/1 column per
                        # code (first_layer.MAX_VALUES allows more categories; 32 keeps the one-hot probe's
                        # width at 32 x the columns, a logistic regression on a few hundred columns)
MAX_CODED_WIDTH = 2048  # ... and wider one-hot tables are not probed (the pair probe's finding then stands)
ROUNDING = 1e-4         # a spectrum column varying less than this share of the rows' absolute sum is constant:
                        # float32 holds ~7 significant digits, and a few steps (a detrend, a cast, a
                        # standardization) leave the last two or three of them rounding


def auc(pos: torch.Tensor, neg: torch.Tensor) -> float:
    """The Mann-Whitney AUC: the chance that a random ``pos`` score exceeds a random ``neg`` one,
    ties counted half."""
    scores = torch.cat([pos, neg]).double()
    order = scores.argsort()
    ranks = torch.empty_like(scores)
    ranks[order] = torch.arange(1, len(scores) + 1, dtype=torch.float64)
    values, inverse, counts = torch.unique(scores, return_inverse=True, return_counts=True)
    tied = torch.zeros(len(values), dtype=torch.float64).index_add_(0, inverse, ranks) / counts
    ranks = tied[inverse]
    n1, n2 = len(pos), len(neg)
    return float((ranks[:n1].sum() - n1 * (n1 + 1) / 2) / (n1 * n2))


def null_sd(n1: int, n2: int) -> float:
    """The Mann-Whitney AUC's standard deviation when both samples share one distribution."""
    return math.sqrt((n1 + n2 + 1) / (12.0 * n1 * n2))


def features(X: torch.Tensor, gen) -> torch.Tensor:
    F = X.reshape(X.shape[0], -1).double()
    F = (F - F.mean(0)) / F.std(0).clamp_min(1e-8)
    if F.shape[1] > MAX_FEATURES:
        F = F @ torch.randn(F.shape[1], MAX_FEATURES, generator=gen, dtype=torch.float64) / math.sqrt(MAX_FEATURES)
    return F


def out_of_fold_log_probs(F: torch.Tensor, y: torch.Tensor, k: int, *, seed: int = 0) -> dict:
    """``{probe: (n, k) log-probabilities}`` of every row from probes fitted on the other folds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    n = F.shape[0]
    fold = torch.randperm(n, generator=torch.Generator().manual_seed(seed)) % FOLDS
    Fn, yn = F.numpy(), y.numpy()
    out = {}
    for name, build in (("linear", lambda: LogisticRegression(max_iter=300)),
                        ("neighbours", lambda: KNeighborsClassifier(NEIGHBOURS))):
        logp = torch.full((n, k), math.log(1e-6), dtype=torch.float64)
        for f in range(FOLDS):
            held, fit = (fold == f).numpy(), (fold != f).numpy()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = build().fit(Fn[fit], yn[fit])
                p = torch.from_numpy(model.predict_proba(Fn[held])).double().clamp_min(1e-6)
            cols = torch.as_tensor(model.classes_, dtype=torch.long)
            logp[torch.from_numpy(held).nonzero()[:, 0][:, None], cols[None, :]] = p.log()
        out[name] = logp
    return out


def pair_aucs(logp: torch.Tensor, y: torch.Tensor, ids: list[int]) -> dict:
    """``{(a, b): AUC}`` of the log-odds log p_a - log p_b between the rows of ``a`` and of ``b``."""
    out = {}
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            score = logp[:, a] - logp[:, b]
            out[(a, b)] = auc(score[y == a], score[y == b])
    return out


def pair_probe_auc(F: torch.Tensor, y: torch.Tensor, pair: tuple, *, seed: int = 0) -> float:
    """The out-of-fold AUC of a logistic regression fitted on the rows of the pair's two classes only."""
    from sklearn.linear_model import LogisticRegression
    rows = ((y == pair[0]) | (y == pair[1])).nonzero()[:, 0]
    Fp, target = F[rows], (y[rows] == pair[0]).long()
    Fp = (Fp - Fp.mean(0)) / Fp.std(0).clamp_min(1e-8)
    fold = torch.randperm(len(rows), generator=torch.Generator().manual_seed(seed)) % FOLDS
    score = torch.empty(len(rows), dtype=torch.float64)
    for f in range(FOLDS):
        held, fit = fold == f, fold != f
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = LogisticRegression(max_iter=300).fit(Fp[fit].numpy(), target[fit].numpy())
        score[held] = torch.from_numpy(model.decision_function(Fp[held].numpy())).double()
    return auc(score[target == 1], score[target == 0])


def union_auc(logp: torch.Tensor, y: torch.Tensor, classes) -> float:
    """How well the probe tells the rows of ``classes`` (a pair, or a group of classes the probes
    see alike) from every other row: the AUC of log(sum p_c) - log(1 - sum p_c); 0 where no row is
    outside them."""
    members = torch.tensor(sorted(classes))
    inside = torch.logsumexp(logp[:, members], dim=1)
    outside = torch.log1p(-inside.exp().clamp(max=1 - 1e-9))
    score = inside - outside
    member = torch.isin(y, members)
    return auc(score[member], score[~member]) if bool((~member).any()) else 0.0


def groups(pairs: list[tuple]) -> dict:
    """``{class: the set of classes joined to it}`` by ``pairs`` (the connected components): one
    class typed three ways makes three ids, each pair of which the probes see alike; the pair's
    union is told from the classes outside its group, the third id of the same class being no
    other class."""
    group: dict = {}
    for a, b in pairs:
        joined = group.get(a, {a}) | group.get(b, {b})
        for c in joined:
            group[c] = joined
    return group


def probe_rows(X, y, *, seed: int = 0, shaped: bool = False):
    """``(X, y, gen)``: a table's labelled rows as the class probes read them (a seeded sample of at
    most ``ROWS``, on the CPU, ids as int64) and the generator that drew it; None where they cannot
    be read (not a 2-d float table with as many 1-d class ids, a non-finite value, a negative id).
    ``shaped``: signals ``(N, C, L)`` and images ``(N, C, H, W)`` are read too, as they are."""
    dims = (2, 3, 4) if shaped else (2,)
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor) or y.ndim != 1 or X.ndim not in dims \
            or torch.is_floating_point(y) or X.shape[0] != y.shape[0] or not torch.is_floating_point(X):
        return None
    gen = torch.Generator().manual_seed(seed)
    if X.shape[0] > ROWS:
        keep = torch.randperm(X.shape[0], generator=gen)[:ROWS]
        X, y = X[keep], y[keep]
    X, y = X.detach().cpu(), y.detach().cpu().long()
    if not torch.isfinite(X).all() or y.min() < 0:
        return None
    return X, y, gen


def indistinguishable_pairs(X, y, *, seed: int = 0) -> list[dict]:
    """The class pairs of ``X`` / ``y`` (class ids) that the probes fail to tell apart (the module
    docstring's test), each ``{"pair", "rows", "auc", "upper", "apart"}``."""
    rows = probe_rows(X, y, seed=seed, shaped=True)
    if rows is None:
        return []
    X, y, gen = rows
    given, X = X, X.reshape(X.shape[0], -1)     # signals and images: their entries as a table's columns
    ids, counts = torch.unique(y, return_counts=True)
    judged = [int(c) for c, n in zip(ids, counts) if n >= MIN_CLASS_ROWS]
    if len(judged) < 3 or len(ids) < 3:
        return []
    k = int(y.max()) + 1
    F = features(X, gen)
    logps = out_of_fold_log_probs(F, y, k, seed=seed)
    logp = sum(logps.values()) / len(logps)     # the probes' mean log-probabilities: one score, one test a pair
    z = normal_quantile(1 - ALPHA / (len(judged) * (len(judged) - 1) // 2))
    found, codes, spectrum = [], None, None
    rows = {c: int((y == c).sum()) for c in judged}
    aucs = pair_aucs(logp, y, judged)
    uppers = {pair: value + z * null_sd(rows[pair[0]], rows[pair[1]]) for pair, value in aucs.items()}
    alike = {pair: upper for pair, upper in uppers.items() if upper < SAME_AUC}
    group = groups(list(alike))
    for pair, upper in alike.items():
        value, n1, n2 = aucs[pair], rows[pair[0]], rows[pair[1]]
        apart = union_auc(logp, y, group[pair[0]])     # told from the classes outside its group
        if apart < APART_AUC:
            continue
        # one class has one distance to every third class: a third class's log-probability ranks
        # the rows of a and of b alike (two-sided, REAL_ALPHA split over the third classes)
        thirds = [c for c in judged if c not in pair]
        z_third = normal_quantile(1 - REAL_ALPHA / (2 * len(thirds)))
        third = max(abs(auc(logp[y == pair[0], c], logp[y == pair[1], c]) - 0.5) for c in thirds)
        if third > z_third * null_sd(n1, n2):
            continue
        alone = pair_probe_auc(F, y, pair, seed=seed)      # the costly test last: a fit of its own
        if alone + z * null_sd(n1, n2) >= SAME_AUC:
            continue
        if codes is None:
            codes = coded_features(X)
        by_code = pair_probe_auc(codes, y, pair, seed=seed) if codes is not None else None
        if by_code is not None and by_code + z * null_sd(n1, n2) >= SAME_AUC:
            continue
        if spectrum is None and given.ndim > 2:
            spectrum = features(spectrum_features(given), gen)
        by_spectrum = pair_probe_auc(spectrum, y, pair, seed=seed) if spectrum is not None else None
        if by_spectrum is not None and by_spectrum + z * null_sd(n1, n2) >= SAME_AUC:
            continue
        found.append({"pair": pair, "rows": (n1, n2), "auc": value, "upper": upper, "apart": apart,
                      "pair_probe": alone, "code_probe": by_code, "spectrum_probe": by_spectrum,
                      "third": 0.5 + third})
    return found


def coded_features(X: torch.Tensor) -> torch.Tensor | None:
    """``X`` with each column of at most ``MAX_CODES`` distinct whole numbers replaced by one 0/1
    column per value (the other columns kept), or None when no column holds more than two codes (a
    0/1 column's one-hot is the column itself: the pair probe has read it already) or the one-hot
    table would be wider than ``MAX_CODED_WIDTH``."""
    columns, coded = [], False
    for j in range(X.shape[1]):
        v = X[:, j].double()
        values = torch.unique(v)
        if len(values) <= MAX_CODES and bool((v == v.round()).all()):
            coded = coded or len(values) > 2
            columns.append((v[:, None] == values[None, :]).double())
        else:
            columns.append(v[:, None])
    width = sum(c.shape[1] for c in columns)
    return torch.cat(columns, 1) if coded and width <= MAX_CODED_WIDTH else None


def spectrum_features(X: torch.Tensor) -> torch.Tensor:
    """The magnitudes of the discrete Fourier transform of each row along its steps (signals
    ``(N, C, L)``: the longer of the two axes, both where they are as long) or its two spatial axes
    (images ``(N, C, H, W)``), one column per channel and frequency: the same for a pattern wherever it
    lies (a circular shift changes the phases only), so a convolution pooled over positions and this
    probe read the pattern's shape alike, where the raw entries' probes see it only in place. A
    column that varies over the rows by no more than ``ROUNDING`` of the rows' mean absolute sum is 0:
    the zero frequency of rows detrended (scipy's ``detrend`` in float64, cast to float32, then
    standardized) is one number up to the rounding of those steps (there ~1e-6 of the sum), and
    standardizing it would read the rounding's pattern, which differs with the values rounded."""
    if X.ndim == 4:
        dims = (2, 3)
    else:
        dims = (1, 2) if X.shape[1] == X.shape[2] else (1 + int(X.shape[2] > X.shape[1]),)
    magnitude = torch.fft.rfftn(X.double(), dim=dims).abs().reshape(X.shape[0], -1)
    rounding = ROUNDING * float(X.double().abs().reshape(X.shape[0], -1).sum(1).mean())
    return magnitude * (magnitude.std(0) > rounding)


def normal_quantile(p: float) -> float:
    return float(torch.special.ndtri(torch.tensor(p, dtype=torch.float64)))


def check_class_pairs(X, y, *, seed: int = 0) -> list[Finding]:
    """``label_problem`` (a warning) naming the class pairs the inputs cannot tell apart."""
    pairs = indistinguishable_pairs(X, y, seed=seed)
    if not pairs:
        return []
    named = "; ".join(f"classes {p['pair'][0]} and {p['pair'][1]} ({p['rows'][0]} and {p['rows'][1]} rows, "
                      f"AUC {p['auc']:.2f}, at most {p['upper']:.2f})" for p in pairs[:SHOWN])
    more = f"; {len(pairs) - SHOWN} more pairs" if len(pairs) > SHOWN else ""
    first = pairs[0]["pair"]
    return [make("label_problem",
                 f"the inputs cannot tell apart {named}{more}: each pair's AUC lies within a small effect of "
                 f"chance (its {1 - ALPHA:.1%} upper bound below {SAME_AUC}, for the probes and for a probe of "
                 f"the pair alone, and no third class ranks its rows apart) while the pair is told from the "
                 f"other classes (AUC >= {APART_AUC}): one class split into two ids (names that differ in case "
                 f"or spelling, a class coded twice), or a preprocessing step that removed what told two real "
                 f"classes apart (a detrend, a filter, a channel copied over another)",
                 evidence={"pairs": pairs, "same_auc": SAME_AUC, "apart_auc": APART_AUC, "alpha": ALPHA},
                 severity="warning", where=f"classes {first[0]} and {first[1]}",
                 fix="map the label names to one spelling before numbering them (e.g. lower-case them before "
                     "np.unique), merge ids that name one class, and size the output layer to the classes left; "
                     "where the classes are real, compare their inputs before and after each preprocessing step "
                     "and drop the step after which they look alike")]
