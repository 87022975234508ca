"""Does the run's augmentation keep the label? An experiment with and without it.

The doctor's other experiments train on un-augmented rows, so an augmentation that changes the
class (``hflip`` on left/right arrows or on digits, a rotation on 6 and 9, a crop that cuts the
object out, noise larger than the signal) is invisible to them. Here the setup trains *with* the
run's augmentation (``augment``, as fit builds it: ``data.augment.make_augment``, from the run's
seed stream, seed + ``AUGMENT_SEED_OFFSET``), next to a repeat on other batches and one arm per
transform trained without that transform (the rest of the list kept; a single transform: no
augmentation). Every copy is measured on the same held rows, un-augmented.

A healthy augmentation (a crop with padding, flips of natural textures, small noise) slows a
short run and regularizes only later, so "the arm trains better" is not enough: an arm hurts
only when it trains ``interventions.significant``-ly better at the arms' steps (by held accuracy,
or by held loss with the accuracy no worse: a setup that sees flipped classes varies by points of
accuracy between two runs) *and* is still ahead of the setup trained on to ``interventions.LONGER``
x the steps by accuracy (``interventions.ahead_at_end``; without class ids its held loss stays
ahead instead). Each
transform that hurts gets an ``augmentation_hurts`` warning naming it (``evidence["drop"]``),
repaired by dropping it from the run's augmentation (``set_augment``, a control: exact on resume);
a transform whose arm trains no better is not reported.

The transform's scale against the rows' (``added_variance``): each transform applied alone to
``SCALE_ROWS`` training rows adds variance (noise of std s on standardized features: s^2; a flip or
crop: none). Above ``ABOVE_SIGNAL`` (more noise than data) the trained-on test accepts the held loss
too (``ahead_trained_on``), and whether the setup closes in on the arm within the run is read on the
held loss (``interventions.trend`` without accuracies): such noise leaves a model that ranks the
classes but is unsure of them, whose held accuracy catches up within the sampling noise while its
held loss stays far behind.

At an lr where nothing trains the experiment cannot tell: the setup and its repeat stay flat
(``stalled``: each held loss fell less than ``interventions.STUCK`` in the arms' steps), whether an
arm without the augmentation moves a little or not. Noise of 25 grey levels on pixels in 0-1 and an
lr 10x too low both leave a CNN at chance, and the lr arms (which train without the augmentation) then find the lr alone. A pass
shorter than ``interventions.STEPS`` (the repairer's 20-step settings test) can stall at the run's
own lr too: a CNN on sight-glass levels falls 2-3 % of its held loss in 20 steps and leaves chance
after some 40, with accuracies of 32-75 % on near-uniform logits that tell nothing. So a stalled
short pass first trains the setup alone at the run's lr for ``raised_steps`` (``_learns_at``); where
it learns there, the stall was the steps', and the arms run again at the run's lr for those steps
(gone on from that same training). Otherwise a
stalled experiment runs again at ``RAISED_LR`` x the lr (the lr arms' first raise) for the
experiment's own ``interventions.STEPS`` (``raised_steps``: a caller's shorter pass, the repairer's
20-step settings test, stays flat at 10x the lr too where a CNN leaves chance after some 40
steps; at most the run's steps, at least the first pass's), where a transform adds more
variance than the rows have (``ABOVE_SIGNAL``, read before any training: a stall alone is no
reason to pay a second pass of 3 x 100 steps, more than a 190-step run's own), and where the setup
alone, with its augmentation, still stays flat at the raised lr (``_learns_at``: where it learns
there the stall was the lr's, and a 1-pixel crop with zero padding, above the signal on unnormalized
pixels, pays 100 steps instead of 300; where it stays flat, the raised pass goes on from that same
training, ``interventions.SharedSetup``, rather than train it again): a transform that hurts there is
reported with ``evidence["lr"]``, and where the setup *with* its augmentation at the raised lr (and
the longer steps) trains no better than at the run's own (``interventions.significant`` against the
first pass's repeat), raising the lr alone cannot help while the transform stays: the finding names
``lr_too_low`` in ``evidence["explains"]`` and ranks before it (``Diagnosis.ranked``).
"""
from __future__ import annotations

