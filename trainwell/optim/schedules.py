"""Learning-rate schedules: a schedule is a plain function ``step -> multiplier`` of the base lr.

    sched = warmup(cosine(total=900), steps=100)
    lr_at_step = base_lr * sched(step)          # step = optimizer steps done so far, from 0

Builders return callables (STYLE rule 2). ``ReduceOnPlateau`` is the one schedule with state: it
also has ``observe(metric)`` (once per epoch) and ``state_dict()/load_state_dict()``.

``SCHEDULES`` (config name -> builder) and ``SCHEDULE_OPTIONS`` (config name -> {option:
Option}) are the registries the config validator (``check_schedule_spec``) and docs/schedules.md
read; ``make_schedule`` builds a schedule from config, where options that are naturally counted in
epochs are given in epochs. Formulas and sources: docs/schedules.md.
"""
from __future__ import annotations

import math

import torch

from trainwell.errors import ConfigError
from trainwell.options import Option, check_options, did_you_mean, misspelt_key, must_be


def _check(name: str, key: str, value, ok: bool, allowed: str):
    if not ok:
        raise ConfigError(f"{name}: {key} = {value!r}: must be {allowed}")


# ------------------------------------------------------------------------------ stateless schedules
def constant():
    """m(t) = 1."""
    def schedule(step: int) -> float:
        return 1.0
    return schedule


def staircase(*, every: int, factor: float = 10.0):
    """m(t) = factor^-floor(t / every): divide the lr by ``factor`` every ``every`` steps.

    notes 003: "staircase decay: start from t0, divide it by a factor (e.g., 5 or 10) every L
    (say, 10) epochs"; notes 001: AlexNet "reduced by 10".
    """
    _check("staircase", "every", every, isinstance(every, int) and every >= 1, "an integer >= 1")
    _check("staircase", "factor", factor, factor >= 1, ">= 1 (it divides the lr; under 1 it would grow)")

    def schedule(step: int) -> float:
        return factor ** -(step // every)
    return schedule


def exponential(*, rate: float):
    """m(t) = exp(-rate·t) (notes 001, notes 003 "exponential decay t_k = α e^{-βk}", notes 004)."""
    _check("exponential", "rate", rate, rate >= 0, ">= 0")

    def schedule(step: int) -> float:
        return math.exp(-rate * step)
    return schedule


def inverse_time(*, k: float):
    """m(t) = 1 / (1 + k·t) (notes 003 "1/t decay t_k = α/(1+βk)", notes 004)."""
    _check("inverse_time", "k", k, k >= 0, ">= 0")

    def schedule(step: int) -> float:
        return 1.0 / (1.0 + k * step)
    return schedule


def inverse_sqrt(*, k: float):
    """m(t) = 1 / sqrt(1 + k·t) (notes 001 "1/sqrt(t) decay")."""
    _check("inverse_sqrt", "k", k, k >= 0, ">= 0")

    def schedule(step: int) -> float:
        return 1.0 / math.sqrt(1.0 + k * step)
    return schedule


def linear_decay(*, tau: int, final: float = 0.01):
    """m(t) = (1-α) + α·final with α = min(t/τ, 1); constant ``final`` after τ.

    notes 000: ε_k = (1-α)ε_0 + αε_τ, α = k/τ; "ε_τ should roughly be set to 1% of ε_0".
    """
    _check("linear_decay", "tau", tau, isinstance(tau, int) and tau >= 1, "an integer >= 1")
    _check("linear_decay", "final", final, final >= 0, ">= 0")

    def schedule(step: int) -> float:
        alpha = min(step / tau, 1.0)
        return (1.0 - alpha) + alpha * final
    return schedule


def _cosine(t: float, period: float, final: float) -> float:
    return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * t / period))


def cosine(*, total: int, final: float = 0.0):
    """m(t) = final + (1-final)·(1 + cos(π t/total))/2; ``final`` after ``total`` steps.

    Loshchilov & Hutter 2017 (SGDR without restarts); same values as CosineAnnealingLR.
    """
    _check("cosine", "total", total, isinstance(total, int) and total >= 1, "an integer >= 1")
    _check("cosine", "final", final, final >= 0, ">= 0")

    def schedule(step: int) -> float:
        return _cosine(min(step, total), total, final)
    return schedule


