"""noise_check: the run's gradient noise measured against its own gradients; an arm with the noise as
run trains next to the setup without it only when the noise is over RATIO x the gradient, and grades it."""
import math

import pytest
import torch

from trainwell.babysit import noise_check, run_options
from trainwell.babysit.findings import Diagnosis, make
from trainwell.babysit.registry import CODES
from trainwell.config import make_config
from trainwell.nn.losses import make_loss

LOSS = make_loss("cross_entropy")


def _check(data, mlp, **config):
    X, y = data
    return noise_check.check_noise(mlp(), X, y, LOSS, config=make_config(config), optimizer="sgd", lr=0.1,
                                   batch_size=32, steps=60, options={"momentum": 0.9})


def test_noise_reach_is_the_noise_norm_over_the_gradient_norm(four_class_mlp):
    # every row the same: any batch has the same gradient, so the reference needs no sampling
    X, y = torch.randn(1, 10).repeat(64, 1), torch.full((64,), 2)
    net = four_class_mlp()
    reach = noise_check.noise_reach(net, X, y, LOSS, eta=0.3, gamma=0.55, batch_size=16)
    LOSS(net(X), y).backward()
    grad = float(torch.cat([p.grad.reshape(-1) for p in net.parameters()]).norm())
    entries = sum(p.numel() for p in net.parameters())
    assert reach["entries"] == entries == 10 * 32 + 32 + 32 * 4 + 4
    assert reach["noise_norm"] == pytest.approx(math.sqrt(0.3 * entries))
    assert reach["ratio"] == pytest.approx(math.sqrt(0.3 * entries) / grad, rel=1e-5)


def test_the_arms_noise_has_the_runs_annealed_std(four_class_mlp):
    # a loss whose gradient is 0: what backward leaves is the noise alone, N(0, eta / (1 + t)^gamma)
    net = four_class_mlp()
    noise_check.add_noise(eta=0.5, gamma=0.55, seed=3)(net)
    x = torch.randn(8, 10)
    for t in range(3):
        net.zero_grad()
        (0.0 * net(x).sum()).backward()
        g = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
        assert float(g.std()) == pytest.approx(math.sqrt(0.5 / (1 + t) ** 0.55), rel=0.1)
        assert abs(float(g.mean())) < 0.1


def test_no_noise_or_noise_under_the_gradient_runs_no_experiment(four_class, four_class_mlp, monkeypatch):
    monkeypatch.setattr(noise_check.interventions, "experiment", lambda *a, **k: pytest.fail("ran"))
    assert _check(four_class, four_class_mlp) == []
    assert _check(four_class, four_class_mlp, grad_noise=1e-9) == []


def test_noise_that_drowns_the_gradient_is_found_and_explains_the_divergence(four_class, four_class_mlp):
    found = _check(four_class, four_class_mlp, grad_noise=1.0)
    assert [(f.code, f.severity) for f in found] == [("optimizer_setting", "warning")]
    f = found[0]
    assert f.evidence["ratio"] > noise_check.RATIO and f.evidence["hurts"]
    assert f.evidence["fix_accuracy"] > f.evidence["setup_accuracy"]
    assert "grad_noise = 1" in f.message and "mostly noise" in f.message
    # the run diverges under it: the noise is the root cause, the exploding loss its symptom
    exploding = make("loss_exploding", "the loss rose above 3x its start", evidence={"step": 40})
    assert [g.code for g in Diagnosis([exploding, f]).ranked()] == ["optimizer_setting", "loss_exploding"]
    assert "loss_exploding" in f.evidence["explains"]
    assert isinstance(CODES[f.code].plan(f, None), str)    # no action changes the noise: told, not repaired


def test_noise_over_the_gradient_at_steps_too_small_to_matter_is_info(four_class, four_class_mlp):
    # the noise is 19x the gradient, but at lr 1e-3 neither setup moves far in 60 steps: no measurable cost
    X, y = four_class
    found = noise_check.check_noise(four_class_mlp(), X, y, LOSS, config=make_config({"grad_noise": 1.0}),
                                    optimizer="sgd", lr=1e-3, batch_size=32, steps=60, options={"momentum": 0.9})
    assert [(f.code, f.severity) for f in found] == [("optimizer_setting", "info")]
    f = found[0]
    assert f.evidence["ratio"] > noise_check.RATIO and not f.evidence["hurts"] and "explains" not in f.evidence
    assert "trains no better" in f.message
    exploding = make("loss_exploding", "the loss rose above 3x its start", evidence={"step": 40})
    assert [g.code for g in Diagnosis([exploding, f]).ranked()][0] == "loss_exploding"


def test_the_run_options_run_the_noise_check(four_class, four_class_mlp):
    X, y = four_class
    found = run_options.check_run_options(four_class_mlp(), X, y, LOSS, schedule=None, total_steps=400,
                                          optimizer="sgd", lr=0.1, batch_size=32, steps=60,
                                          config=make_config({"grad_noise": 1.0}), options={"momentum": 0.9})
    assert [f.evidence.get("intervention") for f in found] == ["no gradient noise"]
