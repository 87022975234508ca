"""Pruning a trial: the notes' explosion rule, the babysitter's verdict, and Optuna's pruners.

Three reasons end a trial early, each recorded as the trial's ``prune_reason``:

1. **explosion** (always on, notes 004: "if the cost is ever > 3x the original cost, break out
   early"): the trial's own loss against its own first loss, NaN and inf included. Optuna's
   ``ThresholdPruner`` compares with one absolute number for every trial, which cannot express
   "3x this trial's start". The Trainer checks it at steps (``check_divergence``) and this module
   checks each epoch's mean training loss too, both with the run's ``divergence_factor``.
2. **the babysitter** (``babysit = "watch"``, the default): a finding of severity error
   (``nonfinite_data``, a diverged or dead network, ...) prunes the trial with its message.
3. **the validation metric** reported each epoch to Optuna's pruner (``PRUNERS``: none, median,
   asha, hyperband). With ``folds = k`` a trial reports fold f's epoch e at step ``f·E + e``, so a
   pruner compares a trial's fold with the same fold and epoch of the other trials.

A pruner in ``DEFERRED_REPORTS`` (the median pruner) decides from the trial's own values and the
*completed* trials' (Optuna's ``PercentilePruner.prune``), so nobody reads a running trial's
reports: they wait in memory (``Reports``), the pruner is asked with them each epoch as Optuna's
``should_prune`` would ask it, and they are written in one journal append when the trial ends,
before it is told (a killed trial's reports are lost with it: it is failed and run again from its
start, and a failed trial's reports were never read). ASHA and Hyperband record rung promotions
in the storage as trials report, which other running trials read: they report every epoch.
"""
from __future__ import annotations

import math

import optuna
from optuna.trial import FrozenTrial, TrialState

from trainwell.hpsearch.journal import batched
from trainwell.train.callbacks import Callback
from trainwell.train.state import Stop, StopKind

# Optuna's pruners, by the name a config uses. Their settings are Optuna's defaults unless noted.
PRUNERS = {
    "none": lambda max_resource: optuna.pruners.NopPruner(),
    # Optuna's default pruner; 5 startup trials (Optuna's default). Epochs are reported from step 1,
    # so n_warmup_steps = 1 holds nothing back: a trial may be pruned at the end of its first epoch,
    # and the default was measured so (its 2-epoch coarse trials mostly stop after one: BENCHMARKS.md,
    # eighth pass of the default method)
    "median": lambda max_resource: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
    # ASHA (Li et al. 2020), Optuna's defaults: rungs at min_resource·4^k steps
    "asha": lambda max_resource: optuna.pruners.SuccessiveHalvingPruner(),
    # Hyperband (Li et al. 2018) over 1..max_resource epochs, reduction factor 3 (the paper's η)
    "hyperband": lambda max_resource: optuna.pruners.HyperbandPruner(
        min_resource=1, max_resource=max_resource, reduction_factor=3),
}


# Pruners whose decisions read no running trial's reports (see the module doc): a trial's reports
# are written when it ends, in one append.
DEFERRED_REPORTS = frozenset({"median"})


def make_pruner(name: str, *, max_resource: int):
    """The Optuna pruner ``name`` for trials of ``max_resource`` reported steps."""
    return PRUNERS[name](max_resource)


def explosion(first_loss: float | None, loss: float, factor: float) -> str | None:
    """The notes' rule: why ``loss`` ends the trial (NaN/inf, or above ``factor`` x the trial's
    own ``first_loss``), or None."""
    if not math.isfinite(loss):
        return f"the loss became {loss} (notes 004: NaN/inf: break out early)"
    if first_loss is not None and first_loss > 0 and loss > factor * first_loss:
        return (f"the loss {loss:.4g} rose above {factor:g}x the trial's first loss {first_loss:.4g} "
                f"(notes 004: break out early)")
    return None


def broken_finding(state) -> str | None:
    """The first babysitter finding of severity error recorded in the run, as a reason, or None."""
    findings = state.extras.get("babysit", {}).get("findings", [])
    for finding in findings:
        if finding.get("severity") == "error":
            return f"babysitter: {finding['code']}: {finding['message']}"
    return None


