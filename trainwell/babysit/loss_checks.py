"""Pre-flight checks of the model's outputs against the loss (notes 003 design choices, notes
004 "check that the loss is reasonable"): an output activation the loss does not expect, a loss
that falls without bound, scores of too low a rank, the initial loss against ln C.
"""
from __future__ import annotations

import math
import warnings

import torch
from torch import nn

from trainwell.babysit.actions import OUTPUT_ACTIVATIONS
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.loss_kinds import CLASS_ID_KINDS, LOGIT_KINDS, REGRESSION_KINDS
from trainwell.babysit.output_range import (check_loss_at_targets, check_loss_optimum, check_missing_activation,
                                            check_target_range, clipped_share)
from trainwell.babysit.scoring_rule import check_scoring_rule

ROW_SUM_TOLERANCE = 1e-4  # loss_output_mismatch: output rows summing to 1 (softmax) within this
LOG_PROB_SLACK = 1e-6     # ... log-probabilities are <= 0 up to rounding
MAX_CLASS_IDS = 50        # ... whole-number targets with at most 50 values are class ids
LOSS_SHIFT = 100.0        # loss_output_mismatch: every output raised by 100 ...
UNBOUNDED_DROP = 0.5      # ... lowers the loss by at least half of that: it falls without bound as the outputs
                          # grow (NLL on raw logits: -out[y] falls 1:1; softmax losses are shift-invariant)
LOSS_RATIO_LOW, LOSS_RATIO_HIGH = 0.5, 1.5   # bad_initial_loss: initial / uniform-guess loss
REGRESSION_LOSS_RATIO = 3.0   # ... a regression loss above 3x that of predicting zeros
MAX_LOW_RANK = 1          # low_rank_logits: scores along one direction (classes as sorted intervals of a line)
RANK_TOLERANCE = 1e-4     # ... a singular value of the scores counts above 1e-4 of the largest
                          # (float32 scores of a rank-deficient product sit near 1e-7 of it)
# Final activations that bound or clip what a from-logits loss receives.
RELU_LIKE = (nn.ReLU, nn.ReLU6, nn.Softplus)
BOUNDING = (nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardsigmoid, nn.Softsign, *RELU_LIKE)


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
    if kind == "other" and not found:     # a loss of class ids that cannot correct a confidently wrong row (info)
        found += check_scoring_rule(out, y, loss_fn, form="log_probabilities" if normalized else
                                    "probabilities" if look["probabilities"] else "logits")
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


def _finite(t) -> bool:
    """Whether ``t`` holds no NaN or inf (true for what is no float tensor: class ids, say)."""
    return not torch.is_tensor(t) or not torch.is_floating_point(t) or bool(torch.isfinite(t).all())


def _loss_overflows(value: float, evidence: dict) -> Finding:
    """``nonfinite_loss`` before the first step: the loss is NaN or inf on the untrained model's finite
    outputs and finite targets, and on the uniform guess too (``_uninformative``: zeros for a
    regression), and no output activation makes it finite (``check_missing_activation`` runs first and
    makes the loss unusable when one does). The outputs' size is not the cause (a guess of zeros fails
    as well; a loss finite there but not on the outputs is their fault, ``bad_initial_loss``) and no lr
    made it so: the loss's own arithmetic fails on errors of this size (``cosh`` or ``exp`` of an error
    past about 88 overflows float32; a log of 0), so every run of it starts non-finite."""
    return make("nonfinite_loss",
                f"the loss is {value} on the untrained model's outputs, which are finite, and finite targets: the "
                f"loss's own computation overflows on errors of this size (cosh or exp of an error past about 88 "
                f"is inf in float32; a log of 0), so training starts non-finite whatever the lr or the init",
                evidence={**evidence, "overflows": True},
                fix="write the loss in a stable form (log-cosh as |e| + softplus(-2|e|) - log 2, torch.logsumexp "
                    "for a log of summed exps, the *_with_logits losses), or standardize the targets so the "
                    "errors stay small")


def check_initial_loss(out, y, kind: str, loss_fn) -> list[Finding]:
    """Notes 004: the untrained loss should be that of a uniform guess (ln C = 2.3026 for C=10)."""
    with torch.no_grad():
        value = float(loss_fn(out, y))
        expected = float(loss_fn(_uninformative(out, kind), y))
    evidence = {"initial_loss": value, "expected": expected, "loss": kind}
    if not math.isfinite(value) and not math.isfinite(expected) and _finite(out) and _finite(y):
        return [_loss_overflows(value, evidence)]
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
