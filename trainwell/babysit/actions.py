"""Repair actions: the changes the babysitter's repairs make, as typed values.

An ``Action`` is one kind of change: its name, what it changes, where a repair with it rolls back
to by default, and the function that applies it through ``state.controls`` (the documented
controls of a running training, trainwell/train/controls.py) or on the model in place. ``ACTIONS``
holds every one. A ``Plan`` is a planner's decision for one finding (plans.py): the action, its
options, where to roll back first (``Rollback``) and the reason in words.

    plan = make_plan("lower_lr", "the loss exploded: lower the lr 10x", factor=10.0, clip_norm=None)
    detail = plan.action.apply(state.controls, plan.options, seed=0)   # "lr scale x1/10"
"""
from __future__ import annotations

import dataclasses
import enum
import functools
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from trainwell.nn.init import fans, init, layers_of

SATURATING = (nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardsigmoid)
RELU_FAMILY = (nn.ReLU, nn.ReLU6, nn.ELU, nn.CELU, nn.SELU, nn.GELU, nn.SiLU, nn.Mish,
               nn.LeakyReLU, nn.PReLU)
# Final activations a from-logits loss applies (or clips) itself: removable as the repair of a
# loss/output mismatch.
OUTPUT_ACTIVATIONS = (nn.Softmax, nn.LogSoftmax, nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardsigmoid, nn.Softsign,
                      nn.ReLU, nn.ReLU6, nn.Softplus)
NESTEROV_MOMENTUM = 0.9     # notes 001/004: momentum 0.9 is common
XAVIER_GAIN = 1.0           # notes 004: W = randn(fan_in, fan_out) / sqrt(fan_in) for tanh nets
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)
NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)   # batch / instance, layer, group norm
OUTPUT_GAIN = 1.0           # notes 004: W = randn(fan_in, fan_out) / sqrt(fan_in) for a layer no ReLU follows
DEFAULT_GAIN = 3 ** -0.5    # PyTorch's own Linear/Conv init, kaiming_uniform(a=sqrt(5)): variance 1/(3 fan_in)
FEW_INPUTS = 3              # spread_biases: 2-D or 3-D input points, where the radius is a third or more of a row


class Rollback(enum.Enum):
    """Where a repair returns to before it changes the setting."""

    START = "start"     # the state after the pre-flight repairs, before the first step
    LAST = "last"       # the last healthy epoch end
    NONE = "none"       # no rollback: change the setting from here on


@dataclass(frozen=True)
class Action:
    """One kind of repair. ``apply(controls, options, seed=...) -> str`` makes the change and
    says what it did; ``new_baseline``: it changes the model or the data, so the snapshots taken
    before it no longer describe the run and the repairer takes them again; ``settles``: codes
    not acted on for that many epochs after it (the change itself moves what those rules read);
    ``symptomatic``: it treats what a cause does to the units or outputs (a re-initialization, a
    shrunk output layer), so the repairer prefers another warning's plan that removes a cause
    (an output activation, unscaled inputs, a setting) when both are on offer; ``rechecked``: the
    cheap pre-flight checks can find something new after it (it changes the model, the data or the
    loss they read), so the repairer runs them again before the first step; False where they
    would find again only what they found before it (they are seeded): a change of the optimizer,
    the lr, clipping, the schedule, the augmentation, the batch size or the regularization options,
    none of which they read (they read the training rows as stored, the weights as they are, a max-norm
    constraint acts after each step, and they take the configured loss without its smoothing),
    and shuffling turned on, which only the data-order check reads and which finds nothing on a
    shuffled run. ``changes_data``: the action can change the training rows the checks read (the
    inputs, the targets, the preprocessing); False for a change of the model alone, after which the
    re-check leaves out the checks that read the rows alone (``preflight(data_checks=False)``: they
    would find again only what they found). ``preprocess(options) -> specs``: the preprocessing
    steps the action adds to the run (fitted on the training inputs), which the repairer first
    tries on the model: a model that raises on them (ids it indexes an embedding with,
    standardized) is not given them."""

    name: str
    changes: str
    rollback: Rollback
    apply: Callable[..., str]
    new_baseline: bool = False
    settles: dict = field(default_factory=dict)
    symptomatic: bool = False
    rechecked: bool = True
    changes_data: bool = True
    preprocess: Callable[[dict], list] | None = None


