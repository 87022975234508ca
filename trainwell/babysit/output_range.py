"""What the model's outputs can reach against what the loss and the targets need (notes 003:
"output activation and loss go together").

Two faults of the output layer that the value checks of ``loss_checks.check_loss_output`` cannot see:

* **A loss that needs probabilities, fed raw outputs** (``missing_activation``): a hand-written
  ``-log(p[y] + 1e-8)``, ``F.nll_loss(torch.log(out), y)``, ``F.binary_cross_entropy(out, y)`` or
  ``-(y * log(out)).sum()`` on a model whose softmax / sigmoid was left out is NaN (or raises) on
  perfectly finite outputs. The check is an experiment on the same outputs: it evaluates the
  user's loss on softmax, sigmoid and log_softmax of them; the transform under which the loss is
  finite and near its chance value (the loss of the same transform of all-zero outputs: the
  uniform guess) names the missing output layer.
* **A bounded output activation that cannot reach the targets** (``check_target_range``): a
  ReLU / sigmoid / tanh / softplus as the model's last operation on a regression whose targets lie
  partly outside its range, or a clamp with number bounds (``out.clamp(min=0)`` on standardized
  targets: ``CLAMPS``). The measure is the share of the targets' variance no output in that
  range can fit: the mean squared distance from each target to the range, over Var(y).

A third fault reads the loss at the outputs training moves towards:

* **A loss that is NaN where the model is right and sure** (``check_loss_at_targets``): float32
  rounds a sigmoid to exactly 1 (``sigmoid(z) == 1.0`` from z = 16.6), tanh to +-1 and a ReLU to 0,
  and a softmax row's target probability to 1.0, so a confident model reaches its targets exactly.
  A hand-written cross-entropy without a clamp, ``-(y * log(p) + (1 - y) * log(1 - p))``, is
  ``0 * log(0)`` = NaN there: the run turns NaN as it learns, whatever the lr. The check evaluates
  the loss at the targets as a confident model's outputs reach them (``perfect_outputs``);
  PyTorch's own losses clamp their logs (``BCELoss`` at -100) and stay finite.

``final_op(model, x)`` names the model's last operation (a module's or a functional call's), read
by intercepting torch's functions during one forward pass, through reshapes that do not change values.
"""
from __future__ import annotations

import math
import warnings

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from trainwell.babysit.findings import Finding, make

# The value range of each bounding activation function (torch's function names; hardtanh reads its
# own min_val / max_val). ReLU6 is hardtanh(0, 6) inside PyTorch's module.
RANGES = {"relu": (0.0, math.inf), "relu_": (0.0, math.inf), "relu6": (0.0, 6.0), "softplus": (0.0, math.inf),
          "sigmoid": (0.0, 1.0), "sigmoid_": (0.0, 1.0), "hardsigmoid": (0.0, 1.0),
          "tanh": (-1.0, 1.0), "tanh_": (-1.0, 1.0), "softsign": (-1.0, 1.0),
          "hardtanh": (-1.0, 1.0), "hardtanh_": (-1.0, 1.0)}
# Operations that move values without changing them: the output of ``torch.sigmoid(z).squeeze(1)``
# is still the sigmoid's.
VALUE_PRESERVING = {"squeeze", "unsqueeze", "view", "reshape", "flatten", "contiguous", "clone", "__getitem__",
                    "float", "to", "view_as", "reshape_as", "squeeze_", "unsqueeze_"}

# A clamp bounds its outputs by its own arguments: ``out.clamp(min=0)`` ("a rent is never negative"),
# ``torch.clamp(out, 0, 1)``, ``out.clamp_min(0)``, ``torch.clip``; (name -> the positional index of its
# min and max, None where the function has none).
CLAMPS = {"clamp": (1, 2), "clamp_": (1, 2), "clip": (1, 2), "clip_": (1, 2),
          "clamp_min": (1, None), "clamp_min_": (1, None), "clamp_max": (None, 1), "clamp_max_": (None, 1)}


