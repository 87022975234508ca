"""The suite every registered optimizer must pass (optax's rule): it converges on the notes'
elongated quadratic f(x) = x₁² + 4x₂² (notes 003, "the struggle of GD on elongated functions")
and on Rosenbrock, and its weight decay is the decoupled w ← w − lr·λ·w; and the records
themselves: complete, consistent with the optimizers they build, and documented.

Registering an optimizer without an entry in CONVERGENCE fails
``test_every_registered_optimizer_has_a_convergence_entry``.
"""
import math
from pathlib import Path

import pytest
import torch

from trainwell.config import make_config
from trainwell.errors import ConfigError
from trainwell.optim import AOSAM, SAM, Adam, Newton
from trainwell.optim.decay import DECAY_MODES, L2_OBJECTIVE
from trainwell.optim.factory import build_optimizer
from trainwell.optim.registry import (ADAPTIVE_LR, COMMON_OPTIONS, FULL_STEP_LR, OPTIMIZERS, SGD_LR,
                                      OptimizerInfo, check_optimizer_name, default_lr, optimizer_info,
                                      optimizers_markdown)
from trainwell.optim.schedules import as_lambda_lr, constant, cosine
from trainwell.options import as_types
from trainwell.train.loop import needs_closure

DOCS = Path(__file__).resolve().parents[2] / "docs" / "optimization.md"


def elongated_quadratic(w):
    return w[0] ** 2 + 4 * w[1] ** 2


