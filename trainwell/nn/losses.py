"""Losses by name (notes 003 "design choices": output units and the loss that matches them).

Every loss takes the model's raw output (logits for classification) and the targets, and
returns the batch mean. ``LOSSES`` is the registry the config validator and docs read.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from trainwell.errors import ConfigError


def _match(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Let a (N, 1) output meet a (N,) target, the common regression / binary case."""
    if output.ndim == target.ndim + 1 and output.shape[-1] == 1:
        return output.squeeze(-1)
    return output


def mse(output, target):
    """Mean squared error ½-free: mean((f(x) - y)²)."""
    return F.mse_loss(_match(output, target), target.to(output.dtype))


def l1(output, target):
    """Mean absolute error: mean(|f(x) - y|)."""
    return F.l1_loss(_match(output, target), target.to(output.dtype))


def huber(output, target, *, delta: float = 1.0):
    """Huber: quadratic for |r| <= delta, linear beyond (Huber 1964)."""
    return F.huber_loss(_match(output, target), target.to(output.dtype), delta=delta)


def bce(output, target):
    """Binary cross-entropy on logits (numerically stable log-sum-exp form)."""
    return F.binary_cross_entropy_with_logits(_match(output, target), target.to(output.dtype))


def cross_entropy(output, target, *, label_smoothing: float = 0.0):
    """Softmax cross-entropy on logits with optional label smoothing (Szegedy et al. 2016, notes 003):
    the target distribution is (1 - s)·onehot(y) + s/C."""
    return F.cross_entropy(output, target, label_smoothing=label_smoothing)


def kl_div(output, target):
    """KL(target ‖ softmax(output)) per sample, averaged over the batch; targets are probabilities."""
    return F.kl_div(F.log_softmax(output, dim=-1), target.to(output.dtype), reduction="batchmean")


def hinge(output, target, *, margin: float = 1.0):
    """Multiclass hinge (Weston-Watkins / the notes' SVM loss): Σ_{j≠y} max(0, s_j - s_y + Δ), batch mean."""
    correct = output.gather(1, target.view(-1, 1))
    margins = (output - correct + margin).clamp_min(0)
    margins = margins.scatter(1, target.view(-1, 1), 0.0)
    return margins.sum(dim=1).mean()


LOSSES = {
    "mse": mse,
    "l1": l1,
    "huber": huber,
    "bce": bce,
    "cross_entropy": cross_entropy,
    "kl_div": kl_div,
    "hinge": hinge,
}

# Losses whose targets are integer class ids: accuracy is argmax(output) == y.
CLASS_ID_LOSSES = {"cross_entropy", "hinge"}
# Losses whose targets are values: predictions are the raw outputs, and there is no accuracy.
REGRESSION_LOSSES = ("mse", "l1", "huber")


# Soft targets for cross_entropy / kl_div: each row a probability distribution, summing to 1
# within this (float32 round-off over many classes, with room for rounded inputs such as 0.333;
# the pre-flight's label_problem check uses the same tolerance).
PROBABILITY_TOLERANCE = 1e-3
# Losses whose targets may be a probability row per sample, shape (N, C): F.cross_entropy takes
# class probabilities as well as class ids; kl_div takes only probabilities.
PROBABILITY_LOSSES = {"cross_entropy", "kl_div"}


def target_problem(loss, y: torch.Tensor, outputs: int) -> str | None:
    """What is wrong with training targets ``y`` for a named loss and a model with ``outputs``
    outputs, in words with the fix, or None. Class-id losses take integer ids of at least two
    classes (one class: the loss is 0 from the start and nothing is learned); cross_entropy also
    takes class probabilities (one-hot rows), shape (N, outputs). A callable loss is the user's."""
    if not isinstance(loss, str) or loss not in CLASS_ID_LOSSES | PROBABILITY_LOSSES | {"bce"}:
        return None
    if not torch.is_floating_point(y):
        classes = torch.unique(y)
        if classes.numel() < 2 and y.ndim == 1:
            return (f"every label is class {int(classes[0])}: {loss} needs at least 2 classes (with one "
                    f"the loss is 0 from the first step and nothing is learned); check the label column")
        if loss == "kl_div":
            return (f"loss = \"kl_div\" needs class probabilities of shape (N, {outputs}), got integer "
                    f"class ids: use loss = \"cross_entropy\" for class ids")
        return None
    if loss in PROBABILITY_LOSSES and y.ndim == 2:
        if y.shape[1] != outputs:
            return (f"the targets are rows of {y.shape[1]} class probabilities but the model has "
                    f"{outputs} outputs; {loss} needs one output per class")
        if bool((y < 0).any()) or float((y.sum(dim=1) - 1).abs().max()) > PROBABILITY_TOLERANCE:
            return (f"float targets of shape (N, {y.shape[1]}) are class probabilities for {loss}, but "
                    f"not every row is non-negative and sums to 1 (one-hot rows do)")
        return None
    if loss == "kl_div":
        return (f"loss = \"kl_div\" needs class probabilities of shape (N, {outputs}), got targets of "
                f"shape {tuple(y.shape)}")
    if loss == "bce":
        return None
    if y.ndim == 2:
        return (f"loss = {loss!r} needs integer class ids of shape (N,), got float targets of shape "
                f"{tuple(y.shape)}: for one-hot rows pass y.argmax(1), or use loss = \"cross_entropy\", "
                f"which also takes class probabilities")
    if y.ndim == 1 and bool((y == y.round()).all()):
        return (f"the labels are whole numbers stored as {str(y.dtype).removeprefix('torch.')} (e.g. "
                f"{float(y[0])}); {loss} needs integer class ids: cast them to integers (y.astype(int) "
                f"or y.long()), or set loss = \"mse\" if they are regression targets")
    return (f"the targets are {str(y.dtype).removeprefix('torch.')} numbers (e.g. {float(y[0])}) but "
            f"{loss} needs integer class ids: set loss = \"mse\" (or \"huber\") for regression "
            f"targets, or give classes as ids 0..K-1")


