"""A run directory's files: the one safe way to write them, and the lock one run holds on it.

Every file trainwell writes into a run directory (model, preprocessing, JSON, metrics.jsonl,
plots, report.html, checkpoints) goes through ``atomic_write``: a new file with an unpredictable
name is created exclusively (``O_CREAT | O_EXCL | O_NOFOLLOW``, so never an existing file or a
planted symlink), written, fsynced and renamed over the target with ``os.replace``,
which replaces a symlink at the target instead of following it. A reader (or a crash) sees the
old file or the new one, never half of one, and no file outside the directory is ever written.
The one file that grows instead, ``metrics.jsonl``, is appended through ``AppendFile``: one
``O_APPEND | O_NOFOLLOW`` descriptor held open across epochs (never a symlink's target), one whole
line a ``write``; a process killed mid-write can leave only a cut-off last line, which the
readers skip and a resume rewrites (train/metrics.py).

``lock_run_dir`` takes an exclusive ``flock`` on ``run_dir/.trainwell.lock`` for as long as a run
writes there, so a second ``fit`` (or ``--resume``) into the same directory is refused with the
holder's pid. The operating system drops the lock when the holder's process ends, however it
ends (``kill -9`` too), so a lock never goes stale.

``unsynced()`` turns the fsyncs off for the writes made inside it (this thread only): files are
still written to a new temp file and renamed into place, so a killed process leaves whole files
(the old or the new), but a power cut may leave the last ones empty or missing. For outputs that
can be made again, such as the run directories of search trials (docs/search.md, ``sync_trials``).

``held_appends()`` keeps the lines appended to an ``AppendFile`` made inside it in memory until the
file is closed (the end of a Trainer's fit, or before the file is replaced), then writes them in
one ``write``: for a run nobody reads while it trains, such as a search trial (a killed trial is
failed and run again from its start, so the lines it loses were never going to be read).
"""
from __future__ import annotations

import contextlib
import contextvars
import errno
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from trainwell.errors import ConfigError, DataError

try:
    import fcntl
except ImportError:        # Windows: no flock; runs there are not locked
    fcntl = None

LOCK_FILE = ".trainwell.lock"
TEMP_SUFFIX = ".tmp"
# What a run writes into its directory (docs/training.md, Runs): what ``clear_run`` removes
# for ``overwrite = true``. Anything else in the directory is the user's and stays.
RUN_FILES = ("config.json", "config.toml", "metrics.jsonl", "model.safetensors", "model.json",
             "preprocess.safetensors", "results.json", "babysit.json", "transfer.json", "report.html")
RUN_FOLDERS = ("checkpoints", "plots", "tensorboard")


# A temp file's name holds this many random bytes (as hex; mkstemp's 8 characters of 37 hold ~42
# bits): no other user can guess it to plant a file or link there first, which the exclusive
# create would refuse anyway. Names are tried up to TEMP_TRIES times (as mkstemp retries).
TEMP_NAME_BYTES = 6
TEMP_TRIES = 100
_TEMP_FLAGS = (os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOINHERIT", 0))
# False inside ``unsynced()``: writes are atomic against a killed process, not durable on a power cut
_SYNC = contextvars.ContextVar("trainwell_rundir_sync", default=True)


# True inside ``held_appends()``: an AppendFile made there writes its lines when it is closed
_HOLD = contextvars.ContextVar("trainwell_rundir_hold", default=False)


@contextlib.contextmanager
def _set_in_block(variable: contextvars.ContextVar, value) -> Iterator[None]:
    token = variable.set(value)
    try:
        yield
    finally:
        variable.reset(token)


def held_appends():
    """``AppendFile``s made in this block hold their lines until ``close()`` (see the module doc)."""
    return _set_in_block(_HOLD, True)


def unsynced():
    """No fsync for the writes made in this block (see the module doc): still atomic, not durable."""
    return _set_in_block(_SYNC, False)


def fsync_file(fd: int) -> None:
    """fsync ``fd`` unless inside ``unsynced()``."""
    if _SYNC.get():
        os.fsync(fd)


# ------------------------------------------------------------------------------ atomic writes
def _new_temp_fd(directory: Path, prefix: str, suffix: str = TEMP_SUFFIX) -> tuple[int, Path]:
    """``(fd, path)`` of a new file ``PREFIX<random hex>SUFFIX`` in ``directory``, open for reading
    and writing, with the mode ``open()`` gives a new file (0666 less the umask, which the kernel
    applies). One ``open`` call: ``tempfile.mkstemp`` and the ``fchmod`` from its 0600 cost ~25 us
    of CPU more a file (BENCHMARKS.md, "Per-trial cost, ninth pass")."""
    for _ in range(TEMP_TRIES):
        temp = os.path.join(directory, f"{prefix}{os.urandom(TEMP_NAME_BYTES).hex()}{suffix}")
        try:
            return os.open(temp, _TEMP_FLAGS, 0o666), Path(temp)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, f"no unused temporary name after {TEMP_TRIES} tries",
                          os.path.join(directory, f"{prefix}*{suffix}"))


