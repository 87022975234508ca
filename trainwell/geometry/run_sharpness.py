"""``trainwell.sharpness(run_dir, ...)``: a run's sharpness (top Hessian eigenvalues, Hutchinson
trace, m-sharpness) on its training data, written to ``run_dir/geometry/sharpness.json``."""
from __future__ import annotations

import time

import torch

from trainwell.errors import ConfigError
from trainwell.geometry.hessian import (SAM_M, SAM_RHO, TRACE_SAMPLES, HessianOperator, check_m_sharpness,
                                        hessian_trace, m_sharpness, top_eigenvalues)
from trainwell.geometry.runs import check_seed, open_run
from trainwell.options import MAX_TORCH_SEED
from trainwell.train.rundir import atomic_write_json, lock_run_dir, make_directory


def sharpness(run_dir, *, model=None, k: int = 1, method: str = "lanczos", trace_samples: int = TRACE_SAMPLES,
              rho: float = SAM_RHO, m: int = SAM_M, subset: int | None = None, seed: int = 0) -> dict:
    """The sharpness measures of the run's solution on its training data (a seeded ``subset`` of
    that many samples when given), with the seconds each took; also written to
    ``run_dir/geometry/sharpness.json``."""
    check_seed(seed, MAX_TORCH_SEED, "torch's generators take 64-bit seeds")
    check_m_sharpness(rho, m)
    if isinstance(trace_samples, bool) or not isinstance(trace_samples, int) or trace_samples < 2:
        raise ConfigError(f"trace_samples = {trace_samples!r}: must be an integer >= 2 (probes for the "
                          f"trace's standard error)")
    rd = open_run(run_dir, model=model)
    X, y = rd.train
    if subset is not None:
        if not isinstance(subset, int) or not 1 < subset <= X.shape[0]:
            raise ConfigError(f"subset = {subset!r}: must be an integer in 2..{X.shape[0]} (the training samples)")
        idx = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(seed))[:subset].to(X.device)
        X, y = X[idx], y[idx]
    op = HessianOperator(rd.model, X, y, loss=rd.loss)
    result = {"samples": X.shape[0], "parameters": op.size, "loss": op.mean_loss(), "method": method,
              "seed": seed, "rho": rho, "m": m, "trace_samples": trace_samples}
    t = time.perf_counter()
    result["top_eigenvalues"] = top_eigenvalues(op, k=k, method=method, seed=seed)
    result["eigen_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    result["trace"], result["trace_stderr"] = hessian_trace(op, samples=trace_samples, seed=seed)
    result["trace_seconds"] = time.perf_counter() - t
    result["m_sharpness"] = m_sharpness(op, rho=rho, m=min(m, X.shape[0]), seed=seed)
    with lock_run_dir(rd.run.run_dir):
        atomic_write_json(result, make_directory(rd.out_dir) / "sharpness.json")
    return result