@dataclass(frozen=True)
class Plan:
    """A planner's decision: apply ``action`` with ``options`` after rolling back to ``rollback``."""

    action: Action
    options: dict
    rollback: Rollback
    reason: str


def make_plan(action: str, reason: str, *, rollback: Rollback | None = None, **options) -> Plan:
    """A plan for ``ACTIONS[action]``; ``rollback`` defaults to the action's."""
    spec = ACTIONS[action]
    return Plan(spec, options, spec.rollback if rollback is None else rollback, reason)


# ------------------------------------------------------------------------------ model edits
def activation_families(model: nn.Module) -> dict:
    """Counts of the model's activation modules: saturating (tanh among them) and ReLU-family."""
    kinds = {"saturating": 0, "relu": 0, "tanh": 0}
    for m in model.modules():
        if isinstance(m, SATURATING):
            kinds["saturating"] += 1
            kinds["tanh"] += isinstance(m, (nn.Tanh, nn.Hardtanh))
        elif isinstance(m, RELU_FAMILY):
            kinds["relu"] += 1
    return kinds


def reinitialize(model: nn.Module, *, seed: int) -> str:
    """Re-initialize every Linear/Conv layer for the model's units (the biases: below).

    * With batch norm: PyTorch's default scale, variance 1/(3 fan_in) (``DEFAULT_GAIN``). Batch norm
      makes the layers before it scale-invariant, so their weights' scale does not set the signal
      (which He/Xavier are for) but the step: the effective lr of a weight before a batch norm is
      lr / ||w||^2 (van Laarhoven 2017; Hoffer et al. 2018). He's weights are sqrt(6) x the default,
      a 6x smaller effective lr: the regression nets with batch norm of issue 11's benchmark ended
      about 4 R^2 points below the same nets at the default scale (3 seeds, BENCHMARKS.md, branch babysit6).
    * Otherwise He (Kaiming) normal when the model uses ReLU-family units (or none it can see),
      its output layer at gain 1 (no ReLU follows it); Xavier normal (gain 1, notes 004) for
      tanh/sigmoid nets.

    In the ReLU-family and batch-norm cases the hidden layers' biases are drawn as PyTorch's own
    layers draw them (``spread_biases``) when the model reads ``FEW_INPUTS`` or fewer input values
    (``few_inputs``), the output layer's zeroed; otherwise, and in tanh/sigmoid nets, every bias is 0.
    Normalization layers are reset (``reset_norms``) in every case. Frozen weights are redrawn too
    (``include_frozen``; a user's ``init`` keeps them): the whole model is re-initialized, a body
    frozen at a wrong scale included (the generated lanes' ``frozen_hidden`` grade their init
    symptoms by this arm).
    """
    if any(isinstance(m, BATCH_NORMS) for m in model.modules()):
        init(model, "kaiming_uniform", gain=DEFAULT_GAIN, seed=seed, include_frozen=True)
        return f"kaiming_uniform(gain={DEFAULT_GAIN:.3g}) (batch norm: the default scale)" + spread_biases(model, seed=seed) \
            + reset_norms(model)
    kinds = activation_families(model)
    if kinds["saturating"] > kinds["relu"]:
        # gain 1 (notes 004's 1/sqrt(fan_in) table that decays gently), not tanh's 5/3: larger
        # initial weights make the repaired tanh nets overfit
        init(model, "xavier_normal", gain=XAVIER_GAIN, seed=seed, include_frozen=True)
        # biases left at init's 0: the homogeneity spread_biases breaks is the ReLU family's (f(cx) =
        # c f(x)); spread biases cost a tanh CNN's re-initialization arm the gain that confirms its init
        # symptoms (generated lane c9, init_x10: saturated_units and two more lost)
        return f"xavier_normal(gain={XAVIER_GAIN:g}), biases 0" + reset_norms(model)
    init(model, "kaiming_normal", activation="relu", seed=seed, include_frozen=True)
    out = last_weight_layer(model)
    if out is not None:
        # the output layer feeds the loss, not a ReLU: He's sqrt(2) makes up for the half of the
        # variance a ReLU drops, which no unit after it drops; gain 1 (notes 004: W = randn / sqrt(fan_in)).
        # He's scale there makes the untrained outputs over-confident (a zero-initialized moons net
        # re-initialized with He started at 2.6x ln C, at gain 1 at 1.9x)
        init(out, "kaiming_normal", gain=OUTPUT_GAIN, seed=seed + 1, include_frozen=True)
    return "kaiming_normal(relu), output layer gain 1" + spread_biases(model, seed=seed) + reset_norms(model)


