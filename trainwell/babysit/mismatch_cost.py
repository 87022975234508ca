"""What a split mismatch costs a model trained on the training split, measured by intervention.

The split checks (split_checks.py, label_leak.py) state facts about the data: a split's inputs
shift, a column holds the training rows' own labels, the training split is small. Such a statement
is a fault only where it matters for training: where a model fitted on the training rows does worse
on the evaluated rows than the data allows (issue 11's diagnosis by intervention; its kill rule, 3
points of accuracy or 25 % of squared error, ``first_layer.MIN_DROP`` and ``first_layer.LOSS_RATIO``).
A training split of random crops differs from uncropped validation images and costs nothing; a
column that leaks the label beside thirty informative ones is ignored by a model that has them.
Two interventions, both read with ``first_layer``'s cheap probes (a linear model, 10 nearest
neighbours, and for images and signals a linear model on random-convolution features), never the
user's model, on at most ``first_layer.ROWS`` rows of each split, on the host:

- ``transfer`` (every ``split_mismatch`` warning but a leak's): the probes are fitted on the training
  rows in ``FOLDS`` folds and score every training row out of fold and every row of the split (the
  mean of the folds' losses). In a sound split both are rows the probe never saw, drawn from one
  distribution: their losses agree up to sampling noise, whatever the inputs' statistics say. The
  probe read is the one that learns the training split best (its lowest out-of-fold loss: the
  nearest to what a trained model does). The loss is the balanced error for class ids (the mean of
  the per-class error rates, which resampled class shares leave alone, as ``label_leak`` scores) or
  the squared error. The mismatch matters where the split's loss exceeds the held-back training
  rows' by the kill rule and by ``z_alpha`` standard errors (Welch; one-sided at ``first_layer.ALPHA``).
- ``without_columns`` (a leak, label_leak.py): the probes fitted on the training rows with and
  without the leaking columns, scored on the same rows of the split (paired): the leak matters where
  the columns cost the better probe the kill rule on those rows, significantly (McNemar's exact test /
  a one-sided Wilcoxon signed-rank test, ``first_layer.paired_scores``, at ``first_layer.ALPHA``). A
  leak measured with held-back training rows would always cost: they hold the leak too; the kill
  rule's healthy twin is the table without it.

A warning whose mismatch does not cost stays a finding at ``info`` with the measurement in its message
and ``evidence["cost"]``; one that costs is left as it is. Not measured (left as found): errors (a
class no training row has cannot be learned), splits with fewer than ``MIN_ROWS`` rows or inputs
that are not float tensors.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from trainwell.babysit import first_layer

FOLDS = 3                 # out-of-fold losses of the training rows: each probe fitted on 2/3 of them
                          # (first_layer.HELD_OUT's share held out), every training row scored once
MIN_ROWS = 20             # fewer training rows, or rows of the split: not measured (a probe's 10 neighbours)
PROBES = ("linear", "neighbours")


def z_alpha() -> float:
    """The one-sided normal quantile at ``first_layer.ALPHA``: the standard errors a cost must reach."""
    return float(torch.special.ndtri(torch.tensor(1 - first_layer.ALPHA, dtype=torch.float64)))


def _host_rows(pair, limit: int, gen):
    """A split's inputs (float64, host) and targets, at most ``limit`` rows (a seeded sample), or None
    where they are not tensors of one finite row per target."""
    if pair is None or not all(isinstance(t, torch.Tensor) for t in pair[:2]):
        return None
    X, y = pair[0], pair[1]
    if not torch.is_floating_point(X) or X.ndim < 2 or X.shape[0] != y.shape[0]:
        return None
    if X.shape[0] > limit:
        keep = torch.randperm(X.shape[0], generator=gen)[:limit]
        X, y = X[keep], y[keep]
    X, y = X.detach().cpu().double(), y.detach().cpu()
    finite = torch.isfinite(X.reshape(X.shape[0], -1)).all(1) & torch.isfinite(y.reshape(y.shape[0], -1).double()).all(1)
    return (X[finite], y[finite]) if int(finite.sum()) >= MIN_ROWS else None


def _targets(y: torch.Tensor, class_ids: bool) -> np.ndarray:
    return y.reshape(-1).long().numpy() if class_ids else y.double().reshape(y.shape[0], -1).numpy().squeeze(-1)


def row_losses(pred, target, class_ids: bool) -> np.ndarray:
    """0/1 errors for class ids, squared errors (summed over target columns) for values."""
    if class_ids:
        return (pred != target).astype(np.float64)
    return ((pred - target) ** 2).reshape(len(target), -1).sum(1)


def balanced_weights(target: np.ndarray, class_ids: bool) -> np.ndarray:
    """Row weights of a mean that reads every class alike (each class's rows weigh 1 / its count over the
    classes present: the balanced error); equal weights for values."""
    if not class_ids:
        return np.full(len(target), 1.0 / len(target))
    classes, inverse, counts = np.unique(target, return_inverse=True, return_counts=True)
    return 1.0 / (counts[inverse] * len(classes))


def weighted_mean(losses: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """The weighted mean of per-row losses and its standard error (rows independent)."""
    mean = float((w * losses).sum())
    return mean, math.sqrt(float((w ** 2 * (losses - mean) ** 2).sum()))


def _features(probe: str, X: torch.Tensor, fit: int, gen) -> torch.Tensor:
    """The probe's features of ``X`` (its first ``fit`` rows fitted on)."""
    if probe == "random convolutions":
        X = first_layer._conv_features(X, fit, gen)
    return first_layer.probe_features(X, fit, gen)


