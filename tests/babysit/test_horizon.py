"""The experiment at the run's own horizon (``interventions.horizon``): a run shorter than the arms'
STEPS is tried for its own steps under its own lr course."""
import math

import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import interventions as iv
from trainwell.babysit.findings import make
from trainwell.optim.schedules import ReduceOnPlateau, cosine, warmup
from babysit_loop import digits

X, Y, _, _ = digits()


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


def test_a_run_as_long_as_the_arms_or_longer_keeps_the_experiments_own_steps():
    assert iv.horizon(cosine(total=iv.STEPS), iv.STEPS) == {}
    assert iv.horizon(cosine(total=5000), 5000) == {}
    assert iv.horizon(cosine(total=50), None) == {} and iv.horizon(None, 0) == {}


def test_a_shorter_run_is_tried_for_its_steps_under_its_schedule():
    """The course is the run's cosine (0.5 (1 + cos(pi t / T)), written out here) over the
    multiplier the experiment's lr is taken at; a budget that cuts the arms to fewer steps
    compresses it onto them; without a schedule, or with a plateau schedule (its lr follows the
    metric), only the steps."""
    total = 72
    keywords = iv.horizon(cosine(total=total), total)
    assert keywords["steps"] == total
    course = keywords["course"]
    for t in (0, 1, 17, 36, 71):
        assert math.isclose(course(t, total), 0.5 * (1 + math.cos(math.pi * t / total)), rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(course(18, 36), course(36, total))           # 36 arm steps stand for the 72
    assert course(200, total) == course(total - 1, total)          # never past the run's last step
    halved = iv.horizon(cosine(total=total), total, top=0.5)["course"]
    assert math.isclose(halved(10, total), 2 * course(10, total))
    assert iv.horizon(None, total) == {"steps": total}
    assert iv.horizon(ReduceOnPlateau(), total) == {"steps": total}
    ramp = iv.horizon(warmup(cosine(total=total), steps=10), total)["course"]
    assert ramp(0, total) < 0.2 and ramp(10, total) > 0.9         # a warmup is part of the course too


def test_the_experiment_trains_every_arm_for_the_runs_steps_at_the_runs_lr():
    """Every arm (the setup, its repeat, the lr arms) trains the run's 30 steps, its lr at each step the
    schedule's (read from the course the experiment calls), and nothing trains on past the run."""
    total = 30
    keywords = iv.horizon(cosine(total=total), total)
    seen = []

    def recorded(i, n):
        seen.append((i, n))
        return keywords["course"](i, n)
    baseline, arms = iv.experiment(mlp(), X, Y, F.cross_entropy, optimizer="sgd", lr=0.05,
                                   options={"momentum": 0.9}, repeat=True, run_steps=total,
                                   steps=keywords["steps"], course=recorded)
    assert baseline.steps == total and all(a.steps == total for a in arms if math.isfinite(a.after))
    assert baseline.longer is None and all(a.longer is None for a in arms)
    assert seen[:total] == [(i, total) for i in range(total)]       # the setup's lr at each of the run's steps


def _graded(steps, run_steps):
    """A softmax before cross-entropy (a graded error) whose removal trains no better."""
    arms = [iv.Arm("setup", "", "", before=2.3, after=2.2, acc=0.20, rows=512, steps=steps),
            iv.Arm("setup (repeat)", "", "", before=2.3, after=2.21, acc=0.21, rows=512, steps=steps,
                   extra={"repeat": True}),
            iv.Arm("remove output activation", "", "", before=2.3, after=2.0, acc=0.21, rows=512, steps=steps,
                   extra={"grades": True})]
    f = make("loss_output_mismatch", "softmax before cross_entropy", evidence={"graded": True}, severity="error")
    return iv.grade([f], arms[0], arms[1:], run_steps=run_steps)[0]


def test_arms_as_long_as_a_short_run_are_a_whole_experiment_and_budget_cut_ones_are_not():
    """An error is cleared only by a whole experiment: arms of a 30-step run's 30 steps are one (the
    fix trains no better at the run's own length: info); arms cut to 20 of its 30 steps, or to 30 of
    a longer run's STEPS, are not (the error stays, 'cut the experiment short')."""
    assert _graded(30, 30).severity == "info"
    cut = _graded(20, 30)
    assert cut.severity == "error" and "cut the experiment short" in cut.message
    assert _graded(30, 1000).severity == "error"


def test_the_doctor_tries_a_run_shorter_than_the_arms_at_its_own_horizon(monkeypatch):
    """A 2-epoch run of batches of 128 (a few dozen steps): the doctor's experiment trains its arms
    the run's steps under the run's cosine, not STEPS at a constant lr."""
    import trainwell
    seen = []
    real = iv.experiment

    def spy(*args, **kwargs):
        baseline, arms = real(*args, **kwargs)
        seen.append((kwargs.get("run_steps"), kwargs.get("steps"), kwargs.get("course"), baseline.steps))
        return baseline, arms
    monkeypatch.setattr(iv, "experiment", spy)
    trainwell.doctor(mlp(), (X, Y), lr=0.05, batch_size=128, epochs=2, probe=False, wall_s=None)
    main = [s for s in seen if s[2] is not None]
    assert len(main) == 1
    run_steps, steps, course, trained = main[0]
    assert steps == trained == run_steps < iv.STEPS
    assert course(0, steps) == 1.0 and course(steps - 1, steps) < 0.01      # the cosine's start and end