def few_inputs(model: nn.Module) -> bool:
    """The model's first Linear/Conv layer (in the order its modules are registered) reads at most
    ``FEW_INPUTS`` values per unit (its fan-in): 2-D or 3-D points. A zero-bias ReLU net is positively
    homogeneous, f(c x) = c f(x): at the start its classes depend on a row's direction x / |x| alone,
    its radius |x| is one of the d input coordinates it cannot read until the biases move. At d = 2 that
    is half of what a row says (a spiral's classes alternate along the radius), at d = 3 a third; with
    more inputs the directions tell the rows apart (two rows of d >= 4 Gaussian values almost never
    share one) and the init papers' zero biases (He et al. 2015, Glorot & Bengio 2010) are kept: there
    random biases only move every unit's boundary off the origin a target built without biases
    passes it through (the generated benchmark's teacher is a bias-free ReLU net on centered Gaussian
    inputs: its p7 regression net, 10 inputs, re-initialized with spread biases ended higher after 23 steps
    in 6 of 8 seeds, and p13's teacher net, 8 inputs, classified lower in 3 of 6 seeds and never
    higher; their ReLU-for-sigmoid and re-initialization arms fell under the noise floor)."""
    layers = layers_of(model)
    return bool(layers) and fans(layers[0][1])[0] <= FEW_INPUTS


def spread_biases(model: nn.Module, *, seed: int) -> str:
    """Draw the biases of the Linear/Conv layers that feed another layer from U(-1/sqrt(fan_in),
    1/sqrt(fan_in)), PyTorch's own bias init; the output layer's (``last_weight_layer``) stays zero,
    a uniform guess for the loss. Zero biases make a ReLU net positively homogeneous at the start
    (f(c x) = c f(x), c > 0; a tanh net odd): every unit's boundary passes through the origin of its
    inputs, so the untrained net cannot tell rows apart along a ray from the origin (a radius) until
    the biases have learned to move them: random biases spread the boundaries over the inputs
    (Steinwart 2019, "A sober look at neural network initializations"). A re-initialized spiral's
    ResMLP (2 inputs) left the 50 % plateau after 15-25 epochs with zero biases, after 5-10 with these
    (6 seeds, SGD lr 0.02). Only where the model reads few inputs (``few_inputs``): the biases stay 0
    otherwise. Returns what it did, for the record."""
    if not few_inputs(model):
        return ", biases 0"
    out = last_weight_layer(model)
    g = torch.Generator().manual_seed(seed + 2)
    drawn = 0
    for _, m in layers_of(model):
        if m is out or m.bias is None:
            continue
        bound = fans(m)[0] ** -0.5
        with torch.no_grad():
            m.bias.copy_(torch.empty(m.bias.shape).uniform_(-bound, bound, generator=g).to(m.bias))
        drawn += 1
    return f", {drawn} hidden biases U(+-1/sqrt(fan_in))" if drawn else ""


def reset_norms(model: nn.Module) -> str:
    """Normalization layers back to their own init (gamma 1, beta 0, fresh running statistics):
    a re-initialization replaces the whole model's state, not the weights alone (a diverged run's
    norms hold its scale). Returns what it did, for the record ("" without norm layers)."""
    norms = [m for m in model.modules() if isinstance(m, NORMS) and hasattr(m, "reset_parameters")]
    for m in norms:
        m.reset_parameters()
    return f", {len(norms)} norm layers reset" if norms else ""


