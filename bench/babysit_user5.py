"""A fifth held-out set of setups written as users write them: measured, never tuned on.

Issue 11 asks for the babysitter's quality on setups nobody tuned it for. Sets 1-4
(``babysit_user.py`` .. ``babysit_user4.py``) were read, and sets 1-3 developed on, by the
engineers changing the babysitter; this fifth set was written (branch babysit20, 2026-12-05) and
committed before any of it was run, so that it measures the merged result of the work going on
now: it is only measured, nobody tunes on it. 17 pairs, each the user's own ``nn.Module`` (or an
``nn.Sequential``) on data generated here (nothing downloads), a healthy setup and the same setup
with one fault: 13 meant to hurt, 4 harmless on purpose.

| pair | data | model, training | healthy | fault (expected codes) |
| --- | --- | --- | --- | --- |
| oscillator_broadcast | damped oscillator A e^(-g t) cos(w t + phi), 5 inputs, regression | OscNet 5-64-64-1 SiLU, Adam, a user's MSE | the loss squeezes the (N, 1) output | ``((pred - target) ** 2).mean()`` of (N, 1) against (N,): broadcast to (N, N), every output learns the mean (loss_output_mismatch, cannot_overfit_small_subset, underfitting) |
| churn_val_raw | customers: age, income, tenure, spend, calls + one-hot region and plan; churn | ``nn.Sequential`` 12-64-32-2 with dropout, AdamW, ``nn.CrossEntropyLoss(weight=...)``, early stopping | train, val and test standardized with the train statistics | the scaler applied to the training split only: val and test in raw units (split_mismatch, unnormalized_inputs) |
| segments_onehot_raw | customers, 3 segments | SegmentNet with LayerNorm, Adam, one-cycle | every column standardized | the one-hot columns left 0/1, the numeric ones standardized (harmless by design) |
| plans_bn_frozen | customers, 4 plans | 10 x 64 MLP with BatchNorm1d, momentum SGD, linear decay | batch norm trains | the user's ``train()`` override keeps every BatchNorm in eval mode "to freeze its statistics" (init codes, vanishing_gradients, slow learning) |
| accounts_inplace | customers, churn (another draw) | GatedNet (tanh + a linear skip), NAdam | ``h = h + skip(x)`` | ``h += skip(x)`` on tanh's output, which its backward needs: every backward raises (no code names it) |
| parity_detach | 5 Gaussian features, class = sign(x0 x1 x2) | ParityNet 5-128-128-64-2, Adam, warmup + cosine | the head reads the body's features | the head reads ``features.detach()`` kept for plotting: the body never trains (frozen_parameters, gradient_mismatch, cannot_overfit_small_subset, slow learning) |
| pointsets_mask | sets of 8-28 2-D points (ring, segment, a central cluster), padded to 32 with a valid flag | SetNet (DeepSets: phi, masked mean, rho), AdamW | the mask marks the points | the mask marks the padding ("True = padding" as in ``key_padding_mask``): the mean sees only padding (cannot_overfit_small_subset, frozen_parameters, slow learning) |
| textures_fullbatch | 16x16 stripes (horizontal, vertical, diagonal) and checks | TextureResNet (2 residual blocks, BatchNorm), momentum SGD | batch 32, lr 0.05 | batch 2048 (the whole training set) with the same lr: 8 steps (slow learning) |
| arrows_hflip | 12x12 arrows pointing left, right, up, down | ArrowCNN, dropout, Adam, ``augment=crop`` | crop by 1 pixel | ``hflip`` added "as every image recipe does": left and right swap labels (label_problem, underfitting) |
| glyphs_mean_classes | 16 random 7x5 glyphs, shifted, 5 % of pixels flipped | ``nn.Sequential`` 63-128-16 tanh, plain SGD lr 0.2, constant lr | a user's cross-entropy summed over classes, mean over rows | ``.mean()`` over rows and classes: the gradient / 16 (slow learning) |
| votes_gru_batch_first | 2-channel sequences of 20, class = the channel with the larger sum | VoteGRU (GRU 2-32), Adam | ``nn.GRU(batch_first=True)`` | ``batch_first`` left at its default (False): the batch read as time (underfitting, cannot_overfit_small_subset, slow learning) |
| trend_lstm_clip | sequences of 24 rising, flat or falling, with noise and an offset | TrendLSTM (LSTM 1-32), Adam | no clipping | ``clip_norm=1.0`` (harmless by design) |
| spectra_lr_exponent | 48-bin spectra with two peaks at class positions, 5 classes | SpectrumCNN (Conv1d x 2), RMSprop | lr 1e-3 | lr 3: the sweep table's exponent of 1e-3 passed as the lr (diverged) |
| torus_pm1 | 3-D points inside / outside a torus | TorusNet ELU, Nesterov SGD, ``nn.CrossEntropyLoss(label_smoothing=0.05)`` | labels 0 / 1 | labels -1 / +1 "as the SVM recipe had them" (label_problem) |
| kinematics_warmup | projectile range from speed, angle, height, regression | KinNet with LayerNorm and GELU, AdamW, Huber | warmup_steps 50 | warmup_steps 5000 "from a transformer recipe", the run has 855 steps (slow learning) |
| palettes_he_all | colour histograms (3 x 8 bins, Dirichlet per class), 5 scene classes | PaletteNet 24-128-128-5 ReLU, Adam | PyTorch's init | ``kaiming_normal_`` on every Linear, the output layer too (harmless by design) |
| damping_addconst | the oscillator, another draw, regression | ``nn.Sequential`` SiLU net, Adam, MSE, linear decay | standardized inputs | a column of ones appended after standardizing, statsmodels' ``add_constant`` (harmless by design) |

**What is new against sets 1-4.** Data: all procedural (a damped oscillator, customers with
numeric and one-hot categorical columns and three targets, 3-way parity, padded point sets,
texture images, arrow images, glyph bitmaps, 2-channel and 1-channel sequences, spectra, a torus,
projectile ranges, colour histograms); sets 1-4 used scikit-learn's bundled sets and generators
(breast cancer, wine, diabetes, iris, digits, moons, circles, blobs, make_classification,
make_regression, Friedman, Gaussian quantiles, Hastie, Swiss roll, S-curve, sparse uncorrelated)
and their own sines, shapes, spikes, motifs, spiral, checkerboard, grid, rings and sensors. Models:
a GRU and an LSTM, a DeepSets model with a mask on 3-D input, a residual CNN with batch norm, a
gated tanh net with a skip path, a user's ``train()`` override, ``nn.Sequential`` models given
directly. Losses: ``nn.CrossEntropyLoss`` with class weights and with label smoothing, a user's
MSE and cross-entropy written out, Huber by name. Training choices: NAdam (a torch.optim class by
name), early stopping (``patience``), warmup, one-cycle, linear decay, augmentation (``crop``),
a batch as large as the training set, plain SGD without momentum. Faults (none in sets 1-4):
a broadcast of (N, 1) against (N,), validation and test inputs left unscaled, batch norm kept in
eval mode by the user's code, an in-place op on a tensor the backward needs, ``detach()`` in the
forward, an inverted padding mask, a huge batch at an unscaled lr, an augmentation that changes
the class, a loss averaged over the classes too, a GRU's ``batch_first`` at its default, an lr
entered as its exponent, labels -1 / +1, a warmup longer than the run; harmless on purpose: one-hot
columns left unscaled, gradient clipping at 1 on an LSTM, He initialization of the output layer
(a known ``bad_initial_loss`` trigger), a constant column. Left out on purpose: an inverted class
weight (its harm is to the minority class, which the kill rule's accuracy does not see).

Whether a fault hurts is not taken from this table: ``babysit_user.killed`` computes it from the
``babysit="off"`` runs (>= 3 points of validation accuracy, or MSE / Var(y) 25 % higher for
regression) and prints it. A fault that does not hurt is scored as harmless: any warning or error
on it is a false alarm. Scored by ``babysit_user.main`` (imported, the same rules as sets 1-4; its
docstring says them); ``REPAIRABLE`` below says, per pair and before any of it was run, which
faults lie in a setting the babysitter's actions could change (issue 11's list).

Run: ``python bench/babysit_user5.py`` (a markdown report; ``--json rows.json`` keeps the rows;
``--pair NAME`` runs one pair; ``--no-train`` skips training; ``--repair`` adds the repairs;
``--seeds N`` training seeds, default 2; ``--combine u1.json u2.json u3.json u4.json u5.json``
reports the five sets together with this set's ``NO_ACTION`` names, set 4's included). Run it on
the CPU, as sets 1-4.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import babysit_user as user  # noqa: E402  (the split helpers and the scoring)
import babysit_user4 as user4  # noqa: E402  (set 4's NO_ACTION names, for --combine)

DIVERGED, SLOW, INIT = user.DIVERGED, user.SLOW, user.INIT


# ------------------------------------------------------------------------------ the user's data
NUMERIC = 5     # customers(): the first 5 columns are numeric, the last 7 one-hot (4 regions, 3 plans)


def customers(n: int, *, seed: int, target: str):
    """(n, 12) customer rows: age, income, tenure (months), monthly spend, support calls, then
    one-hot region (4) and plan (3); ``target``: "churn" (2 classes), "segment" (3) or "plan" (4),
    each a nonlinear rule of the standardized columns plus noise."""
    g = np.random.default_rng(seed)
    age, income = g.uniform(18.0, 80.0, n), np.exp(g.normal(np.log(5e4), 0.5, n))
    tenure, spend, calls = g.uniform(0.0, 120.0, n), g.gamma(2.0, 40.0, n), g.poisson(2.0, n).astype(float)
    region, plan = g.integers(0, 4, n), g.integers(0, 3, n)
    z_age, z_inc = (age - 49.0) / 18.0, (np.log(income) - np.log(5e4)) / 0.5
    z_ten, z_sp, z_calls = (tenure - 60.0) / 35.0, (spend - 80.0) / 57.0, (calls - 2.0) / 1.4
    reg, pl = np.array([0.0, 0.8, -0.6, 0.3])[region], np.array([-0.5, 0.2, 0.7])[plan]
    if target == "churn":
        s = 1.8 * z_calls - 1.5 * z_ten + 1.2 * z_sp * (plan == 0) + reg + 0.8 * z_age ** 2 - 0.8
        y = (s + g.normal(0.0, 0.3, n) > 0).astype(np.int64)
    elif target == "segment":
        s = np.stack([z_inc + 0.5 * z_age, z_sp - 0.5 * z_inc + reg, -z_age + 0.5 * z_calls + pl], 1)
        y = np.argmax(s + g.normal(0.0, 0.3, (n, 3)), 1)
    else:
        s = np.stack([z_inc * z_age, z_sp + reg, z_ten - z_calls, 0.7 * np.sin(2 * z_age) + pl], 1)
        y = np.argmax(s + g.normal(0.0, 0.2, (n, 4)), 1)
    X = np.column_stack([age, income, tenure, spend, calls, np.eye(4)[region], np.eye(3)[plan]])
    return X.astype(np.float32), y


def parity(n: int, *, seed: int, d: int = 5):
    """(n, d) standard normal features; the class is the sign of x0 x1 x2 (3-way parity)."""
    X = np.random.default_rng(seed).normal(0.0, 1.0, (n, d))
    return X, (X[:, 0] * X[:, 1] * X[:, 2] > 0).astype(np.int64)


def oscillator(n: int, *, seed: int):
    """Inputs (A, gamma, omega, t, phi) and the damped oscillator's position plus noise."""
    g = np.random.default_rng(seed)
    A, gam, w = g.uniform(0.5, 2.0, n), g.uniform(0.1, 1.0, n), g.uniform(1.0, 3.0, n)
    t, phi = g.uniform(0.0, 2.0, n), g.uniform(0.0, np.pi / 2, n)
    y = A * np.exp(-gam * t) * np.cos(w * t + phi) + g.normal(0.0, 0.05, n)
    return np.column_stack([A, gam, w, t, phi]), y


