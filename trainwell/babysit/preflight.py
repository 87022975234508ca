"""Pre-flight checks: the notes' babysitting checklist, run before training (notes 000 and 004).

"Check that the loss is reasonable; the loss goes up as you increase regularization; make sure
that you can overfit a very small portion of the training data; check gradients numerically"
— plus the data, label, init and activation checks the notes' figures motivate. Each check is a
measured quantity against a named threshold with a source; the registry ``registry.CODES``
lists them and docs/babysitter.md explains them.

All work happens on deep copies of the model (the caller's model, its weights, running
statistics and gradients are untouched) and on samples of a few hundred rows, so the whole
pre-flight stays well inside ``budget_s`` on digits-sized data.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from trainwell.babysit.budget import Budget
from trainwell.babysit.censored_values import check_censored
from trainwell.babysit.class_weighting import check_class_weights
from trainwell.babysit.constant_ids import check_constant_ids
from trainwell.babysit.data_checks import (check_class_balance, check_inner_targets, check_inputs_normalized, check_labels,
                                           check_nonfinite, check_shuffled, fix_applies, standardized)
from trainwell.babysit.duplicate_inputs import check_duplicate_inputs
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.first_layer import check_what_reaches
from trainwell.babysit.flat_rows import check_flat_rows
from trainwell.babysit.gradcheck import (ERROR_THRESHOLD, MAX_TENSORS, WARN_THRESHOLD, NotCheckable, gradcheck,
                                         in_the_loss)
from trainwell.babysit.ignored_classes import check_ignored_classes
from trainwell.babysit.init_checks import (check_activations, check_layer_outputs, check_registration, check_symmetry,
                                           has_normalization, hidden_and_output_layers, unregistered_modules)
from trainwell.babysit.input_content import check_inputs_informative
from trainwell.babysit.label_relation import reread
from trainwell.babysit.learnable import (CHANCE_SIGMAS, MEMORIZE_ROWS, MIN_UNSEEN_ROWS, UNSEEN_ROWS,
                                         check_labels_learnable, check_multi_hot_learnable)
from trainwell.babysit.loss_checks import check_initial_loss, check_logit_rank, check_loss_output
from trainwell.babysit.loss_kinds import CLASS_ID_KINDS, REGRESSION_KINDS, resolve_loss
from trainwell.babysit.model_checks import (BATCH_TOLERANCE, DEPENDENCE_ROWS, RUN_ROWS, STATISTIC_DRAWS, STATISTIC_ROWS,
                                            check_batch_dependence, check_loss_rows, check_model_runs, raised_finding)
from trainwell.babysit.output_range import final_op
from trainwell.babysit.overfit import REFERENCE_STEPS, check_overfit, disable_regularization
from trainwell.babysit.pooled_positions import check_pooled_positions
from trainwell.babysit.pooled_units import check_pooled_units
from trainwell.babysit.probe_steps import check_sparse_step, dense_gradients, probe_lr, sparse_gradients
from trainwell.babysit.probes import ActivationRecorder, input_signal, input_std
from trainwell.babysit.regularization_check import check_regularization
from trainwell.babysit.target_relation import check_targets_learnable
from trainwell.babysit.targets import check_targets
from trainwell.babysit.task_shapes import check_single_output, class_axis, position_rows
from trainwell.babysit.unread_ids import check_unread_ids
from trainwell.babysit.value_codes import check_value_codes
from trainwell.errors import ConfigError, DataError, TrainwellError

PROBE_ROWS = 256          # forward statistics and the initial loss: a few hundred rows
GRADCHECK_ROWS = 16       # the gradient check's rows: kept small, each of its GRADCHECK_COST forwards runs them
MODEL_CHECK_FORWARDS = 7   # check_batch_dependence: 4 forwards and a forward + backward (~3 forwards) of 16 rows
GRADCHECK_COST = 2 * (3 + 16 * MAX_TENSORS)   # the gradient check's forwards, charged to the budget: 4 coordinates
                          # x 2 differences x 2 sides per tensor, and one with backward (3 forwards' work), in
                          # float64 (about twice float32's time)
REGULARIZATION_STEPS = 4  # the regularization check's steps on the probe rows (one per regularizer, and the base)
OVERFIT_ROWS = 20         # notes 004: "overfit a very small portion" (the notes' example uses 20)


def _as_tensor(value, name):
    if isinstance(value, torch.Tensor):
        return value
    try:
        return torch.as_tensor(value)
    except Exception as exc:
        raise DataError(f"preflight: {name} cannot be read as a tensor: {exc}") from exc


def skipped_finding(skipped: list, budget: Budget) -> Finding:
    """``check_skipped`` for the checks a spent ``budget`` left out, saying whether its work's
    count or the wall-clock safety stop (babysit/budget.py) ended it."""
    why = ("the wall-clock safety stop (budget.py: 30x the budget, at least 10 minutes) fired" if budget.clock_stopped
           else f"the doctor's time backstop ({budget.root.wall_s:g} s) passed" if budget.wall_out()
           else f"the budget of {budget.seconds:g} nominal seconds was spent")
    return make("check_skipped", f"skipped {', '.join(skipped)}: {why}",
                evidence={"skipped": skipped, "nominal_seconds": budget.spent, "budget_s": budget.seconds,
                          "clock_stop": budget.clock_stopped})


# The checks that read the training rows alone (not the model's outputs or structure): what they
# find changes only with the rows, so a re-check after a change of the model alone leaves them out
# (``preflight(data_checks=False)``). ``fix_applies`` reads the model, but only for a finding's
# severity (info where the model raises on the fix), never for whether the scales are found.
DATA_CHECKS = ("check_value_codes", "check_censored", "check_inputs_normalized", "check_inputs_informative",
               "check_duplicate_inputs", "check_flat_rows", "check_class_balance", "check_shuffled")


def rows_alone(model, X, y, xb, *, kind: str, class_ids: bool) -> list[Finding]:
    """The checks of the inputs that read the rows ``X``, ``y`` alone: missing-value codes (their
    fix standardizes too: graded with the scales), integers wrapped, the scales, uninformative inputs
    (``xb``: the probe's rows, which the model is tried on standardized), slices of the input copied
    from one another (``duplicate_inputs``), readings clipped at two bounds (``censored_values``)."""
    codes = check_value_codes(X)
    scaled = [f for f in codes if f.code == "unnormalized_inputs"]
    found = fix_applies(check_inputs_normalized(X, y) + scaled, model, standardized(X, xb))
    found += [f for f in codes if f not in scaled]
    return (found + check_inputs_informative(X, y, class_ids=class_ids or kind in ("bce", "bce_prob"))
            + check_duplicate_inputs(X) + check_censored(X)
            + check_flat_rows(X, y, class_ids=class_ids or kind in ("bce", "bce_prob")))


# a gradient_mismatch whose model agrees with the finite differences under a linear read-out
# (gradcheck.in_the_loss): the user's loss holds part of itself fixed, often on purpose
LOSS_STOPS = ("; the model's own gradients agree under a linear read-out of its output, so the loss itself "
              "stops part of its gradient (a detach() or .data in it; its graph holds only torch's own operations): "
              "deliberate for a "
              "weight held fixed (self-paced or focal weights), a fault where the loss should move through it")


def gradient_findings(model: nn.Module, xb, yb, loss_fn, *, seed: int) -> list[Finding]:
    """Autograd's gradients against finite differences (notes 004: "check gradients numerically")
    on the rows ``xb``, ``yb``: ``gradient_mismatch`` for each tensor past ``WARN_THRESHOLD``, an
    error past ``ERROR_THRESHOLD`` unless the model's own gradients agree under a linear read-out
    (the user's loss stops part of its gradient: info, ``LOSS_STOPS``); ``check_skipped`` for a model
    the check cannot run on (``NotCheckable``)."""
    try:
        checked = gradcheck(model, xb, yb, loss_fn, seed=seed)
    except NotCheckable as exc:
        return [make("check_skipped", f"skipped the gradient check: {exc}",
                     evidence={"skipped": ["gradient check"], "reason": str(exc)})]
    wrong = [r for r in checked if r["rel_error"] > ERROR_THRESHOLD]
    lossy = bool(wrong) and in_the_loss(model, xb, yb, loss_fn, [r["name"] for r in wrong], seed=seed)
    findings = []
    for r in checked:
        if r["rel_error"] > WARN_THRESHOLD:
            bad = r["rel_error"] > ERROR_THRESHOLD
            findings.append(make(
                "gradient_mismatch",
                f"the gradient of {r['name']} disagrees with finite differences "
                f"(relative error {r['rel_error']:.2g}"
                + (f"; autograd says {r['analytic_norm']:.3g}, numerics {r['numeric_norm']:.3g})"
                   if bad else ", within the range ReLU kinks can cause)")
                + (LOSS_STOPS if bad and lossy else ""),
                evidence={**r, "in_the_loss": bad and lossy}, where=r["name"].rsplit(".", 1)[0],
                severity="error" if bad and not lossy else "info"))
    return findings


def preflight(model: nn.Module, X, y, *, loss="cross_entropy", num_classes: int | None = None,
              lr: float | None = None, optimizer="sgd", optimizer_options: dict | None = None,
              shuffle: bool = True, regularization: dict | None = None, penalty=None,
              budget_s: float = 60.0, budget: Budget | None = None, cheap_only: bool = False,
              data_checks: bool = True, loss_options: dict | None = None, seed: int = 0) -> list[Finding]:
    """Run the pre-flight checks and return the findings (an empty list: nothing found).

    ``loss``: a ``LOSSES`` name or a callable ``(output, target) -> scalar``; ``loss_options``: a
    named loss's options as ``fit`` takes them (label_smoothing, huber_delta, hinge_margin), so the
    checks judge the loss the run trains; ``optimizer``: a
    name ``build_optimizer`` accepts (sgd, adam, sam, newton, a torch.optim class name, an alias
    such as "momentum"), a factory ``params -> Optimizer`` or an optimizer (see
    ``make_optimizer``); ``optimizer_options``: its options as ``fit`` takes them, in
    ``build_optimizer``'s keywords (momentum, lr_mults, base, rho, ...; lr and weight decay are
    the probes' own); ``lr``: its learning rate (default: the optimizer's, else the record's
    ``default_lr``: 0.01 for SGD-type names, 1.0 for newton/bfgs/lbfgs, 1e-3 otherwise); ``shuffle``: whether
    training will shuffle; ``regularization``: ``{"weight_decay", "l2", "l1", "dropout"}`` as
    configured; ``penalty``: the regularization term added to the loss (``() -> tensor`` or
    ``model -> tensor``). Expensive checks are skipped (an ``info`` finding says so) once
    ``budget_s`` nominal seconds are spent (babysit/budget.py: counted steps at the cost model's
    price, the same on a quiet and a loaded machine; ``budget``: a doctor's share of its own,
    instead). ``cheap_only``: only the checks that need one forward pass (data,
    labels, loss/output, input and activation statistics, initial loss, symmetry); the gradient
    check, the regularization check, the overfit run and the labels' carry-over to unseen rows are
    left out, without a ``check_skipped`` finding. ``data_checks=False`` leaves out the checks that read the training rows alone
    (``DATA_CHECKS``: missing-value codes and scales, uninformative inputs, slices of the input
    copied, censored readings, class balance, data order): a caller that ran them on the same rows already has their findings (the repairer's
    re-check after a change of the model alone). The caller's model is never modified.
    """
    X, y = _as_tensor(X, "X"), _as_tensor(y, "y")
    if X.shape[0] != y.shape[0]:
        raise DataError(f"preflight: X has {X.shape[0]} rows but y has {y.shape[0]}")
    if X.shape[0] == 0:
        raise DataError("preflight: X is empty")
    if budget_s <= 0:
        raise ConfigError(f"preflight: budget_s = {budget_s}: must be > 0")
    budget = budget if budget is not None else Budget(budget_s)
    loss_fn, kind = resolve_loss(loss, **(loss_options or {}))
    lr = probe_lr(optimizer, lr, optimizer_options)
    if sparse_gradients(model):         # fit's first step refuses an optimizer that cannot take them
        check_sparse_step(model, X, y, loss_fn, optimizer, lr=lr, options=optimizer_options or {})
        model = dense_gradients(copy.deepcopy(model))
    regularization = dict(regularization or {})
    device = next((p.device for p in model.parameters()), X.device)
    gen = torch.Generator().manual_seed(seed)
    torch_state = torch.get_rng_state()
    torch.manual_seed(seed)
    findings: list[Finding] = []
    skipped: list[str] = []

    def within_budget(name, cost) -> bool:
        """The check starts when what is left pays for ``cost`` nominal seconds (its first steps)."""
        if cheap_only:
            return False
        if budget.left >= cost and not budget.clock_out() and not budget.wall_out():
            return True
        skipped.append(name)
        return False

    try:
        findings += check_nonfinite(X, y)
        finite_rows = torch.ones(X.shape[0], dtype=torch.bool)
        for t in (X, y):
            if torch.is_floating_point(t):
                finite_rows &= torch.isfinite(t.reshape(t.shape[0], -1)).all(dim=1).cpu()
        keep = finite_rows.nonzero().flatten()
        if keep.numel() == 0:
            return findings
        perm = keep[torch.randperm(keep.numel(), generator=gen)]
        probe_idx = perm[:PROBE_ROWS]
        xb, yb = X[probe_idx].to(device), y[probe_idx].to(device)
        class_ids = kind in CLASS_ID_KINDS or (kind == "other" and not torch.is_floating_point(y))

        raised = check_model_runs(model, xb, yb, loss_fn, seed=seed)   # the user's forward / backward raises:
        if raised:                                                      # nothing else can be measured
            return findings + raised
        work = copy.deepcopy(model).train()
        try:
            layers, last = hidden_and_output_layers(work, xb)
            recorder = ActivationRecorder(work)
            with torch.no_grad(), recorder:
                out = work(xb)
            check_single_output(out)    # a tuple / dict output: a ConfigError in words (task_shapes.py)
            stats = recorder.stats(exclude=out)
        except TrainwellError:
            raise
        except Exception as exc:        # fails on the probe's rows only (a batch size written into the forward)
            return findings + [raised_finding("forward", exc)]
        if not cheap_only:
            budget.count(model, xb)         # the cost model's work per step: what the checks below are charged
            budget.steps(1, RUN_ROWS)       # ... and check_model_runs' step, check_batch_dependence's passes
            budget.charge(MODEL_CHECK_FORWARDS * budget.forward_cost(DEPENDENCE_ROWS))

        try:                            # the bounding activation that produced the outputs, if one did
            final = final_op(work, xb)
        except Exception:               # a forward that fails under a function mode: the value checks still run
            final = None
        axis = class_axis(out, yb)     # ids per position (a tagger, a segmentation head): read as rows
        if axis is None:
            output_problems = check_loss_output(out, yb, kind, loss_fn, last=last, num_classes=num_classes,
                                                final=final)
            label_problems = check_labels(y.to(device) if not torch.is_floating_point(y) else yb, out, kind,
                                          num_classes=num_classes)
            if kind == "other":         # a user's loss: the targets it passes on to PyTorch's (data_checks)
                label_problems += check_inner_targets(loss_fn, out, yb)
        else:
            scores, ids = position_rows(out, yb, axis)
            output_problems = check_loss_output(scores, ids, kind, loss_fn, last=last, num_classes=num_classes,
                                                final=None) if ids.numel() else []
            every_id = y.reshape(-1)
            label_problems = check_labels(every_id[every_id >= 0].to(device), scores, kind, num_classes=num_classes)
        if not any(f.severity == "error" for f in output_problems + label_problems):
            output_problems += check_loss_rows(out, yb, loss_fn)    # a loss that mixes the rows of a batch
        if not any(f.severity == "error" for f in output_problems + label_problems):
            label_problems += check_ignored_classes(work, X[keep], y[keep], loss_fn, seed=seed)   # a class never trained
        findings += output_problems + label_problems
        # output rows that read other rows; a batch statistic's fading drawn from the rows read (pool)
        pool = X[keep].to(device)
        dependence = check_batch_dependence(model, xb, seed=seed, pool=pool)
        if any(f.evidence.get("change_permuted", 1.0) <= BATCH_TOLERANCE for f in dependence):
            # the batch statistic test: 3n rows a draw at each size
            budget.charge(budget.forward_cost(3 * STATISTIC_DRAWS * (STATISTIC_ROWS + DEPENDENCE_ROWS)))
        findings += dependence
        findings += check_targets(y[keep], out, kind)     # class ids or off-scale targets under a regression loss
        findings += check_class_weights(loss_fn, out, yb, y[keep])   # the prior the loss's class weights train to
        registered = not unregistered_modules(model)
        findings += check_registration(model)
        loss_usable = not any(f.severity == "error" for f in output_problems + label_problems)
        if data_checks:
            findings += rows_alone(model, X[keep], y[keep], xb, kind=kind, class_ids=class_ids)
        # what reaches the first trainable layer: information dropped before it, category ids as numbers
        findings += check_what_reaches(model, X[keep], y[keep], class_ids=class_ids, seed=seed)
        findings += check_constant_ids(model, X[keep], y[keep], class_ids=class_ids, seed=seed)  # ids one value on every row
        findings += check_unread_ids(model, X[keep], y[keep], class_ids=class_ids, seed=seed)    # a word masked as padding
        findings += check_pooled_units(model, xb, seed=seed)     # a layer's units pooled over their own axis
        findings += check_pooled_positions(model, X[keep], y[keep], class_ids=class_ids)   # a place pooled away
        if data_checks:
            findings += check_class_balance(y[keep], kind)
            findings += check_shuffled(y, shuffle=shuffle, class_ids=class_ids)
        findings += check_activations(stats, input_std(xb), input_signal(xb), normalized=has_normalization(model))
        if "exploding_activations" not in {f.code for f in findings}:
            findings += check_layer_outputs(work, xb, layers)
        if loss_usable:
            findings += check_logit_rank(out, kind)
            findings += check_initial_loss(out, yb, kind, loss_fn)
            findings += check_symmetry(copy.deepcopy(model).train(), xb, yb, loss_fn, layers)
            # a float64 copy cannot convert layers it does not know of: no gradient check without them
            if registered and within_budget("gradient check", GRADCHECK_COST * budget.forward_cost(GRADCHECK_ROWS)):
                gx, gy = xb[:GRADCHECK_ROWS], yb[:GRADCHECK_ROWS]
                budget.charge(GRADCHECK_COST * budget.forward_cost(gx.shape[0]))
                findings += gradient_findings(model, gx, gy, loss_fn, seed=seed)
            # by value per second: the overfit run finds faults of the model and the lr that nothing
            # before it sees; the labels check only labels that don't belong to their rows; the
            # regularization check only a regularizer that does nothing (a loaded machine or a
            # convolutional net spends the budget before the last one)
            if within_budget("overfit a small subset", budget.step_cost(OVERFIT_ROWS)):
                sub = perm[:OVERFIT_ROWS]
                overfit = check_overfit(model, X[sub].to(device), y[sub].to(device), loss_fn, kind, optimizer, lr,
                                        optimizer_options, budget=budget)
                if overfit is None:
                    skipped.append("overfit a small subset")
                else:
                    findings += overfit
            if within_budget("labels carry over to unseen rows", budget.step_cost(MEMORIZE_ROWS)):
                # at chance on unseen rows: the labels' fault, or the inputs' when columns relate to them
                findings += reread(check_labels_learnable(model, X[keep], y[keep], loss_fn, kind, gen=gen,
                                                          budget=budget), X[keep], y[keep], model=model)
                findings += check_multi_hot_learnable(model, X[keep], y[keep], loss_fn, kind, gen=gen,
                                                      budget=budget)   # the same for multi-label rows
                findings += check_targets_learnable(   # the same for a regression's float targets
                    model, X[keep], y[keep], kind, regression_kinds=REGRESSION_KINDS, memorize=MEMORIZE_ROWS,
                    unseen_rows=UNSEEN_ROWS, min_unseen=MIN_UNSEEN_ROWS, steps=REFERENCE_STEPS, sigmas=CHANCE_SIGMAS,
                    gen=gen, disable_regularization=disable_regularization, budget=budget)
            if within_budget("regularization check", REGULARIZATION_STEPS * budget.step_cost(xb.shape[0])):
                budget.steps(REGULARIZATION_STEPS, xb.shape[0])
                findings += check_regularization(model, xb, yb, loss_fn, optimizer, lr, regularization, penalty,
                                                 optimizer_options)
    finally:
        torch.set_rng_state(torch_state)
    if skipped:
        findings.append(skipped_finding(skipped, budget))
    return findings


def activation_table(model: nn.Module, X, *, rows: int = PROBE_ROWS) -> dict:
    """Per-layer activation mean/std/saturated/dead on ``rows`` examples (for reports and plots).
    Runs on a copy in training mode, so the model's running statistics are untouched."""
    work = copy.deepcopy(model).train()
    xb = _as_tensor(X, "X")[:rows]
    recorder = ActivationRecorder(work)
    with torch.no_grad(), recorder:
        out = work(xb.to(next((p.device for p in work.parameters()), xb.device)))
    return recorder.stats(exclude=out)
