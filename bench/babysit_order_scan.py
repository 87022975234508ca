"""The checks of the rows' order and fill, alone, on every pair of the user sets: no doctor.

``flat_rows.check_flat_rows`` (rows held at one value of their own, read by the pre-flight on the
training rows) and ``reversed_rows.check_reversed_rows`` (a class's rows in both time orders, read by
``split_checks`` on every labelled split's rows together), each side prepared as ``doctor`` prepares it
(``babysit_reach.on_float_rows``). Each alarm is printed with its side and the two checks' CPU seconds,
so a change to them is measured for false alarms (healthy and harmless sides) and for what it finds
(broken sides):

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_order_scan.py --sets 1 2 ... 24 [--json OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import on_float_rows, scan  # noqa: E402
from trainwell.babysit.flat_rows import check_flat_rows, read_rows  # noqa: E402
from trainwell.babysit.reversed_rows import check_reversed_rows, signal_rows  # noqa: E402

READ = {}       # the side being scanned: which of the two checks had inputs it reads (a row's "read")


def _order_checks(p, X, y, *, class_ids: bool, kind: str) -> list:
    parts = [pair for pair in (p.splits.train, p.splits.val, p.splits.test)
             if pair is not None and all(torch.is_tensor(t) for t in pair) and pair[0].shape[1:] == X.shape[1:]
             and pair[1].shape[1:] == y.shape[1:] and pair[1].dtype == y.dtype]
    found = check_flat_rows(X, y, class_ids=class_ids or kind in ("bce", "bce_prob"))
    READ["flat"] = read_rows(X, y) is not None
    if parts:
        rows, labels = torch.cat([a for a, _ in parts]), torch.cat([b for _, b in parts])
        found += check_reversed_rows(rows, labels)
        READ["reversed"] = signal_rows(rows, labels) is not None
    return found


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    """The two checks' alarms on one setup (``fit``'s arguments), as ``doctor`` prepares it."""
    READ.clear()
    row = on_float_rows(_order_checks, model, tr, va, te, opts, expected)
    return {**row, "read": sorted(k for k, v in READ.items() if v)}


if __name__ == "__main__":
    raise SystemExit(scan(side, description=__doc__.splitlines()[0]))
