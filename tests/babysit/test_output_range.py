"""output_range.py: a loss on probabilities fed raw scores, and a bounded last operation that
cannot reach a regression's targets. Each broken case fires, its healthy twin stays quiet, and the
repair appends or removes the output layer (run.predict includes the change)."""
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.babysit import output_range as orange
from trainwell.babysit.actions import ACTIONS
from trainwell.babysit.findings import Diagnosis, make
from trainwell.babysit.plans import plan_diverged, plan_output_mismatch
from trainwell.babysit.preflight import preflight
from trainwell.data.splits import Splits
from test_repair import data  # noqa: F401  (the digits fixture, shared)
from test_repair_settings import FAST, _ctx, mlp


def alarms(findings):
    return [f for f in findings if f.severity in ("error", "warning")]


def net(d_out=3, *tail, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, d_out), *tail)


class Ends(nn.Module):
    """``net(d_out)`` whose forward ends in ``fn`` (a functional call, as a user's forward does)."""

    def __init__(self, d_out, fn, body=None):
        super().__init__()
        self.body, self.fn = body if body is not None else net(d_out), fn

    def forward(self, x):
        return self.fn(self.body(x))


def inputs(n=400, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 8, generator=g)


def class_ids(X):
    return (X[:, 0] > 0).long() + (X[:, 1] > 0).long()


def neg_log_p(p, y):            # a user's NLL on probabilities
    return -torch.log(p.gather(1, y[:, None]) + 1e-8).mean()


def mismatch(findings):
    found = [f for f in findings if f.code == "loss_output_mismatch"]
    assert len(found) == 1, [(f.code, f.message) for f in findings]
    return found[0]


# ------------------------------------------------------------------ a missing output layer
def test_a_hand_written_nll_on_raw_scores_names_the_missing_softmax():
    X = inputs()
    f = mismatch(preflight(net(), X, class_ids(X), loss=neg_log_p, cheap_only=True))
    assert f.severity == "error" and f.evidence["missing_activation"] == "softmax"
    # the evidence: the loss is not finite on the raw outputs, and on their softmax near ln 3 (the uniform guess)
    assert not math.isfinite(f.evidence["raw_loss"])
    assert f.evidence["chance"] == pytest.approx(math.log(3), rel=1e-5)
    assert f.evidence["loss"] <= orange.CHANCE_RATIO * f.evidence["chance"]
    assert "bad_initial_loss" not in {g.code for g in alarms(preflight(net(), X, class_ids(X), loss=neg_log_p,
                                                                         cheap_only=True))}


def test_the_same_loss_after_a_softmax_is_quiet():
    X = inputs()
    assert alarms(preflight(net(3, nn.Softmax(dim=1)), X, class_ids(X), loss=neg_log_p, cheap_only=True)) == []


def test_each_probability_loss_names_its_own_output_layer():
    X = inputs()
    y = class_ids(X)
    onehot = F.one_hot(y, 3).float()
    binary = (X[:, :1] > 0).float()
    cases = [(lambda o, t: F.nll_loss(torch.log(o), t), y, 3, "softmax"),
             (lambda o, t: -(t * torch.log(o)).sum(dim=1).mean(), onehot, 3, "softmax"),
             (F.binary_cross_entropy, binary, 1, "sigmoid"),
             (nn.BCELoss(), binary, 1, "sigmoid"),
             (F.nll_loss, y, 3, "log_softmax")]          # NLLLoss on raw scores: log_softmax appended
    for loss, targets, width, expected in cases:
        f = mismatch(preflight(net(width), X, targets, loss=loss, cheap_only=True))
        assert f.evidence["missing_activation"] == expected, (loss, f.message)


def test_healthy_probability_losses_stay_quiet():
    X = inputs()
    binary = (X[:, :1] > 0).float()
    assert alarms(preflight(net(1, nn.Sigmoid()), X, binary, loss=F.binary_cross_entropy, cheap_only=True)) == []
    assert alarms(preflight(net(1), X, binary, loss=F.binary_cross_entropy_with_logits, cheap_only=True)) == []
    assert alarms(preflight(net(3, nn.LogSoftmax(dim=1)), X, class_ids(X), loss=F.nll_loss, cheap_only=True)) == []


