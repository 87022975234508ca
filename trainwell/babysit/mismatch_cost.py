"""What a split mismatch costs a model trained on the training split, measured by intervention.

The split checks (split_checks.py, label_leak.py) state facts about the data: a split's inputs
shift, a column holds the training rows' own labels, the training split is small. Such a statement
is a fault only where it matters for training: where a model fitted on the training rows does worse
on the evaluated rows than the data allows (issue 11's diagnosis by intervention; its kill rule, 3
points of accuracy or 25 % of squared error, ``first_layer.MIN_DROP`` and ``first_layer.LOSS_RATIO``).
A training split of random crops differs from uncropped validation images and costs nothing; a
column that leaks the label beside thirty informative ones is ignored by a model that has them.
The intervention is read with ``first_layer``'s cheap probes (a linear model, 10 nearest neighbours,
and for images and signals a linear model on random-convolution features), never the user's model, on
at most ``first_layer.ROWS`` rows of each split, on the host.

The probes are fitted on the training rows in ``FOLDS`` folds and score every training row out of
fold and every row of the split (the mean of the folds' losses): ``transfer``. In a sound split both
are rows the probe never saw, drawn from one distribution: their losses agree up to sampling noise,
whatever the inputs' statistics say. The probe read is the one that learns the training split best
(its lowest out-of-fold loss: the nearest to what a trained model does). The loss is the balanced
error for class ids (the mean of the per-class error rates, which resampled class shares leave
alone, as ``label_leak`` scores) or the squared error. The mismatch matters where the split's loss
exceeds the held-back training rows' by the kill rule and by ``z_alpha()`` standard errors (Welch;
one-sided at ``first_layer.ALPHA``). A leak's held-back training rows hold the leak too: a model that
leans on it scores them better than the split's rows, one that the other columns tell as well does not.
A leak is measured only where the probe read learns the training rows at least as well as the leak's
own one-column probe does (``_learns_the_leak``): a probe that cannot learn what the column gives (a
category id read as a number) cannot say what the column costs. Held-back training rows are then an
optimistic reference (the leak is in them), so a leak's split is also read against its own rows
(``_against_own_rows``): the same probe fitted on the split's other rows, out of fold (what the split's
distribution teaches without the leak, as ``split_checks._relation`` reads a split's own neighbours),
against the probe fitted on as many training rows (one point of the learning curve for both), paired on
the same rows. The leak costs where that gap too reaches the kill rule (its size: the held-back
comparison gave its significance). Set 24's class-mean fills: a balanced error of 18 % on held-back
training rows, 33 % on the validation rows, but 1.8 points over what as many of their own rows teach (info; the
user's model loses nothing by the kill rule); set 10's leaking target encoding: 13 points (a warning; the
user's model: validation accuracy 65 % -> 54 %).

Folds keep equal rows together (``folds``, grouped folds): a training split resampled with replacement
repeats its rows, and a copy in the fitted folds makes its held-back twin a row the probe saw.

A warning whose mismatch does not cost stays a finding at ``info`` with the measurement in its message
and ``evidence["cost"]`` (per split); one that costs is left as it is. ``split_checks.check_splits``
grades the warnings a probe can measure: not a class no training row has or one a split lacks (the
split cannot measure it, whatever the model learns), nor a column constant in training (its
untrained weights are the model's own, which no fitted probe has), nor rare one-hot categories (a
random split leaves as many rows in them: held-back training rows are as unknown as the split's).
Not measured either: splits with fewer than ``MIN_ROWS`` rows, inputs that are not float tensors.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np
import torch

from trainwell.babysit import first_layer

FOLDS = 3                 # out-of-fold losses of the training rows: each probe fitted on 2/3 of them
                          # (first_layer.HELD_OUT's share held out), every training row scored once
MIN_ROWS = 20             # fewer training rows, or rows of the split: not measured (a probe's 10 neighbours)
PROBES = ("linear", "neighbours")
SE_FLOOR = 1e-12          # a standard error of 0 (every row's loss alike) divides as this: a gap over it is
                          # significant, no gap is 0 standard errors, and no division by zero


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
    finite = (torch.isfinite(X.reshape(X.shape[0], -1)).all(1)
              & torch.isfinite(y.reshape(y.shape[0], -1).double()).all(1))
    return (X[finite], y[finite]) if int(finite.sum()) >= MIN_ROWS else None


def _targets(y: torch.Tensor, class_ids: bool) -> np.ndarray:
    if class_ids:
        return y.reshape(-1).long().numpy()
    values = y.double().reshape(y.shape[0], -1).numpy()
    return values[:, 0] if values.shape[1] == 1 else values


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
        X = first_layer.conv_features(X, fit, gen)
    return first_layer.probe_features(X, fit, gen)


def probes_for(X: torch.Tensor) -> tuple:
    """The probes for these inputs: random convolutions too for signals and images (first_layer.probe_drop)."""
    return PROBES + (("random convolutions",) if X.ndim in (3, 4) and min(X.shape[2:]) >= 3 else ())


def transfer(train_pair, pair, *, seed: int = 0, own: bool = False) -> dict | None:
    """Out-of-fold losses of the training rows against the losses of ``pair``'s rows under the probe
    that learns the training rows best (module docstring): ``{"probe", "train", "split", "z", "costs",
    "rows"}`` (``costs``: the kill rule is met and ``z`` >= ``z_alpha()``); None where not measured.
    ``own``: the split's rows also against their own out-of-fold losses (``_against_own_rows``: a leak's
    reference), ``costs`` then only where both references are exceeded."""
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
                    "z": (split - train) / max(math.hypot(train_se, split_se), SE_FLOOR)}
    costs = best["z"] >= z_alpha() and _kills(best["split"], best["train"], class_ids)
    spread = 1.0 if class_ids else float(np.var(tt, axis=0).sum()) or 1.0
    result = {**best, "costs": bool(costs), "rows": [int(Xt.shape[0]), int(Xo.shape[0])], "class_ids": class_ids,
              "train_scaled": best["train"] / spread}
    if own:
        result.update(_against_own_rows(best["probe"], (Xt, tt), (Xo, to), kind, gen))
        result["costs"] = result["costs"] and result.get("own_costs", True)
    return result


def _kills(loss: float, reference: float, class_ids: bool) -> bool:
    """``loss`` exceeds ``reference`` by the kill rule (``first_layer.MIN_DROP`` of balanced error, or
    ``first_layer.LOSS_RATIO`` x the squared error)."""
    return loss - reference >= first_layer.MIN_DROP if class_ids else loss >= first_layer.LOSS_RATIO * reference


def _against_own_rows(probe: str, train, split, kind: str, gen) -> dict:
    """The split's rows scored out of fold by ``probe`` fitted on the split's own other rows (what the
    split's distribution lets a probe learn, no leak in it) against the same rows scored by the probe
    fitted on as many training rows (a seeded sample: both fits on one number of rows, on one point of
    the learning curve). Paired (the same rows): ``{"own", "own_split", "own_z", "own_costs"}`` (``own_costs``:
    the gap reaches the kill rule; ``own_z``, its paired standard errors, reported); empty where rows fitted on
    hold one class (no probe to fit)."""
    (Xt, tt), (Xo, to) = train, split
    class_ids = kind == "classes"
    fit = min(Xt.shape[0], Xo.shape[0] - Xo.shape[0] // FOLDS)     # the rows each of the split's folds fits on
    sample = torch.randperm(Xt.shape[0], generator=gen)[:fit]
    F = _features(probe, torch.cat([Xt[sample], Xo]), fit, gen)
    try:
        own_losses, _ = out_of_fold(probe, Xo, to, kind, gen)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = first_layer.fit_predict(kind, "neighbours" if probe == "neighbours" else "linear", F,
                                           np.concatenate([tt[sample.numpy()], to]), fit)
    except ValueError:                  # rows fitted on with one class: sklearn fits no classifier
        return {}
    split_losses = row_losses(pred, to, class_ids)
    w = balanced_weights(to, class_ids)
    gap, gap_se = weighted_mean(split_losses - own_losses, w)
    own, transferred = weighted_mean(own_losses, w)[0], weighted_mean(split_losses, w)[0]
    z = gap / max(gap_se, SE_FLOOR)
    return {"own": own, "own_split": transferred, "own_z": z, "own_costs": _kills(transferred, own, class_ids)}


def row_groups(X: torch.Tensor) -> tuple[torch.Tensor, int]:
    """``(group, groups)``: each row's group id, equal rows one id (the rows flattened, compared value for
    value), and how many groups there are: what grouped folds (``folds``, ``label_leak.halves``) keep
    together."""
    _, group = torch.unique(X.reshape(X.shape[0], -1), dim=0, return_inverse=True)
    return group, int(group.max()) + 1


def folds(X: torch.Tensor, gen) -> np.ndarray:
    """Each row's fold of ``FOLDS``, drawn at random, equal rows in one fold (grouped folds: a row whose
    copy the probe was fitted on is no held-back row; a training split resampled with replacement
    repeats its rows). Fewer than ``MIN_ROWS`` distinct rows: each row its own draw."""
    n = X.shape[0]
    group, groups = row_groups(X)
    if groups == n or groups < MIN_ROWS:
        return (torch.randperm(n, generator=gen) % FOLDS).numpy()
    return (torch.randperm(groups, generator=gen) % FOLDS)[group].numpy()


def out_of_fold(probe: str, X: torch.Tensor, target: np.ndarray, kind: str, gen, *, scored=None,
                scored_targets=None) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row losses (``row_losses``) of ``probe`` fitted in ``FOLDS`` folds of the rows ``X``: every row
    scored once, by the probe fitted on the other folds; with ``scored``, also the mean over the folds'
    probes of each of its rows' losses (None without)."""
    n, class_ids = X.shape[0], kind == "classes"
    fold = folds(X, gen)
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


