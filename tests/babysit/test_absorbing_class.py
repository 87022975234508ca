"""label_problem (a warning): a class that holds rows of every other class (absorbing_class.py)."""
from types import SimpleNamespace

import torch

from trainwell.babysit import absorbing_class as ac
from trainwell.babysit.split_checks import check_splits


def table(n, centres, *, seed, noise=1.0, shares=None):
    """Rows of Gaussian classes around ``centres`` (k, d), in ``shares`` (equal by default)."""
    g = torch.Generator().manual_seed(seed)
    k, d = centres.shape
    p = torch.full((k,), 1.0 / k) if shares is None else torch.tensor(shares)
    y = torch.multinomial(p, n, replacement=True, generator=g)
    return centres[y] + noise * torch.randn(n, d, generator=g), y


def centres(k, d, *, seed, spread=1.5):
    return spread * torch.randn(k, d, generator=torch.Generator().manual_seed(seed))


def unlabelled_to(y, share, cls, *, seed):
    """``y`` with a random ``share`` of its rows (of every class) given the id ``cls``."""
    lost = torch.rand(len(y), generator=torch.Generator().manual_seed(seed)) < share
    return torch.where(lost, torch.tensor(cls), y)


def test_rows_without_a_label_made_class_0_are_found_and_the_annotated_rows_are_quiet():
    """Four classes; a quarter of the rows not annotated, argmax of their all-zero one-hot: class 0."""
    X, y = table(3200, centres(4, 8, seed=1), seed=2)
    assert ac.check_absorbing_classes(X, y) == []
    found = ac.check_absorbing_classes(X, unlabelled_to(y, 0.25, 0, seed=3))
    assert [f.code for f in found] == ["label_problem"] and found[0].severity == "warning"
    (absorbing,) = found[0].evidence["classes"]
    assert absorbing["class"] == 0 and [p["other"] for p in absorbing["pairs"]] == [1, 2, 3]
    # about 3/4 x 1/4 of the rows are other classes' copies, against class 0's own 1/4 + 1/16: ~ 0.6
    assert 0.4 < absorbing["share"] < 0.8
    assert "class 0" in found[0].message


def test_a_missing_label_filled_with_0_is_found_through_check_splits():
    """Three classes; a fifth of the rows lost their label and were filled with 0, in every split."""
    X, y = table(3000, centres(3, 6, seed=4), seed=5)
    y = unlabelled_to(y, 0.2, 0, seed=6)
    train, val, test = (X[:1800], y[:1800]), (X[1800:2400], y[1800:2400]), (X[2400:], y[2400:])
    found = [f for f in check_splits(SimpleNamespace(train=train, val=val, test=test)) if f.severity != "info"]
    assert [f.code for f in found] == ["label_problem"] and found[0].evidence["classes"][0]["class"] == 0


def test_classes_cut_from_an_output_that_is_noise_over_half_the_inputs_are_quiet():
    """Power classes at the tertiles of 3 relu(x0)^2 + noise (a turbine off the wind makes nothing):
    where x0 < 0 the noise alone picks the class, so the top class holds rows like class 0's and like
    class 1's, but they are the same rows (of the region the two share), in both cores at once; a
    default id holds rows of each class apart. Four seeds: each found without that condition."""
    for seed in range(4):
        g = torch.Generator().manual_seed(50 + seed)
        X = torch.randn(2400, 4, generator=g)
        power = 3 * torch.relu(X[:, 0]) ** 2 + 0.5 * torch.randn(2400, generator=g)
        y = torch.bucketize(power, torch.quantile(power, torch.tensor([1 / 3, 2 / 3])))
        assert ac.check_absorbing_classes(X, y) == []


def test_label_noise_both_ways_overlap_and_imbalance_are_quiet():
    X, y = table(3200, centres(4, 8, seed=7), seed=8)
    # symmetric noise: a fifth of the rows given a random class (every class gains and loses alike)
    g = torch.Generator().manual_seed(9)
    flip = torch.rand(len(y), generator=g) < 0.2
    assert ac.check_absorbing_classes(X, torch.where(flip, torch.randint(0, 4, y.shape, generator=g), y)) == []
    # classes that overlap heavily (a third of a noise std apart), one ten times as common as each other
    Xo, yo = table(4000, centres(3, 5, seed=10, spread=0.35), seed=11, shares=[10 / 12, 1 / 12, 1 / 12])
    assert ac.check_absorbing_classes(Xo, yo) == []
    # random labels: every class is a mixture of every class, alike
    assert ac.check_absorbing_classes(X, torch.randint(0, 4, y.shape, generator=g)) == []


def test_a_class_that_holds_rows_of_only_some_classes_is_not_a_default_id():
    """A fifth of class 1's rows relabelled 0 (a confusion between two classes, not rows of every class)."""
    X, y = table(3200, centres(4, 8, seed=12), seed=13)
    moved = (y == 1) & (torch.rand(len(y), generator=torch.Generator().manual_seed(14)) < 0.2)
    assert ac.check_absorbing_classes(X, torch.where(moved, torch.tensor(0), y)) == []


def test_not_judged_on_images_few_rows_or_one_class():
    X, y = table(600, centres(3, 16, seed=15), seed=16)
    y = unlabelled_to(y, 0.3, 0, seed=17)
    assert ac.absorbing_classes(X.reshape(600, 1, 4, 4), y) == []        # not a table
    assert ac.absorbing_classes(X[:40], y[:40]) == []                     # a class under MIN_CLASS_ROWS
    assert ac.absorbing_classes(X, torch.zeros_like(y)) == []             # one class
    two = table(2000, centres(2, 6, seed=20), seed=21)
    assert ac.absorbing_classes(two[0], unlabelled_to(two[1], 0.2, 0, seed=22)) == []   # two classes: a broad
                                                                          # class or positive-unlabelled data
