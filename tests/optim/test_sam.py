"""SAM / ASAM / efficient SAM against the NumPy reference, and SAM's known pitfalls."""

import copy

import numpy as np
import pytest
import torch

import reference as ref
from trainwell.errors import CheckpointError, ConfigError
from trainwell.optim.adam import Adam
from trainwell.optim.factory import build_optimizer
from trainwell.optim.sam import SAM

RTOL = 1e-6


def _sgd(params, lr=0.1, momentum=0.9, **kw):
    return torch.optim.SGD(params, lr=lr, momentum=momentum, **kw)


@pytest.mark.parametrize("options, ref_options", [
    (dict(rho=0.05), dict(rho=0.05)),
    (dict(rho=0.3, adaptive=True, eta=0.01), dict(rho=0.3, adaptive=True, eta=0.01)),
    (dict(rho=0.05, every=3), dict(rho=0.05, every=3)),
    (dict(rho=0.05, start_fraction=0.5, total_steps=20), dict(rho=0.05, start_step=10)),
])
def test_matches_reference_step_by_step(options, ref_options):
    problem, w0 = ref.random_softmax(seed=1)
    expected = ref.sam(problem.grad, w0, 20, lr=0.1, mu=0.9, **ref_options)
    params, loss_fn = ref.torch_softmax(problem, w0)
    got = ref.run_torch(SAM(_sgd(params), **options), params, loss_fn, 20)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-12)
    assert np.abs(got[-1] - got[0]).max() > 0.05          # it moved: the comparison is not vacuous


def test_sam_differs_from_plain_sgd():
    """The second gradient matters: SAM's trajectory is not momentum SGD's."""
    problem, w0 = ref.random_softmax(seed=2)
    params, loss_fn = ref.torch_softmax(problem, w0)
    got = ref.run_torch(SAM(_sgd(params), rho=0.05), params, loss_fn, 10)
    plain = ref.sam(problem.grad, w0, 10, lr=0.1, mu=0.9, rho=0.05, start_step=10**6)
    assert np.abs(got[-1] - plain[-1]).max() > 1e-3


def test_both_passes_call_the_same_closure_and_efficient_sam_skips_the_second():
    problem, w0 = ref.random_softmax(seed=3)
    params, loss_fn = ref.torch_softmax(problem, w0)
    opt = SAM(_sgd(params), rho=0.05, every=2)
    calls = []
    closure = ref.make_closure(opt, loss_fn, calls=calls)
    per_step = []
    for _ in range(6):
        before = len(calls)
        opt.step(closure)
        per_step.append(len(calls) - before)
    assert per_step == [2, 1, 2, 1, 2, 1]
    assert (opt.steps, opt.sam_steps) == (6, 3)


def test_start_fraction_uses_sam_only_at_the_end():
    problem, w0 = ref.random_softmax(seed=3)
    params, loss_fn = ref.torch_softmax(problem, w0)
    opt = SAM(_sgd(params), start_fraction=0.75, total_steps=8)
    calls = []
    closure = ref.make_closure(opt, loss_fn, calls=calls)
    counts = []
    for _ in range(8):
        before = len(calls)
        opt.step(closure)
        counts.append(len(calls) - before)
    assert counts == [1, 1, 1, 1, 1, 1, 2, 2]


def test_clipping_in_the_closure_applies_to_the_second_gradient():
    """A closure without ``apply_hooks`` (a user's own) is called as it is, clipping both passes:
    w_new = w − lr · clip(∇L(w + ε)), ε from the clipped g. (The trainer's closure defers its
    hooks instead: ``test_a_closure_with_hooks_gets_them_once_on_the_stepped_gradient``.)"""
    problem, w0 = ref.random_softmax(seed=4)
    params, loss_fn = ref.torch_softmax(problem, w0)
    opt = SAM(_sgd(params, lr=0.5, momentum=0.0), rho=0.1)
    clip = 0.05
    opt.step(ref.make_closure(opt, loss_fn, clip=clip, params=params))
    g = problem.grad(w0)
    g = g * min(1.0, clip / (np.linalg.norm(g) + 1e-6))          # first pass clipped too
    e = 0.1 * g / (np.linalg.norm(g) + ref.EPS)
    g2 = problem.grad(w0 + e)
    g2 = g2 * min(1.0, clip / (np.linalg.norm(g2) + 1e-6))
    got = torch.cat([p.detach().reshape(-1) for p in params]).numpy()
    assert np.linalg.norm(problem.grad(w0 + e)) > 2 * clip         # clipping really was active
    np.testing.assert_allclose(got, w0 - 0.5 * g2, rtol=RTOL)


