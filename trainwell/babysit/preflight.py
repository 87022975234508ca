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
import inspect
import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit.actions import OUTPUT_ACTIVATIONS
from trainwell.babysit.budget import Budget
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.gradcheck import ERROR_THRESHOLD, MAX_TENSORS, WARN_THRESHOLD, NotCheckable, gradcheck, in_the_loss
from trainwell.babysit.ignored_classes import check_ignored_classes
from trainwell.babysit.constant_ids import check_constant_ids
from trainwell.babysit.first_layer import check_what_reaches
from trainwell.babysit.pooled_units import check_pooled_units
from trainwell.babysit.duplicate_inputs import check_duplicate_inputs
from trainwell.babysit.input_content import check_inputs_informative
from trainwell.babysit.label_relation import reread
from trainwell.babysit.model_checks import (BATCH_TOLERANCE, DEPENDENCE_ROWS, RUN_ROWS, STATISTIC_DRAWS,
                                           STATISTIC_ROWS, check_batch_dependence, check_loss_rows,
                                           check_model_runs, raised_finding, raises_on)
from trainwell.babysit.output_range import (check_loss_at_targets, check_loss_optimum, check_missing_activation,
                                             check_target_range, clipped_share, final_op)
from trainwell.babysit.probes import ActivationRecorder, input_signal, input_std
from trainwell.babysit.rules import DIVERGENCE_FACTOR
from trainwell.babysit.target_relation import check_targets_learnable, memorize_split
from trainwell.babysit.targets import check_targets
from trainwell.babysit.task_shapes import check_single_output, class_axis, multi_hot, position_rows
from trainwell.babysit.value_codes import check_value_codes
from trainwell.errors import ConfigError, DataError, TrainwellError
from trainwell.data.transforms import Standardize
from trainwell.nn.losses import LOSSES, make_loss, one_score_hits
from trainwell.optim.decay import DECOUPLED_KEY
from trainwell.optim.factory import build_optimizer
from trainwell.optim.registry import default_lr
from trainwell.optim.schedules import group_lrs
from trainwell.train.loop import needs_closure

PROBE_ROWS = 256          # forward statistics and the initial loss: a few hundred rows
GRADCHECK_ROWS = 16
MODEL_CHECK_FORWARDS = 7   # check_batch_dependence: 4 forwards and a forward + backward (~3 forwards) of 16 rows
GRADCHECK_COST = 2 * (3 + 16 * MAX_TENSORS)   # the gradient check's forwards, charged to the budget: 4 coordinates
                          # x 2 differences x 2 sides per tensor, and one with backward (3 forwards' work), in
                          # float64 (about twice float32's time)
REGULARIZATION_STEPS = 4  # the regularization check's steps on the probe rows (one per regularizer, and the base)
OVERFIT_ROWS = 20         # notes 004: "overfit a very small portion" (the notes' example uses 20)
OVERFIT_STEPS = 200       # full-batch steps with the user's optimizer (notes 004 log: 200 epochs)
REFERENCE_STEPS = 300     # Adam lr=1e-3 (notes 004: "a great starting point") before blaming the model
MEMORIZE_ROWS = 128       # label_problem (unlearnable labels): memorize this many rows ...
UNSEEN_ROWS = 384         # ... and score up to this many unseen ones,
MIN_UNSEEN_ROWS = 128     # ... at least this many (3 binomial sigmas of chance 0.5 on 128 rows: +-0.13)
MEMORIZED_ACC = 0.9       # ... once the subset's accuracy covered 90% of the way from guessing its commonest
                          # class to 100% (75/25 classes: 97.5%; an imbalanced subset at 90% has not memorized)
LEARNED_ACC = 0.5         # ... or, where REFERENCE_STEPS end short of that, half of the way: rows learnt that far
                          # have taught the model what carries over first (Arpit et al. 2017: real patterns are
                          # learnt before noise), so unseen rows at chance still say the labels are not the rows'
CHANCE_SIGMAS = 3.0       # ... unseen accuracy within 3 binomial sigmas of chance (sum_k p_k q_k: the
                          # predictions' agreement with the labels were they independent, Cohen 1960)
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
ROW_SUM_TOLERANCE = 1e-4  # loss_output_mismatch: output rows summing to 1 (softmax) within this
LOG_PROB_SLACK = 1e-6     # ... log-probabilities are <= 0 up to rounding
MAX_CLASS_IDS = 50        # ... whole-number targets with at most 50 values are class ids
LOSS_SHIFT = 100.0        # loss_output_mismatch: every output raised by 100 ...
UNBOUNDED_DROP = 0.5      # ... lowers the loss by at least half of that: it falls without bound as the outputs
                          # grow (NLL on raw logits: -out[y] falls 1:1; softmax losses are shift-invariant)
IMBALANCE = 10.0          # class_imbalance: He & Garcia 2009, 10:1 and beyond
LOSS_RATIO_LOW, LOSS_RATIO_HIGH = 0.5, 1.5   # bad_initial_loss: initial / uniform-guess loss
REGRESSION_LOSS_RATIO = 3.0   # ... a regression loss above 3x that of predicting zeros
REGRESSION_FIT = 0.05     # cannot_overfit_small_subset: a regression subset is fitted at 5% of its first loss
BARELY_MOVED = 0.1        # the overfit run moved its loss < 10%: the lr is too low
STALL_SHARE = 0.1         # cannot_overfit_small_subset: a run whose loss still fell >= BARELY_MOVED over its last
                          # 10% of steps has not stalled: it trains on to 2x the steps before the verdict
WRONG_WAY = 0.5           # loss_output_mismatch: minimizing the loss left the memorized rows' accuracy below
                          # half of what guessing the commonest class scores (a loss that rewards the wrong class)
LOSS_SPENT = 0.01         # ... or the loss fell to 1% of its first value while the rows' accuracy stayed short of
                          # LEARNED_ACC: a cross-entropy from ln C (C < 32) at 1% on OVERFIT_ROWS rows leaves each
                          # row's loss below ln 2, its right class above 1/2: every row right (a loss blind to the classes)
NO_SHRINK = 1e-2          # regularization_not_effective: one decay step (float64) shrinks ||w|| by less
                          # than 1% of lr x weight_decay, the shrink plain SGD's decay gives
SAME_OUTPUT = 1e-6        # ... two dropout forward passes differ by less (relative)
VANISHING_STD = 1e-2      # vanishing_activations: std (or per-unit signal) below 1e-2 x the input's
EXPLODING_STD = 10.0      # exploding_activations: std above 10x the input's
SATURATED_SHARE = 0.2     # saturated_units: more than 20% of a layer's values saturated
DEAD_SHARE = 0.4          # dead_units: CS231n "as much as 40% of your network can be dead"
MAX_LOW_RANK = 1          # low_rank_logits: scores along one direction (classes as sorted intervals of a line)
RANK_TOLERANCE = 1e-4     # ... a singular value of the scores counts above 1e-4 of the largest
                          # (float32 scores of a rank-deficient product sit near 1e-7 of it)

# Loss kinds: what the loss expects as output and targets.
CLASS_ID_KINDS = {"cross_entropy", "hinge", "nll"}
LOGIT_KINDS = {"cross_entropy", "hinge", "bce", "kl_div"}
# Final activations that bound or clip what a from-logits loss receives.
RELU_LIKE = (nn.ReLU, nn.ReLU6, nn.Softplus)
BOUNDING = (nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardsigmoid, nn.Softsign, *RELU_LIKE)
REGRESSION_KINDS = {"mse", "l1", "huber"}
_MODULE_KINDS = {nn.CrossEntropyLoss: "cross_entropy", nn.NLLLoss: "nll", nn.BCEWithLogitsLoss: "bce",
                 nn.BCELoss: "bce_prob", nn.MSELoss: "mse", nn.L1Loss: "l1", nn.HuberLoss: "huber",
                 nn.SmoothL1Loss: "huber", nn.KLDivLoss: "kl_div_logprob",
                 nn.MultiMarginLoss: "hinge"}
_FUNCTION_KINDS = {F.cross_entropy: "cross_entropy", F.nll_loss: "nll",
                   F.binary_cross_entropy_with_logits: "bce", F.binary_cross_entropy: "bce_prob",
                   F.mse_loss: "mse", F.l1_loss: "l1", F.huber_loss: "huber", F.smooth_l1_loss: "huber",
                   F.kl_div: "kl_div_logprob", F.multi_margin_loss: "hinge"}


def resolve_loss(loss) -> tuple:
    """``(loss_fn, kind)`` for a ``LOSSES`` name or any callable (kind ``"other"`` if unknown)."""
    if isinstance(loss, str):
        return make_loss(loss), loss
    if not callable(loss):
        raise ConfigError(f"loss = {loss!r}: must be one of {', '.join(sorted(LOSSES))} or a callable")
    for name, fn in LOSSES.items():
        if loss is fn:
            return loss, name
    for cls, kind in _MODULE_KINDS.items():
        if isinstance(loss, cls):
            return loss, kind
    return loss, _FUNCTION_KINDS.get(loss, "other")


def make_optimizer(spec, model: nn.Module, *, lr: float, weight_decay: float = 0.0,
                   total_steps: int | None = None, **options):
    """A probe's optimizer over ``model`` (a working copy): ``build_optimizer`` with the probe's
    ``lr`` and ``weight_decay`` and the run's other ``options`` (an optimizer instance is rebuilt
    over the copy). A callable ``params -> Optimizer`` builds its own groups; the probe still sets
    their lr and weight decay (coupled or decoupled)."""
    opt = build_optimizer(spec, model, lr=lr, weight_decay=weight_decay, total_steps=total_steps, **options)
    if callable(spec) and not isinstance(spec, (str, type, torch.optim.Optimizer)):
        for group in opt.param_groups:
            group["lr"] = lr
            for key in ("weight_decay", DECOUPLED_KEY):
                if key in group:
                    group[key] = weight_decay
    return opt


