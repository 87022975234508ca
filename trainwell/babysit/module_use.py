"""How the forward uses the modules the user built: part of a called module that never reaches the
output, and one module instance registered as several layers.

**Part of a module the output never depends on** (``partly_used_module``). A module the forward
calls and reads holds parameters that cannot reach the output: a two-layer ``nn.LSTM`` read at its
first layer's final state (``h_n[0]`` where ``h_n[-1]`` is the top layer's), a bidirectional state
cut to one direction (``h_n[-1]`` of a bidirectional LSTM is the reverse direction's; ``out[..., :H]``
keeps the forward one), a head computed and then dropped for an earlier variable (``x = self.fc(h)``
followed by ``return self.out(h)``). Backpropagation trains a parameter only through a path from it
to the loss (notes 001), so those parameters keep their initial values for the whole run; unlike
``frozen_parameters`` the output does not move when they move either, so nothing about the output
looks wrong: the model that trains is a shallower or narrower one than the one declared, usually
because of a read-out index. A module the forward never calls (a leftover definition, a head built
for later) puts nothing in the graph and is quiet; so is one called under ``torch.no_grad``, and the
recurrent weights of a recurrent module given one-step sequences (they multiply the zero initial state:
a layer over a whole trace given as one step reads every value it is given).

The check, on the untrained model: one training-mode forward and loss on ``cut_gradient.ROWS`` rows and
the loss's gradient for every trainable parameter; the same after every parameter is moved by ``NUDGE``
of its tensor's RMS (so a zero-initialized gate or head, ReZero's ``alpha = 0``, which hides every path
behind it at initialization only, opens); a parameter tensor whose gradient is ``None`` or exactly zero
at both points has no path to the loss. It is a finding when such tensors belong to a module the forward
called with gradients enabled on inputs not all zero (a weight behind dead units has the gradient ``x^T
delta`` = 0: the init checks' finding) and either (a) other tensors of the same module do reach the loss
(part of the module used), or (b) none of the module's do, its outputs are on no path to the loss (a
None gradient: its result dropped, not zeroed by a dead or constant function after it), the model's
output is one tensor and the loss reaches other modules; and the eval-mode output moves by at most
``SILENT`` of its RMS when those tensors move by ``NUDGE`` and by ``cut_gradient.REDRAW``
(``cut_gradient.moved``: an output read through a step function of them, an arg max, moves only at the
larger move), so the output does not depend on them (where it does, the cut graph is
``frozen_parameters``'). The run trains, but not the model the user sized: a warning where the output
loses a stacked layer, the sequence or a tensor of the module's own (a whole module whose inputs
carry nothing of the rows, ``reads_rows``: position embeddings of ``torch.arange`` computed and never
added, whose parameters are all it gives the output), info where it still reads every input through
what is used (``READS``, ``SEVERE``), unless the pre-flight found the model unable to
memorize a few rows (``can_memorize``: a warning).

**Output units no row reads** (the same code, kind ``units``). A layer whose tensors all reach the loss
can still compute features the output never reads: ``x.flatten(1)[:, :32]``, a flattened map cut to a
head made narrower, reads 32 values of a convolution's first channel, and the other channels' weights
are rows of the same tensor as channel 0's, so a tensor-level test sees them used. The measure is the
loss's gradient with respect to the layer's output (a linear layer's features, a convolution's channels:
``unit_axis``; an embedding's rows are its vocabulary and are not units): a unit whose gradient is
exactly zero in every row and position of the batch, at initialization and after the nudge, computes
something no row's loss ever depends on. The union over rows and positions is what tells a cut from a
selection: a global max pool, a dropout, an attention or padding mask, ``out[:, -1]`` of a per-step
layer each zero most entries of a row's gradient, but each unit is read at some row's selected
position. A unit dead behind its ReLU has a zero gradient too (the init checks' finding); the
confirmation replaces the candidate units' outputs by noise of the layer's output RMS (``units_moved``,
up to ``cut_gradient.REDRAWS`` draws) in eval mode, in the model and in its nudged copy (where a zero
output layer or a ReZero gate after the units is open): a dead unit given positive values moves the
output, a unit the output never reads cannot (at most ``SILENT``). A warning: the layer trains narrower than
built, and what the cut leaves out (other channels, the rest of the map) is lost to the output.

**One instance registered as several layers** (``shared_module``). ``nn.Sequential(*[block] * n)``
and ``nn.ModuleList([layer] * n)`` repeat one object, not n copies (Python's list repetition copies
references): every "layer" is the same weights, applied n times, and the model has the parameters of
one. The check reads ``named_modules(remove_duplicate=False)``: a module with trainable parameters
reachable under several names, and called more than once in one forward (an alias, ``self.body =
body`` beside ``nn.Sequential(body, head)``, is called once and is quiet). Weight tying (an
embedding's matrix shared with the output layer, Press & Wolf 2017) shares a parameter between two
distinct modules, not a module, and is quiet; so is a module registered once and called several
times (a Siamese encoder, a recurrent cell, ALBERT's one shared layer called in a loop), which is
how sharing on purpose is written. A warning: copies (``copy.deepcopy`` per layer) are what
``[layer] * n`` is usually meant to make.
"""
from __future__ import annotations

