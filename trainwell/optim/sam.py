"""Sharpness-aware minimization around any base optimizer: SAM, ASAM and efficient SAM.

SAM (Foret et al., ICLR 2021) minimizes the loss in the worst case over a ball of radius ρ:

    g = ∇L(w)                          first pass (the closure, at w)
    ε = ρ · g / ‖g‖                    one global L2 norm over every parameter
    g̃ = ∇L(w + ε)                      second pass (the closure again, same batch)
    w ← base_step(w, g̃)                weights restored to w, the base optimizer steps with g̃

ASAM (Kwon et al., ICML 2021), ``adaptive=True``: ε = ρ · T²g / ‖T g‖ with T = |w| + η elementwise.

Efficient SAM: ``every=k`` takes the SAM step only on every k-th step (a plain base step on the
others, one gradient); ``start_fraction=f`` takes plain steps until f · total_steps and SAM after
(SAM only in the last 1 − f of training).

``SAM`` is a ``torch.optim.Optimizer`` that wraps an already-built base optimizer. Its
``param_groups`` IS the base's list (schedules that set ``group["lr"]`` act on the base), its
``state_dict`` holds the base's state and the wrapper's, and ``step(closure)`` calls the closure
itself (``requires_closure = True``). The closure must zero the grads, run forward and backward on
the same batch every time and return the loss; trainwell's trainer builds exactly that closure.

By name (config files, ``fit``): ``build_optimizer("sam", model, lr=0.1, momentum=0.9, base="sgd",
rho=0.05)`` builds the base by name and wraps it; "asam" is the same with ``adaptive=True``
(records in trainwell.optim.registry.OPTIMIZERS).

Pitfalls handled here (each has a test): running statistics of batch norm come only from the
unperturbed pass when ``model`` is given (all of its buffers are saved before the second pass and
put back after it); with a ``torch.amp.GradScaler`` the gradient is unscaled before any norm;
gradient hooks (noise, clipping) of a closure that offers them (``closure.apply_hooks``, as the
trainer's does) act once, on the gradient the base optimizer steps with, never on the first
pass's g that sets ε.

Cost (STYLE 10): the wrapper's own work is a handful of ``torch._foreach_*`` ops per step into
buffers kept across steps. On the CPU the global norm is read as a Python float (free there); on
other devices it stays a 0-d tensor, so SAM, ASAM and EG/OG-SAM add no host sync (under a
GradScaler, whose ``step`` syncs once, OG/AO-SAM read next to it whether the step was skipped).
"""

from __future__ import annotations

import functools
import math
import operator
from typing import Callable

import torch

from trainwell.errors import CheckpointError, ConfigError

# Added to ‖g‖ so a zero gradient gives ε = 0 instead of NaN (Foret et al.'s reference code: 1e-12).
NORM_EPS = 1e-12

# Devices where reading a scalar on the host costs no synchronization: the norm and the GradScaler's
# scale become Python floats there; elsewhere they stay 0-d device tensors (the tests empty this set
# to run the device path on the CPU).
HOST_READ_FREE = {"cpu"}


def _check_base(base) -> None:
    if not isinstance(base, torch.optim.Optimizer):
        raise ConfigError(f"SAM base = {type(base).__name__}: must be a built torch.optim.Optimizer "
                          "(for example torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))")
    if getattr(base, "requires_closure", False) or isinstance(base, torch.optim.LBFGS):
        raise ConfigError(f"SAM base = {type(base).__name__}: the base optimizer must step from the "
                          "gradient in .grad (L-BFGS, SAM or Newton cannot be wrapped)")


def _check_positive(name: str, value, *, allow_zero: bool = False) -> None:
    ok = isinstance(value, (int, float)) and math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} = {value!r}: must be a finite number {bound}")


