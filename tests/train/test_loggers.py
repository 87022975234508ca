"""Experiment tracking (train/loggers.py): TensorBoard and MLflow get the run's numbers."""
import json

import pytest
import torch
from torch import nn

import trainwell
from trainwell.config import make_config
from trainwell.train.loggers import check_log, final_metrics, flat_params


def _job(run_dir, callbacks=(), **extra):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(200, 5, generator=g)
    y = (X.sum(1) > 0).long()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Linear(32, 2))
    options = dict(lr=0.1, epochs=3, batch_size=16, run_dir=run_dir, report=False, progress=False,
                   seed=1, device="cpu")
    options.update(extra)
    return trainwell.fit(model, (X[:150], y[:150]), val=(X[150:], y[150:]), test=(X[150:], y[150:]),
                         callbacks=list(callbacks), **options)


def _scalars(log_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "histograms": 0}).Reload()
    return events


def test_tensorboard_gets_the_epoch_scalars_the_layers_and_the_hparams(tmp_path):
    pytest.importorskip("tensorboard")
    run = _job(tmp_path / "r", log=["tensorboard"])
    events = _scalars(tmp_path / "r" / "tensorboard")
    loss = events.Scalars("train/loss")
    assert [e.step for e in loss] == [h["step"] for h in run.history]
    assert [e.value for e in loss] == pytest.approx([h["train_loss"] for h in run.history], rel=1e-6)
    assert [e.value for e in events.Scalars("val/acc")] == pytest.approx([h["val_acc"] for h in run.history])
    assert [e.value for e in events.Scalars("lr")] == pytest.approx([h["lr"] for h in run.history], rel=1e-6)
    tags = events.Tags()
    assert "layers/update_ratio" in tags["histograms"] and "layers/grad_norm" in tags["histograms"]
    assert any(t.startswith("update_ratio/") for t in tags["scalars"])        # per layer
    assert (tmp_path / "r" / "tensorboard" / "hparams").is_dir()


def test_tensorboard_after_a_crash_and_resume_has_each_epoch_once(tmp_path, crash_at):
    pytest.importorskip("tensorboard")
    with pytest.raises(crash_at.error):
        _job(tmp_path / "r", callbacks=[crash_at(25)], log=["tensorboard"])   # in epoch 3
    run = _job(tmp_path / "r", resume=True, log=["tensorboard"])
    steps = [e.step for e in _scalars(tmp_path / "r" / "tensorboard").Scalars("train/loss")]
    assert steps == [h["step"] for h in run.history]


@pytest.fixture
def mlflow_uri(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")   # MLflow 3 wants a database otherwise
    return f"file://{tmp_path / 'mlruns'}"


def _mlflow_run(uri):
    from mlflow import MlflowClient
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("trainwell")
    runs = client.search_runs([experiment.experiment_id])
    return client, runs


def test_mlflow_gets_metrics_params_final_metrics_and_the_run_files(tmp_path, mlflow_uri):
    run = _job(tmp_path / "r", log=["mlflow"], mlflow_uri=mlflow_uri, report=True)
    client, runs = _mlflow_run(mlflow_uri)
    assert len(runs) == 1
    info = runs[0]
    assert info.info.status == "FINISHED" and info.info.run_name == "r"
    history = client.get_metric_history(info.info.run_id, "train/loss")
    assert [(m.step, m.value) for m in history] == [(h["step"], pytest.approx(h["train_loss"]))
                                                   for h in run.history]
    assert info.data.params["lr"] == "0.1" and info.data.params["epochs"] == "3"
    assert info.data.metrics["final/test_acc"] == pytest.approx(run.results["test"]["acc"])
    assert any(k.startswith("update_ratio/") for k in info.data.metrics)
    files = {f.path for f in client.list_artifacts(info.info.run_id)}
    assert {"report.html", "model.safetensors", "config.toml", "results.json"} <= files


def test_mlflow_continues_the_same_run_after_a_crash_with_each_epoch_once(tmp_path, mlflow_uri, crash_at):
    with pytest.raises(crash_at.error):
        _job(tmp_path / "r", callbacks=[crash_at(25)], log=["mlflow"], mlflow_uri=mlflow_uri)
    run = _job(tmp_path / "r", resume=True, log=["mlflow"], mlflow_uri=mlflow_uri)
    client, runs = _mlflow_run(mlflow_uri)
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    steps = sorted(m.step for m in client.get_metric_history(runs[0].info.run_id, "train/loss"))
    assert steps == [h["step"] for h in run.history]


def test_mlflow_that_cannot_start_is_one_line(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    with pytest.raises(trainwell.ConfigError, match=r'log = \["mlflow"\]: cannot start an MLflow run at file:'):
        _job(tmp_path / "r", log=["mlflow"], mlflow_uri=f"file://{tmp_path / 'mlruns'}")


def test_log_option_is_checked_and_a_missing_package_named(monkeypatch):
    with pytest.raises(trainwell.ConfigError, match=r"unknown tracker 'tensorbord' \(did you mean 'tensorboard'\?\)"):
        make_config({"log": ["tensorbord"]})
    assert "twice" in check_log(["mlflow", "mlflow"]) and "unknown tracker []" in check_log([[]])
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a))
    assert check_log(["mlflow"]) == ("'mlflow' needs the mlflow package, which is not installed: "
                                     "pip install \"trainwell[mlflow]\" (or pip install mlflow)")
    with pytest.raises(trainwell.ConfigError, match="needs a place for its event files"):
        pytest.importorskip("tensorboard")
        trainwell.fit(nn.Linear(2, 2), (torch.randn(8, 2), torch.arange(8) % 2), log=["tensorboard"],
                      epochs=1, progress=False)


