"""Repairs: the babysitter's ``babysit="repair"`` mode. Problem -> measured evidence -> a change
that addresses the cause -> roll back to the last good state -> continue.

``Repairer(monitor)`` is a callback placed after the ``Monitor``. It

1. at fit start runs the cheap pre-flight checks (data, labels, loss/output, input statistics,
   activation statistics, initial loss, symmetry: one forward pass, no training) on the
   training data and repairs what they find before the first step;
2. keeps snapshots: the start (after those repairs) and the last healthy epoch end;
3. reads the monitor's new findings after every step and epoch; for one it can fix it picks the
   root cause first (``Diagnosis.ranked``: ``findings.CAUSES``, then ``PRIORITY``), plans a
   repair from the finding's evidence (``POLICY``: one
   planner per code), rolls back (``trainer.restore``) and changes the setting through the
   trainer's repair methods (``set_lr_scale``, ``set_clip_norm``, ``rebuild_optimizer``,
   ``add_preprocess``) or the model in place (re-initialization, activation swap, removing an
   output activation the loss applies itself);
4. records each repair ``{"step", "epoch", "code", "where", "action", "reason", "before",
   "after"}`` in ``state.extras["babysit"]["repairs"]``;
5. gives up after ``max_repairs`` (``state.stop = "babysitter: gave up after 3 repairs: ..."``)
   or on an error it cannot fix, and never raises into training.

Healthy runs produce no actionable finding, so nothing changes; the snapshots cost one copy of
the weights and optimizer state per epoch.
"""
from __future__ import annotations

import math
import statistics

import torch
from torch import nn

from trainwell.babysit.findings import Diagnosis, Finding
from trainwell.babysit.preflight import preflight
from trainwell.babysit.rules import STRONG_DECAY, WINDOW
from trainwell.train.state import Stop, StopKind

LR_STEP = 10.0              # notes 004: "lower the lr about 10x" / "raise the lr about 10x"
OSCILLATION_STEP = 3.0      # rules.oscillating_loss's fix: lower about 3x
TARGET_RATIO = 1e-2         # lower a too-high update ratio to a third of the rule's 3e-2 threshold
MAX_FACTOR = 100.0          # no single repair lowers the lr by more than two decades
MAX_RAISE = 1e5             # raising is bounded by the measured update ratio, not by a cap of 100:
                            # lr = 1e-6 gives ratios near 1e-8, five decades below the target
EXPLODE_FACTOR = 3.0        # notes 004: cost > 3x original -> break out
SATURATING = (nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardsigmoid)
RELU_FAMILY = (nn.ReLU, nn.ReLU6, nn.ELU, nn.CELU, nn.SELU, nn.GELU, nn.SiLU, nn.Mish,
               nn.LeakyReLU, nn.PReLU)
OUTPUT_ACTIVATIONS = (nn.Softmax, nn.LogSoftmax, nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardsigmoid, nn.Softsign,
                      nn.ReLU, nn.ReLU6, nn.Softplus)

# ------------------------------------------------------------------------------ planners
# Each planner reads the finding's evidence and the run (``ctx``: trainer, state, attempts of
# this code, whether it is found before training) and returns a plan: {"action", "options",
# "rollback" ("start" | "last" | None), "reason"}, or a string: why it cannot repair.
def _lr_of(ctx):
    return ctx["state"].lr or ctx["trainer"].optimizer.param_groups[0]["lr"]


def _loss_falling(ctx) -> bool:
    """The median sampled loss of the last 8 samples is below that of the 8 before."""
    losses = [s["loss"] for s in ctx["monitor"].samples[-16:] if math.isfinite(s["loss"])]
    half = len(losses) // 2
    return bool(half) and statistics.median(losses[half:]) < statistics.median(losses[:half])


def _median_update_ratio(ctx):
    ratios = [r for s in ctx["monitor"].samples[-32:] for r in s.get("update_ratio", {}).values()
              if r is not None and math.isfinite(r)]
    return statistics.median(ratios) if ratios else None


def _healthy_grad_norm(ctx):
    totals = [math.sqrt(sum(v * v for v in s["grad_norm"].values())) for s in ctx["monitor"].samples[:3]
              if s.get("grad_norm")]
    totals = [t for t in totals if math.isfinite(t) and t > 0]
    return statistics.median(totals) if totals else None


