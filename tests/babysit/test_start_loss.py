"""interventions._Experiment.start_loss: the arms whose copy is the model itself (no edit, no change of
the inputs) start from the same weights, so their held loss before the first step is evaluated once
and reused: the same arms, losses and budget as when each copy was evaluated, fewer evaluations; a
model whose eval-mode forward draws random numbers is evaluated every time."""
import torch
from torch import nn

from trainwell.babysit import interventions
from trainwell.babysit.budget import Budget
from trainwell.nn.losses import make_loss

from test_augment_check import flat_classes


class _EvalNoise(nn.Module):
    """Adds noise in eval mode too: a forward that draws from the random stream."""

    def forward(self, x):
        return x + 0.1 * torch.randn_like(x)


def _model(noisy: bool = False):
    torch.manual_seed(0)
    layers = [nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 4)] + ([_EvalNoise()] if noisy else [])
    return nn.Sequential(*layers)


def _run(noisy: bool = False, budget=None):
    """The setting arms (dropout off, weight decay / 100, the lr arms), a repeat, and a standardized-inputs
    fix (its own inputs: evaluated on its own) on an SGD run; the arms' numbers and the random state after."""
    X, y = flat_classes(1200)
    X = X * 5 + 3
    torch.manual_seed(11)
    baseline, arms = interventions.experiment(
        _model(noisy), X, y, make_loss("cross_entropy"), optimizer="sgd", lr=0.05, weight_decay=1e-2, steps=30,
        seed=4, repeat=True, symptoms=("unnormalized_inputs",), budget=budget)
    numbers = [(a.name, a.before, a.after, a.acc, a.mid_after, a.fit_fall) for a in [baseline] + arms]
    return numbers, torch.get_rng_state()


def _evaluated_each_time(monkeypatch):
    monkeypatch.setattr(interventions._Experiment, "start_loss",
                        lambda self, net, inputs, dropout_off: self.held_loss(net, inputs)[0])


def _counted_evals(monkeypatch) -> list:
    calls, held_loss = [], interventions._Experiment.held_loss
    monkeypatch.setattr(interventions._Experiment, "held_loss",
                        lambda self, *a, **k: calls.append(1) or held_loss(self, *a, **k))
    return calls


def test_the_start_loss_is_reused_with_the_same_arms_and_budget(monkeypatch):
    calls = _counted_evals(monkeypatch)
    reused_budget = Budget(1e6)
    reused, reused_state = _run(budget=reused_budget)
    reused_calls = len(calls)
    with monkeypatch.context() as m:
        _evaluated_each_time(m)
        calls.clear()
        each_budget = Budget(1e6)
        each, each_state = _run(budget=each_budget)
    assert len(reused) >= 6 and any(name == "dropout off" for name, *_ in reused)
    assert repr(reused) == repr(each)                       # bitwise (repr: NaN equals NaN): every arm's numbers
    assert torch.equal(reused_state, each_state)
    assert reused_budget.spent == each_budget.spent          # charged for each copy, in the same order
    # one evaluation for the unedited copies, one for the dropout-off copy; the standardized fix its own
    assert len(calls) - reused_calls == len(reused) - 3


def test_a_forward_that_draws_in_eval_mode_is_evaluated_each_time(monkeypatch):
    calls = _counted_evals(monkeypatch)
    noisy, noisy_state = _run(noisy=True)
    noisy_calls = len(calls)
    with monkeypatch.context() as m:
        _evaluated_each_time(m)
        calls.clear()
        each, each_state = _run(noisy=True)
    assert repr(noisy) == repr(each) and torch.equal(noisy_state, each_state)
    assert noisy_calls == len(calls)
    assert len({before for _, before, *_ in noisy}) == len(noisy)   # another draw, another start loss each
