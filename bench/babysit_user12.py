"""A twelfth held-out set of setups written as users write them: measured, never tuned on.

Issue 11 asks for the babysitter's quality on setups nobody tuned it for. Sets 1-11
(``babysit_user.py`` .. ``babysit_user11.py``) were read, and partly developed on, by the engineers
changing the babysitter; this twelfth set was written (branch babysit56, 2026-12-06) and committed
before any of it was run, so that it measures the merged result of the work going on now: it is
only measured, nobody tunes on it. 19 pairs, each the user's own ``nn.Module`` (or an
``nn.Sequential``) on data generated here (nothing downloads), a healthy setup and the same setup
with one fault: 14 meant to hurt, 5 harmless on purpose.

| pair | data | model, training | healthy | fault (expected codes) |
| --- | --- | --- | --- | --- |
| turnstiles_hour_period_12 | metro station-hours: hour, weekday (sin, cos), weekend, station size, temperature, rain, event; entries low, normal, high (weekday rush hours 7-9 and 17-19, nights 0-5 low) | ``nn.Sequential`` 9-64-64-3, a TOML config: Adam, ``preprocess = ["standardize"]`` | the hour as sin / cos of ``2 pi hour / 24`` | ``2 pi hour / 12`` "the hour on a clock face": 2 am and 2 pm, 5 am and 5 pm, 8 am and 8 pm are one point (uninformative_inputs, underfitting) |
| chillers_head_debug_rows | a year of hourly chiller plant power (kW, regression) from temperature, humidity, occupancy, hour (sin, cos), weekend; cooling above 16 C, convex | Regressor 6-64-64-1, Adam, MSE; validation and test drawn from the whole year | 1440 training rows sampled from the year (``df.sample(1440)`` "to train faster") | ``df.head(1440)`` left in from debugging on the date-sorted export: January and February only, no cooling in the training rows (split_mismatch, underfitting) |
| hotspots_pair_stacked_twice | 12x12 thermal frames of a board before and after a load test: unchanged, appeared, gone, moved hot spot | SmallCNN (2 input channels; conv, pool, conv, global max, linear), Adam | ``np.stack([before, after], 1)`` | ``np.stack([after, after], 1)``, a copy-paste: the change cannot be seen (uninformative_inputs, underfitting, cannot_overfit_small_subset, slow learning) |
| icecream_weather_monthfirst | three ice-cream kiosks over 2022-2024: the day's weather (temperature, sun hours, rain) joined by date from the weather service's CSV (``dd/mm/YYYY``), weekday, kiosk; sales low, normal, high | ``nn.Sequential`` 9-64-64-3, Adam | the weather's dates parsed day first (``dayfirst=True``) | parsed month first (pandas' default on ambiguous dates, ``errors="coerce"``): days 1-12 get another date's weather, days 13-31 none, ``fillna(mean)`` (uninformative_inputs, underfitting) |
| drills_window_divide_first | spindle vibration windows (64 steps, zero-mean): ok, chatter (a sine), breakage (a spike), wear (more noise) | DrillCNN (Conv1d x 2, global max, linear) on (N, 1, 64), Adam | every window divided by one scale (the training windows' std) | ``x / x[:, :1] - 1``, "relative to the first sample" as for price windows: divided by a zero-mean sample, random sign and scale (unnormalized_inputs, uninformative_inputs, underfitting, cannot_overfit_small_subset, slow learning) |
| reviews_attention_softmax_queries | short reviews of 24 tokens: 1-4 sentiment words, each negated by a "not" before it; negative, neutral, positive by the sum of the signs | ReviewAttention (token and learned position embeddings, one self-attention written out, a residual MLP, mean over positions), Adam | ``scores.softmax(dim=-1)`` over the keys of the (N, L, L) scores | ``softmax(dim=1)``, over the queries: each key's weights sum to 1, not each query's (underfitting, cannot_overfit_small_subset, slow learning) |
| parts_argmax_as_features | 16x16 machined surfaces: pit, burr, scratch, dent, anywhere | SmallCNN (conv, pool, conv, global max over the flattened map, linear), Adam | ``pooled, _ = x.flatten(2).max(2)`` | ``_, pooled = ...``: the positions of the maxima (``.float()`` "expected Float but found Long"), no gradient reaches the convolutions (frozen_parameters, underfitting, cannot_overfit_small_subset, slow learning) |
| lenses_center_crop | 16x16 moulded lenses: clean, bubble, scratch anywhere inside, a chip in the rim | SmallCNN, Adam | the whole image | ``x[:, :, 4:-4, 4:-4]`` in ``forward``, "CenterCrop as the ImageNet recipe crops 224 of 256": the rim and most of the disc cut off (uninformative_inputs, underfitting, cannot_overfit_small_subset, slow learning) |
| stores_embedding_ids_from_one | store-days of a chain of 40 stores: the store's id, price index, promotion, weekday (sin, cos), temperature; sales low, normal, high, mostly by the store | EmbeddingNet (``nn.Embedding(40, 8)`` of column 0, the numeric columns, MLP 64-64), Adam | ``store_id - 1`` | the database's ids 1-40 as they are: id 40 is out of the embedding's range, every batch holding it raises (model_raises) |
| orders_ce_index_broadcast | web orders: 8 measurements; standard, express, pickup, locker at about 32 / 30 / 24 / 14 % | ``nn.Sequential`` 8-64-64-4, Adam, the user's cross-entropy | ``-logp[torch.arange(N), target].mean()`` | ``-logp[:, target].mean()``: an (N, N) matrix, every row pushed to every label of the batch, the class mix (loss_output_mismatch, underfitting) |
| grapes_kl_div_probs | vineyard plots: 9 measurements; quality low, medium, high | ``nn.Sequential`` 9-64-64-3, Adam, the user's ``F.kl_div`` to one-hot targets | ``F.kl_div(F.log_softmax(z, 1), onehot, reduction="batchmean")`` | ``F.kl_div(F.softmax(z, 1), ...)``: probabilities where ``kl_div`` takes log-probabilities, the loss is minus the true class's probability (loss_output_mismatch, underfitting, slow learning) |
| yields_numpy_loss_rewrapped | field trials: rain, temperature, N, P, K, pH, sowing day; yield t/ha (regression) | Regressor 7-64-64-1, Adam, the user's mean absolute error | in torch | in numpy, ``torch.tensor(np.mean(np.abs(pred.detach().numpy() - ...)), requires_grad=True)`` after two error messages: no gradient reaches the model (frozen_parameters, gradient_mismatch, cannot_overfit_small_subset, underfitting, slow learning) |
| claims_confidence_penalty_no_mean | warranty claims: 8 measurements; approve, inspect, reject at about 52 / 30 / 18 % | ``nn.Sequential`` 8-64-64-3, Adam, the user's cross-entropy with a confidence penalty (Pereyra et al. 2017) | ``(nll - 0.1 * entropy).mean()`` | the per-row vector returned without ``.mean()`` (loss_output_mismatch, model_raises) |
| dryers_schedule_returns_lr | industrial dryer batches: 7 measurements; under-dried, ok, over-dried | ``nn.Sequential`` 7-64-64-3, ``fit(..., schedule=fn)``: Adam, lr 1e-3, the user's schedule function | ``0.5 ** (step // 600)``, a multiplier | ``1e-3 * 0.5 ** (step // 600)``, the lr itself "as LambdaLR is often misread": trainwell multiplies, the lr is 1e-6 (lr_too_low, schedule_decays_early, underfitting, slow learning) |
| wagons_lstm_first_layer_state | rail wagon axle-box vibration and speed (48 steps): ok, flat wheel (impulses once a turn), bearing (growing noise) | WagonLSTM (2-layer LSTM 2-32, batch_first), Adam | ``h_n[-1]``, the last layer's final state | ``h_n[0]``, the first layer's: the second layer gets no gradient (harmless by design: the first layer's state is read and trained directly) |
| kiosks_embedding_padding_idx | ticket kiosks (30, kiosk 0 the busiest), hour (sin, cos), weekend, queue, card share, outages; tickets low, normal, high | EmbeddingNet (``nn.Embedding(30, 8)``), Adam | no ``padding_idx`` | ``padding_idx=0`` "as every embedding tutorial has it", on a real kiosk: its vector stays 0 (harmless by design: a fixed vector is still its own, the others learn around it) |
| bricks_batch_standardize_forward | 16x16 brick faces under varying light: sound, crack, spalling, efflorescence | SmallCNN, Adam | pixels standardized with the training pixels' mean and std | ``x = (x - x.mean()) / x.std()`` in ``forward`` on raw pixels, "so predict needs no scaler": the batch's statistics (harmless by design: batches of 64 and more have steady statistics) |
| boilers_zca_toml | boiler telemetry in its units, correlated through the load: load, burner, steam, flue temperature, O2, CO, feedwater temperature, draft; normal, fouling, air leak, burner fault | ``nn.Sequential`` 8-64-64-4, a TOML config: Adam | ``preprocess = ["standardize"]`` | ``preprocess = ["zca"]`` "whitening decorrelates the columns" (harmless by design: an invertible linear map of the inputs) |
| tanks_huber_signed_error | water tower refills: pump kW, inflow, demand, start level, pipe age, night tariff; minutes (regression) | Regressor 6-64-64-1, Adam, the user's Huber loss | the branch on ``abs(pred - target) < 1`` | on ``pred - target < 1`` (no ``abs``): quadratic for every negative error (harmless by design: still least at zero error, the standardized errors small) |

**What is new against sets 1-11.** Data: all generated here (metro station-hours, a year of a
chiller plant, thermal frame pairs, ice-cream kiosks with a weather table keyed by date text,
spindle vibration, reviews as tokens with negations, machined surfaces, moulded lenses, store-days,
web orders, vineyard plots, field trials, warranty claims, dryer batches, rail wagon traces, ticket
kiosks, brick faces, boiler telemetry, water tower refills). Models: a written-out self-attention
with learned positions over token embeddings, a two-layer LSTM, a CNN on two-channel frame pairs,
a CNN that crops or standardizes in ``forward``, embeddings of an id column beside numeric ones
(one with ``padding_idx``). Losses: a cross-entropy picked by indexing, ``F.kl_div`` to one-hot
targets, a mean absolute error in torch and in numpy, a cross-entropy with a confidence penalty, a
Huber loss (all the user's). Training choices: two TOML configs (``preprocess`` with
``standardize`` and ``zca``), a schedule function passed to ``fit``, validation and test drawn
apart from the training rows. Faults (none in sets 1-11, nor in issue 11's list): an hour encoded
with a 12-hour period, a training set cut by a leftover ``head()`` of a date-sorted export, one
frame of a pair stacked twice, dates parsed month first in a join, windows divided by their first
sample, a softmax over the queries, the pool's indices taken for its values, a centre crop that
cuts off where the signal lies, 1-based ids into an embedding, a loss picked with ``[:, target]``,
``kl_div`` given probabilities, a loss computed in numpy and made a tensor again, a per-row loss
not reduced, a schedule function that returns the lr; harmless on purpose: a two-layer LSTM read
at its first layer, ``padding_idx`` on a real id, the batch's own standardization in ``forward``,
ZCA whitening for standardizing, a Huber branch without ``abs``. Left out as too close to sets
1-11: an augmentation that changes the class (set 5), lag features (set 11), a view that mixes
rows or channels (set 6), per-row standardization of a table (set 6) and a unit norm (set 9),
features in float16 (set 9, also the way ``precision = "bf16"`` would hurt), a schedule that
decays too early or counts epochs as steps (sets 4, 6, 7), early stopping that stops too soon
(set 7), class weights (set 5), a fine-tuning recipe on a model trained from scratch (sets 3,
11: ``freeze``, ``lr_mults``), a weight average (sets 8, 11). Left out because trainwell refuses
or voids them (read in trainwell/, not run): ``patience = 0`` meant as "no early stopping", as some
libraries read 0 (``patience`` must be at least 1: a ``ConfigError`` naming it); ``augment =
["hflip"]`` on a table or a 1-D sequence (the image augmentations refuse inputs that are not
(N, C, H, W) with a ``ConfigError``); a user's gradient clipping in a callback's
``on_before_step`` (trainwell's step zeroes the gradients after that hook, in its closure, so the
user's clip acts on nothing: a hook order, harmless whatever the clip); ``nn.Dropout2d`` on
flattened (N, F) features (PyTorch 2.13 treats it as plain dropout, with a warning). The nearest to
earlier faults: the month-first join against set 11's join on codes that lost their leading zeros
(both a key read another way; here the rows match the wrong day, there none match), the division
by the first sample against set 6's per-row standardization (there each row's own mean and std,
here one zero-mean sample), the centre crop against set 10's sequence truncated at the wrong end,
the pool's indices against set 5's ``detach()`` (both cut the convolutions' gradient, here by
reading the wrong half of a tuple), the rewrapped numpy loss against set 5's in-place error (both
follow an error message; here the fix runs and trains nothing).

Whether a fault hurts is not taken from this table: ``babysit_user.killed`` computes it from the
``babysit="off"`` runs (>= 3 points of validation accuracy, or MSE / Var(y) 25 % higher for
regression) and prints it. A fault that does not hurt is scored as harmless: any warning or error
on it is a false alarm. Scored by ``babysit_user.main`` (imported, the same rules as sets 1-11; its
docstring says them); ``REPAIRABLE`` below says, per pair and before any of it was run, which
faults lie in a setting the babysitter's actions could change. Every pair keeps the same number of
rows per split on both sides; the chiller pair's validation and test rows are the same on both
sides, its training rows differ (the fault).

Run: ``python bench/babysit_user12.py`` (a markdown report; ``--json rows.json`` keeps the rows;
``--pair NAME`` runs one pair; ``--no-train`` skips training; ``--repair`` adds the repairs;
``--seeds N`` training seeds, default 2; ``--combine u1.json ... u12.json`` reports the sets
together with this file's ``NO_ACTION`` names). Run it on the CPU, as sets 1-11.
"""
from __future__ import annotations

