"""``checkpoint_at``: every epoch (the default) or only the run's end; a run killed before its end
then resumes from its start; and ``rundir.unsynced`` writes atomically without fsync."""
import os

import pytest
import torch

import trainwell
from trainwell.errors import ConfigError
from trainwell.train.checkpoint import list_checkpoints, load_checkpoint
from trainwell.train.rundir import atomic_write_text, unsynced

OPTIONS = dict(epochs=3, batch_size=16, report=False, progress=False, babysit="off", device="cpu")


def _data():
    X = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    return X, (X[:, 0] > 0).long()


class Count(trainwell.Callback):
    def __init__(self):
        self.steps = []

    def on_checkpoint(self, state):
        self.steps.append(state.step)


def test_end_writes_one_checkpoint_of_the_last_step(tmp_path):
    every, end = Count(), Count()
    a = trainwell.fit(None, _data(), run_dir=tmp_path / "a", callbacks=[every], **OPTIONS)
    b = trainwell.fit(None, _data(), run_dir=tmp_path / "b", checkpoint_at="end", callbacks=[end], **OPTIONS)
    assert every.steps == [4, 8, 12] and end.steps == [12]
    (only,) = list_checkpoints(tmp_path / "b" / "checkpoints")
    assert load_checkpoint(only)["counters"]["step"] == 12
    for name, p in a.model.state_dict().items():       # the same training, fewer files
        assert torch.equal(p, b.model.state_dict()[name])


def test_end_checkpoints_a_run_that_stops_early(tmp_path):
    class StopAtTwo(trainwell.Callback):
        def on_epoch_end(self, state):
            if state.epoch == 2:
                state.stop = "enough"

    count = Count()
    trainwell.fit(None, _data(), run_dir=tmp_path / "r", checkpoint_at="end", callbacks=[StopAtTwo(), count],
                  **{**OPTIONS, "epochs": 5})
    assert count.steps == [8]


def test_a_run_killed_before_its_end_resumes_from_its_start(tmp_path, crash_at):
    with pytest.raises(crash_at.error):
        trainwell.fit(None, _data(), run_dir=tmp_path / "r", checkpoint_at="end", callbacks=[crash_at(9)], **OPTIONS)
    saved = tmp_path / "r" / "checkpoints"
    assert not saved.exists() or not list_checkpoints(saved)
    with pytest.warns(UserWarning, match="no usable checkpoint"):
        resumed = trainwell.fit(None, _data(), run_dir=tmp_path / "r", checkpoint_at="end", resume=True, **OPTIONS)
    whole = trainwell.fit(None, _data(), **OPTIONS)
    assert resumed.results["steps"] == 12
    for name, p in whole.model.state_dict().items():
        assert torch.equal(p, resumed.model.state_dict()[name])


def test_end_with_checkpoint_every_is_refused():
    with pytest.raises(ConfigError, match=r"checkpoint_every = 5 with checkpoint_at = \"end\""):
        trainwell.fit(None, _data(), checkpoint_at="end", checkpoint_every=5, **OPTIONS)
    with pytest.raises(ConfigError, match="checkpoint_at"):
        trainwell.fit(None, _data(), checkpoint_at="never", **OPTIONS)


def test_unsynced_writes_whole_files_without_fsync(tmp_path, monkeypatch):
    import trainwell.train.rundir as rundir
    calls = []
    monkeypatch.setattr(rundir.os, "fsync", lambda fd: calls.append(fd))
    with unsynced():
        atomic_write_text(tmp_path / "a.txt", "new")
        trainwell.fit(None, _data(), run_dir=tmp_path / "r", **OPTIONS)
    assert calls == [] and (tmp_path / "a.txt").read_text() == "new"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    with pytest.raises(ZeroDivisionError), unsynced():
        1 / 0
    atomic_write_text(tmp_path / "b.txt", "synced")      # outside again (after an error, too)
    assert len(calls) == 2                               # the file and its directory
