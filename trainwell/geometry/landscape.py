"""Loss landscapes: the loss (and accuracy) of a model at points ``center + sum_k c_k d_k`` of
weight space: a 1-D line (interpolation between two weight sets, Goodfellow et al. 2015), a 2-D
surface along two filter-normalized random directions (Li et al. 2018), or the plane through
three solutions (Garipov et al. 2018, §3). notes 004: visualizing the loss landscape.

Every point is evaluated with ``torch.func.functional_call`` on a private copy of the model, so
the user's model is never changed. On CUDA, with frozen batch-norm statistics, ``torch.func.vmap``
runs ``points_per_pass`` points in one batched forward; on the CPU the points go one at a time,
their weights written into the private copy (faster there than vmap). The grid is saved after every pass to a
safetensors file, and a later call with the same settings resumes where it stopped.
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch.func import functional_call, vmap
from torch.optim.swa_utils import update_bn

from trainwell.errors import ConfigError, DataError
from trainwell.geometry.directions import (Weights, check_choice, difference, dot,
                                           random_directions, weights_of)
from trainwell.nn.losses import accuracy_fn, make_loss
from trainwell.train.rundir import atomic_path

BN_POLICIES = {
    "frozen": "the running statistics of the model passed in (the solution), at every point (Li et al. 2018)",
    "recompute": "running statistics recomputed at every point by a pass over the training inputs "
                 "(torch.optim.swa_utils.update_bn; Garipov et al. 2018)",
}
ALPHA_RANGE = (-0.5, 1.5)     # the issue's (and Goodfellow et al.'s) interpolation range
LINE_POINTS = 41              # alpha steps of 0.05
SURFACE_STEPS = 51            # Li et al. 2018 plot 51 x 51 grids
SURFACE_SPAN = 1.0            # coordinates in [-1, 1] along filter-normalized directions (Li et al.)
PLANE_MARGIN = 0.2            # the plane's grid reaches 20 % beyond the three solutions
# Grid points per vmapped forward on CUDA, where batching many small forwards pays; on the CPU a
# plain loop (one point at a time, weights written in place) was measured faster than vmap
# (BENCHMARKS.md, "Geometry"), so None ("auto") means 32 on CUDA and 1 elsewhere.
POINTS_PER_PASS = None
POINTS_PER_PASS_CUDA = 32
EVAL_BATCH = 2048             # samples per forward
COLLINEAR = 1e-10             # w3 - w1 with less than this share of its squared norm off the line


@dataclass
class Landscape:
    """The values on a grid: ``axes`` (one tensor per direction), ``values`` ("train_loss",
    "train_acc", "test_loss", "test_acc" when measured) shaped like the grid, ``meta`` (kind,
    seed, normalization, bn policy, subset, the sampling error ...)."""

    kind: str
    axes: list[torch.Tensor]
    values: dict[str, torch.Tensor]
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """As JSON values; a non-finite loss (far from a solution) becomes "nan" / "inf" / "-inf"."""
        return {"kind": self.kind, "axes": [a.tolist() for a in self.axes],
                "values": {k: _finite(v.tolist()) for k, v in self.values.items()}, "meta": self.meta}


def _finite(obj):
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj if math.isfinite(obj) else str(obj)


@dataclass
class Evaluator:
    """How to measure one weight set: the model (a private copy), the data, the loss."""

    model: torch.nn.Module
    splits: dict                 # name -> (X, y)
    loss_fn: object
    accuracy: object
    bn: str = "frozen"
    batch_size: int = EVAL_BATCH
    points_per_pass: int | None = POINTS_PER_PASS

    def __post_init__(self):
        check_choice("bn", self.bn, BN_POLICIES)
        self.model = copy.deepcopy(self.model).eval()
        if self.points_per_pass is None:
            on_cuda = next(iter(self.splits.values()))[0].device.type == "cuda"
            self.points_per_pass = POINTS_PER_PASS_CUDA if on_cuda else 1
        self.buffers = {k: b.detach() for k, b in self.model.named_buffers()}
        self.has_bn = any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in self.model.modules())

    def _sums(self, forward, X, y):
        loss = 0.0
        hits = torch.zeros((), device=X.device)
        for i in range(0, X.shape[0], self.batch_size):
            xb, yb = X[i:i + self.batch_size], y[i:i + self.batch_size]
            out = forward(xb)
            loss = loss + self.loss_fn(out, yb) * xb.shape[0]
            if self.accuracy is not None:
                hits = hits + self.accuracy(out, yb)
        n = X.shape[0]
        return loss / n, hits / n

    def batched(self, stacked: Weights) -> dict[str, torch.Tensor]:
        """Values at K points at once (``stacked[name]`` has a leading K axis), frozen statistics."""
        def one(params):
            out = []
            for X, y in self.splits.values():
                out.extend(self._sums(lambda xb: functional_call(self.model, (params, self.buffers), (xb,)), X, y))
            return torch.stack(out)

        with torch.no_grad():
            table = vmap(one)(stacked)
        return self._named(table.T)

    def single(self, weights: Weights, directions: list[Weights] = (), coords=()) -> dict[str, torch.Tensor]:
        """Values at ``weights + sum_k coords[k] directions[k]`` (written into the private copy's
        parameters, no new tensors); with ``bn="recompute"`` the statistics are re-estimated there
        first."""
        with torch.no_grad():
            for name, p in self.model.named_parameters():
                p.copy_(weights[name])
                for c, d in zip(coords, directions):
                    p.add_(d[name], alpha=c)
            if self.bn == "recompute" and self.has_bn:
                X = next(iter(self.splits.values()))[0]
                update_bn([X[i:i + self.batch_size] for i in range(0, X.shape[0], self.batch_size)], self.model)
                self.model.eval()
            out = []
            for X, y in self.splits.values():
                out.extend(self._sums(self.model, X, y))
        return self._named(torch.stack(out)[:, None])

    def _named(self, table) -> dict[str, torch.Tensor]:
        names = [f"{s}_{m}" for s in self.splits for m in ("loss", "acc")]
        return {n: table[i].float().cpu() for i, n in enumerate(names)
                if self.accuracy is not None or not n.endswith("_acc")}

    @property
    def vectorized(self) -> bool:
        """Points go through ``batched`` (vmap): more than one a pass, frozen statistics."""
        return self.points_per_pass > 1 and not (self.bn == "recompute" and self.has_bn)


def evaluate_grid(ev: Evaluator, center: Weights, directions: list[Weights], coords: torch.Tensor, *,
                  path=None, meta: dict | None = None, restart: bool = False) -> dict[str, torch.Tensor]:
    """The values at ``center + coords[p] @ directions`` for every row p of ``coords``; with
    ``path``, the grid so far is saved after every pass and an existing file with the same
    ``meta`` and coordinates is resumed (its NaN entries are the points still to do). A file
    holding another grid is a DataError, or with ``restart=True`` replaced."""
    meta = dict(meta or {})
    values = _resume(path, meta, coords, restart=restart) if path is not None else None
    if values is None:
        values = {}
    pending = [p for p in range(coords.shape[0]) if not values or math.isnan(float(values["train_loss"][p]))]
    step = ev.points_per_pass if ev.vectorized else 1
    for start in range(0, len(pending), step):
        idx = pending[start:start + step]
        if ev.vectorized:
            c = coords[idx].to(next(iter(center.values())).device)
            stacked = {}
            for name, w in center.items():
                v = w.unsqueeze(0).expand(len(idx), *w.shape).clone()
                for k, d in enumerate(directions):
                    v += c[:, k].reshape(-1, *([1] * w.dim())).to(w.dtype) * d[name].unsqueeze(0)
                stacked[name] = v
            got = ev.batched(stacked)
        else:
            got = ev.single(center, directions, coords[idx[0]].tolist())
        for name, v in got.items():
            values.setdefault(name, torch.full((coords.shape[0],), float("nan")))[idx] = v
        if path is not None:
            _save_grid(path, meta, coords, values)
    return values


def _save_grid(path, meta: dict, coords: torch.Tensor, values: dict) -> None:
    tensors = {"coords": coords.contiguous(), **{f"value/{k}": v.contiguous() for k, v in values.items()}}
    with atomic_path(path) as temp:
        save_file(tensors, str(temp), metadata={"trainwell": json.dumps(meta, sort_keys=True)})


def _resume(path, meta: dict, coords: torch.Tensor, *, restart: bool) -> dict | None:
    """The partly computed grid in ``path`` when it matches ``meta`` and ``coords``; None when
    there is no file (or it holds another grid and ``restart``); else a DataError."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as f:
            saved = json.loads((f.metadata() or {})["trainwell"])
    except (SafetensorError, OSError, KeyError, json.JSONDecodeError) as e:
        raise DataError(f"{path}: not a trainwell landscape grid ({type(e).__name__}: {e}); "
                        f"delete it to start over") from None
    same = json.loads(json.dumps(meta, sort_keys=True)) == saved
    if not same or tensors["coords"].shape != coords.shape or not torch.equal(tensors["coords"], coords):
        if restart:
            return None
        changed = sorted(k for k in set(saved) | set(meta) if saved.get(k) != json.loads(json.dumps(meta)).get(k))
        raise DataError(f"{path}: holds a grid with other settings ({', '.join(changed) or 'coordinates'}); "
                        f"delete it or write to another file")
    return {k.removeprefix("value/"): v for k, v in tensors.items() if k.startswith("value/")}


