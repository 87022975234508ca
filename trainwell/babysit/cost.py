"""The monitor's cost model: how many steps between samples keep its work under its overhead share.

The period is computed from the model's shapes, not from a clock, so a run samples the same steps
on a quiet and on a loaded machine (and its findings are the same). After the first step a forward
hook pass has counted the model's work per step: multiply-accumulates of its Linear and
convolution layers (``macs``), the elements its leaf modules wrote (``elements``) and the leaf
module calls (``calls``). A step costs

    6 x macs x FLOP  +  3 x elements x ELEMENT  +  (3 x calls + STEP_OPS) x OP  +  OPTIMIZER_PASSES x P x ELEMENT

(forward 2 flops per MAC and backward 4; each activation written in the forward and read and
written in the backward; one kernel or dispatch per module call forward and two backward; P
parameters touched a few times by the optimizer), and a sample

    SAMPLE_PASSES x P x ELEMENT  +  (SAMPLE_OPS + SAMPLE_OPS_PER_TENSOR x k) x OP
    + (ACTIVATION_PASSES x elements x ELEMENT + ACTIVATION_OPS x calls x OP) / activation_every

(the UpdateProbe's copy, subtraction and three norms over the k weight tensors, the one host read,
the Python of a sample; every ``activation_every``-th sample also the statistics of every
activation). The period is ``ceil(sample / (PLANNED_SHARE x overhead x step))``. The per-device
constants are seconds on a nominal device of that kind; for the period only their ratios matter.

The doctor's and the repairer's budgets (``Budget``, babysit/budget.py) are priced in nominal
seconds from a finer count (``measure_work``, below: every op a training step and an evaluation
dispatch, at two batch sizes) at ``BUDGET_COSTS`` (absolute seconds, fitted on the development
machine), so a budget buys the same steps on a quiet and on a loaded machine.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, fields

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import flop_registry


@dataclass(frozen=True)
class DeviceCosts:
    """Seconds per flop, per element pass and per dispatched operation (kernel launch)."""

    flop: float
    element: float
    op: float


# CPU: measured on the 2-core development machine (best of 7 x 50 steps, one thread, 2026-12-04):
# a 64-512-512-10 MLP step at batch 128 at ~4e10 flop/s, an elementwise pass at ~1e9 elements/s,
# ~6e-6 s per dispatched torch op with its Python; a sample of the digits MLP ~1e-3 s (mostly Python). CUDA (H200 class): ~1e14
# flop/s TF32, ~1e12 elements/s (4.8 TB/s HBM), ~8e-6 s per launch with its Python (issue 11: a
# 784-512-512-10 MLP step at batch 128 is launch-bound).
COSTS = {"cpu": DeviceCosts(flop=2.5e-11, element=1e-9, op=6e-6),
         "cuda": DeviceCosts(flop=1e-14, element=1e-12, op=8e-6)}
STEP_OPS = 40                 # zero_grad, the loss, backward's start, the trainer's Python per step
OPTIMIZER_PASSES = 6          # Adam reads/writes w, g, m, v: about six passes over the parameters
SAMPLE_PASSES = 8             # UpdateProbe: copy (2), subtraction (3), norms of w, update, grad (3)
SAMPLE_OPS = 150              # a sample's fixed work: stack/cat, one host read, the sample's Python
SAMPLE_OPS_PER_TENSOR = 6     # ... and per weight tensor (its dict entries, its slice of the norms)
ACTIVATION_PASSES = 6         # an activation sample: mean, std, saturated/dead share, signal
ACTIVATION_OPS = 12           # ... about a dozen small ops per recorded activation
PLANNED_SHARE = 0.5           # plan for half the overhead target: the rest is margin for the model's error


@dataclass(frozen=True)
class StepWork:
    """What one training step does, counted from the forward pass's shapes."""

    macs: int
    elements: int
    calls: int
    params: int
    tensors: int
    device: str = "cpu"


