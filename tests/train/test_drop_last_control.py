"""``Controls.set_drop_last`` and ``Controls.last_batch_rows``: each epoch's last, incomplete batch
dropped at an epoch's boundary, the run's steps counted again and its schedule stretched over them; a
kill and resume after the change ends bit-identical; refused where ``set_batch_size`` is."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.config import make_config
from trainwell.data.batches import Batches
from trainwell.errors import ConfigError
from trainwell.train.callbacks import Callback

ROWS = 250          # 7 full batches of 32 and a last one of 26


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Dropout(0.2), nn.Linear(16, 3))


def _fit(blobs, run_dir, callbacks=(), **extra):
    X, y = blobs
    options = dict(epochs=4, batch_size=32, lr=0.1, seed=3, progress=False, report=False, babysit="off",
                   run_dir=run_dir, augment=[{"name": "noise", "std": 0.1}], checkpoint_every=5,
                   schedule="cosine", device="cpu")    # asserts CPU bit-exactness
    options.update(extra)
    return trainwell.fit(_mlp(), (X[:ROWS], y[:ROWS]), val=(X[ROWS:], y[ROWS:]), callbacks=list(callbacks), **options)


class DropLast(Callback):
    """``set_drop_last()`` at the start of the run; what the controls said before and after."""

    def __init__(self):
        self.said = self.rows = None

    def on_fit_start(self, state):
        if state.step == 0:
            before = state.controls.last_batch_rows
            self.said = state.controls.set_drop_last(True)
            self.rows = (before, state.controls.last_batch_rows, state.config.drop_last)


def test_a_dropped_last_batch_resumes_bit_identically_after_a_kill(blobs, tmp_path, crash_at):
    drop = DropLast()
    whole = _fit(blobs, tmp_path / "whole", [drop])
    assert drop.said == "drop_last false -> true: 7 steps an epoch (28 in the run)"
    assert drop.rows == (26, 0, True)
    assert whole.results["steps"] == 28 and whole.results["epochs"] == 4
    with pytest.raises(crash_at.error):
        _fit(blobs, tmp_path / "cut", [DropLast(), crash_at(17)])
    resumed = _fit(blobs, tmp_path / "cut", [DropLast()], resume=True)
    assert resumed.results["steps"] == 28
    assert all(torch.equal(a, b) for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values()))


def test_the_schedule_keeps_its_course_over_the_epochs(blobs, tmp_path):
    seen = {}

    class Lrs(Callback):
        def on_epoch_start(self, state):
            seen.setdefault(id(self), []).append(state.controls.lrs()[0])

    plain, dropped = Lrs(), Lrs()
    _fit(blobs, None, [plain], augment=[])
    _fit(blobs, None, [DropLast(), dropped], augment=[])
    assert seen[id(dropped)] == pytest.approx(seen[id(plain)])


def test_the_users_own_loader_and_a_scheduled_run_past_its_start_are_refused(blobs):
    class UserLoader:
        def __init__(self, X, y):
            self._b = Batches(X, y, batch_size=32, seed=0)

        def __len__(self):
            return len(self._b)

        def __iter__(self):
            return iter(self._b)

        def __getattr__(self, name):
            return getattr(self._b, name)

    model = _mlp()
    trainer = trainwell.Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy,
                                config=make_config({"epochs": 1, "progress": False, "babysit": "off"}),
                                batches=UserLoader(*blobs))
    assert trainer.controls.last_batch_rows is None
    with pytest.raises(ConfigError, match="set_drop_last: True: the run's batches are a UserLoader"):
        trainer.controls.set_drop_last(True)
    raised = []

    class Late(Callback):
        def on_epoch_end(self, state):
            if state.epoch == 1:
                with pytest.raises(ConfigError) as info:
                    state.controls.set_drop_last(True)
                raised.append(str(info.value))

    run = _fit(blobs, None, [Late()])
    assert len(raised) == 1 and "the run's lr schedule counts steps" in raised[0]
    assert run.results["steps"] == 4 * 8
