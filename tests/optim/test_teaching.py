"""The notes' teaching variants against the NumPy reference; the two Nesterov forms agree."""

import numpy as np
import pytest
import torch

import reference as ref
from trainwell.errors import ConfigError
from trainwell.optim import adam
from trainwell.optim.factory import build_optimizer
from trainwell.optim.teaching import AdaGrad, Nesterov, NesterovLookahead, RMSProp, SignSGD

RTOL = 1e-6


def _run(make, steps=20, seed=21):
    problem, w0 = ref.random_softmax(seed=seed)
    params, loss_fn = ref.torch_softmax(problem, w0)
    return problem, w0, ref.run_torch(make(params), params, loss_fn, steps)


def test_rmsprop_matches_reference():
    problem, w0, got = _run(lambda p: RMSProp(p, lr=0.01, decay_rate=0.9))
    np.testing.assert_allclose(got, ref.rmsprop(problem.grad, w0, 20, lr=0.01, decay=0.9), rtol=RTOL, atol=1e-12)


def test_adagrad_matches_reference():
    problem, w0, got = _run(lambda p: AdaGrad(p, lr=0.1))
    np.testing.assert_allclose(got, ref.adagrad(problem.grad, w0, 20, lr=0.1), rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("cls, kw", [(AdaGrad, {}), (RMSProp, {"decay_rate": 0.0})])
def test_epsilon_is_outside_the_square_root(cls, kw):
    """A gradient of 1e-8 on the first step: lr·g/(|g| + 1e-7) = lr/11, not lr·g/√(g² + ε) ≈ 3e-5·lr."""
    w = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = cls([w], lr=1.0, **kw)
    w.grad = torch.full((1,), 1e-8, dtype=torch.float64)
    opt.step()
    assert float(w.detach()) == pytest.approx(-1e-8 / (1e-8 + 1e-7), rel=1e-9)


def test_rmsprop_and_adagrad_equal_torchs_with_the_notes_epsilon():
    """Same ε placement as torch.optim.RMSprop / Adagrad (accumulator from 0): only the defaults differ."""
    pairs = [(lambda p: RMSProp(p, lr=0.01), lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.99, eps=1e-7)),
             (lambda p: AdaGrad(p, lr=0.1), lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-7))]
    for ours, theirs in pairs:
        _, _, a = _run(ours, steps=10)
        _, _, b = _run(theirs, steps=10)
        np.testing.assert_allclose(a, b, rtol=1e-9)


def test_both_nesterov_forms_give_the_same_trajectory_under_x_tilde_equals_x_plus_rho_v():
    rho, lr = 0.9, 0.1
    problem, w0 = ref.random_softmax(seed=22)
    params_a, loss_a = ref.torch_softmax(problem, w0)
    look = NesterovLookahead(params_a, lr=lr, momentum=rho)
    closure = ref.make_closure(look, loss_a)
    params_b, loss_b = ref.torch_softmax(problem, w0)
    rearranged = Nesterov(params_b, lr=lr, momentum=rho)
    flat = lambda ts: torch.cat([t.detach().reshape(-1) for t in ts]).numpy().copy()  # noqa: E731
    for _ in range(25):
        look.step(closure)
        rearranged.zero_grad(set_to_none=True)
        loss_b().backward()
        rearranged.step()
        x = flat(params_a)
        v = flat([look.state[p]["velocity"] for p in params_a])
        np.testing.assert_allclose(flat(params_b), x + rho * v, rtol=1e-9, atol=1e-12)
    assert np.abs(flat(params_a) - w0).max() > 0.1


