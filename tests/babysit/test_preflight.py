"""Each pre-flight code: a broken setup that triggers it and its healthy twin that does not."""
import copy
import math
import time

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from babysit_loop import digits, mlp
from trainwell.babysit import preflight as pf
from trainwell.babysit import (data_checks, init_checks, learnable, loss_checks, loss_kinds, overfit, probe_steps,
                               regularization_check, rules)
from trainwell.babysit.budget import Budget
from trainwell.babysit.probes import ActivationRecorder
from trainwell.errors import ConfigError, DataError

X, Y, _, _ = digits()
XS, YS = X[:300], Y[:300]


def codes(findings):
    return {f.code for f in findings}


def deep(act, init_std=None, depth=8, width=64, bias=0.0, seed=0):
    torch.manual_seed(seed)
    layers, d = [], 64
    for _ in range(depth):
        lin = nn.Linear(d, width)
        if init_std is not None:
            nn.init.normal_(lin.weight, 0.0, init_std)
        elif act is nn.Tanh:
            nn.init.xavier_normal_(lin.weight)
        else:
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        nn.init.constant_(lin.bias, bias)
        layers += [lin, act()]
        d = width
    layers.append(nn.Linear(d, 10))
    return nn.Sequential(*layers)


def activations(model, x=XS):
    rec = ActivationRecorder(model)
    with torch.no_grad(), rec:
        out = model(x)
    return init_checks.check_activations(rec.stats(exclude=out), float(x.std()))


# ---------------------------------------------------------------- full pre-flight
def test_healthy_setup_has_no_findings_and_fits_the_budget():
    model = mlp()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    started = time.perf_counter()
    found = pf.preflight(model, X, Y, lr=0.1, regularization={"weight_decay": 1e-4})
    seconds = time.perf_counter() - started
    assert found == [], [str(f) for f in found]
    assert seconds < 60
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_zero_init_is_symmetric_and_cannot_overfit():
    model = mlp()
    for p in model.parameters():
        nn.init.zeros_(p)
    found = pf.preflight(model, X, Y, lr=0.1)
    sym = [f for f in found if f.code == "symmetric_init"]
    assert sym and sym[0].severity == "error" and sym[0].where == "0"
    assert "cannot_overfit_small_subset" in codes(found)


def test_tiny_bottleneck_cannot_overfit_but_wide_model_can():
    narrow = mlp((64, 1, 10))
    found = overfit.check_overfit(narrow, X[:20], Y[:20], F.cross_entropy, "cross_entropy", "adam", 1e-3)
    assert codes(found) == {"cannot_overfit_small_subset"}
    assert overfit.check_overfit(mlp(), X[:20], Y[:20], F.cross_entropy, "cross_entropy", "adam", 1e-3) == []
    # cut by the budget before it could decide: no verdict (the pre-flight reports it as skipped)
    spent = Budget(1e-9)
    spent.count(narrow, X[:20])
    assert overfit.check_overfit(narrow, X[:20], Y[:20], F.cross_entropy, "cross_entropy", "adam", 1e-3,
                            budget=spent) is None


def test_overfit_blames_the_learning_rate_when_adam_succeeds():
    low = overfit.check_overfit(mlp(), X[:20], Y[:20], F.cross_entropy, "cross_entropy", "sgd", 1e-6)
    high = overfit.check_overfit(mlp(), X[:20], Y[:20], F.cross_entropy, "cross_entropy", "sgd", 50.0)
    assert codes(low) == {"lr_too_low"} and "raise lr from 1e-06" in low[0].fix
    assert codes(high) == {"lr_too_high"}
    assert "nan" in high[0].message and "peak" not in high[0].message      # it became non-finite
    for lr in (2.0, 3.0, 5.0, 10.0):        # a finite divergence shows its peak: the line it crossed
        finite = overfit.check_overfit(mlp(), X[:20], Y[:20], F.cross_entropy, "cross_entropy", "sgd", lr)
        trace = finite[0].evidence["user_run"]["trace"] if codes(finite) == {"lr_too_high"} else [float("nan")]
        if all(map(math.isfinite, trace)):
            assert f"peak {max(trace):.4g} against" in finite[0].message
            assert max(trace) > rules.DIVERGENCE_FACTOR * trace[0]
            break
    else:
        raise AssertionError("no lr in (2, 3, 5, 10) diverged finitely")


def test_model_that_fails_on_the_data_is_a_finding_and_bad_arguments_raise():
    failed = pf.preflight(mlp((32, 10)), X, Y)       # the user's model: a finding (model_checks.py), no raise
    assert [f.code for f in failed] == ["model_raises"] and "RuntimeError" in failed[0].message
    with pytest.raises(DataError, match="rows"):
        pf.preflight(mlp(), X, Y[:10])
    with pytest.raises(ConfigError, match=r"'sgdd': unknown \(did you mean 'sgd'\?\).*also takes 'momentum'"):
        probe_steps.make_optimizer("sgdd", mlp().parameters(), lr=0.1)


# ---------------------------------------------------------------- optimizers through the factory
def _trajectory(opt, model, steps=15):
    x, y = XS[:64], YS[:64]
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


@pytest.mark.parametrize("name, momentum, nesterov", [("momentum", 0.9, False), ("nesterov", 0.9, True)])
def test_old_names_keep_their_update_rule(name, momentum, nesterov):
    """'momentum' is SGD with μ 0.9; 'nesterov' (the notes' rearranged form, μ 0.9) takes the same
    steps as torch's SGD(momentum=0.9, nesterov=True), which the name meant before the factory."""
    ours, theirs = mlp(seed=3), mlp(seed=3)
    got = _trajectory(probe_steps.make_optimizer(name, ours, lr=0.05), ours)
    expected = _trajectory(torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=momentum, nesterov=nesterov),
                           theirs)
    assert (got - torch.cat([p.detach().reshape(-1) for p in mlp(seed=3).parameters()])).abs().max() > 1e-2
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_every_registered_name_and_torch_class_names_build():
    from trainwell.optim.registry import OPTIMIZERS

    small = mlp((64, 4, 10))                                     # 310 parameters: Newton's Hessian is cheap
    for name in list(OPTIMIZERS) + ["NAdam", "Rprop"]:
        opt = probe_steps.make_optimizer(name, small, lr=0.01, total_steps=10)
        want = OPTIMIZERS[name].cls if name in OPTIMIZERS else getattr(torch.optim, name)
        assert isinstance(opt, want), (name, type(opt))
        assert all(g["lr"] == 0.01 for g in opt.param_groups)
    assert probe_steps.make_optimizer("sam", small, lr=0.01).model is small   # batch norm protected in the probe
    assert [probe_steps.probe_lr(n, None) for n in ("sgd", "sam", "newton", "adam")] == [0.01, 0.01, 1.0, 1e-3]


