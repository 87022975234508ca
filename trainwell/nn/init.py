"""Weight initialization for any model: ``init(model, scheme, **options)`` (notes 000, 003, 004).

Every ``nn.Linear`` and ``nn.Conv*``/``nn.ConvTranspose*`` weight is redrawn by the scheme (also
through a weight-norm parametrization: the new weight is decomposed into g and v); biases are set
to ``bias`` (0 by default). Norm layers keep γ = 1, β = 0. For a weight of shape
(out, in, k₁, k₂, …): fan_in = in·k₁k₂…, fan_out = out·k₁k₂… (transposed convs swap the first two).

A frozen tensor (``requires_grad=False``: a pretrained body, random Fourier features) is the
user's deliberate choice that training never revisits, so it is left as it is unless
``include_frozen=True`` (fastai's ``apply_init`` skips such layers the same way: ``cond_init``
initializes a module only ``if requires_grad(m)``).

``INITS`` maps a scheme name to its function ``fn(weight, fan_in, fan_out, generator, **options)``
and ``INIT_OPTIONS`` describes each scheme's options as ``{option: Option}`` (read by ``init``,
the config validator ``check_init_spec`` and docs/init.md). LSUV needs a data batch:
``init(model, "lsuv", data=x)``.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import parametrize

from trainwell.errors import ConfigError
from trainwell.nn.activations import ACTIVATIONS, activation_gain
from trainwell.options import (MAX_TORCH_SEED, Option, check_options, did_you_mean, misspelt_key, must_be,
                               one_of, seed_range)

LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
          nn.ConvTranspose3d)


def fans(module: nn.Module) -> tuple[int, int]:
    """(fan_in, fan_out) of a Linear/Conv layer's weight."""
    w = module.weight
    receptive = math.prod(w.shape[2:])
    fan_in, fan_out = w.shape[1] * receptive, w.shape[0] * receptive
    if isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        return fan_out, fan_in  # weight is (in, out/groups, k…)
    return fan_in, fan_out


def _gain(activation, alpha, gain):
    if gain is not None:
        return float(gain)
    if activation not in ACTIVATIONS:
        raise ConfigError(f"init: activation = {activation!r}; allowed: {', '.join(ACTIVATIONS)}")
    return activation_gain(activation, **({"alpha": alpha} if activation == "leaky_relu" else {}))


def _normal(shape, std, g):
    return torch.randn(shape, generator=g) * std


def _uniform(shape, std, g):
    bound = math.sqrt(3.0) * std  # U(−a, a) has variance a²/3
    return (torch.rand(shape, generator=g) * 2 - 1) * bound


# --- schemes: each returns the new weight (float64 on the CPU; copied into the layer) ----------

def zeros(shape, fan_in, fan_out, g):
    """W = 0: every unit computes the same thing and gets the same gradient (notes 003)."""
    return torch.zeros(shape)


def constant(shape, fan_in, fan_out, g, *, value=0.01):
    """W = value everywhere: the symmetry problem — units of a layer stay identical (notes 000)."""
    return torch.full(shape, float(value))


def small_normal(shape, fan_in, fan_out, g, *, std=0.01):
    """W ~ N(0, std²) with std = 0.01 (notes 004: ``W = 0.01 * np.random.randn(D, H)``)."""
    return _normal(shape, std, g)


def xavier_normal(shape, fan_in, fan_out, g, *, gain=1.0):
    """W ~ N(0, gain²·2/(fan_in + fan_out)) (Glorot & Bengio 2010; notes 003)."""
    return _normal(shape, gain * math.sqrt(2.0 / (fan_in + fan_out)), g)


def xavier_uniform(shape, fan_in, fan_out, g, *, gain=1.0):
    """W ~ U(−a, a), a = gain·√(6/(fan_in + fan_out)): variance gain²·2/(fan_in + fan_out)."""
    return _uniform(shape, gain * math.sqrt(2.0 / (fan_in + fan_out)), g)


