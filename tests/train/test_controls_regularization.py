"""``state.controls.set_regularization`` and ``stretch_schedule``: a change at fit start trains
exactly as a run configured that way, and a resumed run keeps the change."""
import pytest
import torch
from torch import nn

import trainwell
from trainwell.errors import ConfigError
from trainwell.train.callbacks import Callback


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))


def _fit(blobs, callbacks=(), **extra):
    X, y = blobs
    options = dict(epochs=3, batch_size=32, lr=0.1, seed=3, progress=False, report=False, babysit="off",
                   run_dir=None, device="cpu")      # asserts CPU bit-exactness
    options.update(extra)
    return trainwell.fit(_mlp(), (X[:240], y[:240]), val=(X[240:], y[240:]), callbacks=list(callbacks), **options)


class AtStart(Callback):
    def __init__(self, change):
        self.change = change

    def on_fit_start(self, state):
        self.change(state.controls)


def _same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values()))


@pytest.mark.parametrize("configured, changed", [
    (dict(l1=0.05, l2=0.3), dict(l1=0.0005, l2=0.0)),
    (dict(max_norm=0.05), dict(max_norm=None)),
    (dict(label_smoothing=0.6), dict(label_smoothing=0.0)),
    (dict(clip_value=1e-4), dict(clip_value=None)),
])
def test_set_regularization_at_start_trains_as_the_run_configured_so(blobs, configured, changed):
    repaired = _fit(blobs, [AtStart(lambda c: c.set_regularization(**changed))], **configured)
    plain = _fit(blobs, **{**configured, **changed})
    assert _same_weights(repaired, plain)
    assert not _same_weights(_fit(blobs, **configured), plain)     # the option mattered


def test_stretch_schedule_at_start_trains_as_the_stretched_schedule(blobs):
    every_epoch = {"name": "step", "every_epochs": 1}
    seen = []

    class Lrs(Callback):
        def on_epoch_end(self, state):
            seen.append(state.lr)
    stretched = _fit(blobs, [AtStart(lambda c: c.stretch_schedule(3)), Lrs()], schedule=every_epoch)
    plain = _fit(blobs, schedule={"name": "step", "every_epochs": 3})
    assert _same_weights(stretched, plain)
    assert seen == [pytest.approx(0.1)] * 3        # no cut within the 3 epochs


def test_set_regularization_names_what_it_allows(blobs):
    with pytest.raises(ConfigError, match="weight_decay: not a regularization option"):
        _fit(blobs, [AtStart(lambda c: c.set_regularization(weight_decay=0.1))])


def test_a_resumed_run_keeps_the_changed_regularization_and_schedule(blobs, tmp_path, crash_at):
    def change(c):
        c.set_regularization(l1=0.001)
        c.stretch_schedule(2)
    options = dict(l1=0.05, schedule={"name": "step", "every_epochs": 1}, checkpoint_every=5)
    whole = _fit(blobs, [AtStart(change)], run_dir=tmp_path / "whole", **options)
    with pytest.raises(crash_at.error):
        _fit(blobs, [AtStart(change), crash_at(12)], run_dir=tmp_path / "cut", **options)
    resumed = _fit(blobs, run_dir=tmp_path / "cut", resume=True, **options)
    assert _same_weights(whole, resumed)
