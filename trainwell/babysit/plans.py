"""Repair planners: from a finding and its measured evidence to a ``Plan`` (actions.py).

Each planner is ``planner(finding, ctx) -> Plan | str``: the change that addresses the finding's
cause, or why it cannot be repaired. The registry (``registry.CODES[code].plan``) names each
code's planner. ``ctx`` (``repair.RepairContext``) is what a planner may read about the run:

* ``ctx.controls`` — the run's controls (``model``, ``optimizer``, ``config``, ``clip_norm``,
  ``optimizer_overrides``, ``preprocess``);
* ``ctx.lr`` — the current lr; ``ctx.weight_decay`` — the weight decay in force;
* measurements over the monitor's samples: ``loss_falling()``, ``median_update_ratio()``,
  ``healthy_grad_norm()``, ``peak_lr()``;
* this run's repairs so far: ``attempts`` (of this code), ``reinit_attempts`` (of the codes
  repaired by re-initialization), ``diverged_before`` (a code of the ``DIVERGED`` group was
  repaired), ``before_training``.

Before the first step the repairer does not roll back, whatever a plan says: there is nothing
to return to.
"""
from __future__ import annotations

import math

import torch

from trainwell.babysit.actions import (OUTPUT_ACTIVATIONS, Plan, Rollback, activation_families, dropout_rates,
                                       make_plan, spec_name, weight_scale)
from trainwell.babysit.ratios import EXTREME_RATIO, HEALTHY_RATIO, RATIO_HIGH, RATIO_LOW, SLOW_RATIO, STRONG_DECAY

LR_STEP = 10.0              # a decade: notes 001 ("reduced by 10 manually"), notes 004's lr search by decades
OSCILLATION_STEP = 3.0      # rules.oscillating_loss's fix: lower about 3x
REGRESSED = 0.05            # a plateau 5 % above the loss an earlier good epoch ended at is a regression, not a
                            # stall (rules.plateau's own 3-epoch window moves its epoch means by under 1 %, FLAT)
TARGET_RATIO = 1e-2         # lower a too-high update ratio to a third of the rule's 3e-2 threshold
MAX_FACTOR = 100.0          # no single repair lowers the lr by more than two decades
MIN_CUT = 2.0               # a too-high update ratio halves the lr at least
MIN_RAISE = 3.0             # raising the lr for tiny updates triples it at least
RESTART_SHARE = 0.25        # a raise within the first quarter of the run rolls back to the start: the steps at
                            # the slow lr were wasted, and a short run's score depends on its steps at the right
                            # lr (a regression net raised at step 56 of 352 ended 6 R^2 points behind the same
                            # raise at step 1); replaying <= 1/4 of the run keeps the cost under issue 11's 1.5x
MAX_RAISE = 1e5             # raising is bounded by the measured update ratio, not by a cap of 100:
                            # lr = 1e-6 gives ratios near 1e-8, five decades below the target
DIVERGED_CLIP = 5.0         # a diverged run clips at 5x the healthy gradient norm of its first samples
EXPLODED_CLIP = 2.0         # exploding gradients clip at 2x the healthy norm (Pascanu et al. 2013)
UNMEASURED_GRAD_NORM = 0.2  # no healthy norm measured: 5 x 0.2 = clip_norm 1.0 (notes 001)
UNMEASURED_CLIP = 1.0       # exploding gradients with no healthy norm: clip_norm 1.0
USUAL_WEIGHT_DECAY = 5e-4   # notes 001: AlexNet's "L2 weight decay 5e-4" (also trainwell's default)
DECAY_CUT = 100.0           # weight decay lowered 100x when lr x weight_decay collapses the weights
DROPOUT = 0.2               # dropout p raised to this for overfitting: a mild drop rate (Srivastava et al.
                            # 2014 drop 0.2 of the inputs, 0.5 of hidden units)
HIDDEN_DROPOUT = 0.5        # Srivastava et al. 2014 / notes 004: p = 0.5 for hidden units, the usual maximum
SHRINK_SCALE = 0.1          # an over-confident output layer's weights x0.1 (notes 004: small logits at init)
OVERSCALED = 3.0            # weights whose median std is > 3x He's sqrt(2/fan_in) (the largest standard init,
                            # actions.weight_scale) were not set by any init scheme: re-initialize rather than
                            # shrink the output layer (the hidden layers' scale stays wrong after a shrink)


def not_repairable(f, ctx) -> str:
    return f"{f.code} is not repairable automatically: {f.fix or f.message}"


def plan_model_raises(f, ctx):
    """model_raises: the user's forward or backward raises. Repairable only where it raises on each
    epoch's last, incomplete batch alone (model_checks.check_last_batch: ``evidence["last_batch_rows"]``,
    and the same step on a full batch runs, ``["full_batch_runs"]``): a forward written for full batches
    (batch norm in training mode needs more than one value per channel, pytorch/pytorch#4534; ``squeeze()``
    drops a one-row batch's axis), whose fix in the loader is to drop that batch (``drop_last``, fastai#1352;
    at most ``batch_size - 1`` rows an epoch, a different subset each shuffled epoch). Planned before the
    first step: the run would raise at the end of its first epoch. Any other raise is the user's code to
    fix (``not_repairable``); so is one on a loader ``fit`` did not build (``Controls.batch_size_fixed``)."""
    if not (f.evidence.get("last_batch_rows") and f.evidence.get("full_batch_runs")):
        return not_repairable(f, ctx)
    fixed = ctx.controls.batch_size_fixed()
    if fixed is not None:
        return f"{not_repairable(f, ctx)} ({fixed})"
    return make_plan("drop_last_batch", f"{f.message}: full batches of {f.evidence['batch_size']} rows run; drop "
                                        f"each epoch's last {f.evidence['last_batch_rows']} row(s) (drop_last = true)")


def _lower_lr(factor, reason, *, rollback=None, clip=None) -> Plan:
    return make_plan("lower_lr", reason, rollback=rollback, factor=factor, clip_norm=clip)


