"""What checkpointing the babysitter's state costs (issue 11, branch babysit9).

* size and save time of a checkpoint with and without the callbacks' state (the monitor's samples
  and findings; the repairer's record and its two snapshots), for an MLP and a small CNN on digits,
  with babysit "watch" and "repair" (a healthy run: after its first healthy epoch the last good
  snapshot differs from the start, the worst case: two extra trainer states);
* the resume's cost: reading and loading that checkpoint, with and without the callbacks' state;
* that "watch" costs what it did: a 20-epoch digits fit with a run directory (a checkpoint every
  epoch), "watch" vs "off" side by side, on this tree and on another (``--base``, e.g. /work/main),
  interleaved, medians of the per-pair ratios.

    PYTHONPATH=. python bench/bench_babysit_state.py [--base /work/main] [--repeats 5]

The save/load times are medians of ``--repeats`` saves of the same state (fsync included).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

MODELS = {
    "mlp": {"type": "mlp", "widths": [256, 256]},
    "cnn": {"type": "cnn", "norm": "batch", "image_shape": [1, 8, 8]},
}
BASE = dict(progress=False, report=False, device="cpu", seed=0, batch_size=32)


def _trainer(model: str, babysit: str, epochs: int, run_dir: Path):
    from trainwell.train.fit import make_trainer, prepare
    p = prepare(MODELS[model], "digits", None, None, {**BASE, "babysit": babysit, "epochs": epochs})
    run_dir.mkdir(parents=True)
    trainer = make_trainer(p, run_dir=run_dir)
    trainer.fit()
    return trainer


def _bytes(manifest: Path) -> int:
    body = json.loads(manifest.read_text())
    return manifest.stat().st_size + body["body"]["tensors"]["bytes"]


def checkpoint_cost(model: str, babysit: str, *, epochs: int, repeats: int) -> dict:
    from trainwell.train.checkpoint import _encode, load_checkpoint, save_checkpoint
    with tempfile.TemporaryDirectory(prefix="babysit9-bench-") as tmp:
        trainer = _trainer(model, babysit, epochs, Path(tmp) / "run")
        out = {"model": model, "babysit": babysit, "steps": trainer.state.step}
        for label, callbacks in (("without", False), ("with", True)):
            state = trainer.state_dict(callbacks=callbacks)
            saves, loads, path = [], [], None
            for i in range(repeats):
                t0 = time.perf_counter()
                path = save_checkpoint(Path(tmp) / label, state, name=f"ckpt-{i:08d}", keep=2)
                saves.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                loaded = load_checkpoint(path)
                trainer.load_state_dict(loaded)
                loads.append(time.perf_counter() - t0)
            out[label] = {"bytes": _bytes(path), "save_s": statistics.median(saves),
                          "resume_s": statistics.median(loads)}
        encode = []                           # the callbacks' part alone, as JSON nodes and tensors
        for _ in range(repeats):
            t0 = time.perf_counter()
            _encode(trainer.state_dict()["callbacks"], (), {})
            encode.append(time.perf_counter() - t0)
        out["callbacks_encode_s"] = statistics.median(encode)
        out["size_ratio"] = out["with"]["bytes"] / out["without"]["bytes"]
        out["save_ratio"] = out["with"]["save_s"] / out["without"]["save_s"]
        out["resume_ratio"] = out["with"]["resume_s"] / out["without"]["resume_s"]
        return out


_FIT = """
import sys, time, tempfile, torch
torch.set_num_threads(1)
import trainwell
mode = sys.argv[1]
with tempfile.TemporaryDirectory(prefix="babysit9-bench-") as tmp:
    t0, c0 = time.perf_counter(), time.process_time()
    trainwell.fit({"type": "mlp", "widths": [512, 512]}, "digits", babysit=mode, epochs=20, batch_size=32,
                  progress=False, report=False, device="cpu", seed=0, run_dir=tmp + "/r")
    print(time.perf_counter() - t0, time.process_time() - c0)
"""


def watch_overhead(trees: dict, *, repeats: int) -> dict:
    """Per tree: the medians over interleaved pairs of watch / off wall time and process CPU time
    (subprocesses; CPU time moves less with the other jobs' load)."""
    times = {name: {"off": [], "watch": []} for name in trees}
    for i in range(repeats):
        for name, root in (trees.items() if i % 2 == 0 else reversed(list(trees.items()))):
            for mode in (("off", "watch") if i % 2 == 0 else ("watch", "off")):
                env = {**os.environ, "PYTHONPATH": str(root)}
                done = subprocess.run([sys.executable, "-c", _FIT, mode], env=env, capture_output=True, text=True,
                                      check=True)
                times[name][mode].append([float(v) for v in done.stdout.strip().splitlines()[-1].split()])
    out = {}
    for name, t in times.items():
        wall = [w[0] / o[0] for w, o in zip(t["watch"], t["off"])]
        cpu = [w[1] / o[1] for w, o in zip(t["watch"], t["off"])]
        out[name] = {"off_cpu_s": statistics.median(o[1] for o in t["off"]),
                     "watch_cpu_s": statistics.median(w[1] for w in t["watch"]),
                     "wall_ratio": statistics.median(wall), "cpu_ratio": statistics.median(cpu),
                     "cpu_ratios": [round(r, 3) for r in cpu]}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="another source tree to compare the watch overhead with")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--no-overhead", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"load average: {os.getloadavg()}")
    for model in MODELS:
        for babysit in ("watch", "repair"):
            row = checkpoint_cost(model, babysit, epochs=args.epochs, repeats=args.repeats)
            print(json.dumps(row))
    if not args.no_overhead:
        trees = {"this": Path(__file__).resolve().parents[1]}
        if args.base:
            trees["base"] = Path(args.base).resolve()
        print(json.dumps(watch_overhead(trees, repeats=args.repeats)))
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
