"""A user's own loss read by the PyTorch losses it calls (loss_kinds.inner_losses, data_checks.check_inner_targets):
binary cross-entropy takes any float target, so class ids 0-2 passed to it by a user's wrapper are a label
problem found before training, as they are for the named loss ``bce``."""
import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import preflight
from trainwell.babysit.data_checks import check_inner_targets
from trainwell.babysit.loss_kinds import inner_losses


def _ids_loss(z, y):                    # the binary template kept on three classes
    return F.binary_cross_entropy_with_logits(z[:, 0], y.float())


def test_the_calls_a_users_loss_makes_are_read_with_their_tensors():
    z, y = torch.randn(8, 3), torch.randint(0, 3, (8,))
    calls = inner_losses(lambda o, t: F.cross_entropy(o, t) + 0.1 * nn.BCEWithLogitsLoss()(o[:, 0], (t > 0).float()), z, y)
    assert [(c.name, c.kind) for c in calls] == [("cross_entropy", "cross_entropy"),
                                                 ("binary_cross_entropy_with_logits", "bce")]
    assert torch.equal(calls[1].target, (y > 0).float()) and torch.equal(calls[0].input, z)
    assert inner_losses(lambda o, t: (o - t) ** 2, z, y) == []                     # no PyTorch loss called
    assert inner_losses(lambda o, t: F.cross_entropy(o, t + 10), z, y) == []      # one that raises


def test_class_ids_given_to_binary_cross_entropy_by_a_users_loss_are_a_label_problem():
    z, y = torch.randn(64, 1), torch.randint(0, 3, (64,))
    found = check_inner_targets(_ids_loss, z, y)
    assert [f.code for f in found] == ["label_problem"] and found[0].severity == "error"
    assert "F.binary_cross_entropy_with_logits" in found[0].message and "[0, 2]" in found[0].message
    assert found[0].evidence["inner_loss"] == "binary_cross_entropy_with_logits"
    # 0/1 targets, soft targets in [0, 1] (label smoothing), probabilities through F.binary_cross_entropy: quiet
    assert check_inner_targets(_ids_loss, z, y.clamp(max=1)) == []
    assert check_inner_targets(lambda o, t: F.binary_cross_entropy_with_logits(o[:, 0], 0.9 * t.float() + 0.05),
                               z, y.clamp(max=1)) == []
    assert check_inner_targets(lambda o, t: F.binary_cross_entropy(torch.sigmoid(o[:, 0]), t.float()),
                               z, y.clamp(max=1)) == []
    # F.binary_cross_entropy checks its targets itself and raises: the pre-flight's run check reports that
    assert check_inner_targets(lambda o, t: F.binary_cross_entropy(torch.sigmoid(o[:, 0]), t.float()), z, y) == []


def test_the_preflight_finds_it_before_any_step():
    torch.manual_seed(0)
    X = torch.randn(256, 8)
    y = (X[:, 0] > 0.5).long() + (X[:, 1] > 0.5).long()
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
    found = preflight.preflight(model, X, y, loss=_ids_loss, lr=1e-3, optimizer="adam", cheap_only=True)
    problems = [f for f in found if f.code == "label_problem" and "inner_loss" in f.evidence]
    assert len(problems) == 1 and problems[0].severity == "error"
    healthy = preflight.preflight(model, X, y.clamp(max=1), loss=_ids_loss, lr=1e-3, optimizer="adam", cheap_only=True)
    assert not [f for f in healthy if "inner_loss" in f.evidence]
