import random
import signal
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

import trainwell
from trainwell.train.state import StopKind

import resume_job  # beside this file: pytest puts the folder on sys.path


def _job(run_dir, callbacks=(), resume=False, **extra):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(200, 5, generator=g)
    y = (X.sum(1) > 0).long()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2))
    options = dict(optimizer="sgd", lr=0.1, momentum=0.9, schedule={"name": "plateau", "patience": 1},
                   epochs=5, batch_size=16, run_dir=run_dir, resume=resume, report=False,
                   progress=False, seed=1, patience=4, device="cpu")    # asserts CPU bit-exactness
    options.update(extra)
    return trainwell.fit(model, (X[:150], y[:150]), val=(X[150:], y[150:]), callbacks=list(callbacks),
                         **options)


@pytest.mark.parametrize("crash_step, every", [(23, 5), (26, None), (2, 5)])
def test_resume_after_a_crash_is_exact(tmp_path, crash_at, crash_step, every):
    whole = _job(tmp_path / "whole", checkpoint_every=every)
    with pytest.raises(crash_at.error):
        _job(tmp_path / "cut", callbacks=[crash_at(crash_step)], checkpoint_every=every)
    resumed = _job(tmp_path / "cut", resume=True, checkpoint_every=every)
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)
    strip = lambda h: [{k: v for k, v in m.items() if k != "seconds"} for m in h]
    assert strip(whole.history) == strip(resumed.history)
    lines = (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == len(whole.history)  # no duplicated epochs in the log


def test_resume_refuses_changed_options(tmp_path):
    _job(tmp_path / "r", epochs=1)
    with pytest.raises(trainwell.ConfigError, match="options differ.*lr"):
        _job(tmp_path / "r", resume=True, epochs=1, lr=0.5)


class StopAtEpoch(trainwell.Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, state):
        if state.epoch == self.epoch:
            state.stop = f"stopped by a callback at epoch {self.epoch}"


class CrashAtEnd(trainwell.Callback):
    """Dies after the last checkpoint, before fit writes the model and results."""

    def __init__(self, error):
        self.error = error

    def on_fit_end(self, state):
        raise self.error


@pytest.mark.parametrize("stopper", ["early_stopping", "callback"])
def test_a_stopped_run_resumes_stopped_without_an_extra_epoch(tmp_path, crash_at, stopper):
    options = dict(epochs=30, schedule="constant")
    if stopper == "early_stopping":
        options.update(patience=1)
    stops = [StopAtEpoch(3)] if stopper == "callback" else []
    whole = _job(tmp_path / "whole", callbacks=stops, **options)
    assert whole.stopped.kind in (StopKind.EARLY_STOPPING, StopKind.CALLBACK)
    assert whole.stopped.message.startswith(("early stopping", "stopped by a callback"))
    assert len(whole.history) < 30
    with pytest.raises(crash_at.error):
        _job(tmp_path / "cut", callbacks=[*stops, CrashAtEnd(crash_at.error)], **options)
    strip = lambda h: [{k: v for k, v in m.items() if k != "seconds"} for m in h]
    # the resumed run has no StopAtEpoch (callbacks may change): the saved stop alone ends it
    for _ in range(2):                       # resuming the finished run again changes nothing
        resumed = _job(tmp_path / "cut", resume=True, **options)
        assert resumed.stopped == whole.stopped
        assert strip(resumed.history) == strip(whole.history)
        for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values()):
            assert torch.equal(a, b)
        lines = (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()
        assert len(lines) == len(whole.history)


def _run(forked, run_dir, resume=False):
    """The job in a process of its own (``forked``: see tests/conftest.py); it writes ``start step
    N`` to ``run_dir``.out."""
    proc = forked.Process(target=resume_job.main, args=(str(run_dir), resume, f"{run_dir}.out"))
    proc.start()
    return proc


def _first_checkpoint(run_dir: Path, proc, timeout: float = 120.0) -> bool:
    """Wait until ``run_dir`` holds a committed checkpoint (a manifest); False if the process
    ended first."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if any((run_dir / "checkpoints").glob("ckpt-*.json")):
            return True
        if not proc.is_alive():
            return False
        time.sleep(0.01)
    raise TimeoutError(f"no checkpoint in {run_dir} after {timeout} s")


def test_kill_9_at_any_moment_then_resume_gives_bit_identical_weights(tmp_path, forked):
    """Each counted kill lands after the first checkpoint exists, at a random moment of the rest
    of the run (mid-epoch, mid-checkpoint, while writing the outputs); the resumed run must
    start from a checkpoint (step > 0) and end with the uninterrupted run's weights."""
    ref = tmp_path / "ref"
    proc = _run(forked, ref)
    t0 = time.perf_counter()
    assert _first_checkpoint(ref, proc)
    first = time.perf_counter() - t0
    proc.join(timeout=300)
    rest = time.perf_counter() - t0 - first         # from the first checkpoint to the end
    assert proc.exitcode == 0 and "start step 0" in Path(f"{ref}.out").read_text()
    expected = load_file(ref / "model.safetensors")
    rng = random.Random(0)
    killed, attempts = 0, 0
    while killed < 3 and attempts < 8:  # a kill that came after the run finished is retried
        attempts += 1
        run_dir = tmp_path / f"killed{attempts}"
        proc = _run(forked, run_dir)
        if not _first_checkpoint(run_dir, proc):
            proc.join(timeout=60)
            continue
        time.sleep(rng.uniform(0.0, 0.9) * rest)
        proc.kill()
        proc.join(timeout=60)
        if proc.exitcode != -signal.SIGKILL:
            continue
        killed += 1
        resumed = _run(forked, run_dir, resume=True)
        resumed.join(timeout=300)
        assert resumed.exitcode == 0
        out = Path(f"{run_dir}.out").read_text()
        start = int(out.split("start step ")[1].split()[0])
        assert start > 0, f"attempt {attempts}: the resumed run started from scratch"
        got = load_file(run_dir / "model.safetensors")
        assert got.keys() == expected.keys()
        for k in expected:
            assert torch.equal(got[k], expected[k]), (attempts, k)
    assert killed == 3
