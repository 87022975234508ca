"""Sizing an lr raise by a paired trial (babysit/sizing.py)."""
import torch
from torch import nn

import trainwell
from trainwell.babysit.sizing import MAX_TRIAL_STEPS, MIN_TRIAL_STEPS, larger_raise_helps, trial_steps
from trainwell.data.sources import digits


def _problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(1024, 8, generator=g)
    y = X @ torch.randn(8, generator=g) + 0.1 * torch.randn(1024, generator=g)
    torch.manual_seed(seed)
    return nn.Linear(8, 1), X, y


def _mse(out, y):
    return nn.functional.mse_loss(out.squeeze(-1), y)


def test_trial_steps_are_a_share_of_the_run_within_bounds():
    assert trial_steps(0) == MIN_TRIAL_STEPS
    assert trial_steps(1500) == 75                     # 5% of the run
    assert trial_steps(10 ** 6) == MAX_TRIAL_STEPS


def test_a_larger_raise_is_taken_only_when_it_trains_better_and_the_model_is_untouched():
    model, X, y = _problem()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    common = {"weight_decay": 0.0, "batch_size": 32, "run_steps": 400, "seed": 0}
    slow = larger_raise_helps(model, "sgd", X, y, _mse, lr=1e-4, **common)   # 10x more still converges
    assert slow["helps"] and slow["larger_loss"] < slow["loss"] and slow["steps"] == MIN_TRIAL_STEPS
    # plain SGD on this quadratic diverges above lr 2/lambda_max (~1 for standard normal inputs)
    edge = larger_raise_helps(model, "sgd", X, y, _mse, lr=0.5, **common)
    assert not edge["helps"]
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_a_repaired_raise_records_its_trial():
    """An lr 1e-5 of SGD on digits barely moves: the raise names its trial in the record."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    run = trainwell.fit(model, digits(), babysit="repair", lr=1e-5, epochs=6, progress=False, report=False,
                        device="cpu")
    raises = [r for r in run.repairs if r["action"] == "raise_lr"]
    assert raises and "-step trial (" in raises[0]["reason"]
    assert raises[0]["after"]["lr_scale"] > raises[0]["before"]["lr_scale"]
