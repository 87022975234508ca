"""Coarse to fine: narrowing around the best trials on the range's scale, widening at an edge."""
import math

import pytest

from trainwell.errors import ConfigError
from trainwell.hpsearch.space import parse_space
from trainwell.hpsearch.stages import EDGE, MIN_COARSE, Stage, default_stages, next_space, parse_stages, top_count

BASE = {"model": {"type": "mlp", "widths": [32]}}


def test_narrowing_in_log_space_keeps_the_best_trials_and_shrinks_the_range():
    space = parse_space({"lr": {"low": 1e-5, "high": 10.0}}, BASE)
    ranked = [{"lr": v} for v in (3e-2, 1e-2, 5e-2, 2e-3, 1e-4, 3.0, 1e-5, 2e-5, 5.0, 7e-5)]
    new, messages = next_space(space, ranked, BASE)
    p = new["lr"]
    top = [t["lr"] for t in ranked[:top_count(len(ranked))]]
    assert p.log and p.low <= min(top) and p.high >= max(top)
    assert math.log(p.high / p.low) < 0.5 * math.log(10.0 / 1e-5)     # narrower, in decades
    assert math.log(min(top) / p.low) == pytest.approx(math.log(p.high / max(top)))  # padded evenly in log
    assert messages == []


def test_the_next_ranges_span_the_trials_a_stage_reevaluates():
    space = parse_space({"lr": {"low": 1e-5, "high": 10.0}, "batch_size": {"choices": [8, 16, 32]}}, BASE)
    widths = [8, 8, 8, 16, 16, 32] * 2
    ranked = [{"lr": v, "batch_size": w} for v, w in zip((3e-2, 1e-2, 5e-2, 2e-3, 1e-4, 3.0, 1e-5, 2e-5, 5.0,
                                                            7e-5, 4e-4, 6e-4), widths)]
    top, _ = next_space(space, ranked, BASE)
    kept, _ = next_space(space, ranked, BASE, keep=6)      # successive halving: the best half goes on
    assert top_count(len(ranked)) == 3 and top["lr"].high < 3.0 and top["batch_size"].choices == (8,)
    assert all(kept["lr"].low <= t["lr"] <= kept["lr"].high for t in ranked[:6])
    assert kept["batch_size"].choices == (8, 16, 32)     # 32 is among the best 6
    assert next_space(space, ranked, BASE, keep=2) == (top, [])     # fewer than the top fifth: as before


def test_best_at_the_top_edge_widens_the_range_and_says_so():
    space = parse_space({"lr": {"low": 1e-4, "high": 1.0}}, BASE)
    ranked = [{"lr": 0.98}, {"lr": 0.3}, {"lr": 0.1}, {"lr": 1e-3}]
    new, messages = next_space(space, ranked, BASE)
    assert new["lr"].high > 1.0 and new["lr"].low >= 1e-4
    assert len(messages) == 1 and "best lr 0.98 is at the top of [0.0001, 1]: widened to" in messages[0]


def test_widening_stops_where_the_option_refuses():
    space = parse_space({"momentum": {"low": 0.0, "high": 0.99}}, BASE)
    new, messages = next_space(space, [{"momentum": 0.985}, {"momentum": 0.95}, {"momentum": 0.9}], BASE)
    assert new["momentum"].high < 1.0                     # momentum must stay in [0, 1)
    assert "widened" in messages[0]


def test_bottom_edge_of_an_integer_range_widens_on_its_step_grid():
    space = parse_space({"batch_size": {"low": 64, "high": 640, "step": 32}}, BASE)
    new, messages = next_space(space, [{"batch_size": 64}, {"batch_size": 96}, {"batch_size": 128}], BASE)
    p = new["batch_size"]
    assert p.low == 32 and (p.high - p.low) % 32 == 0 and "bottom" in messages[0]
    # one step further down is 0, which batch_size refuses: the edge stays and the message says so
    space = parse_space({"batch_size": {"low": 32, "high": 512, "step": 32}}, BASE)
    new, messages = next_space(space, [{"batch_size": 32}, {"batch_size": 64}, {"batch_size": 96}], BASE)
    assert new["batch_size"].low == 32 and "cannot go beyond 32" in messages[0]


def test_middle_best_does_not_widen_and_categories_keep_the_best_choices():
    space = parse_space({"lr": {"low": 1e-4, "high": 1.0},
                         "model.widths": {"choices": [[8], [16], [32]]}}, BASE)
    ranked = [{"lr": 1e-2, "model.widths": "[16]"}, {"lr": 2e-2, "model.widths": "[32]"},
              {"lr": 5e-3, "model.widths": "[16]"}, {"lr": 1e-4, "model.widths": "[8]"}]
    new, messages = next_space(space, ranked, BASE)
    assert not messages and EDGE < (math.log(1e-2) - math.log(1e-4)) / math.log(1e4) < 1 - EDGE
    assert new["model.widths"].choices == ("[16]", "[32]")


