"""Running a search: one Optuna study per stage in one storage, worker processes, resume.

The study lives in an Optuna storage: by default the journal file ``STUDY_DIR/study.journal``
(Optuna's journal format: an append-only log any process on a machine, or on machines sharing
the filesystem, can join; locked and fsynced as ``journal.py`` says); ``storage = URL`` takes any
Optuna storage (``sqlite:///s.db``, ``postgresql://...``) so that searches started on several
machines join one study. Stage ``i`` is the study ``NAME/stage-i``; its space (narrowed or widened
from stage ``i-1``), its epochs and its trial count are stored as the study's attributes by
whichever process starts it first, so every worker and every resumed search uses the same ranges.

A worker asks for a trial only while the stage has fewer counted trials (finished, pruned,
running, or failed for good) than it needs (with ``eta`` the stages, or the first ``rungs`` of
them, are rungs that run at once: a worker promotes or draws, as ``next_rung_trial`` and asha.py
say; the stages after the rungs run in turn once they are done); on this machine the ask takes a lock on
``STUDY_DIR/.ask.lock`` so that parallel workers never overshoot. A running trial records its
host, pid and start time (``worker``) and a heartbeat every ``HEARTBEAT_S`` (one thread per
worker); a trial whose process is gone (same host) or whose heartbeat is older than ``GRACE_S``
(another machine) is marked failed and enqueued once more (``retry_of``), so a ``kill -9`` loses
no trial and a restarted search continues the same study. The journal is fsynced after a trial's
result at most every ``journal.SYNC_S`` and at the worker's end.

The calling process is worker 0: it runs trials from the start, and workers 1..N-1 start warm,
in one of two ways (``worker_start``):

- **forked from worker 0** (``"fork"``: Linux, CPU work) when forking this process is safe: no
  other Python thread runs in it, CUDA is not initialized, and each worker runs one torch thread
  (so no worker enters an OpenMP parallel region whose pool a fork does not copy, the hazard of
  forking after torch has run, which DataLoader's workers meet the same way). Worker 0 imports
  ``WORKER_PRELOAD`` (what its first trial imports anyway) and then forks the others at once:
  they start with everything worker 0 loaded, without a second interpreter importing it all
  again (BENCHMARKS.md, sixth pass).
- **from a forkserver** (``"forkserver"``, on Linux otherwise; spawned elsewhere) whose server
  imports ``WORKER_PRELOAD`` once, before it forks anything (those ~3 s of one core overlap worker
  0's first trials, a thread waiting for the server). The server only imports: it runs no torch
  op and starts no torch thread pool, so its children start as clean as spawned ones (fork's
  hazard is a parent that has used those pools). A worker takes the coordinator's environment
  variables (the server's are those of its start).

``WORKER_PRELOAD``: torch, ``torch._dynamo`` (which ``torch.optim`` imports on the first
optimizer), scikit-learn's loaders and splitters, Optuna and trainwell. A spawned worker paid
those imports (~1.8 s on a quiet machine, BENCHMARKS.md) on its first trial, in every stage.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gc
import importlib
import multiprocessing
import multiprocessing.forkserver
import os
import pickle
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import optuna
import torch
from optuna.trial import TrialState

from trainwell.config import OPTIONS
from trainwell.errors import ConfigError, TrainwellError
from trainwell.hpsearch.asha import promotion_due
from trainwell.hpsearch.journal import LOCK_SUFFIX, StudyJournal, batched, sync
from trainwell.hpsearch.promotion import promotable
from trainwell.hpsearch.pruning import make_pruner
from trainwell.hpsearch.samplers import PRIOR_ATTR, grid_size, make_sampler, prior_rows, worker_seed
from trainwell.hpsearch.settings import Settings
from trainwell.hpsearch.space import Param, config_params, space_from_dict, space_to_dict
from trainwell.hpsearch.stages import next_space
from trainwell.hpsearch.trial import TRIALS_DIR, run_trial

try:
    import fcntl
except ImportError:        # Windows: no flock; workers there may overshoot a stage by a trial
    fcntl = None

JOURNAL_FILE = "study.journal"
ASK_LOCK = ".ask.lock"
HEARTBEAT_S = 10.0    # seconds between a running trial's heartbeats
GRACE_S = 60.0        # a trial of another machine without a heartbeat this long is dead (6 missed)
FIRST_ERRORS = 3      # the first this many trials of a stage failing with errors stop the search
# what a retried trial keeps of the dead one's attributes: the earlier trial it re-evaluates (and
# the paused run it continues), so a rung's promotions stay counted once (asha.py)
RETRY_KEEPS = ("reevaluates", "promotes")
PROGRESS_S = 1.0      # seconds between the coordinator's progress lines
SETTLE_S = 0.5        # seconds between reads while a stage's last trials run elsewhere (settle)
PLAN_WAIT_S = GRACE_S  # seconds to wait for the search that ended a stage to plan the next (planned_elsewhere)
HOST = socket.gethostname()
# What a worker's first trial would otherwise import (BENCHMARKS.md, "two workers against one"):
# the forkserver imports these once, and every worker is forked with them loaded.
WORKER_PRELOAD = ("torch", "torch._dynamo", "sklearn.datasets", "sklearn.model_selection", "optuna",
                  "trainwell.hpsearch.study")


@dataclass
class Context:
    """What every worker needs (pickled for a worker process): the model and data as given, the
    base options, the settings and where the study lives."""

    model: object
    data: object
    base: dict
    settings: Settings
    study_dir: Path
    progress: bool = True
    environ: dict | None = None       # the coordinator's environment, for forked workers


# ------------------------------------------------------------------ storage and stage studies
def open_storage(settings: Settings, study_dir: Path):
    """The Optuna storage: a journal file (the default, or a path) or an RDB URL."""
    url = settings.storage
    if url is not None and "://" in url:
        try:
            return optuna.storages.RDBStorage(url)
        except Exception as e:        # SQLAlchemy's many errors: a bad URL, a missing driver, ...
            raise ConfigError(f"search.storage = {url!r}: cannot open it ({type(e).__name__}: {e})") from None
    path = Path(url) if url is not None else study_dir / JOURNAL_FILE
    where = f"search.storage = {url!r}" if url is not None else str(path)
    if url is None:
        refuse_links(study_dir)
    try:
        return StudyJournal(str(path), shared=url is not None)
    except OSError as e:          # a missing folder, a directory in the way, no permission
        raise ConfigError(f"{where}: cannot open the journal file ({e.strerror or e})") from None
    except (ValueError, AssertionError, KeyError, TypeError) as e:    # Optuna's replay of a damaged file
        raise ConfigError(f"{where}: not a readable Optuna journal ({type(e).__name__}: {e}); the file is "
                          f"damaged or not a journal: restore it, or start a new search") from None


# The names of a study directory that a search opens for writing in place (appends, locks) or
# writes into (the trials' directories); trials.csv, best.toml, report.html and search.toml are
# written to a temp file renamed over the name, which replaces a link there instead of following it.
IN_PLACE = (JOURNAL_FILE, JOURNAL_FILE + LOCK_SUFFIX, ASK_LOCK, TRIALS_DIR)


def refuse_links(study_dir: Path) -> None:
    """A search writes only through names it created: a symbolic link at one of ``IN_PLACE`` (which
    the search never makes) is refused with a ConfigError naming it, before anything is written."""
    for name in IN_PLACE:
        if (study_dir / name).is_symlink():
            raise ConfigError(f"{study_dir / name}: is a symbolic link, and a search writes its study only "
                              f"into files and folders it made; remove the link (to keep the study elsewhere, "
                              f"give --storage PATH or another --dir)")


def stage_name(settings: Settings, index: int) -> str:
    return f"{settings.study_name}/stage-{index}"


def stage_epochs(ctx: Context, index: int) -> int:
    stage = ctx.settings.stages[index]
    return stage.epochs or ctx.base.get("epochs", OPTIONS["epochs"].default)


def stage_pruner(s: Settings, index: int) -> str:
    """The stage's pruner: none in an ``lr_scan`` stage, whose every point is ranked (the 3x rule
    and the babysitter still prune), else ``pruner``."""
    return "none" if s.stages[index].scan is not None else s.pruner


def load_stage(ctx: Context, storage, index: int, *, sampler=None) -> optuna.Study:
    s = ctx.settings
    name = stage_name(s, index)
    pruner = make_pruner(stage_pruner(s, index), max_resource=stage_epochs(ctx, index) * (s.folds or 1))
    try:        # load first: a create on the journal appends a record even when the study exists
        return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
    except KeyError:
        return optuna.create_study(storage=storage, study_name=name, load_if_exists=True, sampler=sampler,
                                   direction="maximize" if s.maximize else "minimize", pruner=pruner)


def ranked(study: optuna.Study, maximize: bool) -> list[optuna.trial.FrozenTrial]:
    """The study's finished trials, best first."""
    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if t.value is not None]
    return sorted(done, key=lambda t: -t.value if maximize else t.value)


