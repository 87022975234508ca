"""Task shapes: what the model's output and the targets look like, and which checks read them.

The babysitter's checks were written for a table of rows with one class id or one value each;
users bring other shapes: multi-hot targets (multi-label), several target columns, outputs per
position (a tagger's (N, T, C), a segmentation head's (N, C, H, W)). A check that reads a shape it
was not written for either handles it or says it does not apply; it never reads a wrong axis
(docs/babysitter.md, "Task shapes").
"""
from __future__ import annotations

import torch

from trainwell.errors import ConfigError


def check_single_output(out) -> None:
    """``fit`` and the doctor take a model whose forward returns one tensor: the input of the loss,
    the metrics and every check (docs/training.md). A tuple, list or dict (a model that returns its
    features or an auxiliary head beside the logits) is refused here in words (a ``ConfigError``),
    before a check reads a shape it does not have."""
    if isinstance(out, torch.Tensor):
        return
    if isinstance(out, dict):
        parts = f" with keys {sorted(map(str, out))}"
    elif isinstance(out, (tuple, list)):
        parts = f" of {len(out)} ({', '.join(type(o).__name__ for o in out)})"
    else:
        parts = ""
    raise ConfigError(f"the model's forward returned a {type(out).__name__}{parts}: fit and the doctor train a "
                      f"model whose forward returns one tensor, the loss's input; return that tensor (the "
                      f"logits), or wrap the model in a module whose forward picks it (out[0], out[\"logits\"])")


def class_axis(out: torch.Tensor, y: torch.Tensor) -> int | None:
    """The class axis of outputs scored per position against integer ids per position, or None
    where the targets are one id (or one value) per row.

    PyTorch's cross-entropy takes (N, C, *S) logits against (N, *S) ids (a segmentation head's
    (N, C, H, W) against (N, H, W)): the classes on axis 1. A tagger's head gives (N, T, C), which
    the user's loss reshapes to (N * T, C) against (N * T,): the classes on the last axis. Where
    both readings fit the shapes (C == T) the one PyTorch's loss takes, axis 1, is not assumed for a
    loss that reshapes: the shapes cannot tell, so None (the per-position checks do not run)."""
    if (not isinstance(out, torch.Tensor) or torch.is_floating_point(y) or y.ndim < 2
            or out.ndim != y.ndim + 1 or out.shape[0] != y.shape[0]):
        return None
    first = tuple(out.shape[2:]) == tuple(y.shape[1:])
    last = tuple(out.shape[1:-1]) == tuple(y.shape[1:])
    if first and last:
        return None
    return 1 if first else (out.ndim - 1 if last else None)


def position_rows(out: torch.Tensor, y: torch.Tensor, axis: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-position outputs and ids as rows: (M, C) scores against (M,) ids, one row per position
    whose id is a class (a negative id is an ignore_index's padding: -100 by PyTorch's default)."""
    scores = out.movedim(axis, -1).reshape(-1, out.shape[axis])
    ids = y.reshape(-1)
    kept = ids >= 0
    return scores[kept], ids[kept]


def multi_hot(y: torch.Tensor, kind: str) -> bool:
    """Multi-label targets: (N, K) rows of 0/1 floats, K >= 2, under binary cross-entropy (from
    logits, ``bce``, or on probabilities, ``bce_prob``)."""
    return (kind in ("bce", "bce_prob") and torch.is_floating_point(y) and y.ndim == 2 and y.shape[1] >= 2
            and bool(((y == 0) | (y == 1)).all()))
