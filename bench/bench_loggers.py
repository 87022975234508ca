"""The cost of experiment tracking (log = ["tensorboard", "mlflow"]) on a whole run.

    python bench/bench_loggers.py [--repeats 5] [--epochs 20] [--models mlp,auto]

The digits MLP (epochs of a fraction of a second: the worst case for a per-epoch cost) and the
demo's CNN are trained with log = [] and with each tracker, interleaved within each repeat.
Measures, timed in this process around each tracker call (robust to a loaded machine):

- epoch hooks: ms per epoch inside the trackers' on_epoch_end and on_checkpoint, and as a share
  of the run's training time (the sum of its epochs' seconds): what grows with the run;
- start+end: ms inside on_fit_start (the MLflow run's creation and params), on_fit_end and finish
  (hyperparameters, final metrics, artifacts), paid once; the one-off imports are reported apart;
- the wall ratio, median fit() time with tracking over without: needs a quiet machine (a shared
  one moves single runs by 2x, far more than the effect).

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

PER_EPOCH = ("on_epoch_end", "on_checkpoint")        # what grows with the run
ONCE = ("on_fit_start", "on_fit_end", "finish")       # what a run pays once
spent = {"epoch": 0.0, "once": 0.0}                   # seconds inside the trackers, current run


def _timed(method, kind):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            spent[kind] += time.perf_counter() - started
    return wrapper


def time_the_trackers():
    """Wrap every tracker hook in a timer (this process only; the library is unchanged)."""
    for cls in (loggers.TensorBoardLogger, loggers.MLflowLogger):
        for kind, names in (("epoch", PER_EPOCH), ("once", ONCE)):
            for name in names:
                setattr(cls, name, _timed(getattr(cls, name), kind))

CONFIGS = {"none": [], "tensorboard": ["tensorboard"], "mlflow": ["mlflow"],
           "both": ["tensorboard", "mlflow"]}


def one_run(log, root: Path, i: int, epochs: int, model: str) -> tuple[float, float, float, float]:
    """(fit's wall seconds, the epochs' training seconds, seconds inside the trackers' epoch
    hooks, seconds inside their start and end)."""
    run_dir = root / f"{model}-{'-'.join(log) or 'none'}-{i}"
    spent.update(epoch=0.0, once=0.0)
    started = time.perf_counter()
    run = trainwell.fit({"type": model}, "digits", epochs=epochs, run_dir=run_dir, report=False,
                        progress=False, device="cpu", log=log, mlflow_uri=f"file://{root / 'mlruns'}")
    return time.perf_counter() - started, run.results["seconds"], spent["epoch"], spent["once"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--models", default="mlp,auto", help="model types: mlp (the worst case: short "
                        "epochs), auto (the demo's CNN)")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")    # MLflow 3 wants a database otherwise
    started = time.perf_counter()
    import mlflow  # noqa: F401  (timed: the one-off import a tracked run pays)
    mlflow_import = time.perf_counter() - started
    started = time.perf_counter()
    from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    tensorboard_import = time.perf_counter() - started
    time_the_trackers()
    print(f"imports (once per process): mlflow {mlflow_import:.2f} s, tensorboard {tensorboard_import:.2f} s")
    with tempfile.TemporaryDirectory(prefix="bench-loggers-") as tmp:
        root = Path(tmp)
        for model in args.models.split(","):
            rows = {name: [] for name in CONFIGS}
            for name, log in CONFIGS.items():               # warm-up: first calls, caches
                one_run(log, root, -1, 1, model)
            for i in range(args.repeats):
                for name, log in CONFIGS.items():
                    rows[name].append(one_run(log, root, i, args.epochs, model))
            base = statistics.median(r[0] for r in rows["none"])
            print(f"digits, model {model!r}, {args.epochs} epochs, {args.repeats} repeats (medians)")
            for name, runs in rows.items():
                wall = statistics.median(r[0] for r in runs)
                epoch_ms = statistics.median(1000 * r[2] / args.epochs for r in runs)
                once_ms = statistics.median(1000 * r[3] for r in runs)
                share = statistics.median(r[2] / r[1] for r in runs)   # epoch hooks / training time
                whole = statistics.median((r[2] + r[3]) / r[0] for r in runs)
                print(f"  {name:12s} epoch hooks {epoch_ms:6.1f} ms/epoch = {100 * share:.2f} % of the "
                      f"training time; start+end {once_ms:6.0f} ms; all of it {100 * whole:.2f} % of fit; "
                      f"wall {wall:6.2f} s, ratio {wall / base:.3f} "
                      f"(spread {min(r[0] for r in runs):.1f}..{max(r[0] for r in runs):.1f} s)", flush=True)


if __name__ == "__main__":
    main()
