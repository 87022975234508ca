"""Regression targets read on the host before any loss is computed: class ids fed to a regression
loss, and targets far from unit scale.

Two faults no other check names. A regression loss (mse, l1, huber / smooth_l1, or a user's loss
on float targets and a one-column output) on targets that are a few consecutive integers is a
classifier written as a regression: the loss treats class 3 as "closer" to 2 than to 0 and the
one output must place the classes on a line (``regression_on_class_ids``). Targets whose scale is
far from 1 make the untrained network's outputs (about unit scale, notes 000's init) wrong by the
targets' whole size: the loss at init is about E[y^2] = mean^2 + Var(y), its gradients scale with
it, and an lr sized for unit-scale problems is off by that factor (``targets_off_scale``).

Both read only the training targets (``preflight`` passes the rows it checks), in O(n) on the host.
"""
from __future__ import annotations

import torch

from trainwell.babysit.findings import Finding, make

REGRESSION_KINDS = {"mse", "l1", "huber"}   # loss_kinds.resolve_loss's kinds (smooth_l1 resolves to huber)

# regression_on_class_ids: integer-valued targets with at most CLASS_VALUES distinct values that are
# the consecutive ids a label encoder produces (0..K-1 or 1..K). A quantity (a count, a price in
# cents, an age) takes more values or skips some; ten is the largest class count of the data sets
# a label encoder is usually met with (digits, CIFAR-10, MNIST). Ordinal scales of <= 10 levels
# (ratings 1..5) fire too: the finding says so and is a warning, not an error.
CLASS_VALUES = 10
MIN_CLASS_VALUES = 2      # named regression losses: two values (0/1 regressed with MSE) are class ids too
MIN_CLASS_VALUES_OTHER = 3   # a user's loss on 0/1 float targets is usually binary cross-entropy

# targets_off_scale: per target column, std outside [TARGET_STD_LOW, TARGET_STD_HIGH] or |mean| above
# TARGET_MEAN_OFF. The band is the inputs' unit-scale band (data_checks.STD_HIGH / STD_LOW, notes 002:
# normalize to unit scale) applied to the targets: an untrained net outputs values of about unit
# scale, so its initial MSE is about mean^2 + Var(y); a mean of 10 is 100x that of a unit-scale
# target, a mean the output bias alone must travel at lr-sized steps.
TARGET_STD_HIGH = 10.0
TARGET_STD_LOW = 1e-2
TARGET_MEAN_OFF = 10.0


def _regression(y, out, kind: str, *, columns: bool = False) -> bool:
    """A regression setup with one target column: a named regression loss, or a user's loss
    (``kind == "other"``) on float targets with one output column per target column. ``columns``:
    several target columns count too, each with its output column ((N, K) targets against (N, K)
    outputs: a multi-output regression, whose columns the scale check reads one by one)."""
    if not torch.is_floating_point(y) or y.ndim > 2:
        return False
    width = out.shape[-1] if out.ndim >= 2 else 1
    targets = y.shape[1] if y.ndim == 2 else 1
    if targets != 1 and not (columns and out.ndim == 2 and width == targets):
        return False
    return kind in REGRESSION_KINDS or (kind == "other" and width == targets)


