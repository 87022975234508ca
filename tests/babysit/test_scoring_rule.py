"""A user's loss of class ids read as a scoring rule (babysit/scoring_rule.py): a loss that fades on a
confidently wrong row and is improper (minus the true class's probability) is read as such (information
in the pre-flight; loss_arm reads its copies' noise before they diverge); the cross-entropy and its
variants, the hinge, the focal loss, the Brier score and the generalized cross-entropy are not."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import loss_arm, scoring_rule as sr
from trainwell.babysit.loss_checks import check_loss_output


def linear_score(z, y):
    """The cross-entropy with its log forgotten: minus the true class's probability."""
    return -(F.one_hot(y, z.shape[1]) * F.softmax(z, 1)).sum(1).mean()


def mae_of_probabilities(z, y):
    return (F.softmax(z, 1) - F.one_hot(y, z.shape[1]).float()).abs().sum(1).mean()


def brier(z, y):
    return ((F.softmax(z, 1) - F.one_hot(y, z.shape[1]).float()) ** 2).sum(1).mean()


def focal(z, y, gamma=2.0):
    log_pt = F.log_softmax(z, 1).gather(1, y[:, None])[:, 0]
    return -((1 - log_pt.exp()) ** gamma * log_pt).mean()


def generalized_ce(q):
    """Zhang & Sabuncu 2018: (1 - p_y^q) / q, the cross-entropy at q -> 0, the MAE at q = 1."""
    return lambda z, y: ((1 - F.softmax(z, 1).gather(1, y[:, None]) ** q) / q).mean()


QUIET = {
    "cross_entropy": F.cross_entropy,
    "cross_entropy_by_hand": lambda z, y: -(F.one_hot(y, z.shape[1]) * F.log_softmax(z, 1)).sum(1).mean(),
    "label_smoothing": lambda z, y: F.cross_entropy(z, y, label_smoothing=0.1),
    "kl_div_one_hot": lambda z, y: F.kl_div(F.log_softmax(z, 1), F.one_hot(y, z.shape[1]).float()),
    "multi_margin": F.multi_margin_loss,
    "focal": focal,
    "brier": brier,
    "generalized_ce_0.7": generalized_ce(0.7),
    "class_weighted_ce": lambda z, y: F.cross_entropy(z, y, weight=torch.linspace(0.5, 2.0, z.shape[1])),
    "summed_ce": lambda z, y: F.cross_entropy(z, y, reduction="sum"),
    "hardest_row_ce": lambda z, y: F.cross_entropy(z, y, reduction="none").max(),
    "one_vs_rest_bce": lambda z, y: F.binary_cross_entropy_with_logits(z, F.one_hot(y, z.shape[1]).float()),
}


@pytest.mark.parametrize("classes", [2, 3, 10, 100])
def test_the_fading_order_is_the_loss_s_power_of_the_true_probability(classes):
    assert sr.fading_order(F.cross_entropy, classes) == pytest.approx(0.0, abs=1e-3)
    assert sr.fading_order(linear_score, classes) == pytest.approx(1.0, abs=1e-3)
    assert sr.fading_order(generalized_ce(0.7), classes) == pytest.approx(0.7, abs=1e-3)


@pytest.mark.parametrize("classes", [2, 10])
def test_a_proper_loss_is_stationary_at_the_frequencies_and_an_improper_one_is_not(classes):
    for proper in (F.cross_entropy, brier, QUIET["kl_div_one_hot"]):
        assert sr.improper_share(proper, classes) < 1e-5
    assert sr.improper_share(linear_score, classes) > 0.5


@pytest.mark.parametrize("loss", [linear_score, mae_of_probabilities], ids=["linear_score", "mae"])
@pytest.mark.parametrize("classes", [2, 3, 10, 100])
def test_a_loss_that_cannot_correct_a_confidently_wrong_row_is_found(loss, classes):
    out, y = torch.randn(64, classes), torch.randint(0, classes, (64,))
    found = sr.check_scoring_rule(out, y, loss)
    assert [f.code for f in found] == ["loss_output_mismatch"] and found[0].severity == "info"
    assert found[0].evidence["fading_order"] >= sr.FADING_ORDER
    assert found[0].evidence["improper_share"] >= sr.IMPROPER_SHARE


@pytest.mark.parametrize("name", sorted(QUIET))
@pytest.mark.parametrize("classes", [2, 3, 10, 100])
def test_losses_that_train_a_confidently_wrong_row_stay_quiet(name, classes):
    out, y = torch.randn(64, classes), torch.randint(0, classes, (64,))
    assert sr.check_scoring_rule(out, y, QUIET[name]) == []