def _lower_lr(factor, reason, *, rollback="last", clip=None):
    return {"action": "lower_lr", "options": {"factor": factor, "clip_norm": clip},
            "rollback": rollback, "reason": reason}


def plan_diverged(f, ctx):
    """nonfinite_loss / loss_exploding / lr_too_high: the updates are too large (notes 004)."""
    if f.evidence.get("batch_finite") is False:
        return "the batch itself holds NaN/inf: drop or impute those rows (the lr is not the cause)"
    clip = None
    if ctx["attempts"] >= 1 or f.code == "nonfinite_loss":
        clip = ctx["trainer"].settings.get("clip_norm") or 5.0 * (_healthy_grad_norm(ctx) or 0.2)
    return _lower_lr(LR_STEP, f"{f.code}: lower the lr {LR_STEP:g}x (notes 004: 'loss exploding / NaN: "
                              f"learning rate too high')" + (f" and clip the gradient norm at {clip:.3g}" if clip else ""),
                     clip=clip)


def plan_oscillating(f, ctx):
    return _lower_lr(OSCILLATION_STEP, f"the loss jumps around without settling: lower the lr {OSCILLATION_STEP:g}x")


def plan_update_ratio_high(f, ctx):
    if _strong_weight_decay(ctx):       # lr x weight_decay alone moves the weights this much per step
        return _less_regularization(ctx, "the weights change by a large fraction each step")
    if _loss_falling(ctx):
        return "large updates, but the loss is falling: left alone (the lr rules act if it rises)"
    ratios = [r for r in (f.evidence.get("update_ratio") or {}).values() if r is not None]
    top = max(ratios) if ratios else 10 * TARGET_RATIO
    factor = min(MAX_FACTOR, max(2.0, top / TARGET_RATIO))
    return _lower_lr(factor, f"updates are {top:.2g} of the weights per step (healthy ~1e-3, notes 001): "
                             f"lower the lr {factor:.3g}x")


def plan_exploding_gradients(f, ctx):
    healthy = f.evidence.get("first") or _healthy_grad_norm(ctx)
    if ctx["attempts"] >= 1 or not healthy or not math.isfinite(healthy):
        return _lower_lr(LR_STEP, "the gradients keep exploding: lower the lr 10x and clip at the healthy norm",
                         clip=2.0 * healthy if healthy and math.isfinite(healthy) else 1.0)
    return {"action": "clip", "options": {"clip_norm": 2.0 * healthy}, "rollback": "last",
            "reason": f"the gradient norm grew {f.evidence.get('ratio', float('nan')):.3g}x: clip it at 2x its "
                      f"healthy value {healthy:.3g} (Pascanu et al. 2013)"}


def _raise_factor(ctx, ratio):
    """Raise the update ratio to TARGET_RATIO (the ratio is linear in the lr for a fixed gradient)."""
    if ratio is None or ratio <= 0:
        return LR_STEP
    return min(MAX_RAISE, max(OSCILLATION_STEP, TARGET_RATIO / ratio))


def _plain_sgd(ctx) -> bool:
    """SGD without momentum: the notes' default adds momentum 0.9 (notes 001/004)."""
    optimizer = getattr(ctx["trainer"], "optimizer", None)
    return (type(optimizer) is torch.optim.SGD
            and all(g.get("momentum", 0.0) == 0.0 for g in optimizer.param_groups))


def plan_lr_too_low(f, ctx):
    if _strong_weight_decay(ctx):
        return _less_regularization(ctx, "the loss barely moves")
    ratio = f.evidence.get("median_update_ratio") or _median_update_ratio(ctx)
    factor = _raise_factor(ctx, ratio)
    momentum = _plain_sgd(ctx)
    return {"action": "raise_lr", "options": {"factor": factor, "momentum": momentum}, "rollback": "last",
            "reason": f"the loss barely moves, updates are {ratio if ratio is not None else float('nan'):.2g} of "
                      f"the weights (target 1e-2, a third of the 3e-2 'too high' threshold): raise the lr {factor:.3g}x"
                      + (" and add Nesterov momentum 0.9 (notes 001/004: 0.9 is common)" if momentum else "")}


