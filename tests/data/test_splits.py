import math
import warnings

import numpy as np
import pytest
import torch

from trainwell.data import sources
from trainwell.data.splits import (Splits, as_pair, build_splits, kfold_indices, split_count, split_indices,
                                   stratified_split)
from trainwell.errors import ConfigError, DataError


def labels(counts=(60, 30, 10)):
    return np.concatenate([np.full(c, k, dtype=np.int64) for k, c in enumerate(counts)])


def test_sources_reexports_the_split_helpers():
    assert sources.Splits is Splits and sources.as_pair is as_pair and sources.stratified_split is stratified_split


def test_split_count_int_and_fraction():
    assert split_count(7, 100, key="test_size") == 7
    assert split_count(0.25, 10, key="test_size") == 3            # ceil(2.5)
    assert split_count(0.1, 30, key="test_size") == 3             # not 4 from 3.0000000000000004
    with pytest.raises(ConfigError, match=r"test_size = 1.5: a fraction must be in \[0, 1\)"):
        split_count(1.5, 10, key="test_size")
    with pytest.raises(ConfigError, match="val_size = -1: must be >= 0"):
        split_count(-1, 10, key="val_size")
    with pytest.raises(ConfigError, match="val_size = True"):
        split_count(True, 10, key="val_size")


def test_split_indices_partition_sizes_and_stratification():
    y = labels()
    tr, va, te = split_indices(y, test_size=0.2, val_size=10, seed=3)
    assert (len(tr), len(va), len(te)) == (70, 10, 20)
    everything = np.concatenate([tr, va, te])
    assert sorted(everything.tolist()) == list(range(100))     # disjoint, and nothing lost
    for part in (tr, va, te):
        counts = np.bincount(y[part], minlength=3)
        expected = len(part) * np.array([0.6, 0.3, 0.1])
        assert np.all(np.abs(counts - expected) <= 1), (counts, expected)


def test_split_indices_seeding():
    y = labels()
    a = split_indices(y, test_size=20, val_size=10, seed=1)
    b = split_indices(y, test_size=20, val_size=10, seed=1)
    c = split_indices(y, test_size=20, val_size=10, seed=2)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[2], c[2])


def test_split_indices_zero_sizes_and_regression_targets():
    tr, va, te = split_indices(labels(), test_size=0, val_size=0)
    assert va is None and te is None and np.array_equal(tr, np.arange(100))
    y = np.linspace(0, 1, 50).astype(np.float32)          # float targets: plain seeded shuffle
    tr, va, te = split_indices(y, test_size=10, val_size=5, seed=0)
    assert (len(tr), len(va), len(te)) == (35, 5, 10)


def test_split_indices_errors():
    y = labels()
    with pytest.raises(DataError, match="100 samples cannot give 60 test and 40 validation"):
        split_indices(y, test_size=60, val_size=40)
    with pytest.raises(DataError, match=r"test_size gives 2 samples but a stratified split needs at least one "
                                        r"per class \(3 classes\)"):
        split_indices(y, test_size=2)
    split_indices(y, test_size=2, stratify=False)          # fine without stratification
    with pytest.raises(DataError, match="class 2 has only 1 sample"):
        split_indices(labels((10, 10, 1)), test_size=5)


def test_stratified_split_matches_sklearn_applied_to_the_arrays():
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(100, 4)), labels()
    (Xtr, ytr), (Xva, yva), (Xte, yte) = stratified_split(X, y, test_size=25, val_size=15, seed=4)
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=25, stratify=y, random_state=4)
    X_tr, X_val, _, _ = train_test_split(X_rest, y_rest, test_size=15, stratify=y_rest, random_state=4)
    assert np.array_equal(Xte, X_test) and np.array_equal(yte, y_test)
    assert np.array_equal(Xva, X_val) and np.array_equal(Xtr, X_tr)


