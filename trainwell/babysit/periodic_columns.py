"""A column whose targets oscillate with it: ``uninformative_inputs`` (a warning).

A time stamp fed as one number (epoch seconds, standardized) carries the hour of the day and the day of
the week only as its fast oscillations: over a year of rows, the daily cycle is 365 cycles of the
column's range. A net that receives the number must build a function with hundreds of turns from it,
the high-frequency kind networks learn last or never (Rahaman et al. 2019, "On the spectral bias of
neural networks"; Tancik et al. 2020, "Fourier features let networks learn high frequency functions":
the cure is to give the periodic parts as sin and cos). The same holds for any reading whose targets
depend on it periodically (an angle in many turns, a phase).

Measured per column of a table (at most ``MAX_COLUMNS`` columns) that reaches the entry layers as a number and takes distinct values on
at least ``DISTINCT`` of the rows (a continuous reading: a column on a grid of a few values aliases its
own low frequencies to the grid's), on at most ``ROWS`` training rows: the periodogram of the targets against
the column's values (Lomb 1976, Scargle 1982: the power of a sine at each frequency, for unevenly
spaced samples; taken by an FFT on a fine grid, ``periodogram``), normalized by the targets' variance, on frequencies from one
cycle over the column's range to half as many cycles as rows (the mean spacing's Nyquist rate),
oversampled ``OVERSAMPLE`` times; regression targets per column, class ids per class (its indicator).
It fires where the strongest frequency of the column lies at ``CYCLES`` or more cycles over its range
(the column's main relation to the targets is a fast oscillation, not a smooth trend with harmonics:
a step or a narrow bump spreads its power over all frequencies, with the most at the lowest) and is
significant: its false-alarm probability over all the frequencies read, W e^{-z} sqrt(z) with
W = f_max sqrt(4 pi var x) (Baluev 2008, "Assessing the statistical significance of periodogram
peaks"; z is exponential at each frequency under the null of noise, Scargle 1982; the naive count of
n / 2 independent frequencies underestimates the maximum over an unevenly sampled grid by ~3x), is
below ``first_layer.ALPHA`` over the columns and target signals read, and the cycle *repeats*: its
frequency's power on each half of the column's range alone (the rows below and above its median) has a
single-frequency false-alarm probability e^{-z} under ``first_layer.ALPHA`` (a period holds over the
whole range; a peak noise assembled from both halves stands in neither). A column with a gap wider than
``MAX_GAP`` of its range between neighbouring values is not read (a missing-value code or an outlier
far from the rest: frequencies counted over such a range squeeze a smooth relation into a sliver).

**A phase given by its sine alone** (``lone_phase``, the same code and severity): the cure above, done
by half. ``sin(2 pi h / 24)`` without ``cos(2 pi h / 24)`` maps two phases to each value (h and 12 - h:
the morning rush at 7-9 reads as the night at 3-5), and a cosine alone maps h and 24 - h; the pair is
one-to-one because it is a point on the circle, either coordinate alone is its projection (Tancik et
al. 2020 feed both; scikit-learn's "Time-related feature engineering" example builds the pair). A phase
counted in whole steps (hours, months, degrees on a grid) leaves the mark exactly: a column of
``MIN_PHASE_VALUES`` to ``MAX_PHASE_VALUES`` distinct values that, scaled to [-1, 1] by its ends, are
the sines of equally spaced angles from -90 to 90 degrees (arcsin of each within ``PHASE_TOLERANCE``
radians of that grid: a standardization after the sine is a scale and a shift, undone by the ends),
which is the sine of a period of 2 (m - 1) whole steps with every value between the ends standing for
two of them (an odd period's sines, 7 weekdays, hit no pair and miss the grid; values equally spaced
miss it too). What tells a healthy encoding apart is the symmetric partner: a column whose values,
scaled by their ends alike, square to 1 with it on every row (the cosine beside the sine) leaves the
pair quiet. And the fold must cost something: the targets relate to the column's values (class ids: a
chi-square test of independence; a regression: a one-way ANOVA F, at ``first_layer.ALPHA`` over the
columns read), else the phase carries nothing to lose. Not found: a phase of real values (minutes
within the hour), whose sines fill the range and lie on no grid.
"""
from __future__ import annotations

import contextlib
import copy
import math

import torch

