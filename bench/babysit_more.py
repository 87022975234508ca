"""The babysitter beyond the suite's MLPs: other architectures, a regression loss, and healthy
setups that have no broken twin.

* healthy: 29 setups written the way users write them for these data sets (a CNN with SGD and
  with Adam, batch norm + dropout with AdamW, GELU, RMSprop, batch sizes 8 and 256, a step
  schedule, 30-epoch runs, a wide net, tanh with PyTorch's default init, an MSE regression; and
  fit's options that change what the monitor sees: label smoothing, warmup, gradient noise,
  clipping, SAM, L1, early stopping, frozen and unfrozen layers, lr_mult 0, a plateau schedule,
  Adagrad, full-batch L-BFGS, sampling with replacement, dropout):
  false alarms (any warning or error under ``babysit="watch"``) and harm (the test metric under
  ``"repair"`` against ``"watch"``);
* broken: 13 faults on a CNN, a batch-norm net, a regression MLP, MLPs ending in a sigmoid or a
  ReLU before cross-entropy and a 1-unit bottleneck, each
  against a healthy twin of the same architecture: detection, top-1 (``Diagnosis.primary``), and
  the repaired run against the twin (accuracy within 2 points; regression: test MSE at most 1.1x
  the twin's).

Run: ``python bench/babysit_more.py`` (a markdown report, about a minute on 2 cores).
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import babysit_suite as suite  # noqa: E402  (the suite's data sets, models and runners)

import trainwell  # noqa: E402
from trainwell.babysit.doctor import doctor  # noqa: E402
from trainwell.data.synthetic import teacher  # noqa: E402


class CNN(nn.Module):
    """Two 3x3 conv layers, max-pooling, a linear classifier: digits as 1x8x8 images."""

    def __init__(self, act=F.relu, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.act = act
        self.c1, self.c2 = nn.Conv2d(1, 16, 3, padding=1), nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 4 * 4, 10)

    def forward(self, x):
        x = self.act(self.c1(x.view(-1, 1, 8, 8)))
        return self.fc(F.max_pool2d(self.act(self.c2(x)), 2).flatten(1))


def bn_dropout(d_in, d_out, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d_in, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(256, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, d_out))


def gelu_mlp(d_in, d_out, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d_in, 128), nn.GELU(), nn.Linear(128, 128), nn.GELU(), nn.Linear(128, d_out))


def _init(model, fn):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fn(m)
    return model


def zero_init(model):
    return _init(model, lambda m: (m.weight.zero_(), m.bias.zero_()))


def normal_init(model, std):
    return _init(model, lambda m: m.weight.normal_(0, std))


_REGRESSION = []


def regression():
    """10-D inputs, a scalar target from a random 16-unit teacher network (MSE)."""
    if not _REGRESSION:
        _REGRESSION.append(teacher(task="regression", samples=2000, features=10, hidden=(16,)))
    return _REGRESSION[0]


def digits():
    return suite.data("digits")


MSE = {"loss": "mse", "lr": 0.01}
HEALTHY = [
    ("cnn_sgd/digits", lambda: CNN(), digits, {}),
    ("cnn_adam/digits", lambda: CNN(), digits, {"optimizer": "adam", "lr": 1e-3}),
    ("bn_dropout_adamw/digits", lambda: bn_dropout(64, 10), digits,
     {"optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.01}),
    ("gelu/teacher", lambda: gelu_mlp(8, 4), lambda: suite.data("teacher"), {}),
    ("mlp_30_epochs/digits", lambda: suite.mlp(64, 10), digits, {"epochs": 30}),
    ("mlp_batch_8/digits", lambda: suite.mlp(64, 10), digits, {"batch_size": 8, "lr": 0.02}),
    ("mlp_batch_256/digits", lambda: suite.mlp(64, 10), digits, {"batch_size": 256, "lr": 0.1}),
    ("mlp_mse/regression", lambda: suite.mlp(10, 1), regression, MSE),
    ("mlp_adam/blobs", lambda: suite.mlp(10, 4), lambda: suite.data("blobs"), {"optimizer": "adam", "lr": 3e-3}),
    ("mlp_30_epochs/spirals", lambda: suite.mlp(2, 3), lambda: suite.data("spirals"), {"epochs": 30}),
    ("mlp_step_schedule/digits", lambda: suite.mlp(64, 10), digits, {"schedule": "step", "epochs": 20}),
    ("mlp_rmsprop/digits", lambda: suite.mlp(64, 10), digits, {"optimizer": "rmsprop", "lr": 1e-3}),
    ("tanh_default_init/digits", lambda: suite.mlp(64, 10, act=nn.Tanh), digits, {}),
    ("wide_20_epochs/teacher", lambda: suite.mlp(8, 4, (512, 512)), lambda: suite.data("teacher"), {"epochs": 20}),
    # the options of fit() that change what the monitor sees
    ("label_smoothing_0.1_30_epochs/digits", lambda: suite.mlp(64, 10), digits, {"label_smoothing": 0.1, "epochs": 30}),
    ("warmup_100/digits", lambda: suite.mlp(64, 10), digits, {"warmup_steps": 100}),
    ("grad_noise/digits", lambda: suite.mlp(64, 10), digits, {"grad_noise": 0.01}),
    ("clip_norm_1/digits", lambda: suite.mlp(64, 10), digits, {"clip_norm": 1.0}),
    ("sam/digits", lambda: suite.mlp(64, 10), digits, {"optimizer": "sam"}),
    ("l1_1e-4/digits", lambda: suite.mlp(64, 10), digits, {"l1": 1e-4}),
    ("early_stopping/digits", lambda: suite.mlp(64, 10), digits, {"patience": 3, "epochs": 40}),
    ("freeze_first/digits", lambda: suite.mlp(64, 10), digits, {"freeze": ["0"]}),
    ("freeze_then_unfreeze/digits", lambda: suite.mlp(64, 10), digits, {"freeze": ["0"], "unfreeze_at": 4}),
    ("lr_mult_0_first/digits", lambda: suite.mlp(64, 10), digits, {"lr_mults": {"0": 0.0}}),
    ("plateau_schedule/digits", lambda: suite.mlp(64, 10), digits, {"schedule": "plateau", "epochs": 20}),
    ("adagrad/digits", lambda: suite.mlp(64, 10), digits, {"optimizer": "adagrad"}),
    ("lbfgs_full_batch/digits", lambda: suite.mlp(64, 10), digits,
     {"optimizer": "lbfgs", "lr": 1.0, "batch_size": 2048, "epochs": 10}),
    ("sampling_with_replacement/digits", lambda: suite.mlp(64, 10), digits, {"replacement": True}),
    ("dropout_0.3/digits", lambda: suite.mlp(64, 10, dropout=0.3), digits, {}),
]

PLAIN_SGD = {"momentum": 0.0, "nesterov": False}
X255 = lambda: suite.transform(digits(), lambda X: X * 255.0 * 16)   # noqa: E731
# (name, expected code, phase, model, data, options, twin model, twin data, twin options)
BROKEN = [
    ("cnn_lr_5", "loss_exploding", "training", lambda: CNN(), digits, {"lr": 5.0}, None, None, {"lr": 0.05}),
    ("cnn_lr_1e-6", "lr_too_low", "training", lambda: CNN(), digits, {"lr": 1e-6, **PLAIN_SGD}, None, None,
     {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("cnn_zero_init", "symmetric_init", "preflight", lambda: zero_init(CNN()), digits, {}, lambda: CNN(), None, {}),
    ("cnn_normal_3_init", "exploding_activations", "preflight", lambda: normal_init(CNN(), 3.0), digits, {},
     lambda: CNN(), None, {}),
    ("cnn_x255_inputs", "unnormalized_inputs", "preflight", lambda: CNN(), X255, {}, None, digits, {}),
    ("cnn_weight_decay_1", "underfitting", "training", lambda: CNN(), digits, {"weight_decay": 1.0}, None, None,
     {"weight_decay": 5e-4}),
    ("bn_dropout_adam_lr_1", "lr_too_high", "training", lambda: bn_dropout(64, 10), digits,
     {"optimizer": "adam", "lr": 1.0}, None, None, {"lr": 1e-3}),
    ("mse_lr_1", "loss_exploding", "training", lambda: suite.mlp(10, 1), regression, {**MSE, "lr": 1.0}, None,
     None, {"lr": 0.01}),
    ("mse_lr_1e-7", "lr_too_low", "training", lambda: suite.mlp(10, 1), regression, {**MSE, "lr": 1e-7, **PLAIN_SGD},
     None, None, {"lr": 0.01, "momentum": 0.9, "nesterov": True}),
    ("mse_last_layer_x30", "bad_initial_loss", "preflight", lambda: suite._scale_last(suite.mlp(10, 1), 30.0),
     regression, MSE, lambda: suite.mlp(10, 1), None, {}),
    ("sigmoid_output_ce/digits", "loss_output_mismatch", "preflight", lambda: suite.mlp(64, 10, out_act=nn.Sigmoid()),
     digits, {}, lambda: suite.mlp(64, 10), None, {}),
    ("relu_output_ce/digits", "loss_output_mismatch", "preflight", lambda: suite.mlp(64, 10, out_act=nn.ReLU()),
     digits, {}, lambda: suite.mlp(64, 10), None, {}),
    ("one_unit/teacher", "cannot_overfit_small_subset", "preflight", lambda: suite.mlp(8, 4, (1,)),
     lambda: suite.data("teacher"), {}, lambda: suite.mlp(8, 4), None, {}),
]


def _fit(model, data, babysit, options):
    return trainwell.fit(model, data, **suite.BASE, babysit=babysit, **{"epochs": 12, "lr": 0.05, **options})


def _metric(run):
    """(name, value, higher is better) of the run's test result."""
    test = run.results["test"]
    return ("acc", test["acc"], True) if test.get("acc") is not None else ("mse", test["loss"], False)


