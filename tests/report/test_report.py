"""The run report: plots from metrics.jsonl and a self-contained report.html."""
import base64
import json
import math
import os
import re
import struct
import warnings

import matplotlib
import pytest

from trainwell.errors import DataError
from trainwell.report import plots
from trainwell.report.html import fmt_seconds, write_report
from trainwell.train.metrics import read_metrics

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH, HEIGHT = (round(plots.FIGSIZE[0] * plots.DPI), round(plots.FIGSIZE[1] * plots.DPI))


def synthetic_records(n=12, *, val=True, acc=True, nan_epochs=()):
    records = []
    for e in range(1, n + 1):
        train_loss = 2.0 * math.exp(-0.3 * e)
        records.append({
            "epoch": e, "step": 50 * e, "lr": 0.1 * 0.7 ** e,
            "train_loss": float("nan") if e in nan_epochs else train_loss,
            "train_acc": 1 - 0.8 * math.exp(-0.4 * e) if acc else None,
            "val_loss": (train_loss + 0.1 + 0.01 * e) if val else None,
            # peaks at epoch 8 then falls: the best val acc is not the last one
            "val_acc": (0.9 - 0.002 * (e - 8) ** 2) if (val and acc) else None,
            "seconds": 1.25, "grad_norm": 3.0,  # an unknown key: ignored
        })
    return records


def make_run(tmp_path, records, *, config=None, results=True, babysit=None, tail=""):
    run_dir = tmp_path / "run-42"
    run_dir.mkdir()
    lines = "".join(json.dumps(r) + "\n" for r in records)
    (run_dir / "metrics.jsonl").write_text(lines + tail)
    cfg = config if config is not None else {
        "lr": 0.1, "epochs": len(records), "note": "<script>alert('x')</script>",
        "model": {"kind": "mlp", "widths": [64, 32]}, "data": {"source": "digits"}}
    (run_dir / "config.json").write_text(json.dumps(cfg))
    if results:
        (run_dir / "results.json").write_text(json.dumps({
            "test": {"loss": 0.3456, "acc": 0.8765, "n": 360}, "val": None,
            "stopped": "early stopping: val_loss did not improve for 3 epochs",
            "epochs": len(records), "best_epoch": 8, "seconds": 15.0}))
    if babysit is not None:
        (run_dir / "babysit.json").write_text(json.dumps(babysit))
    return run_dir


def embedded_pngs(page: str) -> list[bytes]:
    found = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    return [base64.b64decode(data) for data in found]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def default_report(tmp_path_factory):
    """``(run_dir, report.html)`` of ``make_run``'s default run of ``synthetic_records()``, written
    once (~0.8 CPU s of figures) for the tests that only read it."""
    run_dir = make_run(tmp_path_factory.mktemp("report"), synthetic_records())
    return run_dir, write_report(run_dir)


def test_report_is_self_contained_with_valid_embedded_pngs(default_report):
    run_dir, path = default_report
    assert path == run_dir / "report.html" and path.is_file()
    page = path.read_text()
    images = embedded_pngs(page)
    assert len(images) == 3
    assert all(png_size(img) == (WIDTH, HEIGHT) for img in images)
    for name in ("loss", "accuracy", "lr"):
        assert png_size((run_dir / "plots" / f"{name}.png").read_bytes()) == (WIDTH, HEIGHT)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert "<title>trainwell run: run-42</title>" in page


def test_summary_holds_the_numbers(default_report):
    records = synthetic_records()
    page = default_report[1].read_text()
    best = max(records, key=lambda r: r["val_acc"])  # independent of the report's own search
    assert best["epoch"] == 8
    assert f"{100 * best['val_acc']:.2f}% (epoch 8)" in page
    lowest = min(records, key=lambda r: r["val_loss"])
    assert f"{lowest['val_loss']:.4g} (epoch {lowest['epoch']})" in page
    last = records[-1]
    assert f"{last['train_loss']:.4g} / {100 * last['train_acc']:.2f}%" in page
    assert "15.0 s" in page
    assert "early stopping: val_loss did not improve for 3 epochs" in page
    assert '<td>test</td><td class="num">0.3456</td><td class="num">87.65%</td><td class="num">360</td>' in page


@pytest.mark.parametrize("kind, message, shown", [
    ("diverged", "the loss became nan by step 12", "diverged — the loss became nan by step 12"),
    ("early_stopping", "early stopping: val_loss has not improved for 3 epochs",
     "early stopping — early stopping: val_loss has not improved for 3 epochs"),
    ("unrepairable", "babysitter: cannot repair: nonfinite_data",
     "unrepairable — babysitter: cannot repair: nonfinite_data"),
    (None, "stopped by a run written before stop kinds", "stopped by a run written before stop kinds"),
])
def test_the_stop_kind_is_shown_beside_the_message(tmp_path, kind, message, shown):
    run_dir = make_run(tmp_path, synthetic_records(3))
    results = json.loads((run_dir / "results.json").read_text())
    results.update(stopped=message, stop_kind=kind)
    if kind is None:
        del results["stop_kind"]
    (run_dir / "results.json").write_text(json.dumps(results))
    page = write_report(run_dir).read_text()
    assert f"<th>Stopped</th><td>{shown}</td>" in page


