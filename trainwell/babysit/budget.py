"""The doctor's and the repairer's budget: nominal seconds spent by counted work, not by the clock.

A check, an experiment's arm or the probe asks ``Budget.affordable(rows)`` how many training steps
on ``rows`` rows it can still afford and ``charge``-s the steps it ran. A step's cost is the cost
model's (babysit/cost.py) for the model's counted work, scaled to the rows, on a nominal device of
the model's kind; so the same setup and seed run the same steps, and find and repair the same, on a
quiet and on a loaded machine (issue 11: "the monitor's sampling is calibrated on wall time, so
what it sees depends on the load"; the pre-flight's experiments were sized by the clock too).

The backstop (``wall_s``: ``fits_wall``, ``wall_out``; the doctor's 60 s, issue 11's "pre-flight
plus probe <= 60 s") reads ``unqueued_seconds``: the wall clock less the seconds the budget's thread
waited, ready to run, for a CPU another process held (the kernel's run queue delay). On a quiet
machine it reads as the wall clock; on a loaded one it stands still while the thread waits, so the
backstop counts the time this process gets, not the time other processes take (at load 3-5 on the
2-core development machine the doctor's wall clock ran 5-20x a quiet run's, and set 21's doctors left
out experiments and missed faults by the load alone). A model on CUDA keeps the wall clock: kernels
queued on the device run on while the host thread waits for a CPU, so that wait is not time the work
lost.

A wall-clock safety stop, ``SAFETY_FACTOR`` x the budget (at least ``SAFETY_FLOOR_S``) after it
was opened, ends the work where
the cost model is far off (a device much slower than its nominal kind) or the machine starves the
doctor: ``clock_stopped`` says it fired, and the doctor reports what it cut. It is far beyond the
budget: on the development machine a quiet run spends about its nominal seconds, a heavily loaded
one (load 9 on 2 cores) 26x them.
"""
from __future__ import annotations

import math
import threading
import time

import torch
from torch import nn

from trainwell.babysit.cost import (BUDGET_COSTS, COUNT_OP_S, COUNT_ROWS, EVAL_OPS, OPTIMIZER_PASSES, STEP_OPS,
                                    BudgetCosts, Work, measure_work, price, spill)

SAFETY_FACTOR = 30.0    # the clock stops the work at 30x the budget: measured on the 2-core development
                        # machine at load 9 (2026-12-05), a CNN's doctor ran 26x its nominal seconds ...
SAFETY_FLOOR_S = 600.0  # ... and never before 10 minutes (10x the doctor's 60 s): a small budget's first
                        # steps pay one-time costs (allocations, kernel selection) the model leaves out


def queue_wait_s(thread_id: int) -> float:
    """Seconds the thread ``thread_id`` of this process has waited, ready to run, for a CPU: the
    kernel's run queue delay (``/proc/self/task/<id>/schedstat``, its second field, nanoseconds;
    Linux). 0.0 where the kernel does not say (another system, no schedstats): the backstop then
    reads the wall clock."""
    try:
        with open(f"/proc/self/task/{thread_id}/schedstat", "rb") as stats:
            return int(stats.read().split()[1]) * 1e-9
    except (OSError, IndexError, ValueError):
        return 0.0


def unqueued_seconds(thread_id: int) -> float:
    """The backstop's clock: wall seconds (``time.perf_counter``) less the seconds the thread
    ``thread_id`` waited in the run queue (``queue_wait_s``). Running, and waiting on anything but a
    CPU (a lock, a file, the device, a data loader's workers), count as on the wall clock; torch's
    other threads count where this one waits for them."""
    return time.perf_counter() - queue_wait_s(thread_id)


class Budget:
    """``seconds`` nominal seconds. ``share(s)`` opens a part of it: what the part spends is spent
    from this one too, and it stops at its own limit or this one's, whichever comes first.
    ``wall_s``: the backstop, in seconds of ``unqueued_seconds`` (``fits_wall``; None: none)."""

    def __init__(self, seconds: float, *, parent: "Budget | None" = None, wall_s: float | None = None):
        self.seconds = float(seconds)
        self.spent = 0.0
        self.parent = parent
        self._work: Work | None = None          # the root holds it
        self._clock_stopped = False
        self._opened = time.perf_counter() if parent is None else None
        self._thread = threading.get_native_id() if parent is None else None   # whose run queue delay
        self._opened_unqueued = unqueued_seconds(self._thread) if parent is None else None  # the backstop leaves out
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
        once: later calls keep the first count. The count itself is charged (``count_cost``)."""
        root = self.root
        if root._work is None:
            root._work = measure_work(model, x)
            self.charge(self.count_cost(x.shape[0]))

    def count_cost(self, rows: int) -> float:
        """Nominal seconds of the count on ``rows`` rows: its four passes (a step and an evaluation on
        ``rows`` and on ``COUNT_ROWS``) and the counting mode's Python per op they dispatched."""
        work = self.root._work
        return sum(self.step_cost(r) + self.forward_cost(r) + COUNT_OP_S * (work.step(r).ops + work.forward(r).ops)
                   for r in (rows, COUNT_ROWS))

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
        return (price(work.step(rows), c, spilled=spill(work, rows, c)) + OPTIMIZER_PASSES * work.params * c.element
                + STEP_OPS * c.op)

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
        """Seconds the backstop counts since the root was opened: ``unqueued_seconds`` (the wall
        clock less the opener thread's run queue delay) for a model counted on the CPU, or not yet
        counted; the wall clock for one on another device (CUDA's kernels run on while the host
        thread waits for a CPU)."""
        root = self.root
        if root._work is not None and root._work.device != "cpu":
            return time.perf_counter() - root._opened
        return unqueued_seconds(root._thread) - root._opened_unqueued

    def fits_wall(self, seconds: float, parts, *, behind: bool = False) -> bool:
        """Whether an optional part priced ``seconds`` nominal seconds is predicted to end within
        the root's ``wall_s`` since it was opened, on the backstop's clock (``backstop_elapsed``):
        its seconds so far plus ``seconds`` at the rate this budget's work has run so far (the
        backstop's seconds / nominal seconds spent).
        ``behind``: the part ranks behind the parts to come that the root holds ``reserved`` for
        (``reserve``): their price counts against it too. When it does not fit, the part's name(s)
        ``parts`` (a string or a list) are added to ``dropped`` and the caller leaves the whole
        part out. Without ``wall_s``, always True."""
        root = self.root
        if root.wall_s is None:
            return True
        elapsed = self.backstop_elapsed()
        rate = elapsed / root.spent if root.spent > 0 else 1.0
        if elapsed + rate * (seconds + (root.reserved if behind else 0.0)) <= root.wall_s:
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
        """The backstop's hard stop: the root's ``wall_s`` seconds of the backstop's clock
        (``backstop_elapsed``) have passed since it was opened (a part still running stops; False
        without ``wall_s``). What the prediction of ``fits_wall`` let start and the clock then
        outran ends here, so the doctor ends within ``wall_s`` of the time it got plus one step and
        one evaluation. The wall clock is read first: it is never behind the backstop's clock."""
        root = self.root
        return (root.wall_s is not None and time.perf_counter() - root._opened > root.wall_s
                and self.backstop_elapsed() > root.wall_s)

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
