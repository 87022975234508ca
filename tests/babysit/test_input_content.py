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
from trainwell.babysit.data_checks import check_inputs_normalized
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


# ------------------------------------------------------------------------------ rows scaled on their own
def per_row(x, ddof=1):
    return (x - x.mean(1, keepdim=True)) / x.std(1, keepdim=True, correction=ddof)


def spectra(rows=600, bins=200, width=0.03, seed=0):
    """Smooth peaks of random heights over a random baseline with noise: features of one unit."""
    g = torch.Generator().manual_seed(seed)
    w = torch.linspace(0, 1, bins)
    peaks = torch.stack([torch.exp(-((w - c) / width) ** 2) for c in (0.2, 0.5, 0.8)])
    heights = torch.rand(rows, 3, generator=g) * (0.5 + torch.rand(rows, 1, generator=g))
    return heights @ peaks + 2 * torch.rand(rows, 1, generator=g) + 1e-3 * torch.randn(rows, bins, generator=g)


def shop_table(rows=800, seed=0, rent=True):
    """A table of mixed units: a yearly revenue in the hundreds of thousands, a rent in the tens of
    thousands, floor area in m^2, staff and visit counts, a rating 1-5, two ratios and three one-hot
    region flags; the label reads the small columns as much as the revenue."""
    g = torch.Generator().manual_seed(seed)
    revenue = 2e5 * torch.exp(0.5 * torch.randn(rows, generator=g))
    rents = 3e4 * torch.exp(0.5 * torch.randn(rows, generator=g))
    area = 50 + 400 * torch.rand(rows, generator=g)
    staff = torch.randint(1, 30, (rows,), generator=g).float()
    visits = torch.poisson(20 * torch.ones(rows), generator=g)
    rating = torch.randint(1, 6, (rows,), generator=g).float()
    margin, returns = torch.rand(rows, generator=g), 0.1 * torch.rand(rows, generator=g)
    region = torch.nn.functional.one_hot(torch.randint(0, 3, (rows,), generator=g), 3).float()
    X = torch.stack([revenue] + ([rents] if rent else []) + [area, staff, visits, rating, margin, returns], dim=1)
    X = torch.cat([X, region], dim=1)
    score = (revenue.log() - 12.2) + (rating - 3) / 2 + 2 * (margin - 0.5) + region[:, 0] - 10 * (returns - 0.05)
    return X, (score > 0).long()


@pytest.mark.parametrize("ddof", [0, 1])
def test_a_mixed_unit_table_scaled_per_row_fires(ddof):
    X, y = shop_table()
    found = ic.check_inputs_informative(per_row(X, ddof), y, class_ids=True)
    assert [(f.code, f.severity) for f in found] == [("uninformative_inputs", "warning")]
    f = found[0]
    assert f.evidence["per_row_scaling"] and f.evidence["squashed_share"] >= ic.SQUASHED_COLUMNS
    assert f.evidence["widest_ratio"] < ic.SQUASHED and "scaled on its own" in f.message
    assert ic.check_inputs_informative((X - X.mean(0)) / X.std(0), y, class_ids=True) == []


def test_one_dominant_column_leaves_the_others_near_constant_which_the_scale_check_reads():
    # with the row's scale set by one column, -mean / std is nearly the same number in every row: the
    # other columns' spread itself falls under data_checks.STD_LOW (unnormalized_inputs), no twin needed
    X, y = shop_table(rent=False)
    x = per_row(X)
    assert [f.code for f in check_inputs_normalized(x)] == ["unnormalized_inputs"]
    assert check_inputs_normalized((X - X.mean(0)) / X.std(0)) == []


def test_the_same_table_scaled_per_column_and_inputs_of_one_unit_scaled_per_row_stay_quiet(tumor):
    X, y = load_breast_cancer(return_X_y=True)
    X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    standard = (X - X.mean(0)) / X.std(0)
    assert ic.check_inputs_informative(standard, y, class_ids=True) == []
    assert ic.check_inputs_informative(tumor[0], y, class_ids=True) == []
    digits, labels = load_digits(return_X_y=True)          # per-image standardization, a common practice
    digits = torch.tensor(digits, dtype=torch.float32)
    assert ic.rows_scaled(per_row(digits)) is not None       # the rows are scaled ...
    assert ic.check_inputs_informative(per_row(digits), torch.tensor(labels), class_ids=True) == []   # ... rightly
    for width in (0.03, 0.005):                              # standard normal variate of spectra
        s = per_row(spectra(width=width))
        assert ic.rows_scaled(s) is not None
        assert ic.check_rows_scaled(s) == []


def test_the_squashed_group_against_a_direct_pairwise_count():
    X, _ = shop_table(rows=300)
    x = per_row(X.double())
    x = torch.cat([x, x[:, 4:5]], dim=1)                      # an exact duplicate carries nothing to lose
    group = ic.squashed_group(x)
    d = x.shape[1]
    ratio = torch.zeros(d, d, dtype=torch.float64)
    for j in range(d):
        for k in range(d):
            ratio[j, k] = (x[:, j] - x[:, k]).std() / ((x[:, j].std() + x[:, k].std()) / 2)
    twin = (ratio < ic.SQUASHED) & (ratio >= ic.IDENTICAL)
    centre = int(twin.sum(dim=1).argmax())
    expected = sorted(set(twin[centre].nonzero().flatten().tolist()) | {centre})
    assert group["group"].tolist() == expected and len(expected) >= d // 2
    assert group["widest"] == pytest.approx(float(ratio[expected][:, expected].max()), rel=1e-6)
    assert 4 in expected and 11 in expected and group["widest"] >= ic.IDENTICAL   # the duplicate joins, at 0


