"""Diagnosis by intervention: try each candidate fix on a copy for a few steps, keep what helps.

The notes' sanity checks are experiments ("crank up regularization: the loss should go up";
"overfit a small subset"), not thresholds alone. Here each candidate change of the setup (the lr
x0.1, x10 and x100, the weight decay / 100, dropout off, each other regularizer of the run's
Config lowered or off (``regularization_arms``: l1 and l2 / 100, max_norm, label smoothing,
clip_value), the optimizer's own options such as Adam's eps back at their defaults) trains a copy of the model for ``STEPS`` minibatch steps from
the same weights on the same batches as the setup itself (the *baseline*), and the training loss
of every copy is measured on the same held batch of training rows in eval mode. Every copy trains
with the run's own regularizers, built from the Config by the builders fit uses
(train/regularizers.py: the penalty, the max-norm constraint, the loss with label smoothing). A change whose
copy learns while the baseline does not is evidence that its setting is the cause, stated as
"with lr 0.05 instead of 0.0005 the loss fell 40% in 30 steps; the setup's own fell 1%".

``experiment(...)`` returns every arm's outcome (an ``Arm`` each); ``findings(...)`` turns the
arms that help into findings, strongest first (``evidence["intervention"]`` holds the numbers and
``evidence["rank"]`` its place among the causes found this way, which ``Diagnosis.ranked`` reads).

**Symptoms are graded by whether they hurt.** A pre-flight symptom (saturated, vanishing,
exploding or dead units, an over-confident initial loss, unnormalized inputs) is a fact about the
start; whether it is a *problem* is an experiment: ``experiment(..., symptoms=codes)`` also trains
the fix each code's record names (``registry.CODES[code].graded_by``: a re-initialization, the
output layer shrunk, the inputs standardized; ``SYMPTOM_ARMS``) and a *repeat* of the setup on
other batches and dropout masks (the run's own noise). ``grade(...)`` keeps a symptom a warning
only when a fix trains ``significant``-ly better than the setup: with class ids, its accuracy on
the held rows is higher by more than ``NOISE_FACTOR`` x the repeat's difference and ``SAMPLING_Z``
standard errors; otherwise its loss ends lower by more than ``NOISE_FACTOR`` x the repeat's
difference (of the losses' logs where they are > 0: a loss varies in proportion to its size) and at
least ``MIN_GAIN`` of the starting loss, or by the kill rule's ratio
(``KILL_RATIO``) and ``MIN_POINTS`` of the start (both relative to the run, no absolute loss
level). Else the symptom becomes ``info`` ("present, but the fix does not train better").
The same test guards the setting arms (``helpful``), so a near-zero loss that a change makes
smaller still is no cause.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from trainwell.babysit.actions import (OUTPUT_ACTIVATIONS, Plan, dropout_rates, hidden_sigmoids, last_weight_layer,
                                       make_plan, reinitialize, relu_for_saturating, set_child)
from trainwell.babysit import mode_gap
from trainwell.babysit import module_use
from trainwell.babysit import pooled_units
from trainwell.babysit.budget import Budget
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.heavy_tails import quantile_arm
from trainwell.babysit.loss_kinds import resolve_loss
from trainwell.babysit.plans import SHRINK_SCALE
from trainwell.babysit.probe_steps import make_optimizer, train_step
from trainwell.babysit.regularization_check import scale_free_penalty
from trainwell.babysit.registry import CODES
from trainwell.optim.penalties import GradientNoise
from trainwell.optim.registry import OPTIMIZERS
from trainwell.train.regularizers import OFF, build_constraint, build_loss, build_penalty
from trainwell.errors import TrainwellError
from trainwell.nn.losses import REGRESSION_LOSSES

STEPS = 100           # minibatch steps per arm: "a few steps" (issue 11), about an epoch of a small set
POOL_ROWS = 2048      # the batches are drawn from these training rows (a seeded permutation)
EVAL_ROWS = 512       # the held batch every arm's loss is measured on
STUCK = 0.05          # the setup barely learns: its loss fell < 5% in STEPS steps (rules.BARELY's 5%)
HELPS = 0.2           # a change helps when its loss fell >= 20% in the same steps ...
HELP_RATIO = 3.0      # ... and >= 3x what the setup's own fell (lr arms), or ends at <= 1/3 of the
                      # setup's loss (setting arms: the decay, dropout, the optimizer's options)
RESET_OPTIONS = {"eps": None, "betas": None, "bias_correction": None, "alpha": None}
LR_CODES = ("lr_too_high", "lr_too_low")
RAISE_CODE = "lr_too_low"   # a raised lr wins a run's first steps whatever its end (``matched_trained_on``): where the
                            # repeat trained on too, it must lead both runs of the setup by MIN_LIFT as one statistic
                            # (``caught_up``), not one draw of their spread by separate margins
RAISE_SEED = 2            # the repeat's batches trained on for a raised lr: seed + 7919 + 1 + 2
CHECK_EVERY = 10      # an arm whose weights became non-finite stops (one host read per 10 steps)
DEFAULTS = {"eps": None, "betas": (0.9, 0.999), "bias_correction": True, "alpha": None,
            "dampening": 0.0,   # SGD's: a dampening d scales each gradient into the momentum by 1 - d
            "maximize": False}  # torch's optimizers': maximize=True steps up the gradient, climbing the loss
NOISE_FACTOR = 3.0    # a change is significant when its loss ends lower than the setup's by more than 3x
                      # the difference between two runs of the unchanged setup (other batches and masks) ...
MIN_GAIN = 0.1        # ... and by at least 10% of the starting loss: a change that recovers less of what
                      # there is to learn in STEPS steps changes the speed, not whether the setup learns
KILL_RATIO = 1.25     # ... or, without accuracies (regression), in the user's own measure: its loss ends at most
                      # 1 / 1.25 of the setup's (issue 11's kill rule: MSE / Var(y) = 1 - R^2 25% higher is a
                      # setup that trains measurably worse) ...
MIN_POINTS = 0.02     # ... and lower by at least 2% of the starting loss (2 points of R^2 when the start is
                      # Var(y): issue 11's "within 2 points" of a repair), so a near-zero loss made smaller
                      # is still no cause
SAMPLING_Z = 2.0      # ... and, for accuracies, by more than 2 standard errors of the held rows' sampling
MIN_LIFT = 0.03       # ... and by at least 3 points: issue 11's measure of a setup that trains measurably
                      # worse (a "killed" mutant: >= 3 points of validation accuracy); a smaller lift after
                      # STEPS steps is a setup that learns a little slower, not one that ends worse
REPEAT_SEED = 7919    # the repeat's batches and dropout masks: seed + 7919 (any other stream works)
MIN_STEPS = 20        # with a budget, every arm runs the same steps, as many as the budget affords for
                      # all of them (at the cost model's price of a step: budget.py), at least 20 and at most
TIME_SAFETY = 1.5     # STEPS: a slow setup (a ResNet) tries every change for fewer steps rather than a few
                      # changes for all of them (1.5: the held-row evaluations, the longer runs' extra steps)
LONGER = 3            # when a change helped, the setup and that change train on to 3x the arms' steps (never
                      # beyond the run) and are compared again: a change that helps only the first hundred steps
                      # is no cause of how the run ends (measured, where ``trend`` extrapolates)
LONGER_SEED = 1       # the further steps' dropout masks: seed + 1
MODE_ROWS = 64        # the held rows the mode-gap arms' structural check runs the model on (mode_gap.py)
GRADED = "graded"     # an error's evidence key: graded by its fix like a symptom (``grade``)


@dataclass(frozen=True)
class Change:
    """What an arm that changes a setting changes, as values: ``new``, the setting the arm trains with
    as a user would set it (``lr 0.05``, ``dropout off``), and ``old``, the setup's (``0.0005``, ``p =
    0.5``). The arm's change in words (``said``) and its finding's fix (``use`` the new setting,
    ``_fix``) are both built from them."""

    new: str
    old: str

    @property
    def said(self) -> str:
        return f"{self.new} instead of {self.old}"


@dataclass
class Arm:
    """One intervention: ``name`` (what changed), ``code`` (the cause it tests), the ``change``
    in words (``setting``: the values it is built from, for an arm that changes a setting), the
    eval loss before and after ``steps`` steps and the relative fall."""

    name: str
    code: str
    change: str
    before: float = math.nan
    after: float = math.nan
    steps: int = 0
    fit_fall: float = math.nan      # the relative fall of the training batches' own loss
    acc: float | None = None        # class-id targets: the accuracy on the held rows after the steps
    rows: int = 0                   # ... of this many held rows
    extra: dict = field(default_factory=dict)
    mid_after: float = math.nan     # every arm: the held loss ...
    mid_acc: float | None = None    # ... and accuracy half-way (``trend`` reads them)
    mid_steps: int = 0
    longer: "Arm | None" = None     # the same arm trained on to ``LONGER`` x the steps (``caught_up``)
    setting: Change | None = None

    @property
    def fall(self) -> float:
        """(before - after) / |before|; -inf when the loss became non-finite."""
        if not math.isfinite(self.after):
            return -math.inf
        return (self.before - self.after) / max(abs(self.before), 1e-12)


def setting_arm(name: str, code: str, change: Change, **fields) -> Arm:
    """An arm that changes one setting, its change in words built from ``change``'s values."""
    return Arm(name, code, change.said, setting=change, **fields)


def noise(baseline: Arm, repeat: Arm | None) -> float:
    """The run's own noise: the difference of the final losses of two runs of the unchanged setup
    (0 without a repeat; inf when one of them diverged)."""
    if repeat is None or repeat.extra.get("timed_out"):
        return 0.0
    if not (math.isfinite(baseline.after) and math.isfinite(repeat.after)):
        return math.inf if math.isfinite(baseline.after) != math.isfinite(repeat.after) else 0.0
    return abs(baseline.after - repeat.after)


def repeat_of(arms: list[Arm]) -> Arm | None:
    """The experiment's repeat of the setup on other batches (``repeat=True``), timed out or not: the
    noise yardstick ``significant`` reads; None when it did not run."""
    return next((a for a in arms if a.extra.get("repeat")), None)


def finished_repeat(arms: list[Arm]) -> Arm | None:
    """The experiment's repeat of the setup on other batches (``repeat=True``), None when it timed
    out or did not run: the noise yardstick the run-option checks need before they grade an arm."""
    return next((a for a in arms if a.extra.get("repeat") and not a.extra.get("timed_out")), None)


def gain(baseline: Arm, arm: Arm) -> float:
    """How much lower the arm's loss ends than the setup's (inf: only the setup's is non-finite)."""
    if not math.isfinite(arm.after):
        return -math.inf
    if not math.isfinite(baseline.after):
        return math.inf
    return baseline.after - arm.after


def log_noise(baseline: Arm, repeat: Arm | None) -> float | None:
    """The run's own noise on the loss's log scale: |log(setup) - log(repeat)| of the two runs' final
    losses (0 without a repeat; inf when one of them diverged); None where a loss is <= 0 (a Gaussian
    NLL's), whose log is undefined."""
    spread = noise(baseline, repeat)
    if spread == 0.0 or not math.isfinite(spread):
        return spread
    if baseline.after <= 0 or repeat.after <= 0:
        return None
    return abs(math.log(baseline.after / repeat.after))


def lower_beyond_noise(baseline: Arm, arm: Arm, ref: Arm, repeat: Arm | None) -> bool:
    """The arm's final loss is lower than the setup's by more than ``NOISE_FACTOR`` x the run's noise,
    the difference of ``ref``'s and ``repeat``'s (two runs of the unchanged setup) final losses. A
    training loss varies in proportion to its size (a loss 8x lower varies about 8x less), so where
    every loss compared is > 0 the test is on their logs: log(setup) - log(arm) > ``NOISE_FACTOR`` x
    |log(ref) - log(repeat)|. An unstable setup whose repeat ends at 1.36 against its 2.0 (a spread of
    0.64) then still tells a fix that ends at 0.077 (a 26-fold fall, 3.3 against 3 x 0.39), which the
    difference of the losses (1.92 against 3 x 0.64) calls noise. A loss <= 0 (a Gaussian NLL) has no
    log: there the losses' difference is tested, the noise scaled from ``ref``'s loss to the setup's."""
    spread = log_noise(ref, repeat)
    if spread is not None and min(baseline.after, arm.after) > 0:
        return math.log(baseline.after / arm.after) > NOISE_FACTOR * spread
    spread = noise(ref, repeat)
    if ref is not baseline and math.isfinite(spread) and ref.after > 0:
        spread *= abs(baseline.after) / ref.after
    return gain(baseline, arm) > NOISE_FACTOR * spread


def significant(baseline: Arm, arm: Arm, repeat: Arm | None, *, by_loss: bool = False,
                noise_of: Arm | None = None) -> bool:
    """The arm trains better than the setup beyond the run's noise. With class ids (accuracies
    measured): its accuracy on the held rows is higher by more than ``NOISE_FACTOR`` x the repeat's
    difference, by more than ``SAMPLING_Z`` standard errors of a difference of two accuracies
    on those rows and by at least ``MIN_LIFT`` (what decides whether a setup is broken is how well
    it classifies unseen rows, not how small a near-zero loss gets). Otherwise: its loss ends lower
    than the setup's by more than ``NOISE_FACTOR`` x the run's noise (``lower_beyond_noise``: on the
    losses' log scale where they are > 0) and by at least ``MIN_GAIN`` of the starting loss (the
    smaller of the two starts: a change of the model moves its own start),
    or, measured as the kill rule measures a regression (the residual's ratio, R^2 points), at most
    1 / ``KILL_RATIO`` of the setup's loss and lower by at least ``MIN_POINTS`` of the start: a
    weight decay that holds a regression's held loss at 0.099 where less decay reaches 0.0017
    (from 1.03) gains 0.097, short of ``MIN_GAIN``, but leaves 57x the residual (R^2 0.90 against
    0.998).
    ``by_loss``: with class ids, the loss test also counts when the arm classifies no worse (an
    easy task's accuracy saturates within the steps while the held loss still tells a setting that
    slows learning threefold; ``MIN_GAIN`` keeps a near-zero loss made smaller out). ``noise_of``:
    the run the repeat repeats, when ``baseline`` is another (the setup trained on, or in the run's
    order): the loss noise is then taken relative to that run's loss (a loss 8x lower after 3x the
    steps varies 8x less: its log varies as much; accuracies keep their spread in points)."""
    g = gain(baseline, arm)
    if g in (math.inf, -math.inf):
        return g > 0
    starts = [abs(v) for v in (baseline.before, arm.before) if math.isfinite(v)]
    scale = min(starts) if starts else 0.0
    ref = noise_of or baseline
    beyond_noise = lower_beyond_noise(baseline, arm, ref, repeat)
    by_loss_ok = beyond_noise and g >= MIN_GAIN * scale
    if arm.acc is not None and baseline.acc is not None and arm.rows:
        lift = arm.acc - baseline.acc
        p = (arm.acc + baseline.acc) / 2
        spread = 0.0 if repeat is None or repeat.acc is None or ref.acc is None or repeat.extra.get(
            "timed_out") else abs(ref.acc - repeat.acc)
        beyond_sampling = lift > SAMPLING_Z * math.sqrt(2 * p * (1 - p) / arm.rows) and lift >= MIN_LIFT
        by_acc = beyond_sampling and lift > NOISE_FACTOR * spread
        return by_acc or (by_loss and by_loss_ok and lift >= 0)
    # a ratio of losses means the kill rule's residual ratio only for losses >= 0 (not a Gaussian NLL)
    return by_loss_ok or (beyond_noise and g >= MIN_POINTS * scale and arm.after >= 0
                          and baseline.after >= KILL_RATIO * arm.after)


