"""A fifteenth held-out set of setups written as users write them: measured, never tuned on.

Issue 11 asks for the babysitter's quality on setups nobody tuned it for. Sets 1-14
(``babysit_user.py`` .. ``babysit_user14.py``) were read, and partly developed on, by the engineers
changing the babysitter; this fifteenth set was written (branch babysit72, 2026-12-06) and
committed before any of it was run, so that it measures the merged result of the work going on
now: it is only measured, nobody tunes on it. 19 pairs, each the user's own ``nn.Module`` (or an
``nn.Sequential``) on data generated here (nothing downloads), a healthy setup and the same setup
with one fault: 14 meant to hurt, 5 harmless on purpose.

| pair | data | model, training | healthy | fault (expected codes) |
| --- | --- | --- | --- | --- |
| tremors_downsample_stride_aliasing | 64-step accelerometer windows: a sine of 12, 20 or 28 cycles a window (rest, postural, kinetic tremor), random phase | TremorCNN (1-D convs, mean and max over time), Adam | the windows as recorded | ``x[:, ::4]`` "downsample 4x for speed", no low-pass filter: all three frequencies alias to 4 cycles (uninformative_inputs, underfitting, cannot_overfit_small_subset, slow learning) |
| bookings_merge_suffix_label | hotel bookings: 8 measurements; cancelled or not | ``nn.Sequential`` 8-64-64-2, Adam | ``cancelled_x`` after ``bookings.merge(customers)`` (the booking's) | ``cancelled_y``, the customer table's column of the same name (the previous booking's; agrees 62 %) (label_problem, underfitting) |
| pellets_gaussian_filter_stack | 16x16 trays with one bright pellet of radius 1.5, 2.5 or 3.5 (the class) | DefectCNN (set 13's, 3 classes), Adam | ``ndimage.gaussian_filter(stack, sigma=(0, 1, 1))`` "denoise" | ``sigma=1.0`` on the (N, H, W) stack: each tray blurred with its neighbours in the file (uninformative_inputs, label_problem, underfitting) |
| pellets_scale_augment_size_classes | pellets as above | DefectCNN, a TOML config: Adam, ``augment = [{name = "scale", ...}]`` | zoom 0.9-1.1 | zoom 0.5-1.5 from a detection recipe, on classes that are sizes (augmentation_hurts, underfitting) |
| gauges_lstm_prepadded_packed | gauge readings of 8-30 steps, zero-padded to 30: rising, falling, flat about a random level | GaugeLSTM (lengths from the non-zero steps, ``pack_padded_sequence``, ``h_n[-1]``), Adam | padded at the end | Keras' ``pad_sequences`` (``padding="pre"`` by default): the packing reads the first ``length`` steps, mostly padding (uninformative_inputs, underfitting, cannot_overfit_small_subset, slow learning) |
| defects_ce_sigmoid_probs | set 13's 16x16 defect images (pit, line, ring, blotch) | DefectCNN, Adam, the user's cross-entropy | ``-log softmax(z)[y]`` | ``-log sigmoid(z)[y]`` "probabilities between 0 and 1": nothing pushes the other classes down (loss_output_mismatch, underfitting) |
| fleet_freeze_body_from_scratch | fleet vehicles: 8 measurements, classes with strong interactions | ``nn.Sequential`` 8-64-64-3, ``fit(**options)``: Adam | no freezing | ``freeze=["body"], unfreeze_at=3`` of a fine-tuning recipe on a model trained from scratch: random features for 3 epochs, then the body at 1/10 of the lr (frozen_parameters, underfitting, slow learning) |
| houses_thousands_separator_coerced | house listings: area (sq ft, text "1,234"), rooms, age, distance, lot, garage; price (regression) | Regressor 6-64-64-1, Adam, MSE | the separator removed before ``pd.to_numeric`` | ``pd.to_numeric(errors="coerce").fillna(0)``: every area from 1,000 sq ft is 0 (uninformative_inputs, underfitting) |
| presses_wgan_weight_clip_callback | press strokes: 6 measurements; peak force (regression) | Regressor, Adam, MSE | no callback | a callback clamping every weight to [-0.01, 0.01] after each step, a WGAN critic's clipping kept from the GAN code (regularization_too_strong, underfitting) |
| fraud_zscore_outliers_dropped | card transactions: 8 measurements; ok, chargeback risk, fraud (8 %, far out on amount, velocity, distance) | ``nn.Sequential`` 8-64-64-3, Adam | every training row | "remove outliers": training rows with any abs z-score above 3 dropped, most fraud rows with them (class_imbalance, split_mismatch, underfitting) |
| presses_window_labels_stride_one | one press's vibration series in regimes (idle, running, worn) cut in 32-step windows | WindowGRU (GRU 1-32, ``h_n[-1]``), Adam | each window's label at its own last step | the label loop steps by 1 where the windows step by 32: window k gets the regime at step k + 31 (label_problem, underfitting) |
| kettles_swa_from_start | kettle tests: 8 measurements, 3 classes | ``nn.Sequential`` 8-64-64-3, a TOML config: Adam, ``average = {method = "swa"}`` | the default start (0.75) | ``start = 0.0`` "average the whole run": the early epochs' weights in the average (underfitting, slow learning) |
| pumps_adagrad_keras_accumulator | pumps: 7 measurements, 3 classes | ``nn.Sequential`` 7-64-64-3, ``torch.optim.Adagrad`` lr 0.01 | ``optimizer_options = {}`` | ``{"initial_accumulator_value": 0.1}``, Keras' default, "to match the Keras model" (optimizer_setting, slow learning) |
| vials_warmup_callback_uncapped | vial inspections: 8 measurements, 3 classes | ``nn.Sequential`` 8-64-64-3, momentum SGD lr 0.02, constant schedule, the user's warmup callback | ``lr * min(1, step / 50)`` | ``lr * step / 50``, the ``min`` left out: the lr keeps growing (diverged, oscillating_loss) |
| alerts_attention_scaled_by_d | 16 event codes with one of three alert codes anywhere | TokenAttention (code and position embeddings, one self-attention head written out, mean, linear), Adam | scores / sqrt(32) | scores / 32 (harmless by design: softer attention at the start, q and k learn their scale) |
| chips_focal_loss_balanced | set 13's defect images | DefectCNN, Adam | ``F.cross_entropy`` | focal loss (gamma 2) "for hard examples" on balanced classes (harmless by design) |
| turbines_dcgan_betas | turbines: 8 measurements, 3 classes | ``nn.Sequential`` 8-64-64-3, ``fit(**options)``: Adam | ``betas = [0.9, 0.999]`` | ``[0.5, 0.999]`` of the DCGAN recipe (harmless by design) |
| meters_loss_over_config_batch | heat meters: flow, temperatures, hours, age, insulation; energy (regression) | Regressor, Adam, the user's loss | MSE | the squared errors summed and divided by the config's batch size (64): the last, smaller batch weighs less (harmless by design) |
| plants_replacement_sampling | plants: 7 measurements, 3 classes | ``nn.Sequential`` 7-64-64-3, a TOML config: Adam | reshuffled every epoch | ``replacement = true`` "canonical SGD samples with replacement" (harmless by design) |

**What is new against sets 1-14.** Data: all generated here (accelerometer windows, hotel bookings,
pellet trays, gauge readings, fleet vehicles, house listings as text, press strokes, card
transactions, a press's vibration series in regimes, kettles, pumps, vials, event codes, turbines,
heat meters, plants; set 13's defect images). Models: a 1-D CNN on windows of any length, an LSTM
over packed sequences with lengths from the padding, a GRU over windows, one self-attention head
written out. Losses: a cross-entropy with sigmoid probabilities, a focal loss, squared errors over
a fixed batch size. Training choices: two TOML configs (``augment`` scale, ``average`` SWA),
``fit(**options)`` (``freeze``/``unfreeze_at``, ``betas``), a torch optimizer class with
``optimizer_options``, two callbacks (a weight clip, a warmup), ``replacement``. Faults (none in
sets 1-14, nor in issue 11's list): decimating without an anti-alias filter, a label from the
other table's column after a merge, a filter over the stack's batch axis, a zoom augmentation on
size classes, Keras' pre-padding under PyTorch's packing, sigmoid probabilities in a softmax
cross-entropy, a fine-tuning recipe's freeze on a model trained from scratch, thousands separators
coerced to missing, a WGAN weight clip kept in a callback, an outlier filter that drops the rare
class, window labels stepped by 1, SWA from the first epoch, Keras' Adagrad accumulator, an
uncapped warmup; harmless on purpose: attention scores over d, a focal loss on balanced classes,
DCGAN's betas, a loss over the config's batch size, sampling with replacement. The nearest to
earlier faults: the decimation against set 8's max pool on the input and set 10's ``np.resize``
(information removed before the model; here by aliasing), the merge's label column against set
6's target column in other files (here every split the wrong outcome), the stack filter against
set 14's flip of the batch axis (there in ``forward``, here in the data), the zoom against set
5's ``hflip`` (an augmentation that changes the class) and set 8's noise, the pre-padding against
set 8's ``out[:, -1]`` and set 10's sorted lengths (reading the wrong steps of padded rows), the
freeze against set 3's frozen convolutions (there in the user's code, for ever), the separators
against set 11's ``astype(bool)`` and leading zeros (text parsed into the wrong numbers), the
outlier filter against set 9's undersampling and trimmed targets (training rows left out; here by
the inputs), the window labels against set 8's next window (labels a step off; here ever further
off), SWA against set 8's EMA decay, the Adagrad accumulator against set 1's Adam eps (a
denominator too large; here a different optimizer and key), the warmup against set 5's long
warmup (a warmup gone wrong; here the lr never stops growing), DCGAN's betas against set 7's
swapped betas. Not written because trainwell refuses them (read in trainwell/, not run): none
found (if a run raises, the harness scores it).

Whether a fault hurts is not taken from this table: ``babysit_user.killed`` computes it from the
``babysit="off"`` runs (>= 3 points of validation accuracy, or MSE / Var(y) 25 % higher for
regression) and prints it. A fault that does not hurt is scored as harmless: any warning or error
on it is a false alarm. Scored by ``babysit_user.main`` (imported, the same rules as sets 1-14; its
docstring says them); ``REPAIRABLE`` below says, per pair and before any of it was run, which
faults lie in a setting the babysitter's actions could change. Every pair keeps the same number of
rows per split on both sides except the fraud pair, whose broken side drops training rows; the
window pair's two sides split different labels (stratified), so which window lands in which split
differs.

Run: ``python bench/babysit_user15.py`` (a markdown report; ``--json rows.json`` keeps the rows;
``--pair NAME`` runs one pair; ``--no-train`` skips training; ``--repair`` adds the repairs;
``--seeds N`` training seeds, default 2; ``--combine u1.json ... u15.json`` reports the sets
together with this file's ``NO_ACTION`` names). Run it on the CPU, as sets 1-14.
"""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

