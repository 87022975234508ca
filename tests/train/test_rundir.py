"""The run directory: one process at a time holds its lock (two real processes), and every file
is written through a new temp file and an atomic rename, never through an existing path."""
import json
import os

import pytest
import torch

import trainwell
import trainwell.train.rundir as rundir
from trainwell.errors import ConfigError, DataError
from trainwell.train.metrics import read_metrics
from trainwell.train.metrics import MetricsLog
from trainwell.train.rundir import (LOCK_FILE, AppendFile, atomic_write, atomic_write_text, held_appends,
                                     lock_run_dir)

import holder_job  # beside this file: pytest puts the folder on sys.path

OPTIONS = dict(epochs=3, batch_size=16, report=False, progress=False, babysit="off")


def _data():
    X = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    return X, (X[:, 0] > 0).long()


def _start_holder(forked, run_dir):
    """A run in a process of its own (tests/train/holder_job.py) that holds ``run_dir``'s lock,
    paused after its first epoch; it goes on when the returned event is set."""
    paused, go = forked.Event(), forked.Event()
    proc = forked.Process(target=holder_job.main, args=(str(run_dir), paused, go))
    proc.start()
    assert paused.wait(timeout=120), "the holding run did not reach its first epoch end"
    return proc, go


def test_a_second_fit_into_a_running_run_dir_is_refused_with_the_holders_pid(tmp_path, forked):
    run_dir = tmp_path / "run"
    holder, go = _start_holder(forked, run_dir)
    try:
        with pytest.raises(ConfigError, match=rf"in use by another trainwell process \(pid {holder.pid}\)"):
            trainwell.fit(None, _data(), run_dir=str(run_dir), **OPTIONS)
        with pytest.raises(ConfigError, match=rf"pid {holder.pid}"):        # --resume of a running run
            trainwell.fit(None, _data(), run_dir=str(run_dir), resume=True, **OPTIONS)
        go.set()
        holder.join(timeout=120)
        assert holder.exitcode == 0
    finally:
        holder.kill()
    assert [r["epoch"] for r in read_metrics(run_dir)] == [1, 2, 3]   # not [1, 1, 2, 2, 3, ...]


@pytest.mark.filterwarnings("ignore:resume")
def test_a_killed_runs_lock_is_not_stale(tmp_path, forked):
    run_dir = tmp_path / "run"
    holder, _ = _start_holder(forked, run_dir)
    holder.kill()                                      # SIGKILL
    holder.join(timeout=60)
    run = trainwell.fit(None, _data(), run_dir=str(run_dir), resume=True, **OPTIONS)
    assert run.stopped.kind.value == "finished"
    assert [r["epoch"] for r in read_metrics(run_dir)] == [1, 2, 3]


def test_the_lock_is_released_when_the_run_ends(tmp_path):
    run_dir = tmp_path / "run"
    trainwell.fit(None, _data(), run_dir=str(run_dir), **OPTIONS)
    with lock_run_dir(run_dir):        # a finished (or failed) fit holds nothing
        pass
    with pytest.raises(ConfigError, match="already holds a run"):
        trainwell.fit(None, _data(), run_dir=str(run_dir), **OPTIONS)
    assert (run_dir / LOCK_FILE).exists()


def test_atomic_write_replaces_a_symlink_never_its_target(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "run").mkdir()
    link = tmp_path / "run" / "model.json"
    os.symlink(victim, link)
    atomic_write_text(link, "{}")
    assert victim.read_text() == "precious"
    assert not link.is_symlink() and link.read_text() == "{}"
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["model.json"]   # no temp left


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text("old\n")

    def fail(f):
        f.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(DataError, match=r"metrics\.jsonl: cannot write it \(No space left on device\)"):
        atomic_write(path, fail)
    assert path.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["metrics.jsonl"]
    with pytest.raises(DataError, match=r"nowhere.*cannot write it \(No such file or directory\)"):
        atomic_write_text(tmp_path / "nowhere" / "x.json", "{}")


