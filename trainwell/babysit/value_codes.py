"""Values that are not measurements: missing-value codes left in, and integers wrapped at their type's limit.

Two faults of the data's values that the inputs' means and stds do not show, read on the host on at
most ``ROWS`` training rows before any loss is computed (a data-quality check in the spirit of
Great Expectations' "values between" and pandas-profiling's "common values").

**A missing-value code** (``find_codes``): a file writes a reading it does not have as -999, 9999,
-1 or 0, and the code survives into the training inputs, often standardized with the rest: the
column's real values are squeezed into a sliver of its range and the model sees an 8 % spike far
away instead of a measurement. Its mark in one column: one exact value repeated in at least
``MIN_SHARE`` of the rows (a continuous reading repeats by chance only on a grid's few values),
and at most ``MAX_SHARE`` (a value in most rows is the column's own typical value), lying beyond
the bulk (the other rows from their 0.1st to their 99.9th percentile: a few genuine outliers
beside the code neither hide it nor widen the bulk) by at least ``FAR`` of the bulk's width. On a
normal bulk (width ~6.2 sigma) that is 6 sigma from its mean: -999 beside wave heights of a few
metres, 9999 beside percentages, -1 beside adults' ages, 0 beside blood pressures. The width, not a
central spread, is the unit: a bulk that is mostly one value (a pixel that is black in 3 of 4
images) has a central spread of nearly 0 and a width of its whole range. What this leaves quiet,
by construction:

* a column with fewer than ``MIN_DISTINCT`` distinct values besides its common ones: binary flags,
  one-hot columns, categories coded as integers, small counts, 8x8 digits' 17 grey levels;
* a value piled at the end of the bulk: clipping, top-coding (a price capped at 500001),
  saturated pixels, the zeros of a zero-inflated count or amount (the bulk starts next to them);
* a heavy tail: its far values are each rare, not one value repeated.

**A code in most rows** (``find_codes``' ``majority``): the same mark, the value in more than
``MAX_SHARE`` of the rows. A typical value lies among the column's readings or at their end (a
zero-inflated amount's zeros: its other values start next to them), never half the readings' width
beyond them, so a majority that far out is no reading: a parse that failed on most rows and wrote one
fill (``pd.to_numeric(errors="coerce").fillna(0)`` on "1,234"-style text), a "not applicable" code
for most rows. Most of the column's readings are then gone, not squeezed: the column says only
whether a row had one, and the median the repairer would impute carries nothing either. It is reported
as ``uninformative_inputs`` (a warning, not repaired: the fix is in how the file is read); the other
rows still need ``MIN_ROWS`` rows and ``MIN_DISTINCT`` distinct values, as for any code.

A majority far out is also how a gated quantity reads (a building's occupancy: 0 at night and at
weekends, 0.6-1 in working hours; a garage's area: 0 without one), a real state. The two differ in
which readings the value stands for, and the other columns say it (``far_side``): a state is
continuous with the readings next to it (the houses without a garage resemble those with a small
one), while a fill that replaced every reading past a cut (numbers from 1,000 up written with a
separator, values over a type's range, a unit only large values carry) stands for readings beyond
the *far* end of those kept. A least-squares fit of the column on the other columns, on half the
other rows, predicts the coded rows past the far end: their predictions exceed the held-out other
rows' toward the far side with an AUC of at least ``FAR_SIDE_AUC`` (one-sided Mann-Whitney,
p < ``first_layer.ALPHA``), their median prediction past the held-out rows' by at least
``FAR_SIDE_SHIFT`` of the fit's residual std on them (a fit that explains nothing of the column
still extrapolates a little, consistently: the AUC alone reads that as a side). A fit with fewer
than ``ROWS_PER_PREDICTOR`` rows per coefficient is not judged; the first ``MAX_TESTED`` codes in
most rows are. Where the other columns say nothing of the column (a state, or a code
written at random) the code stays quiet: the finding needs both marks.

The other common values (those in ``MIN_SHARE`` of the rows) are left out of the bulk when they lie
outside its central 80 % (its 10th to 90th percentile), so that two codes (-999 and -998) do not
hide each other. The repair a user makes, and the one the repairer applies: replace the code by
the column's median over the training split's other rows (``impute``), then standardize.

**Wrapped integers** (``find_wraps``): arithmetic on an unsigned integer array wraps around its
type's modulus, ``(x - 128) / 128`` on uint8 pixels maps 127 to 255: values that were neighbours
land at the two ends of the range. Its mark, on all values of an image-like input pooled (one
unit), on the columns of a table that share one grid pooled (flattened pixels), or on a table's
column alone: the values lie on a grid of step ``s`` and span exactly ``2^8`` or ``2^16`` steps
(the type's whole range); both ends of the range (their ``EDGE`` of it) hold at least
``EDGE_SHARE`` of the values each, with no pile on the end value itself (more than ``SPIKE`` times
the mean count of the end's other levels and at least ``PILE`` of the values: clipping and
saturated pixels pile there, a wrap passes through); and read on the circle of the type's
modulus, the values' spread is at most ``WRAP_SPREAD`` of their spread on the line: the two ends
are one bulk cut in two. Clipping itself is not reported here (healthy images clip too; a clip through the
readings at both ends is ``censored_values``').

**Precision lost in a cast** (``find_rounded``): a table stored in half precision "to save memory"
keeps 11 significant bits, so a column whose values are large against their spread (latitudes
47.36-47.40: half precision's step there is 1/32 of a degree) keeps only a few of its levels. Per
column of a table that is not all integers: the coarsest float format its values are all exactly
representable in (bfloat16, 8 significant bits; float16, 11; float32, 24) and the rounding error
that format's step leaves at each value, step^2 / 12 (the uniform quantization noise model,
Widrow & Kollar 2008), averaged over the rows, against the column's variance. At least
``ROUNDED_NOISE`` of it, and two of the column's values one step of the format apart (a cast of a
continuous reading fills the format's grid where the values lie): the cast alone left the column a
signal-to-noise ratio of 10 or less. Values that are exact in a short format by chance lie on a
coarser grid of their own (halves of small numbers, pixels in sixteenths shifted by 50: two steps
of float16 apart), so they stay quiet.

**Values coded row by row** (``row_codes.find_row_codes``, read as numbers): each row's values are
the ranks of its own distinct values (a palette PNG whose palette is the image's own greys ordered by
how often they occur), so the same value is another grey in every row; see ``row_codes``.
"""
from __future__ import annotations