def test_coupled_weight_decay_of_the_base_is_not_in_epsilon():
    """torch SGD's weight_decay adds λw inside base.step, after ε was formed from the data gradient."""
    problem, w0 = ref.random_softmax(seed=5)
    params, loss_fn = ref.torch_softmax(problem, w0)
    lam = 0.5
    opt = SAM(_sgd(params, lr=0.1, momentum=0.0, weight_decay=lam), rho=0.05)
    opt.step(ref.make_closure(opt, loss_fn))
    g = problem.grad(w0)
    e = 0.05 * g / (np.linalg.norm(g) + ref.EPS)
    expected = w0 - 0.1 * (problem.grad(w0 + e) + lam * w0)
    got = torch.cat([p.detach().reshape(-1) for p in params]).numpy()
    np.testing.assert_allclose(got, expected, rtol=RTOL)


def _bn_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                               torch.nn.Linear(8, 3))


@pytest.mark.parametrize("pass_model", [True, False])
def test_batch_norm_running_stats_come_only_from_the_unperturbed_pass(pass_model):
    model = _bn_model()
    twin = copy.deepcopy(model)
    X, y = torch.randn(32, 5), torch.randint(0, 3, (32,))
    opt = SAM(_sgd(model.parameters()), rho=0.5, model=model if pass_model else None)
    loss_fn = lambda: torch.nn.functional.cross_entropy(model(X), y)  # noqa: E731
    opt.step(ref.make_closure(opt, loss_fn))
    twin(X)                                                       # one plain forward at the old weights
    bn, bn_twin = model[1], twin[1]
    same = (torch.equal(bn.running_mean, bn_twin.running_mean) and torch.equal(bn.running_var, bn_twin.running_var)
            and int(bn.num_batches_tracked) == int(bn_twin.num_batches_tracked) == 1)
    assert same is pass_model                                     # without model= the second pass leaks in


def test_param_groups_are_the_base_optimizers_list_before_and_after_loading():
    problem, w0 = ref.random_softmax(seed=6)
    params, loss_fn = ref.torch_softmax(problem, w0)
    opt = SAM(_sgd(params), rho=0.05)
    assert opt.param_groups is opt.base.param_groups
    opt.step(ref.make_closure(opt, loss_fn))
    opt.load_state_dict(opt.state_dict())
    assert opt.param_groups is opt.base.param_groups
    for group in opt.param_groups:                               # a schedule sets lr on the wrapper ...
        group["lr"] = 0.0                                         # ... and the base steps with lr 0
    before = torch.cat([p.detach().reshape(-1) for p in params]).clone()
    opt.step(ref.make_closure(opt, loss_fn))
    after = torch.cat([p.detach().reshape(-1) for p in params])
    assert torch.equal(before, after)