import trainwell

sys.path.insert(0, str(Path(__file__).resolve().parent))
import babysit_user as user  # noqa: E402  (the split helpers and the scoring)
import babysit_user11 as user11  # noqa: E402  (set 11's helpers)
import babysit_user13 as user13  # noqa: E402  (set 13's helpers)
import babysit_user14 as user14  # noqa: E402  (set 14's helpers and NO_ACTION names, for --combine)

DIVERGED, SLOW = user.DIVERGED, user.SLOW
_mlp, _index_split = user11._mlp, user11._index_split
_standardized, _with_labels, _image_parts, _table = (user13._standardized, user13._with_labels,
                                                      user13._image_parts, user13._table)
_sequence_parts, CANNOT_LEARN = user14._sequence_parts, user13.CANNOT_LEARN
Regressor, DefectCNN, mse, defect_images = user13.Regressor, user13.DefectCNN, user13.mse, user13.defect_images


# ------------------------------------------------------------------------------ the user's data
TREMOR_CYCLES = (12, 20, 28)        # cycles a 64-step window: rest, postural, kinetic tremor


def tremor_windows(n: int, *, seed: int, length: int = 64):
    """(n, length) accelerometer windows: a sine of 12, 20 or 28 cycles a window (the class), random
    phase and amplitude 0.7-1.3, noise 0.3."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    t = np.arange(length)
    f = np.asarray(TREMOR_CYCLES)[y][:, None]
    X = g.uniform(0.7, 1.3, (n, 1)) * np.sin(2 * np.pi * f * t / length + g.uniform(0, 2 * np.pi, (n, 1)))
    return (X + g.normal(0, 0.3, X.shape)).astype(np.float32), y.astype(np.int64)


def bookings(n: int, *, seed: int):
    """Hotel bookings: 8 measurements (lead time, stay, price, deposit, ...); ``cancelled`` (this
    booking) from linear terms and an interaction, and the customer table's own ``cancelled`` (the
    customer's previous booking): the same outcome for 62 % of the rows, otherwise the other."""
    X, y = _table(n, seed, 8, [[0.0] * 8, [0.9, -0.6, 0, 0.5, 0, 0, 0.4, 0]], [0.6, 0.4], noise=0.5)
    g = np.random.default_rng(seed + 1)
    previous = np.where(g.random(n) < 0.62, y, 1 - y)
    return X, y, previous


