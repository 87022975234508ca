"""Task shapes: what the model's output and the targets look like, and which checks read them.

The babysitter's checks were written for a table of rows with one class id or one value each;
users bring other shapes: multi-hot targets (multi-label), several target columns, outputs per
position (a tagger's (N, T, C), a segmentation head's (N, C, H, W)). A check that reads a shape it
was not written for either handles it or says it does not apply; it never reads a wrong axis
(docs/babysitter.md, "Task shapes").
"""
from __future__ import annotations

import copy

import torch

from trainwell.babysit.findings import make
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


def chance_and_margin(p: torch.Tensor, q: torch.Tensor, rows: int) -> tuple[float, float, float]:
    """The label accuracy that predictions independent of the labels score, per column
    c_j = p_j q_j + (1 - p_j)(1 - q_j) (shares p of ones among the labels, q among the predictions),
    averaged; its margin, ``CHANCE_SIGMAS`` standard errors of a row's accuracy over ``rows`` rows,
    with the row's labels taken as perfectly correlated (sd at most the mean of sqrt(c_j (1 - c_j)):
    the labels of a row are not independent, and this bound holds whatever their correlation); and
    their sum, the accuracy a model must beat."""
    from trainwell.babysit.preflight import CHANCE_SIGMAS
    c = p * q + (1 - p) * (1 - q)
    chance = float(c.mean())
    margin = CHANCE_SIGMAS * float(torch.sqrt(c * (1 - c)).mean()) / rows ** 0.5
    return chance, margin, chance + margin


def check_multi_hot_learnable(model, X, y, loss_fn, kind: str, *, gen, budget=None) -> list:
    """``preflight.check_labels_learnable`` for multi-hot rows: memorize ``MEMORIZE_ROWS`` rows (the
    model at PyTorch's default init, Adam lr 1e-3, regularization off) and score up to
    ``UNSEEN_ROWS`` rows it never saw, each label of each row right or wrong. Label sets that belong
    to their rows carry over; label sets shifted against their rows (a join one row off) leave the
    unseen rows at chance: per label column j with unseen share p_j of ones and predicted share q_j,
    p_j q_j + (1 - p_j)(1 - q_j), averaged over the columns, with ``chance_and_margin``'s margin.
    Not judged where a model right on every label would not beat chance by that margin (labels all
    but constant: the 99:1 case of ``preflight.can_beat_chance``), nor where the rows were not
    memorized (``MEMORIZED_ACC`` of the way from the commonest value's share to 1)."""
    from trainwell.babysit import preflight as pf       # preflight calls this check: imported on use

    if not multi_hot(y, kind):
        return []
    n = X.shape[0]
    held = min(pf.UNSEEN_ROWS, n - pf.MEMORIZE_ROWS)
    if held < pf.MIN_UNSEEN_ROWS:
        return []
    perm = torch.randperm(n, generator=gen)
    fit, unseen = perm[:pf.MEMORIZE_ROWS], perm[pf.MEMORIZE_ROWS:pf.MEMORIZE_ROWS + held]
    yu = y[unseen].cpu().double()
    p = yu.mean(dim=0)
    if 1.0 <= chance_and_margin(p, p, held)[2]:     # a model right on every label would not beat chance
        return []
    device = next((q.device for q in model.parameters()), X.device)
    start = copy.deepcopy(model)
    for m in start.modules():           # the labels are judged, not the init
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    pf._disable_regularization(start)
    shares = y[fit].double().mean(dim=0)
    commonest = float(torch.maximum(shares, 1 - shares).mean())
    target = commonest + pf.MEMORIZED_ACC * (1.0 - commonest)
    run = pf._short_run(start, X[fit].to(device), y[fit].to(device), loss_fn, kind, "adam", 1e-3,
                        pf.REFERENCE_STEPS, budget=budget, target_acc=target)
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
                 f"the model memorizes the label sets of {pf.MEMORIZE_ROWS} training rows (labels right "
                 f"{run['acc']:.2f}) but gets {acc:.2f} of the labels right on {held} rows it did not see, no "
                 f"better than its predictions score by chance ({chance:.2f}, were they independent of the "
                 f"labels): the multi-hot rows do not belong to their inputs, or the inputs tell almost "
                 f"nothing about them (labels mostly noise)",
                 evidence={"memorized_acc": run["acc"], "memorized_target": target, "unseen_acc": acc,
                           "chance": chance, "margin": margin, "rows": pf.MEMORIZE_ROWS, "unseen_rows": held,
                           "labels": int(y.shape[1])},
                 severity="warning",
                 fix="check that inputs and label rows are aligned (the same row order after any shuffle, join or "
                     "split) and that the label columns are the right ones")]
