"""Mode gaps: a model that computes something different in train mode than in eval mode, where the
difference hurts. Two kinds, each diagnosed by an intervention arm of the doctor's experiment
(interventions.experiment, which measures every arm's loss on held training rows in eval mode):

* **Dropout on the model's output** (``output_dropouts``): a dropout module whose output is the
  model's output (through reshapes that keep values). Dropout is meant for hidden units (Srivastava
  et al. 2014; notes 004: "randomly set some neurons to zero in the forward pass"): a later layer
  learns to read the thinned units, and eval mode's expected value matches. Dropped *outputs* have
  no later layer: in train mode a share p of the predictions is zero and the rest x 1 / (1 - p),
  so under L1 the best train-mode output is (1 - p) y, which eval mode returns as the prediction
  (and any loss is minimized against a target it can only reach in expectation). The arm
  (``OUTPUT_DROPOUT_ARM``) is the same model with those dropout modules removed, the hidden
  dropout kept: a ``regularization_too_strong`` finding when it trains significantly better, with
  ``evidence["output_dropout"]`` naming the modules (the repair removes them: actions'
  ``remove_output_dropout``).
* **Batch norm over tiny batches** (``small_batch_norm``): batch statistics of B rows estimate the
  population's with an error ~ 1 / sqrt(B); over 2 rows every normalized feature is exactly +-1
  (the pair's two values, centred and scaled), so train mode sees a different function from the
  one eval mode computes on the running statistics. Batch norm's error grows quickly below 16 rows
  per batch (Wu & He 2018, Group Normalization, Fig. 1: ResNet-50 on ImageNet, 23.6 % at 32 rows,
  34.7 % at 2). A setup with batch norm at a batch under ``BN_MIN_BATCH`` rows gets the arm
  ``FROZEN_BN_ARM``: every batch-norm layer as its affine layer alone on its (initial, frozen)
  running statistics, on the same batches and steps: a ``batch_norm_small_batch`` finding when it
  trains significantly better. There is no control for the batch size (the epoch's length, the
  schedule and the data position follow it), so the fix is a new run at a batch of at least
  ``BN_MIN_BATCH`` rows, or a per-row normalization (LayerNorm, GroupNorm).
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

from trainwell.babysit.actions import BATCH_NORMS, dropout_rates, set_child
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.hooks import hooks_held
from trainwell.babysit.output_range import VALUE_PRESERVING

OUTPUT_DROPOUT_ARM = "output dropout off"
FROZEN_BN_ARM = "batch statistics off"
BN_MIN_BATCH = 16      # Wu & He 2018 (Group Normalization, Fig. 1): batch norm's error rises quickly below 16
                       # rows per batch (ResNet-50, ImageNet: 23.6 % at 32 and 16 rows, 24.8 % at 8, 34.7 % at 2)
BN_CODE = "batch_norm_small_batch"
DROPOUTS = nn.modules.dropout._DropoutNd     # alpha dropout included (a subclass)


class _Sources(TorchFunctionMode):
    """Records, for each tensor a value-preserving function made in one forward pass, the tensor it
    came from (strong references for the pass)."""

    def __init__(self):
        super().__init__()
        self.made = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        # a dropout followed by ``flatten(0)`` or ``squeeze(1)`` is still on the output
        if isinstance(out, torch.Tensor) and getattr(func, "__name__", "") in VALUE_PRESERVING:
            src = next((a for a in args if isinstance(a, torch.Tensor)), None)
            if src is not out:                  # an in-place op (squeeze_) leaves the same tensor
                self.made[id(out)] = (src, out)
        return out


def output_dropouts(model: nn.Module, x: torch.Tensor) -> list[str]:
    """The names of the dropout modules (p > 0) whose output is the model's output, through
    value-preserving operations, in one train-mode forward pass of a copy of ``model`` on ``x``
    (the random state restored afterwards). ``[]`` when the model raises on ``x``, and without a
    forward pass when it has no dropout module."""
    if not dropout_rates(model):
        return []
    net = copy.deepcopy(model).train()
    made, hooks = {}, []

    def record(name):
        def hook(module, inputs, out):          # returns None: the output is kept as it is
            made[id(out)] = (name, out)
        return hook
    for name, m in net.named_modules():
        if isinstance(m, DROPOUTS) and getattr(m, "p", 0) > 0:
            hooks.append(m.register_forward_hook(record(name)))
    sources = _Sources()
    devices = [x.device.index or 0] if x.is_cuda else []
    try:
        with hooks_held(hooks), torch.random.fork_rng(devices=devices), torch.no_grad(), sources:
            out = net(x)
    except Exception:           # a model that raises is model_checks' finding, not this one's
        return []
    t, found, seen = out, [], 0
    while isinstance(t, torch.Tensor) and seen < 64:
        if id(t) in made:
            found.append(made[id(t)][0])
        if id(t) not in sources.made:
            break
        t, seen = sources.made[id(t)][0], seen + 1
    if isinstance(t, torch.Tensor) and id(t) in made and made[id(t)][0] not in found:
        found.append(made[id(t)][0])
    return found


def batch_norms(model: nn.Module) -> list[str]:
    """The names of the model's batch-norm layers (those that normalize with batch statistics in
    train mode)."""
    return [name for name, m in model.named_modules() if isinstance(m, BATCH_NORMS)]


def small_batch_norm(model: nn.Module, batch_size: int | None) -> bool:
    """The model has batch norm and the run's batch is under ``BN_MIN_BATCH`` rows."""
    return batch_size is not None and batch_size < BN_MIN_BATCH and bool(batch_norms(model))


