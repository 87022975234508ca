"""Regression targets the run learns worse at their own scale than standardized: graded by experiment.

``targets.check_target_scale`` names targets far from unit scale by a band (std outside
[``TARGET_STD_LOW``, ``TARGET_STD_HIGH``], |mean| above ``TARGET_MEAN_OFF``). Inside the band the
scale can still cost the run: an untrained network's outputs are about unit scale (notes 000's
init), so targets of std 0.05 start at an error hundreds of times their variance, and an optimizer
whose steps do not shrink with the gradient (Adam, RMSprop: about lr per weight a step, Kingma & Ba
2015 sec. 2.1) keeps moving the outputs by the same amounts however small the targets' spread, so
what is left of that jitter at the end is larger against Var(y). Whether it matters for this setup
is not a property of the targets alone (the lr, the optimizer and the model decide it), so it is an
experiment, as in ``interventions``: a copy of the model trains ``STEPS`` steps on the targets as
they are (the *setup*), a copy from the same weights on the same batches on the targets
standardized with the training rows' mean and std (the *arm*), and a *repeat* of the setup on other
batches and dropout masks (the run's own noise). Each is measured on the same held training rows in
the kill rule's unit, MSE / Var(y) = 1 - R^2 (the arm's predictions mapped back to the targets'
units). The arm helps when the setup's error is at least ``interventions.KILL_RATIO`` times the
arm's, higher by at least ``interventions.MIN_POINTS`` (2 points of R^2) and by more than
``interventions.NOISE_FACTOR`` times the repeat's difference, and only where the setup learns (its
error fell by ``interventions.STUCK`` of its start: otherwise the arm wins by centring the targets
alone, and the cause lies elsewhere). Then all three train on to the run's own length (``run_steps``;
without it ``interventions.LONGER`` times the steps) and the finding stands only where the arm still
ends lower there by the kill rule's ratio and ``NOISE_FACTOR`` times the repeat's difference (a
setup that catches up over the run only starts slower: a bias-free net whose targets have a mean
is 5x behind after 100 steps and level at the run's end).

Not tried, by construction: targets already standardized (within ``STANDARD_TOLERANCE``: the arm
is the setup), targets outside the band (``targets_off_scale`` fires on them already), losses that
are not a named regression loss (mse, l1, huber), fewer than ``MIN_ROWS`` training rows. The
measure is the training rows' fit, not validation: standardizing the targets is an affine map the
predictions undo, so it changes how well the run fits, not what it can generalize to.
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn

from trainwell.babysit import interventions
from trainwell.babysit.budget import Budget
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.probe_steps import make_optimizer, train_step
from trainwell.babysit.targets import REGRESSION_KINDS, TARGET_MEAN_OFF, TARGET_STD_HIGH, TARGET_STD_LOW

STEPS = interventions.STEPS         # the arms' steps: the experiments' "few steps"
MIN_STEPS = interventions.MIN_STEPS  # fewer affordable steps: not tried
EVAL_ROWS = interventions.EVAL_ROWS  # the held training rows every copy is measured on ...
POOL_ROWS = interventions.POOL_ROWS  # ... and the rows the batches are drawn from (held rows apart)
MIN_ROWS = 100                      # fewer training rows: a held set of a quarter of them is too small to measure
STANDARD_TOLERANCE = 0.01           # |mean| <= 0.01 std and std within 1% of 1: already standardized
ARM_NAME = "targets standardized"
BUDGET_SHARE = 0.25                 # the doctor gives the arm a quarter of what is left: three short trainings
                                    # of one change and, where it helps, three of the run's length (a
                                    # 1,000-step MLP run: about 6 of the doctor's 60 nominal seconds)


def _columns(y: torch.Tensor) -> torch.Tensor:
    return y.detach().reshape(y.shape[0], -1).double()


def tried(y, kind: str) -> bool:
    """Whether the arm is tried on the training targets ``y`` under the loss kind ``kind``: float
    regression targets of a named regression loss, not yet standardized, inside the band that
    ``targets.check_target_scale`` leaves quiet."""
    if kind not in REGRESSION_KINDS or not torch.is_tensor(y) or not torch.is_floating_point(y) \
            or y.ndim == 0 or y.shape[0] < MIN_ROWS:
        return False
    t = _columns(y)
    if not bool(torch.isfinite(t).all()):
        return False
    mean, std = t.mean(dim=0), t.std(dim=0)
    if not bool((std > 0).all()):
        return False
    standard = bool((mean.abs() <= STANDARD_TOLERANCE * std).all() and ((std - 1).abs() <= STANDARD_TOLERANCE).all())
    inside = float(std.max()) <= TARGET_STD_HIGH and float(std.min()) >= TARGET_STD_LOW \
        and float(mean.abs().max()) <= TARGET_MEAN_OFF
    return inside and not standard


def _relative_error(net: nn.Module, X, t, mean, std, standardized: bool) -> float:
    """MSE / Var(y) per target column, averaged, of ``net`` on the rows ``X`` with targets ``t``
    (float64 columns); the standardized copy's outputs mapped back first. inf when not finite."""
    net.eval()
    with torch.no_grad():
        out = net(X).detach().reshape(X.shape[0], -1).double().cpu()
    if out.shape != t.shape or not bool(torch.isfinite(out).all()):
        return math.inf
    pred = out * std + mean if standardized else out
    return float((((pred - t) ** 2).mean(dim=0) / std ** 2).mean())


