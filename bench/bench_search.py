"""Hyperparameter search goals (issue 13): epochs to a target, parallel workers, bookkeeping cost.

``epochs``: on a fixed task (an MLP on digits tuning lr, weight decay, width and dropout; and an
MLP on 3-arm spirals), the training epochs each strategy needs to first reach the best validation
accuracy that 60 plain random-search trials of the full epoch budget reach (the target is set
per search seed by that random search itself):

- ``random``: 60 random trials of the full budget (trainwell.search, pruner none; its own
  epochs to its best are counted the same way);
- ``grid``: a 3-point grid per numeric range (the widths' 5 choices), 60 trials in the grid
  sampler's order, full budget;
- ``optuna``: Optuna's TPESampler + HyperbandPruner used directly (plain Optuna code, no
  trainwell.search), 60 trials, the same space and budget;
- ``trainwell``: trainwell.search's defaults (random sampler, median pruner, the 3x-first-loss
  rule) with the notes' coarse to fine: ``stages = [{trials = 40, epochs = 2}, {trials = 15}]``.

A strategy's epochs are summed over its trials in the order they ran (pruned trials count the
epochs they trained) up to the first epoch whose val_acc reaches the target; "not reached" when
none does. Medians over search seeds.

``workers``: one search of N short trials with 1 worker, then with 2 (one torch thread each):
trials per hour from the trials' own start and end times (the spawn start-up of the workers is
reported apart); then a 2-worker search whose worker is killed with SIGKILL mid-trial: the stage
must end with exactly N counted trials, the dead trial failed and retried once, none duplicated.

``overhead``: the same short trial (fixed values) run by trainwell.search and by a bare
``trainwell.fit`` without a run directory: the framework's own cost per trial (study bookkeeping,
the run directory, the trial's files) as a share of the bare trial's training time.

Run: ``python bench/bench_search.py epochs --seeds 5`` (about 15 minutes on a loaded 2-core
machine), ``python bench/bench_search.py workers`` (2 minutes; rerun on a quiet machine),
``python bench/bench_search.py overhead`` (1 minute).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import torch

import trainwell
from trainwell.hpsearch.report import write_study_report
from trainwell.hpsearch.space import apply, parse_space, suggest
from trainwell.train.callbacks import Callback

FULL_EPOCHS = 10
TRIALS = 60
TASKS = {
    "digits": dict(data="digits", base=dict(preprocess=["standardize"], batch_size=128,
                                             model={"type": "mlp", "widths": [64]})),
    "spirals": dict(data="spirals", base=dict(batch_size=64, model={"type": "mlp", "widths": [64]},
                                              data={"source": "spirals", "samples_per_class": 400})),
}
SPACE = {"lr": {"low": 1e-4, "high": 1.0}, "weight_decay": {"low": 1e-6, "high": 1e-2},
         "model.widths": {"choices": [[16], [32], [64], [128], [256]]},
         "model.dropout": {"low": 0.0, "high": 0.6}}
COMMON = dict(device="cpu", babysit="watch", progress=False)


def _epoch_curves(result) -> list[list[float]]:
    """Each trial's per-epoch val_acc, in the order the trials ran (folds: none here)."""
    curves = []
    for row in sorted(result.trials, key=lambda r: (r["stage"], r["trial"])):
        path = Path(row["run_dir"]) / "metrics.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        curves.append([json.loads(line)["val_acc"] for line in lines])
    return curves


def epochs_to(curves: list[list[float]], target: float) -> int | None:
    total = 0
    for curve in curves:
        for acc in curve:
            total += 1
            if acc is not None and acc >= target - 1e-9:
                return total
    return None


def _search(task, seed, tmp, name, table):
    t = TASKS[task]
    base = {k: v for k, v in t["base"].items() if k != "model"}
    return trainwell.search(t["base"]["model"], t["data"] if "data" not in base else None, space=SPACE,
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
    space = parse_space(SPACE, t["base"])
    curves = []

    def objective(trial):
        options = apply({**COMMON, **t["base"], "epochs": FULL_EPOCHS}, suggest(trial, space))
        curve = []
        curves.append(curve)
        model = options.pop("model")
        run = trainwell.fit(model, t["data"] if "data" not in t["base"] else None,
                            callbacks=[Report(trial, curve)], **options)
        if run.stopped.message == "pruned":
            raise optuna.TrialPruned()
        return run.results["val"]["acc"]

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=FULL_EPOCHS))
    study.optimize(objective, n_trials=TRIALS)
    return curves


