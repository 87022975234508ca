"""Repairs: the babysitter's ``babysit="repair"`` mode. Problem -> measured evidence -> a change
that addresses the cause -> roll back to the last good state -> continue.

``Repairer(monitor)`` is a callback placed after the ``Monitor``. It

1. at fit start runs the cheap pre-flight checks (data, labels, loss/output, input statistics,
   activation statistics, initial loss, symmetry: one forward pass, no training) on the
   training data, grades the symptoms among them by their fixes when the run is long enough for
   the experiment to cost <= 10% of it (``interventions.grade``: a symptom whose fix does not
   train better is info and left alone) and repairs what hurts before the first step, with the
   fix that helped;
2. keeps snapshots: the start (after those repairs) and the last healthy epoch end;
3. reads the monitor's new findings after every step and epoch; for one it can fix it picks the
   root cause first (``Diagnosis.ranked``), asks the code's planner (``registry.CODES[code].plan``,
   plans.py) for a ``Plan`` from the finding's evidence and a ``RepairContext``, rolls back
   (``Plan.rollback``) and applies the plan's ``Action`` (actions.py) through ``state.controls``;
   at an epoch end where the run's own evidence reads a slow lr (``_slow_learning``) it tests raised
   lrs once (``_lr_test``) and raises one that trains better;
4. keeps an lr change decided on a few steps (a ``confirm`` raise, a plateau's decay) on
   probation, judged on the run's epoch losses against the trajectory it replaced, and undoes it
   (``undo_lr_change``) when the run does not bear it out (``_judge_probation``); an lr change that
   rolled the run back is judged by its replay: its finding read again at the same step with a loss
   no lower is undone and its code left unrepaired (``_replayed_unchanged``);
5. records each repair ``{"step", "epoch", "code", "where", "action", "reason", "before",
   "after", "detail", "rolled_back_to"}`` in ``state.extras["babysit"]["repairs"]``;
6. gives up after ``max_repairs`` or on an error it cannot fix (the record's
   ``stops_unrepaired``): ``state.stop = Stop(StopKind.UNREPAIRABLE, "babysitter: ...")``, the run
   ending on its best state, no worse than before the repairs (``_end_on_best``); it never raises
   into training.

It uses only the run's documented controls (``state.controls``) and the monitor's public methods.
Healthy runs produce no actionable finding, so nothing changes; the snapshots cost one copy of
the weights and optimizer state per epoch.
"""
from __future__ import annotations

import copy
import math
import statistics
from collections import Counter
from dataclasses import dataclass, replace
from types import SimpleNamespace

import torch
from torch import nn

from trainwell.babysit import augment_check, interventions, mode_gap, periodic_columns, preprocess_refit, sizing
from trainwell.babysit.actions import (ACTIONS, Plan, Rollback, dropout_rates, hidden_sigmoids, make_plan,
                                      raise_momentum, weight_scale)
from trainwell.babysit.findings import Diagnosis, Finding
from trainwell.babysit.model_checks import check_last_batch, rescaling_refused
from trainwell.babysit.monitor import finding_from_state, finding_state
from trainwell.babysit.preflight import PROBE_ROWS, preflight
from trainwell.babysit.probe_steps import probe_lr
from trainwell.train.regularizers import build_loss, loss_options
from trainwell.babysit.preprocess_check import check_preprocess
from trainwell.babysit.plans import HIDDEN_DROPOUT, OVERSCALED, raise_rollback
from trainwell.babysit.ratios import HEALTHY_RATIO, STRONG_DECAY
from trainwell.babysit.registry import CODES, Group, members
from trainwell.babysit.rules import BARELY, BASELINE_SAMPLES, FLAT, TREND_SAMPLES, WINDOW
from trainwell.babysit.run_options import check_run_options
from trainwell.babysit.split_checks import grade_imbalance
from trainwell.data.streaming import check_sample
from trainwell.errors import ConfigError
from trainwell.optim.factory import optimizer_options
from trainwell.optim.registry import default_lr, optimizer_info
from trainwell.train.state import Stop, StopKind

FALLING_SAMPLES = 16        # loss_falling: the median of the last 8 samples against the 8 before
SETTLE_WARNINGS = 2         # warnings wait until the first full epoch after a repair has ended: the
                            # first steps after a change are transients (large update ratios after a
                            # re-initialization, units that have not yet woken up)
GRADE_BUDGET_S = 15.0       # grading the pre-flight symptoms by their fixes (interventions.grade) at fit
                            # start: at most this many nominal seconds (budget.py: counted steps at the
                            # cost model's price, the same steps on a loaded machine; a few arms of
                            # interventions.STEPS steps) ...
GRADE_SHARE = 0.1           # ... and its interventions.STEPS-step runs (the setup, its repeat, each fix) at
                            # most 10% of the run's steps; a shorter run grades in fewer steps (SHORT_GRADE_SHARE)
SHORT_GRADE_SHARE = 0.2     # a run too short for GRADE_SHARE grades in fewer steps: at most 20% of its steps
                            # over the grading runs (at least interventions.MIN_STEPS each), as ACTIVATION_SHARE
MIN_GRADE_SHARE = 0.5       # ... and where that leaves fewer, its arms run interventions.MIN_STEPS each when they cost
                            # at most half the run (issue 11 bounds a repair's cost at 1.5x the run); a shorter run
                            # leaves its symptoms alone (``_ungraded``)
ACTIVATION_SHARE = 0.2      # the ReLU-for-sigmoid experiment at fit start (setup, repeat, ReLU arm): at
                            # most 20% of the run's steps (its own cost bound: the repair costs <= 1.5x the
                            # run, issue 11), at least interventions.MIN_STEPS an arm; only with hidden sigmoids
SEED_OFFSET = 101           # re-initialization seed: config.seed + 101 + repairs so far, apart from the
                            # run's own streams (config.seed, config.seed + 1 for augmentation)
SETTINGS_SHARE = 0.2        # the unusual settings' experiment at fit start (setup, repeat, one arm per setting):
                            # at most 20% of the run's steps, as ACTIVATION_SHARE, and its trainings on (the
                            # setup, the repeat and the arms ahead, on a plateau in doublings) 20% more at most
PROBATION_SHARE = 0.5       # a raise that only its trial confirmed (``confirm``) is judged on the run itself for this
                            # share of the run's steps after it and undone when the run falls behind: undoing throws
                            # those steps away, and issue 11 bounds a repair's cost at 1.5x the run
STALL_EPOCHS = 3            # a plateau's lr decay must end the stall within the epochs rules.plateau judged it over
FAR_BELOW = 100.0           # an lr two of notes 004's decade steps below its optimizer's default, in a normalized model, is
                            # an unusual setting: the settings test tries the lr arms on it (the rules read a slow lr from
                            # a flat loss, and a batch-norm net's loss falls at an lr 1000x too low: ``normalized``)
LR_ARMS = 5                 # interventions.candidate_arms' lr arms (x0.1, x10, x0.01, x100, x1000): the settings test's
                            # steps are shared among them too when it runs them
RAISES = (10.0, 100.0)      # the lr test's raised lrs: notes 004's decade steps, interventions.candidate_arms' x10 and
                            # x100 (its x1000 is for an lr far below its default: the settings test's lr arms)
LR_TEST_CAP = 0.5           # the lr test (its setup, repeat and raises, and their trainings on) costs at most half the
                            # run's steps, as a raise's probation (PROBATION_SHARE): a run too short for its runs'
                            # interventions.MIN_STEPS each within it is not tested
SLOW_READINGS = ("lr_too_low", "underfitting")   # the monitor's graded readings of a slow run (rules.py) that call
                                                 # the lr test
LINEAR = 0.5                # a loss curve still falling at half its first rate or more has no knee: the notes' low-lr
                            # curve, a line (a good lr's falls fast and bends: ``linear_looking``)
UNDOABLE = ("lower_lr", "raise_lr", "clip")   # changes made on probation that an undo reverts with the change
                                              # on probation (the lr scale, clipping, the optimizer's options);
                                              # any other repair (the model, the data) ends the probation
REINIT_CODES = members(Group.REINIT)
DIVERGED_CODES = members(Group.DIVERGED)
SLOW_CODES = members(Group.SLOW)


def _update_ratios(sample: dict) -> list[float]:
    """A monitor sample's finite update/weight ratios, one per layer."""
    return [r for r in sample.get("update_ratio", {}).values() if r is not None and math.isfinite(r)]


def schedule_multiplier(schedule, step: int) -> float:
    """The lr schedule's multiplier at ``step`` (1.0 without a schedule or where it cannot be read)."""
    if schedule is None:
        return 1.0
    try:
        value = float(schedule(step))
    except Exception:                   # a user's schedule that fails here fails in the run, not in a plan
        return 1.0
    return value if math.isfinite(value) and value >= 0 else 1.0


def lr_far_below(optimizer, lr: float, options: dict | None = None) -> bool:
    """The run's ``lr`` is ``FAR_BELOW`` x or more below its optimizer's default (the record's
    ``default_lr``: notes 004's starting points; a wrapper's is its base's; an optimizer instance's,
    its class's record; unknown: False)."""
    try:
        if isinstance(optimizer, torch.optim.Optimizer):
            info = optimizer_info(optimizer)
            default = None if info is None else info.default_lr
        else:
            default = default_lr(optimizer, base=(options or {}).get("base"))
    except (ConfigError, KeyError, TypeError):
        return False
    return bool(default) and 0 < lr * FAR_BELOW <= default


NORMALIZATION = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm)


def normalized(model) -> bool:
    """The model normalizes its activations (batch, layer or group norm): the weights before a norm
    are scale-invariant, and its loss falls at an lr far too low, where an unnormalized net's stays
    flat for the rules (``lr_too_low``) to read in its first steps."""
    return any(isinstance(m, NORMALIZATION) for m in model.modules())


def unusual_settings(model, *, lr: float, weight_decay: float, clip_norm: float | None, options: dict,
                     optimizer=None) -> int:
    """How many of the settings the experiment's setting arms change are far from their usual
    values: a weight decay that alone takes more than a healthy update's share of the weights per
    step (lr x weight_decay > HEALTHY_RATIO, 1e-3, notes 001; trainwell's default 5e-4 at lr 0.1
    takes 5e-5), dropout above the hidden layers' usual 0.5 (plans.HIDDEN_DROPOUT), any configured
    clip_norm, an optimizer option away from its default (interventions.DEFAULTS; the SAM family's
    radius away from its record's, ``optimizer`` named: interventions.radius_default), an lr
    ``FAR_BELOW`` x or more below the optimizer's default in a model that normalizes its activations
    (``lr_far_below``, ``normalized``, ``optimizer`` named).
    Healthy usual setups pay nothing; the experiment decides whether an unusual one hurts."""
    return (int(lr * weight_decay > HEALTHY_RATIO) + int(max(dropout_rates(model), default=0.0) > HIDDEN_DROPOUT)
            + int(bool(clip_norm)) + int(bool(interventions.changed_options(options, optimizer)))
            + int(optimizer is not None and normalized(model) and lr_far_below(optimizer, lr, options)))