def _said_transfer(name: str, cost: dict) -> str:
    what = "balanced error" if cost["class_ids"] else "squared error"
    value = (lambda v: f"{v:.1%}") if cost["class_ids"] else (lambda v: f"{v:.3g}")
    said = (f"; measured by intervention: the {cost['probe']} probe fitted on the training rows has a {what} of "
            f"{value(cost['split'])} on the {name} rows and {value(cost['train'])} on held-back training rows "
            f"({cost['z']:+.1f} standard errors)")
    if "own" in cost and not cost["own_costs"]:
        said += (f"; fitted on as many training rows as the {name} rows' own folds hold, {value(cost['own_split'])} "
                 f"on them, and {value(cost['own'])} fitted on their own other rows (out of fold; "
                 f"{cost['own_z']:+.1f} standard errors, paired): the rows the leak is in score better, but the "
                 f"{name} rows lose less than the kill rule against what their own distribution teaches")
    else:
        said += ", less than the kill rule apart"
    return said + ": a model trained on these rows loses nothing measurable there, so this is info"


def _leak_scores(f) -> list:
    """The held-out training scores of the columns a finding of label_leak.py lists (its evidence's
    ``columns``); empty for any other finding."""
    return [c["train"] for c in f.evidence.get("columns", []) if isinstance(c, dict) and "train" in c]


