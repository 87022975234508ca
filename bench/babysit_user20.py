"""A twentieth held-out set of setups written as users write them: measured, never tuned on.

Issue 11 asks for the babysitter's quality on setups nobody tuned it for. Sets 1-19
(``babysit_user.py`` .. ``babysit_user19.py``) were read, and partly developed on, by the engineers
changing the babysitter; this twentieth set was written (branch babysit98, 2026-12-06) and
committed before any of it was run, its training and its babysitter both: it is measured once, by
the lead, on the final merged main of the session, so that its number is held out for everything
merged in it; nobody tunes on it. 18 pairs, each the user's own ``nn.Module`` (or an
``nn.Sequential``) on data generated here or shipped with scikit-learn (nothing downloads), a
healthy setup and the same setup with one fault: 13 meant to hurt, 5 harmless on purpose.

| pair | data | model, training | healthy | fault (expected codes) |
| --- | --- | --- | --- | --- |
| permits_split_x_and_y_separately | building permits: 8 measurements; approved, revised, refused (about 60 / 30 / 10 %) | ``nn.Sequential`` 8-64-64-3, Adam, ``label_smoothing=0.05`` | ``train_test_split(X, y, stratify=y)`` | two calls, ``train_test_split(X)`` and ``train_test_split(y, stratify=y)`` "stratify the labels": the same seed, other shuffles, each row beside another row's label (label_problem, underfitting) |
| boilers_log1p_signed_temperature | set 19's boiler days (outdoor temperature, wind, ...); gas used (m3, regression, standardized) | Regressor 6-64-64-1, AdamW (weight decay 1e-4), MSE | ``np.log1p`` of the wind, then standardized | the temperature in the list of "skewed" columns too: ``log1p`` of the days below -1 C is NaN (-inf at -1), ``np.nan_to_num`` makes them 0, the coldest days read as days at 0 C (uninformative_inputs, underfitting) |
| houses_train_targets_cast_long | set 18's house sales (3 skewed columns logged); the price (regression, standardized) | Regressor, Adam, MSE | float targets | the training ``Dataset`` from the user's classification template returns ``torch.tensor(y[i], dtype=torch.long)``: the standardized training targets truncated to whole numbers (-3 .. 3, mostly 0), validation and test read from the float arrays (label_problem, split_mismatch, regression_on_class_ids, underfitting) |
| bearings_window_znorm_amplitude_classes | 64-sample vibration windows: a sine of 2-10 cycles, random phase, a harmonic, noise; the class is the amplitude (wear: 0.5, 1, 2) | TremorCNN (set 15: 1-D convs, mean and max over time), Adam, ``clip_norm=1.0`` | one mean and std of the training values | each window z-normalized on its own, the UCR archive's habit: every window has amplitude 1 (uninformative_inputs, underfitting, cannot_overfit_small_subset) |
| looms_linear_scaling_rule_adam | loom sensors: 8 measurements, 3 classes | ``nn.Sequential`` 8-64-64-3, Adam | batch 32, lr 1e-3 | batch 512 "to use the hardware" and lr x16 by Goyal et al.'s linear scaling rule (an SGD rule) on Adam: lr 0.016, 3 steps an epoch (lr_too_high, oscillating_loss, too_few_updates, optimizer_setting, underfitting) |
| alerts_codes_standardized_before_embedding | set 15's event code sequences (16 codes, one of three alert codes 0-2 anywhere) | AlertEncoder (code and position embeddings, one ``nn.TransformerEncoderLayer``, mean, linear; ``x.long().clamp(0, 23)``), Adam, one-cycle | the codes as they are | the table pipeline's standardization left on for the code columns: ``.long()`` truncates the standard scores to -1, 0, 1, and the clamp the user added for the ``IndexError`` maps them to 0 and 1: codes 0-18 are one token (uninformative_inputs, underfitting, cannot_overfit_small_subset) |
| turbines_batchnorm_momentum_zero | turbines: 8 measurements, 3 classes | BNMLP (Linear, ``BatchNorm1d``, ReLU twice, linear), the user's ``torch.optim.SGD`` (momentum 0.9, Nesterov) | ``BatchNorm1d(64)`` | ``momentum=0.0`` "no momentum, as for the optimizer": the running statistics never move from mean 0, variance 1, evaluation normalizes with them (eval_mode_gap, underfitting) |
| tanks_translate_level_classes | 16x16 sight-glass images: the liquid's level (30, 50 or 70 % of the height) is the class | DefectCNN (set 13, 3 classes), Adam, ``augment=["hflip"]`` | hflip only | ``{"name": "translate", "max_shift": 0.25}`` added from a detection recipe: shifts of up to 4 pixels move the level across the 3.2 pixels between classes, labels kept (augmentation_hurts, label_problem, underfitting) |
| hives_gru_positional_num_layers | set 14's hourly readings (rising, falling, a midday peak), as (N, 24, 1) | HourGRU (``nn.GRU``, ``h_n[-1]``, linear), Adam, one-cycle | ``nn.GRU(1, 32, batch_first=True)`` | ``nn.GRU(1, 1, 32, batch_first=True)``, "input 1, one layer, 32 units" written positionally: hidden size 1, 32 layers (underfitting, cannot_overfit_small_subset, vanishing_gradients, low_rank_logits) |
| presses_trim_to_batch_multiple | press cycles: 7 measurements, 3 classes | ``nn.Sequential`` 7-64-64-3, Adam | every training row | "drop the ragged last batch": ``X_train[:len(X_train) // 32]``, the ``* 32`` forgotten: 45 training rows of 1,440 (overfitting, too_few_updates, underfitting) |
| orders_hstack_for_vstack | two exports of orders (1,200 rows each): 8 measurements, 3 classes | ``nn.Sequential`` 8/16-64-64-3, Adam | ``np.vstack`` of the exports, both label arrays | ``np.hstack``: 1,200 rows of 16 columns, the second export's rows beside the first's, and the first export's labels after the length error (overfitting, uninformative_inputs, underfitting) |
| kilns_warmup_counted_in_samples | kilns: 8 measurements, 3 classes | ``nn.Sequential`` 8-64-64-3, momentum SGD lr 0.02, the user's warmup-cosine schedule function | total = epochs x batches (900 steps, warmup 90) | total = epochs x ``len(X_train)`` (28,800, warmup 2,880): the run ends a third of the way up the warmup (schedule_starts_late and the other slow-learning codes) |
| screening_bce_on_first_logit | a screening table: 8 measurements; negative, positive (about 85 / 15 %) | ``nn.Sequential`` 8-64-64-2, Adam, the user's loss | ``F.cross_entropy(z, y)`` | ``F.binary_cross_entropy_with_logits(z[:, 0], y.float())`` "binary: one logit": the positive's logit is column 0, the arg max of the two outputs reads column 1 as positive, which never trains (loss_output_mismatch, label_problem, below_baseline, underfitting) |
| kettles_layer_norm_whole_shape | kettles: 8 measurements, 3 classes | NormResMLP (an input layer, 3 pre-norm residual blocks, a head), Adam | ``F.layer_norm(x, x.shape[-1:])`` | ``F.layer_norm(x, x.shape)``: one mean and std over the whole batch (harmless by design: a scalar per batch, the rows keep their differences) |
| digits_circular_padding | scikit-learn's digits as 8x8 images | CircularCNN (two 3x3 convs, global average, linear), Adam, weight decay 5e-4 | ``padding_mode="zeros"`` | ``padding_mode="circular"`` from a climate model on a periodic grid (harmless by design: the digits' borders are blank) |
| claims_output_bias_prior_sign_flipped | insurance claims: 8 measurements; ok, fraud (about 90 / 10 %) | ``nn.Sequential`` 8-64-64-2, Adam | the output bias at the log prior (fraud logit ``log(p / (1 - p))``), "init well" | ``log((1 - p) / p)``: the ratio the other way, every row starts at 90 % fraud (harmless by design: the bias moves in the first steps) |
| carts_padding_mask_added_as_one | set 17's shop sessions (6-16 tokens padded to 20, one intent token anywhere) | CartPool (token and position embeddings, a score per step, the softmax-weighted sum, linear), Adam | ``scores.masked_fill(pad, -inf)`` | ``scores + pad.float()``, the boolean mask added as an additive mask is: each padding step weighted e times (harmless by design: the padding's embedding is one learned vector whose score can fall) |
| exposures_freeze_batchnorm_callback | set 17's 16x16 scenes exposed under, right or over | ExposureCNN (set 17, ``BatchNorm2d``), Adam, the user's callback | no callback | ``FreezeBatchNorm`` of a detection recipe: from epoch 3 every ``BatchNorm2d`` in eval mode, its statistics frozen (harmless by design: they have settled) |

**What is new against sets 1-19.** Data: building permits, insurance claims and screening rows with
imbalanced classes, vibration windows whose class is the amplitude, sight-glass images whose class
is a level, two order exports to join; set 19's boiler days, set 18's houses, set 15's event codes,
set 14's hourly readings, set 17's shop sessions and scenes. Models: a transformer encoder over
clamped code ids, an MLP with ``BatchNorm1d``, a GRU of 32 layers of one unit, a pre-norm residual
MLP, a CNN with circular padding, an attention pooling with an additive mask. Training choices:
label smoothing, AdamW with weight decay, gradient clipping, a larger batch with a scaled lr, a
user-built Nesterov SGD, one-cycle schedules, flips and translations, a user's warmup-cosine
schedule, a binary loss on a two-output model, an output bias initialized at the prior, a callback
that freezes batch norm. Faults (none in sets 1-19, nor in issue 11's list): features and labels
split by two calls, ``log1p`` of a signed column, training targets cast to integers by a
classification template, per-window z-normalization on amplitude classes, the linear scaling rule
on Adam, standardized code ids, batch norm momentum 0, translation on level classes, ``nn.GRU``'s
positional arguments, a trim that forgets the batch size, ``hstack`` for ``vstack``, a schedule's
total counted in samples, a binary loss on the first of two logits; harmless on purpose: a layer norm
over the batch's shape, circular padding, the prior bias with its sign flipped, a boolean mask added
as a number, batch norm frozen after warmup. The nearest earlier faults: the separate splits
against set 1's shuffled labels and set 19's labels by position after ``dropna`` (there a share of
rows, here every row), ``log1p`` against set 8's ``np.log`` of dry days (there -inf kept, here NaN
filled with a plausible 0), the integer targets against set 4's ``astype(int)`` of the inputs and
set 17's validation targets in thousands, the per-window z-normalization against set 17's
``GroupNorm`` on exposure classes and set 14's differenced level classes, the scaling rule against
set 4's SGD lr copied into Adam and set 5's full batch, the standardized code ids against set 4's
integer inputs and set 9's hash buckets, batch norm momentum 0 against set 7's Keras momentum 0.99
(harmless there) and set 8's BN without running statistics, the translation against set 15's zoom
on size classes and set 5's ``hflip`` on arrows, the GRU's positional arguments against set 17's
conv kernel and stride swapped, the trim against set 12's ``head(1440)`` and set 10's
``test_size`` swapped, ``hstack`` against set 16's second site column order, the schedule's total
against set 5's 5000 warmup steps and set 6's milestones in steps, the loss on the first logit
against set 18's kennels with an extra logit and set 7's BCE on one-hot targets; the layer norm
against set 19's softmax over the batch axis (there it hurt), the circular padding against set 19's
dilation (there it hurt), the sign-flipped prior against set 17's zero-initialized output layer, the
additive mask against set 17's inverted key padding mask (there it hurt), the frozen batch norm
against set 5's ``train()`` override that keeps every BatchNorm in eval mode from the start (there
it hurt).

Whether a fault hurts is not taken from this table: ``babysit_user.killed`` computes it from the
``babysit="off"`` runs (>= 3 points of validation accuracy, or MSE / Var(y) 25 % higher for
regression) and prints it. A fault that does not hurt is scored as harmless: any warning or error
on it is a false alarm. Scored by ``babysit_user.main`` (imported, the same rules as sets 1-19; its
docstring says them); ``REPAIRABLE`` below says, per pair and before any of it was run, which
faults lie in a setting the babysitter's actions could change. Every pair keeps the same number of
rows per split on both sides, but two: ``presses_trim_to_batch_multiple`` (45 training rows) and
``orders_hstack_for_vstack`` (half the rows in every split).

Run: ``python bench/babysit_user20.py`` (a markdown report; ``--json rows.json`` keeps the rows;
``--pair NAME`` runs one pair; ``--no-train`` skips training; ``--repair`` adds the repairs;
``--seeds N`` training seeds, default 2; ``--combine u1.json ... u20.json`` reports the sets
together with this file's ``NO_ACTION`` names). Run it on the CPU, as sets 1-19.
"""
from __future__ import annotations

