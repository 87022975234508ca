"""A layer's units pooled together before the next layer: ``pooled_units``.

A Linear or Conv layer computes ``C`` units (the last axis of a Linear's output, the channel axis
of a convolution's). The layers after it can tell the units apart only if what they receive
depends on each unit in its own way. A mean or sum over the unit axis (``x.mean(1)`` on a
convolution's ``(N, C, H, W)`` where ``x.mean((2, 3))`` was meant, ``h.mean(-1)`` on a Linear's
``(N, L, D)`` where the sequence axis was meant) passes on only a symmetric function of them: the
``C`` filters act as one, every unit gets the same gradient from above (up to its own activation's
slope), and the axis meant to be pooled is passed on instead.

``pooled_layers`` asks it of the model as a whole, on a few rows in eval mode: a layer whose units,
permuted among themselves (a fixed random permutation of its output's unit axis), leave the model's
output unchanged (within ``SAME`` of its scale) reaches it only through a symmetric function of its
units. Counted only where the layer matters and its units differ: zeroing its output changes the
model's output (an unused or dead layer is another fault), and the permutation changes its output
(identical units are ``symmetric_init``'s). Residual additions, attention's dot products, batch or
layer norm, a next Linear or Conv, pooling over the other axes and a max over groups of units all
see the permutation. At most ``MAX_LAYERS`` layers, two forwards each.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from trainwell.babysit.findings import Finding, make
from trainwell.babysit.hooks import hooks_held

ROWS = 8                # rows of the forwards
SAME = 1e-5             # the outputs' largest change, relative to their largest magnitude, read as none
                        # (float32 sums in another order differ by ~1e-7)
MAX_LAYERS = 64         # layers tested (the first ones in the model's order)
LAYERS = (nn.Linear, nn.modules.conv._ConvNd)


def _unit_axis(module: nn.Module, out: torch.Tensor) -> int:
    """The axis of ``out`` that indexes ``module``'s units: a Linear's last, a convolution's second."""
    return out.dim() - 1 if isinstance(module, nn.Linear) else 1


def model_outputs(work: nn.Module, x: torch.Tensor, layer: nn.Module | None = None, change=None) -> list:
    """The model's output tensors on ``x`` (flattened), with ``layer``'s output passed through ``change``."""
    handles = [layer.register_forward_hook(lambda m, a, out: change(m, out))] if layer is not None else []
    with hooks_held(handles), torch.no_grad():
        out = work(x)
    out = out if isinstance(out, (tuple, list)) else (out,)
    return [o.reshape(-1).double() for o in out if torch.is_tensor(o) and torch.is_floating_point(o)]


def outputs_differ(a: list, b: list) -> bool:
    """Whether the output tensors ``b`` differ from ``a`` by more than ``SAME`` of ``a``'s largest magnitude."""
    scale = max((float(t.abs().max()) for t in a if t.numel()), default=0.0)
    return any(float((s - t).abs().max()) > SAME * max(scale, 1e-12) for s, t in zip(a, b) if s.numel())


def pooled_layers(model: nn.Module, x: torch.Tensor, *, seed: int = 0) -> list[dict]:
    """The Linear / Conv layers whose units reach the model's output only through a symmetric
    function of them, on the rows ``x``: ``[{"layer", "units", "axis", "shape"}]``; [] when the
    forward fails. ``seed``: the permutations'."""
    work = copy.deepcopy(model).eval()
    gen = torch.Generator().manual_seed(seed)
    before = _rng_states(x.device)
    try:
        base = model_outputs(work, x)
    except Exception:                   # a forward that fails is model_checks' to report
        return []
    # an eval-mode forward that draws from torch's generators runs every forward below, so the checks
    # after this one draw the same numbers as ever; one that draws nothing skips what cannot change the verdict
    draws = _drew(before, x.device)
    found = []
    layers = [(n, m) for n, m in work.named_modules() if isinstance(m, LAYERS)][:MAX_LAYERS]
    for name, layer in layers:
        seen = {}

        def permute(m, out):
            if not torch.is_tensor(out) or m in seen:
                return None
            axis = _unit_axis(m, out)
            units = out.shape[axis]
            order = torch.randperm(units, generator=gen)
            while units > 1 and bool((order == torch.arange(units)).all()):
                order = torch.randperm(units, generator=gen)
            moved = out.index_select(axis, order.to(out.device))
            seen[m] = {"units": units, "axis": axis, "shape": tuple(out.shape[1:]),
                       "differs": outputs_differ([out.reshape(-1).double()], [moved.reshape(-1).double()])}
            return moved
        before = _rng_states(x.device)
        try:
            permuted = model_outputs(work, x, layer, permute)
        except Exception:               # a permuted output the rest of the forward cannot take
            continue
        draws = draws or _drew(before, x.device)
        info = seen.get(layer)
        settled = info is None or info["units"] < 2 or not info["differs"] or outputs_differ(base, permuted)
        if settled and not draws:       # not pooled whatever the zeroed forward gives
            continue
        try:
            zeroed = model_outputs(work, x, layer, lambda m, out: torch.zeros_like(out) if torch.is_tensor(out) else None)
        except Exception:               # a zeroed output the rest of the forward cannot take
            continue
        if not settled and outputs_differ(base, zeroed):
            found.append({"layer": name, "units": info["units"], "axis": info["axis"], "shape": info["shape"]})
    return found


def _drew(before: list, device: torch.device) -> bool:
    """Whether torch's generators moved since ``before`` (``_rng_states``)."""
    return any(not torch.equal(a, b) for a, b in zip(before, _rng_states(device)))


def _rng_states(device: torch.device) -> list:
    """torch's generator states a forward on ``device`` may draw from: the CPU's and the device's own."""
    states = [torch.get_rng_state()]
    if device.type == "cuda":
        states.append(torch.cuda.get_rng_state(device))
    return states


def check_pooled_units(model: nn.Module, X, *, seed: int = 0) -> list[Finding]:
    """``pooled_units`` (a warning) for each Linear / Conv layer whose units reach the next layers
    only through their sum or mean (see the module docstring), on the first ``ROWS`` rows of ``X``."""
    if X.shape[0] < 1 or not torch.is_floating_point(X):
        return []
    device = next((p.device for p in model.parameters()), X.device)
    out = []
    for r in pooled_layers(model, X[:ROWS].to(device), seed=seed):
        out.append(make(
            "pooled_units",
            f"{r['layer']}'s {r['units']} units (axis {r['axis']} of its output {r['shape']} per row) can be "
            "permuted among themselves without changing the model's output: they reach it only through their "
            f"sum, mean or another symmetric function, so the {r['units']} units act as one and the axis meant "
            "to be pooled is passed on instead (a mean over the channel or feature axis where the spatial or "
            "sequence axis was meant)",
            evidence=r, where=r["layer"], severity="warning",
            fix=f"pool over the other axes of {r['layer']}'s output (x.mean((2, 3)) for a convolution's "
                "(N, C, H, W), the sequence axis for a Linear's (N, L, D)), keeping the unit axis for the next "
                "layer"))
    return out
