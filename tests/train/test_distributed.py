"""Data-parallel training (train/distributed.py) with two gloo ranks on the CPU, each a process
running ``ddp_job.py`` with torchrun's variables: 2 ranks x batch B equal 1 process x batch 2B, rank 0 alone writes,
SAM's global and local perturbations, and kill -9 + resume under DDP are bit-exact."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import trainwell
from trainwell.data.batches import Batches
from trainwell.errors import ConfigError
from trainwell.optim.sam import NORM_EPS
from trainwell.train.checkpoint import list_checkpoints, load_checkpoint
from trainwell.train.distributed import Distributed, launch_command, rank_options

sys.path.insert(0, str(Path(__file__).parent))
import ddp_job  # noqa: E402  (the job's data and model, shared with the ranks)

JOB = Path(__file__).with_name("ddp_job.py")
WORLD, B = 2, 8
N_TRAIN = 84                      # 5 global batches of 16 and a last one of 4: 2 per rank
SGD = dict(optimizer="sgd", lr=0.1, momentum=0.9, babysit="watch")
SAM = dict(optimizer="sam", optimizer_options={"base": "sgd", "rho": 0.05}, lr=0.1, momentum=0.0,
           nesterov=False, weight_decay=0.0, schedule="constant", babysit="off")
RESUMED = dict(SGD, dropout=None, augment=[{"name": "noise", "std": 0.05}], max_steps=40, epochs=7,
               checkpoint_every=3)


class _Ranks:
    """The job's ranks as plain processes with the variables torchrun sets (RANK, WORLD_SIZE,
    MASTER_ADDR, MASTER_PORT): what torchrun's agent would start, without its start-up cost."""

    def __init__(self, jobs, spec: Path):
        spec.write_text(json.dumps(jobs))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        path = os.pathsep.join([str(Path(trainwell.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])
        self.procs = [subprocess.Popen(
            [sys.executable, str(JOB), str(spec)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path, "RANK": str(r),
                 "LOCAL_RANK": str(r), "WORLD_SIZE": str(WORLD), "MASTER_ADDR": "127.0.0.1",
                 "MASTER_PORT": str(port)}) for r in range(WORLD)]

    def running(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def kill(self) -> None:
        for p in self.procs:
            p.send_signal(signal.SIGKILL)
        for p in self.procs:
            p.communicate()

    def finish(self) -> str:
        """The ranks' output; asserts that every rank exited with 0."""
        outs = [p.communicate(timeout=120)[0] for p in self.procs]
        assert all(p.returncode == 0 for p in self.procs), "\n".join(o[-3000:] for o in outs)
        return "".join(outs)


def _job(name, root: Path, options: dict, *, dropout=0.0, slow=0.0):
    options = {k: v for k, v in options.items() if k != "dropout"}
    return {"name": name, "options": {**options, "batch_size": B}, "out": str(root / f"{name}.safetensors"),
            "dropout": dropout, "slow": slow}


def _one_process(options: dict, *, batch_size: int, dropout=0.0, **extra):
    X, y = ddp_job.data()
    options = {k: v for k, v in options.items() if k != "dropout"}
    return trainwell.fit(ddp_job.model(dropout=dropout), (X[:N_TRAIN], y[:N_TRAIN]), val=(X[90:], y[90:]),
                         progress=False, report=False, seed=3, device="cpu", **{**options, **extra},
                         batch_size=batch_size)


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """One torchrun launch training every two-rank job these tests read."""
    root = tmp_path_factory.mktemp("ddp")
    jobs = [_job("plain", root, dict(SGD, max_steps=50, epochs=9, checkpoint_every=7, report=True,
                                     run_dir=str(root / "plain"))),
            _job("sam_global", root, dict(SAM, sam_sync="global", max_steps=6)),
            _job("sam_local", root, dict(SAM, sam_sync="local", max_steps=3)),
            _job("whole", root, dict(RESUMED, run_dir=str(root / "whole")), dropout=0.2),
            {**_job("stopped", root, dict(SGD, epochs=3)), "stop_rank0_at": 3}]
    (root / "output.txt").write_text(_Ranks(jobs, root / "spec.json").finish())
    return root


def _weights(root, name):
    return load_file(str(root / f"{name}.safetensors"))


def _max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max((a[k] - b[k]).abs().max().item() for k in a)


def test_two_ranks_with_batch_b_match_one_process_with_batch_2b(ranks):
    one = _one_process(dict(SGD, max_steps=50, epochs=9), batch_size=WORLD * B)
    assert one.results["steps"] == 50
    assert _max_diff(_weights(ranks, "plain"), one.model.state_dict()) <= 1e-6
    two = [json.loads(line) for line in (ranks / "plain" / "metrics.jsonl").read_text().splitlines()]
    assert len(two) == len(one.history) == 9          # 50 steps of 6 per epoch (the last one partial)
    for a, b in zip(two, one.history):                # the all-reduced sums: the job's numbers
        assert a["step"] == b["step"]
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-6, abs=1e-7)
        assert a["train_acc"] == pytest.approx(b["train_acc"], abs=1e-6)
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-6, abs=1e-7)


def test_rank_0_alone_writes_one_run(ranks):
    run_dir = ranks / "plain"
    assert {p.name for p in run_dir.iterdir()} == {          # one of each, no temporary files
        ".trainwell.lock", "babysit.json", "checkpoints", "config.json", "config.toml", "metrics.jsonl",
        "model.json", "model.safetensors", "plots", "report.html", "results.json"}
    manifests = list_checkpoints(run_dir / "checkpoints")
    assert sorted(m.name for m in manifests) == ["ckpt-0000000049.json", "ckpt-0000000050.json"]  # keep 2
    saved = load_checkpoint(max(manifests))
    assert len(saved["ranks"]) == WORLD
    # the ranks draw their own dropout streams: rank 1's generator is not rank 0's
    assert not torch.equal(saved["ranks"][0]["rng"]["torch"], saved["ranks"][1]["rng"]["torch"])
    results = json.loads((run_dir / "results.json").read_text())
    assert results["steps"] == 50 and results["epochs"] == 9


def test_a_stop_rank_0_alone_decides_ends_every_rank_at_the_same_step(ranks):
    ends = [line for line in (ranks / "output.txt").read_text().splitlines() if line.startswith("end step")]
    # per rank: plain, sam_global, sam_local, whole, stopped; the stop acts at the epoch's end
    assert len(ends) == 5 * WORLD and ends[4] == ends[9] == "end step 6"


def test_sam_global_matches_one_process_sam_with_batch_2b(ranks):
    one = _one_process(dict(SAM, max_steps=6), batch_size=WORLD * B)
    assert _max_diff(_weights(ranks, "sam_global"), one.model.state_dict()) <= 1e-6


def test_sam_local_is_the_per_rank_m_sharpness_rule(ranks):
    """w <- w - lr * mean_r grad L_r(w + rho g_r / |g_r|), g_r = grad L_r(w): each rank perturbs
    with its own gradient (Foret et al. 2021, m = the per-rank batch)."""
    X, y = ddp_job.data()
    X, y = X[:N_TRAIN], y[:N_TRAIN]
    model, loss_fn, lr, rho = ddp_job.model(), torch.nn.CrossEntropyLoss(), SAM["lr"], 0.05
    params = list(model.parameters())
    shards = [iter(Batches(X, y, batch_size=B, seed=3, rank=r, world=WORLD)) for r in range(WORLD)]

    def grad(xb, yb):
        return torch.autograd.grad(loss_fn(model(xb), yb), params)

    for _ in range(3):
        sharp = []
        for shard in shards:
            xb, yb = next(shard)
            g = grad(xb, yb)
            scale = rho / (torch.cat([t.flatten() for t in g]).norm() + NORM_EPS)
            with torch.no_grad():
                for p, t in zip(params, g):
                    p.add_(t, alpha=scale)
            sharp.append(grad(xb, yb))
            with torch.no_grad():
                for p, t in zip(params, g):
                    p.sub_(t, alpha=scale)
        with torch.no_grad():
            for i, p in enumerate(params):
                p.sub_(lr * sum(s[i] for s in sharp) / WORLD)
    local = _weights(ranks, "sam_local")
    assert _max_diff(local, model.state_dict()) <= 1e-6
    assert _max_diff(local, _weights(ranks, "sam_global")) > 1e-4    # not the global rule


def test_kill_9_and_resume_under_ddp_is_bit_identical(ranks, tmp_path):
    cut = tmp_path / "cut"
    options = dict(RESUMED, run_dir=str(cut))
    job = _Ranks([_job("cut", tmp_path, options, dropout=0.2, slow=0.1)], tmp_path / "spec.json")
    deadline = time.monotonic() + 120                 # start-up on a loaded machine
    while not any(int(m.stem.split("-")[1]) >= 9 for m in list_checkpoints(cut / "checkpoints")
                  if (cut / "checkpoints").is_dir()):
        assert job.running() and time.monotonic() < deadline, job.finish()
        time.sleep(0.05)
    job.kill()                                        # kill -9 of both ranks
    out = _Ranks([_job("cut", tmp_path, dict(options, resume=True), dropout=0.2)], tmp_path / "spec.json").finish()
    starts = {int(line.split()[-1]) for line in out.splitlines() if line.startswith("start step")}
    assert len(starts) == 1 and starts.pop() >= 9     # both ranks continued from the checkpoint
    whole, again = _weights(ranks, "whole"), _weights(tmp_path, "cut")
    assert all(torch.equal(whole[k], again[k]) for k in whole)
    lines = (cut / "metrics.jsonl").read_text().splitlines()
    strip = lambda records: [{k: v for k, v in r.items() if k != "seconds"} for r in records]
    expected = (ranks / "whole" / "metrics.jsonl").read_text().splitlines()
    assert strip(map(json.loads, lines)) == strip(map(json.loads, expected))   # no epoch lost or repeated

    with pytest.raises(ConfigError, match="written by 2 rank"):    # one process cannot take it over
        _one_process(dict(options, resume=True), batch_size=B, dropout=0.2)


def test_fit_nproc_checks_the_config_then_runs_torchrun_standalone(tmp_path, monkeypatch, capsys):
    from trainwell import cli
    from trainwell.train import distributed
    config = tmp_path / "run.toml"
    config.write_text("epochs = 1\n")
    assert cli.main(["fit", str(config), "--nproc", "2", "--set", "lr=-1"]) == 2   # before any launch
    assert "lr = -1.0: must be > 0" in capsys.readouterr().err
    launched = []
    monkeypatch.setattr(distributed, "launch", lambda argv, **kw: launched.append((argv, kw)) or 0)
    assert cli.main(["fit", str(config), "--nproc", "2", "--threads", "1", "--set", "lr=0.1", "--quiet"]) == 0
    (argv, kw), = launched
    assert argv[:3] == [str(config), "--set", "lr=0.1"] and argv[3] == "--set" and argv[-1] == "--quiet"
    assert argv[4].startswith("run_dir=") and kw == {"nproc": 2, "threads": 1}   # one run_dir for all ranks
    command = launch_command(argv, nproc=2)
    assert command[1:5] == ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    assert command[5:8] == ["-m", "trainwell", "fit"]


def test_ranks_above_0_run_without_files():
    from trainwell.config import make_config
    config = make_config({"run_dir": "x", "log": ["tensorboard"]})
    other = rank_options(config, Distributed(1, 2, 1, torch.device("cpu"), "gloo"))
    assert (other.run_dir, other.report, other.progress, other.log) == (None, False, False, [])
    assert rank_options(config, Distributed(0, 2, 0, torch.device("cpu"), "gloo")) is config


@pytest.mark.parametrize("options, message", [
    (dict(optimizer="lbfgs"), "optimizer = 'lbfgs' evaluates the loss itself"),
    (dict(babysit="repair"), "babysit = \"repair\" with several ranks"),
    (dict(optimizer="ao_sam", sam_sync="local"), "sam_sync = \"local\" with optimizer = 'ao_sam'"),
    (dict(optimizer="sam", optimizer_options={"every": 2}, sam_sync="local"), "every = 1"),
])
def test_what_ddp_does_not_do_is_refused_in_one_line(options, message):
    from trainwell.config import make_config
    from trainwell.optim.factory import build_optimizer
    from trainwell.train.distributed import check_supported
    config = make_config(options)
    optimizer = build_optimizer(config.optimizer, torch.nn.Linear(2, 2).parameters(), lr=0.1,
                                total_steps=10, **config.optimizer_options)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        check_supported(config, optimizer)
    check_supported(make_config({}), torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1))