import math

import torch

from trainwell.babysit.findings import Finding, make
from trainwell.babysit.first_layer import ALPHA
from trainwell.babysit.row_codes import find_row_codes, row_codes_finding

ROWS = 2000               # the training rows read (data_checks.STATS_ROWS: the input statistics' sample)
MIN_ROWS = 100            # fewer rows: a share of 1% is one row
MIN_SHARE = 0.01          # a code fills >= 1% of the rows (a continuous reading repeats in < 1/N of them)
MAX_SHARE = 0.5           # ... and at most half (a code in more rows is reported as most of the readings lost)
MIN_DISTINCT = 20         # the bulk has >= 20 distinct values (fewer: categories, flags, small counts)
TAIL = 0.001              # the bulk's ends: its 0.1st and 99.9th percentiles (a few true outliers aside)
CENTRAL = 0.1             # common values outside the column's 10th-90th percentile are left out of the bulk
FAR = 0.5                 # a code lies beyond the bulk's end by >= half the bulk's width (6 sigma from a
                          # normal bulk's mean: no normal reading repeats there)
FAR_SIDE_AUC = 0.75       # coded rows' predictions past the other rows' toward the far end in 3 of 4 pairs
                          # (an AUC of 0.75: Hosmer & Lemeshow's "acceptable" discrimination is 0.7-0.8)
FAR_SIDE_SHIFT = 0.5      # ... their median prediction past the other rows' by >= half the fit's residual std
                          # (Cohen's "medium" effect; a fit on columns unrelated to this one extrapolates to
                          # the coded rows by ~|dz| sqrt(k / n) of it: ~0.2 for 5 columns on 250 rows)
ROWS_PER_PREDICTOR = 10   # ... fitted on >= 10 rows per coefficient, else not judged (Harrell 2015, "Regression
                          # Modeling Strategies" 4.4: 10-20 observations per parameter against overfitting)
MAX_TESTED = 10           # the codes in most rows judged per input (each one least-squares fit)
TYPE_LEVELS = (256, 65536)   # the moduli of uint8 / int8 and uint16 / int16
GRID_TOLERANCE = 1e-3     # values on a grid: within 0.1% of a step of a multiple of it
EDGE = 1 / 64             # the ends of the range: its first and last 64th (4 of uint8's 256 levels)
EDGE_SHARE = 0.02         # ... each holding >= 2% of the values
SPIKE = 3.0               # a pile on the end value (clipping): > 3x the mean count of the end's other levels
PILE = 0.005              # ... and >= 0.5% of the values (a level or two of a sparse grid is no pile)
WRAP_SPREAD = 0.5         # on the circle the values spread <= half as much as on the line
MAX_VALUES = 1_000_000    # values pooled for an image-like input (a sample of them beyond this)
ROUNDED_NOISE = 0.1       # a cast's rounding noise >= 10 % of the column's variance (a signal-to-noise ratio <= 10)
FORMATS = ((torch.bfloat16, 8), (torch.float16, 11), (torch.float32, 24))   # (format, significant bits), coarsest first


