"""Parameters the output depends on that no gradient reaches: the graph cut between them and the loss.

Backpropagation trains a parameter only through a differentiable path from it to the loss (notes
001: the chain rule through each gate of the circuit). A user's forward can cut that path without
an error: the positions of the maxima taken for their values (``_, pooled = x.max(2)``, then
``.float()`` "expected Float but found Long"), ``argmax``, an integer cast, ``.detach()`` or
``.item()``, a round trip through numpy (``torch.tensor(a.numpy())``). The layers before the cut
still run and still shape the output, so nothing looks wrong, but they keep their initial values
for the whole run: a random feature extractor under a trained head. PyTorch says so only as a
``None`` gradient, which also marks a parameter the forward never used (an unused head, a branch
computed and dropped), and those are harmless.

The check tells the two apart by an intervention on the untrained model: one training-mode forward and
loss on ``ROWS`` rows, ``torch.autograd.grad`` of the loss for every trainable parameter
(``allow_unused``), and for each module with its own trainable parameters that the forward called with
gradients enabled and none of whose parameters got a gradient, the same rows' outputs in eval mode
before and after those parameters are moved by ``NUDGE`` of their tensor's RMS, and where that moves it
by at most ``CHANGED``, again by ``REDRAW`` of it in up to ``REDRAWS`` random directions: an output that
reads the parameters only through a step function (each row sent to the expert of its gate's arg max, a
mask from a threshold, rounding) is constant between the steps' boundaries, and a small move carries no
row across one. An output that moves by more than ``CHANGED`` of its RMS depends on parameters no
gradient reaches: the graph is cut (``frozen_parameters``, a warning naming the modules and how far the
output moved). A module called under ``torch.no_grad`` (a pretrained body used as a fixed feature
extractor) is the user's decision and is not read; neither is a model whose forward or loss raises
(``model_raises``).
"""
from __future__ import annotations

import copy
import math
import warnings

import torch
from torch import nn

from trainwell.babysit.findings import Finding, make
from trainwell.babysit.hooks import hooks_held

CODE = "frozen_parameters"
ROWS = 32                # the rows of the forward, loss and backward (model_checks.RUN_ROWS)
NUDGE = 0.1              # each parameter moved by 10% of its tensor's RMS (1e-3 where that is 0): far beyond
                         # float32 rounding, small enough that the model stays where it was initialized
REDRAW = 1.0             # the second move, where NUDGE moved the output by at most CHANGED: each parameter moved
                         # by its tensor's RMS, as far as a fresh draw lies from the first (a step function of
                         # the parameters, an arg max over a gate's scores, moves the output only where a row
                         # crosses a boundary, and 10% of the scale left every one of ROWS rows on its side)
REDRAWS = 4              # at most this many REDRAW moves, each a fresh random direction (one eval forward each): a
                         # gate that prefers one expert by a margin keeps its arg max under some directions
CHANGED = 1e-3           # the output moved by more than 1e-3 of its RMS (float32 rounding is ~1e-6): it depends
MAX_MODULES = 16         # at most this many candidate modules are nudged (one eval forward each)


def first_tensor(out) -> torch.Tensor | None:
    """A module's or model's output as one tensor: the output itself, or the first tensor of a tuple,
    list or dict of outputs; None where it holds none."""
    if torch.is_tensor(out):
        return out
    if isinstance(out, (tuple, list)):
        return next((o for o in out if torch.is_tensor(o)), None)
    if isinstance(out, dict):
        return next((o for o in out.values() if torch.is_tensor(o)), None)
    return None


def own_trainable(module: nn.Module) -> list:
    """The trainable parameters ``module`` registers itself (not its children's)."""
    return [q for q in module.parameters(recurse=False) if q.requires_grad]


def working_copy(model: nn.Module, x, y) -> tuple:
    """``(copy, x, y)``: a training-mode copy of ``model`` and the first ``ROWS`` rows of ``x`` and
    ``y`` (when a tensor) on its device."""
    work = copy.deepcopy(model).train()
    device = next((q.device for q in work.parameters()), x.device)
    return work, x[:ROWS].to(device), y[:ROWS].to(device) if torch.is_tensor(y) else y


def eval_output(work: nn.Module, x) -> torch.Tensor | None:
    """``work``'s output on ``x`` in eval mode without gradients (its first tensor; ``work`` is left in
    eval mode), None where that is not a finite floating tensor: nothing a nudge can be compared with."""
    work.eval()
    with torch.no_grad():
        base = first_tensor(work(x))
    ok = base is not None and torch.is_floating_point(base) and bool(torch.isfinite(base).all())
    return base if ok else None


def forward_and_loss(work: nn.Module, x, y, loss_fn, handles: list) -> tuple | None:
    """``(output, value)`` of one forward of ``x`` and the loss against ``y`` (the hooks ``handles``
    removed after it), where ``value`` is the loss when it is a scalar, else the sum of the output's
    first tensor when that needs a gradient, else None; None when the forward raises (model_raises'
    finding; a loss that raises is check_loss_output's)."""
    try:
        with hooks_held(handles), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = work(x)
            try:
                value = loss_fn(out, y)
            except Exception:       # noqa: BLE001 - a loss that fails here is check_loss_output's finding
                value = None
    except Exception:               # noqa: BLE001 - a forward that raises is model_raises' finding
        return None
    if not (torch.is_tensor(value) and value.numel() == 1):
        first = first_tensor(out)
        value = first.float().sum() if first is not None and first.requires_grad else None
    return out, value


