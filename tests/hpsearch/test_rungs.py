"""``rungs``: asynchronous promotion over the first stages, then coarse-to-fine stages: the fine
stage starts after every rung trial, narrows around the draws as ``next_space`` says, re-evaluates
the best draws no rung promoted, and the best trial compares a rung's full runs with the fine
stage's; bad settings name the key; a stopped search resumes where it was."""
import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

import trainwell
from trainwell.errors import ConfigError
from trainwell.hpsearch import study as study_module
from trainwell.hpsearch.results import best_of
from trainwell.hpsearch.space import space_from_dict
from trainwell.hpsearch.stages import next_space

FIT = dict(device="cpu", batch_size=64, babysit="watch", preprocess=["standardize"], progress=False)
DATA = {"source": "spirals", "samples_per_class": 60}
MODEL = {"type": "mlp", "widths": [16]}
SPACE = {"lr": {"low": 1e-3, "high": 1.0}, "model.dropout": {"low": 0.0, "high": 0.5}}
STAGES = [{"trials": 9, "epochs": 1}, {"trials": 3}, {"trials": 4}]


def _search(tmp_path, name, *, resume=False, **table):
    # random draws in every stage (not the default's TPE in the fine stage): these tests are about
    # the plan of the stages, and random values of this space train without a prune
    table = {"pruner": "none", "eta": 3, "rungs": 2, "stages": STAGES, "reevaluate": 3, "sampler": "random",
             **table}
    return trainwell.search(MODEL, None, space=SPACE, epochs=3, data=DATA, resume=resume,
                            search={"dir": str(tmp_path / name), **table}, **FIT)


def _stage(study_dir, index) -> optuna.Study:
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(study_dir / "study.journal")))
    return optuna.load_study(study_name=f"trainwell/stage-{index}", storage=storage)


def test_the_fine_stage_follows_the_rungs_narrowed_around_the_draws(tmp_path):
    result = _search(tmp_path, "s")
    draws, rung, fine = (_stage(result.study_dir, i) for i in range(3))
    assert [len(s.trials) for s in (draws, rung, fine)] == [9, 3, 4]     # 9 // 3 = 3 promotions: the cap
    assert all(t.state == TrialState.COMPLETE for s in (draws, rung, fine) for t in s.trials)
    # the fine stage starts once every rung trial has ended
    last_rung = max(t.datetime_complete for s in (draws, rung) for t in s.trials)
    assert min(t.datetime_start for t in fine.trials) >= last_rung
    # its ranges: next_space of the draws' space around the draws, best first (an independent call)
    ranked = sorted(draws.trials, key=lambda t: (t.value, t.number))
    expected, _ = next_space(space_from_dict(draws.user_attrs["space"]), [t.params for t in ranked],
                             {"model": MODEL, "epochs": 3}, keep=3)
    assert space_from_dict(fine.user_attrs["space"]) == expected
    assert fine.user_attrs["epochs"] == rung.user_attrs["epochs"] == 3 and draws.user_attrs["epochs"] == 1
    # it re-evaluates the best draws the rung has not promoted (those inside its ranges), first
    promoted = {t.user_attrs["reevaluates"] for t in rung.trials}
    left = [t for t in ranked if t.number not in promoted][:3]
    inside = [t.number for t in left if all(p.low <= t.params[k] <= p.high for k, p in expected.items())]
    reevaluated = [t.user_attrs.get("reevaluates") for t in sorted(fine.trials, key=lambda t: t.number)]
    assert reevaluated[:len(inside)] == inside and not set(reevaluated) & promoted
    assert all(r is None for r in reevaluated[len(inside):])
    for t in fine.trials:
        assert all(p.low <= t.params[k] <= p.high for k, p in expected.items())
    # the best trial: of the rung's full runs and the fine stage's, not of the 1-epoch draws
    full = [t for s in (rung, fine) for t in s.trials]
    assert result.best_value == min(t.value for t in full)


def test_without_rungs_every_stage_is_a_rung(tmp_path):
    result = _search(tmp_path, "s", rungs=None, stages=[{"trials": 9, "epochs": 1}, {"trials": 2}])
    rung = _stage(result.study_dir, 1)
    assert all("reevaluates" in t.user_attrs for t in rung.trials) and len(rung.trials) == 2


@pytest.mark.parametrize("table, message", [
    ({"eta": None}, r"search.rungs = 2: rungs are the stages of asynchronous promotion; set eta too"),
    ({"rungs": 4}, r"search.rungs = 4: more than the 3 stages"),
    ({"rungs": 1}, r"search.rungs = 1: must be >= 2"),
])
def test_bad_rungs_name_the_key(tmp_path, table, message):
    with pytest.raises(ConfigError, match=message):
        _search(tmp_path, "bad", **table)


