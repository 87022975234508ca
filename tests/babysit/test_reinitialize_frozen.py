"""The babysitter's re-initialization redraws frozen weights, unlike a user's ``init`` (docs/init.md,
docs/babysitter.md ``reinit``): its arm and repair re-initialize the whole model, a body frozen at a
wrong scale included (the generated lanes' ``frozen_hidden``)."""
import torch
from torch import nn

from trainwell.babysit.actions import reinitialize
from trainwell.nn.init import init


def _frozen_body():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))
    with torch.no_grad():
        for layer in (model[0], model[2]):
            layer.weight.mul_(0.1)
            layer.requires_grad_(False)
    return model


def test_reinitialize_redraws_a_frozen_body_that_a_users_init_keeps():
    kept, redrawn = _frozen_body(), _frozen_body()
    before = kept[2].weight.detach().clone()
    init(kept, "kaiming_normal", seed=0)
    assert torch.equal(kept[2].weight, before)
    reinitialize(redrawn, seed=0)
    he_std = (2 / 64) ** 0.5
    assert abs(float(redrawn[2].weight.std()) / he_std - 1) < 0.15      # He's scale, not 0.1 x PyTorch's
    assert not redrawn[2].weight.requires_grad                          # still frozen: only redrawn