def test_build_splits_given_test_is_kept_and_val_carved():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 6)), labels((20, 20))
    Xt, yt = rng.normal(size=(8, 6)), np.array([0, 1] * 4)
    s = build_splits((X, y), test=(Xt, yt), test_size=0.5, val_size=0.25, seed=0, shape=(2, 3), name="toy")
    assert torch.allclose(s.test[0], torch.from_numpy(Xt).float().reshape(8, 2, 3))
    assert len(s.train[0]) == 30 and len(s.val[0]) == 10          # test_size ignored: test was given
    assert s.input_shape == (2, 3) and s.num_classes == 2 and s.meta["source"] == "toy"
    assert s.train[0].dtype == torch.float32 and s.train[1].dtype == torch.int64


def test_build_splits_label_dtypes():
    X = np.zeros((6, 2))
    s = build_splits((X, np.array([True, False] * 3)))
    assert s.train[1].dtype == torch.int64 and s.num_classes == 2
    assert build_splits((X, np.arange(6, dtype=np.uint8))).train[1].dtype == torch.int64
    reg = build_splits((X, np.linspace(0, 1, 6)))
    assert reg.train[1].dtype == torch.float32 and reg.num_classes is None


def test_build_splits_errors():
    X = np.zeros((10, 6))
    with pytest.raises(DataError, match=r"toy: shape = \[4\] has 4 values but each sample has 6"):
        build_splits((X, np.zeros(10, np.int64)), shape=[4], name="toy")
    with pytest.raises(DataError, match=r"toy row 9: class ids must be >= 0 \(found -1;"):
        build_splits((X, np.array([0] * 9 + [-1])), name="toy")
    with pytest.raises(DataError, match="toy: X has 10 samples but y has 9"):
        build_splits((X, np.zeros(9, np.int64)), name="toy")
    with pytest.raises(DataError, match=r"toy row 9: class id 5 found but the data has 3 classes \(ids 0..2\)"):
        build_splits((X, np.array([0] * 9 + [5])), num_classes=3, name="toy")


def test_build_splits_reads_a_memmap_without_warnings(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(60, dtype=np.float32).reshape(20, 3))
    np.save(tmp_path / "y.npy", np.arange(20) % 2)
    X = np.load(tmp_path / "x.npy", mmap_mode="r")
    y = np.load(tmp_path / "y.npy", mmap_mode="r")
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # torch warns on non-writable arrays
        whole = build_splits((X, y))
        parts = build_splits((X, y), test_size=4, val_size=4)
    assert torch.equal(whole.train[0], torch.arange(60.).reshape(20, 3))
    whole.train[0][0, 0] = 5.0                   # tensors own their memory: the file is untouched
    assert np.load(tmp_path / "x.npy")[0, 0] == 0
    rows = torch.cat([parts.train[0], parts.val[0], parts.test[0]])[:, 0] // 3
    assert sorted(rows.tolist()) == list(range(20))


def test_kfold_partitions_every_sample_once_and_stratifies():
    y = labels((50, 30, 20))
    folds = kfold_indices(y, 5, seed=0)
    assert len(folds) == 5
    val = torch.cat([v for _, v in folds])
    assert sorted(val.tolist()) == list(range(100))
    for tr, va in folds:
        assert tr.dtype == torch.int64 and len(set(tr.tolist()) & set(va.tolist())) == 0
        assert len(tr) + len(va) == 100
        assert np.bincount(y[va.numpy()], minlength=3).tolist() == [10, 6, 4]     # exact proportions


def test_kfold_seeding_and_unstratified():
    y = labels((50, 30, 20))
    a, b, c = kfold_indices(y, 4, seed=1), kfold_indices(y, 4, seed=1), kfold_indices(y, 4, seed=2)
    assert all(torch.equal(p[1], q[1]) for p, q in zip(a, b))
    assert not all(torch.equal(p[1], q[1]) for p, q in zip(a, c))
    plain = kfold_indices(torch.from_numpy(y), 3, stratified=False)
    assert [len(v) for _, v in plain] == [34, 33, 33]
    reg = kfold_indices(np.linspace(0, 1, 10), 2)        # float targets: no stratification needed
    assert sorted(torch.cat([v for _, v in reg]).tolist()) == list(range(10))


