"""Sharpness of a solution: the Hessian's top eigenvalues (power iteration or Lanczos on
Hessian-vector products), its trace (Hutchinson), and SAM's m-sharpness.

The loss is the mean over the data given, with the model in eval mode (batch-norm statistics and
dropout frozen, as PyHessian does), evaluated through ``torch.func.functional_call`` on a private
copy: the user's model is not changed. A Hessian-vector product is the gradient of ``g . v``
(Pearlmutter 1994: double backward), summed over the data in batches. notes 004: flat vs sharp
minima, the reason SAM exists.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import functional_call, hessian

from trainwell.errors import ConfigError
from trainwell.geometry.directions import Weights, check_choice
from trainwell.nn.losses import make_loss

METHODS = {
    "lanczos": "implicitly restarted Lanczos (scipy.sparse.linalg.eigsh, ARPACK) on Hessian-vector products",
    "power": "power iteration with deflation by the eigenvectors found (PyHessian's method)",
}
POWER_ITERS = 100        # PyHessian's default maxIter
POWER_TOL = 1e-3         # PyHessian's default: stop when the eigenvalue moves by < 0.1 %
LANCZOS_TOL = 1e-6       # relative accuracy asked of ARPACK
TRACE_SAMPLES = 100      # Hutchinson probes (PyHessian's maxIter for the trace)
SAM_RHO = 0.05           # Foret et al. 2021, the CIFAR setting
SAM_M = 128              # Foret et al. 2021 measure m-sharpness on m = 128 samples per batch
EVAL_BATCH = 2048


@dataclass
class HessianOperator:
    """``H v`` of the mean loss over ``(X, y)`` at the model's weights."""

    model: torch.nn.Module
    X: torch.Tensor
    y: torch.Tensor
    loss: object = "cross_entropy"
    batch_size: int = EVAL_BATCH

    def __post_init__(self):
        self.model = copy.deepcopy(self.model).eval()
        self.loss_fn = make_loss(self.loss)
        self.params = {k: p.detach() for k, p in self.model.named_parameters()}
        self.buffers = {k: b.detach() for k, b in self.model.named_buffers()}
        self.size = sum(p.numel() for p in self.params.values())

    def batches(self):
        n = self.X.shape[0]
        for i in range(0, n, self.batch_size):
            yield self.X[i:i + self.batch_size], self.y[i:i + self.batch_size], min(self.batch_size, n - i) / n

    def loss_at(self, params: Weights, X, y) -> torch.Tensor:
        return self.loss_fn(functional_call(self.model, (params, self.buffers), (X,)), y)

    def mean_loss(self, params: Weights | None = None) -> float:
        params = self.params if params is None else params
        with torch.no_grad():
            return float(sum(self.loss_at(params, X, y) * w for X, y, w in self.batches()))

    def hvp(self, v: Weights) -> Weights:
        """``H v`` (double backward), summed over the data in batches."""
        out = {k: torch.zeros_like(p) for k, p in self.params.items()}
        for X, y, w in self.batches():
            params = {k: p.clone().requires_grad_(True) for k, p in self.params.items()}
            grads = torch.autograd.grad(self.loss_at(params, X, y), list(params.values()), create_graph=True)
            dot = sum((g * v[k]).sum() for g, k in zip(grads, params))
            hv = torch.autograd.grad(dot, list(params.values()))
            for k, h in zip(params, hv):
                out[k].add_(h, alpha=w)
        return out

    def flat(self, d: Weights) -> torch.Tensor:
        return torch.cat([d[k].reshape(-1) for k in self.params])

    def unflat(self, vector: torch.Tensor) -> Weights:
        out, i = {}, 0
        for k, p in self.params.items():
            out[k] = vector[i:i + p.numel()].reshape(p.shape).to(p.dtype)
            i += p.numel()
        return out

    def matvec(self, vector: torch.Tensor) -> torch.Tensor:
        return self.flat(self.hvp(self.unflat(vector)))


def explicit_hessian(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor, *,
                     loss="cross_entropy") -> torch.Tensor:
    """The full Hessian (float64, parameters flattened in ``named_parameters`` order) of the
    mean loss, by ``torch.func.hessian``: a reference for small models (n^2 memory)."""
    in_double = copy.deepcopy(model).double().eval()
    loss_fn = make_loss(loss)
    shapes = {k: p.shape for k, p in in_double.named_parameters()}
    flat = torch.cat([p.detach().reshape(-1) for p in in_double.parameters()])

    def of(vector):
        params, i = {}, 0
        for name, shape in shapes.items():
            params[name] = vector[i:i + shape.numel()].reshape(shape)
            i += shape.numel()
        return loss_fn(functional_call(in_double, params, (X.double(),)), y)

    return hessian(of)(flat)


