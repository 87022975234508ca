"""``trainwell.search``: the Python entry point, and the study directory it writes.

    result = trainwell.search(None, "digits", space={"lr": {"low": 1e-3, "high": 1}},
                              search={"trials": 20, "dir": "searches/lr"}, epochs=5)
    result.best_params        # {"lr": 0.087...}

The study directory holds ``search.toml`` (the base options and the ``[search]`` table, read by
``--resume``), the Optuna journal ``study.journal``, one run directory per trial under
``trials/``, and at the end ``trials.csv``, ``best.toml`` and ``report.html`` (derived from the
journal: written atomically but not fsynced, so a killed search leaves whole files and a power cut
at most old or missing ones, which ``--resume`` writes again).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from trainwell.errors import ConfigError
from trainwell.hpsearch.studydir import SEARCH_FILE, is_study_dir, read_search_file, write_search_file
from trainwell.train.loggers import parent_run
from trainwell.train.rundir import make_directory, unsynced

if TYPE_CHECKING:
    from trainwell.hpsearch.results import SearchResult

DEFAULT_DIR = Path("searches")


def search(model=None, train="digits", *, space: dict | None = None, search: dict | None = None,
           resume: bool = False, **fit_options) -> SearchResult:
    """Search the options in ``space`` with trials of ``trainwell.fit(model, train, **fit_options)``.

    ``train``: the data, as ``fit`` takes it (a source name, ``(X, y)``, a Splits; None: the
    ``data`` table option).
    ``model``: None or a model table (built anew each trial; ``model.widths`` and such can be
    searched), a model factory (called each trial, with the trial's values when it takes an
    argument), or an ``nn.Module`` (deep-copied each trial, so every trial starts from the same
    fresh weights). ``space``: ``{key: {low, high[, log][, step]} | {choices}}`` (docs/search.md).
    ``search``: the ``[search]`` table's other options (sampler, stages, pruner, folds, workers,
    storage, dir, ...). ``resume=True`` continues the study in ``search["dir"]``.
    ``progress=False`` (fit's option) turns the search's progress line off; trials never show a bar.
    """
    progress = fit_options.pop("progress", True)
    table = dict(search or {})
    if space is not None:
        table["space"] = space
    if isinstance(model, dict):
        fit_options["model"] = model
        model = None
    return run_search(model, train, fit_options, table, resume=resume, progress=progress)


def run_search(model, data, base: dict, table: dict, *, resume: bool = False, progress: bool = True,
               stem: str = "search") -> SearchResult:
    """A search of ``table`` over ``base`` (fit's options); the CLI and ``search`` call it."""
    # lazily: Optuna (~0.2 s to import) only when a search runs, not on `import trainwell` or
    # another command (BENCHMARKS.md, "Per-trial cost and a command's fixed cost, fifth pass")
    from trainwell.hpsearch.results import summarize
    from trainwell.hpsearch.settings import parse_settings
    from trainwell.hpsearch.study import Context, frozen_objects, open_storage, run_stages

    for key in ("run_dir", "resume"):
        if base.get(key):
            raise ConfigError(f"{key}: a search sets each trial's run directory itself "
                              f"(under search.dir); leave {key} out")
    space = table.get("space") if isinstance(table.get("space"), dict) else {}
    model_keys = [f"model.{k}" for k in space.get("model", {})] + [k for k in space if k.startswith("model.")]
    if model is not None and model_keys:
        raise ConfigError(f"search.space.{model_keys[0]}: the model is given as a {type(model).__name__}, "
                          f"so its options cannot be searched; pass a model table (e.g. {{\"type\": \"mlp\"}}) "
                          f"or let a factory read the trial's values")
    settings = parse_settings(table, base)
    study_dir = Path(settings.dir) if settings.dir else _unique(DEFAULT_DIR / stem)
    if resume and not is_study_dir(study_dir):
        raise ConfigError(f"resume: {study_dir} holds no search ({SEARCH_FILE} is missing)")
    if not resume and is_study_dir(study_dir):
        raise ConfigError(f"search.dir = {str(study_dir)!r} already holds a search; continue it with "
                          f"--resume {study_dir} (or resume=True), or choose a new directory")
    if resume:
        _same_study(study_dir, settings)
    if settings.storage is not None:
        open_storage(settings, study_dir)      # a bad URL or path fails here, before the directory is made
    make_directory(study_dir)
    if not resume:
        write_search_file(base, {**table, "dir": str(study_dir)}, study_dir / SEARCH_FILE)
    with frozen_objects():        # long-lived objects out of the garbage collector's way (study.py)
        with parent_run(base, study_dir.name) as trial_options:    # MLflow: trials nest under the study
            studies = run_stages(Context(model, data, trial_options, settings, study_dir, progress=progress))
        # trials.csv, best.toml and report.html are derived from the study (whose journal is fsynced):
        # written atomically, not fsynced; after a power cut --resume (or trainwell report) writes them again
        with unsynced():
            result = summarize(study_dir, base, studies, settings.metric, settings.maximize)
            from trainwell.hpsearch.report import write_study_report   # lazily: matplotlib is slow to import
            # the studies as read here, and the options as `trainwell report` reads them from search.toml
            write_study_report(study_dir, loaded=(Context(None, None, base, settings, study_dir, progress=False),
                                                  studies))
    return result


# What a resumed search keeps from the study it continues: the stored trials' values are this
# metric's (its direction ranks them), each over the folds, and each stage keeps the space it was
# planned with (a changed space would be ignored by the planned stages and mixed into later ones).
KEPT_ON_RESUME = ("metric", "folds", "space")


def _same_study(study_dir: Path, settings) -> None:
    """ConfigError naming the first of ``KEPT_ON_RESUME`` that ``settings`` changes from the study's
    search.toml (a resume may change the trials, the workers and the like). Not checked when the
    stored table no longer parses alone (options given only from Python left out of it)."""
    from trainwell.hpsearch.settings import parse_settings
    from trainwell.hpsearch.space import space_to_dict
    options, table = read_search_file(study_dir)
    try:
        stored = parse_settings(table, options)
    except ConfigError:
        return
    for key in KEPT_ON_RESUME:
        was, now = getattr(stored, key), getattr(settings, key)
        if key == "space":
            was, now = space_to_dict(was), space_to_dict(now)
            changed = sorted(k for k in set(was) | set(now) if was.get(k) != now.get(k))
            if changed:
                key = changed[0]
                what = f"searched {key} over {was[key]!r}" if key in was else f"did not search {key}"
                given = f"{now[key]!r}" if key in now else "no range"
                raise ConfigError(f"search.space.{key}: the study in {study_dir} {what}, and a resumed search "
                                  f"keeps its space (got {given}); start a new search to search another space")
        elif was != now:
            raise ConfigError(f"search.{key}: the study in {study_dir} was run with {key} = {was!r}, and a "
                              f"resumed search keeps it (got {now!r}); start a new search to change it")


def _unique(base: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = base.with_name(f"{base.name}-{stamp}"), 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{stamp}-{n}")
    return path
