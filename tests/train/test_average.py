"""Weight averaging in fit (train/average.py): EMA against a hand-written reference, SWA against
torch.optim.swa_utils (AveragedModel + update_bn), the SWA lr phase, exact resume, config errors."""
import copy
import math
import random
import signal
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch.optim.swa_utils import AveragedModel, update_bn

import trainwell
from trainwell.errors import ConfigError
from trainwell.train.average import SWASchedule, average_options
from trainwell.train.callbacks import Callback

import average_job  # beside this file: pytest puts the folder on sys.path

MODEL = {"type": "mlp", "widths": [16], "norm": "batch"}
OPTIONS = dict(optimizer="sgd", lr=0.1, epochs=6, batch_size=32, seed=0, progress=False, report=False,
               babysit="off", device="cpu")    # compared with CPU references


def _data(blobs):
    X, y = blobs
    return (X[:240], y[:240]), (X[240:], y[240:])


class Snapshots(Callback):
    """The training model's weights and buffers after every step and at every epoch end."""

    def __init__(self):
        self.steps, self.epochs = [], []

    def on_after_step(self, state):
        self.steps.append({k: v.detach().clone() for k, v in state.model.state_dict().items()})

    def on_validation_start(self, state):
        self.epochs.append((state.epoch, copy.deepcopy(state.model)))


def test_ema_update_rule_from_the_initial_weights(blobs):
    """w_ema starts as the initial weights; after step t (t = 0, 1, ...) it becomes
    d_t·w_ema + (1 - d_t)·w_t, float buffers too; integer buffers are copied."""
    train, val = _data(blobs)

    class Initial(Callback):
        def on_fit_start(self, state):
            self.weights = {k: v.detach().clone() for k, v in state.model.state_dict().items()}

    initial, snaps = Initial(), Snapshots()
    run = trainwell.fit(MODEL, train, val=val, average={"method": "ema", "decay": 0.97},
                        callbacks=[initial, snaps], **OPTIONS)
    ema = {k: v.double() for k, v in initial.weights.items()}
    for t, weights in enumerate(snaps.steps):
        decay = min(0.97, (1 + t) / (10 + t))           # TensorFlow's num_updates warm-up
        for k, v in weights.items():
            ema[k] = decay * ema[k] + (1 - decay) * v.double() if torch.is_floating_point(v) else v
    got = run.model.state_dict()
    assert any("running_mean" in k for k in got)
    for k, v in got.items():
        if torch.is_floating_point(v):
            assert torch.allclose(v.double(), ema[k], atol=1e-6, rtol=0), k
        else:
            assert torch.equal(v, ema[k]), k
    assert run.results["val"]["loss"] == pytest.approx(run.history[-1]["val_loss"], abs=1e-6)
    assert all("raw_val_loss" in h for h in run.history)
    raw = copy.deepcopy(run.model)              # the raw curve is the training weights' own loss
    raw.load_state_dict(snaps.steps[-1])
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(raw.eval()(val[0]), val[1])
    assert run.history[-1]["raw_val_loss"] == pytest.approx(float(loss), abs=1e-5)


def test_swa_weights_and_bn_statistics_match_torch_swa_utils(blobs, tmp_path):
    train, val = _data(blobs)
    snaps = Snapshots()
    options = {**OPTIONS, "epochs": 8}
    run = trainwell.fit(MODEL, train, val=val, average={"method": "swa", "start": 0.5, "lr": 0.02,
                                                        "anneal_epochs": 1},
                        callbacks=[snaps], run_dir=tmp_path / "swa", **options)
    # the reference: AveragedModel fed the model at every epoch end of the SWA phase (epochs 5-8),
    # then update_bn over the training inputs in the run's batches
    averaged = [model for epoch, model in snaps.epochs if epoch > 4]
    assert len(averaged) == 4
    reference = AveragedModel(averaged[0])
    for model in averaged:
        reference.update_parameters(model)
    X = train[0]
    update_bn([X[i:i + 32] for i in range(0, len(X), 32)], reference.module)
    want = reference.module.state_dict()
    got = run.model.state_dict()
    assert any("running_var" in k for k in got)
    for k in want:
        assert torch.allclose(got[k].double(), want[k].double(), atol=1e-6, rtol=0), k
    # the SWA phase's lr: cosine from the schedule's value at epoch 4 to 0.02 over one epoch, then held
    assert [round(h["lr"], 6) for h in run.history[5:]] == [0.02, 0.02, 0.02]
    # both sets are kept: the raw weights beside the averaged ones, and the raw curve
    raw = load_file(tmp_path / "swa" / "raw_model.safetensors")
    last = snaps.steps[-1]
    assert all(torch.equal(raw[k], last[k]) for k in raw)
    assert all("raw_val_loss" in h for h in run.history[4:])