import datetime
import math
import sys
import tomllib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import babysit_user as user  # noqa: E402  (the split helpers and the scoring)
import babysit_user11 as user11  # noqa: E402  (set 11's helpers and NO_ACTION names, for --combine)

DIVERGED, SLOW = user.DIVERGED, user.SLOW
_classes, _z, _standard_targets = user.noisy_classes, user.zscore, user.standard_targets
_index_split, _mlp, _tertiles, _canvas = user11._index_split, user11._mlp, user11._tertiles, user11._canvas
# what a user would hope to read when a model cannot learn from its inputs
CANNOT_LEARN = user11.CANNOT_LEARN


def _standardized(X, rows):
    """``X``'s splits at ``rows`` standardized with the training split's statistics, as float32 tensors."""
    mu, sd = X[rows[0]].mean(0), X[rows[0]].std(0) + 1e-8
    return [torch.tensor((X[r] - mu) / sd, dtype=torch.float32) for r in rows]


def _with_labels(xs, y, rows, *, regression=False):
    cast = (lambda v: torch.tensor(v, dtype=torch.float32)) if regression else (lambda v: torch.tensor(v).long())
    return [(x, cast(y[r])) for x, r in zip(xs, rows)]


def _image_parts(X, y, *, seed, shape):
    """The user's stratified 60 / 20 / 20 split of images (pixels as they are), reshaped to ``shape``."""
    parts = user._split(X.reshape(len(X), -1), y, seed=seed, standardize=False)
    return [(x.reshape(-1, *shape), t) for x, t in parts]


