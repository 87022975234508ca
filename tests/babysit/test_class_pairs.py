"""label_problem (a warning): two class ids the inputs cannot tell apart (class_pairs.py)."""
import math
from types import SimpleNamespace

import torch

from trainwell.babysit import class_pairs as cp
from trainwell.babysit.split_checks import check_splits


def table(n, centres, *, seed, noise=1.0):
    """Rows of Gaussian classes around ``centres`` (k, d), the same number of rows each."""
    g = torch.Generator().manual_seed(seed)
    k, d = centres.shape
    y = torch.arange(n) % k
    return centres[y] + noise * torch.randn(n, d, generator=g), y


def centres(k, d, *, seed, spread=3.0):
    return spread * torch.randn(k, d, generator=torch.Generator().manual_seed(seed))


def test_auc_matches_an_independent_count_and_the_null_sd_matches_random_draws():
    g = torch.Generator().manual_seed(0)
    pos, neg = torch.randn(40, generator=g) + 0.5, torch.randn(60, generator=g)
    pos[:5] = neg[:5]                                   # ties count half
    pairs = (pos[:, None] > neg[None, :]).double() + 0.5 * (pos[:, None] == neg[None, :]).double()
    assert math.isclose(cp.auc(pos, neg), float(pairs.mean()), abs_tol=1e-12)
    draws = torch.tensor([cp.auc(torch.randn(50, generator=g), torch.randn(150, generator=g)) for _ in range(400)])
    assert abs(float(draws.std()) - cp.null_sd(50, 150)) < 0.15 * cp.null_sd(50, 150)
    assert abs(float(draws.mean()) - 0.5) < 0.01


def test_a_class_split_in_two_ids_is_named_and_the_real_classes_are_not():
    """Four classes of 1,000 rows; a third of class 2's rows carry id 4 (its name typed another way)."""
    X, y = table(4000, centres(4, 6, seed=1), seed=2)
    split = (y == 2) & (torch.rand(len(y), generator=torch.Generator().manual_seed(3)) < 1 / 3)
    y = torch.where(split, torch.tensor(4), y)
    found = cp.check_class_pairs(X, y)
    assert [f.code for f in found] == ["label_problem"] and found[0].severity == "warning"
    assert [p["pair"] for p in found[0].evidence["pairs"]] == [(2, 4)]
    pair = found[0].evidence["pairs"][0]
    assert pair["upper"] < cp.SAME_AUC and pair["apart"] >= cp.APART_AUC
    assert "classes 2 and 4" in found[0].message
    # the same data with the names merged: quiet
    assert cp.check_class_pairs(X, torch.where(y == 4, torch.tensor(2), y)) == []


def test_the_split_pair_is_found_through_check_splits_on_every_splits_rows():
    """Class 0's rows half under id 3, in every split: the 1,800 training rows alone leave the bound
    above the margin, the 3,000 rows of the three splits narrow it below."""
    X, y = table(3000, centres(3, 5, seed=4), seed=5)
    y = torch.where((y == 0) & (torch.arange(len(y)) % 2 == 0), torch.tensor(3), y)
    train, val, test = (X[:1800], y[:1800]), (X[1800:2400], y[1800:2400]), (X[2400:], y[2400:])
    found = check_splits(SimpleNamespace(train=train, val=val, test=test))
    assert [f.code for f in found if f.severity != "info"] == ["label_problem"]
    assert [p["pair"] for p in found[-1].evidence["pairs"]] == [(0, 3)]


def test_real_classes_that_overlap_are_not_one_class():
    """Two classes half a noise std apart (AUC ~ 0.64 for the best rule), many rows: the bound stays above
    the margin; a third class far away."""
    c = torch.zeros(3, 4)
    c[1, 0] = 0.5
    c[2] = 4.0
    X, y = table(3000, c, seed=6)
    assert cp.check_class_pairs(X, y) == []


