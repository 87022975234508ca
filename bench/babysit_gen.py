"""The babysitter's generated benchmark: healthy parents from a grid, one injected fault each.

In the spirit of mutation testing for deep learning (DeepCrime, Humbatova et al. ISSTA 2021):

* **parents** are drawn (seeded) from a grid of data (digits, tabular blobs with 2-10 classes, the
  teacher task, a regression teacher with standardized targets), architecture (MLP depth 1-6 and
  width 16-256 with ReLU/tanh/GELU, with or without batch norm and dropout; on digits as 8x8
  images also a CNN and a small ResNet), optimizer (SGD, momentum, Nesterov, Adam, AdamW, RMSprop,
  Adagrad) at a sensible lr, batch size 16-256;
* **mutation operators** inject one fault each (``OPERATORS``: lr x100 / x1e-3, init scale,
  zero init, a sigmoid swap, inputs scaled / shifted / NaN, labels shifted / shuffled / a single
  class, a softmax before cross-entropy, weight decay 1.0, dropout 0.97, a tiny clip norm, Adam
  eps = 1, sorted unshuffled data, a 1-unit bottleneck, frozen hidden layers, a buggy backward);
* a mutant is **killed** when it trains measurably worse than its parent over ``SEEDS``: >= 3
  points of validation accuracy, or validation loss >= 25% higher (regression), or its training
  fails. Killed mutants are broken setups; the others (and the parents) must raise no alarm.
  ``--label`` computes the labels and stores them with the seeds in ``bench/babysit_gen_labels.json``;
  ``--check`` recomputes them and compares.
* **split by family**: the operator families and architectures the rules were developed on this
  session (``TUNE_FAMILIES``, MLPs) against the held-out ones (``HELD_OUT_FAMILIES``; CNN and
  ResNet): every metric is reported for both, side by side.

Metrics (read from ``trainwell.doctor``, the product's own order ``Diagnosis.ranked()``):
detection recall (an expected code is among the warnings/errors), top-1 (``Diagnosis.primary``
is expected), false alarms (any warning or error on a parent or an unkilled mutant), the doctor's
seconds (pre-flight + experiments + probe; budget 60 s); with ``--repair`` also the repair rate
(``fit(babysit="repair")`` within 2 points of the parent: accuracy, or R^2 on regression) and its cost.

Run: ``python bench/babysit_gen.py --label --parents 20`` then ``python bench/babysit_gen.py
--parents 20`` (a markdown report); ``--parents 16`` x 19 operators gives >= 300 setups.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import babysit_suite as suite  # noqa: E402  (data sets, the buggy activation)

import trainwell  # noqa: E402
from trainwell.babysit.budget import Budget  # noqa: E402
from trainwell.babysit.doctor import doctor  # noqa: E402
from trainwell.babysit.findings import Diagnosis  # noqa: E402
from trainwell.babysit.registry import Group, members  # noqa: E402
from trainwell.data.splits import Splits  # noqa: E402
from trainwell.data.synthetic import blobs, teacher  # noqa: E402

LABELS = Path(__file__).resolve().parent / "babysit_gen_labels.json"
BASE = {"progress": False, "report": False, "run_dir": None}
SEEDS = (0, 1, 2)             # the killed-mutant labels: three training seeds
EPOCHS = 8
KILL_ACC = 0.03               # issue 11: >= 3 points of validation accuracy ...
KILL_LOSS = 1.25              # ... or 25% of validation loss (regression)
REPAIR_POINTS = 0.02          # a repair ends within 2 points of the parent: accuracy, or R^2 for regression
TUNE_FAMILIES = {"lr", "regularization", "optimizer", "labels_random", "init", "inputs_scale"}
HELD_OUT_ARCHS = {"cnn", "resnet"}
WALL_S = 60.0                 # the doctor's time backstop (doctor.WALL_S); --wall-s 0: none


# ------------------------------------------------------------------------------ data
_CACHE: dict = {}


def data(name: str) -> Splits:
    if name not in _CACHE:
        if name.startswith("blobs"):
            k = int(name[5:])
            _CACHE[name] = suite._standardized(blobs(samples=200 * k, features=12, classes=k, spread=3.0))
        elif name == "regression":
            s = teacher(task="regression", samples=2000, features=10, hidden=(16,))
            mean, std = s.train[1].mean(), s.train[1].std()
            _CACHE[name] = suite.transform(s, fy=lambda X, y: (X, (y - mean) / std))
        else:
            _CACHE[name] = suite.data(name)
    return _CACHE[name]


# ------------------------------------------------------------------------------ models
ACTS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "sigmoid": nn.Sigmoid}


def mlp(d_in, d_out, *, depth, width, act, bn, dropout, seed):
    torch.manual_seed(seed)
    layers, w = [], d_in
    for _ in range(depth):
        layers += [nn.Linear(w, width)] + ([nn.BatchNorm1d(width)] if bn else []) + [ACTS[act]()]
        layers += [nn.Dropout(dropout)] if dropout else []
        w = width
    return nn.Sequential(*layers, nn.Linear(w, d_out))


class CNN(nn.Module):
    def __init__(self, d_out, *, width, act, bn, dropout, seed):
        super().__init__()
        torch.manual_seed(seed)
        c = max(8, width // 8)
        self.body = nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, c, 3, padding=1),
                                  *([nn.BatchNorm2d(c)] if bn else []), ACTS[act](), nn.Conv2d(c, 2 * c, 3, padding=1),
                                  *([nn.BatchNorm2d(2 * c)] if bn else []), ACTS[act](), nn.MaxPool2d(2), nn.Flatten(),
                                  *([nn.Dropout(dropout)] if dropout else []), nn.Linear(2 * c * 16, d_out))

    def forward(self, x):
        return self.body(x)


class Block(nn.Module):
    def __init__(self, c, act):
        super().__init__()
        self.c1, self.b1, self.a = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), ACTS[act]()
        self.c2, self.b2 = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)

    def forward(self, x):
        return self.a(x + self.b2(self.c2(self.a(self.b1(self.c1(x))))))


class ResNet(nn.Module):
    def __init__(self, d_out, *, width, act, bn, dropout, seed):
        super().__init__()
        torch.manual_seed(seed)
        c = max(8, width // 8)
        self.stem = nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c),
                                  ACTS[act]())
        self.blocks = nn.Sequential(Block(c, act), Block(c, act))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, d_out))

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


# ------------------------------------------------------------------------------ setups
OPTIMIZERS = {"sgd": ({"optimizer": "sgd", "momentum": 0.0, "nesterov": False}, 0.1),
              "momentum": ({"optimizer": "sgd", "momentum": 0.9, "nesterov": False}, 0.05),
              "nesterov": ({"optimizer": "sgd", "momentum": 0.9, "nesterov": True}, 0.05),
              "adam": ({"optimizer": "adam"}, 1e-3), "adamw": ({"optimizer": "adamw"}, 1e-3),
              "rmsprop": ({"optimizer": "rmsprop"}, 1e-3), "adagrad": ({"optimizer": "adagrad"}, 0.05)}


@dataclass(frozen=True)
class Setup:
    """One training setup (a parent, or a parent with one mutation); ``mutation`` names it."""

    data: str
    arch: str
    depth: int
    width: int
    act: str
    bn: bool
    dropout: float
    optimizer: str
    lr: float
    batch_size: int
    seed: int
    mutation: str = ""
    options: tuple = ()          # extra fit options as (key, value) pairs

    @property
    def name(self) -> str:
        return (f"p{self.seed}:{self.data}/{self.arch}{self.depth}x{self.width}-{self.act}"
                f"{'-bn' if self.bn else ''}{'-do' if self.dropout else ''}/{self.optimizer}/bs{self.batch_size}"
                + (f"+{self.mutation}" if self.mutation else ""))


def parent(seed: int) -> Setup:
    rng = random.Random(seed)
    arch = rng.choice(["mlp", "mlp", "mlp", "cnn", "resnet"])
    d = "digits" if arch != "mlp" else rng.choice(["digits", "teacher", f"blobs{rng.randint(2, 10)}", "regression"])
    opt = rng.choice(list(OPTIMIZERS))
    return Setup(d, arch, rng.randint(1, 4) if arch == "mlp" else 2, rng.choice([32, 64, 128, 256]),
                 rng.choice(["relu", "relu", "tanh", "gelu"]), rng.random() < 0.3 and arch == "mlp",
                 rng.choice([0.0, 0.0, 0.2]), opt, OPTIMIZERS[opt][1], rng.choice([16, 32, 64, 128]), seed)


def build(s: Setup):
    """(model, splits, fit options) for a setup, with its mutation applied."""
    splits = data(s.data)
    regression = s.data == "regression"
    d_in, d_out = splits.train[0].shape[1], (1 if regression else int(splits.train[1].max()) + 1)
    kw = {"width": s.width, "act": s.act, "bn": s.bn, "dropout": s.dropout, "seed": s.seed}
    model = (mlp(d_in, d_out, depth=s.depth, **kw) if s.arch == "mlp" else
             CNN(d_out, **kw) if s.arch == "cnn" else ResNet(d_out, **kw))
    opts = {**OPTIMIZERS[s.optimizer][0], "lr": s.lr, "batch_size": s.batch_size, "epochs": EPOCHS,
            "seed": s.seed, **({"loss": "mse"} if regression else {}), **dict(s.options)}
    if regression:
        model = _Squeeze(model)
    if s.mutation:
        model, splits, opts = OPERATORS[s.mutation].apply(model, splits, opts)
    return model, splits, opts


class _Squeeze(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x).squeeze(-1)


# ------------------------------------------------------------------------------ mutation operators
@dataclass(frozen=True)
class Operator:
    family: str
    expected: frozenset
    apply: object
    classification_only: bool = False
    applies: object = None            # setup -> bool (default: always)


def _weights(model, fn):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.modules.conv._ConvNd)):
                fn(m)
    return model


def _opts(**o):
    return lambda m, s, opts: (m, s, {**opts, **o})


def _x(fx, train_only=False):
    return lambda m, s, opts: (m, suite.transform(s, fx, train_only=train_only), opts)


def _y(fy, train_only=False):
    return lambda m, s, opts: (m, suite.transform(s, fy=fy, train_only=train_only), opts)


def _swap(model, old, new):
    for name, child in model.named_children():
        if isinstance(child, old):
            setattr(model, name, new())
        else:
            _swap(child, old, new)
    return model


def _buggy(model, s, opts):
    class Buggy(nn.Module):
        def forward(self, x):
            return suite._BadGrad.apply(x)
    hidden = [m for m in model.modules() if isinstance(m, (nn.ReLU, nn.Tanh, nn.GELU))]
    return (_swap(model, type(hidden[0]), Buggy) if hidden else model), s, opts


def _bottleneck(model, s, opts):
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    last = layers[-1]
    torch.manual_seed(0)
    narrow = nn.Sequential(nn.Linear(last.in_features, 1), nn.Linear(1, last.out_features))
    return _replace_module(model, last, narrow), s, opts


def _replace_module(model, old, new):
    for name, child in model.named_children():
        if child is old:
            setattr(model, name, new)
            return model
        _replace_module(child, old, new)
    return model


def _frozen(model, s, opts):
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.modules.conv._ConvNd))]
    for m in layers[:-1]:
        for p in m.parameters():
            p.requires_grad_(False)
    return _weights(model, lambda m: m.weight.mul_(0.1) if m is not layers[-1] else None), s, opts


def _sorted(X, y):
    order = y.argsort(stable=True)
    return X[order], y[order]


DIVERGED = frozenset(members(Group.DIVERGED)) | {"lr_too_high"}
SLOW = frozenset(members(Group.SLOW))
INIT = frozenset(members(Group.INIT))
OPERATORS = {
    "lr_x100": Operator("lr", DIVERGED, lambda m, s, o: (m, s, {**o, "lr": o["lr"] * 100})),
    "lr_x1e-3": Operator("lr", SLOW, lambda m, s, o: (m, s, {**o, "lr": o["lr"] * 1e-3})),
    "init_x10": Operator("init", INIT | DIVERGED | {"bad_initial_loss"},
                         lambda m, s, o: (_weights(m, lambda l: l.weight.mul_(10.0)), s, o)),
    "zero_init": Operator("init", frozenset({"symmetric_init"}),
                          lambda m, s, o: (_weights(m, lambda l: (l.weight.zero_(), l.bias.zero_())
                                                    if l.bias is not None else l.weight.zero_()), s, o)),
    "weight_decay_1": Operator("regularization", frozenset({"regularization_too_strong", "underfitting"}),
                               _opts(weight_decay=1.0)),
    "dropout_0.97": Operator("regularization", frozenset({"regularization_too_strong", "underfitting"}),
                             lambda m, s, o: (_swap(m, nn.Dropout, lambda: nn.Dropout(0.97)) if any(
                                 isinstance(x, nn.Dropout) for x in m.modules()) else m, s, o),
                             applies=lambda st: st.dropout > 0),
    "adam_eps_1": Operator("optimizer", frozenset({"optimizer_setting"}) | SLOW, _opts(eps=1.0),
                           applies=lambda st: st.optimizer in ("adam", "adamw", "rmsprop", "adagrad")),
    "labels_shuffled": Operator("labels_random", frozenset({"label_problem"}),
                                _y(lambda X, y: (X, y[torch.randperm(len(y), generator=torch.Generator()
                                                                     .manual_seed(0))]), train_only=True),
                                classification_only=True),
    "inputs_x1000": Operator("inputs_scale", frozenset({"unnormalized_inputs"}), _x(lambda X: X * 1000.0)),
    # held-out families
    "inputs_shift_50": Operator("inputs_shift", frozenset({"unnormalized_inputs"}), _x(lambda X: X + 50.0)),
    "inputs_nan": Operator("inputs_nan", frozenset({"nonfinite_data"}),
                           _x(lambda X: X.index_fill(0, torch.arange(0, X.shape[0], 29), float("nan")),
                              train_only=True)),
    "labels_plus_1": Operator("labels_shift", frozenset({"label_problem", "loss_output_mismatch"}),
                              _y(lambda X, y: (X, y + 1)), classification_only=True),
    "single_class": Operator("labels_single", frozenset({"label_problem"}),
                             _y(lambda X, y: (X, torch.zeros_like(y)), train_only=True), classification_only=True),
    "softmax_output": Operator("loss_output", frozenset({"loss_output_mismatch"}),
                               lambda m, s, o: (nn.Sequential(m, nn.Softmax(dim=1)), s, o), classification_only=True),
    "clip_1e-4": Operator("clip", SLOW | {"optimizer_setting"}, _opts(clip_norm=1e-4)),
    "sorted_unshuffled": Operator("unshuffled", frozenset({"unshuffled_data"}) | DIVERGED,
                                  lambda m, s, o: (m, suite.transform(s, fy=_sorted, train_only=True),
                                                   {**o, "shuffle": False}), classification_only=True),
    "bottleneck_1": Operator("capacity", frozenset({"low_rank_logits", "cannot_overfit_small_subset", "underfitting"})
                             | SLOW, _bottleneck),
    # the frozen hidden layers are also shrunk x0.1 (a frozen pretrained body of the wrong scale):
    # their vanishing or dead units are a true diagnosis too
    # (frozen_parameters: the code for frozen layers, added in branch babysit5)
    "frozen_hidden": Operator("frozen", SLOW | INIT | {"cannot_overfit_small_subset", "frozen_parameters"}, _frozen),
    "sigmoid_swap": Operator("activation", SLOW | INIT | {"vanishing_gradients"},
                             lambda m, s, o: (_swap(_swap(m, nn.ReLU, nn.Sigmoid), nn.GELU, nn.Sigmoid), s, o)),
    "buggy_backward": Operator("custom_backward", frozenset({"gradient_mismatch"}), _buggy),
}
HELD_OUT_FAMILIES = {op.family for op in OPERATORS.values()} - TUNE_FAMILIES
# The faults the product repairs (a planner with an action in babysit/actions.py): "repairs" is
# measured on these. Labels, NaN rows, a wrong backward, too much dropout, Adam's eps, a clip norm and
# the model's structure (a bottleneck, frozen layers) are left to the user by design (the planner
# says why); "repairs_all_killed" counts every killed mutant.
REPAIRABLE = frozenset({"lr_x100", "lr_x1e-3", "init_x10", "zero_init", "weight_decay_1", "inputs_x1000",
                        "inputs_shift_50", "softmax_output", "sorted_unshuffled", "sigmoid_swap"})


def mutants(p: Setup) -> list[Setup]:
    out = []
    for name, op in OPERATORS.items():
        if op.classification_only and p.data == "regression":
            continue
        if op.applies is not None and not op.applies(p):
            continue
        out.append(replace(p, mutation=name))
    return out


# ------------------------------------------------------------------------------ labels (killed mutants)
def _score(s: Setup, seed: int) -> float:
    """The validation accuracy (classification) or -validation loss (regression); -inf: failed."""
    s = replace(s, options=tuple(dict(s.options, seed=seed).items()))
    model, splits, opts = build(s)
    try:
        run = trainwell.fit(model, splits, **BASE, **opts, babysit="off")
    except Exception:
        return -math.inf
    h = [x for x in run.history if x.get("val_loss") is not None]
    if not h:
        return -math.inf
    last = h[-1]
    if last.get("val_acc") is not None:
        return float(last["val_acc"])
    v = last["val_loss"]
    return -float(v) if math.isfinite(v) else -math.inf


def label(setups_by_parent: dict) -> dict:
    """{setup name: {"killed", "parent", "mutant", "seeds"}} (scores are means over SEEDS)."""
    labels = {}
    for p, kids in setups_by_parent.items():
        base = [_score(p, seed) for seed in SEEDS]
        pm = statistics.mean(base)
        labels[p.name] = {"killed": False, "parent": pm, "mutant": pm, "seeds": list(SEEDS), "setup": asdict(p)}
        for k in kids:
            scores = [_score(k, seed) for seed in SEEDS]
            km = statistics.mean(scores) if all(math.isfinite(x) for x in scores) else -math.inf
            if p.data == "regression":
                killed = not math.isfinite(km) or -km >= KILL_LOSS * -pm
            else:
                killed = not math.isfinite(km) or km <= pm - KILL_ACC
            labels[k.name] = {"killed": bool(killed), "parent": pm, "mutant": km if math.isfinite(km) else None,
                              "seeds": list(SEEDS), "setup": asdict(k)}
            print(f"labelled {k.name}: {'killed' if killed else 'survived'} ({pm:.3f} -> {km:.3f})", file=sys.stderr)
    return labels


# ------------------------------------------------------------------------------ evaluation
def evaluate(s: Setup, killed: bool, *, repair: bool, seed_offset: int = 0) -> dict:
    """One setup's row. ``seed_offset``: the doctor runs with the config seed + this (its batches,
    arms and probe; the model's weights and the data stay the setup's): the verdict's spread over seeds."""
    model, splits, opts = build(s)
    t0, budget = time.perf_counter(), Budget(60.0)
    try:
        diag = doctor(model, splits, **BASE, **{**opts, "seed": opts["seed"] + seed_offset}, budget=budget,
                      wall_s=WALL_S)
    except Exception as exc:
        diag, error = Diagnosis(), f"{type(exc).__name__}: {exc}"[:120]
    else:
        error = None
    seconds = time.perf_counter() - t0
    alarms = [f.code for f in diag.findings if f.severity in ("error", "warning")]
    expected = OPERATORS[s.mutation].expected if s.mutation else frozenset()
    primary = diag.primary.code if diag.primary else None
    row = {"name": s.name, "mutation": s.mutation, "family": OPERATORS[s.mutation].family if s.mutation else "",
           "arch": s.arch, "killed": killed, "alarms": alarms, "top1": primary,
           "found": bool(set(alarms) & expected), "top1_ok": primary in expected, "seconds": seconds,
           "nominal_s": budget.spent, "clock_stop": budget.clock_stopped,   # what the budget counted (budget.py)
           "backstop": list(budget.dropped),        # what the doctor's time backstop left out (doctor.wall_s)
           "error": error, "seed_offset": seed_offset}
    if repair and not s.mutation:       # no harm to a healthy run under babysit="repair" (<= 0.5 points)
        accs = {}
        for mode in ("repair", "off"):
            model, splits, opts = build(s)
            accs[mode] = _points(trainwell.fit(model, splits, **BASE, **opts, babysit=mode), splits)
        if None not in accs.values():
            row["healthy_harm"] = accs["off"] - accs["repair"]
    if repair and killed and s.mutation:
        model, splits, opts = build(s)
        pm = build(replace(s, mutation=""))[0]
        try:
            t1 = time.perf_counter()
            fixed = trainwell.fit(model, splits, **BASE, **opts, babysit="repair")
            cost = time.perf_counter() - t1
            t2 = time.perf_counter()
            ref = trainwell.fit(pm, splits if not OPERATORS[s.mutation].family.startswith(("inputs", "labels"))
                                else data(s.data), **BASE, **build(replace(s, mutation=""))[2], babysit="off")
            cost /= max(time.perf_counter() - t2, 1e-9)
            a, b = _points(fixed, splits), _points(ref, splits)
            row["repaired"] = a is not None and b is not None and a >= b - REPAIR_POINTS
            row["repair_cost"] = cost
            # per case: the repaired and the parent's points, and what was repaired (step, code, action)
            row["repair_points"] = [a, b]
            row["repairs"] = [[r["step"], r["code"], r["action"]] for r in fixed.repairs]
        except Exception as exc:
            row["repaired"], row["repair_error"] = False, str(exc)[:120]
    return row


