"""The regression targets' relation check alone (``target_relation.check_targets_learnable``) on every
side of the user sets, the generated benchmark and the suite: no doctor.

A side whose targets are not a regression's is skipped by the check itself (it returns nothing). Each
alarm is printed with its side, so the check is measured for false alarms (healthy and harmless
sides) and for what it finds (broken sides) in CPU seconds:

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_targets_scan.py [--sets 1 2 ... 16]
        [--gen FIRST PARENTS] [--suite] [--json OUT]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import prepared, scan  # noqa: E402
from trainwell.babysit import learnable, loss_kinds, overfit
from trainwell.babysit.loss_kinds import resolve_loss  # noqa: E402
from trainwell.babysit.target_relation import check_targets_learnable  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's alarms on one setup, on the training rows ``doctor`` prepares."""
    start = time.process_time()
    try:
        p = prepared(model, tr, va, te, opts)
        X, y = p.train
        if not torch.is_tensor(X) or not torch.is_tensor(y):
            return {"alarms": [], "skipped": "not tensors"}
        _, kind = resolve_loss(p.config.loss)
        found = check_targets_learnable(
            p.model, X, y, kind, regression_kinds=loss_kinds.REGRESSION_KINDS, memorize=learnable.MEMORIZE_ROWS,
            unseen_rows=learnable.UNSEEN_ROWS, min_unseen=learnable.MIN_UNSEEN_ROWS, steps=overfit.REFERENCE_STEPS,
            sigmas=learnable.CHANCE_SIGMAS, gen=torch.Generator().manual_seed(0),
            disable_regularization=overfit.disable_regularization)
    except Exception as exc:            # a side the doctor reports as raising: nothing to read here
        return {"alarms": [], "skipped": f"{type(exc).__name__}: {exc}"[:120]}
    return {"alarms": sorted({f.code for f in found}), "messages": [f.message[:200] for f in found],
            "expected": sorted(expected), "cpu_s": time.process_time() - start}


if __name__ == "__main__":
    raise SystemExit(scan(side, description=__doc__.splitlines()[0]))
