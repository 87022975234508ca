"""pooled_units graded by its fix on a snapshot (interventions.pooled_axis_swap): the pooled layer's
unit axis swapped with the axes it should have been pooled over, so the forward's own pool averages
each unit over them. A pool over the channels that costs the run stays a warning; one the run does
as well with (8x8 digits: 64 positions, as many as channels) becomes info."""
import math

import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import interventions as iv
from trainwell.babysit.preflight import preflight
from babysit_loop import digits


class Waves(nn.Module):
    """A 1-D conv of 16 filters on 16 samples, a pool (``h.mean(1)`` over the filters when
    ``pool_units``, else ``h.mean(2)`` over time), a linear head."""

    def __init__(self, pool_units: bool):
        super().__init__()
        torch.manual_seed(0)
        self.conv, self.head = nn.Conv1d(1, 16, 5, padding=2), nn.Linear(16, 3)
        self.pool_units = pool_units

    def forward(self, x):
        h = F.relu(self.conv(x))
        return self.head(h.mean(1) if self.pool_units else h.mean(2))


class DigitCNN(nn.Module):
    """Two 3x3 convs on 8x8 digits (8 and 64 filters), ``h.mean(1)``: 64 positions, as many as filters."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv1, self.conv2, self.head = nn.Conv2d(1, 8, 3, padding=1), nn.Conv2d(8, 64, 3, padding=1), \
            nn.Linear(64, 10)

    def forward(self, x):
        return self.head(F.relu(self.conv2(F.relu(self.conv1(x)))).mean(1).flatten(1))


def waves(n=2000):
    """Three classes of sine frequency (1, 3, 5 cycles in 16 samples) at a random phase, noise std 1."""
    g = torch.Generator().manual_seed(5)
    y = torch.randint(0, 3, (n,), generator=g)
    phase = torch.rand(n, 1, generator=g) * 2 * math.pi
    t = torch.arange(16).float()
    x = torch.sin(2 * math.pi * (1 + 2 * y[:, None].float()) / 16 * t + phase) + torch.randn(n, 16, generator=g)
    return x[:, None, :], y


def graded(model, X, y, lr):
    found = preflight(model, X, y, lr=lr, optimizer="adam", cheap_only=True)
    symptoms = [f.code for f in found if f.severity == "warning" and iv.graded_fixes(f)]
    baseline, arms = iv.experiment(model, X, y, F.cross_entropy, optimizer="adam", lr=lr, batch_size=32, options={},
                                   symptoms=symptoms, settings=False)
    return {f.code: f for f in iv.grade(found, baseline, arms, run_steps=1000)}


def test_a_pool_over_the_filters_that_costs_the_run_stays_a_warning():
    """Frequencies at a random phase: pooled over time the filters' energies tell them apart (15
    epochs, Adam 1e-2: 79% of unseen rows), pooled over the filters each time step's mean does not (53%)."""
    f = graded(Waves(True), *waves(), 1e-2)["pooled_units"]
    assert f.severity == "warning" and f.evidence["harm"]["hurts"]
    assert f.evidence["harm"]["fix"] == "pool over the other axes"


def test_a_pool_over_the_channels_the_run_does_as_well_with_becomes_info():
    X, y, _, _ = digits()
    f = graded(DigitCNN(), X.reshape(-1, 1, 8, 8), y, 2e-3)["pooled_units"]
    assert f.severity == "info" and f.evidence["harm"]["fix"] == "pool over the other axes"


def test_the_swap_applies_only_where_the_units_are_as_many_as_the_pooled_positions():
    assert iv.pooled_axis_swap(Waves(True), *waves(64), F.cross_entropy) is not None
    assert iv.pooled_axis_swap(Waves(False), *waves(64), F.cross_entropy) is None        # no pooled layer
    narrow = Waves(True)
    narrow.conv = nn.Conv1d(1, 16, 5, padding=0)                       # 12 positions, 16 filters
    assert iv.pooled_axis_swap(narrow, *waves(64), F.cross_entropy) is None
