"""The one state object every callback and step function receives, and why a run stopped."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch


class StopKind(str, enum.Enum):
    """Why a run ended. The CLI's exit status and the report read the kind, never the words."""

    FINISHED = "finished"               # all epochs, or max_steps
    EARLY_STOPPING = "early_stopping"   # the monitored metric stopped improving
    DIVERGED = "diverged"               # NaN/inf loss, or above divergence_factor x the initial
    UNREPAIRABLE = "unrepairable"       # the babysitter found a fault it could not repair
    CALLBACK = "callback"               # a user callback set state.stop
    TIME_BUDGET = "time_budget"         # a budget ran out (the doctor's probe: its steps, or the safety clock)


FAILED = frozenset({StopKind.DIVERGED, StopKind.UNREPAIRABLE})


@dataclass(frozen=True)
class Stop:
    """A stop reason: a ``kind`` code branches on and a ``message`` for people."""

    kind: StopKind
    message: str

    @property
    def failed(self) -> bool:
        """The run did not train: it diverged or the babysitter could not repair it."""
        return self.kind in FAILED

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict:
        return {"kind": self.kind.value, "message": self.message}

    @classmethod
    def from_value(cls, value) -> "Stop | None":
        """A Stop from a Stop, its ``to_dict()``, a plain message (a callback's), or None."""
        if value is None or isinstance(value, Stop):
            return value
        if isinstance(value, dict):
            return cls(StopKind(value["kind"]), str(value["message"]))
        return cls(StopKind.CALLBACK, str(value))


@dataclass
class TrainState:
    """Everything about the run in progress. Callbacks change it; they never raise to stop:
    ``state.stop = "why"`` (kept as ``Stop(StopKind.CALLBACK, "why")``) or
    ``state.stop = Stop(kind, "why")`` ends training after the current step."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    loss_fn: Callable
    config: Any                               # the resolved trainwell.config.Config
    steps_per_epoch: int
    total_steps: int
    run_dir: Path | None = None
    step: int = 0                             # optimizer steps taken so far
    epoch: int = 0                            # epochs completed so far
    batch_index: int = 0                      # position in the current epoch
    batch: tuple | None = None                # (xb, yb) of the current step
    loss: torch.Tensor | None = None          # last step's loss, a 0-d tensor (not synced)
    history: list[dict] = field(default_factory=list)   # one dict per finished epoch
    metrics: dict = field(default_factory=dict)         # this epoch's metrics (at epoch end)
    stop: Stop | None = None                  # set to a reason to stop training
    lr_scale: float = 1.0                     # global lr factor (repairs may change it)
    lr: float = 0.0                           # the current lr of the first parameter group
    initial_loss: float | None = None         # first step's loss (divergence check)
    recent_loss: float | None = None          # mean loss of the last check window (synced there)
    diverged: dict | None = None              # {"loss", "initial_loss", "step", "lr"} when the
                                              # divergence check stopped the run
    best: dict = field(default_factory=dict)  # {"value", "epoch", "weights"} of the monitored metric
    extras: dict = field(default_factory=dict)  # callbacks' own data (JSON-able parts and tensors
                                                # are checkpointed; see docs/training.md)
    eval_model: torch.nn.Module | None = None   # the weights validation, the best weights and the
                                                # final model use (an EMA copy, say); None: model
    controls: Any = field(default=None, repr=False)  # the documented controls (train/controls.py)
    precision: Any = field(default=None, repr=False)  # autocast and loss scaling (train/precision.py)

    @property
    def evaluated_model(self) -> torch.nn.Module:
        """``eval_model`` when a callback set one, else the training ``model``."""
        return self.model if self.eval_model is None else self.eval_model

    def __setattr__(self, name, value):
        if name == "stop":
            value = Stop.from_value(value)
        super().__setattr__(name, value)
