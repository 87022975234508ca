"""A held-out set of training setups written as users write them: measured, never tuned on.

Issue 11 asks for the babysitter's quality on setups nobody tuned it for. ``babysit_suite.py``
and ``babysit_gen.py`` were both developed against; this set was written (branch babysit5,
2026-12-05) before any of its results were looked at and is only measured. Each of its 8 pairs is
a plain-PyTorch setup (the user's own ``nn.Module`` classes, hand-written loss functions, scikit-
learn's built-in data sets, tabular classification and regression) and the same setup with one
fault of issue 11's list:

| pair | data | model | healthy | broken (expected codes) |
| --- | --- | --- | --- | --- |
| tumor | breast cancer (30 features) | TumorNet 30-64-32-2 | standardized, Adam 1e-3 | raw features (unnormalized_inputs) |
| wine | wine (13 features, 3 classes) | WineClassifier, tanh | momentum SGD lr 0.05 | lr 5 (diverged / lr_too_high) |
| diabetes | diabetes regression | Regressor, hand-written Huber loss | SGD lr 0.05 | weight decay 1.0 (regularization_too_strong, underfitting) |
| moons | two moons, 2 features | MoonNet 2-32-32-2 | Adam 3e-3 | every weight zero-initialized (symmetric_init) |
| digits | sklearn digits as 1x8x8 images | DigitCNN (conv, pool, linear) | momentum SGD 0.05 | labels shuffled apart from their rows (label_problem) |
| blobs | make_classification, 5 classes | DeepMLP 5 x 64 ReLU | Adam 1e-3 | Adam eps = 1 (optimizer_setting or slow learning) |
| iris | iris (4 features) | IrisNet 4-16-3 | log_softmax + NLL loss | NLL on raw logits (loss_output_mismatch) |
| friedman | make_friedman1 regression | FriedmanNet, GELU, dropout | dropout 0.1, AdamW | dropout 0.9 (regularization_too_strong, underfitting) |

Scored like the suite: detection through ``trainwell.doctor`` (budget 60 s), read in the
product's order (``Diagnosis.primary``); recall = an expected code among the broken setup's
warnings and errors, top-1 = the primary finding is expected, a false alarm = any warning or error
on a healthy setup. Each pair is also trained once (``babysit="off"``) to show that the fault
hurts (test accuracy, or R^2 = 1 - MSE / Var(y) for regression).

Run: ``python bench/babysit_user.py`` (a markdown report; ``--json rows.json`` keeps the rows;
``--pair NAME`` runs one pair; ``--no-train`` skips the check that the fault hurts).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn import datasets
from sklearn.model_selection import train_test_split
from torch import nn

import trainwell
from trainwell.babysit.doctor import doctor
from trainwell.babysit.registry import Group, members

BASE = {"progress": False, "report": False, "run_dir": None}
DIVERGED = frozenset(members(Group.DIVERGED)) | {"lr_too_high"}
SLOW = frozenset(members(Group.SLOW))
REGULARIZATION = frozenset({"regularization_too_strong", "underfitting"})


# ------------------------------------------------------------------------------ the user's data
def _split(X, y, *, seed=0, standardize=True, regression=False):
    """train / val / test as a user would cut them (60 / 20 / 20, stratified for classes)."""
    X = np.asarray(X, dtype=np.float32)
    strat = None if regression else y
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=seed, stratify=strat)
    Xtr, Xva, ytr, yva = train_test_split(Xtr, ytr, test_size=0.25, random_state=seed,
                                          stratify=None if regression else ytr)
    if standardize:
        mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-8
        Xtr, Xva, Xte = (Xtr - mu) / sd, (Xva - mu) / sd, (Xte - mu) / sd
    cast = (lambda v: torch.tensor(v, dtype=torch.float32)) if regression else (lambda v: torch.tensor(v).long())
    return [(torch.tensor(a), cast(b)) for a, b in ((Xtr, ytr), (Xva, yva), (Xte, yte))]


def _standard_targets(parts):
    mu, sd = parts[0][1].mean(), parts[0][1].std()
    return [(x, (t - mu) / sd) for x, t in parts]


# ------------------------------------------------------------------------------ the user's models
class TumorNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.out = nn.Linear(30, 64), nn.Linear(64, 32), nn.Linear(32, 2)

    def forward(self, x):
        return self.out(F.relu(self.fc2(F.relu(self.fc1(x)))))


class WineClassifier(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(13, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.head = nn.Linear(hidden, 3)

    def forward(self, x):
        return self.head(self.body(x))


class Regressor(nn.Module):
    def __init__(self, d_in):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, x):
        return self.net(x).squeeze(1)


def huber(pred, target, delta=1.0):
    err = (pred - target).abs()
    return torch.where(err < delta, 0.5 * err ** 2, delta * (err - 0.5 * delta)).mean()


class MoonNet(nn.Module):
    def __init__(self, zero=False):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(2, 32), nn.Linear(32, 32), nn.Linear(32, 2)
        if zero:                                    # "start from zero so the runs are reproducible"
            for layer in (self.l1, self.l2, self.l3):
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)

    def forward(self, x):
        return self.l3(torch.relu(self.l2(torch.relu(self.l1(x)))))


class DigitCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 2 * 2, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


class DeepMLP(nn.Module):
    def __init__(self, d_in, d_out, width=64, depth=5):
        super().__init__()
        layers, d = [], d_in
        for _ in range(depth):
            layers += [nn.Linear(d, width), nn.ReLU()]
            d = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width, d_out)

    def forward(self, x):
        return self.classifier(self.features(x))


class IrisNet(nn.Module):
    def __init__(self, log_probs=True):
        super().__init__()
        self.hidden, self.out = nn.Linear(4, 16), nn.Linear(16, 3)
        self.log_probs = log_probs

    def forward(self, x):
        z = self.out(torch.relu(self.hidden(x)))
        return F.log_softmax(z, dim=1) if self.log_probs else z


def nll(log_probs, target):
    return F.nll_loss(log_probs, target)


class FriedmanNet(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(10, 128), nn.GELU(), nn.Dropout(p), nn.Linear(128, 128), nn.GELU(),
                                 nn.Dropout(p), nn.Linear(128, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


# ------------------------------------------------------------------------------ the pairs
def _tumor(broken):
    d = datasets.load_breast_cancer()
    torch.manual_seed(0)
    return TumorNet(), _split(d.data, d.target, standardize=not broken), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20}, {"unnormalized_inputs"}


def _wine(broken):
    d = datasets.load_wine()
    torch.manual_seed(1)
    return WineClassifier(), _split(d.data, d.target), \
        {"optimizer": "sgd", "momentum": 0.9, "lr": 5.0 if broken else 0.05, "batch_size": 16, "epochs": 30}, DIVERGED


def _diabetes(broken):
    d = datasets.load_diabetes()
    torch.manual_seed(2)
    parts = _standard_targets(_split(d.data, d.target, regression=True))
    return Regressor(10), parts, {"optimizer": "sgd", "momentum": 0.0, "lr": 0.05, "batch_size": 32, "epochs": 40,
                                  "loss": huber, "weight_decay": 1.0 if broken else 0.0}, REGULARIZATION


def _moons(broken):
    X, y = datasets.make_moons(n_samples=2000, noise=0.2, random_state=3)
    torch.manual_seed(3)
    return MoonNet(zero=broken), _split(X, y), {"optimizer": "adam", "lr": 3e-3, "batch_size": 64, "epochs": 15}, \
        {"symmetric_init"}


def _digits(broken):
    d = datasets.load_digits()
    X = (d.images / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
    y = d.target.copy()
    if broken:                          # "shuffle the data" applied to the labels alone
        y = np.random.default_rng(4).permutation(y)
    parts = _split(X.reshape(len(X), -1), y, standardize=False)
    parts = [(x.reshape(-1, 1, 8, 8), t) for x, t in parts]
    torch.manual_seed(4)
    return DigitCNN(), parts, {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05, "batch_size": 32, "epochs": 10}, \
        {"label_problem"}


def _blobs(broken):
    X, y = datasets.make_classification(n_samples=3000, n_features=20, n_informative=10, n_classes=5,
                                        n_clusters_per_class=1, random_state=5)
    torch.manual_seed(5)
    return DeepMLP(20, 5), _split(X, y), {"optimizer": "adam", "lr": 1e-3, "batch_size": 64, "epochs": 15,
                                          **({"eps": 1.0} if broken else {})}, {"optimizer_setting"} | SLOW


def _iris(broken):
    d = datasets.load_iris()
    torch.manual_seed(6)
    return IrisNet(log_probs=not broken), _split(d.data, d.target), \
        {"optimizer": "adam", "lr": 1e-2, "batch_size": 16, "epochs": 60, "loss": nll}, {"loss_output_mismatch"}


def _friedman(broken):
    X, y = datasets.make_friedman1(n_samples=3000, noise=0.5, random_state=7)
    torch.manual_seed(7)
    parts = _standard_targets(_split(X, y, regression=True))
    return FriedmanNet(0.9 if broken else 0.1), parts, \
        {"optimizer": "adamw", "lr": 1e-3, "batch_size": 64, "epochs": 20, "loss": "mse"}, REGULARIZATION


PAIRS = {"tumor": _tumor, "wine": _wine, "diabetes": _diabetes, "moons": _moons, "digits": _digits,
         "blobs": _blobs, "iris": _iris, "friedman": _friedman}


# ------------------------------------------------------------------------------ scoring
def _points(run, test) -> float | None:
    res = run.results.get("test", {})
    if res.get("acc") is not None:
        return float(res["acc"])
    if res.get("loss") is None or not torch.is_floating_point(test[1]):
        return None
    return 1.0 - float(res["loss"]) / max(float(test[1].double().var()), 1e-12)


def evaluate(name: str, broken: bool, *, train: bool, pairs: dict = PAIRS) -> dict:
    """One setup's row; ``pairs``: the set it is drawn from (``babysit_user2.py`` scores its own)."""
    model, (tr, va, te), opts, expected = pairs[name](broken)
    t0 = time.perf_counter()
    try:
        diag, error = doctor(model, tr, va, test=te, **BASE, **opts, budget_s=60.0), None
    except Exception as exc:            # a crash is a result too (counted as nothing found)
        diag, error = None, f"{type(exc).__name__}: {exc}"[:160]
    seconds = time.perf_counter() - t0
    alarms = [f.code for f in diag.findings if f.severity in ("error", "warning")] if diag else []
    primary = diag.primary.code if diag and diag.primary else None
    row = {"pair": name, "broken": broken, "alarms": alarms, "top1": primary, "seconds": seconds, "error": error,
           "found": bool(set(alarms) & expected) if broken else None,
           "top1_ok": (primary in expected) if broken else None}
    if train:
        model, (tr, va, te), opts, _ = pairs[name](broken)
        try:
            run = trainwell.fit(model, tr, va, test=te, **BASE, **opts, babysit="off")
            row["points"] = _points(run, te)
        except Exception as exc:
            row["points"], row["train_error"] = None, f"{type(exc).__name__}: {exc}"[:160]
    return row