def healthy_rows():
    rows = []
    for name, model, data, options in HEALTHY:
        watch = _fit(model(), data(), "watch", options)
        repair = _fit(model(), data(), "repair", options)
        metric, w, higher = _metric(watch)
        r = _metric(repair)[1]
        rows.append({"case": name, "alarms": [f.code for f in watch.findings.findings if f.severity != "info"],
                     "metric": metric, "watch": w, "repair": r,
                     "harm": (w - r) if higher else (r - w) / w, "repairs": [x["code"] for x in repair.repairs]})
    return rows


def broken_rows():
    rows = []
    for name, expected, phase, model, data, options, twin_model, twin_data, twin_options in BROKEN:
        opts = {"epochs": 12, "lr": 0.05, **options}
        if phase == "preflight":
            diagnosis = doctor(model(), data(), **suite.BASE, **opts)
        else:
            diagnosis = trainwell.fit(model(), data(), **suite.BASE, babysit="watch", **opts).findings
        twin = _fit((twin_model or model)(), (twin_data or data)(), "watch", {**options, **twin_options})
        repaired = _fit(model(), data(), "repair", options)
        metric, t, higher = _metric(twin)
        r = _metric(repaired)[1]
        ok = r >= t - 0.02 if higher else r <= 1.1 * t
        primary = diagnosis.primary
        rows.append({"case": name, "expected": expected, "found": expected in diagnosis.codes,
                     "top1": primary.code if primary else None, "metric": metric, "twin": t, "repaired": r,
                     "ok": ok, "repairs": [f"{x['code']}->{x['action']}" for x in repaired.repairs]})
    return rows


