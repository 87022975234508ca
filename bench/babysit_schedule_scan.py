"""``schedule_check``'s candidates alone (no experiment) on every side of the user sets and the
generated parents and mutants, on the schedule ``fit`` builds for the run: each row lists
``schedule_decays_early`` / ``schedule_starts_late`` where the side is a candidate for the
experiment (``alarms``) and the schedule's ``dead_share``, so a change to what makes a candidate is
measured in CPU seconds:

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_schedule_scan.py [--sets 1 2 ... 19] [--gen FIRST PARENTS]
        [--suite] [--json OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import on_prepared, scan  # noqa: E402
from trainwell.babysit import schedule_check  # noqa: E402
from trainwell.train.loop import total_steps  # noqa: E402
from trainwell.train.parts import build_schedule_for, make_batches  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The candidates on one setup (``fit``'s arguments), on the schedule the doctor reads."""
    def read(p, X, y) -> dict:
        per_epoch = len(make_batches(p.config, p.train))
        steps = total_steps(p.config, per_epoch)
        schedule = build_schedule_for(p.config, steps, per_epoch)
        alarms = ([schedule_check.CODE] if schedule_check.candidate(schedule, steps) is not None else []) + (
            [schedule_check.LATE_CODE] if schedule_check.start_candidate(schedule, steps) is not None else [])
        dead = None if schedule is None else schedule_check.dead_share(schedule, steps)
        return {"alarms": alarms, "dead_share": dead}
    return on_prepared(read, model, tr, va, te, opts)


def main(argv=None) -> int:
    return scan(side, argv, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())