# ------------------------------------------------------------------------------ the user's data
def turnstile_hours(n: int, *, seed: int):
    """Station-hours of a metro line: the hour (0-23), weekday, and station size (standard score),
    temperature, rain (mm), an event nearby; entries low, normal, high (weekday rush hours 7-9 and
    17-19 high, nights 0-5 low, weekend middays busier)."""
    g = np.random.default_rng(seed)
    hour, weekday = g.integers(0, 24, n), g.integers(0, 7, n)
    weekend = weekday >= 5
    size, temp, rain = g.normal(size=n), g.normal(12, 8, n), g.gamma(0.5, 2.0, n)
    event = (g.random(n) < 0.08).astype(np.float64)
    am, pm = np.isin(hour, [7, 8, 9]) & ~weekend, np.isin(hour, [17, 18, 19]) & ~weekend
    night, midday = np.isin(hour, [0, 1, 2, 3, 4, 5]), weekend & np.isin(hour, range(11, 18))
    demand = 1.6 * am + 1.3 * pm - 1.8 * night + 0.5 * midday + 0.6 * size + 0.8 * event - 0.15 * rain \
        + g.normal(0, 0.35, n)
    return hour, weekday, np.column_stack([size, temp, rain, event]), _tertiles(demand)


def chiller_year(*, seed: int):
    """One year of hourly rows in date order (8760): outdoor temperature, humidity, occupancy, hour
    (sin, cos), weekend; the chiller plant's power (kW): a base load, occupancy, and cooling that
    starts above 16 C and grows faster than linearly with the heat and the humidity."""
    g = np.random.default_rng(seed)
    t = np.arange(8760)
    day, hour = t // 24, t % 24
    weekend = ((day + 5) % 7 >= 5).astype(np.float64)                 # 2023-01-01 was a Sunday
    temp = 13 - 11 * np.cos(2 * np.pi * day / 365) + 4 * np.sin(2 * np.pi * (hour - 9) / 24) + g.normal(0, 2.5, 8760)
    humidity = g.uniform(30, 90, 8760)
    occupancy = ((hour >= 8) & (hour <= 18) & (weekend == 0)) * g.uniform(0.6, 1.0, 8760)
    cool = np.clip(temp - 16, 0, None)
    power = 40 + 6 * cool + 0.25 * cool ** 2 * (1 + humidity / 100) + 30 * occupancy + g.normal(0, 5, 8760)
    X = np.column_stack([temp, humidity, occupancy, np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24),
                         weekend])
    return X, power


def hotspot_pairs(n: int, *, seed: int, size: int = 12):
    """(n, size, size) thermal frames of a board before and after a load test, noise sd 0.05 on 0.3:
    0 unchanged (a hot spot at the same place in both), 1 appeared (after only), 2 gone (before
    only), 3 moved (in both, at least 3 pixels apart)."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 4, n)
    r, c = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    before = 0.3 + g.normal(0, 0.05, (n, size, size))
    after = 0.3 + g.normal(0, 0.05, (n, size, size))

    def spot(p):
        return 0.5 * np.exp(-((r - p[0]) ** 2 + (c - p[1]) ** 2) / 2.0)

    for i in range(n):
        p = g.uniform(2, size - 3, 2)
        q = p
        while y[i] == 3 and np.hypot(*(q - p)) < 3:
            q = g.uniform(2, size - 3, 2)
        if y[i] in (0, 2, 3):
            before[i] += spot(p)
        if y[i] in (0, 1):
            after[i] += spot(p)
        elif y[i] == 3:
            after[i] += spot(q)
    return before.astype(np.float32), after.astype(np.float32), y.astype(np.int64)


def kiosk_days(*, seed: int):
    """Three ice-cream kiosks over 2022-2024 (1096 days): each row a kiosk-day with its date, the
    kiosk, weekday; the weather table by date as the weather service's CSV writes it (day first,
    "dd/mm/YYYY"): temperature (C), sun hours, rain (mm); sales low, normal, high, mostly by the
    weather."""
    g = np.random.default_rng(seed)
    days = 1096
    start = datetime.date(2022, 1, 1)
    dates = [start + datetime.timedelta(days=d) for d in range(days)]
    doy = np.array([d.timetuple().tm_yday for d in dates])
    temp = 12 - 10 * np.cos(2 * np.pi * doy / 365.25) + g.normal(0, 3.5, days)
    sun = np.clip(6 - 3 * np.cos(2 * np.pi * doy / 365.25) + g.normal(0, 2.5, days), 0, 14)
    rain = g.gamma(0.5, 3.0, days)
    weather = {d.strftime("%d/%m/%Y"): (temp[i], sun[i], rain[i]) for i, d in enumerate(dates)}
    kiosk = np.repeat(np.arange(3), days)
    day = np.tile(np.arange(days), 3)
    weekday = np.array([dates[d].weekday() for d in day])
    sales = 0.18 * temp[day] + 0.12 * sun[day] - 0.15 * rain[day] + 0.5 * (weekday >= 5) \
        + np.array([0.0, 0.4, -0.3])[kiosk] + g.normal(0, 0.45, len(day))
    return [dates[d] for d in day], kiosk, weekday, weather, _tertiles(sales)


def drill_windows(n: int, *, seed: int, length: int = 64):
    """(n, length) spindle vibration windows, zero-mean (the logger removes the offset): 0 ok
    (noise sd 1), 1 chatter (a sine of period 8, amplitude 0.9), 2 a breakage spike (+-4 at one
    step), 3 wear (noise sd 1.6)."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 4, n)
    x = g.normal(0, 1, (n, length))
    t = np.arange(length)
    for i in range(n):
        if y[i] == 1:
            x[i] += 0.9 * np.sin(2 * np.pi * t / 8 + g.uniform(0, 2 * np.pi))
        elif y[i] == 2:
            x[i, g.integers(2, length - 2)] += 4.0 * g.choice([-1.0, 1.0])
        elif y[i] == 3:
            x[i] *= 1.6
    return x.astype(np.float32), y.astype(np.int64)


