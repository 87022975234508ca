"""``unread_ids.check_unread_ids`` alone on every side of the user sets (1-21) whose model has an
embedding: each warning printed with its side and its CPU seconds, and the info findings counted, so a
change to the check is measured for false alarms (healthy and harmless sides) and for what it finds
(broken sides):

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_unread_scan.py [--sets 1 2 ... 21] [--gen FIRST PARENTS]
        [--suite] [--json OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import on_float_rows, scan  # noqa: E402
from trainwell.babysit.unread_ids import check_unread_ids  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's warnings on one setup, as ``doctor`` prepares it, with its info findings in ``info``;
    quiet without an embedding."""
    if not any(isinstance(m, (nn.Embedding, nn.EmbeddingBag)) for m in model.modules()):
        return {"alarms": []}
    info = []

    def checks(p, X, y, *, class_ids, kind):
        found = check_unread_ids(p.model, X, y, class_ids=class_ids)
        info.extend(f.message[:200] for f in found if f.severity == "info")
        return found
    row = on_float_rows(checks, model, tr, va, te, opts, expected)
    if info:
        row["alarms"] = row["alarms"] + [f"(info x{len(info)})"]
        row["info"] = info
    return row


if __name__ == "__main__":
    raise SystemExit(scan(side, description=__doc__.splitlines()[0]))