def take_step(opt, closure) -> None:
    """One step in the trainer's protocol: optimizers that need it get the closure (SAM, Newton,
    L-BFGS evaluate it several times); the others step after one call."""
    if needs_closure(opt):
        opt.step(closure)
    else:
        closure()
        opt.step()


def train_step(net, opt, loss_fn, xb, yb, clip=None, *, after_backward=None) -> torch.Tensor:
    """One training step of a copy on one batch (the trainer's protocol, ``take_step``; ``clip``: a
    global gradient norm; ``after_backward()``: a gradient hook run before it, as the run's hooks
    are): the batch's loss. The experiments' arms and the sizing trials train with it."""
    passes = []

    def closure(backward: bool = True):
        loss = loss_fn(net(xb), yb)
        if backward:
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if after_backward is not None:
                after_backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        passes.append(loss.detach())
        return loss
    take_step(opt, closure)
    return passes[0]


def probe_lr(spec, lr, options=None):
    """The probe's lr: ``lr`` when given, else the optimizer instance's, else the record's
    default (``registry.default_lr``; a wrapper's is its base's)."""
    if lr is not None:
        return float(lr)
    if isinstance(spec, torch.optim.Optimizer):
        return float(spec.param_groups[0]["lr"])
    return default_lr(spec, base=(options or {}).get("base"))


# ---------------------------------------------------------------------------- data checks
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


def check_inputs_normalized(X) -> list[Finding]:
    """Per-feature mean/std (notes 000/002: zero-center and normalize the inputs)."""
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
    if not reasons:
        return []
    return [make("unnormalized_inputs", "the inputs are not normalized: " + "; ".join(reasons),
                 evidence={"median_abs_mean": med_mean, "median_std": med_std, "std_spread_p90_p10": spread,
                           "features": int(varying.sum()), "range_spread_p90_p10": apart},
                 fix=(f"standardize the inputs with training-split statistics: x = (x - mean) / std "
                      f"(now median mean {med_mean:.3g}, median std {med_std:.3g})"))]


def standardized(X, xb):
    """``xb`` through the ``standardize`` preprocessing fitted on ``X`` (what the repair feeds the model)."""
    return Standardize().fit(X[:STATS_ROWS].float()).to(xb.device)(xb)


def fix_applies(found: list[Finding], model, fixed) -> list[Finding]:
    """``found`` (``unnormalized_inputs``: scales, missing-value codes) as it is when the model takes
    the standardized inputs ``fixed``; else each finding becomes ``info`` that says the fix does not
    apply to this model (a model that reads its inputs as ids or codes: it casts them to an
    embedding's indices, say, where a value far from the others is an id like the rest)."""
    raised = raises_on(model, fixed) if found else None
    for f in found if raised else ():
        f.severity = "info"
        f.evidence["fix_raises"] = {"standardize inputs": raised}
        f.message += (f"; its fix does not apply to this model: on standardized inputs the model raises "
                      f"{raised} (it reads these inputs as they are: ids or codes, say)")
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


# ---------------------------------------------------------------------------- model checks
def _looks_like(out) -> dict:
    """What the output values look like: probability rows, log-probability rows, (0, 1) values."""
    o = out.detach().double()
    if not bool(torch.isfinite(o).all()):
        return {"probabilities": False, "log_probabilities": False, "unit_interval": False}
    wide = o.ndim >= 2 and o.shape[-1] > 1
    in01 = bool(((o >= 0) & (o <= 1)).all())
    return {
        "probabilities": wide and in01 and float((o.sum(dim=-1) - 1).abs().max()) < ROW_SUM_TOLERANCE,
        "log_probabilities": wide and bool((o <= LOG_PROB_SLACK).all())
                             and float(torch.logsumexp(o, dim=-1).abs().max()) < ROW_SUM_TOLERANCE,
        "unit_interval": bool(((o > 0) & (o < 1)).all()),
    }


def batch_log_softmax(out) -> bool:
    """Outputs that are a log-softmax over the batch axis: ``(N, C)`` with N > 1 rows whose
    columns each sum to 1 in probability (within ``ROW_SUM_TOLERANCE``) while the rows do not."""
    if out.ndim != 2 or out.shape[0] < 2 or out.shape[1] < 2 or not torch.is_floating_point(out):
        return False
    with torch.no_grad():
        p = out.detach().double().exp()
        columns = (p.sum(dim=0) - 1).abs().max()
        rows = (p.sum(dim=1) - 1).abs().max()
    return bool(columns <= ROW_SUM_TOLERANCE) and not bool(rows <= ROW_SUM_TOLERANCE)


def _ids_outside(y, width: int, kind: str) -> bool:
    """Integer class-id targets with an id outside 0..width-1 (a loss that indexes by them fails)."""
    if torch.is_floating_point(y) or y.numel() == 0 or kind in REGRESSION_KINDS:
        return False
    return bool((y < 0).any()) or bool((y >= width).any())


