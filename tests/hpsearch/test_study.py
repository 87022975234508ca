"""Running a search: samplers with seeds, stages re-running the best first, folds, resume,
dead trials failed and retried once, every trial a run directory."""
import csv
import gc
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pytest
import torch
from optuna.trial import TrialState

import trainwell
import trainwell.train.callbacks
from trainwell.cli import main
from trainwell.errors import ConfigError
from trainwell.hpsearch.samplers import SAMPLERS
import trainwell.hpsearch.study as study_module
from trainwell.hpsearch.settings import parse_settings
from trainwell.hpsearch.study import HOST, WORKER_PRELOAD, Context, counted, recover, worker_start
from trainwell.train.checkpoint import list_checkpoints, load_checkpoint
from trainwell.train.run import load_run

import search_job  # beside this file: pytest puts the folder on sys.path

FIT = dict(device="cpu", epochs=2, batch_size=256, babysit="off", preprocess=["standardize"])
SPACE = {"lr": {"low": 1e-3, "high": 0.3}, "model.widths": {"choices": [[8], [16]]}}
SPACE_LR = {"lr": {"low": 1e-3, "high": 0.3}}


def _search(tmp_path, name="s", **table):
    return trainwell.search({"type": "mlp", "widths": [8]}, "digits", space=SPACE, progress=False,
                            search={"dir": str(tmp_path / name), "pruner": "none", **table}, **FIT)


def _rows(study_dir):
    with open(study_dir / "trials.csv") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_every_sampler_runs_in_the_space(tmp_path, sampler):
    result = _search(tmp_path, sampler=sampler, trials=2, seed=7)
    assert len(result.trials) == 2 and all(r["state"] == "complete" for r in result.trials)
    assert all(1e-3 <= r["lr"] <= 0.3 and r["model.widths"] in ("[8]", "[16]") for r in result.trials)


def test_a_seed_repeats_the_values(tmp_path):
    a = _search(tmp_path, "a", trials=2, seed=7)
    b = _search(tmp_path, "b", trials=2, seed=7)
    c = _search(tmp_path, "c", trials=2, seed=8)
    assert [r["lr"] for r in a.trials] == [r["lr"] for r in b.trials] != [r["lr"] for r in c.trials]


def test_each_trial_is_a_run_directory_and_best_toml_trains_as_it_is(tmp_path, monkeypatch):
    result = _search(tmp_path, trials=3)
    for row in _rows(result.study_dir):
        run = load_run(row["run_dir"])
        assert run.config["lr"] == pytest.approx(float(row["lr"]))
    monkeypatch.chdir(tmp_path)
    assert main(["fit", str(result.study_dir / "best.toml"), "--quiet", "--set", "run_dir=r"]) == 0
    assert load_run(tmp_path / "r").config["lr"] == pytest.approx(result.best_params["lr"])


def test_a_later_stage_reruns_the_best_earlier_configurations_first(tmp_path):
    result = _search(tmp_path, stages=[{"trials": 5, "epochs": 1}, {"trials": 3, "epochs": 2}], reevaluate=2)
    first = sorted((r for r in result.trials if r["stage"] == 1), key=lambda r: r["value"])  # val_loss
    second = [r for r in result.trials if r["stage"] == 2]
    assert [r["lr"] for r in second[:2]] == [r["lr"] for r in first[:2]]
    assert [r["reevaluates"] for r in second[:2]] == [r["trial"] for r in first[:2]]
    assert all(r["epochs"] == 2 for r in second) and len(second) == 3


def test_folds_train_every_fold_and_report_mean_and_spread(tmp_path):
    result = _search(tmp_path, trials=2, folds=3)
    for row in result.trials:
        assert len(eval(row["fold_values"])) == 3
        assert row["value"] == pytest.approx(sum(eval(row["fold_values"])) / 3)
        assert row["fold_std"] is not None
    assert (result.study_dir / "trials" / "1-0000" / "fold-2" / "results.json").exists()


