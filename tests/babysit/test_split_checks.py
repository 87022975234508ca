"""split_mismatch: validation and test targets against the training split's."""
import math
from types import SimpleNamespace

import pytest
import torch

from babysit_loop import digits
from trainwell.babysit import split_checks as sp


def splits(train_y, val_y=None, test_y=None):
    pair = (lambda y: None if y is None else (torch.zeros(len(y), 1), y))
    return SimpleNamespace(train=pair(train_y), val=pair(val_y), test=pair(test_y))


def test_expected_tv_matches_random_splits():
    """The normal approximation against the mean TV of random splits drawn from one distribution."""
    g = torch.Generator().manual_seed(0)
    p = torch.tensor([0.5, 0.2, 0.15, 0.1, 0.05], dtype=torch.float64)
    n, m = 600, 200
    tvs = []
    for _ in range(400):
        a = torch.bincount(torch.multinomial(p, n, replacement=True, generator=g), minlength=5).double() / n
        b = torch.bincount(torch.multinomial(p, m, replacement=True, generator=g), minlength=5).double() / m
        tvs.append(0.5 * float((a - b).abs().sum()))
    simulated = sum(tvs) / len(tvs)
    assert abs(sp.expected_tv(p, n, m) - simulated) < 0.1 * simulated
    # the bound is far above sampling noise: no random split of these sizes reaches it
    assert max(tvs) < sp.TV_HIGH


def test_classes_absent_from_training_are_an_error_for_each_split():
    _, y, _, _ = digits()
    order = torch.argsort(y, stable=True)
    ys = y[order]                              # rows grouped by class, cut 60 / 20 / 20 in file order
    a, b = int(0.6 * len(ys)), int(0.8 * len(ys))
    found = sp.check_splits(splits(ys[:a], ys[a:b], ys[b:]))
    assert [f.where for f in found] == ["validation", "test"]
    assert all(f.code == "split_mismatch" and f.severity == "error" for f in found)
    train_classes = set(ys[:a].tolist())
    assert set(found[1].evidence["unseen_classes"]) == set(ys[b:].tolist()) - train_classes
    assert found[1].evidence["unseen_share"] == 1.0


def test_a_random_split_is_silent_and_shifted_shares_are_only_info():
    _, y, _, yv = digits()
    assert sp.check_splits(splits(y, yv)) == []
    # validation holds every class, but two thirds of it is classes 0-2: shares differ (resampling), info
    low = yv[yv < 3]
    skewed = torch.cat([low, low, yv[yv >= 3][: len(low)]])
    found = sp.check_splits(splits(y, skewed))
    assert len(found) == 1 and found[0].severity == "info" and found[0].evidence["tv"] > sp.TV_HIGH
    # a shift within sampling noise on small splits is no finding: 30 validation rows, TV ~0.3
    g = torch.Generator().manual_seed(1)
    small = y[torch.randperm(len(y), generator=g)[:30]]
    tv = 0.5 * float((torch.bincount(small, minlength=10) / 30 - torch.bincount(y, minlength=10) / len(y)).abs().sum())
    assert tv > sp.TV_HIGH and sp.check_splits(splits(y, small)) == []


def test_a_training_split_oversampled_on_purpose_raises_no_alarm():
    """A minority class repeated 8x to balance training: the class shares differ from validation's
    by design, each class's inputs do not (the same rows, repeated)."""
    X, y, Xv, yv = digits()
    keep = (y != 1) | (torch.arange(len(y)) % 8 == 0)      # class 1 made rare (1 row in 8) ...
    X, y = X[keep], y[keep]
    rare = y == 1
    Xo, yo = torch.cat([X] + [X[rare]] * 7), torch.cat([y] + [y[rare]] * 7)   # ... and repeated to balance
    pair = SimpleNamespace(train=(Xo, yo), val=(Xv, yv), test=None)
    found = sp.check_splits(pair)
    assert [f.severity for f in found] in ([], ["info"])
    assert not [f for f in sp.check_splits(SimpleNamespace(train=(X, y), val=(Xv, yv), test=None))
                if f.severity != "info"]


