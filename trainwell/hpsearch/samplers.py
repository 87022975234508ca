"""Optuna's samplers by the name a config uses, each built from the stage's space, a seed and the
previous stage's finished trials.

``random`` is the notes' method (notes 000/004: with few important dimensions random search tries
many more distinct values of each than a grid of the same size, Bergstra & Bengio 2012); the
default, ``random_tpe``, draws so in the first stage and models later stages on the earlier
trials (below). ``qmc`` draws a scrambled Sobol sequence instead: a low-discrepancy sequence covers
the space more evenly than pseudo-random draws of the same size (Bergstra & Bengio 2012 sec. 5;
Owen's scrambling keeps it seeded and unbiased). ``staged_tpe`` is coarse to fine with a model:
Sobol in the first stage, and in each later stage TPE (Bergstra et al. 2011) that starts from the
previous stage's finished trials instead of from nothing (``SeededTPE``). ``random_tpe`` is the
same with the default's random draws in the first stage (every Sobol-first variant reached the
target on fewer seeds of one held-out task, random-first ones did not: BENCHMARKS.md, third and
fourth passes). ``grid`` is there for the comparison; ``tpe``, ``cmaes`` and ``gp`` are Optuna's
model-based samplers as Optuna builds them. qmc and staged_tpe were measured against random:
fewer epochs on four of five tasks, far fewer seeds reaching the target on the fifth
(BENCHMARKS.md); staged_tpe with promotion by resuming (promotion.py) did the same in the fourth
pass; random_tpe needed exactly random's epochs on every tuning task-seed of the fifth (its TPE
was still in Optuna's 10 random start-up trials), and once it modelled from d + 1 trials it
replaced random as the default by the eighth pass's rule.
"""
from __future__ import annotations

import warnings

import numpy as np
import optuna
from optuna.trial import TrialState

from trainwell.hpsearch.space import distributions, grid

# A stage's study attribute that ``study.prepare_stage`` writes for every later stage: the previous
# stage's finished trials as ``[{"params": {...}, "value": v}, ...]`` (what ``SeededTPE`` starts from).
PRIOR_ATTR = "prior"
# At most this many of them, the best first: a study attribute is one JSON text in the storage, and
# MySQL's TEXT column (Optuna's RDB storage) holds 64 KiB, about 500 trials of a few parameters.
PRIOR_MAX = 250
# Multivariate TPE models the parameters jointly (Falkner et al. 2018, BOHB; Optuna's own benchmarks
# favour it); no constant liar: TPE reads a private view without the running trials (SeededTPE),
# and parallel workers draw from different seeds (worker_seed).
TPE_OPTIONS = dict(multivariate=True, constant_liar=False)
# SeededTPE models from its first trial on once its view holds d + 1 trials (d: the stage's
# parameters): BOHB's minimum of points before it builds a model, N_min = d + 1 (Falkner et al. 2018,
# sec. 4; hpbandster's min_points_in_model). Optuna's default of 10 startup trials counts the prior trials
# inside a narrowed stage's ranges, often fewer than 10: TPE then drew the fine stage's first trials
# at random, the same values as the random sampler of the same seed (BENCHMARKS.md, eighth pass).
MIN_POINTS_EXTRA = 1


class StageGridSampler(optuna.samplers.GridSampler):
    """Optuna's grid sampler without its ``study.stop()`` once the grid's last point is taken:
    ``Study.stop`` works only inside ``study.optimize`` (it raised RuntimeError out of a search,
    whose stages ask and tell and end at their own trial counts). A stage with more trials than
    grid points re-runs points, as Optuna's sampler does once the grid is used up."""

    def after_trial(self, study, trial, state, values) -> None:
        return None


def _grid(space, seed, grid_points, prior):
    return StageGridSampler(grid(space, grid_points), seed=seed)


def _qmc(space, seed, grid_points, prior):
    # choices (categorical) are drawn by the independent random sampler: Sobol covers [0, 1)^d only
    with warnings.catch_warnings():     # "experimental" since Optuna 3.0: its interface may change
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=seed,
                                          independent_sampler=optuna.samplers.RandomSampler(seed=seed),
                                          warn_independent_sampling=False)


def _staged_tpe(space, seed, grid_points, prior):
    """A stage with earlier trials to learn from: TPE seeded with them; the first stage: Sobol."""
    return SeededTPE(space, prior, seed=seed) if prior else _qmc(space, seed, grid_points, prior)


def _random_tpe(space, seed, grid_points, prior):
    """A stage with earlier trials to learn from: TPE seeded with them; the first stage: random
    (the notes' coarse stage, as the default draws it)."""
    return SeededTPE(space, prior, seed=seed) if prior else optuna.samplers.RandomSampler(seed=seed)