def test_swa_schedule_anneals_by_cosine_then_holds():
    schedule = SWASchedule(lambda step: 1.0 - step / 100, start_step=50, swa_mult=0.1, anneal_steps=10)
    assert schedule(49) == pytest.approx(0.51)
    assert schedule(50) == pytest.approx(0.5)                                   # the inner value
    assert schedule(55) == pytest.approx(0.1 + 0.4 * (1 + math.cos(math.pi / 2)) / 2)
    assert schedule(60) == schedule(99) == pytest.approx(0.1)


@pytest.mark.parametrize("average", [{"method": "ema", "decay": 0.9},
                                     {"method": "swa", "start": 0.3, "every": 4, "anneal_epochs": 1}])
def test_averaging_resumes_exactly_after_a_crash(blobs, tmp_path, crash_at, average):
    train, val = _data(blobs)
    kw = dict(average=average, checkpoint_every=5, **OPTIONS)
    whole = trainwell.fit(MODEL, train, val=val, run_dir=tmp_path / "whole", **kw)
    with pytest.raises(crash_at.error):
        trainwell.fit(MODEL, train, val=val, run_dir=tmp_path / "cut", callbacks=[crash_at(27)], **kw)
    resumed = trainwell.fit(MODEL, train, val=val, run_dir=tmp_path / "cut", resume=True, **kw)
    strip = lambda h: [{k: v for k, v in m.items() if k != "seconds"} for m in h]
    assert strip(resumed.history) == strip(whole.history)
    for (k, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), k


class Detour(Callback):
    """At the end of epoch ``at``: a snapshot (``direct``: the lr scale halved there instead); at
    the end of epoch ``back``, once: a rollback to it, then the lr scale halved (a repair's shape).
    Keeps the average's entry right after the rollback and the raw weights at the end."""

    def __init__(self, at, back=None):
        self.at, self.back = at, back
        self.snap = self.after_restore = self.raw = None

    def on_epoch_end(self, state):
        if state.epoch == self.at and self.snap is None:
            if self.back is None:
                state.controls.set_lr_scale(0.5)
                self.snap = True
            else:
                self.snap = state.controls.snapshot()
        elif state.epoch == self.back and self.after_restore is None:
            state.controls.restore(self.snap)
            entry = state.extras["average"]
            self.after_restore = {"entry": {k: v for k, v in entry.items() if k != "weights"},
                                  "weights": {k: v.clone() for k, v in entry["weights"].items()}}
            state.controls.set_lr_scale(0.5)

    def on_fit_end(self, state):
        self.raw = {k: v.clone() for k, v in state.model.state_dict().items()}


@pytest.mark.parametrize("average, at, back", [
    ({"method": "ema", "decay": 0.9}, 2, 4),
    ({"method": "swa", "start": 0.5, "lr": 0.02}, 5, 7),     # from the SWA phase (n = 1) back to it
    ({"method": "swa", "start": 0.5, "lr": 0.02}, 2, 6),     # from the SWA phase to before it (n = 0)
])
def test_a_rollback_restores_the_average_as_the_snapshot_holds_it(blobs, average, at, back):
    """After ``restore`` the average's weights and counters are the snapshot's (bitwise, still the
    averaged copy's storage); the run ends as the one that made the same change at the snapshot
    and never took the abandoned epochs (the surviving trajectory replayed)."""
    train, val = _data(blobs)
    kw = dict(average=average, **{**OPTIONS, "epochs": 8})
    detour, direct = Detour(at, back), Detour(at)
    a = trainwell.fit(MODEL, train, val=val, callbacks=[detour], **kw)
    b = trainwell.fit(MODEL, train, val=val, callbacks=[direct], **kw)
    saved = detour.snap["extras"]["average"]
    assert detour.after_restore["entry"] == {k: v for k, v in saved.items() if k != "weights"}
    assert saved["updates"] == (at if average["method"] == "ema" else max(0, at - 4)) * (
        8 if average["method"] == "ema" else 1)
    for k, v in saved["weights"].items():
        assert torch.equal(detour.after_restore["weights"][k], v), k
    for k, v in b.model.state_dict().items():             # the averaged model fit returns
        assert torch.equal(a.model.state_dict()[k], v), k
    for k, v in direct.raw.items():
        assert torch.equal(detour.raw[k], v), k
    strip = lambda h: [{k: v for k, v in m.items() if k != "seconds"} for m in h]
    assert strip(a.history) == strip(b.history)


