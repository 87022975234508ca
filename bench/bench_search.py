"""Hyperparameter search goals (issue 13): epochs to a target, parallel workers, bookkeeping cost.

``epochs``: on fixed tasks, the training epochs each strategy needs to first reach the best
validation accuracy that 60 plain random-search trials of the full epoch budget reach (the target
is set per search seed by that random search itself). Tasks the default method was chosen on
(TUNE): an MLP on digits tuning lr, weight decay, width and dropout; an MLP on 3-arm spirals.
Tasks it was not chosen on and only measured (HELD-OUT): an MLP on the ``teacher`` source (a random
ReLU teacher network's classes, 20 features); a small CNN on the digits images (lr, weight decay,
dropout, batch size); an MLP on breast_cancer (added in the third pass and run only at its end).
Strategies, 60 trials each:

- ``random``: random trials of the full budget (trainwell.search, one stage, pruner none; its
  own epochs to its best are counted the same way);
- ``grid``: a 3-point grid per numeric range (every choice), 60 trials in the grid sampler's
  order, full budget;
- ``optuna_tpe_hyperband``: Optuna's TPESampler + HyperbandPruner used directly (plain Optuna
  code, no trainwell.search), the same space and budget;
- ``trainwell_default``: trainwell.search with its defaults (``trials = 60`` only: 40 coarse
  trials of 2 epochs, then 20 of the full 10 in narrowed ranges, random values in the coarse stage
  and TPE seeded with it in the fine one, the median pruner); ``default_random``: the default until
  the eighth pass, random values in both stages;
- ``default_with_config_first``: the same with ``config_first = true`` (what a first trial at the
  config's own values adds);
- ``CANDIDATES`` for the default (``qmc``, ``staged_tpe``, ``halving3_staged_tpe``; fourth pass,
  with promotion by resuming: ``default_resume``, ``staged_tpe_resume``, ``halving_resume``; fifth
  pass: ``random_tpe``, ``random_tpe_coarse20``, ``coarse20``; sixth, asynchronous promotion with
  ``eta = 9``: ``asha9_e1``, ``asha9_e2``, ``asha9_e1_resume``; seventh, ASHA's early promotions
  then a fine stage (``rungs = 2``): ``asha9_fine``, ``asha9_fine_e1``; eighth, ``random_tpe`` again
  with TPE from the fine stage's first draw, and ``random_tpe_wide`` without narrowing; ninth, a
  one-epoch coarse stage sized from the space: ``dim5_e1``, ``dim2_e1``, ``e1``; tenth, ASHA's early
  promotions of the default's 40 draws then a fine stage: ``asha5_fine_e1``, ``asha5_fine_e2``,
  ``asha9_fine_e1p``; its second round, at most 2 early promotions: ``asha9_cap2_e2``,
  ``asha9_cap2_e1``), and any ``--variant NAME={...}``
  (a [search] table as JSON) tried on the tuning tasks.

Every strategy but the target's random search should run with ``--seed-offset N`` (e.g. 10000):
with the same seed a random-sampling strategy draws the target's own first configurations and
re-runs its trials epoch for epoch (BENCHMARKS.md, third pass).

A strategy's epochs are summed over its trials in the order they ran (pruned trials count the
epochs they trained; a trial promoted by resuming counts only the epochs it trained itself) up to
the first epoch whose val_acc reaches the target; "not reached" when none does. Medians over
search seeds, and each strategy's median over the default's with a paired bootstrap interval.

``rank`` (fifth pass, the analysis before building): per task-seed, with a seed independent of
the target's, 60 random configurations at the full budget, the same 60 as annealed runs of 1, 2
and 3 epochs, and 40 Sobol coarse trials; ``rank --table DIR`` prints how many full-budget
configurations reach the target, the Spearman correlation of the short runs' val_loss with the
full runs', what ranking alone would cost (n coarse trials, then retraining them best first) and
ASHA's asynchronous promotion (simulated from the same curves), and whether the ranges narrowed
after a random or a Sobol coarse stage keep the configurations that reach the target.

``workers``: searches of N short trials with 1 worker and with 2 (one torch thread each), as
``trainwell search`` commands, interleaved, ``--repeats`` times: trials per hour by the whole
command's wall time (from its start: interpreter, imports, the workers' start, the report) and by
the trials' own span, medians, and the CPU time of each command with its workers (a forkserver
included: the bench reaps the command's orphans); the command's wall time in parts (before the
first trial, the trials' span, then trials.csv, report.html and the exit, from the journal's trial
times and the files' mtimes); each worker's first trial against its later ones; then a 2-worker
search whose worker is killed with SIGKILL mid-trial: the stage must end with exactly N counted
trials, the dead trial failed and retried once, none duplicated.

``overhead``: the same short trial (fixed values) run by trainwell.search and by a bare
``trainwell.fit`` without a run directory, of the data loaded once (the training alone) and from
the source's name: the framework's own cost per trial (study bookkeeping, the run directory, the
trial's files) as a share of the training time, wall and CPU time; ``--pruner median`` measures the
default pruner's per-epoch reports too (the goal's numbers are with ``none``).

``rundir``: a trial's run directory alone, in one process, CPU time: ``--trials`` fits of the
data loaded once without a run directory against as many with a search trial's (end checkpoint,
no fsync, metrics held), alternated ``--repeats`` times, and the end checkpoint of the same
model's training state saved into a new folder each time (a trial's), so that a change of a
tenth of a millisecond shows where the whole commands' noise (a millisecond at load 10) hides it.

Run: ``python bench/bench_search.py rank --targets EPOCHS_DIR --out DIR`` then ``rank --table
DIR``; ``python bench/bench_search.py epochs --seeds 5 --tasks digits spirals --out DIR`` (each
task-seed is saved as DIR/TASK-SEED.json; ``epochs --table DIR`` prints the table of what is
there), ``python bench/bench_search.py workers`` (under 3 minutes; prints both ratios),
``python bench/bench_search.py overhead`` (3-, 20- and 60-epoch trials; about 2 minutes quiet),
``python bench/bench_search.py rundir`` (about 1 minute quiet).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from inspect import signature
from pathlib import Path

import optuna
import torch

import trainwell
from trainwell.hpsearch.report import load_studies, write_study_report
from trainwell.hpsearch.space import apply, parse_space, suggest
from trainwell.hpsearch.stages import next_space
from trainwell.train.callbacks import Callback

FULL_EPOCHS = 10
TRIALS = 60
MLP_SPACE = {"lr": {"low": 1e-4, "high": 1.0}, "weight_decay": {"low": 1e-6, "high": 1e-2},
             "model.widths": {"choices": [[16], [32], [64], [128], [256]]},
             "model.dropout": {"low": 0.0, "high": 0.6}}
CNN_SPACE = {"lr": {"low": 1e-4, "high": 1.0}, "weight_decay": {"low": 1e-6, "high": 1e-2},
             "model.dropout": {"low": 0.0, "high": 0.6}, "batch_size": {"choices": [32, 64, 128, 256]}}
SMALL_CNN = [{"type": "conv", "channels": 8, "kernel": 3}, {"type": "pool", "kind": "max", "kernel": 2},
             {"type": "conv", "channels": 16, "kernel": 3}]
TASKS = {   # "tune": the default method was chosen looking at these; the others are held out
    "digits": dict(tune=True, space=MLP_SPACE, data="digits", base=dict(
        preprocess=["standardize"], batch_size=128, model={"type": "mlp", "widths": [64]})),
    "spirals": dict(tune=True, space=MLP_SPACE, data=None, base=dict(
        batch_size=64, model={"type": "mlp", "widths": [64]}, data={"source": "spirals", "samples_per_class": 400})),
    "teacher": dict(tune=False, space=MLP_SPACE, data=None, base=dict(
        preprocess=["standardize"], batch_size=64, model={"type": "mlp", "widths": [64]},
        data={"source": "teacher"})),
    "digits_cnn": dict(tune=False, space=CNN_SPACE, data=None, base=dict(
        batch_size=64, model={"type": "cnn", "layers": SMALL_CNN}, data={"source": "digits", "images": True})),
    # added with the third default (branch search4) and run only once it was fixed
    "breast_cancer": dict(tune=False, space=MLP_SPACE, data=None, base=dict(
        preprocess=["standardize"], batch_size=32, model={"type": "mlp", "widths": [64]},
        data={"source": "breast_cancer"})),
}
COMMON = dict(device="cpu", babysit="watch", progress=False)
# candidates for the default measured against it (third pass): a scrambled Sobol sequence in every
# stage; Sobol then TPE seeded with the previous stage; the same in three stages at successive
# halving's lengths (epochs/9, /3, full; Li et al. 2018, eta = 3)
CANDIDATES = {"qmc": {"trials": TRIALS, "sampler": "qmc"},
              "staged_tpe": {"trials": TRIALS, "sampler": "staged_tpe"},
              "halving3_staged_tpe": {"sampler": "staged_tpe", "stages": [
                  {"trials": 30, "epochs": 1}, {"trials": 15, "epochs": 3}, {"trials": 15}]},
              # fourth pass (promotion by resuming): the default and staged_tpe with promote = "resume";
              # successive halving in stages, every later trial a promotion of the previous stage's
              # best third, resumed (rungs of 1, 3 and 10 epochs, eta = 3: Li et al. 2018)
              "default_resume": {"trials": TRIALS, "promote": "resume"},
              "staged_tpe_resume": {"trials": TRIALS, "sampler": "staged_tpe", "promote": "resume"},
              "halving_resume": {"promote": "resume", "reevaluate": 27, "stages": [
                  {"trials": 81, "epochs": 1}, {"trials": 27, "epochs": 3}, {"trials": 9}]},
              # fifth pass: random first (every Sobol-first variant failed on teacher), then TPE seeded
              # with the coarse stage, in the default's stages; the same and plain random with a coarse
              # stage half as long (20 x 2 epochs: twice TPE's 10 startup trials), 40 fine trials
              "random_tpe": {"trials": TRIALS, "sampler": "random_tpe"},
              "random_tpe_coarse20": {"sampler": "random_tpe", "stages": [{"trials": 20, "epochs": 2}, {"trials": 40}]},
              "coarse20": {"stages": [{"trials": 20, "epochs": 2}, {"trials": 40}]},
              # sixth pass (asynchronous promotion, ``eta``): 60 random draws of 1 or 2 epochs, a draw
              # in the top ninth of the draws so far promoted at once to a full run (at most 20),
              # retrained (a short annealed screen) or resumed (the first epoch of the full schedule)
              "asha9_e1": {"eta": 9, "stages": [{"trials": 60, "epochs": 1}, {"trials": 20}]},
              "asha9_e2": {"eta": 9, "stages": [{"trials": 60, "epochs": 2}, {"trials": 20}]},
              "asha9_e1_resume": {"eta": 9, "promote": "resume",
                                  "stages": [{"trials": 60, "epochs": 1}, {"trials": 20}]},
              # seventh pass (``rungs``): the default's 40 coarse draws as ASHA's rung 0 with eta 9 (a
              # draw in the top ninth so far goes to a full run at once: at most floor(40 / 9) = 4),
              # then the default's fine stage, 16 new full trials in ranges narrowed around the draws
              # (20 full-length trials in all, as the default); the same with 1-epoch draws
              "asha9_fine": {"eta": 9, "rungs": 2,
                             "stages": [{"trials": 40, "epochs": 2}, {"trials": 4}, {"trials": 16}]},
              "asha9_fine_e1": {"eta": 9, "rungs": 2,
                                "stages": [{"trials": 40, "epochs": 1}, {"trials": 4}, {"trials": 16}]},
              # eighth pass (TPE in the fine stage from its first draw: SeededTPE's startup is d + 1
              # trials, BOHB's): ``random_tpe`` above (the default's stages, ranges narrowed), and the
              # same over the first stage's whole ranges (``narrow = false``: the model, not the box,
              # says where to draw, as in BOHB)
              "random_tpe_wide": {"trials": TRIALS, "sampler": "random_tpe", "narrow": False},
              # the default of the first seven passes (random in every stage), kept for comparison
              "default_random": {"trials": TRIALS, "sampler": "random"},
              # ninth pass (less before the first full-length evidence): a coarse stage of 5 (d + 1)
              # one-epoch trials (25 here: d = 4), never pruned at their one epoch, then 35 full
              # trials; the same with 2 (d + 1) = 10; the default's 40 coarse trials at one epoch
              "dim5_e1": {"trials": TRIALS, "coarse_size": 5, "coarse_epochs": 1, "prune_at_end": False},
              "dim2_e1": {"trials": TRIALS, "coarse_size": 2, "coarse_epochs": 1, "prune_at_end": False},
              "e1": {"trials": TRIALS, "coarse_epochs": 1, "prune_at_end": False},
              # tenth pass (the first full-length evidence early, the draws' narrowing kept): ASHA's
              # early promotions over the default's 40 draws, then a fine stage, 20 full-length trials
              # in all as the default; eta 5 promotes the top fifth so far (the share the coarse-to-fine
              # narrowing keeps, stages.TOP_FRACTION: at most 8, the first after 5 draws) of 1-epoch
              # draws that are never pruned at their one epoch (each ranks), or of the default's 2-epoch
              # draws (the screen that narrowed better on spirals, ninth pass); eta 9 with 1-epoch draws
              # never pruned (the seventh pass's asha9_fine_e1, now with every draw ranked and TPE in
              # the fine stage)
              "asha5_fine_e1": {"eta": 5, "rungs": 2, "prune_at_end": False,
                                "stages": [{"trials": 40, "epochs": 1}, {"trials": 8}, {"trials": 12}]},
              "asha5_fine_e2": {"eta": 5, "rungs": 2,
                                "stages": [{"trials": 40, "epochs": 2}, {"trials": 8}, {"trials": 12}]},
              "asha9_fine_e1p": {"eta": 9, "rungs": 2, "prune_at_end": False,
                                 "stages": [{"trials": 40, "epochs": 1}, {"trials": 4}, {"trials": 16}]},
              # tenth pass, second round (Hyperband's hedge: brackets side by side, none best on every
              # task, Li et al. 2018): the default plan (its 40 draws, its fine stage re-evaluating the
              # best draws first) with at most 2 early full runs of a draw in the top ninth so far (the
              # first after 9 draws: ASHA's aggressive bracket beside the synchronous one, at most 20
              # epochs added before the re-evaluations); of the default's 2-epoch draws, and of 1-epoch
              # draws never pruned at their one epoch
              "asha9_cap2_e2": {"eta": 9, "rungs": 2,
                                "stages": [{"trials": 40, "epochs": 2}, {"trials": 2}, {"trials": 18}]},
              "asha9_cap2_e1": {"eta": 9, "rungs": 2, "prune_at_end": False,
                                "stages": [{"trials": 40, "epochs": 1}, {"trials": 2}, {"trials": 18}]}}
# eleventh pass (branch search21): the notes' own order, "start with small regularization and find
# the learning rate that makes the loss go down", then the rest (notes 000/004). A first search over
# lr alone (the other searched options at the config's values), a log grid of LR_POINTS_PER_DECADE
# points per decade of lr's range, every point ranked (pruner none; the 3x rule and the babysitter
# still prune); lr's range narrowed around its best by stages.next_space, the other ranges whole;
# then the second search below (TRIALS in all): 51 full-length random trials (median pruner), or
# the default's coarse to fine over the narrowed space
LR_POINTS_PER_DECADE = 2
LR_FIRST = {"lr_first_e2": (2, {"stages": [{"trials": 51}], "sampler": "random"}),
            "lr_first_e1": (1, {"stages": [{"trials": 51}], "sampler": "random"}),
            "lr_first_cf": (2, {"stages": [{"trials": 20, "epochs": 2}, {"trials": 31}]})}
STRATEGIES = ("random", "grid", "optuna_tpe_hyperband", "trainwell_default", "default_with_config_first",
              *CANDIDATES, *LR_FIRST)
RUN = ("random", "grid", "optuna_tpe_hyperband", "trainwell_default")   # run unless asked
# rows of earlier runs shown in the table too: the single-stage method (median pruner) measured
# before the coarse-to-fine default, with and without the config's values first
SHOWN = (*STRATEGIES, "single_stage_median_config_first", "single_stage_median")


def _epoch_curves(result, trace: list | None = None) -> list[list[float]]:
    """Each trial's per-epoch val_acc, in the order the trials started (folds: none here; one
    worker: the order they ran, which with ``eta`` interleaves the stages); a trial promoted by
    resuming counts only the epochs it trained itself (its metrics.jsonl starts with the paused
    trial's epochs, already counted there). ``trace``, when given, gets one ``[stage, kind,
    prune reason]`` a trial in the same order (kind: "draw", or "again" for a re-evaluation of an
    earlier stage's configuration)."""
    curves = []
    resumed, started = _journal_facts(result.study_dir)
    for row in sorted(result.trials, key=lambda r: (started.get(r["run_dir"], float("inf")), r["stage"], r["trial"])):
        if trace is not None:
            trace.append([row["stage"], "draw" if row.get("reevaluates") in (None, "") else "again",
                          (row.get("prune_reason") or "")[:40]])
        path = Path(row["run_dir"]) / "metrics.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        source = resumed.get(row["run_dir"])
        done = len((Path(source) / "metrics.jsonl").read_text().splitlines()) if source else 0
        curves.append([json.loads(line)["val_acc"] for line in lines][done:])
    return curves


def _journal_facts(study_dir) -> tuple[dict, dict]:
    """{trial run_dir: the run_dir it continued} of the study's trials promoted by resuming, and
    {trial run_dir: its start time} of every trial."""
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(Path(study_dir) / "study.journal")))
    promoted, started = {}, {}
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        for t in optuna.load_study(study_name=summary.study_name, storage=storage).get_trials(deepcopy=False):
            outcome = t.user_attrs.get("outcome", {})
            if outcome.get("promoted_from"):
                promoted[outcome["run_dir"]] = outcome["promoted_from"]
            if "run_dir" in outcome and t.datetime_start is not None:
                started[outcome["run_dir"]] = t.datetime_start.timestamp()
    return promoted, started