PELLET_RADII = (1.5, 2.5, 3.5)      # small, medium, large (pixels)


def pellet_images(n: int, *, seed: int, size: int = 16):
    """(n, size, size) grey trays (0.4, noise 0.05) with one bright pellet (+0.3) of radius 1.5, 2.5
    or 3.5 (the class) anywhere 5 pixels from the rim."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    r, c = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    img = 0.4 + g.normal(0, 0.05, (n, size, size))
    for i in range(n):
        pr, pc = g.uniform(5, size - 6, 2)
        img[i][np.hypot(r - pr, c - pc) <= PELLET_RADII[y[i]]] += 0.3
    return img.astype(np.float32), y.astype(np.int64)


def gauge_sequences(n: int, *, seed: int, length: int = 30):
    """Gauge readings of 8-30 steps (the rest padded with 0.0): rising, falling or flat (slope +-1.5 or
    0 over the sequence) about a random level, noise 0.3; ``pre``: padded at the start, as Keras'
    ``pad_sequences`` does by default, else at the end."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    steps = g.integers(8, length + 1, n)
    slope = np.asarray([1.5, -1.5, 0.0])[y]
    seqs = [g.normal() + slope[i] * np.linspace(0, 1, s) + g.normal(0, 0.3, s) for i, s in enumerate(steps)]
    return seqs, y.astype(np.int64)


