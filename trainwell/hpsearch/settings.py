"""The ``[search]`` table: every option of a search, its default and its source, in one registry.

``SEARCH_OPTIONS`` is read by ``parse_settings`` (validation, one line naming the key) and by
docs/search.md (a test keeps the table there current with ``settings_markdown()``).
"""
from __future__ import annotations

from dataclasses import dataclass

from trainwell.config import CHECKPOINT_AT, MONITORS, OPTIONS
from trainwell.errors import ConfigError
from trainwell.options import (MAX_NUMPY_SEED, Option, at_least_one, check_options, must_be, one_of,
                               seed_range)
from trainwell.hpsearch.promotion import PROMOTIONS
from trainwell.hpsearch.pruning import PRUNERS
from trainwell.hpsearch.samplers import SAMPLERS
from trainwell.hpsearch.space import Param, parse_space
from trainwell.hpsearch.stages import SCAN_KEY, Stage, parse_stages
from trainwell.hpsearch.trial import TrialFiles


def _folds(v):
    return None if v >= 2 else "must be an integer >= 2 (the number of folds k)"


SEARCH_OPTIONS = {
    "space": Option(dict, None, "the options searched: key = {low, high[, log][, step]} or {choices = [...]}",
                    required=True, source="notes 000/004 (hyperparameter search); docs/search.md"),
    "sampler": Option(str, "random_tpe", "how trials choose values: random_tpe (random draws in the first "
                      "stage, TPE seeded with the previous stage's trials in later ones), random, qmc (a "
                      "scrambled Sobol sequence), staged_tpe (Sobol in the first stage, then as random_tpe), "
                      "grid, tpe, cmaes, gp (Optuna's)", check=one_of(SAMPLERS),
                      source="notes 000/004: random search beats grid search (Bergstra & Bengio 2012), so the "
                             "first stage draws at random; TPE (Bergstra et al. 2011) seeded as BOHB (Falkner "
                             "et al. 2018) in later stages: it replaced random by a rule fixed before its "
                             "held-out runs (BENCHMARKS.md, eighth pass of the default method); qmc and "
                             "staged_tpe reached the target on fewer held-out seeds"),
    "seed": Option(int, 0, "seed of the sampler (worker i of a run uses a stream derived from it)",
                   check=seed_range(MAX_NUMPY_SEED, "numpy's SeedSequence"),
                   source="trainwell convention: a fixed seed repeats a search (its draws and each worker's)"),
    "trials": Option(int, 20, "trials of the search when stages is unset: 2/3 of them a coarse stage of "
                     "epochs/5 epochs, the rest a fine stage of the full epochs (one stage below 9 trials)",
                     check=at_least_one, source="notes 000 (coarse to fine); docs/search.md (the default method)"),
    "stages": Option((list, type(None)), None, "coarse to fine: [{trials = 40, epochs = 3}, {trials = 15}] "
                     "(a stage without epochs uses the config's); [{trials = N}]: one stage",
                     source="notes 000/004: coarse to fine, few epochs first"),
    "coarse_size": Option((int, type(None)), None, "sizes the default plan's coarse stage from the space: "
                          "coarse_size x (d + 1) trials for d searched options (at least 6, at most 2/3 of "
                          "the trials; None: 2/3 of the trials); only when stages is unset",
                          check=at_least_one,
                          source="d + 1 points span a d-dimensional box, and the next stage narrows to the "
                                 "box of the best fifth: 5 (d + 1) trials leave d + 1 there; BOHB's d + 1 "
                                 "points for a model (Falkner et al. 2018); not the default: with one-epoch "
                                 "coarse trials it reached random search's best on fewer tuning task-seeds "
                                 "(BENCHMARKS.md, ninth pass of the default method)"),
    "coarse_epochs": Option((int, type(None)), None, "epochs of the default plan's coarse trials (None: a "
                            "fifth of the epochs, at least 1); only when stages is unset", check=at_least_one,
                            source="notes 000 (few epochs first); a fifth: measured on the tuning tasks "
                                   "(BENCHMARKS.md); one epoch reached random search's best on fewer tuning "
                                   "task-seeds (BENCHMARKS.md, ninth pass of the default method)"),
    "lr_scan": Option(bool, False, "the default plan (stages unset, no eta, no coarse_size) scans lr alone "
                      "first: a log grid of 2 points per decade of lr's range at coarse_epochs (None: a tenth "
                      "of the epochs, at least 1), every point finished (no pruner; the 3x rule and the "
                      "babysitter still prune), the other searched options at the config's values; then the "
                      "rest of the trials at the full epochs, drawn as a first stage (random_tpe: at random), in "
                      "lr's range narrowed around the scan's best (when lr is searched on a log range of two decades or more and the "
                      "trials leave 9 after the scan)",
                      source="notes 000/004: \"start with small regularization and find the learning rate that "
                             "makes the loss go down\", then cross-validate the rest; not the default: it reached "
                             "random search's best on fewer held-out teacher seeds than the default (BENCHMARKS.md, "
                             "eleventh pass of the default method)"),
    "pruner": Option(str, "median", "pruner on the per-epoch validation metric: none, median, asha, "
                     "hyperband (the notes' 3x-first-loss rule is always on)", check=one_of(PRUNERS),
                     source="Optuna's default pruner (median); notes 004 for the 3x rule"),
    "prune_at_end": Option(bool, True, "the pruner may stop a trial at its last epoch (true, as Optuna's "
                           "pruners do); false: a trial that reached its last epoch keeps its value (stopping "
                           "it saves no epoch; its value still ranks it and feeds a seeded sampler, e.g. every "
                           "trial of a one-epoch coarse stage); the 3x rule and the babysitter still prune there",
                           source="first principles: pruning saves the epochs a trial has left (Li et al. "
                                  "2018); at the last epoch none are left. Not the default: the default was "
                                  "measured with Optuna's behaviour, and false was measured only with one-epoch "
                                  "coarse stages (BENCHMARKS.md, ninth pass of the default method)"),
    "metric": Option((str, type(None)), None, "the metric a trial is judged by (None: the config's "
                     "monitor); val_acc/train_acc are maximized, losses minimized", check=one_of(MONITORS),
                     source="notes 003 (judge by the validation error)"),
    "folds": Option((int, type(None)), None, "k-fold stratified cross-validation of every trial "
                    "(None: the one validation split)", check=_folds,
                    source="notes 000: cross-validation, or one validation fold on large data"),
    "config_first": Option(bool, False, "the first trial runs the config's own values of the searched "
                           "options (those inside the space; the grid sampler skips it): the configuration "
                           "you would train anyway is one of those compared",
                           source="SMAC (Hutter et al. 2011) and auto-sklearn (Feurer et al. 2015) start from "
                                  "the default configuration; off by default: measured, BENCHMARKS.md"),
    "narrow": Option(bool, True, "a later stage narrows every numeric range around the previous stage's best "
                     "trials (widening one whose best lies at its edge) and keeps the choices among them; false: "
                     "every stage keeps the first stage's ranges (for a seeded model-based sampler, random_tpe or "
                     "staged_tpe, that learns from the earlier trials where to draw, as BOHB does without "
                     "narrowing)", source="notes 000 (coarse to fine); Falkner et al. 2018 (BOHB) for false; "
                     "measured: BENCHMARKS.md (eighth pass of the default method)"),
    "reevaluate": Option(int, 3, "best configurations of the previous stage re-run first in each later stage",
                         check=must_be(lambda v: v >= 0, ">= 0"), source="the issue (coarse to fine)"),
    "promote": Option(str, "retrain", "how a later stage re-evaluates an earlier configuration: \"retrain\" "
                      "(from scratch; every trial's schedule is its own stage's length) or \"resume\" (every "
                      "trial trains on the longest stage's schedule, paused at its stage's epochs; a "
                      "re-evaluation continues the paused trial's checkpoint and trains only the remaining "
                      "epochs, ending bit-identical to a fresh full run)", check=one_of(PROMOTIONS),
                      source="successive halving's promotion (Jamieson & Talwalkar 2016; Li et al. 2018) on "
                             "trainwell's exact resume; docs/search.md (promotion by resuming)"),
    "eta": Option((int, type(None)), None, "asynchronous promotion (ASHA): the stages become rungs; a "
                  "trial in the top 1/eta of its rung's finished trials so far goes up a rung at once "
                  "(re-evaluated as promote says); the first stage's trials are the draws, a later "
                  "stage's trials cap its promotions (None: synchronous stages, coarse to fine)",
                  check=must_be(lambda v: v >= 2, ">= 2"),
                  source="Li et al. 2020 (ASHA, Algorithm 2; eta 3 or 4 in the paper); not the default: "
                         "with eta 9 and 60 draws of 1-2 epochs it reached random search's best on fewer "
                         "tuning task-seeds than the default (BENCHMARKS.md, sixth pass of the default method)"),
    "rungs": Option((int, type(None)), None, "with eta: the first `rungs` stages are the rungs of "
                    "asynchronous promotion, and the stages after them run once the rungs are done, coarse "
                    "to fine, the first of them in ranges narrowed around the first stage's best draws and "
                    "re-evaluating those of them no rung promoted (None: every stage is a rung)",
                    check=must_be(lambda v: v >= 2, ">= 2"),
                    source="ASHA's early promotions (Li et al. 2020) followed by the notes' coarse-to-fine "
                           "narrowing (notes 000); not the default: on fewer held-out seeds than the default, "
                           "also with at most 2 early promotions of the default's draws (BENCHMARKS.md, "
                           "seventh and tenth passes of the default method)"),
    "grid_points": Option(int, 4, "values per numeric range of the grid sampler",
                          check=must_be(lambda v: v >= 2, ">= 2"), source="trainwell convention"),
    "workers": Option(int, 1, "worker processes on this machine", check=at_least_one,
                      source="trainwell convention; docs/search.md"),
    "threads": Option((int, type(None)), None, "torch threads per worker (None: the CPU count / workers)",
                      check=at_least_one, source="trainwell convention"),
    "storage": Option((str, type(None)), None, "an Optuna storage URL (sqlite:///s.db, postgresql://...) "
                      "or a journal file path; None: STUDY_DIR/study.journal",
                      source="Optuna storages; docs/search.md"),
    "study_name": Option(str, "trainwell", "the study's name in the storage (a stage adds /stage-N)",
                         source="trainwell convention"),
    "dir": Option((str, type(None)), None, "the study directory (None: searches/NAME-TIMESTAMP)",
                  source="trainwell convention"),
    "trial_report": Option(bool, False, "write report.html in every trial's run directory (matplotlib "
                           "costs seconds per trial; `trainwell report TRIAL_DIR` writes one later)",
                           source="measured: BENCHMARKS.md (search bookkeeping)"),
    "trial_checkpoints": Option(str, "end", "checkpoints of a trial's run directory: \"end\" (one, of "
                                "its end: a dead trial is run again from its start, never resumed) or "
                                "\"epochs\" (every epoch, as trainwell fit)", check=one_of(CHECKPOINT_AT),
                                source="measured: BENCHMARKS.md (search bookkeeping)"),
    "sync_trials": Option(bool, False, "fsync every file of a trial's run directory (false: written "
                          "atomically, so a killed worker leaves whole files, but a power cut may lose "
                          "the last trials' files; the study journal keeps their results)",
                          source="measured: BENCHMARKS.md (search bookkeeping)"),
}


