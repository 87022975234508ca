import json
import math

import pytest
import torch
from torch import nn

from trainwell.cli import main
from trainwell.errors import ConfigError
from trainwell.geometry.connect import Curve, barrier_summary, connect
from trainwell.geometry.directions import weights_of

from geometry_helpers import small_cnn


def test_bezier_and_polychain_pass_through_the_ends_and_follow_their_formulas():
    start, end = weights_of(small_cnn(0)), weights_of(small_cnn(1))
    bez = Curve(small_cnn(2), start, end)
    assert all(torch.equal(bez.weights(0.0)[k], start[k]) for k in start)
    assert all(torch.allclose(bez.weights(1.0)[k], end[k]) for k in start)
    theta = {k: torch.randn_like(v) for k, v in start.items()}
    with torch.no_grad():
        for k, p in bez.bends[0].items():
            p.copy_(theta[k.replace("__", ".")])
    t = 0.3
    expected = {k: (1 - t) ** 2 * start[k] + 2 * t * (1 - t) * theta[k] + t ** 2 * end[k] for k in start}
    assert all(torch.allclose(bez.weights(t)[k], expected[k], atol=1e-6) for k in start)
    chain = Curve(small_cnn(2), start, end, kind="polychain", bends=1)
    with torch.no_grad():
        for k, p in chain.bends[0].items():
            p.copy_(theta[k.replace("__", ".")])
    assert all(torch.allclose(chain.weights(0.5)[k], theta[k]) for k in start)
    assert all(torch.allclose(chain.weights(0.25)[k], (start[k] + theta[k]) / 2, atol=1e-6) for k in start)
    fresh = Curve(small_cnn(2), start, end, bends=2)        # bends start on the straight line
    assert all(torch.allclose(fresh.bends[1][k.replace(".", "__")], start[k] + 2 / 3 * (end[k] - start[k]))
               for k in start)


def test_only_the_bends_train_and_the_model_is_not_changed(images):
    X, y = images
    model = small_cnn(0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    curve = Curve(model, weights_of(model), weights_of(small_cnn(1)))
    assert {n for n, p in curve.named_parameters() if p.requires_grad} == \
        {f"bends.0.{k.replace('.', '__')}" for k in weights_of(model)}
    nn.functional.cross_entropy(curve.train()(X), y).backward()
    assert all(p.grad is not None for p in curve.bends.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with pytest.raises(ConfigError, match="kind = 'spline'"):
        Curve(model, weights_of(model), weights_of(model), kind="spline")


def test_barrier_summary():
    s = barrier_summary([0, 0.5, 1], {"train_loss": [0.1, 0.9, 0.3], "train_acc": [0.9, 0.5, 0.8]})
    assert s["train_loss_barrier"] == pytest.approx(0.7) and s["train_acc_max_drop"] == pytest.approx(0.35)


def test_connect_trains_resumes_exactly_and_reports(digits_runs, tmp_path, crash_at):
    run_a, run_b, _ = digits_runs
    whole = connect(run_a, run_b, run_dir=tmp_path / "whole", epochs=2, points=3, checkpoint_every=10)
    with pytest.raises(crash_at.error):
        connect(run_a, run_b, run_dir=tmp_path / "cut", epochs=2, points=3, checkpoint_every=10,
                callbacks=[crash_at(25)])
    resumed = connect(run_a, run_b, run_dir=tmp_path / "cut", epochs=2, points=3, checkpoint_every=10,
                      resume=True)
    assert resumed["curve"] == whole["curve"]        # the same bends: the same values along the curve
    assert whole["curve"]["train_loss"][0] == pytest.approx(whole["line"]["train_loss"][0])
    assert whole["line"]["train_loss"][1] > whole["curve"]["train_loss"][1]   # the curve goes round
    assert (tmp_path / "whole" / "geometry" / "connect.png").is_file()
    assert "mode connectivity" in (tmp_path / "whole" / "report.html").read_text()
    saved = json.loads((tmp_path / "whole" / "connect_values.json").read_text())
    assert saved["t"] == [0.0, 0.5, 1.0] and math.isfinite(saved["curve_summary"]["train_loss_barrier"])
    with pytest.raises(ConfigError, match="resume: .* connects"):
        connect(run_b, run_a, run_dir=tmp_path / "cut", resume=True)
    before = (tmp_path / "whole" / "connect.json").read_text()
    with pytest.raises(ConfigError, match="already holds a run"):
        connect(run_a, run_b, run_dir=tmp_path / "whole", kind="polychain")
    assert (tmp_path / "whole" / "connect.json").read_text() == before


def test_cli_connect(digits_runs, tmp_path, capsys):
    run_a, run_b, _ = digits_runs
    assert main(["connect", str(run_a), str(run_b), "--run-dir", str(tmp_path / "c"), "--epochs", "1",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "line: train loss barrier" in out and "curve: train loss barrier" in out
    assert main(["connect", str(run_a), str(run_b), "--run-dir", str(tmp_path / "d"), "--bends", "0"]) == 2
    assert "bends = 0: must be an integer >= 1" in capsys.readouterr().err