class FrozenBatchNorm(nn.Module):
    """A batch-norm layer's affine transform on its running statistics, in train mode too (the
    statistics are not updated): what eval mode computes, without batch statistics."""

    def __init__(self, bn: nn.modules.batchnorm._BatchNorm):
        super().__init__()
        self.bn = bn

    def forward(self, x):
        bn = self.bn
        mean = bn.running_mean if bn.running_mean is not None else torch.zeros(bn.num_features, device=x.device)
        var = bn.running_var if bn.running_var is not None else torch.ones(bn.num_features, device=x.device)
        return F.batch_norm(x, mean, var, bn.weight, bn.bias, training=False, eps=bn.eps)


def freeze_batch_norms(net: nn.Module, seed: int = 0) -> None:
    """Every batch-norm layer of ``net`` replaced by its ``FrozenBatchNorm`` (in place; the
    experiment's edit signature ``(net, seed)``)."""
    for name in batch_norms(net):
        set_child(net, name, FrozenBatchNorm(net.get_submodule(name)))


def _without(names):
    def edit(net, seed=0):
        for name in names:
            set_child(net, name, nn.Identity())
    return edit


def arms(model: nn.Module, *, x: torch.Tensor | None, batch_size: int | None) -> list:
    """The experiment's mode-gap arms for this setup, each ``(name, code, change, extra, edit)``
    (``interventions.candidate_arms`` makes each an ``Arm`` trained with the setup's ``lr``,
    ``weight_decay`` and ``options``): the output dropout removed when the model has one (on the
    rows ``x``), the batch statistics off when it has batch norm and the run's batch is under
    ``BN_MIN_BATCH`` rows."""
    out = []
    names = output_dropouts(model, x) if x is not None else []
    if names:
        rates = [model.get_submodule(n).p for n in names]
        out.append((OUTPUT_DROPOUT_ARM, "regularization_too_strong",
                    f"no dropout on the outputs instead of {', '.join(names)} (p = {max(rates):g}) after the "
                    f"output layer",
                    {"model_change": True, "specific": True, "output_dropout": names,
                     "fix": "remove the dropout after the output layer (dropout belongs on hidden units: "
                            "Srivastava et al. 2014); keep the hidden layers' dropout"},
                    _without(names)))
    norms = batch_norms(model)
    if small_batch_norm(model, batch_size):
        out.append((FROZEN_BN_ARM, BN_CODE,
                    f"the {len(norms)} batch-norm layers on fixed statistics instead of batch statistics "
                    f"over {batch_size} rows",
                    {"model_change": True, "batch_norms": norms, "run_batch_size": batch_size,
                     "fix": f"batch_size >= {BN_MIN_BATCH} (a new run), or LayerNorm / GroupNorm in place of "
                            f"BatchNorm (Wu & He 2018: batch norm degrades below {BN_MIN_BATCH} rows a batch)"},
                    freeze_batch_norms))
    return out