def clamp_bounds(name: str, args: tuple, kwargs: dict) -> tuple | None:
    """``(low, high)`` of a clamp call (``CLAMPS``) with number bounds, -inf / inf where one is left
    out; None for a clamp by tensors (an elementwise bound is no range) or without any bound."""
    lo_at, hi_at = CLAMPS[name]
    values = []
    for at, key, default in ((lo_at, "min", -math.inf), (hi_at, "max", math.inf)):
        value = kwargs.get(key, args[at] if at is not None and len(args) > at else None) if at is not None else None
        if value is None:
            values.append(default)
        elif isinstance(value, (int, float)):
            values.append(float(value))
        else:
            return None
    return tuple(values) if values != [-math.inf, math.inf] else None


# The output layers a probability loss can be missing, and the transform each applies to the outputs.
TRANSFORMS = {"softmax": lambda o: torch.softmax(o, dim=-1), "sigmoid": torch.sigmoid,
              "log_softmax": lambda o: torch.log_softmax(o, dim=-1)}
# missing_activation: the transformed loss is "near chance" when it is at most CHANCE_RATIO x the loss
# of the same transform of all-zero outputs (the uniform guess). 3x: an untrained net's outputs of spread
# ~2 cost about 2 nats over ln C (loss_checks.EXCESS_NATS allows 1 nat for a healthy init); a transform
# under which the loss is finite but far above chance is no evidence that it is the missing one.
CHANCE_RATIO = 3.0
# check_target_range: the targets' variance share no output in the activation's range can fit. 0.02 is
# issue 11's 2 points (of R^2 here): a bounded output that cannot reach that much of the targets ends
# measurably worse than the same model with an identity output whatever the training does.
RANGE_LOSS = 0.02


class _Producers(TorchFunctionMode):
    """Records which bounding or value-preserving function produced each tensor of one forward pass."""

    def __init__(self):
        super().__init__()
        self.made = {}        # id(output) -> (name, bounds, source tensor, output); strong refs for the pass

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        if isinstance(out, torch.Tensor) and (name in RANGES or name in VALUE_PRESERVING or name in CLAMPS):
            src = next((a for a in args if isinstance(a, torch.Tensor)), None)
            bounds = RANGES.get(name) if name not in CLAMPS else clamp_bounds(name, args, kwargs)
            if name.startswith("hardtanh"):
                lo = kwargs.get("min_val", args[1] if len(args) > 1 else -1.0)
                hi = kwargs.get("max_val", args[2] if len(args) > 2 else 1.0)
                bounds = (float(lo), float(hi))
            self.made[id(out)] = (name, bounds, src, out)
        return out


def final_op(model: nn.Module, x: torch.Tensor) -> tuple | None:
    """``(function name, (low, high))`` of the bounding activation that produced the model's
    output on ``x`` (a module's or a functional call), or None when the last operation is another
    one. One forward pass without gradients; the model is used as given (pass a copy). The random
    state is restored afterwards: a dropout layer's draws do not move the checks that follow."""
    producers = _Producers()
    devices = [x.device.index or 0] if x.is_cuda else []
    with torch.random.fork_rng(devices=devices), torch.no_grad(), producers:
        out = model(x)
    t, seen = out, 0
    while isinstance(t, torch.Tensor) and id(t) in producers.made and seen < 64:
        name, bounds, src, _ = producers.made[id(t)]
        if bounds is not None:
            return name.rstrip("_"), bounds
        t, seen = src, seen + 1
    return None


def _is_module_of(module, name: str) -> bool:
    """The last leaf module is the activation named ``name`` (its removal is the repair)."""
    kinds = {"relu": (nn.ReLU,), "relu6": (nn.ReLU6,), "softplus": (nn.Softplus,), "sigmoid": (nn.Sigmoid,),
             "hardsigmoid": (nn.Hardsigmoid,), "tanh": (nn.Tanh,), "softsign": (nn.Softsign,),
             "hardtanh": (nn.Hardtanh,)}
    return isinstance(module, kinds.get(name, ()))