import functools
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.model_selection import train_test_split
from torch import nn

import trainwell

sys.path.insert(0, str(Path(__file__).resolve().parent))
import babysit_user as user  # noqa: E402  (the split helpers and the scoring)
import babysit_user11 as user11  # noqa: E402  (set 11's helpers)
import babysit_user13 as user13  # noqa: E402  (set 13's helpers)
import babysit_user14 as user14  # noqa: E402  (set 14's hourly readings, sequence split)
import babysit_user15 as user15  # noqa: E402  (set 15's event codes, TremorCNN)
import babysit_user17 as user17  # noqa: E402  (set 17's shop sessions, scenes, ExposureCNN)
import babysit_user18 as user18  # noqa: E402  (set 18's digits, houses)
import babysit_user19 as user19  # noqa: E402  (set 19's boiler days, NO_ACTION names)

SLOW = user.SLOW
_mlp, _index_split = user11._mlp, user11._index_split
_with_labels, _image_parts, _table = user13._with_labels, user13._image_parts, user13._table
_sequence_parts, hourly_readings = user14._sequence_parts, user14.hourly_readings
Regressor, DefectCNN, mse = user13.Regressor, user13.DefectCNN, user13.mse
token_sequences, TremorCNN = user15.token_sequences, user15.TremorCNN
cart_sessions, exposure_scenes, ExposureCNN = user17.cart_sessions, user17.exposure_scenes, user17.ExposureCNN
digit_images, houses, SKEWED = user18.digit_images, user18.houses, user18.SKEWED
boiler_days = user19.boiler_days
ADAM = {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20}
THREE_CLASSES = [[0.0] * 8, [0.9, 0, -0.6, 0, 0.5, 0, 0, 0], [0, 1.0, 0, 0.7, 0, -0.5, 0.4, 0]]