def epochs_to(curves: list[list[float]], target: float) -> int | None:
    total = 0
    for curve in curves:
        for acc in curve:
            total += 1
            if acc is not None and acc >= target - 1e-9:
                return total
    return None


def _search(task, seed, tmp, name, table, space=None):
    t = TASKS[task]
    base = {k: v for k, v in t["base"].items() if k != "model"}
    return trainwell.search(t["base"]["model"], t["data"], space=space or t["space"],
                            search={"dir": str(Path(tmp) / f"{task}-{name}-{seed}"), "seed": seed, **table},
                            **{**COMMON, **base, "epochs": FULL_EPOCHS})


class Report(Callback):
    def __init__(self, trial, curve):
        self.trial, self.curve = trial, curve

    def on_epoch_end(self, state):
        acc = state.metrics["val_acc"]
        self.curve.append(acc)
        self.trial.report(acc, state.epoch)
        if self.trial.should_prune():
            state.stop = "pruned"


def optuna_direct(task, seed) -> list[list[float]]:
    """TPE + Hyperband in plain Optuna: the objective trains with trainwell.fit, reports val_acc."""
    t = TASKS[task]
    space = parse_space(t["space"], t["base"])
    curves = []

    def objective(trial):
        options = apply({**COMMON, **t["base"], "epochs": FULL_EPOCHS}, suggest(trial, space))
        curve = []
        curves.append(curve)
        model = options.pop("model")
        run = trainwell.fit(model, t["data"], callbacks=[Report(trial, curve)], **options)
        if run.stopped.message == "pruned":
            raise optuna.TrialPruned()
        return run.results["val"]["acc"]

    # a fixed study name: Optuna's HyperbandPruner puts trial n in the bracket of
    # crc32(f"{study_name}_{n}"), and an unnamed study's name is a fresh uuid, so without one every
    # run drew other brackets (the counts of the fourth to ninth passes are such draws)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed),
                                study_name=f"tpe-hyperband-{task}-{seed}",
                                pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=FULL_EPOCHS))
    study.optimize(objective, n_trials=TRIALS)
    return curves


