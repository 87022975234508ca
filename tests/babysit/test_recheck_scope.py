"""What the repairer's pre-flight re-check reads again (repair.Repairer._preflight): after a change
of the model alone (``Action.changes_data`` False) the checks that read the training rows alone
(``preflight.DATA_CHECKS``) are left out, and the periodic-columns check returns what it read last
on the same rows (``periodic_columns.remembered``); the findings and the run are the ones a full
re-check gives. Costs are asserted in counts (check calls, periodograms), not time."""
import dataclasses
import inspect

import pytest
import torch
from torch import nn

import trainwell
from trainwell.babysit import first_layer as fl
from trainwell.babysit import periodic_columns as pc
from trainwell.babysit import preflight as pf
from trainwell.babysit import data_checks
from trainwell.babysit import repair
from trainwell.babysit.actions import ACTIONS
from test_periodic_columns import meter_readings
from test_repair import data  # noqa: F401  (the digits fixture, shared)

FAST = {"progress": False, "report": False, "epochs": 4, "device": "cpu"}


def mlp(d=64, out=10, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, out))


def zeroed(model):
    for p in model.parameters():
        nn.init.zeros_(p)
    return model


@pytest.fixture
def counts(monkeypatch):
    """Calls of the pre-flight, of one check of the rows alone (``check_value_codes``) and of the
    periodogram, inside fits."""
    counted = {"preflight": 0, "data": 0, "periodogram": 0}

    def counting(module, name, key):
        real = getattr(module, name)

        def wrapper(*args, **kwargs):
            counted[key] += 1
            return real(*args, **kwargs)
        monkeypatch.setattr(module, name, wrapper)
    counting(repair, "preflight", "preflight")
    counting(pf, "check_value_codes", "data")
    counting(pc, "periodogram", "periodogram")
    return counted


def _record(run):
    findings = sorted((f.code, str(f.where), f.severity, f.message) for f in run.findings.findings)
    return ([(r["step"], r["code"], r["action"], r["after"]) for r in run.repairs],
            [(h.get("train_loss"), h.get("val_loss")) for h in run.history],
            (run.results.get("test") or {}).get("acc"), findings)


def test_the_data_checks_take_no_model():
    """Each check of the rows alone declares so by what it reads: no model among its parameters."""
    for name in pf.DATA_CHECKS:
        params = inspect.signature(getattr(pf, name)).parameters
        assert "model" not in params and "out" not in params, name


def test_a_model_repair_rechecks_the_model_but_not_the_rows_and_the_run_is_the_full_rechecks(data, counts,
                                                                                            monkeypatch):
    """Zero weights re-initialized at step 0 (``reinit``: the model alone): the pre-flight runs twice,
    the data checks once; with ``reinit`` marked as changing the data they run twice, and the repairs,
    history, test accuracy and findings are the same."""
    once = trainwell.fit(zeroed(mlp()), data, babysit="repair", **FAST)
    assert (once.repairs[0]["step"], once.repairs[0]["action"]) == (0, "reinit"), once.repairs
    assert counts["preflight"] == 2 and counts["data"] == 1, counts
    counts.update(preflight=0, data=0)
    monkeypatch.setitem(ACTIONS, "reinit", dataclasses.replace(ACTIONS["reinit"], changes_data=True))
    full = trainwell.fit(zeroed(mlp()), data, babysit="repair", **FAST)
    assert counts["preflight"] == 2 and counts["data"] == 2, counts
    assert _record(once) == _record(full)


def test_a_data_repair_rechecks_the_rows(data, counts):
    """Inputs x1000 standardized at step 0 (``standardize`` changes the rows): every re-check runs the
    data checks again."""
    X, y = data.train
    run = trainwell.fit(mlp(), dataclasses.replace(data, train=(X * 1000, y)), babysit="repair", **FAST)
    assert (run.repairs[0]["step"], run.repairs[0]["action"]) == (0, "standardize"), run.repairs
    assert counts["preflight"] >= 2 and counts["data"] == counts["preflight"], counts


def test_model_only_actions_by_name():
    """The actions that change the model alone; a new action is taken to change the rows unless it says so."""
    assert {name for name, a in ACTIONS.items() if not a.changes_data} == {
        "reinit", "swap_activations", "remove_output_activation", "shrink_output_layer", "lower_dropout",
        "append_log_softmax", "append_output_activation", "more_regularization", "remove_output_dropout"}
    for name in ("standardize", "impute", "refit_preprocess", "detach_hook"):
        assert ACTIONS[name].changes_data, name


