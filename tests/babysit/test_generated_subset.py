"""A fast seeded subset of bench/babysit_gen.py: the generator is deterministic, every mutation
operator builds a setup that runs, and the doctor names the injected fault on a few mutants while
the parent stays quiet."""
import importlib.util
import sys
from pathlib import Path

import torch

_BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(_BENCH))
_SPEC = importlib.util.spec_from_file_location("babysit_gen", _BENCH / "babysit_gen.py")
gen = importlib.util.module_from_spec(_SPEC)
sys.modules["babysit_gen"] = gen
_SPEC.loader.exec_module(gen)

from trainwell.babysit.doctor import doctor  # noqa: E402


def test_parents_are_seeded_and_every_operator_builds_a_setup_that_runs():
    assert gen.parent(3) == gen.parent(3) and gen.parent(3) != gen.parent(4)
    seen = set()
    for seed in range(6):
        for s in gen.mutants(gen.parent(seed)):
            model, splits, opts = gen.build(s)
            with torch.no_grad():
                out = model.eval()(splits.train[0][:4].float())
            assert out.shape[0] == 4
            seen.add(s.mutation)
    assert seen == set(gen.OPERATORS)
    assert gen.HELD_OUT_FAMILIES and gen.TUNE_FAMILIES & {op.family for op in gen.OPERATORS.values()}
    assert not gen.HELD_OUT_FAMILIES & gen.TUNE_FAMILIES


def _primary(s, budget_s=60.0):
    model, splits, opts = gen.build(s)
    # wall_s=None: the parent's quiet cannot come from a check the backstop left out;
    # device: the labels and thresholds were measured on CPU runs of these setups
    diag = doctor(model, splits, **gen.BASE, **{**opts, "epochs": 4, "device": "cpu"}, budget_s=budget_s,
                  wall_s=None)
    return diag


def test_the_doctor_names_injected_faults_and_is_quiet_on_the_parent():
    p = gen.parent(3)                                   # teacher task, 4-layer ReLU MLP, Nesterov
    assert p.data == "teacher" and p.arch == "mlp"
    assert not [f for f in _primary(p).findings if f.severity in ("error", "warning")]
    # weight decay x1 is found by the experiment's weight-decay arm, which needs the bench's 60 s;
    # inputs x1000 by the pre-flight, which 10 s pays for (its primary the same as at 60 s)
    for mutation, budget_s in (("weight_decay_1", 60.0), ("inputs_x1000", 10.0)):
        diag = _primary(gen.replace(p, mutation=mutation), budget_s)
        assert diag.primary.code in gen.OPERATORS[mutation].expected, (mutation, diag.codes)


def test_a_regression_repair_is_scored_in_points_of_r2():
    """bench: 2 points of R^2 = 1 - MSE / Var(y_test), as 2 points of accuracy for class ids."""
    from types import SimpleNamespace
    splits = gen.data("regression")
    var = float(splits.test[1].double().var())
    run = SimpleNamespace(results={"test": {"loss": 0.25 * var}})
    assert abs(gen._points(run, splits) - 0.75) < 1e-9
    assert gen._points(SimpleNamespace(results={"test": {"acc": 0.9, "loss": 0.3}}), splits) == 0.9
