"""Parameter groups, decoupled weight decay for every optimizer, options and their errors."""
import copy

import pytest
import torch
from torch import nn

from trainwell.errors import ConfigError
from trainwell.optim.decay import DECOUPLED_KEY
from trainwell.optim.factory import build_optimizer
from trainwell.optim.groups import param_groups
from trainwell.optim.registry import OPTIMIZERS


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 8))
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(8, 3)
        self.scale = nn.Parameter(torch.ones(3, 3))

    def forward(self, x):
        return self.head(self.norm(self.body(x))) @ self.scale


def _names(groups, **match):
    return sorted(n for g in groups if all(g[k] == v for k, v in match.items()) for n in g["param_names"])


# ------------------------------------------------------------------------------ groups
def test_no_decay_for_biases_norm_parameters_and_ndim_le_1():
    groups = param_groups(Net(), weight_decay=0.1)
    assert _names(groups, weight_decay=0.1) == ["body.0.weight", "body.3.weight", "head.weight", "scale"]
    assert _names(groups, weight_decay=0.0) == ["body.0.bias", "body.1.bias", "body.1.weight",
                                                "body.3.bias", "head.bias", "norm.bias", "norm.weight"]
    assert all(g["lr_mult"] == 1.0 for g in groups)
    everything = param_groups(Net(), weight_decay=0.1, no_decay_bias_norm=False)
    assert len(everything) == 1 and everything[0]["weight_decay"] == 0.1


def test_parameters_of_a_norm_layer_with_matrix_weights_get_no_decay():
    class MyNorm(nn.Module):                   # a custom norm: the class name says what it is
        def __init__(self):
            super().__init__()
            self.mix = nn.Parameter(torch.eye(3))

    model = nn.Sequential(nn.Linear(3, 3), MyNorm())
    assert _names(param_groups(model, weight_decay=0.1), weight_decay=0.0) == ["0.bias", "1.mix"]


def test_lr_mults_longest_prefix_wins_and_frozen_params_are_left_out():
    model = Net()
    model.head.bias.requires_grad_(False)
    groups = param_groups(model, lr_mults={"body": 0.1, "body.3": 0.5, "head": 2.0})
    assert _names(groups, lr_mult=0.1) == ["body.0.bias", "body.0.weight", "body.1.bias", "body.1.weight"]
    assert _names(groups, lr_mult=0.5) == ["body.3.bias", "body.3.weight"]
    assert _names(groups, lr_mult=2.0) == ["head.weight"]
    assert "head.bias" not in [n for g in groups for n in g["param_names"]]
    # "body.3" must not match "body.30..." style names: prefixes end at a '.'
    deep = nn.Sequential(*[nn.Linear(2, 2) for _ in range(12)])
    g = param_groups(deep, lr_mults={"1": 0.1})
    assert _names(g, lr_mult=0.1) == ["1.bias", "1.weight"]


def test_unknown_lr_mult_prefix_names_it_and_lists_top_level_modules():
    with pytest.raises(ConfigError) as e:
        param_groups(Net(), lr_mults={"haed": 0.1})
    message = str(e.value)
    assert "prefix 'haed' matches no parameter" in message and "did you mean 'head'" in message
    assert "top-level names: body, norm, head, scale" in message
    with pytest.raises(ConfigError, match=r"lr_mults\['head'\] = -1: must be a finite number >= 0"):
        param_groups(Net(), lr_mults={"head": -1})


def test_an_lr_mult_prefix_naming_a_module_without_parameters_says_so():
    # Sequential(Flatten, Linear, ...): "0" is a real name, so "did you mean '0'?" would mislead
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with pytest.raises(ConfigError) as e:
        param_groups(model, lr_mults={"0": 0.1})
    message = str(e.value)
    assert "prefix '0' matches no parameter of the model ('0' is a Flatten, which has no parameters)" in message
    assert "did you mean" not in message and "top-level names: 0, 1, 2, 3" in message


