"""A user's loss of class ids read as a scoring rule on constructed logits, before any training.

A classification loss scores the predicted class probabilities ``p`` against the class ``y`` that
occurred. The notes' losses lecture (notes 003, "Which loss?") names two for one-hot targets, the
cross-entropy ``-log p_y`` and the squared error ``||p - e_y||^2`` (the Brier score), both with
their minimum at the true distribution: proper scoring rules (Gneiting & Raftery 2007, "Strictly
Proper Scoring Rules, Prediction, and Estimation": the expected score under a distribution
``q`` is least at ``p = q``). Two properties of a user's own loss are measured here, each on logits
built for the purpose, so no model and no step is involved:

* **fading**: how the loss pulls a *confidently wrong* row back, the gradient that raises the true
  class's logit against the wrong class's, as the true class's probability ``p_y`` falls. Written
  as a function of ``p_y``, a loss ``f(p_y)`` gives the true logit the gradient ``f'(p_y) p_y
  (1 - p_y)``: for the cross-entropy ``-(1 - p_y)``, which stays near 1, so a wrong row is corrected
  however wrong it is; for a loss bounded with a finite slope at ``p_y = 0`` (minus the true class's
  probability, the mean absolute error of the probabilities, the Brier score) it shrinks in
  proportion to ``p_y`` itself. Zhang & Sabuncu 2018 ("Generalized Cross Entropy Loss for Training
  Deep Neural Networks with Noisy Labels", sec. 3) show the mean absolute error's gradient is the
  cross-entropy's weighted by ``p_y``, and that it underfits: rows the model gets wrong get the
  least gradient. ``fading_order`` is the exponent: the log of the pull's ratio over the log of
  ``p_y``'s ratio between two margins, 0 for the cross-entropy, a focal loss, a label-smoothed one
  or a multi-class hinge, ``q`` for their generalized cross-entropy ``(1 - p_y^q) / q``, 1 at its
  MAE end.
* **propriety**: whether the loss, averaged over rows that share one prediction and whose classes
  occur with frequencies ``q``, is stationary at the prediction ``p = q`` (``improper_share``: its
  gradient there against its gradient at the uniform prediction; 0 for a proper loss). Minus the
  true class's probability, the *linear score*, is improper: its expected value ``-sum q_i p_i`` is
  least with all the probability on the most frequent class, so it rewards confident predictions
  on every row (Gneiting & Raftery 2007).

The fault is the two together: an improper loss drives every row to a confident prediction, and a
fading one cannot pull a confidently wrong row back, so the rows the model first gets wrong stay
wrong. Either alone is no fault: the Brier score fades but is proper (its minimizer keeps wrong
rows' probabilities near their frequencies, so its gradient does not vanish where the data do not
say so), and a hinge, a focal or a label-smoothed cross-entropy is improper but does not fade.
The same gradient can come from two formulas (minus p_y, and the cross-entropy weighted by the
detached p_y of "self-paced" training), and what it costs a run depends on the data, so the reading is
reported as ``loss_output_mismatch`` information in the pre-flight (``check_scoring_rule``), and
``loss_arm``'s experiment, which trains the user's loss against the cross-entropy, reads the noise of
such a loss's copies where they have not yet diverged (``loss_arm.experiment``). The logits are given
in the form the model's outputs take (``output_form``: raw logits, probability rows or log-probability
rows), so a model that ends in its own softmax is read as it runs.
"""
from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F

from trainwell.babysit.findings import Finding, make

MARGINS = (3.0, 6.0)     # fading: the true logit at -m and a wrong one at +m (p_y about e^-2m: 2.5e-3, 6e-6 for
                         # 3 classes), far enough into the confident-wrong tail that each loss's limit rate shows
FADING_ORDER = 0.95      # ... the pull shrinks at least as p_y itself (order 1, within 0.05 of rounding): a loss
                         # with a finite slope in p_y at p_y = 0, the linear score and the MAE; the generalized
                         # cross-entropy at q < 1 (Zhang & Sabuncu recommend q = 0.7 under label noise) has an
                         # infinite slope there and stays below
IMPROPER_SHARE = 1e-3    # propriety: the gradient at p = q over that at the uniform prediction; a proper loss is
                         # stationary at q (float32 rounding leaves about 1e-7), an improper one at O(1)
MAX_CLASSES = 1024       # more classes: not probed (the propriety rows are about 2 C of C logits)
MAX_ROWS = 256           # the fading rows: one per class, up to 256
ROW_SUM_TOLERANCE = 1e-4  # output_form: probability rows sum to 1 within this (loss_checks' tolerance)


