import math

import pytest
import torch
from torch import nn
from torch.func import functional_call

from trainwell.errors import ConfigError
from trainwell.geometry.hessian import (HessianOperator, explicit_hessian, hessian_trace, m_sharpness,
                                        top_eigenvalues)


@pytest.fixture
def problem(blobs):
    """A tanh MLP with 2-6-3 units (39 parameters), partly trained, and its explicit Hessian
    (torch.func.hessian in float64: no Hessian-vector products involved)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 3))
    X, y = blobs
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(50):
        opt.zero_grad()
        nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    H = explicit_hessian(model, X, y)
    return model, X, y, H


def test_hvp_is_the_explicit_hessian_times_v(problem):
    model, X, y, H = problem
    op = HessianOperator(model, X, y, batch_size=128)      # three batches, summed
    v = torch.randn(op.size, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(op.matvec(v).double(), H @ v.double(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_top_eigenvalues_match_the_explicit_hessian(problem, method):
    model, X, y, H = problem
    exact = torch.linalg.eigvalsh(H).flip(0)
    got = top_eigenvalues(HessianOperator(model, X, y), k=2, method=method, tol=1e-6, iters=500)
    assert got[0] == pytest.approx(exact[0].item(), rel=1e-3)
    assert got[1] == pytest.approx(exact[1].item(), rel=1e-2)


def test_hutchinson_trace_is_within_its_standard_error(problem):
    model, X, y, H = problem
    estimate, se = hessian_trace(HessianOperator(model, X, y), samples=200, seed=3)
    assert abs(estimate - torch.trace(H).item()) < 4 * se
    assert se < 0.2 * abs(torch.trace(H).item())


def test_m_sharpness_is_the_rise_after_the_sam_step(problem):
    model, X, y, _ = problem
    op = HessianOperator(model, X, y)
    s = m_sharpness(op, rho=0.05, m=300)                  # one batch: the whole set, any order
    g = torch.autograd.grad(nn.functional.cross_entropy(model(X), y), list(model.parameters()))
    norm = torch.sqrt(sum((t * t).sum() for t in g))
    moved = {k: p.detach() + 0.05 * gi / norm for (k, p), gi in zip(model.named_parameters(), g)}
    with torch.no_grad():
        rise = nn.functional.cross_entropy(functional_call(model, moved, (X,)), y) - \
            nn.functional.cross_entropy(model(X), y)
    assert s == pytest.approx(rise.item(), rel=1e-4)
    assert s > 0 and m_sharpness(op, rho=0.1, m=30) > m_sharpness(op, rho=0.01, m=30)
    with pytest.raises(ConfigError, match="m = 1000: larger than the 300 samples"):
        m_sharpness(op, m=1000)


def test_bad_options_and_model_unchanged(problem):
    model, X, y, _ = problem
    before = {k: v.clone() for k, v in model.state_dict().items()}
    op = HessianOperator(model, X, y)
    top_eigenvalues(op, k=1)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with pytest.raises(ConfigError, match="method = 'qr': unknown; allowed: lanczos, power"):
        top_eigenvalues(op, method="qr")
    with pytest.raises(ConfigError, match="k = 39: must be in 1..38"):
        top_eigenvalues(op, k=39)
    with pytest.raises(ConfigError, match="samples = 1"):
        hessian_trace(op, samples=1)
    assert math.isfinite(op.mean_loss())


def test_sharpness_refuses_too_few_trace_probes_before_reading_the_run(tmp_path):
    """--trace-samples below 2 gives no standard error: named before the eigenvalues are computed."""
    from trainwell.geometry.run_sharpness import sharpness
    with pytest.raises(ConfigError, match=r"trace_samples = 1: must be an integer >= 2"):
        sharpness(tmp_path / "no_run", trace_samples=1)
