"""Does the user's own code put the weights back during the run? The user's callbacks, run as
the loop runs them, on a model that has learned something.

A callback changes ``TrainState`` at fixed points of the loop (train/callbacks.py). An init
written for the start of training but placed on a hook that runs again (``on_epoch_start``
instead of ``on_fit_start``), or a load of saved weights at each epoch end, starts the weights
again while the run goes on: every epoch learns from scratch, and the run ends where one epoch
gets (issue 11's kind: parameters reset or overwritten by the user's code during the run). None
of the babysitter's other checks runs the user's callbacks past the first epoch's start.

The check: a copy of the setup starts as the run starts (the user's ``on_fit_start`` hooks, on the
state of a trainer ``fit`` builds for it), its held loss is measured (``L0``: the held training
rows in eval mode), it trains ``interventions.STEPS`` minibatch steps with the run's optimizer
(``L1``), and then each hook a user callback defines that runs during the run (``reset_watch.IN_RUN``) is
called once on that state, as the loop would call it at the next epoch (``state.epoch`` = 1, the
steps taken), its held loss measured (``L2``) and the weights put back for the next. A hook
*undoes* the training when it gives back ``UNDONE`` of what the steps gained,
(L2 - L1) / (L0 - L1) >= 0.5, and the steps gained at least ``interventions.MIN_GAIN`` (10 %) of
the start (else the check says nothing: too little learned to see it undone). A hook that moves
the weights a little (a max-norm constraint, a pruning mask, a restore of the best weights) gives
back far less. Found: a ``parameters_reset`` error naming the callback, the hook, the losses and
how far the hook moved the weights against how far training moved them. A hook that *clamps* the
weights (``clamp_(-c, c)`` after each step, a WGAN critic's clip kept in a model that fits targets)
gives back what the steps gained too, and is told apart by what it leaves: ``PINNED`` (half) or
more of the weights at the largest magnitude of their tensor (``pinned``; a re-init or a max-norm
rescaling leaves about one entry per tensor there). The finding then names the clamp, its bounds and
what the trained weights reached, and the fix says to remove or widen it.

A hook the loop calls after every step (``PER_STEP``: ``on_after_step``) can hold the run back
without undoing much at any one call: a magnitude pruning whose threshold sits above most weights
(0.1 where a layer's weights are drawn within +-1/8) sets them to 0 after each step, and each
step's update of them is set back to 0 at the next call, so they never learn. So the same steps
are trained again from the same start with the hook called after each, as the loop calls it: where
the hooked steps keep at most 1 - ``UNDONE`` of the gain the steps make without it and leave
``ZEROED`` (half) or more of the weight entries exactly 0, a ``frozen_parameters`` warning names
the callback (the weights are frozen at 0 by the user's code; a pruning that zeroes a few percent,
a max-norm constraint zeroes nothing, both quiet).

A callback that raises on a state outside the loop's (it reads a metric only validation sets) is
left out: what it does there is not what it does in the run. A watched run measures the same fault
on itself (reset_watch.py: the weights' jump between two epochs against an epoch's steps).
"""
from __future__ import annotations

import copy
import dataclasses

import torch

from trainwell.babysit import interventions
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.probe_steps import make_optimizer, train_step
from trainwell.babysit.reset_watch import CODE, defines, in_run_hooks
from trainwell.train.fit import make_trainer

PART = "the callbacks check (parameters_reset)"
UNDONE = 0.5    # the hook gives back half of what the steps gained or more: more of the run's learning is
                # lost at each call than kept (a re-initialization gives back about all of it; a max-norm
                # constraint or a restore of the best weights next to none)
EVAL_ROWS = interventions.EVAL_ROWS     # the held rows the losses are measured on
PINNED = 0.5    # a clamp: half or more of the weights sit at the largest magnitude of their tensor after the hook
                # (a clamp to [-c, c] tighter than the trained weights puts most of them at +-c; a re-init or a
                # max-norm rescaling leaves about one entry per tensor there)
