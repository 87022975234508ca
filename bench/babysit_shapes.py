"""Task shapes the babysitter was never tuned on: does it crash, raise a false alarm, or harm?

Every earlier benchmark (the generated grid, user sets 1-13, the suite) is single-label
classification or scalar regression on small tables, 8x8 / 16x16 images and short token
sequences. This sweep writes one healthy setup per other task shape as a user writes it (data
generated here or scikit-learn's bundled data, the user's own ``nn.Module``, the loss as PyTorch
users pass it) and, for each, runs the doctor (``trainwell.doctor``, docs/babysitter.md) and
``fit(..., babysit="repair")`` against ``babysit="off"`` on 2 seeds:

| setup | task shape |
| --- | --- |
| multilabel_bce | multi-label classification: multi-hot (N, 5) float targets, ``nn.BCEWithLogitsLoss()`` |
| multioutput_regression | three target columns, one on a 5x larger scale, ``loss="mse"`` |
| token_tagger | a tagger: (N, T, C) logits, -100 padding ignored by the user's cross-entropy |
| pixel_segmentation | per-pixel classes on 16x16 images: (N, C, H, W) logits, (N, H, W) ids, ``nn.CrossEntropyLoss()`` |
| binary_one_logit | one logit per row, (N, 1) float 0/1 targets, ``nn.BCEWithLogitsLoss()`` |
| many_classes_few_rows | 120 classes, 10 rows each |
| imbalanced_99_1 | binary, 1 % positives |
| tiny_40_rows | 40 rows |
| wide_2000_features | 2000 features, 300 rows |
| long_sequence_cnn | a 1-D CNN on (N, 4, 512) |
| count_inputs | int64 Poisson counts as the inputs |
| float64_inputs | numpy float64 inputs and targets (regression) |
| float64_model | the same model cast by ``.double()``: fit trains in float32; a clear error expected |
| sum_reduction_loss | ``nn.CrossEntropyLoss(reduction="sum")`` |
| tuple_output | a model returning ``(logits, features)``: not a documented output; a clear error expected |
| dict_output | a model returning ``{"logits": ...}``: not a documented output; a clear error expected |
| dataloader_data | a ``DataLoader`` given as the data: not a documented form; a clear error expected |
| cli_toml_csv | ``trainwell fit`` / ``trainwell doctor`` on a TOML config over a csv written here |

With ``--faults`` the same sweep runs a setup with one fault of the kind a general check should
see (the results are reported, no rule is shaped to them): ``multilabel_shifted`` (the multi-hot
rows shifted by one against the inputs), ``tagger_padding_counted`` (the padding positions given
class 0 and counted by the loss), ``multioutput_column_1000x`` (one target column 1000x the others).

    OMP_NUM_THREADS=1 nice -n 5 python bench/babysit_shapes.py --json OUT.json [--only a,b] [--faults]
        [--seeds 2] [--no-fit]
    python bench/babysit_shapes.py --table OUT.json      # the table of rows written before

Per setup: ``crash`` (the exception's type and first line, from the doctor or either fit),
``findings`` (the doctor's warnings and errors; info is listed apart), ``doctor_s`` (CPU seconds of
the doctor: the 60 s budget is nominal seconds, so CPU time is what it bounds on a loaded machine),
``harm`` (the validation loss under ``babysit="repair"`` minus under ``"off"``, mean over seeds,
relative to the "off" loss: > 0 is worse), and the repaired runs' own findings and repairs. Ids per
position are no target ``fit`` trains, so those setups also run at the babysitter's building blocks
(a row "(Trainer)": ``preflight`` and a ``Monitor`` in the user's ``Trainer``). Results:
BENCHMARKS.md, "task shapes nobody tuned the babysitter for".
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import trainwell

TAGS = 6                # a tagger's classes
PAD = -100              # PyTorch's default ignore_index


def _split(X, y, *, seed, val=0.25):
    """(train, val) pairs of a random split, as users cut them."""
    order = np.random.default_rng(seed).permutation(len(X))
    cut = int(len(X) * (1 - val))
    return (X[order[:cut]], y[order[:cut]]), (X[order[cut:]], y[order[cut:]])


def _mlp(d_in, d_out, width=64):
    return nn.Sequential(nn.Linear(d_in, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, d_out))


def _tabular(n, d, *, seed, classes=3, informative=6):
    """Gaussian inputs; classes by the arg max of a random linear map of the informative columns."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    W = rng.normal(size=(informative, classes))
    y = (X[:, :informative] @ W + 0.5 * rng.normal(size=(n, classes))).argmax(1)
    return X, y.astype(np.int64)