def plan_update_ratio_low(f, ctx):
    ratios = [r for r in (f.evidence.get("update_ratio") or {}).values() if r is not None]
    if not ratios:
        return "no update ratios in the evidence"
    low = sum(r < 1e-5 for r in ratios)
    if low <= len(ratios) // 2:      # a few layers barely learn while others do: their gradients vanish
        return plan_vanishing(f, ctx)
    return plan_lr_too_low(f, ctx)


def plan_plateau(f, ctx):
    if _strong_weight_decay(ctx):
        return _less_regularization(ctx, "the loss has stalled")
    ratio = _median_update_ratio(ctx)
    if ratio is not None and ratio < 1e-4:
        factor = _raise_factor(ctx, ratio)
        return {"action": "raise_lr", "options": {"factor": factor}, "rollback": None,
                "reason": f"the loss stalled with updates of {ratio:.2g} of the weights: raise the lr {factor:.3g}x"}
    return _lower_lr(LR_STEP, "the loss stalled while the updates are not small: decay the lr 10x "
                              "(notes 003: decrease the lr when the objective stagnates)", rollback=None)


def _activation_families(model):
    kinds = {"saturating": 0, "relu": 0, "tanh": 0}
    for m in model.modules():
        if isinstance(m, SATURATING):
            kinds["saturating"] += 1
            kinds["tanh"] += isinstance(m, (nn.Tanh, nn.Hardtanh))
        elif isinstance(m, RELU_FAMILY):
            kinds["relu"] += 1
    return kinds


def plan_init(f, ctx):
    """symmetric_init / vanishing or exploding activations / saturated or dead units at init:
    re-initialize for the activations (He for ReLU, Xavier for tanh/sigmoid; notes 004), then,
    if the saturating units persist, swap them for ReLU."""
    kinds = _activation_families(ctx["trainer"].model)
    rollback = None if ctx["before_training"] else "start"
    if f.code == "dead_units" and not ctx["before_training"]:
        if _strong_weight_decay(ctx):   # the decay shrinks the weights until units never fire
            return _less_regularization(ctx, "ReLU units died during training")
        if ctx["attempts"] >= 1:
            return "units keep dying after one lr cut: left alone (the loss rules act if training stalls)"
        # units die under updates that are too large: with the loss falling and no divergence in
        # this run, that is no evidence of a bad lr (Adagrad at lr 0.05 kills half a layer and
        # still reaches 95 %); after one (a CNN at lr 5, cut to 0.5) the lr is still too high
        if _loss_falling(ctx) and not ctx.get("diverged_before"):
            return "units died, but the loss is falling: left alone (the loss rules act if it stalls or rises)"
        return _lower_lr(LR_STEP, "ReLU units died during training (large updates push them negative for every "
                                  "input, notes 004): lower the lr 10x")
    if ctx["attempts_any_init"] == 0:
        return {"action": "reinit", "options": {}, "rollback": rollback,
                "reason": f"{f.code}: re-initialize the weights for the activations (He/Kaiming for ReLU, "
                          f"Xavier for tanh/sigmoid; notes 004 'keep the variance the same across layers')"}
    if kinds["saturating"]:
        return {"action": "swap_activations", "options": {}, "rollback": rollback,
                "reason": f"{f.code} persists after re-initialization: replace the {kinds['saturating']} saturating "
                          f"activations with ReLU and use He init (notes 004: 'saturated neurons kill the gradients')"}
    return f"{f.code} persists after re-initialization and the model has no saturating activation to swap"


def plan_vanishing(f, ctx):
    kinds = _activation_families(ctx["trainer"].model)
    if kinds["saturating"] and (ctx["attempts"] >= 1 or ctx["attempts_any_init"] >= 1):
        return {"action": "swap_activations", "options": {}, "rollback": "start",
                "reason": "gradients vanish through saturating activations (sigmoid' <= 0.25 per layer, notes 004): "
                          "replace them with ReLU and use He init"}
    return plan_init(f, ctx)


