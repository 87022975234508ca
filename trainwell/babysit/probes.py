"""Probes: the measured quantities the babysitter's checks and rules read.

* ``ActivationRecorder`` — per-layer activation mean / std / fraction saturated / fraction dead
  (notes 004's activation-statistics experiment). It intercepts the activation *functions*
  (``F.relu``, ``torch.tanh``, ``x.sigmoid()``, ... and so the ``nn.ReLU`` modules that call
  them) with a ``TorchFunctionMode``, so models that call activations functionally in their
  ``forward`` are measured too; global module hooks give each call a layer name.
* ``gradient_norms`` / ``UpdateProbe`` — per-parameter gradient norms and the update/weight
  ratio ||Δw|| / ||w|| (notes 001: "track ratio of weight updates / weight magnitudes");
  ``touched_row_norms`` — a lookup table's weight norm over the rows its batch read
  (``lookup_tables``), the part its row-sparse gradient reaches.

Everything stays on the device as tensors; ``stats()`` syncs the host once. Use them only on
sampled steps: outside a ``with`` block nothing is hooked. Both are sized for the live
monitor's budget (2% of training time): a few kernels per layer, no allocation per sample.

Under DDP each rank sees its shard of the batch: ``ActivationRecorder(..., reducible=True)``
records sums instead (``activation_sums``: counts, sums and sums of squares per unit, in float64)
that add up across ranks; ``sums()`` gives them as one flat tensor for the all-reduce and
``stats_from_sums`` turns the job's total into the same statistics one process computes on the
whole batch. Gradient norms and update ratios need no reduction: after DDP's gradient average
every rank holds the same gradients and weights.
"""
from __future__ import annotations

import math
import time
import weakref

import torch
from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook
from torch.overrides import TorchFunctionMode

# Activation function names -> family. "relu": a unit is dead when it is never positive
# (notes 004 "dead unit"); "tanh" saturates at |a| -> 1, "sigmoid" at a -> 0 or 1 (notes 004
# "saturated neurons kill the gradients"); "other": statistics only (LeakyReLU cannot die).
ACTIVATION_FAMILIES = {
    "relu": "relu", "relu_": "relu", "relu6": "relu", "elu": "relu", "elu_": "relu",
    "celu": "relu", "selu": "relu", "gelu": "relu", "silu": "relu", "mish": "relu",
    "tanh": "tanh", "tanh_": "tanh", "hardtanh": "tanh", "hardtanh_": "tanh",
    "sigmoid": "sigmoid", "sigmoid_": "sigmoid", "hardsigmoid": "sigmoid",
    "leaky_relu": "other", "leaky_relu_": "other", "prelu": "other", "rrelu": "other",
    "softplus": "other", "hardswish": "other",
}
TANH_SATURATION = 0.99       # |tanh| > 0.99: derivative 1 - a^2 < 0.02
SIGMOID_SATURATION = 0.01    # sigmoid < 0.01 or > 0.99: derivative a(1 - a) < 0.0099
STAT_NAMES = ("mean", "std", "saturated", "dead", "nonfinite", "signal")


def _func_name(func) -> str:
    return getattr(func, "__name__", str(func))


def activation_statistics(a: torch.Tensor, family: str) -> torch.Tensor:
    """[mean, std, fraction saturated, fraction of dead units, count non-finite, signal] as a tensor.

    A unit is a feature (dim 1 of an (N, C, ...) tensor: a channel for convolutions); it is dead
    when its output is never positive over the batch and positions. ``signal`` is the RMS over
    units of each unit's std across the batch (and positions): what varies with the input. With
    nonzero biases a layer can keep a large ``std`` (across units) while every unit outputs the
    same value for every example. Undefined entries are NaN.
    """
    a = a.detach().float()
    nan = torch.full((), float("nan"), device=a.device)
    finite = torch.isfinite(a)
    nonfinite = (~finite).sum().float()
    safe = torch.where(finite, a, torch.zeros((), device=a.device))
    mean, std = safe.mean(), safe.std() if safe.numel() > 1 else nan
    if family == "tanh":
        saturated = (safe.abs() > TANH_SATURATION).float().mean()
    elif family == "sigmoid":
        saturated = ((safe < SIGMOID_SATURATION) | (safe > 1 - SIGMOID_SATURATION)).float().mean()
    else:
        saturated = nan
    if family == "relu" and a.ndim >= 2 and a.shape[0] > 1:
        alive = (safe > 0).transpose(0, 1).reshape(a.shape[1], -1).any(dim=1)
        dead = 1.0 - alive.float().mean()
    else:
        dead = nan
    return torch.stack([mean, std, saturated, dead, nonfinite, unit_signal(safe)])