NOT, POSITIVE, NEGATIVE, VOCAB = 0, range(1, 6), range(6, 11), 32


def review_tokens(n: int, *, seed: int, length: int = 24):
    """(n, length) token ids of short reviews: 0 "not", 1-5 positive words, 6-10 negative words,
    11-31 neutral words; 1-4 sentiment words a review, each negated by a "not" just before it with
    probability 0.35; negative, neutral (the signs cancel), positive by the sum of the signs."""
    g = np.random.default_rng(seed)
    x = g.integers(11, VOCAB, (n, length))
    score = np.zeros(n)
    for i in range(n):
        for pos in g.choice(np.arange(1, length, 2), g.integers(1, 5), replace=False):
            sign = g.choice([-1, 1])
            x[i, pos] = g.choice(POSITIVE) if sign > 0 else g.choice(NEGATIVE)
            if g.random() < 0.35:
                x[i, pos - 1], sign = NOT, -sign
            score[i] += sign
    return x.astype(np.float32), (np.sign(score) + 1).astype(np.int64)


def machined_parts(n: int, *, seed: int, size: int = 16):
    """(n, size, size) grey machined surfaces (0.5, turning marks every 4 rows): 0 a pit (dark 2x2),
    1 a burr (bright 2x2), 2 a scratch (a bright 1-pixel line of 6, across or along), 3 a dent (a
    faint dark disc of radius 2.5); anywhere."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 4, n)
    img, r, c = _canvas(g, n, size, 0.5, 0.04)
    img += 0.04 * (r % 4 == 0)
    for i in range(n):
        pr, pc = g.integers(2, size - 8, 2)
        if y[i] == 0:
            img[i, pr:pr + 2, pc:pc + 2] -= 0.3
        elif y[i] == 1:
            img[i, pr:pr + 2, pc:pc + 2] += 0.3
        elif y[i] == 2:
            if g.random() < 0.5:
                img[i, pr, pc:pc + 6] += 0.3
            else:
                img[i, pr:pr + 6, pc] += 0.3
        else:
            img[i][np.hypot(r - pr - 2, c - pc - 2) <= 2.5] -= 0.12
    return img.astype(np.float32), y.astype(np.int64)


def lens_images(n: int, *, seed: int, size: int = 16):
    """(n, size, size) grey moulded lenses (a disc of radius 7, 0.7 on 0.2): 0 clean, 1 a bubble (a
    bright ring of radius 1.2 anywhere inside radius 5.5), 2 a scratch (a dark line of 5 pixels
    inside radius 5), 3 a chip (a dark notch in the rim, radius 5.8-7.5, 0.5 rad wide)."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 4, n)
    img, r, c = _canvas(g, n, size, 0.2, 0.04)
    d0 = np.hypot(r - 7.5, c - 7.5)
    img[:, d0 <= 7] += 0.5
    angle0 = np.arctan2(r - 7.5, c - 7.5)
    for i in range(n):
        rho, phi = g.uniform(0, 5.0), g.uniform(-np.pi, np.pi)
        pr, pc = 7.5 + rho * np.sin(phi), 7.5 + rho * np.cos(phi)
        if y[i] == 1:
            img[i][np.abs(np.hypot(r - pr, c - pc) - 1.2) < 0.5] += 0.25
        elif y[i] == 2:
            k = np.arange(5) - 2
            rr, cc = np.clip(np.round(pr + k * np.sin(phi + 1.2)), 0, size - 1), \
                np.clip(np.round(pc + k * np.cos(phi + 1.2)), 0, size - 1)
            img[i, rr.astype(int), cc.astype(int)] -= 0.35
        elif y[i] == 3:
            gap = np.abs((angle0 - phi + np.pi) % (2 * np.pi) - np.pi)
            img[i][(d0 >= 5.8) & (d0 <= 7.5) & (gap < 0.25)] = 0.2
    return img.astype(np.float32), y.astype(np.int64)


