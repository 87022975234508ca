"""``Controls.set_batch_size``: the run's batch changed at an epoch's boundary, its steps counted again
and its schedule stretched over them; a kill and resume after the change ends bit-identical; the
user's own loader, an epoch under way and a schedule past step 0 are refused, naming why."""
import pytest

from trainwell.data.batches import Batches
from trainwell.errors import ConfigError
from trainwell.train.callbacks import Callback

import control_runs  # beside this file: pytest puts the folder on sys.path
from control_runs import EpochLrs, UserLoader, bare_trainer, same_weights


def _fit(blobs, run_dir, callbacks=(), **extra):
    return control_runs.fit(blobs, 240, run_dir, callbacks, **extra)


class Resize(Callback):
    """``set_batch_size(size)`` once, at the end of epoch ``epoch`` (0: at the start of the run)."""

    def __init__(self, size, epoch):
        self.size, self.epoch, self.said = size, epoch, None

    def on_fit_start(self, state):
        if self.epoch == 0 and state.step == 0:
            self.said = state.controls.set_batch_size(self.size)

    def on_epoch_end(self, state):
        if self.epoch and state.epoch == self.epoch and self.said is None:
            self.said = state.controls.set_batch_size(self.size)


@pytest.mark.parametrize("epoch, schedule, steps", [
    (1, "constant", 8 + 3 * 15),        # after epoch 1 of 8 steps (240 rows / 32): 3 epochs of 15 (/ 16)
    (0, "cosine", 4 * 15),              # from the start: the cosine stretched over 60 steps
])
def test_a_changed_batch_resumes_bit_identically_after_a_kill(blobs, tmp_path, crash_at, epoch, schedule, steps):
    resize = Resize(16, epoch)
    whole = _fit(blobs, tmp_path / "whole", [resize], schedule=schedule)
    assert resize.said == f"batch size 32 -> 16: 15 steps an epoch ({steps} in the run)"
    assert whole.results["steps"] == steps and whole.results["epochs"] == 4
    with pytest.raises(crash_at.error):       # killed at a step after the change, between checkpoints
        _fit(blobs, tmp_path / "cut", [Resize(16, epoch), crash_at(27)], schedule=schedule)
    resumed = _fit(blobs, tmp_path / "cut", [Resize(16, epoch)], schedule=schedule, resume=True)
    assert resumed.results["steps"] == steps
    assert same_weights(whole, resumed)
    strip = lambda h: [{k: v for k, v in m.items() if k != "seconds"} for m in h]
    assert strip(resumed.history) == strip(whole.history)


def test_the_schedule_keeps_its_course_over_the_epochs(blobs, tmp_path):
    """A cosine over 32 steps of 32 rows, the batch halved at the start: over 60 steps of 16 rows the
    lr at the start of each epoch is what it was at the start of that epoch before."""
    plain, halved = EpochLrs(), EpochLrs()
    _fit(blobs, tmp_path / "plain", [plain], schedule="cosine", augment=[])
    _fit(blobs, tmp_path / "halved", [Resize(16, 0), halved], schedule="cosine", augment=[])
    assert halved.lrs == pytest.approx(plain.lrs)


def test_the_users_own_loader_is_refused_naming_it(blobs):
    trainer = bare_trainer(UserLoader(*blobs))
    fixed = trainer.controls.batch_size_fixed()
    assert "UserLoader, not trainwell's Batches" in fixed
    with pytest.raises(ConfigError, match="set_batch_size: 8: the run's batches are a UserLoader"):
        trainer.controls.set_batch_size(8)
    assert trainer.state.steps_per_epoch == len(trainer.batches) == 10


@pytest.mark.parametrize("where, message", [
    ("mid_epoch", "an epoch is under way"), ("scheduled", "the run's lr schedule counts steps of the old batch")])
def test_a_change_inside_an_epoch_or_past_a_scheduled_start_is_refused(blobs, tmp_path, where, message):
    raised = []

    class Try(Callback):
        def on_after_step(self, state):
            if where == "mid_epoch" and state.step == 3:
                self._try(state)

        def on_epoch_end(self, state):
            if where == "scheduled" and state.epoch == 1:
                self._try(state)

        def _try(self, state):
            with pytest.raises(ConfigError) as info:
                state.controls.set_batch_size(16)
            raised.append(str(info.value))

    run = _fit(blobs, None, [Try()], schedule="constant" if where == "mid_epoch" else "cosine")
    assert len(raised) == 1 and message in raised[0]
    assert run.results["steps"] == 32               # the run goes on at its own batch


@pytest.mark.parametrize("size, message", [
    (0, "batch_size = 0: must be an integer >= 1"), (8.0, "batch_size = 8.0: must be an integer >= 1"),
    (400, None)])                               # more than the rows: the full batch, as fit's batch_size
def test_sizes(blobs, size, message):
    trainer = bare_trainer(Batches(*blobs, batch_size=32, seed=0))
    if message is not None:
        with pytest.raises(ConfigError, match=message):
            trainer.controls.set_batch_size(size)
        return
    trainer.controls.set_batch_size(size)
    assert trainer.controls.batch_size == 300 and trainer.state.total_steps == 1


@pytest.mark.parametrize("call, message", [
    (lambda controls: controls.set_batch_size(4),
     "set_batch_size: batch_size = 4 leaves no batch: 1 rows over 2 rank(s) at batch_size = 1, drop_last = false"),
    (lambda controls: controls.set_drop_last(True),
     "set_drop_last: drop_last = True leaves no batch: 1 rows over 2 rank(s) at batch_size = 1, drop_last = true")])
def test_a_change_that_leaves_no_batch_names_the_call_and_its_value(blobs, call, message):
    """Fewer rows than ranks: no step has a row for every rank, whatever the batches. The error names
    the call and the value it was given, and the batches are left as they were."""
    X, y = blobs
    trainer = bare_trainer(Batches(X[:1], y[:1], batch_size=1, seed=0, world=2))
    with pytest.raises(ConfigError) as info:
        call(trainer.controls)
    assert str(info.value) == message + " (a step needs a row on every rank)"
    assert (trainer.batches.batch_size, trainer.batches.drop_last) == (1, False)


def test_a_rollback_to_before_the_change_counts_the_new_size_from_there(blobs, tmp_path):
    """The size set after epoch 1 is a setting: a rollback to the start keeps it, and the run's
    steps are counted again from the start (4 epochs of 15), not from where it was set."""
    class Back(Callback):
        def on_fit_start(self, state):
            self.snap, self.done = state.controls.snapshot(), False

        def on_epoch_end(self, state):
            if state.epoch == 1 and not self.done:
                state.controls.set_batch_size(16)
            elif state.epoch == 2 and not self.done:
                self.done = True
                state.controls.restore(self.snap)

    run = _fit(blobs, None, [Back()], schedule="constant")
    assert run.results["steps"] == 4 * 15 and [m["step"] for m in run.history] == [15, 30, 45, 60]