def _standardizer(X, rows):
    """x -> (x - mean) / std per feature, with the statistics of ``rows`` (constant features: std 1)."""
    x = X[rows].reshape(len(rows), -1).double()
    mean, std = x.mean(dim=0), x.std(dim=0)
    std = torch.where(std > 0, std, torch.ones_like(std))
    mean, std = mean.to(X.dtype).reshape(X.shape[1:]), std.to(X.dtype).reshape(X.shape[1:])
    return lambda xb: (xb - mean.to(xb.device)) / std.to(xb.device)


def _shrink_output(net, seed):
    layer = last_weight_layer(net)
    if layer is not None:
        with torch.no_grad():
            layer.weight.mul_(SHRINK_SCALE)
            if getattr(layer, "bias", None) is not None:
                layer.bias.zero_()


def final_activation(net: nn.Module) -> str | None:
    """The name of the model's final module when it is an output activation (``OUTPUT_ACTIVATIONS``:
    a softmax the loss applies again), else None."""
    leaves = [(name, m) for name, m in net.named_modules() if name and not any(True for _ in m.children())]
    return leaves[-1][0] if leaves and isinstance(leaves[-1][1], OUTPUT_ACTIVATIONS) else None


# The smallest probability whose log the arm without a softmax module keeps (float32's smallest
# normal number): a row's probability that underflowed to 0 gives a finite log and no gradient.
TINY_PROBABILITY = torch.finfo(torch.float32).tiny


def _log_of_outputs(module, inputs, out):
    return torch.log(out.clamp_min(TINY_PROBABILITY))


def _remove_final_activation(net, seed):
    """The model's final activation module replaced by ``nn.Identity``; a model without one whose
    outputs are probability rows (a softmax in ``forward``) returns their log instead: a
    from-logits loss (cross-entropy: log_softmax(log p) = log p when each row sums to 1) then
    trains -log p[y] with the gradient of cross-entropy on the logits the softmax received."""
    name = final_activation(net)
    if name is not None:
        set_child(net, name, nn.Identity())
    else:
        net.register_forward_hook(_log_of_outputs)


def predicts_targets(loss_fn, y) -> bool:
    """Whether the run's outputs are predictions of the targets ``y`` themselves: a regression loss
    (``nn.losses.REGRESSION_LOSSES``), or a loss of its own on real values that are not a binary
    label's 0 / 1 (a hand-written BCE reads its outputs as logits). Class ids, and the known losses
    on labels (BCE's float 0 / 1 included), are not."""
    if not torch.is_floating_point(y):
        return False
    kind = resolve_loss(loss_fn)[1]
    if kind in REGRESSION_LOSSES:
        return True
    return kind == "other" and torch.unique(y).numel() > 2


def output_map(model: nn.Module, X, y, loss_fn) -> Callable | None:
    """The edit that registers, after the model, the affine map that standardizes the untrained model's outputs onto the targets: per output
    column, the outputs on the rows ``X`` (eval mode) centered on the targets' mean ``y`` and, where
    they spread wider than the targets, shrunk to the targets' std (never widened: a larger scale
    acts as a raised lr on the output, not as the removal of what the start has too much of). None
    where the targets are no real values of the outputs' shape per row (class ids, another width). A
    model that adds an offset or a scale after its last layer (``out * SD + MEAN`` against
    standardized targets) starts off by both; the map removes them as standardized targets would
    (notes 002: zero-center, normalize), which shrinking the last layer cannot (its offset is added
    after it). None too where the loss reads the outputs as other than the targets' values
    (``predicts_targets``: BCE's logits against float 0 / 1 labels)."""
    if not predicts_targets(loss_fn, y) or y.shape[0] != X.shape[0] or y.shape[0] < 2:
        return None
    device = next((p.device for p in model.parameters()), X.device)
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(X.to(device))
    except Exception:                   # a forward that fails is model_checks' to report
        return None
    finally:
        model.train(was)
    if not torch.is_tensor(out) or out.shape[0] != y.shape[0] or out[0].numel() != y[0].numel():
        return None
    o, t = out.reshape(len(out), -1).double(), y.reshape(len(y), -1).to(device).double()
    spread = o.std(dim=0)
    scale = (t.std(dim=0) / torch.where(spread > 0, spread, torch.ones_like(spread))).clamp(max=1.0)
    shift = t.mean(dim=0) - o.mean(dim=0) * scale
    scale, shift = scale.to(out.dtype).reshape(out.shape[1:]), shift.to(out.dtype).reshape(out.shape[1:])
    return lambda net, seed: net.register_forward_hook(lambda module, inputs, o: o * scale + shift)


def _units_to_pooled_axis(module, inputs, out):
    """A pooled layer's output with its unit axis and the axes after it swapped (``(N, C, H, W)``
    with C = H x W: position p of channel c goes to channel p, position c), so that a pool over
    the unit axis averages each unit over the other axes."""
    if isinstance(module, nn.Linear):
        return out.transpose(-1, -2)
    return out.flatten(2).transpose(1, 2).reshape(out.shape)


def pooled_axis_swap(model: nn.Module, X, y, loss_fn) -> Callable | None:
    """The ``pooled_units`` fix on a snapshot: each pooled layer (pooled_units.pooled_layers) whose
    unit axis is as long as the axes it should have been pooled over (a convolution's C = H x W,
    a Linear's ``(N, L, D)`` with L = D: the only sizes at which the wrong pool feeds the next layer
    the width it expects, so no shape error shows it) passes its output on with the two swapped
    (``_units_to_pooled_axis``): the forward's pool over the unit axis then pools over the other
    axes, as ``x.mean((2, 3))`` would, with the model's weights. None where no pooled layer has such
    sizes (the fix needs the user's code: the finding stays ungraded). ``loss_fn``: the fitted arms'
    common signature; the axes do not depend on it."""
    rows = X[:pooled_units.ROWS].to(next((p.device for p in model.parameters()), X.device))
    names = [r["layer"] for r in pooled_units.pooled_layers(model, rows) if _swappable(r["shape"], r["axis"])]
    if not names:
        return None

    def edit(net, seed):
        modules = dict(net.named_modules())
        for name in names:
            modules[name].register_forward_hook(_units_to_pooled_axis)
    return edit


def _swappable(shape: tuple, axis: int) -> bool:
    """Whether a pooled layer's output (per row ``shape``, its unit axis ``axis`` counted with the
    batch's) has its units as many as the positions they should be pooled over: a convolution's
    (C, *spatial) with C = the product of the spatial sizes, a Linear's (L, D) with L = D."""
    if axis == 1 and len(shape) >= 2:
        return shape[0] == math.prod(shape[1:])
    return len(shape) == 2 and axis == 2 and shape[0] == shape[1]


# The fixes a symptom is graded by (``registry.CODES[code].graded_by`` names them): each changes
# the model (in place, on the arm's copy) or the inputs, as the symptom's repair would; the
# repair action (actions.ACTIONS) that makes the same change in a run, with its options (None:
# the code's planner makes it, with what the finding names).
SYMPTOM_ARMS = {
    "reinit": ("He init for ReLU nets, Xavier for tanh/sigmoid nets, instead of the model's init",
               lambda net, seed: reinitialize(net, seed=seed), False, ("reinit", {})),
    "shrink output layer": (f"the last layer's weights x{SHRINK_SCALE:g} and its bias zero",
                            _shrink_output, False, ("shrink_output_layer", {"scale": SHRINK_SCALE})),
    "standardize inputs": ("standardized inputs instead of the raw ones", None, True, ("standardize", {})),
    # fitted (``FITTED_ARMS``): no arm where no column's heavy tail squashes what the targets read (heavy_tails.py)
    "quantile inputs": ("the heavy-tailed columns mapped through their quantiles onto a normal", None, False, None),
    "remove output activation": ("logits instead of the final activation's outputs", _remove_final_activation,
                                 False, None),
    # fitted on the training rows by the experiment (``FITTED_ARMS``); regression targets only
    "standardize outputs": ("the outputs centered on the targets' mean and shrunk to their std (an affine map "
                            "fitted on the untrained outputs, after the model)", None, False, None),
    "pool over the other axes": ("the pooled layer's unit axis swapped with the axes it should have been pooled "
                                 "over, so the forward's pool averages each unit over them", None, False, None),
}

# the arms whose edit is fitted on the experiment's training rows: name -> (model, X, y) -> edit or None
FITTED_ARMS = {"standardize outputs": output_map, "pool over the other axes": pooled_axis_swap,
               "quantile inputs": quantile_arm}
# fitted on the training split, as the repair's preprocess is: a heavy tail's standard deviation is set by its
# rarest rows, which EVAL_ROWS of them may not hold (heavy_tails.py: the finding reads up to 2000 rows)
SPLIT_FITTED = ("quantile inputs",)


# an arm that grades only a finding marked ``GRADED``: the final activation removed fixes a loss fed
# probability rows (preflight's softmax module or forward), not a loss that mixes the rows or a
# user's loss that trains worse than the standard one (their own evidence grades them)
MARKED_ONLY = ("remove output activation",)


def graded_fixes(f: Finding) -> tuple:
    """The arms ``f`` is graded by: its code's ``graded_by``, less those of ``MARKED_ONLY`` where
    the finding is not marked ``GRADED``."""
    return tuple(n for n in CODES[f.code].graded_by if n not in MARKED_ONLY or f.evidence.get(GRADED))


RELU_ARM = "ReLU for sigmoid"
UNFREEZE_ARM = "unfreeze"
COPIES_ARM = "copies per layer"    # shared_module's grade: each place of a repeated instance given its own copy
ORDER_ARM = "in the run's order"   # unshuffled_data's grade: the setup on the training rows in the run's own
                                   # order (shuffle off), against the setup's shuffled batches (its fix)


def frozen_tensors(model: nn.Module) -> int:
    """How many parameter tensors are frozen (``requires_grad=False``) while others train (0 when
    every tensor trains, or none does: a model with nothing to train is no setup to compare)."""
    flags = [p.requires_grad for p in model.parameters()]
    return flags.count(False) if any(flags) else 0


def _unfreeze(net, seed):
    for p in net.parameters():
        p.requires_grad_(True)


def candidate_arms(model: nn.Module, *, lr: float, weight_decay: float, options: dict,
                   clip_norm: float | None = None, unfreeze: bool = True, config=None, x=None,
                   batch_size: int | None = None, optimizer=None) -> list:
    """The changes worth trying on this setup, each ``(Arm, lr, weight_decay, options, dropout_off)``
    and, for a change of the model, its edit ``(net, seed) -> None`` (an arm with
    ``extra["no_clip"]`` trains without the run's gradient clipping). ``unfreeze=False``: no
    unfreeze arm (parameters the run's own ``freeze`` option froze are a decision, not a fault).
    ``config``: the run's Config; each regularizer it sets gets an arm (``regularization_arms``).
    ``x`` (training rows) and ``batch_size`` (the run's): the mode-gap arms (mode_gap.py: the
    dropout on the outputs removed, batch norm over tiny batches on fixed statistics) and, for one
    module instance registered as several layers that ``x``'s forward calls at each, the copies arm
    (``COPIES_ARM``: module_use.unshare)."""
    # both directions first (a spent budget leaves the far lr arms out, not a whole direction)
    # (``extra["lr_factor"]``: the arm's lr over the setup's; a raise planned from a finding takes its most
    # helpful arm's, ``evidence["best_lr_factor"]``)
    arms = [(setting_arm("lr x0.1", "lr_too_high", Change(f"lr {lr / 10:.3g}", f"{lr:.3g}"),
                         extra={"lr_factor": 0.1}), lr / 10, weight_decay, options, False),
            (setting_arm("lr x10", "lr_too_low", Change(f"lr {lr * 10:.3g}", f"{lr:.3g}"),
                         extra={"lr_factor": 10.0}), lr * 10, weight_decay, options, False),
            (setting_arm("lr x0.01", "lr_too_high", Change(f"lr {lr / 100:.3g}", f"{lr:.3g}"),
                         extra={"lr_factor": 0.01}), lr / 100, weight_decay, options, False),
            (setting_arm("lr x100", "lr_too_low", Change(f"lr {lr * 100:.3g}", f"{lr:.3g}"),
                         extra={"lr_factor": 100.0}), lr * 100, weight_decay, options, False),
            (setting_arm("lr x1000", "lr_too_low", Change(f"lr {lr * 1000:.3g}", f"{lr:.3g}"),
                         extra={"lr_factor": 1000.0}), lr * 1000, weight_decay, options, False)]
    sigmoids = hidden_sigmoids(model)
    if sigmoids:        # the repair action swap_activations, tried (notes 003: "sigmoid should be avoided")
        arms.append((setting_arm(RELU_ARM, "vanishing_gradients",
                                 Change("ReLU with He init", f"the {sigmoids} hidden sigmoid activations"),
                                 extra={"grades": True, "model_change": True}),
                     lr, weight_decay, options, False, lambda net, seed: relu_for_saturating(net, seed=seed)))
    frozen = frozen_tensors(model) if unfreeze else 0
    if frozen:          # parameters that never move (update ratio exactly 0): trained too, on a copy
        arms.append((setting_arm(UNFREEZE_ARM, "frozen_parameters",
                                 Change("every parameter trained", f"{frozen} frozen tensors"),
                                 extra={"model_change": True}),
                     lr, weight_decay, options, False, _unfreeze))
    shared = module_use.check_shared_modules(model, x) if x is not None else []
    if shared:          # one instance registered as several layers ([layer] * n): a copy per layer, same weights
        arms.append((setting_arm(COPIES_ARM, "shared_module",
                                 Change("a copy of the layer at each of its places",
                                        f"one instance at {', '.join(shared[0].evidence['modules'][0])}"),
                                 extra={"model_change": True}),
                     lr, weight_decay, options, False, module_use.unshare))
    if weight_decay > 0:    # judged as the L2 penalty's arm is (``held_accuracy``): the same shrinkage, applied
                            # by the optimizer instead of the loss
        arms.append((setting_arm("weight_decay / 100", "regularization_too_strong",
                                 Change(f"weight_decay {weight_decay / 100:.3g}", f"{weight_decay:.3g}"),
                                 extra={"held_accuracy": True}),
                     lr, weight_decay / 100, options, False))
    rates = dropout_rates(model)
    if rates:
        arms.append((setting_arm("dropout off", "regularization_too_strong",
                                 Change("dropout off", f"p = {max(rates):g}")),
                     lr, weight_decay, options, True))
    if clip_norm:
        arms.append((setting_arm("no clipping", "optimizer_setting",
                                 Change("no gradient clipping", f"clip_norm = {clip_norm:g}"),
                                 extra={"options": {"clip_norm": clip_norm}, "no_clip": True}),
                     lr, weight_decay, options, False))
    arms += [(arm, lr, weight_decay, options, False) for arm in regularization_arms(config)]
    arms += [(Arm(name, code, change, extra=extra), lr, weight_decay, options, False, edit)
             for name, code, change, extra, edit in mode_gap.arms(model, x=x, batch_size=batch_size)]
    changed = changed_options(options, optimizer)
    if changed:
        # graded on a setup that learns too, as a regularizer's arm is (``held_accuracy``: the defaults
        # classify the held rows significantly better, and still do trained on): a setting that scales
        # every step down (SGD's dampening 0.9 keeps a tenth of each gradient) slows the run without
        # stopping it, and its loss falls by more than ``STUCK`` in the arms' steps
        arms.append((setting_arm("optimizer defaults", "optimizer_setting",
                                 Change("the optimizer's defaults", ", ".join(f"{k}={v}" for k, v in changed.items())),
                                 extra={"options": changed, "held_accuracy": True}), lr, weight_decay,
                     {**{k: v for k, v in options.items() if k not in changed}, **RESET_OPTIONS}, False))
    return arms


