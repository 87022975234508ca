"""trainwell.ensemble: every method trains, writes a run directory that load_run, predict,
evaluate and `trainwell predict` use as one model; the cycle schedules and member choices."""
import math

import numpy as np
import pytest
import torch

import trainwell
from trainwell.cli import main
from trainwell.ensembles.cycles import fge_schedule, snapshot_schedule
from trainwell.ensembles.members import BOOTSTRAP_SEED_OFFSET, SEED_STRIDE
from trainwell.errors import ConfigError, DataError
from trainwell.train.callbacks import Callback

MODEL = {"type": "mlp", "widths": [16]}
OPTIONS = dict(optimizer="sgd", lr=0.1, epochs=4, batch_size=32, seed=0, progress=False, babysit="off",
               device="cpu")


def _data(blobs):
    X, y = blobs
    return (X[:200], y[:200]), (X[200:250], y[200:250]), (X[250:], y[250:])


@pytest.mark.parametrize("method", ["average", "vote", "bagging", "boosting", "snapshot", "fge"])
def test_every_method_is_a_run_directory_used_as_one_model(blobs, tmp_path, method):
    train, val, test = _data(blobs)
    run = trainwell.ensemble(MODEL, train, val, test=test, method=method, members=3,
                             run_dir=tmp_path / method, **OPTIONS)
    assert 1 <= len(run.members) <= 3
    loaded = trainwell.load_run(tmp_path / method)
    assert torch.equal(loaded.predict(test[0]), run.predict(test[0]))
    assert torch.allclose(loaded.predict(test[0], output="proba"), run.predict(test[0], output="proba"))
    result = loaded.evaluate(test)
    assert result["acc"] == pytest.approx(run.results["test"]["acc"])
    assert result["acc"] > 0.9                                   # blobs are easy
    assert set(run.results["members"][0]["test"]) >= {"acc", "nll", "ece"}
    # the CLI predicts with it as with one run
    np.save(tmp_path / "x.npy", test[0].numpy())
    assert main(["predict", str(tmp_path / method), str(tmp_path / "x.npy"),
                 "--out", str(tmp_path / "p.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "p.npy"), run.predict(test[0]).numpy())


def test_bagging_members_train_on_seeded_bootstrap_samples(blobs):
    train, val, _ = _data(blobs)
    seen = []

    class Witness(Callback):
        def on_fit_start(self, state):
            seen.append(state.controls.train_data[0].clone())

    trainwell.ensemble(MODEL, train, val, method="bagging", members=2, callbacks=[Witness()], **OPTIONS)
    for i, X in enumerate(seen):
        g = torch.Generator().manual_seed(i * SEED_STRIDE + BOOTSTRAP_SEED_OFFSET)
        index = torch.randint(0, 200, (200,), generator=g)
        assert torch.equal(X, train[0][index])
    assert len(torch.unique(index)) < 160          # a bootstrap: about 63% distinct samples


def test_samme_member_weights_follow_the_weighted_training_errors(blobs):
    X, y = blobs
    noisy = y[:200].clone()
    noisy[:40] = (noisy[:40] + 1) % 3            # label noise: no member is perfect
    run = trainwell.ensemble(MODEL, (X[:200], noisy), (X[200:250], y[200:250]), method="boosting",
                             members=3, method_options={"learning_rate": 0.5}, **OPTIONS)
    errors = run.info["training_errors"]
    assert len(run.members) == len(run.info["weights"]) >= 2
    for alpha, e in zip(run.info["weights"], errors):
        assert alpha == pytest.approx(0.5 * (math.log((1 - e) / e) + math.log(2)))
    # member 0 trained on draws with uniform weights: its error is its plain error rate
    assert errors[0] == pytest.approx(float((run.members[0].predict(X[:200]) != noisy).double().mean()))


def test_gradient_boosting_fits_residuals_and_lowers_the_training_error():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(300, 3, generator=g) * 4 - 2
    y = torch.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.05 * torch.randn(300, generator=g)
    options = {**OPTIONS, "loss": "mse", "lr": 0.05, "epochs": 15}
    run = trainwell.ensemble(MODEL, (X[:250], y[:250]), (X[250:], y[250:]), method="boosting",
                             members=3, method_options={"shrinkage": 0.5}, **options)
    assert run.info["init"] == pytest.approx(float(y[:250].double().mean()))
    outs = [m.predict(X[250:], output="raw").reshape(-1) for m in run.members]
    assert torch.allclose(run.predict(X[250:]).reshape(-1), run.info["init"] + 0.5 * sum(outs), atol=1e-5)
    partial = [run.info["init"] + 0.5 * sum(outs[:k]) for k in (1, 2, 3)]
    mse = [float(((p - y[250:]) ** 2).mean()) for p in partial]
    assert mse[2] < mse[0]


def test_snapshot_schedule_restarts_and_takes_members_at_cycle_ends():
    schedule, at = snapshot_schedule(total=90, members=3)
    assert at == [30, 60, 90]
    assert schedule(0) == schedule(30) == schedule(60) == 1.0
    assert schedule(15) == pytest.approx(0.5)
    assert schedule(29) == pytest.approx((1 + math.cos(math.pi * 29 / 30)) / 2)


def test_fge_schedule_is_triangular_with_members_at_the_minima():
    schedule, at = fge_schedule(total=100, members=2, start=0.5, lr_high=0.2, lr_low=0.01)
    assert at == [62, 87]
    assert schedule(0) == pytest.approx(1.0) and schedule(50) == pytest.approx(0.2)
    assert schedule(62) == pytest.approx(0.2 - 0.19 * (1 - abs(2 * 12 / 25 - 1)))
    assert min(schedule(s) for s in range(50, 100)) == pytest.approx(schedule(62), abs=0.01)
    assert schedule(75) == pytest.approx(0.2)


def test_snapshot_members_are_the_weights_at_their_steps(blobs):
    train, val, _ = _data(blobs)
    weights = {}

    class Witness(Callback):
        def on_after_step(self, state):
            weights[state.step] = {k: v.clone() for k, v in state.model.state_dict().items()}

    run = trainwell.ensemble(MODEL, train, val, method="snapshot", members=2, callbacks=[Witness()],
                             **OPTIONS)
    assert run.info["member_steps"] == [14, 28]              # 4 epochs of 7 steps
    for member, step in zip(run.members, run.info["member_steps"]):
        for k, v in member.model.state_dict().items():
            assert torch.equal(v, weights[step][k]), k


@pytest.mark.parametrize("kw, message", [
    (dict(method="stacking"), "ensemble.method = 'stacking': unknown"),
    (dict(members=1), "ensemble.members = 1: must be an integer >= 2"),
    (dict(method="fge", method_options={"lr_low": 0.5}), "ensemble.lr_low = 0.5: must be below lr_high"),
    (dict(method="bagging", method_options={"start": 0.5}), "ensemble 'bagging': unknown option 'start'"),
])
def test_bad_ensemble_options_are_one_line_errors(blobs, kw, message):
    with pytest.raises(ConfigError) as e:
        trainwell.ensemble(MODEL, blobs, **kw, **OPTIONS)
    assert str(e.value).startswith(message)


def test_the_ensemble_command_trains_from_a_config(tmp_path, capsys):
    config = tmp_path / "e.toml"
    config.write_text(f'epochs = 2\nprogress = false\nbabysit = "off"\ndevice = "cpu"\n'
                      f'run_dir = "{tmp_path / "ens"}"\n[model]\ntype = "mlp"\nwidths = [16]\n'
                      f'[ensemble]\nmethod = "snapshot"\nmembers = 2\n')
    assert main(["ensemble", str(config)]) == 0
    out = capsys.readouterr().out
    assert "member 1:" in out and "ensemble: accuracy" in out
    assert len(trainwell.load_run(tmp_path / "ens").members) == 2
    config.write_text('[ensemble]\nmethod = "boost"\n')
    assert main(["ensemble", str(config)]) == 2
    assert "did you mean 'boosting'" in capsys.readouterr().err


def test_a_damaged_ensemble_directory_is_a_one_line_error(blobs, tmp_path, capsys):
    train, val, test = _data(blobs)
    trainwell.ensemble(MODEL, train, val, method="average", members=2, run_dir=tmp_path / "e",
                       report=False, **OPTIONS)
    info = tmp_path / "e" / "ensemble.json"
    good = info.read_text()
    info.write_text(good.replace('"members/m1"', '"../../elsewhere"'))
    with pytest.raises(DataError, match="lies outside the ensemble"):
        trainwell.load_run(tmp_path / "e")
    info.write_text(good[:40])
    np.save(tmp_path / "x.npy", test[0].numpy())
    assert main(["predict", str(tmp_path / "e"), str(tmp_path / "x.npy")]) == 2
    assert "ensemble.json: cannot read the ensemble's description" in capsys.readouterr().err
