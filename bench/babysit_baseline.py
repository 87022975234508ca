"""``below_baseline`` (babysit/baseline_check.py) on the user sets' pairs: each side trained once with
``fit(babysit="watch")``; per side its validation score, whether the trained model was found below a
baseline (the probes' and the model's scores, p), the other codes found and the check's CPU seconds.

Healthy sides and harmless faults measure false alarms; broken sides that hurt, recall. Whether a
fault hurts is read here from the one seed trained (issue 11's kill rule on validation scores);
the sets' own runs (2 seeds, BENCHMARKS.md) are the reference.

    python bench/babysit_baseline.py --set 9 [--pair NAME ...] [--seed 0] [--json OUT.json]
    python bench/babysit_baseline.py --gen F [--parents P] [--json OUT.json]

``--gen``: the generated benchmark's parents F .. F+P-1 and their mutants (bench/babysit_gen.py), each
trained once under ``"watch"``; a mutant's stored label (``babysit_gen_labels.json``) says whether it hurts.
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
from trainwell.babysit.baseline_check import still_falling  # noqa: E402
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
            "below_baseline": None if hit is None else {k: v for k, v in hit.evidence.items() if k != "probes"},
            "probes": None if hit is None else hit.evidence["probes"], "check_cpu_s": record.get("cpu_s"),
            "still_falling": still_falling(run.history), "stopped": run.stopped.kind.value}


def generated(first: int, parents: int, record: dict, json_path: str | None) -> int:
    import babysit_gen as gen
    labels = json.loads(gen.LABELS.read_text()) if gen.LABELS.exists() else {}
    rows = []
    for seed in range(first, first + parents):
        p = gen.parent(seed)
        for s in [p, *gen.mutants(p)]:
            model, splits, opts = gen.build(s)
            record.clear()
            row = {"pair": s.name, "broken": bool(s.mutation), "killed": labels.get(s.name, {}).get("killed"),
                   "arch": s.arch, "data": s.data}
            try:
                run = trainwell.fit(model, splits, **gen.BASE, **opts, babysit="watch")
            except Exception as exc:
                row["error"] = f"{type(exc).__name__}: {exc}"[:160]
            else:
                hit = next((f for f in run.findings.findings if f.code == "below_baseline"), None)
                row.update(found=[f.code for f in run.findings.ranked() if f.severity != "info"],
                           below_baseline=None if hit is None else {
                               k: v for k, v in hit.evidence.items() if k != "probes"},
                           probes=None if hit is None else hit.evidence["probes"], check_cpu_s=record.get("cpu_s"),
                           still_falling=still_falling(run.history), stopped=run.stopped.kind.value)
            rows.append(row)
            print(json.dumps({"set": f"gen{first}", **row}, default=str), flush=True)
            if json_path:
                Path(json_path).write_text(json.dumps(rows, indent=1, default=str))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="9", help="user set number (1 = babysit_user.py)")
    parser.add_argument("--pair", nargs="*", help="only these pairs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the rows to this file")
    parser.add_argument("--gen", type=int, help="the generated benchmark's first parent seed instead of a set")
    parser.add_argument("--parents", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.gen is not None:
        return generated(args.gen, args.parents, timed_check(), args.json)
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
