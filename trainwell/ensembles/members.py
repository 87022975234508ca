"""Ensembles of separately trained members: independent seeds (``average``, ``vote``),
``bagging`` and ``boosting``. Each member is one ``fit`` with its own seed and run directory.

- independent members (notes 001/004: "train several models independently, average their
  predictions"): member i trains on the full training split with seed ``seed + i·SEED_STRIDE``;
- ``bagging`` (Breiman 1996): member i trains on a bootstrap sample of the training split (n draws
  with replacement, seeded);
- ``boosting``, classification: multi-class AdaBoost SAMME (Zhu et al. 2009) by weighted
  resampling: member m trains on n draws with probabilities w; with its weighted training error
  e_m = Σ w_i [h_m(x_i) ≠ y_i] / Σ w_i, its weight is α_m = η (log((1 - e_m)/e_m) + log(K - 1)) and
  the misclassified samples' weights grow by exp(α_m). A member with e_m = 0 ends the boosting
  (weight 1, as scikit-learn's AdaBoostClassifier); one no better than chance (e_m ≥ 1 - 1/K) is
  dropped and ends it;
- ``boosting``, regression: gradient boosting on squared error (Friedman 2001): F₀ = mean(y);
  member m fits the residuals r = y - F_{m-1}(x) (validation residuals likewise) and
  F_m = F_{m-1} + ν f_m, with shrinkage ν.
"""
from __future__ import annotations

import copy
import math
from dataclasses import replace

import torch
from torch import nn

from trainwell.data.splits import Splits
from trainwell.errors import ConfigError
from trainwell.train.fit import fit

# Member i's seed is seed + i·SEED_STRIDE: trainwell seeds a run's augmentation and gradient noise
# with seed + 1 and seed + 2 (train/loop.py, train/parts.py), so consecutive seeds would share
# streams between members.
SEED_STRIDE = 1000
BOOTSTRAP_SEED_OFFSET = 7      # the bootstrap draws have their own generator: seed + 7 (+ stride·i)


def member_model(model, seed: int):
    """The model for one member: a table or None is built by ``fit`` with the member's seed; an
    ``nn.Module`` is copied and every layer with ``reset_parameters`` re-initialized from ``seed``."""
    if not isinstance(model, nn.Module):
        return copy.deepcopy(model)
    fresh = copy.deepcopy(model)
    torch.manual_seed(seed)
    for module in fresh.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return fresh


def _member_dir(run_dir, i: int):
    return None if run_dir is None else run_dir / "members" / f"m{i}"


def _fit_member(model, splits: Splits, options: dict, i: int, run_dir):
    seed = options.get("seed", 0) + i * SEED_STRIDE
    return fit(member_model(model, seed), splits, **{**options, "seed": seed,
                                                     "run_dir": _member_dir(run_dir, i)})


def independent(model, splits: Splits, options: dict, *, members: int, run_dir) -> dict:
    runs = [_fit_member(model, splits, options, i, run_dir) for i in range(members)]
    return {"runs": runs, "weights": [1.0] * members}


def bagging(model, splits: Splits, options: dict, *, members: int, run_dir) -> dict:
    X, y = splits.train
    runs = []
    for i in range(members):
        g = torch.Generator().manual_seed(options.get("seed", 0) + i * SEED_STRIDE + BOOTSTRAP_SEED_OFFSET)
        index = torch.randint(0, len(X), (len(X),), generator=g)
        runs.append(_fit_member(model, replace(splits, train=(X[index], y[index])), options, i, run_dir))
    return {"runs": runs, "weights": [1.0] * members}


def boosting(model, splits: Splits, options: dict, *, members: int, run_dir, learning_rate: float,
             shrinkage: float) -> dict:
    if torch.is_floating_point(splits.train[1]):
        return _gradient_boosting(model, splits, options, members=members, run_dir=run_dir,
                                  shrinkage=shrinkage)
    return _samme(model, splits, options, members=members, run_dir=run_dir, learning_rate=learning_rate)


def _samme(model, splits: Splits, options: dict, *, members: int, run_dir, learning_rate: float) -> dict:
    X, y = splits.train
    K = splits.num_classes or int(y.max()) + 1
    if K < 2:
        raise ConfigError("ensemble method \"boosting\": needs at least 2 classes")
    w = torch.full((len(X),), 1.0 / len(X), dtype=torch.float64)
    runs, alphas, errors = [], [], []
    for i in range(members):
        g = torch.Generator().manual_seed(options.get("seed", 0) + i * SEED_STRIDE + BOOTSTRAP_SEED_OFFSET)
        index = torch.multinomial(w, len(X), replacement=True, generator=g)
        run = _fit_member(model, replace(splits, train=(X[index], y[index])), options, i, run_dir)
        incorrect = (run.predict(X).cpu() != y).double()
        error = float((w * incorrect).sum() / w.sum())
        errors.append(error)
        if error >= 1.0 - 1.0 / K:          # no better than chance: dropped, boosting ends
            if not runs:
                raise ConfigError(f"ensemble method \"boosting\": the first member's weighted training "
                                  f"error {error:.3f} is no better than chance (1 - 1/K = {1 - 1 / K:.3f}); "
                                  f"train it longer or with a larger model")
            break
        runs.append(run)
        if error <= 0.0:                    # a perfect member: it alone decides, boosting ends
            alphas.append(1.0)
            break
        alpha = learning_rate * (math.log((1.0 - error) / error) + math.log(K - 1.0))
        alphas.append(alpha)
        w = w * torch.exp(alpha * incorrect)
        w = w / w.sum()
    return {"runs": runs, "weights": alphas, "info": {"training_errors": errors}}


def _gradient_boosting(model, splits: Splits, options: dict, *, members: int, run_dir,
                       shrinkage: float) -> dict:
    (X, y), val = splits.train, splits.val
    init = float(y.double().mean())
    F = torch.full(y.shape, init, dtype=torch.float64)
    F_val = None if val is None else torch.full(val[1].shape, init, dtype=torch.float64)
    runs = []
    for i in range(members):
        residual = (y.double() - F).to(y.dtype)
        member_val = None if val is None else (val[0], (val[1].double() - F_val).to(y.dtype))
        member = replace(splits, train=(X, residual), val=member_val, test=None)
        run = _fit_member(model, member, {**options, "loss": options.get("loss", "mse")}, i, run_dir)
        runs.append(run)
        F = F + shrinkage * run.predict(X, output="raw").cpu().double().reshape(y.shape)
        if val is not None:
            F_val = F_val + shrinkage * run.predict(val[0], output="raw").cpu().double().reshape(val[1].shape)
    return {"runs": runs, "weights": [1.0] * len(runs), "info": {"init": init, "shrinkage": shrinkage}}
