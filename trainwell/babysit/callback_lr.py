"""Does a callback of the user's drive the lr above the configured lr? The lr course the user's
callbacks set, over the run's planned steps, before training.

Before each step the loop sets every parameter group's lr from the configured lr, the group's
multiplier and the schedule (``Trainer.lrs``), then runs the callbacks' ``on_before_step``: a
callback there can set any lr, and the step trains at what it leaves. The doctor's experiments train
at the configured lr and ``peak_check`` reads the schedule's course, so an lr a callback sets is
read by neither. A warmup written ``base * step / n`` with its ``min(1, .)`` left out (the
warmup's cap) raises the lr for the whole run: 18x the configured lr at the end of a 900-step run
with n = 50, where a setup stable at the configured lr can be past its edge of stability (gradient
descent on a quadratic is stable for lr < 2 / lambda_max, and networks train near that edge: Cohen
et al. 2021).

``course``: copies of the user's callbacks that define ``on_before_step`` run on the state of a
trainer ``fit`` builds for the run, as the loop runs them, at every planned step (at most ``POINTS``
evenly spaced steps, the last included): the groups' lr set to ``Trainer.lrs(step)``, the copies'
``on_epoch_start`` at an epoch's first step, their ``on_before_step``, and the first group's lr
read. Its ratio to the configured lr is the callbacks' multiplier at that step. Where the course's
largest multiplier is at least ``peak_check.PEAK_RATIO`` and the callbacks raised the lr there above
what the loop set, ``peak_check.experiment`` grades it as it grades a schedule's peak: a copy
trains at the configured lr (the snapshot), then ``PEAK_STEPS`` steps at the course's peak lr next
to as many at the configured lr. The peak diverges when its held loss is non-finite, above the run's
``divergence_factor`` x the untrained model's, or 10 % above the snapshot's (``rules.RISE``, the
monitor's rising loss) while the configured lr's does not rise, or 10 % above both the snapshot's
and the configured lr's arm's end (``rises_past_control``: the same batches at the configured lr
may drift up a little from the snapshot's optimizer state; the peak's rise past them is its own); then ``lr_too_high`` (a warning) names the callback, the course and the losses.
A peak that trains on is not reported (a cyclic lr of the user's is the user's choice). A callback
that raises on this state outside the loop's (it reads a metric only validation sets) is left out,
as in ``callback_check``.
"""
from __future__ import annotations

import bisect
import copy
import dataclasses
import math

import torch

from trainwell.babysit.callback_check import call_hook, copy_callback
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.peak_check import PEAK_RATIO, experiment
from trainwell.babysit.reset_watch import defines
from trainwell.babysit.rules import RISE
from trainwell.train.fit import make_trainer

CODE = "lr_too_high"
POINTS = 5_000      # the course is read at every step up to this many, evenly spaced beyond (a warmup's
                    # counter and the loop's step agree at every step; a Python call per callback each)
RAISED = 1.01       # the callbacks raised the lr at the peak: 1 % above the loop's own lr (float noise apart)
PART = "the callbacks' lr check (lr_too_high)"


class Course:
    """The callbacks' lr multiplier over the run's steps, as a schedule ``step -> multiplier``
    (the value read at the last step at or before ``step``)."""

    def __init__(self, steps: list, multipliers: list, loop: list):
        self.steps, self.multipliers, self.loop = steps, multipliers, loop

    def __call__(self, step: int) -> float:
        return self.multipliers[max(0, bisect.bisect_right(self.steps, step) - 1)]

    def at(self, step: int) -> tuple[float, float]:
        """``(callbacks' multiplier, the loop's own multiplier)`` at ``step``."""
        i = max(0, bisect.bisect_right(self.steps, step) - 1)
        return self.multipliers[i], self.loop[i]


def lr_callbacks(callbacks) -> list:
    """The callbacks that define ``on_before_step``, the hook whose lr the step trains at."""
    return [cb for cb in callbacks or [] if defines(cb, "on_before_step")]


