"""A feature that holds the training rows' own labels: a leak the validation rows lack.

A target (mean) encoding computed over the training rows with each row's own label in its mean, a
feature filled from the label by a join, a running statistic that includes the current row: on
the training rows the column carries the label itself, on the validation and test rows (encoded
from the training rows' labels, never their own) it carries only what the category says. The model
learns to read the label from the column, the validation accuracy falls behind the training
accuracy from the first epochs and no regularization closes the gap (the literature's "target
leakage"; Kaufman et al. 2012, "Leakage in data mining"; the out-of-fold encoding of Micci-Barreca
2001 and CatBoost's ordered statistics, Prokhorenkova et al. 2018, exist to avoid it).

``leaking_columns`` (``split_mismatch``, a warning): one column at a time, a univariate probe
(``BINS`` equal-count bins of the column, the majority class of each bin, or its mean target for
regression) is fitted on one half of the training rows and scored on the other half and on the
validation (or test) rows, then the halves swap (every training row scored once, out of fold; the
split's score is the mean of the two tables'). Both are rows the probe never saw, drawn, in a sound split, from one
distribution: the two scores agree up to sampling noise. Equal training rows go to one half together
(``halves``; grouped folds): a training split resampled with replacement repeats its rows, and a copy
in the held-out half is a row the probe saw, which scores it as a leak would (set 14's
``stores_recency_resample_hours``: under 200 distinct rows of 1,440, column 4 at 59 % on "held-out"
training rows, 36 % on the validation rows). The score is the balanced accuracy (the
mean of the per-class recalls: a split resampled to other class shares scores the same), or minus
the squared error in units of the training targets' variance for regression. A column whose
relation to the label holds on the training rows only scores far better on the held-out training
rows: a warning when the gap is at least ``MIN_GAP`` (``rules.GAP_HIGH``'s 10 points, the
train-validation gap the overfitting rule reads) and significant at ``first_layer.ALPHA`` split
over the columns and splits tested (a z-test: the binomial variance of each recall, or the squared
errors' variance; the two samples are distinct rows). Only the split's rows inside
the training column's range (and, for regression, with targets inside the training targets'
range) are scored, so a split that moves beyond the training values (a split in time, trimmed
training targets) is judged by the other split checks, not as a leak.

Quiet: inputs that are not a table (images and sequences: a pixel is no feature a user encoded),
multi-output targets, splits with fewer than ``MIN_ROWS`` rows (training: distinct rows per half).
"""
from __future__ import annotations

import math

import torch

from trainwell.babysit.findings import Finding, make
from trainwell.babysit.first_layer import ALPHA
from trainwell.babysit.mismatch_cost import row_groups

ROWS = 4000             # training rows read (a seeded sample beyond this): half fit the probes, half score them
BINS = 10               # equal-count bins per column (deciles, as label_relation.py bins)
MIN_BIN_ROWS = 20       # ... fewer bins where a bin would hold fewer fitted rows (its majority is noise)
MIN_ROWS = 100          # fewer rows in a split (or half the training rows): not judged
MIN_GAP = 0.1           # the held-out training rows score 10 points better (rules.GAP_HIGH, the overfitting gap)
MAX_COLUMNS = 256       # wider tables: a seeded sample of the columns
LISTED = 5              # columns named in the message


