"""Is the model a user's callback validates and returns (``state.eval_model``) the weights trained?

A callback may set ``state.eval_model`` to an averaged copy of the weights (an EMA, Polyak
averaging, SWA: train/callbacks.py); validation, the best weights, the test score and the returned
model are then the average's. An exponential average ``a <- d a + (1 - d) w`` started from the
initial weights still holds ``d^n`` of them after ``n`` updates, so its decay only makes sense
against the number of updates the run gives it: ``d`` = 0.99 forgets the start after a few
hundred updates, which a per-step update gets in a few epochs and a per-epoch update never (20
epochs keep 0.99^20 = 82 % of the initial weights: the validated model is mostly untrained). No
other check reads the user's callbacks past ``on_fit_start``, and a short probe cannot see it: an
average updated per step also lags early in a run.

The check: a copy of the setup starts as the run starts (the user's ``on_fit_start`` hooks, on the
state of a trainer ``fit`` builds for it), and trains ``interventions.STEPS`` minibatch steps with
the run's optimizer while the user's in-run hooks are called in the loop's order (``on_epoch_start``,
``on_before_step`` / ``on_after_step`` at every step, ``on_validation_start`` / ``_end`` and
``on_epoch_end`` at each epoch end, the epochs cut to at most ``STEPS / EPOCHS`` steps so that the
epoch hooks run ``EPOCHS`` times or more). After each hook the eval model's parameters are read:
where they changed, the hook updated the average, and the update's factor is
``|a_new - w| / |a_old - w|`` (``w``: the training weights then; exactly ``d`` for an exponential
average, ``n / (n + 1)`` for an equal-weight mean, 0 for a copy of the weights). Over the run each
hook runs as often as the run calls it (the steps for the step hooks, the epochs for the epoch
hooks), so the average ends holding ``retained = f^u`` of the weights it started from (``f``: the
factors' geometric mean; ``u``: the updates per call measured here times the run's calls).

The finding needs both: ``retained >= RETAINED`` (the run's average is mostly its starting point),
and the model that mix stands for, ``retained x w0 + (1 - retained) x w`` (``w0`` the start, ``w``
the weights after the steps), scored on held training rows in eval mode worse than the trained
weights by ``mode_gap.EVAL_GAP`` x (|their loss| + ``mode_gap.LOSS_FLOOR``), the eval-mode gap's
own bound, where the steps gained at least ``interventions.MIN_GAIN`` of the starting loss. Found:
``eval_mode_gap`` (the model evaluated computes another function than the one trained) as a
warning naming the callback, the hook that updates it, the factor, the updates and the losses.
trainwell's own average (``average = {method = "ema", ...}``, train/average.py) is read the same way,
as ``fit`` adds it: its warm-up (``d_t = min(decay, (1 + t) / (10 + t))``) keeps an ImageNet decay
near the recent weights on a short run, a decay without it does not. A callback whose ``on_fit_start`` raises on this state or that cannot be copied is left out, as is
a hook that raises here (a validation hook that reads the loop's validation data: it is not called
again, the callback's other hooks are); an average that never updates within the steps (an SWA that
starts late in the run) says nothing: what it does in the run is unseen.
"""
from __future__ import annotations

import copy
import dataclasses
import math

import torch

from trainwell.babysit import interventions, mode_gap
from trainwell.babysit.callback_check import _held_loss, call_hook, copy_callback
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.probe_steps import make_optimizer, train_step
from trainwell.babysit.reset_watch import defines, in_run_hooks
from trainwell.train.average import Averager, make_averager
from trainwell.train.fit import make_trainer
from trainwell.train.loop import total_steps
from trainwell.train.parts import make_batches

CODE = "eval_mode_gap"
PART = "the averaged eval model's check (eval_mode_gap)"
EPOCHS = 4          # the simulated epochs cut to at most STEPS / 4 steps: every epoch hook runs 4 times or more
RETAINED = 0.5      # the run's average still holds half its starting weights or more: it is more the start
                    # than anything trained (an EMA's horizon of 1 / (1 - d) updates spans the run many times
                    # over where it is set for the run's updates)
EVAL_ROWS = interventions.EVAL_ROWS     # the held rows the losses are measured on
STEP_HOOKS = ("on_before_step", "on_after_step")
EPOCH_HOOKS = ("on_epoch_start", "on_validation_start", "on_validation_end", "on_epoch_end")


def cost(budget, *, callbacks, batch_size: int, steps: int = interventions.STEPS) -> float:
    """Nominal seconds of the check: ``steps`` steps and four held evaluations (0 without a user
    callback that defines an in-run hook)."""
    if budget is None or not in_run_hooks(callbacks):
        return 0.0
    return budget.run_cost(1, steps, batch_size, evals=4, eval_rows=EVAL_ROWS)


