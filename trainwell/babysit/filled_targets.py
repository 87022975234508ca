"""Regression targets filled in from their neighbours in row order: ``split_mismatch`` or ``label_problem``.

A table's missing targets filled as a series' gaps are (``df["y"].interpolate()``, ``.ffill()``): each
missing value becomes the line between the recorded neighbours, or the last one recorded. In a series
whose rows are consecutive times that is an estimate of the value; in a table whose rows are plots,
customers or parts in export order it writes other rows' targets into these ones, and the model is
trained to predict them from inputs they do not belong to. A fill leaves a *pattern* in the values it
writes (Little & Rubin 2019, "Statistical Analysis with Missing Data", ch. 1: missing entries are read
by their pattern before any model of why), here in the order of the rows. Two measurements, both needed
(as ``filled_rows.py`` reads a block of filled input columns):

1. *The pattern* (``filled_in_order``): rows whose target lies on the line through its two neighbours
   in row order (a zero second difference, within ``TOLERANCE`` of the targets' std: a linear
   interpolation's interior, and a run of one repeated value) or equals the previous row's (a forward
   fill, an interpolation's end) make up at least ``filled_rows.MIN_FILLED`` of the rows and at least
   ``FOLD`` times the share the same targets in shuffled orders give (``SHUFFLES`` of them: values on a
   grid, counts or rounded prices, line up by chance, continuous ones almost never).
2. *The filled rows learn worse* (``filled_rows.filled_worse``): a linear and a nearest-neighbour probe
   fitted on 2/3 of the rows leave at least ``first_layer.LOSS_RATIO`` times the share of the targets'
   variance unexplained on the filled held-out rows that they leave on the others (one-sided
   Mann-Whitney at ``first_layer.ALPHA``). A series' gaps interpolated from neighbours in time are
   predicted as well as the recorded rows and stay quiet, and so do targets sorted along an input
   they are linear in.

The finding is ``split_mismatch`` where a validation or test split holds no such pattern (its targets
measured in full, the training split's filled: the splits' targets come from different processes),
else ``label_problem`` (every split's targets filled alike). Read on tables (a finite 2-D input of 2 to
``filled_rows.MAX_COLUMNS`` columns, its first ``filled_rows.ROWS`` rows) with one float target column,
on the host.
"""
from __future__ import annotations

import torch

from trainwell.babysit import first_layer
from trainwell.babysit.filled_rows import MAX_COLUMNS, MIN_FILLED, ROWS, filled_worse
from trainwell.babysit.findings import Finding, make

TOLERANCE = 1e-5     # a second difference (or a step) within 1e-5 of the targets' std is zero: float32 rounding of
                     # targets of unit scale leaves about 1e-7, and continuous values this close by chance are
                     # about 4e-6 of the triples (the density of a unit normal difference times the width)
FOLD = 10            # the pattern's share at least 10x the shuffled orders' share
SHUFFLES = 5         # shuffled orders the chance share is averaged over
MIN_ROWS = first_layer.MIN_ROWS   # fewer training rows: too few held out to judge the filled rows
SECOND_DIFFERENCE_ROWS = 3        # a validation or test split is clean only with a second difference to read


def filled_in_order(t: torch.Tensor) -> torch.Tensor:
    """The rows of the 1-D targets ``t`` (row order) that lie on the line through their neighbours
    or repeat the previous row's value, within ``TOLERANCE`` of the targets' std: a bool mask."""
    t = t.double().reshape(-1)
    width = TOLERANCE * float(t.std())
    mask = torch.zeros(t.numel(), dtype=torch.bool)
    if t.numel() < SECOND_DIFFERENCE_ROWS or not width > 0:
        return mask
    mask[1:-1] |= (t[2:] - 2 * t[1:-1] + t[:-2]).abs() <= width
    mask[1:] |= (t[1:] - t[:-1]).abs() <= width
    return mask


