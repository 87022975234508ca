"""``STUDY_DIR/report.html``: one self-contained page about a search (matplotlib, PNGs inlined).

Figures (notes 000/004 and the issue): the optimization history (each trial's value and the best
so far, by stage); the metric against each parameter on its own scale, with the first range's
edges and every stage's range marked; the notes' 2-D scatter of the two most important parameters
coloured by the metric; parallel coordinates; parameter importances (Optuna's default evaluator); and a table of the best trials. Written at the end of a search and by
``trainwell report STUDY_DIR``.
"""
from __future__ import annotations

import base64
import html
import io
import math
import warnings
from pathlib import Path

import optuna
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from trainwell.report.html import CSS
from trainwell.hpsearch.results import best_of, trial_rows
from trainwell.hpsearch.settings import parse_settings
from trainwell.hpsearch.space import option_values, space_from_dict
from trainwell.hpsearch.study import Context, load_stage, open_storage
from trainwell.hpsearch.studydir import read_search_file
from trainwell.train.rundir import atomic_write_text

REPORT_FILE = "report.html"
BEST_SHOWN = 10         # rows of the best-trials table
FIGSIZE = (7.0, 4.0)    # inches, as the run report's figures
DPI = 100
STAGE_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")
CMAP = "viridis"
# Fixed margins (fractions of the figure) instead of tight_layout, which measures every tick label
# once more before the drawing does: ~40 % of the report's time (BENCHMARKS.md, issue 13). Sized
# for FIGSIZE and matplotlib's 10-point default text: two lines of labels below, one on the left.
MARGINS = dict(left=0.11, right=0.97, bottom=0.14, top=0.95)
CHAR_WIDTH = 0.0095     # a 10-point character's width as a fraction of FIGSIZE's 7 inches at DPI


