"""The training loop: batches -> step (forward, loss, backward, optimizer) -> callbacks -> epoch end.

``Trainer`` is the middle level of use: give it a model, an optimizer, a loss and batches, and
optionally your own ``step_fn(state, closure) -> loss``. The default step calls the closure
once and steps, or hands the closure to optimizers that need it (L-BFGS, SAM and other
multi-pass methods call it as often as they need; each call sees the same batch).

What else the run is made of lives beside this file: ``state.py`` (the one state object),
``callbacks.py`` (the hooks), ``controls.py`` (what callbacks and repairs may change),
``metrics.py`` (running sums, divergence check, best epoch, metrics.jsonl) and
``checkpoint.py`` (the files).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch

from trainwell.data.batches import Batches
from trainwell.nn.transfer import restore_added_groups
from trainwell.optim.schedules import group_lrs
from trainwell.train.callbacks import Hooks
from trainwell.train.checkpoint import Checkpointer
from trainwell.train.controls import Controls
from trainwell.train.journal import Journal
from trainwell.train.distributed import local_sam_pass, rank_state
from trainwell.train.metrics import (EpochSums, MetricsLog, check_divergence, check_epoch_loss,
                                     evaluate_model, track_best)
from trainwell.train.precision import Precision, attach_scaler, check_scaler_fits
from trainwell.train.state import Stop, StopKind, TrainState

# The augmentation generator's seed is the run's seed + 1: its own stream, so augmenting does not
# move the batch order (seeded with seed) or the gradient noise (seed + 2, train/parts.py).
AUGMENT_SEED_OFFSET = 1


def needs_closure(optimizer) -> bool:
    """Whether the optimizer's ``step`` must get the closure (it may evaluate it several times)."""
    return isinstance(optimizer, torch.optim.LBFGS) or getattr(optimizer, "requires_closure", False)


def default_step(state: TrainState, closure: Callable) -> torch.Tensor:
    """One optimizer step on ``state.batch``; returns the loss as a 0-d tensor. Under fp16 the
    step goes through the run's GradScaler (``state.precision``), then its scale is updated."""
    amp = state.precision or Precision()
    if needs_closure(state.optimizer):
        loss = state.optimizer.step(closure)
    else:
        loss = closure()
        amp.step(state.optimizer)
    amp.update()
    return loss


def total_steps(config, steps_per_epoch: int) -> int:
    """The run's length in optimizer steps: ``epochs`` of ``steps_per_epoch``, at most ``max_steps``."""
    total = steps_per_epoch * config.epochs
    return total if config.max_steps is None else min(total, config.max_steps)


@dataclass
class StepParts:
    """What a step adds around forward and backward; each part is optional.

    ``schedule(step) -> lr multiplier`` (may also have ``observe(value)``, fed the monitored
    metric each epoch, and ``state_dict``); ``penalty() -> loss term``; ``grad_hooks``, each
    ``hook(state)``, applied after backward (noise, then clipping; a hook with ``state_dict`` is
    checkpointed); ``augment(x, generator) -> x``; ``constraint()``, applied to the weights after
    each optimizer step (the max-norm constraint).
    """

    schedule: Callable | None = None
    penalty: Callable | None = None
    grad_hooks: Sequence[Callable] = ()
    augment: Callable | None = None
    constraint: Callable | None = None