def test_the_same_class_with_other_inputs_is_a_mismatch():
    """Validation rows whose inputs are shifted (a unit-std offset on a quarter of the features,
    e.g. another sensor's calibration) for every class: a warning naming the features; the digits'
    own random split is silent."""
    X, y, Xv, yv = digits()
    assert sp.check_splits(SimpleNamespace(train=(X, y), val=(Xv, yv), test=None)) == []
    shifted = Xv.clone()
    shifted[:, 16:32] += X[:, 16:32].std(dim=0)
    found = sp.check_splits(SimpleNamespace(train=(X, y), val=(shifted, yv), test=None))
    assert [f.severity for f in found] == ["warning"] and found[0].code == "split_mismatch"
    assert all(16 <= j < 32 for j in found[0].evidence["shifted_features"])
    assert found[0].evidence["z"] > sp.SHIFT_Z and abs(found[0].evidence["shift"]) > sp.SHIFT


def rhythms(n, seed, rate=1.0):
    """(n, 1, 64) windows of a sine of 3, 5 or 8 cycles (the class) at a random phase, with noise;
    ``rate``: samples per unit of time (2: the window spans half the time, half the cycles)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    cycles = torch.tensor([3.0, 5.0, 8.0])[y] / rate
    t = torch.arange(64) / 64
    phase = torch.rand(n, 1, generator=g) * 2 * math.pi
    x = torch.sin(2 * math.pi * cycles[:, None] * t + phase) + 0.3 * torch.randn(n, 64, generator=g)
    return x[:, None, :], y


def test_a_signal_at_another_sampling_rate_is_a_mismatch_through_its_structure_function():
    """Every position's mean and spread are the same at either rate (a random phase): only the
    structure function tells the splits apart."""
    X, y = rhythms(1200, 0)
    Xv, yv = rhythms(400, 1)
    assert sp.check_splits(SimpleNamespace(train=(X, y), val=(Xv, yv), test=None)) == []
    Xs, ys = rhythms(400, 1, rate=2.0)
    found = sp.check_splits(SimpleNamespace(train=(X, y), val=(Xs, ys), test=None))
    assert [f.code for f in found] == ["split_mismatch"] and found[0].evidence["structure"]
    assert "structure function at lag" in found[0].message
    # independent reference: lag 1 of one row is half the mean squared step
    row = Xs[0, 0].double()
    assert sp.structure(Xs[:1].double())[0, 0] == pytest.approx(float(((row[1:] - row[:-1]) ** 2).mean() / 2))
    flat = sp.check_splits(SimpleNamespace(train=(X[:, 0], y), val=(Xs[:, 0], ys), test=None))
    assert not any(f.evidence.get("structure") for f in flat)          # a table's columns have no lags


def test_training_classes_a_split_lacks_are_a_warning_only_when_sampling_cannot_explain_it():
    _, y, _, yv = digits()
    lacking = yv[yv != 4]                      # ~40 rows of class 4 expected: sorted out
    found = sp.check_splits(splits(y, lacking))
    assert [f.severity for f in found] == ["warning"] and found[0].evidence["absent_classes"] == [4]
    few = lacking[:40]                         # 40 rows: ~4 of class 4 expected, absent by chance often enough
    assert [f for f in sp.check_splits(splits(y, few)) if f.severity != "info"] == []


def test_regression_splits_cut_in_target_order_warn():
    g = torch.Generator().manual_seed(2)
    y = torch.randn(1000, generator=g)
    shuffled = sp.check_splits(splits(y[:600], y[600:800], y[800:]))
    assert shuffled == []
    s = torch.sort(y).values                   # sorted by target, cut in order: val and test above train
    found = sp.check_splits(splits(s[:600], s[600:800], s[800:]))
    assert [f.where for f in found] == ["validation", "test"]
    assert all(f.severity == "warning" and f.evidence["outside_share"] == 1.0 for f in found)
    assert math.isclose(found[0].evidence["expected_share"], 2 / 601)


def test_missing_splits_and_other_targets_are_skipped():
    y = torch.arange(10).repeat(10)
    assert sp.check_splits(splits(y)) == []
    assert sp.check_splits(splits(y, y.float())) == []          # dtypes differ: nothing to compare
    assert sp.check_splits(SimpleNamespace(train=(torch.zeros(3, 1), [0, 1, 2]), val=None, test=None)) == []


def test_a_rare_unseen_class_is_a_warning_and_messages_stay_short():
    train = torch.arange(50).repeat(20)                       # classes 0..49
    rare = torch.cat([torch.arange(50).repeat(4), torch.tensor([50])])   # one row of class 50 in 201
    found = sp.check_splits(splits(train, rare))
    assert found[0].severity == "warning" and found[0].evidence["unseen_classes"] == [50]
    many = sp.check_splits(splits(train, torch.arange(100, 160)))       # 60 classes never seen
    assert many[0].severity == "error" and "60 in all" in many[0].message and len(many[0].message) < 400


def test_doctor_reports_a_split_cut_in_class_order():
    import trainwell
    from babysit_loop import mlp
    X, y, _, _ = digits()
    order = torch.argsort(y, stable=True)
    X, y = X[order], y[order]
    diag = trainwell.doctor(mlp(), (X[:1000], y[:1000]), (X[1000:], y[1000:]), probe=False, budget_s=3.0)
    assert diag.ranked()[0].code == "split_mismatch" and not diag.ok


# ------------------------------------------------------------------------------ the relation
def arm(n, seed):
    """A 2-link arm: (sin, cos) of two joint angles -> the hand's (x, y)."""
    g = torch.Generator().manual_seed(seed)
    a, b = torch.rand(n, generator=g) * 2 * math.pi, torch.rand(n, generator=g) * 2 * math.pi
    X = torch.stack([a.sin(), a.cos(), b.sin(), b.cos()], dim=1)
    hand = torch.stack([a.cos() + 0.7 * (a + b).cos(), a.sin() + 0.7 * (a + b).sin()], dim=1)
    return X, hand