def probes_for(X: torch.Tensor) -> tuple:
    """The probes for these inputs: random convolutions too for signals and images (first_layer.probe_drop)."""
    return PROBES + (("random convolutions",) if X.ndim in (3, 4) and min(X.shape[2:]) >= 3 else ())


def transfer(train_pair, pair, *, seed: int = 0) -> dict | None:
    """Out-of-fold losses of the training rows against the losses of ``pair``'s rows under the probe
    that learns the training rows best (module docstring): ``{"probe", "train", "split", "z", "costs",
    "rows"}`` (``costs``: the kill rule is met and ``z`` >= ``z_alpha()``); None where not measured."""
    gen = torch.Generator().manual_seed(seed)
    t, o = _host_rows(train_pair, first_layer.ROWS, gen), _host_rows(pair, first_layer.ROWS, gen)
    if t is None or o is None or t[0].shape[1:] != o[0].shape[1:]:
        return None
    (Xt, yt), (Xo, yo) = t, o
    class_ids = not torch.is_floating_point(yt)
    if class_ids != (not torch.is_floating_point(yo)) or (class_ids and (yt.ndim != 1 or yo.ndim != 1)):
        return None
    tt, to = _targets(yt, class_ids), _targets(yo, class_ids)
    if class_ids and np.unique(tt).size < 2:
        return None
    kind, best = ("classes" if class_ids else "values"), None
    for probe in probes_for(Xt):
        lt, lo = out_of_fold(probe, Xt, tt, kind, gen, scored=Xo, scored_targets=to)
        train, train_se = weighted_mean(lt, balanced_weights(tt, class_ids))
        if best is None or train < best["train"]:
            split, split_se = weighted_mean(lo, balanced_weights(to, class_ids))
            best = {"probe": probe, "train": train, "split": split,
                    "z": (split - train) / max(math.hypot(train_se, split_se), 1e-12)}
    costs = best["z"] >= z_alpha() and (best["split"] - best["train"] >= first_layer.MIN_DROP if class_ids
                                        else best["split"] >= first_layer.LOSS_RATIO * best["train"])
    return {**best, "costs": bool(costs), "rows": [int(Xt.shape[0]), int(Xo.shape[0])], "class_ids": class_ids}


def out_of_fold(probe: str, X: torch.Tensor, target: np.ndarray, kind: str, gen, *, scored=None,
                scored_targets=None) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row losses (``row_losses``) of ``probe`` fitted in ``FOLDS`` folds of the rows ``X``: every row
    scored once, by the probe fitted on the other folds; with ``scored``, also the mean over the folds'
    probes of each of its rows' losses (None without)."""
    n, class_ids = X.shape[0], kind == "classes"
    fold = (torch.randperm(n, generator=gen) % FOLDS).numpy()
    own = np.zeros(n)
    other = None if scored is None else np.zeros(scored.shape[0])
    for k in range(FOLDS):
        fit, held = fold != k, fold == k
        rows = [X[fit], X[held]] + ([] if scored is None else [scored])
        F = _features(probe, torch.cat(rows), int(fit.sum()), gen)
        targets = [target[fit], target[held]] + ([] if scored is None else [scored_targets])
        with warnings.catch_warnings():         # an unconverged probe is still a probe
            warnings.simplefilter("ignore")
            pred = first_layer.fit_predict(kind, "neighbours" if probe == "neighbours" else "linear", F,
                                           np.concatenate(targets), int(fit.sum()))
        own[held] = row_losses(pred[:int(held.sum())], target[held], class_ids)
        if scored is not None:
            other += row_losses(pred[int(held.sum()):], scored_targets, class_ids) / FOLDS
    return own, other


