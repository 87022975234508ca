"""A gradient clip that binds on the typical gradient, not on its spikes: ``optimizer_setting``.

Clipping guards a run against the rare exploding step (Pascanu et al. 2013; notes 001 "gradient
clipping"): its bound is one the gradients reach only when they spike. A bound under the typical
minibatch gradient changes every step instead. A norm clip c below ||g|| scales the step by
c / ||g||, an lr cut hidden in a clip; a per-entry clip (``clip_value``) c below most |g_i|
truncates every such entry to +-c, which both shortens the step and turns it towards the
gradient's sign. Both are measured the same way, on the run's own minibatch gradients at the
starting weights (``BATCHES`` batches of the run's batch size, the model in train mode as the run
trains it; the trainer's order: the per-entry clip first, then the norm):

    kept = ||clip(g)|| / ||g||        the share of the step's length the clip leaves
    truncated = share of entries with |g_i| > clip_value (per-entry), of batches with ||g|| > clip_norm

each the median over the batches (``clip_reach``). ``kept`` < ``KEPT`` (the clip removes more
than 90% of the typical step: a cut of more than a decade, the lr arms' step) is strong evidence,
and only then the check trains the setup next to a repeat on other batches and the same setup
without that clip (``interventions.experiment``, one arm). As ``schedule_check.check_start``
grades its fitted warmup, the arm is graded by ``interventions.significant`` (held accuracy, or the
held loss with the accuracy no worse): a warning when it trains significantly better, else
``info`` (the clip binds but costs nothing measurable: an adaptive optimizer such as Adam divides a
uniformly shortened step back out). The trend of the setup catching up is not read here: the
measurement already says the clip cuts every typical step, not a transient of the first ones. What
is read is the measured catch-up (``interventions.caught_up``, with the run's ``run_steps``): where
the arm trained better, both train on to ``LONGER`` x the steps, and a setup level with it there is
``info`` (Adagrad's first steps are slowed by a clip its accumulator then divides out).

A clip meant as a spike guard (``clip_norm = 1`` or ``clip_value = 1`` on a net whose typical
gradient is below it) keeps the whole step and runs nothing.
"""
from __future__ import annotations

import copy
import statistics

import torch

from trainwell.babysit import interventions
from trainwell.babysit.findings import Finding, make
from trainwell.train.regularizers import OFF

CODE = "optimizer_setting"
BATCHES = 4          # minibatch gradients measured: the median of 4 is robust to one unusual batch
KEPT = 0.1           # strong evidence: the clip leaves < 10% of the typical step's length, a cut of more than
                     # one decade (the lr arms' step, interventions.candidate_arms: x0.1, x10)
VALUE_ARM = "no clip_value"   # interventions.regularization_arms' name for the same change
NORM_ARM = "no clipping"      # interventions.candidate_arms' name for the same change
PART = "the clip check (optimizer_setting)"   # the backstop's check_skipped note names what it left out by this


def clip_reach(model, X, y, loss_fn, *, clip_value: float | None = None, clip_norm: float | None = None,
               batch_size: int = 64, seed: int = 0, batches: int = BATCHES) -> dict:
    """What the clips do to the run's typical minibatch gradient at the model's weights:
    ``{"value_kept", "value_truncated", "norm_kept", "norm_truncated", "cosine", "grad_norm",
    "batches"}`` (medians over ``batches`` batches of ``batch_size`` rows drawn with ``seed``;
    a clip that is off keeps 1.0 and truncates 0.0; ``cosine``: between the clipped and the raw
    gradient). The model is not modified and the global random state is restored."""
    net = copy.deepcopy(model).train()
    params = [p for p in net.parameters() if p.requires_grad]
    device = params[0].device if params else X.device
    gen = torch.Generator().manual_seed(seed)
    rows = max(1, min(batch_size, X.shape[0]))
    out = {k: [] for k in ("value_kept", "value_truncated", "norm_kept", "norm_truncated", "cosine", "grad_norm")}
    state = torch.get_rng_state()
    torch.manual_seed(seed)                 # dropout masks, as the experiment's
    try:
        for _ in range(batches):
            idx = torch.randint(0, X.shape[0], (rows,), generator=gen)
            for p in params:
                p.grad = None
            loss_fn(net(X[idx].to(device)), y[idx].to(device)).backward()
            grads = [p.grad.reshape(-1) for p in params if p.grad is not None]
            if not grads:
                continue                    # nothing the loss reaches trains: no step to clip
            g = torch.cat(grads).double()
            norm = float(g.norm())
            if not norm > 0 or not torch.isfinite(g).all():
                continue                    # no step to shorten (or a broken one: other checks' business)
            clipped = g if clip_value is None else g.clamp(-clip_value, clip_value)
            after_value = float(clipped.norm())
            out["value_kept"].append(after_value / norm)
            out["value_truncated"].append(0.0 if clip_value is None else float((g.abs() > clip_value).double().mean()))
            scale = 1.0 if not clip_norm or after_value <= clip_norm else clip_norm / after_value
            out["norm_kept"].append(scale)
            out["norm_truncated"].append(float(scale < 1.0))
            out["cosine"].append(float(clipped @ g) / (after_value * norm))
            out["grad_norm"].append(norm)
    finally:
        torch.set_rng_state(state)
    measured = len(out["grad_norm"])
    result = {k: statistics.median(v) if v else 1.0 for k, v in out.items()}
    result["grad_norm"] = statistics.median(out["grad_norm"]) if measured else 0.0
    result["batches"] = measured
    return result


