"""The doctor's and the repairer's budget (babysit/budget.py): nominal seconds at the cost model's
price, so the same seed runs the same steps, and finds and repairs the same, on a loaded machine."""
import math
import time

import pytest
import torch
from torch import nn

import trainwell
from trainwell.babysit import cost, repair
from trainwell.babysit.budget import SAFETY_FLOOR_S, Budget
from trainwell.babysit.doctor import doctor
from babysit_loop import digits

FAST = {"progress": False, "report": False, "device": "cpu"}   # CPU-exact twins


def sigmoid_mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 128), nn.Sigmoid(), nn.Linear(128, 64), nn.Sigmoid(), nn.Linear(64, 10))


@pytest.fixture(scope="module")
def data():
    X, y, Xv, yv = digits()
    return (X, y), (Xv, yv)


def test_a_step_is_priced_from_the_counted_work_and_scales_with_the_rows():
    """Two Linear layers on r rows: r x (64 x 128 + 128 x 10) multiply-accumulates, r x (128 + 10)
    outputs, 2 calls; the price is cost.step_seconds of that work at BUDGET_COSTS, for any rows (linear in them)."""
    net = nn.Sequential(nn.Linear(64, 128), nn.Linear(128, 10))
    budget = Budget(1.0)
    assert budget.step_cost(32) == 0.0 and budget.affordable(32) == math.inf   # not counted yet
    budget.count(net, torch.randn(16, 64))
    for rows in (16, 32, 100):
        work = cost.StepWork(rows * (64 * 128 + 128 * 10), rows * (128 + 10), 2,
                             64 * 128 + 128 + 128 * 10 + 10, 4)
        assert budget.step_cost(rows) == pytest.approx(cost.step_seconds(work, costs=cost.BUDGET_COSTS), rel=1e-12)
        assert budget.forward_cost(rows) == pytest.approx(cost.forward_seconds(work, costs=cost.BUDGET_COSTS), rel=1e-12)
    assert budget.affordable(32) == int(1.0 / budget.step_cost(32))


def test_a_share_spends_from_its_budget_and_stops_at_the_first_limit():
    budget = Budget(10.0)
    part = budget.share(4.0)
    part.charge(3.0)
    assert (budget.spent, budget.left, part.left) == (3.0, 7.0, 1.0)
    budget.charge(6.5)                      # the whole has 0.5 left: the part too
    assert part.left == 0.5 and not part.spent_out()
    part.charge(0.5)
    assert part.spent_out() and budget.spent_out() and not budget.clock_stopped
    assert budget.share(5.0).seconds == 0.0


def test_the_clock_stops_only_far_beyond_the_budget(monkeypatch):
    now = {"t": 0.0}
    monkeypatch.setattr(time, "perf_counter", lambda: now["t"])
    budget = Budget(1.0)                    # a small budget: the floor, not 10 x 1 s
    now["t"] = SAFETY_FLOOR_S - 1
    assert not budget.spent_out()
    now["t"] = SAFETY_FLOOR_S + 1
    assert budget.spent_out() and budget.share(0.5).clock_stopped


def _fast_clock(monkeypatch, factor=10.0):
    """A clock that runs ``factor`` x fast: every duration reads ``factor`` x longer, as on a machine
    ``factor`` x slower (a loaded one)."""
    real = time.perf_counter
    start = real()
    monkeypatch.setattr(time, "perf_counter", lambda: start + factor * (real() - start))


def _findings(diagnosis) -> list:
    return [(f.code, f.severity, f.where, f.message, repr(f.evidence)) for f in diagnosis]


def test_the_doctor_finds_the_same_with_a_clock_ten_times_fast(data, monkeypatch):
    """A budget that stops the pre-flight's checks (check_skipped) and sizes the experiments'
    arms: the same findings, evidence included, when every duration reads 10x longer."""
    model = sigmoid_mlp()
    opts = {**FAST, "epochs": 4, "optimizer": "sgd", "momentum": 0.0, "nesterov": False, "lr": 0.05, "seed": 3}
    budget_s = 0.6                  # nominal seconds: the gradient check and the experiments fit, not all
    quiet = doctor(model, *data, budget_s=budget_s, **opts)
    assert "check_skipped" in {f.code for f in quiet}, _findings(quiet)
    _fast_clock(monkeypatch)
    loaded = doctor(model, *data, budget_s=budget_s, **opts)
    assert _findings(loaded) == _findings(quiet)


def test_fit_repairs_the_same_with_a_clock_ten_times_fast(data, monkeypatch):
    """``fit(babysit="repair")`` on a sigmoid MLP: the fit-start activation experiment (setup,
    repeat, ReLU arm: ~99 steps each in a 1500-step run) runs inside a budget that binds
    (GRADE_BUDGET_S lowered to 0.3 nominal seconds: about 60 steps an arm); with every duration
    reading 10x longer the weights, the history, the findings and the repairs are bit-identical.
    (Timed by the clock, a 10x slower machine ran 20-step arms cut short by the deadline.)"""
    monkeypatch.setattr(repair, "GRADE_BUDGET_S", 0.3)
    opts = {**FAST, "epochs": 17, "batch_size": 16, "optimizer": "sgd", "momentum": 0.0, "nesterov": False,
            "lr": 0.05, "seed": 1, "babysit": "repair"}
    quiet = trainwell.fit(sigmoid_mlp(), *data, **opts)
    steps = {f.evidence.get("steps") for f in quiet.findings if "intervention" in f.evidence}
    assert len(steps) == 1 and 20 <= steps.pop() < 99          # the budget binds (MIN_STEPS <= steps)
    _fast_clock(monkeypatch)
    loaded = trainwell.fit(sigmoid_mlp(), *data, **opts)
    assert all(torch.equal(a, b) for a, b in zip(quiet.model.state_dict().values(),
                                                 loaded.model.state_dict().values()))
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in quiet.history]
    assert [{k: v for k, v in h.items() if k != "seconds"} for h in loaded.history] == strip
    assert _findings(loaded.findings) == _findings(quiet.findings)
    assert loaded.repairs == quiet.repairs
