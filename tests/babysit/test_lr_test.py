"""The repairer's lr test in training (``Repairer._lr_test``): called only where the run's own evidence
shows slow learning (``_slow_learning``: the monitor's graded lr_too_low / underfitting, a loss that fell
less than its own noise, updates below ~1e-3 with a loss falling in a line), it raises an lr that an
lr arm shows too low on the held rows; a run that learns pays nothing."""
import math
import random

import torch
from torch import nn

import trainwell
from trainwell.babysit import repair
from trainwell.babysit.repair import barely_falling, linear_looking


class Scaled(nn.Module):
    """The outputs times a constant: at 0.01 Adam's default lr moves the logits 100x too slowly."""

    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return x * self.scale


def _three_classes():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(1500, 8, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).long() + (X[:, 2] > 0.5).long()
    return (X[:1000], y[:1000]), (X[1000:1250], y[1000:1250])


def _fit(scale: float | None, lr: float = 1e-3, monkeypatch=None, called=None):
    """The 3-class MLP under ``babysit="repair"``; with ``monkeypatch``, what ``_slow_learning`` returned at
    each epoch end it was asked, appended to ``called``."""
    if monkeypatch is not None:
        read = repair.Repairer._slow_learning
        monkeypatch.setattr(repair.Repairer, "_slow_learning", lambda self, state: called.append(read(self, state))
                            or called[-1])
    torch.manual_seed(0)
    layers = [nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3)] + ([Scaled(scale)] if scale else [])
    train, val = _three_classes()
    return trainwell.fit(nn.Sequential(*layers), train, val, optimizer="adam", lr=lr, epochs=10, batch_size=32,
                         seed=0, babysit="repair", progress=False, report=False, run_dir=None)


def _noisy(curve, n=30, noise=0.02, seed=0):
    rng = random.Random(seed)
    return [curve(i / (n - 1)) + rng.gauss(0, noise) for i in range(n)]


def test_a_flat_loss_barely_falls_and_a_falling_one_does():
    """Within one sampled loss's noise, or within 5 % of its level: barely; a line or a fast fall that
    bends: not (the step-to-step noise is read without the trend)."""
    assert barely_falling(_noisy(lambda t: 1.1))
    assert barely_falling(_noisy(lambda t: 1.1 - 0.03 * t, noise=0.001))
    assert not barely_falling(_noisy(lambda t: 1.1 - 0.5 * t))
    assert not barely_falling(_noisy(lambda t: 0.2 + 0.9 * math.exp(-8 * t)))


def test_a_loss_falling_in_a_line_looks_linear_and_one_that_bends_does_not():
    """The notes' loss curves: a low lr's falls in a line, a good lr's falls fast and bends."""
    assert linear_looking(_noisy(lambda t: 1.1 - 0.5 * t))
    assert not linear_looking(_noisy(lambda t: 0.2 + 0.9 * math.exp(-8 * t)))
    assert not linear_looking(_noisy(lambda t: 1.1 + 0.2 * t))      # rising: not a slow lr's curve


def test_an_lr_its_raise_arm_beats_is_raised_where_the_run_learns_slowly(monkeypatch):
    """Adam at its own default 1e-3 on logits scaled by 0.01: off, the run ends at 52 % validation
    accuracy; main before the lr test raised it by the monitor's underfitting at step 96 and ended at
    82 %. The run's slow loss calls the lr test, which raises the lr the arm measured."""
    called = []
    run = _fit(0.01, monkeypatch=monkeypatch, called=called)
    assert "barely fell" in called[-1], called
    first = run.repairs[0]
    assert (first["code"], first["action"]) == ("lr_too_low", "raise_lr") and " instead of " in first["reason"], \
        run.repairs
    assert not any(r["action"] == "undo_lr_change" for r in run.repairs), run.repairs
    assert run.history[-1]["val_acc"] >= 0.9


def test_a_run_that_learns_pays_nothing(monkeypatch):
    """The same net without the scale at Adam 1e-2 (off: 94.4 % validation accuracy): nothing in its
    run reads slow, the lr test does not run, and nothing changes."""
    called = []
    run = _fit(None, lr=1e-2, monkeypatch=monkeypatch, called=called)
    assert run.repairs == []
    assert called and not any(called), called


def test_a_raise_into_a_strong_decay_is_not_tried(monkeypatch):
    """SGD at 0.2 under the default weight decay 5e-4 (a slow run: logits scaled by 0.01): x100 would put
    lr x weight decay at 1e-2 (ratios.STRONG_DECAY), which the monitor reads as a decay too strong; only
    x10 is tried (set 5's glyphs, raised 100x, had its decay cut next and lost 29 points)."""
    tried = []
    experiment = repair.interventions.experiment

    def recorded(*args, **kwargs):
        tried.append([arm.name for arm in kwargs.get("extra_arms", ())])
        return experiment(*args, **kwargs)

    monkeypatch.setattr(repair.interventions, "experiment", recorded)
    torch.manual_seed(0)
    train, val = _three_classes()
    trainwell.fit(nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3), Scaled(0.01)), train, val,
                  optimizer="sgd", lr=0.2, epochs=10, batch_size=32, seed=0, babysit="repair", progress=False,
                  report=False, run_dir=None)
    assert ["lr x10"] in tried, tried
