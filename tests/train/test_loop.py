import json
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.train.callbacks import HOOKS, Callback
from trainwell.train.state import Stop, StopKind


def _mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3))


def test_fit_matches_a_hand_written_loop_bit_for_bit(blobs):
    X, y = blobs
    model = _mlp()
    run = trainwell.fit(model, (X, y), optimizer="sgd", lr=0.1, momentum=0.9, nesterov=False,
                        weight_decay=0.0, schedule="constant", epochs=3, batch_size=32, seed=7,
                        progress=False, device="cpu")
    hand = _mlp()
    torch.manual_seed(7)
    opt = torch.optim.SGD(hand.parameters(), lr=0.1, momentum=0.9)
    g = torch.Generator().manual_seed(7)
    for _ in range(3):
        perm = torch.randperm(300, generator=g)
        for i in range(0, 300, 32):
            idx = perm[i:i + 32]
            opt.zero_grad()
            F.cross_entropy(hand(X[idx]), y[idx]).backward()
            opt.step()
    for a, b in zip(run.model.parameters(), hand.parameters()):
        assert torch.equal(a, b)
    assert len(run.history) == 3
    assert set(run.history[0]) >= {"epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"}


def test_history_metrics_agree_with_a_direct_evaluation(blobs):
    X, y = blobs
    run = trainwell.fit(_mlp(), (X[:200], y[:200]), val=(X[200:], y[200:]), epochs=2, lr=0.1,
                        progress=False, device="cpu")
    direct = run.evaluate((X[200:], y[200:]))
    assert math.isclose(run.history[-1]["val_loss"], direct["loss"], rel_tol=1e-6)
    assert math.isclose(run.history[-1]["val_acc"], direct["acc"], rel_tol=1e-6)
    assert torch.equal(run.predict(X[200:]), run.model(X[200:]).argmax(1))
    assert torch.allclose(run.predict(X[:5], output="proba").sum(1), torch.ones(5))


def test_full_batch_is_gradient_descent(blobs):
    X, y = blobs
    run = trainwell.fit(_mlp(), (X, y), optimizer="sgd", lr=0.5, momentum=0.0, nesterov=False,
                        weight_decay=0.0, schedule="constant", epochs=4, batch_size=10_000,
                        shuffle=False, progress=False, device="cpu")
    gd = _mlp()
    for _ in range(4):
        gd.zero_grad()
        F.cross_entropy(gd(X), y).backward()
        with torch.no_grad():
            for p in gd.parameters():
                p -= 0.5 * p.grad
    for a, b in zip(run.model.parameters(), gd.parameters()):
        assert torch.allclose(a, b, atol=1e-6)
    assert run.results["steps"] == 4


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def __getattribute__(self, name):
        if name in HOOKS:
            return lambda state: object.__getattribute__(self, "calls").append(name)
        return object.__getattribute__(self, name)


def test_hook_order_is_fixed(blobs, tmp_path):
    X, y = blobs
    rec = Recorder()
    for name in HOOKS:  # make every hook "overridden" so the dispatcher binds it
        setattr(Recorder, name, lambda self, state: None)
    trainwell.fit(_mlp(), (X[:64], y[:64]), val=(X[64:96], y[64:96]), epochs=2, batch_size=32,
                  callbacks=[rec], run_dir=tmp_path / "run", report=False, progress=False)
    epoch = ["on_epoch_start", "on_before_step", "on_after_step", "on_before_step", "on_after_step",
             "on_validation_start", "on_validation_end", "on_epoch_end", "on_checkpoint"]
    assert rec.calls == ["on_fit_start", *epoch, *epoch, "on_fit_end"]
    assert set(rec.calls) == set(HOOKS) - {"on_model_changed"}     # only when a change says so


def test_a_callback_stops_training_by_setting_a_field(blobs):
    X, y = blobs

    class StopAtStep(Callback):
        def on_after_step(self, state):
            if state.step == 5:
                state.stop = "enough"

    run = trainwell.fit(_mlp(), (X, y), epochs=10, batch_size=32, callbacks=[StopAtStep()], progress=False)
    assert run.stopped == Stop(StopKind.CALLBACK, "enough") and run.results["steps"] == 5


