"""The repairer's probation: an lr change decided on a few steps (a confirm raise, a plateau's
decay) is judged on the run itself and undone (``undo_lr_change``) when the run does not bear it
out; and the in-training dead-units cut, which only large updates justify."""
import math
from types import SimpleNamespace

import pytest
import torch

from trainwell.babysit import sizing
from trainwell.babysit.actions import ACTIONS, Plan, Rollback, make_plan
from trainwell.babysit.findings import make
from trainwell.babysit.monitor import Monitor
from trainwell.babysit.plans import plan_init, plan_plateau
from trainwell.babysit.ratios import RATIO_HIGH
from trainwell.babysit.repair import (STALL_EPOCHS, Probation, RepairContext, Repairer, SLOW_CODES, settings,
                                      take_snapshot)
from trainwell.data.sources import digits
from trainwell.train.fit import make_trainer, prepare

from babysit_loop import QUIET_FIT, mlp


def digits_mlp():
    return mlp((64, 64, 10))


@pytest.fixture(scope="module")
def data():
    return digits()


def _fit(data, trigger, *, epochs=6, **options):
    """A run with a Monitor, a Repairer and ``trigger(repairer)`` (a callback) after them."""
    monitor = Monitor()
    repairer = Repairer(monitor)
    p = prepare(digits_mlp(), data, None, None, {**QUIET_FIT, "epochs": epochs, **options})
    state = make_trainer(p, extra_callbacks=[monitor, repairer, trigger(repairer)]).fit()
    return repairer, state


def _put_on_probation(repairer, state, *, kind, reference, scale):
    """What ``Repairer._apply`` does for a change on probation, with a chosen reference: the
    trajectory kept, the lr scale changed."""
    kept, before = take_snapshot(state), settings(state.controls)
    state.controls.set_lr_scale(scale)
    repairer._probation = Probation(kind, "underfitting" if kind == "raise" else "plateau", None, kept, before,
                                    reference, state.epoch, until=state.step + 2 * state.steps_per_epoch)
    return kept


def test_a_raise_the_run_does_not_bear_out_is_undone_with_its_settings(data):
    """A raise on probation whose run's epoch loss is above what the replaced trajectory had
    reached (here a reference no run reaches) is undone at the first epoch end it is judged at:
    the run returns to the kept step with the lr scale it had, the undo is recorded, and no other
    confirm raise is made in the fit."""
    seen = {}

    def trigger(repairer):
        class Trigger:
            def on_epoch_end(self, state):
                if state.epoch == 2 and "kept" not in seen:
                    seen["kept"] = _put_on_probation(repairer, state, kind="raise", reference=1e-9, scale=4.0)
        return Trigger()

    repairer, state = _fit(data, trigger)
    undo = [r for r in repairer.repairs if r["action"] == "undo_lr_change"]
    assert len(undo) == 1 and undo[0]["epoch"] == 3, repairer.repairs
    assert undo[0]["rolled_back_to"] == {"step": seen["kept"].step, "epoch": 2}
    assert undo[0]["before"]["lr_scale"] == 4.0 and undo[0]["after"]["lr_scale"] == 1.0
    assert state.controls.lr_scale == 1.0 and repairer._probation is None
    assert "raise" in repairer._refuted and "short-horizon" in undo[0]["reason"]
    # the kept trajectory goes on: every epoch after the undo is counted once (6 in all)
    assert [h["epoch"] for h in state.history] == [1, 2, 3, 4, 5, 6]
    # a second confirm raise is declined, with the reason
    plan = make_plan("raise_lr", "again", rollback=Rollback.LAST, factor=3.0, confirm=True)
    assert repairer._apply(state, make("underfitting", "x"), plan, before_training=False) is False
    assert "was undone" in repairer.unrepaired[-1]["reason"] and state.controls.lr_scale == 1.0


def test_a_raise_the_run_bears_out_passes_its_probation(data):
    """With a reference every epoch stays under, the raise is kept and the probation ends at the
    first epoch end after its last step."""
    def trigger(repairer):
        class Trigger:
            def on_epoch_end(self, state):
                if state.epoch == 1 and not repairer.repairs and repairer._probation is None and state.step < 40:
                    _put_on_probation(repairer, state, kind="raise", reference=math.inf, scale=2.0)
        return Trigger()

    repairer, state = _fit(data, trigger)
    assert repairer.repairs == [] and repairer._refuted == {}
    assert repairer._probation is None and state.controls.lr_scale == 2.0


