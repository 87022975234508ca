"""Does the lr schedule leave the run time to learn? An experiment, not a threshold alone.

The configured schedule is evaluated over the run's planned steps without training
(``optim.schedules.spent_at``: the fraction of the run by which it has given 99% of all the lr it
gives): 1.0 for a constant lr, 0.82 for a cosine to 0, 0.85 for one-cycle, 0.81 for an exponential
decay of 0.95 per epoch over 100 epochs, 0.65 for a staircase dividing by 10 at 1/3 and 2/3 of
the run; 0.05 for a staircase dividing by 10 every epoch of a 40-epoch run. A schedule that has
given 99% of its lr by ``EARLY`` of the run is a candidate, and an experiment grades it
(``interventions.experiment``): the setup trains the experiment's steps with the run's own lr
course over the steps in which the schedule gives 99% of its lr, twice over (compressed only when
those are more than half the experiment's steps: ``course``),
next to a repeat on other batches and the same schedule *stretched* (``optim.schedules.stretch``)
so that it gives 99% of its lr by ``STRETCH_TO`` of the run. When the stretched schedule trains
``helpful``-ly better, a ``schedule_decays_early`` warning names the schedule and the stretch,
which the repair (``stretch_schedule``) applies from the start; otherwise an ``info`` finding
says the schedule decays early but the stretch trains no better. A plateau schedule (its cuts
follow the metric) and a constant lr are never candidates.
"""
from __future__ import annotations

from trainwell.babysit import interventions
from trainwell.babysit.findings import Finding, make
from trainwell.optim.schedules import spent_at, stretch

CODE = "schedule_decays_early"
SPENT_SHARE = 0.99    # spent_at's share: the schedule has given 99% of its lr by then (what is left moves nothing)
EARLY = 0.5           # a candidate: 99% given within the run's first half, so its second half trains at < 1% of
                      # the lr sum (every standard schedule gives it by >= 0.65 of the run: the module docstring)
STRETCH_TO = 2 / 3    # the stretch: 99% given by 2/3 of the run, where a staircase dividing by 10 at 1/3 and 2/3
                      # of the run gives it (notes 003: "divide it by a factor (e.g. 5 or 10) every L epochs");
                      # the cosine (0.82), one-cycle (0.85) and exponential (0.81) give it later still
ARM = "stretched schedule"


def course(schedule, reach: float):
    """``(i, n) -> multiplier``: the schedule at the run's own steps, compressed only as far as it
    takes the experiment's n steps to cover ``reach`` run steps (where the configured schedule has
    given 99% of its lr) twice: step i is run step i x max(1, 2 x reach / n). A fast decay is seen
    at the lrs the run trains with; a slower one, compressed, within the experiment's steps."""
    return lambda i, n: float(schedule(int(i * max(1.0, 2 * reach / max(n, 1)))))


def candidate(schedule, total: int) -> float | None:
    """The schedule's ``spent_at`` when it is a candidate (< ``EARLY``), else None (also without a
    schedule, or one with state: a plateau schedule's cuts follow the metric)."""
    if schedule is None or hasattr(schedule, "observe") or not total:
        return None
    spent = spent_at(schedule, total, share=SPENT_SHARE)
    return spent if spent < EARLY else None


def check_schedule(model, X, y, loss_fn, *, schedule, total_steps: int, optimizer, lr: float,
                   weight_decay: float = 0.0, options: dict | None = None, batch_size: int = 64, seed: int = 0,
                   clip_norm: float | None = None, config=None, steps: int = interventions.STEPS,
                   budget=None) -> list[Finding]:
    """``[]`` when the schedule is no candidate; else one ``schedule_decays_early`` finding: a
    warning with ``evidence["stretch"]`` (the factor) when the stretched schedule trains
    ``interventions.helpful``-ly better than the configured one over the experiment's steps, ``info``
    when it does not. The experiment's arguments are ``interventions.experiment``'s (``config``:
    every arm trains with the run's regularizers); the model is not modified."""
    spent = candidate(schedule, total_steps)
    if spent is None:
        return []
    factor = STRETCH_TO / max(spent, 1 / total_steps)
    stretched = stretch(schedule, factor=factor)
    reach = spent * total_steps
    said = (f"the lr schedule gives {100 * SPENT_SHARE:.0f}% of its lr by {100 * spent:.0f}% of the run's "
            f"{total_steps} steps")
    arm = interventions.Arm(ARM, CODE, f"the schedule stretched {factor:.3g}x (its {100 * SPENT_SHARE:.0f}% by "
                                       f"{100 * STRETCH_TO:.0f}% of the run)",
                            extra={"course": course(stretched, reach), "stretch": factor, "spent_at": spent,
                                   "held_accuracy": True})
    baseline, arms = interventions.experiment(
        model, X, y, loss_fn, optimizer=optimizer, lr=lr, weight_decay=weight_decay, options=options,
        batch_size=batch_size, steps=steps, seed=seed, settings=False, repeat=True, clip_norm=clip_norm,
        config=config, course=course(schedule, reach), extra_arms=[arm], budget=budget, run_steps=total_steps)
    found = interventions.findings(baseline, arms, run_steps=total_steps)
    for f in found:
        f.message = f"{said}; over the run's first {reach:.0f} steps twice over in {f.evidence['steps']} steps, {f.message}"
        return [f]
    ran = next((a for a in arms if a.name == ARM and not a.extra.get("timed_out")), None)
    if ran is None:
        return []
    info = make(CODE, f"{said}; but stretched {factor:.3g}x it trains no better over the run's first {reach:.0f} "
                      f"steps twice over in {ran.steps} steps (held loss {ran.after:.4g} against the schedule's {baseline.after:.4g})",
                evidence={"stretch": factor, "spent_at": spent, "hurts": False}, severity="info")
    return [info]
