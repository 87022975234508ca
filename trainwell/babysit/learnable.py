"""Whether the labels can be learnt at all (notes 004's sanity check turned into an experiment):
memorize a subset of the rows and score rows it never saw against chance; multi-hot labels
alike.
"""
from __future__ import annotations

import copy
import math

import torch

from trainwell.babysit.budget import Budget
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.loss_kinds import CLASS_ID_KINDS
from trainwell.babysit.overfit import (MEMORIZED_ACC, REFERENCE_STEPS, disable_regularization, learned_target,
                                       memorized_target, short_run)
from trainwell.babysit.target_relation import memorize_split
from trainwell.babysit.task_shapes import multi_hot

MEMORIZE_ROWS = 128       # label_problem (unlearnable labels): memorize this many rows ...
UNSEEN_ROWS = 384         # ... and score up to this many unseen ones,
MIN_UNSEEN_ROWS = 128     # ... at least this many (3 binomial sigmas of chance 0.5 on 128 rows: +-0.13)
CHANCE_SIGMAS = 3.0       # ... unseen accuracy within 3 binomial sigmas of chance (sum_k p_k q_k: the
                          # predictions' agreement with the labels were they independent, Cohen 1960)


def can_beat_chance(y_unseen: torch.Tensor) -> bool:
    """Whether ``check_labels_learnable`` can tell learnt labels from chance on these unseen labels:
    a model that predicts every row right scores 1 against a chance of sum_k p_k^2 (its predicted
    shares are the labels' own), and 1 must lie beyond chance by ``CHANCE_SIGMAS`` binomial standard
    deviations. Where it does not (one class holds ~99% of the rows: chance 0.98, and 3 sigmas on
    384 rows are 0.02) no accuracy the model reaches is evidence, so the test says nothing."""
    ids = y_unseen[y_unseen >= 0].cpu()         # an ignore_index row (-100) is no class
    if ids.numel() == 0:
        return False
    shares = torch.bincount(ids).double() / ids.numel()
    chance = float((shares * shares).sum())
    return 1.0 > chance + CHANCE_SIGMAS * math.sqrt(chance * (1 - chance) / ids.numel())


