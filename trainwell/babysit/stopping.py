"""Does the run stop while it is still learning? A step limit or an early stop that ends the run early.

The doctor's other experiments train the same few steps in every arm, so they never see what ends
the run: ``max_steps`` counted as if it were epochs (30 updates, under one epoch), or early
stopping whose ``min_delta`` is on another scale than the monitored metric's epoch-to-epoch changes
(``min_delta = 0.1`` meant as "10 %" on a validation loss that falls by 0.03 an epoch) ends the
run within a few epochs. Both are the run's own options, so the check runs the run itself:

- a candidate is a run whose ``max_steps`` ends it before its ``epochs`` (``candidate``: "max_steps"),
  or one with early stopping (``patience``);
- **the run as configured** trains on a copy through the trainer fit uses (its schedule, its
  callbacks, its early stopping with its ``min_delta`` and ``restore_best``) until its own stop, and a
  **repeat** does so again on other batches (seed + ``interventions.REPEAT_SEED``): their difference
  is the run's noise;
- when the run stopped before its planned length, **the run trained on** trains the same setup with
  the stop taken away, on both seeds, to its planned length where the budget pays for that twice
  (else ``LONGER`` x the steps it stopped at);
- the finding is a ``stops_too_soon`` warning when the trained-on runs' mean ends
  ``interventions.significant``-ly better on the validation split than the stopped runs' mean
  (accuracy beyond 3x the spread of the trained-on runs, the sampling error and 3 points, or the
  loss by 10 % of its start with the accuracy no worse): the same yardstick as every other
  experiment, with the noise of runs of one length (where a stop falls is itself noisy). A stop that comes when the validation metric has
  stopped improving (a healthy early stop, a run that converged) gives a trained-on run no better,
  or worse: nothing is said.

Every training is priced by the budget's cost model before it runs and left out when it does not
fit (``Budget.fits_wall``) or the budget cannot pay for it; a run whose own stop did not come within
what the budget affords tells nothing, and nothing is said.
"""
from __future__ import annotations

import copy
import dataclasses
import math

import torch

from trainwell.babysit import interventions
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.callback_check import copy_callback
from trainwell.babysit.reset_watch import defines
from trainwell.babysit.stop_watch import CALLBACK, CODE, EARLY, MAX_STEPS, fix_for
from trainwell.train.callbacks import Callback
from trainwell.train.loop import total_steps
from trainwell.train.metrics import evaluate_model
from trainwell.train.state import Stop, StopKind

PART = "the stopping check (stops_too_soon)"
STOP_HOOKS = ("on_after_step", "on_epoch_end", "on_validation_end")   # the user's hooks that can set state.stop
CALLBACK_SHARE = 0.25   # a user callback's stop is a candidate within the run's first quarter (read on a run capped
                        # there: a stop that late is not "long before its planned steps", and the cap bounds the cost
                        # for every setup with a per-step callback)
LONGER = interventions.LONGER      # the run trained on: 3x the steps it stopped at (the experiments' own
                                   # "trained on"), at most the run's planned length


class _Cap(Callback):
    """Stops a simulated run at ``steps`` steps, or when the budget's clock runs out."""

    def __init__(self, steps: int, budget):
        self.steps, self.budget = steps, budget
        self.cut = False

    def on_after_step(self, state):
        if state.step >= self.steps:
            self.cut = True
            state.stop = Stop(StopKind.TIME_BUDGET, f"the stopping check's cap ({self.steps} steps)")
        elif self.budget is not None and (self.budget.clock_out() or self.budget.wall_out()):
            self.cut = True
            state.stop = Stop(StopKind.TIME_BUDGET, "the time backstop fired in the stopping check")


def planned_steps(config, per_epoch: int) -> int:
    """The run's length without its step limit: ``epochs`` of ``per_epoch`` steps."""
    return per_epoch * config.epochs


def candidate(config, per_epoch: int) -> str | None:
    """``MAX_STEPS`` when ``max_steps`` ends the run before its ``epochs``; ``EARLY`` with early
    stopping (``patience``); else None."""
    if config.max_steps is not None and config.max_steps < planned_steps(config, per_epoch):
        return MAX_STEPS
    if config.patience is not None:
        return EARLY
    if any(defines(cb, hook) for cb in config.callbacks or () for hook in STOP_HOOKS):
        return CALLBACK
    return None


class _KeepGoing(Callback):
    """Takes back a stop the user's callbacks set (``StopKind.CALLBACK``), after them in the loop's
    order: the run trained on past its callback's stop."""

    def _clear(self, state):
        if state.stop is not None and state.stop.kind is StopKind.CALLBACK:
            state.stop = None

    on_after_step = on_epoch_end = on_validation_end = _clear