# ------------------------------------------------------------------------------ the three kinds
def make_evaluator(model, data, *, test=None, loss="cross_entropy", bn="frozen", subset=None,
                   seed=0, batch_size=EVAL_BATCH, points_per_pass=POINTS_PER_PASS) -> tuple[Evaluator, dict]:
    """The evaluator on ``data`` (the training ``(X, y)``; a seeded random ``subset`` of that
    many samples when given) and ``test``; returns it and the meta describing the data (with
    the subset's estimated standard error of the mean loss at the model's weights)."""
    X, y = data
    n_all = X.shape[0]
    meta = {"bn": check_choice("bn", bn, BN_POLICIES), "train_samples": n_all, "subset": None,
            "loss": loss if isinstance(loss, str) else getattr(loss, "__name__", "callable")}
    if subset is not None:
        if not isinstance(subset, int) or not 1 < subset <= n_all:
            raise ConfigError(f"subset = {subset!r}: must be an integer in 2..{n_all} (the training samples)")
        idx = torch.randperm(n_all, generator=torch.Generator().manual_seed(seed))[:subset].to(X.device)
        X, y = X[idx], y[idx]
        meta.update(subset=subset, subset_seed=seed)
    if (points_per_pass is not None and points_per_pass < 1) or batch_size < 1:
        raise ConfigError(f"points_per_pass = {points_per_pass}, batch_size = {batch_size}: must be >= 1 "
                          f"(points_per_pass None: 32 on CUDA, 1 on the CPU)")
    loss_fn = make_loss(loss)
    splits = {"train": (X, y)} if test is None else {"train": (X, y), "test": tuple(test)}
    ev = Evaluator(model, splits, loss_fn, accuracy_fn(loss, y), bn=bn, batch_size=batch_size,
                   points_per_pass=points_per_pass)
    if subset is not None:
        meta["sampling_error"] = sampling_error(ev.model, loss_fn, X, y, n_all)
    return ev, meta