def _strategy_curves(name, task, seed, tmp, variants=None, trace=None):
    one = [{"trials": TRIALS}]          # one stage of full trials
    tables = {"random": {"stages": one, "pruner": "none", "sampler": "random"},
              "grid": {"stages": one, "pruner": "none", "sampler": "grid", "grid_points": 3},
              **CANDIDATES, **(variants or {}),
              "trainwell_default": {"trials": TRIALS},
              "default_with_config_first": {"trials": TRIALS, "config_first": True}}
    if name == "optuna_tpe_hyperband":
        return optuna_direct(task, seed)
    if name in LR_FIRST:
        return lr_first_curves(name, task, seed, tmp, trace)
    return _epoch_curves(_search(task, seed, tmp, name, tables[name]), trace)


def lr_first_curves(name, task, seed, tmp, trace=None) -> list[list[float]]:
    """``LR_FIRST[name]``: a search over lr alone, then one over the whole space with lr's range
    narrowed around the first search's best points; the two searches' curves in the order they ran
    (``trace``: the first search's trials as stage 0, the second's as its stages, from 1)."""
    import math

    epochs, then = LR_FIRST[name]
    space = TASKS[task]["space"]
    lr = parse_space({"lr": space["lr"]}, TASKS[task]["base"])["lr"]
    points = round(LR_POINTS_PER_DECADE * math.log10(lr.high / lr.low)) + 1
    first = _search(task, seed, tmp, f"{name}-lr", {"stages": [{"trials": points, "epochs": epochs}],
                                                    "sampler": "grid", "grid_points": points, "pruner": "none"},
                    space={"lr": space["lr"]})
    scan = []
    curves = _epoch_curves(first, scan)
    sign = -1 if first.metric.endswith("_acc") else 1       # best first: accuracies up, losses down
    done = sorted((r for r in first.trials if r["state"] == "complete" and r["value"] is not None),
                  key=lambda r: sign * r["value"])
    narrowed, _ = next_space({"lr": lr}, [{"lr": r["lr"]} for r in done], TASKS[task]["base"])
    rest = {**space, "lr": {"low": narrowed["lr"].low, "high": narrowed["lr"].high, "log": True}}
    later = []
    curves += _epoch_curves(_search(task, seed, tmp, name, then, space=rest), later)
    if trace is not None:
        trace += [[0, kind, reason] for _, kind, reason in scan] + later
    return curves