def test_multi_label_columns_prefer_sigmoid_and_a_loss_no_transform_fixes_is_not_named():
    X = inputs()
    labels = (X[:, :3] > 0).float()                      # three independent 0/1 columns
    f = mismatch(preflight(net(3), X, labels, loss=F.binary_cross_entropy, cheap_only=True))
    assert f.evidence["missing_activation"] == "sigmoid"
    broken = lambda o, t: torch.log(o - o - 1).mean()    # NaN whatever the outputs
    assert orange.missing_activation(net()(X), class_ids(X), broken) is None


def test_the_plan_appends_the_named_layer_to_a_sequential_and_to_any_module():
    f = make("loss_output_mismatch", "raw scores", evidence={"missing_activation": "sigmoid"}, where="2")
    plan = plan_output_mismatch(f, _ctx(mlp()))
    assert plan.action.name == "append_output_activation" and plan.options == {"activation": "sigmoid"}
    model = mlp()
    ACTIONS["append_output_activation"].apply(SimpleNamespace(model=model, model_changed=lambda: None),
                                              {"activation": "softmax"}, seed=0)
    assert isinstance(model[-1], nn.Softmax)

    wrapped = Ends(10, lambda out: out, body=mlp())
    ACTIONS["append_output_activation"].apply(SimpleNamespace(model=wrapped, model_changed=lambda: None),
                                              {"activation": "sigmoid"}, seed=0)
    out = wrapped(torch.randn(5, 64))
    assert bool(((out > 0) & (out < 1)).all())


def test_repair_appends_the_softmax_and_predict_returns_probabilities(data):
    run = trainwell.fit(mlp(), data, babysit="repair", loss=neg_log_p, **FAST)
    first = run.repairs[0]
    assert (first["step"], first["code"], first["action"]) == (0, "loss_output_mismatch", "append_output_activation")
    assert isinstance(run.model[-1], nn.Softmax)
    probs = run.predict(data.train[0][:16], output="raw").sum(dim=1)
    assert torch.allclose(probs, torch.ones(16), atol=1e-5)
    assert run.results["test"]["acc"] >= 0.9


# ------------------------------------------------------------------ a bounded last operation
def regression_targets(X):
    return (X[:, :3].sum(dim=1, keepdim=True) / math.sqrt(3))     # standardized: N(0, 1)


def test_final_op_names_module_and_functional_activations_through_reshapes():
    X = inputs(16)
    assert orange.final_op(net(1, nn.ReLU()), X) == ("relu", (0.0, math.inf))
    assert orange.final_op(net(1, nn.Hardtanh(-2.0, 3.0)), X) == ("hardtanh", (-2.0, 3.0))
    assert orange.final_op(net(1), X) is None
    assert orange.final_op(Ends(1, lambda z: torch.sigmoid(z).squeeze(1)), X) == ("sigmoid", (0.0, 1.0))
    assert orange.final_op(Ends(1, lambda z: F.relu(z) - 1.0), X) is None    # shifted: not bounded at 0