import dataclasses

import torch

from trainwell.babysit import interventions
from trainwell.babysit.findings import Finding, make
from trainwell.data.augment import make_augment
from trainwell.errors import ConfigError
from trainwell.train.loop import AUGMENT_SEED_OFFSET

CODE = "augmentation_hurts"
PART = "the augmentation check (augmentation_hurts)"
ABOVE_SIGNAL = 1.0    # a transform that adds more variance than the rows have (signal-to-noise below 1, 0 dB):
                      # the augmented rows are more noise than data (Noise's own default, 0.1 of a standardized
                      # feature, adds 0.01; a flip or crop moves values, it adds none)
SCALE_ROWS = 512      # the training rows the transform's added variance is measured on (interventions.EVAL_ROWS)
RAISED_LR = 10.0      # a stalled experiment's second pass: the lr x10 (interventions.experiment's first lr raise)
LR_CODE = "lr_too_low"
TESTED_ON = ("underfitting",)   # the monitor's codes whose repair tests the augmentation first (repair.py): a low
                                # training accuracy with no gap to validation, what too much regularization does


def cost(budget, *, augment, batch_size: int, total_steps: int, steps: int = interventions.STEPS,
         least: bool = False) -> float:
    """Nominal seconds of the experiment on ``budget``'s counted work (0 without an augmentation):
    the setup, its repeat and one arm per transform, ``steps`` steps each, and the setup and one arm
    trained on to ``interventions.LONGER`` x the steps within the run (where an arm trains better);
    ``least``: the setup, its repeat and the first transform's arm only, what a verdict needs. A
    setup still on a plateau then trains on in doublings (``interventions.experiment``), and a stalled
    experiment runs again at the raised lr (``check_augment``), each priced by the backstop when it
    comes, not here."""
    if budget is None or not augment:
        return 0.0
    if least:
        return budget.run_cost(3, steps, batch_size, eval_rows=interventions.EVAL_ROWS)
    on = 2 * max(0, min(total_steps, interventions.LONGER * steps) - steps)
    return budget.run_cost(2 + len(augment), steps, batch_size, eval_rows=interventions.EVAL_ROWS) + \
        budget.run_cost(1, on, batch_size, evals=2, eval_rows=interventions.EVAL_ROWS)


def added_variance(spec, X, *, seed: int = 0, rows: int = SCALE_ROWS) -> float | None:
    """What one transform adds to the rows' spread: the augmented rows' variance over the clean
    rows' (each input value's variance across ``rows`` training rows, summed over the values) minus
    1, the transform drawn from the run's augmentation stream (seed + ``AUGMENT_SEED_OFFSET``).
    Additive noise of std s on standardized features adds s^2 (5.0 adds 25); a flip, a crop or a
    rotation moves values and adds about none; cutout and mixing remove some (< 0). None when
    the rows have no spread or the transform does not apply to them (an image op on flat rows)."""
    x = X[:rows]
    x = x.float()
    try:
        out = make_augment([spec])(x, torch.Generator(device="cpu").manual_seed(seed + AUGMENT_SEED_OFFSET))
    except ConfigError:     # an op that needs images on flat rows: fit refuses it before this runs
        return None
    clean = float(x.var(0, unbiased=False).sum())
    if not clean > 0:
        return None
    return float(out.float().var(0, unbiased=False).sum()) / clean - 1.0