def weight_scale(model: nn.Module) -> float | None:
    """The median over the Linear/Conv layers of rms(W) / sqrt(2 / fan_in): each layer's weights
    against He's scale (He et al. 2015; notes 004 ``W / sqrt(fan_in / 2)``), the largest of the
    standard inits (PyTorch's default is 0.41 of it, Xavier's at most 1). The root mean square, not
    the std: what the fan-in rule keeps is a unit's input variance, fan_in x E[w^2] x E[x^2], and a
    weight mean adds to E[w^2] as much as a spread does (every weight in U[0, 1): std 0.29, rms
    0.58). The two agree for the zero-mean standard inits. None without such layers."""
    ratios = []
    for _, m in layers_of(model):
        fan_in, _ = fans(m)
        if fan_in and m.weight.numel() > 1:
            ratios.append(float(m.weight.detach().float().pow(2).mean().sqrt()) / (2.0 / fan_in) ** 0.5)
    return float(torch.tensor(ratios).median()) if ratios else None


def swap_activations(model: nn.Module) -> int:
    """Replace every saturating activation module (Sigmoid, Tanh, Hardtanh, Hardsigmoid) that is
    not the model's output with nn.ReLU, in place; returns how many were swapped."""
    leaves = [(n, m) for n, m in model.named_modules() if not any(True for _ in m.children())]
    last = leaves[-1][0] if leaves else None
    count = 0
    for name, module in list(model.named_modules()):
        if isinstance(module, SATURATING) and name != last:
            set_child(model, name, nn.ReLU())
            count += 1
    return count


def hidden_sigmoids(model: nn.Module) -> int:
    """How many sigmoid-shaped activation modules (Sigmoid, Hardsigmoid: saturating and not
    zero-centered) sit inside the model rather than at its output. Notes 004 lists their three
    problems (saturation kills the gradient, sigmoid' <= 0.25 per layer, outputs not zero-centered);
    notes 003: "tanh less preferred but okay; sigmoid should be avoided"."""
    leaves = [(n, m) for n, m in model.named_modules() if not any(True for _ in m.children())]
    last = leaves[-1][0] if leaves else None
    return sum(isinstance(m, (nn.Sigmoid, nn.Hardsigmoid)) and n != last for n, m in model.named_modules())


def relu_for_saturating(model: nn.Module, *, seed: int) -> str:
    """The ``swap_activations`` action on a bare model: saturating hidden units -> ReLU, He init."""
    n = swap_activations(model)
    return f"{n} activations -> ReLU, {reinitialize(model, seed=seed)}"


def set_child(model: nn.Module, name: str, new: nn.Module) -> None:
    """Replace the submodule ``name`` (a dotted path) with ``new``."""
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def last_weight_layer(model: nn.Module):
    """The last module with a trainable weight matrix or kernel (the output layer), or None."""
    layers = [m for m in model.modules() if isinstance(getattr(m, "weight", None), torch.Tensor)
              and m.weight.ndim >= 2 and m.weight.requires_grad]
    return layers[-1] if layers else None


# ------------------------------------------------------------------------------ what each does
def _lower_lr(controls, options, *, seed):
    controls.set_lr_scale(controls.lr_scale / options["factor"])
    if options.get("clip_norm"):
        controls.set_clip_norm(options["clip_norm"])
    return f"lr scale x1/{options['factor']:.3g}"


def raise_momentum(options: dict) -> dict:
    """The optimizer settings a ``raise_lr`` plan changes besides the lr: Nesterov momentum 0.9
    when its ``momentum`` option is set (sizing.py's trial trains with them too)."""
    return {"momentum": NESTEROV_MOMENTUM, "nesterov": True} if options.get("momentum") else {}


def _raise_lr(controls, options, *, seed):
    controls.set_lr_scale(controls.lr_scale * options["factor"])
    if options.get("momentum"):
        controls.rebuild_optimizer(**raise_momentum(options))
        return f"lr scale x{options['factor']:.3g}, nesterov momentum {NESTEROV_MOMENTUM:g}"
    return f"lr scale x{options['factor']:.3g}"


def _clip(controls, options, *, seed):
    controls.set_clip_norm(options["clip_norm"])
    return f"clip_norm {options['clip_norm']:.3g}"


def _reinit(controls, options, *, seed):
    scheme = reinitialize(controls.model, seed=seed)
    controls.rebuild_optimizer()
    controls.model_changed()
    return scheme