def test_unreachable_variance_matches_the_normal_integrals():
    """ReLU on N(0, 1) targets leaves E[y^2; y < 0] = 1/2 unexplained; tanh leaves
    2 E[(|y| - 1)^2; |y| > 1] = 2 ((1 + 1) (1 - Phi(1)) - phi(1)) = 0.1508."""
    y = torch.randn(200_000, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    relu = orange.check_target_range(("relu", (0.0, math.inf)), y, regression=True, last=(None, None))[0]
    assert abs(relu.evidence["unreachable_variance"] - 0.5) < 0.01
    phi, tail = math.exp(-0.5) / math.sqrt(2 * math.pi), 0.5 * math.erfc(1 / math.sqrt(2))
    tanh = orange.check_target_range(("tanh", (-1.0, 1.0)), y, regression=True, last=(None, None))[0]
    assert abs(tanh.evidence["unreachable_variance"] - 2 * (2 * tail - phi)) < 0.005
    assert tanh.evidence["outside_share"] == pytest.approx(2 * tail, abs=0.005)


def test_bounded_outputs_that_miss_the_targets_fire_and_name_the_module():
    X = inputs()
    y = regression_targets(X)
    for act in (nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Softplus()):
        f = mismatch(preflight(net(1, act), X, y, loss="mse", cheap_only=True))
        assert f.severity == "error" and f.where == "3" and f.evidence["unreachable_variance"] >= orange.RANGE_LOSS
        plan = plan_output_mismatch(f, _ctx(net(1, act)))
        assert plan.action.name == "remove_output_activation" and plan.options == {"name": "3"}


def test_a_functional_relu_is_named_but_not_removable():
    X = inputs()
    model = Ends(1, lambda z: F.relu(z).squeeze(1))
    f = mismatch(preflight(model, X, regression_targets(X).squeeze(1), loss="mse", cheap_only=True))
    assert f.where is None and f.evidence["functional"] and f.evidence["final_activation"] == "relu"
    assert isinstance(plan_output_mismatch(f, _ctx(model)), str)


def test_bounded_outputs_whose_range_holds_the_targets_stay_quiet():
    X = inputs()
    y = regression_targets(X)
    binary = (X[:, :1] > 0).float()
    quiet = [(net(1, nn.ReLU()), y.abs(), "mse"),                         # non-negative counts
             (net(1, nn.Tanh()), y.clamp(-1, 1) * 0.9, "mse"),            # targets in [-1, 1]
             (net(1, nn.Softplus()), y.exp(), "l1"),                      # positive targets
             (net(1, nn.Sigmoid()), binary, F.binary_cross_entropy),      # sigmoid + BCE on 0/1 targets
             (net(1), y, "mse")]                                          # a linear output
    for model, targets, loss in quiet:
        assert [f for f in alarms(preflight(model, X, targets, loss=loss, cheap_only=True))
                if f.code == "loss_output_mismatch"] == [], model


def test_a_functional_relu_on_logits_is_a_graded_warning_with_the_clipped_share():
    X = inputs()
    f = mismatch(preflight(Ends(3, F.relu), X, class_ids(X), loss="cross_entropy", cheap_only=True))
    assert f.severity == "warning" and 0.1 < f.evidence["clipped_share"] < 0.9 and f.where is None
    assert mismatch(preflight(net(3, nn.ReLU()), X, class_ids(X), cheap_only=True)).where == "3"


def test_a_functional_sigmoid_on_logits_is_the_error_a_sigmoid_module_is():
    """``torch.sigmoid(z)`` returned by the forward hands cross-entropy probabilities, as nn.Sigmoid does:
    the same error, named by its function, with no module to remove; tanh in the forward stays quiet
    (the module's clipped-logits warning is not extended to it)."""
    X = inputs()
    f = mismatch(preflight(Ends(3, torch.sigmoid), X, class_ids(X), loss="cross_entropy", cheap_only=True))
    assert f.severity == "error" and f.where is None and f.evidence["last_module"] == "sigmoid"
    assert "second squashing" in f.message and f.fix == "remove the final sigmoid and return logits"
    module = mismatch(preflight(net(3, nn.Sigmoid()), X, class_ids(X), loss="cross_entropy", cheap_only=True))
    assert module.severity == "error" and module.where == "3"
    for fn in (torch.tanh, lambda z: z):
        assert [g for g in alarms(preflight(Ends(3, fn), X, class_ids(X), loss="cross_entropy", cheap_only=True))
                if g.code == "loss_output_mismatch"] == []


def test_the_range_error_ranks_before_the_unit_statistics_it_explains():
    d = Diagnosis([make("dead_units", "half dead", where="1"),
                   make("loss_output_mismatch", "relu last", evidence={"final_activation": "relu"})])
    assert d.primary.code == "loss_output_mismatch"


def test_repair_removes_a_final_relu_on_a_regression():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(600, 8, generator=g)
    y = regression_targets(X) + 0.1 * torch.randn(600, 1, generator=g)
    splits = Splits((X[:400], y[:400]), val=(X[400:500], y[400:500]), test=(X[500:], y[500:]), input_shape=(8,))
    run = trainwell.fit(net(1, nn.ReLU()), splits, babysit="repair", loss="mse", **FAST)
    first = run.repairs[0]
    assert (first["step"], first["code"], first["action"]) == (0, "loss_output_mismatch", "remove_output_activation")
    assert isinstance(run.model[-1], nn.Identity)
    assert bool((run.predict(X[:64], output="raw") < 0).any())      # the outputs reach the negative targets


def test_final_op_leaves_the_random_state_as_it_found_it():
    model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.5), nn.Linear(16, 1), nn.Sigmoid())
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    assert orange.final_op(model, inputs(32)) == ("sigmoid", (0.0, 1.0))
    assert torch.equal(torch.rand(3), expected)


