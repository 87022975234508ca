"""A raise on probation is judged only on epochs it trained (``repair._trained_under``): an epoch that
ended where the raise was made holds none of its steps (babysit159: tiles' CNN, raised at the end of
epoch 3, was undone on epoch 3's own loss and ended at 28 % where the raise kept reached 99 %)."""
import math

import pytest

from trainwell.babysit.monitor import Monitor
from trainwell.babysit.repair import Probation, Repairer, settings, take_snapshot
from trainwell.data.sources import digits
from trainwell.train.fit import make_trainer, prepare

from babysit_loop import QUIET_FIT, mlp


@pytest.fixture(scope="module")
def data():
    return digits()


def test_an_epoch_that_ended_where_the_raise_was_made_does_not_judge_it(data):
    """A raise put on probation at epoch 2's validation, against a reference just below epoch 2's own
    loss: that epoch trained none of the raise's steps and is not read (before, the raise was undone
    there, on the loss of the trajectory it replaced). The epochs trained under it fall below, and the
    raise is kept."""
    monitor = Monitor()
    repairer = Repairer(monitor)

    class Trigger:
        def on_validation_end(self, state):
            if state.epoch == 2 and repairer._probation is None and not repairer.repairs:
                kept, before = take_snapshot(state), settings(state.controls)
                state.controls.set_lr_scale(2.0)
                repairer._probation = Probation("raise", "underfitting", None, kept, before,
                                                0.999 * state.metrics["train_loss"], state.epoch,
                                                until=state.step + 2 * state.steps_per_epoch)

    p = prepare(mlp((64, 64, 10)), data, None, None, {**QUIET_FIT, "epochs": 6})
    state = make_trainer(p, extra_callbacks=[monitor, repairer, Trigger()]).fit()
    assert not any(r["action"] == "undo_lr_change" for r in repairer.repairs), repairer.repairs
    assert state.controls.lr_scale == 2.0 and math.isfinite(state.history[-1]["train_loss"])
