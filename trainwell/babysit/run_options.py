"""The run's own options that the doctor's other experiments train without, each checked by its own
experiment: the lr schedule (schedule_check.py: a decay spent early, a warmup longer than the run),
the batch size (batch_check.py: too few updates in the whole run) and the augmentation
(augment_check.py: a transform that changes the label) and the gradient clip (clip_check.py: a
clip_norm or clip_value that binds on the typical gradient, measured on the run's own gradients,
then tried without) and the gradient noise (noise_check.py: a ``grad_noise`` whose norm is many times the
typical gradient's, tried with and without). The doctor and the repairer's settings
test call ``check_run_options`` once; first, without training, a plateau schedule whose mode is
against its monitor (plateau_mode.py); each check runs only when the run is its candidate, and the
budget is shared among those that run (the first of them gets an equal share of what is left, and so
on), so a short budget cuts their steps rather than leaving one out unseen.
"""
from __future__ import annotations

from trainwell.babysit import interventions
from trainwell.babysit.augment_check import check_augment
from trainwell.babysit.batch_check import candidate as few_updates, check_batch
from trainwell.babysit.clip_check import check_clip
from trainwell.babysit.findings import Finding
from trainwell.babysit.noise_check import check_noise
from trainwell.babysit.plateau_mode import check_plateau_mode, run_epochs
from trainwell.babysit.schedule_check import candidate as decays_early, check_schedule, start_candidate


def check_run_options(model, X, y, loss_fn, *, schedule, total_steps: int, optimizer, lr: float,
                      batch_size: int = 64, config=None, budget=None, steps: int = interventions.STEPS,
                      clip: bool = True, confirm: bool = False, **experiment) -> list[Finding]:
    """The findings of ``check_schedule``, ``check_batch``, ``check_augment`` (the augmentation
    is ``config.augment``), with ``clip``, ``check_clip`` (the run's ``clip_norm`` keyword and
    ``config.clip_value``) and ``check_noise`` (``config.grad_noise``), in that order.
    ``clip=False``: a caller whose own experiment already tries every configured clip without it
    (the repairer's settings test). ``confirm``: the schedule's
    experiment confirms a stretch ahead within the noise trained on (``check_decay``; the repairer's
    settings test, whose steps are few). The keyword arguments are
    ``interventions.experiment``'s; the model is not modified."""
    augment = list(getattr(config, "augment", None) or [])
    found = []
    if config is not None:      # a plateau schedule against its monitor: no experiment (plateau_mode.py)
        found += check_plateau_mode(schedule, monitor=config.monitor, epochs=run_epochs(
            config, total_steps=total_steps, rows=X.shape[0], batch_size=batch_size))
    checks = []
    if decays_early(schedule, total_steps) is not None or start_candidate(schedule, total_steps) is not None:
        checks.append(lambda b: check_schedule(model, X, y, loss_fn, schedule=schedule, total_steps=total_steps,
                                               optimizer=optimizer, lr=lr, batch_size=batch_size, config=config,
                                               budget=b, steps=steps, confirm=confirm, **experiment))
    if few_updates(total_steps=total_steps, batch_size=batch_size, rows=X.shape[0], optimizer=optimizer):
        checks.append(lambda b: check_batch(model, X, y, loss_fn, total_steps=total_steps, optimizer=optimizer,
                                            lr=lr, batch_size=batch_size, config=config, budget=b, **experiment))
    if augment:
        checks.append(lambda b: check_augment(model, X, y, loss_fn, augment=augment, total_steps=total_steps,
                                              optimizer=optimizer, lr=lr, batch_size=batch_size, config=config,
                                              budget=b, steps=steps, **experiment))
    if clip and (getattr(config, "clip_value", None) is not None or experiment.get("clip_norm")):
        checks.append(lambda b: check_clip(model, X, y, loss_fn, optimizer=optimizer, lr=lr, batch_size=batch_size,
                                           config=config, budget=b, steps=steps,
                                           **{"run_steps": total_steps, **experiment}))
    if getattr(config, "grad_noise", 0.0):
        checks.append(lambda b: check_noise(model, X, y, loss_fn, optimizer=optimizer, lr=lr, batch_size=batch_size,
                                            config=config, budget=b, steps=steps, **experiment))
    for i, check in enumerate(checks):
        share = None if budget is None else budget.share(budget.left / (len(checks) - i))
        found += check(share)
    return found
