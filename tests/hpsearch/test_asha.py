"""Asynchronous promotion (``eta``): which trial goes up a rung and when, an exact resume of a
promoted trial, two workers promoting each configuration once, and kill -9 then --resume."""
import csv
import json
import os
import signal
import time
from pathlib import Path

import optuna
import pytest
import torch
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

import trainwell
from trainwell.cli import main
from trainwell.errors import ConfigError
from trainwell.hpsearch.asha import promotion_due
from trainwell.hpsearch.samplers import SAMPLERS
from trainwell.hpsearch.study import HOST, RETRY_KEEPS, recover
from trainwell.train.run import load_run

import search_job  # beside this file: pytest puts the folder on sys.path

FIT = dict(device="cpu", batch_size=64, babysit="watch", preprocess=["standardize"], progress=False)
DATA = {"source": "spirals", "samples_per_class": 60}
MODEL = {"type": "mlp", "widths": [16], "dropout": 0.2}     # dropout: the RNG must resume exactly too
SPACE = {"lr": {"low": 1e-3, "high": 1.0}}
LR = FloatDistribution(1e-3, 1.0, log=True)


def _trial(number, value, state=TrialState.COMPLETE, **attrs):
    t = create_trial(state=state, value=value if state == TrialState.COMPLETE else None,
                     params={"lr": 0.01 * (number + 1)}, distributions={"lr": LR}, user_attrs=attrs)
    t.number = number
    return t


def _due(rungs, eta=3, maximize=False, caps=None):
    found = promotion_due(rungs, eta=eta, maximize=maximize, caps=caps or [0] + [99] * (len(rungs) - 1))
    return None if found is None else (found[0], found[1].number)


def test_a_trial_goes_up_once_it_is_in_the_top_1_over_eta_of_its_rung_so_far():
    rung0 = [_trial(0, 0.5), _trial(1, 0.3)]
    assert _due([rung0, []]) is None                         # floor(2 / 3) = 0: nobody yet
    rung0.append(_trial(2, 0.4))
    assert _due([rung0, []]) == (0, 1)                       # the best of three
    taken = [_trial(0, None, TrialState.RUNNING, reevaluates=1)]
    assert _due([rung0, taken]) is None                      # the top one is taken; the top is one
    rung0 += [_trial(3, 0.9), _trial(4, None, TrialState.PRUNED), _trial(5, 0.35)]
    assert _due([rung0, taken]) == (0, 5)                     # top floor(6/3) = 2: trials 1 and 5
    assert _due([rung0, taken], maximize=True) == (0, 3)      # the other direction: 3 then 0
    assert _due([rung0, taken], eta=2) == (0, 5)              # top 3: 1, 5, 2; the best not taken
    assert _due([rung0, taken], caps=[0, 1]) is None           # the rung's cap is reached
    failed = [_trial(0, None, TrialState.FAIL, reevaluates=1), _trial(1, None, TrialState.WAITING, reevaluates=1)]
    assert _due([rung0, failed]) == (0, 5)                   # a failed promotion and its retry: taken once


def test_a_higher_rung_promotes_first():
    rung0 = [_trial(i, 0.1 * (i + 1)) for i in range(12)]          # top floor(12/3) = 4: 0..3
    rung1 = [_trial(i, 0.5 - 0.1 * i, reevaluates=i) for i in range(3)]
    assert _due([rung0, rung1, []]) == (1, 2)                # rung 1's best goes to rung 2 first
    assert _due([rung0, rung1, [_trial(0, None, TrialState.RUNNING, reevaluates=2)]]) == (0, 3)


def test_a_dead_promotion_is_retried_as_the_same_promotion():
    study = optuna.create_study()
    study.enqueue_trial({"lr": 0.1}, user_attrs={"reevaluates": 4, "promotes": "/x/1-0004"})
    trial = study.ask({"lr": LR})
    trial.set_user_attr("worker", {"host": HOST, "pid": 2 ** 22 + 1})      # no such process
    assert recover(study) == [0]
    retry = study.get_trials(states=(TrialState.WAITING,))[0]
    assert {k: retry.user_attrs[k] for k in RETRY_KEEPS} == {"reevaluates": 4, "promotes": "/x/1-0004"}
    assert retry.user_attrs["retry_of"] == 0