@pytest.mark.parametrize("name", ["sam", "nesterov_lookahead", "lbfgs"])
def test_overfit_check_steps_closure_optimizers(name):
    """SAM, look-ahead Nesterov and L-BFGS need the closure: the short run hands it to them."""
    found = overfit.check_overfit(mlp(), X[:20], Y[:20], F.cross_entropy, "cross_entropy", name,
                             1.0 if name == "lbfgs" else 0.05)
    assert found == [], [str(f) for f in found]


@pytest.mark.parametrize("name", ["adam", "nesterov", "sam", "nesterov_lookahead"])
def test_decoupled_weight_decay_of_a_named_optimizer_is_effective(name):
    """The factory decays by w ← w(1 − lr·λ) (a rate outside torch's weight_decay key); the probe
    step sees it, also for optimizers stepped through the closure."""
    reg = {"weight_decay": 1e-2}
    assert regularization_check.check_regularization(mlp(), XS, YS, F.cross_entropy, name, 0.1, reg, None) == []
    no_decay = lambda params: probe_steps.make_optimizer(name, params, lr=0.1)  # noqa: E731  (weight_decay 0)
    found = regularization_check.check_regularization(mlp(), XS, YS, F.cross_entropy, no_decay, 0.1, reg, None)
    assert {f.code for f in found} == {"regularization_not_effective"}


def test_factory_callable_gets_the_probe_lr_and_no_decay():
    from trainwell.optim.factory import DECOUPLED_KEY, build_optimizer

    model = mlp()
    opt = probe_steps.make_optimizer(lambda params: build_optimizer("sgd", params, lr=0.5, weight_decay=0.1), model,
                            lr=0.2, weight_decay=0.0)
    assert all(g["lr"] == 0.2 and g[DECOUPLED_KEY] == 0.0 for g in opt.param_groups)
    assert opt.param_groups[0]["params"][0] is model[0].weight


def test_an_optimizer_instance_is_rebuilt_with_its_options_over_the_new_parameters():
    from trainwell.optim import OGSAM, SAM, Adam

    user, probe = mlp(), mlp(seed=1)
    adam = probe_steps.make_optimizer(Adam(user.parameters(), lr=1e-3, betas=(0.8, 0.99), bias_correction=False),
                             probe, lr=0.02, weight_decay=0.0)
    assert type(adam) is Adam and adam.param_groups[0]["lr"] == 0.02
    assert adam.defaults["betas"] == (0.8, 0.99) and adam.defaults["bias_correction"] is False
    assert adam.param_groups[0]["params"][0] is probe[0].weight
    sam = SAM(torch.optim.SGD(user.parameters(), lr=0.1, momentum=0.9), rho=0.2, every=3, model=user)
    again = probe_steps.make_optimizer(sam, probe, lr=0.05)
    assert type(again) is SAM and (again.rho, again.every, again.model) == (0.2, 3, probe)
    assert again.param_groups[0]["momentum"] == 0.9 and again.param_groups[0]["lr"] == 0.05
    og = probe_steps.make_optimizer(OGSAM(torch.optim.SGD(user.parameters(), lr=0.1), extrapolation_lr=0.3), probe, lr=0.05)
    assert type(og) is OGSAM and og.extrapolation_lr == 0.3


# ---------------------------------------------------------------- loss and init
def test_bad_initial_loss():
    model = mlp()
    with torch.no_grad():
        model[-1].weight.mul_(50)
    assert codes(loss_checks.check_initial_loss(model(XS), YS, "cross_entropy", F.cross_entropy)) == {"bad_initial_loss"}
    assert loss_checks.check_initial_loss(mlp()(XS), YS, "cross_entropy", F.cross_entropy) == []


def test_initial_loss_more_than_one_nat_above_uniform_is_flagged_at_any_ratio():
    """Logits of spread s cost ~s^2/2 nats over ln C: 1000 classes at 1.3x ln C are 2 nats over."""
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 1000, (256,), generator=g)
    spread = loss_checks.check_initial_loss(2.0 * torch.randn(256, 1000, generator=g), y, "cross_entropy", F.cross_entropy)
    f = spread[0]
    assert f.code == "bad_initial_loss" and f.evidence["ratio"] < 1.5 and f.evidence["excess_nats"] > 1.0
    assert f.evidence["excess_nats"] == pytest.approx(2.0 ** 2 / 2, rel=0.25)     # s^2 / 2
    assert "nats" in f.message
    assert loss_checks.check_initial_loss(0.5 * torch.randn(256, 1000, generator=g), y, "cross_entropy", F.cross_entropy) == []


def test_expected_initial_loss_is_ln_c():
    out = torch.zeros(100, 10)
    found = loss_checks.check_initial_loss(out + 30 * torch.randn(100, 10), torch.randint(0, 10, (100,)),
                                  "cross_entropy", F.cross_entropy)
    assert abs(found[0].evidence["expected"] - 2.302585) < 1e-5     # notes 004: 2.30261 for 10 classes


