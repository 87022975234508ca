"""Every user set and generated lane of the babysitter's benchmark, rerun into one folder of rows.

The lead's rerun at each stop: each user set (1-22) in halves by pair (``babysit_userK.py --pair ... --repair
--json``: the doctor on both sides, every side trained ``babysit="off"`` per seed for the kill rule,
the healthy side and the repairable broken side under ``babysit="repair"``), and the generated
benchmark's parents 0-15 once each: detection lanes ``cF`` (``babysit_gen.py --first F --parents 1
--wall-s 0``) and repair lanes ``r1`` (parents 1-4), ``r7`` (7-8), ``r13`` (13-15), ``--repair``.
Jobs run ``--jobs`` at a time, each ``nice -n 5`` on one torch thread, longest first; a lane's stderr
goes to its ``.log`` beside its rows. ``meta.json`` records the commit, the time and the load.

    python bench/babysit_rerun.py OUT [--sets 16 15 ...] [--lanes c0 r1 ...] [--jobs 2]

Compare two folders row by row with ``bench/babysit_cmp.py BEFORE AFTER``.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

SETS = {1: "babysit_user", **{k: f"babysit_user{k}" for k in range(2, 30)}}
DETECTION = [0, 5, 6, 9, 10, 11, 12]            # parents no repair lane covers
REPAIR = {1: 4, 7: 2, 13: 3}                    # first parent -> parents: 1-4, 7-8, 13-15
LANES = [f"c{f}" for f in DETECTION] + [f"r{f}" for f in REPAIR]


def set_jobs(k: int, out: Path) -> list[tuple[str, list[str]]]:
    """Set ``k`` in two halves by pair (its rows: ``uK_a.json``, ``uK_b.json``)."""
    names = list(importlib.import_module(SETS[k]).PAIRS)
    halves = [names[: (len(names) + 1) // 2], names[(len(names) + 1) // 2:]]
    jobs = []
    for tag, half in zip("ab", halves):
        if half:
            pairs = [a for n in half for a in ("--pair", n)]
            jobs.append((f"u{k}_{tag}", [str(BENCH / f"{SETS[k]}.py"), *pairs, "--repair",
                                         "--json", str(out / f"u{k}_{tag}.json")]))
    return jobs


def lane_job(lane: str, out: Path) -> tuple[str, list[str]]:
    first = int(lane[1:])
    if lane[0] == "c":
        args = ["--first", str(first), "--parents", "1", "--wall-s", "0"]
    else:
        args = ["--first", str(first), "--parents", str(REPAIR[first]), "--repair"]
    return lane, [str(BENCH / "babysit_gen.py"), *args, "--json", str(out / f"{lane}.json")]


def run(job: tuple[str, list[str]], out: Path) -> tuple[str, int, float]:
    name, argv = job
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONPATH": str(BENCH.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    t0 = time.time()
    with open(out / f"{name}.log", "w") as log:
        rc = subprocess.call(["nice", "-n", "5", sys.executable, *argv], stdout=log, stderr=subprocess.STDOUT,
                             env=env, cwd=BENCH.parent)
    print(f"{name}: rc={rc} {time.time() - t0:.0f}s load={os.getloadavg()[0]:.1f}", flush=True)
    return name, rc, time.time() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="folder for the rows (created)")
    ap.add_argument("--sets", type=int, nargs="*", default=sorted(SETS, reverse=True), choices=sorted(SETS))
    ap.add_argument("--lanes", nargs="*", default=LANES, choices=LANES)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=BENCH.parent).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "trainwell", "bench"], capture_output=True,
                                text=True, cwd=BENCH.parent).stdout.strip())
    jobs = [j for k in args.sets for j in set_jobs(k, out)] + [lane_job(lane, out) for lane in args.lanes]
    meta = {"commit": commit, "dirty": dirty, "start": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "load_start": os.getloadavg()[0], "jobs": [name for name, _ in jobs]}
    with ThreadPoolExecutor(args.jobs) as pool:
        done = list(pool.map(lambda j: run(j, out), jobs))
    meta.update(end=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), load_end=os.getloadavg()[0],
                results={name: {"rc": rc, "seconds": round(s)} for name, rc, s in done})
    (out / "meta.json").write_text(json.dumps(meta, indent=1))
    failed = [name for name, rc, _ in done if rc]
    if failed:
        print(f"failed: {failed} (see their .log)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
