"""In-training rules: one pure function per finding code, over sampled statistics and history.

Every rule has the signature ``rule(samples, history, ctx) -> list[Finding]``:

* ``samples`` — the sampled steps, oldest first, each a dict ``{"step", "epoch", "loss", "lr",
  "weight_decay" (the optimizer's largest), "batch_finite", "grad_norm": {layer: float},
  "weight_norm": {layer: float}, "update_ratio": {layer: float}, "touched_weight_norm": {table:
  float}}`` (the per-layer dicts may be empty; ``touched_weight_norm``, where present, holds a lookup
  table's weight norm over the rows the sampled batch read: probes.touched_row_norms);
* ``history`` — the trainer's per-epoch dicts (``train_loss``, ``train_acc``, ``val_loss``,
  ``val_acc``, ``lr``, ...);
* ``ctx`` — ``{"initial_loss", "steps_per_epoch", "max_lr", "final", "second_order",
  "divergence_factor"}`` (``second_order``: an L-BFGS / Newton optimizer, whose steps the
  update-ratio rules do not judge; ``divergence_factor``: the run's setting, default 3).

Each rule is named after the code it reports; ``registry.CODES[code].runs`` says when the monitor
runs it, and ``RULES`` maps every in-training code to its rule. Rules look at a recent window
(``WINDOW`` samples) so a problem is flagged soon after it appears, and at whole epochs (the loss
the trainer already synced once per epoch). The thresholds below (and the update-ratio scale in
ratios.py) are the numbers the registry's threshold texts describe.
"""
from __future__ import annotations

import math
import statistics

from trainwell.babysit.findings import Finding, make
from trainwell.babysit.plans import DECAY_CUT, LR_STEP, MAX_FACTOR, OSCILLATION_STEP
from trainwell.babysit.ratios import (EXTREME_RATIO, HEALTHY_RATIO, RATIO_HIGH, RATIO_LOW, SLOW_RATIO,
                                      STEP_REPLACES, STRONG_DECAY)
from trainwell.babysit.registry import CODES

WINDOW = 32                  # recent samples a rule looks at (and the repair planners measure over)
BASELINE_SAMPLES = 3         # the first samples: the run's healthy gradient norm
DIVERGENCE_FACTOR = 3.0      # notes 004: cost > 3x original cost -> break out early (the default of
                             # config.divergence_factor, used when ctx has no "divergence_factor")
HELD_BY, HELD_OF = 2, 3       # loss_exploding: a level 2 of the last 3 sampled losses hold (one batch's is noise)
RISE = 1.10                  # lr_too_high: last third's median 10% above the first third's ...
RISE_Z = 3.0                 # ... and 3 standard errors above it (rise_z; one-sided p ~ 1e-3): the sampled
                             # losses are single minibatches', whose medians of ~10 scatter by more than 10 %
FLAT = 0.01                  # plateau: < 1% improvement
PLATEAU_LEVEL = 0.2          # plateau: a stall counts while the loss is above 20% of the initial
LEARNED = 0.9                # plateau: a loss that never fell below 90% of the initial never learned
BARELY = 0.05                # lr_too_low: < 5% below the initial loss (one batch's loss: a few % of noise)
OSCILLATION = 0.25           # median |Δloss| > 0.25 x initial loss
OSCILLATION_SAMPLES = 8      # ... over at least 8 sampled losses
SETTLED = 0.5                # ... while the median loss is above half the initial (a falling loss settles)
OSCILLATION_EPOCHS, EPOCH_RISE = 6, 1.2   # or 2+ epoch-mean rises of > 20% in the last 6 epochs
DECAY_EPOCHS = 2             # under a strong decay (ratios.STRONG_DECAY) underfitting judges the
                             # accuracy after 2 epochs, without waiting for a stall
ANNEALED = 0.1               # plateau: an lr below 10% of its peak is a schedule's tail, not a stall
ANNEALING = 0.05             # update_ratio_low: an lr below 5% of its peak is a schedule annealing on purpose
CONVERGED = 0.1              # a loss below 10% of the initial has converged: update_ratio_high and
                             # the epoch-mean oscillation do not judge its noise
