import inspect
import math

import pytest
import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

import trainwell
from trainwell.config import make_config
from trainwell.errors import ConfigError
from trainwell.nn.init import INIT_OPTIONS, INITS, fans, init, lsuv
from trainwell.options import Option
from trainwell.train import fit as fit_module
from trainwell.train.callbacks import Callback


def _var_ok(w, expected, *, uniform=False):
    """Sample variance vs formula, within 5 standard errors: sd(s²)/σ² = √(2/n) for a normal,
    √(0.8/n) for a uniform (fourth moment 9σ⁴/5)."""
    n = w.numel()
    rel = 5 * math.sqrt((0.8 if uniform else 2.0) / n)
    assert abs(w.double().var().item() / expected - 1) < rel, (w.var().item(), expected)
    assert abs(w.double().mean().item()) < 5 * math.sqrt(expected / n)


def _layers():
    return nn.Linear(1000, 500), nn.Conv2d(64, 128, 3)


CASES = [  # (scheme, options, variance(fan_in, fan_out), uniform)
    ("small_normal", {}, lambda i, o: 0.01 ** 2, False),
    ("small_normal", {"std": 1.0}, lambda i, o: 1.0, False),
    ("xavier_normal", {}, lambda i, o: 2 / (i + o), False),
    ("xavier_uniform", {"gain": 2.0}, lambda i, o: 4 * 2 / (i + o), True),
    ("kaiming_normal", {}, lambda i, o: 2 / i, False),  # notes 004: W / sqrt(fan_in / 2)
    ("kaiming_normal", {"mode": "fan_out"}, lambda i, o: 2 / o, False),
    ("kaiming_normal", {"activation": "tanh"}, lambda i, o: (5 / 3) ** 2 / i, False),
    ("kaiming_uniform", {"activation": "leaky_relu", "alpha": 0.2}, lambda i, o: 2 / (1.04 * i), True),
    ("geometric", {}, lambda i, o: 2 / math.sqrt(i * o), False),
]


@pytest.mark.parametrize("scheme,options,variance,uniform", CASES)
def test_empirical_weight_variance_matches_the_formula(scheme, options, variance, uniform):
    for layer in _layers():
        init(layer, scheme, seed=0, **options)
        fan_in, fan_out = fans(layer)
        _var_ok(layer.weight.detach(), variance(fan_in, fan_out), uniform=uniform)
        assert torch.count_nonzero(layer.bias) == 0


def test_fans_follow_the_weight_shape():
    assert fans(nn.Linear(7, 3)) == (7, 3)
    assert fans(nn.Conv2d(4, 6, (3, 5))) == (60, 90)
    assert fans(nn.ConvTranspose2d(4, 6, 3)) == (36, 54)


def test_uniform_schemes_stay_inside_their_bound_and_biases_take_the_option():
    layer = nn.Linear(300, 200)
    init(layer, "xavier_uniform", bias=0.1)
    assert layer.weight.abs().max() <= math.sqrt(6 / 500) + 1e-7
    assert torch.all(layer.bias == 0.1)


def test_geometric_differs_from_he_only_when_widths_change():
    square, wide = nn.Linear(400, 400), nn.Linear(1600, 100)
    init(square, "geometric", seed=1)
    _var_ok(square.weight.detach(), 2 / 400)
    init(wide, "geometric", seed=1)
    _var_ok(wide.weight.detach(), 2 / 400)  # √(1600·100) = 400, not fan_in = 1600


