"""Optimizers by name, with parameter groups (timm's rule) and decoupled weight decay for all.

    opt = build_optimizer("sgd", model, lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    opt = build_optimizer("adam", model, lr=1e-3, lr_mults={"0": 0.1})   # first layer at lr/10
    opt = build_optimizer("NAdam", model, lr=2e-3, momentum_decay=4e-3)  # any torch.optim class

``weight_decay`` is always *decoupled*: before each step w ← w − lr·λ·w, with the group's
current lr (so schedules scale it) and the group's λ (0 for biases and norm parameters). For
plain SGD this equals an L2 penalty (λ/2)‖w‖² in the loss; for adaptive methods it does not
(notes 004, "L2 regularization vs weight decay ... not the same for adaptive methods (AdaGrad,
RMSProp, Adam, etc)"; Loshchilov & Hutter 2019). Where the optimizer does exactly this
natively (trainwell's Adam, AdamW, torch classes with ``decoupled_weight_decay``) it does it;
otherwise one step pre-hook does it for every group with ``torch._foreach_mul_`` and the torch
optimizer gets weight_decay=0 (its own is coupled L2). Two exceptions: optimizers that evaluate
the closure at points of their own (Newton, NesterovLookahead) decay right after their step, and
L-BFGS, whose line search needs one fixed objective, minimizes L + (λ/2)‖w‖². The coupled L2
penalty is ``trainwell.optim.penalties.l2_penalty``, added to the loss.

Every group carries ``"lr_mult"``; the trainer sets group lr = base_lr·lr_mult·schedule(step)
(``schedules.as_lambda_lr`` does the same in your own loop). Update equations and sources:
docs/optimization.md.
"""
from __future__ import annotations

import difflib
import inspect
import math

import torch
from torch import nn

from trainwell.errors import ConfigError
from trainwell.optim.adam import Adam
from trainwell.optim.lookahead_sam import AOSAM, EGSAM, OGSAM
from trainwell.optim.newton import Newton
from trainwell.optim.sam import SAM
from trainwell.optim.teaching import AdaGrad, Nesterov, NesterovLookahead, RMSProp, SignSGD

# Normalization layers whose parameters get no weight decay (timm's rule); modules whose class
# name contains "Norm" (e.g. custom norms) count too.
NORM_LAYERS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm,
               nn.LocalResponseNorm)

DECOUPLED_KEY = "decoupled_weight_decay_rate"   # group key of λ when the hook applies it


# ------------------------------------------------------------------------------ parameter groups
def _is_norm(module: nn.Module) -> bool:
    return isinstance(module, NORM_LAYERS) or "Norm" in type(module).__name__


def _check_lr_mults(model: nn.Module, lr_mults: dict) -> None:
    if not isinstance(lr_mults, dict):
        raise ConfigError(f"lr_mults = {lr_mults!r}: must be a table of name prefix -> multiplier, "
                          f"e.g. {{\"0\": 0.1}}")
    names = [n for n, _ in model.named_parameters()]
    top = [n for n, _ in model.named_children()] + [n for n, _ in model.named_parameters(recurse=False)]
    for prefix, mult in lr_mults.items():
        if isinstance(mult, bool) or not isinstance(mult, (int, float)) or not (mult >= 0) \
                or not math.isfinite(mult):
            raise ConfigError(f"lr_mults[{prefix!r}] = {mult!r}: must be a finite number >= 0")
        if not any(n == prefix or n.startswith(prefix + ".") for n in names):
            close = difflib.get_close_matches(str(prefix), top, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"lr_mults: prefix {prefix!r} matches no parameter of the model{hint}; "
                              f"top-level names: {', '.join(top) or '(none)'}")


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
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) \
            or not (weight_decay >= 0) or not math.isfinite(weight_decay):
        raise ConfigError(f"weight_decay = {weight_decay!r}: must be a finite number >= 0")
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


def _groups_of(model_or_params, *, weight_decay, lr_mults, no_decay_bias_norm) -> list[dict]:
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


