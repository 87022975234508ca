import math

import numpy as np
import pytest
import torch

from trainwell.errors import ConfigError
from trainwell.nn.losses import LOSSES, accuracy_fn, make_loss


def test_hinge_matches_the_notes_svm_loss_written_out():
    g = torch.Generator().manual_seed(0)
    s = torch.randn(6, 4, generator=g, dtype=torch.float64)
    y = torch.tensor([0, 3, 1, 2, 2, 0])
    expected = np.mean([sum(max(0.0, s[i, j] - s[i, y[i]] + 1.0) for j in range(4) if j != y[i])
                        for i in range(6)])
    assert math.isclose(LOSSES["hinge"](s, y).item(), expected, rel_tol=1e-12)
    assert math.isclose(make_loss("hinge", hinge_margin=2.0)(s, y).item(), np.mean(
        [sum(max(0.0, s[i, j] - s[i, y[i]] + 2.0) for j in range(4) if j != y[i]) for i in range(6)]),
        rel_tol=1e-12)


def test_label_smoothing_is_cross_entropy_against_the_smoothed_target():
    g = torch.Generator().manual_seed(1)
    s = torch.randn(5, 3, generator=g, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 1, 0])
    target = torch.full((5, 3), 0.1 / 3, dtype=torch.float64)
    target[torch.arange(5), y] += 0.9
    expected = -(target * torch.log_softmax(s, 1)).sum(1).mean()
    assert torch.allclose(make_loss("cross_entropy", label_smoothing=0.1)(s, y), expected)


def test_kl_div_bce_and_regression_losses_against_formulas():
    g = torch.Generator().manual_seed(2)
    s = torch.randn(4, 3, generator=g, dtype=torch.float64)
    p = torch.softmax(torch.randn(4, 3, generator=g, dtype=torch.float64), 1)
    kl = (p * (p.log() - torch.log_softmax(s, 1))).sum(1).mean()
    assert torch.allclose(LOSSES["kl_div"](s, p), kl)
    z, t = torch.randn(8, 1, dtype=torch.float64, generator=g), torch.tensor([0., 1.] * 4, dtype=torch.float64)
    sig = torch.sigmoid(z.view(-1))
    assert torch.allclose(LOSSES["bce"](z, t), -(t * sig.log() + (1 - t) * (1 - sig).log()).mean())
    r = torch.tensor([0.5, -3.0], dtype=torch.float64)
    assert torch.allclose(LOSSES["huber"](r, torch.zeros(2, dtype=torch.float64)),
                          torch.tensor((0.5 * 0.25 + (3.0 - 0.5)) / 2, dtype=torch.float64))
    assert torch.allclose(LOSSES["mse"](r.view(2, 1), torch.zeros(2, dtype=torch.float64)),
                          torch.tensor((0.25 + 9) / 2, dtype=torch.float64))


def test_accuracy_counts_for_each_kind_of_target():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert accuracy_fn("cross_entropy", torch.tensor([0]))(logits, torch.tensor([0, 1, 1])).item() == 2
    assert accuracy_fn("bce", torch.tensor([0.0]))(torch.tensor([[1.0], [-1.0]]),
                                                   torch.tensor([1.0, 1.0])).item() == 1
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]])
    assert accuracy_fn("kl_div", probs)(logits, probs).item() == 2
    assert accuracy_fn("mse", torch.tensor([0.5])) is None


def test_a_users_loss_on_one_score_per_row_counts_it_as_a_binary_classifier():
    """A callable loss with integer targets: argmax over classes, but one score per row (a sigmoid's
    probability, or a logit) is thresholded (0.5 / 0), never an argmax over the batch's rows."""
    def user_loss(out, y):
        return out.mean()
    ids = torch.tensor([1, 0, 1, 1])
    hits = accuracy_fn(user_loss, ids)
    assert hits(torch.tensor([0.9, 0.2, 0.6, 0.4]), ids).item() == 3          # probabilities
    assert hits(torch.tensor([[2.0], [-1.0], [0.4], [-3.0]]), ids).item() == 3   # logits, (N, 1)
    assert hits(torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]]), ids).item() == 3


def test_unknown_loss_lists_the_allowed_names():
    with pytest.raises(ConfigError, match="allowed: bce, cross_entropy, hinge"):
        make_loss("softmax")