def _edges(values: torch.Tensor) -> torch.Tensor:
    bins = max(1, min(BINS, values.numel() // MIN_BIN_ROWS))
    q = torch.linspace(0, 1, bins + 1, dtype=torch.float64)[1:-1]
    return torch.unique(torch.quantile(values, q))


def _table(bins: torch.Tensor, y: torch.Tensor, n_bins: int, *, class_ids: bool, k: int) -> torch.Tensor:
    """Per bin: the majority class (class ids) or the mean target, fitted on the rows given; an empty
    bin gets the overall majority / mean."""
    if class_ids:
        counts = torch.zeros(n_bins, k, dtype=torch.float64)
        counts.index_put_((bins, y), torch.ones_like(bins, dtype=torch.float64), accumulate=True)
        overall = counts.sum(0).argmax()
        return torch.where(counts.sum(1) > 0, counts.argmax(1), overall)
    sums = torch.zeros(n_bins, dtype=torch.float64).index_add_(0, bins, y)
    n = torch.zeros(n_bins, dtype=torch.float64).index_add_(0, bins, torch.ones_like(y))
    return torch.where(n > 0, sums / n.clamp_min(1), y.mean())


def _score(pred: torch.Tensor, y: torch.Tensor, class_ids: bool, k: int, scale: float) -> tuple[float, float]:
    """(score, its sampling variance) of a column's predictions on some rows. Class ids: the balanced
    accuracy (the mean recall over the classes present), which the splits' class shares leave alone
    (a split resampled to other shares scores the same), with the binomial variance of each recall;
    values: minus the mean squared error in units of the training targets' variance."""
    if class_ids:
        right = torch.zeros(k, dtype=torch.float64).index_add_(0, y, (pred == y).double())
        rows = torch.bincount(y, minlength=k).double()
        present = rows > 0
        recall = right[present] / rows[present]
        c = int(present.sum())
        return float(recall.mean()), float((recall * (1 - recall) / rows[present]).sum()) / c ** 2
    err = (pred - y) ** 2 / scale
    return -float(err.mean()), float(err.var()) / err.numel()


def halves(X: torch.Tensor, gen) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The row indices of two random halves of ``X``'s rows, equal rows in one half (module docstring:
    a row repeated in both halves is a row the probe saw, and its score no held-out score); None where
    fewer than ``MIN_ROWS`` distinct rows would fill each half."""
    n = X.shape[0]
    group, groups = row_groups(X)
    if groups < 2 * MIN_ROWS:
        return None
    if groups == n:                     # distinct rows: a random half of them
        order = torch.randperm(n, generator=gen)
        return order[: n // 2], order[n // 2:]
    first = torch.randperm(groups, generator=gen) < groups // 2
    return first[group].nonzero().flatten(), (~first[group]).nonzero().flatten()


def _training_rows(train, gen) -> tuple | None:
    """``(X, y, class_ids)``: the training table (float64, host) and its targets (long class ids, or
    float64 values), a seeded sample of ``ROWS`` rows beyond it; None where it is no finite table of one
    target per row, has fewer than ``2 * MIN_ROWS`` rows, or a negative class id."""
    X, y = train
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor) or X.ndim != 2 or y.ndim != 1 \
            or not torch.is_floating_point(X):
        return None
    class_ids = not torch.is_floating_point(y)
    X, y = X.detach().cpu().double(), y.detach().cpu()
    y = y.long() if class_ids else y.double()
    if X.shape[0] > ROWS:
        keep = torch.randperm(X.shape[0], generator=gen)[:ROWS]
        X, y = X[keep], y[keep]
    if X.shape[0] < 2 * MIN_ROWS or not torch.isfinite(X).all() or not torch.isfinite(y.double()).all() \
            or (class_ids and y.min() < 0):
        return None
    return X, y, class_ids


def _comparable_splits(others: dict, X: torch.Tensor, y: torch.Tensor, class_ids: bool) -> dict:
    """``{name: (X, y)}`` of the splits in ``others`` the training table's probes can score, as
    ``_training_rows`` holds it: finite tables of its width, targets of its kind (class ids among the
    training ones)."""
    splits = {}
    for name, pair in others.items():
        if pair is None or not isinstance(pair[0], torch.Tensor) or not isinstance(pair[1], torch.Tensor):
            continue
        Xo, yo = pair[0].detach().cpu().double(), pair[1].detach().cpu()
        if Xo.ndim != 2 or Xo.shape[1] != X.shape[1] or yo.ndim != 1 or torch.is_floating_point(yo) == class_ids:
            continue
        yo = yo.long() if class_ids else yo.double()
        if class_ids and (yo.min() < 0 or yo.max() > y.max()):
            continue
        if torch.isfinite(Xo).all() and torch.isfinite(yo.double()).all():
            splits[name] = (Xo, yo)
    return splits


def leaking_columns(train, others: dict, *, seed: int = 0) -> list[dict]:
    """Columns whose univariate probe scores much better on held-out training rows than on the rows
    of a split in ``others`` (``{name: (X, y)}``): ``[{"column", "split", "train", "split_score",
    "gap", "z", "rows"}]``, the largest gap first."""
    gen = torch.Generator().manual_seed(seed)
    rows = _training_rows(train, gen)
    if rows is None:
        return []
    X, y, class_ids = rows
    cut = halves(X, gen)
    if cut is None:
        return []
    fit, held = cut
    columns = torch.arange(X.shape[1])
    if X.shape[1] > MAX_COLUMNS:
        columns = torch.randperm(X.shape[1], generator=gen)[:MAX_COLUMNS].sort().values
    splits = _comparable_splits(others, X, y, class_ids)
    if not splits:
        return []
    k = int(y.max()) + 1 if class_ids else 0
    scale = 1.0 if class_ids else float(y.var()) or 1.0
    z_min = float(torch.special.ndtri(torch.tensor(1 - ALPHA / (len(columns) * len(splits)), dtype=torch.float64)))
    found = []
    # regression: only the split's rows with targets inside the training targets' range (rows beyond
    # it are the range check's; a model, and these probes, cannot predict them from any column)
    targets = {name: torch.ones_like(yo, dtype=torch.bool) if class_ids else (yo >= y.min()) & (yo <= y.max())
               for name, (_, yo) in splits.items()}
    for j in columns.tolist():
        column = X[:, j]
        low, high = column.min(), column.max()
        rows = {name: (Xo[:, j] >= low) & (Xo[:, j] <= high) & targets[name] for name, (Xo, _) in splits.items()}
        inside, var_in, outside, var_out = 0.0, 0.0, dict.fromkeys(splits, 0.0), dict.fromkeys(splits, 0.0)
        for fitted, scored in ((fit, held), (held, fit)):      # each half's table scores the other half
            edges = _edges(column[fitted])
            table = _table(torch.bucketize(column[fitted], edges), y[fitted], edges.numel() + 1,
                           class_ids=class_ids, k=k)
            score, var = _score(table[torch.bucketize(column[scored], edges)], y[scored], class_ids, k, scale)
            inside, var_in = inside + score / 2, var_in + var / 4
            for name, (Xo, yo) in splits.items():
                score, var = _score(table[torch.bucketize(Xo[rows[name], j], edges)], yo[rows[name]], class_ids, k,
                                    scale)
                # the split's two scores read the same rows: their variances add as if fully correlated
                outside[name], var_out[name] = outside[name] + score / 2, var_out[name] + var / 2
        for name in splits:
            if int(rows[name].sum()) < MIN_ROWS:
                continue
            gap = inside - outside[name]
            se = math.sqrt(var_in + var_out[name])
            z = gap / se if se > 0 else (math.inf if gap > 0 else 0.0)
            if gap >= MIN_GAP and z >= z_min:
                found.append({"column": j, "split": name, "train": inside, "split_score": outside[name], "gap": gap,
                              "z": z, "rows": (X.shape[0], int(rows[name].sum()))})
    return sorted(found, key=lambda f: -f["gap"])


def check_label_leak(train, others: dict, *, seed: int = 0) -> list[Finding]:
    """``split_mismatch`` (a warning) naming the columns that hold the training rows' own labels."""
    found = leaking_columns(train, others, seed=seed)
    if not found:
        return []
    class_ids = not torch.is_floating_point(train[1])
    if class_ids:
        said = [f"column {f['column']}: balanced accuracy {f['train']:.0%} on held-out training rows, "
                f"{f['split_score']:.0%} on the {f['split']} rows" for f in found[:LISTED]]
    else:
        said = [f"column {f['column']}: squared error {-f['train']:.2f} x Var(y) on held-out training rows, "
                f"{-f['split_score']:.2f} on the {f['split']} rows" for f in found[:LISTED]]
    more = f"; {len(found) - LISTED} more" if len(found) > LISTED else ""
    return [make("split_mismatch",
                 "a feature predicts the training labels far better than the other splits' labels ("
                 + "; ".join(said) + more + f"; a probe of the one column, fitted on other training rows, gap >= "
                 f"{MIN_GAP:.0%}): it holds the training rows' own labels, a leak (a target or mean encoding "
                 f"computed with each row's own label, a feature filled from the label)",
                 evidence={"columns": found, "min_gap": MIN_GAP, "alpha": ALPHA},
                 where=f"column {found[0]['column']}",
                 fix="compute a target encoding out of fold on the training rows (each row encoded from the other "
                     "folds' labels, sklearn's TargetEncoder), or drop the column; build every feature of a row "
                     "without its label")]
