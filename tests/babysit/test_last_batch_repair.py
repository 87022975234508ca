"""A forward that raises on each epoch's last, incomplete batch alone (batch norm in training mode on one
row: "Expected more than 1 value per channel when training", pytorch/pytorch#4534) is found by the
repairer's pre-flight and repaired before the first step by dropping that batch (``drop_last_batch``):
the run trains every epoch. A raise on a full batch too, or on the user's own loader, is not repaired."""
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.babysit import model_checks as mc
from trainwell.babysit.actions import Plan
from trainwell.babysit.plans import plan_model_raises

ROWS, BATCH, EPOCHS = 97, 32, 3       # 3 full batches and a last one of a single row


def _rows(n=ROWS):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 5, generator=g)
    return x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long()


def _bn_mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))


def _fit(model, rows, **extra):
    options = dict(epochs=EPOCHS, batch_size=BATCH, lr=1e-2, optimizer="adam", seed=0, progress=False,
                   report=False, run_dir=None, babysit="repair")
    options.update(extra)
    return trainwell.fit(model, rows, **options)


def test_off_the_run_raises_at_the_end_of_its_first_epoch():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        _fit(_bn_mlp(), _rows(), babysit="off")


def test_the_repairer_drops_the_last_batch_before_the_first_step_and_the_run_trains_every_epoch():
    run = _fit(_bn_mlp(), _rows())
    assert [(r["step"], r["code"], r["action"]) for r in run.repairs] == [(0, "model_raises", "drop_last_batch")]
    assert "1 of 97 training rows at batch size 32" in run.repairs[0]["reason"]
    assert run.repairs[0]["detail"] == f"drop_last false -> true: 3 steps an epoch ({3 * EPOCHS} in the run)"
    assert run.results["steps"] == 3 * EPOCHS and run.results["epochs"] == EPOCHS


def test_a_last_batch_that_runs_is_not_touched():
    run = _fit(_bn_mlp(), _rows(98))            # a last batch of 2 rows: batch norm runs on it
    assert run.repairs == [] and run.results["steps"] == 4 * EPOCHS


class FixedRows(nn.Module):
    """A forward with the batch size written in (``view(32, ...)``): it runs on 32 rows alone."""

    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(5, 3)

    def forward(self, x):
        return self.layer(x.view(32, -1))


def test_a_forward_that_fails_on_full_batches_too_is_not_repaired_by_dropping_one():
    x, y = _rows(40)
    found = mc.check_last_batch(FixedRows(), x, y, F.cross_entropy, rows=40, batch_size=16)
    assert found and found[0].evidence["full_batch_runs"] is False
    assert "not repairable" in plan_model_raises(found[0], None)


def test_the_plan_needs_batches_fit_built():
    x, y = _rows()
    found = mc.check_last_batch(_bn_mlp(), x, y, F.cross_entropy, rows=ROWS, batch_size=BATCH)
    assert found[0].evidence["full_batch_runs"] is True
    ours = SimpleNamespace(controls=SimpleNamespace(batch_size_fixed=lambda: None))
    theirs = SimpleNamespace(controls=SimpleNamespace(batch_size_fixed=lambda: "the user's own loader"))
    plan = plan_model_raises(found[0], ours)
    assert isinstance(plan, Plan) and plan.action.name == "drop_last_batch"
    assert "the user's own loader" in plan_model_raises(found[0], theirs)
