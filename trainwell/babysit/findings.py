"""Findings: what the babysitter reports, and ``CODES``, the registry of every finding code.

A ``Finding`` is one problem: a stable ``code`` users filter on, a ``severity``, a message in
plain words, the measured ``evidence``, ``where`` (a layer name or None) and a concrete ``fix``.
A ``Diagnosis`` is a list of findings with ``.ok`` (no error) and readable / JSON output.

``CODES`` is the one place each code is described: its phase, default severity, what is
measured, the threshold and its source. The docs (docs/babysitter.md) and the tests read it.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from trainwell.errors import ConfigError

SEVERITIES = ("error", "warning", "info")


def _code(phase, severity, measures, threshold, source, fix):
    return {"phase": phase, "severity": severity, "measures": measures,
            "threshold": threshold, "source": source, "fix": fix}


CODES = {
    # ----------------------------------------------------------------- before training
    "bad_initial_loss": _code(
        "preflight", "warning",
        "the loss of the untrained model on a batch, regularization off, against the loss of a "
        "uniform prediction: ln C for cross-entropy, C-1 for the multiclass hinge (margin 1), "
        "ln 2 for BCE, ln C - H(target) for KL, mean(y^2) for a regression loss",
        "ratio outside [0.5, 1.5] of the expected value, or more than 1 nat above it for a loss in "
        "nats (untrained logits spread ~1.4: s^2/2 nats); regression: above 3x",
        "notes 004 'double check that the loss is reasonable': 2.30261 = ln 10 for 10 classes",
        "shrink the last layer's initial weights (e.g. x0.01) and zero its bias; standardize the inputs"),
    "gradient_mismatch": _code(
        "preflight", "error",
        "relative error |g_a - g_n| / max(|g_a|, |g_n|) between autograd's gradient and centered "
        "finite differences (f(w+h) - f(w-h)) / 2h on a float64 copy, per parameter tensor over a "
        "few random coordinates",
        "relative error > 1e-2 ('probably wrong'); 1e-4..1e-2 is reported as info",
        "notes 000/004 'check gradients numerically by finite differences'; thresholds from "
        "CS231n 'Gradient checks' (Karpathy)",
        "look for .detach(), .data, in-place edits, argmax/round in forward, or a custom autograd "
        "Function whose backward is wrong"),
    "cannot_overfit_small_subset": _code(
        "preflight", "error",
        "training accuracy (or loss) after a short full-batch run on ~20 examples with dropout, "
        "weight decay and penalties off; retried with Adam lr=1e-3 before blaming the model",
        "accuracy < 100% (classification) or loss > 5% of the initial (regression) after both runs",
        "notes 004 'make sure that you can overfit a very small portion of the training data'",
        "check that the loss sees the model's output and the right targets, that gradients reach "
        "every layer, and that the model has enough capacity"),
    "regularization_not_effective": _code(
        "preflight", "error",
        "the effect of raising each configured regularizer: the penalized loss must rise with "
        "L2/L1 strength, one weight-decay step from zero gradients must shrink ||w||, dropout must "
        "make two training-mode forward passes differ",
        "no increase / no shrink / identical outputs (relative change < 1e-6)",
        "notes 004 'crank up regularization ... loss went up, good (sanity check)'",
        "make sure the penalty is added to the loss with gradients attached, the optimizer gets "
        "weight_decay in its parameter groups, and dropout modules are in the forward path"),
    "symmetric_init": _code(
        "preflight", "error",
        "identical rows (units) in a hidden layer's weight matrix, or an all-zero weight tensor; "
        "an error when the rows' gradients are identical too (the symmetry can never break)",
        "any exactly duplicated row in a layer that feeds another layer",
        "notes 000 'W=0 init: every neuron computes the same output ... no source of asymmetry'",
        "initialize with small random numbers: Xavier (tanh) or He (ReLU) init"),
    "vanishing_activations": _code(
        "preflight", "warning",
        "standard deviation of each hidden activation layer's output on a batch, relative to the "
        "input's standard deviation; and each layer's per-unit signal (the RMS over units of a unit's "
        "std across the batch), relative to the input's (biases can hold a layer's std up while no "
        "unit varies with the input)",
        "std < 1e-2 x the input std, or signal < 1e-2 x the input's signal",
        "notes 004 activation-statistics table: W*0.01 init, std 0.21 -> 0.047 -> ... -> 0.000001, "
        "'all activations become zero'",
        "use Xavier init (tanh) or He init (ReLU), or add batch normalization"),
    "exploding_activations": _code(
        "preflight", "warning",
        "standard deviation of each hidden activation layer's output relative to the input's std; "
        "non-finite activations",
        "std > 10 x the input std, or any NaN/inf",
        "notes 004 activation statistics: 'keep the variance the same across every layer' (Xavier/He)",
        "scale the initial weights down (Xavier/He) or add batch normalization"),
    "saturated_units": _code(
        "preflight", "warning",
        "fraction of tanh outputs with |a| > 0.99, of sigmoid outputs outside [0.01, 0.99]",
        "more than 20% of a layer's values saturated",
        "notes 004: W*1.0 init 'almost all neurons completely saturated ... gradients will be all "
        "zero'; 'avoid units in saturation'",
        "use Xavier init, standardize the inputs, or switch to ReLU"),
    "dead_units": _code(
        "preflight", "warning",
        "fraction of a ReLU-family layer's units (channels) that are never positive over a batch",
        "more than 40% of a layer's units dead",
        "notes 004 'if a ReLU unit's input is always negative ... a dead unit'; CS231n: 'as much as "
        "40% of your network can be dead'",
        "use He init with zero biases, a lower learning rate, or LeakyReLU"),
    "unnormalized_inputs": _code(
        "preflight", "warning",
        "per-feature mean and standard deviation of the inputs (medians over features) and the "
        "spread of the features' scales",
        "median |mean| > 1, median std > 10 or < 1e-2, or max std / min std > 100",
        "notes 000/002 preprocessing: zero-center, normalize; LeCun et al. 1998 'Efficient BackProp' §4.3",
        "standardize the inputs: x = (x - mean) / std with statistics from the training split"),
    "nonfinite_data": _code(
        "preflight", "error", "count of NaN/inf values in the inputs and targets", "any",
        "a NaN input makes every loss NaN (notes 004: 'cost: NaN')",
        "drop or impute the rows with NaN/inf"),
    "label_problem": _code(
        "preflight", "error",
        "targets against the loss and the output: integer dtype for class-id losses, ids in "
        "[0, C), more than one class, BCE targets in [0, 1], KL targets rows of probabilities",
        "any violation; ids that fit the data's own C classes but not a narrower output layer are "
        "the model's fault (`loss_output_mismatch`), except 1..C labels for C outputs (off by one)",
        "notes 003 design choices: the output units and the loss must match the targets",
        "convert the targets (e.g. y.long()), remap ids to 0..C-1, or size the output layer to C"),
    "class_imbalance": _code(
        "preflight", "warning",
        "class counts: largest / smallest",
        "ratio > 10",
        "He & Garcia 2009 'Learning from Imbalanced Data' (imbalance of 10:1 and beyond)",
        "use class weights in the loss, resample, or report balanced accuracy"),
    "unshuffled_data": _code(
        "preflight", "warning",
        "label changes between consecutive examples against the number expected in random order, "
        "(n-1)(1 - sum p_k^2); for continuous targets |Spearman correlation| of target vs index",
        "fewer than half the expected changes (or |rho| > 0.9) while shuffle is off",
        "notes 003 'practical SGD: shuffle the training set, and take a consecutive batch'",
        "turn shuffling on (shuffle=True)"),
    "loss_output_mismatch": _code(
        "preflight", "error",
        "the model's last module and output values against the loss: softmax rows summing to 1 or "
        "log-probabilities before a loss that takes logits, a sigmoid before a from-logits loss, a "
        "regression loss on class ids, an output width that does not fit the classes, a loss that "
        "fails on the output",
        "any; a final tanh / hardtanh / softsign / ReLU / softplus before a from-logits loss (the "
        "logits are capped or clipped) is a warning, a final sigmoid an error",
        "notes 003 design choices: output activation and loss go together",
        "return raw logits from the model and let the loss apply softmax/sigmoid; use "
        "cross_entropy for class ids"),
    "check_skipped": _code(
        "preflight", "info", "time used by the pre-flight checks", "the time budget ran out",
        "issue 4: pre-flight within 60 s", "raise budget_s or pass a smaller sample"),
    # ----------------------------------------------------------------- during training
    "nonfinite_loss": _code(
        "training", "error", "the training loss on every step (a device-side flag, read when sampled)",
        "NaN or inf", "notes 004 'cost: NaN almost always means high learning rate'",
        "lower the lr about 10x, clip gradients (clip_norm=1.0), check inputs for NaN"),
    "loss_exploding": _code(
        "training", "error", "the sampled training loss against the first sampled loss",
        "> 3x the initial loss", "notes 004 'if the cost is ever > 3 * original cost, break out early'",
        "lower the lr about 10x or clip gradients"),
    "lr_too_high": _code(
        "training", "warning",
        "the trend of the sampled loss: rising (median of the last third above the first third by "
        "10%) or NaN with finite inputs",
        "rising loss (not once the last third is below 10% of the initial loss: a converged "
        "model's small losses are noisy), or an explosion with finite inputs",
        "notes 004 'loss exploding: learning rate too high'",
        "lower the lr about 10x"),
    "lr_too_low": _code(
        "training", "warning",
        "relative decrease of the sampled loss over at least one epoch and the median update/weight "
        "ratio, with gradients that do not vanish",
        "loss down < 5% from the first step's (a single batch's loss, itself a few % noisy) and "
        "median update ratio < 1e-4 (10x below the healthy 1e-3)",
        "notes 004 'loss barely changing: learning rate is probably too low' (2.302576 -> 2.302420)",
        "raise the lr about 10x"),
    "oscillating_loss": _code(
        "training", "warning",
        "median |difference| of consecutive sampled losses relative to the initial loss, with no "
        "downward trend; rises of the per-epoch mean training loss",
        "median |delta| > 0.25 x initial loss and the loss has not fallen below half the initial; "
        "or the epoch's mean training loss (free of batch noise) rose by > 20% at least twice in "
        "the last 6 epochs while the lr was not raised (a warm restart raises it on purpose)",
        "notes 001 'monitor and visualize the loss curve'; Goodfellow et al. 2016 §8.1.3",
        "lower the lr about 3x, add momentum damping, or raise the batch size"),
    "plateau": _code(
        "training", "warning",
        "relative improvement of the epoch training loss over the last 3 epochs, while the loss is "
        "still well above zero",
        "improvement < 1% over 3 epochs with loss > 20% of the initial, while the lr is at least "
        "10% of its peak (a schedule's annealed tail is convergence, not a stall) and the training "
        "accuracy is below 0.98 (a fitted training set has converged: label smoothing keeps its "
        "loss at ~26% of the initial)",
        "notes 003 'watch the objective and decrease the LR when it stagnates'",
        "decay the lr (plateau schedule), or check init/normalization"),
    "vanishing_gradients": _code(
        "training", "warning",
        "per-layer relative gradient ||g|| / ||w||: the smallest against the largest, and the total",
        "smallest / largest < 1e-3, or total gradient norm < 1e-8",
        "notes 004 'saturated neurons kill the gradients'; Glorot & Bengio 2010",
        "use ReLU with He init, batch normalization, or residual connections"),
    "exploding_gradients": _code(
        "training", "error",
        "total gradient norm against the first sampled one; per-layer relative gradients",
        "non-finite, or > 10x the first sampled norm while the sampled loss is not falling (gradients "
        "that grow as a net leaves a flat start are healthy), unless a strong decay (lr x "
        "weight_decay >= 1e-2) collapsed the weights and the loss never rose above its initial "
        "value (they regrow; `underfitting` names the decay)",
        "notes 001 gradient clipping; Pascanu et al. 2013",
        "clip gradients (clip_norm=1.0) or lower the lr"),
    "update_ratio_high": _code(
        "training", "warning",
        "per-layer ||lr-scaled update|| / ||w|| (the change of the weights over one step), median "
        "over the sampled steps",
        "median > 3e-2 while the sampled loss is not falling (second half of the window not 5% "
        "below the first) and not below 10% of the initial loss, or median > 0.3, or any one "
        "sampled step > 1 (the update overwrites the layer: Adam's first step at lr 0.1). Only "
        "the part beyond the decay counts (ratio - lr x weight_decay per sample, a lower bound of "
        "the gradient's share): weights that shrink under a strong decay are left to "
        "`underfitting` (healthy about 1e-3; notes 001 '0.01 is probably too high' — Adam's first "
        "steps sit near 1e-2 in healthy runs, hence the margin); not judged for L-BFGS / Newton, whose "
        "steps are sized by curvature",
        "notes 001 'track ratio of weight updates / weight magnitudes'; CS231n ~1e-3",
        "lower the lr (for this layer group)"),
    "update_ratio_low": _code(
        "training", "warning",
        "per-layer ||update|| / ||w|| median over the sampled steps",
        "median < 1e-5 (two decades below the healthy 1e-3); not judged for L-BFGS / Newton, nor "
        "for layers whose group has lr_mult 0 (frozen)",
        "notes 001 / CS231n: about 1e-3 is healthy; far below means the layer barely learns",
        "raise the lr, or check that this layer's gradients are not vanishing"),
    "overfitting": _code(
        "training", "warning",
        "train accuracy - validation accuracy (or val/train loss), with the validation loss rising "
        "from its best",
        "on two consecutive epochs: gap > 0.10 and val loss >= 1.2x its minimum, gap > 0.20, or "
        "gap >= 0.10 with train accuracy >= 0.99 (the training set is memorized)",
        "notes 004 'big gap = overfitting => increase regularization strength'",
        "more regularization (weight decay, dropout), augmentation, or early stopping"),
    "underfitting": _code(
        "training", "warning",
        "train accuracy and the train/val gap once the training loss has stalled or training ended",
        "train accuracy < 0.8 with gap < 0.05 (regression: loss > 50% of initial) once the loss "
        "stalled (< 5% better over 3 epochs); at the end of a run whose loss still falls: info "
        "(train longer). When lr x weight_decay >= 1e-2 (the decay alone takes 10x a healthy "
        "1e-3 update off the weights each step) the finding names the decay "
        "(evidence `decay_per_step`, `cause` = weight_decay), ranks before its symptoms and is "
        "judged from the second epoch on without waiting for a stall",
        "notes 004 'no gap => increase model capacity?'; too much regularization underfits "
        "(notes 004, regularization strength)",
        "more capacity (wider/deeper), train longer, or a higher lr; under strong decay: lower "
        "weight_decay about 100x"),
}


# (A loss that keeps bouncing also has rising stretches: `oscillating_loss`, the more specific
# reading, comes before `lr_too_high`'s "rising".)
# Root causes first: a data or wiring fault explains the numeric symptoms that follow it, an
# init fault explains vanishing gradients and a stuck loss (exploding activations also a
# diverging one), an lr fault explains exploding losses and units that die during training. The repairer fixes in this order too.
PRIORITY = (
    "nonfinite_data", "label_problem", "loss_output_mismatch", "gradient_mismatch",
    "unnormalized_inputs", "unshuffled_data", "symmetric_init", "saturated_units",
    "vanishing_activations", "exploding_activations", "dead_units", "bad_initial_loss",
    "regularization_not_effective", "cannot_overfit_small_subset", "class_imbalance",
    "nonfinite_loss", "loss_exploding", "exploding_gradients", "oscillating_loss", "lr_too_high",
    "vanishing_gradients", "update_ratio_high", "lr_too_low", "update_ratio_low", "plateau",
    "overfitting", "underfitting", "check_skipped",
)
_INIT = ("symmetric_init", "saturated_units", "vanishing_activations", "exploding_activations", "dead_units")
_DIVERGED = ("nonfinite_loss", "loss_exploding", "exploding_gradients", "lr_too_high", "oscillating_loss",
             "update_ratio_high")
_SLOW = ("lr_too_low", "update_ratio_low", "plateau", "underfitting")
_OPTIMIZATION = _DIVERGED + ("vanishing_gradients",) + _SLOW


def _causes() -> dict:
    """symptom -> the findings that explain it when both are present."""
    data = ("nonfinite_data", "label_problem", "loss_output_mismatch")
    setup = data + ("gradient_mismatch", "unnormalized_inputs", *_INIT)
    out = {code: setup for code in _OPTIMIZATION + ("cannot_overfit_small_subset",)}
    for code in _DIVERGED:      # units that are dead, saturated or silent at init slow learning down;
        # they don't blow it up; huge activations or outputs at init do
        out[code] = tuple(c for c in setup if c not in _INIT) + ("exploding_activations", "bad_initial_loss")
    out["bad_initial_loss"] = data + ("unnormalized_inputs", *_INIT)
    out.update({code: ("nonfinite_data", "unnormalized_inputs") for code in _INIT})
    out["vanishing_activations"] += ("dead_units",)                  # dead units output zeros
    out["unnormalized_inputs"] = ("nonfinite_data",)
    out["loss_output_mismatch"] = ("label_problem",)
    for code in ("oscillating_loss", "lr_too_high", "plateau", "underfitting", "overfitting"):
        out[code] = out.get(code, ()) + ("unshuffled_data",)        # label runs make the loss jump
    for code in _SLOW + ("update_ratio_high",):      # layers without gradient: slow, lopsided learning
        out[code] += ("vanishing_gradients",)
    for code in ("plateau", "underfitting", "overfitting"):          # the lr explains the epoch curves
        out[code] += _DIVERGED + ("lr_too_low", "update_ratio_low")
    return out


# The unit-statistics codes (dead/saturated/exploding activations) are causes when measured on
# the untrained model and symptoms of too-large updates when they appear during training
# (``Finding.in_training``): notes 004, "a large learning rate can knock ReLUs off the data manifold".
CAUSES = _causes()
TRAINING_SYMPTOMS = {code: _DIVERGED + ("vanishing_gradients",) for code in _INIT if code != "symmetric_init"}


@dataclass
class Finding:
    """One problem found: ``code`` (a key of ``CODES``), ``severity``, words, numbers, place, fix."""

    code: str
    severity: str
    message: str
    evidence: dict = field(default_factory=dict)
    where: str | None = None
    fix: str = ""

    def __post_init__(self):
        if self.code not in CODES:
            raise ConfigError(f"finding code {self.code!r}: unknown; allowed: {', '.join(sorted(CODES))}")
        if self.severity not in SEVERITIES:
            raise ConfigError(f"finding severity {self.severity!r}: allowed: {', '.join(SEVERITIES)}")

    @property
    def in_training(self) -> bool:
        """Measured after the first training step (the unit-statistics codes are then symptoms)."""
        step = self.evidence.get("step")
        return CODES[self.code]["phase"] == "training" or (isinstance(step, int) and step > 1)

    def causes(self) -> tuple:
        """The codes that explain this finding when they are found too."""
        if self.in_training and self.code in TRAINING_SYMPTOMS:
            return TRAINING_SYMPTOMS[self.code]
        return CAUSES.get(self.code, ())

    @property
    def key(self) -> tuple:
        """Findings with the same code and place are the same problem (used to deduplicate)."""
        return (self.code, self.where)

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "evidence": _jsonable(self.evidence), "where": self.where, "fix": self.fix}

    def __str__(self) -> str:
        where = f" [{self.where}]" if self.where else ""
        return f"{self.severity.upper():7s} {self.code}{where}: {self.message}" + (
            f"\n        fix: {self.fix}" if self.fix else "")


def make(code: str, message: str, *, evidence: dict | None = None, where: str | None = None,
         fix: str | None = None, severity: str | None = None) -> Finding:
    """A finding with the registry's default severity and fix unless given."""
    spec = CODES[code]
    return Finding(code, severity or spec["severity"], message, dict(evidence or {}), where,
                   fix if fix is not None else spec["fix"])


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)           # JSON has no NaN/inf
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return _jsonable(value.item())
    return str(value)


