"""A user's own loss that the task's standard loss beats on the run's own metric: graded by experiment.

A run is judged by its metric (accuracy for class ids, R^2 = 1 - MSE / Var(y) for a regression:
issue 11's kill rule), and a loss is a stand-in for it that the optimizer can follow. The standard
losses are the ones whose minimum is the metric's best prediction: cross-entropy's is the class
probabilities, whose argmax is the most accurate guess; MSE's is the conditional mean, which
minimizes MSE itself (Goodfellow et al. 2016, sec. 5.5 and 6.2.1). A loss the user wrote can weight
the rows or the errors otherwise: MAPE, ``|y - pred| / |y|``, weights each row by 1 / |y|, so on
standardized targets (crossing zero) a handful of rows near y = 0 dominate and the rest are barely
fit; a loss on the wrong scale or a typo in a formula does the same with no error raised. Whether
it costs this run is not a property of the formula alone (a scaled MSE, an RMSE or a smoothed
cross-entropy is harmless), so it is an experiment, as in ``interventions``: a copy of the model
trains ``STEPS`` steps with the user's loss (the *setup*), a copy from the same weights on the same
batches with the standard loss for the task (the *arm*), and a *repeat* of the setup on other
batches and dropout masks (the run's own noise), each measured on the same held training rows in
the metric. The arm helps when it is better by the measures the experiment grades every arm by:
for accuracies higher by ``interventions.MIN_LIFT`` (3 points), by more than ``SAMPLING_Z``
standard errors and ``NOISE_FACTOR`` x the repeat's difference; for a regression its MSE / Var(y)
at most 1 / ``KILL_RATIO`` of the setup's, ``MIN_POINTS`` (2 points of R^2) lower and lower by more
than ``NOISE_FACTOR`` x the repeat's difference. Then all three train on to the run's own length
(``run_steps``; without it ``interventions.LONGER`` x the steps) and the finding stands only where
the arm is still ahead there by the same tests (``MIN_POINTS`` left out there, as in
target_scale_arm.py: the kill rule itself is the ratio), so a loss that only starts slower is no
fault.

Tried only when the run's loss is the user's own (``loss_kinds.resolve_loss``'s kind "other": a
named loss or a torch loss module is the standard one or a known variant), with float targets
that the loss reads the outputs as predictions of (``reads_targets``: its minimum is at outputs
equal to the targets; the arm: MSE) or class ids scored by an output of one logit per class (the
arm: cross-entropy), and at least ``MIN_ROWS`` training rows. A loss of float targets that does not
read them as called but does with its two arguments swapped (``swap``: a formula written in Keras'
``(y_true, y_pred)`` order, which trainwell calls as ``loss(output, target)``: a relative error then
divides by the prediction) is tried against that swapped reading instead of MSE: the arm is the
user's own formula in the order it was written for, graded by the same tests (a loss symmetric in
its arguments, MSE, reads the targets either way and is tried as it stands). A float-target loss
whose minimum is at the targets but that costs an over- and an under-estimate unlike (``asymmetric``:
a quantile's pinball loss, in either order) aims at another statistic than the conditional mean R^2
needs: it is tried against MSE too, its repeat's spread read at the run's length only, and it stands
only where the user's copy there leaves a mean residual on its training rows whose addition to its
outputs lowers the held error by ``OFFSET_POINTS`` (``offset_score``). The finding is
``loss_output_mismatch`` as a warning: the loss does not measure what the run's outputs are scored on
(the code's other checks find a loss that fails or rewards the wrong outputs outright). Its message
says how many of a batch's rows the user's loss gives a gradient at the initial weights
(``rows_reached``): a mean reaches every row, a reduction that keeps the batch's worst rows only
those, and ``.max()`` of the per-row losses one, mostly a mislabelled one under label noise (the
maximal loss is the extreme that Shalev-Shwartz & Wexler 2016, "Minimizing the Maximal Loss", and Fan
et al. 2017, "Learning with Average Top-k Loss", show is at the mercy of outliers). Where the line
between online hard example mining and a loss that trains on too few rows lies is the experiment's
to draw, not the count's: a top-k or a focal loss that trains as well as cross-entropy is quiet. A
loss of class ids that cannot correct a confidently wrong row (``scoring_rule.cannot_correct``: its
pull on such a row fades as the true class's probability and it is improper, minus that probability)
leaves each copy's wrong rows stuck where its batches left them, so its copies drift apart over the
run by the fault itself: for it the noise at the run's length is the repeat's spread at ``steps``
(the mirror of the asymmetric loss, whose spread is read at the run's length only).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from trainwell.babysit import interventions
from trainwell.babysit.budget import Budget
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.loss_kinds import resolve_loss
from trainwell.babysit.scoring_rule import cannot_correct, cannot_correct_in_words, output_form
from trainwell.babysit.target_scale_arm import train_copy

STEPS = interventions.STEPS          # the arms' steps: the experiments' "few steps"
MIN_STEPS = interventions.MIN_STEPS  # fewer affordable steps: not tried
EVAL_ROWS = interventions.EVAL_ROWS  # the held training rows every copy is measured on ...
POOL_ROWS = interventions.POOL_ROWS  # ... and the rows the batches are drawn from (held rows apart)
MIN_ROWS = 100                       # fewer training rows: a held set of a quarter of them is too small to measure
NUDGE = 0.1                          # reads_targets: outputs moved 0.1 target std off the targets, both ways
NUDGE_ROWS = 256                     # ... on the first 256 training rows
SYMMETRY = 0.1                       # ... raising the loss alike both ways (within 10% of the larger rise): a loss
                                     # that costs an over- and an under-estimate differently (a quantile's pinball
                                     # loss, an asymmetric cost) is meant to predict something other than the mean
OFFSET_POINTS = interventions.MIN_POINTS   # an asymmetric loss: its copy's mean residual on training rows,
                                    # added to its outputs, lowers the held error by 2 points of R^2
RISE_FLOOR = 1e-3                    # asymmetric: the nudge's rise is at least 1e-3 of the rise with the outputs
                                     # shifted one row (MSE's is 0.01 std^2 of ~2 std^2), above float rounding
BUDGET_SHARE = 0.25                  # the doctor gives the arm a quarter of what is left, as the targets' scale arm
CODE = "loss_output_mismatch"
PART = "the user's loss against the standard loss"


def standard_loss(y, out_width: int | None) -> str | None:
    """The standard loss for the targets ``y`` (a ``LOSSES`` name): ``"mse"`` for float targets,
    ``"cross_entropy"`` for class ids (1-D integers) scored by ``out_width`` > 1 logits; else None."""
    if not torch.is_tensor(y) or y.ndim == 0:
        return None
    if torch.is_floating_point(y):
        return "mse"
    if y.ndim == 1 and out_width is not None and out_width > 1:
        return "cross_entropy"
    return None


def tried(loss, y, out_width: int | None) -> str | None:
    """The standard loss the user's ``loss`` is tried against, or None when the arm is not tried: a
    named or known loss, targets of no standard loss, or fewer than ``MIN_ROWS`` rows."""
    if isinstance(loss, str) or not callable(loss) or resolve_loss(loss)[1] != "other":
        return None
    if not torch.is_tensor(y) or y.ndim == 0 or y.shape[0] < MIN_ROWS:
        return None
    if torch.is_floating_point(y) and not bool(torch.isfinite(y).all()):
        return None
    return standard_loss(y, out_width)


def _rises(loss_fn, y, tail: tuple) -> list[float] | None:
    """How much the user's loss rises when outputs equal to the float targets ``y`` move ``NUDGE`` x
    the targets' std up and down, ``[up, down]``; None where outputs at the targets are no minimum
    (a rise below zero), the loss fails or is not finite, or the outputs' shape does not fit."""
    t = y[:NUDGE_ROWS]
    if t.numel() != t.shape[0] * math.prod(tail):
        return None
    out = t.reshape((t.shape[0],) + tuple(tail)).to(torch.float32)
    std = float(t.double().std()) if t.numel() > 1 else 0.0
    if not std > 0:
        return None
    try:
        with torch.no_grad():
            at = float(loss_fn(out, t))
            moved = [float(loss_fn(out + sign * NUDGE * std, t)) for sign in (1.0, -1.0)]
    except Exception:           # noqa: BLE001 - a loss that takes no such outputs: not tried
        return None
    if not (math.isfinite(at) and all(math.isfinite(m) and m >= at for m in moved)):
        return None
    rises = [m - at for m in moved]
    return rises if max(rises) > 0 else None


