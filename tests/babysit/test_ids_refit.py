"""An embedding whose ids are made from a column in the units the model's code expects, given
standardized rows by the run's own ``preprocess``: every row reads one id (constant_ids.py). The
repairer finds the step whose removal makes the ids vary (preprocess_refit.choose_for_ids) and
refits the preprocess without it before the first step (plans.plan_uninformative_inputs)."""
import torch
from torch import nn

import trainwell
from trainwell.babysit import preprocess_refit
from trainwell.babysit.findings import make
from trainwell.data.splits import Splits

FAST = {"progress": False, "report": False, "epochs": 12, "device": "cpu", "optimizer": "adam", "lr": 3e-3,
        "batch_size": 64}
EDGES = (30.0, 45.0, 60.0)     # the bands, in years


class BandNet(nn.Module):
    """Column 0 (an age in years) bucketized into bands and embedded, the other columns linear."""

    def __init__(self, others: int, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.register_buffer("edges", torch.tensor(EDGES))
        self.band = nn.Embedding(len(EDGES) + 1, 8)
        self.rest = nn.Linear(others, 8)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(8, 3))

    def forward(self, x):
        return self.head(self.band(torch.bucketize(x[:, 0].contiguous(), self.edges)) + self.rest(x[:, 1:]))


def _splits(n=2400, seed=3):
    g = torch.Generator().manual_seed(seed)
    age = 18 + 62 * torch.rand(n, generator=g)
    other = torch.randn(n, 3, generator=g)
    y = (age >= 40).long() + (age >= 58).long()                 # the class is the age band
    X = torch.cat([age[:, None], other], 1)
    a, b = int(0.6 * n), int(0.8 * n)
    return Splits(train=(X[:a], y[:a]), val=(X[a:b], y[a:b]), test=(X[b:], y[b:]), num_classes=3)


def test_a_standardize_before_a_bucketize_in_years_is_refitted_away():
    data = _splits()
    healthy = trainwell.fit(BandNet(3), data, babysit="off", **FAST)
    broken = trainwell.fit(BandNet(3), data, preprocess=["standardize"], babysit="off", **FAST)
    assert broken.results["test"]["acc"] < healthy.results["test"]["acc"] - 0.1
    fixed = trainwell.fit(BandNet(3), data, preprocess=["standardize"], babysit="repair", **FAST)
    assert [(r["step"], r["code"], r["action"]) for r in fixed.repairs][:1] == \
        [(0, "uninformative_inputs", "refit_preprocess")], fixed.repairs
    assert fixed.results["test"]["acc"] >= healthy.results["test"]["acc"] - 0.02


def test_no_refit_without_a_preprocess_that_causes_it():
    """Without a configured preprocess there is nothing to refit: ``why`` says so; the healthy run
    (the age in years) has no finding to refit and no repair."""
    data = _splits()
    run = trainwell.fit(BandNet(3), data, babysit="repair", **FAST)
    assert "refit_preprocess" not in [r["action"] for r in run.repairs]
    f = make("uninformative_inputs", "one id", evidence={"embedding": "band"}, where="band")

    class Controls:
        configured_preprocess, raw_train, preprocess_refitted = None, None, False

    assert "steps" not in preprocess_refit.choose_for_ids(f, Controls())


def test_ids_one_value_for_the_model_s_own_reason_are_not_refitted(monkeypatch):
    """Edges in decades (3, 4, 5) for an age in years: every raw age is past the last edge and every
    standardized one before the first (the model's fault, not the preprocess's): the ids are one
    value with and without the standardize, so no step is dropped; the finding says why."""
    monkeypatch.setattr(__import__(__name__), "EDGES", (3.0, 4.0, 5.0))
    data = _splits()
    run = trainwell.fit(BandNet(3), data, preprocess=["standardize"], babysit="repair", **FAST)
    assert "refit_preprocess" not in [r["action"] for r in run.repairs]
    found = [f for f in run.findings.findings if f.code == "uninformative_inputs" and f.evidence.get("embedding")]
    assert found and all("steps" not in f.evidence["refit"] and "why" in f.evidence["refit"] for f in found)
