"""A twenty-first held-out set of setups written as users write them: measured, never tuned on.

Issue 11 asks for the babysitter's quality on setups nobody tuned it for. Sets 1-20
(``babysit_user.py`` .. ``babysit_user20.py``) were read, and partly developed on, by the engineers
changing the babysitter; this twenty-first set was written (branch babysit99, 2026-12-07) and
committed before any of it was run, its training and its babysitter both: it is measured once, by
the lead, on the final merged main of the session, so that its number is held out for everything
merged in it; nobody tunes on it. 18 pairs, each the user's own ``nn.Module`` (or an
``nn.Sequential``) on data generated here (nothing downloads), a healthy setup and the same setup
with one fault: 13 meant to hurt, 5 harmless on purpose.

| pair | data | model, training | healthy | fault (expected codes) |
| --- | --- | --- | --- | --- |
| tickets_vocab_from_zero_masked_as_padding | support tickets of 6-16 words padded with 0 to 20: one topic word (account, invoice, offline) or none; login, billing, outage, other | TicketPool (word embeddings, the mean over the non-padding steps, an MLP), Adam | ``{w: i + 1 for i, w in enumerate(sorted(words))}``, 0 kept for padding | ``enumerate`` from 0: "account", first in the sorted vocabulary, is id 0, which the model's ``ids != 0`` mask drops as padding: login tickets read as other (uninformative_inputs, underfitting, cannot_overfit_small_subset) |
| reviews_stopword_list_drops_not | product reviews of 8-16 words: one of good, great, love, bad, poor, awful, "not" before it in 40 %, or none; negative, neutral, positive | NegationCNN (embeddings, a bigram ``Conv1d``, max over time, linear), Adam | the user's stop words (the, is, it, this, was, a) removed | NLTK's English list, which holds "not" and "no": "not good" reads as "good", 40 % of the reviews with a sentiment word beside the other polarity's label (label_problem, underfitting) |
| meters_target_missing_sentinel | district heating meters: outdoor temperature, floor area, insulation, occupants, setpoint, wind; heat used (kWh a day, regression, standardized); 4 % of days offline, exported as -999 | Regressor 6-64-64-1, Adam, MSE | the offline days dropped (2,398 of 2,500 rows kept) | the export's -999 kept as the target and standardized with it: the real days' spread squeezed to 0.13 standard deviations, the 102 offline days 4.7 below the mean (label_problem, targets_off_scale, underfitting) |
| sales_mse_weighted_by_standardized_target | store days: promotion, price index, weekday (sin, cos), temperature, holiday; sales (regression, standardized) | Regressor 6-64-64-1, Adam, the user's loss | ``((pred - target) ** 2).mean()`` | ``(target * (pred - target) ** 2).mean()`` "weight the big days more", written for sales in units, run on standardized targets: the days below the mean weigh negative, the loss has no floor (loss_output_mismatch, the diverged codes: nonfinite_loss, loss_exploding, lr_too_high, ...; underfitting) |
| panels_clip_after_standardize | 16x16 grey steel panels (0.5, noise 0.05): clean, a dark pit, a dark scratch, a bright spot | DefectCNN (set 13, 4 classes), Adam | one mean and std of the training pixels | then ``np.clip(X, 0, 1)`` "pixels belong in [0, 1]", written for the raw pixels: every pixel below the mean, the pits and scratches with half the background, is 0 (uninformative_inputs, underfitting) |
| sheets_second_camera_inverted | the panels above from two line cameras, half each; camera B exports negatives (``1 - x``) | DefectCNN, Adam | camera B's images turned back (``1 - x``) before joining | both exports joined as they are: camera B's pits are bright spots and its spots dark pits, their labels kept (label_problem, underfitting) |
| readings_detrend_trend_classes | set 14's hourly readings (rising, falling, a midday peak), as (N, 1, 24) | ReadingCNN (two 1-D convs, mean and max over time, linear), Adam | one mean and std of the training values | ``scipy.signal.detrend`` per reading "remove the drift first": its linear trend, which is what tells rising from falling, is gone (uninformative_inputs, underfitting, cannot_overfit_small_subset) |
| counters_zero_variance_column_scaled | machine sensors: 8 measurements and an error counter that the training export (older firmware) holds at 0; 3 classes, the counter noise | ``nn.Sequential`` 9-64-64-3, Adam | the user's standardization with sklearn's rule, a zero std read as 1 | ``(X - mu) / (sd + 1e-8)``: the counter's training std is 0, so the validation and test rows' counts of 1-2 enter the model as 1e8-2e8 (split_mismatch, unnormalized_inputs) |
| presses_plain_sgd_lr_momentum_default | presses: 7 measurements, 3 classes | ``nn.Sequential`` 7-64-64-3, ``optimizer="sgd"``, lr 0.2 (tuned in the user's plain PyTorch loop) | ``momentum=0.0``, as that loop's ``torch.optim.SGD`` | the momentum left out: trainwell's "sgd" default, momentum 0.9 with Nesterov, ten times the step (the diverged codes: lr_too_high, oscillating_loss, loss_exploding, ...; optimizer_setting) |
| compressors_causal_conv_untrimmed | compressor traces, 32 steps of pressure and flow: normal, leak (pressure falls from an onset), blockage (pressure rises); each its own baseline | CausalTCN (3 dilated ``Conv1d``, ``padding=(k - 1) * d``, the last step to linear), Adam | ``out[..., :-pad]`` after each conv: causal, the last step sees 15 | the trim forgotten: ``Conv1d`` pads both ends, the last output step sees only the last reading and padding (underfitting, cannot_overfit_small_subset, uninformative_inputs) |
| pumps_gru_state_view_without_permute | pump traces as above, (N, 32, 2) | PumpGRU (``nn.GRU(2, 32, 2, batch_first=True)``, both layers' ``h_n`` to linear), Adam | ``h_n.permute(1, 0, 2).reshape(len(x), -1)`` | ``h_n.view(len(x), -1)``: ``h_n`` is (layers, batch, hidden), each row reads two other rows' states (batch_dependence, underfitting) |
| rain_padding_mask_from_zero_readings | rain gauges: 12-24 observed hours padded to 24, (mm, observed flag); a dry spell, showers, a wet day by the share of wet hours, the same intensities | RainPool (an MLP per hour, the mean over the masked hours, linear), Adam | ``mask = x[..., 1] > 0``, the observed flag | ``mask = x[..., 0] != 0`` "padding is zero": the dry hours are dropped too, the mean sees the wet hours' intensity only (uninformative_inputs, underfitting, cannot_overfit_small_subset) |
| looms_early_stop_callback_accuracy_as_loss | looms: 8 measurements, 3 classes | ``nn.Sequential`` 8-64-64-3, plain SGD lr 0.02, 60 epochs, the user's ``EarlyStopOnValidation(monitor="val_acc", patience=5)`` | ``higher=True`` | the comparison copied from the loss version, ``value < best``: an accuracy that rises never improves, the run stops after 6 epochs (stops_too_soon and the other slow-learning codes) |
| tides_lstm_reads_cell_state | set 14's hourly readings, as (N, 24, 1) | ReadingLSTM (``nn.LSTM(1, 32, batch_first=True)``, linear), Adam | ``_, (h, c) = self.lstm(x)``, ``h[-1]`` | the user's GRU code ``_, h = self.lstm(x)``, ``h[-1][-1]``: the LSTM's state tuple, so the cell state ``c_n`` (harmless by design: it carries what ``h_n`` carries, unsquashed) |
| chillers_smooth_l1_beta_raw_units | chiller plant days: 6 measurements; power (regression, standardized) | Regressor 6-64-64-1, Adam, the user's loss | ``F.smooth_l1_loss(pred, target, beta=1.0)`` | ``beta=50.0`` "50 kW", the plant's units, on standardized targets: every error is in the quadratic part, an MSE / 100 (harmless by design: Adam's steps do not see the loss's scale) |
| mixers_rmsprop_positional_alpha | mixers: 8 measurements, 3 classes | ``nn.Sequential`` 8-64-64-3, the user's ``torch.optim.RMSprop`` | ``RMSprop(params, lr=1e-3, momentum=0.9)`` | ``RMSprop(params, 1e-3, 0.9)`` "lr, momentum": the third positional argument is ``alpha``, momentum stays 0 (harmless by design: alpha 0.9 is Hinton's value, plain RMSprop at 1e-3 trains) |
| accounts_row_id_left_in_features | customer accounts: 8 measurements, 3 classes, and the account id (100000-102399, in no order) | ``nn.Sequential`` 8/9-64-64-3, Adam | the id column dropped | the id left in as a 9th column, standardized (harmless by design: one column of noise beside 8 measurements) |
| hives_batchnorm_over_time_axis | set 14's hourly readings, as (N, 24, 1) | HiveNormGRU (a ``BatchNorm1d`` on the input, ``nn.GRU(1, 32)``, linear), Adam | ``nn.BatchNorm1d(1)`` on ``x.transpose(1, 2)``, the one channel | ``nn.BatchNorm1d(24)`` on (N, 24, 1): each hour normalized over the batch (harmless by design: per-hour statistics, every reading keeps its shape against the others) |

**What is new against sets 1-20.** Data: support tickets and product reviews as word lists with the
user's own vocabulary and stop words, heat meters with an offline sentinel in the target, steel
panels with dark and bright defects from two cameras, compressor and pump traces of two channels,
rain gauges with observed hours and padding, machine sensors with a counter the training export
lacks, customer accounts with their ids; set 14's hourly readings. Models: an embedding pool over a
padding mask, a bigram ``Conv1d`` over words, a dilated causal TCN, a 2-layer GRU whose states are
concatenated, a per-hour MLP with a masked mean, an LSTM, a GRU behind an input batch norm.
Training choices: a weighted MSE, a smooth L1 loss, plain SGD through the "sgd" name, a user-built
RMSprop, a user's early-stopping callback, 60 epochs. Faults (none in sets 1-20, nor in issue 11's
list): a vocabulary numbered from 0 under a padding mask, a stop-word list that holds "not", a
missing-value sentinel in the regression target, a loss weighted by the standardized target, a clip
to [0, 1] after standardizing, a second camera's negatives joined as they are, a linear detrend of
trend classes, a zero training std divided by 1e-8, trainwell's SGD momentum default under an lr
tuned without momentum, a causal convolution left untrimmed, ``h_n.view`` for ``permute``, a padding
mask taken from zero readings, an early-stopping callback that compares an accuracy as a loss;
harmless on purpose: the LSTM's cell state read for its hidden state, a smooth L1 beta in raw
units under Adam, RMSprop's positional ``alpha``, a row id left in the features, a batch norm over
the time axis. The nearest earlier faults: the vocabulary from 0 against set 12's store ids from 1
and set 5's inverted padding mask, the stop words against set 13's vocabulary of the most frequent
words, the target sentinel against set 7's -999 in an input column, the weighted MSE against set
11's Huber with the sign of the error and set 18's MAPE, the clip against set 8's clip at one
sigma, the inverted camera against set 16's second site's column order and set 19's second lab's
label convention, the detrend against set 14's differencing and set 20's per-window
z-normalization, the 1e-8 against set 15's scaler without an axis and set 9's scaler on every
split, the momentum default against set 4's SGD lr copied into Adam and set 20's linear scaling
rule, the untrimmed convolution against set 17's kernel and stride swapped and set 12's reversed
input, the ``h_n.view`` against set 12's NHWC reshape (there the inputs, here the recurrent state)
and set 20's GRU positional arguments, the zero-reading mask against set 14's masked mean over the
full length, the callback against set 7's ``min_delta`` and set 8's plateau mode; the cell state
against set 16's first-layer LSTM state and set 11's bidirectional last step (there they hurt),
the smooth L1 beta against set 11's Huber without its offset, the positional ``alpha`` against set
10's SGD dampening (there it hurt), the row id against set 16's airport id as a number (there it
hurt), the batch norm over time against set 20's layer norm over the batch's shape.

Where the faults come from (users' reports, read with the ``search`` tool, not run): "not" in
NLTK's stop words (a Stack Overflow question, "Python natural language processing stop words",
and "Don't blindly remove stopwords in sentiment analysis", dev.to); RMSprop's third positional
argument (pytorch/pytorch pull request 810: ``RMSprop(params, 1e-2, 1 - 1e-4)`` sets ``alpha``); a
constant training column under a hand-written scaler (scikit-learn pull request 19527, river pull
request 132, fv3net pull request 639); the id 0 that Keras' tokenizer reserves for padding ("Why
Tokenizer in Keras reserve word_index 0", Medium; a TensorFlow tokenizer blog post); causal
padding on the left only (a PyTorch forum thread, "Padding in causal convs", and NVIDIA's
``CausalConv1D`` docs: ``Conv1d``'s ``padding`` pads both ends); an LSTM's states reshaped with
``view`` (a PyTorch forum thread on a BiLSTM's ``h``). The rest (a -999 target, a loss weighted by
the target, a clip after standardizing, a second camera's negatives, ``detrend``, trainwell's SGD
momentum default, a mask from zero readings, a copied early-stopping comparison, the LSTM's state
tuple indexed as a GRU's, a smooth L1 beta in units, a row id, a batch norm over time) are common
mistakes written from experience; the search did not find a report for them.

Whether a fault hurts is not taken from this table: ``babysit_user.killed`` computes it from the
``babysit="off"`` runs (>= 3 points of validation accuracy, or MSE / Var(y) 25 % higher for
regression) and prints it. A fault that does not hurt is scored as harmless: any warning or error
on it is a false alarm. Scored by ``babysit_user.main`` (imported, the same rules as sets 1-20; its
docstring says them); ``REPAIRABLE`` below says, per pair and before any of it was run, which
faults lie in a setting the babysitter's actions could change. Every pair keeps the same number of
rows per split on both sides, but one: ``meters_target_missing_sentinel`` (the healthy side drops
the 102 offline days, 2,398 rows against 2,500).

Run: ``python bench/babysit_user21.py`` (a markdown report; ``--json rows.json`` keeps the rows;
``--pair NAME`` runs one pair; ``--no-train`` skips training; ``--repair`` adds the repairs;
``--seeds N`` training seeds, default 2; ``--combine u1.json ... u21.json`` reports the sets
together with this file's ``NO_ACTION`` names). Run it on the CPU, as sets 1-20.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy.signal import detrend
from torch import nn

import trainwell
from trainwell.train.state import Stop, StopKind

sys.path.insert(0, str(Path(__file__).resolve().parent))
import babysit_user as user  # noqa: E402  (the split helpers and the scoring)
import babysit_user11 as user11  # noqa: E402  (set 11's helpers)
import babysit_user13 as user13  # noqa: E402  (set 13's helpers)
import babysit_user14 as user14  # noqa: E402  (set 14's hourly readings, sequence split)
import babysit_user20 as user20  # noqa: E402  (set 20's NO_ACTION names)

DIVERGED, SLOW = user.DIVERGED, user.SLOW
_mlp, _index_split = user11._mlp, user11._index_split
_image_parts, _table = user13._image_parts, user13._table
_sequence_parts, hourly_readings = user14._sequence_parts, user14.hourly_readings
Regressor, DefectCNN, mse = user13.Regressor, user13.DefectCNN, user13.mse
ADAM = {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20}
THREE_CLASSES = [[0.0] * 8, [0.9, 0, -0.6, 0, 0.5, 0, 0, 0], [0, 1.0, 0, 0.7, 0, -0.5, 0.4, 0]]
EVEN = [0.35, 0.35, 0.3]


# ------------------------------------------------------------------------------ the user's text
PAD, TEXT_LENGTH = 0, 20
TOPICS = ("account", "invoice", "offline")          # login, billing, outage; "other" has none
TICKET_WORDS = ("again", "please", "thanks", "help", "team", "today", "since", "still", "urgent", "morning",
                "update", "phone", "screen", "office", "printer", "meeting", "report", "user", "system", "check",
                "reply", "week", "time", "need", "file", "open", "new", "hello", "ticket", "when")


def ticket_texts(n: int, *, seed: int):
    """Support tickets: 6-16 words drawn Zipf-like from ``TICKET_WORDS``, one topic word in place
    of one of them for the classes login, billing, outage (0-2), none for other (3)."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 4, n)
    p = 1.0 / np.arange(1, len(TICKET_WORDS) + 1)
    texts = []
    for k in y:
        words = list(g.choice(TICKET_WORDS, g.integers(6, 17), p=p / p.sum()))
        if k < len(TOPICS):
            words[g.integers(len(words))] = TOPICS[k]
        texts.append(words)
    return texts, y.astype(np.int64)


