"""The doctor's and the repairer's budget: nominal seconds spent by counted work, not by the clock.

A check, an experiment's arm or the probe asks ``Budget.affordable(rows)`` how many training steps
on ``rows`` rows it can still afford and ``charge``-s the steps it ran. A step's cost is the cost
model's (babysit/cost.py) for the model's counted work, scaled to the rows, on a nominal device of
the model's kind; so the same setup and seed run the same steps, and find and repair the same, on a
quiet and on a loaded machine (issue 11: "the monitor's sampling is calibrated on wall time, so
what it sees depends on the load"; the pre-flight's experiments were sized by the clock too).

The backstop (``wall_s``: ``fits_wall``, ``wall_out``; the doctor's 60 s, issue 11's "pre-flight
plus probe <= 60 s") reads no clock either: it counts the nominal seconds spent, converted at the
budget's ``rate``. The nominal seconds are the development machine's CPU seconds (one thread, quiet:
where cost.py's prices were fitted), so ``wall_s`` bounds the work at those seconds, and the parts it
leaves out depend on the setup and the seed, not on what else the machine runs. Timed by the wall
clock less the doctor's run-queue wait before, set 20's 32-layer GRU left out its probe, and with it
``vanishing_gradients``, at load 4 and kept it at load 2 (babysit147): a loaded machine's CPU seconds
are longer too (shared caches, memory bandwidth). Where the prices do not describe the machine or the
model (a device slower than its nominal kind, a model kind they were not fitted on) the rate is the
one measured once when the work is counted (``measure_rate``: the fastest of ``CALIBRATION_PASSES``
timed training passes of a copy over their price, on the doctor's thread's CPU-time clock, or between
two CUDA events on the device), used only beyond ``RATE_TRUSTED``, the prices' own error and the
load's. Work that is neither a step nor an evaluation (the wiring and data checks) is outside the
backstop, as it is outside the nominal seconds.

A wall-clock safety stop, ``SAFETY_FACTOR`` x the budget (at least ``SAFETY_FLOOR_S``) after it
was opened, ends the work where
the cost model is far off (a device much slower than its nominal kind) or the machine starves the
doctor: ``clock_stopped`` says it fired, and the doctor reports what it cut. It is far beyond the
budget: on the development machine a quiet run spends about its nominal seconds, a heavily loaded
one (load 9 on 2 cores) 26x them.
"""
from __future__ import annotations

import copy
import math
import time

import torch
from torch import nn
from torch.utils._pytree import tree_flatten

from trainwell.babysit.cost import (BUDGET_COSTS, COUNT_OP_S, COUNT_ROWS, EVAL_OPS, OPTIMIZER_PASSES, STEP_OPS,
                                    BudgetCosts, Work, measure_work, price, spill)

SAFETY_FACTOR = 30.0    # the clock stops the work at 30x the budget: measured on the 2-core development
                        # machine at load 9 (2026-12-05), a CNN's doctor ran 26x its nominal seconds ...
SAFETY_FLOOR_S = 600.0  # ... and never before 10 minutes (10x the doctor's 60 s): a small budget's first
                        # steps pay one-time costs (allocations, kernel selection) the model leaves out
RATE_TRUSTED = 10.0     # a measured rate up to 10x is the prices' own error times the load's, not another machine:
                        # a step measures up to 2.6x its price on the quiet development machine (1 / 0.39,
                        # bench/budget_costs.py's 60 timings), and a loaded one's CPU clock runs up to 3.3x
                        # (roasts' CNN pass at load 14.6, 2026-12-07; 2.1-2.2x at load 9): 2.6 x 3.3 = 8.6
CALIBRATION_PASSES = 3  # the rate is read from the fastest of 3 timed passes: the first pays one-time costs
                        # (allocations, autograd's first graph), and a pass a competitor's cache traffic
                        # slowed is not the fastest


def pass_price(work: Work, rows: int, costs: BudgetCosts) -> float:
    """Nominal seconds of one counted pass of a training step (the forward and the backward, no
    optimizer update) on ``rows`` rows at ``costs``' prices, its spill to memory included."""
    return price(work.step(rows), costs, spilled=spill(work, rows, costs))


def timed_pass(model: nn.Module, x: torch.Tensor) -> float:
    """Seconds of one pass as ``cost.count_pass`` counts a training step (the forward and the backward
    of the outputs' mean square) of ``model`` on ``x``: on the CPU the calling thread's CPU time
    (``time.thread_time``: the seconds it ran, not those it waited for a CPU other processes held;
    torch's intra-op threads count where this one runs its share of their work), on CUDA the
    device's time between two events (the kernels, not the host's wait)."""
    cuda = x.device.type == "cuda"
    if cuda:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
    else:
        began = time.thread_time()
    outs = [t for t in tree_flatten(model(x))[0] if isinstance(t, torch.Tensor) and t.requires_grad]
    if outs:
        sum(t.float().square().mean() for t in outs).backward()
    if not cuda:
        return time.thread_time() - began
    end.record()
    end.synchronize()
    return start.elapsed_time(end) * 1e-3


