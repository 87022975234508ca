"""Where the doctor's time goes: wall seconds next to priced (nominal) seconds, part by part.

The doctor's budget (trainwell/babysit/budget.py) prices counted work; the wall clock is what the
user waits. This script runs ``trainwell.doctor`` on chosen setups with every part wrapped: the
pre-flight's cheap checks, the gradient check, the overfit run, the labels check, the
regularization check, the experiment's training steps and its evaluations, the run options' checks
(schedule, batch size, augmentation: run_options.py, each with its own experiment) and the probe.
Each part's wall seconds are its own (a nested part's are subtracted from its caller's) and each
budget charge is credited to the part that made it. The product is not changed: the
wrappers are installed for the run and removed after it.

Run: ``python bench/doctor_time.py --gen 0 5 10 --user textures_fullbatch --fullbatch`` (one line
per setup, then the per-part table; ``--json`` writes the rows); ``--set 6 --user heartbeats_milestones``
for another user set's pairs; ``--wall-s 60`` with the doctor's time backstop.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import types
from collections import defaultdict
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from trainwell.babysit import budget as budget_mod  # noqa: E402
from trainwell.babysit import doctor as doctor_mod  # noqa: E402
from trainwell.babysit import interventions, preflight, run_options  # noqa: E402
from trainwell.babysit.budget import Budget  # noqa: E402
from trainwell.train import loop  # noqa: E402

OPTION_CHECKS = ("schedule check", "batch check", "augment check")   # run_options.py's, each its own experiment
PARTS = ("setup", "preflight: cheap checks", "preflight: gradient check", "preflight: overfit",
         "preflight: labels learnable", "preflight: regularization", "experiment: steps",
         "experiment: evaluations and copies", *OPTION_CHECKS, "probe")


class Ledger:
    """Exclusive wall seconds and priced seconds per part, by a stack of the parts running."""

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.wall, self.priced, self.stack, self.started = defaultdict(float), defaultdict(float), [], []

    def enter(self, part):
        now = self.clock()
        if self.stack:
            self.wall[self.stack[-1]] += now - self.started[-1]
        self.stack.append(part)
        self.started.append(now)

    def leave(self):
        now = self.clock()
        self.wall[self.stack.pop()] += now - self.started.pop()
        if self.started:
            self.started[-1] = now

    def charge(self, seconds, caller):
        part = self.stack[-1] if self.stack else "setup"
        if caller == "preflight":           # preflight charges the gradient check before running it
            part = "preflight: gradient check"
        elif caller == "preflight/steps":
            part = "preflight: regularization"
        elif caller in ("doctor/steps", "doctor"):   # the doctor charges the probe's steps and validation after it ran
            part = "probe"
        elif caller == "count":             # the budget's count of the work (one step, one evaluation)
            part = "preflight: cheap checks"
        elif caller == "loss_of" and part.startswith("experiment"):
            part = "experiment: evaluations and copies"
        elif caller in ("train", "extend") and part.startswith("experiment"):
            part = "experiment: steps"
        self.priced[part] += seconds


@contextlib.contextmanager
def instrumented(ledger: Ledger):
    """Wrap the doctor's parts (module attributes), restore them after."""
    saved = []

    def wrap(owner, name, part):
        """``owner.name`` timed as ``part``; inside a run-option check (its own experiment), as that."""
        original = getattr(owner, name)

        def wrapper(*a, **k):
            nested = ledger.stack and ledger.stack[-1] in OPTION_CHECKS
            ledger.enter(ledger.stack[-1] if nested else part)
            try:
                return original(*a, **k)
            finally:
                ledger.leave()
        saved.append((owner, name, original))
        setattr(owner, name, wrapper)

    wrap(doctor_mod, "preflight", "preflight: cheap checks")
    wrap(preflight, "gradcheck", "preflight: gradient check")
    wrap(preflight, "check_overfit", "preflight: overfit")
    wrap(preflight, "check_labels_learnable", "preflight: labels learnable")
    wrap(preflight, "check_regularization", "preflight: regularization")
    wrap(run_options, "check_schedule", "schedule check")
    wrap(run_options, "check_batch", "batch check")
    wrap(run_options, "check_augment", "augment check")
    wrap(loop.Trainer, "fit", "probe")
    wrap(interventions, "experiment", "experiment: evaluations and copies")   # what is not a step
    wrap(interventions, "train_step", "experiment: steps")
    original_charge = Budget.charge

    def charge(self, seconds):
        if self.parent is None:         # credited once, at the root, to the first caller outside the budget
            frame, via_steps = sys._getframe(1), False
            while frame.f_code.co_name in ("charge", "steps"):
                via_steps |= frame.f_code.co_name == "steps"
                frame = frame.f_back
            caller = frame.f_code.co_name
            ledger.charge(seconds, f"{caller}/steps" if via_steps else caller)
        return original_charge(self, seconds)
    saved.append((Budget, "charge", original_charge))
    Budget.charge = charge
    try:
        yield
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def run(name, model, splits, opts, *, cpu=False, wall_s=None) -> dict:
    ledger, budget = Ledger(time.process_time if cpu else time.perf_counter), Budget(60.0)
    ledger.enter("setup")
    t0, c0 = time.perf_counter(), time.process_time()
    with instrumented(ledger):
        data = (splits,) if not isinstance(splits, list) else (splits[0], splits[1])
        extra = {} if not isinstance(splits, list) else {"test": splits[2]}
        diag = doctor_mod.doctor(model, *data, progress=False, report=False, run_dir=None, budget=budget,
                                 wall_s=wall_s, **extra, **opts)
    wall, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    ledger.leave()
    alarms = sorted(f.code for f in diag.findings if f.severity in ("error", "warning"))
    return {"name": name, "wall_s": wall, "cpu_s": cpu_s, "clock": "cpu" if cpu else "wall", "nominal_s": budget.spent, "alarms": alarms,
            "top1": diag.primary.code if diag.primary else None,
            "skipped": [s for f in diag.findings if f.code == "check_skipped" for s in f.evidence.get("skipped", [])],
            "parts": {p: [round(ledger.wall.get(p, 0.0), 3), round(ledger.priced.get(p, 0.0), 3)] for p in PARTS},
            "load": os.getloadavg()[0], "backstop": list(budget.dropped)}


