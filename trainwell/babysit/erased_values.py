"""Readings a transform erased: ``uninformative_inputs`` for a column where one step wrote one value
over a large share of its readings, or wrote values no reading has.

**A value inside the readings, in a large share of the rows** (``interior_mass``). A transform that
is undefined on part of a column's range, and a fill of what it returns there, replace every reading
of that part with one value: ``np.log`` after ``StandardScaler`` (every value below the mean is
negative, its log NaN) followed by ``np.nan_to_num`` writes 0 over half the rows; a ``sqrt`` of
centred values, a ratio whose denominator crossed 0, the same. The model then sees one number where
the rows had a range of readings. Zero-inflated quantities (counts, amounts, a gated load: 0 when off)
also repeat one value in many rows, and they are real; what tells them apart is where the value lies.
A real "none" is the end of the quantity's range: the other readings start next to it on one side
(the zeros of an amount, the off state of a load, top-coding at a cap). An erasure's value is
wherever the fill put it, and a fill of 0 on a transformed column lands among its readings: the
column is continuous on *both* sides of the mass. Three marks, all needed, on one column:

1. one exact value in at least ``MASS_SHARE`` of the rows (a continuous reading repeats by chance only
   on a grid's few values);
2. the other rows are continuous readings: at least ``value_codes.MIN_DISTINCT`` distinct values, and
   at least ``CONTINUOUS`` of them distinct from each other (counts, ratings and grids repeat their
   values: a count of 1 between 0 and 2 is a value of the count, not a fill);
3. at least ``MIN_SIDE`` of the other rows lie strictly below the value and ``MIN_SIDE`` strictly above.

A padded sequence stored as a row (``(N, L)``, every row padded to the longest with 0) repeats its pad
among the readings too, at the positions past each row's end: there the rows holding the pad at one
position hold it at the next one as well (after the readings) or at the one before (before them).
A mass whose rows and the rows of the same value in an adjacent column are nested (the smaller set
within the larger, to ``NESTED`` of its rows) is a pad (``padded``), not an erasure: a transform
erases each column on the rows of its own values, and two independent columns below their means
share about the product of their shares.

**A smaller share, where the targets say so** (``displaced``). A fill over the readings of a narrow
part of the range (``np.log1p`` of the days below -1 C, a ratio over the few rows whose denominator
crossed 0) writes the value over fewer rows than ``MASS_SHARE``, and a share alone cannot tell those
from a real reading that repeats. The targets can: the expected target moves smoothly with a
reading, so the rows that really hold the value have targets like the rows whose readings lie next
to it, while the rows a fill moved there came from elsewhere in the range and keep their own
targets. From ``value_codes.MIN_SHARE`` of the rows (mark 2 as above; mark 3 as the range going on
past the value on both sides, at least ``value_codes.MIN_DISTINCT`` distinct readings each: a fill
over the readings near one end of the range leaves few rows beyond it), the value's rows are
compared with as many of the column's other rows nearest to it: per target column (per class, as
one-hot columns), the difference of the two means in units of the target's std at least
``split_checks.SHIFT`` (Cohen's d 0.5) and ``split_checks.SHIFT_Z`` standard errors (Welch). A real
"no change" between ups and downs passes this test where its targets are continuous in the reading.
Missing readings imputed with the column's median or mean (scikit-learn's ``SimpleImputer``, the usual
handling) are a fill too, and where being missing says something their targets differ as well; that
fill sits at the other rows' center (``imputed_center``: within ``CENTER_ERRORS`` standard errors of
their median or mean), where an erasure's value lies wherever its transform put the fill: a value at
the center is left to the imputation it looks like.

The same imputation over a large share (a reading missing on 40 % of the rows, filled with the
median) passes the three marks. Missing at its source, the reading takes nothing else of the row with
it: the row's other columns predict its target as well as they predict the other rows' (values
missing at random, Rubin 1976). A step that filled the value because it broke the row (a CSV read
without its quoting moves a row's fields one column over, and the first one's NaN is filled with the
mean) leaves the other columns wrong too, and the rows' targets follow them less well. So a large mass
at the other rows' center (``imputed_center``) is left to the imputation it looks like only where the
rows are ``intact_rows``: the probes of ``first_layer`` (a linear model, 10 nearest neighbours; out of
fold, ``mismatch_cost.out_of_fold``) fitted on the other columns, and no probe's loss on the mass's rows
exceeds its loss on the rest by the kill rule (``first_layer.MIN_DROP``, ``first_layer.LOSS_RATIO``) at
``mismatch_cost.z_alpha()`` standard errors. Without targets it is not measured (the mass is reported).

What stays quiet by construction: zero-inflated counts and amounts (mass at an end), gated
quantities, clipping and top-coding (the mass at an end), categories and flags (few distinct values),
a missing-value code beyond the readings (``value_codes``' own). What it cannot tell apart: a real
quantity whose "no change" sits between its ups and downs (a net transfer, 0 for most accounts,
continuous either side) reads as an erasure; the message says so.

**Values at the float format's limit** (``huge_values``). ``np.nan_to_num`` replaces ``-inf`` (a log
of 0) and ``inf`` with the largest finite number of the dtype, 1.8e308 for float64 and 3.4e38 for
float32; no measurement lies within ``LIMIT_FACTOR`` of those (Avogadro's number is 6e23; float16's
65504 is within reach of readings, so there only that value itself counts). One such
value in a column already dwarfs its readings: standardized, every other row becomes the same
number.

Read on at most ``value_codes.ROWS`` training rows of a table (a 2-D input), on the host, before any
loss is computed.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from trainwell.babysit import first_layer, mismatch_cost
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.split_checks import SHIFT, SHIFT_Z
from trainwell.babysit.value_codes import MIN_DISTINCT, MIN_ROWS, MIN_SHARE, ROWS

MASS_SHARE = 0.25         # one exact value in >= a quarter of the rows: a large share of the readings gone (a
                          # continuous reading repeats by chance in ~1/N of them; value_codes' codes start at 1 %)
CONTINUOUS = 0.5          # the other rows: >= half their values distinct from each other (a count or a grid
                          # repeats each value many times; measurements to a few digits rarely repeat)
MIN_SIDE = 0.2            # ... and >= a fifth of them on each side of the value (an end of the range holds none)
NESTED = 0.99             # a pad: >= 99 % of the smaller of two adjacent columns' rows of the value are the larger's
LIMIT_FACTOR = 1e-3       # values of magnitude >= 1e-3 x the dtype's largest finite number: no measurement ...
MEASURABLE = 1e30         # ... where that lies beyond any reading (Avogadro's number is 6e23); a narrower format
                          # (float16: 65504) holds real readings there, and only its largest value itself is a fill
CENTER_ERRORS = 3.0       # an imputed center: within 3 standard errors of the other rows' median or mean
MEDIAN_ERROR = 1.2533     # the median's standard error in sigma / sqrt(n) (sqrt(pi / 2), a normal sample)
LISTED = 5                # the columns named in a message


def interior_mass(column: torch.Tensor, *, min_share: float = MASS_SHARE, min_side: float = MIN_SIDE) -> dict | None:
    """The three marks of an erasure (module docstring) on one column's finite values (float64), the
    value's share at least ``min_share``, at least ``min_side`` of the other rows on each side:
    ``{"value", "share", "below", "above", "distinct", "sides"}`` (``sides``: the fewer distinct values
    of the two sides), or None where any is missing."""
    n = column.shape[0]
    if n < MIN_ROWS:
        return None
    values, counts = torch.unique(column, return_counts=True)
    top = int(torch.argmax(counts))
    share = float(counts[top]) / n
    if share < min_share:
        return None
    value = float(values[top])
    others = column[column != value]
    distinct = int(values.numel()) - 1
    if distinct < MIN_DISTINCT or distinct < CONTINUOUS * others.shape[0]:
        return None
    below, above = float((others < value).double().mean()), float((others > value).double().mean())
    if min(below, above) < min_side:
        return None
    sides = min(top, int(values.numel()) - 1 - top)
    return {"value": value, "share": share, "below": below, "above": above, "distinct": distinct, "sides": sides}


def target_columns(y: torch.Tensor, *, class_ids: bool) -> torch.Tensor | None:
    """The targets as float64 columns (class ids one-hot), or None when they are neither one column
    of values nor one class id per row."""
    if class_ids and y.ndim == 1 and not torch.is_floating_point(y):
        return torch.nn.functional.one_hot(y.long() - int(y.min())).double()
    if not class_ids and torch.is_floating_point(y) and y.reshape(y.shape[0], -1).shape[1] == 1:
        return y.reshape(-1, 1).double()
    return None


def displaced(column: torch.Tensor, value: float, t: torch.Tensor) -> dict | None:
    """The targets ``t`` (float64 columns) of ``column``'s rows holding ``value`` against as many of its
    other rows nearest the value (all of them where they are fewer; module docstring): ``{"shift", "z", "target", "rows"}`` of the target
    column that moved most (in its std), when it moved at least ``SHIFT`` and ``SHIFT_Z`` standard errors;
    else None. ``column`` and ``t`` hold finite rows only."""
    at = column == value
    k = int(at.sum())
    distance = (column - value).abs().masked_fill(at, float("inf"))
    near = torch.argsort(distance)[:min(k, int((~at).sum()))]     # other rows only, where they are fewer
    a, b = t[at], t[near]
    spread = t.std(dim=0).clamp_min(1e-12)
    error = (a.var(dim=0) / k + b.var(dim=0) / b.shape[0]).sqrt().clamp_min(1e-12)
    difference = a.mean(dim=0) - b.mean(dim=0)
    shift, z = difference.abs() / spread, difference.abs() / error
    moved = (shift >= SHIFT) & (z >= SHIFT_Z)
    if not bool(moved.any()):
        return None
    j = int(torch.argmax(torch.where(moved, shift, torch.zeros_like(shift))))
    return {"shift": float(shift[j]), "z": float(z[j]), "target": j, "rows": k,
            "value_mean": float(a[:, j].mean()), "near_mean": float(b[:, j].mean())}


def padded(x: torch.Tensor, column: int, value: float) -> bool:
    """``column``'s rows holding ``value`` and those holding it in the column before or after are nested:
    the smaller set lies, to ``NESTED`` of its rows, within the larger (a sequence's pad past its end or
    before its start: the last position holds the pad on every row that pads an earlier one; module
    docstring)."""
    rows = x[:, column] == value
    for other in (column - 1, column + 1):
        if 0 <= other < x.shape[1]:
            beside = x[:, other] == value       # the smaller of the two sets of rows within the larger
            smaller = min(float(rows.double().sum()), float(beside.double().sum()))
            if smaller > 0 and float((rows & beside).double().sum()) >= NESTED * smaller:
                return True
    return False


def huge_values(x: torch.Tensor, dtype: torch.dtype) -> list[dict]:
    """Columns of ``x`` (rows x columns, float64) holding values within ``LIMIT_FACTOR`` of ``dtype``'s
    largest finite number (the largest itself where that margin reaches readings, ``MEASURABLE``):
    ``{"column", "rows", "value"}`` each."""
    largest = torch.finfo(dtype if dtype.is_floating_point else torch.float32).max
    limit = LIMIT_FACTOR * largest if LIMIT_FACTOR * largest >= MEASURABLE else largest
    huge = torch.isfinite(x) & (x.abs() >= limit)
    return [{"column": int(j), "rows": int(huge[:, j].sum()), "value": float(x[huge[:, j], j][0])}
            for j in torch.nonzero(huge.any(dim=0)).flatten().tolist()]


def placed_mass(x: torch.Tensor, j: int, t: torch.Tensor | None, labels: torch.Tensor | None = None) -> dict | None:
    """Column ``j`` of ``x``'s erasure (``interior_mass``, not ``padded``): from ``MASS_SHARE`` of the
    rows with ``MIN_SIDE`` on each side on the column alone, unless the value is the other rows' center
    and the rows holding it are otherwise ``intact_rows`` (``labels``: the targets as given, class ids or
    values); from ``MIN_SHARE`` with ``MIN_DISTINCT`` distinct readings on each side where the targets
    ``t`` (``target_columns``) of the value's rows are ``displaced`` (its entry ``"displaced"``); None
    where neither holds."""
    column = x[:, j]
    finite = torch.isfinite(column) & (torch.isfinite(t).all(dim=1) if t is not None else True)
    mass = interior_mass(column[finite], min_share=MIN_SHARE if t is not None else MASS_SHARE,
                         min_side=MIN_SIDE if t is None else 0.0)
    if mass is None or padded(x, j, mass["value"]):
        return None
    if mass["share"] >= MASS_SHARE and min(mass["below"], mass["above"]) >= MIN_SIDE:
        imputed = labels is not None and imputed_center(column[finite], mass["value"]) \
            and intact_rows(x[finite], j, column[finite] == mass["value"], labels[finite])
        return None if imputed else mass
    if mass["sides"] < MIN_DISTINCT:        # an end of the range, or next to it: a real "none" (module docstring)
        return None
    if imputed_center(column[finite], mass["value"]):
        return None
    moved = displaced(column[finite], mass["value"], t[finite])
    return {**mass, "displaced": moved} if moved is not None else None


def intact_rows(x: torch.Tensor, j: int, rows: torch.Tensor, labels: torch.Tensor) -> bool:
    """The rows ``rows`` (the mass of column ``j``) are predicted from the other columns of ``x`` as well as
    the rest (module docstring): for every probe of ``first_layer`` (fitted out of fold on at most
    ``first_layer.ROWS`` rows, ``mismatch_cost.out_of_fold``) the rows' loss (balanced error for class ids,
    squared error for values) exceeds the other rows' by less than the kill rule or by fewer than
    ``mismatch_cost.z_alpha()`` standard errors (Welch). ``labels``: the targets, class ids or values."""
    gen = torch.Generator().manual_seed(0)
    finite = torch.isfinite(x).all(dim=1).nonzero().flatten()         # the probes read no NaN
    keep = finite[torch.randperm(finite.numel(), generator=gen)[:first_layer.ROWS]]
    others = torch.cat([x[keep, :j], x[keep, j + 1:]], dim=1)
    rows, class_ids = rows[keep].numpy(), not torch.is_floating_point(labels)
    target = labels[keep].reshape(-1).long().numpy() if class_ids else labels[keep].double().reshape(-1).numpy()
    if others.shape[1] == 0 or min(int(rows.sum()), int((~rows).sum())) < first_layer.NEIGHBOURS \
            or (class_ids and np.unique(target).size < 2):
        return False
    for probe in mismatch_cost.PROBES:
        losses, _ = mismatch_cost.out_of_fold(probe, others, target, "classes" if class_ids else "values", gen)
        held, held_se = mismatch_cost.weighted_mean(losses[rows],
                                                    mismatch_cost.balanced_weights(target[rows], class_ids))
        rest, rest_se = mismatch_cost.weighted_mean(losses[~rows],
                                                    mismatch_cost.balanced_weights(target[~rows], class_ids))
        z = (held - rest) / max(math.hypot(held_se, rest_se), 1e-12)
        worse = held - rest >= first_layer.MIN_DROP if class_ids else held >= first_layer.LOSS_RATIO * rest
        if worse and z >= mismatch_cost.z_alpha():
            return False
    return True


def imputed_center(column: torch.Tensor, value: float) -> bool:
    """``value`` lies at the median or the mean of ``column``'s other rows, within ``CENTER_ERRORS`` standard
    errors of each (1.2533 sigma / sqrt(n) for the median, sigma / sqrt(n) for the mean: an imputer fitted
    on other rows of the same data): missing readings imputed with the column's center (module docstring)."""
    others = column[column != value]
    sigma, n = float(others.std()), others.shape[0]
    return (abs(value - float(others.median())) <= CENTER_ERRORS * MEDIAN_ERROR * sigma / n ** 0.5
            or abs(value - float(others.mean())) <= CENTER_ERRORS * sigma / n ** 0.5)