def test_config_values_are_escaped_and_nested_tables_flattened(default_report):
    page = default_report[1].read_text()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert "<th>model.widths</th><td>[64, 32]</td>" in page


def test_missing_val_and_nan_losses_still_give_a_loss_plot(tmp_path):
    records = synthetic_records(8, val=False, nan_epochs={3, 7, 8})
    run_dir = make_run(tmp_path, records, results=False)
    page = write_report(run_dir).read_text()
    assert png_size((run_dir / "plots" / "loss.png").read_bytes()) == (WIDTH, HEIGHT)
    assert len(embedded_pngs(page)) == 3
    assert "Final val loss / accuracy</th><td>— / —" in page
    assert "no results.json" in page  # the stop reason is unknown, and says why


def test_all_nan_single_epoch_and_empty_plots_are_drawn(tmp_path):
    nan = float("nan")
    all_nan = [{"epoch": e, "lr": 0.1, "train_loss": nan, "val_loss": float("inf"),
                "train_acc": nan, "val_acc": nan} for e in (1, 2, 3)]
    single = synthetic_records(1, val=False)
    for name, records in (("nan", all_nan), ("single", single), ("empty", [])):
        for draw in (plots.loss_curves, plots.accuracy_curves, plots.learning_rate):
            out = draw(records, tmp_path / name / f"{draw.__name__}.png")
            assert png_size(out.read_bytes()) == (WIDTH, HEIGHT)


def test_log_scale_rule():
    # more than two decades of finite positive values -> log; NaN, inf and None do not count
    assert plots.use_log_scale([1.0, 101.0])
    assert not plots.use_log_scale([1.0, 100.0])
    assert not plots.use_log_scale([0.01, 0.5, float("nan"), float("inf"), None])
    assert not plots.use_log_scale([0.0, 1e-6, 10.0])  # a zero cannot go on a log axis
    assert not plots.use_log_scale([float("nan")])
    assert plots.use_log_scale([1.0, 20.0], log_ratio=10.0)


def test_plots_leave_pyplot_and_the_backend_alone(tmp_path):
    import matplotlib.pyplot as plt

    backend, figures = matplotlib.get_backend(), plt.get_fignums()
    plots.loss_curves(synthetic_records(), tmp_path / "loss.png")
    assert matplotlib.get_backend() == backend and plt.get_fignums() == figures


def test_truncated_last_line_is_skipped(tmp_path):
    records = synthetic_records(5)
    run_dir = make_run(tmp_path, records, tail='{"epoch": 6, "step": 300, "lr": 0.0')
    with pytest.warns(UserWarning, match="line 6 is cut off"):
        assert read_metrics(run_dir) == records
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        page = write_report(run_dir).read_text()
    assert "metrics.jsonl line 6 is cut off" in page


def test_corrupt_middle_line_raises_naming_the_line(tmp_path):
    run_dir = make_run(tmp_path, synthetic_records(3))
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    lines[1] = lines[1][:20]
    (run_dir / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"metrics\.jsonl line 2: not valid JSON"):
        read_metrics(run_dir)


def test_missing_metrics_raises_data_error_naming_the_file(tmp_path):
    with pytest.raises(DataError, match=r"metrics\.jsonl: not found"):
        write_report(tmp_path)
    assert not (tmp_path / "report.html").exists()


def test_regression_run_has_no_accuracy_figure(tmp_path):
    run_dir = make_run(tmp_path, synthetic_records(6, acc=False))
    page = write_report(run_dir).read_text()
    assert len(embedded_pngs(page)) == 2
    assert not (run_dir / "plots" / "accuracy.png").exists()
    assert "Best val accuracy</th><td>—" in page


def test_empty_metrics_file_gives_a_report_without_figures(tmp_path):
    run_dir = make_run(tmp_path, [], results=False)
    page = write_report(run_dir).read_text()
    assert embedded_pngs(page) == [] and "holds no complete epoch yet" in page


def test_nan_strings_in_results_are_shown_as_nan(tmp_path):
    # fit() writes non-finite floats into results.json as strings ("nan", "inf")
    run_dir = make_run(tmp_path, synthetic_records(3))
    (run_dir / "results.json").write_text(json.dumps(
        {"test": {"loss": "nan", "acc": 0.1}, "val": None, "stopped": "diverged",
         "epochs": 3, "best_epoch": None, "seconds": 125.0}))
    page = write_report(run_dir).read_text()
    assert '<td class="num">NaN</td><td class="num">10.00%</td></tr>' in page
    assert "<th>examples</th>" not in page  # no "n" recorded: no column of dashes
    assert "2 min 05 s" in page