def _learns_the_leak(f, cost: dict) -> bool:
    """The probe read learns the training rows at least as well as the leak's own one-column probe
    (label_leak.py's held-out training score: a balanced accuracy, or minus the squared error in units of
    Var(y)); a probe that learns less from every column than the leak gives cannot say what it costs.
    True for findings that are no leak."""
    leaks = _leak_scores(f)
    if not leaks:
        return True
    return cost["train_scaled"] <= (1 - max(leaks) if cost["class_ids"] else -max(leaks))


def _splits_named(f) -> list:
    """The splits a ``split_mismatch`` finding is about: its evidence's ``split``, or a leak's splits
    (label_leak.py: one entry per column and split)."""
    named = [c["split"] for c in f.evidence.get("columns", []) if isinstance(c, dict) and "split" in c]
    return list(dict.fromkeys(named or [f.evidence.get("split")]))


def grade_mismatches(graded: list, splits) -> list:
    """``graded`` as new findings, in its order: each ``split_mismatch`` warning whose splits cost a model
    trained on the training split nothing measurable (``transfer``) made ``info``, the measurement added
    (module docstring; ``dataclasses.replace``, the findings given left as they were); the others as they
    are. ``splits``: ``train`` / ``val`` / ``test`` pairs."""
    pairs = {"validation": splits.val, "test": splits.test}
    measured, result = {}, []
    for f in graded:
        names, leak = _splits_named(f), bool(_leak_scores(f))
        if f.code != "split_mismatch" or f.severity != "warning" or not all(name in pairs for name in names):
            result.append(f)
            continue
        for name in names:
            if (name, leak) not in measured:
                measured[name, leak] = transfer(splits.train, pairs[name], own=leak)
        costs = [measured[name, leak] for name in names]
        if all(cost is not None and not cost["costs"] and _learns_the_leak(f, cost) for cost in costs):
            f = replace(f, severity="info", evidence={**f.evidence, "cost": dict(zip(names, costs))},
                        message=f.message + "".join(_said_transfer(name, cost) for name, cost in zip(names, costs)))
        result.append(f)
    return result
