""""Make sure that you can overfit a very small portion of the training data" (notes 004): a
short full-batch run of the user's setup on a few rows, against a reference optimizer before
the model is blamed, and what its loss and accuracy say together.
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn

from trainwell.babysit.budget import Budget
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.loss_kinds import CLASS_ID_KINDS
from trainwell.babysit.probe_steps import make_optimizer, take_step
from trainwell.babysit.rules import DIVERGENCE_FACTOR
from trainwell.babysit.task_shapes import class_axis, position_rows
from trainwell.nn.losses import one_score_hits
from trainwell.optim.schedules import group_lrs

OVERFIT_STEPS = 200       # full-batch steps with the user's optimizer (notes 004 log: 200 epochs)
REFERENCE_STEPS = 300     # Adam lr=1e-3 (notes 004: "a great starting point") before blaming the model
MEMORIZED_ACC = 0.9       # a subset is memorized once its accuracy covered 90% of the way from guessing its commonest
                          # class to 100% (75/25 classes: 97.5%; an imbalanced subset at 90% has not memorized)
LEARNED_ACC = 0.5         # ... or, where REFERENCE_STEPS end short of that, half of the way: rows learnt that far
                          # have taught the model what carries over first (Arpit et al. 2017: real patterns are
                          # learnt before noise), so unseen rows at chance still say the labels are not the rows'
REGRESSION_FIT = 0.05     # cannot_overfit_small_subset: a regression subset is fitted at 5% of its first loss
BARELY_MOVED = 0.1        # the overfit run moved its loss < 10%: the lr is too low
STALL_SHARE = 0.1         # cannot_overfit_small_subset: a run whose loss still fell >= BARELY_MOVED over its last
                          # 10% of steps has not stalled: it trains on to 2x the steps before the verdict
WRONG_WAY = 0.5           # loss_output_mismatch: minimizing the loss left the memorized rows' accuracy below
                          # half of what guessing the commonest class scores (a loss that rewards the wrong class)
LOSS_SPENT = 0.01         # ... or the loss fell to 1% of its first value while the rows' accuracy stayed short of
                          # LEARNED_ACC: a cross-entropy from ln C (C < 32) at 1% on OVERFIT_ROWS rows leaves each
                          # row's loss below ln 2, its right class above 1/2: every row right (a loss blind to the classes)


def _accuracy(out, y, kind):
    if kind in CLASS_ID_KINDS or (kind == "other" and not torch.is_floating_point(y)):
        if torch.is_floating_point(y):
            return None
        if out.ndim == y.ndim or (out.ndim == y.ndim + 1 and out.shape[-1] == 1):
            return _one_score_accuracy(out.reshape(y.shape), y)
        axis = class_axis(out, y)       # ids per position: the positions with a class, padding left out
        if axis is not None:
            scores, ids = position_rows(out, y, axis)
            return (scores.argmax(dim=-1) == ids).float().mean() if ids.numel() else None
        return (out.argmax(dim=-1) == y).float().mean()
    if kind in ("bce", "bce_prob"):
        o = out.squeeze(-1) if out.ndim == y.ndim + 1 else out
        threshold = 0.5 if kind == "bce_prob" else 0.0
        return ((o > threshold) == (y > 0.5)).float().mean()
    if kind in ("kl_div", "kl_div_logprob"):
        return (out.argmax(dim=-1) == y.argmax(dim=-1)).float().mean()
    return None


def _one_score_accuracy(score, y):
    """One score per row against class ids: a binary classifier (a user's own loss on a sigmoid's
    probability or on a logit; ``one_score_hits``). Ids other than 0 and 1 have no such reading: None."""
    if not bool(((y == 0) | (y == 1)).all()):
        return None
    return one_score_hits(score, y).float() / y.numel()


def disable_regularization(model):
    for m in model.modules():
        if isinstance(m, nn.modules.dropout._DropoutNd) or isinstance(m, nn.AlphaDropout):
            m.p = 0.0


def short_run(model, x, y, loss_fn, kind, optimizer_spec, lr, steps, options=None, *, stop_early=True,
               budget: Budget | None = None, target_acc: float = 1.0) -> dict:
    """Full-batch steps; stops at ``target_acc`` accuracy / 5% of the initial loss (with
    ``stop_early``) or a non-finite loss, or once ``budget`` is spent (``"cut"``: each step is
    charged to it). Each group steps at lr · its lr_mult, as the trainer's first step would."""
    opt = make_optimizer(optimizer_spec, model, lr=lr, weight_decay=0.0, total_steps=steps, **(options or {}))
    for group, group_lr in zip(opt.param_groups, group_lrs([lr] * len(opt.param_groups), opt.param_groups, None, 0)):
        group["lr"] = group_lr
    model.train()
    first = first_acc = None
    cut = False
    trace = []
    passes = []                        # (loss, output) of each closure call in this step

    def closure(backward: bool = True):   # the trainer's protocol (backward=False: Newton)
        out = model(x)
        loss = loss_fn(out, y)
        if backward:
            opt.zero_grad(set_to_none=True)
            loss.backward()
        passes.append((loss.detach(), out.detach()))
        return loss

    for step in range(1, steps + 1):
        if budget is not None and step > 1 and (budget.spent_out() or budget.wall_out()):
            steps = step - 1
            cut = True
            break                      # the budget is spent, or the doctor's backstop passed: what ran is the answer
        if budget is not None:
            budget.steps(1, x.shape[0])
        passes.clear()
        take_step(opt, closure)
        loss, out = passes[0]          # the first pass: at the weights the step started from
        if step == 1 or step % 10 == 0 or step == steps:
            acc = _accuracy(out, y, kind)
            values = torch.stack([loss.float(), acc if acc is not None else torch.zeros(())]).tolist()
            value = values[0]
            trace.append(value)
            if first is None:
                first, first_acc = value, (values[1] if acc is not None else None)
            if not math.isfinite(value):
                return {"first": first, "last": value, "acc": None, "steps": step, "trace": trace, "ok": False,
                        "first_acc": first_acc}
            ok = (values[1] >= target_acc) if acc is not None else (value <= REGRESSION_FIT * first)
            if ok and stop_early:
                return {"first": first, "last": value, "acc": values[1] if acc is not None else None,
                        "steps": step, "trace": trace, "ok": True, "first_acc": first_acc}
    return {"first": first, "last": trace[-1], "acc": values[1] if acc is not None else None,
            "steps": steps, "trace": trace, "ok": False, "cut": cut, "first_acc": first_acc}


