"""``trainwell.doctor`` builds the optimizer as ``fit`` does, from the run's options and the module:
``lr_mults``, ``freeze``, ``optimizer_options`` and the SAM family reach both the pre-flight probes
and the probe training, in Python and through ``trainwell doctor`` on a TOML config."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.babysit import probe_steps, regularization_check
from babysit_loop import OPTIMIZER_OPTION_CONFIGS, digits, mlp
from trainwell.cli import main
from trainwell.optim import SAM
from trainwell.train.callbacks import Callback

X, Y, _, _ = digits()


def codes(diagnosis):
    return {f.code for f in diagnosis.findings}


def bn_mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10))


class Spy(Callback):
    """Keeps the probe training's model and optimizer."""

    def on_fit_start(self, state):
        self.model, self.optimizer = state.model, state.optimizer


@pytest.fixture
def built(monkeypatch):
    """Every optimizer the pre-flight probes build, with the module they were given."""
    seen = []
    real = probe_steps.build_optimizer

    def spy(spec, model, **options):
        opt = real(spec, model, **options)
        seen.append((model, opt))
        return opt

    for module in (probe_steps, regularization_check):    # the probes' builds and the regularization check's
        monkeypatch.setattr(module, "build_optimizer", spy)
    return seen


def test_lr_mults_reach_the_preflight_probes():
    """With every layer at lr_mult 0 the overfit probe cannot move, and pre-flight says so."""
    frozen_lr = {"0": 0.0, "2": 0.0, "4": 0.0}
    assert "lr_too_low" in codes(trainwell.doctor(mlp(), (X, Y), lr_mults=frozen_lr, probe=False))
    assert "lr_too_low" not in codes(trainwell.doctor(mlp(), (X, Y), probe=False, wall_s=None))


def test_probes_and_probe_training_use_the_runs_optimizer_options(built):
    spy = Spy()
    model = bn_mlp()
    with torch.no_grad():   # "3" off its initial draw (a learnt layer): its freeze is the run's decision, no
        model[3].weight.mul_(3.0)   # unfreeze arm (fresh_weights) builds an optimizer that trains it
    trainwell.doctor(model, (X, Y), optimizer="sam", nesterov=False, lr_mults={"0": 0.1}, freeze=["3"],
                     optimizer_options={"rho": 0.2, "dampening": 0.1}, callbacks=[spy], epochs=1, budget_s=60)
    for model, opt in [*built, (spy.model, spy.optimizer)]:
        if opt.param_groups[0].get("betas"):             # the overfit check's reference Adam
            continue
        if opt.param_groups[0].get("dampening") == 0.0:  # the experiment's "optimizer defaults" arm: the
            continue                                      # run's dampening 0.1 is away from SGD's 0
        assert isinstance(model, nn.Module) and isinstance(opt, SAM) and opt.rho == 0.2
        assert opt.model is model                         # batch-norm statistics are protected
        names = {n: g for g in opt.param_groups for n in g["param_names"]}
        assert {n: g["lr_mult"] for n, g in names.items()} == {
            "0.weight": 0.1, "0.bias": 0.1, "1.weight": 1.0, "1.bias": 1.0}   # "3" is frozen
        assert all(g["dampening"] == 0.1 for g in opt.param_groups)
    assert len(built) >= 2                                # the regularization and the overfit probes


SMALL = """
epochs = 2
batch_size = 64
progress = false
[data]
source = "digits"
[model]
type = "mlp"
widths = [16]
norm = "batch"
"""


@pytest.mark.parametrize("options", list(OPTIMIZER_OPTION_CONFIGS.values()), ids=list(OPTIMIZER_OPTION_CONFIGS))
def test_doctor_command_takes_the_optimizer_options(tmp_path, monkeypatch, capsys, options):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "c.toml"
    config.write_text(options + "\n" + SMALL)
    status = main(["doctor", str(config), "--budget", "20"])
    out = capsys.readouterr()
    assert status == 0, out.out + out.err
    if options.startswith("freeze"):   # a layer frozen at its initial draw: the unfreeze arm runs and reads it
        assert "frozen_parameters" in out.out and "0 errors, 1 warning" in out.out, out.out
    else:
        assert "no problems found" in out.out


