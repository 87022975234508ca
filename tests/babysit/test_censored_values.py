import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

from trainwell.babysit import censored_values as cv
from trainwell.babysit import preflight as pf


def _standardized(X):
    sd = X.std(0)
    return (X - X.mean(0)) / np.where(sd > 0, sd, 1.0)      # a constant column (digits' borders) kept at 0


def _table(n=1500, seed=0):
    """A table of 4 normal readings in their own units."""
    rng = np.random.default_rng(seed)
    return rng.normal([20.0, 5.0, 100.0, 0.3], [4.0, 1.0, 15.0, 0.1], (n, 4))


def _panels(n=600, seed=0):
    """Grey panels (N, 1, 16, 16): background 0.5 with noise 0.05, a dark blob on half of them."""
    rng = np.random.default_rng(seed)
    X = 0.5 + 0.05 * rng.standard_normal((n, 1, 16, 16))
    X[: n // 2, :, 5:9, 5:9] -= 0.3
    return X


def _t(X):
    return torch.tensor(X, dtype=torch.float32)


def test_a_clip_to_0_1_after_standardizing_is_found_and_the_clip_before_it_is_not():
    X = _table()
    found = cv.check_censored(_t(np.clip(_standardized(X), 0.0, 1.0)))
    assert [(f.code, f.severity) for f in found] == [("uninformative_inputs", "warning")]
    assert found[0].evidence["columns"] == [0, 1, 2, 3]
    c = found[0].evidence["censored"][0]
    assert (c["low"], c["high"]) == (0.0, 1.0)
    assert abs(c["low_share"] - 0.5) < 0.05 and abs(c["high_share"] - 0.16) < 0.04     # below the mean; > 1 sigma
    assert cv.check_censored(_t(_standardized(X))) == []
    minmax = (X - X.min(0)) / (X.max(0) - X.min(0))             # the bounds hold one row each
    assert cv.check_censored(_t(minmax)) == []


def test_an_outlier_clip_at_one_sigma_is_found_and_at_three_or_winsorized_at_5_95_is_not():
    z = _standardized(_table(seed=1))
    assert [f.evidence["columns"] for f in cv.check_censored(_t(np.clip(z, -1, 1)))] == [[0, 1, 2, 3]]
    assert cv.check_censored(_t(np.clip(z, -3, 3))) == []
    lo, hi = np.percentile(z, [5, 95], axis=0)
    assert cv.check_censored(_t(np.clip(z, lo, hi))) == []


def test_clipped_images_are_found_and_the_standardized_ones_are_not():
    X = _panels()
    z = (X - X.mean()) / X.std()                                # one mean and std of the training pixels
    found = cv.check_censored(_t(np.clip(z, 0.0, 1.0)))
    assert len(found) == 1 and found[0].evidence["columns"] == []
    assert found[0].evidence["censored"][0]["column"] is None
    assert cv.check_censored(_t(z)) == []


def test_natural_floors_and_bounds_stay_quiet():
    rng = np.random.default_rng(2)
    n = 1500
    d = load_digits()
    digits = d.images[:n, None] / 16.0                          # black in most pixels, 17 grey levels
    assert cv.check_censored(_t(digits)) == []
    assert cv.check_censored(_t(_standardized(d.data[:n]))) == []
    counts = rng.poisson(0.8, n) * (rng.random(n) < 0.5)        # a zero-inflated count
    rain = rng.exponential(3.0, n) * (rng.random(n) < 0.4)      # a zero-inflated amount: a floor, no ceiling
    relu = np.maximum(rng.standard_normal(n), 0.0)              # a ReLU feature
    smooth = 1 / (1 + np.exp(-2 * rng.standard_normal(n)))      # sigmoid-bounded, no value on the bounds
    binary = (rng.random(n) < 0.3).astype(float)
    table = np.column_stack([counts, rain, relu, smooth, binary, 1 - binary])
    assert cv.check_censored(_t(table)) == []
    assert cv.check_censored(_t(_standardized(table))) == []
    # a proportion whose "none" and "all" are states of their own, its readings gathered in the middle
    state = rng.random(n)
    share = np.where(state < 0.2, 0.0, np.where(state > 0.8, 1.0, rng.beta(5, 5, n)))
    assert cv.check_censored(_t(share[:, None])) == []
    # the limit, as documented: readings that run flat up to both (a proportion's 0 % and 100 %) read as clipped
    flat = np.where(state < 0.2, 0.0, np.where(state > 0.8, 1.0, rng.random(n)))
    assert len(cv.check_censored(_t(flat[:, None]))) == 1


def test_a_flag_channel_beside_readings_is_no_clip_of_one_scale():
    """(N, L, 2): amounts in [0, 1) with dry hours at 0, and an observed flag (0 / 1): pooled, the two
    ends pile up, but the pile at 1 lies in the flag's channel alone, which holds no readings."""
    rng = np.random.default_rng(3)
    n, hours = 400, 24
    flag = (rng.random((n, hours)) < 0.6).astype(float)
    amount = np.where(rng.random((n, hours)) < 0.5, 0.0, rng.uniform(0, 0.99, (n, hours))) * flag
    X = np.stack([amount, flag], axis=-1)
    assert cv.cut_ends(torch.tensor(X).reshape(-1)) is not None      # the pooled values alone would say clipped
    assert cv.check_censored(_t(X)) == []


def test_the_preflight_reads_it_among_the_checks_of_the_rows():
    z = _standardized(_table(seed=4))
    X = _t(np.clip(z, 0.0, 1.0))
    y = torch.tensor((z[:, 0] > 0).astype(np.int64))
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    found = pf.rows_alone(model, X, y, X[:pf.PROBE_ROWS], kind="cross_entropy", class_ids=True)
    assert any("censored" in f.evidence for f in found)
    assert "check_censored" in pf.DATA_CHECKS
