"""``hooks.hooks_held`` and ``hooks.run_hooked``: a check's hooks see its pass and are gone after
it, also when the user's forward raises; ``run_hooked``'s pass builds no graph. The checks that hook
the model they are given (not a copy) leave none on it when its forward raises."""
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


class RaisesAfterItsLayers(nn.Module):
    """An embedding, a convolution and one Linear registered twice, each called, then the user's error."""

    def __init__(self):
        super().__init__()
        self.emb, self.conv = nn.Embedding(10, 4), nn.Conv1d(4, 4, 1)
        self.first = self.second = nn.Linear(4, 4)

    def forward(self, x):
        h = self.emb(x.long().clamp(0, 9))
        self.conv(h.transpose(1, 2))
        self.second(self.first(h))
        raise IndexError("the user's forward fails")


def _checks_that_hook_the_model_given():
    from trainwell.babysit import constant_ids, cut_gradient, layout_check, module_use, pooled_units, unread_ids
    y = torch.zeros(4, dtype=torch.long)
    return {"check_shared_modules": lambda m, x: module_use.check_shared_modules(m, x),
            "first_conv": layout_check.first_conv,
            "constant_ids._ids": constant_ids._ids,
            "unread_ids._row_gradients": lambda m, x: unread_ids._row_gradients(m, x, 0),
            "forward_and_loss": lambda m, x: cut_gradient.forward_and_loss(
                m, x, y, nn.functional.cross_entropy, [m.first.register_forward_hook(lambda *a: None)]),
            "model_outputs": lambda m, x: pooled_units.model_outputs(m, x, m.first, lambda layer, out: out),
            "units_moved": lambda m, x: module_use.units_moved(m, m.first, [0], x, torch.zeros(4, 3), 0)}


@pytest.mark.parametrize("name", list(_checks_that_hook_the_model_given()))
def test_a_check_that_hooks_the_users_model_leaves_no_hook_when_its_forward_raises(name):
    model = RaisesAfterItsLayers()
    check = _checks_that_hook_the_model_given()[name]
    try:
        result = check(model, torch.randint(0, 10, (4, 5)).float())
    except IndexError:
        result = None                           # the checks that do not catch it pass it on
    assert result in (None, [])
    assert sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules()) == 0
