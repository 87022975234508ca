"""Data-parallel training through torchrun: the process group, the collectives the run needs, and
the launcher behind ``trainwell fit CONFIG --nproc N`` (docs/distributed.md).

A process is one rank of a job when torchrun's variables are set (``WORLD_SIZE`` > 1, with
``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``); ``join()`` then starts the process
group (gloo on the CPU, nccl on CUDA) and returns a ``Distributed`` record that the trainer asks
for everything that crosses ranks:

- every rank trains a replica wrapped in ``DistributedDataParallel`` (the gradient average);
- the epoch's loss and accuracy sums, and the divergence check's window, are all-reduced at the
  points where one process already reads them (no extra host sync per step); each rank
  validates its shard of the validation split (and of the final evaluation) and the sums are
  all-reduced;
- every rank runs the babysitter's monitor on the same sampled steps, each adding up its shard's
  statistics, one all-reduce a sample (babysit/monitor.py); rank 0's rules judge the job's values;
- decisions are rank 0's: its stop reason and the changes its callbacks made through
  ``state.controls`` (the babysitter's repairs: a rollback, an lr change, a rebuilt optimizer,
  added preprocessing, a model edit; train/journal.py) are broadcast at every check point and replayed
  there, so all ranks stop, roll back and change at the same step;
- a checkpoint gathers what each rank owns (its random-number states and its running sums) to
  rank 0, and a resume sends rank 0's checkpoint to every rank;
- rank 0 alone writes the run directory (the other ranks run with no ``run_dir``);
- a rank the launcher started leaves a bad-input error for the launcher (``leave_error``), which
  prints it once and exits 2.
"""
from __future__ import annotations

import atexit
import gc
import contextlib
import dataclasses
import datetime
import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from trainwell import errors
from trainwell.errors import ConfigError, TrainwellError
from trainwell.optim.registry import optimizer_info
from trainwell.optim.sam import SAM
from trainwell.train.rundir import atomic_write_text

SAM_SYNC_MODES = ("global", "local")
# Ranks r > 0 reseed the global generator (dropout) and the augmentation generator with
# seed + r * RANK_SEED_STRIDE: their own streams, so ranks do not draw the same masks.
RANK_SEED_STRIDE = 1_000_003          # a prime far above any seed offset the run itself uses
# How long a rank waits for the others at a collective before failing (torch's default is 30 min;
# a run's slowest collective is a checkpoint or the first step).
TIMEOUT = datetime.timedelta(minutes=10)
# The launcher's folder where a rank leaves its bad-input error (``leave_error``), one file a rank.
ERRORS_ENV = "TRAINWELL_RANK_ERRORS"
# Options whose files and side effects only rank 0 may have (the others run without them).
RANK0_ONLY = {"run_dir": None, "report": False, "progress": False, "log": []}