def pad(seqs, length: int, *, pre: bool):
    out = np.zeros((len(seqs), length), dtype=np.float32)
    for i, s in enumerate(seqs):
        if pre:
            out[i, length - len(s):] = s
        else:
            out[i, :len(s)] = s
    return out


def press_series(n_windows: int, *, seed: int, window: int = 32, mean_segment: int = 300):
    """One press's vibration series of ``n_windows * window`` steps in regimes (idle, running, worn:
    a period-8 sine of amplitude 0.3, 1.0, 2.0, noise 0.3), each regime lasting ~``mean_segment``
    steps; the regime at every step."""
    g = np.random.default_rng(seed)
    total = n_windows * window
    regime = np.empty(total, dtype=np.int64)
    at = 0
    while at < total:
        span = int(g.geometric(1.0 / mean_segment))
        regime[at:at + span] = g.integers(0, 3)
        at += span
    amp = np.asarray([0.3, 1.0, 2.0])[regime]
    t = np.arange(total)
    series = amp * np.sin(2 * np.pi * t / 8 + g.uniform(0, 2 * np.pi)) + g.normal(0, 0.3, total)
    return series.astype(np.float32), regime


def to_numeric_coerce(texts):
    """``pd.to_numeric(texts, errors="coerce")``: the number each text reads as, NaN where it reads as none."""
    def number(text):
        try:
            return float(text)
        except ValueError:
            return np.nan
    return np.asarray([number(t) for t in texts], dtype=np.float64)


def house_listings(n: int, *, seed: int):
    """House listings as the CSV holds them: living area in square feet as text with a thousands
    separator ("1,234"), rooms, age, distance to the centre (km), lot (m2), garage; price
    (regression), set mostly by the area."""
    g = np.random.default_rng(seed)
    area = np.exp(g.uniform(np.log(500), np.log(3500), n)).round()
    rooms = np.clip((area / 450 + g.normal(0, 0.8, n)).round(), 1, 9)
    age, dist = g.uniform(0, 80, n), g.gamma(2.0, 4.0, n)
    lot, garage = g.uniform(100, 900, n), (g.random(n) < 0.5).astype(float)
    price = 150 * area - 900 * age - 3000 * dist + 40 * lot + 12000 * garage + 4000 * rooms + g.normal(0, 25000, n)
    text = np.asarray([f"{int(a):,}" for a in area])
    return text, np.column_stack([rooms, age, dist, lot, garage]), price


def press_forces(n: int, *, seed: int):
    """Hydraulic press strokes: pressure, temperature, oil age, speed, die wear, stroke length;
    peak force (regression), with two interactions."""
    g = np.random.default_rng(seed)
    X = g.normal(size=(n, 6))
    y = (1.2 * X[:, 0] - 0.8 * X[:, 1] + 0.6 * X[:, 2] * X[:, 3] + 0.5 * np.tanh(2 * X[:, 4])
         + 0.4 * X[:, 5] ** 2 + g.normal(0, 0.3, n))
    return X, y


def transactions(n: int, *, seed: int):
    """Card transactions: 8 measurements (amount, velocity, distance from home, hour, ...), standard
    scores for ok and chargeback-risk rows; ok (57 %), risk (35 %), fraud (8 %); fraud rows lie
    8-12 standard deviations out on amount, velocity and distance."""
    g = np.random.default_rng(seed)
    y = g.choice(3, n, p=[0.57, 0.35, 0.08])
    X = g.normal(size=(n, 8))
    risk = y == 1
    X[risk, 3] += 1.2
    X[risk, 4] -= 1.0
    fraud = y == 2
    X[np.ix_(fraud, [0, 1, 2])] = g.uniform(8.0, 12.0, (int(fraud.sum()), 3))
    return X, y.astype(np.int64)


def token_sequences(n: int, *, seed: int, length: int = 16, codes: int = 24):
    """Sequences of ``length`` event codes (3-23 routine); one of three alert codes (0, 1, 2: the
    class) at a random place."""
    g = np.random.default_rng(seed)
    X = g.integers(3, codes, (n, length))
    y = g.integers(0, 3, n)
    X[np.arange(n), g.integers(0, length, n)] = y
    return X.astype(np.int64), y.astype(np.int64)


def meter_readings(n: int, *, seed: int):
    """Heat meters: flow, inlet and outlet temperature, hours, building age, insulation; energy
    (regression) from the flow times the temperature difference and the rest."""
    g = np.random.default_rng(seed)
    X = g.normal(size=(n, 6))
    y = 1.0 * X[:, 0] * (1.0 + 0.5 * (X[:, 1] - X[:, 2])) + 0.5 * X[:, 3] - 0.3 * X[:, 4] + 0.4 * X[:, 5] \
        + g.normal(0, 0.3, n)
    return X, y


