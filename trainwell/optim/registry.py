"""One record per optimizer (as timm's ``OptimInfo``): ``OPTIMIZERS`` maps each name to its
``OptimizerInfo``, and every consumer asks the record: the factory builds from it, the config
validator checks names with ``check_optimizer_name``, docs/optimization.md's table is
``optimizers_markdown()``, the babysitter reads its defaults and traits (``default_lr``,
``second_order``, ``optimizer_info(opt)`` for a built optimizer), and the test suite runs every
record (tests/optim/test_registry.py).

Adding an optimizer is one record plus its test:

1. the update rule as a ``torch.optim.Optimizer`` (a file of its own, e.g. ``bfgs.py``), or an
   existing class;
2. one ``OptimizerInfo`` in ``OPTIMIZERS`` below: the name, the class, the common options it uses
   (``_uses("momentum", 0.9, doc, source)``) or its own (``Option``), a one-line description and
   its source, ``default_lr``, ``second_order`` and how it gets weight decay (``decay``); the
   other traits (closure, two passes, momentum, betas, wrapper) follow from the class and options;
3. its test: an entry in ``CONVERGENCE`` in tests/optim/test_registry.py (the suite fails without
   one) and a test of its rule against a reference written from the equations
   (tests/optim/test_<file>.py);
4. the docs row: paste ``optimizers_markdown()`` into docs/optimization.md (a test compares them).
"""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from typing import Callable

import torch

from trainwell.errors import ConfigError
from trainwell.optim.adam import Adam
from trainwell.optim.bfgs import BFGS
from trainwell.optim.decay import (AFTER_STEP, BEFORE_STEP, BY_BASE, L2_OBJECTIVE, NATIVE, l2_objective,
                                   with_hook_decay)
from trainwell.optim.lookahead_sam import AOSAM, EGSAM, OGSAM
from trainwell.optim.newton import Newton
from trainwell.optim.sam import SAM
from trainwell.optim.teaching import NOTES_EPS, AdaGrad, Nesterov, NesterovLookahead, RMSProp, SignSGD
from trainwell.options import NUMBER, Option, did_you_mean, non_negative, positive, unit_interval

# The lr when none is given (build_optimizer without lr, the babysitter's probes):
ADAPTIVE_LR = 1e-3        # notes 004: Adam "learning_rate = 1e-3 ... is a great starting point"
SGD_LR = 1e-2             # SGD-type steps (Keras's SGD default; the teaching classes' default)
FULL_STEP_LR = 1.0        # Newton and quasi-Newton take the full step (notes 004: Newton has
                          # "no hyperparameters (e.g. learning rate)")


def _two_betas(v):
    if len(v) != 2 or not all(isinstance(b, NUMBER) and not isinstance(b, bool) and 0 <= b < 1 for b in v):
        return "must be two numbers in [0, 1), e.g. (0.9, 0.999)"
    return None


# The options build_optimizer takes for every optimizer, checked on every call (the same checks
# and messages as the config's). A record lists the ones its optimizer uses, with its defaults;
# the others are ignored, so one config can switch optimizers. None: the optimizer's own default.
COMMON_OPTIONS = {
    "lr": Option(float, None, "base learning rate ε₀ (None: the record's default_lr)", check=positive),
    "weight_decay": Option(float, 0.0, "decoupled weight decay λ: w ← w − ε·λ·w", check=non_negative,
                           source="Loshchilov & Hutter 2019; notes 004"),
    "momentum": Option(float, None, "momentum coefficient", check=unit_interval),
    "nesterov": Option(bool, None, "Nesterov momentum"),
    "betas": Option((list, tuple), None, "β₁, β₂ of the first and second moments", check=_two_betas),
    "eps": Option(float, None, "ε added to the denominator", check=positive),
    "bias_correction": Option(bool, None, "divide m, v by 1 − βᵗ"),
    "alpha": Option(float, None, "smoothing constant α of the mean square", check=unit_interval),
}
# Constructor keywords that are never an optimizer's "other" options: the factory sets them.
SET_BY_FACTORY = {"self", "params", "lr", "weight_decay", "decoupled_weight_decay"}