class _NaNAfter(torch.nn.Module):
    """Outputs NaN from the given training step on: a loss that turns NaN mid-run (NaN in the
    data is refused before training)."""

    def __init__(self, step):
        super().__init__()
        self.inner, self.step, self.calls = _mlp(), step, 0

    def forward(self, x):
        out = self.inner(x)
        if self.training:
            self.calls += 1
            if self.calls >= self.step:
                out = out * float("nan")
        return out


def test_nan_loss_aborts_with_advice(blobs):
    X, y = blobs
    run = trainwell.fit(_NaNAfter(3), (X, y), epochs=5, batch_size=32, check_every=4, progress=False,
                        babysit="off", device="cpu")
    assert run.stopped.kind == StopKind.DIVERGED
    assert "the loss became nan" in run.stopped.message and "lower lr" in run.stopped.message
    assert run.results["steps"] <= 10 + 4
    # with the babysitter watching (the default), whichever sees it first stops the run
    run = trainwell.fit(_NaNAfter(3), (X, y), epochs=5, batch_size=32, check_every=4, progress=False,
                        device="cpu")
    assert run.stopped.kind == StopKind.DIVERGED and "nan" in run.stopped.message.lower() and run.results["steps"] <= 10 + 4

def test_exploding_loss_aborts_at_three_times_initial(blobs):
    X, y = blobs
    run = trainwell.fit(_mlp(), (X * 50, y), optimizer="sgd", lr=5.0, momentum=0.9, epochs=20,
                        batch_size=32, check_every=2, progress=False)
    assert run.stopped.kind == StopKind.DIVERGED
    assert run.stopped.message.startswith(("the loss rose", "the loss became")), run.stopped


def test_early_stopping_restores_the_best_weights(blobs):
    X, y = blobs
    noisy = y.clone()
    noisy[:150] = torch.randint(0, 3, (150,), generator=torch.Generator().manual_seed(0))
    run = trainwell.fit(_mlp(), (X[:200], noisy[:200]), val=(X[200:], y[200:]), lr=0.2, epochs=60,
                        batch_size=16, patience=3, schedule="constant", progress=False)
    assert run.stopped.kind == StopKind.EARLY_STOPPING and run.stopped.message.startswith("early stopping")
    best = run.results["best_value"]
    assert math.isclose(run.evaluate((X[200:], y[200:]))["loss"], best, rel_tol=1e-5)
    assert run.results["epochs"] - run.results["best_epoch"] == 3


def test_max_steps_and_step_function_override(blobs):
    X, y = blobs
    calls = []

    def step_fn(state, closure):
        calls.append(state.step)
        loss = closure()
        state.optimizer.step()
        return loss

    run = trainwell.fit(_mlp(), (X, y), epochs=10, batch_size=32, max_steps=7, step_fn=step_fn,
                        progress=False)
    assert calls == list(range(7)) and run.results["steps"] == 7


def test_lbfgs_goes_through_the_closure(blobs):
    X, y = blobs
    run = trainwell.fit(_mlp(), (X, y), optimizer="lbfgs", lr=1.0, weight_decay=0.0, schedule="constant",
                        batch_size=10_000, epochs=5, progress=False)
    assert run.history[-1]["train_loss"] < 0.2 * run.history[0]["train_loss"] + 0.05


