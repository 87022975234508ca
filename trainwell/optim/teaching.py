"""The notes' update rules as torch optimizers, written exactly as the lectures state them.

RMSProp and AdaGrad put ε OUTSIDE the square root, ε = 1e-7 (notes 004, after CS231n:
``x -= learning_rate * dx / (np.sqrt(grad_squared) + 1e-7)``; notes 003: x_{k+1} = x_k − t_k g_k/(√s_k + ε)).
AdaGrad's accumulator starts at 0. Nesterov comes in the notes' two forms (notes 004, notes 003):

  look-ahead   v_{t+1} = ρ v_t − α ∇f(x_t + ρ v_t);  x_{t+1} = x_t + v_{t+1}       (NesterovLookahead)
  rearranged   x̃_t = x_t + ρ v_t:  v_{t+1} = ρ v_t − α ∇f(x̃_t);
               x̃_{t+1} = x̃_t − ρ v_t + (1 + ρ) v_{t+1}                            (Nesterov)

which give the same trajectory under x̃ = x + ρv (tested). Sign-SGD is notes 001's "one-bit
gradients": θ ← θ − lr · sign(g) (with ``momentum`` > 0: the sign of an EMA of g, "Signum",
Bernstein et al., ICML 2018). Adam with and without bias correction is ``trainwell.optim.adam``.

By name: "rmsprop_notes", "adagrad_notes", "nesterov", "nesterov_lookahead", "sign_sgd" in
``trainwell.optim.registry.OPTIMIZERS`` (decoupled weight decay added by the factory). The lr is
checked where it enters (the config, ``build_optimizer``); the classes check their own options.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from trainwell.errors import ConfigError

NOTES_EPS = 1e-7      # notes 004: "np.sqrt(grad_squared) + 1e-7"


def _check(name: str, value, low: float, high: float | None = None, *, low_inclusive: bool = False) -> None:
    ok = isinstance(value, (int, float)) and math.isfinite(value)
    ok = ok and (value >= low if low_inclusive else value > low) and (high is None or value < high)
    if not ok:
        lo = f"{'>=' if low_inclusive else '>'} {low}"
        hi = f" and < {high}" if high is not None else ""
        raise ConfigError(f"{name} = {value!r}: must be a finite number {lo}{hi}")


def _with_grad(group):
    return [p for p in group["params"] if p.grad is not None]


class _Elementwise(torch.optim.Optimizer):
    """The loop every rule below shares: evaluate the closure if given, then for each parameter
    with a gradient, ``update(p, state, group)`` with its per-parameter state (a dict of buffers
    created on first use by ``buffer``)."""

    @staticmethod
    def buffer(state: dict, name: str, like: torch.Tensor) -> torch.Tensor:
        if name not in state:
            state[name] = torch.zeros_like(like)
        return state[name]

    def update(self, p: torch.Tensor, state: dict, group: dict) -> None:
        raise TypeError(f"{type(self).__name__} must define update()")

    @torch.no_grad()
    def step(self, closure: Callable | None = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in _with_grad(group):
                self.update(p, self.state[p], group)
        return loss


class RMSProp(_Elementwise):
    """s ← β s + (1 − β) g²;  θ ← θ − lr · g / (√s + ε)   (Tieleman & Hinton 2012 via notes 004).

    Options: lr=1e-3, decay_rate=0.99 (β; CS231n's value), eps=1e-7 (notes 004, outside the sqrt).
    """

    def __init__(self, params, *, lr: float = 1e-3, decay_rate: float = 0.99, eps: float = NOTES_EPS):
        _check("decay_rate", decay_rate, 0.0, 1.0, low_inclusive=True)
        _check("eps", eps, 0.0, low_inclusive=True)
        super().__init__(params, dict(lr=lr, decay_rate=decay_rate, eps=eps))

    def update(self, p, state, group):
        beta = group["decay_rate"]
        s = self.buffer(state, "grad_squared", p)
        s.mul_(beta).addcmul_(p.grad, p.grad, value=1 - beta)
        p.addcdiv_(p.grad, s.sqrt().add_(group["eps"]), value=-group["lr"])


class AdaGrad(_Elementwise):
    """s ← s + g²;  θ ← θ − lr · g / (√s + ε)   (Duchi et al. 2011 via notes 003/004).

    Options: lr=1e-2, eps=1e-7 (notes 004, outside the sqrt). The accumulator starts at 0.
    """

    def __init__(self, params, *, lr: float = 1e-2, eps: float = NOTES_EPS):
        _check("eps", eps, 0.0, low_inclusive=True)
        super().__init__(params, dict(lr=lr, eps=eps))

    def update(self, p, state, group):
        s = self.buffer(state, "grad_squared", p)
        s.addcmul_(p.grad, p.grad)
        p.addcdiv_(p.grad, s.sqrt().add_(group["eps"]), value=-group["lr"])


class Nesterov(_Elementwise):
    """Nesterov momentum in the rearranged form (parameters are x̃ = x + ρv; one gradient at x̃).

    v ← ρ v − lr · ∇f(x̃);  x̃ ← x̃ − ρ v_old + (1 + ρ) v   (notes 004). Options: lr=0.01, momentum=0.9 (ρ).
    """

    def __init__(self, params, *, lr: float = 0.01, momentum: float = 0.9):
        _check("momentum", momentum, 0.0, 1.0, low_inclusive=True)
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def update(self, p, state, group):
        rho = group["momentum"]
        v = self.buffer(state, "velocity", p)
        p.add_(v, alpha=-rho)                                  # − ρ v_old
        v.mul_(rho).add_(p.grad, alpha=-group["lr"])           # v = ρ v − lr dx
        p.add_(v, alpha=1 + rho)                               # + (1 + ρ) v


class NesterovLookahead(torch.optim.Optimizer):
    """Nesterov momentum as first written: the gradient at the look-ahead point x + ρv.

    v ← ρ v − lr · ∇f(x + ρ v);  x ← x + v   (notes 004). ``step(closure)`` moves the parameters to
    x + ρv, calls the closure there (so the returned loss is the look-ahead point's), moves back
    and updates. Options: lr=0.01, momentum=0.9 (ρ).
    """

    requires_closure = True

    def __init__(self, params, *, lr: float = 0.01, momentum: float = 0.9):
        _check("momentum", momentum, 0.0, 1.0, low_inclusive=True)
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @torch.no_grad()
    def step(self, closure: Callable | None = None):
        if closure is None:
            raise ConfigError("NesterovLookahead.step(closure): the closure is required (the gradient is "
                              "taken at the look-ahead point x + momentum * v)")
        shifted = []
        for group in self.param_groups:
            for p in group["params"]:
                v = self.state[p].get("velocity")
                if v is not None:
                    p.add_(v, alpha=group["momentum"])
                    shifted.append((p, v, group["momentum"]))
        with torch.enable_grad():
            loss = closure()
        for p, v, rho in shifted:
            p.sub_(v, alpha=rho)                              # back to x
        for group in self.param_groups:
            for p in _with_grad(group):
                v = _Elementwise.buffer(self.state[p], "velocity", p)
                v.mul_(group["momentum"]).add_(p.grad, alpha=-group["lr"])
                p.add_(v)
        return loss


class SignSGD(_Elementwise):
    """One-bit gradients (notes 001): θ ← θ − lr · sign(m), m = g (momentum 0) or an EMA of g.

    Options: lr=1e-3 (each coordinate moves exactly lr per step), momentum=0.0 (β of
    m ← β m + (1 − β) g; 0.9 is Signum's default, Bernstein et al. 2018).
    """

    def __init__(self, params, *, lr: float = 1e-3, momentum: float = 0.0):
        _check("momentum", momentum, 0.0, 1.0, low_inclusive=True)
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def update(self, p, state, group):
        beta = group["momentum"]
        if beta == 0:
            p.add_(torch.sign(p.grad), alpha=-group["lr"])
            return
        m = self.buffer(state, "momentum", p)
        m.mul_(beta).add_(p.grad, alpha=1 - beta)
        p.add_(torch.sign(m), alpha=-group["lr"])
