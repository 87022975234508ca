"""Progress for people and for logs: a tqdm bar on a terminal, one line per epoch elsewhere.

On a terminal the bar redraws in place and its last state stays on screen when training ends.
When the output is a file or a pipe (``trainwell fit ... | tee log``, a CI job, ``nohup``) a bar
would be either silent or a stream of carriage returns, so ``Progress`` prints one plain line per
epoch instead, which a log keeps and ``grep`` reads:

    epoch 3/40  step 87  train_loss 0.4123  train_acc 0.8812  val_loss 0.4410  val_acc 0.8700  lr 0.0487  1.2 s
"""
from __future__ import annotations

import sys

from tqdm.auto import tqdm

from trainwell.train.callbacks import Callback

REDRAW_S = 0.2      # the bar redraws at most 5 times a second: live to the eye, cheap for the loop
LINE_METRICS = ("train_loss", "train_acc", "val_loss", "val_acc")   # in this order, when present
BAR, LINES, OFF = "bar", "lines", "off"


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):      # no isatty, or a closed stream
        return False


def epoch_line(metrics: dict, epochs: int) -> str:
    """One epoch's metrics as the log line above: epoch, step, the losses and accuracies that the
    run has, the learning rate and the epoch's seconds (``None`` values are left out)."""
    parts = [f"epoch {metrics['epoch']}/{epochs}", f"step {metrics['step']}"]
    parts += [f"{k} {metrics[k]:.4f}" for k in LINE_METRICS if metrics.get(k) is not None]
    parts += [f"lr {metrics['lr']:.4g}", f"{metrics['seconds']:.1f} s"]
    return "  ".join(parts)


class Progress(Callback):
    """Progress of a run. ``mode``: ``"bar"`` (a tqdm bar over all steps), ``"lines"`` (one line
    per epoch), ``"off"``, or None (the default): a bar when ``file`` (stderr) is a terminal,
    lines otherwise. ``disable=True`` is ``mode="off"``; ``disable=False`` forces the bar.

    The bar's postfix shows the loss of the trainer's last divergence-check window (already synced
    there) during an epoch, and the epoch's loss and accuracy at its end; both modes read only
    values the loop has already synced, so progress adds no host sync to the step."""

    def __init__(self, *, mode: str | None = None, disable: bool | None = None, file=None):
        if disable is not None:
            mode = OFF if disable else BAR
        if mode not in (None, BAR, LINES, OFF):
            raise ValueError(f"Progress mode = {mode!r}: allowed: {BAR}, {LINES}, {OFF} or None")
        self.mode, self.file = mode, file
        self.bar = None
        self._shown = None
        self._epochs = 0
        self._lines = False

    def _stream(self):
        return self.file if self.file is not None else sys.stderr

    def on_fit_start(self, state):
        mode = self.mode or (BAR if _is_terminal(self._stream()) else LINES)
        self._epochs = state.config.epochs
        self.bar = None
        if mode == BAR:
            # leave=True: the bar's last state (steps, epoch, loss, accuracy) stays visible
            self.bar = tqdm(total=state.total_steps, initial=state.step, unit="step", file=self.file,
                            dynamic_ncols=True, leave=True, mininterval=REDRAW_S)
        self._lines = mode == LINES

    def on_after_step(self, state):
        if self.bar is None:
            return
        self.bar.update(1)
        if state.recent_loss is not None and state.recent_loss != self._shown:
            self._shown = state.recent_loss
            self.bar.set_postfix({"epoch": state.epoch + 1, "loss": f"{state.recent_loss:.4f}"},
                                 refresh=False)

    def on_epoch_end(self, state):
        m = state.metrics
        if self._lines:
            print(epoch_line(m, self._epochs), file=self._stream(), flush=True)
        if self.bar is None:
            return
        post = {"epoch": m["epoch"], "loss": f"{m['train_loss']:.4f}"}
        if m.get("train_acc") is not None:
            post["acc"] = f"{m['train_acc']:.3f}"
        if m.get("val_acc") is not None:
            post["val_acc"] = f"{m['val_acc']:.3f}"
        self.bar.set_postfix(post, refresh=True)

    def on_fit_end(self, state):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