def test_a_softmax_module_before_cross_entropy_is_graded_not_blocking():
    """The mark ``graded`` lets the experiment run on a softmax module before cross-entropy (a data
    or wiring error blocks it): the finding carries the removal's outcome, an error where it hurts
    and info where it does not. A softmax in ``forward`` is graded by training on the log of its
    probability rows (``interventions._remove_final_activation``)."""
    net = nn.Sequential(mlp(), nn.Softmax(dim=1))
    # no time backstop: on a loaded machine it cuts the experiment that grades the finding
    found = trainwell.doctor(net, (X, Y), lr=0.05, epochs=2, probe=False,
                             wall_s=None).filter(code="loss_output_mismatch").findings
    assert len(found) == 1 and found[0].evidence["harm"]["fix"] == "remove output activation"
    assert found[0].severity == ("error" if found[0].evidence["harm"]["hurts"] else "info")

    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = mlp()

        def forward(self, x):
            return torch.softmax(self.body(x), dim=1)
    diagnosis = trainwell.doctor(Functional(), (X, Y), lr=0.05, epochs=2, probe=False, wall_s=None)
    found = diagnosis.filter(code="loss_output_mismatch").findings
    assert len(found) == 1 and found[0].evidence["harm"]["fix"] == "remove output activation"
    assert found[0].severity == ("error" if found[0].evidence["harm"]["hurts"] else "info")


def test_the_log_of_a_functional_softmax_trains_as_cross_entropy_on_its_logits():
    """The arm for a softmax in ``forward``: cross-entropy on the log of the probability rows has
    the loss and the gradient of cross-entropy on the logits the softmax received (reference: the
    same model without the softmax); a row whose probability underflowed to 0 stays finite."""
    from trainwell.babysit.interventions import _remove_final_activation

    class Functional(nn.Module):
        def __init__(self, softmax):
            super().__init__()
            self.body, self.softmax = mlp(), softmax

        def forward(self, x):
            z = self.body(x)
            return torch.softmax(z, dim=1) if self.softmax else z
    torch.manual_seed(0)
    arm, reference = Functional(True), Functional(False)
    reference.load_state_dict(arm.state_dict())
    _remove_final_activation(arm, seed=0)
    losses = [F.cross_entropy(net(X[:64]), Y[:64]) for net in (arm, reference)]
    grads = [torch.autograd.grad(loss, list(net.parameters())) for loss, net in zip(losses, (arm, reference))]
    assert torch.allclose(losses[0], losses[1], atol=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(*grads))
    with torch.no_grad():
        arm.body[-1].bias[0] = -1e4                 # class 0's probability underflows to 0
    assert torch.isfinite(arm(X[:8])).all()


@pytest.mark.parametrize("labels", [lambda y: 2 * y - 1, lambda y: y + 10_000])
def test_labels_that_are_not_class_ids_are_a_finding_not_an_exception(labels):
    """fit refuses labels -1 / +1 (or ids beyond the sample count) with a DataError; the doctor
    names the same fault as ``label_problem`` with that message (issue 11: bad labels give a finding)."""
    torch.manual_seed(0)
    X, y = torch.randn(200, 4), torch.randint(0, 2, (200,))
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    with pytest.raises(trainwell.DataError):
        trainwell.fit(model, (X, labels(y)), epochs=1, progress=False, report=False, run_dir=None)
    diag = trainwell.doctor(model, (X, labels(y)), progress=False, report=False, run_dir=None)
    assert [f.code for f in diag.findings] == ["label_problem"]
    assert diag.primary.severity == "error" and "row" in diag.primary.message


@pytest.mark.parametrize("split", ["val", "test"])
def test_nan_or_inf_in_a_validation_or_test_split_is_a_finding_of_the_doctor_and_an_error_of_fit(split):
    """fit refuses a split with NaN/inf (a DataError naming the split, row and column); the doctor
    names the same fault as ``nonfinite_data`` instead of raising."""
    X = torch.randn(300, 4, generator=torch.Generator().manual_seed(0))
    y = X[:, :1] * 2
    held = y[200:].clone()
    held[5, 0] = float("-inf")                      # log(0) of a raw target, say
    data = {split: (X[200:], held)}
    found = trainwell.doctor(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)), (X[:200], y[:200]),
                             loss="mse", device="cpu", **data)
    assert [(f.code, f.severity) for f in found] == [("nonfinite_data", "error")]
    assert found.findings[0].message.startswith(f"{split}: y row 5, column 0 is -inf")
    with pytest.raises(trainwell.errors.DataError, match=f"{split}: y row 5, column 0 is -inf"):
        trainwell.fit(nn.Sequential(nn.Linear(4, 1)), (X[:200], y[:200]), loss="mse", device="cpu", epochs=1,
                      progress=False, report=False, **data)