def test_resume_keeps_the_finished_trials_and_completes_the_study(tmp_path):
    first = _search(tmp_path, trials=2)
    with pytest.raises(ConfigError, match="already holds a search"):
        _search(tmp_path, trials=2)
    more = trainwell.search({"type": "mlp", "widths": [8]}, "digits", space=SPACE, progress=False, resume=True,
                            search={"dir": str(first.study_dir), "pruner": "none", "trials": 4}, **FIT)
    assert [r["lr"] for r in more.trials[:2]] == [r["lr"] for r in first.trials]
    assert len(more.trials) == 4 and len({r["lr"] for r in more.trials}) == 4   # new values, no repeats


def test_a_dead_trial_is_failed_and_retried_once():
    study = optuna.create_study()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    trial = study.ask({"lr": optuna.distributions.FloatDistribution(1e-3, 1.0)})
    trial.set_user_attr("worker", {"host": HOST, "pid": int(dead)})
    assert counted(study) == 1
    assert recover(study) == [0]
    assert study.trials[0].state == TrialState.FAIL and counted(study) == 0
    retry = study.ask()                                  # the enqueued retry comes first
    retry.suggest_float("lr", 1e-3, 1.0)
    assert retry.params["lr"] == trial.params["lr"] and retry.user_attrs["retry_of"] == 0
    retry.set_user_attr("worker", {"host": HOST, "pid": int(dead)})
    assert recover(study) == [1] and counted(study) == 1   # a retry that died too is not retried again
    assert len(study.get_trials(states=(TrialState.WAITING,))) == 0


def _note_and_meet(notes: Path, *, wait_s: float = 120.0) -> None:
    """Note this process's pid and what it had imported, then wait until two processes have noted
    (the search's own process, worker 0, and a forked worker): so both run a trial, however short."""
    with open(notes / f"{os.getpid()}.txt", "a") as f:
        f.write(" ".join([trainwell.__file__, *(str(m in sys.modules) for m in WORKER_PRELOAD)]) + "\n")
    deadline = time.monotonic() + wait_s
    while len(list(notes.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)


def _meeting_factory():
    """A model factory that notes, in each worker, what it had imported before its first fit, and
    waits for the other worker (``_note_and_meet``); the same fresh weights every call."""
    _note_and_meet(Path(os.environ["TRAINWELL_TEST_NOTES"]))
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(64, 8), torch.nn.ReLU(), torch.nn.Linear(8, 10))


def _notes(tmp_path) -> dict:
    return {int(p.stem): p.read_text().split("\n")[0].split() for p in (tmp_path / "notes").iterdir()}


def test_two_workers_share_the_study_without_overshoot(tmp_path, monkeypatch):
    """Worker 0 is this process; worker 1 is forked. Each runs trials, none twice, no overshoot;
    this process's torch threads are its own again after its trials."""
    (tmp_path / "notes").mkdir()
    monkeypatch.setenv("TRAINWELL_TEST_NOTES", str(tmp_path / "notes"))
    torch.set_num_threads(2)
    try:
        result = trainwell.search(_meeting_factory, "digits", space=SPACE_LR, progress=False,
                                  search={"dir": str(tmp_path / "s"), "pruner": "none", "trials": 4,
                                          "stages": [{"trials": 4}], "workers": 2, "threads": 1}, **FIT)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)          # conftest's
    assert sorted(r["trial"] for r in result.trials) == [0, 1, 2, 3]
    assert all(r["state"] == "complete" for r in result.trials)
    study = optuna.load_study(study_name="trainwell/stage-0", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(result.study_dir / "study.journal"))))
    pids = {t.user_attrs["worker"]["pid"] for t in study.trials}
    assert os.getpid() in pids and len(pids) == 2              # this process and a forked worker
    assert len({t.params["lr"] for t in study.trials}) == 4    # their samplers draw apart