def _as_outputs(z: torch.Tensor, form: str) -> torch.Tensor:
    """The constructed logits ``z`` in the model's output form: ``"logits"``, ``"probabilities"``
    (softmax rows) or ``"log_probabilities"`` (log-softmax rows)."""
    if form == "probabilities":
        return F.softmax(z, dim=1)
    if form == "log_probabilities":
        return F.log_softmax(z, dim=1)
    return z


def _gradient(loss_fn, z: torch.Tensor, y: torch.Tensor, form: str) -> torch.Tensor | None:
    """d loss / d z for the constructed logits ``z`` (shared across rows or one row each), or None
    where the loss fails, is not a finite scalar or does not reach ``z``."""
    z = z.detach().clone().requires_grad_(True)
    rows = z.expand(y.shape[0], -1) if z.ndim == 1 else z
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = loss_fn(_as_outputs(rows, form), y)
            if not (torch.is_tensor(value) and value.numel() == 1 and bool(torch.isfinite(value))):
                return None
            (grad,) = torch.autograd.grad(value.reshape(()), z, allow_unused=True)
    except Exception:           # noqa: BLE001 - a loss that takes no such rows: check_loss_output's to report
        return None
    return grad if grad is not None and bool(torch.isfinite(grad).all()) else None


def _wrong_rows(classes: int, margin: float, *, dtype, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Rows of class ``y = i mod C`` whose logit is ``-margin``, the next class's ``+margin``, the
    others' 0: ``(logits, y, wrong)``, each row confidently wrong."""
    rows = min(classes, MAX_ROWS)
    y = torch.arange(rows, device=device) % classes
    wrong = (y + 1) % classes
    at = torch.arange(rows, device=device)
    z = torch.zeros(rows, classes, dtype=dtype, device=device)
    z[at, y] = -margin
    z[at, wrong] = margin
    return z, y, wrong


def _pull(loss_fn, z, y, wrong, form: str) -> float | None:
    """How hard ``loss_fn`` raises the true logit against the wrong one on the rows ``z``: minus the
    mean of dL/dz_y - dL/dz_wrong (positive where a step moves a row towards its class)."""
    grad = _gradient(loss_fn, z, y, form)
    if grad is None:
        return None
    at = torch.arange(y.shape[0], device=y.device)
    return float(-(grad[at, y] - grad[at, wrong]).double().mean())


def _relative_pull(loss_fn, classes: int, margin: float, form: str, *, dtype, device) -> tuple | None:
    """``(pull / cross-entropy's pull, p_y)`` on ``_wrong_rows`` at ``margin``. Against the
    cross-entropy at the same logits, a loss ``f(p_y)`` pulls ``-f'(p_y) p_y`` exactly (both pulls
    carry the softmax's factor 1 - p_y + p_wrong), so the ratio is the loss's own weight of a row."""
    z, y, wrong = _wrong_rows(classes, margin, dtype=dtype, device=device)
    pull = _pull(loss_fn, z, y, wrong, form)
    ruler = _pull(F.cross_entropy, z, y, wrong, "logits")
    if pull is None or not ruler:
        return None
    return pull / ruler, float(F.softmax(z[:1].double(), dim=1)[0, y[0]])


def fading_order(loss_fn, classes: int, form: str = "logits", *, dtype=torch.float32, device="cpu") -> float | None:
    """The exponent ``a`` of (pull / cross-entropy's pull) ~ p_y^a between the ``MARGINS`` (module
    docstring): 0 for the cross-entropy, ``q`` for the generalized cross-entropy, 1 for minus the
    true class's probability; ``inf`` where the pull falls to 0 from a positive value. None where the
    loss does not pull a wrong row towards its class at the smaller margin, or cannot be probed."""
    near, far = (_relative_pull(loss_fn, classes, m, form, dtype=dtype, device=device) for m in MARGINS)
    if near is None or far is None or not near[0] > 0:
        return None
    if far[0] <= 0:
        return math.inf
    return math.log(near[0] / far[0]) / math.log(near[1] / far[1])


def improper_share(loss_fn, classes: int, form: str = "logits", *, dtype=torch.float32, device="cpu") -> float | None:
    """The loss's gradient at the prediction ``p = q`` over its gradient at the uniform one, on rows
    that share that prediction and whose classes occur with frequencies ``q`` (1, 2, 3, 1, 2, ...
    rows of classes 0, 1, 2, 3, 4, ...): about 0 for a proper loss, O(1) for an improper one. None
    where the loss cannot be probed or is flat at the uniform prediction."""
    counts = 1 + torch.arange(classes, device=device) % 3
    y = torch.repeat_interleave(torch.arange(classes, device=device), counts)
    at_q = _gradient(loss_fn, torch.log(counts.to(dtype) / counts.sum()), y, form)
    at_uniform = _gradient(loss_fn, torch.zeros(classes, dtype=dtype, device=device), y, form)
    if at_q is None or at_uniform is None:
        return None
    reference = float(at_uniform.double().norm())
    return float(at_q.double().norm()) / reference if reference > 0 else None


def output_form(out: torch.Tensor) -> str:
    """How the model's ``(N, C)`` outputs read: ``"probabilities"`` (rows in [0, 1] summing to 1),
    ``"log_probabilities"`` (rows <= 0 whose exps sum to 1), else ``"logits"``."""
    o = out.detach().double()
    if o.ndim != 2 or o.shape[1] < 2 or not bool(torch.isfinite(o).all()):
        return "logits"
    if bool(((o >= 0) & (o <= 1)).all()) and float((o.sum(1) - 1).abs().max()) < ROW_SUM_TOLERANCE:
        return "probabilities"
    if bool((o <= 0).all()) and float(torch.logsumexp(o, 1).abs().max()) < ROW_SUM_TOLERANCE:
        return "log_probabilities"
    return "logits"


def cannot_correct(loss_fn, classes: int, form: str = "logits", *, dtype=torch.float32, device="cpu") -> dict | None:
    """The reading of a loss of ``classes`` class ids that fades at ``FADING_ORDER`` or faster and is
    improper (``IMPROPER_SHARE`` or more): ``{"fading_order", "improper_share", "true_probability" (p_y
    at the two ``MARGINS``), "margins", "classes", "output_form"}``; None for any other loss, or one
    that cannot be probed (``MAX_CLASSES``)."""
    if not 2 <= classes <= MAX_CLASSES:
        return None
    order = fading_order(loss_fn, classes, form, dtype=dtype, device=device)
    if order is None or order < FADING_ORDER:
        return None
    share = improper_share(loss_fn, classes, form, dtype=dtype, device=device)
    if share is None or share < IMPROPER_SHARE:
        return None
    near, far = (float(F.softmax(_wrong_rows(classes, m, dtype=torch.float64, device="cpu")[0][0], dim=0)[0])
                 for m in MARGINS)
    return {"fading_order": order, "improper_share": share, "true_probability": [near, far],
            "margins": list(MARGINS), "classes": classes, "output_form": form}


def cannot_correct_in_words(r: dict) -> str:
    """``cannot_correct``'s reading ``r`` in words, for a finding's message."""
    near, far = r["true_probability"]
    return (f"on constructed rows whose true class has probability {near:.2g} and then {far:.2g}, its gradient "
            f"raising the true logit shrinks as that probability to the power {r['fading_order']:.2f} (the "
            f"cross-entropy's stays near 1: power 0), and it is improper: rows whose classes occur with "
            f"frequencies q, all predicted q, still get {r['improper_share']:.2f} of the gradient they get at the "
            f"uniform prediction (a proper loss is stationary there), so it pushes every row to a confident "
            f"prediction and then cannot pull a confidently wrong one back")


def check_scoring_rule(out, y, loss_fn, *, form: str = "logits") -> list[Finding]:
    """``loss_output_mismatch`` as information for a user's loss of class ids that ``cannot_correct``
    a confidently wrong row (the module docstring's two properties). A fact of the loss: what it
    costs a run depends on the data (on few classes such a loss can train as well as the
    cross-entropy, on many far worse: Zhang & Sabuncu 2018), so ``loss_arm``'s experiment grades it.
    ``out``: the model's ``(N, C)`` outputs (their width, dtype and device); ``y``: the 1-D class
    ids; ``form``: how the outputs read (``output_form``)."""
    if out.ndim != 2 or not torch.is_floating_point(out) or torch.is_floating_point(y) or y.ndim != 1:
        return []
    dtype = out.dtype if out.dtype in (torch.float32, torch.float64) else torch.float32
    r = cannot_correct(loss_fn, out.shape[1], form, dtype=dtype, device=out.device)
    if r is None:
        return []
    return [make(
        "loss_output_mismatch",
        f"the loss of class ids stops correcting a row it gets wrong: {cannot_correct_in_words(r)} (minus the true "
        f"class's probability, the log forgotten, is such a loss; so is a cross-entropy weighted by the detached "
        f"probability); what it costs this run is graded by training it against cross_entropy",
        # its own place: a Diagnosis keeps one finding per (code, where), and loss_arm's warning is at "loss"
        evidence={**r, "loss": "other"}, where="loss as a scoring rule", severity="info",
        fix="score the log of the true class's probability: cross_entropy on the logits "
            "(-(one_hot * F.log_softmax(z, 1)).sum(1).mean(), not F.softmax)")]
