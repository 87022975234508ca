"""Coarse to fine (notes 000/004): each stage searches the ranges the previous stage pointed to.

"Search coarse to fine: first a wide range with few epochs, then a narrow range with more; if the
best value sits at the edge of the range, widen it, since the optimum may lie beyond." A stage is
``{trials, epochs}``; ``next_space`` turns a stage's ranked results into the next stage's ranges:

- every numeric range shrinks to the span of the stage's best trials (``top_count``), padded by
  ``MARGIN`` of that span on each side, on the range's own scale (log for a log range);
- when the best value lies in the outer ``EDGE`` of its range, that side is widened beyond the old
  edge instead (by half the new span), as far as the option accepts, and a message says so;
- a categorical parameter keeps the choices that appear among the best trials.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from trainwell.errors import ConfigError
from trainwell.hpsearch.space import LOG_RATIO, Param, value_problem

TOP_FRACTION = 0.2   # the best fifth of a stage's trials spans the next range (Bergstra &
MIN_TOP = 3          # Bengio 2012 narrow to the top few; at least 3 so one lucky trial is not all)
MARGIN = 0.25        # of the top trials' span, added each side (the optimum may lie just outside)
MIN_SPAN = 0.05      # the next range spans at least this share of the old one (on its scale)
EDGE = 0.10          # the issue: "when the best value lies in the outer 10 % of its range"
WIDEN = 0.5          # widened side: beyond the old edge by this share of the new span
WIDEN_TRIES = 4      # halve the extension this often while the option refuses the new edge
# The default plan when ``stages`` is unset (notes 000: "first stage: only a few epochs ...
# second stage: longer running time, finer search"): a coarse stage of COARSE_TRIALS of the trials
# at COARSE_EPOCHS of the epochs (the example runs 40 coarse trials and 15 fine ones; the
# 2-of-10 epochs were measured before this default on the tuning tasks, BENCHMARKS.md), then the
# rest at the full epochs. Fewer than MIN_STAGED trials, or a coarse stage as long as the full
# one, stay one stage.
COARSE_TRIALS = 2 / 3
COARSE_EPOCHS = 1 / 5
MIN_STAGED = 9           # 6 coarse trials (enough to narrow to a top 3) and 3 fine ones
MIN_COARSE = 6           # the fewest coarse trials of a plan sized from the space (``coarse_size``)
# ``lr_scan`` (notes 000/004: "start with small regularization and find the learning rate that makes
# the loss go down", then cross-validate the rest): lr alone on a log grid of SCAN_PER_DECADE points
# per decade of its range (a grid is fine in one dimension; Bergstra & Bengio 2012's case against
# grids is many) at SCAN_EPOCHS of the epochs, the other options at the config's values; then the
# rest of the trials at the full epochs in lr's range narrowed around the scan's best (the plan
# chosen by the rule of BENCHMARKS.md's eleventh pass of the default method, among three)
SCAN_KEY = "lr"
SCAN_PER_DECADE = 2
SCAN_EPOCHS = 1 / 10


@dataclass(frozen=True)
class Stage:
    """One stage of a coarse-to-fine search: ``trials`` trials of ``epochs`` epochs each (None:
    the config's ``epochs``)."""

    trials: int
    epochs: int | None = None
    scan: str | None = None      # a scan: this option alone on a grid of ``trials`` points (``lr_scan``)

    def to_dict(self) -> dict:
        return {"trials": self.trials, "epochs": self.epochs}


def scan_points(p: Param) -> int | None:
    """The points of ``lr_scan``'s grid over ``p`` (SCAN_PER_DECADE a decade, both edges), or None
    when ``p`` is not a log range of at least ``LOG_RATIO`` (two decades: a narrower range has no
    decade to find)."""
    if not (p.numeric and p.log and not p.integer) or p.high / p.low < LOG_RATIO:
        return None
    return round(SCAN_PER_DECADE * math.log10(p.high / p.low)) + 1


def default_stages(trials: int, epochs: int, *, dimension: int | None = None, coarse_size: int | None = None,
                   coarse_epochs: int | None = None, scan: Param | None = None) -> list[Stage]:
    """Coarse to fine when ``stages`` is unset (see ``COARSE_TRIALS``): ``trials`` in all.

    ``coarse_size`` m sizes the coarse stage from the space instead: m (d + 1) trials for a space
    of ``dimension`` d (at least ``MIN_COARSE``, at most the ``COARSE_TRIALS`` share). d + 1 points
    are the fewest that span a d-dimensional box (a simplex's vertices), and the next stage's
    ranges are the box around the coarse stage's best ``TOP_FRACTION``: with 5 (d + 1) trials that
    top fifth holds d + 1 of them. ``coarse_epochs``: the coarse trials' epochs (None:
    ``COARSE_EPOCHS`` of ``epochs``, at least 1).

    ``scan`` (``lr_scan``: the searched lr), without ``coarse_size``: a scan of ``scan_points``
    trials of ``coarse_epochs`` (None: ``SCAN_EPOCHS`` of ``epochs``, at least 1), then the rest
    at the full epochs, when the trials leave ``MIN_STAGED`` after the scan (else the plan
    without it)."""
    if trials < MIN_STAGED:
        return [Stage(trials)]
    points = scan_points(scan) if scan is not None and coarse_size is None else None
    scan_epochs = coarse_epochs or max(1, round(epochs * SCAN_EPOCHS))
    if points is not None and trials - points >= MIN_STAGED and scan_epochs < epochs:
        return [Stage(points, scan_epochs, scan=scan.key), Stage(trials - points)]
    coarse_epochs = coarse_epochs or max(1, round(epochs * COARSE_EPOCHS))
    if coarse_epochs >= epochs:
        return [Stage(trials)]
    coarse = round(trials * COARSE_TRIALS)
    if coarse_size is not None:
        coarse = min(coarse, max(MIN_COARSE, coarse_size * ((dimension or 1) + 1)))
    return [Stage(coarse, coarse_epochs), Stage(trials - coarse)]


def parse_stages(stages, trials, epochs: int, **sizing) -> list[Stage]:
    """``stages = [{trials = 40, epochs = 3}, {trials = 15}]``, or ``default_stages`` of
    ``trials`` trials of ``epochs`` epochs (``sizing``: its keyword options)."""
    if stages is None:
        return default_stages(trials, epochs, **sizing)
    if not isinstance(stages, list) or not stages:
        raise ConfigError("search.stages: must be a non-empty list of {trials = N, epochs = E} tables")
    out = []
    for i, stage in enumerate(stages):
        where = f"search.stages[{i}]"
        if not isinstance(stage, dict):
            raise ConfigError(f"{where} = {stage!r}: must be a table {{trials = N, epochs = E}}")
        unknown = sorted(set(stage) - {"trials", "epochs"})
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r}; allowed: epochs, trials")
        for key in ("trials", "epochs"):
            value = stage.get(key)
            if (key == "trials" or value is not None) and (
                    isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError(f"{where}.{key} = {value!r}: must be an integer >= 1")
        out.append(Stage(stage["trials"], stage.get("epochs")))
    return out


def top_count(n: int) -> int:
    return min(n, max(MIN_TOP, math.ceil(TOP_FRACTION * n)))


def next_space(space: dict[str, Param], ranked: list[dict], base: dict, *, keep: int = 0) -> tuple[dict, list[str]]:
    """The next stage's space from ``ranked`` (the stored parameters of a stage's finished trials,
    best first) and the messages about widened ranges. ``base`` (the run's options) is what a
    widened edge is checked with; the new ranges span at least the ``keep`` best trials (those
    the next stage re-evaluates: successive halving promotes more than the top fifth)."""
    if not ranked:
        return dict(space), ["no trial of the stage finished: the next stage keeps its ranges"]
    top = ranked[:max(top_count(len(ranked)), keep)]
    out, messages = {}, []
    for key, p in space.items():
        values = [t[key] for t in top if key in t]
        if not values:
            out[key] = p
        elif not p.numeric:
            out[key] = Param(key, choices=tuple(c for c in p.choices if c in values), as_json=p.as_json)
        else:
            out[key], message = _narrow(p, values, base, tuple(space))
            if message:
                messages.append(message)
    return out, messages


def _narrow(p: Param, values: list, base: dict, searched: tuple = ()) -> tuple[Param, str | None]:
    to = math.log if p.log else float
    back = math.exp if p.log else float
    lo, hi = to(p.low), to(p.high)
    scaled = [to(v) for v in values]
    best, width = scaled[0], hi - lo
    span = max(max(scaled) - min(scaled), MIN_SPAN * width)
    new_lo = max(lo, min(scaled) - MARGIN * span)
    new_hi = min(hi, max(scaled) + MARGIN * span)
    position = (best - lo) / width
    message = None
    if position >= 1 - EDGE:
        new_hi, message = _widen(p, values[0], new_hi, hi + WIDEN * (new_hi - new_lo), back, base, "top", searched)
    elif position <= EDGE:
        new_lo, message = _widen(p, values[0], new_lo, lo - WIDEN * (new_hi - new_lo), back, base, "bottom", searched)
    low, high = back(new_lo), back(new_hi)
    if p.integer:
        low, high = _align(p, low, high)
    narrowed = Param(p.key, low=low, high=high, log=p.log, step=p.step)
    if message:
        verb = "" if message.endswith("kept at") else ": widened to"
        message = f"{message}{verb} [{low:.3g}, {high:.3g}]"
    return narrowed, message


def _widen(p: Param, best, current: float, target: float, back, base: dict, side: str, searched: tuple = ()):
    """The farthest edge towards ``target`` (on the range's scale) the option accepts, and the
    message. An integer edge is first put on the range's step grid, outward."""
    shown = f"best {p.key} {best:.3g} is at the {side} of [{p.low:.3g}, {p.high:.3g}]"
    edge = p.high if side == "top" else p.low
    to = math.log if p.log else float
    for _ in range(WIDEN_TRIES):
        value = back(target)
        if p.integer:
            steps = (value - p.low) / p.step
            value = p.low + (math.ceil(steps) if side == "top" else math.floor(steps)) * p.step
        if value_problem(p.key, value, base, searched=searched) is None:
            return to(value), shown
        target = (target + to(edge)) / 2
    return current, f"{shown}, but {p.key} cannot go beyond {edge:g} (the option refuses it): kept at"


def _align(p: Param, low: float, high: float) -> tuple[int, int]:
    """An integer range on the step grid of the old one, at least one step wide."""
    step = p.step or 1
    low_i = p.low + math.floor((low - p.low) / step) * step
    high_i = low_i + max(step, math.ceil((high - low_i) / step) * step)
    return int(low_i), int(high_i)