def _params(net) -> dict:
    return {k: v.detach().clone() for k, v in net.named_parameters() if torch.is_floating_point(v)}


def _norm(a: dict, b: dict) -> float:
    return sum(float((a[k].double() - b[k].double()).pow(2).sum()) for k in a) ** 0.5


class _Watch:
    """The eval model's parameters after each hook: which hook changed them and by what factor."""

    def __init__(self, state, net):
        self.state, self.net = state, net
        self.last = None            # the eval model's parameters when last read (None: no eval model set)
        self.calls: dict = {}       # hook -> calls
        self.updates: dict = {}     # hook -> calls that changed the eval model
        self.factors: list = []     # each update's |a_new - w| / |a_old - w|
        self.owner: dict = {}       # hook -> the callback whose hook it was (the first that updated)

    def read(self):
        model = self.state.eval_model
        if model is None or model is self.net:
            return None
        got = _params(model)
        raw = _params(self.net)
        return got if got.keys() == raw.keys() and all(got[k].shape == raw[k].shape for k in got) else None

    def called(self, hook: str) -> None:
        """One call of ``hook`` by the loop (whatever number of callbacks define it)."""
        self.calls[hook] = self.calls.get(hook, 0) + 1

    def after(self, hook: str, callback) -> None:
        now = self.read()
        if now is not None and self.last is not None and _norm(now, self.last) > 0:
            w = _params(self.net)
            before = _norm(self.last, w)
            if before > 0:
                self.updates[hook] = self.updates.get(hook, 0) + 1
                self.factors.append(min(1.0, _norm(now, w) / before))
                self.owner.setdefault(hook, callback)
        self.last = now


def check_eval_model(p, X, y, loss_fn, *, optimizer, lr: float, weight_decay: float = 0.0,
                     options: dict | None = None, batch_size: int = 64, seed: int = 0,
                     steps: int = interventions.STEPS, budget=None) -> list[Finding]:
    """``[]`` unless a user callback (``p.config.callbacks``, ``p`` the doctor's Prepared) sets
    ``state.eval_model`` and updates it so rarely for its factor that over the run's steps (the
    batches ``fit`` builds, ``total_steps``) it keeps ``RETAINED`` of its starting weights, at a
    cost the held loss shows (the module docstring); else one ``eval_mode_gap`` warning. Runs on
    copies; the run's model and callbacks are not modified. A setup whose callbacks set no eval model
    by the first simulated epoch's end stops there (and pays for those steps only)."""
    callbacks = [c for c in (copy_callback(cb) for cb in p.config.callbacks or []) if c is not None]
    if p.config.average is not None:        # trainwell's own average, as fit adds it (train/average.py)
        callbacks += make_averager(p.config, steps_per_epoch=len(make_batches(p.config, p.train)), loss_fn=loss_fn)
    if not in_run_hooks(callbacks) or (budget is not None and not budget.fits_wall(
            cost(budget, callbacks=callbacks, batch_size=batch_size, steps=steps), PART)):
        return []
    cuda = sorted({q.device.index or 0 for q in p.model.parameters() if q.device.type == "cuda"})
    with torch.random.fork_rng(devices=cuda):     # the copy's dropout draws leave the run's streams as they were
        return _simulate(p, callbacks, X, y, loss_fn, optimizer=optimizer, lr=lr, weight_decay=weight_decay,
                         options=options, batch_size=batch_size, seed=seed, steps=steps, budget=budget)


