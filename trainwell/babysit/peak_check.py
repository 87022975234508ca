"""Does the lr the schedule reaches later in the run diverge? The schedule over the whole run, before training.

The doctor's experiments train at the configured lr (the schedule's multiplier 1: the peak of every
schedule trainwell builds, whose warmups rise to it and whose decays fall from it) and its probe at
the first few percent of the run's course. A schedule whose multiplier rises above 1 later (a
user's schedule function, a cyclic one of the user's with a peak above the base lr, a factor read
the other way round) takes the run to an lr nothing before training tried: a setup stable at lr
can be past its edge at 2 x lr (gradient descent on a quadratic is stable for lr < 2 / lambda_max,
and networks train near that edge: Cohen et al. 2021, "Gradient descent on neural networks typically
occurs at the edge of stability"), so a run that is fine for its first epochs can blow up, or undo
what it learned, when the lr rises.

``peak(schedule, total)`` evaluates the multiplier at every step of the planned run (at most
``POINTS`` evenly spaced steps, the last included) without training, and returns the step and the
multiplier of its maximum. A schedule whose maximum is at least ``PEAK_RATIO`` x the configured lr
is a candidate, and an experiment grades it: a copy of the model trains ``steps`` steps at the
configured lr (the *snapshot*, as the experiment's setup trained), then, from the snapshot, one copy
trains ``PEAK_STEPS`` steps at the peak lr (the *peak arm*) and one at the configured lr (the
*control*), on the same batches. The peak diverges when the peak arm's held loss is non-finite or
above the run's ``divergence_factor`` x the untrained model's (fit's divergence stop, notes 004), or
when it ends ``rules.RISE`` (10%) above the snapshot's while the control's does not rise (the
monitor's ``lr_too_high`` rule: a rising loss; the control says the setup itself does not rise
there). Then ``lr_too_high`` is a warning that names the step, the peak lr and the losses; a peak
that trains on is not reported (the run's lrs are the user's choice). A plateau schedule (its lr
follows the metric, and only falls) is never a candidate.
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn

from trainwell.babysit import interventions
from trainwell.babysit.budget import Budget
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.probe_steps import make_optimizer, train_step
from trainwell.babysit.rules import DIVERGENCE_FACTOR, RISE

CODE = "lr_too_high"
PEAK_RATIO = 2.0         # a candidate: the schedule reaches 2x the configured lr (the edge of stability: the
                         # module docstring; the lr arms try x10 and x100 for help, not for divergence)
PEAK_STEPS = 25          # the peak arm's steps: past the edge the error grows geometrically each step
                         # (|1 - lr x lambda| > 1), so a quarter of the arms' STEPS shows it
POINTS = 100_000         # the schedule is evaluated at most at this many evenly spaced steps (a Python call each)
STEPS = interventions.STEPS          # the snapshot's steps at the configured lr: the experiment's setup's
MIN_STEPS = interventions.MIN_STEPS
EVAL_ROWS = interventions.EVAL_ROWS
POOL_ROWS = interventions.POOL_ROWS
PART = "the schedule's peak lr check (lr_too_high)"
BUDGET_SHARE = 0.25      # the doctor gives the check a quarter of what is left, as the targets' scale arm: one
                         # training of the arms' steps and two short ones


def peak(schedule, total: int) -> tuple[int, float]:
    """``(step, multiplier)`` of the schedule's largest multiplier over the ``total`` planned steps
    (the first step where it is reached); ``(0, 1.0)`` without a schedule or steps."""
    if schedule is None or total < 1:
        return 0, 1.0
    stride = max(1, math.ceil(total / POINTS))
    best, at = -math.inf, 0
    for t in list(range(0, total, stride)) + [total - 1]:
        value = float(schedule(t))
        if value > best:
            best, at = value, t
    return at, best


def experiment_multiplier(schedule, total: int) -> float:
    """The multiplier of the lr the doctor's experiment trains at: the schedule's peak over the run
    where it stays below 1 (a user's schedule function that returns the lr itself where fit wants a
    multiplier never lets the run train at the configured lr), else 1 (the configured lr: the peak of
    every schedule trainwell builds; above it ``candidate`` grades the peak). 1 for a schedule with
    state (a plateau schedule follows the metric, from 1) and for a peak that is not positive."""
    if schedule is None or hasattr(schedule, "observe") or not total:
        return 1.0
    top = peak(schedule, total)[1]
    return top if math.isfinite(top) and 0.0 < top < 1.0 else 1.0


def candidate(schedule, total: int) -> tuple[int, float] | None:
    """``peak(schedule, total)`` when its multiplier is at least ``PEAK_RATIO`` (and finite), else
    None (also for a schedule with state: a plateau schedule's lr follows the metric)."""
    if schedule is None or hasattr(schedule, "observe") or not total:
        return None
    at, top = peak(schedule, total)
    return (at, top) if math.isfinite(top) and top >= PEAK_RATIO else None


def _held_loss(net: nn.Module, X, y, loss_fn) -> float:
    net.eval()
    with torch.no_grad():
        value = loss_fn(net(X), y)
    net.train()
    loss = float(value) if torch.is_tensor(value) and value.numel() == 1 else math.nan
    return loss if math.isfinite(loss) else math.inf


def _train(net, opt, loss_fn, X, y, batches, clip_norm) -> None:
    for idx in batches:
        train_step(net, opt, loss_fn, X[idx], y[idx], clip_norm)


def experiment(model: nn.Module, X, y, loss_fn, *, schedule, total_steps: int, optimizer, lr: float,
               weight_decay: float = 0.0, options: dict | None = None, batch_size: int = 64, seed: int = 0,
               clip_norm: float | None = None, divergence_factor: float = DIVERGENCE_FACTOR,
               budget: Budget | None = None) -> dict | None:
    """The held losses ``{"step", "multiplier", "peak_lr", "lr", "start", "snapshot", "peak", "control",
    "snapshot_steps", "peak_steps", "diverges", "divergence_factor"}``, or None when the schedule is no
    candidate or the budget does not pay for the snapshot and both arms. The model is not modified."""
    found = candidate(schedule, total_steps)
    if found is None or not torch.is_tensor(X) or X.shape[0] != y.shape[0]:
        return None
    at, top = found
    steps = STEPS
    if budget is not None:
        steps = min(STEPS, int(budget.affordable(batch_size) - 2 * PEAK_STEPS))
        if steps < MIN_STEPS or not budget.fits_wall(budget.run_cost(1, steps + 2 * PEAK_STEPS, batch_size), PART):
            return None
    device = next((q.device for q in model.parameters()), X.device)
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(X.shape[0], generator=gen)
    held = order[:min(EVAL_ROWS, X.shape[0] // 4)]
    rows = order[held.numel():held.numel() + POOL_ROWS]
    if rows.numel() == 0:
        return None
    size = min(batch_size, rows.numel())
    draw = [rows[torch.randint(rows.numel(), (size,), generator=gen)] for _ in range(steps + PEAK_STEPS)]
    Xd, yd = X.to(device), y.to(device)
    held_X, held_y = Xd[held], yd[held]
    options = options or {}
    state = torch.get_rng_state()
    torch.manual_seed(seed)                 # the copies' dropout masks
    try:
        net = copy.deepcopy(model)
        net.train()
        start = _held_loss(net, held_X, held_y, loss_fn)
        opt = make_optimizer(optimizer, net, lr=lr, weight_decay=weight_decay, **options)
        _train(net, opt, loss_fn, Xd, yd, draw[:steps], clip_norm)
        snapshot = _held_loss(net, held_X, held_y, loss_fn)
        after = {}
        for name, multiplier in (("peak", top), ("control", 1.0)):
            arm = copy.deepcopy(net)        # the optimizer's state goes on from the snapshot's
            arm_opt = make_optimizer(optimizer, arm, lr=lr, weight_decay=weight_decay, **options)
            arm_opt.load_state_dict(copy.deepcopy(opt.state_dict()))   # (its buffers are the snapshot's own)
            for group in arm_opt.param_groups:
                group["lr"] = group["lr"] * multiplier
            torch.manual_seed(seed + 1)     # both arms: the same dropout masks
            _train(arm, arm_opt, loss_fn, Xd, yd, draw[steps:], clip_norm)
            after[name] = _held_loss(arm, held_X, held_y, loss_fn)
    finally:
        torch.set_rng_state(state)
    if budget is not None:
        budget.steps(steps + 2 * PEAK_STEPS, batch_size)
    exploded = not math.isfinite(after["peak"]) or (
        math.isfinite(start) and start > 0 and after["peak"] > divergence_factor * start)
    undone = math.isfinite(snapshot) and after["peak"] > RISE * snapshot and after["control"] <= snapshot
    return {"step": at, "multiplier": top, "peak_lr": lr * top, "lr": lr, "start": start, "snapshot": snapshot,
            "peak": after["peak"], "control": after["control"], "snapshot_steps": steps, "peak_steps": PEAK_STEPS,
            "diverges": bool(exploded or undone), "exploded": bool(exploded),
            "divergence_factor": divergence_factor}


def check_peak(model: nn.Module, X, y, loss_fn, **kwargs) -> list[Finding]:
    """``lr_too_high`` (a warning) when the lr the schedule reaches later diverges from a snapshot
    trained at the configured lr (``experiment``'s ``diverges``); ``[]`` otherwise. ``kwargs``:
    ``experiment``'s."""
    r = experiment(model, X, y, loss_fn, **kwargs)
    if r is None or not r["diverges"]:
        return []
    how = ("the held loss became non-finite" if not math.isfinite(r["peak"]) else
           f"the held loss rose to {r['peak']:.4g}, above {r['divergence_factor']:g}x the untrained model's "
           f"({r['start']:.4g})" if r["exploded"] else f"the held loss rose to {r['peak']:.4g}")
    return [make(
        CODE,
        f"the lr schedule reaches lr {r['peak_lr']:.3g} at step {r['step']} of the run's {kwargs['total_steps']} "
        f"({r['multiplier']:.3g}x the configured lr {r['lr']:.3g}, which the doctor's other checks train at): a "
        f"copy trained {r['snapshot_steps']} steps at lr {r['lr']:.3g} (held loss {r['start']:.4g} -> "
        f"{r['snapshot']:.4g}), then {r['peak_steps']} steps at lr {r['peak_lr']:.3g}: {how}, "
        f"where {r['peak_steps']} more steps at lr {r['lr']:.3g} end at {r['control']:.4g}",
        evidence={"schedule_peak": True, **r}, severity="warning", where="schedule",
        fix=f"keep the schedule's multiplier at or below 1 over the run (the configured lr is its peak; trainwell's "
            f"step factor divides the lr), or lower the lr {r['multiplier']:.3g}x")]
