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


def test_the_sam_radius_is_read_against_its_own_records_default():
    """rho is a setting of the SAM family only, compared with the default of the optimizer named
    (SAM 0.05, ASAM 0.5); without a name, or for an optimizer with no radius, it is not one."""
    assert iv.radius_default("sam") == 0.05 and iv.radius_default("asam") == 0.5
    assert iv.radius_default("adam") is None and iv.radius_default(None) is None
    assert iv.changed_options({"base": "adam", "rho": 2.0}, "sam") == {"rho": 2.0}
    assert iv.changed_options({"base": "adam", "rho": 0.05}, "sam") == {}
    assert iv.changed_options({"base": "sgd", "rho": 0.5}, "asam") == {}
    assert iv.changed_options({"rho": 2.0}) == {}


def test_a_sam_radius_far_beyond_the_weights_scale_is_named_and_its_default_is_quiet():
    # rho 2.0 with plain SAM: every gradient is taken 2.0 away in weight space, where this net's
    # first layer has a norm of ~4.6 (9 x 64 weights of U(-1/3, 1/3)): the defaults (rho 0.05) classify the held rows points better
    options = {"base": "adam", "rho": 2.0}
    baseline, arms, found = run("sam", 1e-3, options)
    assert any(a.name == "optimizer defaults" for a in arms)
    named = [f for f in found if f.code == "optimizer_setting"]
    assert named and named[0].evidence["options"] == {"rho": 2.0}
    _, arms, found = run("sam", 1e-3, {"base": "adam", "rho": 0.05})
    assert not any(a.name == "optimizer defaults" for a in arms)
    assert not any(f.code == "optimizer_setting" for f in found)


def test_maximize_is_an_option_the_defaults_arm_resets():
    """torch's optimizers take ``maximize=True`` (gradient ascent, for an objective to maximize): in a
    run that minimizes its loss every step climbs it, and the defaults arm (maximize left to torch's
    False) names it; the same optimizer without it is quiet."""
    assert iv.changed_options({"maximize": True}) == {"maximize": True}
    assert iv.changed_options({"maximize": False}) == {}
    baseline, arms, found = run(torch.optim.Adam, 1e-3, {"maximize": True})
    arm = next(a for a in arms if a.name == "optimizer defaults")
    assert baseline.after > baseline.before and arm.after < arm.before      # the setup climbs, the defaults fall
    named = [f for f in found if f.code == "optimizer_setting"]
    assert named and named[0].severity == "warning" and named[0].evidence["options"] == {"maximize": True}
    assert not any(f.code == "optimizer_setting" for f in run(torch.optim.Adam, 1e-3, {})[2])