def _value(metric, v):
    return f"{100 * v:.1f}" if metric == "acc" else f"{v:.4f}"


def report(healthy, broken) -> str:
    alarms = sum(bool(r["alarms"]) for r in healthy)
    harm = max((100 * r["harm"] if r["metric"] == "acc" else 0.0) for r in healthy)
    lines = ["# The babysitter beyond the suite", "",
             f"Healthy setups: {len(healthy)}; with a false alarm: {alarms}; worst harm under repair: "
             f"{harm:.2f} points (accuracy).", "",
             "| healthy setup | alarms | test (watch) | test (repair) | repairs |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r['case']} | {', '.join(r['alarms']) or '-'} | {r['metric']} {_value(r['metric'], r['watch'])} | "
              f"{_value(r['metric'], r['repair'])} | {', '.join(r['repairs']) or '-'} |" for r in healthy]
    found = sum(r["found"] for r in broken)
    top = sum(r["top1"] == r["expected"] for r in broken)
    ok = sum(r["ok"] for r in broken if r["expected"] != "cannot_overfit_small_subset")
    repairable = sum(r["expected"] != "cannot_overfit_small_subset" for r in broken)
    lines += ["", f"Broken setups: {len(broken)}; found: {found}; top-1: {top}; repaired within 2 points "
                  f"(MSE: 1.1x) of the twin: {ok} of {repairable} (a 1-unit bottleneck is not repairable).", "",
              "| broken setup | expected | found | top-1 | twin | repaired | ok | repairs |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['case']} | {r['expected']} | {'yes' if r['found'] else 'NO'} | {r['top1']} | "
              f"{r['metric']} {_value(r['metric'], r['twin'])} | {_value(r['metric'], r['repaired'])} | "
              f"{'ok' if r['ok'] else 'FAIL'} | {'; '.join(r['repairs']) or '-'} |" for r in broken]
    return "\n".join(lines)


def main():
    torch.set_num_threads(1)
    print(report(healthy_rows(), broken_rows()))


if __name__ == "__main__":
    main()
