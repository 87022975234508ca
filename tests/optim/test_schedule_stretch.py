"""``spent_at`` (where a schedule has given 99% of its lr) against closed forms, and ``stretch``."""
import math

import pytest

from trainwell.errors import ConfigError
from trainwell.optim.schedules import make_schedule, spent_at, staircase, stretch


def _bisect(f, target, lo=0.0, hi=1.0):
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) < target else (lo, mid)
    return lo


def test_spent_at_matches_the_closed_forms():
    total = 5000
    cosine = make_schedule("cosine", total_steps=total, steps_per_epoch=50)
    # the integral of (1 + cos(pi x)) / 2 over [0, x] is (x + sin(pi x) / pi) / 2 of the whole's 1/2
    assert spent_at(cosine, total) == pytest.approx(_bisect(lambda x: x + math.sin(math.pi * x) / math.pi, 0.99),
                                                    abs=2e-3)
    rate = 0.1                                       # per epoch over 40 epochs of 125 steps
    expo = make_schedule("exponential", total_steps=total, steps_per_epoch=125, rate_per_epoch=rate)
    whole = 1 - math.exp(-rate * 40)
    assert spent_at(expo, total) == pytest.approx(-math.log(1 - 0.99 * whole) / (rate * 40), abs=2e-3)
    assert spent_at(make_schedule("constant", total_steps=total, steps_per_epoch=50), total) == pytest.approx(0.99)


@pytest.mark.parametrize("name, options, warmup", [
    ("step", {"every_epochs": 13}, 0),               # / 10 at 1/3 and 2/3 of a 40-epoch run
    ("cosine", {}, 0), ("cosine", {}, 100), ("one_cycle", {}, 0), ("linear", {}, 0), ("plateau", {}, 0),
])
def test_the_standard_schedules_spend_their_lr_late(name, options, warmup):
    total = 40 * 25
    s = make_schedule(name, total_steps=total, steps_per_epoch=25, warmup_steps=warmup, **options)
    assert spent_at(s, total) > 0.6


def test_exponential_095_per_epoch_over_100_epochs_spends_late_and_fast_decays_early():
    slow = make_schedule("exponential", total_steps=2500, steps_per_epoch=25, rate_per_epoch=-math.log(0.95))
    assert spent_at(slow, 2500) > 0.6
    every_epoch = make_schedule("step", total_steps=1000, steps_per_epoch=25, every_epochs=1)
    assert spent_at(every_epoch, 1000) == pytest.approx(2 / 40, abs=0.01)     # 1.11 epochs of lr in 40


def test_stretch_slows_a_schedule_down():
    inner = staircase(every=10)
    slowed = stretch(inner, factor=3)
    assert [slowed(t) for t in range(100)] == [staircase(every=30)(t) for t in range(100)]
    with pytest.raises(ConfigError, match="factor"):
        stretch(inner, factor=0)
    with pytest.raises(ConfigError, match="plateau"):
        stretch(make_schedule("plateau", total_steps=10, steps_per_epoch=2), factor=2)
