"""An ensemble of trained runs used as one model: how members' outputs combine, and the
ensemble's run directory (``ensemble.json`` beside ``members/m0``, ``members/m1``, ...).

Combination rules (``COMBINES``), for member outputs f_m(x) with weights w_m:

- ``average``: class probabilities p(x) = Σ w_m p_m(x) / Σ w_m (regression: the mean output);
- ``vote``: the class most members predict (ties: the highest averaged probability);
  probabilities are the averaged ones;
- ``samme``: multi-class AdaBoost (Zhu et al. 2009): f_k(x) = Σ α_m h_mk(x) / Σ α_m with
  h_mk = 1 when member m predicts k, else -1/(K-1); p(x) = softmax(f(x) / (K-1)) (eq. 15;
  scikit-learn's AdaBoostClassifier);
- ``gradient``: gradient boosting for regression (Friedman 2001): F(x) = F_0 + ν Σ_m f_m(x).

This module reads members through a loader it is given (``train/run.py``'s ``load_run``), so it
does not import the run module that imports it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from trainwell.data.splits import as_pair
from trainwell.ensembles.mc_dropout import MCPrediction
from trainwell.errors import ConfigError, DataError
from trainwell.nn.losses import REGRESSION_LOSSES, class_probabilities
from trainwell.train.calibration import calibration

ENSEMBLE_FILE = "ensemble.json"
FORMAT = "trainwell-ensemble"
COMBINES = {
    "average": "mean of the members' class probabilities (regression: of their outputs)",
    "vote": "majority of the members' predicted classes; probabilities averaged",
    "samme": "AdaBoost SAMME: softmax(Σ α_m h_m / (Σ α_m (K-1)))",
    "gradient": "gradient boosting: F_0 + ν Σ f_m",
}


@dataclass
class EnsembleRun:
    """Members (``Run`` objects) and how they combine; ``predict`` and ``evaluate`` as ``Run``'s.

    ``info`` is ``ensemble.json``: ``method``, ``combine``, ``weights``, ``members`` (their
    directories) and, per method, ``init`` / ``shrinkage`` (gradient boosting) and the steps at
    which members were taken (snapshot, FGE)."""

    members: list
    info: dict
    config: dict
    run_dir: Path | None = None
    results: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    stopped: object = None
    findings: object = None
    repairs: list = field(default_factory=list)

    @property
    def combine(self) -> str:
        return self.info["combine"]

    @property
    def weights(self) -> torch.Tensor:
        return torch.tensor(self.info["weights"], dtype=torch.float64)

    @property
    def model(self):
        """The first member's model (for code that inspects a run's model)."""
        return self.members[0].model

    @property
    def regression(self) -> bool:
        return self.config["loss"] in REGRESSION_LOSSES

    # -------------------------------------------------------------- member outputs
    def member_outputs(self, X, *, batch_size=None) -> list[torch.Tensor]:
        """Each member's raw outputs for raw inputs ``X`` (on the CPU)."""
        return [m.predict(X, output="raw", batch_size=batch_size).cpu() for m in self.members]

    def mc_predict(self, X, *, passes: int, output: str, batch_size=None) -> MCPrediction:
        """MC dropout over an averaged ensemble: the weighted mixture of every member's T passes;
        mean = Σ w_m mean_m / Σ w, spread² = Σ w_m (spread_m² + mean_m²) / Σ w − mean² (the law of
        total variance over the mixture)."""
        if self.combine not in ("average", "vote"):
            raise ConfigError(f"mc_dropout: an ensemble combined by {self.combine!r} has no mixture of "
                              f"passes to average; use it with average, vote, bagging, snapshot or fge")
        runs = [m.predict(X, output=output, batch_size=batch_size, mc_dropout=passes) for m in self.members]
        w = (self.weights / self.weights.sum()).tolist()
        mean = sum(wi * r.mean.cpu() for wi, r in zip(w, runs))
        second = sum(wi * (r.spread.cpu() ** 2 + r.mean.cpu() ** 2) for wi, r in zip(w, runs))
        spread = (second - mean ** 2).clamp_min(0).sqrt()
        return MCPrediction(mean=mean, spread=spread, classes=None if runs[0].classes is None else mean.argmax(-1),
                            passes=passes, dropout_layers=sum(r.dropout_layers for r in runs),
                            functional_dropout=any(r.functional_dropout for r in runs))

    def member_probabilities(self, outputs) -> list[torch.Tensor]:
        """Each member's class probabilities (``losses.class_probabilities``) from its outputs."""
        return [class_probabilities(out, own_loss=m.own_loss) for m, out in zip(self.members, outputs)]

    def combined(self, outputs) -> torch.Tensor:
        """The ensemble's class probabilities (N, C), or its outputs for regression."""
        w = self.weights
        if self.combine == "gradient":
            return self.info["init"] + self.info["shrinkage"] * torch.stack(outputs).sum(0)
        if self.regression:
            return sum(wi * out for wi, out in zip(w.tolist(), outputs)) / float(w.sum())
        probs = self.member_probabilities(outputs)
        if self.combine == "samme":
            K = probs[0].shape[1]
            decision = sum(wi * torch.where(torch.nn.functional.one_hot(p.argmax(1), K).bool(), 1.0,
                                            -1.0 / (K - 1)) for wi, p in zip(w.tolist(), probs))
            return torch.softmax(decision / float(w.sum()) / (K - 1), dim=1)
        return sum(wi * p for wi, p in zip(w.tolist(), probs)) / float(w.sum())

    def classes(self, outputs, combined) -> torch.Tensor:
        if self.combine != "vote":
            return combined.argmax(1)
        K = combined.shape[1]
        votes = sum(wi * torch.nn.functional.one_hot(p.argmax(1), K).double()
                    for wi, p in zip(self.weights.tolist(), self.member_probabilities(outputs)))
        top = votes == votes.max(1, keepdim=True).values      # tied classes
        return torch.where(top, combined.double(), -1.0).argmax(1)

    # -------------------------------------------------------------- Run's interface
    @torch.no_grad()
    def predict(self, X, *, output: str = "auto", batch_size: int | None = None, mc_dropout=None):
        """As ``Run.predict``: class ids (``auto``/``class``), ``proba`` (the combined class
        probabilities) or ``raw`` (for classification: log of the combined probabilities;
        regression: the combined outputs). ``mc_dropout=T``: an ``MCPrediction`` over all members'
        passes (``mc_predict``)."""
        if output not in ("auto", "class", "raw", "proba"):
            raise DataError(f"predict(output={output!r}): allowed: auto, class, raw, proba")
        if mc_dropout is not None:
            return self.mc_predict(X, passes=mc_dropout, output=output, batch_size=batch_size)
        outputs = self.member_outputs(X, batch_size=batch_size)
        combined = self.combined(outputs)
        if self.regression:
            return combined
        if output == "proba":
            return combined
        if output == "raw":
            return combined.clamp_min(torch.finfo(combined.dtype).tiny).log()
        return self.classes(outputs, combined)

    @torch.no_grad()
    def evaluate(self, data, *, batch_size: int | None = None) -> dict:
        """Loss (classification: the NLL of the combined probabilities; regression: the run's
        loss), accuracy and, for classification, NLL and ECE (train/calibration.py), on an
        ``(X, y)`` pair."""
        if isinstance(data, str):
            raise DataError(f"evaluate({data!r}): an ensemble keeps no splits; pass (X, y)")
        X, y = as_pair(*data, name="evaluate data")
        outputs = self.member_outputs(X, batch_size=batch_size)
        combined = self.combined(outputs)
        if self.regression:
            loss = torch.nn.functional.mse_loss(combined.reshape(y.shape).float(), y.float())
            return {"loss": float(loss), "acc": None, "n": len(y)}
        cal = calibration(combined, y)
        acc = float((self.classes(outputs, combined) == y).double().mean())
        return {"loss": cal["nll"], "acc": acc, "nll": cal["nll"], "ece": cal["ece"], "n": len(y),
                "bins": cal["bins"]}


