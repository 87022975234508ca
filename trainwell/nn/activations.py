"""Activation functions by name, with their options (notes 004 "Activation Functions").

``ACTIVATIONS`` maps a config name to a constructor; ``ACTIVATION_OPTIONS`` describes each
constructor's keyword options as ``{option: Option}`` for the config validator and docs/models.md. ``make_activation`` accepts a name with keywords or a table::

    make_activation("leaky_relu", alpha=0.1)
    make_activation({"name": "maxout", "k": 3})

Maxout is different from the others: it is max(w₁ᵀx + b₁, …, w_kᵀx + b_k), so the layer before it
must produce k values per unit. ``Maxout(k)`` takes the max over groups of k consecutive features
(channels for images) and divides the width by k; the model builders make the preceding Linear or
Conv layer ``width_factor(activation)`` = k times wider, so a hidden width of 256 still means 256
maxout units (each with k linear pieces: k× the parameters, the notes' "problem").
"""
from __future__ import annotations

import math

import torch
from torch import nn

from trainwell.errors import ConfigError
from trainwell.options import Option, check_options, did_you_mean, must_be

# notes 004: SELU constants (Klambauer et al. 2017).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946


class LeakyReLU(nn.Module):
    """max(αx, x) for 0 ≤ α < 1 (Maas et al. 2013; notes 004 use α = 0.01 and 0.1)."""

    def __init__(self, *, alpha: float = 0.01):
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x):
        return torch.nn.functional.leaky_relu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class PReLU(nn.PReLU):
    """max(αx, x) with α learned ("backprop into α", He et al. 2015; notes 004); α starts at ``init``
    (0.25 in He et al. 2015), one α shared by all units."""

    def __init__(self, *, init: float = 0.25):
        super().__init__(num_parameters=1, init=float(init))


class ELU(nn.ELU):
    """x for x > 0, α(eˣ − 1) otherwise (Clevert et al. 2016; notes 004)."""

    def __init__(self, *, alpha: float = 1.0):
        super().__init__(alpha=float(alpha))


class SELU(nn.Module):
    """λ·ELU_α(x) with the fixed α, λ of Klambauer et al. 2017 (notes 004): self-normalizing."""

    def forward(self, x):
        return SELU_LAMBDA * torch.where(x > 0, x, SELU_ALPHA * torch.expm1(x.clamp_max(0)))


class GELU(nn.GELU):
    """x·Φ(x) (Hendrycks & Gimpel 2016); ``approximate="tanh"`` uses the tanh approximation."""

    def __init__(self, *, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ConfigError(f"activation gelu: approximate = {approximate!r}; allowed: none, tanh")
        super().__init__(approximate=approximate)


class Abs(nn.Module):
    """|x| (rectification by absolute value, Jarrett et al. 2009)."""

    def forward(self, x):
        return x.abs()


class Maxout(nn.Module):
    """max over groups of k consecutive features of dim 1: (N, k·C, …) -> (N, C, …)
    (Goodfellow et al. 2013; notes 004 "Maxout neuron" with k = 2)."""

    def __init__(self, *, k: int = 2):
        super().__init__()
        if not isinstance(k, int) or isinstance(k, bool) or k < 2:
            raise ConfigError(f"activation maxout: k = {k!r}; must be an integer >= 2")
        self.k = k

    def forward(self, x):
        n, width = x.shape[0], x.shape[1]
        if width % self.k:
            raise ConfigError(f"maxout with k = {self.k} got {width} features, not a multiple of k")
        return x.view(n, width // self.k, self.k, *x.shape[2:]).amax(dim=2)

    def extra_repr(self):
        return f"k={self.k}"


ACTIVATIONS = {
    "identity": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": LeakyReLU,
    "prelu": PReLU,
    "elu": ELU,
    "selu": SELU,
    "gelu": GELU,
    "maxout": Maxout,
    "abs": Abs,
}

ACTIVATION_OPTIONS = {
    "identity": {},
    "sigmoid": {},
    "tanh": {},
    "relu": {},
    "leaky_relu": {"alpha": Option(float, 0.01, "slope for x < 0", source="notes 004: max(0.01x, x)",
                                   check=must_be(lambda a: 0 <= a < 1, "in [0, 1): max(αx, x) is the leaky "
                                                 "ReLU only for a slope under 1"))},
    "prelu": {"init": Option(float, 0.25, "initial learned slope α", source="He et al. 2015")},
    "elu": {"alpha": Option(float, 1.0, "saturation value −α for x → −∞", source="Clevert et al. 2016",
                            check=must_be(lambda a: a >= 0, "a number >= 0 (the floor −α for x → −∞)"))},
    "selu": {},
    "gelu": {"approximate": Option(str, "none", "'none' (exact erf) or 'tanh' approximation",
                                   source="Hendrycks & Gimpel 2016")},
    "maxout": {"k": Option(int, 2, "linear pieces per unit; the layer before is k× wider",
                           source="notes 004 (maxout neuron with k = 2)")},
    "abs": {},
}

# The gain g for which weights with Var(W) = g²/fan keep the activations' second moment from layer
# to layer (He et al. 2015; the standard values are those of torch.nn.init.calculate_gain). gelu, elu and prelu use
# their ReLU-like limits, maxout and abs keep the second moment (E[|z|²] = Var z), so 1.
ACTIVATION_GAINS = {
    "identity": lambda: 1.0,
    "sigmoid": lambda: 1.0,
    "tanh": lambda: 5.0 / 3.0,
    "relu": lambda: math.sqrt(2.0),
    "leaky_relu": lambda alpha=0.01: math.sqrt(2.0 / (1.0 + alpha ** 2)),
    "prelu": lambda init=0.25: math.sqrt(2.0 / (1.0 + init ** 2)),
    "elu": lambda alpha=1.0: math.sqrt(2.0),
    "selu": lambda: 0.75,
    "gelu": lambda approximate="none": math.sqrt(2.0),
    "maxout": lambda k=2: 1.0,
    "abs": lambda: 1.0,
}


def split_spec(spec, kwargs: dict, where: str):
    """``"relu"`` or ``{"name": "relu", ...}`` plus keywords -> (name, options)."""
    if isinstance(spec, dict):
        spec = dict(spec)
        if "name" not in spec:
            raise ConfigError(f"{where} = {spec!r}: a table needs a 'name' key")
        name = spec.pop("name")
        return name, {**spec, **kwargs}
    return spec, dict(kwargs)


def _name_and_options(spec, kwargs):
    name, opts = split_spec(spec, kwargs, "activation")
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ConfigError(f"activation = {name!r}: unknown{did_you_mean(name, ACTIVATIONS)}; "
                          f"allowed: {', '.join(sorted(ACTIVATIONS))}")
    return name, check_options(f"activation {name}", opts, ACTIVATION_OPTIONS[name])


def make_activation(spec, **kwargs) -> nn.Module:
    """The activation module for a name (with keyword options) or a ``{"name": ..., ...}`` table."""
    name, opts = _name_and_options(spec, kwargs)
    return ACTIVATIONS[name](**opts)


def width_factor(spec, **kwargs) -> int:
    """How many times wider the layer before this activation must be (k for maxout, else 1)."""
    name, opts = _name_and_options(spec, kwargs)
    return opts["k"] if name == "maxout" else 1


def activation_gain(spec, **kwargs) -> float:
    """The variance-preserving gain for this activation (see ``ACTIVATION_GAINS``)."""
    name, opts = _name_and_options(spec, kwargs)
    return ACTIVATION_GAINS[name](**opts)