def _evaluate(p, model) -> dict:
    with torch.no_grad():
        return evaluate_model(model, p.loss_fn, p.accuracy, *p.val, batch_size=p.config.eval_batch_size)


def _cost(budget, steps: int, epochs: int, p) -> float:
    """Nominal seconds of ``steps`` training steps and ``epochs`` evaluations of the validation split."""
    return steps * budget.step_cost(p.config.batch_size) + (epochs + 1) * budget.forward_cost(len(p.val[0]))


def _train(p, budget, *, cap: int, per_epoch: int, keep_going: bool = False, **changes) -> dict | None:
    """A copy of the prepared run ``p`` with its Config ``changes``, trained through fit's trainer to
    its own stop or ``cap`` steps: its validation loss and accuracy at the end (after restoring the
    best weights where the run does), the steps it ran, why it stopped and its epoch history.
    None when the budget cannot pay for it."""
    from trainwell.train.fit import make_trainer       # fit imports the babysitter

    if budget is not None:
        price = _cost(budget, cap, math.ceil(cap / per_epoch), p)
        if price > budget.left or not budget.fits_wall(price, PART):
            return None
    q = dataclasses.replace(p, config=dataclasses.replace(p.config, **changes), model=copy.deepcopy(p.model))
    stop = _Cap(cap, budget)
    trainer = make_trainer(q, extra_callbacks=[_KeepGoing(), stop] if keep_going else [stop])
    trainer.fit()
    state = trainer.state
    if budget is not None:
        budget.charge(_cost(budget, state.step, state.epoch, p))
    if stop.cut:
        return None
    val = _evaluate(q, state.evaluated_model)
    return {"loss": val["loss"], "acc": val["acc"], "steps": state.step, "epochs": state.epoch,
            "stop": state.stop.kind if state.stop else StopKind.FINISHED,
            "reason": state.stop.message if state.stop else "",
            "history": [m.get(p.config.monitor) for m in state.history]}


def _affordable(budget, steps: int, per_epoch: int, p, *, runs: int) -> bool:
    """Whether ``runs`` trainings of ``steps`` steps fit what ``budget`` has left (always without one)."""
    return budget is None or runs * _cost(budget, steps, math.ceil(steps / per_epoch), p) <= budget.left


def _mean(name: str, arms: list) -> interventions.Arm:
    """One arm of the mean held loss and accuracy of ``arms`` (runs of the same setup)."""
    accs = [a.acc for a in arms]
    return interventions.Arm(name, CODE, name, before=arms[0].before, after=sum(a.after for a in arms) / len(arms),
                             steps=arms[0].steps, acc=None if None in accs else sum(accs) / len(accs),
                             rows=arms[0].rows)


def _arm(name: str, run: dict, before: float, rows: int, class_ids: bool) -> interventions.Arm:
    return interventions.Arm(name, CODE, name, before=before, after=run["loss"], steps=run["steps"],
                             acc=run["acc"] if class_ids else None, rows=rows)