import copy
import enum
import warnings
from typing import NamedTuple

import torch
from torch import nn

from trainwell.babysit.cut_gradient import (MAX_MODULES, NUDGE, REDRAWS, eval_output, first_tensor, forward_and_loss,
                                            moved, own_trainable, working_copy)
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.hooks import hooks_held

PARTLY_USED = "partly_used_module"
SHARED = "shared_module"
# what the idle tensors of a module are, in the message's words; SEVERE: the output loses what the user
# built the module for (a stacked layer, the sequence, parameters of their own module), a warning; else
# the output still reads every input through what is used (one direction of a bidirectional recurrent
# module: the model trains as the unidirectional one; a whole module's result dropped: what is missing
# cannot be read from the graph, as for a module never called), info
READS = {"layer": "the top layer: the module is read below its top, as h_n[0] of a stacked LSTM",
         "one step": "every recurrent weight: the output reads one step of the sequence, as out[:, 0]",
         "direction": "one direction: a bidirectional module read at one direction's state",
         "part": "part of the module's own tensors",
         "whole": "the whole module: its result is dropped",
         "own": "the whole module, fed nothing that differs between rows (positions from torch.arange, a constant): "
                "what it adds is its own parameters, and its result is dropped",
         "units": "output units: the layer's result is read in part, as x.flatten(1)[:, :k] or out[..., :k], and no "
                  "row's gradient reaches the rest"}
SEVERE = ("layer", "one step", "part", "own", "units")
SILENT = 1e-5            # a nudge of an idle tensor moves the output by at most float32 rounding (~1e-6 of
                         # its RMS, summed over a few layers): at most 1e-5, 100x below cut_gradient.CHANGED


class Part(enum.Enum):
    """Which of a called module's parameters have no path to the loss."""

    SOME = "some"        # some of its own tensors; others reach the loss
    ALL = "all"          # every tensor of its own: its result is dropped
    UNITS = "units"      # the rows of its tensors that compute some output units (unit_axis)


class Candidate(NamedTuple):
    """A called module whose parameters, some or all (``part``), have no path to the loss: ``idle``
    names its idle tensors, or for ``Part.UNITS`` holds the idle units' indices; ``fed``: its inputs
    carry the rows (``reads_rows``)."""

    name: str
    module: nn.Module
    idle: list
    part: Part
    fed: bool