class Trainer:
    """Runs epochs of steps over in-memory batches, driving callbacks and checkpoints.

    ``val``: ``(X, y)`` evaluated at each epoch end; ``accuracy(out, y) -> correct count``;
    ``parts``: the schedule, penalty, gradient hooks and augmentation (``StepParts``);
    ``run_dir``: where ``metrics.jsonl`` and ``checkpoints/`` go (None: nothing is written);
    ``optimizer_factory(model, **overrides)``: what ``state.controls.rebuild_optimizer`` calls.
    ``fit`` builds all of them from options.
    """

    def __init__(self, model, optimizer, loss_fn, *, config, batches: Batches, val=None,
                 accuracy=None, callbacks=(), step_fn=None, parts: StepParts | None = None,
                 run_dir=None, optimizer_factory=None, precision: Precision | None = None):
        self.loss_fn, self.batches, self.val, self.accuracy = loss_fn, batches, val, accuracy
        self.parts = parts or StepParts()
        self.step_fn = step_fn or default_step
        self.hooks = Hooks(callbacks)
        self.augment_generator = torch.Generator().manual_seed(config.seed + AUGMENT_SEED_OFFSET)
        run_dir = Path(run_dir) if run_dir else None
        self.checkpoints = (Checkpointer(run_dir / "checkpoints", keep=config.keep_checkpoints)
                            if run_dir else None)
        self.metrics_log = MetricsLog(run_dir) if run_dir else None   # metrics.jsonl
        self.sums = EpochSums(batches.X.device, accuracy)
        self.state = TrainState(model=model, optimizer=optimizer, loss_fn=loss_fn, config=config,
                                steps_per_epoch=len(batches), total_steps=total_steps(config, len(batches)),
                                run_dir=run_dir)
        self.controls = self.state.controls = Controls(self, optimizer_factory=optimizer_factory)
        self.precision = self.state.precision = precision or Precision(config.precision, batches.X.device)
        self.dist = self.ddp = None          # one rank of a job: use_distributed
        self.val_shard: dict = {}            # DDP: each rank validates its shard (evaluate_model)
        # DDP: a stop set between two checks acts at the next one; until then it is pending (a
        # checkpoint keeps it as such, so a resume from there stops at that check, not at once)
        self.agreed_stop = self.pending_stop = None
        self.use_optimizer(optimizer)

    def use_distributed(self, d, ddp) -> None:
        """Train as one rank of the job ``d`` (train/distributed.py): the step's forward and
        backward go through the DDP replica ``ddp`` (the gradient average), the epoch's sums are
        all-reduced, rank 0's stops and changes through the controls are every rank's,
        checkpoints gather every rank's RNGs."""
        self.dist, self.ddp = d, ddp
        self.sums.reduce, self.sums.ranks = d.all_reduce_sum, d.world
        self.controls.journal = Journal(rank0=d.is_main)
        self.val_shard = {"shard": (d.rank, d.world), "reduce": d.all_reduce_sum}

    def leave_distributed(self) -> None:
        """Drop the DDP replica at the end of a run: its reducer holds autograd hooks on the
        model's parameters and the process group; freed after the group is destroyed (at
        interpreter exit) it can abort the process ("terminate called without an active
        exception"; train/distributed.py's exit handler collects what cycles still hold)."""
        self.ddp = None

    def use_optimizer(self, optimizer) -> None:
        """Train with ``optimizer`` from now on; its groups' lrs become the base lrs."""
        check_scaler_fits(self.precision, optimizer)
        attach_scaler(self.precision, optimizer)     # the SAM family unscales both passes itself
        self.state.optimizer = optimizer
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        # checkpoints and rollbacks restore parameter groups added mid-run (transfer.Unfreeze)
        restore_added_groups(optimizer, self.state.model)

    # ----------------------------------------------------------------- the step
    def make_closure(self, xb, yb):
        """The closure of one step: forward, loss (+ penalty), backward, gradient hooks.

        The forward pass and the loss run under the run's autocast (``precision``), backward
        outside it; under fp16 the loss is scaled and ``amp.unscale`` runs before the hooks.
        ``closure(backward=False)`` returns the loss with its graph (Newton's Hessian). Only the
        first call feeds the training metrics (multi-pass optimizers evaluate it again).

        The gradient hooks (noise, then clipping) run after each backward, except with
        ``closure(hooks=False)``: a two-pass optimizer (the SAM family) calls that on every pass
        and then ``closure.apply_hooks()`` once, so clipping acts on the gradient the base
        optimizer steps with and not on the first pass's g that sets the perturbation.
        """
        state, penalty, amp = self.state, self.parts.penalty, self.precision
        model = self.ddp if self.ddp is not None else state.model   # DDP: the gradient average
        optimizer, loss_fn = state.optimizer, self.loss_fn
        two_pass = needs_closure(optimizer)
        first = True

        def apply_hooks():
            for hook in self.parts.grad_hooks:
                hook(state)
            if self.controls.clip_norm is not None:
                trainable = [p for p in model.parameters() if p.requires_grad]
                torch.nn.utils.clip_grad_norm_(trainable, self.controls.clip_norm, foreach=True)

        def closure(backward: bool = True, hooks: bool = True):
            nonlocal first
            with local_sam_pass(self.dist, self.ddp, sam_sync=state.config.sam_sync,
                                first=first and two_pass):
                with amp.autocast():             # forward and loss; backward outside
                    out = model(xb)
                    data_loss = loss_fn(out, yb)
                    loss = data_loss + penalty() if penalty is not None else data_loss
                if first:                        # also a Newton/BFGS call without backward
                    first = False
                    self.sums.record(out.detach(), data_loss.detach(), yb)
                if not backward:
                    return loss
                optimizer.zero_grad(set_to_none=True)
                amp.backward(loss)               # fp16: of the scaled loss
            if hooks:
                amp.unscale(optimizer)           # fp16: the hooks see the true gradient
                apply_hooks()
            return data_loss.detach()

        closure.apply_hooks = apply_hooks
        return closure

    def lrs(self, step: int) -> list:
        """Every parameter group's lr at ``step``: base lr x lr_mult x schedule(step) x the
        repairs' lr scale (``trainwell.optim.schedules.group_lrs``)."""
        groups = self.state.optimizer.param_groups
        if len(groups) != len(self.base_lrs):   # groups added (Unfreeze) or dropped (rollback)
            self.base_lrs = self.base_lrs[:len(groups)] + [
                g.get("base_lr", g["lr"]) for g in groups[len(self.base_lrs):]]
        return group_lrs(self.base_lrs, groups, self.parts.schedule, step, self.state.lr_scale)

    def _set_lr(self):
        lrs = self.lrs(self.state.step)
        for group, lr in zip(self.state.optimizer.param_groups, lrs):
            group["lr"] = lr
        self.state.lr = lrs[0]

    # ----------------------------------------------------------------- the loop
    def fit(self) -> TrainState:
        state, config = self.state, self.state.config
        state.model.train()
        with self.controls.deciding():
            self.hooks("on_fit_start", state)
        self._agree()
        try:
            while state.stop is None and state.epoch < config.epochs and state.step < state.total_steps:
                started = time.perf_counter()
                if self.batches.order is None:   # a fresh epoch, not one resumed part-way
                    self.hooks("on_epoch_start", state)
                self._train_epoch()
                if self.controls.rolled_back:    # continue from the restored position
                    self.controls.rolled_back = False
                    continue
                self.batches.order = None        # an epoch cut short by a stop is not continued
                self._end_epoch(time.perf_counter() - started)
                self.controls.rolled_back = False
        finally:
            if self.metrics_log is not None:
                self.metrics_log.close()
        self._finish()
        self.hooks("on_fit_end", state)
        return state

    def _train_epoch(self):
        """The steps of one epoch, from the batches' position to its end, a stop or a rollback."""
        state, config, hooks, sums = self.state, self.state.config, self.hooks, self.sums
        for xb, yb in self.batches:
            state.batch_index = self.batches.position - 1
            if self.parts.augment is not None:
                xb = self.parts.augment(xb, self.augment_generator)
            state.batch = (xb, yb)
            self._set_lr()
            hooks("on_before_step", state)
            state.loss = self.step_fn(state, self.make_closure(xb, yb))
            if self.parts.constraint is not None:
                self.parts.constraint()
            state.step += 1
            sums.window_steps += 1
            if self.pending_stop is not None:   # resumed between a stop and its check: pending again
                state.stop, self.pending_stop = self.pending_stop, None
            checked = state.step == 1 or sums.window_steps >= config.check_every
            with self.controls.deciding(checked):   # under DDP changes wait for a check
                hooks("on_after_step", state)
            if checked:
                self._agree()                # rank 0's stop and changes (a rollback) on every rank
            if self.controls.rolled_back:
                return
            if checked:                      # the same window mean on every rank
                check_divergence(state, sums.window_mean(), config.divergence_factor)
            # under DDP a stop acts at a check, where every rank has rank 0's
            if (state.stop is not None and (checked or self.dist is None)) or state.step >= state.total_steps:
                return
            if (config.checkpoint_every and state.step % config.checkpoint_every == 0
                    and self.batches.position < len(self.batches)):
                self._checkpoint()           # mid-epoch; the epoch's last step is saved at its end

    def _end_epoch(self, seconds: float):
        """Metrics, validation (of ``state.evaluated_model``), best epoch, metrics.jsonl, checkpoint."""
        state, config = self.state, self.state.config
        state.epoch += 1
        train_loss, train_acc = self.sums.epoch_means()
        self.hooks("on_validation_start", state)
        val = {}
        if self.val is not None:
            with self.precision.autocast():
                val = evaluate_model(state.evaluated_model, self.loss_fn, self.accuracy, *self.val,
                                     batch_size=config.eval_batch_size, **self.val_shard)
            state.model.train()
        state.metrics = {"epoch": state.epoch, "step": state.step, "lr": state.lr,
                         "train_loss": train_loss, "train_acc": train_acc,
                         "val_loss": val.get("loss"), "val_acc": val.get("acc"), "seconds": seconds}
        check_epoch_loss(state, train_loss)
        with self.controls.deciding():
            self.hooks("on_validation_end", state)
        self._agree()                        # a repair at validation end acts on every rank
        if self.controls.rolled_back:
            return
        track_best(state, monitor=config.monitor, min_delta=config.min_delta,
                   keep_weights=_restores_best(config))
        if hasattr(self.parts.schedule, "observe") and state.metrics.get(config.monitor) is not None:
            self.parts.schedule.observe(state.metrics[config.monitor])
        state.history.append(state.metrics)
        if self.metrics_log is not None:
            self.metrics_log.append(state.metrics)
        with self.controls.deciding():
            self.hooks("on_epoch_end", state)
        self._agree()                        # before the checkpoint: every rank writes it or none
        ending = state.stop is not None or state.epoch >= config.epochs or state.step >= state.total_steps
        if not self.controls.rolled_back and (config.checkpoint_at == "epochs" or ending):
            self._checkpoint()               # checkpoint_at = "end": only the run's last epoch

    def _finish(self):
        """The stop reason of a run nothing stopped, and the best weights when they are restored."""
        state, config = self.state, self.state.config
        if state.stop is None:
            state.stop = Stop(StopKind.FINISHED, "reached max_steps" if state.step >= state.total_steps
                              and state.epoch < config.epochs else "finished all epochs")
        if state.best.get("weights") is not None and _restores_best(config):
            state.evaluated_model.load_state_dict(state.best["weights"])

    # ----------------------------------------------------------------- resume
    def _agree(self):
        """Under DDP, rank 0's stop reason and changes on every rank (train/distributed.py)."""
        if self.dist is not None:
            self.dist.agree(self.state, self.controls)
            self.agreed_stop = self.state.stop

    def _checkpoint(self):
        if self.checkpoints is None and self.dist is None:
            return
        self.hooks("on_checkpoint", self.state)
        saved = self.state_dict()          # under DDP every rank takes part (the RNG gather)
        if self.checkpoints is not None:   # rank 0 alone writes
            self.checkpoints.save(saved, self.state.step)

    def load_latest_checkpoint(self) -> bool:
        """Continue from the newest good checkpoint in ``run_dir``; False when there is none."""
        found = self.checkpoints.latest() if self.checkpoints is not None else None
        if self.dist is not None:            # rank 0 reads, every rank loads the same
            found = self.dist.broadcast_object(found)
        if found is not None:
            self.load_state_dict(found[1])
        return found is not None

    def state_dict(self, *, gather: bool = True, callbacks: bool = True) -> dict:
        """Everything needed to continue bit-identically: weights, optimizer, schedule, RNGs,
        batch order and position, counters, running sums, history, best weights, callbacks'
        checkpointable extras, the controls' settings and (``callbacks``) the ``state_dict()``
        of every callback that has one (docs/checkpoints.md). Under DDP ``gather``: every rank's
        RNGs and sums as ``ranks`` (a collective: every rank calls it); else this rank's alone.
        A snapshot (``Controls.snapshot``) is ``gather=False, callbacks=False``."""
        state, schedule = self.state, self.parts.schedule
        pending = self.dist is not None and state.stop is not None and state.stop != self.agreed_stop
        out = {
            "model": state.model.state_dict(),
            "optimizer": state.optimizer.state_dict(),
            "batches": self.batches.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "augment": self.augment_generator.get_state()},
            "counters": {"step": state.step, "epoch": state.epoch, "lr_scale": state.lr_scale,
                         "initial_loss": state.initial_loss, "window_steps": self.sums.window_steps,
                         "stop": state.stop.to_dict() if state.stop and not pending else None},   # a stopped run resumes stopped
            "sums": self.sums.state_dict(),
            "history": state.history,
            "best": state.best,
            "extras": {k: v for k, v in state.extras.items() if _checkpointable(v)},
            "settings": self.controls.settings_dict(),
            "scaler": self.precision.state_dict(),   # fp16's GradScaler ({} otherwise)
        }
        if pending:
            out["counters"]["pending_stop"] = state.stop.to_dict()
        if torch.cuda.is_available() and self.batches.X.is_cuda:
            out["rng"]["cuda"] = torch.cuda.get_rng_state(self.batches.X.device)
        if self.dist is not None and gather:  # every rank's own state, gathered to rank 0
            out["ranks"] = self.dist.gather_objects({"rng": out["rng"], "sums": out["sums"]})
        if hasattr(schedule, "state_dict"):
            out["schedule"] = schedule.state_dict()
        for i, hook in enumerate(self.parts.grad_hooks):
            if hasattr(hook, "state_dict"):
                out.setdefault("grad_hooks", {})[str(i)] = hook.state_dict()
        if callbacks:
            out["callbacks"] = {key: cb.state_dict() for key, cb in self._stateful_callbacks().items()}
        return out

    def _stateful_callbacks(self) -> dict:
        """The callbacks with ``state_dict``/``load_state_dict``, by class name (``Name#2`` for the
        second of a class): a resume may add or drop other callbacks without moving these keys."""
        found, seen = {}, {}
        for cb in self.hooks.callbacks:
            if callable(getattr(cb, "state_dict", None)) and callable(getattr(cb, "load_state_dict", None)):
                name = type(cb).__name__
                seen[name] = seen.get(name, 0) + 1
                found[name if seen[name] == 1 else f"{name}#{seen[name]}"] = cb
        return found

    def load_state_dict(self, saved: dict, *, settings: bool = True) -> None:
        """Restore a checkpoint (``settings=True``: also the controls' settings, replaying an
        optimizer rebuild and added preprocessing, and the extras) or a snapshot (``False``)."""
        state = self.state
        device = self.batches.X.device
        if settings and "settings" in saved:
            self.controls.load_settings(saved["settings"])
        state.model.load_state_dict(saved["model"])
        state.optimizer.load_state_dict(saved["optimizer"])
        self.batches.load_state_dict(saved["batches"])
        # this rank's (a different world size: ConfigError); a snapshot is this rank's own
        own = rank_state(saved, self.dist) if settings else saved
        rng = own["rng"]
        torch.set_rng_state(rng["torch"])
        self.augment_generator.set_state(rng["augment"])
        if "cuda" in rng and device.type == "cuda":
            torch.cuda.set_rng_state(rng["cuda"], device)
        counters = saved["counters"]
        state.step, state.epoch = counters["step"], counters["epoch"]
        state.lr_scale, state.initial_loss = counters["lr_scale"], counters["initial_loss"]
        self.sums.window_steps = counters["window_steps"]
        state.stop = counters.get("stop")      # restore() clears it again for a rollback
        if settings:                           # a checkpoint (not a snapshot)
            self.pending_stop = Stop.from_value(counters.get("pending_stop"))
        self.sums.load_state_dict(own["sums"])
        state.history = list(saved["history"])
        state.best = dict(saved["best"])
        if state.best.get("weights") is not None:
            state.best["weights"] = {k: v.to(device) for k, v in state.best["weights"].items()}
        if settings:
            state.extras.update(saved.get("extras", {}))
        if "schedule" in saved and hasattr(self.parts.schedule, "load_state_dict"):
            self.parts.schedule.load_state_dict(saved["schedule"])   # (a rollback keeps a replace_schedule made
                                                                      # since: a stateful one's state has no place)
        self.precision.load_state_dict(saved.get("scaler", {}))
        for key, hook_state in saved.get("grad_hooks", {}).items():
            self.parts.grad_hooks[int(key)].load_state_dict(hook_state)
        if settings:                           # before on_fit_start, which continues from it
            stateful = self._stateful_callbacks()
            for key, cb_state in saved.get("callbacks", {}).items():
                if key in stateful:
                    stateful[key].load_state_dict(cb_state)


def _restores_best(config) -> bool:
    """Early stopping with ``restore_best`` keeps the best weights and ends with them."""
    return config.patience is not None and config.restore_best


def _checkpointable(value) -> bool:
    """JSON-able values (and tensors) go into checkpoints; other callback data stays in memory."""
    if isinstance(value, (str, int, float, bool, type(None), torch.Tensor)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_checkpointable(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and _checkpointable(v) for k, v in value.items())
    return False
