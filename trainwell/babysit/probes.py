"""Probes: the measured quantities the babysitter's checks and rules read.

* ``ActivationRecorder`` — per-layer activation mean / std / fraction saturated / fraction dead
  (notes 004's activation-statistics experiment). It intercepts the activation *functions*
  (``F.relu``, ``torch.tanh``, ``x.sigmoid()``, ... and so the ``nn.ReLU`` modules that call
  them) with a ``TorchFunctionMode``, so models that call activations functionally in their
  ``forward`` are measured too; forward hooks on every module give each call a layer name.
* ``gradient_norms`` / ``UpdateProbe`` — per-parameter gradient norms and the update/weight
  ratio ||Δw|| / ||w|| (notes 001: "track ratio of weight updates / weight magnitudes").

Everything stays on the device as tensors; ``stats()`` / ``read()`` sync the host once. Use
them only on sampled steps: outside a ``with`` block nothing is hooked.
"""
from __future__ import annotations

import math

import torch
from torch.overrides import TorchFunctionMode

# Activation function names -> family. "relu": a unit is dead when it is never positive
# (notes 004 "dead unit"); "tanh" saturates at |a| -> 1, "sigmoid" at a -> 0 or 1 (notes 004
# "saturated neurons kill the gradients"); "other": statistics only (LeakyReLU cannot die).
ACTIVATION_FAMILIES = {
    "relu": "relu", "relu_": "relu", "relu6": "relu", "elu": "relu", "elu_": "relu",
    "celu": "relu", "selu": "relu", "gelu": "relu", "silu": "relu", "mish": "relu",
    "tanh": "tanh", "tanh_": "tanh", "hardtanh": "tanh", "hardtanh_": "tanh",
    "sigmoid": "sigmoid", "sigmoid_": "sigmoid", "hardsigmoid": "sigmoid",
    "leaky_relu": "other", "leaky_relu_": "other", "prelu": "other", "rrelu": "other",
    "softplus": "other", "hardswish": "other",
}
TANH_SATURATION = 0.99       # |tanh| > 0.99: derivative 1 - a^2 < 0.02
SIGMOID_SATURATION = 0.01    # sigmoid < 0.01 or > 0.99: derivative a(1 - a) < 0.0099
STAT_NAMES = ("mean", "std", "saturated", "dead", "nonfinite", "signal")


def _func_name(func) -> str:
    return getattr(func, "__name__", str(func))


def activation_statistics(a: torch.Tensor, family: str) -> torch.Tensor:
    """[mean, std, fraction saturated, fraction of dead units, count non-finite, signal] as a tensor.

    A unit is a feature (dim 1 of an (N, C, ...) tensor: a channel for convolutions); it is dead
    when its output is never positive over the batch and positions. ``signal`` is the RMS over
    units of each unit's std across the batch (and positions): what varies with the input. With
    nonzero biases a layer can keep a large ``std`` (across units) while every unit outputs the
    same value for every example. Undefined entries are NaN.
    """
    a = a.detach().float()
    nan = torch.full((), float("nan"), device=a.device)
    finite = torch.isfinite(a)
    nonfinite = (~finite).sum().float()
    safe = torch.where(finite, a, torch.zeros((), device=a.device))
    mean, std = safe.mean(), safe.std() if safe.numel() > 1 else nan
    if family == "tanh":
        saturated = (safe.abs() > TANH_SATURATION).float().mean()
    elif family == "sigmoid":
        saturated = ((safe < SIGMOID_SATURATION) | (safe > 1 - SIGMOID_SATURATION)).float().mean()
    else:
        saturated = nan
    if family == "relu" and a.ndim >= 2 and a.shape[0] > 1:
        alive = (safe > 0).transpose(0, 1).reshape(a.shape[1], -1).any(dim=1)
        dead = 1.0 - alive.float().mean()
    else:
        dead = nan
    return torch.stack([mean, std, saturated, dead, nonfinite, unit_signal(safe)])


class _ActivationMode(TorchFunctionMode):
    def __init__(self, recorder):
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        family = ACTIVATION_FAMILIES.get(_func_name(func))
        if family is not None and isinstance(out, torch.Tensor) and out.is_floating_point():
            self.recorder._record(_func_name(func), family, out)
        return out