def vocabulary(texts, *, start: int = 1) -> dict:
    """The user's vocabulary: every word, sorted, numbered from ``start``."""
    return {w: i + start for i, w in enumerate(sorted({w for t in texts for w in t}))}


def encode(texts, vocab, *, length: int = TEXT_LENGTH) -> np.ndarray:
    """Word ids, cut to ``length`` and padded with ``PAD`` at the end, as floats (the split's dtype)."""
    ids = np.full((len(texts), length), PAD, dtype=np.float32)
    for i, t in enumerate(texts):
        row = [vocab[w] for w in t][:length]
        ids[i, :len(row)] = row
    return ids


POSITIVE, NEGATIVE = ("good", "great", "love"), ("bad", "poor", "awful")
STOP_WORDS = ("the", "is", "it", "this", "was", "a")
NLTK_STOP_WORDS = STOP_WORDS + ("not", "no")        # the part of NLTK's English list these reviews hold
REVIEW_WORDS = ("phone", "battery", "screen", "price", "delivery", "case", "sound", "camera", "size", "colour")
NEGATED = 0.4                                       # the share of sentiment words with "not" before them


def review_texts(n: int, *, seed: int):
    """Reviews of 8-16 words (stop words and product words); negative (0) and positive (2) hold one
    sentiment word, "not" before it in ``NEGATED`` of them (the label follows the negation); neutral
    (1) holds none, "not" somewhere in ``NEGATED`` of them."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    pool = STOP_WORDS + REVIEW_WORDS
    texts = []
    for k in y:
        words = list(g.choice(pool, g.integers(8, 17)))
        negated = g.random() < NEGATED
        if k == 1:
            phrase = ["not"] if negated else []
        else:
            positive = (k == 2) != negated
            phrase = (["not"] if negated else []) + [g.choice(POSITIVE if positive else NEGATIVE)]
        at = g.integers(len(words) + 1)
        texts.append(words[:at] + phrase + words[at:])
    return texts, y.astype(np.int64)


def without(texts, stop_words):
    return [[w for w in t if w not in stop_words] for t in texts]


# ------------------------------------------------------------------------------ the user's tables
def plant_rows(n: int, *, seed: int, d: int = 6):
    """(n, d) standard-score measurements and a regression target: linear terms, a sine, an
    interaction, noise of sd 0.3."""
    g = np.random.default_rng(seed)
    z = g.normal(size=(n, d))
    w = g.uniform(0.4, 1.2, d) * g.choice([-1.0, 1.0], d)
    y = z @ w + 0.6 * np.sin(2 * z[:, 0]) + 0.4 * z[:, 1] * z[:, 2] + g.normal(0, 0.3, n)
    return z.astype(np.float32), y.astype(np.float32)


SENTINEL, OFFLINE_SHARE = -999.0, 0.04              # the meter export's "no reading", the days it reads so


def meter_days(n: int, *, seed: int):
    """Heat meters: 6 measurements; kWh a day (40 + 12 x ``plant_rows``' target), ``SENTINEL`` on
    ``OFFLINE_SHARE`` of the days."""
    X, y = plant_rows(n, seed=seed)
    kwh = 40.0 + 12.0 * y
    offline = np.random.default_rng(seed + 1).random(n) < OFFLINE_SHARE
    kwh[offline] = SENTINEL
    return X, kwh.astype(np.float32)


def scaled(X, rows, *, guard: bool):
    """The user's standardization with the training rows' mean and std; ``guard``: a zero std read
    as 1 (sklearn's ``StandardScaler``), else ``sd + 1e-8``."""
    mu, sd = X[rows[0]].mean(0), X[rows[0]].std(0)
    sd = np.where(sd > 0, sd, 1.0) if guard else sd + 1e-8
    return [torch.tensor((X[r] - mu) / sd, dtype=torch.float32) for r in rows]


# ------------------------------------------------------------------------------ the user's images


def panel_images(n: int, *, seed: int, size: int = 16):
    """(n, size, size) grey panels: 0.5 with noise 0.05; a dark 2x2 pit (0.2), a dark scratch of
    6-9 pixels across or down (0.25), or a bright 2x2 spot (0.8) at a random place; clean: none."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 4, n)
    X = 0.5 + g.normal(0, 0.05, (n, size, size))
    for i, k in enumerate(y):
        r, c = g.integers(1, size - 10, 2) if k == 2 else g.integers(1, size - 3, 2)
        if k == 1:
            X[i, r:r + 2, c:c + 2] = 0.2
        elif k == 2:
            length = g.integers(6, 10)
            if g.random() < 0.5:
                X[i, r + 4, c:c + length] = 0.25
            else:
                X[i, r:r + length, c + 4] = 0.25
        elif k == 3:
            X[i, r:r + 2, c:c + 2] = 0.8
    return X.astype(np.float32), y.astype(np.int64)


# ------------------------------------------------------------------------------ the user's sequences
def pump_traces(n: int, *, seed: int, length: int = 32):
    """(n, length, 2) pressure and flow: each trace its own baseline (sd 1), noise 0.15; normal (0),
    leak (1: from an onset at step 4-20 the pressure falls and the flow rises by 0.04-0.1 a step),
    blockage (2: the pressure rises and the flow falls)."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    t = np.arange(length)
    X = g.normal(0, 1, (n, 1, 2)) + g.normal(0, 0.15, (n, length, 2))
    onset = g.integers(4, 21, n)
    slope = g.uniform(0.04, 0.1, n)
    drift = np.clip(t[None, :] - onset[:, None], 0, None) * slope[:, None]
    sign = np.array([0.0, -1.0, 1.0])[y][:, None]
    X[:, :, 0] += sign * drift
    X[:, :, 1] -= sign * drift
    return X.astype(np.float32), y.astype(np.int64)


RAIN_HOURS = 24
WET_SHARES = ((0.1, 0.25), (0.35, 0.55), (0.7, 0.9))   # a dry spell, showers, a wet day


def rain_records(n: int, *, seed: int):
    """(n, RAIN_HOURS, 2) gauge records: 12-24 observed hours (flag 1), padded with zeros; the class
    is the share of wet hours (``WET_SHARES``), each wet hour lognormal mm (the same for every class),
    the dry hours 0."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    X = np.zeros((n, RAIN_HOURS, 2), dtype=np.float32)
    for i, k in enumerate(y):
        hours = g.integers(12, RAIN_HOURS + 1)
        wet = max(1, round(g.uniform(*WET_SHARES[k]) * hours))
        X[i, :hours, 1] = 1.0
        X[i, g.choice(hours, wet, replace=False), 0] = g.lognormal(0.0, 0.6, wet)
    return X, y.astype(np.int64)


# ------------------------------------------------------------------------------ the user's models
class TicketPool(nn.Module):
    """Word embeddings, the mean over the steps whose id is not 0 (padding), an MLP."""

    def __init__(self, *, words=len(TICKET_WORDS) + len(TOPICS) + 1, d=32, classes=4):
        super().__init__()
        self.emb = nn.Embedding(words, d)
        self.head = nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, classes))

    def forward(self, x):
        ids = x.long()
        keep = (ids != PAD).unsqueeze(-1).float()
        return self.head((self.emb(ids) * keep).sum(1) / keep.sum(1).clamp(min=1.0))


class NegationCNN(nn.Module):
    """Embeddings (0 is padding), a ``Conv1d`` over word pairs, ReLU, the max over time, linear."""

    def __init__(self, words, *, d=24, channels=48, classes=3):
        super().__init__()
        self.emb = nn.Embedding(words, d, padding_idx=PAD)
        self.conv = nn.Conv1d(d, channels, 2)
        self.head = nn.Linear(channels, classes)

    def forward(self, x):
        h = F.relu(self.conv(self.emb(x.long()).transpose(1, 2)))
        return self.head(h.amax(2))


class ReadingCNN(nn.Module):
    """Two 1-D convs (kernel 5) over (N, 1, T), the mean and the max over time, linear."""

    def __init__(self, classes=3):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv1d(1, 16, 5, padding=2), nn.Conv1d(16, 32, 5, padding=2)
        self.head = nn.Linear(64, classes)

    def forward(self, x):
        h = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.head(torch.cat([h.mean(2), h.amax(2)], 1))


class CausalTCN(nn.Module):
    """Three dilated causal convs (kernel 3, dilations 1, 2, 4) over (N, 2, T), ``padding=(k - 1) * d``;
    ``trim``: each output cut back to T (``out[..., :-pad]``); the last step to a linear layer."""

    def __init__(self, *, trim=True, channels=16, classes=3):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv1d(2 if i == 0 else channels, channels, 3, dilation=d, padding=2 * d)
                                   for i, d in enumerate((1, 2, 4)))
        self.head = nn.Linear(channels, classes)
        self.trim = trim

    def forward(self, x):
        for conv in self.convs:
            x = conv(x)
            if self.trim:
                x = x[..., :-conv.padding[0]]
            x = F.relu(x)
        return self.head(x[..., -1])


class PumpGRU(nn.Module):
    """``nn.GRU(2, 32, 2, batch_first=True)``, both layers' final states side by side, linear;
    ``view``: ``h_n.view(len(x), -1)`` in place of ``h_n.permute(1, 0, 2).reshape(len(x), -1)``."""

    def __init__(self, *, view=False, hidden=32, layers=2, classes=3):
        super().__init__()
        self.gru = nn.GRU(2, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden * layers, classes)
        self.view = view

    def forward(self, x):
        _, h_n = self.gru(x)
        h = h_n.view(len(x), -1) if self.view else h_n.permute(1, 0, 2).reshape(len(x), -1)
        return self.head(h)


class RainPool(nn.Module):
    """An MLP per hour on (mm, observed), the mean over the masked hours, linear; ``mask_from_zero``:
    the hours whose reading is not 0, in place of the observed flag."""

    def __init__(self, *, mask_from_zero=False, d=32, classes=3):
        super().__init__()
        self.step = nn.Sequential(nn.Linear(2, d), nn.ReLU(), nn.Linear(d, d), nn.ReLU())
        self.head = nn.Linear(d, classes)
        self.mask_from_zero = mask_from_zero

    def forward(self, x):
        mask = (x[..., 0] != 0) if self.mask_from_zero else (x[..., 1] > 0)
        mask = mask.unsqueeze(-1).float()
        return self.head((self.step(x) * mask).sum(1) / mask.sum(1).clamp(min=1.0))


class ReadingLSTM(nn.Module):
    """``nn.LSTM(1, 32, batch_first=True)``, linear; ``cell_state``: the GRU code's ``_, h = rnn(x)``,
    ``h[-1][-1]``, which for an LSTM is the cell state's last layer."""

    def __init__(self, *, cell_state=False, hidden=32, classes=3):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)
        self.cell_state = cell_state

    def forward(self, x):
        if self.cell_state:
            _, h = self.lstm(x)
            return self.head(h[-1][-1])
        _, (h, c) = self.lstm(x)
        return self.head(h[-1])


class HiveNormGRU(nn.Module):
    """A ``BatchNorm1d`` on the inputs, ``nn.GRU(1, 32, batch_first=True)``, ``h_n[-1]``, linear;
    ``time_axis``: ``nn.BatchNorm1d(T)`` on (N, T, 1) itself, not ``nn.BatchNorm1d(1)`` on its transpose."""

    def __init__(self, *, time_axis=False, length=24, hidden=32, classes=3):
        super().__init__()
        self.norm = nn.BatchNorm1d(length if time_axis else 1)
        self.gru = nn.GRU(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)
        self.time_axis = time_axis

    def forward(self, x):
        x = self.norm(x) if self.time_axis else self.norm(x.transpose(1, 2)).transpose(1, 2)
        _, h_n = self.gru(x)
        return self.head(h_n[-1])


# ------------------------------------------------------------------------------ the user's losses
def weighted_mse(pred, target):
    """"Weight the big days more": the squared error times the target."""
    return (target * (pred - target) ** 2).mean()


CHILLER_BETA = 50.0                                 # "50 kW", the plant's units


def smooth_l1(beta):
    def loss(pred, target):
        return F.smooth_l1_loss(pred, target, beta=beta)
    return loss


# ------------------------------------------------------------------------------ the user's callbacks
STOP_PATIENCE = 5


class EarlyStopOnValidation(trainwell.Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; ``higher``: larger is better
    (the loss version's ``value < best`` otherwise)."""

    def __init__(self, *, monitor="val_acc", patience=STOP_PATIENCE, higher=True):
        self.monitor, self.patience, self.higher = monitor, patience, higher
        self.best, self.waited = -np.inf if higher else np.inf, 0

    def on_epoch_end(self, state):
        value = state.metrics.get(self.monitor)
        if value is None:
            return
        if (value > self.best) if self.higher else (value < self.best):
            self.best, self.waited = value, 0
            return
        self.waited += 1
        if self.waited >= self.patience:
            state.stop = Stop(StopKind.EARLY_STOPPING, f"{self.monitor} has not improved for {self.patience} epochs")


# ------------------------------------------------------------------------------ the pairs
def _text_parts(ids, y, *, seed):
    return user._split(ids, y, seed=seed, standardize=False)


def _tickets_vocab_from_zero_masked_as_padding(broken):
    texts, y = ticket_texts(2000, seed=1501)
    ids = encode(texts, vocabulary(texts, start=0 if broken else 1))
    torch.manual_seed(1501)
    return TicketPool(), _text_parts(ids, y, seed=1501), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12}, \
        frozenset({"uninformative_inputs", "underfitting", "cannot_overfit_small_subset"})


def _reviews_stopword_list_drops_not(broken):
    texts, y = review_texts(2000, seed=1502)
    texts = without(texts, NLTK_STOP_WORDS if broken else STOP_WORDS)
    vocab = vocabulary(review_texts(2000, seed=1502)[0])           # every word the reviews hold
    torch.manual_seed(1502)
    return NegationCNN(len(vocab) + 1), _text_parts(encode(texts, vocab), y, seed=1502), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12}, \
        frozenset({"label_problem", "underfitting"})


def _meters_target_missing_sentinel(broken):
    X, kwh = meter_days(2500, seed=1503)
    if not broken:                      # df[df.kwh != -999]
        keep = kwh != SENTINEL
        X, kwh = X[keep], kwh[keep]
    torch.manual_seed(1503)
    return Regressor(6), user.standard_targets(user._split(X, kwh, seed=1503, regression=True)), \
        dict(ADAM, epochs=25, loss=mse), frozenset({"label_problem", "targets_off_scale", "underfitting"})


def _sales_mse_weighted_by_standardized_target(broken):
    X, sales = plant_rows(2400, seed=1504)
    torch.manual_seed(1504)
    return Regressor(6), user.standard_targets(user._split(X, sales, seed=1504, regression=True)), \
        dict(ADAM, epochs=25, loss=weighted_mse if broken else mse), \
        DIVERGED | {"loss_output_mismatch", "underfitting"}


def _panels_clip_after_standardize(broken):
    X, y = panel_images(2000, seed=1505)
    parts = _sequence_parts(X, y, seed=1505, shape=(1, 16, 16))     # one mean and std of the training pixels
    if broken:
        parts = [(x.clamp(0.0, 1.0), t) for x, t in parts]
    torch.manual_seed(1505)
    return DefectCNN(4), parts, {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 10}, \
        frozenset({"uninformative_inputs", "underfitting"})


def _sheets_second_camera_inverted(broken):
    X, y = panel_images(2000, seed=1506)
    camera_b = np.random.default_rng(1506 + 1).random(len(X)) < 0.5
    if broken:                          # camera B's negatives joined as they are
        X = X.copy()
        X[camera_b] = 1.0 - X[camera_b]
    torch.manual_seed(1506)
    return DefectCNN(4), _image_parts(X, y, seed=1506, shape=(1, 16, 16)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 10}, frozenset({"label_problem", "underfitting"})


def _readings_detrend_trend_classes(broken):
    X, y = hourly_readings(2000, seed=1507)
    if broken:                          # "remove the drift first"
        X = detrend(X, axis=1).astype(np.float32)
    torch.manual_seed(1507)
    return ReadingCNN(), _sequence_parts(X, y, seed=1507, shape=(1, 24)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12}, \
        frozenset({"uninformative_inputs", "underfitting", "cannot_overfit_small_subset"})


COUNTER_SHARE = 0.3                     # the share of validation and test rows with errors on the counter


def _counters_zero_variance_column_scaled(broken):
    X, y = _table(2400, 1508, 8, THREE_CLASSES, EVEN)
    rows = _index_split(y, seed=1508)
    g = np.random.default_rng(1508 + 1)
    counter = np.zeros(len(y))
    later = np.concatenate(rows[1:])    # the newer firmware's rows: validation and test
    counter[later] = g.integers(1, 3, len(later)) * (g.random(len(later)) < COUNTER_SHARE)
    xs = scaled(np.column_stack([X, counter]), rows, guard=not broken)
    torch.manual_seed(1508)
    return _mlp(9, 3), [(x, torch.tensor(y[r]).long()) for x, r in zip(xs, rows)], ADAM, \
        frozenset({"split_mismatch", "unnormalized_inputs"})


def _presses_plain_sgd_lr_momentum_default(broken):
    X, y = _table(2400, 1509, 7, [[0.0] * 7, [0.9, 0, -0.6, 0, 0.5, 0, 0], [0, 1.0, 0, 0.7, 0, -0.5, 0.4]], EVEN)
    torch.manual_seed(1509)
    opts = {"optimizer": "sgd", "lr": 0.2, "batch_size": 32, "epochs": 20}
    return _mlp(7, 3), user._split(X, y, seed=1509), opts if broken else dict(opts, momentum=0.0), \
        DIVERGED | {"optimizer_setting"}


def _compressors_causal_conv_untrimmed(broken):
    X, y = pump_traces(2000, seed=1510)
    torch.manual_seed(1510)
    return CausalTCN(trim=not broken), _sequence_parts(X.transpose(0, 2, 1), y, seed=1510, shape=(2, 32)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12}, \
        frozenset({"underfitting", "cannot_overfit_small_subset", "uninformative_inputs"})


def _pumps_gru_state_view_without_permute(broken):
    X, y = pump_traces(2000, seed=1511)
    torch.manual_seed(1511)
    return PumpGRU(view=broken), _sequence_parts(X, y, seed=1511, shape=(32, 2)), \
        {"optimizer": "adam", "lr": 3e-3, "batch_size": 64, "epochs": 12}, \
        frozenset({"batch_dependence", "underfitting"})


def _rain_padding_mask_from_zero_readings(broken):
    X, y = rain_records(2000, seed=1512)
    torch.manual_seed(1512)
    return RainPool(mask_from_zero=broken), _image_parts(X, y, seed=1512, shape=(RAIN_HOURS, 2)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12}, \
        frozenset({"uninformative_inputs", "underfitting", "cannot_overfit_small_subset"})


def _looms_early_stop_callback_accuracy_as_loss(broken):
    X, y = _table(2400, 1513, 8, [[0.0] * 8, [0.9, 0, 0.6, 0, -0.5, 0, 0, 0], [0, 1.0, 0, -0.7, 0, 0.5, 0, 0.4]],
                  EVEN)
    torch.manual_seed(1513)
    return _mlp(8, 3), user._split(X, y, seed=1513), \
        {"optimizer": "sgd", "lr": 0.02, "momentum": 0.0, "batch_size": 32, "epochs": 60,
         "callbacks": [EarlyStopOnValidation(higher=not broken)]}, SLOW | {"stops_too_soon"}


def _tides_lstm_reads_cell_state(broken):
    X, y = hourly_readings(2000, seed=1514)
    torch.manual_seed(1514)
    return ReadingLSTM(cell_state=broken), _sequence_parts(X, y, seed=1514, shape=(24, 1)), \
        {"optimizer": "adam", "lr": 3e-3, "batch_size": 64, "epochs": 12}, frozenset({"underfitting"})


def _chillers_smooth_l1_beta_raw_units(broken):
    X, power = plant_rows(2400, seed=1515)
    torch.manual_seed(1515)
    return Regressor(6), user.standard_targets(user._split(X, power, seed=1515, regression=True)), \
        dict(ADAM, epochs=25, loss=smooth_l1(CHILLER_BETA if broken else 1.0)), \
        frozenset({"lr_too_low", "underfitting"})


def _mixers_rmsprop_positional_alpha(broken):
    X, y = _table(2400, 1516, 8, THREE_CLASSES, EVEN)
    torch.manual_seed(1516)
    model = _mlp(8, 3)
    if broken:                          # "lr, momentum": RMSprop(params, lr, alpha, eps, weight_decay, momentum)
        optimizer = torch.optim.RMSprop(model.parameters(), 1e-3, 0.9)
    else:
        optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, momentum=0.9)
    return model, user._split(X, y, seed=1516), {"optimizer": optimizer, "lr": 1e-3, "batch_size": 32, "epochs": 20}, \
        frozenset({"optimizer_setting"})


