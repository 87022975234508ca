"""Ensembles from one run: snapshot ensembles and fast geometric ensembling (FGE).

- ``snapshot`` (Huang et al. 2017): the run's steps split into k equal cycles of cosine annealing
  with restarts, m(t) = (1 + cos(π t_c)) / 2 with t_c the position in the cycle; a member is the
  model at the end of each cycle.
- ``fge`` (Garipov et al. 2018): ordinary training for the first ``start`` fraction of the steps
  (cosine from 1 down to ``lr_high``), then k triangular cycles: the multiplier falls linearly from
  ``lr_high`` (α₁) to ``lr_low`` (α₂) in the first half of a cycle and rises back in the second; a
  member is the model at each cycle's minimum.

Both are plain schedules (``step -> multiplier`` of the run's lr) plus ``TakeMembers``, a callback
that copies the weights at given steps into ``state.extras`` (so they are checkpointed and a
resumed run keeps them).
"""
from __future__ import annotations

import bisect
import math

from trainwell.train.callbacks import Callback

MEMBERS_KEY = "ensemble_members"


def _bounds(begin: int, end: int, k: int) -> list[int]:
    """k + 1 boundaries splitting steps [begin, end) into k nearly equal cycles."""
    return [begin + round(j * (end - begin) / k) for j in range(k + 1)]


def snapshot_schedule(*, total: int, members: int):
    """Cosine restarts over ``members`` equal cycles of a ``total``-step run; returns
    ``(schedule, member_steps)``: members are taken after the last step of each cycle."""
    bounds = _bounds(0, total, members)

    def snapshot_cycles(step: int) -> float:
        j = min(bisect.bisect_right(bounds, step) - 1, members - 1)
        t = (step - bounds[j]) / max(bounds[j + 1] - bounds[j], 1)
        return (1.0 + math.cos(math.pi * t)) / 2.0
    return snapshot_cycles, bounds[1:]


def fge_schedule(*, total: int, members: int, start: float, lr_high: float, lr_low: float):
    """FGE's multiplier for a ``total``-step run; returns ``(schedule, member_steps)``: members
    are taken at the minimum (the middle) of each triangular cycle."""
    begin = round(start * total)
    bounds = _bounds(begin, total, members)
    middles = [bounds[j] + (bounds[j + 1] - bounds[j]) // 2 for j in range(members)]

    def fge_cycles(step: int) -> float:
        if step < begin:            # pre-training: cosine from 1 down to lr_high
            return lr_high + (1.0 - lr_high) * (1.0 + math.cos(math.pi * step / begin)) / 2.0
        j = min(bisect.bisect_right(bounds, step) - 1, members - 1)
        length = max(bounds[j + 1] - bounds[j], 1)
        t = (step - bounds[j]) / length
        return lr_high - (lr_high - lr_low) * (1.0 - abs(2.0 * t - 1.0))
    return fge_cycles, middles


class TakeMembers(Callback):
    """Copies the training model's weights after each step in ``steps`` into
    ``state.extras["ensemble_members"]["<step>"]`` (checkpointed with the run)."""

    def __init__(self, steps):
        self.steps = set(steps)
        self.taken: list[tuple[int, dict]] = []

    def on_fit_start(self, state):
        state.extras.setdefault(MEMBERS_KEY, {})

    def on_after_step(self, state):
        if state.step in self.steps:
            state.extras[MEMBERS_KEY][str(state.step)] = {
                k: v.detach().clone() for k, v in state.model.state_dict().items()}

    def on_fit_end(self, state):
        self.taken = taken_members(state.extras)


def taken_members(state_extras: dict) -> list[tuple[int, dict]]:
    """``[(step, weights)]`` the callback took, in step order."""
    taken = state_extras.get(MEMBERS_KEY, {})
    return sorted(((int(step), weights) for step, weights in taken.items()), key=lambda t: t[0])
