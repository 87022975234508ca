"""The babysitter under DDP against one process: 2 gloo ranks x batch B vs 1 process x batch 2B.

    PYTHONPATH=. python bench/bench_ddp_babysit.py [--out DIR]

The cases (tests/train/test_distributed.py's data and fp64 tanh MLP, seed 3, 84 training rows):

- ``watched``: watch mode, lr 5 on unstandardized inputs (x50 + 20), B = 8, 4 epochs;
- ``repaired_longer``: repair mode with a check every step, the same inputs and lr, B = 8, 7 epochs;
- ``tiny_watch`` / ``tiny_repair`` / ``tiny_watch_lr0.5``: per-rank batch B = 2 (vs 4), standardized
  inputs, lr 0.1 (0.5), 4 epochs, watch / repair with a check every step.

For each: whether both sample the same steps, the largest relative difference of the sampled loss
and of each activation statistic, the findings (code, layer, step) and the repairs (step, code,
action) of each. The babysitter's code is the one on ``PYTHONPATH`` (run it with an older
checkout's path to compare). About a minute.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "train"))
import ddp_job  # noqa: E402
import test_distributed as T  # noqa: E402

CASES = {"watched": (T.WATCHED, 8, T.AFFINE), "repaired_longer": (T.REPAIRED_LONGER, 8, T.AFFINE),
         "tiny_watch": (dict(T.SGD, epochs=4), 2, (1.0, 0.0)),
         "tiny_repair": (dict(T.SGD, epochs=4, babysit="repair", check_every=1), 2, (1.0, 0.0)),
         "tiny_watch_lr0.5": (dict(T.SGD, epochs=4, lr=0.5), 2, (1.0, 0.0))}


def _largest_differences(one: dict, two: dict) -> tuple:
    loss = max((abs(a["loss"] - b["loss"]) / abs(a["loss"]) for a, b in zip(one["samples"], two["samples"])),
               default=None)
    act = {}
    for a, b in zip(one["activations"], two["activations"]):
        for layer, stats in a["layers"].items():
            for key, v in stats.items():
                w = b["layers"].get(layer, {}).get(key)
                if isinstance(v, float) and isinstance(w, float):
                    act[key] = max(act.get(key, 0.0), abs(v - w) / max(1e-12, abs(v)))
    return loss, act


def main() -> None:
    from trainwell.babysit.monitor import Monitor
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="folder for the ranks' files (default: a temporary one)")
    args = parser.parse_args()
    root = Path(args.out or tempfile.mkdtemp(prefix="bench-ddp-babysit-"))
    root.mkdir(parents=True, exist_ok=True)
    jobs = []
    for name, (options, batch, affine) in CASES.items():
        job = {**T._job(name, root, options), "every_rank": True, "x_affine": affine}
        job["options"]["batch_size"] = batch
        jobs.append(job)
    T._Ranks(jobs, root / "spec.json").finish()
    for name, (options, batch, affine) in CASES.items():
        seen = []
        Monitor.on_fit_start = ddp_job.watching(seen)
        run = T._one_process(options, batch_size=T.WORLD * batch, x_affine=affine)
        one = json.loads(json.dumps(ddp_job.babysitter_record(seen[-1])))
        two = json.loads((root / f"{name}.safetensors.babysit.json").read_text())
        repairs = json.loads((root / f"{name}.safetensors.json").read_text())["repairs"]
        loss, act = _largest_differences(one, two)
        print(json.dumps({
            "case": name, "samples": len(one["samples"]),
            "same_sampled_steps": [s["step"] for s in one["samples"]] == [s["step"] for s in two["samples"]],
            "max_rel_loss_diff": loss, "max_rel_activation_diff": act,
            "findings_one": one["findings"], "findings_two": two["findings"],
            "repairs_one": [(r["step"], r["code"], r["action"]) for r in run.repairs],
            "repairs_two": [(r["step"], r["code"], r["action"]) for r in repairs]}), flush=True)


if __name__ == "__main__":
    main()
