"""The double-descent example runs end to end with tiny settings (its real settings are in its
README). examples/sgd_vs_sam trains a model per optimizer and seed and is run by hand (its README has the numbers):
it only calls the public functions tested in test_runs.py."""
import csv
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
               "--epochs", "10", "--train", "60", "--seeds", "0")
    rows = list(csv.DictReader(open(tmp_path / "double_descent.csv")))
    assert [int(r["width"]) for r in rows] == [2, 32] and "interpolation threshold" in out
    assert (tmp_path / "by_width.png").is_file() and (tmp_path / "by_epoch.png").is_file()

