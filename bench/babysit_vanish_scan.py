"""vanishing_gradients over the user sets' setups, as the doctor's probe reads it, without the doctor.

Each side is prepared as ``doctor`` prepares it (``babysit_reach.prepared``) and trained for the
probe's steps (``probe_steps``: 5 % of the planned run, at least one epoch) with the live monitor;
the rule is then read on every prefix of its samples (a superset of the epoch ends the monitor judges
at: the first sample alone is read too, so an alarm here is an upper bound of the probe's),
two ways: as it reads now (a lookup table on the rows its batches read, a layer that barely moves
under its optimizer's steps) and as it read before (``old``: whole weights and gradients alone: the
samples without ``touched_weight_norm`` and update ratios). A side counts as an alarm where any
prefix fires. Healthy sides (and harmless broken ones, which the kill rule decides and this scan
does not) measure false alarms, broken sides what is found; load-free: no clock enters.

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_vanish_scan.py --sets 21 25 26 [--broken] [--json OUT]
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import HELD_OUT, SETS, prepared  # noqa: E402
from trainwell.babysit import rules  # noqa: E402
from trainwell.babysit.monitor import Monitor  # noqa: E402
from trainwell.babysit.doctor import probe_steps  # noqa: E402
from trainwell.train.fit import make_trainer  # noqa: E402


def as_before(samples: list) -> list:
    """The samples as the rule read them before: no lookup table's rows, no update ratios."""
    return [{**{k: v for k, v in s.items() if k != "touched_weight_norm"}, "update_ratio": {}} for s in samples]


def fires(samples: list, ctx: dict) -> str | None:
    """The layer of the first prefix of ``samples`` on which vanishing_gradients fires (None: none)."""
    for i in range(1, len(samples) + 1):
        found = rules.vanishing_gradients(samples[:i], [], ctx)
        if found:
            return found[0].where or "all"
    return None


def side(make, broken: bool) -> dict:
    model, (tr, va, te), opts, _ = make(broken)
    t0 = time.process_time()
    try:
        p = prepared(model, tr, va, te, opts)
        monitor = Monitor()
        trainer = make_trainer(p, extra_callbacks=[monitor])
        trainer.state.total_steps = probe_steps(trainer.state.total_steps, trainer.state.steps_per_epoch)
        trainer.fit()
    except Exception as exc:
        return {"skipped": f"{type(exc).__name__}: {exc}"[:120]}
    ctx = {"initial_loss": monitor.initial_loss, "first_sample": monitor.state_dict()["first_sample"]}
    return {"now": fires(monitor.samples, ctx), "old": fires(as_before(monitor.samples), ctx),
            "samples": len(monitor.samples), "tables": sorted({n for s in monitor.samples
                                                               for n in s.get("touched_weight_norm", {})}),
            "cpu_s": round(time.process_time() - t0, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", type=int, nargs="+", required=True, help="user sets (numbers; never a held-out one)")
    ap.add_argument("--broken", action="store_true", help="also the broken sides")
    ap.add_argument("--pairs", nargs="+", help="only these pairs")
    ap.add_argument("--json", help="write the rows here")
    args = ap.parse_args(argv)
    held = sorted(set(args.sets) & HELD_OUT)
    if held:
        raise SystemExit(f"--sets {held}: held out (allowed: {sorted(set(SETS) - HELD_OUT)})")
    rows = []
    for n in args.sets:
        pairs = importlib.import_module(SETS[n]).PAIRS
        for name, make in pairs.items():
            if args.pairs and name not in args.pairs:
                continue
            for broken in ((False, True) if args.broken else (False,)):
                row = {"set": n, "pair": name, "broken": broken, **side(make, broken)}
                rows.append(row)
                if row.get("now") or row.get("old") or row.get("skipped"):
                    print(json.dumps(row), flush=True)
    scored = [r for r in rows if "skipped" not in r]
    for side_name, broken in (("healthy", False), ("broken", True)):
        these = [r for r in scored if r["broken"] == broken]
        if these:
            print(f"{side_name}: {len(these)} sides, vanishing_gradients now {sum(bool(r['now']) for r in these)}, "
                  f"before {sum(bool(r['old']) for r in these)}; skipped {sum('skipped' in r for r in rows)}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
