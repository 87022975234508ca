"""The babysitter's evidence figures for the report, one function per figure, each
``(data, path) -> Path``. ``data`` comes from ``babysit.json`` (written by ``fit``):
``samples`` (the monitor's sampled steps: per-layer gradient norms and update/weight ratios) and
``activations`` (per-layer activation statistics at sampled steps).

- ``gradient_norms``: ‖∇W‖ per layer over training; vanishing (falling by decades towards the
  input) and exploding gradients show as spread lines (notes 004, activation/gradient plots).
- ``update_ratios``: ‖ΔW‖/‖W‖ per layer with the healthy value ~1e-3 (``babysit.ratios.HEALTHY_RATIO``;
  notes 001: "Track ratio of weight updates / weight magnitudes. 0.01 is probably too high").
- ``activation_stats``: per-layer mean and std of the activations at the first and the last
  sampled step (notes 004's activation-statistics figures: collapse to 0, saturation).
"""
from __future__ import annotations

import math
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from trainwell.babysit.ratios import HEALTHY_RATIO
from trainwell.train.rundir import atomic_write, make_directory

FIGSIZE, DPI = (7.0, 4.0), 100


def _axes(title, xlabel, ylabel):
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title, loc="left", fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    return fig, ax


def _save(fig, path) -> Path:
    path = Path(path)
    make_directory(path.parent)
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png"))
    return path


def _positive(v):
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v) and v > 0


def _per_layer(samples: list[dict], key: str) -> dict[str, tuple[list, list]]:
    series: dict[str, tuple[list, list]] = {}
    for s in samples:
        for layer, value in (s.get(key) or {}).items():
            if _positive(value):
                xs, ys = series.setdefault(layer, ([], []))
                xs.append(s["step"])
                ys.append(value)
    return series


def _lines(ax, series, *, max_layers: int = 12) -> int:
    names = list(series)
    if len(names) > max_layers:        # first, last and evenly spaced layers in between
        keep = {round(i * (len(names) - 1) / (max_layers - 1)) for i in range(max_layers)}
        names = [n for i, n in enumerate(names) if i in keep]
    for name in names:
        xs, ys = series[name]
        ax.plot(xs, ys, label=name, linewidth=1.2, marker="." if len(xs) < 30 else None)
    return len(names)


def gradient_norms(samples: list[dict], path) -> Path:
    fig, ax = _axes("Gradient norm per layer", "step", "‖∇W‖ (log scale)")
    drawn = _lines(ax, _per_layer(samples, "grad_norm"))
    if drawn:
        ax.set_yscale("log")
        ax.legend(fontsize=7, ncol=2)
    else:
        ax.text(0.5, 0.5, "no finite gradient norms were sampled", ha="center", transform=ax.transAxes)
    return _save(fig, path)


def update_ratios(samples: list[dict], path) -> Path:
    fig, ax = _axes("Update / weight ratio per layer", "step", "‖ΔW‖ / ‖W‖ (log scale)")
    drawn = _lines(ax, _per_layer(samples, "update_ratio"))
    if drawn:
        ax.axhline(HEALTHY_RATIO, color="black", linestyle="--", linewidth=1,
                   label=f"~{HEALTHY_RATIO:g} healthy (notes 001)")
        ax.set_yscale("log")
        ax.legend(fontsize=7, ncol=2)
    else:
        ax.text(0.5, 0.5, "no update ratios were sampled", ha="center", transform=ax.transAxes)
    return _save(fig, path)


def activation_stats(activations: list[dict], path) -> Path:
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    ax_mean, ax_std = fig.subplots(1, 2)
    records = [a for a in activations if a.get("layers")]
    picks = [records[0], records[-1]] if len(records) > 1 else records
    for record, style in zip(picks, ("-o", "--s")):
        layers = list(record["layers"])
        xs = list(range(1, len(layers) + 1))
        means = [record["layers"][n].get("mean") for n in layers]
        stds = [record["layers"][n].get("std") for n in layers]
        label = f"step {record['step']}"
        ax_mean.plot(xs, [m if m is not None else math.nan for m in means], style, label=label, markersize=3)
        ax_std.plot(xs, [s if s is not None else math.nan for s in stds], style, label=label, markersize=3)
    for ax, title in ((ax_mean, "activation mean per layer"), (ax_std, "activation std per layer")):
        ax.set_title(title, loc="left", fontsize=10)
        ax.set_xlabel("layer (input → output)")
        ax.grid(True, alpha=0.3)
        if picks:
            ax.legend(fontsize=7)
    if not picks:
        ax_mean.text(0.5, 0.5, "no activations were sampled", ha="center", transform=ax_mean.transAxes)
    return _save(fig, path)
