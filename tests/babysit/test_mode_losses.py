"""The measured, structure-free mode gap (mode_gap.mode_losses / mode_fault): the same rows' loss in
train mode and in eval mode, whatever module makes the difference."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import mode_gap


def data(n=1024, d=6, seed=0, shift=0.0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    y = X @ torch.linspace(1.0, -0.5, d) + 0.3 * torch.sin(2 * X[:, 0])
    return X * scale + shift, ((y - y.mean()) / y.std()).unsqueeze(1)


def fit(net, X, y, steps=300, batch=64, lr=3e-3):
    """Adam on the MSE, on random batches; returns ``net`` (left in train mode)."""
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    g = torch.Generator().manual_seed(1)
    net.train()
    for _ in range(steps):
        idx = torch.randint(0, X.shape[0], (batch,), generator=g)
        opt.zero_grad()
        F.mse_loss(net(X[idx]), y[idx]).backward()
        opt.step()
    return net


def fault(net, X, y):
    return mode_gap.mode_fault(mode_gap.mode_losses(net, X[:256], y[:256], F.mse_loss))


def mlp(mid=lambda: nn.Identity(), d=6, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 64), mid(), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))


class AlwaysDropout(nn.Module):
    """``F.dropout(x, p, training=True)``: on in eval mode too."""

    def forward(self, x):
        return F.dropout(x, 0.3, training=True)


class GaussianNoise(nn.Module):
    """A hand-written noise layer that forgets to check ``self.training``."""

    def forward(self, x):
        return x + 0.5 * torch.randn_like(x)


class DoubleScaledDropout(nn.Module):
    """Inverted dropout (x / (1 - p) in train mode) whose eval path also scales by (1 - p): eval mode
    returns (1 - p) x the expected value trained on."""

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, x):
        if self.training:
            return F.dropout(x, self.p, training=True)
        return x * (1 - self.p)


def test_healthy_dropout_and_batch_norm_have_no_mode_fault():
    X, y = data()
    assert fault(fit(mlp(lambda: nn.Dropout(0.3)), X, y), X, y) is None
    assert fault(fit(mlp(lambda: nn.BatchNorm1d(64)), X, y), X, y) is None
    shifted, ys = data(shift=5.0, scale=3.0)        # batch norm with default momentum tracks any input scale
    assert fault(fit(mlp(lambda: nn.BatchNorm1d(64)), shifted, ys), shifted, ys) is None


def test_healthy_dropout_train_mode_is_the_worse_one():
    X, y = data()
    losses = mode_gap.mode_losses(fit(mlp(lambda: nn.Dropout(0.3)), X, y), X[:256], y[:256], F.mse_loss)
    assert losses["train"] > losses["eval"] and losses["eval_spread"] < mode_gap.EVAL_RANDOM_TOL


def test_randomness_left_on_in_eval_mode_is_found_without_naming_a_module():
    X, y = data()
    assert fault(fit(mlp(AlwaysDropout), X, y), X, y) == "eval_random"
    assert fault(fit(mlp(GaussianNoise), X, y), X, y) == "eval_random"


def test_an_eval_path_that_computes_another_function_is_eval_worse():
    X, y = data()
    net = fit(mlp(DoubleScaledDropout), X, y)
    losses = mode_gap.mode_losses(net, X[:256], y[:256], F.mse_loss)
    assert losses["eval"] - losses["train"] > mode_gap.EVAL_GAP * (abs(losses["train"]) + mode_gap.LOSS_FLOOR)
    assert mode_gap.mode_fault(losses) == "eval_worse"


def test_batch_norm_with_momentum_zero_keeps_its_initial_statistics_and_is_eval_worse():
    """momentum=0: the running statistics stay at (0, 1) while the layer's inputs have another mean
    and scale; train mode normalizes by the batch's, eval mode by (0, 1)."""
    X, y = data(shift=5.0, scale=3.0)
    net = fit(mlp(lambda: nn.BatchNorm1d(64, momentum=0.0)), X, y)
    assert fault(net, X, y) == "eval_worse"


def test_mode_losses_leaves_the_model_and_the_random_state_as_they_were():
    X, y = data()
    net = fit(mlp(lambda: nn.BatchNorm1d(64)), X, y)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    mode_gap.mode_losses(net, X[:256], y[:256], F.mse_loss)
    assert torch.equal(torch.rand(3), expected)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items()) and net.training


