"""How members combine (ensembles/combine.py), on members with fixed outputs."""
import numpy as np
import pytest
import torch

from trainwell.ensembles.combine import EnsembleRun


class Fixed:
    """A stand-in member: ``predict(X, output="raw")`` returns fixed outputs (logits of a
    built-in loss)."""

    own_loss = False

    def __init__(self, out):
        self.out = torch.as_tensor(out, dtype=torch.float32)

    def predict(self, X, *, output="raw", batch_size=None):
        assert output == "raw"
        return self.out


def _ensemble(outs, combine, weights=None, loss="cross_entropy", **info):
    weights = weights or [1.0] * len(outs)
    return EnsembleRun(members=[Fixed(o) for o in outs],
                       info={"combine": combine, "weights": weights, "members": [], **info},
                       config={"loss": loss, "eval_batch_size": 64})


G = torch.Generator().manual_seed(0)
OUTS = [torch.randn(50, 4, generator=G) * 2 for _ in range(3)]
X = torch.zeros(50, 2)


def test_average_is_the_mean_of_the_members_probabilities():
    got = _ensemble(OUTS, "average").predict(X, output="proba")
    want = torch.stack([torch.softmax(o, 1) for o in OUTS]).mean(0)
    assert torch.allclose(got, want, atol=1e-7)
    assert torch.equal(_ensemble(OUTS, "average").predict(X), want.argmax(1))


def test_vote_takes_the_majority_and_breaks_ties_by_the_mean_probability():
    a = torch.tensor([[5.0, 0, 0], [5.0, 0, 0], [0, 5.0, 0]])
    b = torch.tensor([[5.0, 0, 0], [0, 5.0, 0], [0, 0, 5.0]])
    c = torch.tensor([[0, 5.0, 0], [0, 0, 1.0], [0, 0, 5.0]])
    # row 0: 2 votes for 0; row 1: one vote each, class 0 and 1 have higher mean probability than 2
    # (c's class-2 logit is only 1) and class 0 and 1 tie exactly -> the first; row 2: 2 votes for 2
    got = _ensemble([a, b, c], "vote").predict(X[:3])
    assert got.tolist() == [0, 0, 2]


def test_samme_matches_scikit_learns_decision_and_probabilities():
    alphas = [1.3, 0.4, 0.9]
    got = _ensemble(OUTS, "samme", alphas).predict(X, output="proba")
    K = 4
    classes = np.arange(K)[:, None]
    decision = sum(np.where((o.argmax(1).numpy() == classes).T, w, -1 / (K - 1) * w)
                   for o, w in zip(OUTS, alphas)) / sum(alphas)       # AdaBoostClassifier.decision_function
    e = np.exp(decision / (K - 1))
    want = e / e.sum(1, keepdims=True)                              # _compute_proba_from_decision
    assert np.allclose(got.numpy(), want, atol=1e-6)


def test_gradient_boosting_adds_the_shrunk_members_to_the_initial_value():
    outs = [torch.randn(50, 1, generator=G) for _ in range(3)]
    run = _ensemble(outs, "gradient", loss="mse", init=2.5, shrinkage=0.1)
    assert torch.allclose(run.predict(X), 2.5 + 0.1 * sum(outs), atol=1e-6)


def test_evaluate_reports_nll_and_ece_of_the_combined_probabilities():
    y = torch.randint(0, 4, (50,), generator=G)
    run = _ensemble(OUTS, "average")
    result = run.evaluate((X, y))
    p = run.predict(X, output="proba")
    assert result["nll"] == pytest.approx(float(-p[torch.arange(50), y].log().mean()), rel=1e-5)
    assert result["acc"] == pytest.approx(float((p.argmax(1) == y).float().mean()))
    assert 0 <= result["ece"] <= 1