# --------------------------------------------------------------------------- setups (healthy)

def multilabel_bce(fault=False):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(900, 20)).astype(np.float32)
    W = rng.normal(size=(20, 5))
    Y = ((X @ W) / np.sqrt(20) + 0.3 * rng.normal(size=(900, 5)) > 0.3).astype(np.float32)
    if fault:                               # the label table joined one row off
        Y = np.roll(Y, 1, axis=0)
    torch.manual_seed(1)
    train, val = _split(torch.tensor(X), torch.tensor(Y), seed=1)
    return _mlp(20, 5), train, val, {"loss": nn.BCEWithLogitsLoss(), "optimizer": "adam", "lr": 1e-3,
                                     "epochs": 15, "batch_size": 64}


def multioutput_regression(fault=False):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(900, 10)).astype(np.float32)
    W = rng.normal(size=(10, 3)) / np.sqrt(10)
    Y = np.tanh(X @ W) + 0.1 * rng.normal(size=(900, 3))
    Y[:, 2] *= 1000.0 if fault else 5.0       # one column on another scale (1000x: the fault)
    torch.manual_seed(2)
    train, val = _split(torch.tensor(X), torch.tensor(Y.astype(np.float32)), seed=2)
    return _mlp(10, 3), train, val, {"loss": "mse", "optimizer": "adam", "lr": 1e-3, "epochs": 15,
                                     "batch_size": 64}


class Tagger(nn.Module):
    """Embedding, a bidirectional GRU, a linear head per position: (N, T, TAGS) logits."""

    def __init__(self, vocab=40, dim=32):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=0)
        self.rnn = nn.GRU(dim, dim, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * dim, TAGS)

    def forward(self, tokens):
        h, _ = self.rnn(self.embed(tokens))
        return self.head(h)


def tag_loss(out, y):
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1), ignore_index=PAD)


def tag_loss_counting_padding(out, y):
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))


def token_tagger(fault=False):
    """Sentences of 4-24 tokens padded to 24 with token 0; a token's tag is its word's class, one
    word class in three taking the next token's class (a context the GRU must read)."""
    rng = np.random.default_rng(3)
    n, T = 800, 24
    lengths = rng.integers(4, T + 1, size=n)
    tokens = rng.integers(1, 40, size=(n, T))
    tags = tokens % TAGS
    follow = (tokens % 3 == 0)
    tags[:, :-1] = np.where(follow[:, :-1], tokens[:, 1:] % TAGS, tags[:, :-1])
    mask = np.arange(T)[None, :] >= lengths[:, None]
    tokens[mask] = 0
    tags[mask] = 0 if fault else PAD          # the fault: padding labelled 0 and counted
    torch.manual_seed(3)
    train, val = _split(torch.tensor(tokens), torch.tensor(tags), seed=3)
    loss = tag_loss_counting_padding if fault else tag_loss
    return Tagger(), train, val, {"loss": loss, "optimizer": "adam", "lr": 3e-3, "epochs": 10,
                                  "batch_size": 32}


class SegNet(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.head = nn.Conv2d(16, classes, 1)

    def forward(self, x):
        return self.head(self.body(x))


def pixel_segmentation(fault=False):
    """16x16 grey images with a bright square and a dark disc on noise: background 0, square 1,
    disc 2 per pixel."""
    rng = np.random.default_rng(4)
    n = 500
    X = 0.5 + 0.1 * rng.normal(size=(n, 1, 16, 16))
    Y = np.zeros((n, 16, 16), dtype=np.int64)
    r, c = np.meshgrid(np.arange(16), np.arange(16), indexing="ij")
    for i in range(n):
        a, b = rng.integers(0, 11, size=2)
        X[i, 0, a:a + 5, b:b + 5] += 0.4
        Y[i, a:a + 5, b:b + 5] = 1
        cy, cx = rng.integers(3, 13, size=2)
        disc = (r - cy) ** 2 + (c - cx) ** 2 <= 6
        X[i, 0][disc] -= 0.4
        Y[i][disc] = 2
    torch.manual_seed(4)
    train, val = _split(torch.tensor(X, dtype=torch.float32), torch.tensor(Y), seed=4)
    return SegNet(), train, val, {"loss": nn.CrossEntropyLoss(), "optimizer": "adam", "lr": 3e-3,
                                  "epochs": 8, "batch_size": 32}


def binary_one_logit(fault=False):
    from sklearn.datasets import load_breast_cancer
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    torch.manual_seed(5)
    train, val = _split(torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)[:, None], seed=5)
    return _mlp(30, 1), train, val, {"loss": nn.BCEWithLogitsLoss(), "optimizer": "adam", "lr": 1e-3,
                                     "epochs": 20, "batch_size": 32}