def _settings_in_force(controls) -> tuple:
    """``(config, options)``: the run's config with the optimizer overrides in force, and its optimizer
    options but its lr and weight decay (an experiment's own, as the doctor's probes)."""
    config = replace(controls.config, **controls.optimizer_overrides)
    return config, {k: v for k, v in optimizer_options(config).items() if k not in ("lr", "weight_decay")}


def _raise_arm(lr: float, factor: float):
    """The lr test's arm that trains at ``factor`` x the run's ``lr`` (``Repairer._lr_test``), named and
    recorded as interventions.candidate_arms' lr arms (``extra["lr_factor"]``)."""
    change = interventions.Change(f"lr {lr * factor:.3g}", f"{lr:.3g}")
    return interventions.setting_arm(f"lr x{factor:g}", interventions.RAISE_CODE, change,
                                     extra={"lr": lr * factor, "lr_factor": factor})


def _thirds(losses: list[float]) -> tuple:
    """``losses`` (sampled in step order) as their first, middle and last thirds."""
    third = len(losses) // 3
    return losses[:third], losses[third:len(losses) - third], losses[len(losses) - third:]


def batch_noise(losses: list[float]) -> float:
    """One sampled loss's own noise: the robust standard deviation of the step-to-step changes (1.4826 x
    their median absolute value, a normal's), / sqrt(2) as each change holds two samples' noise; a trend
    moves the changes far less than it moves the samples themselves."""
    changes = [abs(b - a) for a, b in zip(losses, losses[1:])]
    return 1.4826 * statistics.median(changes) / math.sqrt(2) if changes else 0.0


def barely_falling(losses: list[float]) -> bool:
    """The sampled losses' last third fell less below their first third (medians) than one sampled loss's
    own noise (``batch_noise``) or ``rules.BARELY`` of the first third's level, the monitor's own "barely
    changed": notes 004, "loss barely changing: learning rate is probably too low" (their lr 1e-6 run:
    2.3026 -> 2.3024 over 10 epochs)."""
    head, _, tail = _thirds(losses)
    first = statistics.median(head)
    return first - statistics.median(tail) < max(batch_noise(losses), BARELY * abs(first))


def linear_looking(losses: list[float]) -> bool:
    """The loss curve of a low lr (notes 000/004's loss-curve figure: a low lr's loss falls in a line, a
    good lr's falls fast and bends): from the middle third of the samples to the last the median fell
    at least ``LINEAR`` of what it fell from the first third to the middle."""
    medians = [statistics.median(part) for part in _thirds(losses)]
    return medians[0] > medians[1] and medians[1] - medians[2] >= LINEAR * (medians[0] - medians[1])


def _ungraded(found: list, symptoms: list, steps: int) -> list:
    """``found`` with the warnings among ``symptoms`` made info: a run too short for its grading arms
    (``steps`` each, under ``interventions.MIN_STEPS``) cannot try their symptomatic fixes, and an
    untried re-initialization is no harmless fix (a healthy bag-of-words net of 228 steps, its
    mean-pooled embeddings' small std read as vanishing activations, re-initialized at fit start
    ended 2.0 and 3.2 points lower). Each such finding is a new ``Finding`` (``found`` is left as it
    was, as ``interventions.grade`` leaves it), one per finding in ``found``'s order."""
    return [_left_ungraded(f, steps) if f.code in symptoms and f.severity == "warning" else f for f in found]


def _left_ungraded(f: Finding, steps: int) -> Finding:
    """``f`` as info, its evidence ``ungraded`` the arms' ``steps`` and the least they need, said why."""
    return replace(f, severity="info",
                   evidence={**f.evidence, "ungraded": {"steps": steps, "min_steps": interventions.MIN_STEPS}},
                   message=(f"{f.message}; the run is too short to try its fix ({steps} steps an arm, under "
                            f"{interventions.MIN_STEPS}): a symptom's fix is not made untried"))


def _cut_trial(trial, state, plan: Plan, *, seed: int, clip_norm: float | None) -> dict:
    """``trial`` (sizing.cut_helps or sizing.sized_cut) of ``plan``'s cut from the run's current
    weights, lr, optimizer, weight decay in force and loss."""
    controls = state.controls
    config = controls.config
    X, y = controls.train_data
    return trial(controls.model, controls.optimizer, X, y, build_loss(config), lr=controls.lrs()[0],
                 factor=plan.options["factor"], batch_size=config.batch_size, run_steps=state.total_steps or 0,
                 seed=seed, weight_decay=controls.optimizer_overrides.get("weight_decay", config.weight_decay) or 0.0,
                 clip_norm=clip_norm)


@dataclass
class RepairContext:
    """What a planner (plans.py) reads about the run: its controls, the current lr, the
    monitor's samples of the current trajectory, and this repairer's attempts so far."""

    controls: object
    samples: list
    lr: float
    attempts: int = 0               # repairs of this code so far
    before_training: bool = False
    reinit_attempts: int = 0        # repairs of the codes repaired by re-initialization (Group.REINIT)
    diverged_before: bool = False   # a code of Group.DIVERGED was repaired in this run
    progress: float = 0.0           # the share of the run's steps taken so far
    multiplier: float = 1.0         # the lr schedule's multiplier at this step (1: a constant lr)
    final_multiplier: float = 1.0   # the lr schedule's multiplier at the run's last step
    lr_changed_before: bool = False  # this repairer raised or cut the lr in this run
    good_loss: float | None = None  # the training loss of the epoch the last good snapshot ends (Rollback.LAST)

    @property
    def weight_decay(self) -> float:
        """The weight decay in force: a repair's override, else the configured one."""
        config = self.controls.config
        return self.controls.optimizer_overrides.get("weight_decay", getattr(config, "weight_decay", 0.0))

    def peak_lr(self) -> float:
        """The largest lr of the recent samples (a schedule's tail does not hide it), else the current."""
        lrs = [s["lr"] for s in self.samples[-WINDOW:] if s.get("lr")]
        return max(lrs) if lrs else self.lr

    def loss_falling(self) -> bool:
        """The median sampled loss of the last 8 samples is below that of the 8 before."""
        losses = [s["loss"] for s in self.samples[-FALLING_SAMPLES:] if math.isfinite(s["loss"])]
        half = len(losses) // 2
        return bool(half) and statistics.median(losses[half:]) < statistics.median(losses[:half])

    def loss_judged(self) -> bool:
        """Enough finite loss samples for ``loss_falling`` to compare two full halves."""
        return sum(math.isfinite(s["loss"]) for s in self.samples[-FALLING_SAMPLES:]) >= FALLING_SAMPLES

    def median_update_ratio(self) -> float | None:
        """The median update/weight ratio over every layer of the recent samples."""
        ratios = [r for s in self.samples[-WINDOW:] for r in _update_ratios(s)]
        return statistics.median(ratios) if ratios else None

    def peak_update_ratio(self) -> float | None:
        """The largest per-sample median update ratio of the whole trajectory (its first steps too)."""
        medians = [statistics.median(ratios) for ratios in map(_update_ratios, self.samples) if ratios]
        return max(medians) if medians else None

    def healthy_grad_norm(self) -> float | None:
        """The median total gradient norm of the trajectory's first samples."""
        totals = [math.sqrt(sum(v * v for v in s["grad_norm"].values())) for s in self.samples[:BASELINE_SAMPLES]
                  if s.get("grad_norm")]
        totals = [t for t in totals if math.isfinite(t) and t > 0]
        return statistics.median(totals) if totals else None


@dataclass(frozen=True)
class Snapshot:
    """A state to roll back to: the controls' snapshot and where the run was when it was taken."""

    state: dict
    step: int
    epoch: int
    train_loss: float | None        # the training loss of the last epoch it holds


def take_snapshot(state) -> Snapshot:
    history = state.history
    return Snapshot(state.controls.snapshot(), state.step, state.epoch,
                    history[-1]["train_loss"] if history else None)


@dataclass(frozen=True)
class Probation:
    """An lr change on trial in the run itself (``Repairer._judge_probation``): ``kind`` "raise"
    (a ``confirm`` raise) or "decay" (a plateau's lr decay); the trajectory it replaced (``kept``,
    at the step the change was decided, and the settings then); ``reference``: for a raise the
    lowest epoch training loss that trajectory had reached, for a decay the plateau's level (the
    lowest of the ``STALL_EPOCHS`` + 1 epochs ``rules.plateau`` read the stall over); ``epochs``: the
    epochs that trajectory had finished (``state.epoch``); ``until``: the last step of a raise's probation."""

    kind: str
    code: str
    where: str | None
    kept: Snapshot
    settings: dict
    reference: float
    epochs: int
    until: int


@dataclass(frozen=True)
class Mark:
    """The last lr change made during training (``UNDOABLE``), kept so that a replay can judge it
    (``Repairer._replayed_unchanged``): the ``code`` and ``step`` it was made for, the ``loss`` its
    finding read there, the trajectory it replaced (``kept``, at that step, with its ``settings``)
    and the last good state then (``good``, ``good_loss``); ``replays``: it rolled the run back, so the
    run reaches ``step`` again under the change."""

    code: str
    step: int
    loss: float | None
    kept: Snapshot
    settings: dict
    good: Snapshot | None
    good_loss: float | None
    replays: bool                   # it rolled the run back: the steps to its step are replayed under it


def _train_loss(snapshot: Snapshot) -> float:
    """A snapshot's epoch training loss for comparing states (none yet, the start: above any)."""
    loss = snapshot.train_loss
    return loss if loss is not None and math.isfinite(loss) else math.inf


def _finding_loss(finding) -> float | None:
    """The loss a finding read (its evidence's ``loss``), None where it read none."""
    loss = finding.evidence.get("loss")
    return float(loss) if isinstance(loss, (int, float)) else None


def _milder(loss: float | None, before: float | None) -> bool | None:
    """Whether the loss a replay read is below the one a repair was made for (a non-finite one is
    above any finite one); None where either finding read no loss."""
    if loss is None or before is None:
        return None
    if not math.isfinite(loss):
        return False
    return not math.isfinite(before) or loss < before


def _probation_state(p: Probation | None) -> dict | None:
    if p is None:
        return None
    return {"kind": p.kind, "code": p.code, "where": p.where, "kept": _snapshot_state(p.kept), "settings": p.settings,
            "reference": p.reference, "epochs": p.epochs, "until": p.until}


def _mark_state(m: Mark | None) -> dict | None:
    if m is None:
        return None
    return {"code": m.code, "step": m.step, "loss": m.loss, "kept": _snapshot_state(m.kept), "settings": m.settings,
            "good": _snapshot_state(m.good), "good_loss": m.good_loss, "replays": m.replays}


def _probation_kind(finding, plan: Plan, before_training: bool) -> str | None:
    """The ``Probation.kind`` of a change judged on the run itself: "raise" for a ``confirm`` raise and for
    a raise in training that an experiment's lr arm measured (``evidence["best_lr_factor"]``: the lr test's),
    "decay" for a plateau's lr decay during training; None for any other."""
    if plan.action.name == "raise_lr" and (plan.options.get("confirm")
                                           or (not before_training and finding.evidence.get("best_lr_factor"))):
        return "raise"
    if finding.code == "plateau" and plan.action.name == "lower_lr" and not before_training:
        return "decay"
    return None