def _kaiming_std(fan_in, fan_out, mode, activation, alpha, gain):
    if mode not in ("fan_in", "fan_out"):
        raise ConfigError(f"init kaiming: mode = {mode!r}; allowed: fan_in, fan_out")
    fan = fan_in if mode == "fan_in" else fan_out
    return _gain(activation, alpha, gain) / math.sqrt(fan)


def kaiming_normal(shape, fan_in, fan_out, g, *, mode="fan_in", activation="relu", alpha=0.01,
                   gain=None):
    """W ~ N(0, gain²/fan), gain² = 2 for ReLU (He et al. 2015; notes 004 W/√(fan_in/2))."""
    return _normal(shape, _kaiming_std(fan_in, fan_out, mode, activation, alpha, gain), g)


def kaiming_uniform(shape, fan_in, fan_out, g, *, mode="fan_in", activation="relu", alpha=0.01,
                    gain=None):
    """W ~ U(−a, a), a = gain·√(3/fan): variance gain²/fan (He et al. 2015; notes 003)."""
    return _uniform(shape, _kaiming_std(fan_in, fan_out, mode, activation, alpha, gain), g)


def orthogonal(shape, fan_in, fan_out, g, *, gain=1.0):
    """W (as an out × fan_in matrix) with orthonormal rows (out ≤ fan_in) or columns, times gain
    (Saxe et al. 2014; notes 003): Q of the QR decomposition of a Gaussian matrix, signs fixed by
    diag(R) so that Q is uniformly (Haar) distributed."""
    rows, cols = shape[0], math.prod(shape[1:])
    a = torch.randn(max(rows, cols), min(rows, cols), generator=g, dtype=torch.float64)
    q, r = torch.linalg.qr(a)
    q = q * torch.sign(torch.diagonal(r)).where(torch.diagonal(r) != 0, torch.ones(()))
    q = q if rows >= cols else q.T
    return (gain * q).reshape(shape)


def geometric(shape, fan_in, fan_out, g, *, activation="relu", alpha=0.01, gain=None):
    """W ~ N(0, gain²/√(fan_in·fan_out)): variance over the geometric mean of fan-in and fan-out,
    gain² = 2 for ReLU (Defazio & Bottou 2022, "A scaling calculus for the design and
    initialization of ReLU networks", arXiv:1906.04267: 2/√(n_in·n_out) for a ReLU MLP; notes 003
    slide 41: c/√(d_in·d_out)). For square layers it is He's 2/fan; it keeps their per-layer
    scaling quantity equal across layers when widths change."""
    g2 = _gain(activation, alpha, gain) ** 2
    return _normal(shape, math.sqrt(g2 / math.sqrt(fan_in * fan_out)), g)


_POSITIVE_GAIN = must_be(lambda g: g is None or g > 0, "a number > 0 (the weights' scale)")
_GAIN = Option((float, type(None)), None, "override the activation's gain", check=_POSITIVE_GAIN)
_ACT = Option(str, "relu", "the nonlinearity after the layer; sets gain (relu: √2, tanh: 5/3, ...)",
              source="notes 004: 'Use ReLU nonlinearity'")
_ALPHA = Option(float, 0.01, "leaky_relu slope when activation = 'leaky_relu'",
                source="notes 004: max(0.01x, x)")
_MODE = Option(str, "fan_in", "fan_in (forward pass) or fan_out (backward)", source="He et al. 2015",
               check=one_of(("fan_in", "fan_out")))
# options every scheme takes
_EVERY_SCHEME = {
    "bias": Option(float, 0.0, "value for every bias"),
    "seed": Option((int, type(None)), None, "seed for a private generator (None: torch's global RNG)",
                   check=seed_range(MAX_TORCH_SEED, "torch's generators take 64-bit seeds")),
    "include_frozen": Option(bool, False, "also redraw tensors with requires_grad=False (frozen: pretrained "
                             "or random features); False leaves them as they are",
                             source="fastai's apply_init: cond_init skips modules that do not require grad"),
}

INITS = {
    "zeros": zeros,
    "constant": constant,
    "small_normal": small_normal,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "kaiming_normal": kaiming_normal,
    "kaiming_uniform": kaiming_uniform,
    "orthogonal": orthogonal,
    "geometric": geometric,
    "lsuv": orthogonal,  # then rescaled on data: see lsuv()
}