def reads_targets(loss_fn, y, tail: tuple = (1,)) -> bool:
    """Whether the user's loss reads the outputs as predictions of the float targets ``y`` as MSE
    does: outputs equal to the targets score no higher than outputs moved ``NUDGE`` x the targets'
    std off them, up or down, and the two rises differ by at most ``SYMMETRY`` of the larger (MSE's,
    MAPE's, a Huber's minimum is there). A loss on logits of 0/1 targets (binary cross-entropy: a
    larger logit for a 1 scores lower) or on another scale does not, and R^2 of its raw outputs would
    mean nothing; a loss with unequal rises is ``asymmetric``. ``tail``: the shape of one row of the
    model's outputs (``(1,)`` for one column, ``()`` for a model that squeezes it)."""
    rises = _rises(loss_fn, y, tuple(tail))
    return rises is not None and abs(rises[0] - rises[1]) <= SYMMETRY * max(rises)


def asymmetric(loss_fn, y, tail: tuple = (1,)) -> bool:
    """Whether the user's loss has its minimum at outputs equal to the float targets ``y`` but costs
    an over- and an under-estimate of the same size unlike (the rises differ by more than
    ``SYMMETRY`` of the larger): a quantile's pinball loss, an asymmetric cost, a pinball written with
    ``pred - target`` for ``target - pred``. On noisy targets its minimizer is not the conditional mean
    that MSE, and so R^2, needs: a quantile or another location, off the mean by a share of the noise."""
    rises = _rises(loss_fn, y, tuple(tail))
    if rises is None or abs(rises[0] - rises[1]) <= SYMMETRY * max(rises):
        return False
    # a loss blind to a constant shift (a correlation) rises by float rounding alone: no statistic it aims at
    t = y[:NUDGE_ROWS]
    out = t.reshape((t.shape[0],) + tuple(tail)).to(torch.float32)
    shuffled = out[torch.roll(torch.arange(out.shape[0]), 1)]
    try:
        with torch.no_grad():
            spread = float(loss_fn(shuffled, t)) - float(loss_fn(out, t))
    except Exception:           # noqa: BLE001 - it took the outputs above; a failure here: not tried
        return False
    return math.isfinite(spread) and max(rises) > RISE_FLOOR * spread


