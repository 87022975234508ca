"""Fuzzing what users hand trainwell: config files and --set overrides, data files, predict
inputs. The property: every input ends in success or a TrainwellError (one line for the CLI),
never another exception. Bounded to seconds (max_examples, deadline); hypothesis shrinks a
failure to a minimal input, and its database replays it on the next run.

A deeper run (not in the suite): TRAINWELL_FUZZ_SCALE=20 pytest tests/test_fuzz.py -p no:xdist
multiplies every test's examples by 20 and draws new ones (not derandomized)."""
import math
import os
import string
import warnings

import numpy as np
import pytest
import tomli_w
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trainwell
from trainwell.cli import _read_config, main
from trainwell.config import OPTIONS, make_config
from trainwell.data.sources import SOURCE_OPTIONS, load
from trainwell.errors import TrainwellError

SCALE = int(os.environ.get("TRAINWELL_FUZZ_SCALE", "1"))


def fuzz(examples: int):
    """Bounded: ``examples`` inputs (a few seconds), the same ones on every run of the suite."""
    return settings(max_examples=examples * SCALE, deadline=None, derandomize=SCALE == 1,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# --- configs -------------------------------------------------------------------------------
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                    st.sampled_from(["sgd", "adam", "cosine", "mlp", "cnn", "digits", "moons", "relu",
                                     "batch", "standardize", "hflip", "orthogonal", "val_acc", "auto"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["name", "type", "source", "widths", "p", "eps", "every_epochs",
                                     "samples", "layers", "gain", "rho", "base", "x"]), inner, max_size=4)),
    max_leaves=8)
keys = st.one_of(st.sampled_from(sorted(OPTIONS)), st.text(string.ascii_lowercase + "_.", min_size=1, max_size=10))
configs = st.dictionaries(keys, values, max_size=6)


def _toml_safe(obj):
    """What TOML can hold: no None (tomli_w refuses it), keys as strings."""
    if isinstance(obj, dict):
        return {str(k): _toml_safe(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [_toml_safe(v) for v in obj if v is not None]
    return obj


def _one_line(error: TrainwellError) -> None:
    """The CLI prints a TrainwellError as ``trainwell: error: {message}``: one line, saying something."""
    message = str(error)
    assert message.strip() and "\n" not in message, repr(message)


def _checked(options: dict):
    """The CLI's validation of a config: make_config checks every option and table."""
    try:
        make_config(dict(options))
    except TrainwellError as e:
        _one_line(e)


@fuzz(50)
@given(config=configs)
def test_fuzzed_configs_are_accepted_or_refused_in_one_line(tmp_path, config):
    path = tmp_path / "c.toml"
    path.write_text(tomli_w.dumps(_toml_safe(config)))
    try:
        options = _read_config(path, [])
    except TrainwellError as e:
        _one_line(e)
        return
    _checked(options)
    _checked(config)                       # from Python: None and any key allowed


@fuzz(60)
@given(sets=st.lists(st.text(string.printable, max_size=30), max_size=3),
       base=st.dictionaries(st.sampled_from(["model", "data", "lr", "schedule"]), values, max_size=3))
def test_fuzzed_set_overrides_are_accepted_or_refused(tmp_path, sets, base):
    path = tmp_path / "c.toml"
    path.write_text(tomli_w.dumps(_toml_safe(base)))
    try:
        options = _read_config(path, sets)
    except TrainwellError as e:
        _one_line(e)
        return
    _checked(options)


@fuzz(60)
@given(data=st.binary(max_size=200))
def test_fuzzed_config_bytes_are_refused_in_one_line(tmp_path, data):
    path = tmp_path / "c.toml"
    path.write_bytes(data)
    try:
        _checked(_read_config(path, []))
    except TrainwellError as e:
        _one_line(e)


# --- data files ----------------------------------------------------------------------------
DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int8, np.uint8, np.bool_, np.complex64]


@st.composite
def arrays(draw, *, max_rows=12):
    shape = tuple(draw(st.lists(st.integers(0, max_rows), min_size=0, max_size=3)))
    dtype = draw(st.sampled_from(DTYPES))
    n = int(np.prod(shape)) if shape else 1
    raw = draw(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=n, max_size=n))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return np.asarray(raw, dtype=np.float64).astype(dtype).reshape(shape)


def _write(tmp_path, kind, X, y, text):
    if kind == "npy":
        np.save(tmp_path / "X.npy", X)
        np.save(tmp_path / "y.npy", y)
        return {"path": str(tmp_path / "X.npy"), "labels": str(tmp_path / "y.npy")}
    if kind == "npz":
        np.savez(tmp_path / "d.npz", X=X, y=y)
        return {"path": str(tmp_path / "d.npz")}
    (tmp_path / "d.csv").write_text(text)
    return {"path": str(tmp_path / "d.csv")}


csv_text = st.lists(st.lists(st.one_of(st.integers(-3, 12).map(str), st.floats(width=32).map(repr),
                                       st.text("abc,\"; \t", max_size=3)), min_size=1, max_size=4),
                    max_size=12).map(lambda rows: "\n".join(",".join(r) for r in rows))


@fuzz(20)
@given(kind=st.sampled_from(["npy", "npz", "csv"]), X=arrays(), y=arrays(max_rows=12), text=csv_text,
       options=st.dictionaries(st.sampled_from(["test_size", "val_size", "stratify", "label", "header"]),
                               st.one_of(st.integers(-1, 5), st.floats(0, 1), st.booleans()), max_size=2))
def test_fuzzed_data_files_load_or_are_refused_in_one_line(tmp_path, kind, X, y, text, options):
    given = {**_write(tmp_path, kind, X, y, text),
             **{k: v for k, v in options.items() if k in SOURCE_OPTIONS[kind]}}
    try:
        splits = load(kind, **given)
    except TrainwellError as e:
        _one_line(e)
        return
    assert splits.train[0].shape[0] == splits.train[1].shape[0]


# --- predict -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "run"
    X = torch.randn(60, 4, generator=torch.Generator().manual_seed(0))
    trainwell.fit(torch.nn.Linear(4, 3), (X, torch.arange(60) % 3), epochs=1, run_dir=str(path), report=False,
                  progress=False, babysit="off", device="cpu")
    return path


@fuzz(25)
@given(kind=st.sampled_from(["npy", "npz", "csv"]), X=arrays(), text=csv_text,
       output=st.sampled_from(["auto", "class", "raw", "proba"]))
def test_fuzzed_predict_inputs_predict_or_exit_2(tmp_path, capsys, run_dir, kind, X, text, output):
    path = {"npy": tmp_path / "X.npy", "npz": tmp_path / "X.npz", "csv": tmp_path / "X.csv"}[kind]
    if kind == "npy":
        np.save(path, X)
    elif kind == "npz":
        np.savez(path, X=X)
    else:
        path.write_text(text)
    status = main(["predict", str(run_dir), str(path), "--output", output])
    out, err = capsys.readouterr()
    assert status in (0, 2) and "Traceback" not in err
    if status == 2:
        assert err.startswith("trainwell: error: ") and err.count("\n") == 1
    else:
        rows = out.splitlines()
        assert rows and all(math.isfinite(float(v)) for row in rows for v in row.split(","))
