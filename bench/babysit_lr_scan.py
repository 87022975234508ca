"""Whether an ``lr_too_low`` alarm is true: each alarmed side trained at its own lr and a few times it.

The user sets score every alarm on a healthy (or harmlessly broken) side as a false alarm, because the
side was written to be fault-free. An ``lr_too_low`` alarm says something that can be measured
instead: the run ends measurably worse at its own lr than at a larger one. The notes' babysitting
check ("loss barely changing: lr too low") and the lr range test (Smith 2017, "Cyclical Learning
Rates") both read the lr by training at others; so does this scan, with the user sets' own measure.
Each side is trained with ``babysit="off"`` at its lr and at ``FACTORS`` x it, on the user sets'
seeds, and issue 11's kill rule (``babysit_user.killed``: >= 3 points of validation accuracy, or
MSE / Var(y) 25 % higher) is read with the best raised lr as the reference: where the own lr's run
is "killed" by it, the setup is slow at its lr (the alarm is true, whatever the set's label);
otherwise the alarm is false. A raised lr whose run fails scores as failed, never as the reference.

Which sides: every row with ``lr_too_low`` among its alarms in the sets' stored rows
(``--rows DIR``: ``uN_a.json`` / ``uN_b.json`` as ``babysit_user.py --json`` writes them), or the
sides named with ``--side SET:PAIR:healthy|broken``. The alarms are the rows' (rerun the doctor on
today's main first where they are older).

    python bench/babysit_lr_scan.py --rows /tmp/rows_now --sets 8 13 18 19 [--json out.json]
    python bench/babysit_lr_scan.py --side 18:tiles_noise_std_grey_levels:healthy
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import babysit_user as user  # noqa: E402  (the kill rule, the scores, the training of a side)
from babysit_reach import SETS  # noqa: E402

from trainwell.config import Config  # noqa: E402

FACTORS = (3.0, 10.0)     # the raised lrs tried: the lr range test's steps of about half a decade
CODE = "lr_too_low"


def set_module(number: int):
    """The user set's module (``babysit_reach.SETS``: ``babysit_user`` for set 1, ``babysit_userN`` otherwise)."""
    return importlib.import_module(SETS[number])


def alarmed_sides(rows_dir: Path, sets: list) -> list:
    """``(set, pair, broken)`` of every stored row with ``CODE`` among its alarms."""
    out = []
    for n in sets:
        for half in ("a", "b"):
            path = rows_dir / f"u{n}_{half}.json"
            if path.exists():
                out += [(n, r["pair"], r["broken"]) for r in json.loads(path.read_text()) if CODE in r["alarms"]]
    return out


def at_lr(make, factor: float):
    """The side's maker with its lr (the run's option, else ``Config``'s default) times ``factor``."""
    def scaled(broken):
        model, parts, opts, expected = make(broken)
        return model, parts, {**opts, "lr": opts.get("lr", Config().lr) * factor}, expected
    return scaled


def scores(make, broken: bool, factor: float, seeds, *, regression: bool) -> list:
    """The validation scores (accuracy or R^2; None: failed) of the side's ``babysit="off"`` runs."""
    pairs = {"side": at_lr(make, factor)}
    return [user._train(pairs, "side", broken, babysit="off", seed=s, regression=regression)["val"] for s in seeds]


def slow_at_its_lr(own: list, raised: dict, *, regression: bool) -> float | None:
    """The raised factor whose runs "kill" the own lr's by the kill rule (the best such by mean
    score), None where none does (or the own lr's run failed: no reference to read)."""
    if any(v is None for v in own):
        return None
    better = {f: v for f, v in raised.items()
              if all(x is not None for x in v) and user.killed(v, own, regression=regression)}
    return max(better, key=lambda f: sum(better[f]) / len(better[f])) if better else None


def scan_side(number: int, pair: str, broken: bool, seeds) -> dict:
    make = set_module(number).PAIRS[pair]
    regression = bool(torch.is_floating_point(make(False)[1][2][1]))
    own = scores(make, broken, 1.0, seeds, regression=regression)
    raised = {f: scores(make, broken, f, seeds, regression=regression) for f in FACTORS}
    factor = slow_at_its_lr(own, raised, regression=regression)
    return {"set": number, "pair": pair, "broken": broken, "regression": regression, "own": own,
            "raised": {str(f): v for f, v in raised.items()}, "slow_by": factor,
            "verdict": "slow at its lr (true)" if factor else "false alarm"}


def _mean(values) -> str:
    return "failed" if any(v is None for v in values) else f"{sum(values) / len(values):.3f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=Path, help="folder of the sets' rows (uN_a.json, uN_b.json)")
    ap.add_argument("--sets", type=int, nargs="+", default=[], help="user sets to read from --rows (1-22)")
    ap.add_argument("--side", nargs="+", default=[], help="SET:PAIR:healthy|broken, scanned whatever its alarms")
    ap.add_argument("--seeds", type=int, default=len(user.SEEDS), help="training seeds per lr (0, 1, ...)")
    ap.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = ap.parse_args(argv)
    sides = alarmed_sides(args.rows, args.sets) if args.rows else []
    for spec in args.side:
        number, pair, side = spec.split(":")
        if side not in ("healthy", "broken"):
            ap.error(f"--side {spec!r}: the side must be healthy or broken, not {side!r}")
        sides.append((int(number), pair, side == "broken"))
    rows = []
    print("| set | pair | side | own lr val | " + " | ".join(f"lr x{f:g} val" for f in FACTORS) + " | verdict |")
    print("| --- | --- | --- | --- | " + " | ".join("---" for _ in FACTORS) + " | --- |")
    for number, pair, broken in sides:
        row = scan_side(number, pair, broken, range(args.seeds))
        rows.append(row)
        print(f"| {number} | {pair} | {'broken' if broken else 'healthy'} | {_mean(row['own'])} | "
              + " | ".join(_mean(v) for v in row["raised"].values()) + f" | {row['verdict']} |", flush=True)
    slow = sum(r["slow_by"] is not None for r in rows)
    print(f"\n{slow} of {len(rows)} alarmed sides are slow at their lr by the kill rule; "
          f"{len(rows) - slow} false alarms")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
