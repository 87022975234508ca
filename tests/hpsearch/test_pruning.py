"""Pruning: the notes' 3x-own-first-loss rule, the babysitter's verdict, Optuna's pruner per epoch."""
import math

import optuna
import pytest

from trainwell.hpsearch.pruning import PRUNERS, TrialWatch, explosion, make_pruner
from trainwell.train.fit import fit


@pytest.mark.parametrize("first, loss, pruned", [
    (2.0, 5.9, False), (2.0, 6.1, True), (2.0, math.nan, True), (2.0, math.inf, True), (None, 100.0, False),
])
def test_explosion_is_relative_to_the_trial_own_first_loss(first, loss, pruned):
    assert (explosion(first, loss, 3.0) is not None) == pruned


class FakeTrial:
    """Records reports; prunes from ``prune_at`` (a step) on."""

    def __init__(self, prune_at=None):
        self.reports, self.prune_at = [], prune_at

    def report(self, value, step):
        self.reports.append((step, value))

    def should_prune(self):
        return self.prune_at is not None and self.reports[-1][0] >= self.prune_at


def _fit(watch, **options):
    return fit({"type": "mlp", "widths": [16]}, "digits", device="cpu", epochs=4, progress=False,
               babysit="off", callbacks=[watch], **options)


def test_reports_each_epoch_at_fold_aware_steps_and_stops_when_pruned():
    trial = FakeTrial(prune_at=7)
    watch = TrialWatch(trial, metric="val_acc", offset=5, pruner_name="median")
    run = _fit(watch)
    assert [s for s, _ in trial.reports] == [6, 7]              # fold offset 5 + epochs 1, 2
    assert run.history[-1]["epoch"] == 2 and "median pruner" in watch.reason
    assert run.stopped.message.startswith("pruned: ")


def test_a_diverging_trial_is_pruned_with_the_reason():
    watch = TrialWatch(FakeTrial(), metric="val_acc")
    _fit(watch, lr=50.0, preprocess=["standardize"])
    assert watch.reason and ("3x" in watch.reason or "nan" in watch.reason.lower())


def test_a_babysitter_error_prunes_the_trial(monkeypatch):
    import trainwell.hpsearch.pruning as pruning
    watch = TrialWatch(FakeTrial(), metric="val_acc")
    monkeypatch.setattr(pruning, "broken_finding", lambda state: "babysitter: dead_relu: most units never fire")
    run = _fit(watch)
    assert run.history[-1]["epoch"] == 1 and watch.reason.startswith("babysitter: dead_relu")


def test_every_pruner_is_an_optuna_pruner():
    for name in PRUNERS:
        assert isinstance(make_pruner(name, max_resource=10), optuna.pruners.BasePruner)


def test_without_a_pruner_nothing_is_reported():
    trial = FakeTrial()
    _fit(TrialWatch(trial, metric="val_acc", pruner_name="none"))
    assert trial.reports == []
