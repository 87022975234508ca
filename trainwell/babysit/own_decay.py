"""A weight decay inside the user's own optimizer: measured as the step is written, graded by experiment.

An optimizer the user built (an instance, or a factory ``params -> Optimizer``) keeps its own settings
in ``fit`` (``build_optimizer`` returns it as it is), and its step may shrink the weights whatever
trainwell's options say: torch's coupled ``weight_decay``, AdamW's decoupled lr x wd, or a decay
written by hand without the lr (``p *= 1 - wd``: 1 % of every weight a step at AdamW's default 0.01,
where Loshchilov & Hutter 2019 and torch take lr x wd = 1e-5). The doctor's other trainings rebuild an
instance with trainwell's decoupled decay (lr x the groups' weight decay, optim/factory.py), not the
step as written, so a decay of the user's own is measured here, on the user's class with its own
groups over a copy of the model (``doctor.on_copies``).

``own_shrink``: one step of the optimizer as written from zero gradients. With no gradient the
gradient's own step is zero (Adam's m = 0, SGD's momentum buffer 0), so whatever moves the weights is
the shrinkage the step applies, whatever its source: the pull toward 0 on every direction the data
does not hold (notes 000, Goodfellow et al.'s figure 7.1: "the regularizer pulls w_1 close to zero").
``shrink`` is the relative fall of the weight matrices' norm in that step. The same step with one
training batch's gradient, less the decay, is the gradient's update ``update`` (relative to the
weights); where the two balance, E||w'||^2 = (1 - s)^2 ||w||^2 + ||u||^2, the weights are held at
``equilibrium`` = ||u|| / sqrt(2s - s^2) whatever their initial scale (for Adam, whose step is about
lr per entry, near lr / sqrt(2 wd): the decay, not the data, sets their size).

A shrink over ``interventions.HEALTHY_SHRINK`` a step (notes 001: the ratio of weight updates to
weight magnitudes about 1e-3, "0.01 is probably too high"; the decay alone is such an update) is the
evidence that starts the experiment: the setup with the optimizer as written, a repeat on other
batches, and the arm ``weight_decay / 100`` (its groups' ``weight_decay`` / ``interventions.PENALTY_CUT``,
as the weight decay's arm), graded as a regularizer's arm (``interventions.findings``: the held rows
classified significantly better, still ahead trained on toward the run's length). The harm is slow:
a shrink s a step compounds over 1 / s steps (100 at s = 0.01, the arms' whole experiment), and a
setup still near chance there swings between batch orders (digits: 58 % and 32 % held accuracy at
step 100, the arm 76 %), so the experiment ``confirm``-s: the repeat trains on with the setup and the
arm, and the arm is graded against the repeat's spread where the decay has acted for several of its
time constants (step 300: 71 % and 77 %, the arm 91 %; ``interventions.confirmed``). A helping arm is a
``regularization_too_strong`` warning; an arm that does not help, or an optimizer without a
``weight_decay`` in its groups (no setting an arm or a repair can lower), is ``info`` with the numbers.
A shrink the data's gradient outweighs costs nothing, so a coupled decay under Adam (its zero-gradient
step moves every weight lr toward 0, a large shrink) is a warning only where the arm shows it hurts.
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn

from trainwell.babysit import interventions
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.probe_steps import take_step

CODE = "regularization_too_strong"
ARM = "weight_decay / 100"            # the weight decay's arm (interventions.candidate_arms): the plan reads its name
PART = "the user's optimizer's own decay (regularization_too_strong)"   # named where the backstop leaves it out
BUDGET_SHARE = 0.25                   # the doctor gives the experiment a quarter of what is left (target_scale_arm's)


def _weights(net: nn.Module) -> list:
    """The trainable weight matrices and kernels (``ndim >= 2``): what a decay shrinks toward 0 (a bias
    or a norm's scale is no weight's magnitude, timm's rule)."""
    return [p for p in net.parameters() if p.requires_grad and p.ndim >= 2]


def _norm(params: list) -> float:
    return float(torch.stack([p.detach().norm() for p in params]).norm())


def _held_by(opt, net: nn.Module) -> bool:
    """``opt`` steps ``net``'s parameters only (a factory that returned another model's optimizer would
    step the user's own weights: not measured)."""
    own = {id(p) for p in net.parameters()}
    held = [p for group in opt.param_groups for p in group["params"]]
    return bool(held) and all(id(p) in own for p in held)


def own_weight_decay(opt) -> float:
    """The largest ``weight_decay`` of ``opt``'s groups (0.0 where none has one): the setting the arm
    lowers."""
    return max((float(g.get("weight_decay") or 0.0) for g in opt.param_groups), default=0.0)


def _stepped(model: nn.Module, factory, closure_of) -> tuple:
    """``(before, after, weight_decay, moved)``: a copy of ``model`` given one step of ``factory``'s
    optimizer with the gradients ``closure_of(net, opt)`` sets; ``moved``: every weight's change.
    None where the factory's optimizer holds other parameters."""
    net = copy.deepcopy(model).train()
    opt = factory(list(net.parameters()))
    if not isinstance(opt, torch.optim.Optimizer) or not _held_by(opt, net):
        return None
    weights = _weights(net)
    start = [p.detach().clone() for p in weights]
    take_step(opt, closure_of(net, opt))
    moved = [p.detach() - s for p, s in zip(weights, start)]
    return _norm(start), _norm(weights), own_weight_decay(opt), moved


def own_shrink(model: nn.Module, factory, xb=None, yb=None, loss_fn=None) -> dict | None:
    """The optimizer as written (``factory``) measured on copies of ``model``, the module docstring's
    numbers: ``{"shrink", "weight_decay", "norm"}`` and, with a batch ``xb, yb`` and ``loss_fn``,
    ``{"update", "equilibrium"}`` (relative to ``norm``; ``equilibrium`` None without a shrink).
    None without weight matrices, or where the optimizer holds parameters that are not the copy's."""
    if not _weights(model):
        return None

    def zero_gradient(net, opt):
        params = [p for p in net.parameters() if p.requires_grad]

        def closure(backward: bool = True):     # a loss whose gradient is 0 everywhere: only the decay acts
            loss = sum((p * 0).sum() for p in params)
            if backward:
                opt.zero_grad(set_to_none=True)
                loss.backward()
            return loss
        return closure

    quiet = _stepped(model, factory, zero_gradient)
    if quiet is None:
        return None
    before, after, wd, decayed = quiet
    out = {"shrink": (before - after) / max(before, 1e-30), "weight_decay": wd, "norm": before}
    if xb is None or loss_fn is None:
        return out

    def batch_gradient(net, opt):
        def closure(backward: bool = True):
            loss = loss_fn(net(xb), yb)
            if backward:
                opt.zero_grad(set_to_none=True)
                loss.backward()
            return loss
        return closure

    _, _, _, moved = _stepped(model, factory, batch_gradient)
    update = _norm([m - d for m, d in zip(moved, decayed)]) / max(before, 1e-30)
    s = out["shrink"]
    out.update(update=update, equilibrium=update / math.sqrt(2 * s - s * s) if 0 < s < 1 else None)
    return out


def _measured(m: dict, steps: int | None) -> str:
    """The measurement in words."""
    said = (f"the optimizer you built shrinks the weights by {100 * m['shrink']:.3g}% a step on its own (one step "
            f"from zero gradients, its groups' weight_decay {m['weight_decay']:g}), over the "
            f"{interventions.HEALTHY_SHRINK:g} of a healthy update")
    if m.get("update") is not None:
        said += f"; one batch's gradient moves them {m['update']:.3g} of their norm"
        if m.get("equilibrium") is not None:
            said += (f", so the decay holds them near {m['equilibrium']:.3g} of their initial norm whatever "
                     f"the data asks")
    if steps:
        left = 100 * (1 - m["shrink"]) ** steps
        said += f" (the run's {steps} steps leave {left:.3g}% of a weight no gradient holds)"
    return said


def check_own_decay(model: nn.Module, X, y, loss_fn, *, optimizer, lr: float, batch_size: int = 64, seed: int = 0,
                    run_steps: int | None = None, clip_norm: float | None = None, config=None,
                    budget=None) -> list[Finding]:
    """``[]`` where the user's optimizer as written (``optimizer``: a factory over a copy's parameters)
    shrinks the weights by no more than ``HEALTHY_SHRINK`` a step (``own_shrink``); else one
    ``regularization_too_strong`` finding: a warning where its ``weight_decay`` / 100 trains
    significantly better (``interventions.findings``), else info. The model is not modified."""
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(X.shape[0], generator=gen)[:max(1, min(batch_size, X.shape[0]))]
    device = next((p.device for p in model.parameters()), X.device)
    m = own_shrink(model, optimizer, X[idx].to(device), y[idx].to(device), loss_fn)
    if budget is not None:
        budget.steps(1, idx.numel())    # the batch's step (the zero-gradient step runs no forward)
    if m is None or not m["shrink"] > interventions.HEALTHY_SHRINK:
        return []
    said = _measured(m, run_steps)
    evidence = {"own_shrink": m["shrink"], "weight_decay": m["weight_decay"], "update_ratio": m.get("update"),
                "equilibrium": m.get("equilibrium"), "healthy_shrink": interventions.HEALTHY_SHRINK}
    wd = m["weight_decay"]
    if wd <= 0:
        return [make(CODE, f"{said}; its groups have no weight_decay to lower: the shrink is in its step's code",
                     evidence=evidence, severity="info",
                     fix="decay by lr x weight_decay a step (torch.optim.AdamW), or less")]
    lower = wd / interventions.PENALTY_CUT
    arm = interventions.setting_arm(ARM, CODE, interventions.Change(f"weight_decay {lower:.3g}", f"{wd:.3g}"),
                                    extra={"weight_decay": lower, "held_accuracy": True})
    baseline, arms = interventions.experiment(
        model, X, y, loss_fn, optimizer=optimizer, lr=lr, weight_decay=wd, batch_size=batch_size, seed=seed,
        settings=False, repeat=True, extra_arms=[arm], run_steps=run_steps, clip_norm=clip_norm, config=config,
        budget=budget, part=PART, confirm=True)
    found = [f for f in interventions.findings(baseline, arms, run_steps=run_steps) if f.code == CODE]
    if found:
        f = found[0]
        return [make(CODE, f"{said}; {f.message}", evidence={**f.evidence, **evidence},
                     fix=f"lower the optimizer's weight_decay {wd:g} -> {wd / interventions.PENALTY_CUT:g}, or "
                         f"decay by lr x weight_decay a step as torch.optim.AdamW does (Loshchilov & Hutter 2019)")]
    ran = next((a for a in arms if a.name == ARM and not a.extra.get("timed_out")), None)
    if ran is None or baseline.extra.get("timed_out"):
        return [make(CODE, f"{said}; the experiment with weight_decay / 100 did not finish", evidence=evidence,
                     severity="info")]
    return [make(CODE, f"{said}, but with weight_decay / 100 it trains no better in {ran.steps} steps (held loss "
                       f"{baseline.after:.4g} against {ran.after:.4g})", evidence=evidence, severity="info")]