def _swap_activations(controls, options, *, seed):
    done = relu_for_saturating(controls.model, seed=seed)
    controls.rebuild_optimizer()
    controls.model_changed()
    return done


def _standardized(options) -> list:
    return [{"name": "standardize"}]


def _imputed(options) -> list:
    # the missing-value codes replaced by their columns' training medians, then the columns they
    # squeezed rescaled (babysit/value_codes.py: the preprocessing a user writes)
    return [{"name": "impute", "codes": [list(c) for c in options["codes"]]}, {"name": "standardize"}]


def _quantile_mapped(options) -> list:
    # the heavy-tailed columns mapped through their training quantiles onto a normal, then every column
    # standardized (babysit/heavy_tails.py: standardizing alone leaves them squeezed by their tails)
    return [{"name": "quantile", "columns": [int(c) for c in options["columns"]]}, {"name": "standardize"}]


def _add_preprocessing(specs_of, controls, options, *, seed):
    """An action's ``apply`` (bound to ``specs_of`` with ``functools.partial``, picklable for the
    ranks of a distributed run) that adds ``specs_of(options)`` to the run's preprocessing."""
    specs = specs_of(options)
    for spec in specs:
        controls.add_preprocess(spec["name"], **{k: v for k, v in spec.items() if k != "name"})
    return " + ".join(spec["name"] for spec in specs)


def _remove_output_activation(controls, options, *, seed):
    set_child(controls.model, options["name"], nn.Identity())
    controls.model_changed()
    return f"{options['name']} -> Identity"


def _shrink_output_layer(controls, options, *, seed):
    layer = last_weight_layer(controls.model)
    with torch.no_grad():
        layer.weight.mul_(options["scale"])
        if getattr(layer, "bias", None) is not None:
            layer.bias.zero_()
    controls.model_changed()
    return f"last layer weights x{options['scale']:g}, bias 0"


def _shuffle(controls, options, *, seed):
    controls.set_shuffle(True)
    return "shuffle on"


def _set_weight_decay(controls, options, *, seed):
    controls.rebuild_optimizer(weight_decay=options["weight_decay"])
    return f"weight_decay {options['weight_decay']:.3g}"


def _more_regularization(controls, options, *, seed):
    controls.rebuild_optimizer(weight_decay=options["weight_decay"])
    raised = 0
    for m in controls.model.modules():
        if isinstance(m, nn.Dropout) and m.p < options["dropout"]:
            m.p = options["dropout"]
            raised += 1
    return f"weight_decay {options['weight_decay']:.3g}" + (f", {raised} dropout p -> {options['dropout']}"
                                                            if raised else "")


def dropout_rates(model: nn.Module) -> list[float]:
    """The drop rates p > 0 of the model's dropout modules."""
    return [m.p for m in model.modules() if isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0]


def _lower_dropout(controls, options, *, seed):
    lowered = 0
    for m in controls.model.modules():
        if isinstance(m, nn.modules.dropout._DropoutNd) and m.p > options["dropout"]:
            m.p = options["dropout"]
            lowered += 1
    return f"{lowered} dropout p -> {options['dropout']:.3g}"


def _reset_optimizer_options(controls, options, *, seed):
    """The named run options back to the Config's defaults (eps None: the optimizer's own 1e-8);
    a name from ``optimizer_options`` (SGD's dampening) is left out of it: the optimizer's own
    default."""
    config = controls.config
    defaults = {f.name: f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
                for f in dataclasses.fields(config)}
    names = [name for name in options["names"] if name in defaults]
    extras = [name for name in options["names"] if name not in defaults and name in config.optimizer_options]
    overrides = {name: defaults[name] for name in names}
    if extras:
        overrides["optimizer_options"] = {k: v for k, v in config.optimizer_options.items() if k not in extras}
    controls.rebuild_optimizer(**overrides)
    said = [f"{name} -> {defaults[name]}" for name in names] + [f"{name} -> the optimizer's default" for name in extras]
    return ", ".join(said) or "no run option to reset"


