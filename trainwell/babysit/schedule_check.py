"""Does the lr schedule leave the run time to learn? An experiment, not a threshold alone.

The configured schedule is evaluated over the run's planned steps without training
(``optim.schedules.spent_at``: the fraction of the run by which it has given 99% of all the lr it
gives): 1.0 for a constant lr, 0.82 for a cosine to 0, 0.85 for one-cycle, 0.81 for an exponential
decay of 0.95 per epoch over 100 epochs, 0.65 for a staircase dividing by 10 at 1/3 and 2/3 of
the run; 0.05 for a staircase dividing by 10 every epoch of a 40-epoch run. A schedule that has
given 99% of its lr by ``EARLY`` of the run, or whose lr falls to ``FALLEN`` = 1% of its peak by
then (``optim.schedules.fallen_at``: milestones meant as epochs stepped per batch leave a long tail
at 1% that still adds up to a share of the lr sum), is a candidate, and an experiment grades it
(``interventions.experiment``): the setup trains the experiment's steps with the run's own lr
course over the steps in which the schedule gives 99% of its lr, twice over (compressed only when
those are more than half the experiment's steps: ``course``),
next to a repeat on other batches and the same schedule *stretched* (``optim.schedules.stretch``)
so that it gives 99% of its lr by ``STRETCH_TO`` of the run. When the stretched schedule trains
``helpful``-ly better, a ``schedule_decays_early`` warning names the schedule and the stretch,
which the repair (``stretch_schedule``) applies from the start; otherwise an ``info`` finding
says the schedule decays early but the stretch trains no better. A plateau schedule (its cuts
follow the metric) and a constant lr are never candidates.

The mirror, **a schedule that starts late** (``schedule_starts_late``): a warmup longer than the
run (``warmup_steps = 5000`` of an 855-step run: the lr ends at 17% of its value) keeps the lr far
below the configured one for most of the run. ``optim.schedules.reached_at`` finds where the
multiplier first reaches ``HALF`` of the configured lr: 0 for a constant lr or a cosine, 0.025 for
a 5% warmup, about 0.15 for one-cycle; a schedule that reaches it only after ``LATE`` of the run
(or never) and has a warmup to change (``with_warmup``) is a candidate. The experiment trains the
run's whole lr course compressed into the experiment's steps (run step i x total / n) next to a
repeat and the same schedule with its warmup cut to ``WARMUP_SHARE`` of the run (the schedule fit
to the run); when the fitted schedule trains ``interventions.significant``-ly better (held
accuracy, or held loss with the accuracy no worse) a warning names the numbers, which the repair
(``set_warmup``, a control: exact on resume) applies from the start; otherwise ``info``.
"""
from __future__ import annotations

from trainwell.babysit import interventions
from trainwell.babysit.findings import Finding, make
from trainwell.optim.schedules import fallen_at, make_schedule, reached_at, spent_at, stretch

CODE = "schedule_decays_early"
SPENT_SHARE = 0.99    # spent_at's share: the schedule has given 99% of its lr by then (what is left moves nothing)
EARLY = 0.5           # a candidate: 99% given within the run's first half, so its second half trains at < 1% of
                      # the lr sum (every standard schedule gives it by >= 0.65 of the run: the module docstring)
STRETCH_TO = 2 / 3    # the stretch: 99% given by 2/3 of the run, where a staircase dividing by 10 at 1/3 and 2/3
                      # of the run gives it (notes 003: "divide it by a factor (e.g. 5 or 10) every L epochs");
                      # the cosine (0.82), one-cycle (0.85) and exponential (0.81) give it later still
FALLEN = 0.01         # ... or a schedule whose lr falls to 1% of its peak within the run's first half
                      # (optim.schedules.fallen_at): a long tail at 1% still adds up to a share of the lr sum
                      # (MultiStepLR milestones meant as epochs, stepped per batch); the staircase at 1/3 and 2/3
                      # reaches 1% at 2/3, a cosine at 0.94
DEAD_SHARE = 0.5      # a schedule at <= FALLEN x the configured lr on more than half the run's steps trains at ~0
                      # for most of it (a staircase at 1/3 and 2/3 reaches 1% only for the last third, a cosine for
                      # its last 6%, a warmup for its first steps); when even the stretch leaves it so (a
                      # multiplier that is 0 at all steps but one: ``//`` for ``/``), no stretch can revive it
