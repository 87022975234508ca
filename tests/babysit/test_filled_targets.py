"""Regression targets filled in from their neighbours in row order (babysit/filled_targets.py): found
where the rows are unrelated records (plots in export order) and the probes predict the filled rows
worse; quiet for a series' gaps interpolated in time, for targets on a grid and for dropped rows."""
from types import SimpleNamespace

import numpy as np
import torch

from trainwell.babysit import filled_targets as ft

MISSING = 0.35


def plots(n=1440, seed=0):
    """Orchard plots in export order: six measurements, a yield mostly linear in them plus noise."""
    g = np.random.default_rng(seed)
    x = g.normal(size=(n, 6))
    y = x @ np.array([1.0, -0.8, 0.6, 0.4, 0.0, 0.0]) + 0.3 * g.normal(size=n)
    return x.astype(np.float32), ((y - y.mean()) / y.std()).astype(np.float32)


def missing_rows(n, seed=1):
    return np.random.default_rng(seed).random(n) < MISSING


def interpolated(y, missing):
    """``df["y"].interpolate()`` in row order (the ends take the nearest recorded value)."""
    known = np.flatnonzero(~missing)
    return np.interp(np.arange(len(y)), known, y[known]).astype(np.float32)


def splits(train, val, test=None):
    as_pair = lambda p: (torch.tensor(p[0]), torch.tensor(p[1])) if p is not None else None   # noqa: E731
    return SimpleNamespace(train=as_pair(train), val=as_pair(val), test=as_pair(test))


def codes(found):
    return [f.code for f in found]


def test_targets_interpolated_across_unrelated_rows_are_a_split_mismatch():
    x, y = plots()
    vx, vy = plots(480, seed=5)
    missing = missing_rows(len(y))
    found = ft.check_filled_targets(splits((x, interpolated(y, missing)), (vx, vy), (vx, vy)))
    assert codes(found) == ["split_mismatch"] and found[0].severity == "warning"
    assert abs(found[0].evidence["filled_share"] - missing.mean()) < 0.03
    assert found[0].evidence["clean_splits"] == ["validation", "test"]
    assert found[0].evidence["filled_unexplained"] >= 1.25 * found[0].evidence["others_unexplained"]


def test_every_split_filled_alike_is_a_label_problem():
    x, y = plots()
    vx, vy = plots(480, seed=5)
    filled_val = interpolated(vy, missing_rows(len(vy), seed=6))
    found = ft.check_filled_targets(splits((x, interpolated(y, missing_rows(len(y)))), (vx, filled_val)))
    assert codes(found) == ["label_problem"]


def test_a_forward_fill_is_read_too():
    x, y = plots()
    missing = missing_rows(len(y))
    filled = y.copy()
    for i in np.flatnonzero(missing):
        filled[i] = filled[i - 1] if i else filled[i]
    assert codes(ft.check_filled_targets(splits((x, filled), plots(480, seed=5)))) == ["split_mismatch"]


def test_the_rows_dropped_instead_stay_quiet():
    x, y = plots()
    kept = ~missing_rows(len(y))
    assert ft.check_filled_targets(splits((x[kept], y[kept]), plots(480, seed=5))) == []


def test_a_series_interpolated_in_time_stays_quiet():
    """Hourly readings: the inputs say the time of day and the season, the target follows them and a
    slow drift; gaps interpolated between recorded hours are good estimates, predicted as well."""
    n = 1440
    g = np.random.default_rng(3)
    hours = np.arange(n)
    x = np.column_stack([np.sin(2 * np.pi * hours / 24), np.cos(2 * np.pi * hours / 24),
                         np.sin(2 * np.pi * hours / n), np.cos(2 * np.pi * hours / n), g.normal(size=(n, 2))])
    y = 1.5 * x[:, 0] + 0.8 * x[:, 2] + 0.1 * g.normal(size=n)
    y = ((y - y.mean()) / y.std()).astype(np.float32)
    filled = interpolated(y, missing_rows(n))
    assert ft.filled_in_order(torch.tensor(filled)).double().mean() > 0.2      # the pattern is there ...
    assert ft.check_filled_targets(splits((x.astype(np.float32), filled), plots(480, seed=5))) == []   # ... harmless


def test_targets_on_a_grid_line_up_by_chance_and_stay_quiet():
    """Counts 0..4: consecutive rows repeat a value or step evenly by chance, as often shuffled."""
    x, _ = plots()
    counts = np.random.default_rng(4).integers(0, 5, len(x)).astype(np.float32)
    assert ft.patterned(torch.tensor(counts)) is None
    assert ft.check_filled_targets(splits((x, counts), plots(480, seed=5))) == []


def test_class_ids_and_images_are_not_read():
    x, y = plots()
    ids = (y > 0).astype(np.int64)
    assert ft.check_filled_targets(splits((x, ids), plots(480, seed=5))) == []
    images = np.repeat(x[:, None, :], 6, axis=1)
    assert ft.check_filled_targets(splits((images, interpolated(y, missing_rows(len(y)))), None)) == []