def test_a_decay_that_does_not_end_the_stall_is_undone_after_the_rules_window(data):
    """A plateau's decay must bring an epoch's loss rules.FLAT below the plateau's level within
    STALL_EPOCHS epochs; a level no run reaches: undone at the end of the third epoch after it."""
    def trigger(repairer):
        class Trigger:
            def on_epoch_end(self, state):
                if state.epoch == 1 and not repairer.repairs and repairer._probation is None:
                    _put_on_probation(repairer, state, kind="decay", reference=1e-9, scale=0.1)
        return Trigger()

    repairer, state = _fit(data, trigger, epochs=7)
    undo = [r for r in repairer.repairs if r["action"] == "undo_lr_change"]
    assert len(undo) == 1 and undo[0]["epoch"] == 1 + STALL_EPOCHS, repairer.repairs
    assert undo[0]["after"]["lr_scale"] == 1.0 and "decay" in repairer._refuted
    assert "did not end the stall" in undo[0]["reason"]


def test_a_decay_that_ends_the_stall_is_kept(data):
    def trigger(repairer):
        class Trigger:
            def on_epoch_end(self, state):
                if state.epoch == 1 and not repairer.repairs and repairer._probation is None \
                        and state.controls.lr_scale == 1.0:
                    _put_on_probation(repairer, state, kind="decay", reference=math.inf, scale=0.5)
        return Trigger()

    repairer, state = _fit(data, trigger, epochs=4)
    assert repairer.repairs == [] and repairer._probation is None and state.controls.lr_scale == 0.5


def test_a_plateau_decay_goes_on_probation_and_the_slow_codes_wait_for_its_verdict(data):
    """``_apply`` of a plateau's lr decay during training keeps the trajectory, judges it against
    the lowest of the STALL_EPOCHS + 1 epoch losses the plateau rule read (the epoch before the
    stall included: the trajectory left alone reaches its own lowest again by its noise), and holds
    the slow-learning codes until the verdict (given after the STALL_EPOCHS-th epoch's validation)."""
    seen = {}

    def trigger(repairer):
        class Trigger:
            def on_epoch_end(self, state):
                if state.epoch == 4 and not seen:
                    # a noisy stall: the epoch before it (0.70) is below the stall's three (0.80, 0.79, 0.81)
                    for row, loss in zip(state.history, (0.70, 0.80, 0.79, 0.81)):
                        row["train_loss"] = loss
                    plan = make_plan("lower_lr", "stalled", rollback=Rollback.NONE, factor=10.0)
                    seen["applied"] = repairer._apply(state, make("plateau", "x"), plan, before_training=False)
                    seen["probation"], seen["settle"] = repairer._probation, dict(repairer._settle)
                    seen["losses"] = [h["train_loss"] for h in state.history]
        return Trigger()

    _fit(data, trigger, epochs=5)
    p = seen["probation"]
    assert seen["applied"] and p.kind == "decay" and p.epochs == 4
    assert p.reference == min(seen["losses"][-(STALL_EPOCHS + 1):]) == 0.70
    assert all(seen["settle"][code] == 4 + STALL_EPOCHS + 1 for code in SLOW_CODES)


def test_a_refuted_kind_of_change_is_declined_before_its_trial(data, monkeypatch):
    """After an undo no change of that kind is made, and its trial does not even run."""
    ran = []
    monkeypatch.setattr(sizing, "larger_raise_helps", lambda *a, **k: ran.append(1))
    p = prepare(digits_mlp(), data, None, None, {**QUIET_FIT, "epochs": 1})
    repairer = Repairer(Monitor())
    state = make_trainer(p, extra_callbacks=[repairer.monitor, repairer]).fit()
    repairer._refuted["raise"] = "the raise for underfitting made at step 3 was undone at step 9"
    plan = make_plan("raise_lr", "slow", rollback=Rollback.START, factor=10.0, confirm=True)
    assert repairer._apply(state, make("underfitting", "x"), plan, before_training=False) is False
    assert ran == [] and repairer.repairs == [] and "undone at step 9" in repairer.unrepaired[0]["reason"]