def check_class_id_targets(y, out, kind: str) -> list[Finding]:
    """``regression_on_class_ids``: a regression loss on float targets that are a few consecutive
    integers (``MIN_CLASS_VALUES``..``CLASS_VALUES`` values forming 0..K-1 or 1..K). Integer-dtype
    targets and several outputs are ``loss_output_mismatch``'s (loss_checks.check_loss_output)."""
    if not _regression(y, out, kind) or y.numel() == 0:
        return []
    v = y.detach().reshape(-1).cpu().double()
    if not bool(torch.isfinite(v).all()) or not bool((v == v.round()).all()):
        return []
    values = torch.unique(v)
    k = int(values.numel())
    least = MIN_CLASS_VALUES if kind in REGRESSION_KINDS else MIN_CLASS_VALUES_OTHER
    lo = int(values[0])
    if not (least <= k <= CLASS_VALUES) or lo not in (0, 1) or int(values[-1]) != lo + k - 1:
        return []
    ids = [int(x) for x in values]
    loss = kind if kind != "other" else "a regression loss"
    return [make("regression_on_class_ids",
                 f"{loss} on targets that take only the {k} consecutive integer values {ids}: these look like "
                 f"class ids regressed with one output, which orders the classes on a line (class {ids[-1]} "
                 f"'closer' to {ids[-2]} than to {ids[0]}); if they are quantities (counts, ratings), ignore this",
                 evidence={"values": ids, "distinct": k, "loss": kind, "rows": int(v.numel())},
                 fix=f"use cross_entropy with {k} outputs on the targets as int64 class ids"
                     + (f" (y - {lo})" if lo else "") + " (y.long())")]


def check_target_scale(y, out, kind: str) -> list[Finding]:
    """``targets_off_scale``: regression targets whose std or |mean| is far from unit scale (the
    worst column's numbers in the message and fix, every column's in the evidence); each column of
    a multi-output regression is read on its own."""
    if not _regression(y, out, kind, columns=True) or y.shape[0] < 2:
        return []
    t = y.detach().reshape(y.shape[0], -1).cpu().double()
    t = t[torch.isfinite(t).all(dim=1)]
    if t.shape[0] < 2:
        return []
    mean, std = t.mean(dim=0), t.std(dim=0)
    reasons, worst = [], []
    big_std, small_std, big_mean = float(std.max()), float(std.min()), float(mean.abs().max())
    if big_std > TARGET_STD_HIGH:
        reasons.append(f"std {big_std:.4g} (want ~1)")
        worst.append(int(std.argmax()))
    elif 0 < small_std < TARGET_STD_LOW:
        reasons.append(f"std {small_std:.3g} (want ~1)")
        worst.append(int(torch.where(std > 0, std, torch.full_like(std, float("inf"))).argmin()))
    if big_mean > TARGET_MEAN_OFF:
        reasons.append(f"mean {float(mean[mean.abs().argmax()]):.4g} (want ~0)")
        worst.append(int(mean.abs().argmax()))
    if not reasons:
        return []
    column = worst[0]
    if t.shape[1] > 1:          # a multi-output regression: name the column
        reasons = [f"column {column}: " + reasons[0]] + reasons[1:]
    init_loss = float((t * t).mean())
    # a user's own loss may be written for the targets as they are (a relative error, a log-cosh, a
    # Poisson deviance: standardizing breaks them, MAPE on centred targets divides by ~0), so what the
    # scale does to it is not known from the targets: a fact to state, not a warning
    users = kind == "other"
    return [make("targets_off_scale",
                 f"the regression targets are far from unit scale: {', '.join(reasons)}; an untrained network "
                 f"outputs values near 0, so " + ("a squared error would start" if users else "its loss starts")
                 + f" near E[y^2] = {init_loss:.3g} and the lr, the init and the gradients are all off by the "
                 f"targets' scale" + ("; the loss is the user's own, whose dependence on the scale is its own "
                                      "(a relative or scale-free loss needs the targets as they are): information, "
                                      "not a warning" if users else ""),
                 severity="info" if users else "warning",
                 evidence={"mean": mean.tolist(), "std": std.tolist(), "mean_square": init_loss, "loss": kind,
                           "column": column},
                 fix=(f"standardize the targets with training-split statistics, y = (y - {float(mean[column]):.4g}) / "
                      f"{float(std[column]):.4g}" + (f" for column {column} (each column by its own)"
                                                     if t.shape[1] > 1 else "")
                      + ", and map predictions back (pred * std + mean)"))]


def check_targets(y, out, kind: str) -> list[Finding]:
    """Both target checks on the training targets ``y`` against the model's output ``out``."""
    return check_class_id_targets(y, out, kind) + check_target_scale(y, out, kind)
