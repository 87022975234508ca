"""``cut_gradient.check_gradient_reaches``: layers the output depends on that no gradient reaches
are ``frozen_parameters``; layers unused, or called under ``torch.no_grad`` on purpose, are not."""
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.babysit.cut_gradient import check_gradient_reaches


def _images(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 1, 12, 12, generator=g)
    y = torch.randint(0, 3, (n,), generator=g)
    X[torch.arange(n), 0, y * 4, y * 4] += 4.0
    return X, y


class PoolNet(nn.Module):
    """Two convolutions, a global max pool, a linear head; ``indices``: the pool's positions taken
    for its values; ``detach``: the features detached; ``frozen_body``: the body under no_grad."""

    def __init__(self, *, indices=False, detach=False, frozen_body=False, spare=False):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1)
        self.head = nn.Linear(8, 3)
        self.spare = nn.Linear(8, 3) if spare else None        # built, never called
        self.indices, self.detach, self.frozen_body = indices, detach, frozen_body

    def body(self, x):
        return F.relu(self.conv2(F.relu(self.conv1(x)))).flatten(2)

    def forward(self, x):
        if self.frozen_body:
            with torch.no_grad():
                h = self.body(x)
        else:
            h = self.body(x)
        values, positions = h.max(2)
        feats = positions.float() if self.indices else values
        return self.head(feats.detach() if self.detach else feats)


def test_the_positions_of_the_maxima_taken_for_their_values_cut_the_convolutions_off():
    X, y = _images()
    torch.manual_seed(0)
    found = check_gradient_reaches(PoolNet(indices=True), X, y, F.cross_entropy)
    assert [f.code for f in found] == ["frozen_parameters"]
    assert found[0].evidence["modules"] == ["conv1", "conv2"] and found[0].severity == "warning"
    assert found[0].evidence["parameters"] == 8 * 9 + 8 + 8 * 8 * 9 + 8


def test_detached_features_cut_the_body_off():
    X, y = _images()
    torch.manual_seed(0)
    found = check_gradient_reaches(PoolNet(detach=True), X, y, F.cross_entropy)
    assert found and found[0].evidence["modules"] == ["conv1", "conv2"]


def test_a_healthy_model_an_unused_layer_and_a_body_frozen_under_no_grad_are_quiet():
    X, y = _images()
    for net in (PoolNet(), PoolNet(spare=True), PoolNet(frozen_body=True)):
        torch.manual_seed(0)
        assert check_gradient_reaches(net, X, y, F.cross_entropy) == []


def test_a_loss_rebuilt_from_numpy_cuts_every_layer_off():
    """``torch.tensor(numpy value, requires_grad=True)``: a new leaf, no path to the model."""
    g = torch.Generator().manual_seed(1)
    X = torch.randn(128, 5, generator=g)
    y = X.sum(1, keepdim=True)

    def numpy_mae(out, target):
        return torch.tensor(float(abs(out.detach().numpy() - target.numpy()).mean()), requires_grad=True)

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1))
    found = check_gradient_reaches(net, X, y, numpy_mae)
    assert found and found[0].evidence["modules"] == ["0", "2"]


def test_the_model_passed_is_left_as_it_was():
    X, y = _images()
    torch.manual_seed(0)
    net = PoolNet(indices=True)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    state = torch.get_rng_state()
    check_gradient_reaches(net, X, y, F.cross_entropy)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert torch.equal(state, torch.get_rng_state()) and net.training


def test_the_doctor_names_the_cut_first():
    X, y = _images(400)
    torch.manual_seed(0)
    d = trainwell.doctor(PoolNet(indices=True), (X[:300], y[:300]), (X[300:], y[300:]), optimizer="adam", lr=2e-3,
                         epochs=3, probe=False, wall_s=None)
    assert "frozen_parameters" in {f.code for f in d.findings if f.severity == "warning"}
