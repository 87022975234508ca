"""Diagnosis by intervention: each candidate change trains a copy from the same weights on the same
batches; a change that lets a stuck setup learn names the cause, ranked by how much it helped."""
import math

import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import interventions as iv
from trainwell.babysit.findings import Diagnosis, make
from babysit_loop import digits

X, Y, _, _ = digits()


def mlp(dropout=0.0):
    torch.manual_seed(0)
    drop = [nn.Dropout(dropout)] if dropout else []
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), *drop, nn.Linear(128, 64), nn.ReLU(), *drop, nn.Linear(64, 10))


def run(model, **kw):
    kw.setdefault("optimizer", "sgd")
    kw.setdefault("options", {"momentum": 0.9})
    baseline, arms = iv.experiment(model, X, Y, F.cross_entropy, **kw)
    return baseline, arms, iv.findings(baseline, arms)


def test_a_healthy_setup_learns_and_no_cause_is_named():
    baseline, arms, found = run(mlp(), lr=0.05, weight_decay=5e-4)
    assert baseline.fall > 0.5 and found == []
    assert {a.name for a in arms} >= {"lr x0.1", "lr x10", "weight_decay / 100"}


def test_an_overwhelming_weight_decay_is_named_by_the_experiment():
    baseline, arms, found = run(mlp(), lr=0.05, weight_decay=1.0)
    less = next(a for a in arms if a.name == "weight_decay / 100")
    assert less.after * iv.HELP_RATIO <= baseline.after          # it learns, but a third as well
    f = found[0]
    assert f.code == "regularization_too_strong" and f.evidence["intervention"] == "weight_decay / 100"
    assert f.evidence["fall"] >= iv.HELPS and "weight_decay 0.01 instead of 1" in f.message


def test_dropout_near_one_and_a_huge_adam_eps_are_named():
    found = run(mlp(dropout=0.97), lr=0.05)[2]
    assert found and found[0].code == "regularization_too_strong" and "dropout off" in found[0].message
    found = run(mlp(), lr=1e-3, optimizer="adam", options={"eps": 1.0})[2]
    assert found[0].code == "optimizer_setting" and found[0].evidence["options"] == {"eps": 1.0}
    # the lr arms can compensate (lr x1000 ~ eps / sqrt(v)), but the setting the user moved ranks first
    assert Diagnosis(found).primary.code == "optimizer_setting"


def test_a_too_high_lr_is_found_by_lowering_it_and_the_model_is_untouched():
    model = mlp()
    before = [p.clone() for p in model.parameters()]
    baseline, arms, found = run(model, lr=3.0, options={"momentum": 0.0})
    assert found[0].code == "lr_too_high" and found[0].evidence["intervention"] in ("lr x0.1", "lr x0.01")
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert math.isfinite(baseline.before)


def test_confirmed_causes_rank_by_the_experiment_before_unconfirmed_warnings():
    plain = make("plateau", "flat")
    confirmed = make("optimizer_setting", "x", evidence={"cause": "eps 1e-8 instead of 1", "rank": 1})
    second = make("lr_too_high", "y", evidence={"cause": "lr 0.1 instead of 1", "rank": 2})
    assert [f.code for f in Diagnosis([plain, second, confirmed]).ranked()] == [
        "optimizer_setting", "lr_too_high", "plateau"]


def test_a_spent_budget_stops_the_experiment_and_names_nothing():
    baseline, arms = iv.experiment(mlp(), X, Y, F.cross_entropy, optimizer="sgd", lr=0.05, weight_decay=1.0,
                                   options={"momentum": 0.9}, budget_s=0.0)
    assert baseline.extra.get("timed_out") and baseline.steps < iv.STEPS and arms == []
    assert iv.findings(baseline, arms) == []