# ------------------------------------------------------------------------------ decoupled decay
def group_weight_decay(group: dict) -> float:
    """A param group's weight decay λ (each step takes lr·λ of the weights off), whether the hook
    applies it (``DECOUPLED_KEY``) or the optimizer does (``"weight_decay"``)."""
    return float(group.get(DECOUPLED_KEY) or group.get("weight_decay") or 0.0)


@torch.no_grad()
def _decay(optimizer) -> None:
    """w ← w·(1 − lr·λ) for each group's params that have a gradient (one fused op per group)."""
    for group in optimizer.param_groups:
        rate = group.get(DECOUPLED_KEY, 0.0)
        if rate:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                torch._foreach_mul_(params, 1.0 - group["lr"] * rate)


def _decoupled_weight_decay(optimizer, args, kwargs):
    """Step pre-hook. Without a closure the gradients are already there: decay now. With one,
    decay right after its first call, so the gradient is taken at the undecayed weights in both
    cases (the closure computes it inside ``step``)."""
    closure = kwargs.get("closure", args[1] if len(args) > 1 else None)   # args[0] is the optimizer
    if closure is None:
        _decay(optimizer)
        return None
    done = []

    def closure_then_decay(*a, **kw):      # e.g. backward=False for Newton's Hessian
        loss = closure(*a, **kw)
        if not done:
            done.append(True)
            _decay(optimizer)
        return loss
    return args[:1], {**{k: v for k, v in kwargs.items() if k != "closure"}, "closure": closure_then_decay}


def _decay_after_step(optimizer, args, kwargs) -> None:
    """Step post-hook: the decay for optimizers that evaluate the closure at points of their own."""
    _decay(optimizer)


def _with_hook_decay(cls, groups, **kwargs):
    """``cls`` with its own (coupled) weight_decay off and decoupled decay by a hook: before the
    step (``_decoupled_weight_decay``) or, for optimizers that call the closure at points of their
    own (``requires_closure``: Newton needs the closure's graph at the undecayed weights for its
    Hessian and line search; NesterovLookahead moves to x + ρv), right after the step."""
    for g in groups:
        g[DECOUPLED_KEY] = g.pop("weight_decay", 0.0)
        if "weight_decay" in inspect.signature(cls).parameters:
            g["weight_decay"] = 0.0
    if "weight_decay" in inspect.signature(cls).parameters:
        kwargs["weight_decay"] = 0.0
    optimizer = cls(groups, **kwargs)
    if getattr(cls, "requires_closure", False):
        optimizer.register_step_post_hook(_decay_after_step)
    else:
        optimizer.register_step_pre_hook(_decoupled_weight_decay)
    return optimizer


# ------------------------------------------------------------------------------ builders
def _sgd(groups, *, lr, momentum=0.0, nesterov=False, **extra):
    """SGD: w ← w − lr·g; momentum μ: b ← μb + g, w ← w − lr·b; Nesterov: w ← w − lr·(g + μb)."""
    if nesterov and momentum <= 0:
        raise ConfigError(f"optimizer = 'sgd': nesterov = true needs momentum > 0 "
                          f"(got momentum = {momentum!r})")
    return _with_hook_decay(torch.optim.SGD, groups, lr=lr, momentum=momentum, nesterov=nesterov,
                            **extra)


def _adagrad(groups, *, lr, eps=1e-8, **extra):
    """AdaGrad: s ← s + g², w ← w − lr·g/(√s + ε)."""
    return _with_hook_decay(torch.optim.Adagrad, groups, lr=lr, eps=eps, **extra)


def _rmsprop(groups, *, lr, alpha=0.99, eps=1e-8, momentum=0.0, **extra):
    """RMSProp: s ← αs + (1−α)g², w ← w − lr·g/(√s + ε) (with momentum on that step if > 0)."""
    return _with_hook_decay(torch.optim.RMSprop, groups, lr=lr, alpha=alpha, eps=eps,
                            momentum=momentum, **extra)


def _adam(groups, *, lr, betas=(0.9, 0.999), eps=1e-8, bias_correction=True, **extra):
    """trainwell's Adam: decoupled decay natively, bias correction optional."""
    return Adam(groups, lr=lr, betas=tuple(betas), eps=eps, bias_correction=bias_correction,
                **extra)