def check_labels_learnable(model, X, y, loss_fn, kind, *, gen, budget: Budget | None = None) -> list[Finding]:
    """Labels that don't belong to their rows: memorize ``MEMORIZE_ROWS`` training rows (a copy
    of the model at PyTorch's default init, Adam lr 1e-3, regularization off, notes 004's
    reference optimizer) and score rows it never saw. Real
    labels carry over (digits: ~80% after memorizing 256 rows); labels shuffled against their rows
    leave the unseen rows at chance. The finding needs the subset memorized (its accuracy at least
    ``MEMORIZED_ACC`` of the way from its commonest class's share to 1: ``memorized_target``; or, where
    ``REFERENCE_STEPS`` end short of it, ``LEARNED_ACC`` of the way: ``learned_target``) and
    the unseen accuracy (on up to ``UNSEEN_ROWS`` rows, at least ``MIN_UNSEEN_ROWS``: a small set
    scores what it has) within ``CHANCE_SIGMAS`` binomial standard deviations of chance: what its
    predictions would score were they independent of the labels, sum_k p_k q_k over the unseen
    rows' class shares p and predicted shares q (Cohen's kappa's chance agreement; a model that
    always guesses the commonest class scores its share, one that memorized labels apart from
    their rows predicts the other classes too and scores less: 75/25 classes predicted 80/20
    score 0.65 by chance, not 0.75), and the mean recall over the classes within as many standard
    errors of its own chance (``recalls_beyond_chance``: on imbalanced classes the accuracy cannot
    show a minority learnt)."""
    if kind not in CLASS_ID_KINDS or torch.is_floating_point(y) or y.ndim != 1:
        return []
    n = X.shape[0]
    # a small set scores the rows it has beyond the memorized
    split = memorize_split(n, gen, memorize=MEMORIZE_ROWS, unseen_rows=UNSEEN_ROWS, min_unseen=MIN_UNSEEN_ROWS)
    if split is None:
        return []
    fit, unseen = split
    held = len(unseen)
    device = next((p.device for p in model.parameters()), X.device)
    if not can_beat_chance(y[unseen]):      # a 99:1 task: even a perfect model reads as chance
        return []
    start = copy.deepcopy(model)
    for m in start.modules():       # the labels are judged, not the init: PyTorch's default init
        if hasattr(m, "reset_parameters"):   # (a huge init memorizes without generalizing)
            m.reset_parameters()
    disable_regularization(start)
    xf, yf = X[fit].to(device), y[fit].to(device)
    target = memorized_target(y[fit])
    run = short_run(start, xf, yf, loss_fn, kind, "adam", 1e-3, REFERENCE_STEPS, budget=budget,
                     target_acc=target)       # memorized enough to judge: no need to reach 100%
    if run["acc"] is None or run["acc"] < learned_target(y[fit]):
        return []
    yu = y[unseen].to(device)
    # batch norm on the scored rows' own statistics: a short memorization run leaves its running
    # statistics unsettled (dropout is off); where that training-mode forward is at chance, the
    # eval-mode one too (a forward that does something random in training, a flip or a shuffle of
    # the user's own, scores its own randomness there): labels carry over in either mode or they
    # do not belong to their rows
    scored = []
    for mode in (True, False):
        start.train(mode)
        with torch.no_grad():
            predicted = start(X[unseen].to(device)).argmax(dim=-1)
        scored.append(_carried_over(predicted, yu))
        if scored[-1][0] > scored[-1][1] + scored[-1][2] or recalls_beyond_chance(predicted, yu):
            return []
    (acc, chance, margin), (eval_acc, eval_chance, _) = scored
    return [make("label_problem",
                 f"the model {'memorizes' if run['acc'] >= target else 'learns'} {MEMORIZE_ROWS} training rows "
                 f"(accuracy {run['acc']:.2f} after {run['steps']} steps) but scores "
                 f"{acc:.2f} on {held} rows it did not see, no better than its predictions score by chance "
                 f"({chance:.2f}, were they independent of the labels): the labels do not belong to their rows",
                 evidence={"memorized_acc": run["acc"], "memorized_target": target, "unseen_acc": acc,
                           "chance": chance, "margin": margin, "unseen_acc_eval": eval_acc,
                           "chance_eval": eval_chance, "rows": MEMORIZE_ROWS, "unseen_rows": held},
                 severity="warning",
                 fix="check that inputs and labels are aligned (the same row order after any shuffle, join or "
                     "split) and that the label column is the right one")]


def _carried_over(predicted: torch.Tensor, labels: torch.Tensor) -> tuple[float, float, float]:
    """The accuracy of ``predicted`` class ids on ``labels``, what they score by chance were they
    independent of the labels (sum_k p_k q_k over the labels' shares p and the predictions' q), and
    ``CHANCE_SIGMAS`` binomial standard deviations of that chance on these rows."""
    held = labels.numel()
    acc = float((predicted == labels).float().mean())
    classes = max(int(labels.max()), int(predicted.max())) + 1
    shares = torch.bincount(labels.cpu(), minlength=classes).double() / held
    chance = float((shares * torch.bincount(predicted.cpu(), minlength=classes).double() / held).sum())
    return acc, chance, CHANCE_SIGMAS * math.sqrt(chance * (1 - chance) / held)


def recalls_beyond_chance(predicted: torch.Tensor, labels: torch.Tensor) -> bool:
    """Whether the mean recall over the labels' classes (balanced accuracy) lies beyond what
    predictions independent of the labels score by ``CHANCE_SIGMAS`` standard errors: there each
    class's recall is the predictions' share q_k of that class, with variance q_k (1 - q_k) / n_k on
    its n_k rows. On imbalanced classes the accuracy barely moves when the minority is learnt (90 /
    10 classes: a model that finds 40 % of the minority scores 0.92 against a chance of 0.90, inside
    3 standard errors on 384 rows), while its recall moves from 0.05 to 0.40 (Brodersen et al. 2010,
    "The balanced accuracy and its posterior distribution")."""
    labels, predicted = labels.cpu(), predicted.cpu()
    classes = max(int(labels.max()), int(predicted.max())) + 1
    counts = torch.bincount(labels, minlength=classes).double()
    present = counts > 0
    q = torch.bincount(predicted, minlength=classes).double() / predicted.numel()
    hits = torch.bincount(labels[predicted == labels], minlength=classes).double()
    recall = (hits[present] / counts[present]).mean()
    chance = q[present].mean()
    sd = torch.sqrt((q[present] * (1 - q[present]) / counts[present]).sum()) / int(present.sum())
    return bool(recall > chance + CHANCE_SIGMAS * sd)