def relation(found):
    return [f for f in found if "r2_own" in f.evidence]


def test_target_columns_swapped_in_one_split_are_a_split_mismatch():
    (X, Y), (Xv, Yv), (Xt, Yt) = arm(1200, 0), arm(400, 1), arm(400, 2)
    healthy = SimpleNamespace(train=(X, Y), val=(Xv, Yv), test=(Xt, Yt))
    assert sp.check_splits(healthy) == []
    swapped = SimpleNamespace(train=(X, Y), val=(Xv, Yv[:, [1, 0]]), test=(Xt, Yt))
    found = sp.check_splits(swapped)
    assert [f.where for f in relation(found)] == ["validation"] and found[0].code == "split_mismatch"
    assert found[0].evidence["r2_own"] > sp.RELATION_OWN and found[0].evidence["r2_from_train"] < 0
    # one column taken from each file: training's x, validation's y (the set 6 shape)
    one = SimpleNamespace(train=(X, Y[:, 0]), val=(Xv, Yv[:, 1]), test=(Xt, Yt[:, 0]))
    assert [f.where for f in relation(sp.check_splits(one))] == ["validation"]


def test_a_relabelled_class_in_one_split_is_a_split_mismatch():
    X, y, Xv, yv = digits()
    assert sp.check_splits(SimpleNamespace(train=(X, y), val=(Xv, yv), test=None)) == []
    swapped = torch.where(yv == 3, 8, torch.where(yv == 8, 3, yv))        # 3 and 8 exchanged in one file
    found = relation(sp.check_splits(SimpleNamespace(train=(X, y), val=(Xv, swapped), test=None)))
    assert len(found) == 1 and found[0].evidence["r2_own"] - found[0].evidence["r2_from_train"] > sp.RELATION_GAP


def test_a_relation_nobody_can_predict_and_an_input_shift_stay_quiet():
    g = torch.Generator().manual_seed(0)
    X, Xv = torch.randn(1000, 5, generator=g), torch.randn(300, 5, generator=g)
    noise = SimpleNamespace(train=(X, torch.randn(1000, generator=g)), val=(Xv, torch.randn(300, generator=g)),
                            test=None)
    assert sp.check_splits(noise) == []
    # a split in time: validation's inputs lie beyond training's, the relation is the same; the
    # rows the training split does not cover are not compared (no rows left: no verdict)
    t, tv = torch.rand(1000, 1, generator=g), 1.5 + torch.rand(300, 1, generator=g)
    later = SimpleNamespace(train=(t, torch.sin(3 * t[:, 0])), val=(tv, torch.sin(3 * tv[:, 0]) + 2), test=None)
    assert relation(sp.check_splits(later)) == []


def test_the_neighbour_fit_is_k_nearest_neighbour_regression():
    """_neighbour_mean against a direct loop over rows (the reference)."""
    g = torch.Generator().manual_seed(0)
    A, B, T = torch.randn(20, 3, generator=g), torch.randn(50, 3, generator=g), torch.randn(50, 2, generator=g)
    d = torch.cdist(A, B)
    got = sp._neighbour_mean(d, T, 4)
    for i in range(20):
        nearest = sorted(range(50), key=lambda j: float(d[i, j]))[:4]
        assert torch.allclose(got[i], T[nearest].mean(dim=0))


