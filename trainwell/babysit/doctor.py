"""``trainwell.doctor``: the notes' sanity checks before training, plus a short probe training
with the live monitor, inside a budget of nominal seconds (babysit/budget.py: counted steps at the
cost model's price, so the same seed finds the same on a quiet and a loaded machine). Returns a
Diagnosis; nothing is written."""
from __future__ import annotations

import copy
import inspect
import math
from dataclasses import dataclass, replace

import torch
from torch import nn

from trainwell.babysit.budget import Budget
from trainwell.babysit.average_check import check_eval_model
from trainwell.babysit.callback_check import check_callbacks
from trainwell.babysit.callback_lr import check_callback_lr
from trainwell.babysit.findings import Diagnosis, Finding, make
from trainwell.babysit.monitor import Monitor
from trainwell.babysit import augment_check, batch_check, interventions, mode_gap, schedule_check, stopping
from trainwell.babysit.cut_gradient import check_gradient_reaches
from trainwell.babysit.fresh_weights import frozen_fresh
from trainwell.babysit.blind_model import check_blind_model
from trainwell.babysit.module_use import can_memorize, check_module_use, check_shared_modules
from trainwell.babysit.own_decay import BUDGET_SHARE as OWN_DECAY_SHARE, check_own_decay
from trainwell.babysit.layout_check import check_layout
from trainwell.babysit.model_checks import check_last_batch
from trainwell.babysit.preprocess_check import check_preprocess
from trainwell.babysit.packing_check import check_packing
from trainwell.babysit.peak_check import BUDGET_SHARE as PEAK_SHARE, check_peak, experiment_multiplier
from trainwell.babysit.loss_arm import BUDGET_SHARE as LOSS_ARM_SHARE, check_loss_arm
from trainwell.babysit.target_scale_arm import BUDGET_SHARE as TARGET_ARM_SHARE, check_target_scale_arm
from trainwell.babysit.preflight import PROBE_ROWS, preflight, skipped_finding
from trainwell.babysit.probe_steps import StepRefused, check_sparse_step, dense_gradients, probe_lr, sparse_gradients
from trainwell.babysit.loss_kinds import resolve_loss
from trainwell.train.callbacks import Callback
from trainwell.babysit.registry import CODES, Group, members
from trainwell.babysit.split_checks import check_splits, grade_imbalance
from trainwell.babysit.filled_targets import check_filled_targets
from trainwell.data.streaming import check_sample
from trainwell.errors import LabelError, NonFiniteError
from trainwell.train.fit import Prepared, make_trainer, prepare
from trainwell.train.loop import total_steps
from trainwell.babysit.run_options import check_run_options
from trainwell.train.parts import build_schedule_for, make_batches, optimizer_options
from trainwell.train.regularizers import build_penalty, loss_options
from trainwell.train.state import Stop, StopKind


# Training cannot run on faults of the data or its wiring to the loss, nor on a model whose forward
# or backward raises or whose output rows read other rows (Group.CODE): no experiment or probe after them.
BLOCKING = frozenset(members(Group.DATA) + members(Group.CODE))
PROBE_FRACTION = 0.05     # the probe trains 5% of the planned steps (at least one epoch)
MIN_PROBE_S = 1.0         # the probe runs only with at least this much of the budget left
MIN_EXPERIMENT_S = 10.0   # the interventions run only with at least this much of the budget left,
EXPERIMENT_SHARE = 0.75   # ... and take at most 3/4 of it (the probe, one epoch or 5% of the run, gets the
                          # rest: the experiment tells causes apart, the probe mostly confirms divergence)
PREFLIGHT_SHARE = 0.5     # the pre-flight's expensive checks start only within half the budget, so the
                          # experiments and the probe keep time on a slow (loaded, or convolutional) setup
WALL_S = 60.0             # issue 11: "pre-flight plus probe <= 60 s": the backstop (Budget.fits_wall), in nominal
                          # seconds (the reference machine's CPU seconds) at the budget's rate, no clock