def many_classes_few_rows(fault=False):
    rng = np.random.default_rng(6)
    classes, per = 120, 10
    centers = rng.normal(size=(classes, 32))
    y = np.repeat(np.arange(classes), per)
    X = (centers[y] + 0.6 * rng.normal(size=(len(y), 32))).astype(np.float32)
    torch.manual_seed(6)
    train, val = _split(torch.tensor(X), torch.tensor(y), seed=6, val=0.2)
    return _mlp(32, classes, width=128), train, val, {"optimizer": "adam", "lr": 1e-3, "epochs": 30,
                                                      "batch_size": 64}


def imbalanced_99_1(fault=False):
    rng = np.random.default_rng(7)
    n = 4000
    y = (rng.random(n) < 0.01).astype(np.int64)
    X = rng.normal(size=(n, 12)).astype(np.float32)
    X[y == 1, :3] += 2.5
    torch.manual_seed(7)
    train, val = _split(torch.tensor(X), torch.tensor(y), seed=7)
    return _mlp(12, 2), train, val, {"optimizer": "adam", "lr": 1e-3, "epochs": 10, "batch_size": 128}


def tiny_40_rows(fault=False):
    from sklearn.datasets import load_iris
    X, y = load_iris(return_X_y=True)
    rng = np.random.default_rng(8)
    keep = rng.permutation(len(X))[:40]
    X = (X - X.mean(0)) / X.std(0)
    torch.manual_seed(8)
    train, val = _split(torch.tensor(X[keep], dtype=torch.float32), torch.tensor(y[keep]), seed=8)
    return _mlp(4, 3, width=16), train, val, {"optimizer": "adam", "lr": 1e-2, "epochs": 40, "batch_size": 8}


def wide_2000_features(fault=False):
    X, y = _tabular(300, 2000, seed=9, classes=2, informative=20)
    torch.manual_seed(9)
    train, val = _split(torch.tensor(X), torch.tensor(y), seed=9)
    return _mlp(2000, 2), train, val, {"optimizer": "adam", "lr": 1e-3, "epochs": 20, "batch_size": 32}


class SignalCNN(nn.Module):
    def __init__(self, channels=4, classes=3):
        super().__init__()
        self.body = nn.Sequential(nn.Conv1d(channels, 16, 7, padding=3), nn.ReLU(), nn.MaxPool1d(4),
                                  nn.Conv1d(16, 32, 7, padding=3), nn.ReLU(), nn.MaxPool1d(4),
                                  nn.Conv1d(32, 32, 5, padding=2), nn.ReLU())
        self.head = nn.Linear(32, classes)

    def forward(self, x):
        return self.head(self.body(x).mean(-1))


def long_sequence_cnn(fault=False):
    """4-channel recordings of 512 steps; the class is the frequency of a burst at a random place."""
    rng = np.random.default_rng(10)
    n, T = 600, 512
    y = rng.integers(0, 3, size=n)
    X = 0.5 * rng.normal(size=(n, 4, T))
    t = np.arange(64)
    for i in range(n):
        start = rng.integers(0, T - 64)
        X[i, :, start:start + 64] += np.sin(2 * np.pi * (0.05 + 0.1 * y[i]) * t)
    torch.manual_seed(10)
    train, val = _split(torch.tensor(X, dtype=torch.float32), torch.tensor(y), seed=10)
    return SignalCNN(), train, val, {"optimizer": "adam", "lr": 2e-3, "epochs": 8, "batch_size": 32}


