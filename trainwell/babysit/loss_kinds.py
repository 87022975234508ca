"""The loss a run trains with, read as a kind (``cross_entropy``, ``mse``, ``other`` ...): every
check that depends on what the loss expects of the outputs and targets branches on it.

A user's own loss (kind ``other``) is mostly a wrapper of one of PyTorch's: ``inner_losses`` runs it
once under a ``TorchFunctionMode`` and returns the loss functions it called with the tensors it gave
them, so the checks a named loss gets can read what the wrapper passes on (notes 003: the loss, its
outputs and its targets must match; PyTorch checks some of it, e.g. class ids against the width, and
not the rest, e.g. binary cross-entropy's targets in [0, 1]).
"""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

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


class LossCall(NamedTuple):
    """One call of a PyTorch loss function inside a user's loss: its name, kind and tensors (``weight``:
    the per-class weights a cross-entropy or NLL call was given, else None)."""
    name: str
    kind: str
    input: torch.Tensor
    target: torch.Tensor
    weight: torch.Tensor | None = None


class _LossCalls(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.calls: list[LossCall] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        kind = _FUNCTION_KINDS.get(func)
        if kind is not None:
            given = list(args) + [kwargs.get("input"), kwargs.get("target")][len(args):]
            if len(given) >= 2 and all(torch.is_tensor(t) for t in given[:2]):
                self.calls.append(LossCall(func.__name__, kind, given[0].detach(), given[1].detach(),
                                           _class_weight(func, args, kwargs)))
        return func(*args, **kwargs)


def _class_weight(func, args, kwargs):
    """The ``weight`` of ``F.cross_entropy`` / ``F.nll_loss`` (a keyword or their third argument)."""
    if func not in (F.cross_entropy, F.nll_loss):
        return None
    weight = kwargs.get("weight", args[2] if len(args) > 2 else None)
    return weight.detach() if torch.is_tensor(weight) else None


def inner_losses(loss_fn, out: torch.Tensor, y: torch.Tensor) -> list[LossCall]:
    """The PyTorch loss functions ``loss_fn(out, y)`` calls (``nn`` loss modules call them too), in call
    order, with the input and target each was given; ``[]`` where the loss raises (the pre-flight's run
    check reports that)."""
    recorder = _LossCalls()
    try:
        with torch.no_grad(), recorder:
            loss_fn(out, y)
    except Exception:
        return []
    return recorder.calls
