"""The docs/losses.md formulas that tests/nn/test_losses.py leaves out: l1, and cross_entropy on
class probabilities (with label smoothing q = (1 − s)·p + s/C) with its accuracy (argmax of the
output against argmax of the target distribution)."""
import torch

from trainwell.nn.losses import LOSSES, accuracy_fn, make_loss


def test_l1_is_the_batch_mean_of_the_absolute_residual():
    output = torch.tensor([[0.5], [-3.0], [2.0]], dtype=torch.float64)      # (N, 1) meets (N,)
    target = torch.tensor([0.0, 1.0, 2.5], dtype=torch.float64)
    assert torch.allclose(LOSSES["l1"](output, target), torch.tensor((0.5 + 4.0 + 0.5) / 3, dtype=torch.float64))


def test_cross_entropy_on_probability_rows_is_minus_sum_q_log_softmax_with_smoothing():
    g = torch.Generator().manual_seed(3)
    z = torch.randn(5, 4, generator=g, dtype=torch.float64)
    p = torch.softmax(torch.randn(5, 4, generator=g, dtype=torch.float64), 1)
    log_q = torch.log_softmax(z, 1)
    assert torch.allclose(LOSSES["cross_entropy"](z, p), -(p * log_q).sum(1).mean())
    s = 0.2
    smoothed = (1 - s) * p + s / 4
    assert torch.allclose(make_loss("cross_entropy", label_smoothing=s)(z, p), -(smoothed * log_q).sum(1).mean())


def test_cross_entropy_accuracy_on_probability_rows_compares_argmaxes():
    p = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]])
    z = torch.tensor([[2.0, 0.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 0.0]])    # right, wrong, right
    assert accuracy_fn("cross_entropy", p)(z, p).item() == 2
