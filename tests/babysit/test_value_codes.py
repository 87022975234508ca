"""Missing-value codes and wrapped integers (babysit/value_codes.py): found where they are, quiet on
healthy data with outliers, heavy tails, counts, flags, one-hot columns and saturated images."""
import numpy as np
import pytest
import torch
from torch import nn

from trainwell.babysit import value_codes as vc
from trainwell.babysit.plans import plan_unnormalized
from trainwell.babysit.preflight import preflight
from trainwell.data.transforms import fit_preprocess

N = 2000


def _gen(seed=0):
    return np.random.default_rng(seed)


def _table(*columns):
    return torch.tensor(np.column_stack(columns), dtype=torch.float32)


def _standardized(x):
    return (x - x.mean(0)) / x.std(0)


# ------------------------------------------------------------------------------ missing-value codes
def test_a_code_left_in_is_found_with_its_column_value_share_and_gap():
    g = _gen()
    height = g.gamma(2.0, 1.0, N) + 0.4
    coded = np.where(g.random(N) < 0.08, -999.0, height)
    x = _table(g.normal(size=N), coded, g.normal(5, 2, N))
    found = vc.find_codes(x.double())
    assert [c["column"] for c in found] == [1] and found[0]["value"] == -999.0
    assert found[0]["share"] == pytest.approx(float((coded == -999).mean()))
    # the gap in units of the bulk's width (0.1-99.9%): the code lies ~1000 below a bulk a few units wide
    rest = coded[coded != -999.0]
    lo, hi = np.quantile(rest, [0.001, 0.999])
    assert found[0]["gap"] == pytest.approx((lo + 999) / (hi - lo), rel=1e-3)
    # standardizing after the code (the set's fault) moves nothing: the measure is affine-invariant
    again = vc.find_codes(_standardized(x.double()))
    assert [c["column"] for c in again] == [1] and again[0]["gap"] == pytest.approx(found[0]["gap"], rel=1e-6)


@pytest.mark.parametrize("code, reading", [(9999.0, lambda g: g.uniform(0, 100, N)),
                                           (-1.0, lambda g: g.normal(60, 8, N)),          # ages
                                           (0.0, lambda g: g.normal(80, 10, N))])         # blood pressure 0
def test_the_common_codes_are_found(code, reading):
    g = _gen(1)
    v = np.where(g.random(N) < 0.05, code, reading(g))
    assert [c["value"] for c in vc.find_codes(_table(v).double())] == [code]


def test_two_codes_in_one_column_do_not_hide_each_other():
    g = _gen(2)
    u = g.random(N)
    v = np.where(u < 0.05, -999.0, np.where(u < 0.08, -998.0, g.normal(20, 3, N)))
    assert sorted(c["value"] for c in vc.find_codes(_table(v).double())) == [-999.0, -998.0]


def test_a_code_in_under_one_percent_is_not_a_code_and_one_in_most_rows_is_marked_majority():
    g = _gen(3)
    rare = np.where(np.arange(N) < int(0.005 * N), -999.0, g.normal(size=N))
    most = np.where(g.random(N) < 0.6, -999.0, g.normal(size=N))
    (found,) = vc.find_codes(_table(rare, most).double())
    assert found["column"] == 1 and found["value"] == -999.0 and found["majority"]
    assert found["share"] == pytest.approx(float((most == -999.0).mean()))
    # written at random, the other column says nothing of which rows hold it: no finding
    assert vc.check_value_codes(_table(rare, most)) == []


# ------------------------------------------------------------------------------ a code in most rows
def _listings(g, n=N):
    """Living areas (log-uniform 400-4000), rooms that follow them, an unrelated age; a price."""
    area = np.exp(g.uniform(np.log(400), np.log(4000), n)).round()
    rooms = np.clip(np.round(area / 500 + g.normal(0, 0.7, n)), 1, 10)
    age = g.uniform(0, 90, n)
    return area, rooms, age


