"""``Controls.set_drop_last`` and ``Controls.last_batch_rows``: each epoch's last, incomplete batch
dropped at an epoch's boundary, the run's steps counted again and its schedule stretched over them; a
kill and resume after the change ends bit-identical; refused where ``set_batch_size`` is."""
import pytest

from trainwell.errors import ConfigError
from trainwell.train.callbacks import Callback

import control_runs  # beside this file: pytest puts the folder on sys.path
from control_runs import EpochLrs, UserLoader, bare_trainer, same_weights

ROWS = 250          # 7 full batches of 32 and a last one of 26


def _fit(blobs, run_dir, callbacks=(), **extra):
    return control_runs.fit(blobs, ROWS, run_dir, callbacks, **{"schedule": "cosine", **extra})


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
    assert same_weights(whole, resumed)


def test_the_schedule_keeps_its_course_over_the_epochs(blobs, tmp_path):
    plain, dropped = EpochLrs(), EpochLrs()
    _fit(blobs, None, [plain], augment=[])
    _fit(blobs, None, [DropLast(), dropped], augment=[])
    assert dropped.lrs == pytest.approx(plain.lrs)


def test_the_users_own_loader_and_a_scheduled_run_past_its_start_are_refused(blobs):
    trainer = bare_trainer(UserLoader(*blobs))
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