class Reports:
    """A trial's reports held in memory (every fold's: a pruner sees the trial's best over all its
    steps, as in the storage), for a pruner in ``DEFERRED_REPORTS``; ``write()`` stores them."""

    def __init__(self, trial):
        self.trial, self.values = trial, {}
        # what Optuna's should_prune gives the pruner, less what a percentile pruner does not read
        self.view = FrozenTrial(number=trial.number, state=TrialState.RUNNING, value=None, datetime_start=None,
                                datetime_complete=None, params={}, distributions={}, user_attrs={},
                                system_attrs={}, intermediate_values=self.values, trial_id=-1)

    def should_prune(self, value: float, step: int) -> bool:
        """Record ``value`` at ``step`` (as ``Trial.report``: a step already reported keeps its
        first value) and ask the study's pruner."""
        self.record(value, step)
        study = self.trial.study
        return study.pruner.prune(study, self.view)

    def record(self, value: float, step: int) -> None:
        """Record ``value`` at ``step`` without asking the pruner (a trial's last step, see
        ``TrialWatch``)."""
        self.values.setdefault(int(step), float(value))

    def write(self) -> None:
        """The reports into the storage (one append on a study journal), before the trial is told."""
        with batched(self.trial.storage):
            for step, value in self.values.items():
                self.trial.report(value, step)


class TrialWatch(Callback):
    """Reports a trial's metric to Optuna each epoch and stops the run when the trial is pruned.

    ``trial``: the Optuna trial; ``metric``: the reported value (``val_acc``, ...); ``offset``:
    the steps already reported by earlier folds; ``reports``: the trial's ``Reports`` (shared by
    its folds) when its pruner is in ``DEFERRED_REPORTS``, else None (a report each epoch);
    ``last_step``: the trial's last step (its last fold's last epoch), at which the pruner is not
    asked (the value is still reported), or None: asked at every step. Stopping a trial at its last
    step saves no epoch and only throws its value away: a one-epoch trial pruned at its epoch
    would leave the stage's ranking and a seeded sampler's prior without it (``prune_at_end`` in
    settings.py). The explosion rule and the babysitter still end a trial there: a broken trial's
    value is not wanted. After the run, ``reason`` says why it was pruned (None: it was not)."""

    def __init__(self, trial, *, metric: str, offset: int = 0, pruner_name: str = "none",
                 reports: Reports | None = None, last_step: int | None = None):
        self.trial, self.metric, self.offset, self.pruner_name = trial, metric, offset, pruner_name
        self.reports, self.last_step = reports, last_step
        self.reason: str | None = None

    def _prune(self, state, reason: str) -> None:
        self.reason = reason
        if state.stop is None or not state.stop.failed:
            state.stop = Stop(StopKind.CALLBACK, f"pruned: {reason}")

    def on_epoch_end(self, state):
        if state.stop is not None and state.stop.failed:   # the Trainer's divergence check (steps)
            self.reason = self.reason or broken_finding(state) or state.stop.message
            return
        reason = explosion(state.initial_loss, state.metrics["train_loss"],
                           state.config.divergence_factor) or broken_finding(state)
        if reason:
            self._prune(state, reason)
            return
        value = state.metrics.get(self.metric)
        if value is None:
            return
        step = self.offset + state.epoch
        if not math.isfinite(value):
            self._prune(state, f"{self.metric} became {value} at epoch {state.epoch}")
            return
        if self.pruner_name == "none":     # nothing reads the values: no journal write per epoch
            return
        if self.last_step is not None and step >= self.last_step:     # stopping now saves nothing
            if self.reports is not None:
                self.reports.record(value, step)
            else:
                self.trial.report(value, step)
            return
        if self.reports is not None:
            prune = self.reports.should_prune(value, step)
        else:
            self.trial.report(value, step)
            prune = self.trial.should_prune()
        if prune:
            self._prune(state, f"{self.pruner_name} pruner: {self.metric} = {value:.4g} at epoch "
                               f"{state.epoch} (step {step}) is behind the other trials")