def projectile(n: int, *, seed: int):
    """Inputs (speed m/s, angle degrees, launch height m) and the range on flat ground, 2 % noise."""
    g = np.random.default_rng(seed)
    v, angle, h = g.uniform(5.0, 30.0, n), g.uniform(10.0, 80.0, n), g.uniform(0.0, 20.0, n)
    a, gravity = np.radians(angle), 9.81
    flight = (v * np.sin(a) + np.sqrt((v * np.sin(a)) ** 2 + 2 * gravity * h)) / gravity
    return np.column_stack([v, angle, h]), v * np.cos(a) * flight * (1.0 + g.normal(0.0, 0.02, n))


def torus(n: int, *, seed: int):
    """Points in a box; class 1 inside a torus (major radius 2, tube radius 1.1) about the z axis."""
    g = np.random.default_rng(seed)
    X = np.column_stack([g.uniform(-3.2, 3.2, (n, 2)), g.uniform(-1.5, 1.5, n)])
    tube = np.sqrt((np.hypot(X[:, 0], X[:, 1]) - 2.0) ** 2 + X[:, 2] ** 2)
    return X, (tube < 1.1).astype(np.int64)


def point_sets(n: int, *, seed: int, max_points: int = 32):
    """(n, max_points, 3): sets of 8-28 2-D points (x, y, valid = 1), zero rows as padding;
    class 0 a ring, 1 a segment through the center, 2 a tight cluster at the center; each set
    scaled by 0.8-1.2, its center jittered by 0.1."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    X = np.zeros((n, max_points, 3), np.float32)
    for i in range(n):
        k = int(g.integers(8, 29))
        if y[i] == 0:
            a = g.uniform(0.0, 2 * np.pi, k)
            p = np.stack([np.cos(a), np.sin(a)], 1)
        elif y[i] == 1:
            a = g.uniform(0.0, np.pi)
            p = g.uniform(-1.0, 1.0, k)[:, None] * np.array([np.cos(a), np.sin(a)])
        else:
            p = g.normal(0.0, 0.15, (k, 2))
        X[i, :k, :2] = g.normal(0.0, 0.1, 2) + g.uniform(0.8, 1.2) * p + g.normal(0.0, 0.05, (k, 2))
        X[i, :k, 2] = 1.0
    return X, y


def textures(n: int, *, seed: int, size: int = 16):
    """(n, 1, size, size): 0 horizontal stripes, 1 vertical, 2 diagonal, 3 checks; random period
    3-6 pixels, phase and contrast, Gaussian noise 0.5."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 4, n)
    ii, jj = np.mgrid[0:size, 0:size]
    k = (2 * np.pi / g.uniform(3.0, 6.0, n))[:, None, None]
    phase = g.uniform(0.0, 2 * np.pi, n)[:, None, None]
    kinds = np.stack([np.sin(k * ii + phase), np.sin(k * jj + phase), np.sin(k * (ii + jj) / np.sqrt(2) + phase),
                      np.sin(k * ii + phase) * np.sin(k * jj)], 1)[np.arange(n), y]
    img = g.uniform(0.5, 1.5, n)[:, None, None] * kinds + g.normal(0.0, 0.5, (n, size, size))
    return img[:, None], y


