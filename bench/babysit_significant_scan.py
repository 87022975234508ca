"""Every ``interventions.significant`` call of the doctor over the user sets, recorded with its verdicts.

``significant`` grades every symptom, the setting arms and most run-option checks, so a change to it
changes every graded finding. Rather than rerun each set twice, the doctor runs once per side
(``doctor`` alone, as ``babysit_userK.py --no-train`` runs it) with ``significant`` wrapped by a
monkeypatch of this script (the library stays as it is): each call's inputs (the setup, the arm, the
repeat, ``noise_of``: their losses before and after, accuracies, held rows), the functions that called
it and two verdicts, the linear rule's (``linear_significant``: main's ``significant`` at 7e169a4,
kept here verbatim as the yardstick of the change) and the library's. ``--verdict`` picks which one
the doctor acts on: ``linear`` reproduces main's findings while the log rule's verdicts are recorded,
so a side none of whose calls flips has the same findings under both rules (the doctor's calls and
what they return are the same); only a side with a flip needs a run under ``--verdict library``.
``--grade`` recomputes both verdicts of recorded calls with the library as it is now (calls recorded
on another checkout) and prints every flip with its side and callers.

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_significant_scan.py OUT.jsonl --sets 15 16 ...
        [--pair NAME ...] [--side healthy|broken] [--verdict linear|library] [--claims DIR]
    PYTHONPATH=. python bench/babysit_significant_scan.py --grade IN.jsonl [IN.jsonl ...]   (or .jsonl.gz)
    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_significant_scan.py OUT.jsonl --flipped IN.jsonl ...
"""
from __future__ import annotations

import argparse
import gzip
import importlib
import json
import math
import os
import sys
from collections import Counter
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import babysit_user as user  # noqa: E402
from trainwell.babysit import interventions as iv  # noqa: E402
from trainwell.babysit.interventions import (KILL_RATIO, MIN_GAIN, MIN_LIFT, MIN_POINTS, NOISE_FACTOR,  # noqa: E402
                                             SAMPLING_Z, Arm, gain, noise)

SETS = {1: "babysit_user", **{k: f"babysit_user{k}" for k in range(2, 26)}}
HELD_OUT = frozenset({26})
LIBRARY = iv.significant
CALLERS = 4            # the trainwell functions above the call recorded, innermost first


def linear_significant(baseline: Arm, arm: Arm, repeat: Arm | None, *, by_loss: bool = False,
                       noise_of: Arm | None = None) -> bool:
    """main's ``interventions.significant`` at 7e169a4 (the loss graded on its linear scale), verbatim."""
    ref = noise_of or baseline
    g = gain(baseline, arm)
    if g in (math.inf, -math.inf):
        return g > 0
    starts = [abs(v) for v in (baseline.before, arm.before) if math.isfinite(v)]
    scale = min(starts) if starts else 0.0
    spread_loss = noise(ref, repeat)
    if ref is not baseline and math.isfinite(spread_loss) and ref.after > 0 and math.isfinite(baseline.after):
        spread_loss *= abs(baseline.after) / ref.after
    beyond_noise = g > NOISE_FACTOR * spread_loss
    by_loss_ok = beyond_noise and g >= MIN_GAIN * scale
    if arm.acc is not None and baseline.acc is not None and arm.rows:
        lift = arm.acc - baseline.acc
        p = (arm.acc + baseline.acc) / 2
        spread = 0.0 if repeat is None or repeat.acc is None or ref.acc is None or repeat.extra.get(
            "timed_out") else abs(ref.acc - repeat.acc)
        beyond_sampling = lift > SAMPLING_Z * math.sqrt(2 * p * (1 - p) / arm.rows) and lift >= MIN_LIFT
        by_acc = beyond_sampling and lift > NOISE_FACTOR * spread
        return by_acc or (by_loss and by_loss_ok and lift >= 0)
    return by_loss_ok or (beyond_noise and g >= MIN_POINTS * scale and arm.after >= 0
                          and baseline.after >= KILL_RATIO * arm.after)


def _arm_record(a: Arm | None) -> dict | None:
    if a is None:
        return None
    return {"name": a.name, "code": a.code, "before": a.before, "after": a.after, "steps": a.steps,
            "acc": a.acc, "rows": a.rows, "timed_out": bool(a.extra.get("timed_out"))}


def _arm_of(r: dict | None) -> Arm | None:
    if r is None:
        return None
    return Arm(r["name"], r["code"], "", before=r["before"], after=r["after"], steps=r["steps"], acc=r["acc"],
               rows=r["rows"], extra={"timed_out": True} if r["timed_out"] else {})