@pytest.mark.parametrize("shape", [(50, 200), (200, 50), (16, 8, 3, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    w = INITS["orthogonal"](shape, 0, 0, torch.Generator().manual_seed(0), gain=2.0)
    m = w.reshape(shape[0], -1).double() / 2.0
    small = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    assert torch.allclose(small, torch.eye(small.shape[0], dtype=torch.float64), atol=1e-10)


def test_zeros_and_constant_show_the_symmetry_problem():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))
    init(model, "constant", value=0.3)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    for _ in range(5):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        for layer in (model[0], model[2]):  # hidden units: identical gradients, identical weights
            assert torch.allclose(layer.weight.grad, layer.weight.grad[:1].expand_as(layer.weight))
            assert layer.weight.grad.abs().sum() > 0
        opt.step()
    assert torch.allclose(model[0].weight, model[0].weight[:1].expand_as(model[0].weight))
    init(model, "zeros")
    assert all(torch.count_nonzero(p) == 0 for n, p in model.named_parameters())


def test_init_reaches_layers_anywhere_in_any_model_and_through_weight_norm():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.ModuleDict({"conv": nn.Conv1d(40, 60, 5), "up": nn.ConvTranspose2d(30, 20, 3)})
            self.head = weight_norm(nn.Linear(300, 200))
            self.norm = nn.BatchNorm1d(3)

        def forward(self, x):
            return x

    net = init(Net(), "kaiming_normal", seed=3)
    _var_ok(net.body["conv"].weight.detach(), 2 / 200)
    _var_ok(net.body["up"].weight.detach(), 2 / (30 * 9))  # weight is (in, out, k, k)
    _var_ok(net.head.weight.detach(), 2 / 300)
    assert torch.all(net.norm.weight == 1)


def test_seed_reproduces_and_tables_work():
    a, b = nn.Linear(20, 20), nn.Linear(20, 20)
    init(a, "xavier_normal", seed=5)
    init(b, {"name": "xavier_normal", "seed": 5})
    assert torch.equal(a.weight, b.weight)


@pytest.mark.parametrize("seed", [-1, 2**64])
def test_a_seed_out_of_torchs_range_is_a_config_error_naming_it(seed):
    """torch.Generator.manual_seed raises a bare ValueError ("Overflow when unpacking long long")
    beyond 64 bits and wraps a negative seed: the init table's seed is checked as the run's seed."""
    with pytest.raises(ConfigError, match=rf"seed = {seed}: must be in \[0, 2\*\*63 - 1\]"):
        init(nn.Linear(2, 2), {"name": "orthogonal", "seed": seed})
    with pytest.raises(ConfigError, match=rf"init \(xavier_normal\): seed = {seed}: must be in \[0, 2\*\*63 - 1\]"):
        make_config({"init": {"name": "xavier_normal", "seed": seed}})


def _lsuv_net():
    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, stride=2),
                         nn.Tanh(), nn.Flatten(), nn.Linear(16 * 7 * 7, 64), nn.ReLU(),
                         nn.Linear(64, 10))


def test_lsuv_gives_unit_output_variance_per_layer_on_the_batch():
    torch.manual_seed(0)
    data = 5 * torch.randn(256, 3, 16, 16)
    model = init(_lsuv_net(), "lsuv", data=data)
    outputs = []
    hooks = [m.register_forward_hook(lambda mod, i, o: outputs.append(o.var().item()))
             for m in model if isinstance(m, (nn.Linear, nn.Conv2d))]
    with torch.no_grad():
        model(data)
    for h in hooks:
        h.remove()
    assert len(outputs) == 4
    assert all(abs(v - 1) < 0.1 for v in outputs), outputs
    report = lsuv(_lsuv_net(), data, seed=0)
    assert [r["layer"] for r in report] == ["0", "2", "5", "7"]
    assert all(r["tries"] <= 10 and abs(r["variance"] - 1) < 0.1 for r in report)


def test_lsuv_respects_max_tries_and_needs_data():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 10))
    x = torch.randn(64, 10)
    assert [r["tries"] for r in lsuv(model, 3 * x, max_tries=0, seed=0)] == [0, 0]
    assert [r["tries"] for r in lsuv(model, 3 * x, max_tries=10, seed=0)] == [1, 1]
    assert lsuv(model, 3 * x, max_tries=0, seed=0)[0]["variance"] > 5  # orthonormal·3x: var ≈ 9
    with pytest.raises(ConfigError, match="lsuv: needs data="):
        init(model, "lsuv")


