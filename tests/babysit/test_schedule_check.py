"""schedule_check: a schedule that gives its lr early is graded by a stretched schedule's experiment;
the standard schedules are no candidates (no experiment runs); the repair stretches by the factor."""
import pytest
import torch
from torch import nn

import trainwell

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


def test_milestones_meant_as_epochs_stepped_per_batch_are_found(four_class, four_class_mlp):
    """lr x0.1 at steps 10 and 13 of 400 (epochs 10 and 13 read as steps): ``spent_at`` alone puts
    99% of the lr sum at the run's end (the 1% tail adds up); ``fallen_at`` sees the fall at step 13."""
    milestones = lambda t: 0.1 ** sum(t >= m for m in (10, 13))
    assert schedule_check.candidate(milestones, 400) == pytest.approx(13 / 400)
    found = _check(four_class, four_class_mlp, milestones, 400)
    assert [(f.code, f.severity) for f in found] == [("schedule_decays_early", "warning")]
    assert "falls to 1% of its peak by 3% of the run" in found[0].message
    assert found[0].evidence["stretch"] == pytest.approx(schedule_check.STRETCH_TO / (13 / 400))


EPOCHS, PER_EPOCH = 20, 45     # a user's schedule function written for 20 epochs, called per batch (45 an epoch)