def check_overfit(model, x, y, loss_fn, kind, optimizer_spec, lr, options=None, *,
                  budget: Budget | None = None) -> list[Finding] | None:
    """Notes 004: overfit ~20 examples with regularization off. A failure with the user's optimizer
    (with the run's ``options``: build_optimizer's keywords) is re-run with Adam lr=1e-3: if that
    succeeds the learning rate is to blame, not the model. When neither memorizes them but the user's
    run was ``still_falling`` at its end, it runs again to twice the steps before the model is blamed.
    None: a run was cut by ``budget``
    before it could decide (the caller reports the check as skipped)."""
    start = copy.deepcopy(model)
    disable_regularization(start)
    user = short_run(copy.deepcopy(start), x, y, loss_fn, kind, optimizer_spec, lr, OVERFIT_STEPS, options,
                      budget=budget)
    if user["ok"]:
        return []
    if user.get("cut"):
        return None
    ref = short_run(copy.deepcopy(start), x, y, loss_fn, kind, "adam", 1e-3, REFERENCE_STEPS, budget=budget)
    if ref.get("cut"):
        return None
    evidence = {"rows": int(x.shape[0]), "lr": lr, "user_run": user, "reference_adam_1e-3": ref}
    against = loss_against_accuracy(user, ref, y) or loss_apart_from_accuracy(user, ref, y)
    if against:
        return against
    if ref["ok"]:
        first, last = user["first"], user["last"]
        diverged = DIVERGENCE_FACTOR * first          # notes 004: > 3x the original cost
        # a ratio to the first loss reads only above zero (a user's loss may start below it)
        if not math.isfinite(last) or (first > 0 and (last > diverged or max(user["trace"]) > diverged)):
            return [make("lr_too_high",
                         f"overfitting {x.shape[0]} examples with lr={lr:g} diverged (loss {first:.4g} -> "
                         f"{last:.4g}" + (f", peak {max(user['trace']):.4g} against {diverged:.4g}, "
                                          f"{DIVERGENCE_FACTOR:g}x the first" if math.isfinite(last) else "")
                         + f") while Adam lr=1e-3 memorizes them in {ref['steps']} steps",
                         evidence=evidence, fix=f"lower lr from {lr:g} to about {lr / 10:g}")]
        if first > 0 and (first - last) / first < BARELY_MOVED:
            return [make("lr_too_low",
                         f"overfitting {x.shape[0]} examples with lr={lr:g} barely moved the loss "
                         f"({first:.4g} -> {last:.4g} in {user['steps']} steps) while Adam lr=1e-3 "
                         f"memorizes them in {ref['steps']} steps", evidence=evidence,
                         fix=f"raise lr from {lr:g} to about {lr * 10:g}")]
        return []
    # regression: the reference's loss is what a capable model reaches in its steps; a user run that
    # moved and ends at or below it (a ratio of losses on the same rows: scale-free) is no failure.
    # So for ids per position (task_shapes.py): 20 images hold thousands of pixels, which weights
    # shared over the positions (a convolution) need not all get right to have learnt the rows
    per_position = not torch.is_floating_point(y) and y.ndim >= 2
    moved = user["first"] > 0 and (user["first"] - user["last"]) / user["first"] >= BARELY_MOVED
    if (user["acc"] is None or per_position) and moved and user["last"] <= ref["last"]:
        return []
    if still_falling(user):
        # a loss still falling steeply at the end is a slow memorization, not a failed one (a CNN that
        # sits on a plateau for its first 100 steps, then memorizes 19 of 20 rows by step 200 and all within
        # 400): the user's run again, to twice the steps, decides
        longer = short_run(copy.deepcopy(start), x, y, loss_fn, kind, optimizer_spec, lr, 2 * OVERFIT_STEPS,
                            options, budget=budget)
        if longer["ok"]:
            return []
        if longer.get("cut"):
            return None
        user = evidence["user_run"] = longer
    return [make("cannot_overfit_small_subset",
                 f"the model cannot memorize {x.shape[0]} training examples with regularization off "
                 f"(loss {user['first']:.4g} -> {user['last']:.4g}, accuracy {user['acc']}; Adam lr=1e-3: "
                 f"{ref['first']:.4g} -> {ref['last']:.4g}, accuracy {ref['acc']})", evidence=evidence)]