def bench_epochs(args):
    if args.table:
        return _print_epochs_table(args.table)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(1)
    out = Path(args.out) if args.out else None
    variants = {name: json.loads(table) for name, _, table in (v.partition("=") for v in args.variant)}
    rows = []
    for task in args.tasks:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            saved = out / f"{task}-{seed}.json" if out is not None else None
            row = json.loads(saved.read_text()) if saved is not None and saved.exists() else None
            with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
                started = time.perf_counter()
                if row is None:           # random sets the target
                    curves = _strategy_curves("random", task, seed, tmp)
                    target = max(a for c in curves for a in c if a is not None)
                    row = {"task": task, "seed": seed, "target": target,
                           "strategies": {"random": _counts(curves, target)}}
                for name in [*args.strategies, *variants]:   # a saved row keeps its target; rerun
                    if name != "random":
                        # a sampler seeded as the target's random search draws its configurations
                        # (the same first trials): --seed-offset keeps the two apart
                        trace = []
                        curves = _strategy_curves(name, task, seed + args.seed_offset, tmp, variants, trace)
                        row["strategies"][name] = _counts(curves, row["target"], trace)
                target = row["target"]
                rows.append(row)
                if out is not None:
                    out.mkdir(parents=True, exist_ok=True)
                    (out / f"{task}-{seed}.json").write_text(json.dumps(row))
                print(f"{task} seed {seed}: target {target:.4f}, {time.perf_counter() - started:.0f} s: "
                      + ", ".join(f"{k} {v['to_target']}" for k, v in row["strategies"].items()),
                      file=sys.stderr, flush=True)
    _print_rows(rows)


def _counts(curves, target, trace=None) -> dict:
    """Epochs to the target, epochs run, the best val_acc; with ``trace`` (``_epoch_curves``) also
    each trial's ``[stage, kind, prune reason, epochs trained, first epoch at the target or None]``
    in the order they ran: where a strategy's epochs went (``epochs --where DIR``)."""
    counts = {"to_target": epochs_to(curves, target), "total": sum(len(x) for x in curves),
              "best": max((a for x in curves for a in x if a is not None), default=None)}
    if trace:
        counts["trace"] = [[*t, len(c), _first_reach(c, target)] for t, c in zip(trace, curves)]
    return counts


def _print_epochs_table(directory) -> None:
    _print_rows([json.loads(p.read_text()) for p in sorted(Path(directory).glob("*.json"))])


REFERENCE = "trainwell_default"   # the spread column compares every strategy with the default
BOOTSTRAP = 2000                  # resamples of the seeds (paired: one resample for both strategies)
INTERVAL = 0.90                   # the central interval shown


def median_ratio_interval(mine: list, theirs: list, *, seed: int = 0) -> tuple[float, float, float]:
    """The ratio of two strategies' median epochs to the target over the same seeds (paired; not
    reached = inf) and its percentile bootstrap interval (Efron & Tibshirani 1993, ch. 13):
    seeds resampled with replacement, both medians taken on the same resample. inf/inf counts as 1."""
    import numpy as np

    def ratio(a, b):
        a, b = statistics.median(a), statistics.median(b)
        if a == b:
            return 1.0
        return a / b if b != float("inf") else 0.0

    rng = np.random.default_rng(seed)
    n = len(mine)
    draws = sorted(ratio([mine[i] for i in idx], [theirs[i] for i in idx])
                   for idx in rng.integers(0, n, size=(BOOTSTRAP, n)))
    lo, hi = draws[int((1 - INTERVAL) / 2 * BOOTSTRAP)], draws[int((1 + INTERVAL) / 2 * BOOTSTRAP) - 1]
    return ratio(mine, theirs), lo, hi


def _print_rows(rows) -> None:
    print(f"| task | strategy | epochs to target: median (per seed) | ratio to random's median | reached | "
          f"epochs run (median) | best val_acc (median) | median / {REFERENCE}'s [{INTERVAL:.0%} bootstrap] |\n"
          f"| --- | --- | --- | ---: | --- | ---: | ---: | --- |")
    tasks = list(dict.fromkeys(r["task"] for r in sorted(rows, key=lambda r: (not TASKS[r["task"]]["tune"], r["task"]))))
    for task in tasks:
        runs = sorted((r for r in rows if r["task"] == task), key=lambda r: r["seed"])
        medians = {}
        for name in dict.fromkeys([*SHOWN, *(n for r in runs for n in r["strategies"])]):
            got = [r["strategies"][name] for r in runs if name in r["strategies"]]
            if not got:
                continue
            counts = [g["to_target"] if g["to_target"] is not None else float("inf") for g in got]
            medians[name] = statistics.median(counts)
            shown = ", ".join(str(g["to_target"]) if g["to_target"] is not None else "—" for g in got)
            ratio = medians[name] / medians["random"] if medians.get("random") else float("nan")
            label = f"{task} ({'tune' if TASKS[task]['tune'] else 'held-out'})"
            print(f"| {label} | {name} | {medians[name]:g} ({shown}) | {ratio:.2f} | "
                  f"{sum(g['to_target'] is not None for g in got)}/{len(got)} | "
                  f"{statistics.median(g['total'] for g in got):g} | "
                  f"{statistics.median(g['best'] for g in got):.4f} | {_versus(runs, name)} |")


def _versus(runs, name) -> str:
    """``name``'s median over the reference's on the seeds both ran, with its bootstrap interval."""
    both = [r["strategies"] for r in runs if name in r["strategies"] and REFERENCE in r["strategies"]]
    if name == REFERENCE or not both:
        return ""
    count = [[s[k]["to_target"] if s[k]["to_target"] is not None else float("inf") for s in both]
             for k in (name, REFERENCE)]
    mid, lo, hi = median_ratio_interval(*count)
    return f"{mid:.2f} [{lo:.2f}, {hi:.2f}] (n={len(both)})"


# ------------------------------------------------------------------ rank (fifth pass)
SHORT_EPOCHS = (1, 2, 3)     # the annealed short runs whose ranking is compared with the full budget's


def _trial_records(result) -> list[dict]:
    """Each trial of a one-stage search, in the order it ran: Optuna's params, its value, its
    per-epoch val_acc."""
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(Path(result.study_dir) / "study.journal")))
    study = optuna.load_study(study_name="trainwell/stage-0", storage=storage)
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    curves = _epoch_curves(result)
    rows = sorted(result.trials, key=lambda r: (r["stage"], r["trial"]))
    return [{"params": by_number[r["trial"]].params, "value": r["value"], "curve": c}
            for r, c in zip(rows, curves)]