@dataclass(frozen=True)
class Settings:
    """A checked ``[search]`` table."""

    space: dict[str, Param]
    stages: tuple[Stage, ...]
    sampler: str
    seed: int
    pruner: str
    prune_at_end: bool
    metric: str
    folds: int | None
    config_first: bool
    narrow: bool
    reevaluate: int
    promote: str
    eta: int | None
    rungs: int | None
    grid_points: int
    workers: int
    threads: int | None
    storage: str | None
    study_name: str
    dir: str | None
    trial_report: bool
    trial_checkpoints: str
    sync_trials: bool

    @property
    def rung_count(self) -> int:
        """How many stages are rungs of asynchronous promotion: 0 without ``eta``."""
        if self.eta is None:
            return 0
        return len(self.stages) if self.rungs is None else self.rungs

    @property
    def maximize(self) -> bool:
        return self.metric.endswith("_acc")

    def trial_files(self) -> TrialFiles:
        return TrialFiles(report=self.trial_report, checkpoints=self.trial_checkpoints, sync=self.sync_trials)


def parse_settings(table, base: dict) -> Settings:
    """The ``[search]`` table checked against ``SEARCH_OPTIONS``; the space against ``base`` (the
    run's options). Raises ConfigError naming the key."""
    if not isinstance(table, dict):
        raise ConfigError("search: must be a table ([search] in the config)")
    given = check_options("search", table, SEARCH_OPTIONS, label="search.{name}")
    space = parse_space(given.pop("space"), base)
    epochs = base.get("epochs", OPTIONS["epochs"].default)
    sizing = {"coarse_size": given.pop("coarse_size"), "coarse_epochs": given.pop("coarse_epochs")}
    lr_scan = given.pop("lr_scan") and given["eta"] is None
    if given["stages"] is not None:
        for key, value in sizing.items():
            if value is not None:
                raise ConfigError(f"search.{key} = {value}: it sizes the default plan, and stages is set; "
                                  f"give the coarse stage's trials and epochs in stages instead")
    stages = parse_stages(given.pop("stages"), given.pop("trials"), epochs if isinstance(epochs, int) else 1,
                          dimension=len(space), scan=space.get(SCAN_KEY) if lr_scan else None, **sizing)
    metric = given.pop("metric") or base.get("monitor", "val_loss")
    if given["eta"] is not None and len(stages) < 2:
        raise ConfigError(f"search.eta = {given['eta']}: asynchronous promotion needs at least two stages "
                          f"(rungs), e.g. stages = [{{trials = 60, epochs = 1}}, {{trials = 20}}]")
    if given["rungs"] is not None and given["eta"] is None:
        raise ConfigError(f"search.rungs = {given['rungs']}: rungs are the stages of asynchronous promotion; "
                          f"set eta too (e.g. eta = 9)")
    if given["rungs"] is not None and given["rungs"] > len(stages):
        raise ConfigError(f"search.rungs = {given['rungs']}: more than the {len(stages)} stages")
    if given["trial_checkpoints"] == "end" and base.get("checkpoint_every") is not None:
        raise ConfigError(f"search.trial_checkpoints = \"end\" with checkpoint_every = "
                          f"{base['checkpoint_every']}: trials would write no checkpoint within a run; "
                          f"leave checkpoint_every out of a search, or set trial_checkpoints = \"epochs\"")
    return Settings(space=space, stages=tuple(stages), metric=metric, **given)


def settings_markdown() -> str:
    """The options table of docs/search.md (a test compares)."""
    rows = ["| option | default | meaning | source |", "| --- | --- | --- | --- |"]
    for name, o in SEARCH_OPTIONS.items():
        default = "(required)" if o.required else f"`{o.default!r}`"
        rows.append(f"| `{name}` | {default} | {o.doc.replace('|', '/')} | {o.source} |")
    return "\n".join(rows)
