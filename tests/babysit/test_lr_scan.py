"""bench/babysit_lr_scan.py reads an lr_too_low alarm as true exactly where a raised lr's runs beat the
own lr's by issue 11's kill rule (hand-made scores and rows, no training)."""
import json
import sys
from pathlib import Path

import pytest

_BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(_BENCH))
import babysit_lr_scan as scan  # noqa: E402


def test_a_run_three_points_behind_a_raised_lr_is_slow_at_its_lr():
    assert scan.slow_at_its_lr([0.80, 0.82], {3.0: [0.83, 0.85], 10.0: [0.70, 0.70]}, regression=False) == 3.0


def test_a_run_at_its_ceiling_is_a_false_alarm_however_the_raised_lrs_end():
    assert scan.slow_at_its_lr([0.97, 0.97], {3.0: [0.98, 0.98], 10.0: [0.30, None]}, regression=False) is None


def test_the_best_raised_lr_names_the_factor_and_a_failed_one_never_does():
    own = [0.50, 0.50]
    assert scan.slow_at_its_lr(own, {3.0: [0.60, 0.60], 10.0: [0.90, 0.90]}, regression=False) == 10.0
    assert scan.slow_at_its_lr(own, {3.0: [0.60, 0.60], 10.0: [0.99, None]}, regression=False) == 3.0


def test_regression_reads_the_unexplained_variance_and_a_failed_own_run_has_no_reference():
    # R^2 0.80 -> 0.20 unexplained; 0.85 -> 0.15: 1.33x, beyond the rule's 1.25x
    assert scan.slow_at_its_lr([0.80], {3.0: [0.85], 10.0: [0.81]}, regression=True) == 3.0
    assert scan.slow_at_its_lr([0.80], {3.0: [0.82], 10.0: [0.81]}, regression=True) is None
    assert scan.slow_at_its_lr([None], {3.0: [0.9], 10.0: [0.9]}, regression=False) is None


def test_the_alarmed_sides_are_the_rows_with_the_code_among_their_alarms(tmp_path):
    rows = [{"pair": "p", "broken": False, "alarms": ["lr_too_low"]},
            {"pair": "p", "broken": True, "alarms": ["pooled_units", "lr_too_low"]},
            {"pair": "q", "broken": False, "alarms": ["lr_too_high"]}]
    (tmp_path / "u8_a.json").write_text(json.dumps(rows))
    assert scan.alarmed_sides(tmp_path, [8, 9]) == [(8, "p", False), (8, "p", True)]


def test_a_side_is_scaled_from_its_own_lr_or_the_default():
    def make(broken):
        return None, None, {"lr": 2e-3} if broken else {}, frozenset()
    assert scan.at_lr(make, 3.0)(True)[2]["lr"] == pytest.approx(6e-3)
    assert scan.at_lr(make, 3.0)(False)[2]["lr"] == pytest.approx(3 * scan.Config().lr)
