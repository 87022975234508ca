"""Pre-flight checks of the initialized model (notes 005-006, weight initialization and the
activations' statistics): symmetric weights, unregistered modules, vanishing, exploding,
saturated or dead units, layer outputs that do not depend on the rows.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from trainwell.babysit.findings import Finding, make
from trainwell.babysit.hooks import run_hooked
from trainwell.babysit.probes import input_std

VANISHING_STD = 1e-2      # vanishing_activations: std (or per-unit signal) below 1e-2 x the input's
EXPLODING_STD = 10.0      # exploding_activations: std above 10x the input's
SATURATED_SHARE = 0.2     # saturated_units: more than 20% of a layer's values saturated
DEAD_SHARE = 0.4          # dead_units: CS231n "as much as 40% of your network can be dead"


def hidden_and_output_layers(model, x) -> tuple:
    """Modules with a weight matrix/kernel, in execution order, and the last leaf module run."""
    order, leaves, handles = [], [], []
    names = {m: n for n, m in model.named_modules()}
    for module in model.modules():
        w = getattr(module, "weight", None)
        is_leaf = not any(True for _ in module.children())
        if is_leaf:
            def hook(m, args, output):
                leaves.append(m)
                w = getattr(m, "weight", None)
                if (isinstance(w, torch.Tensor) and w.ndim >= 2 and w.requires_grad
                        and not isinstance(m, (nn.Embedding, nn.EmbeddingBag)) and m not in order):
                    order.append(m)
            handles.append(module.register_forward_hook(hook))
        del w
    run_hooked(model, x, handles)
    last = leaves[-1] if leaves else None
    return [(names[m], m) for m in order], ((names.get(last), last) if last is not None else (None, None))


def check_symmetry(model, x, y, loss_fn, layers) -> list[Finding]:
    """Identical rows in a hidden layer (notes 000: W=0 -> no source of asymmetry)."""
    hidden = layers[:-1]            # the output layer may start at zero: its rows differ by target
    if not hidden:
        return []
    dup = []
    for name, module in hidden:
        rows = module.weight.detach().flatten(1)
        if rows.shape[0] > 1:
            unique = torch.unique(rows, dim=0).shape[0]
            if unique < rows.shape[0]:
                dup.append((name, module, unique, rows.shape[0]))
    if not dup:
        return []
    model.zero_grad(set_to_none=True)
    loss_fn(model(x), y).backward()
    found = []
    for name, module, unique, total in dup:
        rows = module.weight.detach().flatten(1)
        grad = module.weight.grad
        both = torch.cat([rows, grad.flatten(1) if grad is not None else torch.zeros_like(rows)], dim=1)
        stuck = torch.unique(both, dim=0).shape[0] == unique
        zero = bool((rows == 0).all())
        found.append(make(
            "symmetric_init",
            f"layer {name} has {total - unique + 1 if unique == 1 else total - unique} duplicated units "
            f"({unique} distinct rows of {total}){' - all weights are zero' if zero else ''}; "
            + ("their gradients are identical too, so they stay identical forever"
               if stuck else "the gradients differ, but the units start out redundant"),
            evidence={"distinct_rows": unique, "rows": total, "all_zero": zero, "gradients_identical": stuck},
            where=name, severity="error" if stuck else "warning",
            fix=f"initialize {name} with small random weights (Xavier for tanh, He for ReLU)"))
    model.zero_grad(set_to_none=True)
    return found


NORMALIZATION = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)


def unregistered_modules(model: nn.Module) -> dict:
    """``{attribute path: parameter count}`` for the attributes of the model's modules that hold
    modules or parameters in a plain list, tuple or dict: PyTorch registers direct attributes and
    the contents of nn.ModuleList / ModuleDict / ParameterList only, so ``.parameters()``,
    ``.to()`` and ``state_dict()`` never see these."""
    found = {}
    for prefix, module in model.named_modules():
        for name, value in vars(module).items():
            if name.startswith("_") or not isinstance(value, (list, tuple, dict)):
                continue
            items = [v for v in (value.values() if isinstance(value, dict) else value)
                     if isinstance(v, (nn.Module, nn.Parameter))]
            if items:
                found[f"{prefix}.{name}" if prefix else name] = sum(
                    v.numel() if isinstance(v, nn.Parameter) else sum(p.numel() for p in v.parameters())
                    for v in items)
    return found


def check_registration(model: nn.Module) -> list[Finding]:
    held = unregistered_modules(model)
    if not held:
        return []
    where = ", ".join(held)
    return [make("unregistered_modules",
                 f"{sum(held.values())} parameters held in a plain Python container ({where}): not registered, "
                 f"so never trained, moved or saved", evidence={"attributes": held}, where=where)]


def has_normalization(model: nn.Module) -> bool:
    """The model has a normalization layer (batch, instance, layer or group norm)."""
    return any(isinstance(m, NORMALIZATION) for m in model.modules())


def check_activations(stats: dict, x_std: float, x_signal: float | None = None, *,
                      normalized: bool = False) -> list[Finding]:
    """Per-layer activation statistics (notes 004's tables: std per hidden layer). With
    ``x_signal`` (the input's ``input_signal``), vanishing compares each layer's per-unit signal
    to it: biases can keep a layer's std up while its units no longer vary with the input.
    ``normalized``: the model has normalization layers (``has_normalization``), which reset the
    scale to unit std (Ioffe & Szegedy 2015): vanishing is then judged against at most a unit
    scale, so inputs of a large scale (raw pixel values, x1000) normalized away are no shrinking."""
    ref = x_std if x_std > 0 else 1.0
    signal_ref = x_signal if x_signal else None
    vanish_ref = min(ref, 1.0) if normalized else ref
    vanish_signal = min(signal_ref, 1.0) if normalized and signal_ref else signal_ref
    table = {name: {k: s[k] for k in ("mean", "std", "saturated", "dead")} for name, s in stats.items()}
    found = []
    first = {}
    for name, s in stats.items():
        std = s["std"]
        if s["nonfinite"]:
            first.setdefault("nonfinite", name)
        elif std is not None and std < VANISHING_STD * vanish_ref:
            first.setdefault("vanishing", name)
        elif vanish_signal and s.get("signal") is not None and s["signal"] < VANISHING_STD * vanish_signal:
            first.setdefault("vanishing", name)
        elif std is not None and s["family"] in ("relu", "other") and std > EXPLODING_STD * ref:
            first.setdefault("exploding", name)
        if s["saturated"] is not None and s["saturated"] > SATURATED_SHARE:
            first.setdefault("saturated", name)
        if s["dead"] is not None and s["dead"] > DEAD_SHARE:
            first.setdefault("dead", name)
    stds = {n: s["std"] for n, s in stats.items()}
    if "nonfinite" in first:
        n = first["nonfinite"]
        found.append(make("exploding_activations", f"activations of {n} are NaN/inf on a finite batch",
                          evidence={"layer_std": stds}, where=n, severity="error"))
    if "vanishing" in first:
        n = first["vanishing"]
        by_signal = stats[n]["std"] is not None and stats[n]["std"] >= VANISHING_STD * vanish_ref
        what = (f"each unit's output varies across examples by only {stats[n]['signal']:.3g} at {n} "
                f"(input {signal_ref:.3g}; the biases hold the layer's std at {stats[n]['std']:.3g})"
                if by_signal else f"activations shrink to std {stats[n]['std']:.3g} at {n} (input std {ref:.3g})")
        found.append(make("vanishing_activations", f"{what}; deeper layers see almost constant inputs and "
                          f"gradients vanish", evidence={"input_std": ref, "input_signal": signal_ref,
                                                         "layer_std": stds, "table": table,
                                                         "layer_signal": {k: s.get("signal") for k, s in stats.items()}},
                          where=n))
    if "exploding" in first:
        n = first["exploding"]
        found.append(make("exploding_activations",
                          f"activations grow to std {stats[n]['std']:.3g} at {n} (input std {ref:.3g})",
                          evidence={"input_std": ref, "layer_std": stds, "table": table}, where=n))
    if "saturated" in first:
        n = first["saturated"]
        found.append(make("saturated_units",
                          f"{100 * stats[n]['saturated']:.0f}% of {n}'s {stats[n]['family']} outputs are saturated; "
                          f"their gradients are nearly zero",
                          evidence={"saturated": {k: s["saturated"] for k, s in stats.items()
                                                  if s["saturated"] is not None}, "table": table}, where=n))
    if "dead" in first:
        n = first["dead"]
        found.append(make("dead_units",
                          f"{100 * stats[n]['dead']:.0f}% of {n}'s units are never active on a batch of "
                          f"examples (dead ReLUs get no gradient)",
                          evidence={"dead": {k: s["dead"] for k, s in stats.items() if s["dead"] is not None},
                                    "table": table}, where=n))
    return found


def check_layer_outputs(model, x, layers) -> list[Finding]:
    """The outputs of the hidden weight layers themselves, against the input's std: a stack of
    linear layers (or layers whose activation is not a module the recorder sees) can explode with
    no activation to measure. Notes 004: keep the variance the same across layers."""
    hidden = layers[:-1]
    if not hidden or not torch.is_floating_point(x):
        return []
    stds, handles = {}, []
    for name, module in hidden:
        def hook(m, args, output, name=name):
            if isinstance(output, torch.Tensor) and output.is_floating_point():
                stds.setdefault(name, output.detach().double().std())
        handles.append(module.register_forward_hook(hook))
    run_hooked(model, x, handles)
    ref = input_std(x) or 1.0
    values = {name: float(v) for name, v in stds.items()}
    for name, std in values.items():
        if not math.isfinite(std) or std > EXPLODING_STD * ref:
            return [make("exploding_activations",
                         f"the output of {name} has std {std:.3g}, {std / ref:.3g}x the input's {ref:.3g}: each "
                         f"layer multiplies the signal", evidence={"input_std": ref, "layer_output_std": values},
                         where=name)]
    return []