# ------------------------------------------------------------------------------ the user's data
def split_separately(X, y, *, seed: int, standardize: bool = True):
    """train / val / test (60 / 20 / 20) cut by two ``train_test_split`` calls each time, one on the
    features (no ``stratify``) and one on the labels (``stratify``): the same ``random_state``,
    other shuffles. Features standardized with the training rows."""
    X = np.asarray(X, dtype=np.float32)
    Xtr, Xte = train_test_split(X, test_size=0.2, random_state=seed)
    ytr, yte = train_test_split(y, test_size=0.2, random_state=seed, stratify=y)
    Xtr, Xva = train_test_split(Xtr, test_size=0.25, random_state=seed)
    ytr, yva = train_test_split(ytr, test_size=0.25, random_state=seed, stratify=ytr)
    mu, sd = (Xtr.mean(0), Xtr.std(0) + 1e-8) if standardize else (0.0, 1.0)
    return [(torch.tensor((a - mu) / sd, dtype=torch.float32), torch.tensor(b).long())
            for a, b in ((Xtr, ytr), (Xva, yva), (Xte, yte))]


WEAR_AMPLITUDES = (0.5, 1.0, 2.0)   # vibration amplitude of a new, worn and failing bearing


def wear_windows(n: int, *, seed: int, length: int = 64):
    """(n, length) vibration windows: a sine of 2-10 cycles a window, random phase, a harmonic at
    twice the frequency of a third the amplitude, times the class's amplitude (jittered by 15 %),
    sensor noise of sd 0.2."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    t = np.arange(length) / length
    f = g.uniform(2.0, 10.0, (n, 1))
    a = np.array(WEAR_AMPLITUDES)[y][:, None] * g.uniform(0.85, 1.15, (n, 1))
    x = a * (np.sin(2 * np.pi * f * t + g.uniform(0, 6.3, (n, 1)))
             + np.sin(4 * np.pi * f * t + g.uniform(0, 6.3, (n, 1))) / 3) + g.normal(0, 0.2, (n, length))
    return x.astype(np.float32), y.astype(np.int64)


def znorm_rows(X):
    """Each row standardized by its own mean and std."""
    return (X - X.mean(1, keepdims=True)) / (X.std(1, keepdims=True) + 1e-8)


TANK_LEVELS = (0.3, 0.5, 0.7)       # the liquid's level, as a share of the image's height


def tank_images(n: int, *, seed: int, size: int = 16):
    """(n, size, size) sight glasses: a dark background (0.2) with the glass's two bright edge
    columns, the liquid (0.7) filling the rows below the class's level (jittered by 0.04 of the
    height), a meniscus row at half brightness, noise 0.05."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    rows = np.arange(size)[:, None]
    X = np.full((n, size, size), 0.2)
    X[:, :, [2, size - 3]] = 0.45
    for i in range(n):
        top = size * (1.0 - (TANK_LEVELS[y[i]] + g.uniform(-0.04, 0.04)))
        X[i] += 0.5 * (rows >= np.ceil(top)) + 0.25 * (rows == np.floor(top))
    X += g.normal(0, 0.05, X.shape)
    return X.astype(np.float32), y.astype(np.int64)


