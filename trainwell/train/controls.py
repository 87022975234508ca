"""The documented controls a callback may use to change a running training (the babysitter's
repairs use nothing else): ``state.controls``.

    snap = state.controls.snapshot()          # everything an exact resume needs, in memory
    state.controls.set_lr_scale(state.controls.lr_scale / 10)
    state.controls.restore(snap)              # roll back; the loop continues from there

Settings changed here (lr scale, clipping, optimizer overrides, added preprocessing, shuffling,
the lr schedule's replacement, stretch and warmup, a plateau schedule's mode, the augmentation, a
callback's hook detached, the batch size, a refitted preprocess and the entry layers it widened,
the regularization) are part of every checkpoint, so a repaired run resumes with them.

A rollback restores the trajectory: the weights, optimizer, schedule, random states, batch
position, counters, history, best weights, and the ``state.extras`` entries a callback declared
part of it (``rolls_back(key)``: an average of the weights is); other extras (the babysitter's
record of its repairs) and the settings are kept.

Under DDP the changes are rank 0's decisions: ``journal`` (train/journal.py) records them on
rank 0 while a decision point is open (``deciding``: fit start, a check step, validation end,
epoch end) and replays them on every other rank at the check that follows, so the replicas stay
equal. A change made elsewhere under DDP raises ``RuntimeError`` (it would desynchronize them).
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools

import torch
from torch import nn

from trainwell.data.augment import make_augment
from trainwell.data.batches import Batches
from trainwell.data.streaming import HostRows, StreamBatches, apply_module, fit_streamed
from trainwell.data.transforms import fit_preprocess
from trainwell.errors import ConfigError
from trainwell.optim.schedules import changes_between, make_schedule, plateau_in, stretch
from trainwell.train.average import average_options, average_schedule
from trainwell.train.regularizers import OFF, build_constraint, build_loss, build_penalty


def shared(method):
    """A change of the run: under DDP recorded on rank 0 and replayed on the other ranks."""
    @functools.wraps(method)
    def change(self, *args, **kwargs):
        if self.journal is None:
            return method(self, *args, **kwargs)
        return self.journal.record(method.__name__, args, kwargs, lambda: method(self, *args, **kwargs))
    return change


class SavedState(dict):
    """A snapshot: a state dict that the journal can name (``id``) and watch (a weak reference)."""


class Controls:
    """The running Trainer's controls; reached as ``state.controls``.

    ``optimizer_factory(model, **overrides) -> optimizer`` builds the run's optimizer with some
    options changed; without one, ``rebuild_optimizer`` raises.
    """

    def __init__(self, trainer, *, optimizer_factory=None):
        self._trainer = trainer
        self._optimizer_factory = optimizer_factory
        self._clip_norm: float | None = None
        self._replaced_clip = False           # set_clip_norm(configured=True) turned the configured clip off
        self._optimizer_overrides: dict = {}
        self._preprocess: list[dict] = []     # specs of the steps add_preprocess() fitted
        self.added_preprocess: list = []      # those fitted modules, in order (fit saves them)
        self.rolled_back = False              # set by restore(); the loop clears it once it
                                              # has continued from the restored position
        self.journal = None                   # under DDP: rank 0's changes, replayed on the others
        self._trajectory: list[str] = []      # state.extras keys a rollback restores (rolls_back)
        self._regularization: dict = {}       # options set_regularization changed so far
        self._replaced: dict | None = None    # replace_schedule's {"spec", "from_step"} (None: the run's own)
        self._stretch = 1.0                   # stretch_schedule's factor so far
        self._unstretched = None              # the run's own schedule, before any stretch
        self._warmup: int | None = None       # set_warmup's warmup steps (None: the configured warmup)
        self._augment: list | None = None     # set_augment's augmentation specs (None: the configured ones)
        self._plateau_mode: str | None = None  # set_plateau_mode's mode (None: the configured one)
        self._detached: list = []             # detach_hook's (callback class name, hook) pairs so far
        self._raw = None                      # keep_raw_inputs: the rows before the configured preprocess
        self._configured: list | None = None  # refit_preprocess's specs (None: the configured ones)
        self._configured_module = None        # the configured preprocess as fitted now (keep_raw_inputs)
        self._widened: dict = {}              # widen_entry's {layer name: input columns}
        self._specs: list = []                # the run's own configured preprocess specs (keep_raw_inputs)
        self._batch: dict | None = None       # set_batch_size's / set_drop_last's {"batch_size", "from_step",
                                              # "from_epoch", "drop_last"}

    # ------------------------------------------------------------------ what the run is
    @property
    def model(self):
        return self._trainer.state.model

    @property
    def optimizer(self):
        return self._trainer.state.optimizer

    @property
    def config(self):
        return self._trainer.state.config

    @property
    def train_data(self) -> tuple:
        """``(X, y)``: the training inputs (preprocessed, on the device) and targets."""
        return self._trainer.batches.X, self._trainer.batches.y

    @property
    def val_data(self) -> tuple | None:
        """``(X, y)``: the validation inputs (preprocessed, on the device) and targets, or None."""
        return self._trainer.val

    @property
    def lr_scale(self) -> float:
        return self._trainer.state.lr_scale

    @property
    def clip_norm(self) -> float | None:
        return self._clip_norm

    @property
    def optimizer_overrides(self) -> dict:
        """Options changed by ``rebuild_optimizer`` so far (a copy)."""
        return dict(self._optimizer_overrides)

    @property
    def preprocess(self) -> list:
        """Preprocessing added by ``add_preprocess`` so far (specs, a copy)."""
        return list(self._preprocess)

    @property
    def regularization(self) -> dict:
        """Regularization options changed by ``set_regularization`` so far (a copy)."""
        return dict(self._regularization)

    @property
    def schedule(self):
        """The run's lr schedule ``step -> multiplier`` as it acts now (None: a constant lr)."""
        return self._trainer.parts.schedule

    @property
    def schedule_stretch(self) -> float:
        """How many times ``stretch_schedule`` has slowed the run's schedule down (1: not at all)."""
        return self._stretch

    @property
    def shuffle(self) -> bool:
        return bool(self._trainer.batches.shuffle)

    def lrs(self, step: int | None = None) -> list:
        """Every parameter group's lr at ``step`` (default: the current step)."""
        return self._trainer.lrs(self._trainer.state.step if step is None else step)

    @property
    def may_change(self) -> bool:
        """Whether a change made now acts at once on every process: always on one process; under
        DDP only at a decision point (a callback waits for one: ``on_after_step`` of a check step,
        every ``check_every`` steps, or the epoch's end)."""
        return self.journal is None or self.journal.open

    def deciding(self, open_: bool = True):
        """The loop's decision point (a context): changes made inside (by rank 0 under DDP) reach
        every rank at the check that follows it. Entered on every step: no work on one process."""
        return _NO_DECISION if self.journal is None or not open_ else _Decision(self.journal)

    # ------------------------------------------------------------------ changes
    def snapshot(self) -> dict:
        """An in-memory copy of everything an exact resume needs (tensors cloned); under DDP this
        rank's own random-number states and running sums (no gather), rank 0's snapshot taken
        by every rank at the same point."""
        snap = SavedState(_clone(self._trainer.state_dict(gather=False, callbacks=False)))
        if self.journal is not None:
            self.journal.took(snap)
        return snap

    @shared
    def apply(self, change, *args, **kwargs):
        """``change(self, *args, **kwargs)``: a change made through these controls and on the
        model in place (a repair action, babysit/actions.py), made as one; its result. Under DDP
        rank 0 sends ``change`` (a module-level function) and its arguments to every rank."""
        return change(self, *args, **kwargs)

    def rolls_back(self, key: str) -> None:
        """Declare ``state.extras[key]`` part of the trajectory: a rollback puts it back as the
        snapshot holds it, in place (its tensors are copied into the live ones, so storage a
        callback shares with them stays shared; its other values are replaced). Declared by the
        callback that owns the entry, in ``on_fit_start`` (train/average.py's ``Averager``)."""
        if key not in self._trajectory:
            self._trajectory.append(key)

    def adopt(self, saved: dict) -> SavedState:
        """A snapshot a callback kept across a resume (read back from a checkpoint) as one
        ``restore`` takes; under DDP rank 0 names it like a new snapshot and sends it to the
        other ranks at the next check (train/journal.py), call it at a decision point."""
        snap = SavedState(saved)
        if self.journal is not None:
            self.journal.adopted(snap)
        return snap

    @shared
    def restore(self, snapshot: dict) -> None:
        """Roll back to ``snapshot`` now. The loop notices after the current hook (call it from
        ``on_after_step``, ``on_validation_end`` or ``on_epoch_end``), skips the rest of that
        step's or epoch's bookkeeping, and continues from the restored position. The lr scale, the
        settings changed here (``settings_dict``: clipping, optimizer overrides, preprocessing, the
        schedule's changes, ...) and the ``state.extras`` not declared with ``rolls_back`` are kept,
        not rolled back; a batch size set after the snapshot counts from the restored step."""
        state = self._trainer.state
        keep_scale = state.lr_scale
        self._trainer.load_state_dict(_clone(snapshot), settings=False)
        saved_extras = snapshot.get("extras", {})
        for key in self._trajectory:
            if key in saved_extras and isinstance(state.extras.get(key), dict):
                _put_back(state.extras[key], saved_extras[key])
        state.lr_scale = keep_scale
        if self._batch is not None and state.step < self._batch["from_step"]:
            # back before the batch size changed: the new size counts from the restored boundary
            self._batch.update(from_step=state.step, from_epoch=state.epoch)
            self._recount()
        state.stop = state.diverged = None
        self.rolled_back = True
        if self._trainer.metrics_log is not None:
            self._trainer.metrics_log.replace(state.history)

    @shared
    def set_lr_scale(self, scale: float) -> None:
        """Multiply every group's lr by ``scale`` from the next step on (schedules still apply)."""
        self._trainer.state.lr_scale = float(scale)

    @shared
    def set_clip_norm(self, max_norm: float | None, *, configured: bool = False) -> None:
        """Clip gradients to a global L2 norm of ``max_norm`` from the next step on (None: off).
        ``configured=True``: the configured ``clip_norm`` stops too (it is applied before this
        clip, so this clip alone can only lower it): a clip too tight to learn is replaced."""
        self._clip_norm = None if max_norm is None else float(max_norm)
        if configured:
            self._replaced_clip = True
            state = self._trainer.state
            state.config = dataclasses.replace(state.config, clip_norm=None)

    @shared
    def set_regularization(self, **values) -> None:
        """Change regularization options of the run (``regularizers.OFF``'s keys: l1, l2, max_norm,
        label_smoothing, clip_value, grad_noise) from the next step on: the run's config takes the
        values and the penalty, the max-norm constraint and the loss are rebuilt from it by the
        builders fit uses (train/regularizers.py); the gradient hooks read clip_value and grad_noise's
        eta from the config (a run configured without noise gets none)."""
        unknown = sorted(set(values) - set(OFF))
        if unknown:
            raise ConfigError(f"set_regularization: {', '.join(unknown)}: not a regularization option "
                              f"(allowed: {', '.join(OFF)})")
        trainer, state = self._trainer, self._trainer.state
        state.config = dataclasses.replace(state.config, **values)
        self._regularization.update(values)
        trainer.parts.penalty = build_penalty(state.config, state.model)
        trainer.parts.constraint = build_constraint(state.config, state.model)
        trainer.loss_fn = state.loss_fn = build_loss(state.config)

    @shared
    def replace_schedule(self, spec, *, from_step: int = 0) -> None:
        """The run's lr schedule replaced by the configured schedule ``spec`` (the ``schedule`` option: a
        name or ``{"name": ..., options}``, ``optim.schedules.SCHEDULE_OPTIONS``; not "plateau") without
        a warmup, built over the run's steps from ``from_step`` on and starting there (its step 0 at
        ``from_step``), with SWA's lr phase where the run averages so (as ``fit`` builds it): a schedule
        of the user's that cannot train (a multiplier at ~0 on most steps) is replaced for the rest of
        the run. A stretch, warmup or plateau mode set before acted on the
        schedule replaced and is dropped; one set after acts on the replacement."""
        name = spec if isinstance(spec, str) else dict(spec).get("name")
        if not isinstance(name, str):
            raise ConfigError(f"replace_schedule: spec = {spec!r}: must be a schedule's name or a dict with "
                              f"its \"name\" (optim.schedules.SCHEDULE_OPTIONS)")
        if name == "plateau":
            raise ConfigError("replace_schedule: spec = 'plateau': must be a schedule of the step (a plateau "
                              "schedule's cuts follow the metric and keep state)")
        _whole_number("replace_schedule: from_step", from_step, least=0)
        state = self._trainer.state
        options = {} if isinstance(spec, str) else {k: v for k, v in spec.items() if k != "name"}
        new = make_schedule(name, total_steps=max(state.total_steps - from_step, 1),
                            steps_per_epoch=state.steps_per_epoch, **options)
        new = _starting_at(new, from_step) if from_step else new
        self._trainer.parts.schedule = average_schedule(state.config, new, state.steps_per_epoch)   # SWA's phase kept
        self._replaced = {"spec": spec if isinstance(spec, str) else dict(spec), "from_step": from_step}
        self._stretch, self._unstretched, self._warmup, self._plateau_mode = 1.0, None, None, None
        state.config = dataclasses.replace(state.config, schedule=self._replaced["spec"], warmup_steps=0)

    @property
    def replaced_schedule(self) -> dict | None:
        """``replace_schedule``'s ``{"spec": ..., "from_step": ...}`` (None: the run's own schedule)."""
        return None if self._replaced is None else dict(self._replaced)

    @shared
    def stretch_schedule(self, factor: float) -> None:
        """Slow the run's lr schedule down ``factor`` times more from the next step on
        (``optim.schedules.stretch``: m(t) = schedule(floor(t / factor)), stateless schedules only)."""
        if self._unstretched is None:
            self._unstretched = self._trainer.parts.schedule
        if self._unstretched is None:
            raise ConfigError("stretch_schedule: the run has no lr schedule to stretch")
        self._stretch *= float(factor)
        self._trainer.parts.schedule = stretch(self._unstretched, factor=self._stretch)

    @shared
    def set_warmup(self, steps: int) -> None:
        """The run's lr schedule with a linear warmup of ``steps`` steps instead of its own, from the
        next step on (the schedule's ``with_warmup``, ``optim.schedules``: a schedule built from the
        config options rebuilds its inner schedule over the run's steps after the new warmup; a
        stretch made before is kept). Raises ``ConfigError`` for a schedule without one (a Python
        function, a continued run's or SWA's schedule)."""
        _whole_number("set_warmup: steps", steps, least=0)
        own = self._unstretched if self._unstretched is not None else self._trainer.parts.schedule
        rebuild = getattr(own, "with_warmup", None)
        if rebuild is None:
            raise ConfigError("set_warmup: the run's lr schedule has no warmup to change (only a schedule "
                              "built from the options schedule / warmup_steps, or by optim.schedules.warmup, has)")
        new = rebuild(steps)
        if self._unstretched is not None:
            self._unstretched = new
            new = stretch(new, factor=self._stretch)
        self._trainer.parts.schedule = new
        self._warmup = steps
        state = self._trainer.state
        state.config = dataclasses.replace(state.config, warmup_steps=steps)
        if self._plateau_mode is not None and plateau_in(new) is not None:   # rebuilt from the options
            plateau_in(new).mode = self._plateau_mode

    @shared
    def set_plateau_mode(self, mode: str) -> None:
        """The run's plateau schedule (``optim.schedules.ReduceOnPlateau``, also inside a warmup)
        counts a value as better the ``mode`` way ("min": lower, "max": higher) from its next
        ``observe`` on; its state (multiplier, best value, epochs without improvement) is kept.
        Raises ``ConfigError`` when the run's schedule holds no plateau schedule."""
        if mode not in ("min", "max"):
            raise ConfigError(f'set_plateau_mode: mode = {mode!r}: must be "min" or "max"')
        plateau = plateau_in(self._trainer.parts.schedule)
        if plateau is None:
            raise ConfigError("set_plateau_mode: the run's lr schedule is no plateau schedule")
        plateau.mode = mode
        self._plateau_mode = mode
        state = self._trainer.state
        spec = state.config.schedule
        if isinstance(spec, (str, dict)):     # the config says what the run does (a callable keeps its own)
            spec = {"name": spec} if isinstance(spec, str) else dict(spec)
            state.config = dataclasses.replace(state.config, schedule={**spec, "mode": mode})

    @property
    def plateau_mode(self) -> str | None:
        """The mode ``set_plateau_mode`` set (None: the configured one)."""
        return self._plateau_mode

    @shared
    def set_augment(self, specs: list) -> None:
        """The run's augmentation replaced by ``specs`` (the ``augment`` option's list: ``[]`` for none)
        from the next batch on; the augmentation generator goes on as it was (a resumed run replays
        the change before its next batch, so it sees the same batches)."""
        specs = list(specs)
        trainer = self._trainer
        trainer.parts.augment = make_augment(specs) if specs else None
        self._augment = specs
        trainer.state.config = dataclasses.replace(trainer.state.config, augment=specs)

    @property
    def augment(self) -> list:
        """The augmentation specs in force (the configured ones unless ``set_augment`` changed them)."""
        return list(self._augment if self._augment is not None else self._trainer.state.config.augment)

    @property
    def warmup(self) -> int | None:
        """The warmup steps ``set_warmup`` set (None: the run's configured warmup)."""
        return self._warmup

    @shared
    def set_shuffle(self, shuffle: bool = True) -> None:
        """Reshuffle the training data every epoch from the next epoch on (sorted labels with
        shuffle = false train badly: notes 000 SGD samples examples at random)."""
        state = self._trainer.state
        self._trainer.batches.shuffle = bool(shuffle)
        state.config = dataclasses.replace(state.config, shuffle=bool(shuffle))

    @property
    def batch_size(self) -> int:
        """The training batch size in force (per rank under DDP)."""
        return int(self._trainer.batches.batch_size)

    @shared
    def set_batch_size(self, batch_size: int) -> str:
        """Train on batches of ``batch_size`` rows (at most the training rows) from now on, at an
        epoch's boundary only (``on_fit_start``, ``on_epoch_end``, or after a ``restore`` to a
        snapshot taken at one: an epoch under way is counted in batches of the old size). The
        run keeps its epochs: the steps per epoch and the run's steps are counted again (at most
        ``max_steps``), and a run at step 0 has its lr schedule stretched by the ratio of the steps
        per epoch (``stretch_schedule``: the schedule keeps its course over the epochs; a plateau
        schedule follows the metric, per epoch, and is kept). Refused (``ConfigError``) on batches
        ``fit`` did not build (a Trainer given another iterable has no batch size to change), after
        step 0 with an lr schedule (its steps are the old batch's), with SWA (its phase and average
        count steps of the old batch) and for a size that leaves no batch. What it did, in words."""
        _whole_number("set_batch_size: batch_size", batch_size, least=1)
        self._batches_changeable(f"set_batch_size: {batch_size}")
        batches = self._trainer.batches
        before = batches.batch_size
        self._rebatch(batch_size, what=f"set_batch_size: batch_size = {batch_size}")
        return (f"batch size {before} -> {batches.batch_size}: {len(batches)} steps an epoch "
                f"({self._trainer.state.total_steps} in the run)")

    @shared
    def set_drop_last(self, drop_last: bool = True) -> str:
        """Drop (``drop_last``) or keep each epoch's last, incomplete batch from now on, at an epoch's
        boundary only and refused where ``set_batch_size`` is (the steps per epoch change as they do
        with the batch size: counted again, the schedule of a run at step 0 stretched). The repair of
        a forward or loss that raises on that batch alone (a batch norm in training mode on one row,
        ``squeeze()`` on a one-row batch). What it did, in words."""
        self._batches_changeable(f"set_drop_last: {drop_last}")
        batches = self._trainer.batches
        before = batches.drop_last
        self._rebatch(self._batch["batch_size"] if self._batch else batches.batch_size, drop_last=drop_last,
                      what=f"set_drop_last: drop_last = {drop_last}")
        return (f"drop_last {str(before).lower()} -> {str(batches.drop_last).lower()}: {len(batches)} steps an epoch "
                f"({self._trainer.state.total_steps} in the run)")

    @property
    def last_batch_rows(self) -> int | None:
        """The rows of each epoch's last, incomplete batch on this rank (``shard_indices``' split of the
        last global batch), 0 when every batch is full or it is dropped (``drop_last``); None on batches
        ``fit`` did not build (the user's own loader: its batches are not known here)."""
        batches = self._trainer.batches
        if not isinstance(batches, (Batches, StreamBatches)):
            return None
        rest = batches.n % (batches.batch_size * batches.world)
        return 0 if batches.drop_last or rest < batches.world else rest // batches.world

    def _batches_changeable(self, what: str) -> None:
        """Raise ``ConfigError`` (``what``: the call, in words) where the batches cannot change now:
        ``batch_size_fixed``, an epoch under way, or a run past step 0 whose lr schedule counts its steps."""
        trainer, state = self._trainer, self._trainer.state
        batches = trainer.batches
        fixed = self.batch_size_fixed()
        if fixed is not None:
            raise ConfigError(f"{what}: {fixed}")
        if batches.order is not None:
            raise ConfigError(f"{what}: an epoch is under way (batch {batches.position} of {len(batches)}): change "
                              f"the batches at an epoch's boundary (on_fit_start, on_epoch_end, or after a restore to "
                              f"a snapshot taken at one)")
        if state.step > 0 and changes_between(trainer.parts.schedule, state.step, state.total_steps):
            raise ConfigError(f"{what} at step {state.step}: the run's lr schedule counts steps of the old batches; "
                              f"change them at step 0 (a rollback to the start)")

    def _rebatch(self, batch_size: int, *, drop_last: bool | None = None, what: str) -> None:
        """``_resize`` from the current step, and a run at step 0 has its lr schedule stretched by
        the ratio of the steps per epoch (``stretch_schedule``: it keeps its course over the epochs)."""
        trainer, state = self._trainer, self._trainer.state
        spe = len(trainer.batches)
        self._resize(batch_size, from_step=state.step, from_epoch=state.epoch, drop_last=drop_last, what=what)
        if state.step == 0 and changes_between(trainer.parts.schedule, 0, state.total_steps):
            self.stretch_schedule(len(trainer.batches) / spe)

    def batch_size_fixed(self) -> str | None:
        """Why this run's batch size cannot change at all (None: it can, at an epoch's boundary):
        batches ``fit`` did not build (a Trainer given the user's own loader), or SWA. What a
        planner reads before it plans ``set_batch_size``."""
        batches = self._trainer.batches
        if not isinstance(batches, (Batches, StreamBatches)):
            return (f"the run's batches are a {type(batches).__name__}, not trainwell's Batches / StreamBatches "
                    f"(fit's data path): the batch size of the user's own loader is not changed here (build the "
                    f"loader again with the new batch_size)")
        if (average_options(self._trainer.state.config.average) or {}).get("method") == "swa":
            return "the run averages with SWA, whose lr phase and average count steps of the old batch"
        return None

    def _resize(self, batch_size: int, *, from_step: int, from_epoch: int, drop_last: bool | None = None,
                what: str) -> None:
        """The batches, the config and the run's steps for ``batch_size`` (and ``drop_last``; None: as
        it is) from ``from_step`` (at the boundary of epoch ``from_epoch``); no schedule is touched (a
        resume replays its stretch). Raises ``ConfigError`` naming ``what`` (the call and the value it
        was given) where no batch is left, the batches as they were."""
        trainer, state = self._trainer, self._trainer.state
        batches, old = trainer.batches, (trainer.batches.batch_size, trainer.batches.drop_last)
        batches.batch_size = max(1, min(batch_size, batches.n // batches.world))
        batches.drop_last = old[1] if drop_last is None else bool(drop_last)
        if len(batches) == 0:
            tried = f"batch_size = {batches.batch_size}, drop_last = {str(batches.drop_last).lower()}"
            batches.batch_size, batches.drop_last = old
            raise ConfigError(f"{what} leaves no batch: {batches.n} rows over {batches.world} rank(s) at {tried} "
                              f"(a step needs a row on every rank)")
        self._batch = {"batch_size": batch_size, "from_step": from_step, "from_epoch": from_epoch,
                       "drop_last": batches.drop_last}
        state.config = dataclasses.replace(state.config, batch_size=batch_size, drop_last=batches.drop_last)
        self._recount()

    def _recount(self) -> None:
        """The steps per epoch and the run's steps at the batch size ``set_batch_size`` set: the
        steps made before it, then the run's remaining epochs at the new size (at most max_steps)."""
        state, batches = self._trainer.state, self._trainer.batches
        state.steps_per_epoch = len(batches)
        total = self._batch["from_step"] + (state.config.epochs - self._batch["from_epoch"]) * len(batches)
        state.total_steps = total if state.config.max_steps is None else min(total, state.config.max_steps)

    @shared
    def rebuild_optimizer(self, **overrides) -> None:
        """A fresh optimizer for the current parameters, with the run's options updated by
        ``overrides`` (e.g. ``weight_decay=1e-3``, ``optimizer="adam"``, ``lr=...``)."""
        if self._optimizer_factory is None:
            raise RuntimeError("this Trainer was built without an optimizer_factory")
        self._optimizer_overrides.update(overrides)
        self._trainer.use_optimizer(self._optimizer_factory(self.model, **self._optimizer_overrides))

    @shared
    def model_changed(self) -> None:
        """Say that a change made in place made the model another one: another structure, or
        weights it does not descend from (a repair's re-initialization, swapped activations, a
        removed output activation or a shrunk output layer: babysit/actions.py). The best
        weights kept so far are another model's and are dropped (the best epoch, and early
        stopping's patience, count from the next validation), and every callback's
        ``on_model_changed`` runs (an averager starts its average again from this model)."""
        state = self._trainer.state
        state.best = {}
        self._trainer.hooks("on_model_changed", state)

    @shared
    def add_preprocess(self, name: str, **options) -> None:
        """Fit a preprocessing step on the current training inputs and apply it to the training
        and validation inputs; ``fit`` applies it to the test split, saves it with the run, and
        ``run.predict`` and ``load_run`` apply it too."""
        trainer = self._trainer
        spec = {"name": name, **options}
        X = trainer.batches.X
        if isinstance(X, HostRows):          # streamed: fitted chunk by chunk, applied per batch
            module = fit_streamed([spec], X).to(X.device)
        else:
            module = fit_preprocess([spec], X.cpu()).to(X.device)
        trainer.batches.X = apply_module(X, module)
        if trainer.val is not None:
            trainer.val = (apply_module(trainer.val[0], module), trainer.val[1])
        self._preprocess.append(spec)
        self.added_preprocess.append(module)

    def _add_spec(self, spec: dict) -> None:
        """``add_preprocess`` of a step as ``preprocess`` lists it: ``{"name": ..., **options}``."""
        options = dict(spec)
        self.add_preprocess(options.pop("name"), **options)

    def preprocessed_rows(self, specs: list, *, rows: int = 256):
        """The first ``rows`` training inputs as ``specs`` fitted on the training inputs would make
        them (nothing is added to the run), or None for streamed rows: what a repair tries the
        model on before it adds the preprocessing."""
        X = self._trainer.batches.X
        if isinstance(X, HostRows) or X.shape[0] == 0:
            return None
        module = fit_preprocess(specs, X.cpu()).to(X.device)
        return apply_module(X[:rows], module)

    def keep_raw_inputs(self, train: tuple, val, *, specs: list, pipeline) -> None:
        """Keep the training and validation rows as they were before the run's configured
        ``preprocess`` (``specs``, fitted as ``pipeline``), so that ``refit_preprocess`` can replace
        it. ``fit`` calls it for in-memory rows; streamed rows are not kept (no refit)."""
        if isinstance(train[0], HostRows) or (val is not None and isinstance(val[0], HostRows)):
            return
        self._raw = {"train": train, "val": val}
        self._configured_module = pipeline
        self._specs = list(specs)

    @property
    def raw_train(self) -> tuple | None:
        """``(X, y)``: the training rows before the configured preprocess (None: not kept)."""
        return None if self._raw is None else self._raw["train"]

    @property
    def configured_preprocess(self) -> list | None:
        """The configured preprocess specs in force (``refit_preprocess``'s, else the run's own);
        None when the raw rows are not kept."""
        if self._raw is None:
            return None
        return list(self._configured if self._configured is not None else self._specs)

    @property
    def configured_pipeline(self):
        """The configured preprocess as fitted now (a module, or None when there is none)."""
        return self._configured_module

    @property
    def preprocess_refitted(self) -> bool:
        """Whether ``refit_preprocess`` replaced the configured preprocess."""
        return self._configured is not None

    def through_configured(self, pair):
        """``(X, y)``, rows as they were before the configured preprocess, through
        ``refit_preprocess``'s pipeline (fitted on the host) and on the training rows' device, in
        their dtype (``fit`` reads its test split so); None stays None."""
        if pair is None:
            return None
        X = _through(self._configured_module, pair[0].cpu())
        rows = self._trainer.batches.X
        return X.to(device=rows.device, dtype=rows.dtype), pair[1].to(rows.device)

    @property
    def widened(self) -> dict:
        """``widen_entry``'s layers so far: {layer name: input columns}."""
        return dict(self._widened)

    @shared
    def widen_entry(self, name: str, width: int, *, seed: int) -> str:
        """Give the model's entry ``nn.Linear`` ``name`` ``width`` input columns, after a
        ``refit_preprocess(..., reshaped=True)`` that changed the rows' width: its weight and bias
        drawn again (``widen_linear``), a fresh optimizer, and the model another one
        (``model_changed``). Checkpoints keep it: a resume widens the layer before it loads the
        weights. Refused under DDP (``ConfigError``): the replica's gradient buckets are sized for the
        layer as it is (``refit_preprocess`` is refused there too: no raw rows kept). What it did, in words."""
        if self._trainer.ddp is not None:
            raise ConfigError(f"widen_entry: {name!r} -> {width} input columns: not under DDP (the replica's "
                              f"gradient buckets are sized for the layer's parameters as they are)")
        detail = self._widen(name, width, seed=seed)
        self.model_changed()
        return detail

    def _widen(self, name: str, width: int, *, seed: int) -> str:
        detail = widen_linear(self.model, name, width, seed=seed)
        self._widened[name] = width
        self.rebuild_optimizer()
        return detail

    @shared
    def refit_preprocess(self, specs: list, *, reshaped: bool = False) -> None:
        """Replace the run's configured ``preprocess`` with ``specs``, fitted on the training rows as
        they were before it and applied to the training and validation rows; the steps
        ``add_preprocess`` added are refitted on top, in order. ``fit`` applies the result to the
        test split and saves it. Raises ``ConfigError`` when the raw rows are not kept
        (``keep_raw_inputs``) or when the new pipeline gives rows of another shape (the model is
        sized for the rows it gets now), unless ``reshaped``: the caller resizes the model for them."""
        if self._raw is None:
            raise ConfigError("refit_preprocess: the rows before the run's preprocess are not kept "
                              "(streamed rows, or a Trainer that fit did not build)")
        trainer = self._trainer
        old_shape = tuple(trainer.batches.X.shape[1:])
        raw_X = self._raw["train"][0]
        module = fit_preprocess(list(specs), raw_X.cpu()) if specs else None
        X = _through(module, raw_X)
        if tuple(X.shape[1:]) != old_shape and not reshaped:
            raise ConfigError(f"refit_preprocess: {[s if isinstance(s, str) else s.get('name') for s in specs]} "
                              f"gives rows of shape {tuple(X.shape[1:])}, the model takes {old_shape}")
        device = trainer.batches.X.device
        train_X = X.to(device=device, dtype=trainer.batches.X.dtype)
        val_X = None
        if trainer.val is not None and self._raw["val"] is not None:
            val_X = _through(module, self._raw["val"][0]).to(device=device, dtype=trainer.val[0].dtype)
        self._configured, self._configured_module = list(specs), module
        added, self._preprocess, self.added_preprocess = self._preprocess, [], []
        trainer.batches.X = train_X
        if val_X is not None:
            trainer.val = (val_X, trainer.val[1])
        for spec in added:                  # fitted on the rows they now follow
            self._add_spec(spec)

    @shared
    def detach_hook(self, callback: str, hook: str) -> None:
        """Stop calling the hook ``hook`` (``"on_epoch_start"``, ...) of the run's callback whose class
        is named ``callback`` from now on; its other hooks still run. Raises ``ConfigError`` when no
        callback of that name defines that hook."""
        if not self._trainer.hooks.detach(callback, hook):
            raise ConfigError(f"detach_hook: no callback {callback!r} with a hook {hook!r} in this run")
        self._detached.append((callback, hook))

    @property
    def detached(self) -> list:
        """The ``(callback, hook)`` pairs ``detach_hook`` detached so far."""
        return list(self._detached)

    # ------------------------------------------------------------------ checkpoints
    def settings_dict(self) -> dict:
        """The settings changed here that a checkpoint keeps (the lr scale is a counter)."""
        return {"clip_norm": self._clip_norm, "replaced_clip": self._replaced_clip,
                "optimizer_overrides": dict(self._optimizer_overrides),
                "preprocess": list(self._preprocess), "regularization": dict(self._regularization),
                "schedule_stretch": self._stretch, "warmup_steps": self._warmup, "augment": self._augment,
                "plateau_mode": self._plateau_mode, "detached": [list(pair) for pair in self._detached],
                "configured_preprocess": self._configured, "replaced_schedule": self._replaced,
                "widened": dict(self._widened), "batch": None if self._batch is None else dict(self._batch)}

    def load_settings(self, saved: dict) -> None:
        """Replay a checkpoint's settings (``settings_dict``) through the methods that made them: the
        clip, the batch size (before the schedule's changes: the steps they replay are counted at
        it), the optimizer's overrides, a refitted preprocess and the entry layers it widened, the
        preprocessing steps not yet added (each refitted on the training inputs as they are), the
        regularization, a replaced schedule (before the warmup and stretch that act on it), the
        augmentation, the plateau mode and the detached hooks. A key that a checkpoint written
        before its setting existed lacks leaves that setting as configured."""
        with self.journal.replaying() if self.journal is not None else contextlib.nullcontext():
            self._clip_norm = saved["clip_norm"]      # every rank loads the same checkpoint
            if saved.get("batch") is not None:        # first: the steps the schedule replays below count at it
                self._resize(**saved["batch"], what=f"load_settings: the checkpoint's batch_size = "
                                                    f"{saved['batch']['batch_size']}")
            if saved.get("replaced_clip"):
                self.set_clip_norm(saved["clip_norm"], configured=True)
            if saved["optimizer_overrides"]:
                self.rebuild_optimizer(**saved["optimizer_overrides"])
            if saved.get("configured_preprocess") is not None and saved["configured_preprocess"] != self._configured:
                self.refit_preprocess(saved["configured_preprocess"], reshaped=bool(saved.get("widened")))
            for name, width in (saved.get("widened") or {}).items():
                if self._widened.get(name) != width:      # its weights and optimizer state: the checkpoint's,
                    self._widen(name, width, seed=0)      # loaded next into the layer of their shape
            for spec in saved["preprocess"][len(self._preprocess):]:
                self._add_spec(spec)
            if saved.get("regularization"):
                self.set_regularization(**saved["regularization"])
            if saved.get("replaced_schedule") is not None and saved["replaced_schedule"] != self._replaced:
                self.replace_schedule(saved["replaced_schedule"]["spec"],   # first: a warmup or stretch set after
                                      from_step=saved["replaced_schedule"]["from_step"])   # acts on it
            if saved.get("warmup_steps") is not None and saved["warmup_steps"] != self._warmup:
                self.set_warmup(saved["warmup_steps"])
            if saved.get("augment") is not None:
                self.set_augment(saved["augment"])
            if saved.get("plateau_mode") is not None:
                self.set_plateau_mode(saved["plateau_mode"])
            for callback, hook in saved.get("detached") or []:
                if (callback, hook) not in self._detached:
                    self.detach_hook(callback, hook)
            if saved.get("schedule_stretch", 1.0) != self._stretch:
                self.stretch_schedule(saved["schedule_stretch"] / self._stretch)


def widen_linear(model: nn.Module, name: str, width: int, *, seed: int) -> str:
    """Give the ``nn.Linear`` ``name`` of ``model`` ``width`` input columns: its weight and bias drawn
    again by ``nn.Linear``'s own initialization for that fan-in (under ``seed``), on its device and in
    its dtype. The same ``Parameter`` objects take the new values, so what holds them (the monitor's
    probes, hooks) keeps reading them; the caller builds a fresh optimizer. What it did, in words."""
    layer = model.get_submodule(name)
    if not isinstance(layer, nn.Linear):
        raise ConfigError(f"widen_entry: {name!r} is a {type(layer).__name__}, not an nn.Linear")
    with torch.random.fork_rng(devices=[]):       # the run's (or load_run's caller's) random stream untouched
        torch.manual_seed(seed)
        fresh = nn.Linear(width, layer.out_features, bias=layer.bias is not None)
    before = layer.in_features
    layer.weight.data = fresh.weight.data.to(layer.weight)
    if layer.bias is not None:
        layer.bias.data = fresh.bias.data.to(layer.bias)
    layer.in_features = width
    return f"{name}: {before} -> {width} input columns, redrawn"


@torch.no_grad()
def _through(module, X: torch.Tensor) -> torch.Tensor:
    """Host rows ``X`` through a fitted preprocess ``module`` (None: ``X`` as it is)."""
    return X if module is None else module(X.cpu())


def _whole_number(where: str, value, *, least: int) -> None:
    """A ``ConfigError`` naming ``where`` (``"set_warmup: steps"``) unless ``value`` is an integer (a
    bool is not one) of at least ``least``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigError(f"{where} = {value!r}: must be an integer >= {least}")


def _starting_at(inner, start: int):
    """``inner`` started at step ``start``: m(t) = inner(max(t - start, 0)) (replace_schedule's rest of the
    run); where ``inner`` has a ``with_warmup``, so has the result (the warmup counted from ``start``),
    so a ``set_warmup`` after the replacement acts on it."""
    def schedule(step: int) -> float:
        return inner(max(step - start, 0))
    rebuild = getattr(inner, "with_warmup", None)
    if rebuild is not None:
        schedule.with_warmup = lambda steps: _starting_at(rebuild(steps), start)
    return schedule


_NO_DECISION = contextlib.nullcontext()


class _Decision:
    """``Controls.deciding``'s context under DDP: the journal records changes while it is open."""

    def __init__(self, journal):
        self.journal = journal

    def __enter__(self):
        self.journal.open = True

    def __exit__(self, *exc):
        self.journal.open = False


@torch.no_grad()
def _put_back(live: dict, saved: dict) -> None:
    """``live`` made equal to ``saved`` in place: tensors of the same shape and dtype copied into,
    dicts recursed into, other values (and keys ``live`` lacks) replaced by copies, keys
    ``saved`` lacks removed."""
    for key, value in saved.items():
        here = live.get(key)
        if (isinstance(here, torch.Tensor) and isinstance(value, torch.Tensor)
                and here.shape == value.shape and here.dtype == value.dtype):
            here.copy_(value)
        elif isinstance(here, dict) and isinstance(value, dict):
            _put_back(here, value)
        else:
            live[key] = _clone(value)
    for key in [k for k in live if k not in saved]:
        del live[key]


def _clone(obj):
    """A deep copy in which tensors are cloned (detached); a module's ``state_dict`` keeps its
    ``_metadata`` (the versions ``load_state_dict`` reads)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):        # copy.copy keeps a subclass's own state (a defaultdict's factory)
        out = copy.copy(obj)
        out.clear()
        out.update((k, _clone(v)) for k, v in obj.items())
        if hasattr(obj, "_metadata"):
            out._metadata = copy.deepcopy(obj._metadata)
        return out
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):      # a namedtuple takes its fields apart
        return type(obj)(*(_clone(v) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_clone(v) for v in obj)
    return copy.deepcopy(obj)
