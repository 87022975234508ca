"""Weight averaging during a run: EMA / Polyak averaging and stochastic weight averaging (SWA).

``average = {method = "ema", decay = 0.999}`` keeps an exponential moving average of the weights
(notes 004: "parameter averaging ... almost always better"; Polyak & Juditsky 1992):

    w_ema <- d_t · w_ema + (1 - d_t) · w,    d_t = min(decay, (1 + t) / (10 + t)) with ``warmup``

(t: updates so far; the warm-up is TensorFlow's ``ExponentialMovingAverage(num_updates=...)``),
one ``torch._foreach_lerp_`` over the parameters and the floating-point buffers (batch-norm
statistics are averaged like the weights; integer buffers are copied), no host sync.

``average = {method = "swa", start = 0.75, lr = ..., anneal_epochs = 5}`` (Izmailov et al. 2018):
from ``start`` x the run's epochs on, the lr is annealed (cosine) from the schedule's value to the
SWA lr over ``anneal_epochs`` and then held; at the end of every epoch of that phase (or every
``every`` steps) the weights enter an equal-weight running mean

    w_swa <- w_swa + (w - w_swa) / (n + 1),    n <- n + 1

and before the averaged weights are evaluated their batch-norm statistics are recomputed with
one pass over the training data (``torch.optim.swa_utils.update_bn``: reset, then a cumulative
average over the batches, in train mode). Buffers other than batch-norm's follow the model,
as ``AveragedModel(use_buffers=False)`` keeps them.

Either way the averaged copy is ``state.eval_model``: validation, the best weights, the test
evaluation and the saved model use it. The raw model's validation loss and accuracy are recorded
beside it (``raw_val_loss``, ``raw_val_acc``) and its weights are saved as
``raw_model.safetensors``. The averaged weights and counters live in ``state.extras["average"]``,
so every checkpoint holds them and a resumed run continues the same average bit for bit; the
entry is part of the trajectory (``state.controls.rolls_back``), so a rollback (the babysitter's
repairs) restores the average as it was at the snapshot, not one of the abandoned steps.
"""
from __future__ import annotations

import copy
import math

import torch
from safetensors.torch import save_model
from torch.optim.swa_utils import update_bn

from trainwell.errors import ConfigError
from trainwell.options import Option, check_options, did_you_mean, must_be
from trainwell.train.callbacks import Callback
from trainwell.train.metrics import evaluate_model
from trainwell.train.rundir import atomic_path

EXTRAS_KEY = "average"
RAW_MODEL_FILE = "raw_model.safetensors"
# TensorFlow's ExponentialMovingAverage warm-up: d_t = min(decay, (1 + t) / (10 + t)).
EMA_WARMUP_OFFSET = 10

_UNIT = must_be(lambda v: 0 < v < 1, "a number in (0, 1)")
_AT_LEAST_ONE = must_be(lambda v: v >= 1, "an integer >= 1")

AVERAGE_OPTIONS = {
    "ema": {
        "decay": Option(float, 0.999, "d: w_ema <- d·w_ema + (1-d)·w after each update",
                        source="timm ModelEmaV3 (0.9999 for ImageNet runs; 0.999 suits runs of "
                               "thousands of steps); notes 004: e.g. 0.995", check=_UNIT),
        "warmup": Option(bool, True, "use d_t = min(decay, (1+t)/(10+t)) so early weights fade fast",
                         source="TensorFlow ExponentialMovingAverage(num_updates)"),
        "every": Option(int, 1, "steps between updates", source="timm ModelEmaV3 (update every step)",
                        check=_AT_LEAST_ONE),
    },
    "swa": {
        "start": Option(float, 0.75, "fraction of the epochs after which the SWA phase begins",
                        source="Izmailov et al. 2018 (SWA from 75% of the budget)",
                        check=must_be(lambda v: 0 <= v < 1, "a number in [0, 1)")),
        "lr": Option((float, type(None)), None, "the constant SWA learning rate (None: half the run's lr)",
                     source="Izmailov et al. 2018 (PreResNet: lr 0.1, SWA lr 0.05)",
                     check=must_be(lambda v: v > 0, "> 0")),
        "anneal_epochs": Option(int, 5, "epochs of cosine annealing from the schedule's lr to the SWA lr",
                                source="torch.optim.swa_utils.SWALR example (anneal_epochs=5)",
                                check=must_be(lambda v: v >= 0, "an integer >= 0")),
        "every": Option((int, type(None)), None, "average every this many steps (None: each epoch end)",
                        source="Izmailov et al. 2018 (once per epoch)", check=_AT_LEAST_ONE),
        "bn_update": Option(bool, True, "recompute batch-norm statistics of the average over the "
                            "training data before it is evaluated",
                            source="Izmailov et al. 2018; torch.optim.swa_utils.update_bn"),
    },
}
SWA_DEFAULT_LR_FRACTION = 0.5       # Izmailov et al. 2018, PreResNet on CIFAR: 0.1 -> 0.05


