"""Diagnosis by intervention: try each candidate fix on a copy for a few steps, keep what helps.

The notes' sanity checks are experiments ("crank up regularization: the loss should go up";
"overfit a small subset"), not thresholds alone. Here each candidate change of the setup (the lr
x0.1, x10 and x100, the weight decay / 100, dropout off, the optimizer's own options such as
Adam's eps back at their defaults) trains a copy of the model for ``STEPS`` minibatch steps from
the same weights on the same batches as the setup itself (the *baseline*), and the training loss
of every copy is measured on the same held batch of training rows in eval mode. A change whose
copy learns while the baseline does not is evidence that its setting is the cause, stated as
"with lr 0.05 instead of 0.0005 the loss fell 40% in 30 steps; the setup's own fell 1%".

``experiment(...)`` returns every arm's outcome (an ``Arm`` each); ``findings(...)`` turns the
arms that help into findings, strongest first (``evidence["intervention"]`` holds the numbers and
``evidence["rank"]`` its place among the causes found this way, which ``Diagnosis.ranked`` reads).
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from trainwell.babysit.findings import Finding, make
from trainwell.babysit.preflight import make_optimizer, take_step

STEPS = 100           # minibatch steps per arm: "a few steps" (issue 11), about an epoch of a small set
POOL_ROWS = 2048      # the batches are drawn from these training rows (a seeded permutation)
EVAL_ROWS = 512       # the held batch every arm's loss is measured on
STUCK = 0.05          # the setup barely learns: its loss fell < 5% in STEPS steps (rules.BARELY's 5%)
HELPS = 0.2           # a change helps when its loss fell >= 20% in the same steps ...
HELP_RATIO = 3.0      # ... and >= 3x what the setup's own fell (lr arms), or ends at <= 1/3 of the
                      # setup's loss (setting arms: the decay, dropout, the optimizer's options)
RESET_OPTIONS = {"eps": None, "betas": None, "bias_correction": None, "alpha": None}
LR_CODES = ("lr_too_high", "lr_too_low")
CHECK_EVERY = 10      # an arm whose weights became non-finite stops (one host read per 10 steps)
DEFAULTS = {"eps": None, "betas": (0.9, 0.999), "bias_correction": True, "alpha": None}


@dataclass
class Arm:
    """One intervention: ``name`` (what changed), ``code`` (the cause it tests), the ``change``
    in words, the eval loss before and after ``steps`` steps and the relative fall."""

    name: str
    code: str
    change: str
    before: float = math.nan
    after: float = math.nan
    steps: int = 0
    fit_fall: float = math.nan      # the relative fall of the training batches' own loss
    extra: dict = field(default_factory=dict)

    @property
    def fall(self) -> float:
        """(before - after) / |before|; -inf when the loss became non-finite."""
        if not math.isfinite(self.after):
            return -math.inf
        return (self.before - self.after) / max(abs(self.before), 1e-12)


def candidate_arms(model: nn.Module, *, lr: float, weight_decay: float, options: dict) -> list:
    """The changes worth trying on this setup, each ``(Arm, lr, weight_decay, options, dropout_off)``."""
    arms = [(Arm("lr x0.1", "lr_too_high", f"lr {lr / 10:.3g} instead of {lr:.3g}"), lr / 10, weight_decay,
             options, False),
            (Arm("lr x0.01", "lr_too_high", f"lr {lr / 100:.3g} instead of {lr:.3g}"), lr / 100, weight_decay,
             options, False),
            (Arm("lr x10", "lr_too_low", f"lr {lr * 10:.3g} instead of {lr:.3g}"), lr * 10, weight_decay,
             options, False),
            (Arm("lr x100", "lr_too_low", f"lr {lr * 100:.3g} instead of {lr:.3g}"), lr * 100, weight_decay,
             options, False),
            (Arm("lr x1000", "lr_too_low", f"lr {lr * 1000:.3g} instead of {lr:.3g}"), lr * 1000, weight_decay,
             options, False)]
    if weight_decay > 0:
        arms.append((Arm("weight_decay / 100", "regularization_too_strong",
                         f"weight_decay {weight_decay / 100:.3g} instead of {weight_decay:.3g}"),
                     lr, weight_decay / 100, options, False))
    rates = [m.p for m in model.modules() if isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0]
    if rates:
        arms.append((Arm("dropout off", "regularization_too_strong", f"dropout off instead of p = {max(rates):g}"),
                     lr, weight_decay, options, True))
    changed = {k: options[k] for k, default in DEFAULTS.items()
               if options.get(k) is not None and _differs(options[k], default)}
    if changed:
        arms.append((Arm("optimizer defaults", "optimizer_setting",
                         "the optimizer's defaults instead of " + ", ".join(f"{k}={v}" for k, v in changed.items()),
                         extra={"options": changed}), lr, weight_decay, {**options, **RESET_OPTIONS}, False))
    return arms


def _differs(value, default) -> bool:
    if default is None:
        return True
    if isinstance(default, tuple):
        return tuple(float(v) for v in value) != default
    return value != default


def experiment(model: nn.Module, X, y, loss_fn, *, optimizer, lr: float, weight_decay: float = 0.0,
               options: dict | None = None, batch_size: int = 64, steps: int = STEPS, seed: int = 0,
               budget_s: float | None = None) -> tuple:
    """``(baseline, arms)``: the setup itself and each candidate change, trained ``steps`` steps
    from the same weights on the same batches. The model is never modified. With ``budget_s``,
    an arm still running when it is spent stops (``extra["timed_out"]``: it counts for nothing)
    and the arms after it are not run."""
    deadline = None if budget_s is None else time.perf_counter() + budget_s
    options = {k: v for k, v in (options or {}).items() if k not in ("lr", "weight_decay")}
    device = next((p.device for p in model.parameters()), X.device)
    gen = torch.Generator().manual_seed(seed)
    pool = torch.randperm(X.shape[0], generator=gen)[:POOL_ROWS]
    held = pool[:EVAL_ROWS]
    xe, ye = X[held].to(device), y[held].to(device)
    size = max(1, min(batch_size, pool.numel()))
    train_rows = pool[EVAL_ROWS:] if pool.numel() > 2 * EVAL_ROWS else pool   # the held rows stay unseen
    batches = [train_rows[torch.randint(0, train_rows.numel(), (size,), generator=gen)] for _ in range(steps)]

    def loss_of(net) -> float:
        net.eval()
        with torch.no_grad():
            value = loss_fn(net(xe), ye)
        return float(value) if isinstance(value, torch.Tensor) and value.numel() == 1 else math.nan

    def train(arm, arm_lr, arm_wd, arm_options, dropout_off):
        net = copy.deepcopy(model)
        if dropout_off:
            for m in net.modules():
                if isinstance(m, nn.modules.dropout._DropoutNd):
                    m.p = 0.0
        arm.before = loss_of(net)
        opt = make_optimizer(optimizer, net, lr=arm_lr, weight_decay=arm_wd, total_steps=steps, **arm_options)
        net.train()
        trace = []                              # the training batches' losses (device tensors)
        state = torch.get_rng_state()
        torch.manual_seed(seed)                 # the same dropout masks in every arm
        try:
            for idx in batches:
                xb, yb = X[idx].to(device), y[idx].to(device)

                passes = []

                def closure(backward: bool = True):
                    loss = loss_fn(net(xb), yb)
                    if backward:
                        opt.zero_grad(set_to_none=True)
                        loss.backward()
                    passes.append(loss.detach())
                    return loss
                take_step(opt, closure)
                trace.append(passes[0])
                arm.steps += 1
                if arm.steps % CHECK_EVERY == 0 and not _finite_weights(net):
                    break                       # diverged: the rest of its steps cannot help
                if deadline is not None and time.perf_counter() > deadline:
                    arm.extra["timed_out"] = True
                    break
        finally:
            torch.set_rng_state(state)
        arm.after = loss_of(net)
        k = max(1, min(CHECK_EVERY, len(trace) // 2))
        if trace:
            head, tail = torch.stack(trace[:k]).mean().item(), torch.stack(trace[-k:]).mean().item()
            arm.fit_fall = (head - tail) / max(abs(head), 1e-12) if math.isfinite(tail) else -math.inf
        return arm

    baseline = train(Arm("setup", "", "the setup as configured"), lr, weight_decay, options, False)
    arms = []
    for candidate in candidate_arms(model, lr=lr, weight_decay=weight_decay, options=options):
        if deadline is not None and time.perf_counter() > deadline:
            break
        arms.append(train(*candidate))
    return baseline, arms


def _finite_weights(net) -> bool:
    return bool(torch.stack([p.detach().abs().sum() for p in net.parameters()]).sum().isfinite())


def helpful(baseline: Arm, arms: list) -> list:
    """The arms that help. Any arm helps a setup that barely learned (its loss fell < STUCK, or
    rose) when its loss fell >= HELPS and >= HELP_RATIO x the setup's fall; an lr arm only then (a
    healthy setup may learn faster at another lr, which is no fault). An arm that puts back a
    setting the user moved (the decay, dropout, the optimizer's options) also helps a setup that
    learns when its loss fell >= HELPS and ends at most 1 / HELP_RATIO of the setup's
    (regularization that works raises the training loss by a little, not threefold: notes 004). Setting arms come first, then the lr arms, each by how much
    it helped: an lr 1000x away can compensate for a setting (Adam's eps = 1 divides the step by
    ~1e3) without naming it."""
    if baseline.extra.get("timed_out"):
        return []
    arms = [a for a in arms if not a.extra.get("timed_out")]
    stuck = baseline.fall < STUCK or not math.isfinite(baseline.after)
    own = max(baseline.fall, 0.0)

    def helps(a):
        if a.fall < HELPS:
            return False
        if stuck and a.fall >= HELP_RATIO * own:
            return True
        return a.code not in LR_CODES and a.after * HELP_RATIO <= baseline.after
    return sorted((a for a in arms if helps(a)), key=lambda a: (a.code in LR_CODES, -a.fall))


def findings(baseline: Arm, arms: list) -> list[Finding]:
    """One finding per cause whose change helped (its most helpful arm), strongest first."""
    out, seen = [], set()
    others = {a.name: {"fall": a.fall, "loss": a.after} for a in arms}
    for arm in helpful(baseline, arms):
        if arm.code in seen:
            continue
        seen.add(arm.code)
        own = ("became non-finite" if not math.isfinite(baseline.after) else
               f"fell {100 * baseline.fall:.0f}%" if baseline.fall >= 0 else f"rose {-100 * baseline.fall:.0f}%")
        message = (f"with {arm.change} the loss fell {100 * arm.fall:.0f}% in {arm.steps} steps "
                   f"({arm.before:.4g} -> {arm.after:.4g}); the setup's own {own}")
        evidence = {"intervention": arm.name, "rank": len(out) + 1, "fall": arm.fall,
                    "setup_fall": baseline.fall, "steps": arm.steps, "cause": arm.change, "arms": others,
                    **arm.extra}
        out.append(make(arm.code, message, evidence=evidence, fix=_fix(arm)))
    return out


def _fix(arm: Arm) -> str:
    if arm.code == "optimizer_setting":
        return "leave the optimizer's " + ", ".join(arm.extra.get("options", {})) + " at its default"
    return f"use {arm.change.split(' instead of ')[0]}"