def chance_share(t: torch.Tensor, *, seed: int = 0) -> float:
    """The share ``filled_in_order`` marks on the targets ``t`` in ``SHUFFLES`` random orders, averaged:
    what the values alone line up to, without any order."""
    gen = torch.Generator().manual_seed(seed)
    t = t.reshape(-1)
    return sum(float(filled_in_order(t[torch.randperm(t.numel(), generator=gen)]).double().mean())
               for _ in range(SHUFFLES)) / SHUFFLES


def patterned(t: torch.Tensor, *, seed: int = 0) -> dict | None:
    """``{"rows": the mask, "share", "chance"}`` where the targets ``t`` hold the pattern (module
    docstring, 1.), else None."""
    mask = filled_in_order(t)
    share = float(mask.double().mean())
    if share < MIN_FILLED:
        return None
    chance = chance_share(t, seed=seed)
    return {"rows": mask, "share": share, "chance": chance} if share >= FOLD * chance else None


def _one_column(pair):
    """The float targets of a split ``(X, y)`` as one finite column on the host, or None."""
    if pair is None or not torch.is_tensor(pair[1]) or not torch.is_floating_point(pair[1]):
        return None
    y = pair[1].detach().cpu()
    if y.ndim == 0 or y.reshape(y.shape[0], -1).shape[1] != 1 or not bool(torch.isfinite(y).all()):
        return None
    return y.reshape(-1)


def _training_rows(splits):
    """The training split's first ``ROWS`` rows in their order, ``(x, t)`` as float64 on the host, where
    its input is a finite table and its target one float column; else None."""
    t = _one_column(splits.train)
    X = splits.train[0]
    if t is None or not torch.is_tensor(X) or X.dim() != 2 or not 2 <= X.shape[1] <= MAX_COLUMNS \
            or X.shape[0] != t.shape[0] or t.shape[0] < MIN_ROWS:
        return None
    n = min(t.shape[0], ROWS)
    x = X[:n].detach().cpu().double()
    return (x, t[:n].double()) if bool(torch.isfinite(x).all()) else None


def check_filled_targets(splits, *, seed: int = 0) -> list[Finding]:
    """``split_mismatch`` (``label_problem`` where no other split is clean), a warning, for training
    targets filled in from their neighbours in row order that the probes predict worse than the
    recorded ones (module docstring). ``splits``: anything with ``train`` / ``val`` / ``test`` pairs."""
    rows = _training_rows(splits)
    if rows is None:
        return []
    x, t = rows
    found = patterned(t, seed=seed)
    if found is None:
        return []
    worse = filled_worse(x, t, found["rows"], class_ids=False, seed=seed)
    if worse is None:
        return []
    others = {name: _one_column(getattr(splits, attr, None))
              for name, attr in (("validation", "val"), ("test", "test"))}
    clean = [name for name, other in others.items()
             if other is not None and other.shape[0] >= SECOND_DIFFERENCE_ROWS and patterned(other, seed=seed) is None]
    where = (f"while the targets of the {' and '.join(clean)} split{'s' if len(clean) > 1 else ''} hold no such "
             f"rows (measured in full)" if clean else "in every split alike")
    return [make(
        "split_mismatch" if clean else "label_problem",
        f"{found['share']:.0%} of the training targets lie on the line through their neighbours in row order or "
        f"repeat the previous row's (shuffled, the same values do so in {found['chance']:.1%}), {where}, and a "
        f"{worse['probe']} probe predicts those rows worse (squared error over the targets' variance: "
        f"{worse['filled']:.2f} on them, {worse['others']:.2f} on the others; one-sided p = {worse['p']:.2g}): "
        f"missing targets filled in from the neighbouring rows (interpolate, ffill) as in a time series, where the "
        f"neighbours are other rows whose values these rows' inputs do not predict",
        evidence={"filled_share": found["share"], "chance_share": found["chance"], "probe": worse["probe"],
                  "filled_unexplained": worse["filled"], "others_unexplained": worse["others"], "p": worse["p"],
                  "p_threshold": worse["p_threshold"], "rows": int(t.shape[0]), "clean_splits": clean},
        where="targets", severity="warning",
        fix="drop the training rows whose target is missing (or give them a weight of 0) instead of filling "
            "them from neighbouring rows; interpolate only along an axis the target varies smoothly on (time "
            "within one series)")]
