"""Adam with decoupled weight decay and optional bias correction, as the notes write it.

For every parameter, with g_t its gradient at step t = 1, 2, ...:

    w ← w − lr·λ·w                                  decoupled weight decay (AdamW, notes 004)
    m ← β₁·m + (1 − β₁)·g                           first moment ("momentum")
    v ← β₂·v + (1 − β₂)·g²                          second moment (RMSProp)
    bias_correction=True:   w ← w − lr·m̂/(√v̂ + ε),  m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)
    bias_correction=False:  w ← w − lr·m/(√v + ε)

notes 004 "Adam (full form)": "The bias correction compensates for the fact that m, v are
initialized at zero and need some time to 'warm up'"; notes 003 "Method 3: Adam" is the form
without it; defaults β₁ = 0.9, β₂ = 0.999, ε = 1e-8 (notes 003, Kingma & Ba 2015). notes 002
puts ε inside the square root; we follow notes 003/004 and the paper (ε outside). With
bias_correction=True this is exactly torch.optim.AdamW (tested step by step).
"""
from __future__ import annotations

import math

import torch

from trainwell.errors import ConfigError


class Adam(torch.optim.Optimizer):
    """Adam / AdamW using ``torch._foreach_*`` ops: a handful of fused kernels per group.

    ``weight_decay`` is decoupled: w ← w − lr·λ·w before the Adam step (Loshchilov & Hutter
    2019), not a gradient term. State per parameter: ``step`` (a float32 CPU tensor, as in torch's
    optimizers), ``exp_avg`` (m), ``exp_avg_sq`` (v). The lr is checked where it enters (the
    config, ``build_optimizer``).
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, bias_correction: bool = True):
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ConfigError(f"betas = {betas!r}: must be two numbers in [0, 1), e.g. (0.9, 0.999)")
        if not eps > 0:
            raise ConfigError(f"eps = {eps!r}: must be > 0")
        if not weight_decay >= 0:
            raise ConfigError(f"weight_decay = {weight_decay!r}: must be >= 0")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        bias_correction=bool(bias_correction))
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params, grads, exp_avgs, exp_avg_sqs, steps = [], [], [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise ConfigError("optimizer 'adam' does not support sparse gradients; "
                                      "use torch.optim.SparseAdam")
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0, dtype=torch.float32)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                params.append(p)
                grads.append(p.grad)
                exp_avgs.append(state["exp_avg"])
                exp_avg_sqs.append(state["exp_avg_sq"])
                steps.append(state["step"])
            if params:
                self._update(group, params, grads, exp_avgs, exp_avg_sqs, steps)
        return loss

    @staticmethod
    def _update(group, params, grads, exp_avgs, exp_avg_sqs, steps):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        torch._foreach_add_(steps, 1.0)                    # CPU scalars: no device sync
        if group["weight_decay"] != 0:
            torch._foreach_mul_(params, 1.0 - lr * group["weight_decay"])
        torch._foreach_lerp_(exp_avgs, grads, 1.0 - beta1)                    # m
        torch._foreach_mul_(exp_avg_sqs, beta2)
        torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1.0 - beta2)       # v
        if group["bias_correction"]:
            counts = [s.item() for s in steps]             # CPU tensors: a read, not a sync
            step_sizes = [-lr / (1.0 - beta1 ** t) for t in counts]
            root_corrections = [math.sqrt(1.0 - beta2 ** t) for t in counts]
            denom = torch._foreach_sqrt(exp_avg_sqs)
            torch._foreach_div_(denom, root_corrections)                      # √v̂
            torch._foreach_add_(denom, eps)
            torch._foreach_addcdiv_(params, exp_avgs, denom, step_sizes)
        else:
            denom = torch._foreach_sqrt(exp_avg_sqs)
            torch._foreach_add_(denom, eps)
            torch._foreach_addcdiv_(params, exp_avgs, denom, -lr)
