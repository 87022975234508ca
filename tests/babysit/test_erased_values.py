import numpy as np
import torch

from trainwell.babysit import erased_values as ev
from trainwell.babysit.input_content import check_inputs_informative


def _incomes(n, seed):
    """A table of 5 columns: two skewed amounts (lognormal, gamma), a normal reading, a Poisson count and
    a zero-inflated amount (70 % zeros)."""
    rng = np.random.default_rng(seed)
    amount = rng.exponential(3.0, n) * (rng.random(n) < 0.3)
    return np.column_stack([rng.lognormal(2.0, 0.8, n), rng.gamma(1.5, 10.0, n), rng.normal(5, 2, n),
                            rng.poisson(3.0, n), amount])


def _standardized(X):
    return (X - X.mean(0)) / X.std(0)


def test_a_log_of_standardized_columns_then_nan_to_num_is_found_and_the_log_before_scaling_is_not():
    X = _incomes(1500, 0)
    healthy = X.copy()
    healthy[:, :2] = np.log(healthy[:, :2])
    assert ev.check_erased_values(torch.tensor(_standardized(healthy), dtype=torch.float32)) == []
    broken = _standardized(X)
    with np.errstate(invalid="ignore", divide="ignore"):
        broken[:, :2] = np.nan_to_num(np.log(broken[:, :2]), nan=0.0, neginf=0.0)
    found = ev.check_erased_values(torch.tensor(broken, dtype=torch.float32))
    assert len(found) == 1 and found[0].code == "uninformative_inputs"
    assert found[0].evidence["columns"] == [0, 1]
    # the share filled is the share of rows below the column's mean
    below = float((X[:, 0] < X[:, 0].mean()).mean())
    assert abs(found[0].evidence["masses"][0]["share"] - below) < 1e-9


def test_a_square_root_of_centred_values_filled_with_the_mean_is_found():
    rng = np.random.default_rng(1)
    X = rng.normal(0, 1, (800, 3))
    with np.errstate(invalid="ignore"):
        X[:, 2] = np.sqrt(X[:, 2] + 0.3)
    X[:, 2] = np.where(np.isnan(X[:, 2]), np.nanmean(X[:, 2]), X[:, 2])
    found = ev.check_erased_values(torch.tensor(_standardized(X), dtype=torch.float64))
    assert [f.evidence["columns"] for f in found] == [[2]]


def test_zero_inflated_amounts_counts_and_clipping_stay_quiet():
    X = _standardized(_incomes(1500, 2))
    rng = np.random.default_rng(3)
    clipped = np.clip(rng.normal(0, 1, 1500), None, 0.0)          # half the rows capped at 0: an end
    X = np.column_stack([X, clipped, rng.integers(1, 6, 1500)])  # a rating: few values
    assert ev.check_erased_values(torch.tensor(X, dtype=torch.float32)) == []