def test_nesterov_forms_match_their_references():
    problem, w0 = ref.random_softmax(seed=23)
    xs, _ = ref.nesterov_lookahead(problem.grad, w0, 15, lr=0.1, rho=0.9)
    _, _, got = _run(lambda p: NesterovLookahead(p, lr=0.1, momentum=0.9), steps=15, seed=23)
    np.testing.assert_allclose(got, xs, rtol=RTOL, atol=1e-12)
    _, _, got = _run(lambda p: Nesterov(p, lr=0.1, momentum=0.9), steps=15, seed=23)
    expected = ref.nesterov_rearranged(problem.grad, w0, 15, lr=0.1, rho=0.9)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sign_sgd_matches_reference(momentum):
    problem, w0, got = _run(lambda p: SignSGD(p, lr=0.01, momentum=momentum))
    expected = ref.sign_sgd(problem.grad, w0, 20, lr=0.01, momentum=momentum)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-12)
    assert np.allclose(np.abs(np.diff(got, axis=0)), 0.01)          # every coordinate moves exactly lr


@pytest.mark.parametrize("bias_correction", [True, False])
def test_adam_with_and_without_bias_correction_matches_the_notes(bias_correction):
    problem, w0, got = _run(lambda p: adam.Adam(p, lr=0.01, eps=1e-7, bias_correction=bias_correction))
    expected = ref.adam(problem.grad, w0, 20, lr=0.01, eps=1e-7, bias_correction=bias_correction)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-12)


def test_adam_without_bias_correction_takes_a_larger_first_step():
    """Step 1 without correction: lr·(1−β₁)g/(√(1−β₂)|g| + ε) ≈ 3.16·lr per coordinate vs lr with it."""
    problem, w0, full = _run(lambda p: adam.Adam(p, lr=0.01, eps=1e-7), steps=1)
    _, _, raw = _run(lambda p: adam.Adam(p, lr=0.01, eps=1e-7, bias_correction=False), steps=1)
    np.testing.assert_allclose(np.abs(full[1] - w0), 0.01, rtol=1e-3)
    np.testing.assert_allclose(np.abs(raw[1] - w0), 0.01 * 0.1 / np.sqrt(0.001), rtol=1e-3)


def test_bad_options_raise_config_errors():
    w = [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(ConfigError, match="decay_rate = 1.0"):
        RMSProp(w, decay_rate=1.0)
    with pytest.raises(ConfigError, match="lr = -1"):                # checked where lr enters
        build_optimizer("adagrad_notes", w, lr=-1)
    with pytest.raises(ConfigError, match="momentum = 1.5"):
        Nesterov(w, momentum=1.5)
    with pytest.raises(ConfigError, match="closure is required"):
        NesterovLookahead(w).step()


BY_NAME = {   # registered name: (options, the class, the NumPy reference of the same run)
    "rmsprop_notes": (dict(lr=0.01, eps=1e-7, decay_rate=0.9), RMSProp,
                      lambda grad, w0: ref.rmsprop(grad, w0, 20, lr=0.01, decay=0.9)),
    "adagrad_notes": (dict(lr=0.1, eps=1e-7), AdaGrad, lambda grad, w0: ref.adagrad(grad, w0, 20, lr=0.1)),
    "nesterov": (dict(lr=0.1, momentum=0.9), Nesterov,
                 lambda grad, w0: ref.nesterov_rearranged(grad, w0, 20, lr=0.1, rho=0.9)),
    "nesterov_lookahead": (dict(lr=0.1, momentum=0.9), NesterovLookahead,
                           lambda grad, w0: ref.nesterov_lookahead(grad, w0, 20, lr=0.1, rho=0.9)[0]),
    "sign_sgd": (dict(lr=0.01, momentum=0.9), SignSGD,
                 lambda grad, w0: ref.sign_sgd(grad, w0, 20, lr=0.01, momentum=0.9)),
}


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_by_name_is_the_class_and_matches_the_reference(name):
    options, cls, reference = BY_NAME[name]
    problem, w0, got = _run(lambda p: build_optimizer(name, p, **options))
    np.testing.assert_allclose(got, reference(problem.grad, w0), rtol=RTOL, atol=1e-12)
    params, _ = ref.torch_softmax(problem, w0)
    assert type(build_optimizer(name, params, **options)) is cls