def arrows(n: int, *, seed: int, size: int = 12):
    """(n, 1, size, size): a filled triangle pointing 0 left, 1 right, 2 up, 3 down, of random
    size, place and ink, on Gaussian noise 0.15."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 4, n)
    ii, jj = np.mgrid[0:size, 0:size].astype(float)
    r = g.uniform(2.5, 4.0, n)[:, None, None]
    cy, cx = (g.uniform(4.0, size - 4.0, n)[:, None, None] for _ in range(2))
    dy, dx = ii[None] - cy, jj[None] - cx
    c = y[:, None, None]
    along = np.where(c == 0, -dx, np.where(c == 1, dx, np.where(c == 2, -dy, dy)))    # toward the apex
    across = np.where(c <= 1, dy, dx)
    mask = (np.abs(along) <= r) & (np.abs(across) <= (r - along) / 2)
    img = mask * g.uniform(0.6, 1.0, n)[:, None, None] + g.normal(0.0, 0.15, (n, size, size))
    return img[:, None], y


def glyphs(n: int, *, seed: int, classes: int = 16):
    """(n, 63): one of ``classes`` fixed random 7x5 bitmaps placed at a random offset in a 9x7
    canvas, 5 % of its pixels flipped, flattened."""
    protos = np.random.default_rng(1000).random((classes, 7, 5)) < 0.45
    g = np.random.default_rng(seed)
    y = g.integers(0, classes, n)
    img = np.zeros((n, 9, 7))
    oy, ox = g.integers(0, 3, n), g.integers(0, 3, n)
    for i in range(n):
        img[i, oy[i]:oy[i] + 7, ox[i]:ox[i] + 5] = protos[y[i]]
    img = np.where(g.random(img.shape) < 0.05, 1.0 - img, img)
    return img.reshape(n, -1), y


def votes(n: int, *, seed: int, length: int = 20):
    """(n, length, 2) noisy readings of two channels with a drift each; the class is the channel
    with the larger sum."""
    g = np.random.default_rng(seed)
    X = g.normal(0.0, 1.0, (n, length, 2)) + g.normal(0.0, 0.25, (n, 1, 2))
    return X, (X[:, :, 0].sum(1) > X[:, :, 1].sum(1)).astype(np.int64)


def trends(n: int, *, seed: int, length: int = 24):
    """(n, length, 1): 0 falling, 1 flat, 2 rising (slope 0.03-0.08 a step), with a random offset
    and noise 0.3."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    slope = np.array([-1.0, 0.0, 1.0])[y] * g.uniform(0.03, 0.08, n)
    X = slope[:, None] * np.arange(length)[None] + g.normal(0.0, 0.3, (n, length)) + g.normal(0.0, 1.0, (n, 1))
    return X[:, :, None], y