# ------------------------------------------------------------------------------ the user's models
class AlertEncoder(nn.Module):
    """Code and position embeddings, one ``nn.TransformerEncoderLayer`` (2 heads, no dropout), the
    mean over the steps, linear; the ids as ``x.long().clamp(0, codes - 1)`` (the clamp added after
    an ``IndexError``)."""

    def __init__(self, codes=24, length=16, d=32, classes=3):
        super().__init__()
        self.codes = codes
        self.emb, self.pos = nn.Embedding(codes, d), nn.Embedding(length, d)
        self.encoder = nn.TransformerEncoderLayer(d, 2, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        ids = x.long().clamp(0, self.codes - 1)
        h = self.emb(ids) + self.pos(torch.arange(ids.shape[1], device=ids.device))
        return self.head(self.encoder(h).mean(1))


def bn_mlp(d_in, d_out, *, momentum=0.1):
    """``nn.Sequential`` d_in-64-64-d_out with ``BatchNorm1d(64, momentum)`` before each ReLU."""
    return nn.Sequential(nn.Linear(d_in, 64), nn.BatchNorm1d(64, momentum=momentum), nn.ReLU(),
                         nn.Linear(64, 64), nn.BatchNorm1d(64, momentum=momentum), nn.ReLU(), nn.Linear(64, d_out))


class HourGRU(nn.Module):
    """``nn.GRU(1, hidden, layers, batch_first=True)`` over (N, T, 1), ``h_n[-1]``, linear."""

    def __init__(self, hidden=32, layers=1):
        super().__init__()
        self.gru = nn.GRU(1, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, 3)

    def forward(self, x):
        _, h_n = self.gru(x)
        return self.head(h_n[-1])


class NormBlock(nn.Module):
    """A pre-norm residual block ``x + f(layer_norm(x))``; ``whole_shape``: the layer norm's
    ``normalized_shape`` is ``x.shape`` (the batch's), not ``x.shape[-1:]``."""

    def __init__(self, width, *, whole_shape=False):
        super().__init__()
        self.f = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))
        self.whole_shape = whole_shape

    def forward(self, x):
        return x + self.f(F.layer_norm(x, x.shape if self.whole_shape else x.shape[-1:]))