def test_a_temp_file_is_created_exclusively_with_open_s_mode_and_a_taken_name_is_skipped(tmp_path, monkeypatch):
    """rundir._new_temp_fd: one exclusive open of a random name, mode 0666 less the umask (what
    open() gives a new file, as the files written before it did); a name already taken (a file or
    a planted symlink) is never opened: the next random name is; every name taken: FileExistsError."""
    fd = os.open(tmp_path / "plain", os.O_WRONLY | os.O_CREAT, 0o666)
    os.close(fd)
    atomic_write_text(tmp_path / "model.json", "{}")
    assert (tmp_path / "model.json").stat().st_mode == (tmp_path / "plain").stat().st_mode
    draws = iter([b"\x00" * 6, b"\x00" * 6, b"\x01" * 6])
    monkeypatch.setattr(rundir.os, "urandom", lambda n: next(draws))
    (tmp_path / ".x.000000000000.tmp").write_text("someone's")
    fd, temp = rundir._new_temp_fd(tmp_path, ".x.")
    os.close(fd)
    assert temp.name == ".x.010101010101.tmp" and temp.read_text() == ""
    assert (tmp_path / ".x.000000000000.tmp").read_text() == "someone's"
    monkeypatch.setattr(rundir.os, "urandom", lambda n: b"\x00" * n)
    with pytest.raises(FileExistsError, match="no unused temporary name"):
        rundir._new_temp_fd(tmp_path, ".x.")
    os.symlink(tmp_path / "target", tmp_path / ".y.000000000000.tmp")
    with pytest.raises(DataError, match=r"y: cannot write it"):
        rundir.atomic_write_text(tmp_path / "y", "{}")
    assert not (tmp_path / "target").exists()


def test_overwrite_starts_over_and_leaves_other_files_and_link_targets(tmp_path):
    # the README tour pasted twice: overwrite = true replaces the run instead of "already holds a run"
    run_dir = tmp_path / "run"
    trainwell.fit(None, _data(), run_dir=str(run_dir), **{**OPTIONS, "epochs": 3})
    (run_dir / "notes.txt").write_text("mine")
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (run_dir / "transfer.json").unlink(missing_ok=True)
    os.symlink(victim, run_dir / "transfer.json")          # a planted link among the run's names
    run = trainwell.fit(None, _data(), run_dir=str(run_dir), overwrite=True, **{**OPTIONS, "epochs": 1})
    assert [r["epoch"] for r in read_metrics(run_dir)] == [1] and len(run.history) == 1
    assert max(int(p.stem.split("-")[-1]) for p in (run_dir / "checkpoints").glob("*.json")) \
        == run.results["steps"]                             # no checkpoint of the old run is left
    assert (run_dir / "notes.txt").read_text() == "mine" and victim.read_text() == "precious"
    assert not (run_dir / "transfer.json").exists()
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["overwrite"] is False                      # a later --resume continues this run
    resumed = trainwell.fit(None, _data(), run_dir=str(run_dir), resume=True, **{**OPTIONS, "epochs": 1})
    assert resumed.results["steps"] == run.results["steps"]
    with pytest.raises(ConfigError, match="overwrite = true and resume = true: choose one"):
        trainwell.fit(None, _data(), run_dir=str(run_dir), resume=True, overwrite=True, **OPTIONS)


def test_json_text_reads_back_as_json_dumps_writes_it():
    from trainwell.train.rundir import json_text
    values = [{}, [], "x", {"a": 1, "b": [1, 2.5, {"c": None}], 3: "x", True: [], None: {"d": {"e": [True]}},
                            "é": "ü"}]
    for value in values:
        text = json_text(value)
        assert json.loads(text) == json.loads(json.dumps(value)) and text.endswith("\n")
    lines = json_text({"a": {"b": [1, 2]}, "c": 3}).splitlines()
    assert lines == ["{", '  "a": {"b": [1, 2]},', '  "c": 3', "}"]          # a key a line
    with pytest.raises(ValueError):
        json_text({"a": float("nan")}, allow_nan=False)


# ------------------------------------------------------------------ metrics.jsonl, appended
def _records_without_seconds(run_dir):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in read_metrics(run_dir)]