def prepare_stage(ctx: Context, storage, index: int) -> dict:
    """Stage ``index``'s stored plan (space, messages, epochs, trials), made when it is first
    reached: the next stage's ranges from the previous stage's best trials, and the best earlier
    configurations enqueued to run first."""
    study = load_stage(ctx, storage, index)
    s = ctx.settings
    if "space" in study.user_attrs:
        wanted = _stage_trials(s, space_from_dict(study.user_attrs["space"]), index)
        if wanted != study.user_attrs["trials"]:     # a resumed search asked for more (or fewer) trials
            study.set_user_attr("trials", wanted)
        return study.user_attrs
    space, messages, best, again = stage_space(ctx, storage, index)
    trials = _stage_trials(s, space, index)
    first = config_params(space, ctx.base) if index == 0 and s.config_first and s.sampler != "grid" else {}
    if first:
        study.enqueue_trial(first, user_attrs={"from_config": True})
    for t in again[:min(s.reevaluate, trials)]:
        if _inside(space, t.params):
            study.enqueue_trial(t.params, user_attrs={"reevaluates": t.number, **_promotion(ctx, t)})
    for key, value in (("messages", messages), ("epochs", stage_epochs(ctx, index)), ("trials", trials),
                       (PRIOR_ATTR, prior_rows(best)),           # what a seeded sampler starts from
                       ("space", space_to_dict(space))):    # "space" last: it marks the plan complete
        study.set_user_attr(key, value)
    sync(storage, force=True)
    return study.user_attrs


