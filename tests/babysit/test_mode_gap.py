"""Mode gaps (babysit/mode_gap.py): dropout on the model's output, batch norm over tiny batches."""
from __future__ import annotations

from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.babysit import interventions, mode_gap
from trainwell.babysit.actions import ACTIONS
from trainwell.babysit.findings import make
from trainwell.babysit.plans import plan_too_regularized
from trainwell.data.splits import Splits
from test_repair_settings import FAST, _ctx


def regression(n=1200, d=5, seed=0):
    """A smooth regression with standardized targets (as a user standardizes them)."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    y = X @ torch.linspace(1.0, -0.5, d) + 0.3 * torch.sin(2 * X[:, 0])
    return X, (y - y.mean()) / y.std()


def classes(n=1200, d=9, k=4, seed=0):
    """Class ids from a fixed random linear map of the inputs (a learnable 4-class problem)."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    return X, (X @ torch.randn(d, k, generator=g)).argmax(dim=1)


def dropout_mlp(*, last: bool, p=0.25, seed=0):
    """Linear, ReLU, Dropout per hidden layer; ``last``: a Dropout after the output layer too."""
    torch.manual_seed(seed)
    layers = [nn.Linear(5, 64), nn.ReLU(), nn.Dropout(p), nn.Linear(64, 64), nn.ReLU(), nn.Dropout(p),
              nn.Linear(64, 1)]
    return nn.Sequential(*layers, *([nn.Dropout(p)] if last else []), nn.Flatten(0))


def bn_mlp(seed=0):
    torch.manual_seed(seed)
    layers, d = [], 9
    for _ in range(3):
        layers += [nn.Linear(d, 64), nn.BatchNorm1d(64), nn.ReLU()]
        d = 64
    return nn.Sequential(*layers, nn.Linear(d, 4))


class HeadThenDropout(nn.Module):
    """A user module that applies its dropout module after the head, in forward."""

    def __init__(self):
        super().__init__()
        self.body, self.head, self.drop = nn.Sequential(nn.Linear(5, 32), nn.ReLU()), nn.Linear(32, 1), nn.Dropout(0.3)

    def forward(self, x):
        return self.drop(self.head(self.body(x))).squeeze(1)


def test_output_dropouts_names_the_dropout_on_the_output_through_reshapes():
    X, _ = regression(64)
    assert mode_gap.output_dropouts(dropout_mlp(last=True), X) == ["7"]
    assert mode_gap.output_dropouts(HeadThenDropout(), X) == ["drop"]


def test_output_dropouts_is_silent_on_hidden_dropout_and_dropout_before_the_output_layer():
    X, _ = regression(64)
    assert mode_gap.output_dropouts(dropout_mlp(last=False, p=0.5), X) == []
    before_head = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 1))
    assert mode_gap.output_dropouts(before_head, X) == []
    off = nn.Sequential(nn.Linear(5, 1), nn.Dropout(0.0))       # p = 0 drops nothing
    assert mode_gap.output_dropouts(off, X) == []


def test_output_dropouts_leaves_the_model_and_the_random_state_as_it_found_them():
    model = dropout_mlp(last=True).eval()
    X, _ = regression(64)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    mode_gap.output_dropouts(model, X)
    assert torch.equal(torch.rand(3), expected) and not model.training


