"""Regression targets graded by a standardized-targets arm (babysit/target_scale_arm.py)."""
import math

import pytest
import torch
from torch import nn

from trainwell.babysit import interventions
from trainwell.babysit import target_scale_arm as tsa
from trainwell.babysit.budget import Budget
from trainwell.babysit.loss_kinds import resolve_loss
from trainwell.babysit.targets import TARGET_STD_LOW


def _data(n=800, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 4, generator=g)
    signal = X[:, 0] + 0.5 * torch.tanh(X[:, 1]) - 0.3 * X[:, 2] * X[:, 3]
    return X, signal + 0.1 * torch.randn(n, generator=g)


def _net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))


def _check_reading(r, monkeypatch, *args, **kw):
    """``check_target_scale_arm(*args, **kw)`` on ``r``, the ``experiment`` the test ran just before
    on the same arguments, instead of training it again (the check is that experiment and the
    finding built from it): the experiment is seeded (``seed``, and the nets' manual seeds), so a
    second run gives the same ``r`` to the last digit."""
    with monkeypatch.context() as m:
        m.setattr(tsa, "experiment", lambda *a, **k: r)
        return tsa.check_target_scale_arm(*args, **kw)


def _run(y, monkeypatch, *, lr=1e-3, optimizer="adam"):
    X, _ = _data()
    loss_fn, kind = resolve_loss("mse")
    kw = dict(optimizer=optimizer, lr=lr, batch_size=32, seed=0)
    r = tsa.experiment(_net(), X, y.unsqueeze(1), loss_fn, kind, **kw)
    return r, _check_reading(r, monkeypatch, _net(), X, y.unsqueeze(1), loss_fn, kind, **kw)


def _scaled(mean, std):
    _, s = _data()
    return mean + std * (s - s.mean()) / s.std()


def test_small_fractional_targets_are_learned_worse_than_standardized(monkeypatch):
    # a fraction of mean 0.2 and std 0.04: inside the band (std >= 1e-2), Adam at 1e-3
    y = _scaled(0.2, 0.04)
    assert float(y.std()) > TARGET_STD_LOW
    r, found = _run(y, monkeypatch)
    assert [f.code for f in found] == ["targets_off_scale"]
    f = found[0]
    assert f.severity == "warning" and f.evidence["change"] == tsa.ARM_NAME
    assert r["setup"] >= interventions.KILL_RATIO * r["arm"] and r["setup"] - r["arm"] >= interventions.MIN_POINTS
    assert r["setup_longer"] >= interventions.KILL_RATIO * r["arm_longer"]
    assert r["setup_longer"] - r["arm_longer"] > interventions.NOISE_FACTOR * abs(r["setup_longer"] - r["repeat_longer"])
    assert r["longer_steps"] == interventions.LONGER * r["steps"]          # no run_steps given
    assert tsa.confirmed(r)
    assert "(y - 0.2) / 0.04" in f.fix


def test_targets_near_unit_scale_are_quiet(monkeypatch):
    # mean 0.5, std 1.5: the arm changes the scale by 1.5x; both copies fit alike
    r, found = _run(_scaled(0.5, 1.5), monkeypatch)
    assert r is not None and found == []
    assert not (r["setup"] >= interventions.KILL_RATIO * r["arm"] and r["setup"] - r["arm"] >= interventions.MIN_POINTS) \
        or r["setup_longer"] < interventions.KILL_RATIO * r["arm_longer"]


def test_standardized_targets_and_targets_outside_the_band_are_not_tried():
    _, kind = resolve_loss("mse")
    assert not tsa.tried(_scaled(0.0, 1.0), kind)                # the arm is the setup
    assert not tsa.tried(_scaled(0.2, 0.005), kind)              # std < 1e-2: the band's finding already
    assert not tsa.tried(_scaled(50.0, 3.0), kind)               # |mean| > 10: the band's finding already
    assert not tsa.tried(_scaled(0.2, 0.04), "cross_entropy")    # not a regression loss
    assert not tsa.tried(_scaled(0.2, 0.04)[:50], kind)          # too few rows to hold a quarter out
    assert tsa.tried(_scaled(0.2, 0.04), kind)


