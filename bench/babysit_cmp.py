"""Two folders of benchmark rows (``bench/babysit_rerun.py``), compared row by row.

For every side present in both: the doctor's verdict (its alarms and its top-1 finding), the kill
rule's label, and what ``babysit="repair"`` did (user sets: each seed's test score, within 2 points,
harm; generated lanes: repaired or not, the repaired and parent points, the repairs made, the healthy
harm). Each difference is printed with both values; sides found in one folder only are counted.
A folder's rows may be gzipped (``bench/rows/``: the rows of the last stop's rerun, kept as the next
one's "before").

    python bench/babysit_cmp.py BEFORE AFTER [--digits 4]
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path


def rows(folder: Path) -> dict:
    """Every row of a folder keyed by its side: ``("u16", pair, broken)`` or the generated name."""
    keyed = {}
    for path in sorted([*folder.glob("*.json"), *folder.glob("*.json.gz")]):
        if path.name.startswith("meta."):
            continue
        text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
        for row in json.loads(text):
            if "pair" in row:
                keyed[(path.name.split("_")[0], row["pair"], row["broken"])] = row
            else:
                keyed[row["name"]] = row
    return keyed


def _r(x, digits: int):
    if isinstance(x, float):
        return round(x, digits)
    if isinstance(x, (list, tuple)):
        return [_r(v, digits) for v in x]
    if isinstance(x, dict):
        return {k: _r(v, digits) for k, v in x.items()}
    return x


def verdict(row: dict) -> dict:
    return {"top1": row.get("top1"), "alarms": sorted(row.get("alarms") or []), "killed": row.get("killed")}


def repair(row: dict, digits: int) -> dict:
    if "pair" in row:
        return _r({"repair": [r.get("test") for r in row.get("repair") or []], "within": row.get("within"),
                   "harm": row.get("harm")}, digits)
    return _r({k: row.get(k) for k in ("repaired", "repair_points", "repairs", "healthy_harm")}, digits)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--digits", type=int, default=4, help="round scores to this many digits before comparing")
    args = ap.parse_args(argv)
    a, b = rows(Path(args.before)), rows(Path(args.after))
    both = [k for k in a if k in b]
    moved = {"verdict": 0, "repair": 0}
    for key in both:
        for what, read in (("verdict", verdict), ("repair", lambda r: repair(r, args.digits))):
            x, y = read(a[key]), read(b[key])
            if x != y:
                moved[what] += 1
                changed = {k: (x[k], y[k]) for k in x if x[k] != y[k]}
                print(f"{what} {key}: " + "; ".join(f"{k}: {u} -> {v}" for k, (u, v) in changed.items()))
    only = (len(set(a) - set(b)), len(set(b) - set(a)))
    print(f"{len(both)} sides in both: {moved['verdict']} verdicts and {moved['repair']} repaired runs differ; "
          f"{only[0]} sides only before, {only[1]} only after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
