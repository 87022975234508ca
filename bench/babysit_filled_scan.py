"""The check of regression targets filled in from their neighbours in row order
(``filled_targets.check_filled_targets``) alone, on every side of the user sets, the generated
benchmark and the suite: no doctor.

The splits are prepared as ``doctor`` prepares them (``babysit_reach.prepared``); each alarm is
printed with its side, so the check is measured for false alarms (healthy and harmless sides) and for
what it finds (broken sides) in CPU seconds:

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_filled_scan.py [--sets 1 2 ... 25]
        [--gen FIRST PARENTS] [--suite] [--json OUT]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import prepared, scan  # noqa: E402
from trainwell.babysit.filled_targets import check_filled_targets  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's alarms on one setup, on the splits ``doctor`` prepares."""
    start = time.process_time()
    try:
        p = prepared(model, tr, va, te, opts)
        found = check_filled_targets(p.splits, seed=p.config.seed)
    except Exception as exc:            # a side the doctor reports as raising: nothing to read here
        return {"alarms": [], "skipped": f"{type(exc).__name__}: {exc}"[:120]}
    return {"alarms": sorted({f.code for f in found}), "messages": [f.message[:200] for f in found],
            "expected": sorted(expected), "cpu_s": time.process_time() - start}


if __name__ == "__main__":
    raise SystemExit(scan(side, description=__doc__.splitlines()[0]))