def _set_clip(controls, options, *, seed):
    controls.set_clip_norm(options["clip_norm"], configured=True)
    return "no gradient clipping" if options["clip_norm"] is None else f"clip_norm {options['clip_norm']:.3g}"


def _append_log_softmax(controls, options, *, seed):
    model = controls.model
    if isinstance(model, nn.Sequential):
        model.append(nn.LogSoftmax(dim=1))
    else:       # any module: its forward output goes through log_softmax after the model's own hooks
        model.register_forward_hook(_log_softmax_output)
    controls.model_changed()
    return "log_softmax(dim=1) appended to the outputs"


def _log_softmax_output(module, inputs, output):
    return torch.log_softmax(output, dim=1)


# --- issue 11: the output layer a probability loss needs (preflight's
# output_range.missing_activation names it)
APPENDED_ACTIVATIONS = {"softmax": lambda: nn.Softmax(dim=1), "sigmoid": nn.Sigmoid,
                        "log_softmax": lambda: nn.LogSoftmax(dim=1)}


class _OutputActivation:
    """A forward hook that applies an activation module to the model's output."""

    def __init__(self, module: nn.Module):
        self.module = module

    def __call__(self, model, inputs, output):
        return self.module(output)


def _append_output_activation(controls, options, *, seed):
    name = options["activation"]
    model = controls.model
    if isinstance(model, nn.Sequential):
        model.append(APPENDED_ACTIVATIONS[name]())
    else:       # any module: its forward output goes through the activation after the model's own hooks
        model.register_forward_hook(_OutputActivation(APPENDED_ACTIVATIONS[name]()))
    controls.model_changed()
    return f"{name} appended to the outputs"


ACTIONS = {a.name: a for a in (
    Action("lower_lr", "the lr scale (÷ factor) and, with clip_norm, gradient clipping", Rollback.LAST, _lower_lr,
           rechecked=False),
    Action("raise_lr", "the lr scale (× factor) and, with momentum, Nesterov momentum 0.9 (a new optimizer)",
           Rollback.LAST, _raise_lr, rechecked=False),
    Action("clip", "gradient clipping at a global L2 norm", Rollback.LAST, _clip, rechecked=False),
    Action("reinit", "the weights: He init for ReLU nets, Xavier for tanh/sigmoid nets; a new optimizer",
           Rollback.START, _reinit, new_baseline=True, symptomatic=True, changes_data=False),
    Action("swap_activations", "the model: hidden saturating activations -> ReLU, then He init; a new optimizer",
           Rollback.START, _swap_activations, new_baseline=True, changes_data=False),
    Action("standardize", "the data: inputs standardized with training-split statistics (every split, and "
           "run.predict)", Rollback.START, functools.partial(_add_preprocessing, _standardized), new_baseline=True,
           preprocess=_standardized),
    Action("impute", "the data: missing-value codes replaced by their columns' training medians, then the "
           "inputs standardized (every split, and run.predict)", Rollback.START, functools.partial(_add_preprocessing, _imputed),
           new_baseline=True, preprocess=_imputed),
    Action("quantile", "the data: heavy-tailed columns mapped through their training quantiles onto a normal, "
           "then the inputs standardized (every split, and run.predict)", Rollback.START,
           functools.partial(_add_preprocessing, _quantile_mapped), new_baseline=True, preprocess=_quantile_mapped),
    Action("remove_output_activation", "the model: its final activation -> Identity (the loss applies it)",
           Rollback.NONE, _remove_output_activation, new_baseline=True, changes_data=False),
    Action("shrink_output_layer", "the model: the last layer's weights scaled down, its bias zeroed",
           Rollback.NONE, _shrink_output_layer, new_baseline=True, symptomatic=True,
           changes_data=False),
    Action("shuffle", "the data order: reshuffled every epoch", Rollback.START, _shuffle, new_baseline=True,
           rechecked=False),
    Action("set_weight_decay", "the optimizer's weight decay (a new optimizer)", Rollback.START, _set_weight_decay,
           rechecked=False),
    Action("lower_dropout", "the dropout modules' p, lowered to the plan's rate", Rollback.START, _lower_dropout,
           changes_data=False),
    Action("reset_optimizer_options", "the optimizer's options the plan names (eps, betas, dampening, ...) back to their "
           "defaults (a new optimizer)", Rollback.START, _reset_optimizer_options, rechecked=False),
    Action("set_clip", "gradient clipping: the configured clip_norm replaced (off, or the plan's norm)",
           Rollback.START, _set_clip, rechecked=False),
    Action("append_log_softmax", "the model: log_softmax(dim=1) applied to its outputs (run.predict and the saved "
           "model include it)", Rollback.START, _append_log_softmax, new_baseline=True,
           changes_data=False),
    Action("append_output_activation", "the model: the output layer its loss needs (softmax(dim=1), sigmoid or "
           "log_softmax(dim=1)) applied to its outputs (run.predict and the saved model include it)", Rollback.START,
           _append_output_activation, new_baseline=True, changes_data=False),
    # More regularization raises the training loss on purpose: a rising loss (lr_too_high's
    # warning; the lr did not change) is the repair acting for the rest of the run, and a stall
    # or a low training accuracy for the plateau rule's window. Errors are still acted on.
    Action("more_regularization", "the optimizer's weight decay and the dropout modules' p (a new optimizer)",
           Rollback.NONE, _more_regularization,
           settles={"lr_too_high": float("inf"), "plateau": 3, "underfitting": 3}, changes_data=False),
)}


