"""The held-out user sets committed before they ran (bench/babysit_user5.py .. babysit_user8.py)
are well formed (no training): every side builds, its model takes its own inputs, the two sides of
a pair hold the same rows, every expected code is a registered finding code, and REPAIRABLE states
each pair."""
import importlib.util
import sys
from pathlib import Path

import pytest
import torch

from trainwell.babysit.registry import CODES

_BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(_BENCH))


def _load(name):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, _BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


SETS = {name: _load(name) for name in ("babysit_user5", "babysit_user6", "babysit_user7", "babysit_user8")}
PAIRS = [(name, pair) for name, module in SETS.items() for pair in sorted(module.PAIRS)]


@pytest.mark.parametrize("name", sorted(SETS))
def test_repairable_names_every_pair(name):
    assert set(SETS[name].REPAIRABLE) == set(SETS[name].PAIRS)


@pytest.mark.parametrize("name,pair", PAIRS)
def test_both_sides_build_and_take_their_inputs(name, pair):
    sides = [SETS[name].PAIRS[pair](broken) for broken in (False, True)]
    for model, parts, opts, expected in sides:
        assert len(parts) == 3 and all(len(x) == len(t) > 0 for x, t in parts)
        assert set(expected) <= set(CODES), sorted(set(expected) - set(CODES))
        assert isinstance(opts, dict) and "babysit" not in opts
        model.eval()
        with torch.no_grad():
            out = model(parts[0][0][:4])
        assert out.shape[0] == 4 and bool(torch.isfinite(out).all())
    (_, healthy, _, _), (_, broken, _, _) = sides
    assert [len(x) for x, _ in healthy] == [len(x) for x, _ in broken]     # the same rows, one fault apart


# Set 9 (bench/babysit_user9.py) uses fit's ``preprocess`` option: its model takes what the fitted
# pipeline makes of the inputs (a PCA keeps fewer columns), so the forward check applies it first.
SET9 = _load("babysit_user9")


def test_set9_repairable_names_every_pair():
    assert set(SET9.REPAIRABLE) == set(SET9.PAIRS)
    # no action changes any of them but the gradient noise (set_regularization(grad_noise=...), branch babysit49)
    # and the preprocess list (refit_preprocess, branch babysit55)
    assert {v for v in SET9.REPAIRABLE.values() if v} - SET9.NO_ACTION == {
        "gradient noise", "preprocessing (pca)", "preprocessing (impute codes)"}


def _build_both_sides(module, pair, *, resized=frozenset()):
    """Both sides of ``pair`` build, their expected codes exist, and the model takes 4 rows of the
    training inputs (through the fitted ``preprocess`` pipeline where the options name one) to
    finite outputs; the sides hold the same rows, except a fault in ``resized`` that drops some."""
    from trainwell.data.transforms import fit_preprocess
    sides = [module.PAIRS[pair](broken) for broken in (False, True)]
    for model, parts, opts, expected in sides:
        assert len(parts) == 3 and all(len(x) == len(t) > 0 for x, t in parts)
        assert set(expected) <= set(CODES), sorted(set(expected) - set(CODES))
        assert isinstance(opts, dict) and "babysit" not in opts
        x = parts[0][0]
        if opts.get("preprocess"):
            x = fit_preprocess(opts["preprocess"], x)(x)
        model.eval()
        with torch.no_grad():
            out = model(x[:4])
        assert out.shape[0] == 4 and bool(torch.isfinite(out).all())
    (_, healthy, _, _), (_, broken, _, _) = sides
    if pair in resized:
        assert sum(len(x) for x, _ in healthy) >= sum(len(x) for x, _ in broken)
    else:
        assert [len(x) for x, _ in healthy] == [len(x) for x, _ in broken]     # the same rows, one fault apart


@pytest.mark.parametrize("pair", sorted(SET9.PAIRS))
def test_set9_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET9, pair)


# Set 10 (bench/babysit_user10.py): two of its faults change the splits' sizes (rows dropped from
# the training export, the validation share swapped with the training share), the others keep them.
SET10 = _load("babysit_user10")
SET10_RESIZED = {"locks_dropna_missing_offline", "pumps_test_size_swapped"}


def test_set10_repairable_names_every_pair():
    assert set(SET10.REPAIRABLE) == set(SET10.PAIRS)
    assert SET10.NO_ACTION >= SET10.user9.NO_ACTION


@pytest.mark.parametrize("pair", sorted(SET10.PAIRS))
def test_set10_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET10, pair, resized=SET10_RESIZED)


# Set 11 (bench/babysit_user11.py): every pair keeps its splits' sizes; one pair (taxis) gives its two
# sides different input widths, which the model of each side is built for.
SET11 = _load("babysit_user11")


def test_set11_repairable_names_every_pair():
    assert set(SET11.REPAIRABLE) == set(SET11.PAIRS)
    assert SET11.NO_ACTION >= SET11.user10.NO_ACTION
    # the one repairable fault that hurts by design lies in the optimizer factory, which no action rebuilds
    assert SET11.REPAIRABLE["leafspots_optimizer_head_only"] in SET11.NO_ACTION


@pytest.mark.parametrize("pair", sorted(SET11.PAIRS))
def test_set11_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET11, pair)


# Set 12 (bench/babysit_user12.py): every pair keeps its splits' sizes. One broken side raises in its
# model by design (ids 1-40 into an embedding of 40 rows): its model is checked to raise on the
# training rows that hold id 40 and to take the others.
SET12 = _load("babysit_user12")
SET12_RAISES = {"stores_embedding_ids_from_one"}


def test_set12_repairable_names_every_pair():
    assert set(SET12.REPAIRABLE) == set(SET12.PAIRS)
    assert SET12.NO_ACTION >= SET12.user11.NO_ACTION
    # the faults stated repairable lie in settings an action changes (the lr scale, the preprocess list)
    assert not {v for v in SET12.REPAIRABLE.values() if v} & SET12.NO_ACTION


@pytest.mark.parametrize("pair", sorted(set(SET12.PAIRS) - SET12_RAISES))
def test_set12_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET12, pair)


def test_set12_ids_from_one_raise_only_where_id_40_is():
    (healthy, h_parts, _, _), (broken, b_parts, _, _) = [SET12.PAIRS["stores_embedding_ids_from_one"](b)
                                                         for b in (False, True)]
    assert [len(x) for x, _ in h_parts] == [len(x) for x, _ in b_parts]
    x_h, x_b = h_parts[0][0], b_parts[0][0]
    assert torch.equal(x_b[:, 0], x_h[:, 0] + 1) and int(x_b[:, 0].max()) == 40
    healthy.eval()
    broken.eval()
    with torch.no_grad():
        assert bool(torch.isfinite(healthy(x_h)).all())
        assert broken(x_b[x_b[:, 0] < 40]).shape == (int((x_b[:, 0] < 40).sum()), 3)
        with pytest.raises(IndexError):
            broken(x_b)


# Set 13 (bench/babysit_user13.py): every pair keeps its splits' sizes; its faults are what its
# table says (checked on the data, no training).
SET13 = _load("babysit_user13")


def test_set13_repairable_names_every_pair():
    assert set(SET13.REPAIRABLE) == set(SET13.PAIRS)
    assert SET13.NO_ACTION >= SET13.user12.NO_ACTION


@pytest.mark.parametrize("pair", sorted(SET13.PAIRS))
def test_set13_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET13, pair)


def test_set13_small_vocabulary_drops_every_sentiment_word():
    import numpy as np
    words, y = SET13.review_words(400, seed=0)
    rows = [np.arange(300)]
    full, cut = SET13.tokenize(words, rows[0]), SET13.tokenize(words, rows[0], num_words=50)
    sentiment = words >= SET13.NEUTRAL
    assert sentiment.any() and (cut[sentiment] == 1).all() and (full[sentiment] > 1).all()
    assert len(np.unique(full)) == SET13.NEUTRAL + SET13.SENTIMENT


def test_set13_salted_buckets_differ_between_sessions_only():
    names = SET13.CATEGORIES
    one = [SET13.salted_bucket(n, b"session-1", 256) for n in names]
    assert one == [SET13.salted_bucket(n, b"session-1", 256) for n in names]
    assert sum(a != SET13.salted_bucket(n, b"session-2", 256) for a, n in zip(one, names)) > 0.9 * len(names)


# Set 14 (bench/babysit_user14.py): every pair keeps its splits' sizes; its faults are what its
# table says (checked on the data, no training).
SET14 = _load("babysit_user14")


def test_set14_repairable_names_every_pair():
    assert set(SET14.REPAIRABLE) == set(SET14.PAIRS)
    assert SET14.NO_ACTION >= SET14.user13.NO_ACTION


@pytest.mark.parametrize("pair", sorted(SET14.PAIRS))
def test_set14_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET14, pair)


def test_set14_bead_tints_are_one_grey():
    import numpy as np
    assert np.isclose(np.mean(SET14.AMBER), np.mean(SET14.TEAL))
    X, y = SET14.bead_images(40, seed=0)
    grey = X.mean(1)
    # in grey an amber and a teal disc differ only by the noise; in colour their channels differ
    amber, teal = X[y == 0].mean((0, 2, 3)), X[y == 1].mean((0, 2, 3))
    assert abs(grey[y == 0].mean() - grey[y == 1].mean()) < 0.01 and abs(amber[0] - teal[0]) > 0.005


def test_set14_text_order_moves_most_scans():
    names = [f"scan_{i}.png" for i in range(2000)]
    order = sorted(range(2000), key=lambda i: names[i])
    assert order[:4] == [0, 1, 10, 100] and sum(k == i for k, i in enumerate(order)) < 20


def test_set14_swapped_box_crops_miss_the_defect():
    import numpy as np
    img, bx, by, y = SET14.weld_plates(200, seed=0)
    assert (np.abs(bx - by) >= 7).all()
    healthy = SET14.PAIRS["welds_bbox_xy_swapped"](False)[1][0][0]
    broken = SET14.PAIRS["welds_bbox_xy_swapped"](True)[1][0][0]
    # the healthy crops hold the defects (a wider spread of pixel values) that the swapped ones miss
    assert float(healthy.std((1, 2, 3)).mean()) > 1.2 * float(broken.std((1, 2, 3)).mean())


def test_set14_value_sort_makes_rising_and_falling_alike():
    import numpy as np
    X, y = SET14.hourly_readings(600, seed=0)
    s = np.sort(X, axis=1)
    rising, falling = s[y == 0].mean(0), s[y == 1].mean(0)
    assert np.abs(rising - falling).max() < 0.2 and np.abs(X[y == 0].mean(0) - X[y == 1].mean(0)).max() > 0.5


def test_set14_differencing_removes_the_drift_level():
    import numpy as np
    X, y = SET14.sensor_traces(600, seed=0)
    assert X[y == 1].mean() - X[y == 0].mean() > 0.7
    d = np.diff(X, axis=1)
    assert abs(d[y == 1].mean() - d[y == 0].mean()) < 0.02


def test_set14_recency_in_hours_keeps_few_rows():
    import numpy as np
    sides = [SET14.PAIRS["stores_recency_resample_hours"](broken)[1][0][0] for broken in (False, True)]
    unique = [len(np.unique(x.numpy(), axis=0)) for x in sides]
    assert unique[0] > 600 and unique[1] < 250 and len(sides[0]) == len(sides[1])


def test_set14_full_length_mean_is_the_masked_mean_scaled():
    torch.manual_seed(0)
    a, b = SET14.PanelAttention(), SET14.PanelAttention(full_length=True)
    b.load_state_dict(a.state_dict())
    x, _ = SET14.panel_logs(8, seed=0)
    x = torch.tensor(x)
    a.eval()
    b.eval()
    with torch.no_grad():
        assert not torch.allclose(a(x), b(x))
        a.head.weight.mul_(0)
        b.head.weight.mul_(0)
        assert torch.allclose(a(x), b(x))


def test_set14_huber_without_offset_has_hubers_gradient():
    e = torch.linspace(-3, 3, 61, requires_grad=True)
    target = torch.zeros(61)
    g1, = torch.autograd.grad(SET14.huber(e, target), e)
    g2, = torch.autograd.grad(SET14.huber_without_offset(e, target), e)
    assert torch.allclose(g1, g2) and SET14.huber_without_offset(e.detach(), target) > SET14.huber(e.detach(), target)


# Set 15 (bench/babysit_user15.py): every pair keeps its splits' sizes except the outlier filter,
# which drops training rows; its faults are what its docstring says they are.
SET15 = _load("babysit_user15")


def test_set15_repairable_names_every_pair():
    assert set(SET15.REPAIRABLE) == set(SET15.PAIRS)
    assert SET15.NO_ACTION >= SET15.user14.NO_ACTION


@pytest.mark.parametrize("pair", sorted(SET15.PAIRS))
def test_set15_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET15, pair, resized={"fraud_zscore_outliers_dropped"})


def test_set15_stride_four_aliases_the_three_tremors_to_one_frequency():
    import numpy as np
    X, y = SET15.tremor_windows(300, seed=0)
    full = [np.abs(np.fft.rfft(X[y == k], axis=1)).mean(0).argmax() for k in range(3)]
    strided = [np.abs(np.fft.rfft(X[y == k][:, ::4], axis=1)).mean(0).argmax() for k in range(3)]
    assert full == list(SET15.TREMOR_CYCLES) and strided == [4, 4, 4]


def test_set15_coerced_separators_zero_every_large_area():
    import numpy as np
    text, _, _ = SET15.house_listings(400, seed=0)
    clean = SET15.to_numeric_coerce([t.replace(",", "") for t in text])
    coerced = np.nan_to_num(SET15.to_numeric_coerce(text), nan=0.0)
    assert np.all(coerced[clean >= 1000] == 0) and np.all(coerced[clean < 1000] == clean[clean < 1000])
    assert (clean >= 1000).mean() > 0.4


def test_set15_packed_pre_padding_reads_only_padding_for_short_rows():
    torch.manual_seed(0)
    model = SET15.GaugeLSTM().eval()
    rows = SET15.pad([[1.0] * 10, [-2.0, 3.0] * 5], 30, pre=True)
    with torch.no_grad():
        out = model(torch.tensor(rows))
        post = model(torch.tensor(SET15.pad([[1.0] * 10, [-2.0, 3.0] * 5], 30, pre=False)))
    assert torch.allclose(out[0], out[1]) and not torch.allclose(post[0], post[1])


def test_set15_window_labels_stepped_by_one_come_from_the_series_start():
    import numpy as np
    sides = [SET15.PAIRS["presses_window_labels_stride_one"](broken)[1] for broken in (False, True)]
    agree = np.mean([float((h[1] == b[1]).float().mean()) for h, b in zip(*sides)])
    assert agree < 0.6


def test_set15_uncapped_warmup_keeps_raising_the_lr():
    from types import SimpleNamespace
    group = {"lr": 0.0}
    state = SimpleNamespace(step=499, optimizer=SimpleNamespace(param_groups=[group]))
    SET15.LinearWarmup(0.02, 50).on_before_step(state)
    assert group["lr"] == pytest.approx(0.02)
    SET15.LinearWarmup(0.02, 50, capped=False).on_before_step(state)
    assert group["lr"] == pytest.approx(0.2)


def test_set15_outlier_filter_drops_most_fraud_rows():
    sides = [SET15.PAIRS["fraud_zscore_outliers_dropped"](broken)[1][0][1] for broken in (False, True)]
    fraud = [int((t == 2).sum()) for t in sides]
    assert fraud[0] > 80 and fraud[1] < 0.2 * fraud[0]
    assert int((sides[1] != 2).sum()) > 0.95 * int((sides[0] != 2).sum())


# Set 16 (bench/babysit_user16.py): every pair keeps its splits' sizes except the annotation pair,
# whose broken side keeps the unannotated rows; its faults are what its docstring says they are
# (checked on the data and the models, no training).
SET16 = _load("babysit_user16")


def test_set16_repairable_names_every_pair():
    assert set(SET16.REPAIRABLE) == set(SET16.PAIRS)
    assert SET16.NO_ACTION >= SET16.user15.NO_ACTION


@pytest.mark.parametrize("pair", sorted(set(SET16.PAIRS) - {"annotations_onehot_argmax_unlabeled"}))
def test_set16_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET16, pair)


def test_set16_unannotated_rows_are_added_as_stage_zero():
    healthy, broken = [SET16.PAIRS["annotations_onehot_argmax_unlabeled"](b)[1] for b in (False, True)]
    extra = SET16.SLEEP_UNSCORED / SET16.SLEEP_SCORED
    for (xh, th), (xb, tb) in zip(healthy, broken):
        assert len(xb) == pytest.approx(len(xh) * (1 + extra), rel=0.01)
        assert float((tb == 0).float().mean()) > float((th == 0).float().mean()) + 0.15


def test_set16_listdir_order_hides_which_band_is_bright():
    import numpy as np
    X, y = SET16.field_patches(600, seed=0)
    bright = X.mean((2, 3)).argmax(1)
    order = SET16.listdir_order(600, seed=1)
    shuffled = np.take_along_axis(X, order[:, :, None, None], axis=1).mean((2, 3)).argmax(1)
    assert (bright == y).mean() > 0.95 and abs((shuffled == y).mean() - 1 / 3) < 0.1