def doctor(model=None, train="digits", val=None, *, test=None, budget_s: float = 60.0,
           budget: Budget | None = None, probe: bool = True, wall_s: float | None = WALL_S,
           **options) -> Diagnosis:
    """Check a training setup before running it.

    Takes the same arguments as :func:`trainwell.fit`. Pre-flight checks (initial loss, labels,
    inputs, gradients vs finite differences, overfitting a tiny subset, regularization, init and
    activation statistics, loss/output match) then, with ``probe=True``, a short training of a
    copy of the model with the monitor (5% of the planned steps, at least one epoch), all within
    ``budget_s`` nominal seconds: the steps each part runs are priced by the cost model
    (babysit/budget.py), not timed, so a loaded machine runs the same steps, only slower. The
    model you pass is not modified. ``budget``: a ``Budget`` to spend instead of a new one of
    ``budget_s`` (its ``spent`` then says what the doctor spent, in nominal seconds). ``wall_s``:
    the backstop, in the nominal seconds spent at the budget's rate (``Budget.backstop_elapsed``:
    the reference machine's CPU seconds; no clock, so no load): every training after the
    pre-flight (each experiment's setup, arms and training on, each run option's check, the probe)
    is priced before it runs and left out whole when it is predicted to end past ``wall_s`` such
    seconds (the lr arms behind the run options' checks, the probe last), one that runs past it
    stops, and a ``check_skipped`` info names what went (None: no backstop). It never changes a
    threshold or a step count, and it reads no clock, so the findings do not depend on the load.

    The procedure, one step a function below: prepare the run as fit would, on a copy; the
    pre-flight; the model's wiring; the data's splits; then, unless a finding blocks training, the
    user's own parts, the experiment that grades the symptoms by their fixes, and the probe.
    """
    budget = budget if budget is not None else Budget(budget_s)
    budget.root.wall_s = wall_s if budget.root.wall_s is None else budget.root.wall_s
    options = {**options, "run_dir": None, "resume": False, "progress": False, "babysit": "off",
               "report": False, "log": [], "overwrite": False, "extend": False}   # a probe, not a run
    originals = list(model.parameters()) if isinstance(model, nn.Module) else None
    model = copy.deepcopy(model) if isinstance(model, nn.Module) else model
    try:
        p = prepare(model, train, val, test, options, check=False)
    except (LabelError, NonFiniteError) as exc:
        return Diagnosis([refused_data(exc)])
    try:
        run = copy_of_the_run(p, originals)
    except StepRefused as exc:          # fit's first step raises it: the doctor names it
        return Diagnosis([exc.finding])
    findings = check_before_training(run, options, budget)
    findings = check_model_wiring(run, findings)
    findings = check_data(p, findings)
    graded = graded_errors(findings)
    if not blocks_training(findings, graded):
        findings += check_users_parts(run, budget)
        baseline, arms = None, []
        if budget.left > MIN_EXPERIMENT_S:
            findings, baseline, arms = check_by_experiment(run, findings, graded, budget)
        else:
            budget.leave_out("the experiment (the fixes' arms and the run options' checks)")
        if probe and budget.left > MIN_PROBE_S and not budget.clock_out():
            findings += run_probe(run, baseline, arms, budget)
        elif probe and not budget.clock_out():
            budget.leave_out("the probe")
    findings = name_what_time_left_out(findings, budget)
    return Diagnosis(findings)


@dataclass
class _Copy:
    """The run as every check after ``prepare`` trains it, on the doctor's copy of the model: fit's
    prepared run ``p``, a sample of its training rows (``X``, ``y``; streamed inputs: a sample), the
    run's loss, the probes' ``lr``, and ``training``: how each training of a copy trains (the run's
    optimizer, weight decay, other optimizer options and batch size; the probes set the lr), and
    ``as_written``: an optimizer the user built as a factory over a copy's parameters, its class,
    groups and options as built (None: trainwell builds the run's optimizer; own_decay.py)."""
    p: Prepared
    X: torch.Tensor
    y: torch.Tensor
    loss_fn: object
    loss_kind: str
    lr: float
    training: dict
    as_written: object = None

    @property
    def config(self):
        return self.p.config


def refused_data(exc: Exception):
    """The finding for data fit's ``prepare`` refuses: labels that are not class ids 0..K-1, or
    NaN / inf in a validation or test split (fit raises; the doctor names the fault)."""
    if isinstance(exc, LabelError):
        return make("label_problem", f"the labels are not class ids 0..K-1: {exc}", evidence={"error": str(exc)})
    return make("nonfinite_data", str(exc), evidence={"error": str(exc)},
                fix="drop or impute the rows with NaN/inf; a log or division of the raw "
                    "values (log 0, x / 0) makes them")