@dataclass
class Distributed:
    """This process's place in the job: ``rank`` of ``world``, its ``device`` and ``backend``."""

    rank: int
    world: int
    local_rank: int
    device: torch.device
    backend: str

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # ----------------------------------------------------------- collectives
    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` summed over the ranks (a new tensor; the argument is left alone)."""
        out = tensor.detach().clone()
        dist.all_reduce(out, op=dist.ReduceOp.SUM)
        return out

    def broadcast_object(self, obj):
        """Rank 0's ``obj`` on every rank (picklable objects between our own processes only)."""
        box = [obj if self.is_main else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather_objects(self, obj) -> list | None:
        """Every rank's ``obj``, in rank order, on rank 0 (None elsewhere)."""
        out = [None] * self.world if self.is_main else None
        dist.gather_object(obj, out, dst=0)
        return out

    def barrier(self) -> None:
        dist.barrier()

    def agree(self, state, controls) -> None:
        """Every rank takes rank 0's decisions at a check: its stop reason (None included) and the
        changes its callbacks or babysitter made through ``controls`` since the last check
        (``Journal``), replayed here on the other ranks, and the values the journal shares (the
        babysitter's sampling schedule); one broadcast, also when nothing changed."""
        journal = controls.journal
        decision = (state.stop, journal.take(), journal.live(), journal.shared()) if self.is_main else None
        stop, entries, live, shared = self.broadcast_object(decision)
        if not self.is_main:
            journal.replay(controls, entries, live)
            journal.follow_shared(shared)
        state.stop = stop

    # ----------------------------------------------------------- the replica
    def wrap(self, model: torch.nn.Module, *, sync_batchnorm: bool = False) -> DistributedDataParallel:
        """``model`` (already on ``device``) as a DDP replica; DDP broadcasts rank 0's weights and
        buffers on construction, so every rank starts from the same initialization."""
        if sync_batchnorm:
            torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)   # in place below the top module
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)


def env_world() -> tuple[int, int, int]:
    """``(rank, world, local_rank)`` from torchrun's variables; ``(0, 1, 0)`` outside a job."""
    def number(name, default):
        value = os.environ.get(name, str(default))
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"environment variable {name} = {value!r}: must be an integer "
                              f"(torchrun sets it)") from None
    return number("RANK", 0), number("WORLD_SIZE", 1), number("LOCAL_RANK", 0)


def join(device: torch.device) -> Distributed | None:
    """This process's ``Distributed`` record, starting the process group on first use; None when
    the process is not one rank of a job (``WORLD_SIZE`` unset or 1)."""
    rank, world, local_rank = env_world()
    if world <= 1:
        return None
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ConfigError(f"LOCAL_RANK = {local_rank} but this machine has {torch.cuda.device_count()} "
                              f"CUDA device(s): start at most that many processes per machine, or "
                              f"set device = \"cpu\"")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, timeout=TIMEOUT)
        atexit.register(_leave)          # a group left open aborts the process at exit
    elif dist.get_world_size() != world:
        raise ConfigError(f"WORLD_SIZE = {world} but the started process group has "
                          f"{dist.get_world_size()} ranks")
    return Distributed(rank, world, local_rank, device, dist.get_backend())


def _leave() -> None:
    if dist.is_initialized():
        gc.collect()                     # a DDP replica still alive (cycles) is freed before its group
        dist.barrier()                   # and no rank closes its connections while a peer uses them
        dist.destroy_process_group()


def from_rank0(d: Distributed | None, compute):
    """``compute()`` on rank 0 (on the one process without ranks), its value on every rank; a
    bad-input error it raises is raised on every rank."""
    if d is None:
        return compute()
    value = error = None
    if d.is_main:
        try:
            value = compute()
        except TrainwellError as e:
            error = e
    value, error = d.broadcast_object((value, error))
    if error is not None:
        raise error
    return value


@contextlib.contextmanager
def entered_together(d: Distributed | None, context):
    """Enter ``context`` (the run directory: rank 0's checks and lock) on every rank; a bad-input
    error rank 0 meets there is raised on every rank too, not only on rank 0 while the others
    wait for it at their first collective."""
    with contextlib.ExitStack() as stack:
        error = value = None
        try:
            value = stack.enter_context(context)
        except TrainwellError as e:
            error = e
        shared = d.broadcast_object(error) if d is not None else None
        if error is not None or shared is not None:
            raise error or shared
        yield value


def shard_of(d: Distributed | None) -> dict:
    """``Batches``' ``rank`` and ``world`` keywords for this process."""
    return {} if d is None else {"rank": d.rank, "world": d.world}


def rank_options(config, d: Distributed | None):
    """``config`` as this rank runs it: ranks other than 0 write nothing (``RANK0_ONLY``)."""
    if d is None or d.is_main:
        return config
    return dataclasses.replace(config, **RANK0_ONLY)


def check_supported(config, optimizer) -> None:
    """Refuse what data-parallel training does not do (yet), in one line each."""
    info = optimizer_info(optimizer)
    if info is not None and info.needs_closure and not info.two_pass:
        raise ConfigError(f"optimizer = {config.optimizer!r} evaluates the loss itself (line search "
                          f"or second order): not supported with several ranks; use a first-order "
                          f"optimizer or the SAM family, or train on one process")
    if config.sam_sync == "local" and isinstance(optimizer, SAM) and not (
            type(optimizer) is SAM and optimizer.every == 1 and optimizer.start_step == 0):
        raise ConfigError(f"sam_sync = \"local\" with optimizer = {config.optimizer!r}: a step without "
                          f"the second pass would leave each rank its own gradient; local m-sharpness "
                          f"needs SAM or ASAM with a second pass on every step (every = 1, "
                          f"start_step = 0), or use sam_sync = \"global\"")
    if config.unfreeze_at is not None:
        raise ConfigError("unfreeze_at with several ranks: DDP fixes the trained parameters when "
                          "it wraps the model; unfreeze before training or train on one process")


def check_sync_batchnorm(enabled: bool, device: torch.device) -> None:
    if enabled and device.type != "cuda":
        raise ConfigError("sync_batchnorm = true needs CUDA: torch's SyncBatchNorm runs on GPUs "
                          "only; on the CPU leave it false (each rank normalizes its own batch)")


def local_sam_pass(d: Distributed | None, ddp, *, sam_sync: str, first: bool):
    """The context of a SAM-family backward pass: the first (perturbation) pass under
    ``no_sync`` when ``sam_sync = "local"`` (each rank perturbs with its own gradient: Foret et
    al. 2021's m-sharpness, m = the per-rank batch), else DDP's gradient average."""
    if d is not None and ddp is not None and first and sam_sync == "local":
        return ddp.no_sync()
    return contextlib.nullcontext()


def reseed_rank(d: Distributed | None, seed: int, augment_generator: torch.Generator) -> None:
    """Give rank r > 0 its own dropout and augmentation streams (rank 0 keeps the run's)."""
    if d is None or d.rank == 0:
        return
    torch.manual_seed(seed + d.rank * RANK_SEED_STRIDE)
    augment_generator.manual_seed(augment_generator.initial_seed() + d.rank * RANK_SEED_STRIDE)


# ----------------------------------------------------------------------------- the launcher
def launch_command(argv: list[str], *, nproc: int) -> list[str]:
    """The torchrun command that runs ``trainwell fit ARGV`` as ``nproc`` ranks on this machine."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
            "-m", "trainwell", "fit", *argv]


def launch(argv: list[str], *, nproc: int, threads: int | None) -> int:
    """Run ``trainwell fit ARGV`` under torchrun with ``nproc`` ranks; its exit status (the
    highest of the ranks'). ``threads``: torch threads per rank (``OMP_NUM_THREADS``; default:
    the environment's value, else the machine's cores divided among the ranks).

    A rank that fails on bad input leaves its one-line error in a folder of the launcher's
    (``leave_error``); from then on torchrun's standard error (its report of the failed
    processes) is not shown, and the lowest rank's error is raised here: the CLI prints that
    one line and exits 2, as without ``--nproc``."""
    if nproc < 1:
        raise ConfigError(f"--nproc {nproc}: must be >= 1 (processes on this machine)")
    if threads is not None and threads < 1:
        raise ConfigError(f"--threads {threads}: must be >= 1 (torch threads per rank)")
    env = dict(os.environ)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    elif "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // nproc))
    with tempfile.TemporaryDirectory(prefix="trainwell-ranks-") as folder:
        env[ERRORS_ENV] = folder
        process = subprocess.Popen(launch_command(argv, nproc=nproc), env=env, stderr=subprocess.PIPE)
        last = bytearray(b"\n")                # the last byte shown
        forward = threading.Thread(target=_forward_until_error, args=(process.stderr, Path(folder), last),
                                   daemon=True)
        forward.start()
        try:
            status = process.wait()
        finally:
            forward.join()
        left = sorted(Path(folder).glob("rank-*.txt"), key=lambda p: int(p.stem.split("-")[1]))
        if left:
            if last != b"\n":                  # a rank's line cut short: the error on a line of its own
                sys.stderr.write("\n")
            kind, _, message = left[0].read_text().partition("\n")
            error = getattr(errors, kind, TrainwellError)
            raise (error if isinstance(error, type) and issubclass(error, TrainwellError)
                   else TrainwellError)(message)
    return status


def _forward_until_error(stream, folder: Path, last: bytearray) -> None:
    """Copy torchrun's (and the ranks') standard error to ours as it comes, until a rank left a
    bad-input error in ``folder``: what follows is torchrun's report of the failure. ``last``:
    the last byte copied."""
    out = sys.stderr.buffer if hasattr(sys.stderr, "buffer") else None
    with stream:
        while chunk := os.read(stream.fileno(), 65536):
            if any(folder.iterdir()):
                continue                         # read on, so torchrun never blocks on a full pipe
            if out is not None:
                out.write(chunk)
                out.flush()
            else:
                sys.stderr.write(chunk.decode(errors="replace"))
            last[:] = chunk[-1:]


def leave_error(error: TrainwellError) -> bool:
    """In a rank the launcher started: leave ``error`` (its class and one line) for the launcher
    to print once; True when left there (the rank then prints nothing itself)."""
    folder = os.environ.get(ERRORS_ENV)
    rank, world, _ = env_world()
    if not folder or world <= 1 or not Path(folder).is_dir():
        return False
    atomic_write_text(Path(folder) / f"rank-{rank}.txt", f"{type(error).__name__}\n{error}")
    return True


def rank_state(saved: dict, d: Distributed | None) -> dict:
    """This rank's own state from a checkpoint: its random-number states ``rng`` and its running
    sums ``sums`` (``saved["ranks"][rank]`` under DDP, the top level for one process); a
    ``ConfigError`` when it was written by another number of ranks: an exact resume needs the
    same world size."""
    ranks = saved.get("ranks")
    saved_world, world = (1 if ranks is None else len(ranks)), (1 if d is None else d.world)
    if saved_world != world:
        raise ConfigError(f"resume: the checkpoint was written by {saved_world} rank(s) and this job "
                          f"has {world}; an exact resume needs the same number of processes "
                          f"(--nproc {saved_world})")
    return {"rng": saved["rng"], "sums": saved["sums"]} if ranks is None else ranks[d.rank]


def distribute(trainer, d: Distributed) -> None:
    """Make ``trainer`` rank ``d.rank``'s: refuse what DDP does not do, wrap the model in DDP,
    give the rank its own dropout and augmentation streams."""
    config = trainer.state.config
    check_supported(config, trainer.state.optimizer)
    check_sync_batchnorm(config.sync_batchnorm, d.device)
    trainer.use_distributed(d, d.wrap(trainer.state.model, sync_batchnorm=config.sync_batchnorm))
    reseed_rank(d, config.seed, trainer.augment_generator)


def is_main_process() -> bool:
    """Rank 0 of a job, or a process that is no rank: the one that prints and writes."""
    return env_world()[0] == 0


def add_launch_arguments(parser) -> None:
    """``trainwell fit``'s ``--nproc`` and ``--threads``."""
    parser.add_argument("--nproc", type=int, metavar="N",
                        help="train with N data-parallel processes on this machine (torchrun "
                        "--standalone; gloo on the CPU, nccl on CUDA; docs/distributed.md)")
    parser.add_argument("--threads", type=int, metavar="T",
                        help="with --nproc: torch threads per process (OMP_NUM_THREADS; default: "
                        "the environment's, else the cores divided among the processes)")


def launch_fit(args, *, run_dir: str) -> int:
    """``trainwell fit ... --nproc N``: the same command, run as N ranks by torchrun, every rank
    writing into ``run_dir`` (resolved here, once, so the ranks agree on it)."""
    argv = [args.config] if args.config else []
    for item in args.set or []:
        argv += ["--set", item]
    if args.resume:
        argv += ["--resume", args.resume] + (["--continue"] if args.continue_run else [])
    else:
        argv += ["--set", f"run_dir={json.dumps(str(run_dir))}"]
    if args.quiet:
        argv.append("--quiet")
    return launch(argv, nproc=args.nproc, threads=args.threads)