def test_run_dir_holds_config_metrics_model_and_report(blobs, tmp_path):
    X, y = blobs
    run = trainwell.fit({"type": "mlp", "widths": [8]}, (X[:200], y[:200]), val=(X[200:], y[200:]),
                        epochs=3, run_dir=tmp_path / "r", progress=False, device="cpu")
    d = tmp_path / "r"
    lines = [json.loads(l) for l in (d / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in lines] == [1, 2, 3]
    for name in ("config.toml", "config.json", "model.safetensors", "results.json", "report.html",
                 "babysit.json", "plots/gradient_norms.png", "plots/update_ratios.png"):
        assert (d / name).exists(), name
    evidence = json.loads((d / "babysit.json").read_text())
    assert evidence["samples"] and set(evidence["samples"][0]["grad_norm"]) == {"1.weight", "3.weight"}
    assert "Gradient norms" in (d / "report.html").read_text()
    loaded = trainwell.load_run(d)
    assert torch.equal(loaded.predict(X[200:]), run.predict(X[200:]))
    assert loaded.evaluate((X[200:], y[200:]))["acc"] == run.evaluate((X[200:], y[200:]))["acc"]
    with pytest.raises(trainwell.ConfigError, match="already holds a run"):
        trainwell.fit({"type": "mlp"}, (X, y), epochs=1, run_dir=d, progress=False)


def test_user_module_run_needs_the_module_to_load(blobs, tmp_path):
    X, y = blobs
    trainwell.fit(_mlp(), (X, y), epochs=1, run_dir=tmp_path / "u", report=False, progress=False)
    with pytest.raises(trainwell.DataError, match="pass it to load_run"):
        trainwell.load_run(tmp_path / "u")
    assert trainwell.load_run(tmp_path / "u", model=_mlp(1)).evaluate((X, y))["n"] == 300


@pytest.mark.parametrize("model, loss, message", [
    (nn.Linear(4, 3), "cross_entropy", "the model does not accept the training inputs: samples have shape (2,)"),
    (nn.Linear(2, 2), "cross_entropy", "labels go up to 2 but the model has 2 outputs"),
    (nn.Linear(2, 3), "bce", "loss = 'bce' does not fit the model's outputs (2, 3)"),
])
def test_a_model_that_does_not_fit_the_data_is_reported_before_training(blobs, tmp_path, model, loss, message):
    with pytest.raises(trainwell.DataError) as e:
        trainwell.fit(model, blobs, loss=loss, epochs=1, progress=False, run_dir=tmp_path / "r")
    assert message in str(e.value)
    assert not (tmp_path / "r").exists()   # nothing written


def test_a_trainer_built_by_hand_follows_its_schedule(blobs):
    """The middle level of use: a Trainer from a plain optimizer, batches and StepParts; every
    step's lr is base lr x schedule(step) (group_lrs), and state.lr is group 0's."""
    from trainwell.config import make_config
    from trainwell.data.batches import Batches
    from trainwell.optim.schedules import cosine

    X, y = blobs
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    config = make_config({"epochs": 2, "progress": False, "babysit": "off"})
    schedule = cosine(total=20)
    seen = []

    class Lrs(Callback):
        def on_before_step(self, state):
            seen.append((state.step, state.lr, state.optimizer.param_groups[0]["lr"]))

    trainer = trainwell.Trainer(model, optimizer, F.cross_entropy, config=config,
                                batches=Batches(X, y, batch_size=32, seed=0), callbacks=[Lrs()],
                                parts=trainwell.StepParts(schedule=schedule))
    state = trainer.fit()
    assert state.stop == Stop(StopKind.FINISHED, "finished all epochs") and state.step == 20
    assert [s for s, _, _ in seen] == list(range(20))
    for step, lr, group_lr in seen:
        assert lr == group_lr == pytest.approx(0.2 * schedule(step))
    assert len(state.history) == 2 and state.history[-1]["val_loss"] is None


@pytest.mark.parametrize("optimizer", ["newton", "bfgs"])
def test_second_order_runs_report_their_training_loss(optimizer):
    """Newton and BFGS evaluate the closure without backward first; that call feeds the epoch's
    training loss, which must equal the loss of the weights the epoch started from."""
    torch.manual_seed(0)
    X, y = torch.randn(64, 3), torch.randint(0, 2, (64,))
    model = nn.Linear(3, 2)
    start = F.cross_entropy(model(X), y).item()
    run = trainwell.fit(model, (X, y), optimizer=optimizer, lr=1.0, epochs=1, batch_size=64,
                        shuffle=False, babysit="off", progress=False, device="cpu")
    assert run.history[0]["train_loss"] == pytest.approx(start, rel=1e-5)
