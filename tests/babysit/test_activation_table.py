"""preflight.activation_table: the per-layer activation table a user reads for a report or a plot
(notes, babysitting: "activation/gradient distributions per layer"), against statistics computed
here from the same forward pass by hand."""
import torch
from torch import nn

from trainwell.babysit.preflight import activation_table


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(),
                         nn.Linear(8, 1), nn.Sigmoid())


def test_the_table_matches_each_layers_activations_in_call_order():
    model = _net()
    with torch.no_grad():
        model[3].weight.mul_(20.0)               # the tanh layer saturates
    X = torch.randn(64, 6)
    work = _net()
    work.load_state_dict(model.state_dict())
    work.train()
    with torch.no_grad():
        relu = work[2](work[1](work[0](X)))
        tanh = work[4](work[3](relu))
    table = activation_table(model, X, rows=64)
    assert list(table) == ["2", "4"]             # the output's sigmoid is a prediction, not a hidden layer
    assert table["2"]["family"] == "relu" and table["4"]["family"] == "tanh"
    for name, a in (("2", relu), ("4", tanh)):
        assert abs(table[name]["mean"] - a.mean().item()) < 1e-5
        assert abs(table[name]["std"] - a.std().item()) < 1e-5 * max(1.0, a.std().item())   # the sample std
    assert table["2"]["dead"] == ((relu.amax(dim=0) <= 0).sum() / 16).item()
    assert abs(table["4"]["saturated"] - (tanh.abs() > 0.99).float().mean().item()) < 1e-6
    assert table["4"]["saturated"] > 0.2         # the scaled weights did saturate it


def test_the_table_leaves_the_models_running_statistics_and_mode_alone():
    model = _net().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    activation_table(model, torch.randn(32, 6) * 3 + 1)
    assert not model.training
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_rows_limits_the_examples_read():
    model = _net()
    X = torch.randn(64, 6)
    X[16:] += 100.0                               # rows past the first 16 would move every mean
    few = activation_table(model, X, rows=16)
    assert few == activation_table(model, X[:16], rows=64)
