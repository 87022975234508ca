"""``constant_ids.check_constant_ids`` alone on every side of the user sets (1-20) whose model has an
embedding: each alarm (a warning) printed with its side and its CPU seconds, so a change to the check
is measured for false alarms (healthy and harmless sides) and for what it finds (broken sides):

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_ids_scan.py [--sets 1 2 ... 20] [--gen FIRST PARENTS]
        [--suite] [--json OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import on_float_rows, scan  # noqa: E402
from trainwell.babysit.constant_ids import check_constant_ids  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's alarms on one setup, as ``doctor`` prepares it; quiet without an embedding."""
    if not any(isinstance(m, (nn.Embedding, nn.EmbeddingBag)) for m in model.modules()):
        return {"alarms": []}
    return on_float_rows(lambda p, X, y, *, class_ids, kind: check_constant_ids(p.model, X, y, class_ids=class_ids),
                         model, tr, va, te, opts, expected)


if __name__ == "__main__":
    raise SystemExit(scan(side, description=__doc__.splitlines()[0]))