def test_a_probation_is_part_of_the_checkpointed_state(data):
    """state_dict / load_state_dict / on_fit_start: the resumed repairer judges the same probation."""
    out = {}

    def trigger(repairer):
        class Trigger:
            def on_epoch_end(self, state):
                if state.epoch == 1 and "saved" not in out:
                    _put_on_probation(repairer, state, kind="raise", reference=0.5, scale=3.0)
                    repairer._refuted["decay"] = "why"
                    out["saved"], out["state"] = repairer.state_dict(), state
        return Trigger()

    _fit(data, trigger, epochs=1)
    resumed = Repairer(Monitor())
    resumed.load_state_dict(out["saved"])
    resumed.on_fit_start(out["state"])
    p = resumed._probation
    assert p is not None and (p.kind, p.code, p.reference, p.epochs) == ("raise", "underfitting", 0.5, 1)
    assert p.settings["lr_scale"] == 1.0 and p.kept.step == out["saved"]["probation"]["kept"]["step"]
    assert resumed._refuted == {"decay": "why"} and not resumed.errors


def test_undo_lr_change_sets_the_earlier_settings_through_the_controls():
    calls = []
    controls = SimpleNamespace(set_lr_scale=lambda s: calls.append(("lr_scale", s)),
                               set_clip_norm=lambda c: calls.append(("clip_norm", c)),
                               rebuild_optimizer=lambda **o: calls.append(("optimizer", o)))
    detail = ACTIONS["undo_lr_change"].apply(controls, {"lr_scale": 0.5, "clip_norm": None,
                                                        "optimizer": {"momentum": 0.0, "nesterov": False}}, seed=0)
    assert calls == [("lr_scale", 0.5), ("clip_norm", None), ("optimizer", {"momentum": 0.0, "nesterov": False})]
    assert detail == "lr scale 0.5, momentum 0.0, nesterov False"


# ------------------------------------------------------------------------------ dead units during training
def _ctx(ratio, **extra):
    controls = SimpleNamespace(clip_norm=None, optimizer_overrides={}, preprocess=[], optimizer=None,
                               config=SimpleNamespace(weight_decay=5e-4, l2=0.0), model=digits_mlp())
    samples = [{"loss": 1.0, "lr": 0.1, "update_ratio": {"0.weight": ratio, "2.weight": ratio}}] * 16   # not falling
    return RepairContext(**{"controls": controls, "samples": samples, "lr": 0.1, **extra})


def test_units_that_die_without_large_updates_keep_the_lr():
    """Units that died during training blame the lr only through large updates: with no sample's
    median update ratio at RATIO_HIGH the cut is not made; at it, the cut is a confirm cut (a
    paired trial decides); after a divergence repair, a plain cut as before."""
    dead = make("dead_units", "dead", evidence={"step": 100})
    left = plan_init(dead, _ctx(0.5 * RATIO_HIGH))
    assert isinstance(left, str) and "not large updates" in left
    cut = plan_init(dead, _ctx(RATIO_HIGH))
    assert isinstance(cut, Plan) and cut.action.name == "lower_lr" and cut.options["confirm"]
    after = plan_init(dead, _ctx(0.5 * RATIO_HIGH, diverged_before=True))
    assert after.action.name == "lower_lr" and not after.options.get("confirm")


def test_a_plateau_with_healthy_updates_is_decayed():
    """The decay that goes on probation: a stall with updates that are not small."""
    plan = plan_plateau(make("plateau", "x"), _ctx(2e-3))
    assert plan.action.name == "lower_lr" and plan.rollback is Rollback.NONE
    at_its_best = plan_plateau(make("plateau", "x", evidence={"loss": 1.02}), _ctx(2e-3, good_loss=1.0))
    assert at_its_best.rollback is Rollback.NONE                 # within REGRESSED of the good epoch: a stall


def test_a_plateau_while_the_schedule_still_anneals_the_lr_is_left_to_the_schedule():
    """A cosine that will take the lr 10x or more lower by the run's end makes the decay itself: no
    cut (recorded unrepaired). A constant lr, or a schedule with less than 10x left, is decayed."""
    cosine = plan_plateau(make("plateau", "x"), _ctx(2e-3, multiplier=0.2, final_multiplier=0.0))
    assert isinstance(cosine, str) and "the schedule's own" in cosine
    for now, end in ((1.0, 1.0), (0.1, 0.02)):
        plan = plan_plateau(make("plateau", "x"), _ctx(2e-3, multiplier=now, final_multiplier=end))
        assert plan.action.name == "lower_lr" and plan.options["factor"] == 10.0


def test_a_plateau_above_an_earlier_good_epoch_returns_there_before_the_decay():
    """A loss that stalls above where an earlier good epoch ended was undone by the steps since
    (what they broke, dead units say, stays broken under a smaller lr): back to that epoch, then decay."""
    plan = plan_plateau(make("plateau", "x", evidence={"loss": 1.34}), _ctx(2e-2, good_loss=1.23))
    assert plan.action.name == "lower_lr" and plan.rollback is Rollback.LAST and plan.options["factor"] == 10.0
    assert "above the 1.23 an earlier epoch ended at" in plan.reason