def check_target_range(final, y, *, regression: bool, last: tuple) -> list[Finding]:
    """``loss_output_mismatch`` (error): the model's last operation ``final`` (``final_op``) bounds
    its outputs to a range that misses ``RANGE_LOSS`` or more of the regression targets' variance
    (``y``: the targets of the pre-flight's probe rows). Quiet when the targets fit (sigmoid on [0, 1] targets, ReLU on
    counts, tanh on [-1, 1], softplus on positive targets)."""
    if final is None or not regression or not torch.is_floating_point(y) or y.shape[0] < 2:
        return []
    name, (lo, hi) = final
    t = y.detach().reshape(y.shape[0], -1).cpu().double()
    t = t[torch.isfinite(t).all(dim=1)]
    var = float(t.var(dim=0).sum()) if t.shape[0] > 1 else 0.0
    if var <= 0:
        return []
    distance = (lo - t).clamp_min(0) + (t - hi).clamp_min(0)
    floor = float((distance * distance).mean(dim=0).sum()) / var
    if floor < RANGE_LOSS:
        return []
    outside = float((distance > 0).double().mean())
    last_name, last_module = last
    where = last_name if _is_module_of(last_module, name) else None
    span = f"[{lo:g}, {hi:g}]" if math.isfinite(hi) else f"[{lo:g}, inf)"
    return [make("loss_output_mismatch",
                 f"the model's last operation is {name}, whose outputs lie in {span}, but {100 * outside:.1f}% of "
                 f"the regression targets lie outside it (range {float(t.min()):.3g}..{float(t.max()):.3g}): even a "
                 f"perfect fit inside the range leaves {100 * floor:.1f}% of the targets' variance unexplained "
                 f"(R^2 at most {1 - floor:.3f})",
                 evidence={"final_activation": name, "range": [lo, hi], "outside_share": outside,
                           "unreachable_variance": floor, "target_min": float(t.min()), "target_max": float(t.max()),
                           "last_module": type(last_module).__name__ if last_module is not None else None,
                           "functional": where is None},
                 where=where,
                 fix=(f"remove the final {name} ({where}) and return the linear layer's output" if where else
                      f"remove the {name} call at the end of the model's forward and return the linear output"))]


def clipped_share(final, out) -> float | None:
    """The share of logits a final ReLU-family operation holds at its lower bound (0): classes
    the untrained model can never push below the others."""
    if final is None or final[0] not in ("relu", "relu6"):
        return None
    return float((out.detach() <= final[1][0]).double().mean())


def _chance_order(out, y) -> tuple:
    """The transforms to try, most plausible first: rows of one distribution (class ids, or target
    rows summing to 1) -> softmax; independent columns or a single output -> sigmoid."""
    width = out.shape[-1] if out.ndim >= 2 else 1
    if width == 1:
        return ("sigmoid",)
    rows_of_one = not torch.is_floating_point(y) or (
        y.shape == out.shape and bool((y >= 0).all()) and float((y.sum(dim=-1) - 1).abs().max()) < 1e-3)
    return ("softmax", "log_softmax", "sigmoid") if rows_of_one else ("sigmoid", "softmax", "log_softmax")


def _loss(loss_fn, o, y) -> float:
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = loss_fn(o, y)
        return float(value) if isinstance(value, torch.Tensor) and value.numel() == 1 else math.nan
    except Exception:               # the transform does not make the loss valid
        return math.nan


def missing_activation(out, y, loss_fn) -> dict | None:
    """When ``loss_fn`` is non-finite or fails on the finite ``out``: the first transform
    (``_chance_order``) under which it is finite and at most ``CHANCE_RATIO`` x its chance value,
    as ``{"missing_activation", "loss", "chance", "raw_loss", "tried"}``; None otherwise."""
    if not torch.is_floating_point(out) or not bool(torch.isfinite(out).all()):
        return None
    raw = _loss(loss_fn, out, y)
    if math.isfinite(raw):
        return None
    o = out.detach()
    tried = {}
    for name in _chance_order(o, y):
        value, chance = _loss(loss_fn, TRANSFORMS[name](o), y), _loss(loss_fn, TRANSFORMS[name](torch.zeros_like(o)), y)
        tried[name] = {"loss": value, "chance": chance}
        if math.isfinite(value) and math.isfinite(chance) and chance > 0 and value <= CHANCE_RATIO * chance:
            return {"missing_activation": name, "loss": value, "chance": chance, "raw_loss": raw, "tried": tried}
    return None


