"""own_decay: the shrink an optimizer the user built applies in its own step, measured as written (not as
trainwell rebuilds it), and graded by its weight_decay / 100 only where it is over a healthy update's share."""
import pytest
import torch
from sklearn.datasets import make_classification
from torch import nn

from trainwell import doctor
from trainwell.babysit import interventions, own_decay
from trainwell.babysit.doctor import written_optimizer
from trainwell.optim.factory import build_optimizer
from trainwell.nn.losses import make_loss

LOSS = make_loss("cross_entropy")


class HandAdamW(torch.optim.Optimizer):
    """Adam, then the decay ``p *= 1 - lr * wd`` (Loshchilov & Hutter 2019, torch's AdamW) or, with
    ``times_lr=False``, ``p *= 1 - wd`` (the lr left out); ``fixed`` decays by that rate whatever the
    groups say (a decay in the step's code, no setting)."""

    def __init__(self, params, lr=1e-3, weight_decay=0.0, *, times_lr=True, fixed=None):
        defaults = {"lr": lr, "times_lr": times_lr, "fixed": fixed}
        if fixed is None:
            defaults["weight_decay"] = weight_decay
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["t"] += 1
                t = state["t"]
                state["m"].mul_(0.9).add_(p.grad, alpha=0.1)
                state["v"].mul_(0.999).addcmul_(p.grad, p.grad, value=0.001)
                p.sub_(group["lr"] * (state["m"] / (1 - 0.9 ** t)) / ((state["v"] / (1 - 0.999 ** t)).sqrt() + 1e-8))
                rate = group["fixed"] if group["fixed"] is not None else group["weight_decay"]
                p.mul_(1 - (group["lr"] * rate if group["times_lr"] and group["fixed"] is None else rate))


def _factory(model, opt):
    return written_optimizer(opt, list(model.parameters()))


@pytest.mark.parametrize("make_opt, expected", [
    (lambda ps: HandAdamW(ps, lr=1e-3, weight_decay=0.01, times_lr=False), 0.01),
    (lambda ps: HandAdamW(ps, lr=1e-3, weight_decay=0.01), 1e-5),
    (lambda ps: torch.optim.AdamW(ps, lr=1e-3, weight_decay=0.01), 1e-5),
    (lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=5e-4), 0.1 * 5e-4),   # coupled = decay for SGD
    (lambda ps: torch.optim.Adam(ps, lr=1e-3), 0.0),
])
def test_the_shrink_from_zero_gradients_is_the_decay_the_step_applies(four_class_mlp, make_opt, expected):
    model = four_class_mlp()
    m = own_decay.own_shrink(model, _factory(model, make_opt(model.parameters())))
    # float32 weights: the norm's rounding is ~1e-7 of it, far under the check's 1e-3
    assert m["shrink"] == pytest.approx(expected, rel=1e-3, abs=1e-6)


def test_trainwell_rebuilds_the_instance_with_its_own_decay_not_the_users(four_class_mlp):
    # why the check exists: the doctor's other copies decay by lr x wd, whatever the user's step does
    model = four_class_mlp()
    opt = HandAdamW(model.parameters(), lr=1e-3, weight_decay=0.01, times_lr=False)
    rebuilt = own_decay.own_shrink(model, lambda ps: build_optimizer(opt, ps, lr=1e-3))
    assert rebuilt["shrink"] == pytest.approx(1e-5, abs=1e-6)
    assert own_decay.own_shrink(model, _factory(model, opt))["shrink"] == pytest.approx(0.01, rel=1e-3)


def test_the_equilibrium_balances_the_shrink_against_the_gradients_update(four_class, four_class_mlp):
    X, y = four_class
    model = four_class_mlp()
    m = own_decay.own_shrink(model, _factory(model, HandAdamW(model.parameters(), weight_decay=0.01, times_lr=False)),
                             X[:32], y[:32], LOSS)
    # Adam's first step moves every entry by lr (m_hat / sqrt(v_hat) = +-1), then the decay scales it by 1 - wd:
    # ||u|| = lr sqrt(entries) (1 - wd) of the weights
    entries = sum(p.numel() for p in model.parameters() if p.ndim >= 2)
    assert m["update"] == pytest.approx(1e-3 * entries ** 0.5 * (1 - 0.01) / m["norm"], rel=1e-4)
    assert m["equilibrium"] == pytest.approx(m["update"] / (2 * 0.01 - 0.01 ** 2) ** 0.5, rel=1e-3)