def sampling_error(model, loss_fn, X, y, population: int) -> float:
    """Standard error of the subset's mean loss as an estimate of the full set's: the per-sample
    losses' standard deviation / sqrt(n), with the finite-population correction sqrt((N-n)/(N-1))."""
    with torch.no_grad():
        out = model(X)
        per = vmap(lambda o, t: loss_fn(o[None], t[None]))(out, y).double()
    n = X.shape[0]
    return float(per.std() / math.sqrt(n) * math.sqrt((population - n) / max(population - 1, 1)))


def interpolate(model, start: Weights, end: Weights, data, *, alphas=None, path=None, restart: bool = False,
                **options) -> Landscape:
    """1-D: the values at ``start + alpha (end - start)`` (alpha from -0.5 to 1.5 by default).
    ``path``/``restart``: see ``evaluate_grid``; ``options``: see ``make_evaluator``."""
    alphas = torch.linspace(*ALPHA_RANGE, LINE_POINTS) if alphas is None else torch.as_tensor(alphas, dtype=torch.float32)
    ev, meta = make_evaluator(model, data, **options)
    meta.update(kind="line", distance=math.sqrt(dot(difference(end, start), difference(end, start))))
    values = evaluate_grid(ev, start, [difference(end, start)], alphas[:, None], path=path, meta=meta,
                           restart=restart)
    return Landscape("line", [alphas], values, meta)