def one_cycle(*, total: int, pct_start: float = 0.3, div_factor: float = 25.0,
              final_div_factor: float = 1e4):
    """The 1cycle policy (Smith & Topin 2019), cosine annealing, base lr = the peak.

    From 1/div_factor up to 1 over the first ``pct_start·total - 1`` steps, then down to
    1/(div_factor·final_div_factor) at step ``total - 1``; it stays there afterwards. Defaults
    and step convention as torch.optim.lr_scheduler.OneCycleLR (which also cycles momentum;
    this schedule only scales the lr).
    """
    _check("one_cycle", "total", total, isinstance(total, int) and total >= 2, "an integer >= 2")
    _check("one_cycle", "pct_start", pct_start, 0 < pct_start < 1, "in (0, 1)")
    _check("one_cycle", "div_factor", div_factor, div_factor > 0, "> 0")
    _check("one_cycle", "final_div_factor", final_div_factor, final_div_factor > 0, "> 0")
    start, low = 1.0 / div_factor, 1.0 / (div_factor * final_div_factor)
    peak_step = float(pct_start * total) - 1.0
    end_step = float(total - 1)

    def anneal(a: float, b: float, pct: float) -> float:
        return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1.0)

    def schedule(step: int) -> float:
        if step <= peak_step:
            return anneal(start, 1.0, step / peak_step) if peak_step > 0 else 1.0
        return anneal(1.0, low, min((step - peak_step) / (end_step - peak_step), 1.0))
    return schedule


def cosine_restarts(*, period: int, mult: int = 2, final: float = 0.0):
    """SGDR (Loshchilov & Hutter 2017): cosine from 1 to ``final`` over a cycle, then restart at 1;
    cycle i lasts period·mult^i steps. Same values as CosineAnnealingWarmRestarts(T_0=period,
    T_mult=mult, eta_min=final·base_lr)."""
    _check("cosine_restarts", "period", period, isinstance(period, int) and period >= 1,
           "an integer >= 1")
    _check("cosine_restarts", "mult", mult, isinstance(mult, int) and mult >= 1, "an integer >= 1")
    _check("cosine_restarts", "final", final, final >= 0, ">= 0")

    def schedule(step: int) -> float:
        t, length = step, period
        if mult == 1:
            t %= period
        else:
            while t >= length:          # O(log t) iterations, integers only: exact at restarts
                t -= length
                length *= mult
        return _cosine(t, length, final)
    return schedule


# ------------------------------------------------------------------------------ composition
def warmup(inner, *, steps: int):
    """Linear warmup for ``steps`` steps, then ``inner`` on the shifted step.

    m(t) = inner(0)·(t+1)/steps for t < steps, and inner(t - steps) afterwards: the inner schedule
    starts when warmup ends and keeps its whole shape (give it ``total - steps`` as its length;
    ``make_schedule`` does). Goyal et al. 2017 (gradual warmup). A stateful inner schedule
    (``ReduceOnPlateau``) keeps its ``observe`` and ``state_dict``.
    """
    _check("warmup", "steps", steps, isinstance(steps, int) and steps >= 0, "an integer >= 0")
    if steps == 0:
        return inner
    if hasattr(inner, "observe"):
        return with_warmup(_StatefulWarmup(inner, steps), lambda new: warmup(inner, steps=new))

    def schedule(step: int) -> float:
        if step < steps:
            return inner(0) * (step + 1) / steps
        return inner(step - steps)
    return with_warmup(schedule, lambda new: warmup(inner, steps=new))


def with_warmup(schedule, rebuild):
    """``schedule`` with its ``with_warmup(steps)`` attribute: the same schedule with another warmup
    (``rebuild(steps)``). ``warmup`` sets it (the inner schedule unchanged); ``make_schedule``
    sets one that rebuilds the inner schedule over the run's steps after the new warmup. The
    babysitter's ``set_warmup`` control (train/controls.py) calls it."""
    schedule.with_warmup = rebuild
    return schedule


