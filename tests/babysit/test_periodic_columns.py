"""A column whose targets oscillate with it (babysit/periodic_columns.py): a time stamp fed as one
number where the hour of the day carries the signal."""
import numpy as np
import pytest
import torch
from torch import nn

from trainwell.babysit import first_layer as fl
from trainwell.babysit import periodic_columns as pc


def mlp(d, out):
    return nn.Sequential(nn.Linear(d, 32), nn.ReLU(), nn.Linear(32, out))


def _standard(cols):
    x = np.column_stack(cols).astype(np.float64)
    return torch.tensor(((x - x.mean(0)) / x.std(0)).astype(np.float32))


def meter_readings(n=3000, seed=0, stamp=True):
    """Half-hourly power readings over 200 days: the load follows the hour of the day (a smooth
    daily profile) and the outdoor temperature; the time is given as one number (seconds since a
    start) or as the hour's sin and cos."""
    g = np.random.default_rng(seed)
    seconds = np.sort(g.uniform(0, 200 * 86400, n))
    hour = seconds % 86400 / 3600
    temp = g.normal(10, 6, n)
    load = np.cos(2 * np.pi * (hour - 18) / 24) + 0.5 * np.cos(4 * np.pi * (hour - 8) / 24) \
        + 0.05 * np.abs(temp - 15) + g.normal(0, 0.4, n)
    time_cols = [seconds] if stamp else [np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24)]
    y = torch.tensor(np.digitize(load, np.quantile(load, [1 / 3, 2 / 3])))
    return _standard(time_cols + [temp]), y, torch.tensor(((load - load.mean()) / load.std())[:, None], dtype=torch.float32)


def periodic(x, y, class_ids):
    return pc.check_periodic(x, y, class_ids=class_ids, entries=fl.entry_layers(mlp(x.shape[1], 3), x[:64]),
                             alpha=fl.ALPHA, numeric=fl.NUMERIC)


def test_a_time_stamp_whose_hour_carries_the_targets_is_found():
    x, y, load = meter_readings()
    found = periodic(x, y, class_ids=True)
    assert [f.code for f in found] == ["uninformative_inputs"] and found[0].severity == "warning"
    f = found[0]
    assert f.evidence["column"] == 0 and f.evidence["cycles"] == pytest.approx(200, abs=1)   # 200 days
    assert f.evidence["false_alarm_probability"] < f.evidence["p_threshold"]
    found = periodic(x, load, class_ids=False)                          # the load itself, a regression
    assert found and found[0].evidence["column"] == 0
    assert [g.code for g in fl.check_what_reaches(mlp(2, 3), x, y, class_ids=True)] == ["uninformative_inputs"]


def test_the_hour_as_sin_and_cos_is_quiet():
    x, y, load = meter_readings(stamp=False)
    assert periodic(x, y, class_ids=True) == [] and periodic(x, load, class_ids=False) == []


def test_sharp_and_narrow_relations_put_their_power_low_and_are_quiet():
    g = np.random.default_rng(1)
    n = 3000
    v = g.uniform(-1, 1, n)
    for target in (v > 0.3, np.abs(v - 0.2) < 0.02, np.sin(3 * np.pi * v) > 0):   # a step, a bump, 1.5 cycles
        y = torch.tensor((target ^ (g.random(n) < 0.05)).astype(np.int64))
        x = _standard([v, g.normal(size=n)])
        assert periodic(x, y, class_ids=True) == []


def test_noise_and_a_gridded_column_are_quiet():
    g = np.random.default_rng(2)
    n = 3000
    x = _standard([g.uniform(size=n), g.integers(0, 50, n)])
    y = torch.tensor(g.integers(0, 3, n))
    assert periodic(x, y, class_ids=True) == []
    # on a grid of 50 values a column aliases: it is not read
    hours = g.integers(0, 50, n)
    y = torch.tensor((np.sin(2 * np.pi * hours * 12 / 50) > 0).astype(np.int64))
    assert periodic(_standard([hours, g.normal(size=n)]), y, class_ids=True) == []


def test_the_periodogram_matches_lomb_scargle_and_is_exponential_under_noise():
    from scipy.signal import lombscargle
    g = np.random.default_rng(3)
    x = torch.tensor(g.uniform(0, 7, 1500))
    s = torch.tensor(np.sin(2 * np.pi * 40 * x.numpy() / 7) + g.normal(0, 2, 1500))
    cycles, power = pc.periodogram(x, s)
    centred = (s - s.mean()).numpy()
    ref = lombscargle(x.numpy(), centred, (2 * np.pi * cycles / 7).numpy(), normalize=False) \
        / centred.var()
    top = int(power.argmax())
    assert float(cycles[top]) == 40.0 and float(power[top]) == pytest.approx(ref[top], rel=0.05)
    assert np.corrcoef(power.numpy(), ref)[0, 1] > 0.95
    noise = torch.tensor(g.normal(size=1500))
    _, null = pc.periodogram(x, noise)
    assert float(null.mean()) == pytest.approx(1.0, abs=0.1)          # exponential(1): mean 1
    assert float((null > 5).double().mean()) == pytest.approx(np.exp(-5), abs=0.005)