def swap(loss_fn):
    """``loss_fn`` called with its two arguments the other way round: ``swap(f)(output, target)`` is
    ``f(target, output)``, the user's formula read in the order Keras calls a loss, ``(y_true, y_pred)``."""
    def swapped(output, target):
        return loss_fn(target, output)
    swapped.__name__ = f"swapped {getattr(loss_fn, '__name__', type(loss_fn).__name__)}"
    return swapped


def _score(net: nn.Module, X, y, classify: bool, var) -> float:
    """The metric's error on the rows ``X``: 1 - accuracy for class ids, else MSE / Var(y) per
    target column, averaged (1 - R^2). inf when the outputs are non-finite or do not fit the targets."""
    net.eval()
    with torch.no_grad():
        out = net(X).detach()
    if not bool(torch.isfinite(out).all()):
        return math.inf
    if classify:
        if out.ndim != 2 or out.shape[0] != y.shape[0]:
            return math.inf
        return 1.0 - float((out.argmax(dim=1) == y).double().mean())
    pred, t = out.reshape(out.shape[0], -1).double().cpu(), y.reshape(y.shape[0], -1).double().cpu()
    if pred.shape != t.shape:
        return math.inf
    return float((((pred - t) ** 2).mean(dim=0) / var).mean())


def better(setup: float, arm: float, repeat: float, *, classify: bool, rows: int, at_length: bool = False,
           spread: float | None = None) -> bool:
    """The arm's metric error ends significantly below the setup's (the module docstring's tests;
    ``at_length``: the run's length, where ``MIN_POINTS`` is left out of the regression's test;
    ``spread``: the run's noise read elsewhere than ``|setup - repeat|``). A non-finite repeat: no
    noise estimate, never significant."""
    if not math.isfinite(arm) or not math.isfinite(repeat):
        return False
    gap = setup - arm                               # accuracy points, or points of R^2
    beyond_noise = gap > interventions.NOISE_FACTOR * (abs(setup - repeat) if spread is None else spread)
    if classify:
        p = 1 - (setup + arm) / 2
        sampling = interventions.SAMPLING_Z * math.sqrt(2 * p * (1 - p) / max(rows, 1))
        return beyond_noise and gap > sampling and gap >= interventions.MIN_LIFT
    points = 0.0 if at_length else interventions.MIN_POINTS
    return beyond_noise and gap >= points and setup >= interventions.KILL_RATIO * arm