def spectra(n: int, *, seed: int, bins: int = 48):
    """(n, 1, bins): two Gaussian peaks (width 2 bins) at positions set by the class (5 classes,
    jittered by 1 bin), random heights, a sloped baseline and noise 0.1."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 5, n)
    centers = np.array([[8, 20], [8, 30], [14, 36], [20, 30], [26, 40]], float)[y] + g.normal(0.0, 1.0, (n, 2))
    b = np.arange(bins)[None]
    X = sum(g.uniform(0.5, 1.5, n)[:, None] * np.exp(-0.5 * ((b - centers[:, k:k + 1]) / 2.0) ** 2) for k in range(2))
    X = X + 0.2 * g.random((n, 1)) * b / bins + g.normal(0.0, 0.1, (n, bins))
    return X[:, None], y


def palettes(n: int, *, seed: int, classes: int = 5, bins: int = 8):
    """(n, 3 * bins): per colour channel a histogram drawn from a Dirichlet whose concentrations
    are the class's own."""
    conc = np.random.default_rng(seed + 7).uniform(0.5, 4.0, (classes, 3, bins))
    g = np.random.default_rng(seed)
    y = g.integers(0, classes, n)
    H = np.stack([np.stack([g.dirichlet(conc[c, ch]) for ch in range(3)]) for c in y])
    return H.reshape(n, -1), y


