"""Slices of the input copied from one another (``duplicate_inputs.check_duplicate_inputs``): a copy
where two arrays were meant is a warning, a copy by format or resampling is not, and the pre-flight
reports it from the rows alone."""
import torch
from torch import nn

from trainwell.babysit import duplicate_inputs as dup
from trainwell.babysit.preflight import preflight


def _images(n=300, channels=2, seed=0):
    """Two-channel frames whose channels differ: a smooth field and a bright spot that moves."""
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(n, 1, 10, 10, generator=g)
    return torch.cat([base, base + torch.randn(n, channels - 1, 10, 10, generator=g)], dim=1)


def _warnings(found):
    return [f for f in found if f.severity == "warning"]


def test_two_channels_holding_one_array_are_a_warning_that_names_them():
    x = _images()
    assert dup.check_duplicate_inputs(x) == []
    x[:, 1] = x[:, 0]                               # np.stack([after, after], 1)
    found = dup.check_duplicate_inputs(x)
    assert len(found) == 1 and found[0].code == "uninformative_inputs" and found[0].severity == "warning"
    assert found[0].evidence["copies"] == [[0, 1]] and "channels [0, 1]" in found[0].message


def test_a_copy_that_differs_in_one_row_is_no_copy():
    x = _images()
    x[:, 1] = x[:, 0]
    x[17, 1] += torch.linspace(-5, 5, 100).view(10, 10)    # one frame of its own
    assert dup.check_duplicate_inputs(x) == []


def test_a_grey_image_stored_as_rgb_is_info_and_two_of_three_channels_a_warning():
    x = _images(channels=3)
    grey = x[:, :1].expand(-1, 3, -1, -1).contiguous()
    found = dup.check_duplicate_inputs(grey)
    assert [f.severity for f in found] == ["info"] and found[0].evidence["copies"] == [[0, 1, 2]]
    x[:, 2] = x[:, 0]
    assert [f.evidence["copies"] for f in _warnings(dup.check_duplicate_inputs(x))] == [[[0, 2]]]


def test_a_tables_repeated_column_is_info_and_constant_columns_are_not_read():
    """One number per row cannot tell scikit-learn's repeated features from a copy over another column."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(400, 8, generator=g)
    x[:, 6] = 0.0                                   # two zero columns (a digit's border pixels): nothing lost
    x[:, 7] = 0.0
    assert dup.check_duplicate_inputs(x) == []
    x[:, 5] = x[:, 2]                               # df["b"] = df["a"], or make_classification's n_repeated
    found = dup.check_duplicate_inputs(x)
    assert [(f.severity, f.evidence["copies"], f.where) for f in found] == [("info", [[2, 5]], "input columns")]


def test_a_resampling_that_repeats_most_slices_of_a_window_is_quiet():
    """A nearest-neighbour upsampling repeats every row of an image (and a sample-and-hold every step), in
    many groups: by design, more than ``SHARE`` of the varying slices; one copied channel of a
    3-channel window is a fault, though it holds 2 of the 3."""
    g = torch.Generator().manual_seed(2)
    small = torch.randn(300, 6, 6, generator=g)
    upsampled = small.repeat_interleave(2, dim=1).repeat_interleave(2, dim=2)     # (300, 12, 12)
    assert dup.check_duplicate_inputs(upsampled) == []
    held = torch.randn(300, 10, 3, generator=g).repeat_interleave(2, dim=1)        # a window, steps held twice
    assert dup.check_duplicate_inputs(held) == []
    window = torch.randn(300, 20, 3, generator=g)
    window[:, :, 2] = window[:, :, 0]               # channels last: the same sensor read twice
    assert [f.evidence["copies"] for f in _warnings(dup.check_duplicate_inputs(window))] == [[[0, 2]]]


def test_few_rows_or_rows_that_do_not_vary_are_not_read():
    x = _images(n=dup.MIN_ROWS - 1)
    x[:, 1] = x[:, 0]
    assert dup.check_duplicate_inputs(x) == []
    same = torch.ones(200, 2, 4, 4)                 # every row alike: no slice varies
    assert dup.check_duplicate_inputs(same) == []
    assert dup.check_duplicate_inputs(torch.zeros(200, 4, dtype=torch.long)) == []
    assert dup.check_duplicate_inputs(torch.ones(200, 2, 4, dtype=torch.bool)) == []


def test_two_texts_of_a_pair_given_as_one_are_a_warning():
    """Token ids ``(N, 2, L)``: a question and its answer, the question copied over the answer."""
    g = torch.Generator().manual_seed(3)
    pairs = torch.randint(1, 500, (300, 2, 12), generator=g)
    assert dup.check_duplicate_inputs(pairs) == []
    pairs[:, 1] = pairs[:, 0]
    found = _warnings(dup.check_duplicate_inputs(pairs))
    assert [(f.evidence["copies"], f.evidence["axis"]) for f in found] == [([[0, 1]], 1)]


def test_the_preflight_reports_the_copy_from_the_rows():
    x = _images(n=256)
    y = (x[:, 1].mean((1, 2)) > x[:, 0].mean((1, 2))).long()
    model = nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    copied = x.clone()
    copied[:, 0] = copied[:, 1]
    codes = lambda found: [f for f in found if f.code == "uninformative_inputs" and "copied" in f.message]
    assert codes(preflight(model, copied, y, cheap_only=True))
    assert not codes(preflight(model, x, y, cheap_only=True))


def test_a_copy_normalized_per_channel_is_a_copy_and_a_related_channel_is_not():
    """``Normalize(mean, std)`` after the copy leaves one array up to a scale and a shift; a channel
    that depends on the other but adds its own noise (a real second recording) is no copy."""
    x = _images()
    x[:, 1] = -3.0 * x[:, 0] + 0.5                  # copied, then normalized with its own (negative-going) stats
    found = _warnings(dup.check_duplicate_inputs(x))
    assert [(f.evidence["copies"], f.evidence["exact"]) for f in found] == [([[0, 1]], False)]
    assert "up to a scale and a shift" in found[0].message
    x[:, 1] += 1e-2 * torch.randn(x[:, 1].shape, generator=torch.Generator().manual_seed(5))   # ~1e-5 of its variance
    assert dup.check_duplicate_inputs(x) == []
    grey = x[:, :1].expand(-1, 3, -1, -1) * torch.tensor([4.4, 4.5, 4.4]).view(1, 3, 1, 1) - 2.0   # ImageNet's stats
    assert [f.severity for f in dup.check_duplicate_inputs(grey)] == ["info"]


def test_wide_rows_are_compared_on_fewer_rows_and_the_copy_still_found(monkeypatch):
    monkeypatch.setattr(dup, "MAX_VALUES", 2 * 100 * 80)      # 80 rows of two 10x10 channels
    x = _images(n=300)
    x[:, 1] = x[:, 0]
    x[200:, 1] += 1.0                               # rows past the 80 read are not compared
    found = _warnings(dup.check_duplicate_inputs(x))
    assert [(f.evidence["copies"], f.evidence["rows_read"]) for f in found] == [([[0, 1]], 80)]
    assert "every one of the 80 training rows read" in found[0].message
