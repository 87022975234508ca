"""Values coded row by row (``row_codes``: dense ranks fitted per row) alone on every side of the user
sets: the numbers' path as ``value_codes.check_value_codes`` runs it, the ids' path as
``constant_ids.check_constant_ids`` runs it (models with an embedding). Each alarm is printed with its
side and its CPU seconds, so the check is measured for false alarms (healthy and harmless sides) and
for what it finds (broken sides):

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_rowcodes_scan.py [--sets 1 2 ... 25] [--json OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import on_float_rows, scan  # noqa: E402
from trainwell.babysit.constant_ids import check_constant_ids  # noqa: E402
from trainwell.babysit.value_codes import check_value_codes  # noqa: E402


def _row_codes(p, X, y, *, class_ids: bool, kind: str) -> list:
    found = check_value_codes(X) + check_constant_ids(p.model, X, y, class_ids=class_ids)
    return [f for f in found if f.evidence.get("row_codes")]


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The row-codes findings on one setup, as ``doctor`` prepares it."""
    return on_float_rows(_row_codes, model, tr, va, te, opts, expected)


if __name__ == "__main__":
    raise SystemExit(scan(side, description=__doc__.splitlines()[0]))
