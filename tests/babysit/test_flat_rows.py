"""Rows held at one value of their own (babysit/flat_rows.py): found where the other rows hold
distinct readings and the probes predict the flat rows worse; padding, a sensor that really held
still and quantized readings stay quiet."""
import numpy as np
import torch
from torch import nn

from trainwell.babysit import flat_rows as fl
from trainwell.babysit import preflight as pf

HOURS = 24


def day_exports(n, seed, newest_first=0.0, sorted_=False):
    """(n, 1, 24) loggers' days: 28-40 readings at random times (rising, falling or peaking; own level,
    amplitude, noise), ``np.interp`` onto the hours; ``newest_first`` of the exports come newest first
    and are interpolated as they come (numpy reads a decreasing xp as the first reading from there on);
    ``sorted_``: every export sorted by time first (the same days)."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    flipped = g.random(n) < newest_first
    grid = np.arange(HOURS) + 0.5
    X = np.empty((n, HOURS))
    for i, (k, flip) in enumerate(zip(y, flipped)):
        t = np.sort(g.uniform(0, HOURS, g.integers(28, 41)))
        s = t / HOURS
        v = g.normal(0, 0.5) + g.uniform(0.5, 1.5) * (s, 1 - s, 1 - np.abs(2 * s - 1))[k] + g.normal(0, 0.1, len(t))
        X[i] = np.interp(grid, t[::-1], v[::-1]) if flip and not sorted_ else np.interp(grid, t, v)
    X = (X - X.mean()) / X.std()
    return torch.tensor(X[:, None, :], dtype=torch.float32), torch.tensor(y), torch.tensor(flipped)


def codes(found):
    return [f.code for f in found]


def test_newest_first_exports_interpolated_are_found_and_named():
    X, y, flipped = day_exports(2000, seed=0, newest_first=0.3)
    flat = fl.flat_rows(X.reshape(len(X), -1).double())
    assert torch.equal(flat["rows"], flipped)           # every newest-first export, no other row
    found = fl.check_flat_rows(X, y, class_ids=True)
    assert codes(found) == ["uninformative_inputs"] and found[0].severity == "warning"
    f = found[0]
    assert abs(f.evidence["flat_share"] - float(flipped.double().mean())) < 1e-9
    assert f.evidence["flat_unexplained"] >= 1.25 * f.evidence["others_unexplained"]
    assert f.evidence["p"] < f.evidence["p_threshold"] and "np.interp" in f.message
    # the pre-flight's checks of the rows alone run it
    model = nn.Sequential(nn.Flatten(), nn.Linear(HOURS, 3))
    found = pf.rows_alone(model, X, y, X[:pf.PROBE_ROWS], kind="cross_entropy", class_ids=True)
    assert "uninformative_inputs" in codes(found) and "check_flat_rows" in pf.DATA_CHECKS


def test_exports_sorted_by_time_are_quiet():
    X, y, _ = day_exports(2000, seed=1)
    assert fl.flat_rows(X.reshape(len(X), -1).double()) is None
    assert fl.check_flat_rows(X, y, class_ids=True) == []


def test_zero_padding_is_a_shared_value_not_a_flat_row():
    """Traces of 8-48 readings padded with zeros: most short rows are more than half padding, all at one
    value, which is the pad, not a reading each row lost."""
    g = np.random.default_rng(2)
    n, steps = 2000, 48
    y = g.integers(0, 3, n)
    X = np.zeros((n, steps))
    for i, k in enumerate(y):
        length = g.integers(8, steps + 1)
        tone = np.sin(2 * np.pi * np.arange(length) / (12, 8, 5)[k] + g.uniform(0, 6.3))
        X[i, :length] = tone + g.normal(0, 0.3, length)
    X = torch.tensor(X[:, None, :], dtype=torch.float32)
    x = X.reshape(n, -1).double()
    assert float((x == 0).double().mean(1).gt(fl.FLAT_SHARE).double().mean()) > 0.2     # many rows mostly padding
    assert fl.flat_rows(x) is None
    assert fl.check_flat_rows(X, torch.tensor(y), class_ids=True) == []


def test_a_sensor_that_really_held_still_is_predicted_as_well_and_quiet():
    """A fourth class, a stuck sensor: its rows hold their own level over the day, and that is what
    names them: the probes predict them as well as the others."""
    X, y, _ = day_exports(2000, seed=3)
    g = np.random.default_rng(3)
    stuck = torch.tensor(g.random(len(y)) < 0.2)
    X[stuck] = torch.tensor(g.normal(0, 1, int(stuck.sum())), dtype=torch.float32)[:, None, None].expand(-1, 1, HOURS)
    y = torch.where(stuck, torch.tensor(3), y)
    assert fl.flat_rows(X.reshape(len(X), -1).double()) is not None
    assert fl.check_flat_rows(X, y, class_ids=True) == []


def test_quantized_readings_that_repeat_on_every_row_are_quiet():
    """Readings rounded to whole units: every row repeats its values, flat ones and the rest alike."""
    X, y, _ = day_exports(2000, seed=4, newest_first=0.3)
    X = torch.round(X * 2)
    assert float(fl.repeated_share(X.reshape(len(X), -1).double()).median()) > fl.TIES
    assert fl.flat_rows(X.reshape(len(X), -1).double()) is None


def test_a_regression_on_flat_rows_is_found_too():
    X, _, flipped = day_exports(2000, seed=5, newest_first=0.3)
    days, _, _ = day_exports(2000, seed=5, newest_first=0.3, sorted_=True)
    change = days[:, 0, -6:].mean(1) - days[:, 0, :6].mean(1)     # the day's change: lost on a flat row
    assert torch.equal(fl.flat_rows(X.reshape(len(X), -1).double())["rows"], flipped)
    found = fl.check_flat_rows(X, change[:, None], class_ids=False)
    assert codes(found) == ["uninformative_inputs"]
    assert fl.check_flat_rows(days, change[:, None], class_ids=False) == []