def test_the_chains_of_a_finely_sampled_smooth_spectrum_are_no_group():
    # neighbouring bins are within 1% of each other, but a bin's twins are its neighbours on either
    # side, whose ends differ by more: a chain, not one value every column was squashed onto
    s = per_row(spectra(bins=1000, width=0.1))
    group = ic.squashed_group(s)
    assert group["closest"] < ic.SQUASHED and group["widest"] >= ic.SQUASHED and group["group"].numel() == 0
    assert ic.check_rows_scaled(s) == []


def test_one_hot_sequences_have_rows_of_one_mean_and_std_and_stay_quiet():
    # every row of a flattened one-hot sequence holds as many ones as positions: the same mean and
    # std in every row, by construction; its columns are far apart, so nothing was squashed
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 4, (500, 16), generator=g)
    x = torch.nn.functional.one_hot(ids, 4).float().reshape(500, -1)
    assert ic.rows_scaled(x) is not None
    assert ic.squashed_group(x)["group"].numel() == 0
    assert ic.check_inputs_informative(x, (ids == 0).sum(1).clamp(max=5), class_ids=True) == []


def _patients(n, *, seed):
    """Measured rows (6 normal columns) whose class is the sign pattern of two of them."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=g)
    return X, ((X[:, 0] > 0).long() + (X[:, 1] > 0.5).long())


def test_rows_joined_on_a_key_that_is_not_unique_are_a_label_problem():
    """rows.merge(labels, on=key) with 2 rows a key on average: each row once per label row of its key,
    each copy with that row's class."""
    X, y = _patients(1200, seed=1)
    key = torch.randint(0, 600, (1200,), generator=torch.Generator().manual_seed(2))
    rows = [(i, j) for i in range(1200) for j in (key == key[i]).nonzero().flatten().tolist()]
    joined_x = X[torch.tensor([i for i, _ in rows])]
    joined_y = y[torch.tensor([j for _, j in rows])]
    found = ic.check_inputs_informative(joined_x, joined_y, class_ids=True)
    assert [f.code for f in found] == ["label_problem"] and found[0].severity == "warning"
    assert found[0].evidence["fit_ceiling"] < 1 - ic.LOST
    # joined on a unique key: quiet
    assert ic.check_inputs_informative(X, y, class_ids=True) == []


def test_repeated_rows_with_their_own_labels_and_tables_of_codes_are_quiet():
    X, y = _patients(1000, seed=3)
    assert ic.check_repeated_rows(torch.cat([X, X]), torch.cat([y, y]), class_ids=True) == []   # oversampled
    codes = torch.randint(0, 3, (2000, 4), generator=torch.Generator().manual_seed(4)).double()
    noisy = (codes[:, 0] + torch.randint(0, 2, (2000,), generator=torch.Generator().manual_seed(5))).long()
    assert ic.check_repeated_rows(codes, noisy, class_ids=True) == []      # codes repeat by nature
    assert ic.check_repeated_rows(X, y.double(), class_ids=False) == []    # a regression: not judged


def _orders(n=2400, seed=0, *, bins=None, fitted_on_all=False, codes=False):
    """Web orders: 8 readings, 3 noisy classes from linear scores; the first 60 % the training rows.
    ``bins``: every reading binned into that many quantile levels (ordinal), fitted on the training
    rows (``fitted_on_all``: on every row, before the split), then standardized; ``codes``: eight
    category codes (0-2) drawn at random instead of readings."""
    import numpy as np
    from sklearn.preprocessing import KBinsDiscretizer
    g = np.random.default_rng(seed)
    X = g.integers(0, 3, (n, 8)).astype(np.float64) if codes else g.normal(0, 1, (n, 8))
    score = X @ g.normal(0, 1, (8, 3)) + g.normal(0, 1.0, (n, 3))
    y = torch.tensor(score.argmax(1))
    train = int(0.6 * n)
    if bins:
        disc = KBinsDiscretizer(n_bins=bins, encode="ordinal", strategy="quantile")
        X = disc.fit(X if fitted_on_all else X[:train]).transform(X)
    X = (X - X[:train].mean(0)) / X[:train].std(0)
    return torch.tensor(X[:train], dtype=torch.float32), y[:train]


def test_every_reading_binned_into_equal_thirds_is_found():
    x, y = _orders(bins=3)
    found = ic.check_inputs_informative(x, y, class_ids=True)
    assert [f.code for f in found] == ["uninformative_inputs"] and found[0].severity == "warning"
    assert found[0].evidence["binned_columns"] == list(range(8)) and found[0].evidence["chance"] < 1e-3
    x, y = _orders(bins=2)                                  # median splits: two equal halves each
    assert ic.check_binned_columns(x)[0].evidence["levels"] == [2] * 8


def test_readings_random_codes_finer_bins_and_bins_fitted_before_the_split_are_quiet():
    for kwargs in ({}, {"codes": True}, {"bins": 5}, {"bins": 3, "fitted_on_all": True}):
        x, y = _orders(**kwargs)
        assert ic.check_binned_columns(x) == [], kwargs
    x, y = _orders(bins=3)                                  # two binned columns among eight readings
    x = torch.cat([x[:, :2], _orders(seed=1)[0][:, 2:]], 1)
    assert ic.check_binned_columns(x) == []


def test_the_equal_count_chance():
    assert ic.equal_count_chance(torch.tensor([720, 720])) == pytest.approx(0.021, abs=1e-3)
    assert ic.equal_count_chance(torch.tensor([480, 480, 480])) == pytest.approx(5.7e-4, rel=0.05)
    assert ic.equal_count_chance(torch.tensor([450, 500, 490])) == 1.0       # a sample's spread
