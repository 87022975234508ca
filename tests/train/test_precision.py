"""Mixed precision, channels-last, compile and the backend switches (train/precision.py).

CPU tests pin ``device="cpu"``; the CUDA tests at the end run only where CUDA is present.
"""
import json
import math
import shutil

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.babysit.monitor import Monitor
from trainwell.config import make_config
from trainwell.data.batches import Batches
from trainwell.train.precision import (Precision, backend_settings, compile_model, to_channels_last,
                                       use_channels_last)

CPU = dict(device="cpu", progress=False, report=False)
CNN = {"type": "cnn", "norm": "batch", "layers": [{"type": "conv", "channels": 16},
                                                  {"type": "pool", "kind": "max", "kernel": 2},
                                                  {"type": "conv", "channels": 32}]}
DIGIT_IMAGES = {"source": "digits", "images": True}


def _mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 3))


def _weights(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


# ------------------------------------------------------------------ options
@pytest.mark.parametrize("key, value, words", [
    ("precision", "fp8", "precision = 'fp8': unknown; allowed: bf16, fp16, fp32"),
    ("channels_last", "yes", "channels_last = 'yes': must be \"auto\", true or false"),
    ("compile", "fast", "compile = 'fast': must be false, true or \"max-autotune\""),
    ("matmul_precision", "low", "matmul_precision = 'low': unknown; allowed: high, highest, medium"),
])
def test_a_bad_value_names_the_key_and_the_allowed_values(key, value, words):
    with pytest.raises(trainwell.ConfigError) as e:
        make_config({key: value})
    assert str(e.value) == words


def test_fp16_with_an_optimizer_that_reads_the_loss_itself_is_refused(blobs):
    with pytest.raises(trainwell.ConfigError, match='precision = "fp16" with optimizer LBFGS.*bf16'):
        trainwell.fit(_mlp(), blobs, precision="fp16", optimizer="lbfgs", lr=0.5, epochs=1, **CPU)


def test_channels_last_auto_is_on_only_for_conv_nets_on_cuda():
    conv, mlp = nn.Sequential(nn.Conv2d(1, 2, 3)), _mlp()
    assert use_channels_last("auto", conv, torch.device("cuda")) is True
    assert use_channels_last("auto", conv, torch.device("cpu")) is False
    assert use_channels_last("auto", mlp, torch.device("cuda")) is False
    assert use_channels_last(True, mlp, torch.device("cpu")) is True


def test_backend_settings_apply_inside_and_are_put_back():
    before = torch.backends.cudnn.benchmark, torch.get_float32_matmul_precision()
    with backend_settings(cudnn_benchmark=not before[0], matmul_precision="medium"):
        assert torch.backends.cudnn.benchmark is (not before[0])
        assert torch.get_float32_matmul_precision() == "medium"
    assert (torch.backends.cudnn.benchmark, torch.get_float32_matmul_precision()) == before


def test_fit_puts_the_backend_settings_back(blobs):
    before = torch.backends.cudnn.benchmark, torch.get_float32_matmul_precision()
    trainwell.fit(_mlp(), blobs, epochs=1, matmul_precision="high", cudnn_benchmark=False, **CPU)
    assert (torch.backends.cudnn.benchmark, torch.get_float32_matmul_precision()) == before


@pytest.mark.slow
# ------------------------------------------------------------------ bf16 / fp16 training
def test_bf16_trains_as_well_as_fp32_on_the_digits():
    """Statistically equivalent: over 3 seeds, 5 epochs of the default MLP on the digits, the mean
    validation loss of bf16 is within 5 % of fp32's and the mean accuracy within 1 point (measured:
    0.0900 vs 0.0896 and 0.977 vs 0.977). bf16 keeps 8 mantissa bits, so each autocast op rounds by
    up to 2^-8 relative; the bound allows the trajectories to differ but not to train worse."""
    results = {p: [trainwell.fit(None, "digits", epochs=5, seed=s, precision=p, **CPU).results["val"]
                   for s in range(3)] for p in ("fp32", "bf16")}
    mean = {p: {k: sum(r[k] for r in rs) / 3 for k in ("loss", "acc")} for p, rs in results.items()}
    assert abs(mean["bf16"]["loss"] - mean["fp32"]["loss"]) <= 0.05 * mean["fp32"]["loss"]
    assert abs(mean["bf16"]["acc"] - mean["fp32"]["acc"]) <= 0.01


def test_fp16_with_its_grad_scaler_trains_on_the_cpu(blobs):
    """torch 2.13 has CPU autocast for float16 and a CPU GradScaler: fp16 is allowed there."""
    run = trainwell.fit(_mlp(), blobs, precision="fp16", lr=0.1, epochs=3, **CPU)
    assert run.history[-1]["train_loss"] < 0.5 * run.history[0]["train_loss"]
    assert run.results["val"] is None and run.stopped.kind.value == "finished"


class GradsAfterStep(trainwell.Callback):
    """The gradients the optimizer stepped with (after unscaling and the hooks), per step."""

    def __init__(self):
        self.grads = []

    def on_after_step(self, state):
        self.grads.append(torch.cat([p.grad.detach().reshape(-1).clone()
                                     for p in state.model.parameters()]))


def test_fp16_clips_the_true_gradient_not_the_scaled_one(blobs):
    """Unscale before clipping: the clipped gradient has norm clip_norm (a clip of the scaled
    gradient would leave clip_norm / 65536 after unscaling) and matches fp32's clipped gradient."""
    clip = 0.05                       # well below the gradient's norm on these data (about 1)
    seen = {}
    for p in ("fp32", "fp16"):
        seen[p] = GradsAfterStep()
        trainwell.fit(_mlp(), blobs, precision=p, clip_norm=clip, lr=0.1, max_steps=1, epochs=1,
                      callbacks=[seen[p]], babysit="off", **CPU)
    g32, g16 = seen["fp32"].grads[0], seen["fp16"].grads[0]
    assert math.isclose(float(g16.norm()), clip, rel_tol=1e-3)
    assert math.isclose(float(g32.norm()), clip, rel_tol=1e-5)
    assert torch.allclose(g16, g32, atol=2e-3 * clip)


@pytest.mark.parametrize("optimizer", ["sam", "eg_sam"])
def test_the_sam_family_under_fp16_follows_fp32(blobs, optimizer):
    """The perturbation uses the unscaled gradient on both passes: 10 steps of SAM (ε = ρg/‖g‖) and
    EG-SAM (w − ηg + ρg/‖g‖, which a scaled g would blow up 65536-fold) under fp16 end within
    float16's rounding of the fp32 weights."""
    runs = {p: trainwell.fit(_mlp(), blobs, precision=p, optimizer=optimizer, lr=0.1, max_steps=10,
                             epochs=1, babysit="off", **CPU) for p in ("fp32", "fp16")}
    w32, w16 = (_weights(runs[p].model) for p in ("fp32", "fp16"))
    start = _weights(_mlp())
    assert (w32 - start).norm() > 0.1                 # the steps moved the weights
    assert (w16 - w32).norm() <= 0.01 * (w32 - start).norm()


@pytest.mark.slow
def test_the_babysitter_raises_no_false_alarm_under_bf16():
    """A healthy run (the demo-like MLP and a small CNN on the digits) has no findings in fp32,
    and none in bf16: the statistics are computed in float32 from the true gradients."""
    for model, data in ((None, {"source": "digits"}), (CNN, DIGIT_IMAGES)):
        for p in ("fp32", "bf16"):
            run = trainwell.fit(model, "digits", data=data, epochs=6, lr=0.1, precision=p,
                                babysit="watch", **CPU)
            assert run.findings.findings == [], (model, p, run.findings.findings)
            assert run.stopped.kind.value == "finished"


def test_skipped_fp16_steps_are_no_divergence_and_no_sample(blobs):
    """A scale of 2^24 overflows float16's gradients: the GradScaler skips those steps and halves
    its scale until the gradients fit. The skipped steps leave the weights alone, stop nothing,
    and the monitor (sampling every step) takes no sample from them, so it finds nothing."""
    X, y = blobs
    model = _mlp()
    amp = Precision("fp16", "cpu", init_scale=2.0 ** 24)
    monitor = Monitor(every=1)
    config = make_config({"epochs": 4, "lr": 0.1, "progress": False, "babysit": "watch",
                          "precision": "fp16", "device": "cpu"})
    trainer = trainwell.Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy,
                                config=config, batches=Batches(X, y, batch_size=32, seed=0),
                                callbacks=[monitor], precision=amp)
    state = trainer.fit()
    assert state.stop.kind.value == "finished"
    assert amp.scaler.get_scale() < 2.0 ** 24                 # some steps were skipped
    assert len(monitor.samples) < state.step                  # and not sampled
    assert all(math.isfinite(sum(s["grad_norm"].values())) for s in monitor.samples)
    assert monitor.findings == [] and state.history[-1]["train_loss"] < state.history[0]["train_loss"]
    saved = json.loads(json.dumps(trainer.state_dict()["scaler"]))    # JSON numbers, no pickle
    fresh = Precision("fp16", "cpu")
    fresh.load_state_dict(saved)
    assert fresh.scaler.get_scale() == amp.scaler.get_scale() != 2.0 ** 16     # not the default


