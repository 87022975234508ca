"""The kill -9 test of checkpoint writes (test_checkpoint.py): ``main(directory, point)``, started
in a process of its own (the ``forked`` fixture of tests/conftest.py), saves ``ckpt-1``, then
saves ``ckpt-2`` with ``keep=1`` and kills itself with SIGKILL at ``point``: the n-th call of
``os.replace``, ``os.fsync`` or ``os.unlink`` during that save (``"fsync3"``: the third fsync).
A traceback goes to ``directory``.err, for the test's message."""
import os
import signal
import sys

import torch

from trainwell.train import checkpoint


def _kill_at(name, real, point, counts):
    def patched(*args, **kwargs):
        counts[name] = counts.get(name, 0) + 1
        if f"{name}{counts[name]}" == point:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return patched


def main(directory, point):
    sys.stderr = open(f"{directory}.err", "w")
    checkpoint.save_checkpoint(directory, {"step": 1, "w": torch.ones(1000)}, name="ckpt-1")
    counts = {}
    checkpoint.os.replace = _kill_at("replace", os.replace, point, counts)
    checkpoint.os.fsync = _kill_at("fsync", os.fsync, point, counts)
    checkpoint.os.unlink = _kill_at("unlink", os.unlink, point, counts)
    checkpoint.save_checkpoint(directory, {"step": 2, "w": torch.full((1000,), 2.0)}, name="ckpt-2", keep=1)
