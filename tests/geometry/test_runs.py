import json
import re

import pytest
import torch

import trainwell
from trainwell.cli import main
from trainwell.geometry.directions import load_directions
from trainwell.geometry.run_landscape import landscape
from trainwell.geometry.runs import open_run
from trainwell.train.callbacks import Callback


def _loss(model, X, y):
    with torch.no_grad():
        return torch.nn.functional.cross_entropy(model.eval()(X), y).item()


class InitialWeights(Callback):
    def on_fit_start(self, state):
        self.weights = {k: v.detach().clone() for k, v in state.model.named_parameters()}


def test_open_run_rebuilds_the_initial_weights(tmp_path):
    seen = InitialWeights()
    trainwell.fit({"type": "mlp", "widths": [8]}, "digits", run_dir=str(tmp_path / "r"), epochs=1, seed=3,
                  device="cpu", progress=False, report=False, callbacks=[seen], preprocess=["standardize"])
    rd = open_run(tmp_path / "r")
    assert set(rd.init) == set(seen.weights)
    assert all(torch.equal(rd.init[k], seen.weights[k]) for k in rd.init)
    assert any(not torch.equal(rd.weights[k], rd.init[k]) for k in rd.init)   # it trained
    assert rd.test is not None and rd.train[0].shape[1] == 64


def test_landscape_of_a_run_writes_grids_figures_and_the_report_section(digits_runs):
    run_a, run_b, _ = digits_runs
    surf = landscape(run_a, steps=5, seed=1)
    out = run_a / "geometry"
    for name in ("surface.json", "surface.grid.safetensors", "surface_train_loss.png", "surface_3d.png",
                 "surface_test_loss.png", "directions.safetensors", "figures.json"):
        assert (out / name).is_file(), name
    _, meta = load_directions(out / "directions.safetensors")
    assert meta == {"seed": 1, "normalization": "filter", "one_d": "zero"}
    rd = open_run(run_a)
    assert surf.values["train_loss"][2, 2].item() == pytest.approx(        # the centre is the solution
        _loss(rd.model, *rd.train), rel=1e-5)
    line = landscape(run_a, start="init")
    assert line.values["train_loss"][10] > line.values["train_loss"][30]   # alpha 0 (init) above alpha 1
    to = landscape(run_a, to=run_b)
    assert (out / f"line_to_{run_b.name}.png").is_file() and to.meta["to"] == str(run_b)
    report = (run_a / "report.html").read_text()
    assert "Geometry and visualization" in report and "init -&gt; solution" in report
    listed = json.loads((out / "figures.json").read_text())
    assert {"surface_train_loss.png", "line_init.png"} <= set(listed)


def test_cli_landscape_and_its_errors(digits_runs, capsys, tmp_path):
    run_a, run_b, run_c = digits_runs
    assert main(["landscape", str(run_a), "--plane", str(run_b), str(run_c), "--steps", "4", "--no-test"]) == 0
    saved = json.loads((run_a / "geometry" / "plane.json").read_text())
    assert len(saved["meta"]["points"]) == 3 and saved["meta"]["runs"][1:] == [str(run_b), str(run_c)]
    assert (run_a / "geometry" / "plane_train_loss.png").is_file()
    assert main(["landscape", str(run_a), "--plane", str(run_b), str(run_a), "--steps", "3"]) == 2
    assert "the three solutions lie on one line" in capsys.readouterr().err
    assert main(["landscape", str(run_a), "--steps", "3", "--subset", "100", "--seed", "5", "--no-test"]) == 0
    printed = capsys.readouterr().out
    assert "standard error" in printed and "9 points" in printed
    assert main(["landscape", str(tmp_path / "nothing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["landscape", str(run_a), "--subset", "1"]) == 2
    assert "subset = 1: must be an integer" in capsys.readouterr().err


def test_cli_sharpness_writes_its_numbers(digits_runs, capsys):
    run_a, *_ = digits_runs
    assert main(["sharpness", str(run_a), "--trace-samples", "4", "--subset", "300", "--k", "2"]) == 0
    assert "top Hessian eigenvalues" in capsys.readouterr().out
    saved = json.loads((run_a / "geometry" / "sharpness.json").read_text())
    assert saved["samples"] == 300 and len(saved["top_eigenvalues"]) == 2
    assert saved["top_eigenvalues"][0] >= saved["top_eigenvalues"][1] > 0
    assert main(["sharpness", str(run_a), "--method", "power", "--trace-samples", "1"]) == 2
    assert "trace_samples = 1: must be an integer >= 2" in capsys.readouterr().err


@pytest.mark.parametrize("command, seed, allowed", [
    ("landscape", "-1", r"\[0, 2\*\*63 - 1\]"),
    ("sharpness", "99999999999999999999999", r"\[0, 2\*\*63 - 1\]"),
    ("visualize", "4294967296", r"\[0, 2\*\*32 - 1\] \(scikit-learn's random_state"),
])
def test_a_seed_out_of_range_is_one_line_naming_it_before_the_run_is_read(tmp_path, capsys, command, seed, allowed):
    """torch.Generator.manual_seed, numpy and t-SNE refuse such seeds with tracebacks (``Overflow
    when unpacking long long``, ``expected non-negative integer``); the commands check it first."""
    assert main([command, str(tmp_path / "no_run"), "--seed", seed]) == 2
    assert re.search(rf"^trainwell: error: seed = {seed}: must be in {allowed}", capsys.readouterr().err)


@pytest.mark.parametrize("rho, m", [("nan", "128"), ("-1", "128"), ("0.05", "0")])
def test_sharpness_checks_rho_and_m_before_its_slower_measures(tmp_path, capsys, rho, m):
    """m-sharpness comes last, after the eigenvalues and the trace: a bad rho or m is refused before
    the run is read (a NaN rho passed `rho <= 0` and gave a NaN sharpness)."""
    assert main(["sharpness", str(tmp_path / "no_run"), "--rho", rho, "--m", m]) == 2
    assert f"rho = {float(rho)}, m = {m}: need a finite rho > 0 and m >= 1" in capsys.readouterr().err
