"""Sizing an lr change by a paired trial: the repairer's check of ``raise_lr``'s factor and of lr cuts.

``plans.plan_lr_too_low`` sizes a raise by the update ratio: the lr that moves the weights by
``TARGET_RATIO`` (1e-2) of their norm per step. That target is a rule of thumb (notes 001: ~1e-3
healthy, 1e-2 "probably too high"); nets whose weights feed a batch norm are scale-invariant and
train healthy at ratios near 1e-1 (issue 11's benchmark: a regression MLP with batch norm at its
own lr 0.05 moves 8e-2 of its weights per step), so there the ratio's raise ends ~8x short of the
lr the net was built for (an lr x1e-3 raised 121x ended 7 R^2 points behind).

``larger_raise_helps`` trains two copies of the model from the same weights on the same batches
with the same dropout masks (a paired comparison, as ``interventions.experiment``'s arms are):
one at the raised lr, one at ``TRIAL_STEP`` x it; the larger raise is taken when its loss on held
training rows ends lower and finite. The copies train with the settings the raise installs
(``group_options``: the Nesterov momentum 0.9 a raise of plain SGD adds; judged without it, the
suite's tiny_lr/teacher took a 10x larger raise whose steps momentum then made 10x larger again).
A ``confirm`` raise (plans.trial_raise: a symptom read as a slow lr, not lr_too_low itself) also
trains a third copy at the current lr with the current settings (``current_lr``), and is made
only when the raise ends lower. ``cut_helps`` confirms a first lr cut the same way, when the
loss also does not fall at the current lr (short-horizon bias, Wu et al. 2018: a short trial
favours the smaller lr on any run), and
``sized_cut`` sizes a cut that follows one that was not enough (the run diverged or its units
collapsed again): copies at one, two and three decades lower, the lowest held loss chosen.

``batch_for_cut`` takes what it can of a divergence's lr cut as a larger batch instead. An lr cut
by k at batch B and batch k x B at the lr both divide SGD's noise scale lr x N / B by k and move
the weights as far per epoch (the linear scaling rule: Goyal et al. 2017; Smith & Le 2018), but
the larger batch takes k x fewer steps: at batch 1 with a batch-32 lr the cut ran the run's 10,800
steps, 31x its healthy twin's. It holds while the batch stays below the gradient noise scale
B_simple = tr(Sigma) / |G|^2 (McCandlish et al. 2018, "An empirical model of large-batch training":
below it a larger batch buys a near-proportional cut in steps at almost no cost in rows), which
``noise_scale`` measures at the weights the cut starts from; so the batch grows by at most
B_simple / B and the rest of the factor stays an lr cut. A paired trial decides (a divergence that
is the lr's own, the loss's curvature, is not noise a batch averages away): from the same weights,
the same number of steps (what a step costs the run), the larger batch at its lr must end its held
loss finite, below where it started (it trains) and no higher than the cut's. The model and the
run's optimizer are never modified.
"""
from __future__ import annotations

import copy
import math

import torch

from trainwell.babysit.probe_steps import make_optimizer, train_step

TRIAL_STEP = 10.0        # the alternative raise: one decade more (notes 004's lr steps are decades)
TRIAL_SHARE = 0.05       # each of the two trials trains at most 5% of the run's steps ...
MIN_TRIAL_STEPS = 50     # ... and at least this many (a 20-step trial chose 10x on a digits MLP that collapsed 35 steps later)
MAX_TRIAL_STEPS = 100    # ... and at most an intervention's STEPS
CUT_DECADES = 3         # a sized cut tries the plan's factor and one and two decades more
HELD_ROWS = 512          # the loss is compared on these training rows, left out of the trials' batches
NOISE_BATCHES = 16      # noise_scale: the gradients of 16 disjoint batches and of their union (McCandlish et
                        # al. 2018, App. A's two-batch-size estimate; 16 keeps the union's part of it small) ...
NOISE_ROWS = HELD_ROWS  # ... over at least this many rows (16 batches of one row read B_simple 10, 122 and inf
                        # on three seeds where 16 of 32 rows read 46, 38 and 41)
DIVERGED_CHECK = 10     # a copy's batch loss is read every 10 steps (one host sync each): a non-finite loss with
                        # non-finite weights ends it at once, as inf (NaN weights stay NaN under any update,
                        # so its held loss would be non-finite: the trial's verdict is the same, its steps saved)


def trial_steps(run_steps: int) -> int:
    return int(min(MAX_TRIAL_STEPS, max(MIN_TRIAL_STEPS, TRIAL_SHARE * run_steps)))


