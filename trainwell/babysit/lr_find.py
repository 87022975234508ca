"""Learning-rate range test (Smith 2017, "Cyclical Learning Rates", §3.3) with a robust suggestion.

The lr grows exponentially from ``start`` to ``end`` over ``steps`` mini-batch steps,
lr_i = start · (end/start)^(i/(steps-1)); the loss of each step is recorded; the test stops
early once the loss is non-finite or above 3x the best loss so far (notes 004: "cost > 3x
original cost -> break out"). The model's weights and the optimizer's state are restored.

The suggestion must not be fooled by spikes and NaNs (Lightning #1767: an early spike wins
the "steepest point"; fastai #3476 / Lightning #1850: a NaN at the end wins ``np.gradient``
argmin; pytorch-lr-finder #106/#44: the steepest single point is noisy). So:

1. keep only finite losses before the divergence stop;
2. smooth log(loss) with a running *median* (a spike cannot move a median), width
   ``max(5, n/20)``;
3. measure slopes over a span of ``width/2`` points (not adjacent ones);
4. take the longest contiguous run of negative slopes (the steady descent, fastai's "valley"
   idea) and suggest the lr of the steepest span-slope inside that run.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import torch

from trainwell.babysit.loss_kinds import resolve_loss
from trainwell.babysit.probe_steps import take_step
from trainwell.errors import ConfigError, DataError
from trainwell.optim.factory import build_optimizer
from trainwell.optim.schedules import group_lrs

DIVERGE_FACTOR = 3.0      # notes 004: break out once the loss exceeds 3x the best seen
CHECK_EVERY = 10          # steps between the divergence checks during the test (one host sync each)
SPIKE_WINDOW = 5          # losses are judged by the median of this many in a row: one spike is ignored
MIN_POINTS = 5            # the fewest finite points a suggestion is made from; the smallest median width
SMOOTHING = 20            # the running median spans 1/SMOOTHING of the curve (MIN_POINTS at least)
LOG_FLOOR = 1e-30         # a loss of 0 is logged as this


@dataclass
class LRFindResult:
    lrs: list[float]
    losses: list[float]
    suggestion: float | None
    smoothed: list[float] = field(default_factory=list)
    descent: tuple | None = None       # (first, last) index of the steady-descent run
    min_lr: float | None = None        # lr at the lowest smoothed loss
    stopped: str = ""

    def plot(self, path):
        """Loss vs lr (log scale) with the smoothed curve and the suggestion; saves to ``path``."""
        # matplotlib is imported here: it is heavy and only plotting needs it
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 4))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        finite = [(lr, v) for lr, v in zip(self.lrs, self.losses) if math.isfinite(v)]
        if finite:
            ax.plot(*zip(*finite), color="0.7", linewidth=1, label="loss per step")
        if self.smoothed:
            ax.plot(self.lrs[:len(self.smoothed)], self.smoothed, color="C0", label="running median")
        if self.suggestion is not None:
            ax.axvline(self.suggestion, color="C3", linestyle="--", label=f"suggestion {self.suggestion:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss")
        ax.set_title("learning-rate range test")
        ax.legend(loc="best")
        fig.tight_layout()
        fig.savefig(path)
        return path


def _running_median(values: list[float], width: int) -> list[float]:
    t = torch.tensor(values, dtype=torch.float64)
    half = width // 2
    padded = torch.cat([t[:1].repeat(half), t, t[-1:].repeat(half)])
    return padded.unfold(0, 2 * half + 1, 1).median(dim=1).values.tolist()


def suggest(lrs, losses) -> dict:
    """The robust suggestion for a recorded range test: ``{"suggestion", "smoothed", "descent",
    "min_lr", "valid"}`` (suggestion None when there is no descent to pick from)."""
    finite = 0
    while finite < len(losses) and math.isfinite(losses[finite]):
        finite += 1                 # the test is over at the first NaN/inf
    out = {"suggestion": None, "smoothed": [], "descent": None, "min_lr": None, "valid": finite}
    if finite < MIN_POINTS:
        return out
    width = max(MIN_POINTS, finite // SMOOTHING)
    smooth_log = _running_median([math.log(max(v, LOG_FLOOR)) for v in losses[:finite]], width)
    valid, best = 0, math.inf       # divergence judged on the smoothed curve: one spike cannot end it
    for v in smooth_log:
        if v > best + math.log(DIVERGE_FACTOR):
            break
        best = min(best, v)
        valid += 1
    out["valid"] = valid
    if valid < MIN_POINTS:
        return out
    smooth_log = smooth_log[:valid]
    out["smoothed"] = [math.exp(v) for v in smooth_log]
    loglr = [math.log(lr) for lr in lrs[:valid]]
    span = max(1, width // 2)
    slopes = [(smooth_log[i + span] - smooth_log[i]) / (loglr[i + span] - loglr[i])
              for i in range(valid - span)]
    out["min_lr"] = lrs[min(range(valid), key=smooth_log.__getitem__)]
    best_run, run_start = None, None
    for i, s in enumerate(slopes + [0.0]):
        if s < 0 and run_start is None:
            run_start = i
        elif s >= 0 and run_start is not None:
            if best_run is None or i - run_start > best_run[1] - best_run[0] + 1:
                best_run = (run_start, i - 1)
            run_start = None
    if best_run is None:
        return out
    a, b = best_run
    steepest = min(range(a, b + 1), key=slopes.__getitem__)
    out["descent"] = (a, b + span)
    # the slope is measured from i to i + span: credit its midpoint
    out["suggestion"] = lrs[min(steepest + span // 2, valid - 1)]
    return out


def lr_find(model: torch.nn.Module, X, y, *, loss="cross_entropy", optimizer="sgd", start: float = 1e-7,
            end: float = 10.0, steps: int = 100, batch_size: int = 64, seed: int = 0,
            **options) -> LRFindResult:
    """Run the range test on ``(X, y)`` and restore ``model`` (and ``optimizer`` if one was given).

    ``optimizer``: a name ``build_optimizer`` accepts (``sgd``, ``adam``, ``sam``, ... or a
    torch.optim class name; "momentum" is SGD with momentum 0.9), a factory ``params ->
    Optimizer``, or an optimizer over ``model``'s parameters (its state is saved and restored).
    ``options``: the run's optimizer options in ``build_optimizer``'s keywords (``momentum``,
    ``weight_decay``, ``lr_mults``, ``base``, ``rho``, ...); ``train.parts.optimizer_options(config)``
    gives them for a config, as ``trainwell lr-find`` does (the run's ``lr``, if among them, is
    replaced by the tested one). Each group steps at the tested lr times
    its ``lr_mult``; frozen parameters (``requires_grad=False``) stay out. Optimizers that need the
    closure (SAM, L-BFGS, Newton) get one; each step's recorded loss is its first pass, at the
    weights the step started from.
    """
    if not (0 < start < end):
        raise ConfigError(f"lr_find: start = {start!r}, end = {end!r}: need 0 < start < end")
    if steps < MIN_POINTS:
        raise ConfigError(f"lr_find: steps = {steps!r}: need at least {MIN_POINTS}")
    if batch_size < 1:
        raise ConfigError(f"lr_find: batch_size = {batch_size!r}: must be >= 1")
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    if X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise DataError(f"lr_find: X has {X.shape[0]} rows and y has {y.shape[0]}; need the same, > 0")
    loss_fn, _ = resolve_loss(loss)
    saved_model = copy.deepcopy(model.state_dict())
    options.pop("lr", None)
    opt = build_optimizer(optimizer, model, lr=start, total_steps=steps, **options)
    saved_opt = copy.deepcopy(opt.state_dict()) if opt is optimizer else None
    was_training = model.training
    device = next((p.device for p in model.parameters()), X.device)
    gen = torch.Generator().manual_seed(seed)
    ratio = (end / start) ** (1.0 / (steps - 1))
    lrs, recorded = [], []
    order, pos = torch.randperm(X.shape[0], generator=gen), 0
    stopped = "reached end"
    best = math.inf
    batch: dict = {}                   # this step's (x, y) and the loss of its first pass

    def closure(backward: bool = True):  # the trainer's protocol (backward=False: Newton)
        value = loss_fn(model(batch["x"]), batch["y"])
        if backward:
            opt.zero_grad(set_to_none=True)
            value.backward()
        batch.setdefault("loss", value.detach())
        return value

    model.train()
    try:
        for i in range(steps):
            lr = start * ratio ** i
            groups = opt.param_groups
            for g, group_lr in zip(groups, group_lrs([lr] * len(groups), groups, None, 0)):
                g["lr"] = group_lr
            if pos + batch_size > X.shape[0]:
                order, pos = torch.randperm(X.shape[0], generator=gen), 0
            idx = order[pos:pos + batch_size]
            pos += batch_size
            batch.clear()
            batch.update(x=X[idx].to(device), y=y[idx].to(device))
            take_step(opt, closure)
            lrs.append(lr)
            recorded.append(batch["loss"])
            if (i + 1) % CHECK_EVERY == 0 or i == steps - 1:
                # the windows of SPIKE_WINDOW losses that end in the steps since the last check
                chunk = torch.stack(recorded[-(CHECK_EVERY + SPIKE_WINDOW - 1):]).tolist()
                medians = [sorted(chunk[j:j + SPIKE_WINDOW])[SPIKE_WINDOW // 2]
                           for j in range(len(chunk) - SPIKE_WINDOW + 1)]
                if not all(math.isfinite(v) for v in chunk[-CHECK_EVERY:]):
                    stopped = f"loss became NaN/inf at lr {lr:.3g}"
                elif medians and best < math.inf and medians[-1] > DIVERGE_FACTOR * best:
                    stopped = f"diverged at lr {lr:.3g}"
                best = min([best] + [m for m in medians if math.isfinite(m)])
                if stopped != "reached end":
                    break
    finally:
        model.load_state_dict(saved_model)
        if saved_opt is not None:
            opt.load_state_dict(saved_opt)
        model.train(was_training)
    losses = torch.stack(recorded).tolist() if recorded else []
    s = suggest(lrs, losses)
    return LRFindResult(lrs=lrs, losses=losses, suggestion=s["suggestion"], smoothed=s["smoothed"],
                        descent=s["descent"], min_lr=s["min_lr"], stopped=stopped)