def _stage(study_dir: Path, index: int) -> optuna.Study:
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(study_dir / "study.journal")))
    return optuna.load_study(study_name=f"trainwell/stage-{index}", storage=storage)


def _journal(study_dir: Path, index: int) -> list:
    return _stage(study_dir, index).get_trials()


def _search(tmp_path, name, *, promote="retrain", workers=1, model=MODEL, **table):
    stages = table.pop("stages", [{"trials": 9, "epochs": 1}, {"trials": 9, "epochs": 2}, {"trials": 2}])
    return trainwell.search(model, None, space=SPACE, epochs=4, data=DATA,
                            search={"dir": str(tmp_path / name), "pruner": "none", "eta": 3, "promote": promote,
                                    "stages": stages, "workers": workers, **table}, **FIT)


def _check_promotions(study_dir: Path, rungs: int, eta: int, *, one_worker: bool) -> None:
    """Every promotion copies its source's values, no configuration goes up twice, every trial in
    the final top floor(n / eta) of a rung went up (unless the rung above is full); with one worker, each promotion's source was in
    the top floor(n / eta) of its rung's trials finished before the promotion started."""
    for k in range(rungs - 1):
        below, above = _journal(study_dir, k), _journal(study_dir, k + 1)
        runs = [t for t in above if t.state != TrialState.FAIL]
        sources = [t.user_attrs["reevaluates"] for t in runs]
        assert len(sources) == len(set(sources))
        done = sorted((t for t in below if t.state == TrialState.COMPLETE), key=lambda t: t.value)
        if len(sources) < _stage(study_dir, k + 1).user_attrs["trials"]:
            assert {t.number for t in done[:len(below) // eta]} <= set(sources)
        for t in runs:
            assert t.params == below[t.user_attrs["reevaluates"]].params
            if one_worker:
                before = [b for b in below if b.datetime_complete is not None
                          and b.datetime_complete <= t.datetime_start]
                top = sorted((b for b in before if b.state == TrialState.COMPLETE), key=lambda b: b.value)
                assert t.user_attrs["reevaluates"] in {b.number for b in top[:len(before) // eta]}


def test_a_search_promotes_as_soon_as_a_trial_ranks_and_interleaves_the_rungs(tmp_path):
    result = _search(tmp_path, "s")
    _check_promotions(result.study_dir, 3, 3, one_worker=True)
    order = sorted(((t.datetime_start, k) for k in range(3) for t in _journal(result.study_dir, k)))
    rungs = [k for _, k in order]
    assert rungs.index(1) == 3                      # the first promotion right after the third draw
    assert rungs.index(1) < len(rungs) - 1 - rungs[::-1].index(0)      # before the last draw
    assert sum(k == 0 for k in rungs) == 9 and sum(k == 2 for k in rungs) == 2     # the draws; rung 2's cap
    assert result.best_value == min(r["value"] for r in result.trials if r["stage"] == 3)


def test_a_promoted_trial_resumed_ends_as_a_fresh_full_run(tmp_path):
    result = _search(tmp_path, "s", promote="resume")
    top = [r for r in result.trials if r["stage"] == 3]
    assert top and all(r["promoted_from"] for r in top)
    final = top[0]
    lines = (Path(final["run_dir"]) / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2, 3, 4]
    fresh = trainwell.fit(MODEL, None, epochs=4, data=DATA, lr=final["lr"], **FIT)
    run = load_run(final["run_dir"])
    strip = [[{k: v for k, v in m.items() if k != "seconds"} for m in r.history] for r in (run, fresh)]
    assert strip[0] == strip[1]
    assert all(torch.equal(a, b) for a, b in zip(run.model.state_dict().values(), fresh.model.state_dict().values()))
    assert final["value"] == fresh.results["val"]["loss"]
    retrained = _search(tmp_path, "r")           # the same draws, every promotion trained from scratch
    assert [r["value"] for r in retrained.trials if r["stage"] == 3] == [r["value"] for r in top]


def _meeting_model():
    """A model factory whose first call in each process waits until two processes have called it
    (so both workers run trials, however short the trials)."""
    notes = Path(os.environ["TRAINWELL_TEST_NOTES"])
    (notes / str(os.getpid())).touch()
    deadline = time.monotonic() + 120
    while len(list(notes.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    return torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))


def test_two_workers_promote_each_configuration_once(tmp_path, monkeypatch):
    (tmp_path / "notes").mkdir()
    monkeypatch.setenv("TRAINWELL_TEST_NOTES", str(tmp_path / "notes"))
    result = _search(tmp_path, "s", workers=2, threads=1, model=_meeting_model,
                     stages=[{"trials": 12, "epochs": 1}, {"trials": 12, "epochs": 2}, {"trials": 12}])
    _check_promotions(result.study_dir, 3, 3, one_worker=False)
    pids = {t.user_attrs["worker"]["pid"] for k in range(3) for t in _journal(result.study_dir, k)}
    assert len(pids) == 2
    assert sum(r["stage"] == 1 for r in result.trials) == 12


def test_eta_needs_two_stages_and_is_at_least_2(tmp_path):
    with pytest.raises(ConfigError, match=r"search.eta = 3: asynchronous promotion needs at least two stages"):
        _search(tmp_path, "one", stages=[{"trials": 4}])
    with pytest.raises(ConfigError, match=r"search.eta = 1: must be >= 2"):
        _search(tmp_path, "low", eta=1)


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
eta = 2
pruner = "none"
stages = [{trials = 6, epochs = 4}, {trials = 6}]
[search.space]
lr = {low = 1e-3, high = 0.3}
"""


def test_a_search_with_eta_killed_with_sigkill_continues_on_resume(tmp_path, forked):
    """kill -9 of a one-worker search once a promotion has been asked for, then --resume: no draw
    or promotion lost or made twice, the killed trial failed and retried once with its values.
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
        if '"reevaluates"' in text:          # a promotion enqueued (and asked at once)
            break
    assert proc.is_alive(), err.read_text() if err.exists() else f"exit status {proc.exitcode}"
    time.sleep(0.2)
    proc.kill()
    proc.join()
    assert proc.exitcode == -signal.SIGKILL
    assert main(["search", "--resume", str(study_dir), "--quiet"]) == 0
    with open(study_dir / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    failed = [r for r in rows if r["state"] == "fail"]
    assert len(failed) <= 1                  # the killed trial, unless it had just finished
    for dead in failed:
        retry = next(r for r in rows if r["retry_of"] == dead["trial"] and r["stage"] == dead["stage"])
        assert retry["lr"] == dead["lr"] and retry["reevaluates"] == dead["reevaluates"]
    assert sum(r["stage"] == "1" and r["state"] == "complete" for r in rows) == 6
    _check_promotions(study_dir, 2, 2, one_worker=False)


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_every_sampler_draws_rung_0_and_promotes(tmp_path, sampler):
    result = trainwell.search({"type": "mlp", "widths": [8]}, "digits", progress=False,
                              space={"lr": {"low": 1e-3, "high": 0.3}, "model.widths": {"choices": [[8], [16]]}},
                              search={"dir": str(tmp_path / "s"), "pruner": "none", "eta": 2, "sampler": sampler,
                                      "stages": [{"trials": 6, "epochs": 1}, {"trials": 3}]},
                              device="cpu", epochs=2, batch_size=256, babysit="off", preprocess=["standardize"])
    assert [r["stage"] for r in result.trials].count(1) == 6
    assert [r["state"] for r in result.trials if r["stage"] == 2] == ["complete"] * 3     # the cap
    _check_promotions(result.study_dir, 2, 2, one_worker=True)


def test_each_fold_of_a_promotion_continues_its_own_fold(tmp_path):
    result = _search(tmp_path, "s", promote="resume", folds=2,
                     stages=[{"trials": 4, "epochs": 1}, {"trials": 1}])
    top = [r for r in result.trials if r["stage"] == 2]
    assert len(top) == 1 and top[0]["promoted_from"]
    for fold in (0, 1):
        lines = (Path(top[0]["run_dir"]) / f"fold-{fold}" / "metrics.jsonl").read_text().splitlines()
        assert [json.loads(x)["epoch"] for x in lines] == [1, 2, 3, 4]