def _adamw(groups, *, lr, betas=(0.9, 0.999), eps=1e-8, bias_correction=True, **extra):
    """torch.optim.AdamW: decoupled decay natively (and its fused/foreach kernels, amsgrad)."""
    if not bias_correction:
        raise ConfigError("optimizer = 'adamw' always uses bias correction; for "
                          "bias_correction = false use optimizer = 'adam' (also decoupled decay)")
    return torch.optim.AdamW(groups, lr=lr, betas=tuple(betas), eps=eps, **extra)


def _lbfgs(groups, *, lr, **extra):
    """L-BFGS (torch.optim.LBFGS): one group, needs the closure. Its line search needs one fixed
    objective, so ``weight_decay`` λ is the L2 term (λ/2)‖w‖² of the objective it minimizes
    (``_l2_objective``; for plain SGD decoupled decay is the same step, notes 004), with the
    same parameters exempt (biases, norms). So fit's default weight_decay works with lbfgs."""
    if any(g.get("lr_mult", 1.0) != 1.0 for g in groups):
        raise ConfigError("optimizer = 'lbfgs': lr_mults are not supported (L-BFGS keeps a single "
                          "parameter group); remove lr_mults")
    decayed = [(list(g["params"]), float(g["weight_decay"])) for g in groups if g.get("weight_decay", 0.0)]
    merged = {"params": [p for g in groups for p in g["params"]], "lr_mult": 1.0}
    if all("param_names" in g for g in groups):
        merged["param_names"] = [n for g in groups for n in g["param_names"]]
    optimizer = torch.optim.LBFGS([merged], lr=lr, **extra)
    if decayed:
        optimizer.register_step_pre_hook(_l2_objective(decayed))
    return optimizer


def _l2_objective(decayed):
    """Step pre-hook for L-BFGS: every closure call returns loss + Σ (λ/2)‖w‖² and adds λw to the
    gradients, so the line search and the curvature pairs see one fixed objective."""
    def hook(optimizer, args, kwargs):
        closure = kwargs.get("closure", args[1] if len(args) > 1 else None)
        if closure is None:
            return None                                    # LBFGS.step raises its own error

        def closure_with_l2(*a, **kw):
            loss = closure(*a, **kw)
            with torch.no_grad():
                penalty = 0.0
                for params, rate in decayed:
                    params = [p for p in params if p.grad is not None]
                    if params:
                        torch._foreach_add_([p.grad for p in params], params, alpha=rate)
                        penalty = penalty + 0.5 * rate * torch.stack(torch._foreach_norm(params)).square().sum()
            return loss + penalty
        return args[:1], {**{k: v for k, v in kwargs.items() if k != "closure"}, "closure": closure_with_l2}
    return hook


def _torch_class(cls):
    """A builder for any torch.optim class: forwards the common options its constructor takes
    by the same name (momentum, nesterov, betas, eps; alpha when given) and ``extra``; decay as
    described above."""
    accepted = inspect.signature(cls).parameters

    def build(groups, *, lr, **options):
        common = {k: v for k, v in options.items() if k in _COMMON}
        extra = {k: v for k, v in options.items() if k not in _COMMON}
        kwargs = {k: v for k, v in common.items() if k in ("momentum", "nesterov", "betas", "eps")
                  and k in accepted and v is not None}
        if common.get("alpha") is not None and "alpha" in accepted:   # given explicitly only:
            kwargs["alpha"] = common["alpha"]                          # its meaning varies
        if "betas" in kwargs:
            kwargs["betas"] = tuple(kwargs["betas"])
        if "decoupled_weight_decay" in accepted:                # native and exactly ours
            return cls(groups, lr=lr, decoupled_weight_decay=True, **kwargs, **extra)
        return _with_hook_decay(cls, groups, lr=lr, **kwargs, **extra)
    return build


OPTIMIZERS = {
    "sgd": _sgd,
    "adagrad": _adagrad,
    "rmsprop": _rmsprop,
    "adam": _adam,
    "adamw": _adamw,
    "lbfgs": _lbfgs,
}

# the torch class behind each name: its constructor's other keywords are accepted as **extra
OPTIMIZER_CLASSES = {
    "sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
    "adam": Adam, "adamw": torch.optim.AdamW, "lbfgs": torch.optim.LBFGS,
}