class ActivationRecorder:
    """Records activation statistics of every activation call made while active.

    ``with ActivationRecorder(model) as rec: out = model(x)``, then ``rec.stats(exclude=out)``
    -> ``{layer: {"family", "mean", "std", "saturated", "dead", "nonfinite"}}`` in call order.
    Layer names: the activation module's name (``net.1``), or ``<module>.<fn>#k`` for a
    functional call inside ``<module>`` (``model.relu#0`` for the root's forward).
    ``start()`` / ``stop()`` do the same across two callback hooks.
    """

    def __init__(self, model: torch.nn.Module):
        self.model = model
        self._handles = []
        self._stack: list[str] = []
        self._calls: dict = {}
        self._records: list = []      # (name, family, stats tensor, output id)
        self._leaf: dict = {}
        self._mode = None

    # --------------------------------------------------------------- hooking
    def start(self) -> "ActivationRecorder":
        self._records, self._calls, self._stack = [], {}, []
        self._leaf = {}
        for name, module in self.model.named_modules():
            self._leaf[name or "model"] = not any(True for _ in module.children())
            self._handles.append(module.register_forward_pre_hook(self._push(name or "model")))
            self._handles.append(module.register_forward_hook(self._pop))
        self._mode = _ActivationMode(self)
        self._mode.__enter__()
        return self

    def stop(self) -> None:
        if self._mode is not None:
            self._mode.__exit__(None, None, None)
            self._mode = None
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _push(self, name):
        def hook(module, args):
            self._stack.append(name)
        return hook

    def _pop(self, module, args, output):
        if self._stack:
            self._stack.pop()

    def _record(self, fn: str, family: str, out: torch.Tensor):
        owner = self._stack[-1] if self._stack else "model"
        is_leaf = self._leaf.get(owner, False)
        key = (owner, fn if not is_leaf else "")
        k = self._calls.get(key, 0)
        self._calls[key] = k + 1
        name = owner if is_leaf and k == 0 else (f"{owner}#{k}" if is_leaf else f"{owner}.{fn}#{k}")
        self._records.append((name, family, activation_statistics(out, family), id(out)))

    # --------------------------------------------------------------- reading
    def stats(self, *, exclude: torch.Tensor | None = None) -> dict:
        """Per-layer statistics (one host sync). ``exclude``: the model's output, so that an
        output activation (a final sigmoid) is not counted as a hidden layer."""
        records = [r for r in self._records if exclude is None or r[3] != id(exclude)]
        if not records:
            return {}
        values = torch.stack([r[2] for r in records]).tolist()
        out = {}
        for (name, family, _, _), row in zip(records, values):
            entry = {"family": family}
            entry.update({k: (None if isinstance(v, float) and math.isnan(v) else v)
                          for k, v in zip(STAT_NAMES, row)})
            out[name] = entry
        return out


def weight_parameters(model: torch.nn.Module) -> list[tuple[str, torch.Tensor]]:
    """The trainable weight matrices / kernels (ndim >= 2): the 'layers' of the per-layer checks.
    Biases and norm gains (ndim <= 1) are left out: a zero-initialized bias has no ratio."""
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad and p.ndim >= 2]


def gradient_norms(params: list[torch.Tensor]) -> torch.Tensor:
    """||grad|| per parameter as one device tensor (0 where a parameter has no gradient)."""
    grads = [p.grad.detach() if p.grad is not None else torch.zeros((), device=p.device) for p in params]
    if not grads:
        return torch.zeros(0)
    return torch.stack(torch._foreach_norm(grads)).float()


class UpdateProbe:
    """||w_after - w_before|| / ||w_before|| per parameter: call ``before`` ahead of the optimizer
    step and ``after`` once it has run; ``after`` returns device tensors (no sync)."""

    def __init__(self, params: list[torch.Tensor]):
        self.params = list(params)
        self._snapshot = None

    def before(self) -> None:
        self._snapshot = [p.detach().clone() for p in self.params]

    def after(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(update norms, weight norms before the step), each one value per parameter."""
        if self._snapshot is None or not self.params:
            raise RuntimeError("UpdateProbe.after() called without before()")
        now = [p.detach() for p in self.params]
        deltas = torch._foreach_sub(now, self._snapshot)
        update = torch.stack(torch._foreach_norm(deltas)).float()
        weight = torch.stack(torch._foreach_norm(self._snapshot)).float()
        self._snapshot = None
        return update, weight


def unit_signal(a: torch.Tensor) -> torch.Tensor:
    """sqrt(mean over units of the variance across the batch and positions), NaN for < 2 rows."""
    if a.ndim < 2 or a.shape[0] < 2:
        return torch.full((), float("nan"), device=a.device)
    per_unit = a.transpose(0, 1).reshape(a.shape[1], -1)
    return per_unit.var(dim=1).mean().sqrt()


def input_signal(x: torch.Tensor) -> float:
    """``unit_signal`` of a batch of inputs (features as units; 0 for non-float inputs)."""
    if not torch.is_floating_point(x) or x.ndim < 2:
        return 0.0
    value = float(unit_signal(torch.nan_to_num(x.detach().float(), nan=0.0, posinf=0.0, neginf=0.0)))
    return value if math.isfinite(value) else 0.0


def input_std(x: torch.Tensor) -> float:
    """The standard deviation of a batch of inputs over all elements (0 for non-float inputs)."""
    if not torch.is_floating_point(x):
        return 0.0
    x = x.detach().float()
    return float(torch.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0).std())
