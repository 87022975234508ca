"""absorbing_class.check_absorbing_classes alone on every side, as split_checks reads it.

The check (a class that holds rows of every other class: rows without a label given one class's
id) runs in ``split_checks.check_splits`` on a table's class ids, over every split's labelled rows.
This scan prepares each setup as ``doctor`` does (``babysit_reach.prepared``), joins the splits as
``check_splits`` does and prints the check's warnings per side, with its CPU seconds, on the user
sets, ``--gen``'s generated parents and mutants and ``--suite``'s cases and twins
(``babysit_reach.scan``'s options); ``judged`` in the rows says whether the side has three classes
or more, each of ``class_pairs.MIN_CLASS_ROWS`` rows. A false alarm is an alarm on a healthy side, a
twin, a parent or a harmless mutant.

Run: ``python bench/babysit_absorb_scan.py --gen 0 16 --suite --json OUT``.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from babysit_reach import on_prepared, scan, skipped, timed  # noqa: E402
from trainwell.babysit.absorbing_class import check_absorbing_classes  # noqa: E402
from trainwell.babysit.class_pairs import MIN_CLASS_ROWS  # noqa: E402
from trainwell.babysit.split_checks import _labelled_like  # noqa: E402


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The check's alarms on one setup, on the rows ``check_splits`` passes it."""
    def read(p, X, y) -> dict:
        splits = p.splits
        train = splits.train
        if not (isinstance(train, tuple) and len(train) == 2 and all(torch.is_tensor(t) for t in train)) \
                or torch.is_floating_point(train[1]) or train[0].ndim != 2:
            return skipped("not a table's class ids")
        parts = [split for split in (splits.train, splits.val, splits.test) if _labelled_like(split, train)]
        labels = torch.cat([b for _, b in parts])
        found = check_absorbing_classes(torch.cat([a for a, _ in parts]), labels)
        counts = torch.unique(labels, return_counts=True)[1] if labels.ndim == 1 else torch.zeros(0)
        judged = len(counts) >= 3 and bool((counts >= MIN_CLASS_ROWS).all())
        return {"alarms": sorted({f.code for f in found}), "messages": [f.message[:300] for f in found],
                "expected": sorted(expected), "judged": judged}
    return on_prepared(timed(read, since=time.process_time()), model, tr, va, te, opts)


if __name__ == "__main__":
    raise SystemExit(scan(side, description=__doc__.splitlines()[0]))