def reads_rows(args, rows: int) -> bool:
    """Whether a module's tensor arguments carry the batch's rows: one has an axis of ``rows`` entries
    along which it varies. Positions from ``torch.arange(length)``, a constant or a learned query's
    index carry none: the module's result is then the same for every row, its own parameters' work."""
    for a in args:
        if not torch.is_tensor(a) or a.numel() == 0:
            continue
        for axis, size in enumerate(a.shape):
            if size == rows and rows > 1 and bool((a.narrow(axis, 1, rows - 1) != a.narrow(axis, 0, rows - 1)).any()):
                return True
    return False


def _grads(work: nn.Module, x, y, loss_fn):
    """``(output, {module: called with gradients}, [reaches the loss], {modules whose results never
    reach the loss}, {modules called on inputs that carry the rows (``reads_rows``)})`` of one
    training-mode forward and loss (the flags in the order of the trainable tensors of
    ``work.modules()``), or None where it raises or nothing can be differentiated."""
    called: dict = {}
    fed: dict = {}
    steps: dict = {}
    owners = [m for m in work.modules() if own_trainable(m)]
    rows = x.shape[0] if torch.is_tensor(x) and x.dim() else 0

    def hook(module, args):
        # a module whose float inputs are all zero (behind dead ReLUs, say) gives its weights a zero
        # gradient (x^T delta) that says nothing of the module: it is read as not called
        floats = [a for a in args if torch.is_tensor(a) and torch.is_floating_point(a)]
        live = not floats or any(bool((a != 0).any()) for a in floats)
        called[module] = called.get(module, False) or (torch.is_grad_enabled() and live)
        fed[module] = fed.get(module, False) or reads_rows(args, rows)
        if isinstance(module, nn.RNNBase):
            steps[module] = max(steps.get(module, 0), _sequence_steps(module, args))

    results: dict = {}

    def keep(module, args, result):
        result = first_tensor(result)
        if result is not None and result.requires_grad:
            results.setdefault(module, []).append(result)

    ran = forward_and_loss(work, x, y, loss_fn, [m.register_forward_pre_hook(hook) for m in owners]
                           + [m.register_forward_hook(keep) for m in owners])
    if ran is None:
        return None
    out, value = ran
    params = [q for m in owners for q in own_trainable(m)]
    if value is None or not params or not value.requires_grad:
        return None
    kept = [(m, r) for m, rs in results.items() for r in rs]
    try:
        grads = torch.autograd.grad(value, params + [r for _, r in kept], allow_unused=True)
    except Exception:               # noqa: BLE001 - a backward that raises is model_raises' finding
        return None
    # a module's result dropped: none of its outputs is on the way to the loss (a None gradient; a zero
    # one is a path that a constant or dead function after it closes)
    on_way = {m for (m, _), g in zip(kept, grads[len(params):]) if g is not None}
    dropped = {m for m in owners if called.get(m) and m not in on_way}
    return out, called, [g is not None and bool((g != 0).any()) for g in grads[:len(params)]], dropped, \
        {m for m in owners if fed.get(m)}, steps, units_reached(kept, grads[len(params):])


def unit_axis(m: nn.Module, result: torch.Tensor) -> int | None:
    """The axis of a layer's output that holds its units (a linear layer's output features, last; a
    convolution's output channels, before its spatial axes); None for other modules (an embedding's
    rows are the vocabulary: ids a batch does not hold get no gradient by design)."""
    if isinstance(m, nn.Linear) and result.dim() >= 1:
        return result.dim() - 1
    if isinstance(m, nn.modules.conv._ConvNd) and result.dim() > len(m.kernel_size):
        return result.dim() - len(m.kernel_size) - 1
    return None


def units_reached(kept: list, grads) -> dict:
    """``{module: bool per output unit}``: the units of a linear or convolution layer whose output
    gradient is nonzero in some row and position of some call (``unit_axis``); a unit that no row
    reaches anywhere is a feature computed and never read."""
    reached: dict = {}
    for (m, result), g in zip(kept, grads):
        axis = unit_axis(m, result)
        if axis is None:
            continue
        flags = (torch.zeros(result.shape[axis], dtype=torch.bool, device=result.device) if g is None
                 else g.ne(0).movedim(axis, 0).reshape(result.shape[axis], -1).any(1))
        before = reached.get(m)
        reached[m] = flags if before is None or before.shape != flags.shape else before | flags
    return reached