def test_groups_keep_the_base_lr_and_carry_lr_mult_for_the_trainer():
    opt = build_optimizer("sgd", Net(), lr=0.2, lr_mults={"head": 0.5})
    assert {g["lr"] for g in opt.param_groups} == {0.2}
    assert sorted({g["lr_mult"] for g in opt.param_groups}) == [0.5, 1.0]


# ------------------------------------------------------------------------------ decoupled decay
def test_sgd_weight_decay_is_decoupled_with_the_groups_current_lr():
    w = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    m = torch.tensor([[1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    opt = build_optimizer("sgd", [w, m], lr=0.1, momentum=0.9, weight_decay=0.01,
                          no_decay_bias_norm=False)
    w_ref, m_ref, buf = w.detach().clone(), m.detach().clone(), None
    for step, lr in enumerate([0.1, 0.05, 0.02]):
        for group in opt.param_groups:
            group["lr"] = lr                                    # as a schedule would
        opt.zero_grad()
        (w.square().sum() + m.sum()).backward()
        opt.step()
        g = torch.cat([2 * w_ref, torch.ones(2, dtype=torch.float64)])
        p = torch.cat([w_ref, m_ref.flatten()])
        p = p - lr * 0.01 * p                                   # w ← w − lr·λ·w (decoupled) ...
        buf = g if buf is None else 0.9 * buf + g               # ... and the gradient ignores λ
        p = p - lr * buf
        w_ref, m_ref = p[:3], p[3:].reshape(1, 2)
        torch.testing.assert_close(w.detach(), w_ref, rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(m.detach(), m_ref, rtol=1e-12, atol=1e-14)
    assert all(g["weight_decay"] == 0.0 and g[DECOUPLED_KEY] == 0.01 for g in opt.param_groups)


def test_decoupled_decay_is_the_same_with_and_without_a_closure():
    # with a closure the hook decays after the closure's backward: the gradient is still taken
    # at the undecayed weights, as in the plain step
    results = []
    for use_closure in (False, True):
        w = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
        opt = build_optimizer("sgd", [w], lr=0.1, momentum=0.5, weight_decay=0.2)

        def closure():
            opt.zero_grad()
            loss = (w ** 3).sum()
            loss.backward()
            return loss

        for _ in range(4):
            if use_closure:
                opt.step(closure)
            else:
                closure()
                opt.step()
        results.append(w.detach().clone())
    assert torch.equal(results[0], results[1])


def test_factory_adam_with_weight_decay_is_torch_adamw_per_group():
    model, ref_model = Net(), Net()
    ours = build_optimizer("adam", model, lr=1e-2, weight_decay=0.1)
    ref = torch.optim.AdamW(param_groups(ref_model, weight_decay=0.1), lr=1e-2)
    x = torch.randn(32, 4, generator=torch.Generator().manual_seed(1))
    for _ in range(10):
        for m, o in ((model, ours), (ref_model, ref)):
            o.zero_grad()
            m(x).square().mean().backward()
            o.step()
    for a, b in zip(model.parameters(), ref_model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    assert model.body[0].bias.abs().sum() > 0                              # biases trained, undecayed


@pytest.mark.parametrize("name", ["adagrad", "rmsprop", "Adamax", "NAdam"])
def test_decoupled_decay_alone_shrinks_weights_by_one_minus_lr_lambda(name):
    w = torch.ones(2, 3, requires_grad=True)
    opt = build_optimizer(name, [w], lr=0.1, weight_decay=0.2)
    w.grad = torch.zeros(2, 3)                                          # zero gradient: decay only
    opt.step()
    torch.testing.assert_close(w.detach(), torch.full((2, 3), 1 - 0.1 * 0.2))


def test_torch_class_with_native_decoupled_decay_uses_it():
    opt = build_optimizer("NAdam", Net(), lr=1e-3, weight_decay=0.1)
    assert all(g["decoupled_weight_decay"] is True for g in opt.param_groups)
    assert sorted(g["weight_decay"] for g in opt.param_groups) == [0.0, 0.1]
    assert not opt._optimizer_step_pre_hooks


# ------------------------------------------------------------------------------ options
def test_options_reach_the_optimizer():
    sgd = build_optimizer("sgd", Net(), lr=0.1, momentum=0.8, nesterov=True, dampening=0.0)
    assert sgd.param_groups[0]["momentum"] == 0.8 and sgd.param_groups[0]["nesterov"] is True
    rms = build_optimizer("rmsprop", Net(), lr=0.01, alpha=0.9, momentum=0.5, eps=1e-6, centered=True)
    g = rms.param_groups[0]
    assert (g["alpha"], g["momentum"], g["eps"], g["centered"]) == (0.9, 0.5, 1e-6, True)
    adam = build_optimizer("adam", Net(), lr=1e-3, betas=[0.8, 0.9], bias_correction=False)
    assert adam.param_groups[0]["betas"] == (0.8, 0.9) and adam.param_groups[0]["bias_correction"] is False
    lbfgs = build_optimizer("lbfgs", Net(), lr=1.0, history_size=5, momentum=0.9)   # momentum: n/a
    assert len(lbfgs.param_groups) == 1 and lbfgs.param_groups[0]["history_size"] == 5
    by_class = build_optimizer(torch.optim.Adamax, Net(), lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)
    assert isinstance(by_class, torch.optim.Adamax) and by_class.param_groups[0]["betas"] == (0.8, 0.9)
    asgd = build_optimizer("ASGD", Net(), lr=0.01, alpha=0.5, lambd=1e-3)
    assert asgd.param_groups[0]["alpha"] == 0.5 and asgd.param_groups[0]["lambd"] == 1e-3


@pytest.mark.parametrize("call, message", [
    (lambda: build_optimizer("adamm", Net(), lr=0.1),
     "optimizer = 'adamm': unknown (did you mean 'adam'?); allowed: sgd, adagrad, rmsprop, adam, adamw, lbfgs,"),
    (lambda: build_optimizer("sgd", Net(), lr=0.1, dampning=0.1),
     "optimizer = 'sgd': unknown option 'dampning' (did you mean 'dampening'?); SGD accepts: dampening, "
     "differentiable"),
    # Adam's other keywords are all top-level options: the message points there, not at "(none)"
    (lambda: build_optimizer("adam", Net(), lr=0.1, betaz=(0.9, 0.99)),
     "optimizer = 'adam': unknown option 'betaz' (did you mean 'betas'? a top-level option: set it beside "
     "optimizer, not in optimizer_options); Adam accepts no other options; top-level options it uses: "
     "betas, bias_correction, eps, lr, weight_decay"),
    (lambda: build_optimizer("sam", Net(), lr=0.1, rhoo=0.1),
     "optimizer = 'sam': unknown option 'rhoo' (did you mean 'rho'?); sam with base SGD accepts: dampening,"),
    (lambda: build_optimizer("NAdam", Net(), lr=0.1, momentum_dcay=1e-3, x=1),
     "optimizer = 'NAdam': unknown options 'momentum_dcay', 'x' (did you mean 'momentum_decay'?); NAdam "
     "accepts: capturable, differentiable"),
    (lambda: build_optimizer("lbfgs", Net(), lr=1.0, lr_mults={"head": 0.1}),
     "optimizer = 'lbfgs': lr_mults are not supported"),
    (lambda: build_optimizer("sgd", Net(), lr=0.1, nesterov=True),
     "optimizer = 'sgd': nesterov = true needs momentum > 0"),
    (lambda: build_optimizer("adamw", Net(), lr=0.1, bias_correction=False),
     "optimizer = 'adamw' always uses bias correction"),
    (lambda: build_optimizer("sgd", Net(), lr=-0.1), "lr = -0.1: must be > 0"),
    (lambda: build_optimizer("sgd", Net(), lr=0.1, momentum=1.0), "momentum = 1.0: must be in [0, 1)"),
    (lambda: build_optimizer("adam", Net(), lr=0.1, betas=(0.9,)), "betas = (0.9,): must be two numbers"),
    (lambda: build_optimizer("sgd", [torch.ones(2, requires_grad=True)], lr=0.1, lr_mults={"a": 1}),
     "lr_mults needs the model"),
    (lambda: build_optimizer("sgd", Net().requires_grad_(False), lr=0.1), "no trainable parameters"),
])
def test_bad_options_raise_config_errors_that_name_them(call, message):
    with pytest.raises(ConfigError) as e:
        call()
    assert message in str(e.value)


@pytest.mark.parametrize("name, options, message", [
    ("SGD", dict(momentum=0.9, nesterov=True, dampening=0.5),
     "optimizer = 'SGD': torch.optim.SGD rejected momentum = 0.9, nesterov = True, dampening = 0.5: "
     "ValueError: Nesterov momentum requires a momentum and zero dampening"),
    ("sgd", dict(momentum=0.9, nesterov=True, dampening=0.5), "optimizer = 'sgd': torch.optim.SGD rejected"),
    ("lbfgs", dict(max_iter="x"), "optimizer = 'lbfgs': torch.optim.LBFGS rejected max_iter = 'x': TypeError: "),
    ("Rprop", dict(etas=[1, 2, 3]),
     "optimizer = 'Rprop': torch.optim.Rprop rejected etas = [1, 2, 3]: ValueError: Invalid eta values"),
    ("sam", dict(momentum=0.9, nesterov=True, dampening=0.5), "optimizer = 'sgd': torch.optim.SGD rejected"),
])
def test_values_the_torch_class_rejects_are_config_errors_naming_optimizer_and_option(name, options, message):
    """A ConfigError naming the option, not the constructor's raw TypeError/ValueError."""
    with pytest.raises(ConfigError) as e:
        build_optimizer(name, Net(), lr=0.1, **options)
    assert message in str(e.value)


def test_lbfgs_weight_decay_is_an_l2_term_of_its_objective():
    """min (w − 3)² + (λ/2)w² is at w = 6/(2 + λ): L-BFGS's line search sees that one objective."""
    w = torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)
    lam = 0.5
    opt = build_optimizer("lbfgs", [w], lr=1.0, weight_decay=lam, line_search_fn="strong_wolfe",
                          no_decay_bias_norm=False)

    def closure():
        opt.zero_grad()
        loss = (w - 3).square().sum()
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    torch.testing.assert_close(w.detach(), torch.full((2, 2), 6 / (2 + lam), dtype=torch.float64))
    biases = torch.zeros(2, dtype=torch.float64, requires_grad=True)     # ndim 1: exempt
    opt = build_optimizer("lbfgs", [biases], lr=1.0, weight_decay=lam, line_search_fn="strong_wolfe")
    opt.step(lambda: (opt.zero_grad(), (biases - 3).square().sum().backward(), (biases - 3).square().sum())[2])
    torch.testing.assert_close(biases.detach(), torch.full((2,), 3.0, dtype=torch.float64))


def test_lbfgs_by_name_alone_trains_with_fits_default_weight_decay(blobs):
    import trainwell

    X, y = blobs
    run = trainwell.fit(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3)), (X, y), optimizer="lbfgs",
                        batch_size=10_000, epochs=3, progress=False, babysit="off")
    assert run.config["weight_decay"] == 5e-4
    assert run.history[-1]["train_loss"] < 0.5 * run.history[0]["train_loss"]


# ------------------------------------------------------------------------------ checkpoints
ROUND_TRIP = {
    "sgd": dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01, lr_mults={"head": 0.5}),
    "adagrad": dict(lr=0.05, weight_decay=0.01),
    "rmsprop": dict(lr=0.01, momentum=0.5, weight_decay=0.01),
    "adam": dict(lr=1e-2, weight_decay=0.01, bias_correction=False),
    "adamw": dict(lr=1e-2, weight_decay=0.01),
    "lbfgs": dict(lr=0.5, history_size=4, max_iter=3),
    "NAdam": dict(lr=1e-2, weight_decay=0.01),
    "Adadelta": dict(lr=0.5, weight_decay=0.01),
    "rmsprop_notes": dict(lr=1e-3, weight_decay=0.01),
    "adagrad_notes": dict(lr=1e-2, weight_decay=0.01),
    "nesterov": dict(lr=0.05, momentum=0.9, weight_decay=0.01),
    "nesterov_lookahead": dict(lr=0.05, momentum=0.9),
    "sign_sgd": dict(lr=1e-3, momentum=0.9),
    "newton": dict(lr=1.0),
    "bfgs": dict(lr=1.0),
    "sam": dict(lr=0.05, momentum=0.9, weight_decay=0.01, rho=0.05),
    "asam": dict(lr=0.05, momentum=0.9, rho=0.5),
    "eg_sam": dict(lr=0.05, momentum=0.9, rho=0.05),
    "og_sam": dict(lr=0.05, momentum=0.9, rho=0.05),
    "ao_sam": dict(lr=0.05, momentum=0.9, rho=0.05, total_steps=6),
}


@pytest.mark.parametrize("name", sorted(ROUND_TRIP))
def test_state_dict_round_trip_resumes_bit_identically(name):
    assert set(OPTIMIZERS) <= set(ROUND_TRIP)
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(2))
    model = Net()
    opt = build_optimizer(name, model, **ROUND_TRIP[name])

    def step(m, o):
        def closure(backward=True):
            loss = m(x).square().mean()
            if backward:
                o.zero_grad()
                loss.backward()
            return loss
        o.step(closure)

    for _ in range(3):
        step(model, opt)
    twin = copy.deepcopy(model)
    twin_opt = build_optimizer(name, twin, **{**ROUND_TRIP[name], "lr": 0.123})
    twin_opt.load_state_dict(copy.deepcopy(opt.state_dict()))
    assert [g.get("lr_mult") for g in twin_opt.param_groups] == [g.get("lr_mult") for g in opt.param_groups]
    for _ in range(3):
        step(model, opt)
        step(twin, twin_opt)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), twin.parameters()))


