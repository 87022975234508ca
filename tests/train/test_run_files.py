"""A run directory's files that are missing, corrupted or unwritable: one DataError/ConfigError
line naming the file and the problem, from load_run, predict, --resume and fit; never a traceback."""
import json
import shutil

import numpy as np
import pytest
import torch

import trainwell
from trainwell.cli import main
from trainwell.errors import ConfigError, DataError
from trainwell.train.run import load_run

OPTIONS = dict(epochs=1, batch_size=16, report=False, progress=False, babysit="off",
               preprocess=["standardize"], device="cpu")
FILES = ["model.safetensors", "preprocess.safetensors", "config.json", "model.json"]
# What each corruption does to a file's bytes, and the words the error must use for it.
CORRUPTIONS = {
    "missing": (None, "missing"),
    "empty": (lambda b: b"", ""),
    "truncated": (lambda b: b[: len(b) // 2], ""),
    "garbage": (lambda b: b"\x80\x04garbage" * 7, ""),
}
PROBLEM_WORDS = ("missing", "corrupted", "not a readable", "not valid JSON", "not UTF-8", "lacks",
                 "expected a JSON object", "do not fit")


def _data():
    X = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    return X, (X[:, 0] > 0).long()


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    trainwell.fit(None, _data(), run_dir=str(run_dir), **OPTIONS)
    return run_dir


def _copy(finished, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(finished, run_dir)
    return run_dir


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
@pytest.mark.parametrize("name", FILES)
def test_a_bad_run_file_is_one_data_error_naming_it(finished, tmp_path, name, corruption):
    run_dir = _copy(finished, tmp_path)
    change, word = CORRUPTIONS[corruption]
    path = run_dir / name
    if change is None:
        path.unlink()
    else:
        path.write_bytes(change(path.read_bytes()))
    with pytest.raises(DataError) as err:
        load_run(run_dir)
    message = str(err.value)
    assert name in message and "\n" not in message
    assert any(w in message for w in PROBLEM_WORDS) and word in message, message


def test_json_of_the_wrong_shape_is_named(finished, tmp_path):
    run_dir = _copy(finished, tmp_path)
    (run_dir / "model.json").write_text("[1, 2]")
    with pytest.raises(DataError, match=r"model\.json: expected a JSON object .* got list"):
        load_run(run_dir)
    (run_dir / "model.json").write_text("{}")
    with pytest.raises(DataError, match=r"model\.json: lacks 'spec'"):
        load_run(run_dir)


def test_predict_on_a_corrupt_run_exits_2_with_one_line(finished, tmp_path, capsys):
    run_dir = _copy(finished, tmp_path)
    (run_dir / "model.safetensors").write_bytes(b"not safetensors")
    inputs = tmp_path / "x.npy"
    np.save(inputs, _data()[0].numpy())
    assert main(["predict", str(run_dir), str(inputs)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("trainwell: error: ") and "model.safetensors" in err and "\n" not in err


def test_resume_with_a_corrupt_config_json_names_it(finished, tmp_path):
    run_dir = _copy(finished, tmp_path)
    (run_dir / "config.json").write_text('{"lr": 0.1, ')
    with pytest.raises(DataError, match=r"config\.json: truncated or not valid JSON"):
        trainwell.fit(None, _data(), run_dir=str(run_dir), resume=True, **OPTIONS)


def test_a_run_dir_that_is_a_file_is_one_config_error(tmp_path):
    file = tmp_path / "results.txt"
    file.write_text("mine")
    with pytest.raises(ConfigError, match=r"results\.txt' is a file, not a directory"):
        trainwell.fit(None, _data(), run_dir=str(file), **OPTIONS)
    with pytest.raises(ConfigError, match=r"cannot create the directory \(Not a directory\)"):
        trainwell.fit(None, _data(), run_dir=str(file / "run"), **OPTIONS)
    with pytest.raises(DataError, match=r"results\.txt: is a file"):
        load_run(file)
    assert file.read_text() == "mine"


def test_a_bad_stop_kind_in_results_json_is_named(finished, tmp_path):
    run_dir = _copy(finished, tmp_path)
    results = json.loads((run_dir / "results.json").read_text())
    (run_dir / "results.json").write_text(json.dumps({**results, "stop_kind": "exploded"}))
    with pytest.raises(DataError, match=r"results\.json: stop_kind = 'exploded'"):
        load_run(run_dir)


def test_a_read_only_run_dir_is_one_config_error(tmp_path, read_only):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with read_only(run_dir):                          # as root: immutable (tests/conftest.py)
        with pytest.raises(ConfigError, match=rf"cannot write there \(\.trainwell\.lock: {read_only.error}\)"):
            trainwell.fit(None, _data(), run_dir=str(run_dir), **OPTIONS)


def test_a_lock_file_that_cannot_be_opened_is_one_config_error(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / ".trainwell.lock").mkdir(parents=True)     # stands for any unwritable lock file
    with pytest.raises(ConfigError, match=r"cannot write there \(\.trainwell\.lock: Is a directory\)"):
        trainwell.fit(None, _data(), run_dir=str(run_dir), **OPTIONS)