def _sequence_steps(m: nn.RNNBase, args) -> int:
    """The steps of the sequence a recurrent module is called on (its time axis: 1 with ``batch_first``
    for a batch, 0 for one unbatched sequence); 0 where unknown (a PackedSequence)."""
    x = args[0] if args else None
    if not torch.is_tensor(x) or x.dim() < 2:
        return 0
    return int(x.shape[1] if m.batch_first and x.dim() == 3 else x.shape[0])


def _recurrence_idle_by_design(m: nn.Module, idle: list, steps: dict) -> list:
    """``idle`` less the recurrent weights (``weight_hh_*``) of a recurrent module called only on
    one-step sequences: they multiply the zero initial state, so no step carries anything through them
    (a layer over a whole trace given as one step of many features reads every value it is given; reading
    one step of a longer sequence, ``out[:, 0]``, stays a finding)."""
    if not isinstance(m, nn.RNNBase) or steps.get(m) != 1:
        return idle
    return [n for n in idle if not n.startswith("weight_hh")]


def nudged(model: nn.Module, seed: int) -> nn.Module:
    """A copy with every parameter moved by ``NUDGE`` of its tensor's RMS (``NUDGE`` x 1e-2 where the
    tensor is all zero), so that a path closed only by a zero at initialization opens."""
    other = copy.deepcopy(model)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for q in other.parameters():
            if q.numel() and torch.is_floating_point(q):
                scale = q.float().pow(2).mean().sqrt().item()
                q.add_(torch.randn(q.shape, generator=g).to(q.device, q.dtype) * NUDGE * (scale if scale > 0 else 1e-2))
    return other


def _jittered(x, seed: int):
    """Float inputs moved by ``NUDGE`` of their RMS (``NUDGE`` x 1e-2 where they are all zero), so that
    a weight's gradient that is zero only because its inputs are (``x^T delta`` of zero rows) opens;
    ids and other integer inputs as they are."""
    if not torch.is_tensor(x) or not torch.is_floating_point(x):
        return x
    rms = x.float().pow(2).mean().sqrt().item()
    g = torch.Generator().manual_seed(seed + 1)
    return x + torch.randn(x.shape, generator=g).to(x.device, x.dtype) * NUDGE * (rms if rms > 0 else 1e-2)


def _recurrent_part(m: nn.RNNBase, idle: list) -> str:
    """What the idle tensors of a recurrent module are: ``"layer"`` (its top layer, in every direction,
    reaches nothing: the module is read below its top), ``"one step"`` (no recurrent weight reaches the
    output: it reads one step of the sequence), else ``"direction"`` (a direction, or its recurrence,
    is idle while another direction's recurrence carries the whole sequence)."""
    idle = set(idle)
    names = [n for n, _ in m.named_parameters(recurse=False)]
    top = [n for n in names if f"_l{m.num_layers - 1}" in n]
    if top and all(n in idle for n in top):
        return "layer"
    recurrent = [n for n in names if n.startswith("weight_hh")]
    if recurrent and all(n in idle for n in recurrent):
        return "one step"
    return "direction"