def users_optimizer(config) -> bool:
    """The run's optimizer is one the user built: an instance, or a factory ``params -> Optimizer``
    (not a registered name, nor a class)."""
    return isinstance(config.optimizer, torch.optim.Optimizer) or (
        callable(config.optimizer) and not isinstance(config.optimizer, (str, type)))


def optimizer_factory(config) -> bool:
    """The user's optimizer is a factory (its settings are not known to the config; an instance's
    are, ``prepare``)."""
    return users_optimizer(config) and not isinstance(config.optimizer, torch.optim.Optimizer)


def copy_of_the_run(p: Prepared, originals: list | None) -> _Copy:
    """The run as the checks train it: a user's optimizer factory rebuilt over the copy's parameters
    (``on_copies``), a sample of the training rows, the run's loss and the probes' lr; a model with
    sparse gradients takes one step of the run's optimizer first (fit's first step refuses an
    optimizer that cannot take them; one that can trains the doctor's copies on dense ones, the
    same values)."""
    config = p.config
    if originals is not None and optimizer_factory(config):
        config.optimizer = on_copies(config.optimizer, originals)
    as_written = written_optimizer(config.optimizer, originals) if users_optimizer(config) else None
    # the probes set their own lr and weight decay; every other optimizer option is the run's
    probe_options = {k: v for k, v in optimizer_options(config).items() if k not in ("lr", "weight_decay")}
    X, y = check_sample(*p.train, seed=config.seed)
    loss_fn, loss_kind = resolve_loss(config.loss, **loss_options(config))
    lr = probe_lr(config.optimizer, config.lr, probe_options)
    if sparse_gradients(p.model):
        check_sparse_step(p.model, X, y, loss_fn, config.optimizer, lr=lr, options=probe_options)
        dense_gradients(p.model)
    training = dict(optimizer=config.optimizer, weight_decay=config.weight_decay or 0.0, options=probe_options,
                    batch_size=config.batch_size, seed=config.seed)
    return _Copy(p, X, y, loss_fn, loss_kind, lr, training, as_written)


def written_optimizer(optimizer, originals: list | None):
    """The user's optimizer as written, a factory over a copy's parameters: a factory as ``on_copies``
    made it; an instance rebuilt by ``on_copies`` (its class, groups and options, its own weight decay
    in its own step; ``build_optimizer`` would move the decay to trainwell's lr x weight_decay). None
    without the model's own parameters to match them by."""
    if originals is None:
        return None
    if isinstance(optimizer, torch.optim.Optimizer):
        return on_copies(lambda params: optimizer, originals)
    return optimizer


def stated_regularization(p: Prepared, options: dict) -> dict:
    """The regularization the run states, as the pre-flight's regularization check reads it. An
    optimizer the user built keeps its own settings (build_optimizer): an instance's are the
    config's (prepare); a factory's are not known, and trainwell's default weight decay is not the
    run's, so the weight decay counts only where the user gave it. A dropout module of p = 0
    (``nn.TransformerEncoderLayer(dropout=0.0)`` holds three) drops nothing."""
    config = p.config
    decay = config.weight_decay if not optimizer_factory(config) or "weight_decay" in options else 0.0
    dropout = any(isinstance(m, nn.Dropout) and m.p > 0 for m in p.model.modules())
    return {"weight_decay": decay, "l2": config.l2, "l1": config.l1, "dropout": dropout}


def check_before_training(run: _Copy, options: dict, budget: Budget) -> list:
    """The pre-flight (preflight.py; the checklist of notes 000 and 004's "babysitting the learning
    process": the loss is reasonable, it goes up with regularization, a very small portion of the
    data can be overfit; the gradients checked numerically), its expensive checks within
    ``PREFLIGHT_SHARE`` of the budget."""
    p, config = run.p, run.config
    return list(preflight(
        p.model, run.X, run.y, loss=config.loss, loss_options=loss_options(config),
        num_classes=p.splits.num_classes, lr=config.lr, optimizer=config.optimizer,
        optimizer_options=run.training["options"], shuffle=config.shuffle,
        regularization=stated_regularization(p, options), penalty=build_penalty(config, p.model),
        budget=budget.share(PREFLIGHT_SHARE * budget.seconds), seed=config.seed))


