import os

import pytest
import torch

from trainwell.train.callbacks import Callback

# Tests run on 2 cores next to another worker: one intra-op thread each keeps timings stable
# and CPU results deterministic.
torch.set_num_threads(1)
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def blobs():
    """A small, easy 3-class problem: (X, y) float32 / int64 tensors."""
    g = torch.Generator().manual_seed(0)
    centers = torch.tensor([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    y = torch.arange(300) % 3
    X = centers[y] + 0.5 * torch.randn(300, 2, generator=g)
    return X, y


class Crash(Exception):
    """Stands for a process dying mid-run (the loop does not catch it)."""


class CrashAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_after_step(self, state):
        if state.step == self.step:
            raise Crash


@pytest.fixture
def crash_at():
    """``crash_at(step)`` -> a callback that raises ``Crash`` after that step; ``crash_at.error``."""
    def make(step):
        return CrashAt(step)
    make.error = Crash
    return make