# --- the run's other regularizers and its lr schedule (train/controls.py) ---------------
def _set_regularization(controls, options, *, seed):
    controls.set_regularization(**options["values"])
    return ", ".join(f"{name} -> {value}" for name, value in options["values"].items())


def _stretch_schedule(controls, options, *, seed):
    controls.stretch_schedule(options["factor"])
    return f"lr schedule stretched x{options['factor']:.3g}"


def _replace_schedule(controls, options, *, seed):
    controls.replace_schedule(options["spec"], from_step=options.get("from_step", 0))
    spec = options["spec"]
    return f"lr schedule replaced by {spec if isinstance(spec, str) else dict(spec)}"


def _set_plateau_mode(controls, options, *, seed):
    controls.set_plateau_mode(options["mode"])
    return f"plateau schedule's mode -> {options['mode']!r}"


ACTIONS.update({a.name: a for a in (
    Action("set_regularization", "the run's regularization options the plan names (l1, l2, max_norm, "
           "label_smoothing, clip_value): the penalty, constraint and loss rebuilt from them", Rollback.START,
           _set_regularization, rechecked=False),
    Action("stretch_schedule", "the lr schedule, slowed down by the plan's factor (m(t) = schedule(t / factor))",
           Rollback.START, _stretch_schedule, rechecked=False),
    Action("replace_schedule", "the lr schedule, replaced by the plan's configured schedule (a schedule that "
           "trains at ~0 on most steps, which no stretch revives)", Rollback.START, _replace_schedule,
           rechecked=False),
    Action("set_plateau_mode", "the plateau schedule's mode (\"min\" / \"max\"), set to the plan's: the way its "
           "monitor improves", Rollback.START, _set_plateau_mode, rechecked=False),
)})


# --- the run's own options the experiment trains without (warmup, augmentation, batch size) ----
def _set_warmup(controls, options, *, seed):
    controls.set_warmup(options["steps"])
    return f"warmup {options['steps']} steps"


def _drop_augmentation(controls, options, *, seed):
    kept = [s for i, s in enumerate(controls.augment) if i != options["index"]]
    controls.set_augment(kept)
    return f"augmentation {options['name']} dropped" + ("" if kept else " (no augmentation left)")


def _set_batch_size(controls, options, *, seed):
    detail = controls.set_batch_size(int(options["batch_size"]))
    rest = {"factor": options.get("factor", 1.0), "clip_norm": options.get("clip_norm")}
    if rest["factor"] > 1.0 or rest["clip_norm"]:     # the rest of a divergence's lr cut (sizing.batch_for_cut)
        detail += "; " + _lower_lr(controls, rest, seed=seed)
    return detail


def _drop_last_batch(controls, options, *, seed):
    return controls.set_drop_last(True)


