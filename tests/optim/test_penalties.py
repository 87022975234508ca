"""Penalties against direct sums, clipping bounds, and the gradient noise's variance and replay."""
import math

import pytest
import torch

from trainwell.errors import ConfigError
from trainwell.optim.penalties import GradientNoise, clip_gradients, l1_penalty, l2_penalty, max_norm_


def _params(seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    shapes = [(4, 3), (3,), (2, 2, 5), (1,)]
    return [torch.randn(s, generator=g, dtype=dtype).requires_grad_() for s in shapes]


def test_l2_penalty_is_half_lambda_sum_of_squares_with_gradient_lambda_w():
    ps = _params()
    value = l2_penalty(ps, 0.3)
    direct = 0.5 * 0.3 * sum((p.detach() ** 2).sum() for p in ps)          # notes 000: ½λw²
    assert value.ndim == 0 and torch.allclose(value, direct, rtol=1e-12)
    value.backward()
    for p in ps:
        assert torch.allclose(p.grad, 0.3 * p.detach(), rtol=1e-10)          # gradient λw


def test_l1_penalty_is_lambda_sum_of_abs_with_sign_gradient():
    ps = _params(1)
    value = l1_penalty(ps, 0.02)
    assert torch.allclose(value, 0.02 * sum(p.detach().abs().sum() for p in ps), rtol=1e-12)
    value.backward()
    for p in ps:
        assert torch.allclose(p.grad, 0.02 * p.detach().sign())


def test_sgd_with_l2_penalty_equals_decoupled_weight_decay():
    # notes 004: θ ← θ − η(∇L + λθ) = (1 − λη)θ − η∇L, equivalent for plain SGD
    from trainwell.optim.factory import build_optimizer
    target = torch.randn(6, dtype=torch.float64)
    w1 = torch.ones(6, 6, dtype=torch.float64, requires_grad=True)
    w2 = w1.detach().clone().requires_grad_()
    coupled = torch.optim.SGD([w1], lr=0.1)
    decoupled = build_optimizer("sgd", [w2], lr=0.1, weight_decay=0.05)
    for _ in range(20):
        for w, opt, pen in ((w1, coupled, True), (w2, decoupled, False)):
            opt.zero_grad()
            loss = (w @ target - 1).square().sum()
            if pen:
                loss = loss + l2_penalty([w], 0.05)
            loss.backward()
            opt.step()
    assert torch.allclose(w1, w2, rtol=1e-12, atol=1e-14)


def test_penalties_of_no_params_are_zero_and_bad_coefficients_are_config_errors():
    assert l2_penalty([], 1.0).item() == 0 and l1_penalty([], 1.0).item() == 0
    with pytest.raises(ConfigError, match=r"l2 = -0.1: must be a finite number >= 0"):
        l2_penalty(_params(), -0.1)
    with pytest.raises(ConfigError, match=r"l1 = nan"):
        l1_penalty(_params(), float("nan"))


# ------------------------------------------------------------------------------ clipping
def _with_grads(seed=0, scale=10.0):
    ps = _params(seed)
    g = torch.Generator().manual_seed(seed + 100)
    for p in ps:
        p.grad = scale * torch.randn(p.shape, generator=g, dtype=p.dtype)
    return ps


def _norm(ps):
    return torch.cat([p.grad.flatten() for p in ps]).norm()


def test_clip_by_norm_bounds_the_global_norm_keeps_direction_and_returns_the_pre_clip_norm():
    ps = _with_grads()
    before = [p.grad.clone() for p in ps]
    pre = _norm(ps)
    total = clip_gradients(ps, norm=1.0)
    assert isinstance(total, torch.Tensor) and torch.allclose(total, pre)
    assert _norm(ps) <= 1.0 + 1e-6
    scale = ps[0].grad.flatten()[0] / before[0].flatten()[0]
    for p, b in zip(ps, before):
        assert torch.allclose(p.grad, scale * b)                             # same direction
    small = _with_grads(scale=1e-3)
    kept = [p.grad.clone() for p in small]
    clip_gradients(small, norm=1.0)
    assert all(torch.equal(p.grad, k) for p, k in zip(small, kept))          # under the bound: untouched


def test_clip_by_value_then_norm():
    ps = _with_grads(2)
    pre = _norm(ps)
    total = clip_gradients(ps, value=0.5, norm=2.0)
    assert torch.allclose(total, pre)
    assert max(p.grad.abs().max() for p in ps) <= 0.5
    assert _norm(ps) <= 2.0 + 1e-6
    only_value = _with_grads(3)
    clip_gradients(only_value, value=0.25)
    assert max(p.grad.abs().max() for p in only_value) == pytest.approx(0.25)


def test_clip_skips_params_without_grad_and_checks_bounds():
    ps = _with_grads()
    ps[1].grad = None
    clip_gradients(ps, norm=1.0)
    assert ps[1].grad is None
    with pytest.raises(ConfigError, match=r"clip_norm = 0: must be a finite number > 0"):
        clip_gradients(ps, norm=0)


# ------------------------------------------------------------------------------ gradient noise
def test_gradient_noise_has_the_annealed_variance():
    p = torch.zeros(200_000, requires_grad=True)
    noise = GradientNoise(eta=0.3, gamma=0.55, seed=1)
    for t in (0, 99):
        p.grad = torch.zeros_like(p)
        noise([p], step=t)
        expected = 0.3 / (1 + t) ** 0.55                                     # σ_t² = η/(1+t)^γ
        assert p.grad.var().item() == pytest.approx(expected, rel=0.02)
        assert abs(p.grad.mean().item()) < 4 * math.sqrt(expected / p.numel())


def test_gradient_noise_replays_exactly_after_a_state_round_trip():
    def run(noise, steps, start):
        out = []
        for t in range(start, start + steps):
            ps = _params()
            for q in ps:
                q.grad = torch.zeros_like(q)
            noise(ps)
            out.append(torch.cat([q.grad.flatten() for q in ps]))
        return out

    whole = run(GradientNoise(seed=5), 6, 0)
    first = GradientNoise(seed=5)
    run(first, 3, 0)
    saved = first.state_dict()
    assert saved["generator"].dtype == torch.uint8 and saved["step"] == 3
    resumed = GradientNoise(seed=5)
    resumed.load_state_dict({"generator": saved["generator"].clone(), "step": saved["step"]})
    rest = run(resumed, 3, 3)
    assert all(torch.equal(a, b) for a, b in zip(whole[3:], rest))
    other_seed = run(GradientNoise(seed=6), 1, 0)
    assert not torch.equal(other_seed[0], whole[0])


def test_gradient_noise_state_before_any_draw_restores_a_fresh_generator():
    a, b = GradientNoise(seed=3), GradientNoise(seed=3)
    b.load_state_dict(a.state_dict())
    ga, gb = torch.zeros(5), torch.zeros(5)
    pa, pb = torch.zeros(5, requires_grad=True), torch.zeros(5, requires_grad=True)
    pa.grad, pb.grad = ga, gb
    a([pa])
    b([pb])
    assert torch.equal(pa.grad, pb.grad) and pa.grad.abs().sum() > 0
    with pytest.raises(ConfigError, match="uint8 tensor"):
        b.load_state_dict({"generator": [1, 2], "step": 0})


def test_max_norm_scales_long_unit_vectors_to_the_bound_and_leaves_short_ones():
    """Each slice along dim 0 (a unit's incoming weights; a conv filter) with norm > c becomes
    c·w/‖w‖, the others stay bit-identical; 1-D parameters are untouched."""
    g = torch.Generator().manual_seed(0)
    linear = torch.randn(6, 5, generator=g, dtype=torch.float64) * torch.tensor([0.1, 3, 0.2, 5, 1, 9],
                                                                               dtype=torch.float64)[:, None]
    conv = torch.randn(4, 3, 3, 3, generator=g, dtype=torch.float64) * torch.tensor([0.1, 1, 0.2, 2],
                                                                                 dtype=torch.float64)[:, None, None, None]
    bias = torch.full((6,), 100.0, dtype=torch.float64)
    before = [t.clone() for t in (linear, conv, bias)]
    c = 2.0
    max_norm_([linear, conv, bias], c)
    for new, old in zip((linear, conv), before):
        rows_old, rows_new = old.flatten(1), new.flatten(1)
        norms = rows_old.norm(dim=1)
        for i, n in enumerate(norms):
            want = rows_old[i] * (c / n) if n > c else rows_old[i]
            assert torch.allclose(rows_new[i], want, rtol=1e-6, atol=0), (i, float(n))
            if n <= c:
                assert torch.equal(rows_new[i], rows_old[i])
        assert (norms > c).any() and (norms <= c).any()        # both cases were exercised
    assert torch.equal(bias, before[2])
    with pytest.raises(ConfigError, match="max_norm = 0"):
        max_norm_([linear], 0)


def test_fit_keeps_every_weight_row_within_max_norm():
    """With max_norm = c every Linear weight row ends within c (a large lr pushes them past it
    every step); biases are not constrained; without it the rows grow beyond c."""
    import trainwell

    def run(**options):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
        trainwell.fit(model, "digits", lr=0.5, epochs=2, babysit="off", progress=False, report=False,
                      weight_decay=0.0, device="cpu", **options)
        return [m.weight.detach().norm(dim=1) for m in model if isinstance(m, torch.nn.Linear)]

    c = 0.5
    assert max(float(n.max()) for n in run()) > c
    assert all(float(n.max()) <= c * (1 + 1e-6) for n in run(max_norm=c))
    with pytest.raises(ConfigError, match="max_norm"):
        trainwell.fit(torch.nn.Linear(64, 10), "digits", max_norm=-1.0, epochs=1)