def check_model_wiring(run: _Copy, findings: list) -> list:
    """``findings`` with the checks of how the model is wired (a model whose forward raises skips
    those that run it): the epoch's last, smaller batch (model_checks.py); the first convolution
    against its input's axes (layout_check.py); layers the output depends on that no gradient
    reaches (cut_gradient.py); part of a called module that never reaches the output, weighed
    against memorization, and one instance registered as several layers (module_use.py); packed
    sequences that leave the rows' data out (packing_check.py); a swap of two columns or a sign
    the output cannot see where the targets depend on it (blind_model.py)."""
    p, config, X, y = run.p, run.config, run.X, run.y
    rows = getattr(p.train[0], "shape", (None,))[0]       # streamed inputs: their length is not known
    if rows is not None and not raised(findings):
        findings = findings + check_last_batch(p.model, X, y, run.loss_fn, rows=rows, batch_size=config.batch_size,
                                               drop_last=config.drop_last, seed=config.seed)
    findings = findings + check_layout(p.model, X)
    if raised(findings):
        return findings
    findings = findings + check_gradient_reaches(p.model, X, y, run.loss_fn, seed=config.seed)
    findings = findings + check_module_use(p.model, X, y, run.loss_fn, seed=config.seed,
                                           memorizes=can_memorize(findings))
    findings = findings + check_shared_modules(p.model, X) + check_packing(p.model, X)
    return findings + check_blind_model(p.model, X, y, class_ids=torch.is_tensor(y) and not torch.is_floating_point(y),
                                        seed=config.seed)


def raised(findings: list) -> bool:
    """The model's forward or backward raised (``model_raises``): no check that runs it again."""
    return any(f.code == "model_raises" for f in findings)


def check_data(p: Prepared, findings: list) -> list:
    """``findings`` with the checks of the data's splits (notes 002: every split takes the
    transformation "with values extracted from the training data"): validation / test targets
    against the training split's (split_checks.py), class_imbalance graded by the evaluated mix,
    and what the run's preprocessing loses (preprocess_check.py)."""
    findings = grade_imbalance(findings + check_splits(p.splits) + check_filled_targets(p.splits, seed=p.config.seed),
                               p.splits)
    return findings + check_preprocess(p.preprocess, *p.splits.train, seed=p.config.seed)


def graded_errors(findings: list) -> list:
    """The errors their finding marks as graded (a softmax module before cross-entropy: the model
    still trains): graded by their fix, they stay errors only where the fix trains better."""
    return [f for f in findings if f.severity == "error" and f.evidence.get(interventions.GRADED)]


def blocks_training(findings: list, graded: list) -> bool:
    """Training cannot run on an ungraded error of ``BLOCKING`` (labels out of range, NaN data, a
    loss the outputs don't fit, a model that raises): its finding already says what to fix, so the
    user's parts, the experiment and the probe are skipped."""
    return bool({f.code for f in findings if f.severity == "error" and f not in graded} & BLOCKING)


def check_users_parts(run: _Copy, budget: Budget) -> list:
    """The user's callbacks that run during the run, on a copy that has learned (callback_check.py),
    and a user's averaged eval model over the run's updates (average_check.py); first the budget
    counts the work a step costs (the pre-flight counted it unless it stopped early)."""
    budget.count(run.p.model, run.X[:PROBE_ROWS])
    findings = check_callbacks(run.p, run.X, run.y, run.loss_fn, lr=run.lr, **run.training, budget=budget)
    return findings + check_eval_model(run.p, run.X, run.y, run.loss_fn, lr=run.lr, **run.training, budget=budget)