def check_erased_values(X, y=None, *, class_ids: bool = False) -> list[Finding]:
    """``uninformative_inputs`` (a warning) for columns whose readings a transform erased: one value
    among the readings in a large share of the rows, or in a smaller share whose rows' targets ``y``
    differ from those of the rows next to the value (``displaced``), or values at the float format's
    limit (module docstring). ``class_ids``: ``y`` holds class ids (else a regression's values)."""
    if not torch.is_tensor(X) or X.ndim != 2 or not torch.is_floating_point(X) or X.shape[0] < MIN_ROWS:
        return []
    x = X[:ROWS].detach().to("cpu", torch.float64)
    labels = y[:ROWS].detach().cpu() if torch.is_tensor(y) and y.shape[0] == X.shape[0] else None
    t = target_columns(labels, class_ids=class_ids) if labels is not None else None
    found = []
    huge = huge_values(x, X.dtype)
    if huge:
        said = ", ".join(f"column {h['column']}: {h['value']:.3g} in {h['rows']} rows" for h in huge[:LISTED])
        found.append(make(
            "uninformative_inputs",
            f"input values at the float format's limit ({said}): no reading is that large; np.nan_to_num writes "
            f"them for inf (a log of 0, a division by 0), and beside them every other value of the column is the "
            f"same number once scaled",
            evidence={"huge": huge[:LISTED], "columns": [h["column"] for h in huge], "rows_read": int(x.shape[0])},
            severity="warning", where="input values",
            fix="find the step that makes inf (a log or division of values <= 0) and transform before scaling "
                "(np.log of the raw positive values, then StandardScaler), or drop / impute those rows"))
    huge_columns = {h["column"] for h in huge}
    masses = []
    for j in range(x.shape[1]):
        if j in huge_columns:
            continue
        mass = placed_mass(x, j, t, labels if t is not None else None)
        if mass is not None:
            masses.append({"column": j, **mass})
    if masses:
        first = masses[0]
        said = ", ".join(f"column {m['column']}: {m['value']:.4g} in {100 * m['share']:.0f}% of the rows"
                         for m in masses[:LISTED])
        found.append(make(
            "uninformative_inputs",
            f"input column{'s hold' if len(masses) > 1 else ' holds'} one value among {'their' if len(masses) > 1 else 'its'} readings in "
            f"{'a large share of the rows' if 'displaced' not in first else 'many rows'} ({said}"
            f"{' ...' if len(masses) > LISTED else ''}): column {first['column']}'s other rows are "
            f"continuous on both sides of it ({100 * first['below']:.0f}% below, {100 * first['above']:.0f}% above, "
            f"{first['distinct']} distinct values), so the value is no end of the range (a zero count, an amount "
            f"of none) but a fill over readings a transform erased{said_displaced(first)}: a log or square root of "
            f"standardized or signed values (undefined below the mean, log1p below -1) then nan_to_num; a quantity "
            f"whose 'no change' lies between its ups and downs is real and reads so too",
            evidence={"masses": masses[:LISTED], "columns": [m["column"] for m in masses],
                      "rows_read": int(x.shape[0])},
            severity="warning", where="input values",
            fix="transform the raw values before scaling (np.log of the positive raw column, then StandardScaler), "
                "never a log or root of standardized or signed values; impute a fill from the row's other columns, "
                "not one value"))
    return found


def said_displaced(mass: dict) -> str:
    """The targets' evidence of ``placed_mass``'s entry ``"displaced"``, for the message ('' without it)."""
    moved = mass.get("displaced")
    if moved is None:
        return ""
    return (f"; its {moved['rows']} rows are not like the rows next to the value: their mean target "
            f"(column {moved['target']}, one-hot for classes) is {moved['value_mean']:.3g} against "
            f"{moved['near_mean']:.3g} on the {moved['rows']} rows nearest to it, {moved['shift']:.2f} target stds "
            f"apart ({moved['z']:.1f} standard errors), where a reading's targets change smoothly with it: "
            f"the rows came from elsewhere in the range")
