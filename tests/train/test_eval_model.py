"""``state.eval_model``: a callback (here an EMA of the weights) decides which weights validation,
the best weights, the test evaluation, the saved model and the returned model use."""
import copy

import pytest
import torch
import torch.nn.functional as F

import trainwell
from trainwell.train.callbacks import Callback

DECAY = 0.9


class EMA(Callback):
    """An exponential moving average of the weights (timm's ModelEmaV3 without warm-up), kept in
    ``state.extras["ema"]`` so that it is checkpointed and a resumed run continues the average."""

    def __init__(self, decay: float = DECAY):
        self.decay = decay
        self.ema = None

    def on_fit_start(self, state):
        self.ema = copy.deepcopy(state.model).requires_grad_(False)
        saved = state.extras.get("ema")          # put back from a checkpoint on resume
        if saved is not None:
            self.ema.load_state_dict(saved)
        state.extras["ema"] = self.ema.state_dict()   # shares storage: always the current average
        state.eval_model = self.ema

    @torch.no_grad()
    def on_after_step(self, state):
        torch._foreach_lerp_(list(self.ema.parameters()),
                             [p.detach() for p in state.model.parameters()], 1.0 - self.decay)


class Witness(Callback):
    """Evaluates the EMA copy and the training model by hand at every epoch end, and copies the
    EMA's weights at every epoch the trainer recorded as the best."""

    def __init__(self, ema: EMA, val):
        self.ema, self.val = ema, val
        self.by_hand, self.training_model, self.best_weights = [], [], {}

    @torch.no_grad()
    def on_validation_end(self, state):
        X, y = self.val
        for model, into in ((copy.deepcopy(self.ema.ema).eval(), self.by_hand),
                            (copy.deepcopy(state.model).eval(), self.training_model)):
            out = model(X)
            into.append((F.cross_entropy(out, y).item(), (out.argmax(1) == y).float().mean().item()))

    def on_epoch_end(self, state):
        if state.best.get("epoch") == state.epoch:
            self.best_weights = {k: v.clone() for k, v in self.ema.ema.state_dict().items()}
            for k, v in state.best["weights"].items():
                assert torch.equal(v, self.best_weights[k]), k


def _data(blobs):
    X, y = blobs
    noisy = y.clone()
    noisy[:60] = torch.randint(0, 3, (60,), generator=torch.Generator().manual_seed(1))
    return (X[:200], noisy[:200]), (X[200:250], y[200:250]), (X[250:], y[250:])


def _fit(blobs, run_dir, callbacks, **extra):
    train, val, test = _data(blobs)
    options = dict(optimizer="sgd", lr=0.3, momentum=0.9, schedule="constant", epochs=8,
                   batch_size=16, patience=100, seed=0, progress=False, report=False,
                   babysit="off", run_dir=run_dir, device="cpu")   # compared with CPU references
    options.update(extra)
    return trainwell.fit({"type": "mlp", "widths": [16]}, train, val=val, test=test,
                         callbacks=callbacks, **options)


def test_validation_best_weights_and_the_saved_model_are_the_ema(blobs, tmp_path):
    train, val, test = _data(blobs)
    ema = EMA()
    witness = Witness(ema, val)
    run = _fit(blobs, tmp_path / "ema", [ema, witness], monitor="val_acc")   # best: epoch 4 of 8

    # validation evaluated the EMA copy, not the training model
    for record, (loss, acc), (train_loss, _) in zip(run.history, witness.by_hand, witness.training_model):
        assert abs(record["val_loss"] - loss) < 1e-5 and abs(record["val_acc"] - acc) < 1e-6
        assert abs(record["val_loss"] - train_loss) > 1e-4
    # the best weights are the EMA's at the best epoch, and the run ends with them restored
    assert run.results["best_epoch"] < len(run.history)       # restoring them changes something
    assert run.model is ema.ema
    for k, v in run.model.state_dict().items():
        assert torch.equal(v, witness.best_weights[k]), k
    # the test split, the saved model and load_run all use it
    assert abs(run.results["test"]["loss"] - run.evaluate(test)["loss"]) < 1e-6
    loaded = trainwell.load_run(tmp_path / "ema")
    assert torch.equal(loaded.predict(test[0], output="raw"), run.predict(test[0], output="raw"))


def test_an_ema_kept_in_extras_resumes_exactly(blobs, tmp_path, crash_at):
    whole = _fit(blobs, tmp_path / "whole", [EMA()], checkpoint_every=5)
    with pytest.raises(crash_at.error):
        _fit(blobs, tmp_path / "cut", [EMA(), crash_at(23)], checkpoint_every=5)
    resumed = _fit(blobs, tmp_path / "cut", [EMA()], checkpoint_every=5, resume=True)
    strip = lambda h: [{k: v for k, v in m.items() if k != "seconds"} for m in h]
    assert strip(resumed.history) == strip(whole.history)
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)