# name -> (space, seed, grid_points, prior) -> an Optuna sampler; ``prior``: the previous stage's
# finished trials (``PRIOR_ATTR`` of the stage's plan; empty in the first stage)
SAMPLERS = {
    "random": lambda space, seed, grid_points, prior: optuna.samplers.RandomSampler(seed=seed),
    "qmc": _qmc,
    "staged_tpe": _staged_tpe,
    "random_tpe": _random_tpe,
    "grid": _grid,
    "tpe": lambda space, seed, grid_points, prior: optuna.samplers.TPESampler(seed=seed),
    "cmaes": lambda space, seed, grid_points, prior: optuna.samplers.CmaEsSampler(
        seed=seed, warn_independent_sampling=False),
    "gp": lambda space, seed, grid_points, prior: optuna.samplers.GPSampler(
        seed=seed, warn_independent_sampling=False),
}


class SeededTPE(optuna.samplers.BaseSampler):
    """Optuna's TPE over the stage's own finished trials plus ``prior`` (the previous stage's, as
    ``[{"params": ..., "value": ...}]``), so a fine stage starts where the coarse stage left off:
    TPE models as soon as the prior and the stage's own trials are d + 1 (``MIN_POINTS_EXTRA``).
    Prior trials outside this stage's ranges are left out. Their values are at the coarse stage's
    epochs, so they rank below the fine trials of the same configuration once those finish: TPE
    then follows the fine trials. TPE reads a private in-memory study holding both, rebuilt once
    per trial (with Optuna's Hyperband pruner the stage's trials are those of the trial's bracket)."""

    def __init__(self, space: dict, prior: list, *, seed: int | None = None):
        with warnings.catch_warnings():     # multivariate TPE: "experimental" since Optuna 2.2
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            dists = distributions(space)
            self.tpe = optuna.samplers.TPESampler(seed=seed, n_startup_trials=len(dists) + MIN_POINTS_EXTRA,
                                                  **TPE_OPTIONS)
        self.prior = [optuna.trial.create_trial(params=row["params"], distributions=dists, value=row["value"])
                      for row in prior if set(row["params"]) == set(dists)
                      and all(_contains(dists[k], v) for k, v in row["params"].items())]
        self._view, self._for = None, None

    def view(self, study, trial) -> optuna.Study:
        """The in-memory study TPE reads for ``trial``: the prior trials, then the stage's own."""
        if self._for != trial.number:
            view = optuna.create_study(directions=study.directions, sampler=self.tpe)
            view.add_trials(self.prior)
            view.add_trials(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
            self._view, self._for = view, trial.number
        return self._view

    def infer_relative_search_space(self, study, trial):
        return self.tpe.infer_relative_search_space(self.view(study, trial), trial)

    def sample_relative(self, study, trial, search_space):
        return self.tpe.sample_relative(self.view(study, trial), trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self.tpe.sample_independent(self.view(study, trial), trial, param_name, param_distribution)

    def reseed_rng(self):
        self.tpe.reseed_rng()


def _contains(distribution, value) -> bool:
    if isinstance(distribution, optuna.distributions.CategoricalDistribution):
        return value in distribution.choices
    return distribution.low <= value <= distribution.high


def prior_rows(ranked: list) -> list[dict]:
    """A stage's finished trials (Optuna's, best first) as ``PRIOR_ATTR`` stores them."""
    return [{"params": t.params, "value": t.value} for t in ranked[:PRIOR_MAX]]


def worker_seed(seed: int, worker: int, existing: int, stage: int = 0) -> int:
    """The sampler seed of one worker process: derived from the search's ``seed``, the worker's
    index, the trials already in the study and the stage, so that parallel workers, a search
    resumed after some trials, and a later stage draw new values instead of repeating the first
    ones. A fresh one-worker search draws the same values for the same seed in its first stage."""
    if worker == 0 and existing == 0 and stage == 0:
        return seed
    return int(np.random.SeedSequence([seed, worker, existing, stage]).generate_state(1)[0])


def make_sampler(name: str, space, *, seed: int, grid_points: int, prior: list | None = None):
    """Sampler ``name`` for a stage of ``space``; ``prior``: the previous stage's finished trials."""
    return SAMPLERS[name](space, seed, grid_points, prior or [])


def grid_size(space, grid_points: int) -> int:
    """How many distinct points the grid sampler has (a stage runs at most that many trials)."""
    size = 1
    for values in grid(space, grid_points).values():
        size *= len(values)
    return size