# ---------------------------------------------------------------- measured, structure-free mode gap
# What a model computes in eval mode, measured on the same rows as train mode, whatever module makes
# the difference (a functional dropout left on, a noise layer, a hand-written eval path, batch norm
# whose running statistics do not track the batches): no module type is named.
#
# * Eval mode is a function: the same rows give the same outputs whatever the random state
#   (dropout's eval mode is the identity, batch norm's reads fixed statistics). Outputs that differ
#   between two eval passes under different seeds by more than float rounding are random in eval
#   mode (``EVAL_RANDOM_TOL``, relative to the outputs' scale).
# * On the same rows, eval mode should not be much worse than train mode: train mode adds noise
#   (dropout's masks, batch statistics over a batch), which raises the loss; eval mode removes it
#   (dropout's expected value, batch norm's population statistics: Srivastava et al. 2014, Ioffe &
#   Szegedy 2015). A train-mode loss well under eval mode's on the same rows means the eval path
#   computes another function than the one trained: ``eval_worse`` when eval's loss exceeds
#   train's by more than ``EVAL_GAP`` x (|train's loss| + ``LOSS_FLOOR``). A difference, not a
#   ratio: a loss may be negative (a Poisson or Gaussian NLL without its constant), and equal
#   losses are never a gap; the floor keeps a fitted model's near-zero train loss from making any
#   small gap large.
# * Running statistics lag the weights while they move: batch norm's running mean is an average over
#   past batches (momentum 0.1 by default: about the last 10), so after a few fast steps eval mode
#   normalizes by statistics of older weights, a transient that more steps remove (healthy residual
#   nets at 100 steps of momentum SGD show eval losses 2x train's). Before eval mode is measured,
#   the copy runs ``SETTLE_PASSES`` train-mode forward passes (no gradient, weights fixed) over the
#   same rows, so every running statistic that follows the batches at its own rate reaches the
#   statistics train mode used on those rows (a subset's would differ from them by its sampling
#   error, which a model with large feature means turns into a gap); one that does not follow them
#   (momentum 0, a hand-written statistic never updated) keeps its gap. Skipped for a model without
#   buffers (nothing to settle).
SETTLE_PASSES = 44          # (1 - 0.1) ** 44 < 0.01: at PyTorch's default momentum 0.1, under 1 % of the lag is left
EVAL_RANDOM_TOL = 1e-4      # float32 rounding of a deterministic forward pass is ~1e-7 relative: 1e-4 is far above it
EVAL_GAP = 0.5              # eval-mode loss above the train-mode loss by over half of ...
LOSS_FLOOR = 0.05           # ... |train's loss| + 0.05 (a loss near 0 makes any relative gap large)
# * What eval mode's randomness costs is measured, not assumed: for a loss convex in the outputs
#   (cross-entropy in the logits, squared or absolute error) the mean loss of single random draws
#   exceeds the loss of their average prediction by a Jensen gap that grows with the draws' variance
#   (Jensen's inequality); the average over draws is what a deterministic eval path predicts (dropout's
#   expected value, an RNN's state at its mean). ``random_cost`` = that gap over ``EVAL_DRAWS`` draws
#   relative to (|loss of the average| + ``LOSS_FLOOR``). With class ids the cost is read as the
#   experiment reads every arm, in accuracy (``random_hurts``: the average right on at least the
#   caller's ``interventions.MIN_LIFT`` more of the rows than one draw; a near-zero loss moved a few
#   percent classifies the same: a random initial RNN state the sequence washes out); without them,
#   ``random_cost`` against ``EVAL_RANDOM_LOSS``. Under either the finding is ``info``; dropout left on
#   in eval mode thins every prediction, and averaging its draws classifies measurably better.
EVAL_DRAWS = 8              # eval passes under different seeds: their average keeps 1/8 of one draw's variance, so
                            # the gap measured is 7/8 of the full one (the rest is the average's own noise)
