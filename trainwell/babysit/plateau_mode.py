"""A plateau schedule that watches its metric the wrong way: known before training.

``ReduceOnPlateau`` cuts the lr after ``patience`` epochs without an improvement of the monitored
metric, and its ``mode`` says which way is better: "min" for a loss, "max" for an accuracy.
``mode = "min"`` on ``monitor = "val_acc"`` (copied from ``ReduceLROnPlateau(opt, "min")``, the
PyTorch default) counts every rising accuracy as no improvement: the lr is cut every
``patience + 1`` epochs while the run learns, as a staircase schedule would, and the run ends at
factor^k of its lr. trainwell knows which way its own metrics improve
(``train.metrics.monitor_mode``: a loss falls, an accuracy rises), so the contradiction needs no
training: the check compares the plateau's mode with its monitor's.

How early it bites is computed, not guessed: a copy of the schedule is fed a metric that improves
every epoch (the run learning), and its multipliers over the run's epochs are read off: the cuts
come where the contradicted mode counts the improvements as stagnation. When that course falls to
``schedule_check.FALLEN`` (1 %) of the lr within ``schedule_check.EARLY`` (the first half) of the
run, the criterion ``schedule_decays_early`` applies to any schedule, it is a warning; a
contradiction that cuts later (a patience long against the run) is ``info``. Either way the
finding names the mode that follows the monitor (``evidence["mode"]``), which the repair
(``set_plateau_mode``, a control: exact on resume) applies from the start.

Early stopping and the best weights take their direction from the monitor's name
(``monitor_mode``): they have no mode to contradict it. A watched run (``babysit = "watch"``, the
default) has no settings test to run the check: ``PlateauWatch`` runs it at fit start, from the
run's own schedule, and puts the finding in the monitor's diagnosis (no training, nothing changed).
"""
from __future__ import annotations

import math

from trainwell.babysit.findings import Finding, make
from trainwell.babysit.schedule_check import CODE, EARLY, FALLEN
from trainwell.optim.schedules import ReduceOnPlateau, plateau_in
from trainwell.train.callbacks import Callback
from trainwell.train.metrics import monitor_mode

ROUNDING = 1 + 1e-9     # 0.1 x 0.1 is 0.010000000000000002 in floating point: two cuts of 10x reach 1%


def improving(mode: str, epochs: int) -> list[float]:
    """A metric that improves every epoch the ``mode`` way: an accuracy rising from 0.1 by 0.5 %
    a point ("max"), or a loss falling from 2.0 by 5 % an epoch ("min"); both change by more than
    the plateau's default relative threshold (1e-4) each epoch."""
    if mode == "max":
        return [0.1 + 0.005 * e for e in range(epochs)]
    return [2.0 * 0.95 ** e for e in range(epochs)]


def course(plateau: ReduceOnPlateau, values: list[float]) -> list[float]:
    """The lr multiplier of each epoch when a fresh copy of ``plateau`` (its factor, patience, mode,
    threshold, cooldown and floor) observes ``values`` at the epochs' ends: epoch 0 trains at 1,
    epoch e at the multiplier after the (e-1)-th observation."""
    sim = ReduceOnPlateau(factor=plateau.factor, patience=plateau.patience, mode=plateau.mode,
                          threshold=plateau.threshold, cooldown=plateau.cooldown, min_mult=plateau.min_mult)
    mults = [1.0]
    for value in values[:-1]:
        sim.observe(value)
        mults.append(sim.mult)
    return mults


def run_epochs(config, *, total_steps: int, rows: int, batch_size: int) -> int:
    """The epochs the run trains: its planned steps over the steps of an epoch (the batches of
    ``rows``), at least 1."""
    per_epoch = max(1, math.ceil(rows / max(1, batch_size))) if rows else 1
    epochs = math.ceil(total_steps / per_epoch) if total_steps else getattr(config, "epochs", 1)
    return max(1, int(epochs))


def check_plateau_mode(schedule, *, monitor: str, epochs: int) -> list[Finding]:
    """``[]`` unless ``schedule`` holds a plateau schedule whose mode is not ``monitor``'s
    (``monitor_mode``); then one ``schedule_decays_early`` finding, a warning when the
    contradicted schedule, fed a metric improving every epoch, falls to ``FALLEN`` of its lr within
    ``EARLY`` of the run's ``epochs`` (else info), with ``evidence["mode"]`` the mode to set."""
    plateau = plateau_in(schedule)
    if plateau is None or plateau.mode == monitor_mode(monitor):
        return []
    right = monitor_mode(monitor)
    values = improving(right, epochs)
    mults = course(plateau, values)
    cuts = [e for e in range(1, epochs) if mults[e] < mults[e - 1]]
    fallen = next((e for e, m in enumerate(mults) if m <= FALLEN * ROUNDING), None)
    early = fallen is not None and fallen / epochs <= EARLY
    better = "lower" if plateau.mode == "min" else "higher"
    what = "an accuracy" if right == "max" else "a loss"
    if cuts:
        said = (f"while {monitor} improves every epoch the schedule cuts the lr x{plateau.factor:g} at "
                f"epoch{'s' if len(cuts) > 1 else ''} {', '.join(str(e) for e in cuts[:6])}"
                f"{' ...' if len(cuts) > 6 else ''} and ends the run's {epochs} epochs at {mults[-1]:.3g} of its lr"
                + (f" ({100 * FALLEN:g}% of it by epoch {fallen}, {100 * fallen / epochs:.0f}% of the run)"
                   if fallen is not None else ""))
    else:
        said = (f"within the run's {epochs} epochs it makes no cut yet (patience {plateau.patience}), but it never "
                f"counts an improvement of {monitor}")
    message = (f'the plateau schedule\'s mode = "{plateau.mode}" counts {better} values of monitor = "{monitor}" as '
               f'better, but {monitor} is {what}: it improves the other way ("{right}"); {said}')
    evidence = {"plateau_mode": plateau.mode, "mode": right, "monitor": monitor, "epochs": epochs, "cuts": cuts,
                "fallen_epoch": fallen, "end_mult": mults[-1], "factor": plateau.factor,
                "patience": plateau.patience}
    return [make(CODE, message, evidence=evidence, severity="warning" if early else "info",
                 fix=f'set the plateau schedule\'s mode = "{right}" (or leave mode out: it follows monitor)')]


class PlateauWatch(Callback):
    """At the start of a watched run whose lr schedule holds a plateau schedule (train/parts.py adds
    it then), ``check_plateau_mode`` on the run's schedule and epochs: its finding goes into the
    monitor's diagnosis. The repairer runs the same check in its settings test and repairs it."""

    def __init__(self, monitor):
        self.monitor = monitor

    def on_fit_start(self, state):
        epochs = max(1, math.ceil((state.total_steps or 0) / max(1, state.steps_per_epoch)))
        found = check_plateau_mode(state.controls.schedule, monitor=state.config.monitor, epochs=epochs)
        for f in found:
            f.evidence.setdefault("step", state.step)
            self.monitor.diagnosis.add(f)