PIN_TOL = 1e-6  # ... within this relative distance of that magnitude (float32 rounding of a clamp's bound)
PER_STEP = ("on_after_step",)   # the hooks the loop calls after every optimizer step (train/trainer.py)
ZEROED = 0.5    # a hook that holds half or more of the weights at exactly 0 through the steps: the model trains as
                # one of less than half its size (a pruning that keeps a few percent zero leaves it whole)
FROZEN = "frozen_parameters"


def cost(budget, *, callbacks, batch_size: int, steps: int = interventions.STEPS) -> float:
    """Nominal seconds of the check on ``budget``'s counted work: ``steps`` steps and one held
    evaluation per hook and two more (0 without an in-run hook of the user's)."""
    hooks = in_run_hooks(callbacks)
    if budget is None or not hooks:
        return 0.0
    per_step = sum(hook in PER_STEP for _, hook in hooks)
    return budget.run_cost(1, steps * (1 + per_step), batch_size, evals=len(hooks) + 2 + per_step,
                           eval_rows=EVAL_ROWS)


def _held_loss(net, loss_fn, X, y) -> float:
    training = net.training
    net.eval()
    with torch.no_grad():
        loss = float(loss_fn(net(X), y))
    net.train(training)
    return loss


def _distance(a: dict, b: dict) -> float:
    """The L2 distance between two sets of the same floating-point tensors."""
    return sum(float((a[k].double() - b[k].double()).pow(2).sum()) for k in a) ** 0.5


def _weights(net) -> dict:
    return {k: v.detach().clone() for k, v in net.state_dict().items() if torch.is_floating_point(v)}


def pinned(net) -> tuple[float, list]:
    """The share of the parameters' entries (tensors of more than one entry) whose magnitude is
    their tensor's largest, within ``PIN_TOL``, and the distinct largest magnitudes: a clamp's bounds."""
    at_bound, entries, bounds = 0, 0, []
    with torch.no_grad():
        for q in net.parameters():
            if q.numel() < 2 or not torch.is_floating_point(q):
                continue
            size = q.detach().abs().float()
            top = float(size.max())
            entries += q.numel()
            if top > 0:
                at_bound += int((size >= top * (1 - PIN_TOL)).sum())
                if not any(abs(top - b) <= PIN_TOL * b for b in bounds):
                    bounds.append(top)
    return (at_bound / entries if entries else 0.0), sorted(bounds)


def copy_callback(callback):
    """A deep copy of the user's callback; None when it cannot be copied."""
    try:
        return copy.deepcopy(callback)
    except Exception:       # the user's object: any copy failure (a lock, a file, a socket) means "leave it out"
        return None


def call_hook(fn, state) -> bool:
    """Run the user's hook; False when it raises on this state (it is then left out)."""
    try:
        fn(state)
    except Exception:       # the user's code outside the loop's state: not what it does in the run
        return False
    return True


