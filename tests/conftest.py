import os

import pytest
import torch

from trainwell.train.callbacks import Callback

# Tests run on 2 cores next to another worker: one intra-op thread each keeps timings stable
# and CPU results deterministic.
torch.set_num_threads(1)
os.environ.setdefault("MPLBACKEND", "Agg")

# Files holding the suite's longest single tests (10-65 s each at load 2-3: kill -9 and resume
# jobs, a fresh interpreter per module, two-rank process groups, 3-seed precision fits), collected
# near the end. A test that starts last keeps its worker busy after the other has nothing left, and a
# steal takes only queued tests, never the running one; run first, the short tests fill the other
# worker's time (longest first). Only under `--dist worksteal` (make test), where a worker that runs
# out takes queued tests from the other: `--dist load` hands each worker a fixed first eighth of the
# suite, which these files would weigh down. Only the order changes: each file's tests keep their order.
LONG_FIRST = ("train/test_resume.py", "test_imports.py", "train/test_precision.py",
              "train/test_distributed.py", "data/test_streaming.py", "train/test_checkpoint.py",
              "test_examples.py", "train/test_average.py")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist's controller: each worker learns the scheduling (its own options say "no")."""
    node.workerinput["dist"] = node.config.option.dist


def pytest_collection_modifyitems(config, items):
    if getattr(config, "workerinput", {}).get("dist", getattr(config.option, "dist", "no")) != "worksteal":
        return
    here = os.path.dirname(__file__)
    rank = {os.path.join(here, f): i for i, f in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(str(item.path), len(rank)))


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