def test_set16_median_filter_erases_the_pit_and_the_line():
    import numpy as np
    from scipy import ndimage
    X, y = SET16.defect_images(400, seed=0)
    M = ndimage.median_filter(X, size=(1, 5, 5))
    for k in (0, 1):                        # the dark pit, the bright line: the extreme pixel's contrast
        raw = np.abs(X[y == k] - np.median(X[y == k], (1, 2), keepdims=True)).max((1, 2)).mean()
        med = np.abs(M[y == k] - np.median(M[y == k], (1, 2), keepdims=True)).max((1, 2)).mean()
        assert med < 0.5 * raw


def test_set16_second_device_halves_the_beats_of_validation_and_test():
    import numpy as np
    healthy, broken = [SET16.PAIRS["ecg_sampling_rate_second_device"](b)[1] for b in (False, True)]
    assert torch.equal(healthy[0][0], broken[0][0])
    for part, halved in ((healthy[1], False), (broken[1], True)):
        x, t = part[0][:, 0].numpy(), part[1].numpy()
        peaks = [np.abs(np.fft.rfft(x[t == k], axis=1)).mean(0).argmax() for k in range(3)]
        expected = [b / 2 if halved else b for b in SET16.RHYTHM_BEATS]
        assert all(abs(p - e) <= 0.5 for p, e in zip(peaks, expected))


def test_set16_leaky_relu_true_is_a_linear_model():
    torch.manual_seed(0)
    x = torch.randn(16, 6)
    broken, healthy = SET16.leaky_mlp(6, 1, slope_argument=True), SET16.leaky_mlp(6, 1)
    with torch.no_grad():
        zero = torch.zeros(1, 6)
        assert torch.allclose(broken(2 * x) - broken(zero), 2 * (broken(x) - broken(zero)), atol=1e-5)
        assert not torch.allclose(healthy(-x) - healthy(zero), -(healthy(x) - healthy(zero)), atol=1e-3)


def test_set16_detached_steps_pass_no_gradient_to_the_start():
    torch.manual_seed(0)
    for detach, reaches in ((False, True), (True, False)):
        model = SET16.SpindleLSTM(detach_each_step=detach)
        x = torch.randn(4, 16, requires_grad=True)
        model(x).sum().backward()
        assert bool(x.grad[:, :4].abs().sum() > 0) == reaches and bool(x.grad[:, -1].abs().sum() > 0)


def test_set16_losses_without_gradient_or_target():
    logits = torch.randn(32, 3, requires_grad=True)
    y, other = torch.randint(0, 3, (32,)), torch.randint(0, 3, (32,))
    assert SET16.nll_without_target(logits, y) == SET16.nll_without_target(logits, other)
    assert torch.allclose(SET16.nll(logits, y), torch.nn.functional.cross_entropy(logits, y))
    g1, = torch.autograd.grad(SET16.ce_plus_f1_term(logits, y), logits)
    g2, = torch.autograd.grad(SET16.cross_entropy(logits, y), logits)
    assert torch.allclose(g1, g2) and SET16.ce_plus_f1_term(logits, y) > SET16.cross_entropy(logits, y)


def test_set16_argsort_keeps_no_informative_sensor_when_broken():
    healthy, broken = [SET16.PAIRS["sensors_argsort_least_important"](b)[1][0] for b in (False, True)]
    import numpy as np
    from sklearn.feature_selection import f_classif
    fh, _ = f_classif(healthy[0].numpy(), healthy[1].numpy())
    fb, _ = f_classif(broken[0].numpy(), broken[1].numpy())
    assert fh.min() > 20 and fb.max() < 5 and np.isfinite(fb).all()


def test_set16_status_word_holds_the_bits_and_the_register_hides_the_use():
    import numpy as np
    X, word, y = SET16.inverter_logs(200, seed=0)
    bits = np.unpackbits(word[:, None], axis=1, bitorder="little")
    assert np.array_equal((word >> 2) & 1, bits[:, 2]) and bits.mean() == pytest.approx(0.3, abs=0.05)
    _, used, start = SET16.meter_periods(2000, seed=0)
    assert np.corrcoef(used, used + start)[0, 1] < 0.1


# Set 17 (bench/babysit_user17.py): every pair keeps its splits' sizes except the merge pair, whose
# broken side holds the join's duplicated rows; its faults are what its docstring says they are
# (checked on the data and the models, no training).
SET17 = _load("babysit_user17")


def test_set17_repairable_names_every_pair():
    assert set(SET17.REPAIRABLE) == set(SET17.PAIRS)
    assert SET17.NO_ACTION >= SET17.user16.NO_ACTION


@pytest.mark.parametrize("pair", sorted(set(SET17.PAIRS) - {"patients_merge_nonunique_key"}))
def test_set17_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET17, pair)


def test_set17_merge_on_surname_duplicates_rows_with_other_diagnoses():
    healthy, broken = [SET17.PAIRS["patients_merge_nonunique_key"](b)[1] for b in (False, True)]
    assert sum(len(x) for x, _ in broken) > 2 * sum(len(x) for x, _ in healthy)
    rows, labels = SET17.merged_on(SET17.np.array([0, 1, 1]), SET17.np.array([1, 0, 1]), SET17.np.array([5, 6, 7]))
    assert rows.tolist() == [0, 1, 1, 2, 2] and labels.tolist() == [6, 5, 7, 5, 7]


def test_set17_value_counts_per_split_permutes_the_clinic_columns():
    import numpy as np
    z, clinic, y = SET17.referrals(2400, seed=1103)
    rows = SET17._index_split(y, seed=1103)
    orders = [tuple(SET17.value_counts_order(clinic[r])) for r in rows]
    assert len(set(orders)) == 3 and sorted(orders[0]) == sorted(SET17.CLINICS)
    counts = np.unique(clinic[rows[0]], return_counts=True)[1]
    assert np.all(np.diff([counts[list(np.unique(clinic[rows[0]])).index(c)] for c in orders[0]]) <= 0)


def test_set17_unindexed_copies_carry_other_rows_labels():
    healthy, broken = [SET17.PAIRS["chips_offline_flip_labels_unindexed"](b)[1][0] for b in (False, True)]
    assert torch.equal(healthy[0], broken[0])
    half = len(healthy[1]) // 2
    assert torch.equal(healthy[1][:half], broken[1][:half])
    assert float((healthy[1][half:] == broken[1][half:]).float().mean()) < 0.5


def test_set17_evaluation_targets_in_thousands_collapse():
    healthy, broken = [SET17.PAIRS["rents_eval_targets_thousands"](b)[1] for b in (False, True)]
    assert torch.allclose(healthy[0][1], broken[0][1])
    assert float(broken[1][1].std()) < 0.01 and float(healthy[1][1].std()) > 0.5


def test_set17_model_faults_hide_what_the_class_needs():
    torch.manual_seed(0)
    ids = torch.randint(4, 24, (8, 20))
    ids[:, 12:] = 0
    model = SET17.CartAttention(keep_mask=True)
    h = model.tokens(ids) + model.positions(torch.arange(20))
    for mask, real_share in ((~(ids == 0), 0.0), (ids == 0, 1.0)):   # the inverted mask: padding keys only
        with torch.no_grad():
            _, weights = model.attention(h, h, h, key_padding_mask=mask)
        assert torch.allclose(weights[:, :12, :12].sum(2), torch.full((8, 12), real_share), atol=1e-5)
    seq = torch.randint(1, 11, (4, 12))
    flipped = seq.flip(1)
    without, with_pos = SET17.LoginTransformer(drop_positions=True), SET17.LoginTransformer()
    with torch.no_grad():          # no positions: the events' order cannot be seen
        assert torch.allclose(without(seq), without(flipped), atol=1e-5)
        assert not torch.allclose(with_pos(seq), with_pos(flipped), atol=1e-3)
    x = torch.rand(6, 1, 16, 16)
    group = SET17.ExposureCNN(group_norm=True).eval()
    with torch.no_grad():          # one group per channel: the brightness divides out
        assert torch.allclose(group(x), group(1.7 * x), atol=1e-3)
    assert SET17.BoardCNN(swapped=True).conv1(x).shape[-1] == 6


def test_set17_training_choices_do_what_the_docstring_says():
    from types import SimpleNamespace
    pred, target = torch.randn(64), torch.randn(64)
    assert torch.allclose(SET17.mse_sum(pred, target), 64 * SET17.mse(pred, target))
    model = SET17._mlp(8, 3)
    SET17.MagnitudePrune(SET17.PRUNE_RECIPE).on_after_step(SimpleNamespace(model=model))
    assert float((model[2].weight == 0).float().mean()) > 0.7 and bool((model[0].bias != 0).all())
    _, _, opts, _ = SET17.PAIRS["pumps_optimizer_instance_lr_ignored"](True)
    assert opts["optimizer"].param_groups[0]["lr"] == 1e-3 and opts["optimizer"].param_groups[0]["momentum"] == 0
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 8)).sum().backward()
    opt.step()
    SET17.ResetAdamState().on_epoch_start(SimpleNamespace(optimizer=opt))
    assert len(opt.state) == 0
    torch.manual_seed(0)
    a = SET17.HiveGRU()
    torch.manual_seed(0)
    with pytest.warns(UserWarning):
        b = SET17.HiveGRU(dropout=0.3)
    x = torch.randn(4, 24, 1)
    assert torch.equal(a.train()(x), b.train()(x))


# Set 18 (bench/babysit_user18.py): every pair keeps its splits' sizes except the rotation pair,
# whose broken side holds four times the training rows; its faults are what its docstring says
# they are (checked on the data and the models, no training).
SET18 = _load("babysit_user18")


def test_set18_repairable_names_every_pair():
    assert set(SET18.REPAIRABLE) == set(SET18.PAIRS)
    assert SET18.NO_ACTION >= SET18.user17.NO_ACTION


@pytest.mark.parametrize("pair", sorted(set(SET18.PAIRS) - {"digits_rot90_offline_augment"}))
def test_set18_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET18, pair)


def test_set18_data_faults_change_what_the_docstring_says():
    healthy, broken = [SET18.PAIRS["digits_rot90_offline_augment"](b)[1] for b in (False, True)]
    assert len(broken[0][0]) == 4 * len(healthy[0][0]) and torch.equal(broken[1][0], healthy[1][0])
    healthy, broken = [SET18.PAIRS["digits_val_loader_transposed"](b)[1] for b in (False, True)]
    assert torch.equal(healthy[0][0], broken[0][0]) and torch.equal(healthy[1][0].transpose(2, 3), broken[1][0])
    healthy, broken = [SET18.PAIRS["tumor_followup_column_leak"](b)[1] for b in (False, True)]
    x, t = broken[0]
    assert float(((x[:, -1] > 0).long() == t).float().mean()) > 0.9          # the label, in training
    assert float(broken[1][0][:, -1].std()) < 1e-6 and float(healthy[0][0][:, -1].abs().max()) == 0.0
    healthy, broken = [SET18.PAIRS["screening_second_lab_label_convention"](b)[1] for b in (False, True)]
    assert torch.equal(healthy[0][1], broken[0][1]) and torch.equal(healthy[1][1], 1 - broken[1][1])
    healthy, broken = [SET18.PAIRS["coldchain_fahrenheit_loggers_mixed"](b)[1] for b in (False, True)]
    assert torch.equal(healthy[0][1], broken[0][1]) and not torch.allclose(healthy[0][0][:, 0], broken[0][0][:, 0])
    _, broken = [SET18.PAIRS["prices_log_after_scaling"](b)[1] for b in (False, True)]
    for col in SET18.SKEWED:               # every value below the mean logged to NaN, then 0
        _, counts = torch.unique(broken[0][0][:, col], return_counts=True)
        assert int(counts.max()) > 0.4 * len(broken[0][0])


def test_set18_model_faults_do_what_the_docstring_says():
    from types import SimpleNamespace
    logits, target = torch.randn(16, 3, requires_grad=True), torch.zeros(16, dtype=torch.long)
    target[:4] = 1
    loss = SET18.cross_entropy_ignore_zero(logits, target)
    loss.backward()
    assert bool((logits.grad[4:] == 0).all())                           # class 0's rows never count
    model = SET18.ReZeroMLP(4, 3, plain_tensor=True)
    assert all("alpha" not in name for name, _ in model.named_parameters())
    x = torch.randn(5, 4)
    with torch.no_grad():                  # no gate parameter: the model stays affine
        assert torch.allclose(model(2 * x) - model(x), model(x) - model(torch.zeros(1, 4)), atol=1e-5)
    lstm = SET18.SpindleSeqLSTM(batch_first=False).eval()
    seq = torch.randn(6, 16, 1)
    with torch.no_grad():                  # without batch_first a row's output depends on the rows before it
        alone, together = lstm(seq[3:4]), lstm(seq)[3:4]
    assert not torch.allclose(alone, together, atol=1e-6)
    digits = torch.rand(4, 1, 8, 8)
    assert SET18.DigitCNN(pool_channels=True)(digits).shape == (4, 10)
    out = SET18.ClampRegressor(6, clamp=True)(torch.randn(32, 6))
    assert out.shape == (32,) and bool((out >= 0).all())
    block, ones = SET18.Block(8, out_twice=True), torch.ones(2, 8)
    with torch.no_grad():                  # no skip: the block's output twice
        assert torch.allclose(block(ones), 2 * block.f(ones))
    net = SET18._mlp(8, 3)
    state = SimpleNamespace(model=net, step=0)
    hook = SET18.Lookahead(clone=False)
    hook.on_fit_start(state)
    before = [p.detach().clone() for p in net.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    state.step = SET18.LOOKAHEAD_K
    hook.on_after_step(state)              # aliased slow weights: the step is kept as it is
    assert all(torch.allclose(p, b + 1.0) for p, b in zip(net.parameters(), before))
    hook = SET18.Lookahead(clone=True)
    hook.on_fit_start(state)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    hook.on_after_step(state)              # cloned slow weights: half the step is taken back
    assert all(torch.allclose(p, b + 1.5) for p, b in zip(net.parameters(), before))


# Set 19 (bench/babysit_user19.py): every pair keeps its splits' sizes; its faults are what its
# docstring says they are (checked on the data, the models, the schedule and the callbacks, no training).
SET19 = _load("babysit_user19")


def test_set19_repairable_names_every_pair():
    assert set(SET19.REPAIRABLE) == set(SET19.PAIRS)
    assert SET19.NO_ACTION >= SET19.user18.NO_ACTION


@pytest.mark.parametrize("pair", sorted(SET19.PAIRS))
def test_set19_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET19, pair)


def test_set19_data_faults_change_what_the_docstring_says():
    import numpy as np
    X, _ = SET19.lathe_jobs(400, seed=0)
    shifted = SET19.comma_shifted(X, seed=1)
    moved = ~np.isclose(shifted[:, 1], X[:, 1])
    assert 0.2 < moved.mean() < 0.4 and np.allclose(shifted[moved, 1:], X[moved, :-1])
    X, y = SET19.tumors_with_gaps(seed=1304)
    keep = ~np.isnan(X).any(1)
    assert 0.05 < 1 - keep.mean() < 0.15 and not np.isnan(X[keep]).any()
    assert (y[:keep.sum()] != y[keep]).mean() > 0.25                        # many labels from another row
    _, broken = [SET19.PAIRS["prices_scaler_without_axis"](b)[1] for b in (False, True)]
    spread = broken[0][0].std(0)
    assert float(spread[SET19.SKEWED].max()) < 0.05 and float(spread[4]) > 0.5   # the age sets the scale
    healthy, broken = [SET19.PAIRS["fields_channel_stats_wrong_axes"](b)[1] for b in (False, True)]
    brightest = [x.mean((2, 3)).argmax(1) for x in (healthy[0][0], broken[0][0])]
    assert float((brightest[0] == brightest[1]).float().mean()) > 0.95        # the bands' order kept
    _, broken = [SET19.PAIRS["boilers_destandardize_inside_model"](b) for b in (False, True)]
    model, parts = broken[0], broken[1]
    with torch.no_grad():
        assert float(model(parts[0][0]).mean()) > 50.0 and abs(float(parts[0][1].mean())) < 1e-4


def test_set19_model_faults_do_what_the_docstring_says():
    torch.manual_seed(0)
    x = torch.randn(8, 8)
    mixer = SET19.MixupMLP(8, 3, mix=True)
    with torch.no_grad():                  # training: a row's output depends on the other rows
        assert not torch.allclose(mixer.train()(x)[:1], mixer.train()(x[:1]), atol=1e-4)
        assert torch.allclose(mixer.eval()(x)[:1], mixer.eval()(x[:1]), atol=1e-6)
    codes = torch.randint(0, 24, (6, 16)).float()
    pool = SET19.PoolAttention(softmax_dim=0)
    with torch.no_grad():                  # the softmax over the batch: a row's output depends on the batch
        assert not torch.allclose(pool(codes)[:1], pool(codes[:1]), atol=1e-4)
        steps = SET19.PoolAttention(softmax_dim=1)
        assert torch.allclose(steps(codes)[:1], steps(codes[:1]), atol=1e-5)
    cnn, img = SET19.DilatedCNN(dilation=SET19.ASPP_RATE), torch.rand(3, 1, 8, 8)
    with torch.no_grad():                  # only the centre tap reads the image: a 1x1 conv
        centre = SET19.F.conv2d(img, cnn.conv1.weight[:, :, 1:2, 1:2], cnn.conv1.bias)
        assert torch.allclose(cnn.conv1(img), centre, atol=1e-5)
    loop, seq = SET19.SpindleGRUCell(first_step_only=True), torch.randn(4, 16, 1)
    other = seq.clone()
    other[:, 1:] = torch.randn(4, 15, 1)
    with torch.no_grad():                  # only the first step is read
        assert torch.allclose(loop(seq), loop(other))
    soft = SET19.activation_mlp(8, 3, lambda: SET19.nn.Softmax(dim=1))
    with torch.no_grad():
        assert torch.allclose(soft[1](soft[0](x)).sum(1), torch.ones(8), atol=1e-5)
    model, parts, _, _ = SET19.PAIRS["digits_spatial_dropout_on_input"](True)
    torch.manual_seed(1)
    dropped = model[0].train()(parts[0][0][:200])
    blank = (dropped.flatten(1).abs().sum(1) == 0).float().mean()
    assert 0.35 < float(blank) < 0.65                                       # whole images blanked