def test_preflight_without_the_data_checks_is_the_full_one_less_their_findings():
    """Unscaled, unshuffled, imbalanced rows (each data check finds something) into a zero-init net
    (the model checks find something): ``data_checks=False`` returns exactly the full pre-flight's
    findings less those the data checks return on the rows."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(600, 8, generator=g) * 1000 + 500
    y = torch.cat([torch.zeros(560, dtype=torch.long), torch.ones(40, dtype=torch.long)])
    model = zeroed(mlp(8, 2))
    kw = {"loss": "cross_entropy", "shuffle": False, "cheap_only": True, "seed": 0}
    full = pf.preflight(model, X, y, **kw)
    part = pf.preflight(model, X, y, data_checks=False, **kw)
    by_rows = (pf.rows_alone(model, X, y, X[:pf.PROBE_ROWS], kind="cross_entropy", class_ids=True)
               + data_checks.check_class_balance(y, "cross_entropy") + data_checks.check_shuffled(y, shuffle=False, class_ids=True))
    assert {"unnormalized_inputs", "class_imbalance", "unshuffled_data"} <= {f.code for f in by_rows}
    assert {f.key for f in by_rows} & {f.key for f in part} == set()
    rows_keys = {f.key for f in by_rows}
    assert [f.to_dict() for f in part] == [f.to_dict() for f in full if f.key not in rows_keys]
    assert len(part) < len(full) and any(f.code == "symmetric_init" for f in part)


def _periodic(x, y):
    return pc.check_periodic(x, y, class_ids=True, entries=fl.entry_layers(mlp(x.shape[1], 3), x[:64]),
                             alpha=fl.ALPHA, numeric=fl.NUMERIC)


def test_the_periodic_check_remembers_the_rows_it_read_within_the_block(counts):
    """Within ``remembered()`` a second reading of the same rows computes no periodogram and returns
    equal findings (copies); rows changed in one value, or another target, are read again; outside
    the block every call reads."""
    x, y, _ = meter_readings()
    plain = _periodic(x, y)
    per_call = counts["periodogram"]
    assert plain and per_call > 0
    with pc.remembered():
        first = _periodic(x, y)
        second = _periodic(x.clone(), y.clone())
        assert counts["periodogram"] == 2 * per_call
        assert [f.to_dict() for f in second] == [f.to_dict() for f in first] == [f.to_dict() for f in plain]
        second[0].evidence["step"] = 0                     # the caller's edits do not reach what is remembered
        assert "step" not in _periodic(x, y)[0].evidence
        moved = x.clone()
        moved[5, 1] += 1.0
        _periodic(moved, y)
        assert counts["periodogram"] == 3 * per_call
        _periodic(moved, (y + 1) % 3)
        assert counts["periodogram"] == 4 * per_call
    _periodic(x, y)
    assert counts["periodogram"] == 5 * per_call


def test_a_model_repair_reads_the_periodograms_once(counts, monkeypatch):
    """A time stamp into a net that ends in a softmax under cross-entropy: ``remove_output_activation``
    at step 0 and its re-check read the periodograms of the same rows once; with nothing remembered,
    twice; the runs are the same."""
    x, y, _ = meter_readings(n=1200)
    split = 900
    train, val = (x[:split], y[:split]), (x[split:], y[split:])

    def fit():
        return trainwell.fit(nn.Sequential(mlp(2, 3), nn.Softmax(dim=1)), train, val, babysit="repair", **FAST)
    once = fit()
    assert (once.repairs[0]["step"], once.repairs[0]["action"]) == (0, "remove_output_activation"), once.repairs
    assert counts["preflight"] == 2
    reads = counts["periodogram"]
    counts.update(preflight=0, periodogram=0)
    monkeypatch.setattr(pc, "recall", lambda name, read: None)
    twice = fit()
    assert counts["preflight"] == 2
    assert counts["periodogram"] == 2 * reads > 0
    assert _record(once) == _record(twice)


def test_signals_in_one_fft_give_each_signals_own_periodogram():
    """``periodogram(x, S)`` on k stacked signals: row i is ``periodogram(x, S[i])`` (to rounding:
    1e-9 of the peak), a constant signal's row is zero."""
    g = torch.Generator().manual_seed(3)
    x = torch.rand(700, generator=g, dtype=torch.float64)
    signals = torch.stack([torch.sin(2 * torch.pi * 37 * x), (torch.rand(700, generator=g) < 0.3).double(),
                           torch.randn(700, generator=g, dtype=torch.float64), torch.full((700,), 2.0)])
    cycles, powers = pc.periodogram(x, signals)
    assert powers.shape == (4, cycles.numel())
    for s, power in zip(signals[:3], powers):
        one_cycles, one = pc.periodogram(x, s)
        assert torch.equal(one_cycles, cycles)
        assert torch.allclose(power, one, rtol=0, atol=1e-9 * float(one.max()))
    assert float(cycles[int(powers[0].argmax())]) == pytest.approx(37 * float(x.max() - x.min()), abs=0.2)
    assert not powers[3].any()
