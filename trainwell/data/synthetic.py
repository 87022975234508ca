"""Synthetic data for quick experiments, every generator seeded and built with batched ops.

``spirals`` (CS231n's "neural networks case study": K arms, not linearly separable), ``blobs``,
``moons``, ``circles`` (scikit-learn's ``make_*``), ``teacher`` (labels or targets from a random
network, so a student of the same shape can fit them exactly) and ``shapes`` (small procedural
images of several shape classes for CNNs). Each returns a stratified, seeded :class:`Splits`.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from trainwell.data.splits import Splits, build_splits
from trainwell.errors import ConfigError


def _at_least(source: str, key: str, value, low) -> None:
    if value < low:
        raise ConfigError(f"{source}: {key} = {value!r}: must be >= {low}")


def _finish(name, X, y, *, seed, test_size, val_size, stratify, folds, fold, num_classes=None,
            meta=None) -> Splits:
    X = X.numpy() if isinstance(X, torch.Tensor) else X
    y = y.numpy() if isinstance(y, torch.Tensor) else y
    return build_splits((X.astype(np.float32), y), test_size=test_size, val_size=val_size, seed=seed,
                        stratify=stratify, folds=folds, fold=fold, num_classes=num_classes, name=name,
                        meta=meta)


def spirals(*, seed: int = 0, test_size=0.2, val_size=0.1, stratify: bool = True, folds=None,
            fold: int = 0, classes: int = 3, samples_per_class: int = 100, noise: float = 0.2) -> Splits:
    """K interleaved spiral arms in 2-D (CS231n case study: 100 points per class, K = 3, angle
    noise 0.2). Arm j: radius r = linspace(0, 1), angle t = 4(j + r) + noise·N(0, 1),
    point (r sin t, r cos t)."""
    _at_least("spirals", "classes", classes, 2)
    _at_least("spirals", "samples_per_class", samples_per_class, 2)
    _at_least("spirals", "noise", noise, 0)
    g = torch.Generator().manual_seed(seed)
    arm = torch.arange(classes).repeat_interleave(samples_per_class)
    r = torch.linspace(0, 1, samples_per_class, dtype=torch.float64).repeat(classes)
    t = 4 * (arm + r) + noise * torch.randn(len(arm), generator=g, dtype=torch.float64)
    X = torch.stack([r * torch.sin(t), r * torch.cos(t)], dim=1)
    return _finish("spirals", X, arm, seed=seed, test_size=test_size, val_size=val_size,
                   stratify=stratify, folds=folds, fold=fold, num_classes=classes)


def blobs(*, seed: int = 0, test_size=0.2, val_size=0.1, stratify: bool = True, folds=None,
          fold: int = 0, classes: int = 3, samples: int = 600, features: int = 2,
          spread: float = 1.0) -> Splits:
    """Isotropic Gaussian blobs (sklearn ``make_blobs``): centers uniform in [-10, 10]^features."""
    from sklearn.datasets import make_blobs  # lazy: slow to import (~2 s)

    _at_least("blobs", "classes", classes, 2)
    _at_least("blobs", "samples", samples, 2 * classes)
    _at_least("blobs", "features", features, 1)
    if spread <= 0:
        raise ConfigError(f"blobs: spread = {spread!r}: must be > 0")
    X, y = make_blobs(n_samples=samples, n_features=features, centers=classes, cluster_std=spread,
                      random_state=seed)
    return _finish("blobs", X, y.astype(np.int64), seed=seed, test_size=test_size, val_size=val_size,
                   stratify=stratify, folds=folds, fold=fold, num_classes=classes)


def moons(*, seed: int = 0, test_size=0.2, val_size=0.1, stratify: bool = True, folds=None,
          fold: int = 0, samples: int = 600, noise: float = 0.1) -> Splits:
    """Two interleaving half circles (sklearn ``make_moons``), 2 classes."""
    from sklearn.datasets import make_moons  # lazy: slow to import (~2 s)

    _at_least("moons", "samples", samples, 4)
    _at_least("moons", "noise", noise, 0)
    X, y = make_moons(n_samples=samples, noise=noise, random_state=seed)
    return _finish("moons", X, y.astype(np.int64), seed=seed, test_size=test_size, val_size=val_size,
                   stratify=stratify, folds=folds, fold=fold, num_classes=2)


def circles(*, seed: int = 0, test_size=0.2, val_size=0.1, stratify: bool = True, folds=None,
            fold: int = 0, samples: int = 600, noise: float = 0.05, factor: float = 0.5) -> Splits:
    """A small circle inside a large one (sklearn ``make_circles``), 2 classes (1 = inner)."""
    from sklearn.datasets import make_circles  # lazy: slow to import (~2 s)

    _at_least("circles", "samples", samples, 4)
    _at_least("circles", "noise", noise, 0)
    if not 0 < factor < 1:
        raise ConfigError(f"circles: factor = {factor!r}: must be in (0, 1)")
    X, y = make_circles(n_samples=samples, noise=noise, factor=factor, random_state=seed)
    return _finish("circles", X, y.astype(np.int64), seed=seed, test_size=test_size, val_size=val_size,
                   stratify=stratify, folds=folds, fold=fold, num_classes=2)


TASKS = ("classification", "regression")


def teacher_network(features: int, hidden, outputs: int, *, generator: torch.Generator):
    """Random ReLU MLP weights, He-scaled (W ~ N(0, 2/fan_in), notes 004: keeps activation std flat
    through ReLU layers; the last layer N(0, 1/fan_in)). Returns the list of weight matrices."""
    widths = [features, *hidden, outputs]
    return [torch.randn(a, b, generator=generator, dtype=torch.float64)
            * math.sqrt((2.0 if i < len(widths) - 2 else 1.0) / a)
            for i, (a, b) in enumerate(zip(widths[:-1], widths[1:]))]


def teacher_forward(weights, X: torch.Tensor) -> torch.Tensor:
    h = X
    for i, W in enumerate(weights):
        h = h @ W
        if i < len(weights) - 1:
            h = torch.relu(h)
    return h


def teacher(*, seed: int = 0, test_size=0.2, val_size=0.1, stratify: bool = True, folds=None,
            fold: int = 0, task: str = "classification", samples: int = 2000, features: int = 20,
            hidden=(64,), classes: int = 4, outputs: int = 1, noise: float = 0.0) -> Splits:
    """Inputs X ~ N(0, I); targets from a random teacher MLP (``teacher_network``).

    Classification: y = argmax(logits − mean over the data set of the logits + noise·N(0, 1)); the
    centering keeps classes roughly balanced. Regression: y = output + noise·N(0, 1), shape (n,)
    for one output, (n, outputs) otherwise. The teacher's weights are the first draws of the
    seeded generator: ``teacher_network(features, hidden, out, generator=Generator().manual_seed(seed))``
    rebuilds them.
    """
    if task not in TASKS:
        raise ConfigError(f"teacher: task = {task!r}: must be one of {', '.join(TASKS)}")
    _at_least("teacher", "samples", samples, 10)
    _at_least("teacher", "features", features, 1)
    _at_least("teacher", "noise", noise, 0)
    hidden = list(hidden)
    if not all(isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in hidden):
        raise ConfigError(f"teacher: hidden = {hidden!r}: must be a list of positive integers")
    if task == "classification":
        _at_least("teacher", "classes", classes, 2)
    else:
        _at_least("teacher", "outputs", outputs, 1)
    g = torch.Generator().manual_seed(seed)
    out = classes if task == "classification" else outputs
    weights = teacher_network(features, hidden, out, generator=g)
    X = torch.randn(samples, features, generator=g, dtype=torch.float64)
    z = teacher_forward(weights, X)
    z = z + noise * torch.randn(z.shape, generator=g, dtype=torch.float64)
    meta = {"task": task}
    if task == "classification":
        y = (z - z.mean(0)).argmax(1)
        return _finish("teacher", X, y, seed=seed, test_size=test_size, val_size=val_size,
                       stratify=stratify, folds=folds, fold=fold, num_classes=classes, meta=meta)
    y = (z[:, 0] if outputs == 1 else z).float()
    return _finish("teacher", X, y, seed=seed, test_size=test_size, val_size=val_size,
                   stratify=False, folds=folds, fold=fold, meta=meta)


# --- shapes: boolean masks in coordinates relative to each shape (dx, dy in [-1, 1] inside its box)

def _box(dx, dy):
    return (dx.abs() <= 1) & (dy.abs() <= 1)


SHAPES = {
    "square": _box,
    "circle": lambda dx, dy: dx ** 2 + dy ** 2 <= 1,
    "cross": lambda dx, dy: _box(dx, dy) & ((dx.abs() <= 0.3) | (dy.abs() <= 0.3)),
    "ring": lambda dx, dy: ((dx ** 2 + dy ** 2) <= 1) & ((dx ** 2 + dy ** 2) >= 0.3),
    "triangle": lambda dx, dy: _box(dx, dy) & (dx.abs() <= (dy + 1) / 2),
    "hstripes": lambda dx, dy: _box(dx, dy) & (torch.floor((dy + 1) * 2) % 2 == 0),
    "vstripes": lambda dx, dy: _box(dx, dy) & (torch.floor((dx + 1) * 2) % 2 == 0),
    "diamond": lambda dx, dy: dx.abs() + dy.abs() <= 1,
}


def shapes(*, seed: int = 0, test_size=0.2, val_size=0.1, stratify: bool = True, folds=None,
           fold: int = 0, classes: int = 4, samples_per_class: int = 250, size: int = 16,
           channels: int = 1, noise: float = 0.1) -> Splits:
    """Procedural C×H×W images: one shape per image (class = shape, the first ``classes`` of
    ``SHAPES``), half-size uniform in [0.2, 0.4]·size, center uniform where the shape fits,
    brightness U(0.6, 1) (gray) or a color U(0.3, 1)^3 (RGB) on a black background, plus
    noise·N(0, 1), clipped to [0, 1]. All images are drawn at once on a pixel grid."""
    _at_least("shapes", "classes", classes, 2)
    if classes > len(SHAPES):
        raise ConfigError(f"shapes: classes = {classes}: at most {len(SHAPES)} ({', '.join(SHAPES)})")
    _at_least("shapes", "samples_per_class", samples_per_class, 2)
    _at_least("shapes", "size", size, 8)
    _at_least("shapes", "noise", noise, 0)
    if channels not in (1, 3):
        raise ConfigError(f"shapes: channels = {channels!r}: must be 1 or 3")
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(classes).repeat_interleave(samples_per_class)
    n = len(y)
    half = size * (0.2 + 0.2 * torch.rand(n, generator=g))
    cy, cx = (half + (size - 1 - 2 * half) * torch.rand(2, n, generator=g))   # shape fits the image
    grid = torch.arange(size, dtype=torch.float32)
    dy = (grid[None, :, None] - cy[:, None, None]) / half[:, None, None]         # (n, H, 1)
    dx = (grid[None, None, :] - cx[:, None, None]) / half[:, None, None]         # (n, 1, W)
    dy, dx = dy.expand(n, size, size), dx.expand(n, size, size)
    mask = torch.zeros(n, size, size, dtype=torch.bool)
    for c, name in enumerate(list(SHAPES)[:classes]):
        rows = y == c
        mask[rows] = SHAPES[name](dx[rows], dy[rows])
    if channels == 1:
        color = 0.6 + 0.4 * torch.rand(n, 1, generator=g)
    else:
        color = 0.3 + 0.7 * torch.rand(n, 3, generator=g)
    X = mask[:, None].float() * color[:, :, None, None]
    X = (X + noise * torch.randn(X.shape, generator=g)).clamp_(0, 1)
    return _finish("shapes", X, y, seed=seed, test_size=test_size, val_size=val_size, stratify=stratify,
                   folds=folds, fold=fold, num_classes=classes, meta={"classes": list(SHAPES)[:classes]})
