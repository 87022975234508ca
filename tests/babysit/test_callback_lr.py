"""callback_lr: the lr a user's callback sets before each step, read over the run's planned steps.
A warmup whose cap is left out (it keeps raising the lr all run) and a callback that doubles the lr
every epoch are found as ``lr_too_high`` naming the callback; a capped warmup, a decay and a cyclic
lr the setup trains at stay quiet."""
import copy
import math

import pytest
import torch
from torch import nn

import trainwell
from trainwell.babysit import callback_lr
from trainwell.babysit.doctor import doctor
from trainwell.train.callbacks import Callback
from trainwell.train.fit import prepare


class Warmup(Callback):
    """A user's linear warmup over ``steps`` steps; ``capped=False``: ``base * step / steps``."""

    def __init__(self, base, steps, *, capped=True):
        self.base, self.steps, self.capped = base, steps, capped

    def on_before_step(self, state):
        ramp = (state.step + 1) / self.steps
        for group in state.optimizer.param_groups:
            group["lr"] = self.base * (min(1.0, ramp) if self.capped else ramp)


class DoubleEachEpoch(Callback):
    """Meant to halve the lr each epoch, written ``* 2 ** epoch``."""

    def __init__(self, base):
        self.base = base

    def on_before_step(self, state):
        for group in state.optimizer.param_groups:
            group["lr"] = self.base * 2.0 ** state.epoch


class Decay(Callback):
    def __init__(self, base):
        self.base = base

    def on_before_step(self, state):
        for group in state.optimizer.param_groups:
            group["lr"] = self.base * 0.5 ** state.epoch


class Triangle(Callback):
    """A cyclic lr between 1x and ``top`` x the base (Smith 2017's triangular policy), period 100 steps."""

    def __init__(self, base, top):
        self.base, self.top = base, top

    def on_before_step(self, state):
        phase = 1 - abs((state.step % 100) - 50) / 50
        for group in state.optimizer.param_groups:
            group["lr"] = self.base * (1 + (self.top - 1) * phase)


class NeedsMetrics(Callback):
    """Raises outside the loop's state (no validation metrics before the first epoch ends)."""

    def on_before_step(self, state):
        for group in state.optimizer.param_groups:
            group["lr"] = 1e-3 * state.history[-1]["val_acc"]


SGD = dict(optimizer="sgd", momentum=0.9, lr=0.05, schedule="constant", batch_size=32, epochs=10)
ADAM = dict(optimizer="adam", lr=1e-3, batch_size=32, epochs=10)


def _prepared(four_class, four_class_mlp, callbacks, options=SGD):
    X, y = four_class
    return prepare(four_class_mlp(), (X[:900], y[:900]), (X[900:], y[900:]), None,
                   {**options, "callbacks": callbacks}, check=False)


def _doctor(four_class, four_class_mlp, callbacks, options=SGD):
    # wall_s=None: no backstop, so a quiet result cannot come from a check it left out
    X, y = four_class
    return doctor(four_class_mlp(), (X[:900], y[:900]), (X[900:], y[900:]), callbacks=callbacks, probe=False,
                  budget_s=60, wall_s=None, **options)


def test_the_course_is_the_lr_the_callbacks_leave_before_each_step(four_class, four_class_mlp):
    p = _prepared(four_class, four_class_mlp, [Warmup(0.05, 50, capped=False)])
    course, ran = callback_lr.course(p)
    total = p.config.epochs * math.ceil(900 / 32)
    assert course.steps == list(range(total)) and [type(c).__name__ for c in ran] == ["Warmup"]
    # the uncapped ramp, (t + 1) / 50 of the configured lr at every step; the loop's own lr stays 1x
    assert course.multipliers == pytest.approx([(t + 1) / 50 for t in range(total)])
    assert course.loop == pytest.approx([1.0] * total)
    assert course(total - 1) == pytest.approx(total / 50) and course.at(10) == pytest.approx((11 / 50, 1.0))
    capped, _ = callback_lr.course(_prepared(four_class, four_class_mlp, [Warmup(0.05, 50)]))
    assert max(capped.multipliers) == pytest.approx(1.0)
    doubled, _ = callback_lr.course(_prepared(four_class, four_class_mlp, [DoubleEachEpoch(0.05)]))
    per_epoch = math.ceil(900 / 32)
    assert doubled(per_epoch - 1) == pytest.approx(1.0) and doubled(per_epoch) == pytest.approx(2.0)
    assert doubled(total - 1) == pytest.approx(2.0 ** 9)