def test_readings_past_a_cut_replaced_by_one_fill_are_uninformative_inputs():
    g = _gen(20)
    area, rooms, age = _listings(g)
    coerced = np.where(area >= 1000, 0.0, area)                 # "1,234" fails to parse, fillna(0)
    assert (coerced == 0).mean() > vc.MAX_SHARE
    for x in (_table(coerced, rooms, age), _standardized(_table(coerced, rooms, age).double()).float()):
        (f,) = vc.check_value_codes(x)
        assert f.code == "uninformative_inputs" and f.severity == "warning" and "sentinel" not in f.evidence
        (c,) = f.evidence["codes"]
        assert c["column"] == 0 and c["share"] == pytest.approx(float((coerced == 0).mean()), abs=1e-6)
        assert c["auc"] >= vc.FAR_SIDE_AUC and c["shift"] >= vc.FAR_SIDE_SHIFT and c["p"] < 1e-3
    # the same cut from below: readings under 30 written as 9999 (the far end is then the low one)
    g = _gen(21)
    temp = g.uniform(0, 45, N)
    load = 2.0 * temp + g.normal(0, 4, N)
    coded = np.where(temp < 30, 9999.0, temp)
    (f,) = vc.check_value_codes(_table(coded, load, g.normal(size=N)))
    assert f.code == "uninformative_inputs" and f.evidence["columns"] == [0]


def test_a_gated_quantity_and_a_code_at_random_in_most_rows_stay_quiet():
    g = _gen(22)
    hour = g.integers(0, 24, N)
    weekend = (g.random(N) < 2 / 7).astype(float)
    working = (hour >= 8) & (hour <= 18) & (weekend == 0)
    occupancy = np.where(working, g.uniform(0.6, 1.0, N), 0.0)      # 0 off hours: a state, most rows
    assert (occupancy == 0).mean() > vc.MAX_SHARE
    x = _table(occupancy, np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24), weekend, g.normal(size=N))
    assert [c["majority"] for c in vc.find_codes(x.double())] == [True]
    assert vc.check_value_codes(x) == []
    # a garage's area: 0 without one (the smaller houses), 300-500 with one, larger for larger houses
    area, rooms, age = _listings(_gen(23))
    garage = np.where(area < 1500, 0.0, 300 + 200 * (area - 1500) / 2500 + _gen(24).normal(0, 10, N))
    assert (garage == 0).mean() > vc.MAX_SHARE
    assert [c["majority"] for c in vc.find_codes(_table(garage, rooms, age).double())] == [True]
    assert vc.check_value_codes(_table(garage, rooms, age)) == []
    # a fill on most rows drawn at random (no cut) of areas 800-1600 that the rooms follow: the rooms
    # say nothing of which rows hold it
    g = _gen(25)
    area = np.exp(g.uniform(np.log(800), np.log(1600), N)).round()
    rooms = np.round(area / 200 + g.normal(0, 0.7, N))
    at_random = np.where(g.random(N) < 0.65, 0.0, area)
    age = g.uniform(0, 90, N)
    assert [c["majority"] for c in vc.find_codes(_table(at_random, rooms, age).double())] == [True]
    assert vc.check_value_codes(_table(at_random, rooms, age)) == []