def brick_faces(n: int, *, seed: int, size: int = 16):
    """(n, size, size) grey brick faces under varying light (base 0.3-0.6): 0 sound, 1 a crack (a
    dark diagonal line), 2 spalling (a dark 4x4 corner), 3 efflorescence (a bright haze, radius 3)."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 4, n)
    img, r, c = _canvas(g, n, size, 0.0, 0.03)
    img += g.uniform(0.3, 0.6, (n, 1, 1)) + 0.05 * ((r % 5) == 0)
    for i in range(n):
        pr, pc = g.integers(2, size - 6, 2)
        if y[i] == 1:
            for k in range(6):
                img[i, pr + k if pr + k < size else size - 1, pc + k // 2] -= 0.2
        elif y[i] == 2:
            rr, cc = (0, 0) if g.random() < 0.5 else (size - 4, size - 4)
            img[i, rr:rr + 4, cc:cc + 4] -= 0.2
        elif y[i] == 3:
            img[i] += 0.15 * np.exp(-(np.hypot(r - pr - 2, c - pc - 2) / 3.0) ** 2)
    return img.astype(np.float32), y.astype(np.int64)


def wagon_traces(n: int, *, seed: int, length: int = 48):
    """(n, length, 2) axle-box vibration (noise) and speed (standard score, slowly varying): 0 ok, 1 a
    flat wheel (impulses of 2.5 once a wheel turn: every 6-10 steps, faster at speed), 2 a bearing
    (the vibration's noise growing from sd 1 to 2 over the trace)."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    x = np.zeros((n, length, 2))
    for i in range(n):
        speed = g.uniform(-1, 1)
        x[i, :, 1] = speed + 0.1 * np.cumsum(g.normal(0, 0.1, length))
        noise = g.normal(0, 1, length)
        if y[i] == 2:
            noise *= np.linspace(1, 2, length)
        x[i, :, 0] = noise
        if y[i] == 1:
            period = int(round(8 - 2 * speed))
            x[i, g.integers(0, period)::period, 0] += 2.5
    return x.astype(np.float32), y.astype(np.int64)


def _table(n, seed, d, weights, prior, noise=0.4, interact=0.5):
    """A user's table of ``d`` standard-score measurements and classes from linear scores with one
    interaction per class (``weights``: (classes, d)), a log prior and Gaussian label noise."""
    g = np.random.default_rng(seed)
    z = g.normal(size=(n, d))
    w = np.asarray(weights, dtype=np.float64)
    scores = np.log(prior) + z @ w.T + interact * np.column_stack([z[:, k % d] * z[:, (k + 1) % d]
                                                                  for k in range(len(w))])
    return z, _classes(scores, g, noise)


def store_days(n: int, *, seed: int, stores: int = 40):
    """Store-days of a chain: the store's id as the database numbers them (1-40), price index, promotion,
    weekday (sin, cos), temperature; sales low, normal, high, set mostly by the store."""
    g = np.random.default_rng(seed)
    effect = g.normal(0, 1.0, stores + 1)
    store = g.integers(1, stores + 1, n)
    price, promo = g.normal(1.0, 0.05, n), (g.random(n) < 0.25).astype(np.float64)
    weekday, temp = g.integers(0, 7, n), g.normal(14, 7, n)
    sales = effect[store] - 6 * (price - 1) + 0.5 * promo + 0.3 * (weekday >= 5) + 0.02 * temp + g.normal(0, 0.35, n)
    num = np.column_stack([price, promo, np.sin(2 * np.pi * weekday / 7), np.cos(2 * np.pi * weekday / 7), temp])
    return store, num, _tertiles(sales)


def kiosk_tickets(n: int, *, seed: int, kiosks: int = 30):
    """Ticket-kiosk hours: the kiosk (0-29, kiosk 0 the main entrance, the busiest), hour (sin, cos),
    weekend, queue length, card share, outage minutes; tickets low, normal, high, set mostly by the
    kiosk."""
    g = np.random.default_rng(seed)
    effect = g.normal(0, 0.8, kiosks)
    effect[0] = 2.0
    kiosk = g.integers(0, kiosks, n)
    hour, weekend = g.uniform(6, 23, n), (g.random(n) < 2 / 7).astype(np.float64)
    queue, card, outage = g.gamma(2, 2, n), g.beta(5, 2, n), g.exponential(2, n)
    tickets = effect[kiosk] + 0.6 * np.exp(-((hour - 17) / 2.5) ** 2) + 0.4 * weekend + 0.1 * queue \
        - 0.15 * outage + g.normal(0, 0.35, n)
    num = np.column_stack([np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24), weekend, queue, card, outage])
    return kiosk, num, _tertiles(tickets)


def boiler_telemetry(n: int, *, seed: int):
    """Boiler telemetry in its units (correlated through the load): load (%), burner (%), steam flow
    (t/h), flue gas temperature (C), O2 (%), CO (ppm), feedwater temperature (C), furnace draft (Pa);
    normal, fouling, air leak, burner fault."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 4, n)
    load = g.uniform(30, 100, n)
    burner = load * g.normal(1.0, 0.03, n) + 4 * (y == 3)
    steam = 0.12 * load + g.normal(0, 0.4, n) - 0.4 * (y == 1)
    flue = 140 + 0.9 * load + g.normal(0, 6, n) + 18 * (y == 1)
    o2 = 4 - 0.01 * load + g.normal(0, 0.35, n) + 0.9 * (y == 2)
    co = np.exp(g.normal(3.5, 0.3, n)) * (1 + 1.0 * (y == 3))
    feed = g.normal(105, 3, n)
    draft = -30 - 0.2 * load + g.normal(0, 3, n) + 6 * (y == 2)
    X = np.column_stack([load, burner, steam, flue, o2, co, feed, draft])
    return X.astype(np.float32), y.astype(np.int64)


def crop_yields(n: int, *, seed: int):
    """Field trials: rain (mm), mean temperature (C), N, P, K (kg/ha), soil pH, sowing day; yield (t/ha)."""
    g = np.random.default_rng(seed)
    rain, temp = g.normal(550, 120, n), g.normal(16, 2.5, n)
    nitrogen, phos, potash = g.uniform(0, 220, n), g.uniform(0, 90, n), g.uniform(0, 120, n)
    ph, sow = g.normal(6.5, 0.6, n), g.uniform(260, 320, n)
    yield_t = 2 + 4 * (1 - np.exp(-nitrogen / 90)) + 0.8 * (1 - np.exp(-phos / 30)) + 0.5 * (1 - np.exp(-potash / 40)) \
        - 0.004 * np.abs(rain - 600) - 0.12 * (temp - 16) ** 2 / 4 - 0.8 * (ph - 6.6) ** 2 - 0.01 * (sow - 280) \
        + g.normal(0, 0.35, n)
    return np.column_stack([rain, temp, nitrogen, phos, potash, ph, sow]).astype(np.float32), yield_t.astype(np.float32)


def tank_refills(n: int, *, seed: int):
    """Water tower refills: pump kW, inflow (L/s), demand (L/s), level at start (%), pipe age
    (years), night tariff; minutes to refill (regression)."""
    g = np.random.default_rng(seed)
    pump, inflow, demand = g.uniform(15, 45, n), g.uniform(20, 60, n), g.uniform(5, 30, n)
    level, age, night = g.uniform(10, 70, n), g.uniform(0, 40, n), (g.random(n) < 0.4).astype(np.float64)
    minutes = 600 * (100 - level) / 100 / np.maximum(inflow * (1 - 0.004 * age) - 0.6 * demand, 4) \
        + 0.1 * pump * night + g.normal(0, 1.5, n)
    return np.column_stack([pump, inflow, demand, level, age, night]).astype(np.float32), minutes.astype(np.float32)


# ------------------------------------------------------------------------------ the user's models
Regressor = user.Regressor      # a user's regression MLP: d_in-64-64-1, squeezed to (N,)


class SmallCNN(nn.Module):
    """The user's CNN for small grey images: conv, pool, conv, a global max pool, a linear layer;
    ``crop``: the user's centre crop of the input in ``forward`` (rows and columns ``crop``:-``crop``);
    ``standardize_batch``: the batch standardized in ``forward``; ``indices``: the pool's indices
    taken for its values."""

    def __init__(self, c_in=1, classes=4, *, crop=0, standardize_batch=False, indices=False):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(c_in, 16, 3, padding=1), nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32, classes)
        self.crop, self.standardize_batch, self.indices = crop, standardize_batch, indices

    def forward(self, x):
        if self.crop:                       # "CenterCrop, as the ImageNet recipe crops 224 of 256"
            x = x[:, :, self.crop:-self.crop, self.crop:-self.crop]
        if self.standardize_batch:          # "normalize the input in the model, so predict needs no scaler"
            x = (x - x.mean()) / x.std()
        x = F.relu(self.conv2(F.max_pool2d(F.relu(self.conv1(x)), 2)))
        if self.indices:                    # torch.max returns (values, indices): the user kept the second
            _, pooled = x.flatten(2).max(2)
            pooled = pooled.float()         # "expected Float but found Long"
        else:
            pooled, _ = x.flatten(2).max(2)
        return self.fc(pooled)


class DrillCNN(nn.Module):
    """A 1-D CNN over (N, 1, 64) vibration windows: two convolutions, a global max pool, a linear layer."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv1d(1, 16, 5, padding=2), nn.Conv1d(16, 32, 5, padding=2)
        self.fc = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc(F.relu(self.conv2(F.relu(self.conv1(x)))).amax(2))


