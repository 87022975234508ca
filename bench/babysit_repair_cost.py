"""Where a ``babysit="repair"`` run's cost goes: its wall seconds and its training-mode forward
passes split by the repairer's parts, against the healthy twin's ``babysit="off"`` run (issue 11:
repairs at a median cost <= 1.5x the twin's; ``bench/babysit_user.py`` computes ``cost_s`` and
``cost_steps`` the same way, this script says which part pays them).

The parts are timed by wrapping the repairer's, the monitor's and the trials' entry points for this
process only (``time.perf_counter``, exclusive: a part nested in another is counted once, in the
inner one); nothing here is imported by trainwell, so the runs it does not measure pay nothing.
A pass is counted where it runs (the forward hook a deepcopy shares): ``main_loop`` is the run's own
steps, replays after a rollback included; the others are the pre-flight's, the experiments' and the
lr trials' copies. Wall seconds depend on the machine's load; the passes do not.

    python bench/babysit_repair_cost.py bench.babysit_user16 chips_cutout_cifar_default --seeds 0
"""
from __future__ import annotations

import argparse
import collections
import functools
import importlib
import json
import time

import torch

import trainwell
from trainwell.babysit import monitor, repair, run_options, sizing, stop_watch
from trainwell.train import controls

SECONDS = collections.defaultdict(float)
PASSES = collections.defaultdict(int)
_STACK: list = []

# (owner, attribute, part): each entry point's time goes to its part
PARTS = [
    *[(repair.Repairer, n, "repairer") for n in ("on_fit_start", "on_after_step", "on_validation_end",
                                                  "on_epoch_end", "on_fit_end", "_handle", "_judge_probation")],
    (repair, "preflight", "preflight"), (repair, "check_sample", "preflight"),
    (repair, "grade_imbalance", "preflight"), (repair.Repairer, "_ids_refit", "preflight"),
    (repair.Repairer, "_preprocess_test", "preprocess test"), (repair.Repairer, "_grade", "grading experiment"),
    (repair.Repairer, "_activation_test", "activation experiment"),
    (repair.Repairer, "_settings_test", "settings experiment"), (repair.Repairer, "_radius_test", "settings experiment"),
    *[(run_options, n, "run option: " + n[len("check_"):]) for n in (
        "check_augment", "check_batch", "check_clip", "check_noise", "check_plateau_mode", "check_schedule")],
    (sizing, "larger_raise_helps", "lr trials"), (sizing, "cut_helps", "lr trials"), (sizing, "sized_cut", "lr trials"),
    (repair, "take_snapshot", "snapshots"), (controls.Controls, "restore", "snapshots"),
    (controls.Controls, "apply", "repairer"),
    *[(monitor.Monitor, n, "monitor") for n in ("on_fit_start", "on_before_step", "on_after_step",
                                                 "on_validation_end", "on_fit_end")],
    *[(stop_watch.StopWatch, n, "monitor") for n in ("on_fit_end",) if hasattr(stop_watch.StopWatch, n)],
]


def _timed(part: str, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        _STACK.append([part, 0.0])
        try:
            return fn(*args, **kwargs)
        finally:
            _, inner = _STACK.pop()
            spent = time.perf_counter() - t0
            SECONDS[part] += spent - inner
            if _STACK:
                _STACK[-1][1] += spent
    return wrapper


def instrument() -> None:
    """Wrap every entry point in ``PARTS`` (this process only)."""
    for owner, name, part in PARTS:
        setattr(owner, name, _timed(part, getattr(owner, name)))


def _count_pass(module, inputs, output) -> None:
    if module.training and torch.is_grad_enabled():
        PASSES[_STACK[-1][0] if _STACK else "main_loop"] += 1


def one_run(pairs: dict, name: str, *, broken: bool, babysit: str, seed: int) -> dict:
    """One fit of a side: wall seconds, the parts' seconds and passes, its repairs."""
    from bench.babysit_user import BASE
    model, (tr, va, te), opts, _ = pairs[name](broken)
    model.register_forward_hook(_count_pass)
    SECONDS.clear()
    PASSES.clear()
    t0 = time.perf_counter()
    run = trainwell.fit(model, tr, va, test=te, **BASE, **opts, seed=seed, babysit=babysit)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "parts_s": dict(SECONDS), "passes": dict(PASSES),
            "repairs": [[r["step"], r["code"], r["action"]] for r in run.repairs]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", help="a user set's module, e.g. bench.babysit_user16")
    parser.add_argument("pair", help="one of its PAIRS")
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds (default 0)")
    args = parser.parse_args(argv)
    pairs = importlib.import_module(args.module).PAIRS
    if args.pair not in pairs:
        parser.error(f"pair = {args.pair!r}: not in {args.module}.PAIRS")
    instrument()
    seeds = [int(s) for s in args.seeds.split(",")]
    one_run(pairs, args.pair, broken=False, babysit="off", seed=seeds[0])      # warm-up: imports, allocations
    one_run(pairs, args.pair, broken=True, babysit="repair", seed=seeds[0])
    for seed in seeds:
        off = one_run(pairs, args.pair, broken=False, babysit="off", seed=seed)
        rep = one_run(pairs, args.pair, broken=True, babysit="repair", seed=seed)
        print(json.dumps({"pair": args.pair, "seed": seed, "off_s": off["seconds"],
                          "off_passes": off["passes"].get("main_loop", 0), **rep}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