def check_missing_activation(out, y, loss_fn, *, kind: str, last: tuple) -> list[Finding]:
    """``loss_output_mismatch`` (error) with ``evidence["missing_activation"]`` naming the output
    layer the loss needs (``missing_activation``); the repair appends it (actions.append_output_activation)."""
    found = missing_activation(out, y, loss_fn)
    if found is None:
        return []
    name = found["missing_activation"]
    last_name, last_module = last
    raw = "fails" if math.isnan(found["raw_loss"]) else f"is {found['raw_loss']}"
    return [make("loss_output_mismatch",
                 f"the loss {raw} on the model's finite outputs but is {found['loss']:.4g} on {name} of the same "
                 f"outputs (a uniform guess scores {found['chance']:.4g}): the loss takes "
                 + ("log-probabilities" if name == "log_softmax" else "probabilities")
                 + f" and the model returns raw scores, its {name} left out",
                 evidence={**found, "loss_kind": kind, "outputs": out.shape[-1] if out.ndim >= 2 else 1,
                           "last_module": type(last_module).__name__ if last_module is not None else None},
                 where=last_name,
                 fix=f"end the model with {name} (dim=1) to match the loss, or use the loss that takes logits "
                     f"({'binary_cross_entropy_with_logits' if name == 'sigmoid' else 'cross_entropy'})")]


# check_loss_optimum: the outputs are fit directly (no model) by Rprop (Riedmiller & Braun 1993):
# a step per output that grows 1.2x while its gradient keeps its sign and halves when it flips, so
# the fit does not depend on the gradient's size (a log's 1/z near a bound of the range, a loss's
# mean over rows). The first step is OPTIMUM_LR x the targets' scale; OPTIMUM_STEPS steps of
# growth 1.2 reach any optimum within 1e20 target scales and then settle to float64 precision.
OPTIMUM_STEPS = 300
OPTIMUM_LR = 0.01
# ... and the outputs' range costs OPTIMUM_GAP or more of what fitting every output gains over the
# best single constant. Twice RANGE_LOSS (issue 11's 2 points): two numerical fits are compared,
# where RANGE_LOSS measures an exact distance.
OPTIMUM_GAP = 0.04
# ... or the best outputs inside the range lie MISREAD x Var(y) from the targets (mean squared
# distance): read as predictions of the targets, they would score an MSE 25 % of Var(y) above a
# perfect fit's, the kill rule's margin for a regression that hurts (bench/babysit_user.py).
MISREAD = 0.25


def _fit_outputs(loss_fn, start, y, lo: float, hi: float, *, constant: bool = False) -> tuple:
    """``(loss, outputs)`` after fitting free outputs (``start``'s shape; one shared value with
    ``constant``) to ``y``, projected into [lo, hi] after every step; the loss is NaN when the loss
    fails or leaves the finite numbers (a loss undefined outside the range: the range is the one it
    expects)."""
    scale = max(1.0, float(y.detach().abs().max())) if y.numel() else 1.0
    z = (start.detach().mean().reshape(1) if constant else start.detach().clone()).double()
    z = z.clamp(lo, hi).requires_grad_(True)
    yd = y.detach().double() if torch.is_floating_point(y) else y.detach()
    opt = torch.optim.Rprop([z], lr=OPTIMUM_LR * scale, step_sizes=(1e-12, 10 * scale))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(OPTIMUM_STEPS):
                value = loss_fn(z.expand(start.shape) if constant else z, yd)
                if not (isinstance(value, torch.Tensor) and value.numel() == 1 and bool(torch.isfinite(value))):
                    return math.nan, None
                opt.zero_grad()
                value.backward()
                opt.step()
                with torch.no_grad():
                    z.clamp_(lo, hi)
            with torch.no_grad():
                value = loss_fn(z.expand(start.shape) if constant else z, yd)
    except Exception:               # a loss that fails in float64 or on these values: no verdict
        return math.nan, None
    ok = isinstance(value, torch.Tensor) and value.numel() == 1
    return (float(value) if ok else math.nan), z.detach()


