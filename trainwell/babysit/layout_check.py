"""The first convolution against the axes of what it reads: a kernel wider than the axis it slides
along, while the axis it reads as channels is long.

A convolution reads its input as ``(N, C, *spatial)``: the same small kernel slides along every
spatial axis (translation equivariance, the reason to use one: LeCun et al. 1998; Goodfellow et al.
2016, sec. 9.2-9.4), while the ``C`` channels at one position are read all together, with no order.
Data recorded channels last, windows ``(N, length, sensors)`` or images ``(N, H, W, 3)``, given to a
layer that expects channels first runs without an error once ``in_channels`` is set to the length
("expected input to have 3 channels, but got 64" fixed the wrong way): the time axis is then read as
64 unordered channels and the 3 sensors as a "sequence" of 3 positions that a kernel of 5 cannot
slide along, its padding keeping every window alive. Nothing raises; the model learns the windows as
a dense layer would, without the shift invariance it was built for.

The check: the model's forward on ``ROWS`` training rows in eval mode, with a hook on every
``Conv1d`` / ``Conv2d`` / ``Conv3d``; the first one called (the layer that reads the data) is read
against its input's shape. A spatial axis of length ``s`` along which the kernel's reach (``k_eff =
dilation x (kernel - 1) + 1``) is at least ``s`` and the layer pads (``padding > 0``: without it
PyTorch refuses a kernel longer than the input) leaves at most one window inside the input, the rest
reading zeros: the layer cannot slide along that axis. With ``in_channels`` larger than ``k_eff``
too (the channel axis would hold the kernel: a handful of sensors or colours is shorter than any
kernel worth sliding), the axes are read in the other roles. Found: ``input_layout``, a warning
naming the layer, its input's shape, the axis and the kernel. A kernel that fits its axis, a first
layer with few channels, or a layer deeper in the model (after pooling, a 2 x 2 map under a 3 x 3
kernel is normal) is never read.
"""
from __future__ import annotations

import torch
from torch import nn

from trainwell.babysit.findings import Finding, make
from trainwell.babysit.hooks import hooks_held

CODE = "input_layout"
ROWS = 4                # the rows of the forward that shows the first convolution's input shape
CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def first_conv(model: nn.Module, x: torch.Tensor) -> tuple | None:
    """``(name, layer, input shape)`` of the first convolution the model's forward calls on ``x``
    (eval mode, no gradients), or None when none is called or the forward raises."""
    names = {m: n for n, m in model.named_modules() if isinstance(m, CONVS)}
    if not names:
        return None
    seen: list = []

    def hook(module, args):
        if not seen and args and torch.is_tensor(args[0]):
            seen.append((names[module], module, tuple(args[0].shape)))

    handles = [m.register_forward_pre_hook(hook) for m in names]
    training = model.training
    model.eval()
    try:                        # fork_rng: a model drawing noise in eval mode leaves the global stream as it was
        with hooks_held(handles), torch.no_grad(), torch.random.fork_rng(devices=[]):
            model(x)
    except Exception:           # noqa: BLE001 - a model that raises is model_raises' finding
        return None
    finally:
        model.train(training)
    return seen[0] if seen else None


def misread_axes(layer: nn.Module, shape: tuple) -> list[dict]:
    """The spatial axes of ``shape`` (the layer's input, ``(N, C, *spatial)``) no kernel window fits
    inside while the channel axis is longer than the kernel (the module docstring)."""
    spatial = shape[2:]
    if len(shape) != layer.weight.ndim or isinstance(layer.padding, str) and layer.padding == "valid":
        return []
    out = []
    for i, s in enumerate(spatial):
        k = layer.dilation[i] * (layer.kernel_size[i] - 1) + 1
        pad = layer.padding[i] if not isinstance(layer.padding, str) else k // 2       # "same" pads
        if pad > 0 and 1 < k and s <= k < layer.in_channels:
            out.append({"axis": i + 2, "length": s, "kernel": k, "padding": pad})
    return out


def check_layout(model: nn.Module, X) -> list[Finding]:
    """``input_layout`` (a warning) when the model's first convolution cannot slide along a spatial
    axis of its input while it reads a longer axis as channels; else ``[]``."""
    if not torch.is_tensor(X) or X.shape[0] == 0:
        return []
    device = next((q.device for q in model.parameters()), X.device)
    found = first_conv(model, X[:ROWS].to(device))
    if found is None:
        return []
    name, layer, shape = found
    axes = misread_axes(layer, shape)
    if not axes:
        return []
    a = axes[0]
    kind = type(layer).__name__
    said = f"{kind}({layer.in_channels}, {layer.out_channels}, kernel {tuple(layer.kernel_size)})"
    dims = ", ".join(["N", *map(str, shape[1:])])
    message = (f"the first convolution, {name} = {said}, reads its input as (N, channels, ...) = "
               f"({dims}): it slides a kernel {a['kernel']} wide along axis {a['axis']}, only "
               f"{a['length']} long (no window fits inside it; padding {a['padding']} keeps every one alive on "
               f"zeros), while the {shape[1]} entries of axis 1 are read as unordered channels at one position: "
               f"the data's axes look given in the other order (channels last, (N, length, channels), to a layer "
               f"that expects channels first), so nothing slides along the long axis")
    fix = (f"give the layer its channels first: x.transpose(1, {len(shape) - 1}) (or permute) before {name} and "
           f"in_channels = the number of channels ({shape[-1]} here if the last axis holds them); a kernel "
           f"shorter than the axis it slides along")
    evidence = {"layer": name, "kind": kind, "input_shape": list(shape), "in_channels": layer.in_channels,
                "axes": axes}
    return [make(CODE, message, evidence=evidence, fix=fix, where=name, severity="warning")]
