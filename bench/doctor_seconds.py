"""The doctor's seconds on two checkouts side by side, under the same load: each user-set side runs in
both at once, one fresh process each (its imports outside the clock), so a change's time is read
against its base on the same machine at the same moment (the development machine's load moves by 5x
within minutes: two runs minutes apart do not compare).

Each process runs ``trainwell.doctor`` once, as ``babysit_user.py`` does (budget 60 s, the pair's own
options), and reports the wall seconds, the process's CPU seconds (one thread: a loaded machine's
stand-in for a quiet one's wall), the nominal seconds spent and the verdict. The rows are written in
the user sets' format, one folder per checkout (``OUT/before/uNN_doctor.json``, ``OUT/after/...``),
so ``bench/babysit_cmp.py OUT/before OUT/after`` compares the verdicts row by row.

    OMP_NUM_THREADS=1 python bench/doctor_seconds.py --before /tmp/base --after . --out OUT \\
        26:roasts_color_jitter_simclr_strength 20:hives_gru_positional_num_layers:broken
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def one(spec: str) -> dict:
    """The doctor on one side ``SET:PAIR:healthy|broken`` in this process's checkout (its row)."""
    number, pair, side = spec.split(":")
    sys.path.insert(0, str(Path.cwd() / "bench"))
    from trainwell.babysit.budget import Budget
    from trainwell.babysit.doctor import doctor
    module = importlib.import_module("babysit_user" + ("" if number == "1" else number))
    broken = side == "broken"
    model, (tr, va, te), opts, expected = module.PAIRS[pair](broken)
    budget = Budget(60.0)
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        diag, error = doctor(model, tr, va, test=te, progress=False, report=False, run_dir=None, **opts,
                             budget=budget), None
    except Exception as exc:            # a crash is a result too (counted as nothing found)
        diag, error = None, f"{type(exc).__name__}: {exc}"[:160]
    seconds, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    alarms = [f.code for f in diag.findings if f.severity in ("error", "warning")] if diag else []
    primary = diag.primary.code if diag and diag.primary else None
    skipped = [s for f in (diag.findings if diag else []) if f.code == "check_skipped"
               for s in f.evidence.get("skipped", [])]
    return {"pair": pair, "broken": broken, "alarms": alarms, "top1": primary, "seconds": seconds, "cpu_s": cpu_s,
            "nominal_s": budget.spent, "rate": getattr(budget, "measured_rate", None), "skipped": skipped, "error": error, "load": os.getloadavg()[0],
            "found": bool(set(alarms) & expected) if broken else None,
            "top1_ok": (primary in expected) if broken else None}


def side_by_side(spec: str, trees: dict) -> dict:
    """``spec`` run in every checkout of ``trees`` at once: ``{name: row}``."""
    procs = {name: subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--one", spec], cwd=tree,
                                    env={**os.environ, "PYTHONPATH": str(tree)}, stdout=subprocess.PIPE, text=True)
             for name, tree in trees.items()}
    out = {}
    for name, proc in procs.items():
        text, _ = proc.communicate()
        out[name] = json.loads(text.strip().splitlines()[-1])
    return out


def sides(specs: list) -> list:
    """``SET:PAIR`` (both sides) or ``SET:PAIR:SIDE`` as ``SET:PAIR:SIDE`` each."""
    out = []
    for spec in specs:
        parts = spec.split(":")
        out += [spec] if len(parts) == 3 else [f"{spec}:healthy", f"{spec}:broken"]
    return out


def median(values: list) -> float:
    v = sorted(values)
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("specs", nargs="*", help="SET:PAIR or SET:PAIR:healthy|broken")
    ap.add_argument("--before", default="", help="the base checkout")
    ap.add_argument("--after", default=".", help="the changed checkout")
    ap.add_argument("--out", default="", help="a folder for the rows (before/, after/)")
    ap.add_argument("--one", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one)))
        return 0
    trees = {"before": Path(args.before).resolve(), "after": Path(args.after).resolve()}
    rows = {name: {} for name in trees}
    for spec in sides(args.specs):
        got = side_by_side(spec, trees)
        for name, row in got.items():
            rows[name].setdefault(spec.split(":")[0], []).append(row)
            if args.out:
                folder = Path(args.out) / name
                folder.mkdir(parents=True, exist_ok=True)
                for number, kept in rows[name].items():
                    (folder / f"u{number}_doctor.json").write_text(json.dumps(kept, indent=1))
        b, a = got["before"], got["after"]
        print(f"{spec:62s} wall {b['seconds']:6.1f} -> {a['seconds']:6.1f}  "
              f"cpu {b['cpu_s']:5.1f} -> {a['cpu_s']:5.1f}  "
              f"nominal {b['nominal_s']:5.1f} -> {a['nominal_s']:5.1f}  load {a['load']:.1f}  "
              f"{b['top1']} {sorted(b['alarms'])} -> {a['top1']} {sorted(a['alarms'])}", flush=True)
    for key in ("seconds", "cpu_s", "nominal_s"):
        every = {name: [r[key] for kept in rows[name].values() for r in kept] for name in rows}
        print(f"{key}: before max {max(every['before']):.1f} median {median(every['before']):.1f}; "
              f"after max {max(every['after']):.1f} median {median(every['after']):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
