"""Data-parallel throughput on the CPU: 2 gloo ranks x 1 thread against 1 process x 1 thread.

    python bench/bench_ddp.py [--repeats 3] [--epochs 3] [--batch-size 128]
    python bench/bench_ddp.py --repaired [--epochs 3] [--batch-size 128]
    python bench/bench_ddp.py --watch [--repeats 3] [--epochs 4] [--batch-size 128]

The job: an MLP 784-512-512-10 on 20,000 random 784-dim inputs (10 classes), SGD with momentum,
babysitter, validation and report off (pure training). Each repeat runs, interleaved:

- ``one``: one process, one thread, batch B;
- ``pair``: two independent one-thread processes at once, batch B each: the compute-only
  reference under the same load as the two ranks (what the cores give without communication);
- ``ddp``: two ranks (``trainwell.fit`` under torchrun's variables), one thread each, batch B per
  rank (the global batch 2B); after training, each rank also times bare all-reduces of a
  gradient-sized float32 buffer (the communication one step makes).

Examples per second come from each run's own epoch times (``history[i]["seconds"]``, the first
epoch left out: warm-up), so process start-up is not counted. The split of a DDP step:
compute = the ``pair`` step time, all-reduce = the bare all-reduce time, the rest (waiting for
the slower rank, DDP's bookkeeping) = step time minus both. Medians over repeats.
Takes about 2 minutes on an idle 2-core machine.

``--repaired``: the same job with the lr far too high (``REPAIRED_LR``) and ``babysit =
"repair"``, 2 ranks x batch B against 1 process x batch 2B (``check_every = 1``, so a repair acts
at the step the babysitter finds the problem in both): the repairs each made (step, code, action),
the final training and validation metrics, and the wall time of each run. Under a minute idle.

``--watch``: the throughput job with ``babysit = "watch"`` against ``"off"``, on 1 process and on
2 ranks (batch B per process), interleaved per repeat: the watch overhead of each (examples/s off
/ watch - 1, medians over repeats), the monitor's own time per sampled step (its ``monitor_seconds``
over its samples; on 2 ranks it includes the all-reduce of the shard sums) and a bare all-reduce of
a tensor the size of that sample's sums (float64), timed after training. About 3 minutes idle.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N, D, CLASSES, WIDTHS = 20_000, 784, 10, (512, 512)
ALLREDUCE_REPEATS = 20
REPAIRED_LR = 5.0           # 100x the job's lr: the loss explodes in the first steps


def worker(args) -> None:
    import torch
    from torch import nn

    import trainwell

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(N, D, generator=g)
    y = (X @ torch.randn(D, CLASSES, generator=g)).argmax(1)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(D, WIDTHS[0]), nn.ReLU(), nn.Linear(WIDTHS[0], WIDTHS[1]), nn.ReLU(),
                          nn.Linear(WIDTHS[1], CLASSES))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if args.repaired:
        repaired_worker(model, X, y, args, world)
        return
    monitors = _watch_monitors()
    run = trainwell.fit(model, (X, y), optimizer="sgd", lr=0.05, momentum=0.9, epochs=args.epochs,
                        batch_size=args.batch_size, babysit=args.babysit, report=False, progress=False,
                        schedule="constant", seed=0, device="cpu")
    seconds = statistics.median(m["seconds"] for m in run.history[1:])
    steps = run.history[1]["step"] - run.history[0]["step"]
    out = {"examples_per_s": N / seconds, "step_ms": 1e3 * seconds / steps, "world": world}
    if monitors:
        monitor = monitors[-1]
        out.update(samples=len(monitor.samples), every=monitor.every,
                   sample_ms=1e3 * monitor.monitor_seconds / max(1, len(monitor.samples)))
        if world > 1:                        # the shard sums one sample all-reduces
            units = [m.out_features for m in model if isinstance(m, nn.Linear)][:-1]
            sums = torch.zeros(3 + 3 + sum(6 + 3 * u for u in units), dtype=torch.float64)
            torch.distributed.barrier()
            started = time.perf_counter()
            for _ in range(ALLREDUCE_REPEATS):
                torch.distributed.all_reduce(sums)
            out["sample_allreduce_ms"] = 1e3 * (time.perf_counter() - started) / ALLREDUCE_REPEATS
    if world > 1:
        grads = torch.zeros(sum(p.numel() for p in model.parameters()))
        torch.distributed.barrier()
        started = time.perf_counter()
        for _ in range(ALLREDUCE_REPEATS):
            torch.distributed.all_reduce(grads)
        out["allreduce_ms"] = 1e3 * (time.perf_counter() - started) / ALLREDUCE_REPEATS
        out["params"] = grads.numel()
    if int(os.environ.get("RANK", "0")) == 0:
        print("RESULT " + json.dumps(out), flush=True)


def _watch_monitors() -> list:
    """The monitors ``fit`` starts in this process, appended as they start."""
    from trainwell.babysit.monitor import Monitor
    monitors, start = [], Monitor.on_fit_start

    def on_fit_start(self, state):
        monitors.append(self)
        start(self, state)
    Monitor.on_fit_start = on_fit_start
    return monitors


def repaired_worker(model, X, y, args, world: int) -> None:
    import trainwell
    n_val = N // 10
    started = time.perf_counter()
    run = trainwell.fit(model, (X[n_val:], y[n_val:]), val=(X[:n_val], y[:n_val]), optimizer="sgd",
                        lr=REPAIRED_LR, momentum=0.9, epochs=args.epochs, batch_size=args.batch_size * 2 // world,
                        babysit="repair", check_every=1, report=False, progress=False, seed=0, device="cpu")
    seconds = time.perf_counter() - started
    if int(os.environ.get("RANK", "0")) == 0:
        last = run.history[-1]
        print("RESULT " + json.dumps({
            "world": world, "seconds": seconds, "stopped": run.stopped.kind.value,
            "repairs": [[r["step"], r["code"], r["action"]] for r in run.repairs],
            **{k: last[k] for k in ("train_loss", "train_acc", "val_loss", "val_acc")}}), flush=True)


def repaired(args) -> None:
    one, = _processes(1, ranks=False, args=args)
    two, = _processes(2, ranks=True, args=args)
    for row in (one, two):
        print(json.dumps(row))
    print(json.dumps({key: abs(one[key] - two[key]) for key in ("train_loss", "train_acc", "val_loss", "val_acc")}))


def watch(args) -> None:
    """Watch overhead on 1 process and on 2 ranks, interleaved per repeat."""
    rows = {key: [] for key in ("one_off", "one_watch", "ddp_off", "ddp_watch")}
    for repeat in range(args.repeats):
        for key in rows:
            world = 2 if key.startswith("ddp") else 1
            row, = _processes(world, ranks=world > 1, args=args, babysit=key.split("_")[1])
            rows[key].append(row)
        one = rows["one_off"][-1]["examples_per_s"] / rows["one_watch"][-1]["examples_per_s"] - 1
        ddp = rows["ddp_off"][-1]["examples_per_s"] / rows["ddp_watch"][-1]["examples_per_s"] - 1
        print(f"repeat {repeat + 1}: watch overhead 1 process {100 * one:+.1f} %, 2 ranks {100 * ddp:+.1f} %; "
              f"sample {rows['one_watch'][-1]['sample_ms']:.2f} ms (1) / {rows['ddp_watch'][-1]['sample_ms']:.2f} ms (2), "
              f"bare sample all-reduce {rows['ddp_watch'][-1]['sample_allreduce_ms']:.3f} ms", flush=True)

    def median(key, field):
        return statistics.median(r[field] for r in rows[key])
    overheads = {w: [off["examples_per_s"] / on["examples_per_s"] - 1 for off, on in
                     zip(rows[f"{w}_off"], rows[f"{w}_watch"])] for w in ("one", "ddp")}
    print(json.dumps({
        "batch_per_process": args.batch_size, "epochs": args.epochs, "repeats": args.repeats,
        "watch_overhead_pct": {w: round(100 * statistics.median(v), 2) for w, v in overheads.items()},
        "spread_pct": {w: [round(100 * x, 2) for x in v] for w, v in overheads.items()},
        "every": {"one": rows["one_watch"][0]["every"], "ddp": rows["ddp_watch"][0]["every"]},
        "samples": {"one": rows["one_watch"][0]["samples"], "ddp": rows["ddp_watch"][0]["samples"]},
        "sample_ms": {"one": round(median("one_watch", "sample_ms"), 3), "ddp": round(median("ddp_watch", "sample_ms"), 3)},
        "sample_allreduce_ms": round(median("ddp_watch", "sample_allreduce_ms"), 4),
        "step_ms": {k: round(median(k, "step_ms"), 2) for k in rows},
    }, indent=1))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _processes(count: int, *, ranks: bool, args, babysit: str = "off") -> list[dict]:
    """``count`` workers at once: ranks of one job (``ranks``) or independent processes."""
    port = _free_port()
    base = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    procs = []
    for r in range(count):
        env = dict(base)
        if ranks:
            env.update(RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE=str(count), MASTER_ADDR="127.0.0.1",
                       MASTER_PORT=str(port))
        procs.append(subprocess.Popen(
            [sys.executable, __file__, "--worker", "--epochs", str(args.epochs),
             "--batch-size", str(args.batch_size), "--babysit", babysit, *(["--repaired"] if args.repaired else [])],
            env=env, stdout=subprocess.PIPE, text=True))
    results = []
    for p in procs:
        out, _ = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"a worker failed (exit {p.returncode})")
        results += [json.loads(line[len("RESULT "):]) for line in out.splitlines() if line.startswith("RESULT ")]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repaired", action="store_true",
                        help="a repaired run: 2 ranks x B against 1 process x 2B")
    parser.add_argument("--watch", action="store_true",
                        help="the watch overhead on 1 process and on 2 ranks")
    parser.add_argument("--babysit", default="off", help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.watch:
        watch(args)
        return
    if args.repaired:
        repaired(args)
        return
    rows = {"one": [], "pair": [], "ddp": []}
    for repeat in range(args.repeats):
        one, = _processes(1, ranks=False, args=args)
        pair = _processes(2, ranks=False, args=args)
        ddp, = _processes(2, ranks=True, args=args)
        rows["one"].append(one)
        rows["pair"].append({"examples_per_s": sum(r["examples_per_s"] for r in pair),
                             "step_ms": statistics.mean(r["step_ms"] for r in pair)})
        # the job's throughput: both ranks' examples in rank 0's epoch time
        rows["ddp"].append({**ddp, "examples_per_s": ddp["world"] * ddp["examples_per_s"]})
        print(f"repeat {repeat + 1}: one {one['examples_per_s']:.0f}/s, pair {rows['pair'][-1]['examples_per_s']:.0f}/s, "
              f"ddp {rows['ddp'][-1]['examples_per_s']:.0f}/s (step {ddp['step_ms']:.1f} ms, "
              f"all-reduce {ddp['allreduce_ms']:.1f} ms)", flush=True)
    med = {k: {key: statistics.median(r[key] for r in v) for key in v[0] if key != "world"}
           for k, v in rows.items()}
    step, compute, comm = med["ddp"]["step_ms"], med["pair"]["step_ms"], med["ddp"]["allreduce_ms"]
    print(json.dumps({
        "batch_per_rank": args.batch_size, "epochs": args.epochs, "repeats": args.repeats,
        "examples_per_s": {k: round(v["examples_per_s"]) for k, v in med.items()},
        "ddp_over_one": round(med["ddp"]["examples_per_s"] / med["one"]["examples_per_s"], 3),
        "pair_over_one": round(med["pair"]["examples_per_s"] / med["one"]["examples_per_s"], 3),
        "ddp_step_ms": round(step, 2), "compute_ms": round(compute, 2), "allreduce_ms": round(comm, 2),
        "other_ms": round(step - compute - comm, 2),
        "spread_ddp_over_one": [round(d["examples_per_s"] / o["examples_per_s"], 3)
                                for d, o in zip(rows["ddp"], rows["one"])],
    }, indent=1))


if __name__ == "__main__":
    main()
