"""Data-parallel training (train/distributed.py) with two gloo ranks on the CPU, each a process
running ``ddp_job.py`` with torchrun's variables: 2 ranks x batch B equal 1 process x batch 2B
(weights, metrics, and the babysitter's samples, findings and repairs), rank 0 alone writes, SAM's
global and local perturbations, and kill -9 + resume under DDP are bit-exact. Two launches in all
(the job killed part-way, then every other job in one process group), to keep the file fast."""
import json
import os
import socket
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
VAL = ddp_job.VAL                 # 11 validation rows: 6 on rank 0, 5 on rank 1 (sharded, summed)
SGD = dict(optimizer="sgd", lr=0.1, momentum=0.9, babysit="watch")
SAM = dict(optimizer="sam", optimizer_options={"base": "sgd", "rho": 0.05}, lr=0.1, momentum=0.0,
           nesterov=False, weight_decay=0.0, schedule="constant", babysit="off")
# repaired twice before the kill at step >= 12 (on inputs far from standardized, AFFINE: standardize
# at fit start; lr far too high: lr x1/10 at step 6, back to the start); the run ends at step 15;
# the resumed job's babysitter continues from the checkpoint (its samples, findings and snapshots,
# the snapshots sent from rank 0 to the other rank: train/journal.py)
RESUMED = dict(SGD, dropout=None, augment=[{"name": "noise", "std": 0.05}], max_steps=15, epochs=7,
               checkpoint_every=3, babysit="repair", lr=5.0)
# lr far too high on inputs far from standardized: a pre-flight repair (standardize, at fit start)
# and a repair in training (loss_exploding: lr x1/10, rolled back to the start); trained longer
# with a check every step (``REPAIRED_LONGER``), a third at the last epoch's end (overfitting: a
# new optimizer with weight decay and the dropout raised, no rollback; after it the ranks' own
# dropout masks would make the run differ from one process's), decided on the job's
# sampled statistics (before they were all-reduced, rank 0's half batch re-initialized the model
# for saturated units instead, which one process with the whole batch does not)
REPAIRED = dict(SGD, lr=5.0, babysit="repair", epochs=3)
REPAIRED_LONGER = dict(REPAIRED, epochs=7, check_every=1)
# watched, not repaired: lr far too high on unstandardized inputs (saturated units, then the loss
# explodes): the findings come from the sampled loss and activation statistics
WATCHED = dict(SGD, lr=5.0, epochs=4)
AFFINE = (50.0, 20.0)
STOPPED = dict(checkpoint_every=1, keep_checkpoints=10)   # checkpoints 4 and 5 hold rank 0's pending stop


class _Ranks:
    """The job's ranks as processes of their own (``forked``: see tests/conftest.py) with the
    variables torchrun sets (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT): what torchrun's agent
    would start, without its start-up cost. Each rank's output goes to SPEC.rankR.txt."""

    def __init__(self, forked, jobs, spec: Path):
        spec.write_text(json.dumps(jobs))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.outs = [spec.with_suffix(f".rank{r}.txt") for r in range(WORLD)]
        self.procs = [forked.Process(target=ddp_job.rank, args=(str(spec), {
            "OMP_NUM_THREADS": "1", "RANK": str(r), "LOCAL_RANK": str(r), "WORLD_SIZE": str(WORLD),
            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}, str(self.outs[r]))) for r in range(WORLD)]
        for p in self.procs:
            p.start()

    def running(self) -> bool:
        return all(p.is_alive() for p in self.procs)

    def kill(self) -> None:
        for p in self.procs:
            p.kill()                                  # SIGKILL
        for p in self.procs:
            p.join()

    def finish(self) -> str:
        """The ranks' output; asserts that every rank exited with 0."""
        for p in self.procs:
            p.join(timeout=120)
        outs = [out.read_text() for out in self.outs]
        assert all(p.exitcode == 0 for p in self.procs), "\n".join(o[-3000:] for o in outs)
        return "".join(outs)


def _job(name, root: Path, options: dict, *, dropout=0.0, slow=0.0):
    options = {k: v for k, v in options.items() if k != "dropout"}
    return {"name": name, "options": {**options, "batch_size": B}, "out": str(root / f"{name}.safetensors"),
            "dropout": dropout, "slow": slow}


