import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from trainwell.errors import ConfigError
from trainwell.nn.norms import NORM_OPTIONS, NORMS, BatchRenorm, norm_layer, reparametrize


def _x(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return 3 + 2 * torch.randn(*shape, generator=g, dtype=torch.float64)


def _standardized(x, dims):
    return (x - x.mean(dims, keepdim=True)) / (x.var(dims, unbiased=False, keepdim=True) + 1e-5).sqrt()


def test_batch_norm_normalizes_each_feature_over_the_batch():
    x = _x(64, 5)
    assert torch.allclose(norm_layer("batch", 5, spatial=False).double()(x), _standardized(x, [0]))
    xi = _x(8, 4, 3, 3)
    assert torch.allclose(norm_layer("batch", 4, spatial=True).double()(xi),
                          _standardized(xi, [0, 2, 3]))


def test_layer_group_and_instance_norm_use_per_sample_statistics():
    x = _x(6, 8)
    assert torch.allclose(norm_layer("layer", 8, spatial=False).double()(x), _standardized(x, [1]))
    xi = _x(3, 8, 4, 4)
    assert torch.allclose(norm_layer("layer", 8, spatial=True).double()(xi),
                          _standardized(xi, [1, 2, 3]))
    grouped = norm_layer({"name": "group", "groups": 4}, 8, spatial=True).double()(xi)
    ref = _standardized(xi.view(3, 4, 2, 4, 4), [2, 3, 4]).view_as(xi)
    assert torch.allclose(grouped, ref)
    assert torch.allclose(norm_layer("instance", 8, spatial=True).double()(xi),
                          _standardized(xi, [2, 3]))


def test_weight_norm_reparametrizes_the_layer():
    layer = reparametrize(nn.Linear(5, 3), "weight")
    assert parametrize.is_parametrized(layer, "weight")
    g, v = layer.parametrizations.weight.original0, layer.parametrizations.weight.original1
    assert torch.allclose(layer.weight, g * v / v.norm(dim=1, keepdim=True))
    layer(torch.randn(4, 5)).sum().backward()
    assert g.grad is not None and v.grad is not None
    assert norm_layer("weight", 3, spatial=False) is None
    assert not parametrize.is_parametrized(reparametrize(nn.Linear(5, 3), "batch"), "weight")


def test_bad_norm_settings_name_the_option():
    with pytest.raises(ConfigError, match="groups = 3 must divide the 8"):
        norm_layer({"name": "group", "groups": 3}, 8, spatial=True)
    with pytest.raises(ConfigError, match="instance: needs image features"):
        norm_layer("instance", 8, spatial=False)
    with pytest.raises(ConfigError, match="allowed: none, batch, layer, group"):
        norm_layer("local_response", 8, spatial=True)
    with pytest.raises(ConfigError, match="unknown option 'group' \\(did you mean 'groups'\\?\\); allowed: eps, groups"):
        norm_layer({"name": "group", "group": 2}, 8, spatial=True)
    assert set(NORM_OPTIONS) == set(NORMS)


def test_batch_renorm_starts_as_batch_norm():
    x = _x(32, 6)
    brn = BatchRenorm(6).double().train()
    ref = F.batch_norm(x, None, None, training=True, eps=1e-5)
    assert torch.allclose(brn(x), ref)


def test_batch_renorm_schedule_relaxes_r_max_and_d_max():
    brn = BatchRenorm(2, warmup_steps=10, r_max_steps=30, d_max_steps=20)
    for step, (r, d) in {0: (1, 0), 10: (1, 0), 15: (1.5, 2.5), 20: (2, 5), 30: (3, 5), 99: (3, 5)}.items():
        brn.steps.fill_(step)
        r_max, d_max = brn.limits()
        assert (r_max.item(), d_max.item()) == pytest.approx((r, d))


def test_batch_renorm_default_schedule_is_batch_norm_for_a_short_run_and_scaled_counts_fix_it():
    """docs/models.md: a 720-step run never leaves the default 5,000-step warmup; the scaled counts
    (T/16, 5T/16, T/2) reach the final r_max and d_max by mid-run."""
    T = 720
    default = BatchRenorm(2)
    scaled = BatchRenorm(2, warmup_steps=T // 16, d_max_steps=5 * T // 16, r_max_steps=T // 2)
    for brn in (default, scaled):
        brn.steps.fill_(T)
    assert [v.item() for v in default.limits()] == [1.0, 0.0]
    assert [v.item() for v in scaled.limits()] == pytest.approx([3.0, 5.0])
    scaled.steps.fill_(T // 4)
    r_max, d_max = scaled.limits()
    assert 1 < r_max.item() < 3 and 0 < d_max.item() < 5


def test_batch_renorm_clips_r_and_d_and_treats_them_as_constants():
    brn = BatchRenorm(3, r_max=1.5, d_max=0.5, warmup_steps=0, r_max_steps=1, d_max_steps=1).double()
    brn.steps.fill_(100)
    brn.running_mean.copy_(torch.tensor([3.0, 0.0, 3.2], dtype=torch.float64))
    brn.running_var.copy_(torch.tensor([4.0, 4.0, 100.0], dtype=torch.float64))
    x = _x(50, 3).requires_grad_(True)
    y = brn(x)
    mu, var = x.detach().mean(0), x.detach().var(0, unbiased=False)
    sigma = (var + 1e-5).sqrt()
    run_mu = torch.tensor([3.0, 0.0, 3.2], dtype=torch.float64)
    run_sigma = (torch.tensor([4.0, 4.0, 100.0], dtype=torch.float64) + 1e-5).sqrt()
    r = (sigma / run_sigma).clamp(1 / 1.5, 1.5)
    d = ((mu - run_mu) / run_sigma).clamp(-0.5, 0.5)
    assert r[2] == pytest.approx(1 / 1.5) and d[1] == pytest.approx(0.5)  # clipping is active
    x2 = x.detach().clone().requires_grad_(True)
    ref = (x2 - x2.mean(0)) / (x2.var(0, unbiased=False) + 1e-5).sqrt() * r + d
    assert torch.allclose(y, ref)
    w = torch.randn(50, 3, dtype=torch.float64)
    (y * w).sum().backward()
    (ref * w).sum().backward()
    assert torch.allclose(x.grad, x2.grad)  # r and d carry no gradient


def test_batch_renorm_running_stats_step_buffer_and_inference():
    brn = BatchRenorm(4, momentum=0.2)
    reference = nn.BatchNorm1d(4, momentum=0.2)     # torch's running statistics: the same update rule
    for i in range(60):
        brn(_x(256, 4, seed=i).float())
        reference(_x(256, 4, seed=i).float())
    assert brn.steps.item() == 60
    assert torch.allclose(brn.running_mean, reference.running_mean, rtol=1e-5, atol=1e-6)
    assert torch.allclose(brn.running_var, reference.running_var, rtol=1e-5, atol=1e-6)   # unbiased, as torch
    assert torch.allclose(brn.running_mean, torch.full((4,), 3.0), atol=0.15)           # the data's mean and
    assert torch.allclose(brn.running_var, torch.full((4,), 4.0), atol=0.6)             # variance (3, 2²)
    state = brn.state_dict()
    assert state["steps"].item() == 60
    fresh = BatchRenorm(4, momentum=0.2)
    fresh.load_state_dict(state)
    assert fresh.steps.item() == 60 and torch.equal(fresh.limits()[0], brn.limits()[0])
    brn.eval()
    x = _x(5, 4).float()
    ref = (x - brn.running_mean) / (brn.running_var + 1e-5).sqrt()
    assert torch.allclose(brn(x), ref)
    assert brn.steps.item() == 60  # inference does not advance the schedule


def test_batch_renorm_works_on_images():
    brn = BatchRenorm(3).double()
    x = _x(4, 3, 5, 5)
    assert torch.allclose(brn(x), F.batch_norm(x, None, None, training=True, eps=1e-5))
