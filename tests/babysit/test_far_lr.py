"""An lr far below its optimizer's default tried by the repairer's settings test (babysit/repair.py:
``lr_far_below``, the lr arms of ``_settings_test``): batch norm lets such a run's loss fall, so the
rules' flat-loss reading of a slow lr does not fire, and the run ends short."""
import pytest
import torch
from torch import nn

import trainwell
from trainwell.babysit import interventions
from trainwell.babysit.repair import FAR_BELOW, lr_far_below, unusual_settings
from trainwell.data.sources import digits
from trainwell.optim.registry import ADAPTIVE_LR, SGD_LR

RUN = {"optimizer": "rmsprop", "batch_size": 128, "epochs": 10, "progress": False, "report": False, "device": "cpu",
       "seed": 0}


def bn_mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ReLU(),
                         nn.Linear(128, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 10))


@pytest.fixture(scope="module")
def data():
    return digits()


def test_far_below_is_read_against_the_optimizer_records_default():
    assert lr_far_below("rmsprop", ADAPTIVE_LR / FAR_BELOW) and not lr_far_below("rmsprop", ADAPTIVE_LR / 10)
    assert lr_far_below("sgd", SGD_LR / FAR_BELOW) and not lr_far_below("sgd", 1.01 * SGD_LR / FAR_BELOW)
    assert lr_far_below("sam", 1e-4, {"base": "sgd"}) and not lr_far_below("sam", 1e-3, {"base": "sgd"})
    net = nn.Linear(2, 2)
    assert lr_far_below(torch.optim.Adam(net.parameters(), lr=1e-6), 1e-6)
    assert not lr_far_below("no_such_optimizer", 1e-9) and not lr_far_below("sgd", 0.0)
    assert unusual_settings(bn_mlp(), lr=1e-6, weight_decay=0.0, clip_norm=None, options={}, optimizer="rmsprop") == 1
    assert unusual_settings(bn_mlp(), lr=1e-6, weight_decay=0.0, clip_norm=None, options={}) == 0   # no optimizer named
    # without a normalization the rules read the flat loss in the run's first steps: no trial at fit start
    assert unusual_settings(net, lr=1e-6, weight_decay=0.0, clip_norm=None, options={}, optimizer="rmsprop") == 0


def test_an_lr_1000x_below_rmsprops_default_under_batch_norm_is_raised_before_the_first_step(data):
    off = trainwell.fit(bn_mlp(), data, lr=1e-6, babysit="off", **RUN).results["test"]["acc"]
    twin = trainwell.fit(bn_mlp(), data, lr=1e-3, babysit="off", **RUN).results["test"]["acc"]
    run = trainwell.fit(bn_mlp(), data, lr=1e-6, babysit="repair", **RUN)
    first = run.repairs[0]
    assert first["step"] == 0 and first["code"] == "lr_too_low" and first["action"] == "raise_lr"
    assert first["after"]["lr_scale"] >= 10 * first["before"]["lr_scale"]
    assert off < twin - 0.10                                 # the broken run ends far short ...
    assert run.results["test"]["acc"] >= twin - 0.02         # ... the repaired one within 2 points


def test_a_usual_lr_runs_no_lr_arm(data, monkeypatch):
    """At the optimizer's default the settings test runs no experiment at all (nothing unusual)."""
    calls = []
    real = interventions.experiment
    monkeypatch.setattr(interventions, "experiment", lambda *a, **k: calls.append(k) or real(*a, **k))
    trainwell.fit(bn_mlp(), data, lr=1e-3, babysit="repair", **{**RUN, "epochs": 1})
    assert not any(k.get("lr_arms") for k in calls)