# ------------------------------------------------------------------------------ every kind of spec
def test_an_optimizer_of_the_module_is_kept_and_one_of_another_is_rebuilt_over_it():
    from trainwell.optim import SAM

    model, copy_ = Net(), Net()
    user = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.5, dampening=0.1)
    assert build_optimizer(user, model, lr=0.05, momentum=0.9) is user          # the run's own: as it is
    again = build_optimizer(user, copy_)                                      # a working copy: rebuilt
    assert type(again) is torch.optim.SGD and not again.state
    assert (again.param_groups[0]["lr"], again.param_groups[0]["momentum"], again.param_groups[0]["dampening"]) \
        == (0.3, 0.5, 0.1)
    held = {id(p) for g in again.param_groups for p in g["params"]}
    assert held == {id(p) for p in copy_.parameters()}
    assert build_optimizer(user, copy_, lr=0.01, weight_decay=0.2).param_groups[0]["lr"] == 0.01
    sam = SAM(torch.optim.SGD(model.parameters(), lr=0.1), rho=0.3, model=model)
    rebuilt = build_optimizer(sam, copy_)
    assert type(rebuilt) is SAM and rebuilt.rho == 0.3 and rebuilt.model is copy_


def test_a_callable_gets_the_parameters_and_keeps_its_own_settings():
    model, seen = Net(), []

    def factory(params):
        seen.append(params)
        return torch.optim.SGD(params, lr=0.3)

    opt = build_optimizer(factory, model, lr=0.05, momentum=0.9, weight_decay=0.1)
    assert [p is q for p, q in zip(seen[0], model.parameters())] == [True] * len(seen[0])
    assert opt.param_groups[0]["lr"] == 0.3 and opt.param_groups[0]["momentum"] == 0


def test_the_sam_family_by_name_gets_the_module_for_batch_norm():
    model = Net()
    assert build_optimizer("sam", model, lr=0.1).model is model
    params_only = build_optimizer("sam", list(model.parameters()), lr=0.1, model=model)
    assert params_only.model is model


def test_a_wrappers_unknown_base_names_the_key_it_came_from():
    """A SAM-family optimizer's base comes from optimizer_options.base: the error says so."""
    with pytest.raises(ConfigError, match=r"^optimizer_options\.base = 'sgdd': unknown \(did you mean 'sgd'\?\)"):
        build_optimizer("sam", torch.nn.Linear(2, 2), lr=0.1, base="sgdd")