def check_loss_output(out, y, kind: str, loss_fn, *, last: tuple, num_classes, final=None) -> list[Finding]:
    """The model's last module and output values against the loss (notes 003 design choices).
    ``final``: the bounding activation that produced the outputs (``output_range.final_op``: a
    module's or a functional call), for the checks of what the outputs can reach."""
    width = out.shape[-1] if out.ndim >= 2 else 1
    last_name, last_module = last
    last_type = type(last_module).__name__ if last_module is not None else None
    look = _looks_like(out)
    found = []
    clipped = clipped_share(final, out)
    # torch.sigmoid(z) returned by the forward squashes the logits as an nn.Sigmoid module does
    squashed = final is not None and final[0] == "sigmoid" and not isinstance(last_module, BOUNDING)
    if (clipped is not None or squashed) and not isinstance(last_module, BOUNDING):
        last_type = final[0]        # a functional relu or sigmoid on the logits: named by its function

    def mismatch(message, fix, **evidence):
        evidence.update(last_module=last_type, outputs=width, loss=kind)
        found.append(make("loss_output_mismatch", message, evidence=evidence, where=last_name, fix=fix))

    if kind in LOGIT_KINDS and (isinstance(last_module, nn.Softmax) or look["probabilities"]):
        # the model still trains class probabilities (their argmax unchanged), so whether the softmax
        # costs this run is measured (interventions.grade): the experiment takes out a softmax module,
        # or trains on the log of the probability rows a softmax in forward returns (log_softmax of
        # log p is log p: cross-entropy on the logits the softmax received)
        graded = {"graded": True} if isinstance(last_module, nn.Softmax) or look["probabilities"] else {}
        mismatch(f"the model's outputs are already softmax probabilities (rows sum to 1) but {kind} "
                 f"expects raw logits and applies the (log-)softmax itself; gradients are squashed",
                 f"remove the final softmax{f' ({last_name})' if last_name else ''} and return logits",
                 probability_rows=look["probabilities"], **graded)
    elif kind in ("bce", "hinge") and (isinstance(last_module, nn.Sigmoid) or (look["unit_interval"] and width >= 1
                                                                              and out.numel() >= 8)):
        mismatch(f"the model ends in a sigmoid (all outputs in (0, 1)) but {kind} expects logits",
                 f"remove the final sigmoid{f' ({last_name})' if last_name else ''}; {kind} applies it itself",
                 unit_interval=look["unit_interval"])
    elif kind in LOGIT_KINDS and (isinstance(last_module, BOUNDING) or clipped is not None or squashed):
        # a from-logits loss needs unbounded logits: a sigmoid (a module or a functional call) hands it
        # probabilities (error, as a softmax does); tanh caps every logit at 1 and ReLU at 0 from below (warning)
        squashes = isinstance(last_module, nn.Sigmoid) or squashed
        found.append(make(
            "loss_output_mismatch",
            f"the model ends in {last_type} but {kind} expects unbounded logits: "
            + ("its outputs are probabilities in (0, 1), so the loss applies a second squashing"
               if squashes else "the logits are clipped, so the loss cannot reach confident predictions"
               if not (isinstance(last_module, RELU_LIKE) or clipped is not None) else "no logit can go below 0 and "
               "a unit that dies silences its class" + (f" ({100 * clipped:.0f}% of the untrained logits are held at 0)"
                                                        if clipped is not None else "")),
            evidence={"last_module": last_type, "outputs": width, "loss": kind,
                      **({"clipped_share": clipped} if clipped is not None else {})},
            where=last_name if isinstance(last_module, BOUNDING) else None,
            severity="error" if squashes else "warning",
            fix=f"remove the final {last_type}"
                f"{f' ({last_name})' if last_name and isinstance(last_module, BOUNDING) else ''} and return logits"))
    elif kind == "nll" and not (isinstance(last_module, nn.LogSoftmax) or look["log_probabilities"]):
        # raw scores (no output activation to remove): the repair appends log_softmax
        raw = {} if look["probabilities"] or isinstance(last_module, OUTPUT_ACTIVATIONS) else {
            "missing_activation": "log_softmax"}
        if batch_log_softmax(out):
            mismatch("NLLLoss expects log-probabilities over the classes, but the outputs are log-softmax over the "
                     "batch (dim=0): each class's column sums to 1 in probability across the rows, so a row's "
                     "prediction depends on the rows beside it", "take log_softmax over the classes (dim=1), not dim=0",
                     **raw, normalized_over="batch", cause="log_softmax over the batch axis (dim=0)")
        else:
            mismatch("NLLLoss expects log-probabilities, but the outputs are not log-softmax rows",
                     "use cross_entropy on the logits, or end the model with log_softmax", **raw)
    elif kind == "kl_div_logprob" and not look["log_probabilities"]:
        raw = {} if look["probabilities"] or isinstance(last_module, OUTPUT_ACTIVATIONS) else {
            "missing_activation": "log_softmax"}
        mismatch("KLDivLoss expects log-probabilities as input, but the outputs are not log-softmax rows",
                 "apply log_softmax to the output, or use the 'kl_div' loss that takes logits", **raw)
    if kind in CLASS_ID_KINDS and width == 1:
        mismatch(f"{kind} on a single output is constant: there is nothing to choose between",
                 "give the output layer one unit per class, or use bce for a binary problem")
    if kind in CLASS_ID_KINDS and num_classes is not None and width < num_classes:
        mismatch(f"the model has {width} outputs but there are {num_classes} classes",
                 f"size the last layer to {num_classes} outputs", num_classes=num_classes)
    unused = []
    if kind in CLASS_ID_KINDS and num_classes is not None and width > num_classes:
        # outputs no label names (class ids 0..num_classes-1 over every split): cross-entropy's gradient
        # on an unused logit is its softmax probability, > 0 (a margin loss's is > 0 inside the margin),
        # so the loss only pushes those logits down, and the used ones train as a num_classes-way
        # classifier does (Bridle 1990: softmax outputs estimate the class posteriors; a class with no
        # examples has posterior 0). A defect that costs no accuracy: info, after the checks that read
        # the outputs (they still run)
        unused.append(make("loss_output_mismatch",
                          f"the model has {width} outputs but the labels are classes 0..{num_classes - 1}: outputs "
                          f"{num_classes}..{width - 1} are never a target; {kind} only pushes their logits down and "
                          f"trains the others as a {num_classes}-way classifier, so it costs no accuracy",
                          evidence={"num_classes": num_classes, "unused_outputs": width - num_classes,
                                    "last_module": last_type, "outputs": width, "loss": kind},
                          where=last_name, severity="info", fix=f"size the last layer to {num_classes} outputs"))
    if kind in REGRESSION_KINDS:
        class_like = (not torch.is_floating_point(y)) or (
            width > 1 and y.ndim == 1 and bool(torch.all(y == y.round())) and torch.unique(y).numel() <= MAX_CLASS_IDS)
        if class_like:
            mismatch(f"a regression loss ({kind}) is used on class ids: it treats class 7 as 'closer' to "
                     f"8 than to 1", "use cross_entropy on logits for class ids", target_dtype=str(y.dtype))
    if kind in ("bce", "bce_prob") and not torch.is_floating_point(y) and width > 1:
        mismatch(f"{kind} with {width} outputs and integer class ids: use cross_entropy for several classes",
                 "use cross_entropy (softmax over the classes) for class ids")
    # a model whose outputs are log-softmax rows cannot raise them all (they are normalized:
    # logsumexp = 0), so a log-likelihood on them (the PyTorch idiom log_softmax + nll_loss) is sound
    normalized = isinstance(last_module, nn.LogSoftmax) or look["log_probabilities"]
    if kind == "other" and not found and not normalized:
        found += check_loss_bounded(out, y, loss_fn, last=last)
    found += check_target_range(final, y, last=last, regression=kind in REGRESSION_KINDS or (
        kind == "other" and torch.is_floating_point(y) and y.reshape(y.shape[0], -1).shape[1] == width))
    if not found and final is not None and torch.is_floating_point(y):
        found += check_loss_optimum(final, out, y, loss_fn, last=last)     # a loss that reads the outputs otherwise
    if not found:           # a loss that is NaN at the targets the outputs reach (a log of 0)
        found += check_loss_at_targets(final, out, y, loss_fn, probability_rows=look["probabilities"], last=last)
    if _ids_outside(y, width, kind) and out.is_cuda:
        # class ids outside 0..width-1 make a CUDA loss kernel fail with a device-side assert,
        # which poisons the process's CUDA context: ask the same question on CPU copies
        out, y = out.cpu(), y.cpu()
    # a loss that is NaN or fails on finite outputs but not on their softmax / sigmoid: the model's
    # output layer is missing (output_range.missing_activation); it explains the failure below
    missing = [] if found or _ids_outside(y, width, kind) else check_missing_activation(out, y, loss_fn, kind=kind,
                                                                                         last=last)
    found += missing + unused
    try:
        with warnings.catch_warnings():     # torch's broadcasting warning: the finding says it better
            warnings.simplefilter("ignore")
            value = loss_fn(out, y)
        if not (isinstance(value, torch.Tensor) and value.numel() == 1):
            mismatch(f"the loss returned {type(value).__name__} of shape "
                     f"{tuple(getattr(value, 'shape', ()))}, not a scalar", "reduce the loss to a scalar (mean)")
    except Exception as exc:        # the mismatch itself is the finding
        if missing:
            return found
        mismatch(f"the loss fails on the model's output {tuple(out.shape)} and the targets "
                 f"{tuple(y.shape)} ({y.dtype}): {exc}".strip(),
                 "make the output shape and target dtype match the loss", error=str(exc)[:200])
    return found


def check_loss_bounded(out, y, loss_fn, *, last: tuple) -> list[Finding]:
    """A user's loss that falls without bound as every output grows: raising all outputs by
    ``LOSS_SHIFT`` lowers it by at least ``UNBOUNDED_DROP`` x the shift (and by more at 10x the
    shift). A loss of that kind rewards the outputs for growing, not for ranking the right class
    first: a log-likelihood on raw logits (F.nll_loss without log_softmax), a negated score.
    Softmax and margin losses are unchanged by a common shift; regression losses rise."""
    if not torch.is_floating_point(out) or _ids_outside(y, out.shape[-1] if out.ndim >= 2 else 1, "other"):
        return []
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            o = out.detach()
            values = [float(loss_fn(o + shift, y)) for shift in (0.0, LOSS_SHIFT, 10 * LOSS_SHIFT)]
    except Exception:               # a loss that fails on the output is reported by check_loss_output
        return []
    if not all(math.isfinite(v) for v in values):
        return []
    base, once, tenfold = values
    if base - once < UNBOUNDED_DROP * LOSS_SHIFT or once - tenfold < UNBOUNDED_DROP * 9 * LOSS_SHIFT:
        return []
    last_name, last_module = last
    return [make("loss_output_mismatch",
                 f"the loss falls without bound as the outputs grow ({base:.4g} -> {once:.4g} -> {tenfold:.4g} with "
                 f"every output raised by {LOSS_SHIFT:g} and {10 * LOSS_SHIFT:g}): it rewards large outputs, "
                 f"not the right class (a log-likelihood such as nll_loss on raw logits, with no log_softmax)",
                 evidence={"loss_at_shift": dict(zip((0.0, LOSS_SHIFT, 10 * LOSS_SHIFT), values)), "loss": "other",
                           "last_module": type(last_module).__name__ if last_module is not None else None},
                 where=last_name,
                 fix="apply log_softmax to the outputs before nll_loss, or use cross_entropy on the logits")]


def _uninformative(out, kind):
    """The uniform guess in the outputs' own form. A user's loss (``other``) on outputs that are
    probability or log-probability rows (the model's own softmax) gets that form's uniform guess:
    all-zero probabilities are no guess (-log(0 + 1e-8) = 18.4); on outputs that all lie in (0, 1)
    (a sigmoid's probabilities) it is 0.5, as for ``bce_prob``."""
    look = _looks_like(out) if kind == "other" else {}
    if kind == "nll" or kind == "kl_div_logprob" or look.get("log_probabilities"):
        return torch.full_like(out, -math.log(out.shape[-1]) if out.ndim >= 2 else 0.0)
    if look.get("probabilities"):
        return torch.full_like(out, 1.0 / out.shape[-1])
    if kind == "bce_prob" or look.get("unit_interval"):
        return torch.full_like(out, 0.5)
    return torch.zeros_like(out)


# Losses measured in nats: untrained logits of spread s cost about s^2 / 2 nats above the uniform
# guess, so 1 nat above it means logits spread ~1.4 before any training (ratio 1.5 alone lets a
# 10-class model start 1.15 nats over, a 1000-class one 3.5).
NATS_KINDS = {"cross_entropy", "nll", "bce", "bce_prob", "kl_div", "kl_div_logprob"}
EXCESS_NATS = 1.0


def check_logit_rank(out, kind: str) -> list[Finding]:
    """Class scores that vary along a single direction for C >= 3 classes (Yang et al. 2018, the
    softmax bottleneck: the width feeding the output caps the rank of every score matrix). With
    rank 1 the classes are intervals on one line, sorted: every class but the two at the ends is
    sandwiched between two others, and the layers before must learn that order; with rank >= 2
    the classes are convex cells of a plane or more, with no such order (a ResNet head of 8
    channels on 10 classes, rank 8 of 9, trains to 95%: no finding). Measured on the untrained
    model's scores of the probe rows, centered over rows and classes."""
    if kind not in CLASS_ID_KINDS or out.ndim != 2 or out.shape[1] < 3 or out.shape[0] < out.shape[1]:
        return []
    z = out.detach().double()
    if not bool(torch.isfinite(z).all()):
        return []
    z = z - z.mean(dim=0, keepdim=True)
    z = z - z.mean(dim=1, keepdim=True)
    sv = torch.linalg.svdvals(z.cpu())
    if float(sv[0]) == 0.0:
        return []                                   # constant scores: the init checks speak to it
    rank = int((sv > RANK_TOLERANCE * sv[0]).sum())
    need = out.shape[1] - 1
    if rank > MAX_LOW_RANK:
        return []
    return [make("low_rank_logits",
                 f"the class scores of {out.shape[1]} classes vary along a single direction (rank {rank} of "
                 f"{need}): a 1-unit layer feeds the output (or every hidden unit points one way), so the classes "
                 f"must be sorted as intervals of one line, each but the two at the ends between two others",
                 evidence={"score_rank": rank, "needed": need, "singular_values": [float(v) for v in sv[:need + 1]]})]