def _flagged(plan: Plan, flag: str, reason: str | None = None) -> Plan:
    """``plan`` with ``options[flag] = True`` (and ``reason`` in place of its own, when given) for the
    repairer (repair.py): ``"confirm"``, taken only where a paired trial from the current weights
    trains better with it (sizing.cut_helps, and a raise's own trial); ``"size"``, the cut's factor
    chosen by a trial from the state it returns to (sizing.sized_cut)."""
    return Plan(plan.action, {**plan.options, flag: True}, plan.rollback, plan.reason if reason is None else reason)


def small_updates(ctx) -> float | None:
    """The median update ratio of the recent samples when it is below the healthy HEALTHY_RATIO
    (1e-3, notes 001), else None: a loss that rises or jumps while every step moves the weights
    less than a healthy step does is not made worse by the lr's size, and a cut cannot be what it
    needs (a regression net with batch norm and dropout at lr x1e-3, updates 1.5e-4, read its
    minibatch noise as a rising loss, and two cuts left it at R^2 < 0)."""
    ratio = ctx.median_update_ratio()
    return ratio if ratio is not None and ratio < HEALTHY_RATIO else None


def trial_raise(f, ctx, ratio, *, below: float = HEALTHY_RATIO, even_falling: bool = False) -> Plan | None:
    """A loss that rises, jumps or stays high while every step moves the weights less than a
    healthy step does (``ratio`` < HEALTHY_RATIO, notes 001) and the sampled loss is not falling:
    the run is not learning, and what moves the loss is the minibatch noise (small batches,
    dropout, a regression loss), not the lr. A raise sized (and rolled back) as lr_too_low's,
    that the repairer takes only when a paired trial from the current weights trains better with
    it than at the current lr (``confirm``; sizing.py): a slow lr is shown, not assumed from a
    threshold (a regression net at lr x1e-3 read its noise as a rising loss at step 56, with
    updates of 1.5e-4, and its stall only at step 308 of 352: raised that late it ended 4.6 R^2
    points short). None when the loss is falling (unless ``even_falling``) or the ratio is not
    below ``below``."""
    if ratio is None or ratio >= below or (ctx.loss_falling() and not even_falling):
        return None
    if strong_weight_decay(ctx):            # a strong weight decay holds the weights: lower it instead
        return less_regularization(ctx, "the loss barely moves")
    plan = raise_plan(f, ctx)
    falling = "a loss that falls too slowly" if even_falling else "a loss that is not falling"
    return _flagged(plan, "confirm", f"{f.code} with updates of {ratio:.2g} of the weights and {falling}: the lr "
                                     f"may be too low; " + plan.reason)


NOISE_DOMINATES = 1.0       # the run's gradient noise at least as long as the gradient itself (expected norms): the
                            # step's direction is more noise than gradient (first principles: the update is
                            # lr x (g + noise), and the noise's norm is sigma_t sqrt(n) whatever g is)
NOISE_SAMPLES = 8           # the first monitor samples the gradient's own norm is estimated from: their median (each
                            # sample's norm carries one draw of the noise)


