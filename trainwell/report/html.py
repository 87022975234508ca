"""The run report: ``write_report(run_dir)`` turns a run directory into one self-contained page.

Reads what the trainer wrote (``config.json``, ``metrics.jsonl``, ``results.json`` and, when a
babysitter ran, ``babysit.json``), draws the figures of ``trainwell.report.plots`` into
``run_dir/plots/`` and writes ``run_dir/report.html``: the PNGs embedded as base64 data URIs, the
CSS inline, no scripts and no external links, so the file can be mailed or archived alone.

The reader is tolerant of a run that did not finish: a last line of ``metrics.jsonl`` cut off by a
crash is skipped (with a warning and a note in the report), and a missing ``results.json`` or
``config.json`` is reported as missing. A run directory without ``metrics.jsonl`` raises
``DataError`` naming that file.
"""
from __future__ import annotations

import base64
import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from trainwell.errors import DataError
from trainwell.report import babysit_plots, ensemble_plots, plots
from trainwell.report.plots import as_float
from trainwell.train.metrics import METRICS_FILE, read_metrics_noting_cuts
from trainwell.train.rundir import atomic_write_text, make_directory

CONFIG_FILE = "config.json"
RESULTS_FILE = "results.json"
BABYSIT_FILE = "babysit.json"
REPORT_FILE = "report.html"
PLOTS_DIR = "plots"


# ------------------------------------------------------------------ reading the run directory
def _read_json_object(path: Path) -> dict | None:
    """A JSON file holding one object; ``None`` when the file does not exist."""
    if not path.is_file():
        return None
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: not valid JSON ({e.msg}, line {e.lineno} column {e.colno})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{path}: expected a JSON object {{...}}, got {type(obj).__name__}")
    return obj


@dataclass
class RunFiles:
    """Everything the report reads from one run directory (``None``: that file is missing)."""

    run_dir: Path
    records: list[dict]
    config: dict | None = None
    results: dict | None = None
    babysit: dict | None = None
    notes: list[str] = field(default_factory=list)


def read_run(run_dir) -> RunFiles:
    """Reads a run directory; raises ``DataError`` when ``metrics.jsonl`` is missing."""
    run_dir = Path(run_dir)
    records, note = read_metrics_noting_cuts(run_dir)
    babysit = _read_json_object(run_dir / BABYSIT_FILE)
    if babysit is not None:
        _check_babysit(babysit, run_dir / BABYSIT_FILE)
    return RunFiles(run_dir=run_dir, records=records,
                    config=_read_json_object(run_dir / CONFIG_FILE),
                    results=_read_json_object(run_dir / RESULTS_FILE),
                    babysit=babysit, notes=[note] if note else [])


def _check_babysit(babysit: dict, path: Path) -> None:
    for key in ("findings", "repairs"):
        items = babysit.get(key, [])
        if not isinstance(items, list):
            raise DataError(f"{path}: {key!r} must be a list, got {type(items).__name__}")
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise DataError(f"{path}: {key}[{i}] must be an object, got {type(item).__name__}")


# ------------------------------------------------------------------ the figures, as data
@dataclass(frozen=True)
class FigureSpec:
    """One figure of the report: ``draw(data(run), path)``; a ``data`` of ``None`` skips it."""

    draw: Callable
    data: Callable[[RunFiles], object]
    title: str
    caption: str
    section: str = "training"  # "training" (the curves) or "babysit" (the babysitter's section)


def _records(run: RunFiles):
    return run.records or None


def _records_with_accuracy(run: RunFiles):
    has_acc = any(r.get("train_acc") is not None or r.get("val_acc") is not None for r in run.records)
    return run.records if has_acc else None  # regression: no accuracy figure