def new_temp(directory: Path, prefix: str, suffix: str = TEMP_SUFFIX) -> Path:
    """A new, empty file in ``directory`` with an unpredictable name, created exclusively."""
    fd, temp = _new_temp_fd(directory, prefix, suffix)
    os.close(fd)
    return temp


def write_all(fd: int, data: bytes) -> None:
    """Writes all of ``data`` to ``fd``: a regular file takes it in one ``write``; a short write
    (a full disk, a signal) is continued where it stopped."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_new_temp(directory: Path, prefix: str, suffix: str, data: bytes) -> Path:
    """A new file in ``directory`` (as ``new_temp``) holding ``data``, written and fsynced through
    the descriptor that created it (one open); the caller renames it into place. Removed again
    when the write fails."""
    fd, temp = _new_temp_fd(directory, prefix, suffix)
    try:
        write_all(fd, data)
        fsync_file(fd)
    except BaseException:
        os.close(fd)
        os.unlink(temp)
        raise
    os.close(fd)
    return temp


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[tuple[int, Path]]:
    """A new temp file next to ``path``, open: ``(fd, name)``; on success it is fsynced, closed
    and renamed over ``path``, on error closed and removed."""
    try:
        fd, temp = _new_temp_fd(path.parent, prefix=f".{path.name}.")
    except OSError as e:
        raise DataError(f"{path}: cannot write it ({e.strerror})") from None
    replaced = False
    try:
        yield fd, temp
        if _SYNC.get():
            os.fsync(fd)                 # the file's data, whichever descriptor wrote it
        os.close(fd)
        fd = None
        os.replace(temp, path)
        replaced = True
        fsync_directory(path.parent)
    except OSError as e:          # a full disk, an immutable file in the way, ...
        raise DataError(f"{path}: cannot write it ({e.strerror})") from None
    finally:
        if fd is not None:
            os.close(fd)
        if not replaced:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yields a new temp file next to ``path`` for the caller to fill (by name, for writers that
    take a file name); on success it is fsynced and renamed over ``path``, on error removed."""
    with _replacing(Path(path)) as (_, temp):
        yield temp


def atomic_write(path, write: Callable) -> Path:
    """Writes ``path`` atomically: ``write(f)`` fills a binary file object (see the module doc);
    the temp file is written through the descriptor that created it (one open a file)."""
    with _replacing(Path(path)) as (fd, _), os.fdopen(fd, "r+b", closefd=False) as f:
        write(f)
    return Path(path)


def atomic_write_bytes(path, data: bytes) -> Path:
    """Writes ``data`` to ``path`` atomically, through the temp file's descriptor (no file object)."""
    with _replacing(Path(path)) as (fd, _):
        write_all(fd, data)
    return Path(path)


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(obj, path) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, default=str))


def json_text(obj, **options) -> str:
    """``obj`` as JSON with one top-level key a line and each value compact, for large nested
    values such as a checkpoint's manifest: json's C encoder (``indent`` makes json encode in
    Python: 0.31 against 0.05 ms for a small MLP's manifest). ``options`` go to ``json.dumps``."""
    if not isinstance(obj, dict) or not obj:
        return json.dumps(obj, **options) + "\n"
    lines = [f"{json.dumps(k if isinstance(k, str) else json.dumps(k))}: {json.dumps(v, **options)}"
             for k, v in obj.items()]
    return "{\n  " + ",\n  ".join(lines) + "\n}\n"


