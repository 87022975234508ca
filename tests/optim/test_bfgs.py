"""BFGS (notes 004's quasi-Newton method) against the NumPy reference, and its limits."""

import numpy as np
import pytest
import torch

import reference as ref
from trainwell.errors import ConfigError
from trainwell.optim.bfgs import BFGS
from trainwell.optim.factory import build_optimizer
from trainwell.train.loop import needs_closure


def _logcosh(seed=0, m=12, n=5, lam=0.1):
    rng = np.random.default_rng(seed)
    problem = ref.LogCosh(rng.normal(size=(m, n)), rng.normal(size=m), lam)
    return problem, 2.0 * rng.normal(size=n)


def _torch_logcosh(problem, w0):
    w = torch.nn.Parameter(torch.tensor(w0))
    A, c = torch.tensor(problem.A), torch.tensor(problem.c)
    return [w], lambda: torch.log(torch.cosh(A @ w - c)).sum() + 0.5 * problem.lam * (w @ w)


@pytest.mark.parametrize("lr", [1.0, 0.7])
def test_matches_reference_step_by_step(lr):
    problem, w0 = _logcosh()
    expected = ref.bfgs(problem, w0, 12, lr=lr)
    params, loss_fn = _torch_logcosh(problem, w0)
    got = ref.run_torch(BFGS(params, lr=lr), params, loss_fn, 12)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)


def test_matches_reference_over_two_parameter_tensors():
    """Flattening over W and b: softmax regression, trajectories equal step by step."""
    problem, w0 = ref.random_softmax(seed=5)
    params, loss_fn = ref.torch_softmax(problem, w0)
    got = ref.run_torch(build_optimizer("bfgs", params), params, loss_fn, 10)     # by name, lr 1
    np.testing.assert_allclose(got, ref.bfgs(problem, w0, 10), rtol=1e-6, atol=1e-12)


def test_every_update_satisfies_the_secant_equation_and_stays_positive_definite():
    """The defining property of a quasi-Newton update: the new H maps y = Δg onto s = Δw."""
    problem, w0 = _logcosh(seed=3)
    params, loss_fn = _torch_logcosh(problem, w0)
    opt = BFGS(params)
    closure = ref.make_closure(opt, loss_fn)
    opt.step(closure)
    for _ in range(8):
        state = opt.state["bfgs"]
        x_before, g_before, updates = state["x"], state["g"], state.get("updates", 0)
        opt.step(closure)                 # the step starts by updating H with the last pair
        s, y = state["x"] - x_before, state["g"] - g_before
        assert state["updates"] == updates + 1
        torch.testing.assert_close(state["H"] @ y, s, rtol=1e-8, atol=1e-12)
        torch.testing.assert_close(state["H"], state["H"].T)
        assert torch.linalg.eigvalsh(state["H"]).min() > 0


def test_converges_superlinearly_where_gradient_descent_crawls():
    """On the notes' elongated quadratic BFGS reaches 1e-12 in a few steps (n = 2)."""
    w, f = ref.minimize_torch(lambda p: BFGS(p), ref.elongated, [3.0, 1.0], 8)
    assert f < 1e-12


def test_too_many_parameters_and_missing_closure_are_config_errors():
    model = torch.nn.Linear(100, 60)
    with pytest.raises(ConfigError, match=r"has 6060 parameters but max_params = 5000"):
        BFGS(model.parameters())
    assert BFGS(model.parameters(), max_params=6060).num_params == 6060
    with pytest.raises(ConfigError, match="closure is required"):
        BFGS([torch.nn.Parameter(torch.zeros(2))]).step()


def test_takes_the_trainers_closure_path_and_its_state_round_trips():
    problem, w0 = _logcosh(seed=1)
    params, loss_fn = _torch_logcosh(problem, w0)
    opt = build_optimizer("bfgs", params)
    assert needs_closure(opt)
    ref.run_torch(opt, params, loss_fn, 3)
    fresh = BFGS(params)
    fresh.load_state_dict(opt.state_dict())
    assert fresh.state["bfgs"]["steps"] == 3
    torch.testing.assert_close(fresh.state["bfgs"]["H"], opt.state["bfgs"]["H"])
