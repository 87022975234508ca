"""The end of a watched run that its own stop ended while the monitored metric still improved.

``StopWatch`` is one of the babysitter's callbacks (train/parts.babysit_callbacks, watch and repair
mode, after the monitor and the repairer). When early stopping, or ``max_steps`` before the run's
epochs, ended the run, ``still_improving`` fits a least-squares line to the monitored metric's last
epochs; a slope that improves it beyond the noise and by a material amount is a ``stops_too_soon``
warning in the monitor's diagnosis. The doctor's check of the same fault, which runs the run with
and without its stop, is stopping.py; this module holds what both need and nothing that imports the
trainer (which imports this callback).
"""
from __future__ import annotations

import math

from trainwell.babysit import interventions
from trainwell.babysit.findings import make
from trainwell.train.callbacks import Callback
from trainwell.train.metrics import monitor_mode
from trainwell.train.state import StopKind

CODE = "stops_too_soon"
MAX_STEPS = "max_steps"
EARLY = "early stopping"
CALLBACK = "a callback's stop"
TREND_EPOCHS = 5    # the trend is fitted to the monitored metric's last 5 epochs (patience + 1 when longer) ...
MIN_EPOCHS = 4      # ... and judged with at least 4 of them (a line through 3 points has one degree of freedom)


def still_improving(history: list, *, monitor: str, patience: int | None = None) -> dict | None:
    """The trend test over the last epochs of a run's ``monitor`` (``history``: one dict per epoch):
    a least-squares line through the last ``TREND_EPOCHS`` values (``patience`` + 1 when longer) whose
    slope improves the metric beyond ``interventions.SAMPLING_Z`` standard errors, and by at least
    ``interventions.MIN_GAIN`` of the first epoch's value (a loss) or ``interventions.MIN_LIFT`` (an
    accuracy) over the window. With ``patience``, the stop's own epochs must also have improved on the
    epoch before them (by less than the run's ``min_delta``): an early stop with nothing improved is a metric
    that stopped improving. None when not improving; else the slope, its t statistic and the values."""
    values = [m.get(monitor) for m in history]
    if any(v is None or not math.isfinite(v) for v in values):
        return None
    sign = 1.0 if monitor_mode(monitor) == "max" else -1.0     # the direction of an improvement
    window = values[-max(TREND_EPOCHS, (patience or 0) + 1):]
    n = len(window)
    if n < MIN_EPOCHS:
        return None
    if patience is not None and not max(sign * v for v in window[-patience:]) > sign * window[-patience - 1]:
        return None
    xs = list(range(n))
    mx, my = sum(xs) / n, sum(window) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, window)) / sxx
    residual = sum((y - my - slope * (x - mx)) ** 2 for x, y in zip(xs, window))
    se = math.sqrt(residual / (n - 2) / sxx)
    t = math.inf if se == 0 else sign * slope / se
    gained = sign * slope * (n - 1)
    needed = interventions.MIN_LIFT if sign > 0 else interventions.MIN_GAIN * abs(values[0])
    if t <= interventions.SAMPLING_Z or gained < needed:
        return None
    return {"slope": slope, "t": t, "window": [round(v, 6) for v in window], "gained": gained}


class StopWatch(Callback):
    """At the end of a watched run that its own stop ended (early stopping, or ``max_steps`` before its
    epochs), the trend test on the monitored metric (``still_improving``): a ``stops_too_soon``
    warning in the monitor's diagnosis when the metric was still improving. Runs after the monitor
    and the repairer, whose summary of the findings it brings up to date."""

    def __init__(self, monitor):
        self.monitor = monitor

    def on_fit_end(self, state):
        config, stop = state.config, state.stop
        early = stop is not None and stop.kind is StopKind.EARLY_STOPPING
        limited = (stop is not None and stop.kind is StopKind.FINISHED and config.max_steps is not None
                   and state.step >= config.max_steps and state.epoch < config.epochs)
        if not (early or limited):
            return
        trend = still_improving(state.history, monitor=config.monitor, patience=config.patience if early else None)
        if trend is None:
            return
        what = (f"early stopping (patience {config.patience}, min_delta {config.min_delta:g})" if early
                else f"max_steps = {config.max_steps}")
        values = ", ".join(f"{v:.4g}" for v in trend["window"])
        finding = make(CODE, f"{what} ended the run at epoch {state.epoch} of {config.epochs} (step {state.step}) "
                             f"while {config.monitor} was still improving: {values} over its last epochs, "
                             f"{abs(trend['slope']):.3g} an epoch (t = {trend['t']:.1f})",
                       evidence={"stop": EARLY if early else MAX_STEPS, "stopped_at": state.step, "step": state.step,
                                 **trend},
                       fix=fix_for(EARLY if early else MAX_STEPS, config, state.steps_per_epoch))
        if self.monitor.diagnosis.add(finding):
            state.extras.setdefault("babysit", {})["findings"] = [f.to_dict() for f in self.monitor.findings]


def fix_for(kind: str, config, per_epoch: int) -> str:
    """The fix in the run's own numbers: ``kind`` is ``MAX_STEPS``, ``EARLY`` or ``CALLBACK``."""
    if kind == CALLBACK:
        return ("the callback's stopping rule on this problem's scale: a loss threshold from another problem (a "
                "regression's MSE, another number of classes) can be reached at once (a k-class cross-entropy "
                "starts at ln k); stop on validation instead (patience, min_delta) or drop the rule")
    if kind == MAX_STEPS:
        return (f"max_steps counts optimizer steps, not epochs ({per_epoch} steps an epoch): raise it "
                f"(max_steps = {config.max_steps * per_epoch} for {config.max_steps} epochs) or drop it and set epochs")
    return (f"min_delta is on {config.monitor}'s own scale (an absolute change, not a fraction): a min_delta "
            f"below its epoch-to-epoch changes (0, or about 1e-3 of its value), or a longer patience")
