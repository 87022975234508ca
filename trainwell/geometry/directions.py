"""Directions in weight space: seeded random directions with filter normalization, and the
directions between solutions; saved as safetensors with their seed so a plot can be redrawn.

Filter normalization (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets", §4):
a Gaussian direction ``d`` gets, for every filter (the slice ``d[i]`` of a conv weight, the row
of a linear weight), the norm of the same filter of the weights: ``d[i] <- d[i] / ||d[i]|| *
||w[i]||``. Parameters with one dimension or none (biases, norm weights) have no filters; the
paper zeroes their direction (``one_d="zero"``, its default) or, with ``one_d="include"``,
its reference code moves them along the weights themselves (``d = w``).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from trainwell.errors import ConfigError, DataError
from trainwell.train.rundir import atomic_path

Weights = dict[str, torch.Tensor]

NORMALIZATIONS = {
    "filter": "each filter / neuron row scaled to the norm of the same filter of the weights (Li et al. 2018)",
    "layer": "each parameter tensor scaled to the norm of the same tensor of the weights",
    "none": "the raw Gaussian direction",
}
ONE_D = {
    "zero": "1-D parameters (biases, norm weights) do not move (Li et al. 2018's default)",
    "include": "1-D parameters move along the weights themselves, d = w (the paper's reference code)",
}
FILTER_EPS = 1e-10     # guards a zero-norm random filter (never seen with Gaussian draws)


def weights_of(model: torch.nn.Module) -> Weights:
    """A detached copy of the model's parameters by name (buffers excluded)."""
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def check_choice(key: str, value: str, allowed: dict) -> str:
    if value not in allowed:
        raise ConfigError(f"{key} = {value!r}: unknown; allowed: {', '.join(allowed)}")
    return value


def normalize(direction: Weights, weights: Weights, *, normalization: str = "filter",
              one_d: str = "zero") -> Weights:
    """``direction`` rescaled against ``weights`` (see the module doc); a new dict."""
    check_choice("normalization", normalization, NORMALIZATIONS)
    check_choice("one_d", one_d, ONE_D)
    out = {}
    for name, d in direction.items():
        w = weights[name]
        if d.dim() <= 1:
            out[name] = torch.zeros_like(w) if one_d == "zero" else w.clone()
        elif normalization == "filter":
            dims = tuple(range(1, d.dim()))
            scale = (torch.linalg.vector_norm(w, dim=dims, keepdim=True)
                     / (torch.linalg.vector_norm(d, dim=dims, keepdim=True) + FILTER_EPS))
            out[name] = d * scale
        elif normalization == "layer":
            out[name] = d * (w.norm() / (d.norm() + FILTER_EPS))
        else:
            out[name] = d.clone()
    return out


def random_direction(weights: Weights, *, seed: int, normalization: str = "filter",
                     one_d: str = "zero") -> Weights:
    """A Gaussian direction drawn from ``torch.Generator().manual_seed(seed)`` on the CPU
    (the same numbers on every device), parameter by parameter in ``weights``' order, then
    normalized."""
    gen = torch.Generator().manual_seed(seed)
    raw = {name: torch.randn(w.shape, generator=gen, dtype=torch.float32).to(w.device, w.dtype)
           for name, w in weights.items()}
    return normalize(raw, weights, normalization=normalization, one_d=one_d)


def random_directions(weights: Weights, *, count: int = 2, seed: int = 0, normalization: str = "filter",
                      one_d: str = "zero") -> list[Weights]:
    """``count`` directions; the k-th is drawn with seed ``seed + k``."""
    return [random_direction(weights, seed=seed + k, normalization=normalization, one_d=one_d)
            for k in range(count)]


def difference(end: Weights, start: Weights) -> Weights:
    """``end - start``, parameter by parameter."""
    return {name: end[name] - start[name] for name in start}


def dot(a: Weights, b: Weights) -> float:
    return float(sum((a[k].double() * b[k].double()).sum() for k in a))


def combine(center: Weights, directions: list[Weights], coords) -> Weights:
    """``center + sum_k coords[k] * directions[k]``."""
    out = {}
    for name, w in center.items():
        value = w.clone()
        for c, d in zip(coords, directions):
            value.add_(d[name], alpha=float(c))
        out[name] = value
    return out


def save_directions(path, directions: list[Weights], *, meta: dict) -> Path:
    """Writes the directions (keys ``d{k}/{name}``) and ``meta`` (the seed, the normalization,
    ...) to one safetensors file, atomically."""
    tensors = {f"d{k}/{name}": t.detach().cpu().contiguous()
               for k, d in enumerate(directions) for name, t in d.items()}
    with atomic_path(path) as temp:
        save_file(tensors, str(temp), metadata={"trainwell": json.dumps(meta)})
    return Path(path)


def load_directions(path) -> tuple[list[Weights], dict]:
    """The directions and their metadata saved by ``save_directions``; a one-line DataError
    naming the file when it is missing or not such a file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: missing (saved directions)")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {})["trainwell"])
    except (SafetensorError, OSError, KeyError, json.JSONDecodeError) as e:
        raise DataError(f"{path}: not a trainwell directions file ({type(e).__name__}: {e})") from None
    directions: dict[int, Weights] = {}
    for key, t in tensors.items():
        head, _, name = key.partition("/")
        directions.setdefault(int(head[1:]), {})[name] = t
    return [directions[k] for k in sorted(directions)], meta
