"""Readings cut off at two bounds: ``uninformative_inputs`` for inputs clipped through their readings.

A clip written for one scale and run on another replaces every reading beyond each bound with the
bound: ``np.clip(X, 0, 1)`` "pixels belong in [0, 1]" run after standardizing puts every pixel below
the mean at 0 (the dark defects with half the background) and every one above one standard deviation
at 1; an outlier clip at one standard deviation instead of three puts a third of the rows on its two
bounds. What lay beyond a bound is gone and no repair brings it back: the column is censored, in the
sense of the tobit model (Tobin 1958; a reading known only to lie beyond a limit). Its mark on one unit
of values (a table's column; an input of more than two dimensions: all its values, one scale):

1. **piles at both ends**: the smallest and the largest value each hold at least ``END_SHARE`` of the
   values, together at least ``CENSORED_SHARE`` (``erased_values.MASS_SHARE``: a large share of the
   readings gone). Saturation of a few readings, an outlier clip at 3 sigma (0.1 % per end) and
   winsorizing at the 5th and 95th percentiles (5 % per end, 10 % in all) hold less;
2. **readings between them**: the values strictly between the bounds are continuous, at least
   ``value_codes.MIN_DISTINCT`` distinct and at least ``erased_values.CONTINUOUS`` of them distinct
   from each other. Flags, one-hot columns, counts and grey levels on a grid (8x8 digits' 17, uint8's
   256 pooled over many pixels) repeat their values, and their ends are values of the grid;
3. **no taper at either end**: the readings within ``NEAR`` of the range next to each bound hold at
   least ``TAPER`` of the share a flat density would put there. A clip cuts through the readings,
   so the density runs up to the bound at full height (a normal clipped at +-1 sigma: 0.7 of the
   flat share at each end); a natural end that is a state of its own (no rain, a black background, a
   proportion's "none" and "all" beside readings that gather in the middle) is reached by few
   readings next to it.

Both ends are needed. One pile at a bound with readings running up to it is what a ReLU feature, a
zero-inflated amount (rain on dry days, an exponential on wet ones) or a clip at 0 all look like,
with nothing in the values to tell them apart (a tobit's own ambiguity: the model can estimate what
lies beyond, the values alone cannot say whether the cut was nature's or a pipeline's), so a single
floor or ceiling is left quiet. Two bounds cut through the readings at once are rare in measured
quantities; what looks the same by nature: a proportion with many rows at exactly 0 % and 100 % and
readings crowding towards both (the message says so), a feature squashed by a hard activation at
both ends (ReLU6, hardtanh) in a large share of the rows.

An input of more than two dimensions is one unit only where its channels share one scale: a
channel of flags beside a channel of readings also puts piles at the two ends of the pooled values.
So each bound's pile must lie mostly (at least half of it) in slices, along axis 1 and along the last
axis (the channels of NCHW / NCL and of NHWC / NLC layouts), that also hold readings (at least
``END_SHARE`` of their values strictly between the bounds).

Read on the host on at most ``value_codes.ROWS`` training rows (``value_codes.host_rows``; at most
``MAX_VALUES`` values of an image-like input), before any loss; reported as ``uninformative_inputs``
(a warning, as the other readings lost in ``value_codes`` and ``erased_values``: the fault is
information gone, not a scale) and not repaired: a clipped reading cannot be restored, the fix is
in the pipeline (clip in the raw units where the bound means something, or not at all).
"""
from __future__ import annotations

import torch

from trainwell.babysit.erased_values import CONTINUOUS, MASS_SHARE
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.value_codes import MIN_DISTINCT, MIN_ROWS, host_rows

END_SHARE = 0.05          # each bound holds >= 5 % of the values (a few saturated readings, a 3-sigma clip and
                          # winsorizing at the 5th / 95th percentiles hold at most that)
CENSORED_SHARE = MASS_SHARE   # ... both together >= a quarter of them: a large share of the readings gone
NEAR = 0.1                # the readings next to a bound: those within a tenth of the range from it
TAPER = 0.25              # ... hold >= a quarter of a flat density's share there (a normal clipped at +-1
                          # sigma holds 0.71 of it, at +-1.5 sigma 0.45; a tail thinning out towards a state
                          # of its own holds little)
READING_SLICE = 0.5       # an image-like input: >= half of each pile in slices that hold readings too
MAX_VALUES = 200_000      # values read of an image-like input (its first rows that hold at most this many)
LISTED = 5                # the columns named in a message


