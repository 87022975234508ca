"""A search's results: ``trials.csv`` (one row per trial), ``best.toml`` and the Python result.

``best.toml`` is the base config with the best trial's values and the last stage's epochs: a
complete config that ``trainwell fit best.toml`` runs as it is (without the search's folds: it
trains on the data's own validation split). The best trial is the best finished trial of the
last stage that finished any, or of an earlier stage of as many epochs (stages of fewer epochs
do not compare).
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import optuna

from trainwell.config import FIELDS, write_toml
from trainwell.hpsearch.space import apply, option_values, space_from_dict
from trainwell.hpsearch.study import ranked
from trainwell.train.rundir import atomic_write_text

TRIALS_FILE = "trials.csv"
BEST_FILE = "best.toml"
# Options a best config leaves out: they belong to one run, not to the configuration.
RUN_ONLY = ("run_dir", "resume", "callbacks")


@dataclass
class SearchResult:
    """The outcome of ``trainwell.search``: the best trial's option values and metric, every
    trial's row (as in trials.csv), the widening messages, and where the study lives."""

    study_dir: Path
    metric: str
    best_value: float | None
    best_params: dict
    best_trial: int | None
    best_options: dict
    trials: list[dict] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def trial_rows(studies: list[optuna.Study]) -> list[dict]:
    """One dict per trial of every stage: number, stage, state, value, parameters, fold results,
    prune reason, error, seconds, run directory, and which trial it re-evaluates (and the paused run it
    continued, under ``promote = "resume"``) or retries."""
    rows = []
    for index, study in enumerate(studies):
        plan = study.user_attrs        # once a stage: each read syncs the journal and copies every attribute
        space = space_from_dict(plan["space"])
        for t in study.get_trials(deepcopy=False):
            a = {**t.user_attrs.get("outcome", {}), **t.user_attrs}
            row = {"stage": index + 1, "trial": t.number, "state": t.state.name.lower(), "value": t.value,
                   "epochs": plan["epochs"]}
            row.update({key: _cell(v) for key, v in option_values(space, t.params).items()})
            row.update(fold_values=_cell(a.get("fold_values")), fold_std=a.get("fold_std"),
                       prune_reason=a.get("prune_reason"), error=a.get("error"), seconds=a.get("seconds"),
                       run_dir=a.get("run_dir"), from_config=a.get("from_config"), reevaluates=a.get("reevaluates"),
                       promoted_from=a.get("promoted_from"), retry_of=a.get("retry_of"))
            rows.append(row)
    return rows


def _cell(value):
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def write_trials_csv(rows: list[dict], path: Path) -> Path:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_text(path, out.getvalue())


def best_of(studies: list[optuna.Study], maximize: bool):
    """(stage index, best finished trial) of the last stage with one, or (None, None); a trial
    of another stage of as many epochs (a rung's full runs before a fine stage: ``rungs``)
    compares like with like, and the better of the two is taken (the later on a tie)."""
    for index in reversed(range(len(studies))):
        best = ranked(studies[index], maximize)
        if best:
            epochs = studies[index].user_attrs.get("epochs")
            same = [(i, ranked(studies[i], maximize)) for i in range(index)
                    if studies[i].user_attrs.get("epochs") == epochs]
            found = index, best[0]
            for i, top in same:
                if top and (top[0].value > found[1].value if maximize else top[0].value < found[1].value):
                    found = i, top[0]
            return found
    return None, None


def best_options(base: dict, studies, index: int, trial) -> dict:
    """The base options with the trial's values and its stage's epochs, less the run-only ones
    (and without the folds of the search: ``data.folds``)."""
    space = space_from_dict(studies[index].user_attrs["space"])
    options = apply(base, option_values(space, trial.params))
    options["epochs"] = studies[index].user_attrs["epochs"]
    return {k: v for k, v in options.items() if k not in RUN_ONLY}


def write_best_toml(options: dict, path: Path) -> Path | None:
    """``best.toml``, when every option is a config value (a Python object such as a loss function
    cannot go into a file: then None)."""
    file_options = {k: v for k, v in options.items() if k in FIELDS or k == "model"}
    try:
        write_toml(file_options, path)
    except (TypeError, ValueError):
        return None
    return path


def summarize(study_dir: Path, base: dict, studies, metric: str, maximize: bool) -> SearchResult:
    """trials.csv and best.toml in ``study_dir``, and the SearchResult."""
    rows = trial_rows(studies)
    write_trials_csv(rows, study_dir / TRIALS_FILE)
    index, trial = best_of(studies, maximize)
    messages = [f"stage {i + 1}: {m}" for i, s in enumerate(studies) for m in s.user_attrs.get("messages", [])]
    if trial is None:
        return SearchResult(study_dir, metric, None, {}, None, {}, rows, messages)
    options = best_options(base, studies, index, trial)
    write_best_toml(options, study_dir / BEST_FILE)
    space = space_from_dict(studies[index].user_attrs["space"])
    return SearchResult(study_dir, metric, trial.value, option_values(space, trial.params), trial.number,
                        options, rows, messages)