# option -> (type, default, one-line doc); lr (every optimizer) and weight_decay (all but lbfgs)
# are common to all and described in docs/optimization.md
OPTIMIZER_OPTIONS = {
    "sgd": {
        "momentum": (float, 0.0, "momentum μ: b ← μb + g (notes 001/004: 0.9 is common)"),
        "nesterov": (bool, False, "Nesterov momentum: step along g + μb (notes 003/004)"),
    },
    "adagrad": {
        "eps": (float, 1e-8, "ε in g/(√s + ε)"),
    },
    "rmsprop": {
        "alpha": (float, 0.99, "decay α of the mean square s ← αs + (1−α)g² (notes 003: 0.9, 0.99)"),
        "eps": (float, 1e-8, "ε in g/(√s + ε)"),
        "momentum": (float, 0.0, "momentum on the RMSProp step"),
    },
    "adam": {
        "betas": (tuple, (0.9, 0.999), "β₁, β₂ of the first and second moments (notes 003/004)"),
        "eps": (float, 1e-8, "ε in m̂/(√v̂ + ε) (notes 003)"),
        "bias_correction": (bool, True, "divide m, v by 1 − βᵗ (notes 004 'Adam (full form)')"),
    },
    "adamw": {
        "betas": (tuple, (0.9, 0.999), "β₁, β₂ (Loshchilov & Hutter 2019)"),
        "eps": (float, 1e-8, "ε in m̂/(√v̂ + ε)"),
        "bias_correction": (bool, True, "must be true (AdamW always corrects)"),
    },
    "lbfgs": {},
}

# The notes' teaching variants and Newton, registered like torch classes (decay by the hook).
for _name, _cls, _options in (
        ("rmsprop_notes", RMSProp, {"eps": (float, 1e-7, "ε outside the root, as notes 003/004 write it")}),
        ("adagrad_notes", AdaGrad, {"eps": (float, 1e-7, "ε outside the root, as notes 003/004 write it")}),
        ("nesterov", Nesterov, {"momentum": (float, 0.9, "momentum μ (rearranged x̃ form, notes 001)")}),
        ("nesterov_lookahead", NesterovLookahead,
         {"momentum": (float, 0.9, "momentum μ (gradient at the look-ahead point, notes 003)")}),
        ("sign_sgd", SignSGD, {"momentum": (float, 0.0, "momentum on the sign step")}),
        ("newton", Newton, {})):
    OPTIMIZERS[_name] = _torch_class(_cls)
    OPTIMIZER_CLASSES[_name] = _cls
    OPTIMIZER_OPTIONS[_name] = _options

# Wrappers: a base optimizer (built by name, with decoupled decay) inside a two-pass method.
# option -> (type, default, doc); `base` names the inner optimizer.
_SAM_COMMON = {"base": (str, "sgd", "the base optimizer's name (it takes the run's common options)"),
               "rho": (float, 0.05, "neighbourhood radius ρ (Foret et al. 2021)")}
WRAPPERS = {
    "sam": (SAM, {}, {**_SAM_COMMON,
                      "every": (int, 1, "perturb only every k-th step (efficient SAM)"),
                      "start_fraction": (float, 0.0, "plain steps until this fraction of the run")}),
    "asam": (SAM, {"adaptive": True}, {**_SAM_COMMON,
                                       "rho": (float, 0.5, "ρ (Kwon et al. 2021 use 0.5-2 with SGD)"),
                                       "eta": (float, 0.01, "η in T = |w| + η")}),
    "eg_sam": (EGSAM, {}, {**_SAM_COMMON, "extrapolation_lr": ((float, type(None)), None,
                                                               "η in w − η·g (None: the group's lr)")}),
    "og_sam": (OGSAM, {}, {**_SAM_COMMON, "extrapolation_lr": ((float, type(None)), None,
                                                               "η in w − η·g (None: the group's lr)")}),
    "ao_sam": (AOSAM, {}, {**_SAM_COMMON,
                           "delta": (float, 0.9, "EMA factor of μ, σ² of ‖g‖² (AE-SAM)"),
                           "c_start": (float, 2.0, "threshold c_t at the start"),
                           "c_end": (float, 0.0, "threshold c_t at the end")}),
}