def rosenbrock(w):
    return (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2


# name -> problem -> (options, steps, schedule, bound on ‖x − x*‖)
CONVERGENCE = {
    "sgd": {
        "quadratic": (dict(lr=0.05, momentum=0.9, nesterov=True), 150, "cosine", 1e-4),
        "rosenbrock": (dict(lr=1e-3, momentum=0.9, nesterov=True), 2000, "constant", 1e-3),
    },
    "adagrad": {
        "quadratic": (dict(lr=1.0), 150, "cosine", 1e-4),
        "rosenbrock": (dict(lr=0.5), 4000, "constant", 0.1),      # AdaGrad's steps shrink: slow
    },
    "rmsprop": {
        "quadratic": (dict(lr=0.05), 300, "cosine", 1e-4),
        "rosenbrock": (dict(lr=3e-4, momentum=0.9), 2000, "constant", 1e-3),
    },
    "adam": {
        "quadratic": (dict(lr=0.2, bias_correction=False), 300, "cosine", 1e-4),
        "rosenbrock": (dict(lr=0.05), 2000, "constant", 1e-3),
    },
    "adamw": {
        "quadratic": (dict(lr=0.2), 300, "cosine", 1e-4),
        "rosenbrock": (dict(lr=0.05), 2000, "constant", 1e-3),
    },
    "lbfgs": {
        "quadratic": (dict(lr=1.0, line_search_fn="strong_wolfe"), 3, "constant", 1e-4),
        "rosenbrock": (dict(lr=1.0, line_search_fn="strong_wolfe"), 10, "constant", 1e-4),
    },
    "rmsprop_notes": {
        "quadratic": (dict(lr=0.05), 300, "cosine", 1e-4),
        "rosenbrock": (dict(lr=3e-3), 4000, "cosine", 0.05),
    },
    "adagrad_notes": {
        "quadratic": (dict(lr=1.0), 150, "cosine", 1e-4),
        "rosenbrock": (dict(lr=0.5), 4000, "constant", 0.1),      # AdaGrad's steps shrink: slow
    },
    "nesterov": {
        "quadratic": (dict(lr=0.02, momentum=0.9), 600, "constant", 1e-4),
        "rosenbrock": (dict(lr=1e-3, momentum=0.9), 1200, "constant", 0.05),   # 0.006 at 1200
    },
    "nesterov_lookahead": {
        "quadratic": (dict(lr=0.02, momentum=0.9), 600, "constant", 1e-4),
        "rosenbrock": (dict(lr=1e-3, momentum=0.9), 1200, "constant", 0.05),   # 0.006 at 1200
    },
    "sign_sgd": {
        "quadratic": (dict(lr=1e-2, momentum=0.9), 2000, "cosine", 1e-3),
        "rosenbrock": (dict(lr=2e-3, momentum=0.9), 4000, "cosine", 0.1),
    },
    "newton": {
        "quadratic": (dict(lr=1.0), 2, "constant", 1e-4),          # exact up to the damping
        "rosenbrock": (dict(lr=1.0), 40, "constant", 1e-4),
    },
    "bfgs": {
        "quadratic": (dict(lr=1.0), 20, "constant", 1e-4),
        "rosenbrock": (dict(lr=1.0), 100, "constant", 1e-4),
    },
    # wrappers (SAM family) around sgd with momentum; eg_sam diverges with it on Rosenbrock's valley (plain there)
    "sam": {
        "quadratic": (dict(lr=0.02, momentum=0.9, rho=1e-3), 600, "constant", 1e-3),
        "rosenbrock": (dict(lr=1e-3, momentum=0.9, rho=1e-3), 2000, "constant", 0.01),
    },
    "asam": {
        "quadratic": (dict(lr=0.02, momentum=0.9, rho=1e-3), 600, "constant", 1e-3),
        "rosenbrock": (dict(lr=1e-3, momentum=0.9, rho=1e-3), 2000, "constant", 0.01),
    },
    "eg_sam": {
        "quadratic": (dict(lr=0.02, momentum=0.9, rho=1e-3), 600, "constant", 1e-3),
        "rosenbrock": (dict(lr=1.5e-3, rho=1e-3), 10000, "constant", 0.05),
    },
    "og_sam": {
        "quadratic": (dict(lr=0.02, momentum=0.9, rho=1e-3), 600, "constant", 1e-3),
        "rosenbrock": (dict(lr=1e-4, momentum=0.9, rho=1e-3), 10000, "constant", 0.05),  # docs/sam.md: 2-cycles
    },
    "ao_sam": {
        "quadratic": (dict(lr=0.02, momentum=0.9, rho=1e-3, total_steps=600), 600, "constant", 1e-3),
        "rosenbrock": (dict(lr=1e-3, momentum=0.9, rho=1e-3, total_steps=2000), 2000, "constant", 0.01),
    },
}
REGISTRY = sorted(OPTIMIZERS)

PROBLEMS = {
    "quadratic": (elongated_quadratic, [3.0, 1.0], [0.0, 0.0]),
    "rosenbrock": (rosenbrock, [-1.2, 1.0], [1.0, 1.0]),          # the classic start
}


def test_every_registered_optimizer_has_a_convergence_entry():
    missing = sorted(set(REGISTRY) - set(CONVERGENCE))
    assert not missing, f"registered without a CONVERGENCE entry: {missing}"
    assert all(set(v) == set(PROBLEMS) for v in CONVERGENCE.values())


SLOW_STEPS = 10000      # a case this long runs in `make test-slow` (the SAM variants' Rosenbrock)


@pytest.mark.parametrize("name, problem", [
    pytest.param(name, problem, marks=pytest.mark.slow if CONVERGENCE[name][problem][1] >= SLOW_STEPS else ())
    for name in REGISTRY for problem in sorted(PROBLEMS)])
def test_optimizer_converges(name, problem):
    options, steps, schedule, bound = CONVERGENCE[name][problem]
    f, start, optimum = PROBLEMS[problem]
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = build_optimizer(name, [w], **options)
    sched = as_lambda_lr(opt, cosine(total=steps) if schedule == "cosine" else constant())

    def closure(backward=True):   # the trainer's closure protocol (backward=False: Newton)
        loss = f(w)
        if backward:
            opt.zero_grad()
            loss.backward()
        return loss

    for _ in range(steps):
        opt.step(closure)
        sched.step()
    distance = (w.detach() - torch.tensor(optimum, dtype=torch.float64)).norm().item()
    assert distance < bound, f"{name} on {problem}: ‖x − x*‖ = {distance:.3g} after {steps} steps"


# lbfgs minimizes an L2 objective (test_factory); the SAM family decays through its base
@pytest.mark.parametrize("name", sorted(n for n, info in OPTIMIZERS.items()
                                        if info.decay != L2_OBJECTIVE and not info.wrapper))
def test_weight_decay_is_decoupled_for_every_optimizer(name):
    # with a zero gradient the only change is the decay, at the lr of the step (after a schedule);
    # the closure optimizers (newton, bfgs, nesterov_lookahead) get a zero-gradient closure, three
    # steps (a decay in place before Newton's Hessian would break its graph on the second)
    w = torch.full((3, 2), 2.0, dtype=torch.float64, requires_grad=True)
    opt = build_optimizer(name, [w], lr=0.1, weight_decay=0.3)
    opt.param_groups[0]["lr"] = 0.05

    def closure(backward=True):
        loss = 0.0 * (w * w).sum()       # w*w keeps w in the graph (what the in-place decay broke)
        if backward:
            opt.zero_grad()
            loss.backward()
        return loss

    for _ in range(3):
        if getattr(opt, "requires_closure", False):
            opt.step(closure)
        else:
            w.grad = torch.zeros_like(w)
            opt.step()
    torch.testing.assert_close(w.detach(), torch.full((3, 2), 2.0 * (1 - 0.05 * 0.3) ** 3, dtype=torch.float64))


# ------------------------------------------------------------------------------ the records
def _small_params():
    return [torch.nn.Parameter(torch.randn(3, 2, generator=torch.Generator().manual_seed(0)))]


@pytest.mark.parametrize("name", REGISTRY)
def test_every_record_is_complete_and_describes_what_it_builds(name):
    info = OPTIMIZERS[name]
    assert isinstance(info, OptimizerInfo) and info.name == name
    assert info.description and info.source and info.decay in DECAY_MODES
    for key, option in info.options.items():
        assert option.doc and option.source, (name, key)
        assert option.default is None or isinstance(option.default, as_types(option.types)), (name, key)
        if key in COMMON_OPTIONS:                       # a common option keeps the common type and check
            assert (option.types, option.check) == (COMMON_OPTIONS[key].types, COMMON_OPTIONS[key].check)
    assert (info.default_lr is None) == info.wrapper
    opt = build_optimizer(name, _small_params(), total_steps=10)
    assert optimizer_info(opt) is info                 # the built optimizer leads back to its record
    assert type(opt) is info.cls
    assert needs_closure(opt) == info.needs_closure    # the trainer's rule agrees with the record
    assert opt.param_groups[0]["lr"] == default_lr(name)   # no lr given: the record's default


def test_traits_say_what_the_notes_say():
    second_order = {n for n, i in OPTIMIZERS.items() if i.second_order}
    assert second_order == {"lbfgs", "newton", "bfgs"}
    assert {n for n, i in OPTIMIZERS.items() if i.two_pass} == {"sam", "asam", "eg_sam", "og_sam", "ao_sam"}
    assert {n for n, i in OPTIMIZERS.items() if i.wrapper} == {"sam", "asam", "eg_sam", "og_sam", "ao_sam"}
    assert {n for n, i in OPTIMIZERS.items() if i.native_decay} == {"adam", "adamw"}
    assert OPTIMIZERS["sgd"].momentum and OPTIMIZERS["adam"].betas and not OPTIMIZERS["adam"].momentum
    assert {n for n, i in OPTIMIZERS.items() if i.needs_closure} == \
        {"lbfgs", "newton", "bfgs", "nesterov_lookahead", "sam", "asam", "eg_sam", "og_sam", "ao_sam"}


def test_optimizer_info_of_user_built_optimizers():
    w = _small_params()
    assert optimizer_info(torch.optim.SGD(w, lr=0.1)) is OPTIMIZERS["sgd"]
    assert optimizer_info(torch.optim.LBFGS(w)).second_order
    assert optimizer_info(Newton(w)).second_order
    plain = optimizer_info(torch.optim.NAdam(w))        # an unregistered torch class: its own record
    assert plain.name == "NAdam" and plain.cls is torch.optim.NAdam and not plain.second_order
    assert plain.betas and plain.native_decay
    sam = SAM(torch.optim.SGD(w, lr=0.1), rho=0.1)
    assert optimizer_info(sam) is OPTIMIZERS["sam"] and optimizer_info(sam.base) is OPTIMIZERS["sgd"]
    assert optimizer_info(SAM(torch.optim.SGD(w, lr=0.1), adaptive=True)) is OPTIMIZERS["asam"]
    assert optimizer_info(AOSAM(Adam(w), total_steps=5)) is OPTIMIZERS["ao_sam"]

    class Mine(torch.optim.Optimizer):                  # the user's own class: unknown
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

    class MySGD(torch.optim.SGD):                       # a subclass: its base class's record
        pass

    assert optimizer_info(Mine(w)) is None
    assert optimizer_info(MySGD(w, lr=0.1)) is OPTIMIZERS["sgd"]


def test_names_aliases_and_default_lrs():
    for name in [*OPTIMIZERS, "momentum", "NAdam", "RAdam"]:
        check_optimizer_name(name)
    with pytest.raises(ConfigError, match=r"'adamm': unknown \(did you mean 'adam'\?\); allowed: sgd, "):
        check_optimizer_name("adamm")
    momentum = build_optimizer("momentum", _small_params(), lr=0.1)      # sgd with μ = 0.9
    assert type(momentum) is torch.optim.SGD and momentum.param_groups[0]["momentum"] == 0.9
    assert [default_lr(n) for n in ("sgd", "momentum", "nesterov", "sam", "adam", "NAdam", "newton", "bfgs")] \
        == [SGD_LR, SGD_LR, SGD_LR, SGD_LR, ADAPTIVE_LR, ADAPTIVE_LR, FULL_STEP_LR, FULL_STEP_LR]
    assert default_lr("sam", base="adam") == ADAPTIVE_LR
    assert default_lr(lambda params: torch.optim.SGD(params, lr=0.1)) == ADAPTIVE_LR


@pytest.mark.parametrize("key, value", [("lr", -1), ("lr", 0), ("lr", "fast"), ("lr", math.inf),
                                        ("momentum", 1.5), ("weight_decay", -1e-4), ("eps", 0.0),
                                        ("betas", [0.9])])
def test_common_options_are_checked_with_the_configs_message(key, value):
    """The config checks an option where it enters; build_optimizer checks it for Python callers
    with the same message, and nothing else checks it."""
    with pytest.raises(ConfigError) as from_config:
        make_config({key: value})
    with pytest.raises(ConfigError) as from_factory:
        build_optimizer("adam", _small_params(), **{key: value})
    if key == "betas":                                 # the config's example is a TOML list
        assert str(from_factory.value).startswith("betas = [0.9]: must be two numbers in [0, 1)")
    else:
        assert str(from_factory.value) == str(from_config.value)


# ------------------------------------------------------------------------------ docs
def test_docs_table_is_the_registry():
    text = DOCS.read_text()
    assert optimizers_markdown() in text, \
        "docs/optimization.md: paste trainwell.optim.registry.optimizers_markdown() over the old table"
    for name, info in OPTIMIZERS.items():
        assert f"`{name}`" in text, name
        for key in info.options:
            assert f"`{key}`" in text, (name, key)
