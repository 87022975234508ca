"""layout_check: the first convolution that cannot slide along a spatial axis of its input while it
reads a longer axis as channels (data given channels last to a channels-first layer) is found and
named; convolutions whose kernels fit their axes, few input channels, and deeper layers stay quiet."""
import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit.doctor import doctor
from trainwell.babysit.layout_check import check_layout, first_conv, misread_axes


class Windows(nn.Module):
    """A 1-D CNN over windows; ``channels_first``: the input is transposed to (N, C, L) first."""

    def __init__(self, in_channels, channels_first):
        super().__init__()
        self.channels_first = channels_first
        self.body = nn.Conv1d(in_channels, 8, 7, padding=3)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        if self.channels_first:
            x = x.transpose(1, 2)
        return self.head(F.relu(self.body(x)).amax(2))


class Images(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(in_channels, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        x = F.adaptive_max_pool2d(F.relu(self.conv1(x)), 2)   # -> 2 x 2: conv2's kernel is wider, normal
        return self.fc(F.relu(self.conv2(x)).mean((2, 3)))


def test_windows_given_channels_last_to_a_channels_first_layer_are_found():
    x = torch.randn(10, 50, 2)                  # (N, length 50, 2 sensors)
    found = check_layout(Windows(50, channels_first=False), x)
    assert [f.code for f in found] == ["input_layout"]
    f = found[0]
    assert f.severity == "warning" and f.where == "body"
    assert f.evidence["input_shape"] == [4, 50, 2] and f.evidence["axes"] == [
        {"axis": 2, "length": 2, "kernel": 7, "padding": 3}]
    assert "transpose(1, 2)" in f.fix and "(N, 50, 2)" in f.message
    assert check_layout(Windows(2, channels_first=True), x) == []


def test_images_given_channels_last_are_found_and_channels_first_are_quiet():
    assert [f.code for f in check_layout(Images(8), torch.randn(6, 8, 8, 3))] == ["input_layout"]
    assert check_layout(Images(3), torch.randn(6, 3, 8, 8)) == []    # conv2's 2 x 2 map: a deeper layer, not read


def test_the_rule_reads_kernel_reach_padding_and_channels():
    conv = nn.Conv1d(3, 4, 5, padding=2)
    assert misread_axes(conv, (2, 3, 3)) == []                  # 3 channels: no longer than the kernel
    assert misread_axes(nn.Conv1d(64, 4, 5, padding=2), (2, 64, 3)) != []
    assert misread_axes(nn.Conv1d(64, 4, 5, padding=2), (2, 64, 6)) == []      # a window fits inside
    assert misread_axes(nn.Conv1d(64, 4, 3, padding=2, dilation=3), (2, 64, 6)) != []   # reach 7 > 6
    assert misread_axes(nn.Conv1d(64, 4, 5, padding="same"), (2, 64, 4)) != []
    assert misread_axes(nn.Conv1d(64, 4, 1), (2, 64, 1)) == []  # a 1-wide kernel slides along nothing


def test_models_without_a_convolution_or_that_raise_are_not_read():
    mlp = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))
    assert first_conv(mlp, torch.randn(4, 6)) is None and check_layout(mlp, torch.randn(4, 6)) == []
    assert check_layout(Windows(2, channels_first=True), torch.randn(4, 7)) == []   # the forward raises


def test_the_doctor_names_the_layer():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (600,), generator=g)
    t = torch.arange(50.0)
    x = torch.stack([torch.sin(t * (1 + y[:, None]) / 5), torch.randn(600, 50, generator=g)], 2)   # (N, 50, 2)
    torch.manual_seed(0)
    d = doctor(Windows(50, channels_first=False), (x[:400], y[:400]), (x[400:], y[400:]), optimizer="adam",
               lr=1e-3, batch_size=32, epochs=3, probe=False, budget_s=5)
    f = next(f for f in d.findings if f.code == "input_layout")
    assert f.where == "body" and f.evidence["in_channels"] == 50