class ReviewAttention(nn.Module):
    """Token and position embeddings, one single-head self-attention written out (queries, keys,
    values), a residual MLP, the mean over the positions, a linear read-out. ``query_axis``: the
    softmax taken over dim 1 of the (N, L, L) scores, the queries, instead of the keys (dim -1)."""

    def __init__(self, *, query_axis=False, d=32, length=24):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(VOCAB, d), nn.Parameter(torch.randn(length, d) * 0.1)
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, d))
        self.head = nn.Linear(d, 3)
        self.query_axis, self.d = query_axis, d

    def forward(self, x):                   # x: (N, L) token ids (as floats: fit makes inputs float)
        h = self.tokens(x.long()) + self.positions
        scores = self.q(h) @ self.k(h).transpose(1, 2) / math.sqrt(self.d)     # (N, L queries, L keys)
        weights = scores.softmax(dim=1) if self.query_axis else scores.softmax(dim=-1)
        h = h + weights @ self.v(h)
        h = h + self.mlp(h)
        return self.head(h.mean(1))


class WagonLSTM(nn.Module):
    """A two-layer LSTM over (N, 48, 2) traces, read from its final hidden state; ``first_layer``:
    ``h_n[0]`` (the first layer's) where ``h_n[-1]`` (the last layer's) was meant."""

    def __init__(self, *, first_layer=False, hidden=32):
        super().__init__()
        self.lstm = nn.LSTM(2, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, 3)
        self.first_layer = first_layer

    def forward(self, x):
        _, (h_n, _) = self.lstm(x)          # h_n: (layers, N, hidden)
        return self.head(h_n[0] if self.first_layer else h_n[-1])


class EmbeddingNet(nn.Module):
    """An id column (column 0, as a float) through an ``nn.Embedding``, the numeric columns beside it,
    an MLP 64-64; ``padding_idx`` passed to the embedding as given."""

    def __init__(self, ids, d_num, classes=3, *, padding_idx=None, d=8):
        super().__init__()
        self.embedding = nn.Embedding(ids, d, padding_idx=padding_idx)
        self.mlp = nn.Sequential(nn.Linear(d + d_num, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                                 nn.Linear(64, classes))

    def forward(self, x):
        return self.mlp(torch.cat([self.embedding(x[:, 0].long()), x[:, 1:]], 1))


# ------------------------------------------------------------------------------ the user's losses
def picked_ce(*, broadcast):
    """The user's cross-entropy: minus the log-probability picked at each row's label; ``broadcast``:
    picked with ``logp[:, target]`` (an (N, N) matrix: every row at every row's label) instead of
    ``logp[torch.arange(N), target]``."""
    def loss(logits, target):
        logp = F.log_softmax(logits, 1)
        picked = logp[:, target] if broadcast else logp[torch.arange(len(target)), target]
        return -picked.mean()
    return loss


def kl_to_onehot(*, probabilities):
    """The user's distillation-style loss with one-hot targets, ``F.kl_div(input, onehot)``;
    ``probabilities``: the input given as softmax probabilities, where ``kl_div`` takes log-probabilities."""
    def loss(logits, target):
        onehot = F.one_hot(target, logits.shape[1]).to(logits.dtype)
        given = F.softmax(logits, 1) if probabilities else F.log_softmax(logits, 1)
        return F.kl_div(given, onehot, reduction="batchmean")
    return loss


def torch_mae(pred, target):
    """The mean absolute error in torch."""
    return (pred - target).abs().mean()


def numpy_mae(pred, target):
    """The same error computed in numpy ("the metric from the competition's scoring script"), made a
    tensor again: ``detach()`` fixed "Can't call numpy() on Tensor that requires grad", and
    ``requires_grad=True`` fixed "element 0 of tensors does not require grad": no gradient reaches
    the model."""
    value = np.mean(np.abs(pred.detach().cpu().numpy() - target.detach().cpu().numpy()))
    return torch.tensor(value, dtype=pred.dtype, requires_grad=True)


def confidence_penalized_ce(*, reduce):
    """The user's cross-entropy with a confidence penalty (minus 0.1 x the entropy of the prediction,
    Pereyra et al. 2017), per row; ``reduce``: its mean over the batch (without it, a vector)."""
    def loss(logits, target):
        logp = F.log_softmax(logits, 1)
        per_row = F.nll_loss(logp, target, reduction="none") + 0.1 * (logp.exp() * logp).sum(1)
        return per_row.mean() if reduce else per_row
    return loss


def huber(*, signed):
    """The user's Huber loss (delta 1); ``signed``: the branch chosen on ``pred - target`` without
    ``abs()``: quadratic for any error below 1, negative ones too, linear above."""
    def loss(pred, target, delta=1.0):
        err = pred - target if signed else (pred - target).abs()
        return torch.where(err < delta, 0.5 * err ** 2, delta * (err - 0.5 * delta)).mean()
    return loss


def halving(step):
    """The user's schedule: the lr halved every 600 steps (a multiplier, as trainwell takes it)."""
    return 0.5 ** (step // 600)


def halving_lr(step):
    """The same written to return the lr itself ("the lr at this step", as LambdaLR is often misread):
    trainwell multiplies the base lr by it, 1e-3 x 1e-3."""
    return 1e-3 * 0.5 ** (step // 600)


# ------------------------------------------------------------------------------ the pairs
TURNSTILES_TOML = """
optimizer = "adam"
lr = 0.001
batch_size = 32
epochs = 20
preprocess = ["standardize"]
"""


def _turnstiles_hour_period_12(broken):
    hour, weekday, common, y = turnstile_hours(2400, seed=600)
    period = 12 if broken else 24           # broken: "the hour on a clock face", 12 hours a turn
    X = np.column_stack([np.sin(2 * np.pi * hour / period), np.cos(2 * np.pi * hour / period),
                         np.sin(2 * np.pi * weekday / 7), np.cos(2 * np.pi * weekday / 7),
                         (weekday >= 5).astype(np.float64), common])
    torch.manual_seed(600)
    return _mlp(9, 3), user._split(X, y, seed=600, standardize=False), tomllib.loads(TURNSTILES_TOML), \
        frozenset({"uninformative_inputs", "underfitting"})


def _chillers_head_debug_rows(broken):
    X, power = chiller_year(seed=601)
    g = np.random.default_rng(601)
    held = 1440 + g.permutation(8760 - 1440)[:960]        # validation and test: from the whole year past the head
    val, test = held[:480], held[480:]
    if broken:                              # df.head(1440) left in from debugging: January and February
        train = np.arange(1440)
    else:                                   # df.sample(1440): a sample of the year "to train faster"
        train = g.permutation(np.setdiff1d(np.arange(8760), held))[:1440]
    rows = [train, val, test]
    torch.manual_seed(601)
    return Regressor(6), _standard_targets(_with_labels(_standardized(X, rows), power, rows, regression=True)), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 25, "loss": "mse"}, \
        frozenset({"split_mismatch", "underfitting"})


def _hotspots_pair_stacked_twice(broken):
    before, after, y = hotspot_pairs(2000, seed=602)
    # broken: np.stack([after, after], 1), a copy-paste of the second frame
    X = np.stack([after, after] if broken else [before, after], 1)
    torch.manual_seed(602)
    return SmallCNN(c_in=2), _image_parts(X, y, seed=602, shape=(2, 12, 12)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 10}, CANNOT_LEARN | {"uninformative_inputs"}


def _icecream_weather_monthfirst(broken):
    dates, kiosk, weekday, weather, y = kiosk_days(seed=603)
    pick = np.random.default_rng(603).permutation(len(y))[:2400]
    rows = []
    for i in pick:
        if broken:                          # pd.to_datetime(weather.date): month first, errors="coerce"
            # the sales date D is matched by the weather row whose text read month first gives D:
            # the row of (D.year, month = D.day, day = D.month) when D.day <= 12, else none (NaT)
            d = dates[i]
            key = f"{d.month:02d}/{d.day:02d}/{d.year}" if d.day <= 12 else None
        else:                               # pd.to_datetime(weather.date, dayfirst=True)
            key = dates[i].strftime("%d/%m/%Y")
        rows.append(weather.get(key, (np.nan, np.nan, np.nan)))
    joined = np.array(rows)
    joined = np.where(np.isnan(joined), np.nanmean(joined, 0), joined)       # fillna(df.mean())
    wd = weekday[pick]
    X = np.column_stack([joined, np.sin(2 * np.pi * wd / 7), np.cos(2 * np.pi * wd / 7), (wd >= 5).astype(np.float64),
                         np.eye(3)[kiosk[pick]]])
    torch.manual_seed(603)
    return _mlp(9, 3), user._split(X, y[pick], seed=603), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20}, \
        frozenset({"uninformative_inputs", "underfitting"})


def _drills_window_divide_first(broken):
    X, y = drill_windows(2000, seed=604)
    rows = _index_split(y, seed=604)
    if broken:                              # "relative to the first sample", as for price windows: x / x[0] - 1
        X = X / X[:, :1] - 1
    else:                                   # one scale for every window, from the training windows
        X = X / X[rows[0]].std()
    torch.manual_seed(604)
    parts = [(torch.tensor(X[r], dtype=torch.float32).reshape(-1, 1, 64), torch.tensor(y[r]).long()) for r in rows]
    return DrillCNN(), parts, {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12}, \
        CANNOT_LEARN | {"unnormalized_inputs", "uninformative_inputs"}


def _reviews_attention_softmax_queries(broken):
    X, y = review_tokens(2000, seed=605)
    torch.manual_seed(605)
    return ReviewAttention(query_axis=broken), user._split(X, y, seed=605, standardize=False), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 15}, CANNOT_LEARN


