"""stopping.py: the doctor runs the run's own stop (max_steps before its epochs, early stopping) and the
run without it; a stop that cuts a run still learning is a stops_too_soon warning, a stop at
convergence is not."""
import pytest
import torch
from sklearn.datasets import make_classification
from torch import nn

from trainwell.babysit import stopping
from trainwell.babysit.budget import Budget
from trainwell.babysit.doctor import doctor
from trainwell.babysit.registry import CODES, Group, members
from trainwell.config import make_config
from trainwell.train.fit import prepare

OFF = {"run_dir": None, "resume": False, "progress": False, "babysit": "off", "report": False, "log": [],
       "overwrite": False, "extend": False}


def four_class(noise=0.0):
    """900 training and 300 validation rows, 10 features, 4 classes (``noise``: a share of labels flipped)."""
    X, y = make_classification(n_samples=1200, n_features=10, n_informative=6, n_classes=4, random_state=0,
                               flip_y=noise)
    X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    return (X[:900], y[:900]), (X[900:], y[900:])


def mlp(width=32):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(10, width), nn.ReLU(), nn.Linear(width, 4))


def check(model, data, **options):
    p = prepare(model, data[0], data[1], None, {**options, **OFF}, check=False)
    return stopping.check_stopping(p, budget=Budget(60.0))


@pytest.mark.parametrize("options, per_epoch, expected", [
    ({"epochs": 20, "max_steps": 30}, 45, stopping.MAX_STEPS),     # 30 steps meant as epochs
    ({"epochs": 20, "max_steps": 900}, 45, None),                  # the limit is the run's length
    ({"epochs": 20, "max_steps": 5000}, 45, None),                 # a limit the epochs never reach
    ({"epochs": 20, "patience": 3}, 45, stopping.EARLY),
    ({"epochs": 20, "max_steps": 30, "patience": 3}, 45, stopping.MAX_STEPS),
    ({"epochs": 20}, 45, None),
])
def test_candidates(options, per_epoch, expected):
    assert stopping.candidate(make_config(options), per_epoch) == expected


def test_a_step_limit_read_as_epochs_is_found():
    """max_steps = 10 on a 20-epoch run of 29 steps an epoch: the held accuracy still rises for hundreds
    of steps, so the run without the limit ends far better on the validation rows."""
    found = check(mlp(), four_class(), optimizer="adam", lr=1e-3, batch_size=32, epochs=20, max_steps=10)
    assert [(f.code, f.severity) for f in found] == [("stops_too_soon", "warning")]
    f = found[0]
    assert f.evidence["stop"] == stopping.MAX_STEPS and f.evidence["stopped_at"] == 10
    assert f.evidence["planned_steps"] == 20 * 29 and f.evidence["trained_on_steps"] == 20 * 29
    assert f.evidence["fix_acc"] >= f.evidence["setup_acc"] + 0.03 and f.evidence["fix_loss"] < f.evidence["setup_loss"]
    assert "max_steps = 10 ends the run after 10 optimizer steps" in f.message
    assert "max_steps = 290 for 10 epochs" in f.fix


def test_a_min_delta_on_the_wrong_scale_is_found():
    """min_delta = 0.2 on a validation loss that falls by less each epoch: the run stops after a few
    epochs of a 30-epoch run while it still learns."""
    found = check(mlp(), four_class(), optimizer="adam", lr=1e-3, batch_size=32, epochs=30, patience=1,
                  min_delta=0.2)
    assert [(f.code, f.severity) for f in found] == [("stops_too_soon", "warning")]
    f = found[0]
    assert f.evidence["stop"] == stopping.EARLY and f.evidence["stopped_at"] < 10 * 29
    assert all(-0.2 <= c for c in f.evidence["last_changes"])    # no epoch improved by min_delta at the end
    assert "min_delta 0.2 on val_loss" in f.message


def test_an_early_stop_at_convergence_and_a_limit_after_it_raise_no_warning():
    """A wide net on labels 30 % flipped overfits within a few epochs: early stopping with the
    default min_delta stops near the validation minimum and training on is no better; a step
    limit after the validation accuracy has settled cuts nothing that matters."""
    data = four_class(noise=0.3)
    early = check(mlp(256), data, optimizer="adam", lr=1e-2, batch_size=32, epochs=60, patience=3)
    assert [f.severity for f in early] in ([], ["info"])
    late = check(mlp(), four_class(), optimizer="adam", lr=1e-2, batch_size=32, epochs=40, max_steps=20 * 29)
    assert [f.severity for f in late] in ([], ["info"])


def test_a_run_without_validation_rows_or_any_stop_is_not_checked():
    data = four_class()
    assert check(mlp(), data, epochs=20) == []
    p = prepare(mlp(), data[0], None, None, {"epochs": 20, "max_steps": 10, "monitor": "train_loss", **OFF},
                check=False)
    assert stopping.check_stopping(p, budget=Budget(60.0)) == []


def test_a_budget_that_cannot_pay_for_the_runs_says_nothing():
    found = check(mlp(), four_class(), optimizer="adam", lr=1e-3, batch_size=32, epochs=20, max_steps=10)
    assert found
    p = prepare(mlp(), *four_class(), None, {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20,
                                             "max_steps": 10, **OFF}, check=False)
    budget = Budget(60.0)
    budget.count(p.model, p.train[0][:32])
    budget.charge(budget.left - 5 * budget.step_cost(32))      # five steps left: not the run twice
    assert stopping.check_stopping(p, budget=budget) == []


def test_the_doctor_reports_it_and_the_code_counts_as_slow_learning():
    (Xtr, ytr), val = four_class()
    diag = doctor(mlp(), (Xtr, ytr), val, optimizer="adam", lr=1e-3, batch_size=32, epochs=20, max_steps=10)
    assert "stops_too_soon" in [f.code for f in diag.findings if f.severity == "warning"]
    assert "stops_too_soon" in members(Group.SLOW) and CODES["stops_too_soon"].phase == "preflight"
