"""trainwell's Adam: AdamW step by step with bias correction, the notes' equations without it."""
import copy

import numpy as np
import pytest
import torch
from torch import nn

from trainwell.errors import ConfigError
from trainwell.optim.adam import Adam
from trainwell.optim.factory import build_optimizer


def _model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))


def _loss(model, step):
    g = torch.Generator().manual_seed(step)
    x = torch.randn(16, 5, generator=g)
    return model(x).sin().square().mean()


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_with_bias_correction_it_is_adamw_step_by_step(weight_decay):
    ours_model, ref_model = _model(), _model()
    ours = Adam(ours_model.parameters(), lr=3e-2, betas=(0.8, 0.99), eps=1e-7, weight_decay=weight_decay)
    ref = torch.optim.AdamW(ref_model.parameters(), lr=3e-2, betas=(0.8, 0.99), eps=1e-7,
                            weight_decay=weight_decay)
    for step in range(30):
        for model, opt in ((ours_model, ours), (ref_model, ref)):
            opt.zero_grad()
            _loss(model, step).backward()
            for group in opt.param_groups:                  # a schedule changes lr mid-run
                group["lr"] = 3e-2 * (1 - step / 60)
            opt.step()
        for a, b in zip(ours_model.parameters(), ref_model.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def _numpy_adam_no_bias_correction(w, grad, steps, lr, b1, b2, eps, wd):
    """notes 003 'Method 3: Adam': m = β₁m + (1−β₁)g; s = β₂s + (1−β₂)g²; x ← x − t·m/(√s + ε),
    with AdamW's decoupled decay w ← w − lr·λ·w first (notes 004)."""
    m, s = np.zeros_like(w), np.zeros_like(w)
    out = [w.copy()]
    for _ in range(steps):
        g = grad(w)
        w = w - lr * wd * w
        m = b1 * m + (1 - b1) * g
        s = b2 * s + (1 - b2) * g * g
        w = w - lr * m / (np.sqrt(s) + eps)
        out.append(w.copy())
    return np.array(out)


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_without_bias_correction_it_is_the_notes_update(weight_decay):
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 4))
    c = rng.normal(size=6)
    grad = lambda w: A.T @ np.tanh(A @ w - c)        # ∇ Σ log cosh(Aw − c)
    w0 = rng.normal(size=4)
    ref = _numpy_adam_no_bias_correction(w0, grad, 40, 0.05, 0.9, 0.999, 1e-8, weight_decay)
    w = torch.tensor(w0, requires_grad=True)
    opt = Adam([w], lr=0.05, weight_decay=weight_decay, bias_correction=False)
    A_t, c_t = torch.tensor(A), torch.tensor(c)
    for k in range(40):
        opt.zero_grad()
        torch.log(torch.cosh(A_t @ w - c_t)).sum().backward()
        opt.step()
        np.testing.assert_allclose(w.detach().numpy(), ref[k + 1], rtol=1e-6, atol=1e-12)
    # first step, per coordinate: lr·sign(g) with bias correction; lr·(1−β₁)/√(1−β₂)·sign(g)
    # ≈ 3.16·lr without (m, v start at zero and β₂ > β₁: the uncorrected start is too large)
    w_bc = torch.tensor(w0, requires_grad=True)
    w_nb = torch.tensor(w0, requires_grad=True)
    for ww, bc in ((w_bc, True), (w_nb, False)):
        o = Adam([ww], lr=0.05, bias_correction=bc)
        torch.log(torch.cosh(A_t @ ww - c_t)).sum().backward()
        o.step()
    step_bc = (w_bc - torch.tensor(w0)).detach().abs()
    step_nb = (w_nb - torch.tensor(w0)).detach().abs()
    torch.testing.assert_close(step_bc, torch.full((4,), 0.05, dtype=torch.float64), rtol=1e-6, atol=0)
    torch.testing.assert_close(step_nb, torch.full((4,), 0.05 * 0.1 / 0.001 ** 0.5, dtype=torch.float64),
                               rtol=1e-6, atol=0)


def test_state_dict_round_trip_resumes_bit_identically():
    model = _model()
    opt = Adam(model.parameters(), lr=1e-2, weight_decay=0.01, bias_correction=False)
    for step in range(5):
        opt.zero_grad()
        _loss(model, step).backward()
        opt.step()
    twin = copy.deepcopy(model)
    twin_opt = Adam(twin.parameters(), lr=0.5)
    twin_opt.load_state_dict(copy.deepcopy(opt.state_dict()))
    assert twin_opt.param_groups[0]["bias_correction"] is False
    for step in range(5, 10):
        for m, o in ((model, opt), (twin, twin_opt)):
            o.zero_grad()
            _loss(m, step).backward()
            o.step()
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), twin.parameters()))


def test_params_without_grad_are_untouched_and_bad_options_raise():
    a, b = torch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    opt = Adam([a, b], lr=0.1, weight_decay=0.5)
    a.grad = torch.ones(3)
    opt.step()
    assert torch.equal(b, torch.ones(3)) and not torch.equal(a, torch.ones(3))
    with pytest.raises(ConfigError, match=r"betas = \(0.9, 1.0\): must be two numbers in \[0, 1\)"):
        Adam([a], betas=(0.9, 1.0))
    with pytest.raises(ConfigError, match=r"lr = 0.0: must be > 0"):     # checked where lr enters
        build_optimizer("adam", [a], lr=0)