# ------------------------------------------------------------------ resume
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_a_mixed_precision_run_killed_and_resumed_is_bit_identical(blobs, tmp_path, crash_at, precision):
    """The GradScaler's scale and growth tracker are in the checkpoint (JSON numbers), so fp16
    resumes exactly as bf16 does."""
    X, y = blobs
    kw = dict(precision=precision, lr=0.1, momentum=0.9, epochs=3, batch_size=32, checkpoint_every=7,
              babysit="watch", **CPU)
    whole = trainwell.fit(_mlp(), (X[:240], y[:240]), val=(X[240:], y[240:]), run_dir=tmp_path / "a", **kw)
    with pytest.raises(crash_at.error):
        trainwell.fit(_mlp(), (X[:240], y[:240]), val=(X[240:], y[240:]), run_dir=tmp_path / "b",
                      callbacks=[crash_at(17)], **kw)
    resumed = trainwell.fit(_mlp(), (X[:240], y[:240]), val=(X[240:], y[240:]), run_dir=tmp_path / "b",
                            resume=True, **kw)
    assert torch.equal(_weights(whole.model), _weights(resumed.model))
    assert [m["val_loss"] for m in whole.history] == [m["val_loss"] for m in resumed.history]


# ------------------------------------------------------------------ evaluation
def test_evaluation_and_predict_run_under_the_runs_autocast(blobs):
    X, y = blobs
    run = trainwell.fit(_mlp(), (X[:240], y[:240]), val=(X[240:], y[240:]), precision="bf16", epochs=2, **CPU)
    assert run.evaluate((X[240:], y[240:]))["loss"] == run.results["val"]["loss"]
    raw = run.predict(X[240:], output="raw")
    assert raw.dtype == torch.float32
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = run.model(X[240:]).float()
    assert torch.equal(raw, expected)