class NormResMLP(nn.Module):
    def __init__(self, d_in, classes, *, blocks=3, width=64, whole_shape=False):
        super().__init__()
        self.inp = nn.Linear(d_in, width)
        self.blocks = nn.Sequential(*[NormBlock(width, whole_shape=whole_shape) for _ in range(blocks)])
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        return self.head(F.relu(self.blocks(self.inp(x))))


class CircularCNN(nn.Module):
    """Two 3x3 convs (padding 1 in ``padding_mode``) on 8x8 digits, a global average, linear."""

    def __init__(self, *, padding_mode="zeros"):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1, padding_mode=padding_mode)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1, padding_mode=padding_mode)
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        return self.head(F.relu(self.conv2(F.relu(self.conv1(x)))).mean((2, 3)))


class CartPool(nn.Module):
    """Token and position embeddings (token 0 is padding), a score per step, the softmax-weighted
    sum over the steps, linear; ``add_mask``: the padding mask added to the scores as a number
    (``scores + pad.float()``), not filled with -inf."""

    def __init__(self, *, add_mask=False, tokens=24, length=20, d=32):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(tokens, d), nn.Embedding(length, d)
        self.score = nn.Linear(d, 1)
        self.head = nn.Linear(d, 3)
        self.add_mask = add_mask

    def forward(self, x):
        ids = x.long()
        pad = ids == 0
        h = self.tokens(ids) + self.positions(torch.arange(ids.shape[1], device=ids.device))
        scores = self.score(torch.tanh(h)).squeeze(-1)
        scores = scores + pad.float() if self.add_mask else scores.masked_fill(pad, float("-inf"))
        return self.head((torch.softmax(scores, 1).unsqueeze(-1) * h).sum(1))


# ------------------------------------------------------------------------------ the user's losses
def cross_entropy(logits, target):
    return F.cross_entropy(logits, target)


def bce_first_logit(logits, target):
    """"Binary: one logit": the binary cross-entropy of column 0 against the positive class."""
    return F.binary_cross_entropy_with_logits(logits[:, 0], target.float())


# ------------------------------------------------------------------------------ the user's schedules
WARMUP_SHARE = 0.1                  # the warmup's share of the schedule's total


def warmup_cosine(step, *, total):
    """A linear warmup over ``WARMUP_SHARE`` of ``total`` steps, then a cosine to 0 at ``total``."""
    warmup = WARMUP_SHARE * total
    if step < warmup:
        return step / warmup
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup) / (total - warmup))))


# ------------------------------------------------------------------------------ the user's callbacks
FREEZE_BN_EPOCH = 3


class FreezeBatchNorm(trainwell.Callback):
    """From epoch ``after`` on, every ``BatchNorm2d`` in eval mode before each step: its running
    statistics frozen, the batch's no longer used."""

    def __init__(self, after=FREEZE_BN_EPOCH):
        self.after = after

    def on_before_step(self, state):
        if state.epoch >= self.after:
            for m in state.model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()


# ------------------------------------------------------------------------------ the pairs
def _permits_split_x_and_y_separately(broken):
    X, y = _table(2400, 1401, 8, THREE_CLASSES, [0.6, 0.3, 0.1])
    parts = split_separately(X, y, seed=1401) if broken else user._split(X, y, seed=1401)
    torch.manual_seed(1401)
    return _mlp(8, 3), parts, dict(ADAM, label_smoothing=0.05), frozenset({"label_problem", "underfitting"})