NOISE_SEED = 2        # an arm's gradient noise stream: config.seed + 2, the run's (train/parts.GRAD_NOISE_SEED_OFFSET)
PENALTY_CUT = 100.0   # an L1/L2 penalty's arm divides it by 100, as the weight decay's arm does


def regularization_arms(config) -> list:
    """One ``Arm`` per regularizer of the run's Config (``regularizers.OFF``'s options) that is on:
    the L1 and L2 penalties / ``PENALTY_CUT``, the max-norm constraint, label smoothing and
    clip_value off. Each arm's ``extra["regularization"]`` holds the options it changes; the
    experiment trains it with the penalties, constraint and loss built from the changed Config by
    the builders fit uses. Label smoothing changes what the training loss rewards, so its arm is
    judged by the held rows' accuracy alone (``extra["accuracy_only"]``)."""
    if config is None:
        return []
    out = []
    for name in ("l1", "l2"):
        value = getattr(config, name)
        if value:
            extra = {"regularization": {name: value / PENALTY_CUT}, "held_accuracy": True}
            was = f"{value:.3g}"
            if name == "l2" and scale_free_penalty(config):     # not weight decay under this optimizer
                was += f" (a coupled penalty {config.optimizer} rescales: not weight decay)"
                extra.update(scale_free=True, fix=f"lower l2; for an AdamW recipe's decay give it as weight_decay "
                                                  f"(decoupled), not as the coupled l2 penalty {config.optimizer} "
                                                  f"rescales (Loshchilov & Hutter 2019)")
            out.append(setting_arm(f"{name} / {PENALTY_CUT:g}", "regularization_too_strong",
                                   Change(f"{name} {value / PENALTY_CUT:.3g}", was), extra=extra))
    if config.max_norm is not None:
        out.append(setting_arm("no max_norm", "regularization_too_strong",
                               Change("no max-norm constraint", f"max_norm = {config.max_norm:g}"),
                               extra={"regularization": {"max_norm": OFF["max_norm"]}, "held_accuracy": True}))
    if config.label_smoothing and isinstance(config.loss, str):
        out.append(setting_arm("no label smoothing", "regularization_too_strong",
                               Change("no label smoothing", f"label_smoothing = {config.label_smoothing:g}"),
                               extra={"regularization": {"label_smoothing": OFF["label_smoothing"]},
                                      "accuracy_only": True, "held_accuracy": True}))
    if config.clip_value is not None:
        out.append(setting_arm("no clip_value", "optimizer_setting",
                               Change("no per-entry gradient clipping", f"clip_value = {config.clip_value:g}"),
                               extra={"regularization": {"clip_value": OFF["clip_value"]}, "held_accuracy": True}))
    if config.grad_noise:
        out.append(setting_arm("no grad_noise", "optimizer_setting",
                               Change("no gradient noise", f"grad_noise = {config.grad_noise:g}"),
                               extra={"regularization": {"grad_noise": OFF["grad_noise"]}, "held_accuracy": True}))
    return out


USUAL_SMOOTHING = 0.1    # label smoothing's usual strength (Szegedy et al. 2016, Inception-v3)
USUAL_MAX_NORM = 3.0     # max-norm's usual bound c = 3 to 4 (Srivastava et al. 2014, dropout with max-norm)
HEALTHY_SHRINK = 1e-3    # a coupled L2 under SGD shrinks the weights by lr x l2 a step: unusual above a healthy
                         # update's share of the weights (notes 001: updates ~1e-3 of the weights), as weight decay


def unusual_regularizers(config, *, lr: float) -> list[str]:
    """The run's regularizers (``regularization_arms``) far from their usual strength, by name: any
    L1 penalty (no usual strength), an L2 with lr x l2 above ``HEALTHY_SHRINK`` or under an adaptive
    optimizer (``regularization_check.scale_free_penalty``: its shrink is not lr x l2), a max_norm below
    ``USUAL_MAX_NORM``, label smoothing above ``USUAL_SMOOTHING``, any clip_value (as any clip_norm),
    any gradient noise (its scale is absolute, eta per entry, not relative to the gradients it is
    added to: no strength is usual for every model).
    The repairer's settings test runs their arms only then; the doctor always runs them."""
    if config is None:
        return []
    checks = {"l1": bool(config.l1), "l2": lr * config.l2 > HEALTHY_SHRINK or scale_free_penalty(config),
              "max_norm": config.max_norm is not None and config.max_norm < USUAL_MAX_NORM,
              "label_smoothing": config.label_smoothing > USUAL_SMOOTHING, "clip_value": config.clip_value is not None,
              "grad_noise": bool(config.grad_noise)}
    return [name for name, unusual in checks.items() if unusual]


def changed_options(options: dict, optimizer=None) -> dict:
    """The optimizer options away from their defaults (``DEFAULTS``: eps, betas, ...) and, for an
    ``optimizer`` of the SAM family, its radius ``RADIUS`` away from the one its registry record
    gives (``radius_default``)."""
    changed = {k: options[k] for k, default in DEFAULTS.items()
               if options.get(k) is not None and _differs(options[k], default)}
    default = radius_default(optimizer)
    if default is not None and options.get(RADIUS) is not None and float(options[RADIUS]) != default:
        changed[RADIUS] = options[RADIUS]
    return changed


RADIUS = "rho"        # the SAM family's neighbourhood radius: the length of its ascent step in weight space
                      # (Foret et al. 2021), a step size like the lr, whose usual value each record gives
                      # (SAM 0.05, Foret et al.'s CIFAR setting; ASAM 0.5, Kwon et al. 2021's scale-invariant ball)


def radius_default(optimizer) -> float | None:
    """The registry's default ``RADIUS`` of ``optimizer`` (a name), None for one without a radius."""
    info = OPTIMIZERS.get(optimizer) if isinstance(optimizer, str) else None
    option = info.options.get(RADIUS) if info is not None and info.options else None
    return None if option is None else float(option.default)


RADIUS_BATCHES = 4    # the radius' linearity is read on this many training batches (their median) ...
RADIUS_CURVED = 2.0   # ... and SAM's radius is past its neighbourhood when its ascent step raises the loss more
                      # than twice what the gradient predicts (the second-order term larger than the first):
                      # SAM's ascent step is the first-order maximizer of the loss in the ball (Foret et al. 2021,
                      # eq. 2), exact only while the gradient describes the loss across it


