"""``state.controls``: a callback's snapshot/restore replays exactly, and the settings it changes
survive a rollback and a resume."""
import json

import pytest
import torch
from torch import nn

import trainwell
from trainwell.train.callbacks import Callback


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Dropout(0.2), nn.Linear(16, 3))


def _fit(blobs, run_dir, callbacks=(), **extra):
    X, y = blobs
    options = dict(epochs=4, batch_size=32, lr=0.1, seed=3, progress=False, report=False,
                   babysit="off", run_dir=run_dir, augment=[{"name": "noise", "std": 0.1}],
                   device="cpu")    # asserts CPU bit-exactness
    options.update(extra)
    return trainwell.fit(_mlp(), (X[:240], y[:240]), val=(X[240:], y[240:]),
                         callbacks=list(callbacks), **options)


class RedoEpochTwo(Callback):
    """Snapshots before epoch 2 and rolls back to it once epoch 2 has ended."""

    def __init__(self):
        self.snap, self.redone = None, False

    def on_epoch_start(self, state):
        if state.epoch == 1 and self.snap is None:
            self.snap = state.controls.snapshot()

    def on_epoch_end(self, state):
        if state.epoch == 2 and not self.redone:
            self.redone = True
            state.controls.restore(self.snap)


def test_a_rollback_to_a_snapshot_replays_the_epoch_exactly(blobs, tmp_path):
    whole = _fit(blobs, tmp_path / "whole")
    redo = RedoEpochTwo()
    again = _fit(blobs, tmp_path / "again", [redo])
    assert redo.redone
    for a, b in zip(whole.model.state_dict().values(), again.model.state_dict().values()):
        assert torch.equal(a, b)
    strip = lambda h: [{k: v for k, v in m.items() if k != "seconds"} for m in h]
    assert strip(again.history) == strip(whole.history)
    lines = [json.loads(l) for l in (tmp_path / "again" / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in lines] == [1, 2, 3, 4]      # the undone epoch 2 was taken out


class ChangeSettings(Callback):
    """At step 10: snapshot, change the lr scale and clipping, roll back at once; records what
    the controls report afterwards."""

    def __init__(self):
        self.seen = None

    def on_after_step(self, state):
        if state.step == 10:
            snap = state.controls.snapshot()
            state.controls.set_lr_scale(0.5)
            state.controls.set_clip_norm(0.25)
            state.controls.restore(snap)
            self.seen = (state.controls.lr_scale, state.controls.clip_norm, state.step)


class Crash(Exception):
    pass


class CrashAt(Callback):
    def on_after_step(self, state):
        if state.step == 17:
            raise Crash


class Settings(Callback):
    def on_fit_start(self, state):
        self.at_start = (state.controls.lr_scale, state.controls.clip_norm)

    def on_fit_end(self, state):
        self.lrs = state.controls.lrs()


def test_settings_are_kept_by_a_rollback_and_by_a_resume(blobs, tmp_path):
    change = ChangeSettings()
    whole = _fit(blobs, tmp_path / "whole", [change], checkpoint_every=5, schedule="constant")
    assert change.seen == (0.5, 0.25, 10)          # the rollback kept them; the step went back
    with pytest.raises(Crash):
        _fit(blobs, tmp_path / "cut", [ChangeSettings(), CrashAt()], checkpoint_every=5,
             schedule="constant")
    settings = Settings()
    resumed = _fit(blobs, tmp_path / "cut", [settings], checkpoint_every=5, schedule="constant",
                   resume=True)
    assert settings.at_start == (0.5, 0.25)
    assert settings.lrs == [pytest.approx(0.1 * 0.5)] * 2   # two groups (decay, no decay): lr x lr_scale
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)


def test_nothing_reaches_the_trainer_through_the_state():
    """Callbacks, the babysitter, the CLI and the report use ``state.controls`` and ``TrainState``
    fields; nothing in the package reads a ``.trainer`` attribute."""
    import re
    from pathlib import Path

    root = Path(trainwell.__file__).parent
    files = list(root.rglob("*.py"))
    offenders = [f"{f.name}:{n}" for f in files
                 for n, line in enumerate(f.read_text().splitlines(), 1)
                 if re.search(r"\.trainer\b", line.split("#")[0])]
    assert offenders == []


def test_a_snapshot_clones_namedtuples_and_defaultdicts_a_callback_keeps():
    """The snapshot's copy of the state keeps each container's type: a namedtuple (built from its
    fields, not from one iterable) and a defaultdict (its factory kept); tensors are new storage."""
    from collections import defaultdict, namedtuple

    from trainwell.train.controls import _clone

    Pair = namedtuple("Pair", "a b")
    counts = defaultdict(list, {"x": [torch.ones(2)]})
    state = {"pair": Pair(torch.zeros(3), 2), "counts": counts}
    out = _clone(state)
    assert type(out["pair"]) is Pair and out["pair"].b == 2 and torch.equal(out["pair"].a, torch.zeros(3))
    assert out["pair"].a.data_ptr() != state["pair"].a.data_ptr()
    assert type(out["counts"]) is defaultdict and out["counts"].default_factory is list
    assert out["counts"]["missing"] == [] and "missing" not in counts
    assert out["counts"]["x"][0].data_ptr() != counts["x"][0].data_ptr()
