"""Too few training rows for the data: ``overfitting`` (a warning, predicted before training) where the
learning curve measured on a larger split's own rows still climbs at the training split's size.

A training split smaller than its validation split (a trim that forgot a factor, ``test_size`` read as
the training share, a debugging ``head``) leaves the model its few rows to fit; how much that costs
depends on the data: an easy relation is learnt from a few dozen rows, a harder one keeps improving
with every row added. That is what a learning curve shows (the held-out score against the rows fitted
on; Perlich, Provost & Simonoff 2003), and its slope at the training split's size says whether the model
will fit its rows well and new rows worse, the high-variance side of the bias-variance trade-off that
"more data" is the first fix for (notes 000: "train it on more data"; notes 004, "Preventing
overfitting, approach 1: get more data").

The curve is measured on the evaluated splits' rows alone (validation and test pooled), so that a shift between the splits (the training
rows from another period) cannot pass for a lack of rows: the rows are cut in a held-out part
(``HELD_OUT``) and the rest; the ``first_layer`` probes (a linear model and nearest neighbours, nothing
of the user's model) are fitted on as many of the rest as the training split has rows, and on all of
the rest (at least ``MIN_GROWTH`` x as many), and scored on the same held-out rows; each fit is read by
its better probe (the curve of the data is the envelope of its learners': a nearest-neighbour probe
alone needs many rows where a linear one learns an easy relation from a few). A finding when the
larger fit beats the training split's size by the kill rule (``first_layer.MIN_DROP`` of accuracy,
``first_layer.LOSS_RATIO`` of squared error) and significantly (``first_layer.significant_drop``: a
paired test at ``first_layer.ALPHA``). ``split_checks`` runs it where its sizes' check warns (a split with
more than 1 / ``split_checks.SMALL_TRAIN`` x the training rows); it reads a curve only where the pooled
rows hold at least ``MIN_GROWTH`` x the training split's rows beyond their held-out part, on at most
``first_layer.ROWS`` of them, on the host.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from trainwell.babysit import first_layer
from trainwell.babysit.findings import Finding, make

HELD_OUT = 1 / 3          # the larger split's rows scored (first_layer.HELD_OUT's share)
MIN_GROWTH = 2.0          # the curve is read from the training split's size to at least twice as many rows
MIN_TRAIN_ROWS = 10       # fewer training rows: the probes cannot be fitted (ten rows, ten neighbours)


def curve_points(X: torch.Tensor, y: torch.Tensor, rows: int, *, class_ids: bool, seed: int = 0) -> dict | None:
    """The probes fitted on ``rows`` and on all of the pooled rows (``X``, ``y``) beyond their held-out
    part, the better probe of each fit (by its held-out score) compared on that part:
    ``first_layer.paired_scores`` (``"raw"``: the larger fit, ``"layers"``: ``rows`` rows) with
    ``"probes"`` (the better probe of each), ``"scores"`` (every probe's), ``"rows"``, ``"more_rows"``
    and ``"held_out"``; None when the rest holds fewer than ``MIN_GROWTH`` x ``rows``."""
    gen = torch.Generator().manual_seed(seed)
    n = min(X.shape[0], first_layer.ROWS)
    order = torch.randperm(X.shape[0], generator=gen)[:n]
    rest = n - int(n * HELD_OUT)
    if rest < MIN_GROWTH * rows or rows < MIN_TRAIN_ROWS:
        return None
    X, y = X[order].detach().cpu(), y[order].detach().cpu()
    kind = "classes" if class_ids else "values"
    target = y.reshape(-1).long().numpy() if class_ids else y.double().reshape(n, -1).numpy()
    if not class_ids and target.shape[-1] == 1:
        target = target[:, 0]
    scored = target[rest:]
    if class_ids and np.unique(target[:rows]).size < 2:     # one class among the few rows: no probe to fit
        return None
    best, scores = {}, {}
    for side, count in (("raw", rest), ("layers", rows)):
        for probe in ("linear", "neighbours"):
            F = first_layer.probe_features(torch.cat([X[:count], X[rest:]]), count, gen)   # fitted, then held out
            with warnings.catch_warnings():                 # an unconverged probe is still a probe
                warnings.simplefilter("ignore")
                pred = first_layer.fit_predict(kind, probe, F, np.concatenate([target[:count], scored]), count)
            score = first_layer.paired_scores(kind, scored, pred, pred)["raw"]
            scores[f"{probe} on {count}"] = score
            better = class_ids and score > best.get(side, (None, -1.0))[1] or \
                not class_ids and score < best.get(side, (None, float("inf")))[1]
            if better:
                best[side] = (probe, score, pred)
    return {"probes": {side: best[side][0] for side in best}, "scores": scores, "rows": rows, "more_rows": rest,
            "held_out": n - rest, **first_layer.paired_scores(kind, scored, best["raw"][2], best["layers"][2])}


def evaluated_rows(train, pairs: dict):
    """The rows of the splits in ``pairs`` (name -> ``(X, y)``) shaped as the training split's, pooled:
    ``(names, X, y)``, or None where none is a larger split than training (the gate: module docstring)."""
    X = train[0]
    alike = {name: pair for name, pair in pairs.items()
             if pair is not None and all(torch.is_tensor(t) for t in pair) and torch.is_floating_point(pair[0])
             and pair[0].shape[1:] == X.shape[1:] and pair[1].shape[1:] == train[1].shape[1:]
             and pair[1].dtype == train[1].dtype and pair[1].shape[0] == pair[0].shape[0]}
    if not any(pair[0].shape[0] > X.shape[0] for pair in alike.values()):
        return None
    return (list(alike), torch.cat([pair[0].detach().cpu() for pair in alike.values()]),
            torch.cat([pair[1].detach().cpu() for pair in alike.values()]))


def check_learning_curve(train, pairs: dict, *, seed: int = 0) -> list[Finding]:
    """``overfitting`` (a warning) when a split of ``pairs`` (name -> ``(X, y)``) has more rows than the
    training split ``train`` and the learning curve read on the evaluated splits' rows pooled still climbs
    significantly from the training split's size (module docstring)."""
    X, y = train
    if not torch.is_tensor(X) or not torch.is_tensor(y) or X.shape[0] < MIN_TRAIN_ROWS:
        return []
    pooled = evaluated_rows(train, pairs)
    class_ids = not torch.is_floating_point(y)
    if pooled is None or (class_ids and y.ndim != 1):
        return []
    names, Xo, yo = pooled
    point = curve_points(Xo, yo, X.shape[0], class_ids=class_ids, seed=seed)
    hit = first_layer.significant_drop([point], class_ids) if point else None
    if hit is None:
        return []
    unit = "accuracy" if class_ids else "squared error"
    fmt = (lambda v: f"{100 * v:.1f}%") if class_ids else (lambda v: f"{v:.3g}")
    where = " and ".join(names)
    owner = "splits'" if len(names) > 1 else "split's"
    return [make("overfitting",
                 f"the training split's {X.shape[0]} rows are too few for this data: on the {where} {owner} own rows, "
                 f"the better of a linear and a nearest-neighbour probe fitted on {X.shape[0]} of them scores {unit} "
                 f"{fmt(hit['layers'])} on {hit['held_out']} held-out rows, {fmt(hit['raw'])} fitted on "
                 f"{hit['more_rows']} (paired test "
                 f"p = {hit['p']:.2g}): the learning curve still climbs at the training size, so the model will fit "
                 f"its rows far better than new ones",
                 evidence={"train_rows": int(X.shape[0]), "splits": names, "curve": point,
                           "predicted": True},
                 where="training size",
                 fix="train on more rows: give training the larger share of the data (test_size is the held-out "
                     "share), or find the step that dropped the training rows")]