FALLING = 0.95               # update_ratio_high waits while the loss falls by > 5% over the window
VANISH = 1e-3                # smallest / largest per-layer relative gradient
NO_GRADIENT = 1e-8           # a total gradient norm below this: nothing learns ...
STILL_LEARNING = 1e-3        # ... while the loss is above this (a fitted model's gradients are tiny too)
GRAD_GROWTH = 10.0           # total gradient norm vs its first sampled values
GAP_HIGH, GAP_SEVERE = 0.10, 0.20   # notes 004: "big gap = overfitting" (accuracy points)
FITTED = 0.98                # plateau: a training set fitted this well has converged, whatever its loss
MEMORIZED = 0.99             # train accuracy of a memorized training set: a 0.10 gap is then overfitting
VAL_RISE = 1.2               # validation loss 20% above its best: the gap is growing
REGRESSION_VAL_RISE = 1.5    # without accuracies: validation loss 50% above its best ...
REGRESSION_GAP = 0.5         # ... and the training loss below half the validation loss
UNDERFIT_ACC, UNDERFIT_GAP = 0.8, 0.05   # notes 004 "no gap => increase model capacity?"
UNDERFIT_LOSS = 0.5          # without accuracies: the training loss above half the initial
STALLED = 0.05               # underfitting: < 5% better over 3 epochs
TREND_SAMPLES = 6            # a loss trend is read from at least 6 samples (thirds of 2 or more)
RATIO_SAMPLES = 3            # the update-ratio rules judge medians over at least 3 samples


def _finite(values):
    return [v for v in values if v is not None and math.isfinite(v)]


def _window(samples):
    return samples[-WINDOW:]


def _by_layer(samples, key, less=None) -> dict:
    """``{layer: [finite values of sample[key][layer]]}`` over ``samples``; with ``less(sample)``,
    each value minus it, floored at 0."""
    layers = {}
    for s in samples:
        cut = less(s) if less else None
        for name, v in s.get(key, {}).items():
            if v is not None and math.isfinite(v):
                layers.setdefault(name, []).append(v if cut is None else max(v - cut, 0.0))
    return layers


def _median_by_layer(samples, key) -> dict:
    return {name: statistics.median(vs) for name, vs in _by_layer(samples, key).items() if vs}


def _epoch_losses(history):
    return [h.get("train_loss") for h in history]


def _divergence_factor(ctx) -> float:
    return ctx.get("divergence_factor") or DIVERGENCE_FACTOR


# ------------------------------------------------------------------------- loss rules
def nonfinite_loss(samples, history, ctx) -> list[Finding]:
    where_seen = None
    if samples and not math.isfinite(samples[-1]["loss"]):
        where_seen = f"step {samples[-1]['step']}"
        batch_finite = samples[-1].get("batch_finite", True)
    elif history and history[-1].get("train_loss") is not None and not math.isfinite(history[-1]["train_loss"]):
        where_seen = f"epoch {history[-1].get('epoch', len(history))}"
        batch_finite = True
    if where_seen is None:
        return []
    lr = samples[-1]["lr"] if samples else history[-1].get("lr")
    cause = ("the batch itself holds NaN/inf" if not batch_finite else
             "the inputs are finite, so the updates blew up (notes 004: NaN almost always means high lr)")
    return [make("nonfinite_loss", f"the training loss became NaN/inf at {where_seen}; {cause}",
                 evidence={"at": where_seen, "lr": lr, "batch_finite": batch_finite},
                 fix=(f"lower lr from {lr:.3g} to about {lr / LR_STEP:.3g} and clip gradients (clip_norm=1.0)"
                      if batch_finite and lr else "remove NaN/inf rows from the data"))]


def exploded_level(samples, history, ctx) -> tuple[float, str] | None:
    """The run's recent loss level and what holds it, when it is above ``divergence_factor`` x the
    initial loss (notes 004: "if the cost is ever > 3 * original cost, break out early"), else None.
    The cost is the run's, not one minibatch's: a level ``HELD_BY`` of the last ``HELD_OF`` sampled
    losses hold (the second largest of them), or the last epoch's mean training loss (every batch
    averaged). One batch's loss is no level: a batch holding one row far out in a heavy-tailed
    target's tail (a standardized log-normal: 20 standard units, 400 / 32 on its own) costs a
    healthy regression net 30x its initial loss once an epoch, and the next batch is back at its
    noise. A loss that explodes stays up until it is not finite (``nonfinite_loss``)."""
    initial = ctx.get("initial_loss")
    if not initial or initial <= 0:
        return None
    bound = _divergence_factor(ctx) * initial
    recent = _finite([s["loss"] for s in _window(samples)][-HELD_OF:])
    held = sorted(recent)[-HELD_BY] if len(recent) >= HELD_BY else None
    epoch = _finite(_epoch_losses(history)[-1:])
    if held is not None and held > bound:
        return held, f"{HELD_BY} of the last {len(recent)} sampled losses"
    if epoch and epoch[0] > bound:
        return epoch[0], "the epoch's mean training loss"
    return None