def _parts_argmax_as_features(broken):
    X, y = machined_parts(2000, seed=606)
    torch.manual_seed(606)
    return SmallCNN(indices=broken), _image_parts(X, y, seed=606, shape=(1, 16, 16)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 10}, CANNOT_LEARN | {"frozen_parameters"}


def _lenses_center_crop(broken):
    X, y = lens_images(2000, seed=607)
    torch.manual_seed(607)
    return SmallCNN(crop=4 if broken else 0), _image_parts(X, y, seed=607, shape=(1, 16, 16)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 10}, CANNOT_LEARN | {"uninformative_inputs"}


def _stores_embedding_ids_from_one(broken):
    store, num, y = store_days(2400, seed=608)
    rows = _index_split(y, seed=608)
    ids = store if broken else store - 1    # broken: the database's ids 1-40 into nn.Embedding(40, 8)
    xs = [torch.cat([torch.tensor(ids[r], dtype=torch.float32)[:, None], x], 1)
          for r, x in zip(rows, _standardized(num, rows))]
    torch.manual_seed(608)
    return EmbeddingNet(40, 5), _with_labels(xs, y, rows), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20}, frozenset({"model_raises"})


def _orders_ce_index_broadcast(broken):
    X, y = _table(2400, 609, 8, [[0.0] * 8, [1.2, 0, -0.6, 0, 0, 0.4, 0, 0], [0, 1.1, 0, -0.7, 0, 0, 0.5, 0],
                                 [0, 0, 0.9, 0, 1.0, 0, 0, -0.8]], [0.4, 0.3, 0.2, 0.1])
    torch.manual_seed(609)
    return _mlp(8, 4), user._split(X, y, seed=609), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20, "loss": picked_ce(broadcast=broken)}, \
        frozenset({"loss_output_mismatch", "underfitting"})


def _grapes_kl_div_probs(broken):
    X, y = _table(2400, 610, 9, [[1.0, -0.5, 0, 0.4, 0, 0, 0, 0, 0], [0, 0.6, 0.9, 0, -0.5, 0, 0, 0, 0],
                                 [0, 0, 0, -0.6, 0, 1.1, 0.5, 0, 0.4]], [0.35, 0.4, 0.25])
    torch.manual_seed(610)
    return _mlp(9, 3), user._split(X, y, seed=610), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20,
         "loss": kl_to_onehot(probabilities=broken)}, frozenset({"loss_output_mismatch", "underfitting"}) | SLOW


def _yields_numpy_loss_rewrapped(broken):
    X, yield_t = crop_yields(2400, seed=611)
    torch.manual_seed(611)
    return Regressor(7), user11._regression(X, yield_t, seed=611), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 25, "loss": numpy_mae if broken else torch_mae}, \
        frozenset({"frozen_parameters", "gradient_mismatch", "cannot_overfit_small_subset", "underfitting"}) | SLOW


def _claims_confidence_penalty_no_mean(broken):
    X, y = _table(2400, 612, 8, [[0.0] * 8, [0.9, 0, 0.6, 0, 0, -0.5, 0, 0], [0, 1.2, 0, 0.7, -0.6, 0, 0, 0.4]],
                  [0.55, 0.3, 0.15])
    torch.manual_seed(612)
    return _mlp(8, 3), user._split(X, y, seed=612), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20,
         "loss": confidence_penalized_ce(reduce=not broken)}, frozenset({"loss_output_mismatch", "model_raises"})