# ------------------------------------------------------------------------------ the user's models
class TremorCNN(nn.Module):
    """1-D convs (5 taps), the mean and the max over time, a linear read-out: any window length."""

    def __init__(self, classes=3):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv1d(1, 16, 5, padding=2), nn.Conv1d(16, 32, 5, padding=2)
        self.out = nn.Linear(64, classes)

    def forward(self, x):
        h = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.out(torch.cat([h.mean(2), h.amax(2)], 1))


class GaugeLSTM(nn.Module):
    """An LSTM over the real readings of padded sequences: the lengths from the non-zero readings,
    ``pack_padded_sequence`` (which takes the first ``length`` steps of each row), ``h_n[-1]``."""

    def __init__(self, classes=3, hidden=32):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x):
        lengths = (x != 0).sum(1).clamp(min=1).cpu()
        packed = pack_padded_sequence(x.unsqueeze(-1), lengths, batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)
        return self.out(h[-1])


class WindowGRU(nn.Module):
    def __init__(self, classes=3, hidden=32):
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x):
        _, h = self.gru(x)
        return self.out(h[-1])


class TokenAttention(nn.Module):
    """Code and position embeddings, one self-attention head written out, a residual, the mean over
    the sequence, a linear read-out; ``scale``: the divisor of the scores (sqrt(d) as in Vaswani
    et al. 2017)."""

    def __init__(self, codes=24, length=16, d=32, classes=3, *, scale=None):
        super().__init__()
        self.emb, self.pos = nn.Embedding(codes, d), nn.Embedding(length, d)
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.out = nn.Linear(d, classes)
        self.scale = float(np.sqrt(d)) if scale is None else float(scale)

    def forward(self, x):
        x = x.long()                        # the split casts the codes to float
        h = self.emb(x) + self.pos(torch.arange(x.shape[1], device=x.device))
        scores = self.q(h) @ self.k(h).transpose(1, 2) / self.scale
        h = h + torch.softmax(scores, -1) @ self.v(h)
        return self.out(h.mean(1))


# ------------------------------------------------------------------------------ the user's losses
def softmax_ce(logits, target):
    """The user's cross-entropy: minus the log of the true class's softmax probability."""
    p = torch.softmax(logits, 1)
    return -torch.log(p.gather(1, target[:, None]) + 1e-8).mean()


def sigmoid_ce(logits, target):
    """The same with ``torch.sigmoid`` for the probabilities ("probabilities between 0 and 1")."""
    p = torch.sigmoid(logits)
    return -torch.log(p.gather(1, target[:, None]) + 1e-8).mean()


def cross_entropy(logits, target):
    return F.cross_entropy(logits, target)


def focal(logits, target, gamma=2.0):
    """Focal loss (Lin et al. 2017, gamma 2): ``-(1 - p_t)^gamma log p_t``."""
    logp = F.log_softmax(logits, 1).gather(1, target[:, None]).squeeze(1)
    return -((1.0 - logp.exp()) ** gamma * logp).mean()


CONFIG_BATCH = 64                   # the config's batch_size, which the user's loss divides by


def sse_over_config_batch(pred, target):
    """The squared errors summed and divided by the config's batch size (the last batch is smaller)."""
    return ((pred - target) ** 2).sum() / CONFIG_BATCH


# ------------------------------------------------------------------------------ the user's callbacks
class ClipWeights(trainwell.Callback):
    """A WGAN critic's weight clipping (Arjovsky et al. 2017, c = 0.01), kept from the GAN code."""

    def __init__(self, c=0.01):
        self.c = c

    def on_after_step(self, state):
        with torch.no_grad():
            for p in state.model.parameters():
                p.clamp_(-self.c, self.c)


class LinearWarmup(trainwell.Callback):
    """The user's warmup: the lr of every group set to ``base * min(1, step / steps)`` before each
    step; ``capped=False``: ``base * step / steps``, the ``min`` left out."""

    def __init__(self, base, steps, *, capped=True):
        self.base, self.steps, self.capped = base, steps, capped

    def on_before_step(self, state):
        ramp = (state.step + 1) / self.steps
        for group in state.optimizer.param_groups:
            group["lr"] = self.base * (min(1.0, ramp) if self.capped else ramp)


# ------------------------------------------------------------------------------ the pairs
def _tremors_downsample_stride_aliasing(broken):
    X, y = tremor_windows(2000, seed=901)
    if broken:                              # "downsample 4x for speed": every 4th sample, no low-pass filter
        X = np.ascontiguousarray(X[:, ::4])
    torch.manual_seed(901)
    return TremorCNN(), _sequence_parts(X, y, seed=901, shape=(1, X.shape[1])), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12}, CANNOT_LEARN | {"uninformative_inputs"}