def sorted_quantiles(v: torch.Tensor, q: list) -> torch.Tensor:
    """``torch.quantile(v, q)`` (linear interpolation) of the sorted 1-D ``v``, read off it by index:
    the same arithmetic as torch's (rank ``q * (n - 1)`` in ``v``'s dtype, its floor and ceiling
    gathered, ``torch.lerp`` between them by the rank's fraction), so the same values bit for bit,
    without the sort ``torch.quantile`` runs on every call (``find_codes`` asks three per common
    value of a column it has sorted once)."""
    ranks = torch.tensor(q, dtype=v.dtype) * (v.numel() - 1)
    below = ranks.long()
    return torch.lerp(v[below], v[ranks.ceil().long()], ranks - below)


def _bulk(v: torch.Tensor, common: torch.Tensor) -> torch.Tensor:
    """The values of column ``v`` (float64, sorted) without its common values that lie outside the
    central ``1 - 2 * CENTRAL`` of the column."""
    lo, hi = sorted_quantiles(v, [CENTRAL, 1 - CENTRAL])
    outside = common[(common < lo) | (common > hi)]
    return v[~torch.isin(v, outside)] if outside.numel() else v


def find_codes(x: torch.Tensor) -> list[dict]:
    """The missing-value codes of the 2-D ``x`` (rows x columns, finite): one dict per code found,
    ``{"column", "value", "share", "rows", "gap", "bulk": (lo, hi), "median", "majority"}`` (``gap`` in
    units of the bulk's width hi - lo, ``median`` the bulk's, ``majority`` whether the code fills more
    than ``MAX_SHARE`` of the rows). See the module docstring."""
    n = x.shape[0]
    if n < MIN_ROWS or x.ndim != 2:
        return []
    s, _ = torch.sort(x.double(), dim=0)
    k = max(2, math.ceil(MIN_SHARE * n))
    repeated = (s[k - 1:] == s[:n - k + 1]).any(dim=0)     # some value fills k sorted rows in a row
    found = []
    for j in repeated.nonzero().flatten().tolist():
        v = s[:, j]
        values, counts = torch.unique_consecutive(v, return_counts=True)
        if values.numel() <= MIN_DISTINCT:     # a code's rest holds the other values at most: too few for a bulk
            continue
        common = values[counts >= k]
        if common.numel() == 0:
            continue
        bulk = _bulk(v, values[counts >= k])
        for value in common.tolist():
            rest = bulk[bulk != value]
            if rest.numel() < MIN_ROWS or torch.unique_consecutive(rest).numel() < MIN_DISTINCT:
                continue
            lo, median, hi = sorted_quantiles(rest, [TAIL, 0.5, 1 - TAIL]).tolist()     # rest: sorted as v
            width = hi - lo
            gap = max(lo - value, value - hi, 0.0)
            if width > 0 and gap >= FAR * width:
                share = float((v == value).double().mean())
                found.append({"column": j, "value": value, "share": share, "rows": int((v == value).sum()),
                              "gap": gap / width, "bulk": (lo, hi), "median": median, "majority": share > MAX_SHARE})
    return found


def _levels(v: torch.Tensor) -> tuple | None:
    """``(levels, step, modulus)`` when the sorted values ``v`` lie on a grid of step ``step`` spanning
    exactly a type's whole range (``TYPE_LEVELS``): ``levels`` the integer level of each value,
    0 at the smallest; else None."""
    distinct = torch.unique_consecutive(v)
    if distinct.numel() < 3:
        return None
    span = float(distinct[-1] - distinct[0])
    for modulus in TYPE_LEVELS:
        step = span / (modulus - 1)
        if not step > 0 or distinct.numel() > modulus:
            continue
        levels = (v - distinct[0]) / step
        if bool(((levels - levels.round()).abs() <= GRID_TOLERANCE).all()):
            return levels.round().long(), step, modulus
    return None


