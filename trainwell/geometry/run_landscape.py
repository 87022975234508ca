"""``trainwell.landscape(run_dir, ...)``: a run's loss landscape, written into
``run_dir/geometry/`` (grids, directions, JSON values, PNGs) and shown in the run's report.

Without ``to``/``start``/``plane``: the 2-D surface around the solution along two filter-normalized
random directions (saved in ``directions.safetensors`` with their seed and reused while the seed
and normalization are the same). ``start="init"``: the 1-D line from the initial weights to the
solution. ``to=OTHER_RUN``: the 1-D line from this run's solution to another's. ``plane=(B, C)``:
the plane through this run's and two other runs' solutions. Each grid resumes from its
``*.grid.safetensors`` file when interrupted and called again with the same settings (other
settings start that grid over).
"""
from __future__ import annotations

import json
from pathlib import Path

from trainwell.errors import ConfigError, DataError
from trainwell.geometry.directions import load_directions, random_directions, save_directions
from trainwell.geometry.landscape import (POINTS_PER_PASS, SURFACE_SPAN, SURFACE_STEPS, Landscape,
                                          interpolate, plane as plane_through, surface)
from trainwell.geometry.runs import RunData, check_seed, open_run
from trainwell.options import MAX_TORCH_SEED
from trainwell.train.rundir import atomic_write_json, lock_run_dir, make_directory

FIGURES_FILE = "figures.json"   # run_dir/geometry/figures.json: {png name: [title, caption]}


def landscape(run_dir, *, to=None, start: str | None = None, plane=None, model=None, seed: int = 0,
              normalization: str = "filter", one_d: str = "zero", span: float = SURFACE_SPAN,
              steps: int = SURFACE_STEPS, bn: str = "frozen", subset: int | None = None,
              test: bool = True, points_per_pass: int | None = POINTS_PER_PASS) -> Landscape:
    """Computes one landscape of the run in ``run_dir`` (see the module doc), writes its files and
    figures into ``run_dir/geometry/`` and returns it. ``model``: your nn.Module's architecture
    for a run that trained one. ``test``: also evaluate the test split when the run has one."""
    check_seed(seed, MAX_TORCH_SEED, "torch's generators take 64-bit seeds")
    if start not in (None, "init"):
        raise ConfigError(f"start = {start!r}: allowed: \"init\" (the initial weights) or None")
    if sum(x is not None for x in (to, start, plane)) > 1:
        raise ConfigError("landscape: give at most one of to, start and plane")
    rd = open_run(run_dir, model=model)
    options = {"loss": rd.loss, "bn": bn, "subset": subset, "seed": seed, "restart": True,
               "test": rd.test if test else None, "points_per_pass": points_per_pass}
    out = make_directory(rd.out_dir)
    with lock_run_dir(rd.run.run_dir):
        if start == "init":
            if rd.init is None:
                raise ConfigError(f"{run_dir}: the run trained your own model; its initial weights "
                                  f"cannot be rebuilt, so --from init is not available")
            result = interpolate(rd.model, rd.init, rd.weights, rd.train, path=out / "line_init.grid.safetensors",
                                 **options)
            _write(rd, result, "line_init", "init -> solution",
                   "Loss and accuracy on the line from the initial weights (alpha 0) to the solution (alpha 1).")
        elif to is not None:
            other = open_run(to, model=model)
            _same_parameters(rd, other, to)
            name = f"line_to_{Path(to).resolve().name}"
            result = interpolate(rd.model, rd.weights, other.weights, rd.train,
                                 path=out / f"{name}.grid.safetensors", **options)
            result.meta["to"] = str(to)
            _write(rd, result, name, f"this run -> {Path(to).name}",
                   f"Loss and accuracy on the line from this run's solution (alpha 0) to {to}'s (alpha 1).")
        elif plane is not None:
            if len(plane) != 2:
                raise ConfigError("plane: give two other runs (the plane goes through three solutions)")
            others = [open_run(p, model=model) for p in plane]
            for o, p in zip(others, plane):
                _same_parameters(rd, o, p)
            result = plane_through(rd.model, rd.weights, others[0].weights, others[1].weights, rd.train,
                                   steps=steps, path=out / "plane.grid.safetensors", **options)
            result.meta["runs"] = [str(run_dir), *map(str, plane)]
            _write(rd, result, "plane", "plane through three solutions",
                   "Train loss on the plane through this run's solution (w1) and two others' (w2, w3).")
        else:
            directions = _directions(rd, out / "directions.safetensors", seed=seed,
                                     normalization=normalization, one_d=one_d)
            options.pop("seed")
            result = surface(rd.model, rd.train, directions=directions, seed=seed, span=span, steps=steps,
                             path=out / "surface.grid.safetensors", **options)
            result.meta.update(seed=seed, normalization=normalization, one_d=one_d, span=span)
            _write(rd, result, "surface", "loss surface",
                   f"Train loss around the solution along two {normalization}-normalized random "
                   f"directions (seed {seed}; 1-D parameters: {one_d}; batch norm: {bn}).")
    refresh_report(rd.run.run_dir)
    return result


