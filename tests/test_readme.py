"""The README's tour runs as written: its Python blocks, in order, in a fresh directory, print what
their comments say (the keys of an epoch's record, the test split's size, class ids on new rows)."""
import contextlib
import io
import re
from pathlib import Path

import torch

README = (Path(__file__).parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_python_blocks_run_and_print_what_they_say(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert len(BLOCKS) >= 2, "the README's tour has lost its Python blocks"
    scope: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in BLOCKS:                  # the later blocks use the first one's names
            exec(compile(block, "README.md", "exec"), scope)
    history_comment = re.search(r"print\(run\.history\[-1\]\)\s*# (.*)", BLOCKS[0]).group(1)
    documented_keys = [key.strip() for key in history_comment.split(",")]
    assert list(scope["again"].history[-1]) == documented_keys     # runs/mine, read back from disk
    run = scope["run"]                        # the last fit: it holds its splits
    test = run.evaluate("test")
    assert set(test) == {"loss", "acc", "n"} and test["n"] == 500
    # new rows on the source's scale are classified as well as the test split is
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    predicted = run.predict(X[:300] / 16)
    assert predicted.dtype == torch.long
    assert (predicted.numpy() == y[:300]).mean() >= test["acc"] - 0.05
    assert torch.isfinite(scope["loss"])