def bench_rank(args):
    """Per task-seed (search seed + ``--seed-offset``, so the configurations are not the target's):
    60 random configurations trained at the full budget, the same 60 as annealed runs of 1, 2 and 3
    epochs (a schedule of that length: the default's coarse trials), and 40 Sobol (qmc) coarse
    trials of 2 epochs; saved as OUT/TASK-SEED.json for ``analyse`` (the target from ``--targets``,
    the rows of the ``epochs`` mode)."""
    if args.table:
        return _print_rank_analysis(args.table)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for task in args.tasks:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            path = out / f"{task}-{seed}.json"
            if path.exists():
                continue
            started = time.perf_counter()
            row = {"task": task, "seed": seed,
                   "target": json.loads((Path(args.targets) / f"{task}-{seed}.json").read_text())["target"]}
            mine = seed + args.seed_offset
            with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
                row["full"] = _trial_records(_search(task, mine, tmp, "full", {
                    "stages": [{"trials": TRIALS}], "pruner": "none", "sampler": "random"}))
                for k in SHORT_EPOCHS:
                    row[f"short{k}"] = _trial_records(_search(task, mine, tmp, f"short{k}", {
                        "stages": [{"trials": TRIALS, "epochs": k}], "pruner": "none", "sampler": "random"}))
                row["qmc2"] = _trial_records(_search(task, mine, tmp, "qmc2", {
                    "stages": [{"trials": 40, "epochs": 2}], "pruner": "none", "sampler": "qmc"}))
            path.write_text(json.dumps(row))
            print(f"{task} seed {seed}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)


def _first_reach(curve, target) -> int | None:
    return next((i + 1 for i, a in enumerate(curve) if a is not None and a >= target - 1e-9), None)


def _loss(record) -> float:
    """A trial's value (the tasks' metric: val_loss, the config's monitor); inf when pruned."""
    return record["value"] if record["value"] is not None else float("inf")


def simulate_coarse_then_full(short: list, full: list, target: float, n: int, k: int) -> int | None:
    """Epochs to the target of: ``n`` random configurations trained ``k`` epochs (annealed), then
    each of them trained at the full budget from scratch, best short value first (no narrowing,
    no new configuration: what ranking alone buys)."""
    order = sorted(range(n), key=lambda i: _loss(short[i]))
    spent = n * k
    for i in order:
        reach = _first_reach(full[i]["curve"], target)
        if reach is not None:
            return spent + reach
        spent += len(full[i]["curve"])
    return None


def oracle_screen(full: list, target: float, k: int) -> int | None:
    """The epochs a random-first plan needs at least when its ``k``-epoch screen were perfect: each
    configuration drawn costs ``k`` epochs until the first one that reaches the target at the full
    budget, which is then trained to its first epoch at the target (no new configurations)."""
    reach = [_first_reach(f["curve"], target) for f in full]
    return min((k * (j + 1) + e for j, e in enumerate(reach) if e is not None), default=None)


def simulate_asha(short: list, full: list, target: float, eta: int, k: int) -> int | None:
    """Epochs to the target of ASHA's asynchronous promotion (Li et al. 2018, one worker), rungs
    ``k`` epochs and the full budget, each promotion trained from scratch: after each rung-0 trial,
    promote the best not-yet-promoted configuration when it is in the top ``len(rung 0) // eta``;
    otherwise draw the next configuration (the 60 in order)."""
    done, promoted, spent = [], set(), 0
    for i in range(len(short)):
        spent += k
        done.append(i)
        top = sorted(done, key=lambda j: _loss(short[j]))[:len(done) // eta]
        for j in top:
            if j not in promoted:
                promoted.add(j)
                reach = _first_reach(full[j]["curve"], target)
                if reach is not None:
                    return spent + reach
                spent += len(full[j]["curve"])
                break
    return None


def _inside_space(space, params) -> bool:
    for key, p in space.items():
        v = params[key]
        if (p.numeric and not p.low - 1e-12 <= v <= p.high + 1e-12) or (not p.numeric and v not in p.choices):
            return False
    return True


ASHA_ETAS = (3, 9)      # ASHA's reduction factors simulated (Li et al. 2018 use 3 and 4; 9: fewer promotions)


def _median_reached(values: list) -> str:
    """``median (reached/n)`` of epoch counts where None (not reached) counts as infinite."""
    counts = [x if x is not None else float("inf") for x in values]
    return f"{statistics.median(counts):g} ({sum(x is not None for x in values)}/{len(values)})"


def _narrowed(space, coarse: list, base: dict):
    """The ranges ``next_space`` gives after the coarse trials ``coarse`` (best val_loss first)."""
    best = sorted((c for c in coarse if c["value"] is not None), key=_loss)
    return next_space(space, [c["params"] for c in best], base, keep=3)[0]


def _print_rank_analysis(directory) -> None:
    """What the ``rank`` rows say: how many full-budget random configurations reach the target, how
    well short annealed runs rank them (Spearman), what ranking alone, a perfect screen and ASHA
    would cost, and whether the ranges narrowed after a random or a Sobol coarse stage keep the
    configurations that reach the target."""
    from scipy.stats import spearmanr      # slow to import (SciPy): only this mode needs it

    rows = [json.loads(p.read_text()) for p in sorted(Path(directory).glob("*.json"))]
    for task in dict.fromkeys(r["task"] for r in rows):
        runs = sorted((r for r in rows if r["task"] == task), key=lambda r: r["seed"])
        t = TASKS[task]
        space = parse_space(t["space"], t["base"])
        reach = [sum(_first_reach(c["curve"], r["target"]) is not None for c in r["full"]) for r in runs]
        own = [epochs_to([c["curve"] for c in r["full"]], r["target"]) for r in runs]
        print(f"## {task} ({len(runs)} seeds)\nfull-budget random configurations (seed + offset) reaching the "
              f"target, of 60: median {statistics.median(reach)} (per seed {reach}); a random search of them: "
              f"epochs to the target {_median_reached(own)} {own}")
        for k in SHORT_EPOCHS:
            rho = []
            for r in runs:
                pairs = [(s["value"], f["value"]) for s, f in zip(r[f"short{k}"], r["full"])
                         if s["value"] is not None and f["value"] is not None]
                rho.append(spearmanr(*zip(*pairs)).statistic)
            coarse = "; ".join(f"n={n}: " + _median_reached(
                [simulate_coarse_then_full(r[f"short{k}"], r["full"], r["target"], n, k) for r in runs])
                for n in (10, 20, 40))
            asha = "; ".join(f"eta {eta}: " + _median_reached(
                [simulate_asha(r[f"short{k}"], r["full"], r["target"], eta, k) for r in runs]) for eta in ASHA_ETAS)
            oracle = _median_reached([oracle_screen(r["full"], r["target"], k) for r in runs])
            print(f"{k}-epoch annealed runs: Spearman of their val_loss with the full runs' median "
                  f"{statistics.median(rho):.2f} (range {min(rho):.2f}-{max(rho):.2f}); epochs to the target of "
                  f"n coarse trials then full retrains best first: {coarse}; ASHA: {asha}; a perfect {k}-epoch "
                  f"screen of the draws in order: {oracle}")
        kept = {"random": [], "qmc": []}
        for r in runs:
            good = [f["params"] for f in r["full"] if _first_reach(f["curve"], r["target"]) is not None]
            good = good or [max(r["full"], key=lambda f: max(f["curve"], default=0))["params"]]
            narrowed = {"random": _narrowed(space, r["short2"][:40], t["base"]),
                        "qmc": _narrowed(space, r["qmc2"], t["base"])}
            for name, ranges in narrowed.items():
                kept[name].append(sum(_inside_space(ranges, g) for g in good) / len(good))
            print(f"  seed {r['seed']}: configurations reaching the target (or the best) {_describe(space, good)}; "
                  f"narrowed after Sobol {_describe_space(narrowed['qmc'])}; after random "
                  f"{_describe_space(narrowed['random'])}")
        print("share of the configurations reaching the target kept inside the ranges narrowed after 40 x 2 "
              "epochs: " + ", ".join(f"{name} median {statistics.median(v):.2f} (per seed {[round(x, 2) for x in v]})"
                                     for name, v in kept.items()))


def _describe(space, configs) -> str:
    return "; ".join(", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in c.items())
                     for c in configs[:4])


def _describe_space(space) -> str:
    return ", ".join(p.describe() for p in space.values())


# ------------------------------------------------------------------ workers
WORKER_CONFIG = """
device = "cpu"
epochs = {epochs}
batch_size = 64
preprocess = ["standardize"]
babysit = "off"
[model]
type = "mlp"
widths = [128, 128]
[search]
stages = [{{trials = {trials}}}]
pruner = "none"
threads = 1
[search.space]
lr = {{low = 1e-3, high = 0.3}}
weight_decay = {{low = 1e-6, high = 1e-3}}
"""


def _run_cli(config: Path, study: Path, workers: int, *, kill: bool = False):
    cmd = [sys.executable, "-m", "trainwell", "search", str(config), "--dir", str(study),
           "--workers", str(workers), "--quiet"]
    started, cpu = time.perf_counter(), _children_cpu()
    _run_cli.started = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    if kill:
        killed = _a_worker_with_a_running_trial(study, proc)
        if killed is not None:
            os.kill(killed, signal.SIGKILL)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    _run_cli.ended = time.time()
    _reap_orphans()
    _run_cli.cpu = _children_cpu() - cpu
    return wall, proc.returncode, killed, err


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's waited-for descendants: the command, the
    workers it forked, and (``_subreaper``) a forkserver it left behind."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux's PR_SET_CHILD_SUBREAPER),
    so that a command's forkserver, which outlives the command unwaited, is waited for here and
    its CPU time counted."""
    try:
        import ctypes
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0    # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _reap_orphans(timeout: float = 10.0) -> None:
    """Wait for the orphans given to this process (a forkserver ends when its command does)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.02)


def _a_worker_with_a_running_trial(study: Path, proc, *, finished: int = 2, timeout: float = 120.0):
    """The pid of a forked worker (not the command's own process, worker 0) running a trial once
    ``finished`` trials have finished (so the kill lands mid-search), or None if the search ends first."""
    deadline = time.perf_counter() + timeout
    while proc.poll() is None and time.perf_counter() < deadline:
        time.sleep(0.05)
        if not (study / "study.journal").exists():
            continue
        try:
            trials = _trial_times(study)
        except (KeyError, ValueError):        # the study or its stage is not created yet
            continue
        running = [t for t in trials if t.state.name == "RUNNING" and "worker" in t.user_attrs
                   and t.user_attrs["worker"]["pid"] != proc.pid]
        if sum(t.state.name == "COMPLETE" for t in trials) >= finished and running:
            return int(running[0].user_attrs["worker"]["pid"])
    return None


PLAIN_FITS = """
import sys, time, torch, trainwell
torch.set_num_threads(1)
trainwell.fit({"type": "mlp", "widths": [128, 128]}, "digits", epochs=1, progress=False, device="cpu")
started = time.perf_counter()
for i in range(int(sys.argv[1])):
    trainwell.fit({"type": "mlp", "widths": [128, 128]}, "digits", epochs=int(sys.argv[2]), batch_size=64,
                  preprocess=["standardize"], babysit="off", lr=0.01, progress=False, device="cpu")
print(time.perf_counter() - started)
"""


def _plain_fits(processes: int, fits: int, epochs: int) -> float:
    """Fits per hour of ``processes`` processes side by side, each running ``fits`` fits (their
    import and warm-up apart)."""
    procs = [subprocess.Popen([sys.executable, "-c", PLAIN_FITS, str(fits), str(epochs)], stdout=subprocess.PIPE,
                              text=True) for _ in range(processes)]
    seconds = max(float(p.communicate()[0].split()[-1]) for p in procs)
    return processes * fits / seconds * 3600


def _trial_times(study: Path):
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(study / "study.journal")))
    s = optuna.load_study(study_name="trainwell/stage-0", storage=storage)
    return s.get_trials(deepcopy=False)