def ahead_trained_on(baseline, arm, *, by_loss: bool) -> bool:
    """``interventions.ahead_at_end`` (by held accuracy); with ``by_loss`` also by the held loss with
    the accuracy no worse (``interventions.significant(by_loss=True)`` on the trained-on arms): a
    transform measured above the signal leaves a model that ranks the classes but is unsure of
    them, so its held loss stays far behind while the accuracy gap closes within the noise."""
    if interventions.ahead_at_end(baseline, arm):
        return True
    a, b = arm.longer, baseline.longer
    if not by_loss or a is None or b is None or a.extra.get("timed_out") or b.extra.get("timed_out") \
            or a.steps != b.steps:
        return False
    return interventions.significant(b, a, None, by_loss=True)


def _loss_only(arm):
    """``arm`` (and its trained-on copy) without accuracies: ``interventions.trend`` then reads the
    held loss (as a ratio) instead of the accuracy."""
    if arm is None:
        return None
    return dataclasses.replace(arm, acc=None, mid_acc=None, longer=_loss_only(arm.longer))


def transform_name(spec) -> str:
    """An augment entry's name: ``"hflip"`` or ``{"name": "crop", ...}``."""
    return spec if isinstance(spec, str) else str(spec.get("name"))


def without(specs: list, i: int) -> list:
    """The augment list without its entry ``i``."""
    return [s for j, s in enumerate(specs) if j != i]


def stalled(baseline, ran) -> bool:
    """The setup and its repeat, with the run's augmentation, stayed flat: each held loss fell less
    than ``interventions.STUCK`` of its start in the arms' steps (an experiment that cannot tell: a
    run that has not left its start says nothing of where it ends, whatever an arm without the
    augmentation did; ``_hurting`` reads an arm that already trains significantly better). A 20-step
    pass of a CNN on grey-level classes under SimCLR's colour jitter: the setup's loss fell 4.8 %,
    the arm without the jitter 9.8 %, at 33 % and 35 % of the held rows right (the repeat 46 %)."""
    repeat = interventions.finished_repeat(ran)
    runs = [baseline] + ([repeat] if repeat is not None else [])
    return all(not a.fall >= interventions.STUCK for a in runs)


def raised_steps(steps: int, total_steps: int) -> int:
    """The raised pass's steps: ``interventions.STEPS``, at most the run's ``total_steps``, at least the
    first pass's ``steps``."""
    return max(steps, min(interventions.STEPS, total_steps or interventions.STEPS))


def _learns_at(model, X, y, loss_fn, specs, *, lr, steps, seed, total_steps, budget, shared=None, **run) -> bool:
    """The setup with the run's augmentation, alone, at ``lr`` for ``steps``: its held loss falls at
    least ``interventions.STUCK`` (a timed-out run counts as learning: no second pass). Its training
    is left in ``shared`` (``interventions.SharedSetup``) for ``_measure`` at the same lr and steps."""
    setup, _ = interventions.experiment(
        model, X, y, loss_fn, lr=lr, steps=steps, seed=seed, settings=False, repeat=False, budget=budget,
        run_steps=total_steps, augment=make_augment(specs), augment_seed=seed + AUGMENT_SEED_OFFSET, part=PART,
        setup=shared, **run)
    return bool(setup.extra.get("timed_out")) or setup.fall >= interventions.STUCK


def _measure(model, X, y, loss_fn, specs, *, lr, steps, seed, total_steps, budget, shared=None, **run):
    """One pass of the experiment at ``lr``: the setup with the run's augmentation, its repeat and one
    arm per transform without it; ``(baseline, ran, repeat)``, repeat None when it did not finish.
    ``shared``: the setup as ``_learns_at`` trained it, gone on from instead of trained again."""
    arms = []
    for i, spec in enumerate(specs):
        rest = without(specs, i)
        change = (f"the augmentation without {transform_name(spec)}" if rest else
                  f"no augmentation instead of {transform_name(spec)}")
        arms.append(interventions.Arm(f"without {transform_name(spec)}", CODE, change,
                                      extra={"augment": make_augment(rest) if rest else None, "drop": i,
                                             "kept": rest}))
    baseline, ran = interventions.experiment(
        model, X, y, loss_fn, lr=lr, steps=steps, seed=seed, settings=False,
        repeat=True, extra_arms=arms, budget=budget, run_steps=total_steps, augment=make_augment(specs),
        augment_seed=seed + AUGMENT_SEED_OFFSET, part=PART, setup=shared, **run)
    return baseline, ran, interventions.finished_repeat(ran)