def test_metrics_jsonl_is_opened_once_for_a_run_and_closed_at_its_end(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    opened = []
    real_open = os.open

    def counting_open(path, flags, *args, **kwargs):
        if str(path).endswith("metrics.jsonl"):
            opened.append(flags)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", counting_open)
    trainwell.fit(None, _data(), run_dir=str(run_dir), **{**OPTIONS, "epochs": 5})
    monkeypatch.undo()
    # one open: the new run's empty file, created exclusively and kept for every epoch's line
    assert len(opened) == 1 and opened[0] & os.O_APPEND and opened[0] & os.O_EXCL
    assert opened[0] & getattr(os, "O_NOFOLLOW", 0) == getattr(os, "O_NOFOLLOW", 0)
    assert [r["epoch"] for r in read_metrics(run_dir)] == [1, 2, 3, 4, 5]
    if os.path.isdir("/proc/self/fd"):                # Linux: no descriptor of the file is left open
        targets = {os.path.realpath(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")}
        assert os.path.realpath(run_dir / "metrics.jsonl") not in targets


def test_held_appends_write_a_files_lines_once_when_it_is_closed(tmp_path, monkeypatch):
    writes = []
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: writes.append(bytes(data)) or real_write(fd, data))
    held_path, plain_path = tmp_path / "held.jsonl", tmp_path / "plain.jsonl"
    with held_appends():
        held = AppendFile(held_path)            # made inside the block: holds its lines
    plain = AppendFile(plain_path)
    for f in (held, plain):
        f.create()
        f.append(b"1\n")
        f.append(b"2\n")
    assert held_path.read_bytes() == b"" and plain_path.read_bytes() == b"1\n2\n"
    assert writes == [b"1\n", b"2\n"]           # the plain file's, one an append
    held.append(b"3\n")
    held.close()
    assert held_path.read_bytes() == b"1\n2\n3\n" and writes[2:] == [b"1\n2\n3\n"]   # one write
    held.close()
    assert held_path.read_bytes() == b"1\n2\n3\n"          # nothing written twice
    plain.close()


def test_held_metrics_lines_survive_a_replace_and_are_on_disk_after_the_run(tmp_path):
    """A rollback or a resume replaces metrics.jsonl: the held lines go first, then the file is
    the replacement; the lines appended after it are held again until the run ends."""
    with held_appends():
        log = MetricsLog(tmp_path)
    log.start()
    log.append({"epoch": 1})
    log.append({"epoch": 2})
    log.replace([{"epoch": 1}])                  # rolled back to epoch 1
    log.append({"epoch": 2, "again": True})
    assert read_metrics(tmp_path) == [{"epoch": 1}]
    log.close()
    assert read_metrics(tmp_path) == [{"epoch": 1}, {"epoch": 2, "again": True}]


def test_a_run_inside_held_appends_writes_metrics_jsonl_at_its_end(tmp_path):
    sizes = []

    class Size(trainwell.Callback):
        def on_epoch_end(self, state):
            sizes.append((state.run_dir / "metrics.jsonl").stat().st_size)

    reference = trainwell.fit(None, _data(), run_dir=str(tmp_path / "plain"), **{**OPTIONS, "device": "cpu"})
    with held_appends():
        run = trainwell.fit(None, _data(), run_dir=str(tmp_path / "held"), callbacks=[Size()],
                            **{**OPTIONS, "device": "cpu"})
    assert sizes == [0, 0, 0]                    # nothing on disk while the run trains
    assert _records_without_seconds(tmp_path / "held") == _records_without_seconds(tmp_path / "plain")
    assert [r["epoch"] for r in read_metrics(run.run_dir)] == [r["epoch"] for r in reference.history] == [1, 2, 3]


def test_a_resume_after_a_cut_off_last_line_rewrites_metrics_jsonl_whole(tmp_path):
    """What a kill -9 in the middle of an epoch's append leaves: the last line cut off and the
    newest checkpoint before it. The resumed run's metrics.jsonl is whole, every epoch once, the
    same as an uninterrupted run's (but for the epochs' seconds)."""
    options = {**OPTIONS, "epochs": 3, "device": "cpu", "keep_checkpoints": 3}
    ref = trainwell.fit(None, _data(), **options)
    run_dir = tmp_path / "cut"
    trainwell.fit(None, _data(), run_dir=str(run_dir), **options)
    # the run was killed while appending epoch 3: its checkpoint not written, its line cut off
    newest = max((run_dir / "checkpoints").glob("ckpt-*.json"))
    newest.unlink()
    text = (run_dir / "metrics.jsonl").read_text()
    (run_dir / "metrics.jsonl").write_text(text[: text.rindex("\n", 0, len(text) - 1) + 20])
    with pytest.warns(UserWarning, match="line 3 is cut off"):
        assert [r["epoch"] for r in read_metrics(run_dir)] == [1, 2]
    run = trainwell.fit(None, _data(), run_dir=str(run_dir), resume=True, **options)
    assert run.results["epochs"] == 3
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]     # every line whole
    assert _records_without_seconds(run_dir) == [{k: v for k, v in r.items() if k != "seconds"}
                                                 for r in ref.history]


def test_appending_to_metrics_jsonl_refuses_a_symlink_and_leaves_its_target(tmp_path):
    from trainwell.train.metrics import MetricsLog
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "run").mkdir()
    os.symlink(victim, tmp_path / "run" / "metrics.jsonl")
    log = MetricsLog(tmp_path / "run")
    with pytest.raises(DataError, match=r"metrics\.jsonl: cannot append to it .*symlink"):
        log.append({"epoch": 1})
    assert victim.read_text() == "precious\n"
    log.replace([{"epoch": 1}])                        # replacing swaps the link for a file
    log.append({"epoch": 2})
    log.close()
    assert victim.read_text() == "precious\n"
    assert [r["epoch"] for r in read_metrics(tmp_path / "run")] == [1, 2]
