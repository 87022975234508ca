"""Task shapes the checks were not written for (task_shapes.py): each either handled or refused in
words, and a healthy setup of each shape raises no warning or error."""
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.babysit import preflight as pf
from trainwell.babysit import learnable, loss_checks, overfit
from trainwell.babysit.baseline_check import check_baseline
from trainwell.babysit.split_checks import grade_imbalance
from trainwell.babysit.task_shapes import check_single_output, class_axis, position_rows
from trainwell.errors import ConfigError, LabelError

PAD = -100


def alarms(findings):
    return [f"{f.code}:{f.severity}" for f in findings if f.severity != "info"]


# ----------------------------------------------------------------------------- outputs of one tensor

class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.head = nn.Linear(6, 16), nn.Linear(16, 3)

    def forward(self, x):
        h = torch.relu(self.body(x))
        return self.head(h), h


class Keyed(Pair):
    def forward(self, x):
        return {"logits": self.head(torch.relu(self.body(x)))}


def test_a_tuple_or_dict_output_is_refused_in_words_by_fit_and_the_doctor():
    with pytest.raises(ConfigError, match=r"returned a tuple of 2 \(Tensor, Tensor\).*one tensor"):
        check_single_output((torch.zeros(2, 3), torch.zeros(2, 16)))
    with pytest.raises(ConfigError, match=r"returned a dict with keys \['logits'\]"):
        check_single_output({"logits": torch.zeros(2, 3)})
    check_single_output(torch.zeros(2, 3))        # one tensor: nothing to say
    X, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
    for model in (Pair(), Keyed()):
        with pytest.raises(ConfigError, match="forward returns one tensor"):
            trainwell.fit(model, (X, y), epochs=1, babysit="off", run_dir=None, progress=False, report=False)
        with pytest.raises(ConfigError, match="forward returns one tensor"):
            trainwell.doctor(model, (X, y), probe=False, budget_s=5)


# ----------------------------------------------------------------------------- ids per position

def test_class_axis_reads_pytorchs_layout_and_a_taggers_and_says_when_the_shapes_cannot_tell():
    ids = torch.zeros(4, 7, dtype=torch.long)
    assert class_axis(torch.zeros(4, 3, 7), ids) == 1          # (N, C, T): cross_entropy's own layout
    assert class_axis(torch.zeros(4, 7, 3), ids) == 2          # (N, T, C): a tagger's head
    assert class_axis(torch.zeros(4, 3, 16, 16), torch.zeros(4, 16, 16, dtype=torch.long)) == 1
    assert class_axis(torch.zeros(4, 7, 7), ids) is None       # C == T: either reading fits
    assert class_axis(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long)) is None     # one id a row
    assert class_axis(torch.zeros(4, 7, 3), ids.float()) is None                       # values, not ids


def test_position_rows_keeps_the_positions_with_a_class_and_matches_a_loop():
    torch.manual_seed(0)
    out, y = torch.randn(3, 4, 5), torch.randint(0, 5, (3, 4))       # a tagger: (N, T, C)
    y[0, 2:] = PAD
    scores, ids = position_rows(out, y, 2)
    expected = [(out[i, t], y[i, t]) for i in range(3) for t in range(4) if y[i, t] >= 0]
    assert scores.shape == (10, 5) and ids.tolist() == [int(t) for _, t in expected]
    assert all(torch.equal(s, e) for s, (e, _) in zip(scores, expected))
    seg, masks = torch.randn(2, 3, 4, 4), torch.randint(0, 3, (2, 4, 4))   # (N, C, H, W)
    scores, ids = position_rows(seg, masks, 1)
    assert torch.equal(scores[5], seg[0, :, 1, 1]) and int(ids[5]) == int(masks[0, 1, 1])


def test_overfit_accuracy_of_a_tagger_leaves_the_padding_out():
    out = torch.zeros(2, 4, 3)
    out[..., 1] = 1.0                       # every position predicts class 1
    y = torch.tensor([[1, 1, PAD, PAD], [1, 0, PAD, PAD]])
    assert float(overfit._accuracy(out, y, "other")) == pytest.approx(3 / 4)     # not 3 / 8


