"""The training loop: batches -> step (forward, loss, backward, optimizer) -> callbacks -> epoch end.

``Trainer`` is the middle level of use: give it a model, an optimizer, a loss and batches, and
optionally your own ``step_fn(state, closure) -> loss``. The default step calls the closure
once and steps, or hands the closure to optimizers that need it (L-BFGS, SAM and other
multi-pass methods call it as often as they need; each call sees the same batch).

Hot-loop rules (STYLE 10): losses and correct counts accumulate as device tensors; the host
syncs once per epoch, plus once every ``check_every`` steps for the divergence check.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import time
from pathlib import Path
from typing import Callable

import torch

from trainwell.data.batches import Batches, eval_batches
from trainwell.optim.schedules import group_lrs
from trainwell.train.callbacks import Hooks
from trainwell.train.controls import Controls
from trainwell.train.state import Stop, StopKind, TrainState


def needs_closure(optimizer) -> bool:
    """Whether the optimizer's ``step`` must get the closure (it may evaluate it several times)."""
    return isinstance(optimizer, torch.optim.LBFGS) or getattr(optimizer, "requires_closure", False)


def default_step(state: TrainState, closure: Callable) -> torch.Tensor:
    """One optimizer step on ``state.batch``; returns the loss as a 0-d tensor."""
    if needs_closure(state.optimizer):
        return state.optimizer.step(closure)
    loss = closure()
    state.optimizer.step()
    return loss


@torch.no_grad()
def evaluate_model(model, loss_fn, accuracy, X, y, *, batch_size: int) -> dict:
    """Mean loss and accuracy of ``model`` on ``(X, y)`` in eval mode (one host sync)."""
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=X.device)
    correct = torch.zeros((), device=X.device)
    for xb, yb in eval_batches(X, y, batch_size):
        out = model(xb)
        loss_sum += loss_fn(out, yb).detach() * xb.shape[0]
        if accuracy is not None:
            correct += accuracy(out, yb)
    model.train(was_training)
    n = X.shape[0]
    values = torch.stack([loss_sum / n, correct / n]).tolist()
    return {"loss": values[0], "acc": values[1] if accuracy is not None else None, "n": n}