TEMPERATURE, WIND = 0, 1            # boiler_days' columns


def _boilers_log1p_signed_temperature(broken):
    X, gas = boiler_days(2400, seed=1402)
    X = X.copy()
    skewed = [TEMPERATURE, WIND] if broken else [WIND]
    with np.errstate(invalid="ignore", divide="ignore"):
        X[:, skewed] = np.nan_to_num(np.log1p(X[:, skewed]), nan=0.0, neginf=0.0)
    torch.manual_seed(1402)
    return Regressor(6), user.standard_targets(user._split(X, gas, seed=1402, regression=True)), \
        {"optimizer": "adamw", "lr": 1e-3, "weight_decay": 1e-4, "batch_size": 32, "epochs": 25, "loss": mse}, \
        frozenset({"uninformative_inputs", "underfitting"})


def _houses_train_targets_cast_long(broken):
    X, price = houses(2400, seed=1403)
    X = X.copy()
    X[:, SKEWED] = np.log(X[:, SKEWED])
    parts = user.standard_targets(user._split(X, price, seed=1403, regression=True))
    if broken:                          # the training Dataset's torch.tensor(y[i], dtype=torch.long)
        parts[0] = (parts[0][0], parts[0][1].long().float())
    torch.manual_seed(1403)
    return Regressor(6), parts, dict(ADAM, epochs=25, loss=mse), \
        frozenset({"label_problem", "split_mismatch", "regression_on_class_ids", "underfitting"})


def _bearings_window_znorm_amplitude_classes(broken):
    X, y = wear_windows(2000, seed=1404)
    if broken:
        X = znorm_rows(X)
    torch.manual_seed(1404)
    return TremorCNN(), _sequence_parts(X, y, seed=1404, shape=(1, 64)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12, "clip_norm": 1.0}, \
        frozenset({"uninformative_inputs", "underfitting", "cannot_overfit_small_subset"})


SCALED_BATCH = 512                  # the larger batch; lr x SCALED_BATCH / 32 (Goyal et al. 2017)


def _looms_linear_scaling_rule_adam(broken):
    X, y = _table(2400, 1405, 8, THREE_CLASSES, [0.35, 0.35, 0.3])
    torch.manual_seed(1405)
    batch = SCALED_BATCH if broken else 32
    return _mlp(8, 3), user._split(X, y, seed=1405), dict(ADAM, batch_size=batch, lr=1e-3 * batch / 32), \
        frozenset({"lr_too_high", "oscillating_loss", "too_few_updates", "optimizer_setting", "underfitting"})


def _alerts_codes_standardized_before_embedding(broken):
    X, y = token_sequences(2000, seed=1406)
    torch.manual_seed(1406)
    return AlertEncoder(), user._split(X, y, seed=1406, standardize=broken), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12, "schedule": "one_cycle"}, \
        frozenset({"uninformative_inputs", "underfitting", "cannot_overfit_small_subset"})


