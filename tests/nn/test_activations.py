import inspect
import math

import pytest
import torch

from trainwell.errors import ConfigError
from trainwell.nn.activations import (ACTIVATION_OPTIONS, ACTIVATIONS, SELU_ALPHA, SELU_LAMBDA,
                                      Maxout, activation_gain, make_activation, width_factor)
from trainwell.options import Option

X = torch.linspace(-4, 4, 81, dtype=torch.float64)

FORMULAS = {
    "identity": lambda x: x,
    "sigmoid": lambda x: 1 / (1 + torch.exp(-x)),
    "tanh": lambda x: (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x)),
    "relu": lambda x: torch.where(x > 0, x, 0 * x),
    "leaky_relu": lambda x: torch.maximum(0.01 * x, x),
    "prelu": lambda x: torch.maximum(0.25 * x, x),
    "elu": lambda x: torch.where(x > 0, x, torch.exp(x) - 1),
    "selu": lambda x: SELU_LAMBDA * torch.where(x > 0, x, SELU_ALPHA * (torch.exp(x) - 1)),
    "gelu": lambda x: x * 0.5 * (1 + torch.erf(x / math.sqrt(2))),
    "abs": lambda x: torch.where(x < 0, -x, x),
}


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_each_activation_matches_its_formula(name):
    act = make_activation(name).double()
    assert torch.allclose(act(X), FORMULAS[name](X), atol=1e-12)


def test_options_by_keyword_and_by_table():
    assert torch.allclose(make_activation("leaky_relu", alpha=0.1)(X), torch.maximum(0.1 * X, X))
    assert torch.allclose(make_activation({"name": "elu", "alpha": 2.0})(X),
                          torch.where(X > 0, X, 2 * (torch.exp(X) - 1)))
    t = make_activation("gelu", approximate="tanh")(X)
    ref = 0.5 * X * (1 + torch.tanh(math.sqrt(2 / math.pi) * (X + 0.044715 * X ** 3)))
    assert torch.allclose(t, ref, atol=1e-12)


def test_prelu_slope_is_learned():
    act = make_activation("prelu", init=0.1)
    x = torch.tensor([-2.0, 3.0])
    act(x).sum().backward()
    assert act.weight.grad.item() == pytest.approx(-2.0)  # d/dα of α·(−2)


def test_maxout_takes_the_max_of_k_consecutive_pieces():
    x = torch.randn(5, 12, 3, 3, dtype=torch.float64)
    y = Maxout(k=3)(x)
    assert y.shape == (5, 4, 3, 3)
    ref = torch.stack([x[:, 3 * i:3 * i + 3].max(dim=1).values for i in range(4)], dim=1)
    assert torch.equal(y, ref)
    assert width_factor("maxout", k=3) == 3 and width_factor("relu") == 1
    with pytest.raises(ConfigError, match="not a multiple of k"):
        Maxout(k=5)(x)
    with pytest.raises(ConfigError, match="k = 1"):
        make_activation("maxout", k=1)


def test_gains_follow_he_and_the_torch_reference():
    assert activation_gain("relu") == pytest.approx(math.sqrt(2))
    assert activation_gain("leaky_relu", alpha=0.2) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.2))
    assert activation_gain("tanh") == pytest.approx(torch.nn.init.calculate_gain("tanh"))
    assert activation_gain("selu") == pytest.approx(torch.nn.init.calculate_gain("selu"))


def test_registry_options_match_constructor_defaults():
    assert set(ACTIVATION_OPTIONS) == set(ACTIVATIONS)
    for name, options in ACTIVATION_OPTIONS.items():
        params = inspect.signature(ACTIVATIONS[name]).parameters
        for opt, option in options.items():
            assert isinstance(option, Option) and params[opt].default == option.default and option.doc


def test_unknown_names_and_options_are_config_errors():
    with pytest.raises(ConfigError, match="allowed: abs, elu, gelu"):
        make_activation("swish")
    with pytest.raises(ConfigError, match="unknown option 'slope'; allowed: alpha"):
        make_activation("leaky_relu", slope=0.1)
    with pytest.raises(ConfigError, match="activation leaky_relu: alpha = 'big': must be a number \\(got str\\)"):
        make_activation({"name": "leaky_relu", "alpha": "big"})