def stage_space(ctx: Context, storage, index: int) -> tuple:
    """``(space, messages, best, again)``: stage ``index``'s ranges and what narrowing them said;
    for a fine stage, the previous stage's finished trials best first (what a seeded sampler starts
    from) and those of them to re-evaluate first. The first stage and a scan take the configured
    space (a scan its option alone); the stage after a scan narrows the scanned option; a rung keeps
    the first stage's space; a fine stage narrows around its coarse stage's best trials (the first
    stage after the rungs: rung 0's, re-evaluating those no rung promoted)."""
    s = ctx.settings
    space, messages, best, again = s.space, [], [], []
    if s.stages[index].scan is not None:       # lr alone; the other options at the config's values
        space = {s.stages[index].scan: s.space[s.stages[index].scan]}
    elif index > 0 and s.stages[index - 1].scan is not None:
        # after a scan: its option narrowed around the scan's best, every other range whole; random
        # draws (no prior) and no re-evaluation, since a scan's point holds one option's value
        previous = load_stage(ctx, storage, index - 1)
        scanned = space_from_dict(previous.user_attrs["space"])
        if s.narrow:
            scanned, messages = next_space(scanned, [t.params for t in ranked(previous, s.maximize)], ctx.base)
        space = {**s.space, **scanned}
    elif 0 < index < s.rung_count:       # a rung: promotions of the first stage's draws (asha.py)
        space = space_from_dict(load_stage(ctx, storage, index - 1).user_attrs["space"])
    elif index > 0:
        # the first stage after the rungs narrows around the draws (rung 0), as a fine stage around
        # its coarse stage, and re-evaluates the best draws that no rung has promoted already
        previous = load_stage(ctx, storage, 0 if index == s.rung_count else index - 1)
        best = ranked(previous, s.maximize)
        space = space_from_dict(previous.user_attrs["space"])
        if s.narrow:
            space, messages = next_space(space, [t.params for t in best], ctx.base,
                                         keep=min(s.reevaluate, s.stages[index].trials))
        again = best
        if index == s.rung_count:
            promoted = {t.user_attrs.get("reevaluates") for i in range(1, index)
                        for t in load_stage(ctx, storage, i).get_trials(deepcopy=False)}
            again = [t for t in best if t.number not in promoted]
    return space, messages, best, again


def _promotion(ctx: Context, earlier: optuna.trial.FrozenTrial) -> dict:
    """With ``promote = "resume"``: the earlier trial's run directory, which a re-evaluation of its
    configuration continues (promotion.py); nothing with ``"retrain"``."""
    run_dir = earlier.user_attrs.get("outcome", {}).get("run_dir")
    return {"promotes": run_dir} if ctx.settings.promote == "resume" and run_dir else {}


def schedule_epochs(ctx: Context) -> int | None:
    """With ``promote = "resume"`` every trial's schedule is the longest stage's (promotion.py)."""
    if ctx.settings.promote != "resume":
        return None
    return max(stage_epochs(ctx, i) for i in range(len(ctx.settings.stages)))


