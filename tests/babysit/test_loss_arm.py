"""A user's own loss graded by the task's standard loss on the run's metric (babysit/loss_arm.py)."""
import math

import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import interventions
from trainwell.babysit import loss_arm
from trainwell.babysit.budget import Budget
from trainwell.babysit.doctor import doctor


def regression(n=1600, seed=0):
    """Standardized targets (mean 0, std 1: they cross zero) of a smooth function of 6 inputs."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=g)
    y = X[:, 0] + 0.6 * torch.tanh(2 * X[:, 1]) - 0.4 * X[:, 2] * X[:, 3] + 0.1 * torch.randn(n, generator=g)
    return X, ((y - y.mean()) / y.std()).unsqueeze(1)


def classes(n=1600, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(3, 6, generator=g) * 2
    y = torch.randint(0, 3, (n,), generator=g)
    return centres[y] + torch.randn(n, 6, generator=g), y


def net(out=1):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, out))


def mape(pred, target):
    """Mean absolute percentage error as a competition scores it: each row weighted by 1 / |y|."""
    return (torch.abs(target - pred) / torch.abs(target)).mean()


def rmse(pred, target):
    return torch.sqrt(F.mse_loss(pred, target))


def permuted_ce(out, y):
    """Cross-entropy on the logits' columns in another order (the user's class order, not the labels')."""
    return F.cross_entropy(out[:, [1, 2, 0]], y)


def scaled_ce(out, y):
    return 2.0 * F.cross_entropy(out, y)


KW = dict(optimizer="adam", lr=1e-3, batch_size=32, seed=0, run_steps=600)


def check_reading(r, monkeypatch, model, X, y, loss):
    """``check_loss_arm(model, X, y, loss, **KW)`` on ``r``, the ``experiment`` the test ran just before
    on the same arguments, instead of training it again (check_loss_arm is that experiment and the
    finding built from it): the experiment is seeded (``KW["seed"]``, ``net()``'s manual seed), and a
    second run gives the same finding, message, fix and evidence (checked on mape, pinball(0.9) and
    relative_se_true_first)."""
    with monkeypatch.context() as m:
        m.setattr(loss_arm, "experiment", lambda *a, **k: r)
        return loss_arm.check_loss_arm(model, X, y, loss, **KW)


def test_mape_on_standardized_targets_loses_to_mse_on_r2(monkeypatch):
    X, y = regression()
    r = loss_arm.experiment(net(), X, y, mape, **KW)
    assert r["standard"] == "mse" and not r["classify"]
    # the kill rule's measure, 1 - R^2: the standard loss's at most 1 / KILL_RATIO of the user's, beyond the noise
    assert r["setup"] >= interventions.KILL_RATIO * r["arm"]
    assert r["setup"] - r["arm"] > interventions.NOISE_FACTOR * abs(r["setup"] - r["repeat"])
    assert r["longer_steps"] == 600 and r["setup_longer"] >= interventions.KILL_RATIO * r["arm_longer"]
    found = check_reading(r, monkeypatch, net(), X, y, mape)
    assert [f.code for f in found] == ["loss_output_mismatch"]
    f = found[0]
    assert f.severity == "warning" and f.where == "loss" and f.evidence["user_loss"] == "mape"
    assert 'loss = "mse"' in f.fix and "R^2" in f.message


def test_harmless_user_losses_are_quiet(monkeypatch):
    # RMSE (MSE's square root: the same minimum) and a scaled cross-entropy train as the standard losses do
    X, y = regression()
    r = loss_arm.experiment(net(), X, y, rmse, **KW)
    assert r is not None and not loss_arm.confirmed(r)
    assert check_reading(r, monkeypatch, net(), X, y, rmse) == []
    Xc, yc = classes()
    r = loss_arm.experiment(net(3), Xc, yc, scaled_ce, **KW)
    assert r["standard"] == "cross_entropy" and r["classify"] and not loss_arm.confirmed(r)


