"""The search space: parsing, the log-scale defaults, validation against the options, values."""
import math

import optuna
import pytest

from trainwell.errors import ConfigError
from trainwell.hpsearch.space import apply, grid, option_values, parse_space, space_from_dict, space_to_dict, suggest

BASE = {"model": {"type": "mlp", "widths": [32]}}


@pytest.mark.parametrize("table, message", [
    ({"lrr": {"low": 1e-3, "high": 1}}, "search.space.lrr: unknown option 'lrr' (did you mean 'lr'?)"),
    ({"lr": {"low": 1.0, "high": 0.1}}, "search.space.lr: low = 1.0 >= high = 0.1"),
    ({"lr": {"low": 0.0, "high": 1.0, "log": True}}, "search.space.lr: log = true needs low > 0"),
    ({"momentum": {"low": 0.0, "high": 1.5}}, "search.space.momentum: high 1.5 is refused: momentum = 1.5: must be in [0, 1)"),
    ({"optimizer": {"choices": ["sgd", "adamm"]}}, "search.space.optimizer: choice 'adamm' is refused"),
    ({"model.dropout": {"low": 0.0, "high": 1.5}}, "search.space.model.dropout: high 1.5 is refused"),
    # an MLP's table values are checked by building it (one input, two outputs)
    ({"model.widths": {"choices": [[16], [0]]}},
     "search.space.model.widths: choice [0] is refused: model.widths = [0]: must be a list of positive integers"),
    ({"model.activation": {"choices": ["relu", "relux"]}},
     "search.space.model.activation: choice 'relux' is refused: activation = 'relux': unknown"),
    ({"epochs.x": {"low": 1, "high": 3}}, "search.space.epochs.x: 'epochs' is not a table option"),
    ({"lr": {"low": 1e-3}}, "search.space.lr: high is missing"),
    ({"lr": {"low": 1e-3, "hgh": 1}}, "unknown range key 'hgh' (did you mean 'high'?)"),
    ({"lr": {"choices": []}}, "search.space.lr.choices = []: must be a non-empty list"),
    ({"batch_size": {"low": 16, "high": 64, "step": 0}}, "search.space.batch_size.step = 0"),
])
def test_bad_space_names_the_key(table, message):
    with pytest.raises(ConfigError) as e:
        parse_space(table, BASE)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_optimizer_keywords_are_checked_by_building_the_optimizer():
    """``optimizer_options`` keys mean something only to the optimizer's constructor: a keyword the
    config's optimizer does not take, or a value it rejects, is refused before any trial; with the
    optimizer searched too, a keyword some choices take is left to the trials."""
    with pytest.raises(ConfigError) as e:
        parse_space({"optimizer_options": {"rho": {"low": 0.01, "high": 0.2}}}, BASE)
    assert str(e.value).startswith("search.space.optimizer_options.rho: low 0.01 is refused: optimizer = 'sgd': "
                                   "unknown option 'rho'")
    with pytest.raises(ConfigError) as e:
        parse_space({"optimizer_options.rho": {"low": 0.5, "high": 1.5}}, {**BASE, "optimizer": "Adadelta"})
    assert "search.space.optimizer_options.rho: high 1.5 is refused" in str(e.value) and "rho" in str(e.value)
    with pytest.raises(ConfigError) as e:
        parse_space({"optimizer": {"choices": ["adam", "Adadelta"]}},
                    {**BASE, "optimizer": "Adadelta", "optimizer_options": {"rho": 0.9}})
    assert "search.space.optimizer: choice 'adam' is refused" in str(e.value)
    space = parse_space({"optimizer_options.rho": {"low": 0.5, "high": 0.99},
                         "optimizer": {"choices": ["sgd", "Adadelta"]}}, BASE)
    assert set(space) == {"optimizer_options.rho", "optimizer"}


def test_log_scale_defaults():
    space = parse_space({"lr": {"low": 0.1, "high": 0.5}, "weight_decay": {"low": 1e-6, "high": 1e-5},
                         "label_smoothing": {"low": 1e-4, "high": 0.5}, "momentum": {"low": 0.5, "high": 0.99},
                         "max_norm": {"low": 1.0, "high": 4.0, "log": True}}, BASE)
    assert space["lr"].log and space["weight_decay"].log        # named log keys, even when narrow
    assert space["label_smoothing"].log                         # more than two decades
    assert not space["momentum"].log and space["max_norm"].log  # narrow: linear unless asked


def test_integer_ranges_and_nested_keys_apply_into_tables():
    space = parse_space({"batch_size": {"low": 16, "high": 128, "step": 16},
                         "model.widths": {"choices": [[16], [32, 32]]}}, BASE)
    assert space["batch_size"].integer and space["batch_size"].step == 16
    options = apply(BASE, {"batch_size": 48, "model.widths": [32, 32]})
    assert options["model"] == {"type": "mlp", "widths": [32, 32]} and options["batch_size"] == 48
    assert BASE["model"]["widths"] == [32]                       # a copy: the base is unchanged


def test_values_drawn_are_the_options_and_survive_the_storage():
    space = parse_space({"lr": {"low": 1e-3, "high": 1}, "batch_size": {"low": 16, "high": 64, "step": 16},
                         "model.widths": {"choices": [[16], [32, 32]]}}, BASE)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(20):
        trial = study.ask()
        values = suggest(trial, space)
        assert 1e-3 <= values["lr"] <= 1 and values["batch_size"] % 16 == 0
        assert values["model.widths"] in ([16], [32, 32])
        assert option_values(space, trial.params) == values      # JSON choices decoded again
        study.tell(trial, 0.0)
    assert space_from_dict(space_to_dict(space)) == space


def test_grid_is_log_spaced_on_a_log_range():
    space = parse_space({"lr": {"low": 1e-4, "high": 1}, "batch_size": {"low": 16, "high": 64, "step": 16}}, BASE)
    values = grid(space, 5)
    assert [round(math.log10(v), 6) for v in values["lr"]] == [-4, -3, -2, -1, 0]
    assert values["batch_size"] == [16, 32, 48, 64]
