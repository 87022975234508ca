"""Classes balanced twice: the class prior a loss's class weights and the training rows' counts
give the model together, against the class mix it is measured on.

A classifier trained with cross-entropy learns p(class | x) under its training prior: each class's
share of the rows it is trained on times the weight the loss gives that class's rows (a weighted
loss is the unweighted loss on rows redrawn in proportion to the weights; Elkan 2001, "The
foundations of cost-sensitive learning", theorem 1). Redrawing the rows to equal counts and
scikit-learn's "balanced" class weights (n / (classes x count), ``compute_class_weight``) each move
that prior once, from the data's mix to balance; they are alternatives (Buda et al. 2018 compare
them side by side). Applied together they move it twice: the trained prior is the data's mix
inverted, the rarest class weighted as many times the commonest as it is rarer, and the model
over-predicts the rare classes where it is measured (a prior shift, Saerens et al. 2002; notes on
class imbalance).

Measured (``class_imbalance``): the trained prior t_k proportional to n_k w_k (the training rows'
counts n_k; the class weights w_k the loss passes to ``F.cross_entropy`` or ``F.nll_loss``, read by
``loss_kinds.inner_losses``, so ``nn.CrossEntropyLoss(weight=...)`` and a user's wrapper alike) against
the evaluated mix e_k (the validation split's class shares, else the test split's, else the training
rows'): the correction exponent a, the least-squares slope of log t on log e over the classes (both
centred), so t is proportional to e^a. a = 1: the model is trained to the evaluated mix; 0: to balance
(one correction: the weights alone on the rows as they are, or a balanced redraw alone); between them: a
deliberate partial correction (weights of 1 / sqrt(count)); -1: corrected twice. A warning where a is
nearer -1 than 0 (``TWICE``) and the evaluated mix is itself off balance by the split checks' rule for
class mixes that differ (``split_checks.grade_imbalance``): an evaluated mix near balance gives the
correction no direction, and its slope is sampling noise. Otherwise the finding is ``info`` that says
which prior the model is trained to.
"""
from __future__ import annotations

import torch

from trainwell.babysit.findings import Finding, make
from trainwell.babysit.loss_kinds import inner_losses

TWICE = -0.5              # the correction exponent nearer a second correction (-1) than one (0)
WHERE = "loss class weights"   # a place of its own: the training counts' class_imbalance keeps the default one


def loss_class_weights(loss_fn, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor | None:
    """The per-class weights the loss gives its first cross-entropy or NLL call (float64, on the
    host), or None: no such call, no weight, or one that is not one weight per output column."""
    for call in inner_losses(loss_fn, out, y):
        w = call.weight
        if call.kind in ("cross_entropy", "nll") and w is not None and w.ndim == 1 and w.numel() == out.shape[-1]:
            return w.detach().double().cpu()
    return None


def trained_prior(counts: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The class shares the weighted loss trains to: counts x weights, normalized."""
    mass = counts.double() * weights
    return mass / mass.sum()


def correction_exponent(trained: torch.Tensor, evaluated: torch.Tensor) -> float | None:
    """The slope a of log ``trained`` on log ``evaluated`` (centred over the classes both give a
    share): ``trained`` is about ``evaluated`` ** a normalized; None where the evaluated shares are
    all equal (no direction) or fewer than two classes count."""
    keep = (trained > 0) & (evaluated > 0)
    if int(keep.sum()) < 2:
        return None
    lt, le = trained[keep].double().log(), evaluated[keep].double().log()
    lt, le = lt - lt.mean(), le - le.mean()
    spread = float((le * le).sum())
    return float((lt * le).sum()) / spread if spread > 1e-12 else None


def check_class_weights(loss_fn, out: torch.Tensor, yb: torch.Tensor, y: torch.Tensor) -> list[Finding]:
    """``class_imbalance`` as ``info`` with the trained prior where the loss weights the classes
    unequally (``out``, ``yb``: a batch the loss is read on; ``y``: every training row's class id);
    ``split_checks.grade_imbalance`` judges it against the evaluated mix."""
    if torch.is_floating_point(y) or y.ndim != 1 or out.ndim != 2:
        return []
    weights = loss_class_weights(loss_fn, out, yb)
    if weights is None or not _unequal(weights):
        return []
    if int(y.min()) < 0 or int(y.max()) >= weights.numel():   # ids past the output: label_problem's
        return []
    counts = torch.bincount(y.cpu(), minlength=weights.numel()).double()
    prior = trained_prior(counts, weights)
    return [make("class_imbalance",
                 f"the loss weights the classes {_shares(weights)} (largest / smallest "
                 f"{float(weights.max() / weights.min()):.1f}x): with the training rows' class shares "
                 f"{_shares(counts / counts.sum())} the model is trained to the class prior {_shares(prior)}",
                 evidence={"loss_class_weights": weights.tolist(), "training_counts": counts.tolist(),
                           "trained_prior": prior.tolist()},
                 where=WHERE, severity="info")]


def judge(finding: Finding, name: str, evaluated: torch.Tensor, off_balance: bool) -> Finding:
    """``finding`` (``check_class_weights``') judged against the class counts ``evaluated`` of the
    split ``name``: a warning where the trained prior is corrected twice (exponent <= ``TWICE``) and
    the evaluated mix is off balance (``off_balance``: the split checks' rule), else info."""
    trained = torch.tensor(finding.evidence["trained_prior"], dtype=torch.float64)
    shares = evaluated.double() / evaluated.sum()
    if shares.numel() != trained.numel():
        return finding
    exponent = correction_exponent(trained, shares)
    finding.evidence.update(evaluated_split=name, evaluated_shares=shares.tolist(), correction_exponent=exponent)
    if exponent is None:
        return finding
    said = (f"; the {name} split's class mix is {_shares(shares)}: the trained prior is its mix to the power "
            f"{exponent:.2f} (1: that mix, 0: balance, -1: balanced twice)")
    if exponent <= TWICE and off_balance:
        finding.severity = "warning"
        finding.message += (said + ": the classes are balanced twice, past balance: training favours the rare "
                            "classes about as much as they are rare where the model is measured, and the model "
                            "over-predicts them")
        finding.fix = ("balance once: a balanced redraw of the rows and class weights from the classes' counts each "
                       "balance the classes; keep the weights on the rows as they are, or the redraw with an "
                       "unweighted loss")
    else:
        finding.message += said
    return finding


def _unequal(weights: torch.Tensor) -> bool:
    """Non-negative class weights that differ by more than float32's rounding (1e-6 of the largest)."""
    return float(weights.min()) >= 0 and float(weights.max() - weights.min()) > 1e-6 * float(weights.max())


def _shares(values: torch.Tensor) -> str:
    return "[" + ", ".join(f"{float(v):.3g}" for v in values) + "]"