class _FourierNet(nn.Module):
    """Random Fourier features (Tancik et al. 2020): a frozen projection drawn N(0, 5²), then an MLP."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(2, 64)
        nn.init.normal_(self.proj.weight, 0.0, 5.0)
        self.proj.requires_grad_(False)
        self.net = nn.Sequential(nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, x):
        z = self.proj(x)
        return self.net(torch.cat([torch.sin(z), torch.cos(z)], 1))


def _copy(model):
    return {n: t.detach().clone() for n, t in model.state_dict().items()}


@pytest.mark.parametrize("scheme", ["kaiming_normal", "orthogonal", "zeros"])
def test_init_leaves_frozen_tensors_as_they_are(scheme):
    torch.manual_seed(0)
    model = _FourierNet()
    before = _copy(model)
    init(model, scheme, bias=0.5, seed=1)
    assert torch.equal(model.proj.weight, before["proj.weight"])      # the frozen features: untouched
    assert torch.equal(model.proj.bias, before["proj.bias"])
    assert not torch.equal(model.net[0].weight, before["net.0.weight"])  # the trainable layers: redrawn
    assert torch.all(model.net[2].bias == 0.5)
    init(model, scheme, seed=1, include_frozen=True)                     # asked for: redrawn too
    assert not torch.equal(model.proj.weight, before["proj.weight"])


def test_a_frozen_layer_does_not_change_the_other_layers_draw():
    """The frozen weight is drawn and dropped: with a seed, the trainable layers get the same
    weights as in the same model with nothing frozen."""
    torch.manual_seed(0)
    frozen_net = _FourierNet()
    trained = _FourierNet().requires_grad_(True)
    init(frozen_net, "kaiming_normal", seed=4)
    init(trained, "kaiming_normal", seed=4)
    for name in ("net.0.weight", "net.2.weight"):
        assert torch.equal(frozen_net.state_dict()[name], trained.state_dict()[name])


def test_frozen_is_read_per_tensor_and_through_weight_norm():
    layer = nn.Linear(30, 20)
    layer.weight.requires_grad_(False)                       # BitFit's opposite: weight kept, bias trained
    w = layer.weight.detach().clone()
    init(layer, "kaiming_normal", bias=0.25)
    assert torch.equal(layer.weight, w) and torch.all(layer.bias == 0.25)
    normed = weight_norm(nn.Linear(30, 20))
    normed.parametrizations.weight.original1.requires_grad_(False)  # the direction v frozen, g trained
    w = normed.weight.detach().clone()
    init(normed, "kaiming_normal")
    assert torch.equal(normed.weight, w)


def test_lsuv_neither_draws_nor_rescales_a_frozen_layer():
    torch.manual_seed(0)
    model = _FourierNet()
    before = _copy(model)
    x = torch.randn(256, 2)
    report = lsuv(model, x, seed=0)
    assert [r["layer"] for r in report] == ["net.0", "net.2"]
    assert all(abs(r["variance"] - 1) < 0.1 for r in report)
    assert torch.equal(model.proj.weight, before["proj.weight"])
    init(model, "lsuv", data=x)
    assert torch.equal(model.proj.weight, before["proj.weight"])


def test_registry_and_errors():
    assert set(INIT_OPTIONS) == set(INITS)
    for name, fn in INITS.items():
        params = inspect.signature(fn).parameters
        for opt, option in INIT_OPTIONS[name].items():
            assert isinstance(option, Option) and option.doc
            assert opt not in params or params[opt].default == option.default
    with pytest.raises(ConfigError, match="init = 'he': unknown; allowed: zeros, constant"):
        init(nn.Linear(2, 2), "he")
    with pytest.raises(ConfigError, match="unknown option 'std'; allowed: activation, alpha, bias"):
        init(nn.Linear(2, 2), "kaiming_normal", std=0.1)
    with pytest.raises(ConfigError, match="mode = 'avg'"):
        init(nn.Linear(2, 2), "kaiming_normal", mode="avg")


# ----------------------------------------------------------------------------- init through fit


class _Snapshot(Callback):
    """Copies the weights as training starts: what init left, before any step."""

    def on_fit_start(self, state):
        self.model = state.model
        self.weights = {n: p.detach().clone() for n, p in state.model.named_parameters()}


def _data(n=300, d=400, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    return X, (X[:, :3].sum(1) > 0).long()


def _fit(model, init, snap, **extra):
    options = dict(init=init, epochs=1, batch_size=100, babysit="off", report=False, progress=False,
                   callbacks=[snap], device="cpu")
    return trainwell.fit(model, _data(), **{**options, **extra})


TANH_GAIN2 = (5 / 3) ** 2


@pytest.mark.parametrize("init_spec, activation, variance", [
    ("kaiming_normal", "tanh", lambda i, o: TANH_GAIN2 / i),
    ({"name": "kaiming_normal", "mode": "fan_out"}, "tanh", lambda i, o: TANH_GAIN2 / o),
    ("geometric", "tanh", lambda i, o: TANH_GAIN2 / math.sqrt(i * o)),
    ("kaiming_uniform", {"name": "leaky_relu", "alpha": 0.2}, lambda i, o: 2 / (1.04 * i)),
    ({"name": "kaiming_normal", "activation": "relu"}, "tanh", lambda i, o: 2 / i),  # named: kept
])
def test_init_from_config_takes_the_model_activation(init_spec, activation, variance):
    snap = _Snapshot()
    _fit({"type": "mlp", "widths": [300], "activation": activation}, init_spec, snap)
    uniform = "uniform" in (init_spec if isinstance(init_spec, str) else init_spec["name"])
    _var_ok(snap.weights["1.weight"], variance(400, 300), uniform=uniform)


def test_init_keeps_relu_gain_for_the_users_own_module():
    snap = _Snapshot()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(400, 300), nn.Tanh(), nn.Linear(300, 2))
    _fit(model, "kaiming_normal", snap)
    _var_ok(snap.weights["0.weight"], 2 / 400)        # no builder table: the scheme's default (relu)


def test_init_set_through_fit_is_applied():
    snap = _Snapshot()
    _fit({"type": "mlp", "widths": [300, 200]}, {"name": "kaiming_normal", "mode": "fan_out"}, snap)
    _var_ok(snap.weights["1.weight"], 2 / 300)
    _var_ok(snap.weights["3.weight"], 2 / 200)

    snap = _Snapshot()
    X, _ = _data()
    _fit({"type": "mlp", "widths": [300, 200]}, "lsuv", snap, seed=3)
    model = snap.model
    with torch.no_grad():
        model.load_state_dict(snap.weights)
        outputs = [X]
        for layer in model:                              # every Linear's output: variance 1 ± tol
            outputs.append(layer(outputs[-1]))
    linear_outputs = [o for o, m in zip(outputs[1:], model) if isinstance(m, nn.Linear)]
    assert len(linear_outputs) == 3
    variances = [o.var().item() for o in linear_outputs]
    assert all(abs(v - 1) < 0.1 for v in variances), variances


def test_fit_init_keeps_the_users_frozen_layer_and_the_config_can_include_it():
    torch.manual_seed(0)
    X = torch.randn(300, 2)
    data = (X, torch.sin(3 * X[:, 0]))
    for spec, kept in (("kaiming_normal", True), ({"name": "kaiming_normal", "include_frozen": True}, False)):
        model, snap = _FourierNet(), _Snapshot()
        drawn = model.proj.weight.detach().clone()
        trainwell.fit(model, data, init=spec, loss="mse", epochs=1, batch_size=100, babysit="off",
                      report=False, progress=False, callbacks=[snap], device="cpu")
        assert torch.equal(snap.weights["proj.weight"], drawn) is kept
    with pytest.raises(ConfigError, match="include_frozen"):
        make_config({"init": {"name": "kaiming_normal", "include_frozen": "yes"}})


def test_init_is_not_reapplied_on_resume(tmp_path, monkeypatch, crash_at):
    calls = []
    real = fit_module.initialize

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(fit_module, "initialize", counting)
    model = {"type": "mlp", "widths": [32]}
    options = dict(init="lsuv", epochs=3, batch_size=100, lr=0.05, seed=2, report=False,
                   progress=False, babysit="off", device="cpu")
    whole = trainwell.fit(model, _data(d=20), run_dir=tmp_path / "whole", **options)
    assert calls == ["lsuv"]
    with pytest.raises(crash_at.error):
        trainwell.fit(model, _data(d=20), run_dir=tmp_path / "cut", callbacks=[crash_at(5)], **options)
    assert calls == ["lsuv", "lsuv"]
    resumed = trainwell.fit(model, _data(d=20), run_dir=tmp_path / "cut", resume=True, **options)
    assert calls == ["lsuv", "lsuv"]                     # the checkpoint's weights, not a new init
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("table, message", [
    ({"name": "kaiming_normal", "mode": "fan_mid"}, "init (kaiming_normal): mode = 'fan_mid': unknown (did you mean 'fan_in'?)"),
    ({"name": "orthogonal", "gain": -1.0}, "init (orthogonal): gain = -1.0: must be a number > 0"),
    ({"name": "geometric", "gain": 0.0}, "init (geometric): gain = 0.0: must be a number > 0"),
    ({"name": "small_normal", "std": -0.1}, "init (small_normal): std = -0.1: must be a number >= 0"),
    ({"name": "lsuv", "tol": 0.0}, "init (lsuv): tol = 0.0: must be a number > 0"),
    ({"name": "lsuv", "max_tries": -1}, "init (lsuv): max_tries = -1: must be an integer >= 0"),
])
def test_init_options_out_of_range_are_refused_with_the_config(table, message):
    """docs/init.md: each scheme's options are checked with the config, before any data is read."""
    from trainwell.config import make_config
    with pytest.raises(ConfigError) as error:
        make_config({"init": table})
    assert message in str(error.value)
    assert make_config({"init": {"name": "kaiming_normal", "gain": None}}).init["gain"] is None