def make_directory(path) -> Path:
    """Creates directory ``path`` (and its parents) for outputs; a one-line DataError when it
    cannot be, or when it is a symlink (outputs stay inside the run directory)."""
    path = Path(path)
    if path.is_symlink():
        raise DataError(f"{path}: a symlink; trainwell writes only into a real directory here "
                        f"(remove the link)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"{path}: cannot create the directory ({e.strerror})") from None
    return path


def fsync_directory(directory: Path) -> None:
    """Makes renames and deletions in ``directory`` durable (POSIX; Windows has no directory fds)."""
    if os.name == "nt" or not _SYNC.get():
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------ appended files
class AppendFile:
    """A file in a run directory that grows by whole lines (``metrics.jsonl``): opened once, on the
    first ``append``, with ``O_APPEND`` (every write lands at the end, whoever wrote before) and
    ``O_NOFOLLOW`` (a symlink at ``path`` is refused, never followed), and kept open until
    ``close()``, so an epoch costs one ``write`` (opening and closing it each epoch cost ~0.2 ms:
    BENCHMARKS.md, "Per-trial cost ..., fifth pass"). Not fsynced: a crash loses at most the last
    lines, which the run's checkpoint rewrites on resume. Whoever replaces the file (``atomic_write``)
    calls ``close()`` first: the descriptor would write on into the replaced file. Made inside
    ``held_appends()``, its lines wait in memory and ``close()`` writes them in one ``write``."""

    def __init__(self, path):
        self.path = Path(path)
        self._fd: int | None = None
        self._held: list[bytes] | None = [] if _HOLD.get() else None

    def create(self) -> None:
        """Creates the file, empty, and keeps it open: exclusively (``O_EXCL``: never an existing
        file or a planted symlink), so an empty file needs no temp file and rename."""
        self.close()
        self._open(os.O_EXCL)
        fsync_directory(self.path.parent)

    def _open(self, extra: int = 0) -> None:
        flags = (os.O_WRONLY | os.O_APPEND | os.O_CREAT | extra | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_CLOEXEC", 0))
        try:
            self._fd = os.open(self.path, flags, 0o666)     # open() applies the umask
        except OSError as e:
            raise DataError(f"{self.path}: cannot append to it ({e.strerror}"
                            f"{'; it is a symlink' if self.path.is_symlink() else ''})") from None

    def append(self, data: bytes) -> None:
        if self._held is not None:
            self._held.append(data)
            return
        self._write(data)

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            self._open()
        try:
            write_all(self._fd, data)
        except OSError as e:
            raise DataError(f"{self.path}: cannot append to it ({e.strerror})") from None

    def close(self) -> None:
        if self._held:
            data, self._held[:] = b"".join(self._held), []
            self._write(data)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# ------------------------------------------------------------------------------ the run's lock
class RunLock:
    """The exclusive lock of one run directory; ``release()`` (or process exit) gives it up."""

    def __init__(self, fd: int | None):
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)    # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def make_run_dir(run_dir: Path) -> None:
    """Creates ``run_dir`` (and its parents); a one-line ConfigError when it cannot be."""
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"run_dir = {str(run_dir)!r} is a file, not a directory; choose a directory")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"run_dir = {str(run_dir)!r}: cannot create the directory "
                          f"({e.strerror})") from None


def lock_run_dir(run_dir) -> RunLock:
    """Locks the existing directory ``run_dir`` for this process, or raises ConfigError naming
    the pid of the process that holds it (or why the directory cannot be written)."""
    run_dir = Path(run_dir)
    path = run_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as e:
        raise ConfigError(f"run_dir = {str(run_dir)!r}: cannot write there ({path.name}: {e.strerror}); "
                          f"a run needs a writable directory") from None
    if fcntl is None:
        return RunLock(fd)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise ConfigError(f"run_dir = {str(run_dir)!r}: cannot lock {path.name} ({e.strerror})") from None
        raise ConfigError(f"run_dir = {str(run_dir)!r} is in use by another trainwell process "
                          f"(pid {holder}); wait for it to finish, or choose another run_dir") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return RunLock(fd)


def clear_run(run_dir) -> list[str]:
    """Remove the files and folders a run wrote into ``run_dir`` (``RUN_FILES``, ``RUN_FOLDERS``),
    under the caller's lock, and return their names. A name that is a symlink is removed as a
    link (its target is never touched); other files in the directory stay."""
    run_dir = Path(run_dir)
    removed = []
    for name in (*RUN_FILES, *RUN_FOLDERS):
        path = run_dir / name
        try:
            if path.is_symlink() or path.is_file():
                path.unlink()
            elif path.is_dir():
                shutil.rmtree(path)
            else:
                continue
        except OSError as e:
            raise ConfigError(f"overwrite: cannot remove {path} ({e.strerror or e})") from None
        removed.append(name)
    return removed