@torch.no_grad()
def _fast_statistics(a: torch.Tensor, family: str) -> list:
    """The recorder's few kernels per layer, as 0-d tensors (None where undefined) that
    ``stats()`` finishes on the host: [mean, ||a - mean||, ||a - m_c||, ||m_c - mean||, count
    saturated, count of dead units], m_c the per-unit means. ||a - mean||^2 = ||a - m_c||^2 +
    (rows per unit) ||m_c - mean||^2, so one pass over ``a`` gives std and signal (``torch.std``
    runs a slow Welford pass on CPU). ``stats()`` recomputes a layer with
    ``activation_statistics`` when a value is not finite."""
    a = a.detach()
    if not (a.dtype == torch.float32 or a.dtype == torch.float64):
        a = a.float()
    dims = [d for d in range(a.ndim) if d != 1] if a.ndim >= 2 and a.shape[0] > 1 else None
    total = within = between = None
    if dims is not None:
        unit_means = a.mean(dim=dims, keepdim=True)
        mean = unit_means.mean()
        within = torch.linalg.vector_norm(a - unit_means)
        between = torch.linalg.vector_norm(unit_means - mean)
    else:
        mean = a.mean()
        total = torch.linalg.vector_norm(a - mean) if a.numel() > 1 else None
    saturated = dead = None
    if family == "tanh":
        saturated = (a.abs() > TANH_SATURATION).sum()
    elif family == "sigmoid":       # a < 0.01 or a > 0.99
        saturated = ((a - 0.5).abs() > 0.5 - SIGMOID_SATURATION).sum()
    if family == "relu" and dims is not None:
        dead = (a.amax(dim=dims) <= 0).sum()
    return [mean, total, within, between, saturated, dead]


@torch.no_grad()
def activation_sums(a: torch.Tensor, family: str) -> torch.Tensor:
    """Sums of one shard of an activation that add up across ranks to the whole batch's
    (float64): [rows, elements, count saturated, count non-finite, Σa, Σa²], then for an (N, C,
    ...) tensor the C per-unit Σa, the C per-unit Σa² and the C per-unit counts of positive
    values. Non-finite values count as 0, as in ``activation_statistics``."""
    a = a.detach()
    finite = torch.isfinite(a)
    safe = torch.where(finite, a, torch.zeros((), dtype=a.dtype, device=a.device)).double()
    if family == "tanh":
        saturated = (safe.abs() > TANH_SATURATION).sum()
    elif family == "sigmoid":
        saturated = ((safe < SIGMOID_SATURATION) | (safe > 1 - SIGMOID_SATURATION)).sum()
    else:
        saturated = torch.zeros((), dtype=torch.int64, device=a.device)
    squares = safe * safe
    counts = torch.tensor([float(a.shape[0] if a.ndim else 1), float(a.numel())], dtype=torch.float64,
                          device=a.device)       # float64: exact counts up to 2^53
    head = torch.cat([counts, torch.stack([saturated.double(), (~finite).sum().double(), safe.sum(),
                                           squares.sum()])])
    if a.ndim < 2:
        return head
    dims = [d for d in range(a.ndim) if d != 1]
    return torch.cat([head, safe.sum(dim=dims), squares.sum(dim=dims), (safe > 0).sum(dim=dims).double()])