def _build_wrapper(name, model_or_params, *, model=None, total_steps=None, **kwargs):
    """``SAM(build_optimizer(base, ...), rho=...)`` and its relatives; ``model`` (an nn.Module)
    protects batch-norm statistics in the second pass, ``total_steps`` feeds step-based options."""
    cls, fixed, options = WRAPPERS[name]
    own = {k: default for k, (_, default, _) in options.items()}        # the table's defaults
    own.update({k: kwargs.pop(k) for k in list(kwargs) if k in options})
    base = own.pop("base", "sgd")
    if base in WRAPPERS:
        raise ConfigError(f"optimizer = {name!r}: base = {base!r} is itself a wrapper; use sgd, adam, ...")
    base_cls = _resolve(base)[1]
    base_extra = set(inspect.signature(base_cls).parameters) - _OWN     # e.g. SGD's dampening
    unknown = sorted(set(kwargs) - set(inspect.signature(build_optimizer).parameters) - base_extra)
    if unknown:
        raise ConfigError(f"optimizer = {name!r}: unknown option {unknown[0]!r}; allowed: "
                          f"{', '.join(sorted(options))} and the base optimizer's options "
                          f"({base_cls.__name__} also takes: {', '.join(sorted(base_extra)) or '(none)'})")
    inner = build_optimizer(base, model_or_params, **kwargs)
    accepted = inspect.signature(cls.__init__).parameters
    if cls is OGSAM:
        accepted = inspect.signature(EGSAM.__init__).parameters
    extra = {}
    if "model" in accepted and isinstance(model, nn.Module):
        extra["model"] = model
    if "total_steps" in accepted and total_steps is not None:
        extra["total_steps"] = total_steps
    return cls(inner, **{**own, **fixed}, **extra)


_COMMON = ("momentum", "nesterov", "betas", "eps", "bias_correction", "alpha")
_OWN = {"self", "params", "lr", "weight_decay", "decoupled_weight_decay"}