INIT_OPTIONS = {
    "zeros": {**_EVERY_SCHEME},
    "constant": {"value": Option(float, 0.01, "every weight", source="notes 000 (the symmetry problem)"),
                 **_EVERY_SCHEME},
    "small_normal": {"std": Option(float, 0.01, "standard deviation",
                                   source="notes 004: W = 0.01 * np.random.randn(D, H)",
                                   check=must_be(lambda v: v >= 0, "a number >= 0")), **_EVERY_SCHEME},
    "xavier_normal": {"gain": Option(float, 1.0, "scale (1: linear units)", source="Glorot & Bengio 2010",
                                     check=_POSITIVE_GAIN), **_EVERY_SCHEME},
    "xavier_uniform": {"gain": Option(float, 1.0, "scale (1: linear units)", source="Glorot & Bengio 2010",
                                      check=_POSITIVE_GAIN), **_EVERY_SCHEME},
    "kaiming_normal": {"mode": _MODE, "activation": _ACT, "alpha": _ALPHA, "gain": _GAIN, **_EVERY_SCHEME},
    "kaiming_uniform": {"mode": _MODE, "activation": _ACT, "alpha": _ALPHA, "gain": _GAIN, **_EVERY_SCHEME},
    "orthogonal": {"gain": Option(float, 1.0, "scale of the orthonormal matrix", source="Saxe et al. 2014",
                                  check=_POSITIVE_GAIN), **_EVERY_SCHEME},
    "geometric": {"activation": _ACT, "alpha": _ALPHA, "gain": _GAIN, **_EVERY_SCHEME},
    "lsuv": {"data": Option(object, None, "a batch of inputs (required), e.g. 256+ training samples"),
             "tol": Option(float, 0.1, "stop when |Var(output) − 1| < tol", source="Mishkin & Matas 2015",
                           check=must_be(lambda v: v > 0, "a number > 0")),
             "max_tries": Option(int, 10, "rescalings per layer at most", source="Mishkin & Matas 2015",
                                 check=must_be(lambda v: v >= 0, "an integer >= 0 (0: orthonormal only)")),
             **_EVERY_SCHEME},
}


def check_init_spec(spec) -> str | None:
    """Config validation of ``init``: a scheme name or ``{name = ..., options}`` (LSUV's data batch
    is supplied by fit, so a config may not set it)."""
    options = dict(spec) if isinstance(spec, dict) else {"name": spec}
    name = options.pop("name", None)
    if name is None and isinstance(spec, dict):
        return "the table needs name = \"...\", one of: " + ", ".join(INIT_OPTIONS) + misspelt_key(spec, "name")
    if not isinstance(name, str) or name not in INIT_OPTIONS:
        return f"unknown scheme {name!r}{did_you_mean(name, INIT_OPTIONS)}; allowed: " + ", ".join(INIT_OPTIONS)
    if "data" in options:
        return "data is supplied by fit (a batch of training inputs); remove it"
    check_options(f"init ({name})", options, INIT_OPTIONS[name])
    return None


