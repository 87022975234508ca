"""Lookahead-SAM (Yu, Zhang, Kwok, ICML 2024; notes 004): EG-SAM, OG-SAM and AO-SAM.

SAM perturbs the current weights; these variants first look one step ahead (an extrapolation,
as in extra-gradient and optimistic-gradient methods for min-max problems) and perturb from there:

EG-SAM (extra-gradient), two gradients per step like SAM:
    g   = ∇L(w_{t-1})
    w̃_t = w_{t-1} − η_t·g + ρ·g/‖g‖
    w_t = base_step(w_{t-1}, ∇L(w̃_t))

OG-SAM (optimistic gradient): the extrapolation reuses the previous step's perturbed-point
gradient ĝ_{t-1} = ∇L(w̃_{t-1}) instead of g; the perturbation direction still needs g, so it is
also two gradients per step (the paper's OG-SAM, as the ICLR 2024 reviews of the paper also note):
    w̃_t = w_{t-1} − η_t·ĝ_{t-1} + ρ·g/‖g‖
    w_t = base_step(w_{t-1}, ĝ_t),  ĝ_t = ∇L(w̃_t)
    (first step: ĝ_0 := g, i.e. an EG-SAM step)

AO-SAM: OG-SAM under AE-SAM's adaptive policy (Jiang et al., ICLR 2023). With s_t = ‖g‖²,
    μ_t  = δ·μ_{t-1} + (1−δ)·s_t
    σ²_t = δ·σ²_{t-1} + (1−δ)·(s_t − μ_t)²
    c_t  = c_start + (c_end − c_start)·min(t/T, 1)
    the OG-SAM step if s_t ≥ μ_t + c_t·σ_t, otherwise a plain base step with g (one gradient);
    after a plain step ĝ := g, the gradient the base optimizer just used. A non-finite s_t (a
    GradScaler overflow) updates neither μ nor σ² and takes a plain step.

ĝ is always the gradient the base optimizer stepped with (after the trainer's clipping), copied
into the optimizer's own state at the end of the step: ``zero_grad()`` before ``step`` changes nothing.

η_t with a base optimizer other than plain SGD: the extrapolation is the plain-SGD look-ahead
−η_t·g with η_t = the parameter's group["lr"] as the schedule sets it now (exactly the paper's term
for SGD; for momentum SGD it ignores the velocity, for Adam-type bases lr·g is a much smaller move
than an Adam step). ``extrapolation_lr`` replaces η_t by a constant when that matters.

By name: ``build_optimizer("eg_sam" | "og_sam" | "ao_sam", model, lr=..., base="sgd", rho=...)``
(AO-SAM also needs ``total_steps``; ``fit`` passes it).
"""

from __future__ import annotations

import math
import operator

import torch

from trainwell.errors import CheckpointError, ConfigError
from trainwell.optim.sam import NORM_EPS, SAM, _add_scaled_, _check_positive, _global_norm


class EGSAM(SAM):
    """EG-SAM around ``base``: perturb from the SGD look-ahead point w − η g (two gradients/step).

    Options: rho=0.05 (as SAM), extrapolation_lr=None (None: each group's current lr),
    model=None and scaler=None as in ``SAM``.
    """

    def __init__(self, base: torch.optim.Optimizer, *, rho: float = 0.05,
                 extrapolation_lr: float | None = None, model: torch.nn.Module | None = None,
                 scaler=None):
        if extrapolation_lr is not None:
            _check_positive("extrapolation_lr", extrapolation_lr, allow_zero=True)
        super().__init__(base, rho=rho, model=model, scaler=scaler)
        self.extrapolation_lr = extrapolation_lr

    def _eta(self, lr: float) -> float:
        return lr if self.extrapolation_lr is None else self.extrapolation_lr

    def _perturb(self, params, grads, spans, inv) -> None:
        # w̃ = w + (ρ/‖g‖ − η)·g: one fused add per parameter group (groups may differ in lr)
        inv_ = 1.0 if inv is None else inv
        scale = self.rho / (self._grad_norm(grads, inv) + NORM_EPS)
        for start, end, lr in spans:
            _add_scaled_(params[start:end], grads[start:end], (scale - self._eta(lr)) * inv_)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rho={self.rho}, extrapolation_lr={self.extrapolation_lr}, base={self.base!r})"