def test_gradient_mismatch_in_full_preflight():
    class Detached(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.a, self.b = nn.Linear(64, 32), nn.Linear(32, 10)

        def forward(self, x):
            h = torch.relu(self.a(x))
            return self.b(h + (h.detach() ** 2 - h.detach() ** 2 + 0.5 * (h - h.detach())))

    found = [f for f in pf.preflight(Detached(), XS, YS, lr=0.1) if f.code == "gradient_mismatch"]
    assert found and found[0].severity == "error" and found[0].where == "a"


def test_symmetric_constant_init_and_healthy_twin():
    model = mlp()
    nn.init.constant_(model[0].weight, 0.05)
    layers, last = init_checks.hidden_and_output_layers(model, XS)
    found = init_checks.check_symmetry(model, XS, YS, F.cross_entropy, layers)
    assert codes(found) == {"symmetric_init"} and found[0].where == "0"
    healthy = mlp()
    assert init_checks.check_symmetry(healthy, XS, YS, F.cross_entropy, init_checks.hidden_and_output_layers(healthy, XS)[0]) == []
    zero_head = mlp()                                # a zero output layer is fine: rows differ by target
    nn.init.zeros_(zero_head[-1].weight)
    assert init_checks.check_symmetry(zero_head, XS, YS, F.cross_entropy, init_checks.hidden_and_output_layers(zero_head, XS)[0]) == []


# ---------------------------------------------------------------- activation statistics (notes 004)
def test_vanishing_activations_small_init_tanh():
    assert "vanishing_activations" in codes(activations(deep(nn.Tanh, init_std=0.01)))
    assert activations(deep(nn.Tanh)) == []


def test_vanishing_signal_behind_nonzero_biases():
    """W ~ N(0, 0.01) with biases 0.05: the biases keep each layer's std near 0.05, but no unit
    varies with the input any more (per-unit signal); the same net with Xavier weights is fine."""
    from trainwell.babysit.probes import input_signal

    def check(model):
        rec = ActivationRecorder(model)
        with torch.no_grad(), rec:
            out = model(XS)
        return init_checks.check_activations(rec.stats(exclude=out), float(XS.std()), input_signal(XS))

    small = deep(nn.Tanh, init_std=0.01, depth=6)
    with torch.no_grad():
        for m in small.modules():
            if isinstance(m, nn.Linear):
                m.bias.uniform_(-0.1, 0.1)
    found = [f for f in check(small) if f.code == "vanishing_activations"]
    assert found and "biases" in found[0].message
    assert check(deep(nn.Tanh, depth=6, bias=0.05)) == []


def test_saturated_units_unit_init_tanh():
    found = activations(deep(nn.Tanh, init_std=1.0))
    assert "saturated_units" in codes(found)


def test_exploding_activations_unit_init_relu():
    assert "exploding_activations" in codes(activations(deep(nn.ReLU, init_std=1.0, depth=4)))
    assert activations(deep(nn.ReLU, depth=4)) == []


def test_dead_units_negative_bias():
    found = activations(deep(nn.ReLU, depth=3, bias=-3.0))
    assert "dead_units" in codes(found)


# ---------------------------------------------------------------- data and labels
def test_unnormalized_inputs():
    raw, _, _, _ = digits(standardize=False)
    assert codes(data_checks.check_inputs_normalized(raw)) == {"unnormalized_inputs"}
    assert data_checks.check_inputs_normalized(X) == []
    assert data_checks.check_inputs_normalized(raw / 16) == []                      # [0, 1] pixels are fine (notes 000)
    mixed = torch.randn(500, 4) * torch.tensor([1.0, 1.0, 1000.0, 1000.0])
    assert codes(data_checks.check_inputs_normalized(mixed)) == {"unnormalized_inputs"}


def test_a_table_standardized_as_one_array_is_unnormalized_but_a_flattened_image_is_not():
    """Weather rows in their units (temperature ~15 C, humidity and cloud cover 0-1, wind ~5 m/s, rain mm,
    sun hours, visibility km, dew point C):
    ``(X - X.mean()) / X.std()`` leaves the array at mean 0, std 1 (the median std and the stds'
    spread within the older rule's bounds) but the humidity's range ~1/40 of the temperature's; per
    column, quiet. The digits' pixels through
    the same whole-array scaler share one range (0-16): quiet, as the [0, 1] pixels are."""
    g = torch.Generator().manual_seed(4)
    units = (torch.tensor([15.0, 0.6, 0.5, 5.0, 2.0, 6.0, 20.0, 8.0]),
             torch.tensor([8.0, 0.2, 0.3, 3.0, 4.0, 3.0, 10.0, 6.0]))
    table = units[0] + units[1] * torch.randn(800, 8, generator=g)
    whole = (table - table.mean()) / table.std()
    found = data_checks.check_inputs_normalized(whole)
    assert codes(found) == {"unnormalized_inputs"} and "standardized over the wrong axis" in found[0].message
    ranges = whole.max(0).values - whole.min(0).values
    assert found[0].evidence["range_spread_p90_p10"] == pytest.approx(
        float(torch.quantile(ranges.double(), 0.9) / torch.quantile(ranges.double(), 0.1)), rel=1e-6)
    assert data_checks.check_inputs_normalized((table - table.mean(0)) / table.std(0)) == []
    raw = digits(standardize=False)[0]
    assert data_checks.check_inputs_normalized((raw - raw.mean()) / raw.std()) == []
    # the same columns one order of magnitude closer than WHOLE_SCALE (ranges 3x apart): quiet
    close = torch.randn(800, 5, generator=g) * torch.tensor([1.0, 3.0, 1.0, 2.0, 3.0])
    assert data_checks.check_inputs_normalized((close - close.mean()) / close.std()) == []


def test_nonfinite_data():
    bad = X.clone()
    bad[[3, 7], 5] = float("nan")
    found = data_checks.check_nonfinite(bad, Y)
    assert codes(found) == {"nonfinite_data"} and found[0].evidence["first_rows"] == [3, 7]
    assert data_checks.check_nonfinite(X, Y) == []
    assert "nonfinite_data" in codes(pf.preflight(mlp(), bad[:300], YS, lr=0.1))


@pytest.mark.parametrize("y, kind", [(YS + 1, "cross_entropy"), (YS.float(), "cross_entropy"),
                                     (torch.zeros_like(YS), "cross_entropy"), (YS.float() * 2, "bce")])
def test_label_problems(y, kind):
    out = mlp()(XS) if kind != "bce" else mlp((64, 16, 1))(XS)
    assert "label_problem" in codes(data_checks.check_labels(y, out, kind, num_classes=None))


def test_a_too_narrow_output_layer_is_the_models_fault_not_the_labels():
    """Labels 0..9 of a 10-class data set and a 5-output model: size the layer (loss_output_mismatch);
    labels 1..10 for 10 outputs are off by one whatever the data says (label_problem)."""
    narrow = mlp((64, 16, 5))(XS)
    assert data_checks.check_labels(YS, narrow, "cross_entropy", num_classes=10) == []
    found = loss_checks.check_loss_output(narrow, YS, "cross_entropy", F.cross_entropy, last=(None, None), num_classes=10)
    assert "loss_output_mismatch" in codes(found)
    assert "label_problem" in codes(data_checks.check_labels(YS + 1, mlp()(XS), "cross_entropy", num_classes=11))
    assert "label_problem" in codes(data_checks.check_labels(YS, narrow, "cross_entropy", num_classes=None))


def test_labels_healthy():
    assert data_checks.check_labels(YS, mlp()(XS), "cross_entropy", num_classes=10) == []
    assert data_checks.check_labels((YS > 4).float(), mlp((64, 8, 1))(XS), "bce", num_classes=None) == []


def test_class_imbalance():
    keep = (Y == 0) | (torch.arange(len(Y)) % 20 == 0)
    assert codes(data_checks.check_class_balance(Y[keep], "cross_entropy")) == {"class_imbalance"}
    assert data_checks.check_class_balance(Y, "cross_entropy") == []


def test_unshuffled_data():
    order = torch.argsort(Y, stable=True)
    assert codes(data_checks.check_shuffled(Y[order], shuffle=False, class_ids=True)) == {"unshuffled_data"}
    assert data_checks.check_shuffled(Y[order], shuffle=True, class_ids=True) == []
    assert data_checks.check_shuffled(Y, shuffle=False, class_ids=True) == []
    t = torch.linspace(0, 1, 200)
    assert codes(data_checks.check_shuffled(t, shuffle=False, class_ids=False)) == {"unshuffled_data"}
    assert data_checks.check_shuffled(t[torch.randperm(200)], shuffle=False, class_ids=False) == []


# ---------------------------------------------------------------- loss / output
def _mismatch(model, y, loss, num_classes=None):
    fn, kind = loss_kinds.resolve_loss(loss)
    layers, last = init_checks.hidden_and_output_layers(model, XS)
    with torch.no_grad():
        out = model(XS)
    return loss_checks.check_loss_output(out, y, kind, fn, last=last, num_classes=num_classes)


def test_softmax_before_cross_entropy():
    found = _mismatch(nn.Sequential(mlp(), nn.Softmax(dim=1)), YS, "cross_entropy")
    assert codes(found) == {"loss_output_mismatch"} and found[0].where == "1"
    assert found[0].severity == "error" and found[0].evidence["graded"]     # a module the experiment removes


def test_functional_softmax_is_caught_by_its_values():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = mlp()

        def forward(self, x):
            return F.softmax(self.body(x), dim=-1)
    found = _mismatch(Net(), YS, nn.CrossEntropyLoss())
    assert codes(found) == {"loss_output_mismatch"} and found[0].evidence["graded"]   # graded on the rows' log


@pytest.mark.parametrize("act, severity", [(nn.Sigmoid(), "error"), (nn.Tanh(), "warning"), (nn.ReLU(), "warning")])
def test_a_bounding_activation_before_cross_entropy(act, severity):
    """Cross-entropy takes unbounded logits: a sigmoid hands it probabilities, tanh caps the logits
    at 1, ReLU at 0 from below."""
    found = _mismatch(nn.Sequential(mlp(), act), YS, "cross_entropy", num_classes=10)
    assert [(f.code, f.severity, f.where) for f in found] == [("loss_output_mismatch", severity, "1")]
    assert type(act).__name__ in found[0].message and found[0].fix.startswith(f"remove the final {type(act).__name__}")
    bounded_target = (YS.float() / 9.0).unsqueeze(1)          # a regression target in [0, 1]
    assert _mismatch(nn.Sequential(mlp((64, 16, 1)), act), bounded_target, "mse") == []   # a bounded regression is fine


def test_sigmoid_before_bce_with_logits():
    yb = (YS > 4).float()
    assert codes(_mismatch(nn.Sequential(mlp((64, 16, 1)), nn.Sigmoid()), yb, "bce")) == {"loss_output_mismatch"}
    assert _mismatch(nn.Sequential(mlp((64, 16, 1)), nn.Sigmoid()), yb[:, None], nn.BCELoss()) == []
    assert _mismatch(mlp((64, 16, 1)), yb, "bce") == []


def test_regression_loss_on_class_ids_and_wrong_width():
    assert "loss_output_mismatch" in codes(_mismatch(mlp((64, 16, 1)), YS, "mse"))
    assert "loss_output_mismatch" in codes(_mismatch(mlp((64, 16, 5)), YS, "cross_entropy", num_classes=10))
    assert "loss_output_mismatch" in codes(_mismatch(mlp((64, 16, 1)), YS, "cross_entropy"))
    assert _mismatch(mlp(), YS, "cross_entropy", num_classes=10) == []
    assert _mismatch(mlp((64, 16, 1)), torch.randn(300), "mse") == []


def test_more_outputs_than_classes_is_info_and_costs_no_accuracy():
    """10 outputs on classes 0..3: cross-entropy only pushes the 6 unused logits down, so the model
    trains as a 4-way classifier does (info); fewer outputs than classes stays an error."""
    y4 = YS % 4
    for loss in ("cross_entropy", nn.NLLLoss()):
        model = mlp((64, 16, 10)) if loss == "cross_entropy" else nn.Sequential(mlp((64, 16, 10)), nn.LogSoftmax(1))
        found = _mismatch(model, y4, loss, num_classes=4)
        assert [(f.code, f.severity) for f in found] == [("loss_output_mismatch", "info")], loss
        assert found[0].evidence["unused_outputs"] == 6
    assert {f.severity for f in _mismatch(mlp((64, 16, 3)), y4, "cross_entropy", num_classes=4)} == {"error"}
    # a softmax before cross-entropy is still found beside the unused outputs (the output checks run)
    both = _mismatch(nn.Sequential(mlp((64, 16, 10)), nn.Softmax(dim=1)), y4, "cross_entropy", num_classes=4)
    assert {f.severity for f in both} == {"error", "info"}
    # the claim, measured: the same body with 4 and with 10 outputs, trained alike, ends level
    g = torch.Generator().manual_seed(0)
    Xt = torch.randn(600, 8, generator=g)
    yt = (Xt[:, 0] > 0).long() * 2 + (Xt[:, 1] + 0.5 * Xt[:, 2] > 0).long()
    accuracy = {}
    for width in (4, 10):
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, width))
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        for step in range(200):
            rows = torch.arange(step * 32, step * 32 + 32) % 400
            opt.zero_grad()
            F.cross_entropy(net(Xt[rows]), yt[rows]).backward()
            opt.step()
        with torch.no_grad():
            accuracy[width] = float((net(Xt[400:]).argmax(1) == yt[400:]).double().mean())
    assert accuracy[4] > 0.85 and abs(accuracy[10] - accuracy[4]) <= 0.02, accuracy


