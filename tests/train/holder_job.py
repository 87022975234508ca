"""A run that holds its run directory's lock for test_rundir.py: ``main(run_dir, paused, go)``, in
a process of its own (the ``forked`` fixture of tests/conftest.py), sets the event ``paused``
after its first epoch and waits there, holding the lock, until the event ``go`` is set."""
import torch

import trainwell


class PauseAfterFirstEpoch(trainwell.Callback):
    def __init__(self, paused, go):
        self.paused, self.go = paused, go

    def on_epoch_end(self, state):
        if state.epoch == 1:
            self.paused.set()
            self.go.wait()


def main(run_dir, paused, go):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 4, generator=g)
    trainwell.fit(None, (X, (X[:, 0] > 0).long()), epochs=3, batch_size=16, run_dir=run_dir,
                  report=False, progress=False, babysit="off", callbacks=[PauseAfterFirstEpoch(paused, go)])