class SAM(torch.optim.Optimizer):
    """SAM / ASAM / efficient SAM around ``base``; call ``step(closure)``.

    Options (keyword-only):
      rho=0.05         radius of the perturbation ball (Foret et al. 2021, CIFAR setting)
      adaptive=False   ASAM: ε = ρ T²g/‖Tg‖, T = |w| + eta (Kwon et al. 2021)
      eta=0.01         ASAM's η (Kwon et al. 2021's default)
      model=None       the nn.Module; when given, its buffers (batch-norm running statistics and
                       num_batches_tracked) keep only the unperturbed pass's update
      every=1          SAM step on steps t with t % every == 0, plain base step otherwise
      start_fraction=0.0  plain steps before start_fraction · total_steps, SAM after
      total_steps=None the run's number of optimizer steps (needed when start_fraction > 0)
      scaler=None      a torch.amp.GradScaler: the norm and the look-ahead use the unscaled
                       gradient (1/scale folded into the coefficients, no copy), ``scaler.unscale_``
                       before the hooks and the base step, which goes through ``scaler.step(base)``
                       (skipped on inf/NaN); call ``scaler.update()`` after ``step``
    """

    requires_closure = True

    def __init__(self, base: torch.optim.Optimizer, *, rho: float = 0.05, adaptive: bool = False,
                 eta: float = 0.01, model: torch.nn.Module | None = None, every: int = 1,
                 start_fraction: float = 0.0, total_steps: int | None = None, scaler=None):
        _check_base(base)
        _check_positive("rho", rho)
        _check_positive("eta", eta, allow_zero=True)
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ConfigError(f"every = {every!r}: must be an integer >= 1 (1 = SAM on every step)")
        if not isinstance(start_fraction, (int, float)) or not 0.0 <= start_fraction < 1.0:
            raise ConfigError(f"start_fraction = {start_fraction!r}: must be in [0, 1) "
                              "(0.75 = SAM only in the last quarter of training)")
        if start_fraction > 0 and (not isinstance(total_steps, int) or total_steps < 1):
            raise ConfigError(f"total_steps = {total_steps!r}: start_fraction = {start_fraction} needs "
                              "the run's total number of optimizer steps (an integer >= 1)")
        if model is not None and not isinstance(model, torch.nn.Module):
            raise ConfigError(f"model = {type(model).__name__}: must be a torch.nn.Module or None")
        self.rho, self.adaptive, self.eta = float(rho), bool(adaptive), float(eta)
        self.model, self.every, self.scaler = model, every, scaler
        self.start_fraction, self.total_steps = float(start_fraction), total_steps
        self.start_step = math.ceil(start_fraction * total_steps) if start_fraction > 0 else 0
        # Wrapper counters (Python ints: deciding whether to perturb never syncs with the device).
        self.steps = 0            # optimizer steps taken
        self.sam_steps = 0        # of which took the two-pass (SAM-type) step
        self._scratch = {}        # buffers reused across steps (saved weights, BN buffers, ASAM's T)
        # the modules holding buffers, found once (walking the module tree costs more than the
        # copy); each step reads their current tensors, so .to(device) or a replaced buffer is seen
        self._buffer_modules = None if model is None else [m for m in model.modules() if m._buffers]
        params = [p for group in base.param_groups for p in group["params"]]
        super().__init__(params, {})
        self.base = base
        self.param_groups = base.param_groups      # shared: schedules act on the base
        self.defaults = base.defaults

    # ---------------------------------------------------------------- the step
    @torch.no_grad()
    def step(self, closure: Callable | None = None):
        """One step: first pass, maybe a perturbed second pass, then the base step. Returns the loss.

        A closure with an ``apply_hooks`` attribute (the trainer's) is called as
        ``closure(hooks=False)`` on every pass and its hooks (gradient noise, clipping) are applied
        once, to the gradient the base optimizer steps with (issue 5: "clipping applies after the
        second pass"). Any other closure is called as it is.
        """
        if closure is None:
            raise ConfigError(f"{type(self).__name__}.step(closure): the closure is required; it must zero "
                              "the grads, compute the loss on the SAME batch, call backward and return the loss")
        apply_hooks = getattr(closure, "apply_hooks", None)
        run = closure if apply_hooks is None else functools.partial(closure, hooks=False)
        with torch.enable_grad():
            loss = run()
        params = None
        if self.steps >= self.start_step and self.steps % self.every == 0:   # efficient SAM's schedule
            params, grads, spans = self._collect()
            if params:
                inv = self._inverse_scale(grads[0])
                if self._take_sam_step(grads, inv):
                    self._second_pass(run, params, grads, spans, inv)
                    self.sam_steps += 1
                del grads                                     # the first pass's g can be freed now
        if self.scaler is not None and self.scaler.is_enabled():
            self.scaler.unscale_(self.base)                   # the hooks and ĝ see the true gradient
        if apply_hooks is not None:
            apply_hooks()
        self._base_step()
        self._after_base_step(params)
        self.steps += 1
        return loss

    def _collect(self):
        """Parameters that have a gradient, their gradients (as the closure left them: scaled under
        a GradScaler) and ``spans``: one ``(start, end, lr)`` per group, indices into both lists."""
        params, grads, spans = [], [], []
        for group in self.param_groups:
            start = len(params)
            for p in group["params"]:
                if p.grad is not None:
                    params.append(p)
                    grads.append(p.grad)
            if len(params) > start:
                spans.append((start, len(params), group["lr"]))
        return params, grads, spans

    def _inverse_scale(self, like: torch.Tensor):
        """1/scale of the GradScaler (None without one): a float on the CPU, a device tensor
        elsewhere (``scaler.scale(1)`` keeps it there; ``get_scale()`` would sync)."""
        scaler = self.scaler
        if scaler is None or not scaler.is_enabled():
            return None
        if like.device.type in HOST_READ_FREE:
            return 1.0 / scaler.get_scale()
        return scaler.scale(torch.ones((), device=like.device, dtype=torch.float32)).double().reciprocal().float()

    def _take_sam_step(self, grads, inv) -> bool:
        """Whether a step the schedule allows is SAM-type (always for SAM; AO-SAM's policy decides)."""
        return True

    def _grad_norm(self, grads, inv):
        """‖g‖ of the true (unscaled) gradient: a float on the CPU, a 0-d tensor elsewhere."""
        norm = _global_norm(grads)
        return norm if inv is None else norm * inv

    def _perturb(self, params, grads, spans, inv) -> None:
        """Moves the parameters to the second pass's point w + ε (grads may be scaled by 1/inv)."""
        inv_ = 1.0 if inv is None else inv
        if self.adaptive:                                    # ASAM: ε = ρ T²g / ‖Tg‖, T = |w| + η
            t, tg = self._buffers("asam_t", params), self._buffers("asam_tg", params)
            torch._foreach_copy_(t, params)
            torch._foreach_abs_(t)
            torch._foreach_add_(t, self.eta)
            torch._foreach_copy_(tg, grads)
            torch._foreach_mul_(tg, t)
            coef = self.rho * inv_ / (_global_norm(tg) * inv_ + NORM_EPS)
            if isinstance(coef, float):
                torch._foreach_addcmul_(params, t, tg, value=coef)
            else:
                torch._foreach_mul_(tg, t)
                _add_scaled_(params, tg, coef)
            return
        coef = self.rho * inv_ / (self._grad_norm(grads, inv) + NORM_EPS)   # SAM: ε = ρ g / ‖g‖
        _add_scaled_(params, grads, coef)

    def _second_pass(self, run, params, grads, spans, inv) -> None:
        saved = self._buffers("weights", params)
        torch._foreach_copy_(saved, params)
        buffers = self._save_buffers()
        self._perturb(params, grads, spans, inv)
        with torch.enable_grad():
            run()                                             # p.grad = ∇L(w + ε)
        self._restore_buffers(buffers)
        torch._foreach_copy_(params, saved)                   # back to w exactly

    def _after_base_step(self, params) -> None:
        """Hook for the lookahead variants (OG-SAM keeps the gradient the base stepped with)."""

    def _base_step(self) -> None:
        if self.scaler is not None:
            self.scaler.step(self.base)                      # skips the step on inf/NaN
        else:
            self.base.step()

    def _buffers(self, key: str, like: list) -> list:
        """Scratch tensors shaped like ``like``, kept across steps (reallocated when ``like``
        changes). Pure scratch: never part of ``state_dict``."""
        cached = self._scratch.get(key)
        if cached is None or len(cached[0]) != len(like) or not all(map(operator.is_, cached[0], like)):
            cached = (list(like), [torch.empty_like(t, memory_format=torch.preserve_format) for t in like])
            self._scratch[key] = cached
        return cached[1]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """``torch.optim.Optimizer.zero_grad`` without its profiler and compiler wrappers: the
        closure calls it on every pass, twice per SAM step."""
        zeroed = []
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad.detach_()
                    else:
                        p.grad.requires_grad_(False)
                    zeroed.append(p.grad)
        if zeroed:
            torch._foreach_zero_(zeroed)

    # ---------------------------------------------------------------- batch norm
    def _save_buffers(self):
        if self._buffer_modules is None:
            return None
        buffers = [b for m in self._buffer_modules for b in m._buffers.values() if b is not None]
        if not buffers:
            return None
        saved = self._buffers("model_buffers", buffers)
        torch._foreach_copy_(saved, buffers)
        return buffers, saved

    @staticmethod
    def _restore_buffers(saved) -> None:
        if saved is not None:
            torch._foreach_copy_(*saved)

    # ---------------------------------------------------------------- state
    def add_param_group(self, param_group: dict) -> None:
        """Adds the group to the base optimizer (the wrapper shares its list)."""
        if hasattr(self, "base"):
            self.base.add_param_group(param_group)
            self.param_groups = self.base.param_groups
        else:                                                # during torch.optim.Optimizer.__init__
            super().add_param_group(param_group)

    def _wrapper_state(self) -> dict:
        return {"steps": self.steps, "sam_steps": self.sam_steps}

    def _load_wrapper_state(self, state: dict) -> None:
        self.steps, self.sam_steps = int(state["steps"]), int(state["sam_steps"])

    def state_dict(self) -> dict:
        """``{"base": base.state_dict(), "wrapper": {...}}``: tensors and ints in dicts and lists."""
        return {"base": self.base.state_dict(), "wrapper": self._wrapper_state()}

    def load_state_dict(self, state_dict: dict) -> None:
        missing = [k for k in ("base", "wrapper") if k not in state_dict]
        if missing:
            raise CheckpointError(f"{type(self).__name__}.load_state_dict: keys {missing} are missing "
                                  f"(got {sorted(state_dict)}); was this saved from a plain optimizer?")
        self.base.load_state_dict(state_dict["base"])
        self.param_groups = self.base.param_groups            # load_state_dict builds a new list
        try:
            self._load_wrapper_state(state_dict["wrapper"])
        except KeyError as err:
            raise CheckpointError(f"{type(self).__name__}.load_state_dict: wrapper state lacks {err}") from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rho={self.rho}, base={self.base!r})"


def _global_norm(tensors):
    """‖concat(tensors)‖₂: a Python float on the CPU (reading it there is free), a 0-d tensor on
    other devices (no host sync)."""
    norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(tensors)))
    return norm.item() if norm.device.type in HOST_READ_FREE else norm


def _add_scaled_(params, tensors, coef) -> None:
    """params += coef · tensors, one fused op; ``coef`` a float or a 0-d device tensor."""
    if isinstance(coef, torch.Tensor):
        torch._foreach_add_(params, torch._foreach_mul(tensors, coef))
    else:
        torch._foreach_add_(params, tensors, alpha=coef)