def _dying_factory():
    """Worker 0 (the test's process) trains; the forked worker, after meeting it, dies by SIGKILL
    in its first trial (once: a marker file)."""
    notes = Path(os.environ["TRAINWELL_TEST_NOTES"])
    _note_and_meet(notes)
    if os.getpid() != int(os.environ["TRAINWELL_TEST_COORDINATOR"]) and not (notes.parent / "died").exists():
        (notes.parent / "died").write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return torch.nn.Sequential(torch.nn.Linear(64, 8), torch.nn.ReLU(), torch.nn.Linear(8, 10))


LINUX_STARTS = ["fork", "forkserver"] if sys.platform.startswith("linux") else ["spawn"]


@pytest.mark.parametrize("start", LINUX_STARTS)
def test_a_forked_worker_killed_mid_trial_loses_no_trial(tmp_path, monkeypatch, capsys, start):
    """kill -9 of worker 1 during its trial: the stage still ends with its 3 finished trials, the
    dead trial failed and retried once with the same values, nothing run twice besides it;
    worker 1 forked from this process (worker 0) or from the forkserver."""
    monkeypatch.setattr(study_module, "worker_start", lambda ctx: start)
    (tmp_path / "notes").mkdir()
    monkeypatch.setenv("TRAINWELL_TEST_NOTES", str(tmp_path / "notes"))
    monkeypatch.setenv("TRAINWELL_TEST_COORDINATOR", str(os.getpid()))
    result = trainwell.search(_dying_factory, "digits", space=SPACE_LR, progress=True,
                              search={"dir": str(tmp_path / "s"), "pruner": "none", "stages": [{"trials": 3}],
                                      "workers": 2, "threads": 1}, **FIT)
    states = [r["state"] for r in result.trials]
    assert states.count("complete") == 3 and states.count("fail") == 1
    failed = next(r for r in result.trials if r["state"] == "fail")
    retry = next(r for r in result.trials if r["retry_of"] is not None)
    assert retry["retry_of"] == failed["trial"] and retry["lr"] == failed["lr"] and retry["state"] == "complete"
    lrs = [r["lr"] for r in result.trials if r["state"] == "complete"]
    assert len(set(lrs)) == 3
    assert f"(pid {(tmp_path / 'died').read_text()}) exited with status -9" in capsys.readouterr().err


@pytest.mark.parametrize("start", LINUX_STARTS)
def test_a_worker_trains_as_this_process_does_and_starts_with_the_imports_loaded(tmp_path, monkeypatch, start):
    """Workers 1.. are forked from this process (worker 0) or from a server that only imported
    (study.py): a trial there ends with the same weights, to the bit, as the same fit in this
    process (worker 0); each forked worker's first trial finds WORKER_PRELOAD loaded (this
    trainwell, not another install), and the coordinator's environment (set after the server
    started)."""
    monkeypatch.setattr(study_module, "worker_start", lambda ctx: start)
    (tmp_path / "notes").mkdir()
    monkeypatch.setenv("TRAINWELL_TEST_NOTES", str(tmp_path / "notes"))
    result = trainwell.search(_meeting_factory, "digits", space={"lr": {"choices": [0.05]}}, progress=False,
                              search={"dir": str(tmp_path / "s"), "pruner": "none", "stages": [{"trials": 3}],
                                      "workers": 2, "threads": 1}, **FIT)
    notes = _notes(tmp_path)
    forked = {pid: v for pid, v in notes.items() if pid != os.getpid()}
    assert os.getpid() in notes and len(forked) == 1
    assert all(v[0] == trainwell.__file__ and set(v[1:]) == {"True"} for v in forked.values())   # this trainwell
    here = trainwell.fit(_meeting_factory(), "digits", lr=0.05, progress=False, **FIT)   # one thread (conftest)
    assert len(result.trials) == 3
    for row in result.trials:
        run = load_run(row["run_dir"], model=_meeting_factory())
        assert run.results["val"]["acc"] == here.results["val"]["acc"]
        for name, tensor in here.model.state_dict().items():
            assert torch.equal(run.model.state_dict()[name], tensor), name


def _context(**search) -> Context:
    return Context(None, "digits", {}, parse_settings({"space": SPACE_LR, **search}, {}), Path("."))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and forkserver are Linux's here")