def held_loss_after(model, optimizer, X, y, loss_fn, *, lr: float, weight_decay: float, batches, held,
                    seed: int, clip_norm: float | None, group_options: dict | None = None,
                    carry_state: bool = False) -> float:
    """The held rows' loss of a copy of ``model`` after a step at ``lr`` on each of ``batches``
    (``group_options``: settings the raise also changes, e.g. Nesterov momentum, set on every
    param group; ``carry_state``: the copy's optimizer starts from a copy of ``optimizer``'s state,
    its moments, when ``optimizer`` is the run's instance and its groups match)."""
    net = copy.deepcopy(model)
    if lr <= 0:                             # a schedule's last step: no training, the copy's own loss
        batches = []
    else:
        opt = make_optimizer(optimizer, net, lr=lr, weight_decay=weight_decay, total_steps=len(batches))
        if carry_state:
            _carry_state(opt, optimizer)
        for group in opt.param_groups:
            group.update(group_options or {})
    net.train()
    state = torch.get_rng_state()
    torch.manual_seed(seed)                 # the same dropout masks in both trials
    try:
        for i, idx in enumerate(batches):
            loss = train_step(net, opt, loss_fn, X[idx], y[idx], clip_norm)
            if (i + 1) % DIVERGED_CHECK == 0 and not bool(torch.isfinite(loss)) and not _finite(net):
                return math.inf
    finally:
        torch.set_rng_state(state)
    net.eval()
    with torch.no_grad():
        value = float(loss_fn(net(X[held]), y[held]))
    return value if math.isfinite(value) else math.inf


def _finite(net) -> bool:
    """Every parameter of ``net`` is finite."""
    return all(bool(torch.isfinite(p).all()) for p in net.parameters())


def _carry_state(opt, run_optimizer) -> None:
    """``opt`` (over a copy of the model) continues from a copy of the run's optimizer state: a
    fresh Adam takes steps of about lr x sign(g) until its second moments fill, larger than the
    run's own steps, and from trained weights that alone raises the loss in a short trial. Its
    own hyper-parameters (the trial's lr, weight decay) are kept; groups that do not match the
    run's leave it fresh."""
    if not isinstance(run_optimizer, torch.optim.Optimizer) or not run_optimizer.state:
        return
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    try:
        opt.load_state_dict(copy.deepcopy(run_optimizer.state_dict()))
    except (ValueError, KeyError, RuntimeError):
        return
    for group, own in zip(opt.param_groups, groups):
        group.update(own)