EVAL_RANDOM_LOSS = 0.01     # the randomness costs under 1 % of (|loss| + LOSS_FLOOR) against its average: info


def mode_losses(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn, *, seed: int = 0) -> dict:
    """The loss of the rows ``(x, y)`` through a copy of ``model`` in train mode (random draws from
    ``seed``; batch norm on the batch's statistics, its running statistics updated on the copy only)
    and, after ``SETTLE_PASSES`` train-mode passes over ``x`` (a model with buffers),
    in eval mode twice (seeds ``seed + 1`` and ``seed + 2``), without gradients, the caller's
    random state restored: ``{"train": loss, "eval": loss, "eval_again": the second's loss, "eval_spread":
    max |out1 - out2| / (max |out1| + 1e-12)}``; where the two differ (``eval_spread`` over
    ``EVAL_RANDOM_TOL``) also ``"eval_draws"``: the mean loss of ``EVAL_DRAWS`` eval passes (seeds
    ``seed + 1`` ...) and ``"eval_average"``: the loss of their average output, and with class ids
    ``"acc_draws"`` and ``"acc_average"``: the same two as accuracies. Losses are floats (NaN when
    ``loss_fn`` does not return one number)."""
    net = copy.deepcopy(model)
    devices = [x.device.index or 0] if x.is_cuda else []

    def run(mode_train: bool, s: int):
        net.train(mode_train)
        torch.manual_seed(s)
        return net(x)

    def value(out) -> float:
        v = loss_fn(out, y)
        return float(v) if isinstance(v, torch.Tensor) and v.numel() == 1 else float("nan")
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        train_out = run(True, seed)
        if any(True for _ in net.buffers()):
            net.train()
            for _ in range(SETTLE_PASSES):
                net(x)
        e1, e2 = run(False, seed + 1), run(False, seed + 2)
        spread = float((e1 - e2).abs().max() / (e1.abs().max() + 1e-12)) if e1.numel() else 0.0
        out = {"train": value(train_out), "eval": value(e1), "eval_again": value(e2), "eval_spread": spread}
        if spread > EVAL_RANDOM_TOL:
            draws = [e1, e2] + [run(False, seed + k) for k in range(3, EVAL_DRAWS + 1)]
            average = torch.stack(draws).mean(dim=0)
            out["eval_draws"] = sum(value(d) for d in draws) / len(draws)
            out["eval_average"] = value(average)
            if not torch.is_floating_point(y) and y.ndim == 1 and average.ndim == 2 and average.shape[1] > 1:
                out["acc_draws"] = sum(accuracy(d, y) for d in draws) / len(draws)
                out["acc_average"] = accuracy(average, y)
    return out


def accuracy(out: torch.Tensor, y: torch.Tensor) -> float:
    """The share of rows whose largest output is their class id."""
    return float((out.argmax(dim=-1) == y).float().mean())


