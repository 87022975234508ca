"""bench/babysit_reach.py's shell that every check's scan builds its side on (``on_prepared``, ``timed``,
``skipped``, ``alarm_codes``): the run prepared as the doctor prepares it, the pre-flight's sample where
asked, a side that raises skipped with its error, and CPU seconds last in a row that was read."""
import sys
from pathlib import Path

import torch
from torch import nn

_BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(_BENCH))
from babysit_reach import alarm_codes, info_codes, on_prepared, skipped, timed  # noqa: E402
from trainwell.babysit.findings import make  # noqa: E402


def _setup(rows=64):
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(rows, 4, generator=g), torch.randint(0, 3, (rows,), generator=g)
    return nn.Linear(4, 3), (X, y), None, None, {"epochs": 1}


def test_a_read_side_gets_the_prepared_run_and_its_rows_and_its_cpu_seconds_last():
    def read(p, X, y):
        return {"alarms": [], "rows": X.shape[0], "copy": p.model is not model}
    model, tr, va, te, opts = _setup()
    row = on_prepared(timed(read), model, tr, va, te, opts, sample=True)
    assert list(row) == ["alarms", "rows", "copy", "cpu_s"] and row["copy"] and row["cpu_s"] >= 0
    assert on_prepared(read, model, tr, va, te, opts)["rows"] == 64      # untimed: no cpu_s


def test_a_side_that_raises_or_is_not_read_is_skipped_and_not_timed():
    def read(p, X, y):
        raise ValueError("columns do not match")
    row = on_prepared(timed(read), *_setup())
    assert row == {"alarms": [], "skipped": "ValueError: columns do not match"}
    assert on_prepared(timed(lambda p, X, y: skipped("inputs not a tensor")), *_setup()) == skipped("inputs not a tensor")


def test_the_alarms_are_the_warnings_and_errors_each_code_once():
    found = [make("lr_too_low", "a"), make("lr_too_low", "b"), make("unnormalized_inputs", "c", severity="error"),
             make("plateau", "d", severity="info")]
    assert alarm_codes(found) == ["lr_too_low", "unnormalized_inputs"] and info_codes(found) == ["plateau"]
