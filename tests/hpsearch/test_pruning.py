"""Pruning: the notes' 3x-own-first-loss rule, the babysitter's verdict, Optuna's pruner per epoch."""
import math

import optuna
import pytest
import torch

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


def _median_search(tmp_path, name, folds=None):
    import trainwell
    return trainwell.search({"type": "mlp", "widths": [8]}, "digits", progress=False,
                            space={"lr": {"low": 1e-4, "high": 1.0}},
                            search={"dir": str(tmp_path / name), "pruner": "median", "seed": 3, "folds": folds,
                                    "stages": [{"trials": 10}]},
                            device="cpu", epochs=4, batch_size=256, babysit="off", preprocess=["standardize"])


def _stored_reports(result) -> dict:
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(result.study_dir / "study.journal")))
    study = optuna.load_study(study_name="trainwell/stage-0", storage=storage)
    return {t.number: t.intermediate_values for t in study.trials}


@pytest.mark.parametrize("folds", [None, 2])
def test_deferred_reports_prune_and_store_exactly_as_reports_each_epoch(tmp_path, monkeypatch, folds):
    """The median pruner asked with the reports held in memory (written when the trial ends)
    prunes the same trials at the same epochs, for the same reasons, as with a report to the
    journal each epoch; the journal ends with the same reported values (every fold's)."""
    import trainwell.hpsearch.trial as trial_module
    deferred = _median_search(tmp_path, "deferred", folds)
    monkeypatch.setattr(trial_module, "DEFERRED_REPORTS", frozenset())
    each_epoch = _median_search(tmp_path, "each", folds)
    keys = ("trial", "state", "value", "prune_reason", "lr")
    assert [{k: r[k] for k in keys} for r in deferred.trials] == [{k: r[k] for k in keys} for r in each_epoch.trials]
    assert any(r["prune_reason"] and "median pruner" in r["prune_reason"] for r in deferred.trials)
    assert _stored_reports(deferred) == _stored_reports(each_epoch)
    assert all(len(v) > 0 for v in _stored_reports(deferred).values())


def test_deferred_reports_are_one_journal_append_per_trial(tmp_path, monkeypatch):
    from trainwell.hpsearch.journal import GroupCommitBackend
    appends = []
    append_logs = GroupCommitBackend.append_logs

    def recording(self, logs):
        if self._batch is None:          # a write, not a record joining a batch
            appends.append([log["op_code"] for log in logs])
        return append_logs(self, logs)

    monkeypatch.setattr(GroupCommitBackend, "append_logs", recording)
    result = _median_search(tmp_path, "s")
    reports = [ops for ops in appends if 7 in ops]      # 7: Optuna's SET_TRIAL_INTERMEDIATE_VALUE
    assert len(reports) == len(result.trials)
    assert all(set(ops) == {7} for ops in reports)
    assert sum(len(ops) for ops in reports) == sum(len(v) for v in _stored_reports(result).values())


def test_the_median_pruner_may_prune_at_a_trials_first_epoch():
    # a trial reports its first epoch at step 1 (epochs count from 1), so the median pruner's
    # n_warmup_steps = 1 does not hold it back: after 5 completed trials a first epoch behind
    # their median is pruned (the default was measured so: 2-epoch coarse trials stop after one)
    study = optuna.create_study(direction="minimize", pruner=make_pruner("median", max_resource=10))
    for value in (1.0, 2.0, 3.0, 4.0, 5.0):
        done = study.ask()
        done.report(value, 1)
        study.tell(done, value)
    behind, ahead = study.ask(), study.ask()
    behind.report(3.5, 1)
    ahead.report(2.5, 1)
    assert behind.should_prune() and not ahead.should_prune()


def test_at_its_last_step_a_trial_reports_but_is_not_pruned():
    # prune_at_end = false: the pruner is asked at every epoch but the last (stopping there saves
    # no epoch), and the last epoch's value is reported all the same
    trial = FakeTrial(prune_at=4)
    watch = TrialWatch(trial, metric="val_acc", pruner_name="median", last_step=4)
    run = _fit(watch)
    assert [s for s, _ in trial.reports] == [1, 2, 3, 4]
    assert watch.reason is None and run.history[-1]["epoch"] == 4 and not run.stopped.failed
    earlier = FakeTrial(prune_at=3)                       # before the last step it still prunes
    watch = TrialWatch(earlier, metric="val_acc", pruner_name="median", last_step=4)
    assert _fit(watch).history[-1]["epoch"] == 3 and "median pruner" in watch.reason


def test_at_its_last_step_a_diverged_trial_is_still_pruned():
    # the explosion rule is about a broken trial, not about saving epochs: it prunes at the end too
    watch = TrialWatch(FakeTrial(), metric="val_acc", pruner_name="median", last_step=1)
    fit({"type": "mlp", "widths": [16]}, "digits", device="cpu", epochs=1, progress=False, babysit="off",
        callbacks=[watch], lr=50.0, preprocess=["standardize"])
    assert watch.reason and ("3x" in watch.reason or "nan" in watch.reason.lower())


def _one_epoch_search(tmp_path, name, prune_at_end):
    import trainwell
    return trainwell.search({"type": "mlp", "widths": [8]}, "digits", progress=False,
                            space={"lr": {"low": 1e-4, "high": 1.0}},
                            search={"dir": str(tmp_path / name), "pruner": "median", "seed": 3,
                                    "stages": [{"trials": 12}], "prune_at_end": prune_at_end},
                            device="cpu", epochs=1, batch_size=256, babysit="off", preprocess=["standardize"])


def test_one_epoch_trials_keep_their_values_without_pruning_at_the_end(tmp_path):
    # one-epoch trials behind the median are pruned at their only epoch by default (no value);
    # with prune_at_end = false every one completes with its value, at the same epochs spent
    default = _one_epoch_search(tmp_path, "default", True)
    kept = _one_epoch_search(tmp_path, "kept", False)
    assert any(r["state"] == "pruned" and "median pruner" in r["prune_reason"] for r in default.trials)
    assert all(r["state"] == "complete" and r["prune_reason"] is None for r in kept.trials)
    assert [r["lr"] for r in kept.trials] == [r["lr"] for r in default.trials]


class _NanModel(torch.nn.Module):
    """A model whose output is NaN from its first batch on (the square root of negative inputs)."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(64, 10)

    def forward(self, x):
        return self.linear(x) + torch.sqrt(x[:, :10] - 10.0)


def _nan_model():
    return _NanModel()


@pytest.mark.parametrize("babysit", ["watch", "off"])
def test_a_trial_the_trainer_stops_as_diverged_is_pruned_with_the_babysitters_finding(tmp_path, babysit):
    """The Trainer stops a run whose loss is NaN inside its first epoch; the trial is pruned with
    the babysitter's error finding as its reason (its code and words), or without the babysitter
    with the Trainer's own message."""
    import trainwell
    result = trainwell.search(_nan_model, "digits", space={"lr": {"low": 1e-3, "high": 1e-2}}, progress=False,
                              search={"dir": str(tmp_path / "s"), "stages": [{"trials": 1}], "pruner": "none"},
                              device="cpu", epochs=2, batch_size=256, babysit=babysit, preprocess=["standardize"])
    (row,) = result.trials
    assert row["state"] == "pruned"
    if babysit == "watch":
        assert row["prune_reason"].startswith("babysitter: nonfinite_loss: ")
    else:
        assert "nan" in row["prune_reason"] and "babysitter" not in row["prune_reason"]
