"""Calibration metrics (train/calibration.py) against a loop written from Guo et al. 2017."""
import math

import numpy as np
import pytest
import torch

from trainwell.train.calibration import calibration


def reference(probs, y, bins=15):
    probs, y = np.asarray(probs, dtype=np.float64), np.asarray(y)
    n = len(y)
    nll = -np.mean([math.log(probs[i, y[i]]) for i in range(n)])
    ece, counts = 0.0, []
    for b in range(1, bins + 1):
        lo, hi = (b - 1) / bins, b / bins
        members = [i for i in range(n) if lo < probs[i].max() <= hi]
        counts.append(len(members))
        if members:
            acc = np.mean([probs[i].argmax() == y[i] for i in members])
            conf = np.mean([probs[i].max() for i in members])
            ece += len(members) / n * abs(acc - conf)
    return nll, ece, counts


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nll_and_ece_match_the_definition(seed):
    g = torch.Generator().manual_seed(seed)
    probs = torch.softmax(3 * torch.randn(400, 5, generator=g), dim=1)
    y = torch.randint(0, 5, (400,), generator=g)
    got = calibration(probs, y)
    nll, ece, counts = reference(probs, y)
    assert got["nll"] == pytest.approx(nll, rel=1e-5)
    assert got["ece"] == pytest.approx(ece, abs=1e-6)
    assert got["bins"]["count"] == counts
    assert got["acc"] == pytest.approx(float((probs.argmax(1) == y).float().mean()))


def test_a_calibrated_predictor_has_no_ece_and_an_overconfident_one_does():
    # 10 samples at confidence 0.8, 8 of them right: calibrated
    probs = torch.tensor([[0.8, 0.2]] * 10)
    y = torch.tensor([0] * 8 + [1] * 2)
    assert calibration(probs, y)["ece"] == pytest.approx(0.0, abs=1e-7)
    overconfident = torch.tensor([[0.99, 0.01]] * 10)
    assert calibration(overconfident, y)["ece"] == pytest.approx(0.19, abs=1e-6)


def test_a_zero_probability_for_the_true_class_gives_a_finite_nll():
    got = calibration(torch.tensor([[1.0, 0.0]]), torch.tensor([1]))
    assert math.isfinite(got["nll"]) and got["nll"] > 20


def test_fit_reports_nll_and_ece_of_a_classifier(blobs):
    import trainwell
    X, y = blobs
    run = trainwell.fit({"type": "mlp", "widths": [8]}, (X[:250], y[:250]), test=(X[250:], y[250:]), epochs=2,
                        progress=False, babysit="off", device="cpu")
    probs = run.predict(X[250:], output="proba")
    want = calibration(probs, y[250:])
    assert run.results["test"]["nll"] == pytest.approx(want["nll"], rel=1e-5)
    assert run.results["test"]["ece"] == pytest.approx(want["ece"], abs=1e-6)
    assert run.results["test"]["nll"] == pytest.approx(run.results["test"]["loss"], rel=1e-5)
