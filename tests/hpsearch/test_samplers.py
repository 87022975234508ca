"""The samplers: Sobol covers the space more evenly than random draws, TPE seeded with the previous
stage's trials starts where they point, and the default method (and staged_tpe) is reproducible
with its seed and resumable across its stages."""
import math

import numpy as np
import optuna
import pytest
from scipy.stats import qmc

import trainwell
from trainwell.hpsearch import study as study_module
from trainwell.hpsearch.samplers import PRIOR_MAX, SeededTPE, make_sampler, prior_rows
from trainwell.hpsearch.settings import parse_settings
from trainwell.hpsearch.space import distributions, parse_space
from trainwell.hpsearch.stages import default_stages

BASE = {"model": {"type": "mlp", "widths": [8]}}
SPACE = parse_space({"lr": {"low": 1e-4, "high": 1.0}, "model.dropout": {"low": 0.0, "high": 0.5}}, BASE)
FIT = dict(device="cpu", epochs=2, batch_size=256, babysit="off", preprocess=["standardize"])
SEARCH_SPACE = {"lr": {"low": 1e-3, "high": 0.3}, "model.widths": {"choices": [[8], [16]]}}


def _points(sampler, n: int) -> np.ndarray:
    """``n`` draws of SPACE mapped to the unit square (lr on its log scale)."""
    study = optuna.create_study(sampler=sampler)
    out = []
    for _ in range(n):
        trial = study.ask()
        lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
        dropout = trial.suggest_float("model.dropout", 0.0, 0.5)
        study.tell(trial, 0.0)
        out.append([(math.log10(lr) + 4) / 4, dropout / 0.5])
    return np.array(out)


def test_sobol_covers_the_space_more_evenly_than_random_draws():
    # centered L2 discrepancy (scipy): lower is more even; the first trial of Optuna's QMC sampler
    # is an independent draw, the next 31 the scrambled Sobol points
    for seed in range(3):
        sobol = qmc.discrepancy(_points(make_sampler("qmc", SPACE, seed=seed, grid_points=2), 32))
        rand = qmc.discrepancy(_points(make_sampler("random", SPACE, seed=seed, grid_points=2), 32))
        assert sobol < 0.5 * rand, (seed, sobol, rand)


def _prior(n_good=8, n_bad=24, seed=0):
    rng = np.random.default_rng(seed)
    good = [{"params": {"lr": float(10 ** rng.uniform(-2.2, -1.8)), "model.dropout": float(rng.uniform(0, 0.5))},
             "value": 0.9} for _ in range(n_good)]
    bad = [{"params": {"lr": float(10 ** rng.uniform(-4, 0)), "model.dropout": float(rng.uniform(0, 0.5))},
            "value": 0.1} for _ in range(n_bad)]
    return good + bad


def test_seeded_tpe_starts_where_the_previous_stage_pointed():
    outside = [{"params": {"lr": 5.0, "model.dropout": 0.1}, "value": 1.0},      # beyond this stage's range
               {"params": {"lr": 1e-2}, "value": 1.0}]                          # a parameter missing
    sampler = SeededTPE(SPACE, _prior() + outside, seed=0)
    assert len(sampler.prior) == 32
    study = optuna.create_study(direction="maximize", sampler=sampler)
    lrs = []
    for _ in range(20):
        trial = study.ask()
        lrs.append(trial.suggest_float("lr", 1e-4, 1.0, log=True))
        trial.suggest_float("model.dropout", 0.0, 0.5)
        study.tell(trial, 0.1)
    # the good prior trials sit in a fifth of a decade around 1e-2 of the range's four decades: TPE
    # samples near them from its first trial on (a uniform draw on the log scale lands within half a
    # decade 25 % of the time: 10 or more of 20 has a chance of 1.4 %)
    near = sum(abs(math.log10(lr) + 2) < 0.5 for lr in lrs)
    assert near >= 10, lrs