def layers_of(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The (name, module) pairs whose weights the schemes set."""
    return [(n, m) for n, m in model.named_modules()
            if isinstance(m, LAYERS) and getattr(m, "weight", None) is not None]


def frozen(module: nn.Module, name: str) -> bool:
    """Whether ``module``'s tensor ``name`` (``weight``, ``bias``) is frozen: its parameter, or any
    of the parameters a parametrization (weight norm's g and v) builds it from, has
    ``requires_grad=False``."""
    if parametrize.is_parametrized(module, name):
        return not all(p.requires_grad for p in module.parametrizations[name].parameters())
    return not getattr(module, name).requires_grad


def _set_weight(module: nn.Module, w: torch.Tensor):
    w = w.to(dtype=module.weight.dtype, device=module.weight.device)
    with torch.no_grad():
        if parametrize.is_parametrized(module, "weight"):
            module.weight = w  # right_inverse: weight norm splits w into g = ‖w‖ and v = w
        else:
            module.weight.copy_(w)


def init(model: nn.Module, scheme, **options) -> nn.Module:
    """Initialize every Linear/Conv layer of ``model`` with ``scheme`` (a name in INITS, or a table
    ``{"name": ..., **options}``); returns the model. A frozen weight or bias (``frozen``) keeps its
    values unless ``include_frozen=True``. See INIT_OPTIONS for each scheme's options."""
    if isinstance(scheme, dict):
        scheme = dict(scheme)
        name = scheme.pop("name", None)
        options = {**scheme, **options}
    else:
        name = scheme
    if not isinstance(name, str) or name not in INITS:
        raise ConfigError(f"init = {name!r}: unknown{did_you_mean(name, INITS)}; allowed: {', '.join(INITS)}")
    opts = check_options(f"init {name}", options, INIT_OPTIONS[name])
    bias, seed, include_frozen = opts.pop("bias"), opts.pop("seed"), opts.pop("include_frozen")
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    lsuv_opts = {k: opts.pop(k) for k in ("data", "tol", "max_tries")} if name == "lsuv" else None
    if lsuv_opts is not None and lsuv_opts["data"] is None:
        raise ConfigError("init lsuv: needs data= a batch of training inputs (Mishkin & Matas 2015 "
                          "rescale each layer on real data)")
    for _, module in layers_of(model):
        fan_in, fan_out = fans(module)
        # drawn for a frozen weight too: with a seed, the other layers get the same weights whether
        # or not some layers are frozen
        w = INITS[name](tuple(module.weight.shape), fan_in, fan_out, g, **opts)
        if include_frozen or not frozen(module, "weight"):
            _set_weight(module, w)
        if module.bias is not None and (include_frozen or not frozen(module, "bias")):
            with torch.no_grad():
                module.bias.fill_(bias)
    if lsuv_opts is not None:
        lsuv(model, lsuv_opts["data"], tol=lsuv_opts["tol"], max_tries=lsuv_opts["max_tries"],
             orthonormal_first=False, include_frozen=include_frozen)
    return model


def lsuv(model: nn.Module, data: torch.Tensor, *, tol: float = 0.1, max_tries: int = 10,
         orthonormal_first: bool = True, seed: int | None = None, include_frozen: bool = False) -> list[dict]:
    """Layer-sequential unit-variance init (Mishkin & Matas 2015, "All you need is a good init").

    Orthonormal weights first (unless ``orthonormal_first=False``), then, layer by layer in forward
    order, forward ``data`` and divide the layer's weight by √Var(its output) until
    |Var − 1| < ``tol`` or ``max_tries`` rescalings. Runs in eval mode without gradients (dropout
    off, batch-norm running statistics untouched); forward hooks read the outputs. A layer whose
    weight is frozen is neither drawn nor rescaled unless ``include_frozen`` (its output still feeds
    the layers after it). Returns one record per layer it set: name, variance reached, tries.
    """
    if orthonormal_first:
        init(model, "orthogonal", seed=seed, include_frozen=include_frozen)
    layers = [(n, m) for n, m in layers_of(model) if include_frozen or not frozen(m, "weight")]
    seen: dict[nn.Module, torch.Tensor] = {}
    hooks = [m.register_forward_hook(lambda mod, inp, out: seen.__setitem__(mod, out))
             for _, m in layers]
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    data = torch.as_tensor(data).to(device)
    report = []
    try:
        with torch.no_grad():
            model(data)
            order = [m for m in seen]  # dict keeps insertion order = forward order
            names = {m: n for n, m in layers}
            for module in order:
                tries, var = 0, None
                while True:
                    seen.clear()
                    model(data)
                    var = seen[module].float().var().item()  # once per try, not per training step
                    if abs(var - 1.0) < tol or tries >= max_tries or var == 0.0:
                        break
                    _set_weight(module, module.weight / math.sqrt(var))
                    tries += 1
                report.append({"layer": names[module], "variance": var, "tries": tries})
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return report