class Tagger(nn.Module):
    def __init__(self, vocab=20, dim=16, tags=4):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=0)
        self.rnn = nn.GRU(dim, dim, batch_first=True)
        self.head = nn.Linear(dim, tags)

    def forward(self, tokens):
        return self.head(self.rnn(self.embed(tokens))[0])


def tag_loss(out, y):
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1), ignore_index=PAD)


def sentences(n=300, T=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(1, 20, (n, T), generator=g)
    tags = tokens % 4
    lengths = torch.randint(3, T + 1, (n, 1), generator=g)
    pad = torch.arange(T)[None, :] >= lengths
    return tokens.masked_fill(pad, 0), tags.masked_fill(pad, PAD)


def test_a_healthy_tagger_with_ignored_padding_raises_nothing_and_an_id_beyond_the_head_is_named():
    X, y = sentences()
    torch.manual_seed(0)
    assert alarms(pf.preflight(Tagger(), X, y, loss=tag_loss, optimizer="adam", lr=3e-3, budget_s=20)) == []
    y_bad = y.clone()
    y_bad[0, 0] = 6                         # a tag the 4-way head has no output for
    found = pf.preflight(Tagger(), X, y_bad, loss=tag_loss, optimizer="adam", lr=3e-3, cheap_only=True)
    labels = [f for f in found if f.code == "label_problem"]
    assert labels and labels[0].evidence["max"] == 6 and labels[0].evidence["outputs"] == 4


class SegNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 1))

    def forward(self, x):
        return self.body(x)


def test_a_healthy_segmentation_head_raises_nothing():
    g = torch.Generator().manual_seed(1)
    masks = torch.randint(0, 3, (120, 12, 12), generator=g)
    X = (masks.float()[:, None] - 1) + 0.3 * torch.randn(120, 1, 12, 12, generator=g)   # each class its level
    torch.manual_seed(1)
    found = pf.preflight(SegNet(), X, masks, loss=nn.CrossEntropyLoss(), optimizer="adam", lr=3e-3, budget_s=20)
    assert alarms(found) == []


def test_fit_names_ids_per_position_and_multi_hot_rows_in_its_refusal():
    with pytest.raises(LabelError, match=r"an id per position .*Trainer.*preflight"):
        trainwell.fit(Tagger(), sentences(n=40), loss=tag_loss, epochs=1, babysit="off", run_dir=None,
                      progress=False, report=False)


# ----------------------------------------------------------------------------- other shapes

def test_a_healthy_multi_label_and_a_multi_output_regression_raise_nothing():
    g = torch.Generator().manual_seed(2)
    X = torch.randn(400, 10, generator=g)
    W = torch.randn(10, 4, generator=g)
    multi_hot = ((X @ W) / math.sqrt(10) > 0.3).float()
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 4))
    assert alarms(pf.preflight(model, X, multi_hot, loss=nn.BCEWithLogitsLoss(), optimizer="adam", lr=1e-3,
                               budget_s=20)) == []
    targets = torch.tanh(X @ W / math.sqrt(10))
    targets[:, 3] *= 5.0                    # one column on another scale, inside targets_off_scale's band
    assert alarms(pf.preflight(model, X, targets, loss="mse", optimizer="adam", lr=1e-3, budget_s=20)) == []


def test_the_labels_check_says_nothing_where_a_perfect_model_reads_as_chance():
    rare = torch.zeros(384, dtype=torch.long)
    rare[:4] = 1                            # 1% positives: chance 0.98, 3 sigmas 0.02
    assert not learnable.can_beat_chance(rare)
    assert learnable.can_beat_chance(torch.arange(384) % 2)
    shares = torch.tensor([0.9, 0.1])       # the formula: 1 > sum p^2 + 3 sqrt(c (1 - c) / n)
    c = float((shares ** 2).sum())
    assert learnable.can_beat_chance((torch.arange(384) >= 346).long()) == (1 > c + 3 * math.sqrt(c * (1 - c) / 384))
    g = torch.Generator().manual_seed(3)
    X = torch.randn(600, 8, generator=g)
    y = (torch.rand(600, generator=g) < 0.01).long()
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    assert learnable.check_labels_learnable(model, X, y, nn.CrossEntropyLoss(), "cross_entropy", gen=g) == []


