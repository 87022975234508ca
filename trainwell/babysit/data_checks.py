"""Pre-flight checks of the rows alone (notes 000-003): non-finite values, the inputs' scales,
labels in runs with shuffling off, labels against the loss and the output width, the classes'
balance.
"""
from __future__ import annotations

import math
from dataclasses import replace

import torch

from trainwell.babysit.findings import Finding, make
from trainwell.babysit.heavy_tails import EXPLAINS, heavy_tail_reason, heavy_tailed_columns
from trainwell.babysit.loss_kinds import CLASS_ID_KINDS, inner_losses
from trainwell.babysit.model_checks import rescaling_refused
from trainwell.data.transforms import Standardize

STATS_ROWS = 2000         # input statistics

# Thresholds of the checks (registry.CODES[code].thresholds names them).
MEAN_OFF = 1.0            # unnormalized_inputs: median |feature mean| above 1 (notes 002: zero-center)
STD_HIGH, STD_LOW = 10.0, 1e-2   # ... median feature std outside [1e-2, 10] (notes 002: unit scale)
SCALE_SPREAD = 100.0      # ... 90th / 10th percentile of the feature stds (LeCun et al. 1998 §4.3)
WHOLE_SCALE = 10.0        # ... a table standardized as one array or per row (its mean ~0, its std ~1) whose columns'
                          # ranges (max - min) still differ by 10x or more (90th / 10th percentile): the scaler ran
                          # without its axis and the columns keep their units' scales an order of magnitude apart
                          # (LeCun et al. 1998 §4.3: inputs of similar covariances; per-column standardization puts
                          # them together). Ranges, not stds: a flattened image's pixels share one range (0-16 for
                          # every inked pixel of the digits: 2.7x) while a rarely inked pixel's std is 100x smaller
WHOLE_TOLERANCE = 0.05    # ... "~0" and "~1": within 0.05 (the statistics of up to STATS_ROWS of the rows it was fit on)
RUN_CHANGES = 0.5         # unshuffled_data: fewer than half the label changes random order gives
SORTED_RHO = 0.9          # ... or |Spearman rho| of a continuous target with the row index above 0.9
PROBABILITY_TOLERANCE = 1e-3   # label_problem: target rows summing to 1 within this
IMBALANCE = 10.0          # class_imbalance: He & Garcia 2009, 10:1 and beyond


def check_nonfinite(X, y) -> list[Finding]:
    out = []
    for name, t in (("inputs", X), ("targets", y)):
        if torch.is_floating_point(t):
            bad = ~torch.isfinite(t)
            count = int(bad.sum())
            if count:
                rows = bad.reshape(t.shape[0], -1).any(dim=1).nonzero().flatten()
                out.append(make("nonfinite_data",
                                f"the {name} hold {count} NaN/inf values in {len(rows)} rows "
                                f"(first rows {rows[:5].tolist()})",
                                evidence={"tensor": name, "count": count, "rows": len(rows),
                                          "first_rows": rows[:5].tolist()},
                                fix=f"drop or impute the {len(rows)} rows with NaN/inf in the {name}"))
    return out


def check_inputs_normalized(X, y=None) -> list[Finding]:
    """Per-feature mean/std (notes 000/002: zero-center and normalize the inputs); with the targets
    ``y``, columns whose heavy tail sets their scale while the targets relate to their middle rows
    (``heavy_tails.heavy_tailed_columns``: evidence ``heavy_tailed``, and the label checks such a
    column misleads in ``explains``)."""
    if not torch.is_floating_point(X) or X.shape[0] < 2:
        return []
    x = X[:STATS_ROWS].reshape(min(X.shape[0], STATS_ROWS), -1).double()
    x = torch.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    mean, std = x.mean(dim=0), x.std(dim=0)
    varying = std > 1e-12 * (1 + mean.abs())
    if not bool(varying.any()):
        return []
    s = std[varying]
    med_mean = float(mean[varying].abs().median())
    med_std = float(s.median())
    spread = float(torch.quantile(s, 0.9) / torch.quantile(s, 0.1).clamp_min(1e-30))
    reasons = []
    if med_mean > MEAN_OFF:
        reasons.append(f"features are not centered (median |mean| {med_mean:.3g}, want ~0)")
    if med_std > STD_HIGH or med_std < STD_LOW:
        reasons.append(f"features have scale {med_std:.3g} (median std, want ~1)")
    if spread > SCALE_SPREAD:
        reasons.append(f"feature scales differ by {spread:.3g}x (90th/10th percentile of the stds)")
    # a table (rows x columns of their own units) standardized as one array, (X - X.mean()) / X.std(), or
    # per row (axis=1): the whole array's mean ~0 and std ~1, the columns' scales as apart as their units
    whole_mean, whole_std = float(x[:, varying].mean()), float(x[:, varying].std())
    ranges = (x.max(dim=0).values - x.min(dim=0).values)[varying]
    apart = float(torch.quantile(ranges, 0.9) / torch.quantile(ranges, 0.1).clamp_min(1e-30))
    if (X.ndim == 2 and not reasons and apart >= WHOLE_SCALE and abs(whole_mean) < WHOLE_TOLERANCE
            and abs(whole_std - 1) < WHOLE_TOLERANCE):
        reasons.append(f"the table was standardized over the wrong axis, as one array or per row (its mean "
                       f"{whole_mean:.2g}, its std {whole_std:.3g}), not per column: the columns' ranges still differ "
                       f"by {apart:.3g}x (90th / 10th percentile; their stds {float(s.min()):.3g} to "
                       f"{float(s.max()):.3g}); X.mean(0) / X.std(0), not X.mean() / X.std() or X.mean(1)")
    tails = heavy_tailed_columns(X, y) if y is not None else {}
    if tails:
        reasons.append(heavy_tail_reason(tails))
    if not reasons:
        return []
    evidence = {"median_abs_mean": med_mean, "median_std": med_std, "std_spread_p90_p10": spread,
                "features": int(varying.sum()), "range_spread_p90_p10": apart}
    fix = (f"standardize the inputs with training-split statistics: x = (x - mean) / std "
           f"(now median mean {med_mean:.3g}, median std {med_std:.3g})")
    if tails:
        evidence.update(heavy_tailed=sorted(tails), bulk_spread={j: t["bulk_spread"] for j, t in tails.items()},
                        bulk_p={j: t["p"] for j, t in tails.items()}, explains=list(EXPLAINS))
        fix = (f"map the heavy-tailed columns {sorted(tails)[:10]} monotonically (their log, or preprocess "
               f"{{name = \"quantile\", columns = {sorted(tails)}}}), then standardize every column")
    return [make("unnormalized_inputs", "the inputs are not normalized: " + "; ".join(reasons),
                 evidence=evidence, fix=fix)]


