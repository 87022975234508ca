"""One training step of a probe's working copy, in the trainer's protocol: the optimizer the
probes build over a copy, the closure some optimizers need, the probe's lr.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from trainwell.babysit.findings import Finding, make
from trainwell.errors import ConfigError
from trainwell.optim.decay import DECOUPLED_KEY
from trainwell.optim.factory import build_optimizer
from trainwell.optim.registry import default_lr
from trainwell.train.loop import needs_closure

SPARSE_TRIAL_ROWS = 8       # rows of the one step that tries the run's optimizer on sparse gradients


def make_optimizer(spec, model: nn.Module, *, lr: float, weight_decay: float = 0.0,
                   total_steps: int | None = None, **options):
    """A probe's optimizer over ``model`` (a working copy): ``build_optimizer`` with the probe's
    ``lr`` and ``weight_decay`` and the run's other ``options`` (an optimizer instance is rebuilt
    over the copy). A callable ``params -> Optimizer`` builds its own groups; the probe still sets
    their lr and weight decay (coupled or decoupled)."""
    opt = build_optimizer(spec, model, lr=lr, weight_decay=weight_decay, total_steps=total_steps, **options)
    if callable(spec) and not isinstance(spec, (str, type, torch.optim.Optimizer)):
        for group in opt.param_groups:
            group["lr"] = lr
            for key in ("weight_decay", DECOUPLED_KEY):
                if key in group:
                    group[key] = weight_decay
    return opt


def take_step(opt, closure) -> None:
    """One step in the trainer's protocol: optimizers that need it get the closure (SAM, Newton,
    L-BFGS evaluate it several times); the others step after one call."""
    if needs_closure(opt):
        opt.step(closure)
    else:
        closure()
        opt.step()


def train_step(net, opt, loss_fn, xb, yb, clip=None, *, after_backward=None) -> torch.Tensor:
    """One training step of a copy on one batch (the trainer's protocol, ``take_step``; ``clip``: a
    global gradient norm; ``after_backward()``: a gradient hook run before it, as the run's hooks
    are): the batch's loss. The experiments' arms and the sizing trials train with it."""
    passes = []

    def closure(backward: bool = True):
        loss = loss_fn(net(xb), yb)
        if backward:
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if after_backward is not None:
                after_backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        passes.append(loss.detach())
        return loss
    take_step(opt, closure)
    return passes[0]


def probe_lr(spec, lr, options=None):
    """The probe's lr: ``lr`` when given, else the optimizer instance's, else the record's
    default (``registry.default_lr``; a wrapper's is its base's)."""
    if lr is not None:
        return float(lr)
    if isinstance(spec, torch.optim.Optimizer):
        return float(spec.param_groups[0]["lr"])
    return default_lr(spec, base=(options or {}).get("base"))


def sparse_gradients(model: nn.Module) -> bool:
    """Whether an embedding of ``model`` was built with ``sparse=True`` (its gradients are sparse)."""
    return any(isinstance(m, (nn.Embedding, nn.EmbeddingBag)) and m.sparse for m in model.modules())


def dense_gradients(model: nn.Module) -> nn.Module:
    """``model`` (a working copy) with its embeddings' gradients dense: the same values, which every
    check can reshape and the babysitter's own reference optimizer (Adam) can step on."""
    for m in model.modules():
        if isinstance(m, (nn.Embedding, nn.EmbeddingBag)):
            m.sparse = False
    return model


class StepRefused(ConfigError):
    """The ``ConfigError`` ``fit``'s first step raises on an embedding's sparse gradients, with the
    ``model_raises`` finding that names it (``finding``): the doctor reports it (the run cannot take
    a step, so nothing else can be measured); fit and the pre-flight raise it as fit would."""

    def __init__(self, message: str, finding: Finding):
        super().__init__(message)
        self.finding = finding


def refused_step(message: str, spec, model: nn.Module) -> StepRefused:
    """``StepRefused`` for the run's optimizer ``spec`` that raised ``message`` on the sparse
    gradients of ``model``'s embeddings (named in the finding's evidence)."""
    names = [name for name, m in model.named_modules()
             if isinstance(m, (nn.Embedding, nn.EmbeddingBag)) and m.sparse]
    name = spec if isinstance(spec, str) else getattr(spec, "__name__", type(spec).__name__)
    finding = make("model_raises", f"the first optimizer step raised ConfigError: {message}",
                   evidence={"stage": "step", "error_type": "ConfigError", "error": message[:1000],
                             "optimizer": str(name), "sparse_modules": names},
                   where=", ".join(names) or None,
                   fix=f"build {', '.join(names) or 'the embeddings'} with sparse=False, or train them with an "
                       "optimizer that takes sparse gradients (SGD, Adagrad, torch.optim.SparseAdam)")
    return StepRefused(message, finding)


def check_sparse_step(model: nn.Module, X, y, loss_fn, spec, *, lr: float, options: dict) -> None:
    """Raise the ``ConfigError`` ``fit`` meets at its first step when the run's optimizer cannot step
    on an embedding's sparse gradients (Adam and RMSprop cannot; SGD, Adagrad and
    ``torch.optim.SparseAdam`` can): one step of it on a copy, a few rows, as ``StepRefused`` with
    its ``model_raises`` finding. Any other failure is left to the checks that name it
    (``model_raises``; another ``ConfigError`` propagates as it is)."""
    trial = copy.deepcopy(model)
    device = next(trial.parameters()).device
    xb, yb = X[:SPARSE_TRIAL_ROWS].to(device), y[:SPARSE_TRIAL_ROWS].to(device)
    opt = make_optimizer(spec, trial, lr=lr, **options)

    def closure(backward: bool = True):
        loss = loss_fn(trial(xb), yb)
        if backward:
            opt.zero_grad(set_to_none=True)
            loss.backward()
        return loss

    try:
        take_step(opt, closure)
    except Exception as exc:        # the model or the loss failing is model_raises' to name
        if refuses_sparse(exc):
            raise refused_step(refusal_message(exc, spec), spec, model) from exc
        if isinstance(exc, ConfigError):
            raise


def refuses_sparse(exc: Exception) -> bool:
    """Whether ``exc``, raised by an optimizer's step on a model with sparse gradients, is the optimizer
    refusing them. Only the message tells: PyTorch's optimizers raise a plain ``RuntimeError`` ("Adam
    does not support sparse gradients, please consider SparseAdam instead", torch/optim/adam.py; RMSprop,
    NAdam, RAdam, Adamax and others alike), a type a failing model or loss raises too, and no optimizer
    declares whether it takes sparse gradients, so no check of its class before the step covers a
    user's optimizer; trainwell's Adam raises a ``ConfigError`` (optim/adam.py), as fit reports it."""
    return isinstance(exc, (ConfigError, RuntimeError)) and "sparse" in str(exc).lower()


def refusal_message(exc: Exception, spec) -> str:
    """The words of an optimizer's refusal of sparse gradients (``refuses_sparse``): trainwell's own
    ``ConfigError`` as it is, PyTorch's ``RuntimeError`` with the optimizer and what to use instead."""
    if isinstance(exc, ConfigError):
        return str(exc)
    return (f"optimizer = {spec!r} cannot step on the sparse gradients of an embedding built with sparse=True "
            f"({exc}); use SGD, Adagrad or torch.optim.SparseAdam for the embeddings, or build them with "
            f"sparse=False")