def loss_optimum_gap(final, out, y, loss_fn) -> dict | None:
    """Where the loss puts its best outputs against the range of the model's last operation
    ``final`` and against the targets. Outputs fit inside the range (``range_loss``, and how far
    they lie from the targets: ``misread``, their mean squared distance from ``y`` over Var(y),
    where the outputs are one per target); outputs fit freely (``free_loss``) and one constant
    (``constant_loss``): ``gap = (range_loss - free_loss) / (constant_loss - free_loss)``, the share of
    what fitting gains that the range forbids (None where the loss is undefined outside the
    range: then the range is the one it expects). None where nothing applies: no bounding last
    operation, targets that are not finite floats, a loss that fails inside the range."""
    if final is None or not torch.is_floating_point(y) or not torch.is_floating_point(out) or out.shape[0] < 2:
        return None
    if not bool(torch.isfinite(out).all()) or not bool(torch.isfinite(y).all()):
        return None
    name, (lo, hi) = final
    ranged, best = _fit_outputs(loss_fn, out, y, lo, hi)
    if not math.isfinite(ranged):
        return None
    found = {"final_activation": name, "range": [lo, hi], "range_loss": ranged, "gap": None, "misread": None}
    t = y.detach().double().reshape(y.shape[0], -1)
    if best.numel() == t.numel() and t.shape[0] > 1 and float(t.var(dim=0).sum()) > 0:
        z = best.reshape(t.shape)
        found["misread"] = float(((z - t) ** 2).mean(dim=0).sum()) / float(t.var(dim=0).sum())
    free, _ = _fit_outputs(loss_fn, out, y, -math.inf, math.inf)
    constant, _ = _fit_outputs(loss_fn, out, y, -math.inf, math.inf, constant=True)
    if math.isfinite(free) and math.isfinite(constant) and constant - free > 0:
        found.update(free_loss=free, constant_loss=constant, gap=max(0.0, ranged - free) / (constant - free))
    return found


def check_loss_optimum(final, out, y, loss_fn, *, last: tuple) -> list[Finding]:
    """``loss_output_mismatch`` (error): a loss that reads the model's outputs on another scale than
    its bounding last operation ``final`` produces them. Either the loss's best outputs inside the
    range lie ``MISREAD`` or more of Var(y) away from the targets although the range holds them (a
    head built to output the targets' values, read by the loss through a link of its own:
    ``PoissonNLLLoss``'s default ``log_input=True`` on a softplus rate is at its best at log(y)), or
    the range forbids ``OPTIMUM_GAP`` or more of what fitting gains (a loss whose optimum is negative
    after a ReLU). A loss at its best at the targets (MSE, L1, ``log_input=False``, BCELoss on a
    sigmoid) stays quiet; targets outside the range are ``check_target_range``'s."""
    found = loss_optimum_gap(final, out, y, loss_fn)
    if found is None:
        return []
    misread = found["misread"] is not None and found["misread"] >= MISREAD
    forbidden = found["gap"] is not None and found["gap"] >= OPTIMUM_GAP
    if not (misread or forbidden):
        return []
    name, (lo, hi) = final
    last_name, last_module = last
    where = last_name if _is_module_of(last_module, name) else None
    span = f"[{lo:g}, {hi:g}]" if math.isfinite(hi) else f"[{lo:g}, inf)"
    options = {k: getattr(loss_fn, k) for k in ("log_input", "full") if hasattr(loss_fn, k)}
    hint = (" (PoissonNLLLoss's log_input=True reads each output as a log-rate: a rate head wants "
            "log_input=False)" if options.get("log_input") is True else "")
    why = (f"the loss's best outputs inside that range lie {found['misread']:.2f} x Var(y) away from the targets "
           f"(mean squared distance), so the model learns a transform of the targets, not the targets{hint}"
           if misread else
           f"the loss is lowest at outputs outside it: the best inside the range loses {100 * found['gap']:.0f}% of "
           f"what the best unbounded outputs gain over a constant{hint}")
    return [make("loss_output_mismatch",
                 f"the model's last operation is {name}, whose outputs lie in {span}, and {why}",
                 evidence={**found, "loss_options": options,
                           "last_module": type(last_module).__name__ if last_module is not None else None,
                           "functional": where is None},
                 where=where,
                 fix=("set the loss's option that reads outputs in this range (PoissonNLLLoss(log_input=False) for "
                      "a rate)" if hint else f"remove the final {name}, or use a loss that is lowest at the targets "
                      f"for outputs in {span}"))]