def _state_types_ok(obj) -> bool:
    if isinstance(obj, dict):
        return all(isinstance(k, (str, int)) and _state_types_ok(v) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return all(_state_types_ok(v) for v in obj)
    return obj is None or isinstance(obj, (torch.Tensor, int, float, str, bool))


def test_state_dict_round_trip_gives_an_exact_resume():
    problem, w0 = ref.random_softmax(seed=7)
    params, loss_fn = ref.torch_softmax(problem, w0)
    opt = SAM(_sgd(params), rho=0.05, every=2)
    ref.run_torch(opt, params, loss_fn, 5)
    saved_params = [p.detach().clone() for p in params]
    saved_state = copy.deepcopy(opt.state_dict())
    assert _state_types_ok(saved_state) and saved_state["wrapper"] == {"steps": 5, "sam_steps": 3}
    straight = ref.run_torch(opt, params, loss_fn, 5)

    params2, loss_fn2 = ref.torch_softmax(problem, w0)
    with torch.no_grad():
        for p, v in zip(params2, saved_params):
            p.copy_(v)
    opt2 = SAM(_sgd(params2), rho=0.05, every=2)
    opt2.load_state_dict(saved_state)
    resumed = ref.run_torch(opt2, params2, loss_fn2, 5)
    np.testing.assert_array_equal(resumed, straight)


def test_grad_scaler_gradient_is_unscaled_before_the_norm():
    """With a GradScaler (scale 2¹²) the trajectory equals the unscaled one."""
    problem, w0 = ref.random_softmax(seed=8)
    trajectories = []
    for use_scaler in (False, True):
        params, loss_fn = ref.torch_softmax(problem, w0.astype(np.float32))
        params = [torch.nn.Parameter(p.detach().float()) for p in params]
        X, y = torch.tensor(problem.X, dtype=torch.float32), torch.tensor(problem.y)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12, growth_interval=10**6) if use_scaler else None
        opt = SAM(_sgd(params), rho=0.05, adaptive=True, scaler=scaler)

        def closure(backward=True):
            loss = torch.nn.functional.cross_entropy(X @ params[0].T + params[1], y)
            opt.zero_grad(set_to_none=True)
            (scaler.scale(loss) if scaler is not None else loss).backward()
            return loss.detach()

        rows = []
        for _ in range(8):
            opt.step(closure)
            if scaler is not None:
                scaler.update()
            rows.append(torch.cat([p.detach().reshape(-1) for p in params]).numpy().copy())
        trajectories.append(np.array(rows))
    np.testing.assert_allclose(trajectories[1], trajectories[0], rtol=1e-5, atol=1e-7)


