"""The study journal: Optuna's format (plain Optuna reads it), an flock lock one holder at a time,
and fsync by group commit (not per record)."""
import fcntl
import os

import optuna
import pytest
from optuna.storages.journal import JournalFileBackend

import trainwell.hpsearch.journal as journal
from trainwell.hpsearch.journal import FlockLock, StudyJournal, batched


def test_the_lock_has_one_holder_and_is_free_when_released(tmp_path):
    path = str(tmp_path / "study.journal")
    lock = FlockLock(path)
    assert lock.acquire()
    fd = os.open(path + ".lock", os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.release()
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)     # free now
    finally:
        os.close(fd)
    with pytest.raises(RuntimeError, match="released without being held"):
        lock.release()


def test_records_are_fsynced_by_group_commit_and_optuna_reads_them(tmp_path, monkeypatch):
    fsyncs = []
    monkeypatch.setattr(journal.os, "fsync", lambda fd: fsyncs.append(fd))
    now = [1000.0]
    monkeypatch.setattr(journal.time, "monotonic", lambda: now[0])
    path = str(tmp_path / "study.journal")
    storage = StudyJournal(path, shared=False)
    study = optuna.create_study(storage=storage, study_name="s")
    for x in (1.0, 2.0, 3.0):
        trial = study.ask()
        trial.suggest_float("x", 0, 10)
        trial.set_user_attr("worker", {"pid": 1})
        study.tell(trial, x)
    assert fsyncs == []                              # eleven records, no fsync yet
    assert storage.sync() is False                   # less than SYNC_S since the journal opened
    now[0] += journal.SYNC_S
    assert storage.sync() is True and len(fsyncs) == 1
    assert storage.sync(force=True) is False         # nothing new to sync
    study.tell(study.ask(), 4.0)
    assert storage.sync(force=True) is True and len(fsyncs) == 2
    plain = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path))
    again = optuna.load_study(study_name="s", storage=plain)
    assert [t.value for t in again.trials] == [1.0, 2.0, 3.0, 4.0]
    assert again.trials[0].user_attrs["worker"] == {"pid": 1}


def test_a_shared_journal_keeps_optunas_symlink_lock(tmp_path):
    shared = StudyJournal(str(tmp_path / "a.journal"), shared=True)
    local = StudyJournal(str(tmp_path / "b.journal"), shared=False)
    assert isinstance(shared.journal.lock, optuna.storages.journal.JournalFileSymlinkLock)
    assert isinstance(local.journal.lock, FlockLock)


def test_a_read_with_nothing_new_opens_nothing_and_another_writers_records_are_seen(tmp_path, monkeypatch):
    """The shortcut of GroupCommitBackend.read_logs: when the journal has not grown, nothing is
    read; when another storage (another worker) appended, its records are read as Optuna reads them."""
    path = str(tmp_path / "study.journal")
    mine, other = StudyJournal(path, shared=False), StudyJournal(path, shared=False)
    study = optuna.create_study(storage=mine, study_name="s")
    study.tell(study.ask(), 1.0)
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    assert [t.value for t in study.get_trials()] == [1.0] and opened == []       # nothing new: no read
    theirs = optuna.load_study(study_name="s", storage=other)
    theirs.tell(theirs.ask(), 2.0)
    assert [t.value for t in study.get_trials()] == [1.0, 2.0] and path in opened
    mine.journal.close()
    other.journal.close()


def test_a_processs_own_append_is_read_back_from_memory_as_optuna_reads_the_file(tmp_path, monkeypatch):
    """GroupCommitBackend.read_logs' second shortcut: when the journal grew only by this process's
    last append, its lines come from memory (no open), decoded as Optuna decodes the file (a tuple
    comes back a list), with Optuna's map of log numbers to byte offsets as its own read makes it;
    when another writer appended in between, the file is read and both writers' records are seen."""
    path = str(tmp_path / "study.journal")
    mine, other = StudyJournal(path, shared=False), StudyJournal(path, shared=False)
    study = optuna.create_study(storage=mine, study_name="s")
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    trial = study.ask()
    trial.suggest_float("lr", 1e-3, 1.0, log=True)
    trial.set_user_attr("outcome", {"fold_values": (0.5, 0.75), "seconds": 1.5})
    with batched(mine):             # two records, one append
        trial.set_user_attr("worker", {"pid": 7})
        study.tell(trial, 0.625)
    assert opened == []                              # every record of this process read from memory
    assert study.get_trials()[0].user_attrs == {"outcome": {"fold_values": [0.5, 0.75], "seconds": 1.5},
                                                "worker": {"pid": 7}}
    fresh = JournalFileBackend(path)                 # Optuna's reader of the whole file
    assert len(list(fresh.read_logs(0))) == 6       # the study, the trial, its param, 3 more
    assert mine.journal._log_number_offset == fresh._log_number_offset
    theirs = optuna.load_study(study_name="s", storage=other)
    assert theirs.get_trials()[0].user_attrs == study.get_trials()[0].user_attrs
    assert theirs.get_trials()[0].params == study.get_trials()[0].params
    theirs.tell(theirs.ask(), 2.0)                   # another writer's records, then this process's
    opened.clear()
    study.ask()
    assert path in opened                            # read from the file: not all of it is ours
    assert [(t.state.name, t.value) for t in study.get_trials()] == [("COMPLETE", 0.625), ("COMPLETE", 2.0),
                                                                      ("RUNNING", None)]
    fresh = JournalFileBackend(path)
    list(fresh.read_logs(0))
    assert mine.journal._log_number_offset == fresh._log_number_offset
    mine.journal.close()
    other.journal.close()
