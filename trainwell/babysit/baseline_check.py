"""A trained model below a simple baseline fitted on the same rows (``below_baseline``).

Every other check knows one kind of fault. Whatever the fault (a feature the forward drops, an
encoding, a loss or pipeline bug, a schedule that stops learning early), a network that ends
clearly worse than a logistic / ridge regression fitted on the very rows it trained on has
something wrong in its training: it can represent the linear model and was shown the same rows
(Karpathy 2019, "A Recipe for Training Neural Networks": "establish baselines ... verify that your
model beats a dumb baseline"; notes 002: sanity-check against what a simpler model reaches).

At the end of a babysat run (``fit`` with ``babysit`` on), on the rows the model trained on and
its validation rows, as the model sees them (after the run's preprocessing, the repairs' too):
``first_layer``'s linear probe (logistic / ridge regression on standardized features; its helpers,
not copies) is fitted on up to ``ROWS`` training rows and scored on up to ``VAL_ROWS`` validation
rows, the same rows the trained model is scored on. It fires when the model does worse than the
probe by at least the kill rule (``first_layer.MIN_DROP`` of accuracy, or ``first_layer.LOSS_RATIO``
of squared error with that excess also at least ``VARIANCE_DROP`` of the targets' variance: 3 points
of R^2, so that a ratio of two small errors on a near-perfect fit is no alarm) and the paired test
says so at ``first_layer.ALPHA`` split over the probes compared (class ids: McNemar's exact test on
the rows one gets right and the other wrong; regression: a one-sided Wilcoxon signed-rank test on
the squared errors): the rule ``first_layer.significant_drop`` applies to a drop of information.

The baseline is the plain one a network must beat: a linear model on its inputs (logistic /
ridge regression; a net whose first layer is linear, with enough units, represents it). Of
``first_layer``'s other probes, the nearest neighbours' vote is left out: on low-dimensional data
it nears the Bayes rate (Cover & Hart 1967: at most twice the Bayes error), a strong learner rather
than a floor, and healthy nets stopped after their epochs sit below it (set 5's arrows, glyphs and
torus, healthy sides: 0.84-0.87 against 0.91-0.99); the linear readout of random-convolution
features is a learned feature model of its own, comparable to a small CNN (set 7's radar maps,
healthy: 0.77 against 0.97).

A run that ends while its training loss still falls (by ``rules.STALLED`` or more over its last
``STALL_EPOCHS`` epochs, the test ``underfitting`` reads; or fewer epochs than that) and was not
stopped early is too short to judge, not broken, and is not judged: two epochs of a healthy MLP on
digits end 18 points below logistic regression, forty end above it.

A symptom: it names no setting and explains nothing; the run's other findings name causes. It
counts whatever the training accuracy: a net that overfits noise down below a linear model has
fitted the wrong thing as surely as one that never learned. Not judged (quiet): no validation
rows or fewer than ``VAL_MIN``, streamed inputs, non-finite inputs or outputs, outputs that are not
class scores or predictions of the targets (one score a row under a user's own loss, a loss other
than ``nn.losses.REGRESSION_LOSSES`` on float targets).
"""
from __future__ import annotations

import copy
import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import first_layer
from trainwell.babysit.rules import STALLED
from trainwell.babysit.findings import Finding, make
from trainwell.nn.losses import REGRESSION_LOSSES

ROWS = 2000         # training rows the probes are fitted on (cost: the probes' fit, once per run)
VAL_ROWS = 1000     # validation rows the model and the probes are scored on (paired)
VAL_MIN = 50        # fewer validation rows: too few to judge (the exact test needs ~11 discordant rows at 1e-3 / 3)
CHUNK = 512         # rows per forward of the trained model
PROBES = ("linear",)        # first_layer's probes used as baselines (see the module docstring)
STALL_EPOCHS = 3            # underfitting's window: the loss 3 epochs back against the last
VARIANCE_DROP = first_layer.MIN_DROP      # regression: 3 points of R^2 (the extra squared error / the targets' variance)


