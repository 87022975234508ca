"""How well predicted probabilities match outcomes: accuracy, negative log-likelihood and the
expected calibration error, with the bins of a reliability diagram (Guo et al. 2017).

    NLL = -(1/N) Σ_i log p_i[y_i]
    ECE = Σ_b (n_b / N) · |acc_b - conf_b|

over ``ECE_BINS`` equal-width bins of the confidence max_k p_i[k], bin b holding the confidences
in ((b-1)/B, b/B]; acc_b is the bin's accuracy, conf_b its mean confidence.
"""
from __future__ import annotations

import torch

from trainwell.nn.losses import class_probabilities
from trainwell.train.metrics import shard_rows

ECE_BINS = 15                 # Guo et al. 2017 (On Calibration of Modern Neural Networks): M = 15
PROB_FLOOR = 1e-12            # log(0) guard: a probability of exactly 0 for the true class


@torch.no_grad()
def calibration(probs: torch.Tensor, y: torch.Tensor, *, bins: int = ECE_BINS) -> dict:
    """``{"acc", "nll", "ece", "bins": {"confidence", "accuracy", "count"}}`` of class
    probabilities ``probs`` (N, C) against class ids ``y`` (N,); one host sync."""
    return calibration_from_sums(calibration_sums(probs, y, bins=bins).tolist(), bins=bins)


@torch.no_grad()
def calibration_sums(probs: torch.Tensor, y: torch.Tensor, *, bins: int = ECE_BINS) -> torch.Tensor:
    """The sums ``calibration`` reads, as one float64 tensor that adds up over row shards (DDP
    ranks): [rows, correct, Σ -log p_i[y_i], then per bin: count, Σ confidence, Σ correct]."""
    probs, y = probs.float(), y.long().to(probs.device)
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == y).double()
    nll = -probs.gather(1, y[:, None]).squeeze(1).clamp_min(PROB_FLOOR).log().double().sum()
    index = (confidence * bins).ceil().long().clamp(1, bins) - 1        # ((b-1)/B, b/B] -> b-1
    per_bin = torch.zeros(3, bins, dtype=torch.float64, device=probs.device)
    per_bin[0].index_add_(0, index, torch.ones_like(correct))
    per_bin[1].index_add_(0, index, confidence.double())
    per_bin[2].index_add_(0, index, correct)
    head = torch.stack([torch.tensor(float(y.shape[0]), dtype=torch.float64, device=probs.device),
                        correct.sum(), nll])
    return torch.cat([head, per_bin.flatten()])


def calibration_from_sums(sums: list, *, bins: int = ECE_BINS) -> dict:
    """``calibration``'s result from ``calibration_sums`` (added over the shards)."""
    n, correct, nll = sums[:3]
    count, conf_sum, acc_sum = sums[3:3 + bins], sums[3 + bins:3 + 2 * bins], sums[3 + 2 * bins:3 + 3 * bins]
    ece = sum(abs(a - c) for a, c in zip(acc_sum, conf_sum)) / n if n else float("nan")
    return {"acc": correct / n if n else float("nan"), "nll": nll / n if n else float("nan"), "ece": ece,
            "bins": {"confidence": [c / max(k, 1) for c, k in zip(conf_sum, count)],
                     "accuracy": [a / max(k, 1) for a, k in zip(acc_sum, count)],
                     "count": [int(k) for k in count]}}


@torch.no_grad()
def model_calibration(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor, *, batch_size: int,
                      shard: tuple[int, int] = (0, 1), reduce=None, own_loss: bool = False) -> dict:
    """``{"nll", "ece"}`` of ``model``'s class probabilities (``losses.class_probabilities``:
    softmax, (1-σ, σ) for one logit, or the outputs themselves when a user's own loss
    (``own_loss``) trained a model that outputs probabilities) on ``(X, y)`` with class ids
    ``y``, in eval mode; ``{}`` for other targets (regression).
    ``shard = (rank, world)`` and ``reduce``: as ``metrics.evaluate_model`` (each rank scores its
    rows, the sums are added over the ranks)."""
    if torch.is_floating_point(y) or y.ndim != 1:
        return {}
    first, end = shard_rows(X.shape[0], shard)
    was_training = model.training
    model.eval()
    outs = [model(X[i:min(i + batch_size, end)]) for i in range(first, end, batch_size)]
    out = torch.cat(outs) if outs else model(X[first:first])      # a rank with no rows adds nothing
    model.train(was_training)
    probs = class_probabilities(out, own_loss=own_loss)
    if probs.shape[1] <= int(y.max()):
        return {}
    sums = calibration_sums(probs, y[first:end])
    result = calibration_from_sums((reduce(sums) if reduce is not None else sums).tolist())
    return {"nll": result["nll"], "ece": result["ece"]}
