"""A repair trial of a classifier judged by what the run is scored by (babysit/sizing.py): a raise
confirmed from a symptom must not classify the held rows worse beyond their sampling error, however
much it lowers their loss; where the accuracies cannot be told apart the loss decides."""
import math

import torch
from torch import nn
from torch.nn import functional as F

from trainwell.babysit import sizing
from trainwell.babysit.sizing import accuracy_lift, larger_raise_helps

COMMON = {"weight_decay": 0.0, "batch_size": 32, "run_steps": 400, "seed": 0}


def _blobs(seed=0, classes=4, dim=16, rows=2048, spread=1.0):
    """Gaussian class clusters: a linear classifier separates them."""
    g = torch.Generator().manual_seed(seed)
    centers = 2.0 * torch.randn(classes, dim, generator=g)
    y = torch.randint(0, classes, (rows,), generator=g)
    return centers[y] + spread * torch.randn(rows, dim, generator=g), y


def _mlp(dim=16, classes=4, seed=0, out_scale=1.0):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, classes))
    with torch.no_grad():
        net[2].weight.mul_(out_scale)
        net[2].bias.zero_()
    return net


def test_the_lift_and_its_standard_error_match_the_paired_formula():
    """Against McNemar's counts written out: b rows right only with the change, c only without."""
    base = torch.tensor([True] * 50 + [False] * 30 + [True] * 10 + [False] * 10)
    right = torch.tensor([True] * 50 + [False] * 30 + [False] * 10 + [True] * 10)
    right[80:83] = True                  # 3 more of the c rows also right with the change: b = 10, c = 7
    b = int((right & ~base).sum())
    c = int((base & ~right).sum())
    n = base.numel()
    lift = accuracy_lift(right, base)
    assert (b, c) == (10, 7)
    assert math.isclose(lift["lift"], (b - c) / n)
    assert math.isclose(lift["se"], math.sqrt(((b + c) / n - ((b - c) / n) ** 2) / n))
    assert not lift["resolved"] and not lift["worse"]    # 3 rows of 100, 1.8 standard errors
    assert accuracy_lift(base, right)["lift"] == -lift["lift"] and not accuracy_lift(base, right)["worse"]
    lost = base.clone()
    lost[:20] = False                                    # 20 of the 60 right rows lost, none gained
    assert accuracy_lift(lost, base)["worse"] and accuracy_lift(base, lost)["resolved"]
    same = accuracy_lift(base, base)
    assert same["lift"] == 0.0 and same["se"] == 0.0 and not same["resolved"] and not same["worse"]
    assert accuracy_lift(None, base) is None


def test_a_raise_that_lowers_the_loss_but_classifies_worse_is_not_confirmed(monkeypatch):
    """The copies' outcomes stubbed as a slow classifier's can fall (set 12's healthy CNN at step 57:
    the raise's held loss 1.319 against the current lr's 1.352, 95 fewer of 512 rows right): the
    loss alone confirms the raise, the accuracy declines it, and a declined raise is not sized."""
    n = 512
    current = torch.zeros(n, dtype=torch.bool)
    current[:260] = True
    raised = current.clone()
    raised[:95] = False
    outcomes = {3e-3: (1.319, raised), 1e-3: (1.352, current)}
    monkeypatch.setattr(sizing, "held_after", lambda *a, lr, **k: outcomes[lr])
    X, y = _blobs()
    trial = larger_raise_helps(_mlp(), "sgd", X, y, F.cross_entropy, lr=3e-3, current_lr=1e-3, **COMMON)
    assert trial["loss"] < trial["current_loss"] and trial["accuracy"]["worse"]
    assert not trial["raise_helps"] and trial["larger_loss"] is None


def test_a_raise_the_rows_cannot_tell_apart_by_accuracy_is_judged_by_its_loss():
    """Labels drawn apart from the inputs and an output layer 30x too large: the held loss falls
    fast as the scores shrink toward uniform, a raise shrinks them faster, and no lr moves the held
    accuracy off chance beyond the rows' sampling error either way: the loss decides (a slow net
    still at chance in both copies gains from the raise its loss shows)."""
    X, _ = _blobs()
    y = torch.randint(0, 4, (X.shape[0],), generator=torch.Generator().manual_seed(5))
    trial = larger_raise_helps(_mlp(out_scale=30.0), "sgd", X, y, F.cross_entropy, lr=3e-3, current_lr=1e-4,
                               **COMMON)
    lift = trial["accuracy"]
    assert trial["loss"] < 0.9 * trial["current_loss"]
    assert not lift["resolved"] and not lift["worse"] and abs(lift["lift"]) < sizing.SAMPLING_Z * lift["se"]
    assert trial["raise_helps"]


def test_an_lr_100x_too_low_is_still_raised():
    """A classifier that learns at lr 0.05 given 5e-4: the raise lifts the held accuracy by far more
    than its sampling error, so it is confirmed and sized."""
    X, y = _blobs(spread=2.0)
    net = _mlp()
    trial = larger_raise_helps(net, "sgd", X, y, F.cross_entropy, lr=5e-2, current_lr=5e-4, **COMMON)
    assert trial["raise_helps"] and trial["accuracy"]["lift"] > 2 * sizing.SAMPLING_Z * trial["accuracy"]["se"] > 0
    assert trial["larger_loss"] is not None


def test_a_regression_raise_is_judged_by_its_loss_alone():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(1024, 8, generator=g)
    y = X @ torch.randn(8, generator=g)
    torch.manual_seed(0)
    trial = larger_raise_helps(nn.Linear(8, 1), "sgd", X, y, lambda o, t: F.mse_loss(o.squeeze(-1), t),
                               lr=1e-2, current_lr=1e-4, **COMMON)
    assert trial["accuracy"] is None and trial["raise_helps"]


def test_a_larger_raise_that_classifies_resolvably_worse_is_not_taken(monkeypatch):
    """The sizing step takes the decade more when its held loss ends lower, unless the held rows'
    accuracy says the opposite beyond their sampling error (a stub of the copies' outcomes)."""
    n = 512
    raised = torch.ones(n, dtype=torch.bool)
    larger = raised.clone()
    larger[:40] = False                                  # 40 of 512 rows lost, none gained
    outcomes = {1e-2: (0.50, raised), 1e-1: (0.40, larger)}
    monkeypatch.setattr(sizing, "held_after", lambda *a, lr, **k: outcomes[lr])
    X, y = _blobs()
    trial = larger_raise_helps(_mlp(), "sgd", X, y, F.cross_entropy, lr=1e-2, **COMMON)
    assert trial["larger_loss"] < trial["loss"] and trial["larger_accuracy"]["resolved"]
    assert not trial["helps"]
    outcomes[1e-1] = (0.40, raised)                      # the same rows right: the loss decides
    assert larger_raise_helps(_mlp(), "sgd", X, y, F.cross_entropy, lr=1e-2, **COMMON)["helps"]
