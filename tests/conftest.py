import multiprocessing
import os

import pytest
import torch

from trainwell.train.callbacks import Callback

# Tests run on 2 cores next to another worker: one intra-op thread each keeps timings stable
# and CPU results deterministic.
torch.set_num_threads(1)
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