def radius_linearity(model: nn.Module, X, y, loss_fn, *, optimizer, options: dict, lr: float,
                     batch_size: int, seed: int = 0, radius: float | None = None) -> float | None:
    """The median over ``RADIUS_BATCHES`` training batches of the SAM family's ascent step's actual
    rise of the loss over the rise its gradient predicts, (L(w + e) - L(w)) / (g . e), with e the
    optimizer's own ascent step (SAM rho g / |g|, ASAM's scaled one) at ``radius`` (the configured
    ``RADIUS`` when None): about 1 while the radius is inside the region the gradient describes,
    growing with the curvature the step crosses. None for an optimizer without a radius or a batch
    whose gradient is zero. The model is never modified (each batch on a copy; dropout masks and
    batch statistics the same in both passes)."""
    from trainwell.optim.sam import SAM
    if radius_default(optimizer) is None:
        return None
    opts = dict(options)
    if radius is not None:
        opts[RADIUS] = radius
    gen = torch.Generator().manual_seed(seed)
    device = next((p.device for p in model.parameters()), X.device)
    ratios = []
    for _ in range(RADIUS_BATCHES):
        idx = torch.randperm(len(X), generator=gen)[:batch_size]
        xb, yb = X[idx].to(device), y[idx].to(device)
        net = copy.deepcopy(model)
        net.train()
        opt = make_optimizer(optimizer, net, lr=lr, **opts)
        if not isinstance(opt, SAM):
            return None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            loss = loss_fn(net(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        params, grads, spans = opt._collect()
        if not params:
            return None
        with torch.no_grad():
            before = [p.detach().clone() for p in params]
            opt._perturb(params, grads, spans, None)
            rise = sum(float((g * (p - b)).sum()) for g, p, b in zip(grads, params, before))
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                actual = float(loss_fn(net(xb), yb)) - float(loss)
        if not (rise > 0 and math.isfinite(actual)):
            continue
        ratios.append(actual / rise)
    return statistics.median(ratios) if ratios else None


def radius_past_neighbourhood(model: nn.Module, X, y, loss_fn, *, optimizer, options: dict, lr: float,
                              batch_size: int, seed: int = 0) -> Finding | None:
    """An ``optimizer_setting`` finding when the configured radius differs from its record's
    default (``changed_options``) and its ascent step is past the neighbourhood the gradient
    describes (``radius_linearity`` above ``RADIUS_CURVED``) while the default's is not: its
    evidence names the radius (``options``), which ``plans.plan_optimizer_setting`` resets."""
    if RADIUS not in changed_options(options, optimizer):
        return None
    read = dict(model=model, X=X, y=y, loss_fn=loss_fn, optimizer=optimizer, options=options, lr=lr,
                batch_size=batch_size, seed=seed)
    at_run = radius_linearity(**read)
    if at_run is None or at_run <= RADIUS_CURVED:
        return None
    default = radius_default(optimizer)
    at_default = radius_linearity(**read, radius=default)
    if at_default is None or at_default > RADIUS_CURVED:
        return None
    rho = float(options[RADIUS])
    return make("optimizer_setting",
                f"SAM's radius {RADIUS} = {rho:g}: its ascent step raises the loss {at_run:.2g}x what the "
                f"gradient predicts (at the default {default:g}: {at_default:.2g}x), past the neighbourhood "
                f"the gradient describes",
                evidence={"options": {RADIUS: rho}, "linearity": at_run, "linearity_default": at_default,
                          "radius_default": default},
                fix=f"leave the optimizer's {RADIUS} at its default ({default:g})")


def _differs(value, default) -> bool:
    if default is None:
        return True
    if isinstance(default, tuple):
        return tuple(float(v) for v in value) != default
    return value != default


def experiment(model: nn.Module, X, y, loss_fn, *, optimizer, lr: float, weight_decay: float = 0.0,
               options: dict | None = None, batch_size: int = 64, steps: int = STEPS, seed: int = 0,
               budget_s: float | None = None, budget: Budget | None = None, symptoms=(), settings: bool = True,
               repeat: bool = False,
               clip_norm: float | None = None, activation: bool = False, unfreeze: bool = True,
               run_steps: int | None = None, in_order: bool = False, lr_arms: bool = True, config=None,
               course=None, extra_arms=(), augment=None, augment_seed: int = 0,
               part: str = "the experiment", confirm: bool = False, extend_steps: int | None = None,
               setup: SharedSetup | None = None, mode_losses: bool = False) -> tuple:
    """``(baseline, arms)``: the setup itself and each candidate change, trained ``steps`` steps
    from the same weights on the same batches. The model is never modified. With ``budget_s``
    nominal seconds (or a doctor's ``budget``: babysit/budget.py), every arm runs the steps the
    budget affords for all of them at the cost model's price (the same on a quiet and a loaded
    machine); an arm still running when it is spent stops (``extra["timed_out"]``: it counts for
    nothing) and the arms after it are not run. ``symptoms``: codes found before (their records'
    ``graded_by`` fixes are tried, after a repeat of the setup on other batches: ``grade`` reads
    them); ``settings=False`` leaves out the lr and setting arms (only the symptoms' fixes run);
    ``repeat``: run the repeat even with no symptom (to grade later findings by the lr arms);
    ``clip_norm``: the run's gradient clipping, applied in every arm but "no clipping";
    ``activation``: with ``settings=False``, still try ReLU for hidden sigmoids (``RELU_ARM``);
    ``unfreeze``: try training the frozen parameters too (``UNFREEZE_ARM``, a setting arm);
    ``run_steps``: the run's planned steps: when a change trained significantly better, the setup
    and every such change train on to ``LONGER`` x their steps (at most ``run_steps``) on further
    batches, their results in ``Arm.longer`` (``caught_up`` reads them); ``in_order``: the run
    does not shuffle: with ``unshuffled_data`` among the ``symptoms``, the setup also trains on
    consecutive batches of the training rows in their order (``ORDER_ARM``), whole epochs ending
    where the run's epochs end when they fit (``grade`` compares it with the setup); ``lr_arms=False``:
    the setting arms without the lr arms (the repairer's settings test at fit start); ``config``:
    the run's Config: every arm trains with its regularizers (the L1/L2 penalty, the max-norm
    constraint, the loss with label smoothing, clip_value) built by the builders fit uses
    (train/regularizers.py) from the Config with the arm's ``extra["regularization"]``, and each
    regularizer it sets gets an arm (``regularization_arms``); the held rows' loss is ``loss_fn``'s,
    the same for every arm. ``course(i, n) -> multiplier``: the lr of the setup and its repeat at
    step i of n is lr x course(i, n) (an arm's own ``extra["course"]`` for that arm); ``extra_arms``:
    further ``Arm``-s to train with the setup's settings (their change is their course, their own lr
    ``extra["lr"]`` or weight decay ``extra["weight_decay"]``, or their own batch size ``extra["batch_size"]``
    for ``extra["steps_factor"]`` x the steps: batch_check.py's smaller batches at the same rows seen; or an
    ``extra["edit"](net, seed)`` of its copy of the model: noise_check.py's gradient noise as run);
    ``augment(x, generator) -> x``: the run's augmentation, applied to every arm's training batches (never
    to the held rows) from a generator seeded ``augment_seed`` (the same draws in every arm), an arm's own
    ``extra["augment"]`` instead (None: none; augment_check.py drops one transform an arm).
    ``confirm`` (with ``run_steps``): a setting arm whose loss ends below the setup's but not
    beyond the noise (inconclusive at these steps) trains on too, and so does the repeat, on its
    own further batches and dropout masks: ``confirmed`` grades the arm at the later step against
    the repeat's spread there. ``extend_steps``: the trainings on (every arm trained on, each
    doubling on a plateau) spend at most this many steps together (None: up to the run's steps).

    The budget's time backstop (``Budget.fits_wall``) prices every training before it runs:
    the setup, each arm in turn (the lr arms behind what the budget holds ``reserved``) and each
    training on; one predicted to end past the backstop is left out with the trainings after it,
    named after ``part`` (what this experiment is, for the doctor's ``check_skipped`` note); one
    the clock outruns stops (``Budget.wall_out``, ``extra["timed_out"]``); the setup's
    ``extra["left_out"]`` lists the arms the backstop left out, and its ``extra["trained_on_cut"]``
    says the backstop left out or stopped a training on (``helpful`` and ``grade`` read a change
    without it as not caught up).

    ``setup``: a ``SharedSetup`` passed to experiments on the same setup (the caller's word: the same
    model, rows, optimizer, lr, settings, steps, seed and augmentation; their arms may differ): the
    first trains the setup and leaves its training there, a later one goes on from it instead of
    training it again (``SharedSetup.take``). ``mode_losses``: measure the setup's losses in train and
    eval mode (its ``extra["mode_losses"]``, which the doctor's ``eval_mode_gap`` reads: mode_gap.py);
    without it they are charged to the budget as if measured (the arms' steps and every later part's
    share are the same either way) and not run: no other caller reads them, and a model with buffers
    pays 47 evaluation passes of the held rows for them."""
    budget = budget if budget is not None or budget_s is None else Budget(budget_s)
    options = {k: v for k, v in (options or {}).items() if k not in ("lr", "weight_decay")}
    trial = _Experiment(model, X, y, loss_fn, optimizer=optimizer, batch_size=batch_size, steps=steps, seed=seed,
                        budget=budget, clip_norm=clip_norm, run_steps=run_steps, config=config, course=course,
                        augment=augment, augment_seed=augment_seed, part=part, confirm=confirm,
                        mode_losses=mode_losses)
    candidates = trial.candidates(lr=lr, weight_decay=weight_decay, options=options, settings=settings,
                                  lr_arms=lr_arms, activation=activation, unfreeze=unfreeze, extra_arms=extra_arms,
                                  symptoms=symptoms, repeat=repeat, in_order=in_order)
    trial.plan(runs=1 + len(candidates))
    names = [f"the arm {c[0].name!r}" for c in candidates]
    if not trial.fits(1, trial.arm_steps, trial.size, ["the arm 'setup'"] + names):    # nothing to compare
        return Arm("setup", "", "the setup as configured", extra={"timed_out": True}), []
    baseline = trial.run_setup(lr, weight_decay, options, shared=setup)
    arms = trial.run_arms(candidates, names)
    changes = trial.train_on(extend_steps)
    trial.train_repeat_on(changes)
    if setup is not None:
        setup.hold(trial)
    return baseline, arms


@dataclass
class SharedSetup:
    """The setup's training one ``experiment`` leaves to the next on the same setup: a stalled
    augmentation check (augment_check.py) trains the setup alone at a raised lr, then the setup with
    its repeat and arms at that lr, whose setup is the same training step for step (the same weights,
    batches, dropout masks and augmentation draws). Held only while the setup is where ``arm_steps``
    left it (not trained on, not cut); ``charges``: the nominal seconds its training and evaluations
    charged the budget, charged again one by one where it is taken, so the budget's shares, every
    arm's steps and every later check see the same floats as when it was trained twice (what the
    reuse saves is the work and its wall seconds, not the budget's plan)."""

    training: _Training | None = None
    arm_steps: int = 0
    charges: list = field(default_factory=list)

    def hold(self, trial: _Experiment) -> None:
        """Keep ``trial``'s setup training, or nothing where it was cut or trained on."""
        b = trial.baseline
        fresh = b is not None and not b.extra.get("timed_out") and b.longer is None and id(b) in trial.kept
        self.training = trial.kept[id(b)] if fresh else None
        self.arm_steps, self.charges = (trial.arm_steps, trial.setup_charges) if fresh else (0, [])

    def take(self, trial: _Experiment) -> _Training | None:
        """The held training for ``trial`` when it trains the setup for the same ``arm_steps`` and its
        budget pays the ``charges`` twice over (a training the budget might have cut is trained again,
        and cut where it was); the hold is emptied (the training goes on from here)."""
        t, budget = self.training, trial.budget
        if t is None or self.arm_steps != trial.arm_steps or (
                budget is not None and budget.left <= 2 * math.fsum(self.charges)):
            return None
        self.training = None
        return t


@dataclass
class _Training:
    """An arm's copy of the model in training: what ``_Experiment.train_arm_on`` needs to go on from
    where ``_Experiment.train`` stopped (the same net, optimizer, regularizers, lr course and
    augmentation draws)."""

    arm: Arm
    net: nn.Module
    opt: torch.optim.Optimizer
    clip: float | None                  # the gradient clipping norm (None: none)
    inputs: Callable                    # xb -> xb: the arm's change of the inputs (standardized, say)
    step_loss: Callable                 # the training loss with the run's penalties (``_regularizers``)
    after_step: Callable | None         # the max-norm constraint
    after_backward: Callable | None     # the gradient noise, then clip_value
    course: Callable | None             # (i, n) -> the lr multiplier at step i of n
    bases: list                         # each parameter group's lr before the course
    augmented: Callable                 # xb -> xb: the run's augmentation on its own generator


class _Experiment:
    """The state every arm of one ``experiment`` shares: the held rows every loss is measured on,
    the batches every arm trains on, the budget, the steps every arm runs (``arm_steps``), the setup
    and its repeat (what a change is compared with), and the trainings kept to train on (``kept``:
    the setup's and those of the changes that helped; ``aside``: the repeat, trained on only for a
    raised lr)."""

    def __init__(self, model: nn.Module, X, y, loss_fn, *, optimizer, batch_size: int, steps: int, seed: int,
                 budget: Budget | None, clip_norm: float | None, run_steps: int | None, config, course,
                 augment, augment_seed: int, part: str, confirm: bool, mode_losses: bool = False):
        self.model, self.X, self.y, self.loss_fn = model, X, y, loss_fn
        self.optimizer, self.batch_size, self.steps, self.seed = optimizer, batch_size, steps, seed
        self.budget, self.clip_norm, self.run_steps, self.config = budget, clip_norm, run_steps, config
        self.course, self.augment, self.augment_seed = course, augment, augment_seed
        self.part, self.confirm, self.mode_losses = part, confirm, mode_losses
        self.device = next((p.device for p in model.parameters()), X.device)
        self.gen = torch.Generator().manual_seed(seed)
        self.pool = torch.randperm(X.shape[0], generator=self.gen)[:POOL_ROWS]
        self.held = self.pool[:EVAL_ROWS]
        self.ye = y[self.held].to(self.device)
        self.size = max(1, min(batch_size, self.pool.numel()))
        # the held rows stay unseen
        self.train_rows = self.pool[EVAL_ROWS:] if self.pool.numel() > 2 * EVAL_ROWS else self.pool
        self.batches = self.draw(self.gen)
        self.class_ids = not torch.is_floating_point(y) and y.ndim == 1
        self.arm_steps = steps              # the steps every arm runs (fewer when the budget is short: ``plan``)
        self.step_cost = 0.0                # the budget's price of one step on ``size`` rows
        self.ordered = None                 # the run's order of the training rows (``_order_candidate``)
        self.baseline = None                # the setup, once trained ...
        self.repeat = None                  # ... and its repeat: what ``_trains_on`` compares an arm with
        self.kept = {}                      # id(arm) -> its _Training: the setup's and the helping arms'
        self.aside = {}                     # the repeat not kept: trained on only for a raised lr (``RAISE_CODE``)
        self.charges = []                   # every nominal charge to the budget, in order (``charge``) ...
        self.setup_charges = []             # ... those of the setup's training (``SharedSetup``)
        self.starts = {}                    # dropout_off -> the held loss of an unedited copy (``start_loss``)

    def draw(self, g: torch.Generator, count: int | None = None, rows: int | None = None) -> list:
        """``count`` batches (default ``steps``) of ``rows`` training rows each (default ``size``),
        drawn with replacement from ``g``."""
        count = self.steps if count is None else count
        rows = self.size if rows is None else rows
        return [self.train_rows[torch.randint(0, self.train_rows.numel(), (rows,), generator=g)]
                for _ in range(count)]

    # -- which arms, in which order ------------------------------------------------------------

    def candidates(self, *, lr: float, weight_decay: float, options: dict, settings: bool, lr_arms: bool,
                   activation: bool, unfreeze: bool, extra_arms, symptoms, repeat: bool, in_order: bool) -> list:
        """Every arm's ``train`` arguments ``(Arm, lr, weight_decay, options, dropout_off[, edit,
        inputs, batches, seed])`` in the order they run (``_in_trying_order``): the setting and lr
        arms ``experiment``'s flags ask for, the caller's ``extra_arms``, and with symptoms the
        repeat of the setup, each symptom's fix and the run's order."""
        found = [c for c in candidate_arms(self.model, lr=lr, weight_decay=weight_decay, options=options,
                                           clip_norm=self.clip_norm, unfreeze=unfreeze, config=self.config,
                                           x=self.X[self.held[:MODE_ROWS]].to(self.device),
                                           batch_size=self.batch_size, optimizer=self.optimizer)
                 if (settings and (lr_arms or c[0].code not in LR_CODES)) or (activation and c[0].name == RELU_ARM)]
        found += [self._extra_candidate(arm, lr, weight_decay, options) for arm in extra_arms]
        names = dict.fromkeys(name for code in symptoms for name in CODES[code].graded_by if name in SYMPTOM_ARMS)
        edits = {name: self._fitted_edit(name) if name in FITTED_ARMS else SYMPTOM_ARMS[name][1]
                 for name in names}
        # a fitted fix that does not apply (class ids, a pooled layer of other sizes): no arm, and no repeat for it
        fixes = [n for n in names if n not in FITTED_ARMS or edits[n] is not None]
        in_order = in_order and any(ORDER_ARM in CODES[code].graded_by for code in symptoms)
        if fixes or repeat or in_order:
            found = [self._repeat_candidate(lr, weight_decay, options)] + found
        for name in fixes:
            change, _, standardize, _ = SYMPTOM_ARMS[name]
            found.append((Arm(name, "", change, extra={"grades": True}), lr, weight_decay, options, False, edits[name],
                          _standardizer(self.X, self.train_rows) if standardize else None))
        if in_order:
            found.append(self._order_candidate(lr, weight_decay, options))
        return _in_trying_order(found)

    def _fitted_edit(self, name: str) -> Callable | None:
        """The ``FITTED_ARMS`` edit ``name`` of the arm's copy, fitted on ``EVAL_ROWS`` training rows
        (``SPLIT_FITTED``: on the training split, as the repair's preprocess is) under the run's loss;
        None where it finds it does not apply."""
        if name in SPLIT_FITTED:
            return FITTED_ARMS[name](self.model, self.X, self.y, self.loss_fn)
        rows = self.train_rows[:EVAL_ROWS]
        return FITTED_ARMS[name](self.model, self.X[rows], self.y[rows], self.loss_fn)

    def _extra_candidate(self, arm: Arm, lr: float, weight_decay: float, options: dict) -> tuple:
        """A caller's arm with the setup's settings: its own lr (``extra["lr"]``) or weight decay
        (``extra["weight_decay"]``: own_decay.py's arm on the user's optimizer as written), its own batches
        (``extra["batch_size"]``, ``extra["steps_factor"]`` x the steps: the same rows seen) or its
        own edit of the model (``extra["edit"]``)."""
        own = ()
        if "batch_size" in arm.extra:
            own = (None, None, self.draw(torch.Generator().manual_seed(self.seed),
                                         self.steps * arm.extra.get("steps_factor", 1),
                                         max(1, min(arm.extra["batch_size"], self.pool.numel()))))
        elif "edit" in arm.extra:
            own = (arm.extra["edit"],)
        return (arm, arm.extra.get("lr", lr), arm.extra.get("weight_decay", weight_decay), options, False) + own

    def _repeat_candidate(self, lr: float, weight_decay: float, options: dict) -> tuple:
        """The setup again on other batches and dropout masks (seed + ``REPEAT_SEED``): the run's own noise."""
        repeat = Arm("setup (repeat)", "", "the setup on other batches and dropout masks", extra={"repeat": True})
        return (repeat, lr, weight_decay, options, False, None, None,
                self.draw(torch.Generator().manual_seed(self.seed + REPEAT_SEED)), self.seed + REPEAT_SEED)

    def _order_candidate(self, lr: float, weight_decay: float, options: dict) -> tuple:
        """The setup on consecutive batches of the training rows in their order (``ORDER_ARM``): whole
        epochs when they fit; the order goes on for ``LONGER`` x the steps (``self.ordered``)."""
        X, steps = self.X, self.steps
        rows = torch.arange(X.shape[0])
        if self.train_rows.numel() < self.pool.numel():         # as train_rows: the held rows taken out
            rows = rows[~torch.isin(rows, self.held)]
        # each batch spans the stretch of the order the run's batch spans (the held rows taken out,
        # the batches are smaller by that share): as many batches an epoch as the run, as few classes each
        span = max(1, round(self.size * rows.numel() / X.shape[0]))
        per_epoch = math.ceil(rows.numel() / span)
        count = _whole_epochs(steps, per_epoch)
        self.ordered = [rows[(i % per_epoch) * span:(i % per_epoch + 1) * span] for i in range(count + LONGER * steps)]
        return (Arm(ORDER_ARM, "", "the training rows in the run's order, unshuffled",
                    extra={"grades": True, "as_run": True, "per_epoch": per_epoch}), lr, weight_decay,
                options, False, None, None, self.ordered[:count])

    # -- the budget ----------------------------------------------------------------------------

    def plan(self, *, runs: int) -> None:
        """With a budget: price a step from the model's counted work and set the steps every arm
        runs to what the budget affords for ``runs`` trainings (``TIME_SAFETY``), between
        ``MIN_STEPS`` and ``steps`` (fewer than ``MIN_STEPS`` only when asked for)."""
        budget = self.budget
        if budget is None:
            return
        budget.count(self.model, self.X[self.batches[0]] if self.batches else self.X[:self.size])
        self.step_cost = budget.step_cost(self.size)
        affordable = budget.affordable(self.size, share=1 / (runs * TIME_SAFETY))
        self.arm_steps = int(min(self.steps, max(MIN_STEPS, min(self.steps, affordable))))

    def fits(self, runs: int, count: int, rows: int, names: list, *, behind: bool = False) -> bool:
        """``runs`` trainings of ``count`` steps on ``rows`` rows fit the time backstop (else ``names``
        are dropped, named after ``part``)."""
        budget = self.budget
        return budget is None or budget.fits_wall(budget.run_cost(runs, count, rows, eval_rows=self.held.numel()),
                                                  [f"{self.part}: {n}" for n in names], behind=behind)

    def _left_out(self, arm: Arm, count: int, rows: int, names: list) -> bool:
        """The budget cannot train ``arm`` for ``count`` steps on ``rows`` rows: it is spent, the
        training would end past the time backstop, or (an lr arm, ranked behind the run options'
        checks to come) it would eat into what the budget holds in reserve for them."""
        budget = self.budget
        if budget is None:
            return False
        behind = arm.code in LR_CODES
        named = [f"{self.part}: {n}" for n in names]
        if budget.clock_out():          # the safety stop: the doctor names what it cut
            return True
        if budget.spent_out():          # the backstop names what it drops (``fits``); the nominal budget here
            budget.leave_out(named)
            return True
        if not self.fits(1, count, rows, names, behind=behind):
            return True
        if behind and not budget.holds_reserve(budget.run_cost(1, count, rows, eval_rows=self.held.numel())):
            budget.leave_out(named)
            return True
        return False

    def must_stop(self, arm: Arm, net: nn.Module) -> bool:
        """After a step: its weights diverged (the rest of its steps cannot help), or the budget is
        spent (``arm.extra["timed_out"]``; the wall's cut is named, and a cut training on marks the
        setup's ``extra["trained_on_cut"]``)."""
        if arm.steps % CHECK_EVERY == 0 and not _finite_weights(net):
            return True
        budget = self.budget
        if budget is not None and (budget.spent_out() or budget.wall_out()):
            arm.extra["timed_out"] = True
            if budget.wall_out():
                budget.drop(f"{self.part}: the rest of the arm {arm.name!r} (cut at step {arm.steps})")
                if arm.extra.get("longer") and self.baseline is not None:
                    self.baseline.extra["trained_on_cut"] = True
            elif not budget.clock_out():
                budget.leave_out(f"{self.part}: the rest of the arm {arm.name!r} (cut at step {arm.steps})")
            return True
        return False

    # -- training ------------------------------------------------------------------------------

    def charge(self, seconds: float) -> None:
        """Charge the budget ``seconds`` nominal seconds, recorded in ``charges``."""
        self.budget.charge(seconds)
        self.charges.append(seconds)

    def held_loss(self, net: nn.Module, inputs: Callable) -> tuple:
        """(loss, accuracy or None) of ``net`` on the held rows, in eval mode (charged to the budget)."""
        if self.budget is not None:
            self.charge(self.budget.forward_cost(self.held.numel()))
        net.eval()
        with torch.no_grad():
            out = net(inputs(self.X[self.held]).to(self.device))
            value = self.loss_fn(out, self.ye)
            acc = (out.argmax(dim=-1) == self.ye).float().mean() \
                if self.class_ids and out.ndim == 2 and out.shape[1] > 1 else None
        loss = float(value) if isinstance(value, torch.Tensor) and value.numel() == 1 else math.nan
        return loss, (None if acc is None else float(acc))

    def start_loss(self, net: nn.Module, inputs: Callable, dropout_off: bool) -> float:
        """The held loss of ``net``, a copy of the model with no edit and no change of its inputs
        (the same weights in every such arm): evaluated for the first, reused for the others with the
        same ``dropout_off`` and charged for each, so the budget's sums are those of an evaluation
        each. Reused only when the first evaluation drew nothing from the random streams (a forward
        that draws in eval mode gives another loss each time and moves the streams the arms start
        from: evaluated every time)."""
        if dropout_off in self.starts:
            if self.budget is not None:
                self.charge(self.budget.forward_cost(self.held.numel()))
            return self.starts[dropout_off]
        streams = _random_states(self.device)
        loss = self.held_loss(net, inputs)[0]
        if all(torch.equal(a, b) for a, b in zip(streams, _random_states(self.device))):
            self.starts[dropout_off] = loss
        return loss

    def _copy_for(self, arm: Arm, lr: float, weight_decay: float, options: dict, dropout_off: bool, edit,
                  inputs, seed: int) -> _Training:
        """The arm's own copy of the model (``edit``-ed, its dropout off when asked) with its
        optimizer and the run's regularizers as the arm changes them; ``arm.before`` is its held loss."""
        unedited = edit is None and inputs is None
        inputs = inputs or (lambda xb: xb)
        net = copy.deepcopy(self.model)
        if edit is not None:
            edit(net, seed)
        if dropout_off:
            for m in net.modules():
                if isinstance(m, nn.modules.dropout._DropoutNd):
                    m.p = 0.0
        arm.before = self.start_loss(net, inputs, dropout_off) if unedited else self.held_loss(net, inputs)[0]
        clip = None if arm.extra.get("no_clip") else self.clip_norm
        opt = make_optimizer(self.optimizer, net, lr=lr, weight_decay=weight_decay, total_steps=self.steps, **options)
        step_loss, after_step, after_backward = _regularizers(self.config, arm, net, self.loss_fn)
        return _Training(arm, net, opt, clip, inputs, step_loss, after_step, after_backward,
                         course=arm.extra.get("course", self.course), bases=[g["lr"] for g in opt.param_groups],
                         augmented=_augmenter(arm.extra.get("augment", self.augment), self.augment_seed))

    def _step(self, t: _Training, counted: Arm, idx, cost: float) -> torch.Tensor:
        """One training step of ``t`` on the rows ``idx`` (the lr course at ``counted.steps``, which
        it advances), charged ``cost``: the batch's loss (a device tensor)."""
        if t.course is not None:
            for group, base in zip(t.opt.param_groups, t.bases):
                group["lr"] = base * t.course(counted.steps, self.arm_steps)
        loss = train_step(t.net, t.opt, t.step_loss, t.augmented(t.inputs(self.X[idx]).to(self.device)),
                          self.y[idx].to(self.device), t.clip, after_backward=t.after_backward)
        if t.after_step is not None:
            t.after_step()
        counted.steps += 1
        if self.budget is not None:
            self.charge(cost)
        return loss

    def train(self, arm: Arm, lr: float, weight_decay: float, options: dict, dropout_off: bool, edit=None,
              inputs=None, batches=None, seed: int | None = None, keep: bool = False) -> Arm:
        """``arm`` trained ``arm_steps`` steps (x its ``steps_factor``; whole epochs of the run's
        order) from the model's weights on ``batches`` (default: the setup's) with dropout masks
        seeded ``seed`` (default: the setup's): its held loss and accuracy before, half-way and
        after, and the fall of its training batches' own loss (``fit_fall``). The training is kept to
        train on (``keep``, or ``_trains_on``)."""
        seed = self.seed if seed is None else seed
        t = self._copy_for(arm, lr, weight_decay, options, dropout_off, edit, inputs, seed)
        batches = batches or self.batches
        # an arm with its own batch size (``extra["batch_size"]``) trains ``extra["steps_factor"]`` x the
        # steps on its own batches (the same rows seen), each step priced at its own size
        factor = arm.extra.get("steps_factor", 1)
        cost = self.step_cost if "batch_size" not in arm.extra or self.budget is None else \
            self.budget.step_cost(len(batches[0]))
        limit = factor * _whole_epochs(self.arm_steps, arm.extra.get("per_epoch"))
        half = max(1, factor * self.arm_steps // 2)
        t.net.train()
        trace = []                              # the training batches' losses (device tensors)
        state = torch.get_rng_state()
        torch.manual_seed(seed)                 # the same dropout masks in every arm
        try:
            for idx in batches:
                if arm.steps >= limit:
                    break
                trace.append(self._step(t, arm, idx, cost))
                if arm.steps == half:
                    arm.mid_after, arm.mid_acc = self.held_loss(t.net, t.inputs)     # one eval pass: the trend
                    arm.mid_steps = arm.steps
                    t.net.train()
                if self.must_stop(arm, t.net):
                    break
        finally:
            torch.set_rng_state(state)
        arm.after, arm.acc = self.held_loss(t.net, t.inputs)
        arm.rows = int(self.held.numel())
        if keep or self._trains_on(arm):
            self.kept[id(arm)] = t
        elif self.run_steps and arm.extra.get("repeat") and not arm.extra.get("timed_out"):
            self.aside[id(arm)] = t
        if trace:
            arm.fit_fall = _fit_fall(trace)
        return arm

    def _trains_on(self, arm: Arm) -> bool:
        """With ``run_steps``, an arm worth training on: a change that trained better than the setup
        beyond the noise (``_better``), or with ``confirm`` the repeat and a setting arm ahead but
        not yet beyond the noise (``_inconclusive``)."""
        if not self.run_steps or self.baseline is None or arm.extra.get("timed_out"):
            return False
        return bool((not arm.extra.get("repeat") and _better(self.baseline, arm, self.repeat))
                    or (self.confirm and (arm.extra.get("repeat") or _inconclusive(self.baseline, arm))))

    def run_setup(self, lr: float, weight_decay: float, options: dict, shared: SharedSetup | None = None) -> Arm:
        """The setup trained (every arm is compared with it), and with ``mode_losses`` its held rows'
        losses in train and eval mode (``extra["mode_losses"]``: mode_gap.measure, three passes and the
        settling passes of a model with buffers, charged with or without); ``setup_charges``: what
        that charged the budget. The training
        ``shared`` holds for this experiment is taken instead, its charges charged (``SharedSetup``)."""
        held = None if shared is None else shared.take(self)
        if held is not None:
            self.setup_charges = shared.charges
            for seconds in shared.charges:      # one by one, as trained: the same float sums
                self.charge(seconds)
            self.baseline, self.kept[id(held.arm)] = held.arm, held
            return held.arm
        first = len(self.charges)
        baseline = self._train_setup(lr, weight_decay, options)
        self.setup_charges = self.charges[first:]
        return baseline

    def _train_setup(self, lr: float, weight_decay: float, options: dict) -> Arm:
        """The setup trained and kept, with ``mode_losses`` its ``extra["mode_losses"]`` (``run_setup``)."""
        baseline = self.train(Arm("setup", "", "the setup as configured"), lr, weight_decay, options, False,
                              keep=True)
        self.baseline = baseline
        if not baseline.extra.get("timed_out"):
            if self.budget is not None:
                settle = mode_gap.SETTLE_PASSES if any(True for _ in self.model.buffers()) else 0
                self.charge((3 + settle) * self.budget.forward_cost(self.held.numel()))
            if self.mode_losses:
                baseline.extra["mode_losses"] = mode_gap.measure(self.kept[id(baseline)].net,
                                                                 self.X[self.held].to(self.device), self.ye,
                                                                 self.loss_fn, seed=self.seed)
        return baseline

    def run_arms(self, candidates: list, names: list) -> list:
        """Each candidate trained in turn until the budget leaves the rest out (the setup's
        ``extra["left_out"]``); an arm whose change makes the user's model raise (ids standardized
        that it casts to an embedding's indices, say) is no arm (the setup's ``extra["raised"]``)."""
        baseline, arms = self.baseline, []
        for candidate in candidates:
            arm = candidate[0]
            own = candidate[7] if len(candidate) > 7 and "batch_size" in arm.extra else None   # its own batches
            rows = len(own[0]) if own else self.size
            if self._left_out(arm, arm.extra.get("steps_factor", 1) * self.arm_steps, rows, names[len(arms):]):
                # this arm and the (less likely) ones after it
                baseline.extra["left_out"] = [c[0].name for c in candidates[len(arms):]]
                break
            try:
                arms.append(self.train(*candidate))
            except Exception as exc:
                if isinstance(exc, TrainwellError):
                    raise
                baseline.extra.setdefault("raised", {})[arm.name] = f"{type(exc).__name__}: {str(exc)[:200]}"
                continue
            if arms[-1].extra.get("repeat") and self.repeat is None:
                self.repeat = arms[-1]
        return arms

    # -- training on ---------------------------------------------------------------------------

    def train_arm_on(self, t: _Training, arm: Arm, further: list) -> Arm:
        """``arm`` (``t.arm`` or its ``longer``) trained on over the ``further`` batches on ``t``'s
        copy, optimizer and regularizers, on the setup's further dropout masks (the repeat on its
        own): a new ``Arm`` with the held loss and accuracy at the end."""
        longer = Arm(arm.name, arm.code, arm.change, before=arm.before, steps=arm.steps,
                     extra={"longer": True, **({"repeat": True} if arm.extra.get("repeat") else {})})
        state = torch.get_rng_state()
        torch.manual_seed(self.seed + LONGER_SEED + (REPEAT_SEED if arm.extra.get("repeat") else 0))
        t.net.train()
        try:
            for idx in further:
                self._step(t, longer, idx, self.step_cost)      # the lr course goes on where it was
                if self.must_stop(longer, t.net):
                    break
        finally:
            torch.set_rng_state(state)
        longer.after, longer.acc = self.held_loss(t.net, t.inputs)
        longer.rows = int(self.held.numel())
        return longer

    def train_on(self, extend_steps: int | None) -> list:
        """When a change trained better (``run_steps``), the setup and each kept training go on to
        ``LONGER`` x the setup's steps (at most the run's; ``extend_steps`` among them all), their
        results in ``Arm.longer``, then in doublings while the setup sits on a plateau. Returns the
        changes kept (neither the setup nor the repeat)."""
        baseline, kept = self.baseline, self.kept
        total = min(self.run_steps or 0, LONGER * baseline.steps)
        changes = [t.arm for t in kept.values() if t.arm is not baseline and not t.arm.extra.get("repeat")]
        if extend_steps is not None and kept:       # the trainings on within their steps: a shorter first one
            total = min(total, baseline.steps + extend_steps // len(kept))
        repeat_gen = torch.Generator().manual_seed(self.seed + REPEAT_SEED + LONGER_SEED)   # its further batches
        if total > baseline.steps and changes and not baseline.extra.get("timed_out"):
            self._train_all_on(total, changes, repeat_gen)
            self._train_on_plateau(total, changes, repeat_gen, extend_steps)
        return changes

    def _train_all_on(self, total: int, changes: list, repeat_gen: torch.Generator) -> None:
        """Every kept training on to step ``total`` on the same further batches (the repeat on its
        own, the run's order in that order), all of them or none (the time backstop)."""
        baseline, count = self.baseline, total - self.baseline.steps
        further = self.draw(self.gen, count)
        repeat_further = self.draw(repeat_gen, count) if len(self.kept) > len(changes) + 1 else []
        if not self.fits(len(self.kept), count, self.size, [f"the setup and its changes trained on to step {total}"]):
            baseline.extra["trained_on_cut"] = True
            return
        for t in self.kept.values():
            arm = t.arm
            more = (self.ordered[arm.steps:_whole_epochs(total, arm.extra["per_epoch"])] if arm.extra.get("as_run")
                    else (repeat_further if arm.extra.get("repeat") else further)[:total - arm.steps])
            if self.budget is not None and self.budget.spent_out():
                break
            arm.longer = self.train_arm_on(t, arm, more)

    def _train_on_plateau(self, total: int, changes: list, repeat_gen: torch.Generator,
                          extend_steps: int | None) -> None:
        """A setup still flat on a plateau (``on_plateau``) has no rate to extrapolate: it trains on,
        with the changes ahead of it, in doublings up to the run's steps (as the budget and
        ``extend_steps`` afford), until it moves; a doubling the setup did not finish is dropped."""
        baseline, kept, run_steps = self.baseline, self.kept, self.run_steps
        spent = len(kept) * max(0, total - baseline.steps)
        while total < run_steps and on_plateau(baseline, changes):
            goal = min(run_steps, 2 * total)
            if not self.fits(len(kept), goal - total, self.size,
                             [f"the setup and its changes trained on to step {goal}"]):
                baseline.extra["trained_on_cut"] = True
                break
            if extend_steps is not None and spent + len(kept) * (goal - total) > extend_steps:
                break
            start, total = total, goal
            spent += len(kept) * (total - start)
            further, repeat_further = self.draw(self.gen, total - start), self.draw(repeat_gen, total - start)
            done = {}
            for t in kept.values():
                arm = t.arm
                if arm.longer is None or arm.extra.get("as_run") or (self.budget is not None
                                                                     and self.budget.spent_out()):
                    continue
                later = self.train_arm_on(t, arm.longer, repeat_further if arm.extra.get("repeat") else further)
                if not later.extra.get("timed_out"):
                    done[id(arm)] = later
            if id(baseline) not in done:
                break                       # cut short: the comparison at the last whole extension stands
            for t in kept.values():
                if id(t.arm) in done:
                    t.arm.longer = done[id(t.arm)]

    def train_repeat_on(self, changes: list) -> None:
        """A raised lr still ahead trained on is compared with both runs of the setup there
        (``caught_up``): the repeat trains on last, to the setup's step, on its own further batches
        and dropout masks (``extra["trained_on"]``, not ``Arm.longer``: ``confirmed`` grades the
        setting arms as before)."""
        b = self.baseline.longer
        raised = [a for a in changes if a.code == RAISE_CODE and a.longer is not None and b is not None
                  and a.longer.steps == b.steps]
        if not raised or b.extra.get("timed_out"):
            return
        for t in self.aside.values():
            arm = t.arm
            count = b.steps - arm.steps
            if count <= 0 or (self.budget is not None and self.budget.spent_out()) or not self.fits(
                    1, count, self.size, [f"the repeat of the setup trained on to step {b.steps}"]):
                break
            g = torch.Generator().manual_seed(self.seed + REPEAT_SEED + LONGER_SEED + RAISE_SEED)
            later = self.train_arm_on(t, arm, self.draw(g, count))
            if not later.extra.get("timed_out") and later.steps == b.steps:
                arm.extra["trained_on"] = later


def _random_states(device: torch.device) -> list:
    """The CPU random stream's state and, on a CUDA device, that device's (what a forward can draw from)."""
    return [torch.get_rng_state()] + ([torch.cuda.get_rng_state(device)] if device.type == "cuda" else [])


def _in_trying_order(candidates: list) -> list:
    """The candidates in the order they run: the repeat, the unfreeze and copies arms (frozen
    parameters and a repeated layer are facts of the model, and the init symptoms they cause would
    otherwise spend a loaded machine's budget before they run), the symptoms' fixes, the settings
    the user moved, then the lr arms: a spent budget leaves out what is least often the answer."""
    settings_first = [c for c in candidates if c[0].code and c[0].code not in LR_CODES]
    model_facts = (UNFREEZE_ARM, COPIES_ARM)
    unfrozen = [c for c in settings_first if c[0].name in model_facts]
    plain = [c for c in candidates if not c[0].code]
    return (plain[:1] + unfrozen + plain[1:] + [c for c in settings_first if c[0].name not in model_facts]
            + [c for c in candidates if c[0].code in LR_CODES])


def _fit_fall(trace: list) -> float:
    """The relative fall of the training batches' own loss: the mean of the first ``CHECK_EVERY``
    batches' losses against the last ``CHECK_EVERY`` (half the trace each when shorter); -inf
    when it became non-finite."""
    k = max(1, min(CHECK_EVERY, len(trace) // 2))
    head, tail = torch.stack(trace[:k]).mean().item(), torch.stack(trace[-k:]).mean().item()
    return (head - tail) / max(abs(head), 1e-12) if math.isfinite(tail) else -math.inf


def _inconclusive(baseline: Arm, arm: Arm) -> bool:
    """A setting arm (``confirm``) whose held loss ends below the setup's, finite: ahead, but not
    (yet) beyond the noise."""
    return bool(arm.code) and arm.code not in LR_CODES and math.isfinite(arm.after) and arm.after < baseline.after


def confirmed(baseline: Arm, arm: Arm, repeat: Arm | None, *, by_loss: bool = False) -> bool:
    """Trained on with the repeat (``experiment(..., confirm=True)``), the arm trains ``significant``-ly
    better than the setup at the later step, against the repeat's spread there: a comparison too
    noisy at the arms' few steps (a dropout on the output layer of an L1 regression: the setup's
    two runs 0.06 apart at step 45, 0.016 at step 100, the arm 0.15 ahead) is decided where the
    runs have settled. False unless all three trained on to the same step."""
    runs = (baseline.longer, arm.longer, None if repeat is None else repeat.longer)
    if None in runs or any(r.extra.get("timed_out") for r in runs) or len({r.steps for r in runs}) > 1:
        return False
    return significant(runs[0], runs[1], runs[2], by_loss=by_loss)


def on_plateau(baseline: Arm, changes: list) -> bool:
    """The setup trained on (``Arm.longer``) is still flat: its held loss fell less than ``STUCK``
    since the arms' steps (and, with class ids, its accuracy rose less than ``MIN_LIFT``), while a
    change is still ahead of it (``ahead_at_end``). A deep ReLU net at PyTorch's default init can
    sit on such a plateau for a third of its run and then train to R^2 0.99: where it leaves the
    plateau only further steps show."""
    b = baseline.longer
    if b is None or b.extra.get("timed_out") or not (math.isfinite(b.after) and math.isfinite(baseline.after)):
        return False
    fell = (baseline.after - b.after) / max(abs(baseline.after), 1e-12)
    lifted = None not in (b.acc, baseline.acc) and b.acc - baseline.acc >= MIN_LIFT
    return fell < STUCK and not lifted and any(ahead_at_end(baseline, a) for a in changes)


def _regularizers(config, arm: Arm, net: nn.Module, loss_fn) -> tuple:
    """``(step_loss, after_step, after_backward)`` of an arm's training: the run's regularizers as
    fit builds them (train/regularizers.py) from ``config`` with the arm's ``extra["regularization"]``
    over the arm's copy ``net``: the loss (label smoothing) plus the L1/L2 penalty, the max-norm
    constraint after each step, the gradient noise then clip_value after each backward (the run's
    order, train/parts.build_grad_hooks; the noise annealed from the arm's first step, as the run's
    from its first). Without a config: ``loss_fn`` alone."""
    if config is None:
        return loss_fn, None, None
    changed = dataclasses.replace(config, **arm.extra.get("regularization", {}))
    data_loss, penalty = build_loss(changed), build_penalty(changed, net)
    step_loss = data_loss if penalty is None else (lambda out, yb: data_loss(out, yb) + penalty())
    clip_value = changed.clip_value
    noise = (GradientNoise(eta=changed.grad_noise, gamma=changed.grad_noise_gamma, seed=changed.seed + NOISE_SEED)
             if changed.grad_noise else None)

    def after_backward():
        if noise is not None:
            noise(net.parameters())
        if clip_value is not None:
            torch.nn.utils.clip_grad_value_([p for p in net.parameters() if p.grad is not None], clip_value)
    hooked = clip_value is not None or noise is not None
    return step_loss, build_constraint(changed, net), (after_backward if hooked else None)


def _whole_epochs(steps: int, per_epoch: int | None) -> int:
    """``steps`` cut to whole epochs of ``per_epoch`` steps when at least one fits (the run's order
    ends where the run's epochs end, after the last rows), else ``steps``."""
    return (steps // per_epoch) * per_epoch if per_epoch and per_epoch <= steps else steps


def _better(baseline: Arm, arm: Arm, repeat: Arm | None) -> bool:
    """The arm's result differs from the setup's beyond the noise in the direction that makes it
    evidence: a change trains better (``significant``, by loss too), or the run's order trains
    worse than the setup's shuffled batches (``ORDER_ARM``)."""
    if arm.extra.get("as_run"):
        return significant(arm, baseline, repeat, noise_of=baseline)
    return significant(baseline, arm, repeat, by_loss=True)


def _augmenter(augment, seed: int):
    """``xb -> xb``: ``augment(xb, generator)`` with its own generator seeded ``seed`` (the identity
    without an augmentation): the same draws wherever it is made."""
    if augment is None:
        return lambda xb: xb
    generator = torch.Generator().manual_seed(seed)
    return lambda xb: augment(xb, generator)


def _finite_weights(net) -> bool:
    return bool(torch.stack([p.detach().abs().sum() for p in net.parameters()]).sum().isfinite())


def helpful(baseline: Arm, arms: list, *, run_steps: int | None = None) -> list:
    """The arms that help. Any arm helps a setup that barely learned (its loss fell < STUCK, or
    rose) when its loss fell >= HELPS and >= HELP_RATIO x the setup's fall. Any arm also helps a
    setup that learns when its loss fell >= HELPS and ends at most 1 / HELP_RATIO of the setup's
    (regularization that works raises the training loss by a little, not threefold: notes 004; a
    thousandth of a good lr leaves the loss far above what lr x100 reaches), also where both
    trained on (``Arm.longer``): a setup that closes to within 3x of the change by then only
    learns slower at first. Every arm must also be
    ``significant`` (beyond the run's noise: a near-zero loss made a third smaller is no cause); an
    lr arm by its accuracy (a healthy setup may learn faster at another lr, which is no fault), a
    setting arm also by its held loss (``by_loss``). Setting arms come first, then the lr arms,
    each by how much it helped:
    an lr 1000x away can compensate for a setting (Adam's eps = 1 divides the step by ~1e3)
    without naming it. No arm helps a setup that is catching up with it (``trend``, with
    ``run_steps`` the run's planned steps: a setting that slows the first hundred steps but not the
    run, e.g. dropout 0.97 on a CNN that ends 2 points behind), nor one the setup trained longer
    matches (``short_lived``: ``caught_up`` when both train on, ``experiment(..., run_steps=)``;
    for an lr arm ``matched_trained_on`` where its training on was cut short), on either path.
    A change of the model (``extra["model_change"]``: ReLU for hidden sigmoids) is graded as a
    symptom's fix is (``grade``): it helps when it trains ``significant``-ly better;
    an arm with ``extra["held_accuracy"]`` (a regularizer's, the stretched lr schedule's) also helps
    when it is ``significant`` and still ahead trained on (``ahead_at_end``), whatever its loss;
    its own fall is no criterion (a short experiment at a run's start: 24 steps of momentum SGD on
    digits take a ReLU net from 9 to 31 % held accuracy while its loss falls 17 %)."""
    if baseline.extra.get("timed_out"):
        return []
    repeat = repeat_of(arms)
    arms = [a for a in arms if a.code and not a.extra.get("timed_out")]
    stuck = baseline.fall < STUCK or not math.isfinite(baseline.after)
    own = max(baseline.fall, 0.0)

    def helps(a):
        setting = a.code not in LR_CODES and not a.extra.get("model_change") and not a.extra.get("accuracy_only")
        if short_lived(baseline, a, repeat, run_steps=run_steps, by_loss=setting, arms=arms):
            return False                # the change makes the first steps faster, not the run better
        if a.extra.get("model_change"):
            # or by its held loss, confirmed by its accuracy trained on: the repeat's accuracy spread at the
            # arms' steps can swamp a real lift (a frozen random conv body's head: 68% and 78% held accuracy
            # in two runs of the setup, 89% unfrozen, a 5x lower loss; 74% against 92% trained on)
            return significant(baseline, a, repeat) or confirmed(baseline, a, repeat) or (
                significant(baseline, a, repeat, by_loss=True) and ahead_at_end(baseline, a))
        if a.extra.get("held_accuracy") and (significant(baseline, a, repeat) or confirmed(baseline, a, repeat)) \
                and ahead_at_end(baseline, a):
            return True     # a regularizer or schedule the held (unseen) rows classify significantly worse
                            # with, still trained on: it costs accuracy, whatever the loss's level (an L1 of
                            # 0.01 holds a 4-class MLP at 40% while its loss falls 9%)
        later, own_later = a.longer, baseline.longer
        if setting and confirmed(baseline, a, repeat, by_loss=True) and own_later.fall < STUCK \
                and later.fall >= max(HELPS, HELP_RATIO * max(own_later.fall, 0.0)):
            return True     # confirmed trained on (``confirm``): the setup is still stuck there and the change
                            # lets it learn (the stuck rule below, read where the three runs have settled)
        # an lr arm on a setup that barely learns is judged by its held loss too: its scores sit near their
        # start, so its held accuracy swings between two batch orders (logits / 20: 80 % and 86 %, a loss
        # of 1.75 both times) while the lr arm's loss falls 80 % (label smoothing's arm keeps its accuracy:
        # taking the smoothing off lowers the held loss whatever it costs)
        if a.fall < HELPS or not (significant(baseline, a, repeat, by_loss=setting or (stuck and a.code in LR_CODES))
                                  or (setting and confirmed(baseline, a, repeat, by_loss=True))):
            return False
        if stuck and a.fall >= HELP_RATIO * own:
            return True
        # a setup that learns: a change that ends at a third of its loss (an lr arm only when it
        # also classifies significantly better: a healthy setup may learn faster at another lr),
        # and still does where both trained on (the run's end, or nearer it: Adam at 1e-3 on digits
        # ends 135 steps at 0.26 against lr 1e-2's 0.12, a third of it at step 100 but not then)
        if not a.after * HELP_RATIO <= baseline.after:
            return False
        if later is None or own_later is None or later.steps != own_later.steps or any(
                x.extra.get("timed_out") for x in (later, own_later)):
            return True     # (the setup trained on matching what the change was last measured at: short_lived)
        return later.after * HELP_RATIO <= own_later.after
    return sorted((a for a in arms if helps(a)), key=lambda a: (a.code in LR_CODES, -a.fall))


def short_lived(baseline: Arm, arm: Arm, repeat: Arm | None, *, run_steps: int | None = None,
                by_loss: bool = False, arms: list = ()) -> bool:
    """The change helps over the first steps, not at the run's length: the setup is catching up with
    it within the run (``trend`` over the arms' steps or ``trend_trained_on`` over the span trained
    on, with ``run_steps`` the run's planned steps), or trained on it is as good as the change
    (``caught_up`` at the same step, ``by_loss`` as ``significant``'s: a setting arm's held loss
    counts too). An lr arm whose own training on was cut short (or left out) is also read against
    the setup trained on (``matched_trained_on``): a larger step wins the first steps whatever the
    run's end (the short-horizon bias), while a setting can raise where the run ends (dropout 0.97,
    docs/babysitter.md "Trained on: caught up"), so a setting is only compared at equal steps. Not
    while another arm of its code among ``arms`` is still ahead of the setup trained on where it was
    last measured (``outpaces``): lr x100 won the arms' 38 steps and the setup at step 114 matches
    it, but lr x10, behind at step 38, was 26 points ahead at step 100; the code stands, the arm
    that won the arms' steps names it. Whichever path named the change (a setup that barely learns
    in the arms' steps or one that learns slower), it then names no fault of the run. A regularizer's
    arm (``extra["held_accuracy"]``) trained on with the setup is read over that span alone: its
    training on covers the arms' steps' projection (as many steps again) with a measurement (Adam
    with l2 0.1 on a regression: the gap at steps 50 and 100 projects a catch-up by step 200, while
    at step 300 the setup's held loss is 1.6x the arm's, up from 1.4x at step 100)."""
    measured = arm.extra.get("held_accuracy") and _equal_steps(baseline, arm)
    if (not measured and trend(baseline, arm, repeat, run_steps=run_steps)["recovering"]) or \
            trend_trained_on(baseline, arm, repeat, run_steps=run_steps)["recovering"]:
        return True
    if caught_up(baseline, arm, repeat, by_loss=by_loss):
        return True
    return (arm.code in LR_CODES and not _equal_steps(baseline, arm) and matched_trained_on(baseline, arm)
            and not any(outpaces(baseline, other) for other in arms if other.code == arm.code))


def outpaces(baseline: Arm, arm: Arm) -> bool:
    """The change, where it was last measured (its training on, cut short or not, else the arms'
    steps), trains ``significant``-ly better (``caught_up``'s margins) than the setup trained on to
    at least as many steps: ahead of the setup's longer run although it trained fewer steps. False
    without the setup trained on."""
    b = baseline.longer
    if b is None or b.extra.get("timed_out") or not math.isfinite(b.after) or arm.extra.get("timed_out"):
        return False
    a = _last_measured(arm)
    return a.steps <= b.steps and significant(b, a, None)


def matched_trained_on(baseline: Arm, arm: Arm) -> bool:
    """The setup trained on to its end (``Arm.longer``, not cut short) no longer trains ``significant``-ly
    worse (``caught_up``'s margins) than the change as far as the change was measured: its own training
    on where the budget cut it short, else its result at the arms' steps. The change's last measurement
    is at fewer steps than the setup's, which favours the setup; it is read only where the equal-step
    comparison (``caught_up``) is missing. An lr that wins a short horizon need not win the run (the
    short-horizon bias: Wu et al. 2018, "Understanding Short-Horizon Bias in Stochastic Meta-Optimization",
    where greedy choices late in training favour too small an lr; early in a run a larger lr wins the
    first steps while the setup's own still converges): a GRU at Adam 2e-3 that trails lr x10 by 23
    points of held accuracy after 64 steps has reached 100 % by step 192, as lr x10 had. Both lr codes
    are read so, on either of ``helpful``'s paths (``short_lived``). False without the setup trained on."""
    b = baseline.longer
    if b is None or b.extra.get("timed_out") or not math.isfinite(b.after):
        return False
    a = _last_measured(arm)
    if a.steps > b.steps:
        return False
    return not significant(b, a, None)


def findings(baseline: Arm, arms: list, *, run_steps: int | None = None) -> list[Finding]:
    """One finding per cause whose change helped (its most helpful arm), strongest first
    (``run_steps``: the run's planned steps, for ``helpful``'s trend test)."""
    out, seen = [], set()
    others = {a.name: {"fall": a.fall, "loss": a.after} for a in arms if a.code}
    helped = helpful(baseline, arms, run_steps=run_steps)
    repeat = repeat_of(arms)
    # an arm that changes one named part (``extra["specific"]``: the dropout on the output alone) names
    # the cause before a broader arm of its code that also helped (all dropout off)
    specific = {a.code: a for a in reversed(helped) if a.extra.get("specific")}
    for arm in helped:
        if arm.code in seen:
            continue
        seen.add(arm.code)
        best = specific.get(arm.code, arm)
        arm = smallest_lr_change(baseline, best, arms, repeat)
        own = ("became non-finite" if not math.isfinite(baseline.after) else
               f"fell {100 * baseline.fall:.0f}%" if baseline.fall >= 0 else f"rose {-100 * baseline.fall:.0f}%")
        message = (f"with {arm.change} the loss fell {100 * arm.fall:.0f}% in {arm.steps} steps "
                   f"({arm.before:.4g} -> {arm.after:.4g}); the setup's own {own}")
        trained_on, longer = _trained_on(baseline, arm)
        message += trained_on
        evidence = {"intervention": arm.name, "rank": len(out) + 1, "fall": arm.fall,
                    "setup_fall": baseline.fall, "steps": arm.steps, "cause": arm.change, "arms": others,
                    **{k: v for k, v in arm.extra.items() if not callable(v)},   # (an arm's lr course stays out)
                    **longer}
        if "lr_factor" in best.extra:
            # a raise planned before the first step (plans.raise_plan) takes the arm that fell furthest, not the
            # advised one (``evidence["lr_factor"]``): its probation rolls back a raise that does not hold, where a
            # user who follows the text has none (the smaller advised raise left tests/babysit/test_sizing.py's
            # noisy slow regression run 6 points short)
            evidence["best_lr_factor"] = best.extra["lr_factor"]
        if arm is not best:
            evidence["best_arm"] = best.name
            message += (f"; {best.name} fell further ({best.before:.4g} -> {best.after:.4g}), not beyond the "
                        f"setup's noise: the smaller change is advised")
        out.append(make(arm.code, message, evidence=evidence, fix=_fix(arm)))
    return out


def smallest_lr_change(baseline: Arm, best: Arm, arms: list, repeat: Arm | None) -> Arm:
    """The lr arm a finding advises for ``best`` (its lr code's most helpful arm, ``helpful``): of
    the ``arms`` of that code that train ``significant``-ly better than the setup, the one whose lr is
    nearest the setup's (``extra["lr_factor"]`` nearest 1 in decades) that ``best`` does not train
    ``significant``-ly better than (the setup's noise, ``noise_of=baseline``) where both were last
    measured at the same steps (``Arm.longer``: both trained on, else the arms' steps), else ``best``.
    ``best`` names the code; a smaller change need not pass ``helpful``'s fall thresholds to be the
    advice (lr x10 on set 5's glyphs fell 13 % in 100 steps, under ``HELPS``, and trained on to step
    300 classified 52 % of the held rows right against lr x100's 44 %). The arm that falls most over the arms'
    hundred steps is biased toward the larger lr (the short-horizon bias: Wu et al. 2018), and
    the lr range test (Smith 2017) advises the largest lr that still trains well, backed off from
    where the loss starts to rise, not the one that fell fastest over a short window: a gain within
    the noise is no evidence for the larger step. Any other code: ``best``."""
    if best.code not in LR_CODES or "lr_factor" not in best.extra:
        return best
    near = [a for a in arms if a is best or (
        a.code == best.code and a.steps == best.steps and "lr_factor" in a.extra and not a.extra.get("timed_out")
        and significant(baseline, a, repeat)
        and not significant(*_furthest_together(a, best), repeat, noise_of=baseline))]
    return min(near, key=lambda a: abs(math.log(a.extra["lr_factor"])))


def _furthest_together(a: Arm, b: Arm) -> tuple:
    """``a`` and ``b`` where both were measured furthest at the same steps: trained on
    (``Arm.longer``, neither cut by the budget), else at the arms' steps."""
    la, lb = a.longer, b.longer
    if la is not None and lb is not None and la.steps == lb.steps and not (
            la.extra.get("timed_out") or lb.extra.get("timed_out")):
        return la, lb
    return a, b


def _trained_on(baseline: Arm, arm: Arm) -> tuple[str, dict]:
    """Where both trained on to the same step (``Arm.longer``: what ``short_lived`` read before the
    arm was kept), those numbers: in words for the message, and as the finding's evidence entry
    ``{"longer": ...}``; else ``("", {})``."""
    a, b = arm.longer, baseline.longer
    if a is None or b is None or a.steps != b.steps or a.extra.get("timed_out") or b.extra.get("timed_out"):
        return "", {}
    return (f"; trained on to step {a.steps}: {a.after:.4g} against the setup's {b.after:.4g}{_held_right(a, b)}",
            {"longer": _side_by_side(b, a)})


def _fix(arm: Arm) -> str:
    if arm.extra.get("fix"):
        return arm.extra["fix"]
    if arm.extra.get("no_clip"):
        return "clip at a norm the gradients reach only when they spike (e.g. clip_norm=1.0), or not at all"
    if arm.code == "optimizer_setting" and arm.extra.get("options"):
        return "leave the optimizer's " + ", ".join(arm.extra.get("options", {})) + " at its default"
    if arm.setting is not None:
        return f"use {arm.setting.new}"
    return f"use {arm.change}"


def grade(found: list, baseline: Arm, arms: list, *, run_steps: int | None = None) -> list[Finding]:
    """``found`` with each symptom graded by its fixes (``CODES[code].graded_by``: a symptom arm,
    or the lr arms for the probe's lr warnings): a warning stays a warning when a fix trains
    ``significant``-ly better than the setup (evidence ``harm``), else it becomes ``info`` (the
    symptom is present but does not hurt this run), also when every significant fix is one the setup
    is catching up with (``trend``: with ``run_steps``, the run's planned steps, the setup
    recovers from the symptom within the run; or ``caught_up``: trained on, the setup matches it). Errors,
    findings without a fix that ran and unit statistics measured during training are returned unchanged;
    nothing is graded without a repeat of the setup (the noise). A warning or error whose every fix made
    the model raise (``extra["raised"]``: ids standardized that the model casts to an embedding's indices,
    say) becomes ``info``: the fix does not apply to this model. A graded finding is a new ``Finding``
    (``found`` is left as it was), one per finding in ``found``'s order."""
    repeat = repeat_of(arms)
    if baseline.extra.get("timed_out") or repeat is None or repeat.extra.get("timed_out"):
        return list(found)
    ran = {a.name: a for a in arms if not a.extra.get("timed_out")}
    return [_graded(f, baseline, ran, repeat, run_steps) for f in found]


def _graded(f: Finding, baseline: Arm, ran: dict, repeat: Arm, run_steps: int | None) -> Finding:
    """``f`` graded by the fixes of it that ran (``ran``: name -> arm), ``f`` itself where it is not graded."""
    tried = [ran[n] for n in graded_fixes(f) if n in ran]
    raised = baseline.extra.get("raised", {})
    refused = {n: raised[n] for n in graded_fixes(f) if n in raised}
    if f.severity != "info" and refused and not tried:     # the fix is not one this model takes
        return _fix_refused(f, refused)
    if not _graded_here(f) or not tried:
        return f
    if tried[0].extra.get("as_run"):
        return _grade_as_run(f, baseline, tried[0], repeat)
    return _graded_by_fixes(f, _FixesTried.measure(baseline, tried, repeat, run_steps), tried, run_steps)


def _graded_here(f: Finding) -> bool:
    """A warning, or an error whose finding says it is graded (``GRADED``: a setup that still trains
    a valid model, whose fix the experiment tried); not a unit statistic measured during training (a
    symptom of the updates, not of the init)."""
    graded = f.severity == "warning" or (f.severity == "error" and f.evidence.get(GRADED))
    return bool(graded) and not (f.in_training and CODES[f.code].phase == "preflight")


def _graded_as(f: Finding, words: str, severity: str | None = None, **evidence) -> Finding:
    """A new ``f`` with ``words`` added to its message, ``evidence`` to its evidence and, where given,
    ``severity``."""
    return dataclasses.replace(f, severity=severity or f.severity, evidence={**f.evidence, **evidence},
                               message=f.message + words)


def _fix_refused(f: Finding, refused: dict) -> Finding:
    """``f`` as ``info``: every fix of it made the model raise (``refused``: arm -> the exception in words)."""
    first, raised = next(iter(refused.items()))
    return _graded_as(f, f"; its fix does not apply to this model: with {first} the model raises {raised} (it "
                         f"reads these inputs as they are: ids or codes, say)", "info",
                      fix_refused={n: f"the model raises {e}" for n, e in refused.items()})


@dataclass(frozen=True)
class _FixesTried:
    """A symptom's fixes trained against the setup (``grade``): ``best``, the fix whose loss ends lowest
    of those that help (else of all tried); ``helps``: some fix trains ``significant``-ly better, or is
    still ahead where both trained on; ``hurts``: one that helps is one the setup neither recovers from
    (``trend``) nor catches up with (``caught_up``); for ``best``: ``ahead`` (still ahead trained on),
    ``reached`` (the setup caught up with it) and ``recovery`` (``_catching_up``; None where none helps)."""

    setup: Arm
    repeat: Arm
    best: Arm
    helps: bool
    hurts: bool
    ahead: bool
    reached: bool
    recovery: dict | None

    @classmethod
    def measure(cls, baseline: Arm, tried: list, repeat: Arm, run_steps: int | None) -> "_FixesTried":
        # trained on, the comparison there decides both ways: a fix the setup caught up with does
        # not hurt (``caught_up``), one still ahead does, whatever the spread at the arms' steps
        ahead = [ahead_at_end(baseline, a) for a in tried]
        helping = [a for a, later in zip(tried, ahead) if later or significant(baseline, a, repeat)]
        best = max(helping or tried, key=lambda a: gain(baseline, a))
        catching_up = [_catching_up(baseline, a, repeat, run_steps, later) for a, later in zip(tried, ahead)
                       if a in helping]
        reached = [_setup_reached(baseline, a, tried, repeat) for a in helping]
        i = helping.index(best) if helping else None
        return cls(baseline, repeat, best, helps=bool(helping),
                   hurts=bool(helping) and not all(t["recovering"] or r for t, r in zip(catching_up, reached)),
                   ahead=ahead[tried.index(best)], reached=bool(helping) and reached[i],
                   recovery=catching_up[i] if helping else None)

    @property
    def harm(self) -> dict:
        """``evidence["harm"]``: the best fix's and the setup's losses, the noise, the verdict."""
        b, s = self.best, self.setup
        return {"fix": b.name, "setup_loss": s.after, "fix_loss": b.after, "repeat_loss": self.repeat.after,
                "noise": noise(s, self.repeat), "steps": b.steps, "hurts": self.hurts}

    @property
    def numbers(self) -> str:
        b = self.best
        return (f"with {b.change} the loss ends at {b.after:.4g} after {b.steps} steps, the setup's "
                f"at {self.setup.after:.4g} (a repeat on other batches: {self.repeat.after:.4g})")


def _setup_reached(baseline: Arm, arm: Arm, tried: list, repeat: Arm) -> bool:
    """Trained on, the setup caught up with ``arm`` (``caught_up``), or, for an lr arm whose own
    training on was cut short, matches it as far as it was measured (``matched_trained_on``) while no
    arm of its code outpaces the setup (``outpaces``)."""
    return caught_up(baseline, arm, repeat) or (
        arm.code in LR_CODES and not _equal_steps(baseline, arm) and matched_trained_on(baseline, arm)
        and not any(outpaces(baseline, o) for o in tried if o.code == arm.code))


def _graded_by_fixes(f: Finding, m: _FixesTried, tried: list, run_steps: int | None) -> Finding:
    """``f`` graded by the fixes ``tried`` (measured: ``m``), the first outcome that holds, in this order."""
    # an error is only cleared by a whole experiment: a budget-cut one (a slow model, a loaded
    # machine) is too short to show that its fix does not help, only that it does
    short = f.severity == "error" and min(a.steps for a in tried + [m.setup]) < STEPS
    if m.hurts:
        return _hurts(f, m)
    if short:
        return _graded_as(f, f"; the budget cut the experiment short: {m.numbers}", harm=m.harm)
    if not m.helps:
        return _graded_as(f, f"; it does not hurt this run: {m.numbers}", "info", harm=m.harm)
    if m.reached and _equal_steps(m.setup, m.best):
        return _setup_caught_up(f, m)
    if m.reached:
        return _setup_matched(f, m)
    return _setup_recovers(f, m, run_steps)


def _hurts(f: Finding, m: _FixesTried) -> Finding:
    """The fix helps and the setup does not catch up: ``f`` keeps its severity, with where both
    trained on when the fix is still ahead there."""
    if not m.ahead:
        return _graded_as(f, f"; it hurts: {m.numbers}", harm=m.harm)
    a, b = m.best.longer, m.setup.longer
    return _graded_as(f, f"; it hurts: {m.numbers}; trained on to step {a.steps} the fix is still ahead: "
                         f"{a.after:.4g} against {b.after:.4g}{_held_right(a, b)}",
                      harm={**m.harm, "longer": _side_by_side(b, a)})


def _setup_caught_up(f: Finding, m: _FixesTried) -> Finding:
    """``info``: both trained on to the same step, the setup caught up with the fix (``caught_up``)."""
    a, b = m.best.longer, m.setup.longer
    return _graded_as(f, f"; the setup catches up: {m.numbers}, but trained on to step {a.steps} both end at "
                         f"{b.after:.4g} and {a.after:.4g}{_held_right(b, a, 'and')}", "info",
                      harm={**m.harm, "longer": _side_by_side(b, a)})


def _setup_matched(f: Finding, m: _FixesTried) -> Finding:
    """``info``: the fix's own training on was cut short (or left out), and the setup trained on matches
    what the fix was last measured at, at fewer steps (``matched_trained_on``: the lr)."""
    a, b = _last_measured(m.best), m.setup.longer
    return _graded_as(f, f"; the setup catches up: {m.numbers}, but trained on to step {b.steps} it ends at "
                         f"{b.after:.4g}, the fix at step {a.steps} (as far as the budget trained it) at "
                         f"{a.after:.4g}{_held_right(b, a, 'and')}", "info",
                      harm={**m.harm, "matched": {"steps": b.steps, "fix_steps": a.steps, **_side_by_side(b, a)}})


def _setup_recovers(f: Finding, m: _FixesTried, run_steps: int | None) -> Finding:
    """``info``: the setup's gap to the fix shrinks fast enough to close within the run (``trend``)."""
    t = m.recovery
    return _graded_as(f, f"; the setup recovers from it: {m.numbers}, but its gap to the fix shrank from "
                         f"{t['gap_mid']:.3g} at step {t['mid_steps']} to {t['gap_end']:.3g} at step {t['steps']} "
                         f"({t['measure']}), which at that rate leaves {t['projected']:.2g} by the run's end "
                         f"(step {run_steps})", "info", harm={**m.harm, "trend": t})


def _catching_up(baseline: Arm, arm: Arm, repeat: Arm, run_steps: int | None, ahead: bool) -> dict:
    """``trend`` over the arms' steps (not when the fix is still ahead where both trained on), else
    over the span trained on (``trend_trained_on``): whichever shows the setup recovering."""
    first = {**trend(baseline, arm, repeat, run_steps=run_steps), **({"recovering": False} if ahead else {})}
    if first["recovering"]:
        return first
    later = trend_trained_on(baseline, arm, repeat, run_steps=run_steps)
    return later if later["recovering"] else first


def _grade_as_run(f: Finding, baseline: Arm, as_run: Arm, repeat: Arm) -> Finding:
    """``f``, a symptom of the run's data order (``ORDER_ARM``), graded: here the setup's own shuffled
    batches are the fix, and the symptom hurts when they train ``significant``-ly better than the rows
    in the run's order (a warning stays, else ``info``); where both trained on (the order to its last
    whole epoch, the setup no less), the comparison there decides."""
    later, fix = as_run.longer, baseline.longer
    shown = significant(as_run, baseline, repeat, noise_of=baseline)
    trained_on = shown and _order_trained_on(as_run, later, fix)
    hurts = significant(later, fix, None) if trained_on else shown   # caught_up's margins, without the spread
    harm = {"fix": "shuffled batches", "setup_loss": as_run.after, "fix_loss": baseline.after,
            "repeat_loss": repeat.after, "noise": noise(baseline, repeat), "steps": as_run.steps,
            "hurts": hurts, "setup_acc": as_run.acc, "fix_acc": baseline.acc,
            **({"longer": _side_by_side(later, fix)} if trained_on else {})}
    numbers = (f"in the run's order the loss ends at {as_run.after:.4g} after {as_run.steps} steps, on shuffled "
               f"batches at {baseline.after:.4g} (a repeat on other batches: {repeat.after:.4g})"
               + (f"; {100 * as_run.acc:.1f}% against {100 * baseline.acc:.1f}% of the held rows right"
                  if None not in (as_run.acc, baseline.acc) else ""))
    if trained_on:
        numbers += (f"; trained on to step {later.steps}: {later.after:.4g} against {fix.after:.4g}"
                    + (f" ({100 * later.acc:.1f}% against {100 * fix.acc:.1f}%)"
                       if None not in (later.acc, fix.acc) else ""))
    if hurts:
        return _graded_as(f, f"; it hurts: {numbers}", harm=harm)
    return _graded_as(f, f"; it does not hurt this run: {numbers}", "info", harm=harm)


def _order_trained_on(as_run: Arm, later: Arm | None, fix: Arm | None) -> bool:
    """The run's order and the shuffled setup both trained on (``Arm.longer``), neither cut short, the
    order further than its arm's steps and no further than the setup."""
    return (later is not None and fix is not None and as_run.steps < later.steps <= fix.steps
            and not (later.extra.get("timed_out") or fix.extra.get("timed_out")))


def _side_by_side(setup: Arm, fix: Arm) -> dict:
    """The setup and a fix where both trained on (``Arm.longer``) as evidence: the setup's steps,
    both held losses and accuracies."""
    return {"steps": setup.steps, "setup_loss": setup.after, "fix_loss": fix.after, "setup_acc": setup.acc,
            "fix_acc": fix.acc}


def _held_right(first: Arm, second: Arm, joint: str = "against") -> str:
    """`` (91.0% against 88.5% of the held rows right)`` for two arms' held accuracies, "" without them."""
    if None in (first.acc, second.acc):
        return ""
    return f" ({100 * first.acc:.1f}% {joint} {100 * second.acc:.1f}% of the held rows right)"


def _last_measured(arm: Arm) -> Arm:
    """Where ``arm`` was last measured: its training on (``Arm.longer``, cut short or not) where that
    went past the arms' steps, else the arm itself."""
    return arm.longer if arm.longer is not None and arm.longer.steps > arm.steps else arm


def caught_up(baseline: Arm, arm: Arm, repeat: Arm | None, *, by_loss: bool = False) -> bool:
    """Trained on to ``LONGER`` x the steps (``Arm.longer``, never beyond the run), the change no
    longer trains better than the setup by ``significant``'s margins without the repeat's spread
    (less than ``MIN_LIFT`` or 2 standard errors of the held rows; by loss less than ``MIN_GAIN`` of
    the start and, without accuracies, less than ``KILL_RATIO`` x lower or ``MIN_POINTS`` of the
    start): it made the first steps faster, not the run better. The repeat's spread is measured
    at the arms' steps, where a setup still in flux varies by points that it no longer does later.
    A raised lr (``RAISE_CODE``) where the repeat trained on too (``extra["trained_on"]``) is read
    against the better of the setup's two runs there, its accuracy lead by ``shown_lift``.
    False unless both trained on to the end."""
    a, b = arm.longer, baseline.longer
    if a is None or b is None or a.extra.get("timed_out") or b.extra.get("timed_out") or a.steps != b.steps:
        return False
    if arm.code == RAISE_CODE and _repeat_trained_on(b, repeat) is not None:
        b = best_trained_on(b, repeat)
        if None not in (a.acc, b.acc) and a.rows:
            return not shown_lift(b, a)
    return not significant(b, a, None, by_loss=by_loss)


def shown_lift(setup: Arm, arm: Arm) -> bool:
    """The arm's held accuracy leads the setup's by at least ``MIN_LIFT`` as one statistic: the lead
    less ``MIN_LIFT`` exceeds ``SAMPLING_Z`` standard errors of a difference of two accuracies on the
    held rows (a lead of 4.5 points on 512 rows at 98 % is 1.5 points past ``MIN_LIFT``, within its
    1.8-point error: not shown to be a setup that ends measurably worse)."""
    lift = arm.acc - setup.acc
    p = (arm.acc + setup.acc) / 2
    return lift - MIN_LIFT > SAMPLING_Z * math.sqrt(2 * p * (1 - p) / arm.rows)


def _repeat_trained_on(setup: Arm, repeat: Arm | None) -> Arm | None:
    """The repeat trained on to ``setup``'s step (``extra["trained_on"]``, finished and finite), else None."""
    r = None if repeat is None else repeat.extra.get("trained_on")
    if r is None or r.extra.get("timed_out") or r.steps != setup.steps or not math.isfinite(r.after):
        return None
    return r


def best_trained_on(setup: Arm, repeat: Arm | None) -> Arm:
    """Of the setup trained on (``setup``: ``Arm.longer``) and its repeat trained on to the same step
    (``extra["trained_on"]``, made for a raised lr), the run that ends better: with accuracies the
    higher, else the lower held loss; ``setup`` without a finished repeat there. Two runs of a setup
    that escapes a plateau late part by 10 points and more (a CNN on raw pixels at Adam 2e-3: 72 and
    64 % at step 100), so one of them is one draw of where the setup ends."""
    r = _repeat_trained_on(setup, repeat)
    if r is None:
        return setup
    if None not in (r.acc, setup.acc):
        return r if r.acc > setup.acc else setup
    return r if not math.isfinite(setup.after) or r.after < setup.after else setup


def _equal_steps(baseline: Arm, arm: Arm) -> bool:
    """Both trained on (``Arm.longer``) to the same step, neither cut short: ``caught_up`` and
    ``ahead_at_end`` can compare them."""
    a, b = arm.longer, baseline.longer
    return None not in (a, b) and a.steps == b.steps and not (a.extra.get("timed_out") or b.extra.get("timed_out"))


def ahead_at_end(baseline: Arm, arm: Arm) -> bool:
    """Trained on to the same step (``Arm.longer``), the change still trains ``significant``-ly
    better than the setup by the margins ``caught_up`` uses (the arms' spread at their own steps
    left out: a setup still in flux varies by points there that it no longer does later)."""
    a, b = arm.longer, baseline.longer
    if a is None or b is None or a.extra.get("timed_out") or b.extra.get("timed_out") or a.steps != b.steps:
        return False
    return significant(b, a, None)


def _accuracy_floor(baseline: Arm, arm: Arm, repeat: Arm | None) -> float:
    """What a change of an accuracy gap must exceed to be more than noise: ``NOISE_FACTOR`` x the
    repeat's difference and ``SAMPLING_Z`` standard errors of the held rows' sampling."""
    p = (arm.acc + baseline.acc) / 2
    spread = 0.0 if repeat is None or repeat.acc is None or repeat.extra.get("timed_out") else abs(
        baseline.acc - repeat.acc)
    return max(NOISE_FACTOR * spread, SAMPLING_Z * math.sqrt(2 * p * (1 - p) / arm.rows))


def trend(baseline: Arm, arm: Arm, repeat: Arm | None, *, run_steps: int | None) -> dict:
    """Whether the setup is catching up with a fix that ends significantly better: its gap to the
    fix (accuracy with class ids, else loss) half-way through the experiment and at its end. The
    setup is ``recovering`` when the gap shrank by more than the run's noise (``NOISE_FACTOR`` x
    the repeat's difference and, for accuracies, ``SAMPLING_Z`` standard errors) and, shrinking
    geometrically at the rate seen for as many steps again as the experiment ran (never beyond the
    planned run, ``run_steps``), falls below what ``significant`` calls a difference (``MIN_LIFT``,
    or ``MIN_GAIN`` of the start). A symptom
    the net grows out of over the run (a x10 init or huge inputs under batch norm) costs the
    first steps, not the result. No recovery is concluded without a half-way measurement or when
    the experiment already covers the planned run."""
    out = {"recovering": False, "mid_steps": arm.mid_steps, "steps": arm.steps, "gap_mid": math.nan,
           "gap_end": math.nan, "projected": math.nan, "measure": "loss"}
    if (not arm.mid_steps or baseline.mid_steps != arm.mid_steps or not run_steps
            or run_steps <= arm.steps or arm.steps <= arm.mid_steps):
        return out
    accs = None not in (arm.acc, baseline.acc, arm.mid_acc, baseline.mid_acc) and arm.rows
    if accs:
        gap_mid, gap_end = arm.mid_acc - baseline.mid_acc, arm.acc - baseline.acc
        floor = _accuracy_floor(baseline, arm, repeat)
        level = MIN_LIFT
    else:
        values = (arm.after, baseline.after, arm.mid_after, baseline.mid_after)
        if not all(math.isfinite(v) for v in values):
            return out
        gap_mid, gap_end = baseline.mid_after - arm.mid_after, baseline.after - arm.after
        floor = NOISE_FACTOR * noise(baseline, repeat)
        starts = [abs(v) for v in (baseline.before, arm.before) if math.isfinite(v)]
        level = MIN_GAIN * (min(starts) if starts else 0.0)
    out.update(gap_mid=gap_mid, gap_end=gap_end, measure="held accuracy" if accs else "held loss")
    if not (gap_mid > gap_end > 0) or gap_mid - gap_end <= floor:
        return out
    ahead = min(run_steps - arm.steps, arm.steps)
    if not accs and min(values) > 0:
        # losses are compared as ratios: a loss that starts 1e4x too high (inputs x1000, a x10
        # init) falls by orders of magnitude in its first steps and then levels off, so its gap in
        # loss units closes geometrically at first while the setup stays many times above the fix.
        # The log-ratio log(setup / fix) is what shrinks when the setup really catches up; the
        # projected ratio is turned back into a gain over the fix's own loss (which only falls on).
        ratio_mid = math.log(baseline.mid_after / arm.mid_after)
        ratio_end = math.log(baseline.after / arm.after)
        if not ratio_mid > ratio_end > 0:
            return out
        projected_ratio = ratio_end * (ratio_end / ratio_mid) ** (ahead / (arm.steps - arm.mid_steps))
        projected = arm.after * math.expm1(projected_ratio)
        out.update(projected=projected, recovering=projected < level, measure="held loss (ratio)")
        return out
    rate = gap_end / gap_mid                         # the gap's ratio per (steps - mid_steps) steps
    # extrapolated no further than measured (another ``steps``): a gap closes fast at first and can
    # stall (saturating units, a x10 init on a net without normalization), so a longer run is no evidence
    projected = gap_end * rate ** (ahead / (arm.steps - arm.mid_steps))
    out.update(projected=projected, recovering=projected < level)
    return out


def trend_trained_on(baseline: Arm, arm: Arm, repeat: Arm | None, *, run_steps: int | None) -> dict:
    """``trend`` read over the span both trained on (``Arm.longer``): the gap at the arms' steps
    against the gap where they trained on to, extrapolated as far again within the run. A setup
    that learns steadily but slower (Adam 1e-3 on rings: 31 points behind lr 1e-2 at step 100,
    5.5 at step 300, 0.1 at the run's step 1140) closes in on the change over that span although
    it is still significantly behind at its end; the same margins decide (``trend``'s docstring)."""
    a, b = arm.longer, baseline.longer
    out = {"recovering": False}
    if a is None or b is None or a.steps != b.steps or a.steps <= arm.steps or any(
            x.extra.get("timed_out") for x in (a, b)):
        return out

    def span(x, later):
        return Arm(x.name, x.code, x.change, before=x.before, after=later.after, steps=later.steps, acc=later.acc,
                   rows=x.rows, mid_after=x.after, mid_acc=x.acc, mid_steps=x.steps)
    spread = repeat
    if repeat is not None and not repeat.extra.get("timed_out"):   # the repeat's spread at the arms' steps,
        spread = Arm(repeat.name, "", repeat.change, before=repeat.before, steps=repeat.steps, rows=repeat.rows,
                     after=b.after + (repeat.after - baseline.after),   # carried to the setup trained on
                     acc=None if None in (repeat.acc, baseline.acc, b.acc) else b.acc + repeat.acc - baseline.acc)
    return trend(span(baseline, b), span(arm, a), spread, run_steps=run_steps)


# The changes of the model an arm tries that a repair action makes in a run (the setting arms'
# changes are the planners' to make: they read the run's own evidence).
ARM_ACTIONS = {RELU_ARM: ("swap_activations", {})}


def repair_plan(finding: Finding) -> Plan | None:
    """The repair an experiment chose: the action of a graded symptom's fix that helped
    (``evidence["harm"]["fix"]``) or of a model change that helped (``ARM_ACTIONS``, e.g. ReLU
    for hidden sigmoids), or None when it was not graded or the fix did not help."""
    arm = finding.evidence.get("intervention")
    if arm in ARM_ACTIONS:
        action, options = ARM_ACTIONS[arm]
        return make_plan(action, f"{finding.code}: the experiment's change helped: {finding.message}", **options)
    harm = finding.evidence.get("harm") or {}
    if not harm.get("hurts") or harm.get("fix") not in SYMPTOM_ARMS or SYMPTOM_ARMS[harm["fix"]][3] is None:
        return None
    action, options = SYMPTOM_ARMS[harm["fix"]][3]
    return make_plan(action, f"{finding.code}: the experiment's fix ({harm['fix']}) ends at {harm['fix_loss']:.4g} "
                             f"against the setup's {harm['setup_loss']:.4g} in {harm['steps']} steps", **options)
