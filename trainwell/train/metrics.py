"""What training measures: the epoch's running sums, evaluation, the divergence check, the best
epoch, and ``metrics.jsonl`` (one JSON object per finished epoch).

Hot-loop rules (STYLE 10): the sums live on the device and the host reads them once per epoch,
plus one number every ``check_every`` steps for the divergence check.
"""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import torch

from trainwell.errors import DataError
from trainwell.train.rundir import AppendFile, atomic_write_text
from trainwell.train.state import Stop, StopKind, TrainState

METRICS_FILE = "metrics.jsonl"


def shard_rows(n: int, shard: tuple[int, int]) -> tuple[int, int]:
    """Rows ``[n·rank // world, n·(rank+1) // world)`` of ``n``: rank ``shard[0]``'s of ``shard[1]``
    (the shards cover every row once; a shard may be empty)."""
    rank, world = shard
    return n * rank // world, n * (rank + 1) // world


@torch.no_grad()
def evaluate_model(model, loss_fn, accuracy, X, y, *, batch_size: int, shard: tuple[int, int] = (0, 1),
                   reduce=None) -> dict:
    """Mean loss and accuracy of ``model`` on ``(X, y)`` in eval mode (one host sync).

    ``shard = (rank, world)``: this process evaluates rows ``[n·rank // world, n·(rank+1) // world)``
    only, and ``reduce(tensor) -> its sum over the ranks`` adds the ranks' loss and correct sums
    (train/distributed.py): every rank gets the whole set's numbers for 1/world of the work."""
    was_training = model.training
    model.eval()
    n = X.shape[0]
    first, end = shard_rows(n, shard)
    loss_sum = torch.zeros((), device=X.device)
    correct = torch.zeros((), device=X.device)
    for start in range(first, end, batch_size):    # streamed rows are read batch by batch
        xb, yb = X[start:min(start + batch_size, end)], y[start:min(start + batch_size, end)]
        out = model(xb)
        loss_sum += loss_fn(out, yb).detach() * xb.shape[0]
        if accuracy is not None:
            correct += accuracy(out, yb)
    model.train(was_training)
    sums = torch.stack([loss_sum, correct.to(loss_sum.dtype)])
    if reduce is not None:
        sums = reduce(sums)
    values = (sums / n).tolist()
    return {"loss": values[0], "acc": values[1] if accuracy is not None else None, "n": n}


class EpochSums:
    """The epoch's data loss x samples and correct count, and the loss sum of the divergence
    check's window, accumulated as device tensors: recording a step costs no host sync.
    ``reduce(tensor) -> its sum over the ranks`` (train/distributed.py; None on one process) is
    applied where the host reads them, so every rank reads the job's numbers."""

    def __init__(self, device, accuracy=None):
        self.accuracy = accuracy
        self.reduce, self.ranks = None, 1
        self.loss = torch.zeros((), device=device)
        self.correct = torch.zeros((), device=device)
        self.seen = 0                       # a Python int: the batch size is known on the host
        self.window = torch.zeros((), device=device)
        self.window_steps = 0

    def record(self, out: torch.Tensor, loss: torch.Tensor, yb: torch.Tensor) -> None:
        """One step's outputs (detached) and mean data loss."""
        n = yb.shape[0]
        self.loss.add_(loss, alpha=n)
        self.seen += n
        self.window.add_(loss)
        if self.accuracy is not None:
            self.correct += self.accuracy(out, yb)

    def window_mean(self) -> float:
        """The mean loss of the steps since the last call (one host sync); starts a new window."""
        window, steps = self.window, max(self.window_steps, 1)
        if self.reduce is not None:     # every rank counts the same steps: the mean of the ranks'
            window = self.reduce(window) / self.ranks
        mean = (window / steps).item()
        self.window.zero_()
        self.window_steps = 0
        return mean

    def epoch_means(self) -> tuple[float, float | None]:
        """The epoch's mean training loss and accuracy (one host sync); starts a new epoch."""
        totals = torch.stack([self.loss, self.correct.to(self.loss.dtype),
                              torch.tensor(float(self.seen), dtype=self.loss.dtype, device=self.loss.device)])
        if self.reduce is not None:
            totals = self.reduce(totals)
        loss, acc = (totals[:2] / totals[2].clamp(min=1)).tolist()
        self.loss.zero_()
        self.correct.zero_()
        self.seen = 0
        return loss, acc if self.accuracy else None

    def state_dict(self) -> dict:
        return {"loss": self.loss, "correct": self.correct, "seen": self.seen, "window": self.window}

    def load_state_dict(self, saved: dict) -> None:
        for name in ("loss", "correct", "window"):
            getattr(self, name).copy_(saved[name].to(self.loss.device))
        self.seen = int(saved["seen"])


