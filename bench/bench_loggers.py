"""The cost of experiment tracking (log = ["tensorboard", "mlflow"]) on a whole run.

    python bench/bench_loggers.py [--repeats 5] [--epochs 20]

The digits MLP (a run of seconds, the worst case for a per-epoch cost) is trained with log = []
and with each tracker, interleaved within each repeat. Two measures:

- in-run share (robust to a loaded machine): the time spent inside the trackers' hooks and
  their finish (hparams, final metrics, artifacts), timed in this process around each call, as a
  share of the same run's fit() wall time; the MLflow run's creation at the start (a server round
  trip) is counted, the one-off imports are not (reported apart);
- wall ratio: median fit() time with tracking over median without (needs a quiet machine: a
  shared one moves single runs by 2x, far more than the effect).

MLflow writes to a local file store; a remote tracking server adds its network time to MLflow's
background queue, not to the epoch end. Needs tensorboard and mlflow-skinny installed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import trainwell
from trainwell.train import loggers

TIMED = ("on_fit_start", "on_epoch_end", "on_checkpoint", "on_fit_end", "finish")
spent = [0.0]        # seconds inside the trackers' hooks in the current run


def _timed(method):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started
    return wrapper


def time_the_trackers():
    """Wrap every tracker hook in a timer (this process only; the library is unchanged)."""
    for cls in (loggers.TensorBoardLogger, loggers.MLflowLogger):
        for name in TIMED:
            if name in vars(cls) or hasattr(cls, name):
                setattr(cls, name, _timed(getattr(cls, name)))

CONFIGS = {"none": [], "tensorboard": ["tensorboard"], "mlflow": ["mlflow"],
           "both": ["tensorboard", "mlflow"]}


def one_run(log, root: Path, i: int, epochs: int) -> tuple[float, float]:
    """(fit's wall seconds, seconds inside the trackers)."""
    run_dir = root / f"{'-'.join(log) or 'none'}-{i}"
    spent[0] = 0.0
    started = time.perf_counter()
    trainwell.fit({"type": "mlp"}, "digits", epochs=epochs, run_dir=run_dir, report=False,
                  progress=False, device="cpu", log=log, mlflow_uri=f"file://{root / 'mlruns'}")
    return time.perf_counter() - started, spent[0]


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
    time_the_trackers()
    times = {name: [] for name in CONFIGS}
    shares = {name: [] for name in CONFIGS}
    inside_s = {name: [] for name in CONFIGS}
    with tempfile.TemporaryDirectory(prefix="bench-loggers-") as tmp:
        root = Path(tmp)
        for name, log in CONFIGS.items():                   # warm-up: first calls, caches
            one_run(log, root, -1, 1)
        for i in range(args.repeats):
            for name, log in CONFIGS.items():
                wall, inside = one_run(log, root, i, args.epochs)
                times[name].append(wall)
                shares[name].append(inside / wall)
                inside_s[name].append(inside)
            print(f"repeat {i + 1}: " + ", ".join(f"{n} {times[n][-1]:.2f} s ({100 * shares[n][-1]:.3f} %)"
                                                  for n in CONFIGS), flush=True)
    base = statistics.median(times["none"])
    print(f"digits MLP, {args.epochs} epochs, {args.repeats} repeats (median wall time of fit)")
    print(f"imports (once per process): mlflow {mlflow_import:.2f} s, tensorboard {tensorboard_import:.2f} s")
    for name, values in times.items():
        median = statistics.median(values)
        share = shares[name]
        print(f"{name:12s} in-run share {100 * statistics.median(share):.3f} % "
              f"({1000 * statistics.median(inside_s[name]) / args.epochs:.1f} ms per epoch, start and end "
              f"included) "
              f"(max {100 * max(share):.3f} %); wall {median:7.3f} s, ratio {median / base:.3f} "
              f"(spread {min(values):.2f}..{max(values):.2f} s)")


if __name__ == "__main__":
    main()
