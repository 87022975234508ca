"""``value_codes.sorted_quantiles`` against ``torch.quantile`` on every column the code check reads:
each call ``find_codes`` makes on the user sets' training rows is compared bit for bit (``torch.equal``)
with ``torch.quantile`` on the same sorted values, and the check's alarms are printed as
``babysit_codes_scan.py`` prints them (``calls``/``unequal`` per side in ``--json``):

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_quantile_proof.py --sets 1 2 ... 20 [--json OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import babysit_codes_scan  # noqa: E402
from babysit_reach import scan  # noqa: E402
from trainwell.babysit import value_codes  # noqa: E402

_indexed = value_codes.sorted_quantiles
_tally = {"calls": 0, "unequal": 0}


def _compared(v: torch.Tensor, q: list) -> torch.Tensor:
    out = _indexed(v, q)
    _tally["calls"] += 1
    _tally["unequal"] += not torch.equal(out, torch.quantile(v, torch.tensor(q, dtype=v.dtype)))
    return out


def side(*args, **kwargs) -> dict:
    _tally.update(calls=0, unequal=0)
    row = babysit_codes_scan.side(*args, **kwargs)
    row["alarms"] = row["alarms"] + [f"unequal:{_tally['unequal']}"] * bool(_tally["unequal"])
    return {**row, **_tally}


if __name__ == "__main__":
    value_codes.sorted_quantiles = _compared
    raise SystemExit(scan(side, description=__doc__.splitlines()[0]))
