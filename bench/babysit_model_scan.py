"""The doctor's checks of how the forward uses the user's modules, alone, on every side of the user
sets (1-14), the generated benchmark's parents and mutants and the hand-written suite: no doctor.

For each setup the run is prepared as ``doctor`` prepares it (``prepare``, then ``check_sample``) and
``cut_gradient.check_gradient_reaches`` (``frozen_parameters``: the graph cut), ``module_use.check_module_use``
(``partly_used_module``) and ``module_use.check_shared_modules`` (``shared_module``) run on the training
rows the pre-flight reads (each row also lists the info notes, ``infos``). Each alarm is printed with its side,
so a change to these checks is measured for false alarms (healthy and harmless sides) and for what it
finds (broken sides) in CPU seconds, not hours:

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_model_scan.py [--sets 1 2 ... 14] [--gen FIRST PARENTS]
        [--suite] [--json OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import alarm_codes, alarming, info_codes, on_prepared, scan, timed  # noqa: E402
from trainwell.babysit.cut_gradient import check_gradient_reaches  # noqa: E402
from trainwell.babysit.module_use import check_module_use, check_shared_modules  # noqa: E402
from trainwell.babysit.loss_kinds import resolve_loss  # noqa: E402

def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The checks' alarms on one setup (``fit``'s arguments), as ``doctor`` prepares it."""
    def read(p, X, y) -> dict:
        loss_fn = resolve_loss(p.config.loss)[0]
        found = (check_gradient_reaches(p.model, X, y, loss_fn, seed=p.config.seed)
                 + check_module_use(p.model, X, y, loss_fn, seed=p.config.seed)
                 + check_shared_modules(p.model, X))
        return {"alarms": alarm_codes(found), "messages": [f.message[:300] for f in alarming(found)],
                "infos": info_codes(found), "expected": sorted(expected)}
    return on_prepared(timed(read), model, tr, va, te, opts, sample=True)


def main(argv=None) -> int:
    return scan(side, argv, description=__doc__.splitlines()[0])

if __name__ == "__main__":
    raise SystemExit(main())
