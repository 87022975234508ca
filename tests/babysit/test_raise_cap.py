"""A raise read from a symptom (``plans.trial_raise``) never takes the updates where update_ratio_high
calls them too large (``RATIO_HIGH``): such updates are not slow."""
from types import SimpleNamespace

import torch
from torch import nn

from trainwell.babysit.findings import make
from trainwell.babysit.plans import MIN_RAISE, plan_underfitting
from trainwell.babysit.ratios import RATIO_HIGH
from trainwell.babysit.repair import RepairContext


def _ctx(ratio, multiplier):
    torch.manual_seed(0)
    controls = SimpleNamespace(clip_norm=None, optimizer_overrides={}, preprocess=[], optimizer=None,
                               config=SimpleNamespace(weight_decay=0.0, l2=0.0),
                               model=nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4)))
    samples = [{"loss": 1.3, "update_ratio": {"0.weight": ratio, "2.weight": ratio}}] * 16
    return RepairContext(controls=controls, samples=samples, lr=2e-3 * multiplier, multiplier=multiplier)


def test_an_underfitting_run_whose_updates_are_already_large_is_not_raised():
    """Updates of 0.011 of the weights at 0.65 of a cosine's lr are 0.017 at its full lr: the least
    raise (MIN_RAISE, 3x) moves them 0.051, past RATIO_HIGH (3e-2): reported, not raised. So are
    0.0046 at 0.024 of the lr (0.19 at the full lr, a cosine's tail). Updates of 0.0052 at 0.79
    (0.0066 full, 0.02 raised) are raised, trial first (``confirm``)."""
    underfits = make("underfitting", "the model underfits")
    for ratio, multiplier in ((0.011, 0.65), (0.0046, 0.024)):
        assert (ratio / multiplier) * MIN_RAISE >= RATIO_HIGH
        assert isinstance(plan_underfitting(underfits, _ctx(ratio, multiplier)), str)
    plan = plan_underfitting(underfits, _ctx(0.0052, 0.79))
    assert plan.action.name == "raise_lr" and plan.options["confirm"]
    assert (0.0052 / 0.79) * plan.options["factor"] < RATIO_HIGH