FIRST_ACCOUNT = 100000


def _accounts_row_id_left_in_features(broken):
    X, y = _table(2400, 1517, 8, [[0.0] * 8, [1.0, 0, -0.6, 0, 0.5, 0, 0, 0], [0, 0.9, 0, 0.8, 0, -0.6, 0.4, 0]],
                  EVEN)
    if broken:                          # the export's account_id column left in
        ids = FIRST_ACCOUNT + np.random.default_rng(1517 + 1).permutation(len(X))
        X = np.column_stack([X, ids])
    torch.manual_seed(1517)
    return _mlp(X.shape[1], 3), user._split(X, y, seed=1517), ADAM, frozenset({"categories_as_numbers", "overfitting"})


def _hives_batchnorm_over_time_axis(broken):
    X, y = hourly_readings(2000, seed=1518)
    torch.manual_seed(1518)
    return HiveNormGRU(time_axis=broken), _sequence_parts(X, y, seed=1518, shape=(24, 1)), \
        {"optimizer": "adam", "lr": 3e-3, "batch_size": 64, "epochs": 12}, \
        frozenset({"batch_dependence", "eval_mode_gap"})


PAIRS = {"tickets_vocab_from_zero_masked_as_padding": _tickets_vocab_from_zero_masked_as_padding,
         "reviews_stopword_list_drops_not": _reviews_stopword_list_drops_not,
         "meters_target_missing_sentinel": _meters_target_missing_sentinel,
         "sales_mse_weighted_by_standardized_target": _sales_mse_weighted_by_standardized_target,
         "panels_clip_after_standardize": _panels_clip_after_standardize,
         "sheets_second_camera_inverted": _sheets_second_camera_inverted,
         "readings_detrend_trend_classes": _readings_detrend_trend_classes,
         "counters_zero_variance_column_scaled": _counters_zero_variance_column_scaled,
         "presses_plain_sgd_lr_momentum_default": _presses_plain_sgd_lr_momentum_default,
         "compressors_causal_conv_untrimmed": _compressors_causal_conv_untrimmed,
         "pumps_gru_state_view_without_permute": _pumps_gru_state_view_without_permute,
         "rain_padding_mask_from_zero_readings": _rain_padding_mask_from_zero_readings,
         "looms_early_stop_callback_accuracy_as_loss": _looms_early_stop_callback_accuracy_as_loss,
         "tides_lstm_reads_cell_state": _tides_lstm_reads_cell_state,
         "chillers_smooth_l1_beta_raw_units": _chillers_smooth_l1_beta_raw_units,
         "mixers_rmsprop_positional_alpha": _mixers_rmsprop_positional_alpha,
         "accounts_row_id_left_in_features": _accounts_row_id_left_in_features,
         "hives_batchnorm_over_time_axis": _hives_batchnorm_over_time_axis}