def train_copy(model: nn.Module, X, T, rows, error, *, loss_fn, optimizer, lr: float, weight_decay: float,
               options: dict, batch_size: int, seed: int, clip_norm: float | None, checkpoints: list) -> list[float]:
    """A copy of ``model`` trained with ``loss_fn`` on the targets ``T`` by batches of ``rows`` drawn
    with ``seed``; ``error(net)`` (measured in eval mode by the caller's function) at each step count
    in ``checkpoints`` (0: the untrained copy), inf from the first non-finite one on."""
    net = copy.deepcopy(model)
    net.train()
    torch.manual_seed(seed)                         # the copy's dropout masks
    opt = make_optimizer(optimizer, net, lr=lr, weight_decay=weight_decay, **options)
    gen = torch.Generator().manual_seed(seed)
    errors, done = [], 0
    for stop in checkpoints:
        net.train()
        for _ in range(stop - done):
            idx = rows[torch.randint(rows.numel(), (min(batch_size, rows.numel()),), generator=gen)]
            train_step(net, opt, loss_fn, X[idx], T[idx], clip_norm)
        done = stop
        errors.append(error(net))
        if not math.isfinite(errors[-1]):
            errors += [math.inf] * (len(checkpoints) - len(errors))
            break
    return errors


def _helps(setup: float, arm: float, repeat: float, *, min_points: float = interventions.MIN_POINTS) -> bool:
    """The arm ends significantly lower than the setup (the module docstring's test): the kill
    rule's ratio, ``min_points`` lower, and lower by more than ``NOISE_FACTOR`` x the repeat's
    difference (a non-finite repeat: no noise estimate, never significant)."""
    if not math.isfinite(arm) or not math.isfinite(repeat):
        return False
    gap = setup - arm
    return setup >= interventions.KILL_RATIO * arm and gap >= min_points \
        and gap > interventions.NOISE_FACTOR * abs(setup - repeat)


def learns(start: float, after: float) -> bool:
    """The setup's error fell by at least ``interventions.STUCK`` of its start: a setup that barely
    learns has another cause (the experiment's arms grade it), and standardized targets would win by
    their mean alone, the untrained outputs' error on centred targets."""
    return math.isfinite(after) and start - after >= interventions.STUCK * start