def test_a_stage_plan_keeps_the_best_prior_trials_up_to_the_cap():
    dist = {"lr": optuna.distributions.FloatDistribution(1e-4, 1.0, log=True)}
    ranked = [optuna.trial.create_trial(params={"lr": 1e-3}, distributions=dist, value=1 - i / 1000)
              for i in range(PRIOR_MAX + 50)]
    rows = prior_rows(ranked)
    assert len(rows) == PRIOR_MAX and rows[0] == {"params": {"lr": 1e-3}, "value": 1.0}
    assert [r["value"] for r in rows] == sorted((r["value"] for r in rows), reverse=True)


def test_staged_tpe_is_sobol_in_the_first_stage_and_seeded_tpe_later():
    assert isinstance(make_sampler("staged_tpe", SPACE, seed=0, grid_points=2), optuna.samplers.QMCSampler)
    later = make_sampler("staged_tpe", SPACE, seed=0, grid_points=2, prior=_prior())
    assert isinstance(later, SeededTPE) and len(later.prior) == 32


def test_random_tpe_draws_the_default_random_values_first_and_seeded_tpe_later():
    first = make_sampler("random_tpe", SPACE, seed=5, grid_points=2)
    random = make_sampler("random", SPACE, seed=5, grid_points=2)
    dists = distributions(SPACE)
    drawn = []
    for sampler in (first, random):
        study = optuna.create_study(sampler=sampler)
        drawn.append([study.ask(dists).params for _ in range(4)])
    assert drawn[0] == drawn[1]
    later = make_sampler("random_tpe", SPACE, seed=0, grid_points=2, prior=_prior())
    assert isinstance(later, SeededTPE) and len(later.prior) == 32


def _search(tmp_path, name, seed=3, resume=False, **table):
    return trainwell.search({"type": "mlp", "widths": [8]}, "digits", space=SEARCH_SPACE, progress=False,
                            resume=resume, search={"dir": str(tmp_path / name), "seed": seed, **table}, **FIT)


def _values(result):
    return [(r["stage"], r["lr"], r["model.widths"]) for r in result.trials]


SAMPLER = [{}, {"sampler": "staged_tpe"}, {"sampler": "random_tpe"}]     # the default (random), the seeded TPEs


@pytest.mark.parametrize("sampler", SAMPLER)
def test_the_default_method_is_reproducible_with_its_seed(tmp_path, sampler):
    a, b, c = (_search(tmp_path, name, seed=seed, trials=9, **sampler)
               for name, seed in (("a", 3), ("b", 3), ("c", 4)))
    plan = default_stages(9, FIT["epochs"])
    assert [r["stage"] for r in a.trials] == [1] * plan[0].trials + [2] * plan[1].trials
    assert _values(a) == _values(b) != _values(c)


@pytest.mark.parametrize("sampler", SAMPLER)
def test_a_partly_done_default_search_resumes_where_it_stopped(tmp_path, monkeypatch, sampler):
    plan = default_stages(9, FIT["epochs"])
    stop_after = plan[0].trials + 1          # the coarse stage and one fine trial

    class Stopped(Exception):
        pass

    shown = {"n": 0}

    def show(self, final=False):
        shown["n"] += not final
        if shown["n"] == stop_after:
            raise Stopped

    monkeypatch.setattr(study_module.ProgressLine, "show", show)
    with pytest.raises(Stopped):
        _search(tmp_path, "s", trials=9, **sampler)
    monkeypatch.undo()
    before = _fine_plan(tmp_path)
    done = _search(tmp_path, "s", trials=9, resume=True, **sampler)
    assert [r["stage"] for r in done.trials] == [1] * plan[0].trials + [2] * plan[1].trials
    assert all(r["state"] in ("complete", "pruned") for r in done.trials)
    fresh = _search(tmp_path, "fresh", trials=9, **sampler)
    # what ran before the stop is kept as it was: the coarse stage and the first fine trial
    assert _values(done)[:stop_after] == _values(fresh)[:stop_after]
    # the fine stage kept its plan: its ranges and the coarse trials it starts from (all of them)
    assert _fine_plan(tmp_path) == before and 0 < len(before["prior"]) <= plan[0].trials
    space = before["space"]["lr"]
    assert all(space["low"] <= r["lr"] <= space["high"] for r in done.trials if r["stage"] == 2)