def _callers() -> list[str]:
    frame, names = sys._getframe(2), []
    while frame is not None and len(names) < CALLERS:
        if "trainwell" in frame.f_code.co_filename:
            names.append(f"{Path(frame.f_code.co_filename).stem}.{frame.f_code.co_name}")
        frame = frame.f_back
    return names


def call_record(baseline, arm, repeat, by_loss, noise_of) -> dict:
    return {"baseline": _arm_record(baseline), "arm": _arm_record(arm), "repeat": _arm_record(repeat),
            "by_loss": by_loss, "noise_of": "baseline" if noise_of is baseline else _arm_record(noise_of)}


def verdicts(rec: dict) -> tuple[bool, bool]:
    """A recorded call's (linear, library) verdicts, its arms rebuilt from the record."""
    baseline, arm, repeat = (_arm_of(rec[k]) for k in ("baseline", "arm", "repeat"))
    noise_of = baseline if rec["noise_of"] == "baseline" else _arm_of(rec["noise_of"])
    kw = {"by_loss": rec["by_loss"], "noise_of": noise_of}
    return linear_significant(baseline, arm, repeat, **kw), LIBRARY(baseline, arm, repeat, **kw)


def recording(out, side: dict, verdict: str):
    """``significant`` wrapped: each call written to ``out`` with ``side``'s labels and both verdicts;
    the doctor acts on ``verdict``'s."""
    def wrapped(baseline, arm, repeat, *, by_loss=False, noise_of=None):
        rec = call_record(baseline, arm, repeat, by_loss, noise_of)
        old = linear_significant(baseline, arm, repeat, by_loss=by_loss, noise_of=noise_of)
        new = LIBRARY(baseline, arm, repeat, by_loss=by_loss, noise_of=noise_of)
        out.write(json.dumps({**side, "call": rec, "callers": _callers(), "linear": old, "library": new}) + "\n")
        out.flush()
        return old if verdict == "linear" else new
    return wrapped


