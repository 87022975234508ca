"""stopping.py: the doctor runs the run's own stop (max_steps before its epochs, early stopping) and the
run without it; a stop that cuts a run still learning is a stops_too_soon warning, a stop at
convergence is not."""
import pytest
import torch
from sklearn.datasets import make_classification
from torch import nn

import trainwell

from trainwell.babysit import stop_watch, stopping
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


@pytest.fixture(scope="module")
def step_limit_found():
    """The check of a 20-epoch Adam run with max_steps = 10, run once for the two tests that read it."""
    return check(mlp(), four_class(), optimizer="adam", lr=1e-3, batch_size=32, epochs=20, max_steps=10)


def test_a_step_limit_read_as_epochs_is_found(step_limit_found):
    """max_steps = 10 on a 20-epoch run of 29 steps an epoch: the held accuracy still rises for hundreds
    of steps, so the run without the limit ends far better on the validation rows."""
    found = step_limit_found
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


def test_a_budget_that_cannot_pay_for_the_runs_says_nothing(step_limit_found):
    assert step_limit_found                                     # found with the budget to pay for them
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


# ---------------------------------------------------------------------- at the end of a watched run
def epochs(values, metric="val_loss"):
    return [{metric: v} for v in values]


@pytest.mark.parametrize("values, metric, patience, improving", [
    ([0.967, 0.420, 0.296, 0.238, 0.198], "val_loss", 2, True),     # min_delta 0.1 on a decaying loss
    ([0.80, 0.83, 0.86, 0.88, 0.90], "val_acc", None, True),          # an accuracy still climbing
    ([0.50, 0.52, 0.49, 0.51, 0.50], "val_loss", None, False),        # noise about a level
    ([1.00, 0.80, 0.60, 0.61, 0.62], "val_loss", 2, False),           # the stop's epochs improved nothing
    ([1.0, 0.500, 0.499, 0.498, 0.497, 0.496], "val_loss", None, False),   # a straight line, but 0.4 % of the start
    ([0.9, 0.6, 0.4], "val_loss", None, False),                       # too few epochs to fit a trend
    ([0.9, 0.6, None, 0.3], "val_loss", None, False),                 # a metric missing on an epoch
])
def test_the_trend_test(values, metric, patience, improving):
    trend = stop_watch.still_improving(epochs(values, metric), monitor=metric, patience=patience)
    assert (trend is not None) is improving
    if improving:
        assert trend["t"] > 2 and trend["gained"] > 0


def test_the_trend_test_against_a_reference_fit():
    """The slope and its t statistic match numpy's least squares on the same window."""
    import numpy as np
    values = [1.3, 1.0, 0.93, 0.71, 0.64, 0.5, 0.47]
    trend = stop_watch.still_improving(epochs(values), monitor="val_loss")
    y = np.array(values[-stop_watch.TREND_EPOCHS:])
    x = np.arange(len(y))
    (slope, intercept), residual = np.polyfit(x, y, 1), None
    residual = ((y - (slope * x + intercept)) ** 2).sum()
    se = np.sqrt(residual / (len(y) - 2) / ((x - x.mean()) ** 2).sum())
    assert trend["slope"] == pytest.approx(slope) and trend["t"] == pytest.approx(-slope / se)


def fit(data, **options):
    import trainwell
    model = mlp(options.pop("width", 32))
    return trainwell.fit(model, *data, progress=False, report=False, run_dir=None, **options)


def test_a_watched_run_stopped_while_improving_says_so_and_a_converged_one_does_not():
    """patience 2, min_delta 0.05 on a 4-class validation loss that falls by 0.02-0.03 an epoch at
    epoch 7 of 30: the stop comes while it still improves (1.09 -> 0.96 over the last five epochs);
    a wide net on noisy labels that early stopping stops at its validation minimum says nothing."""
    stopped = fit(four_class(), optimizer="adam", lr=1e-3, batch_size=32, epochs=30, patience=2, min_delta=0.05,
                  babysit="watch")
    found = [f for f in stopped.findings.findings if f.code == "stops_too_soon"]
    assert stopped.stopped.kind.value == "early_stopping" and len(found) == 1
    assert found[0].severity == "warning" and found[0].evidence["stop"] == stopping.EARLY
    assert "while val_loss was still improving" in found[0].message
    quiet = fit(four_class(noise=0.3), optimizer="adam", lr=1e-2, batch_size=32, epochs=60, patience=3, width=256,
                babysit="watch")
    assert quiet.stopped.kind.value == "early_stopping"
    assert "stops_too_soon" not in [f.code for f in quiet.findings.findings]


# ------------------------------------------------------------------ a user callback's own stop
class StopAtEpochLoss(trainwell.Callback):
    """Ends the run at an epoch's end once the last step's loss is below ``threshold`` (the user's rule)."""

    def __init__(self, threshold):
        self.threshold = threshold

    def on_epoch_end(self, state):
        if float(state.loss) < self.threshold:
            state.stop = f"training loss below {self.threshold}"


class CountSteps(trainwell.Callback):
    """A per-step callback that never stops the run (a step counter)."""

    def __init__(self):
        self.steps = 0

    def on_after_step(self, state):
        self.steps += 1


def test_candidates_include_a_callback_that_can_stop():
    assert stopping.candidate(make_config({"epochs": 20, "callbacks": [StopAtEpochLoss(1.5)]}), 45) == stopping.CALLBACK
    assert stopping.candidate(make_config({"epochs": 20, "patience": 3, "callbacks": [CountSteps()]}), 45) == stopping.EARLY


def test_a_callback_threshold_from_another_problem_stops_the_run_while_it_learns():
    """A 4-class cross-entropy starts at ln 4 = 1.39: a rule "stop below 1.3" (an MSE threshold of the
    user's regression notebook) ends a 20-epoch run after its first epochs while the held accuracy
    still rises; trained on with the callback's stop taken back, it ends far better."""
    found = check(mlp(), four_class(), optimizer="adam", lr=1e-3, batch_size=32, epochs=20,
                  callbacks=[StopAtEpochLoss(1.3)])
    assert [(f.code, f.severity) for f in found] == [("stops_too_soon", "warning")]
    f = found[0]
    assert f.evidence["stop"] == stopping.CALLBACK and f.evidence["stopped_at"] <= stopping.CALLBACK_SHARE * 20 * 29
    assert f.evidence["fix_loss"] < f.evidence["setup_loss"] and "training loss below 1.3" in f.message
    assert "ln k" in f.fix


@pytest.mark.parametrize("callback", [StopAtEpochLoss(1e-3), CountSteps()])
def test_a_callback_that_does_not_stop_within_the_first_quarter_is_quiet(callback):
    assert check(mlp(), four_class(), optimizer="adam", lr=1e-3, batch_size=32, epochs=20, callbacks=[callback]) == []
    assert getattr(callback, "steps", 0) == 0          # the simulated runs ran copies of the user's callbacks