def test_values_at_the_float_limit_are_found_in_float32_and_float64():
    for dtype, npdtype in ((torch.float32, np.float32), (torch.float64, np.float64)):
        X = np.random.default_rng(4).normal(1.0, 0.5, (500, 4)).astype(npdtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            X[:, 3] = np.nan_to_num(np.log(np.abs(X[:, 3]) * (np.arange(500) % 50 != 0)))
        found = ev.check_erased_values(torch.tensor(X, dtype=dtype))
        assert len(found) == 1 and found[0].evidence["columns"] == [3]
        assert found[0].evidence["huge"][0]["rows"] == 10
        assert found[0].evidence["huge"][0]["value"] == float(np.finfo(npdtype).min)
    # a large but real value (Avogadro's number) is no limit
    X = np.random.default_rng(5).normal(6.0e23, 1e21, (500, 2))
    assert ev.huge_values(torch.tensor(X), torch.float64) == []


def test_input_content_reports_the_erasure():
    X = _standardized(_incomes(1200, 6))
    y = torch.tensor(X[:, 0] + X[:, 1], dtype=torch.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        X[:, 0] = np.nan_to_num(np.log(X[:, 0]), nan=0.0, neginf=0.0)
    found = check_inputs_informative(torch.tensor(X, dtype=torch.float32), y, class_ids=False)
    assert any(f.code == "uninformative_inputs" and f.evidence.get("columns") == [0] for f in found)


def test_sequences_padded_with_0_after_or_before_their_readings_stay_quiet():
    rng = np.random.default_rng(7)
    lengths = rng.integers(4, 20, 1000)
    post = np.zeros((1000, 20))
    for i, n in enumerate(lengths):
        post[i, :n] = rng.normal(0, 1, n)
    pre = post[:, ::-1].copy()
    for X in (post, pre):
        assert ev.check_erased_values(torch.tensor(X, dtype=torch.float32)) == []
    # the same zeros written independently per column (a transform's fill) are found
    shuffled = np.column_stack([rng.permutation(post[:, j]) for j in range(20)])
    assert ev.check_erased_values(torch.tensor(shuffled, dtype=torch.float32)) != []


def test_readings_in_half_precision_are_no_float_limit_but_its_largest_value_is():
    """float16's largest finite number is 65504: 1e-3 of it (65.5) is a reading's size (a pixel's 255, a
    price), so there only the largest value itself, nan_to_num's fill for inf, counts."""
    X = np.random.default_rng(8).uniform(0, 255, (500, 3)).astype(np.float16)
    assert ev.huge_values(torch.tensor(X).double(), torch.float16) == []
    assert ev.check_erased_values(torch.tensor(X)) == []
    with np.errstate(divide="ignore"):
        X[::25, 2] = np.nan_to_num(np.float16(1.0) / np.float16(0.0))
    found = ev.check_erased_values(torch.tensor(X))
    assert [f.evidence["columns"] for f in found] == [[2]] and found[0].evidence["huge"][0]["rows"] == 20


def _heating_days(n, seed):
    """Days of a signed temperature (C) and two other readings; the gas used falls with the temperature."""
    rng = np.random.default_rng(seed)
    temperature = rng.normal(8.0, 6.0, n)
    X = np.column_stack([temperature, rng.normal(0, 1, n), rng.gamma(2.0, 1.0, n)])
    gas = 20.0 - temperature + 0.5 * X[:, 1] + rng.normal(0, 1.5, n)
    return X, gas


def test_a_log1p_of_a_signed_column_filled_on_a_tenth_of_the_rows_is_found_by_its_targets():
    X, gas = _heating_days(1500, 5)
    broken = X.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        broken[:, 0] = np.nan_to_num(np.log1p(broken[:, 0]), nan=0.0, neginf=0.0)
    share = float((X[:, 0] <= -1).mean())
    assert 0.05 < share < ev.MASS_SHARE                 # too small a share for the column alone
    x, y = torch.tensor(_standardized(broken)), torch.tensor((gas - gas.mean()) / gas.std())
    assert ev.check_erased_values(x) == []
    found = ev.check_erased_values(x, y)
    assert [f.evidence["columns"] for f in found] == [[0]]
    moved = found[0].evidence["masses"][0]["displaced"]
    assert moved["value_mean"] > moved["near_mean"]     # the coldest days read as days at 0 C use more gas
    assert "not like the rows next to the value" in found[0].message
    # as classes (low, normal, peak use: the top tenth, days colder than about 0 C): found through the one-hot columns
    classes = torch.tensor(np.digitize(gas, np.quantile(gas, [0.5, 0.9])))
    assert [f.evidence["columns"] for f in ev.check_erased_values(x, classes, class_ids=True)] == [[0]]


def test_a_real_repeated_reading_whose_targets_follow_it_and_a_zero_at_the_end_stay_quiet():
    rng = np.random.default_rng(6)
    n = 1500
    change = np.where(rng.random(n) < 0.12, 0.0, rng.normal(0, 1, n))     # "no change" between ups and downs
    rain = np.where(rng.random(n) < 0.15, 0.0, rng.gamma(2.0, 1.0, n))    # dry days: the end of the range
    X = np.column_stack([change, rain, rng.normal(0, 1, n)])
    y = 2.0 * change - 3.0 * (rain > 0) + rng.normal(0, 1, n)             # dry days unlike drizzle: an end
    assert ev.check_erased_values(torch.tensor(_standardized(X)), torch.tensor(y)) == []


def test_missing_readings_imputed_with_the_median_stay_quiet_where_the_same_rows_filled_off_center_are_found():
    X, gas = _heating_days(1500, 7)
    missing = X[:, 0] < np.quantile(X[:, 0], 0.1)        # the coldest tenth missing: being missing says something
    y = torch.tensor((gas - gas.mean()) / gas.std())
    imputed = X.copy()
    imputed[missing, 0] = np.median(X[~missing, 0])
    assert ev.check_erased_values(torch.tensor(_standardized(imputed)), y) == []
    filled = X.copy()
    filled[missing, 0] = np.quantile(X[~missing, 0], 0.3)   # one value inside the readings, off their center
    found = ev.check_erased_values(torch.tensor(_standardized(filled)), y)
    assert [f.evidence["columns"] for f in found] == [[0]]


def test_displaced_compares_the_value_with_other_rows_only_where_it_holds_most_rows():
    """A value on 60 of 100 rows is compared with the 40 other rows, not with 20 of its own among them
    (its targets 1, the others' 0: the near mean is the others' own, 0)."""
    column = torch.cat([torch.zeros(60), torch.linspace(1, 40, 40)]).double()
    t = torch.cat([torch.ones(60), torch.zeros(40)]).double().reshape(-1, 1)
    moved = ev.displaced(column, 0.0, t)
    assert moved is not None and moved["near_mean"] == 0.0 and moved["value_mean"] == 1.0


def _patients(n, seed):
    """Eight readings, three classes set by all of them."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, (n, 8))
    y = np.argmax(X @ rng.normal(0, 1, (8, 3)), axis=1)
    return X, y


def test_readings_missing_at_random_on_40_percent_of_rows_imputed_with_the_median_stay_quiet():
    """A value missing at its source and imputed at the center leaves the row otherwise intact: the other
    columns predict its class as well as the other rows' (``intact_rows``)."""
    X, y = _patients(1500, 11)
    rng = np.random.default_rng(12)
    for c in (0, 1):
        gaps = rng.random(len(X)) < 0.4
        X[gaps, c] = np.median(X[~gaps, c])
    x = torch.tensor(_standardized(X))
    assert ev.check_erased_values(x, torch.tensor(y), class_ids=True) == []
    assert [f.evidence["columns"] for f in ev.check_erased_values(x)] == [[0, 1]]   # no targets: not measured


def test_a_mean_fill_on_rows_a_parse_shifted_is_found():
    """A third of the rows read with their fields one column to the right (a quoted comma): the first
    column's NaN filled with the mean, the others' readings in the wrong columns. The fill sits at the
    center, but the rows' other columns predict their classes worse than the rest's: not intact."""
    X, y = _patients(1500, 13)
    shifted = np.random.default_rng(14).random(len(X)) < 0.3
    X[shifted, 1:] = X[shifted, :-1]
    X[shifted, 0] = X[~shifted, 0].mean()
    found = ev.check_erased_values(torch.tensor(_standardized(X)), torch.tensor(y), class_ids=True)
    assert [f.evidence["columns"] for f in found] == [[0]]
