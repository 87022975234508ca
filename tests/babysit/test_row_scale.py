"""Rows each multiplied by a factor of their own (babysit/row_scale.py): found where the rows' scales
spread over decades and dividing each row by its scale lets the probes predict it better."""
import numpy as np
import torch

from trainwell.babysit import row_scale as rs
from trainwell.babysit.input_content import check_inputs_informative


def sensor_windows(n=1200, length=48, seed=0):
    """Zero-mean accelerometer windows of three kinds: a hum (a sine of random phase), a knock (one
    pulse at a random place), a rattle (white noise of twice the usual size); class ids 0, 1, 2."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    steps = np.arange(length)
    x = g.normal(0, 0.3, (n, length))
    hum = y == 0
    x[hum] += np.sin(2 * np.pi * steps / 8 + g.uniform(0, 2 * np.pi, (int(hum.sum()), 1)))
    knock = np.flatnonzero(y == 1)
    x[knock, g.integers(0, length, knock.size)] += 4.0
    x[y == 2] *= 2.0
    return x - x.mean(1, keepdims=True), y


def as_input(x, y):
    return torch.tensor(x, dtype=torch.float32)[:, None, :], torch.tensor(y)


def codes(found):
    return [f.code for f in found]


def test_windows_divided_by_their_first_sample_are_found():
    x, y = sensor_windows()
    X, t = as_input(x / x[:, :1] - 1, y)
    found = rs.check_row_scale(X, t, class_ids=True)
    assert codes(found) == ["uninformative_inputs"] and found[0].severity == "warning"
    e = found[0].evidence
    assert e["row_scale_ratio"] >= rs.SPREAD and e["per_row_factor"]
    assert e["rescaled"] - e["as_given"] >= 0.03 and e["p"] < e["p_threshold"]
    assert "x / x[:, :1]" in found[0].message
    # the pre-flight's content checks read it too
    assert codes(check_inputs_informative(X, t, class_ids=True)) == ["uninformative_inputs"]


def test_the_same_windows_scaled_by_one_factor_are_quiet():
    x, y = sensor_windows()
    X, t = as_input(x / x.std(), y)
    assert rs.check_row_scale(X, t, class_ids=True) == []
    assert rs.spread(rs.row_scales(X.reshape(len(X), -1).double()))["ratio"] < 10


def test_a_regression_on_rows_divided_by_a_value_near_zero_is_found():
    # a table of 12 readings and a positive reference reading (an exponential: near zero as often as
    # anywhere) the user divided every reading by
    g = np.random.default_rng(1)
    n = 1500
    readings = g.normal(size=(n, 12))
    target = readings[:, :4] @ np.array([1.0, -0.8, 0.6, 0.5]) + g.normal(0, 0.2, n)
    reference = g.exponential(1.0, n)
    X = torch.tensor(readings / reference[:, None], dtype=torch.float32)
    t = torch.tensor(target[:, None], dtype=torch.float32)
    found = rs.check_row_scale(X, t, class_ids=False)
    assert codes(found) == ["uninformative_inputs"]
    assert found[0].evidence["as_given"] >= 1.25 * found[0].evidence["rescaled"]


def test_a_size_shared_by_the_row_that_is_the_signal_is_quiet():
    # customers' spend in 10 categories: each customer's size is log-normal (a log-spread of 1.5, so
    # the rows' scales spread over decades), and the class is whether the customer is a big spender
    g = np.random.default_rng(2)
    n = 1500
    size = np.exp(g.normal(0, 1.5, n))
    spend = size[:, None] * g.gamma(2.0, 1.0, (n, 10))
    y = (size > np.median(size)).astype(np.int64)
    X, t = torch.tensor(spend, dtype=torch.float32), torch.tensor(y)
    assert rs.spread(rs.row_scales(X.double()))["ratio"] >= rs.SPREAD      # the symptom is there ...
    assert rs.check_row_scale(X, t, class_ids=True) == []                   # ... but the size is information


def test_standardized_tables_with_heavy_tailed_columns_are_quiet():
    # one heavy-tailed column (a Cauchy) among standardized ones: a row's scale is the median of its entries
    g = np.random.default_rng(3)
    n = 1500
    x = g.normal(size=(n, 10))
    x[:, 0] = g.standard_cauchy(n)
    y = (x[:, 1] + x[:, 2] > 0).astype(np.int64)
    X = torch.tensor(x, dtype=torch.float32)
    assert rs.spread(rs.row_scales(X.double()))["ratio"] < rs.SPREAD
    assert rs.check_row_scale(X, torch.tensor(y), class_ids=True) == []


def test_too_few_varying_columns_rows_or_one_class_are_not_read():
    x, y = sensor_windows(n=1200, length=6)
    X, t = as_input(x / x[:, :1] - 1, y)
    assert rs.row_scales(X.reshape(len(X), -1).double()) is None          # 5 varying entries < MIN_FEATURES
    assert rs.check_row_scale(X, t, class_ids=True) == []
    x, y = sensor_windows(n=150)
    X, t = as_input(x / x[:, :1] - 1, y)
    assert rs.check_row_scale(X, t, class_ids=True) == []                   # under first_layer.MIN_ROWS
    x, y = sensor_windows()
    X, _ = as_input(x / x[:, :1] - 1, y)
    assert rs.check_row_scale(X, torch.zeros(len(X), dtype=torch.long), class_ids=True) == []


def test_a_wide_row_is_read_on_entries_spread_over_it():
    # the scale read on ENTRIES evenly spaced entries is within a few % of the scale read on all of them
    x, y = sensor_windows(n=300, length=12000)
    X, t = as_input(x / x[:, :1] - 1, y)
    flat = X.reshape(len(X), -1).double()
    assert flat.shape[1] > rs.ENTRIES
    full = rs.row_scales(flat)
    read = rs.row_scales(flat[:, torch.linspace(0, flat.shape[1] - 1, rs.ENTRIES).long()])
    assert float(((read - full).abs() / full).max()) < 0.1
    assert rs.spread(read)["ratio"] >= rs.SPREAD


def test_a_divisor_of_random_sign_that_the_target_needs_is_not_found():
    # the limit of the intervention: dividing each row by its scale cannot restore the sign a standard
    # normal reference gave it, and a linear target needs the sign, so the rescaled rows do no better
    g = np.random.default_rng(1)
    n = 1500
    readings = g.normal(size=(n, 12))
    target = readings[:, :4] @ np.array([1.0, -0.8, 0.6, 0.5]) + g.normal(0, 0.2, n)
    X = torch.tensor(readings / g.normal(0, 1, n)[:, None], dtype=torch.float32)
    assert rs.spread(rs.row_scales(X.double()))["ratio"] >= rs.SPREAD
    assert rs.check_row_scale(X, torch.tensor(target[:, None], dtype=torch.float32), class_ids=False) == []
