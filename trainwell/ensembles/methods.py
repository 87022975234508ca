"""``trainwell.ensemble(model, data, method=..., members=k, **fit_options)``: train an ensemble and
write it as a run directory that ``load_run``, ``predict``, ``evaluate`` and ``trainwell
predict`` use as one model.

One record per method in ``ENSEMBLE_METHODS`` (what it does, its source, its options, how members
combine); the config validator, ``trainwell ensemble`` and docs/ensembles.md read it.

The directory::

    ENSEMBLE/ensemble.json      method, combine rule, member weights, member directories, ...
    ENSEMBLE/config.json        the members' resolved options (loss, eval_batch_size, ...)
    ENSEMBLE/results.json       accuracy, NLL, ECE of every member and of the ensemble (val, test)
    ENSEMBLE/members/m0 ...     one run directory per member
    ENSEMBLE/run                (snapshot, FGE) the one training run the members were taken from

Member weights come from the training split (boosting) or are equal; nothing is chosen on the
test split, which is only evaluated.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from trainwell.config import make_config
from trainwell.data.streaming import HostRows, place
from trainwell.ensembles.combine import ENSEMBLE_FILE, FORMAT, EnsembleRun
from trainwell.ensembles.cycles import TakeMembers, fge_schedule, snapshot_schedule
from trainwell.ensembles.members import bagging, boosting, independent
from trainwell.errors import ConfigError
from trainwell.options import Option, check_options, did_you_mean, must_be
from trainwell.train.fit import fit, real_run_dir
from trainwell.train.loggers import parent_run
from trainwell.train.loop import total_steps
from trainwell.train.parts import resolve_data, resolve_device
from trainwell.train.run import Run, atomic_save_model
from trainwell.train.rundir import atomic_write_bytes, atomic_write_json, make_run_dir

_UNIT_OPEN = must_be(lambda v: 0 < v < 1, "a number in (0, 1)")
_POSITIVE = must_be(lambda v: v > 0, "> 0")
LR_CURVE_POINTS = 400          # ensemble.json keeps the cycle schedule at this many steps (the report)


@dataclass(frozen=True)
class EnsembleMethod:
    """One ensemble method: its ``train(model, splits, options, members=, run_dir=, **opts)``,
    how members combine (``combine.COMBINES``), its options and its source."""

    doc: str
    source: str
    combine: str
    options: dict


ENSEMBLE_METHODS = {
    "average": EnsembleMethod("k members from different seeds; class probabilities averaged",
                              "notes 001/004 (model ensembles: a few percent better)", "average", {}),
    "vote": EnsembleMethod("k members from different seeds; the majority class wins",
                           "notes 004 (model ensembles)", "vote", {}),
    "bagging": EnsembleMethod("k members, each on a bootstrap sample of the training split; averaged",
                              "Breiman 1996; notes 001", "average", {}),
    "boosting": EnsembleMethod(
        "classification: AdaBoost SAMME by weighted resampling; regression: gradient boosting on "
        "the residuals with shrinkage", "Zhu et al. 2009 (SAMME); Friedman 2001", "samme", {
            "learning_rate": Option(float, 1.0, "η: member weight α = η (log((1-e)/e) + log(K-1))",
                                    source="scikit-learn AdaBoostClassifier (1.0)", check=_POSITIVE),
            "shrinkage": Option(float, 0.1, "ν: F_m = F_{m-1} + ν f_m (regression)",
                                source="Friedman 2001 (ν ≤ 0.1); scikit-learn GradientBoosting (0.1)",
                                check=_POSITIVE)}),
    "snapshot": EnsembleMethod("one run of k cosine cycles with restarts; a member at each cycle's end; "
                               "averaged", "Huang et al. 2017 (snapshot ensembles); notes 004",
                               "average", {}),
    "fge": EnsembleMethod(
        "pre-train, then k triangular lr cycles; a member at each cycle's minimum; averaged",
        "Garipov et al. 2018 (fast geometric ensembling)", "average", {
            "start": Option(float, 0.5, "fraction of the run's steps spent pre-training",
                            source="trainwell convention (equal budget); Garipov et al. 2018 pre-train "
                                   "a full run", check=_UNIT_OPEN),
            "lr_high": Option(float, 0.2, "α₁ as a multiple of lr (the cycles' top)",
                              source="Garipov et al. 2018 (VGG: lr 0.05, α₁ = 0.01)", check=_POSITIVE),
            "lr_low": Option(float, 0.01, "α₂ as a multiple of lr (the cycles' minimum)",
                             source="Garipov et al. 2018 (VGG: α₂ = 5e-4)", check=_POSITIVE)}),
}
DEFAULT_MEMBERS = 5     # notes: a 5-model ensemble; Huang et al. 2017 and Garipov et al. use 5-10


def ensemble_options(method, members, method_options: dict | None) -> dict:
    """The checked method, member count and method options (defaults filled in)."""
    if method not in ENSEMBLE_METHODS:
        raise ConfigError(f"ensemble.method = {method!r}: unknown{did_you_mean(method, ENSEMBLE_METHODS)}; "
                          f"allowed: {', '.join(ENSEMBLE_METHODS)}")
    if isinstance(members, bool) or not isinstance(members, int) or members < 2:
        raise ConfigError(f"ensemble.members = {members!r}: must be an integer >= 2")
    checked = check_options(f"ensemble {method!r}", dict(method_options or {}),
                            ENSEMBLE_METHODS[method].options, label="ensemble.{name}")
    if method == "fge" and checked["lr_low"] >= checked["lr_high"]:
        raise ConfigError(f"ensemble.lr_low = {checked['lr_low']!r}: must be below lr_high = "
                          f"{checked['lr_high']!r} (the cycles fall from lr_high to lr_low)")
    return checked


def ensemble(model=None, train="digits", val=None, *, test=None, method: str = "average",
             members: int = DEFAULT_MEMBERS, method_options: dict | None = None, **options) -> EnsembleRun:
    """Train ``members`` models by ``method`` (``ENSEMBLE_METHODS``) with the fit ``options``
    and return them as one :class:`EnsembleRun`; with ``run_dir`` it is also written there."""
    extra = ensemble_options(method, members, method_options)
    run_dir = options.pop("run_dir", None)
    report = options.pop("report", True)       # the ensemble's report; members write none
    options = {**options, "report": False}
    config = make_config({k: v for k, v in options.items()})     # validates before any training
    # the members' data as each fit would hold it (streamed: HostRows; data/streaming.py)
    splits = place(resolve_data(train, val, test, config), config.stream, resolve_device(config.device))
    run_dir = real_run_dir(Path(run_dir)) if run_dir is not None else None
    if run_dir is not None:
        if (run_dir / ENSEMBLE_FILE).exists():
            raise ConfigError(f"run_dir = {str(run_dir)!r} already holds an ensemble; choose a new directory")
        make_run_dir(run_dir)
    started = time.perf_counter()
    spec = ENSEMBLE_METHODS[method]
    name = run_dir.name if run_dir is not None else f"ensemble-{method}"
    with parent_run(options, name) as member_options:         # MLflow: members nest under the ensemble
        trained = _train(model, splits, member_options, config, method, members, extra, run_dir)
    runs = trained["runs"]
    combine = "gradient" if method == "boosting" and torch.is_floating_point(splits.train[1]) else spec.combine
    info = {"format": FORMAT, "method": method, "combine": combine, "weights": trained["weights"],
            "members": [f"members/m{i}" for i in range(len(runs))], "options": extra,
            **trained.get("info", {})}
    result = EnsembleRun(members=runs, info=info, config=runs[0].config, run_dir=run_dir,
                         history=trained.get("history", []))
    result.results = _results(result, splits, seconds=time.perf_counter() - started)
    if run_dir is not None:
        atomic_write_json(runs[0].config, run_dir / "config.json")
        atomic_write_json(result.results, run_dir / "results.json")
        atomic_write_json(info, run_dir / ENSEMBLE_FILE)     # last: the ensemble exists once it does
        if report:
            from trainwell.report.ensemble_html import write_ensemble_report   # lazily: matplotlib
            write_ensemble_report(run_dir)
    return result


def _results(result: EnsembleRun, splits, *, seconds: float) -> dict:
    """Every member's and the ensemble's metrics on the validation and test splits."""
    out = {"seconds": seconds, "members": [{} for _ in result.members]}
    for name in ("val", "test"):
        pair = getattr(splits, name)
        if pair is None:
            out[name] = None
            continue
        if isinstance(pair[0], HostRows):    # streamed: the held-out split read once, as a tensor
            pair = (pair[0][:], pair[1])
        out[name] = result.evaluate(pair)
        for i, member in enumerate(result.members):
            single = EnsembleRun(members=[member], info={**result.info, "weights": [1.0],
                                                         "combine": _single(result.combine)},
                                 config=result.config)
            out["members"][i][name] = single.evaluate(pair)
    return out


def _single(combine: str) -> str:
    return "average" if combine in ("samme", "vote") else combine


# ------------------------------------------------------------------ snapshot and FGE
def _train(model, splits, options, config, method, members, extra, run_dir) -> dict:
    """The members of ``method``: from one run (snapshot, FGE) or one fit each."""
    if method in ("snapshot", "fge"):
        return _from_one_run(model, splits, options, config, method, members, extra, run_dir)
    if method == "bagging":
        return bagging(model, splits, options, members=members, run_dir=run_dir)
    if method == "boosting":
        return boosting(model, splits, options, members=members, run_dir=run_dir, **extra)
    return independent(model, splits, options, members=members, run_dir=run_dir)


def _from_one_run(model, splits, options, config, method, members, extra, run_dir) -> dict:
    """One fit with the method's cycle schedule, the members taken along the way."""
    steps_per_epoch = -(-len(splits.train[0]) // config.batch_size)
    if config.drop_last:
        steps_per_epoch = max(len(splits.train[0]) // config.batch_size, 1)
    total = total_steps(config, steps_per_epoch)
    if total < 2 * members:
        raise ConfigError(f"ensemble method {method!r}: {members} members need at least {2 * members} "
                          f"steps, the run has {total}; train more epochs or take fewer members")
    if method == "snapshot":
        schedule, at = snapshot_schedule(total=total, members=members)
    else:
        schedule, at = fge_schedule(total=total, members=members, **extra)
    taker = TakeMembers(at)
    run = fit(model, splits, **{**options, "schedule": schedule, "warmup_steps": 0,
                                "callbacks": [*options.get("callbacks", []), taker],
                                "run_dir": None if run_dir is None else run_dir / "run"})
    runs = [_member_run(run, weights, None if run_dir is None else run_dir / "members" / f"m{i}")
            for i, (_, weights) in enumerate(taker.taken)]
    every = max(total // LR_CURVE_POINTS, 1)
    curve = {"step": list(range(0, total, every)), "lr": [config.lr * schedule(s) for s in range(0, total, every)]}
    return {"runs": runs, "weights": [1.0] * len(runs), "history": run.history,
            "info": {"member_steps": [s for s, _ in taker.taken], "lr_curve": curve}}


def _member_run(run: Run, weights: dict, member_dir: Path | None) -> Run:
    """A Run of ``run``'s model with ``weights``; written as a run directory when given one."""
    model = copy.deepcopy(run.model)
    model.load_state_dict(weights)
    member = Run(model=model, config=run.config, run_dir=member_dir, preprocess=run.preprocess,
                 splits=run.splits, sample_shape=run.sample_shape)
    if member_dir is not None:
        member_dir.mkdir(parents=True, exist_ok=True)
        source = Path(run.run_dir)
        for name in ("config.json", "model.json", "preprocess.safetensors"):
            if (source / name).is_file():
                atomic_write_bytes(member_dir / name, (source / name).read_bytes())
        atomic_save_model(model, member_dir / "model.safetensors")
    return member