def _class_ids(y: torch.Tensor, loss) -> torch.Tensor | None:
    """The class id of each row for the losses whose outputs are class scores, None otherwise."""
    if loss == "bce":
        return (y.reshape(y.shape[0], -1)[:, 0] > 0.5).long() if y.numel() == y.shape[0] else None
    if torch.is_floating_point(y):
        return y.argmax(1) if y.ndim == 2 and loss in ("cross_entropy", "kl_div") else None
    return y.reshape(-1).long() if y.numel() == y.shape[0] else None


def _model_predictions(out: torch.Tensor, loss, class_ids: bool, y: torch.Tensor):
    """The model's class ids (class scores: the arg max; ``bce``: the logit's sign) or predicted
    targets on the rows of ``out``; None when its outputs are neither."""
    if class_ids:
        if loss == "bce":
            return (out.reshape(out.shape[0], -1)[:, 0] > 0).long() if out.numel() == out.shape[0] else None
        return out.argmax(1) if out.ndim == 2 and out.shape[1] > 1 else None
    return out.reshape(y.shape) if out.numel() == y.numel() else None


def model_outputs(model, X: torch.Tensor) -> torch.Tensor:
    """The model's outputs on ``X`` in eval mode, without gradients, ``CHUNK`` rows a forward (a
    copy: the run's model keeps its mode)."""
    work = copy.deepcopy(model).eval()
    device = next((p.device for p in work.parameters()), X.device)
    with torch.no_grad():
        return torch.cat([work(X[s:s + CHUNK].to(device)).float().cpu() for s in range(0, X.shape[0], CHUNK)])


def _features(X: torch.Tensor, fit: int, seed: int) -> dict:
    """The baselines' features of the rows ``X`` (``first_layer.probe_features``: flattened, standardized
    on the first ``fit`` rows, projected when wide): ``{probe: features}``."""
    gen = torch.Generator().manual_seed(seed)
    return {probe: first_layer.probe_features(X, fit, gen) for probe in PROBES}


def compare(X_fit, y_fit, X_val, y_val, model_pred, *, class_ids: bool, seed: int = 0) -> list[dict]:
    """Each probe fitted on ``X_fit``, ``y_fit`` against the model's predictions ``model_pred`` on the
    validation rows ``X_val``, ``y_val``: ``[{"probe", "baseline", "model", "p"}]`` (accuracy for
    class ids, mean squared error otherwise; ``p``: the one-sided paired p-value that the model is worse)."""
    fit = X_fit.shape[0]
    X = torch.cat([X_fit.cpu(), X_val.cpu()]).double()
    y = torch.cat([y_fit.cpu(), y_val.cpu()])
    kind = "classes" if class_ids else "values"
    target = y.reshape(-1).long().numpy() if class_ids else y.double().reshape(y.shape[0], -1).numpy()
    pred = model_pred.cpu().reshape(-1).long().numpy() if class_ids else \
        model_pred.cpu().double().reshape(model_pred.shape[0], -1).numpy()
    if not class_ids and target.shape[1] == 1:
        target, pred = target[:, 0], pred[:, 0]
    out = []
    for probe, features in _features(X, fit, seed).items():
        with warnings.catch_warnings():     # an unconverged probe is still a baseline
            warnings.simplefilter("ignore")
            baseline = first_layer.fit_predict(kind, probe, features, target, fit)
        r = first_layer.paired_scores(kind, target[fit:], baseline, pred)
        out.append({"probe": probe, "baseline": r["raw"], "model": r["layers"], "p": r["p"]})
    return out


def still_falling(history: list) -> bool:
    """Whether the run's epoch training losses (``history``) still fell by ``rules.STALLED`` or more
    over the last ``STALL_EPOCHS`` epochs (fewer epochs: too few to tell a stall, so yes)."""
    losses = [h.get("train_loss") for h in history]
    losses = [v for v in losses if v is not None and math.isfinite(v)]
    if len(losses) < STALL_EPOCHS:
        return True
    first, last = losses[-STALL_EPOCHS], losses[-1]
    return (first - last) / max(abs(first), 1e-12) >= STALLED