def _points(run, splits) -> float | None:
    """A run's test score in "points": the accuracy, or for regression R^2 = 1 - MSE / Var(y_test)
    (the share of the targets' variance explained; 2 points of R^2 are 2 % of the variance, as 2
    points of accuracy are 2 % of the rows). None when neither can be computed."""
    test = run.results.get("test", {})
    if test.get("acc") is not None:
        return float(test["acc"])
    y = splits.test[1] if splits.test is not None else None
    if test.get("loss") is None or y is None or not torch.is_floating_point(y):
        return None
    return 1.0 - float(test["loss"]) / max(float(y.double().var()), 1e-12)


def summarize(rows: list) -> dict:
    broken = [r for r in rows if r["killed"]]
    quiet = [r for r in rows if not r["killed"]]
    tried = [r for r in broken if "repaired" in r]
    rep = [r for r in tried if r["mutation"] in REPAIRABLE]
    pct = lambda xs, n: (100.0 * sum(xs) / n) if n else float("nan")  # noqa: E731
    return {"setups": len(rows), "broken": len(broken), "healthy_or_harmless": len(quiet),
            "recall": pct([r["found"] for r in broken], len(broken)),
            "top1": pct([r["top1_ok"] for r in broken], len(broken)),
            "false_alarms": pct([bool(r["alarms"]) for r in quiet], len(quiet)),
            # the same without gradient_mismatch on buggy_backward: a wrong backward is a real code
            # bug even where a 2x gradient (a 2x lr) does not cost 3 points
            "false_alarms_but_code_bugs": pct([bool(set(r["alarms"]) - {"gradient_mismatch"}) for r in quiet],
                                              len(quiet)),
            "repairs": pct([r["repaired"] for r in rep], len(rep)) if rep else None,
            "repairs_all_killed": pct([r["repaired"] for r in tried], len(tried)) if tried else None,
            "repair_cost_median": statistics.median([r["repair_cost"] for r in rep if "repair_cost" in r])
            if any("repair_cost" in r for r in rep) else None,
            "doctor_s_median": statistics.median([r["seconds"] for r in rows]) if rows else None,
            "doctor_s_max": max((r["seconds"] for r in rows), default=None),
            "repaired_of": len(rep), "doctor_over_60s": sum(r["seconds"] > 60 for r in rows),
            "doctor_nominal_s_max": max((r.get("nominal_s", math.nan) for r in rows), default=None),
            "clock_stops": sum(bool(r.get("clock_stop")) for r in rows),
            "healthy_harm_max": max((100 * r["healthy_harm"] for r in rows if "healthy_harm" in r), default=None)}