def top_eigenvalues(op: HessianOperator, *, k: int = 1, method: str = "lanczos", seed: int = 0,
                    iters: int = POWER_ITERS, tol: float = POWER_TOL) -> list[float]:
    """The ``k`` largest (algebraic) eigenvalues of the Hessian, largest first."""
    check_choice("method", method, METHODS)
    if not 1 <= k < op.size:
        raise ConfigError(f"k = {k}: must be in 1..{op.size - 1} (the model has {op.size} parameters)")
    if method == "power":
        return _power(op, k=k, seed=seed, iters=iters, tol=tol)
    # lazily: scipy.sparse.linalg takes half a second to import
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    device, dtype = next(iter(op.params.values())).device, next(iter(op.params.values())).dtype

    def mv(x):
        v = torch.as_tensor(np.asarray(x).reshape(-1), dtype=dtype, device=device)
        return op.matvec(v).double().cpu().numpy()

    start = np.random.default_rng(seed).standard_normal(op.size)
    linear = LinearOperator((op.size, op.size), matvec=mv, dtype=np.float64)
    try:
        values = eigsh(linear, k=k, which="LA", v0=start, tol=LANCZOS_TOL, return_eigenvectors=False)
    except ArpackNoConvergence as e:
        values = e.eigenvalues
    return sorted((float(v) for v in values), reverse=True)


def _power(op: HessianOperator, *, k: int, seed: int, iters: int, tol: float) -> list[float]:
    """Power iteration with deflation: each vector is kept orthogonal to the eigenvectors found.
    Converges to the eigenvalues of largest magnitude (the top ones at a minimum, where the
    Hessian is close to positive semi-definite)."""
    gen = torch.Generator().manual_seed(seed)
    found, values = [], []
    p0 = next(iter(op.params.values()))
    for _ in range(k):
        v = torch.randn(op.size, generator=gen, dtype=torch.float64).to(p0.device, p0.dtype)
        value = None
        for _ in range(iters):
            for u in found:
                v = v - (v @ u) * u
            v = v / v.norm()
            hv = op.matvec(v)
            new = float(hv @ v)
            v = hv
            if value is not None and abs(new - value) <= tol * (abs(value) + 1e-12):
                value = new
                break
            value = new
        v = v / v.norm()
        found.append(v)
        values.append(value)
    return sorted(values, reverse=True)


def hessian_trace(op: HessianOperator, *, samples: int = TRACE_SAMPLES, seed: int = 0) -> tuple[float, float]:
    """Hutchinson's estimate ``mean_i v_i' H v_i`` over Rademacher vectors ``v_i`` (Hutchinson
    1990), and its standard error (std / sqrt(samples))."""
    if samples < 2:
        raise ConfigError(f"samples = {samples}: need at least 2 probes for a standard error")
    gen = torch.Generator().manual_seed(seed)
    p0 = next(iter(op.params.values()))
    draws = []
    for _ in range(samples):
        v = (torch.randint(0, 2, (op.size,), generator=gen) * 2 - 1).to(p0.device, p0.dtype)
        draws.append(float(op.matvec(v) @ v))
    values = torch.tensor(draws, dtype=torch.float64)
    return float(values.mean()), float(values.std() / math.sqrt(samples))


def check_m_sharpness(rho, m) -> None:
    """m-sharpness' options: a finite ``rho`` > 0 (a NaN one gave a NaN sharpness) and ``m`` >= 1;
    ``trainwell.sharpness`` checks them before its slower measures."""
    if not 0 < rho < math.inf or m < 1:
        raise ConfigError(f"rho = {rho}, m = {m}: need a finite rho > 0 and m >= 1")


def m_sharpness(op: HessianOperator, *, rho: float = SAM_RHO, m: int = SAM_M, seed: int = 0) -> float:
    """SAM's m-sharpness (Foret et al. 2021, §4; Andriushchenko & Flammarion 2022): the data in
    a seeded order is cut into batches of ``m``; on each, the loss rise after SAM's first-order
    worst-case step ``eps = rho g / ||g||``; the mean over batches."""
    check_m_sharpness(rho, m)
    n = op.X.shape[0]
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).to(op.X.device)
    rises = []
    for i in range(0, n - m + 1, m):
        idx = order[i:i + m]
        X, y = op.X[idx], op.y[idx]
        params = {k: p.clone().requires_grad_(True) for k, p in op.params.items()}
        loss = op.loss_at(params, X, y)
        grads = torch.autograd.grad(loss, list(params.values()))
        norm = torch.sqrt(sum((g * g).sum() for g in grads))
        with torch.no_grad():
            moved = {k: op.params[k] + rho * g / (norm + 1e-12) for k, g in zip(params, grads)}
            rises.append(op.loss_at(moved, X, y) - loss.detach())
    if not rises:
        raise ConfigError(f"m = {m}: larger than the {n} samples")
    return float(torch.stack(rises).mean())