TIMELINE = ("start to the first trial", "the trials' span", "last trial to trials.csv",
            "trials.csv to report.html", "report.html to the exit")


def _timeline(study: Path, trials: list) -> list[float]:
    """The command's wall time in ``TIMELINE``'s parts, in seconds: from the journal's trial
    times and the mtimes of trials.csv and report.html (nothing in the command is timed)."""
    first = min(t.datetime_start for t in trials).timestamp()
    last = max(t.datetime_complete for t in trials).timestamp()
    csv, html = ((study / name).stat().st_mtime for name in ("trials.csv", "report.html"))
    marks = [_run_cli.started, first, last, csv, html, _run_cli.ended]
    return [b - a for a, b in zip(marks, marks[1:])]


def _worker_trials(study: Path) -> dict:
    """Each worker's trial durations in seconds, in the order it ran them (by pid)."""
    by_pid = {}
    for t in sorted(_trial_times(study), key=lambda t: t.datetime_start):
        if t.datetime_complete is not None:
            by_pid.setdefault(t.user_attrs["worker"]["pid"], []).append(
                (t.datetime_complete - t.datetime_start).total_seconds())
    return by_pid


def bench_workers(args):
    """``--repeats`` interleaved pairs of searches, 1 worker then 2, each a ``trainwell search``
    command: trials per hour by the whole command's wall time (start to exit: interpreter, imports,
    workers' start, report) and by the trials' own span (first start to last end); each worker's
    first trial against its later ones; then the ceiling (plain fits side by side) and a kill -9."""
    _subreaper()
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        config = Path(tmp) / "w.toml"
        config.write_text(WORKER_CONFIG.format(epochs=args.epochs, trials=args.trials))
        whole, span, first, later, outside, cpu, parts = ({1: [], 2: []} for _ in range(7))
        for repeat in range(args.repeats):
            for workers in (1, 2):
                study = Path(tmp) / f"w{workers}-{repeat}"
                wall, rc, _, err = _run_cli(config, study, workers)
                trials = _trial_times(study)
                seconds = (max(t.datetime_complete for t in trials)
                           - min(t.datetime_start for t in trials)).total_seconds()
                whole[workers].append(len(trials) / wall * 3600)
                cpu[workers].append(_run_cli.cpu)
                outside[workers].append(wall - seconds)
                span[workers].append(len(trials) / seconds * 3600)
                parts[workers].append(_timeline(study, trials))
                for durations in _worker_trials(study).values():
                    first[workers].append(durations[0])
                    later[workers] += durations[1:]
                print(f"repeat {repeat}, workers {workers} (load {os.getloadavg()[0]:.1f}): exit {rc}, {len(trials)} "
                      f"trials, command wall {wall:.1f} s ({cpu[workers][-1]:.1f} s CPU), trials' span "
                      f"{seconds:.1f} s; trials/hour {whole[workers][-1]:.0f} "
                      f"(whole) {span[workers][-1]:.0f} (span)", flush=True)
                if rc:
                    print(err.strip().splitlines()[-1] if err.strip() else "(no stderr)")
        med = statistics.median
        for name, rates in (("whole command's wall time", whole), ("trials' own span", span)):
            ratios = [b / a for a, b in zip(rates[1], rates[2])]
            print(f"trials/hour by the {name}, medians of {args.repeats}: 1 worker {med(rates[1]):.0f}, "
                  f"2 workers {med(rates[2]):.0f}: 2 / 1 = {med(rates[2]) / med(rates[1]):.2f}x "
                  f"(per repeat {min(ratios):.2f}-{max(ratios):.2f}x)")
        for workers in (1, 2):
            print(f"{workers} worker(s): a worker's first trial {med(first[workers]):.2f} s (median), "
                  f"its later trials {med(later[workers]):.3f} s (median); the command's time outside "
                  f"the trials' span {med(outside[workers]):.1f} s (median); CPU {med(cpu[workers]):.1f} s "
                  f"(median, the command and its waited-for workers)")
            print(f"{workers} worker(s), the command's wall time in parts (s, medians): "
                  + "; ".join(f"{name} {med(p[k] for p in parts[workers]):.2f}" for k, name in enumerate(TIMELINE)))
        _an_hour(outside, first, later, med)
        if args.no_extras:
            return
        plain = {n: _plain_fits(n, args.trials // 2, args.epochs) for n in (1, 2)}
        print(f"the ceiling on this machine now: plain fits of the same trial (no search), {args.trials // 2} "
              f"in each of 1 and 2 processes side by side: {plain[2] / plain[1]:.2f}x the fits per hour")
        study = Path(tmp) / "kill"
        wall, rc, killed, err = _run_cli(config, study, 2, kill=True)
        trials = _trial_times(study)
        states = [t.state.name for t in trials]
        retried = [t.user_attrs.get("retry_of") for t in trials if "retry_of" in t.user_attrs]
        counted = sum(s in ("COMPLETE", "PRUNED") for s in states)
        params = [tuple(sorted(t.params.items())) for t in trials if t.state.name == "COMPLETE"]
        print(f"kill -9 of worker pid {killed}: exit {rc}, states {dict((s, states.count(s)) for s in set(states))}, "
              f"finished {counted}/{args.trials}, retried {retried}, duplicated finished configurations: "
              f"{len(params) - len(set(params))}")


HOUR_S = 3600.0     # the issue's unit: trials per hour


def _an_hour(outside: dict, first: dict, later: dict, med) -> None:
    """The whole-command rates of 1 and 2 workers over a search of an hour, from this run's
    measured parts: F, a command's fixed time (outside its trials' span: start, report, exit; plus
    what a worker's first trial takes beyond a later one: the imports one worker makes there), and
    t, a worker's later trial; an hour's command runs w (HOUR_S - F) / t trials. Also the trials a
    command needs for 2 workers to reach 1.8x one (issue 13's goal): n with
    (F1 + n t1) / (F2 + n t2 / 2) = 1.8."""
    t1, t2 = med(later[1]), med(later[2])
    f1 = med(outside[1]) + max(0.0, med(first[1]) - t1)
    f2 = med(outside[2]) + max(0.0, med(first[2]) - t2)
    hour = {1: (HOUR_S - f1) / t1, 2: 2 * (HOUR_S - f2) / t2}
    need = (1.8 * f2 - f1) / (t1 - 0.9 * t2) if t1 > 0.9 * t2 else float("inf")
    print(f"projected to an hour's search (F {f1:.2f} / {f2:.2f} s fixed, t {t1:.3f} / {t2:.3f} s a "
          f"later trial, 1 / 2 workers): {hour[1]:.0f} and {hour[2]:.0f} trials, 2 / 1 = {hour[2] / hour[1]:.2f}x; "
          f"a whole command reaches 1.8x from ~{need:.0f} trials of this length")


# ------------------------------------------------------------------ overhead
def _per_trial(fn, trials: int, cpu: list) -> float:
    """Wall seconds per trial of ``fn()``; its CPU seconds per trial (this process: the search
    with one worker runs its trials here) are appended to ``cpu``."""
    started, cpu_started = time.perf_counter(), time.process_time()
    fn()
    cpu.append((time.process_time() - cpu_started) / trials)
    return (time.perf_counter() - started) / trials


def bench_overhead(args):
    """For each trial length (``--epochs``, with ``--trials`` trials a search), interleaved in each
    repeat: a bare fit from the source's name (what a user's own fit costs: it loads the data), a
    bare fit of the data loaded once (the training alone), a fit of that data whose run directory
    is written as a search trial writes it (checkpoint at the end, no fsync), a fit with trainwell
    fit's own run directory, and trainwell.search of the same fixed trial (its report.html timed
    apart: a cost per search, not per trial). Ends with one line per length: the search's cost per
    trial over the training alone, wall and CPU."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(1)
    trials = args.trials + [args.trials[-1]] * (len(args.epochs) - len(args.trials))
    summary, outside = [], []
    for epochs, n in zip(args.epochs, trials):
        times, cpu, trained = _overhead_runs(epochs, n, args.repeats, pruner=args.pruner)
        for name, values in (("wall", times), ("CPU", cpu)):
            summary.append((epochs, name, *_overhead_lines(name, values, epochs, n, args.repeats)))
        outside += [(epochs, *row) for row in _outside_epochs_lines(times, cpu, trained, n)]
    print("summary: the search's own cost per trial (run directory + bookkeeping + the per-search files spread "
          "over its trials; report.html apart) over the training alone:")
    for epochs, name, train, per_trial in summary:
        print(f"  {epochs:3d} epochs, {name:4s}: training {train * 1000:7.1f} ms, search per trial "
              f"{per_trial * 1000:7.1f} ms: {(per_trial - train) / train:+.1%}")
    print("the same with each fit's own training steps subtracted on both sides (their noise cancels):")
    for epochs, name, train, cost in outside:
        print(f"  {epochs:3d} epochs, {name:4s}: training {train * 1000:7.1f} ms, the search's own cost per trial "
              f"{cost * 1000:6.2f} ms: {cost / train:+.1%}")


def _overhead_runs(epochs: int, n: int, repeats: int, *, pruner: str = "none"):
    import dataclasses

    from trainwell.data.sources import load
    from trainwell.train.rundir import unsynced
    base = dict(device="cpu", epochs=epochs, batch_size=64, preprocess=["standardize"], progress=False)
    model = {"type": "mlp", "widths": [128]}
    fixed = {"lr": {"choices": [0.05]}}
    splits = load("digits")
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        trainwell.fit(model, "digits", **base)         # warm-up: imports, the data set's first load
        names = ("bare", "bare_loaded", "trial_dir", "fit_dir", "search", "report")
        times, cpu = {k: [] for k in names}, {k: [] for k in names}
        clock = EpochClock()             # every fit's epochs, wall and CPU: (wall, cpu) a trial, per repeat
        trained = {k: ([], []) for k in ("bare_loaded", "trial_dir", "search")}
        base = {**base, "callbacks": [clock]}

        def clocked(name, fn):
            clock.reset()
            fn()
            trained[name][0].append(clock.wall / n)
            trained[name][1].append(clock.cpu / n)

        def trial_dirs(repeat):
            with unsynced():
                for i in range(n):
                    trainwell.fit(model, dataclasses.replace(splits), run_dir=f"{tmp}/t{repeat}-{i}", report=False,
                                  checkpoint_at="end", **base)

        for repeat in range(repeats):
            times["bare"].append(_per_trial(lambda: [trainwell.fit(model, "digits", **base) for _ in range(n)],
                                            n, cpu["bare"]))
            times["bare_loaded"].append(_per_trial(lambda: clocked("bare_loaded", lambda: [
                trainwell.fit(model, dataclasses.replace(splits), **base) for _ in range(n)]), n, cpu["bare_loaded"]))
            times["trial_dir"].append(_per_trial(lambda: clocked("trial_dir", lambda: trial_dirs(repeat)),
                                                 n, cpu["trial_dir"]))
            times["fit_dir"].append(_per_trial(lambda: [trainwell.fit(model, "digits", run_dir=f"{tmp}/r{repeat}-{i}",
                                                                      report=False, **base) for i in range(n)],
                                               n, cpu["fit_dir"]))
            study = Path(tmp) / f"s{repeat}"
            times["search"].append(_per_trial(lambda: clocked("search", lambda: trainwell.search(
                model, "digits", space=fixed, search={"dir": str(study), "trials": n, "pruner": pruner,
                                                      "stages": [{"trials": n}]}, **base)),
                n, cpu["search"]))
            # as the search draws it: from the studies it has read (a tree before search10: from the journal)
            drawn = {"loaded": load_studies(study)} if "loaded" in signature(write_study_report).parameters else {}
            times["report"].append(_per_trial(lambda: write_study_report(study, **drawn), 1, cpu["report"]))
    return times, cpu, trained


class EpochClock(Callback):
    """Adds up the wall and CPU seconds of every epoch's training steps (from ``on_epoch_start`` to
    ``on_validation_start``) of the fits it is given to, a search's trials included."""

    def __init__(self):
        self.reset()

    def __deepcopy__(self, memo):
        return self          # one clock for every trial: a search deep-copies its options a trial

    def reset(self):
        self.wall = self.cpu = 0.0
        self.started = (0.0, 0.0)

    def on_epoch_start(self, state):
        self.started = (time.perf_counter(), time.process_time())

    def on_validation_start(self, state):
        self.wall += time.perf_counter() - self.started[0]
        self.cpu += time.process_time() - self.started[1]


def _outside_epochs_lines(times: dict, cpu: dict, trained: dict, n: int):
    """The same costs with each fit's own training steps subtracted (``EpochClock``): what is left
    is the time outside them (the fit's set-up, validation, its files, the study), whose noise is
    small, so the difference of a search's trial and a bare fit is the framework's cost without the
    steps' noise (a 60-epoch trial's steps vary by more than that cost). Returns, for wall and CPU,
    (name, the training alone, the search's own cost per trial) in s."""
    rows = []
    for which, (name, measured) in enumerate((("wall", times), ("CPU", cpu))):
        rest = {k: statistics.median(t - e for t, e in zip(measured[k], trained[k][which])) for k in trained}
        search = rest["search"] - statistics.median(measured["report"]) / n
        train = statistics.median(measured["bare_loaded"])
        print(f"  {name} outside each fit's training steps (ms a trial): bare {rest['bare_loaded'] * 1000:.2f}, "
              f"with a trial's run directory {rest['trial_dir'] * 1000:.2f}, the search's trial without the report "
              f"{search * 1000:.2f}: the run directory {(rest['trial_dir'] - rest['bare_loaded']) * 1000:+.2f} ms, "
              f"the search {(search - rest['bare_loaded']) * 1000:+.2f} ms = "
              f"{(search - rest['bare_loaded']) / train:+.1%} of the training alone", flush=True)
        rows.append((name, train, search - rest["bare_loaded"]))
    return rows


def _overhead_lines(name: str, times: dict, epochs: int, n: int, repeats: int):
    """Prints the table of one trial length; (the training alone, the search per trial) in s."""
    m = {k: statistics.median(v) for k, v in times.items()}
    # the search's time includes its report (write_study_report at its end): drawn once per search
    per_trial = m["search"] - m["report"] / n
    spread = {k: f"{min(v) * 1000:.1f}-{max(v) * 1000:.1f}" for k, v in times.items()}
    print(f"{name} time per trial, medians of {repeats} interleaved repeats of {n} trials of {epochs} "
          f"epochs (ms; spread):")
    for k, label in (("bare", "bare trainwell.fit from the source's name (loads the data), no run directory"),
                     ("bare_loaded", "bare trainwell.fit of the data loaded once: the training alone"),
                     ("trial_dir", "the same with a trial's run directory (checkpoint at the end, no fsync)"),
                     ("fit_dir", "fit from the name with trainwell fit's run directory (checkpoint and fsyncs "
                                 "every epoch)"),
                     ("search", "trainwell.search, whole (study, trial run dirs, trials.csv, best.toml, report)")):
        print(f"  {label}: {m[k] * 1000:.1f} ({spread[k]})")
    print(f"  report.html, once per search: {m['report'] * 1000:.0f} ms")
    b, t = m["bare_loaded"], m["trial_dir"]
    print(f"  search per trial without the report: {per_trial * 1000:.1f} ms. Over the training alone: "
          f"{(per_trial - b) / b:+.1%} (the run directory {(t - b) / b:+.1%}, the study's bookkeeping "
          f"{(per_trial - t) / b:+.1%}); with the report spread over the {n} trials {(m['search'] - b) / b:+.1%}. "
          f"Over a user's bare fit from the name: {(per_trial - m['bare']) / m['bare']:+.1%}; trainwell fit's own "
          f"run directory {(m['fit_dir'] - m['bare']) / m['bare']:+.1%}", flush=True)
    return b, per_trial


def bench_rundir(args):
    """See the module doc: CPU ms a trial, medians over the repeats with their spread."""
    import dataclasses

    from trainwell.data.sources import load
    from trainwell.train.checkpoint import save_checkpoint
    from trainwell.train.rundir import held_appends, unsynced
    torch.set_num_threads(1)
    base = dict(device="cpu", epochs=args.epochs, batch_size=64, preprocess=["standardize"], progress=False)
    model, splits = {"type": "mlp", "widths": [128]}, load("digits")
    states = []

    class KeepState(Callback):          # the state the end checkpoint saves, for the checkpoint alone
        def on_fit_end(self, state):
            states.append({"model": state.model.state_dict(), "optimizer": state.optimizer.state_dict(),
                           "history": state.history, "rng": {"torch": torch.get_rng_state()}})

    trainwell.fit(model, dataclasses.replace(splits), callbacks=[KeepState()], **base)     # warm-up
    cpu = {"bare": [], "run_dir": [], "end_checkpoint": []}
    with tempfile.TemporaryDirectory(prefix="bench-rundir-") as tmp, unsynced():
        count = 0
        for _ in range(args.repeats):
            for name in ("bare", "run_dir"):
                started = time.process_time()
                for _ in range(args.trials):
                    count += 1
                    where = dict(run_dir=f"{tmp}/t{count}", report=False, checkpoint_at="end") if name == "run_dir" else {}
                    with held_appends():
                        trainwell.fit(model, dataclasses.replace(splits), **where, **base)
                cpu[name].append((time.process_time() - started) / args.trials)
            started = time.process_time()
            for _ in range(args.trials):
                count += 1
                save_checkpoint(f"{tmp}/c{count}/checkpoints", states[0], name="ckpt-0000000001")
            cpu["end_checkpoint"].append((time.process_time() - started) / args.trials)
    paired = [d - b for b, d in zip(cpu["bare"], cpu["run_dir"])]
    for name, values in (*cpu.items(), ("the run directory (paired)", paired)):
        print(f"  {name}: {statistics.median(values) * 1000:.3f} ms a trial "
              f"({min(values) * 1000:.3f}-{max(values) * 1000:.3f})", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("epochs")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    p.add_argument("--strategies", nargs="+", default=list(RUN), choices=STRATEGIES,
                   help="random always runs: it sets the target")
    p.add_argument("--variant", action="append", default=[], metavar="NAME={...}",
                   help="also run trainwell.search with this [search] table (JSON), saved as NAME")
    p.add_argument("--out", help="save each task-seed's counts as OUT/TASK-SEED.json (a saved one keeps "
                   "its target and random search's counts; the strategies asked for are run again)")
    p.add_argument("--table", metavar="DIR", help="print the table of the counts saved in DIR")
    p.add_argument("--seed-offset", type=int, default=0,
                   help="the strategies other than random run with search seed + this (the target's random "
                   "search keeps the seed): with 0 a random-sampling strategy repeats the target's first trials")
    p.set_defaults(func=bench_epochs)
    p = sub.add_parser("rank")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    p.add_argument("--seed-offset", type=int, default=10000)
    p.add_argument("--targets", help="the epochs mode's saved rows (their targets)")
    p.add_argument("--out")
    p.add_argument("--table", metavar="DIR", help="print the analysis of the rows saved in DIR")
    p.set_defaults(func=bench_rank)
    p = sub.add_parser("workers")
    p.add_argument("--trials", type=int, default=16)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-extras", action="store_true", help="only the searches: no ceiling, no kill -9")
    p.set_defaults(func=bench_workers)
    p = sub.add_parser("overhead")
    p.add_argument("--epochs", type=int, nargs="+", default=[3, 20, 60], help="trial lengths, each measured")
    p.add_argument("--trials", type=int, nargs="+", default=[10, 5, 3],
                   help="trials a search, one per --epochs (the last repeats)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--pruner", default="none", help="the search's pruner (median: a report an epoch)")
    p.set_defaults(func=bench_overhead)
    p = sub.add_parser("rundir")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--trials", type=int, default=60)
    p.add_argument("--repeats", type=int, default=5)
    p.set_defaults(func=bench_rundir)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