def _trained_under(state, row: dict, p: "Probation") -> bool:
    """The epoch of history ``row`` trained every step under the change on probation: it began at or after
    the step the change was made at (``p.kept``). An epoch that ended where the change was made (a raise
    decided at its last step or its validation) holds none of the change's steps, and its loss says
    nothing of it: tiles' CNN, raised 3x at step 57, the end of epoch 3, was undone at that epoch's end
    on epoch 3's own loss (1.380 against 1.377), and ended at 28 % where the raise left alone reached 99 %
    (babysit159)."""
    return row.get("step", 0) - (state.steps_per_epoch or 0) >= p.kept.step


def _epoch_losses(state) -> list[float]:
    """The finished epochs' finite training losses, the one whose validation is running included
    (at ``on_validation_end`` it is in ``state.metrics``, not yet in the history)."""
    rows = list(state.history)
    if state.metrics.get("epoch") == state.epoch and (not rows or rows[-1].get("epoch") != state.epoch):
        rows.append(state.metrics)
    return [r["train_loss"] for r in rows if math.isfinite(r.get("train_loss") or math.nan)]


def _snapshot_state(snapshot: Snapshot | None) -> dict | None:
    """A snapshot as checkpointable values (its state's tensors are written to the checkpoint)."""
    if snapshot is None:
        return None
    return {"state": dict(snapshot.state), "step": snapshot.step, "epoch": snapshot.epoch,
            "train_loss": snapshot.train_loss}


def _snapshot_from(controls, saved: dict | None) -> Snapshot | None:
    """A checkpointed snapshot back, its state adopted by the controls (under DDP: named for the
    other ranks, train/journal.py)."""
    if saved is None:
        return None
    return Snapshot(controls.adopt(saved["state"]), saved["step"], saved["epoch"], saved["train_loss"])


def settings(controls) -> dict:
    """What repairs change, for the records: the current lr, its scale, clipping, overrides, preprocessing."""
    return {"lr": controls.lrs()[0], "lr_scale": controls.lr_scale, "clip_norm": controls.clip_norm,
            "optimizer_overrides": controls.optimizer_overrides,
            "preprocess": [p.get("name") for p in controls.preprocess]}


