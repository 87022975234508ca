"""train/run.py: how a run's weights are written (atomic_save_model)."""
import os

import pytest
import torch
from safetensors.torch import load_file, load_model, save_model
from torch import nn

from trainwell.train import run as run_module
from trainwell.train.run import atomic_save_model


def _model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    model[0].weight = nn.Parameter(torch.randn(4, 3).t())     # a non-contiguous parameter
    return model


def _tied():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(5, 4), nn.Linear(4, 5, bias=False))
    model[1].weight = model[0].weight                          # tied weights: one storage, two names
    return model


def test_distinct_tensors_are_written_from_memory_as_save_model_writes_them(tmp_path, monkeypatch):
    """The same bytes as safetensors' own save_model, without calling it (through the temp file's
    descriptor), and no temp file left; the file is made as the run's other files (the umask)."""
    model = _model()
    save_model(model, str(tmp_path / "reference.safetensors"))
    monkeypatch.setattr(run_module, "save_model", lambda *a, **k: pytest.fail("save_model called"))
    atomic_save_model(model, tmp_path / "model.safetensors")
    assert (tmp_path / "model.safetensors").read_bytes() == (tmp_path / "reference.safetensors").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors", "reference.safetensors"]
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "model.safetensors").stat().st_mode & 0o777 == 0o666 & ~umask


def test_tied_weights_go_through_save_model_and_load_back(tmp_path):
    """Tensors on one storage: safetensors' save refuses them, save_model keeps one name of the
    group and load_model ties them again (strict)."""
    model = _tied()
    atomic_save_model(model, tmp_path / "model.safetensors")
    assert len(load_file(str(tmp_path / "model.safetensors"))) == 1
    copy = _tied()
    torch.nn.init.zeros_(copy[0].weight)
    load_model(copy, str(tmp_path / "model.safetensors"))
    assert torch.equal(copy[0].weight, model[0].weight) and copy[1].weight is copy[0].weight


def test_a_state_over_the_in_memory_size_goes_through_save_model(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(run_module, "IN_MEMORY_BYTES", 0)
    monkeypatch.setattr(run_module, "save_model", lambda m, f: calls.append(f) or save_model(m, f))
    model = _model()
    atomic_save_model(model, tmp_path / "model.safetensors")
    assert len(calls) == 1 and calls[0] != str(tmp_path / "model.safetensors")    # into the temp file
    loaded = load_file(str(tmp_path / "model.safetensors"))
    assert torch.equal(loaded["0.weight"], model[0].weight)
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


def test_evaluate_and_predict_name_what_they_accept():
    import trainwell
    from trainwell.errors import DataError
    X, y = torch.rand(60, 4), torch.arange(60) % 3
    run = trainwell.fit(nn.Sequential(nn.Linear(4, 3)), (X, y), val=(X[:20], y[:20]), epochs=1,
                        progress=False, babysit="off", report=False)
    assert set(run.evaluate("val")) >= {"loss", "acc", "n"}
    with pytest.raises(DataError, match=r"evaluate\('tset'\): this run has no 'tset' split; its splits: "
                                        r"train, val; or pass \(X, y\)"):
        run.evaluate("tset")       # no test split: nothing close to suggest
    with pytest.raises(DataError, match=r"evaluate\('vall'\): this run has no 'vall' split \(did you mean 'val'\?\)"):
        run.evaluate("vall")
    with pytest.raises(DataError, match="no 'num_classes' split"):   # a Splits field that is no split
        run.evaluate("num_classes")
    with pytest.raises(DataError, match=r"predict\(output='probs'\): unknown \(did you mean 'proba'\?\); "
                                        r"allowed: auto, class, raw, proba"):
        run.predict(X, output="probs")
