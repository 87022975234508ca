"""EG-SAM, OG-SAM and AO-SAM against the NumPy reference; SAM lingers at a saddle longer than EG-SAM."""

import numpy as np
import pytest
import torch

import reference as ref
from trainwell.errors import ConfigError
from trainwell.optim.factory import build_optimizer
from trainwell.optim.lookahead_sam import AOSAM, EGSAM, OGSAM
from trainwell.optim.sam import SAM

RTOL = 1e-6


def _sgd(params, lr=0.1, momentum=0.9):
    return torch.optim.SGD(params, lr=lr, momentum=momentum)


def test_eg_sam_matches_reference():
    problem, w0 = ref.random_softmax(seed=11)
    expected = ref.eg_sam(problem.grad, w0, 20, lr=0.1, mu=0.9, rho=0.05)
    params, loss_fn = ref.torch_softmax(problem, w0)
    got = ref.run_torch(EGSAM(_sgd(params), rho=0.05), params, loss_fn, 20)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-12)


def test_eg_sam_extrapolation_lr_replaces_the_group_lr():
    problem, w0 = ref.random_softmax(seed=12)
    expected = ref.eg_sam(problem.grad, w0, 15, lr=0.1, mu=0.9, rho=0.05, eta=0.7)
    params, loss_fn = ref.torch_softmax(problem, w0)
    got = ref.run_torch(EGSAM(_sgd(params), rho=0.05, extrapolation_lr=0.7), params, loss_fn, 15)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-12)
    default = ref.eg_sam(problem.grad, w0, 15, lr=0.1, mu=0.9, rho=0.05)
    assert np.abs(default[-1] - expected[-1]).max() > 1e-4       # the option changes the run


def test_og_sam_matches_reference():
    problem, w0 = ref.random_softmax(seed=13)
    expected = ref.og_sam(problem.grad, w0, 20, lr=0.1, mu=0.9, rho=0.05)
    params, loss_fn = ref.torch_softmax(problem, w0)
    got = ref.run_torch(OGSAM(_sgd(params), rho=0.05), params, loss_fn, 20)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-12)
    eg = ref.eg_sam(problem.grad, w0, 20, lr=0.1, mu=0.9, rho=0.05)
    assert np.abs(eg[-1] - expected[-1]).max() > 1e-4             # OG is not EG in disguise


def test_ao_sam_matches_reference_and_mixes_both_kinds_of_step():
    problem, w0 = ref.random_softmax(seed=14)
    kw = dict(lr=0.1, mu=0.9, rho=0.05, total=30, delta=0.9, c_start=1.0, c_end=-1.0)
    expected, decisions = ref.ao_sam(problem.grad, w0, 30, **kw)
    assert 0 < sum(decisions) < 30
    params, loss_fn = ref.torch_softmax(problem, w0)
    opt = AOSAM(_sgd(params), total_steps=30, rho=0.05, c_start=1.0, c_end=-1.0)
    calls = []
    closure = ref.make_closure(opt, loss_fn, calls=calls)
    rows = [w0.copy()]
    for _ in range(30):
        opt.step(closure)
        rows.append(torch.cat([p.detach().reshape(-1) for p in params]).numpy().copy())
    np.testing.assert_allclose(np.array(rows), expected, rtol=RTOL, atol=1e-12)
    assert opt.sam_steps == sum(decisions) and len(calls) == 30 + sum(decisions)


def test_ao_sam_threshold_moves_linearly_and_then_stays():
    opt = AOSAM(_sgd([torch.nn.Parameter(torch.zeros(2))]), total_steps=100, c_start=2.0, c_end=0.0)
    assert [opt.threshold_c(t) for t in (0, 50, 100, 500)] == [2.0, 1.0, 0.0, 0.0]


def _saddle(w):
    """f = x²/2 − y²/2 + y⁴/4: a saddle at the origin, minima at (0, ±1)."""
    return 0.5 * w[0] ** 2 - 0.5 * w[1] ** 2 + 0.25 * w[1] ** 4