def test_nll_needs_log_probabilities():
    assert codes(_mismatch(mlp(), YS, nn.NLLLoss())) == {"loss_output_mismatch"}
    assert _mismatch(nn.Sequential(mlp(), nn.LogSoftmax(dim=1)), YS, nn.NLLLoss()) == []


# ---------------------------------------------------------------- regularization (notes 004)
def test_detached_penalty_is_not_effective():
    model = mlp()
    bad = regularization_check.check_regularization(model, XS, YS, F.cross_entropy, "sgd", 0.1, {},
                                  lambda: 1e-4 * sum(p.detach().pow(2).sum() for p in model.parameters()))
    good = regularization_check.check_regularization(model, XS, YS, F.cross_entropy, "sgd", 0.1, {},
                                   lambda: 1e-4 * sum(p.pow(2).sum() for p in model.parameters()))
    assert codes(bad) == {"regularization_not_effective"} and good == []


def test_weight_decay_missing_from_the_optimizer_groups():
    def no_decay(params):
        return torch.optim.SGD(params, lr=0.1)

    def with_decay(params):
        return torch.optim.SGD(params, lr=0.1, weight_decay=1e-4)
    reg = {"weight_decay": 1e-4}
    assert codes(regularization_check.check_regularization(mlp(), XS, YS, F.cross_entropy, no_decay, 0.1, reg, None)) == {
        "regularization_not_effective"}
    assert regularization_check.check_regularization(mlp(), XS, YS, F.cross_entropy, with_decay, 0.1, reg, None) == []