def test_a_healthy_decay_runs_no_experiment(four_class, four_class_mlp, monkeypatch):
    monkeypatch.setattr(own_decay.interventions, "experiment", lambda *a, **k: pytest.fail("ran"))
    X, y = four_class
    for make_opt in (lambda ps: torch.optim.AdamW(ps, lr=1e-3, weight_decay=0.1),
                     lambda ps: HandAdamW(ps, lr=1e-3, weight_decay=0.01)):
        model = four_class_mlp()
        assert own_decay.check_own_decay(model, X, y, LOSS, optimizer=_factory(model, make_opt(model.parameters())),
                                         lr=1e-3, batch_size=32, run_steps=600) == []


def test_the_decay_without_the_lr_is_found_and_named_by_its_arm(four_class, four_class_mlp):
    X, y = four_class
    model = four_class_mlp()
    before = [p.detach().clone() for p in model.parameters()]
    opt = HandAdamW(model.parameters(), lr=1e-3, weight_decay=0.01, times_lr=False)
    found = own_decay.check_own_decay(model, X, y, LOSS, optimizer=_factory(model, opt), lr=1e-3, batch_size=32,
                                      run_steps=600)
    assert [(f.code, f.severity) for f in found] == [("regularization_too_strong", "warning")]
    f = found[0]
    assert f.evidence["intervention"] == own_decay.ARM == "weight_decay / 100"     # the repair's plan reads it
    assert f.evidence["own_shrink"] == pytest.approx(0.01, rel=1e-3)
    assert f.evidence["longer"]["fix_acc"] > f.evidence["longer"]["setup_acc"]
    assert "1% a step" in f.message and "weight_decay 0.0001 instead of 0.01" in f.message
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))     # the user's model is not touched
    assert not opt.state                                                           # nor the user's optimizer


def test_a_decay_written_into_the_step_with_no_setting_is_info(four_class, four_class_mlp, monkeypatch):
    monkeypatch.setattr(own_decay.interventions, "experiment", lambda *a, **k: pytest.fail("ran"))
    X, y = four_class
    model = four_class_mlp()
    opt = HandAdamW(model.parameters(), lr=1e-3, fixed=0.01)
    found = own_decay.check_own_decay(model, X, y, LOSS, optimizer=_factory(model, opt), lr=1e-3, batch_size=32)
    assert [(f.code, f.severity) for f in found] == [("regularization_too_strong", "info")]
    assert "no weight_decay to lower" in found[0].message


def test_an_optimizer_over_another_models_parameters_is_not_stepped(four_class, four_class_mlp):
    X, y = four_class
    model, other = four_class_mlp(), four_class_mlp()
    opt = HandAdamW(other.parameters(), lr=1e-3, weight_decay=0.01, times_lr=False)
    before = [p.detach().clone() for p in other.parameters()]
    assert own_decay.check_own_decay(model, X, y, LOSS, optimizer=_factory(model, opt), lr=1e-3) == []
    assert all(torch.equal(a, b) for a, b in zip(before, other.parameters()))


def test_doctor_finds_the_users_decay_without_the_lr():
    # 5 % of every weight a step (the lr left out of a decay of 0.05): the run ends at 22 % held accuracy,
    # 65 % with lr x wd (fit, 20 epochs); the doctor's own copies rebuild the optimizer with lr x wd
    X, y = make_classification(n_samples=2000, n_features=10, n_informative=6, n_classes=4, random_state=0)
    X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    found = {}
    for times_lr in (True, False):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 4))
        opt = HandAdamW(model.parameters(), lr=1e-3, weight_decay=0.05, times_lr=times_lr)
        diag = doctor(model, (X[:1500], y[:1500]), (X[1500:], y[1500:]), optimizer=opt, batch_size=32, epochs=20,
                      budget_s=30)
        found[times_lr] = [(f.code, f.severity, f.evidence.get("intervention")) for f in diag.findings
                           if f.code == "regularization_too_strong"]
    assert found == {True: [], False: [("regularization_too_strong", "warning", "weight_decay / 100")]}