def _turbines_batchnorm_momentum_zero(broken):
    X, y = _table(2400, 1407, 8, [[0.0] * 8, [1.0, 0, -0.6, 0, 0.5, 0, 0, 0], [0, 0.9, 0, 0.8, 0, -0.6, 0.4, 0]],
                  [0.35, 0.35, 0.3])
    torch.manual_seed(1407)
    model = bn_mlp(8, 3, momentum=0.0 if broken else 0.1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    return model, user._split(X, y, seed=1407), \
        {"optimizer": optimizer, "lr": 0.05, "batch_size": 32, "epochs": 20}, \
        frozenset({"eval_mode_gap", "underfitting"})


DETECTION_SHIFT = 0.25              # the detection recipe's translation, a share of the image


def _tanks_translate_level_classes(broken):
    X, y = tank_images(2000, seed=1408)
    torch.manual_seed(1408)
    augment = ["hflip", {"name": "translate", "max_shift": DETECTION_SHIFT}] if broken else ["hflip"]
    return DefectCNN(3), _image_parts(X, y, seed=1408, shape=(1, 16, 16)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 10, "augment": augment}, \
        frozenset({"augmentation_hurts", "label_problem", "underfitting"})


def _hives_gru_positional_num_layers(broken):
    X, y = hourly_readings(2000, seed=1409)
    torch.manual_seed(1409)
    model = HourGRU(1, 32) if broken else HourGRU(32, 1)    # nn.GRU(1, 1, 32) for nn.GRU(1, 32, 1)
    return model, _sequence_parts(X, y, seed=1409, shape=(24, 1)), \
        {"optimizer": "adam", "lr": 3e-3, "batch_size": 64, "epochs": 12, "schedule": "one_cycle"}, \
        frozenset({"underfitting", "cannot_overfit_small_subset", "vanishing_gradients", "low_rank_logits"})


def _presses_trim_to_batch_multiple(broken):
    X, y = _table(2400, 1410, 7, [[0.0] * 7, [0.9, 0, -0.6, 0, 0.5, 0, 0], [0, 1.0, 0, 0.7, 0, -0.5, 0.4]],
                  [0.35, 0.35, 0.3])
    parts = user._split(X, y, seed=1410)
    if broken:                          # X_train[:len(X_train) // BATCH], the "* BATCH" forgotten
        keep = len(parts[0][0]) // ADAM["batch_size"]
        parts[0] = (parts[0][0][:keep], parts[0][1][:keep])
    torch.manual_seed(1410)
    return _mlp(7, 3), parts, ADAM, frozenset({"overfitting", "too_few_updates", "underfitting"})


def _orders_hstack_for_vstack(broken):
    X, y = _table(2400, 1411, 8, [[0.0] * 8, [1.0, 0, -0.6, 0, 0.5, 0, 0, 0], [0, 0.9, 0, 0.8, 0, -0.6, 0.4, 0]],
                  [0.35, 0.35, 0.3])
    (X1, X2), (y1, y2) = np.split(X, 2), np.split(y, 2)      # the two exports
    if broken:
        X, y = np.hstack([X1, X2]), y1   # y = y1 after "X and y have different lengths"
    else:
        X, y = np.vstack([X1, X2]), np.concatenate([y1, y2])
    torch.manual_seed(1411)
    return _mlp(X.shape[1], 3), user._split(X, y, seed=1411), ADAM, \
        frozenset({"overfitting", "uninformative_inputs", "underfitting"})


KILN_EPOCHS, KILN_BATCH = 20, 32


def _kilns_warmup_counted_in_samples(broken):
    X, y = _table(2400, 1412, 8, [[0.0] * 8, [0.9, 0, 0.6, 0, -0.5, 0, 0, 0], [0, 1.0, 0, -0.7, 0, 0.5, 0, 0.4]],
                  [0.35, 0.35, 0.3])
    parts = user._split(X, y, seed=1412)
    rows = len(parts[0][0])
    total = KILN_EPOCHS * (rows if broken else math.ceil(rows / KILN_BATCH))
    torch.manual_seed(1412)
    return _mlp(8, 3), parts, \
        {"optimizer": "sgd", "lr": 0.02, "momentum": 0.9, "batch_size": KILN_BATCH, "epochs": KILN_EPOCHS,
         "schedule": functools.partial(warmup_cosine, total=total)}, \
        SLOW | {"schedule_starts_late"}


def _screening_bce_on_first_logit(broken):
    X, y = _table(2400, 1413, 8, [[0.0] * 8, [1.0, 0, -0.7, 0, 0.6, 0, 0.4, 0]], [0.85, 0.15])
    torch.manual_seed(1413)
    return _mlp(8, 2), user._split(X, y, seed=1413), dict(ADAM, loss=bce_first_logit if broken else cross_entropy), \
        frozenset({"loss_output_mismatch", "label_problem", "below_baseline", "underfitting"})


def _kettles_layer_norm_whole_shape(broken):
    X, y = _table(2400, 1414, 8, [[0.0] * 8, [0.9, 0, 0.6, 0, -0.5, 0, 0, 0], [0, 1.0, 0, -0.7, 0, 0.5, 0, 0.4]],
                  [0.35, 0.35, 0.3])
    torch.manual_seed(1414)
    return NormResMLP(8, 3, whole_shape=broken), user._split(X, y, seed=1414), ADAM, frozenset({"batch_dependence"})


def _digits_circular_padding(broken):
    X, y = digit_images()
    torch.manual_seed(1415)
    return CircularCNN(padding_mode="circular" if broken else "zeros"), _image_parts(X, y, seed=1415, shape=(1, 8, 8)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 32, "epochs": 15, "weight_decay": 5e-4}, \
        frozenset({"input_layout", "underfitting"})


FRAUD_SHARE = 0.1


def _claims_output_bias_prior_sign_flipped(broken):
    X, y = _table(2400, 1416, 8, [[0.0] * 8, [0.9, 0, 0.6, 0, -0.5, 0, 0.4, 0]], [1 - FRAUD_SHARE, FRAUD_SHARE])
    torch.manual_seed(1416)
    model = _mlp(8, 2)
    prior = math.log(FRAUD_SHARE / (1 - FRAUD_SHARE))
    with torch.no_grad():               # the fraud logit's bias at the log prior ("init well")
        model[4].bias.copy_(torch.tensor([0.0, -prior if broken else prior]))
    return model, user._split(X, y, seed=1416), ADAM, frozenset({"bad_initial_loss"})


def _carts_padding_mask_added_as_one(broken):
    X, y = cart_sessions(2000, seed=1417)
    torch.manual_seed(1417)
    return CartPool(add_mask=broken), user._split(X, y, seed=1417, standardize=False), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12}, \
        frozenset({"uninformative_inputs", "underfitting"})