def chance_and_margin(p: torch.Tensor, q: torch.Tensor, rows: int) -> tuple[float, float, float]:
    """The label accuracy that predictions independent of the labels score, per column
    c_j = p_j q_j + (1 - p_j)(1 - q_j) (shares p of ones among the labels, q among the predictions),
    averaged; its margin, ``CHANCE_SIGMAS`` standard errors of a row's accuracy over ``rows`` rows,
    with the row's labels taken as perfectly correlated (sd at most the mean of sqrt(c_j (1 - c_j)):
    the labels of a row are not independent, and this bound holds whatever their correlation); and
    their sum, the accuracy a model must beat."""
    c = p * q + (1 - p) * (1 - q)
    chance = float(c.mean())
    margin = CHANCE_SIGMAS * float(torch.sqrt(c * (1 - c)).mean()) / rows ** 0.5
    return chance, margin, chance + margin


def check_multi_hot_learnable(model, X, y, loss_fn, kind: str, *, gen,
                              budget: Budget | None = None) -> list[Finding]:
    """``check_labels_learnable`` for multi-hot rows: memorize ``MEMORIZE_ROWS`` rows (the
    model at PyTorch's default init, Adam lr 1e-3, regularization off) and score up to
    ``UNSEEN_ROWS`` rows it never saw, each label of each row right or wrong. Label sets that belong
    to their rows carry over; label sets shifted against their rows (a join one row off) leave the
    unseen rows at chance: per label column j with unseen share p_j of ones and predicted share q_j,
    p_j q_j + (1 - p_j)(1 - q_j), averaged over the columns, with ``chance_and_margin``'s margin.
    Not judged where a model right on every label would not beat chance by that margin (labels all
    but constant: the 99:1 case of ``can_beat_chance``), nor where the rows were not
    memorized (``MEMORIZED_ACC`` of the way from the commonest value's share to 1)."""
    if not multi_hot(y, kind):
        return []
    split = memorize_split(X.shape[0], gen, memorize=MEMORIZE_ROWS, unseen_rows=UNSEEN_ROWS,
                           min_unseen=MIN_UNSEEN_ROWS)
    if split is None:
        return []
    fit, unseen = split
    held = len(unseen)
    yu = y[unseen].cpu().double()
    p = yu.mean(dim=0)
    if 1.0 <= chance_and_margin(p, p, held)[2]:     # a model right on every label would not beat chance
        return []
    device = next((q.device for q in model.parameters()), X.device)
    start = copy.deepcopy(model)
    for m in start.modules():           # the labels are judged, not the init
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    disable_regularization(start)
    shares = y[fit].double().mean(dim=0)
    commonest = float(torch.maximum(shares, 1 - shares).mean())
    target = commonest + MEMORIZED_ACC * (1.0 - commonest)
    run = short_run(start, X[fit].to(device), y[fit].to(device), loss_fn, kind, "adam", 1e-3,
                     REFERENCE_STEPS, budget=budget, target_acc=target)
    if run["acc"] is None or run["acc"] < target:
        return []
    start.train()
    with torch.no_grad():
        out = start(X[unseen].to(device)).cpu().double()
    predicted = (out > (0.5 if kind == "bce_prob" else 0.0)).double().reshape(yu.shape)
    acc = float((predicted == yu).double().mean())           # the share of the unseen labels right
    chance, margin, _ = chance_and_margin(p, predicted.mean(dim=0), held)
    if acc > chance + margin:
        return []
    return [make("label_problem",
                 f"the model memorizes the label sets of {MEMORIZE_ROWS} training rows (labels right "
                 f"{run['acc']:.2f}) but gets {acc:.2f} of the labels right on {held} rows it did not see, no "
                 f"better than its predictions score by chance ({chance:.2f}, were they independent of the "
                 f"labels): the multi-hot rows do not belong to their inputs, or the inputs tell almost "
                 f"nothing about them (labels mostly noise)",
                 evidence={"memorized_acc": run["acc"], "memorized_target": target, "unseen_acc": acc,
                           "chance": chance, "margin": margin, "rows": MEMORIZE_ROWS, "unseen_rows": held,
                           "labels": int(y.shape[1])},
                 severity="warning",
                 fix="check that inputs and label rows are aligned (the same row order after any shuffle, join or "
                     "split) and that the label columns are the right ones")]
