"""``data_checks.check_inputs_normalized`` alone on every side of the user sets, the generated parents
and mutants (and the suite), on the training rows as ``doctor`` prepares them (the config's
``preprocess`` fitted): each row lists its warnings (``alarms``) and their messages, so a change to
the rule is measured for false alarms on healthy and harmless sides in CPU seconds:

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_scale_scan.py [--sets 1 2 ... 19] [--gen FIRST PARENTS]
        [--suite] [--json OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import alarm_codes, on_prepared, scan, skipped, timed  # noqa: E402
from trainwell.babysit.data_checks import check_inputs_normalized  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The rule's findings on one setup (``fit``'s arguments), on the training rows the pre-flight reads."""
    def read(p, X, y) -> dict:
        if not torch.is_tensor(X):
            return skipped("inputs not a tensor")
        found = check_inputs_normalized(X, y)
        return {"alarms": alarm_codes(found), "messages": [f.message[:240] for f in found]}
    return on_prepared(timed(read), model, tr, va, te, opts, sample=True)


def main(argv=None) -> int:
    return scan(side, argv, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())
