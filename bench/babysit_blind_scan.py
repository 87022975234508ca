"""The blind-model check and the loss arm's asymmetric entry, alone, on every side of the user sets
(1-14), the generated benchmark's parents and mutants and the hand-written suite: no doctor.

For each setup the run is prepared as ``doctor`` prepares it (``prepare``, then ``check_sample``) and
``blind_model.check_blind_model`` (``uninformative_inputs``: an input transformation the output is
exactly invariant to while the targets depend on it) runs on the training rows the pre-flight reads;
``asymmetric`` says whether the run's loss is a user's loss the loss arm now tries as aimed at another
statistic than the mean (``loss_arm.asymmetric``: only those setups can change the loss arm's verdict).
Each alarm is printed with its side, so the check is measured for false alarms (healthy and harmless
sides) and for what it finds (broken sides) in CPU seconds:

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_blind_scan.py [--sets 1 2 ... 14] [--gen FIRST PARENTS]
        [--suite] [--json OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import alarm_codes, alarming, on_prepared, scan, timed  # noqa: E402
from trainwell.babysit import loss_arm  # noqa: E402
from trainwell.babysit.blind_model import check_blind_model  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's alarms on one setup (``fit``'s arguments), as ``doctor`` prepares it."""
    def read(p, X, y) -> dict:
        found = alarming(check_blind_model(p.model, X, y, seed=p.config.seed,
                                           class_ids=torch.is_tensor(y) and not torch.is_floating_point(y)))
        loss, tail = p.config.loss, tuple(y.shape[1:])     # the loss arm's entry, as its experiment reads it
        fn = loss_arm.resolve_loss(loss)[0] if loss_arm.tried(loss, y, None) == "mse" else None
        skewed = fn is not None and not loss_arm.reads_targets(fn, y, tail) \
            and not loss_arm.reads_targets(loss_arm.swap(fn), y, tail) and loss_arm.asymmetric(fn, y, tail)
        return {"alarms": alarm_codes(found) + (["asymmetric_loss"] if skewed else []),
                "messages": [f.message[:300] for f in found], "expected": sorted(expected)}
    return on_prepared(timed(read), model, tr, va, te, opts, sample=True)


def main(argv=None) -> int:
    return scan(side, argv, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())