def test_a_search_stopped_in_the_fine_stage_resumes_where_it_was(tmp_path, monkeypatch):
    class Stopped(Exception):
        pass

    shown = {"n": 0}

    def show(self, final=False):
        shown["n"] += not final
        if shown["n"] == 2:           # the fine stage's second trial has ended
            raise Stopped

    monkeypatch.setattr(study_module.ProgressLine, "show", show)
    monkeypatch.setattr(study_module.RungsLine, "show", lambda self, final=False: None)
    with pytest.raises(Stopped):
        _search(tmp_path, "s")
    monkeypatch.undo()
    plan = dict(_stage(tmp_path / "s", 2).user_attrs)
    done = _search(tmp_path, "s", resume=True)
    assert [r["stage"] for r in done.trials].count(3) == 4
    assert [r["stage"] for r in done.trials].count(1) == 9 and [r["stage"] for r in done.trials].count(2) == 3
    assert _stage(tmp_path / "s", 2).user_attrs["space"] == plan["space"]
    fresh = _search(tmp_path, "fresh")
    # what ran before the stop is kept as it was: the rungs and the fine stage's first two trials
    ran = 9 + 3 + 2
    assert [(r["stage"], r["value"]) for r in done.trials][:ran] == [(r["stage"], r["value"]) for r in fresh.trials][:ran]
    space = space_from_dict(plan["space"])
    assert all(p.low <= r[k] <= p.high
               for r in done.trials if r["stage"] == 3 for k, p in space.items())


LR = FloatDistribution(1e-3, 1.0, log=True)


def _study(epochs, values):
    study = optuna.create_study(direction="minimize")
    study.set_user_attr("epochs", epochs)
    for i, v in enumerate(values):
        study.add_trial(create_trial(value=v, params={"lr": 0.01 * (i + 1)}, distributions={"lr": LR}))
    return study


def test_the_best_trial_compares_stages_of_as_many_epochs_only():
    short, rung, fine = _study(1, [0.01]), _study(10, [0.2, 0.1]), _study(10, [0.3, 0.15])
    index, trial = best_of([short, rung, fine], maximize=False)
    assert (index, trial.value) == (1, 0.1)                # the rung's full run beats the fine stage's
    index, trial = best_of([short, _study(5, [0.1]), fine], maximize=False)
    assert (index, trial.value) == (2, 0.15)               # fewer epochs do not compare
    index, trial = best_of([_study(10, [0.15]), fine], maximize=False)
    assert index == 1                                      # a tie: the later stage
    index, trial = best_of([short, rung, _study(10, [])], maximize=False)
    assert (index, trial.value) == (1, 0.1)                # the last stage with a finished trial


def test_early_promotions_of_one_epoch_draws_with_the_median_pruner(tmp_path):
    # the tenth pass's candidates (BENCHMARKS.md): ASHA's early promotions of one-epoch draws under
    # the default's median pruner with prune_at_end = false. Every draw keeps its one epoch's value
    # (none is pruned, so each ranks); with one worker the first full run starts as soon as eta
    # draws have finished, long before the draws end, and every promotion is of a draw in the top
    # floor(n / eta) of the n draws finished when it went up (ASHA: a new best goes up at once, so a
    # rung may take more than floor(n / eta) by then); the fine stage follows every rung trial
    stages = [{"trials": 12, "epochs": 1}, {"trials": 3}, {"trials": 2}]
    result = _search(tmp_path, "s", pruner="median", prune_at_end=False, eta=4, stages=stages)
    draws, rung, fine = (_stage(result.study_dir, i) for i in range(3))
    assert all(t.state == TrialState.COMPLETE for t in draws.trials) and len(draws.trials) == 12
    assert len(rung.trials) == 3 and len(fine.trials) == 2
    promotions = sorted(rung.trials, key=lambda t: t.datetime_start)
    assert sum(t.datetime_complete <= promotions[0].datetime_start for t in draws.trials) == 4
    for promotion in promotions:
        before = [t for t in draws.trials if t.datetime_complete <= promotion.datetime_start]
        place = sorted(before, key=lambda t: (t.value, t.number)).index(
            next(t for t in before if t.number == promotion.user_attrs["reevaluates"]))
        assert place < len(before) // 4
    assert min(t.datetime_start for t in fine.trials) >= max(t.datetime_complete for t in rung.trials)
