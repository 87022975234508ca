"""The optimizer-defaults arm on a setup that learns: graded by held accuracy, still ahead trained on
(interventions.candidate_arms, helpful)."""
import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import interventions as iv

RUN_STEPS = 600


def blobs(n=3000, k=5, d=9, seed=0, spread=0.6):
    """Five overlapping Gaussian classes: a task no setup gets much beyond ~75% of, so a slow
    optimizer's loss stays within 3x of a good one's while its accuracy is points behind."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(k, d, generator=g) * spread
    y = torch.randint(0, k, (n,), generator=g)
    return centres[y] + torch.randn(n, d, generator=g), y


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(9, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 5))


X, Y = blobs()


def run(optimizer, lr, options):
    baseline, arms = iv.experiment(net(), X, Y, F.cross_entropy, optimizer=optimizer, lr=lr, options=options,
                                   run_steps=RUN_STEPS, repeat=True)
    return baseline, arms, iv.findings(baseline, arms, run_steps=RUN_STEPS)


def test_a_dampening_that_slows_a_learning_setup_is_named():
    # SGD's dampening 0.9 keeps a tenth of each gradient: the setup learns (its loss falls beyond STUCK),
    # slower; the defaults classify the held rows points better and are still ahead trained on
    baseline, arms, found = run("sgd", 0.01, {"momentum": 0.9, "dampening": 0.9})
    arm = next(a for a in arms if a.name == "optimizer defaults")
    assert baseline.fall >= iv.STUCK                                   # not stuck: the stuck rule does not apply
    assert arm.after * iv.HELP_RATIO > baseline.after                  # nor the loss ratio of a learning setup
    assert arm.extra["held_accuracy"] and arm.acc - baseline.acc >= iv.MIN_LIFT
    assert iv.ahead_at_end(baseline, arm)
    named = [f for f in found if f.code == "optimizer_setting"]
    assert named and named[0].evidence["options"] == {"dampening": 0.9}
    assert "dampening" in named[0].fix


def test_benign_options_away_from_their_defaults_are_quiet():
    # Adam's betas (0.9, 0.99) and eps 1e-6 are options away from the defaults the arm tries, and train alike
    for options in ({"betas": (0.9, 0.99)}, {"eps": 1e-6}):
        baseline, arms, found = run("adam", 1e-3, options)
        assert any(a.name == "optimizer defaults" for a in arms)
        assert not any(f.code == "optimizer_setting" for f in found), options
