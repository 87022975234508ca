"""Parameter groups: which parameters decay, and at what multiple of the lr each one learns.

    groups = param_groups(model, weight_decay=5e-4, lr_mults={"0": 0.1})

timm's rule: parameters with ndim <= 1 (biases, norm scales) and every parameter of a
normalization layer get no weight decay. ``lr_mults`` maps parameter-name prefixes to lr
multipliers (notes 001, transfer learning: fine-tune lower layers gently); each group carries its
``"lr_mult"`` and the trainer sets lr = base_lr · lr_mult · schedule (``schedules.group_lrs``).
"""
from __future__ import annotations

import torch
from torch import nn

from trainwell.errors import ConfigError
from trainwell.options import check_number, did_you_mean

# Normalization layers whose parameters get no weight decay (timm's rule); modules whose class
# name contains "Norm" (e.g. custom norms) count too.
NORM_LAYERS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm,
               nn.LocalResponseNorm)


def _is_norm(module: nn.Module) -> bool:
    return isinstance(module, NORM_LAYERS) or "Norm" in type(module).__name__


def _check_lr_mults(model: nn.Module, lr_mults: dict) -> None:
    if not isinstance(lr_mults, dict):
        raise ConfigError(f"lr_mults = {lr_mults!r}: must be a table of name prefix -> multiplier, "
                          f"e.g. {{\"0\": 0.1}}")
    names = [n for n, _ in model.named_parameters()]
    top = [n for n, _ in model.named_children()] + [n for n, _ in model.named_parameters(recurse=False)]
    for prefix, mult in lr_mults.items():
        check_number(f"lr_mults[{prefix!r}]", mult, lambda v: v >= 0, "a finite number >= 0")
        if not any(n == prefix or n.startswith(prefix + ".") for n in names):
            module = model.get_submodule(prefix) if _is_module_name(model, prefix) else None
            hint = (f" ({prefix!r} is a {type(module).__name__}, which has no parameters)" if module is not None
                    else did_you_mean(prefix, top))
            raise ConfigError(f"lr_mults: prefix {prefix!r} matches no parameter of the model"
                              f"{hint}; top-level names: {', '.join(top) or '(none)'}")


def _is_module_name(model: nn.Module, name: str) -> bool:
    """Whether ``name`` is a submodule's dotted name in ``model`` (``""`` is the model itself)."""
    return bool(name) and name in dict(model.named_modules())


def _lr_mult(name: str, lr_mults: dict) -> float:
    """The multiplier of the longest prefix of ``name`` (at a '.' boundary) in ``lr_mults``."""
    best, mult = -1, 1.0
    for prefix, m in lr_mults.items():
        if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
            best, mult = len(prefix), float(m)
    return mult


def decay_exempt(model: nn.Module, *, no_decay_bias_norm: bool = True) -> set[int]:
    """ids of the parameters that get no weight decay or penalty: with ``no_decay_bias_norm``,
    those with ndim <= 1 (biases, norm scales) and every parameter of a normalization layer."""
    if not no_decay_bias_norm:
        return set()
    in_norm = {id(p) for m in model.modules() if _is_norm(m) for p in m.parameters(recurse=False)}
    return in_norm | {id(p) for p in model.parameters() if p.ndim <= 1}


def param_groups(model: nn.Module, *, weight_decay: float = 0.0, lr_mults: dict | None = None,
                 no_decay_bias_norm: bool = True) -> list[dict]:
    """The model's trainable parameters in groups of equal (weight_decay, lr_mult).

    With ``no_decay_bias_norm``, parameters with ndim <= 1 (biases, norm scales) and every
    parameter of a normalization layer get weight_decay 0 (timm's rule). ``lr_mults`` maps
    parameter-name prefixes to lr multipliers, longest prefix wins ({"0": 0.1} puts "0.weight"
    and "0.bias" at a tenth of the lr; notes 001, transfer learning: fine-tune lower layers
    gently). Frozen parameters (requires_grad=False) are left out. Each group: ``params``,
    ``param_names``, ``weight_decay``, ``lr_mult``.
    """
    lr_mults = {} if lr_mults is None else lr_mults
    _check_lr_mults(model, lr_mults)
    check_number("weight_decay", weight_decay, lambda v: v >= 0, "a finite number >= 0")
    exempt = decay_exempt(model, no_decay_bias_norm=no_decay_bias_norm)
    groups: dict[tuple, dict] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        decay = 0.0 if id(p) in exempt else float(weight_decay)
        mult = _lr_mult(name, lr_mults)
        group = groups.setdefault((decay, mult), {"params": [], "param_names": [],
                                                  "weight_decay": decay, "lr_mult": mult})
        group["params"].append(p)
        group["param_names"].append(name)
    return list(groups.values())


def groups_of(model_or_params, *, weight_decay: float, lr_mults: dict | None,
              no_decay_bias_norm: bool) -> list[dict]:
    """Parameter groups for a model (``param_groups``), a list of tensors (only the ndim <= 1
    rule: names are unknown, so ``lr_mults`` is a ConfigError) or the caller's own group dicts
    (kept, with ``weight_decay`` and ``lr_mult = 1`` filled in where missing). No trainable
    parameter at all is a ConfigError."""
    if isinstance(model_or_params, nn.Module):
        groups = param_groups(model_or_params, weight_decay=weight_decay, lr_mults=lr_mults,
                              no_decay_bias_norm=no_decay_bias_norm)
    else:
        if lr_mults:
            raise ConfigError("lr_mults needs the model (parameter names), not a list of parameters")
        items = [model_or_params] if isinstance(model_or_params, torch.Tensor) else list(model_or_params)
        if items and all(isinstance(g, dict) for g in items):       # the caller's own groups
            groups = [{"weight_decay": float(weight_decay), "lr_mult": 1.0, **g} for g in items]
            for g in groups:
                g["params"] = [g["params"]] if isinstance(g["params"], torch.Tensor) else list(g["params"])
        else:
            by_decay: dict[float, dict] = {}
            for p in items:
                if not isinstance(p, torch.Tensor):
                    raise ConfigError(f"parameters: expected tensors or param-group dicts, got "
                                      f"{type(p).__name__}")
                if not p.requires_grad:
                    continue
                decay = 0.0 if (no_decay_bias_norm and p.ndim <= 1) else float(weight_decay)
                by_decay.setdefault(decay, {"params": [], "weight_decay": decay, "lr_mult": 1.0})
                by_decay[decay]["params"].append(p)
            groups = list(by_decay.values())
    if not any(g["params"] for g in groups):
        raise ConfigError("the model has no trainable parameters (all have requires_grad=False)")
    return [g for g in groups if g["params"]]
