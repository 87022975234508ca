"""Do a regression's targets belong to their rows? The regression half of the labels check.

``learnable.check_labels_learnable`` memorizes a few training rows and scores rows it never saw:
class ids that belong to their rows carry over, ids apart from them leave the unseen rows at chance.
Float targets need their own reading, for two reasons. Chance is predicting the targets' mean, not
a class share. And a net that memorizes noisy targets interpolates the noise too, so its unseen
error at the end of memorizing can exceed the mean's on a real but noisy relation: the end of the
run is no fair score, while the accuracy of a memorized classifier is.

``check_targets_learnable`` (``label_problem``, a warning): a copy of the model at PyTorch's
default init (regularization off) fits ``learnable.MEMORIZE_ROWS`` training rows by MSE on targets
standardized with those rows (Adam lr 1e-3, notes 004's reference optimizer, up to
``overfit.REFERENCE_STEPS`` full-batch steps), and every ``EVERY`` steps predicts up to
``learnable.UNSEEN_ROWS`` rows it never saw. Its best unseen reading along the way (early stopping
read on the unseen rows themselves: optimistic for the model, so the test errs towards silence) is
compared with predicting the fitted rows' mean, row by row: d_i = (y_i - mean)^2 - (y_i - f(x_i))^2.
The finding needs the fitted rows learned (their loss at most ``LEARNED`` of its start and of their
targets' variance, the mean's loss on them: the model fits these rows, so a failure to carry over is
the targets', not the model's capacity; a fall from an untrained output far off the targets' scale,
a model that multiplies its output back to raw units, 2.4e4 -> 70 on standardized targets, fits
nothing) and the best
mean gain within ``learnable.CHANCE_SIGMAS`` standard errors of zero (mean(d) <= 3 sd(d) /
sqrt(rows)). Targets shuffled against their rows, another column read as the target, a running
total whose start is another row's: the model fits the rows it sees and predicts the others no
better than their mean. A relation too weak for 128 rows to show reads the same; the message says
both.
"""
from __future__ import annotations

import copy
import math

import torch

from trainwell.babysit.budget import Budget
from trainwell.babysit.findings import Finding, make

EVERY = 10          # the unseen rows are predicted every 10 steps of the memorization run
LEARNED = 0.5       # the fitted rows are learned once their MSE is half its start: the model explains half of
                    # the variance of the rows it sees (preflight's LEARNED_ACC reads a memorization the same way)
LR = 1e-3           # Adam's lr (notes 004: "a great starting point")


def _judged(y: torch.Tensor, kind: str, regression_kinds: set) -> bool:
    """Float targets a regression reads: a regression loss, or a loss of the user's own on targets
    that are not probability rows (a soft-label or distillation target sums to 1 a row)."""
    if not torch.is_floating_point(y) or y.ndim not in (1, 2) or y.shape[0] == 0:
        return False
    if kind in regression_kinds:
        return True
    if kind != "other":
        return False
    rows = y.reshape(y.shape[0], -1)
    probabilities = bool(((rows >= 0) & (rows <= 1)).all()) and (
        rows.shape[1] == 1 or bool(torch.allclose(rows.sum(1), torch.ones(rows.shape[0], dtype=rows.dtype),
                                                  atol=1e-3)))
    return not probabilities


def memorize_split(n: int, gen, *, memorize: int, unseen_rows: int, min_unseen: int):
    """``(fit, unseen)``: row indices of a memorization run, ``memorize`` rows to fit and up to
    ``unseen_rows`` others to score (one seeded permutation of ``n``), or None where fewer than
    ``min_unseen`` rows are left to score. The labels' checks and the targets' check share it."""
    held = min(unseen_rows, n - memorize)
    if held < min_unseen:
        return None
    perm = torch.randperm(n, generator=gen)
    return perm[:memorize], perm[memorize:memorize + held]


def check_targets_learnable(model, X, y, kind: str, *, regression_kinds: set, memorize: int, unseen_rows: int,
                            min_unseen: int, steps: int, sigmas: float, gen: torch.Generator,
                            disable_regularization, budget: Budget | None = None) -> list[Finding]:
    """``label_problem`` (a warning) when a regression's targets do not carry over from rows the model
    fitted to rows it never saw (module docstring). The preflight passes its constants and its
    ``disable_regularization``."""
    if not _judged(y, kind, regression_kinds):
        return []
    split = memorize_split(X.shape[0], gen, memorize=memorize, unseen_rows=unseen_rows, min_unseen=min_unseen)
    if split is None:
        return []
    fit, unseen = split
    held = len(unseen)
    device = next((p.device for p in model.parameters()), X.device)
    yf = y[fit].reshape(memorize, -1).double()
    mean, std = yf.mean(0), yf.std(0)
    if not bool((std > 0).all()):
        return []
    start = copy.deepcopy(model)
    for m in start.modules():           # the targets are judged, not the init
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    disable_regularization(start)
    start.train()
    xf, xu = X[fit].to(device), X[unseen].to(device)
    tf = ((yf - mean) / std).float().to(device)
    tu = ((y[unseen].reshape(held, -1).double() - mean) / std).cpu()
    with torch.no_grad():
        out = start(xf)
    if out.numel() != tf.numel():       # an output that is not one value per target: not read here
        return []
    opt = torch.optim.Adam(start.parameters(), lr=LR)
    baseline = (tu ** 2).sum(1)          # the fitted rows' mean, standardized: 0
    best, first, last = None, None, None
    for step in range(1, steps + 1):
        if budget is not None:
            if step > 1 and (budget.spent_out() or budget.wall_out()):
                return []               # cut before it could decide: no verdict
            budget.steps(1, memorize)
        loss = torch.nn.functional.mse_loss(start(xf).reshape(tf.shape), tf)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        value = float(loss.detach())
        first = value if first is None else first
        last = value
        if not math.isfinite(value):
            return []
        if step % EVERY == 0 or step == steps:
            with torch.no_grad():
                pred = start(xu).reshape(held, -1).double().cpu()
            d = baseline - ((tu - pred) ** 2).sum(1)
            gain = float(d.mean())
            if best is None or gain > best[0]:
                best = (gain, float(d.std()) / math.sqrt(held), step)
            if best[0] > sigmas * best[1] > 0:
                return []               # carried over beyond the noise: the targets belong to their rows
    if best is None or first is None or not (last <= LEARNED * min(first, float((tf ** 2).mean()))):
        return []                       # not fitted: the model's capacity, the lr or its outputs' scale, not the targets
    gain, se, at = best
    r2 = gain / float(baseline.mean())
    return [make("label_problem",
                 f"the model learns {memorize} training rows' targets (MSE {first:.3g} -> {last:.3g} in {steps} steps, "
                 f"targets standardized) but predicts {held} rows it did not see no better than their mean at any "
                 f"point of it (best R^2 {r2:.3f} at step {at}, within {sigmas:g} standard errors of 0): the targets "
                 f"do not belong to their rows (a shuffle, another column, a total that starts elsewhere), or the "
                 f"inputs tell almost nothing about them",
                 evidence={"fitted_rows": memorize, "unseen_rows": held, "first_loss": first, "last_loss": last,
                           "best_r2": r2, "best_step": at, "gain": gain, "gain_se": se, "sigmas": sigmas},
                 severity="warning",
                 fix="check that the targets are aligned with their rows (the same order after any shuffle, join "
                     "or split) and that the target column is the quantity meant (a difference, not a running total)")]
