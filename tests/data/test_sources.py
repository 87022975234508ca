import inspect
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from trainwell.config import make_config
from trainwell.data.sources import SOURCE_OPTIONS, SOURCES, Splits, check_source_options, digits, load
from trainwell.errors import ConfigError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data.md"
FILE_SOURCES = {"npy", "npz", "csv", "mnist", "cifar10", "image_folder"}


def proportions(y, k):
    return np.bincount(y.numpy(), minlength=k) / len(y)


def test_digits_keeps_its_reference_split():
    """Same split as the original loader: sklearn's stratified split of the arrays, 500 test, 200 val."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X, y = (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=500, stratify=y, random_state=0)
    X_tr, X_val, y_tr, y_val = train_test_split(X_rest, y_rest, test_size=200, stratify=y_rest, random_state=0)
    s = digits()
    assert torch.equal(s.test[0], torch.from_numpy(X_test)) and torch.equal(s.test[1], torch.from_numpy(y_test))
    assert torch.equal(s.val[0], torch.from_numpy(X_val)) and torch.equal(s.train[0], torch.from_numpy(X_tr))
    assert s.num_classes == 10 and s.input_shape == (64,)
    img = digits(images=True)
    assert img.input_shape == (1, 8, 8) and torch.equal(img.train[0].reshape(-1, 64), s.train[0])


@pytest.mark.parametrize("name, n, features, classes", [
    ("iris", 150, 4, 3), ("wine", 178, 13, 3), ("breast_cancer", 569, 30, 2)])
def test_bundled_sets(name, n, features, classes):
    s = load(name)
    sizes = [len(p[0]) for p in (s.train, s.val, s.test)]
    assert sum(sizes) == n and sizes[2] == int(np.ceil(0.2 * n)) and sizes[1] == int(np.ceil(0.1 * n))
    assert s.input_shape == (features,) and s.num_classes == classes and len(s.meta["classes"]) == classes
    whole = np.concatenate([p[1].numpy() for p in (s.train, s.val, s.test)])
    assert whole.min() == 0 and whole.max() == classes - 1
    ref = np.bincount(whole) / n
    for X, y in (s.train, s.val, s.test):
        assert X.dtype == torch.float32 and X.shape[1] == features
        assert np.abs(proportions(y, classes) - ref).max() <= 1.0 / len(y) + 1e-9   # stratified
    again, other = load(name, seed=0), load(name, seed=1)
    assert torch.equal(again.test[0], s.test[0]) and not torch.equal(other.test[0], s.test[0])


def test_split_options_reach_every_builtin():
    s = load("wine", test_size=40, val_size=0, stratify=False)
    assert len(s.test[0]) == 40 and s.val is None and len(s.train[0]) == 138


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_option_table_matches_each_loader(name):
    params = inspect.signature(SOURCES[name]).parameters
    spec = SOURCE_OPTIONS[name]
    assert set(spec) == set(params), f"{name}: SOURCE_OPTIONS and the loader's keywords differ"
    for key, option in spec.items():
        p = params[key]
        assert p.kind is inspect.Parameter.KEYWORD_ONLY
        if option.required:
            assert p.default is inspect.Parameter.empty
        else:
            default = list(p.default) if isinstance(p.default, tuple) else p.default
            assert default == option.default, f"{name}.{key}: default {p.default!r} vs {option.default!r}"
            assert option.default is None or isinstance(option.default, option.types), f"{name}.{key}"
    assert "seed" in spec     # fit() always passes the run's seed


@pytest.mark.parametrize("name", sorted(set(SOURCES) - FILE_SOURCES))
def test_every_generated_or_bundled_source_loads_by_name(name):
    s = load(name, seed=1)
    assert isinstance(s, Splits)
    assert s.input_shape == tuple(s.train[0].shape[1:])
    for X, y in (s.train, s.val, s.test):
        assert len(X) == len(y) and torch.isfinite(X).all()
        if s.num_classes is not None:
            assert 0 <= int(y.min()) and int(y.max()) < s.num_classes


def test_load_rejects_unknown_options_with_suggestion():
    with pytest.raises(ConfigError) as e:
        load("iris", test_szie=0.3)
    msg = str(e.value)
    assert "data (source 'iris'): unknown option 'test_szie'" in msg
    assert "did you mean 'test_size'?" in msg
    assert "allowed: fold, folds, seed, stratify, test_size, val_size" in msg


def test_load_rejects_wrong_types_missing_paths_and_unknown_sources():
    with pytest.raises(ConfigError, match=r"data.test_size = 'big': must be a number \(got str\)"):
        load("iris", test_size="big")
    with pytest.raises(ConfigError, match=r"data.classes = True: must be an integer"):
        load("spirals", classes=True)
    with pytest.raises(ConfigError, match=r"data \(source 'csv'\): path is required \(a CSV file, one sample per row\)"):
        load("csv")
    with pytest.raises(ConfigError, match=r"data.source = 'digit': unknown data source \(did you mean 'digits'\?\)"):
        load("digit")


def test_folds_from_config_options_validate_on_fold_of_the_pool():
    """The [data] table's folds/fold: run i of k validates on fold i; the k validation splits are
    disjoint, cover the train+val pool, keep the class proportions, and the test split stays put."""
    table = {"source": "spirals", "samples_per_class": 40, "seed": 3, "folds": 4}
    config = make_config({"data": {**table, "fold": 1}})                 # validated like any config
    assert config.data["fold"] == 1
    runs = []
    for fold in range(4):
        options = {k: v for k, v in {**table, "fold": fold}.items() if k != "source"}
        runs.append(load(table["source"], **options))
    rows = [{tuple(r) for r in s.val[0].tolist()} for s in runs]
    pool = {tuple(r) for s in runs[:1] for r in torch.cat([s.train[0], s.val[0]]).tolist()}
    assert all(not a & b for i, a in enumerate(rows) for b in rows[i + 1:])
    assert set().union(*rows) == pool and len(pool) == 120 - 24
    for s in runs:
        assert torch.equal(s.test[0], runs[0].test[0])
        assert np.bincount(s.val[1].numpy()).tolist() == [8, 8, 8]
        assert {tuple(r) for r in torch.cat([s.train[0], s.val[0]]).tolist()} == pool


@pytest.mark.parametrize("data, message", [
    ({"folds": 1}, r"data.folds = 1: must be an integer >= 2"),
    ({"folds": 5, "fold": 5}, r"data.fold = 5: must be an integer in 0..4"),
    ({"fold": 0}, r"data.fold = 0: needs data.folds"),
    ({"fold": 2}, r"data.fold = 2: needs data.folds"),
    ({"folds": 5, "val_size": 0.1}, r"data.val_size = 0.1 and data.folds = 5: .* remove val_size"),
    ({"folds": 2.5}, r"data.folds = 2.5: must be an integer or none"),
])
def test_fold_options_are_checked_before_any_data_is_read(data, message):
    with pytest.raises(ConfigError, match=message):
        make_config({"data": {"source": "csv", "path": "/nowhere.csv", **data}})
    with pytest.raises(ConfigError, match=message):
        check_source_options("csv", {"path": "/nowhere.csv", **data})


def test_check_source_options_fills_defaults_without_reading():
    filled = check_source_options("mnist", {"path": "/nowhere"})
    assert filled["path"] == "/nowhere" and filled["val_size"] == 0.1 and filled["seed"] == 0


def test_docs_list_every_source_and_option():
    text = DOCS.read_text()
    for name, spec in SOURCE_OPTIONS.items():
        section = re.search(rf"^### `{name}`$(.*?)(?=^### |\Z)", text, re.M | re.S)
        assert section, f"docs/data.md has no '### `{name}`' section"
        for key in spec:
            assert f"`{key}`" in section.group(1), f"docs/data.md: {name} does not document {key}"