def count_inputs(fault=False):
    """Word counts of 50 words per document (int64), three topics."""
    rng = np.random.default_rng(11)
    n = 900
    y = rng.integers(0, 3, size=n)
    rates = rng.gamma(1.0, 1.0, size=(3, 50))
    X = rng.poisson(rates[y] * 2)
    torch.manual_seed(11)
    train, val = _split(torch.tensor(X), torch.tensor(y), seed=11)
    return _mlp(50, 3), train, val, {"optimizer": "adam", "lr": 1e-3, "epochs": 15, "batch_size": 64}


def float64_inputs(fault=False):
    """numpy's float64 arrays as they come, targets (N,) and a float32 model of one output."""
    from sklearn.datasets import load_diabetes
    X, y = load_diabetes(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    y = (y - y.mean()) / y.std()
    torch.manual_seed(12)
    train, val = _split(X, y, seed=12)
    return _mlp(10, 1), train, val, {"loss": "mse", "optimizer": "adam", "lr": 1e-3, "epochs": 30,
                                     "batch_size": 32}


def float64_model(fault=False):
    """The same with the model cast to float64 (``.double()``): fit trains in float32
    (docs/data.md), so a clear error is expected."""
    model, train, val, options = float64_inputs(fault)
    return model.double(), train, val, options


def sum_reduction_loss(fault=False):
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    torch.manual_seed(13)
    train, val = _split(torch.tensor(X / 16.0, dtype=torch.float32), torch.tensor(y), seed=13)
    return _mlp(64, 10), train, val, {"loss": nn.CrossEntropyLoss(reduction="sum"), "optimizer": "adam",
                                      "lr": 1e-3, "epochs": 10, "batch_size": 64}


class TupleNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(20, 64), nn.ReLU())
        self.head = nn.Linear(64, 3)

    def forward(self, x):
        h = self.body(x)
        return self.head(h), h


class DictNet(TupleNet):
    def forward(self, x):
        return {"logits": self.head(self.body(x))}


def tuple_output(fault=False):
    X, y = _tabular(600, 20, seed=14)
    torch.manual_seed(14)
    train, val = _split(torch.tensor(X), torch.tensor(y), seed=14)
    return TupleNet(), train, val, {"optimizer": "adam", "lr": 1e-3, "epochs": 5}


def dict_output(fault=False):
    X, y = _tabular(600, 20, seed=15)
    torch.manual_seed(15)
    train, val = _split(torch.tensor(X), torch.tensor(y), seed=15)
    return DictNet(), train, val, {"optimizer": "adam", "lr": 1e-3, "epochs": 5}


def dataloader_data(fault=False):
    from torch.utils.data import DataLoader, TensorDataset
    X, y = _tabular(600, 20, seed=16)
    torch.manual_seed(16)
    loader = DataLoader(TensorDataset(torch.tensor(X), torch.tensor(y)), batch_size=64, shuffle=True)
    return _mlp(20, 3), loader, None, {"optimizer": "adam", "lr": 1e-3, "epochs": 5}


SETUPS = {f.__name__: f for f in (multilabel_bce, multioutput_regression, token_tagger, pixel_segmentation,
                                  binary_one_logit, many_classes_few_rows, imbalanced_99_1, tiny_40_rows,
                                  wide_2000_features, long_sequence_cnn, count_inputs, float64_inputs, float64_model,
                                  sum_reduction_loss, tuple_output, dict_output, dataloader_data)}
FAULTS = {"multilabel_shifted": multilabel_bce, "tagger_padding_counted": token_tagger,
          "multioutput_column_1000x": multioutput_regression}
CLI = "cli_toml_csv"