def _one_process(options: dict, *, batch_size: int, dropout=0.0, x_affine=(1.0, 0.0), **extra):
    X, y = ddp_job.data()
    X = X * x_affine[0] + x_affine[1]
    options = {k: v for k, v in options.items() if k != "dropout"}
    return trainwell.fit(ddp_job.model(dropout=dropout), (X[:N_TRAIN], y[:N_TRAIN]), val=(X[VAL:], y[VAL:]),
                         progress=False, report=False, seed=3, device="cpu", **{**options, **extra},
                         batch_size=batch_size)


def _killed_at_a_checkpoint(forked, root: Path) -> Path:
    """The resumed job's first part: trained to the checkpoint of step 12 (then slowed down: one
    step every 2 s) and killed there with SIGKILL, both ranks; its run directory."""
    cut = root / "cut"
    job = _Ranks(forked, [{**_job("cut", root, dict(RESUMED, run_dir=str(cut)), dropout=0.2, slow=(2.0, 12)),
                   "x_affine": AFFINE}], root / "cut.json")
    deadline = time.monotonic() + 120                 # start-up on a loaded machine
    while not any(int(m.stem.split("-")[1]) >= 12 for m in list_checkpoints(cut / "checkpoints")
                  if (cut / "checkpoints").is_dir()):
        assert job.running() and time.monotonic() < deadline, job.finish()
        time.sleep(0.05)
    job.kill()                                        # kill -9 of both ranks
    return cut


@pytest.fixture(scope="module")
def ranks(tmp_path_factory, forked):
    """Two launches: a job killed part-way, then one training every other two-rank job these
    tests read (the killed job's resume among them)."""
    root = tmp_path_factory.mktemp("ddp")
    cut = _killed_at_a_checkpoint(forked, root)
    jobs = [_job("plain", root, dict(SGD, max_steps=50, epochs=9, checkpoint_every=7, report=True,
                                     run_dir=str(root / "plain"))),
            _job("sam_global", root, dict(SAM, sam_sync="global", max_steps=6)),
            _job("sam_local", root, dict(SAM, sam_sync="local", max_steps=3)),
            {**_job("whole", root, dict(RESUMED, run_dir=str(root / "whole")), dropout=0.2), "x_affine": AFFINE},
            {**_job("stopped", root, dict(SGD, epochs=3, **STOPPED, run_dir=str(root / "stopped"))), "stop_rank0_at": 3},
            {**_job("stopped", root, dict(SGD, epochs=3, **STOPPED, run_dir=str(root / "stopped"), resume=True)), "drop_checkpoints_after": 4},
            {**_job("repaired", root, dict(REPAIRED, check_every=1)), "every_rank": True, "x_affine": AFFINE},
            {**_job("repaired_at_checks", root, REPAIRED), "every_rank": True},
            {**_job("repaired_longer", root, REPAIRED_LONGER), "every_rank": True, "x_affine": AFFINE},
            {**_job("watched", root, WATCHED), "every_rank": True, "x_affine": AFFINE},
            {**_job("cut", root, dict(RESUMED, run_dir=str(cut), resume=True), dropout=0.2), "x_affine": AFFINE}]
    (root / "output.txt").write_text(_Ranks(forked, jobs, root / "spec.json").finish())
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
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-6, abs=1e-7)   # sharded: 6 + 5 rows
        assert a["val_acc"] == pytest.approx(b["val_acc"], abs=1e-6)


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


def test_the_final_evaluation_is_sharded_and_equals_one_processs(ranks):
    """results.json's val loss, accuracy, NLL and ECE (each rank scores its rows, the sums are
    all-reduced) are one process's to 1e-6."""
    one = _one_process(dict(SGD, max_steps=50, epochs=9), batch_size=WORLD * B)
    two = json.loads((ranks / "plain" / "results.json").read_text())["val"]
    assert set(one.results["val"]) == set(two) >= {"loss", "acc", "nll", "ece", "n"}
    for key, value in one.results["val"].items():
        assert two[key] == pytest.approx(value, rel=1e-6, abs=1e-7), key


def test_a_stop_rank_0_alone_decides_ends_every_rank_at_the_same_step(ranks):
    ends = [line for line in (ranks / "output.txt").read_text().splitlines() if line.startswith("end step")]
    # per rank: plain, sam_global, sam_local, whole, stopped, stopped resumed, the 3 repaired, the
    # watched, the resumed cut; the stop acts at the epoch's end
    assert len(ends) == 11 * WORLD and ends[4] == ends[15] == "end step 6"