def claimed(path: Path) -> bool:
    """Whether this process took the side ``path`` names (a file created once: processes that share
    ``--claims`` split the sides between them)."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return False
    return True


def recorded(paths: list[str]):
    """``(side, calls)`` for each side run to its end in these recordings (the calls of a side whose
    run was stopped are left out)."""
    for path in paths:
        pending = []
        text = gzip.decompress(Path(path).read_bytes()).decode() if path.endswith(".gz") else Path(path).read_text()
        for line in text.splitlines():
            r = json.loads(line)
            if "call" in r:
                pending.append(r)
            else:
                yield r, [c for c in pending if (c["set"], c["pair"], c["broken"]) == (r["set"], r["pair"], r["broken"])]
                pending = []


def scan(args) -> int:
    torch.set_num_threads(1)
    with open(args.out, "a") as out:
        for k in args.sets:
            if k in HELD_OUT or k not in SETS:
                raise SystemExit(f"--sets: {k} is not a user set this scan may run (1-25; 26 is held out)")
            pairs = importlib.import_module(SETS[k]).PAIRS
            for name in args.pair or list(pairs):
                if name not in pairs:
                    continue
                for broken in {"healthy": (False,), "broken": (True,), "both": (False, True)}[args.side]:
                    if args.claims and not claimed(Path(args.claims) / f"{k}_{name}_{int(broken)}"):
                        continue
                    side = {"set": k, "pair": name, "broken": broken, "verdict": args.verdict}
                    iv.significant = recording(out, side, args.verdict)
                    try:
                        row = user._doctor(pairs, name, broken)
                    finally:
                        iv.significant = LIBRARY
                    out.write(json.dumps({**side, "alarms": row["alarms"], "top1": row["top1"],
                                          "error": row["error"], "seconds": row["seconds"]}) + "\n")
                    out.flush()
                    print(f"set {k:2d} {name:44s} {'broken ' if broken else 'healthy'} {','.join(row['alarms']) or '-'}"
                          f" {row['seconds']:.1f}s", flush=True)
    return 0


def flipped_sides(paths: list[str]) -> list[tuple]:
    """The (set, pair, broken) sides of recorded ``linear`` runs with a call whose verdicts differ
    under the library as it is now, in the order recorded."""
    out = []
    for side, calls in recorded(paths):
        label = (side["set"], side["pair"], side["broken"])
        if side["verdict"] == "linear" and label not in out and any(len(set(verdicts(c["call"]))) > 1 for c in calls):
            out.append(label)
    return out


def rerun_flipped(args) -> int:
    """Each flipped side of ``--flipped``'s recordings run again with the doctor acting on the library's
    verdicts (skipping sides ``out`` already holds so run): its findings under the new rule."""
    done = set()
    if Path(args.out).exists():
        done = {(r["set"], r["pair"], r["broken"]) for r in map(json.loads, Path(args.out).read_text().splitlines())
                if "alarms" in r and r["verdict"] == "library"}
    for k, name, broken in flipped_sides(args.flipped):
        if (k, name, broken) not in done:
            scan(argparse.Namespace(out=args.out, sets=[k], pair=[name], side="broken" if broken else "healthy",
                                    verdict="library", claims=None))
    return 0


def grade(paths: list[str]) -> int:
    """Both verdicts of every recorded call, recomputed with the library as it is now: the flips by side."""
    calls, sides, flips, runs = 0, Counter(), [], {}
    for side, recs in recorded(paths):
        label = (side["set"], side["pair"], "broken" if side["broken"] else "healthy")
        runs[label + (side["verdict"],)] = side
        for r in recs if side["verdict"] == "linear" else ():
            calls += 1
            sides[label] += 1
            old, new = verdicts(r["call"])
            if old != new:
                flips.append((label, old, new, r["callers"], r["call"]))
    scanned = sum(k[3] == "linear" for k in runs)
    print(f"sides scanned: {scanned} ({len(sides)} with a call); calls: {calls}; "
          f"flips: {len(flips)} on {len({f[0] for f in flips})} sides "
          f"({sum(not f[1] and f[2] for f in flips)} to significant, {sum(f[1] and not f[2] for f in flips)} to not)")
    for label, old, new, callers, c in flips:
        b, a, rp = c["baseline"], c["arm"], c["repeat"]
        ref = c["noise_of"] if isinstance(c["noise_of"], dict) else None
        print(f"set {label[0]:2d} {label[1]:44s} {label[2]:7s} {old}->{new} {' < '.join(callers[:3])}\n"
              f"    setup {b['name']}: {b['before']:.4g} -> {b['after']:.4g} acc {b['acc']}; arm {a['name']}: "
              f"{a['before']:.4g} -> {a['after']:.4g} acc {a['acc']}; repeat "
              f"{'-' if rp is None else format(rp['after'], '.4g') + (' timed out' if rp['timed_out'] else '')}"
              f"{'' if ref is None else '; noise of ' + ref['name'] + ' ' + format(ref['after'], '.4g')}"
              f" by_loss={c['by_loss']}")
    print("findings of the flipped sides (warnings and errors), linear -> library, and the doctor's seconds:")
    for label in dict.fromkeys(f[0] for f in flips):
        old, new = runs.get(label + ("linear",)), runs.get(label + ("library",))
        said = [("-" if r is None else f"{','.join(r['alarms']) or 'none'} ({r['seconds']:.0f}s)") for r in (old, new)]
        changed = old is not None and new is not None and sorted(old["alarms"]) != sorted(new["alarms"])
        print(f"set {label[0]:2d} {label[1]:44s} {label[2]:7s} {said[0]} -> {said[1]}{'  CHANGED' if changed else ''}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", help="the JSON-lines file the calls and sides are appended to")
    ap.add_argument("--sets", type=int, nargs="+", default=list(range(15, 26)))
    ap.add_argument("--pair", action="append", default=[], help="only these pairs (of any set named)")
    ap.add_argument("--side", choices=("healthy", "broken", "both"), default="both")
    ap.add_argument("--claims", help="a folder of the sides taken: processes sharing it split the sides")
    ap.add_argument("--verdict", choices=("linear", "library"), default="linear",
                    help="the verdict the doctor acts on (both are recorded)")
    ap.add_argument("--grade", nargs="+", metavar="IN.jsonl", help="recompute both verdicts of recorded calls")
    ap.add_argument("--flipped", nargs="+", metavar="IN.jsonl",
                    help="run again, acting on the library's verdicts, each side of these recordings with a flip")
    args = ap.parse_args(argv)
    if args.grade:
        return grade(args.grade)
    if not args.out:
        ap.error("name the JSON-lines file to write (or --grade recorded ones)")
    return rerun_flipped(args) if args.flipped else scan(args)


if __name__ == "__main__":
    raise SystemExit(main())
