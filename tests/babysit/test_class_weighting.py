"""Classes balanced twice (class_weighting.py): the prior a loss's class weights and the training rows'
counts train to, judged against the evaluated mix by split_checks.grade_imbalance."""
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import class_weighting as cw
from trainwell.babysit.preflight import preflight
from trainwell.babysit.split_checks import grade_imbalance

MIX = torch.tensor([0.62, 0.26, 0.12], dtype=torch.float64)    # a task's class mix (approve, inspect, reject)


def drawn(rows, shares, seed):
    """``rows`` class ids drawn with the class ``shares``."""
    g = torch.Generator().manual_seed(seed)
    return torch.multinomial(shares, rows, replacement=True, generator=g)


def redrawn_balanced(y, seed):
    """The user's balanced redraw of the rows: each row drawn with weight 1 / its class's count."""
    g = torch.Generator().manual_seed(seed)
    w = 1.0 / torch.bincount(y).double()
    return y[torch.multinomial(w[y], len(y), replacement=True, generator=g)]


def balanced_weights(y):
    """scikit-learn's "balanced" class weights, n / (classes x count)."""
    counts = torch.bincount(y).float()
    return len(y) / (len(counts) * counts)


def weighted(weight):
    w = torch.as_tensor(weight, dtype=torch.float32)
    return lambda logits, target: F.cross_entropy(logits, target, weight=w)


def graded(loss, train_y, val_y=None):
    """``grade_imbalance`` over ``check_class_weights``' finding for the training ids ``train_y``."""
    out = torch.zeros(len(train_y), 3)
    found = cw.check_class_weights(loss, out, train_y, train_y)
    pair = (lambda y: None if y is None else (torch.zeros(len(y), 1), y))
    return grade_imbalance(found, SimpleNamespace(train=pair(train_y), val=pair(val_y), test=None))


@pytest.mark.parametrize("make_loss", [
    lambda w: nn.CrossEntropyLoss(weight=w),
    lambda w: weighted(w),
    lambda w: (lambda o, t: F.cross_entropy(o, t, w)),                      # positional
    lambda w: (lambda o, t: F.nll_loss(F.log_softmax(o, 1), t, weight=w)),
])
def test_the_loss_class_weights_are_read_from_module_wrapper_and_positional_calls(make_loss):
    w = torch.tensor([0.5, 1.5, 3.0])
    read = cw.loss_class_weights(make_loss(w), torch.zeros(4, 3), torch.tensor([0, 1, 2, 0]))
    assert read is not None and torch.allclose(read, w.double())


def test_no_class_weights_where_the_loss_gives_none():
    y = torch.tensor([0, 1, 2, 0])
    assert cw.loss_class_weights(nn.CrossEntropyLoss(), torch.zeros(4, 3), y) is None
    assert cw.check_class_weights(nn.CrossEntropyLoss(weight=torch.ones(3)), torch.zeros(4, 3), y, y) == []


@pytest.mark.parametrize("a", [1.0, 0.5, 0.0, -1.0])
def test_the_correction_exponent_recovers_a_power_of_the_evaluated_mix(a):
    trained = MIX ** a / (MIX ** a).sum()
    assert cw.correction_exponent(trained, MIX) == pytest.approx(a, abs=1e-9)
    assert cw.correction_exponent(trained, torch.full((3,), 1 / 3, dtype=torch.float64)) is None


def test_balanced_weights_on_rows_redrawn_balanced_are_balancing_twice():
    """The broken side: scikit-learn's balanced weights of the rows as they were, on the rows redrawn to
    balance: the trained prior is the mix inverted (exponent ~ -1) and the validation mix is off balance."""
    y = drawn(3000, MIX, 0)
    found = graded(weighted(balanced_weights(y)), redrawn_balanced(y, 1), drawn(600, MIX, 2))
    assert [f.severity for f in found] == ["warning"], [f.message for f in found]
    assert found[0].evidence["correction_exponent"] == pytest.approx(-1.0, abs=0.15)
    assert found[0].where == cw.WHERE and "balanced twice" in found[0].message


def test_weights_past_balance_on_the_rows_as_they_are_without_splits():
    """Weights of 1 / count^2 on the rows as they are: the same prior, judged on the training rows alone."""
    y = drawn(3000, MIX, 3)
    counts = torch.bincount(y).float()
    found = graded(weighted(1.0 / counts ** 2), y)
    assert [f.severity for f in found] == ["warning"] and found[0].evidence["evaluated_split"] == "training"


@pytest.mark.parametrize("case", ["weights alone", "mild reweighting", "validation balanced"])
def test_one_correction_or_less_is_info(case):
    """Balanced weights on the rows as they are (exponent 0), weights of 1 / sqrt(count) (0.5), and
    any weighting judged on a balanced validation split (no direction to correct in): info."""
    y = drawn(3000, MIX, 4)
    counts = torch.bincount(y).float()
    loss = weighted(1.0 / counts.sqrt() if case == "mild reweighting" else balanced_weights(y))
    train = redrawn_balanced(y, 5) if case == "validation balanced" else y
    val = torch.arange(600) % 3 if case == "validation balanced" else drawn(600, MIX, 6)
    found = graded(loss, train, val)
    assert [f.severity for f in found] == ["info"], [f.message for f in found]
    assert found[0].evidence["correction_exponent"] is None or found[0].evidence["correction_exponent"] > cw.TWICE


def test_a_balanced_redraw_alone_gives_no_finding():
    y = redrawn_balanced(drawn(3000, MIX, 7), 8)
    assert graded(nn.CrossEntropyLoss(), y, drawn(600, MIX, 9)) == []


def test_the_preflight_reports_the_trained_prior():
    """Wired into the pre-flight: the finding comes from the user's loss on the model's outputs."""
    torch.manual_seed(0)
    y = drawn(600, MIX, 10)
    X = torch.randn(600, 4)
    found = preflight(nn.Linear(4, 3), X, y, loss=weighted(balanced_weights(y)), cheap_only=True)
    weights = [f for f in found if f.code == "class_imbalance" and f.where == cw.WHERE]
    assert len(weights) == 1 and weights[0].severity == "info"
    assert weights[0].evidence["trained_prior"] == pytest.approx([1 / 3] * 3, abs=1e-6)