def plan_unnormalized(f, ctx):
    if any(p.get("name") == "standardize" for p in ctx["trainer"].settings.get("preprocess", [])):
        return "the inputs were standardized already"
    return {"action": "standardize", "options": {}, "rollback": None if ctx["before_training"] else "start",
            "reason": (f"inputs have median |mean| {f.evidence.get('median_abs_mean', float('nan')):.3g} and median std "
                       f"{f.evidence.get('median_std', float('nan')):.3g}: standardize them with training-split "
                       f"statistics (notes 000/002; LeCun et al. 1998)")}


def plan_output_mismatch(f, ctx):
    name = f.where
    module = dict(ctx["trainer"].model.named_modules()).get(name) if name else None
    if not name or not isinstance(module, OUTPUT_ACTIVATIONS):
        return f"cannot remove the output activation: {f.message}"
    return {"action": "remove_output_activation", "options": {"name": name}, "rollback": None,
            "reason": f"the loss applies {type(module).__name__.lower()} itself: replace {name} "
                      f"({type(module).__name__}) with Identity so the model returns logits"}


def plan_bad_initial_loss(f, ctx):
    ratio = f.evidence.get("ratio")
    if ratio is None or not math.isfinite(ratio) or ratio < 1:
        return "the initial loss is too low, not over-confident: check the loss and the targets"
    return {"action": "shrink_output_layer", "options": {"scale": 0.1}, "rollback": None,
            "reason": f"the untrained loss is {ratio:.2f}x that of a uniform guess: scale the last layer's "
                      f"weights by 0.1 and zero its bias (notes 004)"}


def plan_unshuffled(f, ctx):
    if not hasattr(ctx["trainer"], "set_shuffle"):
        return "this trainer cannot turn shuffling on: pass shuffle=True"
    return {"action": "shuffle", "options": {}, "rollback": None if ctx["before_training"] else "start",
            "reason": "labels come in long runs and shuffling is off: shuffle every epoch (notes 003)"}


def _strong_weight_decay(ctx):
    """lr x weight_decay (or lr x l2) takes >= 1% of the weights off each step (rules.STRONG_DECAY),
    at the largest lr of the recent samples (a schedule's tail does not hide the decay)."""
    config = ctx["trainer"].config
    wd = ctx["trainer"].settings["optimizer_overrides"].get("weight_decay", getattr(config, "weight_decay", 0.0))
    lrs = [s["lr"] for s in ctx["monitor"].samples[-WINDOW:] if s.get("lr")]
    lr = max(lrs) if lrs else _lr_of(ctx)
    return (lr or 0.0) * max(wd or 0.0, getattr(config, "l2", 0.0) or 0.0) >= STRONG_DECAY


def _less_regularization(ctx, why):
    config = ctx["trainer"].config
    wd = ctx["trainer"].settings["optimizer_overrides"].get("weight_decay", config.weight_decay)
    new = wd / 100.0
    # the decay has already shrunk the weights toward zero (where every unit is alike): go back
    # to the start with the new setting rather than continue from collapsed weights
    return {"action": "set_weight_decay", "options": {"weight_decay": new}, "rollback": "start",
            "reason": f"{why} while weight_decay = {wd:.3g} is {wd / 5e-4:.0f}x the usual 5e-4: it pulls the "
                      f"weights to zero faster than the data moves them; lower it 100x to {new:.3g}"}


def plan_underfitting(f, ctx):
    if _strong_weight_decay(ctx):
        return _less_regularization(ctx, "the model underfits")
    ratio = _median_update_ratio(ctx)
    if ratio is not None and ratio < 1e-4:
        return plan_lr_too_low(f, ctx)
    return "the model underfits with healthy updates: it needs more capacity (wider/deeper) or more epochs"


def plan_overfitting(f, ctx):
    if ctx["attempts"] >= 1:
        return ("the gap persists after one regularization increase: use early stopping (patience=...), "
                "augmentation or more data")
    config = ctx["trainer"].config
    wd = ctx["trainer"].settings["optimizer_overrides"].get("weight_decay", config.weight_decay) or 0.0
    new = max(wd * LR_STEP, 5e-4)
    # no rollback: the weights so far are the best the run has, and a stronger decay acts from
    # here on (rolling back to the best-val-loss epoch cost accuracy on healthy runs)
    return {"action": "more_regularization", "options": {"weight_decay": new, "dropout": 0.2},
            "rollback": None,
            "reason": f"train/val gap {f.evidence.get('gap', float('nan')):.3g}: raise weight_decay {wd:.3g} -> "
                      f"{new:.3g} (and dropout, when the model has it; notes 004 'big gap = overfitting => "
                      f"increase regularization')"}


