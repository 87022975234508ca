"""A heavy tail that sets a column's scale (babysit/heavy_tails.py): found where the targets read the
rows the scaling squeezes, quiet where the tail or nothing carries them, on sparse and flag columns,
and on the same column logged; its plan, its grading arm and its place in the ranking."""
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from trainwell.babysit import heavy_tails as ht
from trainwell.babysit.actions import ACTIONS
from trainwell.babysit.data_checks import check_inputs_normalized
from trainwell.babysit.findings import Diagnosis, make
from trainwell.babysit.plans import plan_unnormalized
from trainwell.data.transforms import fit_preprocess

N = 2000
BANDS = (4.0, 7.0, 10.0)          # three classes by the log amount's nearest band


def _standardized(x):
    return (x - x.mean(0)) / x.std(0)


def claims(seed=0, *, log=False, sigma=3.0):
    """An amount log-normal in ``sigma`` log units and 3 normal columns; the class is the log amount's
    nearest band (the targets read the amount's order), the amount standardized as it is or logged."""
    g = np.random.default_rng(seed)
    la = 7.0 + sigma * g.normal(size=N)
    y = np.abs(la[:, None] - np.asarray(BANDS)[None]).argmin(1)
    X = np.column_stack([la if log else np.exp(la), g.normal(size=(N, 3))])
    return _standardized(torch.tensor(X, dtype=torch.float64)).float(), torch.tensor(y)


def test_an_amount_standardized_raw_is_named_with_what_it_explains_and_its_log_is_quiet():
    X, y = claims()
    (f,) = check_inputs_normalized(X, y)
    assert f.code == "unnormalized_inputs" and f.evidence["heavy_tailed"] == [0]
    assert f.evidence["bulk_spread"][0] < ht.SQUASHED and f.evidence["bulk_p"][0] < 1e-10
    assert f.evidence["explains"] == ["uninformative_inputs", "label_problem"] and "quantile" in f.fix
    assert check_inputs_normalized(X) == []                         # without the targets: not measured
    assert check_inputs_normalized(*claims(log=True)) == []


def test_a_regression_target_that_reads_the_amount_finds_it_too():
    X, y = claims()
    la = torch.log(X[:, 0] - X[:, 0].min() + 1e-3)
    target = la + 0.1 * torch.randn(N, generator=torch.Generator().manual_seed(0))
    assert ht.heavy_tailed_columns(X, target).keys() == {0}


def test_tails_the_targets_do_not_read_in_the_bulk_are_quiet():
    g = np.random.default_rng(1)
    y = g.integers(0, 3, N)
    ink = g.random(N) < 0.02 * (1 + y)                              # the class shows in the tail alone
    pixel = np.where(ink, 1.0, 0.5 + 0.005 * g.normal(size=N))
    noise_tail = np.exp(3.0 * g.normal(size=N))                     # a heavy tail unrelated to the classes
    sparse = np.where(g.random(N) < 0.85, 0.0, g.poisson(3.0 + y, N))   # its middle rows at few values
    X = _standardized(torch.tensor(np.column_stack([pixel, noise_tail, sparse, y + g.normal(size=N)])))
    assert {0, 1} <= ht.squashed_columns(X.float()).keys() and 2 not in ht.squashed_columns(X.float())
    assert ht.heavy_tailed_columns(X.float(), torch.tensor(y)) == {}
    assert check_inputs_normalized(X.float(), torch.tensor(y)) == []


def test_the_plan_maps_the_named_columns_and_the_mapped_table_is_quiet():
    X, y = claims()
    (f,) = check_inputs_normalized(X, y)
    ctx = SimpleNamespace(controls=SimpleNamespace(preprocess=[]))
    plan = plan_unnormalized(f, ctx)
    assert plan.action.name == "quantile" and plan.options == {"columns": [0]}
    specs = ACTIONS["quantile"].preprocess(plan.options)
    assert specs == [{"name": "quantile", "columns": [0]}, {"name": "standardize"}]
    assert check_inputs_normalized(fit_preprocess(specs, X)(X), y) == []
    done = SimpleNamespace(controls=SimpleNamespace(preprocess=specs))
    assert "already" in plan_unnormalized(f, done)


def test_the_grading_arm_maps_the_heavy_tailed_columns_before_the_model_and_is_absent_without_them():
    X, y = claims()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    edit = ht.quantile_arm(model, X, y, nn.functional.cross_entropy)
    pre = fit_preprocess([{"name": "quantile", "columns": [0]}], X)
    expected = model(pre(X))
    edit(model, 0)
    assert torch.allclose(model(X), expected)
    assert ht.quantile_arm(model, *claims(log=True), nn.functional.cross_entropy) is None


def test_the_heavy_tail_ranks_before_what_it_explains_unless_its_grading_made_it_info():
    X, y = claims()
    (tail,) = check_inputs_normalized(X, y)
    reread = make("uninformative_inputs", "memorized rows do not carry over", severity="warning",
                  evidence={"reread_from": "label_problem"})
    assert Diagnosis([reread, tail]).primary.code == "unnormalized_inputs"
    tail.severity = "info"
    assert Diagnosis([reread, tail]).primary.code == "uninformative_inputs"


def test_fit_with_repair_maps_the_amount_and_predict_applies_it():
    import trainwell
    from trainwell.data.splits import Splits

    X, y = claims()
    parts = Splits(train=(X[:1200], y[:1200]), val=(X[1200:1600], y[1200:1600]), test=(X[1600:], y[1600:]),
                   num_classes=3, input_shape=(4,))
    opts = {"progress": False, "report": False, "epochs": 6, "device": "cpu", "optimizer": "adam", "lr": 1e-3,
            "batch_size": 32, "seed": 0}

    def net():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 3))
    run = trainwell.fit(net(), parts, babysit="repair", **opts)
    first = run.repairs[0]
    assert (first["step"], first["code"], first["action"]) == (0, "unnormalized_inputs", "quantile")
    assert first["after"]["preprocess"] == ["quantile", "standardize"]
    test_x, test_y = parts.test
    acc = (run.predict(test_x) == test_y).float().mean().item()      # predict: class ids, the map applied
    off = trainwell.fit(net(), parts, babysit="off", **opts)
    acc_off = (off.predict(test_x) == test_y).float().mean().item()
    assert acc >= acc_off + 0.1          # 0.75 against 0.37: the amount's order is read again