def stats_from_sums(sums: list, family: str) -> dict:
    """``activation_sums`` added over the ranks -> the statistics ``ActivationRecorder.stats``
    gives for the whole batch: mean, std (n - 1), fraction saturated, fraction of dead units
    (never positive anywhere in the batch), count non-finite, signal (None where undefined)."""
    rows, n, saturated, nonfinite, s1, s2 = sums[:6]
    mean = s1 / n if n else None
    std = math.sqrt(max(s2 - s1 * s1 / n, 0.0) / (n - 1)) if n > 1 else None
    dead = signal = None
    units = (len(sums) - 6) // 3
    if units and rows > 1:
        per = n / units                     # rows x positions per unit
        unit_s1, unit_s2, positive = sums[6:6 + units], sums[6 + units:6 + 2 * units], sums[6 + 2 * units:]
        within = sum(max(q - t * t / per, 0.0) for t, q in zip(unit_s1, unit_s2))
        signal = math.sqrt(within / (n - units)) if n > units else None
        if family == "relu":
            dead = sum(1 for c in positive if c == 0) / units
    return {"mean": mean, "std": std,
            "saturated": saturated / n if family in ("tanh", "sigmoid") and n else None,
            "dead": dead, "nonfinite": nonfinite, "signal": signal}


def layer_stats(layout: list, values: list) -> dict:
    """``{layer: {"family", "mean", ...}}`` from ``ActivationRecorder.sums``' ``layout`` and the
    values of its (all-reduced) flat tensor."""
    out, at = {}, 0
    for name, family, length in layout:
        out[name] = {"family": family, **stats_from_sums(values[at:at + length], family)}
        at += length
    return out


class _ActivationMode(TorchFunctionMode):
    def __init__(self, recorder):
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        family = ACTIVATION_FAMILIES.get(_func_name(func))
        if family is not None and isinstance(out, torch.Tensor) and out.is_floating_point():
            self.recorder._record(_func_name(func), family, out)
        return out