def experiment(model: nn.Module, X, y, loss_fn, kind: str, *, optimizer, lr: float, weight_decay: float = 0.0,
               options: dict | None = None, batch_size: int = 64, seed: int = 0, clip_norm: float | None = None,
               run_steps: int | None = None, budget: Budget | None = None) -> dict | None:
    """The three copies' relative errors, ``{"steps", "start", "setup", "arm", "repeat", "longer_steps",
    "setup_longer", "arm_longer", "repeat_longer", "mean", "std", "held_rows"}`` (the longer ones
    None when the arm did not help at ``steps`` or the budget does not pay for three copies of
    ``run_steps``), or None when the arm is not tried (``tried``) or not affordable."""
    if not tried(y, kind) or not torch.is_tensor(X) or X.shape[0] != y.shape[0]:
        return None
    device = next((q.device for q in model.parameters()), X.device)
    t = _columns(y)
    mean, std = t.mean(dim=0), t.std(dim=0)
    n = X.shape[0]
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    held = order[:min(EVAL_ROWS, n // 4)]
    rows = order[held.numel():held.numel() + POOL_ROWS]
    steps = STEPS
    if budget is not None:
        steps = min(STEPS, int(budget.affordable(batch_size) // 3))
        if steps < MIN_STEPS or not budget.fits_wall(budget.run_cost(3, steps, batch_size), "the targets' scale arm"):
            return None
    Xd = X.to(device)
    standard = ((t - mean) / std).to(dtype=y.dtype).reshape(y.shape).to(device)
    common = dict(loss_fn=loss_fn, optimizer=optimizer, lr=lr, weight_decay=weight_decay, options=options or {},
                  batch_size=batch_size, clip_norm=clip_norm)
    held_X, held_t = Xd[held], t[held]

    def run(T, standardized, arm_seed, checkpoints):
        out = train_copy(model, Xd, T, rows, lambda net: _relative_error(net, held_X, held_t, mean, std, standardized),
                         seed=arm_seed, checkpoints=checkpoints, **common)
        if budget is not None:
            budget.steps(checkpoints[-1], batch_size)
        return out

    yd = y.to(device)
    start, setup = run(yd, False, seed, [0, steps])
    arm = run(standard, True, seed, [steps])[0]
    repeat = run(yd, False, seed + interventions.REPEAT_SEED, [steps])[0]
    result = {"steps": steps, "start": start, "setup": setup, "arm": arm, "repeat": repeat, "longer_steps": None,
              "setup_longer": None, "arm_longer": None, "repeat_longer": None, "mean": mean.tolist(),
              "std": std.tolist(), "held_rows": int(held.numel())}
    if learns(start, setup) and _helps(setup, arm, repeat):
        longer = max(run_steps or interventions.LONGER * steps, steps)
        if budget is None or (budget.affordable(batch_size) >= 3 * longer and budget.fits_wall(
                budget.run_cost(3, longer, batch_size), "the targets' scale arm at the run's length")):
            result["longer_steps"] = longer
            result["setup_longer"] = run(yd, False, seed, [longer])[0]
            result["arm_longer"] = run(standard, True, seed, [longer])[0]
            result["repeat_longer"] = run(yd, False, seed + interventions.REPEAT_SEED, [longer])[0]
    return result


def confirmed(r: dict | None) -> bool:
    """The arm helped at ``steps`` and, trained on to the run's length, still ends lower by the
    kill rule's ratio and ``NOISE_FACTOR`` x the repeat's difference there. No ``MIN_POINTS`` at
    the run's length: the kill rule itself is the ratio alone (MSE / Var(y) 1.25x), and a gap of
    points there is the run's own outcome, not a near-zero loss early in a short trial."""
    return r is not None and learns(r["start"], r["setup"]) and _helps(r["setup"], r["arm"], r["repeat"]) \
        and r["arm_longer"] is not None \
        and _helps(r["setup_longer"], r["arm_longer"], r["repeat_longer"], min_points=0.0)


def check_target_scale_arm(model: nn.Module, X, y, loss_fn, kind: str, **kwargs) -> list[Finding]:
    """``targets_off_scale`` (a warning) when the standardized-targets arm trains significantly
    better than the setup and still ends ahead at the run's length (``confirmed``). ``kwargs``:
    ``experiment``'s."""
    r = experiment(model, X, y, loss_fn, kind, **kwargs)
    if not confirmed(r):
        return []
    mean, std = r["mean"][0], r["std"][0]
    return [make(
        "targets_off_scale",
        f"the regression targets (mean {mean:.3g}, std {std:.3g}) are learned worse at their own scale than "
        f"standardized: a copy of the model trained {r['steps']} steps on them fits the held training rows to "
        f"MSE / Var(y) = {r['setup']:.3f}, the same copy on (y - {mean:.3g}) / {std:.3g} to {r['arm']:.3f} (a "
        f"repeat on other batches: {r['repeat']:.3f}), and trained on to {r['longer_steps']} steps "
        f"{r['setup_longer']:.3f} against {r['arm_longer']:.3f} (repeat {r['repeat_longer']:.3f}): the "
        f"outputs start and move at about unit scale, the targets' spread is {std:.3g}",
        evidence={"change": ARM_NAME, **r, "kill_ratio": interventions.KILL_RATIO},
        severity="warning", where="targets",
        fix=f"standardize the targets with training-split statistics, y = (y - {mean:.4g}) / {std:.4g}, and map "
            f"predictions back (pred * {std:.4g} + {mean:.4g})")]