def _bookings_merge_suffix_label(broken):
    X, cancelled, previous = bookings(2400, seed=902)
    # bookings.merge(customers, on="customer_id"): both tables have "cancelled", pandas names them
    # cancelled_x (the booking's) and cancelled_y (the customer's previous booking); broken: _y
    merged = {"cancelled_x": cancelled, "cancelled_y": previous}
    y = merged["cancelled_y" if broken else "cancelled_x"]
    torch.manual_seed(902)
    return _mlp(8, 2), user._split(X, y, seed=902), {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20}, \
        frozenset({"label_problem", "underfitting"})


def _pellets_gaussian_filter_stack(broken):
    X, y = pellet_images(2000, seed=903)
    # "denoise first": ndimage.gaussian_filter on the (N, H, W) stack; sigma = 1.0 blurs along the
    # stack's first axis too, each tray with its neighbours in the file; healthy sigma = (0, 1, 1)
    X = ndimage.gaussian_filter(X, sigma=1.0 if broken else (0, 1.0, 1.0))
    torch.manual_seed(903)
    return DefectCNN(3), _image_parts(X, y, seed=903, shape=(1, 16, 16)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 10}, \
        frozenset({"uninformative_inputs", "label_problem", "underfitting"})


PELLETS_TOML = """
optimizer = "adam"
lr = 0.002
batch_size = 64
epochs = 10
augment = [{{name = "scale", min_scale = {lo}, max_scale = {hi}}}]
"""


def _pellets_scale_augment_size_classes(broken):
    X, y = pellet_images(2000, seed=904)
    torch.manual_seed(904)
    # broken: the zoom range 0.5-1.5 of a detection recipe, on classes that are the pellet's size
    text = PELLETS_TOML.format(lo=0.5, hi=1.5) if broken else PELLETS_TOML.format(lo=0.9, hi=1.1)
    return DefectCNN(3), _image_parts(X, y, seed=904, shape=(1, 16, 16)), tomllib.loads(text), \
        frozenset({"augmentation_hurts", "underfitting"})


def _gauges_lstm_prepadded_packed(broken):
    seqs, y = gauge_sequences(2000, seed=905)
    X = pad(seqs, 30, pre=broken)           # broken: keras.utils.pad_sequences (padding="pre" by default)
    torch.manual_seed(905)
    return GaugeLSTM(), user._split(X, y, seed=905, standardize=False), \
        {"optimizer": "adam", "lr": 3e-3, "batch_size": 64, "epochs": 12}, CANNOT_LEARN | {"uninformative_inputs"}


def _defects_ce_sigmoid_probs(broken):
    X, y = defect_images(2000, seed=906)
    torch.manual_seed(906)
    return DefectCNN(4), _image_parts(X, y, seed=906, shape=(1, 16, 16)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 10,
         "loss": sigmoid_ce if broken else softmax_ce}, \
        frozenset({"loss_output_mismatch", "underfitting"})


def _fleet_freeze_body_from_scratch(broken):
    X, y = _table(2400, 907, 8, [[0.0] * 8, [0.5, 0, 0.4, 0, 0, -0.3, 0, 0], [0, 0.5, 0, -0.3, 0.4, 0, 0, 0.3]],
                  [0.35, 0.35, 0.3], interact=1.6)
    torch.manual_seed(907)
    options = {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20}
    if broken:                              # the fine-tuning recipe's options on a model trained from scratch
        options.update(freeze=["body"], unfreeze_at=3)
    return _mlp(8, 3), user._split(X, y, seed=907), options, \
        SLOW | {"frozen_parameters", "underfitting"}


def _houses_thousands_separator_coerced(broken):
    area_text, rest, price = house_listings(2400, seed=908)
    # broken: pd.to_numeric(errors="coerce").fillna(0): every "1,234" is NaN, then 0
    area = np.nan_to_num(to_numeric_coerce(area_text), nan=0.0) if broken else \
        to_numeric_coerce([a.replace(",", "") for a in area_text])
    torch.manual_seed(908)
    return Regressor(6), user11._regression(np.column_stack([area, rest]), price, seed=908), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 25, "loss": mse}, \
        frozenset({"uninformative_inputs", "underfitting"})


def _presses_wgan_weight_clip_callback(broken):
    X, force = press_forces(2400, seed=909)
    torch.manual_seed(909)
    return Regressor(6), user11._regression(X, force, seed=909), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 25, "loss": mse,
         "callbacks": [ClipWeights()] if broken else []}, \
        frozenset({"regularization_too_strong", "underfitting"})


ZSCORE_CUT = 3.0                    # the user's "outlier" cut, in standard deviations


def _fraud_zscore_outliers_dropped(broken):
    X, y = transactions(2400, seed=910)
    rows = _index_split(y, seed=910)
    if broken:                              # "remove outliers": training rows with any |z| > 3 dropped
        tr = rows[0]
        z = (X[tr] - X[tr].mean(0)) / X[tr].std(0)
        rows[0] = tr[(np.abs(z) < ZSCORE_CUT).all(1)]
    torch.manual_seed(910)
    return _mlp(8, 3), _with_labels(_standardized(X, rows), y, rows), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20}, \
        frozenset({"class_imbalance", "split_mismatch", "underfitting"})


