"""Streaming from a memory-mapped .npy file against the in-memory path (issue 12, item 2).

    python bench/bench_stream.py [--device cpu|cuda] [--train 20000] [--epochs 2] [--repeats 5]
                                 [--dtype float32|uint8] [--small]

The job is issue 12's MLP 784-512-512-10 at batch 128 (SGD, momentum 0.9, babysit off) on
synthetic inputs saved as a .npy file. In one process, after a warm-up of each, the runners are
interleaved for ``--repeats`` rounds: ``memory`` (``stream = false``: the file read into memory,
then onto the device), ``stream`` (``stream = true``: batches gathered from the memory map by a
prefetch thread; pinned, non-blocking copies on CUDA) and ``stream_no_prefetch`` (the same, each
batch gathered when it is needed). A runner's time is the training epochs' own seconds from the
run's history (setup, such as reading the file into memory, is not counted); beside it the
process's CPU seconds in those epochs (every thread: the prefetch thread's gathers count), which
other jobs on a loaded machine move much less than the wall time. Reported: median examples per
second (wall and CPU) and the median of the per-round ratios to ``memory`` with their range.
``measure(device=...)`` is the one function a GPU script calls.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

JOB = dict(features=784, widths=[512, 512], classes=10, batch_size=128, lr=0.05)   # issue 12's MLP


def make_files(folder: Path, *, train: int, dtype: str = "float32", seed: int = 0) -> tuple[Path, Path]:
    """X.npy (train x 784, written in chunks through a memory map) and y.npy in ``folder``."""
    rng = np.random.default_rng(seed)
    teacher = rng.normal(size=(JOB["features"], JOB["classes"])).astype(np.float32)
    X = np.lib.format.open_memmap(folder / "X.npy", mode="w+", dtype=np.dtype(dtype),
                                  shape=(train, JOB["features"]))
    y = np.empty(train, np.int64)
    for start in range(0, train, 10_000):
        block = rng.normal(size=(min(10_000, train - start), JOB["features"])).astype(np.float32)
        if dtype == "uint8":
            block = np.clip(block * 40 + 128, 0, 255).astype(np.uint8)
        X[start:start + len(block)] = block
        y[start:start + len(block)] = (block.astype(np.float32) @ teacher).argmax(1)
    X.flush()
    np.save(folder / "y.npy", y)
    return folder / "X.npy", folder / "y.npy"


def measure(*, device: str = "cpu", train: int = 20_000, epochs: int = 2, repeats: int = 5,
            dtype: str = "float32") -> dict:
    """Examples per second of each runner in each round: ``{runner: [per round]}`` plus the
    machine's description."""
    import torch
    from torch import nn

    import trainwell
    from trainwell.data.streaming import StreamBatches
    from trainwell.train import parts

    with tempfile.TemporaryDirectory(prefix="bench-stream-") as tmp:
        X_path, y_path = make_files(Path(tmp), train=train, dtype=dtype)
        y = torch.from_numpy(np.load(y_path))

        def model():
            torch.manual_seed(0)
            sizes = [JOB["features"], *JOB["widths"]]
            layers = [m for a, b in zip(sizes, sizes[1:]) for m in (nn.Linear(a, b), nn.ReLU())]
            return nn.Sequential(*layers, nn.Linear(sizes[-1], JOB["classes"]))

        class CPUTime(trainwell.Callback):
            """The process's CPU seconds (every thread) spent inside the training epochs."""
            seconds = 0.0

            def on_epoch_start(self, state):
                self.started = time.process_time()

            def on_epoch_end(self, state):
                self.seconds += time.process_time() - self.started

        def run(stream: bool, prefetch: bool, n_epochs: int) -> tuple[float, float]:
            cpu = CPUTime()
            parts.StreamBatches = StreamBatches if prefetch else (
                lambda *a, **k: StreamBatches(*a, prefetch=False, **k))
            try:
                result = trainwell.fit(model(), (np.load(X_path, mmap_mode="r"), y), stream=stream,
                                       optimizer="sgd", lr=JOB["lr"], momentum=0.9, weight_decay=0.0,
                                       schedule="constant", epochs=n_epochs, batch_size=JOB["batch_size"],
                                       progress=False, report=False, babysit="off", device=device,
                                       callbacks=[cpu])
            finally:
                parts.StreamBatches = StreamBatches
            return train * n_epochs / sum(m["seconds"] for m in result.history), train * n_epochs / cpu.seconds

        runners = {"memory": (False, True), "stream": (True, True), "stream_no_prefetch": (True, False)}
        for stream, prefetch in runners.values():          # warm-up: kernels, allocator, page cache
            run(stream, prefetch, 1)
        rates = {name: [] for name in runners} | {f"{name}_cpu": [] for name in runners}
        for _ in range(repeats):
            for name, (stream, prefetch) in runners.items():
                wall, cpu = run(stream, prefetch, epochs)
                rates[name].append(wall)
                rates[f"{name}_cpu"].append(cpu)
    rates["device_name"] = torch.cuda.get_device_name() if device.startswith("cuda") else f"{device}, " \
        f"{torch.get_num_threads()} threads"
    return rates


def report(rates: dict, *, device: str, train: int, epochs: int, dtype: str) -> str:
    lines = [f"device: {rates['device_name']}; MLP 784-512-512-10, batch {JOB['batch_size']}, {train} "
             f"{dtype} samples from a .npy file, {epochs} epochs a round, {len(rates['memory'])} rounds",
             "| runner | examples/s (median) | / memory (median of rounds) | range | examples per CPU "
             "second (median) | / memory | range |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name in ("memory", "stream", "stream_no_prefetch"):
        cells = []
        for key in (name, f"{name}_cpu"):
            base = rates["memory_cpu" if key.endswith("_cpu") else "memory"]
            ratios = [a / b for a, b in zip(rates[key], base)]
            cells.append(f"{statistics.median(rates[key]):,.0f} | {statistics.median(ratios):.3f} | "
                         f"{min(ratios):.3f}-{max(ratios):.3f}")
        lines.append(f"| {name} | {' | '.join(cells)} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--train", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dtype", default="float32", choices=["float32", "uint8"])
    parser.add_argument("--small", action="store_true", help="a tiny job: checks the script runs")
    args = parser.parse_args(argv)
    if args.small:
        args.train, args.epochs, args.repeats = 1_000, 1, 1
    rates = measure(device=args.device, train=args.train, epochs=args.epochs, repeats=args.repeats,
                    dtype=args.dtype)
    print(report(rates, device=args.device, train=args.train, epochs=args.epochs, dtype=args.dtype))
    return 0


if __name__ == "__main__":
    sys.exit(main())
