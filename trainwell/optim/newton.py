"""An exact, damped Newton step for small models, with a backtracking (Armijo) line search.

Notes 004 derive Newton's update from the second-order Taylor expansion of the loss J around θ₀:

    J(θ) ≈ J(θ₀) + (θ − θ₀)ᵀ ∇J(θ₀) + ½ (θ − θ₀)ᵀ H (θ − θ₀)   ⇒   θ* = θ₀ − H⁻¹ ∇J(θ₀)

Here, with g = ∇J(θ) and H the exact Hessian of the closure's loss over the flattened parameters:

    d = −(H + λI)⁻¹ g          λ = damping, multiplied by 10 until H + λI is positive definite
                               (so d is a descent direction even near a saddle point: notes 001,
                               "Newton ... will get you right to the saddle point")
    θ ← θ + t · lr · d         t = 1, halved until J(θ + t·lr·d) ≤ J(θ) + c·t·lr·gᵀd, c = 1e-4
                               (Armijo's condition; c = 1e-4 as in Nocedal & Wright, 2006, §3.1)

The Hessian costs n² memory and the solve O(n³) (notes 003: "Newton's convergence is not sensitive
to conditioning but expensive (O(n³) per step)"), so the parameter count is capped by
``max_params``. ``step(closure)`` calls ``closure(backward=False)``, which must return the loss
with its autograd graph (trainwell's trainer closure does); gradient clipping does not apply, the
line search bounds the step instead. After the step ``p.grad`` holds the gradient at the old point.
By name: ``build_optimizer("newton", model, lr=1.0, damping=1e-4)``; the factory's decoupled weight
decay acts right after the step (the Hessian needs the graph at the undecayed weights).

Why not ``torch.func.hessian``: it differentiates a pure function of the parameters
(``functional_call`` over a module), while an optimizer gets parameters and a closure that reads
the live ``nn.Parameter`` objects (the model's forward and any penalty term captured at build time,
as L-BFGS does), so there is no such function to transform. The Hessian here is the same object:
H = J(∇L), with the n rows computed as vector-Jacobian products of ∇L (built with
``create_graph=True``) against the rows of the identity, batched in one ``autograd.grad(...,
is_grads_batched=True)`` call, which runs torch.func's ``vmap`` over that product (what
``torch.func.jacrev`` does, and ``torch.autograd.functional.hessian(..., vectorize=True)``).
``tests/optim/test_newton.py`` checks it against central differences and the analytic Hessian.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from trainwell.errors import ConfigError

ARMIJO_C = 1e-4          # sufficient-decrease constant (Nocedal & Wright 2006, §3.1)
MAX_HALVINGS = 30        # 2⁻³⁰ ≈ 1e-9 of the Newton step: give up and stay put
MAX_DAMPING_TRIES = 20   # λ grows ×DAMPING_GROWTH per try: from 1e-4 up to 1e15
DAMPING_GROWTH = 10.0    # Marquardt's (1963) factor ν = 10 for raising λ
MIN_DAMPING = 1e-8       # a damping of 0 (allowed by the option) still grows: from here


class Newton(torch.optim.Optimizer):
    """Damped Newton with the exact Hessian; ``step(closure)`` with ``closure(backward=False)``.

    Options: lr=1.0 (multiplier of the Newton step; 1 is the full step, notes 004 "no
    hyperparameters"), damping=1e-4 (λ in H + λI), line_search=True (Armijo backtracking),
    max_params=5000 (above it: ConfigError; the Hessian would be max_params² entries). The lr
    is checked where it enters (the config, ``build_optimizer``).
    """

    requires_closure = True

    def __init__(self, params, *, lr: float = 1.0, damping: float = 1e-4, line_search: bool = True,
                 max_params: int = 5000):
        if not (isinstance(damping, (int, float)) and math.isfinite(damping) and damping >= 0):
            raise ConfigError(f"Newton damping = {damping!r}: must be a finite number >= 0")
        if not isinstance(max_params, int) or max_params < 1:
            raise ConfigError(f"Newton max_params = {max_params!r}: must be an integer >= 1")
        super().__init__(params, dict(lr=lr, damping=damping))
        self.line_search = bool(line_search)
        self.max_params = max_params
        n = trainable_numel(self.param_groups)
        if n > max_params:
            gib = n * n * 4 / 2**30
            raise ConfigError(f"Newton: the model has {n} parameters but max_params = {max_params}: the exact "
                              f"Hessian would be {n} x {n} ({gib:.1f} GiB in float32) and each solve O(n^3); "
                              "use L-BFGS (torch.optim.LBFGS) for larger models or raise max_params")
        self.num_params = n

    def _damping(self) -> float:
        return float(self.param_groups[0]["damping"])

    @torch.no_grad()
    def step(self, closure: Callable | None = None):
        """One damped Newton step; returns the loss before the step (detached)."""
        if closure is None:
            raise ConfigError("Newton.step(closure): the closure is required; closure(backward=False) must "
                              "return the loss with its graph so the Hessian can be formed")
        params, lr = flat_params(self.param_groups)
        with torch.enable_grad():
            loss = closure(backward=False)
            g, H = _gradient_and_hessian(loss, params)
        d = _damped_newton_direction(H, g, self._damping())
        step = lr * d
        x0 = torch.cat([p.detach().reshape(-1) for p in params])
        t = backtrack(closure, params, x0, step, loss.detach(), torch.dot(g, step)) if self.line_search else 1.0
        assign(params, x0 + t * step)
        self.state["newton"]["last_step_size"] = t
        self.state["newton"]["steps"] = self.state["newton"].get("steps", 0) + 1
        offset = 0
        for p in params:                                      # expose the gradient to monitors
            p.grad = g[offset:offset + p.numel()].view_as(p).clone()
            offset += p.numel()
        return loss.detach()


def _gradient_and_hessian(loss: torch.Tensor, params) -> tuple[torch.Tensor, torch.Tensor]:
    """g = ∇loss and H = ∇²loss over the concatenated parameters (H rows by batched double backward)."""
    grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
    flat = torch.cat([(gr if gr is not None else torch.zeros_like(p)).reshape(-1) for gr, p in zip(grads, params)])
    n = flat.numel()
    if not flat.requires_grad:                                # loss linear in every parameter
        return flat.detach(), torch.zeros(n, n, dtype=flat.dtype, device=flat.device)
    eye = torch.eye(n, dtype=flat.dtype, device=flat.device)
    rows = torch.autograd.grad(flat, params, grad_outputs=eye, is_grads_batched=True, allow_unused=True)
    zeros = lambda p: torch.zeros(n, p.numel(), dtype=flat.dtype, device=flat.device)  # noqa: E731
    H = torch.cat([(r if r is not None else zeros(p)).reshape(n, -1) for r, p in zip(rows, params)], dim=1)
    return flat.detach(), 0.5 * (H + H.T)


def _damped_newton_direction(H: torch.Tensor, g: torch.Tensor, damping: float) -> torch.Tensor:
    """d = −(H + λI)⁻¹ g with λ raised ×10 until H + λI is positive definite (Cholesky succeeds)."""
    eye = torch.eye(H.shape[0], dtype=H.dtype, device=H.device)
    lam = damping
    for _ in range(MAX_DAMPING_TRIES):
        chol, info = torch.linalg.cholesky_ex(H + lam * eye)
        if int(info) == 0:
            return -torch.cholesky_solve(g.unsqueeze(1), chol).squeeze(1)
        lam = max(lam * DAMPING_GROWTH, MIN_DAMPING)
    return -g / lam                                           # H hopeless: a tiny gradient step


def assign(params, flat: torch.Tensor) -> None:
    """Copy the flat vector back into the parameters, in ``flat_params``' order."""
    offset = 0
    for p in params:
        p.copy_(flat[offset:offset + p.numel()].view_as(p))
        offset += p.numel()


def trainable_numel(param_groups) -> int:
    """How many trainable numbers the groups hold: the size n of an n x n (inverse) Hessian."""
    return sum(p.numel() for group in param_groups for p in group["params"] if p.requires_grad)


def flat_params(param_groups) -> tuple[list, torch.Tensor]:
    """The trainable parameters, in order, and each entry's group lr as one flat vector (the
    full-matrix methods work on the concatenated vector of all parameters)."""
    params, lrs = [], []
    for group in param_groups:
        for p in group["params"]:
            if p.requires_grad:
                params.append(p)
                lrs.append(torch.full((p.numel(),), float(group["lr"]), dtype=p.dtype, device=p.device))
    return params, torch.cat(lrs)


def backtrack(closure, params, x0: torch.Tensor, step: torch.Tensor, f0, slope) -> float:
    """Armijo backtracking: the first t in 1, 1/2, 1/4, ... (at most ``MAX_HALVINGS``) with
    f(x0 + t·step) <= f0 + ARMIJO_C·t·slope (Nocedal & Wright, Algorithm 3.1); 0 when none
    decreases the loss enough. Leaves the parameters at the last point tried."""
    t = 1.0
    for _ in range(MAX_HALVINGS):
        assign(params, x0 + t * step)
        if closure(backward=False) <= f0 + ARMIJO_C * t * slope:
            return t
        t *= 0.5
    return 0.0
