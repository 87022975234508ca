"""``constant_ids.check_constant_ids`` alone on every side of the user sets (1-20) whose model has an
embedding: each alarm (a warning) printed with its side and its CPU seconds, so a change to the check
is measured for false alarms (healthy and harmless sides) and for what it finds (broken sides):

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_ids_scan.py [--sets 1 2 ... 20] [--gen FIRST PARENTS]
        [--suite] [--json OUT]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import prepared, scan  # noqa: E402
from trainwell.babysit.constant_ids import check_constant_ids  # noqa: E402
from trainwell.babysit.loss_kinds import CLASS_ID_KINDS, resolve_loss  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's alarms on one setup, as ``doctor`` prepares it; quiet without an embedding."""
    if not any(isinstance(m, (nn.Embedding, nn.EmbeddingBag)) for m in model.modules()):
        return {"alarms": []}
    start = time.process_time()
    try:
        p = prepared(model, tr, va, te, opts)
        X, y = p.train
        if not torch.is_tensor(X) or not torch.is_floating_point(X):
            return {"alarms": [], "skipped": "inputs not a float tensor"}
        _, kind = resolve_loss(p.config.loss)
        class_ids = kind in CLASS_ID_KINDS or (kind == "other" and not torch.is_floating_point(y))
        found = check_constant_ids(p.model, X, y, class_ids=class_ids)
    except Exception as exc:            # a side the doctor reports as raising: nothing to read here
        return {"alarms": [], "skipped": f"{type(exc).__name__}: {exc}"[:120]}
    return {"alarms": sorted({f.code for f in found if f.severity in ("warning", "error")}),
            "messages": [f.message[:200] for f in found if f.severity in ("warning", "error")],
            "expected": sorted(expected), "cpu_s": time.process_time() - start}


if __name__ == "__main__":
    raise SystemExit(scan(side, description=__doc__.splitlines()[0]))