def _crash(exc) -> str:
    """The exception's type, first line and the innermost trainwell frame (where a check broke); a
    ``TrainwellError`` is trainwell's own error in words (a refusal), marked "clear"."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "trainwell" in f.filename]
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    clear = "clear " if isinstance(exc, trainwell.TrainwellError) else ""
    return f"{clear}{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}{where}"


def _findings(diagnosis):
    return ([f"{f.code}:{f.severity}" for f in diagnosis.ranked() if f.severity != "info"],
            [f.code for f in diagnosis.ranked() if f.severity == "info"])


def measure(name, build, *, fault, seeds, fit_runs=True) -> dict:
    row = {"setup": name, "crash": None, "findings": [], "info": [], "doctor_s": None, "harm": None,
           "repair_findings": [], "repairs": []}
    model, train, val, options = build(fault)
    data = train
    start, wall = time.process_time(), time.time()
    try:
        row["findings"], row["info"] = _findings(trainwell.doctor(model, data, val, **options))
    except Exception as exc:                # noqa: BLE001 - a crash is what this sweep records
        row["crash"] = "doctor: " + _crash(exc)
    row["doctor_s"], row["doctor_wall_s"] = round(time.process_time() - start, 1), round(time.time() - wall, 1)
    if not fit_runs:
        return row
    losses = {"off": [], "repair": []}
    for seed in range(seeds):
        for mode in ("off", "repair"):
            model, train, val, options = build(fault)
            try:
                run = trainwell.fit(model, train, val, babysit=mode, seed=seed, run_dir=None,
                                    progress=False, report=False, **options)
            except Exception as exc:        # noqa: BLE001
                row["crash"] = (row["crash"] + "; " if row["crash"] else "") + f"fit {mode}: " + _crash(exc)
                return row
            losses[mode].append(run.results["val"]["loss"])
            if mode == "repair":
                row["repair_findings"] += [f"{f.code}:{f.severity}" for f in (run.findings or [])
                                           if f.severity != "info"]
                row["repairs"] += [r.get("action", str(r)) if isinstance(r, dict) else str(r)
                                   for r in (run.repairs or [])]
    off, rep = np.mean(losses["off"]), np.mean(losses["repair"])
    row["val_loss_off"], row["val_loss_repair"] = float(off), float(rep)
    row["harm"] = float((rep - off) / abs(off)) if off else float(rep - off)
    row["repair_findings"] = sorted(set(row["repair_findings"]))
    return row


PER_POSITION = {"token_tagger", "pixel_segmentation", "tagger_padding_counted"}


def measure_level3(name, build, *, fault) -> dict:
    """Ids per position are no target ``fit`` trains (docs/babysitter.md, "Task shapes"): the
    babysitter's building blocks in the user's own ``Trainer`` instead, ``preflight`` before the run
    and a ``Monitor`` in it (with its findings at the end)."""
    from trainwell.babysit.monitor import Monitor
    from trainwell.babysit.preflight import preflight
    from trainwell.config import make_config
    from trainwell.data.batches import Batches
    from trainwell.nn.losses import make_loss

    row = {"setup": name + " (Trainer)", "crash": None, "findings": [], "info": [], "doctor_s": None,
           "harm": None}
    model, (X, y), val, options = build(fault)
    loss = options["loss"] if callable(options["loss"]) else make_loss(options["loss"])
    start = time.process_time()
    try:
        found = preflight(model, X, y, loss=loss, optimizer=options["optimizer"], lr=options["lr"])
        row["findings"] = [f"{f.code}:{f.severity}" for f in found if f.severity != "info"]
        row["info"] = [f.code for f in found if f.severity == "info"]
    except Exception as exc:                # noqa: BLE001
        row["crash"] = "preflight: " + _crash(exc)
    row["doctor_s"] = round(time.process_time() - start, 1)
    monitor = Monitor()
    config = make_config({"epochs": options["epochs"], "progress": False, "babysit": "off"})
    trainer = trainwell.Trainer(model, torch.optim.Adam(model.parameters(), lr=options["lr"]), loss,
                                config=config, val=val, callbacks=[monitor],
                                batches=Batches(X, y, batch_size=options["batch_size"], seed=0))
    try:
        trainer.fit()
        row["findings"] += [f"monitor {f.code}:{f.severity}" for f in monitor.findings
                            if f.severity != "info"]
    except Exception as exc:                # noqa: BLE001
        row["crash"] = (row["crash"] + "; " if row["crash"] else "") + "Trainer + Monitor: " + _crash(exc)
    return row


def measure_cli(*, seeds) -> dict:
    """``trainwell fit`` and ``trainwell doctor`` on a TOML config over a csv written here."""
    row = {"setup": CLI, "crash": None, "findings": [], "info": [], "doctor_s": None, "harm": None}
    from sklearn.datasets import load_wine
    X, y = load_wine(return_X_y=True)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "wine.csv"
        header = ",".join([f"f{i}" for i in range(X.shape[1])] + ["label"])
        np.savetxt(csv, np.column_stack([X, y]), delimiter=",", header=header, comments="",
                   fmt=["%.6g"] * X.shape[1] + ["%d"])
        config = Path(tmp) / "wine.toml"
        config.write_text(f'epochs = 20\nlr = 1e-3\noptimizer = "adam"\npreprocess = ["standardize"]\n'
                          f'[data]\nsource = "csv"\npath = "{csv}"\nlabel = "label"\n'
                          f'[model]\ntype = "mlp"\nwidths = [64]\n')
        env = {**os.environ, "PYTHONPATH": str(Path(trainwell.__file__).resolve().parents[1])}
        start = time.time()
        doc = subprocess.run([sys.executable, "-m", "trainwell", "doctor", str(config)], capture_output=True,
                             text=True, env=env, cwd=tmp)
        row["doctor_wall_s"] = round(time.time() - start, 1)
        row["doctor_rc"], row["doctor_out"] = doc.returncode, doc.stdout[-600:]
        if "Traceback" in doc.stderr:
            row["crash"] = "doctor: " + doc.stderr.strip().splitlines()[-1][:200]
        out = subprocess.run([sys.executable, "-m", "trainwell", "fit", str(config), "--set", "babysit=repair",
                              "--set", f"run_dir={tmp}/run"], capture_output=True, text=True, env=env, cwd=tmp)
        row["fit_rc"], row["fit_out"] = out.returncode, out.stdout[-600:]
        if "Traceback" in out.stderr:
            row["crash"] = (row["crash"] or "") + " fit: " + out.stderr.strip().splitlines()[-1][:200]
    return row


def _short(crash) -> str:
    """A crash cell: which call, the exception's type and where (a refusal in words is "clear")."""
    if not crash:
        return "no"
    parts = re.findall(r"(doctor|fit \w+|preflight|Trainer \+ Monitor): (clear )?(\w+).*? at ([\w.]+:\d+)", crash)
    return "; ".join(f"{call}: {clear}{kind} ({where})" for call, clear, kind, where in parts) or crash[:80]


