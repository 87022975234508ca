"""Gradient-side building blocks for any training loop: L2/L1 penalties, clipping, gradient noise.

    loss = criterion(model(x), y) + l2_penalty(weights, 5e-4)
    loss.backward()
    noise(params)                                   # GradientNoise: annealed Gaussian noise
    total_norm = clip_gradients(params, norm=1.0)   # pre-clip norm, a tensor (no host sync)
    optimizer.step()

The penalties are *coupled*: they change the loss, so an adaptive optimizer rescales their
gradient too. Decoupled weight decay (w ← w − lr·λ·w) is the optimizers' ``weight_decay``
(trainwell.optim.factory); notes 004 "L2 regularization vs weight decay" explains the
difference. Formulas and sources: docs/optimization.md.
"""
from __future__ import annotations

import math

import torch

from trainwell.errors import ConfigError


def _tensors(params) -> list[torch.Tensor]:
    if isinstance(params, torch.Tensor):
        return [params]
    return list(params)


def _check_coef(name: str, coef: float):
    if not (isinstance(coef, (int, float)) and not isinstance(coef, bool)
            and math.isfinite(coef) and coef >= 0):
        raise ConfigError(f"{name} = {coef!r}: must be a finite number >= 0")


def _sum_of_norms(params: list[torch.Tensor], order: float) -> torch.Tensor:
    """Σ_i ‖p_i‖_order, one fused ``_foreach_norm`` and one stack (no host sync)."""
    norms = torch._foreach_norm(params, order)
    return torch.stack(norms).sum() if len(norms) > 1 else norms[0]


def l2_penalty(params, coef: float) -> torch.Tensor:
    """(coef/2)·Σ‖w‖², whose gradient is coef·w.

    notes 000: "For every w add ½λw² to the objective function. Gradient of this term: λw";
    notes 004: θ* = argmin Σℓ + (λ/2)Σ_l‖θ_l‖², so that SGD gives θ ← (1 − λη)θ − η∇ℓ, the same
    step as decoupled weight decay λ for plain SGD. (notes 004's later slide writes λ‖w‖² with
    gradient 2λw: that is this penalty with coef = 2λ.)
    """
    _check_coef("l2", coef)
    params = _tensors(params)
    if not params:
        return torch.zeros(())
    norms = torch.stack(torch._foreach_norm(params, 2))
    return 0.5 * coef * norms.square().sum()


def l1_penalty(params, coef: float) -> torch.Tensor:
    """coef·Σ|w| (notes 000: "For every w add λ|w| to the objective function"); its subgradient
    coef·sign(w) drives small weights to exactly 0 (sparsity)."""
    _check_coef("l1", coef)
    params = _tensors(params)
    if not params:
        return torch.zeros(())
    return coef * _sum_of_norms(params, 1)


def clip_gradients(params, *, value: float | None = None, norm: float | None = None) -> torch.Tensor:
    """Clip gradients in place; return the global L2 norm of the gradients *before* clipping.

    ``value``: each entry to [−value, value]. ``norm``: if the global norm ‖g‖ over all params
    exceeds ``norm``, scale every gradient by norm/‖g‖ (Pascanu et al. 2013). Both: value first,
    then norm. notes 001 ("Gradient Clipping by Value ... Clip to limit the norm of the
    gradient"). Parameters without a gradient are skipped. The returned 0-d tensor stays on the
    device: reading it is the caller's choice (and a host sync).
    """
    for key, bound in (("clip_value", value), ("clip_norm", norm)):
        if bound is not None and not (isinstance(bound, (int, float)) and not isinstance(bound, bool)
                                      and bound > 0 and math.isfinite(bound)):
            raise ConfigError(f"{key} = {bound!r}: must be a finite number > 0 (or None: off)")
    params = [p for p in _tensors(params) if p.grad is not None]
    if not params:
        return torch.zeros(())
    grads = [p.grad for p in params]
    # foreach=None: torch's fused _foreach kernels wherever the device has them (CPU and CUDA do)
    total = torch.nn.utils.get_total_norm(grads, 2.0, foreach=None)
    if value is not None:
        torch.nn.utils.clip_grad_value_(params, value, foreach=None)
    if norm is not None:
        current = total if value is None else torch.nn.utils.get_total_norm(grads, 2.0, foreach=None)
        torch.nn.utils.clip_grads_with_norm_(params, norm, current, foreach=None)
    return total