def _rows_summed(out, y, loss_fn, kind: str, expected: float) -> float:
    """How many rows' losses the loss adds up: 1 for a mean over the batch (weighted or not), the
    row count for ``reduction="sum"``. The uniform guess scored on the batch twice over (the rows
    repeated) against on the batch: a mean stays, a sum doubles, so (ratio - 1) x rows. 1 where the
    repeated batch cannot be scored."""
    guess = _uninformative(out, kind)
    try:
        with torch.no_grad():
            twice = float(loss_fn(torch.cat([guess, guess]), torch.cat([y, y])))
    except Exception:           # a loss that reads the batch in its own way
        return 1.0
    return max(1.0, (twice / expected - 1.0) * out.shape[0]) if math.isfinite(twice) else 1.0


def check_initial_loss(out, y, kind: str, loss_fn) -> list[Finding]:
    """Notes 004: the untrained loss should be that of a uniform guess (ln C = 2.3026 for C=10)."""
    with torch.no_grad():
        value = float(loss_fn(out, y))
        expected = float(loss_fn(_uninformative(out, kind), y))
    evidence = {"initial_loss": value, "expected": expected, "loss": kind}
    if not math.isfinite(value):
        return [make("bad_initial_loss", f"the initial loss is {value}", evidence=evidence, severity="error")]
    if not math.isfinite(expected):     # the loss is undefined at the uniform guess: no reference
        return []
    classification = kind in CLASS_ID_KINDS | {"bce", "bce_prob", "kl_div", "kl_div_logprob"} or (
        kind == "other" and not torch.is_floating_point(y))
    if classification:
        if expected <= 1e-6:
            return []
        ratio = value / expected
        rows = _rows_summed(out, y, loss_fn, kind, expected) if kind in NATS_KINDS else 1.0   # a sum: per row
        excess = (value - expected) / rows if kind in NATS_KINDS else 0.0
        if LOSS_RATIO_LOW <= ratio <= LOSS_RATIO_HIGH and excess <= EXCESS_NATS:
            return []
    else:
        if expected <= 0 or value <= REGRESSION_LOSS_RATIO * expected:
            return []
        ratio = value / expected
    evidence["ratio"] = ratio
    if classification and kind in NATS_KINDS:
        evidence["excess_nats"] = (value - expected) / rows      # per row under reduction="sum"
        if rows > 1:
            evidence["rows_summed"] = rows
    what = f"ln C = {expected:.4g}" if kind == "cross_entropy" else f"{expected:.4g}"
    if "rows_summed" in evidence:       # reduction="sum": the guess's loss is the rows' sum
        what = f"{expected:.4g}, the sum over {evidence['rows_summed']:g} rows"
    return [make("bad_initial_loss",
                 f"the initial loss is {value:.4g} but an untrained model should score about {what} "
                 f"({ratio:.2f}x" + (f", {evidence['excess_nats']:+.2f} nats" if "excess_nats" in evidence else "")
                 + (" a row" if "rows_summed" in evidence else "")
                 + f"); the outputs are {'over' if ratio > 1 else 'under'}-confident at init",
                 evidence=evidence,
                 fix=("scale down the last layer's initial weights (e.g. x0.01, bias 0) and standardize "
                      "the inputs, so the untrained outputs are near zero" if ratio > 1 else
                      "check that the loss averages over the batch and the targets are not leaked into the inputs"))]


def _run_hooked(model, x, handles) -> None:
    """One forward pass without gradients for the forward hooks in ``handles``, then remove them."""
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()


def _hidden_and_output_layers(model, x) -> tuple:
    """Modules with a weight matrix/kernel, in execution order, and the last leaf module run."""
    order, leaves, handles = [], [], []
    names = {m: n for n, m in model.named_modules()}
    for module in model.modules():
        w = getattr(module, "weight", None)
        is_leaf = not any(True for _ in module.children())
        if is_leaf:
            def hook(m, args, output):
                leaves.append(m)
                w = getattr(m, "weight", None)
                if (isinstance(w, torch.Tensor) and w.ndim >= 2 and w.requires_grad
                        and not isinstance(m, (nn.Embedding, nn.EmbeddingBag)) and m not in order):
                    order.append(m)
            handles.append(module.register_forward_hook(hook))
        del w
    _run_hooked(model, x, handles)
    last = leaves[-1] if leaves else None
    return [(names[m], m) for m in order], ((names.get(last), last) if last is not None else (None, None))


def check_symmetry(model, x, y, loss_fn, layers) -> list[Finding]:
    """Identical rows in a hidden layer (notes 000: W=0 -> no source of asymmetry)."""
    hidden = layers[:-1]            # the output layer may start at zero: its rows differ by target
    if not hidden:
        return []
    dup = []
    for name, module in hidden:
        rows = module.weight.detach().flatten(1)
        if rows.shape[0] > 1:
            unique = torch.unique(rows, dim=0).shape[0]
            if unique < rows.shape[0]:
                dup.append((name, module, unique, rows.shape[0]))
    if not dup:
        return []
    model.zero_grad(set_to_none=True)
    loss_fn(model(x), y).backward()
    found = []
    for name, module, unique, total in dup:
        rows = module.weight.detach().flatten(1)
        grad = module.weight.grad
        both = torch.cat([rows, grad.flatten(1) if grad is not None else torch.zeros_like(rows)], dim=1)
        stuck = torch.unique(both, dim=0).shape[0] == unique
        zero = bool((rows == 0).all())
        found.append(make(
            "symmetric_init",
            f"layer {name} has {total - unique + 1 if unique == 1 else total - unique} duplicated units "
            f"({unique} distinct rows of {total}){' - all weights are zero' if zero else ''}; "
            + ("their gradients are identical too, so they stay identical forever"
               if stuck else "the gradients differ, but the units start out redundant"),
            evidence={"distinct_rows": unique, "rows": total, "all_zero": zero, "gradients_identical": stuck},
            where=name, severity="error" if stuck else "warning",
            fix=f"initialize {name} with small random weights (Xavier for tanh, He for ReLU)"))
    model.zero_grad(set_to_none=True)
    return found


NORMALIZATION = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)


def unregistered_modules(model: nn.Module) -> dict:
    """``{attribute path: parameter count}`` for the attributes of the model's modules that hold
    modules or parameters in a plain list, tuple or dict: PyTorch registers direct attributes and
    the contents of nn.ModuleList / ModuleDict / ParameterList only, so ``.parameters()``,
    ``.to()`` and ``state_dict()`` never see these."""
    found = {}
    for prefix, module in model.named_modules():
        for name, value in vars(module).items():
            if name.startswith("_") or not isinstance(value, (list, tuple, dict)):
                continue
            items = [v for v in (value.values() if isinstance(value, dict) else value)
                     if isinstance(v, (nn.Module, nn.Parameter))]
            if items:
                found[f"{prefix}.{name}" if prefix else name] = sum(
                    v.numel() if isinstance(v, nn.Parameter) else sum(p.numel() for p in v.parameters())
                    for v in items)
    return found


def check_registration(model: nn.Module) -> list[Finding]:
    held = unregistered_modules(model)
    if not held:
        return []
    where = ", ".join(held)
    return [make("unregistered_modules",
                 f"{sum(held.values())} parameters held in a plain Python container ({where}): not registered, "
                 f"so never trained, moved or saved", evidence={"attributes": held}, where=where)]


def has_normalization(model: nn.Module) -> bool:
    """The model has a normalization layer (batch, instance, layer or group norm)."""
    return any(isinstance(m, NORMALIZATION) for m in model.modules())