class OGSAM(EGSAM):
    """OG-SAM: the extrapolation uses the previous step's perturbed-point gradient ĝ_{t-1}.

    ĝ is the gradient the base optimizer stepped with (after the closure's hooks, unscaled). At the
    end of every step it is copied into the optimizer's own buffer ``state[p]["perturbed_grad"]``,
    so whatever happens to ``.grad`` between steps (``zero_grad()``, set to None or in place) does
    not change it. Under a GradScaler a skipped (inf/NaN) step keeps the previous ĝ.
    """

    _ghat_cache = None                                        # (params, their ĝ buffers)

    def _ghat_buffers(self, params):
        """The ĝ buffers ``state[p]["perturbed_grad"]`` of ``params``, created where missing (and
        filled right away by the caller); the list is cached while the parameters stay the same."""
        cached = self._ghat_cache
        if cached is not None and len(cached[0]) == len(params) and all(map(operator.is_, cached[0], params)):
            return cached[1]
        buffers = []
        for p in params:
            state = self.state[p]
            if "perturbed_grad" not in state:
                state["perturbed_grad"] = torch.empty_like(p.grad)
            buffers.append(state["perturbed_grad"])
        self._ghat_cache = (list(params), buffers)
        return buffers

    def _previous(self, params, grads, inv):
        """ĝ_{t−1} for each parameter (the step's g where there is none yet), or None if none has one."""
        prev = [self.state[p].get("perturbed_grad") for p in params]
        if all(g is None for g in prev):
            return None
        for i, g in enumerate(prev):
            if g is None:
                prev[i] = grads[i] if inv is None else grads[i] * inv
        return prev

    def _perturb(self, params, grads, spans, inv) -> None:
        prev = self._previous(params, grads, inv)
        if prev is None:                                      # first step: ĝ_0 = g, an EG-SAM step
            super()._perturb(params, grads, spans, inv)
            return
        inv_ = 1.0 if inv is None else inv
        _add_scaled_(params, grads, self.rho * inv_ / (self._grad_norm(grads, inv) + NORM_EPS))  # + ρ g/‖g‖
        for start, end, lr in spans:                          # − η·ĝ_{t−1}
            torch._foreach_add_(params[start:end], prev[start:end], alpha=-self._eta(lr))

    def _keep_gradient(self) -> bool:
        """Whether this step's stepped gradient becomes ĝ: not when a GradScaler skipped the step."""
        if self.scaler is None or not self.scaler.is_enabled():
            return True
        grads = [p.grad for group in self.param_groups for p in group["params"] if p.grad is not None]
        norm = _global_norm(grads)               # one read, next to the one GradScaler.step makes
        return math.isfinite(norm if isinstance(norm, float) else norm.item())

    def _after_base_step(self, params) -> None:
        if params is None:
            params = self._collect()[0]
        if not params or not self._keep_gradient():
            return
        buffers = self._ghat_buffers(params)
        torch._foreach_copy_(buffers, [p.grad for p in params])   # ĝ_t, safe from zero_grad

    def _wrapper_state(self) -> dict:
        state = super()._wrapper_state()
        params = [p for group in self.param_groups for p in group["params"]]
        state["has_perturbed_grad"] = [int("perturbed_grad" in self.state[p]) for p in params]
        state["perturbed_grad"] = [self.state[p].get("perturbed_grad", torch.zeros_like(p)) for p in params]
        return state

    def _load_wrapper_state(self, state: dict) -> None:
        super()._load_wrapper_state(state)
        params = [p for group in self.param_groups for p in group["params"]]
        self._ghat_cache = None
        if len(state["perturbed_grad"]) != len(params):
            raise CheckpointError(f"{type(self).__name__}.load_state_dict: {len(state['perturbed_grad'])} saved "
                                  f"perturbed-point gradients for {len(params)} parameters")
        for p, has, g in zip(params, state["has_perturbed_grad"], state["perturbed_grad"]):
            self.state[p].pop("perturbed_grad", None)
            if int(has):
                self.state[p]["perturbed_grad"] = torch.as_tensor(g).to(device=p.device, dtype=p.dtype).clone()


