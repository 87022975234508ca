"""Large activations measured during training: a symptom graded by the harm it does
(``monitor.grade_unit_symptom``), not a fault by itself. A net that fits grows its weights and
with them its activations; an init or an lr that blows them up and stalls the loss is still caught."""
import pytest
import torch
from torch import nn

import trainwell
from babysit_loop import digits, train
from trainwell.babysit.monitor import GROWN, Monitor

X, Y, XV, YV = digits()
SMALL_INPUTS = 0.05        # inputs with std ~0.05 (raw sensor units): a healthy ReLU layer passes 10x their std
RUN = {"optimizer": "adam", "lr": 3e-3, "batch_size": 32, "epochs": 10, "seed": 0, "device": "cpu",
       "progress": False, "report": False}


def relu_mlp(scale: float = 1.0):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
    with torch.no_grad():
        for layer in (net[0], net[2]):
            layer.weight.mul_(scale)
    return net


@pytest.fixture(scope="module")
def small():
    return (SMALL_INPUTS * X[:1000], Y[:1000]), (SMALL_INPUTS * XV, YV)


def test_a_fitting_net_whose_activations_grow_large_is_not_repaired(small):
    (train_xy, val_xy) = small
    off = trainwell.fit(relu_mlp(), train_xy, val=val_xy, test=val_xy, babysit="off", **RUN)
    run = trainwell.fit(relu_mlp(), train_xy, val=val_xy, test=val_xy, babysit="repair", **RUN)
    assert run.repairs == []
    assert run.results["test"]["acc"] == off.results["test"]["acc"] > 0.9          # no harm: the same run
    big = [f for f in run.findings if f.code == "exploding_activations"]
    assert big and all(f.severity == "info" for f in big)
    harm = big[0].evidence["harm"]
    assert not harm["hurts"] and harm["loss"] < 0.5 * harm["initial_loss"]
    # the layer grew more than tenfold while the net fit: a growth test at SHRUNK's mirror (2x)
    # would read every such run as harm
    assert 10 < harm["now"] / harm["since"] < GROWN


def test_an_init_that_blows_activations_up_and_stalls_the_loss_keeps_the_warning():
    m = Monitor(every=5)
    train(relu_mlp(scale=30.0), X, Y, val=(XV, YV), epochs=2, lr=1e-7, callbacks=[m])
    big = [f for f in m.findings if f.code == "exploding_activations" and f.severity != "info"]
    assert [f.severity for f in big] == ["warning"]      # the init's own record is the pre-flight's (info)
    assert big[0].evidence["harm"]["stalled"] and "the loss is not falling" in big[0].message


def test_an_init_that_blows_activations_up_is_still_repaired(small):
    """The init's explosion is the pre-flight's to find and repair (before the first step)."""
    (train_xy, val_xy) = small
    run = trainwell.fit(relu_mlp(scale=30.0), train_xy, val=val_xy, test=val_xy, babysit="repair",
                        **{**RUN, "epochs": 2})
    assert ("exploding_activations", "reinit") in {(r["code"], r["action"]) for r in run.repairs}
