"""Gradient noise that drowns the gradient: ``optimizer_setting``.

The run's ``grad_noise`` option adds N(0, sigma_t^2) to every gradient entry, sigma_t^2 = eta / (1 + t)^gamma
(Neelakantan et al. 2015, optim/penalties.py ``GradientNoise``): its size is fixed in absolute units,
so what it does depends on its size against the gradient's, which the option does not know. Over P
trainable entries the noise's norm at step t is sigma_t sqrt(P); the typical minibatch gradient's
norm is measured on the run's own batches at the starting weights (``clip_check.clip_reach``, no
clip). Their ratio (``noise_reach``):

    ratio = sigma_0 sqrt(P) / ||g||        how many times the gradient's length the noise adds

A ratio over ``RATIO`` (the step is over 90 % noise by length: the gradient under a decade of it, the
lr arms' step and clip_check's ``KEPT``) is strong evidence, and only then the check trains: the
doctor's experiment trains the setup without the run's gradient noise (the noise is one of the run's
options it leaves out, run_options.py), so the arm here is the setup *as run*, with the noise added
to every parameter's gradient during backward (before any clip, the trainer's order) from its own
generator. The noise hurts when the setup without it trains ``interventions.significant``-ly better
than the setup with it (held accuracy, or the held loss with the accuracy no worse), beyond the
repeat's spread: a warning; else ``info`` (the noise is large but costs nothing measurable in the
experiment's steps: a run long enough for sigma_t to decay, or a flat loss the noise explores).
A run without ``grad_noise`` is not measured at all.
"""
from __future__ import annotations

import dataclasses
import math

import torch

from trainwell.babysit import interventions
from trainwell.babysit.clip_check import BATCHES, clip_reach
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.registry import Group, members
from trainwell.optim.penalties import GradientNoise

CODE = "optimizer_setting"
RATIO = 10.0         # the noise's norm over 10x the typical gradient's: the step is over 90 % noise by length (a
                     # decade, as clip_check.KEPT and the lr arms' step, interventions.candidate_arms: x0.1, x10)
ARM = "gradient noise as run"
PART = "the gradient-noise check (optimizer_setting)"   # the backstop's check_skipped note names what it left out


def noise_reach(model, X, y, loss_fn, *, eta: float, gamma: float, batch_size: int = 64, seed: int = 0,
                batches: int = BATCHES) -> dict:
    """The run's gradient noise at step 0 against its typical minibatch gradient at the model's
    weights: ``{"grad_norm", "noise_norm", "ratio", "entries", "batches"}`` (``noise_norm`` =
    sqrt(eta) x sqrt(trainable entries); ``ratio`` = noise_norm / grad_norm, inf for a zero
    gradient). The model is not modified and the global random state is restored."""
    entries = sum(p.numel() for p in model.parameters() if p.requires_grad)
    reach = clip_reach(model, X, y, loss_fn, batch_size=batch_size, seed=seed, batches=batches)
    noise_norm = GradientNoise(eta=eta, gamma=gamma).std(0) * math.sqrt(entries)
    grad = reach["grad_norm"]
    return {"grad_norm": grad, "noise_norm": noise_norm, "entries": entries, "batches": reach["batches"],
            "ratio": noise_norm / grad if grad > 0 else math.inf}


def add_noise(*, eta: float, gamma: float, seed: int):
    """An experiment ``edit(net, arm_seed)``: every trainable parameter's gradient gets
    N(0, sigma_t^2) added in backward (a tensor hook, so before the step's clip), t the number of
    train-mode forward passes before it (one a step), sigma_t as ``GradientNoise.std``; the draws
    come from a generator seeded ``seed`` (the model's random state is untouched)."""
    schedule = GradientNoise(eta=eta, gamma=gamma)

    def edit(net, arm_seed=0):
        gen = torch.Generator().manual_seed(seed)
        step = {"t": -1}

        def count(module, args):
            if module.training and torch.is_grad_enabled():
                step["t"] += 1

        def hook(grad):
            std = schedule.std(max(step["t"], 0))
            draw = torch.randn(grad.shape, generator=gen, dtype=grad.dtype)
            return grad + std * draw.to(grad.device)
        net.register_forward_pre_hook(count)
        for p in net.parameters():
            if p.requires_grad:
                p.register_hook(hook)
    return edit


