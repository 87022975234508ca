"""The cost of experiment tracking (log = ["tensorboard", "mlflow"]) on a whole run.

    python bench/bench_loggers.py [--repeats 5] [--epochs 20]

The default digits recipe (an MLP, so a run is seconds, the worst case for a per-epoch cost)
is trained with log = [] and with each tracker, interleaved within each repeat (shared machines
are noisy); we report the median wall time of fit() and the ratio to no tracking. The trackers'
imports (seconds, once per process) are done before timing and reported apart. MLflow writes
to a local file store; a remote tracking server adds its network time to the background queue,
not to the epoch end. Needs tensorboard and mlflow-skinny installed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import trainwell

CONFIGS = {"none": [], "tensorboard": ["tensorboard"], "mlflow": ["mlflow"],
           "both": ["tensorboard", "mlflow"]}


def one_run(log, root: Path, i: int, epochs: int) -> float:
    run_dir = root / f"{'-'.join(log) or 'none'}-{i}"
    started = time.perf_counter()
    trainwell.fit({"type": "mlp"}, "digits", epochs=epochs, run_dir=run_dir, report=False,
                  progress=False, device="cpu", log=log, mlflow_uri=f"file://{root / 'mlruns'}")
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")    # MLflow 3 wants a database otherwise
    started = time.perf_counter()
    import mlflow  # noqa: F401  (timed: the one-off import a tracked run pays)
    mlflow_import = time.perf_counter() - started
    started = time.perf_counter()
    from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    tensorboard_import = time.perf_counter() - started
    times = {name: [] for name in CONFIGS}
    with tempfile.TemporaryDirectory(prefix="bench-loggers-") as tmp:
        root = Path(tmp)
        for name, log in CONFIGS.items():                   # warm-up: first calls, caches
            one_run(log, root, -1, 1)
        for i in range(args.repeats):
            for name, log in CONFIGS.items():
                times[name].append(one_run(log, root, i, args.epochs))
    base = statistics.median(times["none"])
    print(f"digits MLP, {args.epochs} epochs, {args.repeats} repeats (median wall time of fit)")
    print(f"imports (once per process): mlflow {mlflow_import:.2f} s, tensorboard {tensorboard_import:.2f} s")
    for name, values in times.items():
        median = statistics.median(values)
        ratios = sorted(v / statistics.median(times['none']) for v in values)
        print(f"{name:12s} {median:7.3f} s  ratio {median / base:.4f}  "
              f"(per-repeat ratios {ratios[0]:.3f}..{ratios[-1]:.3f}; "
              f"spread {min(values):.3f}..{max(values):.3f} s)")


if __name__ == "__main__":
    main()