def _hurting(baseline, ran, repeat, specs, added, *, total_steps) -> list:
    """``(gain, arm)`` for each transform whose arm trains ``significant``-ly better and is still ahead
    trained on, the setup not closing in within the run (the module docstring)."""
    out = []
    for arm in ran:
        if arm.code != CODE or arm.extra.get("timed_out"):
            continue
        noise = added[arm.extra["drop"]]
        above = noise is not None and noise > ABOVE_SIGNAL
        if not (interventions.significant(baseline, arm, repeat, by_loss=True)
                and ahead_trained_on(baseline, arm, by_loss=above)):
            continue
        # the setup closes in on the arm within the run: it slows the start, not the result (read on the
        # held loss for a transform above the signal, whose accuracy gap closes while its loss does not)
        b_, a_, r_ = (_loss_only(x) for x in (baseline, arm, repeat)) if above else (baseline, arm, repeat)
        if interventions.trend(b_, a_, r_, run_steps=total_steps)["recovering"] or \
                interventions.trend_trained_on(b_, a_, r_, run_steps=total_steps)["recovering"]:
            continue
        out.append((interventions.gain(baseline, arm), arm))
    return out


def check_augment(model, X, y, loss_fn, *, augment, total_steps: int, optimizer, lr: float,
                  weight_decay: float = 0.0, options: dict | None = None, batch_size: int = 64, seed: int = 0,
                  clip_norm: float | None = None, config=None, steps: int = interventions.STEPS,
                  budget=None, **_ignored) -> list[Finding]:
    """``[]`` without an augmentation (``augment``: the run's list of specs) or when no transform
    hurts; else one ``augmentation_hurts`` warning per transform whose arm without it is
    ``interventions.significant``-ly better at the arms' steps (``by_loss``) and still ahead trained on
    (``ahead_at_end``), strongest first. A stalled experiment runs again at ``RAISED_LR`` x the lr
    (the module docstring). The model is not modified."""
    if not augment or (budget is not None and not budget.fits_wall(
            cost(budget, augment=augment, batch_size=batch_size, total_steps=total_steps, steps=steps, least=True),
            PART)):
        return []
    specs = list(augment)
    added = [added_variance(spec, X, seed=seed) for spec in specs]
    run = {"optimizer": optimizer, "weight_decay": weight_decay, "options": options, "batch_size": batch_size,
           "clip_norm": clip_norm, "config": config}
    baseline, ran, repeat = _measure(model, X, y, loss_fn, specs, lr=lr, steps=steps, seed=seed,
                                     total_steps=total_steps, budget=budget, **run)
    if repeat is None or baseline.extra.get("timed_out"):
        return []
    hurting, at_lr, explains = _hurting(baseline, ran, repeat, specs, added, total_steps=total_steps), lr, ()
    # a stall is no reason to pay a second pass unless a transform's scale already reads as more noise than data
    if not hurting and stalled(baseline, ran) and any(v is not None and v > ABOVE_SIGNAL for v in added) and (
            budget is None or budget.fits_wall(
            cost(budget, augment=augment, batch_size=batch_size, total_steps=total_steps,
                 steps=raised_steps(steps, total_steps), least=True), PART)):
        longer, own, shared = raised_steps(steps, total_steps), interventions.SharedSetup(), interventions.SharedSetup()
        # a pass shorter than the experiment's own steps: the setup alone at the run's lr for those steps first;
        # where it learns there, the stall was the steps' (a CNN leaves chance after some 40), not the lr's
        if longer > steps and _learns_at(model, X, y, loss_fn, specs, lr=lr, steps=longer, seed=seed,
                                         total_steps=total_steps, budget=budget, shared=own, **run):
            again, ran_o, repeat_o = _measure(model, X, y, loss_fn, specs, lr=lr, steps=longer, seed=seed,
                                              total_steps=total_steps, budget=budget, shared=own, **run)
            if repeat_o is not None and not again.extra.get("timed_out"):
                hurting = _hurting(again, ran_o, repeat_o, specs, added, total_steps=total_steps)
                baseline, repeat = again, repeat_o
        # the setup alone first: where it learns at the raised lr with its augmentation, the stall was the lr's
        # (where it does not, the raised pass goes on from that training: the same setup, step for step)
        elif not _learns_at(model, X, y, loss_fn, specs, lr=RAISED_LR * lr, steps=longer, seed=seed,
                            total_steps=total_steps, budget=budget, shared=shared, **run):
            raised, ran_r, repeat_r = _measure(model, X, y, loss_fn, specs, lr=RAISED_LR * lr, steps=longer,
                                               seed=seed, total_steps=total_steps, budget=budget, shared=shared,
                                               **run)
            if repeat_r is not None and not raised.extra.get("timed_out"):
                hurting = _hurting(raised, ran_r, repeat_r, specs, added, total_steps=total_steps)
                # the lr raised with the augmentation kept trains no better than the run's own: the raise alone
                # cannot help while the transform stays
                if hurting and not interventions.significant(baseline, raised, repeat, by_loss=True):
                    explains = (LR_CODE,)
                baseline, repeat, at_lr = raised, repeat_r, RAISED_LR * lr
    out = []
    for g, arm in hurting:
        a, b = arm.longer, baseline.longer
        noise = added[arm.extra["drop"]]
        name = transform_name(specs[arm.extra["drop"]])
        acc = (f" ({100 * arm.acc:.1f}% against {100 * baseline.acc:.1f}% of the held rows right)"
               if None not in (arm.acc, baseline.acc) else "")
        later = (f" ({100 * a.acc:.1f}% against {100 * b.acc:.1f}%)" if None not in (a.acc, b.acc) else "")
        message = (f"the augmentation {name} costs the held (un-augmented) rows: with {arm.change} the held loss ends "
                   f"at {arm.after:.4g} after {arm.steps} steps, with it at {baseline.after:.4g}{acc} (a repeat on "
                   f"other batches: {repeat.after:.4g}); trained on to step {a.steps} still {a.after:.4g} against "
                   f"{b.after:.4g}{later}: it changes what the rows' labels mean (a flip of left/right, a rotation "
                   f"of 6/9, a crop that cuts the object out, noise above the signal)")
        if at_lr != lr:
            message += (f"; measured at lr {at_lr:.3g} ({RAISED_LR:g}x the run's {lr:.3g}, where nothing trained "
                        f"either way)")
        if explains:
            message += "; the raised lr with the augmentation kept trains no better than the run's own lr"
        if noise is not None and noise > ABOVE_SIGNAL:
            message += (f"; it adds {noise:.3g}x the rows' own variance (signal-to-noise {1 / noise:.2g}): "
                        f"the augmented rows are more noise than data")
        evidence = {"intervention": arm.name, "transform": name, "drop": arm.extra["drop"], "augment": specs,
                    "kept": arm.extra["kept"], "setup_loss": baseline.after, "fix_loss": arm.after,
                    "repeat_loss": repeat.after, "setup_acc": baseline.acc, "fix_acc": arm.acc, "steps": arm.steps,
                    "added_variance": noise, "lr": at_lr,
                    "longer": {"steps": a.steps, "setup_loss": b.after, "fix_loss": a.after, "setup_acc": b.acc,
                               "fix_acc": a.acc}}
        if explains:
            evidence["explains"] = list(explains)
        out.append((g, make(CODE, message, evidence=evidence, fix=f"drop {name} from augment")))
    return [f for _, f in sorted(out, key=lambda pair: -pair[0])]