def check_noise(model, X, y, loss_fn, *, config=None, optimizer, lr: float, weight_decay: float = 0.0,
                options: dict | None = None, batch_size: int = 64, seed: int = 0,
                steps: int = interventions.STEPS, budget=None, **experiment) -> list[Finding]:
    """``[]`` without gradient noise (``config.grad_noise``) or when its norm is under ``RATIO`` x
    the typical gradient's (``noise_reach``); else one ``optimizer_setting`` finding, a warning when
    the setup without the noise trains ``interventions.significant``-ly better than with it, else
    ``info``, its evidence the measurement and the experiment's losses. The model is not modified."""
    eta = float(getattr(config, "grad_noise", 0.0) or 0.0)
    if eta <= 0:
        return []
    gamma = float(getattr(config, "grad_noise_gamma", 0.55))
    if budget is not None:
        budget.charge(BATCHES * budget.step_cost(max(1, min(batch_size, X.shape[0]))))
    reach = noise_reach(model, X, y, loss_fn, eta=eta, gamma=gamma, batch_size=batch_size, seed=seed)
    if not reach["ratio"] > RATIO:
        return []
    said = (f"grad_noise = {eta:g} adds noise of norm {reach['noise_norm']:.3g} at the start (std "
            f"{math.sqrt(eta):.3g} on each of {reach['entries']} entries) to a typical gradient of norm "
            f"{reach['grad_norm']:.3g}: {reach['ratio']:.3g}x its length")
    arm = interventions.Arm(ARM, CODE, f"the run's gradient noise (eta {eta:g}, gamma {gamma:g}) added",
                            extra={"edit": add_noise(eta=eta, gamma=gamma, seed=seed + 1)})
    quiet = dataclasses.replace(config, grad_noise=0.0)     # the experiment's trials train with the run's
    baseline, arms = interventions.experiment(           # noise: here the setup is without it, the arm adds it
        model, X, y, loss_fn, optimizer=optimizer, lr=lr, weight_decay=weight_decay, options=options,
        batch_size=batch_size, steps=steps, seed=seed, settings=False, repeat=True, config=quiet,
        extra_arms=[arm], budget=budget, part=PART, **experiment)
    repeat = interventions.finished_repeat(arms)
    ran = next((a for a in arms if a.name == ARM and not a.extra.get("timed_out")), None)
    evidence = {"eta": eta, "gamma": gamma, **reach, "intervention": "no gradient noise"}
    if ran is None or repeat is None or baseline.extra.get("timed_out"):
        return [make(CODE, f"{said}; the experiment without it did not finish", evidence=evidence, severity="info")]
    hurts = interventions.significant(ran, baseline, repeat, by_loss=True, noise_of=baseline)
    numbers = (f"in {ran.steps} steps, without the noise the held loss ends at {baseline.after:.4g}, with it at "
               f"{ran.after:.4g} (a repeat without it on other batches: {repeat.after:.4g})"
               + (f"; {100 * baseline.acc:.1f}% against {100 * ran.acc:.1f}% of the held rows right"
                  if None not in (ran.acc, baseline.acc) else ""))
    evidence.update(hurts=hurts, setup_loss=ran.after, fix_loss=baseline.after, repeat_loss=repeat.after,
                    steps=ran.steps, setup_accuracy=ran.acc, fix_accuracy=baseline.acc)
    if hurts:       # a run that diverges under it does so because of it (Diagnosis.ranked; SLOW: the record)
        evidence["explains"] = list(members(Group.DIVERGED))
        return [make(CODE, f"{said}: the steps are mostly noise; {numbers}", evidence=evidence,
                     fix=f"grad_noise = 0, or an eta whose noise is under the gradient (eta < "
                         f"{(reach['grad_norm'] / math.sqrt(max(1, reach['entries']))) ** 2:.2g} here)")]
    return [make(CODE, f"{said}, but the setup without it trains no better: {numbers}", evidence=evidence,
                 severity="info")]
