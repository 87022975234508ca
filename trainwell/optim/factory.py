"""``build_optimizer``: the one function that turns an optimizer spec and the run's options into
an optimizer, with parameter groups (timm's rule) and decoupled weight decay for all.

    opt = build_optimizer("sgd", model, lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    opt = build_optimizer("adam", model, lr=1e-3, lr_mults={"0": 0.1})   # first layer at lr/10
    opt = build_optimizer("NAdam", model, lr=2e-3, momentum_decay=4e-3)  # any torch.optim class
    opt = build_optimizer("sam", model, lr=0.1, base="adam", rho=0.05)   # the SAM family
    opt = build_optimizer(user_optimizer, model_copy, lr=0.01)         # rebuilt over the copy

``spec`` is whatever a config's ``optimizer`` may hold: a name (a record of
``registry.OPTIMIZERS``, an alias, a torch.optim class name), an Optimizer class, a callable
``params -> Optimizer``, or an optimizer. ``fit`` (``train.parts.build_optimizer_for``), the
pre-flight checks, ``doctor`` and ``lr_find`` all build through it, always with the module, so
``lr_mults``, frozen parameters, ``no_decay_bias_norm`` and the SAM family's batch-norm handling
work everywhere. It is also where the common options are checked for Python callers (the config
checks them where they enter, with the same messages).

Every group carries ``"lr_mult"``; the trainer sets group lr = base_lr·lr_mult·schedule(step)
(``schedules.group_lrs``; ``schedules.as_lambda_lr`` does the same in your own loop). Update
equations and sources: docs/optimization.md.
"""
from __future__ import annotations

import inspect

import torch
from torch import nn

from trainwell.errors import ConfigError
from trainwell.optim.decay import DECOUPLED_KEY, group_weight_decay
from trainwell.optim.groups import decay_exempt, groups_of, param_groups
from trainwell.optim.registry import (COMMON_OPTIONS, OPTIMIZERS, SET_BY_FACTORY, OptimizerInfo, build_class,
                                      check_optimizer_name, lookup, optimizer_info)
from trainwell.optim.sam import SAM
from trainwell.options import check_options, check_type, closest

# The factory's public names; the registry's, parameter groups' and decay's are reachable here
# too, for the modules that build optimizers (config, transfer, the babysitter).
__all__ = ["build_optimizer", "check_optimizer_name", "OPTIMIZERS", "param_groups", "decay_exempt",
           "DECOUPLED_KEY", "group_weight_decay", "own_settings"]


def build_optimizer(spec, model_or_params, *, lr: float | None = None, weight_decay: float | None = None,
                    momentum: float | None = None, nesterov: bool | None = None, betas=None,
                    eps: float | None = None, bias_correction: bool | None = None, alpha: float | None = None,
                    lr_mults: dict | None = None, no_decay_bias_norm: bool = True,
                    total_steps: int | None = None, model: nn.Module | None = None,
                    **extra) -> torch.optim.Optimizer:
    """The optimizer ``spec`` over ``model_or_params`` (a module, grouped by ``param_groups``,
    or a list of parameters or param-group dicts).

    - a name or an Optimizer class: built from its record (``registry.lookup``) with the common
      options it uses (the others are ignored, so one config can switch optimizers; None means the
      record's default, ``lr`` included: ``registry.default_lr``); ``weight_decay`` is decoupled for
      all (for lbfgs: the L2 term of its objective). ``extra`` goes to the constructor: an unknown
      key is a ConfigError naming it and the accepted ones, a value the constructor rejects a
      ConfigError naming the optimizer, the option and torch's message. The SAM family gets
      ``model`` (default: ``model_or_params`` when it is a module), whose batch-norm statistics
      its second pass leaves alone, and ``total_steps`` (``start_fraction``, AO-SAM's c_t);
    - an optimizer holding any of these parameters: returned as it is (the run's own); holding
      none (the caller's model, while ``model_or_params`` is a working copy of it, as in doctor):
      rebuilt over them with the same class and constructor options, fresh state, and ``lr`` and
      ``weight_decay`` when given (else its own);
    - a callable ``params -> Optimizer``: called with the parameters.

    A user-built optimizer keeps its own settings: the run's options are for the ones built here.
    """
    given = _checked(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov, betas=betas,
                     eps=eps, bias_correction=bias_correction, alpha=alpha)
    if not isinstance(model_or_params, (nn.Module, torch.Tensor)):
        model_or_params = list(model_or_params)        # a generator (model.parameters()) is read twice
    module = model if model is not None else model_or_params if isinstance(model_or_params, nn.Module) else None
    if isinstance(spec, torch.optim.Optimizer):
        held = {id(p) for group in spec.param_groups for p in group["params"]}
        if any(id(p) in held for p in _parameters(model_or_params)):
            return spec
        return _rebuilt(spec, model_or_params, lr=given.get("lr"), weight_decay=given.get("weight_decay"),
                        module=module)
    if callable(spec) and not isinstance(spec, (str, type)):
        return spec(_parameters(model_or_params))
    info, implied = lookup(spec)
    given = {**implied, **given}
    if info.wrapper:
        return _build_wrapper(info, model_or_params, given, extra, lr_mults=lr_mults,
                              no_decay_bias_norm=no_decay_bias_norm, module=module, total_steps=total_steps)
    accepted = info.other_options()
    unknown = sorted(set(extra) - set(accepted))
    if unknown:
        raise ConfigError(f"optimizer = {info.name!r}: {unknown_options(info, unknown, accepted)}")
    groups = groups_of(model_or_params, weight_decay=given.get("weight_decay", 0.0), lr_mults=lr_mults,
                       no_decay_bias_norm=no_decay_bias_norm)
    options = {}
    for key, option in info.options.items():                   # the record's defaults fill in
        value = given.get(key, option.default)
        if value is not None:
            options[key] = tuple(value) if key == "betas" else value
    try:
        return (info.build or build_class)(info, groups, lr=given.get("lr", info.default_lr), **options, **extra)
    except ConfigError:
        raise
    except (TypeError, ValueError) as err:             # the class rejected a value
        raise ConfigError(_rejected(info, {**options, **extra}, extra, err)) from err


