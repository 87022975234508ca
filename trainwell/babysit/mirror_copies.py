"""Mirrored copies in the training split: offline augmentation, and copies labelled unlike their rows.

Offline augmentation doubles a training split with transformed copies of its rows, most often
images or signals flipped along a spatial axis: ``X = cat([X, X[idx].flip(-1)])``, labels
``cat([y, y[idx]])``. Two readings follow.

* The split is no longer drawn like validation and test: each class's mean input in training is
  the mean of the rows and of their mirrors, while validation holds unflipped rows only, so a
  per-feature comparison (split_checks' ``features_shift``) sees every asymmetric pixel shift by
  half its left-right difference. That is the user's choice, not a mismatch: the model is trained
  on a mirror-symmetric distribution and validation is read against it once its rows are mirrored
  the same way (``with_mirrors``).
* The copies' labels must be the labels of the rows they copy. ``cat([y, y])`` where ``y[idx]``
  was meant (the index applied to the images only) gives the copies other rows' labels: a row and
  its mirror then carry different classes, at the rate two random rows do. A mirror-symmetric
  task gives a row and its mirror one class; a task whose classes are mirror images of each other
  (a left and a right arrow) gives a class map, each class's mirrors in one other class. A
  ``label_problem`` warning (``check_mirror_labels``) when more than ``DISAGREE`` of the mirrored
  rows carry another class than their mirror and no class map explains them (the mirrors of a
  class fall in its most frequent partner class in less than ``CLASS_MAP`` of its rows).

Read on the host, on at most ``ROWS`` training rows (a seeded sample beyond it: a row's mirror is
then in the sample at the sample's share, which ``MIRRORED`` is scaled by). A row is mirrored along
an axis when its flip along that axis is, bit for bit, another training row's input and differs
from the row itself (a row symmetric about the axis is its own mirror: no evidence of a copy).
Inputs (N, C, L) and (N, C, H, W) only: a table's columns have no axis to flip.
"""
from __future__ import annotations

import torch

from trainwell.babysit.findings import Finding, make

ROWS = 10000            # training rows read (a seeded sample beyond this)
MIRRORED = 0.5          # an axis along which at least half the rows read have a mirror among them: the split
                        # holds flipped copies (a split doubled with one flip of every row has all of them;
                        # distinct measured rows are mirrors of each other bit for bit by chance hardly ever)
DISAGREE = 0.1          # copies labelled unlike their rows: a tenth of the mirrored rows carry another class
                        # than their mirror (a copy takes its row's label, so a correct augmentation has none)
CLASS_MAP = 0.9         # ... unless each class's mirrors fall in one partner class in 90 % of its rows (classes
                        # that are mirror images of each other: a left and a right arrow)


def _sample(X: torch.Tensor, y: torch.Tensor | None):
    n = X.shape[0]
    if n <= ROWS:
        return X, y, 1.0
    keep = torch.randperm(n, generator=torch.Generator().manual_seed(0))[:ROWS]
    return X[keep], (None if y is None else y[keep]), ROWS / n


def mirror_partners(X: torch.Tensor, axis: int) -> torch.Tensor:
    """For each row of ``X``, the index of another row equal to its flip along ``axis`` bit for bit,
    or -1 (no such row, or the row is its own mirror)."""
    n = X.shape[0]
    flat = X.reshape(n, -1)
    both = torch.cat([flat, X.flip(axis).reshape(n, -1)])
    _, group = torch.unique(both, dim=0, return_inverse=True)
    own, mirrored = group[:n], group[n:]
    owner = torch.full((int(group.max()) + 1,), -1, dtype=torch.long)
    owner[own] = torch.arange(n)                    # a row holding each content (any one of equal rows)
    partner = owner[mirrored]
    return torch.where(mirrored == own, torch.full_like(partner, -1), partner)


def mirrored_axes(X) -> dict[int, torch.Tensor]:
    """``{axis: partners}`` for the spatial axes of ``X`` ((N, C, L) or (N, C, H, W)) along which at
    least ``MIRRORED`` of the rows read have a mirror among them (``mirror_partners`` of the rows read)."""
    if not isinstance(X, torch.Tensor) or X.ndim not in (3, 4) or X.shape[0] < 2:
        return {}
    rows, _, share = _sample(X.detach().cpu(), None)
    out = {}
    for axis in range(2, X.ndim):
        partners = mirror_partners(rows, axis)
        if float((partners >= 0).double().mean()) >= MIRRORED * share:
            out[axis] = partners
    return out


def with_mirrors(X: torch.Tensor, y: torch.Tensor, axes) -> tuple[torch.Tensor, torch.Tensor]:
    """``X`` and ``y`` with each row's flip along each of ``axes`` appended (labelled as the row)."""
    xs, ys = [X], [y]
    for axis in axes:
        xs.append(X.flip(axis))
        ys.append(y)
    return torch.cat(xs), torch.cat(ys)


def check_mirror_labels(X, y) -> list[Finding]:
    """``label_problem`` (a warning): training rows and their mirrors among the training rows labelled
    with different classes, at a rate no class map explains (the module docstring)."""
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor) or y.ndim != 1 \
            or torch.is_floating_point(y) or X.ndim not in (3, 4) or X.shape[0] != y.shape[0]:
        return []
    rows, labels, share = _sample(X.detach().cpu(), y.detach().cpu().long())
    found = []
    for axis, partners in mirrored_axes(rows).items():
        has = partners >= 0
        a, b = labels[has], labels[partners[has]]
        other = a != b
        disagree = float(other.double().mean())
        if disagree <= DISAGREE:
            continue
        ids = torch.unique(a)
        # each class's most frequent partner class, and the share of its mirrored rows it holds
        counts = torch.stack([torch.bincount(b[a == c], minlength=int(labels.max()) + 1) for c in ids])
        mapped = float(counts.max(dim=1).values.sum() / counts.sum())
        if mapped >= CLASS_MAP:
            continue
        found.append(make(
            "label_problem",
            f"{int(has.sum())} of {len(labels)} training rows have their mirror image (flipped along input axis "
            f"{axis}) among the training rows, offline augmentation, and {disagree:.0%} of them carry another class "
            f"than their mirror (no class map: a class's mirrors fall in one class in {mapped:.0%} of its rows, "
            f"at least {CLASS_MAP:.0%} for classes that are mirror images of each other): the copies' labels are "
            f"other rows' labels (the images indexed, the labels not: y where y[idx] was meant)",
            evidence={"axis": axis, "mirrored_rows": int(has.sum()), "rows": len(labels), "disagree": disagree,
                      "class_map": mapped, "disagree_threshold": DISAGREE, "class_map_threshold": CLASS_MAP},
            severity="warning", where="training labels",
            fix="label each augmented copy with the label of the row it copies (index the labels as the "
                "images: torch.cat([y, y[idx]])), or augment online in the data loader"))
    return found
