"""The doctor's checks of how the forward uses the user's modules, alone, on every side of the user
sets (1-12), the generated benchmark's parents and mutants and the hand-written suite: no doctor.

For each setup the run is prepared as ``doctor`` prepares it (``prepare``, then ``check_sample``) and
``module_use.check_module_use`` (``partly_used_module``) and ``module_use.check_shared_modules``
(``shared_module``) run on the training rows the pre-flight reads. Each alarm is printed with its side,
so a change to these checks is measured for false alarms (healthy and harmless sides) and for what it
finds (broken sides) in CPU seconds, not hours:

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_model_scan.py [--sets 1 2 ... 12] [--gen FIRST PARENTS]
        [--suite] [--json OUT]
"""
from __future__ import annotations

import argparse
import copy
import importlib
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from trainwell.babysit.module_use import check_module_use, check_shared_modules  # noqa: E402
from trainwell.babysit.preflight import resolve_loss  # noqa: E402
from trainwell.data.streaming import check_sample  # noqa: E402
from trainwell.train.fit import prepare  # noqa: E402

SETS = {1: "babysit_user", **{k: f"babysit_user{k}" for k in range(2, 13)}}


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The checks' alarms on one setup (``fit``'s arguments), as ``doctor`` prepares it."""
    options = {**opts, "run_dir": None, "resume": False, "progress": False, "babysit": "off", "report": False,
               "log": [], "overwrite": False, "extend": False}
    options.pop("budget_s", None)
    try:
        p = prepare(copy.deepcopy(model), tr, va, te, options, check=False)
        X, y = check_sample(*p.train, seed=p.config.seed)
        start = time.process_time()
        loss_fn = resolve_loss(p.config.loss)[0]
        found = (check_module_use(p.model, X, y, loss_fn, seed=p.config.seed)
                 + check_shared_modules(p.model, X))
    except Exception as exc:            # a side the doctor reports otherwise: nothing to read here
        return {"alarms": [], "skipped": f"{type(exc).__name__}: {exc}"[:120]}
    return {"alarms": sorted({f.code for f in found if f.severity in ("warning", "error")}),
            "messages": [f.message[:300] for f in found if f.severity in ("warning", "error")],
            "expected": sorted(expected), "cpu_s": time.process_time() - start}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", type=int, nargs="+", default=sorted(SETS), help="user sets to read (1-12)")
    ap.add_argument("--gen", type=int, nargs=2, metavar=("FIRST", "PARENTS"),
                    help="also the generated benchmark's parents FIRST.. and their mutants")
    ap.add_argument("--suite", action="store_true", help="also the hand-written suite's cases and twins")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []

    def show(row, label):
        rows.append(row)
        print(f"{label} {','.join(row['alarms']) or '-'} {row.get('cpu_s', 0):.2f}s"
              + (f"  [{row['skipped']}]" if "skipped" in row else ""), flush=True)
    for k in args.sets:
        if k not in SETS:
            ap.error(f"--sets: {k} is not a user set (1-12)")
        module = importlib.import_module(SETS[k])
        for name, pair in module.PAIRS.items():
            for broken in (False, True):
                model, (tr, va, te), opts, expected = pair(broken)
                show({"set": k, "pair": name, "broken": broken, **side(model, tr, va, te, opts, expected)},
                     f"set {k:2d} {name:40s} {'broken ' if broken else 'healthy'}")
    if args.gen:
        import babysit_gen as gen
        labels = json.loads(gen.LABELS.read_text()) if gen.LABELS.exists() else {}
        first, count = args.gen
        for seed in range(first, first + count):
            p = gen.parent(seed)
            for s in [p, *gen.mutants(p)]:
                killed = labels.get(s.name, {}).get("killed") if s.mutation else False
                model, splits, opts = gen.build(s)
                kind = ("killed " if killed else "harmless" if killed is False and s.mutation
                        else "parent " if not s.mutation else "unlabelled")
                show({"gen": s.name, "mutation": s.mutation, "killed": killed, **side(model, splits, None, None, opts)},
                     f"gen {s.name:70s} {kind}")
    if args.suite:
        import babysit_suite as suite
        for case in suite.CASES:
            for broken in (False, True):
                model, s, opts = case.build(broken)
                show({"case": case.name, "broken": broken, "expected": case.expected,
                      **side(model, s, None, None, opts)},
                     f"suite {case.name:40s} {'broken ' if broken else 'twin   '}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
