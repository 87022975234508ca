"""Promotion by resuming: a later stage continues an earlier trial instead of training it again.

Successive halving (Jamieson & Talwalkar 2016) and its asynchronous form ASHA (Li et al. 2020)
promote a configuration from a short rung to a longer one by training it on, not from scratch.
trainwell resumes a run bit-identically from its checkpoint (weights, optimizer, schedule, RNGs,
batch order, the babysitter's state), so promotion is a resume:

- with ``promote = "resume"`` every trial of the search trains with the schedule of the longest
  stage (``schedule_epochs``) and is *paused* at its own stage's epochs (``Pause``): the run stops
  there as if a callback stopped it, its end checkpoint is the run's state at that epoch, and the
  checkpoint says it was paused (``PAUSED``, a checkpointed extra);
- a later stage's re-evaluation of that configuration copies the paused trial's run (its resolved
  options and its checkpoint, ``copy_run``) into its own run directory and resumes it there
  (``Unpause`` clears the pause), so it trains only the remaining epochs and ends where a fresh run
  of the full schedule ends (tests/hpsearch/test_promotion.py asserts equal weights and metrics on
  CPU).

``"retrain"`` (the default) trains each stage's trials from scratch on a schedule of their own
stage's length: a coarse trial's accuracy is that of a short annealed run. docs/search.md says
which to choose and why.
"""
from __future__ import annotations

from pathlib import Path

from trainwell.train.callbacks import Callback
from trainwell.train.checkpoint import load_latest, save_checkpoint
from trainwell.train.rundir import atomic_write_text, make_run_dir
from trainwell.train.state import Stop, StopKind

# how a later stage re-evaluates an earlier configuration (the ``promote`` option)
PROMOTIONS = ("retrain", "resume")
PAUSED = "search_paused_at"      # the checkpointed extra that marks a paused trial (its epoch)
CHECKPOINTS = "checkpoints"
COPIED = ("config.json", "config.toml")   # a run's resolved options: what a resume checks against


class Pause(Callback):
    """Stops the run at the end of epoch ``epochs`` (of a longer schedule), marked as a pause
    so that a later resume trains on. Does nothing when something else already stopped it."""

    def __init__(self, epochs: int):
        self.epochs = epochs

    def on_epoch_end(self, state):
        if state.stop is None and state.epoch >= self.epochs:
            state.extras[PAUSED] = state.epoch
            state.stop = Stop(StopKind.CALLBACK, f"paused at epoch {state.epoch} of {state.config.epochs}: "
                                                 f"a later stage may resume it")


class Unpause(Callback):
    """Clears the pause of a resumed paused run (its checkpoint holds the pause as its stop)."""

    def on_fit_start(self, state):
        if state.extras.pop(PAUSED, None) is not None:
            state.stop = None


def paused_epoch(run_dir: Path) -> int | None:
    """The epoch at which the run in ``run_dir`` was paused (its newest checkpoint), or None when
    it holds no paused run to resume (no checkpoint: a lost directory; or it ran to its end)."""
    found = load_latest(Path(run_dir) / CHECKPOINTS, map_location="cpu")
    return None if found is None else found[1].get("extras", {}).get(PAUSED)


def promotable(run_dir, folds: int | None, epochs: int) -> bool:
    """Whether the trial in ``run_dir`` (each of its ``folds``) was paused before ``epochs``, so
    that a trial of ``epochs`` can continue it; a trial whose files were lost (a power cut, a
    study moved without its trials) is trained from scratch instead, to the same result."""
    dirs = [Path(run_dir) / f"fold-{f}" for f in range(folds)] if folds else [Path(run_dir)]
    reached = [paused_epoch(d) for d in dirs]
    return all(e is not None and e < epochs for e in reached)


def copy_run(source: Path, run_dir: Path) -> None:
    """Put the paused run of ``source`` into the empty or cleared ``run_dir``: its resolved options
    and its newest checkpoint (verified on reading, written anew atomically); ``fit`` with
    ``resume = true`` there writes the rest (metrics.jsonl from the checkpoint's history)."""
    source, run_dir = Path(source), Path(run_dir)
    found = load_latest(source / CHECKPOINTS, map_location="cpu")
    if found is None:
        raise FileNotFoundError(f"{source}: no checkpoint to promote")
    make_run_dir(run_dir)
    for name in COPIED:
        if (source / name).is_file():
            atomic_write_text(run_dir / name, (source / name).read_text(encoding="utf-8"))
    manifest, state = found
    save_checkpoint(run_dir / CHECKPOINTS, state, name=manifest.stem, keep=1)
