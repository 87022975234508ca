"""Rank 0's decisions under DDP, as a journal: the changes its callbacks (the babysitter's
repairs) make through ``state.controls`` (train/controls.py) between two checks, which every other
rank replays at the check (``Distributed.agree`` in train/distributed.py), so the replicas stay
equal (docs/distributed.md, "The babysitter and its repairs")."""
from __future__ import annotations

import contextlib
import itertools
import weakref


class Journal:
    """Rank 0's changes through ``state.controls`` (train/controls.py) since the last check, as
    ``(method, args, kwargs)`` entries that the other ranks replay there (``Distributed.agree``).

    Changes are recorded only while the loop holds a decision point ``open`` (the hooks that a
    check follows before any other step: ``on_fit_start``, ``on_after_step`` of a check step,
    ``on_validation_end``, ``on_epoch_end``): what rank 0 changed there, every rank changes at
    the same point of the run. A snapshot is an entry too: each rank takes its own at that point
    (the weights and optimizer equal rank 0's; its own random-number states and running sums), and
    a rollback restores, on every rank, the snapshot of the same id. Snapshots rank 0 no longer
    holds (``live``) are dropped on the others. A change under a change (the calls a repair action
    makes) is part of it, not an entry of its own.

    ``share(name, get, follow)``: a value of rank 0's that the other ranks take at every check
    (``shared()`` on rank 0, ``follow_shared`` elsewhere): the babysitter's sampling schedule, which
    a repair moves on rank 0 (babysit/monitor.py ``Monitor.schedule``)."""

    def __init__(self, *, rank0: bool):
        self.rank0 = rank0
        self.open = False
        self.entries: list = []
        self._depth = 0
        self._replaying = False
        self._ids = itertools.count()
        self._held = weakref.WeakValueDictionary()   # rank 0: id -> the snapshots still referenced
        self._mirrors: dict = {}                      # the other ranks: id -> their own snapshot
        self._shared: dict = {}                       # name -> (get, follow)

    def record(self, name: str, args: tuple, kwargs: dict, change):
        """Make ``change()`` (the controls' ``name(*args, **kwargs)``), recording it on rank 0."""
        if self._depth or self._replaying:
            return change()
        if not self.rank0:
            raise RuntimeError(f"state.controls.{name} on a rank other than 0: under DDP the run "
                               f"changes by rank 0's decisions, replayed on every rank at the next "
                               f"check; make the change from rank 0 (docs/distributed.md)")
        self._check_open(name)
        if name == "restore":
            args = (args[0].id,) + args[1:]
        self._depth += 1
        try:
            result = change()
        finally:
            self._depth -= 1
        self.entries.append((name, args, kwargs))
        return result

    def took(self, snapshot) -> None:
        """Name a snapshot rank 0 just took (an entry: the other ranks take theirs at the check)."""
        if self._replaying or not self.rank0:
            return
        self._check_open("snapshot")
        snapshot.id = next(self._ids)
        self._held[snapshot.id] = snapshot
        if not self._depth:
            self.entries.append(("snapshot", (snapshot.id,), {}))

    def adopted(self, snapshot) -> None:
        """Name a snapshot rank 0's callback read back from a checkpoint (``Controls.adopt``); the
        entry carries it to the other ranks (sent once, at the resumed run's start), which then
        hold rank 0's random states and running sums for it (docs/distributed.md)."""
        if self._replaying or not self.rank0:
            return
        self._check_open("adopt")
        snapshot.id = next(self._ids)
        self._held[snapshot.id] = snapshot
        self.entries.append(("adopt", (snapshot.id, dict(snapshot)), {}))

    def _check_open(self, name: str) -> None:
        if not self.open:
            raise RuntimeError(f"state.controls.{name} between two checks: under DDP the run "
                               f"changes only at a decision point (on_after_step of a check step, "
                               f"every check_every steps, or at the epoch's end), where every rank "
                               f"makes the same change; wait for one (state.controls.may_change)")

    def share(self, name: str, get, follow) -> None:
        """At every check, the other ranks call ``follow(value)`` with rank 0's ``get()``."""
        self._shared[name] = (get, follow)

    def shared(self) -> dict:
        """Rank 0's shared values, by name."""
        return {name: get() for name, (get, _) in self._shared.items()}

    def follow_shared(self, values: dict) -> None:
        """Take rank 0's shared ``values`` (names this rank does not share are left alone)."""
        for name, value in values.items():
            if name in self._shared:
                self._shared[name][1](value)

    def take(self) -> list:
        """The entries since the last check (rank 0), cleared."""
        entries, self.entries = self.entries, []
        return entries

    def live(self) -> list:
        """The ids of the snapshots rank 0 still holds."""
        return sorted(self._held.keys())

    @contextlib.contextmanager
    def replaying(self):
        """Changes made inside are every rank's own (a checkpoint's settings, a replay)."""
        before, self._replaying = self._replaying, True
        try:
            yield
        finally:
            self._replaying = before

    def replay(self, controls, entries: list, live: list) -> None:
        """Make rank 0's ``entries`` here, in order; keep the snapshots named in ``live``."""
        with self.replaying():
            for name, args, kwargs in entries:
                if name == "snapshot":
                    self._mirrors[args[0]] = controls.snapshot()
                elif name == "adopt":
                    self._mirrors[args[0]] = args[1]
                elif name == "restore":
                    controls.restore(self._mirrors[args[0]], *args[1:], **kwargs)
                else:
                    getattr(controls, name)(*args, **kwargs)
        keep = set(live)
        self._mirrors = {k: v for k, v in self._mirrors.items() if k in keep}