def without_columns(train_pair, pair, columns: list, *, seed: int = 0) -> dict | None:
    """The probes fitted on the training rows with and without ``columns`` (a table's), scored on the same
    rows of ``pair`` (module docstring): ``{"probe", "with", "without", "p", "costs", "rows"}`` of the
    probe that does better without them (``with`` / ``without``: its balanced error or squared error);
    None where not measured."""
    gen = torch.Generator().manual_seed(seed)
    t, o = _host_rows(train_pair, first_layer.ROWS, gen), _host_rows(pair, first_layer.ROWS, gen)
    if t is None or o is None or t[0].ndim != 2 or t[0].shape[1:] != o[0].shape[1:]:
        return None
    (Xt, yt), (Xo, yo) = t, o
    class_ids = not torch.is_floating_point(yt)
    keep = torch.ones(Xt.shape[1], dtype=torch.bool)
    keep[columns] = False
    if not bool(keep.any()) or class_ids == torch.is_floating_point(yo):
        return None
    tt, to = _targets(yt, class_ids), _targets(yo, class_ids)
    if class_ids and np.unique(tt).size < 2:
        return None
    kind, n = ("classes" if class_ids else "values"), Xt.shape[0]
    w = balanced_weights(to, class_ids)
    best = None
    for probe in PROBES:
        pred = {}
        for side, cols in (("with", slice(None)), ("without", keep)):
            F = first_layer.probe_features(torch.cat([Xt[:, cols], Xo[:, cols]]), n, gen)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pred[side] = first_layer.fit_predict(kind, probe, F, np.concatenate([tt, to]), n)
        scores = first_layer.paired_scores(kind, to, pred["without"], pred["with"])
        loss = {side: float((w * row_losses(pred[side], to, class_ids)).sum()) for side in pred}
        gain = loss["with"] - loss["without"]
        if best is None or gain > best["with"] - best["without"]:
            best = {"probe": probe, **loss, "p": scores["p"]}
    costs = best["p"] < first_layer.ALPHA and (best["with"] - best["without"] >= first_layer.MIN_DROP if class_ids
                                               else best["with"] >= first_layer.LOSS_RATIO * best["without"])
    return {**best, "costs": bool(costs), "rows": [n, int(Xo.shape[0])], "class_ids": class_ids}


def _said_transfer(name: str, cost: dict) -> str:
    what = "balanced error" if cost["class_ids"] else "squared error"
    value = (lambda v: f"{v:.1%}") if cost["class_ids"] else (lambda v: f"{v:.3g}")
    return (f"; measured by intervention: the {cost['probe']} probe fitted on the training rows has a {what} of "
            f"{value(cost['split'])} on the {name} rows and {value(cost['train'])} on held-back training rows "
            f"({cost['z']:+.1f} standard errors), less than the kill rule apart: a model trained on these rows "
            f"loses nothing measurable there, so this is info")


def _said_leak(costs: list) -> str:
    said = "; ".join(
        f"the {c['probe']} probe's {'balanced error' if c['class_ids'] else 'squared error'} on the {c['split']} "
        f"rows is {c['with']:.3g} with the columns and {c['without']:.3g} without them" for c in costs)
    return (f"; measured by intervention: {said}: the columns cost the evaluated rows less than the kill rule, so "
            f"this is info (the other columns tell the labels as well)")


def grade_mismatches(found: list, splits) -> list:
    """``found`` with each ``split_mismatch`` warning whose mismatch costs a model trained on the training
    split nothing measurable (``transfer``; a leak's columns: ``without_columns``) made ``info``, the
    measurement added (module docstring). ``splits``: ``train`` / ``val`` / ``test`` pairs."""
    pairs = {"validation": splits.val, "test": splits.test}
    measured = {}
    for f in found:
        if f.code != "split_mismatch" or f.severity != "warning":
            continue
        leak = [c for c in f.evidence.get("columns", []) if isinstance(c, dict) and "column" in c]
        if leak:
            costs = []
            for name in dict.fromkeys(c["split"] for c in leak):
                cost = without_columns(splits.train, pairs[name], sorted({c["column"] for c in leak if c["split"] == name}))
                if cost is None or cost["costs"]:
                    break
                costs.append({**cost, "split": name})
            else:
                f.severity, f.evidence["cost"] = "info", costs
                f.message += _said_leak(costs)
            continue
        name = f.evidence.get("split")
        if name not in pairs:
            continue
        if name not in measured:
            measured[name] = transfer(splits.train, pairs[name])
        cost = measured[name]
        if cost is not None and not cost["costs"]:
            f.severity, f.evidence["cost"] = "info", cost
            f.message += _said_transfer(name, cost)
    return found