def _stage_trials(s: Settings, space: dict, index: int) -> int:
    """The stage's trials; a grid has no more points than its size."""
    trials = s.stages[index].trials
    scan = s.stages[index].scan is not None          # its grid is sized by its trials
    return min(trials, grid_size(space, s.grid_points)) if s.sampler == "grid" and not scan else trials


def _inside(space: dict[str, Param], params: dict) -> bool:
    for key, p in space.items():
        v = params.get(key)
        if v is None or (p.numeric and not p.low <= v <= p.high) or (not p.numeric and v not in p.choices):
            return False
    return True


# ------------------------------------------------------------------ dead trials
def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, TypeError, ValueError):
        return True
    return True


def is_dead(trial: optuna.trial.FrozenTrial, now: float) -> bool:
    """A running trial whose process is gone: same host and no such pid, or no heartbeat for
    ``GRACE_S`` seconds (another host, or a pid reused by another process)."""
    attrs = trial.user_attrs
    worker = attrs.get("worker", {})
    if worker.get("host") == HOST and "pid" in worker and worker["pid"] != os.getpid() \
            and not _alive(worker["pid"]):
        return True
    beat = attrs.get("heartbeat", worker.get("started"))
    if beat is None and trial.datetime_start is not None:
        beat = trial.datetime_start.timestamp()
    return beat is not None and now - beat > GRACE_S


def recover(study: optuna.Study, trials: list | None = None) -> list[int]:
    """Mark the dead running trials failed and enqueue each once more; the numbers failed.
    ``trials``: the study's trials when the caller has just read them (one read less)."""
    failed = []
    if trials is None:
        trials = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for t in trials:
        if t.state != TrialState.RUNNING or not is_dead(t, time.time()):
            continue
        try:
            study.tell(t.number, state=TrialState.FAIL)
        except (RuntimeError, ValueError):       # another process failed it first
            continue
        failed.append(t.number)
        if "retry_of" not in t.user_attrs:       # retried once, re-evaluating what it re-evaluated
            kept = {k: t.user_attrs[k] for k in RETRY_KEEPS if k in t.user_attrs}
            study.enqueue_trial(t.params, user_attrs={"retry_of": t.number, **kept}, skip_if_exists=False)
    return failed


def counted(study) -> int:
    """Trials that use up a stage's quota: finished, pruned, running, or failed for good (an
    error, or a retry that died too). A dead trial waiting for its retry does not count.
    ``study``: the study, or the list of its trials."""
    n = 0
    for t in study.get_trials(deepcopy=False) if isinstance(study, optuna.Study) else study:
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING):
            n += 1
        elif t.state == TrialState.FAIL and ("error" in t.user_attrs.get("outcome", {})
                                             or "retry_of" in t.user_attrs):
            n += 1
    return n


@contextlib.contextmanager
def ask_lock(study_dir: Path) -> Iterator[None]:
    """This machine's workers take turns at asking for a trial (no overshoot of a stage)."""
    if fcntl is None:
        yield
        return
    fd = os.open(study_dir / ASK_LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class Heartbeat:
    """One thread per worker that stamps the worker's running trial every ``HEARTBEAT_S``
    (``watch(trial)`` while it runs); one thread for all the worker's trials, not one each."""

    def __init__(self):
        self.trial, self.done = None, threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)
        self.thread.start()

    def _beat(self):
        while not self.done.wait(HEARTBEAT_S):
            trial = self.trial
            if trial is not None:
                with contextlib.suppress(Exception):     # a storage hiccup must not end the trial
                    trial.set_user_attr("heartbeat", time.time())

    @contextlib.contextmanager
    def watch(self, trial: optuna.Trial) -> Iterator[None]:
        self.trial = trial
        try:
            yield
        finally:
            self.trial = None

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