def test_a_class_loss_that_reads_the_logits_in_another_order_loses_to_cross_entropy_on_accuracy(monkeypatch):
    X, y = classes()
    r = loss_arm.experiment(net(3), X, y, permuted_ce, **KW)
    assert r["classify"] and (1 - r["arm"]) - (1 - r["setup"]) >= interventions.MIN_LIFT
    found = check_reading(r, monkeypatch, net(3), X, y, permuted_ce)
    assert [f.code for f in found] == ["loss_output_mismatch"] and "cross_entropy" in found[0].fix


def test_named_and_torch_losses_are_not_tried():
    X, y = regression()
    for loss in ("mse", nn.MSELoss(), F.mse_loss, nn.L1Loss()):
        assert loss_arm.experiment(net(), X, y, loss, **KW) is None
    assert loss_arm.tried(mape, y[:50], 1) is None                      # too few rows to hold out a quarter
    assert loss_arm.tried(mape, y, 1) == "mse"
    assert loss_arm.tried(permuted_ce, torch.zeros(200, dtype=torch.long), 3) == "cross_entropy"
    assert loss_arm.tried(permuted_ce, torch.zeros(200, dtype=torch.long), 1) is None   # no logit per class


def test_a_short_budget_leaves_the_arm_out():
    X, y = regression()
    budget = Budget(0.001)
    budget.count(net(), X[:32])
    assert loss_arm.experiment(net(), X, y, mape, budget=budget, **KW) is None


def test_the_doctor_names_the_users_loss():
    X, y = regression()
    d = doctor(net(), (X[:1200], y[:1200]), (X[1200:], y[1200:]), loss=mape, optimizer="adam", lr=1e-3,
               batch_size=32, epochs=10, probe=False)
    f = next(f for f in d.findings if f.code == "loss_output_mismatch")
    assert f.severity == "warning" and f.evidence["standard"] == "mse"
    assert math.isfinite(f.evidence["arm_longer"])


def bce_on_logits(out, target):
    return F.binary_cross_entropy_with_logits(out, target)


def test_a_loss_on_logits_of_binary_targets_is_not_read_as_a_regression():
    # float 0/1 targets under a user's binary cross-entropy on logits: the outputs are no predictions
    # of the targets (a larger logit for a 1 scores lower), so R^2 of them means nothing: not tried
    X, y = regression()
    flags = (y > 0).float()
    assert not loss_arm.reads_targets(bce_on_logits, flags)
    assert loss_arm.experiment(net(), X, flags, bce_on_logits, **KW) is None
    assert loss_arm.reads_targets(mape, y) and loss_arm.reads_targets(rmse, y)
    assert loss_arm.reads_targets(mape, y.squeeze(1), ())              # a model that squeezes its one column
    assert not loss_arm.reads_targets(mape, y, (2,))                    # the outputs' width does not fit


def pinball(tau):
    def loss(pred, target):
        err = target - pred
        return torch.maximum(tau * err, (tau - 1) * err).mean()
    return loss


