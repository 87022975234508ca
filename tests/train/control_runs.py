"""What the tests of the run's batch controls share (``set_batch_size``: test_batch_size_control,
``set_drop_last``: test_drop_last_control): the same seeded small MLP, the same short CPU fit of the
``blobs`` rows, a user's own loader that the controls refuse, and a bit-for-bit weights check."""
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.config import make_config
from trainwell.data.batches import Batches
from trainwell.train.callbacks import Callback


def mlp():
    """A seeded 2-16-3 MLP with dropout (a resumed run must restore its RNG too)."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Dropout(0.2), nn.Linear(16, 3))


def fit(blobs, rows, run_dir, callbacks=(), **extra):
    """4 epochs of batch 32 over the first ``rows`` of ``blobs`` (the rest validates), with an
    augmentation and a checkpoint every 5 steps, on the CPU (the tests assert bit-exactness)."""
    X, y = blobs
    options = dict(epochs=4, batch_size=32, lr=0.1, seed=3, progress=False, report=False, babysit="off",
                   run_dir=run_dir, augment=[{"name": "noise", "std": 0.1}], checkpoint_every=5,
                   device="cpu")
    options.update(extra)
    return trainwell.fit(mlp(), (X[:rows], y[:rows]), val=(X[rows:], y[rows:]), callbacks=list(callbacks),
                         **options)


def same_weights(a, b):
    """Whether two runs' models hold the same tensors, bit for bit."""
    return all(torch.equal(x, y) for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values()))


class UserLoader:
    """A user's own loader that the Trainer iterates (not trainwell's Batches)."""

    def __init__(self, X, y):
        self._b = Batches(X, y, batch_size=32, seed=0)
        self.X, self.y = X, y

    def __len__(self):
        return len(self._b)

    def __iter__(self):
        return iter(self._b)

    def __getattr__(self, name):
        return getattr(self._b, name)


def bare_trainer(batches):
    """A one-epoch Trainer of ``mlp()`` (SGD, cross-entropy, no babysitter) over ``batches``."""
    model = mlp()
    return trainwell.Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy,
                             config=make_config({"epochs": 1, "progress": False, "babysit": "off"}), batches=batches)


class EpochLrs(Callback):
    """The lr of the first parameter group at the start of each epoch, in ``lrs``."""

    def __init__(self):
        self.lrs = []

    def on_epoch_start(self, state):
        self.lrs.append(state.controls.lrs()[0])
