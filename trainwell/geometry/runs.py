"""A finished run opened for geometry: its trained model, its data as it was trained on
(preprocessed, on the device), its loss, and its initial weights.

The initial weights are rebuilt, not stored: ``fit`` seeds torch with the run's ``seed`` and
builds and initializes the model in ``prepare``; calling ``prepare`` again with the saved options
gives the same weights (tests/geometry/test_runs.py checks it against the weights at
``on_fit_start``). A run that trained your own nn.Module has no rebuildable initial weights.
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from trainwell.errors import DataError
from trainwell.options import Option, check_option, seed_range
from trainwell.geometry.directions import Weights, weights_of
from trainwell.train.fit import prepare
from trainwell.train.run import Run, load_run

GEOMETRY_DIR = "geometry"     # run_dir/geometry/ holds every file this package writes
# options of a saved run that would make ``prepare`` write, train or print
QUIET = {"run_dir": None, "resume": False, "progress": False, "report": False, "babysit": "off"}


def check_seed(seed, maximum: int, why: str) -> int:
    """``seed`` when it is an integer in [0, ``maximum``] (``why``: what takes it), else a
    ConfigError naming it, before the run is opened (the generators' own errors are tracebacks)."""
    return check_option("seed", seed, Option(int, 0, "seed", check=seed_range(maximum, why)))


@dataclass
class RunData:
    run: Run
    model: torch.nn.Module          # the trained model, on the device, in eval mode
    train: tuple                    # (X, y) as trained on: preprocessed, on the device
    test: tuple | None
    loss: object                    # the run's loss name (or callable)
    init: Weights | None            # the initial weights; None for a user's own model

    @property
    def weights(self) -> Weights:
        return weights_of(self.model)

    @property
    def out_dir(self) -> Path:
        return Path(self.run.run_dir) / GEOMETRY_DIR


def open_run(run_dir, *, model: torch.nn.Module | None = None) -> RunData:
    """The run in ``run_dir`` (a ``model`` of the same architecture for a run that trained your
    own nn.Module; it is copied, not changed)."""
    run = load_run(run_dir, model=None if model is None else copy.deepcopy(model))
    options = {k: v for k, v in run.config.items() if k != "callbacks"}
    options.update(QUIET)
    table = options.pop("model", None)
    user_model = model is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # the run's own warnings were shown when it trained
        p = prepare(copy.deepcopy(model) if user_model else table, None, None, None, options, check=False)
    if not user_model and set(weights_of(p.model)) != set(weights_of(run.model)):
        raise DataError(f"{run_dir}: the saved model does not match the model its config builds")
    device = next(p.model.parameters()).device
    trained = run.model.to(device).eval()
    return RunData(run=run, model=trained, train=p.train, test=p.test, loss=p.config.loss,
                   init=None if user_model else weights_of(p.model))