def check_by_experiment(run: _Copy, findings: list, graded: list, budget: Budget) -> tuple:
    """``(findings, baseline, arms)``: the symptoms found graded by their fixes (interventions.py;
    notes 000: "find learning rate that makes the loss go down", a fix tried, not guessed), with the
    arms that grade one fault each before it and the run options' checks after it.

    The run options' experiments test a fault the run's own settings show (a schedule spent early, a
    handful of updates, an augmentation); the lr arms try what no evidence points to, so they rank
    behind: the backstop and the nominal budget hold the options' price for them while the
    experiment runs."""
    p, config = run.p, run.config
    # the symptoms found are graded by their fixes (a warning only where the fix helps)
    symptoms = [f.code for f in findings if (f.severity == "warning" or f in graded) and interventions.graded_fixes(f)]
    per_epoch = len(make_batches(config, p.train))    # the schedule fit builds, over the run (schedule_check.py)
    run_steps = total_steps(config, per_epoch)        # a symptom the run grows out of
    schedule = build_schedule_for(config, run_steps, per_epoch)
    options_cost = run_options_cost(budget, config, schedule, run_steps, rows=p.train[0].shape[0])
    budget.reserve(options_cost)
    findings = findings + check_one_fault_arms(run, run_steps, budget)
    peak_found = check_peak_lr(run, schedule, run_steps, budget)
    baseline, arms = train_setup_and_fixes(run, symptoms, schedule, run_steps, budget)
    budget.reserve(0.0)
    findings = grade_by_experiment(findings, baseline, arms, peak_found, run_steps, budget)
    findings = merge(findings, check_run_options(    # the schedule, batch size, augmentation, clip, noise
        p.model, p.train[0], p.train[1], run.loss_fn, schedule=schedule, total_steps=run_steps, lr=run.lr,
        **run.training, clip_norm=config.clip_norm, config=config,
        budget=budget.share(max(budget.left / 2, options_cost))))   # what the lr arms left them
    findings += stopping.check_stopping(p, budget=budget.share(budget.left / 2))   # max_steps, early stopping
    return findings, baseline, arms


def check_one_fault_arms(run: _Copy, run_steps: int, budget: Budget) -> list:
    """The arms that grade one fault each, each within its share of what is left: regression targets
    inside targets_off_scale's band by a standardized-targets arm (target_scale_arm.py), and the
    user's own loss by the task's standard loss on the run's metric (loss_arm.py), and the decay in
    the step of an optimizer the user built, as written (own_decay.py)."""
    p, config = run.p, run.config
    found = check_target_scale_arm(
        p.model, p.train[0], p.train[1], run.loss_fn, run.loss_kind, lr=run.lr, **run.training,
        clip_norm=config.clip_norm, run_steps=run_steps, budget=budget.share(TARGET_ARM_SHARE * budget.left))
    found += check_loss_arm(
        p.model, p.train[0], p.train[1], config.loss, lr=run.lr, **run.training, clip_norm=config.clip_norm,
        run_steps=run_steps, budget=budget.share(LOSS_ARM_SHARE * budget.left))
    if run.as_written is None or not torch.is_tensor(p.train[0]):
        return found
    return found + check_own_decay(
        p.model, p.train[0], p.train[1], run.loss_fn, optimizer=run.as_written, lr=run.lr,
        batch_size=config.batch_size, seed=config.seed, run_steps=run_steps, clip_norm=config.clip_norm,
        config=config, budget=budget.share(OWN_DECAY_SHARE * budget.left))


def check_peak_lr(run: _Copy, schedule, run_steps: int, budget: Budget) -> list:
    """The lr the run reaches later, where it rises above the configured lr: the schedule's
    (peak_check.py), else the lr the user's callbacks set before each step (callback_lr.py).
    Measured at that peak, these findings are not graded by the experiment's lr arms."""
    p, config = run.p, run.config
    found = check_peak(
        p.model, p.train[0], p.train[1], run.loss_fn, schedule=schedule, total_steps=run_steps, lr=run.lr,
        **run.training, clip_norm=config.clip_norm, divergence_factor=config.divergence_factor,
        budget=budget.share(PEAK_SHARE * budget.left))
    if found:
        return found
    return check_callback_lr(
        p, p.train[0], p.train[1], run.loss_fn, lr=run.lr, **run.training, clip_norm=config.clip_norm,
        divergence_factor=config.divergence_factor, budget=budget.share(PEAK_SHARE * budget.left))