def count_forward(model: nn.Module):
    """Hooks that count a forward's work: returns ``(counts, remove)``; ``counts`` fills in as the
    model runs (``macs``, ``elements``, ``calls``)."""
    counts = {"macs": 0, "elements": 0, "calls": 0}
    handles = []

    def hook(module, args, output):
        if not isinstance(output, torch.Tensor):
            return
        counts["calls"] += 1
        counts["elements"] += output.numel()
        if isinstance(module, nn.Linear):
            counts["macs"] += output.numel() * module.in_features
        elif isinstance(module, nn.modules.conv._ConvNd):
            k = math.prod(module.kernel_size)
            counts["macs"] += output.numel() * (module.in_channels // module.groups) * k
    for module in model.modules():
        if next(module.children(), None) is None:
            handles.append(module.register_forward_hook(hook))

    def remove():
        for h in handles:
            h.remove()
    return counts, remove


def step_seconds(work: StepWork, *, costs: dict = COSTS) -> float:
    c = costs.get(work.device, costs["cpu"])
    return (6 * work.macs * c.flop + 3 * work.elements * c.element + (3 * work.calls + STEP_OPS) * c.op
            + OPTIMIZER_PASSES * work.params * c.element)


def sample_seconds(work: StepWork, *, activation_every: int) -> float:
    c = COSTS.get(work.device, COSTS["cpu"])
    cost = SAMPLE_PASSES * work.params * c.element + (SAMPLE_OPS + SAMPLE_OPS_PER_TENSOR * work.tensors) * c.op
    if activation_every:
        cost += (ACTIVATION_PASSES * work.elements * c.element + ACTIVATION_OPS * work.calls * c.op) / activation_every
    return cost


def sampling_period(work: StepWork, *, overhead: float, activation_every: int, max_every: int) -> int:
    """Steps between samples so that the monitor's modelled work stays under ``overhead``."""
    budget = PLANNED_SHARE * overhead * step_seconds(work)
    return max(1, min(max_every, math.ceil(sample_seconds(work, activation_every=activation_every) / budget)))


# ------------------------------------------------------------------------------ the budgets' count
# The budgets (budget.py) price what a step really dispatches: one training step of a copy (forward
# and backward) and one evaluation forward are run under a dispatch mode that counts every aten op,
# the elements each op writes and the flops of the ops torch's flop counter knows
# (torch.utils.flop_counter: matmuls, convolutions, attention), convolutions apart so that they can
# be priced apart (a free fit gives 1.9e-11 s a conv flop against 1.2e-11 s another; the prices below
# keep one, so the generated benchmark's step counts stay). Functional ops
# (F.relu, max_pool2d, x.mean) and the backward are counted, which module hooks miss. Each pass is
# counted at two batch sizes, so a step on r rows is ``fixed + r x per_row``: the weight gradients'
# elements and the ops do not grow with the rows, the activations do.
CONV_OPS = frozenset({torch.ops.aten.convolution, torch.ops.aten._convolution,
                      torch.ops.aten.convolution_backward})


@dataclass(frozen=True)
class Count:
    """The work of one pass as the dispatcher saw it."""

    conv_flops: float = 0.0
    flops: float = 0.0         # every other counted flop (matmuls, attention)
    elements: float = 0.0      # elements written by the ops
    ops: float = 0.0           # aten ops dispatched
    fused_ops: float = 0.0     # ... of which inside a recurrent module's one call (``RECURRENT``)
    graph_fused_ops: float = 0.0  # ... of those, in a training step: recorded by autograd and run by its engine

    def combine(self, other: "Count", a: float = 1.0, b: float = 1.0) -> "Count":
        """``a x self + b x other``, each count at least 0."""
        return Count(*(max(0.0, a * getattr(self, f.name) + b * getattr(other, f.name)) for f in fields(Count)))


# A recurrent module's forward is one call into ATen that loops over the time steps in C++ (on the
# CPU, a GRU or a packed LSTM dispatches its cell's ops at every step): those ops pay no Python of
# their own, unlike the per-module ops the op price was fitted on (it covers the trainer's Python).
# In a training step each of them also pays autograd's bookkeeping, which is no dispatched op: a
# graph node and its saved tensors in the forward, the engine's scheduling of that node in the
# backward (``graph_fused_ops``, priced at ``BudgetCosts.graph_fused_op``).
RECURRENT = (nn.RNNBase,)


class _Counting(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.counts = {f.name: 0.0 for f in fields(Count)}
        self.inside = 0                 # recurrent modules' forwards running now

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func._overloadpacket
        self.counts["ops"] += 1
        if self.inside:
            self.counts["fused_ops"] += 1
        if packet in flop_registry:
            self.counts["conv_flops" if packet in CONV_OPS else "flops"] += flop_registry[packet](
                *args, **kwargs, out_val=out)
        self.counts["elements"] += sum(t.numel() for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor))
        return out


def count_pass(model: nn.Module, x: torch.Tensor, *, backward: bool) -> Count:
    """One pass of ``model`` (not copied: the caller's copy) on ``x``: a forward without gradients,
    or with ``backward`` a forward and the backward of the outputs' mean square (a loss's work)."""
    mode = _Counting()

    def enter(module, args):
        mode.inside += 1

    def leave(module, args, output):
        mode.inside -= 1
    handles = [h for m in model.modules() if isinstance(m, RECURRENT)
               for h in (m.register_forward_pre_hook(enter), m.register_forward_hook(leave))]
    try:
        with mode:
            if backward:
                outs = [t for t in tree_flatten(model(x))[0] if isinstance(t, torch.Tensor) and t.requires_grad]
                forward_ops, forward_fused = mode.counts["ops"], mode.counts["fused_ops"]
                if outs:
                    sum(t.float().square().mean() for t in outs).backward()
                # the backward runs outside any module: its ops are shared out as the forward's were
                if forward_ops:
                    mode.counts["fused_ops"] = forward_fused * mode.counts["ops"] / forward_ops
                mode.counts["graph_fused_ops"] = mode.counts["fused_ops"]
            else:
                with torch.no_grad():
                    model(x)
    finally:
        for h in handles:
            h.remove()
    return Count(**mode.counts)


@dataclass(frozen=True)
class Work:
    """A training step's and an evaluation forward's work on r rows: ``fixed + r x per_row``."""

    step_fixed: Count
    step_row: Count
    forward_fixed: Count
    forward_row: Count
    params: int
    device: str = "cpu"

    def step(self, rows: int) -> Count:
        return self.step_fixed.combine(self.step_row, 1.0, float(rows))

    def forward(self, rows: int) -> Count:
        return self.forward_fixed.combine(self.forward_row, 1.0, float(rows))


COUNT_ROWS = 2       # the smaller batch the passes are counted at, besides the given one (batch norm needs 2)


def measure_work(model: nn.Module, x: torch.Tensor) -> Work:
    """Count a training step (train mode) and an evaluation forward (eval mode) of copies of
    ``model`` on the batch ``x`` and on its first ``COUNT_ROWS`` rows. The model, its running
    statistics and the random streams are untouched (dropout draws in a forked generator)."""
    device = next((p.device for p in model.parameters()), x.device)
    big = max(x.shape[0], 2 * COUNT_ROWS)
    x = x.to(device)
    x = x.repeat(math.ceil(big / x.shape[0]), *([1] * (x.dim() - 1)))[:big]
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        step_big, fwd_big = _count_both(model, x)
        try:
            step_small, fwd_small = _count_both(model, x[:COUNT_ROWS])
        except Exception:               # a model that only runs on its own batch size: all work per row
            per = 1.0 / big
            return Work(Count(), step_big.combine(Count(), per), Count(), fwd_big.combine(Count(), per), params,
                        device.type)
    per = 1.0 / (big - COUNT_ROWS)
    step_row, fwd_row = step_big.combine(step_small, per, -per), fwd_big.combine(fwd_small, per, -per)
    return Work(step_small.combine(step_row, 1.0, -COUNT_ROWS), step_row,
                fwd_small.combine(fwd_row, 1.0, -COUNT_ROWS), fwd_row, params, device.type)


def _count_both(model: nn.Module, x: torch.Tensor) -> tuple:
    """(training step, evaluation forward) counted on a copy of ``model``."""
    net = copy.deepcopy(model).train()
    try:
        step = count_pass(net, x, backward=True)
    except Exception:                   # no backward (outputs without gradients, a user's backward that raises:
        net = copy.deepcopy(model).train()  # the checks report it): thrice a forward, on a fresh copy
        step = count_pass(net, x, backward=False).combine(Count(), 3.0)
    return step, count_pass(net.eval(), x, backward=False)


@dataclass(frozen=True)
class BudgetCosts:
    """Seconds per convolution flop, per other flop, per element written, per element written
    beyond the cache (``spill``), per dispatched op, per op inside a recurrent module's call
    (``fused_op``; None: as ``op``) and per such op in a training step, autograd's part included
    (``graph_fused_op``; None: as ``fused_op``)."""

    conv_flop: float
    flop: float
    element: float
    op: float
    spilled_element: float = 0.0
    cache_bytes: float = math.inf
    fused_op: float | None = None
    graph_fused_op: float | None = None


# The budgets' prices on the CPU. conv_flop, flop, element and op are babysit12's (fitted to 18 step
# timings of the generated benchmark's parents at batch 16-256, 2026-12-05, load 0.4; counted at the
# dispatcher they price those parents' steps within 0.95-1.7x of babysit12's hook counts, the CNNs
# and ResNets at batch 32-128 within 0.95-1.04x, so their arms keep about their step counts). spilled_element: bench/budget_costs.py, 2026-12-05 (branch babysit27),
# 60 timings of 12 models (MLPs, CNNs, ResNets, two 16x16 residual CNNs) at 16-1200 rows, the
# process's CPU seconds with one thread at load ~20: a step of a conv net on 1200 rows took 1.3-1.7x
# the linear extrapolation from 256 rows; fitted alone, with the others fixed, 4.85e-10: an element
# written beyond the cache costs about twice one that stays. cache_bytes: the development machine's
# L3 (32 MiB, lscpu). Priced / measured over the 60: median 0.91, 0.39-4.14 (MLP steps on 16 rows
# priced high, where the trainer's Python, not a bare loop's, is what the op price covers; CNN
# evaluations priced low, 0.39-0.7).
# fused_op: the slope of a bare training step's CPU seconds over the ops a GRU and a plain RNN
# dispatch inside their one call (32 and 128 rows, 8 to 64 steps, one thread, 2026-12-06 16:30 UTC,
# load 4): 1.8-1.9e-6 s an op with its flops and elements; at op's 2e-5 these steps were priced at
# 7-12x their time (an MLP's bare step at 3.7-5.1x, where op covers the trainer's Python).
# graph_fused_op: babysit115 (2026-12-07, one thread, load 3-4, thread CPU seconds, median of 5 x 3):
# a GRU(1, 1, 32), RNN(1, 1, 32) and GRU(1, 16, 4) on 64 x 24 x 1 cost 1.7-2.3e-6 s a fused op in an
# evaluation forward (fused_op holds there) but 2.8-4.1e-6 in a forward with autograd recording and
# 2.7-4.5e-6 in its backward: the graph's nodes and the engine's scheduling, which the dispatch mode
# does not see. At fused_op, Adam steps of nine recurrent models (GRUs of 1-32 layers, 1-64 units,
# plain RNNs) were priced at 0.38-0.67x their CPU time (the set-20 GRU of 32 layers of one unit at
# 0.50x: its doctor ran past the 60 s backstop); the residual per fused op was 3.2-4.6e-6 s.
BUDGET_COSTS = {"cpu": BudgetCosts(conv_flop=1e-11, flop=1e-11, element=5e-10, op=2e-5, spilled_element=5e-10,
                                   cache_bytes=32 * 2 ** 20, fused_op=2e-6, graph_fused_op=4e-6),
                "cuda": BudgetCosts(conv_flop=COSTS["cuda"].flop, flop=COSTS["cuda"].flop,
                                    element=COSTS["cuda"].element, op=COSTS["cuda"].op)}
EVAL_OPS = 10                 # an evaluation's Python: eval(), no_grad, the loss, one host read
# The count itself (measure_work) runs four passes (a step and an evaluation, at two batch sizes) and
# pays the counting mode's Python for each op they dispatch (__torch_dispatch__, the outputs'
# flattening, the flop counter's lookup): 2.7e-5 s an op beyond the passes' price on a GRU(1, 1, 32)
# and a GRU(1, 16, 4) (9.4e4 and 1.2e4 ops: 2.9 and 0.37 s, charged 0.17 and 0.03 before), 3.7e-5 on
# an RNN(1, 1, 8); one thread, load 6-7 (babysit115, 2026-12-07). A host cost: the same on any device.
COUNT_OP_S = 2.5e-5


def spill(work: Work, rows: int, costs: "BudgetCosts | None" = None) -> float:
    """The share of a pass's elements that cannot stay in the cache: 1 - cache / footprint, where
    the footprint is the forward's activations on ``rows`` rows (4 bytes each), 0 when they fit."""
    cache = (costs or BUDGET_COSTS.get(work.device, BUDGET_COSTS["cpu"])).cache_bytes
    footprint = 4 * work.forward(rows).elements
    return 0.0 if footprint <= cache else 1.0 - cache / footprint


def price(count: Count, costs: BudgetCosts, *, spilled: float = 0.0) -> float:
    """Nominal seconds of ``count`` on a device of ``costs``; ``spilled``: the share of its elements
    written beyond the cache (``spill``)."""
    fused = costs.op if costs.fused_op is None else costs.fused_op
    graph = fused if costs.graph_fused_op is None else costs.graph_fused_op
    return (count.conv_flops * costs.conv_flop + count.flops * costs.flop + count.elements * costs.element
            + count.elements * spilled * costs.spilled_element + (count.ops - count.fused_ops) * costs.op
            + (count.fused_ops - count.graph_fused_ops) * fused + count.graph_fused_ops * graph)
