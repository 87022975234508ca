""""The loss goes up as you increase regularization" (notes 004): each configured regularizer
moves the loss or the weights on the probe rows, else it is not in effect.

A coupled L2 penalty (``l2``) is weight decay only for plain SGD: an adaptive optimizer (one that
divides each step by a running scale of the gradient: Adam, RMSprop, AdaGrad) divides the
penalty's gradient by that scale too, so a weight whose gradient the penalty dominates moves about
lr toward 0 a step, whatever the penalty's size (notes 004, "L2 regularization vs weight decay ...
not the same for adaptive methods"; Loshchilov & Hutter 2019, "Decoupled weight decay
regularization"). ``scale_free_penalty`` names that case: its strength is not lr x l2, and an AdamW
recipe's weight decay given as ``l2`` is a different, stronger regularizer.
"""
from __future__ import annotations

import copy
import inspect

import torch
from torch import nn

from trainwell.babysit.findings import Finding, make
from trainwell.babysit.probe_steps import take_step
from trainwell.optim.decay import DECOUPLED_KEY
from trainwell.optim.factory import build_optimizer
from trainwell.optim.registry import OPTIMIZERS

NO_SHRINK = 1e-2          # regularization_not_effective: one decay step (float64) shrinks ||w|| by less
                          # than 1% of lr x weight_decay, the shrink plain SGD's decay gives
SAME_OUTPUT = 1e-6        # ... two dropout forward passes differ by less (relative)
SCALE_OPTION = "eps"      # the option of an optimizer whose step divides by a running scale of the gradient (the
                          # eps added to that denominator: Adam, AdamW, RMSprop, AdaGrad), in its registry record


def adaptive(optimizer, options: dict | None = None) -> bool:
    """``optimizer`` (a registry name; the SAM family by its ``options["base"]`` or its record's default) divides
    each step by a running scale of the gradient (its record has ``SCALE_OPTION``). A class or an
    instance of the user's: False (its step is not known)."""
    info = OPTIMIZERS.get(optimizer) if isinstance(optimizer, str) else None
    if info is None:
        return False
    if info.wrapper:
        return adaptive((options or {}).get("base", info.options["base"].default))
    return SCALE_OPTION in info.options


def scale_free_penalty(config) -> bool:
    """The run's coupled L2 penalty (``config.l2`` > 0) is rescaled by an ``adaptive`` optimizer: not
    weight decay (the module docstring)."""
    return bool(getattr(config, "l2", 0.0)) and adaptive(config.optimizer, config.optimizer_options)


def check_regularization(model, x, y, loss_fn, optimizer_spec, lr, regularization: dict,
                         penalty, options=None) -> list[Finding]:
    """Notes 004: raising regularization must raise the loss; here each regularizer's effect.
    ``options``: the optimizer's other options (build_optimizer's keywords)."""
    found = []
    if penalty is not None:
        params = [p for p in model.parameters() if p.requires_grad]
        takes_model = len(inspect.signature(penalty).parameters) >= 1
        value = penalty(model) if takes_model else penalty()
        grads = (torch.autograd.grad(value, params, allow_unused=True)
                 if isinstance(value, torch.Tensor) and value.requires_grad else [None])
        grad_norm = sum(float(g.norm()) for g in grads if g is not None)
        v = float(value.detach()) if isinstance(value, torch.Tensor) else float(value)
        if not (v > 0 and grad_norm > 0):
            found.append(make("regularization_not_effective",
                              f"the penalty adds {v:.4g} to the loss with gradient norm {grad_norm:.3g}: raising "
                              f"it cannot raise the loss or pull the weights",
                              evidence={"penalty": v, "gradient_norm": grad_norm},
                              fix="compute the penalty from the live parameters (no .detach()/.data/.item()) "
                                  "and add it to the loss"))
    wd = float(regularization.get("weight_decay", 0.0) or 0.0)
    if wd > 0:
        # float64: at lr 1e-5 one step of a 5e-4 decay shrinks ||w|| by 5e-9, below float32's resolution
        probe = copy.deepcopy(model).double()
        # a name is built with the decay; a callable's own groups are what is checked
        opt = build_optimizer(optimizer_spec, probe, lr=lr, weight_decay=wd, total_steps=1, **(options or {}))
        # a group's decay: coupled (torch's weight_decay) or decoupled by trainwell's factory
        groups = [g.get(DECOUPLED_KEY) or g.get("weight_decay", 0.0) for g in opt.param_groups]
        params = list(probe.parameters())
        weights = [p for p in params if p.ndim >= 2]
        before = torch.stack([p.detach().norm() for p in weights]).norm() if weights else torch.zeros(())

        def zero_gradient(backward: bool = True):   # a loss whose gradient is 0: only decay acts
            loss = sum((p * 0).sum() for p in params)
            if backward:
                opt.zero_grad(set_to_none=True)
                loss.backward()
            return loss
        take_step(opt, zero_gradient)
        after = torch.stack([p.detach().norm() for p in weights]).norm() if weights else torch.zeros(())
        shrink = float((before - after) / before.clamp_min(1e-30))
        if shrink <= NO_SHRINK * lr * wd:
            found.append(make("regularization_not_effective",
                              f"weight_decay={wd:g} is configured but one optimizer step does not shrink the "
                              f"weights (relative change {shrink:.3g}; groups' weight_decay {groups})",
                              evidence={"weight_decay": wd, "group_weight_decay": groups, "shrink": shrink},
                              fix="pass weight_decay to the optimizer's parameter groups (the weight matrices "
                                  "must be in a group with weight_decay > 0)"))
    dropout = float(regularization.get("dropout", 0.0) or 0.0)
    has_dropout = any(isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0 for m in model.modules())
    if dropout > 0 or has_dropout:
        probe = copy.deepcopy(model).train()
        with torch.no_grad():
            torch.manual_seed(1)
            a = probe(x)
            torch.manual_seed(2)
            b = probe(x)
        change = float((a - b).norm() / a.norm().clamp_min(1e-30))
        if change <= SAME_OUTPUT:
            found.append(make("regularization_not_effective",
                              f"dropout is configured ({dropout if dropout else 'modules present'}) but two "
                              f"training-mode forward passes give the same output (relative change {change:.2g}): "
                              f"no dropout acts in the forward path",
                              evidence={"dropout": dropout, "modules_with_p": has_dropout, "change": change},
                              fix="put the nn.Dropout modules in forward (or F.dropout(x, p, training=self.training))"))
    return found
