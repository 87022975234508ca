"""Flipped copies in the training split (mirror_copies.py, through split_checks.check_splits)."""
from types import SimpleNamespace

import torch

from trainwell.babysit import mirror_copies as mc
from trainwell.babysit.split_checks import check_splits


def images(n, *, seed, classes=4, size=12):
    """(n, 1, size, size) noisy images lit from the left (the left half brighter) with class c's
    bright bar in column 1 + c: a flipped copy is lit from the right, its bar on the other side."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % classes
    X = 0.3 * torch.randn(n, 1, size, size, generator=g)
    X[..., : size // 2] += 1.0
    X[torch.arange(n), 0, :, 1 + y] += 2.0
    return X, y


def doubled(X, y, *, seed, labels_indexed=True):
    """The training split with one flipped copy of every row, in a permuted order; the copies'
    labels ``y[idx]`` (as the images) or ``y`` (the index forgotten)."""
    idx = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    return torch.cat([X, X[idx].flip(-1)]), torch.cat([y, y[idx] if labels_indexed else y])


def splits(*, labels_indexed):
    X, y = images(1800, seed=1)
    train = doubled(X[:1200], y[:1200], seed=2, labels_indexed=labels_indexed)
    return SimpleNamespace(train=train, val=(X[1200:1500], y[1200:1500]), test=(X[1500:], y[1500:]))


def test_a_split_augmented_with_flips_is_compared_with_its_splits_flipped_alike():
    """Healthy offline augmentation: the per-pixel class means of training are those of the rows and
    their mirrors; validation's rows flipped the same way hold that mix: no split_mismatch."""
    s = splits(labels_indexed=True)
    assert sorted(mc.mirrored_axes(s.train[0])) == [3]
    assert [f for f in check_splits(s) if f.severity != "info"] == []
    # the unflipped splits do differ per pixel from the augmented training split (what was read before)
    unflipped = SimpleNamespace(train=s.train, val=s.val, test=s.test)
    from trainwell.babysit import split_checks
    assert [f.code for f in split_checks._features(unflipped.train, "validation", unflipped.val)] == ["split_mismatch"]


def test_copies_labelled_with_other_rows_labels_are_a_label_problem():
    s = splits(labels_indexed=False)
    found = [f for f in check_splits(s) if f.severity != "info"]
    assert [f.code for f in found] == ["label_problem"] and found[0].severity == "warning"
    assert found[0].evidence["disagree"] > 0.5 and found[0].evidence["class_map"] < mc.CLASS_MAP


def test_classes_that_are_mirror_images_of_each_other_are_a_class_map():
    """Class 1 is class 0 flipped (a left and a right arrow): every mirror pair disagrees, by a map."""
    X, y = images(1200, seed=3, classes=2)
    X[y == 1] = X[y == 0].flip(-1)
    train = (torch.cat([X[:800], X[:800].flip(-1)]), torch.cat([y[:800], 1 - y[:800]]))
    assert mc.check_mirror_labels(*train) == []


def test_distinct_rows_and_symmetric_rows_are_no_mirrors():
    X, _ = images(400, seed=4)
    assert mc.mirrored_axes(X) == {}
    symmetric = X + X.flip(-1)                     # each row its own mirror: no copy of another row
    assert mc.mirrored_axes(symmetric) == {}
    assert mc.mirrored_axes(torch.randn(50, 8)) == {}   # a table: no axis to flip