class _StatefulWarmup:
    """``warmup`` around a schedule with state (``observe``, ``state_dict``)."""

    def __init__(self, inner, steps: int):
        self.inner, self.steps = inner, steps

    def __call__(self, step: int) -> float:
        if step < self.steps:
            return self.inner(0) * (step + 1) / self.steps
        return self.inner(step - self.steps)

    def observe(self, value) -> None:
        self.inner.observe(value)

    def state_dict(self) -> dict:
        return self.inner.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.inner.load_state_dict(state)


def plateau_in(schedule):
    """The ``ReduceOnPlateau`` that drives ``schedule`` (itself, or the one inside a warmup's or
    SWA's wrapper: their ``inner``); None when the schedule has none (a stateless schedule, a
    continued run's segments)."""
    seen = 0
    while schedule is not None and seen < 8:      # wrappers nest a few deep at most
        if isinstance(schedule, ReduceOnPlateau):
            return schedule
        schedule, seen = getattr(schedule, "inner", None), seen + 1
    return None


def stretch(inner, *, factor: float):
    """``inner`` slowed down ``factor`` times: m(t) = inner(floor(t / factor)). A step schedule
    that divides the lr every epoch, stretched 10x, divides it every 10 epochs; a cosine over 100
    steps, stretched 3x, spans 300. For stateless schedules only (a plateau schedule's cuts follow
    the metric, not the step)."""
    _check("stretch", "factor", factor, factor > 0, "> 0")
    if hasattr(inner, "observe"):
        raise ConfigError("stretch: a schedule with state (plateau) follows the metric; it cannot be stretched")

    def schedule(step: int) -> float:
        return inner(int(step // factor))
    return schedule


SPENT_POINTS = 10_000   # spent_at evaluates at most this many evenly spaced steps (a sum of the multipliers)


def spent_at(schedule, total: int, *, share: float = 0.99) -> float:
    """The fraction of a ``total``-step run by which the schedule has given ``share`` of all the lr
    it gives over the run (the cumulative sum of its multipliers): 1.0 for a constant lr, about
    0.82 for a cosine to 0, 0.67 for a step schedule dividing by 10 at 1/3 and 2/3 of the run,
    0.05 for one dividing by 10 every epoch of a 40-epoch run. Evaluated without training; a
    schedule with state is read as it stands (a plateau schedule: constant until it observes)."""
    if total < 1:
        return 1.0
    stride = max(1, math.ceil(total / SPENT_POINTS))
    steps = range(0, total, stride)
    values = [max(float(schedule(t)), 0.0) for t in steps]
    whole = sum(values)
    if whole <= 0:
        return 0.0
    running = 0.0
    for t, v in zip(steps, values):
        running += v
        if running >= share * whole:
            return min(1.0, (t + stride) / total)
    return 1.0


def reached_at(schedule, total: int, *, level: float = 0.5) -> float:
    """The fraction of a ``total``-step run at which the schedule's multiplier first reaches
    ``level`` (of the configured lr), ``math.inf`` when it never does within the run: 0 for a
    constant lr or a cosine, 0.025 for a 5% linear warmup, about 0.15 for one-cycle (its peak at
    0.3 of the run); inf for a warmup longer than the run (5000 warmup steps of an 855-step run
    end at 17% of the lr). The mirror of ``spent_at``, evaluated without training at most
    ``SPENT_POINTS`` evenly spaced steps."""
    if total < 1:
        return 0.0
    stride = max(1, math.ceil(total / SPENT_POINTS))
    for t in range(0, total, stride):
        if float(schedule(t)) >= level:
            return t / total
    return math.inf


def negative_at(schedule, total: int) -> tuple[int, float] | None:
    """The first of a ``total``-step run's steps (evaluated at most ``SPENT_POINTS`` evenly spaced
    steps and the last) where the schedule's multiplier is negative or not finite, with that
    value; None where every multiplier read is a finite number >= 0. A negative lr climbs the loss
    (torch's optimizers refuse one when built; ``LambdaLR`` would apply it): ``cos(pi t / T)``
    written for ``(1 + cos(pi t / T)) / 2`` is negative over the run's second half."""
    if total < 1:
        return None
    stride = max(1, math.ceil(total / SPENT_POINTS))
    for t in [*range(0, total, stride), total - 1]:
        value = float(schedule(t))
        if not value >= 0.0 or math.isinf(value):      # NaN fails the comparison
            return t, value
    return None


FALL_TOLERANCE = 1e-9    # fallen_at: a multiplier within float round-off of the level has reached it


def fallen_at(schedule, total: int, *, level: float = 0.01) -> float:
    """The fraction of a ``total``-step run at which the schedule's multiplier first falls to
    ``level`` x its largest value so far or below (1.0 when it never does within the run): about
    0.94 for a cosine to 0 at 1 %, 0.9 for an exponential decay of 0.95 per epoch over 100 epochs,
    0.67 for a staircase dividing by 10 at 1/3 and 2/3 of the run; 0.02 for ``MultiStepLR``
    milestones meant as epochs (10, 13) stepped per batch of a 660-step run. What ``spent_at``
    misses: a long tail at a small lr still adds up to a share of the lr sum (the milestones
    example gives 99 % of it only at 0.98 of the run). A warmup's rise is not a fall (the largest
    value so far rises with it), nor is a start at 0 (a linear warmup's first step). Evaluated at most
    ``SPENT_POINTS`` evenly spaced steps."""
    if total < 1:
        return 1.0
    stride = max(1, math.ceil(total / SPENT_POINTS))
    peak = 0.0
    for t in range(0, total, stride):
        value = float(schedule(t))
        peak = max(peak, value)
        if peak > 0 and value <= level * peak * (1 + FALL_TOLERANCE):    # 0.1 ** 2 is 0.010000000000000002
            # (a warmup from 0 has not fallen at its first step: nothing has risen yet)
            return t / total
    return 1.0



def changes_between(schedule, start: int, end: int) -> bool:
    """Whether the lr ``schedule`` changes the multiplier with the step from ``start`` to ``end``:
    False for none, for a schedule with state (a plateau schedule: its cuts follow the metric, per
    epoch) and for a multiplier constant over those steps. Evaluated without training at most
    ``SPENT_POINTS`` evenly spaced steps."""
    if schedule is None or hasattr(schedule, "observe"):
        return False
    first = schedule(start)
    every = max(1, (end - start) // SPENT_POINTS)
    return any(schedule(t) != first for t in range(start + 1, max(end, start + 1), every))

# ------------------------------------------------------------------------------ with state
# A cut smaller than this is skipped (torch ReduceLROnPlateau's eps = 1e-8): near min_mult the
# multiplier would otherwise keep changing by float round-off.
PLATEAU_MIN_CHANGE = 1e-8


class ReduceOnPlateau:
    """Multiply the lr by ``factor`` when the monitored metric stops improving.

    ``observe(value)`` once per epoch with a validation metric; the multiplier is cut after more
    than ``patience`` epochs without an improvement larger than ``threshold`` (relative:
    better means ``value < best·(1-threshold)`` in mode "min", ``value > best·(1+threshold)``
    in mode "max"), then waits ``cooldown`` epochs before counting again, and never goes below
    ``min_mult``. Same rule as torch.optim.lr_scheduler.ReduceLROnPlateau (threshold_mode="rel").
    notes 003: "watch the validation error and decrease the LR when it stagnates"; notes 001:
    AlexNet's lr "reduced by 10 manually when val accuracy plateaus" (factor 0.1).
    """

    def __init__(self, *, factor: float = 0.1, patience: int = 10, mode: str = "min",
                 threshold: float = 1e-4, cooldown: int = 0, min_mult: float = 0.0):
        _check("plateau", "factor", factor, 0 < factor < 1, "in (0, 1)")
        _check("plateau", "patience", patience, isinstance(patience, int) and patience >= 0,
               "an integer >= 0")
        _check("plateau", "mode", mode, mode in ("min", "max"), '"min" or "max"')
        _check("plateau", "threshold", threshold, threshold >= 0, ">= 0")
        _check("plateau", "cooldown", cooldown, isinstance(cooldown, int) and cooldown >= 0,
               "an integer >= 0")
        _check("plateau", "min_mult", min_mult, 0 <= min_mult <= 1, "in [0, 1]")
        self.factor, self.patience, self.mode = factor, patience, mode
        self.threshold, self.cooldown, self.min_mult = threshold, cooldown, min_mult
        self.mult = 1.0
        self.best = None            # None: nothing observed yet (JSON has no infinity)
        self.bad_epochs = 0
        self.cooldown_left = 0

    def __call__(self, step: int) -> float:
        return self.mult

    def _improves(self, value: float) -> bool:
        if self.best is None:
            return not math.isnan(value)
        if self.mode == "min":
            return value < self.best * (1.0 - self.threshold)
        return value > self.best * (1.0 + self.threshold)

    def observe(self, value) -> None:
        """Feed one epoch's metric (a float or a 0-d tensor; NaN never counts as better)."""
        value = float(value)
        if self._improves(value):
            self.best, self.bad_epochs = value, 0
        else:
            self.bad_epochs += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.bad_epochs = 0
        if self.bad_epochs > self.patience:
            new = max(self.mult * self.factor, self.min_mult)
            if self.mult - new > PLATEAU_MIN_CHANGE:
                self.mult = new
            self.cooldown_left, self.bad_epochs = self.cooldown, 0

    def state_dict(self) -> dict:
        """JSON-serializable state: resuming from it continues exactly."""
        return {"mult": self.mult, "best": self.best, "bad_epochs": self.bad_epochs,
                "cooldown_left": self.cooldown_left}

    def load_state_dict(self, state: dict) -> None:
        missing = {"mult", "best", "bad_epochs", "cooldown_left"} - set(state)
        if missing:
            raise ConfigError(f"plateau schedule state: missing {sorted(missing)}")
        self.mult, self.best = float(state["mult"]), state["best"]
        self.bad_epochs, self.cooldown_left = int(state["bad_epochs"]), int(state["cooldown_left"])


# ------------------------------------------------------------------------------ registries
SCHEDULES = {
    "constant": constant,
    "step": staircase,
    "exponential": exponential,
    "inverse_time": inverse_time,
    "inverse_sqrt": inverse_sqrt,
    "linear": linear_decay,
    "cosine": cosine,
    "one_cycle": one_cycle,
    "cosine_restarts": cosine_restarts,
    "plateau": ReduceOnPlateau,
}

_AT_LEAST_ONE = must_be(lambda v: v >= 1, "an integer >= 1")
_NON_NEGATIVE = must_be(lambda v: v >= 0, "a number >= 0")
_POSITIVE = must_be(lambda v: v > 0, "a number > 0")


def _divisor(factor) -> str | None:
    """A step schedule divides the lr by its factor: one under 1 would multiply it (PyTorch's StepLR
    and the plateau schedule take the multiplier, ``gamma = 0.1``, the other way round)."""
    if factor >= 1:
        return None
    said = "must be a number >= 1: step divides the lr by its factor"
    if factor <= 0:
        return said
    return (f"{said}, so {factor:g} would multiply it by {1 / factor:g} every every_epochs (PyTorch's "
            f"StepLR gamma = {factor:g} is factor = {1 / factor:g})")


_FINAL = Option(float, 0.0, "multiplier at the end of the run", check=_NON_NEGATIVE,
                source="Loshchilov & Hutter 2017 (anneal to 0)")

# The options as given in a config (counted in epochs where natural); each Option's check is the
# range checked in config validation, before any data is loaded, and again by make_schedule. The
# builders check their own step-counted arguments.
SCHEDULE_OPTIONS = {
    "constant": {},
    "step": {
        "every_epochs": Option(int, 10, "divide the lr every this many epochs", source="notes 003: L = 10",
                               check=_AT_LEAST_ONE),
        "factor": Option(float, 10.0, "divide by this factor", source="notes 003: 5 or 10; notes 001: 10",
                         check=_divisor),
    },
    "exponential": {
        "rate_per_epoch": Option(float, 0.1, "m = exp(-rate·epochs): the lr falls by e every 1/rate epochs",
                                 check=_NON_NEGATIVE),
    },
    "inverse_time": {
        "k_per_epoch": Option(float, 1.0, "m = 1/(1 + k·epochs)", check=_NON_NEGATIVE),
    },
    "inverse_sqrt": {
        "k_per_epoch": Option(float, 1.0, "m = 1/sqrt(1 + k·epochs)", check=_NON_NEGATIVE),
    },
    "linear": {
        "decay_epochs": Option((int, type(None)), None, "τ in epochs: decay until then, constant after "
                               "(None: the whole run)", check=_AT_LEAST_ONE),
        "final": Option(float, 0.01, "multiplier reached at τ", source="notes 000: ε_τ ≈ 1% of ε_0",
                        check=_NON_NEGATIVE),
    },
    "cosine": {
        "final": _FINAL,
    },
    "one_cycle": {
        "pct_start": Option(float, 0.3, "fraction of the run spent rising to the peak",
                            source="Smith & Topin 2019; torch OneCycleLR",
                            check=must_be(lambda v: 0 < v < 1, "a number in (0, 1)")),
        "div_factor": Option(float, 25.0, "the run starts at peak/div_factor",
                             source="torch OneCycleLR", check=_POSITIVE),
        "final_div_factor": Option(float, 1e4, "the run ends at peak/(div_factor·final_div_factor)",
                                   source="torch OneCycleLR", check=_POSITIVE),
    },
    "cosine_restarts": {
        "period_epochs": Option(int, 10, "length of the first cycle in epochs (SGDR T_0)",
                                source="Loshchilov & Hutter 2017", check=_AT_LEAST_ONE),
        "mult": Option(int, 2, "each cycle is this many times longer than the one before (SGDR T_mult)",
                       source="Loshchilov & Hutter 2017", check=_AT_LEAST_ONE),
        "final": _FINAL._replace(doc="multiplier at the end of each cycle"),
    },
    "plateau": {
        "factor": Option(float, 0.1, "multiply the lr by this when the metric stagnates",
                         source="notes 001: /10", check=must_be(lambda v: 0 < v < 1, "a number in (0, 1)")),
        "patience": Option(int, 10, "epochs without improvement before cutting",
                           source="torch ReduceLROnPlateau", check=must_be(lambda v: v >= 0, "an integer >= 0")),
        "mode": Option(str, "min", "\"min\" for losses, \"max\" for accuracies",
                       check=must_be(lambda v: v in ("min", "max"), '"min" or "max"')),
        "threshold": Option(float, 1e-4, "relative improvement that counts", source="torch ReduceLROnPlateau",
                            check=_NON_NEGATIVE),
        "cooldown": Option(int, 0, "epochs to wait after a cut before counting again",
                           source="torch ReduceLROnPlateau", check=must_be(lambda v: v >= 0, "an integer >= 0")),
        "min_mult": Option(float, 0.0, "lower bound of the multiplier",
                           check=must_be(lambda v: 0 <= v <= 1, "a number in [0, 1]")),
    },
}


def schedule_options(name, options: dict, *, label: str = "{where}: {name}") -> dict:
    """The config options of schedule ``name``, checked (names, types, ranges) and with the
    defaults filled in. ``label`` names an option in an error (config validation passes
    ``"schedule.{name}"``, the key as the user wrote it)."""
    if not isinstance(name, str) or name not in SCHEDULE_OPTIONS:
        raise ConfigError(f"schedule = {name!r}: unknown{did_you_mean(name, SCHEDULES)}; "
                          f"allowed: {', '.join(SCHEDULES)}")
    return check_options(f"schedule {name!r}", options, SCHEDULE_OPTIONS[name], label=label)


def check_schedule_spec(spec) -> str | None:
    """Config validation of ``schedule``: a name or ``{name = ..., options}`` (a Python schedule
    function is not checked); errors name the options as ``schedule.<key>``."""
    options = {"name": spec} if isinstance(spec, str) else dict(spec)
    if "name" not in options:
        return "the table needs name = \"...\", one of: " + ", ".join(SCHEDULE_OPTIONS) + misspelt_key(options, "name")
    schedule_options(options.pop("name"), options, label="schedule.{name}")
    return None


def _to_steps(epochs: int, steps_per_epoch: int) -> int:
    return epochs * steps_per_epoch         # both integers >= 1 (checked): at least one step


# config options -> builder arguments (epochs converted to steps); total = steps after warmup
_FROM_CONFIG = {
    "constant": lambda o, total, spe: {},
    "step": lambda o, total, spe: {"every": _to_steps(o["every_epochs"], spe), "factor": o["factor"]},
    "exponential": lambda o, total, spe: {"rate": o["rate_per_epoch"] / spe},
    "inverse_time": lambda o, total, spe: {"k": o["k_per_epoch"] / spe},
    "inverse_sqrt": lambda o, total, spe: {"k": o["k_per_epoch"] / spe},
    "linear": lambda o, total, spe: {
        "tau": total if o["decay_epochs"] is None else _to_steps(o["decay_epochs"], spe),
        "final": o["final"]},
    "cosine": lambda o, total, spe: {"total": total, "final": o["final"]},
    "one_cycle": lambda o, total, spe: {"total": max(total, 2), "pct_start": o["pct_start"],
                                         "div_factor": o["div_factor"],
                                         "final_div_factor": o["final_div_factor"]},
    "cosine_restarts": lambda o, total, spe: {"period": _to_steps(o["period_epochs"], spe),
                                               "mult": o["mult"], "final": o["final"]},
    "plateau": lambda o, total, spe: dict(o),
}


def make_schedule(name: str, *, total_steps: int, steps_per_epoch: int, warmup_steps: int = 0,
                  **options):
    """The schedule called ``name`` in config, for a run of ``total_steps`` optimizer steps.

    Options counted in epochs (``every_epochs``, ``period_epochs``, ``decay_epochs``, rates per
    epoch) are converted with ``steps_per_epoch``. ``warmup_steps > 0`` wraps the schedule in
    ``warmup``, and the inner schedule then spans ``total_steps - warmup_steps`` steps.
    """
    resolved = schedule_options(name, options)
    for key, value in (("total_steps", total_steps), ("steps_per_epoch", steps_per_epoch)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"schedule {name!r}: {key} = {value!r}: must be an integer >= 1")
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise ConfigError(f"warmup_steps = {warmup_steps!r}: must be an integer >= 0")
    inner_total = max(total_steps - warmup_steps, 1)
    schedule = SCHEDULES[name](**_FROM_CONFIG[name](resolved, inner_total, steps_per_epoch))
    return with_warmup(warmup(schedule, steps=warmup_steps),
                       lambda new: make_schedule(name, total_steps=total_steps, steps_per_epoch=steps_per_epoch,
                                                 warmup_steps=new, **options))


def as_lambda_lr(optimizer: torch.optim.Optimizer, schedule) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` that drives ``optimizer`` with ``schedule``, for your own loop.

    Call ``scheduler.step()`` after each ``optimizer.step()``; the lr of step t (from 0) is then
    group_lr·lr_mult·schedule(t), where group_lr is each group's lr when this is called and
    lr_mult the group's ``"lr_mult"`` (1 when absent; set by ``trainwell.optim.param_groups``).
    A ``ReduceOnPlateau`` still needs its ``observe(metric)`` call once per epoch.
    """
    lambdas = [lambda step, g=group: group_lrs([1.0], [g], schedule, step)[0]
               for group in optimizer.param_groups]
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambdas)


def group_lrs(base_lrs, groups, schedule, step: int, scale: float = 1.0) -> list:
    """The learning rate of each parameter group at ``step``: base_lr · lr_mult · schedule(step)
    · scale (the babysitter's repair scale; 1 otherwise). The one formula the trainer, its
    controls, the babysitter and ``as_lambda_lr`` use."""
    mult = (schedule(step) if schedule is not None else 1.0) * scale
    return [base * group.get("lr_mult", 1.0) * mult for base, group in zip(base_lrs, groups)]
