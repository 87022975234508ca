"""A divergence's lr cut taken as a larger batch (sizing.noise_scale, sizing.batch_for_cut)."""
import math

import pytest
import torch
from torch import nn

from trainwell.babysit.findings import make
from trainwell.babysit.monitor import Monitor
from trainwell.babysit.repair import Repairer
from trainwell.babysit.sizing import MIN_TRIAL_STEPS, batch_for_cut, noise_scale
from trainwell.train.fit import make_trainer, prepare

from babysit_loop import QUIET_FIT, digits


def _mse(out, y):
    return nn.functional.mse_loss(out.squeeze(-1), y)


def _regression(noise: float = 1.0, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(2048, 8, generator=g)
    y = X @ torch.randn(8, generator=g) + noise * torch.randn(2048, generator=g)
    torch.manual_seed(seed)
    return nn.Linear(8, 1), X, y


def _per_example_noise_scale(model, X, y) -> float:
    """B_simple = tr(Sigma) / |G|^2 from every row's own gradient of the squared error (the
    reference: 2 r x for the weights, 2 r for the bias)."""
    with torch.no_grad():
        r = model(X).squeeze(-1) - y
        g = torch.cat([2 * r[:, None] * X, 2 * r[:, None]], 1)
        mean = g.mean(0)
        return float(((g - mean) ** 2).sum(1).mean() / (mean ** 2).sum())


@pytest.mark.parametrize("noise", [0.1, 1.0, 3.0])
def test_the_noise_scale_matches_the_per_example_gradients(noise):
    model, X, y = _regression(noise)
    exact = _per_example_noise_scale(model, X, y)
    for seed in range(3):       # 16 batches of 32 of the 2048 rows: within the estimate's spread
        estimate = noise_scale(model, X, y, _mse, batch_size=1, seed=seed)
        assert exact / 1.5 < estimate < 1.5 * exact


def test_identical_rows_have_no_noise_and_a_fitted_model_only_noise():
    model, X, y = _regression()
    assert noise_scale(model, X[:1].repeat(1024, 1), y[:1].repeat(1024), _mse, batch_size=4, seed=0) == 0.0
    solution = torch.linalg.lstsq(torch.cat([X, torch.ones(len(X), 1)], 1), y[:, None]).solution.squeeze(-1)
    with torch.no_grad():
        model.weight.copy_(solution[:8][None])
        model.bias.copy_(solution[8:])
    assert noise_scale(model, X, y, _mse, batch_size=4, seed=0) > 100     # the mean gradient ~0


def test_a_cut_at_batch_one_is_taken_as_a_batch_below_the_noise_scale_and_the_model_is_untouched():
    """SGD at batch 1 on least squares with 8 standard normal inputs: each step follows one row, whose
    curvature 2|x|^2 ~ 16 is 8x the batch's; a batch of 10 at the lr trains better than the lr cut
    10x in the same steps."""
    model, X, y = _regression()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out = batch_for_cut(model, "sgd", X, y, _mse, lr=0.1, factor=10.0, weight_decay=0.0, batch_size=1,
                        run_steps=400, seed=0)
    assert out["helps"] and out["batch_size"] == 10 and out["factor"] == 1.0
    assert out["batch_loss"] < out["cut_loss"] and out["steps"] == MIN_TRIAL_STEPS
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_the_batch_grows_at_most_to_the_noise_scale_and_the_rest_is_an_lr_cut():
    model, X, y = _regression()
    out = batch_for_cut(model, "sgd", X, y, _mse, lr=0.1, factor=1000.0, weight_decay=0.0, batch_size=1,
                        run_steps=400, seed=0)
    assert 1 < out["batch_size"] <= out["noise_scale"] < 1000
    assert out["batch_size"] * out["factor"] == pytest.approx(1000.0)     # the cut's noise scale, lr / batch


def test_a_divergence_of_the_lr_itself_keeps_the_cut():
    """At the least-squares solution the mean gradient is ~0 (the noise scale is huge), but lr 3 is
    past 2 / the curvature of any batch: the larger batch at that lr diverges, the cut does not."""
    model, X, y = _regression()
    solution = torch.linalg.lstsq(torch.cat([X, torch.ones(len(X), 1)], 1), y[:, None]).solution.squeeze(-1)
    with torch.no_grad():
        model.weight.copy_(solution[:8][None])
        model.bias.copy_(solution[8:])
    out = batch_for_cut(model, "sgd", X, y, _mse, lr=3.0, factor=10.0, weight_decay=0.0, batch_size=32,
                        run_steps=400, seed=0)
    assert out["batch_size"] == 320 and out["batch_loss"] == math.inf and not out["helps"]
    assert out["cut_loss"] is None          # the batch's copy does not train: the cut's is not trained


def test_no_larger_batch_below_the_noise_scale_trains_nothing():
    model, X, y = _regression()
    out = batch_for_cut(model, "sgd", X, y, _mse, lr=0.1, factor=10.0, weight_decay=0.0, batch_size=64,
                        run_steps=400, seed=0)          # the noise scale at the start is ~11 rows
    assert out["batch_size"] is None and out["steps"] == 0 and not out["helps"]


class _SpikeAt:
    """Reports ``loss_exploding`` through the monitor once, at ``step`` (placed between the monitor and
    the repairer, as test_replayed_repairs' Spike)."""

    def __init__(self, monitor, step: int):
        self.monitor, self.step, self.done = monitor, step, False

    def on_after_step(self, state):
        if state.step == self.step and not self.done:
            self.done = True
            self.monitor._add(state, make("loss_exploding", "the loss exploded", fix="lower the lr",
                                          evidence={"loss": 50.0, "initial_loss": 2.3, "lr": state.lr}))


def _repaired(step: int, *, batch_size: int, epochs: int = 2):
    monitor = Monitor()
    repairer = Repairer(monitor)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    X, y, Xv, yv = digits()
    p = prepare(model, (X[:512], y[:512]), (Xv, yv), None,
                {**QUIET_FIT, "epochs": epochs, "batch_size": batch_size, "lr": 0.01})
    state = make_trainer(p, extra_callbacks=[monitor, _SpikeAt(monitor, step), repairer]).fit()
    return repairer, state


def test_a_divergence_cut_from_the_start_is_taken_as_a_batch_with_the_rest_of_the_cut():
    """A divergence in the first epoch rolls back to the start: the cut 10x is made as batches of up
    to 10x the rows (below the noise scale) and the rest of it as the lr, the run's epochs kept."""
    repairer, state = _repaired(5, batch_size=2)
    first = repairer.repairs[0]
    assert first["action"] == "set_batch_size" and first["rolled_back_to"]["step"] == 0, repairer.repairs
    batch = state.controls.batch_size
    assert 2 < batch <= 20 and "noise scale" in first["reason"]
    assert state.controls.lr_scale == pytest.approx(batch / 20)          # lr / (batch / 2) = the cut 10x
    assert state.steps_per_epoch == math.ceil(512 / batch) and len(state.history) == 2


def test_a_divergence_cut_after_an_epoch_stays_an_lr_cut():
    repairer, state = _repaired(256 + 5, batch_size=2)         # epoch 2: back to the end of epoch 1
    assert repairer.repairs[0]["action"] == "lower_lr" and state.controls.batch_size == 2