def still_falling(run: dict) -> bool:
    """The overfit run (``short_run``'s record, a loss every 10 steps) had not stalled at its end: its
    loss fell by at least ``BARELY_MOVED`` of its value over its last ``STALL_SHARE`` of the steps
    (at least the last 10), and is finite and above zero."""
    trace, steps = run["trace"], run["steps"]
    back = max(1, round(STALL_SHARE * steps / 10))       # the trace holds a loss every 10 steps
    if len(trace) <= back or not all(math.isfinite(v) and v > 0 for v in trace[-back - 1:]):
        return False
    return trace[-1] <= (1 - BARELY_MOVED) * trace[-back - 1]


def loss_against_accuracy(user: dict, ref: dict, y) -> list[Finding]:
    """A loss whose minimizing lowers the accuracy: on the rows it trains on, both overfit runs (the
    user's optimizer and Adam lr=1e-3) lowered the loss by at least ``BARELY_MOVED`` of its size
    while the accuracy fell from its start to below ``WRONG_WAY`` x the commonest class's share
    (what guessing that one class scores). A loss that rewards the right class cannot end below a
    constant guess on the rows it is minimized on; one that rewards the wrong outputs does, and with
    nothing to stop it falls without bound (a log-likelihood to maximize passed without its minus
    sign goes below zero and keeps falling). A user's run that ended non-finite is left to the
    reference."""
    runs = (user, ref) if math.isfinite(user["last"]) else (ref,)
    if any(r.get("acc") is None or r.get("first_acc") is None or not math.isfinite(r["last"]) for r in runs):
        return []
    ids = _class_ids(y)
    if ids is None:
        return []
    floor = WRONG_WAY * float(torch.bincount(ids).max()) / ids.numel()
    for r in runs:
        if r["first"] - r["last"] < BARELY_MOVED * abs(r["first"]) or not r["acc"] < min(r["first_acc"], floor):
            return []
    below = min(r["last"] for r in runs) < 0 and all(len(r["trace"]) > 1 and r["trace"][-1] < r["trace"][-2]
                                                        for r in runs)
    return [make("loss_output_mismatch",
                 f"minimizing the loss lowers the accuracy on the rows it trains on: with Adam lr=1e-3 the loss "
                 f"went {ref['first']:.4g} -> {ref['last']:.4g} while the accuracy fell {ref['first_acc']:.2f} -> "
                 f"{ref['acc']:.2f} (guessing the commonest class scores {floor / WRONG_WAY:.2f}; the run's own "
                 f"optimizer: loss {user['first']:.4g} -> {user['last']:.4g})"
                 + ("; the loss is below zero and still falling" if below else "")
                 + ": it rewards the wrong outputs (a log-likelihood to maximize passed as the loss without "
                   "its minus sign, a score with the wrong sign)",
                 evidence={"user_run": user, "reference_adam_1e-3": ref, "accuracy_floor": floor, "loss": "other",
                           "below_zero": below},
                 fix="negate the loss (fit minimizes it): -log_probs.gather(1, y).mean(), or F.nll_loss / "
                     "F.cross_entropy")]