def train_setup_and_fixes(run: _Copy, symptoms: list, schedule, run_steps: int, budget: Budget) -> tuple:
    """``(baseline, arms)``: the setup and its fixes trained side by side (interventions.experiment),
    within ``EXPERIMENT_SHARE`` of what is left. It trains at the largest lr the run reaches: the
    configured lr (the peak of every schedule trainwell builds; peak_check grades a user's schedule
    that rises above it), or a user's schedule's peak where it stays below (a function returning the
    lr where fit wants a multiplier). The run's own freeze is a decision, unless it froze the
    initial draw (fresh_weights.py)."""
    p, config = run.p, run.config
    top = experiment_multiplier(schedule, run_steps)
    return interventions.experiment(
        p.model, p.train[0], p.train[1], run.loss_fn, lr=top * run.lr, **run.training, symptoms=symptoms,
        repeat=True, clip_norm=config.clip_norm, unfreeze=not config.freeze or bool(frozen_fresh(p.model)),
        run_steps=run_steps, in_order=not config.shuffle, config=config, mode_losses=True,
        budget=budget.share(EXPERIMENT_SHARE * budget.left))


def grade_by_experiment(findings: list, baseline, arms: list, peak_found: list, run_steps: int,
                        budget: Budget) -> list:
    """``findings`` graded by the experiment and merged with what it confirmed, the train vs eval
    mode gap it measured (mode_gap.py, eval_mode_gap), the peak lr's findings (not graded by the lr
    arms), and the warnings the time backstop left ungraded marked so (``mark_ungraded``)."""
    findings = merge(interventions.grade(findings, baseline, arms, run_steps=run_steps),
                     interventions.findings(baseline, arms, run_steps=run_steps))
    findings = merge(findings + mode_gap.findings(baseline, min_lift=interventions.MIN_LIFT), peak_found)
    return mark_ungraded(findings, baseline, arms, budget)


def run_probe(run: _Copy, baseline, arms: list, budget: Budget) -> list:
    """The probe: a short training of the copy with the live monitor (notes 000: "monitor and
    visualize the loss curve", the train / val accuracy), ``probe_steps`` long within what the budget
    affords and priced by the backstop first. Its lr warnings are graded by the experiment's lr arms
    (a lower / higher lr that trains no better is no cause)."""
    p, config = run.p, run.config
    monitor = Monitor()
    affordable = max(1, budget.affordable(config.batch_size))
    trainer = make_trainer(p, extra_callbacks=[monitor, _ProbeBudget(affordable, budget)])
    trainer.state.total_steps = probe_steps(trainer.state.total_steps, trainer.state.steps_per_epoch)
    if budget.fits_wall(probe_cost(budget, trainer.state, affordable, config), "the probe"):
        trainer.fit()
        budget.charge(validation_cost(budget, trainer.state, p))
    found = interventions.grade(monitor.findings, baseline, arms) if baseline is not None else monitor.findings
    budget.steps(trainer.state.step, config.batch_size)
    return found


def name_what_time_left_out(findings: list, budget: Budget) -> list:
    """``findings`` with one ``check_skipped`` that names what the wall-clock safety stop, the time
    backstop and the nominal budget left out."""
    if budget.clock_stopped and not any(f.code == "check_skipped" for f in findings):
        findings = findings + [skipped_finding(["the rest of the experiments and the probe"], budget)]
    return note_unpaid(note_backstop(findings, budget), budget)


class _ProbeBudget(Callback):
    """Stops the probe after the ``steps`` its share of the budget affords, or when the budget's
    wall-clock safety stop fires (one clock read per step)."""

    def __init__(self, steps: int, budget: Budget):
        self.steps, self.budget = steps, budget

    def on_after_step(self, state):
        if state.step >= self.steps:
            state.stop = Stop(StopKind.TIME_BUDGET, f"the probe's budget ({self.steps} steps) spent")
        elif self.budget.clock_out():
            state.stop = Stop(StopKind.TIME_BUDGET, "the budget's wall-clock safety stop fired in the probe")
        elif self.budget.wall_out():
            self.budget.drop(f"the rest of the probe (cut at step {state.step})")
            state.stop = Stop(StopKind.TIME_BUDGET, "the time backstop fired in the probe")


