"""``below_baseline`` (babysit/baseline_check.py) on the user sets' pairs: each side trained once with
``fit(babysit="watch")``; per side its validation score, whether the trained model was found below a
baseline (the probes' and the model's scores, p), the other codes found and the check's CPU seconds.

Healthy sides and harmless faults measure false alarms; broken sides that hurt, recall. Whether a
fault hurts is read here from the one seed trained (issue 11's kill rule on validation scores);
the sets' own runs (2 seeds, BENCHMARKS.md) are the reference.

    python bench/babysit_baseline.py --set 9 [--pair NAME ...] [--seed 0] [--json OUT.json]
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
import babysit_user as user  # noqa: E402

import trainwell  # noqa: E402
from trainwell.train import fit as fit_module  # noqa: E402


def timed_check():
    """Wrap ``fit``'s ``check_baseline`` to record its CPU seconds and evidence."""
    record = {}
    inner = fit_module.check_baseline

    def check(*args, **kwargs):
        t0 = time.process_time()
        out = inner(*args, **kwargs)
        record["cpu_s"] = time.process_time() - t0
        return out
    fit_module.check_baseline = check
    return record


def side(pairs, name, broken, *, seed, regression, record) -> dict:
    model, (tr, va, te), opts, expected = pairs[name](broken)
    record.clear()
    try:
        run = trainwell.fit(model, tr, va, test=te, **user.BASE, **opts, seed=seed, babysit="watch")
    except Exception as exc:
        return {"pair": name, "broken": broken, "error": f"{type(exc).__name__}: {exc}"[:160]}
    found = [f for f in run.findings.ranked() if f.severity != "info"]
    hit = next((f for f in run.findings.findings if f.code == "below_baseline"), None)
    return {"pair": name, "broken": broken, "val": user._score(run, va, regression=regression),
            "regression": regression, "found": [f.code for f in found],
            "below_baseline": None if hit is None else {k: hit.evidence[k] for k in (
                "probe", "baseline_score", "model_score", "p", "metric")},
            "probes": None if hit is None else hit.evidence["probes"], "check_cpu_s": record.get("cpu_s")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="9", help="user set number (1 = babysit_user.py)")
    parser.add_argument("--pair", nargs="*", help="only these pairs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    module = importlib.import_module("babysit_user" if args.set == "1" else f"babysit_user{args.set}")
    pairs = module.PAIRS
    record = timed_check()
    rows = []
    for name in args.pair or list(pairs):
        regression = bool(torch.is_floating_point(pairs[name](False)[1][2][1]))
        h, b = (side(pairs, name, broken, seed=args.seed, regression=regression, record=record)
                for broken in (False, True))
        if h.get("val") is not None:
            b["killed"] = user.killed([h["val"]], [b.get("val")], regression=regression)
        for row in (h, b):
            rows.append(row)
            print(json.dumps({"set": args.set, **row}, default=str), flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