def _scale(parts, mu, sd, *, which=(0, 1, 2)):
    """(x - mu) / sd on the splits in ``which`` (0 train, 1 val, 2 test), the others as given."""
    return [((x - mu) / sd, t) if i in which else (x, t) for i, (x, t) in enumerate(parts)]


# ------------------------------------------------------------------------------ the user's models
class OscNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(5, 64), nn.SiLU(), nn.Linear(64, 64), nn.SiLU(), nn.Linear(64, 1))

    def forward(self, x):
        return self.net(x)                  # (N, 1)


def mse_squeezed(pred, target):
    return ((pred.squeeze(1) - target) ** 2).mean()


def mse_as_written(pred, target):           # (N, 1) - (N,) broadcasts to (N, N)
    return ((pred - target) ** 2).mean()


class SegmentNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(12, 64), nn.LayerNorm(64), nn.GELU(), nn.Linear(64, 64), nn.LayerNorm(64),
                                 nn.GELU(), nn.Linear(64, 3))

    def forward(self, x):
        return self.net(x)


class PlanNet(nn.Module):
    def __init__(self, width=64, depth=10):
        super().__init__()
        layers, d = [], 12
        for _ in range(depth):
            layers += [nn.Linear(d, width), nn.BatchNorm1d(width), nn.ReLU()]
            d = width
        self.body, self.head = nn.Sequential(*layers), nn.Linear(width, 4)

    def forward(self, x):
        return self.head(self.body(x))


class FrozenBNPlanNet(PlanNet):
    def train(self, mode=True):             # "freeze the batch-norm statistics", from a detection code base
        super().train(mode)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.eval()
        return self


class GatedNet(nn.Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.fc1, self.skip, self.fc2 = nn.Linear(12, 64), nn.Linear(12, 64), nn.Linear(64, 2)
        self.inplace = inplace

    def forward(self, x):
        h = torch.tanh(self.fc1(x))
        if self.inplace:
            h += self.skip(x)               # "in place, to save memory": tanh's backward needs h
        else:
            h = h + self.skip(x)
        return self.fc2(F.relu(h))


class ParityNet(nn.Module):
    def __init__(self, detach=False):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(5, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 64),
                                  nn.ReLU())
        self.head = nn.Linear(64, 2)
        self.detach = detach

    def forward(self, x):
        h = self.body(x)
        self.last_features = h.detach()     # kept to plot the features later
        return self.head(self.last_features if self.detach else h)


class SetNet(nn.Module):
    def __init__(self, mask_marks_padding=False):
        super().__init__()
        self.phi = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.rho = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))
        self.mask_marks_padding = mask_marks_padding

    def forward(self, x):
        valid = x[..., 2] > 0.5
        mask = ~valid if self.mask_marks_padding else valid     # True = padding: key_padding_mask's convention
        h = self.phi(x[..., :2]) * mask[..., None]
        return self.rho(h.sum(1) / mask.sum(1, keepdim=True).clamp(min=1))


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)

    def forward(self, x):
        return F.relu(x + self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))


