"""MC dropout (Gal & Ghahramani 2016): at prediction time keep only the dropout layers in training
mode (batch norm and everything else in eval mode), run T passes and report their mean and spread.

    mean = (1/T) Σ_t p_t(x),    spread = sqrt((1/T) Σ_t (p_t(x) - mean)²)

(p: class probabilities, or the raw outputs for regression / ``output="raw"``). Dropout called
as a function in a model's own ``forward`` (``F.dropout(x, p, self.training)``) cannot be switched
on separately from batch norm; it is detected while predicting (a torch function mode sees every
functional dropout call made outside a dropout layer) and reported in ``functional_dropout`` and a
warning, since those units then stay off in all T passes.
"""
from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from trainwell.errors import ConfigError
from trainwell.nn.dropout import Dropout

DROPOUT_LAYERS = (nn.modules.dropout._DropoutNd, Dropout)
FUNCTIONAL_DROPOUTS = frozenset({F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout,
                                 F.feature_alpha_dropout, torch.dropout, torch.alpha_dropout,
                                 torch.feature_dropout, torch.feature_alpha_dropout})
MC_SEED = 0       # the passes draw from their own seeded stream: a prediction is reproducible


@dataclass
class MCPrediction:
    """The T passes' ``mean`` and ``spread`` (standard deviation), per sample and output;
    ``classes``: argmax of the mean probabilities (None for raw outputs)."""

    mean: torch.Tensor
    spread: torch.Tensor
    classes: torch.Tensor | None
    passes: int
    dropout_layers: int
    functional_dropout: bool


class _FunctionalDropoutSeen(TorchFunctionMode):
    """Counts functional dropout calls made outside a dropout layer's own forward."""

    def __init__(self):
        super().__init__()
        self.depth, self.outside = 0, 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in FUNCTIONAL_DROPOUTS and self.depth == 0:
            self.outside += 1
        return func(*args, **(kwargs or {}))


def dropout_layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, DROPOUT_LAYERS)]


@contextlib.contextmanager
def _only_dropout_training(model: nn.Module):
    layers = dropout_layers(model)
    was_training = model.training
    model.eval()
    for layer in layers:
        layer.train()
    try:
        yield layers
    finally:
        model.train(was_training)


@torch.no_grad()
def mc_predict(model: nn.Module, X: torch.Tensor, *, passes: int, batch_size: int, probabilities=None,
               seed: int = MC_SEED) -> MCPrediction:
    """T = ``passes`` forward passes of ``model`` over ``X`` (already preprocessed, on the
    model's device) with only dropout active. ``probabilities(out) -> (N, C)`` turns outputs into
    class probabilities (None: average the raw outputs). The global RNG is left as it was."""
    if isinstance(passes, bool) or not isinstance(passes, int) or passes < 2:
        raise ConfigError(f"mc_dropout = {passes!r}: must be an integer >= 2 (the number of passes)")
    devices = [X.device] if X.is_cuda else []
    with _only_dropout_training(model) as layers, torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        seen = _FunctionalDropoutSeen()
        hooks = [h for layer in layers for h in (
            layer.register_forward_pre_hook(lambda *_: setattr(seen, "depth", seen.depth + 1)),
            layer.register_forward_hook(lambda *_: setattr(seen, "depth", seen.depth - 1)))]
        try:
            outs = []
            for t in range(passes):
                with seen if t == 0 else contextlib.nullcontext():
                    out = torch.cat([model(X[i:i + batch_size]) for i in range(0, X.shape[0], batch_size)])
                outs.append(probabilities(out) if probabilities is not None else out)
        finally:
            for h in hooks:
                h.remove()
    stacked = torch.stack(outs)
    mean, spread = stacked.mean(0), stacked.std(0, unbiased=False)
    functional = seen.outside > 0
    if functional:
        warnings.warn(f"mc_dropout: the model calls dropout as a function in its forward "
                      f"({seen.outside} call(s) per pass outside dropout layers); those cannot be switched "
                      f"on apart from batch norm and stay off: use nn.Dropout layers", stacklevel=3)
    if not layers:
        warnings.warn("mc_dropout: the model has no dropout layers; all passes are the same "
                      "(spread 0)", stacklevel=3)
    return MCPrediction(mean=mean, spread=spread,
                        classes=mean.argmax(-1) if probabilities is not None else None,
                        passes=passes, dropout_layers=len(layers), functional_dropout=functional)
