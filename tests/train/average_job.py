"""A small job for the kill -9 test with weight averaging: ``main(run_dir, method, resume)`` in a
process of its own (the ``forked`` fixture of tests/conftest.py; METHOD: ema or swa). A
batch-normed MLP with dropout, so the SWA copy's batch-norm recalibration and the dropout RNG both
have to replay exactly. Writes ``start step N`` to ``run_dir``.out. The test calls ``train`` to run
the uninterrupted reference in its own process."""
from pathlib import Path

import torch

import trainwell

AVERAGE = {"ema": {"method": "ema", "decay": 0.95},
           "swa": {"method": "swa", "start": 0.5, "anneal_epochs": 1, "every": 9}}


class StartMarker(trainwell.Callback):
    def __init__(self, out):
        self.out = out

    def on_fit_start(self, state):
        Path(self.out).write_text(f"start step {state.step}\n")


def train(run_dir, method: str, *, resume: bool = False):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(500, 10, generator=g)
    y = (X[:, :3].sum(1) > 0).long() + (X[:, 3] > 1).long()
    return trainwell.fit({"type": "mlp", "widths": [32], "norm": "batch", "dropout": 0.2}, (X[:400], y[:400]),
                         val=(X[400:], y[400:]), optimizer="sgd", lr=0.05, epochs=6, batch_size=16,
                         checkpoint_every=7, average=AVERAGE[method], run_dir=run_dir, resume=resume,
                         report=False, progress=False, babysit="off", seed=3, device="cpu",
                         callbacks=[StartMarker(f"{run_dir}.out")])


def main(run_dir, method, resume):
    torch.set_num_threads(1)
    # a kill before the run wrote its config leaves nothing to resume: start it again
    train(run_dir, method, resume=resume and (Path(run_dir) / "config.json").exists())
