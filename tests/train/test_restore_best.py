"""docs/training.md: with early stopping (`patience`), `restore_best = true` (the default) ends the
run with the weights of the best epoch of `monitor`, `restore_best = false` with the last epoch's;
the saved model is the one returned."""
import pytest
import torch

import trainwell


class WeightsByEpoch(trainwell.Callback):
    def __init__(self):
        self.weights = {}

    def on_epoch_end(self, state):
        self.weights[state.epoch] = {k: v.clone() for k, v in state.model.state_dict().items()}


def _fit(blobs, run_dir, restore_best):
    X, y = blobs
    noisy = y.clone()
    noisy[:60] = torch.randint(0, 3, (60,), generator=torch.Generator().manual_seed(1))  # it overfits
    seen = WeightsByEpoch()
    run = trainwell.fit({"type": "mlp", "widths": [16]}, (X[:200], noisy[:200]), val=(X[200:250], y[200:250]),
                        optimizer="sgd", lr=0.3, momentum=0.9, schedule="constant", epochs=8, batch_size=16,
                        patience=100, restore_best=restore_best, seed=0, progress=False, report=False,
                        babysit="off", run_dir=run_dir, device="cpu", callbacks=[seen])
    return run, seen.weights


def _equal(model, weights):
    return all(torch.equal(v, weights[k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize("restore_best", [True, False])
def test_restore_best_ends_with_the_best_epochs_weights_or_the_last(blobs, tmp_path, restore_best):
    run, weights = _fit(blobs, tmp_path / "run", restore_best)
    losses = [record["val_loss"] for record in run.history]
    best_epoch = losses.index(min(losses)) + 1
    assert run.results["best_epoch"] == best_epoch < len(run.history)   # restoring changes something
    expected = weights[best_epoch] if restore_best else weights[len(run.history)]
    assert _equal(run.model, expected)
    assert _equal(trainwell.load_run(tmp_path / "run").model, expected)   # and it is what was saved