ARM = "stretched schedule"
REPLACE_ARM = "a linear decay over the run"
REPLACEMENT = {"name": "linear", "final": FALLEN}   # a schedule no stretch revives is replaced by the decay notes 000
                      # gives "in practice": the configured lr decayed linearly to "roughly 1% of eps_0" at the run's
                      # end (the ``linear`` option with its defaults); it trains at the configured lr where the
                      # user's schedule (a warmup then a decay written with ``//``) meant to, and anneals as it meant to
POINTS = 1000        # dead_share reads the schedule at most 1000 evenly spaced steps
HORIZON = interventions.LONGER   # the decay experiment trains on to 3x its steps and no further: past the
                                 # course's span (the run's first ``reach`` steps twice over) the setup trains
                                 # at its tail lr, and a plateau's doublings would run the user's whole schedule
                                 # (570 steps of set 6's 15 epochs at 1% of the lr) for a verdict the 3x steps give
DECAY_PART = "the schedule check (schedule_decays_early)"
START_PART = "the schedule check (schedule_starts_late)"


def cost(budget, *, schedule, total_steps: int, batch_size: int, steps: int = interventions.STEPS) -> float:
    """Nominal seconds of the schedule's experiments on ``budget``'s counted work (0 when the
    schedule is no candidate): the setup, its repeat and the changed schedule, ``steps`` steps each,
    and for the decay the setup and the stretch trained on to ``HORIZON`` x the steps."""
    if budget is None:
        return 0.0
    runs = 0.0
    if candidate(schedule, total_steps) is not None:
        runs += 3 + 2 * (min(total_steps, HORIZON * steps) - steps) / steps
    if start_candidate(schedule, total_steps) is not None:
        runs += 3
    return budget.run_cost(1, round(runs * steps), batch_size, evals=0) if runs else 0.0


def course(schedule, reach: float):
    """``(i, n) -> multiplier``: the schedule at the run's own steps, compressed only as far as it
    takes the experiment's n steps to cover ``reach`` run steps (where the configured schedule has
    given 99% of its lr) twice: step i is run step i x max(1, 2 x reach / n). A fast decay is seen
    at the lrs the run trains with; a slower one, compressed, within the experiment's steps."""
    return lambda i, n: float(schedule(int(i * max(1.0, 2 * reach / max(n, 1)))))


def candidate(schedule, total: int) -> float | None:
    """The earlier of the schedule's ``spent_at`` and ``fallen_at`` when it is a candidate (< ``EARLY``),
    else None (also without a schedule, or one with state: a plateau schedule's cuts follow the metric)."""
    if schedule is None or hasattr(schedule, "observe") or not total:
        return None
    spent = min(spent_at(schedule, total, share=SPENT_SHARE), fallen_at(schedule, total, level=FALLEN))
    return spent if spent < EARLY else None