def test_inputs_unrelated_to_every_label_say_nothing_here():
    """Random labels: every pair at chance, but no pair is told from the rest either (the probes
    learned nothing: uninformative_inputs' matter, not a split class)."""
    g = torch.Generator().manual_seed(7)
    X, y = torch.randn(2000, 6, generator=g), torch.randint(0, 4, (2000,), generator=g)
    assert cp.indistinguishable_pairs(X, y) == []
    F = cp.features(X, torch.Generator().manual_seed(0))
    assert cp.pair_probe_auc(F, y, (0, 1)) < cp.SAME_AUC - 3.5 * cp.null_sd(2000, 2000)   # the bound alone passes


def test_images_few_rows_and_two_classes_are_not_judged():
    X, y = table(6000, centres(4, 6, seed=8), seed=10)
    y = torch.where((y == 1) & (torch.arange(len(y)) // 4 % 2 == 0), torch.tensor(4), y)
    assert cp.indistinguishable_pairs(X, y) != []
    assert cp.indistinguishable_pairs(X.reshape(-1, 1, 1, 2, 3), y) == []          # neither table, signal nor image
    assert cp.indistinguishable_pairs(X[:160], y[:160]) == []                      # < MIN_CLASS_ROWS a class
    two = (y == 1) | (y == 4)                                                       # the pair alone: nothing else
    assert cp.indistinguishable_pairs(X[two], y[two]) == []


def test_classes_cut_from_one_noisy_quantity_are_real_classes():
    """Low / medium / high of a quantity that is noise below a knee (max(0, x0)^2 + noise): low and
    medium overlap heavily (both the multinomial odds and a probe of the two classes alone rank them
    at AUC ~0.55-0.56, inside the margin's bound with 2,000 rows a class), but medium lies nearer
    high than low does: the third class's log-probability ranks them apart, and they stay quiet."""
    g = torch.Generator().manual_seed(11)
    X = torch.randn(6000, 4, generator=g)
    amount = X[:, 0].clamp_min(0) ** 2 + 0.5 * torch.randn(6000, generator=g)
    y = torch.bucketize(amount, torch.quantile(amount, torch.tensor([1 / 3, 2 / 3])))
    assert cp.indistinguishable_pairs(X, y) == []
    F = cp.features(X, torch.Generator().manual_seed(0))
    assert cp.pair_probe_auc(F, y, (0, 1)) < cp.SAME_AUC - 3.5 * cp.null_sd(2000, 2000)   # the bound alone passes


def sessions(n, *, seed, length=10):
    """Sessions of ``length`` event codes (3-8 routine): class 0 holds event 1 before event 2, class 1
    event 2 before event 1, class 2 event 9 and one of 1, 2. Classes 0 and 1 share every event's
    count and every position's mean code: only the order tells them apart."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    X = torch.randint(3, 9, (n, length), generator=g)
    for i in range(n):
        a, b = sorted(torch.randperm(length, generator=g)[:2].tolist())
        first, second = {0: (1, 2), 1: (2, 1), 2: (9, 1 + int(torch.randint(2, (1,), generator=g)))}[int(y[i])]
        X[i, a], X[i, b] = first, second
    return X.float(), y


def test_classes_told_apart_by_the_order_of_coded_events_are_not_one_class():
    """The raw codes' probes (a linear model on the codes' magnitudes, neighbours by their distances)
    see classes 0 and 1 alike; the one-hot probe of each position's code tells them apart."""
    X, y = sessions(2400, seed=11)
    F = cp.features(X, torch.Generator().manual_seed(0))
    assert cp.pair_probe_auc(F, y, (0, 1)) < cp.SAME_AUC             # the raw probe alone would call them one
    assert cp.pair_probe_auc(cp.coded_features(X), y, (0, 1)) > 0.9
    assert cp.check_class_pairs(X, y) == []


def test_a_class_split_in_two_ids_is_still_found_in_coded_events():
    """The same sessions with a third of class 2's rows under id 3: the one-hot probe cannot tell
    those apart either."""
    X, y = sessions(3000, seed=12)
    y = torch.where((y == 2) & (torch.arange(len(y)) % 9 == 2), torch.tensor(3), y)
    found = cp.check_class_pairs(X, y)
    assert [p["pair"] for p in found[0].evidence["pairs"]] == [(2, 3)]
    assert found[0].evidence["pairs"][0]["code_probe"] < cp.SAME_AUC


def test_coded_features_one_hot_whole_number_columns_only():
    X = torch.tensor([[1.0, 0.5, 0.0], [2.0, 1.5, 1.0], [3.0, 2.5, 0.0]])
    F = cp.coded_features(X)
    assert F.shape == (3, 3 + 1 + 2)                # 3 codes, 1 measured column, a 0/1 column's two codes
    assert cp.coded_features(torch.tensor([[0.0, 1.0], [1.0, 0.0]])) is None    # 0/1 columns only


def tones(n, cycles, *, seed, length=64, noise=0.5):
    """Signals ``(n, 1, length)``: class k a sine of ``cycles[k]`` cycles a window at a random phase and
    amplitude 0.7-1.3, a weaker harmonic at twice the frequency, noise; the same number of rows each."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % len(cycles)
    f = torch.tensor(cycles, dtype=torch.float64)[y][:, None]
    t = torch.arange(length, dtype=torch.float64) / length
    phase = lambda: 6.3 * torch.rand(n, 1, generator=g, dtype=torch.float64)     # noqa: E731
    amplitude = 0.7 + 0.6 * torch.rand(n, 1, generator=g, dtype=torch.float64)
    x = amplitude * torch.sin(2 * math.pi * f * t + phase()) + 0.3 * torch.sin(4 * math.pi * f * t + phase()) \
        + noise * torch.randn(n, length, generator=g, dtype=torch.float64)
    return x.float()[:, None], y


def test_signals_of_two_classes_made_one_are_found_and_the_real_classes_are_not():
    """Tones of 3, 5 and 8 cycles at random phases (a linear probe on the raw steps is at chance on
    every pair; the neighbours and the spectrum tell them apart); the same signals with class 1's
    rows drawn as class 0's (a filter that removed what told them apart): the pair is found."""
    X, y = tones(3000, [3.0, 5.0, 8.0], seed=13)
    assert cp.check_class_pairs(X, y) == []
    X, y = tones(3000, [3.0, 3.0, 8.0], seed=13)
    found = cp.check_class_pairs(X, y)
    assert [f.code for f in found] == ["label_problem"] and found[0].severity == "warning"
    pair = found[0].evidence["pairs"][0]
    assert pair["pair"] == (0, 1) and pair["spectrum_probe"] + 0.05 < cp.SAME_AUC


def test_signals_with_label_noise_and_overlapping_classes_are_not_one_class():
    """Tones of 4, 5 and 8 cycles in heavy noise (the 4- and 5-cycle classes overlap) with a tenth of
    the labels redrawn at random: hard, noisy, but learnable classes stay quiet."""
    X, y = tones(3000, [4.0, 5.0, 8.0], seed=14, noise=1.5)
    g = torch.Generator().manual_seed(15)
    noisy = torch.rand(len(y), generator=g) < 0.1
    y = torch.where(noisy, torch.randint(0, 3, (len(y),), generator=g), y)
    assert cp.check_class_pairs(X, y) == []


def test_a_table_with_label_noise_and_overlapping_classes_is_not_one_class():
    """scikit-learn's ``make_classification`` with ``class_sep=0.5`` and 10 % of the labels flipped."""
    from sklearn.datasets import make_classification
    X, y = make_classification(3000, 8, n_informative=4, n_classes=3, class_sep=0.5, flip_y=0.1, random_state=16)
    assert cp.check_class_pairs(torch.tensor(X).float(), torch.tensor(y)) == []


def spots(n, *, seed, size=16):
    """Images ``(n, 1, size, size)`` of a grey background (0.5 +- 0.05) with one mark at a random
    place: class 0 a dark 2x2 pit, 1 a dark 1x4 scratch, 2 a bright 2x2 spot."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    X = 0.5 + 0.05 * torch.randn(n, 1, size, size, generator=g)
    rows, cols = torch.randint(0, size - 4, (2, n), generator=g)
    for i in range(n):
        r, c, k = int(rows[i]), int(cols[i]), int(y[i])
        X[i, 0, r:r + (1 if k == 1 else 2), c:c + (4 if k == 1 else 2)] = 1.0 if k == 2 else 0.0
    return X, y


def test_marks_at_random_places_are_told_apart_by_their_spectrum(monkeypatch):
    """A pit and a scratch anywhere in a 24x24 image: the raw pixels' probes see them alike (a
    linear model or neighbours read a pixel's value wherever the mark lies), the spectrum, the same
    wherever the mark lies, tells them apart (a convolution pooled over the image reads their shapes)."""
    X, y = spots(3000, seed=17, size=24)
    S = cp.features(cp.spectrum_features(X), torch.Generator().manual_seed(0))
    assert cp.pair_probe_auc(S, y, (0, 1)) > 0.9
    assert cp.check_class_pairs(X, y) == []
    monkeypatch.setattr(cp, "spectrum_features", lambda x: x.reshape(len(x), -1))   # the raw pixels again
    assert [p["pair"] for p in cp.indistinguishable_pairs(X, y)] == [(0, 1)]    # the raw probes alone call them one


def test_spectrum_features_read_the_steps_or_the_image_axes_and_drop_rounding():
    x = torch.randn(5, 2, 16)
    assert cp.spectrum_features(x).shape == (5, 2 * 9)                        # channels first: the longer axis
    steps_last = cp.spectrum_features(x.transpose(1, 2)).reshape(5, 9, 2).transpose(1, 2).reshape(5, -1)
    assert torch.allclose(steps_last, cp.spectrum_features(x))               # channels last: the same
    assert torch.allclose(cp.spectrum_features(x), cp.spectrum_features(x.roll(3, dims=2)))   # shift-invariant
    assert cp.spectrum_features(torch.randn(5, 3, 8, 8)).shape == (5, 3 * 8 * 5)
    centred = x - x.mean(-1, keepdim=True)                                   # the zero frequency: rounding only
    assert bool((cp.spectrum_features(centred).reshape(5, 2, 9)[:, :, 0] == 0).all())


def test_a_class_under_three_ids_is_found_though_each_pair_lies_beside_the_third_id():
    """Class 1's rows under ids 1, 2 and 3 (a name typed three ways; a size token dropped from three
    of four boxes), as many rows each as class 0: each pair's union is not told from the rest, half
    of which is the third id's rows, one class with it; against the classes outside the three it is."""
    c = centres(4, 6, seed=18)
    c[2] = c[3] = c[1]
    X, y = table(4000, c, seed=19)
    found = cp.check_class_pairs(X, y)
    pairs = [p["pair"] for p in found[0].evidence["pairs"]]
    assert pairs and set(sum(map(list, pairs), [])) <= {1, 2, 3}
    assert all(p["apart"] >= cp.APART_AUC for p in found[0].evidence["pairs"])
    logp = cp.out_of_fold_log_probs(cp.features(X, torch.Generator().manual_seed(0)), y, 4)
    mean = sum(logp.values()) / 2
    assert cp.union_auc(mean, y, (1, 2)) < cp.APART_AUC <= cp.union_auc(mean, y, {1, 2, 3})   # the pair alone: not apart


def test_groups_join_pairs_that_share_a_class():
    g = cp.groups([(0, 1), (1, 2), (4, 5)])
    assert g[0] == g[2] == {0, 1, 2} and g[5] == {4, 5} and 3 not in g