def _same_parameters(rd: RunData, other: RunData, name) -> None:
    mine, theirs = rd.weights, other.weights
    if set(mine) != set(theirs) or any(mine[k].shape != theirs[k].shape for k in mine):
        raise DataError(f"{name}: its model's parameters differ from {rd.run.run_dir}'s; both runs "
                        f"need the same architecture")


def _directions(rd: RunData, path: Path, *, seed: int, normalization: str, one_d: str) -> list:
    meta = {"seed": seed, "normalization": normalization, "one_d": one_d}
    if path.exists():
        saved, saved_meta = load_directions(path)
        if saved_meta == meta:
            return [{k: t.to(rd.weights[k].device) for k, t in d.items()} for d in saved]
    directions = random_directions(rd.weights, count=2, **meta)
    save_directions(path, directions, meta=meta)
    return directions


def _write(rd: RunData, result: Landscape, name: str, title: str, caption: str) -> None:
    from trainwell.geometry import plots   # lazily: matplotlib is slow to import

    out = rd.out_dir
    atomic_write_json(result.to_dict(), out / f"{name}.json")
    if result.meta.get("sampling_error") is not None:
        caption += (f" On a seeded subset of {result.meta['subset']} training samples; standard error "
                    f"of the loss at the solution: {result.meta['sampling_error']:.2g}.")
    figures = {}
    if result.kind == "line":
        figures[f"{name}.png"] = (title, caption)
        plots.line(result, out / f"{name}.png", title=title)
    else:
        points = result.meta.get("points")
        for key in [k for k in ("train_loss", "test_loss", "test_acc") if k in result.values]:
            png = f"{name}_{key}.png"
            plots.contour(result, out / png, key=key, title=f"{title}: {key}", points=points)
            figures[png] = (f"{title}: {key}", caption)
        plots.surface3d(result, out / f"{name}_3d.png", title=f"{title}: train loss (3-D)")
        figures[f"{name}_3d.png"] = (f"{title} (3-D)", caption)
    add_figures(out, figures)


def add_figures(out: Path, figures: dict) -> None:
    """Records figures' titles and captions in ``figures.json`` for the run's report."""
    path = out / FIGURES_FILE
    known = {}
    if path.exists():
        try:
            known = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            known = {}
    known.update({png: list(tc) for png, tc in figures.items()})
    atomic_write_json(known, path)


def refresh_report(run_dir) -> None:
    """Rewrites the run's report.html when it has one, so the new figures appear in it."""
    run_dir = Path(run_dir)
    if (run_dir / "report.html").exists():
        from trainwell.report.html import write_report   # lazily: matplotlib is slow to import
        write_report(run_dir)