def _simulate(p, callbacks, X, y, loss_fn, *, optimizer, lr, weight_decay, options, batch_size, seed, steps,
              budget) -> list[Finding]:
    """``check_eval_model``'s copy of the run: its hooks, steps and the finding."""
    steps_per_epoch = len(make_batches(p.config, p.train))
    run_steps = total_steps(p.config, steps_per_epoch)
    trainer = make_trainer(dataclasses.replace(p, model=copy.deepcopy(p.model)))
    state = trainer.state
    for cb in callbacks:
        if defines(cb, "on_fit_start") and not call_hook(cb.on_fit_start, state):
            return []
    net = state.model
    watch = _Watch(state, net)
    watch.last = watch.read()

    dropped = set()                 # (callback, hook) pairs that raised here: not called again

    def hooks(name: str) -> None:
        watch.called(name)
        for i, cb in enumerate(callbacks):
            if defines(cb, name) and (i, name) not in dropped:
                if call_hook(getattr(cb, name), state):
                    watch.after(name, cb)
                else:
                    dropped.add((i, name))

    held_x, held_y = X[:EVAL_ROWS], y[:EVAL_ROWS]
    start = _params(net)
    first = _held_loss(net, loss_fn, held_x, held_y)
    opt = make_optimizer(optimizer, net, lr=lr, weight_decay=weight_decay, **(options or {}))
    gen = torch.Generator().manual_seed(seed)
    epoch = max(1, min(steps_per_epoch, steps // EPOCHS))
    state.step, state.epoch = 0, 0
    net.train()
    taken = 0
    for i in range(steps):
        if i % epoch == 0:
            hooks("on_epoch_start")
        rows = torch.randint(0, X.shape[0], (min(batch_size, X.shape[0]),), generator=gen).to(X.device)
        state.batch_index, state.batch = i % epoch, (X[rows], y[rows])
        hooks("on_before_step")
        state.loss = train_step(net, opt, loss_fn, X[rows], y[rows])
        state.step += 1
        hooks("on_after_step")
        taken += 1
        if (i + 1) % epoch == 0:
            state.epoch += 1
            for hook in ("on_validation_start", "on_validation_end", "on_epoch_end"):
                hooks(hook)
            if watch.last is None:      # no eval model set by the callbacks through a whole epoch: nothing to read
                break
        net.train()                 # a hook that evaluates leaves the model as the loop would find it
    if budget is not None:
        budget.charge(cost(budget, callbacks=callbacks, batch_size=batch_size, steps=taken))
    if not watch.factors or state.eval_model is None or state.eval_model is net:
        return []
    trained = _held_loss(net, loss_fn, held_x, held_y)
    if not first - trained >= interventions.MIN_GAIN * abs(first):
        return []
    run_epochs = math.ceil(run_steps / max(1, steps_per_epoch))
    updates = sum(n / watch.calls[h] * (run_steps if h in STEP_HOOKS else run_epochs)
                  for h, n in watch.updates.items())
    factor = math.exp(sum(math.log(max(f, 1e-12)) for f in watch.factors) / len(watch.factors))
    retained = factor ** updates
    if retained < RETAINED:
        return []
    end = _params(net)
    mix = copy.deepcopy(net)
    with torch.no_grad():
        for k, v in mix.named_parameters():
            if k in end:
                v.copy_(retained * start[k] + (1 - retained) * end[k])
    mixed = _held_loss(mix, loss_fn, held_x, held_y)
    if not mixed - trained > mode_gap.EVAL_GAP * (abs(trained) + mode_gap.LOSS_FLOOR):
        return []
    averaged = _held_loss(state.eval_model, loss_fn, held_x, held_y)
    hook = max(watch.updates, key=watch.updates.get)
    owner = watch.owner[hook]
    name = f"average = {p.config.average!r}" if isinstance(owner, Averager) else type(owner).__name__
    return [_finding(name, hook, factor=factor, updates=updates, retained=retained,
                     first=first, trained=trained, mixed=mixed, averaged=averaged, steps=steps,
                     run_steps=run_steps, run_epochs=run_epochs)]


def _finding(name: str, hook: str, *, factor, updates, retained, first, trained, mixed, averaged, steps,
             run_steps, run_epochs) -> Finding:
    per = "a step" if hook in STEP_HOOKS else "an epoch"
    message = (f"the callback {name} sets state.eval_model, the model validation, the best weights, the test "
               f"score and the returned model read, to an average it updates in {hook} (once {per}) by a factor "
               f"of {factor:.4g} per update: over the run's {run_steps} steps ({run_epochs} epochs) that is "
               f"{updates:.0f} updates, and the average still holds {100 * retained:.0f}% of the weights training "
               f"started from. On held training rows, {steps} steps took the loss from {first:.4g} to {trained:.4g}; "
               f"that mix of the start and the trained weights scores {mixed:.4g} (the average itself after the "
               f"{steps} steps: {averaged:.4g}): the run is judged and returned on weights it mostly did not train")
    fix = (f"update the average after every step (on_after_step), or set its decay for the updates it gets "
           f"(d^updates small: d = 1 - 10 / updates keeps e^-10 of the start, here about "
           f"{max(0.0, 1 - 10 / max(updates, 1)):.3g}); or let trainwell average (average = {{method = \"ema\"}}), "
           f"which warms its decay up")
    evidence = {"callback": name, "hook": hook, "factor": factor, "updates": updates, "retained": retained,
                "start_loss": first, "trained_loss": trained, "mixed_loss": mixed, "averaged_loss": averaged,
                "steps": steps, "run_steps": run_steps, "run_epochs": run_epochs}
    return make(CODE, message, evidence=evidence, fix=fix, where=f"{name}.{hook}", severity="warning")