def loss_exploding(samples, history, ctx) -> list[Finding]:
    level = exploded_level(samples, history, ctx)
    if level is None:
        return []
    loss, held_by = level
    initial, factor = ctx["initial_loss"], _divergence_factor(ctx)
    lr = samples[-1]["lr"] if samples else history[-1].get("lr")
    return [make("loss_exploding",
                 f"the training loss rose to {loss:.4g}, {loss / initial:.1f}x its initial {initial:.4g}, held by "
                 f"{held_by} (notes 004: above {factor:g}x, break out)",
                 evidence={"loss": loss, "initial_loss": initial, "ratio": loss / initial, "lr": lr,
                           "held_by": held_by},
                 fix=f"lower lr from {lr:.3g} to about {lr / LR_STEP:.3g}, or clip gradients" if lr else None)]


def lr_too_high(samples, history, ctx) -> list[Finding]:
    initial = ctx.get("initial_loss")
    window = _window(samples)
    lr = window[-1]["lr"] if window else (history[-1].get("lr") if history else None)
    fix = f"lower lr from {lr:.3g} to about {lr / LR_STEP:.3g}" if lr else None
    losses = [s["loss"] for s in window]
    if window and not math.isfinite(losses[-1]) and window[-1].get("batch_finite", True):
        return [make("lr_too_high", f"the loss became NaN/inf on finite inputs at step {window[-1]['step']}: "
                     f"the updates are too large", evidence={"lr": lr, "loss": losses[-1]}, fix=fix)]
    if history and history[-1].get("train_loss") is not None and not math.isfinite(history[-1]["train_loss"]):
        return [make("lr_too_high", "the epoch's training loss is NaN/inf: the updates are too large",
                     evidence={"lr": lr, "loss": history[-1]["train_loss"]}, fix=fix)]
    finite = _finite(losses + _epoch_losses(history)[-1:])
    exploded = exploded_level(samples, history, ctx)    # the run's level, not one batch's (loss_exploding)
    if exploded is not None:
        return [make("lr_too_high", f"the loss exploded to {exploded[0]:.4g} ({exploded[0] / initial:.1f}x the "
                     f"initial, held by {exploded[1]}): notes 004 'loss exploding: learning rate too high'",
                     evidence={"lr": lr, "loss": exploded[0], "initial_loss": initial}, fix=fix)]
    if len(finite) >= TREND_SAMPLES:
        third = len(finite) // 3
        head, tail = statistics.median(finite[:third]), statistics.median(finite[-third:])
        converged = bool(initial) and tail < CONVERGED * initial   # small losses' noise, not a rise
        z = rise_z(finite[:third], finite[-third:])
        if head > 0 and tail > RISE * head and z > RISE_Z and not converged:
            return [make("lr_too_high", f"the loss is rising: median {head:.4g} -> {tail:.4g} over the last "
                         f"{len(finite)} samples ({z:.1f} standard errors of the minibatch losses' scatter)",
                         evidence={"lr": lr, "first_third": head, "last_third": tail, "rise_z": z}, fix=fix)]
    return []


def rise_z(head: list[float], tail: list[float]) -> float:
    """How many standard errors the median of ``tail`` lies above the median of ``head``: each
    median's standard error sqrt(pi / 2) sigma / sqrt(k) (the sample median of k normal values),
    sigma = 1.4826 x the median absolute deviation of its own values (robust to the outlying
    batches a minibatch loss has). inf where both are without scatter and the tail is higher."""
    def se(values):
        centre = statistics.median(values)
        mad = statistics.median(abs(v - centre) for v in values)
        return math.sqrt(math.pi / 2) * 1.4826 * mad / math.sqrt(len(values))
    rise, error = statistics.median(tail) - statistics.median(head), math.hypot(se(head), se(tail))
    return rise / error if error > 0 else (math.inf if rise > 0 else 0.0)