from trainwell.babysit.findings import Finding, make

ROWS = 4000               # the training rows read (~2,000 frequencies of a year's daily cycle at half as many cycles)
DISTINCT = 0.9            # a continuous column: distinct values on at least 90 % of the rows
CYCLES = 10               # a fast oscillation: 10 or more cycles over the column's range (20 turns a net
                          # fed the number must build; spectral bias: learned last)
OVERSAMPLE = 5            # frequencies per independent frequency (1 / range): the peaks' width (VanderPlas 2018)
MAX_GAP = 0.1             # a column fills its range: no gap between neighbouring values over a tenth of it
CELLS = 4                 # grid cells per row for the periodogram's FFT (see ``periodogram``): a sample moves by
                          # at most 1 / 16 of the fastest cycle, its power by at most 1 - cos(pi / 8)^2 = 15 %
MAX_CLASSES = 10          # class ids: the indicators of at most the 10 commonest classes are read
MIN_ROWS = 200            # fewer rows: too few for a periodogram of many frequencies
MAX_COLUMNS = 64          # wider inputs (spectra, flattened signals) are not read: at most 64 x MAX_CLASSES
                          # periodograms, ~5 ms each at ROWS rows on one CPU core
MIN_PHASE_VALUES = 5      # a phase grid's column: 5 values at least (4 would be the sine of a period of 6, whose
                          # grid -1, -0.5, 0.5, 1 a coded column can hold; 5 values on the sine grid -1, -0.71, 0,
                          # 0.71, 1 are no code's) ...
MAX_PHASE_VALUES = 64     # ... and at most 64 (a period of 126 steps; finer: a real phase)
SAME_VALUE = 1e-6         # values of a column within 1e-6 of its range are one level: sin(5 pi / 12) and
                          # sin(7 pi / 12) differ in their last bits (float32: ~1e-7 of the range)
PHASE_TOLERANCE = 1e-3    # radians between a value's arcsin and the grid's angle (float32 rounding of a standardized
                          # sine moves the arcsin by < 1e-5 off the ends; the ends are exact by the scaling)


_remembered: dict | None = None      # inside ``remembered()``: {reading's name: (what was read, what it found)}


@contextlib.contextmanager
def remembered():
    """Within the block, a reading of the rows alone (``check_periodic``'s periodograms,
    ``first_layer.check_category_ids``' per-value profiles) on the same rows, targets and columns as
    the last one of its name returns that one's findings (copies) instead of reading them again: the
    repairer's re-check after a change of the model, which changes what reaches the entry layers at
    most, reads the same rows."""
    global _remembered
    outer, _remembered = _remembered, {}
    try:
        yield
    finally:
        _remembered = outer


def _same(seen: tuple, read: tuple) -> bool:
    """Whether two readings' inputs are equal: tensors by dtype, shape and value, the rest by ``==``."""
    return len(seen) == len(read) and all(
        torch.is_tensor(b) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
        if torch.is_tensor(a) else not torch.is_tensor(b) and a == b for a, b in zip(seen, read))


def recall(name: str, read: tuple) -> list | None:
    """Inside ``remembered()``, the findings (a copy) of the last reading called ``name`` when it
    read the same ``read``; else None."""
    seen = (_remembered or {}).get(name)
    if seen is None or not _same(seen[0], read):
        return None
    return copy.deepcopy(seen[1])


def remember(name: str, read: tuple, found: list) -> None:
    """Inside ``remembered()``, keep what the reading ``name`` found on ``read`` (copies of both: a
    caller's later edit of its rows or of the findings does not reach them); outside it, nothing."""
    if _remembered is not None:
        _remembered[name] = (tuple(r.clone() if torch.is_tensor(r) else r for r in read), copy.deepcopy(found))


def _signals(t: torch.Tensor, class_ids: bool) -> list[torch.Tensor]:
    """The target signals read: each regression target column, or each common class's indicator."""
    if class_ids:
        ids, counts = torch.unique(t.reshape(-1), return_counts=True)
        if ids.numel() < 2:
            return []
        top = ids[counts.argsort(descending=True)][:MAX_CLASSES if ids.numel() > 2 else 1]
        return [(t.reshape(-1) == c).double() for c in top]
    return [t.double().reshape(t.shape[0], -1)[:, k] for k in range(t.reshape(t.shape[0], -1).shape[1])]