def check_callbacks(p, X, y, loss_fn, *, optimizer, lr: float, weight_decay: float = 0.0,
                    options: dict | None = None, batch_size: int = 64, seed: int = 0,
                    steps: int = interventions.STEPS, budget=None) -> list[Finding]:
    """``[]`` when no callback of the run (``p.config.callbacks``, ``p`` the doctor's Prepared)
    defines an in-run hook, the budget cannot afford the check, or the steps learn too little to
    see; else one ``parameters_reset`` error per hook that undoes ``UNDONE`` of the training. The
    training runs on a copy of the model; the run's model is not modified."""
    # copies: what a hook keeps (a saved state dict, a counter) stays out of the user's objects, and a
    # callback that holds what cannot be copied (an open log writer, a connection) is left out unrun
    callbacks = [c for c in (copy_callback(cb) for cb in p.config.callbacks or []) if c is not None]
    hooks = in_run_hooks(callbacks)
    if not hooks or (budget is not None and not budget.fits_wall(
            cost(budget, callbacks=callbacks, batch_size=batch_size, steps=steps), PART)):
        return []
    trainer = make_trainer(dataclasses.replace(p, model=copy.deepcopy(p.model)))
    state = trainer.state
    for cb in callbacks:                                # the run's start, as the user's code makes it
        if defines(cb, "on_fit_start") and not call_hook(cb.on_fit_start, state):
            return []
    net = state.model
    held_x, held_y = X[:EVAL_ROWS], y[:EVAL_ROWS]
    start = _weights(net)
    first = _held_loss(net, loss_fn, held_x, held_y)
    trained, loss = _train(net, X, y, loss_fn, optimizer=optimizer, lr=lr, weight_decay=weight_decay,
                           options=options, batch_size=batch_size, seed=seed, steps=steps)
    if budget is not None:
        budget.charge(cost(budget, callbacks=callbacks, batch_size=batch_size, steps=steps))
    gained = first - trained
    if not gained >= interventions.MIN_GAIN * abs(first):
        return []
    trained_weights = _weights(net)
    moved = _distance(trained_weights, start)
    state.step, state.epoch, state.batch_index = steps, 1, 0
    state.loss = loss
    out = []
    for cb, hook in hooks:
        if call_hook(getattr(cb, hook), state):
            after = _held_loss(net, loss_fn, held_x, held_y)
            jump = _distance(_weights(net), trained_weights)
            undone = (after - trained) / gained
            if undone >= UNDONE:
                share, bounds = pinned(net)
                out.append(_finding(cb, hook, first=first, trained=trained, after=after, undone=undone,
                                    moved=moved, jump=jump, steps=steps, pinned=share, bounds=bounds,
                                    trained_max=max((float(v.abs().max()) for v in trained_weights.values()
                                                     if v.numel() > 1), default=0.0)))
        net.load_state_dict({**net.state_dict(), **trained_weights})
    for cb, hook in hooks:
        if hook not in PER_STEP or any(f.where == f"{type(cb).__name__}.{hook}" for f in out):
            continue
        net.load_state_dict({**net.state_dict(), **start})
        state.step, state.epoch, state.batch_index = 0, 0, 0
        held = _train(net, X, y, loss_fn, optimizer=optimizer, lr=lr, weight_decay=weight_decay, options=options,
                      batch_size=batch_size, seed=seed, steps=steps, after_step=(getattr(cb, hook), state))
        if held is None:
            continue
        hooked = held[0]
        kept = (first - hooked) / gained
        share, before = zero_share(net), zero_share_of(trained_weights, net)
        if kept <= 1 - UNDONE and share >= ZEROED:
            out.append(_zeroed_finding(cb, hook, first=first, trained=trained, hooked=hooked, kept=kept,
                                       zeroed=share, zeroed_without=before, steps=steps))
    return out


def _train(net, X, y, loss_fn, *, optimizer, lr, weight_decay, options, batch_size, seed, steps,
           after_step=None) -> tuple | None:
    """``steps`` minibatch steps of ``net`` with the run's optimizer (rows drawn by ``seed``), and
    ``(held loss after them, the last step's loss)``; ``after_step``: ``(hook, state)`` called after
    every step as the loop calls it (``state.step`` counted); None where that hook raises."""
    opt = make_optimizer(optimizer, net, lr=lr, weight_decay=weight_decay, **(options or {}))
    gen = torch.Generator().manual_seed(seed)
    net.train()
    loss = None
    for _ in range(steps):
        rows = torch.randint(0, X.shape[0], (min(batch_size, X.shape[0]),), generator=gen).to(X.device)
        loss = train_step(net, opt, loss_fn, X[rows], y[rows])
        if after_step is not None:
            fn, state = after_step
            state.step += 1
            state.loss = loss
            if not call_hook(fn, state):
                return None
    return _held_loss(net, loss_fn, X[:EVAL_ROWS], y[:EVAL_ROWS]), loss


