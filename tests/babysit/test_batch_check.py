"""batch_check: a run of a few full-batch updates is graded by the same rows seen in smaller batches;
runs with enough updates, small batches and full-batch optimizers (L-BFGS, Newton) are no candidates."""
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from trainwell.babysit import batch_check
from trainwell.babysit.actions import ACTIONS, Rollback
from trainwell.babysit.findings import make
from trainwell.babysit.registry import CODES
from trainwell.nn.losses import make_loss


@pytest.mark.parametrize("steps, batch, rows, optimizer, expected", [
    (8, 1200, 1200, "sgd", True), (8, 2048, 1400, "adam", True), (99, 128, 500, "adamw", True),
    (980, 512, 50000, "sgd", False),        # batch 512 on 50k rows, 10 epochs
    (36, 64, 1097, "sgd", False),           # 2 epochs of 18 steps: a short run, not a large batch
    (100, 1200, 1200, "sgd", False),        # as many updates as an arm of the experiment trains
    (8, 32, 32, "sgd", False),              # a small batch: 8 updates is a short run of a tiny set
    (8, 1200, 1200, "lbfgs", False), (8, 1200, 1200, "newton", False), (8, 1200, 1200, "bfgs", False),
])
def test_candidates(steps, batch, rows, optimizer, expected):
    assert batch_check.candidate(total_steps=steps, batch_size=batch, rows=rows, optimizer=optimizer) is expected


def test_eight_full_batch_updates_are_found_and_the_scaled_lr_confirmed(four_class, four_class_mlp):
    X, y = four_class
    found = batch_check.check_batch(four_class_mlp(), X, y, make_loss("cross_entropy"), total_steps=8,
                                    optimizer="adam", lr=1e-3, batch_size=len(X))
    assert [(f.code, f.severity) for f in found] == [("too_few_updates", "warning")]
    f = found[0]
    assert f.message.startswith("8 updates in the whole run (batches of 1200 rows of 1200)")
    assert f.evidence["small_batch"] == 150 and f.evidence["lr_scale"] == batch_check.SPLIT
    assert f.evidence["fix_loss"] < f.evidence["setup_loss"]


def test_a_few_updates_that_cost_nothing_are_only_info(blobs):
    """Three well-separated blobs: ten full-batch steps at lr 0.5 already classify every held row."""
    X, y = blobs
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    found = batch_check.check_batch(net, X, y, make_loss("cross_entropy"), total_steps=10, optimizer="sgd",
                                    lr=0.5, batch_size=300)
    assert [(f.code, f.severity) for f in found] == [("too_few_updates", "info")]
    assert "smaller batches train no better" in found[0].message


class _Ctx:
    """A planner's context whose controls can (``fixed`` None) or cannot change the batch size."""

    def __init__(self, fixed=None):
        self.controls = SimpleNamespace(batch_size_fixed=lambda: fixed)


def test_the_repair_cuts_the_batch_when_the_smaller_batches_ended_lowest():
    f = make("too_few_updates", "8 updates", evidence={"hurts": True, "small_batch": 150, "fix_loss": 0.6,
                                                        "lr_scale": 8.0, "scaled_loss": 0.8})
    plan = CODES["too_few_updates"].plan(f, _Ctx())
    assert plan.action is ACTIONS["set_batch_size"] and plan.options == {"batch_size": 150}
    assert plan.rollback is Rollback.START
    no_raise = make("too_few_updates", "8 updates", evidence={"hurts": True, "small_batch": 150, "fix_loss": 0.6,
                                                               "scaled_loss": 1e5})
    assert CODES["too_few_updates"].plan(no_raise, _Ctx()).action is ACTIONS["set_batch_size"]


def test_the_repair_raises_the_lr_where_that_ended_lower_or_the_batch_cannot_change():
    lower = make("too_few_updates", "8 updates", evidence={"hurts": True, "small_batch": 150, "fix_loss": 0.9,
                                                            "lr_scale": 8.0, "scaled_loss": 0.8})
    plan = CODES["too_few_updates"].plan(lower, _Ctx())
    assert plan.action is ACTIONS["raise_lr"] and plan.options == {"factor": 8.0, "momentum": False}
    assert plan.rollback is Rollback.START
    cut = make("too_few_updates", "8 updates", evidence={"hurts": True, "small_batch": 150, "fix_loss": 0.6,
                                                          "lr_scale": 8.0, "scaled_loss": 0.8})
    assert CODES["too_few_updates"].plan(cut, _Ctx("the user's own loader")).action is ACTIONS["raise_lr"]
    said = CODES["too_few_updates"].plan(make("too_few_updates", "8 updates",
                                              evidence={"hurts": True, "small_batch": 150}), _Ctx("a loader"))
    assert isinstance(said, str) and "batch_size = 150" in said and "a loader" in said


def test_a_full_batch_run_is_repaired_by_smaller_batches_and_ends_better(four_class, four_class_mlp):
    """Eight full-batch SGD steps at lr 0.3: batches of 120 at that lr train better, lr x 8 (2.4)
    diverges, so no lr raise was measured and, before set_batch_size, nothing was repaired."""
    import trainwell
    X, y = four_class
    runs = {mode: trainwell.fit(four_class_mlp(), (X[:960], y[:960]), val=(X[960:], y[960:]), optimizer="sgd",
                                lr=0.3, batch_size=960, epochs=8, seed=0, progress=False, report=False,
                                babysit=mode, device="cpu") for mode in ("off", "repair")}
    repaired = runs["repair"]
    assert [(r["code"], r["action"]) for r in repaired.repairs] == [("too_few_updates", "set_batch_size")]
    assert repaired.repairs[0]["detail"] == "batch size 960 -> 120: 8 steps an epoch (64 in the run)"
    assert repaired.results["steps"] == 64 and runs["off"].results["steps"] == 8
    assert repaired.results["val"]["acc"] > runs["off"].results["val"]["acc"] + 0.1