def check_activations(stats: dict, x_std: float, x_signal: float | None = None, *,
                      normalized: bool = False) -> list[Finding]:
    """Per-layer activation statistics (notes 004's tables: std per hidden layer). With
    ``x_signal`` (the input's ``input_signal``), vanishing compares each layer's per-unit signal
    to it: biases can keep a layer's std up while its units no longer vary with the input.
    ``normalized``: the model has normalization layers (``has_normalization``), which reset the
    scale to unit std (Ioffe & Szegedy 2015): vanishing is then judged against at most a unit
    scale, so inputs of a large scale (raw pixel values, x1000) normalized away are no shrinking."""
    ref = x_std if x_std > 0 else 1.0
    signal_ref = x_signal if x_signal else None
    vanish_ref = min(ref, 1.0) if normalized else ref
    vanish_signal = min(signal_ref, 1.0) if normalized and signal_ref else signal_ref
    table = {name: {k: s[k] for k in ("mean", "std", "saturated", "dead")} for name, s in stats.items()}
    found = []
    first = {}
    for name, s in stats.items():
        std = s["std"]
        if s["nonfinite"]:
            first.setdefault("nonfinite", name)
        elif std is not None and std < VANISHING_STD * vanish_ref:
            first.setdefault("vanishing", name)
        elif vanish_signal and s.get("signal") is not None and s["signal"] < VANISHING_STD * vanish_signal:
            first.setdefault("vanishing", name)
        elif std is not None and s["family"] in ("relu", "other") and std > EXPLODING_STD * ref:
            first.setdefault("exploding", name)
        if s["saturated"] is not None and s["saturated"] > SATURATED_SHARE:
            first.setdefault("saturated", name)
        if s["dead"] is not None and s["dead"] > DEAD_SHARE:
            first.setdefault("dead", name)
    stds = {n: s["std"] for n, s in stats.items()}
    if "nonfinite" in first:
        n = first["nonfinite"]
        found.append(make("exploding_activations", f"activations of {n} are NaN/inf on a finite batch",
                          evidence={"layer_std": stds}, where=n, severity="error"))
    if "vanishing" in first:
        n = first["vanishing"]
        by_signal = stats[n]["std"] is not None and stats[n]["std"] >= VANISHING_STD * vanish_ref
        what = (f"each unit's output varies across examples by only {stats[n]['signal']:.3g} at {n} "
                f"(input {signal_ref:.3g}; the biases hold the layer's std at {stats[n]['std']:.3g})"
                if by_signal else f"activations shrink to std {stats[n]['std']:.3g} at {n} (input std {ref:.3g})")
        found.append(make("vanishing_activations", f"{what}; deeper layers see almost constant inputs and "
                          f"gradients vanish", evidence={"input_std": ref, "input_signal": signal_ref,
                                                         "layer_std": stds, "table": table,
                                                         "layer_signal": {k: s.get("signal") for k, s in stats.items()}},
                          where=n))
    if "exploding" in first:
        n = first["exploding"]
        found.append(make("exploding_activations",
                          f"activations grow to std {stats[n]['std']:.3g} at {n} (input std {ref:.3g})",
                          evidence={"input_std": ref, "layer_std": stds, "table": table}, where=n))
    if "saturated" in first:
        n = first["saturated"]
        found.append(make("saturated_units",
                          f"{100 * stats[n]['saturated']:.0f}% of {n}'s {stats[n]['family']} outputs are saturated; "
                          f"their gradients are nearly zero",
                          evidence={"saturated": {k: s["saturated"] for k, s in stats.items()
                                                  if s["saturated"] is not None}, "table": table}, where=n))
    if "dead" in first:
        n = first["dead"]
        found.append(make("dead_units",
                          f"{100 * stats[n]['dead']:.0f}% of {n}'s units are never active on a batch of "
                          f"examples (dead ReLUs get no gradient)",
                          evidence={"dead": {k: s["dead"] for k, s in stats.items() if s["dead"] is not None},
                                    "table": table}, where=n))
    return found


def check_layer_outputs(model, x, layers) -> list[Finding]:
    """The outputs of the hidden weight layers themselves, against the input's std: a stack of
    linear layers (or layers whose activation is not a module the recorder sees) can explode with
    no activation to measure. Notes 004: keep the variance the same across layers."""
    hidden = layers[:-1]
    if not hidden or not torch.is_floating_point(x):
        return []
    stds, handles = {}, []
    for name, module in hidden:
        def hook(m, args, output, name=name):
            if isinstance(output, torch.Tensor) and output.is_floating_point():
                stds.setdefault(name, output.detach().double().std())
        handles.append(module.register_forward_hook(hook))
    _run_hooked(model, x, handles)
    ref = input_std(x) or 1.0
    values = {name: float(v) for name, v in stds.items()}
    for name, std in values.items():
        if not math.isfinite(std) or std > EXPLODING_STD * ref:
            return [make("exploding_activations",
                         f"the output of {name} has std {std:.3g}, {std / ref:.3g}x the input's {ref:.3g}: each "
                         f"layer multiplies the signal", evidence={"input_std": ref, "layer_output_std": values},
                         where=name)]
    return []


# ---------------------------------------------------------------------------- training probes
def _accuracy(out, y, kind):
    if kind in CLASS_ID_KINDS or (kind == "other" and not torch.is_floating_point(y)):
        if torch.is_floating_point(y):
            return None
        if out.ndim == y.ndim or (out.ndim == y.ndim + 1 and out.shape[-1] == 1):
            return _one_score_accuracy(out.reshape(y.shape), y)
        axis = class_axis(out, y)       # ids per position: the positions with a class, padding left out
        if axis is not None:
            scores, ids = position_rows(out, y, axis)
            return (scores.argmax(dim=-1) == ids).float().mean() if ids.numel() else None
        return (out.argmax(dim=-1) == y).float().mean()
    if kind in ("bce", "bce_prob"):
        o = out.squeeze(-1) if out.ndim == y.ndim + 1 else out
        threshold = 0.5 if kind == "bce_prob" else 0.0
        return ((o > threshold) == (y > 0.5)).float().mean()
    if kind in ("kl_div", "kl_div_logprob"):
        return (out.argmax(dim=-1) == y.argmax(dim=-1)).float().mean()
    return None


def _one_score_accuracy(score, y):
    """One score per row against class ids: a binary classifier (a user's own loss on a sigmoid's
    probability or on a logit; ``one_score_hits``). Ids other than 0 and 1 have no such reading: None."""
    if not bool(((y == 0) | (y == 1)).all()):
        return None
    return one_score_hits(score, y).float() / y.numel()


def _disable_regularization(model):
    for m in model.modules():
        if isinstance(m, nn.modules.dropout._DropoutNd) or isinstance(m, nn.AlphaDropout):
            m.p = 0.0


def _short_run(model, x, y, loss_fn, kind, optimizer_spec, lr, steps, options=None, *, stop_early=True,
               budget: Budget | None = None, target_acc: float = 1.0) -> dict:
    """Full-batch steps; stops at ``target_acc`` accuracy / 5% of the initial loss (with
    ``stop_early``) or a non-finite loss, or once ``budget`` is spent (``"cut"``: each step is
    charged to it). Each group steps at lr · its lr_mult, as the trainer's first step would."""
    opt = make_optimizer(optimizer_spec, model, lr=lr, weight_decay=0.0, total_steps=steps, **(options or {}))
    for group, group_lr in zip(opt.param_groups, group_lrs([lr] * len(opt.param_groups), opt.param_groups, None, 0)):
        group["lr"] = group_lr
    model.train()
    first = first_acc = None
    cut = False
    trace = []
    passes = []                        # (loss, output) of each closure call in this step

    def closure(backward: bool = True):   # the trainer's protocol (backward=False: Newton)
        out = model(x)
        loss = loss_fn(out, y)
        if backward:
            opt.zero_grad(set_to_none=True)
            loss.backward()
        passes.append((loss.detach(), out.detach()))
        return loss

    for step in range(1, steps + 1):
        if budget is not None and step > 1 and (budget.spent_out() or budget.wall_out()):
            steps = step - 1
            cut = True
            break                      # the budget is spent, or the doctor's backstop passed: what ran is the answer
        if budget is not None:
            budget.steps(1, x.shape[0])
        passes.clear()
        take_step(opt, closure)
        loss, out = passes[0]          # the first pass: at the weights the step started from
        if step == 1 or step % 10 == 0 or step == steps:
            acc = _accuracy(out, y, kind)
            values = torch.stack([loss.float(), acc if acc is not None else torch.zeros(())]).tolist()
            value = values[0]
            trace.append(value)
            if first is None:
                first, first_acc = value, (values[1] if acc is not None else None)
            if not math.isfinite(value):
                return {"first": first, "last": value, "acc": None, "steps": step, "trace": trace, "ok": False,
                        "first_acc": first_acc}
            ok = (values[1] >= target_acc) if acc is not None else (value <= REGRESSION_FIT * first)
            if ok and stop_early:
                return {"first": first, "last": value, "acc": values[1] if acc is not None else None,
                        "steps": step, "trace": trace, "ok": True, "first_acc": first_acc}
    return {"first": first, "last": trace[-1], "acc": values[1] if acc is not None else None,
            "steps": steps, "trace": trace, "ok": False, "cut": cut, "first_acc": first_acc}


