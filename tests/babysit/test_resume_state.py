"""The babysitter's state across a kill and a resume: a run killed at step k and resumed is the
run that never stopped (weights, history, repairs, findings, the monitor's samples), with repairs
before and after k; the pre-flight checks run once, before the first step (pinned to the CPU)."""
import pytest
import torch

import trainwell
from trainwell.babysit.monitor import Monitor, finding_from_state, finding_state
from trainwell.babysit.findings import make
from trainwell.data.sources import digits
from babysit_loop import mlp

FAST = {"progress": False, "report": False, "epochs": 6, "device": "cpu"}   # CPU bit-exactness


@pytest.fixture(scope="module")
def data():
    return digits()


def _run(data, run_dir, *, callbacks=(), resume=False, **options):
    return trainwell.fit(mlp(), data, run_dir=run_dir, resume=resume, callbacks=list(callbacks), **{**FAST, **options})


def _strip(history):
    return [{k: v for k, v in m.items() if k != "seconds"} for m in history]


def _assert_same_run(whole, resumed):
    for (name, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert _strip(whole.history) == _strip(resumed.history)
    assert whole.repairs == resumed.repairs
    assert [f.to_dict() for f in whole.findings] == [f.to_dict() for f in resumed.findings]
    assert whole.evidence == resumed.evidence          # the monitor's samples and activations
    assert whole.stopped == resumed.stopped


# lr = 10 diverges: the repairer lowers the lr at step 5 and rolls back to the start, and at step 36
# (epoch 2 of the repaired trajectory) lowers it again, rolling back to the start snapshot, which a
# run resumed after step 22 has only from its checkpoint.
@pytest.mark.parametrize("crash, every, average", [(30, None, None), (33, 10, None), (30, None, {"method": "ema"})])
def test_a_killed_repair_run_resumes_as_the_run_that_never_stopped(data, tmp_path, crash_at, crash, every, average):
    options = dict(babysit="repair", lr=10.0, checkpoint_every=every, average=average)
    whole = _run(data, tmp_path / "whole", **options)
    steps = [r["step"] for r in whole.repairs]
    assert len(steps) >= 2 and min(steps) < crash < max(steps)      # repairs before and after the kill
    assert all(r["rolled_back_to"] is not None for r in whole.repairs)
    with pytest.raises(crash_at.error):
        _run(data, tmp_path / "cut", callbacks=[crash_at(crash)], **options)
    resumed = _run(data, tmp_path / "cut", resume=True, **options)
    _assert_same_run(whole, resumed)


class Final(trainwell.Callback):
    def on_fit_end(self, state):
        self.updates, self.steps = state.extras["average"]["updates"], state.step


def test_an_ema_counts_only_the_steps_of_the_surviving_trajectory(data):
    """Each repair rolls back to the start: the average made one update per step the run kept
    (every = 1), none for the abandoned ones."""
    final = Final()
    run = trainwell.fit(mlp(), data, babysit="repair", lr=10.0, average={"method": "ema"}, callbacks=[final], **FAST)
    assert len(run.repairs) >= 2
    assert final.updates == final.steps == run.history[-1]["step"]


def test_a_killed_watch_run_resumes_with_the_same_findings(data, tmp_path, crash_at):
    """Watching a run whose lr is too high (no repairs): findings come after the kill at step 30."""
    whole = _run(data, tmp_path / "whole", babysit="watch", lr=1.0)
    assert any(f.evidence.get("step", 0) > 30 for f in whole.findings)
    with pytest.raises(crash_at.error):
        _run(data, tmp_path / "cut", callbacks=[crash_at(30)], babysit="watch", lr=1.0)
    resumed = _run(data, tmp_path / "cut", resume=True, babysit="watch", lr=1.0)
    _assert_same_run(whole, resumed)


def test_a_resumed_run_does_not_repeat_the_preflight(data, tmp_path, monkeypatch, crash_at):
    """Unscaled inputs are standardized before the first step; the resumed run neither checks
    again nor adds the step twice (its preprocessing is replayed from the checkpoint's settings)."""
    import trainwell.babysit.repair as repair
    from trainwell.data.splits import Splits

    raw = Splits(train=(data.train[0] * 255, data.train[1]), val=(data.val[0] * 255, data.val[1]),
                 test=(data.test[0] * 255, data.test[1]), num_classes=10, input_shape=(64,))
    calls = []
    real = repair.preflight
    monkeypatch.setattr(repair, "preflight", lambda *a, **k: calls.append(1) or real(*a, **k))
    whole = _run(raw, tmp_path / "whole", babysit="repair", epochs=3)
    assert [r["action"] for r in whole.repairs][:1] == ["standardize"] and calls
    with pytest.raises(crash_at.error):
        _run(raw, tmp_path / "cut", callbacks=[crash_at(30)], babysit="repair", epochs=3)
    calls.clear()
    resumed = _run(raw, tmp_path / "cut", resume=True, babysit="repair", epochs=3)
    assert calls == []
    assert resumed.repairs == whole.repairs
    _assert_same_run(whole, resumed)


def test_the_monitor_state_round_trips_through_a_fresh_monitor():
    monitor = Monitor(every=3)
    monitor.samples = [{"step": 1, "loss": float("nan"), "update_ratio": {"0": None}}]
    monitor.diagnosis.add(make("loss_exploding", "rose", evidence={"loss": float("inf"), "step": 4,
                                                                   "ratio": torch.tensor(2.5)}))
    monitor._next, monitor._sampled, monitor._initial_loss = 7, 3, 2.3
    saved = monitor.state_dict()
    fresh = Monitor(every=3)
    fresh.load_state_dict(saved)
    assert fresh.state_dict() == saved or str(fresh.state_dict()) == str(saved)   # NaN != NaN
    assert [f.code for f in fresh.findings] == ["loss_exploding"]
    assert fresh.findings[0].evidence["ratio"] == 2.5 and fresh.findings[0].evidence["loss"] == float("inf")
    f = fresh.findings[0]
    assert finding_from_state(finding_state(f)) == f


def test_a_checkpoint_without_the_babysitters_state_resumes_without_a_preflight(data, tmp_path, monkeypatch, crash_at):
    """A checkpoint written before callbacks' states were checkpointed (none recorded here): the
    resumed repairer continues the record from state.extras, takes fresh snapshots, and does not
    check the trained model as if it were about to take its first step (its fresh samples may
    still lead it to repairs the uninterrupted run did not make)."""
    import trainwell.babysit.repair as repair
    from trainwell.train.loop import Trainer

    monkeypatch.setattr(Trainer, "_stateful_callbacks", lambda self: {})
    with pytest.raises(crash_at.error):
        _run(data, tmp_path / "cut", callbacks=[crash_at(30)], babysit="repair", lr=10.0)
    calls = []
    real = repair.preflight
    monkeypatch.setattr(repair, "preflight", lambda *a, **k: calls.append(1) or real(*a, **k))
    resumed = _run(data, tmp_path / "cut", resume=True, babysit="repair", lr=10.0)
    # the record continues with the repair made before the crash at step 30
    assert calls == [] and resumed.repairs[0]["step"] < 30 and len(resumed.history) == FAST["epochs"]