def test_training_shares_cut_or_oversampled_are_no_new_relation():
    """Classes 5-9 cut to 5% of their training rows: the neighbours' votes follow the training
    shares (info only, no warning); a minority class repeated 5x in training: no warning either."""
    X, y, Xv, yv = digits()
    keep = (y < 5) | (torch.arange(len(y)) % 20 == 0)
    found = sp.check_splits(SimpleNamespace(train=(X[keep], y[keep]), val=(Xv, yv), test=None))
    assert [f.severity for f in found] == ["info"]
    rare = y == 3
    Xo, yo = torch.cat([X] + [X[rare]] * 4), torch.cat([y] + [y[rare]] * 4)
    assert all(f.severity == "info" for f in sp.check_splits(SimpleNamespace(train=(Xo, yo), val=(Xv, yv),
                                                                             test=None)))


def _imbalanced(rows, rare_share, seed):
    """Class ids 0, 1, 2 with class 2 at ``rare_share`` of the rows and 0, 1 splitting the rest."""
    g = torch.Generator().manual_seed(seed)
    rare = int(rare_share * rows)
    return torch.cat([torch.randint(0, 2, (rows - rare,), generator=g), torch.full((rare,), 2)])


def test_class_imbalance_is_info_where_the_splits_measured_hold_the_training_mix():
    from trainwell.babysit.findings import make
    from trainwell.babysit.data_checks import check_class_balance
    train = _imbalanced(2000, 0.025, 0)                    # 40:1 -> a warning from the counts alone
    found = check_class_balance(train, "cross_entropy")
    assert [f.severity for f in found] == ["warning"]
    same = sp.grade_imbalance(found, splits(train, _imbalanced(500, 0.025, 1), _imbalanced(500, 0.03, 2)))
    assert [f.severity for f in same] == ["info"] and same[0].evidence["split_tv"]["validation"] < 0.05
    balanced = torch.arange(600) % 3                       # the rare class a third of the evaluated rows
    shifted = sp.grade_imbalance(check_class_balance(train, "cross_entropy"), splits(train, balanced))
    assert [f.severity for f in shifted] == ["warning"] and "differs" in shifted[0].message
    alone = check_class_balance(train, "cross_entropy")
    assert sp.grade_imbalance(alone, splits(train)) == alone and alone[0].severity == "warning"
    other = [make("plateau", "flat")]
    assert sp.grade_imbalance(other, splits(train, balanced)) == other


def test_a_training_split_smaller_than_a_split_it_is_measured_on():
    """test_size read as the training share: 25 % of the rows train, 75 % validate (the message asks
    whether the shares were read the wrong way round); 45 % / 55 % (a subsample trained on purpose): info;
    the usual 60 / 20 / 20: nothing. The splits hold one distribution (no inputs to tell them apart), so
    the swapped shares cost a model trained on the training rows nothing a probe measures on the
    validation rows: info (mismatch_cost.py; the learning curve says what the few rows cost)."""
    g = torch.Generator().manual_seed(3)
    y = torch.randint(0, 3, (2000,), generator=g)
    found = sp.check_splits(splits(y[:500], y[500:]))
    assert [(f.code, f.severity, f.where) for f in found] == [("split_mismatch", "info", "validation size")]
    assert found[0].evidence["train_rows"] == 500 and found[0].evidence["split_rows"] == 1500
    assert "25%" in found[0].message and "wrong way round" in found[0].message
    assert found[0].evidence["cost"]["validation"]["costs"] is False
    found = sp.check_splits(splits(y[:900], y[900:]))
    assert [(f.severity, f.where) for f in found] == [("info", "validation size")]
    assert sp.check_splits(splits(y[:1200], y[1200:1600], y[1600:])) == []
    found = sp.check_splits(splits(y[:300], y[300:700], y[700:]))          # the test split 1300 rows
    assert [(f.severity, f.where) for f in found] == [("info", "validation size"), ("info", "test size")]
    assert "wrong way round" in found[1].message and "cost" in found[1].evidence