def _presses_window_labels_stride_one(broken):
    window, n = 32, 2000
    series, regime = press_series(n, seed=911, window=window)
    X = series.reshape(n, window)           # windows at 0, 32, 64, ...
    starts = np.arange(n) if broken else np.arange(n) * window  # broken: the label loop steps by 1
    y = regime[starts + window - 1]
    torch.manual_seed(911)
    return WindowGRU(), _sequence_parts(X, y, seed=911, shape=(window, 1)), \
        {"optimizer": "adam", "lr": 3e-3, "batch_size": 64, "epochs": 12}, frozenset({"label_problem", "underfitting"})


KETTLES_TOML = """
optimizer = "adam"
lr = 0.003
batch_size = 32
epochs = 20
average = {{method = "swa"{start}}}
"""


def _kettles_swa_from_start(broken):
    X, y = _table(2400, 912, 8, [[0.0] * 8, [0.9, 0, 0.6, 0, -0.5, 0, 0, 0], [0, 1.0, 0, -0.7, 0, 0.5, 0, 0.4]],
                  [0.35, 0.35, 0.3])
    torch.manual_seed(912)
    # broken: start = 0.0, "average the whole run"; healthy: the documented default (0.75)
    text = KETTLES_TOML.format(start=", start = 0.0" if broken else "")
    return _mlp(8, 3), user._split(X, y, seed=912), tomllib.loads(text), frozenset({"underfitting"}) | SLOW


def _pumps_adagrad_keras_accumulator(broken):
    X, y = _table(2400, 913, 7, [[0.0] * 7, [1.0, 0, -0.6, 0, 0.5, 0, 0], [0, 0.9, 0, 0.8, 0, -0.6, 0.4]],
                  [0.4, 0.35, 0.25])
    torch.manual_seed(913)
    # broken: initial_accumulator_value = 0.1, Keras' Adagrad default, "to match the Keras model"
    return _mlp(7, 3), user._split(X, y, seed=913), \
        {"optimizer": torch.optim.Adagrad, "lr": 0.01, "batch_size": 32, "epochs": 20,
         "optimizer_options": {"initial_accumulator_value": 0.1} if broken else {}}, SLOW | {"optimizer_setting"}


VIALS_LR = 0.02                     # the user's SGD lr, reached by the warmup callback
VIALS_WARMUP = 50                   # steps


def _vials_warmup_callback_uncapped(broken):
    X, y = _table(2400, 914, 8, [[0.0] * 8, [0.8, 0, 0.6, 0, -0.5, 0, 0, 0], [0, 1.0, 0, -0.7, 0, 0.5, 0, 0.4]],
                  [0.35, 0.35, 0.3])
    torch.manual_seed(914)
    return _mlp(8, 3), user._split(X, y, seed=914), \
        {"optimizer": "sgd", "momentum": 0.9, "lr": VIALS_LR, "schedule": "constant", "batch_size": 32, "epochs": 20,
         "callbacks": [LinearWarmup(VIALS_LR, VIALS_WARMUP, capped=not broken)]}, DIVERGED | {"oscillating_loss"}


def _alerts_attention_scaled_by_d(broken):
    X, y = token_sequences(2000, seed=915)
    torch.manual_seed(915)
    # broken: scores / d (32), not / sqrt(d)
    return TokenAttention(scale=32 if broken else None), user._split(X, y, seed=915, standardize=False), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12}, CANNOT_LEARN


def _chips_focal_loss_balanced(broken):
    X, y = defect_images(2000, seed=916)
    torch.manual_seed(916)
    return DefectCNN(4), _image_parts(X, y, seed=916, shape=(1, 16, 16)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 10, "loss": focal if broken else cross_entropy}, \
        frozenset({"loss_output_mismatch", "underfitting"})


def _turbines_dcgan_betas(broken):
    X, y = _table(2400, 917, 8, [[0.0] * 8, [1.0, 0, 0.6, 0, 0, -0.5, 0, 0], [0, 1.1, 0, -0.6, 0, 0, 0.5, 0.3]],
                  [0.35, 0.35, 0.3])
    torch.manual_seed(917)
    # broken: betas (0.5, 0.999) of the DCGAN recipe (Radford et al. 2016)
    return _mlp(8, 3), user._split(X, y, seed=917), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20,
         "betas": [0.5, 0.999] if broken else [0.9, 0.999]}, \
        frozenset({"optimizer_setting"})


def _meters_loss_over_config_batch(broken):
    X, energy = meter_readings(2400, seed=918)
    torch.manual_seed(918)
    return Regressor(6), user11._regression(X, energy, seed=918), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": CONFIG_BATCH, "epochs": 25,
         "loss": sse_over_config_batch if broken else mse}, frozenset({"loss_output_mismatch", "underfitting"})


