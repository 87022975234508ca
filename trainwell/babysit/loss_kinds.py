"""The loss a run trains with, read as a kind (``cross_entropy``, ``mse``, ``other`` ...): every
check that depends on what the loss expects of the outputs and targets branches on it.
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from trainwell.errors import ConfigError
from trainwell.nn.losses import LOSSES, make_loss

# Loss kinds: what the loss expects as output and targets.
CLASS_ID_KINDS = {"cross_entropy", "hinge", "nll"}
LOGIT_KINDS = {"cross_entropy", "hinge", "bce", "kl_div"}
REGRESSION_KINDS = {"mse", "l1", "huber"}
_MODULE_KINDS = {nn.CrossEntropyLoss: "cross_entropy", nn.NLLLoss: "nll", nn.BCEWithLogitsLoss: "bce",
                 nn.BCELoss: "bce_prob", nn.MSELoss: "mse", nn.L1Loss: "l1", nn.HuberLoss: "huber",
                 nn.SmoothL1Loss: "huber", nn.KLDivLoss: "kl_div_logprob",
                 nn.MultiMarginLoss: "hinge"}
_FUNCTION_KINDS = {F.cross_entropy: "cross_entropy", F.nll_loss: "nll",
                   F.binary_cross_entropy_with_logits: "bce", F.binary_cross_entropy: "bce_prob",
                   F.mse_loss: "mse", F.l1_loss: "l1", F.huber_loss: "huber", F.smooth_l1_loss: "huber",
                   F.kl_div: "kl_div_logprob", F.multi_margin_loss: "hinge"}


def resolve_loss(loss, **options) -> tuple:
    """``(loss_fn, kind)`` for a ``LOSSES`` name, built with the run's ``options`` (``make_loss``'s
    label_smoothing, huber_delta, hinge_margin), or any callable (kind ``"other"`` if unknown)."""
    if isinstance(loss, str):
        return make_loss(loss, **options), loss
    if not callable(loss):
        raise ConfigError(f"loss = {loss!r}: must be one of {', '.join(sorted(LOSSES))} or a callable")
    for name, fn in LOSSES.items():
        if loss is fn:
            return loss, name
    for cls, kind in _MODULE_KINDS.items():
        if isinstance(loss, cls):
            return loss, kind
    return loss, _FUNCTION_KINDS.get(loss, "other")
