"""uninformative_inputs: inputs cast to integers after min-max scaling fire; bags of words, one-hot
categories, images with constant borders and informative duplicates stay quiet; the fit ceiling
is checked against a brute-force count."""
import pytest
import torch
from sklearn.datasets import load_breast_cancer, load_digits
from torch import nn

import trainwell
from trainwell.babysit import input_content as ic
from trainwell.babysit.findings import Diagnosis, make
from trainwell.babysit.preflight import preflight
from trainwell.data.splits import Splits
from trainwell.train.state import StopKind


def codes(findings):
    return {f.code for f in findings if f.severity in ("error", "warning")}


@pytest.fixture(scope="module")
def tumor():
    X, y = load_breast_cancer(return_X_y=True)
    X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    return (X - X.min(0).values) / (X.max(0).values - X.min(0).values), y


def mlp(d_in, d_out):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(d_in, 32), nn.ReLU(), nn.Linear(32, d_out))


def test_inputs_cast_to_integers_after_min_max_scaling_fire_with_the_columns(tumor):
    scaled, y = tumor
    broken = scaled.long().float()                   # each feature 0 except its maximum row
    found = [f for f in preflight(mlp(30, 2), broken, y, cheap_only=True) if f.code == "uninformative_inputs"]
    assert len(found) == 1 and found[0].severity == "error"
    e = found[0].evidence
    assert e["near_constant_features"] == 30 and e["columns"] == list(range(10))
    assert e["informative_share"] < ic.INFORMATIVE_SHARE and e["distinct_rows"] < 40
    assert codes(preflight(mlp(30, 2), scaled, y, cheap_only=True)) == set()       # the float twin


def test_the_fit_ceiling_matches_a_brute_force_count():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 3, (300, 2), generator=g).float()
    y = torch.randint(0, 4, (300,), generator=g)
    bound = ic.fit_ceiling(x, y, class_ids=True)
    best = 0
    for row in torch.unique(x, dim=0):
        same = (x == row).all(dim=1)
        best += int(torch.bincount(y[same], minlength=4).max())
    assert bound["ceiling"] == pytest.approx(best / 300)
    assert bound["trivial"] == pytest.approx(int(torch.bincount(y).max()) / 300)
    t = torch.randn(300, generator=g, dtype=torch.float64)
    r2 = ic.fit_ceiling(x, t, class_ids=False)["ceiling"]
    means = {tuple(r.tolist()): float(t[(x == r).all(dim=1)].mean()) for r in torch.unique(x, dim=0)}
    fitted = torch.tensor([means[tuple(r.tolist())] for r in x], dtype=torch.float64)
    assert r2 == pytest.approx(1 - float(((t - fitted) ** 2).sum() / ((t - t.mean()) ** 2).sum()), rel=1e-6)


def test_near_constant_counts_a_value_filling_99_percent_of_the_rows():
    x = torch.zeros(200, 3)
    x[0, 0] = 1.0                                    # 199 of 200 rows share a value: near-constant
    x[:10, 1] = torch.arange(10.0) + 1               # 190 of 200: not
    assert ic.near_constant(x).tolist() == [True, False, True]


def test_sparse_healthy_inputs_stay_quiet():
    g = torch.Generator().manual_seed(0)
    counts = (torch.rand(1500, 500, generator=g) < 0.005).float() * torch.randint(1, 4, (1500, 500), generator=g)
    y = (counts[:, :250].sum(dim=1) > counts[:, 250:].sum(dim=1)).long()
    assert ic.check_inputs_informative(counts, y, class_ids=True) == []           # a bag of words
    X, yd = load_digits(return_X_y=True)
    digits = torch.tensor(X, dtype=torch.float32) / 16
    assert ic.check_inputs_informative(digits, torch.tensor(yd), class_ids=True) == []   # constant borders
    category = torch.randint(0, 200, (2000,), generator=g)
    onehot = torch.nn.functional.one_hot(category, 200).float()                   # 200 levels: 99.5% zeros each
    assert ic.check_inputs_informative(onehot, (category % 2), class_ids=True) == []


def test_a_regression_on_collapsed_inputs_fires_and_on_its_float_twin_does_not():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(800, 10, generator=g)
    t = x.sum(dim=1) + 0.1 * torch.randn(800, generator=g)
    collapsed = (x > 0.999).float()
    assert [f.code for f in ic.check_inputs_informative(collapsed, t, class_ids=False)] == ["uninformative_inputs"]
    assert ic.check_inputs_informative(x, t, class_ids=False) == []


def test_it_ranks_before_the_symptoms_it_explains():
    d = Diagnosis([make("vanishing_gradients", "tiny gradients"), make("unnormalized_inputs", "std 0.04"),
                   make("uninformative_inputs", "18 distinct rows")])
    assert d.primary.code == "uninformative_inputs"


def test_the_repairer_stops_rather_than_train_on_nothing(tumor):
    scaled, y = tumor
    broken = scaled.long().float()
    splits = Splits((broken[:400], y[:400]), val=(broken[400:], y[400:]), num_classes=2, input_shape=(30,))
    run = trainwell.fit(mlp(30, 2), splits, babysit="repair", progress=False, report=False, epochs=2, device="cpu")
    assert run.stopped.kind == StopKind.UNREPAIRABLE, run.stopped
    assert "uninformative_inputs" in run.stopped.message