def _checked(**values) -> dict:
    """The common options that are given (not None), each checked as the config checks it."""
    out = {}
    for key, value in values.items():
        if value is None:
            continue
        option = COMMON_OPTIONS[key]
        value = check_type(key, value, option.types)
        problem = option.check(value) if option.check is not None else None
        if problem:
            raise ConfigError(f"{key} = {value!r}: {problem}")
        out[key] = value
    return out


def _parameters(model_or_params) -> list:
    """The parameters of a module, a tensor, a list of them, or of param-group dicts."""
    if isinstance(model_or_params, nn.Module):
        return list(model_or_params.parameters())
    if isinstance(model_or_params, torch.Tensor):
        return [model_or_params]
    out = []
    for item in model_or_params:
        if isinstance(item, dict):
            out.extend([item["params"]] if isinstance(item["params"], torch.Tensor) else item["params"])
        else:
            out.append(item)
    return out


def _build_wrapper(info: OptimizerInfo, model_or_params, given: dict, extra: dict, *, lr_mults,
                   no_decay_bias_norm, module, total_steps) -> torch.optim.Optimizer:
    """``SAM(build_optimizer(base, ...), rho=...)`` and its relatives: the record's own options
    (``base``, ``rho``, ...) go to the wrapper, everything else to the base optimizer."""
    own = check_options(f"optimizer = {info.name!r}",
                        {k: extra.pop(k) for k in list(extra) if k in info.options}, info.options)
    base = own.pop("base")
    base_info, _ = lookup(base, key="optimizer_options.base")
    if base_info.wrapper:
        raise ConfigError(f"optimizer = {info.name!r}: base = {base!r} is itself a wrapper; use sgd, adam, ...")
    base_extra = base_info.other_options()
    unknown = sorted(set(extra) - set(base_extra))
    if unknown:
        raise ConfigError(f"optimizer = {info.name!r}: {unknown_options(base_info, unknown, base_extra, own=info)}")
    inner = build_optimizer(base, model_or_params, **given, lr_mults=lr_mults,
                            no_decay_bias_norm=no_decay_bias_norm, **extra)
    return info.cls(inner, **own, **info.fixed, **_context(info.cls, module, total_steps))


def unknown_options(info: OptimizerInfo, unknown: list, accepted, *, own: OptimizerInfo | None = None) -> str:
    """What to say about keywords (``optimizer_options``) the optimizer does not take: the closest
    name it takes, where a common one such as ``betas`` is a top-level option rather than an
    ``optimizer_options`` key, and every name it takes. ``own``: a wrapper (SAM) around ``info``
    whose own keywords are accepted too."""
    extra = sorted(accepted) + (sorted(own.options) if own is not None else [])
    top_level = sorted(k for k in COMMON_OPTIONS if k in info.options or k in ("lr", "weight_decay"))
    close = closest(unknown[0], extra + top_level)
    if close in top_level:
        hint = f" (did you mean {close!r}? a top-level option: set it beside optimizer, not in optimizer_options)"
    else:
        hint = f" (did you mean {close!r}?)" if close else ""
    names = ", ".join(map(repr, unknown))
    owner = f"{own.name} with base {info.cls.__name__}" if own is not None else info.cls.__name__
    takes = f"accepts: {', '.join(extra)}" if extra else "accepts no other options"
    return (f"unknown option{'s' * (len(unknown) > 1)} {names}{hint}; {owner} {takes}; "
            f"top-level options it uses: {', '.join(top_level)}")


