"""``state.controls.set_regularization``, ``stretch_schedule``, ``set_warmup``, ``set_augment`` and
``replace_schedule``: a change at fit start trains exactly as a run configured that way, a resumed run
keeps the change, and a schedule without a warmup to change is refused with a clear error."""
import pytest
import torch
from torch import nn

import trainwell
from trainwell.errors import ConfigError
from trainwell.optim.schedules import cosine
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
    (dict(grad_noise=1.0), dict(grad_noise=0.0)),
    (dict(grad_noise=1.0), dict(grad_noise=0.01)),
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


# --- set_warmup and set_augment (babysit23) -------------------------------------------------------------
@pytest.mark.parametrize("schedule", ["cosine", {"name": "step", "every_epochs": 1}, "one_cycle"])
def test_set_warmup_at_start_trains_as_the_run_configured_so(blobs, schedule):
    repaired = _fit(blobs, [AtStart(lambda c: c.set_warmup(2))], schedule=schedule, warmup_steps=500)
    plain = _fit(blobs, schedule=schedule, warmup_steps=2)
    assert _same_weights(repaired, plain)
    assert not _same_weights(_fit(blobs, schedule=schedule, warmup_steps=500), plain)   # the warmup mattered


def test_set_warmup_keeps_a_stretch_made_before(blobs):
    def change(c):
        c.stretch_schedule(3)
        c.set_warmup(2)
    every_epoch = {"name": "step", "every_epochs": 1}
    repaired = _fit(blobs, [AtStart(change)], schedule=every_epoch, warmup_steps=500)
    plain = _fit(blobs, [AtStart(lambda c: c.stretch_schedule(3))], schedule=every_epoch, warmup_steps=2)
    assert _same_weights(repaired, plain)


def test_a_resumed_run_keeps_the_set_warmup(blobs, tmp_path, crash_at):
    options = dict(warmup_steps=500, checkpoint_every=5)
    whole = _fit(blobs, [AtStart(lambda c: c.set_warmup(3))], run_dir=tmp_path / "whole", **options)
    with pytest.raises(crash_at.error):
        _fit(blobs, [AtStart(lambda c: c.set_warmup(3)), crash_at(12)], run_dir=tmp_path / "cut", **options)
    resumed = _fit(blobs, run_dir=tmp_path / "cut", resume=True, **options)
    assert _same_weights(whole, resumed)


def test_set_warmup_names_what_it_needs(blobs):
    with pytest.raises(ConfigError, match="set_warmup: the run's lr schedule has no warmup to change"):
        _fit(blobs, [AtStart(lambda c: c.set_warmup(2))], schedule=cosine(total=21))
    with pytest.raises(ConfigError, match=r"set_warmup: steps = -1: must be an integer >= 0"):
        _fit(blobs, [AtStart(lambda c: c.set_warmup(-1))])


# --- set_augment ---------------------------------------------------------------------------------------
def _images(blobs):
    X, y = blobs
    return X.repeat(1, 8).reshape(-1, 1, 4, 4), y     # 2 features tiled into 4x4 "images"


def _cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))


def _fit_images(blobs, callbacks=(), **extra):
    X, y = _images(blobs)
    options = dict(epochs=3, batch_size=32, lr=0.1, seed=3, progress=False, report=False, babysit="off",
                   run_dir=None, device="cpu")      # asserts CPU bit-exactness
    options.update(extra)
    return trainwell.fit(_cnn(), (X[:240], y[:240]), val=(X[240:], y[240:]), callbacks=list(callbacks), **options)


def test_set_augment_at_start_trains_as_the_run_configured_so(blobs):
    both = [{"name": "crop", "pad": 1}, "hflip"]
    repaired = _fit_images(blobs, [AtStart(lambda c: c.set_augment(["hflip"]))], augment=both)
    plain = _fit_images(blobs, augment=["hflip"])
    assert _same_weights(repaired, plain)
    assert not _same_weights(_fit_images(blobs, augment=both), plain)      # the crop mattered
    none = _fit_images(blobs, [AtStart(lambda c: c.set_augment([]))], augment=both)
    assert _same_weights(none, _fit_images(blobs))


def test_a_resumed_run_keeps_the_set_augment(blobs, tmp_path, crash_at):
    options = dict(augment=[{"name": "crop", "pad": 1}, "hflip"], checkpoint_every=5)
    change = AtStart(lambda c: c.set_augment(["hflip"]))
    whole = _fit_images(blobs, [change], run_dir=tmp_path / "whole", **options)
    with pytest.raises(crash_at.error):
        _fit_images(blobs, [AtStart(lambda c: c.set_augment(["hflip"])), crash_at(12)], run_dir=tmp_path / "cut",
                    **options)
    resumed = _fit_images(blobs, run_dir=tmp_path / "cut", resume=True, **options)
    assert _same_weights(whole, resumed)


