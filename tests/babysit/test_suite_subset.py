"""A fast subset of bench/babysit_suite.py: detection on broken setups, no false alarm on their
healthy twins, and a repair that ends within 2 points of its twin (issue 4's goals)."""
import importlib.util
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "babysit_suite", Path(__file__).resolve().parents[2] / "bench" / "babysit_suite.py")
suite = importlib.util.module_from_spec(_SPEC)
sys.modules["babysit_suite"] = suite          # dataclasses look the module up by name
_SPEC.loader.exec_module(suite)

CASES = {c.name: c for c in suite.CASES}
DETECT = ["softmax_before_ce/digits", "zero_init/spirals", "labels_off_by_one/teacher", "lr_10/digits",
          "tiny_lr/digits"]


def test_the_suite_is_large_and_covers_every_code():
    from trainwell.babysit.findings import CODES

    assert len(suite.CASES) >= 40
    assert {c.expected for c in suite.CASES} == set(CODES)
    assert len({c.name for c in suite.CASES}) == len(suite.CASES)


@pytest.mark.parametrize("name", DETECT)
def test_detects_the_fault_and_not_on_the_twin(name):
    case = CASES[name]
    broken = suite.detect(case, True)
    assert broken["found"], broken["codes"]
    assert broken["top1"] == case.expected, broken["codes"]
    twin = suite.detect(case, False)
    assert twin["alarms"] == []
    if case.phase == "training":
        assert broken["epoch"] is not None and broken["epoch"] <= 1     # within the first epoch


def test_repair_ends_within_two_points_of_the_twin():
    # a pre-flight repair: deterministic (in-training repairs depend on when the monitor samples,
    # which it calibrates from wall time), so one run of each: the bench's 3 repeats only time it
    case = CASES["softmax_before_ce/digits"]
    twin = suite.train(case, False, "watch", repeats=1)
    repaired = suite.train(case, True, "repair", repeats=1)
    assert repaired["repairs"] == ["loss_output_mismatch->remove_output_activation"]
    assert repaired["acc"] >= twin["acc"] - 0.02
