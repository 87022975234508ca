"""Mode connectivity (Garipov et al. 2018, "Loss Surfaces, Mode Connectivity, and Fast Ensembling
of DNNs"; notes 004): a curve of low loss between two solutions of the same unmodified model.

``Curve`` is an nn.Module holding a private copy of the model (frozen), the two endpoints and the
trainable bends. A quadratic Bezier curve (one bend ``theta``) is
``phi(t) = (1-t)^2 w1 + 2t(1-t) theta + t^2 w2``; ``bends > 1`` gives the Bezier curve of degree
``bends + 1`` (Bernstein weights); ``kind="polychain"`` joins ``w1, theta_1, ..., w2`` by straight
segments at evenly spaced t. In training each forward draws ``t ~ U(0, 1)`` from the global torch
generator (so a checkpoint's RNG state resumes the same draws) and runs the model functionally
on ``phi(t)``; that is Garipov et al.'s objective, the expected loss over uniform t. The bends
start on the straight line. ``connect(run_a, run_b, run_dir=...)`` trains a curve as an ordinary
trainwell run (checkpoints, exact resume, report) and then measures loss and accuracy along it
and along the straight line, recomputing batch-norm statistics at each t (Garipov et al. §4).
"""
from __future__ import annotations

import copy
import math
from pathlib import Path

import torch
from torch import nn
from torch.func import functional_call

from trainwell.errors import ConfigError, DataError
from trainwell.geometry.directions import Weights, check_choice, combine, difference
from trainwell.geometry.landscape import Evaluator
from trainwell.geometry.run_landscape import add_figures, refresh_report
from trainwell.geometry.runs import GEOMETRY_DIR, open_run
from trainwell.nn.losses import accuracy_fn, make_loss
from trainwell.train.fit import fit, real_run_dir
from trainwell.train.run import read_json_object
from trainwell.train.rundir import atomic_write_json, make_directory, make_run_dir

KINDS = {
    "bezier": "Bezier curve with the bends as control points (Garipov et al. 2018's choice)",
    "polychain": "polygonal chain w1 -> bends -> w2, straight segments at evenly spaced t",
}
EVAL_T = 0.5            # the point that validation during training evaluates: the midpoint
CURVE_POINTS = 21       # t = 0, 0.05, ..., 1 (Garipov et al. plot 61; 21 resolves a one-bend curve)
CONNECT_FILE = "connect.json"
# options of the endpoint run that a curve does not take over: its weights come from the runs
NOT_FOR_THE_CURVE = {"callbacks", "model", "init", "transfer_from", "freeze", "unfreeze_at", "resume",
                     "run_dir", "progress"}


def _key(name: str) -> str:
    return name.replace(".", "__")      # parameter names as buffer / parameter names


class Curve(nn.Module):
    """A curve between ``start`` and ``end`` weights of ``model`` (see the module doc)."""

    def __init__(self, model: nn.Module, start: Weights, end: Weights, *, kind: str = "bezier", bends: int = 1):
        super().__init__()
        check_choice("kind", kind, KINDS)
        if not isinstance(bends, int) or bends < 1:
            raise ConfigError(f"bends = {bends!r}: must be an integer >= 1")
        self.kind, self.n_bends, self.eval_t = kind, bends, EVAL_T
        self.base = copy.deepcopy(model)
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.names = [name for name, _ in self.base.named_parameters()]
        for name in self.names:
            self.register_buffer(f"start__{_key(name)}", start[name].detach().clone())
            self.register_buffer(f"end__{_key(name)}", end[name].detach().clone())
        self.bends = nn.ParameterList([
            nn.ParameterDict({_key(n): nn.Parameter(start[n] + (i + 1) / (bends + 1) * (end[n] - start[n]))
                              for n in self.names})
            for i in range(bends)])

    def points(self, name: str) -> list[torch.Tensor]:
        k = _key(name)
        return [getattr(self, f"start__{k}"), *(b[k] for b in self.bends), getattr(self, f"end__{k}")]

    def coefficients(self, t) -> list:
        """The weight of each point (start, bends, end) at ``t``."""
        n = self.n_bends + 1
        if self.kind == "bezier":
            return [math.comb(n, i) * t ** i * (1 - t) ** (n - i) for i in range(n + 1)]
        t = torch.as_tensor(t, dtype=torch.float32)
        return [torch.clamp(1 - (t * n - i).abs(), min=0) for i in range(n + 1)]   # hat functions

    def weights(self, t) -> Weights:
        """``phi(t)`` by parameter name."""
        coef = self.coefficients(t)
        return {name: sum(c * p for c, p in zip(coef, self.points(name))) for name in self.names}

    def forward(self, x):
        t = torch.rand(()) if self.training else torch.tensor(self.eval_t)
        return functional_call(self.base, self.weights(t), (x,))


def along(ev: Evaluator, weights_at, ts) -> dict[str, list[float]]:
    """The evaluator's values at ``weights_at(t)`` for each t (batch norm as ``ev.bn`` says)."""
    out: dict[str, list[float]] = {}
    for t in ts:
        with torch.no_grad():
            w = {k: v.detach() for k, v in weights_at(t).items()}
        for name, v in ev.single(w).items():
            out.setdefault(name, []).append(float(v[0]))
    return out


