"""A head that pools the positions where the classes differ by a move: ``uninformative_inputs``.

A global average or max pool before the head ("as the ResNet head", ``nn.AdaptiveAvgPool2d(1)``,
``x.amax((2, 3))``) makes a CNN's features the same wherever in the image a pattern lies (the pool is
translation-invariant by construction; position reaches it only through the zero padding at the borders,
Islam et al. 2020, "How much position information do convolutional neural networks encode?"). Right for
a defect anywhere, wrong where the class *is* the place: a hot joint on phase L1, L2 or L3 of a busbar,
the lane or the quadrant a thing is in. Two measurements, both needed, on class ids of images or signals
``(N, C, *spatial)``:

1. *The classes differ by a move* (``class_moves``, on at most ``MOVE_ROWS`` training rows): each
   class's mean image less the mean of the classes' means, and for each pair of classes the
   circular cross-correlation of the two, normalized (over the channels, by FFT). A pair is moved
   apart where the best shift other than none correlates them by at least ``MOVED`` while in place
   they correlate by at most ``IN_PLACE`` in size (one class's mean pattern is the other's moved,
   not the same pattern brighter or darker), and each mean pattern carries at least ``SIGNAL``
   times its sampling noise (the per-pixel variances over the class's rows, summed). Classes with
   ``MIN_CLASS_ROWS`` rows or more.
2. *The model cannot see the move*: the last convolution the forward calls, its output rolled along
   each spatial axis the move runs along by 1, 2, 4 ... positions (a multiple of the pools after it
   keeps a max pool's windows): the model's output unchanged (within ``SAME``) for some step, while
   swapping that output between rows changes it (the layer matters). A global pool of any kind, with
   pools and pointwise layers before it, is unchanged by a circular roll; a flattened map into a
   Linear is not. Residual additions before a ReLU and the pool are not read (the roll reaches one
   branch only): missed, not a false alarm.

A warning (``uninformative_inputs``, evidence ``positions``: what the labels need, the place, is thrown
away by the model's code before the head, as ``first_layer`` reports a pool before the first layer):
the pooled features are alike wherever the pattern lies, so the two classes are told apart only near
the borders. Quiet where the classes are
patterns anywhere (their means flat), shapes in place (digits: no move correlates them by ``MOVED``),
or brightness (the same pattern in place), and for heads that keep the positions.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from trainwell.babysit.findings import Finding, make
from trainwell.babysit.hooks import run_hooked
from trainwell.babysit.pooled_units import ROWS, model_outputs, outputs_differ

MOVE_ROWS = 2000        # training rows the class means are read on (data_checks.STATS_ROWS)
MIN_CLASS_ROWS = 30     # a class's mean read from fewer rows is too noisy to compare
MOVED = 0.8             # a pair's mean patterns, one moved: correlated by >= 0.8 (the move explains 64% of them)
IN_PLACE = 0.5          # ... and in place by at most 0.5 in size (they share at most a quarter: not one pattern)
SIGNAL = 10.0           # each class's mean pattern carries >= 10x its sampling noise (a correlation of noise
                        # maps is no move; at 10x the noise shrinks a true correlation by under 5%)


def class_moves(x: torch.Tensor, y: torch.Tensor) -> list[dict]:
    """Pairs of classes of the images or signals ``x`` (N, C, *spatial) whose mean patterns are one
    another moved (see the module docstring): ``[{"classes", "shift", "moved", "in_place", "signal"}]``,
    the best first; ``shift`` per spatial axis, in positions (signed, the shorter way round)."""
    x = x.double()
    classes, counts = torch.unique(y, return_counts=True)
    classes = classes[counts >= MIN_CLASS_ROWS]
    if classes.numel() < 2:
        return []
    rows = [x[y == c] for c in classes]
    means = torch.stack([r.mean(0) for r in rows])
    patterns = means - means.mean(0)
    noise = torch.stack([(r.var(0) / r.shape[0]).sum() for r in rows])
    energy = patterns.flatten(1).pow(2).sum(1)
    signal = (energy / noise).tolist()        # each class's mean pattern over its sampling noise
    axes = tuple(range(2, patterns.dim()))
    spectra = torch.fft.fftn(patterns, dim=axes)
    found = []
    for a in range(classes.numel()):
        for b in range(a + 1, classes.numel()):
            if min(signal[a], signal[b]) < SIGNAL:
                continue
            corr = torch.fft.ifftn(spectra[a].conj() * spectra[b], dim=tuple(k - 1 for k in axes)).real.sum(0)
            corr = corr / (energy[a] * energy[b]).sqrt()
            flat = corr.flatten()
            in_place, flat[0] = float(flat[0]), -float("inf")
            best = int(flat.argmax())
            if float(flat[best]) >= MOVED and abs(in_place) <= IN_PLACE:
                shift = [int(i) if i <= n // 2 else int(i) - n
                         for i, n in zip(torch.unravel_index(torch.tensor(best), corr.shape), corr.shape)]
                found.append({"classes": [int(classes[a]), int(classes[b])], "shift": shift,
                              "moved": float(flat[best]), "in_place": in_place,
                              "signal": min(signal[a], signal[b])})
    return sorted(found, key=lambda m: -m["moved"])


def _last_conv(work: nn.Module, x: torch.Tensor) -> tuple | None:
    """``(name, module, output shape)`` of the last convolution the forward calls, None without one."""
    called = []
    hooks = [m.register_forward_hook(lambda m, a, out, name=name: called.append((name, m, tuple(out.shape))))
             for name, m in work.named_modules() if isinstance(m, nn.modules.conv._ConvNd)]
    run_hooked(work, x, hooks)
    return called[-1] if called else None


def pooled_axes(model: nn.Module, x: torch.Tensor) -> dict | None:
    """``{"layer", "axes": {axis: step}}``: the spatial axes (0 the first after the channels) along
    which rolling the last convolution's output by ``step`` leaves the model's output unchanged on the
    rows ``x``, where swapping that output between rows changes it; None without a convolution, a
    forward that fails or a layer that does not matter."""
    work = copy.deepcopy(model).eval()
    try:
        base = model_outputs(work, x)
        last = _last_conv(work, x)
    except Exception:                   # a forward that fails is model_checks' to report
        return None
    if last is None or x.shape[0] < 2:
        return None
    name, layer, shape = last

    def changed(change) -> bool:
        try:
            return outputs_differ(base, model_outputs(work, x, layer, lambda m, out: change(out)))
        except Exception:               # a changed output the rest of the forward cannot take
            return True
    if not changed(lambda out: out.roll(1, 0)):
        return None                     # the layer does not reach the output: unused, not pooled
    axes = {}
    for axis in range(len(shape) - 2):
        size, step = shape[2 + axis], 1
        while step < size:
            if not changed(lambda out, step=step, axis=axis: out.roll(step, 2 + axis)):
                axes[axis] = step
                break
            step *= 2
    return {"layer": name, "axes": axes}


def check_pooled_positions(model: nn.Module, X, y, *, class_ids: bool) -> list[Finding]:
    """``uninformative_inputs`` (a warning) where a pair of classes differ by a move (``class_moves``) along
    axes the model's head pools (``pooled_axes``): see the module docstring."""
    if not class_ids or not torch.is_tensor(X) or not torch.is_floating_point(X) or X.dim() < 3 \
            or not torch.is_tensor(y) or y.dim() != 1 or y.shape[0] != X.shape[0]:
        return []
    x = X[:MOVE_ROWS].detach().cpu()
    moves = class_moves(x, y[:MOVE_ROWS].cpu())
    if not moves:
        return []
    device = next((p.device for p in model.parameters()), X.device)
    pooled = pooled_axes(model, X[:ROWS].to(device))
    if pooled is None:
        return []
    moves = [m for m in moves if all(k in pooled["axes"] for k, s in enumerate(m["shift"]) if s)]
    if not moves:
        return []
    m = moves[0]
    a, b = m["classes"]
    axes = sorted({k for k, s in enumerate(m["shift"]) if s})
    rolled = ", ".join(f"axis {k} by {pooled['axes'][k]}" for k in axes)
    return [make(
        "uninformative_inputs",
        f"classes {a} and {b} differ by where their rows' pattern lies: class {b}'s mean pattern is class {a}'s "
        f"moved by {m['shift']} positions (correlated {m['moved']:.2f} moved, {m['in_place']:.2f} in place, "
        f"{m['signal']:.0f}x its sampling noise; {len(moves)} such pair{'s' if len(moves) > 1 else ''}), but the "
        f"model's output does not change when {pooled['layer']}'s maps are rolled ({rolled}): the head pools their "
        f"positions (a global average or max pool), so its features are alike wherever the pattern is and "
        f"those classes are told apart only near the borders",
        evidence={"positions": True, "layer": pooled["layer"], "rolled": {str(k): v for k, v in pooled["axes"].items()},
                  "moves": moves[:5]},
        where=pooled["layer"], severity="warning",
        fix="keep the positions for the head where the class is a place: flatten the maps into the linear layer "
            "(as many cells as the place needs), or add coordinate channels before the convolutions (CoordConv, "
            "Liu et al. 2018); a global pool suits patterns that may lie anywhere")]
