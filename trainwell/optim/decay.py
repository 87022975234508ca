"""Decoupled weight decay for every optimizer: w ← w − lr·λ·w, with the group's current lr.

For plain SGD this equals an L2 penalty (λ/2)‖w‖² in the loss; for adaptive methods it does not
(notes 004, "L2 regularization vs weight decay ... not the same for adaptive methods (AdaGrad,
RMSProp, Adam, etc)"; Loshchilov & Hutter 2019). Each optimizer's record says how it gets the
decay (``OptimizerInfo.decay``, one of the modes below):

- ``NATIVE``: the optimizer does exactly this itself (trainwell's Adam, AdamW, torch classes
  with ``decoupled_weight_decay``);
- ``BEFORE_STEP``: its own weight_decay (coupled L2) is set to 0 and one step pre-hook decays
  every group with ``torch._foreach_mul_``, reading λ from the group key ``DECOUPLED_KEY``;
- ``AFTER_STEP``: the same by a step post-hook, for optimizers that evaluate the closure at
  points of their own (Newton needs the closure's graph at the undecayed weights for its Hessian
  and line search; NesterovLookahead moves to x + ρv);
- ``L2_OBJECTIVE``: L-BFGS, whose line search needs one fixed objective, minimizes
  L + (λ/2)‖w‖² (the same step as decoupled decay for plain SGD, notes 004);
- ``BY_BASE``: the SAM family decays through its base optimizer.

The coupled L2 penalty is ``trainwell.optim.penalties.l2_penalty``, added to the loss.
"""
from __future__ import annotations

import inspect

import torch

DECOUPLED_KEY = "decoupled_weight_decay_rate"   # group key of λ when a hook applies it

NATIVE = "native"
BEFORE_STEP = "pre-hook"
AFTER_STEP = "post-hook"
L2_OBJECTIVE = "L2 objective"
BY_BASE = "base's"
DECAY_MODES = (NATIVE, BEFORE_STEP, AFTER_STEP, L2_OBJECTIVE, BY_BASE)


def group_weight_decay(group: dict) -> float:
    """A param group's weight decay λ (each step takes lr·λ of the weights off), whether a hook
    applies it (``DECOUPLED_KEY``) or the optimizer does (``"weight_decay"``)."""
    return float(group.get(DECOUPLED_KEY) or group.get("weight_decay") or 0.0)


@torch.no_grad()
def _decay(optimizer) -> None:
    """w ← w·(1 − lr·λ) for each group's params that have a gradient (one fused op per group)."""
    for group in optimizer.param_groups:
        rate = group.get(DECOUPLED_KEY, 0.0)
        if rate:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                torch._foreach_mul_(params, 1.0 - group["lr"] * rate)


def _closure_of(args, kwargs):
    return kwargs.get("closure", args[1] if len(args) > 1 else None)   # args[0] is the optimizer


def _with_closure(args, kwargs, closure):
    return args[:1], {**{k: v for k, v in kwargs.items() if k != "closure"}, "closure": closure}


def _decay_before_step(optimizer, args, kwargs):
    """Step pre-hook. Without a closure the gradients are already there: decay now. With one,
    decay right after its first call, so the gradient is taken at the undecayed weights in both
    cases (the closure computes it inside ``step``)."""
    closure = _closure_of(args, kwargs)
    if closure is None:
        _decay(optimizer)
        return None
    done = []

    def closure_then_decay(*a, **kw):      # e.g. backward=False for Newton's Hessian
        loss = closure(*a, **kw)
        if not done:
            done.append(True)
            _decay(optimizer)
        return loss
    return _with_closure(args, kwargs, closure_then_decay)


def _decay_after_step(optimizer, args, kwargs) -> None:
    _decay(optimizer)


def with_hook_decay(cls, groups: list[dict], *, after_step: bool, **kwargs) -> torch.optim.Optimizer:
    """``cls(groups, **kwargs)`` with its own (coupled) weight_decay off and each group's λ in
    ``DECOUPLED_KEY``, applied by a step pre-hook, or a post-hook when ``after_step``."""
    takes_decay = "weight_decay" in inspect.signature(cls).parameters
    for g in groups:
        g[DECOUPLED_KEY] = g.pop("weight_decay", 0.0)
        if takes_decay:
            g["weight_decay"] = 0.0
    if takes_decay:
        kwargs["weight_decay"] = 0.0
    optimizer = cls(groups, **kwargs)
    if after_step:
        optimizer.register_step_post_hook(_decay_after_step)
    else:
        optimizer.register_step_pre_hook(_decay_before_step)
    return optimizer


def l2_objective(decayed: list[tuple[list, float]]):
    """A step pre-hook for L-BFGS over ``decayed`` = [(params, λ), ...]: every closure call
    returns loss + Σ (λ/2)‖w‖² and adds λw to the gradients, so the line search and the curvature
    pairs see one fixed objective."""
    def hook(optimizer, args, kwargs):
        closure = _closure_of(args, kwargs)
        if closure is None:
            return None                                    # LBFGS.step raises its own error

        def closure_with_l2(*a, **kw):
            loss = closure(*a, **kw)
            with torch.no_grad():
                penalty = 0.0
                for params, rate in decayed:
                    params = [p for p in params if p.grad is not None]
                    if params:
                        torch._foreach_add_([p.grad for p in params], params, alpha=rate)
                        penalty = penalty + 0.5 * rate * torch.stack(torch._foreach_norm(params)).square().sum()
            return loss + penalty
        return _with_closure(args, kwargs, closure_with_l2)
    return hook
