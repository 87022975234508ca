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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import alarming, on_prepared, scan, timed  # noqa: E402
from trainwell.babysit.value_codes import check_value_codes  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's alarms on one setup (``fit``'s arguments), as ``doctor`` prepares it."""
    def read(p, X, y) -> dict:
        found = alarming(check_value_codes(X))
        return {"alarms": sorted({tagged(f) for f in found}),
                "messages": [f.message[:200] for f in found], "expected": sorted(expected)}
    return on_prepared(timed(read), model, tr, va, te, opts)


def tagged(f) -> str:
    """``f``'s code, ``:majority`` added for a code in most of its column's rows (``find_codes``' ``majority``)."""
    return f.code + (":majority" if "sentinel" not in f.evidence and "codes" in f.evidence else "")


if __name__ == "__main__":
    raise SystemExit(scan(side, description=__doc__.splitlines()[0]))
