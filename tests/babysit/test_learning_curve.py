import numpy as np
import torch

from trainwell.babysit import learning_curve as lc
from trainwell.babysit.split_checks import check_splits
from trainwell.data.splits import Splits


def _rings(n, seed):
    """Three classes on rings of radius 1, 2 and 3 in the first two of 6 columns (noise 0.35): learnt
    from many rows, not from a few dozen."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    X = rng.normal(0, 1, (n, 6))
    X[:, 0] = (1 + y) * np.cos(angle) + rng.normal(0, 0.35, n)
    X[:, 1] = (1 + y) * np.sin(angle) + rng.normal(0, 0.35, n)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y)


def _blobs(n, seed):
    """Three classes 8 stds apart in one column: learnt from a handful of rows."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.normal(0, 1, (n, 6))
    X[:, 0] += 8.0 * y
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y)


def test_a_training_split_of_a_few_dozen_rows_on_data_that_needs_more_is_predicted_to_overfit():
    X, y = _rings(1000, 0)
    pairs = {"validation": (X[40:520], y[40:520]), "test": (X[520:], y[520:])}
    found = lc.check_learning_curve((X[:40], y[:40]), pairs)
    assert [f.code for f in found] == ["overfitting"]
    hit = found[0].evidence["curve"]
    assert hit["raw"] - hit["layers"] >= 0.03 and hit["rows"] == 40
    assert "40 rows are too few" in found[0].message
    # through the split checks, beside the sizes' warning
    splits = Splits(train=(X[:40], y[:40]), val=pairs["validation"], test=pairs["test"])
    assert {f.code for f in check_splits(splits)} >= {"overfitting", "split_mismatch"}


def test_few_rows_of_an_easy_relation_and_a_training_split_larger_than_the_others_stay_quiet():
    X, y = _blobs(1000, 1)
    assert lc.check_learning_curve((X[:40], y[:40]), {"validation": (X[40:520], y[40:520]),
                                                      "test": (X[520:], y[520:])}) == []
    X, y = _rings(1000, 2)
    assert lc.check_learning_curve((X[:600], y[:600]), {"validation": (X[600:800], y[600:800]),
                                                        "test": (X[800:], y[800:])}) == []


def test_a_regression_with_too_few_rows_is_read_by_its_squared_error():
    rng = np.random.default_rng(3)
    X = rng.normal(0, 1, (1000, 5))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + rng.normal(0, 0.2, 1000)
    X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    found = lc.check_learning_curve((X[:30], y[:30]), {"validation": (X[30:], y[30:])})
    assert [f.code for f in found] == ["overfitting"] and "squared error" in found[0].message


def test_few_rows_of_one_class_are_not_judged():
    X, _ = _rings(1000, 4)
    y = torch.zeros(1000, dtype=torch.long)
    y[-1] = 1                                    # one row of a second class: the 12 rows fitted hold one class
    assert lc.curve_points(X, y, 12, class_ids=True) is None