def test_the_rolled_back_average_keeps_sharing_the_copys_storage(blobs):
    train, val = _data(blobs)
    detour = Detour(1, 2)

    class Check(Callback):
        def on_fit_end(self, state):
            self.shared = all(v.data_ptr() == w.data_ptr() for v, w in zip(
                state.extras["average"]["weights"].values(), state.eval_model.state_dict().values()))

    check = Check()
    trainwell.fit(MODEL, train, val=val, callbacks=[detour, check], average={"method": "ema"}, **OPTIONS)
    assert detour.after_restore is not None and check.shared


class SwapAt(Callback):
    """At the end of epoch ``at``: the model's Tanh -> ReLU through the controls, said with
    ``model_changed`` (a repair's shape); keeps the weights then, the best just after, and the
    weights after every later step."""

    def __init__(self, at):
        self.at, self.changed, self.best_after, self.steps = at, None, None, []

    def on_epoch_end(self, state):
        if state.epoch == self.at and self.changed is None:
            state.controls.apply(_tanh_to_relu)
            self.changed = {k: v.detach().clone() for k, v in state.model.state_dict().items()}
            self.best_after = dict(state.best)

    def on_after_step(self, state):
        if self.changed is not None:
            self.steps.append({k: v.detach().clone() for k, v in state.model.state_dict().items()})


def _tanh_to_relu(controls):
    controls.model[1] = torch.nn.ReLU()
    controls.model_changed()


@pytest.mark.parametrize("method", ["ema", "swa"])
def test_a_changed_model_starts_the_average_again(blobs, method):
    """After ``controls.model_changed()`` the average is of the model as it is now: its structure
    (the returned model has the ReLU), EMA restarted from the weights at the change with the
    warm-up's count from 0 (against a hand-written reference), SWA the mean of the later epochs'
    weights only; the best weights kept before the change are dropped."""
    train, val = _data(blobs)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    swap = SwapAt(2)
    average = {"method": "ema", "decay": 0.9} if method == "ema" else {"method": "swa", "start": 0.25, "lr": 0.02}
    run = trainwell.fit(model, train, val=val, callbacks=[swap], average=average,
                        **{**OPTIONS, "patience": 10, "restore_best": False})
    assert isinstance(run.model[1], torch.nn.ReLU) and run.model is not model
    assert swap.best_after == {}
    if method == "ema":
        ref = {k: v.double() for k, v in swap.changed.items()}
        for t, weights in enumerate(swap.steps):
            decay = min(0.9, (1 + t) / (10 + t))
            ref = {k: decay * ref[k] + (1 - decay) * v.double() for k, v in weights.items()}
    else:                                        # every=None: one update per epoch, at validation
        per_epoch = len(swap.steps) // (OPTIONS["epochs"] - swap.at)
        ends = swap.steps[per_epoch - 1::per_epoch]
        ref = {k: sum(w[k].double() for w in ends) / len(ends) for k in ends[0]}
    for k, v in run.model.state_dict().items():
        assert torch.allclose(v.double(), ref[k], atol=1e-6), k


def test_kill_9_with_swa_then_resume_gives_bit_identical_weights(tmp_path, forked):
    average_job.train(tmp_path / "ref", "swa")           # the uninterrupted run, in this process
    expected = load_file(tmp_path / "ref" / "model.safetensors")
    rng = random.Random(1)
    killed = 0
    for attempt in range(6):
        run_dir = tmp_path / f"killed{attempt}"
        proc = forked.Process(target=average_job.main, args=(str(run_dir), "swa", False))
        proc.start()
        deadline = time.perf_counter() + 120
        while not any((run_dir / "checkpoints").glob("ckpt-*.json")) and proc.is_alive():
            assert time.perf_counter() < deadline
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 1.0))
        proc.kill()
        proc.join(timeout=60)
        if proc.exitcode != -signal.SIGKILL:
            continue
        killed += 1
        resumed = forked.Process(target=average_job.main, args=(str(run_dir), "swa", True))
        resumed.start()
        resumed.join(timeout=300)
        assert resumed.exitcode == 0
        assert int(Path(f"{run_dir}.out").read_text().split("start step ")[1].split()[0]) > 0
        got = load_file(run_dir / "model.safetensors")
        for k in expected:
            assert torch.equal(got[k], expected[k]), (attempt, k)
        if killed == 1:
            break
    assert killed >= 1