def _idle_in_called(work: nn.Module, x, y, loss_fn, seed: int) -> tuple | None:
    """``(found, nudged copy)``: in ``found``, a ``Candidate`` for each called module holding trainable
    tensors with no path to the loss at initialization nor after a nudge of every parameter (``Part.SOME``
    where other tensors of the module reach the loss), then for each layer with output units no row's
    gradient reaches (``Part.UNITS``). None where the forward, loss or backward raises."""
    first = _grads(work, x, y, loss_fn)
    if first is None:
        return None
    out, called, flags, dropped, fed, steps, units = first
    if not any(flags):
        return [], None         # nothing reaches the loss: cut_gradient's case (a loss rebuilt from numpy)
    other = nudged(work, seed)
    second = _grads(other, _jittered(x, seed), y, loss_fn)
    if second is None:
        return None
    # called with live inputs at both points (the copy's modules come in the original's order)
    called = {m: bool(called.get(m)) and bool(second[1].get(n)) for m, n in zip(work.modules(), other.modules())}
    # the nudged copy's tensors come in the same order as the original's; a tied tensor reaches the
    # loss where any of its places does
    order = [id(q) for m in work.modules() if own_trainable(m) for q in own_trainable(m)]
    reached, again = {}, {}
    for key, now, later in zip(order, flags, second[2]):
        reached[key], again[key] = reached.get(key, False) or now, again.get(key, False) or later
    single = torch.is_tensor(out)
    found = []
    for name, m in work.named_modules():
        own = dict((n, q) for n, q in m.named_parameters(recurse=False) if q.requires_grad)
        if not own or not called.get(m):
            continue
        idle = [n for n, q in own.items() if not reached[id(q)] and not again[id(q)]]
        idle = _recurrence_idle_by_design(m, idle, steps)
        if not idle:
            continue
        part = Part.SOME if len(idle) < len(own) else Part.ALL
        if part is Part.SOME or (single and m in dropped):
            found.append(Candidate(name, m, idle, part, m in fed))
    # output units of a layer whose other units reach the loss: no row's gradient reaches them at either point
    later = dict(zip(work.modules(), other.modules()))
    for name, m in work.named_modules():
        now, again_units = units.get(m), second[6].get(later[m])
        if (now is None or again_units is None or now.shape != again_units.shape or not called.get(m)
                or any(f.module is m for f in found)):
            continue
        idle_units = ~(now | again_units)
        if bool(idle_units.any()) and not bool(idle_units.all()):
            found.append(Candidate(name, m, torch.nonzero(idle_units).flatten().tolist(), Part.UNITS, True))
    return found, other


MISSING = "cannot_overfit_small_subset"   # the pre-flight's evidence that the model as built lacks capacity
# the message's close where no idle module is SEVERE: info, or the capacity a model lacks (can_memorize: a warning)
INFO = "; info: the output still reads every input through the part that is used"
LACKS = f"; and the model cannot memorize a few training rows ({MISSING}): the capacity it lacks is these parameters'"


def can_memorize(findings: list[Finding]) -> bool:
    """False where the pre-flight found the model unable to memorize ``OVERFIT_ROWS`` rows (``MISSING``
    at warning or error): a dropped module is info while the output still reads every input through
    what is used, but a model that cannot even memorize a handful of rows is missing the capacity it
    was built with, and the parameters that never reach the output are that capacity (a warning,
    ``check_module_use``; the registry record's ``explains`` then ranks it before the symptom)."""
    return not any(f.code == MISSING and f.severity in ("warning", "error") for f in findings)


