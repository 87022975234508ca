"""``model_checks.check_batch_dependence`` alone on every side of the user sets, the generated
parents and mutants (and the suite), prepared as ``doctor`` prepares them: the probe's rows and the
pool of training rows the pre-flight passes. Each row lists the errors / warnings (``alarms``) and
the info notes (``infos``), so a change to the check is measured for false alarms in CPU seconds:

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_batch_scan.py [--sets 1 2 ... 19] [--gen FIRST PARENTS]
        [--suite] [--json OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import alarm_codes, info_codes, on_prepared, scan, timed  # noqa: E402
from trainwell.babysit.model_checks import check_batch_dependence  # noqa: E402
from trainwell.babysit.preflight import PROBE_ROWS  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's findings on one setup (``fit``'s arguments), on the rows the pre-flight reads."""
    def read(p, X, y) -> dict:
        rows = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(p.config.seed))
        found = check_batch_dependence(p.model, X[rows[:PROBE_ROWS]], seed=p.config.seed, pool=X)
        return {"alarms": alarm_codes(found), "infos": info_codes(found)}
    return on_prepared(timed(read), model, tr, va, te, opts, sample=True)


def main(argv=None) -> int:
    return scan(side, argv, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())