@pytest.mark.parametrize("spec, message", [
    ({"method": "polyak"}, "average.method = 'polyak': unknown; allowed: ema, swa"),
    ({"method": "ema", "decay": 1.5}, "average.decay = 1.5: must be a number in (0, 1)"),
    ({"method": "swa", "start": 1.0}, "average.start = 1.0: must be a number in [0, 1)"),
    ({"method": "swa", "decay": 0.9}, "average 'swa': unknown option 'decay'"),
    ("ema", "average = 'ema': must be a table or none (got str)"),
])
def test_bad_average_tables_are_refused_with_one_line(spec, message):
    with pytest.raises(ConfigError) as e:
        trainwell.fit(MODEL, "digits", average=spec, epochs=1)
    assert str(e.value).startswith(message)


def test_defaults_are_filled_in():
    assert average_options({"method": "ema"}) == {"method": "ema", "decay": 0.999, "warmup": True, "every": 1}
    assert average_options(None) is None


def test_swa_of_a_model_without_buffers(blobs):
    train, val = _data(blobs)
    snaps = Snapshots()
    run = trainwell.fit({"type": "mlp", "widths": [16]}, train, val=val, callbacks=[snaps],
                        average={"method": "swa", "start": 0.5}, **OPTIONS)
    averaged = [dict(model.named_parameters()) for epoch, model in snaps.epochs if epoch > 3]
    assert len(averaged) == 3
    for name, p in run.model.named_parameters():
        assert torch.allclose(p, torch.stack([a[name] for a in averaged]).mean(0), atol=1e-6), name


def test_the_bn_recalibration_is_one_pass_over_the_training_inputs():
    from types import SimpleNamespace

    from trainwell.train.average import Averager

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    X = torch.randn(70, 3)
    state = SimpleNamespace(model=model, extras={}, eval_model=None, step=0,
                            controls=SimpleNamespace(train_data=(X, None)))
    averager = Averager(average_options({"method": "swa"}), steps_per_epoch=3, epochs=4, bn_batch_size=32)
    averager.on_fit_start(state)
    seen = []
    averager.copy.register_forward_pre_hook(lambda module, args: seen.append(args[0].shape[0]))
    averager.recalibrate(state)
    assert seen == [32, 32, 6]                                     # each training input once
    # momentum None: the running mean is the plain mean of the batches' means (update_bn's rule)
    with torch.no_grad():
        batch_means = torch.stack([model[0](X[i:i + 32]).mean(0) for i in (0, 32, 64)])
    assert torch.allclose(averager.copy[1].running_mean, batch_means.mean(0), atol=1e-6)


def test_swa_without_bn_update_keeps_the_training_models_statistics(blobs, tmp_path):
    """docs/ensembles.md: bn_update = false leaves the average's batch-norm statistics those the
    training model ran with at the last update (no pass over the training data); the weights are
    still the average."""
    train, val = _data(blobs)
    average = {"method": "swa", "start": 0.5, "lr": 0.02, "anneal_epochs": 1}
    kept = trainwell.fit(MODEL, train, val=val, average={**average, "bn_update": False},
                         run_dir=tmp_path / "kept", **OPTIONS)
    updated = trainwell.fit(MODEL, train, val=val, average=average, run_dir=tmp_path / "updated", **OPTIONS)
    raw = load_file(tmp_path / "kept" / "raw_model.safetensors")
    got, recalibrated = kept.model.state_dict(), updated.model.state_dict()
    stats = [k for k in got if "running_" in k]
    assert stats and all(torch.equal(got[k], raw[k]) for k in stats)
    assert not all(torch.allclose(got[k], recalibrated[k]) for k in stats)
    weights = [k for k in got if k.endswith("weight")]
    assert all(torch.equal(got[k], recalibrated[k]) for k in weights)       # the same average
    assert not all(torch.equal(got[k], raw[k]) for k in weights)


def test_an_averager_built_by_the_user_without_a_loss_evaluates_with_the_runs(blobs):
    """``Averager`` used as a callback, built with no ``loss_fn`` (fit builds its own with the run's):
    the raw model's validation loss is read with the run's loss, the same numbers as an Averager
    given that loss explicitly (it raised a TypeError at the first validation)."""
    from trainwell.train.average import Averager
    train, val = _data(blobs)

    def raw_losses(loss_fn):
        ema = Averager(average_options({"method": "ema", "decay": 0.9}), steps_per_epoch=8, epochs=2, loss_fn=loss_fn)
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(train[0].shape[1], 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
        run = trainwell.fit(model, train, val=val, callbacks=[ema], **{**OPTIONS, "epochs": 2})
        return [r["raw_val_loss"] for r in run.history]
    assert raw_losses(None) == raw_losses(torch.nn.functional.cross_entropy)