def test_frozen_batch_norm_computes_eval_mode_in_train_mode_and_keeps_its_statistics():
    bn = nn.BatchNorm1d(6)
    with torch.no_grad():
        bn.running_mean.copy_(torch.arange(6.0))
        bn.running_var.copy_(torch.linspace(0.5, 3.0, 6))
        bn.weight.copy_(torch.linspace(-1.0, 2.0, 6))
        bn.bias.fill_(0.3)
    x = torch.randn(2, 6)
    frozen = mode_gap.FrozenBatchNorm(bn).train()
    reference = (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
    assert torch.allclose(frozen(x), reference, atol=1e-6)
    assert torch.equal(bn.running_mean, torch.arange(6.0))          # no update from the batch


def test_the_batch_norm_arm_is_offered_only_under_the_minimum_batch():
    kw = {"x": None}
    assert [a[0] for a in mode_gap.arms(bn_mlp(), batch_size=2, **kw)] == [mode_gap.FROZEN_BN_ARM]
    assert mode_gap.arms(bn_mlp(), batch_size=mode_gap.BN_MIN_BATCH, **kw) == []
    assert mode_gap.arms(bn_mlp(), batch_size=64, **kw) == []
    assert mode_gap.arms(dropout_mlp(last=False), batch_size=2, **kw) == []     # no batch norm


def _findings(model, X, y, loss, *, batch_size, optimizer="adam", lr=2e-3, **kw):
    baseline, arms = interventions.experiment(model, X, y, loss, optimizer=optimizer, lr=lr, batch_size=batch_size,
                                              repeat=True, lr_arms=False, run_steps=1000, **kw)
    return interventions.findings(baseline, arms, run_steps=1000)


def test_dropout_on_the_output_under_l1_is_found_by_its_arm_and_its_healthy_twin_is_quiet():
    X, y = regression()
    found = _findings(dropout_mlp(last=True), X, y, nn.L1Loss(), batch_size=32)
    f = next(f for f in found if f.evidence.get("intervention") == mode_gap.OUTPUT_DROPOUT_ARM)
    assert f.code == "regularization_too_strong" and f.evidence["output_dropout"] == ["7"]
    assert f.evidence["fall"] > f.evidence["setup_fall"] and "remove the dropout after the output layer" in f.fix
    # hidden dropout 0.5 with the output layer last: no output-dropout arm, nothing found
    quiet = _findings(dropout_mlp(last=False, p=0.5), X, y, nn.L1Loss(), batch_size=32)
    assert all(f.evidence.get("intervention") != mode_gap.OUTPUT_DROPOUT_ARM for f in quiet)


def test_batch_norm_over_two_rows_is_found_and_batch_32_is_not_a_candidate():
    X, y = classes()
    found = _findings(bn_mlp(), X, y, nn.CrossEntropyLoss(), batch_size=2, optimizer="sgd", lr=0.02,
                      options={"momentum": 0.9})
    f = next(f for f in found if f.code == mode_gap.BN_CODE)
    assert f.severity == "warning" and f.evidence["run_batch_size"] == 2 and len(f.evidence["batch_norms"]) == 3
    assert "batch_size >= 16" in f.fix
    quiet = _findings(bn_mlp(), X, y, nn.CrossEntropyLoss(), batch_size=32, optimizer="sgd", lr=0.02,
                      options={"momentum": 0.9})
    assert all(f.code != mode_gap.BN_CODE for f in quiet)


def test_the_plan_removes_only_the_output_dropout():
    model = dropout_mlp(last=True)
    f = make("regularization_too_strong", "the output dropout hurts",
             evidence={"intervention": mode_gap.OUTPUT_DROPOUT_ARM, "output_dropout": ["7"]})
    plan = plan_too_regularized(f, _ctx(model))
    assert plan.action.name == "remove_output_dropout" and plan.options == {"names": ["7"]}
    changed = []
    detail = ACTIONS["remove_output_dropout"].apply(
        SimpleNamespace(model=model, model_changed=lambda: changed.append(True)), plan.options, seed=0)
    assert detail == "7 -> Identity" and changed == [True]
    assert isinstance(model[7], nn.Identity) and isinstance(model[2], nn.Dropout) and model[2].p == 0.25


def test_repair_removes_the_dropout_on_the_output_before_the_first_step():
    X, y = regression(1500)
    splits = Splits((X[:1000], y[:1000]), val=(X[1000:1250], y[1000:1250]), test=(X[1250:], y[1250:]),
                    input_shape=(5,))
    run = trainwell.fit(dropout_mlp(last=True), splits, babysit="repair", loss=nn.L1Loss(), optimizer="adam",
                        lr=2e-3, batch_size=16, **{**FAST, "epochs": 30})
    first = run.repairs[0]
    assert (first["step"], first["code"], first["action"]) == (0, "regularization_too_strong", "remove_output_dropout")
    assert isinstance(run.model[7], nn.Identity) and run.model[2].p == 0.25
    # eval-mode predictions now reach the targets' scale (a model trained with the output dropout
    # predicts (1 - p) y under L1)
    pred, t = run.predict(X[1250:], output="raw").reshape(-1), y[1250:]
    slope = float((pred * t).sum() / (t * t).sum())
    assert slope > 0.85, slope


def test_a_functional_dropout_is_not_named():
    """F.dropout in forward has no module to remove: not named (a limit of the structural check)."""
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(5, 1)

        def forward(self, x):
            return F.dropout(self.lin(x), 0.3, self.training)
    X, _ = regression(32)
    assert mode_gap.output_dropouts(Functional(), X) == []


def test_the_specific_arm_names_the_cause_before_a_broader_arm_of_its_code():
    """Both the output dropout's removal and all dropout off help: the finding (and so the repair)
    is the specific arm's, though the broader arm's loss fell further."""
    Arm = interventions.Arm
    baseline = Arm("setup", "", "the setup", before=1.0, after=0.5, steps=100)
    repeat = Arm("setup (repeat)", "", "again", before=1.0, after=0.49, steps=100, extra={"repeat": True})
    broad = Arm("dropout off", "regularization_too_strong", "dropout off instead of p = 0.25", before=1.0,
                after=0.05, steps=100)
    specific = Arm(mode_gap.OUTPUT_DROPOUT_ARM, "regularization_too_strong", "no dropout on the outputs", before=1.0,
                   after=0.1, steps=100, extra={"model_change": True, "specific": True, "output_dropout": ["7"]})
    found = interventions.findings(baseline, [repeat, broad, specific])
    assert [f.code for f in found] == ["regularization_too_strong"]
    assert found[0].evidence["intervention"] == mode_gap.OUTPUT_DROPOUT_ARM
    assert found[0].evidence["output_dropout"] == ["7"]
    # without the specific arm the broader one names it, as before
    assert interventions.findings(baseline, [repeat, broad])[0].evidence["intervention"] == "dropout off"


class _NoisyState(nn.Module):
    """A linear model whose output gets ``scale`` x a fresh random draw in every mode: a random
    initial state the input nearly overwrites (small scale) or dropout-like noise (large). ``weight``:
    its map (the classes' own map: every row right without the noise)."""

    def __init__(self, scale, weight=None):
        super().__init__()
        self.lin, self.scale = nn.Linear(weight.shape[0] if weight is not None else 9, 4), scale
        if weight is not None:
            with torch.no_grad():
                self.lin.weight.copy_(weight.T)
                self.lin.bias.zero_()

    def forward(self, x):
        return self.lin(x) + self.scale * torch.randn(x.shape[0], self.lin.out_features)


def _eval_random(scale):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(512, 9, generator=g)
    w = torch.randn(9, 4, generator=g)
    y = (X @ w).argmax(dim=1)
    losses = mode_gap.mode_losses(_NoisyState(scale, w), X, y, F.cross_entropy)
    return losses, mode_gap.findings(SimpleNamespace(extra={"mode_losses": losses}, steps=100),
                                       min_lift=interventions.MIN_LIFT)


def test_randomness_in_eval_mode_that_costs_the_predictions_nothing_is_info():
    losses, found = _eval_random(1e-3)
    assert mode_gap.mode_fault(losses) == "eval_random"
    # every row right in every draw: the average classifies no better
    assert losses["acc_draws"] == losses["acc_average"] == 1.0
    assert mode_gap.random_hurts(losses, min_lift=interventions.MIN_LIFT) is False
    assert [(f.code, f.severity) for f in found] == [("eval_mode_gap", "info")]
    assert "not reproducible" in found[0].message and "costs them nothing measurable" in found[0].message


def test_randomness_in_eval_mode_that_costs_accuracy_stays_a_warning():
    losses, found = _eval_random(3.0)
    # noise of the logits' own size: a single draw misclassifies rows the average of 8 gets right
    assert losses["acc_average"] - losses["acc_draws"] >= interventions.MIN_LIFT
    assert mode_gap.random_hurts(losses, min_lift=interventions.MIN_LIFT) is True
    assert [(f.code, f.severity) for f in found] == [("eval_mode_gap", "warning")]


class _NoisyRegression(nn.Module):
    """A fixed linear regression whose prediction gets ``scale`` x a fresh N(0, 1) draw."""

    def __init__(self, w, scale):
        super().__init__()
        self.w, self.scale = nn.Parameter(w.clone()), scale

    def forward(self, x):
        return x @ self.w + self.scale * torch.randn(x.shape[0])


def test_randomness_cost_without_class_ids_is_the_jensen_gap_of_the_squared_error():
    # E[(f + s e - y)^2] - (f + s mean(e) - y)^2 over K draws: the squared error's Jensen gap is the
    # draws' variance, s^2 (1 - 1/K) in expectation: the cost random_cost reads
    g = torch.Generator().manual_seed(1)
    X, w = torch.randn(4000, 5, generator=g), torch.randn(5, generator=g)
    y = X @ w + 0.5 * torch.randn(4000, generator=g)
    for scale, hurts in ((0.02, False), (0.5, True)):
        losses = mode_gap.mode_losses(_NoisyRegression(w, scale), X, y, F.mse_loss)
        gap = losses["eval_draws"] - losses["eval_average"]
        expected = scale ** 2 * (1 - 1 / mode_gap.EVAL_DRAWS)
        assert abs(gap - expected) < 0.15 * expected + 1e-6
        assert "acc_draws" not in losses
        assert mode_gap.random_cost(losses) == gap / (abs(losses["eval_average"]) + mode_gap.LOSS_FLOOR)
        assert mode_gap.random_hurts(losses, min_lift=interventions.MIN_LIFT) is hurts