def table(rows) -> str:
    lines = ["| setup | crash / refusal | doctor findings (warning, error) | doctor CPU s | fit(babysit=\"repair\") "
             "findings (warning, error) | repairs | harm (val loss, repair vs off, mean of seeds) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        harm = "" if r.get("harm") is None else f"{r['harm']:+.3f}"
        cpu = r["doctor_s"] if r["doctor_s"] is not None else f"{r.get('doctor_wall_s', '')} (wall, CLI)"
        lines.append(f"| {r['setup']} | {_short(r['crash'])} | {', '.join(r['findings']) or 'none'} | {cpu} | "
                     f"{', '.join(r.get('repair_findings') or []) or '-'} | {', '.join(sorted(set(r.get('repairs') or []))) or '-'} "
                     f"| {harm} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the rows here (and a .md table beside it)")
    ap.add_argument("--only", help="comma-separated setup names")
    ap.add_argument("--faults", action="store_true", help="run the fault-injected setups instead")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--no-fit", action="store_true", help="the doctor only (no harm column)")
    ap.add_argument("--table", metavar="ROWS.json", help="only print the table of these rows")
    args = ap.parse_args(argv)
    if args.table:
        print(table(json.loads(Path(args.table).read_text())))
        return 0
    torch.set_num_threads(1)
    chosen = FAULTS if args.faults else {**SETUPS, CLI: None}
    names = args.only.split(",") if args.only else list(chosen)
    rows = []
    for name in names:
        if name == CLI:
            row = measure_cli(seeds=args.seeds)
        else:
            row = measure(name, chosen[name], fault=args.faults, seeds=args.seeds, fit_runs=not args.no_fit)
        rows.append(row)
        if name in PER_POSITION:
            rows.append(measure_level3(name, chosen[name], fault=args.faults))
            print(json.dumps(rows[-1], default=str), flush=True)
        print(json.dumps(row, default=str), flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
            Path(args.json).with_suffix(".md").write_text(table(rows) + "\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