def _circular_std(levels: torch.Tensor, modulus: int) -> float:
    """The std of ``levels`` read on a circle of ``modulus`` levels (in levels, through the mean
    resultant length: sqrt(-2 ln R) radians)."""
    angle = levels.double() * (2 * math.pi / modulus)
    r = float(torch.stack([angle.cos().mean(), angle.sin().mean()]).norm())
    return math.sqrt(-2 * math.log(max(r, 1e-12))) * modulus / (2 * math.pi)


def find_wrap(v: torch.Tensor) -> dict | None:
    """``{"modulus", "step", "low_share", "high_share", "line_std", "circle_std"}`` when the values
    ``v`` (1-D, finite) look wrapped at an integer type's limit (see the module docstring), else None."""
    if v.numel() < MIN_ROWS:
        return None
    v, _ = torch.sort(v.double())
    grid = _levels(v)
    if grid is None:
        return None
    levels, step, modulus = grid
    counts = torch.bincount(levels, minlength=modulus).double()
    n = float(levels.numel())
    edge = int(EDGE * modulus)
    low, high = counts[:edge].sum() / n, counts[-edge:].sum() / n
    if min(float(low), float(high)) < EDGE_SHARE:
        return None
    for end, rest in ((counts[0], counts[1:edge]), (counts[-1], counts[-edge:-1])):
        if end > SPIKE * rest.mean() and end >= PILE * n:
            return None
    line = float(levels.double().std())
    circle = _circular_std(levels, modulus)
    if not line > 0 or circle > WRAP_SPREAD * line:
        return None
    return {"modulus": modulus, "step": step, "low_share": float(low), "high_share": float(high),
            "line_std": line * step, "circle_std": circle * step}


def _pooled(v: torch.Tensor) -> torch.Tensor:
    """At most ``MAX_VALUES`` of the values ``v`` (a fixed sample of them beyond it)."""
    v = v.reshape(-1)
    if v.numel() > MAX_VALUES:
        v = v[torch.randperm(v.numel(), generator=torch.Generator().manual_seed(0))[:MAX_VALUES]]
    return v


def find_wraps(X: torch.Tensor) -> list[dict]:
    """Wrapped values of ``X``: of an input of more than two dimensions, all its values pooled (one
    dict, ``"column": None``); of a 2-D table, the columns on one type's grid (the same smallest
    value, step and modulus: the pixels of flattened images, one unit) pooled, each other column
    alone (one dict per wrapped group, ``"columns"`` listing it, ``"column"`` its first)."""
    if X.ndim != 2:
        w = find_wrap(_pooled(X))
        return [] if w is None else [{"column": None, "columns": None, **w}]
    groups: dict = {}
    for j in range(X.shape[1]):
        v, _ = torch.sort(X[:, j])
        grid = _levels(v)
        if grid is not None:
            groups.setdefault((float(v[0]), round(grid[1], 12), grid[2]), []).append(j)
    found = []
    for columns in groups.values():
        w = find_wrap(_pooled(X[:, columns]))
        if w is not None:
            found.append({"column": columns[0], "columns": columns, **w})
    return found


def find_rounded(x: torch.Tensor) -> list[dict]:
    """Columns of a table (N, D) whose values all lie on a float format's grid that is coarse at their
    magnitude: ``[{"column", "format", "step", "noise_share", "std"}]`` (see the module docstring)."""
    if x.ndim != 2:
        return []
    out = []
    for j in range(x.shape[1]):
        v = x[:, j]
        std = float(v.std())
        if not std > 0 or bool((v == v.round()).all()):
            continue
        for fmt, bits in FORMATS:
            if bool((v.to(fmt).double() == v).all()):
                break
        else:
            continue
        a = v.abs()
        exponent = torch.floor(torch.log2(a.clamp_min(torch.finfo(fmt).tiny)))
        steps = torch.where(a > 0, torch.exp2(exponent - (bits - 1)), torch.zeros_like(a))
        noise = float((steps ** 2).mean() / 12)
        levels = torch.unique(v)            # sorted; the format's own grid: two levels one step apart somewhere
        low = levels[:-1].abs().clamp_min(torch.finfo(fmt).tiny)
        adjacent = bool((levels.diff() == torch.exp2(torch.floor(torch.log2(low)) - (bits - 1))).any())
        if noise >= ROUNDED_NOISE * std ** 2 and adjacent:
            out.append({"column": j, "format": str(fmt).removeprefix("torch."), "step": float(steps.median()),
                        "noise_share": noise / std ** 2, "std": std})
    return out


