"""The study's journal file: Optuna's journal format, an flock lock and fsync by group commit.

Optuna's ``JournalFileBackend`` fsyncs every record and, by default, locks with a symlink that a
waiter polls with a back-off from 1 ms doubling to 1 s (``JournalFileSymlinkLock``). A trial is
about eight records (the trial, each parameter, the worker, the outcome, the result), so on one
machine its workers spent their time in fsyncs (a few ms each) and in back-off sleeps behind each
other's fsyncs (BENCHMARKS.md, "Hyperparameter search"). Here, for the default journal
``STUDY_DIR/study.journal``:

- ``FlockLock``: an ``flock`` on ``study.journal.lock``. The kernel wakes a waiter as soon as the
  holder lets go (no polling), and drops the lock when its holder dies (``kill -9`` too), so it
  never goes stale. A journal on a filesystem shared between machines (``storage = PATH``) keeps
  Optuna's symlink lock, which is made for NFS.
- ``GroupCommitBackend``: a record is written and flushed at once, so every process on the
  machine sees it at once (one page cache), and a killed worker loses nothing it wrote. The
  file is fsynced by ``StudyJournal.sync()``: after a trial's result when ``SYNC_S`` seconds have
  passed since the last fsync, and always at the end of a worker and of a stage's plan. A power
  cut then loses at most the results told in the last ``SYNC_S`` seconds; a lost trial is run
  again (a running trial is failed by its missing heartbeat and retried, a lost one is asked
  anew), as a database's group commit trades the last moments for fewer fsyncs.

The file stays Optuna's: ``optuna.storages.JournalStorage(JournalFileBackend(path))`` reads it.
"""
from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator

import optuna
from optuna.storages.journal import JournalFileBackend

try:
    import fcntl
except ImportError:        # Windows: no flock; Optuna's symlink lock instead
    fcntl = None

# Seconds between fsyncs of the journal while trials finish; trainwell convention (a power cut
# loses at most this much of the study: those trials run again).
SYNC_S = 1.0
LOCK_SUFFIX = ".lock"      # Optuna's own suffix for a journal's lock file


class FlockLock:
    """An exclusive ``flock`` on ``PATH.lock`` for one append (see the module doc); it has the
    ``acquire``/``release`` of Optuna's journal file locks (whose base class is not public). The
    lock file is opened once and kept open: each append then costs a flock and an unlock."""

    def __init__(self, journal_path: str):
        self.path = journal_path + LOCK_SUFFIX
        self._fd: int | None = None
        self._held = False

    def acquire(self) -> bool:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._held = True
        return True

    def release(self) -> None:
        if not self._held:
            raise RuntimeError(f"{self.path}: released without being held")
        self._held = False
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    # os.close bound at definition: __del__ may run at interpreter exit, after module globals are cleared
    def close(self, _close=os.close) -> None:
        """Close the lock file (dropping the lock if held)."""
        fd, self._fd, self._held = self._fd, None, False
        if fd is not None:
            _close(fd)

    def __del__(self):
        self.close()