def load_studies(study_dir) -> tuple[Context, list[optuna.Study]]:
    """The search's context (from search.toml) and the stage studies that exist."""
    base, table = read_search_file(study_dir)
    settings = parse_settings(table, base)
    ctx = Context(None, None, base, settings, study_dir, progress=False)
    storage = open_storage(settings, study_dir)
    names = {s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
    studies = [load_stage(ctx, storage, i) for i in range(len(settings.stages))
               if f"{settings.study_name}/stage-{i}" in names]
    return ctx, [s for s in studies if "space" in s.user_attrs]


def _layout(fig: Figure, **margins) -> None:
    fig.subplots_adjust(**{**MARGINS, **margins})


def _png(fig: Figure) -> str:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(title: str, caption: str, fig: Figure) -> str:
    return (f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,{_png(fig)}">'
            f"<figcaption><strong>{html.escape(title)}.</strong> {html.escape(caption)}</figcaption></figure>")


def _finished(studies):
    """[(stage index, trial, option values)] of every finished trial."""
    out = []
    for i, study in enumerate(studies):
        space = space_from_dict(study.user_attrs["space"])
        out += [(i, t, option_values(space, t.params))
                for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
                if t.value is not None and math.isfinite(t.value)]
    return out


def history_figure(ctx, studies) -> Figure:
    fig = Figure(figsize=FIGSIZE)
    ax = fig.add_subplot()
    best, xs, ys, order = None, [], [], 0
    for i, study in enumerate(studies):
        done = [t for t in study.get_trials(deepcopy=False) if t.value is not None]
        stage_x = list(range(order, order + len(done)))
        ax.scatter(stage_x, [t.value for t in done], s=14, color=STAGE_COLORS[i % len(STAGE_COLORS)],
                   label=f"stage {i + 1} ({study.user_attrs['epochs']} epochs)")
        for x, t in zip(stage_x, done):
            best = t.value if best is None else (max if ctx.settings.maximize else min)(best, t.value)
            xs.append(x)
            ys.append(best)
        order += len(done)
    ax.step(xs, ys, where="post", color="0.3", label="best so far")
    ax.set_xlabel("finished trial (in order)")
    ax.set_ylabel(ctx.settings.metric)
    ax.legend(frameon=False, fontsize=8)
    _layout(fig)
    return fig


def param_figure(ctx, studies, key: str, finished) -> Figure:
    fig = Figure(figsize=FIGSIZE)
    ax = fig.add_subplot()
    spaces = [space_from_dict(study.user_attrs["space"]) for study in studies]
    first = next(space[key] for space in spaces if key in space)     # an lr_scan stage holds lr alone
    for i, space in enumerate(spaces):
        if key not in space:
            continue
        p = space[key]
        color = STAGE_COLORS[i % len(STAGE_COLORS)]
        if p.numeric:
            ax.axvspan(p.low, p.high, color=color, alpha=0.08)
        pts = [(v[key], t.value) for s, t, v in finished if s == i and key in v]
        xs = [str(x) if not p.numeric else x for x, _ in pts]
        ax.scatter(xs, [y for _, y in pts], s=14, color=color, label=f"stage {i + 1}")
    if first.numeric:
        for edge in (first.low, first.high):
            ax.axvline(edge, color="0.4", linestyle="--", linewidth=0.8)
        if first.log:
            ax.set_xscale("log")
    ax.set_xlabel(f"{key} ({'log scale' if first.numeric and first.log else 'linear'}; dashed: first "
                  f"range, shaded: each stage's range)" if first.numeric else key)
    ax.set_ylabel(ctx.settings.metric)
    ax.legend(frameon=False, fontsize=8)
    _layout(fig)
    return fig


def scatter_figure(ctx, keys: list[str], finished, spaces) -> Figure:
    """The notes' 2-D picture: two parameters, each trial a dot coloured by the metric."""
    fig = Figure(figsize=FIGSIZE)
    ax = fig.add_subplot()
    a, b = keys
    pts = [(v[a], v[b], t.value) for _, t, v in finished if a in v and b in v]
    xs, ys = ([p[0] if spaces[a].numeric else str(p[0]) for p in pts],
              [p[1] if spaces[b].numeric else str(p[1]) for p in pts])
    drawn = ax.scatter(xs, ys, c=[p[2] for p in pts], cmap=CMAP, s=22)
    fig.colorbar(drawn, ax=ax, label=ctx.settings.metric)
    for key, setter in ((a, ax.set_xscale), (b, ax.set_yscale)):
        if spaces[key].numeric and spaces[key].log:
            setter("log")
    ax.set_xlabel(a)
    ax.set_ylabel(b)
    _layout(fig, right=0.9)     # the colorbar, its ticks and its label on the right
    return fig


def parallel_figure(ctx, keys: list[str], finished, spaces) -> Figure:
    """Parallel coordinates: each parameter scaled to [0, 1] on its own scale; one line a trial."""
    from matplotlib import colormaps

    fig = Figure(figsize=FIGSIZE)
    ax = fig.add_subplot()
    values = [t.value for _, t, _ in finished]
    lo, hi = min(values), max(values)
    cmap = colormaps[CMAP]
    for _, t, v in finished:
        ys = [_unit(spaces[k], v.get(k)) for k in keys]
        ax.plot(range(len(keys)), ys, color=cmap((t.value - lo) / (hi - lo) if hi > lo else 0.5),
                alpha=0.7, linewidth=1)
    ax.set_xticks(range(len(keys)), keys, rotation=20, fontsize=8)
    ax.set_ylabel("position in the first stage's range")
    ax.set_title(f"colour: {ctx.settings.metric} (yellow: high)", fontsize=9)
    longest = max(len(k) for k in keys)      # the labels are 8-point, turned 20 degrees
    _layout(fig, bottom=min(0.4, 0.1 + 0.35 * longest * CHAR_WIDTH), top=0.92)
    return fig


def _unit(p, value) -> float:
    if value is None:
        return float("nan")
    if not p.numeric:
        choices = [p.value(c) for c in p.choices]
        return choices.index(value) / max(1, len(choices) - 1) if value in choices else float("nan")
    to = math.log if p.log else float
    return (to(value) - to(p.low)) / (to(p.high) - to(p.low))


def importances(study) -> dict:
    """Optuna's parameter importances (its default evaluator) of a stage; {} when it cannot tell (too few
    trials, or one parameter)."""
    with warnings.catch_warnings():       # "too few trials": then every importance is equal, shown
        warnings.simplefilter("ignore")
        try:
            return optuna.importance.get_param_importances(study)
        except (ValueError, RuntimeError):
            return {}


def importance_figure(found: dict) -> Figure:
    fig = Figure(figsize=FIGSIZE)
    ax = fig.add_subplot()
    keys = list(found)[::-1]
    ax.barh(keys, [found[k] for k in keys], color=STAGE_COLORS[0])
    ax.set_xlabel("importance (Optuna's default evaluator)")
    _layout(fig, left=min(0.5, 0.05 + CHAR_WIDTH * max(len(k) for k in keys)))
    return fig


def _table(rows: list[dict], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c)))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def render(ctx, studies) -> str:
    s = ctx.settings
    finished = _finished(studies)
    # the first stage's ranges, and the whole space's for the options an lr_scan stage left out
    first = {**s.space, **space_from_dict(studies[0].user_attrs["space"])} if studies else {}
    found = importances(studies[-1]) if studies else {}
    keys = sorted(first, key=lambda k: -found.get(k, 0.0))
    body = [f"<h1>trainwell search: {html.escape(str(ctx.study_dir))}</h1>"]
    rows = trial_rows(studies)
    counts = {state: sum(r["state"] == state for r in rows) for state in ("complete", "pruned", "fail", "running")}
    summary = [("metric", f"{s.metric} ({'maximized' if s.maximize else 'minimized'})"),
               ("sampler", f"{s.sampler} (seed {s.seed})"), ("pruner", f"{s.pruner} + the 3x-first-loss rule"),
               ("folds", s.folds or "none (one validation split)"),
               ("trials", ", ".join(f"{n} {k}" for k, n in counts.items()))]
    index, best = best_of(studies, s.maximize)
    if best is not None:
        summary.append(("best", f"trial {best.number} (stage {index + 1}): {s.metric} = {best.value:.4g}"))
    body.append(_table([dict(summary)], [k for k, _ in summary]))
    body.append("<h2>Stages</h2>")
    for i, study in enumerate(studies):
        space = space_from_dict(study.user_attrs["space"])
        items = "".join(f"<li>{html.escape(p.describe())}</li>" for p in space.values())
        notes = "".join(f'<div class="note">{html.escape(m)}</div>' for m in study.user_attrs.get("messages", []))
        alone = f" ({', '.join(space)} alone, the rest at the config's values)" if len(space) < len(s.space) else ""
        body.append(f"<h3>stage {i + 1}: {study.user_attrs['trials']} trials of {study.user_attrs['epochs']} "
                    f"epochs{html.escape(alone)}</h3>{notes}<ul>{items}</ul>")
    if finished:
        figures = [_figure("Optimization history", "each finished trial's value; the line is the best so far",
                           history_figure(ctx, studies))]
        figures += [_figure(f"{s.metric} against {k}", "every finished trial, coloured by stage",
                            param_figure(ctx, studies, k, finished)) for k in keys]
        if len(keys) >= 2:
            figures.append(_figure(f"{keys[0]} and {keys[1]}", "the two most important parameters "
                                   "(notes 004: a 2-D view of the search), coloured by the metric",
                                   scatter_figure(ctx, keys[:2], finished, first)))
            figures.append(_figure("Parallel coordinates", "one line per finished trial",
                                   parallel_figure(ctx, keys, finished, first)))
        if found:
            figures.append(_figure("Parameter importances", "Optuna's importance evaluator on the last stage",
                                   importance_figure(found)))
        body.append(f'<h2>Figures</h2><div class="figures">{"".join(figures)}</div>')
    else:
        body.append('<p class="muted">No trial has finished yet.</p>')
    best_rows = [r for r in rows if r["state"] == "complete"]
    best_rows.sort(key=lambda r: (-r["stage"], -r["value"] if s.maximize else r["value"]))
    columns = ["stage", "trial", "value", *first, "fold_std", "seconds", "run_dir"]
    body.append(f"<h2>Best trials</h2>{_table(best_rows[:BEST_SHOWN], columns)}")
    pruned = [r for r in rows if r["state"] in ("pruned", "fail")]
    if pruned:
        body.append(f"<h2>Pruned and failed trials</h2>"
                    f"{_table(pruned, ['stage', 'trial', 'state', 'prune_reason', 'error', 'retry_of'])}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>trainwell search</title><style>{CSS}</style></head>"
            f"<body><main>{''.join(body)}</main></body></html>\n")


def write_study_report(study_dir, *, loaded: tuple[Context, list[optuna.Study]] | None = None) -> Path:
    """Writes ``STUDY_DIR/report.html``; returns its path. ``loaded``: the search's context and
    stage studies when the caller has them (the search that just ran: reading the journal again
    into a new storage replays every record, ~0.1 ms of CPU a trial); else ``load_studies``."""
    ctx, studies = loaded if loaded is not None else load_studies(Path(study_dir))
    return atomic_write_text(Path(study_dir) / REPORT_FILE, render(ctx, studies))