# Which broken setups are repairable: the fault lies in a setting of the run (issue 11's list, with
# sets 5-20's additions and the run options this set uses), not in the data, the model's code or
# the user's loss, schedule function, optimizer or callback. Stated before any of this set was run
# (branch babysit99, 2026-12-07). Repairs run only where the fault also hurts (the kill rule).
REPAIRABLE = {"tickets_vocab_from_zero_masked_as_padding": None,   # the encoding: the data
              "reviews_stopword_list_drops_not": None,             # the preprocessing: the data
              "meters_target_missing_sentinel": None,              # the targets: the data
              "sales_mse_weighted_by_standardized_target": None,   # the user's loss
              "panels_clip_after_standardize": None,               # the preprocessing: the data
              "sheets_second_camera_inverted": None,               # the join: the data
              "readings_detrend_trend_classes": None,              # the preprocessing: the data
              "counters_zero_variance_column_scaled": None,        # the preprocessing: the data
              "presses_plain_sgd_lr_momentum_default": "lr",       # the lr and momentum options
              "compressors_causal_conv_untrimmed": None,           # the model's code
              "pumps_gru_state_view_without_permute": None,        # the model's code
              "rain_padding_mask_from_zero_readings": None,        # the model's code
              "looms_early_stop_callback_accuracy_as_loss": None,  # the user's callback
              "tides_lstm_reads_cell_state": None,                 # harmless by design; the model's code
              "chillers_smooth_l1_beta_raw_units": None,           # harmless by design; the user's loss
              "mixers_rmsprop_positional_alpha": None,             # harmless by design; the user's optimizer
              "accounts_row_id_left_in_features": None,            # harmless by design; the data
              "hives_batchnorm_over_time_axis": None}              # harmless by design; the model's code
# Settings of that list that no action in trainwell/babysit/actions.py changes the way the fault
# needs: set 20's names (read there, not run).
NO_ACTION = user20.NO_ACTION


if __name__ == "__main__":
    user.NO_ACTION = NO_ACTION          # the report reads babysit_user.NO_ACTION
    sys.exit(user.main(pairs=PAIRS, repairable=REPAIRABLE, doc=__doc__))