def test_kfold_errors():
    with pytest.raises(ConfigError, match="k = 1: must be an integer >= 2"):
        kfold_indices(labels(), 1)
    with pytest.raises(DataError, match=r"k = 11: more folds than samples \(10\)"):
        kfold_indices(np.arange(10) % 2, 11)
    with pytest.raises(DataError, match="k = 5: class 2 has only 3 samples, fewer than the folds"):
        kfold_indices(labels((10, 10, 3)), 5)
    assert len(kfold_indices(labels((10, 10, 3)), 5, stratified=False)) == 5


def _ids(pair):
    """Sample ids: the tests below store each sample's row number as its only feature."""
    return set(pair[0][:, 0].long().tolist())


def test_build_splits_folds_partition_the_train_val_pool_stratified_and_seeded():
    y = labels((60, 30, 10))
    X = np.arange(100, dtype=np.float32)[:, None]
    parts = [build_splits((X, y), test_size=0.2, val_size=0.3, folds=5, fold=i, seed=2) for i in range(5)]
    test = _ids(parts[0].test)
    pool = set(range(100)) - test
    assert len(test) == 20 and len(pool) == 80
    vals = [_ids(p.val) for p in parts]
    assert sorted(i for v in vals for i in v) == sorted(pool)          # every pool sample validates once
    for p, val in zip(parts, vals):
        assert _ids(p.test) == test                                     # the test split never moves
        assert _ids(p.train) | val == pool and not _ids(p.train) & val   # val_size is unused
        counts = np.bincount(p.val[1].numpy(), minlength=3)
        assert np.abs(counts - np.array([48, 24, 8]) / 5).max() < 1                # stratified
    again = build_splits((X, y), test_size=0.2, folds=5, fold=3, seed=2)
    other = build_splits((X, y), test_size=0.2, folds=5, fold=3, seed=4)
    assert _ids(again.val) == vals[3] and _ids(other.val) != vals[3]


def test_build_splits_folds_pool_includes_a_given_validation_split():
    X = np.arange(60, dtype=np.float32)[:, None]
    y = labels((30, 30))
    given_val = (X[40:], y[40:])
    parts = [build_splits((X[:40], y[:40]), val=given_val, test_size=10, folds=3, fold=i) for i in range(3)]
    test = _ids(parts[0].test)
    assert len(test) == 10 and test < set(range(40))                  # carved from train, kept apart
    vals = [_ids(p.val) for p in parts]
    assert sorted(i for v in vals for i in v) == sorted(set(range(60)) - test)
    assert all(_ids(p.test) == test and not _ids(p.train) & v for p, v in zip(parts, vals))


def test_build_splits_fold_errors():
    X, y = np.zeros((100, 1), np.float32), labels((60, 30, 10))
    with pytest.raises(ConfigError, match=r"data.folds = 1: must be an integer >= 2"):
        build_splits((X, y), folds=1)
    with pytest.raises(ConfigError, match=r"data.fold = 5: must be an integer in 0..4"):
        build_splits((X, y), folds=5, fold=5)
    with pytest.raises(ConfigError, match=r"data.fold = -1: must be an integer in 0..2"):
        build_splits((X, y), folds=3, fold=-1)
    with pytest.raises(ConfigError, match=r"data.fold = 2: needs data.folds"):
        build_splits((X, y), fold=2)
    with pytest.raises(ConfigError, match=r"data.folds = True"):
        build_splits((X, y), folds=True)
    with pytest.raises(DataError, match=r"data.folds = 12: class 2 has only 10 samples in the "
                                        r"train\+val pool"):
        build_splits((X, y), folds=12)
    assert len(build_splits((X, y), folds=12, stratify=False).val[0]) in (8, 9)


def test_as_pair_converts_and_checks():
    X, y = as_pair(np.zeros((3, 2), np.float64), np.array([0, 1, 1]))
    assert X.dtype == torch.float32 and y.dtype == torch.int64
    with pytest.raises(DataError, match="X has 3 rows but y has 2"):
        as_pair(np.zeros((3, 2)), np.zeros(2))
    assert math.isclose(float(as_pair(np.ones((1, 1), np.uint8), np.zeros(1))[0]), 1.0)
