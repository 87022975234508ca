"""mismatch_cost: a split_mismatch warning stays a warning only where it costs a model trained on the
training split (probes fitted on it score the split worse than held-back training rows)."""
from types import SimpleNamespace

import torch

from trainwell.babysit import mismatch_cost as mc
from trainwell.babysit import split_checks as sp
from trainwell.babysit.label_leak import check_label_leak


def _table(n, seed, *, noise_shift=0.0, signal_shift=0.0):
    """Two classes set by columns 0 and 1 (a margin wide enough for a probe); column 2 noise. A split
    drawn with ``noise_shift`` added to its noise column, ``signal_shift`` to its column 0."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).long()
    X[:, 2] += noise_shift
    X[:, 0] += signal_shift
    return X, y


def _splits(train, val, test=None):
    return SimpleNamespace(train=train, val=val, test=test)


def _mismatches(found):
    return [(f.where, f.severity) for f in found if f.code == "split_mismatch"]


def test_a_shift_of_a_column_the_labels_do_not_need_is_info_and_of_one_they_need_a_warning():
    train = _table(1200, 0)
    noise = sp.check_splits(_splits(train, _table(400, 1, noise_shift=2.0)))
    assert _mismatches(noise) == [("validation", "info")]
    assert noise[0].evidence["cost"]["validation"]["costs"] is False and "measured by intervention" in noise[0].message
    signal = sp.check_splits(_splits(train, _table(400, 1, signal_shift=2.0)))
    assert _mismatches(signal) == [("validation", "warning")]
    assert "cost" not in signal[0].evidence


def test_a_small_training_split_from_the_same_distribution_is_info():
    """``test_size`` read as the training share: 300 training rows, 900 validation rows of one
    distribution; a probe fitted on the training rows scores both alike (the data's learning curve is
    learning_curve's to read)."""
    X, y = _table(1200, 2)
    found = sp.check_splits(_splits((X[:300], y[:300]), (X[300:], y[300:])))
    sizes = [f for f in found if f.where == "validation size"]
    assert len(sizes) == 1 and sizes[0].severity == "info"
    assert sizes[0].evidence["cost"]["validation"]["rows"] == [300, 900]


def _leaky(n, seed, *, leak: bool, informative: float):
    """Column 3 holds the label (5 % flipped) on training rows and 0 elsewhere; columns 0-2 tell the
    label with ``informative`` weight against unit noise."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    X = torch.randn(n, 4, generator=g)
    X[:, :3] += informative * (2 * y[:, None] - 1)
    flipped = torch.where(torch.rand(n, generator=g) < 0.05, 1 - y, y)
    X[:, 3] = flipped.float() if leak else 0.0
    return X, y


def _graded_leak(informative):
    train, val = _leaky(1200, 3, leak=True, informative=informative), _leaky(400, 4, leak=False,
                                                                              informative=informative)
    found = check_label_leak(train, {"validation": val})
    assert [f.where for f in found] == ["column 3"]
    mc.grade_mismatches(found, _splits(train, val))
    return found[0]


def test_a_leak_costs_where_the_other_columns_tell_little_and_is_info_where_they_tell_the_labels():
    assert _graded_leak(0.3).severity == "warning"
    strong = _graded_leak(2.0)
    assert strong.severity == "info" and not strong.evidence["cost"]["validation"]["costs"]


def test_transfer_agrees_on_one_distribution_and_measures_images_with_random_convolutions():
    cost = mc.transfer(_table(900, 5), _table(300, 6))
    assert cost["costs"] is False and abs(cost["z"]) < mc.z_alpha()
    # images: a bright 2x2 spot anywhere (class 1) or none; the training images dimmed by a half
    g = torch.Generator().manual_seed(7)

    def spots(n, gain):
        X, y = 0.1 * torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 2, (n,), generator=g)
        for i in torch.nonzero(y).flatten().tolist():
            r, c = torch.randint(0, 7, (2,), generator=g).tolist()
            X[i, 0, r:r + 2, c:c + 2] += 1.0
        return gain * X, y
    cost = mc.transfer(spots(600, 1.0), spots(200, 1.0))
    assert cost["probe"] == "random convolutions" and cost["costs"] is False


def test_errors_and_unmeasurable_splits_are_left_as_found():
    train = (torch.zeros(10, 2), torch.tensor([0, 1] * 5))
    assert mc.transfer(train, train) is None                       # fewer than MIN_ROWS rows
    found = sp.check_splits(_splits((torch.randn(200, 2), torch.zeros(200, dtype=torch.long)),
                                    (torch.randn(100, 2), torch.ones(100, dtype=torch.long))))
    assert _mismatches(found) == [("validation", "error")]


def test_a_leak_is_measured_only_by_a_probe_that_learns_the_training_rows_as_well_as_the_leak_does():
    """A category id read as a number: the one-column probe of the leak learns 50 % of the classes, the
    probes over every column 37 %; they cannot say what the column costs, and the warning stays."""
    from trainwell.babysit.findings import make
    leak = make("split_mismatch", "a leak", evidence={"columns": [{"column": 0, "split": "validation", "train": 0.5}]})
    weak = {"train_scaled": 0.63, "class_ids": True}
    strong = {"train_scaled": 0.40, "class_ids": True}
    assert not mc._learns_the_leak(leak, weak) and mc._learns_the_leak(leak, strong)
    shift = make("split_mismatch", "a shift", evidence={"split": "validation"})
    assert mc._learns_the_leak(shift, weak)                 # no leak: nothing to learn first
    values = make("split_mismatch", "a leak", evidence={"columns": [{"column": 0, "split": "test", "train": -0.2}]})
    assert mc._learns_the_leak(values, {"train_scaled": 0.1, "class_ids": False})
    assert not mc._learns_the_leak(values, {"train_scaled": 0.5, "class_ids": False})
