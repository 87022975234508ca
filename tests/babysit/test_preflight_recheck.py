"""The repairer's pre-flight re-check before the first step (repair.Repairer._preflight): after a
repair of what the cheap checks read (the model, the data) they run again; after a change of the
optimizer's settings alone, or after shuffling is turned on (``Action.rechecked`` False), they are
not run again, and the run is exactly the run that re-checked."""
import dataclasses

import pytest
import torch
from torch import nn

import trainwell
from trainwell.babysit import repair
from trainwell.babysit.actions import ACTIONS
from test_repair import data  # noqa: F401  (the digits fixture, shared)

FAST = {"progress": False, "report": False, "epochs": 6, "device": "cpu"}
LONG = {**FAST, "epochs": 15, "batch_size": 16}     # ~1000 steps: the settings test's arms get 50 steps


def mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


@pytest.fixture
def calls(monkeypatch):
    """How many times the repairer ran the cheap pre-flight checks."""
    counted = []
    real = repair.preflight

    def counting(*args, **kwargs):
        counted.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(repair, "preflight", counting)
    return counted


def _record(run):
    return ([(r["step"], r["code"], r["action"], r["after"]) for r in run.repairs],
            [(h.get("train_loss"), h.get("val_loss")) for h in run.history], (run.results.get("test") or {}).get("acc"))


def test_a_clip_reset_at_step_0_is_not_rechecked_and_the_run_is_the_rechecked_one(data, calls, monkeypatch):
    """A clip norm of 1e-4 reset by the settings test at step 0 (``set_clip``: the optimizer's
    setting alone): the pre-flight checks run once; with the action marked as re-checked they run
    twice, find nothing new, and every number of the run is the same."""
    opts = {"clip_norm": 1e-4, "optimizer": "sgd", "momentum": 0.9, "lr": 0.05, **LONG}
    once = trainwell.fit(mlp(), data, babysit="repair", **opts)
    assert [(r["step"], r["action"]) for r in once.repairs][:1] == [(0, "set_clip")], once.repairs
    assert len(calls) == 1
    calls.clear()
    monkeypatch.setitem(ACTIONS, "set_clip", dataclasses.replace(ACTIONS["set_clip"], rechecked=True))
    twice = trainwell.fit(mlp(), data, babysit="repair", **opts)
    assert len(calls) == 2
    assert _record(once) == _record(twice)


def test_a_reinitialized_model_is_rechecked(data, calls):
    """Zero weights re-initialized at step 0 (``reinit`` changes what the checks read): they run again."""
    model = mlp()
    for p in model.parameters():
        nn.init.zeros_(p)
    run = trainwell.fit(model, data, babysit="repair", **FAST)
    assert (run.repairs[0]["step"], run.repairs[0]["action"]) == (0, "reinit"), run.repairs
    assert len(calls) >= 2


def test_only_changes_of_the_optimizer_lr_clipping_or_schedule_skip_the_recheck():
    """The actions not re-checked, by name (the pre-flight reads the training rows as stored, not the
    augmentation applied to batches): a new action is re-checked unless it says otherwise."""
    skipped = {name for name, action in ACTIONS.items() if not action.rechecked}
    assert skipped == {"lower_lr", "raise_lr", "clip", "set_weight_decay", "reset_optimizer_options", "set_clip",
                       "stretch_schedule", "replace_schedule", "set_plateau_mode", "set_warmup", "undo_lr_change",
                       "shuffle", "drop_augmentation", "set_regularization", "set_batch_size", "drop_last_batch"}
    for name in ("reinit", "swap_activations", "standardize", "impute", "lower_dropout",
                 "more_regularization", "refit_preprocess", "remove_output_activation"):
        assert ACTIONS[name].rechecked, name


def test_sorted_labels_shuffled_at_step_0_are_not_rechecked_and_the_run_is_the_rechecked_one(calls, monkeypatch):
    """Training rows sorted by label with shuffling off (``shuffle`` at step 0: only the data-order
    check reads it, and it finds nothing on a shuffled run): the checks run once, and the run
    equals the one that re-checked."""
    from babysit_loop import digits
    X, y, Xv, yv = digits()
    order = torch.argsort(y, stable=True)
    opts = {**FAST, "shuffle": False}
    once = trainwell.fit(mlp(), (X[order], y[order]), (Xv, yv), babysit="repair", **opts)
    assert [(r["step"], r["action"]) for r in once.repairs][:1] == [(0, "shuffle")], once.repairs
    assert len(calls) == 1
    calls.clear()
    monkeypatch.setitem(ACTIONS, "shuffle", dataclasses.replace(ACTIONS["shuffle"], rechecked=True))
    twice = trainwell.fit(mlp(), (X[order], y[order]), (Xv, yv), babysit="repair", **opts)
    assert len(calls) == 2
    assert _record(once) == _record(twice)
