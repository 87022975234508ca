"""Continuing a run that ended, for more epochs (``trainwell fit --resume RUN --continue``).

An exact resume needs the run's own options; a continuation changes one thing, the length
(``epochs`` or ``max_steps``), and records where it did so in the run's ``continued`` option:

    continued = [{epoch = 40, step = 760, total_steps = 760}]

(the epoch and step the run had reached, and the length in steps its schedule was built for).
The learning-rate schedule restarts at each continuation: steps before it follow the schedule as
it was (built for ``total_steps``), the added steps follow the run's own schedule (warmup
included) built for the added steps alone, counted from the continuation (a warm restart, as in
SGDR, Loshchilov & Hutter 2017). A cosine run continued from 40 to 60 epochs thus anneals from
the base lr to its final value again over epochs 41-60: the steps already taken are never
re-scheduled, and the added ones get a whole schedule, not the tail of a stretched one.

Everything else continues as a resume does (weights, optimizer state, RNGs, history, best
weights, the babysitter's state). The continuation is part of the options, so a continued run that
is killed resumes exactly (``--resume RUN``), and ``results.json`` lists it.
"""
from __future__ import annotations

from trainwell.errors import ConfigError
from trainwell.train.state import Stop

# What a continuation may change besides what a resume may: the run's length, and the record.
LENGTH_OPTIONS = ("epochs", "max_steps")
RECORD = "continued"             # the option that records them (config.check_continued checks it)


def continuation(saved_config: dict, counters: dict, stop: Stop | None, total_steps: int) -> dict:
    """The ``continued`` entry for a run whose newest checkpoint has ``counters`` (step, epoch)
    and ``stop``, built for ``total_steps``. Only a run that ended as planned is continued (it
    stopped, or trained all its steps or epochs: the last epoch's checkpoint is written before the
    run marks itself finished): one still running (or killed) is resumed, one that failed is not
    extended."""
    ended = counters["step"] >= total_steps or counters["epoch"] >= saved_config.get("epochs", 0)
    if stop is None and not ended:
        raise ConfigError(f"--continue: the run has not ended (its newest checkpoint is at epoch "
                          f"{counters['epoch']} of {saved_config.get('epochs')}); resume it with "
                          f"--resume alone, then continue it")
    if stop is not None and stop.failed:
        raise ConfigError(f"--continue: the run failed ({stop.kind.value}: {stop.message}); continuing "
                          f"would train on from that state: fix the setup and start a new run")
    return {"epoch": counters["epoch"], "step": counters["step"], "total_steps": total_steps}


def check_continuation(before: dict, now: dict, *, may_change, run_dir, total_steps: int) -> None:
    """A continuation's options against the run's saved ones: only the length and what a resume
    may change differ, one entry is added to ``continued``, and the new length goes beyond the
    step the run reached."""
    added = now[RECORD][len(before.get(RECORD) or []):]
    if now[RECORD][:len(before.get(RECORD) or [])] != (before.get(RECORD) or []) or len(added) != 1:
        raise ConfigError(f"continued: must be the run's own record plus one entry (in {run_dir})")
    changed = sorted(k for k in now if k not in may_change and k not in LENGTH_OPTIONS and k != RECORD
                     and before.get(k) != now[k])
    if changed:
        raise ConfigError(f"--continue: only {' and '.join(LENGTH_OPTIONS)} may change; {changed[0]} "
                          f"differs from the run in {run_dir} ({before.get(changed[0])!r} -> "
                          f"{now[changed[0]]!r})")
    reached = added[0]
    if total_steps <= reached["step"]:
        raise ConfigError(f"--continue: the run already trained {reached['epoch']} epochs ({reached['step']} "
                          f"steps); set a larger length, e.g. --set epochs={reached['epoch'] * 3 // 2 or 1}"
                          + (f" (max_steps = {now['max_steps']} ends it sooner)" if now.get("max_steps") else ""))


class ContinuedSchedule:
    """The schedule of a continued run: segment k covers steps [start_k, start_{k+1}) and is the
    run's schedule built for ``length_k`` steps, called with the step counted from ``start_k``.
    ``observe`` (a plateau schedule) goes to the segment of the latest step; ``state_dict`` holds
    every segment's; a checkpoint from before the continuation (one schedule's state) loads into
    the first segment."""

    def __init__(self, segments: list[tuple[int, object]]):
        self.segments = segments              # [(start step, schedule)], starts increasing
        self._active = 0

    def __call__(self, step: int) -> float:
        index = max(i for i, (start, _) in enumerate(self.segments) if start <= step or i == 0)
        self._active = max(self._active, index)   # a rollback never crosses a continuation
        start, schedule = self.segments[index]
        return schedule(step - start)

    def observe(self, value) -> None:
        schedule = self.segments[self._active][1]
        if hasattr(schedule, "observe"):
            schedule.observe(value)

    def state_dict(self) -> dict:
        return {"segments": {str(i): s.state_dict() for i, (_, s) in enumerate(self.segments)
                             if hasattr(s, "state_dict")}}

    def load_state_dict(self, state: dict) -> None:
        if "segments" not in state:           # saved before the run was continued
            state = {"segments": {"0": state}}
        for key, saved in state["segments"].items():
            self.segments[int(key)][1].load_state_dict(saved)


def continued_schedule(entries: list[dict], total_steps: int, build):
    """The run's schedule over ``total_steps`` given its ``continued`` entries; ``build(length)``
    makes the run's own schedule for ``length`` steps. Without entries: ``build(total_steps)``."""
    if not entries:
        return build(total_steps)
    starts = [0] + [e["step"] for e in entries]
    lengths = [entries[0]["total_steps"]] + [
        (entries[i + 1]["total_steps"] if i + 1 < len(entries) else total_steps) - entries[i]["step"]
        for i in range(len(entries))]
    return ContinuedSchedule([(start, build(max(length, 1))) for start, length in zip(starts, lengths)])


def reopen(state, entries: list[dict]) -> None:
    """After loading a checkpoint: a run checkpointed where it was last continued (or before)
    ended there, and the continuation trains on, so its stop is cleared. A failed stop stays."""
    if entries and state.step <= entries[-1]["step"] and state.stop is not None and not state.stop.failed:
        state.stop = None
