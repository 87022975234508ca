"""regression_on_class_ids and targets_off_scale: a broken setup fires, its twin stays silent."""
import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import preflight as pf
from trainwell.babysit import loss_kinds
from trainwell.babysit import targets as tg
from trainwell.babysit.findings import Diagnosis


def codes(findings):
    return {f.code for f in findings}


def one_output(n):
    return torch.zeros(n, 1)


def test_float_class_ids_under_mse_are_named_with_their_values():
    y = torch.randint(0, 4, (500, 1)).float()               # grades 0..3 regressed with one output
    found = tg.check_targets(y, one_output(500), "mse")
    assert codes(found) == {"regression_on_class_ids"}
    f = found[0]
    assert f.severity == "warning" and f.evidence["values"] == [0, 1, 2, 3]
    assert "cross_entropy with 4 outputs" in f.fix
    ones = tg.check_class_id_targets(torch.randint(1, 6, (300,)).float(), one_output(300), "l1")   # 1..5
    assert ones and ones[0].evidence["values"] == [1, 2, 3, 4, 5] and "(y - 1)" in ones[0].fix


def test_ordinal_counts_with_many_values_are_quantities():
    counts = torch.poisson(torch.full((2000,), 200.0))     # counts around 200: ~100 distinct values
    assert tg.check_class_id_targets(counts, one_output(2000), "mse") == []
    wide = torch.arange(0, 501).float()                      # every count 0..500
    assert tg.check_class_id_targets(wide, one_output(501), "huber") == []
    # few values that skip (0, 10, 20) or do not start at 0/1 (a count of 3..6) are no label encoding
    assert tg.check_class_id_targets(torch.tensor([0.0, 10.0, 20.0] * 50), one_output(150), "mse") == []
    assert tg.check_class_id_targets(torch.tensor([3.0, 4.0, 5.0, 6.0] * 50), one_output(200), "mse") == []
    # continuous targets and eleven ids are not flagged either
    assert tg.check_class_id_targets(torch.randn(300), one_output(300), "mse") == []
    assert tg.check_class_id_targets(torch.arange(11.0).repeat(20), one_output(220), "mse") == []


def test_a_users_loss_needs_three_values_and_one_output():
    binary = torch.randint(0, 2, (400, 1)).float()           # 0/1 floats: a user's BCE, no finding
    assert tg.check_class_id_targets(binary, one_output(400), "other") == []
    assert codes(tg.check_class_id_targets(binary, one_output(400), "mse")) == {"regression_on_class_ids"}
    three = torch.randint(0, 3, (400, 1)).float()
    assert codes(tg.check_class_id_targets(three, one_output(400), "other")) == {"regression_on_class_ids"}
    assert tg.check_class_id_targets(three, torch.zeros(400, 3), "other") == []     # not a 1-output regression
    assert tg.check_class_id_targets(three.long().flatten(), one_output(400), "mse") == []   # loss_output_mismatch's


def test_off_scale_targets_by_std_and_by_mean_and_unit_scale_is_silent():
    g = torch.Generator().manual_seed(0)
    prices = 2e4 + 1e4 * torch.randn(1000, 1, generator=g)
    found = tg.check_target_scale(prices, one_output(1000), "mse")
    assert codes(found) == {"targets_off_scale"}
    ev = found[0].evidence
    assert abs(ev["mean"][0] - float(prices.mean())) < 1e-3 * abs(float(prices.mean()))
    assert abs(ev["mean_square"] - float((prices.double() ** 2).mean())) < 1e-6 * ev["mean_square"]
    assert "standardize the targets" in found[0].fix
    kelvin = 300 + torch.randn(500, generator=g)             # |mean| 300 with unit std
    assert codes(tg.check_target_scale(kelvin, one_output(500), "l1")) == {"targets_off_scale"}
    tiny = 1e-4 * torch.randn(500, generator=g)
    assert codes(tg.check_target_scale(tiny, one_output(500), "mse")) == {"targets_off_scale"}
    for unit in (torch.randn(500, generator=g), 5 + 3 * torch.randn(500, generator=g)):   # at the band's inside
        assert tg.check_target_scale(unit, one_output(500), "mse") == []
    # class-id losses are not regressions
    assert tg.check_target_scale(prices, torch.zeros(1000, 10), "cross_entropy") == []
    # a user's own loss (a relative error needs positive targets as they are): stated, not warned
    users = tg.check_target_scale(prices, one_output(1000), "other")
    assert codes(users) == {"targets_off_scale"} and users[0].severity == "info"
    assert found[0].severity == "warning" and "the user's own" in users[0].message


class Reg(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x)


def test_preflight_reports_them_and_the_off_scale_cause_ranks_before_its_symptoms():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(400, 8, generator=g)
    w = torch.randn(8, 1, generator=g)
    raw = 2e4 + 1e3 * (X @ w)
    found = pf.preflight(Reg(), X, raw, loss="mse", optimizer="adam", lr=1e-3, cheap_only=True)
    assert "targets_off_scale" in codes(found)
    ranked = Diagnosis(found).ranked()
    assert ranked[0].code == "targets_off_scale", [f.code for f in ranked]
    standard = (raw - raw.mean()) / raw.std()
    assert "targets_off_scale" not in codes(pf.preflight(Reg(), X, standard, loss="mse", cheap_only=True))
    grades = (X[:, :1] > 0).float() + (X[:, 1:2] > 0).float() + (X[:, 2:3] > 0).float()   # 0..3
    found = pf.preflight(Reg(), X, grades, loss=F.mse_loss, cheap_only=True)
    assert "regression_on_class_ids" in codes(found)
    assert "regression_on_class_ids" not in codes(pf.preflight(Reg(), X, standard, loss=F.mse_loss,
                                                                 cheap_only=True))


def test_every_regression_loss_form_is_read_as_one():
    y = torch.randint(0, 3, (200, 1)).float()
    for loss in ("mse", "l1", "huber", nn.MSELoss(), nn.L1Loss(), nn.SmoothL1Loss(), F.smooth_l1_loss, F.huber_loss):
        kind = loss_kinds.resolve_loss(loss)[1]
        assert codes(tg.check_targets(y, one_output(200), kind)) == {"regression_on_class_ids"}, loss
