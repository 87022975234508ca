"""A run too short to grade a symptom by its fix leaves the symptom alone (repair.py ``_ungraded``):
a re-initialization made untried is no harmless fix."""
import trainwell
from babysit_loop import tanh_net
from trainwell.data.sources import digits

FAST = {"progress": False, "report": False, "epochs": 6, "device": "cpu"}


def test_a_run_too_short_to_grade_a_symptom_does_not_reinitialize_it_untried(monkeypatch):
    """A tanh net at 5x PyTorch's default init starts over-confident: a symptom (its repair a shrunk
    output layer) that a short run grades by its fix. With no grading arm of interventions.MIN_STEPS
    steps affordable it is info, said why, and no symptomatic repair is made at step 0 (before: made
    untried, as a healthy 228-step bag-of-words net was re-initialized, 2.0 and 3.2 points lost)."""
    from trainwell.babysit import repair
    monkeypatch.setattr(repair, "GRADE_SHARE", 1e-6)          # every run counts as short ...
    monkeypatch.setattr(repair, "SHORT_GRADE_SHARE", 1e-6)    # ... and affords no grading arm
    run = trainwell.fit(tanh_net(6, 5.0), digits(), babysit="repair", **FAST, optimizer="sgd", momentum=0.9,
                        lr=0.05)
    assert not any(r["step"] == 0 and r["action"] in ("reinit", "shrink_output_layer") for r in run.repairs), \
        run.repairs
    ungraded = [f for f in run.findings.findings if "ungraded" in f.evidence]
    assert [f.code for f in ungraded] == ["bad_initial_loss"]
    assert ungraded[0].severity == "info" and "too short to try its fix" in ungraded[0].message