class TextureResNet(nn.Module):
    def __init__(self, c=16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU())
        self.block1, self.block2 = ResBlock(c), ResBlock(c)
        self.fc = nn.Linear(c, 4)

    def forward(self, x):
        x = self.block1(self.stem(x))
        x = self.block2(F.max_pool2d(x, 2))
        return self.fc(x.mean((2, 3)))


class ArrowCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 3 * 3, 64), nn.ReLU(),
                                        nn.Linear(64, 4))

    def forward(self, x):
        return self.classifier(self.features(x))


def ce_over_rows(logits, target):
    """The user's cross-entropy: -sum_c onehot * log_softmax over the classes, mean over the rows."""
    return -(F.one_hot(target, logits.shape[1]) * F.log_softmax(logits, dim=1)).sum(1).mean()


def ce_over_entries(logits, target):        # "mean" taken over rows and classes: / C
    return -(F.one_hot(target, logits.shape[1]) * F.log_softmax(logits, dim=1)).mean()


class VoteGRU(nn.Module):
    def __init__(self, batch_first=True):
        super().__init__()
        self.gru = nn.GRU(2, 32, batch_first=batch_first)
        self.head = nn.Linear(32, 2)

    def forward(self, x):                   # x: (N, T, 2)
        out, _ = self.gru(x)
        return self.head(out[:, -1])


class TrendLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 32, batch_first=True)
        self.head = nn.Linear(32, 3)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.head(h[-1])


class SpectrumCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
                                  nn.Conv1d(8, 16, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2))
        self.fc = nn.Linear(16 * 12, 5)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


class TorusNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(3, 64), nn.Linear(64, 64), nn.Linear(64, 2)

    def forward(self, x):
        return self.l3(F.elu(self.l2(F.elu(self.l1(x)))))


class KinNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 64), nn.LayerNorm(64), nn.GELU(), nn.Linear(64, 64), nn.LayerNorm(64),
                                 nn.GELU(), nn.Linear(64, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


class PaletteNet(nn.Module):
    def __init__(self, he_everywhere=False):
        super().__init__()
        self.fc1, self.fc2, self.out = nn.Linear(24, 128), nn.Linear(128, 128), nn.Linear(128, 5)
        if he_everywhere:                   # "He init for ReLU nets", applied to every Linear
            for layer in (self.fc1, self.fc2, self.out):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)

    def forward(self, x):
        return self.out(F.relu(self.fc2(F.relu(self.fc1(x)))))


# ------------------------------------------------------------------------------ the pairs
def _oscillator_broadcast(broken):
    X, y = oscillator(3000, seed=60)
    parts = user.standard_targets(user._split(X, y, seed=60, regression=True))
    torch.manual_seed(60)
    return OscNet(), parts, {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 25, "warmup_steps": 20,
                             "loss": mse_as_written if broken else mse_squeezed}, \
        frozenset({"loss_output_mismatch", "cannot_overfit_small_subset", "underfitting"})


def _churn_val_raw(broken):
    X, y = customers(2400, seed=61, target="churn")
    parts = user._split(X, y, seed=61, standardize=False)
    Xtr, ytr = parts[0]
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-8
    parts = _scale(parts, mu, sd, which=(0,) if broken else (0, 1, 2))   # broken: scaler.transform(X_train) only
    counts = torch.bincount(ytr, minlength=2).float()
    torch.manual_seed(61)
    model = nn.Sequential(nn.Linear(12, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 32), nn.ReLU(),
                          nn.Linear(32, 2))
    return model, parts, {"optimizer": "adamw", "lr": 1e-3, "weight_decay": 1e-2, "batch_size": 32, "epochs": 20,
                          "patience": 6, "loss": nn.CrossEntropyLoss(weight=counts.sum() / (2 * counts))}, \
        frozenset({"split_mismatch", "unnormalized_inputs"})


def _segments_onehot_raw(broken):
    X, y = customers(2400, seed=62, target="segment")
    parts = user._split(X, y, seed=62, standardize=False)
    Xtr = parts[0][0]
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-8
    if broken:                              # only the numeric columns scaled; the one-hot ones left 0 / 1
        mu[NUMERIC:], sd[NUMERIC:] = 0.0, 1.0
    torch.manual_seed(62)
    return SegmentNet(), _scale(parts, mu, sd), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 25, "schedule": "one_cycle"}, \
        frozenset({"unnormalized_inputs"})