def _context(cls, module, total_steps) -> dict:
    """What a wrapper class takes from the run: the module (batch-norm statistics) and the number
    of steps."""
    accepted = inspect.signature(cls).parameters
    context = {}
    if "model" in accepted and module is not None:
        context["model"] = module
    if "total_steps" in accepted and total_steps is not None:
        context["total_steps"] = total_steps
    return context


def _rebuilt(optimizer, model_or_params, *, lr, weight_decay, module) -> torch.optim.Optimizer:
    """An optimizer of ``optimizer``'s class and constructor options (read back from its
    ``defaults``; a SAM-family wrapper's from its attributes, around its rebuilt base) over other
    parameters, built here so weight decay is decoupled as in ``fit``."""
    cls = type(optimizer)
    accepted = inspect.signature(cls).parameters
    if isinstance(optimizer, SAM):
        base = _rebuilt(optimizer.base, model_or_params, lr=lr, weight_decay=weight_decay, module=module)
        options = {k: getattr(optimizer, k) for k in accepted
                   if k not in ("base", "model", "scaler") and hasattr(optimizer, k)}
        return cls(base, **options, **_context(cls, module, None))
    options = {k: v for k, v in optimizer.defaults.items() if k in accepted and k not in SET_BY_FACTORY}
    info = optimizer_info(optimizer)
    spec = info.name if info is not None and info.cls is cls and info.name in OPTIMIZERS else cls
    own = own_settings(optimizer)
    lr = own["lr"] if lr is None else lr
    weight_decay = own["weight_decay"] if weight_decay is None else weight_decay
    return build_optimizer(spec, model_or_params, lr=lr, weight_decay=weight_decay, model=module, **options)


def own_settings(optimizer: torch.optim.Optimizer) -> dict:
    """The lr and weight decay an optimizer the user built runs with (``fit`` keeps its settings):
    its first group's lr and its groups' largest weight decay, coupled or decoupled."""
    return {"lr": float(optimizer.param_groups[0]["lr"]),
            "weight_decay": max(group_weight_decay(g) for g in optimizer.param_groups)}


def _rejected(info: OptimizerInfo, given: dict, extra: dict, err: Exception) -> str:
    """``optimizer = 'sgd': torch.optim.SGD rejected dampening = 0.5, nesterov = True: <torch's message>``,
    naming the options the message mentions, else the ``optimizer_options`` given (else all)."""
    text = str(err).lower()
    named = {k: v for k, v in given.items() if k.lower() in text or (k.endswith("s") and k[:-1].lower() in text)}
    named = named or extra or given
    options = ", ".join(f"{k} = {v!r}" for k, v in named.items())
    cls = info.cls
    where = f"torch.optim.{cls.__name__}" if cls.__module__.startswith("torch.optim") else cls.__name__
    return (f"optimizer = {info.name!r}: {where} rejected "
            f"{options or 'its options'}: {type(err).__name__}: {err}")


COMMON_OPTIMIZER_KEYS = ("lr", "momentum", "nesterov", "weight_decay", "betas", "eps",
                         "bias_correction", "lr_mults", "no_decay_bias_norm")


def optimizer_options(config) -> dict:
    """The run's options for ``build_optimizer``: the common keys (top-level options) and
    ``optimizer_options`` (the optimizer's other keywords: ``rho``, ``dampening``, ...), as
    ``fit``, ``doctor`` and ``trainwell lr-find`` pass them."""
    clash = sorted(set(config.optimizer_options) & set(COMMON_OPTIMIZER_KEYS))
    if clash:
        raise ConfigError(f"optimizer_options.{clash[0]}: set it as the top-level option {clash[0]!r} "
                          f"instead (optimizer_options is for the optimizer's other keywords)")
    common = {key: getattr(config, key) for key in COMMON_OPTIMIZER_KEYS}
    common.update(betas=tuple(config.betas), lr_mults=config.lr_mults or None)
    return {**common, **config.optimizer_options}