# ------------------------------------------------------------------------------ check_loss_optimum
class Rate(nn.Module):
    """A Poisson rate head: softplus of a linear layer, as a user writes a positive output."""

    def __init__(self, seed=0):
        super().__init__()
        self.body = net(1, seed=seed)

    def forward(self, x):
        return F.softplus(self.body(x)).squeeze(-1)


def counts(X, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.poisson(torch.exp(0.8 * X[:, 0] + 1.0), generator=g)


def test_poisson_log_input_on_a_rate_head_is_a_loss_output_mismatch():
    X = inputs()
    y = counts(X)
    found = preflight(Rate(), X, y, loss=nn.PoissonNLLLoss(), cheap_only=True)
    hits = [f for f in found if f.code == "loss_output_mismatch"]
    assert len(hits) == 1 and hits[0].severity == "error" and hits[0].evidence["misread"] >= orange.MISREAD
    assert hits[0].evidence["loss_options"]["log_input"] is True and "log_input=False" in hits[0].fix
    assert alarms(preflight(Rate(), X, y, loss=nn.PoissonNLLLoss(log_input=False), cheap_only=True)) == []


def test_the_misread_share_matches_the_analytic_optimum():
    """PoissonNLLLoss(log_input=True) is lowest at z = log y; inside [0, inf) at max(log y, 0)
    (exp(z) - y z is convex in z). The fitted outputs' distance from y matches that closed form."""
    X = inputs(256)
    y = counts(X, seed=3)
    model = Rate()
    with torch.no_grad():
        out = model(X)
    found = orange.loss_optimum_gap(("softplus", (0.0, math.inf)), out, y, nn.PoissonNLLLoss())
    t = y.double()
    best = torch.log(t.clamp(min=1e-300)).clamp(min=0)
    exact = float(((best - t) ** 2).mean() / t.var())
    assert abs(found["misread"] - exact) < 0.01 * exact
    # the loss exp(z) - y z is y - y log y at its best, 0 at z = -inf for y = 0 (1 at z = 0, the best
    # inside the range), and ybar - ybar log ybar at the best constant z = log ybar
    rate = t.mean()
    free = torch.where(t > 0, t - t * torch.log(t.clamp(min=1e-300)), torch.zeros_like(t)).mean()
    gap = float((t == 0).double().mean() / (rate - rate * torch.log(rate) - free))
    assert abs(found["gap"] - gap) < 0.01 * gap


def test_losses_at_their_best_on_the_targets_stay_quiet(monkeypatch):
    """check_loss_optimum reads ``found``, the gap measured just before on the same arguments, instead
    of fitting the outputs again: ``loss_optimum_gap`` is deterministic (the same dict twice, to the
    last digit, for each of these four losses)."""
    X = inputs()
    unit = torch.sigmoid(X[:, :1] - X[:, 1:2])                     # targets in (0, 1)
    positive = X[:, :1].abs() + 0.5
    for model, y, loss in [(net(1, nn.Sigmoid()), unit, nn.MSELoss()), (net(1, nn.Sigmoid()), unit, nn.BCELoss()),
                           (net(1, nn.ReLU()), positive, nn.L1Loss()), (net(1, nn.Softplus()), positive,
                                                                        nn.HuberLoss())]:
        with torch.no_grad():
            out = model(X)
        final = orange.final_op(model, X)
        found = orange.loss_optimum_gap(final, out, y, loss)
        assert found["misread"] < 0.01, (loss, found)
        with monkeypatch.context() as m:
            m.setattr(orange, "loss_optimum_gap", lambda *a: found)
            assert orange.check_loss_optimum(final, out, y, loss, last=("2", model[-1])) == []


def test_a_loss_lowest_outside_the_range_is_named_by_its_gap():
    """A user's loss whose best output is y - 3 (a shifted target in the loss), after a ReLU: the
    range [0, inf) holds the targets but not the loss's optimum."""
    X = inputs()
    y = X[:, :1].abs()
    model = net(1, nn.ReLU())

    def shifted(out, t):
        return F.mse_loss(out, t - 3.0)

    with torch.no_grad():
        out = model(X)
    final = orange.final_op(model, X)
    found = orange.check_loss_optimum(final, out, y, shifted, last=("3", model[-1]))
    assert len(found) == 1 and found[0].evidence["gap"] >= orange.OPTIMUM_GAP and found[0].where == "3"


# ------------------------------------------------------------------ a loss that is NaN at the targets
def user_bce(clamp):
    """A user's binary cross-entropy on a sigmoid's probabilities, with or without a clamp."""
    def bce(p, y):
        y = y.float()
        p = p.clamp(1e-7, 1 - 1e-7) if clamp else p
        return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
    return bce


def user_ovr_on_probabilities(clamp):
    """A user's one-vs-rest cross-entropy on a softmax's probability rows (log(1 - p) of every class)."""
    def ovr(p, y):
        p = p.clamp(1e-7, 1 - 1e-7) if clamp else p
        onehot = F.one_hot(y, p.shape[1])
        return -(onehot * torch.log(p) + (1 - onehot) * torch.log(1 - p)).sum(dim=1).mean()
    return ovr


def nonfinite(findings):
    return [f for f in findings if f.code == "nonfinite_loss"]


def test_float32_reaches_the_targets_where_an_unclamped_bce_is_nan():
    """The premise: a float32 sigmoid is exactly 1 at a logit of 17 (and a softmax row's target
    probability at logits 20 apart), where 0 * log(0) makes the unclamped loss NaN and the clamped
    one finite; a sigmoid's 0 is met only past -103, softplus' 0 likewise: not within REACH."""
    assert torch.sigmoid(torch.tensor(17.0)).item() == 1.0 and torch.sigmoid(torch.tensor(-orange.REACH)).item() > 0
    assert F.softplus(torch.tensor(-orange.REACH)).item() > 0 and torch.tanh(torch.tensor(orange.REACH)).item() == 1.0
    p, y = torch.sigmoid(torch.tensor([17.0, -orange.REACH])), torch.tensor([1, 0])
    assert math.isnan(float(user_bce(False)(p, y))) and math.isfinite(float(user_bce(True)(p, y)))
    rows = torch.softmax(torch.tensor([[0.0, orange.REACH, 0.0]]), dim=1)
    assert rows[0, 1].item() == 1.0
    assert math.isnan(float(user_ovr_on_probabilities(False)(rows, torch.tensor([1]))))


def test_perfect_outputs_stop_where_a_confident_model_stops():
    out = torch.full((4, 1), 0.5)
    ids = torch.tensor([0, 1, 1, 0])
    sig = orange.perfect_outputs(("sigmoid", (0.0, 1.0)), out, ids, probability_rows=False).reshape(-1)
    assert sig[1].item() == 1.0 and 0 < sig[0].item() < 1e-8               # 1 is met, 0 only far beyond
    relu = orange.perfect_outputs(("relu", (0.0, math.inf)), out, torch.tensor([0.0, 2.0, 3.0, 0.0]),
                                  probability_rows=False).reshape(-1)
    assert relu.tolist() == [0.0, 2.0, 3.0, 0.0]                           # a ReLU is 0 for every z <= 0
    soft = orange.perfect_outputs(("softplus", (0.0, math.inf)), out, torch.tensor([0.0, 2.0, 3.0, 0.0]),
                                  probability_rows=False).reshape(-1)
    assert soft[0].item() > 0 and soft[1].item() == 2.0
    assert orange.perfect_outputs(("sigmoid", (0.0, 1.0)), out, torch.tensor([0, 1, 2, 0]),
                                  probability_rows=False) is None          # a target the range misses


def test_a_loss_nan_at_the_targets_is_a_nonfinite_loss_before_training():
    X = inputs()
    binary = (X[:, 0] > 0).long()
    for model, targets, loss in [(Ends(1, lambda z: torch.sigmoid(z).squeeze(-1)), binary, user_bce(False)),
                                 (net(3, nn.Softmax(dim=1)), class_ids(X), user_ovr_on_probabilities(False))]:
        found = nonfinite(preflight(model, X, targets, loss=loss, cheap_only=True))
        assert len(found) == 1 and found[0].severity == "error", loss
        f = found[0]
        assert math.isnan(f.evidence["loss_at_targets"]) and math.isfinite(f.evidence["initial_loss"])
        assert "clamp" in f.fix
        # the loss's fault, not the lr's: the repairer does not lower the lr for it
        assert isinstance(plan_diverged(f, _ctx()), str)


def test_losses_finite_at_the_targets_stay_quiet():
    X = inputs()
    binary = (X[:, 0] > 0).long()
    y = regression_targets(X)
    quiet = [(Ends(1, lambda z: torch.sigmoid(z).squeeze(-1)), binary, user_bce(True)),       # clamped
             (Ends(1, lambda z: torch.sigmoid(z).squeeze(-1)), binary.float(), nn.BCELoss()),  # logs clamped at -100
             (net(3, nn.Softmax(dim=1)), class_ids(X), user_ovr_on_probabilities(True)),
             (net(3, nn.Softmax(dim=1)), class_ids(X), lambda p, t: -(F.one_hot(t, 3) * torch.log(p)).sum(1).mean()),
             (net(1, nn.Softplus()), torch.poisson(torch.ones(400, 1)),      # a Poisson NLL, zero counts
              lambda r, t: (r - t * torch.log(r)).mean()),
             (net(3, nn.Softmax(dim=1)), class_ids(X), neg_log_p),                            # log(p + 1e-8)
             (net(1, nn.Sigmoid()), torch.sigmoid(y), "mse")]                                 # a bounded regression
    for model, targets, loss in quiet:
        found = preflight(model, X, targets, loss=loss, cheap_only=True)
        wrong = [f for f in alarms(found) if f.code in ("nonfinite_loss", "bad_initial_loss", "loss_output_mismatch")]
        assert wrong == [], (loss, [(f.code, f.message) for f in wrong])


def test_the_uniform_guess_of_a_user_loss_on_sigmoid_outputs_is_one_half():
    """A user's BCE on a sigmoid's probabilities starts at its 0.5 guess (ln 2): no bad_initial_loss
    (the all-zero guess made the clamped loss's reference 16.1 x the share of positives)."""
    X = inputs()
    binary = (X[:, 0] > 0).long()
    found = preflight(Ends(1, lambda z: torch.sigmoid(z).squeeze(-1)), X, binary, loss=user_bce(True),
                      cheap_only=True)
    assert "bad_initial_loss" not in {f.code for f in found}


def test_clamp_bounds_read_the_call_s_own_numbers():
    assert orange.clamp_bounds("clamp", (None,), {"min": 0}) == (0.0, math.inf)
    assert orange.clamp_bounds("clip", (None, -1.5, 2), {}) == (-1.5, 2.0)
    assert orange.clamp_bounds("clamp_max", (None, 3), {}) == (-math.inf, 3.0)
    assert orange.clamp_bounds("clamp", (None,), {"min": torch.zeros(1)}) is None     # an elementwise bound
    assert orange.clamp_bounds("clamp", (None,), {}) is None


def test_final_op_names_a_clamp_by_its_arguments_through_reshapes():
    X = inputs(16)
    assert orange.final_op(Ends(1, lambda z: z.clamp(min=0).squeeze(1)), X) == ("clamp", (0.0, math.inf))
    assert orange.final_op(Ends(1, lambda z: torch.clamp(z, -2.0, 2.0)), X) == ("clamp", (-2.0, 2.0))
    assert orange.final_op(Ends(1, lambda z: z.clamp_min(1.0)), X) == ("clamp_min", (1.0, math.inf))
    assert orange.final_op(Ends(1, lambda z: z.clamp(min=0) - 1.0), X) is None      # shifted after the clamp


def test_a_clamped_regression_output_is_a_mismatch_where_the_targets_pass_its_bound():
    """A clamp at 0 on N(0, 1) targets leaves E[y^2; y < 0] = 1/2 unexplained, as a ReLU; a clamp at
    the targets' own range (non-negative targets, or -4..4 on N(0, 1)) is quiet."""
    X = inputs()
    y = regression_targets(X).squeeze(1)
    f = mismatch(preflight(Ends(1, lambda z: z.squeeze(1).clamp(min=0)), X, y, loss="mse", cheap_only=True))
    assert f.severity == "error" and f.evidence["final_activation"] == "clamp" and f.where is None
    assert 0.4 < f.evidence["unreachable_variance"] < 0.6
    for model, targets in ((Ends(1, lambda z: z.squeeze(1).clamp(min=0)), y.abs()),
                           (Ends(1, lambda z: z.squeeze(1).clamp(-10.0, 10.0)), y)):
        assert [g for g in alarms(preflight(model, X, targets, loss="mse", cheap_only=True))
                if g.code == "loss_output_mismatch"] == []
