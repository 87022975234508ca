"""Continuing a run that ended for more epochs (train/extend.py, fit(..., extend=True),
``trainwell fit --resume RUN --continue``)."""
import json
import math
import tomllib

import pytest
import torch
from torch import nn

import trainwell
from trainwell.cli import main
from trainwell.config import make_config
from trainwell.train.extend import ContinuedSchedule, continued_schedule

LR = 0.1
STEPS_PER_EPOCH = 10          # 150 samples in batches of 16


def _job(run_dir, callbacks=(), **extra):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(200, 5, generator=g)
    y = (X.sum(1) > 0).long()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2))
    options = dict(optimizer="sgd", lr=LR, momentum=0.9, schedule="cosine", epochs=4, batch_size=16,
                   run_dir=run_dir, report=False, progress=False, seed=1, device="cpu", babysit="off")
    options.update(extra)
    return trainwell.fit(model, (X[:150], y[:150]), val=(X[150:], y[150:]), callbacks=list(callbacks),
                         **options)


def _cosine(t, total):        # the notes' cosine, final = 0 (an independent reference)
    return 0.5 * (1 + math.cos(math.pi * min(t, total) / total))


def test_a_continued_cosine_run_keeps_its_past_and_restarts_over_the_added_epochs(tmp_path):
    first = _job(tmp_path / "r")
    run = _job(tmp_path / "r", resume=True, extend=True, epochs=7)
    assert [h["epoch"] for h in run.history] == list(range(1, 8))
    assert run.history[:4] == first.history                      # the past is kept as it was
    for h in run.history:             # state.lr at an epoch's end: the lr of its last step
        last = h["step"] - 1
        expected = _cosine(last, 40) if last < 40 else _cosine(last - 40, 70 - 40)
        assert h["lr"] == pytest.approx(LR * expected, rel=1e-9, abs=1e-12)
    assert run.history[4]["lr"] > run.history[1]["lr"] > run.history[3]["lr"]     # the restart: up again
    record = [{"epoch": 4, "step": 40, "total_steps": 40}]
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["continued"] == record and results["epochs"] == 7 and results["steps"] == 70
    saved = tomllib.loads((tmp_path / "r" / "config.toml").read_text())
    assert saved["continued"] == record and saved["epochs"] == 7
    assert saved["resume"] is False and saved["extend"] is False     # a later --resume only resumes


def test_a_continued_run_that_is_killed_resumes_exactly(tmp_path, crash_at):
    _job(tmp_path / "whole")
    whole = _job(tmp_path / "whole", resume=True, extend=True, epochs=7)
    _job(tmp_path / "cut")
    with pytest.raises(crash_at.error):
        _job(tmp_path / "cut", callbacks=[crash_at(44)], resume=True, extend=True, epochs=7)   # before a new checkpoint
    cut = _job(tmp_path / "cut", resume=True, epochs=7)            # the continued run's own options
    for a, b in zip(whole.model.state_dict().values(), cut.model.state_dict().values()):
        assert torch.equal(a, b)
    strip = lambda h: [{k: v for k, v in m.items() if k != "seconds"} for m in h]
    assert strip(whole.history) == strip(cut.history)


def test_a_killed_continuation_after_a_new_checkpoint_resumes_exactly(tmp_path, crash_at):
    _job(tmp_path / "whole")
    whole = _job(tmp_path / "whole", resume=True, extend=True, epochs=7)
    _job(tmp_path / "cut")
    with pytest.raises(crash_at.error):
        _job(tmp_path / "cut", callbacks=[crash_at(63)], resume=True, extend=True, epochs=7)
    cut = _job(tmp_path / "cut", resume=True, epochs=7)
    assert torch.equal(whole.model[0].weight, cut.model[0].weight)
    assert [h["lr"] for h in whole.history] == [h["lr"] for h in cut.history]