def _trial_batches(X, *, batch_size: int, run_steps: int, seed: int) -> tuple:
    """``(steps, held, batches)``: the held rows and the trials' batches of the other rows (seeded)."""
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(X.shape[0], generator=gen).to(X.device)
    held, rows = order[:min(HELD_ROWS, X.shape[0] // 2)], order[min(HELD_ROWS, X.shape[0] // 2):]
    steps = trial_steps(run_steps)
    size = max(1, min(batch_size, rows.numel()))
    return steps, held, [rows[torch.randint(0, rows.numel(), (size,), generator=gen).to(X.device)]
                         for _ in range(steps)]


def larger_raise_helps(model, optimizer, X, y, loss_fn, *, lr: float, weight_decay: float, batch_size: int,
                       run_steps: int, seed: int, clip_norm: float | None = None,
                       group_options: dict | None = None, current_lr: float | None = None,
                       size: bool = True) -> dict:
    """``{"steps", "loss", "larger_loss", "helps"}``: the paired trial of the raised ``lr`` against
    ``TRIAL_STEP`` x it (``helps``: the larger one's held loss ends lower and finite). With
    ``current_lr`` also ``"current_loss"`` and ``"raise_helps"``: a third copy trains at the
    current lr with the current settings, and the raise's held loss ends lower and finite; the
    larger copy trains only when the raise helps (a raise declined is not sized: ``larger_loss``
    None, ``helps`` False), and not at all with ``size=False`` (the raise's verdict only)."""
    steps, held, batches = _trial_batches(X, batch_size=batch_size, run_steps=run_steps, seed=seed)
    common = {"weight_decay": weight_decay, "batches": batches, "held": held, "seed": seed, "clip_norm": clip_norm,
              "group_options": group_options}
    loss = held_loss_after(model, optimizer, X, y, loss_fn, lr=lr, **common)
    out = {"steps": steps, "loss": loss, "larger_loss": None, "helps": False}
    if current_lr is not None:
        current = held_loss_after(model, optimizer, X, y, loss_fn, lr=current_lr, **{**common, "group_options": None})
        out.update(current_loss=current, raise_helps=math.isfinite(loss) and loss < current)
        size = size and out["raise_helps"]
    if size:            # (each copy's batches and dropout masks are its own seed's: the order changes no number)
        larger = held_loss_after(model, optimizer, X, y, loss_fn, lr=lr * TRIAL_STEP, **common)
        out.update(larger_loss=larger, helps=math.isfinite(larger) and larger < loss)
    return out


def cut_helps(model, optimizer, X, y, loss_fn, *, lr: float, factor: float, weight_decay: float, batch_size: int,
              run_steps: int, seed: int, clip_norm: float | None = None) -> dict:
    """``{"steps", "start_loss", "loss", "cut_loss", "rose", "helps"}``: the paired trial of the
    current ``lr`` against ``lr / factor`` (the same weights, batches and dropout masks, each copy
    continuing the run's optimizer state; loss on held training rows). ``rose``: at the current
    lr the held loss ends above ``start_loss`` (the weights' own) by at least what the cut gains
    below it; ``helps`` when it rose and the cut's held loss ends below ``start_loss``, finite: the
    cut recovers, not only loses less (late in a run the held rows are rows the run fitted, and
    steps on other rows raise their loss at any lr, less at a smaller one).

    A smaller lr wins any short trial: it sheds the minibatch noise at once (near its floor SGD's
    loss sits about lr x the gradient noise above the minimum), while what the larger lr gains
    shows over a longer horizon (short-horizon bias: greedy and short-horizon choices of the lr
    favour small steps, Wu et al. 2018). So "the cut ends lower" alone confirms a cut on every
    run. The finding it confirms (a loss that rose at this lr) must reproduce from the current
    weights, by more than the noise floor the cut removes (``start_loss - cut_loss``): at its
    floor a healthy lr's loss wanders about its start by less, an unstable one's grows."""
    steps, held, batches = _trial_batches(X, batch_size=batch_size, run_steps=run_steps, seed=seed)
    common = {"weight_decay": weight_decay, "batches": batches, "held": held, "seed": seed, "clip_norm": clip_norm,
              "carry_state": True}
    start = held_loss_after(model, optimizer, X, y, loss_fn, lr=0.0, **common)
    loss = held_loss_after(model, optimizer, X, y, loss_fn, lr=lr, **common)
    cut = held_loss_after(model, optimizer, X, y, loss_fn, lr=lr / factor, **common)
    rose = not loss < start + max(0.0, start - cut)
    return {"steps": steps, "start_loss": start, "loss": loss, "cut_loss": cut, "rose": rose,
            "helps": rose and math.isfinite(cut) and cut < start}


def sized_cut(model, optimizer, X, y, loss_fn, *, lr: float, factor: float, weight_decay: float, batch_size: int,
              run_steps: int, seed: int, clip_norm: float | None = None) -> dict:
    """``{"steps", "losses", "factor"}``: a cut of ``lr`` sized by a paired trial when one cut
    was not enough (plans.py's ``size`` option): copies of the model train from the same weights
    on the same batches at ``lr / f`` for f = ``factor``, ``TRIAL_STEP`` x it and ``TRIAL_STEP``^2
    x it (``CUT_DECADES``: notes 004's lr steps are decades); ``factor`` is the one whose held
    loss ends lowest and finite (ties: the smaller cut; none finite: the largest cut)."""
    steps, held, batches = _trial_batches(X, batch_size=batch_size, run_steps=run_steps, seed=seed)
    common = {"weight_decay": weight_decay, "batches": batches, "held": held, "seed": seed, "clip_norm": clip_norm}
    factors = [factor * TRIAL_STEP ** k for k in range(CUT_DECADES)]
    losses = {f: held_loss_after(model, optimizer, X, y, loss_fn, lr=lr / f, **common) for f in factors}
    finite = [f for f in factors if math.isfinite(losses[f])]
    best = min(finite, key=lambda f: losses[f]) if finite else factors[-1]
    return {"steps": steps, "losses": losses, "factor": best}


def noise_scale(model, X, y, loss_fn, *, batch_size: int, seed: int, batches: int = NOISE_BATCHES) -> float:
    """The gradient noise scale B_simple = tr(Sigma) / |G|^2 of ``model`` on the training rows, in
    rows (McCandlish et al. 2018, App. A): the gradients of ``batches`` disjoint seeded batches of b
    rows (``batch_size`` or more, ``NOISE_ROWS`` in all: the estimate holds for any b), whose mean
    squared norm is E|g_b|^2 = |G|^2 + tr(Sigma) / b, and the gradient of all B = b x ``batches`` of
    their rows give the unbiased pair |G|^2 = (B |g_B|^2 - b |g_b|^2) / (B - b) and tr(Sigma) =
    (|g_b|^2 - |g_B|^2) / (1 / b - 1 / B). inf where |G|^2 is not above 0 (the noise swamps the
    gradient), 0 with no noise. The gradients are a copy's in training mode (dropout masks are the
    run's noise too); the model is never modified."""
    b = max(1, min(max(int(batch_size), NOISE_ROWS // batches), X.shape[0] // batches))
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(X.shape[0], generator=gen)[:b * batches].to(X.device)
    net = copy.deepcopy(model)
    net.train()
    params = [p for p in net.parameters() if p.requires_grad]
    state = torch.get_rng_state()
    torch.manual_seed(seed)
    try:
        grads = []
        for idx in order.view(batches, b):
            g = torch.autograd.grad(loss_fn(net(X[idx]), y[idx]), params, allow_unused=True)
            grads.append(torch.cat([(torch.zeros_like(p) if gi is None else gi).reshape(-1)
                                    for gi, p in zip(g, params)]))
    finally:
        torch.set_rng_state(state)
    flat = torch.stack(grads).double()
    small = float(flat.pow(2).sum(1).mean())          # |g_b|^2, averaged over the batches
    big = float(flat.mean(0).pow(2).sum())            # |g_B|^2, B = b x batches
    whole = b * batches
    signal = (whole * big - b * small) / (whole - b)
    trace = (small - big) / (1 / b - 1 / whole)
    if not (math.isfinite(signal) and math.isfinite(trace)):
        return math.inf
    if trace <= 0:
        return 0.0
    return trace / signal if signal > 0 else math.inf


def batch_for_cut(model, optimizer, X, y, loss_fn, *, lr: float, factor: float, weight_decay: float,
                  batch_size: int, run_steps: int, seed: int, clip_norm: float | None = None) -> dict:
    """``{"noise_scale", "batch_size", "factor", "steps", "start_loss", "cut_loss", "batch_loss", "helps"}``: an lr
    cut by ``factor`` at ``batch_size`` taken as batch ``batch_size`` x f at the lr cut by ``factor`` / f,
    f at most ``factor`` and the gradient noise scale over the batch (``noise_scale``, at these weights)
    and the rows over it. ``helps``: that batch is larger than the run's and, trained from the same
    weights for the same steps as the cut (the cut's batches the first rows of its own, each copy
    continuing the run's optimizer state, loss on held training rows), it ends finite, below the
    weights' own held loss (``start_loss``: it trains; a CNN at lr 5 whose copies both ended at
    chance took batches of 266 of its 1,300 rows on a 0.02 lead and ended 6 points short) and no
    higher than the cut (``cut_loss``, None where the batch's copy does not train: not trained).
    Without a larger batch (``batch_size`` None) no copy trains."""
    rows = X.shape[0] - min(HELD_ROWS, X.shape[0] // 2)
    scale = noise_scale(model, X, y, loss_fn, batch_size=batch_size, seed=seed)
    grow = min(factor, scale / batch_size, rows / batch_size)
    larger = int(batch_size * grow) if math.isfinite(grow) else None
    out = {"noise_scale": scale, "batch_size": None, "factor": factor, "steps": 0, "start_loss": None,
           "cut_loss": None, "batch_loss": None, "helps": False}
    if larger is None or larger <= batch_size:
        return out
    left = factor * batch_size / larger               # the part of the cut the batch does not take
    steps, held, batches = _trial_batches(X, batch_size=larger, run_steps=run_steps, seed=seed)
    common = {"weight_decay": weight_decay, "held": held, "seed": seed, "clip_norm": clip_norm, "carry_state": True}
    start = held_loss_after(model, optimizer, X, y, loss_fn, lr=0.0, batches=batches, **common)
    grown = held_loss_after(model, optimizer, X, y, loss_fn, lr=lr / left, batches=batches, **common)
    out.update(batch_size=larger, factor=left, steps=steps, start_loss=start, batch_loss=grown)
    if not (math.isfinite(grown) and grown < start):
        return out                                  # the batch's copy does not train: the cut's is not needed
    cut = held_loss_after(model, optimizer, X, y, loss_fn, lr=lr / factor,
                          batches=[idx[:batch_size] for idx in batches], **common)
    out.update(cut_loss=cut, helps=grown <= cut)
    return out
