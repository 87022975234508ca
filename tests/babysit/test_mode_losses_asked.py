"""interventions.experiment(mode_losses=...): the setup's train/eval-mode losses (mode_gap.measure: three
evaluation passes of the held rows, 44 more for a model with buffers) are measured only for the caller
that reads them (the doctor's experiment: ``eval_mode_gap``); every other experiment (the repairer's,
the run options' checks) charges them to the budget as before and does not run them. The arms, the
budget and the random state are the same either way."""
import torch
from torch import nn

from trainwell.babysit import interventions, mode_gap
from trainwell.babysit.budget import Budget
from trainwell.nn.losses import make_loss

from test_augment_check import flat_classes


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 4))


def _run(mode_losses: bool, budget):
    """A budgeted experiment on a model with buffers (batch norm) and dropout: setting arms, a repeat and
    the trainings on; every arm's numbers, the setup's extra and the random state after."""
    X, y = flat_classes(1200)
    torch.manual_seed(11)
    baseline, arms = interventions.experiment(
        _model(), X, y, make_loss("cross_entropy"), optimizer="sgd", lr=0.05, weight_decay=1e-2, steps=30,
        seed=4, repeat=True, run_steps=300, budget=budget, mode_losses=mode_losses)
    numbers = [(a.name, a.steps, a.before, a.after, a.acc, a.mid_after, a.fit_fall,
                None if a.longer is None else (a.longer.steps, a.longer.after)) for a in [baseline] + arms]
    return numbers, baseline.extra, torch.get_rng_state()


def _counted_measures(monkeypatch) -> list:
    calls, measure = [], mode_gap.measure
    monkeypatch.setattr(mode_gap, "measure", lambda *a, **k: calls.append(1) or measure(*a, **k))
    return calls


def test_the_mode_losses_are_measured_only_when_asked_with_the_same_arms_and_budget(monkeypatch):
    calls = _counted_measures(monkeypatch)
    asked_budget, skipped_budget = Budget(1e6), Budget(1e6)
    asked, asked_extra, asked_state = _run(True, asked_budget)
    assert len(calls) == 1 and set(asked_extra["mode_losses"]) >= {"train", "eval", "eval_spread"}
    skipped, skipped_extra, skipped_state = _run(False, skipped_budget)
    assert len(calls) == 1 and "mode_losses" not in skipped_extra
    assert len(asked) >= 4
    assert repr(asked) == repr(skipped)                     # bitwise (repr: NaN equals NaN): every arm's numbers
    assert {k: v for k, v in asked_extra.items() if k != "mode_losses"} == skipped_extra
    assert torch.equal(asked_state, skipped_state)
    assert asked_budget.spent == skipped_budget.spent       # charged either way: the same shares after it


def test_the_doctor_reads_the_mode_losses_of_its_experiment(monkeypatch):
    """The doctor's experiment asks for them (``eval_mode_gap``'s evidence); the others do not."""
    asked = []
    experiment = interventions.experiment

    def spy(*args, **kwargs):
        asked.append((kwargs.get("part", "the experiment"), kwargs.get("mode_losses", False)))
        return experiment(*args, **kwargs)
    monkeypatch.setattr(interventions, "experiment", spy)
    import trainwell
    X, y = flat_classes(600)
    torch.manual_seed(0)
    trainwell.doctor(_model(), (X, y), loss="cross_entropy", optimizer="sgd", lr=0.05, batch_size=32, epochs=2,
                     budget_s=20.0, wall_s=None)
    assert ("the experiment", True) in asked
