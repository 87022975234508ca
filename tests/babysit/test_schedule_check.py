"""schedule_check: a schedule that gives its lr early is graded by a stretched schedule's experiment;
the standard schedules are no candidates (no experiment runs); the repair stretches by the factor."""
import pytest
import torch
from torch import nn

from trainwell.babysit import schedule_check
from trainwell.babysit.actions import ACTIONS
from trainwell.babysit.findings import make
from trainwell.babysit.registry import CODES
from trainwell.nn.losses import make_loss
from trainwell.optim.schedules import make_schedule, staircase


def _check(data, mlp, schedule, total):
    X, y = data
    return schedule_check.check_schedule(mlp(), X, y, make_loss("cross_entropy"), schedule=schedule,
                                         total_steps=total, optimizer="sgd", lr=0.05, batch_size=16, steps=60)


@pytest.mark.parametrize("name, options, warmup", [
    ("cosine", {}, 0), ("step", {"every_epochs": 13}, 0), ("cosine", {}, 40), ("one_cycle", {}, 0),
    ("plateau", {}, 0), ("constant", {}, 0),
])
def test_standard_schedules_are_no_candidates(name, options, warmup):
    s = make_schedule(name, total_steps=400, steps_per_epoch=10, warmup_steps=warmup, **options)
    assert schedule_check.candidate(s, 400) is None


def test_exponential_095_per_epoch_over_100_epochs_is_no_candidate():
    s = make_schedule("exponential", total_steps=1000, steps_per_epoch=10, rate_per_epoch=0.0513)
    assert schedule_check.candidate(s, 1000) is None


def test_a_standard_schedule_runs_no_experiment(four_class, four_class_mlp, monkeypatch):
    monkeypatch.setattr(schedule_check.interventions, "experiment", lambda *a, **k: pytest.fail("ran"))
    assert _check(four_class, four_class_mlp, make_schedule("cosine", total_steps=400, steps_per_epoch=10), 400) == []


@pytest.mark.parametrize("every, factor", [(5, 10.0), (10, 100.0)])
def test_a_fast_decay_is_found_with_the_stretch_that_helped(four_class, four_class_mlp, every, factor):
    found = _check(four_class, four_class_mlp, staircase(every=every, factor=factor), 400)
    assert [f.code for f in found] == ["schedule_decays_early"]
    f = found[0]
    assert f.severity == "warning" and f.evidence["stretch"] > 10
    assert "stretched" in f.message and "% of the run" in f.message
    assert f.evidence["stretch"] == pytest.approx(schedule_check.STRETCH_TO / f.evidence["spent_at"])


def test_the_repair_stretches_the_schedule_by_the_measured_factor():
    f = make("schedule_decays_early", "decays early", evidence={"stretch": 12.5})
    plan = CODES["schedule_decays_early"].plan(f, None)
    assert plan.action is ACTIONS["stretch_schedule"] and plan.options == {"factor": 12.5}
    calls = []

    class Controls:
        def stretch_schedule(self, factor):
            calls.append(factor)
    assert ACTIONS["stretch_schedule"].apply(Controls(), plan.options, seed=0) == "lr schedule stretched x12.5"
    assert calls == [12.5]
    assert isinstance(CODES["schedule_decays_early"].plan(make("schedule_decays_early", "x"), None), str)


def test_a_decay_that_costs_nothing_is_only_info(blobs):
    """Three well-separated blobs: 10 steps at the lr already classify every held row, so a
    staircase / 10 every 10 of 400 steps is present but costs nothing (held accuracy saturates)."""
    X, y = blobs
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 3))
    found = schedule_check.check_schedule(net, X, y, make_loss("cross_entropy"), schedule=staircase(every=10),
                                          total_steps=400, optimizer="sgd", lr=0.05, batch_size=16, steps=40)
    assert [(f.code, f.severity) for f in found] == [("schedule_decays_early", "info")]
    assert "trains no better" in found[0].message
