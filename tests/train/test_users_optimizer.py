"""A run whose optimizer the user built: fit keeps its settings, and the config says them."""
import warnings

import pytest
import torch
from torch import nn

import trainwell
from trainwell.babysit.doctor import doctor
from trainwell.train.fit import prepare

BARE = {"run_dir": None, "babysit": "off", "report": False, "progress": False}


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def test_config_reads_the_instance_lr_and_weight_decay():
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, weight_decay=1e-2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # nothing was given beside it: no warning
        p = prepare(model, "digits", None, None, {"optimizer": opt, **BARE}, check=False)
    assert p.config.lr == pytest.approx(1e-3) and p.config.weight_decay == pytest.approx(1e-2)


def test_an_lr_given_beside_the_instance_is_named_as_unused():
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    with pytest.warns(UserWarning, match=r"lr = 0\.05 is not used: the optimizer you built \(SGD\) keeps its own lr 0\.001"):
        run = trainwell.fit(model, "digits", optimizer=opt, lr=0.05, epochs=1, device="cpu", **BARE)
    assert run.history[0]["lr"] <= 1e-3        # the run went at the optimizer's own lr
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # the same value given: nothing to say
        prepare(_mlp(), "digits", None, None, {"optimizer": torch.optim.SGD(_mlp().parameters(), lr=0.05),
                                               "lr": 0.05, **BARE}, check=False)


def test_doctor_diagnoses_the_run_at_the_instance_lr():
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=1e-4)      # far too low for digits
    diag = doctor(model, "digits", optimizer=opt, epochs=5, device="cpu")
    low = [f for f in diag.findings if f.code == "lr_too_low"]
    assert low, [f.code for f in diag.findings]
    # the doctor's arms start from the lr the run has, not fit's default 0.05
    assert "instead of 0.0001" in low[0].message
