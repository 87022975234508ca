"""The SAM family's radius read by its own ascent step (interventions.radius_linearity and
radius_past_neighbourhood) and the repairer's settings test acting on it before the first step."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.babysit import interventions
from trainwell.babysit.interventions import RADIUS_CURVED, radius_linearity, radius_past_neighbourhood
from test_repair import FAST, data, mlp  # noqa: F401  (the digits fixture, shared)


def _mse(out, y):
    return F.mse_loss(out.squeeze(-1), y)


def test_linearity_of_a_quadratic_loss_matches_its_closed_form():
    """A linear model under the mean squared error is exactly quadratic: the ascent step
    e = rho g / |g| raises the loss by g.e + e'He / 2 with H = 2 A'A / n (A: the rows with a 1 for
    the bias), so the ratio is 1 + rho u'Hu / (2 |g|), u = g / |g|: computed here independently."""
    torch.manual_seed(0)
    X, y = torch.randn(96, 5), torch.randn(96)
    net = nn.Linear(5, 1)
    A = torch.cat([X, torch.ones(96, 1)], 1)
    w = torch.cat([net.weight.detach().reshape(-1), net.bias.detach()])
    g = 2 * A.T @ (A @ w - y) / 96
    H = 2 * A.T @ A / 96
    u = g / g.norm()
    for rho in (0.01, 0.5, 3.0):
        expected = 1 + rho * float(u @ H @ u) / (2 * float(g.norm()))
        got = radius_linearity(net, X, y, _mse, optimizer="sam", options={"base": "sgd", "rho": rho}, lr=0.1,
                               batch_size=96)
        assert got == pytest.approx(expected, rel=1e-4)


def test_linearity_needs_a_radius_and_leaves_the_model_alone(data):
    X, y = data.train
    net = mlp()
    before = [p.detach().clone() for p in net.parameters()]
    assert radius_linearity(net, X, y, F.cross_entropy, optimizer="adam", options={}, lr=1e-3, batch_size=64) is None
    assert radius_linearity(net, X, y, F.cross_entropy, optimizer="sam", options={"base": "adam", "rho": 5.0},
                            lr=1e-3, batch_size=64) > RADIUS_CURVED
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_only_a_changed_radius_past_the_neighbourhood_is_a_finding(data):
    """rho 5 on the digits MLP: the ascent raises the loss several times what the gradient
    predicts, at the default 0.05 about as predicted: a finding naming rho. The default itself, a
    radius of Foret et al.'s grid (0.5) and ASAM's own range (2.0, scaled by |w|) are none."""
    X, y = data.train
    read = dict(model=mlp(), X=X, y=y, loss_fn=F.cross_entropy, lr=1e-3, batch_size=64)
    f = radius_past_neighbourhood(**read, optimizer="sam", options={"base": "adam", "rho": 5.0})
    assert f is not None and f.code == "optimizer_setting" and f.evidence["options"] == {"rho": 5.0}
    assert f.evidence["linearity"] > RADIUS_CURVED >= f.evidence["linearity_default"]
    for optimizer, rho in (("sam", 0.05), ("sam", 0.5), ("asam", 2.0)):
        assert radius_past_neighbourhood(**read, optimizer=optimizer, options={"base": "adam", "rho": rho}) is None


def test_the_repair_resets_the_radius_at_step_0_and_ends_within_2_points(data):
    """SAM over Adam with rho 5 ends at chance (11 %); the repairer resets rho to SAM's default before
    the first step and the run ends within 2 points of the run at the default radius."""
    opts = {"optimizer": "sam", "lr": 1e-3, **FAST}
    healthy = trainwell.fit(mlp(), data, optimizer_options={"base": "adam"}, babysit="off", **opts)
    broken = trainwell.fit(mlp(), data, optimizer_options={"base": "adam", "rho": 5.0}, babysit="off", **opts)
    assert broken.results["test"]["acc"] < healthy.results["test"]["acc"] - 0.3
    fixed = trainwell.fit(mlp(), data, optimizer_options={"base": "adam", "rho": 5.0}, babysit="repair", **opts)
    assert [r["action"] for r in fixed.repairs if r["step"] == 0][:1] == ["reset_optimizer_options"], fixed.repairs
    assert fixed.results["test"]["acc"] >= healthy.results["test"]["acc"] - 0.02


def test_a_usual_radius_is_not_repaired(data, monkeypatch):
    """rho 0.1 (Foret et al.'s grid): the radius check reads it and finds nothing; no reset."""
    read = []
    real = interventions.radius_past_neighbourhood

    def counting(*args, **kwargs):
        out = real(*args, **kwargs)
        read.append(out)
        return out

    monkeypatch.setattr(interventions, "radius_past_neighbourhood", counting)
    run = trainwell.fit(mlp(), data, optimizer="sam", optimizer_options={"base": "adam", "rho": 0.1}, lr=1e-3,
                        babysit="repair", **FAST)
    assert read == [None]
    assert "reset_optimizer_options" not in [r["action"] for r in run.repairs]


def test_the_radius_check_costs_a_bounded_number_of_forward_passes(data):
    """At most two radii (the run's and the default) x ``RADIUS_BATCHES`` batches x two passes (at w
    and at w + e); none for a radius at its default or an optimizer without one."""
    X, y = data.train
    net = mlp()
    passes = []
    net.register_forward_hook(lambda *args: passes.append(1))     # a deepcopy keeps the hook
    read = dict(X=X, y=y, loss_fn=F.cross_entropy, lr=1e-3, batch_size=64)
    radius_past_neighbourhood(net, **read, optimizer="sam", options={"base": "adam", "rho": 5.0})
    assert 0 < len(passes) <= 2 * interventions.RADIUS_BATCHES * 2
    passes.clear()
    radius_past_neighbourhood(net, **read, optimizer="sam", options={"base": "adam", "rho": 0.05})
    radius_past_neighbourhood(net, **read, optimizer="adam", options={"rho": 5.0})
    assert passes == []


def test_a_radius_check_that_fails_leaves_the_pre_flight_running(data, monkeypatch):
    """A measurement that raises (a forward failing on a copy) is no finding, and the repairer's
    pre-flight goes on: here the settings trial's own "optimizer defaults" arm still finds rho 5
    (digits learns within its steps), and the run trains every epoch."""
    called = []

    def failing(*args, **kwargs):
        called.append(1)
        raise RuntimeError("a forward that fails on the copy")

    opts = {"optimizer": "sam", "optimizer_options": {"base": "adam", "rho": 5.0}, "lr": 1e-3, **FAST}
    monkeypatch.setattr(interventions, "radius_past_neighbourhood", failing)
    run = trainwell.fit(mlp(), data, babysit="repair", **opts)
    assert called and len(run.history) == FAST["epochs"]
    settings = [f for f in run.findings.findings if f.code == "optimizer_setting"]
    assert settings and all(f.evidence.get("intervention") == "optimizer defaults" for f in settings)
