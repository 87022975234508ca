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

from babysit_reach import on_prepared, scan, skipped, timed  # noqa: E402
from trainwell.babysit import learnable, loss_kinds, overfit  # noqa: E402
from trainwell.babysit.loss_kinds import resolve_loss  # noqa: E402
from trainwell.babysit.target_relation import check_targets_learnable  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's alarms on one setup, on the training rows ``doctor`` prepares."""
    def read(p, X, y) -> dict:
        if not torch.is_tensor(X) or not torch.is_tensor(y):
            return skipped("not tensors")
        _, kind = resolve_loss(p.config.loss)
        found = check_targets_learnable(
            p.model, X, y, kind, regression_kinds=loss_kinds.REGRESSION_KINDS, memorize=learnable.MEMORIZE_ROWS,
            unseen_rows=learnable.UNSEEN_ROWS, min_unseen=learnable.MIN_UNSEEN_ROWS, steps=overfit.REFERENCE_STEPS,
            sigmas=learnable.CHANCE_SIGMAS, gen=torch.Generator().manual_seed(0),
            disable_regularization=overfit.disable_regularization)
        return {"alarms": sorted({f.code for f in found}), "messages": [f.message[:200] for f in found],
                "expected": sorted(expected)}
    return on_prepared(timed(read, since=time.process_time()), model, tr, va, te, opts)


if __name__ == "__main__":
    raise SystemExit(scan(side, description=__doc__.splitlines()[0]))