def test_dropout_configured_but_absent():
    reg = {"dropout": 0.5}
    assert codes(regularization_check.check_regularization(mlp(), XS, YS, F.cross_entropy, "sgd", 0.1, reg, None)) == {
        "regularization_not_effective"}
    assert regularization_check.check_regularization(mlp(dropout=0.5), XS, YS, F.cross_entropy, "sgd", 0.1, reg, None) == []


def test_budget_skips_expensive_checks_with_an_info_finding():
    found = pf.preflight(mlp(), XS, YS, lr=0.1, budget_s=1e-9)
    skipped = [f for f in found if f.code == "check_skipped"]
    assert len(skipped) == 1 and skipped[0].severity == "info"
    assert skipped[0].evidence["skipped"] == ["gradient check", "overfit a small subset",
                                              "labels carry over to unseen rows", "regularization check"]


def test_cheap_only_runs_the_one_forward_pass_checks_without_a_skip_note():
    """The repairer's checks before the first step: the same findings as a spent budget, without
    the gradient check, the regularization check, the overfit run or a check_skipped note."""
    model = mlp()
    with torch.no_grad():
        model[-1].weight.mul_(30.0)                 # over-confident: a one-forward-pass finding
    cheap = pf.preflight(model, XS * 100, YS, lr=0.1, cheap_only=True)
    spent = pf.preflight(model, XS * 100, YS, lr=0.1, budget_s=1e-9)
    assert [f.code for f in cheap] == [f.code for f in spent if f.code != "check_skipped"]
    assert {"bad_initial_loss", "unnormalized_inputs"} <= {f.code for f in cheap}
    assert "check_skipped" not in {f.code for f in cheap}
    full = pf.preflight(model, XS * 100, YS, lr=0.1)
    assert {f.code for f in cheap} <= {f.code for f in full}
    reg = {"dropout": 0.5}                          # configured, but the model has no dropout
    assert "regularization_not_effective" in codes(pf.preflight(mlp(), XS, YS, lr=0.1, regularization=reg))
    assert "regularization_not_effective" not in codes(
        pf.preflight(mlp(), XS, YS, lr=0.1, regularization=reg, cheap_only=True))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_out_of_range_labels_on_cuda_are_a_finding_and_cuda_stays_usable():
    """A CUDA cross-entropy kernel asserts on class ids >= C, which poisons the process; the
    pre-flight check must report label_problem and leave the device working."""
    model = torch.nn.Sequential(torch.nn.Linear(4, 3)).cuda()
    X = torch.randn(64, 4)
    y = torch.arange(64) % 5                      # ids 3 and 4 do not exist for 3 outputs
    codes = {f.code for f in pf.preflight(model, X, y, loss="cross_entropy", cheap_only=True)}
    assert "label_problem" in codes
    assert float((torch.ones(2, device="cuda") * 2).sum()) == 4.0


def test_a_tiny_lr_does_not_read_as_an_ineffective_weight_decay():
    """lr 1e-5 x weight_decay 5e-4 shrinks ||w|| by 5e-9 per step: below float32's resolution, so
    the check measures in float64 and relative to lr x weight_decay."""
    reg = {"weight_decay": 5e-4}
    assert regularization_check.check_regularization(mlp(), XS, YS, F.cross_entropy, "sgd", 1e-5, reg, None) == []
    assert regularization_check.check_regularization(mlp(), XS, YS, F.cross_entropy, "adam", 1e-7, reg, None) == []


def test_a_deep_linear_stack_that_explodes_is_found_and_ranks_before_its_initial_loss():
    torch.manual_seed(0)
    layers = []
    for _ in range(6):
        lin = nn.Linear(XS.shape[1] if not layers else 32, 32)
        nn.init.normal_(lin.weight, std=0.5)
        layers.append(lin)
    model = nn.Sequential(*layers, nn.Linear(32, 10))
    found = pf.preflight(model, XS, YS, lr=0.1, cheap_only=True)
    assert "exploding_activations" in codes(found)
    from trainwell.babysit.findings import Diagnosis
    ranked = [f.code for f in Diagnosis(found).ranked()]
    assert ranked[0] == "exploding_activations", ranked


def test_memorized_is_measured_from_guessing_the_commonest_class():
    assert overfit.memorized_target(torch.arange(10).repeat(5)) == pytest.approx(0.1 + 0.9 * 0.9)
    assert overfit.memorized_target(torch.tensor([0] * 75 + [1] * 25)) == pytest.approx(0.75 + 0.9 * 0.25)


