"""The figures of weight averaging and ensembles, one function per figure (``(data, path) -> Path``):

- ``averaged_curves``: validation loss of the averaged weights (EMA/SWA) next to the raw model's;
- ``reliability``: the reliability diagram (Guo et al. 2017): accuracy against confidence per
  bin, the diagonal is perfect calibration; the ECE is the count-weighted gap;
- ``members_vs_ensemble``: each member's test (else validation) accuracy and NLL beside the
  ensemble's;
- ``lr_cycles``: the snapshot/FGE learning-rate cycles with the steps at which members were taken.
"""
from __future__ import annotations

import math
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from trainwell.report.plots import DPI, FIGSIZE, LR_COLOR, TRAIN_COLOR, VAL_COLOR
from trainwell.train.rundir import atomic_write, make_directory

MEMBER_COLOR = "#7f7f7f"


def _axes(title: str, xlabel: str, ylabel: str):
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return fig, ax


def _save(fig, ax, path, *, drawn: int, empty_text: str, legend: bool = True) -> Path:
    if not drawn:
        ax.text(0.5, 0.5, empty_text, transform=ax.transAxes, ha="center", va="center", color="0.35")
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    make_directory(path.parent)
    atomic_write(path, lambda f: fig.savefig(f, format="png"))
    fig.clear()
    return path


def _line(ax, xs, ys, **kw) -> int:
    points = [(x, y) for x, y in zip(xs, ys) if y is not None and math.isfinite(y)]
    if points:
        ax.plot(*zip(*points), **kw)
    return len(points)


def averaged_curves(records: list[dict], path):
    """Validation loss of the weights validation used (the average) and of the raw model."""
    xs = [r.get("epoch") for r in records]
    fig, ax = _axes("Averaged vs raw weights", "epoch", "validation loss")
    # before SWA starts the raw model is what validation used: its loss is val_loss itself
    raw = [r.get("raw_val_loss", r.get("val_loss")) for r in records]
    drawn = _line(ax, xs, raw, label="raw weights", color=TRAIN_COLOR, marker="o", markersize=3)
    drawn += _line(ax, xs, [r.get("val_loss") for r in records], label="averaged weights (validated)",
                   color=VAL_COLOR, marker="o", markersize=3)
    return _save(fig, ax, path, drawn=drawn, empty_text="no validation loss recorded")


def reliability(bins: dict, path):
    """``bins``: {name: {"confidence", "accuracy", "count"}} (train/calibration.py)."""
    fig, ax = _axes("Reliability diagram", "confidence", "accuracy")
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="perfect calibration")
    colors = [VAL_COLOR, TRAIN_COLOR, LR_COLOR, MEMBER_COLOR]
    drawn = 0
    for (name, b), color in zip(bins.items(), colors):
        points = [(c, a) for c, a, n in zip(b["confidence"], b["accuracy"], b["count"]) if n > 0]
        if points:
            ax.plot(*zip(*points), marker="o", markersize=4, color=color, label=name)
            drawn += len(points)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    return _save(fig, ax, path, drawn=drawn, empty_text="no predictions")


def members_vs_ensemble(rows: list[tuple[str, float]], path):
    """``rows``: [(label, accuracy)], the ensemble last."""
    fig, ax = _axes("Members vs ensemble", "", "accuracy")
    labels = [label for label, _ in rows]
    values = [value for _, value in rows]
    colors = [MEMBER_COLOR] * (len(rows) - 1) + [VAL_COLOR]
    ax.bar(range(len(rows)), values, color=colors)
    low = min(values)
    ax.set_ylim(max(0.0, low - 2 * (max(values) - low) - 0.01), min(1.0, max(values) + 0.01))
    for i, v in enumerate(values):
        ax.annotate(f"{v:.3f}", (i, v), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=8)
    ax.set_xticks(range(len(rows)), labels, rotation=30, fontsize=8)
    return _save(fig, ax, path, drawn=len(rows), empty_text="no members", legend=False)


def lr_cycles(data: dict, path):
    """``data``: {"step": [...], "lr": [...], "member_steps": [...]} from ensemble.json."""
    fig, ax = _axes("Learning-rate cycles", "step", "learning rate")
    steps, lrs = data["step"], data["lr"]
    ax.plot(steps, lrs, color=LR_COLOR, linewidth=1.5, label="learning rate")
    for i, s in enumerate(data["member_steps"]):
        ax.axvline(s, color=VAL_COLOR, linestyle=":", linewidth=1, label="member taken" if i == 0 else None)
    return _save(fig, ax, path, drawn=len(steps), empty_text="no schedule recorded")