def periodogram(x: torch.Tensor, s: torch.Tensor) -> tuple:
    """The power of the signal ``s`` against the sample positions ``x`` on cycles 1 .. len(x) / 2
    over ``x``'s range (``OVERSAMPLE`` per cycle), normalized so that it is exponential(1) at each
    frequency when ``s`` is noise: (cycles, power). The classical periodogram |sum s e^{-i w x}|^2 /
    (n var s) of the centred signal (Scargle 1982's normalization; Lomb-Scargle's phase term changes
    little on unevenly spread positions), with the sum taken by an FFT of the signal gathered on a
    grid of ``CELLS`` cells per row over the range (Press & Rybicki 1989 extirpolate onto a grid the
    same way): a cycle of the highest frequency spans at least 2 ``CELLS`` cells, so the grid moves
    no sample by more than 1 / (4 ``CELLS``) of a cycle. ``s`` of shape (k, n): k signals against the
    same positions, one FFT of the k grids (power of shape (k, frequencies)); a constant signal's
    power is zero."""
    n = x.numel()
    span = float(x.max() - x.min())
    s = s.double()
    s = s - s.mean(dim=-1, keepdim=True)
    var = s.var(dim=-1, unbiased=False, keepdim=True)
    top = n // 2 * OVERSAMPLE
    cycles = torch.arange(OVERSAMPLE, top + 1, dtype=torch.float64) / OVERSAMPLE
    if span <= 0:
        return cycles, torch.zeros(*s.shape[:-1], cycles.numel(), dtype=torch.float64)
    cells = CELLS * n
    where = ((x - x.min()) / span * cells).long().clamp_(max=cells - 1)
    grid = torch.zeros(*s.shape[:-1], cells * OVERSAMPLE, dtype=torch.float64).index_add_(-1, where, s)
    spectrum = torch.fft.rfft(grid, dim=-1)[..., OVERSAMPLE:top + 1]      # only the frequencies read
    return cycles, torch.where(var > 0, spectrum.abs() ** 2 / (n * var.clamp_min(1e-300)), 0.0)


def false_alarm(z: float, x: torch.Tensor, top_cycles: float) -> float:
    """The probability that noise gives some frequency up to ``top_cycles`` over ``x``'s range a
    power of ``z`` or more: Baluev 2008's bound, W e^{-z} sqrt(z), W = f_max sqrt(4 pi var x) (f_max
    in cycles per unit of x); capped at 1."""
    width = top_cycles / float(x.max() - x.min()) * math.sqrt(4 * math.pi * float(x.var()))
    return min(1.0, width * math.exp(-z) * math.sqrt(z))


def spread_out(x: torch.Tensor) -> bool:
    """Whether ``x``'s values fill their range: no gap between neighbouring values wider than
    ``MAX_GAP`` of it (a missing-value code or an outlier far from the rest makes the range the
    gap's, and a smooth relation on the values squeezed into a sliver of it reads as fast)."""
    v = torch.sort(x)[0]
    span = float(v[-1] - v[0])
    return span > 0 and float((v[1:] - v[:-1]).max()) <= MAX_GAP * span


def repeats(x: torch.Tensor, s: torch.Tensor, cycles: float, *, alpha: float) -> bool:
    """Whether the cycle of ``cycles`` over ``x``'s range shows on each half of it alone: the power
    at that one frequency on the rows below and above ``x``'s median, each with a single-frequency
    false-alarm probability e^{-z} under ``alpha``. A period repeats over the column's
    range; a peak that noise put together from both halves does not stand in either."""
    omega = 2 * math.pi * cycles / float(x.max() - x.min())
    middle = x.median()
    for half in (x <= middle, x > middle):
        sh = s[half] - s[half].mean()
        var = float(sh.var(unbiased=False))
        if var <= 0:
            return False
        phase = omega * x[half]
        z = float((sh * torch.cos(phase)).sum() ** 2 + (sh * torch.sin(phase)).sum() ** 2) / (int(half.sum()) * var)
        if math.exp(-z) >= alpha:
            return False
    return True


