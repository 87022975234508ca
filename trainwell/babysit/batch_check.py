"""Does the run make enough updates? A batch near the training set's size at an lr not scaled for it.

A run of 8 epochs at a batch of the whole training set makes 8 updates; the doctor's other
experiments train 100 steps at the run's batch, more than the whole run, so they never see it.
A run with fewer than ``FEW_UPDATES`` optimizer steps in all at a batch of at least a
``1 / FEW_PER_EPOCH`` of the training rows (at most 4 steps an epoch) and of at least ``SPLIT`` x
``MIN_ROWS`` rows is a candidate (an optimizer meant for the full batch, L-BFGS / BFGS / Newton,
never is; a short run at a small batch is a short run, not a large batch). The experiment (``interventions.experiment``) trains the run's own number of steps at
its batch (the setup), a repeat on other batches, and two arms:

- **the same rows seen in smaller batches**: batch / ``SPLIT`` for ``SPLIT`` x the steps, the lr
  kept (by Goyal et al. 2017's linear scaling rule, k small steps at lr are about one large step
  at k x lr: this arm is the run's batch at an lr scaled for it, taken in the steps where that
  rule holds). It decides the finding: a ``too_few_updates`` warning when it trains
  ``interventions.significant``-ly better (held accuracy, or held loss with the accuracy no worse);
- **the run's batch at lr x ``SPLIT``** (the linear scaling rule applied as it stands: ``raise_lr``,
  an lr scale). When it also trains significantly better the finding's ``evidence["lr_scale"]``
  holds the factor.

The repair (plans.plan_too_few_updates) takes the arm that ended lower: the batch cut to
``evidence["small_batch"]`` from the start (``Controls.set_batch_size``: the run's epochs kept, its
steps counted again, its lr schedule stretched over them; exact on resume), or the lr raised; a
run whose batch size cannot change (the user's own loader, SWA) gets the raise where it was
measured, else the finding names a new run at the smaller batch.
"""
from __future__ import annotations

from trainwell.babysit import interventions
from trainwell.babysit.findings import Finding, make
from trainwell.errors import ConfigError
from trainwell.optim.registry import lookup

CODE = "too_few_updates"
FEW_UPDATES = interventions.STEPS   # a candidate: fewer optimizer steps in the whole run than one arm of the
                                    # doctor's experiment trains (what it sees is then more than the run)
SPLIT = 8                           # the arm's batch: the run's / 8, for 8x the steps (the same rows seen)
MIN_ROWS = 8                        # ... of at least 8 rows: a batch of 64 rows or more is a candidate
FEW_PER_EPOCH = 4                   # ... and "near the training set's size": at most 4 steps an epoch
SMALL_ARM = "smaller batches"
SCALED_ARM = "lr scaled to the batch"
PART = "the batch-size check (too_few_updates)"


