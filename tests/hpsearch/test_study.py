"""Running a search: samplers with seeds, stages re-running the best first, folds, resume,
dead trials failed and retried once, every trial a run directory."""
import csv
import subprocess
import sys

import optuna
import pytest
import torch
from optuna.trial import TrialState

import trainwell
from trainwell.cli import main
from trainwell.errors import ConfigError
from trainwell.hpsearch.samplers import SAMPLERS
from trainwell.hpsearch.study import HOST, counted, recover
from trainwell.train.run import load_run

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


def test_two_workers_share_the_study_without_overshoot(tmp_path):
    result = _search(tmp_path, trials=4, workers=2, threads=1)
    assert sorted(r["trial"] for r in result.trials) == [0, 1, 2, 3]
    assert all(r["state"] == "complete" for r in result.trials)
    study = optuna.load_study(study_name="trainwell/stage-0", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(result.study_dir / "study.journal"))))
    pids = {t.user_attrs["worker"]["pid"] for t in study.trials}
    assert len(pids) == 2                                   # both workers ran trials


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
