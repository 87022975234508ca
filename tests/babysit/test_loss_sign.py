"""A loss that rewards the wrong outputs (a log-likelihood minimized without its minus sign) and the
monitor's ratios to an initial loss below zero."""
import torch
import torch.nn.functional as F
from torch import nn

from babysit_loop import digits, mlp
from trainwell.babysit import preflight as pf
from trainwell.babysit import loss_checks, overfit
from trainwell.babysit import rules as R

X, Y = digits()[:2]


def log_softmax_mlp(seed=0):
    return nn.Sequential(mlp(seed=seed), nn.LogSoftmax(dim=1))


def log_likelihood(log_probs, y):          # to be maximized: passed to a minimizer without its minus
    return log_probs.gather(1, y[:, None]).mean()


def nll(log_probs, y):
    return -log_probs.gather(1, y[:, None]).mean()


def test_a_log_likelihood_minimized_without_its_minus_is_a_loss_output_mismatch():
    found = overfit.check_overfit(log_softmax_mlp(), X[:20], Y[:20], log_likelihood, "other", "adam", 1e-3)
    assert [f.code for f in found] == ["loss_output_mismatch"]
    ev = found[0].evidence
    assert ev["user_run"]["acc"] < ev["accuracy_floor"] and ev["reference_adam_1e-3"]["acc"] < ev["accuracy_floor"]
    assert ev["below_zero"] and ev["user_run"]["last"] < ev["user_run"]["first"] < 0
    # the same model with the minus: memorized, nothing to say
    assert overfit.check_overfit(log_softmax_mlp(), X[:20], Y[:20], nll, "other", "adam", 1e-3) == []


def test_a_negated_cross_entropy_on_logits_is_found_and_the_right_sign_is_quiet():
    # shift-invariant (check_loss_bounded cannot see it) and unbounded below as the wrong logits grow
    def negated(out, y):
        return -F.cross_entropy(out, y)
    found = overfit.check_overfit(mlp(), X[:20], Y[:20], negated, "other", "sgd", 0.1)
    assert [f.code for f in found] == ["loss_output_mismatch"]
    assert overfit.check_overfit(mlp(), X[:20], Y[:20], F.cross_entropy, "other", "sgd", 0.1) == []


def test_a_model_that_cannot_learn_is_not_read_as_a_wrong_sign():
    # a one-unit bottleneck fails to memorize with a right-signed loss: cannot_overfit, not a mismatch
    found = overfit.check_overfit(mlp((64, 1, 10)), X[:20], Y[:20], F.cross_entropy, "cross_entropy", "adam", 1e-3)
    assert [f.code for f in found] == ["cannot_overfit_small_subset"]


def test_the_preflight_reports_the_wrong_sign_as_the_root_cause():
    found = pf.preflight(log_softmax_mlp(), X, Y, loss=log_likelihood, lr=1e-3, optimizer="adam")
    codes = {f.code for f in found if f.severity == "error"}
    assert "loss_output_mismatch" in codes and "cannot_overfit_small_subset" not in codes


def sample(step, loss):
    return {"step": step, "epoch": 0, "loss": loss, "lr": 1e-3, "weight_decay": 0.0, "batch_finite": True,
            "grad_norm": {"0.weight": 1.0}, "weight_norm": {"0.weight": 10.0}, "update_ratio": {"0.weight": 1e-3}}


def test_a_loss_below_zero_that_falls_is_no_explosion():
    # an initial loss of -1.7: 3x it is -5.1, and every later loss above that is no "explosion"
    ctx = {"initial_loss": -1.7, "steps_per_epoch": 20, "max_lr": 1e-3, "final": False}
    falling = [sample(i, -1.7 - 0.5 * i) for i in range(12)]
    assert R.lr_too_high(falling, [], ctx) == []
    assert not R._ever_diverged(falling, [], ctx)
    # above zero the ratio still reads: 2.3 -> 9 is an explosion
    ctx["initial_loss"] = 2.3
    assert R.lr_too_high([sample(i, 2.3 + i) for i in range(8)], [], ctx)[0].code == "lr_too_high"


def test_the_ratio_rules_stay_quiet_on_a_loss_that_starts_below_zero():
    # a Gaussian NLL with a learned variance starts below zero and may fall far: no ratio to its start reads
    ctx = {"initial_loss": -0.5, "steps_per_epoch": 20, "max_lr": 1e-3, "final": False}
    noisy = [sample(i, -0.5 - 0.05 * i + (0.4 if i % 2 else -0.4)) for i in range(20)]
    history = [{"epoch": e, "train_loss": v, "lr": 1e-3} for e, v in enumerate([-0.6, -0.61, -0.612, -0.613, -0.6131])]
    for rule in (R.lr_too_high, R.oscillating_loss, R.plateau, R.loss_exploding, R.lr_too_low):
        assert rule(noisy, history, ctx) == [], rule.__name__


class LogSoftmaxOver(nn.Module):
    def __init__(self, dim):
        super().__init__()
        torch.manual_seed(0)
        self.a, self.dim = nn.Linear(64, 10), dim

    def forward(self, x):
        return F.log_softmax(self.a(x), dim=self.dim)


