"""batch_check: a run of a few full-batch updates is graded by the same rows seen in smaller batches;
runs with enough updates, small batches and full-batch optimizers (L-BFGS, Newton) are no candidates."""
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


def test_the_repair_raises_the_lr_by_the_confirmed_factor_or_names_a_new_run():
    f = make("too_few_updates", "8 updates", evidence={"lr_scale": 8.0, "small_batch": 150})
    plan = CODES["too_few_updates"].plan(f, None)
    assert plan.action is ACTIONS["raise_lr"] and plan.options == {"factor": 8.0, "momentum": False}
    assert plan.rollback is Rollback.START
    said = CODES["too_few_updates"].plan(make("too_few_updates", "8 updates", evidence={"small_batch": 150}), None)
    assert isinstance(said, str) and "batch_size = 150" in said