ACTIONS.update({a.name: a for a in (
    Action("set_batch_size", "the training batch size, set to the plan's (the run's epochs kept: its steps counted "
           "again, its lr schedule stretched over them) and, with factor and clip_norm, what lower_lr sets (an lr "
           "cut taken in part as a larger batch: sizing.batch_for_cut)", Rollback.START, _set_batch_size,
           new_baseline=True, rechecked=False),
    Action("drop_last_batch", "the loader: each epoch's last, incomplete batch dropped (drop_last = true; the run's "
           "epochs kept, its steps counted again, its lr schedule stretched over them)", Rollback.START,
           _drop_last_batch, new_baseline=True, rechecked=False),
    Action("drop_augmentation", "the run's augmentation: the plan's transform dropped from the list",
           Rollback.START, _drop_augmentation, new_baseline=True, rechecked=False),
    Action("set_warmup", "the lr schedule's linear warmup, set to the plan's steps (the schedule after it rebuilt "
           "over the rest of the run)", Rollback.START, _set_warmup, rechecked=False),
)})


# --- an lr change on probation undone (repair.Repairer._judge_probation) -------------------
def _undo_lr_change(controls, options, *, seed):
    """The settings before an lr change back: its lr scale, the controls' clip and the optimizer
    options changed since (``options["optimizer"]``: their earlier values, a new optimizer)."""
    controls.set_lr_scale(options["lr_scale"])
    controls.set_clip_norm(options["clip_norm"])
    if options["optimizer"]:
        controls.rebuild_optimizer(**options["optimizer"])
    return f"lr scale {options['lr_scale']:.3g}" + "".join(f", {k} {v}" for k, v in options["optimizer"].items())


ACTIONS.update({a.name: a for a in (
    Action("undo_lr_change", "the lr scale, the controls' clip and the optimizer options an lr change on probation "
           "(a confirm raise, a plateau's decay) and the lr repairs after it changed, back to their values before it; "
           "the run back to the trajectory it replaced", Rollback.NONE, _undo_lr_change, rechecked=False),
)})


# --- a dropout module on the model's output (mode_gap.py) ---------------------------------
def _remove_output_dropout(controls, options, *, seed):
    for name in options["names"]:
        set_child(controls.model, name, nn.Identity())
    controls.model_changed()
    return ", ".join(options["names"]) + " -> Identity"


ACTIONS.update({a.name: a for a in (
    Action("remove_output_dropout", "the model: the dropout modules on its output -> Identity (its hidden "
           "dropout kept)", Rollback.START, _remove_output_dropout, new_baseline=True,
           changes_data=False),
)})


# --- a user's callback hook that puts the weights back (callback_check.py, reset_watch.py) ---------
def _detach_hook(controls, options, *, seed):
    controls.detach_hook(options["callback"], options["hook"])
    return f"{options['callback']}.{options['hook']} no longer called (its other hooks still run)"


ACTIONS.update({a.name: a for a in (
    Action("detach_hook", "the run's callbacks: the plan's hook of the named callback no longer called (its other "
           "hooks still run)", Rollback.LAST, _detach_hook),
)})


def spec_name(spec) -> str:
    """A preprocess spec's transform name (``"standardize"`` or ``{"name": "pca", ...}``)."""
    return spec if isinstance(spec, str) else spec["name"]


def _refit_preprocess(controls, options, *, seed) -> str:
    before = [spec_name(s) for s in controls.configured_preprocess]
    controls.refit_preprocess(options["steps"], reshaped=options.get("entry") is not None)
    after = [spec_name(s) for s in options["steps"]]
    detail = f"preprocess {before} -> {after}, refitted on the training rows before it"
    if options.get("entry") is not None:    # the refit changed the number of columns (preprocess_refit.prefer)
        detail += "; " + controls.widen_entry(options["entry"], controls.train_data[0].shape[-1], seed=seed)
    return detail


ACTIONS.update({a.name: a for a in (
    Action("refit_preprocess", "the data: the run's configured preprocess replaced by the plan's steps (a step "
           "dropped, or the columns standardized before a pca that keeps as many components), fitted on the "
           "training rows before it (every split, and the saved pipeline); where it changes the number of "
           "columns, the model's entry Linear redrawn for them and a fresh optimizer", Rollback.START, _refit_preprocess,
           new_baseline=True),
)})