def test_sync_batchnorm_needs_cuda():
    from trainwell.train.distributed import check_sync_batchnorm
    with pytest.raises(ConfigError, match="sync_batchnorm = true needs CUDA"):
        check_sync_batchnorm(True, torch.device("cpu"))
    check_sync_batchnorm(False, torch.device("cpu"))


class _Rank(Distributed):
    """A rank whose broadcasts deliver ``sent`` (what rank 0 would send)."""

    def __init__(self, rank, sent=None):
        super().__init__(rank, WORLD, rank, torch.device("cpu"), "gloo")
        self.sent = sent

    def broadcast_object(self, obj):
        return obj if self.is_main else self.sent


def test_an_error_rank_0_meets_is_raised_on_every_rank():
    import contextlib
    from trainwell.train.distributed import entered_together, from_rank0
    refused = ConfigError("run_dir = 'x' already holds a run")

    @contextlib.contextmanager
    def rank0_dir():
        raise refused
        yield

    with pytest.raises(ConfigError, match="already holds a run"):   # rank 0 itself
        with entered_together(_Rank(0), rank0_dir()):
            pass
    with pytest.raises(ConfigError, match="already holds a run"):   # rank 1 gets rank 0's error
        with entered_together(_Rank(1, sent=refused), contextlib.nullcontext()):
            pass
    with entered_together(_Rank(1), contextlib.nullcontext("ok")) as value:
        assert value == "ok"
    with pytest.raises(ConfigError, match="already holds a run"):
        from_rank0(_Rank(1, sent=(None, refused)), lambda: 1 / 0)      # rank 1 does not compute
    assert from_rank0(_Rank(1, sent=([{"epoch": 3}], None)), lambda: 1 / 0) == [{"epoch": 3}]
    assert from_rank0(None, lambda: 7) == 7
