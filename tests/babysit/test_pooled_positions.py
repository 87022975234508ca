"""pooled_positions.check_pooled_positions: a head that pools the positions where classes differ by a move."""
import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit.pooled_positions import check_pooled_positions, class_moves, pooled_axes

H, W = 12, 32


def frames(n=800, seed=0, *, anywhere=False):
    """(n, 1, 12, 32) frames: three bars (columns 8, 16, 24) and a hot blob on the bar of the class (0-2),
    or none (3); ``anywhere``: the blob's column drawn at random, the class its size instead."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 4, (n,), generator=g)
    r, c = torch.meshgrid(torch.arange(H).double(), torch.arange(W).double(), indexing="ij")
    x = 0.35 + 0.2 * ((c - 8).abs() <= 1) + 0.2 * ((c - 16).abs() <= 1) + 0.2 * ((c - 24).abs() <= 1)
    x = x + 0.04 * torch.randn(n, H, W, generator=g, dtype=torch.double)
    for i in range(n):
        if y[i] == 3:
            continue
        row = 2 + 7 * float(torch.rand(1, generator=g))
        col = 3 + 26 * float(torch.rand(1, generator=g)) if anywhere else 8.0 * (int(y[i]) + 1)
        sd = 0.7 + 0.6 * int(y[i]) if anywhere else 1.0
        x[i] += 0.35 * torch.exp(-((r - row) ** 2 + (c - col) ** 2) / (2 * sd ** 2))
    return x[:, None].float(), y


class FrameCNN(nn.Module):
    """Two 3x3 convs with a 2x2 max pool after each; ``pool``: a global average before the linear layer
    (``nn.AdaptiveAvgPool2d(1)``), ``"max"`` a functional global max, else the maps flattened into it."""

    def __init__(self, pool=None):
        super().__init__()
        torch.manual_seed(0)
        self.conv1, self.conv2 = nn.Conv2d(1, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1)
        self.pool = pool
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16 if pool else 16 * (H // 4) * (W // 4), 4)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        if self.pool == "max":
            return self.fc(x.amax((2, 3)))
        return self.fc((self.gap(x) if self.pool else x).flatten(1))


def test_a_global_pool_over_the_place_the_classes_are_told_by_is_found():
    x, y = frames()
    for pool in ("avg", "max"):
        found = check_pooled_positions(FrameCNN(pool), x, y, class_ids=True)
        assert len(found) == 1 and found[0].code == "uninformative_inputs" and found[0].severity == "warning", pool
        e = found[0].evidence
        assert e["positions"] and e["layer"] == "conv2" and 1 in {int(k) for k in e["rolled"]}
        assert e["moves"][0]["shift"][0] == 0 and abs(e["moves"][0]["shift"][1]) in (8, 16)
        assert "CoordConv" in found[0].fix


def test_a_head_that_keeps_the_positions_and_patterns_anywhere_are_quiet():
    x, y = frames()
    assert check_pooled_positions(FrameCNN(), x, y, class_ids=True) == []        # flattened maps: not pooled
    assert pooled_axes(FrameCNN(), x[:8])["axes"] == {}
    x, y = frames(anywhere=True)                                                   # the class is the blob's size
    assert class_moves(x, y) == []
    assert check_pooled_positions(FrameCNN("avg"), x, y, class_ids=True) == []


def test_brightness_classes_and_regression_targets_are_quiet():
    x, _ = frames()
    g = torch.Generator().manual_seed(3)
    y = torch.randint(0, 3, (x.shape[0],), generator=g)
    bright = x * (0.6 + 0.4 * y.float())[:, None, None, None]                     # one pattern, brighter or darker
    assert class_moves(bright, y) == []
    x, y = frames()
    assert check_pooled_positions(FrameCNN("avg"), x, y.float(), class_ids=False) == []


def test_the_move_is_measured_in_positions_the_shorter_way_round():
    x, y = frames()
    moves = class_moves(x, y)
    pairs = {tuple(m["classes"]): m["shift"] for m in moves}
    assert pairs[(0, 1)] == [0, 8] and pairs[(1, 2)] == [0, 8] and abs(pairs[(0, 2)][1]) == 16
    assert all(m["moved"] >= 0.8 and abs(m["in_place"]) <= 0.5 for m in moves)
