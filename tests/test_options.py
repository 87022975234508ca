"""The one option type and its checks (trainwell/options.py), and every registry that uses it."""
import ast
import inspect
import math
from pathlib import Path, PurePath

import pytest

from trainwell import config
from trainwell.data.augment import AUGMENTATIONS
from trainwell.data.sources import SOURCE_OPTIONS
from trainwell.data.transforms import PREPROCESSING
from trainwell.errors import ConfigError
from trainwell.nn.activations import ACTIVATION_OPTIONS
from trainwell.nn.init import INIT_OPTIONS
from trainwell.nn.models import CNN_LAYER_OPTIONS, MODEL_OPTIONS
from trainwell.nn.norms import NORM_OPTIONS
from trainwell.optim.schedules import SCHEDULE_OPTIONS
from trainwell.options import (Option, check_option, check_options, check_type, did_you_mean, must_be,
                               one_of, type_name)

STEP = {"every_epochs": Option(int, 10, "epochs between decays", check=must_be(lambda v: v >= 1, "an integer >= 1")),
        "factor": Option(float, 10.0, "divide by this"),
        "path": Option((str, PurePath), None, "a file", required=True)}


# ------------------------------------------------------------------------------ types
def test_an_int_becomes_a_float_only_where_ints_are_not_accepted():
    assert check_type("lr", 1, float) == 1.0 and isinstance(check_type("lr", 1, float), float)
    assert check_type("test_size", 300, (int, float)) == 300
    assert isinstance(check_type("test_size", 300, (int, float)), int)     # a count stays a count
    assert isinstance(check_type("eps", 2, (float, type(None))), float)
    assert check_type("eps", None, (float, type(None))) is None


@pytest.mark.parametrize("value, types, message", [
    (True, int, "epochs = True: must be an integer, not true/false"),
    (True, (int, float), "epochs = True: must be a number, not true/false"),
    ("ten", int, "epochs = 'ten': must be an integer (got str)"),
    (2.5, int, "epochs = 2.5: must be an integer (got float)"),
    (math.nan, float, "epochs = nan: must be a finite number"),
    (math.inf, (int, float), "epochs = inf: must be a finite number"),
    (3, (str, Path, type(None)), "epochs = 3: must be a string or a path or none (got int)"),
])
def test_wrong_types_name_the_label_the_value_and_what_is_allowed(value, types, message):
    with pytest.raises(ConfigError) as e:
        check_type("epochs", value, types)
    assert str(e.value) == message


def test_type_names_read_as_words():
    assert type_name((int, float)) == "a number"
    assert type_name((bool,)) == "true/false"
    assert type_name((dict, list, tuple)) == "a table or a list"
    assert type_name(PurePath) == type_name(Path) == "a path"


# ------------------------------------------------------------------------------ check_options
def test_check_options_fills_defaults_and_converts():
    assert check_options("schedule 'step'", {"factor": 5, "path": "a.csv"}, STEP) == \
        {"every_epochs": 10, "factor": 5.0, "path": "a.csv"}


@pytest.mark.parametrize("given, label, message", [
    ({"every": 3, "path": "p"}, "{where}: {name}",
     "schedule 'step': unknown option 'every'; allowed: every_epochs, factor, path"),
    ({"every_epoch": 3, "path": "p"}, "{where}: {name}",
     "schedule 'step': unknown option 'every_epoch' (did you mean 'every_epochs'?); allowed: every_epochs, "
     "factor, path"),
    ({}, "{where}: {name}", "schedule 'step': path is required (a file)"),
    ({"every_epochs": 0, "path": "p"}, "{where}: {name}",
     "schedule 'step': every_epochs = 0: must be an integer >= 1"),
    ({"every_epochs": 0, "path": "p"}, "schedule.{name}", "schedule.every_epochs = 0: must be an integer >= 1"),
    ({"factor": "big", "path": "p"}, "schedule.{name}", "schedule.factor = 'big': must be a number (got str)"),
])
def test_check_options_errors_name_where_the_option_and_what_is_allowed(given, label, message):
    with pytest.raises(ConfigError) as e:
        check_options("schedule 'step'", given, STEP, label=label)
    assert str(e.value) == message


def test_an_entry_without_options_says_so():
    with pytest.raises(ConfigError, match=r"constant: unknown option 'final'; allowed: \(no options\)"):
        check_options("constant", {"final": 0.1}, {})


def test_checks_run_after_the_type_and_never_on_none():
    calls = []
    option = Option((float, type(None)), None, "x", check=lambda v: calls.append(v) or None)
    assert check_option("x", None, option) is None and calls == []
    assert check_option("x", 2, option) == 2.0 and calls == [2.0]


def test_must_be_and_one_of_say_what_is_allowed():
    unit = must_be(lambda v: 0 < v < 1, "a number in (0, 1)")
    assert unit(0.5) is None and unit(1.0) == "must be a number in (0, 1)"
    monitors = one_of(("val_loss", "val_acc", "train_loss"))
    assert monitors("val_acc") is None
    assert monitors("val_accuracy") == "unknown (did you mean 'val_acc'?); allowed: train_loss, val_acc, val_loss"
    assert did_you_mean("zzz", ["lr"]) == ""


def test_options_is_a_leaf_module():
    """options.py may import nothing from trainwell but errors: every registry imports it."""
    tree = ast.parse((Path(__file__).parents[1] / "trainwell" / "options.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | \
        {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert {m for m in imported if m and m.startswith("trainwell")} == {"trainwell.errors"}


# ------------------------------------------------------------------------------ every registry
def _registries():
    """(where, {option: Option}) for every option table of the package."""
    yield "config", config.OPTIONS
    for table, registry in [("source", SOURCE_OPTIONS), ("model", MODEL_OPTIONS), ("cnn layer", CNN_LAYER_OPTIONS),
                            ("activation", ACTIVATION_OPTIONS), ("norm", NORM_OPTIONS), ("init", INIT_OPTIONS),
                            ("schedule", SCHEDULE_OPTIONS)]:
        for name, options in registry.items():
            yield f"{table} {name}", options
    for table, registry in [("preprocess", PREPROCESSING), ("augment", AUGMENTATIONS)]:
        for name, cls in registry.items():
            yield f"{table} {name}", cls.OPTIONS


@pytest.mark.parametrize("where, options", list(_registries()), ids=lambda x: x if isinstance(x, str) else "")
def test_every_registry_option_is_an_option_whose_default_passes_its_own_checks(where, options):
    for name, option in options.items():
        assert isinstance(option, Option) and option.doc.strip(), (where, name)
        if not option.required:
            check_option(f"{where}: {name}", option.default, option)


@pytest.mark.parametrize("name, cls", list(PREPROCESSING.items()) + list(AUGMENTATIONS.items()))
def test_transform_and_augmentation_options_are_their_constructor_keywords(name, cls):
    params = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items() if k != "self"}
    assert params == {k: o.default for k, o in cls.OPTIONS.items()}, name