@pytest.mark.parametrize("stages, message", [
    ([], "search.stages: must be a non-empty list"),
    ([{"trials": 0}], "search.stages[0].trials = 0: must be an integer >= 1"),
    ([{"trials": 3, "epoch": 2}], "search.stages[0]: unknown key 'epoch'"),
])
def test_bad_stages(stages, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_stages(stages, 10, 10)


def test_the_default_plan_is_a_coarse_stage_then_a_fine_one():
    assert default_stages(60, 10) == [Stage(40, 2), Stage(20)]        # 2/3 of the trials at epochs/5
    assert default_stages(20, 40) == [Stage(13, 8), Stage(7)]
    assert default_stages(9, 5) == [Stage(6, 1), Stage(3)]
    assert default_stages(8, 10) == [Stage(8)]                          # too few to narrow to a top 3
    assert default_stages(20, 2) == [Stage(13, 1), Stage(7)]
    assert default_stages(20, 1) == [Stage(20)]                         # no shorter coarse stage
    assert parse_stages(None, 60, 10) == default_stages(60, 10)
    assert parse_stages([{"trials": 60}], 20, 10) == [Stage(60)]       # one stage, when asked for


def test_a_coarse_stage_sized_from_the_space():
    # coarse_size m: m (d + 1) coarse trials (at least MIN_COARSE, at most 2/3 of the trials);
    # coarse_epochs: their epochs; both only shape the default plan
    assert default_stages(60, 10, dimension=4, coarse_size=5, coarse_epochs=1) == [Stage(25, 1), Stage(35)]
    assert default_stages(60, 10, dimension=4, coarse_size=2, coarse_epochs=1) == [Stage(10, 1), Stage(50)]
    assert default_stages(60, 10, dimension=4, coarse_size=5) == [Stage(25, 2), Stage(35)]
    assert default_stages(60, 10, dimension=1, coarse_size=1) == [Stage(MIN_COARSE, 2), Stage(60 - MIN_COARSE)]
    assert default_stages(30, 10, dimension=9, coarse_size=5) == [Stage(20, 2), Stage(10)]     # 2/3 cap
    assert default_stages(60, 10, coarse_epochs=1) == [Stage(40, 1), Stage(20)]
    assert default_stages(60, 10, coarse_epochs=10) == [Stage(60)]       # not shorter: one stage


def test_the_space_sizes_the_plan_through_the_settings():
    from trainwell.hpsearch.settings import parse_settings
    space = {"lr": {"low": 1e-4, "high": 1.0}, "weight_decay": {"low": 1e-6, "high": 1e-2}}
    base = {"epochs": 10, "model": {"type": "mlp", "widths": [8]}}
    got = parse_settings({"space": space, "trials": 30, "coarse_size": 3, "coarse_epochs": 1}, base)
    assert got.stages == (Stage(9, 1), Stage(21))          # 3 x (2 + 1)
    with pytest.raises(ConfigError, match=r"search.coarse_size = 3: it sizes the default plan, and stages is set"):
        parse_settings({"space": space, "coarse_size": 3, "stages": [{"trials": 4}]}, base)
    with pytest.raises(ConfigError, match=r"search.coarse_epochs = 0: must be >= 1"):
        parse_settings({"space": space, "coarse_epochs": 0}, base)


def test_an_lr_scan_comes_first_in_the_default_plan():
    from trainwell.hpsearch.stages import scan_points
    lr = parse_space({"lr": {"low": 1e-4, "high": 1.0}}, {})["lr"]
    assert scan_points(lr) == 9                          # 2 a decade over 4 decades, both edges
    assert scan_points(parse_space({"lr": {"low": 1e-3, "high": 0.3}}, {})["lr"]) == 6
    assert scan_points(parse_space({"lr": {"low": 0.1, "high": 0.5, "log": False}}, {})["lr"]) is None
    assert scan_points(parse_space({"lr": {"low": 0.01, "high": 0.5}}, {})["lr"]) is None   # under 2 decades
    # the scan at a tenth of the epochs, then the rest at the full epochs
    assert default_stages(60, 10, scan=lr) == [Stage(9, 1, scan="lr"), Stage(51)]
    assert default_stages(20, 40, scan=lr) == [Stage(9, 4, scan="lr"), Stage(11)]
    assert default_stages(60, 10, scan=lr, coarse_epochs=2) == [Stage(9, 2, scan="lr"), Stage(51)]
    assert default_stages(17, 10, scan=lr) == default_stages(17, 10)     # 8 left after it: no scan
    assert default_stages(60, 1, scan=lr) == [Stage(60)]                # no shorter scan
    # a coarse stage sized from the space asks for the plan without a scan
    assert default_stages(60, 10, scan=lr, dimension=4, coarse_size=5) == default_stages(60, 10, dimension=4,
                                                                                        coarse_size=5)

def test_lr_scan_shapes_the_default_plan_only():
    from trainwell.hpsearch.settings import parse_settings
    space = {"lr": {"low": 1e-4, "high": 1.0}, "weight_decay": {"low": 1e-6, "high": 1e-2}}
    base = {"epochs": 10, "model": {"type": "mlp", "widths": [8]}}
    assert parse_settings({"space": space, "trials": 60, "lr_scan": True}, base).stages == (
        Stage(9, 1, scan="lr"), Stage(51))
    assert parse_settings({"space": space, "trials": 60, "lr_scan": True, "eta": 9}, base).stages == (
        Stage(40, 2), Stage(20))                                       # rungs: no scan
    no_lr = {"weight_decay": space["weight_decay"]}
    assert parse_settings({"space": no_lr, "trials": 60, "lr_scan": True}, base).stages == (Stage(40, 2), Stage(20))
    assert parse_settings({"space": space, "lr_scan": True, "stages": [{"trials": 4}]}, base).stages == (Stage(4),)