def test_set19_training_choices_do_what_the_docstring_says():
    from types import SimpleNamespace
    from trainwell.optim.factory import build_optimizer
    assert SET19.warmup_linear_decay(45) == 0.5 and SET19.warmup_linear_decay(495) == 0.5
    floor = [SET19.warmup_linear_decay_floor(s) for s in range(SET19.TOTAL)]
    assert sum(floor) == 1 and floor[SET19.WARMUP] == 1
    net = SET19._mlp(8, 3)
    state = SimpleNamespace(model=net, loss=torch.tensor(1.05), stop=None)
    SET19.StopBelowLoss(1.0).on_after_step(state)
    assert state.stop is None
    state.loss = torch.tensor(0.98)        # a 3-class cross-entropy a few steps in
    SET19.StopBelowLoss(1.0).on_after_step(state)
    assert state.stop is not None
    _, _, opts, _ = SET19.PAIRS["lathes_adagrad_lr_decay_per_step"](True)
    opt = build_optimizer(opts["optimizer"], net, lr=opts["lr"], **opts["optimizer_options"])
    assert isinstance(opt, torch.optim.Adagrad) and opt.param_groups[0]["lr_decay"] == SET19.LR_DECAY
    model, _, opts, _ = SET19.PAIRS["fleet_head_replaced_after_optimizer"](True)
    held = {id(p) for group in opts["optimizer"].param_groups for p in group["params"]}
    assert not any(id(p) in held for p in model[4].parameters()) and id(model[0].weight) in held
    for swapped, share in ((False, SET19.EMA_DECAY), (True, 1.0 - SET19.EMA_DECAY)):
        net = SET19._mlp(8, 3)
        before = [p.detach().clone() for p in net.parameters()]
        ema, state = SET19.EMA(swapped=swapped), SimpleNamespace(model=net)
        ema.on_fit_start(state)
        with torch.no_grad():
            for p in net.parameters():
                p.add_(1.0)
        ema.on_after_step(state)
        ema.on_fit_end(state)              # the average: share of the old weights, the rest the new
        assert all(torch.allclose(p, b + 1.0 - share, atol=1e-6) for p, b in zip(net.parameters(), before))


# Set 20 (bench/babysit_user20.py): written and committed unrun (its training and babysitter are
# the lead's, on the final merge); two of its faults change the training split's size (the trim, the
# hstack); its faults are what its docstring says they are (checked on the data, the models, the
# loss, the schedule and the callback, no training).
SET20 = _load("babysit_user20")
SET20_RESIZED = frozenset({"presses_trim_to_batch_multiple", "orders_hstack_for_vstack"})


def test_set20_repairable_names_every_pair():
    assert set(SET20.REPAIRABLE) == set(SET20.PAIRS) and len(SET20.PAIRS) == 18
    assert SET20.NO_ACTION >= SET20.user19.NO_ACTION


@pytest.mark.parametrize("pair", sorted(SET20.PAIRS))
def test_set20_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET20, pair, resized=SET20_RESIZED)


def test_set20_data_faults_change_what_the_docstring_says():
    import numpy as np
    y = np.random.default_rng(0).integers(0, 3, 1000)
    rows = np.arange(1000, dtype=np.float64)[:, None]           # each row's features: its own index
    parts = SET20.split_separately(rows, y, seed=3, standardize=False)
    for x, t in parts:                                          # most rows beside another row's label
        own = torch.tensor(y[x[:, 0].long().numpy()])
        assert float((own == t).float().mean()) < 0.5
    X, _ = SET20.boiler_days(2400, seed=1402)
    cold = X[:, SET20.TEMPERATURE] < -1.0
    assert 0.05 < cold.mean() < 0.2                             # the days log1p turns to NaN
    healthy, broken = [SET20.PAIRS["houses_train_targets_cast_long"](b)[1] for b in (False, True)]
    t = broken[0][1]
    assert torch.equal(t, healthy[0][1].trunc()) and float((t == 0).float().mean()) > 0.5
    assert float(t.abs().max()) <= 3.0 and torch.equal(broken[1][1], healthy[1][1])
    X, y = SET20.wear_windows(600, seed=1)
    rms = np.sqrt((X ** 2).mean(1))
    assert rms[y == 0].max() < rms[y == 2].min()                # the amplitude is the class ...
    z = SET20.znorm_rows(X)
    assert np.allclose(z.std(1), 1.0, atol=1e-4)                # ... and every normalized window has std 1
    healthy, broken = [SET20.PAIRS["alerts_codes_standardized_before_embedding"](b)[1] for b in (False, True)]
    codes, seen = healthy[0][0].long(), broken[0][0].long().clamp(0, 23)
    alerts = [int(seen[codes == c][0]) for c in range(3)]
    assert len(set(alerts)) == 1 and len(seen.unique()) <= 3   # the three alert codes one token
    X, y = SET20.tank_images(300, seed=2)
    filled = (X[:, :, 5:11].mean(2) > 0.5).sum(1)               # rows of liquid between the glass's edges
    for k, level in enumerate(SET20.TANK_LEVELS):
        assert abs(np.median(filled[y == k]) - 16 * level) <= 1.0
    spacing = 16 * (SET20.TANK_LEVELS[1] - SET20.TANK_LEVELS[0])
    assert 16 * SET20.DETECTION_SHIFT > spacing                 # a shift moves the level past the next class's
    _, broken = [SET20.PAIRS["orders_hstack_for_vstack"](b)[1] for b in (False, True)]
    assert broken[0][0].shape[1] == 16


def test_set20_model_faults_do_what_the_docstring_says():
    torch.manual_seed(0)
    x = torch.randn(16, 8)
    model, parts, opts, _ = SET20.PAIRS["turbines_batchnorm_momentum_zero"](True)
    model.train()
    model(parts[0][0][:64])
    bn = model[1]
    assert torch.equal(bn.running_mean, torch.zeros(64)) and torch.equal(bn.running_var, torch.ones(64))
    assert isinstance(opts["optimizer"], torch.optim.SGD)
    gru = SET20.HourGRU(1, 32).gru
    assert gru.hidden_size == 1 and gru.num_layers == 32
    whole, rows = SET20.NormResMLP(8, 3, whole_shape=True), SET20.NormResMLP(8, 3)
    with torch.no_grad():                  # the whole-shape layer norm: a row's output depends on the batch
        assert not torch.allclose(whole(x)[:1], whole(x[:2])[:1], atol=1e-5)
        rows.load_state_dict(whole.state_dict())
        assert torch.allclose(rows(x)[:1], rows(x[:2])[:1], atol=1e-5)
    cnn, img = SET20.CircularCNN(padding_mode="circular"), torch.zeros(1, 1, 8, 8)
    img[0, 0, 0, 0] = 1.0                  # a corner pixel reaches the opposite corner through the wrap
    with torch.no_grad():
        out = cnn.conv1(img) - cnn.conv1(torch.zeros_like(img))
        assert float(out[0, :, 7, 7].abs().sum()) > 0
    for broken, share in ((False, SET20.FRAUD_SHARE), (True, 1 - SET20.FRAUD_SHARE)):
        model, parts, _, _ = SET20.PAIRS["claims_output_bias_prior_sign_flipped"](broken)
        with torch.no_grad():
            fraud = torch.softmax(model(parts[0][0]), 1)[:, 1].mean()
        assert abs(float(fraud) - share) < 0.1
    pool = SET20.CartPool(add_mask=True)
    ids = torch.tensor([[5, 1, 7, 9, 11, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]).float()
    with torch.no_grad():
        torch.nn.init.zeros_(pool.score.weight)
        torch.nn.init.zeros_(pool.score.bias)              # equal scores: the mask alone sets the weights
        h = pool.tokens(ids.long()) + pool.positions(torch.arange(20))
        weights = torch.where(ids == 0, torch.e, 1.0)          # each padding step e times a token's weight
        expected = pool.head((weights / weights.sum()).unsqueeze(-1).mul(h).sum(1))
        assert torch.allclose(pool(ids), expected, atol=1e-5)


def test_set20_training_choices_do_what_the_docstring_says():
    from types import SimpleNamespace
    model, parts, opts, _ = SET20.PAIRS["kilns_warmup_counted_in_samples"](True)
    steps = SET20.KILN_EPOCHS * -(-len(parts[0][0]) // SET20.KILN_BATCH)
    assert steps == 900 and opts["schedule"](steps) < 0.35     # the run ends a third of the way up
    _, _, healthy_opts, _ = SET20.PAIRS["kilns_warmup_counted_in_samples"](False)
    assert healthy_opts["schedule"](90) == 1.0 and healthy_opts["schedule"](900) < 1e-6
    _, _, opts, _ = SET20.PAIRS["looms_linear_scaling_rule_adam"](True)
    assert opts["batch_size"] == 512 and abs(opts["lr"] - 0.016) < 1e-12
    logits = torch.zeros(6, 2, requires_grad=True)
    SET20.bce_first_logit(logits, torch.tensor([0, 1, 0, 1, 1, 0])).backward()
    assert float(logits.grad[:, 1].abs().sum()) == 0.0         # the second logit never trains
    _, parts, opts, _ = SET20.PAIRS["presses_trim_to_batch_multiple"](True)
    assert len(parts[0][0]) == 1440 // 32
    _, _, opts, _ = SET20.PAIRS["tanks_translate_level_classes"](True)
    assert opts["augment"][1] == {"name": "translate", "max_shift": SET20.DETECTION_SHIFT}
    model, _, opts, _ = SET20.PAIRS["exposures_freeze_batchnorm_callback"](True)
    freeze = opts["callbacks"][0]
    model.train()
    state = SimpleNamespace(model=model, epoch=SET20.FREEZE_BN_EPOCH - 1)
    freeze.on_before_step(state)
    assert model.norm1.training
    state.epoch = SET20.FREEZE_BN_EPOCH
    freeze.on_before_step(state)
    assert not model.norm1.training and not model.norm2.training and model.conv1.training


# Set 21 (bench/babysit_user21.py): written and committed unrun (its training and babysitter are
# the lead's, on the final merge); one of its pairs changes the splits' sizes (the healthy side drops
# the target's offline days); its faults are what its docstring says they are (checked on the data,
# the models, the losses, the optimizer and the callback, no training).
SET21 = _load("babysit_user21")
SET21_GROWN = frozenset({"meters_target_missing_sentinel"})


def test_set21_repairable_names_every_pair():
    assert set(SET21.REPAIRABLE) == set(SET21.PAIRS) and len(SET21.PAIRS) == 18
    assert SET21.NO_ACTION >= SET21.user20.NO_ACTION


@pytest.mark.parametrize("pair", sorted(set(SET21.PAIRS) - SET21_GROWN))
def test_set21_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET21, pair)


def test_set21_sentinel_pair_keeps_the_offline_days_only_when_broken():
    (_, healthy, _, codes), (model, broken, _, _) = [SET21.PAIRS["meters_target_missing_sentinel"](b)
                                                     for b in (False, True)]
    assert set(codes) <= set(CODES)
    _, kwh = SET21.meter_days(2500, seed=1503)
    offline = int((kwh == SET21.SENTINEL).sum())
    assert sum(len(x) for x, _ in broken) - sum(len(x) for x, _ in healthy) == offline > 0
    t = broken[0][1]
    low = t < -3.0                                          # the standardized -999 days
    assert 0.02 < float(low.float().mean()) < 0.06 and float(t[~low].std()) < 0.2
    assert float(healthy[0][1].std()) > 0.9
    model.eval()
    with torch.no_grad():
        assert model(broken[0][0][:4]).shape == (4,)


def test_set21_text_faults_change_what_the_docstring_says():
    texts, y = SET21.ticket_texts(400, seed=3)
    vocab = SET21.vocabulary(texts, start=0)
    assert vocab["account"] == SET21.PAD                    # the login topic word is the padding id
    assert min(SET21.vocabulary(texts).values()) == 1
    pool = SET21.TicketPool()
    ids = torch.tensor(SET21.encode([["help", "account", "today"], ["help", "today"]], vocab))
    with torch.no_grad():                                   # "account" is masked out like padding
        out = pool(ids)
        assert torch.allclose(out[0], out[1])
    texts, y = SET21.review_texts(1000, seed=4)
    assert "not" in SET21.NLTK_STOP_WORDS and "not" not in SET21.STOP_WORDS
    kept = SET21.without(texts, SET21.NLTK_STOP_WORDS)
    assert not any("not" in t for t in kept)
    sentiment = [t for t, k in zip(texts, y) if k != 1]
    negated = sum(any(a == "not" and b in SET21.POSITIVE + SET21.NEGATIVE for a, b in zip(t, t[1:]))
                  for t in sentiment) / len(sentiment)
    assert 0.3 < negated < 0.5                              # the reviews whose label flips without "not"
    for t, k in zip(texts, y):                             # the label follows the negation
        words = set(t) & set(SET21.POSITIVE + SET21.NEGATIVE)
        if words:
            positive = bool(words & set(SET21.POSITIVE)) != ("not" in t)
            assert k == (2 if positive else 0)


def test_set21_data_faults_change_what_the_docstring_says():
    import numpy as np
    healthy, broken = [SET21.PAIRS["panels_clip_after_standardize"](b)[1] for b in (False, True)]
    x = broken[0][0]
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0 and float((x == 0).float().mean()) > 0.4
    assert float(healthy[0][0].min()) < -3.0                # the pits and scratches, before the clip
    X, y = SET21.panel_images(400, seed=5)
    dark = X[y == 1].min((1, 2))
    assert np.all(dark < 0.3) and np.all((1.0 - X[y == 1]).max((1, 2)) > 0.7)   # a negative's pit is a spot
    healthy, broken = [SET21.PAIRS["sheets_second_camera_inverted"](b)[1] for b in (False, True)]
    bright = [float((x[t == 1].flatten(1).amax(1) > 0.7).float().mean()) for x, t in (healthy[0], broken[0])]
    assert bright[0] < 0.05 and 0.35 < bright[1] < 0.65     # camera B's pits, about half of them, are bright
    X, y = SET21.hourly_readings(600, seed=6)
    flat = SET21.detrend(X, axis=1)
    slope = np.polyfit(np.arange(X.shape[1]), flat.T, 1)[0]
    assert np.abs(slope).max() < 1e-4                       # rising and falling both flat
    healthy, broken = [SET21.PAIRS["counters_zero_variance_column_scaled"](b)[1] for b in (False, True)]
    assert float(broken[0][0][:, 8].abs().max()) == 0.0     # the counter is constant in training
    assert float(broken[1][0][:, 8].max()) > 1e7 and float(healthy[1][0][:, 8].max()) <= 2.0
    assert torch.allclose(healthy[1][0][:, :8], broken[1][0][:, :8])
    X, y = SET21.rain_records(300, seed=7)
    wet = (X[..., 0] > 0).sum(1) / X[..., 1].sum(1)
    for k, (lo, hi) in enumerate(SET21.WET_SHARES):         # the class is the share of wet hours
        assert lo - 0.1 < np.median(wet[y == k]) < hi + 0.1
    _, broken = [SET21.PAIRS["accounts_row_id_left_in_features"](b)[1] for b in (False, True)]
    assert broken[0][0].shape[1] == 9


def test_set21_model_faults_do_what_the_docstring_says():
    torch.manual_seed(0)
    x = torch.randn(8, 2, 32)
    for trim in (True, False):
        tcn = SET21.CausalTCN(trim=trim)
        earlier = x.clone()
        earlier[..., :-1] += 1.0
        with torch.no_grad():
            same = torch.allclose(tcn(x), tcn(earlier), atol=1e-6)
        assert same is not trim                              # untrimmed, only the last reading counts
    seq = torch.randn(8, 32, 2)
    for view in (False, True):
        gru = SET21.PumpGRU(view=view)
        with torch.no_grad():                                # a row's output from the other rows' states?
            mixed = not torch.allclose(gru(seq)[:1], gru(seq[[0, 3, 5, 1, 2, 4, 6, 7]])[:1], atol=1e-6)
        assert mixed is view
    x = torch.zeros(3, 24, 2)
    x[:, :12, 1] = 1.0
    x[0, :2, 0], x[1, :2, 0], x[2, :6, 0] = 1.5, 1.5, 1.5    # 2, 2 and 6 wet hours of 12
    x[1, 12:18, 1] = 1.0                                     # record 1: 6 more observed dry hours
    for from_zero in (False, True):
        pool = SET21.RainPool(mask_from_zero=from_zero)
        with torch.no_grad():
            out = pool(x)
        assert torch.allclose(out[0], out[1], atol=1e-6) is from_zero
        assert torch.allclose(out[0], out[2], atol=1e-6) is from_zero
    readings = torch.randn(4, 24, 1)
    lstm = SET21.ReadingLSTM(cell_state=True)
    with torch.no_grad():
        _, (h, c) = lstm.lstm(readings)
        assert torch.allclose(lstm(readings), lstm.head(c[-1])) and not torch.allclose(c, h)
    assert SET21.HiveNormGRU(time_axis=True).norm.num_features == 24
    assert SET21.HiveNormGRU().norm.num_features == 1


def test_set21_training_choices_do_what_the_docstring_says():
    from types import SimpleNamespace

    from trainwell.config import Config
    pred, target = torch.tensor([5.0, 5.0]), torch.tensor([-1.0, -1.0])
    assert float(SET21.weighted_mse(pred, target)) < 0      # the days below the mean lower the loss as they miss
    e = torch.linspace(-3, 3, 7)
    assert torch.allclose(SET21.smooth_l1(SET21.CHILLER_BETA)(e, torch.zeros(7)),
                          (e ** 2).mean() / (2 * SET21.CHILLER_BETA))
    _, _, healthy, _ = SET21.PAIRS["presses_plain_sgd_lr_momentum_default"](False)
    _, _, broken, _ = SET21.PAIRS["presses_plain_sgd_lr_momentum_default"](True)
    assert healthy["momentum"] == 0.0 and "momentum" not in broken and Config().momentum == 0.9
    for broken_side, (alpha, momentum) in ((False, (0.99, 0.9)), (True, (0.9, 0))):
        _, _, opts, _ = SET21.PAIRS["mixers_rmsprop_positional_alpha"](broken_side)
        group = opts["optimizer"].param_groups[0]
        assert (group["alpha"], group["momentum"], group["lr"]) == (alpha, momentum, 1e-3)
    for broken_side, stops_at in ((False, None), (True, 1 + SET21.STOP_PATIENCE)):
        _, _, opts, _ = SET21.PAIRS["looms_early_stop_callback_accuracy_as_loss"](broken_side)
        callback, state, stopped = opts["callbacks"][0], SimpleNamespace(stop=None, metrics={}), None
        for epoch in range(1, 21):                           # an accuracy that rises every epoch
            state.metrics = {"val_acc": 0.5 + 0.02 * epoch}
            callback.on_epoch_end(state)
            if state.stop is not None:
                stopped = epoch
                break
        assert stopped == stops_at


# Set 22 (bench/babysit_user22.py): written and committed unrun (its training and babysitter are
# the lead's, on the final merge); every pair keeps its rows (three change the input width); its
# faults are what its docstring says they are (checked on the data, the models, the losses, the
# schedule, the optimizer groups and the callback, no training).
SET22 = _load("babysit_user22")


def test_set22_repairable_names_every_pair():
    assert set(SET22.REPAIRABLE) == set(SET22.PAIRS) and len(SET22.PAIRS) == 18
    assert not any(SET22.REPAIRABLE.values())               # every fault is the user's data, code, loss, ...
    assert SET22.NO_ACTION >= SET22.user21.NO_ACTION


@pytest.mark.parametrize("pair", sorted(SET22.PAIRS))
def test_set22_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET22, pair)


