"""Promotion by resuming: a paused trial continued by a later stage ends bit-identical (CPU) to a
fresh run of the full schedule, trains only its remaining epochs, and falls back to training
from scratch (to the same result) when the paused trial's files are gone."""
import json
from pathlib import Path

import pytest
import torch

import trainwell
from trainwell.errors import ConfigError
from trainwell.hpsearch.promotion import Pause, Unpause, copy_run, paused_epoch, promotable
from trainwell.train.run import load_run

FIT = dict(device="cpu", batch_size=64, babysit="watch", preprocess=["standardize"], lr=0.05,
           checkpoint_at="end", progress=False)
DATA = {"source": "spirals", "samples_per_class": 60}     # small, with a validation split
MODEL = {"type": "mlp", "widths": [16], "dropout": 0.2}    # dropout: the RNG must resume exactly too


def _same_run(a, b):
    """Equal weights and equal per-epoch metrics (wall seconds apart)."""
    strip = [[{k: v for k, v in m.items() if k != "seconds"} for m in run.history] for run in (a, b)]
    assert strip[0] == strip[1]
    assert all(torch.equal(x, y) for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values()))
    assert a.results["val"] == b.results["val"]


def test_a_paused_run_continued_elsewhere_ends_as_a_fresh_full_run(tmp_path, blobs):
    paused = trainwell.fit(MODEL, blobs, run_dir=str(tmp_path / "a"), epochs=5, callbacks=[Pause(2)], **FIT)
    assert len(paused.history) == 2 and paused_epoch(tmp_path / "a") == 2 and not paused.stopped.failed
    copy_run(tmp_path / "a", tmp_path / "b")
    resumed = trainwell.fit(MODEL, blobs, run_dir=str(tmp_path / "b"), epochs=5, resume=True,
                            callbacks=[Unpause()], **FIT)
    fresh = trainwell.fit(MODEL, blobs, run_dir=str(tmp_path / "c"), epochs=5, **FIT)
    _same_run(resumed, fresh)
    assert paused_epoch(tmp_path / "b") is None          # it ran to its end: nothing left to promote
    assert len((tmp_path / "b" / "metrics.jsonl").read_text().splitlines()) == 5
    assert len(paused.history) == 2 and len(load_run(tmp_path / "a").history) == 2   # the source is untouched
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        copy_run(tmp_path / "nothing", tmp_path / "d")


def _search(tmp_path, name, **table):
    space = {"lr": {"low": 1e-2, "high": 0.3}}
    return trainwell.search(MODEL, None, space=space, epochs=4, data=DATA,
                            search={"dir": str(tmp_path / name), "pruner": "none", "promote": "resume",
                                    "reevaluate": 2, "stages": [{"trials": 3, "epochs": 1},
                                                                {"trials": 3, "epochs": 2}, {"trials": 2}],
                                    **table},
                            **{k: v for k, v in FIT.items() if k not in ("lr", "checkpoint_at")})


def _journal_outcomes(study_dir: Path) -> dict:
    import optuna
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(study_dir / "study.journal")))
    return {t.user_attrs["outcome"]["run_dir"]: t.user_attrs["outcome"]
            for s in optuna.get_all_study_summaries(storage, include_best_trial=False)
            for t in optuna.load_study(study_name=s.study_name, storage=storage).get_trials()}


def test_a_search_promotes_by_resuming_through_three_stages(tmp_path):
    result = _search(tmp_path, "s")
    outcomes = _journal_outcomes(result.study_dir)
    rows = {(r["stage"], r["trial"]): r for r in result.trials}
    promoted = [r for r in result.trials if outcomes[r["run_dir"]]["promoted_from"]]
    assert {r["stage"] for r in promoted} == {2, 3} and all(r["reevaluates"] is not None for r in promoted)
    for row in promoted:                           # each continues its stage's re-evaluated trial
        source = outcomes[row["run_dir"]]["promoted_from"]
        assert source == rows[(row["stage"] - 1, row["reevaluates"])]["run_dir"] == row["promoted_from"]
        lines = (Path(row["run_dir"]) / "metrics.jsonl").read_text().splitlines()
        assert [json.loads(x)["epoch"] for x in lines] == list(range(1, row["epochs"] + 1))
    for row in result.trials:                      # every trial: the 4-epoch schedule, paused at its stage's
        assert load_run(row["run_dir"]).config["epochs"] == 4
    final = [r for r in promoted if r["stage"] == 3][0]
    fresh = trainwell.fit(MODEL, None, epochs=4, data=DATA, lr=final["lr"],
                          **{k: v for k, v in FIT.items() if k != "lr"})
    _same_run(load_run(final["run_dir"]), fresh)
    assert final["value"] == fresh.results["val"]["loss"]      # the search's metric: the monitor, val_loss


def test_a_promotion_without_the_paused_run_trains_from_scratch_to_the_same_value(tmp_path, monkeypatch):
    import trainwell.hpsearch.study as study_module
    kept = _search(tmp_path, "kept")
    monkeypatch.setattr(study_module, "promotable", lambda *a: False)    # as if the files were lost
    lost = _search(tmp_path, "lost")
    assert [r["value"] for r in lost.trials] == [r["value"] for r in kept.trials]
    assert not any(o["promoted_from"] for o in _journal_outcomes(lost.study_dir).values())
    assert any(o["promoted_from"] for o in _journal_outcomes(kept.study_dir).values())


def test_each_fold_of_a_promoted_trial_continues_its_own_fold(tmp_path, monkeypatch):
    import trainwell.hpsearch.study as study_module
    table = dict(folds=2, reevaluate=1, stages=[{"trials": 2, "epochs": 1}, {"trials": 1}])
    kept = _search(tmp_path, "kept", **table)
    promoted = [r for r in kept.trials if _journal_outcomes(kept.study_dir)[r["run_dir"]]["promoted_from"]]
    assert len(promoted) == 1
    for fold in (0, 1):
        lines = (Path(promoted[0]["run_dir"]) / f"fold-{fold}" / "metrics.jsonl").read_text().splitlines()
        assert [json.loads(x)["epoch"] for x in lines] == [1, 2, 3, 4]
    monkeypatch.setattr(study_module, "promotable", lambda *a: False)
    lost = _search(tmp_path, "lost", **table)
    assert [(r["value"], r["fold_values"]) for r in lost.trials] == [(r["value"], r["fold_values"]) for r in kept.trials]


def test_promotable_needs_every_fold_paused_before_the_stage(tmp_path, blobs):
    for fold in (0, 1):
        trainwell.fit(MODEL, blobs, run_dir=str(tmp_path / "t" / f"fold-{fold}"), epochs=3,
                      callbacks=[Pause(1 + fold)], **FIT)
    assert promotable(tmp_path / "t", 2, 3) and not promotable(tmp_path / "t", 2, 2)
    assert not promotable(tmp_path / "t", 3, 3)            # fold-2 is missing
    assert not promotable(tmp_path / "t" / "fold-0", None, 1)


def test_promote_is_validated(tmp_path):
    with pytest.raises(ConfigError, match=r"search.promote = 'continue'.*allowed: resume, retrain"):
        _search(tmp_path, "bad", promote="continue")
