import io
import re

import pytest
import torch

import trainwell
from trainwell.train.progress import Progress, epoch_line

FIT = dict(epochs=3, batch_size=16, check_every=5, progress=False, babysit="off", device="cpu")


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_shows_live_loss_and_accuracy(blobs):
    buf = io.StringIO()
    bar = Progress(disable=False, file=buf)
    trainwell.fit(torch.nn.Linear(2, 3), blobs, callbacks=[bar], **FIT)
    text = buf.getvalue()
    assert "loss=" in text and "acc=" in text and "epoch=3" in text


def test_on_a_terminal_the_bars_last_state_stays_visible(blobs):
    buf = Terminal()
    trainwell.fit(torch.nn.Linear(2, 3), blobs, callbacks=[Progress(file=buf)], **FIT)
    last = buf.getvalue().rstrip("\n").split("\r")[-1]       # what the terminal shows at the end
    assert "100%" in last and "epoch=3" in last and "acc=" in last


def test_off_a_terminal_progress_is_one_log_line_per_epoch(blobs):
    buf = io.StringIO()                                       # a file or a pipe: not a terminal
    X, y = blobs
    run = trainwell.fit(torch.nn.Linear(2, 3), (X[:240], y[:240]), val=(X[240:], y[240:]),
                        callbacks=[Progress(file=buf)], **FIT)
    lines = buf.getvalue().splitlines()
    assert "\r" not in buf.getvalue() and len(lines) == 3
    pattern = (r"epoch (\d)/3  step (\d+)  train_loss ([\d.]+)  train_acc ([\d.]+)  val_loss ([\d.]+)  "
               r"val_acc ([\d.]+)  lr ([\d.e+-]+)  ([\d.]+) s")
    for line, h in zip(lines, run.history):
        epoch, step, loss, acc, val_loss, val_acc, lr, _ = re.fullmatch(pattern, line).groups()
        assert (int(epoch), int(step)) == (h["epoch"], h["step"])
        assert float(loss) == pytest.approx(h["train_loss"], abs=1e-4)
        assert float(val_acc) == pytest.approx(h["val_acc"], abs=1e-4)
        assert float(lr) == pytest.approx(h["lr"], rel=1e-3)


def test_the_epoch_line_leaves_out_what_the_run_does_not_have():
    line = epoch_line({"epoch": 2, "step": 10, "train_loss": 0.5, "train_acc": None, "val_loss": None,
                       "val_acc": None, "lr": 0.01, "seconds": 0.25}, 5)
    assert line == "epoch 2/5  step 10  train_loss 0.5000  lr 0.01  0.2 s"


def test_progress_off_writes_nothing_and_a_bad_mode_is_refused(blobs):
    buf = io.StringIO()
    trainwell.fit(torch.nn.Linear(2, 3), blobs, callbacks=[Progress(mode="off", file=buf)], **FIT)
    assert buf.getvalue() == ""
    with pytest.raises(ValueError, match="allowed: bar, lines, off"):
        Progress(mode="bars")
