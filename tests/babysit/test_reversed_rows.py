"""A class's rows in both time orders (babysit/reversed_rows.py): found where the second order reads
as another class; a single direction with noise, tones without one and a class that goes either way
on purpose stay quiet."""
from types import SimpleNamespace

import numpy as np
import torch

from trainwell.babysit import reversed_rows as rr
from trainwell.babysit.split_checks import check_splits

STEPS = 24


def days(n, seed, reversed_share=0.0, amplitude=(0.5, 1.5), noise=0.08, shapes=("rise", "fall", "peak")):
    """(n, 24, 1) hourly readings, one class per shape (own level, amplitude and noise); ``reversed_share``
    of the rows come from a second source that stores them newest first, labels kept."""
    g = np.random.default_rng(seed)
    s = np.linspace(0, 1, STEPS)
    profile = {"rise": s, "fall": 1 - s, "peak": 1 - np.abs(2 * s - 1), "flat": np.full(STEPS, 0.5)}
    y = g.integers(0, len(shapes), n)
    P = np.stack([profile[k] for k in shapes])[y]
    X = g.normal(0, 0.5, (n, 1)) + g.uniform(*amplitude, (n, 1)) * P + g.normal(0, noise, (n, STEPS))
    second = g.random(n) < reversed_share
    X[second] = X[second, ::-1]
    return torch.tensor(X[:, :, None], dtype=torch.float32), torch.tensor(y), torch.tensor(second)


def codes(found):
    return [f.code for f in found]


def test_a_second_source_stored_newest_first_is_found_in_the_classes_with_a_direction():
    X, y, second = days(2000, seed=0, reversed_share=0.35)
    found = rr.check_reversed_rows(X, y)
    assert codes(found) == ["label_problem"] and found[0].severity == "warning"
    classes = found[0].evidence["classes"]
    assert [c["class"] for c in classes] == [0, 1]          # the peak reads the same either way
    for c in classes:
        assert abs(c["share"] - 0.35) < 0.08 and c["mu_over_s"] >= rr.SEPARATION
        assert c["flipped"] - c["as_given"] >= rr.MIN_GAIN and c["p"] < c["p_threshold"]
    # split_checks reads it on every labelled split's rows together
    found = check_splits(SimpleNamespace(train=(X[:1200], y[:1200]), val=(X[1200:1600], y[1200:1600]),
                                         test=(X[1600:], y[1600:])))
    assert any(f.code == "label_problem" and "time orders" in f.message for f in found)


def test_one_time_order_is_quiet():
    X, y, _ = days(2000, seed=1)
    assert rr.check_reversed_rows(X, y) == []


def test_a_weak_direction_under_noise_has_one_mode_and_is_quiet():
    """Rising and falling days with small amplitudes under large noise: many rows point the other way,
    the tail of one mode, not a second one."""
    X, y, _ = days(2000, seed=2, amplitude=(0.0, 0.4), noise=0.5, shapes=("rise", "fall"))
    x, t = rr.signal_rows(X, y)
    for c in (0, 1):
        assert rr.direction_modes(((x[t == c] - x[t == c].flip(2)) / 2).flatten(1)) is None
    assert rr.check_reversed_rows(X, y) == []


def test_tones_without_a_direction_reversed_cost_nothing_and_are_quiet():
    """Tones of three periods, random phase: a reversed tone is another tone of its period."""
    g = np.random.default_rng(3)
    n = 2000
    y = g.integers(0, 3, n)
    t = np.arange(48)
    X = np.sin(2 * np.pi * t / np.array([12.0, 8.0, 5.0])[y][:, None] + g.uniform(0, 6.3, (n, 1))) \
        + g.normal(0, 0.3, (n, 48))
    second = g.random(n) < 0.4
    X[second] = X[second, ::-1]
    assert rr.check_reversed_rows(torch.tensor(X[:, None, :], dtype=torch.float32), torch.tensor(y)) == []


def test_a_class_that_goes_either_way_on_purpose_is_quiet():
    """Class 0 is a ramp either way (60 % rising), class 1 level days: two mirrored modes in class 0,
    but its falling rows are voted their own label as they are."""
    X, y, _ = days(2000, seed=4, shapes=("rise", "flat"))
    g = np.random.default_rng(4)
    either = (y == 0) & torch.tensor(g.random(len(y)) < 0.4)
    X[either] = X[either].flip(1)
    x, t = rr.signal_rows(X, y)
    assert rr.direction_modes(((x[t == 0] - x[t == 0].flip(2)) / 2).flatten(1)) is not None
    assert rr.check_reversed_rows(X, y) == []


def test_the_mirror_mixture_recovers_its_share_and_modes():
    g = torch.Generator().manual_seed(5)
    second = torch.rand(4000, generator=g) < 0.3
    p = torch.where(second, -2.0, 2.0).double() + 0.5 * torch.randn(4000, generator=g, dtype=torch.float64)
    fit = rr.mirror_mixture(p)
    assert abs(fit["rho"] - 0.3) < 0.03 and abs(fit["mu"] - 2.0) < 0.05 and abs(fit["s"] - 0.5) < 0.05
    assert float(((fit["second"] > 0.5) == second).double().mean()) > 0.99


def test_a_weak_tone_in_noise_gains_votes_flipped_but_reads_as_itself_and_is_quiet():
    """Vibration windows (64 steps, 3 sensors, noise sd 1): quiet, impulses, a weak sine of random phase,
    a burst. The sine's class has two mirrored modes of unequal share, and flipping a row of the thinner one
    into the thicker one gains it votes; but as given it is voted its own class most: no other class (set 11's
    bearings, their seed)."""
    g = np.random.default_rng(508)
    n = 2000
    y = g.integers(0, 4, n)
    x = g.normal(0, 1, (n, 64, 3))
    t = np.arange(64)
    for i in range(n):
        if y[i] == 1:
            x[i, g.integers(0, 8)::8, 0] += 2.5
        elif y[i] == 2:
            x[i, :, 1] += 1.2 * np.sin(2 * np.pi * t / 16 + g.uniform(0, 2 * np.pi))
        elif y[i] == 3:
            at = g.integers(0, 52)
            x[i, at:at + 12, 2] += g.normal(0, 2.0, 12)
    X, y = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    rows, ids = rr.signal_rows(X, y)
    f, fr = rr._projected(rows), rr._projected(rows.flip(2))
    assert rr.direction_modes((f[ids == 2] - fr[ids == 2]) / 2) is not None
    assert rr.check_reversed_rows(X, y) == []