def course(p, *, batch=None) -> tuple[Course, list] | None:
    """The callbacks' lr course over the run's planned steps and the copies it ran (None without
    a callback defining ``on_before_step``, or when one raises on the state: left out). ``p``: the
    doctor's Prepared (its model is not modified); ``batch``: ``state.batch`` for the hooks."""
    originals = lr_callbacks(p.config.callbacks)
    callbacks = [copy_callback(cb) for cb in originals]
    if not callbacks or any(cb is None for cb in callbacks):
        return None
    trainer = make_trainer(dataclasses.replace(p, model=copy.deepcopy(p.model)))
    state = trainer.state
    state.batch = batch
    # the configured lr of the first group (its lr_mult included): the loop's lr at multiplier 1
    base = trainer.base_lrs[0] * state.optimizer.param_groups[0].get("lr_mult", 1.0)
    if not base > 0:
        return None
    for cb in callbacks:
        if defines(cb, "on_fit_start") and not call_hook(cb.on_fit_start, state):
            return None
    total, per_epoch = state.total_steps, max(1, state.steps_per_epoch)
    stride = max(1, math.ceil(total / POINTS))
    steps = sorted(set(range(0, total, stride)) | {total - 1}) if total > 0 else []
    multipliers, loop = [], []
    for t in steps:
        state.step, state.epoch, state.batch_index = t, t // per_epoch, t % per_epoch
        lrs = trainer.lrs(t)
        for group, lr in zip(state.optimizer.param_groups, lrs):
            group["lr"] = lr
        state.lr = lrs[0]
        for cb in callbacks:
            if (t % per_epoch < stride and defines(cb, "on_epoch_start")
                    and not call_hook(cb.on_epoch_start, state)):
                return None
            if not call_hook(cb.on_before_step, state):
                return None
        multipliers.append(float(state.optimizer.param_groups[0]["lr"]) / base)
        loop.append(lrs[0] / base)
    return Course(steps, multipliers, loop), callbacks


def rises_past_control(r: dict) -> bool:
    """The peak arm ends ``RISE`` above the snapshot and ``RISE`` above the configured lr's arm:
    its rise is the peak lr's, beyond what the same batches do at the configured lr (peak_check's
    rule asks the control not to rise at all; on a setup whose held loss drifts up a little at the
    configured lr, from the snapshot's optimizer state, the control's own end is the reference)."""
    peak, snapshot, control = r["peak"], r["snapshot"], r["control"]
    return (math.isfinite(snapshot) and math.isfinite(control) and snapshot > 0 and control > 0
            and peak > RISE * snapshot and peak > RISE * control)


def check_callback_lr(p, X, y, loss_fn, *, lr: float, **kwargs) -> list[Finding]:
    """``lr_too_high`` (a warning) when the lr the user's callbacks set rises to ``PEAK_RATIO`` x
    the configured lr or more, above what the loop set, and that peak diverges from a snapshot
    trained at the configured lr (``peak_check.experiment``); ``[]`` otherwise. ``kwargs``:
    ``experiment``'s, ``total_steps`` and ``schedule`` excepted."""
    if not lr_callbacks(p.config.callbacks) or not torch.is_tensor(X):
        return []                       # the experiment trains on in-memory rows (streamed inputs: not graded)
    size = kwargs.get("batch_size", 64)
    found = course(p, batch=(X[:size], y[:size]))
    if found is None:
        return []
    lrs, callbacks = found
    at, top = max(zip(lrs.steps, lrs.multipliers), key=lambda s: (s[1], -s[0]))
    if not (math.isfinite(top) and top >= PEAK_RATIO and top >= RAISED * lrs.at(at)[1]):
        return []
    total = lrs.steps[-1] + 1
    r = experiment(p.model, X, y, loss_fn, schedule=lrs, total_steps=total, lr=lr, **kwargs)
    if r is None or not (r["diverges"] or rises_past_control(r)):
        return []
    names = ", ".join(f"{type(cb).__name__}.on_before_step" for cb in callbacks)
    marks = sorted({0, total // 4, total // 2, 3 * total // 4, total - 1})
    said = ", ".join(f"x{lrs(s):.3g} at step {s}" for s in marks)
    how = ("the held loss became non-finite" if not math.isfinite(r["peak"]) else
           f"the held loss rose to {r['peak']:.4g}, above {r['divergence_factor']:g}x the untrained model's "
           f"({r['start']:.4g})" if r["exploded"] else f"the held loss rose to {r['peak']:.4g}")
    message = (f"the lr the user's callbacks set before each step ({names}), read over the run's {total} steps as "
               f"the loop runs them, reaches {r['peak_lr']:.3g} at step {r['step']} ({r['multiplier']:.3g}x the "
               f"configured lr {r['lr']:.3g}; the loop set x{lrs.at(r['step'])[1]:.3g} there): {said}. A copy "
               f"trained {r['snapshot_steps']} steps at lr {r['lr']:.3g} (held loss {r['start']:.4g} -> "
               f"{r['snapshot']:.4g}), then {r['peak_steps']} steps at lr {r['peak_lr']:.3g}: {how}, where "
               f"{r['peak_steps']} more steps at lr {r['lr']:.3g} end at {r['control']:.4g}")
    fix = (f"keep the lr {names} sets at or below the configured lr (a warmup: base * min(1, step / n)), or "
           f"leave the warmup to trainwell (warmup_steps)")
    evidence = {"callback_peak": True, "callbacks": [type(cb).__name__ for cb in callbacks],
                "course": {str(s): lrs(s) for s in marks}, **r}
    return [make(CODE, message, evidence=evidence, severity="warning", where=names, fix=fix)]
