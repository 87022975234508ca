"""Schedules against closed forms (the notes' formulas) and against torch's lr schedulers."""
import json
import math

import pytest
import torch

from trainwell.errors import ConfigError
from trainwell.optim.schedules import (SCHEDULE_OPTIONS, SCHEDULES, ReduceOnPlateau, as_lambda_lr,
                                       constant, cosine, cosine_restarts, exponential, inverse_sqrt,
                                       inverse_time, linear_decay, make_schedule, one_cycle,
                                       schedule_options, staircase, warmup)
from trainwell.options import Option, as_types


def _torch_lrs(make_scheduler, steps, base=0.5):
    """The lr torch's scheduler gives to optimizer steps 0..steps-1 (step() after each)."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


# ------------------------------------------------------------------------------ closed forms
@pytest.mark.parametrize("schedule, formula", [
    (constant(), lambda t: 1.0),
    (staircase(every=7, factor=10.0), lambda t: 10.0 ** -(t // 7)),
    (exponential(rate=0.03), lambda t: math.exp(-0.03 * t)),
    (inverse_time(k=0.2), lambda t: 1 / (1 + 0.2 * t)),
    (inverse_sqrt(k=0.2), lambda t: 1 / math.sqrt(1 + 0.2 * t)),
    (cosine(total=40, final=0.1), lambda t: 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(t, 40) / 40))),
])
def test_schedule_matches_its_closed_form(schedule, formula):
    for t in range(100):
        assert schedule(t) == pytest.approx(formula(t), rel=1e-12, abs=1e-15)


def test_linear_decay_is_the_notes_formula_and_then_constant():
    # notes 000: ε_k = (1 − α) ε_0 + α ε_τ, α = k/τ; ε_τ ≈ 1% of ε_0; constant after τ
    eps0, tau = 0.2, 50
    eps_tau = 0.01 * eps0
    s = linear_decay(tau=tau)
    for k in range(tau + 1):
        alpha = k / tau
        assert eps0 * s(k) == pytest.approx((1 - alpha) * eps0 + alpha * eps_tau, rel=1e-12)
    assert [s(k) for k in (tau, tau + 1, 10 * tau)] == pytest.approx([0.01] * 3)


def test_staircase_in_epochs_divides_every_L_epochs():
    s = make_schedule("step", total_steps=1000, steps_per_epoch=10, every_epochs=3, factor=5.0)
    assert [s(t) for t in (0, 29, 30, 59, 60)] == pytest.approx([1, 1, 0.2, 0.2, 0.04])


def test_cosine_matches_torch_cosine_annealing():
    ours = cosine(total=30, final=0.05)
    ref = _torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=30, eta_min=0.025), 31)
    assert [0.5 * ours(t) for t in range(31)] == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("total, pct, div, final_div", [(100, 0.3, 25.0, 1e4), (37, 0.25, 10.0, 100.0)])
def test_one_cycle_matches_torch(total, pct, div, final_div):
    s = one_cycle(total=total, pct_start=pct, div_factor=div, final_div_factor=final_div)
    ref = _torch_lrs(lambda o: torch.optim.lr_scheduler.OneCycleLR(
        o, max_lr=0.5, total_steps=total, pct_start=pct, div_factor=div, final_div_factor=final_div,
        cycle_momentum=False), total)
    assert [0.5 * s(t) for t in range(total)] == pytest.approx(ref, rel=1e-9)
    peak = max(s(t) for t in range(total))
    assert 0.99 < peak <= 1.0                                            # the base lr is the peak
    assert s(total + 50) == pytest.approx(1 / (div * final_div))         # stays at the floor


@pytest.mark.parametrize("period, mult", [(10, 1), (5, 2), (3, 3)])
def test_cosine_restarts_match_torch_sgdr(period, mult):
    s = cosine_restarts(period=period, mult=mult, final=0.1)
    ref = _torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        o, T_0=period, T_mult=mult, eta_min=0.05), 120)
    assert [0.5 * s(t) for t in range(120)] == pytest.approx(ref, rel=1e-9)
    assert s(period) == 1.0                                              # a restart


# ------------------------------------------------------------------------------ warmup
def test_warmup_ramps_linearly_then_runs_the_shifted_inner_schedule():
    inner = cosine(total=20)
    s = warmup(inner, steps=5)
    assert [s(t) for t in range(5)] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    for t in range(5, 40):
        assert s(t) == inner(t - 5)
    assert warmup(inner, steps=0) is inner


def test_make_schedule_gives_the_inner_schedule_the_steps_after_warmup():
    s = make_schedule("cosine", total_steps=100, steps_per_epoch=10, warmup_steps=10)
    assert s(9) == pytest.approx(1.0) and s(10) == pytest.approx(1.0)
    assert s(55) == pytest.approx(0.5)                                   # half way through cosine
    assert s(100) == pytest.approx(0.0, abs=1e-12)                       # ends at the run's end


def test_warmup_keeps_the_plateau_state():
    s = make_schedule("plateau", total_steps=100, steps_per_epoch=10, warmup_steps=4, patience=0)
    assert s(0) == pytest.approx(0.25)
    s.observe(1.0)
    s.observe(2.0)                                                       # worse: cut at once
    assert s(50) == pytest.approx(0.1) and s.state_dict()["mult"] == pytest.approx(0.1)


# ------------------------------------------------------------------------------ plateau
def test_plateau_matches_torch_reduce_on_plateau():
    metrics = [1.0, 0.9, 0.9, 0.91, 0.95, 0.89, 0.8999, 0.9, 0.9, 0.9, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6]
    ours = ReduceOnPlateau(factor=0.5, patience=2, threshold=1e-2, cooldown=1, min_mult=0.1)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, threshold=1e-2,
                                                     cooldown=1, min_lr=0.1)
    for m in metrics:
        ours.observe(m)
        ref.step(m)
        assert ours(0) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)
    assert ours(0) < 1.0                                                 # it did cut


def test_plateau_max_mode_cuts_when_accuracy_stalls():
    s = ReduceOnPlateau(mode="max", patience=1, factor=0.1)
    for acc in (0.5, 0.6, 0.6, 0.59):
        s.observe(acc)
    assert s(0) == pytest.approx(0.1)


def test_plateau_state_round_trips_through_json_and_resumes_exactly():
    metrics = [1.0, 0.8, 0.81, 0.82, 0.7, 0.71, 0.72, 0.73, 0.69, 0.7, 0.7, 0.7]
    whole = ReduceOnPlateau(patience=1, cooldown=1)
    first = ReduceOnPlateau(patience=1, cooldown=1)
    for m in metrics[:5]:
        whole.observe(m)
        first.observe(m)
    resumed = ReduceOnPlateau(patience=1, cooldown=1)
    resumed.load_state_dict(json.loads(json.dumps(first.state_dict())))
    for m in metrics[5:]:
        whole.observe(m)
        resumed.observe(m)
        assert resumed(0) == whole(0)
    assert resumed.state_dict() == whole.state_dict()
    fresh = ReduceOnPlateau().state_dict()
    assert json.loads(json.dumps(fresh)) == fresh                        # no infinities before data


# ------------------------------------------------------------------------------ registry, config
def test_every_schedule_is_registered_with_options_and_builds_from_defaults():
    assert set(SCHEDULES) == set(SCHEDULE_OPTIONS) == {
        "constant", "step", "exponential", "inverse_time", "inverse_sqrt", "linear", "cosine",
        "one_cycle", "cosine_restarts", "plateau"}
    for name, options in SCHEDULE_OPTIONS.items():
        for key, option in options.items():
            assert isinstance(option, Option) and option.doc
            assert set(as_types(option.types)) - {type(None)} <= {int, float, str}
            assert option.default is None or isinstance(option.default, option.types)
        s = make_schedule(name, total_steps=200, steps_per_epoch=10)
        values = [s(t) for t in range(0, 200, 7)]
        assert all(0 <= v <= 1 and math.isfinite(v) for v in values)


def test_epoch_options_are_converted_with_steps_per_epoch():
    s = make_schedule("cosine_restarts", total_steps=500, steps_per_epoch=10, period_epochs=2, mult=1)
    assert s(20) == 1.0 and s(10) == pytest.approx(0.5)
    e = make_schedule("exponential", total_steps=500, steps_per_epoch=10, rate_per_epoch=0.5)
    assert e(10) == pytest.approx(math.exp(-0.5))
    i = make_schedule("inverse_time", total_steps=500, steps_per_epoch=10, k_per_epoch=2.0)
    assert i(10) == pytest.approx(1 / 3)
    lin = make_schedule("linear", total_steps=500, steps_per_epoch=10, decay_epochs=5)
    assert lin(50) == pytest.approx(0.01) and lin(25) == pytest.approx(0.505)
    whole_run = make_schedule("linear", total_steps=500, steps_per_epoch=10)
    assert whole_run(500) == pytest.approx(0.01) and whole_run(250) > 0.5


@pytest.mark.parametrize("call, message", [
    (lambda: make_schedule("cosinus", total_steps=10, steps_per_epoch=1),
     "schedule = 'cosinus': unknown (did you mean 'cosine'?); allowed: constant, step"),
    (lambda: make_schedule("step", total_steps=10, steps_per_epoch=1, every=3),
     "schedule 'step': unknown option 'every'; allowed: every_epochs, factor"),
    (lambda: make_schedule("constant", total_steps=10, steps_per_epoch=1, final=0.1),
     "schedule 'constant': unknown option 'final'; allowed: (no options)"),
    (lambda: make_schedule("cosine", total_steps=10, steps_per_epoch=1, final="low"),
     "schedule 'cosine': final = 'low': must be a number"),
    (lambda: make_schedule("step", total_steps=10, steps_per_epoch=1, every_epochs=2.5),
     "schedule 'step': every_epochs = 2.5: must be an integer"),
    (lambda: make_schedule("plateau", total_steps=10, steps_per_epoch=1, mode="best"),
     "schedule 'plateau': mode = 'best': must be \"min\" or \"max\""),
    (lambda: ReduceOnPlateau(mode="best"), "plateau: mode = 'best': must be \"min\" or \"max\""),
    (lambda: make_schedule("cosine", total_steps=10, steps_per_epoch=1, warmup_steps=-1),
     "warmup_steps = -1: must be an integer >= 0"),
    (lambda: cosine(total=0), "cosine: total = 0: must be an integer >= 1"),
    (lambda: staircase(every=3, factor=0), "staircase: factor = 0: must be >= 1 (it divides the lr"),
    (lambda: staircase(every=3, factor=0.1), "staircase: factor = 0.1: must be >= 1 (it divides the lr"),
])
def test_bad_schedule_options_raise_config_errors_that_name_them(call, message):
    with pytest.raises(ConfigError) as e:
        call()
    assert message in str(e.value)


def test_as_lambda_lr_drives_a_torch_optimizer_with_group_multipliers():
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    opt = torch.optim.SGD([{"params": [a], "lr_mult": 1.0}, {"params": [b], "lr_mult": 0.1}], lr=0.4)
    s = warmup(cosine(total=10), steps=3)
    sched = as_lambda_lr(opt, s)
    for t in range(15):
        assert opt.param_groups[0]["lr"] == pytest.approx(0.4 * s(t))
        assert opt.param_groups[1]["lr"] == pytest.approx(0.04 * s(t))
        opt.step()
        sched.step()


# ------------------------------------------------------------------------------ option ranges
def test_every_option_has_a_range_and_its_default_is_in_it():
    for name, options in SCHEDULE_OPTIONS.items():
        for key, option in options.items():
            assert option.check is not None, (name, key)
            assert option.default is None or option.check(option.default) is None, (name, key)
        assert schedule_options(name, {}) == {k: o.default for k, o in options.items()}


@pytest.mark.parametrize("name, key", [("step", "every_epochs"), ("cosine_restarts", "period_epochs"),
                                       ("linear", "decay_epochs")])
@pytest.mark.parametrize("value", [0, -3])
def test_epoch_counts_below_one_are_errors_not_one_step(name, key, value):
    with pytest.raises(ConfigError) as e:
        make_schedule(name, total_steps=100, steps_per_epoch=10, **{key: value})
    assert f"{key} = {value}: must be an integer >= 1" in str(e.value)
    from trainwell.config import make_config
    with pytest.raises(ConfigError, match=rf"schedule\.{key} = {value}: must be an integer >= 1"):
        make_config({"schedule": {"name": name, key: value}})


def test_negative_at_finds_the_first_negative_or_non_finite_multiplier():
    """A cosine written as cos(pi t / T) turns negative at the run's middle; the shifted one never
    does; NaN and inf are read as bad too; a negative region narrower than the sampling stride at
    the run's very end is still read (the last step is always evaluated)."""
    from trainwell.optim.schedules import SPENT_POINTS, negative_at
    total = 900
    assert negative_at(lambda t: math.cos(math.pi * t / total), total) == (451, pytest.approx(math.cos(math.pi * 451 / total)))
    assert negative_at(lambda t: (1 + math.cos(math.pi * t / total)) / 2, total) is None
    assert negative_at(cosine(total=total), total) is None
    assert negative_at(lambda t: float("nan") if t == 300 else 1.0, total) == (300, pytest.approx(float("nan"), nan_ok=True))
    assert negative_at(lambda t: math.inf, total)[0] == 0
    long = 10 * SPENT_POINTS
    assert negative_at(lambda t: -1.0 if t == long - 1 else 1.0, long) == (long - 1, -1.0)
    assert negative_at(lambda t: 1.0, 0) is None


def test_fit_refuses_a_schedule_function_that_gives_a_negative_lr(blobs):
    """The error names the step, the value and what is allowed, before any training; a plateau
    schedule (state, follows the metric) and a valid function train as before."""
    from trainwell import fit
    X, y = blobs
    total = 3 * math.ceil(X.shape[0] / 32)
    with pytest.raises(ConfigError, match=r"schedule: the function gives -[0-9.e-]+ at step \d+ of the run's "
                                          r"\d+; a schedule gives a finite multiplier >= 0"):
        fit(torch.nn.Linear(X.shape[1], 3), (X, y), epochs=3, batch_size=32, lr=0.1, babysit="off",
            schedule=lambda t: math.cos(math.pi * t / total), progress=False, device="cpu")
    def cosine(t):
        return (1 + math.cos(math.pi * t / total)) / 2

    result = fit(torch.nn.Linear(X.shape[1], 3), (X, y), epochs=3, batch_size=32, lr=0.1, babysit="off",
                 schedule=cosine, progress=False, device="cpu")
    # each epoch's lr is the one its last step (step - 1) trained with
    assert [h["lr"] for h in result.history] == pytest.approx([0.1 * cosine(h["step"] - 1) for h in result.history])