def test_below_baseline_reads_torchs_from_logits_bce_as_a_logits_sign():
    g = torch.Generator().manual_seed(4)
    X = torch.randn(600, 5, generator=g)
    y = (X[:, 0] > 0).float()[:, None]      # one logit a row, (N, 1) float 0/1 targets
    model = nn.Linear(5, 1)
    with torch.no_grad():                   # a model as good as the linear baseline, its logits large
        model.weight.zero_()
        model.weight[0, 0] = 50.0
        model.bias.zero_()
    for loss in (nn.BCEWithLogitsLoss(), F.binary_cross_entropy_with_logits):
        assert check_baseline(model, (X[:400], y[:400]), (X[400:], y[400:]), loss=loss) == []


def test_the_repairer_grades_class_imbalance_as_the_doctor_does():
    """Splits that hold the training mix: the repairer's fit-start checks keep class_imbalance an
    info, as the doctor's grade_imbalance does (a warning only where the evaluated mix differs)."""
    g = torch.Generator().manual_seed(5)
    y = (torch.rand(1500, generator=g) < 0.03).long()
    X = torch.randn(1500, 6, generator=g) + 2.0 * y[:, None]
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))
    run = trainwell.fit(model, (X[:1000], y[:1000]), (X[1000:], y[1000:]), epochs=1, optimizer="adam", lr=1e-3,
                        babysit="repair", run_dir=None, progress=False, report=False)
    graded = [f for f in run.findings if f.code == "class_imbalance"]
    assert graded and all(f.severity == "info" for f in graded)
    assert grade_imbalance([], SimpleNamespace(train=(X, y), val=None, test=None)) == []


def test_the_initial_loss_of_a_summed_loss_is_judged_per_row():
    """reduction="sum" scales the loss by the rows: the nats over the uniform guess are read per row,
    so the same logits get the same verdict as under the mean."""
    torch.manual_seed(0)
    y = torch.randint(0, 10, (256,))
    for scale, fires in ((0.3, False), (2.0, True)):
        out = scale * torch.randn(256, 10)
        mean = loss_checks.check_initial_loss(out, y, "cross_entropy", nn.CrossEntropyLoss())
        summed = loss_checks.check_initial_loss(out, y, "cross_entropy", nn.CrossEntropyLoss(reduction="sum"))
        assert bool(mean) == bool(summed) == fires
        if fires:
            assert summed[0].evidence["excess_nats"] == pytest.approx(mean[0].evidence["excess_nats"], rel=1e-4)
            assert summed[0].evidence["rows_summed"] == pytest.approx(256)


def test_a_target_column_off_scale_in_a_multi_output_regression_is_named():
    from trainwell.babysit.targets import check_target_scale
    g = torch.Generator().manual_seed(6)
    y = torch.randn(500, 3, generator=g)
    out = torch.zeros(500, 3)
    assert check_target_scale(y * torch.tensor([1.0, 1.0, 5.0]), out, "mse") == []     # inside the band
    found = check_target_scale(y * torch.tensor([1.0, 1000.0, 1.0]), out, "mse")
    assert [f.code for f in found] == ["targets_off_scale"] and found[0].evidence["column"] == 1
    assert "column 1" in found[0].message and "column 1" in found[0].fix
    assert check_target_scale(y * 1000.0, torch.zeros(500, 2), "mse") == []     # outputs not per column: not read


def multi_label(n, *, seed, noise):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 12, generator=g)
    W = torch.randn(12, 4, generator=g)
    return X, ((X @ W) / math.sqrt(12) + noise * torch.randn(n, 4, generator=g) > 0.2).float()


