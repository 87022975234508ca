"""The data checks of value_codes.py and label_relation.py on every data set the benchmarks build: alarms per setup.

No training and no doctor: each setup's training split goes through ``value_codes.check_value_codes``
(missing-value codes, wrapped integers) and, for class ids, ``label_relation.column_relations``
(how many input columns relate to the labels: where the pre-flight's unseen-rows check would report
``label_problem``, a setup with a related column gets it reread as ``uninformative_inputs``). Read on:

* both sides of every pair of the user sets 1-7 (``bench/babysit_user{,2,...,7}.py``);
* scikit-learn's bundled data sets (digits, breast cancer, wine, diabetes, iris): raw, standardized,
  min-max scaled, and digits as 8x8 images;
* the generated benchmark's data (``bench/babysit_gen.py``: digits, the teacher task, blobs with 2-10
  classes, the regression) and its input mutations (x1000, +50; NaN rows are ``nonfinite_data``'s).

Run: ``python bench/bench_value_codes.py [--sets 1,2,...,7] [--json out.json]``; prints one line per
setup with an alarm and the totals.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

import torch
from sklearn import datasets

sys.path.insert(0, str(Path(__file__).resolve().parent))

from trainwell.babysit.label_relation import column_relations  # noqa: E402
from trainwell.babysit.value_codes import check_value_codes  # noqa: E402

SET_MODULES = {1: "babysit_user", 2: "babysit_user2", 3: "babysit_user3", 4: "babysit_user4", 5: "babysit_user5",
               6: "babysit_user6", 7: "babysit_user7"}


def _row(name: str, X, y, *, expected=frozenset()) -> dict:
    X = torch.as_tensor(X)
    y = torch.as_tensor(y)
    t = time.process_time()
    findings = check_value_codes(X)
    related = None
    if not torch.is_floating_point(y) and y.ndim == 1 and y.shape[0] == X.shape[0]:
        rel = column_relations(X.float(), y)
        related = None if rel is None else int(rel["related"].numel())
    return {"setup": name, "alarms": [f"{f.code}:{'sentinel' if f.evidence.get('sentinel') else 'wrap'}"
                                      for f in findings],
            "messages": [f.message[:200] for f in findings], "related_columns": related,
            "label_problem_expected": "label_problem" in expected, "cpu_s": time.process_time() - t}


def user_sets(sets) -> list:
    rows = []
    for k in sets:
        mod = importlib.import_module(SET_MODULES[k])
        for pair, build in mod.PAIRS.items():
            for broken in (False, True):
                torch.manual_seed(0)
                try:
                    built = build(broken)
                except Exception as exc:                # a pair that needs what this machine lacks
                    rows.append({"setup": f"set{k}/{pair}/{'broken' if broken else 'healthy'}", "error": str(exc)})
                    continue
                (X, y), expected = built[1][0], built[3]
                rows.append(_row(f"set{k}/{pair}/{'broken' if broken else 'healthy'}", X, y, expected=expected))
    return rows


def sklearn_sets() -> list:
    rows = []
    for name, load in (("digits", datasets.load_digits), ("breast_cancer", datasets.load_breast_cancer),
                       ("wine", datasets.load_wine), ("diabetes", datasets.load_diabetes), ("iris", datasets.load_iris)):
        X, y = load(return_X_y=True)
        X = torch.tensor(X, dtype=torch.float32)
        y = torch.tensor(y) if name != "diabetes" else torch.tensor(y, dtype=torch.float32)
        lo, hi = X.min(0).values, X.max(0).values
        for how, x in (("raw", X), ("standardized", (X - X.mean(0)) / (X.std(0) + 1e-8)),
                       ("minmax", (X - lo) / (hi - lo).clamp_min(1e-8))):
            rows.append(_row(f"sklearn/{name}/{how}", x, y))
        if name == "digits":
            rows.append(_row("sklearn/digits/images", X.reshape(-1, 1, 8, 8) / 16.0, y))
    return rows


def generated() -> list:
    import babysit_gen as gen
    rows = []
    for name in ["digits", "teacher", "regression"] + [f"blobs{k}" for k in range(2, 11)]:
        X, y = gen.data(name).train
        rows.append(_row(f"gen/{name}", X, y))
        for op in ("inputs_x1000", "inputs_shift_50"):
            s = gen.OPERATORS[op].apply(None, gen.data(name), {})[1]
            rows.append(_row(f"gen/{name}/{op}", *s.train))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="1,2,3,4,5,6,7")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = user_sets([int(s) for s in args.sets.split(",") if s]) + sklearn_sets() + generated()
    for r in rows:
        if r.get("error") or r.get("alarms"):
            print(r["setup"], r.get("alarms") or r.get("error"), *(r.get("messages") or []), sep="\n    ")
    ok = [r for r in rows if "error" not in r]
    print(f"setups read: {len(ok)} (errors: {len(rows) - len(ok)}); with a value-code alarm: "
          f"{sum(bool(r['alarms']) for r in ok)}")
    lp = [r for r in ok if r["label_problem_expected"] and r["setup"].endswith("broken")]
    print("broken sides expecting label_problem, related columns (0 keeps label_problem): "
          + ", ".join(f"{r['setup']}={r['related_columns']}" for r in lp))
    print(f"cpu seconds, max per setup: {max(r['cpu_s'] for r in ok):.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
