"""A progress bar callback (tqdm) with live loss and accuracy; silent when not on a terminal."""
from __future__ import annotations

from tqdm.auto import tqdm

from trainwell.train.callbacks import Callback

REDRAW_S = 0.2      # the bar redraws at most 5 times a second: live to the eye, cheap for the loop


class Progress(Callback):
    """One bar over all steps. The postfix shows the loss of the trainer's last divergence-check
    window (already synced there) during an epoch, and the epoch's loss and accuracy at its end,
    so the bar adds no host sync to the step."""

    def __init__(self, *, disable: bool | None = None, file=None):
        self.disable, self.file = disable, file
        self.bar = None
        self._shown = None

    def on_fit_start(self, state):
        self.bar = tqdm(total=state.total_steps, initial=state.step, unit="step", file=self.file,
                        disable=self.disable, dynamic_ncols=True, leave=False, mininterval=REDRAW_S)

    def on_after_step(self, state):
        self.bar.update(1)
        if state.recent_loss is not None and state.recent_loss != self._shown:
            self._shown = state.recent_loss
            self.bar.set_postfix({"epoch": state.epoch + 1, "loss": f"{state.recent_loss:.4f}"},
                                 refresh=False)

    def on_epoch_end(self, state):
        m = state.metrics
        post = {"epoch": m["epoch"], "loss": f"{m['train_loss']:.4f}"}
        if m.get("train_acc") is not None:
            post["acc"] = f"{m['train_acc']:.3f}"
        if m.get("val_acc") is not None:
            post["val_acc"] = f"{m['val_acc']:.3f}"
        self.bar.set_postfix(post, refresh=True)

    def on_fit_end(self, state):
        if self.bar is not None:
            self.bar.close()
