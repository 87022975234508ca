"""interventions.SharedSetup: a stalled augmentation check's raised pass goes on from the setup its
``_learns_at`` trained instead of training it again: the same findings, the same budget spent, the
setup's steps saved; an experiment that would train the setup for other steps trains it again."""
import torch
from torch import nn

from trainwell.babysit import augment_check, interventions
from trainwell.babysit.budget import Budget
from trainwell.nn.losses import make_loss

from test_augment_check import flat_classes


def _counted(monkeypatch) -> list:
    steps, step = [], interventions.train_step
    monkeypatch.setattr(interventions, "train_step", lambda *a, **k: steps.append(1) or step(*a, **k))
    return steps


def _stalled(budget=None):
    """Noise of std 30 on standardized features at Adam 2e-5: the first pass stalls, the setup alone
    stays flat at 10x the lr, so the raised pass runs (test_augment_check's stalled check)."""
    X, y = flat_classes(2000)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 4))
    return augment_check.check_augment(model, X, y, make_loss("cross_entropy"), augment=[{"name": "noise", "std": 30.0}],
                                       total_steps=900, optimizer="adam", lr=2e-5, batch_size=32, budget=budget)


def _trained_twice(monkeypatch):
    monkeypatch.setattr(interventions.SharedSetup, "take", lambda self, trial: None)


def test_the_raised_pass_reuses_the_setup_with_the_same_findings_and_budget(monkeypatch):
    steps = _counted(monkeypatch)
    shared_budget = Budget(1e6)
    shared = _stalled(shared_budget)
    saved = len(steps)
    with monkeypatch.context() as m:
        _trained_twice(m)
        steps.clear()
        twice_budget = Budget(1e6)
        twice = _stalled(twice_budget)
    assert [f.code for f in shared] == ["augmentation_hurts"]
    assert [(f.message, f.evidence) for f in shared] == [(f.message, f.evidence) for f in twice]
    assert len(steps) - saved == interventions.STEPS          # the raised setup's 100 steps, once
    assert shared_budget.spent == twice_budget.spent          # the budget's plan as before


def _experiment(shared, **kwargs):
    X, y = flat_classes(600)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    return interventions.experiment(model, X, y, make_loss("cross_entropy"), optimizer="sgd", lr=0.05, steps=40,
                                    seed=3, settings=False, run_steps=400, setup=shared, **kwargs)


def test_a_held_setup_trains_on_as_the_setup_trained_afresh(monkeypatch):
    shared = interventions.SharedSetup()
    alone, _ = _experiment(shared, repeat=False)
    assert shared.training is not None and shared.arm_steps == 40
    steps = _counted(monkeypatch)
    taken, arms = _experiment(shared, repeat=True, extra_arms=[interventions.Arm("x10", "lr_too_low", "lr x10",
                                                                                 extra={"lr": 0.5})])
    reused = len(steps)
    steps.clear()
    fresh, fresh_arms = _experiment(None, repeat=True, extra_arms=[interventions.Arm("x10", "lr_too_low", "lr x10",
                                                                                     extra={"lr": 0.5})])
    assert taken is alone and len(steps) - reused == 40
    assert (taken.after, taken.acc, taken.fit_fall, taken.mid_after) == (fresh.after, fresh.acc, fresh.fit_fall,
                                                                        fresh.mid_after)
    assert [(a.after, a.acc) for a in arms] == [(a.after, a.acc) for a in fresh_arms]
    assert (taken.longer is None) == (fresh.longer is None)
    if fresh.longer is not None:                                   # the setup trained on from the held training
        assert (taken.longer.after, taken.longer.steps) == (fresh.longer.after, fresh.longer.steps)


def test_a_setup_of_other_steps_or_a_short_budget_is_trained_again():
    shared = interventions.SharedSetup()
    _experiment(shared, budget=Budget(1e6))
    held = shared.training
    assert held is not None and sum(shared.charges) > 0
    assert shared.take(type("T", (), {"arm_steps": 39, "budget": None})()) is None
    broke = Budget(1.0)
    broke.spent = 1.0 - sum(shared.charges)
    assert shared.take(type("T", (), {"arm_steps": 40, "budget": broke})()) is None
    assert shared.take(type("T", (), {"arm_steps": 40, "budget": None})()) is held and shared.training is None