def not_repairable(f, ctx):
    return f"{f.code} is not repairable automatically: {f.fix or f.message}"


POLICY = {
    "nonfinite_data": not_repairable,
    "label_problem": not_repairable,
    "loss_output_mismatch": plan_output_mismatch,
    "unnormalized_inputs": plan_unnormalized,
    "unshuffled_data": plan_unshuffled,
    "symmetric_init": plan_init,
    "saturated_units": plan_init,
    "vanishing_activations": plan_init,
    "exploding_activations": plan_init,
    "dead_units": plan_init,
    "bad_initial_loss": plan_bad_initial_loss,
    "nonfinite_loss": plan_diverged,
    "loss_exploding": plan_diverged,
    "lr_too_high": plan_diverged,
    "exploding_gradients": plan_exploding_gradients,
    "oscillating_loss": plan_oscillating,
    "update_ratio_high": plan_update_ratio_high,
    "vanishing_gradients": plan_vanishing,
    "lr_too_low": plan_lr_too_low,
    "update_ratio_low": plan_update_ratio_low,
    "plateau": plan_plateau,
    "overfitting": plan_overfitting,
    "underfitting": plan_underfitting,
}
INIT_CODES = {"symmetric_init", "saturated_units", "vanishing_activations", "exploding_activations",
              "dead_units", "vanishing_gradients"}
# Repaired before in the run, these say the lr was too high (dead units after them are its doing).
DIVERGED_CODES = {"nonfinite_loss", "loss_exploding", "lr_too_high", "exploding_gradients", "oscillating_loss",
                  "update_ratio_high"}
# Not-repairable errors that make training meaningless (or crash in the loss): stop at once.
FATAL = {"nonfinite_data", "label_problem", "loss_output_mismatch", "nonfinite_loss", "loss_exploding"}
# An epoch with one of these is not a good state to roll back to (units that died in it stay dead
# in its snapshot: a CNN at lr 5 repaired from there ended 3 points below its twin, from before 0).
UNHEALTHY = {"nonfinite_loss", "loss_exploding", "lr_too_high", "exploding_gradients", "exploding_activations",
             "dead_units"}
# Epochs a repair gets before the same code is judged again: the rule's own window (rules.py:
# plateau and underfitting look at 3 epochs, the others at the last epoch or samples).
SETTLE_EPOCHS = {"plateau": 3, "underfitting": 3, "overfitting": 1, "lr_too_low": 1, "update_ratio_low": 1}
# More regularization raises the training loss on purpose: a rising loss (lr_too_high's warning;
# the lr did not change) is the repair acting for the rest of the run, and a stall or low
# training accuracy for the plateau rule's window. Errors (exploding, NaN) are still acted on.
SETTLE_AFTER_ACTION = {"more_regularization": {"lr_too_high": math.inf, "plateau": 3, "underfitting": 3}}


# ------------------------------------------------------------------------------ actions
def reinitialize(model: nn.Module, *, seed: int) -> str:
    """He (Kaiming) normal init when the model uses ReLU-family units (or none it can see),
    Xavier normal (gain 1, notes 004) for tanh/sigmoid nets; biases zero."""
    from trainwell.nn.init import init

    kinds = _activation_families(model)
    if kinds["saturating"] > kinds["relu"]:
        # notes 004: W = randn(fan_in, fan_out) / sqrt(fan_in), the tanh table that decays gently
        # (gain 5/3 made the repaired tanh nets of the suite overfit: larger initial weights)
        init(model, "xavier_normal", gain=1.0, seed=seed)
        return "xavier_normal(gain=1)"
    init(model, "kaiming_normal", activation="relu", seed=seed)
    return "kaiming_normal(relu)"


def swap_activations(model: nn.Module) -> int:
    """Replace every saturating activation module (Sigmoid, Tanh, Hardtanh, Hardsigmoid) that is
    not the model's output with nn.ReLU, in place; returns how many were swapped."""
    leaves = [(n, m) for n, m in model.named_modules() if not any(True for _ in m.children())]
    last = leaves[-1][0] if leaves else None
    count = 0
    for name, module in list(model.named_modules()):
        if isinstance(module, SATURATING) and name != last:
            _set_child(model, name, nn.ReLU())
            count += 1
    return count


