"""bench/babysit_user.py's scoring computes what it says: issue 11's kill rule, the within-2-points
rule, R^2 and accuracy from a run's raw outputs, and a report that scores a harmless fault as
harmless (hand-made rows, no training)."""
import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from sklearn.metrics import r2_score

_BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(_BENCH))
_SPEC = importlib.util.spec_from_file_location("babysit_user", _BENCH / "babysit_user.py")
user = importlib.util.module_from_spec(_SPEC)
sys.modules["babysit_user"] = user
_SPEC.loader.exec_module(user)


def test_kill_rule_on_accuracy_is_three_points_of_the_seed_mean():
    assert user.killed([0.95, 0.97], [0.93, 0.93], regression=False)          # 96 -> 93: exactly 3 points
    assert not user.killed([0.95, 0.97], [0.94, 0.93], regression=False)      # 96 -> 93.5
    assert user.killed([0.90], [0.30], regression=False)
    assert not user.killed([0.90], [0.91], regression=False)                  # better is not broken


def test_kill_rule_on_regression_is_a_quarter_more_unexplained_variance():
    # R^2 0.8 -> 1 - R^2 = 0.2; broken when 1 - R^2 >= 0.25, i.e. R^2 <= 0.75
    assert user.killed([0.8, 0.8], [0.75, 0.75], regression=True)
    assert not user.killed([0.8, 0.8], [0.76, 0.76], regression=True)
    assert user.killed([0.8], [-3.0], regression=True)


def test_kill_rule_counts_a_failed_broken_run_and_refuses_a_failed_healthy_one():
    assert user.killed([0.9, 0.9], [0.9, None], regression=False)
    with pytest.raises(ValueError, match="healthy"):
        user.killed([None], [0.5], regression=False)


def test_within_two_points():
    assert user.within(0.95, 0.97)            # exactly 2 points behind
    assert not user.within(0.949, 0.97)
    assert user.within(0.99, 0.97)
    assert not user.within(None, 0.97) and not user.within(0.97, None)


def _fake_run(outputs):
    return SimpleNamespace(predict=lambda X, output="raw": outputs)