def test_a_factory_that_closes_over_the_model_trains_the_doctors_copy_with_its_groups():
    """``lambda params: Adam(model.head.parameters())`` ignores the parameters it is called with: on
    the doctor's copy it is rebuilt over the copy's, the same groups by place; a factory that uses
    its parameters is left as it is."""
    from trainwell.babysit.doctor import on_copies
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    head_only = on_copies(lambda params: torch.optim.Adam([{"params": model[2].parameters(), "lr": 3e-3}],
                                                          eps=1e-7), list(model.parameters()))
    twin = __import__("copy").deepcopy(model)
    opt = head_only(twin.parameters())
    held = [p for g in opt.param_groups for p in g["params"]]
    assert [id(p) for p in held] == [id(twin[2].weight), id(twin[2].bias)]
    assert opt.param_groups[0]["lr"] == 3e-3 and opt.defaults["eps"] == 1e-7 and isinstance(opt, torch.optim.Adam)
    own = on_copies(lambda params: torch.optim.SGD(params, lr=0.1), list(model.parameters()))
    assert {id(p) for p in own(twin.parameters()).param_groups[0]["params"]} == {id(p) for p in twin.parameters()}


def test_trainwells_default_weight_decay_is_not_read_into_a_users_optimizer():
    """A user-built optimizer keeps its own settings, so the default weight decay it never sees is
    no regularization_not_effective; one the user gave alongside it is."""
    x, y, _, _ = digits()
    model = mlp()
    factory = lambda params: torch.optim.Adam(params, lr=1e-3)      # noqa: E731 (a user's one-liner)
    d = trainwell.doctor(model, (x, y), optimizer=factory, epochs=1, budget_s=5, probe=False, wall_s=None)
    assert "regularization_not_effective" not in d.codes
    given = trainwell.doctor(model, (x, y), optimizer=factory, weight_decay=1e-3, epochs=1, budget_s=5, probe=False)
    assert "regularization_not_effective" in given.codes


def test_dropout_modules_of_p_zero_are_no_dropout_to_check():
    """nn.TransformerEncoderLayer(dropout=0.0) holds nn.Dropout(p=0.0) modules: no dropout is
    configured, so two training-mode forwards that agree are no regularization_not_effective."""
    torch.manual_seed(0)
    x, y = torch.randn(256, 8), torch.randint(0, 3, (256,))
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.0), nn.Linear(32, 3))
    d = trainwell.doctor(model, (x, y), optimizer="adam", lr=1e-3, epochs=1, budget_s=5, probe=False, wall_s=None)
    assert "regularization_not_effective" not in d.codes


@pytest.mark.parametrize("options, target, expected", [
    ({"loss": "huber", "huber_delta": 5.0}, torch.tensor([[3.0]]), 4.5),             # 0.5 * 3^2 (delta 1: 2.5)
    ({"loss": "cross_entropy", "label_smoothing": 0.5}, torch.tensor([0]), None)])
def test_the_doctors_checks_and_the_preflight_judge_the_loss_the_run_trains(monkeypatch, options, target, expected):
    """A named loss's options (Huber delta, label smoothing, hinge margin) reach every check: the doctor
    and its pre-flight were handed the default loss while fit trained with the options."""
    from trainwell.babysit import doctor as doctor_module, preflight as preflight_module
    from trainwell.nn.losses import make_loss
    seen = []
    reaches = doctor_module.check_gradient_reaches
    monkeypatch.setattr(doctor_module, "check_gradient_reaches",
                        lambda model, X, y, loss_fn, **kw: seen.append(loss_fn) or reaches(model, X, y, loss_fn, **kw))
    monkeypatch.setattr(preflight_module, "check_model_runs",
                        lambda model, xb, yb, loss_fn, **kw: seen.append(loss_fn) or [])
    regression = options["loss"] == "huber"
    X = torch.randn(64, 4)
    y = X[:, :1] if regression else (X[:, 0] > 0).long()
    trainwell.doctor(nn.Linear(4, 1 if regression else 2), (X, y), **options, epochs=1, budget_s=2, device="cpu")
    assert len(seen) == 2
    out = torch.zeros(1, 1) if regression else torch.tensor([[4.0, 0.0]])
    named = make_loss(options["loss"], **{k: v for k, v in options.items() if k != "loss"})
    want = expected if expected is not None else named(out, target).item()
    assert want != pytest.approx(make_loss(options["loss"])(out, target).item())     # the options matter here
    for loss_fn in seen:
        assert loss_fn(out, target).item() == pytest.approx(want)
