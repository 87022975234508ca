"""The geometry examples run end to end with tiny settings (their real settings are in their READMEs)."""
import csv
import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parents[2] / "examples"


def _run(script, *args):
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_double_descent_example(tmp_path):
    out = _run("double_descent/double_descent.py", "--out", str(tmp_path), "--widths", "2", "32",
               "--epochs", "30", "--train", "100")
    rows = list(csv.DictReader(open(tmp_path / "double_descent.csv")))
    assert [int(r["width"]) for r in rows] == [2, 32] and "highest mean test error" in out
    assert (tmp_path / "by_width.png").is_file() and (tmp_path / "by_epoch.png").is_file()


def test_sgd_vs_sam_example(tmp_path):
    out = _run("sgd_vs_sam/sgd_vs_sam.py", "--out", str(tmp_path), "--seeds", "0", "--epochs", "1",
               "--steps", "3", "--trace-samples", "2")
    saved = json.loads((tmp_path / "sgd_vs_sam.json").read_text())
    assert set(saved) == {"sgd", "sam"} and saved["sam"][0]["top_eigenvalue"] > 0
    assert "top_eigenvalue" in out and (tmp_path / "sgd_vs_sam_lines.png").is_file()