# ------------------------------------------------------------------------------ a column constant in training
def _flag_splits(train_flag, val_flag, seed=0, n=600, m=200):
    g = torch.Generator().manual_seed(seed)
    Xt, Xv = torch.randn(n, 4, generator=g), torch.randn(m, 4, generator=g)
    Xt[:, 2], Xv[:, 2] = train_flag(n), val_flag(m)
    yt, yv = (Xt[:, 0] > 0).long(), (Xv[:, 0] > 0).long()
    return SimpleNamespace(train=(Xt, yt), val=(Xv, yv), test=None)


def test_a_column_constant_in_training_that_varies_in_validation_is_a_mismatch():
    """A count the training export holds at 0, 1 on a fifth of the validation rows, standardized with the
    training std read as 1 (sklearn's rule: a step of 1, info) and divided by ``0 + 1e-8`` (a warning)."""
    off = (torch.arange(200) % 5 == 0).float()
    for scale, severity in ((1.0, "info"), (1e8, "warning")):
        s = _flag_splits(lambda n: torch.zeros(n), lambda m: off * scale)
        found = [f for f in sp.check_splits(s) if "constant_columns" in f.evidence]
        assert len(found) == 1 and found[0].code == "split_mismatch" and found[0].severity == severity
        f = found[0]
        assert f.evidence["constant_columns"] == [2] and f.evidence["rows_off"] == 40 and f.evidence["rows"] == 200
        # all 40 of the validation's rows off the value land outside training by chance: (200/800)^40 at most
        assert f.evidence["p"] <= 0.25 ** 40 and "column 2" in f.message and "600 training rows" in f.message
        # the step against how far 600 normal rows reach from their mean (about 3 stds)
        assert f.evidence["off_step"] == scale and 2.5 < f.evidence["training_reach"] < 4.0


def test_a_constant_column_is_a_warning_only_where_its_rows_beyond_the_training_reach_are_more_than_chance():
    """Set 27's healthy catalog_rgba_transparent_background_black: a background pixel exactly white on every
    training image, with the camera's noise on half the validation photos (a small step: info) and one
    product reaching it (a large one). One row of 200 lands outside 600 training rows by chance with
    p = 0.25: that row says nothing of the split; 40 of them do (a warning)."""
    noise = (torch.arange(200) % 5 == 0).float() * 0.05
    for far_rows, severity in ((1, "info"), (40, "warning")):
        off = noise.clone()
        off[torch.arange(far_rows) * 5] = 10.0
        s = _flag_splits(lambda n: torch.zeros(n), lambda m: off)
        found = [f for f in sp.check_splits(s) if "constant_columns" in f.evidence]
        assert len(found) == 1 and found[0].severity == severity
        f = found[0]
        assert f.evidence["off_step"] == 10.0 and f.evidence["rows_beyond"] == far_rows
        assert math.isclose(f.evidence["p_beyond"], math.comb(200, far_rows) / math.comb(800, far_rows))


def test_a_constant_column_everywhere_or_a_rare_value_in_a_split_is_quiet():
    s = _flag_splits(lambda n: torch.ones(n), lambda m: torch.ones(m))
    assert not [f for f in sp.check_splits(s) if "constant_columns" in f.evidence]
    # a pixel bright in 2 of the 200 validation rows: random splits put both outside training with p = 0.06
    s = _flag_splits(lambda n: torch.zeros(n), lambda m: (torch.arange(m) < 2).float())
    assert not [f for f in sp.check_splits(s) if "constant_columns" in f.evidence]