def _set_child(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def _last_weight_layer(model):
    layers = [m for m in model.modules() if isinstance(getattr(m, "weight", None), torch.Tensor)
              and m.weight.ndim >= 2 and m.weight.requires_grad]
    return layers[-1] if layers else None


# ------------------------------------------------------------------------------ the callback
class Repairer:
    """Duck-typed trainer callback; see the module docstring. ``max_repairs``: repairs before
    giving up (AUTOTRAINER also bounds its tries; 3 covers a data fix, an init fix and an lr fix)."""

    def __init__(self, monitor, *, max_repairs: int = 3):
        from trainwell.errors import ConfigError

        if not isinstance(max_repairs, int) or max_repairs < 0:
            raise ConfigError(f"Repairer max_repairs = {max_repairs!r}: must be an integer >= 0")
        self.monitor = monitor
        self.max_repairs = max_repairs
        self.repairs: list[dict] = []
        self.unrepaired: list[dict] = []      # findings it could not fix, with the reason
        self.errors: list[str] = []
        self.attempts: dict = {}
        self._archive: list[Finding] = []     # findings of rolled-back trajectories, merged at the end
        self._known = 0
        self._start = self._good = None
        self._epoch_bad = False
        self._gave_up = False
        self._good_loss = None                # training loss of the epoch the last good snapshot ends
        self._settle_warnings = 0             # warnings are acted on from this epoch on
        self._settle: dict = {}               # code -> epoch from which it is acted on again

    # ------------------------------------------------------------------ hooks
    def on_fit_start(self, state):
        try:
            self._preflight(state)
            trainer = state.trainer
            if state.stop is None:
                self._start = self._good = trainer.snapshot()
        except Exception as exc:                # never raise into training
            self._error("on_fit_start", exc)
        self._known = len(self.monitor.findings)

    def on_after_step(self, state):
        if len(self.monitor.findings) > self._known:
            self._guard("on_after_step", state)

    def on_validation_end(self, state):
        # (the Monitor, called first, reports the trainer's own divergence stop as a finding)
        if len(self.monitor.findings) > self._known:
            self._guard("on_validation_end", state)

    def on_epoch_end(self, state):
        try:
            metrics = state.history[-1] if state.history else {}
            loss = metrics.get("train_loss")
            # a good state to return to: nothing alarming this epoch, and the training loss is
            # finite and lower than at the last good state (a diverged net stuck at a constant
            # output can sit near its initial loss: that is no progress)
            reference = self._good_loss if self._good_loss is not None else self.monitor._initial_loss
            healthy = (not self._epoch_bad and loss is not None and math.isfinite(loss)
                       and (reference is None or loss < reference))
            if healthy:
                self._good = state.trainer.snapshot()
                self._good_loss = loss
        except Exception as exc:
            self._error("on_epoch_end", exc)
        self._epoch_bad = False

    def on_fit_end(self, state):
        try:
            for f in self._archive:
                self.monitor.diagnosis.add(f)
        except Exception as exc:
            self._error("on_fit_end", exc)
        babysit = state.extras.setdefault("babysit", {})
        babysit["findings"] = [f.to_dict() for f in self.monitor.findings]
        babysit["repairs"] = list(self.repairs)
        babysit["unrepaired"] = list(self.unrepaired)
        if self.errors:
            babysit["repair_errors"] = list(self.errors)

    # ------------------------------------------------------------------ decisions
    def _guard(self, hook, state):
        try:
            new = self.monitor.findings[self._known:]
            self._known = len(self.monitor.findings)
            self._epoch_bad |= any(f.code in UNHEALTHY for f in new)
            settling = [f for f in new if state.epoch < self._settle.get(f.code, 0)
                        or (f.severity == "warning" and state.epoch < self._settle_warnings)]
            if settling:        # judged again once the repair had its window; may fire again then
                self._archive.extend(settling)
                self.monitor.diagnosis.findings = [f for f in self.monitor.findings if f not in settling]
                self._known = len(self.monitor.findings)
                new = [f for f in new if f not in settling]
            self._handle(state, new, before_training=False)
        except Exception as exc:
            self._error(hook, exc)

    def _preflight(self, state):
        """Cheap pre-flight checks before the first step; repair and re-check up to max_repairs."""
        trainer = state.trainer
        seen = set()
        for _ in range(self.max_repairs + 1):
            found = [f for f in preflight(trainer.model, trainer.batches.X, trainer.batches.y,
                                          loss=trainer.config.loss, lr=state.lr or None,
                                          shuffle=trainer.config.shuffle, budget_s=1e-9,
                                          seed=trainer.config.seed)
                     if f.code != "check_skipped" and f.key not in seen]
            if not found:
                return
            seen.update(f.key for f in found)
            for f in found:
                f.evidence.setdefault("step", 0)
                f.evidence.setdefault("epoch", 0)
                self.monitor.diagnosis.add(f)
            if not self._handle(state, found, before_training=True) or state.stop is not None:
                return

    def _handle(self, state, findings, *, before_training) -> bool:
        """Repair the highest-priority finding that has a plan; True when one was repaired."""
        for f in Diagnosis(findings).ranked():
            if f.code not in POLICY or f.severity == "info":
                continue
            if self._gave_up:
                return False
            if len(self.repairs) >= self.max_repairs:
                if f.severity == "error" or f.code in FATAL:
                    self._give_up(state, f, f"gave up after {len(self.repairs)} repairs")
                return False
            ctx = {"trainer": state.trainer, "state": state, "monitor": self.monitor,
                   "attempts": self.attempts.get(f.code, 0), "before_training": before_training,
                   "attempts_any_init": sum(self.attempts.get(c, 0) for c in INIT_CODES),
                   "diverged_before": any(self.attempts.get(c, 0) for c in DIVERGED_CODES)}
            plan = POLICY[f.code](f, ctx)
            if isinstance(plan, str):
                entry = {"code": f.code, "where": f.where, "reason": plan}
                if entry not in self.unrepaired:
                    self.unrepaired.append(entry)
                if f.severity == "error" and f.code in FATAL:
                    self._give_up(state, f, "cannot repair")
                    return False
                continue
            self._apply(state, f, plan)
            return True
        return False

    def _give_up(self, state, finding, why):
        self._gave_up = True
        done = "; ".join(f"{r['code']} -> {r['action']}" for r in self.repairs) or "none"
        state.stop = Stop(StopKind.UNREPAIRABLE, f"babysitter: {why}: {finding.code}: {finding.message}. Repairs tried: {done}. "
                      f"Fix: {finding.fix}")

    # ------------------------------------------------------------------ acting
    def _apply(self, state, finding, plan):
        trainer = state.trainer
        before = self._settings(trainer, state)
        rollback = {"start": self._start, "last": self._good}.get(plan["rollback"])
        restored_from = None
        if rollback is not None:
            restored_from = {"step": rollback["counters"]["step"], "epoch": rollback["counters"]["epoch"]}
            step_now, epoch_now = state.step, state.epoch
            trainer.restore(rollback)
            if trainer.settings["optimizer_overrides"]:
                trainer.rebuild_optimizer()     # the restored optimizer state carries old hyper-parameters
        else:
            step_now, epoch_now = state.step, state.epoch
        detail = self._act(state, plan)
        self._forget_trajectory(state)
        self._settle[finding.code] = state.epoch + SETTLE_EPOCHS.get(finding.code, 0)
        for code, epochs in SETTLE_AFTER_ACTION.get(plan["action"], {}).items():
            self._settle[code] = max(self._settle.get(code, 0), state.epoch + epochs)
        self._settle_warnings = state.epoch + 2     # not before the first full epoch after the change ends
        if plan["action"] in ("reinit", "swap_activations", "standardize", "remove_output_activation",
                              "shrink_output_layer", "shuffle") or rollback is not None:
            self._good = trainer.snapshot()
            self._good_loss = None if rollback is None else rollback["history"][-1]["train_loss"] \
                if rollback["history"] else None
            if plan["rollback"] == "start" or rollback is None and finding.evidence.get("step", 0) == 0:
                self._start = self._good
        self.attempts[finding.code] = self.attempts.get(finding.code, 0) + 1
        record = {"step": step_now, "epoch": epoch_now, "code": finding.code, "where": finding.where,
                  "action": plan["action"], "reason": plan["reason"], "before": before,
                  "after": self._settings(trainer, state), "detail": detail, "rolled_back_to": restored_from}
        self.repairs.append(record)
        state.extras.setdefault("babysit", {})["repairs"] = list(self.repairs)

    def _act(self, state, plan) -> str:
        trainer, options, action = state.trainer, plan["options"], plan["action"]
        model = trainer.model
        seed = getattr(trainer.config, "seed", 0) + 101 + len(self.repairs)
        if action == "lower_lr":
            trainer.set_lr_scale(state.lr_scale / options["factor"])
            if options.get("clip_norm"):
                trainer.set_clip_norm(options["clip_norm"])
            return f"lr scale x1/{options['factor']:.3g}"
        if action == "raise_lr":
            trainer.set_lr_scale(state.lr_scale * options["factor"])
            if options.get("momentum"):
                trainer.rebuild_optimizer(momentum=0.9, nesterov=True)
                return f"lr scale x{options['factor']:.3g}, nesterov momentum 0.9"
            return f"lr scale x{options['factor']:.3g}"
        if action == "clip":
            trainer.set_clip_norm(options["clip_norm"])
            return f"clip_norm {options['clip_norm']:.3g}"
        if action == "reinit":
            scheme = reinitialize(model, seed=seed)
            trainer.rebuild_optimizer()
            return scheme
        if action == "swap_activations":
            n = swap_activations(model)
            scheme = reinitialize(model, seed=seed)
            trainer.rebuild_optimizer()
            return f"{n} activations -> ReLU, {scheme}"
        if action == "standardize":
            trainer.add_preprocess("standardize")
            return "standardize"
        if action == "remove_output_activation":
            _set_child(model, options["name"], nn.Identity())
            return f"{options['name']} -> Identity"
        if action == "shrink_output_layer":
            layer = _last_weight_layer(model)
            with torch.no_grad():
                layer.weight.mul_(options["scale"])
                if getattr(layer, "bias", None) is not None:
                    layer.bias.zero_()
            return f"last layer weights x{options['scale']:g}, bias 0"
        if action == "shuffle":
            trainer.set_shuffle(True)
            return "shuffle on"
        if action == "set_weight_decay":
            trainer.rebuild_optimizer(weight_decay=options["weight_decay"])
            return f"weight_decay {options['weight_decay']:.3g}"
        if action == "more_regularization":
            trainer.rebuild_optimizer(weight_decay=options["weight_decay"])
            raised = 0
            for m in model.modules():
                if isinstance(m, nn.Dropout) and m.p < options["dropout"]:
                    m.p = options["dropout"]
                    raised += 1
            return f"weight_decay {options['weight_decay']:.3g}" + (f", {raised} dropout p -> {options['dropout']}"
                                                                    if raised else "")
        raise ValueError(f"unknown repair action {action!r}")

    def _forget_trajectory(self, state):
        """After a rollback or a model change the monitor judges the new trajectory afresh: its
        samples restart, and the findings of the abandoned one are archived (so the same code
        can fire again if the repair did not work) and merged back at the end."""
        m = self.monitor
        self._archive.extend(m.findings)
        m.diagnosis.findings = []
        m.samples = []
        m._next = state.step + 1
        self._known = len(m.findings)

    @staticmethod
    def _settings(trainer, state) -> dict:
        scale = state.lr_scale
        lr = trainer.optimizer.param_groups[0]["lr"]
        if trainer.base_lrs and getattr(trainer, "schedule", None) is not None:
            lr = trainer.base_lrs[0] * trainer.schedule(state.step) * scale
        elif trainer.base_lrs:
            lr = trainer.base_lrs[0] * scale
        return {"lr": lr, "lr_scale": scale, "clip_norm": trainer.settings.get("clip_norm"),
                "optimizer_overrides": dict(trainer.settings.get("optimizer_overrides", {})),
                "preprocess": [p.get("name") for p in trainer.settings.get("preprocess", [])]}

    def _error(self, where, exc):
        message = f"{where}: {type(exc).__name__}: {exc}"
        if message not in self.errors:
            self.errors.append(message)