def average_options(spec) -> dict | None:
    """The checked ``average`` table with its defaults filled in (None: no averaging)."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise ConfigError(f"average = {spec!r}: must be a table such as {{method = \"ema\"}}")
    options = dict(spec)
    method = options.pop("method", None)
    if method not in AVERAGE_OPTIONS:
        raise ConfigError(f"average.method = {method!r}: unknown{did_you_mean(method, AVERAGE_OPTIONS)}; "
                          f"allowed: {', '.join(AVERAGE_OPTIONS)}")
    return {"method": method, **check_options(f"average {method!r}", options, AVERAGE_OPTIONS[method],
                                              label="average.{name}")}


def check_average_spec(spec) -> str | None:
    """Config validation of ``average`` (a ConfigError names the key)."""
    average_options(spec)
    return None


# ------------------------------------------------------------------------------ the lr of SWA
class SWASchedule:
    """``inner`` until ``start_step``; then cosine from inner(start_step) to ``swa_mult`` over
    ``anneal_steps`` and ``swa_mult`` after (the multiplier of ``SWALR(anneal_strategy="cos")``
    as a function of the step). Keeps a stateful inner schedule's ``observe``/``state_dict``."""

    def __init__(self, inner, *, start_step: int, swa_mult: float, anneal_steps: int):
        self.inner, self.start_step = inner, start_step
        self.swa_mult, self.anneal_steps = swa_mult, anneal_steps

    def _inner(self, step: int) -> float:
        return self.inner(step) if self.inner is not None else 1.0

    def __call__(self, step: int) -> float:
        if step < self.start_step:
            return self._inner(step)
        if self.anneal_steps == 0 or step - self.start_step >= self.anneal_steps:
            return self.swa_mult
        t = (step - self.start_step) / self.anneal_steps
        begin = self._inner(self.start_step)
        return self.swa_mult + (begin - self.swa_mult) * (1.0 + math.cos(math.pi * t)) / 2.0

    def observe(self, value) -> None:
        if hasattr(self.inner, "observe"):
            self.inner.observe(value)

    def state_dict(self) -> dict:
        return self.inner.state_dict() if hasattr(self.inner, "state_dict") else {}

    def load_state_dict(self, state: dict) -> None:
        if hasattr(self.inner, "load_state_dict"):
            self.inner.load_state_dict(state)


def swa_start_epoch(options: dict, epochs: int) -> int:
    """The epoch (counted from 0) at which the SWA phase begins."""
    return int(options["start"] * epochs)


def average_schedule(config, schedule, steps_per_epoch: int):
    """The run's schedule, with SWA's lr phase when ``average`` is SWA (else unchanged)."""
    options = average_options(config.average)
    if options is None or options["method"] != "swa":
        return schedule
    lr = options["lr"] if options["lr"] is not None else SWA_DEFAULT_LR_FRACTION * config.lr
    start = swa_start_epoch(options, config.epochs)
    swa_steps = (config.epochs - start) * steps_per_epoch
    return SWASchedule(schedule, start_step=start * steps_per_epoch, swa_mult=lr / config.lr,
                       anneal_steps=min(options["anneal_epochs"] * steps_per_epoch, swa_steps))