def mode_fault(losses: dict) -> str | None:
    """What ``mode_losses`` says is wrong: ``"eval_random"`` (eval mode's outputs depend on the random
    state), ``"eval_worse"`` (eval mode's loss above train mode's by ``EVAL_GAP`` x (|train's| + ``LOSS_FLOOR``) on
    the same rows), or None."""
    if losses["eval_spread"] > EVAL_RANDOM_TOL:
        return "eval_random"
    train, ev = losses["train"], losses["eval"]
    if math.isfinite(train) and math.isfinite(ev) and ev - train > EVAL_GAP * (abs(train) + LOSS_FLOOR):
        return "eval_worse"
    return None


def measure(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn, *, seed: int = 0) -> dict | None:
    """``mode_losses``, or None when the model or the loss raises on the rows in either mode (a
    model that raises is model_checks' finding, not this one's)."""
    try:
        return mode_losses(model, x, y, loss_fn, seed=seed)
    except Exception:
        return None


def random_cost(losses: dict) -> float | None:
    """What eval mode's randomness costs the loss: (the mean loss of single draws - the loss of their
    average output) / (|the average's loss| + ``LOSS_FLOOR``) (None when either is missing or not a
    finite number)."""
    a, b = losses.get("eval_draws", float("nan")), losses.get("eval_average", float("nan"))
    if not (math.isfinite(a) and math.isfinite(b)):
        return None
    return (a - b) / (abs(b) + LOSS_FLOOR)


def random_hurts(losses: dict, *, min_lift: float) -> bool | None:
    """Eval mode's randomness costs the predictions something measurable: with class ids (accuracies
    measured), the average prediction classifies at least ``min_lift`` more of the rows right than a
    single draw (the caller's ``interventions.MIN_LIFT``: the experiment's measure of a change that
    matters; what decides whether a setup is broken is how well it classifies, not how small a
    near-zero loss gets); otherwise ``random_cost`` >= ``EVAL_RANDOM_LOSS``. None when neither was
    measured."""
    if losses.get("acc_average") is not None and losses.get("acc_draws") is not None:
        return losses["acc_average"] - losses["acc_draws"] >= min_lift
    cost = random_cost(losses)
    return None if cost is None else cost >= EVAL_RANDOM_LOSS


def findings(baseline, *, min_lift: float) -> list[Finding]:
    """An ``eval_mode_gap`` warning from the doctor's experiment's setup arm
    (``baseline.extra["mode_losses"]``, measured by ``interventions.experiment`` after its steps),
    or ``[]``; randomness in eval mode that costs the predictions under ``min_lift`` of accuracy
    (``random_hurts``) is ``info``."""
    losses = baseline.extra.get("mode_losses") if baseline is not None else None
    kind = mode_fault(losses) if losses else None
    if kind is None:
        return []
    evidence = {**losses, "kind": kind, "steps": baseline.steps}
    if kind == "eval_random":
        cost, hurts = random_cost(losses), random_hurts(losses, min_lift=min_lift)
        said = "" if cost is None else (
            f"; averaged over {EVAL_DRAWS} draws the predictions' loss is {losses['eval_average']:.4g} against "
            f"{losses['eval_draws']:.4g} for one draw")
        if losses.get("acc_average") is not None:
            said += (f", {100 * losses['acc_average']:.1f}% of the rows right against {100 * losses['acc_draws']:.1f}%"
                     f" for one draw")
        return [make("eval_mode_gap", f"in eval mode the same rows give different outputs under two random "
                     f"seeds (they differ by {losses['eval_spread']:.2g} of their scale): something random is "
                     f"still on in eval mode{said}" + (": the predictions are not reproducible, but the randomness "
                                                       "costs them nothing measurable" if hurts is False else ""),
                     evidence={**evidence, "random_cost": cost, "hurts": hurts},
                     severity="info" if hurts is False else None)]
    return [make("eval_mode_gap", f"after {baseline.steps} steps the held training rows' loss is "
                 f"{losses['eval']:.4g} in eval mode against {losses['train']:.4g} in train mode on the same rows: "
                 f"eval mode computes another function than the one trained", evidence=evidence)]