def test_workers_are_forked_from_worker_0_only_when_that_is_safe(monkeypatch):
    """fork from this process: one torch thread a worker, no other Python thread, no CUDA; else
    the forkserver. The pytest worker may still hold a thread of an earlier test (one run in 3
    full suites read a second thread here): the first checks read this process as having none,
    and the last starts a thread of its own."""
    monkeypatch.setattr(study_module.threading, "active_count", lambda: 1)
    assert worker_start(_context(workers=2, threads=1)) == "fork"
    assert worker_start(_context(workers=2, threads=2)) == "forkserver"       # OpenMP in a forked child
    monkeypatch.setattr(study_module.os, "cpu_count", lambda: 2)
    assert worker_start(_context(workers=2)) == "fork"                       # 2 CPUs / 2 workers: 1 thread
    monkeypatch.setattr(study_module.os, "cpu_count", lambda: 16)
    assert worker_start(_context(workers=2)) == "forkserver"
    monkeypatch.setattr(study_module.torch.cuda, "is_initialized", lambda: True)
    assert worker_start(_context(workers=2, threads=1)) == "forkserver"
    monkeypatch.undo()
    monkeypatch.setattr(study_module.torch.cuda, "is_initialized", lambda: False)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert worker_start(_context(workers=2, threads=1)) == "forkserver"   # a thread's locks in a fork
    finally:
        release.set()
        other.join()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is Linux's here")
def test_when_the_fork_fails_worker_0_runs_the_stage_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(study_module, "worker_start", lambda ctx: "fork")

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    result = trainwell.search({"type": "mlp", "widths": [8]}, "digits", space=SPACE_LR, progress=True,
                              search={"dir": str(tmp_path / "s"), "pruner": "none", "stages": [{"trials": 3}],
                                      "workers": 2, "threads": 1}, **FIT)
    assert [r["state"] for r in result.trials] == ["complete"] * 3
    study = optuna.load_study(study_name="trainwell/stage-0", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(result.study_dir / "study.journal"))))
    assert {t.user_attrs["worker"]["pid"] for t in study.trials} == {os.getpid()}
    assert "the worker processes did not start (BlockingIOError" in capsys.readouterr().err


def test_workers_need_a_picklable_model(tmp_path):
    with pytest.raises(ConfigError, match="must be picklable"):
        trainwell.search(lambda: torch.nn.Linear(64, 10), "digits", space=SPACE_LR, progress=False,
                         search={"dir": str(tmp_path / "s"), "workers": 2, "trials": 2}, **FIT)


def test_model_keys_need_a_config_built_model(tmp_path):
    with pytest.raises(ConfigError, match=r"search.space.model.widths: the model is given as a Linear"):
        trainwell.search(torch.nn.Linear(64, 10), "digits", space=SPACE, progress=False,
                         search={"dir": str(tmp_path / "s")}, **FIT)
    assert not (tmp_path / "s").exists()


def test_a_trial_without_a_heartbeat_is_dead_even_if_its_pid_lives(monkeypatch):
    import trainwell.hpsearch.study as study_module
    study = optuna.create_study()
    trial = study.ask()
    trial.set_user_attr("worker", {"host": HOST, "pid": 1})       # pid 1 lives (reused, say)
    trial.set_user_attr("heartbeat", 1000.0)
    monkeypatch.setattr(study_module.time, "time", lambda: 1000.0 + study_module.GRACE_S - 1)
    assert recover(study) == []
    monkeypatch.setattr(study_module.time, "time", lambda: 1000.0 + study_module.GRACE_S + 1)
    assert recover(study) == [0]


def _fsynced_paths(monkeypatch):
    """Record the path of every fsync'd descriptor (Linux: /proc/self/fd)."""
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc/self/fd to name an fsync'd file")
    paths, real = [], os.fsync

    def record(fd):
        paths.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)
    monkeypatch.setattr(os, "fsync", record)
    return paths