def report(rows: list) -> str:
    groups = {
        "in-family (tune families, MLP)": [r for r in rows if r["arch"] not in HELD_OUT_ARCHS
                                           and (not r["mutation"] or r["family"] in TUNE_FAMILIES)],
        "held-out families (MLP)": [r for r in rows if r["arch"] not in HELD_OUT_ARCHS
                                    and (not r["mutation"] or r["family"] in HELD_OUT_FAMILIES)],
        "held-out architectures (CNN, ResNet)": [r for r in rows if r["arch"] in HELD_OUT_ARCHS],
    }
    keys = ["setups", "broken", "healthy_or_harmless", "recall", "top1", "false_alarms",
            "false_alarms_but_code_bugs", "repairs",
            "repaired_of", "repairs_all_killed", "repair_cost_median", "healthy_harm_max", "doctor_s_median", "doctor_s_max", "doctor_over_60s",
            "doctor_nominal_s_max", "clock_stops"]
    sums = {g: summarize(rs) for g, rs in groups.items()}
    fmt = lambda v: "-" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v))  # noqa: E731
    lines = ["| metric | " + " | ".join(groups) + " |", "| --- |" + " --- |" * len(groups)]
    lines += [f"| {k} | " + " | ".join(fmt(sums[g][k]) for g in groups) + " |" for k in keys]
    lines += ["", "| setup | killed | found | top-1 | alarms | s |", "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['killed']} | {r['found'] if r['killed'] else '-'} | {r['top1']} | "
                     f"{','.join(r['alarms']) or '-'} | {r['seconds']:.1f} |")
    return "\n".join(lines)


