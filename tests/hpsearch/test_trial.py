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