# ------------------------------------------------------------------ a worker
def work(ctx: Context, index: int, worker: int, *, on_trial=None, storage=None) -> None:
    """Run stage ``index``'s trials until the stage has enough (worker ``worker`` of the search);
    with ``eta``, every rung's (``index`` is 0: see ``next_rung_trial``).
    ``storage``: the coordinator's, for worker 0 (this process): a second storage here would read
    and replay every record of the journal again (~0.1 ms of CPU a trial, when the results are
    summarized); a worker process opens its own."""
    s = ctx.settings
    threads = torch.get_num_threads()          # restored at the end: worker 0 is the caller's process
    if s.threads is not None or s.workers > 1:
        torch.set_num_threads(worker_threads(s))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = storage if storage is not None else open_storage(s, ctx.study_dir)
    rungs = index < s.rung_count          # this call runs every rung at once (asha.py)
    indices = range(s.rung_count) if rungs else (index,)
    studies, plans, spaces = {}, {}, {}
    for i in indices:
        stage = load_stage(ctx, storage, i)
        plans[i] = stage.user_attrs
        spaces[i] = space_from_dict(plans[i]["space"])
        # trials already asked for (an enqueued one waiting to run does not count: a fresh search with
        # config_first draws the same values after its first trial as one without)
        existing = sum(t.state != TrialState.WAITING for t in stage.get_trials(deepcopy=False))
        scan = s.stages[i].scan is not None          # a scan's grid has one point a trial
        sampler = make_sampler("grid" if scan else s.sampler, spaces[i],
                               seed=worker_seed(s.seed, worker, existing, i),
                               grid_points=s.stages[i].trials if scan else s.grid_points,
                               prior=plans[i].get(PRIOR_ATTR))
        studies[i] = load_stage(ctx, storage, i, sampler=sampler)
    beat = Heartbeat()
    first = True
    try:
        while True:
            with ask_lock(ctx.study_dir):
                if rungs:
                    asked = next_rung_trial(ctx, [studies[i] for i in indices], [plans[i] for i in indices])
                else:
                    asked = next_stage_trial(studies[index], plans[index], index)
                if asked is None:
                    return
                i, trial = asked
                # one journal record: who runs the trial, and since when (its first heartbeat)
                trial.set_user_attr("worker", {"host": HOST, "pid": os.getpid(), "stage": i,
                                               "started": time.time()})
            with beat.watch(trial):
                _run_one(ctx, studies[i], trial, i, spaces[i], plans[i]["epochs"])
            if first:                    # what the first trial imported (torch._dynamo, scikit-learn)
                freeze_survivors()
                first = False
            sync(storage)                # the result on disk, at most every SYNC_S (journal.py)
            if on_trial is not None:
                on_trial()
    finally:
        beat.stop()
        sync(storage, force=True)
        torch.set_num_threads(threads)


def next_stage_trial(study: optuna.Study, plan: dict, index: int):
    """``(index, trial)``: the stage's next trial (a dead trial's retry first), or None when the
    stage has its trials. Under the ask lock."""
    trials = study.get_trials(deepcopy=False)
    if recover(study, trials):
        trials = study.get_trials(deepcopy=False)
    if counted(trials) >= plan["trials"]:
        return None
    return index, study.ask()


def next_rung_trial(ctx: Context, rungs: list[optuna.Study], plans: list[dict]):
    """``(rung, trial)``: the next trial of a search with ``eta`` (asha.py), or None when nothing
    is left to do: a waiting trial of a higher rung (a retry, or a promotion whose worker died
    before it started) first, then a promotion that is due, then a new draw of rung 0 while it has
    fewer than its trials. Under the ask lock, so no two workers take the same promotion."""
    trials = []
    for rung in rungs:
        found = rung.get_trials(deepcopy=False)
        trials.append(rung.get_trials(deepcopy=False) if recover(rung, found) else found)
    for k in reversed(range(1, len(rungs))):
        if any(t.state == TrialState.WAITING for t in trials[k]):
            return k, rungs[k].ask()
    due = promotion_due(trials, eta=ctx.settings.eta, maximize=ctx.settings.maximize,
                        caps=[p["trials"] for p in plans])
    if due is not None:
        k, earlier = due
        rungs[k + 1].enqueue_trial(earlier.params, user_attrs={"reevaluates": earlier.number,
                                                               **_promotion(ctx, earlier)})
        return k + 1, rungs[k + 1].ask()
    if counted(trials[0]) < plans[0]["trials"]:
        return 0, rungs[0].ask()
    return None