def test_a_cycle_on_one_half_of_the_range_only_does_not_repeat_and_a_far_code_is_not_read():
    g = np.random.default_rng(4)
    n = 3000
    t = torch.tensor(np.sort(g.uniform(0, 100, n)))
    cycle = torch.tensor(np.sin(2 * np.pi * t.numpy() * 0.4) > 0) & (t < 50)     # 20 cycles, first half only
    s = (cycle ^ torch.tensor(g.random(n) < 0.1)).double()
    assert pc.repeats(t, s, 40.0, alpha=fl.ALPHA) is False
    both = (torch.tensor(np.sin(2 * np.pi * t.numpy() * 0.4) > 0) ^ torch.tensor(g.random(n) < 0.1)).double()
    assert pc.repeats(t, both, 40.0, alpha=fl.ALPHA) is True
    coded = torch.cat([t[:-100], torch.full((100,), -999.0, dtype=torch.float64)])   # a missing-value code
    assert pc.spread_out(t) and not pc.spread_out(coded)


def test_the_false_alarm_bound_holds_on_noise():
    g = np.random.default_rng(5)
    x = torch.tensor(g.uniform(0, 1, 800))
    faps = []
    for _ in range(40):
        cycles, power = pc.periodogram(x, torch.tensor(g.normal(size=800)))
        faps.append(pc.false_alarm(float(power.max()), x, float(cycles[-1])))
    assert np.mean(np.array(faps) < 0.1) <= 0.2          # Baluev's bound is an upper bound: at most ~10 %


def hourly_demand(n=2400, seed=0, *, hour_cols=("sin",), related=True, period=24):
    """Zone-hours: the whole hour (0 .. period - 1) as the columns named in ``hour_cols`` (its sin,
    its cos) beside a density and a temperature; demand classes that follow the morning (hours 7-9
    high, 2-5 low: asymmetric about noon, so h and 12 - h differ) and the density, with label noise."""
    g = np.random.default_rng(seed)
    hour = g.integers(0, period, n)
    density, temp = g.normal(0, 1, n), g.normal(12, 6, n)
    angle = 2 * np.pi * hour / period
    score = (np.isin(hour, (7, 8, 9)) * 2.0 - np.isin(hour, (2, 3, 4, 5)) * 2.0 if related else 0) \
        + 0.6 * density + g.normal(0, 0.8, n)
    y = torch.tensor(np.digitize(score, np.quantile(score, [1 / 3, 2 / 3])))
    cols = [{"sin": np.sin(angle), "cos": np.cos(angle)}[c] for c in hour_cols]
    return _standard(cols + [density, temp]), y, torch.tensor(((score - score.mean()) / score.std())[:, None],
                                                               dtype=torch.float32)


def test_a_whole_hour_given_by_its_sine_alone_is_found():
    x, y, score = hourly_demand()
    found = periodic(x, y, class_ids=True)
    assert [f.code for f in found] == ["uninformative_inputs"] and found[0].severity == "warning"
    assert found[0].evidence["column"] == 0 and found[0].evidence["period"] == 24
    assert found[0].evidence["values"] == 13 and found[0].evidence["relation_p"] < found[0].evidence["p_threshold"]
    assert periodic(x, score, class_ids=False)[0].evidence["period"] == 24        # a regression alike
    x, y, _ = hourly_demand(hour_cols=("cos",))                                  # the cosine alone: h and 24 - h
    assert periodic(x, y, class_ids=True)[0].evidence["period"] == 24
    x, y, _ = hourly_demand(period=12)                                           # months: 7 values
    assert periodic(x, y, class_ids=True)[0].evidence["period"] == 12
    x, y, _ = hourly_demand()
    assert [g.code for g in fl.check_what_reaches(mlp(3, 3), x, y, class_ids=True)] == ["uninformative_inputs"]


def test_the_pair_an_odd_period_an_unrelated_phase_and_codes_are_quiet():
    x, y, score = hourly_demand(hour_cols=("sin", "cos"))                       # the pair: one-to-one
    assert periodic(x, y, class_ids=True) == [] and periodic(x, score, class_ids=False) == []
    x, y, _ = hourly_demand(hour_cols=("cos", "sin"))
    assert periodic(x, y, class_ids=True) == []
    x, y, _ = hourly_demand(period=7)                                            # weekdays: no two share a sine
    assert periodic(x, y, class_ids=True) == []
    x, y, _ = hourly_demand(related=False)                                       # the phase tells nothing
    assert periodic(x, y, class_ids=True) == []
    g = np.random.default_rng(3)                                                 # noisy codes and counts
    n = 2400
    code, count, reading = g.integers(0, 9, n), g.poisson(3, n), g.normal(0, 1, n)
    score = 0.5 * code + 0.3 * count + reading + g.normal(0, 1.5, n)
    y = torch.tensor(np.digitize(score, np.quantile(score, [1 / 3, 2 / 3])))
    assert periodic(_standard([code, count, reading]), y, class_ids=True) == []


def test_the_phase_grid_and_its_partner():
    hours = torch.arange(24, dtype=torch.float64)
    assert pc.phase_period(3 * torch.sin(2 * torch.pi * hours / 24) + 1) == 24     # a scale and a shift undone
    assert pc.phase_period(torch.cos(2 * torch.pi * hours / 24)) == 24
    assert pc.phase_period(torch.sin(2 * torch.pi * torch.arange(7.0) / 7)) is None
    assert pc.phase_period(torch.linspace(-1, 1, 13)) is None                       # equally spaced values
    x = torch.stack([torch.sin(2 * torch.pi * hours / 24), hours, 5 * torch.cos(2 * torch.pi * hours / 24) - 2], 1)
    assert pc.partner(x, 0) == 2 and pc.partner(x[:, :2], 0) is None