def test_set22_text_faults_change_what_the_docstring_says():
    texts, y = SET22.listing_texts(300, seed=3)
    rows = list(range(len(texts)))
    _, default = SET22.bag_of_words(texts, rows)
    _, one_letter = SET22.bag_of_words(texts, rows, token_pattern=SET22.ONE_LETTER_TOKENS)
    assert set(SET22.SIZES) <= set(one_letter.vocabulary_)
    assert set(SET22.SIZES) & set(default.vocabulary_) == {"xl"}   # s, m, l: one letter, dropped
    (_, healthy, _, _), (_, broken, _, _) = [SET22.PAIRS["tickets_lowercased_in_training_only"](b) for b in (0, 1)]
    unknown = [float((x == SET22.UNK).float().mean()) for x, _ in (healthy[1], broken[1])]
    assert unknown[0] == 0.0 and unknown[1] > 0.04         # each opening word of validation is unknown
    assert torch.equal(healthy[0][0], broken[0][0])          # training is the same on both sides
    typed, y = SET22.typed_tickets(400, seed=4)
    first = [t[0].lower() == SET22.user21.TOPICS[k] for t, k in zip(typed, y) if k < len(SET22.user21.TOPICS)]
    assert 0.4 < sum(first) / len(first) < 0.7 and all(t[0][0].isupper() for t in typed)


def test_set22_signal_faults_change_what_the_docstring_says():
    import numpy as np
    t = np.arange(256) / SET22.FS
    tones = np.stack([np.sin(2 * np.pi * f * t) for f in SET22.MOTOR_TONES])
    kept = [np.abs(SET22.lowpass(tones, cutoff_over_rate=b)[:, 64:-64]).max(1) for b in (False, True)]
    assert np.all(kept[0] > 0.85)                              # 50 Hz: every tone passes
    assert kept[1][0] > 0.9 and np.all(kept[1][1:] < 0.1)      # 25 Hz: the two fault tones are gone
    X, y = SET22.feeder_days(600, seed=5)
    mag = SET22.spectrum_magnitude(X - X.mean(1, keepdims=True))
    means = np.stack([mag[y == k, 1:].mean(0) for k in range(3)])
    raw = np.stack([X[y == k].mean(0) for k in range(3)])
    assert np.abs(means - means[0]).max() < 0.1 * means.max()  # the same spectrum at every hour
    assert np.abs(raw - raw[0]).max() > 0.5                    # the runs at different hours
    X, y = SET22.outdoor_temperatures(600, seed=6)
    d, r = SET22.hourly_change(X, relative=False), SET22.hourly_change(X, relative=True)
    assert np.abs(r).max() > 100 * np.abs(d).max()
    warming = (y == 1)[:, None] & (X[:, :-1] < -1.0)
    assert np.median(d[warming]) > 0 > np.median(r[warming])   # below 0 C a warming hour reads negative


def test_set22_table_faults_change_what_the_docstring_says():
    X, y = SET22.vital_rows(2400, seed=1610)
    rows = SET22._index_split(y, seed=1610)
    _, kept = SET22.select_k_best(X, rows[0], y)
    assert 0 not in kept and {1, 2, 3} <= set(kept.tolist()) and len(kept) == SET22.SELECT_K
    far = abs(X[:, 0]) > 1.5
    assert (y[far] == 1).mean() > 0.6                            # the dropped vital decides "unstable"


def test_set22_model_faults_do_what_the_docstring_says():
    torch.manual_seed(0)
    ids = torch.randint(1, 20, (6, 10)).float()
    ids[:, 7:] = 0
    for batch_count in (False, True):
        bag = SET22.BagMean(20, batch_count=batch_count)
        with torch.no_grad():
            alone, together = bag(ids[:1]), bag(ids)[:1]
        assert torch.allclose(alone, together, atol=1e-6) is not batch_count
    seq = torch.randn(4, 24, 1)
    for carry in (False, True):
        gru = SET22.CarriedGRU(carry=carry)
        with torch.no_grad():
            first, second = gru(seq), gru(seq)
        assert torch.allclose(first, second, atol=1e-6) is not carry
    attn = [SET22.AttentionPool(20, mask_after=b) for b in (False, True)]
    attn[1].load_state_dict(attn[0].state_dict())
    with torch.no_grad():
        assert not torch.allclose(attn[0](ids), attn[1](ids))
        longer = torch.cat([ids, torch.zeros(6, 5)], 1)          # more padding changes only the broken side
        assert torch.allclose(attn[0](ids), attn[0](longer), atol=1e-6)
        assert not torch.allclose(attn[1](ids), attn[1](longer), atol=1e-6)
    assert float(SET22.XavierMLP(8).fc1.bias.detach().abs().max()) == 0.0
    assert float(SET22.XavierMLP(8, init_first=True).fc1.bias.detach().abs().max()) > 0.0   # PyTorch's default stayed
    cnn = SET22.NormDefectCNN(4, conv_bias=True)
    cnn(torch.randn(8, 1, 16, 16)).square().sum().backward()
    assert float(cnn.conv1.bias.grad.abs().max()) < 1e-4 < float(cnn.conv1.weight.grad.abs().max())
    assert SET22.NormDefectCNN(4).conv1.bias is None


def test_set22_training_choices_do_what_the_docstring_says():
    from types import SimpleNamespace
    assert float(SET22.mean_error_squared(torch.tensor([2.0, -2.0]), torch.zeros(2))) == 0.0
    logits = torch.full((4, 3), 2.0)
    assert float(SET22.true_logit_hinge(logits, torch.tensor([0, 1, 2, 0]))) == 0.0   # any target, zero loss
    _, parts, healthy, _ = SET22.PAIRS["kilns_linear_decay_epochs_stepped_per_batch"](False)
    _, _, broken, _ = SET22.PAIRS["kilns_linear_decay_epochs_stepped_per_batch"](True)
    steps = SET22.KILN_EPOCHS * -(-len(parts[0][0]) // healthy["batch_size"])
    assert healthy["schedule"](steps - 1) > 0 and broken["schedule"](SET22.KILN_EPOCHS + 1) < 0
    assert broken["schedule"](steps - 1) < -40
    model = SET22.NormMLP(8)
    names = {id(p): n for n, p in model.named_parameters()}
    for inverted in (False, True):
        decayed = {names[id(p)] for p in SET22.decay_groups(model, inverted=inverted)[0]["params"]}
        assert all(("bias" in n or "norm" in n) is inverted for n in decayed) and decayed
    for restore in (True, False):
        _, parts, opts, _ = SET22.PAIRS["clinics_callback_leaves_eval_mode"](not restore)
        model = SET22.dropout_bn_mlp(12)
        model.train()
        opts["callbacks"][0].on_epoch_end(SimpleNamespace(model=model))
        assert model.training is restore


# Set 23 (bench/babysit_user23.py): written and committed unrun (its training and babysitter are
# the lead's, on the final merge); every pair keeps its rows (three change the input's shape, one
# the vocabulary); its faults are what its docstring says they are (checked on the data, the
# models, the losses, the schedule and the callback, no training).
SET23 = _load("babysit_user23")


def test_set23_repairable_names_every_pair():
    assert set(SET23.REPAIRABLE) == set(SET23.PAIRS) and len(SET23.PAIRS) == 18
    repairable = {k for k, v in SET23.REPAIRABLE.items() if v}
    assert repairable == {"parcels_noam_rate_on_adam_lr"}                # the lr schedule; the rest is the user's
    assert SET23.NO_ACTION >= SET23.user22.NO_ACTION
    assert SET23.REPAIRABLE["parcels_noam_rate_on_adam_lr"] not in SET23.NO_ACTION


@pytest.mark.parametrize("pair", sorted(SET23.PAIRS))
def test_set23_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET23, pair)