def far_side(x: torch.Tensor, code: dict, *, exclude=(), seed: int = 0) -> dict | None:
    """Whether the other columns of ``x`` place the rows holding ``code`` (a ``find_codes`` dict) past
    the far end of the column's other readings (see the module docstring): ``{"auc", "p", "shift"}``
    (``shift`` in units of the fit's residual std) when they do, else None. ``exclude``: columns not
    used as predictors (the other codes' columns, at their codes on the same kind of rows)."""
    from scipy.stats import mannwhitneyu
    j = code["column"]
    coded = x[:, j] == code["value"]
    predictors = [k for k in range(x.shape[1]) if k != j and k not in exclude]
    rest = (~coded).nonzero().flatten()
    if not predictors or rest.numel() // 2 < ROWS_PER_PREDICTOR * (len(predictors) + 1):
        return None
    rest = rest[torch.randperm(rest.numel(), generator=torch.Generator().manual_seed(seed))]
    fit, held = rest[: rest.numel() // 2], rest[rest.numel() // 2:]
    z = x[:, predictors]
    mean, std = z[fit].mean(0), z[fit].std(0).clamp_min(1e-12)
    design = torch.cat([torch.ones(x.shape[0], 1, dtype=x.dtype), (z - mean) / std], dim=1)
    w = torch.linalg.lstsq(design[fit], x[fit, j:j + 1]).solution
    pred = (design @ w).flatten()
    sign = 1.0 if code["value"] < code["median"] else -1.0      # the far end lies away from the code
    on, off = (sign * pred[coded]).numpy(), (sign * pred[held]).numpy()
    u, p = mannwhitneyu(on, off, alternative="greater")
    auc = float(u) / (len(on) * len(off))
    noise = float((x[held, j] - pred[held]).std())
    shift = float(sign * (pred[coded].median() - pred[held].median())) / max(noise, 1e-12)
    return {"auc": auc, "p": float(p), "shift": shift} if (auc >= FAR_SIDE_AUC and p < ALPHA
                                                          and shift >= FAR_SIDE_SHIFT) else None


def _most_rows_coded(majority: list[dict], *, rows: int) -> list[Finding]:
    """``uninformative_inputs`` (a warning) for codes that fill most of their column's rows (``find_codes``'
    ``majority``): most of the column's readings are gone, not squeezed."""
    if not majority:
        return []
    first = majority[0]
    listed = ", ".join(f"column {c['column']}: {c['value']:.6g} in {100 * c['share']:.0f}% of the rows"
                       for c in majority[:5])
    return [make(
        "uninformative_inputs",
        f"most rows of {'a column' if len(majority) == 1 else 'some columns'} hold one value far outside the "
        f"column's other readings ({listed}{' ...' if len(majority) > 5 else ''}; column {first['column']}'s "
        f"other rows lie in {first['bulk'][0]:.4g} .. {first['bulk'][1]:.4g}, the value {first['gap']:.3g} times "
        f"their width beyond them), and the other columns place those rows past the far end of the readings "
        f"kept (a fit of the column on the others ranks them beyond the other rows with an AUC of "
        f"{first['auc']:.2f}, p = {first['p']:.2g}): the value stands for the readings past a cut, a fill "
        f"written where the file's value could not be read (text such as \"1,234\" coerced to NaN and "
        f"filled), and the column carries its readings on only {100 * (1 - first['share']):.0f}% of the rows",
        evidence={"codes": [{k: c[k] for k in ("column", "value", "share", "rows", "gap", "median", "auc", "p",
                                                     "shift")}
                            for c in majority],
                  "columns": [c["column"] for c in majority], "rows_read": rows},
        severity="warning", where="input values",
        fix="read the column again and see why most rows failed to parse (thousands separators, units or "
            "text in the field: strip them before pd.to_numeric) instead of filling them; a code that "
            "really means \"not applicable\" belongs in an indicator column, with the readings left as "
            "they are")]


def host_rows(X) -> torch.Tensor | None:
    """The first ``ROWS`` training rows on the host, float64, rows with a NaN/inf dropped (those are
    ``nonfinite_data``'s); None for inputs that are not numbers."""
    if not torch.is_tensor(X) or X.ndim < 2 or X.dtype == torch.bool or X.is_complex():
        return None
    x = X[:ROWS].detach().cpu().double()
    return x[torch.isfinite(x.reshape(x.shape[0], -1)).all(dim=1)]


def check_value_codes(X) -> list[Finding]:
    """``unnormalized_inputs`` (error) for missing-value codes left in a column; ``uninformative_inputs``
    (warning) for columns rounded by a cast, values coded row by row (``row_codes``: a palette of each
    image's own greys) and integers wrapped at their type's limit. See the module docstring."""
    x = host_rows(X)
    if x is None or x.shape[0] < MIN_ROWS:
        return []
    findings = []
    found = find_codes(x) if x.ndim == 2 else []
    codes = [c for c in found if not c["majority"]]
    if codes:
        first = codes[0]
        listed = ", ".join(f"column {c['column']}: {c['value']:.6g} in {100 * c['share']:.1f}% of the rows"
                           for c in codes[:5])
        findings.append(make(
            "unnormalized_inputs",
            f"the inputs hold values that look like missing-value codes ({listed}{' ...' if len(codes) > 5 else ''}): "
            f"each is one value repeated far outside the rest of its column (column {first['column']}'s other "
            f"rows lie in {first['bulk'][0]:.4g} .. {first['bulk'][1]:.4g}, the code {first['gap']:.3g} times "
            f"their width beyond them), so the column's real readings are squeezed into a sliver of its range "
            f"(a value that is a true reading, a zero balance far from the others, is no code: then keep it and "
            f"scale the column robustly)",
            evidence={"codes": [{k: c[k] for k in ("column", "value", "share", "rows", "gap", "median")}
                                for c in codes],
                      "sentinel": True, "rows_read": int(x.shape[0])},
            severity="error", where="input values",
            fix="replace each code by the column's median over the training split's other rows (or drop those "
                "rows), then standardize: df[col].replace(code, np.nan).fillna(median)"))
    majority = [c for c in found if c["majority"]]
    columns = {c["column"] for c in majority}
    placed = [(c, far_side(x, c, exclude=columns)) for c in majority[:MAX_TESTED]]
    findings += _most_rows_coded([{**c, **side} for c, side in placed if side is not None], rows=int(x.shape[0]))
    rounded = find_rounded(x)
    if rounded:
        r = rounded[0]
        columns = [c["column"] for c in rounded]
        findings.append(make(
            "uninformative_inputs",
            f"input column{'s' if len(columns) > 1 else ''} {columns[:10]}{' ...' if len(columns) > 10 else ''} "
            f"hold only values of a short float format: column {r['column']}'s are all {r['format']} numbers, "
            f"whose step at their magnitude is {r['step']:.3g} against the column's std {r['std']:.3g}, so the "
            f"rounding alone is {100 * r['noise_share']:.0f}% of its variance: the cast erased most of what "
            f"the column varies by",
            evidence={"rounded": rounded, "columns": columns[:10], "rows_read": int(x.shape[0])},
            severity="warning", where="input values",
            fix="keep the columns in float32 (or subtract a reference value, such as the area's centre, "
                "before any cast to half precision)"))
    coded = find_row_codes(x.reshape(x.shape[0], -1), numbers=True)
    if coded is not None:
        findings.append(row_codes_finding(
            coded, where="input values", what="the input values",
            fix="read each file's values, not its codes: a palette image converted to its greys "
                "(np.array(Image.open(f).convert(\"L\")) / 255), an encoder fitted once on the training split "
                "and applied to every row"))
    wraps = find_wraps(x)
    if wraps:
        w = wraps[0]
        bits = int(round(math.log2(w["modulus"])))
        columns = [j for c in wraps for j in (c["columns"] or [])]
        where = (f"columns {columns[:10]}{' ...' if len(columns) > 10 else ''}" if columns else "the input values")
        findings.append(make(
            "uninformative_inputs",
            f"{where} look wrapped around a {bits}-bit integer's limit: they lie on a grid of step "
            f"{w['step']:.4g} spanning exactly {w['modulus']} levels, {100 * w['low_share']:.0f}% and "
            f"{100 * w['high_share']:.0f}% of them within {int(EDGE * w['modulus'])} levels of the two ends with no pile on "
            f"the ends, and read on a circle of {w['modulus']} levels they spread {w['circle_std']:.3g} against "
            f"{w['line_std']:.3g} on the line: values that were neighbours sit at opposite ends (uint{bits} "
            f"arithmetic such as x - 128 wraps around)",
            evidence={"wrapped": [{k: c[k] for k in ("column", "modulus", "step", "low_share", "high_share",
                                                      "line_std", "circle_std")} for c in wraps],
                      "columns": columns[:10],
                      "rows_read": int(x.shape[0])},
            severity="warning", where="input values",
            fix="convert to float before any arithmetic: (x.astype(np.float32) - 128) / 128"))
    return findings
