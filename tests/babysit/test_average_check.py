"""average_check: a user's callback whose averaged eval model, over the run's updates, stays mostly the
initial weights (an exponential average's per-step decay applied once an epoch) is found by the doctor
and named; averages that forget their start within the run (per step, an equal-weight mean, trainwell's
own EMA) and averages that never update within the check stay quiet. The doctor runs whole where it
finds and names one (its wiring); the other cases call the check as the doctor calls it (``check``):
the callbacks change nothing else the doctor reads for this code, and the time backstop cannot
leave the check out, so a quiet case is quiet because the check ran and found nothing."""
import copy

import torch
from torch import nn

from babysit_loop import as_the_doctor_calls

from trainwell.babysit import average_check
from trainwell.babysit.doctor import doctor
from trainwell.babysit.registry import CODES
from trainwell.train.average import Averager, average_options
from trainwell.train.callbacks import Callback


def three_classes(n=1500, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(3, 8, generator=g) * 1.5
    y = torch.randint(0, 3, (n,), generator=g)
    return centres[y] + torch.randn(n, 8, generator=g), y


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))


class Average(Callback):
    """An exponential average of the weights, validated in place of the model: updated with factor
    ``decay`` in ``hook``, optionally only from ``start_epoch`` on."""

    def __init__(self, decay, hook, start_epoch=0):
        self.decay, self.hook, self.start_epoch = decay, hook, start_epoch

    def on_fit_start(self, state):
        self.shadow = copy.deepcopy(state.model)
        state.eval_model = self.shadow

    def update(self, state):
        if state.epoch < self.start_epoch:
            return
        with torch.no_grad():
            torch._foreach_mul_(list(self.shadow.parameters()), self.decay)
            torch._foreach_add_(list(self.shadow.parameters()), list(state.model.parameters()), alpha=1 - self.decay)

    def on_after_step(self, state):
        if self.hook == "step":
            self.update(state)

    def on_epoch_end(self, state):
        if self.hook == "epoch":
            self.update(state)


class EqualMean(Callback):
    """Stochastic weight averaging's equal-weight running mean, one update an epoch, from the start."""

    def on_fit_start(self, state):
        self.mean, self.n = copy.deepcopy(state.model), 1
        state.eval_model = self.mean

    def on_epoch_end(self, state):
        with torch.no_grad():
            for a, w in zip(self.mean.parameters(), state.model.parameters()):
                a.add_((w - a) / (self.n + 1))
        self.n += 1


def diagnose(callbacks, epochs=20, **options):
    X, y = three_classes()
    d = doctor(net(), (X[:1000], y[:1000]), (X[1000:], y[1000:]), optimizer="adam", lr=1e-3, batch_size=32,
               epochs=epochs, callbacks=callbacks, probe=False, **options)
    return [f for f in d.findings if f.code == "eval_mode_gap"]


def check(callbacks, epochs=20, **options):
    """``average_check.check_eval_model`` on ``diagnose``'s setup, as the doctor calls it, no budget."""
    X, y = three_classes()
    return as_the_doctor_calls(average_check.check_eval_model, net(), (X[:1000], y[:1000]), (X[1000:], y[1000:]),
                               optimizer="adam", lr=1e-3, batch_size=32, epochs=epochs, callbacks=callbacks,
                               **options)


def test_a_per_step_decay_applied_once_an_epoch_is_found_and_named():
    found = diagnose([Average(0.99, "epoch")])
    assert len(found) == 1
    f = found[0]
    assert f.severity == "warning" and f.where == "Average.on_epoch_end"
    e = f.evidence
    assert abs(e["factor"] - 0.99) < 1e-3                       # an exponential average's factor is its decay
    assert abs(e["updates"] - 20) < 1e-9                        # one update an epoch, 20 epochs
    assert abs(e["retained"] - 0.99 ** 20) < 1e-2 and e["retained"] >= average_check.RETAINED
    assert e["mixed_loss"] > e["trained_loss"] and "on_after_step" in f.fix


def test_averages_that_forget_their_start_within_the_run_are_quiet():
    assert check([Average(0.99, "step")]) == []                 # 0.99 ** (steps) ~ 0
    assert check([Average(0.8, "epoch")]) == []                 # 0.8 ** 20 ~ 1 %
    assert check([EqualMean()]) == []                           # an equal-weight mean: 1 / epochs of the start
    # a late start: no update within the check's steps, nothing seen
    assert check([Average(0.99, "epoch", start_epoch=15)]) == []


def test_trainwell_s_own_ema_as_a_callback_is_quiet():
    X, _ = three_classes()
    ema = Averager(average_options({"method": "ema", "decay": 0.999}), steps_per_epoch=32, epochs=20)
    assert check([ema]) == []


def test_a_short_run_is_judged_on_its_own_updates():
    # the same per-epoch average over a run of 200 epochs forgets its start (0.99 ** 200 = 13 %)
    assert check([Average(0.99, "epoch")], epochs=200) == []


def test_the_thresholds_are_listed_in_the_registry():
    listed = CODES["eval_mode_gap"].thresholds
    for name in ("RETAINED", "EPOCHS"):
        assert f"average_check.{name}" in listed


def test_trainwell_s_average_option_is_read_as_fit_adds_it():
    # an ImageNet decay (0.9999) on a 640-step run: with its warm-up the average follows the weights; without
    # it the run's average keeps 0.9999 ** 640 = 94 % of the start
    assert check([], average={"method": "ema", "decay": 0.9999}) == []
    found = check([], average={"method": "ema", "decay": 0.9999, "warmup": False})
    assert len(found) == 1 and found[0].where.startswith("average = ") and found[0].evidence["hook"] == "on_after_step"
    assert abs(found[0].evidence["factor"] - 0.9999) < 1e-4


class StepLogger(Callback):
    """Another callback on the same hooks: it reads the loss and changes nothing."""

    def __init__(self):
        self.seen = 0

    def on_after_step(self, state):
        self.seen += 1

    def on_epoch_end(self, state):
        self.seen += 0


def test_the_updates_are_counted_per_call_of_the_loop_not_per_callback():
    found = check([StepLogger(), Average(0.99, "epoch"), StepLogger()])
    assert len(found) == 1 and abs(found[0].evidence["updates"] - 20) < 1e-9
    assert check([StepLogger(), Average(0.99, "step")]) == []
