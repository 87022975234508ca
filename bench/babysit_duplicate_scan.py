"""The copied-inputs check (``duplicate_inputs.check_duplicate_inputs``) alone on every side: no doctor.

The check reads the training rows alone, as the pre-flight reads them after ``prepare`` (the config's
``preprocess`` fitted): its findings here are the doctor's. Each side's warnings and errors are
printed (a false alarm: one on a healthy side, a generated parent or harmless mutant, a suite twin),
and its ``info`` findings after ``info:``:

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_duplicate_scan.py [--sets 1 ... 14]
        [--gen FIRST PARENTS] [--suite] [--json OUT]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import alarm_codes, on_prepared, scan, timed  # noqa: E402
from trainwell.babysit.duplicate_inputs import check_duplicate_inputs  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's findings on one setup (``fit``'s arguments), as ``doctor`` prepares it."""
    def read(p, X, y) -> dict:
        found = check_duplicate_inputs(X) if torch.is_tensor(X) else []
        info = [f.message[:120] for f in found if f.severity == "info"]
        return {"alarms": alarm_codes(found) + ([f"info: {info[0]}"] if info else []),
                "messages": [f.message[:200] for f in found], "expected": sorted(expected)}
    return on_prepared(timed(read, since=time.process_time()), model, tr, va, te, opts)


if __name__ == "__main__":
    raise SystemExit(scan(side, description=__doc__.splitlines()[0]))
