"""How well predicted probabilities match outcomes: accuracy, negative log-likelihood and the
expected calibration error, with the bins of a reliability diagram (Guo et al. 2017).

    NLL = -(1/N) Σ_i log p_i[y_i]
    ECE = Σ_b (n_b / N) · |acc_b - conf_b|

over ``ECE_BINS`` equal-width bins of the confidence max_k p_i[k], bin b holding the confidences
in ((b-1)/B, b/B]; acc_b is the bin's accuracy, conf_b its mean confidence.
"""
from __future__ import annotations

import torch

ECE_BINS = 15                 # Guo et al. 2017 (On Calibration of Modern Neural Networks): M = 15
PROB_FLOOR = 1e-12            # log(0) guard: a probability of exactly 0 for the true class


@torch.no_grad()
def calibration(probs: torch.Tensor, y: torch.Tensor, *, bins: int = ECE_BINS) -> dict:
    """``{"acc", "nll", "ece", "bins": {"confidence", "accuracy", "count"}}`` of class
    probabilities ``probs`` (N, C) against class ids ``y`` (N,); one host sync."""
    probs, y = probs.float(), y.long().to(probs.device)
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == y).float()
    nll = -probs.gather(1, y[:, None]).squeeze(1).clamp_min(PROB_FLOOR).log().mean()
    index = (confidence * bins).ceil().long().clamp(1, bins) - 1        # ((b-1)/B, b/B] -> b-1
    count = torch.zeros(bins, device=probs.device).index_add_(0, index, torch.ones_like(confidence))
    conf_sum = torch.zeros(bins, device=probs.device).index_add_(0, index, confidence)
    acc_sum = torch.zeros(bins, device=probs.device).index_add_(0, index, correct)
    ece = ((acc_sum - conf_sum).abs() / y.shape[0]).sum()
    n = count.clamp_min(1)
    head = torch.stack([correct.mean(), nll, ece]).tolist()
    conf, acc, count = (conf_sum / n).tolist(), (acc_sum / n).tolist(), count.long().tolist()
    return {"acc": head[0], "nll": head[1], "ece": head[2],
            "bins": {"confidence": conf, "accuracy": acc, "count": count}}


@torch.no_grad()
def model_calibration(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor, *, batch_size: int) -> dict:
    """``{"nll", "ece"}`` of ``model``'s class probabilities (softmax, or (1-σ, σ) for one logit)
    on ``(X, y)`` with class ids ``y``, in eval mode; ``{}`` for other targets (regression)."""
    if torch.is_floating_point(y) or y.ndim != 1:
        return {}
    was_training = model.training
    model.eval()
    out = torch.cat([model(X[i:i + batch_size]) for i in range(0, X.shape[0], batch_size)])
    model.train(was_training)
    if out.ndim == 1 or out.shape[-1] == 1:
        p = torch.sigmoid(out.reshape(-1).float())
        probs = torch.stack([1 - p, p], dim=1)
    else:
        probs = torch.softmax(out.float(), dim=1)
    if probs.shape[1] <= int(y.max()):
        return {}
    result = calibration(probs, y)
    return {"nll": result["nll"], "ece": result["ece"]}
