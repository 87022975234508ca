"""One trial: the options with the trial's values, trained by ``trainwell.fit`` on every fold.

Each trial (each fold of it) is a normal run directory under ``STUDY_DIR/trials/NNNN[/fold-F]``
(config, metrics, checkpoints, results, babysitter findings; report.html with
``trial_report = true``). Every trial starts from fresh weights: a config-built model is built
anew, a model factory is called again, and a given ``nn.Module`` is deep-copied before training.

A named data source (``data`` a source name, or None for the ``data`` table) is loaded once per
worker process for each set of its options (each fold's, with folds) and given to ``fit`` as a
copy of its Splits: trials share the loaded tensors as they share data given as arrays (each
trial reloading digits through scikit-learn cost ~22 ms, a third of a 3-epoch trial).

A trial that dies is run again from its start (study.py), never resumed, so by default its run
directory holds one checkpoint, of its end (``trial_checkpoints = "end"``: ``trainwell fit
--resume DIR --continue`` trains it further), and its files are written atomically but not
fsynced (``sync_trials = false``: rundir.unsynced): a killed worker leaves whole files, a power
cut may lose the last trials' files, whose results the study journal keeps. A trial's
``metrics.jsonl`` is written when its run ends, in one write (rundir.held_appends): nothing reads a
running trial's metrics (the pruners get the values from its callback), and a killed trial, whose
lines would be lost with it, is run again from its start.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import inspect
import json
import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from trainwell.config import OPTIONS
from trainwell.data.sources import Splits, load as load_source
from trainwell.data.splits import build_splits
from trainwell.errors import ConfigError
from trainwell.hpsearch.promotion import Pause, Unpause, copy_run
from trainwell.hpsearch.pruning import DEFERRED_REPORTS, Reports, TrialWatch
from trainwell.hpsearch.space import apply, suggest
from trainwell.train.fit import fit
from trainwell.train.rundir import clear_run, held_appends, lock_run_dir, unsynced

TRIALS_DIR = "trials"
UNCACHED_SOURCES = ("npy",)    # memory-mapped where fit streams it: opening it is cheap, holding it is not
# Loaded sources a process keeps (the newest; a searched data option, such as data.seed, would
# otherwise keep one per value): one per fold of 5-fold cross-validation. trainwell convention.
KEPT_SOURCES = 5
_LOADED: dict[str, Splits] = {}       # this process's loaded sources, by name and options


@dataclass(frozen=True)
class TrialFiles:
    """What a trial's run directory holds: ``report.html`` or not, checkpoints at its ``"end"``
    or every ``"epochs"`` (the ``checkpoint_at`` option), fsynced files or not (see the module doc)."""

    report: bool = False
    checkpoints: str = "end"
    sync: bool = False


@dataclass
class Outcome:
    """What a trial left: its value (None when pruned), the folds' values, why it was pruned."""

    value: float | None
    fold_values: list = field(default_factory=list)
    prune_reason: str | None = None
    seconds: float = 0.0
    run_dir: str = ""
    promoted_from: str | None = None     # the earlier trial's run directory this one continued

    def attrs(self) -> dict:
        spread = statistics.stdev(self.fold_values) if len(self.fold_values) > 1 else None
        return {"fold_values": self.fold_values, "fold_std": spread, "prune_reason": self.prune_reason,
                "seconds": self.seconds, "run_dir": self.run_dir, "promoted_from": self.promoted_from}


def fresh_model(model, values: dict):
    """The trial's model: None or a model table (built by fit), a copy of a module, or what a
    factory returns (called with the trial's values when it takes an argument)."""
    if model is None or isinstance(model, dict):
        return copy.deepcopy(model)
    if isinstance(model, nn.Module):
        return copy.deepcopy(model)
    if callable(model):
        takes_values = any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
                           for p in inspect.signature(model).parameters.values())
        return model(dict(values)) if takes_values else model()
    raise ConfigError(f"model must be an nn.Module, a model factory, a model table or None "
                      f"(got {type(model).__name__})")


def fold_data(data, options: dict, folds: int | None, fold: int):
    """``(data, options)`` for fold ``fold`` of ``folds``: a source gets ``data.folds``/``data.fold``;
    a Splits or an (X, y) pair is split by ``build_splits`` (stratified, seeded by data.seed)."""
    if folds is None:
        return data, options
    if data is None or isinstance(data, str):
        table = dict(options.get("data") or {"source": "digits"})
        if isinstance(data, str) and table.get("source") != data:
            table = {"source": data}      # as fit: the table's options belong to another source
        options = {**options, "data": {**table, "folds": folds, "fold": fold}}
        return None, options
    seed = (options.get("data") or {}).get("seed", 0)
    if isinstance(data, Splits):
        pairs = [p for p in (data.train, data.val) if p is not None]
        X, y = _concat(pairs)
        split = build_splits((X, y), test=_numpy(data.test) if data.test is not None else None,
                             folds=folds, fold=fold, seed=seed, num_classes=data.num_classes)
        split.input_shape = data.input_shape
        return split, options
    X, y = _numpy(data)
    return build_splits((X, y), folds=folds, fold=fold, seed=seed), options


def loaded_source(data, options: dict):
    """``data`` as fit takes it, with a named source loaded once per process (see the module doc)
    and given as a shallow copy of its Splits (fit sets their fields); anything else as it is."""
    if data is not None and not isinstance(data, str):
        return data
    table = dict(options.get("data", OPTIONS["data"].default) or {})
    configured = table.pop("source", None)
    name = data or configured
    if not isinstance(name, str) or name in UNCACHED_SOURCES:
        return data                            # fit says what is missing or wrong
    if configured is not None and configured != name:
        table = {}                             # as fit: the table's options belong to another source
    key = json.dumps([name, table], sort_keys=True, default=repr)
    if key not in _LOADED:
        while len(_LOADED) >= KEPT_SOURCES:
            del _LOADED[next(iter(_LOADED))]
        _LOADED[key] = load_source(name, **table)
    return dataclasses.replace(_LOADED[key])