def worker_threads(s: Settings) -> int:
    """Each worker's torch threads: ``threads``, or the CPU count shared among the workers."""
    return s.threads or max(1, (os.cpu_count() or 1) // s.workers)


def _run_one(ctx: Context, study, trial, index: int, space, epochs: int) -> None:
    s = ctx.settings
    source = trial.user_attrs.get("promotes")       # a re-evaluation that may continue a paused trial
    source = source if source is not None and promotable(source, s.folds, epochs) else None
    try:
        outcome = run_trial(trial, stage=index, model=ctx.model, data=ctx.data, base=ctx.base, space=space,
                            epochs=epochs, metric=s.metric, folds=s.folds, study_dir=ctx.study_dir,
                            pruner=stage_pruner(s, index), files=s.trial_files(), schedule_epochs=schedule_epochs(ctx),
                            promoted_from=source, prune_at_end=s.prune_at_end)
    except TrainwellError as e:   # a combination of values the options refuse: recorded, not retried
        with batched(trial.storage):
            trial.set_user_attr("outcome", {"error": str(e)})
            study.tell(trial, state=TrialState.FAIL)
        _stop_on_systematic_errors(study, e)
        return
    # the outcome and the result: one append to a study journal (nothing reads the outcome first)
    with batched(trial.storage):
        trial.set_user_attr("outcome", outcome.attrs())
        if outcome.value is None:
            study.tell(trial, state=TrialState.PRUNED)
        else:
            study.tell(trial, outcome.value)


def _stop_on_systematic_errors(study, error: TrainwellError) -> None:
    """When the first ``FIRST_ERRORS`` trials of a stage all failed with an error, the search
    stops with it: the options (not one combination of values) are at fault."""
    trials = study.get_trials(deepcopy=False)
    if len(trials) >= FIRST_ERRORS and all(t.state == TrialState.FAIL and "error" in t.user_attrs.get("outcome", {})
                                           for t in trials[:FIRST_ERRORS]):
        raise type(error)(f"search: the first {FIRST_ERRORS} trials all failed; the last: {error}")


def _worker_main(ctx: Context, index: int, worker: int) -> None:
    if ctx.environ is not None:        # forked from the server: its environment is of its start
        os.environ.clear()
        os.environ.update(ctx.environ)
    work(ctx, index, worker)


def worker_start(ctx: Context) -> str:
    """How workers 1..N-1 start (the module doc): ``"fork"`` from this process when that is safe
    (Linux; no other Python thread here, which a fork would leave holding its locks; CUDA not
    initialized, which a forked child cannot use; one torch thread a worker, so that no worker
    enters an OpenMP region after the fork), else ``"forkserver"`` (``"spawn"`` off Linux)."""
    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        return "spawn"
    if threading.active_count() == 1 and not torch.cuda.is_initialized() and worker_threads(ctx.settings) == 1:
        return "fork"
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def freeze_survivors() -> None:
    """Move the objects alive now, after a collection of the young generations (the garbage of the
    work just done), to the garbage collector's permanent generation (``gc.freeze``): the modules a
    search imports (torch, torch._dynamo, scikit-learn, Optuna: ~10^6 objects, alive until the
    process ends) are then no longer walked by every full collection, which the allocations of the
    imports and of the report set off (~0.3 s of CPU a search command, BENCHMARKS.md, issue 13,
    tenth pass), and a forked worker does not touch, and so copy, the pages that hold them (the
    fork advice of Python's gc documentation). Frozen objects are still freed when their last
    reference goes; only a reference cycle among them waits for ``frozen_objects``' end (in a
    worker process, for its exit)."""
    gc.collect(1)
    gc.freeze()


@contextlib.contextmanager
def frozen_objects() -> Iterator[None]:
    """A search's span, in which ``freeze_survivors`` moves long-lived objects out of the garbage
    collector's way: at its start the objects alive then (the imports, the caller's objects), and
    at its end every frozen object goes back to the collector (``gc.unfreeze``), so a process that
    goes on (``trainwell.search`` in a user's program) collects as before. A process that had
    frozen objects itself keeps them (and the search's) frozen."""
    own = gc.get_freeze_count() == 0
    freeze_survivors()
    try:
        yield
    finally:
        if own:
            gc.unfreeze()


def preload() -> None:
    """Import ``WORKER_PRELOAD`` here (worker 0, before it forks the others)."""
    for name in WORKER_PRELOAD:
        importlib.import_module(name)


def worker_processes():
    """The multiprocessing context of the workers: on Linux, a forkserver that preloads
    ``WORKER_PRELOAD`` (see the module doc), started now if it is not running; spawn elsewhere
    (macOS's system libraries, which torch and NumPy load, are not safe to fork after loading)."""
    if not sys.platform.startswith("linux") or "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(WORKER_PRELOAD))
    # the server is a fresh interpreter: it imports the trainwell this process runs
    home = str(Path(__file__).resolve().parents[2])
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([home, saved] if saved else [home])
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved
    return context


# ------------------------------------------------------------------ the coordinator
def run_stages(ctx: Context) -> list[optuna.Study]:
    """Every stage in turn, with ``workers`` workers (this process is worker 0); the studies."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if ctx.settings.workers > 1 and worker_start(ctx) != "fork":
        worker_processes()          # the server imports while the first stage is prepared and run
    storage = open_storage(ctx.settings, ctx.study_dir)
    studies = _run_rungs(ctx, storage) if ctx.settings.rung_count else []
    for index in range(ctx.settings.rung_count, len(ctx.settings.stages)):
        plan = prepare_stage(ctx, storage, index)
        for message in plan["messages"]:
            _say(ctx, f"stage {index + 1}: {message}")
        study = load_stage(ctx, storage, index)
        line = ProgressLine(ctx, study, index)
        if ctx.settings.workers == 1:
            work(ctx, index, 0, on_trial=line.show, storage=storage)
        else:
            _run_workers(ctx, index, line, storage)
        waited = settle(ctx, study, index, line, storage)
        line.show(final=True)
        studies.append(study)
        if waited and index + 1 < len(ctx.settings.stages):
            planned_elsewhere(ctx, storage, index + 1)
    return studies


def _run_rungs(ctx: Context, storage) -> list[optuna.Study]:
    """A search with ``eta``: every rung planned first (each keeps the first stage's space), then
    one round of the workers over all of them (asha.py), with one progress line for all; the
    stages after the rungs (``rungs``) are the caller's."""
    plans = [prepare_stage(ctx, storage, index) for index in range(ctx.settings.rung_count)]
    studies = [load_stage(ctx, storage, index) for index in range(len(plans))]
    line = RungsLine(ctx, studies)
    if ctx.settings.workers == 1:
        work(ctx, 0, 0, on_trial=line.show, storage=storage)
    else:
        _run_workers(ctx, 0, line, storage)
    waited = False
    while any([settle(ctx, study, 0, line, storage) for study in studies]):    # every rung, until none runs
        waited = True
    line.show(final=True)
    if waited and ctx.settings.rung_count < len(ctx.settings.stages):
        planned_elsewhere(ctx, storage, ctx.settings.rung_count)
    return studies


def _run_workers(ctx: Context, index: int, line: ProgressLine, storage) -> None:
    """Stage ``index`` with ``workers`` workers: this process is worker 0. Forked from it
    (``worker_start``), workers 1..N-1 start once it has imported ``WORKER_PRELOAD``; from the
    forkserver, a thread starts them (``Process.start`` waits for the server's imports, ~3 s of
    the other core) while this process runs trials at once. A worker that dies leaves its running
    trial to the others; one still left when every worker is done is failed and retried here."""
    try:
        pickle.dumps(ctx)
    except (pickle.PicklingError, AttributeError, TypeError) as e:
        raise ConfigError(f"search.workers = {ctx.settings.workers}: the model and data must be picklable "
                          f"to go to worker processes ({e}); pass a module-level factory function, "
                          f"or use workers = 1") from None
    how = worker_start(ctx)
    if how == "fork":
        preload()
        freeze_survivors()           # the preload's objects: not walked, nor copied on write, in a worker
        context, forked = multiprocessing.get_context("fork"), ctx
    else:
        context, forked = worker_processes(), dataclasses.replace(ctx, environ=dict(os.environ))
    processes = [context.Process(target=_worker_main, args=(forked, index, w), daemon=False)
                 for w in range(1, ctx.settings.workers)]
    starter = _Starter(processes, threaded=how != "fork")      # a fork happens here, before any thread
    try:
        work(ctx, index, 0, on_trial=line.show, storage=storage)
        if index == len(ctx.settings.stages) - 1 or ctx.settings.rung_count == len(ctx.settings.stages):
            _preload_report()        # while the other workers end their last trials
        started = starter.wait()
        while any(p.is_alive() for p in started):
            for p in started:
                p.join(PROGRESS_S / len(started))
            line.show()
    finally:
        for p in starter.wait():
            if p.is_alive():
                p.terminate()
            p.join()
    if starter.error is not None:
        _say(ctx, f"search: the worker processes did not start ({starter.error}); this process ran the trials")
    lost = [f"worker {w} (pid {p.pid}) exited with status {p.exitcode}"
            for w, p in enumerate(starter.wait(), start=1) if p.exitcode]
    for message in lost:
        _say(ctx, f"search: {message}; its running trial is failed and retried")
    if lost:    # the dead workers' trials, when nobody was left to retry them
        work(ctx, index, 0, on_trial=line.show, storage=storage)


def settle(ctx: Context, study: optuna.Study, index: int, line, storage) -> bool:
    """Wait until no trial of the stage runs: those that other searches on the same storage (other
    machines) still run, so that the next stage's plan (its ranges, its re-evaluations) and the
    summary count their results. A trial found dead meanwhile (``recover``: its process gone or
    its heartbeat stale) is failed, and its retry run here. On one machine the workers are joined
    before this, so nothing runs and one read returns. Whether it waited for another's trial."""
    waited = False
    while True:
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if not running:
            return waited
        with ask_lock(ctx.study_dir):
            retried = recover(study, running)
        if retried:
            work(ctx, index, 0, on_trial=line.show, storage=storage)
        else:
            waited = True
            time.sleep(SETTLE_S)
            line.show()


def planned_elsewhere(ctx: Context, storage, index: int) -> None:
    """After ``settle`` waited for another search's trial: that search, which ends the stage, plans
    the next one as it reaches it; wait up to ``PLAN_WAIT_S`` for its plan, so that two searches do not
    plan one stage at the same moment (both would enqueue its re-evaluations). If none comes (the
    other search died), ``prepare_stage`` plans it here."""
    deadline = time.monotonic() + PLAN_WAIT_S
    while time.monotonic() < deadline and "space" not in load_stage(ctx, storage, index).user_attrs:
        time.sleep(SETTLE_S)


class _Starter:
    """Starts worker processes, in a thread (see ``_run_workers``) or at once (a fork: no thread
    may run while this process forks); ``wait()`` the ones started."""

    def __init__(self, processes: list, *, threaded: bool = True):
        self.processes, self.started, self.error = processes, [], None
        self.thread = threading.Thread(target=self._start, daemon=True)
        if threaded:
            self.thread.start()
        else:
            self._start()

    def _start(self) -> None:
        try:
            for p in self.processes:
                p.start()
                self.started.append(p)
        except Exception as e:       # no server or no fork (a full /tmp, a sandbox, no memory): worker 0 runs alone
            self.error = f"{type(e).__name__}: {e}"

    def wait(self) -> list:
        if self.thread.is_alive():
            self.thread.join()
        return self.started


def _preload_report() -> None:
    """Import the slow modules that report.py imports (matplotlib, Optuna's importance evaluators:
    ~0.3 s of CPU) while the other workers end their last trials: the report is drawn once, after
    the last stage, and its imports are then off the critical path. Worker 0 ends first about half
    the time; when it ends last these imports cost what they would cost in the report."""
    with contextlib.suppress(ImportError):
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.figure  # noqa: F401
        import optuna.importance  # noqa: F401  (scikit-learn's forests, which its fANOVA imports)


def _say(ctx: Context, message: str) -> None:
    if ctx.progress:
        print(message, file=sys.stderr, flush=True)


def _states_said(study: optuna.Study) -> str:
    """``12 done, 2 running, 3 pruned, 0 failed``: the study's trials by state."""
    trials = study.get_trials(deepcopy=False)
    n = {state: sum(t.state == state for t in trials) for state in TrialState}
    return (f"{n[TrialState.COMPLETE]} done, {n[TrialState.RUNNING]} running, {n[TrialState.PRUNED]} pruned, "
            f"{n[TrialState.FAIL]} failed")


class ProgressLine:
    """``stage 1/2: 12 done, 2 running, 3 pruned, 0 failed; best val_acc 0.9712 (trial 7)``."""

    def __init__(self, ctx: Context, study: optuna.Study, index: int):
        self.ctx, self.study, self.index, self.last = ctx, study, index, None
        self.tty = sys.stderr.isatty()

    def text(self) -> str:
        best = ranked(self.study, self.ctx.settings.maximize)
        shown = f"; best {self.ctx.settings.metric} {best[0].value:.4g} (trial {best[0].number})" if best else ""
        return f"stage {self.index + 1}/{len(self.ctx.settings.stages)}: {_states_said(self.study)}{shown}"

    def show(self, final: bool = False) -> None:
        if not self.ctx.progress:
            return
        text = self.text()
        # a terminal's final call ends the line; in a log the last line is already there
        if text != self.last or (final and self.tty):
            end = "\n" if final or not self.tty else ""
            print(("\r" if self.tty else "") + text, end=end, file=sys.stderr, flush=True)
            self.last = text


class RungsLine(ProgressLine):
    """``rungs 1: 12 done, 1 running, 0 pruned, 0 failed | 2: 1 done, ...; best val_acc 0.97 (rung 2,
    trial 0)``: every rung of a search with ``eta`` on one line, the best of the highest rung with a
    finished trial."""

    def __init__(self, ctx: Context, studies: list[optuna.Study]):
        super().__init__(ctx, studies[0], 0)
        self.studies = studies

    def text(self) -> str:
        parts, best = [], None
        for index, study in enumerate(self.studies):
            parts.append(f"{index + 1}: {_states_said(study)}")
            top = ranked(study, self.ctx.settings.maximize)
            best = (index, top[0]) if top else best
        shown = (f"; best {self.ctx.settings.metric} {best[1].value:.4g} (rung {best[0] + 1}, trial "
                 f"{best[1].number})") if best else ""
        return "rungs " + " | ".join(parts) + shown
