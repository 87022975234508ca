"""A layer's units pooled together before the next layer (babysit/pooled_units.py, ``pooled_units``)."""
import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit.pooled_units import check_pooled_units, pooled_layers
from trainwell.babysit.preflight import preflight


class Signal1d(nn.Module):
    """Conv1d features pooled over time (healthy) or over the channel axis (the fault)."""

    def __init__(self, channel_mean=False):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv1d(2, 8, 5), nn.Conv1d(8, 12, 3)
        self.fc = nn.Linear(12 if not channel_mean else 24, 3)
        self.channel_mean = channel_mean

    def forward(self, x):                       # (N, 2, 30)
        h = F.relu(self.conv2(F.relu(self.conv1(x))))       # (N, 12, 24)
        return self.fc(h.mean(1) if self.channel_mean else h.mean(2))


class Tokens(nn.Module):
    """A Linear per position of an (N, L, D) sequence, pooled over the positions or over the features."""

    def __init__(self, feature_mean=False):
        super().__init__()
        self.proj = nn.Linear(4, 16)
        self.head = nn.Linear(10 if feature_mean else 16, 2)
        self.feature_mean = feature_mean

    def forward(self, x):                       # (N, 10, 4)
        h = torch.tanh(self.proj(x))
        return self.head(h.mean(-1) if self.feature_mean else h.mean(1))


def test_a_mean_over_the_channel_axis_is_found_and_the_mean_over_time_is_quiet():
    x = torch.randn(8, 2, 30)
    found = check_pooled_units(Signal1d(channel_mean=True), x)
    assert [f.code for f in found] == ["pooled_units"]
    assert found[0].where == "conv2" and found[0].evidence["units"] == 12 and found[0].evidence["axis"] == 1
    assert check_pooled_units(Signal1d(), x) == []


def test_a_mean_over_a_linear_layers_features_is_found_and_over_the_sequence_is_quiet():
    x = torch.randn(8, 10, 4)
    assert [r["layer"] for r in pooled_layers(Tokens(feature_mean=True), x)] == ["proj"]
    assert pooled_layers(Tokens(), x) == []


def test_symmetric_functions_that_keep_the_units_apart_are_quiet():
    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.q, self.k, self.out = nn.Linear(6, 12), nn.Linear(6, 8), nn.Linear(6, 8), nn.Linear(5, 2)
            self.bn = nn.BatchNorm1d(12)

        def forward(self, x):
            h = self.bn(self.a(x))
            maxout = h.view(-1, 4, 3).amax(-1)                  # maxout over groups of 3 units
            attention = (self.q(x) * self.k(x)).sum(-1, keepdim=True)     # a dot product of two layers
            return self.out(torch.cat([maxout, attention], 1))
    assert pooled_layers(Mixed(), torch.randn(8, 6)) == []


def test_a_residual_block_an_unused_layer_and_the_output_layer_are_quiet():
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp, self.block, self.unused, self.out = nn.Linear(5, 8), nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 3)

        def forward(self, x):
            h = self.inp(x)
            h = h + F.relu(self.block(h))
            self.unused(h)                                      # computed, never used
            return self.out(h)
    assert pooled_layers(Residual(), torch.randn(8, 5)) == []


def test_identical_units_are_left_to_symmetric_init():
    model = Signal1d(channel_mean=True)
    with torch.no_grad():
        model.conv2.weight.copy_(model.conv2.weight[:1].expand_as(model.conv2.weight))
        model.conv2.bias.fill_(0.1)
    assert pooled_layers(model, torch.randn(8, 2, 30)) == []


def test_a_forward_that_fails_reports_nothing():
    class Fails(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            raise RuntimeError("user bug")
    assert check_pooled_units(Fails(), torch.randn(4, 3)) == []


def test_the_preflight_reports_pooled_units():
    x = torch.randn(64, 2, 30)
    y = torch.randint(0, 3, (64,))
    assert "pooled_units" in [f.code for f in preflight(Signal1d(channel_mean=True), x, y, cheap_only=True)]
    assert "pooled_units" not in [f.code for f in preflight(Signal1d(), x, y, cheap_only=True)]