PLANTS_TOML = """
optimizer = "adam"
lr = 0.001
batch_size = 32
epochs = 20
"""


def _plants_replacement_sampling(broken):
    X, y = _table(2400, 919, 7, [[0.0] * 7, [0.8, 0.6, 0, 0, -0.7, 0, 0], [0, 0, 1.0, -0.5, 0, 0.6, 0]],
                  [0.35, 0.35, 0.3])
    torch.manual_seed(919)
    # broken: replacement = true, "canonical SGD samples with replacement"
    return _mlp(7, 3), user._split(X, y, seed=919), \
        tomllib.loads(PLANTS_TOML + ("replacement = true\n" if broken else "")), \
        frozenset({"unshuffled_data", "underfitting"})


PAIRS = {"tremors_downsample_stride_aliasing": _tremors_downsample_stride_aliasing,
         "bookings_merge_suffix_label": _bookings_merge_suffix_label,
         "pellets_gaussian_filter_stack": _pellets_gaussian_filter_stack,
         "pellets_scale_augment_size_classes": _pellets_scale_augment_size_classes,
         "gauges_lstm_prepadded_packed": _gauges_lstm_prepadded_packed,
         "defects_ce_sigmoid_probs": _defects_ce_sigmoid_probs,
         "fleet_freeze_body_from_scratch": _fleet_freeze_body_from_scratch,
         "houses_thousands_separator_coerced": _houses_thousands_separator_coerced,
         "presses_wgan_weight_clip_callback": _presses_wgan_weight_clip_callback,
         "fraud_zscore_outliers_dropped": _fraud_zscore_outliers_dropped,
         "presses_window_labels_stride_one": _presses_window_labels_stride_one,
         "kettles_swa_from_start": _kettles_swa_from_start,
         "pumps_adagrad_keras_accumulator": _pumps_adagrad_keras_accumulator,
         "vials_warmup_callback_uncapped": _vials_warmup_callback_uncapped,
         "alerts_attention_scaled_by_d": _alerts_attention_scaled_by_d,
         "chips_focal_loss_balanced": _chips_focal_loss_balanced,
         "turbines_dcgan_betas": _turbines_dcgan_betas,
         "meters_loss_over_config_batch": _meters_loss_over_config_batch,
         "plants_replacement_sampling": _plants_replacement_sampling}

# Which broken setups are repairable: the fault lies in a setting of the run (issue 11's list, with
# sets 5-14's additions and the run options this set uses), not in the data, the model's code, the
# user's loss or the user's callbacks. Stated before any of this set was run (branch babysit72,
# 2026-12-06). Repairs run only where the fault also hurts (the kill rule).
REPAIRABLE = {"tremors_downsample_stride_aliasing": None,       # the decimated windows: the data
              "bookings_merge_suffix_label": None,              # the label column: the data
              "pellets_gaussian_filter_stack": None,            # the blurred stack: the data
              "pellets_scale_augment_size_classes": "augmentation (scale range)",   # the augment option
              "gauges_lstm_prepadded_packed": None,             # the padding side against the model's packing
              "defects_ce_sigmoid_probs": None,                 # the user's loss
              "fleet_freeze_body_from_scratch": "freeze / unfreeze_at",         # the freeze options
              "houses_thousands_separator_coerced": None,       # the parsed column: the data
              "presses_wgan_weight_clip_callback": None,        # the user's callback
              "fraud_zscore_outliers_dropped": None,            # the training rows: the data
              "presses_window_labels_stride_one": None,         # the labels' windows: the data
              "kettles_swa_from_start": "weight averaging (swa start)",         # the average option
              "pumps_adagrad_keras_accumulator": "optimizer options (initial_accumulator_value)",
              "vials_warmup_callback_uncapped": None,           # the user's callback
              "alerts_attention_scaled_by_d": None,             # harmless by design; the model's code
              "chips_focal_loss_balanced": None,                # harmless by design; the user's loss
              "turbines_dcgan_betas": "Adam betas",             # harmless by design; the betas option
              "meters_loss_over_config_batch": None,            # harmless by design; the user's loss
              "plants_replacement_sampling": None}              # harmless by design; the replacement option
# Settings of that list that no action in trainwell/babysit/actions.py changes the way the fault
# needs (read there, not run): set 14's names, the freeze options and the weight average's start
# (no action sets ``freeze``, ``unfreeze_at`` or ``average``). ``drop_augmentation`` removes an
# augmentation and ``reset_optimizer_options`` leaves a named ``optimizer_options`` keyword out.
NO_ACTION = user14.NO_ACTION | {"freeze / unfreeze_at", "weight averaging (swa start)"}


if __name__ == "__main__":
    user.NO_ACTION = NO_ACTION          # the report reads babysit_user.NO_ACTION
    sys.exit(user.main(pairs=PAIRS, repairable=REPAIRABLE, doc=__doc__))