class AOSAM(OGSAM):
    """AO-SAM: OG-SAM steps only where ‖g‖² is high relative to its running statistics.

    Options: total_steps (required: T in c_t), delta=0.9 (EMA decay δ, AE-SAM),
    c_start=2.0 and c_end=0.0 (c_t's end points: few SAM steps early, more late; if ‖g‖² were
    normal, P(SAM step) = 1 − Φ(c_t) goes from 2% to 50%, ≈ 20% over a run, which keeps AO-SAM
    within issue 5's 1.3× step-time budget; AE-SAM tunes these per task), plus rho,
    extrapolation_lr, model, scaler as in ``EGSAM``. Deciding costs one host sync per step; the
    ‖g‖ it reads is reused for the perturbation. A non-finite ‖g‖² (a GradScaler overflow, a NaN
    batch) leaves μ and σ² as they were and takes a plain step (which the scaler then skips).
    """

    def __init__(self, base: torch.optim.Optimizer, *, total_steps: int | None = None, rho: float = 0.05,
                 delta: float = 0.9, c_start: float = 2.0, c_end: float = 0.0,
                 extrapolation_lr: float | None = None, model: torch.nn.Module | None = None,
                 scaler=None):
        if not isinstance(total_steps, int) or isinstance(total_steps, bool) or total_steps < 1:
            raise ConfigError(f"total_steps = {total_steps!r}: AO-SAM's threshold c_t moves over the run's "
                              "total number of optimizer steps; give it as an integer >= 1")
        if not isinstance(delta, (int, float)) or not 0.0 <= delta < 1.0:
            raise ConfigError(f"delta = {delta!r}: the EMA decay must be in [0, 1)")
        for name, value in (("c_start", c_start), ("c_end", c_end)):
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"{name} = {value!r}: must be a finite number (a threshold in standard deviations)")
        super().__init__(base, rho=rho, extrapolation_lr=extrapolation_lr, model=model, scaler=scaler)
        self.total_steps = total_steps
        self.delta, self.c_start, self.c_end = float(delta), float(c_start), float(c_end)
        self.mu = 0.0                                        # EMA of ‖g‖² (Python floats: the
        self.var = 0.0                                       # decision reads ‖g‖² once anyway)
        self._norm = None                                    # this step's ‖g‖ (a float)
        self._finite = True                                  # whether this step's ‖g‖² was finite

    def threshold_c(self, step: int) -> float:
        """c_t, linear from c_start at step 0 to c_end at total_steps, constant after."""
        return self.c_start + (self.c_end - self.c_start) * min(step / self.total_steps, 1.0)

    def _take_sam_step(self, grads, inv) -> bool:
        norm = _global_norm(grads)
        if inv is not None:
            norm = norm * inv
        norm = float(norm)                                   # the one host sync
        sq = norm * norm
        self._norm, self._finite = norm, math.isfinite(sq)
        if not self._finite:                                 # keep μ, σ² finite: a plain step
            return False
        d = self.delta
        self.mu = d * self.mu + (1 - d) * sq
        self.var = d * self.var + (1 - d) * (sq - self.mu) ** 2
        return sq >= self.mu + self.threshold_c(self.steps) * math.sqrt(self.var)

    def _grad_norm(self, grads, inv):
        return self._norm                                    # read by _take_sam_step this step

    def _keep_gradient(self) -> bool:
        return self._finite and super()._keep_gradient()

    def _wrapper_state(self) -> dict:
        state = super()._wrapper_state()
        state["mu"], state["var"] = self.mu, self.var
        return state

    def _load_wrapper_state(self, state: dict) -> None:
        super()._load_wrapper_state(state)
        self.mu, self.var = float(state["mu"]), float(state["var"])