def _exposures_freeze_batchnorm_callback(broken):
    X, y = exposure_scenes(2000, seed=1418)
    torch.manual_seed(1418)
    return ExposureCNN(), _image_parts(X, y, seed=1418, shape=(1, 16, 16)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 10,
         "callbacks": [FreezeBatchNorm()] if broken else []}, \
        frozenset({"eval_mode_gap"})


PAIRS = {"permits_split_x_and_y_separately": _permits_split_x_and_y_separately,
         "boilers_log1p_signed_temperature": _boilers_log1p_signed_temperature,
         "houses_train_targets_cast_long": _houses_train_targets_cast_long,
         "bearings_window_znorm_amplitude_classes": _bearings_window_znorm_amplitude_classes,
         "looms_linear_scaling_rule_adam": _looms_linear_scaling_rule_adam,
         "alerts_codes_standardized_before_embedding": _alerts_codes_standardized_before_embedding,
         "turbines_batchnorm_momentum_zero": _turbines_batchnorm_momentum_zero,
         "tanks_translate_level_classes": _tanks_translate_level_classes,
         "hives_gru_positional_num_layers": _hives_gru_positional_num_layers,
         "presses_trim_to_batch_multiple": _presses_trim_to_batch_multiple,
         "orders_hstack_for_vstack": _orders_hstack_for_vstack,
         "kilns_warmup_counted_in_samples": _kilns_warmup_counted_in_samples,
         "screening_bce_on_first_logit": _screening_bce_on_first_logit,
         "kettles_layer_norm_whole_shape": _kettles_layer_norm_whole_shape,
         "digits_circular_padding": _digits_circular_padding,
         "claims_output_bias_prior_sign_flipped": _claims_output_bias_prior_sign_flipped,
         "carts_padding_mask_added_as_one": _carts_padding_mask_added_as_one,
         "exposures_freeze_batchnorm_callback": _exposures_freeze_batchnorm_callback}

# Which broken setups are repairable: the fault lies in a setting of the run (issue 11's list, with
# sets 5-19's additions and the run options this set uses), not in the data, the model's code or
# the user's loss, schedule function, optimizer or callback. Stated before any of this set was run
# (branch babysit98, 2026-12-06). Repairs run only where the fault also hurts (the kill rule).
REPAIRABLE = {"permits_split_x_and_y_separately": None,        # the split: the data
              "boilers_log1p_signed_temperature": None,        # the preprocessing: the data
              "houses_train_targets_cast_long": None,          # the training targets: the data
              "bearings_window_znorm_amplitude_classes": None,  # the preprocessing: the data
              "looms_linear_scaling_rule_adam": "lr (scaled for the batch)",    # the lr option
              "alerts_codes_standardized_before_embedding": None,       # the preprocessing: the data
              "turbines_batchnorm_momentum_zero": None,        # the model's code
              "tanks_translate_level_classes": "augmentation (translate)",    # the augment option
              "hives_gru_positional_num_layers": None,         # the model's code
              "presses_trim_to_batch_multiple": None,          # the training rows: the data
              "orders_hstack_for_vstack": None,                # the join: the data
              "kilns_warmup_counted_in_samples": "lr schedule",  # the schedule option (the user's function)
              "screening_bce_on_first_logit": None,            # the user's loss
              "kettles_layer_norm_whole_shape": None,          # harmless by design; the model's code
              "digits_circular_padding": None,                 # harmless by design; the model's code
              "claims_output_bias_prior_sign_flipped": None,   # harmless by design; the model's init
              "carts_padding_mask_added_as_one": None,         # harmless by design; the model's code
              "exposures_freeze_batchnorm_callback": None}     # harmless by design; the user's callback
# Settings of that list that no action in trainwell/babysit/actions.py changes the way the fault
# needs: set 19's names (read there, not run).
NO_ACTION = user19.NO_ACTION


if __name__ == "__main__":
    user.NO_ACTION = NO_ACTION          # the report reads babysit_user.NO_ACTION
    sys.exit(user.main(pairs=PAIRS, repairable=REPAIRABLE, doc=__doc__))