@pytest.mark.parametrize("y0", [5e-4, 1e-3, -3e-3])
def test_plain_sam_lingers_near_the_saddle_longer_than_eg_sam(y0):
    """SGD base, lr 0.2, ρ 0.01, from (1, y0): count the steps with |y| < 0.5 (near the saddle)."""
    def run(make):
        w = torch.nn.Parameter(torch.tensor([1.0, y0], dtype=torch.float64))
        trajectory = ref.run_torch(make([w]), [w], lambda: _saddle(w), 200)
        return int((np.abs(trajectory[:, 1]) < 0.5).sum()), abs(trajectory[-1, 1])

    sgd = lambda p: torch.optim.SGD(p, lr=0.2)  # noqa: E731
    near_sam, y_sam = run(lambda p: SAM(sgd(p), rho=0.01))
    near_eg, y_eg = run(lambda p: EGSAM(sgd(p), rho=0.01))
    assert abs(y_eg - 1) < 1e-2                                   # EG-SAM reaches a minimum
    assert near_sam >= 1.2 * near_eg, (near_sam, near_eg)
    if y0 == 5e-4:                                                # this close, SAM never leaves
        assert near_sam == 201 and y_sam < 1e-3


@pytest.mark.parametrize("cls", [OGSAM, AOSAM])
def test_state_dict_round_trip_through_a_checkpoint_gives_an_exact_resume(cls, tmp_path):
    from trainwell.train.checkpoint import load_checkpoint, save_checkpoint

    problem, w0 = ref.random_softmax(seed=15)
    make = lambda p: cls(_sgd(p), rho=0.05, **({"total_steps": 12} if cls is AOSAM else {}))  # noqa: E731
    params, loss_fn = ref.torch_softmax(problem, w0)
    opt = make(params)
    ref.run_torch(opt, params, loss_fn, 6)
    saved_params = [p.detach().clone() for p in params]
    path = save_checkpoint(tmp_path, {"optimizer": opt.state_dict()})   # safetensors + JSON
    saved = load_checkpoint(path)["optimizer"]
    assert sum(saved["wrapper"]["has_perturbed_grad"]) == 2
    if cls is AOSAM:
        assert float(saved["wrapper"]["mu"]) > 0 and float(saved["wrapper"]["var"]) > 0
    straight = ref.run_torch(opt, params, loss_fn, 6)

    params2, loss_fn2 = ref.torch_softmax(problem, w0)
    with torch.no_grad():
        for p, v in zip(params2, saved_params):
            p.copy_(v)
    opt2 = make(params2)
    opt2.load_state_dict(saved)
    resumed = ref.run_torch(opt2, params2, loss_fn2, 6)
    np.testing.assert_array_equal(resumed, straight)


def test_ao_sam_statistics_use_the_unscaled_gradient_under_a_grad_scaler():
    problem, w0 = ref.random_softmax(seed=16)
    runs = []
    for use_scaler in (False, True):
        W0, b0 = problem.split(w0)
        params = [torch.nn.Parameter(torch.tensor(W0, dtype=torch.float32)),
                  torch.nn.Parameter(torch.tensor(b0, dtype=torch.float32))]
        X, y = torch.tensor(problem.X, dtype=torch.float32), torch.tensor(problem.y)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=10**6) if use_scaler else None
        opt = AOSAM(_sgd(params), total_steps=20, rho=0.05, scaler=scaler)

        def closure(backward=True):
            loss = torch.nn.functional.cross_entropy(X @ params[0].T + params[1], y)
            opt.zero_grad(set_to_none=True)
            (scaler.scale(loss) if scaler is not None else loss).backward()
            return loss.detach()

        for _ in range(20):
            opt.step(closure)
            if scaler is not None:
                scaler.update()
        runs.append((float(opt.mu), opt.sam_steps, torch.cat([p.detach().reshape(-1) for p in params]).numpy()))
    (mu0, n0, w_plain), (mu1, n1, w_scaled) = runs
    assert n0 == n1 and mu1 == pytest.approx(mu0, rel=1e-5)
    np.testing.assert_allclose(w_scaled, w_plain, rtol=1e-5, atol=1e-6)