FIGURES: dict[str, FigureSpec] = {
    "loss": FigureSpec(
        plots.loss_curves, _records, "Loss",
        "Train and validation loss per epoch (notes 004: monitor and visualize the loss curve). "
        "A loss that barely moves suggests a learning rate that is too low; NaN almost always "
        "means one that is too high (NaN/inf epochs are marked with x)."),
    "accuracy": FigureSpec(
        plots.accuracy_curves, _records_with_accuracy, "Accuracy",
        "Train and validation accuracy, the gap shaded (notes 004: monitor and visualize the "
        "accuracy). A big gap means overfitting: increase the regularization strength. "
        "No gap: maybe increase the model capacity."),
    "lr": FigureSpec(
        plots.learning_rate, _records, "Learning rate",
        "The learning rate at the end of each epoch (notes 004: decay the learning rate by a "
        "factor of ~100 or more by the end of training)."),
    "averaged": FigureSpec(
        ensemble_plots.averaged_curves,
        lambda run: run.records if any("raw_val_loss" in r for r in run.records) else None,
        "Averaged vs raw weights",
        "Validation loss of the averaged weights (average = EMA or SWA), which validation, the best "
        "weights and the saved model use, next to the raw training weights' (docs/ensembles.md)."),
    "gradient_norms": FigureSpec(
        babysit_plots.gradient_norms, lambda run: _babysit(run, "samples"), "Gradient norms",
        "‖∇W‖ per layer at the babysitter's sampled steps. Lines falling by decades towards the "
        "input layer mean vanishing gradients; a sharp rise, exploding ones (notes 004).",
        section="babysit"),
    "update_ratios": FigureSpec(
        babysit_plots.update_ratios, lambda run: _babysit(run, "samples"), "Update / weight ratios",
        "‖ΔW‖/‖W‖ per layer per step; a healthy value is about 1e-3 (notes 001: 0.01 is probably "
        "too high): far above, the learning rate is too high; far below, too low.", section="babysit"),
    "activation_stats": FigureSpec(
        babysit_plots.activation_stats, lambda run: _babysit(run, "activations"), "Activation statistics",
        "Per-layer mean and std of the activations at the first and last sampled steps (notes 004's "
        "activation-statistics figures: stds collapsing to 0 or saturating units).", section="babysit"),
}


def _babysit(run: RunFiles, key: str):
    data = (run.babysit or {}).get(key)
    return data or None


# ------------------------------------------------------------------ formatting values
def fmt_loss(value) -> str:
    v = as_float(value)
    if v is None:
        return "—"
    return _nonfinite(v) if not math.isfinite(v) else f"{v:.4g}"


def fmt_acc(value) -> str:
    v = as_float(value)
    if v is None:
        return "—"
    return _nonfinite(v) if not math.isfinite(v) else f"{100 * v:.2f}%"