def measure_rate(model: nn.Module, x: torch.Tensor, work: Work) -> float:
    """This machine's seconds per nominal second of ``model``'s work: the fastest of
    ``CALIBRATION_PASSES`` ``timed_pass``-es of a copy on ``x`` over the counted pass's price on
    ``x``'s rows. The model, its running statistics and the random streams are untouched; 1.0 (the
    nominal price) where the pass raises or is priced at nothing."""
    priced = pass_price(work, x.shape[0], BUDGET_COSTS.get(work.device, BUDGET_COSTS["cpu"]))
    device = next((p.device for p in model.parameters()), x.device)
    try:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            net = copy.deepcopy(model).train()
            seconds = min(timed_pass(net, x.to(device)) for _ in range(CALIBRATION_PASSES))
    except Exception:                   # no backward (the checks report it): the nominal price
        return 1.0
    return seconds / priced if priced > 0 and seconds > 0 else 1.0


class Budget:
    """``seconds`` nominal seconds. ``share(s)`` opens a part of it: what the part spends is spent
    from this one too, and it stops at its own limit or this one's, whichever comes first.
    ``wall_s``: the backstop, in this machine's seconds of the work counted (``backstop_elapsed``,
    ``fits_wall``; None: none)."""

    def __init__(self, seconds: float, *, parent: "Budget | None" = None, wall_s: float | None = None):
        self.seconds = float(seconds)
        self.spent = 0.0
        self.parent = parent
        self._work: Work | None = None          # the root holds it
        self._clock_stopped = False
        self._opened = time.perf_counter() if parent is None else None
        self.measured_rate = None               # this machine's seconds per nominal one (the root's: measure_rate)
        self._wall_until = (self._opened + max(SAFETY_FACTOR * self.seconds, SAFETY_FLOOR_S)
                            if parent is None else None)
        self.wall_s = wall_s
        self.dropped: list[str] = []            # the optional parts the backstop left out (the root's)
        self.unpaid: list[str] = []             # ... and those the nominal seconds left could not pay for (the root's)
        self.reserved = 0.0                     # nominal seconds held for parts to come that rank first (the root's)

    @property
    def root(self) -> "Budget":
        return self if self.parent is None else self.parent.root

    def share(self, seconds: float) -> "Budget":
        return Budget(min(seconds, self.left), parent=self)

    # ---------------------------------------------------------------- the model's work
    def count(self, model: nn.Module, x: torch.Tensor) -> None:
        """Count the model's work per step and per evaluation (cost.measure_work) on the batch ``x``,
        and with a backstop (``wall_s``) measure its ``rate`` on it (``measure_rate``), once: later
        calls keep the first count. The count and the rate's passes are charged (``count_cost``)."""
        root = self.root
        if root._work is None:
            root._work = measure_work(model, x)
            if root.wall_s is not None:
                root.measured_rate = measure_rate(model, x, root._work)
            self.charge(self.count_cost(x.shape[0]))

    def count_cost(self, rows: int) -> float:
        """Nominal seconds of the count on ``rows`` rows: its four passes (a step and an evaluation on
        ``rows`` and on ``COUNT_ROWS``) and the counting mode's Python per op they dispatched, and the
        rate's ``CALIBRATION_PASSES`` passes on ``rows`` where it was measured."""
        work = self.root._work
        timed = 0 if self.root.measured_rate is None else CALIBRATION_PASSES
        return (sum(self.step_cost(r) + self.forward_cost(r) + COUNT_OP_S * (work.step(r).ops + work.forward(r).ops)
                    for r in (rows, COUNT_ROWS))
                + timed * pass_price(work, rows, self._costs()))

    @property
    def rate(self) -> float:
        """The backstop's seconds per nominal second: the ``measured_rate`` where it is beyond
        ``RATE_TRUSTED`` (the prices do not describe this machine: a device slower than its nominal
        kind, a model kind they were not fitted on), else 1.0 (before ``count`` too), so within the
        prices' error a model's backstop does not move with the load its rate was measured under."""
        measured = self.root.measured_rate
        return measured if measured is not None and measured > RATE_TRUSTED else 1.0

    @property
    def counted(self) -> bool:
        return self.root._work is not None

    def _costs(self) -> BudgetCosts:
        return BUDGET_COSTS.get(self.root._work.device, BUDGET_COSTS["cpu"])

    def step_cost(self, rows: int) -> float:
        """Nominal seconds of one training step on ``rows`` rows (0 before ``count``): the counted
        pass, the optimizer's passes over the parameters and the trainer's Python."""
        work = self.root._work
        if work is None:
            return 0.0
        c = self._costs()
        return pass_price(work, rows, c) + OPTIMIZER_PASSES * work.params * c.element + STEP_OPS * c.op

    def forward_cost(self, rows: int) -> float:
        """Nominal seconds of one evaluation forward on ``rows`` rows (0 before ``count``)."""
        work = self.root._work
        if work is None:
            return 0.0
        c = self._costs()
        return price(work.forward(rows), c, spilled=spill(work, rows, c)) + EVAL_OPS * c.op

    # ---------------------------------------------------------------- spending
    def charge(self, seconds: float) -> None:
        self.spent += seconds
        if self.parent is not None:
            self.parent.charge(seconds)

    def steps(self, count: int, rows: int) -> None:
        """Charge ``count`` training steps on ``rows`` rows."""
        self.charge(count * self.step_cost(rows))

    @property
    def left(self) -> float:
        own = max(0.0, self.seconds - self.spent)
        return own if self.parent is None else min(own, self.parent.left)

    def affordable(self, rows: int, *, share: float = 1.0) -> float:
        """Training steps on ``rows`` rows that ``share`` of what is left pays for (inf before ``count``)."""
        cost = self.step_cost(rows)
        return math.inf if cost <= 0 else int(share * self.left / cost)

    def spent_out(self) -> bool:
        """Nothing left, or the wall-clock safety stop fired."""
        return self.left <= 0 or self.clock_out()

    def clock_out(self) -> bool:
        root = self.root
        if not root._clock_stopped and time.perf_counter() > root._wall_until:
            root._clock_stopped = True
        return root._clock_stopped

    @property
    def clock_stopped(self) -> bool:
        """The wall-clock safety stop fired (its work was cut by the clock, not by its count)."""
        return self.root._clock_stopped

    # ---------------------------------------------------------------- the backstop
    def backstop_elapsed(self) -> float:
        """The backstop's seconds since the root was opened: the nominal seconds it has spent at the
        model's ``rate``. No clock: the same work reads the same at any load."""
        return self.root.spent * self.rate

    def fits_wall(self, seconds: float, parts, *, behind: bool = False) -> bool:
        """Whether an optional part priced ``seconds`` nominal seconds is predicted to end within
        the root's ``wall_s``: the backstop's seconds so far (``backstop_elapsed``) plus ``seconds``
        at the model's ``rate``.
        ``behind``: the part ranks behind the parts to come that the root holds ``reserved`` for
        (``reserve``): their price counts against it too. When it does not fit, the part's name(s)
        ``parts`` (a string or a list) are added to ``dropped`` and the caller leaves the whole
        part out. Without ``wall_s``, always True."""
        root = self.root
        if root.wall_s is None:
            return True
        if self.backstop_elapsed() + self.rate * (seconds + (root.reserved if behind else 0.0)) <= root.wall_s:
            return True
        self.drop(parts)
        return False

    def drop(self, parts) -> None:
        """Record the part(s) ``parts`` (a string or a list) as left out or cut by the backstop."""
        self.root.dropped += [parts] if isinstance(parts, str) else list(parts)

    def leave_out(self, parts) -> None:
        """Record the part(s) ``parts`` (a string or a list) as left out, or cut, because the nominal
        seconds left do not pay for them (``spent_out``, a share too small for its first steps): the
        doctor names them in its ``check_skipped`` info, as it names the backstop's ``dropped``, so no
        part is left out unsaid."""
        self.root.unpaid += [parts] if isinstance(parts, str) else list(parts)

    def wall_out(self) -> bool:
        """The backstop's hard stop: the root's ``wall_s`` of the backstop's seconds
        (``backstop_elapsed``) are spent (a part still running stops; False without ``wall_s``).
        What the prediction of ``fits_wall`` let start and then spent past its price (a training on
        that kept doubling) ends here, so the doctor ends within ``wall_s`` plus one step and one
        evaluation."""
        root = self.root
        return root.wall_s is not None and self.backstop_elapsed() > root.wall_s

    def reserve(self, seconds: float) -> None:
        """Hold ``seconds`` nominal seconds of the backstop for parts to come that rank before
        the parts asking ``fits_wall(..., behind=True)`` now (0: release)."""
        self.root.reserved = max(0.0, seconds)

    def holds_reserve(self, seconds: float) -> bool:
        """Whether spending ``seconds`` more nominal seconds leaves the root the ``reserved`` seconds
        it holds for the parts to come (``reserve``): a part that ranks behind them and does not
        leave them is left out, as ``fits_wall(..., behind=True)`` leaves it out of the wall clock."""
        return self.root.left - seconds >= self.root.reserved

    def run_cost(self, runs: int, steps: int, rows: int, *, evals: int = 3, eval_rows: int = 0) -> float:
        """Nominal seconds of ``runs`` trainings of ``steps`` steps on ``rows`` rows, each with
        ``evals`` evaluations of ``eval_rows`` rows (an experiment's arm: before, half-way and
        after), capped at what this budget has left (an experiment spends no more)."""
        return min(self.left, runs * (steps * self.step_cost(rows) + evals * self.forward_cost(eval_rows)))
