"""The doctor's split checks (``split_checks.check_splits``) on every setup's splits, without training.

``check_splits`` reads only the splits (no model, no training): its findings on a setup are the
same in ``trainwell.doctor`` and here, at a fraction of the cost. This prints, per setup, the
warnings and errors it gives, for both sides of every pair of the user sets (``babysit_user.py``
.. ``babysit_user10.py``), the hand-written suite's cases and twins (``babysit_suite.py``) and the
generated benchmark's parents and mutants (``babysit_gen.py``, parents ``--first`` ..
``--first + --parents - 1``; setups that share their splits are read once). The last column is the
check's CPU seconds. A false alarm is a warning or error on a healthy side, a twin, a parent or a
harmless mutant.

Run: ``python bench/babysit_split_scan.py [--users] [--suite] [--gen --first F --parents P]``
(none given: all three, parents 0-39).
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from babysit_reach import SETS  # noqa: E402
from trainwell.babysit.split_checks import check_splits  # noqa: E402

USER_SETS = [SETS[k] for k in range(1, 11)]
# the generated benchmark's mutations that change the splits (the others change the model or the options)
DATA_MUTATIONS = {"labels_shuffled", "inputs_x1000", "inputs_shift_50", "inputs_nan", "labels_plus_1",
                  "single_class", "sorted_unshuffled"}


def alarms(splits) -> tuple[list[str], float]:
    start = time.process_time()
    found = check_splits(splits)
    said = [f"{f.code}/{f.severity}[{f.where}]" for f in found if f.severity in ("warning", "error")]
    return said, time.process_time() - start


def users():
    from types import SimpleNamespace
    for name in USER_SETS:
        module = importlib.import_module(name)
        for pair, build in module.PAIRS.items():
            for broken in (False, True):
                _, (train, val, test), _, _ = build(broken)
                said, cpu = alarms(SimpleNamespace(train=train, val=val, test=test))
                print(f"{name} {pair} {'broken' if broken else 'healthy'} {said} {cpu:.2f}", flush=True)


def suite():
    import babysit_suite
    for case in babysit_suite.CASES:
        for broken in (False, True):
            _, splits, _ = case.build(broken)
            said, cpu = alarms(splits if splits is not None else babysit_suite.data(case.data))
            print(f"suite {case.name} {'broken' if broken else 'twin'} {said} {cpu:.2f}", flush=True)


def generated(first: int, parents: int):
    import babysit_gen
    seen = {}
    for seed in range(first, first + parents):
        parent = babysit_gen.parent(seed)
        for setup in [parent] + babysit_gen.mutants(parent):
            key = (setup.data, setup.mutation if setup.mutation in DATA_MUTATIONS else "")
            if key not in seen:
                seen[key] = alarms(babysit_gen.build(setup)[1])
            said, cpu = seen[key]
            print(f"gen {setup.name} {said} {cpu:.2f}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", action="store_true", help="both sides of user sets 1-10")
    ap.add_argument("--suite", action="store_true", help="the hand-written suite's cases and twins")
    ap.add_argument("--gen", action="store_true", help="the generated benchmark's parents and mutants")
    ap.add_argument("--first", type=int, default=0, help="the first parent seed (--gen)")
    ap.add_argument("--parents", type=int, default=40, help="parents read (--gen)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    every = not (args.users or args.suite or args.gen)
    if args.users or every:
        users()
    if args.suite or every:
        suite()
    if args.gen or every:
        generated(args.first, args.parents)
    return 0


if __name__ == "__main__":
    sys.exit(main())