def check_baseline(model, train: tuple, val: tuple | None, *, loss, seed: int = 0, history: list | None = None,
                   stopped_early: bool = False) -> list[Finding]:
    """``below_baseline`` (a warning) when the trained ``model`` scores significantly and materially
    below the linear model fitted on its training rows ``train`` = (X, y), on the validation rows
    ``val`` (see the module docstring); [] when not judged, among them a run whose ``history`` ends
    with the loss still falling that was not ``stopped_early`` (``history`` None: no curve to read)."""
    if history is not None and not stopped_early and still_falling(history):
        return []
    if val is None or not all(torch.is_tensor(t) for t in (*train, *val)):
        return []
    gen = torch.Generator().manual_seed(seed)       # rows drawn at random: a split may be sorted by class
    fit_rows = torch.randperm(train[0].shape[0], generator=gen)[:ROWS].to(train[0].device)
    val_rows = torch.randperm(val[0].shape[0], generator=gen)[:VAL_ROWS].to(val[0].device)
    X_fit, y_fit = train[0][fit_rows], train[1][fit_rows]
    X_val, y_val = val[0][val_rows], val[1][val_rows]
    if X_val.shape[0] < VAL_MIN or X_fit.shape[0] < VAL_MIN:
        return []
    if not all(bool(torch.isfinite(x.double()).all()) for x in (X_fit, X_val)):
        return []
    if isinstance(loss, nn.BCEWithLogitsLoss) or loss is F.binary_cross_entropy_with_logits:
        loss = "bce"    # PyTorch's own from-logits BCE is trainwell's "bce": a logit's sign, not a value
    ids_fit, ids_val = _class_ids(y_fit, loss), _class_ids(y_val, loss)
    class_ids = ids_fit is not None and ids_val is not None
    if not class_ids and not (torch.is_floating_point(y_val) and (loss in REGRESSION_LOSSES or callable(loss))):
        return []
    if class_ids:
        y_fit, y_val = ids_fit, ids_val
        if torch.unique(y_fit).numel() < 2:
            return []
    out = model_outputs(model, X_val)
    if not bool(torch.isfinite(out).all()):
        return []               # a model that ends non-finite: nonfinite_loss's
    pred = _model_predictions(out, loss, class_ids, y_val)
    if pred is None:
        return []
    results = compare(X_fit, y_fit, X_val, y_val, pred, class_ids=class_ids, seed=seed)
    # regression: the extra squared error must also be material against the targets' spread (a share
    # VARIANCE_DROP of their variance on these rows, as accuracy's points are a share of the rows); a gap
    # under it is not read (its p is not taken)
    spread = 0.0 if class_ids else float(y_val.double().reshape(y_val.shape[0], -1).var(0, unbiased=False).sum())
    material = [class_ids or r["model"] - r["baseline"] >= VARIANCE_DROP * spread for r in results]
    worst = first_layer.significant_drop([{"probe": r["probe"], "raw": r["baseline"], "layers": r["model"],
                                           "p": r["p"] if ok else 1.0} for r, ok in zip(results, material)],
                                         class_ids)
    if worst is None:
        return []
    n_fit, n_val = int(X_fit.shape[0]), int(X_val.shape[0])
    score = (f"accuracy {worst['layers']:.3f} where a {worst['probe']} baseline reaches {worst['raw']:.3f}"
             if class_ids else f"squared error {worst['layers']:.3g} where a {worst['probe']} baseline reaches "
                               f"{worst['raw']:.3g} ({worst['layers'] / max(worst['raw'], 1e-300):.2f}x)")
    return [make(
        "below_baseline",
        f"the trained model scores {score} on the same {n_val} validation rows (paired p = {worst['p']:.2g}), "
        f"the baseline fitted on {n_fit} of the training rows as the model sees them: a network can represent "
        "that model and saw the same rows, so something in its training (the model's code, the loss, the "
        "targets' encoding, the optimizer or schedule, the preprocessing) keeps it below",
        evidence={"probes": results, "probe": worst["probe"], "baseline_score": worst["raw"],
                  "model_score": worst["layers"], "p": worst["p"], "p_threshold": worst["p_threshold"],
                  "fit_rows": n_fit, "val_rows": n_val, "metric": "accuracy" if class_ids else "squared error",
                  **({} if class_ids else {"target_variance": spread})},
        where="the trained model", severity="warning")]