def test_trials_write_one_checkpoint_and_no_fsync_by_default(tmp_path, monkeypatch):
    paths = _fsynced_paths(monkeypatch)
    result = _search(tmp_path, trials=3)
    trials_dir = str(result.study_dir / "trials")
    assert not [p for p in paths if p.startswith(trials_dir)]
    journal = [p for p in paths if p.endswith("study.journal")]
    assert 1 <= len(journal) <= 3       # the stage's plan and the worker's end (+ one per SYNC_S)
    # the files derived from the journal are not fsynced (--resume writes them again); search.toml is
    names = [os.path.basename(p) for p in paths]
    assert not [n for n in names if n.startswith((".trials.csv", ".best.toml", ".report.html"))]
    assert [n for n in names if n.startswith(".search.toml")]
    assert (result.study_dir / "trials.csv").exists() and (result.study_dir / "report.html").exists()
    for row in result.trials:
        (only,) = list_checkpoints(f"{row['run_dir']}/checkpoints")
        assert load_checkpoint(only)["counters"]["epoch"] == FIT["epochs"]


def test_sync_trials_and_epoch_checkpoints_are_options(tmp_path, monkeypatch):
    paths = _fsynced_paths(monkeypatch)
    result = _search(tmp_path, trials=2, sync_trials=True, trial_checkpoints="epochs")
    assert [p for p in paths if p.startswith(str(result.study_dir / "trials"))]
    for row in result.trials:
        assert len(list_checkpoints(f"{row['run_dir']}/checkpoints")) == 2    # keep_checkpoints
    with pytest.raises(ConfigError, match=r"search.trial_checkpoints = \"end\" with checkpoint_every"):
        trainwell.search({"type": "mlp", "widths": [8]}, "digits", space=SPACE, progress=False,
                         checkpoint_every=3, search={"dir": str(tmp_path / "c")}, **FIT)


def test_the_first_trial_runs_the_configs_own_values(tmp_path):
    result = _search(tmp_path, trials=3, seed=3, config_first=True)
    first = result.trials[0]
    assert first["from_config"] is True and first["lr"] == 0.05 and first["model.widths"] == "[8]"
    assert all(r["from_config"] is None for r in result.trials[1:])
    plain = _search(tmp_path, "plain", trials=2, seed=3)
    assert [r["lr"] for r in result.trials[1:]] == [r["lr"] for r in plain.trials]   # then the same draws
    grid = _search(tmp_path, "grid", trials=2, sampler="grid", config_first=True)
    assert all(r["from_config"] is None for r in grid.trials)


KILLED_CONFIG = """
device = "cpu"
epochs = 20
batch_size = 32
babysit = "off"
preprocess = ["standardize"]
[model]
type = "mlp"
widths = [8]
[search]
trials = 2
pruner = "none"
[search.space]
lr = {low = 1e-3, high = 0.3}
"""


def test_a_search_killed_with_sigkill_continues_on_resume(tmp_path, forked):
    """kill -9 of a one-worker search mid-trial, then --resume: the finished trials are kept, the
    killed one is failed and run again once from its start, the stage ends with its 2 trials.
    (Batch 32: a trial of ~0.7 s, so a loaded machine's polling does not miss the second one.)
    The search is the command's ``cli.main`` in a process of its own (``forked``: no interpreter
    start to pay), killed by SIGKILL."""
    config, study_dir, err = tmp_path / "s.toml", tmp_path / "study", tmp_path / "search.err"
    config.write_text(KILLED_CONFIG)
    proc = forked.Process(target=search_job.main,
                          args=(["search", str(config), "--dir", str(study_dir), "--quiet"], str(err)))
    proc.start()
    journal = study_dir / "study.journal"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.is_alive():
        time.sleep(0.05)
        text = journal.read_text() if journal.exists() else ""
        if text.count('"state":1') >= 1 and text.count('"op_code":4') >= 2:   # one told, a second asked
            break
    assert proc.is_alive(), err.read_text() if err.exists() else f"exit status {proc.exitcode}"
    proc.kill()
    proc.join()
    assert proc.exitcode == -signal.SIGKILL
    assert main(["search", "--resume", str(study_dir), "--quiet"]) == 0
    rows = _rows(study_dir)
    states = [r["state"] for r in rows]
    assert states.count("complete") == 2 and states.count("fail") == 1
    failed = next(r for r in rows if r["state"] == "fail")
    retry = next(r for r in rows if r["retry_of"])
    assert int(retry["retry_of"]) == int(failed["trial"]) and float(retry["lr"]) == float(failed["lr"])
    assert load_run(retry["run_dir"]).results["epochs"] == 20


