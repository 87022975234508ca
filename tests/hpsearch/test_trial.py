"""One trial's parts: fresh weights for every trial, and the folds of data given as arrays."""
import torch

from trainwell.hpsearch.trial import fold_data, fresh_model


def test_every_trial_starts_from_fresh_weights():
    module = torch.nn.Linear(4, 2)
    copy = fresh_model(module, {})
    assert copy is not module and torch.equal(copy.weight, module.weight)
    calls = []
    assert isinstance(fresh_model(lambda: torch.nn.Linear(4, 2), {}), torch.nn.Linear)
    fresh_model(lambda values: calls.append(values) or torch.nn.Linear(4, 2), {"lr": 0.1})
    assert calls == [{"lr": 0.1}]
    table = {"type": "mlp"}
    assert fresh_model(table, {}) == table and fresh_model(table, {}) is not table


def test_folds_of_arrays_are_stratified_and_cover_the_data(blobs):
    X, y = blobs
    seen = []
    for fold in range(3):
        splits, _ = fold_data((X, y), {}, 3, fold)
        val_y = splits.val[1]
        assert len(splits.train[1]) + len(val_y) == len(y)
        assert sorted(torch.bincount(val_y).tolist()) == [33, 33, 34]     # 100 per class, stratified
        seen += [tuple(row.tolist()) for row in splits.val[0]]
    assert len(set(seen)) == len(y)                      # every sample validates exactly once


def test_folds_of_a_source_set_its_fold_options():
    data, options = fold_data("digits", {"epochs": 2}, 5, 3)
    assert data is None and options["data"] == {"source": "digits", "folds": 5, "fold": 3}


def test_a_named_source_is_loaded_once_per_process_for_each_set_of_options(monkeypatch):
    import trainwell.hpsearch.trial as trial_module
    from trainwell.data.sources import load
    monkeypatch.setattr(trial_module, "_LOADED", {})
    loads = []
    monkeypatch.setattr(trial_module, "load_source", lambda name, **o: loads.append((name, o)) or load(name, **o))
    first = trial_module.loaded_source("digits", {"epochs": 2})
    again = trial_module.loaded_source(None, {"data": {"source": "digits"}})      # the same source and options
    assert loads == [("digits", {})] and again is not first and again.train[0] is first.train[0]
    reference = load("digits")
    assert all(torch.equal(a, b) for a, b in zip(first.train + first.val + first.test,
                                                  reference.train + reference.val + reference.test))
    fold = trial_module.loaded_source(None, {"data": {"source": "digits", "folds": 5, "fold": 3}})
    assert loads[-1] == ("digits", {"folds": 5, "fold": 3}) and len(fold.val[1]) != len(first.val[1])
    assert trial_module.loaded_source("iris", {"data": {"source": "digits", "seed": 3}}) is not None
    assert loads[-1] == ("iris", {})                     # as fit: the table's options are digits'
    pairs = (torch.zeros(4, 2), torch.zeros(4))
    assert trial_module.loaded_source(pairs, {}) is pairs and trial_module.loaded_source("npy", {}) == "npy"
    for seed in range(trial_module.KEPT_SOURCES + 2):
        trial_module.loaded_source("digits", {"data": {"source": "digits", "seed": seed}})
    assert len(trial_module._LOADED) == trial_module.KEPT_SOURCES     # bounded


def test_a_trials_metrics_jsonl_is_written_once_its_run_ends(tmp_path):
    """Nothing reads a running trial's metrics.jsonl (its callback gives the pruners the values),
    so its lines wait in memory: the file is empty while the trial trains and whole after it."""
    import trainwell
    from trainwell.train.metrics import read_metrics

    sizes = []

    class Size(trainwell.Callback):
        def on_epoch_end(self, state):
            sizes.append((state.run_dir / "metrics.jsonl").stat().st_size)

    result = trainwell.search({"type": "mlp", "widths": [8]}, "digits", space={"lr": {"low": 1e-2, "high": 0.3}},
                              search={"dir": str(tmp_path / "s"), "trials": 2, "pruner": "none"}, progress=False,
                              device="cpu", epochs=3, batch_size=256, babysit="off", callbacks=[Size()])
    assert sizes == [0] * 6                             # two trials of three epochs, none on disk yet
    for row in result.trials:
        assert [r["epoch"] for r in read_metrics(row["run_dir"])] == [1, 2, 3]