def test_flat_params_and_final_metrics():
    assert flat_params({"model": {"type": "mlp", "widths": [8]}, "lr": 0.1, "init": None, "lr_mults": {}}) == \
        {"model.type": "mlp", "model.widths": "[8]", "lr": 0.1, "lr_mults": "{}"}
    results = {"epochs": 3, "steps": 30, "val": {"loss": 0.5, "acc": 0.9}, "test": {"loss": float("nan")}}
    assert final_metrics(results) == {"epochs": 3.0, "steps": 30.0, "final/val_loss": 0.5, "final/val_acc": 0.9}
    json.dumps(final_metrics(results))


def test_doctor_probes_without_logging(tmp_path):
    pytest.importorskip("tensorboard")
    X = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    diagnosis = trainwell.doctor(nn.Linear(2, 2), (X, (X[:, 0] > 0).long()), log=["tensorboard"],
                                 epochs=1, budget_s=20, device="cpu")
    assert diagnosis is not None and not list(tmp_path.iterdir())


def _children(uri):
    """{parent run name: sorted child run names} of the "trainwell" experiment."""
    from trainwell.train.loggers import PARENT_TAG
    _, runs = _mlflow_run(uri)
    names = {r.info.run_id: r.info.run_name for r in runs}
    nested: dict = {}
    for r in runs:
        if PARENT_TAG in r.data.tags:
            nested.setdefault(names[r.data.tags[PARENT_TAG]], []).append(r.info.run_name)
    return {parent: sorted(children) for parent, children in nested.items()}, runs


def test_search_trials_are_child_runs_of_the_study(tmp_path, mlflow_uri):
    trainwell.search({"type": "mlp", "widths": [8]}, "digits",
                     space={"lr": {"low": 1e-3, "high": 1e-1}},
                     search={"trials": 2, "dir": str(tmp_path / "study")}, epochs=2, batch_size=30,
                     log=["mlflow"], mlflow_uri=mlflow_uri, babysit="off", progress=False, device="cpu")
    nested, runs = _children(mlflow_uri)
    assert list(nested) == ["study"] and len(nested["study"]) == 2 and len(runs) == 3
    assert all(r.info.status == "FINISHED" for r in runs)
    best = (tmp_path / "study" / "best.toml").read_text()
    assert "mlflow_parent" not in best                  # best.toml starts a run of its own


def test_ensemble_members_are_child_runs_of_the_ensemble(tmp_path, mlflow_uri):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(120, 4, generator=g)
    y = (X.sum(1) > 0).long()
    trainwell.ensemble({"type": "mlp", "widths": [8]}, (X[:90], y[:90]), val=(X[90:], y[90:]),
                       method="average", members=2, epochs=2, batch_size=30, run_dir=tmp_path / "ens",
                       log=["mlflow"], mlflow_uri=mlflow_uri, babysit="off", progress=False, device="cpu")
    nested, runs = _children(mlflow_uri)
    assert list(nested) == ["ens"] and nested["ens"] == ["m0", "m1"] and len(runs) == 3


def test_log_dir_and_mlflow_experiment_say_where_the_run_goes(tmp_path, mlflow_uri):
    """docs/tracking.md: `log_dir` holds TensorBoard's event files instead of RUN_DIR/tensorboard,
    and `mlflow_experiment` names the experiment the run is logged under."""
    pytest.importorskip("tensorboard")
    run = _job(tmp_path / "r", log=["tensorboard", "mlflow"], log_dir=str(tmp_path / "tb"),
               mlflow_uri=mlflow_uri, mlflow_experiment="digits-study")
    assert not (tmp_path / "r" / "tensorboard").exists()
    steps = [e.step for e in _scalars(tmp_path / "tb").Scalars("train/loss")]
    assert steps == [h["step"] for h in run.history]
    from mlflow import MlflowClient
    client = MlflowClient(mlflow_uri)
    assert client.get_experiment_by_name("trainwell") is None
    runs = client.search_runs([client.get_experiment_by_name("digits-study").experiment_id])
    assert len(runs) == 1 and runs[0].data.metrics["train/loss"] == pytest.approx(run.history[-1]["train_loss"])


def test_a_log_dir_that_is_a_file_is_one_config_error(tmp_path):
    """Bad input, not a traceback: TensorBoard's directory cannot be an existing file."""
    pytest.importorskip("tensorboard")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(trainwell.ConfigError, match=r"log_dir = .*afile. is a file, not a directory"):
        _job(tmp_path / "r", log=["tensorboard"], log_dir=str(tmp_path / "afile"))