def make_loss(name, *, label_smoothing: float = 0.0, huber_delta: float = 1.0, hinge_margin: float = 1.0):
    """The loss callable for a config name (or a user's callable, returned unchanged)."""
    if callable(name):
        return name
    if not isinstance(name, str) or name not in LOSSES:
        raise ConfigError(f"loss = {name!r}: unknown; allowed: {', '.join(sorted(LOSSES))} or a callable")
    if name == "cross_entropy" and label_smoothing:
        return lambda out, y: cross_entropy(out, y, label_smoothing=label_smoothing)
    if name == "huber" and huber_delta != 1.0:
        return lambda out, y: huber(out, y, delta=huber_delta)
    if name == "hinge" and hinge_margin != 1.0:
        return lambda out, y: hinge(out, y, margin=hinge_margin)
    return LOSSES[name]


def _argmax_hits(output, target):
    return (output.argmax(dim=-1) == target).sum()


def one_score_hits(output, target):
    """One score per row against 0/1 class ids (a user's own loss on a sigmoid's probability or on a
    logit): the score thresholded at 0.5 when every score of the batch lies in [0, 1]
    (probabilities), else at 0 (logits). Decided on the device: no host sync."""
    score = output.reshape(target.shape)
    threshold = torch.where(((score >= 0) & (score <= 1)).all(), 0.5, 0.0)
    return ((score > threshold) == (target == 1)).sum()


# A softmax's rows sum to 1 within float32 rounding (~1e-6 a row); float16 outputs within ~1e-3.
SIMPLEX_TOL = 1e-3


def class_probabilities(output, *, own_loss: bool = False):
    """Class probabilities (N, C) of a model's outputs: a softmax over C > 1 outputs, (1 - σ, σ) of
    one logit a row. Under a user's own loss (``own_loss``) the outputs may already be
    probabilities, and then they are taken as they are: one score a row with every score of the
    batch in [0, 1] (the rule ``one_score_hits`` counts accuracy by), or rows of non-negative
    numbers that sum to 1 within ``SIMPLEX_TOL`` (a softmax in the model). Decided on the device:
    no host sync."""
    output = output.float()
    if output.ndim == 1 or output.shape[-1] == 1:
        score = output.reshape(-1)
        p = torch.sigmoid(score)
        if own_loss:
            p = torch.where(((score >= 0) & (score <= 1)).all(), score, p)
        return torch.stack([1 - p, p], dim=1)
    probs = torch.softmax(output, dim=1)
    if own_loss:
        simplex = (output >= 0).all() & ((output.sum(dim=1) - 1).abs() <= SIMPLEX_TOL).all()
        probs = torch.where(simplex, output, probs)
    return probs


def _class_id_hits(output, target):
    """A user's own loss on class ids: argmax over the outputs' classes, or one score per row."""
    if output.ndim == target.ndim or (output.ndim == target.ndim + 1 and output.shape[-1] == 1):
        return one_score_hits(output, target)
    return _argmax_hits(output, target)


def _sign_hits(output, target):
    return ((_match(output, target) > 0) == (target > 0.5)).sum()


def _distribution_hits(output, target):
    return (output.argmax(dim=-1) == target.argmax(dim=-1)).sum()


def accuracy_fn(loss, target: torch.Tensor):
    """How to count correct predictions for this loss and these targets, or None (regression).

    Returns ``fn(output, target) -> 0-d tensor`` (no host sync). Class ids: argmax; ``bce``:
    logit sign against 0/1 targets; ``kl_div`` and cross_entropy on class probabilities (N, C):
    argmax of output vs of the target distribution.
    A user's callable loss: integer targets mean class ids (argmax, or ``one_score_hits`` for one
    score per row), float targets mean regression.
    """
    if loss == "bce":
        return _sign_hits
    if loss == "kl_div" or (loss == "cross_entropy" and torch.is_floating_point(target) and target.ndim == 2):
        return _distribution_hits
    if loss in CLASS_ID_LOSSES:
        return _argmax_hits
    if not isinstance(loss, str) and not torch.is_floating_point(target):
        return _class_id_hits
    return None