def _resolve(name):
    """(builder, class) for a registered name, a torch.optim class name, or an Optimizer class."""
    if isinstance(name, type) and issubclass(name, torch.optim.Optimizer):
        return _torch_class(name), name
    if isinstance(name, str) and name in OPTIMIZERS:
        return OPTIMIZERS[name], OPTIMIZER_CLASSES[name]
    cls = getattr(torch.optim, name, None) if isinstance(name, str) else None
    if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer) and cls is not torch.optim.Optimizer:
        return _torch_class(cls), cls
    known = list(OPTIMIZERS) + [n for n in dir(torch.optim) if isinstance(getattr(torch.optim, n), type)
                                and issubclass(getattr(torch.optim, n), torch.optim.Optimizer)
                                and n != "Optimizer"]
    close = difflib.get_close_matches(str(name), known + list(WRAPPERS), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ConfigError(f"optimizer = {name!r}: unknown{hint}; allowed: {', '.join(OPTIMIZERS)}, "
                      f"{', '.join(WRAPPERS)}, or a torch.optim class name "
                      f"({', '.join(known[len(OPTIMIZERS):])})")


def check_optimizer_name(name) -> None:
    """Raise ConfigError unless ``name`` is a registered optimizer, a wrapper (sam, ...) or a
    torch.optim class name."""
    if name not in WRAPPERS:
        _resolve(name)


def _check_number(key, value, ok, allowed):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not ok(value):
        raise ConfigError(f"{key} = {value!r}: must be {allowed}")


def build_optimizer(name: str, model_or_params, *, lr: float, momentum: float | None = None,
                    nesterov: bool = False, weight_decay: float = 0.0, betas=(0.9, 0.999),
                    eps: float | None = None, bias_correction: bool = True, alpha: float | None = None,
                    lr_mults: dict | None = None, no_decay_bias_norm: bool = True,
                    **extra) -> torch.optim.Optimizer:
    """The optimizer ``name`` over a model (grouped by ``param_groups``) or a list of parameters.

    ``name``: a key of ``OPTIMIZERS`` (sgd, adagrad, rmsprop, adam, adamw, lbfgs), any
    torch.optim class name ("NAdam", "RAdam", ...) or an Optimizer class itself. The common
    options apply to the optimizers that have them (``OPTIMIZER_OPTIONS``) and are ignored by the
    others; ``weight_decay`` is decoupled for all (for lbfgs: the L2 term of its objective).
    ``momentum``, ``eps`` and ``alpha`` of None keep the optimizer's own default
    (``OPTIMIZER_OPTIONS``: momentum 0 for sgd, 0.9 for nesterov; eps 1e-8, or the notes' 1e-7 for
    rmsprop_notes / adagrad_notes; for a torch class they are forwarded only when given). ``extra``
    goes to the optimizer's constructor; an unknown key raises ConfigError naming it and the
    accepted ones, and a value the constructor rejects raises ConfigError naming the optimizer,
    the option and torch's message.
    """
    if isinstance(name, str) and name in WRAPPERS:
        return _build_wrapper(name, model_or_params, lr=lr, momentum=momentum, nesterov=nesterov,
                              weight_decay=weight_decay, betas=betas, eps=eps,
                              bias_correction=bias_correction, alpha=alpha, lr_mults=lr_mults,
                              no_decay_bias_norm=no_decay_bias_norm, **extra)
    extra.pop("model", None)          # only wrappers use these two
    extra.pop("total_steps", None)
    builder, cls = _resolve(name)
    _check_number("lr", lr, lambda v: v > 0, "a number > 0")
    if momentum is not None:
        _check_number("momentum", momentum, lambda v: 0 <= v < 1, "a number in [0, 1)")
    _check_number("weight_decay", weight_decay, lambda v: v >= 0, "a number >= 0")
    if eps is not None:
        _check_number("eps", eps, lambda v: v > 0, "a number > 0")
    if alpha is not None:
        _check_number("alpha", alpha, lambda v: 0 <= v < 1, "a number in [0, 1)")
    if len(tuple(betas)) != 2 or not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in betas):
        raise ConfigError(f"betas = {betas!r}: must be two numbers in [0, 1), e.g. (0.9, 0.999)")
    accepted = set(inspect.signature(cls).parameters) - _OWN - set(OPTIMIZER_OPTIONS.get(name, {}))
    if name in OPTIMIZERS:
        accepted -= set(_COMMON)
    unknown = sorted(set(extra) - accepted)
    if unknown:
        raise ConfigError(f"optimizer = {name!r}: unknown option{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(map(repr, unknown))}; {cls.__name__} accepts: "
                          f"{', '.join(sorted(accepted)) or '(none)'}")
    groups = _groups_of(model_or_params, weight_decay=weight_decay, lr_mults=lr_mults,
                        no_decay_bias_norm=no_decay_bias_norm)
    common = dict(momentum=momentum, nesterov=nesterov, betas=tuple(betas), eps=eps,
                  bias_correction=bias_correction, alpha=alpha)
    if name in OPTIMIZERS:
        common = {k: v for k, v in common.items() if k in OPTIMIZER_OPTIONS[name] and v is not None}
    try:
        return builder(groups, lr=lr, **common, **extra)
    except ConfigError:
        raise
    except (TypeError, ValueError) as err:             # the torch class rejected a value
        raise ConfigError(_rejected(name, cls, common, extra, err)) from err


def _rejected(name, cls, common: dict, extra: dict, err: Exception) -> str:
    """``optimizer = 'sgd': torch.optim.SGD rejected dampening = 0.5, nesterov = True: <torch's message>``,
    naming the options the message mentions, else the ``optimizer_options`` given (else all)."""
    given = {**{k: v for k, v in common.items() if v is not None}, **extra}
    text = str(err).lower()
    named = {k: v for k, v in given.items() if k.lower() in text or (k.endswith("s") and k[:-1].lower() in text)}
    named = named or extra or given
    options = ", ".join(f"{k} = {v!r}" for k, v in named.items())
    where = f"torch.optim.{cls.__name__}" if cls.__module__.startswith("torch.optim") else cls.__name__
    label = name if isinstance(name, str) else cls.__name__
    return (f"optimizer = {label!r}: {where} rejected "
            f"{options or 'its options'}: {type(err).__name__}: {err}")