def _ungraded(work: nn.Module, x, y, loss_fn) -> list | None:
    """``(name, module)`` of the modules called with gradients enabled whose own trainable parameters
    got no gradient of the loss (nor of the output's sum where the loss does not run), or None when
    the forward or the loss raises or nothing can be differentiated."""
    called: dict = {}
    owners = {m: n for n, m in work.named_modules() if own_trainable(m)}

    def hook(module, args):
        called[module] = called.get(module, False) or torch.is_grad_enabled()

    ran = forward_and_loss(work, x, y, loss_fn, [m.register_forward_pre_hook(hook) for m in owners])
    if ran is None:
        return None
    _, value = ran
    params = [q for m in owners for q in own_trainable(m)]
    if value is None or not params:
        return None
    try:
        grads = torch.autograd.grad(value, params, allow_unused=True) if value.requires_grad else [None] * len(params)
    except Exception:               # noqa: BLE001 - a backward that raises is model_raises' finding
        return None
    missing = {id(q) for q, g in zip(params, grads) if g is None}
    return [(owners[m], m) for m in owners if called.get(m) and all(id(q) in missing for q in own_trainable(m))]


def output_change(work: nn.Module, tensors: list, x, base: torch.Tensor, seed: int, scale: float) -> float:
    """How far the eval-mode output moves, relative to its RMS, when ``tensors`` move by ``scale`` of
    their RMS (``scale`` x 1e-2 where a tensor is all zero; restored after)."""
    saved = [q.detach().clone() for q in tensors]
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for q in tensors:
            rms = q.float().pow(2).mean().sqrt().item() if q.numel() else 0.0
            noise = torch.randn(q.shape, generator=g).to(q.device, q.dtype)
            q.add_(noise * scale * (rms if rms > 0 else 1e-2))
        moved = first_tensor(work(x))
        for q, s in zip(tensors, saved):
            q.copy_(s)
    if moved is None or moved.shape != base.shape:
        return math.inf
    rms = base.float().pow(2).mean().sqrt().item()
    return (moved.float() - base.float()).abs().max().item() / max(rms, 1e-12)


def moved(work: nn.Module, tensors: list, x, base: torch.Tensor, seed: int) -> tuple[float, float]:
    """``(change, scale)``: how far the eval-mode output moves when ``tensors`` move by ``NUDGE`` of
    their RMS, or, where that is at most ``CHANGED``, the most it moves over up to ``REDRAWS`` moves
    by ``REDRAW`` of it (a step function's boundaries; the module docstring), with the move read."""
    change = output_change(work, tensors, x, base, seed, NUDGE)
    if change > CHANGED:
        return change, NUDGE
    for k in range(1, REDRAWS + 1):         # seeds past the other candidates' (seed + i, i < MAX_MODULES)
        change = max(change, output_change(work, tensors, x, base, seed + k * MAX_MODULES, REDRAW))
        if change > CHANGED:
            break
    return change, REDRAW


def check_gradient_reaches(model: nn.Module, x, y, loss_fn, *, seed: int = 0) -> list[Finding]:
    """``frozen_parameters`` (a warning) when the output depends on parameters that no gradient of
    the loss reaches (the module docstring); else ``[]``."""
    if not torch.is_tensor(x) or x.shape[0] == 0:
        return []
    work, x, y = working_copy(model, x, y)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        candidates = _ungraded(work, x, y, loss_fn)
        if not candidates:
            return []
        try:
            base = eval_output(work, x)
            if base is None:
                return []
            read = {name: moved(work, own_trainable(m), x, base, seed + i)
                    for i, (name, m) in enumerate(candidates[:MAX_MODULES])}
        except Exception:           # noqa: BLE001 - an eval forward that raises: nothing to compare
            return []
    cut = {name: change for name, (change, _) in read.items() if change > CHANGED}
    if not cut:
        return []
    scales = {name: read[name][1] for name in cut}
    count = sum(q.numel() for name, m in candidates if name in cut for q in own_trainable(m))
    names = ", ".join(cut)
    largest = max(cut.values())
    stepped = [name for name, scale in scales.items() if scale == REDRAW]
    how = (f"{NUDGE:g} of their size" if not stepped else
           f"{REDRAW:g} of their size (a move of {NUDGE:g} changed no output: a step function, such as an arg max, "
           f"reads {', '.join(stepped)})")
    message = (f"no gradient reaches {len(cut)} module(s) the output depends on ({names}: {count} parameters): "
               f"moving their parameters by {how} moves the output by up to {largest:.3g} of "
               f"its size, yet the loss's gradient for each of them is None, so they keep their initial values "
               f"for the whole run; the graph is cut between them and the loss (an index taken for a value, "
               f"argmax or max(...).indices, an integer cast, .detach() or .item(), a round trip through numpy)")
    evidence = {"modules": list(cut), "output_change": cut, "moved_by": scales, "parameters": count}
    fix = ("keep the path from these layers to the loss differentiable: take the values, not the indices "
           "(values, _ = x.max(dim)), weigh by a softmax instead of choosing by its arg max (or scale the chosen "
           "branch by its softmax weight), compute in torch instead of numpy, drop .detach() / .item() on the way; "
           "to freeze them on purpose, set requires_grad_(False)")
    return [make(CODE, message, evidence=evidence, fix=fix, where=next(iter(cut)), severity="warning")]