def gen_setups(parents, operators):
    import babysit_gen as gen
    for seed in parents:
        p = gen.parent(seed)
        for s in [p] + [m for m in gen.mutants(p) if not operators or m.mutation in operators]:
            model, splits, opts = gen.build(s)
            yield s.name, model, splits, opts


def user_setups(names, user_set=5):
    import importlib
    pairs = importlib.import_module(f"babysit_user{user_set}").PAIRS
    for name in names:
        for broken in (False, True):
            model, splits, opts, _ = pairs[name](broken)
            yield f"{name}{'' if broken else ' (healthy)'}", model, splits, opts


class FullBatchCNN(nn.Module):
    """A user's small residual CNN on 16x16 images (this script's own full-batch setup)."""

    def __init__(self, c=16, classes=4):
        super().__init__()
        torch.manual_seed(0)
        self.stem = nn.Sequential(nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU())
        self.block = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(),
                                   nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes))

    def forward(self, x):
        h = self.stem(x)
        return self.head(torch.relu(h + self.block(h)))


def fullbatch_setups():
    g = torch.Generator().manual_seed(0)
    n, classes = 2000, 4
    y = torch.randint(0, classes, (n,), generator=g)
    base = torch.randn(classes, 1, 16, 16, generator=g)
    X = base[y] + 0.8 * torch.randn(n, 1, 16, 16, generator=g)
    splits = [(X[:1600], y[:1600]), (X[1600:1800], y[1600:1800]), (X[1800:], y[1800:])]
    for bs in (32, 2048):
        yield f"fullbatch-resnet16 bs{bs}", FullBatchCNN(), splits, {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05,
                                                                      "batch_size": bs, "epochs": 8}


def table(rows) -> str:
    lines = ["| part | wall s (sum) | priced s (sum) | wall / priced |", "| --- | --- | --- | --- |"]
    for p in PARTS:
        w = sum(r["parts"][p][0] for r in rows)
        c = sum(r["parts"][p][1] for r in rows)
        lines.append(f"| {p} | {w:.1f} | {c:.1f} | {w / c:.2f} |" if c > 0 else f"| {p} | {w:.1f} | 0 (unpriced) | |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gen", type=int, nargs="*", default=[], help="generated parents (bench/babysit_gen.py seeds)")
    ap.add_argument("--operators", default="", help="comma-separated operators of the generated parents (default all)")
    ap.add_argument("--user", nargs="*", default=[], help="pairs of a user set (bench/babysit_user5.py's by default)")
    ap.add_argument("--set", type=int, default=5, help="the user set --user names pairs of (2-6; 5 by default)")
    ap.add_argument("--fullbatch", action="store_true", help="this script's own full-batch residual CNN")
    ap.add_argument("--cpu", action="store_true",
                    help="per part: the process's CPU seconds instead of wall seconds (a loaded machine's "
                         "stand-in for a quiet one's wall; run with OMP_NUM_THREADS=1)")
    ap.add_argument("--wall-s", type=float, default=0.0,
                    help="the doctor's time backstop (default 0: none, every part runs and is measured)")
    ap.add_argument("--quiet-clock", action="store_true",
                    help="the backstop reads the process's CPU seconds instead of the wall clock: what it leaves "
                         "out is what it would on a quiet machine running one thread (a loaded machine's stand-in)")
    ap.add_argument("--json", default="")
    args = ap.parse_args(argv)
    ops = set(filter(None, args.operators.split(",")))
    setups = list(gen_setups(args.gen, ops)) + list(user_setups(args.user, args.set)) + (list(fullbatch_setups())
                                                                                if args.fullbatch else [])
    if args.quiet_clock:        # the budget module's clock only: the trainer and this script keep theirs
        budget_mod.time = types.SimpleNamespace(perf_counter=time.process_time)
    rows = []
    for name, model, splits, opts in setups:
        row = run(name, model, splits, opts, cpu=args.cpu, wall_s=args.wall_s or None)
        rows.append(row)
        top = sorted(row["parts"].items(), key=lambda kv: -kv[1][0])[:3]
        print(f"{row['wall_s']:6.1f} s wall {row['cpu_s']:6.1f} cpu {row['nominal_s']:5.1f} nominal  load {row['load']:.2f}  {name}  "
              f"left out {len(row['backstop'])}  "
              f"top1={row['top1']}  " + ", ".join(f"{p} {w:.1f}/{c:.1f}" for p, (w, c) in top), flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