def test_relative_error_is_one_minus_r2_against_a_direct_computation():
    X, s = _data(200)
    t = (0.2 + 0.04 * s).double().unsqueeze(1)
    net = nn.Linear(4, 1).double()
    mean, std = t.mean(0), t.std(0)
    out = net(X.double()).detach()
    direct = float(((out - t) ** 2).mean() / t.var())
    assert tsa._relative_error(net, X.double(), t, mean, std, False) == pytest.approx(direct, rel=1e-12)
    mapped = float(((out * std + mean - t) ** 2).mean() / t.var())
    assert tsa._relative_error(net, X.double(), t, mean, std, True) == pytest.approx(mapped, rel=1e-12)


def test_the_significance_rule():
    assert tsa._helps(0.30, 0.10, 0.31)             # 3x, 20 points, noise 1 point
    assert not tsa._helps(0.30, 0.10, 0.20)         # the repeat differs by 10 points: 20 < 3 x 10
    assert not tsa._helps(0.03, 0.015, 0.03)        # 2x but 1.5 points of R^2
    assert not tsa._helps(0.30, 0.25, 0.30)         # 1.2x: under the kill rule's ratio
    assert not tsa._helps(0.30, math.inf, 0.30)
    assert not tsa._helps(0.30, 0.10, math.inf)      # no noise estimate
    assert tsa._helps(0.030, 0.020, 0.029, min_points=0.0)     # the run's length: the ratio and the noise


class _NoBias(nn.Module):
    """A bias-free ReLU net: targets with a mean are reached slowly through the weights alone."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(5, 32, bias=False), nn.ReLU(), nn.Linear(32, 32, bias=False), nn.ReLU(),
                                 nn.Linear(32, 1, bias=False))

    def forward(self, x):
        return self.net(x)


def test_a_setup_that_catches_up_by_the_runs_end_is_quiet(monkeypatch):
    # mean 2, std 1: far behind the centred arm after 100 steps (the mean must be built from the
    # weights and a constant input column), level after the run's 1,500 steps
    X, _ = _data()
    X = torch.cat([X, torch.ones(X.shape[0], 1)], 1)
    y = _scaled(2.0, 1.0).unsqueeze(1)
    loss_fn, kind = resolve_loss("mse")
    kw = dict(optimizer="adam", lr=2e-3, batch_size=32, seed=0)
    r = tsa.experiment(_NoBias(), X, y, loss_fn, kind, run_steps=1500, **kw)
    assert r["longer_steps"] == 1500 and tsa._helps(r["setup"], r["arm"], r["repeat"])    # behind early ...
    assert not tsa.confirmed(r)                                                          # ... level at the end
    assert _check_reading(r, monkeypatch, _NoBias(), X, y, loss_fn, kind, run_steps=1500, **kw) == []


def test_an_exhausted_budget_skips_the_arm():
    X, _ = _data()
    net = _net()
    budget = Budget(1e-9)
    budget.count(net, X[:32])
    loss_fn, kind = resolve_loss("mse")
    assert tsa.experiment(net, X, _scaled(0.2, 0.04).unsqueeze(1), loss_fn, kind, optimizer="adam", lr=1e-3,
                          batch_size=32, budget=budget) is None


def test_the_model_is_not_modified():
    net = _net()
    before = [p.detach().clone() for p in net.parameters()]
    X, _ = _data()
    loss_fn, kind = resolve_loss("mse")
    tsa.experiment(net, X, _scaled(0.2, 0.04).unsqueeze(1), loss_fn, kind, optimizer="adam", lr=1e-3, batch_size=32)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))


class _Rounded(nn.Module):
    """Outputs rounded to integers: no gradient reaches the weights, the setup cannot learn."""

    def __init__(self):
        super().__init__()
        self.net = _net()

    def forward(self, x):
        return torch.round(self.net(x))


def test_a_setup_that_cannot_learn_is_not_blamed_on_its_targets():
    # targets of mean 5 and std 4: centred, the untrained outputs' error is about Var(y), uncentred
    # about (mean^2 + Var(y)): the arm wins by its centring alone, with no learning in either copy
    X, _ = _data()
    y = _scaled(5.0, 4.0).unsqueeze(1)
    loss_fn, kind = resolve_loss("mse")
    kw = dict(optimizer="adam", lr=1e-3, batch_size=32, seed=0)
    r = tsa.experiment(_Rounded(), X, y, loss_fn, kind, **kw)
    assert r["setup"] >= interventions.KILL_RATIO * r["arm"] and r["setup"] == r["start"]
    assert not tsa.learns(r["start"], r["setup"]) and r["longer_steps"] is None
    assert tsa.check_target_scale_arm(_Rounded(), X, y, loss_fn, kind, **kw) == []
