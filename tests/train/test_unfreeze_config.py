"""docs/transfer.md / docs/options.md: `freeze = ["body"]` with `unfreeze_at = k` trains only the
head for k epochs, then the body too at lr × `unfreeze_lr_mult` (tests/nn/test_transfer.py checks
the Unfreeze callback built by hand; this, the config's way in)."""
import pytest

import trainwell


class Groups(trainwell.Callback):
    def __init__(self):
        self.by_epoch = {}

    def on_epoch_end(self, state):
        self.by_epoch[state.epoch] = {name: (group["lr_mult"], group["lr"])
                                      for group in state.optimizer.param_groups for name in group["param_names"]}


def test_the_body_joins_the_optimizer_after_unfreeze_at_with_unfreeze_lr_mult(blobs):
    seen = Groups()
    run = trainwell.fit({"type": "mlp", "widths": [8]}, blobs, freeze=["body"], unfreeze_at=1,
                        unfreeze_lr_mult=0.25, lr=0.1, schedule="constant", epochs=2, seed=0,
                        progress=False, report=False, babysit="off", device="cpu", callbacks=[seen])
    every = {name for name, _ in run.model.named_parameters()}
    assert set(seen.by_epoch[1]) < every and set(seen.by_epoch[2]) == every   # the head first, then all
    body = every - set(seen.by_epoch[1])
    for name in body:
        assert seen.by_epoch[2][name] == (0.25, pytest.approx(0.1 * 0.25)), name
    for name in seen.by_epoch[1]:                 # the head keeps the run's lr
        assert seen.by_epoch[2][name][1] == pytest.approx(0.1), name
