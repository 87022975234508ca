"""Weights that change between two epochs of a watched run, where no optimizer step runs.

Between an epoch's last step and the next epoch's first, the only code that runs is the loop's
bookkeeping (validation in eval mode, the best weights, the checkpoint), the babysitter's repairs
and the user's callbacks (train/callbacks.py: ``on_validation_start`` / ``_end``, ``on_epoch_end``,
``on_checkpoint``, ``on_epoch_start``). A change of the weights there that is as large as what the
epoch's training moved them is the user's code putting them back (an init on ``on_epoch_start``, a
stale checkpoint loaded at each epoch end): the run starts again at every epoch. ``ResetWatch``
(train/parts.babysit_callbacks adds it in watch and repair mode when a callback of the user's
defines a hook that runs during the run, ``in_run_hooks``; no other run pays for it) keeps one copy
of the weights at the last step of each epoch and one at each epoch's start (after the user's
``on_epoch_start``), and at each epoch start measures, in one host sync:

* ``jump`` = ||w(epoch start) - w(last step of the epoch before)||: what happened outside the steps;
* ``moved`` = ||w(last step) - w(that epoch's start)||: what the epoch's steps did.

A boundary where ``jump >= JUMP x moved`` and the babysitter made no change (no repair recorded, no
rollback) counts; at the ``REPEATS``-th such boundary a ``parameters_reset`` error goes into the
monitor's diagnosis with every boundary's numbers and the epochs' training losses. The doctor's
check of the same fault (callback_check.py) calls each hook on a copy that has learned; this
module holds the hook helpers both need and nothing that imports the trainer.
"""
from __future__ import annotations

import torch

from trainwell.babysit.findings import make
from trainwell.train.callbacks import Callback

CODE = "parameters_reset"
# the hooks that run again and again during a run (on_fit_start and on_fit_end run once: an init
# there is the user's start, a change there the user's end)
IN_RUN = ("on_epoch_start", "on_before_step", "on_after_step", "on_validation_start", "on_validation_end",
          "on_epoch_end", "on_checkpoint")
JUMP = 1.0      # the weights move between two epochs at least as far as the epoch's steps moved them: more of
                # the epoch's learning is replaced than kept (a re-initialization moves them ~||w|| + ||w0||,
                # many times an epoch's steps; a max-norm constraint or a restore of the best weights far less)
REPEATS = 2     # at two boundaries: a pattern of the run, not a one-off (a deliberate restart or one reload)


def defines(callback, hook: str) -> bool:
    """Whether ``callback`` has its own ``hook`` (the loop's Hooks rule: not Callback's no-op)."""
    return hasattr(callback, hook) and getattr(type(callback), hook, None) is not getattr(Callback, hook, None)


def in_run_hooks(callbacks) -> list[tuple]:
    """``(callback, hook)`` for each in-run hook (``IN_RUN``) the user's callbacks define, in loop order."""
    return [(cb, hook) for hook in IN_RUN for cb in callbacks if defines(cb, hook)]


def _repairs(state) -> int:
    return len(state.extras.get("babysit", {}).get("repairs", []))


class ResetWatch(Callback):
    """At each epoch start, how far the weights moved since the last step against how far that
    epoch's steps moved them (the module docstring); a ``parameters_reset`` error in the monitor's
    diagnosis at the ``REPEATS``-th boundary where the jump is ``JUMP`` x the epoch's move or more."""

    def __init__(self, monitor):
        self.monitor = monitor
        self.boundaries: list[dict] = []
        self._start = self._end = None
        self._repairs_at_end = 0
        self._reported = False

    def _weights(self, state) -> list:
        return [p.detach().clone() for p in state.model.parameters()]

    def on_after_step(self, state):
        if state.batch_index == state.steps_per_epoch - 1 or state.step >= state.total_steps:
            self._end = self._weights(state)            # the epoch's last step: once an epoch
            self._repairs_at_end = _repairs(state)

    def on_epoch_start(self, state):
        now = [p.detach() for p in state.model.parameters()]
        if self._start is not None and self._end is not None and len(now) == len(self._end):
            if _repairs(state) == self._repairs_at_end and not state.controls.rolled_back:
                jump_sq = sum((a.float() - b.float()).pow(2).sum() for a, b in zip(now, self._end))
                moved_sq = sum((a.float() - b.float()).pow(2).sum() for a, b in zip(self._end, self._start))
                jump, moved = (float(v) ** 0.5 for v in torch.stack([jump_sq, moved_sq]).tolist())   # one sync
                if jump > 0 and jump >= JUMP * moved:
                    self.boundaries.append({"epoch": state.epoch, "jump": jump, "moved": moved})
                    if len(self.boundaries) >= REPEATS and not self._reported:
                        self._report(state)
        self._start, self._end = [p.clone() for p in now], None

    def _report(self, state):
        self._reported = True
        hooks = ", ".join(f"{type(cb).__name__}.{hook}" for cb, hook in in_run_hooks(state.config.callbacks)
                          if hook != "on_before_step" and hook != "on_after_step")
        said = "; ".join(f"before epoch {b['epoch'] + 1}: {b['jump']:.3g} (its epoch's steps moved them "
                         f"{b['moved']:.3g})" for b in self.boundaries)
        losses = [round(m["train_loss"], 4) for m in state.history if m.get("train_loss") is not None]
        message = (f"the weights changed between epochs, where no optimizer step runs, as far as or farther than "
                   f"an epoch of training moved them, at {len(self.boundaries)} epoch boundaries: {said}; the "
                   f"training loss by epoch: {', '.join(f'{v:.4g}' for v in losses)}. The user's code that runs "
                   f"there: {hooks or 'none of the callbacks (a step function or another callback)'}: the run "
                   f"starts again at every epoch")
        # the user's hooks that run between an epoch's last step and the next epoch's first (plans.py
        # detaches one when it is the only one)
        candidates = [[type(cb).__name__, hook] for cb, hook in in_run_hooks(state.config.callbacks)
                      if hook not in ("on_before_step", "on_after_step")]
        finding = make(CODE, message, evidence={"boundaries": list(self.boundaries), "train_losses": losses,
                                                "hooks": hooks, "candidates": candidates, "step": state.step,
                                                "epoch": state.epoch})
        if self.monitor.diagnosis.add(finding):
            state.extras.setdefault("babysit", {})["findings"] = [f.to_dict() for f in self.monitor.findings]
