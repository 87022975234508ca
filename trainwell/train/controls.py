"""The documented controls a callback may use to change a running training (the babysitter's
repairs use nothing else): ``state.controls``.

    snap = state.controls.snapshot()          # everything an exact resume needs, in memory
    state.controls.set_lr_scale(state.controls.lr_scale / 10)
    state.controls.restore(snap)              # roll back; the loop continues from there

Settings changed here (lr scale, clipping, optimizer overrides, added preprocessing, shuffling)
are part of every checkpoint, so a repaired run resumes with them.
"""
from __future__ import annotations


class Controls:
    """The running Trainer's controls; reached as ``state.controls``."""

    def __init__(self, trainer):
        self._trainer = trainer

    # ------------------------------------------------------------------ what the run is
    @property
    def model(self):
        return self._trainer.model

    @property
    def optimizer(self):
        return self._trainer.optimizer

    @property
    def config(self):
        return self._trainer.config

    @property
    def train_data(self) -> tuple:
        """``(X, y)``: the training inputs (preprocessed, on the device) and targets."""
        return self._trainer.batches.X, self._trainer.batches.y

    @property
    def lr_scale(self) -> float:
        return self._trainer.state.lr_scale

    @property
    def clip_norm(self) -> float | None:
        return self._trainer.settings["clip_norm"]

    @property
    def optimizer_overrides(self) -> dict:
        """Options changed by ``rebuild_optimizer`` so far (a copy)."""
        return dict(self._trainer.settings["optimizer_overrides"])

    @property
    def preprocess(self) -> list:
        """Preprocessing added by ``add_preprocess`` so far (specs, a copy)."""
        return list(self._trainer.settings["preprocess"])

    @property
    def shuffle(self) -> bool:
        return bool(self._trainer.batches.shuffle)

    def lrs(self, step: int | None = None) -> list:
        """Every parameter group's lr at ``step`` (default: the current step)."""
        return self._trainer.lrs(self._trainer.state.step if step is None else step)

    # ------------------------------------------------------------------ changes
    def snapshot(self) -> dict:
        return self._trainer.snapshot()

    def restore(self, snapshot: dict) -> None:
        self._trainer.restore(snapshot)

    def set_lr_scale(self, scale: float) -> None:
        self._trainer.set_lr_scale(scale)

    def set_clip_norm(self, max_norm: float | None) -> None:
        self._trainer.set_clip_norm(max_norm)

    def set_shuffle(self, shuffle: bool = True) -> None:
        self._trainer.set_shuffle(shuffle)

    def rebuild_optimizer(self, **overrides) -> None:
        self._trainer.rebuild_optimizer(**overrides)

    def add_preprocess(self, name: str, **options) -> None:
        self._trainer.add_preprocess(name, **options)
