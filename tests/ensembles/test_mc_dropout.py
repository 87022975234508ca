"""MC dropout (ensembles/mc_dropout.py): only dropout in training mode, T passes, mean and spread;
functional dropout in a user's forward is detected; `trainwell predict --mc-dropout`."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.cli import main
from trainwell.ensembles.mc_dropout import mc_predict
from trainwell.errors import ConfigError


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))


def test_passes_use_dropout_only_and_match_a_manual_loop(blobs):
    X = blobs[0][:40]
    model = _model()
    model[1].running_mean.fill_(0.5)
    stats = model[1].running_mean.clone(), model[1].running_var.clone()
    rng = torch.get_rng_state()
    got = mc_predict(model, X, passes=8, batch_size=16, probabilities=lambda o: torch.softmax(o, 1), seed=5)
    assert torch.equal(torch.get_rng_state(), rng)                       # the global RNG is untouched
    assert torch.equal(model[1].running_mean, stats[0]) and torch.equal(model[1].running_var, stats[1])
    assert model.training                                                # the mode is put back
    # by hand: BN in eval, dropout in train, same seed
    model.eval()
    model[3].train()
    torch.manual_seed(5)
    with torch.no_grad():
        passes = torch.stack([torch.softmax(torch.cat([model(X[i:i + 16]) for i in range(0, 40, 16)]), 1)
                              for _ in range(8)])
    assert torch.allclose(got.mean, passes.mean(0), atol=1e-6)
    assert torch.allclose(got.spread, passes.std(0, unbiased=False), atol=1e-6)
    assert got.spread.max() > 0 and torch.equal(got.classes, got.mean.argmax(1))
    assert got.dropout_layers == 1 and not got.functional_dropout


class Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(2, 8), nn.Linear(8, 3)

    def forward(self, x):
        return self.b(F.dropout(torch.relu(self.a(x)), 0.5, self.training))


def test_functional_dropout_in_a_forward_is_detected_and_reported(blobs):
    with pytest.warns(UserWarning, match="calls dropout as a function"):
        got = mc_predict(Functional(), blobs[0][:10], passes=3, batch_size=10)
    assert got.functional_dropout and got.spread.abs().max() == 0


def test_a_run_predicts_with_mc_dropout_and_the_cli_prints_mean_and_spread(blobs, tmp_path):
    X, y = blobs
    run = trainwell.fit({"type": "mlp", "widths": [16], "dropout": 0.3}, (X[:250], y[:250]), epochs=2,
                        progress=False, babysit="off", device="cpu", run_dir=tmp_path / "r")
    got = run.predict(X[250:], mc_dropout=6)
    assert got.mean.shape == (50, 3) and got.dropout_layers == 1 and got.spread.max() > 0
    np.save(tmp_path / "x.npy", X[250:].numpy())
    assert main(["predict", str(tmp_path / "r"), str(tmp_path / "x.npy"), "--mc-dropout", "6",
                 "--out", str(tmp_path / "p.npy")]) == 0
    printed = np.load(tmp_path / "p.npy")
    assert np.allclose(printed, np.concatenate([got.mean.numpy(), got.spread.numpy()], 1), atol=1e-6)
    with pytest.raises(ConfigError, match="mc_dropout = 1: must be an integer >= 2"):
        run.predict(X[250:], mc_dropout=1)


def test_mc_dropout_over_an_ensemble_is_the_mixture_of_its_members_passes(blobs, tmp_path):
    X, y = blobs
    ens = trainwell.ensemble({"type": "mlp", "widths": [16], "dropout": 0.3}, (X[:250], y[:250]),
                             method="average", members=2, epochs=2, progress=False, babysit="off",
                             device="cpu", run_dir=tmp_path / "e", report=False)
    got = ens.predict(X[250:], mc_dropout=5)
    members = [m.predict(X[250:], mc_dropout=5) for m in ens.members]
    mean = (members[0].mean + members[1].mean) / 2
    var = sum(m.spread ** 2 + m.mean ** 2 for m in members) / 2 - mean ** 2
    assert torch.allclose(got.mean, mean, atol=1e-6) and torch.allclose(got.spread, var.clamp_min(0).sqrt(), atol=1e-5)
    np.save(tmp_path / "x.npy", X[250:].numpy())
    assert main(["predict", str(tmp_path / "e"), str(tmp_path / "x.npy"), "--mc-dropout", "5",
                 "--out", str(tmp_path / "p.npy")]) == 0
    assert np.load(tmp_path / "p.npy").shape == (50, 6)