def test_bad_options_raise_config_errors():
    w = [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(ConfigError, match="total_steps = 0"):
        AOSAM(_sgd(w), total_steps=0)
    with pytest.raises(ConfigError, match="delta = 1.0"):
        AOSAM(_sgd(w), total_steps=10, delta=1.0)
    with pytest.raises(ConfigError, match="extrapolation_lr = -1"):
        EGSAM(_sgd(w), extrapolation_lr=-1)
    with pytest.raises(ConfigError, match="c_end = nan"):
        AOSAM(_sgd(w), total_steps=10, c_end=float("nan"))


@pytest.mark.parametrize("name", ["eg_sam", "og_sam"])
def test_by_name_matches_the_reference(name):
    problem, w0 = ref.random_softmax(seed=17)
    expected = getattr(ref, name)(problem.grad, w0, 15, lr=0.1, mu=0.9, rho=0.05)
    params, loss_fn = ref.torch_softmax(problem, w0)
    opt = build_optimizer(name, params, lr=0.1, momentum=0.9, rho=0.05)
    assert type(opt) is {"eg_sam": EGSAM, "og_sam": OGSAM}[name]
    np.testing.assert_allclose(ref.run_torch(opt, params, loss_fn, 15), expected, rtol=RTOL, atol=1e-12)


def test_ao_sam_by_name_takes_its_options_and_needs_total_steps():
    w = [torch.nn.Parameter(torch.zeros(2))]
    opt = build_optimizer("ao_sam", w, lr=0.1, momentum=0.9, total_steps=50, c_start=3.0, delta=0.8)
    assert type(opt) is AOSAM and (opt.total_steps, opt.c_start, opt.delta) == (50, 3.0, 0.8)
    assert opt.param_groups[0]["momentum"] == 0.9
    with pytest.raises(ConfigError, match="total_steps = None"):
        build_optimizer("ao_sam", w, lr=0.1)


def _float_params(problem, w0):
    W0, b0 = problem.split(w0)
    params = [torch.nn.Parameter(torch.tensor(W0, dtype=torch.float32)),
              torch.nn.Parameter(torch.tensor(b0, dtype=torch.float32))]
    return params, torch.tensor(problem.X, dtype=torch.float32), torch.tensor(problem.y)


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("cls", [OGSAM, AOSAM])
def test_zero_grad_before_step_does_not_change_the_trajectory(cls, set_to_none):
    """ĝ lives in the optimizer's own buffer: zero_grad() between steps (set to None, or zeroed in
    place) must not turn OG-SAM / AO-SAM into EG-SAM."""
    problem, w0 = ref.random_softmax(seed=19)
    kw = dict(total_steps=20, c_start=1.0, c_end=-1.0) if cls is AOSAM else {}
    runs = []
    for zero_first in (False, True):
        params, loss_fn = ref.torch_softmax(problem, w0)
        opt = cls(_sgd(params), rho=0.05, **kw)
        closure = ref.make_closure(opt, loss_fn)
        rows = []
        for _ in range(20):
            if zero_first:
                opt.zero_grad(set_to_none=set_to_none)
            opt.step(closure)
            rows.append(torch.cat([p.detach().reshape(-1) for p in params]).numpy().copy())
        runs.append(np.array(rows))
    np.testing.assert_array_equal(runs[1], runs[0])
    if cls is OGSAM:
        expected = ref.og_sam(problem.grad, w0, 20, lr=0.1, mu=0.9, rho=0.05)[1:]
        np.testing.assert_allclose(runs[1], expected, rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("cls", [EGSAM, OGSAM, AOSAM])
def test_batch_norm_running_stats_come_only_from_the_unperturbed_pass(cls):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                                torch.nn.Linear(8, 3))
    twin = __import__("copy").deepcopy(model)
    X, y = torch.randn(32, 5), torch.randint(0, 3, (32,))
    kw = dict(total_steps=10) if cls is AOSAM else {}
    opt = cls(_sgd(model.parameters()), rho=0.5, model=model, **kw)
    opt.step(ref.make_closure(opt, lambda: torch.nn.functional.cross_entropy(model(X), y)))
    assert opt.sam_steps == 1
    twin(X)
    bn, bn_twin = model[1], twin[1]
    assert torch.equal(bn.running_mean, bn_twin.running_mean) and torch.equal(bn.running_var, bn_twin.running_var)
    assert int(bn.num_batches_tracked) == int(bn_twin.num_batches_tracked) == 1


@pytest.mark.parametrize("cls", [EGSAM, OGSAM])
def test_grad_scaler_gradient_is_unscaled_for_the_lookahead(cls):
    """The −η·g look-ahead needs the true g: with a scaler at 2¹² the trajectory is the unscaled one."""
    problem, w0 = ref.random_softmax(seed=20)
    runs = []
    for use_scaler in (False, True):
        params, X, y = _float_params(problem, w0)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12, growth_interval=10**6) if use_scaler else None
        opt = cls(_sgd(params), rho=0.05, scaler=scaler)

        def closure(backward=True):
            loss = torch.nn.functional.cross_entropy(X @ params[0].T + params[1], y)
            opt.zero_grad(set_to_none=True)
            (scaler.scale(loss) if scaler is not None else loss).backward()
            return loss.detach()

        for _ in range(10):
            opt.step(closure)
            if scaler is not None:
                scaler.update()
        runs.append(torch.cat([p.detach().reshape(-1) for p in params]).numpy())
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-5, atol=1e-7)