def test_by_default_a_search_is_coarse_then_fine(tmp_path):
    result = _search(tmp_path, trials=9, seed=1)
    stages = [(r["stage"], r["epochs"]) for r in result.trials]
    assert stages == [(1, 1)] * 6 + [(2, 2)] * 3          # 2/3 at epochs/5 (at least 1), then the rest
    assert all(r["from_config"] is None for r in result.trials)
    assert all(r["reevaluates"] is not None for r in result.trials[6:])    # the best coarse ones again


def test_loading_an_existing_stage_appends_nothing_to_the_journal(tmp_path):
    # a create on Optuna's journal storage logs a record even when the study exists (then fails on
    # replay); each worker loads every stage, so load_stage must not create what is there
    from trainwell.hpsearch.settings import parse_settings
    from trainwell.hpsearch.study import Context, load_stage, open_storage
    base = {"model": {"type": "mlp", "widths": [8]}, **FIT}
    settings = parse_settings({"space": SPACE_LR, "dir": str(tmp_path / "s")}, base)
    ctx = Context(model=None, data=None, base=base, settings=settings, study_dir=tmp_path / "s")
    ctx.study_dir.mkdir()
    storage = open_storage(settings, ctx.study_dir)
    first = load_stage(ctx, storage, 0)
    journal = ctx.study_dir / "study.journal"
    size = journal.stat().st_size
    again = load_stage(ctx, storage, 0)
    assert again._study_id == first._study_id and journal.stat().st_size == size
    assert again.direction == first.direction


