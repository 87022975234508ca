"""A run trained with the user's own loss function: ``evaluate`` scores with that function and
``predict`` knows classes from values, on the run ``fit`` returns and on a loaded one."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.errors import DataError
from trainwell.train.run import load_run

OPTIONS = dict(epochs=2, batch_size=32, report=False, progress=False, babysit="off", device="cpu")


def user_cross_entropy(out, y):
    return F.cross_entropy(out, y)


def user_squared_error(out, y):
    return ((out.squeeze(-1) - y) ** 2).mean()


def _split(X, y):
    """(train, val) of 180 and 60 rows: fit's train and val arguments."""
    return (X[:180], y[:180]), (X[180:], y[180:])


def _classes():
    X = torch.randn(240, 6, generator=torch.Generator().manual_seed(0))
    return _split(X, (X[:, 0] + X[:, 1] > 0).long())


def _values():
    X = torch.randn(240, 6, generator=torch.Generator().manual_seed(1))
    return _split(X, X[:, 0] - 0.5 * X[:, 2])


def _fit(tmp_path, outputs, data, loss):
    """The run of a 6-16-``outputs`` MLP trained with ``loss``, its validation split and the
    model's outputs there."""
    torch.manual_seed(0)
    run = trainwell.fit(_mlp(outputs), *data, loss=loss, run_dir=str(tmp_path / "run"), **OPTIONS)
    X, y = run.splits.val
    with torch.no_grad():
        return run, X, y, run.model(X)


def _mlp(outputs):
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, outputs))


def test_a_classifier_with_a_user_loss_is_scored_with_it(tmp_path):
    run, X, y, out = _fit(tmp_path, 2, _classes(), user_cross_entropy)
    scores = run.evaluate("val")
    assert scores["loss"] == pytest.approx(float(F.cross_entropy(out, y)), rel=1e-5)
    assert scores["acc"] == pytest.approx(float((out.argmax(1) == y).float().mean()), abs=1e-6)
    assert torch.equal(run.predict(X), out.argmax(1))


def test_a_regression_with_a_user_loss_predicts_values_and_has_no_accuracy(tmp_path):
    run, X, y, out = _fit(tmp_path, 1, _values(), user_squared_error)
    scores = run.evaluate("val")
    assert scores["loss"] == pytest.approx(float(((out.squeeze(-1) - y) ** 2).mean()), rel=1e-5)
    assert scores.get("acc") is None
    assert torch.equal(run.predict(X), out)          # values, not the sign of the output as classes
    assert torch.equal(load_run(tmp_path / "run", model=_mlp(1)).predict(X), out)


def test_a_loaded_run_asks_for_the_user_loss_by_name_and_then_scores_with_it(tmp_path):
    run, X, y, _ = _fit(tmp_path, 2, _classes(), user_cross_entropy)
    loaded = load_run(tmp_path / "run", model=_mlp(2))
    with pytest.raises(DataError, match=r"'user_cross_entropy'.*loss=fn"):
        loaded.evaluate((X, y))
    assert loaded.evaluate((X, y), loss=user_cross_entropy) == pytest.approx(run.evaluate("val"))
    assert loaded.evaluate((X, y), loss="cross_entropy") == pytest.approx(run.evaluate("val"))
