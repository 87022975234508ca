"""docs/schedules.md's table, for the options tests/optim/test_schedules.py reaches only through
other schedules: inverse_sqrt's `k_per_epoch` (m = 1/√(1 + k·t), k = k_per_epoch / steps per
epoch) and plateau's `min_mult` (m ← max(m·factor, min_mult): the floor of the multiplier)."""
import math

import pytest

from trainwell.optim.schedules import make_schedule


def test_inverse_sqrt_k_per_epoch_is_converted_with_steps_per_epoch():
    s = make_schedule("inverse_sqrt", total_steps=500, steps_per_epoch=10, k_per_epoch=3.0)
    assert s(10) == pytest.approx(1 / math.sqrt(4)) and s(5) == pytest.approx(1 / math.sqrt(2.5))


def test_plateau_never_cuts_below_min_mult():
    s = make_schedule("plateau", total_steps=100, steps_per_epoch=10, factor=0.1, patience=0, min_mult=0.05)
    seen = []
    for _ in range(6):                    # a metric that never improves: a cut after every epoch
        s.observe(1.0)
        seen.append(s(0))
    assert seen[0] == 1.0                 # the first value sets the best
    assert seen[1] == pytest.approx(0.1) and seen[2:] == [pytest.approx(0.05)] * 4
