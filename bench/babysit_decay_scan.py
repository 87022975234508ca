"""The decay in the step of an optimizer the user built (own_decay.py), alone, on every side of the user
sets: no doctor.

For each setup whose optimizer the user built (an instance or a factory) the run is prepared as
``doctor`` prepares it (``prepare``, ``doctor.copy_of_the_run``: the optimizer as written over the copy)
and ``own_decay.check_own_decay`` runs on the training rows with the run's planned steps, no budget (every
experiment at its full steps: the check at its most alarming). A side whose optimizer trainwell builds is
skipped: the check does not run there and the doctor's findings are the same as without it. Each row
has the shrink the optimizer applies from zero gradients (``shrink``), its alarms and info notes, so a
change to the check is measured for false alarms (healthy and harmless sides) and for what it finds
(broken sides):

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_decay_scan.py [--sets 1 2 ... 28] [--json OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import alarm_codes, alarming, info_codes, on_prepared, scan, skipped, timed  # noqa: E402
from trainwell.babysit.doctor import copy_of_the_run  # noqa: E402
from trainwell.babysit.own_decay import check_own_decay, own_shrink  # noqa: E402
from trainwell.train.loop import total_steps  # noqa: E402
from trainwell.train.parts import make_batches  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's alarms on one setup (``fit``'s arguments), as ``doctor`` prepares it."""
    originals = list(model.parameters()) if isinstance(model, torch.nn.Module) else None

    def read(p, X, y) -> dict:
        run = copy_of_the_run(p, originals)
        if run.as_written is None or not torch.is_tensor(p.train[0]):
            return skipped("an optimizer trainwell builds")
        config = p.config
        steps = total_steps(config, len(make_batches(config, p.train)))
        measured = own_shrink(p.model, run.as_written)
        found = check_own_decay(p.model, p.train[0], p.train[1], run.loss_fn, optimizer=run.as_written, lr=run.lr,
                                batch_size=config.batch_size, seed=config.seed, run_steps=steps,
                                clip_norm=config.clip_norm, config=config)
        return {"alarms": alarm_codes(found), "messages": [f.message[:400] for f in alarming(found)],
                "infos": info_codes(found), "shrink": measured and measured["shrink"], "expected": sorted(expected)}
    return on_prepared(timed(read), model, tr, va, te, opts)


def main(argv=None) -> int:
    return scan(side, argv, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())
