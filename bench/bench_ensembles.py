"""Ensembles and weight averaging at equal training budget (issue 14), over seeds.

Tasks: digits with an MLP (256, 256) and digits as 1x8x8 images with the batch-normed CNN ("auto").
Every method gets the same epochs as the single model (``--epochs``), except the 5-member average,
which trains 5 models (5x the budget, as an ensemble of independent runs must):

    single | ema (defaults) | swa (defaults) | snapshot (5) | fge (5) | average (5 seeds)

Each method: test accuracy, NLL and ECE (15 bins) as mean ± std over ``--seeds`` seeds. Nothing is
tuned on the test split; the options are the defaults of trainwell (digits recipe) and of each method.

``--overhead``: EMA's share of the step time (the trainer's per-epoch training seconds, with and
without ``average = {method = "ema"}``, medians of interleaved repeats).

``--torchensemble`` (run with the benchmark venv, /work/main/.venv-bench/bin/python, and
PYTHONPATH at the repository): torchensemble's Voting, Bagging, SnapshotEnsemble and
FastGeometric classifiers on the same MLP, data, optimizer and budget, against trainwell's
average, bagging, snapshot and fge: accuracy, NLL, ECE and wall time.

``--distill``: a student MLP 32 alone and distilled from a 5-member average (T = 4, α = 0.9).

Run: ``python bench/bench_ensembles.py [--task mlp|cnn] [--seeds 5] [--epochs 20]`` (a markdown
table on stdout; results also in --out as JSON).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

import torch

import trainwell
from trainwell.data.sources import load
from trainwell.train.calibration import calibration

TASKS = {
    "mlp": {"type": "mlp", "widths": [256, 256]},
    "cnn": {"type": "cnn", "image_shape": [1, 8, 8], "norm": "batch"},     # what "auto" builds for digits
}
BASE = dict(progress=False, report=False, babysit="off", device="cpu")
MEMBERS = 5


def _metrics(predict_proba, test) -> dict:
    X, y = test
    cal = calibration(predict_proba(X), y)
    return {k: cal[k] for k in ("acc", "nll", "ece")}


def run_method(method: str, model: dict, seed: int, epochs: int, schedule: str = "cosine") -> tuple[dict, float]:
    splits = load("digits")
    options = dict(BASE, epochs=epochs, seed=seed, schedule=schedule)
    started = time.perf_counter()
    if method in ("single", "ema", "swa"):
        average = {"single": None, "ema": {"method": "ema"}, "swa": {"method": "swa"}}[method]
        run = trainwell.fit(model, splits, average=average, **options)
        result = _metrics(lambda X: run.predict(X, output="proba"), splits.test)
    else:
        kind = {"average5": "average"}.get(method, method)
        ens = trainwell.ensemble(model, splits, method=kind, members=MEMBERS, **options)
        result = _metrics(lambda X: ens.predict(X, output="proba"), splits.test)
    return result, time.perf_counter() - started


def _summary(values) -> str:
    mean = statistics.mean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.4f} ± {std:.4f}"


def compare(task: str, seeds: int, epochs: int, methods, schedule: str = "cosine") -> dict:
    model = TASKS[task]
    results = {m: [] for m in methods}
    for seed in range(seeds):
        for m in methods:
            r, seconds = run_method(m, model, seed, epochs, schedule)
            results[m].append({**r, "seconds": seconds})
            print(f"  {task} seed {seed} {m}: {r} ({seconds:.1f} s)", flush=True)
    print(f"\n### digits, {task}, {epochs} epochs, schedule {schedule}, {seeds} seeds (test split, n = 500)\n")
    print("| method | accuracy | NLL | ECE | NLL vs single | seconds (median) |")
    print("| --- | --- | --- | --- | --- | --- |")
    single_nll = statistics.mean(r["nll"] for r in results["single"])
    for m, rows in results.items():
        nll = statistics.mean(r["nll"] for r in rows)
        print(f"| {m} | {_summary([r['acc'] for r in rows])} | {_summary([r['nll'] for r in rows])} | "
              f"{_summary([r['ece'] for r in rows])} | {100 * (nll / single_nll - 1):+.1f} % | "
              f"{statistics.median(r['seconds'] for r in rows):.1f} |")
    return results


def ema_overhead(task: str, epochs: int, repeats: int) -> dict:
    """Training seconds per epoch (the trainer's own clock, steps and hooks only) with and without
    EMA, interleaved; the ratio of the medians."""
    splits = load("digits")
    times = {"off": [], "ema": []}
    for r in range(repeats):
        for name, average in (("off", None), ("ema", {"method": "ema"})):
            run = trainwell.fit(TASKS[task], splits, average=average, **dict(BASE, epochs=epochs, seed=r))
            times[name].append(statistics.median(h["seconds"] for h in run.history))
    off, ema = statistics.median(times["off"]), statistics.median(times["ema"])
    print(f"\nEMA overhead, {task}: {ema / off - 1:+.1%} of the step time "
          f"(median epoch {off * 1e3:.1f} ms without, {ema * 1e3:.1f} ms with; {repeats} interleaved repeats)")
    return {"off": times["off"], "ema": times["ema"], "ratio": ema / off}


def torchensemble_side_by_side(seeds: int, epochs: int) -> dict:
    """torchensemble and trainwell on the same MLP, data, optimizer, schedule and budget."""
    from torch.utils.data import DataLoader, TensorDataset     # only this comparison needs them
    from torchensemble import (BaggingClassifier, FastGeometricClassifier, SnapshotEnsembleClassifier,
                               VotingClassifier)
    from torchensemble.utils.logging import set_logger

    from trainwell.nn.models import build_model

    os.chdir(tempfile.mkdtemp(prefix="bench-ensembles-"))    # torchensemble logs into ./logs
    set_logger("bench_ensembles", use_tb_logger=False)
    splits = load("digits")
    lr, momentum, wd, batch = 0.05, 0.9, 5e-4, 64          # trainwell's digits recipe

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = build_model(dict(TASKS["mlp"]), (64,), 10)

        def forward(self, x):
            return self.net(x)

    rows = {}
    for seed in range(seeds):
        torch.manual_seed(seed)
        loader = DataLoader(TensorDataset(*splits.train), batch_size=batch, shuffle=True)
        X, y = splits.test
        for name, cls in (("average", VotingClassifier), ("bagging", BaggingClassifier),
                          ("snapshot", SnapshotEnsembleClassifier), ("fge", FastGeometricClassifier)):
            est = cls(estimator=Net, n_estimators=MEMBERS, cuda=False)
            est.set_optimizer("SGD", lr=lr, momentum=momentum, weight_decay=wd, nesterov=True)
            started = time.perf_counter()
            if name in ("average", "bagging"):
                est.set_scheduler("CosineAnnealingLR", T_max=epochs)
                est.fit(loader, epochs=epochs, save_model=False)
            elif name == "snapshot":
                est.fit(loader, epochs=epochs, save_model=False)
            else:               # pre-train half the budget, then 5 cycles in the other half
                est.fit(loader, cycle=max(epochs // (2 * MEMBERS), 2), lr_1=0.2 * lr, lr_2=0.01 * lr,
                        epochs=epochs // 2, save_model=False)
            seconds = time.perf_counter() - started
            with torch.no_grad():
                te = _metrics(lambda Z: est.predict(Z), (X, y))
            tw, tw_seconds = run_method(name if name != "average" else "average5", TASKS["mlp"], seed, epochs)
            rows.setdefault(name, []).append({"torchensemble": {**te, "seconds": seconds},
                                              "trainwell": {**tw, "seconds": tw_seconds}})
            print(f"  seed {seed} {name}: torchensemble {te} {seconds:.1f} s | trainwell {tw} "
                  f"{tw_seconds:.1f} s", flush=True)
    print(f"\n### torchensemble side by side (digits MLP, {epochs} epochs, {MEMBERS} members, {seeds} seeds)\n")
    print("| method | torchensemble acc | trainwell acc | torchensemble NLL | trainwell NLL | "
          "torchensemble s | trainwell s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, r in rows.items():
        te, tw = [x["torchensemble"] for x in r], [x["trainwell"] for x in r]
        print(f"| {name} | {_summary([x['acc'] for x in te])} | {_summary([x['acc'] for x in tw])} | "
              f"{_summary([x['nll'] for x in te])} | {_summary([x['nll'] for x in tw])} | "
              f"{statistics.median(x['seconds'] for x in te):.1f} | "
              f"{statistics.median(x['seconds'] for x in tw):.1f} |")
    return rows


def distillation(seeds: int, epochs: int) -> dict:
    """A small student (MLP 32) trained on the labels alone and distilled from a 5-member average
    of MLP 256-256 (trainwell's distillation defaults, T = 4, α = 0.9), same epochs."""
    splits = load("digits")
    rows = {"teacher": [], "student alone": [], "student distilled": []}
    for seed in range(seeds):
        options = dict(BASE, epochs=epochs, seed=seed)
        teacher = trainwell.ensemble(TASKS["mlp"], splits, method="average", members=MEMBERS, **options)
        alone = trainwell.fit({"type": "mlp", "widths": [32]}, splits, **options)
        distilled = trainwell.distill({"type": "mlp", "widths": [32]}, teacher, splits, **options)
        for name, model in (("teacher", teacher), ("student alone", alone), ("student distilled", distilled)):
            rows[name].append(_metrics(lambda X, m=model: m.predict(X, output="proba"), splits.test))
        print(f"  seed {seed}: " + ", ".join(f"{k} {v[-1]['acc']:.4f}" for k, v in rows.items()), flush=True)
    print(f"\n### distillation (digits, {epochs} epochs, {seeds} seeds)\n")
    print("| model | accuracy | NLL | ECE |\n| --- | --- | --- | --- |")
    for name, r in rows.items():
        print(f"| {name} | {_summary([x['acc'] for x in r])} | {_summary([x['nll'] for x in r])} | "
              f"{_summary([x['ece'] for x in r])} |")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=tuple(TASKS), default="mlp")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--methods", default="single,ema,swa,snapshot,fge,average5")
    parser.add_argument("--schedule", default="cosine", help="the runs' lr schedule (snapshot and FGE "
                        "bring their own); default: trainwell's cosine")
    parser.add_argument("--overhead", action="store_true", help="measure EMA's step-time overhead")
    parser.add_argument("--torchensemble", action="store_true", help="the torchensemble comparison")
    parser.add_argument("--distill", action="store_true", help="a small student distilled from an ensemble")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.overhead:
        out = ema_overhead(args.task, args.epochs, repeats=max(args.seeds, 3))
    elif args.distill:
        out = distillation(args.seeds, args.epochs)
    elif args.torchensemble:
        out = torchensemble_side_by_side(args.seeds, args.epochs)
    else:
        out = compare(args.task, args.seeds, args.epochs, args.methods.split(","), args.schedule)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
