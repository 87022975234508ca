"""The double-descent example runs end to end with tiny settings (its real settings are in its
README). examples/sgd_vs_sam trains a model per optimizer and seed and is run by hand (its README has the numbers):
it only calls the public functions tested in test_runs.py."""
import csv
import runpy
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parents[2] / "examples"


def _run(script, monkeypatch, capsys, *args):
    """The script as ``python SCRIPT ARGS`` runs it (``__main__``, its own arguments), in this
    process: a fresh interpreter would only add its imports (~4 CPU s) to the example's work."""
    monkeypatch.setattr(sys, "argv", [str(EXAMPLES / script), *args])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    return capsys.readouterr().out


def test_double_descent_example(tmp_path, monkeypatch, capsys):
    out = _run("double_descent/double_descent.py", monkeypatch, capsys, "--out", str(tmp_path),
               "--widths", "2", "32", "--epochs", "10", "--train", "60", "--seeds", "0")
    rows = list(csv.DictReader(open(tmp_path / "double_descent.csv")))
    assert [int(r["width"]) for r in rows] == [2, 32] and "interpolation threshold" in out
    assert (tmp_path / "by_width.png").is_file() and (tmp_path / "by_epoch.png").is_file()