def _fine_plan(tmp_path) -> dict:
    storage = study_module.open_storage(_settings(tmp_path), tmp_path / "s")
    attrs = optuna.load_study(study_name="trainwell/stage-1", storage=storage).user_attrs
    return {key: attrs[key] for key in ("space", "prior", "epochs", "trials")}


def _settings(tmp_path):
    return parse_settings({"space": SEARCH_SPACE, "dir": str(tmp_path / "s")}, {**FIT, **BASE})


def test_staged_tpe_runs_with_the_hyperband_pruner(tmp_path):
    # Optuna's Hyperband pruner hands samplers a per-bracket view of the study (no user attributes):
    # the sampler gets its stage's plan when it is built, not from the study it is given
    result = _search(tmp_path, "hb", pruner="hyperband", sampler="staged_tpe",
                     stages=[{"trials": 4, "epochs": 1}, {"trials": 3}])
    assert [r["stage"] for r in result.trials] == [1] * 4 + [2] * 3
    assert all(r["state"] in ("complete", "pruned") for r in result.trials)


def test_seeded_tpe_models_from_d_plus_one_prior_trials():
    # seven prior trials of two parameters, the best at lr 1e-2 and the others decades away: BOHB's
    # d + 1 = 3 reached, TPE models from its first draw (under Optuna's default of 10 start-up
    # trials it drew its first three at random: the random sampler's values for the same seed)
    dists = distributions(SPACE)
    near = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        prior = [{"params": {"lr": 1e-2, "model.dropout": 0.25}, "value": 0.9}] + [
            {"params": {"lr": float(10 ** x), "model.dropout": float(rng.uniform(0, 0.5))}, "value": 0.1}
            for x in (-4, -3.5, -3, -1, -0.5, 0)]
        study = optuna.create_study(direction="maximize", sampler=SeededTPE(SPACE, prior, seed=seed))
        random = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
        drawn = [study.ask(dists).params["lr"] for _ in range(5)]
        assert drawn != [random.ask(dists).params["lr"] for _ in range(5)]
        near += sum(abs(math.log10(lr) + 2) < 0.5 for lr in drawn)
    # a uniform draw on the log scale of four decades lands within half a decade of 1e-2 25 % of
    # the time: 12.5 of 50 expected, 25 or more has a chance of about 1e-4
    assert near >= 25, near


def test_a_seeded_tpe_below_d_plus_one_trials_draws_at_random():
    sampler = SeededTPE(SPACE, _prior(n_good=2, n_bad=0), seed=0)
    random = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    dists = distributions(SPACE)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    assert study.ask(dists).params == random.ask(dists).params


def test_narrow_false_keeps_the_first_stages_ranges_and_seeds_tpe_with_every_coarse_trial(tmp_path):
    stages = [{"trials": 6, "epochs": 1}, {"trials": 3}]
    kept = _search(tmp_path, "wide", narrow=False, sampler="random_tpe", stages=stages)
    narrowed = _search(tmp_path, "s", sampler="random_tpe", stages=stages)
    storage = study_module.open_storage(_settings(tmp_path), tmp_path / "wide")
    plans = [optuna.load_study(study_name=f"trainwell/stage-{i}", storage=storage).user_attrs for i in (0, 1)]
    assert plans[1]["space"] == plans[0]["space"] and plans[1]["messages"] == []
    coarse = [r for r in kept.trials if r["stage"] == 1 and r["state"] == "complete"]
    assert len(plans[1]["prior"]) == len(coarse) > 0
    # the coarse stage is the same draws; the fine stage re-evaluates its best first, as when narrowed
    assert _values(kept)[:6] == _values(narrowed)[:6]
    best = min(coarse, key=lambda r: r["value"])
    first_fine = next(r for r in kept.trials if r["stage"] == 2)
    assert (first_fine["lr"], first_fine["reevaluates"]) == (best["lr"], best["trial"])
    assert _fine_plan(tmp_path)["space"] != plans[0]["space"]      # the default narrows
