"""Normalization layers by name (notes 000/004 "Batch Normalization", "Other normalization schemes").

``NORMS`` maps a config name to a factory ``(num_features, *, spatial, **options) -> module or
None``; ``NORM_OPTIONS`` describes the options as ``{option: Option}``. A norm spec is
a name or a table: ``"batch"``, ``{"name": "group", "groups": 4}``.

All norms act on dim 1 (features of (N, C), channels of (N, C, H, W)) and end with a learned
per-feature scale γ and shift β (notes 004: "allow the network to squash the range if it wants
to"). Weight norm is a reparametrization of the preceding Linear/Conv layer instead of a layer:
``norm_layer`` returns None for it and ``reparametrize(layer, spec)`` wraps the layer.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from trainwell.errors import ConfigError
from trainwell.nn.activations import split_spec
from trainwell.options import Option, check_options, did_you_mean, must_be


class BatchRenorm(nn.Module):
    """Batch renormalization (Ioffe 2017), for (N, C) or (N, C, …) inputs.

    Training: x̂ = (x − μ_B)/σ_B · r + d with r = clip(σ_B/σ, 1/r_max, r_max) and
    d = clip((μ_B − μ)/σ, −d_max, d_max), both treated as constants (no gradient through them);
    μ, σ are the running statistics. r_max and d_max start at 1 and 0 (plain batch norm) for
    ``warmup_steps`` training steps and grow linearly to their final values at ``r_max_steps`` and
    ``d_max_steps`` (Ioffe 2017 §4: 5k, 40k and 25k steps to r_max = 3, d_max = 5). The step counter
    is the registered buffer ``steps``, so it is saved and restored with the model.
    Inference uses the running statistics, exactly as batch norm does.
    """

    def __init__(self, num_features: int, *, eps: float = 1e-5, momentum: float = 0.1,
                 r_max: float = 3.0, d_max: float = 5.0, warmup_steps: int = 5000,
                 r_max_steps: int = 40000, d_max_steps: int = 25000):
        super().__init__()
        if r_max < 1 or d_max < 0:
            raise ConfigError(f"batch_renorm: r_max = {r_max} must be >= 1 and d_max = {d_max} >= 0")
        if min(r_max_steps, d_max_steps) <= warmup_steps:
            raise ConfigError(f"batch_renorm: r_max_steps = {r_max_steps} and d_max_steps = "
                              f"{d_max_steps} must be > warmup_steps = {warmup_steps}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.r_max, self.d_max = r_max, d_max
        self.warmup_steps, self.r_max_steps, self.d_max_steps = warmup_steps, r_max_steps, d_max_steps
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    def limits(self):
        """(r_max, d_max) at the current step, as tensors (no host sync)."""
        t = self.steps.to(self.running_mean.dtype)
        fr = ((t - self.warmup_steps) / (self.r_max_steps - self.warmup_steps)).clamp(0, 1)
        fd = ((t - self.warmup_steps) / (self.d_max_steps - self.warmup_steps)).clamp(0, 1)
        return 1 + (self.r_max - 1) * fr, self.d_max * fd

    def forward(self, x):
        dims = [0] + list(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        if self.training:
            mean = x.mean(dims)
            var = x.var(dims, unbiased=False)
            std = (var + self.eps).sqrt()
            running_std = (self.running_var + self.eps).sqrt()
            r_max, d_max = self.limits()
            r = (std / running_std).detach().clamp(1 / r_max, r_max)
            d = ((mean - self.running_mean) / running_std).detach().clamp(-d_max, d_max)
            x_hat = (x - mean.view(shape)) / std.view(shape) * r.view(shape) + d.view(shape)
            with torch.no_grad():
                n = x.numel() // x.shape[1]
                dtype = self.running_mean.dtype
                self.running_mean.lerp_(mean.detach().to(dtype), self.momentum)
                self.running_var.lerp_((var.detach() * n / max(n - 1, 1)).to(dtype), self.momentum)
                self.steps += 1
        else:
            x_hat = ((x - self.running_mean.view(shape))
                     / (self.running_var + self.eps).sqrt().view(shape))
        return x_hat * self.weight.view(shape) + self.bias.view(shape)

    def extra_repr(self):
        return (f"{self.num_features}, r_max={self.r_max}, d_max={self.d_max}, "
                f"warmup_steps={self.warmup_steps}, r_max_steps={self.r_max_steps}, "
                f"d_max_steps={self.d_max_steps}")


def _batch(c, *, spatial, eps, momentum):
    return (nn.BatchNorm2d if spatial else nn.BatchNorm1d)(c, eps=eps, momentum=momentum)


def _layer(c, *, spatial, eps):
    # Ba et al. 2016: statistics over all of a sample's units — for images all of (C, H, W),
    # which is GroupNorm with one group (per-channel γ, β).
    return nn.GroupNorm(1, c, eps=eps) if spatial else nn.LayerNorm(c, eps=eps)


def _group(c, *, spatial, groups, eps):
    if groups < 1 or c % groups:
        raise ConfigError(f"norm group: groups = {groups} must divide the {c} features/channels "
                          f"of every normalized layer")
    return nn.GroupNorm(groups, c, eps=eps)


def _instance(c, *, spatial, eps):
    if not spatial:
        raise ConfigError("norm instance: needs image features (cnn/resnet); a flat layer's "
                          "instance statistics are over a single value. Use 'layer' for mlp")
    return nn.InstanceNorm2d(c, eps=eps, affine=True)


def _none(c, *, spatial):
    return None


def _weight(c, *, spatial):
    return None  # a reparametrization of the layer before: see reparametrize()


NORMS = {
    "none": _none,
    "batch": _batch,
    "layer": _layer,
    "group": _group,
    "instance": _instance,
    "weight": _weight,
    "batch_renorm": lambda c, *, spatial, **kw: BatchRenorm(c, **kw),
}

_EPS = Option(float, 1e-5, "ε added to the variance", source="the torch.nn norm layers' default",
              check=must_be(lambda v: v > 0, "a number > 0"))
# running ← (1 − momentum)·running + momentum·batch statistic: a weight in [0, 1]
_MOMENTUM = Option(float, 0.1, "running-statistics update rate", source="torch.nn.BatchNorm default",
                   check=must_be(lambda v: 0 <= v <= 1, "a number in [0, 1] (the weight of each batch's statistics)"))
NORM_OPTIONS = {
    "none": {},
    "batch": {"eps": _EPS, "momentum": _MOMENTUM},
    "layer": {"eps": _EPS},
    "group": {"groups": Option(int, 8, "number of channel groups G (must divide every width)",
                               source="Wu & He 2018 use 32 on ImageNet widths; 8 divides the small "
                                      "widths used here"),
              "eps": _EPS},
    "instance": {"eps": _EPS},
    "weight": {},
    "batch_renorm": {
        "eps": _EPS,
        "momentum": _MOMENTUM,
        "r_max": Option(float, 3.0, "final clip of r = σ_B/σ to [1/r_max, r_max]", source="Ioffe 2017"),
        "d_max": Option(float, 5.0, "final clip of d = (μ_B − μ)/σ to [−d_max, d_max]", source="Ioffe 2017"),
        "warmup_steps": Option(int, 5000, "steps with r_max = 1, d_max = 0", source="Ioffe 2017"),
        "r_max_steps": Option(int, 40000, "step at which r_max reaches its final value", source="Ioffe 2017"),
        "d_max_steps": Option(int, 25000, "step at which d_max reaches its final value", source="Ioffe 2017"),
    },
}


def norm_name_and_options(spec, **kwargs):
    """``"batch"`` or ``{"name": "group", "groups": 4}`` -> (name, validated options)."""
    name, opts = split_spec(spec, kwargs, "norm")
    if not isinstance(name, str) or name not in NORMS:
        raise ConfigError(f"norm = {name!r}: unknown{did_you_mean(name, NORMS)}; allowed: {', '.join(NORMS)}")
    return name, check_options(f"norm {name}", opts, NORM_OPTIONS[name])


def norm_layer(spec, num_features: int, *, spatial: bool) -> nn.Module | None:
    """The normalization layer for ``num_features`` features (channels when ``spatial``), or None."""
    name, opts = norm_name_and_options(spec)
    return NORMS[name](num_features, spatial=spatial, **opts)


def reparametrize(layer: nn.Module, spec) -> nn.Module:
    """Apply weight norm w = g·v/‖v‖ (Salimans & Kingma 2016) to ``layer`` when ``spec`` is "weight";
    g is per output unit (the norm is over all other weight dims)."""
    name, _ = norm_name_and_options(spec)
    return weight_norm(layer, name="weight", dim=0) if name == "weight" else layer