def check_module_use(model: nn.Module, x, y, loss_fn, *, seed: int = 0, memorizes: bool = True) -> list[Finding]:
    """``partly_used_module`` where a called module's parameters have no path to the output (the
    module docstring): a warning where the output loses what the module was built for (``SEVERE``) or
    the model cannot memorize a few rows (``memorizes`` False: ``can_memorize`` of the pre-flight's
    findings), else info; else ``[]``."""
    if not isinstance(model, nn.Module) or not torch.is_tensor(x) or x.shape[0] == 0:
        return []
    work, x, y = working_copy(model, x, y)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        candidates, other = _idle_in_called(work, x, y, loss_fn, seed) or ([], None)
        if not candidates:
            return []
        try:
            base = eval_output(work, x)
            if base is None:
                return []
            later = dict(zip(work.modules(), other.modules())) if other is not None else {}
            other_base = eval_output(other, x) if other is not None else None
            idle = {}
            for i, c in enumerate(candidates[:MAX_MODULES]):
                if c.part is Part.UNITS:    # on the nudged copy too: a zero gate or output layer after them opens
                    change = (float("inf") if other_base is None
                              else units_moved(work, c.module, c.idle, x, base, seed + i))
                    if change <= SILENT:
                        change = units_moved(other, later[c.module], c.idle, x, other_base, seed + i)
                else:
                    change = moved(work, [dict(c.module.named_parameters(recurse=False))[n] for n in c.idle], x, base,
                                   seed + i)[0]
                if change <= SILENT:
                    idle[c.name or type(c.module).__name__] = c
        except Exception:           # noqa: BLE001 - an eval forward that raises: nothing to compare
            return []
    if not idle:
        return []
    kinds = {name: _kind(c) for name, c in idle.items()}
    severe = [name for name, kind in kinds.items() if kind in SEVERE]
    lacks = not severe and not memorizes        # info raised: the capacity the model lacks is these parameters
    where = (severe or list(idle))[0]
    count = sum(_idle_count(c) for c in idle.values())
    said = "; ".join(f"{name} ({type(c.module).__name__}): {_idle_said(c)} ({READS[kinds[name]]})"
                     for name, c in idle.items())
    message = (f"the forward calls {len(idle)} module(s) part of whose parameters never reach the output ({said}: "
               f"{count} parameters): their gradient is exactly zero at initialization and after every parameter "
               f"and input is moved, and moving them moves the output by at most {SILENT:g} of its size, so they "
               f"keep their initial values and the model that trains is smaller than the one built"
               + ("" if severe else LACKS if lacks else INFO))
    evidence = {"modules": {name: c.idle for name, c in idle.items()}, "kinds": kinds, "parameters": count,
                **({"cannot_memorize": True} if lacks else {})}
    return [make(PARTLY_USED, message, evidence=evidence, where=where,
                 severity="warning" if severe or lacks else "info")]


def units_moved(work: nn.Module, m: nn.Module, units: list, x, base: torch.Tensor, seed: int) -> float:
    """The most the eval-mode output moves, relative to its RMS, when the output ``units`` of layer ``m``
    (``unit_axis``) are replaced by noise of its output's RMS, over ``REDRAWS`` draws: a unit the output
    reads moves it (a unit dead behind a ReLU revives at positive values), one it never reads cannot."""
    change = 0.0
    for k in range(REDRAWS):
        g = torch.Generator().manual_seed(seed + k * MAX_MODULES)

        def replace(module, args, result):
            if not torch.is_tensor(result):
                return result
            axis = unit_axis(module, result)
            rms = result.float().pow(2).mean().sqrt().item()
            noise = torch.randn(result.shape, generator=g).to(result.device, result.dtype) * (rms if rms > 0 else 1.0)
            mask = torch.zeros(result.shape[axis], dtype=torch.bool, device=result.device)
            mask[units] = True
            shape = [1] * result.dim()
            shape[axis] = -1
            return torch.where(mask.reshape(shape), noise, result)

        with hooks_held([m.register_forward_hook(replace)]), torch.no_grad():
            out = first_tensor(work(x))
        if out is None or out.shape != base.shape:
            return float("inf")
        rms = base.float().pow(2).mean().sqrt().item()
        change = max(change, (out.float() - base.float()).abs().max().item() / max(rms, 1e-12))
        if change > SILENT:     # read: no further draw can make it unread
            break
    return change


def _units(m: nn.Module) -> int:
    """The output units of a linear or convolution layer (``unit_axis``)."""
    return m.out_features if isinstance(m, nn.Linear) else m.out_channels


