"""A small training job for the kill -9 resume test: ``main(run_dir, resume, out)``, started in a
process of its own (the ``forked`` fixture of tests/conftest.py).

Small images with augmentation (crop, flip, noise: the augmentation generator must replay
exactly), dropout, gradient noise, Adam and a step schedule. Writes ``start step N`` to the file
``out`` when training starts, so the test can tell that a resumed run really continued from a
checkpoint.
"""
from pathlib import Path

import torch
from torch import nn

import trainwell


class StartMarker(trainwell.Callback):
    def __init__(self, out):
        self.out = out

    def on_fit_start(self, state):
        Path(self.out).write_text(f"start step {state.step}\n")


def main(run_dir, resume, out):
    torch.set_num_threads(1)
    # A kill before the run wrote its config leaves nothing to resume: start it again.
    resume = resume and (Path(run_dir) / "config.json").exists()
    g = torch.Generator().manual_seed(0)
    X = torch.rand(600, 1, 6, 6, generator=g)
    score = X[:, 0, :3].mean((1, 2)) - X[:, 0, 3:].mean((1, 2))     # top half brighter? (flip-invariant)
    y = torch.bucketize(score, score.quantile(torch.tensor([1 / 3, 2 / 3])))   # 3 balanced classes
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(36, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 3))
    trainwell.fit(model, (X[:500], y[:500]), val=(X[500:], y[500:]), optimizer="adam", lr=1e-2,
                  schedule={"name": "step", "every_epochs": 2, "factor": 2.0}, grad_noise=0.01,
                  augment=[{"name": "crop", "pad": 1}, "hflip", {"name": "noise", "std": 0.05}],
                  epochs=6, batch_size=16, checkpoint_every=7, run_dir=run_dir, resume=resume,
                  report=False, progress=False, seed=3, callbacks=[StartMarker(out)],
                  device="cpu")    # the kill -9 test asserts CPU bit-exactness