# --- replace_schedule (babysit100) ----------------------------------------------------------------------
def _dead(step):
    """A warmup then a linear decay written with ``//``: 0 at every step but step 7."""
    return max(0, min(step // 7, (21 - step) // 14))


def test_replace_schedule_at_start_trains_as_the_run_configured_so(blobs):
    """A dead schedule of the user's replaced at fit start trains exactly as a run configured with the
    replacement; the dead schedule trains (nearly) nothing, so the replacement matters."""
    seen = []

    class Lrs(Callback):
        def on_epoch_end(self, state):
            seen.append(state.lr)
    repaired = _fit(blobs, [AtStart(lambda c: c.replace_schedule({"name": "linear", "final": 0.01})), Lrs()],
                    schedule=_dead)
    plain = _fit(blobs, schedule={"name": "linear", "final": 0.01})
    assert _same_weights(repaired, plain)
    assert not _same_weights(_fit(blobs, schedule=_dead), plain)
    assert seen[0] > 0.05 and seen == sorted(seen, reverse=True)      # the configured lr 0.1, decaying


def test_replace_schedule_keeps_the_swa_lr_phase(blobs):
    """A run averaged with SWA keeps its SWA lr phase on the replacement, as fit builds it."""
    swa = {"method": "swa", "start": 0.5, "lr": 0.02}
    repaired = _fit(blobs, [AtStart(lambda c: c.replace_schedule("cosine"))], schedule=_dead, average=swa)
    plain = _fit(blobs, schedule="cosine", average=swa)
    assert _same_weights(repaired, plain)


def test_replace_schedule_mid_run_starts_the_replacement_there(blobs):
    """From step s on the replacement runs over the run's remaining steps, its step 0 at s."""
    lrs = {}

    class Replace(Callback):
        def on_after_step(self, state):
            if state.step == 8:
                state.controls.replace_schedule("cosine", from_step=8)
            lrs[state.step] = state.controls.lrs()[0]
    _fit(blobs, [Replace()], schedule=_dead)
    assert lrs[6] == 0.0 and lrs[8] == pytest.approx(0.1)           # the dead schedule, then cosine's step 0
    assert lrs[max(lrs)] < lrs[12] < lrs[9]                          # then its decay over the rest


def test_a_resumed_run_keeps_the_replaced_schedule(blobs, tmp_path, crash_at):
    """Killed after the replacement and resumed, the run ends with the weights of the run not killed
    (the replacement is a setting every checkpoint keeps); a stretch made after it is kept too."""
    def change(c):
        c.replace_schedule({"name": "step", "every_epochs": 1})
        c.stretch_schedule(2)
    options = dict(schedule=_dead, checkpoint_every=5)
    whole = _fit(blobs, [AtStart(change)], run_dir=tmp_path / "whole", **options)
    with pytest.raises(crash_at.error):
        _fit(blobs, [AtStart(change), crash_at(12)], run_dir=tmp_path / "cut", **options)
    resumed = _fit(blobs, run_dir=tmp_path / "cut", resume=True, **options)
    assert _same_weights(whole, resumed)
    assert not _same_weights(_fit(blobs, run_dir=tmp_path / "dead", **options), whole)


def test_a_warmup_set_after_a_mid_run_replacement_acts_on_it(blobs):
    """replace_schedule from step s, then set_warmup(w): the replacement's warmup counted from s (its
    with_warmup kept), as the docstring says a warmup set after acts on the replacement."""
    lrs = {}

    class Replace(Callback):
        def on_after_step(self, state):
            if state.step == 8:
                state.controls.replace_schedule("cosine", from_step=8)
                state.controls.set_warmup(4)
            lrs[state.step] = state.controls.lrs()[0]
    _fit(blobs, [Replace()], schedule=_dead)
    assert lrs[6] == 0.0                                                        # the dead schedule before
    assert [lrs[s] for s in range(8, 12)] == pytest.approx([0.025, 0.05, 0.075, 0.1])   # (t - 8 + 1) / 4
    assert lrs[12] == pytest.approx(0.1) and lrs[max(lrs)] < lrs[13] < lrs[12]          # then cosine over the rest


def test_replace_schedule_names_what_it_allows(blobs):
    with pytest.raises(ConfigError, match=r"replace_schedule: spec = \{'final': 0.1\}: must be a schedule's name"):
        _fit(blobs, [AtStart(lambda c: c.replace_schedule({"final": 0.1}))])
    with pytest.raises(ConfigError, match="replace_schedule: spec = 'plateau'"):
        _fit(blobs, [AtStart(lambda c: c.replace_schedule("plateau"))])
    with pytest.raises(ConfigError, match=r"replace_schedule: from_step = -1: must be an integer >= 0"):
        _fit(blobs, [AtStart(lambda c: c.replace_schedule("cosine", from_step=-1))])


def test_a_resumed_run_keeps_a_warmup_set_after_a_mid_run_replacement(blobs, tmp_path, crash_at):
    """Killed after replace_schedule(from_step=8) and set_warmup(4), the resume replays both in that order
    and ends with the weights of the run not killed."""
    class Replace(Callback):
        def on_after_step(self, state):
            if state.step == 8:
                state.controls.replace_schedule("cosine", from_step=8)
                state.controls.set_warmup(4)
    options = dict(schedule=_dead, checkpoint_every=5)
    whole = _fit(blobs, [Replace()], run_dir=tmp_path / "whole", **options)
    with pytest.raises(crash_at.error):
        _fit(blobs, [Replace(), crash_at(17)], run_dir=tmp_path / "cut", **options)
    resumed = _fit(blobs, run_dir=tmp_path / "cut", resume=True, **options)
    assert _same_weights(whole, resumed)


def test_a_rollback_after_a_plateau_schedule_is_replaced_keeps_the_replacement(blobs):
    """A snapshot taken under a plateau schedule (its state in the snapshot), the schedule replaced, then a
    rollback to the snapshot: the replacement is a setting the rollback keeps, so the plateau's saved state
    has no schedule to go to and is left (it raised AttributeError on the replacement's function)."""
    seen = {}

    class Replace(Callback):
        def on_after_step(self, state):
            if state.step == 4:
                seen["snap"] = state.controls.snapshot()
                state.controls.replace_schedule("cosine")
            elif state.step == 6 and "rolled" not in seen:
                seen["rolled"] = True
                state.controls.restore(seen["snap"])
                seen["lr"] = state.controls.lrs(10)[0]
    _fit(blobs, [Replace()], schedule="plateau")
    assert seen["rolled"] and seen["lr"] < 0.1          # cosine's decay, not the plateau's constant lr
