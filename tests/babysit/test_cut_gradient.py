"""``cut_gradient.check_gradient_reaches``: layers the output depends on that no gradient reaches
are ``frozen_parameters``; layers unused, or called under ``torch.no_grad`` on purpose, are not."""
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.babysit.cut_gradient import NUDGE, REDRAW, check_gradient_reaches
from trainwell.babysit.module_use import check_module_use


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
    # check_gradient_reaches is a structural check no budget gates: 3 nominal seconds give the same
    # frozen_parameters warning as 60, evidence field by field (3.1 -> 1.1 CPU s, review80)
    d = trainwell.doctor(PoolNet(indices=True), (X[:300], y[:300]), (X[300:], y[300:]), optimizer="adam", lr=2e-3,
                         epochs=3, probe=False, wall_s=None, budget_s=3)
    assert "frozen_parameters" in {f.code for f in d.findings if f.severity == "warning"}


def _table(n=256, d=8, classes=3, seed=2):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    return X, (X[:, :classes] + 0.3 * torch.randn(n, classes, generator=g)).argmax(1)


class Experts(nn.Module):
    """A linear gate over four experts d-16-3: ``route="soft"`` weighs the experts by the gate's softmax,
    ``"argmax"`` sends each row to the expert of the gate's arg max, ``"mask"`` keeps the experts whose
    gate score is above 0 (a threshold, cast to float), ``"switch"`` sends each row to the expert of the
    arg max scaled by its softmax weight (the Switch Transformer's routing, Fedus et al. 2021: the gate
    gets a gradient through the weight)."""

    def __init__(self, route="soft", d=8, experts=4):
        super().__init__()
        self.gate = nn.Linear(d, experts)
        self.experts = nn.ModuleList(nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, 3))
                                     for _ in range(experts))
        self.route = route

    def forward(self, x):
        out = torch.stack([e(x) for e in self.experts], 1)             # (N, experts, classes)
        scores = self.gate(x)
        rows, best = torch.arange(x.shape[0]), scores.argmax(1)
        if self.route == "argmax":
            return out[rows, best]
        if self.route == "switch":
            return out[rows, best] * torch.softmax(scores, 1)[rows, best][:, None]
        if self.route == "mask":
            return ((scores > 0).float()[:, :, None] * out).sum(1)
        return (torch.softmax(scores, 1)[:, :, None] * out).sum(1)


def test_a_gate_read_through_a_step_function_is_cut_off_though_a_small_move_changes_no_row():
    """The output is constant in the gate between the arg max's boundaries: a gate that prefers one expert
    by a margin (its bias) keeps every row's choice under a move of NUDGE of its RMS, and a move of REDRAW
    carries rows across, on every seed."""
    X, y = _table()
    for seed in range(6):
        torch.manual_seed(seed)
        net = Experts("argmax")
        with torch.no_grad():
            net.gate.weight.mul_(0.2)
            net.gate.bias.copy_(torch.tensor([1.0, 0.0, -0.5, -1.0]))
        found = check_gradient_reaches(net, X, y, F.cross_entropy)
        assert [f.code for f in found] == ["frozen_parameters"], seed
        assert found[0].evidence["modules"] == ["gate"] and found[0].evidence["moved_by"] == {"gate": REDRAW}
        assert found[0].evidence["output_change"]["gate"] > 0.1 and "step function" in found[0].message
        # the part-of-a-module check leaves it to this one: the gate's result is read, not dropped
        torch.manual_seed(seed)
        assert check_module_use(net, X, y, F.cross_entropy) == []


def test_a_mask_from_a_threshold_of_the_gate_is_cut_off():
    X, y = _table()
    for route in ("argmax", "mask"):
        torch.manual_seed(0)
        found = check_gradient_reaches(Experts(route), X, y, F.cross_entropy)
        assert [f.code for f in found] == ["frozen_parameters"] and found[0].evidence["modules"] == ["gate"], route


def test_a_softmax_gate_and_a_switch_gate_are_quiet_and_a_cut_read_at_the_small_move_is_read_as_before():
    X, y = _table()
    for route in ("soft", "switch"):
        torch.manual_seed(0)
        assert check_gradient_reaches(Experts(route), X, y, F.cross_entropy) == [], route
        torch.manual_seed(0)
        assert check_module_use(Experts(route), X, y, F.cross_entropy) == [], route
    Xi, yi = _images()
    torch.manual_seed(0)
    found = check_gradient_reaches(PoolNet(detach=True), Xi, yi, F.cross_entropy)
    assert set(found[0].evidence["moved_by"].values()) == {NUDGE}
