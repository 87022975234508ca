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
