"""Optuna's samplers by the name a config uses, each built from the stage's space and a seed.

``random`` is the notes' default: with few important dimensions random search tries many more
distinct values of each than a grid of the same size (Bergstra & Bengio 2012; notes 000/004).
``grid`` is there for the comparison; ``tpe`` (Bergstra et al. 2011), ``cmaes`` (Hansen 2016) and
``gp`` (Gaussian-process Bayesian optimization) are Optuna's model-based samplers.
"""
from __future__ import annotations

import numpy as np
import optuna

from trainwell.hpsearch.space import grid


def _grid(space, seed, grid_points):
    return optuna.samplers.GridSampler(grid(space, grid_points), seed=seed)


SAMPLERS = {
    "random": lambda space, seed, grid_points: optuna.samplers.RandomSampler(seed=seed),
    "grid": _grid,
    "tpe": lambda space, seed, grid_points: optuna.samplers.TPESampler(seed=seed),
    "cmaes": lambda space, seed, grid_points: optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False),
    "gp": lambda space, seed, grid_points: optuna.samplers.GPSampler(seed=seed, warn_independent_sampling=False),
}


def worker_seed(seed: int, worker: int, existing: int, stage: int = 0) -> int:
    """The sampler seed of one worker process: derived from the search's ``seed``, the worker's
    index, the trials already in the study and the stage, so that parallel workers, a search
    resumed after some trials, and a later stage draw new values instead of repeating the first
    ones. A fresh one-worker search draws the same values for the same seed in its first stage."""
    if worker == 0 and existing == 0 and stage == 0:
        return seed
    return int(np.random.SeedSequence([seed, worker, existing, stage]).generate_state(1)[0])


def make_sampler(name: str, space, *, seed: int, grid_points: int):
    return SAMPLERS[name](space, seed, grid_points)


def grid_size(space, grid_points: int) -> int:
    """How many distinct points the grid sampler has (a stage runs at most that many trials)."""
    size = 1
    for values in grid(space, grid_points).values():
        size *= len(values)
    return size