def test_imbalanced_real_labels_are_not_read_as_labels_apart_from_their_rows():
    """Two classes 75/25 with 3% of the labels flipped (sklearn's make_classification): a memorizer of
    128 such rows scores the unseen rows well above what its predictions score by chance
    (sum_k p_k q_k), though not always 3 sigmas above the commonest class's share; over seeds of
    the net and the rows, real labels are never read as a label problem, shuffled ones always."""
    from sklearn.datasets import make_classification
    Xi, yi = make_classification(n_samples=3000, n_features=15, n_informative=5, n_redundant=5, weights=[0.75],
                                 flip_y=0.03, random_state=22)
    Xi = (Xi - Xi.mean(0)) / Xi.std(0)
    Xi, yi = torch.tensor(Xi, dtype=torch.float32), torch.tensor(yi)
    for seed in (0, 4):
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(15, 48), nn.ReLU(), nn.Linear(48, 48), nn.ReLU(), nn.Linear(48, 2))
        gen = lambda: torch.Generator().manual_seed(seed)  # noqa: E731
        assert learnable.check_labels_learnable(net, Xi, yi, F.cross_entropy, "cross_entropy", gen=gen()) == [], seed
        shuffled = yi[torch.randperm(len(yi), generator=gen())]
        found = learnable.check_labels_learnable(net, Xi, shuffled, F.cross_entropy, "cross_entropy", gen=gen())
        assert codes(found) == {"label_problem"} and found[0].evidence["chance"] < 0.75, seed


def test_labels_that_do_not_belong_to_their_rows_are_found():
    """Memorizing 128 rows carries over to unseen rows with real labels, not with shuffled ones."""
    gen = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    assert learnable.check_labels_learnable(mlp(), X, Y, F.cross_entropy, "cross_entropy", gen=gen()) == []
    shuffled = Y[torch.randperm(len(Y), generator=gen())]
    found = learnable.check_labels_learnable(mlp(), X, shuffled, F.cross_entropy, "cross_entropy", gen=gen())
    assert codes(found) == {"label_problem"} and found[0].severity == "warning"
    e = found[0].evidence
    assert e["memorized_acc"] >= e["memorized_target"] >= overfit.MEMORIZED_ACC
    assert e["unseen_acc"] <= e["chance"] + e["margin"]
    # a small set (420 rows) scores the 292 rows beyond the memorized ones; fewer than 128: no verdict
    small = slice(0, 420)
    found = learnable.check_labels_learnable(mlp(), X[small], shuffled[small], F.cross_entropy, "cross_entropy", gen=gen())
    assert codes(found) == {"label_problem"} and found[0].evidence["unseen_rows"] == 420 - learnable.MEMORIZE_ROWS
    assert learnable.check_labels_learnable(mlp(), X[small], Y[small], F.cross_entropy, "cross_entropy", gen=gen()) == []
    tiny = slice(0, learnable.MEMORIZE_ROWS + learnable.MIN_UNSEEN_ROWS - 1)
    assert learnable.check_labels_learnable(mlp(), X[tiny], shuffled[tiny], F.cross_entropy, "cross_entropy", gen=gen()) == []


def test_a_users_nll_on_raw_logits_is_a_loss_output_mismatch_and_its_healthy_twins_are_not():
    """A user's loss calling nll_loss on raw logits falls 1:1 as every output grows (no bound):
    loss_output_mismatch, not an lr problem. The same loss after log_softmax, cross-entropy and
    a margin loss are unchanged by a common shift, so nothing is found for them."""
    def raw_nll(out, y):
        return F.nll_loss(out, y)

    def log_softmax_nll(out, y):
        return F.nll_loss(F.log_softmax(out, dim=1), y)

    found = pf.preflight(mlp(), XS, YS, loss=raw_nll, cheap_only=True)
    mismatch = [f for f in found if f.code == "loss_output_mismatch"]
    assert mismatch and "without bound" in mismatch[0].message and mismatch[0].severity == "error"
    shifts = mismatch[0].evidence["loss_at_shift"]
    assert shifts[0.0] - shifts[loss_checks.LOSS_SHIFT] == pytest.approx(loss_checks.LOSS_SHIFT, rel=1e-3)
    for healthy in (log_softmax_nll, lambda out, y: F.cross_entropy(out, y),
                    lambda out, y: F.multi_margin_loss(out, y)):
        assert "loss_output_mismatch" not in codes(pf.preflight(mlp(), XS, YS, loss=healthy, cheap_only=True))
    # the idiom with the log_softmax inside the model: its outputs are normalized and cannot grow
    log_probs = nn.Sequential(mlp(), nn.LogSoftmax(dim=1))
    assert "loss_output_mismatch" not in codes(pf.preflight(log_probs, XS, YS, loss=raw_nll, cheap_only=True))


def test_a_layer_narrower_than_the_classes_feeding_the_output_is_a_low_rank_bottleneck():
    """A 1-unit layer before a 10-class output: the scores vary along one direction (Yang et al.
    2018), a warning whatever the 20-row overfit says; two units on three classes, eight on ten (a
    ResNet head of 8 channels trains to 95%) and the healthy width are not flagged; constant
    scores are left to the init checks."""
    torch.manual_seed(0)
    narrow = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1), nn.Linear(1, 10))
    found = loss_checks.check_logit_rank(narrow(X[:256]), "cross_entropy")
    assert [f.code for f in found] == ["low_rank_logits"] and found[0].evidence["score_rank"] == 1
    assert found[0].evidence["needed"] == 9
    two = nn.Sequential(nn.Linear(64, 2), nn.Linear(2, 3))
    assert loss_checks.check_logit_rank(two(X[:256]), "cross_entropy") == []
    eight = nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10))
    assert loss_checks.check_logit_rank(eight(X[:256]), "cross_entropy") == []
    assert loss_checks.check_logit_rank(nn.Linear(64, 10)(X[:256]), "cross_entropy") == []
    assert loss_checks.check_logit_rank(torch.zeros(256, 10), "cross_entropy") == []
    assert loss_checks.check_logit_rank(narrow(X[:256]), "mse") == []