class GradientNoise:
    """Annealed Gaussian gradient noise: g ← g + N(0, σ_t²), σ_t² = eta/(1+t)^gamma.

    Neelakantan et al. 2015, "Adding gradient noise improves learning for very deep networks"
    (γ = 0.55 and η ∈ {0.01, 0.3, 1.0} in their experiments); notes 001 "Gradient Noise: ...
    Works". The noise comes from this object's own ``torch.Generator`` (seeded; on the device of
    the gradients), so it is independent of the model's RNG, and ``state_dict()`` (generator
    state as a uint8 tensor + step count) makes a resumed run add exactly the same noise.
    """

    def __init__(self, *, eta: float = 0.3, gamma: float = 0.55, seed: int = 0):
        _check_coef("grad_noise", eta)
        _check_coef("grad_noise_gamma", gamma)
        self.eta, self.gamma, self.seed = float(eta), float(gamma), int(seed)
        self.step = 0                      # calls so far: t when __call__ is not given a step
        self._generator: torch.Generator | None = None
        self._pending_state: torch.Tensor | None = None

    def std(self, step: int) -> float:
        """σ_t = sqrt(eta / (1 + t)^gamma)."""
        return math.sqrt(self.eta / (1.0 + step) ** self.gamma)

    def _generator_for(self, device: torch.device) -> torch.Generator:
        if self._generator is None or self._generator.device != device:
            self._generator = torch.Generator(device=device).manual_seed(self.seed)
            if self._pending_state is not None:
                self._generator.set_state(self._pending_state)
                self._pending_state = None
        return self._generator

    @torch.no_grad()
    def __call__(self, params, *, step: int | None = None) -> None:
        """Add noise to every existing ``.grad`` in place; ``step`` defaults to this object's own
        call count. One random draw for all gradients, one fused add."""
        t = self.step if step is None else step
        self.step = t + 1
        grads = [p.grad for p in _tensors(params) if p.grad is not None]
        if not grads or self.eta == 0:
            return
        generator = self._generator_for(grads[0].device)
        sizes = [g.numel() for g in grads]
        flat = torch.randn(sum(sizes), generator=generator, device=grads[0].device,
                           dtype=grads[0].dtype)
        flat.mul_(self.std(t))
        noise = [chunk.view_as(g).to(g.dtype) for chunk, g in zip(flat.split(sizes), grads)]
        torch._foreach_add_(grads, noise)

    def state_dict(self) -> dict:
        """``{"generator": uint8 tensor, "step": int}``; an empty tensor means "not drawn from
        yet" (a fresh generator seeded with ``seed``, on whatever device the gradients are)."""
        if self._generator is not None:
            state = self._generator.get_state().clone()
        elif self._pending_state is not None:
            state = self._pending_state.clone()
        else:
            state = torch.zeros(0, dtype=torch.uint8)
        return {"generator": state, "step": self.step}

    def load_state_dict(self, state: dict) -> None:
        generator = state.get("generator")
        if not isinstance(generator, torch.Tensor) or generator.dtype != torch.uint8:
            raise ConfigError("gradient noise state: 'generator' must be a uint8 tensor "
                              "(from GradientNoise.state_dict())")
        self.step = int(state["step"])
        generator = generator.cpu()
        if generator.numel() == 0:                      # saved before the first draw
            self._generator, self._pending_state = None, None
        elif self._generator is not None:
            self._generator.set_state(generator)
        else:
            self._pending_state = generator


@torch.no_grad()
def max_norm_(params, max_norm: float) -> None:
    """The max-norm constraint, in place: every unit's incoming weight vector (each slice along
    dim 0: a row of a Linear weight, a filter of a conv) with L2 norm above ``max_norm`` is scaled
    down to it; smaller ones are left alone (notes 004: constraints on the weights' squared
    values; Srivastava et al. 2014 §5.1 use c = 3-4 with dropout). Apply after the optimizer step,
    to weights with ndim >= 2."""
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float)) or not (max_norm > 0) \
            or not math.isfinite(max_norm):
        raise ConfigError(f"max_norm = {max_norm!r}: must be a finite number > 0 (or None: off)")
    for p in _tensors(params):
        if p.ndim >= 2:
            p.copy_(torch.renorm(p, 2, 0, max_norm))