def _plans_bn_frozen(broken):
    X, y = customers(2400, seed=63, target="plan")
    torch.manual_seed(63)
    return (FrozenBNPlanNet() if broken else PlanNet()), user._split(X, y, seed=63), \
        {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05, "batch_size": 32, "epochs": 15, "schedule": "linear"}, \
        INIT | SLOW | {"vanishing_gradients", "cannot_overfit_small_subset"}


def _accounts_inplace(broken):
    X, y = customers(2400, seed=64, target="churn")
    torch.manual_seed(64)
    return GatedNet(inplace=broken), user._split(X, y, seed=64), \
        {"optimizer": "NAdam", "lr": 2e-3, "batch_size": 32, "epochs": 15}, \
        frozenset({"model_raises"})         # written when no code named a backward that raises; model_raises
                                            # (babysit22, added after the set) is that code


def _parity_detach(broken):
    X, y = parity(2400, seed=65)
    torch.manual_seed(65)
    return ParityNet(detach=broken), user._split(X, y, seed=65), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 32, "epochs": 30, "warmup_steps": 50, "schedule": "cosine"}, \
        SLOW | {"frozen_parameters", "gradient_mismatch", "cannot_overfit_small_subset"}


def _pointsets_mask(broken):
    X, y = point_sets(2400, seed=66)
    torch.manual_seed(66)
    return SetNet(mask_marks_padding=broken), user._split(X, y, seed=66, standardize=False), \
        {"optimizer": "adamw", "lr": 3e-3, "weight_decay": 1e-4, "batch_size": 64, "epochs": 30}, \
        SLOW | {"cannot_overfit_small_subset", "frozen_parameters"}


def _textures_fullbatch(broken):
    X, y = textures(2000, seed=67)
    torch.manual_seed(67)
    return TextureResNet(), user._split(X, y, seed=67, standardize=False), \
        {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05, "batch_size": 2048 if broken else 32, "epochs": 8}, SLOW


def _arrows_hflip(broken):
    X, y = arrows(2000, seed=68)
    torch.manual_seed(68)
    augment = [{"name": "crop", "pad": 1}] + (["hflip"] if broken else [])
    return ArrowCNN(), user._split(X, y, seed=68, standardize=False), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 64, "epochs": 12, "augment": augment}, \
        frozenset({"label_problem", "underfitting", "augmentation_hurts"})   # augmentation_hurts: added with
                                            # the code (babysit23), after the set was written


def _glyphs_mean_classes(broken):
    X, y = glyphs(2400, seed=69)
    torch.manual_seed(69)
    model = nn.Sequential(nn.Linear(63, 128), nn.Tanh(), nn.Linear(128, 16))
    return model, user._split(X, y, seed=69, standardize=False), \
        {"optimizer": "sgd", "momentum": 0.0, "lr": 0.2, "batch_size": 32, "epochs": 15, "schedule": "constant",
         "loss": ce_over_entries if broken else ce_over_rows}, SLOW


def _votes_gru_batch_first(broken):
    X, y = votes(2400, seed=70)
    torch.manual_seed(70)
    return VoteGRU(batch_first=not broken), user._split(X, y, seed=70, standardize=False), \
        {"optimizer": "adam", "lr": 3e-3, "batch_size": 64, "epochs": 15}, \
        SLOW | {"underfitting", "cannot_overfit_small_subset", "batch_dependence"}   # batch_dependence: added
                                            # with the code (babysit22), after the set was written


def _trend_lstm_clip(broken):
    X, y = trends(2400, seed=71)
    torch.manual_seed(71)
    return TrendLSTM(), user._split(X, y, seed=71, standardize=False), \
        {"optimizer": "adam", "lr": 3e-3, "batch_size": 64, "epochs": 12, **({"clip_norm": 1.0} if broken else {})}, \
        SLOW | {"optimizer_setting"}


LR_EXPONENT = 3                             # the sweep table's column: lr = 10 ** -LR_EXPONENT


def _spectra_lr_exponent(broken):
    X, y = spectra(2000, seed=72)
    torch.manual_seed(72)
    return SpectrumCNN(), user._split(X, y, seed=72, standardize=False), \
        {"optimizer": "rmsprop", "lr": float(LR_EXPONENT) if broken else 10.0 ** -LR_EXPONENT, "batch_size": 32,
         "epochs": 10}, DIVERGED