def lr_too_low(samples, history, ctx) -> list[Finding]:
    initial = ctx.get("initial_loss")
    if not initial or initial <= 0:
        return []
    ratios = _median_by_layer(_window(samples), "update_ratio")
    median_ratio = statistics.median(ratios.values()) if ratios else None
    if median_ratio is not None and median_ratio >= SLOW_RATIO:
        return []
    if vanishing_gradients(samples, history, ctx) or _ever_diverged(samples, history, ctx):
        return []                   # the gradients are too small, or the lr was too high
    spe = ctx.get("steps_per_epoch") or 1
    if history:
        current = history[-1].get("train_loss")
    elif samples and samples[-1]["step"] - samples[0]["step"] >= spe and len(samples) >= TREND_SAMPLES:
        current = statistics.median(_finite([s["loss"] for s in samples[-len(samples) // 3:]]) or [initial])
    else:
        return []
    if current is None or not math.isfinite(current):
        return []
    drop = (initial - current) / initial
    if drop >= BARELY:
        return []
    lr = samples[-1]["lr"] if samples else history[-1].get("lr")
    return [make("lr_too_low",
                 f"the loss barely changed ({initial:.4g} -> {current:.4g}, {100 * drop:.2f}%) after "
                 f"{samples[-1]['step'] if samples else len(history) * spe} steps"
                 + (f"; updates are {median_ratio:.2g} of the weights (healthy ~1e-3)" if median_ratio is not None else ""),
                 evidence={"initial_loss": initial, "loss": current, "drop": drop, "lr": lr,
                           "median_update_ratio": median_ratio},
                 fix=f"raise lr from {lr:.3g} to about {lr * LR_STEP:.3g}" if lr else None)]


def _ever_diverged(samples, history, ctx) -> bool:
    initial = ctx.get("initial_loss") or 0.0
    factor = _divergence_factor(ctx)
    losses = [s["loss"] for s in samples] + [h.get("train_loss") for h in history]
    return any(v is not None and (not math.isfinite(v) or v > factor * initial > 0) for v in losses)


def oscillating_loss(samples, history, ctx) -> list[Finding]:
    return _oscillating_samples(samples, ctx) or _oscillating_epochs(history, ctx)


def _oscillating_epochs(history, ctx) -> list[Finding]:
    """The epoch means (no batch noise) jump up by > 20% at least twice in the last 6 epochs, with
    the lr not raised in between (a warm restart raises the loss on purpose). A rise that stays
    below ``CONVERGED`` x the initial loss is a converged model's noise (as for lr_too_high):
    0.038 -> 0.064 on a loss that started at 2.3 is no oscillation."""
    floor = CONVERGED * (ctx.get("initial_loss") or 0.0)
    recent = history[-OSCILLATION_EPOCHS:]
    rises = [(a, b) for a, b in zip(recent, recent[1:])
             if _rose(a.get("train_loss"), b.get("train_loss")) and b["train_loss"] > floor
             and (b.get("lr") or 0.0) <= (a.get("lr") or 0.0)]
    if len(rises) < 2:
        return []
    losses = [round(h["train_loss"], 4) for h in recent]
    lr = recent[-1].get("lr")
    return [make("oscillating_loss",
                 f"the epoch's training loss jumped up by more than {EPOCH_RISE - 1:.0%} {len(rises)} times in "
                 f"the last {len(recent)} epochs ({' -> '.join(f'{v:.3g}' for v in losses)}) without a schedule "
                 f"restart",
                 evidence={"epoch_losses": losses, "rises": len(rises), "lr": lr},
                 fix=(f"lower lr from {lr:.3g} to about {lr / OSCILLATION_STEP:.3g}, or use a larger batch"
                      if lr else None))]


def _rose(a, b) -> bool:
    finite = a is not None and b is not None and math.isfinite(a) and math.isfinite(b)
    return finite and a > 0 and b > EPOCH_RISE * a


def _oscillating_samples(samples, ctx) -> list[Finding]:
    initial = ctx.get("initial_loss")
    finite = _finite([s["loss"] for s in _window(samples)])
    if not initial or initial <= 0 or len(finite) < OSCILLATION_SAMPLES:   # a ratio to the start reads above 0
        return []
    diffs = [abs(b - a) for a, b in zip(finite, finite[1:])]
    swing = statistics.median(diffs)
    level = statistics.median(finite)
    if swing <= OSCILLATION * initial or level <= SETTLED * initial:
        return []
    lr = samples[-1]["lr"]
    return [make("oscillating_loss",
                 f"the loss jumps by {swing:.3g} between samples (median) around {level:.3g}, "
                 f"{swing / initial:.2f}x the initial loss, without settling",
                 evidence={"median_abs_change": swing, "median_loss": level, "initial_loss": initial, "lr": lr},
                 fix=(f"lower lr from {lr:.3g} to about {lr / OSCILLATION_STEP:.3g}, or use a larger batch"
                      if lr else None))]


def plateau(samples, history, ctx) -> list[Finding]:
    losses = _finite(_epoch_losses(history))
    initial = ctx.get("initial_loss") or (losses[0] if losses else None)
    if len(losses) < 4 or not initial or initial <= 0 or len(losses) != len(history):
        return []
    if min(losses) > LEARNED * initial:
        return []                   # never learned at all: lr_too_low / underfitting, not a plateau
    lr, max_lr = history[-1].get("lr"), ctx.get("max_lr")
    if lr is not None and max_lr and lr < ANNEALED * max_lr:
        return []                   # the schedule has annealed the lr: a flat loss is convergence
    if (history[-1].get("train_acc") or 0.0) >= FITTED:
        return []                   # the training set is fitted: the loss's floor (label smoothing) is reached
    before, recent = losses[-4], min(losses[-3:])
    improvement = (before - recent) / max(abs(before), 1e-12)
    if improvement >= FLAT or recent <= PLATEAU_LEVEL * initial:
        return []
    return [make("plateau", f"the training loss has stalled at {recent:.4g} for 3 epochs "
                 f"({100 * improvement:.2f}% better), still {recent / initial:.0%} of the initial loss",
                 evidence={"loss": recent, "three_epochs_ago": before, "improvement": improvement, "lr": lr},
                 fix=(f"decay the lr (e.g. from {lr:.3g} to {lr / LR_STEP:.3g}) or use a plateau schedule"
                      if lr else None))]


# ------------------------------------------------------------------------- gradient rules
def _relative_gradients(samples):
    grads = _median_by_layer(_window(samples), "grad_norm")
    weights = _read_weights(_window(samples))
    return {n: grads[n] / weights[n] for n in grads if weights.get(n, 0) > 0}


def _read_weights(samples, whole: dict | None = None) -> dict:
    """Each layer's median weight norm (``whole``, where the caller has taken them already), a lookup
    table's over the rows its batches read (``touched_weight_norm``): the gradient of a batch reaches
    only the rows of the ids it holds, so the table's whole norm grows with the vocabulary and says
    nothing of how fast the rows in use learn (an N(0, 1) table of 853 words read 106 at a time:
    ||g|| / ||w|| 2.8x smaller whole). A table no row of which showed a gradient (all underflowed)
    keeps its whole norm."""
    whole = _median_by_layer(samples, "weight_norm") if whole is None else whole
    read = {n: v for n, v in _median_by_layer(samples, "touched_weight_norm").items() if v > 0}
    return {**whole, **read}


def _update_ratios(samples) -> dict:
    """Each layer's median update ratio ||dw|| / ||w|| beyond the decay's share (lr x weight_decay,
    ``_decay``: what moves a layer whose gradient is nil), a lookup table's over the rows its batches
    read (x ||w|| / ||w over those rows||, ``_read_weights``)."""
    ratios = {n: statistics.median(vs) for n, vs in _by_layer(samples, "update_ratio", less=_decay).items() if vs}
    whole = _median_by_layer(samples, "weight_norm")
    read = _read_weights(samples, whole)
    return {n: r * whole[n] / read[n] if read.get(n, 0) > 0 and whole.get(n) else r for n, r in ratios.items()}


def unused_parameters(samples) -> list[str]:
    """The parameters whose gradient is exactly 0 in every sample of ``samples`` that records one:
    the loss does not depend on them on these batches (a branch the forward pass never reads, an
    LSTM's recurrent weights read at its first step, whose previous state is 0). A gradient that
    vanishes with depth is a product of derivatives under 1 (Glorot & Bengio 2010): small, not
    exactly 0 in every sampled batch; an input or a parameter the output ignores is another fault
    (uninformative inputs, underfitting), not this one's."""
    recorded = [s.get("grad_norm", {}) for s in samples]
    names = {n for g in recorded for n in g}
    return sorted(n for n in names if all(g.get(n) == 0 for g in recorded if n in g))


def gated_at_init(first: dict | None, window) -> list[str]:
    """The layers whose gradient was exactly 0 at the run's first sampled step (``first``, the
    gradient at the initial weights) and is not 0 in ``window``: a zero-valued trainable factor
    between them and the loss (ReZero's ``alpha = 0``, Bachlechner et al. 2020; a residual branch's
    last BN gamma or last layer initialized to 0, Goyal et al. 2017, Fixup) cut their gradient at the
    start, and it was trained off zero since, which only a factor that receives a gradient is. Their
    gradient scales with that factor while it grows: small on purpose beside the layers no gate
    holds, not vanishing with depth. A zero factor that is not trained (a plain tensor) keeps them
    at exactly 0 (``unused_parameters``)."""
    if not first:
        return []
    closed = {n for n, g in first.get("grad_norm", {}).items() if g == 0}
    recorded = [s.get("grad_norm", {}) for s in window]
    return sorted(n for n in closed if any(g.get(n) for g in recorded))


def vanishing_gradients(samples, history, ctx) -> list[Finding]:
    window = _window(samples)
    if not window:
        return []
    rel = _relative_gradients(window)
    totals = [math.sqrt(sum(v * v for v in s["grad_norm"].values())) for s in window if s.get("grad_norm")]
    if not rel or not totals:
        return []
    loss = window[-1]["loss"]
    if max(totals[-3:]) < NO_GRADIENT and math.isfinite(loss) and loss > STILL_LEARNING:
        return [make("vanishing_gradients", f"the total gradient norm is {max(totals[-3:]):.2g} while the loss "
                     f"is still {loss:.4g}: nothing learns", evidence={"grad_norm": totals[-3:], "loss": loss})]
    unused = set(unused_parameters(window))     # compared only among the parameters the loss reads
    gated = set(gated_at_init(ctx.get("first_sample"), window))
    rel = {n: r for n, r in rel.items() if n not in unused}
    # a gate scales all its layers alike: layers behind gates are compared among themselves (depth
    # still shows there), the others among themselves, never one group against the other
    groups = [{n: r for n, r in rel.items() if (n in gated) == behind} for behind in (False, True)]
    moving = _update_ratios(window)
    slow = [(n, g) for g in groups if g and max(g.values()) > 0 for n in barely_learning(g, moving)]
    if not slow:
        return []
    where, worst = min(slow, key=lambda ng: ng[1][ng[0]] / max(ng[1].values()))
    top, low = max(worst.values()), worst[where]
    return [make("vanishing_gradients",
                 f"layer {where} gets a relative gradient ||g||/||w|| of {low:.2g}, {top / max(low, 1e-300):.2g}x "
                 f"smaller than the layer that learns fastest"
                 + (" of those behind a zero-initialized gate" if where in gated else "") + ": it barely learns",
                 evidence={"relative_gradient": rel, "ratio": low / top, "gated_at_init": sorted(gated),
                           "update_ratio": {n: moving.get(n) for n in worst}},
                 where=where.rsplit(".", 1)[0])]


def barely_learning(rel: dict, moving: dict) -> list[str]:
    """The layers of ``rel`` (relative gradients ||g||/||w|| of layers compared with each other) whose
    gradient is under ``VANISH`` x the largest and whose weights also move under ``VANISH`` x the
    fastest-moving layer's (``moving``: median update ratios ||dw||/||w|| beyond the decay's share,
    ``_update_ratios``; notes 001 "track ratio of weight updates / weight magnitudes"). Under SGD a layer's update is lr x its gradient, so the two
    agree; an adaptive optimizer divides each gradient by its own running scale (Adam), so a small
    gradient still moves its weights (notes 003, "why adaptive methods are relevant for DL: derivatives
    for early layers tend to be orders of magnitude smaller"): such a layer learns, its gradient is not
    vanishing in effect. A layer without a recorded update ratio is read by its gradient alone."""
    top_g = max(rel.values())
    top_u = max((moving[n] for n in rel if moving.get(n) is not None), default=0.0)
    return [n for n, r in rel.items() if r / top_g < VANISH
            and (moving.get(n) is None or top_u <= 0 or moving[n] / top_u < VANISH)]


def exploding_gradients(samples, history, ctx) -> list[Finding]:
    if not samples:
        return []
    last = _total_grad_norm(samples[-1])
    if last is not None and not math.isfinite(last):
        return [make("exploding_gradients", f"the gradient norm is {last} at step {samples[-1]['step']}",
                     evidence={"grad_norm": last})]
    first = _finite([_total_grad_norm(s) for s in samples[:BASELINE_SAMPLES]])
    recent = _finite([_total_grad_norm(s) for s in samples[-2:]])
    if len(samples) <= BASELINE_SAMPLES or len(first) < BASELINE_SAMPLES or not recent:
        return []
    base, now = statistics.median(first), statistics.median(recent)
    if base <= 0 or now <= GRAD_GROWTH * base:
        return []
    window = _window(samples)
    if _falling(window) or _falling_where_grown(window, samples[-2:]):
        return []                   # gradients grow as a net leaves a flat start: healthy if the loss falls
    initial = ctx.get("initial_loss")
    spiked = any(v > initial for v in _finite([s["loss"] for s in window])) if initial else True
    if _decay_per_step(window) >= STRONG_DECAY and not spiked:
        return []                   # weights a strong decay collapsed regrow: `underfitting` names the decay
    return [make("exploding_gradients", f"the gradient norm grew from {base:.3g} to {now:.3g} "
                 f"({now / base:.0f}x)", evidence={"first": base, "now": now, "ratio": now / base})]


def _total_grad_norm(sample):
    norms = sample.get("grad_norm")
    return math.sqrt(sum(v * v for v in norms.values())) if norms else None


def update_ratio_high(samples, history, ctx) -> list[Finding]:
    window = _window(samples)
    if len(window) < RATIO_SAMPLES or ctx.get("second_order"):
        return []
    values = _by_layer(window, "update_ratio")
    ratios = {n: statistics.median(vs) for n, vs in values.items()}
    peaks = {n: max(vs) for n, vs in values.items()}
    lr = window[-1]["lr"]
    replaced = max(peaks, key=peaks.get, default=None)
    if replaced is not None and peaks[replaced] > STEP_REPLACES:
        # one step moved a layer farther than its own norm: the update overwrites the weights
        step = next(s["step"] for s in window if s.get("update_ratio", {}).get(replaced) == peaks[replaced])
        return [make("update_ratio_high",
                     f"one step (step {step}) changed {replaced} by {peaks[replaced]:.2g}x its norm: the update "
                     f"overwrites the layer (about 1e-3 of its norm is healthy)",
                     evidence={"update_ratio": ratios, "peak": peaks[replaced], "peak_step": step, "lr": lr},
                     where=replaced.rsplit(".", 1)[0],
                     fix=_lower_lr_fix(lr, peaks[replaced]))]
    # lr x weight_decay is the share of its norm the decay alone takes off a layer each step; the
    # rest of the update (at least ratio - decay) is the gradient's. Only that counts here: weights
    # that shrink under a strong decay are `underfitting`'s, which names the decay.
    beyond = _by_layer(window, "update_ratio", less=_decay)
    high = {n: ratios[n] for n, vs in beyond.items() if statistics.median(vs) > RATIO_HIGH}
    if not high:
        return []
    where = max(high, key=high.get)
    if high[where] <= EXTREME_RATIO and (_falling(window) or _converged(window, ctx)):
        return []                   # large steps that still lower the loss, or a loss near zero
    return [make("update_ratio_high",
                 f"each step changes {where} by {high[where]:.2g} of its norm (median over {len(window)} samples; "
                 f"about 1e-3 is healthy)", evidence={"update_ratio": ratios, "lr": lr}, where=where.rsplit(".", 1)[0],
                 fix=_lower_lr_fix(lr, high[where]))]


def _decay(sample) -> float:
    """lr x weight_decay: the fraction of its norm the decay alone takes off a layer in one step."""
    return (sample.get("lr") or 0.0) * (sample.get("weight_decay") or 0.0)


def _decay_per_step(window) -> float:
    """The largest ``_decay`` in the window (a schedule's annealed tail does not hide the decay)."""
    return max((_decay(s) for s in window), default=0.0)


def _lower_lr_fix(lr, ratio):
    return f"lower lr from {lr:.3g} to about {lr / min(ratio / HEALTHY_RATIO, MAX_FACTOR):.3g}" if lr else None


def _falling(window) -> bool:
    """The sampled loss's second half is clearly below its first half (medians)."""
    losses = _finite([s["loss"] for s in window])
    half = len(losses) // 2
    return half >= 1 and statistics.median(losses[half:]) < FALLING * statistics.median(losses[:half])


def _falling_where_grown(window, recent) -> bool:
    """The loss at the ``recent`` samples (where a grown gradient norm is read) is clearly below the
    window's first half (medians, ``FALLING``): a net leaving a plateau, whose gradient grows as its
    loss starts to fall, before the window's medians show the fall (an LSTM's norm 10x its first at
    step 37 of a healthy run, its loss 1.10 -> 0.92 over the last two samples; clipping it there cost
    2 points). A gradient that explodes raises the loss where it is large."""
    losses = _finite([s["loss"] for s in window])
    now = _finite([s["loss"] for s in recent])
    half = len(losses) // 2
    return half >= 1 and bool(now) and statistics.median(now) < FALLING * statistics.median(losses[:half])


def _converged(window, ctx) -> bool:
    """The sampled loss is already below 10% of the initial loss."""
    initial, losses = ctx.get("initial_loss"), _finite([s["loss"] for s in window])
    return bool(initial and losses and statistics.median(losses) < CONVERGED * initial)


def update_ratio_low(samples, history, ctx) -> list[Finding]:
    window = _window(samples)
    if len(window) < RATIO_SAMPLES or ctx.get("second_order"):
        return []
    lr, max_lr = window[-1]["lr"], ctx.get("max_lr") or window[-1]["lr"]
    if lr and max_lr and lr < ANNEALING * max_lr:
        return []                   # a schedule is annealing the lr on purpose
    losses = _finite([s["loss"] for s in window])
    initial = ctx.get("initial_loss")
    if initial and losses and statistics.median(losses) < CONVERGED * initial:
        return []                   # a converged model's steps are small: its gradient vanishes at the minimum
    ratios = _median_by_layer(window, "update_ratio")
    low = {n: r for n, r in ratios.items() if r < RATIO_LOW}
    if not low:
        return []
    where = min(low, key=low.get)
    return [make("update_ratio_low",
                 f"each step changes {where} by only {low[where]:.2g} of its norm (median over {len(window)} "
                 f"samples; about 1e-3 is healthy)", evidence={"update_ratio": ratios, "lr": lr},
                 where=where.rsplit(".", 1)[0],
                 fix=(f"raise lr from {lr:.3g} toward "
                      f"{lr * min(HEALTHY_RATIO / max(low[where], 1e-12), MAX_FACTOR):.3g}, or check this layer's "
                      f"gradients") if lr else None)]


# ------------------------------------------------------------------------- generalization rules
def _overfit_signs(history):
    """(hit, description, gap, val_loss / its best) for the last epoch of ``history``."""
    last = history[-1]
    vals = _finite([h.get("val_loss") for h in history])
    if last.get("val_loss") is None or not vals or not math.isfinite(last["val_loss"]):
        return False, "", None, None
    val_rise = last["val_loss"] / max(min(vals), 1e-12)
    if last.get("train_acc") is not None and last.get("val_acc") is not None:
        gap = last["train_acc"] - last["val_acc"]
        memorized = last["train_acc"] >= MEMORIZED
        hit = (gap > GAP_HIGH and val_rise >= VAL_RISE) or gap > GAP_SEVERE or (memorized and gap >= GAP_HIGH - 1e-6)
        what = f"train accuracy {last['train_acc']:.3f} vs validation {last['val_acc']:.3f} (gap {gap:.3f})"
    else:
        gap = last["val_loss"] - last["train_loss"]
        hit = val_rise >= REGRESSION_VAL_RISE and last["train_loss"] < REGRESSION_GAP * last["val_loss"]
        what = f"train loss {last['train_loss']:.4g} vs validation {last['val_loss']:.4g}"
    return hit, what, gap, val_rise


def overfitting(samples, history, ctx) -> list[Finding]:
    """A large train/val gap on two consecutive epochs (one noisy validation epoch is not enough)."""
    if len(history) < 3:
        return []
    hit, what, gap, val_rise = _overfit_signs(history)
    if not hit or not _overfit_signs(history[:-1])[0]:
        return []
    return [make("overfitting", f"the model fits the training set much better than validation: {what}; "
                 f"validation loss is {val_rise:.2f}x its best", evidence={"gap": gap, "val_loss_vs_best": val_rise,
                                                                          "epoch": history[-1].get("epoch")})]


def underfitting(samples, history, ctx) -> list[Finding]:
    # under a strong decay (lr x weight_decay >= 1e-2) a low accuracy after two epochs is enough:
    # the decay is measured, and a slowly falling loss would not stall before a short run ends
    decay = _decay_per_step(_window(samples))
    strong = decay >= STRONG_DECAY
    if len(history) < (DECAY_EPOCHS if strong else 3):
        return []
    stalled = strong or bool(plateau(samples, history, ctx)) or _stalled(history)
    if not stalled and not ctx.get("final"):
        return []
    last = history[-1]
    acc = last.get("train_acc")
    if acc is not None:
        gap = acc - last["val_acc"] if last.get("val_acc") is not None else 0.0
        if acc >= UNDERFIT_ACC or gap >= UNDERFIT_GAP:
            return []
        what = f"train accuracy is only {acc:.3f}" + (f" with no gap to validation ({gap:+.3f})" if last.get("val_acc") is not None else "")
    else:
        initial = ctx.get("initial_loss")
        loss = last.get("train_loss")
        if not initial or loss is None or loss <= UNDERFIT_LOSS * initial:
            return []
        gap = None
        what = f"train loss is still {loss / initial:.0%} of the initial"
    evidence = {"train_acc": acc, "gap": gap, "epochs": len(history)}
    if strong:                       # the decay pulls the weights to zero faster than the data moves them
        wd = samples[-1].get("weight_decay") or 0.0
        return [make("underfitting", f"the model underfits: {what} after {len(history)} epochs, while weight "
                     f"decay {wd:.3g} takes up to {decay:.2g} of the weights' norm off every step (lr x "
                     f"weight_decay; about 1e-3 is a healthy whole update)",
                     evidence={**evidence, "decay_per_step": decay, "cause": "weight_decay"},
                     fix=f"lower weight_decay from {wd:.3g} to about {wd / DECAY_CUT:.3g}")]
    if not stalled:     # the run ended while the loss still falls: too short, not broken
        return [make("underfitting", f"training ended while the loss was still falling: {what} after "
                     f"{len(history)} epochs", evidence=evidence,
                     severity="info", fix="train longer (more epochs) or with a higher lr")]
    return [make("underfitting", f"the model underfits: {what} after {len(history)} epochs", evidence=evidence)]


def _stalled(history) -> bool:
    losses = _finite(_epoch_losses(history))
    if len(losses) < 3:
        return False
    return (losses[-3] - losses[-1]) / max(abs(losses[-3]), 1e-12) < STALLED


# Every in-training code's rule: the function named after it, in the registry's order.
RULES = {code: globals()[code] for code, spec in CODES.items() if spec.runs is not None}


def evaluate(samples, history, ctx, *, rules=None) -> list[Finding]:
    """Run every rule (or those named in ``rules``) and concatenate their findings."""
    out = []
    for name, rule in RULES.items():
        if rules is None or name in rules:
            out.extend(rule(samples, history, ctx))
    return out
