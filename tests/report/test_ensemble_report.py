"""The ensemble's report (report/ensemble_html.py) and the averaged-vs-raw figure of a run's report."""
import trainwell
from trainwell.cli import main

OPTIONS = dict(optimizer="sgd", lr=0.1, epochs=4, batch_size=32, seed=0, progress=False, babysit="off",
               device="cpu")


def test_an_ensemble_report_has_its_table_and_figures(blobs, tmp_path):
    X, y = blobs
    trainwell.ensemble({"type": "mlp", "widths": [16]}, (X[:200], y[:200]), (X[200:250], y[200:250]),
                       test=(X[250:], y[250:]), method="snapshot", members=2, run_dir=tmp_path / "e", **OPTIONS)
    page = (tmp_path / "e" / "report.html").read_text()
    assert page.count("<figure>") == 3 and "member 1" in page and "ECE" in page
    assert {p.name for p in (tmp_path / "e" / "plots").iterdir()} == {"reliability.png", "members.png",
                                                                      "lr_cycles.png"}
    (tmp_path / "e" / "report.html").unlink()
    assert main(["report", str(tmp_path / "e")]) == 0 and (tmp_path / "e" / "report.html").is_file()


def test_a_run_with_averaging_shows_the_raw_curve_beside_the_averaged_one(blobs, tmp_path):
    X, y = blobs
    trainwell.fit({"type": "mlp", "widths": [16]}, (X[:250], y[:250]), val=(X[250:], y[250:]),
                  average={"method": "ema", "decay": 0.9}, run_dir=tmp_path / "r", report=True, **OPTIONS)
    assert (tmp_path / "r" / "plots" / "averaged.png").is_file()
    assert "Averaged vs raw weights" in (tmp_path / "r" / "report.html").read_text()
    trainwell.fit({"type": "mlp", "widths": [16]}, (X[:250], y[:250]), val=(X[250:], y[250:]),
                  run_dir=tmp_path / "plain", report=True, **OPTIONS)
    assert not (tmp_path / "plain" / "plots" / "averaged.png").exists()
