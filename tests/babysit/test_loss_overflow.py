"""loss_checks.check_initial_loss: a loss that is non-finite on finite untrained outputs and finite
targets overflows in its own arithmetic (nonfinite_loss), not an over-confident init (bad_initial_loss)."""
import math

import torch
import torch.nn.functional as F

from trainwell.babysit import loss_checks


def naive_log_cosh(pred, target):
    return torch.log(torch.cosh(pred - target)).mean()


def stable_log_cosh(pred, target):
    e = (pred - target).abs()
    return (e + F.softplus(-2 * e) - math.log(2)).mean()


def minutes(n=256):
    g = torch.Generator().manual_seed(0)
    return 0.1 * torch.randn(n, 1, generator=g), 20 + 290 * torch.rand(n, 1, generator=g)   # untrained outputs, targets


def test_a_loss_that_overflows_on_finite_outputs_and_targets_is_nonfinite_loss():
    out, t = minutes()
    found = loss_checks.check_initial_loss(out, t, "other", naive_log_cosh)
    assert [f.code for f in found] == ["nonfinite_loss"] and found[0].severity == "error"
    assert found[0].evidence["overflows"] and math.isinf(found[0].evidence["initial_loss"])
    assert "softplus" in found[0].fix
    assert loss_checks.check_initial_loss(out, t, "other", stable_log_cosh) == []    # the stable form: finite


def test_non_finite_outputs_or_outputs_too_large_for_the_loss_stay_a_bad_initial_loss():
    out, t = minutes()
    out[3] = math.inf
    found = loss_checks.check_initial_loss(out, t, "other", naive_log_cosh)
    assert [f.code for f in found] == ["bad_initial_loss"] and found[0].severity == "error"
    huge = torch.full_like(t, 1e20)             # finite, but squared past float32: zeros score finite
    found = loss_checks.check_initial_loss(huge, t, "mse", F.mse_loss)
    assert [f.code for f in found] == ["bad_initial_loss"] and found[0].severity == "error"


def test_a_loss_non_finite_before_training_outranks_the_subset_it_cannot_overfit():
    from trainwell.babysit.findings import Diagnosis, make
    out, t = minutes()
    overflow = loss_checks.check_initial_loss(out, t, "other", naive_log_cosh)[0]
    subset = make("cannot_overfit_small_subset", "the loss on 32 rows did not fall", severity="error")
    assert Diagnosis([subset, overflow]).ranked()[0].code == "nonfinite_loss"


def test_a_loss_that_overflows_is_not_repaired_by_a_lower_lr():
    from trainwell.babysit.plans import plan_diverged
    out, t = minutes()
    overflow = loss_checks.check_initial_loss(out, t, "other", naive_log_cosh)[0]
    assert "not the cause" in plan_diverged(overflow, None)       # a reason, not a plan: the user's loss