def experiment(model: nn.Module, X, y, loss, *, optimizer, lr: float, weight_decay: float = 0.0,
               options: dict | None = None, batch_size: int = 64, seed: int = 0, clip_norm: float | None = None,
               run_steps: int | None = None, budget: Budget | None = None) -> dict | None:
    """The three copies' metric errors, ``{"standard", "classify", "steps", "setup", "arm", "repeat",
    "longer_steps", "setup_longer", "arm_longer", "repeat_longer", "held_rows"}`` (the longer ones
    None when the arm did not help at ``steps`` or the budget does not pay for three copies of
    ``run_steps``), or None when the arm is not tried (``tried``) or not affordable. ``loss``: the
    run's loss as configured (the user's callable)."""
    if not torch.is_tensor(X) or not torch.is_tensor(y) or X.shape[0] != y.shape[0]:
        return None
    device = next((q.device for q in model.parameters()), X.device)
    with torch.no_grad():       # the output's width decides whether class ids are scored by logits
        was = model.training
        model.eval()
        try:
            probe = model(X[:2].to(device))
        except Exception:       # noqa: BLE001 - a model that raises here is the code checks' finding
            return None
        finally:
            model.train(was)
    if not torch.is_tensor(probe) or probe.ndim == 0:
        return None
    width = probe.shape[1] if probe.ndim == 2 else None
    standard = tried(loss, y, width)
    if standard is None:
        return None
    user_fn, arm_fn, swapped, skewed = resolve_loss(loss)[0], resolve_loss(standard)[0], False, False
    if standard == "mse" and not reads_targets(user_fn, y, tuple(probe.shape[1:])):
        # a loss written for the other argument order (Keras' loss(y_true, y_pred)) reads the targets
        # once its arguments are swapped: the arm is the user's own formula in that order
        if reads_targets(swap(user_fn), y, tuple(probe.shape[1:])):
            arm_fn, swapped = swap(user_fn), True
        elif asymmetric(user_fn, y, tuple(probe.shape[1:])):
            skewed = True       # a loss aimed at another statistic than the mean: against MSE, and its offset
        else:
            return None
    classify = standard == "cross_entropy"
    # a loss of class ids that cannot correct a confidently wrong row (scoring_rule): its copies diverge as
    # each leaves other rows stuck wrong, so its noise is read at ``steps``, before they have (``confirmed``)
    fading = cannot_correct(user_fn, width, output_form(probe), device=probe.device) if classify else None
    n = X.shape[0]
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    held = order[:min(EVAL_ROWS, n // 4)]
    rows = order[held.numel():held.numel() + POOL_ROWS]
    var = None if classify else y[held].reshape(held.numel(), -1).double().var(dim=0).cpu()
    if var is not None and not bool((var > 0).all()):
        return None
    steps = STEPS
    if budget is not None:
        steps = min(STEPS, int(budget.affordable(batch_size) // 3))
        if steps < MIN_STEPS or not budget.fits_wall(budget.run_cost(3, steps, batch_size), PART):
            return None
    Xd, yd = X.to(device), y.to(device)
    common = dict(optimizer=optimizer, lr=lr, weight_decay=weight_decay, options=options or {},
                  batch_size=batch_size, clip_norm=clip_norm)
    held_X, held_y = Xd[held], yd[held]
    fit_X, fit_y = Xd[rows[:EVAL_ROWS]], yd[rows[:EVAL_ROWS]]   # training rows an offset is fitted on
    shifted = {}

    def measured(net):
        # an asymmetric loss's copy: also the held error once its training rows' mean residual is removed
        if skewed:
            shifted.update(offset_score(net, fit_X, fit_y, held_X, held_y, var))
        return _score(net, held_X, held_y, classify, var)

    def run(loss_fn, arm_seed, count, score=lambda net: _score(net, held_X, held_y, classify, var)):
        out = train_copy(model, Xd, yd, rows, score, loss_fn=loss_fn, seed=arm_seed, checkpoints=[count], **common)
        if budget is not None:
            budget.steps(count, batch_size)
        return out[0]

    try:
        setup = run(user_fn, seed, steps)
        arm = run(arm_fn, seed, steps)
        repeat = run(user_fn, seed + interventions.REPEAT_SEED, steps)
    except Exception:           # noqa: BLE001 - the standard loss does not take these outputs: no arm
        return None
    result = {"standard": standard, "swapped": swapped, "asymmetric": skewed, "fading": fading, "offset": None,
              "offset_sd": None, "shifted_longer": None, "classify": classify, "steps": steps, "setup": setup, "arm": arm,
              "repeat": repeat, "longer_steps": None, "setup_longer": None, "arm_longer": None,
              "repeat_longer": None, "held_rows": int(held.numel())}
    # an asymmetric loss's copies are slow to settle on their statistic (the pinball's gradient is bounded),
    # so their repeat's spread at ``steps`` says little: the noise test is left to the run's length there
    screened = better(setup, arm, setup if skewed else repeat, classify=classify, rows=held.numel())
    if screened:
        longer = max(run_steps or interventions.LONGER * steps, steps)
        if budget is None or (budget.affordable(batch_size) >= 3 * longer and budget.fits_wall(
                budget.run_cost(3, longer, batch_size), f"{PART} at the run's length")):
            result["longer_steps"] = longer
            result["setup_longer"] = run(user_fn, seed, longer, measured)
            if shifted:
                result.update(offset=shifted["offset"], offset_sd=shifted["offset_sd"],
                              shifted_longer=shifted["shifted"])
            result["arm_longer"] = run(arm_fn, seed, longer)
            result["repeat_longer"] = run(user_fn, seed + interventions.REPEAT_SEED, longer)
    return result


def offset_score(net: nn.Module, fit_X, fit_y, held_X, held_y, var) -> dict:
    """The trained copy's mean residual (target - output) per target column on the training rows
    ``fit_X`` (``offset``; ``offset_sd``: its largest in units of the residuals' std there) and its
    held error, MSE / Var(y) as ``_score``'s, once that mean is added to its outputs (``shifted``): the
    constant a regression's outputs miss the conditional mean by, fitted on other rows than it is
    scored on. Non-finite outputs: ``shifted`` inf."""
    net.eval()
    with torch.no_grad():
        fit_out, held_out = net(fit_X).detach(), net(held_X).detach()
    fit_res = fit_y.reshape(fit_y.shape[0], -1).double().cpu() - fit_out.reshape(fit_out.shape[0], -1).double().cpu()
    pred, t = held_out.reshape(held_out.shape[0], -1).double().cpu(), held_y.reshape(held_y.shape[0], -1).double().cpu()
    if fit_res.shape[1] != t.shape[1] or pred.shape != t.shape or not bool(torch.isfinite(fit_res).all()):
        return {"offset": None, "offset_sd": None, "shifted": math.inf}
    offset = fit_res.mean(dim=0)
    sd = fit_res.std(dim=0).clamp_min(1e-12)
    shifted = float((((pred + offset - t) ** 2).mean(dim=0) / var).mean())
    return {"offset": offset.tolist(), "offset_sd": float((offset.abs() / sd).max()), "shifted": shifted}


def confirmed(r: dict | None) -> bool:
    """The standard loss was better at ``steps`` and, trained on to the run's length, still is; for an
    ``asymmetric`` loss, also its copy's training rows' mean residual, added to its outputs, lowers the
    held error by ``OFFSET_POINTS`` of R^2 (the loss aims at another location than the mean); for a
    ``fading`` loss the noise at the run's length is the repeat's spread at ``steps``."""
    ok = r is not None and better(r["setup"], r["arm"], r["setup"] if r.get("asymmetric") else r["repeat"],
                                  classify=r["classify"], rows=r["held_rows"]) \
        and r["arm_longer"] is not None and better(r["setup_longer"], r["arm_longer"], r["repeat_longer"],
                                                   classify=r["classify"], rows=r["held_rows"], at_length=True,
                                                   spread=abs(r["setup"] - r["repeat"]) if r.get("fading") else None)
    if ok and r.get("asymmetric"):
        return r["shifted_longer"] is not None and r["setup_longer"] - r["shifted_longer"] >= OFFSET_POINTS
    return ok


def _said(error: float, classify: bool) -> str:
    return f"{100 * (1 - error):.1f}% of the held rows right" if classify else f"R^2 {1 - error:.3f}"


def check_loss_arm(model: nn.Module, X, y, loss, *, batch_size: int = 64, **kwargs) -> list[Finding]:
    """``loss_output_mismatch`` (a warning) when the task's standard loss trains the model to a
    significantly better metric than the user's own loss and is still ahead at the run's length
    (``confirmed``). ``batch_size`` (the run's; ``experiment``'s default) and ``kwargs``: ``experiment``'s."""
    r = experiment(model, X, y, loss, batch_size=batch_size, **kwargs)
    if not confirmed(r):
        return []
    c, name = r["classify"], getattr(loss, "__name__", type(loss).__name__)
    metric = "accuracy" if c else "R^2"
    if r["swapped"]:
        return [_swapped_finding(r, name)]
    if r["asymmetric"]:
        return [_offset_finding(r, name)]
    reached = rows_reached(model, X, y, loss, batch_size)
    selects = reached is not None and reached[0] < reached[1]
    return [make(
        CODE,
        f"the run's own loss ({name}) trains the model to a worse {metric} than the standard {r['standard']} "
        f"loss: a copy trained {r['steps']} steps with it reaches {_said(r['setup'], c)} on held training rows, the "
        f"same copy with {r['standard']} {_said(r['arm'], c)} (a repeat on other batches: {_said(r['repeat'], c)}), "
        f"and trained on to {r['longer_steps']} steps {_said(r['setup_longer'], c)} against "
        f"{_said(r['arm_longer'], c)} (repeat {_said(r['repeat_longer'], c)}): the loss weights the rows or the "
        f"errors otherwise than the {metric} the run is scored on"
        + (f"; its gradient reaches {reached[0]} of a batch's {reached[1]} rows at the initial weights (the others "
           f"get exactly zero: a reduction that keeps the batch's worst rows, as .max() or a top-k, trains each "
           f"step on those alone, under label noise mostly mislabelled ones)" if selects else "")
        + (f"; the loss cannot correct a row it gets wrong: {cannot_correct_in_words(r['fading'])} (the copies' "
           f"spread at {r['steps']} steps is the noise here: each later leaves other rows stuck)"
           if r.get("fading") else ""),
        evidence={"change": f"loss = {r['standard']!r}", **r, "rows_reached": reached, "user_loss": name},
        severity="warning", where="loss",
        fix=f"train with loss = \"{r['standard']}\" (its minimum is the {metric}'s best prediction) and compute "
            f"the other measure as a metric; a loss that divides by |y| (MAPE) needs targets far from zero"
            + ("; a hand-written cross-entropy takes F.log_softmax, not F.softmax" if r.get("fading") else ""))]


def rows_reached(model: nn.Module, X, y, loss, batch_size: int) -> tuple[int, int] | None:
    """``(rows, batch)``: how many of the first ``batch_size`` training rows get a nonzero gradient of the
    user's loss with respect to the model's outputs at its initial weights (eval mode), out of how many.
    A mean (or a focal loss, a weighted mean) reaches every row it does not fit exactly; a reduction that
    selects rows (the worst one, a top-k) reaches only those. None where the loss or the model fails."""
    xb, yb = X[:batch_size], y[:batch_size]
    device = next((q.device for q in model.parameters()), xb.device)
    was = model.training
    try:
        model.eval()
        with torch.no_grad():
            out = model(xb.to(device))
        out = out.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(loss(out, yb.to(device)), out, allow_unused=True)
    except Exception:           # noqa: BLE001 - a loss that fails here was graded by the experiment already
        return None
    finally:
        model.train(was)
    if grad is None or grad.shape[:1] != xb.shape[:1]:
        return None
    return int(grad.reshape(grad.shape[0], -1).ne(0).any(1).sum()), int(grad.shape[0])


def _swapped_finding(r: dict, name: str) -> Finding:
    """The finding where the arm was the user's loss with its arguments swapped (``experiment``)."""
    return make(
        CODE,
        f"the run's own loss ({name}) reads its arguments in the other order: trainwell calls loss(output, "
        f"target), and as called its minimum is not at outputs equal to the targets (an error of 0.1 target std "
        f"costs unlike up and down), while {name}(target, output) has it there, as a loss written in Keras' "
        f"(y_true, y_pred) order does; a copy trained {r['steps']} steps with it as called reaches "
        f"{_said(r['setup'], False)} on held training rows, the same copy with its arguments swapped "
        f"{_said(r['arm'], False)} (a repeat on other batches: {_said(r['repeat'], False)}), and trained on to "
        f"{r['longer_steps']} steps {_said(r['setup_longer'], False)} against {_said(r['arm_longer'], False)} "
        f"(repeat {_said(r['repeat_longer'], False)})",
        evidence={"change": "the loss's arguments swapped", **r, "user_loss": name}, severity="warning",
        where="loss",
        fix=f"write the loss as {name}(output, target), the order trainwell (and PyTorch) call it in, or pass "
            f"loss=lambda output, target: {name}(target, output)")


def _offset_finding(r: dict, name: str) -> Finding:
    """The finding for an ``asymmetric`` loss whose copy's outputs sit off the conditional mean (``experiment``)."""
    offset = ", ".join(f"{v:+.3g}" for v in r["offset"])
    return make(
        CODE,
        f"the run's own loss ({name}) costs an over- and an under-estimate of the same size unlike (an error of "
        f"0.1 target std up and down), so its minimizer is another statistic than the conditional mean that R^2 "
        f"scores (a quantile's pinball loss predicts that quantile): a copy trained {r['longer_steps']} steps with "
        f"it leaves a mean residual (target - output) of {offset} on its training rows ({r['offset_sd']:.2f} of "
        f"their residuals' std), and adding that constant to its outputs moves the held rows from "
        f"{_said(r['setup_longer'], False)} to {_said(r['shifted_longer'], False)}; the same copy trained with "
        f"mse reaches {_said(r['arm_longer'], False)} (repeat with the user's loss: "
        f"{_said(r['repeat_longer'], False)}; at {r['steps']} steps {_said(r['setup'], False)} against "
        f"{_said(r['arm'], False)})",
        evidence={"change": "loss = 'mse'", **r, "user_loss": name}, severity="warning", where="loss",
        fix="train a point forecast with loss = \"mse\" (or a symmetric loss such as the pinball at tau 0.5 / L1 "
            "on symmetric noise); keep a quantile loss only where the quantile is what the run is judged on, and "
            "then judge it by the pinball loss, not R^2")