def noisy(n=1600, seed=0):
    """``regression``'s function with noise of 0.6 of its own std: a quantile lies well off the mean."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=g)
    y = X[:, 0] + 0.6 * torch.tanh(2 * X[:, 1]) - 0.4 * X[:, 2] * X[:, 3] + 0.6 * torch.randn(n, generator=g)
    return X, ((y - y.mean()) / y.std()).unsqueeze(1)


def test_an_asymmetric_loss_aims_at_another_statistic_than_r2_needs(monkeypatch):
    # a quantile regression's pinball loss has its minimum at the targets too, but costs the two sides
    # unlike: its minimizer is the 0.9 quantile, a share of the noise above the conditional mean R^2 needs
    X, y = noisy()
    assert not loss_arm.reads_targets(pinball(0.9), y) and loss_arm.asymmetric(pinball(0.9), y)
    assert loss_arm.reads_targets(pinball(0.5), y) and not loss_arm.asymmetric(pinball(0.5), y)
    r = loss_arm.experiment(net(), X, y, pinball(0.9), **KW)
    assert r["asymmetric"] and not r["swapped"] and loss_arm.confirmed(r)
    # the trained copy sits above the targets: its mean residual (target - output) on its training rows is
    # negative by about the noise's 0.9 quantile (1.28 sd), and adding it back recovers most of the gap to mse
    assert r["offset"][0] < 0 and r["offset_sd"] > 0.8
    assert r["setup_longer"] - r["shifted_longer"] >= loss_arm.OFFSET_POINTS
    assert r["shifted_longer"] < r["setup_longer"] / interventions.KILL_RATIO
    found = check_reading(r, monkeypatch, net(), X, y, pinball(0.9))
    assert [f.code for f in found] == ["loss_output_mismatch"] and found[0].evidence["asymmetric"]
    assert "another statistic than the conditional mean" in found[0].message
    # the same pinball with the error written pred - target (tau 0.9 acting as 0.1): below the mean, found too
    flipped = lambda pred, target: pinball(0.9)(target, pred)      # noqa: E731
    r = loss_arm.experiment(net(), X, y, flipped, **KW)
    assert r["asymmetric"] and loss_arm.confirmed(r) and r["offset"][0] > 0


def test_a_mild_asymmetry_or_a_symmetric_robust_loss_on_symmetric_noise_is_quiet():
    X, y = noisy()
    # tau 0.6: the quantile is 0.25 sd of the noise above the mean, under 2 points of R^2: no kill-rule gap
    assert loss_arm.asymmetric(pinball(0.6), y) and not loss_arm.confirmed(loss_arm.experiment(net(), X, y, pinball(0.6), **KW))
    for loss in (pinball(0.5), lambda p, t: F.huber_loss(p, t), lambda p, t: F.l1_loss(p, t)):
        r = loss_arm.experiment(net(), X, y, loss, **KW)
        assert not r["asymmetric"] and not loss_arm.confirmed(r)
    # a loss blind to a constant shift (one minus a correlation) rises by rounding alone: not asymmetric
    def pearson(p, t):
        p, t = p - p.mean(), t - t.mean()
        return 1 - (p * t).sum() / (p.norm() * t.norm() + 1e-8)
    assert not loss_arm.asymmetric(pearson, y)


def prices(n=1600, seed=0):
    """Positive targets (a price in thousands: 3 to ~60) of 6 inputs, as a relative error needs them."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=g)
    y = 20 * torch.exp(0.5 * X[:, 0] - 0.3 * X[:, 1] + 0.2 * torch.tanh(X[:, 2]) + 0.05 * torch.randn(n, generator=g))
    return X, y.unsqueeze(1)


def relative_se(pred, target):
    return (((target - pred) / target) ** 2).mean()


def relative_se_true_first(y_true, y_pred):
    """The same formula written in Keras' (y_true, y_pred) order: called as loss(output, target) it
    divides by the prediction, and its minimum over the output runs off to large outputs."""
    return (((y_true - y_pred) / y_true) ** 2).mean()


def mse_true_first(y_true, y_pred):
    return ((y_true - y_pred) ** 2).mean()


def test_a_loss_written_in_the_other_argument_order_is_read_swapped(monkeypatch):
    X, y = prices()
    # as called, outputs at the targets are no minimum of equal cost both ways; swapped, they are
    assert not loss_arm.reads_targets(relative_se_true_first, y)
    assert loss_arm.reads_targets(loss_arm.swap(relative_se_true_first), y)
    assert float(loss_arm.swap(relative_se_true_first)(y + 1, y)) == float(relative_se(y + 1, y))
    r = loss_arm.experiment(net(), X, y, relative_se_true_first, **KW)
    assert r["swapped"] and r["standard"] == "mse"
    assert loss_arm.confirmed(r) and r["setup_longer"] >= interventions.KILL_RATIO * r["arm_longer"]
    found = check_reading(r, monkeypatch, net(), X, y, relative_se_true_first)
    assert [f.code for f in found] == ["loss_output_mismatch"]
    f = found[0]
    assert f.evidence["swapped"] and "relative_se_true_first(target, output)" in f.message
    assert "relative_se_true_first(output, target)" in f.fix


