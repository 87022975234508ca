import multiprocessing
import os

import pytest
import threadpoolctl
import torch

from trainwell.train.callbacks import Callback

# Tests run on 2 cores next to another worker: one intra-op thread each keeps timings stable
# and CPU results deterministic.
torch.set_num_threads(1)
# ... and so do numpy's and scikit-learn's BLAS / OpenMP pools (two pools of 2 threads on 2 cores
# oversubscribe them: the split checks' probes ran 5-7x slower than with one thread).
threadpoolctl.threadpool_limits(1)
os.environ.setdefault("MPLBACKEND", "Agg")

# What a run's process imports: trainwell, then on its way torch._dynamo (torch.optim's first
# optimizer) and scikit-learn's linear and neighbour models (the babysitter's end-of-run baseline,
# babysit/first_layer.py). ~7 CPU s of a fresh interpreter's ~8 for the kill -9 jobs' small runs.
RUN_IMPORTS = ["trainwell", "torch._dynamo", "sklearn.linear_model", "sklearn.neighbors"]


@pytest.fixture(scope="session")
def forked():
    """A multiprocessing context whose processes fork from one server that imported
    ``RUN_IMPORTS`` once, so each starts in milliseconds, not seconds. Each is still a process of
    its own (its own memory, pid and exit status) that a test kills for real (``p.kill()``: SIGKILL)
    and resumes in another; none inherits anything from the test's process or from the other
    runs, only the imported modules. The target is a module-level function of a module on
    ``sys.path`` (a job file beside its test: pytest puts the test folders there)."""
    from trainwell.hpsearch.study import WORKER_PRELOAD
    context = multiprocessing.get_context("forkserver")
    # One server per process: hpsearch's workers fork from it too (study.worker_processes), and
    # test_study asserts they find WORKER_PRELOAD loaded, whichever test started the server.
    context.set_forkserver_preload(RUN_IMPORTS + list(WORKER_PRELOAD))
    return context


@pytest.fixture
def blobs():
    """A small, easy 3-class problem: (X, y) float32 / int64 tensors."""
    g = torch.Generator().manual_seed(0)
    centers = torch.tensor([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    y = torch.arange(300) % 3
    X = centers[y] + 0.5 * torch.randn(300, 2, generator=g)
    return X, y


class Crash(Exception):
    """Stands for a process dying mid-run (the loop does not catch it)."""


class CrashAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_after_step(self, state):
        if state.step == self.step:
            raise Crash


@pytest.fixture
def crash_at():
    """``crash_at(step)`` -> a callback that raises ``Crash`` after that step; ``crash_at.error``."""
    def make(step):
        return CrashAt(step)
    make.error = Crash
    return make


# Words an OS error gives for a directory the process may not write: "Permission denied" (EACCES,
# a mode without w) or "Operation not permitted" (EPERM, an immutable directory).
NOT_WRITABLE = r"(Permission denied|Operation not permitted)"


@pytest.fixture
def read_only():
    """``read_only(*dirs)``: a context in which the directories cannot be written to. Without
    root, their mode becomes 0o555. Root ignores modes, so as root they are made immutable
    (``chattr +i``, which root's CAP_LINUX_IMMUTABLE allows on ext4, xfs, btrfs, tmpfs); where
    that is unavailable (no chattr, a file system without the flag, a container without the
    capability) the test is skipped, saying why."""
    import contextlib
    import shutil
    import subprocess

    @contextlib.contextmanager
    def make(*dirs):
        if os.geteuid() != 0:
            for d in dirs:
                d.chmod(0o555)
            try:
                yield
            finally:
                for d in dirs:
                    d.chmod(0o755)
            return
        if shutil.which("chattr") is None:
            pytest.skip("root writes into read-only directories, and chattr is not installed")
        done = []
        try:
            for d in dirs:
                if subprocess.run(["chattr", "+i", str(d)], capture_output=True).returncode != 0:
                    pytest.skip(f"root writes into read-only directories, and chattr +i failed on {d}")
                done.append(d)
            yield
        finally:
            for d in done:
                subprocess.run(["chattr", "-i", str(d)], capture_output=True)
    make.error = NOT_WRITABLE      # the words of the OS error, as a regular expression
    return make
