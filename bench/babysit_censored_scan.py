"""``censored_values.check_censored`` alone on every side of the user sets: each alarm (a warning)
printed with its side and its CPU seconds, so the check is measured for false alarms (healthy and
harmless sides) and for what it finds (broken sides), on the training rows the pre-flight reads:

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_censored_scan.py [--sets 1 2 ... 21] [--gen FIRST PARENTS]
        [--suite] [--json OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import on_float_rows, scan  # noqa: E402
from trainwell.babysit.censored_values import check_censored  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's alarms on one setup, as ``doctor`` prepares it."""
    return on_float_rows(lambda p, X, y, *, class_ids, kind: check_censored(X), model, tr, va, te, opts, expected)


if __name__ == "__main__":
    raise SystemExit(scan(side, description=__doc__.splitlines()[0]))