def _healthy_columns(g):
    lognormal = g.lognormal(0.0, 1.0, N)
    return {
        "outliers": np.concatenate([g.normal(size=N - 5), [40.0, -35.0, 60.0, 80.0, -50.0]]),
        "heavy tail": g.standard_t(2, N),
        "lognormal": lognormal,
        "top-coded": np.minimum(lognormal, np.quantile(lognormal, 0.97)),        # 3% piled on the cap
        "bottom-clipped": np.maximum(g.normal(size=N), -1.5),                      # 7% piled on the floor
        "zero-inflated counts": np.where(g.random(N) < 0.3, 0, g.poisson(6.0, N)),
        "zero-inflated amounts": np.where(g.random(N) < 0.08, 0.0, g.lognormal(8.0, 1.0, N)),
        "binary flag": (g.random(N) < 0.05).astype(float),
        "categories": g.integers(0, 12, N).astype(float),
        "rounded ages": np.round(g.normal(45, 15, N)),
        "bimodal": np.concatenate([g.normal(0, 1, N // 2), g.normal(12, 1, N - N // 2)]),
    }


def test_healthy_columns_raise_no_code():
    g = _gen(4)
    cols = _healthy_columns(g)
    onehot = np.eye(5)[g.integers(0, 5, N)]
    x = _table(*cols.values(), onehot)
    assert vc.find_codes(x.double()) == []
    assert vc.find_codes(_standardized(x.double())) == []
    assert vc.check_value_codes(x) == []


# ------------------------------------------------------------------------------ wrapped integers
def _scans(g, n=600, size=12):
    img = 128 + g.normal(0, 12, (n, size, size))
    img[:, 5, 2:9] -= 70.0                          # a dark crack in every scan
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def test_uint8_arithmetic_that_wraps_is_found_and_the_float_version_is_quiet():
    u8 = _scans(_gen(5))
    wrapped = torch.tensor(((u8 - 128) / 128).astype(np.float32))[:, None]         # numpy keeps uint8: wraps
    right = torch.tensor((u8.astype(np.float32) - 128) / 128)[:, None]
    found = vc.find_wraps(wrapped.double())
    assert len(found) == 1 and found[0]["modulus"] == 256 and found[0]["column"] is None
    assert found[0]["step"] == pytest.approx(1 / 128)
    assert found[0]["circle_std"] < vc.WRAP_SPREAD * found[0]["line_std"]
    assert vc.find_wraps(right.double()) == []
    (f,) = vc.check_value_codes(wrapped)
    assert f.code == "uninformative_inputs" and f.severity == "warning" and "8-bit" in f.message


def test_a_wrapped_table_column_is_named():
    g = _gen(6)
    level = np.clip(np.round(g.normal(250, 6, N)), 0, 300).astype(np.int64) % 256     # a reading past 255
    x = _table(g.normal(size=N), level / 255.0)
    assert [w["column"] for w in vc.find_wraps(x.double())] == [1]


def test_uint16_wraps_too():
    g = _gen(7)
    v = np.round(g.normal(0, 300, N)).astype(np.int64) % 65536
    assert [w["modulus"] for w in vc.find_wraps(_table(v).double())] == [65536]


def _saturated_digits(g, n=400, size=16):
    """Strokes at full intensity (255) with anti-aliased edges on a black (0) background: both ends piled."""
    img = np.zeros((n, size, size))
    for i in range(n):
        r = g.integers(3, size - 3)
        img[i, r, 2:size - 2] = 255
        img[i, r + 1, 2:size - 2] = g.integers(1, 255, size - 4)
        img[i, 2:size - 2, r] = 255
    return img.astype(np.uint8)


@pytest.mark.parametrize("images", [
    lambda g: _saturated_digits(g) / 255.0,                                           # saturated both ends
    lambda g: g.integers(0, 256, (400, 12, 12)) / 255.0,                                 # flat histogram
    lambda g: np.clip(np.round(g.normal(128, 60, (400, 12, 12))), 0, 255) / 255.0,   # clipped at both ends
    lambda g: np.clip(np.round(np.concatenate([g.normal(15, 10, (200, 12, 12)),       # ink and paper,
                                               g.normal(240, 10, (200, 12, 12))])), 0, 255) / 255.0,  # clipped
])
def test_healthy_images_raise_no_wrap(images):
    x = torch.tensor(images(_gen(8)), dtype=torch.float32)[:, None]
    assert vc.find_wraps(x.double()) == []
    assert vc.check_value_codes(x) == []
    assert vc.check_value_codes(x.flatten(1)) == []          # the same pixels as table columns


# ------------------------------------------------------------------------------ the finding and its repair
def _buoys(seed=9):
    g = _gen(seed)
    height = 0.4 + g.gamma(2.0, 1.0, N)
    y = np.digitize(height + g.normal(0, 0.2, N), [1.5, 3.0])
    coded = np.where(g.random(N) < 0.08, -999.0, height)
    x = _standardized(_table(coded, g.normal(size=N), g.normal(size=N)))
    return x, torch.tensor(y)


def test_preflight_reports_the_code_on_the_host_and_the_plan_imputes_then_standardizes():
    x, y = _buoys()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 3))
    found = [f for f in preflight(model, x, y, cheap_only=True) if f.evidence.get("sentinel")]
    assert len(found) == 1 and found[0].code == "unnormalized_inputs" and found[0].severity == "error"
    (code,) = found[0].evidence["codes"]
    assert code["column"] == 0 and code["value"] == float(x[:, 0].min())
    plan = plan_unnormalized(found[0], None)
    assert plan.action.name == "impute" and plan.options["codes"] == [[0, code["value"]]]
    # the plan's preprocessing: the code becomes the training median of the other rows, then unit scale
    pre = fit_preprocess([{"name": "impute", "codes": plan.options["codes"]}, "standardize"], x)
    out = pre(x)
    assert vc.find_codes(out.double()) == []
    rest = x[:, 0][x[:, 0] != code["value"]]
    filled = pre[0](x)[:, 0][x[:, 0] == code["value"]]
    assert torch.allclose(filled, rest.double().median().float().expand_as(filled))
    assert out[:, 0].std().item() == pytest.approx(1.0, abs=1e-3)
    healthy = torch.tensor(np.corrcoef(out[:, 0].numpy(), y.numpy())[0, 1])
    assert healthy > 0.5          # the column's relation to the labels is back at unit scale


def test_a_table_without_codes_gives_the_plain_standardize_plan_unchanged():
    x, y = _buoys()
    raw = x * 1000 + 50
    model = nn.Sequential(nn.Linear(3, 3))
    found = preflight(model, raw, y, cheap_only=True)
    plain = [f for f in found if f.code == "unnormalized_inputs" and not f.evidence.get("sentinel")]
    assert plain and all(f.where is None for f in plain)
    assert [f.where for f in found if f.evidence.get("sentinel")] == ["input values"]    # both kept, apart


def test_fit_with_repair_imputes_the_code_and_predict_applies_it():
    import trainwell
    from trainwell.data.splits import Splits

    g = _gen(10)
    n = 1500
    height = 0.4 + g.gamma(2.0, 1.0, n)
    y = torch.tensor(np.digitize(height + g.normal(0, 0.2, n), [1.5, 3.0]))
    missing = g.random(n) < 0.08
    clean = torch.tensor(np.column_stack([height, g.normal(size=n), g.normal(size=n)]), dtype=torch.float32)
    coded = clean.clone()
    coded[torch.tensor(missing), 0] = -999.0
    mu, sd = coded[:900].mean(0), coded[:900].std(0)           # the user's scaler, fitted with the code in
    x = (coded - mu) / sd
    parts = Splits(train=(x[:900], y[:900]), val=(x[900:1200], y[900:1200]), test=(x[1200:], y[1200:]),
                   num_classes=3, input_shape=(3,))
    opts = {"progress": False, "report": False, "epochs": 6, "device": "cpu", "optimizer": "adam", "lr": 3e-3,
            "batch_size": 32, "seed": 0}
    torch.manual_seed(0)
    run = trainwell.fit(nn.Sequential(nn.Linear(3, 32), nn.ReLU(), nn.Linear(32, 3)), parts, babysit="repair", **opts)
    first = run.repairs[0]
    assert (first["step"], first["code"], first["action"]) == (0, "unnormalized_inputs", "impute")
    assert first["after"]["preprocess"] == ["impute", "standardize"]
    test_x, test_y = parts.test
    acc = (run.predict(test_x) == test_y).float().mean().item()      # predict: class ids, the impute applied
    torch.manual_seed(0)
    off = trainwell.fit(nn.Sequential(nn.Linear(3, 32), nn.ReLU(), nn.Linear(32, 3)), parts, babysit="off", **opts)
    acc_off = (off.predict(test_x) == test_y).float().mean().item()
    assert acc >= acc_off + 0.03          # the squeezed column is back: the heights decide the classes


def test_a_code_in_most_rows_is_not_judged_on_too_few_rows_per_column():
    g = _gen(26)
    n = 300
    area, rooms, age = _listings(g, n)
    coerced = np.where(area >= 1000, 0.0, area)
    x = _table(coerced, rooms, age, g.normal(size=(n, 40)))          # ~55 fitted rows for 43 coefficients
    assert [c["majority"] for c in vc.find_codes(x.double())] == [True]
    assert vc.check_value_codes(x) == []
    assert len(vc.check_value_codes(_table(coerced, rooms, age))) == 1    # the same rows, judged without them
