"""A small job for the kill -9 test with weight averaging: ``python average_job.py RUN_DIR METHOD
[--resume]`` (METHOD: ema or swa). A batch-normed MLP with dropout, so the SWA copy's batch-norm
recalibration and the dropout RNG both have to replay exactly. Prints ``start step N``. The test
imports ``train`` to run the uninterrupted reference in its own process."""
import sys
from pathlib import Path

import torch

import trainwell

AVERAGE = {"ema": {"method": "ema", "decay": 0.95},
           "swa": {"method": "swa", "start": 0.5, "anneal_epochs": 1, "every": 9}}


class StartMarker(trainwell.Callback):
    def on_fit_start(self, state):
        print(f"start step {state.step}", flush=True)


def train(run_dir, method: str, *, resume: bool = False):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(500, 10, generator=g)
    y = (X[:, :3].sum(1) > 0).long() + (X[:, 3] > 1).long()
    return trainwell.fit({"type": "mlp", "widths": [32], "norm": "batch", "dropout": 0.2}, (X[:400], y[:400]),
                         val=(X[400:], y[400:]), optimizer="sgd", lr=0.05, epochs=6, batch_size=16,
                         checkpoint_every=7, average=AVERAGE[method], run_dir=run_dir, resume=resume,
                         report=False, progress=False, babysit="off", seed=3, device="cpu",
                         callbacks=[StartMarker()])


if __name__ == "__main__":
    torch.set_num_threads(1)
    run_dir, method = sys.argv[1], sys.argv[2]
    # a kill before the run wrote its config leaves nothing to resume: start it again
    train(run_dir, method, resume="--resume" in sys.argv and (Path(run_dir) / "config.json").exists())