def test_a_resume_between_a_stop_and_its_check_stops_at_that_check(ranks):
    """Rank 0 stops at step 3; the stop acts at the epoch's end (step 6). A job killed after the
    checkpoint of step 4 (which keeps the stop as pending) and resumed stops at step 6 too, with
    rank 0's reason, not at once at step 4 (nor never: the callback does not stop it again)."""
    ends = [line for line in (ranks / "output.txt").read_text().splitlines() if line.startswith("end step")]
    assert ends[5] == ends[16] == "end step 6"
    results = json.loads((ranks / "stopped" / "results.json").read_text())
    assert results["steps"] == 6 and results["stopped"] == "rank 0 alone decided to stop"
    saved = load_checkpoint(next(m for m in list_checkpoints(ranks / "stopped" / "checkpoints") if m.stem.endswith("05")))
    assert saved["counters"]["stop"] is None and saved["counters"]["pending_stop"]["kind"] == "callback"


def _strip(records):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def _repairs(root, name):
    saved = json.loads((root / f"{name}.safetensors.json").read_text())
    return [(r["step"], r["code"], r["action"], r["rolled_back_to"]) for r in saved["repairs"]], saved["history"]


@pytest.fixture
def cut_stays_a_cut(monkeypatch):
    """The one-process reference keeps a divergence's lr cut a cut, as DDP does (``Repairer._cut_as_batch``
    is not taken under DDP: its trial would read rank 0's shard, not the job's data)."""
    from trainwell.babysit.repair import Repairer
    monkeypatch.setattr(Repairer, "_cut_as_batch", lambda self, state, plan, *, seed: plan)


def test_a_repair_under_ddp_acts_on_every_rank_and_matches_one_process(ranks, cut_stays_a_cut):
    """Rank 0's babysitter decides; the rollback and the changes (added standardization, the lr
    scale) are made on every rank: the replicas stay bit-identical, and with a check every step
    the run is one process's with batch 2B (the same repairs at the same steps)."""
    one = _one_process(dict(REPAIRED, check_every=1), batch_size=WORLD * B, x_affine=AFFINE)
    repairs, history = _repairs(ranks, "repaired")
    assert [r[1:3] for r in repairs] == [("unnormalized_inputs", "standardize"), ("loss_exploding", "lower_lr")]
    assert repairs == [(r["step"], r["code"], r["action"], r["rolled_back_to"]) for r in one.repairs]
    other, history1 = _repairs(ranks, "repaired.rank1")               # every rank's Run has them
    assert other == repairs and _strip(history1) == _strip(history)
    rank0, rank1 = _weights(ranks, "repaired"), _weights(ranks, "repaired.rank1")
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)
    assert _max_diff(rank0, one.model.state_dict()) <= 1e-6
    assert len(history) == len(one.history) == 3
    for a, b in zip(history, one.history):
        assert a["step"] == b["step"]
        for key in ("train_loss", "train_acc", "val_loss", "val_acc"):
            assert a[key] == pytest.approx(b[key], rel=1e-6, abs=1e-7)


def test_a_repair_found_between_checks_waits_for_the_next_check(ranks):
    """check_every = 50: the finding of step 3 (the second sampled loss above 3x the initial) is
    acted on at the epoch's end (step 6), on every rank; the rollback to the start makes the rest of
    the run the same as one process's."""
    one = _one_process(REPAIRED, batch_size=WORLD * B)
    repairs, history = _repairs(ranks, "repaired_at_checks")
    assert [r["step"] for r in one.repairs] == [3] and [r[0] for r in repairs] == [6]
    assert [r[1:] for r in repairs] == [(r["code"], r["action"], r["rolled_back_to"]) for r in one.repairs]
    rank0, rank1 = _weights(ranks, "repaired_at_checks"), _weights(ranks, "repaired_at_checks.rank1")
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)
    assert _max_diff(rank0, one.model.state_dict()) <= 1e-6
    assert history[-1]["val_loss"] == pytest.approx(one.history[-1]["val_loss"], rel=1e-6)


