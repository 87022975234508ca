"""Findings: what the babysitter reports.

A ``Finding`` is one problem: a stable ``code`` users filter on (a key of ``registry.CODES``,
where every code is described), a ``severity``, a message in plain words, the measured
``evidence``, ``where`` (a layer name or None) and a concrete ``fix``. A ``Diagnosis`` is a list
of findings with ``.ok`` (no error), ``ranked()`` (root causes first) and readable / JSON output.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from trainwell.babysit.registry import CAUSES, CODES, PRIORITY, SEVERITIES, TRAINING_SYMPTOMS
from trainwell.errors import ConfigError


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
        return CODES[self.code].phase == "training" or (isinstance(step, int) and step > 1)

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
    return Finding(code, severity or spec.severity, message, dict(evidence or {}), where,
                   fix if fix is not None else spec.fix)


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
        """Errors and warnings, root causes first: a finding explained by another one found
        (``registry.CAUSES``, from the records' ``explains``) comes after it; then errors before
        warnings; then findings whose evidence names the setting behind them (``evidence["cause"]``,
        e.g. underfitting under too much weight decay, or a cause an intervention confirmed), in
        the order of the experiment's ``evidence["rank"]`` (interventions.py: the fix that helped
        most first); then ``registry.PRIORITY`` (the registry's order); info last. A finding whose
        own experiment measured what it causes names those codes in ``evidence["explains"]`` (gradient
        noise the run diverges under, noise_check.py): they come after it too, and do not explain it back. A finding measured on an
        evaluated split (``on_evaluated_split``) is not outranked by a confirmed cause of the
        same severity (``_splits_before_settings``)."""
        # a unit statistic measured during training is a symptom: it explains nothing
        causes = {f.code for f in self.findings if f.severity != "info"
                  and not (f.in_training and f.code in TRAINING_SYMPTOMS)}
        measured = {code for f in self.findings if f.severity != "info" for code in f.evidence.get("explains", ())
                    if code != f.code}
        cause = {c: i for i, c in enumerate(PRIORITY)}
        severity = {s: i for i, s in enumerate(SEVERITIES)}

        def explained(f):   # not by a code its own measurement names as its effect (``evidence["explains"]``)
            effects = f.evidence.get("explains", ()) if f.severity != "info" else ()
            return f.code in measured or any(c in causes and c != f.code and c not in effects for c in f.causes())
        order = sorted(self.findings, key=lambda f: (f.severity == "info", explained(f), severity[f.severity],
                                                     not f.evidence.get("cause"), f.evidence.get("rank", len(cause)),
                                                     cause.get(f.code, len(cause))))
        return _splits_before_settings(order, explained)

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


EVALUATED_SPLITS = ("validation", "test")   # the splits a run's result is read on (split_checks.py's ``where``)


def on_evaluated_split(f: Finding) -> bool:
    """Measured on an evaluated split: ``where`` is the split's name, or starts with it (split_checks.py's
    ``"validation labels"``, ``"test size"``)."""
    return bool(f.where) and f.where.partition(" ")[0] in EVALUATED_SPLITS


def _splits_before_settings(order: list, explained) -> list:
    """``order`` with each unexplained finding measured on an evaluated split (``on_evaluated_split``:
    inputs or labels drawn otherwise than training's) moved in front of the
    first finding of its severity whose evidence names a confirmed cause. The experiments confirm a
    cause on held rows of the training split (interventions.py), so they cannot weigh a fault of the
    rows the result is read on, which no setting reaches: a raised lr that trains the training rows
    faster does not make transposed validation images readable. Among themselves, and against the
    findings that name no cause, the order stays the registry's."""
    first = next((i for i, f in enumerate(order) if f.evidence.get("cause") and f.severity != "info"), None)
    if first is None:
        return order
    moved = [f for f in order[first:] if on_evaluated_split(f) and f.severity == order[first].severity
             and not explained(f) and not f.evidence.get("cause")]
    ids = {id(f) for f in moved}
    return order[:first] + moved + [f for f in order[first:] if id(f) not in ids]


def _short(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return "[" + ", ".join(str(_short(v)) for v in value[:6]) + ", ...]"
    return value