def test_bad_options_raise_config_errors_that_name_the_option():
    w = [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(ConfigError, match="rho = -0.1"):
        SAM(_sgd(w), rho=-0.1)
    with pytest.raises(ConfigError, match="every = 0"):
        SAM(_sgd(w), every=0)
    with pytest.raises(ConfigError, match="total_steps = None"):
        SAM(_sgd(w), start_fraction=0.5)
    with pytest.raises(ConfigError, match="start_fraction = 1.0"):
        SAM(_sgd(w), start_fraction=1.0, total_steps=10)
    with pytest.raises(ConfigError, match="base = list"):
        SAM(w)
    with pytest.raises(ConfigError, match="closure is required"):
        SAM(_sgd(w)).step()
    with pytest.raises(CheckpointError, match="missing"):
        SAM(_sgd(w)).load_state_dict({"state": {}, "param_groups": []})


def test_by_name_matches_the_reference_and_builds_the_named_base():
    """build_optimizer("sam", ...) is SAM around the factory's SGD: the same trajectory as the class."""
    problem, w0 = ref.random_softmax(seed=9)
    expected = ref.sam(problem.grad, w0, 15, lr=0.1, mu=0.9, rho=0.05, every=3)
    params, loss_fn = ref.torch_softmax(problem, w0)
    opt = build_optimizer("sam", params, lr=0.1, momentum=0.9, rho=0.05, every=3)
    np.testing.assert_allclose(ref.run_torch(opt, params, loss_fn, 15), expected, rtol=RTOL, atol=1e-12)
    a = build_optimizer("asam", params, lr=0.1, rho=0.5, eta=0.02)
    assert type(a) is SAM and a.adaptive and (a.rho, a.eta) == (0.5, 0.02)
    assert isinstance(build_optimizer("sam", params, lr=1e-3, base="adam").base, Adam)


def test_by_name_weight_decay_is_decoupled_outside_epsilon_and_spares_biases():
    """w ← w·(1 − lr·λ) − lr·∇L(w + ε) for the matrix; the bias (ndim 1) gets no decay."""
    problem, w0 = ref.random_softmax(seed=10)
    params, loss_fn = ref.torch_softmax(problem, w0)
    lr, lam = 0.2, 0.5
    opt = build_optimizer("sam", params, lr=lr, weight_decay=lam, rho=0.05)
    opt.step(ref.make_closure(opt, loss_fn))
    g = problem.grad(w0)
    e = 0.05 * g / (np.linalg.norm(g) + ref.EPS)
    decay = np.concatenate([np.full(params[0].numel(), 1 - lr * lam), np.ones(params[1].numel())])
    expected = w0 * decay - lr * problem.grad(w0 + e)
    got = torch.cat([p.detach().reshape(-1) for p in params]).numpy()
    np.testing.assert_allclose(got, expected, rtol=RTOL)


def _hooks_closure(opt, loss_fn, params, *, value, calls):
    """The trainer's protocol: ``closure(hooks=False)`` skips the gradient hooks (here: a clip by
    value), ``closure.apply_hooks()`` runs them; ``calls`` records each pass's raw gradient."""
    def apply_hooks():
        calls.append("hooks")
        torch.nn.utils.clip_grad_value_(params, value)

    def closure(backward=True, hooks=True):
        loss = loss_fn()
        if not backward:
            return loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        calls.append("pass")
        if hooks:
            apply_hooks()
        return loss.detach()

    closure.apply_hooks = apply_hooks
    return closure


@pytest.mark.parametrize("adaptive", [False, True])
def test_a_closure_with_hooks_gets_them_once_on_the_stepped_gradient(adaptive):
    """ε from the raw g; the base steps with clip(∇L(w + ε)); the hooks run once per step."""
    problem, w0 = ref.random_softmax(seed=4)
    params, loss_fn = ref.torch_softmax(problem, w0)
    opt = SAM(_sgd(params, lr=0.5, momentum=0.0), rho=0.1, adaptive=adaptive)
    calls, value = [], 0.01
    opt.step(_hooks_closure(opt, loss_fn, params, value=value, calls=calls))
    assert calls == ["pass", "pass", "hooks"]
    g = problem.grad(w0)
    if adaptive:
        t = np.abs(w0) + 0.01
        e = 0.1 * t * t * g / (np.linalg.norm(t * g) + ref.EPS)
    else:
        e = 0.1 * g / (np.linalg.norm(g) + ref.EPS)
    g2 = problem.grad(w0 + e)
    assert np.abs(g2).max() > 2 * value and np.abs(g).max() > 2 * value    # clipping matters in both
    got = torch.cat([p.detach().reshape(-1) for p in params]).numpy()
    np.testing.assert_allclose(got, w0 - 0.5 * np.clip(g2, -value, value), rtol=RTOL)


def test_efficient_sam_plain_steps_get_the_hooks_once_too():
    problem, w0 = ref.random_softmax(seed=4)
    params, loss_fn = ref.torch_softmax(problem, w0)
    opt = SAM(_sgd(params, lr=0.5, momentum=0.0), rho=0.1, every=2)
    calls = []
    closure = _hooks_closure(opt, loss_fn, params, value=0.01, calls=calls)
    opt.step(closure)
    opt.step(closure)
    assert calls == ["pass", "pass", "hooks", "pass", "hooks"]


@pytest.mark.parametrize("make", [
    lambda opt: SAM(opt, rho=0.05),
    lambda opt: SAM(opt, rho=0.3, adaptive=True),
])
def test_a_grad_scaler_overflow_step_is_skipped_and_changes_nothing_else(make):
    """An inf loss on one step (as when fp16 overflows): the weights stay exactly as they were,
    the scaler halves its scale, and the rest of the run equals a run without that step."""
    problem, w0 = ref.random_softmax(seed=18)
    runs = []
    for overflow_at in (None, 3):
        W0, b0 = problem.split(w0)
        params = [torch.nn.Parameter(torch.tensor(W0, dtype=torch.float32)),
                  torch.nn.Parameter(torch.tensor(b0, dtype=torch.float32))]
        X, y = torch.tensor(problem.X, dtype=torch.float32), torch.tensor(problem.y)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=10**6)
        opt = make(_sgd(params))
        opt.scaler = scaler
        step = [0]

        def closure(backward=True):
            loss = torch.nn.functional.cross_entropy(X @ params[0].T + params[1], y)
            if step[0] == overflow_at:
                loss = loss * float("inf")
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            return loss.detach()

        rows = []
        for step[0] in range(8):
            before = [p.detach().clone() for p in params]
            opt.step(closure)
            scaler.update()
            if step[0] == overflow_at:
                assert all(torch.equal(a, p) for a, p in zip(before, params))
                assert scaler.get_scale() == 2.0**9
                continue
            rows.append(torch.cat([p.detach().reshape(-1) for p in params]).numpy().copy())
        runs.append(np.array(rows[:7]))
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-6, atol=1e-7)