def test_callbacks_outside_the_check_leave_the_course_unread(four_class, four_class_mlp):
    # no on_before_step: nothing to read; a hook that raises on the state before training: left out
    assert callback_lr.course(_prepared(four_class, four_class_mlp, [])) is None
    assert callback_lr.course(_prepared(four_class, four_class_mlp, [NeedsMetrics()])) is None


def test_the_users_callback_and_model_are_not_touched(four_class, four_class_mlp):
    class Counting(DoubleEachEpoch):
        seen = 0

        def on_before_step(self, state):
            self.seen += 1
            super().on_before_step(state)

    cb = Counting(0.05)
    p = _prepared(four_class, four_class_mlp, [cb])
    before = copy.deepcopy(p.model.state_dict())
    _, ran = callback_lr.course(p)
    assert ran[0].seen == p.config.epochs * math.ceil(900 / 32) and cb.seen == 0 and p.config.callbacks[0] is cb
    assert all(torch.equal(before[k], v) for k, v in p.model.state_dict().items())


@pytest.mark.parametrize("callback", [Warmup(0.05, 20, capped=False), DoubleEachEpoch(0.05)])
def test_a_callback_that_drives_the_lr_up_is_found(four_class, four_class_mlp, callback):
    diag = _doctor(four_class, four_class_mlp, [callback])
    found = [f for f in diag.findings if f.code == "lr_too_high"]
    assert len(found) == 1
    f = found[0]
    ev = f.evidence
    assert f.severity == "warning" and ev["callback_peak"] and ev["callbacks"] == [type(callback).__name__]
    assert f.where == f"{type(callback).__name__}.on_before_step"
    # the peak is at least PEAK_RATIO x the configured lr, and its arm ends above the snapshot's
    assert ev["multiplier"] >= callback_lr.PEAK_RATIO and math.isclose(ev["peak_lr"], 0.05 * ev["multiplier"])
    assert not math.isfinite(ev["peak"]) or ev["peak"] > 1.1 * ev["snapshot"]
    assert f"{type(callback).__name__}.on_before_step" in f.message and "warmup_steps" in f.fix
    assert diag.primary.code == "lr_too_high"


@pytest.mark.parametrize("callbacks, options", [([Warmup(0.05, 20)], SGD), ([Decay(0.05)], SGD),
                                                ([Triangle(1e-3, 3.0)], ADAM), ([], SGD)])
def test_callbacks_the_setup_trains_at_are_quiet(four_class, four_class_mlp, callbacks, options):
    diag = _doctor(four_class, four_class_mlp, callbacks, options)
    assert not any(f.code == "lr_too_high" and f.evidence.get("callback_peak") for f in diag.findings)


def test_the_triangle_is_probed_and_trains_on(four_class, four_class_mlp):
    """The cyclic lr reaches 3x (a candidate), and its peak arm ends below the snapshot: a verdict
    from the experiment, not from the threshold."""
    p = _prepared(four_class, four_class_mlp, [Triangle(1e-3, 3.0)], ADAM)
    course, _ = callback_lr.course(p)
    assert max(course.multipliers) == pytest.approx(3.0)
    X, y = four_class
    r = callback_lr.experiment(p.model, X[:900], y[:900], nn.functional.cross_entropy, schedule=course,
                               total_steps=course.steps[-1] + 1, optimizer="adam", lr=1e-3, batch_size=32)
    assert r is not None and not r["diverges"] and not callback_lr.rises_past_control(r)


def test_a_rise_is_judged_against_the_snapshot_and_the_control():
    r = {"peak": 0.66, "snapshot": 0.46, "control": 0.47}
    assert callback_lr.rises_past_control(r)
    assert not callback_lr.rises_past_control({**r, "control": 0.62})     # the same batches rise at the lr too
    assert not callback_lr.rises_past_control({**r, "peak": 0.50})        # within RISE of the snapshot
    assert not callback_lr.rises_past_control({**r, "snapshot": math.inf})


def test_the_fault_it_names_hurts_the_run(four_class, four_class_mlp):
    """The constructed fault is a fault: the uncapped warmup ends behind the capped one."""
    X, y = four_class
    losses = {}
    for capped in (True, False):
        run = trainwell.fit(four_class_mlp(), (X[:900], y[:900]), val=(X[900:], y[900:]),
                            callbacks=[Warmup(0.05, 20, capped=capped)], **SGD, babysit="off", progress=False,
                            report=False, run_dir=None, seed=0)
        losses[capped] = run.history[-1]["val_loss"]
    assert not losses[False] <= 1.2 * losses[True]
