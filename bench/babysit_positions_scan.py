"""``pooled_positions.check_pooled_positions`` alone (a head that pools the positions where two classes
differ by a move) on every side of the user sets: each alarm printed with its side and its CPU
seconds, so the check is measured for false alarms (healthy and harmless sides) and for what it finds
(broken sides):

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_positions_scan.py [--sets 1 2 ... 25] [--json OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import on_float_rows, scan  # noqa: E402
from trainwell.babysit.pooled_positions import check_pooled_positions  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's alarms on one setup, as ``doctor`` prepares it."""
    return on_float_rows(lambda p, X, y, *, class_ids, kind: check_pooled_positions(p.model, X, y, class_ids=class_ids),
                         model, tr, va, te, opts, expected)


if __name__ == "__main__":
    raise SystemExit(scan(side, description=__doc__.splitlines()[0]))