# ------------------------------------------------------------------ channels-last
def test_channels_last_gives_the_same_training_on_a_cnn():
    runs = {c: trainwell.fit(CNN, "digits", data=DIGIT_IMAGES, epochs=1, channels_last=c, seed=0, **CPU)
            for c in (False, True)}
    conv = next(m for m in runs[True].model.modules() if isinstance(m, nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    w0, w1 = (_weights(runs[c].model) for c in (False, True))
    assert torch.allclose(w0, w1, rtol=1e-4, atol=1e-5)
    assert math.isclose(runs[True].results["val"]["loss"], runs[False].results["val"]["loss"], rel_tol=1e-4)


def test_to_channels_last_keeps_values_and_leaves_other_ranks_alone():
    x = torch.randn(2, 3, 4, 5)
    y = to_channels_last(x)
    assert torch.equal(x, y) and y.is_contiguous(memory_format=torch.channels_last)
    flat = torch.randn(3, 4)
    assert to_channels_last(flat) is flat


# ------------------------------------------------------------------ compile
def test_newton_stays_eager_under_compile_with_one_note(blobs):
    model = nn.Sequential(nn.Linear(2, 3))
    with pytest.warns(UserWarning, match="compile = True: optimizer Newton differentiates the loss twice"):
        run = trainwell.fit(model, blobs, optimizer="newton", lr=1.0, epochs=1, compile=True,
                            babysit="off", **CPU)
    assert model._compiled_call_impl is None and run.stopped.kind.value == "finished"


def test_a_compiled_runs_monitor_records_no_activations():
    """The activation probes' forward hooks would make torch.compile retrace on every sample."""
    from trainwell.train.parts import babysit_callbacks
    for babysit in ("watch", "repair"):
        compiled = babysit_callbacks(make_config({"babysit": babysit, "compile": True}), 10)[0]
        eager = babysit_callbacks(make_config({"babysit": babysit}), 10)[0]
        assert compiled.activation_every == 0 and eager.activation_every > 0


def test_compile_false_leaves_the_model_alone():
    model = _mlp()
    assert compile_model(model, False) is None and model._compiled_call_impl is None


@pytest.mark.skipif(shutil.which("cc") is None, reason="torch.compile on the CPU needs a C compiler (cc)")
@pytest.mark.parametrize("optimizer", ["sgd", "sam"])
def test_compile_gives_the_eager_losses(blobs, optimizer):
    """A small MLP, compiled (the SAM family's two passes included) vs eager: same losses to 1e-5."""
    runs = {c: trainwell.fit(_mlp(), blobs, optimizer=optimizer, lr=0.1, epochs=2, batch_size=50,
                             compile=c, babysit="off", **CPU) for c in (False, True)}
    assert runs[True].model._compiled_call_impl is not None
    for a, b in zip(runs[False].history, runs[True].history):
        assert math.isclose(a["train_loss"], b["train_loss"], rel_tol=1e-5)
    assert torch.allclose(_weights(runs[False].model), _weights(runs[True].model), atol=1e-5)


# ------------------------------------------------------------------ CUDA
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@cuda
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_cuda_mixed_precision_cnn_trains_like_fp32(precision):
    """On a GPU, a batch-normed CNN with channels-last (auto) reaches fp32's validation loss
    within 10 % and its accuracy within 3 points (a GPU run is not bit-reproducible: cuDNN's
    autotuner picks kernels per run)."""
    runs = {p: trainwell.fit(CNN, "digits", data=DIGIT_IMAGES, epochs=6, lr=0.1, precision=p,
                             device="cuda", progress=False, report=False)
            for p in ("fp32", precision)}
    conv = next(m for m in runs[precision].model.modules() if isinstance(m, nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    a, b = runs["fp32"].results["val"], runs[precision].results["val"]
    assert abs(a["loss"] - b["loss"]) <= 0.1 * a["loss"] and abs(a["acc"] - b["acc"]) <= 0.03
    assert runs[precision].findings.findings == []


@cuda
def test_cuda_compile_matches_eager():
    runs = {c: trainwell.fit(CNN, "digits", data=DIGIT_IMAGES, epochs=2, lr=0.1, compile=c, seed=0,
                             device="cuda", progress=False, report=False) for c in (False, True)}
    a, b = runs[False].results["val"], runs[True].results["val"]
    assert abs(a["loss"] - b["loss"]) <= 0.05 * a["loss"]