def test_multi_hot_rows_shifted_against_their_inputs_are_found_and_noisy_real_ones_are_not():
    from trainwell.babysit.learnable import check_multi_hot_learnable
    loss = nn.BCEWithLogitsLoss()

    def model():                            # wide enough to memorize 128 rows' label sets in 300 steps
        return nn.Sequential(nn.Linear(12, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 4))
    for seed in range(3):
        X, Y = multi_label(600, seed=seed, noise=1.0)       # labels half noise: real, weak
        gen = torch.Generator().manual_seed(seed)
        assert check_multi_hot_learnable(model(), X, Y, loss, "bce", gen=gen) == []
        found = check_multi_hot_learnable(model(), X, Y.roll(1, dims=0), loss, "bce", gen=gen)
        assert [f.code for f in found] == ["label_problem"] and found[0].evidence["labels"] == 4
    rare = torch.zeros(600, 4)
    rare[:3] = 1.0                          # labels all but constant: no accuracy is evidence
    assert check_multi_hot_learnable(model(), X, rare, loss, "bce", gen=gen) == []
    ids = (X[:, 0] > 0).long()              # class ids are check_labels_learnable's, not this check's
    assert check_multi_hot_learnable(model(), X, ids, nn.CrossEntropyLoss(), "cross_entropy", gen=gen) == []


class Signal1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv1d(2, 8, 7, padding=3), nn.ReLU(), nn.MaxPool1d(8),
                                  nn.Conv1d(8, 8, 5, padding=2), nn.ReLU())
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.body(x).mean(-1))


def _tiny():
    g = torch.Generator().manual_seed(7)
    X = torch.randn(40, 4, generator=g)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3)), X, (X[:, 0] > 0).long() + (X[:, 1] > 0.5).long()


def _wide():
    g = torch.Generator().manual_seed(8)
    X = torch.randn(120, 2000, generator=g)
    return nn.Sequential(nn.Linear(2000, 32), nn.ReLU(), nn.Linear(32, 2)), X, (X[:, :20].sum(1) > 0).long()


def _long():
    g = torch.Generator().manual_seed(9)
    y = torch.randint(0, 2, (200,), generator=g)
    t = torch.arange(512.0)
    X = 0.5 * torch.randn(200, 2, 512, generator=g) + torch.sin(2 * math.pi * (0.02 + 0.1 * y[:, None, None]) * t)
    return Signal1d(), X, y


def _counts():
    g = torch.Generator().manual_seed(10)
    y = torch.randint(0, 3, (300,), generator=g)
    rates = torch.rand(3, 30, generator=g) * 3
    return nn.Sequential(nn.Linear(30, 32), nn.ReLU(), nn.Linear(32, 3)), torch.poisson(rates[y], generator=g), y      # counts (fit casts int64 to float32)


@pytest.mark.parametrize("build", [_tiny, _wide, _long, _counts], ids=["40_rows", "2000_features", "512_steps", "int_counts"])
def test_small_wide_long_and_count_inputs_run_the_pre_flight_without_an_error(build):
    """Shapes and dtypes of the inputs the sets hold few of: the pre-flight runs through (the
    overfit run, the labels check) and finds no error on a healthy setup."""
    model, X, y = build()
    torch.manual_seed(0)
    lr = 1e-2 if build is _tiny else 1e-3       # a 16-unit net on 40 rows: its user's lr
    found = pf.preflight(model, X, y, optimizer="adam", lr=lr, budget_s=20)
    assert not [f for f in found if f.severity == "error"]


def test_a_model_cast_to_float64_is_told_that_fit_trains_in_float32():
    X, y = torch.randn(64, 6, dtype=torch.float64), torch.randint(0, 3, (64,))
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    with pytest.raises(trainwell.DataError, match=r"float32 inputs and its parameters are float64: drop the \.double\(\)"):
        trainwell.fit(model, (X, y), epochs=1, babysit="off", run_dir=None, progress=False, report=False)


def test_120_classes_of_10_rows_raise_no_error_and_a_dataloader_is_refused_in_words():
    g = torch.Generator().manual_seed(11)
    centers = torch.randn(120, 16, generator=g)
    y = torch.arange(120).repeat_interleave(10)
    X = centers[y] + 0.5 * torch.randn(1200, 16, generator=g)
    torch.manual_seed(11)
    model = nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 120))
    found = pf.preflight(model, X, y, optimizer="adam", lr=1e-3, budget_s=20)
    assert not [f for f in found if f.severity == "error"]
    from torch.utils.data import DataLoader, TensorDataset
    with pytest.raises(trainwell.DataError, match=r"train data must be \(X, y\).*got DataLoader"):
        trainwell.fit(model, DataLoader(TensorDataset(X, y), batch_size=32), epochs=1, run_dir=None,
                      progress=False, report=False)