def test_every_kind_of_change_keeps_the_replicas_bit_identical(ranks):
    """Added preprocessing, an lr scale with its rollback, and a new optimizer with the dropout
    modules changed (a model edit), made on every rank: the ranks' final weights are equal tensor
    for tensor (a re-initialization's replay: test_rank_0s_changes_are_journaled_...)."""
    repairs, _ = _repairs(ranks, "repaired_longer")
    assert [r[2] for r in repairs] == ["standardize", "lower_lr", "more_regularization"]
    rank0, rank1 = _weights(ranks, "repaired_longer"), _weights(ranks, "repaired_longer.rank1")
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)


def _babysitter(root, name) -> dict:
    return json.loads((root / f"{name}.safetensors.babysit.json").read_text())


def _one_process_watched(options: dict, **kw):
    """``_one_process`` and its babysitter's record (``ddp_job.babysitter_record``, through JSON as
    the ranks saved theirs)."""
    from trainwell.babysit.monitor import Monitor
    seen = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Monitor, "on_fit_start", ddp_job.watching(seen))
        run = _one_process(options, **kw)
    return run, json.loads(json.dumps(ddp_job.babysitter_record(seen[-1])))


def _close(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-6, abs=1e-9)
    return a == b


@pytest.mark.parametrize("name, options", [("watched", WATCHED), ("repaired_longer", REPAIRED_LONGER)])
def test_the_babysitter_judges_the_jobs_statistics_as_one_process_does(ranks, name, options, cut_stays_a_cut):
    """Every sampled statistic is the job's (all-reduced shard sums): 2 ranks x B sample the steps
    one process with batch 2B samples, with the same values to 1e-6 (loss, gradient and weight
    norms, update ratios, every layer's activation mean / std / saturated / dead / signal), so
    rank 0 reports the same findings at the same steps and makes the same repairs."""
    one, expected = _one_process_watched(options, batch_size=WORLD * B, x_affine=AFFINE)
    two = _babysitter(ranks, name)
    # the same steps: repair mode's fixed period; watch mode's first epoch (step 1 and its last
    # step), whatever the period the ranks' own work gives (docs/distributed.md)
    assert [s["step"] for s in two["samples"]] == [s["step"] for s in expected["samples"]]
    assert [a["step"] for a in two["activations"]] == [a["step"] for a in expected["activations"]]
    assert two["activations"]
    for a, b in zip(two["samples"] + two["activations"], expected["samples"] + expected["activations"]):
        assert _close(a, b), (a, b)
    assert two["findings"] == expected["findings"]
    codes = {code for code, _, _ in two["findings"]}
    assert "saturated_units" in codes              # from the activation statistics
    repairs, _ = _repairs(ranks, name)
    assert repairs == [(r["step"], r["code"], r["action"], r["rolled_back_to"]) for r in one.repairs]
    assert name == "watched" or len(repairs) == 3


@pytest.mark.parametrize("name", ["watched", "repaired_longer"])
def test_every_rank_samples_the_same_steps_and_rank_0_alone_judges(ranks, name):
    """Rank 1's monitor samples the steps rank 0's does (the period from the ranks' mean work;
    rank 0's schedule after a repair's reset) and holds the same values: the reduced ones, and
    the gradient and weight norms and update ratios, which DDP's gradient average already made
    equal (not reduced); it reports no findings of its own."""
    rank0, rank1 = _babysitter(ranks, name), _babysitter(ranks, f"{name}.rank1")
    assert rank0["samples"] and rank0["samples"] == rank1["samples"]
    assert rank0["activations"] == rank1["activations"] and rank0["every"] == rank1["every"]
    assert rank0["findings"] and rank1["findings"] == []


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