def check_overfit(model, x, y, loss_fn, kind, optimizer_spec, lr, options=None, *,
                  budget: Budget | None = None) -> list[Finding] | None:
    """Notes 004: overfit ~20 examples with regularization off. A failure with the user's optimizer
    (with the run's ``options``: build_optimizer's keywords) is re-run with Adam lr=1e-3: if that
    succeeds the learning rate is to blame, not the model. When neither memorizes them but the user's
    run was ``still_falling`` at its end, it runs again to twice the steps before the model is blamed.
    None: a run was cut by ``budget``
    before it could decide (the caller reports the check as skipped)."""
    start = copy.deepcopy(model)
    _disable_regularization(start)
    user = _short_run(copy.deepcopy(start), x, y, loss_fn, kind, optimizer_spec, lr, OVERFIT_STEPS, options,
                      budget=budget)
    if user["ok"]:
        return []
    if user.get("cut"):
        return None
    ref = _short_run(copy.deepcopy(start), x, y, loss_fn, kind, "adam", 1e-3, REFERENCE_STEPS, budget=budget)
    if ref.get("cut"):
        return None
    evidence = {"rows": int(x.shape[0]), "lr": lr, "user_run": user, "reference_adam_1e-3": ref}
    against = loss_against_accuracy(user, ref, y) or loss_apart_from_accuracy(user, ref, y)
    if against:
        return against
    if ref["ok"]:
        first, last = user["first"], user["last"]
        diverged = DIVERGENCE_FACTOR * first          # notes 004: > 3x the original cost
        # a ratio to the first loss reads only above zero (a user's loss may start below it)
        if not math.isfinite(last) or (first > 0 and (last > diverged or max(user["trace"]) > diverged)):
            return [make("lr_too_high",
                         f"overfitting {x.shape[0]} examples with lr={lr:g} diverged (loss {first:.4g} -> "
                         f"{last:.4g}" + (f", peak {max(user['trace']):.4g} against {diverged:.4g}, "
                                          f"{DIVERGENCE_FACTOR:g}x the first" if math.isfinite(last) else "")
                         + f") while Adam lr=1e-3 memorizes them in {ref['steps']} steps",
                         evidence=evidence, fix=f"lower lr from {lr:g} to about {lr / 10:g}")]
        if first > 0 and (first - last) / first < BARELY_MOVED:
            return [make("lr_too_low",
                         f"overfitting {x.shape[0]} examples with lr={lr:g} barely moved the loss "
                         f"({first:.4g} -> {last:.4g} in {user['steps']} steps) while Adam lr=1e-3 "
                         f"memorizes them in {ref['steps']} steps", evidence=evidence,
                         fix=f"raise lr from {lr:g} to about {lr * 10:g}")]
        return []
    # regression: the reference's loss is what a capable model reaches in its steps; a user run that
    # moved and ends at or below it (a ratio of losses on the same rows: scale-free) is no failure.
    # So for ids per position (task_shapes.py): 20 images hold thousands of pixels, which weights
    # shared over the positions (a convolution) need not all get right to have learnt the rows
    per_position = not torch.is_floating_point(y) and y.ndim >= 2
    moved = user["first"] > 0 and (user["first"] - user["last"]) / user["first"] >= BARELY_MOVED
    if (user["acc"] is None or per_position) and moved and user["last"] <= ref["last"]:
        return []
    if still_falling(user):
        # a loss still falling steeply at the end is a slow memorization, not a failed one (a CNN that
        # sits on a plateau for its first 100 steps, then memorizes 19 of 20 rows by step 200 and all within
        # 400): the user's run again, to twice the steps, decides
        longer = _short_run(copy.deepcopy(start), x, y, loss_fn, kind, optimizer_spec, lr, 2 * OVERFIT_STEPS,
                            options, budget=budget)
        if longer["ok"]:
            return []
        if longer.get("cut"):
            return None
        user = evidence["user_run"] = longer
    return [make("cannot_overfit_small_subset",
                 f"the model cannot memorize {x.shape[0]} training examples with regularization off "
                 f"(loss {user['first']:.4g} -> {user['last']:.4g}, accuracy {user['acc']}; Adam lr=1e-3: "
                 f"{ref['first']:.4g} -> {ref['last']:.4g}, accuracy {ref['acc']})", evidence=evidence)]


def still_falling(run: dict) -> bool:
    """The overfit run (``_short_run``'s record, a loss every 10 steps) had not stalled at its end: its
    loss fell by at least ``BARELY_MOVED`` of its value over its last ``STALL_SHARE`` of the steps
    (at least the last 10), and is finite and above zero."""
    trace, steps = run["trace"], run["steps"]
    back = max(1, round(STALL_SHARE * steps / 10))       # the trace holds a loss every 10 steps
    if len(trace) <= back or not all(math.isfinite(v) and v > 0 for v in trace[-back - 1:]):
        return False
    return trace[-1] <= (1 - BARELY_MOVED) * trace[-back - 1]


def loss_against_accuracy(user: dict, ref: dict, y) -> list[Finding]:
    """A loss whose minimizing lowers the accuracy: on the rows it trains on, both overfit runs (the
    user's optimizer and Adam lr=1e-3) lowered the loss by at least ``BARELY_MOVED`` of its size
    while the accuracy fell from its start to below ``WRONG_WAY`` x the commonest class's share
    (what guessing that one class scores). A loss that rewards the right class cannot end below a
    constant guess on the rows it is minimized on; one that rewards the wrong outputs does, and with
    nothing to stop it falls without bound (a log-likelihood to maximize passed without its minus
    sign goes below zero and keeps falling). A user's run that ended non-finite is left to the
    reference."""
    runs = (user, ref) if math.isfinite(user["last"]) else (ref,)
    if any(r.get("acc") is None or r.get("first_acc") is None or not math.isfinite(r["last"]) for r in runs):
        return []
    ids = _class_ids(y)
    if ids is None:
        return []
    floor = WRONG_WAY * float(torch.bincount(ids).max()) / ids.numel()
    for r in runs:
        if r["first"] - r["last"] < BARELY_MOVED * abs(r["first"]) or not r["acc"] < min(r["first_acc"], floor):
            return []
    below = min(r["last"] for r in runs) < 0 and all(len(r["trace"]) > 1 and r["trace"][-1] < r["trace"][-2]
                                                        for r in runs)
    return [make("loss_output_mismatch",
                 f"minimizing the loss lowers the accuracy on the rows it trains on: with Adam lr=1e-3 the loss "
                 f"went {ref['first']:.4g} -> {ref['last']:.4g} while the accuracy fell {ref['first_acc']:.2f} -> "
                 f"{ref['acc']:.2f} (guessing the commonest class scores {floor / WRONG_WAY:.2f}; the run's own "
                 f"optimizer: loss {user['first']:.4g} -> {user['last']:.4g})"
                 + ("; the loss is below zero and still falling" if below else "")
                 + ": it rewards the wrong outputs (a log-likelihood to maximize passed as the loss without "
                   "its minus sign, a score with the wrong sign)",
                 evidence={"user_run": user, "reference_adam_1e-3": ref, "accuracy_floor": floor, "loss": "other",
                           "below_zero": below},
                 fix="negate the loss (fit minimizes it): -log_probs.gather(1, y).mean(), or F.nll_loss / "
                     "F.cross_entropy")]


def _class_ids(y) -> torch.Tensor | None:
    """The class ids of an overfit subset's targets (ignore_index rows dropped; float 0/1 targets as
    ids); None when they are not class ids or none is left."""
    ids = y.detach().flatten().cpu()
    if torch.is_floating_point(ids):    # binary targets as floats (BCE): the classes are 0 and 1
        if not bool(((ids == 0) | (ids == 1)).all()):
            return None
        ids = ids.long()
    ids = ids[ids >= 0]                 # ignore_index rows (-100) are no class
    return ids if ids.numel() else None


def loss_apart_from_accuracy(user: dict, ref: dict, y) -> list[Finding]:
    """A loss minimized without the accuracy: in both overfit runs (the user's optimizer unless it
    blew up, and Adam lr=1e-3) the loss fell from above zero to at most ``LOSS_SPENT`` of its first
    value (of ln C where it started above that: a uniform guess's cross-entropy) while the subset's accuracy ended short of ``learned_target`` (half of the way from guessing
    the commonest class to every row right). A loss that scores the class the outputs rank first
    cannot be spent so far on rows it leaves wrong (a cross-entropy at 1% of ln C on 20 rows has every
    row's right class above 1/2); one that reads each output apart can: ``-log sigmoid(out[y])`` (the
    cross-entropy of softmax's rows with sigmoid's probabilities) is minimized by raising the right
    output alone, and nothing pushes the others below it."""
    runs = (user, ref) if math.isfinite(user["last"]) else (ref,)
    if any(r.get("acc") is None or not math.isfinite(r["last"]) for r in runs):
        return []
    ids = _class_ids(y)
    if ids is None:
        return []
    target = learned_target(ids)
    # the bound holds for a loss that starts near a uniform guess's ln C; one that starts far above it
    # (an init that explodes the logits) is spent to 1% of ln C, not of its own start
    uniform = math.log(max(2, int(ids.max()) + 1))
    for r in runs:
        if not (r["first"] > 0 and 0 <= r["last"] <= LOSS_SPENT * min(r["first"], uniform) and r["acc"] < target):
            return []
    return [make("loss_output_mismatch",
                 f"the loss is minimized without the accuracy on the rows it trains on: with Adam lr=1e-3 it went "
                 f"{ref['first']:.4g} -> {ref['last']:.4g} (at most {LOSS_SPENT:.0%} of its start) while the accuracy "
                 f"ended at {ref['acc']:.2f}, short of {target:.2f} (the run's own optimizer: loss {user['first']:.4g} "
                 f"-> {user['last']:.4g}, accuracy {user['acc']:.2f}): the loss does not score the class the outputs "
                 f"rank first (each output's probability read apart, as sigmoid's inside a softmax cross-entropy, so "
                 f"nothing pushes the wrong classes down; or outputs that are not class scores)",
                 evidence={"user_run": user, "reference_adam_1e-3": ref, "accuracy_target": target,
                           "loss_spent": LOSS_SPENT, "loss": "other"},
                 fix="score the classes together: F.cross_entropy on raw logits (its softmax pushes the other "
                     "classes down), or BCE-with-logits on one-hot targets for labels that are not exclusive")]


def memorized_target(y) -> float:
    """The accuracy at which rows with class ids ``y`` count as memorized: ``MEMORIZED_ACC`` of the
    way from the commonest class's share (what guessing it scores) to 1."""
    commonest = float(torch.bincount(y.cpu()).max()) / max(1, y.numel())
    return commonest + MEMORIZED_ACC * (1.0 - commonest)