class Diagnosis:
    """A list of findings, deduplicated by (code, where), errors first when formatted."""

    def __init__(self, findings=()):
        self.findings: list[Finding] = []
        self.extend(findings)

    def add(self, finding: Finding) -> bool:
        """Add unless the same (code, where) is already present; True when added."""
        if any(f.key == finding.key for f in self.findings):
            return False
        self.findings.append(finding)
        return True

    def extend(self, findings) -> None:
        for f in findings:
            self.add(f)

    def ranked(self) -> list[Finding]:
        """Errors and warnings, root causes first: a finding explained by another one found (see
        ``CAUSES``) comes after it; then errors before warnings; then findings whose evidence names
        the setting behind them (``evidence["cause"]``, e.g. underfitting under too much weight
        decay); then ``PRIORITY``; info last."""
        # a unit statistic measured during training is a symptom: it explains nothing
        causes = {f.code for f in self.findings if f.severity != "info"
                  and not (f.in_training and f.code in TRAINING_SYMPTOMS)}
        cause = {c: i for i, c in enumerate(PRIORITY)}
        severity = {s: i for i, s in enumerate(SEVERITIES)}

        def explained(f):
            return any(c in causes and c != f.code for c in f.causes())
        return sorted(self.findings, key=lambda f: (f.severity == "info", explained(f), severity[f.severity],
                                                    not f.evidence.get("cause"), cause.get(f.code, len(cause))))

    @property
    def primary(self) -> Finding | None:
        """The diagnosis to read first (the root cause); None when nothing alarming was found."""
        ranked = [f for f in self.ranked() if f.severity != "info" or f.code == "check_skipped"]
        return ranked[0] if ranked else None

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    @property
    def codes(self) -> list[str]:
        """The distinct codes, in the order first found."""
        return list(dict.fromkeys(f.code for f in self.findings))

    def filter(self, *, code=None, severity=None, where=None) -> "Diagnosis":
        """Findings matching every given criterion; ``code``/``severity`` may be a str or a set."""
        def match(value, want):
            return want is None or (value == want if isinstance(want, str) or want is None
                                    else value in want)
        return Diagnosis(f for f in self.findings
                         if match(f.code, code) and match(f.severity, severity)
                         and (where is None or f.where == where))

    def __iter__(self):
        return iter(self.findings)

    def __len__(self):
        return len(self.findings)

    def __contains__(self, code: str) -> bool:
        return any(f.code == code for f in self.findings)

    def to_json(self, **kwargs) -> str:
        return json.dumps({"ok": self.ok, "findings": [f.to_dict() for f in self.findings]}, **kwargs)

    def format(self, *, evidence: bool = False) -> str:
        """Readable text for the CLI: root causes first (``ranked``), info last; one block each."""
        if not self.findings:
            return "no problems found"
        lines = []
        for f in self.ranked():
            lines.append(str(f))
            if evidence and f.evidence:
                numbers = ", ".join(f"{k}={_short(v)}" for k, v in f.evidence.items())
                lines.append(f"        evidence: {numbers}")
        counts = {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}
        lines.append(", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items()))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return f"Diagnosis(ok={self.ok}, codes={self.codes})"


def _short(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return "[" + ", ".join(_short(v) for v in value[:6]) + ", ...]"
    return value
