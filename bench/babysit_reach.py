"""The data checks of what reaches the model, alone, on every pair of the user sets (1-22): no doctor.

For each pair's healthy and broken side the run is prepared as ``doctor`` prepares it (``prepare``:
the splits placed, the config's ``preprocess`` fitted on the training split) and the checks that read
the training rows and the splits run on what the pre-flight reads: ``first_layer.check_what_reaches``
(``categories_as_numbers``, ``uninformative_inputs``), ``input_content.check_inputs_informative``
(near-constant inputs, rows scaled on their own, rows filled in wholesale) and ``split_checks.check_splits``.
Each alarm (a warning or an error) is printed with its side, so a change to these checks is measured
for false alarms (healthy sides) and for what it finds (broken sides) in CPU seconds, not hours:

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_reach.py [--sets 1 2 ... 20] [--gen FIRST PARENTS]
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

from trainwell.babysit import first_layer, input_content, split_checks  # noqa: E402
from trainwell.babysit.loss_kinds import CLASS_ID_KINDS, resolve_loss  # noqa: E402
from trainwell.data.streaming import check_sample  # noqa: E402
from trainwell.train.fit import prepare  # noqa: E402

SETS = {1: "babysit_user", **{k: f"babysit_user{k}" for k in range(2, 30)}}
HELD_OUT = frozenset({29})  # sets written unrun, until their one measurement (set 28: stop 46; set 29: babysit160)


def prepared(model, tr, va, te, opts):
    """``fit``'s arguments prepared as ``doctor`` prepares them (``prepare``: the splits placed, the
    config's ``preprocess`` fitted on the training split), without a run directory or a babysitter."""
    options = {**opts, "run_dir": None, "resume": False, "progress": False, "babysit": "off", "report": False,
               "log": [], "overwrite": False, "extend": False}
    options.pop("budget_s", None)
    return prepare(copy.deepcopy(model), tr, va, te, options, check=False)


def on_prepared(read, model, tr, va, te, opts, *, sample: bool = False) -> dict:
    """A scan's row for one setup (``fit``'s arguments): ``read(p, X, y) -> row`` on the run ``doctor``
    prepares (``prepared``) and its training rows (``sample``: the pre-flight's sample of them,
    ``check_sample``); skipped where the preparation or ``read`` raises (the doctor reports that side
    otherwise: nothing to read here). The scans of other checks (``babysit_model_scan.py``) build
    their ``side`` on it, their rows with ``timed``, ``alarm_codes`` and ``skipped``."""
    try:
        p = prepared(model, tr, va, te, opts)
        X, y = check_sample(*p.train, seed=p.config.seed) if sample else p.train
        return read(p, X, y)
    except Exception as exc:
        return skipped(f"{type(exc).__name__}: {exc}"[:120])


def timed(read, *, since: float | None = None):
    """``read(p, X, y) -> row`` with its CPU seconds last in the row (``cpu_s``), counted from its call,
    or from ``since`` (a ``time.process_time()`` taken before the preparation, to count it too); a
    skipped row (``skipped``) is not timed."""
    def row(p, X, y) -> dict:
        start = time.process_time() if since is None else since
        out = read(p, X, y)
        return out if "skipped" in out else {**out, "cpu_s": time.process_time() - start}
    return row


def skipped(reason: str) -> dict:
    """The row of a side a scan does not read, and why."""
    return {"alarms": [], "skipped": reason}


def alarming(found: list) -> list:
    """The alarms among ``found``: its warnings and errors."""
    return [f for f in found if f.severity in ("warning", "error")]


def alarm_codes(found: list) -> list:
    """The codes of ``found``'s alarms, sorted, each once."""
    return sorted({f.code for f in alarming(found)})


def info_codes(found: list) -> list:
    """The codes of ``found``'s info notes, sorted, each once."""
    return sorted({f.code for f in found if f.severity == "info"})


def on_float_rows(checks, model, tr, va, te, opts, expected=frozenset()) -> dict:
    """A scan's row for one setup (``fit``'s arguments): ``checks(p, X, y, class_ids=..., kind=...)``'s
    alarms (warnings and errors) on the run ``doctor`` prepares (``on_prepared``), its training rows and
    their loss kind, with its CPU seconds (the preparation's included); skipped where the inputs are no
    float tensor or the preparation raises (the doctor reports that side as raising)."""
    def read(p, X, y) -> dict:
        if not torch.is_tensor(X) or not torch.is_floating_point(X):
            return skipped("inputs not a float tensor")
        _, kind = resolve_loss(p.config.loss)
        class_ids = kind in CLASS_ID_KINDS or (kind == "other" and not torch.is_floating_point(y))
        alarms = alarming(checks(p, X, y, class_ids=class_ids, kind=kind))
        return {"alarms": alarm_codes(alarms), "messages": [f.message[:200] for f in alarms],
                "expected": sorted(expected)}
    return on_prepared(timed(read, since=time.process_time()), model, tr, va, te, opts)


def _what_reaches(p, X, y, *, class_ids: bool, kind: str) -> list:
    return (first_layer.check_what_reaches(p.model, X, y, class_ids=class_ids)
            + input_content.check_inputs_informative(X, y, class_ids=class_ids or kind in ("bce", "bce_prob"))
            + split_checks.check_splits(p.splits))


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The checks' alarms on one setup (``fit``'s arguments), as ``doctor`` prepares it."""
    return on_float_rows(_what_reaches, model, tr, va, te, opts, expected)


def main(argv=None) -> int:
    return scan(side, argv, description=__doc__.splitlines()[0])


def scan(side, argv=None, *, description: str) -> int:
    """Run ``side(model, tr, va, te, opts[, expected]) -> row`` on every side the options name (the
    user sets, ``--gen``'s generated setups, ``--suite``'s cases and twins) and print each row's
    alarms (and ``cpu_s`` where the row has it); ``--json`` also writes the rows. The scans of
    other checks (``babysit_model_scan.py``) call it with their own ``side``."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--sets", type=int, nargs="+", default=sorted(set(SETS) - HELD_OUT),
                    help=f"user sets to read (1-{max(SETS)}; default all but the held-out {sorted(HELD_OUT)})")
    ap.add_argument("--gen", type=int, nargs=2, metavar=("FIRST", "PARENTS"),
                    help="also the generated benchmark's parents FIRST.. and their mutants")
    ap.add_argument("--suite", action="store_true", help="also the hand-written suite's cases and twins")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    def show(row, label):
        rows.append(row)
        print(f"{label} {','.join(row['alarms']) or '-'}" + (f" {row['cpu_s']:.2f}s" if "cpu_s" in row else "")
              + (f"  [{row['skipped']}]" if "skipped" in row else ""), flush=True)
    for k in args.sets:
        if k not in SETS:
            ap.error(f"--sets: {k} is not a user set (1-{max(SETS)})")
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
                show({"gen": s.name, "mutation": s.mutation, "killed": killed, **side(model, splits, None, None, opts)},
                     f"gen {s.name:70s} {'killed ' if killed else 'harmless' if killed is False and s.mutation else 'parent ' if not s.mutation else 'unlabelled'}")
    if args.suite:
        import babysit_suite as suite
        for case in suite.CASES:
            for broken in (False, True):
                model, s, opts = case.build(broken)
                opts = {k: v for k, v in opts.items() if k != "budget_s"}
                show({"case": case.name, "broken": broken, "expected": case.expected,
                      **side(model, s, None, None, opts)},
                     f"suite {case.name:40s} {'broken ' if broken else 'twin   '}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
