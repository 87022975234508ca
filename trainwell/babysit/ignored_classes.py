"""Classes the loss never trains: a loss whose gradient is exactly zero for every row of a class.

``nn.CrossEntropyLoss(ignore_index=0)`` copied from a segmentation recipe, a masked loss written
as ``loss[y != 0].mean()``, ``F.nll_loss(..., ignore_index=k)``, a class weight of 0: each drops the
rows of one label value from the loss. Where that value is a void label (255 in segmentation) the model has no
output for it and dropping it is the point; where it is one of the model's own classes (an id in
0..C-1 of C outputs) that class's rows never move the weights, and the model cannot learn to
predict it: its logit only falls as the other classes are trained up.

The measure is the loss's own gradient with respect to the outputs, one backward on a batch that
holds rows of every class (up to ``ROWS_PER_CLASS`` each): a row the loss ignores has a gradient
of exactly 0 in every output, whatever the outputs are. A row the model already fits perfectly
can also have a zero gradient (a saturated softmax in float32), so the check asks twice: at the
model's outputs and at the same outputs with their columns rotated by one (the model's values, in
the range the loss accepts, now favouring another class). A class all of whose rows are exactly
zero both times, while rows of other classes are not, is a class the loss ignores, where it still
is in a batch of that class's rows alone (``reached_alone``): a loss that ignores a label ignores it
whatever else the batch holds (an empty mean, NaN, or zeros), while a loss that reduces the batch by
selecting rows (``.max()`` over the per-row losses, a top-k) gives its gradient to few rows of any
batch, and the zeros of the others are the reduction's, not the labels' (set 23's worst-row loss read
as two classes ignored). No training, no per-row Python: one forward of the model and a few backward
passes of the loss alone.
"""
from __future__ import annotations

import warnings

import torch

from trainwell.babysit.findings import Finding, make

ROWS_PER_CLASS = 16     # rows of each class in the batch: exact zeros in every one of them are no chance
MIN_ROWS = 2            # a class with fewer rows in the training sample is not judged
MAX_CLASSES = 1000      # class-id targets with more distinct values are not judged
BATCH_ROWS = 1024       # the batch's rows: fewer per class (down to MIN_ROWS) where 16 each would exceed them
SHOWN = 10              # class ids listed in a message


def class_batch(y: torch.Tensor, *, per_class: int = ROWS_PER_CLASS, seed: int = 0) -> torch.Tensor:
    """Indices of up to ``per_class`` rows of each distinct value of the 1-D ``y`` (a seeded
    choice), sorted by class: one vectorized pass, no loop over rows."""
    perm = torch.randperm(y.shape[0], generator=torch.Generator().manual_seed(seed))
    ys = y[perm]
    order = torch.argsort(ys, stable=True)
    sorted_y = ys[order]
    starts = torch.searchsorted(sorted_y, sorted_y, right=False)      # first index of each row's class
    rank = torch.arange(sorted_y.shape[0]) - starts
    return perm[order[rank < per_class]]


