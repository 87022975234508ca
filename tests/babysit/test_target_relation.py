"""A regression's targets that do not belong to their rows (babysit/target_relation.py)."""
import torch
from torch import nn

from trainwell.babysit import learnable, loss_kinds, overfit
from trainwell.babysit.target_relation import check_targets_learnable


def check(X, y, kind="mse", seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(X.shape[1], 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, y.shape[1] if y.ndim == 2 else 1))
    return check_targets_learnable(
        model, X, y, kind, regression_kinds=loss_kinds.REGRESSION_KINDS, memorize=learnable.MEMORIZE_ROWS,
        unseen_rows=learnable.UNSEEN_ROWS, min_unseen=learnable.MIN_UNSEEN_ROWS, steps=overfit.REFERENCE_STEPS,
        sigmas=learnable.CHANCE_SIGMAS, gen=torch.Generator().manual_seed(seed),
        disable_regularization=overfit.disable_regularization)


def table(noise, n=1500, seed=1):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=g)
    signal = X[:, 0] + torch.sin(2 * X[:, 1]) + X[:, 2] * X[:, 3]
    return X, signal, (signal + noise * torch.randn(n, generator=g))[:, None], g


def test_targets_shuffled_against_their_rows_are_a_label_problem():
    X, _, y, g = table(0.1)
    found = check(X, y[torch.randperm(len(y), generator=g)])
    assert [f.code for f in found] == ["label_problem"] and found[0].severity == "warning"
    e = found[0].evidence
    assert e["last_loss"] <= 0.5 * e["first_loss"]                   # the fitted rows were learned
    assert e["gain"] <= learnable.CHANCE_SIGMAS * e["gain_se"] and abs(e["best_r2"]) < 0.1
    assert check(X, y) == []


def test_a_noisy_but_real_relation_carries_over_before_the_noise_is_memorized():
    """True R^2 about 0.3: a net memorizing 128 rows interpolates their noise, and its unseen error at
    the end of memorizing can exceed the mean's; the best reading along the way is the score."""
    X, signal, y, _ = table(2.5)
    assert float(signal.var() / y.var()) < 0.35
    assert check(X, y) == []


def test_a_running_total_whose_start_is_another_rows_is_found():
    X, signal, _, g = table(0.1)
    start = 50 * torch.rand(len(signal), generator=g)           # a meter's reading before the period
    assert [f.code for f in check(X, (start + signal)[:, None])] == ["label_problem"]


class Destandardized(nn.Module):
    """The user's net with ``out * SD + MEAN`` in its forward (raw units for an app), trained on
    standardized targets."""

    def __init__(self, width):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(width, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, x):
        return self.net(x) * 100.0 + 500.0


def test_a_loss_falling_from_an_off_scale_start_is_no_fit():
    """The untrained outputs 500 standard deviations off the targets: 300 steps take the loss from
    ~2.5e5 far down, but not below the targets' variance, so the rows were not learned and the
    unseen rows' score says nothing of the targets (bad_initial_loss's fault, not label_problem's)."""
    X, _, y, _ = table(0.1)
    torch.manual_seed(0)
    found = check_targets_learnable(
        Destandardized(X.shape[1]), X, y, "mse", regression_kinds=loss_kinds.REGRESSION_KINDS,
        memorize=learnable.MEMORIZE_ROWS, unseen_rows=learnable.UNSEEN_ROWS, min_unseen=learnable.MIN_UNSEEN_ROWS,
        steps=overfit.REFERENCE_STEPS, sigmas=learnable.CHANCE_SIGMAS, gen=torch.Generator().manual_seed(0),
        disable_regularization=overfit.disable_regularization)
    assert found == []


def test_class_ids_probability_rows_and_too_few_rows_are_not_judged():
    X, _, y, g = table(0.1)
    assert check(X, (y[:, 0] > 0).long(), kind="cross_entropy") == []
    soft = torch.softmax(torch.randn(len(y), 3, generator=g), 1)      # distillation targets of the user's loss
    assert check(X, soft[torch.randperm(len(y), generator=g)], kind="other") == []
    assert check(X[:learnable.MEMORIZE_ROWS + learnable.MIN_UNSEEN_ROWS - 1], y[:learnable.MEMORIZE_ROWS + learnable.MIN_UNSEEN_ROWS - 1]
                 [torch.randperm(learnable.MEMORIZE_ROWS + learnable.MIN_UNSEEN_ROWS - 1, generator=g)]) == []
    shuffled = y[torch.randperm(len(y), generator=g)]
    assert [f.code for f in check(X, shuffled, kind="other")] == ["label_problem"]   # the user's own MSE