def check_stopping(p, *, budget=None) -> list[Finding]:
    """``[]`` when the run is no candidate, has no validation split, or its stop cuts nothing (it
    runs its planned length) or cannot be simulated within the budget; else one ``stops_too_soon``
    finding: a warning when the run trained on past its stop ends ``interventions.significant``-ly
    better than the run as configured, ``info`` when it does not. ``p``: fit's Prepared run; its
    model is not modified."""
    config = p.config
    if p.val is None:
        return []
    from trainwell.train.parts import make_batches
    per_epoch = len(make_batches(config, p.train))
    kind = candidate(config, per_epoch)
    if kind is None:
        return []
    planned = planned_steps(config, per_epoch)
    run_steps = total_steps(config, per_epoch)
    # a user callback's stop: read within the run's first CALLBACK_SHARE (the capped run ends there otherwise),
    # on copies of the user's callbacks (what they keep or write stays out of the user's objects); one that
    # cannot be copied (an open file) leaves the run unsimulated
    own = {}
    if kind == CALLBACK:
        if any(copy_callback(cb) is None for cb in config.callbacks):
            return []
        own = {"callbacks": list(config.callbacks)}
    cap = max(1, int(CALLBACK_SHARE * run_steps)) if kind == CALLBACK else run_steps + 1
    run = _train(p, budget, cap=cap, per_epoch=per_epoch, **_fresh(own))
    if run is None:
        return []
    stopped_at = run["steps"]
    if kind == CALLBACK:
        if run["stop"] is not StopKind.CALLBACK:
            return []       # no stop of the user's within the run's first quarter
    elif stopped_at >= planned or (run["stop"] is not StopKind.EARLY_STOPPING and stopped_at < run_steps):
        return []           # it ran its planned length, or something else (a user's callback) ended it
    other = config.seed + interventions.REPEAT_SEED
    repeat = _train(p, budget, cap=cap, per_epoch=per_epoch, seed=other, **_fresh(own))
    if repeat is None:
        return []
    # the run without its stop: its planned length where the budget pays for it twice, else LONGER x
    # the steps it stopped at (the experiments' "trained on")
    on = planned if _affordable(budget, planned, per_epoch, p, runs=2) else min(planned, LONGER * stopped_at)
    if on <= stopped_at:
        return []
    trained_on = {"max_steps": on, "patience": None, "epochs": math.ceil(on / per_epoch)}
    going = kind == CALLBACK        # the user's callbacks kept, their stop taken back
    longer = _train(p, budget, cap=on + 1, per_epoch=per_epoch, keep_going=going, **trained_on, **_fresh(own))
    longer_again = None if longer is None else _train(p, budget, cap=on + 1, per_epoch=per_epoch, seed=other,
                                                      keep_going=going, **trained_on, **_fresh(own))
    if longer_again is None:
        return []
    class_ids = run["acc"] is not None and p.accuracy is not None
    before = _evaluate(p, p.model)["loss"]
    rows = len(p.val[0])
    arms = [_arm(name, r, before, rows, class_ids) for name, r in
            (("the run as configured", run), ("its repeat", repeat), ("trained on", longer),
             ("trained on, repeated", longer_again))]
    # the two stopped runs' mean against the two runs trained on, beyond the spread of the runs trained
    # on (runs of one length: where a stop falls is itself noisy, so the two stopped runs differ by
    # more than the noise of the runs they are cut from; their mean is what the run is worth)
    hurts = interventions.significant(_mean("stopped", arms[:2]), _mean("trained on", arms[2:]), arms[3],
                                      by_loss=True, noise_of=arms[2])
    said = _said(kind, config, run, per_epoch, planned)
    numbers = (f"trained on to {on} steps the validation loss ends at {longer['loss']:.4g} and "
               f"{longer_again['loss']:.4g} (two batch orders) against {run['loss']:.4g} and {repeat['loss']:.4g} "
               f"stopped at steps {run['steps']} and {repeat['steps']}"
               + (f"; {100 * longer['acc']:.1f}% and {100 * longer_again['acc']:.1f}% against {100 * run['acc']:.1f}% "
                  f"and {100 * repeat['acc']:.1f}% right" if class_ids else ""))
    evidence = {"stop": kind, "stopped_at": stopped_at, "planned_steps": planned, "steps_per_epoch": per_epoch,
                "trained_on_steps": on, "setup_loss": run["loss"], "fix_loss": longer["loss"],
                "repeat_loss": repeat["loss"], "fix_repeat_loss": longer_again["loss"], "setup_acc": run["acc"],
                "fix_acc": longer["acc"], "hurts": hurts,
                **({"max_steps": config.max_steps} if kind == MAX_STEPS else
                   {"reason": run["reason"]} if kind == CALLBACK else
                   {"patience": config.patience, "min_delta": config.min_delta, "monitor": config.monitor,
                    "last_changes": _changes(run["history"], config.patience)})}
    if not hurts:
        return [make(CODE, f"{said}; but training on trains no better: {numbers}", evidence=evidence,
                     severity="info")]
    return [make(CODE, f"{said} while it is still learning: {numbers}", evidence=evidence, fix=fix_for(kind, config, per_epoch))]


def _changes(history: list, patience: int) -> list:
    """The monitored metric's epoch-to-epoch changes over the last ``patience`` + 1 epochs."""
    values = [v for v in history if v is not None]
    tail = values[-(patience + 1):]
    return [round(b - a, 6) for a, b in zip(tail, tail[1:])]


def _fresh(own: dict) -> dict:
    """Fresh copies of ``own``'s callbacks (the user's) for one simulated run: a copy keeps what its run
    left (a counter, a saved state), so each run gets its own."""
    return {"callbacks": [copy_callback(cb) for cb in own["callbacks"]]} if own else {}


def _said(kind: str, config, run: dict, per_epoch: int, planned: int) -> str:
    if kind == CALLBACK:
        return (f"a callback of the user's ends the run after {run['steps']} optimizer steps of its {planned} "
                f"({run['steps'] / per_epoch:.2g} epochs of {config.epochs}): {run['reason']!r}")
    if kind == MAX_STEPS:
        return (f"max_steps = {config.max_steps} ends the run after {run['steps']} optimizer steps "
                f"({run['steps'] / per_epoch:.2g} epochs of {per_epoch} steps; its {config.epochs} epochs are "
                f"{planned} steps)")
    changes = ", ".join(f"{c:+.3g}" for c in _changes(run["history"], config.patience))
    return (f"early stopping (patience {config.patience}, min_delta {config.min_delta:g} on {config.monitor}) ends "
            f"the run at epoch {run['epochs']} of {config.epochs}; {config.monitor}'s last changes: {changes}")