def _uses(name: str, default, doc: str, source: str = "") -> Option:
    """A common option as one optimizer uses it: its default, doc and source."""
    return COMMON_OPTIONS[name]._replace(default=default, doc=doc, source=source)


@dataclass(frozen=True)
class OptimizerInfo:
    """Everything trainwell knows about one optimizer.

    ``options``: the common options it uses (``COMMON_OPTIONS`` names, with its defaults) and, for
    a wrapper, its own (``base`` names the base optimizer); other constructor keywords are
    accepted as they are (config: ``optimizer_options``). ``build(info, groups, *, lr, **options)``
    builds it from parameter groups (None: ``build_class``). ``fixed``: constructor arguments the
    name implies (asam: ``adaptive=True``). ``aliases``: other names with the options they imply.
    ``default_lr``: the lr when none is given (None for a wrapper: its base's). ``decay``: how it
    gets decoupled weight decay (``trainwell.optim.decay``).
    """

    name: str
    cls: type
    description: str
    source: str
    options: dict = field(default_factory=dict)
    build: Callable | None = None
    default_lr: float | None = ADAPTIVE_LR
    second_order: bool = False
    decay: str = BEFORE_STEP
    fixed: dict = field(default_factory=dict)
    aliases: dict = field(default_factory=dict)

    @property
    def needs_closure(self) -> bool:
        """``step(closure)`` evaluates the loss itself (maybe several times)."""
        return issubclass(self.cls, torch.optim.LBFGS) or getattr(self.cls, "requires_closure", False)

    @property
    def two_pass(self) -> bool:
        """Two gradients per step (the SAM family)."""
        return issubclass(self.cls, SAM)

    @property
    def wrapper(self) -> bool:
        """Wraps a base optimizer built by name (``options["base"]``)."""
        return "base" in self.options

    @property
    def momentum(self) -> bool:
        return "momentum" in self.options

    @property
    def betas(self) -> bool:
        return "betas" in self.options

    @property
    def native_decay(self) -> bool:
        return self.decay == NATIVE

    def traits(self) -> list[str]:
        """The traits in words, for docs and messages."""
        named = [("momentum", self.momentum), ("betas", self.betas), ("closure", self.needs_closure),
                 ("two passes", self.two_pass), ("second order", self.second_order),
                 ("wrapper", self.wrapper)]
        return [word for word, on in named if on]

    def other_options(self) -> dict:
        """Constructor keywords beyond the common and own options: name -> default."""
        if self.wrapper:
            return {}
        params = inspect.signature(self.cls).parameters
        return {k: p.default for k, p in params.items()
                if k not in SET_BY_FACTORY and k not in COMMON_OPTIONS and k not in self.options
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


# ------------------------------------------------------------------------------ builders
def build_class(info: OptimizerInfo, groups: list[dict], *, lr: float, **kwargs) -> torch.optim.Optimizer:
    """``info.cls(groups, lr=lr, **kwargs)`` with decoupled weight decay as ``info.decay`` says."""
    if info.decay == NATIVE:
        if "decoupled_weight_decay" in inspect.signature(info.cls).parameters:
            kwargs["decoupled_weight_decay"] = True
        return info.cls(groups, lr=lr, **kwargs)
    return with_hook_decay(info.cls, groups, after_step=info.decay == AFTER_STEP, lr=lr, **kwargs)


def _sgd(info, groups, *, lr, momentum, nesterov, **kwargs):
    if nesterov and momentum <= 0:
        raise ConfigError(f"optimizer = 'sgd': nesterov = true needs momentum > 0 "
                          f"(got momentum = {momentum!r})")
    return build_class(info, groups, lr=lr, momentum=momentum, nesterov=nesterov, **kwargs)


def _adamw(info, groups, *, lr, bias_correction, **kwargs):
    if not bias_correction:
        raise ConfigError("optimizer = 'adamw' always uses bias correction; for "
                          "bias_correction = false use optimizer = 'adam' (also decoupled decay)")
    return build_class(info, groups, lr=lr, **kwargs)


def _lbfgs(info, groups, *, lr, **kwargs):
    """One merged group (L-BFGS keeps a single one); ``weight_decay`` λ becomes the L2 term
    (λ/2)‖w‖² of the objective, with the same parameters exempt (biases, norms)."""
    if any(g.get("lr_mult", 1.0) != 1.0 for g in groups):
        raise ConfigError("optimizer = 'lbfgs': lr_mults are not supported (L-BFGS keeps a single "
                          "parameter group); remove lr_mults")
    decayed = [(list(g["params"]), float(g["weight_decay"])) for g in groups if g.get("weight_decay", 0.0)]
    merged = {"params": [p for g in groups for p in g["params"]], "lr_mult": 1.0}
    if all("param_names" in g for g in groups):
        merged["param_names"] = [n for g in groups for n in g["param_names"]]
    optimizer = info.cls([merged], lr=lr, **kwargs)
    if decayed:
        optimizer.register_step_pre_hook(l2_objective(decayed))
    return optimizer


# ------------------------------------------------------------------------------ the records
_MOMENTUM_09 = "notes 001/004: 0.9 is common"
_SAM_BASE = Option(str, "sgd", "the base optimizer's name (it takes the run's common options)",
                   source="Foret et al. 2021 (SGD with momentum)")
_SAM_RHO = Option(NUMBER, 0.05, "neighbourhood radius ρ", source="Foret et al. 2021, CIFAR setting")
_EXTRAPOLATION = Option((float, type(None)), None, "η in w − η·g (None: the group's lr)",
                        source="Yu, Zhang & Kwok 2024")

OPTIMIZERS: dict[str, OptimizerInfo] = {info.name: info for info in (
    OptimizerInfo(
        "sgd", torch.optim.SGD,
        "w ← w − ε·g; momentum μ: b ← μb + g, w ← w − ε·b; Nesterov: w ← w − ε·(g + μb)",
        "notes 000/002/004 (SGD, SGD+Momentum, Nesterov); Sutskever et al. 2013",
        options={"momentum": _uses("momentum", 0.0, "momentum μ: b ← μb + g", _MOMENTUM_09),
                 "nesterov": _uses("nesterov", False, "step along g + μb", "notes 003/004")},
        build=_sgd, default_lr=SGD_LR, aliases={"momentum": {"momentum": 0.9}}),
    OptimizerInfo(
        "adagrad", torch.optim.Adagrad, "s ← s + g², w ← w − ε·g/(√s + eps)",
        "notes 003/004 AdaGrad (Duchi et al. 2011)",
        options={"eps": _uses("eps", 1e-8, "ε in g/(√s + ε)", "notes 003")}),
    OptimizerInfo(
        "rmsprop", torch.optim.RMSprop, "s ← αs + (1 − α)g², w ← w − ε·g/(√s + eps)",
        "notes 002/003/004 RMSProp (Tieleman & Hinton 2012)",
        options={"alpha": _uses("alpha", 0.99, "α of s ← αs + (1 − α)g²", "notes 003: 0.9, 0.99"),
                 "eps": _uses("eps", 1e-8, "ε in g/(√s + ε)", "notes 003"),
                 "momentum": _uses("momentum", 0.0, "momentum on the RMSProp step",
                                   "torch.optim.RMSprop's default")}),
    OptimizerInfo(
        "adam", Adam, "m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², w ← w − ε·m̂/(√v̂ + eps)",
        "notes 003/004 Adam (full form); Kingma & Ba 2015",
        options={"betas": _uses("betas", (0.9, 0.999), "β₁, β₂ of the first and second moments", "notes 003"),
                 "eps": _uses("eps", 1e-8, "ε in m̂/(√v̂ + ε)", "notes 003"),
                 "bias_correction": _uses("bias_correction", True, "divide m, v by 1 − βᵗ",
                                          "notes 004 'Adam (full form)'")},
        decay=NATIVE),
    OptimizerInfo(
        "adamw", torch.optim.AdamW, "adam with bias correction (torch's fused/foreach kernels, amsgrad)",
        "notes 004 'AdamW: Decoupled Weight Decay'; Loshchilov & Hutter 2019",
        options={"betas": _uses("betas", (0.9, 0.999), "β₁, β₂", "Loshchilov & Hutter 2019"),
                 "eps": _uses("eps", 1e-8, "ε in m̂/(√v̂ + ε)", "notes 003"),
                 "bias_correction": _uses("bias_correction", True, "must be true (AdamW always corrects)",
                                          "Loshchilov & Hutter 2019")},
        build=_adamw, decay=NATIVE),
    OptimizerInfo(
        "lbfgs", torch.optim.LBFGS,
        "quasi-Newton from the last history_size pairs (Δw, Δg); one group, no lr_mults",
        "notes 003/004 'L-BFGS'; Liu & Nocedal 1989",
        build=_lbfgs, default_lr=FULL_STEP_LR, second_order=True, decay=L2_OBJECTIVE),
    OptimizerInfo(
        "bfgs", BFGS, "d = −Hg, Armijo backtracking; H ← (I − ρsyᵀ)H(I − ρysᵀ) + ρssᵀ",
        "notes 004 'Quasi-Newton methods (BGFS most popular)'; Nocedal & Wright 2006, eq. 6.17",
        default_lr=FULL_STEP_LR, second_order=True, decay=AFTER_STEP),
    OptimizerInfo(
        "rmsprop_notes", RMSProp, "s ← βs + (1−β)g², θ ← θ − lr·g/(√s + ε)",
        "notes 003/004 RMSProp, as CS231n's code writes it",
        options={"eps": _uses("eps", NOTES_EPS, "ε outside the root", "notes 004: + 1e-7")}),
    OptimizerInfo(
        "adagrad_notes", AdaGrad, "s ← s + g², θ ← θ − lr·g/(√s + ε)",
        "notes 003/004 AdaGrad, as CS231n's code writes it",
        options={"eps": _uses("eps", NOTES_EPS, "ε outside the root", "notes 004: + 1e-7")}),
    OptimizerInfo(
        "nesterov", Nesterov, "v ← ρv − lr∇f(x̃), x̃ ← x̃ − ρv_old + (1+ρ)v",
        "notes 004 Nesterov momentum (rearranged form)",
        options={"momentum": _uses("momentum", 0.9, "momentum ρ", _MOMENTUM_09)}, default_lr=SGD_LR),
    OptimizerInfo(
        "nesterov_lookahead", NesterovLookahead, "v ← ρv − lr∇f(x + ρv), x ← x + v",
        "notes 004 Nesterov momentum (first form); notes 003",
        options={"momentum": _uses("momentum", 0.9, "momentum ρ", _MOMENTUM_09)}, default_lr=SGD_LR,
        decay=AFTER_STEP),
    OptimizerInfo(
        "sign_sgd", SignSGD, "θ ← θ − lr·sign(m), m = g or an EMA of g (Signum)",
        "notes 001 'one-bit gradients'; Bernstein et al. 2018",
        options={"momentum": _uses("momentum", 0.0, "β of the EMA m (0: sign(g); 0.9: Signum)",
                                   "Bernstein et al. 2018")}),
    OptimizerInfo(
        "newton", Newton, "θ ← θ − t·lr·(H + λI)⁻¹g, Armijo backtracking",
        "notes 004 'Second order optimization methods'; Nocedal & Wright 2006",
        default_lr=FULL_STEP_LR, second_order=True, decay=AFTER_STEP),
    OptimizerInfo(
        "sam", SAM, "w̃ = w + ρg/‖g‖, the base steps with ∇L(w̃)", "Foret et al. 2021",
        options={"base": _SAM_BASE, "rho": _SAM_RHO,
                 "every": Option(int, 1, "perturb only every k-th step (efficient SAM)",
                                 source="LookSAM-style periodic SAM (Liu et al. 2022)"),
                 "start_fraction": Option(NUMBER, 0.0, "plain steps until this fraction of the run",
                                          source="trainwell convention; docs/sam.md")},
        default_lr=None, decay=BY_BASE),
    OptimizerInfo(
        "asam", SAM, "w̃ = w + ρT²g/‖Tg‖, T = |w| + η", "Kwon et al. 2021",
        options={"base": _SAM_BASE,
                 "rho": Option(NUMBER, 0.5, "neighbourhood radius ρ", source="Kwon et al. 2021: 0.5-2 with SGD"),
                 "eta": Option(NUMBER, 0.01, "η in T = |w| + η", source="Kwon et al. 2021")},
        default_lr=None, decay=BY_BASE, fixed={"adaptive": True}),
    OptimizerInfo(
        "eg_sam", EGSAM, "w̃ = w − ηg + ρg/‖g‖", "notes 004; Yu, Zhang & Kwok 2024",
        options={"base": _SAM_BASE, "rho": _SAM_RHO, "extrapolation_lr": _EXTRAPOLATION},
        default_lr=None, decay=BY_BASE),
    OptimizerInfo(
        "og_sam", OGSAM, "w̃ = w − ηĝ_{t−1} + ρg/‖g‖", "notes 004; Yu, Zhang & Kwok 2024",
        options={"base": _SAM_BASE, "rho": _SAM_RHO, "extrapolation_lr": _EXTRAPOLATION},
        default_lr=None, decay=BY_BASE),
    OptimizerInfo(
        "ao_sam", AOSAM, "OG-SAM where ‖g‖² ≥ μ + c_t·σ, else a plain step (needs total_steps)",
        "notes 004; Yu, Zhang & Kwok 2024 with AE-SAM's policy (Jiang et al. 2023)",
        options={"base": _SAM_BASE, "rho": _SAM_RHO,
                 "delta": Option(NUMBER, 0.9, "EMA factor of μ, σ² of ‖g‖²", source="Jiang et al. 2023"),
                 "c_start": Option(NUMBER, 2.0, "threshold c_t at the start (in standard deviations)",
                                   source="docs/sam.md: ≈20% SAM steps over a run"),
                 "c_end": Option(NUMBER, 0.0, "threshold c_t at the end (in standard deviations)",
                                 source="docs/sam.md: ≈20% SAM steps over a run")},
        default_lr=None, decay=BY_BASE),
)}


# ------------------------------------------------------------------------------ asking the records
def _is_optimizer_class(value) -> bool:
    return isinstance(value, type) and issubclass(value, torch.optim.Optimizer) \
        and value is not torch.optim.Optimizer


def _torch_class_names() -> list[str]:
    return [n for n in dir(torch.optim) if _is_optimizer_class(getattr(torch.optim, n))]


@functools.cache
def class_info(cls: type) -> OptimizerInfo:
    """The record of an unregistered Optimizer class (a torch.optim class name, or a class
    given itself): the common options its constructor takes by the same name, passed only when
    given (``alpha``'s meaning varies between classes); decay natively where the class has
    ``decoupled_weight_decay``, else by a hook."""
    accepted = inspect.signature(cls).parameters
    options = {k: COMMON_OPTIONS[k] for k in ("momentum", "nesterov", "betas", "eps", "alpha") if k in accepted}
    if "decoupled_weight_decay" in accepted:
        decay = NATIVE
    else:
        decay = AFTER_STEP if getattr(cls, "requires_closure", False) else BEFORE_STEP
    where = f"torch.optim.{cls.__name__}" if cls.__module__.startswith("torch.optim") else cls.__qualname__
    return OptimizerInfo(cls.__name__, cls, f"{where}'s own update rule", "its documentation",
                         options=options, decay=decay)


def lookup(spec, *, key: str = "optimizer") -> tuple[OptimizerInfo, dict]:
    """``(record, options the name implies)`` for a registered name, an alias, a torch.optim
    class name or an Optimizer class; anything else is a ConfigError naming ``key`` (the option
    that gave the name: a wrapper's base is ``optimizer_options.base``) and listing the names."""
    if isinstance(spec, str):
        if spec in OPTIMIZERS:
            return OPTIMIZERS[spec], {}
        for info in OPTIMIZERS.values():
            if spec in info.aliases:
                return info, dict(info.aliases[spec])
        cls = getattr(torch.optim, spec, None)
        if _is_optimizer_class(cls):
            return class_info(cls), {}
    elif _is_optimizer_class(spec):
        return class_info(spec), {}
    aliases = {a: (info.name, o) for info in OPTIMIZERS.values() for a, o in info.aliases.items()}
    torch_names = _torch_class_names()
    also = ", ".join(f"{a!r} ({name} with {', '.join(f'{k} = {v}' for k, v in o.items())})"
                     for a, (name, o) in aliases.items())
    raise ConfigError(f"{key} = {spec!r}: unknown{did_you_mean(spec, [*OPTIMIZERS, *aliases, *torch_names])}; "
                      f"allowed: {', '.join(OPTIMIZERS)}, or a torch.optim class name ({', '.join(torch_names)}); "
                      f"it also takes {also}, and from Python an Optimizer class, a callable "
                      f"params -> torch.optim.Optimizer, or an optimizer")


def check_optimizer_name(name) -> None:
    """Raise ConfigError unless ``name`` is a registered optimizer, an alias or a torch.optim
    class name."""
    lookup(name)


def default_lr(spec, *, base=None) -> float:
    """The lr to use when none is given: the record's ``default_lr``; a wrapper's is its base's
    (``base``, else the record's default base). A callable or an unregistered class: ADAPTIVE_LR."""
    if not (isinstance(spec, str) or _is_optimizer_class(spec)):
        return ADAPTIVE_LR
    info, _ = lookup(spec)
    if info.wrapper:
        return default_lr(info.options["base"].default if base is None else base)
    return info.default_lr


def optimizer_info(optimizer: torch.optim.Optimizer) -> OptimizerInfo | None:
    """The record of a built optimizer: the registered one of its class (or nearest base class;
    for the SAM family the wrapper's, e.g. ``asam`` for ``SAM(adaptive=True)``, with the base
    optimizer at ``optimizer.base``), the class's own record for any other torch.optim class,
    None for a class of the user's or another library's."""
    for cls in type(optimizer).__mro__:
        if cls is torch.optim.Optimizer:
            break
        matches = [info for info in OPTIMIZERS.values() if info.cls is cls
                   and all(getattr(optimizer, k, None) == v for k, v in info.fixed.items())]
        if matches:
            return max(matches, key=lambda info: len(info.fixed))
        if cls.__module__.startswith("torch.optim"):
            return class_info(cls)
    return None


# ------------------------------------------------------------------------------ docs
def _value(v) -> str:
    return "—" if v is inspect.Parameter.empty else f"`{v!r}`"


def optimizers_markdown() -> str:
    """docs/optimization.md's two tables of the registry: every optimizer, then every option of
    each (a test keeps them current)."""
    return _overview_table() + "\n\n" + _options_table()


def _options_table() -> str:
    rows = ["| name | option | default | meaning | source |", "| --- | --- | --- | --- | --- |"]
    for info in OPTIMIZERS.values():
        for key, option in info.options.items():
            rows.append(f"| `{info.name}` | `{key}` | {_value(option.default)} | {option.doc.replace('|', chr(92) + '|')} "
                        f"| {option.source or '—'} |")
    return "\n".join(rows)


def _overview_table() -> str:
    rows = ["| name | class | options (default) | other options | traits | update | source |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for info in OPTIMIZERS.values():
        cls = f"torch.optim.{info.cls.__name__}" if info.cls.__module__.startswith("torch.optim") \
            else info.cls.__name__
        if info.fixed:
            cls += "(" + ", ".join(f"{k}={v!r}" for k, v in info.fixed.items()) + ")"
        options = ", ".join(f"`{k}` ({_value(o.default)})" for k, o in info.options.items())
        if info.wrapper:
            other = "the base's"
        elif info.cls.__module__.startswith("torch."):
            other = f"the class's other keywords (`{info.cls.__name__}`)"
        else:
            other = ", ".join(f"`{k}` ({_value(v)})" for k, v in info.other_options().items())
        traits = ", ".join(info.traits() + [f"decay: {info.decay}"]
                           + ([f"lr {info.default_lr:g}"] if info.default_lr is not None else []))
        update = info.description.replace("|", "\\|")
        rows.append(f"| `{info.name}` | `{cls}` | {options or '—'} | {other or '—'} | {traits} | {update} "
                    f"| {info.source} |")
    return "\n".join(rows)