def barrier_summary(ts, values: dict) -> dict:
    """The largest loss rise above the endpoints' mean (the barrier) and the largest accuracy
    drop below their mean, per split."""
    summary = {}
    for key, series in values.items():
        ends = (series[0] + series[-1]) / 2
        if key.endswith("_loss"):
            summary[f"{key}_barrier"] = max(series) - ends
        else:
            summary[f"{key}_max_drop"] = ends - min(series)
    return summary


def connect(run_a, run_b, *, run_dir, kind: str = "bezier", bends: int = 1, resume: bool = False,
            model: nn.Module | None = None, points: int = CURVE_POINTS, progress: bool = False,
            callbacks=(), **options) -> dict:
    """Trains a curve between the solutions of ``run_a`` and ``run_b`` as a run in ``run_dir``
    (the training options are ``run_a``'s, overridden by ``options``, e.g. ``epochs=``, ``lr=``),
    then evaluates train/test loss and accuracy at ``points`` values of t along the curve and the
    straight line; writes ``run_dir/connect.json`` (the endpoints and options, for a resume),
    ``run_dir/connect_values.json`` (the values) and the plot; returns the values.
    ``resume=True`` continues an interrupted curve run exactly."""
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ConfigError(f"points = {points!r}: must be an integer >= 2 (t = 0 and t = 1 at least)")
    kept = sorted(set(options) & NOT_FOR_THE_CURVE)
    if kept:
        raise ConfigError(f"connect: {', '.join(kept)} cannot be set for the curve run (its weights come from "
                          f"the two runs' solutions); leave {'them' if len(kept) > 1 else 'it'} out")
    run_dir = real_run_dir(Path(run_dir))
    if resume:
        saved = read_json_object(run_dir / CONNECT_FILE, "the curve's endpoints", keys=("runs", "kind", "bends"))
        if [str(run_a), str(run_b)] != saved["runs"] or (kind, bends) != (saved["kind"], saved["bends"]):
            raise ConfigError(f"resume: {run_dir} connects {saved['runs']} with a {saved['kind']} curve of "
                              f"{saved['bends']} bend(s); give the same runs, kind and bends")
        options = {**saved.get("options", {}), **options}
    a, b = open_run(run_a, model=model), open_run(run_b, model=model)
    wa, wb = a.weights, b.weights
    if set(wa) != set(wb) or any(wa[k].shape != wb[k].shape for k in wa):
        raise DataError(f"{run_b}: its model's parameters differ from {run_a}'s; both runs need the same architecture")
    curve = Curve(a.model, wa, wb, kind=kind, bends=bends)
    if not resume:
        if (run_dir / "metrics.jsonl").exists():
            raise ConfigError(f"run_dir = {str(run_dir)!r} already holds a run; pass resume to continue "
                              f"it, or choose a new directory")
        make_run_dir(run_dir)
        atomic_write_json({"runs": [str(run_a), str(run_b)], "kind": kind, "bends": bends, "options": options},
                          run_dir / CONNECT_FILE)
    config = {k: v for k, v in a.run.config.items() if k not in NOT_FOR_THE_CURVE}
    config.update(babysit="off", **options)
    trained = fit(curve, None, run_dir=str(run_dir), resume=resume, progress=progress,
                  callbacks=list(callbacks), **config)
    return _measure(trained.model, a, run_a, run_b, run_dir, points=points)


def _measure(curve: Curve, a, run_a, run_b, run_dir: Path, *, points: int) -> dict:
    from trainwell.geometry import plots   # lazily: matplotlib is slow to import

    ev = Evaluator(a.model, {"train": a.train, **({"test": a.test} if a.test is not None else {})},
                   make_loss(a.loss), accuracy_fn(a.loss, a.train[1]), bn="recompute")
    ts = torch.linspace(0, 1, points).tolist()
    wa, wb = curve.weights(0.0), curve.weights(1.0)
    on_curve = along(ev, curve.weights, ts)
    on_line = along(ev, lambda t: combine(wa, [difference(wb, wa)], [t]), ts)
    summary = {"runs": [str(run_a), str(run_b)], "kind": curve.kind, "bends": curve.n_bends, "t": ts,
               "curve": on_curve, "line": on_line,
               "curve_summary": barrier_summary(ts, on_curve), "line_summary": barrier_summary(ts, on_line)}
    atomic_write_json(summary, run_dir / CONNECT_FILE.replace(".json", "_values.json"))
    out = make_directory(run_dir / GEOMETRY_DIR)
    plots.curve_vs_line(ts, on_curve, on_line, out / "connect.png",
                        title=f"{curve.kind} curve vs straight line")
    add_figures(out, {"connect.png": (
        "mode connectivity", f"Loss and accuracy along the trained {curve.kind} curve (solid) and the "
        f"straight line (dotted) between {run_a} (t = 0) and {run_b} (t = 1); batch-norm statistics "
        f"recomputed at each t.")})
    refresh_report(run_dir)
    return summary
