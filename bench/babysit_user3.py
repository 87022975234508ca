"""A third held-out set of setups written as users write them: measured, never tuned on.

Issue 11 asks for the babysitter's quality on setups nobody tuned it for. ``babysit_user.py``
(branch babysit5) and ``babysit_user2.py`` (babysit7) were the first two such sets. This third set
was written (branch babysit10, 2026-12-05) and committed before any of it was run, and it is only
measured: nobody tunes the babysitter on it. Other data, models and faults than the first two:
each pair is the user's own ``nn.Module`` on scikit-learn's bundled data or generators (nothing
downloads), a healthy setup and the same setup with one fault, of issue 11's list or one a user
really makes:

| pair | data | model, training | healthy | fault (expected codes) |
| --- | --- | --- | --- | --- |
| digits_frozen | digits as 1x8x8 images | LeNet-like CNN, Adam, batch 128 | every layer trains | the randomly initialized conv layers frozen "as in a fine-tuning tutorial" (frozen_parameters, slow learning) |
| tabular_const | make_classification, 2 classes 75/25, redundant features | TabNet 15-48-48-2, RMSprop, batch 8 | PyTorch's init | every weight 0.05, biases 0 (symmetric_init) |
| classes8_bottleneck | make_classification, 8 classes | Encoder 24-128-k-64-8, Adam, one-cycle | k = 32 | k = 1, a typo in the hidden sizes (low_rank_logits, cannot_overfit_small_subset, slow learning) |
| iris_logsoftmax | iris, standardized | IrisMLP ELU, Adagrad, batch 8, nn.CrossEntropyLoss() | logits | log_softmax in forward (harmless by design: CE of log-probabilities is CE of the logits) |
| price_raw | make_regression as prices 2e4 + 100 y | PriceNet 12-64-64-1, Adam, MSE | targets standardized | raw prices, scale 1e4 (bad_initial_loss, slow learning) |
| grades_mse | make_classification, 4 classes | GradeNet, momentum SGD, step schedule | cross-entropy on 4 logits | MSE of one output on the class ids as floats (loss_output_mismatch, label_problem) |
| friedman2_wd | make_friedman2, standardized | SiLU net 4-64-64-1, AdamW | weight decay 1e-2 | weight decay 10 (regularization_too_strong, slow learning) |
| cancer_nan | breast cancer, standardized | CancerNet 30-32-2, Nesterov SGD | complete rows | 1 % of the training entries NaN, "missing values" (nonfinite_data) |
| wine_dup | wine, standardized | WineNet 14-64-3 GELU, Adam, batch 16 | proline standardized twice over | a raw copy of proline (278-1680) appended after standardizing (unnormalized_inputs) |
| digits_sorted | digits as 64 pixels / 16 | DigitMLP 64-128-10, momentum SGD | a stratified shuffled split | rows grouped by class, split 60/20/20 in file order (label_problem) |
| adagrad_tiny | make_classification, 3 classes, redundant and repeated features | tanh net 20-64-64-3, Adagrad, batch 512 | lr 0.05 | lr 5e-6 "from a fine-tuning recipe" (slow learning) |
| friedman1_tiny_init | make_friedman1 with 5 features, standardized | 8 x 64 ReLU, momentum SGD, Huber loss | PyTorch's init | every weight ~ N(0, 0.01) (init codes, vanishing_gradients, slow learning) |
| digits_eval | digits as 64 pixels / 16 | BN + dropout MLP, Nesterov SGD, warmup + cosine, label smoothing 0.1, batch 256 | as built | ``model.eval()`` before fit (harmless by design if fit sets train mode) |
| diabetes_loaded | diabetes, as sklearn loads it (each column scaled to norm 1: std 0.048) | DiabetesNet 10-32-32-1, Adam, MSE | standardized inputs | inputs as loaded (unnormalized_inputs, slow learning; likely harmless under Adam) |

The pairs marked harmless are expected to hurt by less than the kill rule; whether a fault hurts is
not taken from this table: ``babysit_user.killed`` computes it from the ``babysit="off"`` runs
(>= 3 points of validation accuracy, or MSE / Var(y) 25 % higher for regression) and prints it.
A fault that does not hurt is scored as harmless: any warning or error on it is a false alarm.

Scored by ``babysit_user.main`` (imported, the same rules as the first two sets; its docstring
says them); ``REPAIRABLE`` below says, per pair and before any of it was run, which faults lie in
a setting the babysitter's actions could change (issue 11's list).

Run: ``python bench/babysit_user3.py`` (a markdown report; ``--json rows.json`` keeps the rows;
``--pair NAME`` runs one pair; ``--no-train`` skips training; ``--repair`` adds the repairs;
``--seeds N`` training seeds, default 2; ``--as-written`` scores with the expected codes as first
committed, without ``NAMED_LATER``).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn import datasets
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import babysit_user as user  # noqa: E402  (the split helpers and the scoring)

DIVERGED, SLOW, INIT = user.DIVERGED, user.SLOW, user.INIT
# Codes added after this set was written (issue 11 item 5, branch babysit13), each for exactly the
# fault of its pair, which no code named when the set was committed. ``--as-written`` scores the
# set with the expected codes as first committed (BENCHMARKS.md reports both).
NAMED_LATER = {"price_raw": {"targets_off_scale"}, "grades_mse": {"regression_on_class_ids"},
               "digits_sorted": {"split_mismatch"}}
if "--as-written" in sys.argv:
    sys.argv.remove("--as-written")
    NAMED_LATER = {name: set() for name in NAMED_LATER}


# ------------------------------------------------------------------------------ the user's models
class LeNetish(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1),
                                      nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class TabNet(nn.Module):
    def __init__(self, d_in, hidden=48, classes=2):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(d_in, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class Encoder(nn.Module):
    def __init__(self, sizes=(128, 32, 64), d_in=24, classes=8):
        super().__init__()
        layers, d = [], d_in
        for h in sizes:
            layers += [nn.Linear(d, h), nn.ReLU()]
            d = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        return self.head(self.body(x))


class IrisMLP(nn.Module):
    def __init__(self, log_probs=False):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 32), nn.ELU(), nn.Linear(32, 32), nn.ELU(), nn.Linear(32, 3))
        self.log_probs = log_probs

    def forward(self, x):
        z = self.net(x)
        return F.log_softmax(z, dim=1) if self.log_probs else z


class PriceNet(nn.Module):
    def __init__(self, d_in=12):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


class GradeNet(nn.Module):
    def __init__(self, outputs=4):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.out = nn.Linear(64, outputs)
        self.outputs = outputs

    def forward(self, x):
        y = self.out(self.hidden(x))
        return y.squeeze(-1) if self.outputs == 1 else y


class SiLUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 64), nn.SiLU(), nn.Linear(64, 64), nn.SiLU(), nn.Linear(64, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


class CancerNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc, self.out = nn.Linear(30, 32), nn.Linear(32, 2)

    def forward(self, x):
        return self.out(torch.relu(self.fc(x)))


class WineNet(nn.Module):
    def __init__(self, d_in=14):
        super().__init__()
        self.fc, self.out = nn.Linear(d_in, 64), nn.Linear(64, 3)

    def forward(self, x):
        return self.out(F.gelu(self.fc(x)))


class DigitMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(64, 128), nn.Linear(128, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class TanhNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 3))

    def forward(self, x):
        return self.net(x)


class DeepRegressor(nn.Module):
    def __init__(self, d_in=5, width=64, depth=8, std=None):
        super().__init__()
        layers, d = [], d_in
        for _ in range(depth):
            layers += [nn.Linear(d, width), nn.ReLU()]
            d = width
        self.body, self.out = nn.Sequential(*layers), nn.Linear(width, 1)
        if std is not None:                 # "initialize the weights N(0, 0.01) like the old tutorial"
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, std=std)
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.out(self.body(x)).squeeze(-1)


class BNDropoutNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.3),
                                 nn.Linear(256, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)


class DiabetesNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


# ------------------------------------------------------------------------------ the pairs
def _digits_frozen(broken):
    d = datasets.load_digits()
    X = (d.images / 16.0).reshape(len(d.images), -1).astype(np.float32)
    parts = [(x.reshape(-1, 1, 8, 8), t) for x, t in user._split(X, d.target, seed=21, standardize=False)]
    torch.manual_seed(21)
    model = LeNetish()
    if broken:                          # "freeze the feature extractor, train the classifier"
        for p in model.features.parameters():
            p.requires_grad_(False)
    return model, parts, {"optimizer": "adam", "lr": 1e-3, "batch_size": 128, "epochs": 15,
                          "schedule": "constant"}, SLOW | {"frozen_parameters", "cannot_overfit_small_subset"}


def _tabular_const(broken):
    X, y = datasets.make_classification(n_samples=3000, n_features=15, n_informative=5, n_redundant=5,
                                        weights=[0.75], flip_y=0.03, random_state=22)
    torch.manual_seed(22)
    model = TabNet(15)
    if broken:                          # "a constant start so every run is the same"
        for layer in (model.fc1, model.fc2, model.fc3):
            nn.init.constant_(layer.weight, 0.05)
            nn.init.zeros_(layer.bias)
    return model, user._split(X, y, seed=22), {"optimizer": "rmsprop", "lr": 1e-3, "batch_size": 8, "epochs": 10,
                                               "schedule": "constant"}, {"symmetric_init"}


def _classes8_bottleneck(broken):
    X, y = datasets.make_classification(n_samples=4000, n_features=24, n_informative=12, n_redundant=6,
                                        n_classes=8, n_clusters_per_class=1, class_sep=1.5, random_state=23)
    torch.manual_seed(23)
    sizes = (128, 1, 64) if broken else (128, 32, 64)       # the typo: 1 for 16 or 32
    return Encoder(sizes), user._split(X, y, seed=23), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 20, "schedule": "one_cycle"}, \
        SLOW | {"low_rank_logits", "cannot_overfit_small_subset"}


def _iris_logsoftmax(broken):
    d = datasets.load_iris()
    torch.manual_seed(24)
    return IrisMLP(log_probs=broken), user._split(d.data, d.target, seed=24), \
        {"optimizer": "adagrad", "lr": 0.05, "batch_size": 8, "epochs": 40, "loss": nn.CrossEntropyLoss()}, \
        {"loss_output_mismatch"}


def _price_raw(broken):
    X, y = datasets.make_regression(n_samples=3000, n_features=12, n_informative=8, noise=10.0, random_state=25)
    price = 2e4 + 100.0 * y             # "the target is the price in dollars"
    parts = user._split(X, price, seed=25, regression=True)
    if not broken:
        parts = user.standard_targets(parts)
    torch.manual_seed(25)
    return PriceNet(12), parts, {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20, "loss": "mse",
                                 "schedule": "constant"}, SLOW | {"bad_initial_loss"} | NAMED_LATER["price_raw"]


def _grades_mse(broken):
    X, y = datasets.make_classification(n_samples=3000, n_features=10, n_informative=6, n_redundant=2,
                                        n_classes=4, n_clusters_per_class=1, random_state=26)
    parts = user._split(X, y, seed=26)
    torch.manual_seed(26)
    opts = {"optimizer": "sgd", "momentum": 0.9, "lr": 0.02, "batch_size": 32, "epochs": 15, "schedule": "step"}
    if broken:                          # "the classes are grades 0-3, so regress the grade"
        parts = [(x, t.float()) for x, t in parts]
        return GradeNet(outputs=1), parts, {**opts, "loss": "mse"}, \
            {"loss_output_mismatch", "label_problem"} | NAMED_LATER["grades_mse"]
    return GradeNet(outputs=4), parts, opts, {"loss_output_mismatch", "label_problem"}


def _friedman2_wd(broken):
    X, y = datasets.make_friedman2(n_samples=3000, noise=10.0, random_state=27)
    parts = user.standard_targets(user._split(X, y, seed=27, regression=True))
    torch.manual_seed(27)
    return SiLUNet(), parts, {"optimizer": "adamw", "lr": 2e-3, "weight_decay": 10.0 if broken else 1e-2,
                              "batch_size": 64, "epochs": 25, "loss": "mse"}, SLOW | {"regularization_too_strong"}


def _cancer_nan(broken):
    d = datasets.load_breast_cancer()
    parts = user._split(d.data, d.target, seed=28)
    if broken:                          # "missing measurements were left empty" (read as NaN)
        X = parts[0][0].clone()
        mask = torch.from_numpy(np.random.default_rng(28).random(tuple(X.shape)) < 0.01)
        parts[0] = (X.masked_fill(mask, float("nan")), parts[0][1])
    torch.manual_seed(28)
    return CancerNet(), parts, {"optimizer": "sgd", "momentum": 0.9, "nesterov": True, "lr": 0.01,
                                "batch_size": 32, "epochs": 20}, {"nonfinite_data"}


def _wine_dup(broken):
    d = datasets.load_wine()
    parts = user._split(d.data, d.target, seed=29)
    raw = user._split(d.data, d.target, seed=29, standardize=False)
    # the 14th column: proline again, "added as a feature after the scaling step"
    extra = [r[0][:, 12:13] for r in raw] if broken else [p[0][:, 12:13] for p in parts]
    parts = [(torch.cat([p[0], e], dim=1), p[1]) for p, e in zip(parts, extra)]
    torch.manual_seed(29)
    return WineNet(14), parts, {"optimizer": "adam", "lr": 3e-3, "batch_size": 16, "epochs": 30}, \
        {"unnormalized_inputs"}


def _digits_sorted(broken):
    d = datasets.load_digits()
    X, y = (d.data / 16.0).astype(np.float32), d.target
    if broken:                          # "the export is grouped by class; first 60 % train, 20 % val, 20 % test"
        order = np.argsort(y, kind="stable")
        X, y = X[order], y[order]
        a, b = int(0.6 * len(y)), int(0.8 * len(y))
        parts = [(torch.tensor(X[i:j]), torch.tensor(y[i:j]).long()) for i, j in ((0, a), (a, b), (b, len(y)))]
    else:
        parts = user._split(X, y, seed=30, standardize=False)
    torch.manual_seed(30)
    return DigitMLP(), parts, {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05, "batch_size": 32, "epochs": 10}, \
        {"label_problem"} | NAMED_LATER["digits_sorted"]


def _adagrad_tiny(broken):
    X, y = datasets.make_classification(n_samples=3000, n_features=20, n_informative=5, n_redundant=10,
                                        n_repeated=2, n_classes=3, random_state=31)
    torch.manual_seed(31)
    return TanhNet(), user._split(X, y, seed=31), \
        {"optimizer": "adagrad", "lr": 5e-6 if broken else 0.05, "batch_size": 512, "epochs": 60,
         "schedule": "constant"}, SLOW


def _friedman1_tiny_init(broken):
    X, y = datasets.make_friedman1(n_samples=3000, n_features=5, noise=1.0, random_state=32)
    parts = user.standard_targets(user._split(X, y, seed=32, regression=True))
    torch.manual_seed(32)
    return DeepRegressor(std=0.01 if broken else None), parts, \
        {"optimizer": "sgd", "momentum": 0.9, "lr": 0.01, "batch_size": 64, "epochs": 30, "loss": "huber"}, \
        SLOW | INIT | {"vanishing_gradients"}


def _digits_eval(broken):
    d = datasets.load_digits()
    parts = user._split((d.data / 16.0).astype(np.float32), d.target, seed=33, standardize=False)
    torch.manual_seed(33)
    model = BNDropoutNet()
    if broken:                          # "evaluated it once before training and forgot to switch back"
        model.eval()
    return model, parts, {"optimizer": "sgd", "momentum": 0.9, "nesterov": True, "lr": 0.05, "batch_size": 256,
                          "epochs": 20, "schedule": "cosine", "warmup_steps": 20, "label_smoothing": 0.1}, \
        frozenset()                     # no code names a model left in eval mode: if it hurts, a miss


def _diabetes_loaded(broken):
    d = datasets.load_diabetes()        # sklearn's columns: mean 0, each scaled to norm 1 (std 0.048)
    parts = user.standard_targets(user._split(d.data, d.target, seed=34, standardize=not broken, regression=True))
    torch.manual_seed(34)
    return DiabetesNet(), parts, {"optimizer": "adam", "lr": 3e-3, "batch_size": 16, "epochs": 40, "loss": "mse"}, \
        SLOW | {"unnormalized_inputs"}


PAIRS = {"digits_frozen": _digits_frozen, "tabular_const": _tabular_const,
         "classes8_bottleneck": _classes8_bottleneck, "iris_logsoftmax": _iris_logsoftmax, "price_raw": _price_raw,
         "grades_mse": _grades_mse, "friedman2_wd": _friedman2_wd, "cancer_nan": _cancer_nan, "wine_dup": _wine_dup,
         "digits_sorted": _digits_sorted, "adagrad_tiny": _adagrad_tiny, "friedman1_tiny_init": _friedman1_tiny_init,
         "digits_eval": _digits_eval, "diabetes_loaded": _diabetes_loaded}

# Which broken setups are repairable (babysit_user.REPAIRABLE's rule), stated before any of this set
# was run (branch babysit10, 2026-12-05). Repairs run only where the fault also hurts (the kill rule).
REPAIRABLE = {"digits_frozen": None,                    # which layers train: the model's structure
              "tabular_const": "init",
              "classes8_bottleneck": None,              # a 1-unit layer: the model's structure
              "iris_logsoftmax": "output activation (remove a functional log_softmax)",
              "price_raw": None,                        # the targets' scale: no setting of issue 11's list
              "grades_mse": None,                       # the loss and the output head together: the model
              "friedman2_wd": "weight decay",
              "cancer_nan": None,                       # NaN in the data
              "wine_dup": "input normalization",
              "digits_sorted": None,                    # the split: val and test hold classes train lacks
              "adagrad_tiny": "lr",
              "friedman1_tiny_init": "init",
              "digits_eval": None,                      # the module's mode: fit's own business, no babysitter action
              "diabetes_loaded": "input normalization"}


if __name__ == "__main__":
    sys.exit(user.main(pairs=PAIRS, repairable=REPAIRABLE, doc=__doc__))