def test_inputs_of_a_large_scale_that_batch_norm_rescales_are_not_vanishing():
    """Inputs x1000 into Linear -> BatchNorm -> ReLU: the layer's std (~0.6) is 1e-3 of the input's,
    but the normalization sets it (Ioffe & Szegedy 2015), so the reference is at most a unit scale.
    A net without normalization whose layers do shrink the signal still reports vanishing."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 10)).train()
    x = XS * 1000.0
    rec = ActivationRecorder(net)
    with torch.no_grad(), rec:
        out = net(x)
    stats = rec.stats(exclude=out)
    assert init_checks.has_normalization(net)
    assert "vanishing_activations" in {f.code for f in init_checks.check_activations(stats, float(x.std()))}
    assert init_checks.check_activations(stats, float(x.std()), normalized=True) == []
    torch.manual_seed(0)
    shrinking = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    with torch.no_grad():
        for layer in shrinking[:4:2]:
            layer.weight.mul_(0.01)
            layer.bias.zero_()
    assert not init_checks.has_normalization(shrinking)
    rec = ActivationRecorder(shrinking)
    with torch.no_grad(), rec:
        out = shrinking(XS)
    assert "vanishing_activations" in {f.code for f in init_checks.check_activations(rec.stats(exclude=out), float(XS.std()),
                                                                              normalized=True)}


def test_regression_overfit_run_that_beats_the_reference_is_no_failure():
    """Diabetes as scikit-learn loads it (features of std 0.048): Adam at 3e-3 takes 20 rows' loss
    down ~8x in 200 steps, further than the Adam 1e-3 reference's 300; a zero-initialized
    regressor stuck near its first loss is still a failure."""
    from sklearn.datasets import load_diabetes
    d = load_diabetes()
    x = torch.tensor(d.data[:20], dtype=torch.float32)
    y = torch.tensor(d.target[:20], dtype=torch.float32).unsqueeze(1)
    y = (y - y.mean()) / y.std()

    def net(zero=False):
        torch.manual_seed(34)
        model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
        for p in model.parameters() if zero else ():
            nn.init.zeros_(p)
        return model
    assert overfit.check_overfit(net(), x, y, F.mse_loss, "mse", "adam", 3e-3) == []
    stuck = overfit.check_overfit(net(zero=True), x, y, F.mse_loss, "mse", "sgd", 1e-6)
    assert codes(stuck) == {"cannot_overfit_small_subset"}


class _ListNet(nn.Module):
    def __init__(self, registered):
        super().__init__()
        layers = [nn.Linear(4, 8), nn.Linear(8, 8)]
        self.hidden = nn.ModuleList(layers) if registered else layers
        self.extra = {"scale": nn.Parameter(torch.ones(3))} if not registered else nn.ParameterDict(
            {"scale": nn.Parameter(torch.ones(3))})
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.head(x) * self.extra["scale"][:1]


def test_layers_in_a_plain_list_are_an_error_and_the_gradient_check_is_skipped():
    """PyTorch registers nn.ModuleList contents, not a list's: those parameters never train. The
    pre-flight names the attributes and their parameter counts, and does not crash converting a
    float64 copy for the gradient check."""
    torch.manual_seed(0)
    X, y = torch.randn(128, 4), torch.randint(0, 2, (128,))
    findings = pf.preflight(_ListNet(registered=False), X, y, lr=0.1, budget_s=30)
    found = [f for f in findings if f.code == "unregistered_modules"]
    assert len(found) == 1 and found[0].severity == "error"
    assert found[0].evidence["attributes"] == {"hidden": 4 * 8 + 8 + 8 * 8 + 8, "extra": 3}
    assert not any(f.code == "gradient_mismatch" for f in findings)
    assert not any(f.code == "unregistered_modules" for f in pf.preflight(_ListNet(registered=True), X, y, lr=0.1,
                                                                       budget_s=30))


def test_one_score_per_row_against_class_ids_reads_as_a_binary_classifier():
    """A user's own loss on a sigmoid's probability (or a logit), one score per row, against 0/1 ids:
    accuracy thresholds the score (0.5 for probabilities, 0 for logits), never an argmax over the rows."""
    y = torch.tensor([1, 0, 1, 1])
    assert overfit._accuracy(torch.tensor([0.9, 0.2, 0.6, 0.4]), y, "other") == pytest.approx(0.75)
    assert overfit._accuracy(torch.tensor([[2.0], [-1.0], [0.5], [3.0]]), y, "other") == pytest.approx(1.0)
    assert overfit._accuracy(torch.tensor([0.9, 0.2, 0.6]), torch.tensor([2, 0, 1]), "other") is None
    assert overfit._accuracy(torch.tensor([[0.1, 0.9], [0.8, 0.2]]), torch.tensor([1, 0]), "other") == 1.0

    def bce(p, t):           # the user's BCE on probabilities, as written in a notebook
        p = p.clamp(1e-7, 1 - 1e-7)
        return -(t.float() * torch.log(p) + (1 - t.float()) * torch.log(1 - p)).mean()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(6, 64), nn.ReLU(), nn.Linear(64, 1))

        def forward(self, x):
            return torch.sigmoid(self.body(x)).squeeze(-1)
    torch.manual_seed(0)
    x, t = torch.randn(20, 6), torch.randint(0, 2, (20,))
    assert overfit.check_overfit(Net(), x, t, bce, "other", "adam", 3e-3) == []


def test_a_run_still_memorizing_at_its_end_trains_on_before_the_model_is_blamed(monkeypatch):
    """A tanh MLP at Adam 1e-3 on 20 random rows memorizes 85% of them in 40 steps, its loss still
    falling 12% in the last 10, and all of them by step 80: with the overfit run cut to 40 steps (and
    the reference to 30) the run trains on to 80 steps and nothing is found. A model whose output
    ignores its inputs stalls at its first steps' loss: still a finding, with the longer run's record
    only where it ran."""
    monkeypatch.setattr(overfit, "OVERFIT_STEPS", 40)
    monkeypatch.setattr(overfit, "REFERENCE_STEPS", 30)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(20, 16, generator=g), torch.arange(20) % 4
    torch.manual_seed(0)
    slow = nn.Sequential(nn.Linear(16, 64), nn.Tanh(), nn.Linear(64, 4))
    first = overfit.short_run(copy.deepcopy(slow), x, y, F.cross_entropy, "cross_entropy", "adam", 1e-3, 40)
    assert not first["ok"] and overfit.still_falling(first)
    assert overfit.check_overfit(slow, x, y, F.cross_entropy, "cross_entropy", "adam", 1e-3) == []

    class Blind(nn.Module):
        def __init__(self):
            super().__init__()
            self.out = nn.Linear(16, 4)

        def forward(self, inputs):
            return self.out(inputs * 0)
    (found,) = overfit.check_overfit(Blind(), x, y, F.cross_entropy, "cross_entropy", "adam", 1e-3)
    assert found.code == "cannot_overfit_small_subset" and found.evidence["user_run"]["steps"] == 40
    assert not overfit.still_falling(found.evidence["user_run"])
    # the records' arithmetic: the last 10% of the steps (at least one record of 10) fell >= BARELY_MOVED
    assert overfit.still_falling({"trace": [1.0, 0.8, 0.71], "steps": 20})
    assert not overfit.still_falling({"trace": [1.0, 0.8, 0.73], "steps": 20})
    assert not overfit.still_falling({"trace": [1.0, float("nan"), 0.1], "steps": 20})


def _line_images(n=1000, seed=0):
    """12x12 noise with one of four lines (a row, a column, the two diagonals): the class."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 4, (n,), generator=g)
    pattern = torch.zeros(4, 12, 12)
    pattern[0, 6, :] = pattern[1, :, 6] = 2
    pattern[2].fill_diagonal_(2)
    pattern[3] = pattern[2].flip(1)
    return (torch.randn(n, 1, 12, 12, generator=g) * 0.5 + pattern[y].unsqueeze(1)), y


