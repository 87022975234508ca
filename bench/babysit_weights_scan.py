"""The doctor's check of the loss's class weights (classes balanced twice), alone, on every side of the
user sets, the generated benchmark and the hand-written suite: no doctor.

For each setup the run is prepared as ``doctor`` prepares it (``prepare``, then ``check_sample``), the
model's outputs on the pre-flight's probe rows are read by ``class_weighting.check_class_weights`` with
the run's loss, and ``split_checks.grade_imbalance`` judges the finding against the splits as the
doctor does. Each alarm is printed with its side; each row lists the info notes (``infos``) and the
correction exponent where the loss weights its classes:

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_weights_scan.py [--sets 1 2 ... 24] [--gen FIRST PARENTS]
        [--suite] [--json OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import alarm_codes, info_codes, on_prepared, scan, timed  # noqa: E402
from trainwell.babysit.class_weighting import check_class_weights  # noqa: E402
from trainwell.babysit.loss_kinds import resolve_loss  # noqa: E402
from trainwell.babysit.preflight import PROBE_ROWS  # noqa: E402
from trainwell.babysit.split_checks import grade_imbalance  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's alarms on one setup (``fit``'s arguments), as ``doctor`` prepares it."""
    def read(p, X, y) -> dict:
        loss_fn = resolve_loss(p.config.loss)[0]
        with torch.no_grad():
            out = p.model.train()(X[:PROBE_ROWS])
        found = grade_imbalance(check_class_weights(loss_fn, out, y[:PROBE_ROWS], y), p.splits)
        return {"alarms": alarm_codes(found), "messages": [f.message[:400] for f in found],
                "infos": info_codes(found), "exponent": [f.evidence.get("correction_exponent") for f in found],
                "expected": sorted(expected)}
    return on_prepared(timed(read), model, tr, va, te, opts, sample=True)


def main(argv=None) -> int:
    return scan(side, argv, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())