def test_scores_from_raw_outputs_r2_and_accuracy():
    g = torch.Generator().manual_seed(0)
    y = torch.randn(50, generator=g)
    pred = y + 0.3 * torch.randn(50, generator=g)
    r2 = user._score(_fake_run(pred[:, None]), (None, y), regression=True)
    assert r2 == pytest.approx(r2_score(y.numpy(), pred.numpy()), rel=1e-6)
    logits = torch.tensor([[2.0, 0.0, 1.0], [0.0, 3.0, 1.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    assert user._score(_fake_run(logits), (None, torch.tensor([0, 1, 2, 2])), regression=False) == 0.75
    # one output on class ids (a regression head): rounded to the nearest id
    ids = torch.tensor([0.2, 1.6, 2.4, 2.6])
    assert user._score(_fake_run(ids), (None, torch.tensor([0, 2, 2, 1])), regression=False) == 0.75   # 0 2 2 3
    assert user._score(_fake_run(torch.full((4, 3), float("nan"))), (None, torch.zeros(4).long()),
                       regression=False) is None


def _row(pair, broken, alarms, *, killed=None, found=None, top1_ok=None):
    row = {"pair": pair, "broken": broken, "alarms": alarms, "top1": alarms[0] if alarms else None,
           "seconds": 1.0, "error": None, "found": found, "top1_ok": top1_ok, "repairable": None}
    if broken:
        row["killed"] = killed
    return row


def test_report_scores_a_harmless_fault_as_harmless():
    rows = [_row("a", False, []), _row("a", True, ["lr_too_high"], killed=True, found=True, top1_ok=True),
            _row("b", False, []), _row("b", True, ["unnormalized_inputs"], killed=False, found=True, top1_ok=True),
            _row("c", False, ["dead_units"]), _row("c", True, [], killed=True, found=False, top1_ok=False)]
    text = user.report(rows)
    assert "detection recall: 50.0 % (1 / 2)" in text                     # b's fault does not hurt
    assert "false alarms on healthy and harmless setups: 50.0 % (2 / 4)" in text   # c's twin, b's harmless fault
    assert "every injected fault counted broken: recall 66.7 % (2 / 3)" in text


def test_a_healthy_run_that_raises_under_repair_loses_its_whole_score():
    assert user.harm({"test": 0.9}, {"test": 0.85}) == pytest.approx(0.05)
    assert user.harm({"test": 0.9}, {"test": None, "stopped": "raised"}) == pytest.approx(0.9)
    assert user.harm({"test": None}, {"test": 0.5}) is None


def test_a_healthy_run_exactly_half_a_point_lower_is_within_the_harm_bound():
    rows = [_row("a", False, []), _row("a", True, [], killed=False, found=False, top1_ok=False)]
    rows[0]["harm"] = [user.harm({"test": 0.9}, {"test": 0.895})]      # 0.005000000000000004 in floats
    rows[0]["repair"] = []
    assert ", runs over 0.5: 0" in user.report(rows)
    rows[0]["harm"] = [user.harm({"test": 0.9}, {"test": 0.894})]
    assert ", runs over 0.5: 1" in user.report(rows)


def test_an_alarm_that_the_setups_own_repair_lifts_by_the_kill_rule_is_shown_apart_and_still_counted():
    runs = lambda *tests: [{"test": t} for t in tests]                           # noqa: E731
    lifted = _row("a", False, ["lr_too_low"])
    lifted.update(off=runs(0.65, 0.65), repair=runs(0.75, 0.83), regression=False)        # +14 points
    slight = _row("b", False, ["lr_too_low"])
    slight.update(off=runs(0.80, 0.80), repair=runs(0.81, 0.82), regression=False)        # +1.5: not lifted
    assert user.lifted(lifted) and not user.lifted(slight)
    text = user.report([lifted, slight, _row("c", False, [])])
    assert "false alarms on healthy and harmless setups: 66.7 % (2 / 3)" in text          # still counted
    assert "of which 1 on setups that babysit=\"repair\" then lifted by the kill rule" in text
    assert "false alarms without them: 50.0 % (1 / 2)" in text
    regression = _row("d", False, ["lr_too_low"])
    regression.update(off=runs(0.01, 0.01), repair=runs(0.91, 0.91), regression=True)
    failed = _row("e", False, ["lr_too_low"])
    failed.update(off=runs(0.5), repair=[{"test": None}], regression=False)   # a run that raised lifts nothing
    assert user.lifted(regression) and not user.lifted(failed)


def test_a_config_refusal_is_scored_apart_from_the_findings_in_recall_false_alarms_and_repairs():
    refusal = "ConfigError: schedule.factor = 0.1: must be a number >= 1"
    refused = _row("a", True, [], killed=True, found=False, top1_ok=False)
    refused.update(error=refusal, repairable="lr schedule", within=[False],
                   repair=[{"test": None, "stopped": "raised", "error": refusal, "repairs": []}], cost_s=[0.0], cost_steps=[0.0])
    crashed = _row("b", True, [], killed=True, found=False, top1_ok=False)
    crashed["error"] = "RuntimeError: shapes cannot be multiplied"          # a crash is not a refusal
    fixed = _row("c", True, ["lr_too_high"], killed=True, found=True, top1_ok=True)
    fixed.update(repairable="lr", within=[True], repair=[{"test": 0.9, "repairs": [], "stopped": None}], cost_s=[1.2],
                 cost_steps=[1.1], cost_cpu=[1.3])
    healthy = _row("d", False, [])
    healthy["error"] = "ConfigError: lr = -1: must be > 0"                   # a refused healthy setup alarms
    other = _row("e", True, ["overfitting"], killed=True, found=False, top1_ok=False)   # not in its table
    text = user.report([refused, crashed, fixed, healthy, other])
    assert "detection recall: 25.0 % (1 / 4)" in text                        # the headline counts findings
    assert "any warning or error on them (its code not checked against the pair's table, which predates " \
           "codes added since): 50.0 % (2 / 4)" in text
    assert ("counting a ConfigError refusal as an alarm (1 broken, 1 healthy or harmless refused): "
            "detection recall 50.0 % (2 / 4), false alarms 100.0 % (1 / 1)") in text
    assert ("seed runs): 100.0 % (1 / 1); 1 runs refused by validation with a clear error (a ConfigError "
            "naming the setting, before the first step: not counted)") in text     # out of the denominator
    assert "... counting each refused run as a failed repair: 50.0 % (1 / 2) of runs" in text
    assert "in CPU seconds of the process (load-free): 1.30x" in text      # rows without cpu_s are left out
    assert user.refused(refused) and not user.refused(crashed) and not user.refused(fixed)