def test_a_run_killed_during_a_probation_resumes_as_the_run_that_never_stopped(data, tmp_path, crash_at):
    """Killed after the epoch-2 checkpoint, while a raise is on probation (put there at epoch 1,
    undone at epoch 3), the resumed run undoes it at the same step and ends as the whole run."""
    def run(run_dir, *, crash=None, resume=False):
        def trigger(repairer):
            class Trigger:
                def on_epoch_end(self, state):
                    if state.epoch == 1 and repairer._probation is None and not repairer.repairs:
                        _put_on_probation(repairer, state, kind="raise", reference=1e-9, scale=3.0)
                        repairer._probation = Probation(**{**repairer._probation.__dict__, "epochs": 3})
            return Trigger()
        monitor = Monitor()
        repairer = Repairer(monitor)
        extra = [monitor, repairer, trigger(repairer), counter] + ([crash_at(crash)] if crash else [])
        run_dir.mkdir(parents=True, exist_ok=True)
        trainer = make_trainer(prepare(digits_mlp(), data, None, None, {**QUIET_FIT, "epochs": 5}), run_dir=run_dir,
                               extra_callbacks=extra)
        if resume:
            assert trainer.load_latest_checkpoint()
        return repairer, trainer.fit()

    class Counter:
        def on_after_step(self, state):
            self.steps += 1
    counter = Counter()

    counter.steps = 0
    whole, whole_state = run(tmp_path / "whole")
    whole_steps = counter.steps                             # its steps, the undone epochs' included
    assert [r["action"] for r in whole.repairs] == ["undo_lr_change"] and whole.repairs[0]["epoch"] == 3
    per_epoch = whole_state.steps_per_epoch
    with pytest.raises(crash_at.error):
        run(tmp_path / "cut", crash=2 * per_epoch + 3)
    counter.steps = 0
    resumed, resumed_state = run(tmp_path / "cut", resume=True)
    assert counter.steps == whole_steps - 2 * per_epoch     # it went on from the epoch-2 checkpoint
    assert resumed.repairs == whole.repairs
    assert [h["train_loss"] for h in resumed_state.history] == [h["train_loss"] for h in whole_state.history]
    for (name, a), b in zip(whole_state.model.state_dict().items(), resumed_state.model.state_dict().values()):
        assert torch.equal(a, b), name


def test_after_a_plateau_decay_no_raise_is_made_in_the_fit(data, monkeypatch):
    """Hysteresis: a plateau's decay (applied through ``_apply``) closes every lr raise during
    training for the rest of the fit, a ``confirm`` one (its trial does not even run) and a
    sized one alike, kept in the checkpointed state; a cut is still made, and a raise before
    the first step (not a reading of the run's stall) still acts."""
    ran = []
    monkeypatch.setattr(sizing, "larger_raise_helps", lambda *a, **k: ran.append(1))
    p = prepare(digits_mlp(), data, None, None, {**QUIET_FIT, "epochs": 2})
    repairer = Repairer(Monitor())
    state = make_trainer(p, extra_callbacks=[repairer.monitor, repairer]).fit()
    decay = make_plan("lower_lr", "stalled", rollback=Rollback.NONE, factor=10.0, clip_norm=None)
    assert repairer._apply(state, make("plateau", "x"), decay, before_training=False)
    assert repairer._decayed and "plateau" in repairer._decayed
    for code, options in (("underfitting", {"confirm": True}), ("lr_too_low", {})):
        raise_ = make_plan("raise_lr", "slow", rollback=Rollback.LAST, factor=10.0, momentum=False, **options)
        assert repairer._apply(state, make(code, "x"), raise_, before_training=False) is False
    assert ran == [] and [r["action"] for r in repairer.repairs] == ["lower_lr"]
    assert all("does not move the lr back and forth" in u["reason"] for u in repairer.unrepaired)
    cut = make_plan("lower_lr", "exploded", rollback=Rollback.NONE, factor=10.0, clip_norm=None)
    assert repairer._apply(state, make("loss_exploding", "x"), cut, before_training=False)
    assert Repairer(Monitor())._decayed is None
    resumed = Repairer(Monitor())
    resumed.load_state_dict(repairer.state_dict())
    assert resumed._decayed == repairer._decayed