# ------------------------------------------------------------------------------ in the doctor
def classification(n=1200, d=6, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    return X, (X @ torch.randn(d, k, generator=g)).argmax(dim=1)


def classifier(mid, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 64), nn.ReLU(), mid(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))


DOCTOR = {"lr": 3e-3, "optimizer": "adam", "epochs": 4, "batch_size": 32, "probe": False, "budget_s": 30.0,
          "wall_s": None}


def doctor_codes(net, X, y):
    import trainwell
    return {f.code: f for f in trainwell.doctor(net, (X, y), **DOCTOR).findings}


def test_the_doctor_names_a_functional_dropout_left_on_in_eval_mode():
    X, y = classification()
    found = doctor_codes(classifier(AlwaysDropout), X, y)
    assert "eval_mode_gap" in found and found["eval_mode_gap"].evidence["kind"] == "eval_random"
    assert found["eval_mode_gap"].severity == "warning" and "training=self.training" in found["eval_mode_gap"].fix


def test_the_doctor_names_batch_norm_whose_running_statistics_never_move():
    """Batch norm with momentum 0 after a layer whose outputs are far from (0, 1): eval mode
    normalizes by the initial statistics, train mode by the batch's."""
    X, y = classification()
    found = doctor_codes(classifier(lambda: nn.BatchNorm1d(64, momentum=0.0)), 3 * X + 5, y)
    assert "eval_mode_gap" in found and found["eval_mode_gap"].evidence["kind"] == "eval_worse"
    losses = found["eval_mode_gap"].evidence
    assert losses["eval"] - losses["train"] > mode_gap.EVAL_GAP * (abs(losses["train"]) + mode_gap.LOSS_FLOOR)
    assert "eval_mode_gap" not in doctor_codes(classifier(lambda: nn.BatchNorm1d(64)), 3 * X + 5, y)


def test_the_doctor_is_quiet_on_healthy_dropout_and_batch_norm():
    X, y = classification()
    assert "eval_mode_gap" not in doctor_codes(classifier(lambda: nn.Dropout(0.5)), X, y)
    assert "eval_mode_gap" not in doctor_codes(classifier(lambda: nn.BatchNorm1d(64)), X, y)


def test_eval_mode_gap_ranks_before_the_overfitting_it_looks_like_and_after_tiny_batch_norm():
    """A broken eval path shows as a validation loss far above the training loss (overfitting's
    symptom): the cause first. Batch norm over tiny batches makes eval mode worse through its noisy
    running statistics: that cause first."""
    from trainwell.babysit.findings import Diagnosis, make
    gap, over = make("eval_mode_gap", "eval worse"), make("overfitting", "val far above train")
    assert Diagnosis([over, gap]).ranked()[0] is gap
    small = make("batch_norm_small_batch", "batch of 2")
    assert Diagnosis([gap, small]).ranked()[0] is small


def test_running_statistics_that_lag_the_weights_settle_and_ones_that_never_move_do_not():
    """Stale running statistics (those of older weights: here the initial (0, 1) while the layer's
    inputs sit near mean 5) are a transient when the layer follows its batches (momentum 0.1): the
    settling passes remove it. With momentum 0 they never move: eval_worse."""
    X, y = data(shift=5.0, scale=3.0)
    net = fit(mlp(lambda: nn.BatchNorm1d(64)), X, y)
    stale = mlp(lambda: nn.BatchNorm1d(64))
    stale.load_state_dict({k: v for k, v in net.state_dict().items() if "running" not in k}, strict=False)
    assert float(stale[1].running_mean.abs().max()) == 0.0          # the initial statistics
    assert fault(stale, X, y) is None
    stale[1].momentum = 0.0
    assert fault(stale, X, y) == "eval_worse"


def test_equal_losses_are_no_gap_even_when_the_loss_is_negative():
    """A Poisson NLL on rates (log_input=False) is negative once fitted: a model with no train/eval
    difference has equal losses in both modes, never a gap."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(512, 6, generator=g)
    counts = torch.poisson(torch.exp(X[:, 0] + 2.0), generator=g)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 1), nn.Softplus(), nn.Flatten(0))
    loss = nn.PoissonNLLLoss(log_input=False)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(200):
        opt.zero_grad()
        loss(net(X), counts).backward()
        opt.step()
    losses = mode_gap.mode_losses(net, X, counts, loss)
    assert losses["train"] == losses["eval"] < 0 and mode_gap.mode_fault(losses) is None
    assert mode_gap.mode_fault({"train": -10.0, "eval": -2.0, "eval_spread": 0.0}) == "eval_worse"