def test_a_loss_in_the_right_order_or_symmetric_in_its_arguments_is_not_swapped(monkeypatch):
    X, y = prices()
    # as PyTorch orders it: tried against MSE as it stands (whether weighting the rows by 1 / y^2 costs R^2
    # here is the standard arm's verdict, not the order's)
    r = loss_arm.experiment(net(), X, y, relative_se, **KW)
    assert r is not None and not r["swapped"]
    assert not any(f.evidence.get("swapped") for f in check_reading(r, monkeypatch, net(), X, y, relative_se))
    r = loss_arm.experiment(net(), X, y, mse_true_first, **KW)      # the order does not matter to it
    assert r is not None and not r["swapped"] and not loss_arm.confirmed(r)
    # a quantile's pinball loss costs the two sides unlike in either order: not read swapped, tried as asymmetric
    r = loss_arm.experiment(net(), X, y, lambda y_true, y_pred: pinball(0.9)(y_pred, y_true), **KW)
    assert r is not None and not r["swapped"] and r["asymmetric"]


def worst_row(out, y):
    """"Online hard example mining" down to one row: the per-row cross-entropy's largest value."""
    return F.cross_entropy(out, y, reduction="none").max()


def top_quarter(out, y):
    rows = F.cross_entropy(out, y, reduction="none")
    return rows.topk(max(1, rows.shape[0] // 4)).values.mean()


def focal(out, y, gamma=2.0):
    """Lin et al. 2017's focal loss: every row weighted by (1 - p)^gamma, none dropped."""
    logp = F.log_softmax(out, 1).gather(1, y[:, None])[:, 0]
    return (-(1 - logp.exp()) ** gamma * logp).mean()


def noisy_classes(n=1600, seed=0, noise=0.8):
    """3 classes from linear scores of 6 inputs with Gaussian label noise of ``noise`` on the scores."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=g)
    return X, (X @ torch.randn(3, 6, generator=g).T + noise * torch.randn(n, 3, generator=g)).argmax(1)


def test_rows_reached_counts_the_rows_a_reduction_keeps():
    X, y = classes()
    assert loss_arm.rows_reached(net(3), X, y, worst_row, 32) == (1, 32)
    assert loss_arm.rows_reached(net(3), X, y, top_quarter, 32) == (8, 32)
    for loss in (F.cross_entropy, focal):
        assert loss_arm.rows_reached(net(3), X, y, loss, 32) == (32, 32)


def test_a_worst_row_loss_on_noisy_labels_loses_to_cross_entropy_and_says_why(monkeypatch):
    # label noise: the batch's worst row is mostly a mislabelled one, and each step trains on it alone
    X, y = noisy_classes()
    r = loss_arm.experiment(net(3), X, y, worst_row, **KW)
    found = check_reading(r, monkeypatch, net(3), X, y, worst_row)
    assert [f.code for f in found] == ["loss_output_mismatch"]
    assert found[0].evidence["rows_reached"] == (1, 32) and "reaches 1 of a batch's 32 rows" in found[0].message


def test_hard_example_mining_over_a_quarter_of_the_batch_and_a_focal_loss_are_quiet():
    # each keeps a share of every batch (or weights every row): they train as cross-entropy does here,
    # and the experiment, not the count of rows reached, draws the line
    X, y = noisy_classes()
    for loss in (top_quarter, focal):
        r = loss_arm.experiment(net(3), X, y, loss, **KW)
        assert r is not None and not loss_arm.confirmed(r), loss.__name__