def check_periodic(X, y, *, class_ids: bool, entries: dict | None, alpha: float, numeric: float) -> list[Finding]:
    """``uninformative_inputs`` (a warning) for a column whose targets oscillate with it fast (see
    the module docstring). ``entries``: ``first_layer.entry_layers`` on the first rows of ``X``
    (None: not checkable); ``alpha``: the chance of a false alarm per setup (``first_layer.ALPHA``);
    ``numeric``: the share of rows with a gradient that makes a column reach the entry layers as a
    number (``first_layer.NUMERIC``)."""
    if entries is None or X.dim() != 2 or X.shape[0] < MIN_ROWS or X.shape[1] > MAX_COLUMNS:
        return []
    n = min(X.shape[0], ROWS)
    x, t = X[:n].detach().cpu().double(), y[:n].detach().cpu()
    reaches = (~entries["ignored"]).double().mean(0) >= numeric
    ordered = x.sort(0).values
    distinct = 1 + (ordered[1:] != ordered[:-1]).sum(0)     # each column's distinct values, in one sort
    finite = torch.isfinite(x).all(0)
    columns = [j for j in range(x.shape[1]) if bool(reaches[j])
               and int(distinct[j]) >= DISTINCT * n and bool(finite[j]) and spread_out(x[:, j])]
    read = (x, t, class_ids, tuple(columns), alpha)
    found = recall("periodic", read)
    if found is None:
        found = _periodic(x, t, columns, class_ids=class_ids, alpha=alpha)
        remember("periodic", read, found)
    if found:
        return found
    grids = [j for j in range(x.shape[1]) if bool(reaches[j]) and bool(finite[j])   # a level: 2 values at most
             and MIN_PHASE_VALUES <= int(distinct[j]) <= 2 * MAX_PHASE_VALUES]
    return lone_phase(x, t, grids, class_ids=class_ids, alpha=alpha)


def scaled_by_ends(v: torch.Tensor) -> torch.Tensor:
    """``v`` (float64) mapped onto [-1, 1] by its smallest and largest value (a scale and a shift)."""
    lo, hi = v.min(), v.max()
    return ((2 * v - (lo + hi)) / (hi - lo)).clamp(-1.0, 1.0) if hi > lo else torch.zeros_like(v)


def levels(column: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The column's levels (its sorted values, those within ``SAME_VALUE`` of its range of the one
    below merged into it) and each row's level index."""
    values, inverse = torch.unique(column.double(), return_inverse=True)
    gap = values[1:] - values[:-1]
    new = torch.cat([torch.ones(1, dtype=torch.bool), gap > SAME_VALUE * float(values[-1] - values[0])])
    index = torch.cumsum(new.long(), 0) - 1
    return values[new], index[inverse]


def phase_period(column: torch.Tensor) -> int | None:
    """The period in whole steps (2 (m - 1)) when the m levels of ``column`` (``levels``), scaled by
    their ends to [-1, 1], are the sines of m equally spaced angles from -pi / 2 to pi / 2 (each arcsin
    within ``PHASE_TOLERANCE``), ``MIN_PHASE_VALUES`` to ``MAX_PHASE_VALUES`` of them: the sine (or
    cosine) of a phase counted in whole steps; else None."""
    values = levels(column)[0]
    m = values.numel()
    if not MIN_PHASE_VALUES <= m <= MAX_PHASE_VALUES:
        return None
    angles = torch.asin(scaled_by_ends(values))
    grid = -math.pi / 2 + math.pi / (m - 1) * torch.arange(m, dtype=torch.float64)
    return 2 * (m - 1) if float((angles - grid).abs().max()) <= PHASE_TOLERANCE else None


def partner(x: torch.Tensor, j: int) -> int | None:
    """A column of ``x`` other than ``j`` that, scaled by its ends as ``j`` is, squares to 1 with it on
    every row (within ``PHASE_TOLERANCE``): the cosine beside a sine."""
    u = scaled_by_ends(x[:, j]) ** 2
    for k in range(x.shape[1]):
        if k != j and float((u + scaled_by_ends(x[:, k]) ** 2 - 1).abs().max()) <= PHASE_TOLERANCE:
            return k
    return None