def zero_share(net) -> float:
    """The share of the weight entries (parameter tensors of two or more dimensions) exactly 0."""
    return zero_share_of(dict(net.named_parameters()), net)


def zero_share_of(tensors: dict, net) -> float:
    """``zero_share`` of ``tensors`` (name -> tensor), read at ``net``'s weight tensors' names."""
    names = [n for n, q in net.named_parameters() if q.dim() >= 2 and torch.is_floating_point(q) and n in tensors]
    total = sum(tensors[n].numel() for n in names)
    return sum(int((tensors[n] == 0).sum()) for n in names) / total if total else 0.0


def _zeroed_finding(cb, hook: str, *, first, trained, hooked, kept, zeroed, zeroed_without, steps) -> Finding:
    name = type(cb).__name__
    message = (f"the callback {name}'s {hook}, called after every step as the loop calls it, holds "
               f"{100 * zeroed:.0f}% of the weights at exactly 0 ({100 * zeroed_without:.0f}% after the same steps "
               f"without it): {steps} steps took the held loss from {first:.4g} to {trained:.4g} without the "
               f"callback and to {hooked:.4g} with it ({100 * kept:.0f}% of the gain kept). Each step's update of "
               f"those weights is set back to 0 at the next call: they are frozen at 0, and the model trains as "
               f"one of a fraction of its size")
    fix = (f"zero fewer weights in {name}.{hook}: a threshold under the weights' scale (a quantile of each "
           f"layer's magnitudes, not a fixed value from another model), or prune once the model has trained and "
           f"then fine-tune (Han et al. 2015)")
    evidence = {"callback": name, "hook": hook, "start_loss": first, "trained_loss": trained, "hooked_loss": hooked,
                "kept": kept, "zeroed": zeroed, "zeroed_without": zeroed_without, "steps": steps}
    return make(FROZEN, message, evidence=evidence, fix=fix, where=f"{name}.{hook}", severity="warning")


def _finding(cb, hook: str, *, first, trained, after, undone, moved, jump, steps, pinned=0.0, bounds=(),
             trained_max=0.0) -> Finding:
    name = type(cb).__name__
    clamp = pinned >= PINNED
    said = (f"the callback {name}'s {hook} clamps the weights: after it {100 * pinned:.0f}% of them sit at the "
            f"largest magnitude of their tensor ({', '.join(f'+-{b:.3g}' for b in bounds[:4])}), where the "
            f"steps took them up to {trained_max:.3g}" if clamp else
            f"the callback {name}'s {hook} puts the weights back where training started")
    message = (f"{said}: {steps} steps took "
               f"the held loss from {first:.4g} to {trained:.4g}, and {hook}, run as the loop runs it during the "
               f"run, sends it to {after:.4g} ({100 * undone:.0f}% of what the steps gained given back); it moves "
               f"the weights {jump:.3g} (the steps moved them {moved:.3g}). " + (
                   "Each call pins the weights inside a bound the model cannot fit the data in: the run stays "
                   "where the bound holds it" if clamp else
                   f"The run starts again at every {hook.removeprefix('on_').replace('_', ' ')}: it ends where "
                   f"one stretch between two of them gets"))
    fix = (f"remove the clamp in {name}.{hook}, or widen its bound past what the trained weights reach "
           f"({trained_max:.3g} after {steps} steps; a WGAN critic's weight clip belongs to the critic alone); "
           f"weight_decay or max_norm regularize without pinning" if clamp else
           f"move what {name}.{hook} does to on_fit_start (it runs once, before the first step), or make it "
           f"run once (guard it with state.epoch == 0 and state.step == 0)")
    evidence = {"callback": name, "hook": hook, "start_loss": first, "trained_loss": trained, "after_loss": after,
                "undone": undone, "trained_distance": moved, "hook_distance": jump, "steps": steps,
                "pinned": pinned, "bounds": list(bounds), "trained_max": trained_max, "clamp": clamp}
    return make(CODE, message, evidence=evidence, fix=fix, where=f"{name}.{hook}")