def test_kill_9_and_resume_under_ddp_is_bit_identical(ranks):
    """The job killed with SIGKILL after its checkpoint of step 12 (the fixture), resumed (the last
    job of the fixture's launch; the repair's standardization is replayed), ends with the weights
    and metrics of the uninterrupted job."""
    cut = ranks / "cut"
    starts = [line for line in (ranks / "output.txt").read_text().splitlines() if line.startswith("start step")]
    assert len(starts) == 11 * WORLD and starts[10] == starts[21]    # both ranks continued from one checkpoint
    assert int(starts[10].split()[-1]) >= 12
    whole, again = _weights(ranks, "whole"), _weights(ranks, "cut")
    repaired = json.loads((ranks / "whole" / "results.json").read_text())["repairs"]
    assert [(r["step"], r["action"]) for r in repaired] == [(0, "standardize"), (6, "lower_lr")]   # before the cut
    assert json.loads((cut / "results.json").read_text())["repairs"] == repaired
    # the pre-flight's graded experiments run under a wall-time budget (docs/babysitter.md): on a
    # loaded machine one launch may cut one short and report a symptom at step 0 that the other
    # reports at a later sample; the sampled series and what was found must agree
    cut_b, whole_b = (json.loads((d / "babysit.json").read_text()) for d in (cut, ranks / "whole"))
    assert {k: v for k, v in cut_b.items() if k != "findings"} == {k: v for k, v in whole_b.items() if k != "findings"}
    assert sorted((f["code"], str(f["where"])) for f in cut_b["findings"]) == \
        sorted((f["code"], str(f["where"])) for f in whole_b["findings"])
    assert all(torch.equal(whole[k], again[k]) for k in whole)
    lines = (cut / "metrics.jsonl").read_text().splitlines()
    expected = (ranks / "whole" / "metrics.jsonl").read_text().splitlines()
    assert _strip(map(json.loads, lines)) == _strip(map(json.loads, expected))   # no epoch lost or repeated

    with pytest.raises(ConfigError, match="written by 2 rank"):    # one process cannot take it over
        _one_process(dict(RESUMED, run_dir=str(cut), resume=True), batch_size=B, dropout=0.2, x_affine=AFFINE)


def test_fit_nproc_checks_the_config_then_runs_torchrun_standalone(tmp_path, monkeypatch, capsys):
    from trainwell import cli
    from trainwell.train import distributed
    config = tmp_path / "run.toml"
    config.write_text("epochs = 1\n")
    assert cli.main(["fit", str(config), "--nproc", "2", "--set", "lr=-1"]) == 2   # before any launch
    assert "lr = -1.0: must be > 0" in capsys.readouterr().err
    assert cli.main(["fit", str(config), "--threads", "2"]) == 2       # not ignored without --nproc
    assert "--threads 2: only with --nproc N" in capsys.readouterr().err
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


