"""Every example config is valid and trains through `trainwell fit`; the CNN and the ResNet
learn: both train on digits as 8x8 images and on the procedural shapes."""
import json
from pathlib import Path

import pytest

from trainwell.cli import main

EXAMPLES = Path(__file__).parents[1] / "examples"


@pytest.mark.parametrize("name, epochs, floor", [
    ("digits_mlp", 3, 0.85),
    ("digits_cnn", 4, 0.85),
    ("shapes_resnet", 6, 0.7),
])
def test_example_trains(tmp_path, monkeypatch, name, epochs, floor):
    monkeypatch.chdir(tmp_path)
    assert main(["fit", str(EXAMPLES / f"{name}.toml"), "--quiet", "--set", f"epochs={epochs}",
                 "--set", f"run_dir=runs/{name}"]) == 0
    results = json.loads((tmp_path / "runs" / name / "results.json").read_text())
    assert results["test"]["acc"] >= floor


def test_transfer_example_fine_tunes_a_base_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["fit", str(EXAMPLES / "digits_mlp.toml"), "--quiet", "--set", "epochs=2",
                 "--set", "run_dir=runs/base"]) == 0
    assert main(["fit", str(EXAMPLES / "transfer.toml"), "--quiet", "--set", "epochs=3",
                 "--set", "unfreeze_at=1", "--set", "run_dir=runs/t"]) == 0
    report = json.loads((tmp_path / "runs/t/transfer.json").read_text())
    assert report["matched"] and not report["mismatched"]


def test_broken_example_is_diagnosed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["doctor", str(EXAMPLES / "broken_lr.toml"), "--budget", "30"]) == 1
    out = capsys.readouterr().out
    assert "lr_too_high" in out or "loss_exploding" in out


@pytest.mark.parametrize("model, data, epochs, floor", [
    ('type = "resnet"\nwidths = [16, 32]\nblocks = 1', 'source = "digits"\nimages = true', 4, 0.85),
    ('type = "cnn"\nnorm = "batch"', 'source = "shapes"\nclasses = 4\nsize = 16', 6, 0.7),
])
def test_cnn_and_resnet_train_on_digits_images_and_shapes(tmp_path, monkeypatch, model, data, epochs, floor):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "c.toml"
    config.write_text(f'epochs = {epochs}\nrun_dir = "runs/r"\n[data]\n{data}\n[model]\n{model}\n')
    assert main(["fit", str(config), "--quiet"]) == 0
    results = json.loads((tmp_path / "runs/r/results.json").read_text())
    assert results["test"]["acc"] >= floor
