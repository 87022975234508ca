"""A run trained with the user's own loss function: ``evaluate`` scores with that function and
``predict`` knows classes from values, on the run ``fit`` returns and on a loaded one."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.errors import DataError
from trainwell.nn.losses import class_probabilities
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


def user_bce_on_probabilities(p, y):
    p = p.reshape(-1).clamp(1e-7, 1 - 1e-7)
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()


def user_nll_on_probabilities(p, y):
    return F.nll_loss(p.clamp_min(1e-7).log(), y)


def _probability_mlp(outputs):
    return nn.Sequential(_mlp(outputs), nn.Sigmoid() if outputs == 1 else nn.Softmax(dim=1))


@pytest.mark.parametrize("outputs, loss", [(1, user_bce_on_probabilities), (2, user_nll_on_probabilities)])
def test_a_model_that_outputs_probabilities_under_a_user_loss_predicts_and_scores_them(tmp_path, outputs, loss):
    """A sigmoid or softmax inside the model, trained with the user's loss on probabilities:
    ``predict`` thresholds the probability at 1/2 (not its logit at 0, which calls every row class
    1) and returns it as the probability (not its sigmoid); the reported NLL is the user's own
    loss on these probabilities, and the loaded run predicts the same."""
    (train, val) = _classes()
    torch.manual_seed(0)
    run = trainwell.fit(_probability_mlp(outputs), train, val, loss=loss, run_dir=str(tmp_path / "run"), **OPTIONS)
    X, y = run.splits.val
    with torch.no_grad():
        p = run.model(X)
    p1 = p.reshape(-1) if outputs == 1 else p[:, 1]
    assert torch.equal(run.predict(X), (p1 > 0.5).long())
    assert torch.allclose(run.predict(X, output="proba"), p)
    hits = float((run.predict(X) == y).float().mean())
    assert hits == pytest.approx(run.results["val"]["acc"], abs=1e-6) and 0.5 < hits
    assert run.results["val"]["nll"] == pytest.approx(float(loss(p, y.float() if outputs == 1 else y)), rel=1e-4)
    loaded = load_run(tmp_path / "run", model=_probability_mlp(outputs))
    assert torch.equal(loaded.predict(X), run.predict(X))


def test_logits_under_a_user_loss_are_still_read_as_logits(tmp_path):
    """Outputs outside [0, 1] (one logit) or rows that are not a distribution are logits: sigmoid
    and softmax as under the built-in losses."""
    run, X, y, out = _fit(tmp_path, 2, _classes(), user_cross_entropy)
    assert torch.allclose(run.predict(X, output="proba"), torch.softmax(out, dim=1))
    logit = torch.tensor([[-2.0], [0.5], [3.0]])
    probs = class_probabilities(logit, own_loss=True)
    assert torch.allclose(probs[:, 1], torch.sigmoid(logit.reshape(-1)))
    assert torch.allclose(class_probabilities(torch.tensor([[0.2], [0.9]]), own_loss=False)[:, 1],
                          torch.sigmoid(torch.tensor([0.2, 0.9])))


def _weston_watkins(out, y, *, margin):
    """Σ_{j≠y} max(0, z_j − z_y + Δ), the batch mean (docs/losses.md; torch's multi_margin_loss
    divides the sum by the number of classes)."""
    margins = (out - out.gather(1, y[:, None]) + margin).clamp(min=0)
    return margins.scatter(1, y[:, None], 0.0).sum(1).mean()


@pytest.mark.parametrize("loss, option, reference", [
    ("huber", dict(huber_delta=0.25), lambda out, y: F.huber_loss(out.squeeze(-1), y, delta=0.25)),
    ("hinge", dict(hinge_margin=2.0), lambda out, y: _weston_watkins(out, y, margin=2.0)),
    ("cross_entropy", dict(label_smoothing=0.2), lambda out, y: F.cross_entropy(out, y, label_smoothing=0.2)),
])
def test_a_loss_option_reaches_the_loss_fit_trains_and_evaluates_with(loss, option, reference):
    """docs/losses.md: huber_delta, hinge_margin and label_smoothing are the loss's parameters, in
    training and in evaluation, checked against torch's own losses with those parameters."""
    X = torch.randn(240, 6, generator=torch.Generator().manual_seed(0))
    y = X[:, 0] * 3.0 if loss == "huber" else (X[:, 0] > 0).long() + (X[:, 1] > 0).long()
    train, val = _split(X, y)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 1 if loss == "huber" else 3))
    run = trainwell.fit(model, train, val=val, loss=loss, **option, **OPTIONS)
    with torch.no_grad():
        expected = reference(run.model(val[0]), val[1]).item()
    assert run.evaluate(val)["loss"] == pytest.approx(expected, rel=1e-5)
    assert run.history[-1]["val_loss"] == pytest.approx(expected, rel=1e-5)