@pytest.mark.parametrize("n, world", [(11, 2), (11, 3), (2, 3)])
def test_each_rank_validates_its_shard_and_the_sums_add_up_to_the_whole(n, world):
    """evaluate_model with shard = (rank, world): the ranks' sums (here added by hand, as the
    all-reduce adds them) give the whole set's mean loss and accuracy to 1e-6 in fp64, also when
    n does not divide by the world size or a rank has no rows; each rank reads only its rows."""
    from trainwell.nn.losses import accuracy_fn
    from trainwell.train.metrics import evaluate_model
    X, y = ddp_job.data(n=n)
    model, loss_fn = ddp_job.model(), torch.nn.CrossEntropyLoss()
    accuracy = accuracy_fn("cross_entropy", y)
    whole = evaluate_model(model, loss_fn, accuracy, X, y, batch_size=4)
    seen, parts = [], []
    for rank in range(world):
        read = []
        part = evaluate_model(model, lambda out, t: read.append(t.shape[0]) or loss_fn(out, t), accuracy, X, y,
                              batch_size=4, shard=(rank, world), reduce=lambda t: t)
        parts.append(part)
        seen.append(sum(read))
    assert seen == [n * (r + 1) // world - n * r // world for r in range(world)]   # 1/world of the rows
    assert sum(p["loss"] for p in parts) == pytest.approx(whole["loss"], rel=1e-6)
    assert sum(p["acc"] for p in parts) == pytest.approx(whole["acc"], abs=1e-6)


@pytest.mark.parametrize("n, world", [(11, 2), (11, 3), (2, 3)])
def test_each_rank_scores_its_shard_for_nll_and_ece_and_the_sums_give_the_whole(n, world):
    """model_calibration with shard = (rank, world): each rank reads only its rows (none for a
    rank past n), and its sums added over the ranks (what the all-reduce does) give the whole
    set's NLL and ECE to 1e-6."""
    from trainwell.train.calibration import model_calibration
    X, y = ddp_job.data(n=n)
    model = ddp_job.model()
    whole = model_calibration(model, X, y, batch_size=4)
    sums, rows = [], []
    for rank in range(world):
        read = []
        hook = model.register_forward_pre_hook(lambda module, args: read.append(args[0].shape[0]))
        model_calibration(model, X, y, batch_size=4, shard=(rank, world), reduce=lambda t: sums.append(t) or t)
        hook.remove()
        rows.append(sum(read))
    assert rows == [n * (r + 1) // world - n * r // world for r in range(world)]   # its rows alone
    total = sum(sums)
    shard = model_calibration(model, X, y, batch_size=4, shard=(0, world), reduce=lambda t: total)
    assert shard == pytest.approx(whole, rel=1e-6, abs=1e-9)


def _csv_config(tmp_path, **extra) -> Path:
    X, y = ddp_job.data(n=60)
    rows = ["a,b,c,d,e,f,label"] + [",".join(f"{v:.4f}" for v in x) + f",{int(t)}" for x, t in zip(X.tolist(), y)]
    (tmp_path / "data.csv").write_text("\n".join(rows) + "\n")
    text = "epochs = 1\nbatch_size = 8\nbabysit = \"off\"\nreport = false\n" + "".join(
        f"{k} = {json.dumps(v)}\n" for k, v in extra.items())
    config = tmp_path / "run.toml"
    config.write_text(text + "[data]\nsource = \"csv\"\npath = \"data.csv\"\nlabel = \"label\"\n")
    return config


def test_bad_input_under_nproc_is_one_line_and_exit_2_before_torchrun_starts(tmp_path, monkeypatch, capsys):
    """A bad run directory, option value or data file is found by the launching process, before
    torchrun starts: one line, exit status 2, no torchrun report. (In this process, as
    ``python -m trainwell`` runs ``cli.main``; the launch path itself:
    test_a_rank_failing_on_bad_input_is_reported_once_with_exit_2.)"""
    from trainwell import cli
    from trainwell.train import distributed
    config = _csv_config(tmp_path)
    (tmp_path / "taken").write_text("a file, not a directory")
    (tmp_path / "gone.toml").write_text(config.read_text().replace("data.csv", "gone.csv"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(distributed, "launch", lambda *a, **kw: pytest.fail("torchrun started"))
    cases = {"run_dir = 'taken' is a file": ["run.toml", "--set", 'run_dir="taken"'],
             "lr = -1.0: must be > 0": ["run.toml", "--set", "lr=-1"],
             "gone.csv": ["gone.toml"]}
    for expected, args in cases.items():
        assert cli.main(["fit", *args, "--nproc", "2", "--threads", "1", "--quiet"]) == 2
        out, err = capsys.readouterr()
        assert err.count("\n") == 1 and err.startswith("trainwell: error: ") and expected in err, err
        assert out == ""


def test_a_rank_failing_on_bad_input_is_reported_once_with_exit_2(tmp_path, monkeypatch, capfd):
    """Input the launcher cannot check without building the run (a regression loss on class ids)
    fails in both ranks: the launcher prints the lowest rank's line once, hides torchrun's report
    of the failed processes and exits 2. The launcher is ``cli.main`` in this process, as
    ``python -m trainwell`` runs it (test_cli's test_version_and_python_dash_m: that entry); torchrun
    and the ranks are processes of their own, as a user's, and import this trainwell."""
    from trainwell import cli
    _csv_config(tmp_path, loss="mse")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(trainwell.__file__).parents[1]),
                                                      os.environ.get("PYTHONPATH", "")]))
    status = cli.main(["fit", "run.toml", "--set", 'run_dir="runs/mse"', "--nproc", "2", "--threads", "1", "--quiet"])
    err = capfd.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("trainwell: error: ")]
    assert status == 2, err
    assert len(errors) == 1 and "loss = 'mse' does not fit the model's outputs" in errors[0], err
    assert "ChildFailedError" not in err and "Traceback" not in err, err


def _trainer(rank0: bool):
    """A one-process Trainer whose controls journal as rank 0 (or as another rank) would."""
    from trainwell.train.journal import Journal
    from trainwell.train.fit import make_trainer, prepare
    X, y = ddp_job.data()
    p = prepare(ddp_job.model(), (X[:N_TRAIN], y[:N_TRAIN]), None, None,
                dict(optimizer="sgd", lr=0.1, epochs=1, batch_size=B, seed=3, device="cpu", babysit="off",
                     progress=False, report=False))
    trainer = make_trainer(p)
    trainer.controls.journal = Journal(rank0=rank0)
    return trainer