def _numpy(pair):
    X, y = pair
    return (X.cpu().numpy() if hasattr(X, "cpu") else X), (y.cpu().numpy() if hasattr(y, "cpu") else y)


def _concat(pairs):
    import numpy as np

    arrays = [_numpy(p) for p in pairs]
    return np.concatenate([a[0] for a in arrays]), np.concatenate([a[1] for a in arrays])


def metric_value(run, metric: str) -> float | None:
    """The trial's value: the returned model's validation metric (``results.json``) for a val_
    metric, the last epoch's for a training metric."""
    split, _, name = metric.partition("_")
    if split == "val" and run.results.get("val"):
        return run.results["val"].get(name)
    return run.history[-1].get(metric) if run.history else None


def failed_reason(run) -> str | None:
    """Why the run's Trainer stopped it as failed (diverged, non-finite, ...) or None: the
    babysitter's first error finding, root cause first (``Diagnosis.ranked``), as ``broken_finding``
    words it, else the stop's own message (babysit = "off", or nothing found)."""
    if run.stopped is None or not run.stopped.failed:
        return None
    findings = run.findings.ranked() if run.findings is not None else []
    error = next((f for f in findings if f.severity == "error"), None)
    return f"babysitter: {error.code}: {error.message}" if error is not None else run.stopped.message


def _clear(run_dir: Path) -> None:
    """Empty a trial's directory of a run (one left by a power cut's lost trial) before a promotion
    copies the earlier run there, under its lock as ``overwrite`` does."""
    if run_dir.exists():
        with lock_run_dir(run_dir):
            clear_run(run_dir)


def _unlinked(path: Path) -> None:
    """A symbolic link where a trial's directory goes (the search never makes one) is removed, its
    target untouched, so that the run makes its own directory there and writes nothing through the
    link, as the run's files, each written to a temp file renamed over its name, replace a link."""
    if path.is_symlink():
        path.unlink()


def trial_dir(study_dir, stage: int, number: int) -> Path:
    """``STUDY_DIR/trials/S-NNNN``: stage S (from 1), trial NNNN of that stage."""
    return Path(study_dir) / TRIALS_DIR / f"{stage + 1}-{number:04d}"


def run_trial(trial, *, stage: int, model, data, base: dict, space: dict, epochs: int, metric: str,
              folds: int | None, study_dir: Path, pruner: str, files: TrialFiles = TrialFiles(),
              schedule_epochs: int | None = None, promoted_from: str | None = None,
              prune_at_end: bool = True) -> Outcome:
    """Train the trial's configuration on every fold; prunes (returns ``value=None``) on the
    first fold the pruning rules stop. The caller tells Optuna. A directory left by a run of the
    same trial number whose journal record a power cut lost is started over (``overwrite``).

    ``schedule_epochs`` (promotion by resuming, promotion.py): the run's schedule is that many
    epochs long and it is paused after ``epochs``; ``promoted_from``: the run directory of an
    earlier trial of this configuration, paused on that schedule, which this trial continues
    (each fold its own) instead of training from scratch."""
    started = time.perf_counter()
    values = suggest(trial, space)
    options = apply(base, values)
    length = max(epochs, schedule_epochs or epochs)
    options.update(progress=False, report=files.report, checkpoint_at=files.checkpoints, resume=False,
                   epochs=length)
    directory = trial_dir(study_dir, stage, trial.number)
    _unlinked(directory)
    outcome = Outcome(None, run_dir=str(directory), promoted_from=promoted_from)
    reports = Reports(trial) if pruner in DEFERRED_REPORTS else None     # written at the trial's end
    for fold in range(folds or 1):
        fold_source, fold_options = fold_data(data, options, folds, fold)
        watch = TrialWatch(trial, metric=metric, offset=fold * epochs, pruner_name=pruner, reports=reports,
                           last_step=None if prune_at_end else (folds or 1) * epochs)
        run_dir = directory / f"fold-{fold}" if folds else directory
        if folds:
            _unlinked(run_dir)
        paused = [Pause(epochs)] if epochs < length else []
        fold_options = {**fold_options, "run_dir": str(run_dir), "overwrite": run_dir.exists(),
                        "callbacks": [*fold_options.get("callbacks", []), watch, *paused]}
        if promoted_from is not None:
            source = Path(promoted_from) / run_dir.relative_to(directory)
            _clear(run_dir)
            copy_run(source, run_dir)
            fold_options.update(resume=True, overwrite=False,
                                callbacks=[Unpause(), *fold_options["callbacks"]])
        # a config-built model: its table is fit's `model` argument (fit builds it anew)
        trial_model = fold_options.pop("model", None) if model is None else fresh_model(model, values)
        fold_source = loaded_source(fold_source, fold_options)
        with contextlib.nullcontext() if files.sync else unsynced(), held_appends():
            run = fit(trial_model, fold_source, **fold_options)
        value = metric_value(run, metric)
        reason = watch.reason or failed_reason(run)
        if reason is None and (value is None or not math.isfinite(value)):
            reason = f"{metric} = {value} at the end of the run"
        if reason:
            outcome.prune_reason = f"fold {fold}: {reason}" if folds else reason
            break
        outcome.fold_values.append(value)
    if reports is not None:
        reports.write()
    outcome.seconds = time.perf_counter() - started
    if outcome.prune_reason is None:
        outcome.value = statistics.fmean(outcome.fold_values)
    return outcome