def test_labels_apart_from_their_rows_are_found_where_the_reference_steps_end_short_of_memorizing():
    """A small CNN fits real labels within a few dozen steps and they carry over; shuffled labels it
    fits one row at a time and ends the reference steps between ``learned_target`` and
    ``memorized_target`` (Zhang et al. 2017): judged there, the unseen rows at chance are still a
    ``label_problem``; real labels stay quiet on every seed."""
    X, Y = _line_images()
    assert overfit.learned_target(torch.arange(4).repeat(32)) == pytest.approx(0.25 + overfit.LEARNED_ACC * 0.75)
    seen = []
    short_run = overfit.short_run

    def spy(*args, **kwargs):
        run = short_run(*args, **kwargs)
        seen.append((run["acc"], kwargs["target_acc"]))
        return run

    import unittest.mock
    for seed in (0, 1, 2):
        def cnn():
            torch.manual_seed(seed)
            return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.AdaptiveMaxPool2d(3), nn.Flatten(), nn.Linear(72, 4))
        gen = lambda: torch.Generator().manual_seed(seed)  # noqa: E731
        assert learnable.check_labels_learnable(cnn(), X, Y, F.cross_entropy, "cross_entropy", gen=gen()) == [], seed
        shuffled = Y[torch.randperm(len(Y), generator=gen())]
        seen.clear()
        with unittest.mock.patch.object(learnable, "short_run", spy):
            found = learnable.check_labels_learnable(cnn(), X, shuffled, F.cross_entropy, "cross_entropy", gen=gen())
        (acc, target), = seen
        assert overfit.learned_target(shuffled[:128]) - 0.1 < acc < target, (seed, acc)   # learnt, not memorized
        assert codes(found) == {"label_problem"} and "learns 128 training rows" in found[0].message, seed


class _BatchFlipNet(nn.Module):
    """A CNN whose forward reverses the batch in training half of the time (an augmentation given the
    wrong axis): each flipped batch trains rows with other rows' labels; evaluation is untouched."""

    def __init__(self, seed):
        super().__init__()
        torch.manual_seed(seed)
        self.net = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.AdaptiveMaxPool2d(3), nn.Flatten(), nn.Linear(72, 4))

    def forward(self, x):
        if self.training and torch.rand(()) < 0.5:
            x = x.flip(0)
        return self.net(x)


def test_labels_are_scored_in_eval_mode_too_where_training_mode_is_random():
    """Unseen rows are scored in training mode (batch norm on their own statistics) and, where that is
    at chance, in eval mode: a forward that reverses the batch in training scores chance there
    though its labels carry over, and stays quiet on every seed."""
    X, Y = _line_images()
    for seed in (0, 1, 2):
        gen = lambda: torch.Generator().manual_seed(seed)  # noqa: E731
        assert learnable.check_labels_learnable(_BatchFlipNet(seed), X, Y, F.cross_entropy, "cross_entropy",
                                         gen=gen()) == [], seed


def test_recalls_beyond_chance_against_a_direct_computation():
    """Balanced accuracy against its null mean and standard error, computed by hand: 90 / 10 labels,
    predictions that find 32 % of the minority beat chance by recall though their accuracy does not."""
    labels = torch.tensor([0] * 346 + [1] * 38)
    predicted = labels.clone()
    predicted[346:346 + 26] = 0                     # 12 of 38 minority rows found (32 %)
    predicted[:20] = 1                              # 20 majority rows called minority
    acc, chance, margin = learnable._carried_over(predicted, labels)
    assert acc <= chance + margin                   # the accuracy test cannot tell
    q1 = (20 + 12) / 384
    recall = ((346 - 20) / 346 + 12 / 38) / 2
    sd = math.sqrt((1 - q1) * q1 / 346 + q1 * (1 - q1) / 38) / 2
    assert recall > 0.5 + learnable.CHANCE_SIGMAS * sd and learnable.recalls_beyond_chance(predicted, labels)
    gen = torch.Generator().manual_seed(1)
    independent = (torch.rand(384, generator=gen) < 0.06).long()   # predictions that ignore the labels
    assert not learnable.recalls_beyond_chance(independent, labels)


def test_imbalanced_weak_real_labels_are_read_by_recall_and_shuffled_stay_found(monkeypatch):
    """92 / 8 classes with a weak signal (sklearn's make_classification): 128 memorized rows hold ~10
    of the minority, and the unseen accuracy alone stays inside chance's margin on most seeds (a label
    problem raised on real labels); the classes' mean recall tells them apart on most, and labels
    shuffled by a stream of their own are found on every seed."""
    from sklearn.datasets import make_classification
    Xi, yi = make_classification(n_samples=3000, n_features=8, n_informative=3, n_redundant=1, weights=[0.92],
                                 flip_y=0.02, class_sep=0.6, random_state=5)
    Xi = (Xi - Xi.mean(0)) / Xi.std(0)
    Xi, yi = torch.tensor(Xi, dtype=torch.float32), torch.tensor(yi)

    def found(labels, seed):
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
        return codes(learnable.check_labels_learnable(net, Xi, labels, F.cross_entropy, "cross_entropy",
                                                      gen=torch.Generator().manual_seed(seed)))
    seeds = (0, 1, 2)
    shuffled = [yi[torch.randperm(len(yi), generator=torch.Generator().manual_seed(100 + s))] for s in seeds]
    assert all(found(sh, s) == {"label_problem"} for s, sh in zip(seeds, shuffled))
    with_recall = sum(found(yi, s) == {"label_problem"} for s in seeds)
    monkeypatch.setattr(learnable, "recalls_beyond_chance", lambda predicted, labels: False)
    accuracy_alone = sum(found(yi, s) == {"label_problem"} for s in seeds)
    assert accuracy_alone >= 2 and with_recall <= 1, (accuracy_alone, with_recall)