def _dryers_schedule_returns_lr(broken):
    X, y = _table(2400, 613, 7, [[0.0] * 7, [1.0, 0.5, 0, -0.6, 0, 0, 0], [-1.0, 0, 0.8, 0.6, 0, 0.4, 0]],
                  [0.3, 0.4, 0.3])
    torch.manual_seed(613)
    return _mlp(7, 3), user._split(X, y, seed=613), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20,
         "schedule": halving_lr if broken else halving}, \
        SLOW | {"schedule_decays_early", "underfitting"}


def _wagons_lstm_first_layer_state(broken):
    X, y = wagon_traces(2000, seed=614)
    torch.manual_seed(614)
    parts = user._split(X.reshape(len(X), -1), y, seed=614, standardize=False)
    return WagonLSTM(first_layer=broken), [(x.reshape(-1, 48, 2), t) for x, t in parts], \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12}, CANNOT_LEARN | {"frozen_parameters"}


def _kiosks_embedding_padding_idx(broken):
    kiosk, num, y = kiosk_tickets(2400, seed=615)
    rows = _index_split(y, seed=615)
    xs = [torch.cat([torch.tensor(kiosk[r], dtype=torch.float32)[:, None], x], 1)
          for r, x in zip(rows, _standardized(num, rows))]
    torch.manual_seed(615)
    # broken: padding_idx=0 "as every embedding tutorial has it", on a table where kiosk 0 is a real kiosk
    return EmbeddingNet(30, 6, padding_idx=0 if broken else None), _with_labels(xs, y, rows), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20}, \
        frozenset({"frozen_parameters", "underfitting"})


def _bricks_batch_standardize_forward(broken):
    X, y = brick_faces(2000, seed=616)
    parts = _image_parts(X, y, seed=616, shape=(1, 16, 16))
    if not broken:                          # standardized once with the training pixels' mean and std
        mu, sd = parts[0][0].mean(), parts[0][0].std()
        parts = [((x - mu) / sd, t) for x, t in parts]
    torch.manual_seed(616)
    return SmallCNN(standardize_batch=broken), parts, \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 10}, CANNOT_LEARN | {"batch_dependence"}


BOILERS_TOML = """
optimizer = "adam"
lr = 0.001
batch_size = 32
epochs = 20
"""


def _boilers_zca_toml(broken):
    X, y = boiler_telemetry(2400, seed=617)
    # broken: "whitening decorrelates the columns, better than standardizing them"
    text = BOILERS_TOML + ('preprocess = ["zca"]\n' if broken else 'preprocess = ["standardize"]\n')
    torch.manual_seed(617)
    return _mlp(8, 4), user._split(X, y, seed=617, standardize=False), tomllib.loads(text), \
        frozenset({"uninformative_inputs", "underfitting"})


def _tanks_huber_signed_error(broken):
    X, minutes = tank_refills(2400, seed=618)
    torch.manual_seed(618)
    return Regressor(6), user11._regression(X, minutes, seed=618), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 25, "loss": huber(signed=broken)}, \
        frozenset({"loss_output_mismatch", "underfitting"})


PAIRS = {"turnstiles_hour_period_12": _turnstiles_hour_period_12,
         "chillers_head_debug_rows": _chillers_head_debug_rows,
         "hotspots_pair_stacked_twice": _hotspots_pair_stacked_twice,
         "icecream_weather_monthfirst": _icecream_weather_monthfirst,
         "drills_window_divide_first": _drills_window_divide_first,
         "reviews_attention_softmax_queries": _reviews_attention_softmax_queries,
         "parts_argmax_as_features": _parts_argmax_as_features,
         "lenses_center_crop": _lenses_center_crop,
         "stores_embedding_ids_from_one": _stores_embedding_ids_from_one,
         "orders_ce_index_broadcast": _orders_ce_index_broadcast,
         "grapes_kl_div_probs": _grapes_kl_div_probs,
         "yields_numpy_loss_rewrapped": _yields_numpy_loss_rewrapped,
         "claims_confidence_penalty_no_mean": _claims_confidence_penalty_no_mean,
         "dryers_schedule_returns_lr": _dryers_schedule_returns_lr,
         "wagons_lstm_first_layer_state": _wagons_lstm_first_layer_state,
         "kiosks_embedding_padding_idx": _kiosks_embedding_padding_idx,
         "bricks_batch_standardize_forward": _bricks_batch_standardize_forward,
         "boilers_zca_toml": _boilers_zca_toml,
         "tanks_huber_signed_error": _tanks_huber_signed_error}

# Which broken setups are repairable: the fault lies in a setting of the run (issue 11's list, with
# sets 5-11's additions and the run options this set uses), not in the data, the model's code or the
# user's loss. Stated before any of this set was run (branch babysit56, 2026-12-06). Repairs run only
# where the fault also hurts (the kill rule).
REPAIRABLE = {"turnstiles_hour_period_12": None,            # the hour's encoding: the data
              "chillers_head_debug_rows": None,             # the training rows: the data
              "hotspots_pair_stacked_twice": None,          # the input's channels: the data
              "icecream_weather_monthfirst": None,          # the join's date parsing: the data
              "drills_window_divide_first": None,           # the windows' scaling, done before fit: the data
              "reviews_attention_softmax_queries": None,    # the softmax's axis: the model's code
              "parts_argmax_as_features": None,             # the pool's indices: the model's code
              "lenses_center_crop": None,                   # the crop in forward: the model's code
              "stores_embedding_ids_from_one": None,        # the ids against the embedding's size: data and model
              "orders_ce_index_broadcast": None,            # the user's loss
              "grapes_kl_div_probs": None,                  # the user's loss
              "yields_numpy_loss_rewrapped": None,          # the user's loss
              "claims_confidence_penalty_no_mean": None,    # the user's loss
              "dryers_schedule_returns_lr": "lr (a schedule function that returns the lr: x1e-3)",  # the lr
              "wagons_lstm_first_layer_state": None,        # harmless by design; the model's code
              "kiosks_embedding_padding_idx": None,         # harmless by design; the model's code
              "bricks_batch_standardize_forward": None,     # harmless by design; the model's code
              "boilers_zca_toml": "preprocessing (zca)",    # harmless by design; the preprocess option
              "tanks_huber_signed_error": None}             # harmless by design; the user's loss
# Settings of that list that no action in trainwell/babysit/actions.py changes the way the fault
# needs (read there, not run): set 11's names. This set adds none: ``raise_lr`` scales the lr by up
# to 1e5 whatever the schedule's multiplier (the lr scale multiplies the base lr and the schedule,
# ``trainwell.optim.schedules.group_lrs``), and ``refit_preprocess`` replaces a preprocess step.
NO_ACTION = user11.NO_ACTION


if __name__ == "__main__":
    user.NO_ACTION = NO_ACTION          # the report reads babysit_user.NO_ACTION
    sys.exit(user.main(pairs=PAIRS, repairable=REPAIRABLE, doc=__doc__))