def fmt_seconds(value) -> str:
    v = as_float(value)
    if v is None or not math.isfinite(v):
        return "—"
    if v < 60:
        return f"{v:.1f} s"
    minutes, seconds = divmod(round(v), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _nonfinite(v: float) -> str:
    return "NaN" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def _fmt_epoch(value) -> str:
    v = as_float(value)
    return "—" if v is None else f"{v:g}"


def _text(value) -> str:
    """Any config/results value as text: strings as they are, the rest as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, Path):
        return str(value)
    return json.dumps(value, default=str)


# ------------------------------------------------------------------ the summary
def summarize(run: RunFiles) -> list[tuple[str, str]]:
    """The summary table as (label, formatted value) rows."""
    records, results = run.records, run.results or {}
    last = records[-1] if records else {}
    rows = []
    epochs = results.get("epochs", last.get("epoch", len(records)))
    steps = results.get("steps", last.get("step"))
    steps_text = f" ({_fmt_epoch(steps)} steps)" if steps is not None else ""
    rows.append(("Epochs run", _fmt_epoch(epochs) + steps_text))
    best_acc = plots.best_epoch(records, "val_acc", largest=True)
    rows.append(("Best val accuracy", "—" if best_acc is None else
                 f"{fmt_acc(best_acc[1])} (epoch {_fmt_epoch(best_acc[0])})"))
    best_loss = plots.best_epoch(records, "val_loss", largest=False)
    rows.append(("Lowest val loss", "—" if best_loss is None else
                 f"{fmt_loss(best_loss[1])} (epoch {_fmt_epoch(best_loss[0])})"))
    if results.get("best_epoch") is not None and results.get("monitor"):
        monitor = results["monitor"]
        value = results.get("best_value")
        shown = fmt_acc(value) if str(monitor).endswith("acc") else fmt_loss(value)
        rows.append(("Best epoch by monitor",
                     f"epoch {_fmt_epoch(results['best_epoch'])} ({monitor} = {shown})"))
    rows.append(("Final train loss / accuracy",
                 f"{fmt_loss(last.get('train_loss'))} / {fmt_acc(last.get('train_acc'))}"))
    rows.append(("Final val loss / accuracy",
                 f"{fmt_loss(last.get('val_loss'))} / {fmt_acc(last.get('val_acc'))}"))
    seconds = results.get("seconds")
    if seconds is None:
        seconds = sum(as_float(r.get("seconds")) or 0.0 for r in records)
    rows.append(("Total time", fmt_seconds(seconds)))
    rows.append(("Stopped", _stopped(run.results)))
    return rows


def _stopped(results: dict | None) -> str:
    """Why the run ended: its stop kind (results.json's ``stop_kind``) beside the message."""
    if results is None:
        return f"unknown: no {RESULTS_FILE} (the run was killed or is still running)"
    message = str(results.get("stopped") or "ran all its epochs")
    kind = results.get("stop_kind")
    return message if kind is None else f"{str(kind).replace('_', ' ')} — {message}"


# ------------------------------------------------------------------ HTML pieces
CSS = """
:root { --fg: #1d2330; --muted: #5b6475; --line: #e3e6ec; --bg: #ffffff; --panel: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
       font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 1.6rem; margin: 0 0 2px; }
h2 { font-size: 1.2rem; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.path { color: var(--muted); font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85rem;
        word-break: break-all; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
table.kv th { width: 16em; background: none; color: var(--muted); font-weight: 500; }
table.config td { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85rem;
                  word-break: break-word; }
td.num { font-variant-numeric: tabular-nums; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 18px; }
figure { margin: 0; padding: 12px; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
figure img { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: .85rem; margin-top: 6px; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 8px 12px; margin: 12px 0;
        font-size: .9rem; }
.muted { color: var(--muted); }
.sev { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: .8rem; font-weight: 600;
       text-transform: uppercase; letter-spacing: .02em; }
.sev-error { background: #fde2e1; color: #a4161a; }
.sev-warning { background: #fff1cc; color: #8a5a00; }
.sev-info { background: #e3edfb; color: #1f4f99; }
.sev-other { background: #eceef2; color: #444; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85rem; }
ol.repairs li { margin: 4px 0; }
"""

SEVERITY_ORDER = {"critical": 0, "error": 0, "warning": 1, "warn": 1, "info": 2}
SEVERITY_CLASS = {"critical": "sev-error", "error": "sev-error", "warning": "sev-warning",
                  "warn": "sev-warning", "info": "sev-info"}


def _e(value) -> str:
    """HTML-escaped text of any value (quotes too, so it is safe inside attributes)."""
    return html.escape(_text(value), quote=True)


def _kv_table(rows, *, css_class: str = "kv") -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="{css_class}">{body}</table>'


def _figure_html(title: str, caption: str, png: Path) -> str:
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    return (f'<figure><img alt="{_e(title)}" src="data:image/png;base64,{data}">'
            f"<figcaption><strong>{_e(title)}.</strong> {_e(caption)}</figcaption></figure>")


def _figures_html(figures: list[str]) -> str:
    return f'<div class="figures">{"".join(figures)}</div>' if figures else ""


def _metrics_html(run: RunFiles) -> str:
    if run.results is None:
        return f'<p class="muted">No {RESULTS_FILE}: the final evaluation did not run.</p>'
    splits = [(name, run.results.get(name)) for name in ("test", "val")]
    splits = [(name, result) for name, result in splits if isinstance(result, dict)]
    if not splits:
        return '<p class="muted">This run had no validation or test split.</p>'
    with_n = any(result.get("n") is not None for _, result in splits)  # an examples column
    head = "<tr><th>split</th><th>loss</th><th>accuracy</th>" + ("<th>examples</th>" if with_n else "")
    rows = []
    for name, result in splits:
        cells = [fmt_loss(result.get("loss")), fmt_acc(result.get("acc"))]
        if with_n:
            cells.append("—" if result.get("n") is None else result["n"])
        rows.append(f"<tr><td>{_e(name)}</td>" + "".join(f'<td class="num">{_e(c)}</td>' for c in cells)
                    + "</tr>")
    return f"<table>{head}</tr>{''.join(rows)}</table>"


def _flatten(config: dict, prefix: str = "") -> list[tuple[str, object]]:
    """Nested tables become dotted keys: {"model": {"width": 64}} -> ("model.width", 64)."""
    rows = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows.extend(_flatten(value, prefix=f"{name}."))
        else:
            rows.append((name, value))
    return rows


def _config_html(config: dict | None) -> str:
    if config is None:
        return f'<p class="muted">No {CONFIG_FILE} in this run directory.</p>'
    return _kv_table(_flatten(config), css_class="kv config")


def _babysit_html(babysit: dict, figures: list[str]) -> str:
    findings = sorted(babysit.get("findings", []),
                      key=lambda f: SEVERITY_ORDER.get(str(f.get("severity", "")).lower(), 1.5))
    parts = []
    if findings:
        rows = []
        for f in findings:
            severity = str(f.get("severity", "")).lower()
            badge = SEVERITY_CLASS.get(severity, "sev-other")
            cells = [f'<span class="sev {badge}">{_e(f.get("severity", "?"))}</span>',
                     f'<code>{_e(f.get("code", "—"))}</code>']
            cells += [_e("—" if f.get(k) is None else f.get(k))
                      for k in ("message", "evidence", "where", "fix")]
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        parts.append("<table><tr><th>severity</th><th>code</th><th>finding</th><th>evidence</th>"
                     "<th>where</th><th>fix</th></tr>" + "".join(rows) + "</table>")
    else:
        parts.append('<p class="muted">No findings: the babysitter saw nothing wrong.</p>')
    repairs = babysit.get("repairs", [])
    if repairs:
        items = []
        for r in repairs:
            when = f"step {_e(_fmt_epoch(r.get('step')))}, epoch {_e(_fmt_epoch(r.get('epoch')))}"
            items.append(f"<li>{when}: <strong>{_e(r.get('action', '—'))}</strong>"
                         f" &mdash; {_e(r.get('reason', ''))}</li>")
        parts.append(f'<h3>Repairs ({len(repairs)})</h3><ol class="repairs">{"".join(items)}</ol>')
    else:
        parts.append('<p class="muted">No repairs were made.</p>')
    parts.append(_figures_html(figures))
    return "".join(parts)


# ------------------------------------------------------------------ the report
def draw_figures(run: RunFiles) -> dict[str, list[str]]:
    """Draws every applicable figure of ``FIGURES`` into ``run_dir/plots/NAME.png``;
    returns the figures' HTML grouped by section."""
    sections: dict[str, list[str]] = {}
    make_directory(run.run_dir / PLOTS_DIR)
    for name, spec in FIGURES.items():
        data = spec.data(run)
        if data is None:
            continue
        png = spec.draw(data, run.run_dir / PLOTS_DIR / f"{name}.png")
        sections.setdefault(spec.section, []).append(_figure_html(spec.title, spec.caption, Path(png)))
    return sections


def render(run: RunFiles, figures: dict[str, list[str]]) -> str:
    """The report page as one HTML string."""
    name = run.run_dir.resolve().name or str(run.run_dir)
    notes = "".join(f'<div class="note">{_e(n)}</div>' for n in run.notes)
    curves = (_figures_html(figures.get("training", [])) if run.records
              else f'<p class="muted">{METRICS_FILE} holds no complete epoch yet.</p>')
    body = [
        f"<h1>trainwell run: {_e(name)}</h1>",
        f'<div class="path">{_e(run.run_dir.resolve())}</div>',
        notes,
        "<h2>Summary</h2>", _kv_table(summarize(run)),
        "<h2>Training curves</h2>", curves,
        "<h2>Final metrics</h2>", _metrics_html(run),
    ]
    if run.babysit is not None:
        body += ["<h2>Babysitter</h2>", _babysit_html(run.babysit, figures.get("babysit", []))]
    body += _geometry_html(run.run_dir)
    body += ["<h2>Configuration</h2>", _config_html(run.config)]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>trainwell run: {_e(name)}</title><style>{CSS}</style></head>"
            f"<body><main>{''.join(body)}</main></body></html>\n")


def _geometry_html(run_dir: Path) -> list[str]:
    """The figures that ``trainwell landscape | connect | visualize`` wrote into run_dir/geometry/
    (listed with titles and captions in its figures.json), as a section; none: nothing."""
    listed = _read_json_object(run_dir / "geometry" / "figures.json") or {}
    figures = [_figure_html(*listed[png][:2], run_dir / "geometry" / png) for png in sorted(listed)
               if isinstance(listed[png], list) and (run_dir / "geometry" / png).is_file()]
    return ["<h2>Geometry and visualization</h2>", _figures_html(figures)] if figures else []


def write_report(run_dir) -> Path:
    """Writes ``run_dir/plots/*.png`` and a self-contained ``run_dir/report.html``; returns its path."""
    run = read_run(run_dir)
    page = render(run, draw_figures(run))
    return atomic_write_text(run.run_dir / REPORT_FILE, page)   # never through an existing link