def surface(model, data, *, center: Weights | None = None, directions: list[Weights] | None = None,
            seed: int = 0, normalization: str = "filter", one_d: str = "zero", span: float = SURFACE_SPAN,
            steps: int = SURFACE_STEPS, path=None, restart: bool = False, **options) -> Landscape:
    """2-D: the values on a ``steps`` x ``steps`` grid of ``[-span, span]^2`` around ``center``
    (default: the model's weights) along two directions (default: filter-normalized random ones
    drawn with ``seed`` and ``seed + 1``)."""
    if steps < 2 or not 0 < span < math.inf:     # a NaN span gave a grid of NaN coordinates
        raise ConfigError(f"steps = {steps}, span = {span}: need steps >= 2 and a finite span > 0")
    center = weights_of(model) if center is None else center
    if directions is None:
        directions = random_directions(center, count=2, seed=seed, normalization=normalization, one_d=one_d)
        dmeta = {"seed": seed, "normalization": normalization, "one_d": one_d}
    else:
        dmeta = {"seed": None, "normalization": "given", "one_d": None}
    axis = torch.linspace(-span, span, steps)
    ev, meta = make_evaluator(model, data, seed=seed, **options)
    meta.update(kind="surface", **dmeta)
    gx, gy = torch.meshgrid(axis, axis, indexing="ij")
    coords = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    values = evaluate_grid(ev, center, directions, coords, path=path, meta=meta, restart=restart)
    return Landscape("surface", [axis, axis], {k: v.reshape(steps, steps) for k, v in values.items()},
                     meta)


def plane(model, w1: Weights, w2: Weights, w3: Weights, data, *, steps: int = 31,
          margin: float = PLANE_MARGIN, path=None, restart: bool = False, **options) -> Landscape:
    """2-D: the plane through three solutions, in an orthonormal basis (Gram-Schmidt) of
    ``w2 - w1`` and ``w3 - w1``, with the grid reaching ``margin`` beyond them; ``meta["points"]``
    holds the three solutions' coordinates."""
    u = difference(w2, w1)
    v = difference(w3, w1)
    uu = dot(u, u)
    if uu == 0:
        raise ConfigError("plane: the first two solutions are the same weights")
    d3 = difference(w3, w1)
    v = {k: v[k] - dot(v, u) / uu * u[k] for k in v}
    vv = dot(v, v)
    if vv <= COLLINEAR * dot(d3, d3):
        raise ConfigError("plane: the three solutions lie on one line")
    un, vn = {k: t / math.sqrt(uu) for k, t in u.items()}, {k: t / math.sqrt(vv) for k, t in v.items()}
    points = [(0.0, 0.0), (math.sqrt(uu), 0.0), (dot(d3, un), math.sqrt(vv))]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    pad_x, pad_y = margin * (max(xs) - min(xs)), margin * (max(ys) - min(ys))
    ax = torch.linspace(min(xs) - pad_x, max(xs) + pad_x, steps)
    ay = torch.linspace(min(ys) - pad_y, max(ys) + pad_y, steps)
    ev, meta = make_evaluator(model, data, **options)
    meta.update(kind="plane", points=points)
    gx, gy = torch.meshgrid(ax, ay, indexing="ij")
    coords = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    values = evaluate_grid(ev, w1, [un, vn], coords, path=path, meta=meta, restart=restart)
    return Landscape("plane", [ax, ay], {k: v.reshape(steps, steps) for k, v in values.items()}, meta)
