"""The one state object every callback and step function receives."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch


@dataclass
class TrainState:
    """Everything about the run in progress. Callbacks change it; they never raise to stop:
    ``state.stop = "why"`` ends training after the current step."""

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
    stop: str | None = None                   # set to a reason to stop training
    lr_scale: float = 1.0                     # global lr factor (repairs may change it)
    lr: float = 0.0                           # the current lr of the first parameter group
    initial_loss: float | None = None         # first step's loss (divergence check)
    recent_loss: float | None = None          # mean loss of the last check window (synced there)
    diverged: dict | None = None              # {"loss", "initial_loss", "step", "lr"} when the
                                              # divergence check stopped the run
    best: dict = field(default_factory=dict)  # {"value", "epoch", "weights"} of the monitored metric
    extras: dict = field(default_factory=dict)  # callbacks' own data (JSON-able parts are checkpointed)
    trainer: Any = field(default=None, repr=False)  # the running Trainer (repairs use its methods)