def _idle_count(c: Candidate) -> int:
    """The parameters of the candidate's module that never reach the output: its idle tensors, or its
    idle units' share of each tensor (each holds as many entries per output unit: a linear weight's
    row, a convolution's filter along axis 0, a transposed convolution's along axis 1, one of a bias)."""
    own = dict(c.module.named_parameters(recurse=False))
    if c.part is Part.UNITS:
        return sum(q.numel() // _units(c.module) * len(c.idle) for q in own.values() if q.dim() >= 1)
    return sum(own[n].numel() for n in c.idle)


def _idle_said(c: Candidate) -> str:
    if c.part is Part.UNITS:
        return f"{len(c.idle)} of its {_units(c.module)} output units"
    return ", ".join(c.idle)


def _kind(c: Candidate) -> str:
    """What part of the candidate's module is idle (``READS``)."""
    if c.part is Part.UNITS:
        return "units"
    if c.part is Part.ALL:
        return "whole" if c.fed else "own"
    return _recurrent_part(c.module, c.idle) if isinstance(c.module, nn.RNNBase) else "part"


def check_shared_modules(model: nn.Module, x) -> list[Finding]:
    """``shared_module`` (a warning) where one module instance with trainable parameters is
    registered under several names and called more than once in one forward (the module
    docstring); else ``[]``."""
    if not isinstance(model, nn.Module) or not torch.is_tensor(x) or x.shape[0] == 0:
        return []
    names: dict = {}
    for name, m in model.named_modules(remove_duplicate=False):
        names.setdefault(id(m), (m, []))[1].append(name)
    repeated = {id_: (m, paths) for id_, (m, paths) in names.items()
                if len(paths) > 1 and any(q.requires_grad for q in m.parameters())}
    # a module under a repeated one is repeated with it: keep the outermost
    outer = {i: (m, paths) for i, (m, paths) in repeated.items()
             if not any(m is not o and any(m is s for s in o.modules()) for o, _ in repeated.values())}
    if not outer:
        return []
    calls: dict = {}

    def hook(module, args):
        calls[id(module)] = calls.get(id(module), 0) + 1

    handles = [m.register_forward_pre_hook(hook) for m, _ in outer.values()]
    work_x = x[:2]
    was = model.training
    try:
        with hooks_held(handles), torch.no_grad(), warnings.catch_warnings(), torch.random.fork_rng(devices=[]):
            model.eval()
            warnings.simplefilter("ignore")
            model(work_x.to(next((q.device for q in model.parameters()), work_x.device)))
    except Exception:               # noqa: BLE001 - a forward that raises is model_raises' finding
        return []
    finally:
        model.train(was)
    shared = {i: (m, paths) for i, (m, paths) in outer.items() if calls.get(i, 0) > 1}
    if not shared:
        return []
    m, paths = next(iter(shared.values()))
    count = sum(q.numel() for m_, _ in shared.values() for q in m_.parameters() if q.requires_grad)
    said = "; ".join(f"{type(m_).__name__} at {', '.join(p)} (called {calls[i]} times)"
                     for i, (m_, p) in shared.items())
    message = (f"one module instance is registered as several layers and called at each: {said}; they are the "
               f"same weights ({count} parameters), not copies, so the stack has the parameters of one layer "
               f"applied again and again ([layer] * n repeats a reference)")
    evidence = {"modules": [p for _, p in shared.values()], "calls": [calls[i] for i in shared], "parameters": count}
    return [make(SHARED, message, evidence=evidence, where=paths[0], severity="warning")]


def unshare(net: nn.Module, seed: int | None = None) -> None:
    """``net`` with each further registration of a module instance (``[layer] * n``) replaced by a copy
    of it, same weights: the layers start where the shared one was and then train apart (the experiment's
    ``copies`` arm, interventions.candidate_arms)."""
    seen: set = set()

    def walk(parent: nn.Module) -> None:
        for name, child in list(parent._modules.items()):      # every registration (named_children skips repeats)
            if child is None:
                continue
            if id(child) in seen:
                child = copy.deepcopy(child)
                parent._modules[name] = child
            seen.add(id(child))
            walk(child)
    seen.add(id(net))
    walk(net)