def learned_target(y) -> float:
    """The accuracy at which ``check_labels_learnable`` judges a memorization run that ended short of
    ``memorized_target``: ``LEARNED_ACC`` of the way from the commonest class's share to 1. Labels that
    belong to their rows are learnt pattern first and carry over from the first rows learnt; labels
    apart from their rows are fitted one row at a time and take far longer (Zhang et al. 2017), so a
    run at the reference steps often ends between the two targets on exactly those labels."""
    commonest = float(torch.bincount(y.cpu()).max()) / max(1, y.numel())
    return commonest + LEARNED_ACC * (1.0 - commonest)


def can_beat_chance(y_unseen: torch.Tensor) -> bool:
    """Whether ``check_labels_learnable`` can tell learnt labels from chance on these unseen labels:
    a model that predicts every row right scores 1 against a chance of sum_k p_k^2 (its predicted
    shares are the labels' own), and 1 must lie beyond chance by ``CHANCE_SIGMAS`` binomial standard
    deviations. Where it does not (one class holds ~99% of the rows: chance 0.98, and 3 sigmas on
    384 rows are 0.02) no accuracy the model reaches is evidence, so the test says nothing."""
    ids = y_unseen[y_unseen >= 0].cpu()         # an ignore_index row (-100) is no class
    if ids.numel() == 0:
        return False
    shares = torch.bincount(ids).double() / ids.numel()
    chance = float((shares * shares).sum())
    return 1.0 > chance + CHANCE_SIGMAS * math.sqrt(chance * (1 - chance) / ids.numel())


def check_labels_learnable(model, X, y, loss_fn, kind, *, gen, budget: Budget | None = None) -> list[Finding]:
    """Labels that don't belong to their rows: memorize ``MEMORIZE_ROWS`` training rows (a copy
    of the model at PyTorch's default init, Adam lr 1e-3, regularization off, notes 004's
    reference optimizer) and score rows it never saw. Real
    labels carry over (digits: ~80% after memorizing 256 rows); labels shuffled against their rows
    leave the unseen rows at chance. The finding needs the subset memorized (its accuracy at least
    ``MEMORIZED_ACC`` of the way from its commonest class's share to 1: ``memorized_target``; or, where
    ``REFERENCE_STEPS`` end short of it, ``LEARNED_ACC`` of the way: ``learned_target``) and
    the unseen accuracy (on up to ``UNSEEN_ROWS`` rows, at least ``MIN_UNSEEN_ROWS``: a small set
    scores what it has) within ``CHANCE_SIGMAS`` binomial standard deviations of chance: what its
    predictions would score were they independent of the labels, sum_k p_k q_k over the unseen
    rows' class shares p and predicted shares q (Cohen's kappa's chance agreement; a model that
    always guesses the commonest class scores its share, one that memorized labels apart from
    their rows predicts the other classes too and scores less: 75/25 classes predicted 80/20
    score 0.65 by chance, not 0.75)."""
    if kind not in CLASS_ID_KINDS or torch.is_floating_point(y) or y.ndim != 1:
        return []
    n = X.shape[0]
    # a small set scores the rows it has beyond the memorized
    split = memorize_split(n, gen, memorize=MEMORIZE_ROWS, unseen_rows=UNSEEN_ROWS, min_unseen=MIN_UNSEEN_ROWS)
    if split is None:
        return []
    fit, unseen = split
    held = len(unseen)
    device = next((p.device for p in model.parameters()), X.device)
    if not can_beat_chance(y[unseen]):      # a 99:1 task: even a perfect model reads as chance
        return []
    start = copy.deepcopy(model)
    for m in start.modules():       # the labels are judged, not the init: PyTorch's default init
        if hasattr(m, "reset_parameters"):   # (a huge init memorizes without generalizing)
            m.reset_parameters()
    _disable_regularization(start)
    xf, yf = X[fit].to(device), y[fit].to(device)
    target = memorized_target(y[fit])
    run = _short_run(start, xf, yf, loss_fn, kind, "adam", 1e-3, REFERENCE_STEPS, budget=budget,
                     target_acc=target)       # memorized enough to judge: no need to reach 100%
    if run["acc"] is None or run["acc"] < learned_target(y[fit]):
        return []
    yu = y[unseen].to(device)
    # batch norm on the scored rows' own statistics: a short memorization run leaves its running
    # statistics unsettled (dropout is off); where that training-mode forward is at chance, the
    # eval-mode one too (a forward that does something random in training, a flip or a shuffle of
    # the user's own, scores its own randomness there): labels carry over in either mode or they
    # do not belong to their rows
    scored = []
    for mode in (True, False):
        start.train(mode)
        with torch.no_grad():
            scored.append(_carried_over(start(X[unseen].to(device)).argmax(dim=-1), yu))
        if scored[-1][0] > scored[-1][1] + scored[-1][2]:
            return []
    (acc, chance, margin), (eval_acc, eval_chance, _) = scored
    return [make("label_problem",
                 f"the model {'memorizes' if run['acc'] >= target else 'learns'} {MEMORIZE_ROWS} training rows "
                 f"(accuracy {run['acc']:.2f} after {run['steps']} steps) but scores "
                 f"{acc:.2f} on {held} rows it did not see, no better than its predictions score by chance "
                 f"({chance:.2f}, were they independent of the labels): the labels do not belong to their rows",
                 evidence={"memorized_acc": run["acc"], "memorized_target": target, "unseen_acc": acc,
                           "chance": chance, "margin": margin, "unseen_acc_eval": eval_acc,
                           "chance_eval": eval_chance, "rows": MEMORIZE_ROWS, "unseen_rows": held},
                 severity="warning",
                 fix="check that inputs and labels are aligned (the same row order after any shuffle, join or "
                     "split) and that the label column is the right one")]


def _carried_over(predicted: torch.Tensor, labels: torch.Tensor) -> tuple[float, float, float]:
    """The accuracy of ``predicted`` class ids on ``labels``, what they score by chance were they
    independent of the labels (sum_k p_k q_k over the labels' shares p and the predictions' q), and
    ``CHANCE_SIGMAS`` binomial standard deviations of that chance on these rows."""
    held = labels.numel()
    acc = float((predicted == labels).float().mean())
    classes = max(int(labels.max()), int(predicted.max())) + 1
    shares = torch.bincount(labels.cpu(), minlength=classes).double() / held
    chance = float((shares * torch.bincount(predicted.cpu(), minlength=classes).double() / held).sum())
    return acc, chance, CHANCE_SIGMAS * math.sqrt(chance * (1 - chance) / held)


def chance_and_margin(p: torch.Tensor, q: torch.Tensor, rows: int) -> tuple[float, float, float]:
    """The label accuracy that predictions independent of the labels score, per column
    c_j = p_j q_j + (1 - p_j)(1 - q_j) (shares p of ones among the labels, q among the predictions),
    averaged; its margin, ``CHANCE_SIGMAS`` standard errors of a row's accuracy over ``rows`` rows,
    with the row's labels taken as perfectly correlated (sd at most the mean of sqrt(c_j (1 - c_j)):
    the labels of a row are not independent, and this bound holds whatever their correlation); and
    their sum, the accuracy a model must beat."""
    c = p * q + (1 - p) * (1 - q)
    chance = float(c.mean())
    margin = CHANCE_SIGMAS * float(torch.sqrt(c * (1 - c)).mean()) / rows ** 0.5
    return chance, margin, chance + margin


def check_multi_hot_learnable(model, X, y, loss_fn, kind: str, *, gen,
                              budget: Budget | None = None) -> list[Finding]:
    """``check_labels_learnable`` for multi-hot rows: memorize ``MEMORIZE_ROWS`` rows (the
    model at PyTorch's default init, Adam lr 1e-3, regularization off) and score up to
    ``UNSEEN_ROWS`` rows it never saw, each label of each row right or wrong. Label sets that belong
    to their rows carry over; label sets shifted against their rows (a join one row off) leave the
    unseen rows at chance: per label column j with unseen share p_j of ones and predicted share q_j,
    p_j q_j + (1 - p_j)(1 - q_j), averaged over the columns, with ``chance_and_margin``'s margin.
    Not judged where a model right on every label would not beat chance by that margin (labels all
    but constant: the 99:1 case of ``can_beat_chance``), nor where the rows were not
    memorized (``MEMORIZED_ACC`` of the way from the commonest value's share to 1)."""
    if not multi_hot(y, kind):
        return []
    split = memorize_split(X.shape[0], gen, memorize=MEMORIZE_ROWS, unseen_rows=UNSEEN_ROWS,
                           min_unseen=MIN_UNSEEN_ROWS)
    if split is None:
        return []
    fit, unseen = split
    held = len(unseen)
    yu = y[unseen].cpu().double()
    p = yu.mean(dim=0)
    if 1.0 <= chance_and_margin(p, p, held)[2]:     # a model right on every label would not beat chance
        return []
    device = next((q.device for q in model.parameters()), X.device)
    start = copy.deepcopy(model)
    for m in start.modules():           # the labels are judged, not the init
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    _disable_regularization(start)
    shares = y[fit].double().mean(dim=0)
    commonest = float(torch.maximum(shares, 1 - shares).mean())
    target = commonest + MEMORIZED_ACC * (1.0 - commonest)
    run = _short_run(start, X[fit].to(device), y[fit].to(device), loss_fn, kind, "adam", 1e-3,
                     REFERENCE_STEPS, budget=budget, target_acc=target)
    if run["acc"] is None or run["acc"] < target:
        return []
    start.train()
    with torch.no_grad():
        out = start(X[unseen].to(device)).cpu().double()
    predicted = (out > (0.5 if kind == "bce_prob" else 0.0)).double().reshape(yu.shape)
    acc = float((predicted == yu).double().mean())           # the share of the unseen labels right
    chance, margin, _ = chance_and_margin(p, predicted.mean(dim=0), held)
    if acc > chance + margin:
        return []
    return [make("label_problem",
                 f"the model memorizes the label sets of {MEMORIZE_ROWS} training rows (labels right "
                 f"{run['acc']:.2f}) but gets {acc:.2f} of the labels right on {held} rows it did not see, no "
                 f"better than its predictions score by chance ({chance:.2f}, were they independent of the "
                 f"labels): the multi-hot rows do not belong to their inputs, or the inputs tell almost "
                 f"nothing about them (labels mostly noise)",
                 evidence={"memorized_acc": run["acc"], "memorized_target": target, "unseen_acc": acc,
                           "chance": chance, "margin": margin, "rows": MEMORIZE_ROWS, "unseen_rows": held,
                           "labels": int(y.shape[1])},
                 severity="warning",
                 fix="check that inputs and label rows are aligned (the same row order after any shuffle, join or "
                     "split) and that the label columns are the right ones")]