def test_a_run_continued_twice_restarts_at_each_and_a_plateau_schedule_continues(tmp_path):
    _job(tmp_path / "r", epochs=2)
    _job(tmp_path / "r", resume=True, extend=True, epochs=3)
    run = _job(tmp_path / "r", resume=True, extend=True, epochs=5)
    assert run.results["continued"] == [{"epoch": 2, "step": 20, "total_steps": 20},
                                        {"epoch": 3, "step": 30, "total_steps": 30}]
    last = run.history[-1]["step"] - 1
    assert run.history[-1]["lr"] == pytest.approx(LR * _cosine(last - 30, 20))
    plateau = {"name": "plateau", "patience": 1}
    _job(tmp_path / "p", epochs=2, schedule=plateau)
    assert len(_job(tmp_path / "p", resume=True, extend=True, epochs=4, schedule=plateau).history) == 4


def test_a_run_stopped_by_a_callback_is_continued(tmp_path):
    class StopAt2(trainwell.Callback):
        def on_epoch_end(self, state):
            if state.epoch == 2:
                state.stop = "enough for now"

    _job(tmp_path / "r", callbacks=[StopAt2()], epochs=10)
    run = _job(tmp_path / "r", resume=True, extend=True, epochs=12)
    assert run.results["continued"][0]["epoch"] == 2 and run.results["stop_kind"] == "finished"
    assert [h["epoch"] for h in run.history] == list(range(1, 13))


@pytest.mark.parametrize("options, message", [
    (dict(epochs=4), r"already trained 4 epochs \(40 steps\); set a larger length"),
    (dict(epochs=8, lr=0.5), r"only epochs and max_steps may change; lr differs"),
    (dict(epochs=8, max_steps=40), r"max_steps = 40 ends it sooner"),
])
def test_a_continuation_that_changes_more_than_the_length_is_refused(tmp_path, options, message):
    _job(tmp_path / "r")
    before = (tmp_path / "r" / "config.json").read_text()
    with pytest.raises(trainwell.ConfigError, match=message):
        _job(tmp_path / "r", resume=True, extend=True, **options)
    assert (tmp_path / "r" / "config.json").read_text() == before      # nothing recorded


def test_a_run_that_did_not_end_or_failed_is_not_continued(tmp_path, crash_at):
    with pytest.raises(crash_at.error):
        _job(tmp_path / "cut", callbacks=[crash_at(25)])
    with pytest.raises(trainwell.ConfigError, match=r"has not ended \(its newest checkpoint is at epoch 2 "
                                                    r"of 4\); resume it with --resume alone"):
        _job(tmp_path / "cut", resume=True, extend=True, epochs=8)
    _job(tmp_path / "nan", lr=1e6)                               # diverges
    with pytest.raises(trainwell.ConfigError, match=r"the run failed \(diverged"):
        _job(tmp_path / "nan", resume=True, extend=True, epochs=8, lr=1e6)
    with pytest.raises(trainwell.ConfigError, match="extend = true needs resume = true"):
        make_config({"extend": True, "run_dir": "x"})


def test_cli_continue(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text('data = {source = "moons", samples = 300}\nepochs = 2\n'
                                     'device = "cpu"\nrun_dir = "r"\nreport = false\nprogress = false\n')
    assert main(["fit", "c.toml"]) == 0
    assert main(["fit", "--resume", "r", "--continue", "--set", "epochs=3"]) == 0
    assert "stopped: finished all epochs" in capsys.readouterr().out
    assert len((tmp_path / "r" / "metrics.jsonl").read_text().splitlines()) == 3
    assert main(["fit", "c.toml", "--continue"]) == 2
    assert "--continue needs --resume RUN_DIR" in capsys.readouterr().err


def test_continued_schedule_segments():
    schedule = continued_schedule([{"epoch": 1, "step": 10, "total_steps": 20}], 30,
                                  lambda length: (lambda step: step / length))
    assert isinstance(schedule, ContinuedSchedule)
    assert [schedule(s) for s in (0, 9, 10, 29)] == [0.0, 9 / 20, 0.0, 19 / 20]
    assert continued_schedule([], 30, lambda length: length) == 30