def cost(budget, *, total_steps: int, batch_size: int, rows: int, optimizer, least: bool = False) -> float:
    """Nominal seconds of the experiment on ``budget``'s counted work (0 when the run is no
    candidate): the run's steps at its batch thrice (the setup, its repeat, the scaled lr; ``least``:
    twice, the scaled lr left out, what the verdict needs) and ``SPLIT`` x them at batch / ``SPLIT``."""
    if budget is None or not candidate(total_steps=total_steps, batch_size=batch_size, rows=rows, optimizer=optimizer):
        return 0.0
    batch = min(batch_size, rows)
    return (budget.run_cost(2 if least else 3, total_steps, batch, eval_rows=interventions.EVAL_ROWS)
            + budget.run_cost(1, SPLIT * total_steps, max(1, batch // SPLIT), eval_rows=interventions.EVAL_ROWS))


def candidate(*, total_steps: int, batch_size: int, rows: int, optimizer) -> bool:
    """Fewer than ``FEW_UPDATES`` steps in the run at a batch of at least ``SPLIT`` x ``MIN_ROWS``
    rows and at least ``rows / FEW_PER_EPOCH`` of the ``rows`` training rows, with an optimizer that
    takes minibatch steps (not one that needs a closure: L-BFGS, BFGS, Newton are meant to run on
    the full batch)."""
    batch = min(batch_size, rows)
    if not total_steps or total_steps >= FEW_UPDATES or batch < SPLIT * MIN_ROWS or batch * FEW_PER_EPOCH < rows:
        return False
    try:
        info = lookup(optimizer)[0]
    except ConfigError:                 # an optimizer the registry does not know: a minibatch one
        return True
    return not (info.needs_closure or info.second_order)


def check_batch(model, X, y, loss_fn, *, total_steps: int, optimizer, lr: float, batch_size: int = 64,
                weight_decay: float = 0.0, options: dict | None = None, seed: int = 0,
                clip_norm: float | None = None, config=None, budget=None, **_ignored) -> list[Finding]:
    """``[]`` when the run is no candidate (``candidate``); else one ``too_few_updates`` finding:
    a warning when batch / ``SPLIT`` at the same rows seen trains ``interventions.significant``-ly
    better than the run's own steps (``evidence["lr_scale"]``: ``SPLIT`` when the run's batch at
    lr x ``SPLIT`` does too), ``info`` when it does not. The model is not modified."""
    rows = min(batch_size, X.shape[0])
    if not candidate(total_steps=total_steps, batch_size=batch_size, rows=X.shape[0], optimizer=optimizer):
        return []
    if budget is not None and not budget.fits_wall(cost(budget, total_steps=total_steps, batch_size=batch_size,
                                                        rows=X.shape[0], optimizer=optimizer, least=True), PART):
        return []
    small = max(1, rows // SPLIT)
    arms = [interventions.Arm(SMALL_ARM, CODE, f"batches of {small} rows for {SPLIT}x the steps (the same rows seen)",
                              extra={"batch_size": small, "steps_factor": SPLIT}),
            interventions.Arm(SCALED_ARM, CODE, f"lr {lr * SPLIT:.3g} instead of {lr:.3g} at the run's batch",
                              extra={"lr": lr * SPLIT})]
    baseline, ran = interventions.experiment(
        model, X, y, loss_fn, optimizer=optimizer, lr=lr, weight_decay=weight_decay, options=options,
        batch_size=rows, steps=total_steps, seed=seed, settings=False, repeat=True, clip_norm=clip_norm,
        config=config, extra_arms=arms, budget=budget, part=PART)
    repeat = interventions.finished_repeat(ran)
    done = {a.name: a for a in ran if not a.extra.get("timed_out")}
    if repeat is None or SMALL_ARM not in done or baseline.extra.get("timed_out"):
        return []
    arm = done[SMALL_ARM]
    hurts = interventions.significant(baseline, arm, repeat, by_loss=True)
    scaled = done.get(SCALED_ARM)
    scales = scaled is not None and interventions.significant(baseline, scaled, repeat, by_loss=True)
    said = (f"{total_steps} updates in the whole run (batches of {batch_size} rows of {X.shape[0]})")
    numbers = (f"with {arm.change} the held loss ends at {arm.after:.4g}, with the run's {baseline.steps} steps at "
               f"{baseline.after:.4g} (a repeat on other batches: {repeat.after:.4g})"
               + (f"; {100 * arm.acc:.1f}% against {100 * baseline.acc:.1f}% of the held rows right"
                  if None not in (arm.acc, baseline.acc) else ""))
    if scaled is not None:
        numbers += f"; with {scaled.change}: {scaled.after:.4g}" + (
            f" ({100 * scaled.acc:.1f}%)" if scaled.acc is not None else "")
    evidence = {"updates": total_steps, "batch_size": batch_size, "small_batch": small, "hurts": hurts,
                "intervention": SMALL_ARM, "setup_loss": baseline.after, "fix_loss": arm.after,
                "repeat_loss": repeat.after, "scaled_loss": None if scaled is None else scaled.after,
                **({"lr_scale": float(SPLIT)} if scales else {})}
    if not hurts:
        return [make(CODE, f"{said}; but smaller batches train no better: {numbers}", evidence=evidence,
                     severity="info")]
    fix = (f"batch_size = {small}, or lr x{SPLIT} for the batch of {batch_size} (Goyal et al. 2017's "
           f"linear scaling rule" + (", which the experiment confirmed)" if scales else "; it did not train better "
                                     "here at the run's batch)"))
    return [make(CODE, f"{said}; {numbers}", evidence=evidence, fix=fix)]