# check_loss_at_targets: how far a confident model's pre-activations go. On separable data the logits of
# a cross-entropy fit grow without bound (Soudry et al. 2018, their norm grows like log t), so float32
# rounds a sigmoid to exactly 1 (from 16.6) and tanh to +-1 (from 9.0) within a run, and a softmax row's
# target to 1.0; REACH = 20 covers both. Bounds float32 meets only five times further out (sigmoid's 0 at
# -103, softplus' 0, a softmax's other classes at exactly 0) or never (softsign) are not met by gradient
# descent, whose gradient there is as small as the output: the outputs at REACH stand in for them.
REACH = 20.0
# The elementwise bounding activations as float32 functions (hardtanh, a clip, meets its bounds anywhere past them).
ACTIVATIONS = {"relu": torch.relu, "relu6": torch.nn.functional.relu6, "softplus": torch.nn.functional.softplus,
               "sigmoid": torch.sigmoid, "hardsigmoid": torch.nn.functional.hardsigmoid, "tanh": torch.tanh,
               "softsign": torch.nn.functional.softsign}


def _confident(name: str, bound: float, toward: float) -> float:
    """The output a pre-activation of ``REACH`` towards ``toward`` (+1 / -1) gives in float32: the
    bound itself where float32 meets it there, else the nearest output the model reaches."""
    op = ACTIVATIONS.get(name)
    if op is None:
        return bound
    return float(op(torch.tensor(toward * REACH, dtype=torch.float32)))


def perfect_outputs(final, out, y, *, probability_rows: bool):
    """The outputs of a model that is right and sure on every row, as far as a confident model goes
    (``REACH``): the targets themselves under a bounding last operation ``final`` whose range holds
    every target (a sigmoid's 0/1 labels, a ReLU's counts), a target at a bound float32 meets only
    further out replaced by the output at ``REACH``; for class ids under ``probability_rows`` (a
    softmax), the softmax of logits ``REACH`` apart. None when neither applies."""
    if not torch.is_floating_point(out) or y.numel() == 0:
        return None
    if probability_rows and not torch.is_floating_point(y) and y.ndim == 1 and out.ndim == 2 \
            and y.shape[0] == out.shape[0] and bool((y >= 0).all()) and bool((y < out.shape[1]).all()):
        onehot = torch.nn.functional.one_hot(y, out.shape[1]).float()
        return torch.softmax(REACH * onehot, dim=1).to(out.dtype)
    if final is None or y.numel() != out.numel():
        return None
    name, (lo, hi) = final
    t = y.detach().to(torch.float32).reshape(out.shape)
    if not bool(torch.isfinite(t).all()) or bool((t < lo).any()) or bool((t > hi).any()):
        return None
    t = torch.where(t == lo, torch.full_like(t, _confident(name, lo, -1.0)), t)
    t = torch.where(t == hi, torch.full_like(t, _confident(name, hi, 1.0)), t)
    return t.to(out.dtype)


def check_loss_at_targets(final, out, y, loss_fn, *, probability_rows: bool, last: tuple) -> list[Finding]:
    """``nonfinite_loss`` (error, found before training): the loss is finite on the untrained
    outputs but NaN or inf at ``perfect_outputs`` (the targets, as a confident model's float32
    outputs reach them), where it should be lowest: the training loss turns non-finite once the
    model grows sure, and no lr avoids it."""
    perfect = perfect_outputs(final, out.detach(), y, probability_rows=probability_rows)
    if perfect is None:
        return []
    now, there = _loss(loss_fn, out.detach(), y), _loss(loss_fn, perfect, y)
    if not math.isfinite(now) or math.isfinite(there):
        return []
    last_name, last_module = last
    name = final[0] if final is not None and not probability_rows else "softmax"
    return [make("nonfinite_loss",
                 f"the loss is {there} where the model is right and sure: at the targets, as its {name} reaches them "
                 f"in float32 at a confident pre-activation of {REACH:g} (it is {now:.4g} on the untrained outputs), "
                 f"so the training loss turns non-finite as the model learns, whatever the lr (a log of 0: "
                 f"0 * log(0) is NaN)",
                 evidence={"loss_at_targets": there, "initial_loss": now, "final_activation": name,
                           "outputs_at": "one-hot rows" if probability_rows else "the targets",
                           "last_module": type(last_module).__name__ if last_module is not None else None},
                 where=last_name,
                 fix="clamp the probabilities before the logs (p.clamp(1e-7, 1 - 1e-7)), or return logits and use "
                     "binary_cross_entropy_with_logits / cross_entropy, which stay finite")]
