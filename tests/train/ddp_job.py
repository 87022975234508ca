"""Data-parallel jobs for tests/train/test_distributed.py, run as ranks by torchrun:
``torchrun --standalone --nproc-per-node 2 ddp_job.py SPEC.json``, or by the test: ``rank``, in
processes of their own (the ``forked`` fixture of tests/conftest.py).

SPEC is a JSON list of jobs ``{"name", "options", "out"}``: each trains ``model()`` on ``data()``
with ``trainwell.fit(**options)`` (one process group for all of them); rank 0 saves the final
weights to ``out`` (safetensors) when given, and ``{"repairs", "history"}`` to ``out + ".json"``
(with ``"every_rank": true`` every rank r > 0 also saves, to ``NAME.rankR.safetensors``). ``"slow": [seconds, step]`` sleeps after every step
past ``step`` (a job the test kills with SIGKILL part-way, after the checkpoint of that step); ``"x_affine": [a, b]`` trains on ``a * X + b``;
``"stop_rank0_at": step`` stops rank 0 alone there; ``"drop_checkpoints_after": step`` has rank
0 delete the run's checkpoints after that step before the job starts (a job killed there); the job
prints ``start step N`` when training starts and ``end step N`` when it returns. With an ``out``,
each saving rank also writes its babysitter's record (``babysitter_record``) to
``out + ".babysit.json"``.
"""
import json
import os
import sys
import time

from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

import trainwell
from trainwell.babysit.monitor import Monitor
from trainwell.train.checkpoint import list_checkpoints

torch.set_num_threads(1)
VAL = 89                # validation rows [89, 100): 11, an odd number (shards of 6 and 5)


def data(n=100, d=6):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, d, generator=g)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).long() + (X[:, 2] > 1).long()
    return X, y


class Double(nn.Module):
    """fit keeps the inputs in float32; the model computes in float64 (a tight comparison)."""

    def forward(self, x):
        return x.double()


def model(d=6, dropout=0.0):
    torch.manual_seed(0)
    layers = [Double(), nn.Linear(d, 16), nn.Tanh(), nn.Dropout(dropout), nn.Linear(16, 3)]
    return nn.Sequential(*layers).double()


def watching(monitors: list):
    """``Monitor.on_fit_start`` that also appends each started monitor to ``monitors`` and keeps
    every sample it takes in ``monitor.taken`` (``samples`` restarts after a repair's rollback);
    ``monkeypatch.setattr(Monitor, "on_fit_start", watching(seen))``."""
    start = Monitor.on_fit_start

    def on_fit_start(self, state):
        monitors.append(self)
        self.taken, sample = [], self._sample

        def keep(state):
            sample(state)
            if self.samples and (not self.taken or self.samples[-1] is not self.taken[-1]):
                self.taken.append(self.samples[-1])
        self._sample = keep
        start(self, state)
    return on_fit_start


def babysitter_record(monitor) -> dict:
    """What a monitor sampled and found: its samples, activation statistics and findings."""
    return {"samples": monitor.taken, "activations": monitor.activations, "every": monitor.every,
            "findings": [(f.code, f.where, f.evidence.get("step")) for f in monitor.findings]}


class Job(trainwell.Callback):
    def __init__(self, slow, stop_rank0_at):
        (self.slow, self.slow_after), self.stop_rank0_at = slow or (0, 0), stop_rank0_at

    def on_fit_start(self, state):
        print(f"start step {state.step}", flush=True)

    def on_after_step(self, state):
        if self.slow and state.step > self.slow_after:
            time.sleep(self.slow)
        if state.step == self.stop_rank0_at and torch.distributed.get_rank() == 0:
            state.stop = "rank 0 alone decided to stop"


def main(spec_path):
    monitors = []
    Monitor.on_fit_start = watching(monitors)
    for job in json.loads(open(spec_path).read()):
        monitors.clear()
        X, y = data()
        scale, shift = job.get("x_affine", (1.0, 0.0))   # unnormalized inputs: a pre-flight repair
        X = X * scale + shift
        options = {"progress": False, "report": False, "seed": 3, "device": "cpu", **job["options"]}
        if job.get("drop_checkpoints_after") is not None:
            if torch.distributed.get_rank() == 0:
                for manifest in list_checkpoints(Path(options["run_dir"]) / "checkpoints"):
                    if int(manifest.stem.split("-")[1]) > job["drop_checkpoints_after"]:
                        manifest.unlink()
            torch.distributed.barrier()
        run = trainwell.fit(model(dropout=job.get("dropout", 0.0)), (X[:84], y[:84]), val=(X[VAL:], y[VAL:]),
                            callbacks=[Job(job.get("slow"), job.get("stop_rank0_at"))], **options)
        print(f"end step {run.results['steps']}", flush=True)
        rank = int(torch.distributed.get_rank())
        if job.get("out") and (rank == 0 or job.get("every_rank")):
            out = job["out"] if rank == 0 else job["out"].replace(".safetensors", f".rank{rank}.safetensors")
            save_file({k: v.contiguous() for k, v in run.model.state_dict().items()}, out)
            with open(out + ".json", "w") as f:
                json.dump({"repairs": run.repairs, "history": run.history}, f)
            if monitors:
                with open(out + ".babysit.json", "w") as f:
                    json.dump(babysitter_record(monitors[-1]), f)


def rank(spec_path, env: dict, out_path):
    """One rank: torchrun's variables ``env`` (RANK, WORLD_SIZE, MASTER_ADDR, ...) set, its stdout
    and stderr, the C libraries' writes too, to the file ``out_path``."""
    os.environ.update(env)
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    main(spec_path)


if __name__ == "__main__":
    main(sys.argv[1])