class ActivationRecorder:
    """Records activation statistics of every activation call made while active.

    ``with ActivationRecorder(model) as rec: out = model(x)``, then ``rec.stats(exclude=out)``
    -> ``{layer: {"family", "mean", "std", "saturated", "dead", "nonfinite", "signal"}}`` in call
    order.
    Layer names: the activation module's name (``net.1``), or ``<module>.<fn>#k`` for a
    functional call inside ``<module>`` (``model.relu#0`` for the root's forward).
    ``start()`` / ``stop()`` do the same across two callback hooks.

    ``forward_only=True`` (the live monitor) records only the model's first forward call after
    each ``start()``: the loss, backward and optimizer step run at full speed. Such a recorder,
    reused across starts, learns from an intercepted forward whether every activation is the
    output of an activation module (``nn.ReLU()`` in a Sequential); while the model's modules
    stay the same, later forwards are then recorded by hooks on those modules alone, without
    intercepting every torch call (every ``RELEARN``-th start intercepts again, in case the
    forward takes another path). Models that call activations functionally keep the
    interception. ``seconds``: the time spent computing statistics during the forward pass.
    """

    RELEARN = 8

    def __init__(self, model: torch.nn.Module, *, forward_only: bool = False, reducible: bool = False):
        self.model = model
        self.forward_only = forward_only
        self.reducible = reducible    # record activation_sums (read with sums()) for a DDP rank
        self.seconds = 0.0
        self._handles = []
        self._modules: dict = {}      # id(module) -> (name, is_leaf), for this model's modules
        self._stack: list = []        # (name, is_leaf, records so far) of the modules being called
        self._calls: dict = {}
        self._records: list = []      # (name, family, activation, [0-d stat tensors], weakref to the output)
        self._mode = None
        self._armed = False           # forward_only: the next forward of the model is recorded
        self._learned = None          # (module ids, {id: (module, name, family)}) for the hooks-only path
        self._starts = 0
        self._seen: dict | None = {}  # while intercepting: activation modules seen (None: functional calls)

    # --------------------------------------------------------------- hooking
    def start(self) -> "ActivationRecorder":
        self._records, self._calls, self._stack, self.seconds = [], {}, [], 0.0
        self._modules = {id(module): (name or "model", next(module.children(), None) is None)
                         for name, module in self.model.named_modules()}
        self._starts += 1
        if (self.forward_only and self._learned is not None and self._learned[0] == tuple(self._modules)
                and self._starts % self.RELEARN != 1):
            self._handles = [m.register_forward_hook(self._module_output) for m, _, _ in self._learned[1].values()]
            self._handles.append(self.model.register_forward_hook(self._forward_done, always_call=True))
            self._armed = True
            return self
        self._seen = {}
        self._handles = [register_module_forward_pre_hook(self._push),
                         register_module_forward_hook(self._pop, always_call=True)]
        if self.forward_only:
            self._armed = True
        else:
            self._enter_mode()
        return self

    def stop(self) -> None:
        self._armed = False
        self._exit_mode()
        self._unhook()

    def _unhook(self):
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _enter_mode(self):
        self._mode = _ActivationMode(self)
        self._mode.__enter__()

    def _exit_mode(self):
        if self._mode is not None:
            self._mode.__exit__(None, None, None)
            self._mode = None

    # the intercepting path: global module hooks name the calls, the mode sees the activations
    def _push(self, module, args):
        entry = self._modules.get(id(module))
        if entry is None:
            return                          # another model's module (or the loss module)
        self._stack.append((*entry, len(self._records)))
        if module is self.model and self._armed and self._mode is None:
            self._enter_mode()

    def _pop(self, module, args, output):
        if id(module) not in self._modules or not self._stack:
            return
        name, is_leaf, before = self._stack.pop()
        new = self._records[before:]
        if is_leaf and new and self._seen is not None:
            # an activation module: a leaf whose only activation call is its own output
            if len(new) == 1 and new[0][4]() is output:
                self._seen[id(module)] = (module, name, new[0][1])
            else:
                self._seen = None
        if module is self.model and self._armed and self._mode is not None:
            self._exit_mode()
            self._armed = False
            self._drop_output(output)
            if self._seen is not None:
                self._learned = (tuple(self._modules), self._seen)
            if output is not None:      # (None: the forward raised; torch is iterating the hooks)
                self._unhook()          # nothing more to record: the rest of the step runs unhooked

    def _record(self, fn: str, family: str, out: torch.Tensor):
        owner, is_leaf = self._stack[-1][:2] if self._stack else self._modules.get(id(self.model), ("model", False))
        if not is_leaf:
            self._seen = None               # a functional call: keep intercepting
        self._add(owner, is_leaf, fn, family, out)

    # the hooks-only path
    def _module_output(self, module, args, output):
        if self._armed and isinstance(output, torch.Tensor) and output.is_floating_point():
            _, name, family = self._learned[1][id(module)]
            self._add(name, True, "", family, output)

    def _forward_done(self, module, args, output):
        if self._armed:
            self._armed = False
            self._drop_output(output)
            if output is not None:
                self._unhook()

    def _drop_output(self, output):
        """A forward-only record leaves out the activation that is the model's output, or that its
        output views (``torch.sigmoid(z).squeeze(-1)``): an output sigmoid that saturates is a
        confident prediction, not a hidden layer's saturated units (the pre-flight's ``exclude``)."""
        if isinstance(output, torch.Tensor):
            ends = (output, output._base)
            self._records = [r for r in self._records if not any(r[4]() is t for t in ends if t is not None)]

    def _add(self, owner, is_leaf, fn, family, out):
        t0 = time.perf_counter()
        key = (owner, fn if not is_leaf else "")
        k = self._calls.get(key, 0)
        self._calls[key] = k + 1
        name = owner if is_leaf and k == 0 else (f"{owner}#{k}" if is_leaf else f"{owner}.{fn}#{k}")
        summary = activation_sums(out, family) if self.reducible else _fast_statistics(out, family)
        # a weak reference, not id(out): a freed activation's id can be reused by the model's output
        self._records.append((name, family, out.detach(), summary, weakref.ref(out)))
        self.seconds += time.perf_counter() - t0

    # --------------------------------------------------------------- reading a shard (DDP)
    def sums(self, *, exclude: torch.Tensor | None = None) -> tuple[list, torch.Tensor]:
        """A ``reducible`` recorder's records as ``(layout, flat)``: ``layout`` the (layer, family,
        length) of each record, ``flat`` their ``activation_sums`` end to end (one tensor to
        all-reduce; every rank records the same layers, so the layouts agree); ``layer_stats``
        reads the reduced values. No host sync."""
        if not self.reducible:
            raise RuntimeError("ActivationRecorder.sums() needs reducible=True")
        records = [r for r in self._records if exclude is None or r[4]() is not exclude]
        self._records = []
        layout = [(name, family, summary.numel()) for name, family, _, summary, _ in records]
        flat = torch.cat([r[3] for r in records]) if records else torch.zeros(0, dtype=torch.float64)
        return layout, flat

    # --------------------------------------------------------------- reading
    def stats(self, *, exclude: torch.Tensor | None = None) -> dict:
        """Per-layer statistics (one host sync). ``exclude``: the model's output, so that an
        output activation (a final sigmoid) is not counted as a hidden layer."""
        if self.reducible:                  # this process's sums, read as a whole batch
            layout, flat = self.sums(exclude=exclude)
            return layer_stats(layout, flat.tolist())
        records = [r for r in self._records if exclude is None or r[4]() is not exclude]
        self._records = []
        if not records:
            return {}
        values = iter(torch.stack([t for r in records for t in r[3] if t is not None]).tolist())
        out = {}
        for name, family, a, tensors, _ in records:
            mean, total, within, between, saturated, dead = (None if t is None else next(values) for t in tensors)
            if all(v is None or math.isfinite(v) for v in (mean, total, within, between)):
                n = a.numel()
                units = a.shape[1] if within is not None else 1
                if within is not None:
                    total = math.sqrt(within ** 2 + (n // units) * between ** 2)
                entry = {"mean": mean, "std": None if total is None else total / math.sqrt(n - 1),
                         "saturated": None if saturated is None else saturated / n,
                         "dead": None if dead is None else dead / units, "nonfinite": 0.0,
                         "signal": None if within is None else within / math.sqrt(n - units)}
            else:                           # NaN/inf inside: the exact, slower path
                row = activation_statistics(a, family).tolist()
                entry = {k: (None if math.isnan(v) else v) for k, v in zip(STAT_NAMES, row)}
            out[name] = {"family": family, **entry}
        return out


def weight_parameters(model: torch.nn.Module) -> list[tuple[str, torch.Tensor]]:
    """The trainable weight matrices / kernels (ndim >= 2): the 'layers' of the per-layer checks.
    Biases and norm gains (ndim <= 1) are left out: a zero-initialized bias has no ratio."""
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad and p.ndim >= 2]


def gradient_norms(params: list[torch.Tensor]) -> torch.Tensor:
    """||grad|| per parameter as one device tensor (0 where a parameter has no gradient)."""
    grads = [p.grad.detach() if p.grad is not None else torch.zeros((), device=p.device) for p in params]
    if not grads:
        return torch.zeros(0)
    return torch.stack(torch._foreach_norm(grads)).float()


def lookup_tables(model: torch.nn.Module, params: list[torch.Tensor]) -> list[int]:
    """The positions in ``params`` of the tables that modules look rows up in (``nn.Embedding``,
    ``nn.EmbeddingBag``): a batch's gradient reaches only the rows of the ids it holds, so their
    gradient is row-sparse (PyTorch's ``sparse=True`` option exists for that reason)."""
    tables = {id(m.weight) for m in model.modules() if isinstance(m, (torch.nn.Embedding, torch.nn.EmbeddingBag))}
    return [i for i, p in enumerate(params) if id(p) in tables]


@torch.no_grad()
def touched_row_norms(params: list[torch.Tensor]) -> torch.Tensor:
    """||w|| over the rows (slices along dim 0) whose gradient is not all zero, per parameter, as
    one device tensor (0 where a parameter has no gradient): the part of a lookup table the batch
    read and its gradient reaches. A sparse gradient (``sparse=True``) names its rows."""
    out = []
    for p in params:
        g = p.grad
        if g is None:
            out.append(torch.zeros((), device=p.device))
            continue
        rows = torch.linalg.vector_norm(p.detach().reshape(p.shape[0], -1).float(), dim=1)
        if g.is_sparse:
            hit = torch.zeros(p.shape[0], dtype=torch.bool, device=p.device)
            hit[g.coalesce().indices()[0]] = True
        else:       # a row norm per row: one pass, no tensor of the table's size (an ne/any pass costs 5x)
            hit = torch.linalg.vector_norm(g.reshape(g.shape[0], -1), dim=1) > 0
        out.append(torch.linalg.vector_norm(rows * hit))
    return torch.stack(out).float() if out else torch.zeros(0)


class UpdateProbe:
    """||w_after - w_before|| / ||w_before|| per parameter: call ``before`` ahead of the optimizer
    step and ``after`` once it has run; ``after`` returns device tensors (no sync).

    The snapshot lives in buffers allocated once and refilled with one ``_foreach_copy_`` (a
    fresh clone per sample costs page faults on CPU), and ``after`` turns it into the update in
    place: one copy, one subtraction and two norms over the weights per sample."""

    def __init__(self, params: list[torch.Tensor]):
        self.params = list(params)
        self._buffers = None
        self._snapshot = None         # the buffers while a snapshot is pending

    @property
    def pending(self) -> bool:
        """``before`` ran and ``after`` has not yet: a snapshot waits for its update."""
        return self._snapshot is not None

    @torch.no_grad()
    def before(self) -> None:
        if self._buffers is None or any(b.shape != p.shape for b, p in zip(self._buffers, self.params)):
            self._buffers = [p.detach().clone() for p in self.params]
        elif self._buffers:
            torch._foreach_copy_(self._buffers, self.params)
        self._snapshot = self._buffers

    @torch.no_grad()
    def after(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(update norms, weight norms before the step), each one value per parameter."""
        if self._snapshot is None or not self.params:
            raise RuntimeError("UpdateProbe.after() called without before()")
        snapshot, self._snapshot = self._snapshot, None
        weight = torch.stack(torch._foreach_norm(snapshot)).float()
        torch._foreach_sub_(snapshot, self.params)              # w_before - w_after
        update = torch.stack(torch._foreach_norm(snapshot)).float()
        return update, weight


def unit_signal(a: torch.Tensor) -> torch.Tensor:
    """sqrt(mean over units of the variance across the batch and positions), NaN for < 2 rows."""
    if a.ndim < 2 or a.shape[0] < 2:
        return torch.full((), float("nan"), device=a.device)
    per_unit = a.transpose(0, 1).reshape(a.shape[1], -1)
    return per_unit.var(dim=1).mean().sqrt()


def input_signal(x: torch.Tensor) -> float:
    """``unit_signal`` of a batch of inputs (features as units; 0 for non-float inputs)."""
    if not torch.is_floating_point(x) or x.ndim < 2:
        return 0.0
    value = float(unit_signal(torch.nan_to_num(x.detach().float(), nan=0.0, posinf=0.0, neginf=0.0)))
    return value if math.isfinite(value) else 0.0


def input_std(x: torch.Tensor) -> float:
    """The standard deviation of a batch of inputs over all elements (0 for non-float inputs)."""
    if not torch.is_floating_point(x):
        return 0.0
    x = torch.nan_to_num(x.detach().float(), nan=0.0, posinf=0.0, neginf=0.0)
    n = x.numel()
    return float(torch.linalg.vector_norm(x - x.mean())) / math.sqrt(n - 1) if n > 1 else math.nan
