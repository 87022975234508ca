"""The geometry figures: one function per figure, each writing one PNG (Agg canvas, never
pyplot, as in trainwell.report.plots) and returning its path."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from trainwell.train.rundir import atomic_write, make_directory

DPI = 100
CONTOUR_LEVELS = 30
TRAIN_COLOR = "#1f77b4"
TEST_COLOR = "#d62728"
CURVE_COLOR = "#2ca02c"


def save(fig: Figure, path) -> Path:
    path = Path(path)
    make_directory(path.parent)
    FigureCanvasAgg(fig)
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=DPI, bbox_inches="tight"))
    return path


def _finite(values) -> np.ndarray:
    return np.where(np.isfinite(values), values, np.nan)


def line(landscape, path, *, title: str, xlabel: str = "alpha") -> Path:
    """Loss (left axis, log when it spans two decades) and accuracy (right axis) along a line."""
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    alphas = landscape.axes[0].numpy()
    acc_ax = None
    for split, color in (("train", TRAIN_COLOR), ("test", TEST_COLOR)):
        loss = landscape.values.get(f"{split}_loss")
        if loss is None:
            continue
        ax.plot(alphas, _finite(loss.numpy()), color=color, label=f"{split} loss")
        acc = landscape.values.get(f"{split}_acc")
        if acc is not None:
            acc_ax = acc_ax or ax.twinx()
            acc_ax.plot(alphas, acc.numpy() * 100, color=color, linestyle="--", label=f"{split} accuracy")
    finite = landscape.values["train_loss"][landscape.values["train_loss"].isfinite()]
    if len(finite) and finite.min() > 0 and finite.max() / finite.min() > 100:
        ax.set_yscale("log")
    for x in (0.0, 1.0):
        ax.axvline(x, color="grey", linewidth=0.5)
    ax.set(xlabel=xlabel, ylabel="loss", title=title)
    handles, labels = ax.get_legend_handles_labels()
    if acc_ax is not None:
        acc_ax.set_ylabel("accuracy (%)")
        h2, l2 = acc_ax.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, loc="upper center", fontsize=8)
    return save(fig, path)


def contour(landscape, path, *, key: str = "train_loss", title: str, points=None) -> Path:
    """Contours of ``key`` over a 2-D grid (log10 of a loss), the solutions marked."""
    fig = Figure(figsize=(6, 5))
    ax = fig.add_subplot()
    xs, ys = (a.numpy() for a in landscape.axes)
    z = _finite(landscape.values[key].numpy().T)
    is_loss = key.endswith("loss")
    shown = np.log10(np.clip(z, 1e-12, None)) if is_loss else z * 100
    filled = ax.contourf(xs, ys, shown, levels=CONTOUR_LEVELS, cmap="viridis")
    ax.contour(xs, ys, shown, levels=CONTOUR_LEVELS, colors="k", linewidths=0.3)
    fig.colorbar(filled, ax=ax, label=f"log10 {key}" if is_loss else f"{key} (%)")
    for i, (px, py) in enumerate(points or [(0.0, 0.0)]):
        ax.plot(px, py, "r*", markersize=10)
        if points:
            ax.annotate(f"w{i + 1}", (px, py), color="white", xytext=(4, 4), textcoords="offset points")
    ax.set(title=title, xlabel="direction 1", ylabel="direction 2")
    return save(fig, path)


def surface3d(landscape, path, *, key: str = "train_loss", title: str) -> Path:
    """The 3-D surface of ``key`` (a loss: log10)."""
    fig = Figure(figsize=(6, 5))
    ax = fig.add_subplot(projection="3d")
    gx, gy = np.meshgrid(*(a.numpy() for a in landscape.axes), indexing="ij")
    z = _finite(landscape.values[key].numpy())
    z = np.log10(np.clip(z, 1e-12, None)) if key.endswith("loss") else z
    ax.plot_surface(gx, gy, z, cmap="viridis", linewidth=0, antialiased=True)
    ax.set(title=title, xlabel="direction 1", ylabel="direction 2",
           zlabel=f"log10 {key}" if key.endswith("loss") else key)
    return save(fig, path)


def curve_vs_line(ts, curve: dict, straight: dict, path, *, title: str) -> Path:
    """Loss and accuracy along a connecting curve and along the straight line (mode connectivity)."""
    fig = Figure(figsize=(10, 4))
    for i, metric in enumerate(("loss", "acc")):
        ax = fig.add_subplot(1, 2, i + 1)
        for split, color in (("train", TRAIN_COLOR), ("test", TEST_COLOR)):
            key = f"{split}_{metric}"
            if key not in curve:
                continue
            scale = 100 if metric == "acc" else 1
            ax.plot(ts, np.asarray(curve[key]) * scale, color=color, label=f"curve {split}")
            ax.plot(ts, np.asarray(straight[key]) * scale, color=color, linestyle=":", label=f"line {split}")
        ax.set(xlabel="t", ylabel="accuracy (%)" if metric == "acc" else "loss", title=title if i == 0 else "")
        ax.legend(fontsize=8)
    return save(fig, path)


def image_grid(images, path, *, title: str, labels=None, cmap: str = "gray", cols: int | None = None) -> Path:
    """Images (N, H, W) or (N, H, W, 3) in a grid (square unless ``cols``), each scaled to its
    own range."""
    images = np.asarray(images)
    n = len(images)
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(1.3 * cols, 1.3 * rows + 0.4))
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 1)
        img = images[i]
        if img.ndim == 3:                    # RGB: each image scaled to [0, 1]
            img = (img - img.min()) / (img.max() - img.min() + 1e-12)
        ax.imshow(img, cmap=cmap, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if labels is not None:
            ax.set_title(str(labels[i]), fontsize=7)
    fig.suptitle(title)
    return save(fig, path)


def scatter(points, classes, path, *, title: str) -> Path:
    """2-D points coloured by class (t-SNE)."""
    fig = Figure(figsize=(6, 5))
    ax = fig.add_subplot()
    points, classes = np.asarray(points), np.asarray(classes)
    sc = ax.scatter(points[:, 0], points[:, 1], c=classes, cmap="tab10", s=6)
    fig.colorbar(sc, ax=ax, label="class")
    ax.set(title=title, xticks=[], yticks=[])
    return save(fig, path)


def series(xs, named: dict, path, *, title: str, xlabel: str, ylabel: str, logx: bool = False) -> Path:
    """Several named series against ``xs`` (double descent: error against width or epoch)."""
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    for name, ys in named.items():
        ax.plot(xs, ys, marker="o", markersize=3, label=name)
    if logx:
        ax.set_xscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=8)
    return save(fig, path)