class GroupCommitBackend(JournalFileBackend):
    """Optuna's journal file with fsync left to ``sync`` (see the module doc); reading is Optuna's,
    with two shortcuts: nothing is read when the file has not grown since the last read (most of a
    worker's reads: Optuna reads the journal before every answer), and when all it has grown by
    is this process's last append, those lines are taken from memory (Optuna reads back each of
    its own writes)."""

    def __init__(self, path: str, *, lock):
        self.path, self.lock = path, lock
        self._fd: int | None = None       # the journal, opened once for appending (O_APPEND)
        self._batch: list[dict] | None = None     # inside batched(): the records waiting
        self._batch_thread: int | None = None     # ... of this thread (a heartbeat's go straight in)
        # this process's last append: (the file's size before it, after it, its lines), for read_logs
        self._appended: tuple[int, int, list[bytes]] | None = None
        super().__init__(path, lock_obj=lock)
        self.dirty, self.synced = False, time.monotonic()

    def append_logs(self, logs: list[dict]) -> None:
        if self._batch is not None and threading.get_ident() == self._batch_thread:
            self._batch.extend(logs)
            return
        lines = [(json.dumps(log, separators=(",", ":")) + "\n").encode("utf-8") for log in logs]
        data = b"".join(lines)
        self.lock.acquire()
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            start = os.lseek(self._fd, 0, os.SEEK_END)    # under the lock: where these lines go
            self._appended = None         # until the lines are whole in the file
            view = memoryview(data)
            while view:                   # a regular file takes it whole; a short write is finished
                view = view[os.write(self._fd, view):]
            self._appended = (start, start + len(data), lines)
            self.dirty = True
        finally:
            self.lock.release()

    @contextlib.contextmanager
    def batched(self) -> Iterator[None]:
        """The records appended in this block are written at its end, in one append (one lock, one
        write). Until then no process reads them, this one included: for records nobody reads
        before the block ends (a trial's deferred reports, pruning.py). Only this thread's
        records wait; another thread's (a heartbeat) are written as they come."""
        self._batch, self._batch_thread = [], threading.get_ident()
        try:
            yield
        finally:
            logs, self._batch, self._batch_thread = self._batch, None, None
            if logs:
                self.append_logs(logs)

    def read_logs(self, log_number_from: int):
        # Optuna's backend keeps the byte offset of each log number it has read (a private map:
        # without it, its own read runs)
        offsets = getattr(self, "_log_number_offset", {})
        offset = offsets.get(log_number_from)
        if offset is None:
            return super().read_logs(log_number_from)
        size = os.stat(self.path).st_size
        if offset == size:
            return ()
        appended = self._appended
        if appended is not None and appended[:2] == (offset, size):
            return self._own_lines(log_number_from, offset, appended[2])
        return super().read_logs(log_number_from)

    def _own_lines(self, log_number_from: int, offset: int, lines: list[bytes]) -> list[dict]:
        """What the file holds from ``offset`` when all of it is this process's last append: its
        lines, decoded as Optuna decodes the file's (``json.loads`` of each), from memory, with the
        byte offset of each next log number recorded as Optuna's read records it. Optuna reads the
        journal after each of its writes, so most reads of a worker's own records end here instead
        of opening the file and reading them back (BENCHMARKS.md, per-trial cost, ninth pass)."""
        records = []
        for number, line in enumerate(lines, start=log_number_from):
            offset += len(line)
            self._log_number_offset[number + 1] = offset
            records.append(json.loads(line))
        return records

    def drop_torn_tail(self) -> None:
        """Cut a partial last line (an append a power cut or a full disk left unfinished) off the
        journal, under the lock, once its complete lines have been read as records. Optuna's read
        skips such a line, but an append would be glued onto it, and the glued line, followed by
        others, would make the whole journal unreadable. Appends are whole under the lock, so a
        partial line seen under it is no other writer's record in progress. A file of one partial
        line and nothing else is refused (ValueError): nothing shows that it is a journal."""
        self.lock.acquire()
        try:
            with open(self.path, "rb+") as f:
                size = f.seek(0, os.SEEK_END)
                if size == 0 or os.pread(f.fileno(), 1, size - 1) == b"\n":
                    return
                f.seek(0)
                keep = f.read().rfind(b"\n") + 1
                if keep == 0:
                    raise ValueError("it holds no complete record, only a partial line")
                f.truncate(keep)
                os.fsync(f.fileno())
        finally:
            self.lock.release()

    def sync(self, *, force: bool = False) -> bool:
        """fsync the journal when records are unsynced and ``force`` or ``SYNC_S`` have passed
        since the last fsync; whether it did."""
        if not self.dirty or not (force or time.monotonic() - self.synced >= SYNC_S):
            return False
        self.dirty = False            # records appended from here on wait for the next sync
        os.fsync(self._fd)            # dirty: opened by an append
        self.synced = time.monotonic()
        return True

    def close(self, _close=os.close) -> None:      # os.close bound as FlockLock.close's
        fd, self._fd = self._fd, None
        if fd is not None:
            _close(fd)
        close_lock = getattr(self.lock, "close", None)     # a FlockLock's (Optuna's locks have none)
        if close_lock is not None:
            close_lock()

    def __del__(self):
        self.close()


class StudyJournal(optuna.storages.JournalStorage):
    """Optuna's ``JournalStorage`` on a ``GroupCommitBackend``, with its ``sync``."""

    def __init__(self, path: str, *, shared: bool):
        lock = optuna.storages.journal.JournalFileSymlinkLock(path) if shared or fcntl is None \
            else FlockLock(path)
        self.journal = GroupCommitBackend(path, lock=lock)
        super().__init__(self.journal)        # reads every complete record (ValueError and such if damaged)
        self.journal.drop_torn_tail()

    def sync(self, *, force: bool = False) -> bool:
        return self.journal.sync(force=force)


def batched(storage):
    """``GroupCommitBackend.batched`` on a study journal; on other storages each record is written
    as it comes."""
    return storage.journal.batched() if isinstance(storage, StudyJournal) else contextlib.nullcontext()


def sync(storage, *, force: bool = False) -> None:
    """fsync a study journal (see ``GroupCommitBackend.sync``); other storages commit themselves."""
    if isinstance(storage, StudyJournal):
        storage.sync(force=force)