def standardized(X, xb):
    """``xb`` through the ``standardize`` preprocessing fitted on ``X`` (what the repair feeds the model)."""
    return Standardize().fit(X[:STATS_ROWS].float()).to(xb.device)(xb)


def fix_applies(found: list[Finding], model, fixed) -> list[Finding]:
    """``found`` (``unnormalized_inputs``: scales, missing-value codes) as it is when the model takes
    the standardized inputs ``fixed``; else each finding becomes ``info`` that says the fix does not
    apply to this model (a model that reads its inputs as ids or codes: it casts them to an
    embedding's indices, say, where a value far from the others is an id like the rest; it raises on
    the standardized rows, or clamps them into other ids: ``model_checks.rescaling_refused``)."""
    refused = rescaling_refused(model, fixed) if found else None
    for f in found if refused else ():
        f.severity = "info"
        f.evidence["fix_refused"] = {"standardize inputs": refused}
        f.message += f"; its fix does not apply to this model: on standardized inputs {refused}"
    return found


def check_shuffled(y, *, shuffle: bool, class_ids: bool) -> list[Finding]:
    """Contiguous runs of labels with shuffling off (notes 003: shuffle, then take batches)."""
    if shuffle or y.shape[0] < 10:
        return []
    n = y.shape[0]
    if class_ids and not torch.is_floating_point(y) and y.ndim == 1:
        counts = torch.bincount(y - y.min()).double()
        p = counts / n
        expected = (n - 1) * float(1 - (p * p).sum())
        changes = int((y[1:] != y[:-1]).sum())
        if expected > 0 and changes < RUN_CHANGES * expected:
            return [make("unshuffled_data",
                         f"the labels come in long runs ({changes} label changes between neighbours, "
                         f"{expected:.0f} expected in random order) and shuffling is off, so each batch "
                         f"sees few classes",
                         evidence={"label_changes": changes, "expected_changes": expected, "shuffle": shuffle})]
        return []
    if torch.is_floating_point(y) and y.ndim <= 2 and y.reshape(n, -1).shape[1] == 1:
        v = y.reshape(-1).double()
        ranks = torch.argsort(torch.argsort(v)).double()
        idx = torch.arange(n, dtype=torch.float64)
        rho = float(torch.corrcoef(torch.stack([ranks, idx]))[0, 1])
        if math.isfinite(rho) and abs(rho) > SORTED_RHO:
            return [make("unshuffled_data",
                         f"the targets are sorted (Spearman correlation with the row index {rho:.3f}) "
                         f"and shuffling is off", evidence={"spearman_rho": rho, "shuffle": shuffle})]
    return []