def _zero_rows(loss_fn, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor | None:
    """Per row: is the loss's gradient with respect to this row's outputs exactly zero? None when
    the loss fails, is not a finite scalar, or does not reach the outputs."""
    o = out.detach().clone().requires_grad_(True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = loss_fn(o, y)
        if not (isinstance(value, torch.Tensor) and value.numel() == 1 and bool(torch.isfinite(value))):
            return None
        (grad,) = torch.autograd.grad(value, o, allow_unused=True)
    except Exception:           # a loss that fails here is loss_output_mismatch's, found by the value checks
        return None
    if grad is None:
        return None
    return (grad.reshape(grad.shape[0], -1) == 0).all(dim=1)


def reached_alone(loss_fn, out: torch.Tensor, y: torch.Tensor) -> bool:
    """Whether the loss on these rows alone gives any of them a nonzero gradient: a loss that ignores
    their label gives none (or fails: the mean of no rows is NaN), a loss that only selects among the
    batch's rows (the worst row, a top-k) gives one to the rows it selects."""
    zero = _zero_rows(loss_fn, out, y)
    return zero is not None and not bool(zero.all())


def ignored_classes(model, X: torch.Tensor, y: torch.Tensor, loss_fn, *, seed: int = 0) -> dict | None:
    """The class ids of the 1-D integer targets ``y`` whose every row has an exactly zero loss
    gradient at the model's outputs and at those outputs' columns rotated by one, and none either in
    a batch of that class's rows alone (``reached_alone``), with the counts behind it; None when the question does not apply (not class ids, one output column, a loss
    that fails or does not reach the outputs, no row with a gradient at all). ``model`` is used as
    given (pass a copy), without gradients."""
    if torch.is_floating_point(y) or y.ndim != 1 or y.shape[0] != X.shape[0] or y.numel() == 0:
        return None
    y = y.detach().cpu()
    if torch.unique(y).numel() > MAX_CLASSES:
        return None
    classes = int(torch.unique(y).numel())
    rows = class_batch(y, per_class=max(MIN_ROWS, min(ROWS_PER_CLASS, BATCH_ROWS // classes)), seed=seed)
    device = next((p.device for p in model.parameters()), X.device)
    xb, yb = X[rows].to(device), y[rows].to(device)
    devices = [xb.device.index or 0] if xb.is_cuda else []
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        out = model(xb)
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != yb.shape[0] or out.shape[1] < 2:
        return None
    first = _zero_rows(loss_fn, out, yb)
    second = _zero_rows(loss_fn, torch.roll(out.detach(), 1, dims=1), yb)
    if first is None or second is None:
        return None
    zero = (first & second).cpu()
    if bool(zero.all()) or not bool(zero.any()):
        return None             # a loss that reaches no row is another fault (the value checks'); none ignored
    ids, per_class = torch.unique(y[rows], return_counts=True)
    zero_per_class = torch.zeros(ids.numel(), dtype=torch.long).index_add_(
        0, torch.searchsorted(ids, y[rows]), zero.long())
    ignored = (zero_per_class == per_class) & (per_class >= MIN_ROWS)
    for k in torch.nonzero(ignored).flatten().tolist():
        alone = y[rows] == ids[k]
        ignored[k] = not reached_alone(loss_fn, out[alone.to(out.device)], yb[alone.to(yb.device)])
    if not bool(ignored.any()):
        return None
    counts = torch.unique(y, return_counts=True)
    share = float(counts[1][torch.isin(counts[0], ids[ignored])].sum()) / y.numel()
    return {"ignored_classes": ids[ignored].tolist(), "outputs": int(out.shape[1]), "classes": ids.tolist(),
            "rows_checked": int(rows.numel()), "zero_rows": int(zero.sum()), "training_share": share}


def check_ignored_classes(model, X, y, loss_fn, *, seed: int = 0) -> list[Finding]:
    """``label_problem`` (error): the loss ignores the rows of a class the model has an output for
    (an id in 0..C-1 of C outputs); an ignored id outside that range (a void label) is the usual
    use of an ignore rule and stays quiet."""
    found = ignored_classes(model, X, y, loss_fn, seed=seed)
    if found is None:
        return []
    real = [c for c in found["ignored_classes"] if 0 <= c < found["outputs"]]
    if not real:
        return []
    shown = str(real[:SHOWN])[:-1] + (f", ... {len(real)} in all]" if len(real) > SHOWN else "]")
    option = getattr(loss_fn, "ignore_index", None)
    named = f" (the loss's ignore_index = {option})" if option in real else ""
    return [make("label_problem",
                 f"the loss ignores every row of class{'es' if len(real) > 1 else ''} {shown}{named}: its gradient "
                 f"is exactly 0 for each of them ({100 * found['training_share']:.1f}% of the training rows) at any "
                 f"output, so the model has an output for {'these classes' if len(real) > 1 else 'this class'} but "
                 f"never learns to predict it",
                 evidence={**found, "real_ignored": real, "ignore_index": option},
                 fix="drop the ignore rule (CrossEntropyLoss's ignore_index, a mask, a class weight of 0) or point "
                     "it at a label value that is no class (e.g. -100 or a void id outside 0..C-1)")]
