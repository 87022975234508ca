"""Damped Newton with an Armijo line search against the NumPy reference, and its limits."""

import numpy as np
import pytest
import torch

import reference as ref
from trainwell.errors import ConfigError
from trainwell.optim.factory import build_optimizer
from trainwell.optim.newton import Newton


def _logcosh(seed=0, m=12, n=5, lam=0.1):
    rng = np.random.default_rng(seed)
    problem = ref.LogCosh(rng.normal(size=(m, n)), rng.normal(size=m), lam)
    return problem, 2.0 * rng.normal(size=n)


def _torch_logcosh(problem, w0):
    w = torch.nn.Parameter(torch.tensor(w0))
    A, c = torch.tensor(problem.A), torch.tensor(problem.c)
    return [w], lambda: torch.log(torch.cosh(A @ w - c)).sum() + 0.5 * problem.lam * (w @ w)


@pytest.mark.parametrize("line_search", [True, False])
def test_matches_reference_step_by_step(line_search):
    problem, w0 = _logcosh()
    expected = ref.newton(problem, w0, 6, line_search=line_search, lr=0.8, damping=1e-3)
    params, loss_fn = _torch_logcosh(problem, w0)
    got = ref.run_torch(Newton(params, lr=0.8, damping=1e-3, line_search=line_search), params, loss_fn, 6)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)


def test_hessian_matches_the_analytic_one_on_a_two_tensor_model():
    """Flattening over several parameter tensors: the softmax problem split into W and b."""
    from trainwell.optim.newton import _gradient_and_hessian

    problem, w0 = ref.random_softmax(seed=3)
    params, loss_fn = ref.torch_softmax(problem, w0)
    g, H = _gradient_and_hessian(loss_fn(), params)
    np.testing.assert_allclose(g.numpy(), problem.grad(w0), rtol=1e-9, atol=1e-12)
    h = 1e-6                                                     # central differences of the analytic gradient
    fd = np.stack([(problem.grad(w0 + h * e) - problem.grad(w0 - h * e)) / (2 * h) for e in np.eye(len(w0))])
    np.testing.assert_allclose(H.numpy(), fd, atol=1e-7)


def test_one_step_solves_the_elongated_quadratic():
    w, f = ref.minimize_torch(lambda p: Newton(p, damping=1e-8), ref.elongated, [1.0, 1.0], 1)
    assert f < 1e-12


def test_line_search_prevents_the_overshoot_of_the_full_step():
    """f = √(1 + x²): the full Newton step maps x to −x³, diverging from |x| > 1."""
    f = lambda w: torch.sqrt(1 + w[0] ** 2)  # noqa: E731
    w_full, _ = ref.minimize_torch(lambda p: Newton(p, line_search=False, damping=0.0), f, [1.5], 3)
    w_ls, _ = ref.minimize_torch(lambda p: Newton(p, damping=0.0), f, [1.5], 12)
    assert abs(w_full[0]) > 100
    assert abs(w_ls[0]) < 1e-6


def test_damping_grows_until_the_step_descends_at_a_saddle():
    """Near the saddle of x² − y² + y⁴ the Hessian is indefinite; the loss still falls every step."""
    f = lambda w: w[0] ** 2 - w[1] ** 2 + w[1] ** 4  # noqa: E731
    w = torch.nn.Parameter(torch.tensor([0.5, 1e-3], dtype=torch.float64))
    opt = Newton([w])
    closure = ref.make_closure(opt, lambda: f(w))
    losses = [float(f(w.detach()))]
    for _ in range(40):
        opt.step(closure)
        losses.append(float(f(w.detach())))
    assert all(b < a for a, b in zip(losses[:30], losses[1:30]))   # strictly, until converged
    assert all(b <= a for a, b in zip(losses, losses[1:]))
    assert losses[-1] == pytest.approx(-0.25, abs=1e-8)          # minimum at y = ±1/√2


def test_too_many_parameters_is_a_config_error_naming_count_and_limit():
    model = torch.nn.Linear(100, 60)
    with pytest.raises(ConfigError, match=r"has 6060 parameters but max_params = 5000"):
        Newton(model.parameters())
    assert Newton(model.parameters(), max_params=6060).num_params == 6060


def test_bad_options_and_missing_closure():
    w = [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(ConfigError, match="lr = 0"):                 # checked where lr enters
        build_optimizer("newton", w, lr=0)
    with pytest.raises(ConfigError, match="damping = -1"):
        Newton(w, damping=-1)
    with pytest.raises(ConfigError, match="closure is required"):
        Newton(w).step()


def test_takes_the_trainers_closure_path_and_its_state_round_trips():
    from trainwell.train.loop import needs_closure

    problem, w0 = _logcosh(seed=1)
    params, loss_fn = _torch_logcosh(problem, w0)
    opt = build_optimizer("newton", params, lr=1.0)              # by name: the factory's closure hook
    assert needs_closure(opt)
    ref.run_torch(opt, params, loss_fn, 2)
    state = opt.state_dict()
    fresh = Newton(params)
    fresh.load_state_dict(state)
    assert fresh.state["newton"]["steps"] == 2
    np.testing.assert_allclose(params[0].grad.numpy(), problem.grad(ref.newton(problem, w0, 1)[1]), rtol=1e-9)


def test_weight_decay_by_name_is_decoupled_after_each_step():
    """Newton with the factory's decoupled decay: θ ← (Newton step of θ)·(1 − lr·λ), every step.
    (Scaling the weights in place between closure(backward=False) and the Hessian would break
    the Hessian's graph from the second step on: "modified by an inplace operation".)"""
    problem, w0 = _logcosh(seed=2)
    lr, lam = 0.8, 0.1
    params, loss_fn = _torch_logcosh(problem, w0)
    opt = build_optimizer("newton", params, lr=lr, weight_decay=lam, no_decay_bias_norm=False, damping=1e-3)
    got = ref.run_torch(opt, params, loss_fn, 4)
    expected, w = [w0], w0
    for _ in range(4):
        w = ref.newton(problem, w, 1, lr=lr, damping=1e-3)[1] * (1 - lr * lam)
        expected.append(w)
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-6, atol=1e-12)


def test_hessian_equals_torch_func_hessian():
    """The batched double backward gives torch.func.hessian of the same loss as a pure function."""
    from trainwell.optim.newton import _gradient_and_hessian

    problem, w0 = ref.random_softmax(seed=4)
    params, loss_fn = ref.torch_softmax(problem, w0)
    _, H = _gradient_and_hessian(loss_fn(), params)
    X, y = torch.tensor(problem.X), torch.tensor(problem.y)
    k, d = params[0].shape

    def pure(flat):
        return torch.nn.functional.cross_entropy(X @ flat[:k * d].reshape(k, d).T + flat[k * d:], y)

    expected = torch.func.hessian(pure)(torch.tensor(w0))
    torch.testing.assert_close(H, expected, rtol=1e-10, atol=1e-12)