def _torus_pm1(broken):
    X, y = torus(2400, seed=73)
    torch.manual_seed(73)
    return TorusNet(), user._split(X, 2 * y - 1 if broken else y, seed=73), \
        {"optimizer": "sgd", "momentum": 0.9, "nesterov": True, "lr": 0.05, "batch_size": 32, "epochs": 20,
         "loss": nn.CrossEntropyLoss(label_smoothing=0.05)}, frozenset({"label_problem"})


def _kinematics_warmup(broken):
    X, y = projectile(3000, seed=74)
    parts = user.standard_targets(user._split(X, y, seed=74, regression=True))
    torch.manual_seed(74)
    return KinNet(), parts, {"optimizer": "adamw", "lr": 3e-3, "weight_decay": 1e-4, "batch_size": 32, "epochs": 15,
                             "loss": "huber", "warmup_steps": 5000 if broken else 50}, SLOW


def _palettes_he_all(broken):
    X, y = palettes(2400, seed=75)
    torch.manual_seed(75)
    return PaletteNet(he_everywhere=broken), user._split(X, y, seed=75), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 15}, INIT | {"bad_initial_loss"}


def _damping_addconst(broken):
    X, y = oscillator(3000, seed=76)
    parts = user.standard_targets(user._split(X, y, seed=76, regression=True))
    if broken:                              # statsmodels' add_constant, after the scaler
        parts = [(torch.cat([x, torch.ones(len(x), 1)], dim=1), t) for x, t in parts]
    torch.manual_seed(76)
    model = nn.Sequential(nn.Linear(parts[0][0].shape[1], 64), nn.SiLU(), nn.Linear(64, 64), nn.SiLU(),
                          nn.Linear(64, 1), nn.Flatten(0))
    return model, parts, {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 25, "loss": "mse",
                          "schedule": "linear"}, frozenset({"unnormalized_inputs"})


PAIRS = {"oscillator_broadcast": _oscillator_broadcast, "churn_val_raw": _churn_val_raw,
         "segments_onehot_raw": _segments_onehot_raw, "plans_bn_frozen": _plans_bn_frozen,
         "accounts_inplace": _accounts_inplace, "parity_detach": _parity_detach, "pointsets_mask": _pointsets_mask,
         "textures_fullbatch": _textures_fullbatch, "arrows_hflip": _arrows_hflip,
         "glyphs_mean_classes": _glyphs_mean_classes, "votes_gru_batch_first": _votes_gru_batch_first,
         "trend_lstm_clip": _trend_lstm_clip, "spectra_lr_exponent": _spectra_lr_exponent, "torus_pm1": _torus_pm1,
         "kinematics_warmup": _kinematics_warmup, "palettes_he_all": _palettes_he_all,
         "damping_addconst": _damping_addconst}

# Which broken setups are repairable (babysit_user.REPAIRABLE's rule), stated before any of this set
# was run (branch babysit20, 2026-12-05). Repairs run only where the fault also hurts (the kill rule).
REPAIRABLE = {"oscillator_broadcast": None,             # the user's loss broadcasts: the user's code
              "churn_val_raw": None,                    # val / test scaled apart from train: the data pipeline
              "segments_onehot_raw": "input normalization",   # harmless by design
              "plans_bn_frozen": None,                  # the model's own train(): the user's code
              "accounts_inplace": None,                 # an in-place op in forward: the user's code
              "parity_detach": None,                    # detach() in forward: the user's code
              "pointsets_mask": None,                   # the mask: the user's code
              "textures_fullbatch": "lr",               # the lr was not scaled with the batch
              "arrows_hflip": None,                     # an augmentation that changes the class: not a setting of the list
              "glyphs_mean_classes": "lr",              # the loss's scale is the lr's
              "votes_gru_batch_first": None,            # the model's layout: the user's code
              "trend_lstm_clip": "clip norm",           # harmless by design
              "spectra_lr_exponent": "lr",
              "torus_pm1": None,                        # the labels
              "kinematics_warmup": "lr schedule",       # a warmup longer than the run
              "palettes_he_all": "init",                # harmless by design
              "damping_addconst": "input normalization"}      # harmless by design
# Settings of that list that no action in trainwell/babysit/actions.py changes the way the fault
# needs: set 4's names (the schedule among them: the actions scale the lr, none shortens a warmup).
NO_ACTION = user4.NO_ACTION


if __name__ == "__main__":
    user.NO_ACTION = NO_ACTION          # the report reads babysit_user.NO_ACTION
    sys.exit(user.main(pairs=PAIRS, repairable=REPAIRABLE, doc=__doc__))