def test_rank_0s_changes_are_journaled_at_decision_points_and_replayed_alike():
    from trainwell.babysit.actions import ACTIONS
    one, other = _trainer(rank0=True), _trainer(rank0=False)
    controls = one.controls
    with pytest.raises(RuntimeError, match="between two checks"):      # not at a decision point
        controls.set_lr_scale(0.5)
    with pytest.raises(RuntimeError, match="rank other than 0"):        # rank 1's own change
        with other.controls.deciding():
            other.controls.set_clip_norm(1.0)
    assert not controls.may_change
    with controls.deciding():
        assert controls.may_change
        start = controls.snapshot()
        controls.set_lr_scale(0.5)
        later = controls.snapshot()
        controls.restore(start)
        controls.apply(ACTIONS["reinit"].apply, {}, seed=7)             # a model edit + a new optimizer
        controls.add_preprocess("standardize")
        controls.set_clip_norm(2.0)
    del later                                                            # rank 0 lets it go
    entries, live = controls.journal.take(), controls.journal.live()
    assert [e[0] for e in entries] == ["snapshot", "set_lr_scale", "snapshot", "restore", "apply",
                                       "add_preprocess", "set_clip_norm"]
    assert live == [start.id]
    other.controls.journal.replay(other.controls, entries, live)
    a, b = one.state.model.state_dict(), other.state.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)                       # re-initialized alike
    assert not torch.equal(a["1.weight"], ddp_job.model().state_dict()["1.weight"])
    assert torch.equal(one.batches.X, other.batches.X)                   # standardized alike
    assert (other.state.lr_scale, other.controls.clip_norm, other.controls.rolled_back) == (0.5, 2.0, True)
    assert other.controls.settings_dict() == controls.settings_dict()
    assert list(other.controls.journal._mirrors) == [start.id]           # the dropped snapshot is gone


def test_a_snapshot_read_back_from_a_checkpoint_is_sent_to_the_other_ranks():
    """Controls.adopt on rank 0 (the resumed repairer's snapshots): an entry carrying the
    snapshot; rank 1 restores that very state when rank 0 rolls back to it."""
    one, other = _trainer(rank0=True), _trainer(rank0=False)
    with one.controls.deciding():
        saved = dict(one.controls.snapshot())                           # as read back from a checkpoint
    one.controls.journal.take()
    with torch.no_grad():
        for trainer in (one, other):
            trainer.state.model[1].weight.add_(1.0)                      # both moved on from it
    with one.controls.deciding():
        adopted = one.controls.adopt(saved)
        one.controls.restore(adopted)
    entries, live = one.controls.journal.take(), one.controls.journal.live()
    assert [e[0] for e in entries] == ["adopt", "restore"] and live == [adopted.id]
    other.controls.journal.replay(other.controls, entries, live)
    a, b = one.state.model.state_dict(), other.state.model.state_dict()
    assert all(torch.equal(a[k], b[k]) and torch.equal(a[k], saved["model"][k]) for k in a)


def test_the_decision_broadcast_carries_rank_0s_shared_values():
    """Distributed.agree sends what the journal shares (the monitor's schedule) with the stop and
    the changes; rank 1 takes it."""
    from types import SimpleNamespace
    from trainwell.babysit.monitor import Monitor
    from trainwell.train.journal import Journal

    class Sender(_Rank):
        def broadcast_object(self, obj):
            self.sent = obj
            return obj

    def rank(r):
        monitor, journal = Monitor(every=5), Journal(rank0=r == 0)
        journal.share("monitor", monitor.schedule, monitor.follow)
        return monitor, SimpleNamespace(journal=journal), SimpleNamespace(stop=None)

    (monitor0, controls0, state0), (monitor1, controls1, state1) = rank(0), rank(1)
    monitor0._next = 9
    monitor0.reset_trajectory(3)                          # a repair's rollback: step 4 is sampled next
    sender = Sender(0)
    sender.agree(state0, controls0)
    assert sender.sent[3] == {"monitor": monitor0.schedule()}
    monitor1.samples = [{"step": 2}]
    _Rank(1, sent=sender.sent).agree(state1, controls1)
    assert monitor1.schedule() == monitor0.schedule() and monitor1._next == 4
    assert monitor1.samples == []                         # rank 0 restarted its samples: so does rank 1