def dead_share(schedule, total: int) -> float:
    """The share of a ``total``-step run's steps at which the schedule's multiplier is at most ``FALLEN``
    (1% of the configured lr: the run trains at ~0 there), read at most ``POINTS`` evenly spaced steps;
    0.0 where the schedule cannot be read."""
    stride = max(1, -(-total // POINTS))
    steps = range(0, total, stride)
    try:
        return sum(float(schedule(t)) <= FALLEN for t in steps) / max(len(steps), 1)
    except Exception:                   # a user's schedule that fails here fails in the run
        return 0.0


def check_schedule(model, X, y, loss_fn, *, schedule, total_steps: int, confirm: bool = False,
                   **experiment) -> list[Finding]:
    """The schedule's findings: ``schedule_decays_early`` (``check_decay``) and
    ``schedule_starts_late`` (``check_start``), each ``[]`` when the schedule is no candidate. The
    keyword arguments are ``interventions.experiment``'s (the optimizer, lr, batch size, ...);
    ``confirm`` is ``check_decay``'s."""
    return (check_decay(model, X, y, loss_fn, schedule=schedule, total_steps=total_steps, confirm=confirm,
                        **experiment)
            + check_start(model, X, y, loss_fn, schedule=schedule, total_steps=total_steps, **experiment))


def check_decay(model, X, y, loss_fn, *, schedule, total_steps: int, optimizer, lr: float,
                weight_decay: float = 0.0, options: dict | None = None, batch_size: int = 64, seed: int = 0,
                clip_norm: float | None = None, config=None, steps: int = interventions.STEPS,
                budget=None, confirm: bool = False) -> list[Finding]:
    """``[]`` when the schedule is no candidate; else one ``schedule_decays_early`` finding: a
    warning with ``evidence["stretch"]`` (the factor) when the stretched schedule trains
    ``interventions.helpful``-ly better than the configured one over the experiment's steps, ``info``
    when it does not. The experiment's arguments are ``interventions.experiment``'s (``config``:
    every arm trains with the run's regularizers; ``confirm``: its ``confirm``, for a caller
    whose steps are few); the model is not modified."""
    spent = candidate(schedule, total_steps)
    if spent is None or (budget is not None and not budget.fits_wall(budget.run_cost(
            3, steps, batch_size, eval_rows=interventions.EVAL_ROWS), DECAY_PART)):
        return []
    factor = STRETCH_TO / max(spent, 1 / total_steps)
    stretched = stretch(schedule, factor=factor)
    reach = spent * total_steps
    said = (f"the lr schedule gives {100 * SPENT_SHARE:.0f}% of its lr by {100 * spent:.0f}% of the run's "
            f"{total_steps} steps" if spent_at(schedule, total_steps, share=SPENT_SHARE) <= spent else
            f"the lr schedule falls to {100 * FALLEN:g}% of its peak by {100 * spent:.0f}% of the run's "
            f"{total_steps} steps")
    dead = dead_share(schedule, total_steps)
    if dead > DEAD_SHARE and dead_share(stretched, total_steps) > DEAD_SHARE:
        # no stretch revives a multiplier at ~0 on most steps: the arm is the schedule that replaces it
        # (REPLACEMENT) at the same run steps as the setup's course; the repair replaces it so
        # (``replace_schedule``, a control: exact on resume)
        said += f"; its lr is at most {100 * FALLEN:g}% of the configured lr {lr:.3g} on {100 * dead:.0f}% of the steps"
        replacement = make_schedule(REPLACEMENT["name"], total_steps=total_steps, steps_per_epoch=1,
                                    **{k: v for k, v in REPLACEMENT.items() if k != "name"})
        arm = interventions.Arm(REPLACE_ARM, CODE, f"the configured lr {lr:.3g} decayed linearly to "
                                                   f"{100 * FALLEN:g}% of it over the run (notes 000)",
                                extra={"course": course(replacement, reach), "replace": dict(REPLACEMENT),
                                       "spent_at": spent, "dead_share": dead, "held_accuracy": True,
                                       "fix": "check the schedule's multiplier at a few steps (an integer division "
                                              "`//` or an int() rounds a fraction to 0); it should rise to 1 and "
                                              "decay over the run, not sit at 0"})
    else:
        arm = interventions.Arm(ARM, CODE, f"the schedule stretched {factor:.3g}x (its {100 * SPENT_SHARE:.0f}% by "
                                           f"{100 * STRETCH_TO:.0f}% of the run)",
                                extra={"course": course(stretched, reach), "stretch": factor, "spent_at": spent,
                                       "held_accuracy": True})
    baseline, arms = interventions.experiment(
        model, X, y, loss_fn, optimizer=optimizer, lr=lr, weight_decay=weight_decay, options=options,
        batch_size=batch_size, steps=steps, seed=seed, settings=False, repeat=True, clip_norm=clip_norm,
        config=config, course=course(schedule, reach), extra_arms=[arm], budget=budget, part=DECAY_PART,
        run_steps=min(total_steps, HORIZON * steps), confirm=confirm)
    found = interventions.findings(baseline, arms, run_steps=total_steps)
    for f in found:
        f.message = f"{said}; over the run's first {reach:.0f} steps twice over in {f.evidence['steps']} steps, {f.message}"
        return [f]
    ran = next((a for a in arms if a.name == arm.name and not a.extra.get("timed_out")), None)
    if ran is None:
        return []
    info = make(CODE, f"{said}; but with {ran.change} it trains no better over the run's first {reach:.0f} "
                      f"steps twice over in {ran.steps} steps (held loss {ran.after:.4g} against the schedule's {baseline.after:.4g})",
                evidence={**({} if ran.name == REPLACE_ARM else {"stretch": factor}), "spent_at": spent,
                          "hurts": False}, severity="info")
    return [info]


# --- a schedule that starts late: the lr far below its value for most of the run ----------------------
LATE_CODE = "schedule_starts_late"
HALF = 0.5            # the level: half the configured lr (reached_at)
LATE = 0.5            # a candidate: the lr reaches half its value only after half the run, or never (every
                      # standard schedule reaches it by 0.25 of the run: a 50% warmup's midpoint; one-cycle 0.15)
WARMUP_SHARE = 0.05   # the schedule fit to the run: its warmup cut to 5% of the run (Goyal et al. 2017, "Accurate,
                      # Large Minibatch SGD": 5 warmup epochs of 90; the usual "warmup 5% + cosine")
FIT_ARM = "warmup fitted to the run"


def whole_run(schedule, total: int):
    """``(i, n) -> multiplier``: the schedule over the whole ``total``-step run compressed into the
    experiment's n steps (run step i x total / n; the last run step's value past the end)."""
    return lambda i, n: float(schedule(min(total - 1, int(i * total / max(n, 1)))))


def start_candidate(schedule, total: int) -> float | None:
    """``reached_at(schedule, total, level=HALF)`` when it is later than ``LATE`` (inf: never) and the
    schedule has a warmup to change (``with_warmup``), else None."""
    if schedule is None or not total or getattr(schedule, "with_warmup", None) is None:
        return None
    at = reached_at(schedule, total, level=HALF)
    return at if at > LATE else None


def fitted_warmup(total: int) -> int:
    """The warmup steps of the schedule fit to a ``total``-step run: ``WARMUP_SHARE`` of it, at least 1."""
    return max(1, round(WARMUP_SHARE * total))


def check_start(model, X, y, loss_fn, *, schedule, total_steps: int, optimizer, lr: float,
                weight_decay: float = 0.0, options: dict | None = None, batch_size: int = 64, seed: int = 0,
                clip_norm: float | None = None, config=None, steps: int = interventions.STEPS,
                budget=None) -> list[Finding]:
    """``[]`` when the schedule is no candidate (``start_candidate``) or its fitted warmup reaches
    half the lr no sooner; else one ``schedule_starts_late`` finding with ``evidence["warmup_steps"]``
    (the fitted warmup), a warning when the fitted schedule trains ``interventions.significant``-ly
    better than the run's own over the whole run's course compressed into the experiment's steps
    (by held accuracy, or by held loss with the accuracy no worse), else ``info``. The model is not
    modified."""
    at = start_candidate(schedule, total_steps)
    if at is None or (budget is not None and not budget.fits_wall(budget.run_cost(
            3, steps, batch_size, eval_rows=interventions.EVAL_ROWS), START_PART)):
        return []
    warm = fitted_warmup(total_steps)
    fitted = schedule.with_warmup(warm)
    if reached_at(fitted, total_steps, level=HALF) > LATE:
        return []                       # the slow start is not the warmup's: nothing to fit
    top = max(float(schedule(t)) for t in range(0, total_steps, max(1, total_steps // 1000)))
    said = (f"the lr schedule keeps the lr below {100 * HALF:.0f}% of {lr:.3g} "
            + ("for the whole run" if at == float("inf") else f"until {100 * at:.0f}% of the run")
            + f" of {total_steps} steps (it reaches {100 * top:.0f}% of it at most)")
    arm = interventions.Arm(FIT_ARM, LATE_CODE, f"a warmup of {warm} steps ({100 * WARMUP_SHARE:.0f}% of the run)",
                            extra={"course": whole_run(fitted, total_steps), "warmup_steps": warm})
    baseline, arms = interventions.experiment(
        model, X, y, loss_fn, optimizer=optimizer, lr=lr, weight_decay=weight_decay, options=options,
        batch_size=batch_size, steps=steps, seed=seed, settings=False, repeat=True, clip_norm=clip_norm,
        config=config, course=whole_run(schedule, total_steps), extra_arms=[arm], budget=budget, part=START_PART)
    repeat = interventions.finished_repeat(arms)
    ran = next((a for a in arms if a.name == FIT_ARM and not a.extra.get("timed_out")), None)
    if ran is None or repeat is None or baseline.extra.get("timed_out"):
        return []
    hurts = interventions.significant(baseline, ran, repeat, by_loss=True)
    numbers = (f"over the run's course in {ran.steps} steps, with {ran.change} the held loss ends at {ran.after:.4g}, "
               f"with the run's own schedule at {baseline.after:.4g} (a repeat on other batches: {repeat.after:.4g})"
               + (f"; {100 * ran.acc:.1f}% against {100 * baseline.acc:.1f}% of the held rows right"
                  if None not in (ran.acc, baseline.acc) else ""))
    evidence = {"reached_at": at, "peak": top, "warmup_steps": warm, "hurts": hurts, "intervention": FIT_ARM,
                "setup_loss": baseline.after, "fix_loss": ran.after, "repeat_loss": repeat.after, "steps": ran.steps}
    if hurts:
        return [make(LATE_CODE, f"{said}; {numbers}", evidence=evidence, fix=f"warmup_steps = {warm} or fewer")]
    return [make(LATE_CODE, f"{said}; but the fitted warmup trains no better: {numbers}", evidence=evidence,
                 severity="info")]