# ------------------------------------------------------------------------------ the averages
class Averager(Callback):
    """Keeps the averaged copy of ``state.model`` (EMA or SWA, ``options`` from
    ``average_options``) as ``state.eval_model``. The raw model is evaluated on the validation
    data (``state.controls.val_data``) too, with ``loss_fn`` (None: the run's, ``state.loss_fn``) and
    ``accuracy``, into ``raw_val_loss`` / ``raw_val_acc``; ``bn_batch_size``: the batch-norm recalibration's batch size."""

    def __init__(self, options: dict, *, steps_per_epoch: int, epochs: int, loss_fn=None,
                 accuracy=None, eval_batch_size: int = 2048, bn_batch_size: int = 64):
        self.options, self.method = options, options["method"]
        self.steps_per_epoch, self.epochs = steps_per_epoch, epochs
        self.loss_fn, self.accuracy = loss_fn, accuracy
        self.eval_batch_size, self.bn_batch_size = eval_batch_size, bn_batch_size
        self.copy = None
        self.record: dict = {}
        self.ours = self.theirs = []          # the averaged tensors and the model's (foreach lists)
        self.copied = ([], [])                # buffers copied from the model, not averaged

    # -------------------------------------------------------------- lifecycle
    def on_fit_start(self, state):
        self.copy = copy.deepcopy(state.model).requires_grad_(False)
        saved = state.extras.get(EXTRAS_KEY)
        if saved is not None:                  # a resumed run: continue the checkpointed average
            self.copy.load_state_dict(saved["weights"])
            record = {k: v for k, v in saved.items() if k != "weights"}
        else:
            record = {"method": self.method, "updates": 0, "bn_stale": False}
        # the record is the extras entry and its weights share storage with the copy: a
        # checkpoint holds the current average, and a rollback (which restores the entry in
        # place, controls.rolls_back) restores the average's weights and counters with it
        self.record = state.extras[EXTRAS_KEY] = {**record, "weights": self.copy.state_dict()}
        rolls_back = getattr(getattr(state, "controls", None), "rolls_back", None)
        if rolls_back is not None:             # (a user's own loop may have no such controls)
            rolls_back(EXTRAS_KEY)
        self._pairs(state.model)
        self._evaluate_average(state)

    def on_model_changed(self, state):
        """The model was changed in place into another one (controls.model_changed: a repair's
        re-initialization or swapped activations): an average of the model it was is not one of
        this model (another structure, weights it does not descend from), so the average starts
        again from the model as it is now, in the same extras entry (a later rollback restores it)."""
        old, self.copy = self.copy, copy.deepcopy(state.model).requires_grad_(False)
        self.record.update({"updates": 0, "bn_stale": False, "weights": self.copy.state_dict()})
        self._pairs(state.model)
        if state.eval_model is old:
            state.eval_model = None              # _evaluate_average sets the new copy when it averages
        self._evaluate_average(state)

    def _evaluate_average(self, state) -> None:
        """The averaged copy is the evaluated model once it holds an average (EMA: from the start;
        SWA: from its first update, so a rollback to before it evaluates the model again)."""
        if self.method == "ema" or self.record["updates"] > 0:
            state.eval_model = self.copy
        elif state.eval_model is self.copy:
            state.eval_model = None

    def _pairs(self, model) -> None:
        """The averaged tensors and the model's, as lists for the foreach ops."""
        ours, theirs = [], []
        for a, b in zip(self.copy.parameters(), model.parameters()):
            ours.append(a)
            theirs.append(b)
        floats, ints = ([], []), ([], [])
        for a, b in zip(self.copy.buffers(), model.buffers()):
            target = floats if torch.is_floating_point(a) else ints
            target[0].append(a)
            target[1].append(b)
        if self.method == "ema":                 # EMA averages float buffers like the weights
            ours, theirs = ours + floats[0], theirs + floats[1]
            self.copied = ints
        else:                                    # SWA keeps the model's buffers (BN: recomputed)
            self.copied = (floats[0] + ints[0], floats[1] + ints[1])
        self.ours, self.theirs = ours, theirs

    # -------------------------------------------------------------- updates
    @torch.no_grad()
    def on_after_step(self, state):
        if self.method == "ema":
            if state.step % self.options["every"] == 0:
                self._ema_update(state)
        elif self.options["every"] is not None and self._in_swa_phase(state) and \
                (state.step - self._swa_start_step()) % self.options["every"] == 0:
            self._swa_update(state)

    def _ema_update(self, state) -> None:
        t = self.record["updates"]
        decay = self.options["decay"]
        if self.options["warmup"]:
            decay = min(decay, (1.0 + t) / (EMA_WARMUP_OFFSET + t))
        torch._foreach_lerp_(self.ours, self.theirs, 1.0 - decay)
        if self.copied[0]:
            torch._foreach_copy_(self.copied[0], self.copied[1])
        self.record["updates"] = t + 1

    def _swa_start_step(self) -> int:
        return swa_start_epoch(self.options, self.epochs) * self.steps_per_epoch

    def _in_swa_phase(self, state) -> bool:
        return state.step > self._swa_start_step()

    def _swa_update(self, state) -> None:
        n = self.record["updates"]
        if n == 0:
            torch._foreach_copy_(self.ours, self.theirs)
        else:
            torch._foreach_lerp_(self.ours, self.theirs, 1.0 / (n + 1))
        if self.copied[0]:
            torch._foreach_copy_(self.copied[0], self.copied[1])
        self.record["updates"] = n + 1
        self.record["bn_stale"] = True
        state.eval_model = self.copy

    # -------------------------------------------------------------- evaluation
    @torch.no_grad()
    def on_validation_start(self, state):
        self._evaluate_average(state)        # after a rollback, as the restored record says
        if self.method == "swa" and self.options["every"] is None and self._in_swa_phase(state):
            self._swa_update(state)
        if self.method == "swa" and self.record["bn_stale"] and self.options["bn_update"]:
            self.recalibrate(state)

    def recalibrate(self, state) -> None:
        """Batch-norm statistics of the average from one pass over the (unaugmented) training
        inputs in batches of ``bn_batch_size``; the global RNG (dropout) is left untouched."""
        X = state.controls.train_data[0]
        batches = [X[i:i + self.bn_batch_size] for i in range(0, X.shape[0], self.bn_batch_size)]
        devices = [X.device] if X.is_cuda else []
        with torch.random.fork_rng(devices=devices):
            update_bn(batches, self.copy)
        self.record["bn_stale"] = False

    def on_validation_end(self, state):
        val = state.controls.val_data
        if val is None or state.eval_model is None:
            return
        with state.precision.autocast():     # as the averaged copy is evaluated (train/precision.py)
            raw = evaluate_model(state.model, self.loss_fn or state.loss_fn, self.accuracy, *val,
                                 batch_size=self.eval_batch_size)
        state.model.train()
        state.metrics["raw_val_loss"], state.metrics["raw_val_acc"] = raw["loss"], raw["acc"]

    def on_fit_end(self, state):
        if state.run_dir is not None and state.eval_model is self.copy:
            with atomic_path(state.run_dir / RAW_MODEL_FILE) as temp:
                save_model(state.model, str(temp))


def make_averager(config, *, steps_per_epoch: int, loss_fn=None, accuracy=None) -> list:
    """``[Averager]`` when the config asks for averaging, else ``[]`` (``fit`` adds it)."""
    options = average_options(config.average)
    if options is None:
        return []
    return [Averager(options, steps_per_epoch=steps_per_epoch, epochs=config.epochs,
                     loss_fn=loss_fn, accuracy=accuracy, eval_batch_size=config.eval_batch_size,
                     bn_batch_size=config.batch_size)]
