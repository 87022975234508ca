"""A freeze of weights that are still their initial draw (fresh_weights.frozen_fresh) lets the doctor
try its unfreeze arm, which a run's own freeze of learnt weights does not."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from babysit_loop import digits
from trainwell.babysit.fresh_weights import frozen_fresh
from trainwell.nn.transfer import freeze

X, Y, XV, YV = digits()


def body_and_head(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU()), nn.Linear(64, 10))


def trained(model, steps=300):
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(X), Y).backward()
        opt.step()
    return model


@pytest.fixture(scope="module")
def learnt_weights():
    """``body_and_head()`` after 300 full-batch Adam steps on the digits: trained once for both tests,
    each of which loads it into a model of its own (freeze and the doctor act on that copy)."""
    return trained(body_and_head()).state_dict()


def learnt(weights):
    model = body_and_head()
    model.load_state_dict(weights)
    return model


def test_frozen_weights_of_a_fresh_model_read_as_their_initial_draw(learnt_weights):
    model = body_and_head()
    freeze(model, ["0"])
    assert frozen_fresh(model) == ["0.0.weight", "0.2.weight"]
    # learnt weights (a body trained first, then frozen, as transfer learning does) do not
    learnt_model = learnt(learnt_weights)
    freeze(learnt_model, ["0"])
    assert frozen_fresh(learnt_model) == []
    # nothing frozen, or only tensors too small to read: nothing to say
    assert frozen_fresh(body_and_head()) == []
    small = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    freeze(small, ["0"])
    assert frozen_fresh(small) == []


def test_the_doctor_tries_training_a_body_frozen_at_its_initial_draw_and_leaves_a_learnt_one_frozen(learnt_weights):
    fresh = trainwell.doctor(body_and_head(), (X, Y), (XV, YV), optimizer="adam", lr=1e-3, freeze=["0"],
                             epochs=2, batch_size=64, seed=0)
    assert "frozen_parameters" in {f.code for f in fresh.findings if f.severity in ("warning", "error")}
    kept = trainwell.doctor(learnt(learnt_weights), (X, Y), (XV, YV), optimizer="adam", lr=1e-3,
                            freeze=["0"], epochs=2, batch_size=64, seed=0, wall_s=None)
    assert "frozen_parameters" not in {f.code for f in kept.findings}