class Repairer:
    """Duck-typed trainer callback; see the module docstring. ``max_repairs``: repairs before
    giving up (AUTOTRAINER also bounds its tries; 3 covers a data fix, an init fix and an lr fix)."""

    def __init__(self, monitor, *, max_repairs: int = 3):
        if not isinstance(max_repairs, int) or max_repairs < 0:
            raise ConfigError(f"Repairer max_repairs = {max_repairs!r}: must be an integer >= 0")
        self.monitor = monitor
        self.max_repairs = max_repairs
        self.repairs: list[dict] = []
        self.unrepaired: list[dict] = []      # findings it could not fix, with the reason
        self.ended_on: dict | None = None     # where a run given up in training ended (``_end_on_best``)
        self.errors: list[str] = []
        self.attempts: dict = {}
        self._archive: list[Finding] = []     # findings of rolled-back trajectories, merged at the end
        self._known = 0
        self._start: Snapshot | None = None
        self._good: Snapshot | None = None
        self._epoch_bad = False
        self._gave_up = False
        self._good_loss = None                # training loss of the epoch the last good snapshot ends
        self._settle_warnings = 0             # warnings are acted on from this epoch on
        self._settle: dict = {}               # code -> epoch from which it is acted on again
        self._settings_tested = False         # the unusual settings' experiment runs once per fit
        self._lr_tested: str | None = None    # so does the lr test in training: what called it (``_slow_learning``)
        self._preprocess_tested = False       # so does the check of the configured preprocess
        self._activation_tested = False       # the ReLU-for-sigmoid experiment runs once per fit ...
        self._augment_tested: list | None = None   # the augmentation last tested in training (``_augmentation_first``)
        self._pending: list[Finding] = []     # ... and its finding waits while others are repaired first
        self._saved_snapshots = None          # (start, good) read by load_state_dict, for on_fit_start
        self._probation: Probation | None = None   # an lr change judged on the run itself
        self._refuted: dict = {}              # Probation.kind -> why one was undone: no other is made in this fit
        self._decayed: str | None = None      # a plateau's lr decay made in this fit: no raise after it (``_hysteresis``)
        self._saved_probation = None          # the probation read by load_state_dict, for on_fit_start
        self._saved_marks = (None, None)      # the mark and the state before the repairs, read likewise
        self._mark: Mark | None = None        # the last lr change made during training, for its replay
        self._declined: dict = {}             # code -> why its repairs stopped (a replay they did not change)
        self._before: tuple | None = None     # (last good snapshot, settings, repairs so far) at the first repair
                                              # in training: a give-up ends no worse than that (``_end_on_best``)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        """Everything a resumed run needs to decide as the uninterrupted run: the record, the
        attempts and settle windows, the abandoned trajectories' findings, and the two snapshots
        to roll back to (tensors: the weights and optimizer state of each, stored once when the
        start is also the last good state)."""
        good = "start" if self._good is self._start else _snapshot_state(self._good)
        return {"repairs": self.repairs, "unrepaired": self.unrepaired, "errors": self.errors,
                "attempts": self.attempts, "archive": [finding_state(f) for f in self._archive],
                "known": self._known, "epoch_bad": self._epoch_bad, "gave_up": self._gave_up,
                "good_loss": self._good_loss, "settle_warnings": self._settle_warnings, "settle": self._settle,
                "activation_tested": self._activation_tested, "augment_tested": self._augment_tested,
                "lr_tested": self._lr_tested,
                "pending": [finding_state(f) for f in self._pending],
                "start": _snapshot_state(self._start), "good": good,
                "probation": _probation_state(self._probation), "refuted": self._refuted, "decayed": self._decayed,
                "mark": _mark_state(self._mark), "declined": self._declined,
                "before": None if self._before is None else {"good": _snapshot_state(self._before[0]),
                                                             "settings": self._before[1], "index": self._before[2]}}

    def load_state_dict(self, saved: dict) -> None:
        """Continue from ``state_dict()``'s values (read before ``on_fit_start`` of a resumed run,
        which adopts the snapshots through the controls)."""
        self.repairs, self.unrepaired = list(saved["repairs"]), list(saved["unrepaired"])
        self.errors, self.attempts = list(saved["errors"]), dict(saved["attempts"])
        self._archive = [finding_from_state(f) for f in saved["archive"]]
        self._pending = [finding_from_state(f) for f in saved["pending"]]
        self._known, self._epoch_bad, self._gave_up = saved["known"], saved["epoch_bad"], saved["gave_up"]
        self._good_loss, self._settle_warnings = saved["good_loss"], saved["settle_warnings"]
        self._settle, self._activation_tested = dict(saved["settle"]), saved["activation_tested"]
        self._augment_tested = saved.get("augment_tested")      # older checkpoints: none tested
        self._lr_tested = saved.get("lr_tested")
        self._saved_snapshots = (saved["start"], saved["good"])
        self._saved_probation, self._refuted = saved.get("probation"), dict(saved.get("refuted") or {})
        self._decayed = saved.get("decayed")
        self._declined = dict(saved.get("declined") or {})
        self._saved_marks = (saved.get("mark"), saved.get("before"))    # older checkpoints: none

    def _resume(self, state) -> None:
        """A resumed run: no pre-flight (it ran before the first step of the run that is
        continued); the checkpointed snapshots, adopted as ones the controls restore."""
        start, good = self._saved_snapshots
        self._saved_snapshots = None
        self._start = _snapshot_from(state.controls, start)
        self._good = self._start if good == "start" else _snapshot_from(state.controls, good)
        saved, self._saved_probation = self._saved_probation, None
        if saved is not None:
            self._probation = Probation(**{**saved, "kept": _snapshot_from(state.controls, saved["kept"])})
        (mark, before), self._saved_marks = self._saved_marks, (None, None)
        if mark is not None:
            self._mark = Mark(**{**mark, "kept": _snapshot_from(state.controls, mark["kept"]),
                                 "good": _snapshot_from(state.controls, mark["good"])})
        if before is not None:
            self._before = (_snapshot_from(state.controls, before["good"]), before["settings"], before["index"])

    # ------------------------------------------------------------------ hooks
    def on_fit_start(self, state):
        if self._saved_snapshots is not None:
            try:
                self._resume(state)
            except Exception as exc:            # never raise into training
                self._error("on_fit_start", exc)
            return
        # a run resumed from a checkpoint without the repairer's state (written before it was
        # checkpointed) continues the record (state.extras is checkpointed): its repairs stay in
        # results.json and count against max_repairs as in the uninterrupted run
        self.repairs = list(state.extras.get("babysit", {}).get("repairs", []))
        self.attempts = dict(Counter(record["code"] for record in self.repairs))
        try:
            if state.step == 0:                 # the pre-flight checks run before the first step only
                self._preflight(state)
            if state.stop is None:
                self._start = self._good = take_snapshot(state)
        except Exception as exc:                # never raise into training
            self._error("on_fit_start", exc)
        self._known = len(self.monitor.findings)

    def on_after_step(self, state):
        # under DDP a repair waits for a check step, where every rank makes it (train/controls.py)
        if len(self.monitor.findings) > self._known and state.controls.may_change:
            self._guard("on_after_step", state)

    def on_validation_end(self, state):
        # (the Monitor, called first, reports the trainer's own divergence stop as a finding)
        if len(self.monitor.findings) > self._known:
            self._guard("on_validation_end", state)

    def on_epoch_end(self, state):
        try:
            if self._probation is not None and self._judge_probation(state):
                self._epoch_bad = False
                return                          # undone: the run continues from the state it returned to
            metrics = state.history[-1] if state.history else {}
            loss = metrics.get("train_loss")
            # a good state to return to: nothing unhealthy this epoch, and the training loss is
            # finite and lower than at the last good state (a diverged net stuck at a constant
            # output can sit near its initial loss: that is no progress)
            reference = self._good_loss if self._good_loss is not None else self.monitor.initial_loss
            healthy = (not self._epoch_bad and loss is not None and math.isfinite(loss)
                       and (reference is None or loss < reference))
            if healthy:
                self._good = take_snapshot(state)
                self._good_loss = loss
            self._lr_test(state)
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
        if self.ended_on is not None:
            babysit["ended_on"] = dict(self.ended_on)

    # ------------------------------------------------------------------ decisions
    def _guard(self, hook, state):
        try:
            new = self.monitor.findings[self._known:]
            self._known = len(self.monitor.findings)
            self._epoch_bad |= any(CODES[f.code].unhealthy for f in new)
            settling = [f for f in new if state.epoch < self._settle.get(f.code, 0)
                        or (f.severity == "warning" and state.epoch < self._settle_warnings)
                        or self._unjudged(state, f)]
            if settling:        # judged again once the repair had its window; may fire again then
                self._archive.extend(settling)
                self.monitor.withdraw(settling)
                self._known = len(self.monitor.findings)
                new = [f for f in new if f not in settling]
            self._handle(state, new, before_training=False)
        except Exception as exc:
            self._error(hook, exc)

    def _preflight(self, state):
        """Cheap pre-flight checks before the first step; repair and re-check up to max_repairs.
        Over the rounds the periodic-columns check remembers what it read last
        (``periodic_columns.remembered``): a re-check after a change of the model reads the same rows."""
        with periodic_columns.remembered():
            self._preflight_rounds(state)

    def _preflight_rounds(self, state):
        controls = state.controls
        seen, recheck, rows_changed = set(), True, True
        for _ in range(self.max_repairs + 1):
            config = controls.config              # a repair may have standardized the inputs
            found = []
            if recheck:
                X, y = check_sample(*controls.train_data, seed=config.seed)   # streamed: a sample
                found = [f for f in self._last_batch(state, X, y, preflight(
                             controls.model, X, y, loss=config.loss, loss_options=loss_options(config),
                             shuffle=config.shuffle, cheap_only=True, data_checks=rows_changed, seed=config.seed))
                         if f.key not in seen]
                # class_imbalance graded by the evaluated mix as the doctor grades it (split_checks.py)
                found = grade_imbalance(found, SimpleNamespace(train=controls.train_data, val=controls.val_data,
                                                               test=None))
                seen.update(f.key for f in found)
                self._ids_refit(state, found)
            found = (self._preprocess_test(state) + (self._grade(state, found) if found else [])
                     + self._activation_test(state) + self._settings_test(state))
            for f in found:
                f.evidence.setdefault("step", 0)
                f.evidence.setdefault("epoch", 0)
                self.monitor.diagnosis.add(f)
            # an experiment's finding not acted on in an earlier round (another ranked first) is pending
            found += [f for f in self._pending if not self.attempts.get(f.code)]
            self._pending = [f for f in found if f.evidence.get("intervention")]
            if not found:
                return
            made = len(self.repairs)
            if not self._handle(state, found, before_training=True) or state.stop is not None:
                return
            # the checks run again only after a change of what they read (``Action.rechecked``): after
            # one of the optimizer, the lr, clipping or the schedule alone every finding would be one seen;
            # the checks of the rows alone only after a change of the rows (``Action.changes_data``)
            rechecked = [ACTIONS[r["action"]] for r in self.repairs[made:] if ACTIONS[r["action"]].rechecked]
            recheck, rows_changed = bool(rechecked), any(a.changes_data for a in rechecked)

    def _last_batch(self, state, X, y, found) -> list:
        """``found`` with the step on each epoch's last, incomplete batch as the run's loader leaves it
        (``Controls.last_batch_rows``; model_checks.check_last_batch, the doctor's check) where the
        model ran on the pre-flight's rows: a forward that raises there alone (batch norm on one row)
        raises at the end of the first epoch, and is found, and repaired (plans.plan_model_raises:
        ``drop_last_batch``), before the first step."""
        controls = state.controls
        last = controls.last_batch_rows
        if not last or any(f.code == "model_raises" for f in found):
            return found
        config = controls.config
        return found + check_last_batch(controls.model, X, y, build_loss(config), rows=controls.train_data[1].shape[0],
                                        batch_size=controls.batch_size, seed=config.seed, last=last)

    def _ids_refit(self, state, found) -> None:
        """``constant_ids``' warnings (an embedding's ids one value on every row) get the step of the run's
        own preprocess whose removal makes the ids vary (``preprocess_refit.choose_for_ids``: its
        ``evidence["refit"]``, which ``plans.plan_uninformative_inputs`` plans as ``refit_preprocess``)."""
        for f in found:
            if f.code == "uninformative_inputs" and f.severity == "warning" and f.evidence.get("embedding") is not None \
                    and getattr(state.controls, "raw_train", None) is not None:
                try:
                    f.evidence["refit"] = preprocess_refit.choose_for_ids(f, state.controls,
                                                                          seed=state.controls.config.seed)
                except Exception as exc:    # a refitted pipeline the model fails on: no refit, said why
                    f.evidence["refit"] = {"why": f"a refit could not be read: {type(exc).__name__}: {exc}"[:200]}

    def _preprocess_test(self, state) -> list:
        """What the run's own configured preprocess loses (preprocess_check.check_preprocess: the
        check's probes on the training rows before and after it), once per fit and only where the
        controls keep the rows before it (``keep_raw_inputs``: in-memory rows); its finding names
        the step, and ``preprocess_refit.choose`` the change of it that recovers (its evidence ``refit``),
        which ``plans.plan_uninformative_inputs`` plans as ``refit_preprocess``."""
        controls = state.controls
        if self._preprocess_tested or getattr(controls, "raw_train", None) is None \
                or controls.configured_pipeline is None:
            return []
        self._preprocess_tested = True
        found = check_preprocess(controls.configured_pipeline, *controls.raw_train, seed=controls.config.seed)
        for f in found:     # the change of the named step that recovers, for plans.plan_uninformative_inputs
            f.evidence["refit"] = preprocess_refit.choose(f, controls, seed=controls.config.seed)
        return found

    def _grade(self, state, found) -> list:
        """The symptoms among ``found`` graded by their fixes (interventions.grade) when the
        experiment costs at most ``GRADE_SHARE`` of the run: a symptom whose fix does not train
        better becomes info and is left alone; one that hurts keeps the fix that helped as its
        repair (``interventions.repair_plan``)."""
        symptoms = [f.code for f in found if f.severity == "warning" and interventions.graded_fixes(f)]
        fixes = {name for code in symptoms for name in CODES[code].graded_by if name in interventions.SYMPTOM_ARMS}
        runs, total = 2 + len(fixes), state.total_steps or 0     # the setup, its repeat, each fix
        steps = interventions.STEPS
        if runs * steps > GRADE_SHARE * total:
            # a short run: its symptoms whose repair is symptomatic are graded in fewer steps
            # (SHORT_GRADE_SHARE of the run), not repaired ungraded: a re-initialization is no
            # harmless fix (a healthy 5-layer ReLU MLP at PyTorch's default init, whose activations
            # shrink with depth, re-initialized with He ended 3.2 points lower). A repair that removes
            # a cause (standardized inputs, notes 002) is applied ungraded, as before: in so few steps
            # an adaptive optimizer hides what raw inputs x1000 cost (78.8 against 90.4 when graded)
            # So is a re-initialization of weights off every standard init (``off_rule``): an init
            # scale 10x the fan-in rule is evidence before the first step, not a symptom to wait for
            # (in so few steps the held accuracy does not yet show it: a ReLU net at 10x its default
            # init graded unrepaired ended 7 points short)
            cause = [f for f in found if f.code in symptoms
                     and (not self._symptomatic(state, f) or self._off_rule(state, f))]
            found = [f for f in found if f not in cause]
            symptoms = [c for c in symptoms if c not in {f.code for f in cause}]
            fixes = {name for code in symptoms for name in CODES[code].graded_by if name in interventions.SYMPTOM_ARMS}
            runs = 2 + len(fixes)
            steps = int(SHORT_GRADE_SHARE * total / runs)
            if not fixes:
                return found + cause
            if steps < interventions.MIN_STEPS and runs * interventions.MIN_STEPS > MIN_GRADE_SHARE * total:
                return _ungraded(found, symptoms, steps) + cause    # too short to grade even so: left alone
            return self._graded(state, found, symptoms, max(steps, interventions.MIN_STEPS)) + cause
        if not fixes or steps < interventions.MIN_STEPS:
            return found
        return self._graded(state, found, symptoms, steps)

    def _symptomatic(self, state, f) -> bool:
        """The finding's repair, as the planner would choose it now, treats a symptom
        (``Action.symptomatic``: a re-initialization, a shrunk output layer)."""
        plan = CODES[f.code].plan(f, self._context(state, f.code, True)) if CODES[f.code].plan else None
        return not isinstance(plan, Plan) or plan.action.symptomatic

    def _off_rule(self, state, f) -> bool:
        """The finding's repair is a re-initialization and the weights' scale is off every standard
        init: their median std above ``plans.OVERSCALED`` (3x) He's sqrt(2 / fan_in)
        (``actions.weight_scale``; He is the largest standard init, PyTorch's default 0.41x of it)."""
        plan = CODES[f.code].plan(f, self._context(state, f.code, True)) if CODES[f.code].plan else None
        scale = weight_scale(state.controls.model)
        return isinstance(plan, Plan) and plan.action.name == "reinit" and scale is not None and scale > OVERSCALED

    def _graded(self, state, found, symptoms, steps) -> list:
        """``found`` graded by the fixes of ``symptoms``, each trained ``steps`` steps."""
        controls = state.controls
        config = controls.config
        X, y = controls.train_data
        decay = controls.optimizer_overrides.get("weight_decay", config.weight_decay) or 0.0
        baseline, arms = interventions.experiment(
            controls.model, X, y, build_loss(config), optimizer=controls.optimizer,
            lr=probe_lr(controls.optimizer, config.lr), weight_decay=decay, batch_size=config.batch_size,
            seed=config.seed, symptoms=symptoms, settings=False, clip_norm=controls.clip_norm,
            budget_s=GRADE_BUDGET_S, steps=steps)
        return interventions.grade(found, baseline, arms, run_steps=state.total_steps)

    def _activation_test(self, state) -> list:
        """Hidden sigmoid units (notes 003: "sigmoid should be avoided"; notes 004: sigmoid' <= 0.25
        per layer): the ``swap_activations`` repair (ReLU, He init) trains next to the setup and a
        repeat (``interventions.experiment(activation=True)``); a ``vanishing_gradients`` finding
        whose repair is that swap when it trains ``helpful``-ly better, none otherwise. Runs once
        per fit, ``ACTIVATION_SHARE`` of the run's steps at most over its three runs (at least
        ``interventions.MIN_STEPS`` each)."""
        controls = state.controls
        if self._activation_tested or not hidden_sigmoids(controls.model):
            return []
        self._activation_tested = True
        config = controls.config
        X, y = controls.train_data
        steps = int(min(interventions.STEPS,
                        max(interventions.MIN_STEPS, ACTIVATION_SHARE * (state.total_steps or 0) / 3)))
        decay = controls.optimizer_overrides.get("weight_decay", config.weight_decay) or 0.0
        baseline, arms = interventions.experiment(
            controls.model, X, y, build_loss(config), optimizer=controls.optimizer,
            lr=probe_lr(controls.optimizer, config.lr), weight_decay=decay, batch_size=config.batch_size,
            seed=config.seed, settings=False, activation=True, repeat=True, steps=steps,
            clip_norm=controls.clip_norm, budget_s=GRADE_BUDGET_S)
        return interventions.findings(baseline, arms, run_steps=state.total_steps)

    def _settings_test(self, state) -> list:
        """Settings far from their usual values (``unusual_settings``): the experiment's setting arms
        (weight decay / 100, dropout off, no clipping, the optimizer's defaults, and every regularizer
        of ``interventions.unusual_regularizers``: l1 / l2 / 100, max_norm, label smoothing, clip_value
        off; the lr arms only for an lr ``FAR_BELOW`` its optimizer's default in a ``normalized`` model)
        train next to the setup and a repeat, each with the run's own penalties; a
        ``regularization_too_strong`` / ``optimizer_setting`` / ``lr_too_low`` finding for each that
        trains ``helpful``-ly better, which the repair acts on before the first step with the arm's
        setting. Also the lr schedule (``schedule_check.check_schedule``: a
        ``schedule_decays_early`` finding, repaired by stretching it). Runs once per fit,
        ``SETTINGS_SHARE`` of the run's steps at most over its runs (at least ``interventions.MIN_STEPS``
        each) and as many again over its trainings on: an arm ahead of the setup but within the noise
        at those few steps trains on with the setup and its repeat and is graded where they end
        (``interventions.confirmed``)."""
        controls = state.controls
        if self._settings_tested:
            return []
        self._settings_tested = True
        config, options = _settings_in_force(controls)
        lr = probe_lr(config.optimizer, config.lr, options)
        decay = config.weight_decay or 0.0
        clip = controls.clip_norm or config.clip_norm
        X, y = controls.train_data
        # the run's lr schedule over its planned steps (schedule_check.py: a candidate only when it gives
        # 99% of its lr within the first half of the run; bounded by steps as the settings' experiment)
        schedule_steps = int(min(interventions.STEPS, max(interventions.MIN_STEPS,
                                                          SETTINGS_SHARE * (state.total_steps or 0) / 3)))
        found = check_run_options(controls.model, X, y, build_loss(config), schedule=controls.schedule,
                               total_steps=state.total_steps or 0, optimizer=config.optimizer, lr=lr,
                               weight_decay=decay, options=options, batch_size=config.batch_size, seed=config.seed,
                               clip_norm=clip, config=config, steps=schedule_steps,
                               clip=False,   # the settings experiment below tries every configured clip
                               confirm=True)  # (a stretch ahead within the noise at these few steps: trained on)
        found += self._radius_test(state, config, options, lr)
        # a dropout on the model's output is a setting arm too (mode_gap.py: its removal, before the first step)
        on_output = bool(mode_gap.output_dropouts(controls.model, X[:interventions.MODE_ROWS].to(
            next((p.device for p in controls.model.parameters()), X.device))))
        if not (unusual_settings(controls.model, lr=lr, weight_decay=decay, clip_norm=clip, options=options,
                                 optimizer=config.optimizer)
                or interventions.unusual_regularizers(config, lr=lr) or on_output):
            return found
        far = normalized(controls.model) and lr_far_below(config.optimizer, lr, options)     # the lr arms too
        arms = (int(decay > 0) + int(bool(dropout_rates(controls.model))) + int(bool(clip)) + int(on_output)
                + LR_ARMS * int(far)
                + int(mode_gap.small_batch_norm(controls.model, config.batch_size))
                + int(bool(interventions.changed_options(options, config.optimizer)))
                + len(interventions.regularization_arms(config)))   # the setting arms the experiment runs
        steps = int(min(interventions.STEPS, max(interventions.MIN_STEPS,
                                                 SETTINGS_SHARE * (state.total_steps or 0) / (2 + arms))))
        # bounded by steps, not wall time: what it finds does not depend on the machine's load
        baseline, ran = interventions.experiment(
            controls.model, X, y, build_loss(config), optimizer=config.optimizer, lr=lr,
            weight_decay=decay, options=options, batch_size=config.batch_size, seed=config.seed, repeat=True,
            steps=steps, clip_norm=clip, unfreeze=False, lr_arms=far, run_steps=state.total_steps, config=config,
            confirm=True, extend_steps=int(SETTINGS_SHARE * (state.total_steps or 0)))
        return interventions.findings(baseline, ran, run_steps=state.total_steps) + found

    def _slow_learning(self, state) -> str | None:
        """What in the run's own evidence shows it learning slowly, in words, for the lr test (``_lr_test``);
        None where nothing does, and a run that learns pays nothing:

        * the monitor read one of ``SLOW_READINGS`` with its grading (a warning: ``lr_too_low``, the loss
          barely moved with updates 10x below the healthy ratio; ``underfitting``, a low training accuracy
          with no gap; not under a strong weight decay, which its planner lowers);
        * the sampled losses fell less than their own noise or 5 % (``barely_falling``; notes 000/004: "loss
          not going down: learning rate too low"). A slow lr with healthy-looking updates: Adam at 2e-3 keeps
          its update ratio near 1e-3 on a flat loss (set 27's healthy starters GRU at chance, 99.8 % at lr
          x10), and neither ``lr_far_below`` nor the ratio rules read it;
        * the updates are below the healthy ratio (notes 001 / CS231n: about 1e-3 of the weights a step, at
          the schedule's full lr) while the loss falls in a line (``linear_looking``: the notes' low-lr curve).

        The loss is read over the trajectory's samples once they span an epoch and ``rules.TREND_SAMPLES``."""
        readings = [f.code for f in self.monitor.findings + self._archive
                    if f.code in SLOW_READINGS and f.severity != "info" and f.evidence.get("cause") != "weight_decay"]
        if readings:
            return f"the monitor read {readings[0]}"
        samples = [s for s in self.monitor.samples if math.isfinite(s["loss"])]
        if len(samples) < TREND_SAMPLES or samples[-1]["step"] - samples[0]["step"] < (state.steps_per_epoch or 1):
            return None
        losses = [s["loss"] for s in samples]
        if barely_falling(losses):
            return (f"the sampled loss barely fell over steps {samples[0]['step']}-"
                    f"{samples[-1]['step']} ({losses[0]:.4g} -> {losses[-1]:.4g})")
        ctx = self._context(state, interventions.RAISE_CODE, False)
        ratio = ctx.median_update_ratio()
        ratio = ratio / ctx.multiplier if ratio is not None and 0 < ctx.multiplier < 1 else ratio
        if ratio is not None and ratio < HEALTHY_RATIO and linear_looking(losses):
            return (f"updates of {ratio:.2g} of the weights (healthy ~1e-3) and a loss falling in a line over steps "
                    f"{samples[0]['step']}-{samples[-1]['step']} ({losses[0]:.4g} -> {losses[-1]:.4g})")
        return None

    def _lr_untested(self, state) -> bool:
        """The lr test may still run at this epoch end: once per fit, before any lr change (a raise or cut made,
        undone, a plateau's decay: the lr was read already), none on probation, with repairs left and at least
        ``PROBATION_SHARE`` of the run ahead for a raise to be judged on; the judging monitor's process only."""
        total = state.total_steps or 0
        return (self._lr_tested is None and not self._gave_up and state.stop is None and self.monitor.judges
                and self._probation is None and not self._refuted and self._decayed is None
                and len(self.repairs) < self.max_repairs
                and not any(r["action"] in ("raise_lr", "lower_lr", "undo_lr_change") for r in self.repairs)
                and 0 < state.step <= (1 - PROBATION_SHARE) * total)

    def _lr_test(self, state) -> bool:
        """The run's lr tested by raising it where the run learns slowly (``_slow_learning``; notes 000: "find a
        learning rate that makes the loss go down"; notes 004: lrs a decade apart), at an epoch end: from the
        state a raise returns to (``plans.raise_rollback``: the start early in the run, the slow steps replayed
        at the raised lr; else the last good epoch end) the ``RAISES`` arms train next to the setup and a repeat
        (``interventions.experiment``) at the lr in force there, but a raise into a strong decay; a raise that
        trains ``helpful``-ly better on the held rows, trained on where the setup might catch up
        (``short_lived``: the short-horizon bias), is an ``lr_too_low`` finding with its factor (``evidence["best_lr_factor"]``), and the lr is raised by it (sized further by
        ``_sized_raise``) on probation (``_judge_probation``), judged from the epoch by whose end the run has
        trained the steps the arm was measured at (a larger step's first transients are no verdict). Runs
        once per fit (``_lr_untested``), only where its runs of ``interventions.MIN_STEPS`` each fit in
        ``LR_TEST_CAP`` of the run's steps: ``SETTINGS_SHARE`` of them over its runs and as many again over
        their trainings on, both within ``LR_TEST_CAP``. True when the lr was raised."""
        if not self._lr_untested(state):
            return False
        why = self._slow_learning(state)
        if why is None:
            return False
        self._lr_tested = why
        found, rollback = self._lr_arms(state)
        return bool(found) and self._raise_measured(state, found[0], why, rollback)

    def _lr_arms(self, state) -> tuple:
        """The lr test's experiment (``_lr_test``): ``(the lr_too_low findings of the raises that helped, the
        rollback a raise takes)``."""
        controls, total = state.controls, state.total_steps or 0
        config, options = _settings_in_force(controls)
        rollback = raise_rollback(self._context(state, interventions.RAISE_CODE, False))
        lr = (probe_lr(config.optimizer, config.lr, options) * controls.lr_scale if rollback is Rollback.START
              else controls.lrs()[0])
        # a raise that puts lr x weight decay at ratios.STRONG_DECAY is not tried: the decay would take 10x a healthy
        # whole update off the weights each step, and the monitor reads that as underfitting from a strong decay
        # (set 5's glyphs, SGD 0.2 raised 100x under the default decay 5e-4: the decay cut next, 82 -> 53 %)
        raises = [factor for factor in RAISES if lr * factor * (config.weight_decay or 0.0) < STRONG_DECAY]
        runs = 2 + len(raises)          # the setup, its repeat, each raise
        steps = int(min(interventions.STEPS, max(interventions.MIN_STEPS, SETTINGS_SHARE * total / runs)))
        if not raises or runs * steps > LR_TEST_CAP * total:
            return [], rollback
        origin = self._start if rollback is Rollback.START else self._good
        model = copy.deepcopy(controls.model)
        if origin is not None:
            model.load_state_dict(origin.state["model"])
        X, y = controls.train_data
        baseline, ran = interventions.experiment(
            model, X, y, build_loss(config), optimizer=config.optimizer, lr=lr,
            weight_decay=config.weight_decay or 0.0, options=options, batch_size=config.batch_size,
            seed=config.seed, settings=False, repeat=True, steps=steps,
            clip_norm=controls.clip_norm or config.clip_norm, unfreeze=False,
            extra_arms=[_raise_arm(lr, factor) for factor in raises], run_steps=total, config=config,
            extend_steps=int(min(SETTINGS_SHARE * total, LR_TEST_CAP * total - runs * steps)))
        return [f for f in interventions.findings(baseline, ran, run_steps=total)
                if f.code == interventions.RAISE_CODE and f.evidence.get("best_lr_factor", 0) > 1], rollback

    def _raise_measured(self, state, f, why: str, rollback: Rollback) -> bool:
        """The lr raised by the factor the lr test's arm ``f`` measured (``_lr_test``), from ``rollback``'s
        state, on probation from the epoch by whose end the run has trained the arm's steps; True when made."""
        factor = f.evidence["best_lr_factor"]
        f.evidence.update(step=state.step, epoch=state.epoch, called_by=why)
        self._archive.append(f)         # in the run's findings at the end, whatever the trajectory
        plan = make_plan("raise_lr", f"{why}; {f.message}: raise the lr {factor:g}x", rollback=rollback,
                         factor=factor)
        if not self._apply(state, f, plan, before_training=False):
            return False
        if self._probation is not None and self._probation.code == f.code:
            measured = (f.evidence.get("longer") or {}).get("steps") or f.evidence.get("steps") or 0
            self._probation = replace(self._probation, epochs=state.epoch + math.ceil(
                measured / max(1, state.steps_per_epoch or 1)))
        return True

    def _augmentation_first(self, state) -> bool:
        """A code of ``augment_check.TESTED_ON`` (underfitting: a low training accuracy with no gap to
        validation) in a run with augmentation: the augmentation is a regularizer (notes 000: "to make a
        model generalize better"), and a training accuracy held down with no gap is what too much of one
        does, as too much weight decay or dropout (which ``plans.plan_underfitting`` lowers before any
        raise). Before the planner raises the lr, the doctor's augmentation experiment
        (``augment_check.check_augment``) runs from the state a drop would return to (the start,
        ``Rollback.START``), with the augmentation in force, at its own ``interventions.STEPS``: the
        settings test at fit start gave it a fifth of the run's steps over three runs, too few for a
        verdict on a CNN that leaves chance after some 40 (set 27's digits under a whole-image shift:
        22 steps, nothing found; 100 steps: the shift found). A transform that hurts is repaired
        (``plans.plan_augmentation_hurts``: dropped) as any other finding, the experiment its evidence;
        none: the planner's own plan. Once per augmentation in force. True when a repair was made."""
        controls = state.controls
        augment = controls.augment
        if not augment or augment == self._augment_tested:
            return False
        self._augment_tested = augment
        config, options = _settings_in_force(controls)
        model = copy.deepcopy(controls.model)
        if self._start is not None:
            model.load_state_dict(self._start.state["model"])
        X, y = controls.train_data
        found = augment_check.check_augment(
            model, X, y, build_loss(config), augment=augment, total_steps=state.total_steps or 0,
            optimizer=config.optimizer, lr=probe_lr(config.optimizer, config.lr, options) * controls.lr_scale,
            weight_decay=config.weight_decay or 0.0, options=options, batch_size=config.batch_size,
            seed=config.seed, clip_norm=controls.clip_norm, config=config)
        for f in found:
            f.evidence.update(step=state.step, epoch=state.epoch)
        self._archive.extend(found)     # in the run's findings at the end, whatever the trajectory
        return bool(found) and self._handle(state, found, before_training=False)

    def _radius_test(self, state, config, options: dict, lr: float) -> list:
        """The SAM family's radius read by its own ascent step (``interventions.radius_past_neighbourhood``),
        not by a trial: a radius past the gradient's neighbourhood slows a run from its first steps, in
        a setup that may learn too slowly for the few steps of a trial to show it (a CNN whose healthy
        run leaves chance only after 4 of its 10 epochs). Part of the settings test: once per fit."""
        X, y = state.controls.train_data
        try:
            found = interventions.radius_past_neighbourhood(
                state.controls.model, X, y, build_loss(config), optimizer=config.optimizer, options=options,
                lr=lr, batch_size=config.batch_size, seed=config.seed)
        except Exception:       # a forward or an optimizer that fails on a copy: the other checks say so
            return []
        return [found] if found is not None else []

    def _handle(self, state, findings, *, before_training) -> bool:
        """Repair the highest-priority finding that has a plan; True when one was repaired. A
        warning's symptomatic plan (``Action.symptomatic``: a re-initialization, a shrunk output
        layer) gives way to a later finding's plan that removes a cause (``_cause_plan``)."""
        ranked = Diagnosis(findings).ranked()
        for i, f in enumerate(ranked):
            spec = CODES[f.code]
            if spec.plan is None or f.severity == "info":
                continue
            if self._gave_up:
                return False
            if f.code in self._declined:
                self._note_unrepaired(f, self._declined[f.code])
                continue
            if not before_training and self._replayed_unchanged(state, f):
                self._undo_unchanged(state, f)
                return True
            if len(self.repairs) >= self.max_repairs:
                if f.severity == "error" or spec.stops_unrepaired:
                    self._give_up(state, f, f"gave up after {len(self.repairs)} repairs")
                return False
            if not before_training and f.code in augment_check.TESTED_ON and self._augmentation_first(state):
                return True
            ctx = self._context(state, f.code, before_training)
            # the experiment's fix that helped is the repair (once per code: a second try is the planner's)
            plan = (interventions.repair_plan(f) if ctx.attempts == 0 else None) or spec.plan(f, ctx)
            if isinstance(plan, str):
                entry = {"code": f.code, "where": f.where, "reason": plan}
                if entry not in self.unrepaired:
                    self.unrepaired.append(entry)
                if f.severity == "error" and spec.stops_unrepaired:
                    self._give_up(state, f, "cannot repair")
                    return False
                continue
            if plan.action.symptomatic and f.severity == "warning":
                f, plan = self._cause_plan(state, ranked[i + 1:], before_training) or (f, plan)
            if self._apply(state, f, plan, before_training=before_training):
                return True
        return False

    def _cause_plan(self, state, later, before_training) -> tuple | None:
        """The first of ``later`` findings (ranked after a warning whose plan is symptomatic) whose
        own plan is not symptomatic: ``(finding, plan)``, else None. A ReLU at a regression net's
        output kills the units and the outputs below zero: removing it removes the cause, while a
        re-initialization treats the dead units and leaves the ReLU to kill them again."""
        for g in later:
            spec = CODES[g.code]
            if spec.plan is None or g.severity == "info":
                continue
            ctx = self._context(state, g.code, before_training)
            plan = (interventions.repair_plan(g) if ctx.attempts == 0 else None) or spec.plan(g, ctx)
            # (a ``confirm`` plan may be declined by its trial: the symptom's own plan stays)
            if isinstance(plan, Plan) and not plan.action.symptomatic and not plan.options.get("confirm"):
                return g, plan
        return None

    def _context(self, state, code, before_training) -> RepairContext:
        schedule = getattr(state.controls, "schedule", None)
        return RepairContext(
            controls=state.controls, samples=self.monitor.samples, lr=state.lr or state.controls.lrs()[0],
            attempts=self.attempts.get(code, 0), before_training=before_training,
            reinit_attempts=sum(self.attempts.get(c, 0) for c in REINIT_CODES),
            diverged_before=any(self.attempts.get(c, 0) for c in DIVERGED_CODES),
            progress=state.step / state.total_steps if state.total_steps else 0.0,
            multiplier=schedule_multiplier(schedule, state.step),
            final_multiplier=schedule_multiplier(schedule, state.total_steps or state.step),
            lr_changed_before=any(r["action"] in ("raise_lr", "lower_lr") for r in self.repairs),
            good_loss=self._good_loss)

    def _give_up(self, state, finding, why):
        self._gave_up = True
        done = "; ".join(f"{r['code']} -> {r['action']}" for r in self.repairs) or "none"
        back = self._end_on_best(state) if state.step > 0 else None
        state.stop = Stop(StopKind.UNREPAIRABLE, f"babysitter: {why}: {finding.code}: {finding.message}. "
                                                 f"Repairs tried: {done}." + (f" {back}." if back else "")
                                                 + f" Fix: {finding.fix}")

    def _end_on_best(self, state) -> str | None:
        """A run given up during training ends on the best state it reached, never a worse one than
        before the repairs: the last good snapshot of the current trajectory, or the one the run had
        when the first repair in training was made (with the settings it had then, where every repair
        since changed only settings an undo reverts, ``UNDOABLE``), whichever ends the lower training
        loss (ties: the run's own settings). Where the repairs failed, the state they left is no
        better than the one they started from: the weights a diverged step or a replay under a tiny lr
        left are worse than either (a healthy regression net cut three times for one batch's loss
        ended at R^2 -0.01 against 0.89 left alone). Returns what it did, for the stop message."""
        if self._good is None:
            return None
        best, undo = self._good, None
        if self._before is not None:
            good, before, index = self._before
            undoable = all(r["action"] in UNDOABLE + ("undo_lr_change",) for r in self.repairs[index:])
            if good is not None and undoable and _train_loss(good) <= _train_loss(self._good):
                best, undo = good, before
        controls = state.controls
        if undo is not None:
            self._revert_settings(controls, undo)
        controls.restore(best.state)
        said = f", training loss {best.train_loss:.4g}" if best.train_loss is not None else ""
        self.ended_on = {"step": best.step, "epoch": best.epoch, "train_loss": best.train_loss}
        return (f"The run ends on its best state: step {best.step} (epoch {best.epoch}{said})"
                + (", with the settings it had before the repairs" if undo is not None else ""))

    def _revert_settings(self, controls, saved: dict):
        """The lr scale, the controls' clip and the optimizer options back to ``saved``
        (``settings``' record), through ``actions.undo_lr_change``; its detail."""
        config = controls.config
        changed = {k: saved["optimizer_overrides"].get(k, getattr(config, k, None))
                   for k, v in controls.optimizer_overrides.items() if saved["optimizer_overrides"].get(k) != v}
        return controls.apply(ACTIONS["undo_lr_change"].apply, {"lr_scale": saved["lr_scale"],
                                                               "clip_norm": saved["clip_norm"],
                                                               "optimizer": changed}, seed=0)

    # ------------------------------------------------------------------ replays
    def _unjudged(self, state, finding) -> bool:
        """``finding`` comes at the very step the last lr change for its code was made without a
        rollback: no step has run under the change yet, so it says nothing about it (judged again
        once the change had its steps)."""
        m = self._mark
        return m is not None and not m.replays and m.code == finding.code and m.step == state.step

    def _replayed_unchanged(self, state, finding) -> bool:
        """The last lr change rolled the run back, and the replay under it reads ``finding``'s code
        at the very step the change was made for, with a loss no lower (``_milder``): the change did
        not touch what the finding measured there. A loss that an lr cut does not lower at the same
        step of the same batches is the batch's, not the lr's: a heavy-tailed target's outlying row
        reads 17.4 at step 89 whatever the lr (a healthy regression net cut three times there, ending
        unrepairable at R^2 -0.01). A milder reading is the change working, not enough: the planner
        tries again (an lr 1000x too high cut 10x, then 100x by a sized cut, at the same step)."""
        m = self._mark
        return (m is not None and m.replays and m.code == finding.code and m.step == state.step
                and _milder(_finding_loss(finding), m.loss) is False)

    def _undo_unchanged(self, state, finding) -> None:
        """Undo the last lr change (``_replayed_unchanged``): back to the trajectory it replaced at its
        step, with the settings it had, and ``finding``'s code left unrepaired for the rest of the fit."""
        m, controls = self._mark, state.controls
        before, step_now, epoch_now = settings(controls), state.step, state.epoch
        detail = self._revert_settings(controls, m.settings)
        controls.restore(m.kept.state)      # after the optimizer is rebuilt: the kept optimizer state is loaded into it
        self._archive.extend(self.monitor.reset_trajectory(state.step))
        self._known = len(self.monitor.findings)
        if self._probation is not None and self._probation.kept is m.kept:
            self._probation = None          # the change on probation is the one undone
        self._good, self._good_loss, self._mark = m.good, m.good_loss, None
        loss = _finding_loss(finding)
        why = (f"{finding.code} read {loss:.4g} again at step {m.step} under the change made for its {m.loss:.4g} "
               f"there: the change did not touch what it measures (the batch's own loss, not the lr's)")
        self._declined[finding.code] = f"{why}: left unrepaired after the undo at step {step_now}"
        self._note_unrepaired(finding, self._declined[finding.code])
        self.repairs.append({
            "step": step_now, "epoch": epoch_now, "code": finding.code, "where": finding.where,
            "action": "undo_lr_change", "reason": f"{why}: back to step {m.step} with the settings it had",
            "before": before, "after": settings(controls), "detail": detail,
            "rolled_back_to": {"step": m.kept.step, "epoch": m.kept.epoch}})
        state.extras.setdefault("babysit", {})["repairs"] = list(self.repairs)

    def _note_unrepaired(self, finding, why: str) -> None:
        entry = {"code": finding.code, "where": finding.where, "reason": why}
        if entry not in self.unrepaired:
            self.unrepaired.append(entry)

    # ------------------------------------------------------------------ acting
    def _apply(self, state, finding: Finding, plan: Plan, *, before_training) -> bool:
        controls = state.controls
        before, step_now, epoch_now = settings(controls), state.step, state.epoch
        seed = getattr(controls.config, "seed", 0) + SEED_OFFSET + len(self.repairs)
        confirm = plan.action.name == "raise_lr" and plan.options.get("confirm")
        kind = _probation_kind(finding, plan, before_training)
        plan = self._confirmed(state, finding, plan, kind, before_training=before_training, seed=seed)
        if plan is None:
            return False
        if self._rescaling_refused(controls, finding, plan):
            return False
        # the trajectory a change on probation replaces is kept, with the loss it is judged against;
        # so is the one an lr change made between two steps replaces, for its replay
        # (``_replayed_unchanged``): a state taken at an epoch's validation precedes the epoch's
        # bookkeeping (its history row, the best epoch), which a restore to it would skip
        between_steps = len(state.history) == state.epoch
        undoable = plan.action.name in UNDOABLE and not before_training and between_steps
        kept = take_snapshot(state) if (kind or undoable) and not before_training else None
        if not before_training and self._before is None:
            self._before = (self._good, before, len(self.repairs))
        good_then, good_loss_then = self._good, self._good_loss
        reference, epochs = min(_epoch_losses(state)[-(STALL_EPOCHS + 1) if kind == "decay" else 0:],
                                default=self.monitor.initial_loss), state.epoch
        # before the first step there is nothing to roll back to
        mode = Rollback.NONE if before_training else plan.rollback
        target = self._roll_back(controls, mode)
        plan = self._sized(state, plan, confirm=confirm, seed=seed, code=finding.code)   # from the state it returned to
        detail = controls.apply(plan.action.apply, plan.options, seed=seed)   # under DDP: on every rank
        # the monitor judges the new trajectory afresh; the abandoned one's findings are merged
        # back at the end (so the same code can fire again if the repair did not work)
        self._archive.extend(self.monitor.reset_trajectory(state.step))
        self._known = len(self.monitor.findings)
        self._settle_after(state, finding, plan)
        if plan.action.new_baseline or target is not None:
            # after a rollback, or a change of the model or data that older snapshots predate, the
            # state just made is the last good one (and the start, when repaired from the start or
            # before the first step)
            self._good = take_snapshot(state)
            self._good_loss = None if target is None else target.train_loss
            if mode is Rollback.START or (target is None and finding.evidence.get("step", 0) == 0):
                self._start = self._good
        self.attempts[finding.code] = self.attempts.get(finding.code, 0) + 1
        self.repairs.append({
            "step": step_now, "epoch": epoch_now, "code": finding.code, "where": finding.where,
            "action": plan.action.name, "reason": plan.reason, "before": before, "after": settings(controls),
            "detail": detail,
            "rolled_back_to": None if target is None else {"step": target.step, "epoch": target.epoch}})
        state.extras.setdefault("babysit", {})["repairs"] = list(self.repairs)
        if kind == "decay":
            self._hysteresis(finding, step_now)
        self._mark = Mark(finding.code, step_now, _finding_loss(finding), kept, before, good_then, good_loss_then,
                          replays=target is not None) if undoable and plan.action.name in UNDOABLE else None
        if kind and kept is not None and reference is not None and math.isfinite(reference):
            self._begin_probation(state, Probation(kind, finding.code, finding.where, kept, before, reference, epochs,
                                                   until=state.step + int(PROBATION_SHARE * (state.total_steps or 0))))
        elif self._probation is not None and plan.action.name not in UNDOABLE:
            self._probation = None      # the model or the data changed: the kept trajectory no longer describes the run
        return True

    def _roll_back(self, controls, mode: Rollback):
        """The snapshot ``mode`` returns the run to (restored; None for ``Rollback.NONE``)."""
        target = {Rollback.START: self._start, Rollback.LAST: self._good, Rollback.NONE: None}[mode]
        if target is not None:
            controls.restore(target.state)
            if controls.optimizer_overrides:
                controls.rebuild_optimizer()     # the restored optimizer state carries old hyper-parameters
        return target

    def _sized(self, state, plan: Plan, *, confirm: bool, seed: int, code: str | None = None) -> Plan:
        """``plan`` with its lr factor sized by a short trial where its action sizes one (a raise that
        is not a confirmation, a cut marked ``size``); a divergence's cut (``code`` of Group.DIVERGED)
        from the run's start taken in part as a larger batch where its trial bears that out
        (``_cut_as_batch``)."""
        if plan.action.name == "raise_lr" and not confirm:
            return self._sized_raise(state, plan, seed=seed)
        if plan.action.name == "lower_lr" and plan.options.get("size"):
            plan = self._sized_cut(state, plan, seed=seed)
        if plan.action.name == "lower_lr" and code in DIVERGED_CODES and state.step == 0:
            return self._cut_as_batch(state, plan, seed=seed)
        return plan

    def _cut_as_batch(self, state, plan: Plan, *, seed: int) -> Plan:
        """A divergence's lr cut as ``set_batch_size`` (with what of the cut the batch leaves) where
        ``sizing.batch_for_cut`` finds a larger batch below the gradient noise scale that trains no
        worse than the cut in the same steps: the same noise scale and the same progress an epoch in
        fewer steps (the linear scaling rule). Only from the run's start (the plan rolled back to it,
        or before the first step), as ``too_few_updates``' batch: the whole run at the new batch, its
        schedule stretched. Later the cut stays a cut: its replay at the same step on the same batches
        judges it and can undo it (``_replayed_unchanged``), where a batch changed at an epoch's end
        could not be put back at the finding's step, mid-epoch (a healthy digits MLP whose one batch
        read a spike at epoch 2 kept a larger batch, with nothing to undo it). Nor where the batch
        cannot change (``Controls.batch_size_fixed``), or for a divergence after one repaired before
        (the cut marked ``size``): a divergence that a cut or a batch did not end is the lr's own, not
        noise a batch averages away (a tanh MLP at lr 5 cut 10x diverged again; its sized cut taken as
        batches of 104 rows ended 3.4 points below the cut). Nor under DDP (``Controls.journal``): the trial
        would read rank 0's shard at one rank's batch, not the job's data at the job's batch."""
        controls = state.controls
        if (controls.batch_size_fixed() is not None or controls.journal is not None
                or any(r["code"] in DIVERGED_CODES for r in self.repairs)):
            return plan
        trial = _cut_trial(sizing.batch_for_cut, state, plan, seed=seed,
                           clip_norm=plan.options.get("clip_norm") or controls.clip_norm)
        if not trial["helps"]:
            return plan
        rest = f" and lower the lr {trial['factor']:.3g}x" if trial["factor"] > 1 else ""
        return Plan(ACTIONS["set_batch_size"], {**plan.options, "batch_size": trial["batch_size"],
                                                "factor": trial["factor"]}, plan.rollback,
                    plan.reason + f"; as batches of {trial['batch_size']} rows{rest} (the gradient noise scale is "
                                  f"{trial['noise_scale']:.3g} rows: the same noise an epoch in "
                                  f"{trial['batch_size'] / controls.batch_size:.3g}x fewer steps; a "
                                  f"{trial['steps']}-step trial: {trial['batch_loss']:.4g} held loss vs "
                                  f"{trial['cut_loss']:.4g} for the cut)")

    def _rescaling_refused(self, controls, finding, plan: Plan) -> bool:
        """True (noted as unrepaired) when ``plan`` adds a preprocessing that is no fix for the model:
        ids it indexes an embedding with, standardized, stop being ids; it raises on them, or clamps
        them into other ids (``Controls.preprocessed_rows``, ``model_checks.rescaling_refused``)."""
        if plan.action.preprocess is None:
            return False
        # as many rows as the pre-flight asks the same question on (``data_checks.fix_applies``)
        rows = controls.preprocessed_rows(plan.action.preprocess(plan.options), rows=PROBE_ROWS)
        with torch.random.fork_rng(devices=[]):     # a model drawing noise in eval mode: the run's stream as it was
            refused = None if rows is None else rescaling_refused(controls.model, rows)
        if refused is None:
            return False
        entry = {"code": finding.code, "where": finding.where,
                 "reason": f"{plan.action.name}: on the inputs it makes {refused} "
                           f"(it reads them as they are: ids or codes, say)"}
        if entry not in self.unrepaired:
            self.unrepaired.append(entry)
        return True

    def _hysteresis(self, finding, step: int) -> None:
        """After a plateau's lr decay no lr raise is made during training in this fit, whether the
        decay is kept or undone. The decay read the stall as the loss sitting on its minibatch noise
        at the lr (notes 003: decrease the lr when the objective stagnates); a raise on a slow
        loss or small updates (underfitting, lr_too_low, a loss that does not fall) reads the same
        run the other way, and after the decay its small updates are the decay's own. Kept, the
        decay ended the stall and a raise would restore the noise it removed; undone, the run is
        back at its own lr, where the rule measured the stall. Acting on both readings moves the lr
        back and forth (decay, raise, decay), so the first one holds (hysteresis). Cuts, the
        divergence codes' above all, still act."""
        if self._decayed is None:
            self._decayed = (f"the lr decay for {finding.code} made at step {step} read the loss as stalled on its "
                             f"noise at that lr, and a raise would reverse it (the repairer does not move the lr back "
                             f"and forth)")

    def _confirmed(self, state, finding, plan: Plan, kind: str | None, *, before_training, seed) -> Plan | None:
        """``plan`` as its trial leaves it (a ``confirm`` raise sized and borne out, a ``confirm`` cut
        borne out), or None when it is declined (recorded unrepaired): its trial did not bear it out,
        or a change of its ``kind`` was undone in this fit (``_undo``)."""
        if kind in self._refuted:
            self._decline(state, finding, f"{plan.reason}; but {self._refuted[kind]}: left alone")
            return None
        if plan.action.name == "raise_lr" and not before_training and self._decayed:
            self._decline(state, finding, f"{plan.reason}; but {self._decayed}: left alone")
            return None
        if plan.action.name == "raise_lr" and plan.options.get("confirm"):
            # the trial decides whether to act at all: run it before any rollback, from the current weights
            # and, for a raise that returns to the start, from the start's weights too: it must help on both
            # (from the start alone any raise speeds up the first steps: a healthy regression net was raised
            # at step 90 and lost 8.7 R^2 points)
            plan = self._sized_raise(state, plan, seed=seed)
            if not isinstance(plan, str) and not before_training and plan.rollback is Rollback.START and self._start:
                # (the raise as sized from the current weights, tried again: its verdict only)
                check = self._sized_raise(state, plan, seed=seed, weights=self._start.state["model"])
                plan = check if isinstance(check, str) else plan
        elif plan.action.name == "lower_lr" and plan.options.get("confirm"):
            plan = self._confirmed_cut(state, plan, seed=seed)
        if isinstance(plan, str):
            self._decline(state, finding, plan)
            return None
        return plan

    def _begin_probation(self, state, probation: Probation) -> None:
        """Judge ``probation``'s change on the run (``_judge_probation``). During a decay's probation the
        slow-learning codes, which read its smaller steps as a slow lr, wait for the verdict (given at
        the end of the ``STALL_EPOCHS``-th epoch, after that epoch's validation)."""
        if probation.kind == "decay":
            for code in SLOW_CODES:
                self._settle[code] = max(self._settle.get(code, 0), state.epoch + STALL_EPOCHS + 1)
        self._probation = probation

    def _judge_probation(self, state) -> bool:
        """An lr change on probation judged on the run itself at an epoch end (True: undone, ``_undo``).
        A decision read off a few steps is biased toward what pays off within them (short-horizon
        bias, Wu et al. 2018), and the run shows what the steps could not:

        * a ``confirm`` raise's trial trained ``sizing.trial_steps`` steps; a larger lr lowers the loss
          first and can drive the weights where it no longer fits them later (set 4's healthy spiral
          ResMLP, raised 11x from the start by a 50-step trial the raise won, was level at epoch 2,
          ahead at 4 and at chance from 6 on). From the epoch the raise was decided at, each epoch's
          training loss must stay at or below the lowest the replaced trajectory had reached (that
          trajectory was still falling, so the test favours the raise); one above it, or not finite,
          undoes the raise. An epoch is judged only when it trained under the raise from its first step
          (``_trained_under``). The probation passes at the first epoch end after ``Probation.until``.
        * a plateau's decay (notes 003: decrease the lr when the objective stagnates) lowers a loss
          that sits on its minibatch noise; a net on a saddle's plateau it only slows (set 4's
          re-initialized spiral ResMLP, decayed 10x at epoch 7 of 30, ended at 34 % against 96 %
          left alone). The decay passes when an epoch's training loss falls ``rules.FLAT`` below the
          plateau's level, the lowest of the epochs the rule read (the epoch before the stall included: the
          trajectory left alone reaches its own lowest again by its noise, so a bar above that is no evidence
          that the decay helped; set 22's clinics MLP, whose stall followed an epoch at 0.5716, passed a bar
          of 0.99 x 0.5857 at once and ended 1 test point lower), and is undone when ``STALL_EPOCHS``
          epochs pass without that (the stall the rule measured did not end) or the loss is not finite."""
        p = self._probation
        last = state.history[-1] if state.history else {}
        loss, epoch = last.get("train_loss"), last.get("epoch", 0)
        finite = loss is not None and math.isfinite(loss)
        if p.kind == "decay":
            if epoch <= p.epochs:
                return False
            if finite and loss <= (1 - FLAT) * p.reference:
                self._probation = None
                return False
            if finite and epoch - p.epochs < STALL_EPOCHS:
                return False
        else:
            if epoch < max(p.epochs, 1) or not _trained_under(state, last, p):
                return False
            if finite and loss <= p.reference:
                if state.step >= p.until:
                    self._probation = None
                return False
        self._undo(state, p, loss, epoch)
        return True

    def _undo(self, state, p: Probation, loss, epoch: int) -> None:
        """Back to the trajectory an lr change on probation replaced, with the settings it had (the
        lr scale, the controls' clip, the optimizer options the change or the lr repairs after it
        changed: ``actions.undo_lr_change``); no other change of its kind is made in this fit."""
        controls = state.controls
        before, step_now, epoch_now = settings(controls), state.step, state.epoch
        config = controls.config
        changed = {k: p.settings["optimizer_overrides"].get(k, getattr(config, k, None))
                   for k, v in controls.optimizer_overrides.items() if p.settings["optimizer_overrides"].get(k) != v}
        detail = controls.apply(ACTIONS["undo_lr_change"].apply, {"lr_scale": p.settings["lr_scale"],
                                                                 "clip_norm": p.settings["clip_norm"],
                                                                 "optimizer": changed}, seed=0)
        controls.restore(p.kept.state)      # after the optimizer is rebuilt: the kept optimizer state is loaded into it
        self._archive.extend(self.monitor.reset_trajectory(state.step))
        self._known = len(self.monitor.findings)
        self._good, self._good_loss, self._probation, self._mark = p.kept, p.kept.train_loss, None, None
        said = "not finite" if loss is None or not math.isfinite(loss) else f"{loss:.4g}"
        what = "the raise" if p.kind == "raise" else "the lr decay"
        self._refuted[p.kind] = f"{what} for {p.code} made at step {p.kept.step} was undone at step {step_now}"
        self._settle[p.code] = state.epoch + CODES[p.code].settle_epochs
        if p.kind == "raise":
            why = (f"above the {p.reference:.4g} the trajectory it replaced had reached: a raise its few trial steps "
                   f"favoured (short-horizon bias, Wu et al. 2018) does not hold on the run")
        else:
            why = (f"not {FLAT:.0%} below the plateau's {p.reference:.4g} {epoch - p.epochs} epochs after it: the "
                   f"decay did not end the stall: what holds the loss there is no minibatch noise a smaller step removes")
        self.repairs.append({
            "step": step_now, "epoch": epoch_now, "code": p.code, "where": p.where, "action": "undo_lr_change",
            "reason": f"the training loss after {what} for {p.code} is {said} at epoch {epoch_now}, {why}: back to "
                      f"step {p.kept.step} with the settings it had",
            "before": before, "after": settings(controls), "detail": detail,
            "rolled_back_to": {"step": p.kept.step, "epoch": p.kept.epoch}})
        state.extras.setdefault("babysit", {})["repairs"] = list(self.repairs)

    def _decline(self, state, finding, why):
        """A plan its trial did not bear out: recorded as unrepaired; the code waits its settle window."""
        entry = {"code": finding.code, "where": finding.where, "reason": why}
        if entry not in self.unrepaired:
            self.unrepaired.append(entry)
        self._settle[finding.code] = state.epoch + CODES[finding.code].settle_epochs

    def _confirmed_cut(self, state, plan: Plan, *, seed: int) -> Plan | str:
        """A ``confirm`` lr cut (plans.plan_diverged: a finite loss that rose) made only when a
        paired trial from the current weights shows the rise at the current lr and trains better at
        the cut lr (sizing.cut_helps: a short trial favours the smaller lr on any run)."""
        trial = _cut_trial(sizing.cut_helps, state, plan, seed=seed, clip_norm=state.controls.clip_norm)
        if not trial["rose"]:
            return (f"{plan.reason}; but at the current lr the held loss did not rise by more than the cut gains in "
                    f"a {trial['steps']}-step trial ({trial['start_loss']:.4g} -> {trial['loss']:.4g}; the cut: "
                    f"{trial['cut_loss']:.4g}): the rise was noise, and a cut that ends lower in so few steps is the "
                    f"short horizon's bias toward small steps (Wu et al. 2018): left alone")
        if not trial["helps"]:
            return (f"{plan.reason}; but the cut did not lower the held loss in a {trial['steps']}-step trial "
                    f"({trial['start_loss']:.4g} -> {trial['cut_loss']:.4g}; {trial['loss']:.4g} at the current lr): "
                    f"left alone")
        return replace(plan, reason=plan.reason + f" (a {trial['steps']}-step trial: {trial['start_loss']:.4g} -> "
                                                  f"{trial['cut_loss']:.4g} held loss, {trial['loss']:.4g} at the "
                                                  f"current lr)")

    def _sized_cut(self, state, plan: Plan, *, seed: int) -> Plan:
        """A ``size`` lr cut (plans.py: a cut was made and the run diverged or collapsed again):
        the factor whose paired trial from the current weights ends lowest (sizing.sized_cut); the
        trial's numbers go into the reason."""
        trial = _cut_trial(sizing.sized_cut, state, plan, seed=seed,
                           clip_norm=plan.options.get("clip_norm") or state.controls.clip_norm)
        tried = ", ".join(f"/{f:g}: {loss:.4g}" for f, loss in trial["losses"].items())
        return replace(plan, options={**plan.options, "factor": trial["factor"]},
                       reason=plan.reason + f"; sized by a {trial['steps']}-step trial (held loss at lr {tried}): "
                                            f"lower the lr {trial['factor']:g}x")

    def _sized_raise(self, state, plan: Plan, *, seed: int, weights: dict | None = None) -> Plan | str:
        """``raise_lr`` x ``sizing.TRIAL_STEP`` more when a paired trial from the current weights
        (``weights``: from these, a model state dict) trains better with it (sizing.py: the update
        ratio's target undershoots nets that train healthy at larger ratios); the trial's numbers go
        into the reason. A ``confirm`` plan's trial (run before its rollback; ``_apply`` runs it from
        the current weights and, when the raise returns to the start, from the start's too) also
        trains at the current lr: when the raise does not end lower, why (a str). A raise tried only
        from later weights than it trains from can pass its trial and diverge: a re-initialized
        residual MLP raised twice by its step-92 trials (105x) was NaN 6 steps after the start."""
        controls = state.controls
        config = controls.config
        X, y = controls.train_data
        factor, confirm = plan.options["factor"], plan.options.get("confirm")
        model = controls.model
        if weights is not None:
            model = copy.deepcopy(model)
            model.load_state_dict(weights)
        trial = sizing.larger_raise_helps(
            model, controls.optimizer, X, y, build_loss(config), lr=controls.lrs()[0] * factor,
            weight_decay=controls.optimizer_overrides.get("weight_decay", config.weight_decay) or 0.0,
            batch_size=config.batch_size, run_steps=state.total_steps or 0, seed=seed, clip_norm=controls.clip_norm,
            group_options=raise_momentum(plan.options), current_lr=controls.lrs()[0] if confirm else None,
            size=weights is None)     # from other weights: the raise's verdict only (_confirmed)
        if confirm and not trial["raise_helps"]:
            return (f"{plan.reason}; but the raise trained no better than the current lr in a {trial['steps']}-step "
                    f"trial ({trial['loss']:.4g} vs {trial['current_loss']:.4g} held loss): left alone")
        if trial["larger_loss"] is None:        # the verdict only (``weights``): not sized
            return plan
        if not trial["helps"]:
            return replace(plan, reason=plan.reason + f"; {sizing.TRIAL_STEP:g}x more trained worse in a "
                                                      f"{trial['steps']}-step trial ({trial['larger_loss']:.4g} vs "
                                                      f"{trial['loss']:.4g})")
        larger = factor * sizing.TRIAL_STEP
        return replace(plan, options={**plan.options, "factor": larger},
                       reason=plan.reason + f"; {sizing.TRIAL_STEP:g}x more trained better in a {trial['steps']}-step "
                                            f"trial ({trial['larger_loss']:.4g} vs {trial['loss']:.4g} held loss): "
                                            f"raise the lr {larger:.3g}x")

    def _settle_after(self, state, finding, plan):
        """Codes not acted on again until their rules had a window on the repaired run."""
        self._settle[finding.code] = state.epoch + CODES[finding.code].settle_epochs
        for code, epochs in plan.action.settles.items():
            self._settle[code] = max(self._settle.get(code, 0), state.epoch + epochs)
        self._settle_warnings = state.epoch + SETTLE_WARNINGS

    def _error(self, where, exc):
        message = f"{where}: {type(exc).__name__}: {exc}"
        if message not in self.errors:
            self.errors.append(message)
