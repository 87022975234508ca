"""The doctor's steps that change findings after they are made (doctor.py: ``merge``, ``note_backstop``,
``mark_ungraded``) return new findings and leave the ones they were given as they were: a finding other
code still holds (the graded errors, an arm's list) keeps what it said when it was made."""
import copy
from types import SimpleNamespace

from trainwell.babysit.budget import Budget
from trainwell.babysit.doctor import mark_ungraded, merge, note_backstop, note_unpaid, said_by_part
from trainwell.babysit.findings import make


def _budget(dropped=()):
    budget = Budget(60.0, wall_s=30.0)
    budget.drop(list(dropped))
    return budget


def test_merge_returns_the_found_finding_with_the_experiments_evidence_and_leaves_both_as_they_were():
    found = [make("unnormalized_inputs", "inputs far from mean 0", evidence={"mean": 40.0, "cause": "old"}),
             make("lr_too_low", "an info note", severity="info")]
    confirmed = [make("unnormalized_inputs", "standardized, the loss ends lower",
                      evidence={"mean": 0.0, "cause": "inputs", "rank": 1}),
                 make("lr_too_low", "lr x10 trains better", evidence={"intervention": "lr x10"})]
    before = copy.deepcopy((found, confirmed))
    out = merge(found, confirmed)
    assert (found, confirmed) == before
    assert [f.code for f in out] == ["unnormalized_inputs", "lr_too_low", "lr_too_low"]
    assert out[0].evidence == {"mean": 40.0, "cause": "inputs", "rank": 1}     # its own values, the cause taken
    assert out[0].message == "inputs far from mean 0; standardized, the loss ends lower"
    assert out[1] is found[1] and out[2] is confirmed[1]       # an info is not merged into: the cause is added


def test_note_backstop_extends_the_one_check_skipped_without_changing_it():
    note = make("check_skipped", "the pre-flight left out the gradient check", evidence={"skipped": ["gradcheck"]})
    other = make("lr_too_low", "slow")
    findings = [other, note]
    before = copy.deepcopy(findings)
    out = note_backstop(findings, _budget(["the probe"]))
    assert findings == before
    assert out[0] is other and len(out) == 2
    assert out[1].message == "the pre-flight left out the gradient check; the time backstop (30 s) left out the probe"
    assert out[1].evidence == {"skipped": ["gradcheck", "the probe"], "wall_s": 30.0, "backstop": True}
    added = note_backstop([other], _budget(["the probe"]))
    assert [f.code for f in added] == ["lr_too_low", "check_skipped"] and added[1].evidence["skipped"] == ["the probe"]
    assert note_backstop(findings, _budget()) == findings


def test_mark_ungraded_marks_a_copy_of_each_warning_whose_fix_the_backstop_left_out():
    baseline = SimpleNamespace(extra={"left_out": ["standardize inputs"]})
    arms = [SimpleNamespace(name="repeat", extra={"repeat": True})]
    warning = make("unnormalized_inputs", "inputs far from mean 0")
    marked_already = make("unnormalized_inputs", "inputs far from mean 0", evidence={"ungraded": True})
    error = make("unnormalized_inputs", "inputs far from mean 0", severity="error")
    findings = [warning, marked_already, error]
    before = copy.deepcopy(findings)
    out = mark_ungraded(findings, baseline, arms, _budget(["the experiment: the arm 'standardize inputs'"]))
    assert findings == before
    assert out[0].evidence == {"ungraded": True}
    assert out[0].message == ("inputs far from mean 0; not graded: the time backstop left out the experiment "
                              "that tries its fix")
    assert out[1] is marked_already and out[2] is error
    assert mark_ungraded(findings, baseline, arms, _budget()) == findings     # nothing left out: nothing marked


def test_note_unpaid_extends_the_one_check_skipped_or_adds_one_without_changing_it():
    note = make("check_skipped", "the pre-flight left out the gradient check",
                evidence={"skipped": ["gradcheck"], "nominal_seconds": 12.0})
    other = make("lr_too_low", "slow")
    findings = [other, note]
    before = copy.deepcopy(findings)
    budget = _budget()
    budget.leave_out(["the probe", "the probe", "the experiment: the arm 'lr x10'"])
    out = note_unpaid(findings, budget)
    assert findings == before
    assert out[0] is other and len(out) == 2
    assert out[1].message == ("the pre-flight left out the gradient check; the budget of 60 nominal seconds left out "
                              f"{said_by_part(['the probe', 'the experiment: the arm ' + repr('lr x10')])}")
    assert out[1].evidence == {"skipped": ["gradcheck", "the probe", "the experiment: the arm 'lr x10'"],
                               "nominal_seconds": 12.0, "budget_s": 60.0}
    added = note_unpaid([other], budget)
    assert [f.code for f in added] == ["lr_too_low", "check_skipped"]
    assert added[1].evidence == {"skipped": ["the probe", "the experiment: the arm 'lr x10'"], "budget_s": 60.0,
                                 "nominal_seconds": budget.spent}
    assert note_unpaid(findings, _budget()) == findings