def spread(runs: list) -> str:
    """How often the doctor's verdict changes with its seed: for the setups present in every run
    (lists of rows, one per seed offset), the share whose alarm (any warning / error), found
    (broken setups) or top-1 code differs between the runs."""
    by_name = [{r["name"]: r for r in rows} for rows in runs]
    names = [n for n in by_name[0] if all(n in b for b in by_name[1:])]
    verdicts = {"alarm": lambda r: bool(r["alarms"]), "found": lambda r: r["found"] if r["killed"] else None,
                "top-1": lambda r: r["top1"]}
    lines = [f"setups in all {len(runs)} runs: {len(names)} "
             f"({sum(by_name[0][n]['killed'] for n in names)} broken)", "",
             "| verdict | changes with the seed | setups |", "| --- | --- | --- |"]
    for what, fn in verdicts.items():
        changed = [n for n in names if len({fn(b[n]) for b in by_name}) > 1]
        lines.append(f"| {what} | {len(changed)} of {len(names)} ({100 * len(changed) / max(len(names), 1):.1f} %) | "
                     f"{', '.join(changed) or '-'} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    global WALL_S
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parents", type=int, default=16)
    ap.add_argument("--first", type=int, default=0, help="the first parent seed")
    ap.add_argument("--label", action="store_true", help="compute the killed-mutant labels and store them")
    ap.add_argument("--check", action="store_true", help="recompute the labels and compare with the stored ones")
    ap.add_argument("--repair", action="store_true", help="also run babysit='repair' on the killed mutants")
    ap.add_argument("--operators", default="", help="comma-separated operator names (default all)")
    ap.add_argument("--json", default="", help="also write the evaluated rows to this JSON file")
    ap.add_argument("--wall-s", type=float, default=WALL_S,
                    help="the doctor's time backstop in seconds (0: none, so that a loaded machine's "
                         "verdicts are a quiet one's)")
    ap.add_argument("--seed-offset", type=int, default=0,
                    help="run the doctor with the config seed + this (the spread of its verdict over seeds)")
    ap.add_argument("--spread", nargs="*", default=None,
                    help="compare the verdicts of rows from these JSON files (the same setups, other seed offsets)")
    ap.add_argument("--combine", nargs="*", default=None, help="print the report of rows from these JSON files")
    args = ap.parse_args(argv)
    WALL_S = args.wall_s or None
    if args.spread is not None:
        print(spread([json.loads(Path(path).read_text()) for path in args.spread]))
        return 0
    if args.combine is not None:
        rows = [r for path in args.combine for r in json.loads(Path(path).read_text())]
        print(report(rows))
        return 0
    chosen = set(filter(None, args.operators.split(","))) or set(OPERATORS)
    torch.set_num_threads(1)
    by_parent = {}
    for seed in range(args.first, args.first + args.parents):
        p = parent(seed)
        by_parent[p] = [m for m in mutants(p) if m.mutation in chosen]
    stored = json.loads(LABELS.read_text()) if LABELS.exists() else {}
    if args.label or args.check:
        fresh = label(by_parent)
        if args.check:
            diff = [n for n, v in fresh.items() if n in stored and stored[n]["killed"] != v["killed"]]
            print(f"{len(diff)} labels differ from the stored ones: {diff}")
            return 1 if diff else 0
        stored = json.loads(LABELS.read_text()) if LABELS.exists() else {}   # another run may have written
        stored.update(fresh)
        LABELS.write_text(json.dumps(stored, indent=1, sort_keys=True))
        print(f"stored {len(fresh)} labels in {LABELS}", file=sys.stderr)
        return 0
    rows = []
    for p, kids in by_parent.items():
        for s in [p, *kids]:
            if s.name not in stored:
                print(f"no label for {s.name}: run --label first", file=sys.stderr)
                continue
            rows.append(evaluate(s, stored[s.name]["killed"], repair=args.repair, seed_offset=args.seed_offset))
            print(f"{rows[-1]['name']}: killed={rows[-1]['killed']} top1={rows[-1]['top1']} "
                  f"alarms={rows[-1]['alarms']} {rows[-1]['seconds']:.1f}s", file=sys.stderr)
            if args.json:
                Path(args.json).write_text(json.dumps(rows, indent=1))
    print(report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
