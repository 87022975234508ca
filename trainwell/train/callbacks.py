"""Callbacks: ten hooks, each receiving the one ``TrainState``.

Nine run in a fixed order (asserted by ``tests/train/test_loop.py::test_hook_order_is_fixed``)::

    on_fit_start
      on_epoch_start
        (on_before_step, on_after_step) × steps
        on_validation_start     # before validation; set state.eval_model to validate other weights
        on_validation_end       # state.metrics holds this epoch's train/val metrics
        on_epoch_end
        on_checkpoint           # only when a checkpoint is about to be written
    on_fit_end

and ``on_model_changed``, only when a repair makes the model another one (``controls.model_changed()``).
A callback changes ``TrainState`` fields and calls ``state.controls`` (train/controls.py); it
stops training by setting ``state.stop = "reason"``, never by raising.
"""
from __future__ import annotations

from trainwell.train.state import Stop, StopKind

HOOKS = ("on_fit_start", "on_epoch_start", "on_before_step", "on_after_step",
         "on_validation_start", "on_validation_end", "on_epoch_end", "on_checkpoint", "on_fit_end",
         "on_model_changed")


class Callback:
    """Base class with every hook a no-op; subclass and override the ones you need.

    ``state.eval_model`` (None: the training model) is the model that validation evaluates, whose
    weights ``state.best`` keeps, and that ``fit`` restores the best weights into, evaluates on
    the test split, saves and returns. Set it (in ``on_fit_start`` or ``on_validation_start``)
    to an averaged copy of the model, e.g. an EMA. Data a callback must keep across a resume goes
    into ``state.extras`` as JSON values and tensors: it is checkpointed and put back before
    ``on_fit_start`` of the resumed run (docs/training.md).
    """

    def on_fit_start(self, state): ...
    def on_epoch_start(self, state): ...
    def on_before_step(self, state): ...
    def on_after_step(self, state): ...
    def on_validation_start(self, state): ...
    def on_validation_end(self, state): ...
    def on_epoch_end(self, state): ...
    def on_checkpoint(self, state): ...
    def on_fit_end(self, state): ...
    # a change through ``state.controls.model_changed()`` made the model another one (a repair's
    # re-initialization, swapped activations, removed output activation: babysit/actions.py); a
    # callback that keeps a copy of the model or statistics of its weights starts them again
    def on_model_changed(self, state): ...


class Hooks:
    """Dispatches each hook to the callbacks that define it (resolved once, not per step)."""

    def __init__(self, callbacks):
        self.callbacks = list(callbacks)
        base = {name: getattr(Callback, name) for name in HOOKS}
        self.bound = {
            name: [getattr(cb, name) for cb in self.callbacks
                   if hasattr(cb, name) and getattr(type(cb), name, None) is not base[name]]
            for name in HOOKS
        }

    def __call__(self, name: str, state) -> None:
        for fn in self.bound[name]:
            fn(state)

    def detach(self, callback: str, hook: str) -> int:
        """Stop calling ``hook`` of the callbacks whose class is named ``callback`` (their other hooks
        still run); returns how many were detached (0: no such callback defines that hook)."""
        if hook not in self.bound:
            return 0
        kept = [fn for fn in self.bound[hook] if type(getattr(fn, "__self__", None)).__name__ != callback]
        detached = len(self.bound[hook]) - len(kept)
        self.bound[hook] = kept
        return detached


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs (notes 003).

    The trainer keeps the best weights (``state.best``) and restores them at the end when
    ``restore_best`` is set; this callback only decides when to stop.
    """

    def __init__(self, *, patience: int, monitor: str = "val_loss"):
        self.patience, self.monitor = patience, monitor

    def on_epoch_end(self, state):
        best_epoch = state.best.get("epoch")
        if best_epoch is not None and state.epoch - best_epoch >= self.patience:
            value = state.best["value"]
            state.stop = Stop(StopKind.EARLY_STOPPING,
                              f"early stopping: {self.monitor} has not improved for {self.patience} "
                              f"epochs (best {value:.4g} at epoch {best_epoch})")
