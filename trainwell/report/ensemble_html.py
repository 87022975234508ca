"""``ENSEMBLE/report.html``: the ensemble against its members (accuracy, NLL, ECE), the
reliability diagram, members vs ensemble, and for snapshot/FGE the lr cycles with the points where
members were taken. Self-contained like a run's report (report/html.py): PNGs embedded."""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from trainwell.ensembles.combine import ENSEMBLE_FILE, read_ensemble_info
from trainwell.errors import DataError
from trainwell.report import ensemble_plots
from trainwell.report.html import CSS, PLOTS_DIR, REPORT_FILE
from trainwell.train.rundir import atomic_write_text, make_directory


def _figure(title: str, caption: str, png: Path) -> str:
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    return (f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,{data}">'
            f"<figcaption><b>{html.escape(title)}.</b> {html.escape(caption)}</figcaption></figure>")


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.4f}"


def _table(results: dict, split: str) -> str:
    rows = [(f"member {i}", m.get(split) or {}) for i, m in enumerate(results.get("members", []))]
    rows.append(("ensemble", results.get(split) or {}))
    body = "".join(f"<tr><td>{html.escape(name)}</td><td>{_fmt(r.get('acc'))}</td>"
                   f"<td>{_fmt(r.get('nll', r.get('loss')))}</td><td>{_fmt(r.get('ece'))}</td></tr>"
                   for name, r in rows)
    return (f"<table><tr><th>{split}</th><th>accuracy</th><th>NLL (regression: loss)</th><th>ECE</th></tr>"
            f"{body}</table>")


def write_ensemble_report(run_dir) -> Path:
    """Writes ``run_dir/plots/*.png`` and ``run_dir/report.html`` for an ensemble directory."""
    run_dir = Path(run_dir)
    info = read_ensemble_info(run_dir)
    try:
        results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(f"{run_dir / 'results.json'}: cannot read the ensemble's results "
                        f"({type(e).__name__})") from None
    plots = run_dir / PLOTS_DIR
    make_directory(plots)
    split = "test" if results.get("test") else "val"
    figures = []
    ens = results.get(split) or {}
    if ens.get("bins"):
        bins = {"ensemble": ens["bins"]}
        bins.update({f"member {i}": m[split]["bins"] for i, m in enumerate(results["members"][:2])
                     if (m.get(split) or {}).get("bins")})
        figures.append(_figure("Reliability diagram", f"Accuracy against confidence on the {split} split in "
                               "15 bins (Guo et al. 2017); the dashed diagonal is perfect calibration, "
                               "the ECE the count-weighted gap to it.",
                               ensemble_plots.reliability(bins, plots / "reliability.png")))
    if ens.get("acc") is not None:
        rows = [(f"member {i}", m[split]["acc"]) for i, m in enumerate(results["members"])]
        figures.append(_figure("Members vs ensemble", f"{split} accuracy of each member and of the ensemble.",
                               ensemble_plots.members_vs_ensemble(rows + [("ensemble", ens["acc"])],
                                                                  plots / "members.png")))
    if "lr_curve" in info:
        figures.append(_figure("Learning-rate cycles", "The one run's learning rate and the steps at which "
                               "members were taken (snapshot: each cycle's end; FGE: each cycle's minimum).",
                               ensemble_plots.lr_cycles({**info["lr_curve"], "member_steps": info["member_steps"]},
                                                        plots / "lr_cycles.png")))
    name = run_dir.resolve().name
    summary = (f"<p>{html.escape(info['method'])}: {len(info['members'])} members combined by "
               f"{html.escape(info['combine'])}, weights {', '.join(f'{w:.3g}' for w in info['weights'])}.</p>")
    tables = "".join(_table(results, s) for s in ("val", "test") if results.get(s))
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>trainwell ensemble: {html.escape(name)}</title><style>{CSS}</style></head><body><main>"
            f"<h1>trainwell ensemble: {html.escape(name)}</h1>{summary}<h2>Members and ensemble</h2>{tables}"
            f"<h2>Figures</h2>{''.join(figures)}</main></body></html>\n")
    return atomic_write_text(run_dir / REPORT_FILE, page)


def is_ensemble(run_dir) -> bool:
    return (Path(run_dir) / ENSEMBLE_FILE).is_file()