def merge(findings: list, confirmed: list) -> list:
    """``findings`` with the intervention's ``confirmed`` causes: a code already found (not as an
    info) is replaced by its finding ``confirmed_by`` the experiment's, a new one is added."""
    out = list(findings)
    for f in confirmed:
        at = next((i for i, g in enumerate(out) if g.code == f.code and g.severity != "info"), None)
        if at is None:
            out.append(f)
        else:
            out[at] = confirmed_by(out[at], f)
    return out


def confirmed_by(found: Finding, confirmed: Finding) -> Finding:
    """``found`` with the experiment's ``confirmed`` finding of the same code: its evidence where
    ``found`` has no such key, and its ``cause`` always; both messages, ``found``'s first."""
    taken = {k: v for k, v in confirmed.evidence.items() if k not in found.evidence or k == "cause"}
    return replace(found, evidence={**found.evidence, **taken}, message=f"{found.message}; {confirmed.message}")


def probe_steps(total_steps: int, steps_per_epoch: int, *, fraction: float = PROBE_FRACTION) -> int:
    """Steps of the probe run: 5% of the planned run, but at least one epoch (in-training
    findings are judged at epoch ends), never more than the run itself."""
    return min(total_steps, max(steps_per_epoch, math.ceil(fraction * total_steps)))


def on_copies(factory, originals: list):
    """The user's optimizer factory ``params -> Optimizer`` for the doctor's copies of the model: a
    factory that closes over the model it was written for (``lambda params: Adam(model.parameters())``,
    param groups of ``model.head``) returns an optimizer over the user's parameters, none of the
    copy's, and every copy would train nothing. Such an optimizer is rebuilt, same class, options and
    groups, over the parameters it was called with, matched by their place in ``model.parameters()``
    (``originals``); one that holds any of them, or parameters that are not the model's, is returned
    as it is."""
    place = {id(p): i for i, p in enumerate(originals)}

    def build(params):
        params = list(params)
        opt = factory(params)
        if not isinstance(opt, torch.optim.Optimizer) or len(params) != len(originals):
            return opt
        given = {id(p) for p in params}
        held = [p for group in opt.param_groups for p in group["params"]]
        if any(id(p) in given for p in held) or not all(id(p) in place for p in held):
            return opt
        accepted = inspect.signature(type(opt)).parameters
        groups = [{**{k: v for k, v in group.items() if k != "params"},
                   "params": [params[place[id(p)]] for p in group["params"]]} for group in opt.param_groups]
        return type(opt)(groups, **{k: v for k, v in opt.defaults.items() if k in accepted})
    return build


def note_backstop(findings: list, budget: Budget) -> list:
    """``findings`` with the parts the time backstop left out (``budget.root.dropped``) named in their
    one ``check_skipped`` (``_in_check_skipped``)."""
    if not budget.root.dropped:
        return list(findings)
    said = f"the time backstop ({budget.root.wall_s:g} s) left out {said_by_part(budget.root.dropped)}"
    return _in_check_skipped(findings, said, list(budget.root.dropped),
                             {"wall_s": budget.root.wall_s, "backstop": True})


def note_unpaid(findings: list, budget: Budget) -> list:
    """``findings`` with the parts the nominal budget could not pay for (``budget.root.unpaid``, each
    once) named in their one ``check_skipped`` (``_in_check_skipped``; the pre-flight's checks it skipped
    are named there already); a new one also says the nominal seconds spent."""
    unpaid = list(dict.fromkeys(budget.root.unpaid))
    if not unpaid:
        return list(findings)
    said = f"the budget of {budget.root.seconds:g} nominal seconds left out {said_by_part(unpaid)}"
    return _in_check_skipped(findings, said, unpaid, {"budget_s": budget.root.seconds},
                             new={"nominal_seconds": budget.root.spent})


def _in_check_skipped(findings: list, said: str, skipped: list, evidence: dict, *, new: dict | None = None) -> list:
    """``findings`` with ``said`` (what was left out, and why) and ``skipped`` (those parts) in their
    one ``check_skipped`` (one finding per code, Diagnosis), as new findings: the one there extended
    (its message, its ``skipped`` list, ``evidence``), else a new one with ``evidence`` and ``new``."""
    at = next((i for i, f in enumerate(findings) if f.code == "check_skipped"), None)
    if at is None:
        return findings + [make("check_skipped", said, evidence={"skipped": skipped, **evidence, **(new or {})})]
    note = findings[at]
    noted = replace(note, message=f"{note.message}; {said}",
                    evidence={**note.evidence, "skipped": list(note.evidence.get("skipped", [])) + skipped,
                              **evidence})
    return findings[:at] + [noted] + findings[at + 1:]


