"""Every entry of every registry, every option of each entry and every keyword of the Python entry
points is named on its area's docs page, so the page the README sends a reader to lists it.

tests/test_options.py checks the registries' Option records (a doc, a default that passes its own
check); tests/test_cli_docs.py the command line's flags; docs/options.md, the optimizer table and the
search table are generated and compared elsewhere (test_cli.py, optim/test_registry.py,
hpsearch/test_search_docs.py). What none of them checks is that a registry's entries and options
appear on their page: this test does (by name; what each says is for the reader)."""
import dataclasses
import inspect
import re
from pathlib import Path

import pytest

import trainwell
from trainwell.config import OPTIONS
from trainwell.data.augment import AUGMENTATIONS
from trainwell.data.sources import SOURCE_OPTIONS
from trainwell.data.transforms import PREPROCESSING
from trainwell.ensembles.distill import DISTILL_OPTIONS
from trainwell.ensembles.methods import ENSEMBLE_METHODS
from trainwell.geometry.connect import KINDS
from trainwell.geometry.directions import NORMALIZATIONS, ONE_D
from trainwell.geometry.hessian import METHODS
from trainwell.geometry.landscape import BN_POLICIES
from trainwell.hpsearch.pruning import PRUNERS
from trainwell.hpsearch.samplers import SAMPLERS
from trainwell.nn.activations import ACTIVATION_OPTIONS
from trainwell.nn.dropout import DROPOUT_MODES
from trainwell.nn.init import INIT_OPTIONS
from trainwell.nn.losses import LOSSES
from trainwell.nn.models import CNN_LAYER_OPTIONS, MODEL_OPTIONS, OUTPUT_ACTIVATIONS
from trainwell.nn.norms import NORM_OPTIONS
from trainwell.optim.schedules import SCHEDULE_OPTIONS
from trainwell.train.average import AVERAGE_OPTIONS
from trainwell.train.controls import Controls
from trainwell.train.loggers import LOGGERS
from trainwell.train.precision import PRECISIONS
from trainwell.train.state import TrainState

DOCS = Path(__file__).parents[1] / "docs"


def named(name: str, text: str) -> bool:
    """``name`` as a word of ``text``, or as its command-line flag (``trace_samples``: --trace-samples)."""
    return any(re.search(rf"(?<![\w-]){re.escape(form)}(?![\w-])", text)
               for form in (name, "--" + name.replace("_", "-")))


# (page, {entry: {option: Option}}): a registry's entries and their options
TABLES = [
    ("data.md", SOURCE_OPTIONS),
    ("models.md", MODEL_OPTIONS),
    ("models.md", {"layers": CNN_LAYER_OPTIONS}),
    ("models.md", ACTIVATION_OPTIONS),
    ("models.md", NORM_OPTIONS),
    ("init.md", INIT_OPTIONS),
    ("schedules.md", SCHEDULE_OPTIONS),
    ("preprocessing.md", {name: cls.OPTIONS for name, cls in PREPROCESSING.items()}),
    ("augmentation.md", {name: cls.OPTIONS for name, cls in AUGMENTATIONS.items()}),
    ("ensembles.md", {name: method.options for name, method in ENSEMBLE_METHODS.items()}),
    ("ensembles.md", {"distill": DISTILL_OPTIONS}),
    ("ensembles.md", AVERAGE_OPTIONS),
]
# (page, names): registries of choices without options
CHOICES = [
    ("losses.md", LOSSES),
    ("models.md", DROPOUT_MODES),
    ("models.md", OUTPUT_ACTIVATIONS),
    ("geometry.md", METHODS),
    ("geometry.md", NORMALIZATIONS),
    ("geometry.md", ONE_D),
    ("geometry.md", BN_POLICIES),
    ("geometry.md", KINDS),
    ("speed.md", PRECISIONS),
    ("tracking.md", LOGGERS),
    ("search.md", SAMPLERS),
    ("search.md", PRUNERS),
]
# (page, function): the keywords of the Python entry points (data and model arguments aside)
NOT_OPTIONS = {"model", "train", "val", "test", "run_dir", "run_a", "run_b", "student", "teacher",
               "options", "fit_options"}
ENTRY_POINTS = [("geometry.md", trainwell.landscape), ("geometry.md", trainwell.sharpness),
                ("geometry.md", trainwell.connect), ("visualize.md", trainwell.visualize),
                ("ensembles.md", trainwell.ensemble), ("ensembles.md", trainwell.distill),
                ("search.md", trainwell.search)]


@pytest.mark.parametrize("page, registry", TABLES, ids=[f"{p}:{next(iter(r))}" for p, r in TABLES])
def test_every_entry_and_option_of_a_registry_is_on_its_page(page, registry):
    text = (DOCS / page).read_text()
    missing = [entry for entry in registry if not named(entry, text)]
    missing += [f"{entry}.{option}" for entry, options in registry.items() for option in options
                if not named(option, text)]
    assert not missing, f"docs/{page} does not name: {missing}"


@pytest.mark.parametrize("page, names", CHOICES, ids=[f"{p}:{next(iter(n))}" for p, n in CHOICES])
def test_every_choice_of_a_registry_is_on_its_page(page, names):
    text = (DOCS / page).read_text()
    assert not [name for name in names if not named(name, text)], f"docs/{page}"


@pytest.mark.parametrize("page, function", ENTRY_POINTS, ids=[f.__name__ for _, f in ENTRY_POINTS])
def test_every_keyword_of_a_python_entry_point_is_on_its_page(page, function):
    text = (DOCS / page).read_text()
    keywords = [k for k in inspect.signature(function).parameters if k not in NOT_OPTIONS]
    assert keywords, function.__name__
    missing = [k for k in keywords if not named(k, text)]
    assert not missing, f"docs/{page} does not name {function.__name__}'s keywords {missing}"


def test_every_config_option_is_on_an_area_page_not_only_the_generated_table():
    """docs/options.md is generated from the config's registry; an option must also be on the page
    of the area where it acts (its formula and source are said there)."""
    pages = [p.read_text() for p in DOCS.glob("*.md") if p.name not in ("options.md", "babysitter.md")]
    missing = [name for name in OPTIONS if not any(named(name, text) for text in pages)]
    assert not missing, f"named only in docs/options.md (or babysitter.md): {missing}"


def test_every_train_state_field_and_control_is_on_the_training_page():
    """A callback's whole interface (docs/training.md): the fields of TrainState and every public
    member of state.controls."""
    text = (DOCS / "training.md").read_text()
    members = [f.name for f in dataclasses.fields(TrainState)]
    members += [name for name in vars(Controls) if not name.startswith("_")]
    missing = [name for name in members if not named(name, text)]
    assert not missing, f"docs/training.md does not name: {missing}"
