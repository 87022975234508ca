"""``hooks.hooks_held`` and ``hooks.run_hooked``: a check's hooks see its pass and are gone after
it, also when the user's forward raises; ``run_hooked``'s pass builds no graph."""
import pytest
import torch
from torch import nn

from trainwell.babysit.hooks import hooks_held, run_hooked


class Raises(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(3, 2)

    def forward(self, x):
        self.layer(x)
        raise IndexError("the user's forward fails")


def _hooked(model, seen):
    return [m.register_forward_hook(lambda m, args, out: seen.append(out)) for m in model.modules()
            if isinstance(m, nn.Linear)]


def _hook_count(model):
    return sum(len(m._forward_hooks) for m in model.modules())


def test_the_hooks_see_one_pass_without_a_graph_and_are_removed():
    model, seen = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)), []
    run_hooked(model, torch.randn(5, 3), _hooked(model, seen))
    assert [tuple(out.shape) for out in seen] == [(5, 4), (5, 2)]
    assert not any(out.requires_grad for out in seen)
    assert _hook_count(model) == 0
    model(torch.randn(5, 3))
    assert len(seen) == 2                       # a later pass is not hooked


@pytest.mark.parametrize("run", [lambda model, x, handles: run_hooked(model, x, handles),
                                 lambda model, x, handles: _held(model, x, handles)])
def test_a_forward_that_raises_leaves_no_hook_behind(run):
    model, seen = Raises(), []
    with pytest.raises(IndexError, match="the user's forward fails"):
        run(model, torch.randn(5, 3), _hooked(model, seen))
    assert len(seen) == 1 and _hook_count(model) == 0


def _held(model, x, handles):
    with hooks_held(handles):
        model(x).sum().backward()