def is_ensemble_dir(run_dir: Path) -> bool:
    return (Path(run_dir) / ENSEMBLE_FILE).is_file()


def read_ensemble_info(run_dir: Path) -> dict:
    path = Path(run_dir) / ENSEMBLE_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"{path}: cannot read the ensemble's description ({type(e).__name__}); "
                        f"the file is corrupted") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise DataError(f"{path}: not a trainwell ensemble description (format {FORMAT!r})")
    missing = [k for k in ("combine", "weights", "members") if k not in info]
    if missing or info["combine"] not in COMBINES or len(info["weights"]) != len(info["members"]):
        raise DataError(f"{path}: lacks {missing or 'a consistent combine/weights/members'}; "
                        f"the file is corrupted")
    return info


def load_ensemble(run_dir, load_member, config: dict, results: dict, history: list) -> EnsembleRun:
    """The ensemble in ``run_dir``; ``load_member(path) -> Run`` reads one member's directory."""
    run_dir = Path(run_dir)
    info = read_ensemble_info(run_dir)
    members = []
    for name in info["members"]:
        path = (run_dir / name).resolve()
        if not path.is_relative_to(run_dir.resolve()):
            raise DataError(f"{run_dir / ENSEMBLE_FILE}: member {name!r} lies outside the ensemble")
        members.append(load_member(path))
    return EnsembleRun(members=members, info=info, config=config, run_dir=run_dir, results=results,
                       history=history)
