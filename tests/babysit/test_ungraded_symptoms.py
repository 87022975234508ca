"""A short run grades a symptom by its fix in arms of at least ``interventions.MIN_STEPS`` steps where
they cost at most ``repair.MIN_GRADE_SHARE`` of the run; a run too short even for that leaves the
symptom alone (repair.py ``_ungraded``): a re-initialization made untried is no harmless fix."""
import trainwell
from babysit_loop import tanh_net
from trainwell.data.sources import digits

FAST = {"progress": False, "report": False, "epochs": 6, "device": "cpu"}
SGD = {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05}


def _arm_steps(monkeypatch) -> list:
    """Every run counts as short, its share affords no arm of interventions.MIN_STEPS steps; returns
    the steps of each experiment run."""
    from trainwell.babysit import interventions, repair
    monkeypatch.setattr(repair, "GRADE_SHARE", 1e-6)          # every run counts as short ...
    monkeypatch.setattr(repair, "SHORT_GRADE_SHARE", 1e-6)    # ... and its share affords no grading arm
    steps = []
    real = interventions.experiment
    monkeypatch.setattr(interventions, "experiment", lambda *a, **k: steps.append(k.get("steps")) or real(*a, **k))
    return steps


def test_a_run_too_short_to_grade_a_symptom_does_not_reinitialize_it_untried(monkeypatch):
    """A tanh net at 5x PyTorch's default init starts over-confident: a symptom (its repair a shrunk
    output layer) that a short run grades by its fix. With no grading arm of interventions.MIN_STEPS
    steps affordable it is info, said why, and no symptomatic repair is made at step 0 (before: made
    untried, as a healthy 228-step bag-of-words net was re-initialized, 2.0 and 3.2 points lost)."""
    from trainwell.babysit import repair
    _arm_steps(monkeypatch)
    monkeypatch.setattr(repair, "MIN_GRADE_SHARE", 1e-6)      # ... nor arms of MIN_STEPS
    run = trainwell.fit(tanh_net(6, 5.0), digits(), babysit="repair", **FAST, **SGD)
    assert not any(r["step"] == 0 and r["action"] in ("reinit", "shrink_output_layer") for r in run.repairs), \
        run.repairs
    ungraded = [f for f in run.findings.findings if "ungraded" in f.evidence]
    assert [f.code for f in ungraded] == ["bad_initial_loss"]
    assert ungraded[0].severity == "info" and "too short to try its fix" in ungraded[0].message


def test_a_short_run_grades_a_symptom_in_arms_of_min_steps_where_they_fit(monkeypatch):
    """The same symptom in a run whose share affords fewer than interventions.MIN_STEPS steps an arm,
    but whose arms of MIN_STEPS cost at most MIN_GRADE_SHARE of it, is graded in arms of MIN_STEPS
    (as the activation and settings tests run theirs), not left alone: left alone, the generated
    p1's blobs MLP (216 steps) with a 1-unit bottleneck, frozen hidden layers or clipping at 1e-4
    lost the re-initialization that repaired it (1.0 -> 0.93, 0.33, 0.33)."""
    from trainwell.babysit import interventions
    steps = _arm_steps(monkeypatch)
    run = trainwell.fit(tanh_net(6, 5.0), digits(), babysit="repair", **{**FAST, "epochs": 12}, **SGD)
    assert interventions.MIN_STEPS in steps, steps
    assert not any("ungraded" in f.evidence for f in run.findings.findings)
