"""One-hot input categories a split's rows hold and no training row has (split_checks._categories)."""
import torch

from trainwell.babysit import split_checks as sc


def _one_hot(codes, k):
    return torch.nn.functional.one_hot(codes, k).double()


def _splits(levels, n_train=600, n_val=200, seed=0, standardize=False):
    """A numeric column read as text: one one-hot column per distinct value among ``levels``, beside two
    numeric columns; class ids from the value."""
    g = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, levels, (n_train + n_val,), generator=g)
    X = torch.cat([torch.randn(n_train + n_val, 2, generator=g), _one_hot(codes, levels)], 1)
    y = (codes * 3 // levels).long()
    if standardize:                     # the user standardizes every column on the training rows
        mu, sd = X[:n_train].mean(0), X[:n_train].std(0)
        X = (X - mu) / torch.where(sd > 0, sd, torch.ones_like(sd))
    return (X[:n_train].float(), y[:n_train]), (X[n_train:].float(), y[n_train:])


def _unseen_share(train, val, start):
    seen = train[0][:, start:].sum(0) != 0
    return float((val[0][:, start:][:, ~seen] != 0).any(1).double().mean())


def test_runs_are_found_side_by_side_and_a_flag_pair_is_not_a_run():
    a, b = _one_hot(torch.tensor([0, 1, 2, 0]), 3), _one_hot(torch.tensor([1, 0, 3, 2]), 4)
    flag = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    X = torch.cat([torch.randn(4, 1), a, b, flag], 1)
    assert sc.one_hot_runs(X) == [(1, 4), (4, 8)]


def test_a_number_one_hot_encoded_per_value_leaves_validation_rows_unseen():
    train, val = _splits(levels=1500)
    share = _unseen_share(train, val, 2)
    assert share > sc.OUTSIDE_SHARE
    found = sc._categories(train, "validation", val)
    assert [f.code for f in found] == ["split_mismatch"]
    assert found[0].evidence["unseen_share"] == share
    assert found[0].evidence["columns"] == [2, 1502]


def test_standardized_one_hot_columns_are_read_the_same():
    train, val = _splits(levels=1500, standardize=True)
    found = sc._categories(train, "validation", val)
    assert [f.code for f in found] == ["split_mismatch"]


def test_categories_all_seen_in_training_are_quiet():
    train, val = _splits(levels=6)
    assert sc._categories(train, "validation", val) == []
    train, val = _splits(levels=6, standardize=True)
    assert sc._categories(train, "validation", val) == []


def _poisson_levels(levels, n_train, n_val, seed=1):
    """``levels`` categories drawn uniformly: each has about n_train / levels training rows."""
    g = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, levels, (n_train + n_val,), generator=g)
    X = torch.cat([torch.randn(n_train + n_val, 2, generator=g), _one_hot(codes, levels)], 1)
    y = (codes % 3).long()
    return (X[:n_train].float(), y[:n_train]), (X[n_train:].float(), y[n_train:]), codes


def test_categories_seen_but_too_rare_to_learn_fire_though_few_rows_are_unseen():
    # 200 categories over 600 training rows: about 3 rows each, e^-3 = 5 % of them never seen
    train, val, codes = _poisson_levels(200, 600, 400)
    counts = torch.bincount(codes[:600], minlength=200)
    unseen = float((counts[codes[600:]] == 0).double().mean())
    rare = float((counts[codes[600:]] < sc.MIN_CATEGORY_ROWS).double().mean())
    assert unseen < sc.OUTSIDE_SHARE < rare          # the unseen rows alone stay under the share
    found = sc._categories(train, "validation", val)
    assert [f.code for f in found] == ["split_mismatch"]
    ev = found[0].evidence
    assert ev["rare_share"] == rare and ev["unseen_share"] == unseen
    assert ev["median_rows"] == float(counts.double().median())
    assert ev["rare_categories"] == int(((counts > 0) & (counts < sc.MIN_CATEGORY_ROWS)).sum())


def test_categories_with_enough_training_rows_each_are_quiet():
    # 30 categories over 1,200 training rows: about 40 rows each, the rarest far above ten
    train, val, codes = _poisson_levels(30, 1200, 400)
    assert int(torch.bincount(codes[:1200], minlength=30).min()) >= sc.MIN_CATEGORY_ROWS
    assert sc._categories(train, "validation", val) == []


def test_category_rows_are_counted_on_every_training_row_beyond_the_sample():
    # 700 categories over 14,000 training rows: 20 rows each in the whole split, about 7 in the
    # 5,000 rows sampled to find the run; counted on the sample it would fire
    train, val, codes = _poisson_levels(700, 14_000, 1000, seed=2)
    assert train[0].shape[0] > sc.FEATURE_ROWS
    counts = torch.bincount(codes[:14_000], minlength=700)
    assert float((counts[codes[14_000:]] < sc.MIN_CATEGORY_ROWS).double().mean()) <= sc.OUTSIDE_SHARE
    assert torch.equal(sc._category_rows(train[0], 2, 702), counts.double())
    assert sc._categories(train, "validation", val) == []


def test_category_rows_read_standardized_columns():
    train, val, codes = _poisson_levels(50, 500, 100)
    X = train[0]
    Z = (X - X.mean(0)) / X.std(0)
    assert torch.equal(sc._category_rows(Z, 2, 52), torch.bincount(codes[:500], minlength=50).double())