def report(rows: list) -> str:
    broken = [r for r in rows if r["broken"]]
    healthy = [r for r in rows if not r["broken"]]
    pct = lambda xs: 100.0 * sum(xs) / len(xs) if xs else float("nan")  # noqa: E731
    lines = [f"setups: {len(rows)} ({len(broken)} broken, {len(healthy)} healthy)",
             f"detection recall: {pct([r['found'] for r in broken]):.1f} %",
             f"top-1 diagnosis: {pct([r['top1_ok'] for r in broken]):.1f} %",
             f"false alarms on healthy setups: {pct([bool(r['alarms']) for r in healthy]):.1f} %",
             f"doctor seconds: median {sorted(r['seconds'] for r in rows)[len(rows) // 2]:.1f}, "
             f"max {max(r['seconds'] for r in rows):.1f}", "",
             "| pair | broken | points (off) | found | top-1 | alarms | s |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        pts = r.get("points")
        lines.append(f"| {r['pair']} | {r['broken']} | {'-' if pts is None else f'{100 * pts:.1f}'} | "
                     f"{'-' if r['found'] is None else r['found']} | {r['top1']} | "
                     f"{','.join(r['alarms']) or '-'}{' ERROR ' + r['error'] if r['error'] else ''} | "
                     f"{r['seconds']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pair", action="append", default=[], choices=sorted(PAIRS), help="run only these pairs")
    ap.add_argument("--no-train", action="store_true", help="skip training each setup once (the harm check)")
    ap.add_argument("--json", default="", help="also write the rows to this JSON file")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for name in args.pair or list(PAIRS):
        for broken in (False, True):
            rows.append(evaluate(name, broken, train=not args.no_train))
            print(f"{name} broken={broken}: top1={rows[-1]['top1']} alarms={rows[-1]['alarms']} "
                  f"points={rows[-1].get('points')} {rows[-1]['seconds']:.1f}s", file=sys.stderr)
            if args.json:
                Path(args.json).write_text(json.dumps(rows, indent=1))
    print(report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
