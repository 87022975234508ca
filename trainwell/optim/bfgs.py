"""BFGS: a quasi-Newton method that learns the inverse Hessian from the gradients it sees.

notes 004, "Second order optimization methods": "Quasi-Newton methods (BGFS most popular):
instead of inverting the Hessian (O(n³)), approximate inverse Hessian with rank 1 updates over
time (O(n²) each)"; notes 003 lists quasi-Newton methods among the scalable second-order ones.
With g = ∇J(θ) and H ≈ ∇²J(θ)⁻¹ (n x n, over the flattened parameters):

    d = −H g
    θ ← θ + t · lr · d          t = 1, halved until J(θ + t·lr·d) ≤ J(θ) + c·t·lr·gᵀd
                                (Armijo, c = 1e-4, as Newton's line search)
    s = θ_new − θ,  y = g_new − g,  ρ = 1/(yᵀs)       at the start of the next step
    H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ          (Nocedal & Wright 2006, eq. 6.17)

The update is rank two (the notes' "rank 1" is loose; SR1 is the rank-one quasi-Newton update),
costs O(n²) and keeps H symmetric positive definite while yᵀs > 0, and the new H satisfies the
secant equation H y = s. H starts as the identity and, before the first update, is scaled to
(yᵀs / yᵀy)·I (N&W eq. 6.20). A pair with too little curvature is skipped (N&W §6.1), and a step
the line search cannot decrease resets H to the identity.

Unlike L-BFGS (``torch.optim.LBFGS``, the last ``history_size`` pairs), BFGS keeps the full
n x n matrix, so the parameter count is capped by ``max_params``. The closure protocol is
Newton's: ``closure(backward=False)`` returns the loss with its graph; the gradient is taken
from it with ``torch.autograd.grad`` (trainer gradient hooks such as clipping do not apply: the
line search bounds the step). After the step ``p.grad`` holds the gradient at the old point.
By name: ``build_optimizer("bfgs", model, lr=1.0)``; decoupled weight decay acts right after
the step.
"""
from __future__ import annotations

from typing import Callable

import torch

from trainwell.errors import ConfigError
from trainwell.optim.newton import assign, backtrack, flat_params, trainable_numel

CURVATURE_EPS = 1e-8     # skip the update unless yᵀs > CURVATURE_EPS·‖y‖·‖s‖ (N&W 2006, §6.1)
MAX_PARAMS = 5000        # H has max_params² entries: 100 MB in float32


class BFGS(torch.optim.Optimizer):
    """BFGS with an Armijo backtracking line search; ``step(closure)`` with
    ``closure(backward=False)`` returning the loss and its graph.

    Options: lr=1.0 (multiplier of the quasi-Newton step; 1 is the full step),
    max_params=5000 (above it: ConfigError).
    """

    requires_closure = True

    def __init__(self, params, *, lr: float = 1.0, max_params: int = MAX_PARAMS):
        if not isinstance(max_params, int) or isinstance(max_params, bool) or max_params < 1:
            raise ConfigError(f"BFGS max_params = {max_params!r}: must be an integer >= 1")
        super().__init__(params, dict(lr=lr))
        self.max_params = max_params
        n = trainable_numel(self.param_groups)
        if n > max_params:
            raise ConfigError(f"BFGS: the model has {n} parameters but max_params = {max_params}: the "
                              f"inverse-Hessian approximation would be {n} x {n}; use L-BFGS "
                              "(optimizer = \"lbfgs\") for larger models or raise max_params")
        self.num_params = n

    @torch.no_grad()
    def step(self, closure: Callable | None = None):
        """One BFGS step; returns the loss before the step (detached)."""
        if closure is None:
            raise ConfigError("BFGS.step(closure): the closure is required; closure(backward=False) must "
                              "return the loss with its graph")
        params, lr = flat_params(self.param_groups)
        with torch.enable_grad():
            loss = closure(backward=False)
            grads = torch.autograd.grad(loss, params, allow_unused=True)
        g = torch.cat([(gr if gr is not None else torch.zeros_like(p)).reshape(-1)
                       for gr, p in zip(grads, params)])
        x0 = torch.cat([p.detach().reshape(-1) for p in params])
        state = self.state["bfgs"]
        if "x" in state:
            _update(state, x0 - state["x"], g - state["g"])
        H = state.get("H")
        d = -g if H is None else -(H @ g)
        step = lr * d
        slope = torch.dot(g, step)
        if slope >= 0:                                        # H lost definiteness: start over
            state.pop("H", None)
            step = -lr * g
            slope = torch.dot(g, step)
        t = backtrack(closure, params, x0, step, loss.detach(), slope)
        if t == 0.0:                                          # no decrease: stay, forget H
            state.pop("H", None)
        assign(params, x0 + t * step)
        state["x"], state["g"] = x0, g
        state["last_step_size"] = t
        state["steps"] = state.get("steps", 0) + 1
        offset = 0
        for p in params:                                      # expose the gradient to monitors
            p.grad = g[offset:offset + p.numel()].view_as(p).clone()
            offset += p.numel()
        return loss.detach()


def _update(state: dict, s: torch.Tensor, y: torch.Tensor) -> None:
    """H ← (I − ρsyᵀ)H(I − ρysᵀ) + ρssᵀ, expanded for a symmetric H:
    H − ρ(Hy sᵀ + s (Hy)ᵀ) + (ρ²·yᵀHy + ρ) s sᵀ. Skipped when yᵀs is not clearly positive."""
    ys = torch.dot(y, s)
    if not ys > CURVATURE_EPS * torch.linalg.vector_norm(y) * torch.linalg.vector_norm(s):
        state["skipped"] = state.get("skipped", 0) + 1
        return
    H = state.get("H")
    if H is None:                                             # N&W eq. 6.20: H₀ = (yᵀs/yᵀy)·I
        H = torch.eye(s.numel(), dtype=s.dtype, device=s.device) * (ys / torch.dot(y, y))
    rho = 1.0 / ys
    Hy = H @ y
    H = H - rho * (torch.outer(Hy, s) + torch.outer(s, Hy)) + (rho * rho * torch.dot(y, Hy) + rho) * torch.outer(s, s)
    state["H"] = H
    state["updates"] = state.get("updates", 0) + 1