def test_a_model_with_its_own_softmax_is_probed_in_its_output_form():
    """Probability rows in, the loss reads them as probabilities: -p_y on them is found, the log of
    them (a cross-entropy on the model's softmax) is not."""
    out = F.softmax(torch.randn(64, 5), 1)
    y = torch.randint(0, 5, (64,))
    minus_p = lambda p, t: -p.gather(1, t[:, None]).mean()           # noqa: E731
    log_p = lambda p, t: F.nll_loss(torch.log(p), t)                  # noqa: E731
    assert len(sr.check_scoring_rule(out, y, minus_p, form="probabilities")) == 1
    assert sr.check_scoring_rule(out, y, log_p, form="probabilities") == []
    mae = lambda p, t: (p - F.one_hot(t, 5).float()).abs().sum(1).mean()     # noqa: E731
    found = check_loss_output(out, y, "other", mae, last=("out", nn.Softmax(dim=1)), num_classes=5)
    assert "fading_order" in found[0].evidence and found[0].evidence["output_form"] == "probabilities"


def test_check_loss_output_reads_a_user_s_loss_of_class_ids_as_a_scoring_rule():
    out, y = torch.randn(64, 10), torch.randint(0, 10, (64,))
    found = check_loss_output(out, y, "other", linear_score, last=("fc", nn.Linear(4, 10)), num_classes=10)
    assert [f.code for f in found] == ["loss_output_mismatch"] and "power" in found[0].message
    assert check_loss_output(out, y, "other", QUIET["cross_entropy_by_hand"], last=("fc", nn.Linear(4, 10)),
                             num_classes=10) == []


def test_float_targets_and_losses_that_fail_on_the_probe_are_not_read():
    out = torch.randn(64, 3)
    assert sr.check_scoring_rule(out, torch.randn(64, 3), lambda z, t: ((z - t) ** 2).mean()) == []

    def first_rows_only(z, y):          # a loss that needs 64 rows: the probe's rows differ
        return z.reshape(64, -1).sum() * 0 + linear_score(z, y)
    assert sr.check_scoring_rule(out, torch.randint(0, 3, (64,)), first_rows_only) == []


def test_the_detached_probability_weight_reads_as_minus_the_probability():
    """Self-paced training's -(p_y.detach() * log p_y) has the linear score's gradient: the same reading."""
    def self_paced(z, y):
        log_pt = F.log_softmax(z, 1).gather(1, y[:, None])[:, 0]
        return -(log_pt.exp().detach() * log_pt).mean()
    a, b = sr.cannot_correct(self_paced, 10), sr.cannot_correct(linear_score, 10)
    assert a["fading_order"] == pytest.approx(b["fading_order"], abs=1e-3)
    assert a["improper_share"] == pytest.approx(b["improper_share"], rel=1e-3)


@pytest.mark.parametrize("form, make", [("logits", lambda z: z), ("probabilities", lambda z: F.softmax(z, 1)),
                                         ("log_probabilities", lambda z: F.log_softmax(z, 1))])
def test_the_output_form_is_read_from_the_rows(form, make):
    assert sr.output_form(make(torch.randn(8, 4))) == form


# set 25's digits_cross_entropy_without_log as loss_arm.experiment measured it (10 classes, 269 held rows):
# 30 points behind at 100 steps with a repeat 0.4 points away, 26 behind at 340 steps with a repeat 9 away
DIGITS = {"standard": "cross_entropy", "swapped": False, "asymmetric": False, "classify": True, "steps": 100,
          "setup": 0.4647, "arm": 0.1673, "repeat": 0.4610, "longer_steps": 340, "setup_longer": 0.3234,
          "arm_longer": 0.0632, "repeat_longer": 0.2342, "held_rows": 269}


def test_a_fading_loss_s_noise_is_read_before_its_copies_diverge():
    fading = sr.cannot_correct(linear_score, 10)
    assert loss_arm.confirmed({**DIGITS, "fading": fading})
    assert not loss_arm.confirmed({**DIGITS, "fading": None})     # the repeat's 9 points at length hide it
    spread_at_length = {**DIGITS, "fading": fading, "repeat": DIGITS["setup"] - 0.1}
    assert not loss_arm.confirmed(spread_at_length)                # noisy at 100 steps already: not screened