def mark_ungraded(findings: list, baseline, arms: list, budget: Budget) -> list:
    """``findings`` where the time backstop left out or cut part of the experiment: the symptoms it would
    have graded by a fix (``CODES[code].graded_by``) that did not run, or without the setup or its
    repeat to compare with, stay warnings (a fault is not cleared untried) and say so
    (``evidence["ungraded"]``). So do the warnings an arm of the experiment named or graded
    (``evidence["intervention"]``, ``evidence["harm"]["fix"]``) where the backstop cut the training
    on (``extra["trained_on_cut"]``), which tells a cause from a change the setup catches up with:
    on a quiet machine the same warning could have been cleared."""
    if not budget.root.dropped:
        return list(findings)
    left = set(baseline.extra.get("left_out", ())) | {a.name for a in arms if a.extra.get("timed_out")}
    unjudged = bool(baseline.extra.get("timed_out")) or interventions.finished_repeat(arms) is None
    ran = {a.name for a in arms} if baseline.extra.get("trained_on_cut") else set()
    out = []
    for f in findings:
        why = why_ungraded(f, left=left, unjudged=unjudged, ran=ran)
        out.append(f if why is None else replace(f, evidence={**f.evidence, "ungraded": True},
                                                 message=f"{f.message}; not graded: {why}"))
    return out


def why_ungraded(f: Finding, *, left: set, unjudged: bool, ran: set) -> str | None:
    """What the time backstop left out that would have graded the warning ``f`` (None: nothing, or
    ``f`` is no warning, or is marked already): the arm of its fix (``left``: the arms left out or cut),
    or every grade (``unjudged``: the setup or its repeat cut); else, where the training on was cut,
    the training on of the arm that named or graded it (``ran``: the arms trained)."""
    if f.severity != "warning" or f.evidence.get("ungraded"):
        return None
    fixes = set(CODES[f.code].graded_by)
    if fixes and (unjudged or fixes & left):
        return "the time backstop left out the experiment that tries its fix"
    if ran & {f.evidence.get("intervention"), (f.evidence.get("harm") or {}).get("fix")}:
        return "the time backstop left out the training on that tells whether the setup catches up with the change"
    return None


def said_by_part(parts: list) -> str:
    """The backstop's left-out parts in words, those of one experiment under its name: ``["the
    experiment: the arm 'lr x10'", "the experiment: the arm 'lr x100'", "the probe"]`` reads
    "the experiment's arm 'lr x10', arm 'lr x100'; the probe"."""
    groups: dict = {}
    for name in parts:
        part, _, what = name.partition(": ")
        groups.setdefault(part, []).append(what.removeprefix("the "))
    return "; ".join(part if "" in whats else f"{part}'s {', '.join(whats)}"
                     for part, whats in groups.items())


def run_options_cost(budget: Budget, config, schedule, run_steps: int, *, rows: int) -> float:
    """The nominal seconds of the run options' experiments the run is a candidate for (run_options.py:
    the schedule's, the batch size's, the augmentation's), each as its own module prices it."""
    return (schedule_check.cost(budget, schedule=schedule, total_steps=run_steps, batch_size=config.batch_size)
            + batch_check.cost(budget, total_steps=run_steps, batch_size=config.batch_size, rows=rows,
                               optimizer=config.optimizer)
            + augment_check.cost(budget, augment=list(config.augment or []), batch_size=config.batch_size,
                                 total_steps=run_steps))


def probe_cost(budget: Budget, state, affordable: int, config) -> float:
    """The probe's nominal seconds: its steps (``affordable`` at most) on the run's batches."""
    return min(affordable, state.total_steps) * budget.step_cost(config.batch_size)


def validation_cost(budget: Budget, state, p) -> float:
    """The probe's evaluations of the validation split, one per epoch it began (the trainer's own)."""
    if p.splits.val is None:
        return 0.0
    epochs = math.ceil(state.step / max(1, state.steps_per_epoch))
    return epochs * budget.forward_cost(len(p.splits.val[0]))