def cut_ends(v: torch.Tensor) -> dict | None:
    """The three marks of a column clipped at both ends (module docstring) on the finite values ``v``
    (1-D): ``{"low", "high", "low_share", "high_share", "near_low", "near_high", "distinct"}``
    (``near_*``: the readings' density next to each bound against a flat one's), or None."""
    n = v.numel()
    if n < MIN_ROWS:
        return None
    low, high = float(v.min()), float(v.max())
    low_share, high_share = float((v == low).double().mean()), float((v == high).double().mean())
    if min(low_share, high_share) < END_SHARE or low_share + high_share < CENSORED_SHARE:
        return None
    readings = v[(v > low) & (v < high)]
    distinct = int(torch.unique(readings).numel())
    if distinct < MIN_DISTINCT or distinct < CONTINUOUS * readings.numel():
        return None
    width = NEAR * (high - low)
    near_low = float((readings <= low + width).double().mean()) / NEAR
    near_high = float((readings >= high - width).double().mean()) / NEAR
    if min(near_low, near_high) < TAPER:
        return None
    return {"low": low, "high": high, "low_share": low_share, "high_share": high_share,
            "near_low": near_low, "near_high": near_high, "distinct": distinct}


def piles_beside_readings(x: torch.Tensor, low: float, high: float) -> bool:
    """Whether each bound's pile of the input ``x`` (N, ...) lies mostly in slices, along axis 1 and
    along the last axis, that hold readings too (module docstring)."""
    for axis in sorted({1, x.ndim - 1}):
        s = x.movedim(axis, 0).reshape(x.shape[axis], -1)
        at_low, at_high = (s == low).double().sum(1), (s == high).double().sum(1)
        reads = (s.shape[1] - at_low - at_high) >= END_SHARE * s.shape[1]
        for pile in (at_low, at_high):
            if float(pile[reads].sum()) < READING_SLICE * float(pile.sum()):
                return False
    return True


def find_censored(x: torch.Tensor) -> list[dict]:
    """The units of ``x`` (finite rows) clipped at both ends: of a table (N, D), one dict per column
    (``"column"`` its index); of an input of more dimensions, at most one (``"column": None``)."""
    if x.ndim == 2:
        lo, hi = x.min(0).values, x.max(0).values
        low_share, high_share = (x == lo).double().mean(0), (x == hi).double().mean(0)
        piled = (torch.minimum(low_share, high_share) >= END_SHARE) & (low_share + high_share >= CENSORED_SHARE)
        return [{"column": j, **cut} for j in piled.nonzero().flatten().tolist()
                if (cut := cut_ends(x[:, j])) is not None]
    per_row = x[0].numel()
    x = x[:max(1, MAX_VALUES // per_row)]
    cut = cut_ends(x.reshape(-1))
    if cut is None or not piles_beside_readings(x, cut["low"], cut["high"]):
        return []
    return [{"column": None, **cut}]


def check_censored(X) -> list[Finding]:
    """``uninformative_inputs`` (a warning) for inputs clipped through their readings at two bounds
    (see the module docstring)."""
    x = host_rows(X)
    if x is None or x.shape[0] < MIN_ROWS:
        return []
    found = find_censored(x)
    if not found:
        return []
    first = found[0]
    columns = [c["column"] for c in found if c["column"] is not None]
    if len(columns) > 1:
        where = f"input columns {columns[:LISTED]}{' ...' if len(columns) > LISTED else ''} are"
    else:
        where = f"input column {columns[0]} is" if columns else "the input values are"
    whose = f"column {first['column']}'s" if columns else "the"
    return [make(
        "uninformative_inputs",
        f"{where} cut off at two bounds: {100 * first['low_share']:.0f}% of {whose} values are exactly "
        f"{first['low']:.4g} and {100 * first['high_share']:.0f}% exactly {first['high']:.4g}, and the readings "
        f"between run up to both bounds at {first['near_low']:.2f} and {first['near_high']:.2f} of a flat density: "
        f"a clip through the readings (np.clip(X, 0, 1) after standardizing, an outlier clip at 1 standard "
        f"deviation) wrote each bound over every reading beyond it, so what lay there is gone (a proportion "
        f"with many rows at exactly 0 % and 100 % reads the same and is real)",
        evidence={"censored": found[:LISTED], "columns": columns, "rows_read": int(x.shape[0])},
        severity="warning", where="input values",
        fix="clip in the raw units, where the bound means something (pixels to [0, 1] before standardizing), "
            "or not at all (outliers: a robust scaler, or an indicator column for the rows beyond a limit); "
            "keep the raw value, a clipped reading cannot be restored")]