class Trainer:
    """Runs epochs of steps over in-memory batches, driving callbacks and checkpoints.

    Parts are given already built (``fit`` builds them from options): ``schedule(step) -> mult``
    (may also have ``observe(value)``), ``penalty(params) -> loss term``, ``grad_hooks`` applied
    after backward (noise, clipping), ``augment(x, generator) -> x``, and ``checkpointer`` with
    ``save(state_dict, step)``.
    """

    def __init__(self, model, optimizer, loss_fn, *, config, batches: Batches, val=None,
                 accuracy=None, schedule=None, penalty=None, grad_hooks=(), augment=None,
                 callbacks=(), step_fn=None, checkpointer=None, run_dir=None, test=None,
                 optimizer_factory=None):
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.config, self.batches, self.val, self.test = config, batches, val, test
        self.accuracy, self.schedule, self.penalty = accuracy, schedule, penalty
        self.grad_hooks, self.augment = list(grad_hooks), augment
        self.step_fn = step_fn or default_step
        self.checkpointer = checkpointer
        self.hooks = Hooks(callbacks)
        self.optimizer_factory = optimizer_factory    # (model, **overrides) -> optimizer
        # Settings that repairs change; checkpointed so a resumed run keeps them.
        self.settings = {"clip_norm": None, "optimizer_overrides": {}, "preprocess": []}
        self.added_preprocess: list = []              # fitted modules from add_preprocess()
        self._restarted = False
        self.augment_generator = torch.Generator().manual_seed(config.seed + 1)
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        _restorable_groups(optimizer, model)
        steps_per_epoch = len(batches)
        total = steps_per_epoch * config.epochs
        if config.max_steps is not None:
            total = min(total, config.max_steps)
        self.state = TrainState(model=model, optimizer=optimizer, loss_fn=loss_fn, config=config,
                                steps_per_epoch=steps_per_epoch, total_steps=total,
                                run_dir=Path(run_dir) if run_dir else None, trainer=self)
        self.state.controls = Controls(self)
        device = batches.X.device
        self._loss_sum = torch.zeros((), device=device)     # this epoch, data loss × samples
        self._correct = torch.zeros((), device=device)
        self._seen = 0
        self._window = torch.zeros((), device=device)       # loss sum since the last check
        self._window_steps = 0

    # ----------------------------------------------------------------- the step
    def make_closure(self, xb, yb):
        """The closure of one step: forward, loss (+ penalty), backward, gradient hooks.

        ``closure(backward=False)`` returns the loss with its graph (Newton's Hessian). Only the
        first call feeds the training metrics (multi-pass optimizers evaluate it again).

        The gradient hooks (noise, then clipping) run after each backward, except with
        ``closure(hooks=False)``: a two-pass optimizer (the SAM family) calls that on every pass
        and then ``closure.apply_hooks()`` once, so clipping acts on the gradient the base
        optimizer steps with and not on the first pass's g that sets the perturbation.
        """
        model, optimizer, loss_fn = self.model, self.optimizer, self.loss_fn
        first = True

        def apply_hooks():
            for hook in self.grad_hooks:
                hook(self.state)
            if self.settings["clip_norm"] is not None:
                torch.nn.utils.clip_grad_norm_(self._trainable(), self.settings["clip_norm"], foreach=True)

        def closure(backward: bool = True, hooks: bool = True):
            nonlocal first
            out = model(xb)
            data_loss = loss_fn(out, yb)
            loss = data_loss + self.penalty() if self.penalty is not None else data_loss
            if not backward:
                return loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if hooks:
                apply_hooks()
            if first:
                first = False
                self._record(out.detach(), data_loss.detach(), yb)
            return data_loss.detach()

        closure.apply_hooks = apply_hooks
        return closure

    def _record(self, out, loss, yb):
        n = yb.shape[0]
        self._loss_sum.add_(loss, alpha=n)
        self._seen += n                      # a Python int: the batch size is known on the host
        self._window.add_(loss)
        if self.accuracy is not None:
            self._correct += self.accuracy(out, yb)

    def lrs(self, step: int) -> list:
        """Every parameter group's lr at ``step``: base lr x lr_mult x schedule(step) x the
        repairs' lr scale (``trainwell.optim.schedules.group_lrs``)."""
        groups = self.optimizer.param_groups
        if len(groups) != len(self.base_lrs):   # groups added (Unfreeze) or dropped (rollback)
            self.base_lrs = self.base_lrs[:len(groups)] + [
                g.get("base_lr", g["lr"]) for g in groups[len(self.base_lrs):]]
        return group_lrs(self.base_lrs, groups, self.schedule, step, self.state.lr_scale)

    def _set_lr(self):
        for group, lr in zip(self.optimizer.param_groups, self.lrs(self.state.step)):
            group["lr"] = lr
        self.state.lr = self.optimizer.param_groups[0]["lr"]

    # ----------------------------------------------------------------- the loop
    def fit(self) -> TrainState:
        state, hooks, config = self.state, self.hooks, self.config
        self.model.train()
        hooks("on_fit_start", state)
        while state.stop is None and state.epoch < config.epochs and state.step < state.total_steps:
            started = time.perf_counter()
            if self.batches.order is None:
                hooks("on_epoch_start", state)
            for xb, yb in self.batches:
                state.batch_index = self.batches.position - 1
                if self.augment is not None:
                    xb = self.augment(xb, self.augment_generator)
                state.batch = (xb, yb)
                self._set_lr()
                hooks("on_before_step", state)
                state.loss = self.step_fn(state, self.make_closure(xb, yb))
                state.step += 1
                self._window_steps += 1
                hooks("on_after_step", state)
                if self._restarted:
                    break
                if state.step == 1 or self._window_steps >= config.check_every:
                    self._check_divergence()
                if state.stop is not None or state.step >= state.total_steps:
                    break
                if (config.checkpoint_every and state.step % config.checkpoint_every == 0
                        and self.batches.position < len(self.batches)):
                    self._checkpoint()   # mid-epoch; the epoch's last step is saved at its end
            if self._restarted:          # a rollback: continue from the restored position
                self._restarted = False
                continue
            self.batches.order = None    # an epoch cut short by a stop is not continued
            self._end_epoch(time.perf_counter() - started)
            self._restarted = False
        if state.stop is None:
            state.stop = Stop(StopKind.FINISHED, "reached max_steps" if state.step >= state.total_steps
                              and state.epoch < config.epochs else "finished all epochs")
        if state.best.get("weights") is not None and config.patience is not None and config.restore_best:
            self.model.load_state_dict(state.best["weights"])
        hooks("on_fit_end", state)
        return state

    def _check_divergence(self):
        """Stop on a NaN/inf loss or one above ``divergence_factor`` × the initial loss (notes 004)."""
        state, config = self.state, self.config
        mean = (self._window / max(self._window_steps, 1)).item()
        state.recent_loss = mean
        self._window.zero_()
        self._window_steps = 0
        if state.initial_loss is None and math.isfinite(mean):
            state.initial_loss = mean
            return
        lr = f"{state.lr:.3g}"
        if not math.isfinite(mean):
            state.stop = Stop(StopKind.DIVERGED, f"the loss became {mean} by step {state.step} (epoch {state.epoch + 1}); "
                          f"training diverged. Try a lower lr (now {lr}, e.g. 10x lower), "
                          f"clip_norm = 1.0, or check the inputs for NaN/inf (`trainwell doctor`).")
        elif state.initial_loss is not None and mean > config.divergence_factor * state.initial_loss > 0:
            state.stop = Stop(StopKind.DIVERGED, f"the loss rose to {mean:.4g} by step {state.step}, more than "
                          f"{config.divergence_factor:g}x its initial {state.initial_loss:.4g} "
                          f"(notes 004: break out early). Try a lower lr (now {lr}) or clip_norm.")
        else:
            return
        state.diverged = {"loss": mean, "initial_loss": state.initial_loss, "step": state.step,
                          "lr": state.lr, "factor": config.divergence_factor}

    def _end_epoch(self, seconds: float):
        state, config = self.state, self.config
        state.epoch += 1
        n = max(self._seen, 1)
        train = torch.stack([self._loss_sum / n, self._correct / n]).tolist()
        self._loss_sum.zero_()
        self._correct.zero_()
        self._seen = 0
        metrics = {"epoch": state.epoch, "step": state.step, "lr": state.lr,
                   "train_loss": train[0], "train_acc": train[1] if self.accuracy else None,
                   "val_loss": None, "val_acc": None}
        if self.val is not None:
            result = evaluate_model(self.model, self.loss_fn, self.accuracy, *self.val,
                                    batch_size=config.eval_batch_size)
            metrics["val_loss"], metrics["val_acc"] = result["loss"], result["acc"]
            self.model.train()
        metrics["seconds"] = seconds
        state.metrics = metrics
        if not math.isfinite(metrics["train_loss"]) and state.stop is None:
            state.diverged = {"loss": metrics["train_loss"], "initial_loss": state.initial_loss,
                              "step": state.step, "lr": state.lr}
            state.stop = Stop(StopKind.DIVERGED, f"the training loss is {metrics['train_loss']} at epoch {state.epoch}; "
                          f"training diverged. Try a lower lr (now {state.lr:.3g}) or clip_norm.")
        self.hooks("on_validation_end", state)
        if self._restarted:
            return
        self._track_best(metrics)
        if self.schedule is not None and hasattr(self.schedule, "observe"):
            value = metrics.get(config.monitor)
            if value is not None:
                self.schedule.observe(value)
        state.history.append(metrics)
        self._append_metrics(metrics)
        self.hooks("on_epoch_end", state)
        if not self._restarted:
            self._checkpoint()

    def _track_best(self, metrics):
        state, config = self.state, self.config
        value = metrics.get(config.monitor)
        if value is None or not math.isfinite(value):
            return
        sign = -1.0 if config.monitor.endswith("loss") else 1.0
        best = state.best.get("value")
        if best is None or sign * (value - best) > config.min_delta:
            state.best = {"value": value, "epoch": state.epoch, "weights": None}
            if config.patience is not None and config.restore_best:
                state.best["weights"] = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def _append_metrics(self, metrics):
        if self.state.run_dir is None:
            return
        with open(self.state.run_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps(metrics) + "\n")
            f.flush()

    # ----------------------------------------------------------------- repairs
    # The babysitter's repairs act through these methods (trainwell/babysit/repair.py).
    def _trainable(self):
        return [p for p in self.model.parameters() if p.requires_grad]

    def snapshot(self) -> dict:
        """An in-memory copy of everything an exact resume needs (tensors cloned)."""
        return _clone(self.state_dict())

    def restore(self, snapshot: dict) -> None:
        """Roll back to ``snapshot`` now. The loop notices after the current hook, skips the
        rest of that step's or epoch's bookkeeping, and continues from the restored position.
        Repair settings (lr scale, clipping, optimizer overrides) are kept, not rolled back."""
        keep_scale = self.state.lr_scale
        self.load_state_dict(_clone(snapshot), settings=False)
        self.state.lr_scale = keep_scale
        self.state.stop = self.state.diverged = None
        self._restarted = True
        if self.state.run_dir is not None:
            rewrite_lines(self.state.run_dir / "metrics.jsonl", self.state.history)

    def set_lr_scale(self, factor: float) -> None:
        """Multiply every group's lr by ``factor`` from the next step on (schedules still apply)."""
        self.state.lr_scale = float(factor)

    def set_shuffle(self, shuffle: bool = True) -> None:
        """Reshuffle the training data every epoch from the next epoch on (sorted labels with
        shuffle = false train badly: notes 000 SGD samples examples at random)."""
        self.batches.shuffle = bool(shuffle)
        self.config = dataclasses.replace(self.config, shuffle=bool(shuffle))
        self.state.config = self.config

    def set_clip_norm(self, max_norm: float | None) -> None:
        """Clip gradients to a global L2 norm of ``max_norm`` from the next step on (None: off)."""
        self.settings["clip_norm"] = None if max_norm is None else float(max_norm)

    def rebuild_optimizer(self, **overrides) -> None:
        """A fresh optimizer for the current parameters, with the run's options updated by
        ``overrides`` (e.g. ``weight_decay=1e-3``, ``optimizer="adam"``, ``lr=...``)."""
        if self.optimizer_factory is None:
            raise RuntimeError("this Trainer was built without an optimizer_factory")
        self.settings["optimizer_overrides"].update(overrides)
        self.optimizer = self.optimizer_factory(self.model, **self.settings["optimizer_overrides"])
        self.state.optimizer = self.optimizer
        self.base_lrs = [g["lr"] for g in self.optimizer.param_groups]
        _restorable_groups(self.optimizer, self.model)

    def add_preprocess(self, name: str, **options) -> None:
        """Fit a preprocessing step on the current training inputs and apply it to every split;
        ``run.predict`` and ``load_run`` apply it too (fit saves it with the run)."""
        from trainwell.data.transforms import fit_preprocess

        spec = [{"name": name, **options}]
        module = fit_preprocess(spec, self.batches.X.cpu()).to(self.batches.X.device)
        with torch.no_grad():
            self.batches.X = module(self.batches.X)
            if self.val is not None:
                self.val = (module(self.val[0]), self.val[1])
            if self.test is not None:
                self.test = (module(self.test[0]), self.test[1])
        self.settings["preprocess"].append(spec[0])
        self.added_preprocess.append(module)

    # ----------------------------------------------------------------- resume
    def _checkpoint(self):
        if self.checkpointer is None:
            return
        self.hooks("on_checkpoint", self.state)
        self.checkpointer.save(self.state_dict(), self.state.step)

    def state_dict(self) -> dict:
        """Everything needed to continue bit-identically: weights, optimizer, schedule, RNGs,
        batch order and position, counters, running sums, history and best weights."""
        state = self.state
        out = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "batches": self.batches.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "augment": self.augment_generator.get_state()},
            "counters": {"step": state.step, "epoch": state.epoch, "lr_scale": state.lr_scale,
                         "initial_loss": state.initial_loss, "window_steps": self._window_steps,
                         "stop": state.stop.to_dict() if state.stop else None},   # a stopped run resumes stopped: no extra epoch
            "sums": {"loss": self._loss_sum, "correct": self._correct, "seen": self._seen,
                     "window": self._window},
            "history": state.history,
            "best": state.best,
            "extras": {k: v for k, v in state.extras.items() if _plain(v)},
            "settings": {"clip_norm": self.settings["clip_norm"],
                         "optimizer_overrides": dict(self.settings["optimizer_overrides"]),
                         "preprocess": list(self.settings["preprocess"])},
        }
        if torch.cuda.is_available() and self.batches.X.is_cuda:
            out["rng"]["cuda"] = torch.cuda.get_rng_state(self.batches.X.device)
        if self.schedule is not None and hasattr(self.schedule, "state_dict"):
            out["schedule"] = self.schedule.state_dict()
        for i, hook in enumerate(self.grad_hooks):
            if hasattr(hook, "state_dict"):
                out.setdefault("grad_hooks", {})[str(i)] = hook.state_dict()
        return out

    def load_state_dict(self, saved: dict, *, settings: bool = True) -> None:
        """Restore a checkpoint (``settings=True``: also the repairs' settings, replaying an
        optimizer rebuild and added preprocessing) or a snapshot (``settings=False``)."""
        state = self.state
        device = self.batches.X.device
        if settings and "settings" in saved:
            self._replay_settings(saved["settings"])
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.batches.load_state_dict(saved["batches"])
        torch.set_rng_state(saved["rng"]["torch"])
        self.augment_generator.set_state(saved["rng"]["augment"])
        if "cuda" in saved["rng"] and device.type == "cuda":
            torch.cuda.set_rng_state(saved["rng"]["cuda"], device)
        counters = saved["counters"]
        state.step, state.epoch = counters["step"], counters["epoch"]
        state.lr_scale, state.initial_loss = counters["lr_scale"], counters["initial_loss"]
        self._window_steps = counters["window_steps"]
        state.stop = counters.get("stop")      # restore() clears it again for a rollback
        for name, t in (("loss", self._loss_sum), ("correct", self._correct), ("window", self._window)):
            t.copy_(saved["sums"][name].to(device))
        self._seen = int(saved["sums"]["seen"])
        state.history = list(saved["history"])
        state.best = dict(saved["best"])
        if state.best.get("weights") is not None:
            state.best["weights"] = {k: v.to(device) for k, v in state.best["weights"].items()}
        if settings:
            state.extras.update(saved.get("extras", {}))
        if "schedule" in saved:
            self.schedule.load_state_dict(saved["schedule"])
        for key, hook_state in saved.get("grad_hooks", {}).items():
            self.grad_hooks[int(key)].load_state_dict(hook_state)


    def _replay_settings(self, saved: dict) -> None:
        self.settings["clip_norm"] = saved["clip_norm"]
        if saved["optimizer_overrides"]:
            self.rebuild_optimizer(**saved["optimizer_overrides"])
        for spec in saved["preprocess"][len(self.settings["preprocess"]):]:
            spec = dict(spec)
            self.add_preprocess(spec.pop("name"), **spec)


def _restorable_groups(optimizer, model) -> None:
    """Let checkpoints and rollbacks restore parameter groups added mid-run (transfer.Unfreeze)."""
    from trainwell.nn.transfer import restore_added_groups

    restore_added_groups(optimizer, model)


def _clone(obj):
    """A deep copy in which tensors are cloned (detached)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return type(obj)((k, _clone(v)) for k, v in obj.items()) if not hasattr(obj, "_metadata") \
            else _clone_ordered(obj)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_clone(v) for v in obj)
    return copy.deepcopy(obj)


def _clone_ordered(obj):
    out = type(obj)((k, _clone(v)) for k, v in obj.items())
    out._metadata = copy.deepcopy(obj._metadata)
    return out


def rewrite_lines(path: Path, records) -> None:
    """Atomically replace a JSON-lines file (metrics.jsonl after a resume or rollback)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in records))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _plain(value) -> bool:
    """JSON-able values (and tensors) go into checkpoints; other callback data stays in memory."""
    if isinstance(value, (str, int, float, bool, type(None), torch.Tensor)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and _plain(v) for k, v in value.items())
    return False
