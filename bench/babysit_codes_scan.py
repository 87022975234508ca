"""The missing-value-code check (``value_codes.check_value_codes``) alone, on every side of the user
sets (1-15), the generated benchmark's parents and mutants and the hand-written suite: no doctor.

For each setup the run is prepared as ``doctor`` prepares it (``babysit_reach.prepared``) and the check
runs on the training rows the pre-flight reads. Each alarm is printed with its side, tagged
``:majority`` for a code in most of its column's rows (``find_codes``' ``majority``, reported as
``uninformative_inputs``), so the check is measured for false alarms (healthy and harmless sides) and
for what it finds (broken sides) in CPU seconds:

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_codes_scan.py [--sets 1 2 ... 15] [--gen FIRST PARENTS]
        [--suite] [--json OUT]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import prepared, scan  # noqa: E402
from trainwell.babysit.value_codes import check_value_codes  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's alarms on one setup (``fit``'s arguments), as ``doctor`` prepares it."""
    try:
        p = prepared(model, tr, va, te, opts)
        X, _ = p.train
        start = time.process_time()
        found = check_value_codes(X)
    except Exception as exc:            # a side the doctor reports as raising: nothing to read here
        return {"alarms": [], "skipped": f"{type(exc).__name__}: {exc}"[:120]}
    return {"alarms": sorted({f.code + (":majority" if "sentinel" not in f.evidence and "codes" in f.evidence else "")
                              for f in found if f.severity in ("warning", "error")}),
            "messages": [f.message[:200] for f in found if f.severity in ("warning", "error")],
            "expected": sorted(expected), "cpu_s": time.process_time() - start}


if __name__ == "__main__":
    raise SystemExit(scan(side, description=__doc__.splitlines()[0]))