def check_regularization(model, x, y, loss_fn, optimizer_spec, lr, regularization: dict,
                         penalty, options=None) -> list[Finding]:
    """Notes 004: raising regularization must raise the loss; here each regularizer's effect.
    ``options``: the optimizer's other options (build_optimizer's keywords)."""
    found = []
    if penalty is not None:
        params = [p for p in model.parameters() if p.requires_grad]
        takes_model = len(inspect.signature(penalty).parameters) >= 1
        value = penalty(model) if takes_model else penalty()
        grads = (torch.autograd.grad(value, params, allow_unused=True)
                 if isinstance(value, torch.Tensor) and value.requires_grad else [None])
        grad_norm = sum(float(g.norm()) for g in grads if g is not None)
        v = float(value.detach()) if isinstance(value, torch.Tensor) else float(value)
        if not (v > 0 and grad_norm > 0):
            found.append(make("regularization_not_effective",
                              f"the penalty adds {v:.4g} to the loss with gradient norm {grad_norm:.3g}: raising "
                              f"it cannot raise the loss or pull the weights",
                              evidence={"penalty": v, "gradient_norm": grad_norm},
                              fix="compute the penalty from the live parameters (no .detach()/.data/.item()) "
                                  "and add it to the loss"))
    wd = float(regularization.get("weight_decay", 0.0) or 0.0)
    if wd > 0:
        # float64: at lr 1e-5 one step of a 5e-4 decay shrinks ||w|| by 5e-9, below float32's resolution
        probe = copy.deepcopy(model).double()
        # a name is built with the decay; a callable's own groups are what is checked
        opt = build_optimizer(optimizer_spec, probe, lr=lr, weight_decay=wd, total_steps=1, **(options or {}))
        # a group's decay: coupled (torch's weight_decay) or decoupled by trainwell's factory
        groups = [g.get(DECOUPLED_KEY) or g.get("weight_decay", 0.0) for g in opt.param_groups]
        params = list(probe.parameters())
        weights = [p for p in params if p.ndim >= 2]
        before = torch.stack([p.detach().norm() for p in weights]).norm() if weights else torch.zeros(())

        def zero_gradient(backward: bool = True):   # a loss whose gradient is 0: only decay acts
            loss = sum((p * 0).sum() for p in params)
            if backward:
                opt.zero_grad(set_to_none=True)
                loss.backward()
            return loss
        take_step(opt, zero_gradient)
        after = torch.stack([p.detach().norm() for p in weights]).norm() if weights else torch.zeros(())
        shrink = float((before - after) / before.clamp_min(1e-30))
        if shrink <= NO_SHRINK * lr * wd:
            found.append(make("regularization_not_effective",
                              f"weight_decay={wd:g} is configured but one optimizer step does not shrink the "
                              f"weights (relative change {shrink:.3g}; groups' weight_decay {groups})",
                              evidence={"weight_decay": wd, "group_weight_decay": groups, "shrink": shrink},
                              fix="pass weight_decay to the optimizer's parameter groups (the weight matrices "
                                  "must be in a group with weight_decay > 0)"))
    dropout = float(regularization.get("dropout", 0.0) or 0.0)
    has_dropout = any(isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0 for m in model.modules())
    if dropout > 0 or has_dropout:
        probe = copy.deepcopy(model).train()
        with torch.no_grad():
            torch.manual_seed(1)
            a = probe(x)
            torch.manual_seed(2)
            b = probe(x)
        change = float((a - b).norm() / a.norm().clamp_min(1e-30))
        if change <= SAME_OUTPUT:
            found.append(make("regularization_not_effective",
                              f"dropout is configured ({dropout if dropout else 'modules present'}) but two "
                              f"training-mode forward passes give the same output (relative change {change:.2g}): "
                              f"no dropout acts in the forward path",
                              evidence={"dropout": dropout, "modules_with_p": has_dropout, "change": change},
                              fix="put the nn.Dropout modules in forward (or F.dropout(x, p, training=self.training))"))
    return found


# ---------------------------------------------------------------------------- the entry point
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
           else f"the doctor's wall-clock backstop ({budget.root.wall_s:g} s) passed" if budget.wall_out()
           else f"the budget of {budget.seconds:g} nominal seconds was spent")
    return make("check_skipped", f"skipped {', '.join(skipped)}: {why}",
                evidence={"skipped": skipped, "nominal_seconds": budget.spent, "budget_s": budget.seconds,
                          "clock_stop": budget.clock_stopped})


# The checks that read the training rows alone (not the model's outputs or structure): what they
# find changes only with the rows, so a re-check after a change of the model alone leaves them out
# (``preflight(data_checks=False)``). ``fix_applies`` reads the model, but only for a finding's
# severity (info where the model raises on the fix), never for whether the scales are found.
DATA_CHECKS = ("check_value_codes", "check_inputs_normalized", "check_inputs_informative", "check_duplicate_inputs",
               "check_class_balance", "check_shuffled")


def rows_alone(model, X, y, xb, *, kind: str, class_ids: bool) -> list[Finding]:
    """The checks of the inputs that read the rows ``X``, ``y`` alone: missing-value codes (their
    fix standardizes too: graded with the scales), integers wrapped, the scales, uninformative inputs
    (``xb``: the probe's rows, which the model is tried on standardized), slices of the input copied
    from one another (``duplicate_inputs``)."""
    codes = check_value_codes(X)
    scaled = [f for f in codes if f.code == "unnormalized_inputs"]
    found = fix_applies(check_inputs_normalized(X) + scaled, model, standardized(X, xb))
    found += [f for f in codes if f not in scaled]
    return (found + check_inputs_informative(X, y, class_ids=class_ids or kind in ("bce", "bce_prob"))
            + check_duplicate_inputs(X))


# a gradient_mismatch whose model agrees with the finite differences under a linear read-out
# (gradcheck.in_the_loss): the user's loss holds part of itself fixed, often on purpose
LOSS_STOPS = ("; the model's own gradients agree under a linear read-out of its output, so the loss itself "
              "stops part of its gradient (a detach() or .data in it; its graph holds only torch's own operations): "
              "deliberate for a "
              "weight held fixed (self-paced or focal weights), a fault where the loss should move through it")


def preflight(model: nn.Module, X, y, *, loss="cross_entropy", num_classes: int | None = None,
              lr: float | None = None, optimizer="sgd", optimizer_options: dict | None = None,
              shuffle: bool = True, regularization: dict | None = None, penalty=None,
              budget_s: float = 60.0, budget: Budget | None = None, cheap_only: bool = False,
              data_checks: bool = True, seed: int = 0) -> list[Finding]:
    """Run the pre-flight checks and return the findings (an empty list: nothing found).

    ``loss``: a ``LOSSES`` name or a callable ``(output, target) -> scalar``; ``optimizer``: a
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
    check, the regularization check and the overfit run are left out, without a ``check_skipped``
    finding. ``data_checks=False`` leaves out the checks that read the training rows alone
    (``DATA_CHECKS``: missing-value codes and scales, uninformative inputs, class balance, data
    order): a caller that ran them on the same rows already has their findings (the repairer's
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
    loss_fn, kind = resolve_loss(loss)
    lr = probe_lr(optimizer, lr, optimizer_options)
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
            layers, last = _hidden_and_output_layers(work, xb)
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
        registered = not unregistered_modules(model)
        findings += check_registration(model)
        loss_usable = not any(f.severity == "error" for f in output_problems + label_problems)
        if data_checks:
            findings += rows_alone(model, X[keep], y[keep], xb, kind=kind, class_ids=class_ids)
        # what reaches the first trainable layer: information dropped before it, category ids as numbers
        findings += check_what_reaches(model, X[keep], y[keep], class_ids=class_ids, seed=seed)
        findings += check_constant_ids(model, X[keep], y[keep], class_ids=class_ids, seed=seed)  # ids one value on every row
        findings += check_pooled_units(model, xb, seed=seed)     # a layer's units pooled over their own axis
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
                try:
                    checked = gradcheck(model, gx, gy, loss_fn, seed=seed)
                except NotCheckable as exc:
                    checked = []
                    findings.append(make("check_skipped", f"skipped the gradient check: {exc}",
                                         evidence={"skipped": ["gradient check"], "reason": str(exc)}))
                wrong = [r for r in checked if r["rel_error"] > ERROR_THRESHOLD]
                # the model's own gradients right under a linear read-out: the user's loss stops part of its gradient
                lossy = bool(wrong) and in_the_loss(model, gx, gy, loss_fn, [r["name"] for r in wrong], seed=seed)
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
                    gen=gen, disable_regularization=_disable_regularization, budget=budget)
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