def bench_epochs(args):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(1)
    rows = {}
    for task in args.tasks:
        for seed in range(args.seeds):
            with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
                started = time.perf_counter()
                random_curves = _epoch_curves(_search(task, seed, tmp, "random",
                                                      {"trials": TRIALS, "pruner": "none"}))
                target = max(a for c in random_curves for a in c if a is not None)
                grid = _epoch_curves(_search(task, seed, tmp, "grid", {"trials": TRIALS, "pruner": "none",
                                                                       "sampler": "grid", "grid_points": 3}))
                tw = _epoch_curves(_search(task, seed, tmp, "tw", {"stages": [{"trials": 40, "epochs": 2},
                                                                             {"trials": 15}]}))
                direct = optuna_direct(task, seed)
                for name, curves in (("random", random_curves), ("grid", grid), ("optuna_tpe_hyperband", direct),
                                     ("trainwell_default", tw)):
                    rows.setdefault((task, name), []).append(
                        {"to_target": epochs_to(curves, target), "total": sum(len(c) for c in curves),
                         "best": max((a for c in curves for a in c if a is not None), default=None),
                         "target": target})
                print(f"{task} seed {seed}: target {target:.4f}, {time.perf_counter() - started:.0f} s",
                      file=sys.stderr, flush=True)
    print(f"| task | strategy | epochs to target (median; per seed) | reached | epochs run (median) | "
          f"best val_acc (median) |\n| --- | --- | --- | --- | --- | --- |")
    for (task, name), runs in rows.items():
        reached = [r["to_target"] for r in runs if r["to_target"] is not None]
        shown = [r["to_target"] if r["to_target"] is not None else "—" for r in runs]
        median = statistics.median(r["to_target"] if r["to_target"] is not None else float("inf") for r in runs)
        print(f"| {task} | {name} | {median} ({', '.join(map(str, shown))}) | {len(reached)}/{len(runs)} | "
              f"{statistics.median(r['total'] for r in runs)} | {statistics.median(r['best'] for r in runs):.4f} |")


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
trials = {trials}
pruner = "none"
threads = 1
[search.space]
lr = {{low = 1e-3, high = 0.3}}
weight_decay = {{low = 1e-6, high = 1e-3}}
"""


def _run_cli(config: Path, study: Path, workers: int, *, kill_after: float | None = None):
    cmd = [sys.executable, "-m", "trainwell", "search", str(config), "--dir", str(study),
           "--workers", str(workers), "--quiet"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    if kill_after is not None:
        time.sleep(kill_after)
        killed = _a_worker_with_a_running_trial(study)
        if killed is not None:
            os.kill(killed, signal.SIGKILL)
    out, err = proc.communicate()
    return time.perf_counter() - started, proc.returncode, killed, err


def _a_worker_with_a_running_trial(study: Path) -> int | None:
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(study / "study.journal")))
    for _ in range(100):
        s = optuna.load_study(study_name="trainwell/stage-0", storage=storage)
        running = s.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        if running and "worker" in running[0].user_attrs:
            return int(running[0].user_attrs["worker"]["pid"])
        time.sleep(0.2)
    return None


def _trial_times(study: Path):
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(study / "study.journal")))
    s = optuna.load_study(study_name="trainwell/stage-0", storage=storage)
    return s.get_trials(deepcopy=False)


def bench_workers(args):
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        config = Path(tmp) / "w.toml"
        config.write_text(WORKER_CONFIG.format(epochs=args.epochs, trials=args.trials))
        rates = {}
        for workers in (1, 2):
            wall, rc, _, err = _run_cli(config, Path(tmp) / f"w{workers}", workers)
            trials = _trial_times(Path(tmp) / f"w{workers}")
            first = min(t.datetime_start for t in trials)
            last = max(t.datetime_complete for t in trials)
            span = (last - first).total_seconds()
            rates[workers] = len(trials) / span * 3600
            print(f"workers {workers}: exit {rc}, {len(trials)} trials, wall {wall:.1f} s, trials span "
                  f"{span:.1f} s (start-up {wall - span:.1f} s), {rates[workers]:.0f} trials/hour")
        print(f"2 workers / 1 worker, trials per hour: {rates[2] / rates[1]:.2f}x")
        study = Path(tmp) / "kill"
        wall, rc, killed, err = _run_cli(config, study, 2, kill_after=args.kill_after)
        trials = _trial_times(study)
        states = [t.state.name for t in trials]
        retried = [t.user_attrs.get("retry_of") for t in trials if "retry_of" in t.user_attrs]
        counted = sum(s in ("COMPLETE", "PRUNED") for s in states)
        params = [tuple(sorted(t.params.items())) for t in trials if t.state.name == "COMPLETE"]
        print(f"kill -9 of worker pid {killed}: exit {rc}, states {dict((s, states.count(s)) for s in set(states))}, "
              f"finished {counted}/{args.trials}, retried {retried}, duplicated finished configurations: "
              f"{len(params) - len(set(params))}")


# ------------------------------------------------------------------ overhead
def bench_overhead(args):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(1)
    base = dict(device="cpu", epochs=args.epochs, batch_size=64, preprocess=["standardize"], progress=False)
    model = {"type": "mlp", "widths": [128]}
    fixed = {"lr": {"choices": [0.05]}}
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        trainwell.fit(model, "digits", **base)         # warm-up: imports, the data set's first load
        bare, run_dirs, framed, reports = [], [], [], []
        for repeat in range(args.repeats):
            started = time.perf_counter()
            for _ in range(args.trials):
                trainwell.fit(model, "digits", **base)
            bare.append((time.perf_counter() - started) / args.trials)
            started = time.perf_counter()
            for i in range(args.trials):
                trainwell.fit(model, "digits", run_dir=str(Path(tmp) / f"r{repeat}-{i}"), report=False, **base)
            run_dirs.append((time.perf_counter() - started) / args.trials)
            started = time.perf_counter()
            trainwell.search(model, "digits", space=fixed,
                             search={"dir": str(Path(tmp) / f"s{repeat}"), "trials": args.trials, "pruner": "none"},
                             **base)
            framed.append((time.perf_counter() - started) / args.trials)
            started = time.perf_counter()       # the report again: a cost per search, not per trial
            write_study_report(Path(tmp) / f"s{repeat}")
            reports.append(time.perf_counter() - started)
    b, f, r = statistics.median(bare), statistics.median(framed), statistics.median(run_dirs)
    rep = statistics.median(reports)
    per_trial = f - rep / args.trials
    print(f"report.html (once per search, after the warm import): {rep * 1000:.0f} ms; without it the "
          f"search costs {per_trial * 1000:.0f} ms per trial: {(per_trial - r) / r:.1%} over a fit with a "
          f"run directory, {(per_trial - b) / b:.1%} over a bare fit")
    print(f"fit with a run directory (no report): {r * 1000:.0f} ms per trial ({(r - b) / b:.1%} over bare; "
          f"spread {min(run_dirs) * 1000:.0f}-{max(run_dirs) * 1000:.0f} ms); the search's own share over "
          f"that: {(f - r) / b:.1%} of the bare trial")
    print(f"bare fit (no run dir): {b * 1000:.0f} ms per trial; search (study, run dir, trials.csv, best.toml, "
          f"report.html at the end): {f * 1000:.0f} ms per trial; overhead {(f - b) / b:.1%} "
          f"(medians of {args.repeats} repeats of {args.trials} trials of {args.epochs} epochs; "
          f"spread bare {min(bare) * 1000:.0f}-{max(bare) * 1000:.0f} ms, search {min(framed) * 1000:.0f}-"
          f"{max(framed) * 1000:.0f} ms)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("epochs")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    p.set_defaults(func=bench_epochs)
    p = sub.add_parser("workers")
    p.add_argument("--trials", type=int, default=16)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--kill-after", type=float, default=12.0)
    p.set_defaults(func=bench_workers)
    p = sub.add_parser("overhead")
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3)
    p.set_defaults(func=bench_overhead)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