def test_worker_0_uses_the_coordinators_storage_and_summing_up_reads_each_trial_once(tmp_path, monkeypatch):
    """A second storage in the calling process would read and replay every journal record again;
    trials.csv's rows read the stage's attributes once, not once a trial (each read copies them)."""
    opened, reads = [], []
    real_open = study_module.open_storage
    monkeypatch.setattr(study_module, "open_storage", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    real_attrs = optuna.Study.user_attrs.fget
    monkeypatch.setattr(optuna.Study, "user_attrs", property(lambda self: reads.append(1) or real_attrs(self)))
    result = _search(tmp_path, trials=4, stages=[{"trials": 4}])
    assert len(opened) == 1       # the coordinator's: worker 0 and the report used it
    assert len(result.trials) == 4 and len(_rows(result.study_dir)) == 4
    from trainwell.hpsearch.report import load_studies
    from trainwell.hpsearch.results import trial_rows
    _, studies = load_studies(result.study_dir)
    reads.clear()
    assert len(trial_rows(studies)) == 4 and len(reads) == 1


def test_the_report_imports_nothing_after_worker_0s_preload(tmp_path, forked):
    """What worker 0 imports while the other workers end their last trials (``_preload_report``) is
    all the report imports: after it (and the workers' own preload), drawing report.html loads no
    module of matplotlib, Optuna's importance evaluators or scikit-learn's forests (report.py's own
    import is a few ms). In a process of its own (``forked``), whose server must not have loaded
    any of those modules already (it would hide their import)."""
    out, err = tmp_path / "modules.json", tmp_path / "search.err"
    proc = forked.Process(target=search_job.report_imports,
                          args=(LATE_REPORT_IMPORTS, SPACE, str(tmp_path / "s"), str(out), str(err)))
    proc.start()
    proc.join()
    assert proc.exitcode == 0, err.read_text() if err.exists() else f"exit status {proc.exitcode}"
    seen = json.loads(out.read_text())
    assert seen["at_start"] == []
    assert (tmp_path / "s" / "report.html").exists()
    assert seen["late"] == []


LATE_REPORT_IMPORTS = ("matplotlib", "optuna.importance", "sklearn.ensemble")


FROZEN_AT_START: list = []        # the gc.freeze count at each trial's start (a callback's copy writes here)


class _FrozenCount(trainwell.train.callbacks.Callback):
    def on_fit_start(self, state):
        FROZEN_AT_START.append(gc.get_freeze_count())


def test_a_search_freezes_the_long_lived_objects_and_gives_them_back(tmp_path):
    """Trials run with the objects alive at the search's start frozen (out of the full
    collections), and those the first trial made (its imports) too; at the end every frozen
    object goes back to the collector: a reference cycle alive through the search (frozen) and
    dropped after it is collected."""
    import weakref

    class Node:
        pass

    FROZEN_AT_START.clear()
    cycle = Node()
    cycle.me = cycle
    alive = weakref.ref(cycle)
    trainwell.search({"type": "mlp", "widths": [8]}, "digits", space=SPACE, progress=False,
                     search={"dir": str(tmp_path / "s"), "pruner": "none", "stages": [{"trials": 3}]},
                     callbacks=[_FrozenCount()], **FIT)
    assert len(FROZEN_AT_START) == 3 and FROZEN_AT_START[0] > 10_000
    assert FROZEN_AT_START[1] > FROZEN_AT_START[0]           # what the first trial left, frozen after it
    assert gc.get_freeze_count() == 0
    del cycle
    assert alive() is not None
    gc.collect()
    assert alive() is None


def test_a_process_that_froze_objects_keeps_them_frozen(tmp_path):
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        _search(tmp_path, trials=1, stages=[{"trials": 1}])
        # a frozen object whose last reference goes leaves the permanent generation (one run lost 0.6 %
        # of them while the search ran): the search must not unfreeze them all (which leaves 0)
        assert gc.get_freeze_count() >= 0.95 * frozen
    finally:
        gc.unfreeze()


def test_an_lr_scan_runs_lr_alone_then_narrows_it_and_keeps_the_other_ranges(tmp_path):
    from trainwell.hpsearch.space import parse_space
    from trainwell.hpsearch.stages import next_space
    result = _search(tmp_path, trials=15, lr_scan=True, pruner="median", metric="val_acc")
    rows = _rows(result.study_dir)
    scan, rest = ([r for r in rows if r["stage"] == str(i)] for i in (1, 2))
    assert (len(scan), len(rest)) == (6, 9)
    # a log grid of 2 points a decade over [1e-3, 0.3], every point finished (no pruner), the
    # other option at the config's value (no column value; the run's config holds widths [8])
    grid = [1e-3 * (300 ** (k / 5)) for k in range(6)]
    assert sorted(float(r["lr"]) for r in scan) == pytest.approx(grid)
    assert all(r["state"] == "complete" and r["model.widths"] == "" and r["epochs"] == "1" for r in scan)
    assert all("widths = [\n    8,\n]" in (Path(r["run_dir"]) / "config.toml").read_text() for r in scan)
    # then the full epochs: lr in the range next_space gives around the scan's best, widths whole,
    # no scan point re-evaluated
    best = sorted(scan, key=lambda r: -float(r["value"]))
    space = parse_space(SPACE_LR, {})
    narrowed, _ = next_space(space, [{"lr": float(r["lr"])} for r in best], {})
    assert all(narrowed["lr"].low <= float(r["lr"]) <= narrowed["lr"].high for r in rest)
    assert narrowed["lr"].high / narrowed["lr"].low < 0.3 / 1e-3
    assert all(r["model.widths"] in ("[8]", "[16]") and r["epochs"] == "2" and r["reevaluates"] == "" for r in rest)
    report = (result.study_dir / "report.html").read_text()
    assert "lr alone, the rest at the config&#x27;s values" in report and "against model.widths" in report