def binding_clip(reach: dict, *, clip_value, clip_norm) -> str | None:
    """``"clip_value"`` or ``"clip_norm"``: the clip that keeps < ``KEPT`` of the typical step
    (the per-entry clip first: it acts first), or None."""
    if clip_value is not None and reach["value_kept"] < KEPT:
        return "clip_value"
    if clip_norm and reach["norm_kept"] < KEPT:
        return "clip_norm"
    return None


def check_clip(model, X, y, loss_fn, *, config=None, clip_norm: float | None = None, optimizer, lr: float,
               weight_decay: float = 0.0, options: dict | None = None, batch_size: int = 64, seed: int = 0,
               steps: int = interventions.STEPS, budget=None, **experiment) -> list[Finding]:
    """``[]`` without a clip, or when no clip binds (``binding_clip``); else one ``optimizer_setting``
    finding (a warning when the setup without that clip trains ``interventions.significant``-ly
    better, else ``info``) whose evidence holds the measurement and the arm's change
    (``regularization``: clip_value off; ``no_clip``: the configured clip_norm off), which the repair
    plans read (``plans.plan_regularizer``). ``clip_norm``: the run's norm clip; the per-entry clip
    is ``config.clip_value``. The model is not modified."""
    clip_value = getattr(config, "clip_value", None)
    if clip_value is None and not clip_norm:
        return []
    if budget is not None:
        budget.charge(BATCHES * budget.step_cost(max(1, min(batch_size, X.shape[0]))))
    reach = clip_reach(model, X, y, loss_fn, clip_value=clip_value, clip_norm=clip_norm, batch_size=batch_size,
                       seed=seed)
    which = binding_clip(reach, clip_value=clip_value, clip_norm=clip_norm)
    if which is None:
        return []
    if which == "clip_value":
        kept, truncated, bound = reach["value_kept"], reach["value_truncated"], clip_value
        said = (f"clip_value = {clip_value:g} truncates {100 * reach['value_truncated']:.0f}% of the gradient's "
                f"entries on a typical batch and leaves {100 * kept:.2g}% of its length (the direction's cosine "
                f"to the gradient {reach['cosine']:.2f})")
        arm = interventions.Arm(VALUE_ARM, CODE, f"no per-entry gradient clipping instead of clip_value = "
                                                 f"{clip_value:g}",
                                extra={"regularization": {"clip_value": OFF["clip_value"]}})
    else:
        kept, truncated, bound = reach["norm_kept"], reach["norm_truncated"], clip_norm
        said = (f"clip_norm = {clip_norm:g} is under the typical gradient norm {reach['grad_norm']:.3g} and "
                f"leaves {100 * kept:.2g}% of the step's length")
        arm = interventions.Arm(NORM_ARM, CODE, f"no gradient clipping instead of clip_norm = {clip_norm:g}",
                                extra={"options": {"clip_norm": clip_norm}, "no_clip": True})
    baseline, arms = interventions.experiment(
        model, X, y, loss_fn, optimizer=optimizer, lr=lr, weight_decay=weight_decay, options=options,
        batch_size=batch_size, steps=steps, seed=seed, settings=False, repeat=True, clip_norm=clip_norm,
        config=config, extra_arms=[arm], budget=budget, part=PART, **experiment)
    repeat = interventions.finished_repeat(arms)
    ran = next((a for a in arms if a.name == arm.name and not a.extra.get("timed_out")), None)
    evidence = {"clip": which, "bound": bound, "kept": kept, "truncated": truncated,
                "cosine": reach["cosine"], "grad_norm": reach["grad_norm"], "batches": reach["batches"],
                "intervention": arm.name, **arm.extra}
    if ran is None or repeat is None or baseline.extra.get("timed_out"):
        return [make(CODE, f"{said}; the experiment without it did not finish", evidence=evidence, severity="info")]
    # trained on (``run_steps``: the setup and the arm go on to ``LONGER`` x the steps when the arm
    # trained better), a setup that draws level was slowed at the start only: an adaptive
    # optimizer's accumulated second moment (Adagrad, RMSprop, Adam) divides a uniformly shortened
    # step back out once it outgrows its eps, so the clip costs the first steps, not the run
    caught_up = interventions.caught_up(baseline, ran, repeat, by_loss=True)
    hurts = interventions.significant(baseline, ran, repeat, by_loss=True) and not caught_up
    numbers = (f"in {ran.steps} steps, with {ran.change} the held loss ends at {ran.after:.4g}, with the clip at "
               f"{baseline.after:.4g} (a repeat on other batches: {repeat.after:.4g})"
               + (f"; {100 * ran.acc:.1f}% against {100 * baseline.acc:.1f}% of the held rows right"
                  if None not in (ran.acc, baseline.acc) else ""))
    evidence.update(hurts=hurts, setup_loss=baseline.after, fix_loss=ran.after, repeat_loss=repeat.after,
                    steps=ran.steps, setup_accuracy=baseline.acc, fix_accuracy=ran.acc)
    if caught_up:
        a, b = ran.longer, baseline.longer
        evidence["longer"] = {"steps": a.steps, "setup_loss": b.after, "fix_loss": a.after, "setup_acc": b.acc,
                              "fix_acc": a.acc}
        return [make(CODE, f"{said}, but the setup catches up: {numbers}; trained on to step {a.steps} both end at "
                           f"{b.after:.4g} and {a.after:.4g}", evidence=evidence, severity="info")]
    if hurts:
        return [make(CODE, f"{said}: the clip cuts every step, not its spikes; {numbers}", evidence=evidence,
                     fix="clip at a bound the gradients reach only when they spike (clip_norm = 1.0 on the global "
                         "norm), or not at all")]
    return [make(CODE, f"{said}, but the setup without it trains no better: {numbers}", evidence=evidence,
                 severity="info")]
