"""``model_checks.check_batch_dependence`` alone on every side of the user sets, the generated
parents and mutants (and the suite), prepared as ``doctor`` prepares them: the probe's rows and the
pool of training rows the pre-flight passes. Each row lists the errors / warnings (``alarms``) and
the info notes (``infos``), so a change to the check is measured for false alarms in CPU seconds:

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_batch_scan.py [--sets 1 2 ... 19] [--gen FIRST PARENTS]
        [--suite] [--json OUT]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import prepared, scan  # noqa: E402
from trainwell.babysit.model_checks import check_batch_dependence  # noqa: E402
from trainwell.babysit.preflight import PROBE_ROWS  # noqa: E402
from trainwell.data.streaming import check_sample  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's findings on one setup (``fit``'s arguments), on the rows the pre-flight reads."""
    try:
        p = prepared(model, tr, va, te, opts)
        X, _ = check_sample(*p.train, seed=p.config.seed)
        start = time.process_time()
        rows = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(p.config.seed))
        found = check_batch_dependence(p.model, X[rows[:PROBE_ROWS]], seed=p.config.seed, pool=X)
    except Exception as exc:            # a side the doctor reports otherwise: nothing to read here
        return {"alarms": [], "skipped": f"{type(exc).__name__}: {exc}"[:120]}
    return {"alarms": sorted({f.code for f in found if f.severity in ("warning", "error")}),
            "infos": sorted({f.code for f in found if f.severity == "info"}), "cpu_s": time.process_time() - start}


def main(argv=None) -> int:
    return scan(side, argv, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())