# ------------------------------------------------------------------ stops the numbers decide
def check_divergence(state: TrainState, mean: float, factor: float) -> None:
    """Stop on a window mean loss that is NaN/inf or above ``factor`` x the initial loss (notes
    004: "cost > 3 x original cost: break out early"); the first finite mean is the initial loss."""
    state.recent_loss = mean
    if state.initial_loss is None and math.isfinite(mean):
        state.initial_loss = mean
        return
    lr = f"{state.lr:.3g}"
    if not math.isfinite(mean):
        state.stop = Stop(StopKind.DIVERGED,
                          f"the loss became {mean} by step {state.step} (epoch {state.epoch + 1}); "
                          f"training diverged. Try a lower lr (now {lr}, e.g. 10x lower), "
                          f"clip_norm = 1.0, or check the inputs for NaN/inf (`trainwell doctor`).")
    elif state.initial_loss is not None and mean > factor * state.initial_loss > 0:
        state.stop = Stop(StopKind.DIVERGED,
                          f"the loss rose to {mean:.4g} by step {state.step}, more than "
                          f"{factor:g}x its initial {state.initial_loss:.4g} "
                          f"(notes 004: break out early). Try a lower lr (now {lr}) or clip_norm.")
    else:
        return
    state.diverged = {"loss": mean, "initial_loss": state.initial_loss, "step": state.step,
                      "lr": state.lr, "factor": factor}


def check_epoch_loss(state: TrainState, train_loss: float) -> None:
    """Stop on a NaN/inf epoch training loss that the windowed check did not already stop on."""
    if math.isfinite(train_loss) or state.stop is not None:
        return
    state.diverged = {"loss": train_loss, "initial_loss": state.initial_loss,
                      "step": state.step, "lr": state.lr}
    state.stop = Stop(StopKind.DIVERGED,
                      f"the training loss is {train_loss} at epoch {state.epoch}; training diverged. "
                      f"Try a lower lr (now {state.lr:.3g}) or clip_norm.")


def monitor_mode(monitor: str) -> str:
    """Which way ``monitor`` improves: "min" for a loss, "max" for an accuracy (config.MONITORS).
    Best weights, early stopping and a plateau schedule without its own ``mode`` all read it."""
    return "min" if monitor.endswith("loss") else "max"


def track_best(state: TrainState, *, monitor: str, min_delta: float, keep_weights: bool) -> None:
    """Record this epoch in ``state.best`` when ``monitor`` improved by more than ``min_delta``
    (notes 003, early stopping); ``keep_weights`` also copies the evaluated model's weights."""
    value = state.metrics.get(monitor)
    if value is None or not math.isfinite(value):
        return
    sign = -1.0 if monitor_mode(monitor) == "min" else 1.0
    best = state.best.get("value")
    if best is None or sign * (value - best) > min_delta:
        state.best = {"value": value, "epoch": state.epoch, "weights": None}
        if keep_weights:
            weights = state.evaluated_model.state_dict()
            state.best["weights"] = {k: v.detach().clone() for k, v in weights.items()}


# ------------------------------------------------------------------ metrics.jsonl
class MetricsLog:
    """A run's ``metrics.jsonl``, written by its Trainer: ``start`` a new run's (empty), ``append`` one epoch's record as one
    line through a descriptor kept open across epochs (``rundir.AppendFile``), ``replace`` the
    whole file atomically (a resume, a rollback), ``close`` at the end of ``Trainer.fit``."""

    def __init__(self, run_dir):
        self.file = AppendFile(Path(run_dir) / METRICS_FILE)

    def start(self) -> None:
        """A new run's empty file, kept open for the epochs' lines."""
        self.file.create()

    def append(self, record: dict) -> None:
        self.file.append((json.dumps(record) + "\n").encode("utf-8"))

    def replace(self, records) -> None:
        self.file.close()           # the open descriptor would append to the replaced file
        write_metrics(self.file.path.parent, records)

    def close(self) -> None:
        self.file.close()


def write_metrics(run_dir: Path, records) -> None:
    """Atomically replace ``metrics.jsonl`` (a new run, a resume, a rollback); a Trainer writing
    there replaces it through its ``MetricsLog``."""
    atomic_write_text(Path(run_dir) / METRICS_FILE, "".join(json.dumps(r) + "\n" for r in records))


def read_metrics(run_dir) -> list[dict]:
    """The per-epoch records of ``run_dir/metrics.jsonl``, in file order.

    Blank lines are ignored; a last line that is not valid JSON (a crash mid-write) is skipped with
    a warning. Any other line that is not one JSON object raises ``DataError`` naming the line.
    """
    return read_metrics_noting_cuts(Path(run_dir))[0]


def read_metrics_noting_cuts(run_dir: Path) -> tuple[list[dict], str | None]:
    """``read_metrics``, plus a note for the report when a cut-off last line was skipped."""
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        raise DataError(f"{path}: not found; a trainwell run directory holds {METRICS_FILE} "
                        "(one JSON object per epoch, written by the trainer)")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    numbered = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    records, note = [], None
    for k, (number, line) in enumerate(numbered):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            if k == len(numbered) - 1:
                note = (f"{METRICS_FILE} line {number} is cut off (the run stopped while writing it) "
                        "and was skipped")
                warnings.warn(f"{path}: line {number} is cut off and was skipped", stacklevel=3)
                break
            raise DataError(f"{path} line {number}: not valid JSON ({e.msg}, column {e.colno}); "
                            "each line must be one JSON object") from None
        if not isinstance(record, dict):
            raise DataError(f"{path} line {number}: expected a JSON object {{...}}, "
                            f"got {type(record).__name__}")
        records.append(record)
    return records, note