def check_labels(y, out, kind: str, *, num_classes) -> list[Finding]:
    """Targets against the loss and the output width (notes 003: outputs, loss and targets match)."""
    width = out.shape[-1] if out.ndim >= 2 else 1
    found = []

    def problem(message, fix, **evidence):
        found.append(make("label_problem", message, evidence=evidence, fix=fix))

    if kind in CLASS_ID_KINDS or (kind == "other" and not torch.is_floating_point(y)):
        if torch.is_floating_point(y) and y.shape == out.shape and kind == "cross_entropy":
            if bool((y < 0).any()) or float((y.sum(dim=-1) - 1).abs().max()) > PROBABILITY_TOLERANCE:
                problem("the targets have the output's shape (soft labels) but their rows are not "
                        "probability distributions", "make each target row non-negative and sum to 1")
            return found
        if torch.is_floating_point(y):
            integral = bool(torch.all(y == y.round()))
            problem(f"the targets are {y.dtype} but {kind} needs int64 class ids"
                    + ("" if integral else " (and they are not whole numbers)"),
                    "convert the targets with y.long()" if integral else
                    "use a regression loss (mse) for continuous targets, or encode classes as 0..C-1",
                    dtype=str(y.dtype))
            return found
        if y.ndim != 1:
            problem(f"class-id targets must be 1-D (N,), got shape {tuple(y.shape)}",
                    "pass class ids, not one-hot rows (y.argmax(dim=1))", shape=list(y.shape))
            return found
        lo, hi = int(y.min()), int(y.max())
        classes = int(torch.unique(y).numel())
        # labels that fit the data's own classes but not a too-narrow output layer are the model's
        # fault (check_loss_output reports the width); 1..C labels for C outputs are the labels'
        labels_fit_data = num_classes is not None and lo >= 0 and hi < num_classes and not (lo == 1 and hi == width)
        # a user's own loss on one score per row (a sigmoid's probability, a logit) against 0/1 ids is
        # a binary classifier, not a one-class output layer
        one_score = kind == "other" and width == 1 and lo >= 0 and hi <= 1
        if (lo < 0 or hi >= width) and not labels_fit_data and not one_score:
            problem(f"labels range over [{lo}, {hi}] but the model has {width} outputs (valid ids 0..{width - 1})",
                    f"size the output layer to {hi + 1} classes or remap the labels to 0..{width - 1}",
                    min=lo, max=hi, outputs=width)
        if num_classes is not None and hi >= num_classes:
            problem(f"labels go up to {hi} but num_classes = {num_classes}",
                    f"remap the labels to 0..{num_classes - 1} or set num_classes = {hi + 1}",
                    max=hi, num_classes=num_classes)
        if classes == 1:
            problem(f"every target is class {lo}: a classifier cannot learn from a single class",
                    "check the labels were loaded from the right column and split", classes=1)
    elif kind in ("bce", "bce_prob"):
        yf = y.double()
        lo, hi = float(yf.min()), float(yf.max())
        if lo < 0 or hi > 1:
            problem(f"binary cross-entropy needs targets in [0, 1], got [{lo:.4g}, {hi:.4g}]",
                    "encode the two classes as 0/1 (or use cross_entropy for several classes)", min=lo, max=hi)
        elif lo == hi:
            problem(f"every target is {lo:g}: one class only", "check the labels", value=lo)
    elif kind in ("kl_div", "kl_div_logprob"):
        yf = y.double()
        if bool((yf < 0).any()) or float((yf.sum(dim=-1) - 1).abs().max()) > PROBABILITY_TOLERANCE:
            problem("KL divergence needs each target row to be a probability distribution "
                    "(non-negative, summing to 1)", "normalize the target rows (y / y.sum(dim=1, keepdim=True))")
    return found


def check_class_balance(y, kind: str) -> list[Finding]:
    """Largest / smallest class count (He & Garcia 2009: imbalance of 10:1 and beyond)."""
    if kind in CLASS_ID_KINDS and not torch.is_floating_point(y) and y.ndim == 1 and y.numel() > 1:
        counts = torch.bincount(y.clamp_min(0))
        present = counts[counts > 0]
    elif kind in ("bce", "bce_prob") and y.ndim <= 2 and y.reshape(y.shape[0], -1).shape[1] == 1:
        pos = int((y > 0.5).sum())
        present = torch.tensor([pos, y.shape[0] - pos])
        present = present[present > 0]
    else:
        return []
    if present.numel() < 2:
        return []
    ratio = float(present.max()) / float(present.min())
    if ratio <= IMBALANCE:
        return []
    return [make("class_imbalance",
                 f"the classes are imbalanced: the largest has {ratio:.1f}x the examples of the smallest "
                 f"({int(present.max())} vs {int(present.min())})",
                 evidence={"ratio": ratio, "largest": int(present.max()), "smallest": int(present.min()),
                           "counts": counts.tolist() if kind in CLASS_ID_KINDS else present.tolist()})]


UNCHECKED_TARGETS = ("bce",)   # PyTorch's loss functions that take any float target (F.binary_cross_entropy raises
                               # outside [0, 1]: the pre-flight's run check reports it)


def check_inner_targets(loss_fn, out, y) -> list[Finding]:
    """A user's own loss (kind ``other``) read by the PyTorch losses it calls (``loss_kinds.inner_losses``):
    the targets it passes to one that does not check them (``UNCHECKED_TARGETS``: binary cross-entropy
    with logits takes a target of 2 and falls without bound as the output grows) get
    ``check_labels``' rule for that loss, the message naming the call."""
    return [replace(f, message=f"the loss calls F.{call.name}, and {f.message}",
                    evidence={**f.evidence, "inner_loss": call.name})
            for call in inner_losses(loss_fn, out, y)
            if call.kind in UNCHECKED_TARGETS and torch.is_floating_point(call.input)
            for f in check_labels(call.target, call.input, call.kind, num_classes=None)]