def gradient_noise(f, ctx) -> float | None:
    """The ratio of the run's gradient noise's expected norm at the finding's step to the gradient's
    own norm, when it is at least ``NOISE_DOMINATES``, else None. The noise (``grad_noise``,
    Neelakantan et al. 2015) adds N(0, sigma_t^2) to every entry, sigma_t^2 = eta / (1 + t)^gamma: its
    squared norm is n sigma_t^2 over n trainable entries, an absolute size set by eta, not by the
    gradients it is added to, and largest at the run's first steps. The monitor reads the gradients
    after the noise, and independent noise adds its expected squared norm: the gradient's own is
    ||g + noise||^2 - n sigma_t^2 at each of the first ``NOISE_SAMPLES`` samples (their median)."""
    config = ctx.controls.config
    eta = getattr(config, "grad_noise", 0.0) or 0.0
    if eta <= 0:
        return None
    gamma = config.grad_noise_gamma
    entries = sum(p.numel() for p in ctx.controls.model.parameters() if p.requires_grad)
    own = [sum(v * v for v in s["grad_norm"].values()) - entries * eta / (1.0 + s["step"]) ** gamma
           for s in ctx.samples[:NOISE_SAMPLES] if s.get("grad_norm")]
    own = [v for v in own if math.isfinite(v)]
    if not own:
        return None
    step = f.evidence.get("step") or 0
    noise = math.sqrt(entries * eta / (1.0 + step) ** gamma)
    gradient = math.sqrt(max(sorted(own)[len(own) // 2], 0.0))
    ratio = noise / gradient if gradient > 0 else math.inf
    return ratio if ratio >= NOISE_DOMINATES else None


def plan_diverged(f, ctx):
    """nonfinite_loss / loss_exploding / lr_too_high: the updates are too large (notes 004)."""
    if f.evidence.get("batch_finite") is False:
        return "the batch itself holds NaN/inf: drop or impute those rows (the lr is not the cause)"
    if "loss_at_targets" in f.evidence:
        return "the loss itself is NaN at the targets (output_range.check_loss_at_targets): the lr is not the cause"
    if f.evidence.get("overflows"):
        return "the loss overflows on the untrained outputs (loss_checks.check_initial_loss): the lr is not the cause"
    noise = gradient_noise(f, ctx) if not ctx.diverged_before else None
    if noise is not None:
        # the configured noise is a cause of large steps that the lr does not own: an lr cut shrinks it
        # with the gradient's part of every step for the rest of the run (a digits MLP with grad_noise 0.3
        # exploded at step 17, and the cut left it 17 points below the unrepaired run). Off, back to the
        # last healthy state; a divergence after that is the lr's (``diverged_before``)
        eta = ctx.controls.config.grad_noise
        return make_plan("set_regularization", f"{f.code} while the run's gradient noise (grad_noise = {eta:g}) is "
                                               f"{noise:.3g}x the gradient's own norm: turn it off",
                         rollback=Rollback.LAST, values={"grad_noise": 0.0})
    # a rising finite loss (a non-finite or exploded one is cut regardless)
    tiny = small_updates(ctx) if f.evidence.get("first_third") is not None else None
    if tiny is not None:
        return (trial_raise(f, ctx, tiny) or
                f"the loss rises, but the updates are {tiny:.2g} of the weights (healthy ~1e-3): the lr is not too high")
    clip = None
    if ctx.attempts >= 1 or f.code == "nonfinite_loss":
        clip = ctx.controls.clip_norm or DIVERGED_CLIP * (ctx.healthy_grad_norm() or UNMEASURED_GRAD_NORM)
    clipped = f" and clip the gradient norm at {clip:.3g}" if clip else ""
    plan = _lower_lr(LR_STEP, f"{f.code}: lower the lr {LR_STEP:g}x (notes 004: 'loss exploding / NaN: "
                              f"learning rate too high')" + clipped, clip=clip)
    if ctx.attempts >= 1 or ctx.diverged_before:
        # a cut was made and the run diverged again: one decade was not enough; the next cut is
        # sized by a trial from the state it returns to (sizing.sized_cut), not assumed
        return _flagged(plan, "size")
    if f.severity == "warning" and ctx.attempts == 0:
        # a finite loss that rose is also what minibatch noise does to a healthy run (a regression
        # net at its own lr was cut at step 11 and raised back 26x at step 18, 10.5 R^2 points lost):
        # the first cut is made only when a paired trial trains better with it (sizing.cut_helps)
        return _flagged(plan, "confirm")
    return plan


def plan_oscillating(f, ctx):
    # minibatch noise (small batches, dropout, a regression loss) makes a falling loss jump between
    # samples: lowering the lr then only slows a healthy run (a regression MLP at batch 32 with
    # dropout ended 2.2 R^2 points worse), as for update_ratio_high
    if ctx.loss_falling():
        return "the loss jumps around, but it is falling: left alone (the lr rules act if it rises)"
    tiny = small_updates(ctx)
    if tiny is not None:
        return (trial_raise(f, ctx, tiny) or
                f"the loss jumps around, but the updates are {tiny:.2g} of the weights: minibatch noise, not the lr")
    return _lower_lr(OSCILLATION_STEP, f"the loss jumps around without settling: lower the lr {OSCILLATION_STEP:g}x")


def plan_update_ratio_high(f, ctx):
    if strong_weight_decay(ctx):        # lr x weight_decay alone moves the weights this much per step
        return less_regularization(ctx, "the weights change by a large fraction each step")
    if ctx.loss_falling():
        return "large updates, but the loss is falling: left alone (the lr rules act if it rises)"
    ratios = [r for r in (f.evidence.get("update_ratio") or {}).values() if r is not None]
    top = max(ratios) if ratios else 10 * TARGET_RATIO     # no ratios in the evidence: cut the lr 10x
    factor = min(MAX_FACTOR, max(MIN_CUT, top / TARGET_RATIO))
    plan = _lower_lr(factor, f"updates are {top:.2g} of the weights per step (healthy ~1e-3, notes 001): "
                             f"lower the lr {factor:.3g}x")
    if ctx.attempts == 0 and not ctx.before_training and not ctx.diverged_before and not ctx.lr_changed_before:
        # large updates with a finite loss are a warning, as a finite loss that rose is
        # (plan_diverged): the first cut at the user's own lr is made when a paired trial from the
        # current weights shows the loss rising at the current lr and falling at the cut
        # (sizing.cut_helps); nets that train healthy at ratios above the rule's 3e-2 exist (weights
        # before a batch norm, Adam's first steps), and a healthy MLP on integer inputs was cut 5.2x
        # at step 150 and lost 1.2 points. After an lr change of this run the large updates judge
        # that change: a raise's own overshoot (sized from a ratio target), or a cut that was not
        # enough (an lr x100 digits MLP cut 10x for its collapsed units): cut as planned
        return _flagged(plan, "confirm")
    return plan


def plan_exploding_gradients(f, ctx):
    healthy = f.evidence.get("first") or ctx.healthy_grad_norm()
    if ctx.attempts == 0 and not ctx.diverged_before and ctx.loss_judged() and ctx.loss_falling():
        # a gradient norm that grew while the loss keeps falling is what training does to many
        # healthy nets (an LSTM's norm grew 16x by step 506 of a healthy run, and clipping it at 2x
        # its first norm cost 1.0 point): clipping guards against a divergence, and the divergence
        # rules act if the loss rises, as update_ratio_high's large steps that work are left alone
        return (f"the gradient norm grew {f.evidence.get('ratio', float('nan')):.3g}x, but the loss is falling: left "
                f"alone (the divergence rules act if it rises)")
    if ctx.attempts >= 1 or not healthy or not math.isfinite(healthy):
        return _lower_lr(LR_STEP, "the gradients keep exploding: lower the lr 10x and clip at the healthy norm",
                         clip=EXPLODED_CLIP * healthy if healthy and math.isfinite(healthy) else UNMEASURED_CLIP)
    return make_plan("clip", f"the gradient norm grew {f.evidence.get('ratio', float('nan')):.3g}x: clip it at 2x its "
                             f"healthy value {healthy:.3g} (Pascanu et al. 2013)", clip_norm=EXPLODED_CLIP * healthy)


def raise_factor(ratio) -> float:
    """Raise the update ratio to TARGET_RATIO (the ratio is linear in the lr for a fixed gradient)."""
    if ratio is None or ratio <= 0:
        return LR_STEP
    return min(MAX_RAISE, max(MIN_RAISE, TARGET_RATIO / ratio))


def raise_rollback(ctx) -> Rollback:
    """Where an lr raise returns to: the start within the first ``RESTART_SHARE`` of the run
    (the slow steps so far are replayed at the raised lr), else the last healthy epoch end."""
    return Rollback.START if ctx.progress <= RESTART_SHARE else Rollback.LAST


def plain_sgd(ctx) -> bool:
    """SGD without momentum: the notes' default adds momentum 0.9 (notes 001/004)."""
    optimizer = ctx.controls.optimizer
    return (type(optimizer) is torch.optim.SGD
            and all(g.get("momentum", 0.0) == 0.0 for g in optimizer.param_groups))


def annealed(ctx, ratio) -> float | None:
    """``ratio`` at the lr schedule's full lr (``ratio / ctx.multiplier``) when the schedule has the
    lr below its full value now and there ``ratio`` is not slow (>= SLOW_RATIO, 1e-4), else None.
    An update moves the weights in proportion to the lr for a given gradient, and a schedule that
    anneals the lr (a cosine's tail, a step decay, a warmup's first steps) shrinks the updates by
    design: they are no evidence that the lr the user chose is slow (a healthy cosine MLP was
    raised 229x at step 675 of 900, its updates 4.4e-5 of the weights at 0.15 of its lr)."""
    if ratio is None or not 0 <= ctx.multiplier < 1:
        return None
    full = ratio / ctx.multiplier if ctx.multiplier > 0 else math.inf
    return full if full >= SLOW_RATIO else None


def plan_lr_too_low(f, ctx):
    if strong_weight_decay(ctx):
        return less_regularization(ctx, "the loss barely moves")
    ratio = f.evidence.get("median_update_ratio") or ctx.median_update_ratio()
    full = annealed(ctx, ratio)
    if full is not None:
        return (f"updates of {ratio:.2g} of the weights, but the lr schedule has the lr at {ctx.multiplier:.2g} of "
                f"its value now: at its full lr {full:.2g}, not slow (healthy ~1e-3, notes 001)")
    return raise_plan(f, ctx)


def raise_plan(f, ctx):
    """lr_too_low's raise: the lr that moves the weights by ``TARGET_RATIO`` of their norm per step
    (``raise_factor``), with Nesterov momentum for plain SGD; rolled back by ``raise_rollback``.
    The ratio is taken at the schedule's full lr (the raise scales the whole schedule)."""
    ratio = f.evidence.get("median_update_ratio") or ctx.median_update_ratio()
    if ratio is not None and 0 < ctx.multiplier < 1:
        ratio = ratio / ctx.multiplier
    # no update measured yet (before the first step): the lr arm of the experiment that found it, the one that
    # fell furthest (interventions.findings)
    measured = f.evidence.get("best_lr_factor") if ratio is None and f.evidence.get("best_lr_factor", 0) > 1 else None
    factor = measured or raise_factor(ratio)
    momentum = plain_sgd(ctx)
    updates = (f"updates are {ratio:.2g} of the weights (target 1e-2, a third of the 3e-2 'too high' threshold)"
               if ratio is not None else f"no update measured yet ({f.message})")
    if measured:
        updates += f", the experiment's lr x{measured:g}"
    return make_plan(
        "raise_lr", f"the loss barely moves, {updates}: raise the lr {factor:.3g}x"
                    + (" and add Nesterov momentum 0.9 (notes 001/004: 0.9 is common)" if momentum else ""),
        rollback=raise_rollback(ctx), factor=factor, momentum=momentum)


def plan_update_ratio_low(f, ctx):
    ratios = [r for r in (f.evidence.get("update_ratio") or {}).values() if r is not None]
    if not ratios:
        return "no update ratios in the evidence"
    low = sum(r < RATIO_LOW for r in ratios)
    if low <= len(ratios) // 2:      # a few layers barely learn while others do: their gradients vanish
        return plan_vanishing(f, ctx)
    return plan_lr_too_low(f, ctx)


def plan_plateau(f, ctx):
    if strong_weight_decay(ctx):
        return less_regularization(ctx, "the loss has stalled")
    ratio = ctx.median_update_ratio()
    if ratio is not None and ratio < SLOW_RATIO and annealed(ctx, ratio) is None:
        factor = raise_factor(ratio)
        return make_plan("raise_lr", f"the loss stalled with updates of {ratio:.2g} of the weights: raise the lr "
                                     f"{factor:.3g}x", rollback=Rollback.NONE, factor=factor)
    stalled, good = f.evidence.get("loss"), ctx.good_loss
    if stalled is not None and good is not None and stalled > (1 + REGRESSED) * good:
        # the loss stalls above where an earlier epoch ended: the steps since undid progress (the
        # notes' "loss goes up" reading: the lr is too high), and what they broke (units that died
        # on the way) stays broken under a smaller lr; return to that epoch, then decay
        return _lower_lr(LR_STEP, f"the loss stalled at {stalled:.4g}, above the {good:.4g} an earlier epoch ended "
                                  f"at: the steps since undid progress; return to that epoch and decay the lr 10x "
                                  f"(notes 003)", rollback=Rollback.LAST)
    if schedule_anneals(ctx):
        return (f"the loss stalled while the lr schedule anneals the lr {LR_STEP:g}x or more before the run ends: "
                f"the decay for a stagnating objective (notes 003) is the schedule's own")
    return _lower_lr(LR_STEP, "the loss stalled while the updates are not small: decay the lr 10x "
                              "(notes 003: decrease the lr when the objective stagnates)", rollback=Rollback.NONE)


def schedule_anneals(ctx) -> bool:
    """The run's lr schedule lowers the lr by at least the plateau's ``LR_STEP`` decay between now and
    the run's end (a cosine's multiplier falls to 0). The decay notes 003 recommends for a stagnating
    objective is then the schedule's own: a 10x cut on top only takes it early, and a healthy run's
    training loss, whose epoch-to-epoch noise under a cosine exceeds its 3-epoch trend, reads as a
    stall (set 22's clinics MLP, cut at step 630 of 900 at 0.2 of its lr, ended 1 test point lower)."""
    return ctx.final_multiplier * LR_STEP <= ctx.multiplier


def plan_init(f, ctx):
    """symmetric_init / vanishing or exploding activations / saturated or dead units at init:
    re-initialize for the activations (He for ReLU, Xavier for tanh/sigmoid; notes 004), then,
    if the saturating units persist, swap them for ReLU."""
    if f.code == "dead_units" and not ctx.before_training:
        return _plan_dead_units(ctx)
    peak = None if ctx.before_training else ctx.peak_update_ratio()
    if peak is not None and peak >= EXTREME_RATIO:
        # the units vanished or saturated after steps that moved the weights by a third of their
        # norm: the steps did it, not the init the run started from (an lr x100 re-initialized
        # kept its lr and collapsed again); back to the start with the lr 10x lower
        # (after a divergence repair the first cut was not enough: this one is sized by a trial)
        plan = _lower_lr(LR_STEP, f"{f.code} after updates of {peak:.2g} of the weights per step (notes 001: "
                                  f"~1e-3 healthy): the steps collapsed the units; roll back to the start and "
                                  f"lower the lr {LR_STEP:g}x", rollback=Rollback.START)
        return _flagged(plan, "size") if ctx.diverged_before else plan
    if ctx.diverged_before and not ctx.before_training:
        # the units collapsed during training after a divergence was repaired by an lr cut: the
        # cut was not enough (tanh units of a wine net at lr 5 cut to 0.5 saturated again, and a
        # re-initialization kept the lr that saturated them). Back to the start, the cut sized by
        # a trial (sizing.sized_cut)
        return make_plan("lower_lr", f"{f.code} during training after a divergence was repaired by an lr cut: the "
                                     f"cut was not enough; roll back to the start and lower the lr again, by the "
                                     f"factor a trial from there trains best with", rollback=Rollback.START,
                         factor=LR_STEP, clip_norm=None, size=True)
    if ctx.reinit_attempts == 0:
        return make_plan("reinit", f"{f.code}: re-initialize the weights for the activations (He/Kaiming for "
                                   f"ReLU, Xavier for tanh/sigmoid; notes 004 'keep the variance the same across "
                                   f"layers')")
    saturating = activation_families(ctx.controls.model)["saturating"]
    if saturating:
        return make_plan("swap_activations", f"{f.code} persists after re-initialization: replace the {saturating} "
                                             f"saturating activations with ReLU and use He init (notes 004: "
                                             f"'saturated neurons kill the gradients')")
    return f"{f.code} persists after re-initialization and the model has no saturating activation to swap"


def _plan_dead_units(ctx):
    """Units that died during training: large updates push ReLUs negative for every input."""
    if strong_weight_decay(ctx):        # the decay shrinks the weights until units never fire
        return less_regularization(ctx, "ReLU units died during training")
    if ctx.attempts >= 1:
        return "units keep dying after one lr cut: left alone (the loss rules act if training stalls)"
    # With the loss falling and no divergence repaired in this run, dead units are no evidence of
    # a bad lr (a net can lose half a layer's units early and still reach its accuracy); after a
    # divergence repair the lr can still be too high.
    if ctx.loss_falling() and not ctx.diverged_before:
        return "units died, but the loss is falling: left alone (the loss rules act if it stalls or rises)"
    if not ctx.diverged_before and not ctx.loss_judged():
        # too few samples to tell a falling loss from a stalled one: a net that loses units in its
        # first steps often trains on (a healthy 6-layer ReLU regressor did, and an lr cut there cost it)
        return "units died in the run's first samples, too few to judge the loss: left alone (the loss rules act " \
               "if it stalls or rises)"
    plan = _lower_lr(LR_STEP, "ReLU units died during training (large updates push them negative for every "
                              "input, notes 004): lower the lr 10x")
    if ctx.diverged_before:
        return plan
    peak = ctx.peak_update_ratio()
    if peak is not None and peak < RATIO_HIGH:
        # with no divergence in this run, the units' death blames the lr only through large updates; no step
        # of this trajectory moved the weights by what update_ratio_high calls too much (a net on its way out
        # of a plateau loses units too: set 4's re-initialized spiral ResMLP, at updates of 2e-2 at most, was
        # cut 10x at step 101 and stayed at 50 % where its twin reached 99.8 %; a 50-step trial favoured the
        # cut, as short trials favour smaller steps, Wu et al. 2018)
        return (f"units died, but no step moved the weights by more than {peak:.2g} of their norm (too high: "
                f"{RATIO_HIGH:g}, notes 001): not large updates; left alone (the loss rules act if it stalls or rises)")
    # otherwise the cut is made when a paired trial from the current weights trains better with it
    # (sizing.cut_helps), as lr_too_high's first cut
    return _flagged(plan, "confirm")


def plan_vanishing(f, ctx):
    if activation_families(ctx.controls.model)["saturating"] and (ctx.attempts >= 1 or ctx.reinit_attempts >= 1):
        return make_plan("swap_activations", "gradients vanish through saturating activations (sigmoid' <= 0.25 "
                                             "per layer, notes 004): replace them with ReLU and use He init")
    return plan_init(f, ctx)


def plan_unnormalized(f, ctx):
    if f.evidence.get("sentinel"):      # missing-value codes (value_codes.py): standardizing keeps the squeeze
        codes = [[c["column"], c["value"]] for c in f.evidence["codes"]]
        return make_plan("impute", f"{f.message}: replace each code by its column's training median, then "
                                   f"standardize (notes 002)", codes=codes)
    tails = f.evidence.get("heavy_tailed")
    if tails:    # heavy_tails.py: standardizing leaves these columns squeezed by their tails
        if any(p.get("name") == "quantile" for p in ctx.controls.preprocess):
            return "the heavy-tailed columns were quantile-mapped already"
        return make_plan("quantile", f"columns {tails[:10]} have heavy tails that set their scale: map them "
                                     f"through their training quantiles onto a normal, then standardize (notes 002: "
                                     f"features of comparable scale)", columns=list(tails))
    if any(p.get("name") == "standardize" for p in ctx.controls.preprocess):
        return "the inputs were standardized already"
    return make_plan("standardize", f"inputs have median |mean| {f.evidence.get('median_abs_mean', float('nan')):.3g} "
                                    f"and median std {f.evidence.get('median_std', float('nan')):.3g}: standardize "
                                    f"them with training-split statistics (notes 000/002; LeCun et al. 1998)")


NORMALIZED_ROWS = 64        # the training rows a forward checks an output normalization's axis on
NORMALIZED_TOL = 1e-3       # |logsumexp - 0| (or |sum - 1|) within float32 rounding of a normalization


def normalized_over_batch(model, X, activation: str) -> bool:
    """The model's outputs on a few training rows are already ``activation`` (log_softmax or
    softmax) taken over the batch axis (dim 0), not over the classes: every column's
    exp-probabilities sum to 1 down the rows and the rows' do not. A second activation on dim 1
    does not undo a normalization over the batch (it leaves each class's batch-wide shift); the
    fix is the model's own axis, in the user's code."""
    if activation not in ("log_softmax", "softmax") or X is None or len(X) < 2:
        return False
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(X[:NORMALIZED_ROWS]).float()
    except Exception:               # the model's own errors are other findings' evidence
        return False
    finally:
        model.train(was_training)
    if out.ndim != 2 or out.shape[0] < 2 or out.shape[1] < 2:
        return False
    mass = out.exp() if activation == "log_softmax" else out
    columns, rows = mass.sum(dim=0), mass.sum(dim=1)
    return bool(((columns - 1).abs() < NORMALIZED_TOL).all() and not ((rows - 1).abs() < NORMALIZED_TOL).all())


def plan_output_mismatch(f, ctx):
    missing = f.evidence.get("missing_activation")
    rows = (getattr(ctx.controls, "train_data", None) or (None,))[0]
    if missing and normalized_over_batch(ctx.controls.model, rows, missing):
        return (f"the model's outputs are {missing} taken over the batch axis (dim 0), not the classes: another "
                f"{missing} would not undo it; fix the axis in the model's code (dim=1)")
    if missing:
        # a loss that takes probabilities (or log-probabilities) on raw scores (preflight's
        # output_range.missing_activation): the output layer it needs, appended (notes 003)
        return make_plan("append_output_activation", f"{f.message}: apply {missing} to the model's outputs",
                         activation=missing)
    if f.evidence.get("loss_at_shift") and f.evidence.get("last_module") != "LogSoftmax":
        # a log-likelihood on raw logits (preflight's unbounded-loss check): log_softmax makes them
        # log-probabilities, what nll_loss expects (notes 003: output activation and loss go together)
        return make_plan("append_log_softmax", f"{f.message}: apply log_softmax(dim=1) to the model's outputs")
    name = f.where
    module = dict(ctx.controls.model.named_modules()).get(name) if name else None
    if not name or not isinstance(module, OUTPUT_ACTIVATIONS):
        return f"cannot remove the output activation: {f.message}"
    return make_plan("remove_output_activation", f"the loss applies {type(module).__name__.lower()} itself: replace "
                                                 f"{name} ({type(module).__name__}) with Identity so the model returns "
                                                 f"logits", name=name)


def plan_bad_initial_loss(f, ctx):
    ratio = f.evidence.get("ratio")
    if ratio is None or not math.isfinite(ratio) or ratio < 1:
        return "the initial loss is too low, not over-confident: check the loss and the targets"
    scale = weight_scale(ctx.controls.model)
    if scale is not None and scale > OVERSCALED and ctx.reinit_attempts == 0:
        return make_plan("reinit", f"the untrained loss is {ratio:.2f}x that of a uniform guess and the weights are "
                                   f"{scale:.2g}x He's scale sqrt(2/fan_in) (median over layers): re-initialize them "
                                   f"for the activations (notes 004 'keep the variance the same across layers')")
    return make_plan("shrink_output_layer", f"the untrained loss is {ratio:.2f}x that of a uniform guess: scale the "
                                            f"last layer's weights by {SHRINK_SCALE:g} and zero its bias (notes 004)",
                     scale=SHRINK_SCALE)


def plan_unshuffled(f, ctx):
    return make_plan("shuffle", "labels come in long runs and shuffling is off: shuffle every epoch (notes 003)")


def strong_weight_decay(ctx) -> bool:
    """lr x weight_decay (or lr x l2) takes >= 1% of the weights off each step (STRONG_DECAY), at
    the largest lr of the recent samples (a schedule's tail does not hide the decay)."""
    l2 = getattr(ctx.controls.config, "l2", 0.0) or 0.0
    return (ctx.peak_lr() or 0.0) * max(ctx.weight_decay or 0.0, l2) >= STRONG_DECAY


def less_regularization(ctx, why):
    wd = ctx.weight_decay
    new = wd / DECAY_CUT
    # the decay has already shrunk the weights toward zero (where every unit is alike): go back
    # to the start with the new setting rather than continue from collapsed weights
    return make_plan("set_weight_decay", f"{why} while weight_decay = {wd:.3g} is {wd / USUAL_WEIGHT_DECAY:.0f}x the "
                                         f"usual 5e-4: it pulls the weights to zero faster than the data moves them; "
                                         f"lower it 100x to {new:.3g}", weight_decay=new)


def plan_underfitting(f, ctx):
    if strong_weight_decay(ctx):
        return less_regularization(ctx, "the model underfits")
    ratio = ctx.median_update_ratio()
    if ratio is not None and ratio < SLOW_RATIO and annealed(ctx, ratio) is None:
        return plan_lr_too_low(f, ctx)
    # underfitting itself says the loss falls too slowly (low training accuracy, no gap): a raise
    # whenever the updates are not too large (RATIO_HIGH), if its trial trains better than the
    # current lr (an lr 10x small for spirals moves 1.8e-3 of the weights a step, a healthy ratio,
    # while the cosine schedule anneals before the model fits)
    if dropout_rates(ctx.controls.model) and max(dropout_rates(ctx.controls.model)) > HIDDEN_DROPOUT:
        return less_dropout(ctx, "the model underfits with dropout above the hidden layers' usual 0.5")
    return (trial_raise(f, ctx, ratio, below=RATIO_HIGH, even_falling=True) or
            "the model underfits with healthy updates: it needs more capacity (wider/deeper) or more epochs")


def plan_too_regularized(f, ctx):
    """regularization_too_strong (an intervention found that less decay, or no dropout, lets the
    loss fall): the arm's setting for the decay (/ 100); dropout lowered (``less_dropout``)."""
    wd = ctx.weight_decay or 0.0
    if f.evidence.get("output_dropout"):       # mode_gap.py: dropout on the outputs, removed (the hidden kept)
        return make_plan("remove_output_dropout", f"{f.message}: remove the dropout after the output layer "
                                                  f"({', '.join(f.evidence['output_dropout'])})",
                         names=list(f.evidence["output_dropout"]))
    if f.evidence.get("intervention") == "weight_decay / 100" and wd > 0:
        return make_plan("set_weight_decay", f"{f.message}: lower weight_decay {wd:.3g} -> {wd / DECAY_CUT:.3g}",
                         weight_decay=wd / DECAY_CUT)
    return less_dropout(ctx, f.message) or f"{f.message}: the model has no dropout left to lower"


def less_dropout(ctx, why) -> Plan | None:
    """Dropout lowered to min(p / 2, DROPOUT) for every module above it: the mild rate the
    overfitting repair raises it to (Srivastava et al. 2014 drop 0.2 of the inputs), or half the
    rate when it is below that already (a second attempt halves again). None without dropout."""
    rates = dropout_rates(ctx.controls.model)
    if not rates:
        return None
    top = max(rates)
    new = min(top / 2, DROPOUT)
    return make_plan("lower_dropout", f"{why}: lower the dropout rate {top:.3g} -> {new:.3g} (notes 004: too much "
                                      f"regularization underfits; Srivastava et al. 2014's mild rate 0.2)",
                     dropout=new)


def plan_optimizer_setting(f, ctx):
    """optimizer_setting (an intervention found that the optimizer's defaults, or no clipping,
    let the loss fall): the arm's setting. Clipping: off, or DIVERGED_CLIP x the healthy gradient
    norm when the monitor measured one (a clip the gradients reach only when they spike); options:
    back to the optimizer's defaults (Kingma & Ba 2015: Adam's eps 1e-8)."""
    if f.evidence.get("no_clip"):
        healthy = None if ctx.before_training else ctx.healthy_grad_norm()
        clip = DIVERGED_CLIP * healthy if healthy else None
        return make_plan("set_clip", f"{f.message}: " + (f"clip at {clip:.3g} ({DIVERGED_CLIP:g}x the healthy gradient "
                                                         f"norm {healthy:.3g}) instead" if clip else
                                                         "turn the configured clipping off"), clip_norm=clip)
    names = sorted(f.evidence.get("options") or {})
    if not names:
        return f"{f.message}: no optimizer option named to reset"
    return make_plan("reset_optimizer_options", f"{f.message}: set {', '.join(names)} back to the optimizer's "
                                                f"defaults (Kingma & Ba 2015: Adam's eps 1e-8)", names=names)


def plan_overfitting(f, ctx):
    if ctx.attempts >= 1:
        return ("the gap persists after one regularization increase: use early stopping (patience=...), "
                "augmentation or more data")
    wd = ctx.weight_decay or 0.0
    new = max(wd * LR_STEP, USUAL_WEIGHT_DECAY)
    # the weights so far are the best the run has and a stronger decay acts from here on: no
    # rollback (returning to the best-val-loss epoch throws away training a healthy run needs)
    return make_plan("more_regularization", f"train/val gap {f.evidence.get('gap', float('nan')):.3g}: raise "
                                            f"weight_decay {wd:.3g} -> {new:.3g} (and dropout, when the model has it; "
                                            f"notes 004 'big gap = overfitting => increase regularization')",
                     weight_decay=new, dropout=DROPOUT)


# --- the run's other regularizers and its lr schedule -----------------------------------
def plan_regularizer(f, ctx):
    """regularization_too_strong / optimizer_setting. Found by a regularizer's arm
    (``evidence["regularization"]``: the options its arm changed: l1 or l2 / 100, max_norm, label
    smoothing or clip_value off): those values from the start (``set_regularization``, the arm's
    setting). Found by another arm: the code's own planner (``plan_too_regularized``,
    ``plan_optimizer_setting``)."""
    values = f.evidence.get("regularization")
    if values:
        said = ", ".join(f"{name} {value}" for name, value in values.items())
        return make_plan("set_regularization", f"{f.message}: set {said} (the experiment's arm)", values=dict(values))
    return (plan_too_regularized if f.code == "regularization_too_strong" else plan_optimizer_setting)(f, ctx)


def plan_schedule_decays_early(f, ctx):
    """schedule_decays_early: the lr schedule stretched by the factor its experiment trained with
    (``evidence["stretch"]``, schedule_check.py), from the start; a schedule no stretch revives,
    replaced by the schedule its experiment trained with (``evidence["replace"]``), from the start; a
    plateau schedule against its monitor (``evidence["plateau_mode"]``, plateau_mode.py): its mode
    set to the monitor's."""
    if f.evidence.get("plateau_mode"):     # a plateau schedule against its monitor (plateau_mode.py)
        return make_plan("set_plateau_mode", f"{f.message}: set the plateau's mode = {f.evidence['mode']!r}",
                         mode=f.evidence["mode"])
    if f.evidence.get("replace"):          # a schedule at ~0 on most steps, no stretch revives: its replacement
        return make_plan("replace_schedule", f"{f.message}: replace the lr schedule by {f.evidence['replace']}",
                         spec=f.evidence["replace"], from_step=0)
    factor = f.evidence.get("stretch")
    if not factor or factor <= 1:
        return f"{f.message}: no stretch of the schedule was measured"
    return make_plan("stretch_schedule", f"{f.message}: stretch the lr schedule {factor:.3g}x", factor=factor)


# --- the run's own options the experiment trains without (warmup, augmentation, batch size) ----
def plan_schedule_starts_late(f, ctx):
    """schedule_starts_late: the warmup its experiment fit to the run (``evidence["warmup_steps"]``,
    schedule_check.py), from the start."""
    steps = f.evidence.get("warmup_steps")
    if not steps:
        return f"{f.message}: no fitted warmup was measured"
    return make_plan("set_warmup", f"{f.message}: a warmup of {steps} steps", steps=int(steps))


def plan_too_few_updates(f, ctx):
    """too_few_updates: the arm its experiment measured (batch_check.py), from the start. The same rows
    seen in batches ``SPLIT`` x smaller trained significantly better (``evidence["hurts"]``): the
    batch cut to ``evidence["small_batch"]`` (``set_batch_size``: the run's epochs kept, so ``SPLIT`` x
    the steps), at the lr as it is, as the arm trained it; by Goyal et al. 2017's linear scaling rule
    (for SGD; Malladi et al. 2022's square-root rule for Adam) the large batch's lr was ``SPLIT`` x
    (sqrt ``SPLIT`` x) too small for it, and the smaller batch at the lr kept is that scaled lr taken in
    the steps where the rule holds. The run's batch at lr x ``SPLIT`` trained better too
    (``evidence["lr_scale"]``) and ended lower than the small batches (``scaled_loss`` < ``fix_loss``),
    or the batch size cannot change (``Controls.batch_size_fixed``: the user's own loader, SWA): the lr
    raised by that factor (``raise_lr``). Neither: not repaired, a smaller batch needs a new run."""
    factor, small = f.evidence.get("lr_scale"), f.evidence.get("small_batch")
    fixed = ctx.controls.batch_size_fixed()
    scaled_lower = factor and (f.evidence.get("scaled_loss") is not None and f.evidence.get("fix_loss") is not None
                               and f.evidence["scaled_loss"] < f.evidence["fix_loss"])
    if f.evidence.get("hurts") and small and fixed is None and not scaled_lower:
        return make_plan("set_batch_size", f"{f.message}: batches of {small} rows for the run's epochs (the arm "
                                           f"measured; the linear scaling rule)", batch_size=int(small))
    if not factor:
        return (f"{f.message}: a smaller batch needs a new run (batch_size = {small})"
                + (f": {fixed}" if fixed else ""))
    return make_plan("raise_lr", f"{f.message}: raise the lr {factor:g}x (the linear scaling rule)",
                     rollback=Rollback.START, factor=float(factor), momentum=False)


def plan_augmentation_hurts(f, ctx):
    """augmentation_hurts: the transform its experiment trained without (``evidence["drop"]``, its
    index in the run's augment list; augment_check.py) dropped, from the start."""
    if f.evidence.get("drop") is None:
        return f"{f.message}: no transform was measured"
    return make_plan("drop_augmentation", f"{f.message}: drop {f.evidence.get('transform')}",
                     index=int(f.evidence["drop"]), name=f.evidence.get("transform"))


# --- a user's callback hook that puts the weights back -------------------------------------
def plan_parameters_reset(f, ctx):
    """parameters_reset: the one hook the finding names (``evidence["callback"]`` and ``["hook"]``,
    callback_check.py: that hook was run and measured; or reset_watch.py's ``["candidates"]`` when
    one in-run hook of the user's runs between two epochs) no longer called, back to the last healthy
    state: the hook gives back half or more of what training gained each time it runs, so every
    epoch after it starts again (the finding's own measurement), and the loop runs on without it.
    Several candidates: which one puts the weights back is not measured, and detaching a hook that
    does something else (a log, a schedule) is not the fix: not repaired."""
    callback, hook = f.evidence.get("callback"), f.evidence.get("hook")
    if not (callback and hook):
        candidates = f.evidence.get("candidates") or []
        if len(candidates) != 1:
            return (f"{f.message}: " + (f"several hooks run between epochs ({', '.join(map('.'.join, candidates))}): "
                                        f"which one puts the weights back was not measured" if candidates else
                                        "no callback hook of the run's is named") + f"; {f.fix}")
        callback, hook = candidates[0]
    return make_plan("detach_hook", f"{callback}.{hook} puts the weights back where training started each time it "
                                    f"runs: stop calling it (its other hooks still run) and continue from the last "
                                    f"healthy state; fix the code: {f.fix}", callback=callback, hook=hook)


def plan_uninformative_inputs(f, ctx):
    """uninformative_inputs: repaired only when it names a step of the run's own configured
    ``preprocess`` (preprocess_check.py, ``where="preprocess"``) and the repairer found a change of
    that step that recovers what it lost (``evidence["refit"]``, preprocess_refit.py: the step
    dropped, or standardized columns before a pca keeping its components, refitted on the rows
    before the pipeline, keeping the model's input shape; or the configured pca on standardized
    columns with ``evidence["refit"]["entry"]``, the entry Linear redrawn for its width, where the
    width kept loses against it): the config that threw the information
    away is trainwell's. ``refit_preprocess`` replaces the pipeline before the first step. Other
    causes (the data, the model's first layer) are not repaired; a refit that was not found says why.
    Also ``constant_ids``' finding (an embedding's ids one value on every row) when dropping a step of
    the configured preprocess makes them vary (``evidence["refit"]``, preprocess_refit.choose_for_ids)."""
    refit = f.evidence.get("refit") or {}
    if f.evidence.get("embedding") is not None and "steps" in refit:
        # constant_ids' finding whose ids vary with a step of the run's preprocess dropped (preprocess_refit.choose_for_ids)
        names = [spec_name(s) for s in refit["steps"]]
        return make_plan("refit_preprocess", f"{f.message}: {refit.get('probe', '')}: refit the preprocess as {names} "
                                             f"before the first step", steps=refit["steps"])
    if f.where != "preprocess" or f.evidence.get("preprocess_step") is None:
        return not_repairable(f, ctx)
    if "steps" not in refit:
        why = refit.get("why") or "no refit of the run's preprocess was tried (the doctor's finding)"
        return f"{f.message}: {why}; {f.fix}"
    names = [spec_name(s) for s in refit["steps"]]
    widened = "" if refit.get("entry") is None else \
        f"; {refit.get('against', 'no refit keeps its width')}: the model's entry layer {refit['entry']} redrawn"
    return make_plan("refit_preprocess", f"the run's preprocess step {f.evidence['preprocess_step'] + 1} "
                                         f"({f.evidence.get('transform')}) loses what the inputs say about the "
                                         f"targets: refit the preprocess as {names} before the first step "
                                         f"({refit.get('probe', '')}{widened}; {f.fix})", steps=refit["steps"],
                     **({"entry": refit["entry"]} if refit.get("entry") is not None else {}))