def _class_ids(y) -> torch.Tensor | None:
    """The class ids of an overfit subset's targets (ignore_index rows dropped; float 0/1 targets as
    ids); None when they are not class ids or none is left."""
    ids = y.detach().flatten().cpu()
    if torch.is_floating_point(ids):    # binary targets as floats (BCE): the classes are 0 and 1
        if not bool(((ids == 0) | (ids == 1)).all()):
            return None
        ids = ids.long()
    ids = ids[ids >= 0]                 # ignore_index rows (-100) are no class
    return ids if ids.numel() else None


def loss_apart_from_accuracy(user: dict, ref: dict, y) -> list[Finding]:
    """A loss minimized without the accuracy: in both overfit runs (the user's optimizer unless it
    blew up, and Adam lr=1e-3) the loss fell from above zero to at most ``LOSS_SPENT`` of its first
    value (of ln C where it started above that: a uniform guess's cross-entropy) while the subset's accuracy ended short of ``learned_target`` (half of the way from guessing
    the commonest class to every row right). A loss that scores the class the outputs rank first
    cannot be spent so far on rows it leaves wrong (a cross-entropy at 1% of ln C on 20 rows has every
    row's right class above 1/2); one that reads each output apart can: ``-log sigmoid(out[y])`` (the
    cross-entropy of softmax's rows with sigmoid's probabilities) is minimized by raising the right
    output alone, and nothing pushes the others below it."""
    runs = (user, ref) if math.isfinite(user["last"]) else (ref,)
    if any(r.get("acc") is None or not math.isfinite(r["last"]) for r in runs):
        return []
    ids = _class_ids(y)
    if ids is None:
        return []
    target = learned_target(ids)
    # the bound holds for a loss that starts near a uniform guess's ln C; one that starts far above it
    # (an init that explodes the logits) is spent to 1% of ln C, not of its own start
    uniform = math.log(max(2, int(ids.max()) + 1))
    for r in runs:
        if not (r["first"] > 0 and 0 <= r["last"] <= LOSS_SPENT * min(r["first"], uniform) and r["acc"] < target):
            return []
    return [make("loss_output_mismatch",
                 f"the loss is minimized without the accuracy on the rows it trains on: with Adam lr=1e-3 it went "
                 f"{ref['first']:.4g} -> {ref['last']:.4g} (at most {LOSS_SPENT:.0%} of its start) while the accuracy "
                 f"ended at {ref['acc']:.2f}, short of {target:.2f} (the run's own optimizer: loss {user['first']:.4g} "
                 f"-> {user['last']:.4g}, accuracy {user['acc']:.2f}): the loss does not score the class the outputs "
                 f"rank first (each output's probability read apart, as sigmoid's inside a softmax cross-entropy, so "
                 f"nothing pushes the wrong classes down; or outputs that are not class scores)",
                 evidence={"user_run": user, "reference_adam_1e-3": ref, "accuracy_target": target,
                           "loss_spent": LOSS_SPENT, "loss": "other"},
                 fix="score the classes together: F.cross_entropy on raw logits (its softmax pushes the other "
                     "classes down), or BCE-with-logits on one-hot targets for labels that are not exclusive")]


def memorized_target(y) -> float:
    """The accuracy at which rows with class ids ``y`` count as memorized: ``MEMORIZED_ACC`` of the
    way from the commonest class's share (what guessing it scores) to 1."""
    commonest = float(torch.bincount(y.cpu()).max()) / max(1, y.numel())
    return commonest + MEMORIZED_ACC * (1.0 - commonest)


def learned_target(y) -> float:
    """The accuracy at which ``check_labels_learnable`` judges a memorization run that ended short of
    ``memorized_target``: ``LEARNED_ACC`` of the way from the commonest class's share to 1. Labels that
    belong to their rows are learnt pattern first and carry over from the first rows learnt; labels
    apart from their rows are fitted one row at a time and take far longer (Zhang et al. 2017), so a
    run at the reference steps often ends between the two targets on exactly those labels."""
    commonest = float(torch.bincount(y.cpu()).max()) / max(1, y.numel())
    return commonest + LEARNED_ACC * (1.0 - commonest)