def relation_p(column: torch.Tensor, t: torch.Tensor, *, class_ids: bool) -> float:
    """The p-value of the targets' relation to the column's values: class ids, a chi-square test of
    independence of the values and the classes; a regression (its first target column), a one-way
    ANOVA F across the values."""
    from scipy import stats
    level = levels(column)[1]
    if class_ids:
        _, label = torch.unique(t.reshape(-1), return_inverse=True)
        table = torch.zeros(int(level.max()) + 1, int(label.max()) + 1, dtype=torch.float64)
        table.index_put_((level, label), torch.ones_like(level, dtype=torch.float64), accumulate=True)
        return float(stats.chi2_contingency(table.numpy())[1]) if min(table.shape) > 1 else 1.0
    target = t.double().reshape(t.shape[0], -1)[:, 0]
    groups = [target[level == g].numpy() for g in range(int(level.max()) + 1)]
    return float(stats.f_oneway(*groups).pvalue) if all(len(g) > 1 for g in groups) else 1.0


def lone_phase(x, t, columns: list, *, class_ids: bool, alpha: float) -> list[Finding]:
    """``uninformative_inputs`` (a warning) for a column among ``columns`` that is the sine (or the
    cosine) of a phase counted in whole steps (``phase_period``) with no partner column (``partner``)
    and targets related to its values (``relation_p`` under ``alpha`` over the columns read): see the
    module docstring."""
    for j in columns:
        period = phase_period(x[:, j])
        if period is None or partner(x, j) is not None:
            continue
        p = relation_p(x[:, j], t, class_ids=class_ids)
        if p >= alpha / len(columns):
            continue
        m = period // 2 + 1
        return [make(
            "uninformative_inputs",
            f"input column {j} is the sine (or the cosine) of a phase counted in {period} whole steps a period "
            f"(its {m} values, scaled by their ends, are the sines of equally spaced angles from -90 to 90 degrees) "
            f"and no column holds its partner (none squares to 1 with it on every row): each of its {m - 2} values "
            f"between the ends stands for two phases (h and {period // 2} - h: with hours of a day, 7 and 5), and the "
            f"targets depend on the column (p = {p:.2g}), so what tells the two apart never reaches the model",
            evidence={"column": j, "period": period, "values": m, "partner": None, "relation_p": p,
                      "p_threshold": alpha / len(columns), "rows": int(x.shape[0])},
            where=f"input column {j}", severity="warning",
            fix="give the phase as the pair sin(2 pi h / P) and cos(2 pi h / P), or one-hot the phase's steps, "
                "instead of one of the two")]
    return []


def _periodic(x, t, columns: list, *, class_ids: bool, alpha: float) -> list[Finding]:
    """``check_periodic``'s finding on the ``columns`` of ``x`` that reach the entry layers."""
    n = x.shape[0]
    signals = _signals(t, class_ids) if columns else []
    if not signals:
        return []
    bound = alpha / (len(columns) * len(signals))
    best = None
    for j in columns:
        cycles, powers = periodogram(x[:, j], torch.stack(signals))    # every signal's in one FFT
        for k, (s, power) in enumerate(zip(signals, powers)):
            top = int(power.argmax())
            z = float(power[top])
            fap = false_alarm(z, x[:, j], float(cycles[-1]))
            if float(cycles[top]) >= CYCLES and fap < bound and (best is None or z > best["z"]) \
                    and repeats(x[:, j], s, float(cycles[top]), alpha=alpha):
                best = {"column": j, "signal": k, "cycles": float(cycles[top]), "z": z, "fap": fap}
    if best is None:
        return []
    j = best["column"]
    return [make(
        "uninformative_inputs",
        f"the targets oscillate with input column {j}: its strongest relation to them is a cycle "
        f"{best['cycles']:.0f} times over the column's range (periodogram power {best['z']:.1f}, false-alarm "
        f"probability {best['fap']:.2g} over the frequencies read), and the model receives the column as one "
        f"number: it must build a function with {2 * best['cycles']:.0f} turns from it, which nets learn last "
        f"(spectral bias); a time stamp fed as one number carries its hour of the day or day of the week so",
        evidence={"column": j, "cycles": best["cycles"], "power": best["z"], "false_alarm_probability": best["fap"],
                  "p_threshold": bound, "columns_read": columns, "rows": n},
        where=f"input column {j}", severity="warning",
        fix="give the periodic parts as features: for a time stamp, the hour of the day and the day of the week "
            "as sin / cos pairs (sin(2 pi h / 24), cos(2 pi h / 24)), instead of the raw number")]
