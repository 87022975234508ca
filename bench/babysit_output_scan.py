"""The pre-flight's checks of the model's output against the loss (``loss_output_mismatch``), alone, on
every side of the user sets (1-16), the generated benchmark's parents and mutants and the hand-written
suite: no doctor.

For each setup the run is prepared as ``doctor`` prepares it (``babysit_reach.prepared``, then
``check_sample``) and ``preflight(..., cheap_only=True, data_checks=False)`` runs on the training rows
the pre-flight reads: the checks that need one forward pass, the loss and output checks among them
(``loss_checks.check_loss_output``: a softmax, sigmoid or bounding last operation before a loss that
takes logits). Each side's ``loss_output_mismatch`` findings are printed with their severity, so a
change to those checks is measured for false alarms (healthy and harmless sides) and for what it finds
(broken sides) in CPU seconds:

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_output_scan.py [--sets 1 2 ... 16] [--gen FIRST PARENTS]
        [--suite] [--json OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import on_prepared, scan, timed  # noqa: E402
from trainwell.babysit.preflight import preflight  # noqa: E402

CODE = "loss_output_mismatch"


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The side's ``loss_output_mismatch`` findings (``CODE:severity``), as ``doctor`` prepares it."""
    def read(p, X, y) -> dict:
        found = [f for f in preflight(p.model, X, y, loss=p.config.loss, num_classes=p.splits.num_classes,
                                      cheap_only=True, data_checks=False, seed=p.config.seed) if f.code == CODE]
        return {"alarms": sorted({f"{f.code}:{f.severity}" for f in found}),
                "messages": [f.message[:300] for f in found], "expected": sorted(expected)}
    return on_prepared(timed(read), model, tr, va, te, opts, sample=True)


def main(argv=None) -> int:
    return scan(side, argv, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())