def test_nll_on_a_log_softmax_over_the_batch_names_the_axis():
    out = LogSoftmaxOver(0)(X[:64])
    found = loss_checks.check_loss_output(out, Y[:64], "nll", F.nll_loss, last=("", None), num_classes=10)
    assert [f.code for f in found] == ["loss_output_mismatch"]
    assert found[0].evidence["normalized_over"] == "batch" and "dim=1" in found[0].fix
    assert loss_checks.batch_log_softmax(out) and not loss_checks.batch_log_softmax(LogSoftmaxOver(1)(X[:64]))
    # raw scores: the usual message, no axis named
    raw = loss_checks.check_loss_output(LogSoftmaxOver(1).a(X[:64]), Y[:64], "nll", F.nll_loss, last=("", None),
                               num_classes=10)
    assert raw and "normalized_over" not in raw[0].evidence


def test_the_batch_axis_log_softmax_ranks_before_the_batch_dependence_it_causes():
    from trainwell.babysit.findings import Diagnosis, make
    out = LogSoftmaxOver(0)(X[:64])
    mismatch = loss_checks.check_loss_output(out, Y[:64], "nll", F.nll_loss, last=("", None), num_classes=10)
    dependence = make("batch_dependence", "rows read other rows")          # an error, as on too few rows to fade
    assert [f.code for f in Diagnosis([dependence, *mismatch]).ranked()] == ["loss_output_mismatch",
                                                                             "batch_dependence"]


def test_a_negated_binary_cross_entropy_is_found_and_the_right_sign_is_quiet():
    torch.manual_seed(0)
    x = torch.randn(20, 5)
    t = (x[:, 0] > 0).float()

    def net():
        torch.manual_seed(1)
        return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1), nn.Flatten(0))
    bce = F.binary_cross_entropy_with_logits
    found = overfit.check_overfit(net(), x, t, lambda o, y: -bce(o, y), "bce", "adam", 1e-2)
    assert [f.code for f in found] == ["loss_output_mismatch"]
    assert overfit.check_overfit(net(), x, t, bce, "bce", "adam", 1e-2) == []


def test_an_overfit_run_of_a_loss_below_zero_is_no_divergence():
    # a right-signed loss shifted below zero (NLL - 5): memorized by Adam; plain SGD at a tiny lr barely
    # moves it, which must read as a low lr, never as a loss "above 3x" a negative start
    def shifted(out, y):
        return F.cross_entropy(out, y) - 5.0
    found = overfit.check_overfit(mlp(), X[:20], Y[:20], shifted, "other", "sgd", 1e-6)
    assert "lr_too_high" not in [f.code for f in found]


def sigmoid_cross_entropy(out, y):          # softmax's cross-entropy with sigmoid's probabilities
    return -F.logsigmoid(out).gather(1, y[:, None]).mean()


def test_a_loss_spent_while_the_accuracy_stays_short_is_a_loss_output_mismatch():
    # -log sigmoid(out[y]) is minimized by raising the right output alone: the loss goes to ~0 while
    # the outputs' ranking (the accuracy) is left where the shared weights happen to put it
    # (20 rows of noise with 10 classes and a wide MLP: raising every output is the loss's quickest way down)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(20, 64, generator=g), torch.randint(0, 10, (20,), generator=g)
    found = overfit.check_overfit(mlp((64, 128, 128, 10)), x, y, sigmoid_cross_entropy, "other", "adam", 1e-3)
    assert [f.code for f in found] == ["loss_output_mismatch"]
    ev = found[0].evidence
    for run in (ev["user_run"], ev["reference_adam_1e-3"]):
        assert 0 <= run["last"] <= overfit.LOSS_SPENT * run["first"] and run["acc"] < ev["accuracy_target"]
    # the same model and optimizer with the classes scored together memorizes the rows: quiet
    assert overfit.check_overfit(mlp((64, 128, 128, 10)), x, y, F.cross_entropy, "other", "adam", 1e-3) == []
    # where the right output's rise alone happens to rank the rows right, the loss is no fault there: quiet
    assert overfit.check_overfit(mlp(), X[:20], Y[:20], sigmoid_cross_entropy, "other", "adam", 1e-3) == []


def test_a_cross_entropy_spent_to_one_percent_on_twenty_rows_has_every_row_right():
    # the bound behind LOSS_SPENT: mean loss m on n rows caps each row's loss at n*m, so the right
    # class's probability is at least exp(-n*m) > 1/2 for m = 1% of ln C, n = 20, C < 32
    n = pf.OVERFIT_ROWS
    for classes in (2, 10, 31):
        m = overfit.LOSS_SPENT * torch.log(torch.tensor(float(classes)))
        assert torch.exp(-n * m) > 0.5


def test_a_loss_that_started_far_above_a_uniform_guess_is_judged_against_ln_c():
    # an init that explodes the logits starts the loss at 1e9: 1% of that is no evidence; 1% of ln C is
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    run = {"first": 1e9, "last": 1e6, "acc": 0.3, "first_acc": 0.3, "trace": [1e9, 1e6]}
    assert overfit.loss_apart_from_accuracy(run, dict(run), y) == []
    spent = {"first": 1e9, "last": 1e-3, "acc": 0.3, "first_acc": 0.3, "trace": [1e9, 1e-3]}
    assert [f.code for f in overfit.loss_apart_from_accuracy(spent, dict(spent), y)] == ["loss_output_mismatch"]