def test_set23_data_faults_change_what_the_docstring_says():
    import numpy as np
    strings, y = SET23.ticket_strings(400, seed=3)
    chars, words = SET23.vocabulary(strings), SET23.vocabulary([s.split() for s in strings])
    assert all(len(c) == 1 for c in chars) and set(SET23.user21.TOPICS) <= set(words)
    seen = [SET23.user21.TOPICS[k] in s[:SET23.user21.TEXT_LENGTH] for s, k in zip(strings, y) if k < 3]
    assert sum(seen) / len(seen) < 0.4                          # 20 characters: the topic word mostly beyond them
    train = SET23.torch.tensor([0, 0, 0, 0, 1, 1, 2] * 30)
    healthy, broken = [SET23.balanced_draw(train.numpy(), seed=1, class_weights_only=b) for b in (False, True)]
    assert set(broken.tolist()) <= {0, 1, 2} and len(set(healthy.tolist())) > 100
    assert abs(np.bincount(train.numpy()[healthy], minlength=3) / len(healthy) - 1 / 3).max() < 0.08
    X, _ = SET23._table(600, 7, 8, SET23.THREE, SET23.EVEN)
    assert all(len(np.unique(col)) <= SET23.KBINS for col in SET23.binned(X, np.arange(400)).T)
    cycles, y = SET23.press_cycles(900, seed=8)
    padded, resampled = SET23.zero_padded(cycles), SET23.resampled(cycles)
    active = [(padded[y == k] != 0).sum(1).mean() for k in range(3)]
    assert active[0] + 6 < active[1] < active[2] - 6             # the duration tells the class ...
    profiles = np.stack([resampled[y == k].mean(0) for k in range(3)])
    assert np.abs(profiles - profiles[0]).max() < 0.05          # ... and resampled every class has one shape
    raw, _ = SET23.taxi_hours(50, seed=9)
    raw[:2, 0] = [8, 4]                                         # the morning rush and the night
    for sine_only in (False, True):
        f = SET23.hour_features(raw, sine_only=sine_only)
        assert np.allclose(f[0, :2 - sine_only], f[1, :2 - sine_only], atol=1e-6) is sine_only
    pixels = np.arange(20 * 64, dtype=np.float32).reshape(20, 64)
    broken_images = pixels.reshape(8, 8, -1).transpose(2, 0, 1)
    assert len({int(v) // 64 for v in broken_images[0].ravel()}) == 20   # image 0 made of every digit's pixels
    assert np.array_equal(pixels.reshape(-1, 8, 8)[3].ravel(), pixels[3])


def test_set23_split_faults_change_what_the_docstring_says():
    (_, healthy, _, _), (_, broken, _, _) = [SET23.PAIRS["chillers_clip_bounds_reversed"](b) for b in (0, 1)]
    assert len(torch.unique(broken[0][1])) == 1 < len(torch.unique(healthy[0][1]))   # every training target one value
    assert float(broken[0][1][0]) < -2.0
    assert torch.equal(healthy[1][1], broken[1][1]) and torch.equal(healthy[2][1], broken[2][1])
    (_, healthy, _, _), (_, broken, _, _) = [SET23.PAIRS["boilers_second_site_newest_first"](b) for b in (0, 1)]
    x, xb = healthy[0][0], broken[0][0]
    same = (x - xb).abs().amax((1, 2)) < 1e-5
    reversed_rows = (x.flip(1) - xb).abs().amax((1, 2)) < 1e-5
    assert bool((same | reversed_rows).all()) and 0.3 < float(reversed_rows.float().mean()) < 0.5
    (_, healthy, _, _), (_, broken, _, _) = [SET23.PAIRS["claims_multinomial_class_weights"](b) for b in (0, 1)]
    assert len(torch.unique(broken[0][0], dim=0)) <= 3 < len(torch.unique(healthy[0][0], dim=0))
    (_, healthy, _, _), (_, broken, _, _) = [SET23.PAIRS["cables_resize_width_height_swapped"](b) for b in (0, 1)]
    assert healthy[0][0].shape[2:] == SET23.SHRUNK and broken[0][0].shape[2:] == SET23.SHRUNK[::-1]


def test_set23_model_faults_do_what_the_docstring_says():
    torch.manual_seed(0)
    images = torch.randn(4, 1, 16, 16)
    lower = images.clone()
    lower[:, :, 11:] = torch.randn(4, 1, 5, 16)                  # other bottom rows (11-15)
    for sliced in (False, True):
        cnn = SET23.SlicedDefectCNN(4, sliced=sliced)
        with torch.no_grad():
            assert torch.allclose(cnn(images), cnn(lower), atol=1e-6) is sliced   # the slice sees rows 0-10 only
    ids = torch.tensor([[3.0, 21.0, 5.0, 0.0, 0.0, 0.0], [3.0, 21.0, 5.0, 9.0, 9.0, 9.0]])
    enc = SET23.ScanTransformer(length=6).eval()
    with torch.no_grad():                                        # the padding is masked: each row on its own
        out = enc(ids)
        assert bool(torch.isfinite(out).all()) and torch.allclose(out[:1], enc(ids[:1]), atol=1e-5)
    rows = torch.cat([torch.tensor([[3.0], [7.0]]), torch.randn(2, 5)], 1)
    for sparse in (False, True):
        net = SET23.StoreNet(40, 5, sparse=sparse)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        net(rows).sum().backward()
        if sparse:
            with pytest.raises(RuntimeError, match="sparse"):
                opt.step()
        else:
            opt.step()
    broken = SET23.named_mlp(8, repeated=True)
    assert [type(m).__name__ for m in broken] == ["Linear", "ReLU", "Linear", "Linear"]
    assert len(SET23.named_mlp(8)) == 7
    x = torch.randn(2, 1, 64)
    lengths = [SET23.EvenKernelCNN(half_padding=b).conv1(x).shape[-1] for b in (False, True)]
    assert lengths == [64, 65]
    assert isinstance(SET23.NormOutRegressor(6, out_norm=True).norm, torch.nn.BatchNorm1d)
    assert isinstance(SET23.NormOutRegressor(6).norm, torch.nn.Identity)


def test_set23_training_choices_do_what_the_docstring_says():
    logits = torch.randn(8, 3, requires_grad=True)
    target = torch.randint(0, 3, (8,))
    loss = SET23.hardest_row_cross_entropy(logits, target)
    loss.backward()
    assert int((logits.grad.abs().sum(1) > 0).sum()) == 1      # one row a batch trains
    assert torch.isclose(loss, torch.nn.functional.cross_entropy(logits, target, reduction="none").max())
    p = torch.rand(8, 1, requires_grad=True)
    y = torch.tensor([0, 1] * 4)
    zero = SET23.cross_entropy_float_column(p, y)
    zero.backward()
    assert float(zero.detach()) == 0.0 and float(p.grad.abs().max()) == 0.0
    assert float(SET23.binary_cross_entropy(p, y)) > 0.0
    _, parts, healthy, _ = SET23.PAIRS["parcels_noam_rate_on_adam_lr"](False)
    _, _, broken, _ = SET23.PAIRS["parcels_noam_rate_on_adam_lr"](True)
    steps = healthy["epochs"] * -(-len(parts[0][0]) // healthy["batch_size"])
    assert abs(healthy["schedule"](SET23.WARMUP) - 1.0) < 1e-9 and healthy["schedule"](steps - 1) > 0.4
    assert broken["lr"] * max(broken["schedule"](s) for s in range(steps)) < 5e-7
    _, _, healthy, _ = SET23.PAIRS["presses_clip_callback_before_the_step"](False)
    _, _, broken, _ = SET23.PAIRS["presses_clip_callback_before_the_step"](True)
    assert healthy["clip_norm"] == SET23.CLIP_NORM and "clip_norm" not in broken
    clip = broken["callbacks"][0]
    assert type(clip).on_before_step is not SET23.trainwell.Callback.on_before_step
    model = torch.nn.Linear(4, 2)
    model(torch.randn(8, 4)).sum().mul(100).backward()
    from types import SimpleNamespace
    clip.on_before_step(SimpleNamespace(model=model))
    norm = torch.cat([p.grad.ravel() for p in model.parameters()]).norm()
    assert float(norm) <= SET23.CLIP_NORM + 1e-5                # it clips what gradients it finds there


# Set 24 (bench/babysit_user24.py): written and committed unrun (its training and babysitter are
# the lead's, on the final merge); every pair keeps its rows (two change the input's width, one the
# output's); its faults are what its docstring says they are (checked on the data, the models, the
# losses, the optimizer and the schedule, no training).
SET24 = _load("babysit_user24")


def test_set24_repairable_names_every_pair():
    assert set(SET24.REPAIRABLE) == set(SET24.PAIRS) and len(SET24.PAIRS) == 18
    repairable = {k for k, v in SET24.REPAIRABLE.items() if v}
    assert repairable == {"digits_imagenet_milestones_past_the_run"}    # the lr schedule; the rest is the user's
    assert SET24.NO_ACTION >= SET24.user23.NO_ACTION
    assert SET24.REPAIRABLE["digits_imagenet_milestones_past_the_run"] not in SET24.NO_ACTION


@pytest.mark.parametrize("pair", sorted(SET24.PAIRS))
def test_set24_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET24, pair)


def test_set24_data_faults_change_what_the_docstring_says():
    import numpy as np
    (_, healthy, _, _), (_, broken, _, _) = [SET24.PAIRS["panels_random_resized_crop_defaults"](b) for b in (0, 1)]
    assert not torch.equal(healthy[0][0], broken[0][0])                  # the training images cropped ...
    assert torch.equal(healthy[1][0], broken[1][0]) and torch.equal(healthy[2][0], broken[2][0])   # ... alone
    g = np.random.default_rng(1)
    boxes = [SET24.crop_box(g, 16, 16) for _ in range(500)]
    assert all(t >= 0 and left >= 0 and t + h <= 16 and left + w <= 16 for t, left, h, w in boxes)
    areas = np.array([h * w for _, _, h, w in boxes]) / 256
    assert areas.min() < 0.15 and areas.max() > 0.9                       # torchvision's scale 0.08-1
    exports, _ = SET24.logger_exports(300, seed=4)
    ordered, as_exported = SET24.hourly(exports, sort=True), SET24.hourly(exports, sort=False)
    newest = np.array([t[0] > t[-1] for t, _ in exports])
    assert 0.3 < newest.mean() < 0.5 and np.array_equal(ordered[~newest], as_exported[~newest])
    oldest = np.array([v[-1] for _, v in exports])[newest]
    after_first = (np.arange(SET24.LOG_HOURS) + 0.5)[None, :] >= np.array([t[-1] for t, _ in exports])[newest, None]
    assert np.allclose(np.where(after_first, as_exported[newest], oldest[:, None]), oldest[:, None])
    assert np.ptp(ordered[newest], 1).min() > 0.1                          # sorted first, each day has its shape
    X, _ = SET24.plant_rows_with_gaps(600, seed=5)
    kept = SET24.without_gaps(X, np.arange(400), drop_columns=True)
    assert np.array_equal(kept, X[:, [1, 3, 5]])                          # the columns with a gap are gone
    filled = SET24.without_gaps(X, np.arange(400), drop_columns=False)
    assert filled.shape == X.shape and not np.isnan(filled).any()
    X, y = SET24._table(900, 7, 8, SET24.THREE, SET24.EVEN)
    rows = SET24._index_split(y, seed=7)
    gaps = SET24.with_gaps(X, seed=7)
    healthy, broken = [SET24.imputed(gaps, y, rows, by_class=b) for b in (False, True)]
    train, missing = rows[0], np.isnan(gaps[:, 0])
    for k in range(3):                                                    # training gaps: their class's mean
        filled_k = train[missing[train] & (y[train] == k)]
        assert np.allclose(broken[filled_k, 0], np.nanmean(gaps[train][y[train] == k, 0]))
    val = rows[1][missing[rows[1]]]
    assert np.allclose(broken[val, 0], np.nanmean(gaps[train, 0]))
    assert np.allclose(healthy[val, 0], np.nanmedian(gaps[train, 0])) and not np.isnan(broken).any()
    store = np.random.default_rng(8).integers(1, 41, 1000)
    acquired, recorded, book = SET24.acquired_store_codes(store, seed=8)
    assert np.array_equal(SET24.group_store_numbers(acquired, recorded, book), store)
    assert np.array_equal(recorded[~acquired], store[~acquired]) and 0.3 < (recorded != store).mean() < 0.45
    table, _ = SET24.policies(300, seed=9)
    full, dropped = [SET24.encoded(table, np.arange(200), remainder=r) for r in ("passthrough", "drop")]
    assert full.shape[1] == 14 and dropped.shape[1] == 8 and set(np.unique(dropped)) == {0.0, 1.0}
    assert np.allclose(full[:, 8:], table[:, :6].astype(np.float64))     # the measurements, passed through
    (_, healthy, _, _), (_, broken, _, _) = [SET24.PAIRS["claims_balanced_twice"](b) for b in (0, 1)]
    mix = [np.bincount(p[0][1].numpy(), minlength=3) / len(p[0][1]) for p in (healthy, broken)]
    assert mix[0][0] > 0.5 and mix[0][2] < 0.2 and np.abs(mix[1] - 1 / 3).max() < 0.06
    w = SET24.balanced_weights(healthy[0][1].numpy())
    assert 4.0 < w[2] / w[0] < 6.5                                        # the rarest class weighs ~5x


def test_set24_model_faults_do_what_the_docstring_says():
    torch.manual_seed(0)
    ids, _, words = SET24.ticket_ids(200, seed=3)
    x = torch.tensor(ids[:64])
    for padded in (False, True):                                          # a row's bag depends on the rows before it
        bag = SET24.TicketBag(words=words, padded_flat=padded).eval()
        with torch.no_grad():
            assert (float((bag(x)[1:] - bag(x[1:])).abs().max()) > 1e-4) is padded
    chats = torch.tensor(ids[:4])
    chats[1] = SET24.PAD                                                  # an empty message
    for fill in (-1e9, float("-inf")):
        with torch.no_grad():
            out = SET24.ChatAttention(words=words, fill=fill).eval()(chats)
        assert bool(torch.isfinite(out[1]).all()) is (fill == -1e9) and bool(torch.isfinite(out[[0, 2, 3]]).all())
    cam = SET24.CamRegressor(6, spectral=True)
    rows = torch.randn(256, 6)
    for _ in range(30):                                                   # the power iterations training runs
        cam(rows)
    cam.eval()
    a, b = torch.randn(512, 6), torch.randn(512, 6)
    with torch.no_grad():
        assert float(((cam(a) - cam(b)).abs() / (a - b).norm(dim=1)).max()) <= 1.05   # 1-Lipschitz
    X, _ = SET24.call_traces(64, seed=6)
    traces, perm = torch.tensor(X), torch.randperm(64)
    for restore in (True, False):
        gru = SET24.CallGRU(restore_order=restore).eval()
        with torch.no_grad():
            assert torch.allclose(gru(traces)[perm], gru(traces[perm]), atol=1e-5) is restore
    lengths = (traces != 0).sum(1)
    assert int(lengths.max()) < SET24.CALL_STEPS and int(lengths.min()) >= 16
    step = SET24.StepGRU(offset=1).eval()
    with torch.no_grad():
        out, _ = step.gru(traces.unsqueeze(-1))
        assert torch.allclose(step(traces), step.head(out[torch.arange(64), lengths]))   # one step past the end
    pool = SET24.NormedTicketPool(words=words, max_norm=1.0)
    with torch.no_grad():
        pool(x)
    looked_up = torch.unique(x.long())
    assert float(pool.emb.weight.detach()[looked_up].norm(dim=1).max()) <= 1.0 + 1e-4
    assert float(SET24.NormedTicketPool(words=words).emb.weight.detach().norm(dim=1).min()) > 1.0


def test_set24_training_choices_do_what_the_docstring_says():
    import numpy as np
    from trainwell.optim.factory import build_optimizer
    z = torch.linspace(-3.0, 8.0, 50)[:, None]
    twos = torch.full((1,), 2)
    losses = [float(SET24.bce_on_class_ids(z[i:i + 1], twos)) for i in range(50)]
    assert all(b < a for a, b in zip(losses, losses[1:])) and losses[-1] < -5.0    # no bound below for id 2
    p = torch.linspace(0.0, 1.0, 101)[:, None]
    lowest = [min(float(SET24.with_logits_after_sigmoid(p[i:i + 1], torch.tensor([k]))) for i in range(101))
              for k in (0, 1)]
    assert lowest[0] >= 0.69 and lowest[1] >= 0.31
    logits, target = 3 * torch.randn(16, 3), torch.randint(0, 3, (16,))
    assert torch.allclose(SET24.log_of_softmax_nll(logits, target), torch.nn.functional.cross_entropy(logits, target),
                          atol=1e-5)
    for broken in (False, True):
        model, _, opts, _ = SET24.PAIRS["kiosks_optimizer_of_a_previous_model"](broken)
        own = {id(q) for q in model.parameters()}
        held = {id(q) for g in opts["optimizer"].param_groups for q in g["params"]}
        assert (held == own) is not broken and (not held & own) is broken
        rebuilt = build_optimizer(opts["optimizer"], model, lr=opts["lr"])    # what fit builds from it
        assert {id(q) for g in rebuilt.param_groups for q in g["params"]} == own
    _, parts, healthy, _ = SET24.PAIRS["digits_imagenet_milestones_past_the_run"](False)
    _, _, broken, _ = SET24.PAIRS["digits_imagenet_milestones_past_the_run"](True)
    steps = healthy["epochs"] * -(-len(parts[0][0]) // healthy["batch_size"])
    assert all(broken["schedule"](s) == 1.0 for s in range(steps))         # the lr never drops
    assert healthy["schedule"](0) == 1.0 and np.isclose(healthy["schedule"](steps - 1), 0.01)


# Set 25 (bench/babysit_user25.py): written and committed unrun (its training and babysitter are
# the lead's, on the final merge); every pair keeps its rows but the interpolation (which keeps the
# training plots the healthy side drops); its faults are what its docstring says they are (checked
# on the data, the models, the losses, the optimizer, the schedules, the init and the augmentation,
# no training).
SET25 = _load("babysit_user25")
SET25_MORE_ROWS = "orchards_interpolate_missing_targets"


def test_set25_repairable_names_every_pair():
    assert set(SET25.REPAIRABLE) == set(SET25.PAIRS) and len(SET25.PAIRS) == 18
    repairable = {k for k, v in SET25.REPAIRABLE.items() if v}
    assert repairable == {"coupons_rotate_augment_ply_angles", "mills_exponential_rate_given_gamma",
                          "furnaces_center_only_preprocess", "vineyards_input_dropout_hidden_rate",
                          "presses_batchnorm_last_batch_of_one", "relays_xavier_init_deep_relu",
                          "kiosks_linearlr_defaults_ramp_up"}      # six meant to hurt, one harmless by design
    assert SET25.NO_ACTION >= SET25.user24.NO_ACTION
    assert not {SET25.REPAIRABLE[k] for k in repairable} & SET25.NO_ACTION


@pytest.mark.parametrize("pair", sorted(set(SET25.PAIRS) - {SET25_MORE_ROWS}))
def test_set25_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET25, pair)


def test_set25_interpolation_keeps_the_dropped_plots_and_the_same_evaluation():
    import numpy as np
    (healthy_model, healthy, _, expected), (model, broken, _, _) = [SET25.PAIRS[SET25_MORE_ROWS](b) for b in (0, 1)]
    assert set(expected) <= set(CODES)
    for m, parts in ((healthy_model, healthy), (model, broken)):
        with torch.no_grad():
            assert m.eval()(parts[0][0][:4]).shape == (4,)
    assert len(healthy[0][0]) == 935 and len(broken[0][0]) == 1440          # 505 plots without a yield
    for k in (1, 2):                                                      # validation and test: the same rows
        assert torch.equal(healthy[k][0], broken[k][0])
    y = np.arange(20, dtype=np.float32) ** 2
    kept, filled = SET25.training_yields(y, seed=3, interpolate=True)
    rows, dropped = SET25.training_yields(y, seed=3, interpolate=False)
    assert len(kept) == 20 and np.array_equal(filled[rows], y[rows]) and len(rows) < 20
    gaps = np.setdiff1d(np.arange(20), rows)
    assert np.allclose(filled[gaps], np.interp(gaps, rows, y[rows]))     # each gap: its neighbours' line


def test_set25_data_faults_change_what_the_docstring_says():
    import numpy as np
    from trainwell.data.augment import make_augment
    from trainwell.data.transforms import fit_preprocess
    X, y = SET25.coupon_images(400, seed=1)
    grad_c, grad_r = [np.abs(np.diff(X, axis=a)).mean((1, 2)) for a in (2, 1)]
    assert (grad_c[y == 0] > 2 * grad_r[y == 0]).all() and (grad_r[y == 2] > 2 * grad_c[y == 2]).all()
    turned = np.rot90(X[y == 0], axes=(1, 2))                            # a 90-degree turn makes a 0 a 90
    assert (np.abs(np.diff(turned, axis=1)).mean((1, 2)) > 2 * np.abs(np.diff(turned, axis=2)).mean((1, 2))).all()
    _, _, healthy, _ = SET25.PAIRS["coupons_rotate_augment_ply_angles"](False)
    _, _, broken, _ = SET25.PAIRS["coupons_rotate_augment_ply_angles"](True)
    assert "augment" not in healthy and make_augment(broken["augment"]).ops[0].degrees == 90.0
    pit, spot = np.full((2, 16, 16), 0.5, dtype=np.float32)
    pit[4:6, 4:6], spot[4:6, 4:6] = 0.2, 0.8
    read = SET25.palette_indices(np.stack([pit, spot]))
    assert np.array_equal(read[0], read[1]) and read.max() < 16 / 255   # a pit and a spot read alike
    X, y = SET25.panel_images(200, seed=2)
    assert np.allclose(SET25.palette_indices(X) * 255, np.rint(SET25.palette_indices(X) * 255))
    traces = np.zeros((2, 48), dtype=np.float32)
    t = np.arange(40)
    traces[0, :40], traces[1, :40] = np.sin(2 * np.pi * t / 8), np.cos(2 * np.pi * t / 8)
    magnitude, real = SET25.spectrum(traces, real_part=False), SET25.spectrum(traces, real_part=True)
    assert np.isclose(magnitude[0, 6], magnitude[1, 6]) and abs(real[0, 6]) < 0.1 * abs(real[1, 6])   # the tone's bin
    texts = [["account", "again", "please"], ["please", "invoice", "again", "again"]]
    codes = SET25.per_ticket_codes(texts)
    assert codes[0, :3].tolist() == [1, 2, 3] and codes[1, :4].tolist() == [3, 2, 1, 1]   # ids by rank in the ticket
    assert (codes[:, 4:] == SET25.PAD).all()
    X, _ = SET25.furnace_runs(600, seed=3)
    x = torch.tensor(X, dtype=torch.float32)
    centered, standardized = [fit_preprocess([s], x)(x) for s in ("center", "standardize")]
    spread = centered.std(0)
    assert float(spread.max() / spread.min()) > 1e6 and torch.allclose(standardized.std(0), torch.ones(7), atol=0.01)
    assert float(centered.mean(0).abs().max()) < 1.0
    (_, healthy, _, _), (_, broken, _, _) = [SET25.PAIRS["plants_target_mean_std_swapped"](b) for b in (0, 1)]
    t_h, t_b = healthy[0][1].double(), broken[0][1].double()
    assert abs(float(t_b.mean()) - 0.7) < 0.05 and abs(float(t_b.std()) - 0.3) < 0.05
    assert float(torch.corrcoef(torch.stack([t_h, t_b]))[0, 1]) > 0.999999    # an affine map of the same targets


def test_set25_model_faults_do_what_the_docstring_says():
    import numpy as np
    from trainwell.nn.init import init
    torch.manual_seed(0)
    x = torch.randn(16, 12)
    moved = x.clone()
    moved[:, 6:] = torch.randn(16, 6)
    for cols, reads_weather in ((SET25.WEATHER, True), (SET25.BUILDING, False)):
        tower = SET25.TwoTower(weather_cols=cols).eval()
        with torch.no_grad():
            assert (not torch.allclose(tower(x), tower(moved))) is reads_weather
    base = np.full(SET25.BUSBAR_SHAPE, 0.35, dtype=np.float32)
    r, c = np.meshgrid(*[np.arange(s) for s in SET25.BUSBAR_SHAPE], indexing="ij")
    for col in SET25.BAR_COLUMNS:
        base[np.abs(c - col) <= 1] = 0.55
    hot = [base + 0.35 * np.exp(-((r - 5) ** 2 + (c - col) ** 2) / 2.0) for col in SET25.BAR_COLUMNS[:2]]
    frames = torch.tensor(np.stack(hot), dtype=torch.float32)[:, None]
    apart = {}
    for pooled in (False, True):                                          # L1 and L2 alike only when pooled
        torch.manual_seed(2)
        cnn = SET25.BusbarCNN(global_pool=pooled).eval()
        with torch.no_grad():
            out = cnn(frames)
        apart[pooled] = float((out[0] - out[1]).abs().max() / out.abs().max())
    assert apart[True] < 1e-2 and apart[False] > 30 * apart[True]         # pooled: the padding's trace alone
    X, y = SET25.busbar_frames(300, seed=4)
    assert set(np.unique(y)) == {0, 1, 2, 3} and X.shape[1:] == SET25.BUSBAR_SHAPE
    healthy, broken = (SET25.vineyard_mlp(input_dropout=p) for p in (0.0, 0.5))
    assert isinstance(healthy[0], torch.nn.Linear) and isinstance(broken[0], torch.nn.Dropout) and broken[0].p == 0.5
    assert [m.p for m in broken if isinstance(m, torch.nn.Dropout)] == [0.5, 0.2, 0.2]
    rows = torch.randn(256, 8)
    spreads = {}
    for scheme in ("kaiming_normal", "xavier_normal"):                    # the signal before the output layer
        torch.manual_seed(1)
        net = init(SET25.relay_mlp(), scheme).eval()
        with torch.no_grad():
            spreads[scheme] = float(net[:-1](rows).std())
    assert spreads["xavier_normal"] < 1e-2 * spreads["kaiming_normal"]
    ids, _, words = SET25.ticket_ids(64, seed=5)
    for scale in (False, True):
        pool = SET25.FrequencyScaledPool(words=words, scale=scale)
        assert pool.emb.scale_grad_by_freq is scale and pool.emb.weight.shape == (words, 32)
    assert len(SET25.PAIRS["presses_batchnorm_last_batch_of_one"](False)[1][0][0]) % 32 == 1
    _, _, opts_h, _ = SET25.PAIRS["presses_batchnorm_last_batch_of_one"](False)
    model, parts, opts_b, _ = SET25.PAIRS["presses_batchnorm_last_batch_of_one"](True)
    rows = len(parts[0][0])
    assert rows % opts_b["batch_size"] == 1 and rows % opts_h["batch_size"] > 1
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        model.train()(parts[0][0][:1])                                    # the epoch's last batch


def test_set25_training_choices_do_what_the_docstring_says():
    import warnings
    import numpy as np
    from trainwell.optim.factory import build_optimizer
    from trainwell.optim.schedules import make_schedule
    steps_per_epoch, total = 45, 900
    healthy, broken = [make_schedule(total_steps=total, steps_per_epoch=steps_per_epoch,
                                     **SET25.exponential_schedule(gamma_as_rate=b)) for b in (False, True)]
    assert np.isclose(healthy(10 * steps_per_epoch), 0.95 ** 10, rtol=1e-3)   # ExponentialLR(gamma=0.95)
    assert broken(5 * steps_per_epoch) < 0.01 and np.isclose(broken(steps_per_epoch), np.exp(-0.95), rtol=1e-3)
    logits, target = 3 * torch.randn(32, 10), torch.randint(0, 10, (32,))
    by_hand = SET25.cross_entropy_by_hand(logits, target)
    assert torch.allclose(by_hand, torch.nn.functional.cross_entropy(logits, target), atol=1e-5)
    p_true = torch.softmax(logits, 1)[torch.arange(32), target]
    assert torch.allclose(SET25.cross_entropy_without_log(logits, target), -p_true.mean(), atol=1e-6)
    wrong = torch.tensor([[8.0, 0.0, 0.0]], requires_grad=True)           # the true class 2 at p = 3e-4
    for loss, fades in ((SET25.cross_entropy_by_hand, False), (SET25.cross_entropy_without_log, True)):
        g, = torch.autograd.grad(loss(wrong, torch.tensor([2])), wrong)
        assert (float(g.abs().max()) < 1e-3) is fades
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kl = SET25.kl_div_one_hot(logits[:, :3], target % 3)
    assert torch.allclose(kl, torch.nn.functional.cross_entropy(logits[:, :3], target % 3) / 3, atol=1e-5)
    for spent in (False, True):
        model = SET25._mlp(8, 3)
        optimizer = SET25.grouped_adamw(model, spent_generator=spent)
        sizes = [len(g["params"]) for g in optimizer.param_groups]
        assert sizes == ([3, 0] if spent else [3, 3])
        assert build_optimizer(optimizer, model, lr=1e-3) is optimizer   # fit keeps an optimizer holding its weights
    _, parts, healthy, _ = SET25.PAIRS["kiosks_linearlr_defaults_ramp_up"](False)
    _, _, broken, _ = SET25.PAIRS["kiosks_linearlr_defaults_ramp_up"](True)
    steps = healthy["epochs"] * -(-len(parts[0][0]) // healthy["batch_size"])
    assert np.isclose(broken["schedule"](0), 1 / 3) and all(broken["schedule"](s) == 1.0
                                                             for s in range(steps // 4, steps))   # no decay
    assert healthy["schedule"](0) == 1.0 and healthy["schedule"](steps - 1) < 0.1


# Set 26 (bench/babysit_user26.py): written and committed unrun (its training and babysitter are
# the lead's, on the final merge); every pair keeps its rows; its faults are what its docstring
# says they are (checked on the data, the models, the losses, the optimizers, the schedule, the
# init, the preprocessing and the augmentation, no training and no doctor).
SET26 = _load("babysit_user26")
SET26_CONFIG_REPAIRABLE = {"roasts_color_jitter_simclr_strength", "conveyors_plateau_patience_zero",
                           "plants_adamw_decay_as_l2_penalty", "wells_impute_after_standardize",
                           "digits_kaiming_fan_out_resnet_init"}


def test_set26_repairable_names_every_pair():
    from trainwell.config import Config
    assert set(SET26.REPAIRABLE) == set(SET26.PAIRS) and len(SET26.PAIRS) == 18
    repairable = {k for k, v in SET26.REPAIRABLE.items() if v}
    assert repairable == SET26_CONFIG_REPAIRABLE | {"friedman_dropout_before_batchnorm"}   # five meant to hurt
    assert SET26.NO_ACTION == SET26.user25.NO_ACTION
    assert not {SET26.REPAIRABLE[k] for k in repairable} & SET26.NO_ACTION
    for pair in SET26_CONFIG_REPAIRABLE:                  # each broken side's options pass config validation
        _, _, opts, _ = SET26.PAIRS[pair](True)
        Config(**{k: v for k, v in opts.items() if k != "loss"})


@pytest.mark.parametrize("pair", sorted(SET26.PAIRS))
def test_set26_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET26, pair)


def test_set26_data_faults_change_what_the_docstring_says():
    import numpy as np
    from trainwell.data.transforms import fit_preprocess
    X, y = SET26.roast_images(600, seed=1)
    means = [float(X[y == k].mean()) for k in range(3)]
    spread = float(np.median(X.max((1, 2)) - X.min((1, 2))))
    assert means[0] > means[1] > means[2] and 0.8 * spread > 2 * (means[0] - means[1])   # the jitter spans roasts
    assert SET26.PAIRS["roasts_color_jitter_simclr_strength"](True)[2]["augment"] == [SET26.SIMCLR_JITTER]
    counts, y = SET26.cabinet_counts(400, seed=2)
    assert counts.dtype == np.uint16 and counts.max() > 255
    grey, raw = SET26.read_png(counts, convert_l=True), SET26.read_png(counts, convert_l=False)
    assert np.allclose(grey * 255, np.minimum(raw, 255))                      # Pillow clips, it does not scale
    assert (grey.min((1, 2)) == 1.0).mean() > 0.3                             # a warm day's frame is white
    rise = raw.max((1, 2)) - np.median(raw, (1, 2))
    assert np.all(np.diff([np.median(rise[y == k]) for k in range(4)]) > 10)   # none, warm, hot, critical apart
    (aligned, state), (shifted, _) = [SET26.press_features(2400, seed=3, by_position=b) for b in (False, True)]
    assert np.array_equal(aligned[:, :3], shifted[:, :3]) and sorted(aligned[:, 3]) == sorted(shifted[:, 3])
    assert np.corrcoef(aligned[:, 3], state)[0, 1] > 0.7 > 0.1 > abs(np.corrcoef(shifted[:, 3], state)[0, 1])
    ts, temp, rain, _ = SET26.bike_hours(2400, seed=4)
    hour, weekday = SET26.calendar(ts, unit="s")
    assert len(np.unique(hour)) == 24 and len(np.unique(weekday)) == 7
    june_first = np.array([1_717_200_000])                                  # 2024-06-01 00:00 UTC, a Saturday
    assert SET26.calendar(june_first, unit="s") == (np.array([0]), np.array([5]))
    hour, weekday = SET26.calendar(ts, unit="ms")
    assert len(np.unique(hour)) <= 10 and set(np.unique(weekday)) <= {1, 2}   # 1970-01-20 and 21
    X, _ = SET26.well_rows(2400, seed=5)
    x, real = torch.tensor(X), X[:, SET26.NITRATE] != SET26.LAB_CODE
    assert 0.1 < (~real).mean() < 0.2
    for swapped, spread in ((False, (0.5, 2.0)), (True, (0.0, 0.05))):
        out = fit_preprocess(SET26.impute_then_standardize(swapped=swapped), x)(x)[:, SET26.NITRATE]
        assert spread[0] < float(out[torch.tensor(real)].std()) < spread[1]
    assert float(out[torch.tensor(~real)].mean()) < -2.0                      # the code, standardized, kept
    lines, _ = SET26.log_lines(50, seed=6)
    codes = {c.lower() for group in SET26.ERROR_CODES for c in group}
    assert all(codes & set(SET26.clean(line, letters_only=False)) for line in lines)
    assert all(not codes & set(SET26.clean(line, letters_only=True)) and "e" in SET26.clean(line, letters_only=True)
               for line in lines)
    texts, _ = SET26.ticket_texts(200, seed=7)
    ids, _, words = SET26.ticket_ids(200, seed=7, deduplicated=True)
    for row, text in zip(ids, texts):
        kept = row[row != SET26.user21.PAD]
        assert len(kept) == len(set(text[:SET26.user21.TEXT_LENGTH])) or len(kept) == SET26.user21.TEXT_LENGTH
        assert np.all(np.diff(kept) > 0)                                      # sorted, no repeats
    _, kwh = SET26.hall_energy(2400, seed=8)
    z = (kwh - kwh.mean()) / kwh.std()
    assert (z ** 3).mean() > 2 and (z > 2).mean() > 0.03                      # a long right tail


def test_set26_model_faults_do_what_the_docstring_says():
    import numpy as np
    from trainwell.nn.init import init
    X, _ = SET26.pump_pairs(64, seed=1)
    x = torch.tensor(X)
    swapped = x.flip(1)                                                      # before and after exchanged
    for abs_distance in (False, True):
        torch.manual_seed(0)
        twin = SET26.TwinTraces(abs_distance=abs_distance).eval()
        with torch.no_grad():
            assert torch.allclose(twin(x), twin(swapped), atol=1e-6) is abs_distance   # worse reads as better
    healthy, broken = (SET26.BNRegressor(10, before_batchnorm=b) for b in (False, True))
    kinds = [[type(m).__name__ for m in net.net if not isinstance(m, torch.nn.Identity)] for net in (healthy, broken)]
    assert kinds[0][-2] == "Dropout" and kinds[1][:3] == ["Linear", "Dropout", "BatchNorm1d"]
    assert sorted(kinds[0]) == sorted(kinds[1])                              # one module moved
    for both, forget in ((False, 1.0), (True, 2.0)):
        lstm = SET26.GearboxLSTM(both_vectors=both).lstm
        total = (lstm.bias_ih_l0 + lstm.bias_hh_l0)[32:64]
        assert torch.allclose(total, torch.full_like(total, forget))
    assert isinstance(SET26.PanelCNN().drop, torch.nn.Dropout2d)
    assert type(SET26.PanelCNN(elementwise=True).drop) is torch.nn.Dropout
    rows = torch.tensor(np.random.default_rng(2).random((256, 1, 8, 8)), dtype=torch.float32)
    spread = {}
    for mode in ("fan_in", "fan_out"):
        values = []
        for seed in range(4):
            torch.manual_seed(seed)
            net = init(SET26.user.DigitCNN(), "kaiming_normal", mode=mode).eval()
            with torch.no_grad():
                values.append(float(net(rows).var()))
        spread[mode] = sum(values) / len(values)
    assert 0.2 < spread["fan_out"] / spread["fan_in"] < 0.7                  # about 0.4, not a vanishing signal
    _, _, opts_h, _ = SET26.PAIRS["digits_kaiming_fan_out_resnet_init"](False)
    _, _, opts_b, _ = SET26.PAIRS["digits_kaiming_fan_out_resnet_init"](True)
    assert opts_h["init"] == "kaiming_normal" and opts_b["init"] == {"name": "kaiming_normal", "mode": "fan_out"}


def test_set26_training_choices_do_what_the_docstring_says():
    from trainwell.optim.factory import build_optimizer
    from trainwell.optim.schedules import make_schedule
    plateau = {}
    for patience in (None, 0):                                               # the user's option, else the default
        _, _, opts, _ = SET26.PAIRS["conveyors_plateau_patience_zero"](patience == 0)
        spec = dict(opts["schedule"])
        schedule = make_schedule(spec.pop("name"), total_steps=1000, steps_per_epoch=45, **spec)
        for value in (1.0, 0.8, 0.81, 0.79, 0.8):                            # one noisy epoch, a best, another
            schedule.observe(value)
        plateau[patience] = schedule(500)
    assert plateau[None] == 1.0 and abs(plateau[0] - 0.01) < 1e-12           # two cuts in five epochs
    (_, _, healthy, _), (_, _, broken, _) = [SET26.PAIRS["plants_adamw_decay_as_l2_penalty"](b) for b in (0, 1)]
    assert healthy["weight_decay"] == broken["l2"] == 0.1 and "l2" not in healthy and "weight_decay" not in broken
    torch.manual_seed(0)
    logits, target = 2 * torch.randn(64, 4), torch.randint(0, 4, (64,))
    losses = torch.nn.functional.cross_entropy(logits, target, reduction="none").sort().values
    assert torch.isclose(SET26.ohem_topk(logits, target), losses[32:].mean())
    assert torch.isclose(SET26.ohem_sorted(logits, target), losses[:32].mean())   # the easiest half
    pred = torch.tensor([0.0, 0.0, 0.0], requires_grad=True)
    g, = torch.autograd.grad(SET26.clamped_mse(pred, torch.tensor([0.5, 1.5, -3.0])), pred)
    assert g[0] != 0 and g[1] == 0 and g[2] == 0                             # past one unit: no gradient
    steps = {}
    for sqrt in (True, False):                                               # one step on a gradient of 1e-3
        w = torch.nn.Parameter(torch.zeros(3))
        opt = SET26.PaperAdam([w], lr=1e-3, sqrt=sqrt)
        w.grad = torch.full((3,), 1e-3)
        opt.step()
        steps[sqrt] = float(w.detach().abs().max())
        copy = build_optimizer(opt, [torch.nn.Parameter(torch.zeros(3))], lr=1e-3)   # a copy rebuilt elsewhere
        assert type(copy) is SET26.PaperAdam and copy.defaults["sqrt"] is sqrt
    assert abs(steps[True] - 1e-3) < 1e-6 and abs(steps[False] - 1.0) < 0.02    # lr against lr / |g|
    moved = {}
    for default_lr in (False, True):
        w = torch.nn.Parameter(torch.zeros(1))
        opt = SET26.LectureSGD([w], lr=0.05, default_lr=default_lr)
        opt.param_groups[0]["lr"] = 0.0                                      # what a schedule at its end sets
        w.grad = torch.ones(1)
        opt.step()
        moved[default_lr] = float(w.detach().abs())
    assert moved[False] == 0.0 and abs(moved[True] - 0.05) < 1e-7             # the schedule never reaches it
    model, _, opts, _ = SET26.PAIRS["mixers_lecture_sgd_reads_default_lr"](True)
    assert build_optimizer(opts["optimizer"], model, lr=1e-3) is opts["optimizer"] and opts["schedule"] == "cosine"


# Set 27 (bench/babysit_user27.py): written and committed unrun (its training and babysitter are
# the lead's, on the final merge); every pair keeps its rows; its faults are what its docstring
# says they are (checked on the data, the models, the losses, the optimizers, the schedule, the
# augmentations and the batch size, no training and no doctor).
SET27 = _load("babysit_user27")
SET27_CONFIG_REPAIRABLE = {"digits_translate_max_shift_keras_pixels", "compressors_spectrogram_vertical_flip",
                           "friedman2_linear_decay_over_one_epoch", "blenders_batch_size_one_at_batch32_lr",
                           "panels_dihedral_flips_orientation_free", "kilns_warmup_epochs_given_as_steps"}
SET27_RAISES = "valves_gru_h0_sized_by_config_batch"      # its broken model raises on a batch of 4 rows


def test_set27_repairable_names_every_pair():
    from trainwell.config import Config
    assert set(SET27.REPAIRABLE) == set(SET27.PAIRS) and len(SET27.PAIRS) == 18
    repairable = {k for k, v in SET27.REPAIRABLE.items() if v}
    assert repairable == SET27_CONFIG_REPAIRABLE | {"starters_gru_dropout_every_step"}   # 5 meant to hurt, 2 harmless
    assert SET27.NO_ACTION == SET27.user26.NO_ACTION
    assert not {SET27.REPAIRABLE[k] for k in repairable} & SET27.NO_ACTION
    for pair in SET27_CONFIG_REPAIRABLE:                  # each broken side's options pass config validation
        _, _, opts, _ = SET27.PAIRS[pair](True)
        Config(**{k: v for k, v in opts.items() if k != "loss"})


@pytest.mark.parametrize("pair", sorted(set(SET27.PAIRS) - {SET27_RAISES}))
def test_set27_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET27, pair)


def test_set27_gru_state_of_the_config_batch_raises_on_other_batch_sizes():
    (healthy, parts, opts, expected), (broken, parts_b, _, _) = [SET27.PAIRS[SET27_RAISES](b) for b in (False, True)]
    assert set(expected) <= set(CODES)
    assert [len(x) for x, _ in parts] == [len(x) for x, _ in parts_b] == [1200, 400, 400]
    assert opts["batch_size"] == SET27.BATCH_SIZE == 64 and len(parts[0][0]) % 64 == 48   # a last batch of 48
    with torch.no_grad():
        assert healthy.eval()(parts[1][0]).shape == (400, 3)
        assert broken.eval()(parts_b[0][0][:64]).shape == (64, 3)
        for rows in (parts_b[0][0][:48], parts_b[1][0]):
            with pytest.raises(RuntimeError):
                broken(rows)


def test_set27_data_faults_change_what_the_docstring_says():
    import numpy as np
    from trainwell.data.augment import make_augment
    x = SET27._digit_parts(1)[0][0][:512]
    kept = {}
    for broken in (False, True):
        _, _, opts, _ = SET27.PAIRS["digits_translate_max_shift_keras_pixels"](broken)
        moved = make_augment(opts["augment"])(x, torch.Generator().manual_seed(0))
        kept[broken] = float(moved.sum() / x.sum())
    assert kept[False] > 0.9 and kept[True] < 0.6                              # most of the ink leaves the frame
    X, y = SET27.machine_spectrograms(800, seed=2)
    bands = [int(X[y == k].mean((0, 2)).argmax()) for k in range(4)]
    assert bands == list(SET27.MACHINE_BANDS)
    flipped = [int(X[y == k][:, ::-1].mean((0, 2)).argmax()) for k in range(4)]
    assert flipped == bands[::-1]                                             # a flip shows another class's band
    (_, _, healthy, _), (_, _, broken, _) = [SET27.PAIRS["compressors_spectrogram_vertical_flip"](b) for b in (0, 1)]
    assert healthy["augment"] == [{"name": "hflip"}] and broken["augment"] == [{"name": "vflip"}]
    X, y = SET27.startup_traces(3000, seed=3)
    late = [X[y == k, 8:].mean() for k in range(3)]
    early = [X[y == k, :7].max(1).mean() for k in range(3)]
    assert max(late) - min(late) < 0.05 and early[0] + 0.4 < early[1] < early[2] - 0.4   # the class only at the start
    parts = SET27.user._split(*SET27._table(2400, 4, 8, SET27.THREE, SET27.SKEWED), seed=4)
    (xh, yh), (xb, yb) = [SET27.resampled_training(parts, seed=4, per_class=b)[0] for b in (False, True)]
    assert len(xh) == len(xb) == len(parts[0][0])
    assert float(torch.cdist(xb, parts[0][0][:3]).min(1).values.max()) < 1e-2   # copies of the first three rows
    shares = torch.bincount(yh, minlength=3).float() / len(yh)
    assert float(shares.min()) > 0.25 and float(torch.bincount(parts[0][1]).float().max() / len(yh)) > 0.55
    masks, grey, y = SET27.silhouettes(200, seed=5)
    rgba = SET27.shop_pngs(masks, grey, seed=5)
    black, white = SET27.read_pngs(rgba, composite=False), SET27.read_pngs(rgba, composite=True)
    photos = SET27.read_photos(SET27.studio_photos(masks, grey, seed=6))
    assert float(black[~masks].max()) == 0.0 and float(white[~masks].min()) == 1.0   # the same PNG, two backgrounds
    assert float(np.abs(black[masks] - white[masks]).max()) < 1.5 / 255 and float(photos[~masks].mean()) > 0.95
    assert all(len(np.unique(masks[y == k].sum((1, 2)))) > 1 for k in range(4))
    ids, y, words = SET27.review_ids(600, seed=7, whitespace=True)
    assert np.all((ids != SET27.PAD).sum(1) == 1) and words == 601                   # one token, one id a review
    ids, y, _ = SET27.review_ids(600, seed=7, whitespace=False)
    texts, _ = SET27.unspaced_reviews(600, seed=7)
    assert all(" " not in t for t in texts) and np.all((ids != SET27.PAD).sum(1) >= 8)
    assert all([w in t for w in SET27.TOPIC_WORDS] == [j == k for j in range(3)] for t, k in zip(texts, y))


def test_set27_model_faults_do_what_the_docstring_says():
    calls = {}
    for every_step in (False, True):
        model = SET27.StartupGRU(every_step=every_step).train()
        calls[every_step] = 0
        model.drop.register_forward_hook(lambda m, i, o, k=every_step: calls.__setitem__(k, calls[k] + 1))
        model(torch.randn(8, 24, 1))
    assert calls == {False: 1, True: 24}                                      # a new mask at every step
    torch.manual_seed(0)
    ones = torch.ones(16, 20, 32)
    for words_dropped in (False, True):
        model = SET27.TicketDrop(words=40, words_dropped=words_dropped).train()
        dropped = (model.drop(ones) if words_dropped else model.drop(ones.transpose(1, 2)).transpose(1, 2)) == 0
        whole_words = bool((dropped.all(2) | ~dropped.any(2)).all())
        whole_channels = bool((dropped.all(1) | ~dropped.any(1)).all())
        assert dropped.any() and (whole_words, whole_channels) == (words_dropped, not words_dropped)


def test_set27_training_choices_do_what_the_docstring_says():
    import math

    from trainwell.optim.factory import build_optimizer
    from trainwell.optim.schedules import make_schedule
    mid = {}
    for broken in (False, True):
        _, parts, opts, _ = SET27.PAIRS["friedman2_linear_decay_over_one_epoch"](broken)
        per_epoch = -(-len(parts[0][0]) // opts["batch_size"])
        spec = dict(opts["schedule"])
        schedule = make_schedule(spec.pop("name"), total_steps=opts["epochs"] * per_epoch,
                                 steps_per_epoch=per_epoch, **spec)
        mid[broken] = [schedule(s) for s in (per_epoch, opts["epochs"] * per_epoch // 2)]
    assert mid[True] == [0.0, 0.0] and 0.9 < mid[False][0] and 0.45 < mid[False][1] < 0.55
    assert [SET27.PAIRS["blenders_batch_size_one_at_batch32_lr"](b)[2]["batch_size"] for b in (0, 1)] == [32, 1]
    _, parts, opts, _ = SET27.PAIRS["kilns_warmup_epochs_given_as_steps"](False)
    assert len(parts[0][0]) // opts["batch_size"] == SET27.KILN_STEPS_PER_EPOCH and opts["warmup_steps"] == 135
    assert SET27.PAIRS["kilns_warmup_epochs_given_as_steps"](True)[2]["warmup_steps"] == 3
    assert SET27.PAIRS["panels_dihedral_flips_orientation_free"](True)[2]["augment"] == [{"name": "hflip"},
                                                                                        {"name": "vflip"}]
    logits = torch.zeros(6, 3, requires_grad=True)
    target = torch.tensor([0, 1, 2, 0, 1, 2])
    for loss, pushed_down in ((SET27.ovr_hinge, True), (SET27.ovr_hinge_zero_one, False)):
        g, = torch.autograd.grad(loss(logits, target), logits)
        wrong = g[torch.nn.functional.one_hot(target, 3) == 0]
        assert bool((wrong > 0).all()) is pushed_down and bool((wrong == 0).all()) is not pushed_down
    moved, last = {}, {}
    for eps_at in SET27.EPS_PLACES:                                          # gradients 1e-3 and 0
        w = torch.nn.Parameter(torch.zeros(2))
        opt = SET27.UserRMSprop([w], lr=1e-3, eps_at=eps_at)
        for step in range(300):
            before = w.detach().clone()
            w.grad = torch.tensor([1e-3, 0.0])
            opt.step()
            if step == 0:
                moved[eps_at] = w.detach().clone()
        last[eps_at] = float(before[0] - w.detach()[0])
        copy = build_optimizer(opt, [torch.nn.Parameter(torch.zeros(2))], lr=1e-3)
        assert type(copy) is SET27.UserRMSprop and copy.defaults["eps_at"] == eps_at
    assert torch.isnan(moved["step"][1]) and moved["denominator"][1] == 0 == moved["sqrt"][1]
    assert 0.6 < float(moved["sqrt"][0] / moved["denominator"][0]) < 0.8     # TensorFlow's eps: a shorter first step
    assert abs(last["sqrt"] / last["denominator"] - 1) < 0.01                # ... and the same once v has filled
    steps = {}
    for keep in (True, False):                                               # two steps of a gradient of 1
        w = torch.nn.Parameter(torch.zeros(1))
        opt = SET27.UserMomentumSGD([w], lr=0.01, keep_buffer=keep)
        for _ in range(2):
            w.grad = torch.ones(1)
            opt.step()
        steps[keep] = float(-w.detach())
    assert math.isclose(steps[True], 0.01 * 2.9, rel_tol=1e-5) and math.isclose(steps[False], 0.02, rel_tol=1e-5)
    torch.manual_seed(0)
    z, y = torch.randn(64, 4, requires_grad=True), torch.randint(0, 4, (64,))
    ce = torch.nn.functional.cross_entropy(z, y)
    g_ce, = torch.autograd.grad(ce, z)
    g_focal, = torch.autograd.grad(SET27.focal_of_mean(z, y), z)
    L = float(ce.detach())
    e = math.exp(-L)
    factor = (1 - e) ** 2 + 2 * L * (1 - e) * e                              # d/dL of (1 - e^-L)^2 L
    assert torch.allclose(g_focal, factor * g_ce, atol=1e-6)                 # one factor for the whole batch
    assert not torch.allclose(SET27.focal_loss(z, y), SET27.focal_of_mean(z, y))
    _, parts, _, _ = SET27.PAIRS["admissions_class_weights_times_thousand"](False)
    labels = parts[0][1]
    a, b = SET27.balanced_weights(labels), SET27.balanced_weights(labels, scale=1000.0)
    losses = [torch.nn.functional.cross_entropy(z[:, :3], y % 3, weight=w) for w in (a, b)]
    assert torch.allclose(b / a, (b / a)[0].expand(3)) and torch.isclose(*losses)   # the same loss


# Set 28 (bench/babysit_user28.py): written and committed unrun (its training and babysitter are
# the lead's, on the final merge); every pair keeps its rows; its faults are what its docstring
# says they are (checked on the data, the models, the losses, the optimizers, the schedules, the
# augmentations and the init, no training and no doctor).
SET28 = _load("babysit_user28")
SET28_CONFIG_REPAIRABLE = {"valves_crop_augment_on_signal_rows", "inspections_plateau_threshold_keras_min_delta",
                           "springs_noise_augment_deterministic_regression", "digits_caffe_head_lr_mult_from_scratch",
                           "hoppers_sgdr_mult_default_ends_mid_cycle", "wells_tanh_net_kaiming_relu_gain",
                           "digits_crop_reflect_padding"}


def test_set28_repairable_names_every_pair():
    from trainwell.config import Config
    assert set(SET28.REPAIRABLE) == set(SET28.PAIRS) and len(SET28.PAIRS) == 18
    repairable = {k for k, v in SET28.REPAIRABLE.items() if v}
    assert repairable == SET28_CONFIG_REPAIRABLE                      # 5 meant to hurt, 2 harmless
    assert SET28.NO_ACTION == SET28.user27.NO_ACTION
    assert not {SET28.REPAIRABLE[k] for k in repairable} & SET28.NO_ACTION
    for pair in SET28_CONFIG_REPAIRABLE | {"swells_fourier_features_redrawn_by_init",
                                           "sorters_long_run_without_early_stopping"}:
        for broken in (False, True):                                  # both sides' options pass config validation
            _, _, opts, _ = SET28.PAIRS[pair](broken)
            Config(**{k: v for k, v in opts.items() if k != "loss"})


@pytest.mark.parametrize("pair", sorted(SET28.PAIRS))
def test_set28_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET28, pair)


def test_set28_data_faults_do_what_the_docstring_says():
    import numpy as np
    from trainwell.data.augment import make_augment
    _, parts, opts, _ = SET28.PAIRS["valves_crop_augment_on_signal_rows"](True)
    x = parts[0][0][:700]
    assert x.shape[1:] == (1, 1, 24) and "augment" not in SET28.PAIRS["valves_crop_augment_on_signal_rows"](False)[2]
    blank = (make_augment(opts["augment"])(x, torch.Generator().manual_seed(0)) == 0).flatten(1).all(1)
    assert 0.8 < float(blank.float().mean()) < 0.92                          # 6 in 7 traces a padding row
    amounts = {}
    for log_amount in (True, False):
        X, y = SET28.claim_rows(2400, seed=1, log_amount=log_amount)
        z = (X[:, 0] - X[:, 0].mean()) / X[:, 0].std()
        amounts[log_amount] = [float(np.median(z[y == k])) for k in range(3)]
    assert amounts[True][2] - amounts[True][0] > 1.5                          # the bands standard scores apart
    assert 0 < amounts[False][2] - amounts[False][0] < 0.06                   # within 0.06 of each other raw
    X, y = SET28.weave_swatches(800, seed=2)
    fine = {}
    for quality in (None, SET28.UPLOAD_QUALITY):                              # the period-2 stripes' amplitude
        S = SET28.saved_as(X, jpeg_quality=quality)
        D, sign = S - S.mean((1, 2), keepdims=True), (-1.0) ** np.arange(16)
        amplitude = np.maximum(np.abs((D * sign[:, None]).mean((1, 2))), np.abs((D * sign).mean((1, 2))))
        fine[quality] = [float(amplitude[y == k].mean()) for k in range(4)]
    assert fine[None][1] > 0.04 > 10 * fine[None][0]                          # the fine weave in the PNG ...
    assert fine[SET28.UPLOAD_QUALITY][1] < 0.005                             # ... gone in the JPEG
    (h, b) = [SET28.weave_parts(seed=3, jpeg_uploads=j, n=400) for j in (False, True)]
    assert not torch.equal(h[0][0], b[0][0]) and all(torch.equal(h[k][0], b[k][0]) for k in (1, 2))
    (healthy, words), (broken, words_b) = [SET28.unknown_word_parts(seed=4, unknown_as_padding=u, n=600)
                                           for u in (False, True)]
    unk = words - 1
    assert words == words_b and not bool((healthy[0][0] == unk).any())       # the training split has every word
    assert float((healthy[1][0] == unk).float().sum()) > 50                   # unknown order numbers in validation
    assert torch.equal(broken[1][0], torch.where(healthy[1][0] == unk, 0.0, healthy[1][0]))


def test_set28_model_faults_do_what_the_docstring_says():
    from trainwell.nn.init import init
    torch.manual_seed(0)
    x = torch.randint(1, 30, (8, 20)).float()
    for batch_first in (True, False):                                         # row 0 with other tickets beside it
        model = SET28.TicketAttention(words=40, batch_first=batch_first).eval()
        with torch.no_grad():
            alone, with_others = model(x[:1].expand(8, 20)), model(x)
        assert torch.allclose(alone[0], with_others[0], atol=1e-5) is batch_first
    model = SET28.FourierNet()
    assert 4.5 < float(model.proj.weight.std()) < 5.5 and not model.proj.weight.requires_grad
    init(model, SET28.PAIRS["swells_fourier_features_redrawn_by_init"](True)[2]["init"])
    assert 4.5 < float(model.proj.weight.std()) < 5.5                         # fit's init leaves the frozen projection
    assert "init" not in SET28.PAIRS["swells_fourier_features_redrawn_by_init"](False)[2]
    flat, pooled = SET28.TicketFlat(words=40), SET28.TicketPool(words=40)
    assert flat.head[0].in_features == SET28.TEXT_LENGTH * 32 and pooled.head[0].in_features == 32
    stds = {}
    for spec in (SET28.TANH_INIT, "kaiming_normal"):
        model = init(SET28.tanh_mlp(8, 3), spec)
        stds[str(spec)] = float(model[2].weight.detach().std())
    ratio = stds["kaiming_normal"] / stds[str(SET28.TANH_INIT)]
    assert abs(ratio - 2 ** 0.5 / (5 / 3)) < 0.05                            # ReLU's gain for tanh's


def test_set28_training_choices_do_what_the_docstring_says():
    import math

    from trainwell.optim.factory import build_optimizer
    from trainwell.optim.schedules import make_schedule
    cuts = {}
    for broken in (False, True):                                              # the loss falls 2 % an epoch
        spec = dict(SET28.PAIRS["inspections_plateau_threshold_keras_min_delta"](broken)[2]["schedule"])
        schedule = make_schedule(spec.pop("name"), total_steps=450, steps_per_epoch=45, **spec)
        for epoch in range(10):
            schedule.observe(0.9 * 0.98 ** epoch)
        cuts[broken] = schedule(400)
    assert cuts[False] == 1.0 and cuts[True] <= 0.2 ** 2
    end = {}
    for broken in (False, True):
        _, parts, opts, _ = SET28.PAIRS["hoppers_sgdr_mult_default_ends_mid_cycle"](broken)
        per_epoch = -(-len(parts[0][0]) // opts["batch_size"])
        spec = dict(opts["schedule"])
        schedule = make_schedule(spec.pop("name"), total_steps=opts["epochs"] * per_epoch, steps_per_epoch=per_epoch,
                                 **spec)
        end[broken] = schedule(opts["epochs"] * per_epoch - 1)
    assert end[False] < 0.01 and 0.8 < end[True] < 0.9                       # ends mid-cycle near the peak
    model, _, opts, _ = SET28.PAIRS["digits_caffe_head_lr_mult_from_scratch"](True)
    opt = build_optimizer(opts["optimizer"], model, lr=opts["lr"], lr_mults=opts["lr_mults"])
    assert sorted((g["lr_mult"], g["param_names"][0]) for g in opt.param_groups) == [(1.0, "conv1.weight"),
                                                                                     (10.0, "fc.weight")]
    assert "lr_mults" not in SET28.PAIRS["digits_caffe_head_lr_mult_from_scratch"](False)[2]
    assert SET28.PAIRS["springs_noise_augment_deterministic_regression"](True)[2]["augment"] == [SET28.INPUT_NOISE]
    X, f = SET28.spring_rows(4000, seed=5)                                    # 0.3 sd of the mass moves a light
    light = X[:, 1] < 1.0                                                     # system's frequency by > 10 %, ten
    shifted = (X[light, 0] / (X[light, 1] + 0.3 * X[:, 1].std())) ** 0.5 / (2 * math.pi)   # times its noise
    assert float((1 - shifted / f[light]).min()) > 0.1 and float(f.std() / f.mean()) > 0.3
    assert "patience" not in SET28.PAIRS["sorters_long_run_without_early_stopping"](True)[2]
    assert SET28.PAIRS["sorters_long_run_without_early_stopping"](False)[2]["patience"] == 10
    assert SET28.PAIRS["digits_crop_reflect_padding"](True)[2]["augment"] == [{"name": "crop", "pad": 1,
                                                                              "padding": "reflect"}]


def test_set28_losses_and_optimizers_do_what_the_docstring_says():
    torch.manual_seed(0)
    z, y = torch.randn(64, 3, requires_grad=True), torch.randint(0, 3, (64,))
    g_ww, = torch.autograd.grad(SET28.ww_hinge(z, y), z)
    g_all, = torch.autograd.grad(SET28.ww_hinge_all_classes(z, y), z)
    assert torch.isclose(SET28.ww_hinge_all_classes(z, y) - SET28.ww_hinge(z, y), torch.tensor(1.0))
    assert torch.allclose(g_ww, g_all)                                        # a constant: the same gradient
    z20, y20 = torch.zeros(64, 20, requires_grad=True), torch.randint(0, 20, (64,))
    g_mae, = torch.autograd.grad(SET28.mae_on_probabilities(z20, y20), z20)
    g_ce, = torch.autograd.grad(torch.nn.functional.cross_entropy(z20, y20), z20)
    assert abs(float(g_mae.norm() / g_ce.norm()) - 0.05) < 0.01               # p_y = 1 / 20 at the start
    moved = {}
    for decay_times_lr in (True, False):                                      # a zero gradient: the decay alone
        w = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))
        opt = SET28.UserAdamW([w], lr=1e-3, weight_decay=0.01, decay_times_lr=decay_times_lr)
        w.grad = torch.zeros(1, dtype=torch.float64)
        opt.step()
        moved[decay_times_lr] = 1 - float(w.detach())
    assert abs(moved[True] - 1e-5) < 1e-8 and abs(moved[False] - 1e-2) < 1e-7
    steps = {}
    for per_tensor in (False, True):                                          # 3 tensors, 2 steps
        params = [torch.nn.Parameter(torch.zeros(2)) for _ in range(3)]
        opt = SET28.UserAdamW(params, lr=1e-3, step_per_tensor=per_tensor)
        for _ in range(2):
            for p in params:
                p.grad = torch.ones(2)
            opt.step()
        steps[per_tensor] = [opt.state[p]["step"] for p in params]
    assert steps == {False: [2, 2, 2], True: [4, 5, 6]}
    from trainwell.optim.factory import build_optimizer
    opt = SET28.UserAdamW([torch.nn.Parameter(torch.zeros(2))], lr=1e-3, step_per_tensor=True)
    copy = build_optimizer(opt, [torch.nn.Parameter(torch.zeros(2))], lr=1e-3)
    assert type(copy) is SET28.UserAdamW and copy.defaults["step_per_tensor"] is True


# Set 29 (bench/babysit_user29.py): written and committed unrun (its training and babysitter are
# the lead's, on the final merge); every pair keeps its rows; its faults are what its docstring
# says they are (checked on the data, the models, the losses, the optimizers, the augmentation,
# the preprocessing and the init, no training of a pair and no doctor).
SET29 = _load("babysit_user29")
SET29_CONFIG_REPAIRABLE = {"filters_pca_drops_pressure_difference", "digits_crop_cifar_default_pad",
                           "chillers_he_init_unnormalized_residual", "readings_orthogonal_init_skips_the_lstm"}


def test_set29_repairable_names_every_pair():
    from trainwell.config import Config
    assert set(SET29.REPAIRABLE) == set(SET29.PAIRS) and len(SET29.PAIRS) == 18
    repairable = {k for k, v in SET29.REPAIRABLE.items() if v}
    # 4 meant to hurt, 1 harmless by design; the regression dropout is the model's, as [model] dropout sets it
    assert repairable == SET29_CONFIG_REPAIRABLE | {"dryers_classifier_dropout_in_regression"}
    assert SET29.NO_ACTION == SET29.user28.NO_ACTION
    assert not {SET29.REPAIRABLE[k] for k in repairable} & SET29.NO_ACTION
    for pair in SET29_CONFIG_REPAIRABLE:
        for broken in (False, True):                                  # both sides' options pass config validation
            _, _, opts, _ = SET29.PAIRS[pair](broken)
            Config(**{k: v for k, v in opts.items() if k != "loss"})
    Config(model={"type": "mlp", "widths": [64, 64], "dropout": 0.5})   # the regression dropout as a config


@pytest.mark.parametrize("pair", sorted(SET29.PAIRS))
def test_set29_both_sides_build_and_take_their_inputs(pair):
    _build_both_sides(SET29, pair)


def test_set29_data_faults_do_what_the_docstring_says():
    import numpy as np
    from trainwell.data.transforms import fit_preprocess
    _, parts, opts, _ = SET29.PAIRS["filters_pca_drops_pressure_difference"](True)
    x = parts[0][0]
    z = fit_preprocess(opts["preprocess"], x)(x).double().numpy()
    assert z.shape[1] == 6 and "preprocess" not in SET29.PAIRS["filters_pca_drops_pressure_difference"](False)[2]
    drop = (x[:, 0] - x[:, 1]).double().numpy()                              # the class's column, standardized
    design = np.column_stack([z, np.ones(len(z))])
    fitted = design @ np.linalg.lstsq(design, drop, rcond=None)[0]
    assert 1 - ((fitted - drop) ** 2).mean() / drop.var() < 0.05           # the kept components lose it
    (healthy, words), (broken, words_b) = [SET29.tokenized_parts(seed=2905, refit_per_split=r) for r in (False, True)]
    assert words == words_b and torch.equal(healthy[0][0], broken[0][0])     # training encoded alike
    assert all(int(x.max()) < words for x, _ in broken)                       # every split's ids fit the embedding
    texts, y = SET29.ticket_texts(2000, seed=2905)
    rows = SET29.user._split(np.arange(2000)[:, None], y, seed=2905, standardize=False)
    train, val = [SET29.word_index([texts[int(i)] for i in idx[:, 0]]) for idx, _ in rows[:2]]
    moved = [w for w in SET29.user21.TOPICS if train[w] != val[w]]
    assert len(moved) >= 2 and not torch.equal(healthy[1][0], broken[1][0])   # topic ids change with the split
    (healthy, broken) = [SET29.camera_parts(seed=1, float_archive_unscaled=u, n=400) for u in (False, True)]
    assert torch.equal(healthy[0][0], broken[0][0]) and float(healthy[0][0].max()) <= 1.0
    assert all(torch.allclose(b, 255 * h) for (h, _), (b, _) in zip(healthy[1:], broken[1:]))
    (healthy, broken) = [SET29.strip_parts(seed=2, exif_applied=e, n=1000) for e in (True, False)]
    turned = [(h != b).flatten(1).any(1).float().mean() for (h, _), (b, _) in zip(healthy, broken)]
    assert all(0.35 < float(share) < 0.55 for share in turned)               # the phone's rows, in every split
    h, b, t = healthy[0][0][:, 0], broken[0][0][:, 0], healthy[0][1]
    changed = (h != b).flatten(1).any(1)
    assert torch.equal(torch.rot90(h[changed], -1, (1, 2)), b[changed])       # a quarter turn off
    along = (t == 0) & changed                                                # an along-scratch reads as across
    assert bool(((b[along] < 0.35).sum(1) >= 5).any(1).all()) and not bool(((h[along] < 0.35).sum(1) >= 5).any(1).any())
    strings, _ = SET29.typed_tickets(600, seed=3)
    split_vocab = SET29.vocabulary([SET29.words_of(s, split_only=True) for s in strings])
    letter_vocab = SET29.vocabulary([SET29.words_of(s, split_only=False) for s in strings])
    assert {"invoice,", "invoice."} <= set(split_vocab) and set(letter_vocab) <= set(SET29.user21.TICKET_WORDS) | set(
        SET29.user21.TOPICS)
    counts = {w: sum(SET29.words_of(s, split_only=True).count(w) for s in strings) for w in ("invoice", "invoice,")}
    assert counts["invoice"] > 50 and counts["invoice,"] > 5                 # every variant seen often
    (_, healthy, _, _), (model, broken, _, _) = [SET29.PAIRS["tiles_normalize_twice"](b) for b in (False, True)]
    assert all(torch.equal(h, b) for (h, _), (b, _) in zip(healthy, broken)) and model.normalize
    assert float(healthy[0][0].min()) < -0.5 < 0.5 < float(healthy[0][0].max())   # normalized once in the data


def test_set29_model_faults_do_what_the_docstring_says():
    from trainwell.data.augment import make_augment
    from trainwell.nn.init import init
    model, parts, _, _ = SET29.PAIRS["chillers_he_init_unnormalized_residual"](True)
    x = parts[0][0]
    with torch.no_grad():
        own = float(model(x).std())
        redrawn = float(init(model, "kaiming_normal")(x).std())
    assert own < 1.0 and redrawn > 100 * own                                  # about 3x the variance a block
    assert "init" not in SET29.PAIRS["chillers_he_init_unnormalized_residual"](False)[2]
    drops = {b: [m.p for m in SET29.PAIRS["dryers_classifier_dropout_in_regression"](b)[0].modules()
                 if isinstance(m, torch.nn.Dropout)] for b in (False, True)}
    assert drops == {False: [0.0, 0.0], True: [0.5, 0.5]}
    assert make_augment(SET29.PAIRS["digits_crop_cifar_default_pad"](True)[2]["augment"]).ops[0].pad == 4
    assert SET29.PAIRS["digits_crop_cifar_default_pad"](False)[2]["augment"] == [SET29.DIGIT_CROP]
    torch.manual_seed(0)
    x = torch.randn(4, 2, 48)
    other = x.clone()
    other[:, 1] = torch.randn(4, 48)                                          # channel B replaced
    for depthwise in (False, True):
        model = SET29.EncoderCNN(depthwise=depthwise)
        with torch.no_grad():
            same = torch.allclose(model.features(x)[:, :8], model.features(other)[:, :8])
        assert same is depthwise                                              # A's features never read B
    flat = SET29.PAIRS["tickets_mean_over_embedding_dim"](True)[0]
    assert flat.head[0].in_features == SET29.TEXT_LENGTH
    assert isinstance(SET29.PAIRS["tickets_mean_over_embedding_dim"](False)[0], SET29.TicketPool)
    (healthy, parts, _, _), (broken, _, _, _) = [SET29.PAIRS["kilns_lr_range_test_weights_kept"](b)
                                                 for b in (False, True)]
    torch.manual_seed(2909)
    fresh = SET29._mlp(8, 3)
    assert all(torch.equal(a, b) for a, b in zip(healthy.state_dict().values(), fresh.state_dict().values()))
    assert max(float(p.detach().abs().max()) for p in broken.parameters()) > 5   # the test's last weights
    with torch.no_grad():
        losses = [float(torch.nn.functional.cross_entropy(m(parts[0][0]), parts[0][1])) for m in (healthy, broken)]
    assert losses[0] < 1.5 < 10 < losses[1]
    model, _, opts, _ = SET29.PAIRS["readings_orthogonal_init_skips_the_lstm"](True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    init(model, opts["init"])
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("lstm."))   # the LSTM untouched
    assert not torch.equal(before["head.weight"], after["head.weight"])


def test_set29_losses_and_optimizers_do_what_the_docstring_says():
    from trainwell.optim.factory import build_optimizer
    grads = {}
    for clear in (True, False):                                               # 8 batches, a step every 4
        w = torch.nn.Parameter(torch.zeros(1))
        opt = SET29.AccumulatingSGD([w], lr=0.1, momentum=0.0, clear_after_step=clear)
        for _ in range(8):
            opt.zero_grad()
            w.grad = (w.grad if w.grad is not None else torch.zeros(1)) + 1.0
            opt.step()
        grads[clear] = None if w.grad is None else float(w.grad)
    assert grads == {True: None, False: 8.0}                                  # cleared, or the run's whole sum
    opt = SET29.AccumulatingSGD([torch.nn.Parameter(torch.zeros(1))], clear_after_step=False)
    copy = build_optimizer(opt, [torch.nn.Parameter(torch.zeros(1))], lr=0.05)
    assert type(copy) is SET29.AccumulatingSGD and copy.defaults["clear_after_step"] is False
    z, y = torch.randn(16, 3), torch.randint(0, 3, (16,))
    undivided = torch.nn.functional.cross_entropy(z, y)
    assert torch.isclose(undivided, SET29.ACCUMULATE * SET29.accumulated_cross_entropy(z, y))
    steps = []
    for scale in (1.0, SET29.ACCUMULATE):                                     # Adam's first step ignores the scale
        w = torch.nn.Parameter(torch.zeros(3))
        opt = SET29.AccumulatingAdam([w], every=1)
        w.grad = scale * torch.tensor([0.3, -0.2, 0.05])
        opt.step()
        steps.append(w.detach().clone())
    assert torch.allclose(*steps)
    for square in (True, False):                                              # a negative gradient's root
        w = torch.nn.Parameter(torch.zeros(2))
        opt = SET29.UserAdam([w], square=square)
        w.grad = torch.tensor([0.5, -0.5])
        opt.step()
        assert bool(torch.isfinite(w).all()) is square
    copy = build_optimizer(SET29.UserAdam([torch.nn.Parameter(torch.zeros(1))], square=False),
                           [torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    assert type(copy) is SET29.UserAdam and copy.defaults["square"] is False
    z = torch.zeros(8, 4, requires_grad=True)                                 # a uniform start, grade 1
    g, = torch.autograd.grad(SET29.expected_grade_mse(z, torch.ones(8, dtype=torch.long)), z)
    assert int(g[0].argmin()) == 0                                            # grade 0's score raised most
    model = torch.nn.Linear(3, 2)
    terms = {}
    for squared in (True, False):
        loss = SET29.l2_loss(model, squared=squared)(torch.zeros(4), torch.zeros(4))
        terms[squared], = torch.autograd.grad(loss, model.weight)
    w = model.weight.detach()
    assert torch.allclose(terms[True], SET29.L2 * w) and torch.allclose(terms[False], SET29.L2 * w / w.norm())