def _blobs(n, seed, *, classes, shares, dims=6, gap=1.0):
    """Class ``k``'s rows: normal around ``gap`` times a seeded random direction of its own; labels
    drawn with ``shares``."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, dims, generator=torch.Generator().manual_seed(99)) * gap
    y = torch.multinomial(torch.tensor(shares, dtype=torch.float64), n, replacement=True, generator=g)
    return centres[y] + torch.randn(n, dims, generator=g), y


def _recoded_split(train, val):
    return [f for f in sp.check_splits(SimpleNamespace(train=train, val=val, test=None))
            if f.severity == "warning" and "relabelling" in f.evidence]


def test_relabelling_is_the_best_permutation_by_exhaustive_search():
    import itertools
    g = torch.Generator().manual_seed(3)
    for classes in (2, 3, 4, 5):
        confusion = torch.randint(0, 50, (classes, classes), generator=g).double()
        perm = sp.relabelling(confusion)
        best = max(sum(float(confusion[p[j], j]) for j in range(classes))
                   for p in itertools.permutations(range(classes)))
        assert sorted(perm) == list(range(classes))
        assert sum(float(confusion[perm[j], j]) for j in range(classes)) == best


def test_a_split_coded_in_another_order_is_found_with_its_relabelling():
    # three classes, the validation file's ids rotated (0 -> 1 -> 2 -> 0), shares unequal
    X, y = _blobs(1500, 0, classes=3, shares=[0.5, 0.3, 0.2], dims=5, gap=1.2)
    Xv, yv = _blobs(500, 1, classes=3, shares=[0.5, 0.3, 0.2], dims=5, gap=1.2)
    found = _recoded_split((X, y), (Xv, (yv + 1) % 3))
    assert len(found) == 1
    assert found[0].evidence["relabelling"] == {1: 0, 2: 1, 0: 2}
    assert found[0].evidence["accuracy_relabelled"] > found[0].evidence["accuracy_as_coded"] + 0.5


def test_a_binary_split_with_its_positive_coded_0_is_found_on_an_imbalanced_weak_task():
    # positives 15 %, a weak signal: the majority class outvotes most positives unless the prior is divided out
    X, y = _blobs(2000, 4, classes=2, shares=[0.85, 0.15], dims=8, gap=0.8)
    Xv, yv = _blobs(600, 5, classes=2, shares=[0.85, 0.15], dims=8, gap=0.8)
    found = _recoded_split((X, y), (Xv, 1 - yv))
    assert len(found) == 1 and found[0].evidence["relabelling"] == {0: 1, 1: 0}
    # the flip moves the class shares too (an info at "validation class shares"): the Diagnosis keeps both
    from trainwell.babysit.findings import Diagnosis
    kept = Diagnosis(sp.check_splits(SimpleNamespace(train=(X, y), val=(Xv, 1 - yv), test=None))).findings
    assert any(f.severity == "warning" and "relabelling" in f.evidence for f in kept)


@pytest.mark.parametrize("seed", range(4))
def test_healthy_splits_stay_quiet_near_chance_imbalanced_or_with_another_mix(seed):
    # near chance: classes barely apart
    X, y = _blobs(1500, 10 + seed, classes=3, shares=[0.4, 0.3, 0.3], gap=0.05)
    Xv, yv = _blobs(500, 20 + seed, classes=3, shares=[0.4, 0.3, 0.3], gap=0.05)
    assert _recoded_split((X, y), (Xv, yv)) == []
    # imbalanced, healthy
    X, y = _blobs(2000, 30 + seed, classes=2, shares=[0.95, 0.05], gap=1.0)
    Xv, yv = _blobs(600, 40 + seed, classes=2, shares=[0.95, 0.05], gap=1.0)
    assert _recoded_split((X, y), (Xv, yv)) == []
    # a prior shift between two classes the inputs cannot tell apart: training 90/10, validation 10/90
    X, y = _blobs(2000, 50 + seed, classes=2, shares=[0.9, 0.1], gap=0.0)
    Xv, yv = _blobs(600, 60 + seed, classes=2, shares=[0.1, 0.9], gap=0.0)
    assert _recoded_split((X, y), (Xv, yv)) == []


def test_the_class_shares_info_does_not_hide_a_warning_on_the_same_split():
    """The class shares' info sits at its own place: a split whose shares differ and whose features
    moved keeps both in a Diagnosis (one finding per code and place), the warning counted."""
    from trainwell.babysit.findings import Diagnosis
    X, y = _blobs(2000, 4, classes=2, shares=[0.5, 0.5], dims=8, gap=1.0)
    Xv, yv = _blobs(600, 5, classes=2, shares=[0.9, 0.1], dims=8, gap=1.0)
    # the validation rows moved along the line between the class centres: the shift costs a model
    # trained on the training rows (mismatch_cost.py), so the warning stays
    apart = X[y == 1].mean(0) - X[y == 0].mean(0)
    found = sp.check_splits(SimpleNamespace(train=(X, y), val=(Xv + 3.0 * apart / apart.norm(), yv), test=None))
    assert {(f.severity, f.where) for f in found} >= {("info", "validation class shares")}
    kept = Diagnosis(found).findings
    assert any(f.severity == "warning" and f.where == "validation" for f in kept), [(f.severity, f.where) for f in kept]