@pytest.mark.parametrize("per_epoch", [
    lambda e: max(0.0, 1.0 - e / EPOCHS),       # LambdaLR's linear decay, clamped at 0
    lambda e: 0.1 ** (e // 5),                  # StepLR(step_size=5, gamma=0.1)
    lambda e: 0.5 ** (e // 8),                  # StepLR(step_size=8, gamma=0.5)
    lambda e: 0.95 ** e,                        # ExponentialLR(gamma=0.95)
])
def test_an_epoch_schedule_function_stepped_per_batch_is_a_candidate_and_per_epoch_is_not(per_epoch):
    """A user's function of the epoch that the trainer calls with the step: its trajectory over the
    run's planned steps is read (``candidate``: the run's lr spent or at 1% of its peak within its first
    half); the same function called with the epoch (step // steps per epoch) spans the run."""
    total = EPOCHS * PER_EPOCH
    assert schedule_check.candidate(per_epoch, total) is not None
    assert schedule_check.candidate(lambda t: per_epoch(t // PER_EPOCH), total) is None


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


# --- schedule_starts_late: a warmup longer than the run (babysit23) -------------------------------------
@pytest.mark.parametrize("name, options, warmup, total", [
    ("cosine", {}, 30, 600), ("cosine", {}, 0, 600), ("one_cycle", {}, 0, 600), ("one_cycle", {"pct_start": 0.45}, 0, 600),
    ("cosine", {}, 500, 20000), ("cosine", {}, 50, 855), ("linear", {}, 200, 1000), ("step", {"every_epochs": 20}, 60, 600),
    ("constant", {}, 250, 600), ("plateau", {}, 100, 600), ("exponential", {"rate_per_epoch": 0.05}, 40, 600),
])
def test_standard_warmups_are_no_late_start(name, options, warmup, total):
    s = make_schedule(name, total_steps=total, steps_per_epoch=60, warmup_steps=warmup, **options)
    assert schedule_check.start_candidate(s, total) is None


def test_a_standard_warmup_runs_no_experiment(four_class, four_class_mlp, monkeypatch):
    monkeypatch.setattr(schedule_check.interventions, "experiment", lambda *a, **k: pytest.fail("ran"))
    s = make_schedule("cosine", total_steps=600, steps_per_epoch=60, warmup_steps=30)
    assert _check(four_class, four_class_mlp, s, 600) == []


@pytest.mark.parametrize("optimizer, lr", [("sgd", 0.05), ("adam", 3e-3)])
def test_a_warmup_longer_than_the_run_is_found_with_the_fitted_warmup(four_class, four_class_mlp, optimizer, lr):
    X, y = four_class
    s = make_schedule("cosine", total_steps=600, steps_per_epoch=60, warmup_steps=5000)
    found = schedule_check.check_schedule(four_class_mlp(), X, y, make_loss("cross_entropy"), schedule=s,
                                          total_steps=600, optimizer=optimizer, lr=lr, batch_size=16, steps=60)
    assert [(f.code, f.severity) for f in found] == [("schedule_starts_late", "warning")]
    f = found[0]
    assert f.evidence["warmup_steps"] == 30 and f.evidence["reached_at"] == float("inf")
    assert f.evidence["peak"] == pytest.approx(600 / 5000, rel=0.01)        # (t+1)/5000 at the run's last step
    assert "for the whole run of 600 steps (it reaches 12% of it at most)" in f.message
    assert f.evidence["fix_loss"] < f.evidence["setup_loss"]


def test_a_late_start_that_costs_nothing_is_only_info(blobs):
    """Three well-separated blobs: a lr that rises to 40% of its value over the run classifies the held
    rows as well as the fitted warmup, to a held loss within the repeat's noise."""
    X, y = blobs
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 3))
    s = make_schedule("constant", total_steps=400, steps_per_epoch=10, warmup_steps=1000)
    found = schedule_check.check_schedule(net, X, y, make_loss("cross_entropy"), schedule=s, total_steps=400,
                                          optimizer="adam", lr=0.05, batch_size=16, steps=40)
    assert [(f.code, f.severity) for f in found] == [("schedule_starts_late", "info")]
    assert "trains no better" in found[0].message


def test_a_python_schedule_without_warmup_is_no_candidate():
    assert schedule_check.start_candidate(lambda step: 0.01, 600) is None


def test_the_repair_sets_the_fitted_warmup():
    f = make("schedule_starts_late", "starts late", evidence={"warmup_steps": 43})
    plan = CODES["schedule_starts_late"].plan(f, None)
    assert plan.action is ACTIONS["set_warmup"] and plan.options == {"steps": 43}
    calls = []

    class Controls:
        def set_warmup(self, steps):
            calls.append(steps)
    assert ACTIONS["set_warmup"].apply(Controls(), plan.options, seed=0) == "warmup 43 steps"
    assert calls == [43]
    assert isinstance(CODES["schedule_starts_late"].plan(make("schedule_starts_late", "x"), None), str)


# ------------------------------------------------------------------ a schedule at ~0 on most steps
import math  # noqa: E402

TOTAL = 400


def _cosine(t):
    return 0.5 * (1 + math.cos(math.pi * t / TOTAL))


def _cosine_int(t):
    """The cosine through ``int()`` (a habit from index arithmetic): 1 at step 0, 0 at every other."""
    return int(_cosine(t))


def _warmup_from_zero(t):
    """A linear warmup from 0 over 40 steps, then constant: healthy (its first step is 0)."""
    return min(1.0, t / 40)


def test_dead_share_counts_the_steps_at_about_zero_lr():
    assert schedule_check.dead_share(_cosine_int, TOTAL) == pytest.approx(1 - 1 / TOTAL)
    assert schedule_check.dead_share(_cosine, TOTAL) < 0.1                  # only its tail
    assert schedule_check.dead_share(staircase(every=TOTAL // 3 + 1, factor=10.0), TOTAL) < schedule_check.DEAD_SHARE
    assert schedule_check.dead_share(_warmup_from_zero, TOTAL) == pytest.approx(1 / TOTAL)


def test_a_warmup_from_zero_is_no_candidate_and_runs_no_experiment(four_class, four_class_mlp, monkeypatch):
    """Its first multiplier is 0: not a fall to 1% of a peak (nothing has risen yet)."""
    assert schedule_check.candidate(_warmup_from_zero, TOTAL) is None
    monkeypatch.setattr(schedule_check.interventions, "experiment", lambda *a, **k: pytest.fail("ran"))
    assert _check(four_class, four_class_mlp, _warmup_from_zero, TOTAL) == []


WARM = 40


def _inverse_sqrt(t):
    """The Transformer's warmup then inverse square root (Vaswani et al. 2017), written with ``/``."""
    return min(t / WARM, math.sqrt(WARM / max(t, 1)))


def _inverse_sqrt_floor(t):
    """The same written with ``//`` and ``int``: 0 at every step but ``WARM`` (its warmup 0, its decay 0)."""
    return min(t // WARM, int(math.sqrt(WARM // max(t, 1))))


def test_a_schedule_no_stretch_revives_is_graded_against_the_configured_lr(four_class, four_class_mlp):
    """The lr is 0 at all steps but one; stretched, it is 0 on all but a few: the arm is the schedule
    that replaces it (a linear decay from the configured lr to 1% of it, notes 000), a warning that
    names the dead share and the replacement, with no stretch to plan. Written with ``/`` the
    schedule is no candidate."""
    assert schedule_check.candidate(_inverse_sqrt, TOTAL) is None
    assert schedule_check.dead_share(_inverse_sqrt_floor, TOTAL) == pytest.approx(1 - 1 / TOTAL)
    found = _check(four_class, four_class_mlp, _inverse_sqrt_floor, TOTAL)
    assert [(f.code, f.severity) for f in found] == [("schedule_decays_early", "warning")]
    f = found[0]
    assert f.evidence["intervention"] == schedule_check.REPLACE_ARM and "stretch" not in f.evidence
    assert f.evidence["replace"] == {"name": "linear", "final": 0.01}
    assert f.evidence["dead_share"] > 0.99 and "at most 1% of the configured lr 0.05 on 100% of the steps" in f.message
    assert "//" in f.fix


def test_a_stretch_that_revives_the_schedule_keeps_the_stretch_arm(four_class, four_class_mlp):
    """``int()`` of a cosine is 1 at step 0 only, but stretched it is 1 for 2/3 of the run: the stretch
    is the arm (and the plan), not the configured lr."""
    found = _check(four_class, four_class_mlp, _cosine_int, TOTAL)
    assert [f.evidence["intervention"] for f in found] == [schedule_check.ARM] and found[0].evidence["stretch"] > 100


def test_the_repair_replaces_a_schedule_no_stretch_revives():
    """A finding with ``evidence["replace"]`` plans ``replace_schedule`` with that spec from the start
    (before the stretch: a dead schedule's finding has no factor to plan)."""
    f = make("schedule_decays_early", "dead", evidence={"replace": {"name": "linear", "final": 0.01}})
    plan = CODES["schedule_decays_early"].plan(f, None)
    assert plan.action is ACTIONS["replace_schedule"] and plan.options == {
        "spec": {"name": "linear", "final": 0.01}, "from_step": 0}
    assert plan.rollback.value == "start"
    calls = []

    class Controls:
        def replace_schedule(self, spec, *, from_step):
            calls.append((spec, from_step))
    assert "replaced by {'name': 'linear'" in ACTIONS["replace_schedule"].apply(Controls(), plan.options, seed=0)
    assert calls == [({"name": "linear", "final": 0.01}, 0)]


def _warmup_decay_floor(t, warm=30, total=300):
    """A warmup then a linear decay to 0 written with ``//`` (set 19's kilns): 0 at every step but ``warm``."""
    return max(0, min(t // warm, (total - t) // (total - warm)))


def test_a_repaired_run_replaces_a_schedule_no_stretch_revives(four_class, four_class_mlp):
    """``babysit="repair"`` on a run whose schedule is 0 at all steps but one: the pre-flight's schedule
    check plans ``replace_schedule`` at step 0 and the run learns (the run without the babysitter does not)."""
    X, y = four_class
    options = dict(epochs=10, batch_size=32, lr=1e-3, optimizer="adam", seed=0, progress=False, report=False,
                   run_dir=None, device="cpu", schedule=_warmup_decay_floor)
    data, val = (X[:900], y[:900]), (X[900:], y[900:])

    def accuracy(run):
        return (run.predict(val[0], output="raw").argmax(1) == val[1]).float().mean().item()
    repaired = trainwell.fit(four_class_mlp(), data, val, babysit="repair", **options)
    assert [(r["step"], r["action"]) for r in repaired.repairs][:1] == [(0, "replace_schedule")], repaired.repairs
    off = trainwell.fit(four_class_mlp(), data, val, babysit="off", **options)
    assert accuracy(repaired) > accuracy(off) + 0.2