def test_babysit_section_renders_findings_and_repairs(tmp_path):
    babysit = {
        "findings": [
            {"code": "lr_too_low", "severity": "info", "message": "loss barely changing",
             "evidence": {"relative_change": 0.001}, "where": "epochs 1-5", "fix": "raise lr"},
            {"code": "loss_nan", "severity": "error", "message": "loss is NaN <at step 412>",
             "evidence": "loss=nan", "where": "step 412", "fix": "lower lr or clip_norm"},
        ],
        "repairs": [{"step": 412, "epoch": 3, "action": "halve lr", "reason": "loss spiked"}],
    }
    page = write_report(make_run(tmp_path, synthetic_records(), babysit=babysit)).read_text()
    section = page[page.index("<h2>Babysitter</h2>"):]
    assert section.index("loss_nan") < section.index("lr_too_low")  # errors first
    assert "sev-error" in section and "sev-info" in section
    assert "loss is NaN &lt;at step 412&gt;" in section
    assert "{&quot;relative_change&quot;: 0.001}" in section
    assert "step 412, epoch 3: <strong>halve lr</strong>" in section


def test_babysit_with_wrong_shape_raises_naming_the_file(tmp_path):
    run_dir = make_run(tmp_path, synthetic_records(2), babysit={"findings": "none"})
    with pytest.raises(DataError, match=r"babysit\.json: 'findings' must be a list"):
        write_report(run_dir)


def test_fmt_seconds():
    assert [fmt_seconds(s) for s in (3.04, 59.9, 125, 3725, None, "nan")] == [
        "3.0 s", "59.9 s", "2 min 05 s", "1 h 02 min", "—", "—"]


# ------------------------------------------------------------------ the report's files
# Written through new temp files and atomic renames: a symlink planted at an output (or at an old
# temp name) is replaced, and the file it points at is never written.
OUTPUTS = ["plots/loss.png", "plots/accuracy.png", "plots/lr.png", "report.html"]
OLD_TEMP_NAMES = ["report.html.tmp", "plots/loss.png.tmp"]   # the names earlier versions wrote


def _plant_links(run_dir, victims_dir, names):
    victims = {}
    (run_dir / "plots").mkdir(exist_ok=True)
    for name in names:
        victim = victims_dir / name.replace("/", "_")
        victim.write_bytes(b"precious " + name.encode())
        os.symlink(victim, run_dir / name)
        victims[victim] = victim.read_bytes()
    return victims


def test_symlinks_at_outputs_and_temp_names_leave_their_targets_untouched(tmp_path):
    run_dir = make_run(tmp_path, synthetic_records())
    victims_dir = tmp_path / "victims"
    victims_dir.mkdir()
    victims = _plant_links(run_dir, victims_dir, OUTPUTS + OLD_TEMP_NAMES)
    write_report(run_dir)
    for victim, content in victims.items():
        assert victim.read_bytes() == content, f"{victim} was written through a symlink"
    for name in OUTPUTS:
        path = run_dir / name
        assert path.is_file() and not path.is_symlink(), name
    assert (run_dir / "plots" / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert (run_dir / "report.html").read_text().startswith("<!DOCTYPE html>")
    leftovers = [p.name for p in run_dir.rglob(".*") if p.name != "plots"]
    assert leftovers == [], "temp files were left behind"


def test_a_plots_directory_that_is_a_symlink_is_refused(tmp_path):
    run_dir = make_run(tmp_path, synthetic_records())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, run_dir / "plots")
    with pytest.raises(DataError, match=r"plots: a symlink"):
        write_report(run_dir)
    assert list(elsewhere.iterdir()) == []


def test_a_read_only_run_directory_is_one_data_error_naming_the_file(tmp_path, read_only):
    run_dir = make_run(tmp_path, synthetic_records())
    (run_dir / "plots").mkdir()
    with read_only(run_dir / "plots", run_dir):       # as root: immutable (tests/conftest.py)
        with pytest.raises(DataError, match=rf"loss\.png: cannot write it \({read_only.error}\)"):
            write_report(run_dir)


def test_docs_report_page_lists_every_figure():
    """docs/report.md names every entry of FIGURES, as `name`, with its plots/ file."""
    from pathlib import Path

    from trainwell.report.html import FIGURES
    text = (Path(__file__).parents[2] / "docs" / "report.md").read_text()
    for name in FIGURES:
        assert f"`{name}`" in text or f"{name}.png" in text, f"docs/report.md: figure {name!r} missing"
        assert f"{name}.png" in text, f"docs/report.md: plots/{name}.png missing from the run directory"
