"""``spent_at`` (where a schedule has given 99% of its lr) against closed forms, ``stretch``, ``reached_at``
(where the lr first reaches a level) and ``with_warmup``."""
import math

import pytest

from trainwell.errors import ConfigError
from trainwell.optim.schedules import (cosine, fallen_at, make_schedule, reached_at, spent_at, staircase, stretch,
                                       warmup)


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


# --- reached_at (where the lr first reaches a level) and with_warmup (babysit23) ---------------------------

@pytest.mark.parametrize("warm, total, expected", [
    (0, 400, 0.0), (20, 400, 9 / 400), (200, 400, 99 / 400), (5000, 855, math.inf), (1000, 1000, 499 / 1000)])
def test_reached_at_is_where_the_linear_warmup_passes_half(warm, total, expected):
    """m(t) = (t+1)/W during the warmup: it first reaches 1/2 at t = W/2 - 1 (a cosine after it starts at 1)."""
    s = make_schedule("cosine", total_steps=total, steps_per_epoch=10, warmup_steps=warm)
    assert reached_at(s, total, level=0.5) == pytest.approx(expected)


def test_with_warmup_rebuilds_the_config_schedule_over_the_run():
    long = make_schedule("cosine", total_steps=855, steps_per_epoch=57, warmup_steps=5000)
    fitted = long.with_warmup(43)
    plain = make_schedule("cosine", total_steps=855, steps_per_epoch=57, warmup_steps=43)
    assert [fitted(t) for t in range(0, 900, 7)] == [plain(t) for t in range(0, 900, 7)]
    assert fitted(854) < 1e-4 < long(854)        # the cosine spans the rest of the run, not one step


def test_with_warmup_of_a_python_warmup_keeps_its_inner_schedule():
    inner = cosine(total=100)
    s = warmup(inner, steps=50).with_warmup(10)
    assert [s(t) for t in range(120)] == [warmup(inner, steps=10)(t) for t in range(120)]


def test_fallen_at_matches_the_closed_forms():
    total = 5000
    cos = make_schedule("cosine", total_steps=total, steps_per_epoch=50)
    # 0.5 (1 + cos(pi x)) <= 0.01  <=>  x >= acos(-0.98) / pi
    assert fallen_at(cos, total) == pytest.approx(math.acos(-0.98) / math.pi, abs=1e-3)
    expo = make_schedule("exponential", total_steps=total, steps_per_epoch=50, rate_per_epoch=0.0513)
    assert fallen_at(expo, total) == pytest.approx(math.log(100) / (0.0513 * 100), abs=2e-3)
    # the staircase at 1/3 and 2/3 reaches 1% of its peak at its second cut (0.1 ** 2 within round-off)
    assert fallen_at(lambda t: 0.1 ** (3 * t // total), total) == pytest.approx(2 / 3, abs=1e-3)
    assert fallen_at(make_schedule("constant", total_steps=total, steps_per_epoch=50), total) == 1.0


def test_fallen_at_sees_the_tail_spent_at_misses():
    """MultiStepLR milestones meant as epochs (10, 13) stepped per batch of a 660-step run: the lr is at
    1% from step 13, yet those 647 steps hold 39% of the lr sum, so 99% of it is given only at ~0.98."""
    milestones = lambda t: 0.1 ** sum(t >= m for m in (10, 13))
    assert fallen_at(milestones, 660) == pytest.approx(13 / 660)
    assert spent_at(milestones, 660) > 0.95


def test_a_warmup_rise_is_no_fall():
    s = make_schedule("cosine", total_steps=1000, steps_per_epoch=10, warmup_steps=100)
    assert s(0) <= 0.01 and fallen_at(s, 1000) > 0.9