def _overflowing_run(cls, overflow_at, steps, **kw):
    """``cls`` under a GradScaler on float32 softmax regression; the loss is inf on ``overflow_at``."""
    problem, w0 = ref.random_softmax(seed=21)
    params, X, y = _float_params(problem, w0)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=10**6)
    opt = cls(_sgd(params), rho=0.05, scaler=scaler, **kw)
    log = []
    for t in range(steps):
        def closure(backward=True):
            loss = torch.nn.functional.cross_entropy(X @ params[0].T + params[1], y)
            if t == overflow_at:
                loss = loss * float("inf")
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            return loss.detach()

        before = [p.detach().clone() for p in params]
        opt.step(closure)
        scaler.update()
        log.append({"weights": torch.cat([p.detach().reshape(-1) for p in params]).numpy().copy(),
                    "unchanged": all(torch.equal(a, p) for a, p in zip(before, params)),
                    "g_hat": [opt.state[p]["perturbed_grad"].clone() for p in params],
                    "mu": getattr(opt, "mu", None), "var": getattr(opt, "var", None),
                    "sam_steps": opt.sam_steps})
    return log


def test_og_sam_overflow_step_keeps_the_previous_perturbed_gradient():
    """The skipped step neither moves the weights nor replaces ĝ: the run equals one without it."""
    clean = _overflowing_run(OGSAM, None, 9)
    hit = _overflowing_run(OGSAM, 4, 10)
    assert hit[4]["unchanged"]
    assert all(torch.equal(a, b) for a, b in zip(hit[4]["g_hat"], hit[3]["g_hat"]))
    rows = [r["weights"] for i, r in enumerate(hit) if i != 4]
    np.testing.assert_allclose(np.array(rows), np.array([r["weights"] for r in clean]), rtol=1e-6, atol=1e-7)


def test_ao_sam_overflow_step_leaves_its_statistics_alone_and_sam_steps_continue():
    """A non-finite ‖g‖² must not reach μ and σ² (inf and NaN there would stop every later SAM
    step): μ, σ² and ĝ stay as they were, the step is a skipped plain step, SAM steps go on."""
    log = _overflowing_run(AOSAM, 5, 40, total_steps=40, c_start=1.0, c_end=-1.0)
    hit, before = log[5], log[4]
    assert hit["unchanged"] and hit["sam_steps"] == before["sam_steps"]
    assert (hit["mu"], hit["var"]) == (before["mu"], before["var"])
    assert all(torch.equal(a, b) for a, b in zip(hit["g_hat"], before["g_hat"]))
    assert np.isfinite(log[-1]["mu"]) and np.isfinite(log[-1]["var"])
    assert log[-1]["sam_steps"] >= hit["sam_steps"] + 5
    assert np.isfinite(log[-1]["weights"]).all()


@pytest.mark.parametrize("name", ["sam", "asam", "eg_sam", "og_sam", "ao_sam"])
def test_the_device_path_with_tensor_norms_and_scale_gives_the_same_run(monkeypatch, name):
    """Off the CPU the norm and the GradScaler's scale stay 0-d tensors (no host sync). Forced on
    the CPU, that path gives the float path's trajectory (and, without a scaler, the reference's)."""
    import trainwell.optim.sam as sam_module

    problem, w0 = ref.random_softmax(seed=22)
    options = dict(total_steps=20, c_start=1.0, c_end=-1.0) if name == "ao_sam" else {}
    rho = 0.3 if name == "asam" else 0.05
    runs = []
    for host_free in ({"cpu"}, set()):
        monkeypatch.setattr(sam_module, "HOST_READ_FREE", host_free)
        for use_scaler in (False, True):
            params, X, y = _float_params(problem, w0)
            scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8, growth_interval=10**6) if use_scaler else None
            opt = build_optimizer(name, params, lr=0.1, momentum=0.9, rho=rho, **options)
            opt.scaler = scaler

            def closure(backward=True):
                loss = torch.nn.functional.cross_entropy(X @ params[0].T + params[1], y)
                opt.zero_grad(set_to_none=True)
                (scaler.scale(loss) if scaler is not None else loss).backward()
                return loss.detach()

            for _ in range(12):
                opt.step(closure)
                if scaler is not None:
                    scaler.update()
            runs.append(torch.cat([p.detach().reshape(-1) for p in params]).numpy())
    for got in runs[1:]:
        np.testing.assert_allclose(got, runs[0], rtol=2e-5, atol=1e-6)
    if name in ("eg_sam", "og_sam"):
        expected = getattr(ref, name)(problem.grad, w0, 12, lr=0.1, mu=0.9, rho=rho)[-1]
        np.testing.assert_allclose(runs[2], expected, rtol=1e-4, atol=1e-5)      # float32 vs float64
