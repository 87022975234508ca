"""A tenth held-out set of setups written as users write them: measured, never tuned on.

Issue 11 asks for the babysitter's quality on setups nobody tuned it for. Sets 1-9
(``babysit_user.py`` .. ``babysit_user9.py``) were read, and partly developed on, by the engineers
changing the babysitter; this tenth set was written (branch babysit46, 2026-12-06) and committed
before any of it was run, so that it measures the merged result of the work going on now: it is
only measured, nobody tunes on it. 19 pairs, each the user's own ``nn.Module`` (or an
``nn.Sequential``) on data generated here (nothing downloads), a healthy setup and the same setup
with one fault: 14 meant to hurt, 5 harmless on purpose.

| pair | data | model, training | healthy | fault (expected codes) |
| --- | --- | --- | --- | --- |
| looms_np_resize | 16x16 grey close-ups of woven fabric (a weave texture), one defect anywhere: hole, oil stain, broken thread, knot; shrunk to 8x8 "to train faster" | FabricCNN (2 conv, global max pool), Adam | 2x2 block means (``img.reshape(8, 2, 8, 2).mean((1, 3))``) | ``np.resize(img, (8, 8))``, taken for an image resize: numpy's resize keeps the first 64 values, the top 4 rows (uninformative_inputs, cannot_overfit_small_subset, underfitting, slow learning) |
| sightings_label_case | bird sightings: wingspan, log mass, bill length, tarsus, song pitch, song rate, wetland, dawn; 3 species named by volunteers | ``nn.Sequential`` 8-64-64-k, Adam | names lower-cased before ``np.unique`` | a quarter of the rows (the web form) capitalized: ``np.unique`` makes 6 classes of 3, and a model sized to them (label_problem, underfitting) |
| listings_target_encoding | flat listings: log rent, area, rooms, floor, distance to the centre, photos + the block (800 blocks, a real effect); let within a week, a month, later | ``nn.Sequential`` 7-64-64-3, Adam | the block's mean class, out of fold (5 folds) on the training rows | the block's mean class over the training rows, each row's own label included: on the ~2 rows a block has, the label itself (overfitting, split_mismatch) |
| concrete_mixed_units | concrete pours: air temperature, humidity, water / cement ratio, cement kg, wind, slab depth; days to stripping strength (maturity: ~1 / (T + 12)), regression | Regressor 6-64-64-1, Adam, MSE | every temperature in degrees C | the 40 % of rows from the second weather feed left in degrees F, in the same column, no flag (uninformative_inputs, underfitting) |
| machines_truncate_head | machine traces of 96 steps (vibration, temperature): normal, bearing wear (vibration grows), overheating (temperature ramp) in the last 24 steps | MachineGRU (GRU 2-32, batch_first, last output), Adam | ``x[:, -32:]``, the last 32 steps (Keras' ``pad_sequences`` truncates at the front) | ``x[:, :32]``, "maxlen 32" as a slice: the first 32 steps (uninformative_inputs, cannot_overfit_small_subset, underfitting, slow learning) |
| calls_packed_lengths_sorted | support calls of 8-40 steps (pitch, energy, speech rate, silence) + a valid flag, padded at the end; resolved, escalated, dropped by the last 5 steps | CallLSTM (LSTM 4-32 on ``pack_padded_sequence``, ``h_n[-1]``), Adam | ``enforce_sorted=False`` | ``lengths.sort(descending=True)`` to satisfy ``enforce_sorted=True``, the rows not reordered: each row read with another row's length (underfitting, cannot_overfit_small_subset, uninformative_inputs, slow learning) |
| fuel_mape_loss | delivery routes: km, stops, payload, climb, average speed, temperature, van age; litres of fuel, regression | Regressor 7-64-64-1, Adam | ``loss = "mse"`` on standardized litres | the user's MAPE, ``(abs(y - pred) / abs(y)).mean()`` "as the competition scores it", on the standardized (zero-crossing) targets (loss_output_mismatch, targets_off_scale, oscillating_loss, underfitting) |
| capacitors_step_factor_gamma | capacitor QC in its units: capacitance, ESR, leakage, dissipation, lead pull, 2 dimensions, weight, solder temperature, humidity; pass, drift, short, open | ``nn.Sequential`` 10-64-64-4, a TOML config: momentum SGD, ``preprocess = ["standardize"]`` | ``schedule = {name = "step", every_epochs = 5, factor = 10}`` | ``factor = 0.1``, ``StepLR``'s ``gamma``: the lr x10 every 5 epochs (diverged, lr_too_high, oscillating_loss) |
| bottling_sgd_dampening | bottling line: fill level, cap torque, line speed, 2 temperatures, CO2, pressure, label offset, vibration; ok, underfill, loose cap, foam, jam | ``nn.Sequential`` 9-64-64-5, a TOML config: SGD lr 0.02, momentum 0.9, ``nesterov = false`` | no ``optimizer_options`` | ``optimizer_options = {dampening = 0.9}``, "momentum as an exponential average": each gradient x0.1 (optimizer_setting, underfitting, slow learning) |
| vending_noise_on_id | vending machines: machine (30, an ``nn.Embedding``), temperature, weekday (sin, cos), price index, holiday; low, normal, high sales | VendNet (embedding + 5 numeric columns), Adam | no augmentation | ``augment = [{name = "noise", std = 0.1}]`` "for tabular data" on the whole row, the id column too: ``.long()`` truncates, half the rows read the previous machine (augmentation_hurts, underfitting) |
| pumps_test_size_swapped | water pumps: flow, head, power, 3 vibration bands, bearing temperature, noise; ok, cavitation, seal leak, misalignment (interactions) | ``nn.Sequential`` 8-64-64-4, Adam | ``train_test_split(..., test_size=0.25)`` for validation | ``test_size=0.75`` "75 % for training": 480 training rows, 1440 for validation (overfitting, too_few_updates, underfitting) |
| stamps_bn_reused | 12x12 grey postmarks: wavy lines, ring, bars, cross at a random place | StampCNN (conv, BatchNorm2d, ReLU, pool x 2, flattened), momentum SGD | ``bn2`` after ``conv2`` | ``bn1`` after ``conv2`` too (a copy-paste in ``forward``): one set of running statistics for two layers, ``bn2`` unused (eval_mode_gap, frozen_parameters) |
| elevators_relu_gate | elevators: door cycles, motor current, vibration, travel time, levelling error, machine-room temperature, load, brake wear, age; ok, door, motor, brake | GateNet (a learnable gate per feature, 9-64-64-4), Adam | ``x * torch.sigmoid(gate)``, gates from zero | ``x * torch.relu(gate)`` "so features can switch off exactly", gates from zero: relu'(0) = 0, no feature ever passes (uninformative_inputs, frozen_parameters, dead_units, cannot_overfit_small_subset, slow learning) |
| locks_dropna_missing_offline | smart locks: battery voltage, wifi signal (missing when the lock is offline), temperature, cycles a day, motor current, firmware age; ok, low battery, jammed, offline | ``nn.Sequential`` 6-64-64-4, Adam | missing signal filled with the training median in every split | the training export ``dropna()``-ed, validation and test filled with the median by the serving code: most offline rows never trained (split_mismatch, class_imbalance) |
| hotels_ordinal_alphabetical | hotel bookings: lead time, nights, adults, price, special requests, room type (basic < standard < deluxe); kept, modified, cancelled | ``nn.Sequential`` 6-64-64-3, Adam, early stopping | room type coded 0, 1, 2 in its order | ``OrdinalEncoder``'s default, alphabetical: basic 0, deluxe 1, standard 2 (harmless by design: three levels an MLP maps in any order) |
| ferries_rmse_loss | ferry crossings: wind, wave height, tide, load, hour (sin, cos), engine hours; minutes, regression | Regressor 7-64-64-1, Adam | ``loss = "mse"`` | the user's RMSE, ``torch.sqrt(F.mse_loss(pred, y))``, the competition's metric (harmless by design: the same minimum, Adam's steps) |
| alarms_attention_singleton | ward monitor event logs: 40 codes (13 routine, 3 critical alarms); the critical alarm present | AlarmGRU (embedding, GRU 16-32, attention pooling), Adam | ``softmax(scores, dim=1)`` over the time axis of (N, L, 1) scores | ``softmax(scores, dim=-1)``: over the singleton axis, every weight 1, a sum over time (harmless by design: a sum keeps which alarm occurred) |
| moths_smoothing_unnormalized | light-trap moths: wing length, body length, antenna ratio, wingbeat Hz, hue, saturation, night hour (sin, cos); 5 species | ``nn.Sequential`` 8-64-64-5, Adam, the user's smoothed cross-entropy | ``0.9 * onehot + 0.1 / 5`` | ``0.9 * onehot + 0.1`` (targets summing to 1.4; harmless by design: the arg max stays the class) |
| pollen_conv_positional_stride | 16x16 grey pollen grains: round, three-pored, elongated, spiky, at a random place | PollenCNN (2 conv, global max pool), Adam, ``augment = [crop pad 1]`` | ``nn.Conv2d(1, 16, 5, padding=2)`` | ``nn.Conv2d(1, 16, 5, 2)``, the 4th positional argument taken for the padding: stride 2, no padding (harmless by design: a 5x5 kernel at stride 2 still covers every pixel) |

**What is new against sets 1-9.** Data: all generated here (fabric close-ups, bird sightings with
names typed by volunteers, flat listings with a block id, concrete pours, machine traces, support
calls of varying length, delivery routes' fuel, capacitor QC, a bottling line, vending machines,
water pumps, postmarks, elevators, smart-lock telemetry with missing values, hotel bookings, ferry
crossings, ward monitor event logs, light-trap moths, pollen grains). Models: an LSTM on packed
sequences, a GRU with attention pooling, a learnable per-feature gate, a batch-normed CNN written
out layer by layer, a CNN with a strided 5x5 first conv. Training choices: two runs given as TOML
configs the way the CLI user writes them (``tomllib``: ``preprocess``, ``schedule = step``,
``optimizer_options``, ``nesterov = false``), ``augment = [noise]`` on a table with an id column,
MAPE and RMSE written as the user's losses, a hand-written smoothed cross-entropy, early stopping.
Faults (none in sets 1-9, nor in issue 11's list): ``np.resize`` taken for an image resize, label
names that differ in case, a target encoding that includes each row's own label, two unit systems
in one column, a sequence truncated at the wrong end, ``pack_padded_sequence`` lengths sorted apart
from their rows, MAPE on targets that cross zero, ``StepLR``'s ``gamma`` given as trainwell's
``factor`` (which divides), SGD's ``dampening`` set like an EMA's momentum, noise augmentation on
an integer id column, ``test_size`` read as the training share, a batch norm reused in
``forward``, a ReLU gate started at zero, ``dropna`` on a class-dependent missing value in the
training export only; harmless on purpose: ordinal categories coded alphabetically, RMSE for MSE,
a softmax over a singleton axis, unnormalized smoothed targets, a stride for a padding. Left out
as too close to sets 1-9: a view that mixes rows or channels (set 6), duplicated rows between the
splits (set 6), class weights (set 5), a frozen backbone (set 3), a schedule that decays too early
(sets 4, 6), an augmentation too strong in its units (set 8's noise std), a missing positional
encoding (set 8), an inverted padding mask (set 5). The nearest to earlier faults: the packed
lengths against set 8's GRU read after the padding (there the padding moves the read step, here
another row's length does), the case-split labels against set 7's names coded per file (there the
ids differ between splits, here one class is two ids in every split), the mixed units against set
7's degrees (there every row in the wrong unit, here a share of rows, with no flag).

Whether a fault hurts is not taken from this table: ``babysit_user.killed`` computes it from the
``babysit="off"`` runs (>= 3 points of validation accuracy, or MSE / Var(y) 25 % higher for
regression) and prints it. A fault that does not hurt is scored as harmless: any warning or error
on it is a false alarm. Scored by ``babysit_user.main`` (imported, the same rules as sets 1-9; its
docstring says them); ``REPAIRABLE`` below says, per pair and before any of it was run, which
faults lie in a setting the babysitter's actions could change. Two pairs change the size of their
splits with the fault (locks drops training rows, pumps moves rows from training to validation).

Run: ``python bench/babysit_user10.py`` (a markdown report; ``--json rows.json`` keeps the rows;
``--pair NAME`` runs one pair; ``--no-train`` skips training; ``--repair`` adds the repairs;
``--seeds N`` training seeds, default 2; ``--combine u1.json ... u10.json`` reports the sets
together with this file's ``NO_ACTION`` names). Run it on the CPU, as sets 1-9.
"""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.model_selection import KFold, train_test_split
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import babysit_user as user  # noqa: E402  (the split helpers and the scoring)
import babysit_user9 as user9  # noqa: E402  (set 9's NO_ACTION names, for --combine)

DIVERGED, SLOW = user.DIVERGED, user.SLOW
_classes, _z, _images, _standard_targets = user.noisy_classes, user.zscore, user.as_images, user.standard_targets
# what a user would hope to read when a model cannot learn from its inputs
CANNOT_LEARN = SLOW | {"underfitting", "cannot_overfit_small_subset"}


def _index_split(y, *, seed, regression=False):
    """The row numbers of the user's 60 / 20 / 20 split (``babysit_user._split``'s cut)."""
    rows = user._split(np.arange(len(y))[:, None], y, seed=seed, standardize=False, regression=regression)
    return [i[:, 0].long().numpy() for i, _ in rows]


def _tensors(X, y, rows, *, regression=False):
    """The splits of ``X`` / ``y`` at ``rows``, standardized with the first (training) split's statistics."""
    mu, sd = X[rows[0]].mean(0), X[rows[0]].std(0) + 1e-8
    cast = (lambda v: torch.tensor(v, dtype=torch.float32)) if regression else (lambda v: torch.tensor(v).long())
    return [(torch.tensor((X[r] - mu) / sd, dtype=torch.float32), cast(y[r])) for r in rows]


def _mlp(d_in, d_out, width=64):
    return nn.Sequential(nn.Linear(d_in, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, d_out))


# ------------------------------------------------------------------------------ the user's data
def fabric(n: int, *, seed: int, size: int = 16):
    """(n, size, size) grey fabric: a weave (0.5 + 0.08 sin) with noise; one defect 1-13 pixels
    from the top left: 0 a hole (dark 2x2), 1 an oil stain (a 4x4 patch 0.15 darker), 2 a broken
    thread (a bright 1-pixel row 6-9 long), 3 a knot (bright 2x2)."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 4, n)
    r, c = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    img = 0.5 + 0.08 * np.sin(np.pi * r / 2) * np.sin(np.pi * c / 2) + g.normal(0.0, 0.03, (n, size, size))
    for i in range(n):
        top, left = g.integers(1, size - 4, 2)
        if y[i] == 0:
            img[i, top:top + 2, left:left + 2] = 0.05
        elif y[i] == 1:
            img[i, top:top + 4, left:left + 4] -= 0.15
        elif y[i] == 2:
            length = g.integers(6, 10)
            left = min(left, size - length)
            img[i, top, left:left + length] += 0.3
        else:
            img[i, top:top + 2, left:left + 2] = 0.95
    return img.astype(np.float32), y.astype(np.int64)


def sightings(n: int, *, seed: int):
    """Bird sightings: wingspan (cm), log mass, bill length (mm), tarsus (mm), song pitch (kHz), song
    rate, wetland (0/1), dawn (0/1); species names typed by volunteers (``finch``, ``sparrow``,
    ``warbler``), a quarter of them (the web form) capitalized."""
    g = np.random.default_rng(seed)
    z = g.normal(size=(n, 6))
    wet, dawn = g.integers(0, 2, n), g.integers(0, 2, n)
    scores = np.column_stack([1.2 * z[:, 2] - 0.8 * z[:, 4] + 0.5 * z[:, 0] * z[:, 1],
                              0.9 * z[:, 1] + 0.7 * z[:, 5] + 0.6 * wet,
                              1.0 * z[:, 4] - 0.6 * z[:, 3] + 0.6 * dawn - 0.4 * z[:, 2] ** 2])
    y = _classes(scores, g, 0.35)
    X = np.column_stack([22 + 3 * z[:, 0], 3.0 + 0.4 * z[:, 1], 11 + 2 * z[:, 2], 18 + 2.5 * z[:, 3],
                         5 + 1.2 * z[:, 4], 3 + z[:, 5], wet, dawn])
    names = np.array(["finch", "sparrow", "warbler"])[y]
    web = g.random(n) < 0.25
    names = np.where(web, np.char.capitalize(names), names)
    return X.astype(np.float32), names


def listings(n: int, *, seed: int, blocks: int = 800):
    """Flat listings: log rent, area (m2), rooms, floor, km to the centre, photos, and the block
    (``blocks`` of them, each with its own appeal); let within a week (0), a month (1), later (2)."""
    g = np.random.default_rng(seed)
    block = g.integers(0, blocks, n)
    appeal = g.normal(0.0, 1.0, blocks)[block]
    area = g.normal(70, 20, n).clip(25, 160)
    rooms = np.round(area / 25 + g.normal(0, 0.5, n)).clip(1, 6)
    rent = np.log(area) + 0.15 * g.normal(size=n) + 0.2 * appeal
    floor, km, photos = g.integers(0, 12, n), g.gamma(2.0, 2.5, n), g.integers(0, 30, n)
    value = 0.8 * appeal - 1.5 * _z(rent - np.log(area)) - 0.3 * _z(km) + 0.25 * _z(photos)
    y = np.digitize(value + g.normal(0.0, 0.4, n), [-0.5, 0.6]).astype(np.int64)
    y = 2 - y                                       # high value lets fast: class 0
    X = np.column_stack([rent, area, rooms, floor, km, photos])
    return X.astype(np.float32), block, y


def concrete(n: int, *, seed: int):
    """Concrete pours: air temperature (degrees C, -10 to 30), humidity, water / cement ratio,
    cement (kg / m3), wind, slab depth; days to stripping strength (maturity ~ 1 / (T + 12)), and
    which weather feed reported the temperature (0 or 1, 40 % from feed 1, which sends degrees F)."""
    g = np.random.default_rng(seed)
    temp = g.uniform(-10, 30, n)
    hum, wc, cement = g.uniform(30, 95, n), g.uniform(0.38, 0.6, n), g.uniform(280, 420, n)
    wind, depth = g.gamma(2.0, 2.0, n), g.uniform(0.1, 0.4, n)
    days = (40.0 / (temp + 12.0)) * (1 + 2.0 * (wc - 0.45)) * (350 / cement) \
        * (1 + 0.02 * wind - 0.5 * (depth - 0.25)) * (1 - 0.002 * (hum - 60))
    days = days * np.exp(g.normal(0, 0.08, n))
    feed = (g.random(n) < 0.4).astype(np.int64)
    return np.column_stack([temp, hum, wc, cement, wind, depth]).astype(np.float32), days.astype(np.float32), feed


def machines(n: int, *, seed: int, length: int = 96):
    """(n, length, 2) traces: vibration (an AR(1) noise) and temperature (a slow random walk),
    both about unit scale; in the last 24 steps class 1 grows the vibration's amplitude x2.5,
    class 2 ramps the temperature up by 2.5."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    vib = np.zeros((n, length))
    e = g.normal(0, 1, (n, length))
    for t in range(1, length):
        vib[:, t] = 0.6 * vib[:, t - 1] + 0.8 * e[:, t]
    temp = np.cumsum(g.normal(0, 0.08, (n, length)), 1) + g.normal(0, 0.5, (n, 1))
    start = length - 24 + g.integers(-2, 3, n)
    t = np.arange(length)[None]
    late = t >= start[:, None]
    vib = np.where(late & (y[:, None] == 1), vib * 2.5, vib)
    ramp = np.clip((t - start[:, None]) / 20.0, 0, None) * 2.5
    temp = temp + np.where(y[:, None] == 2, ramp, 0.0)
    return np.stack([vib, temp], -1).astype(np.float32), y.astype(np.int64)


def calls(n: int, *, seed: int, length: int = 40):
    """(n, length, 5): pitch, energy, speech rate, silence (each about unit scale) and a valid flag
    (1 on the call's 8-40 real steps, padding 0 after them). The class is how the call ended, in
    its last 5 real steps: 0 resolved (energy and pitch fall), 1 escalated (energy and rate rise),
    2 dropped (silence)."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    lengths = g.integers(8, length + 1, n)
    x = g.normal(0, 1, (n, length, 4)) * 0.6
    x[..., 3] = np.abs(x[..., 3]) * 0.5                                 # silence share, low
    for i in range(n):
        end = slice(lengths[i] - 5, lengths[i])
        if y[i] == 0:
            x[i, end, 0] -= 1.0
            x[i, end, 1] -= 1.0
        elif y[i] == 1:
            x[i, end, 1] += 1.2
            x[i, end, 2] += 1.0
        else:
            x[i, end, 3] += 1.5
            x[i, end, 1] -= 0.5
        x[i, lengths[i]:] = 0.0
    valid = (np.arange(length)[None] < lengths[:, None]).astype(np.float64)
    return np.concatenate([x, valid[..., None]], -1).astype(np.float32), y.astype(np.int64)


def routes(n: int, *, seed: int):
    """Delivery routes: km, stops, payload (kg), climb (m), average speed (km/h), temperature, van
    age (years); litres of fuel (consumption rises with payload, climb, stops and the cold)."""
    g = np.random.default_rng(seed)
    km, stops, payload = g.uniform(20, 180, n), g.integers(5, 60, n), g.uniform(100, 1400, n)
    climb, speed, temp, age = g.gamma(2.0, 150, n), g.uniform(25, 80, n), g.uniform(-10, 32, n), g.uniform(0, 12, n)
    per_km = 0.09 * (1 + payload / 2500) * (1 + 0.004 * np.clip(15 - temp, 0, None)) * (1 + 0.015 * age) \
        * (1 + 0.0002 * (speed - 55) ** 2)
    litres = km * per_km + 0.05 * stops + climb * 0.004 + g.normal(0, 0.6, n)
    return np.column_stack([km, stops, payload, climb, speed, temp, age]).astype(np.float32), litres.astype(np.float32)


def capacitors(n: int, *, seed: int):
    """Capacitor QC in its units: capacitance (uF), ESR (mOhm), leakage (uA), dissipation, lead
    pull (N), 2 dimensions (mm), weight (g), solder temperature (C), humidity (%); pass, drift,
    short, open."""
    g = np.random.default_rng(seed)
    z = g.normal(size=(n, 10))
    scores = np.column_stack([0.3 * np.ones(n) - 0.3 * z[:, 0] ** 2,
                              1.0 * z[:, 0] + 0.6 * z[:, 3] - 0.5 * z[:, 9],
                              1.1 * z[:, 2] - 0.7 * z[:, 1] + 0.4 * z[:, 8],
                              0.9 * z[:, 1] - 0.8 * z[:, 4] + 0.4 * z[:, 5] * z[:, 6]])
    y = _classes(scores, g, 0.4)
    scale = np.array([0.5, 12, 0.3, 0.004, 3, 0.1, 0.1, 0.05, 6, 8])
    base = np.array([47, 80, 2.0, 0.02, 30, 6.3, 11, 1.2, 245, 45])
    return (base + scale * z).astype(np.float32), y


def bottling(n: int, *, seed: int):
    """A bottling line: fill level (ml), cap torque (Nm), line speed (bottles / min), product and
    room temperature, CO2 (g / l), pressure (bar), label offset (mm), vibration (mm / s); ok,
    underfill, loose cap, foam, jam."""
    g = np.random.default_rng(seed)
    z = g.normal(size=(n, 9))
    scores = np.column_stack([0.6 - 0.25 * (z ** 2)[:, :3].sum(1),
                              -1.2 * z[:, 0] + 0.5 * z[:, 2],
                              -1.1 * z[:, 1] + 0.4 * z[:, 8],
                              0.9 * z[:, 3] + 0.8 * z[:, 5] - 0.4 * z[:, 6],
                              1.0 * z[:, 2] + 0.7 * z[:, 8] + 0.5 * z[:, 7] * z[:, 2]])
    y = _classes(scores, g, 0.4)
    scale = np.array([3, 0.2, 40, 1.5, 2.0, 0.3, 0.2, 0.8, 1.1])
    base = np.array([500, 2.2, 600, 6, 21, 7.5, 2.8, 0.0, 3.0])
    return (base + scale * z).astype(np.float32), y


def vending(n: int, *, seed: int, machines_: int = 30):
    """Vending machines: the machine (0-29, each with its own footfall), temperature, weekday (sin,
    cos), price index, holiday; low, normal, high sales."""
    g = np.random.default_rng(seed)
    machine = g.integers(0, machines_, n)
    footfall = g.normal(0, 1.2, machines_)[machine]
    temp, day = g.uniform(-5, 32, n), g.integers(0, 7, n)
    price, holiday = g.normal(1.0, 0.1, n), (g.random(n) < 0.08).astype(np.float64)
    demand = footfall + 0.5 * _z(temp) - 0.6 * _z(price) + 0.4 * (day >= 5) - 0.5 * holiday
    y = np.digitize(demand + g.normal(0, 0.35, n), [-0.6, 0.6]).astype(np.int64)
    X = np.column_stack([temp, np.sin(2 * np.pi * day / 7), np.cos(2 * np.pi * day / 7), price, holiday])
    return machine, X.astype(np.float32), y


def pumps(n: int, *, seed: int):
    """Water pumps: flow, head, power, 3 vibration bands, bearing temperature, noise level
    (standard scores); ok, cavitation, seal leak, misalignment, each by an interaction."""
    g = np.random.default_rng(seed)
    z = g.normal(size=(n, 8))
    scores = np.column_stack([0.5 - 0.2 * (z[:, 3:6] ** 2).sum(1),
                              1.0 * z[:, 0] * z[:, 1] + 0.6 * z[:, 7],
                              -0.9 * z[:, 1] * z[:, 2] + 0.6 * z[:, 6],
                              1.0 * z[:, 4] * z[:, 5] - 0.4 * z[:, 3]])
    return z.astype(np.float32), _classes(scores, g, 0.3)


def stamps(n: int, *, seed: int, size: int = 12):
    """(n, size, size) grey postmarks on paper 0.85: 0 wavy lines, 1 a ring, 2 three bars, 3 a
    cross, in ink 0.2, at a random offset of up to 2 pixels, with noise."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 4, n)
    img = 0.85 + g.normal(0, 0.05, (n, size, size))
    r, c = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    for i in range(n):
        dr, dc = g.integers(-2, 3, 2)
        rr, cc = r - dr, c - dc
        if y[i] == 0:
            mask = np.zeros((size, size), bool)
            for base in (3, 7):
                mask |= np.abs(rr - (base + 1.2 * np.sin(cc * 0.9))) < 0.6
        elif y[i] == 1:
            d = np.hypot(rr - 5.5, cc - 5.5)
            mask = np.abs(d - 3.5) < 0.7
        elif y[i] == 2:
            mask = ((rr == 3) | (rr == 6) | (rr == 9)) & (cc >= 2) & (cc <= 9)
        else:
            mask = ((np.abs(rr - cc) < 0.8) | (np.abs(rr + cc - 11) < 0.8)) & (rr >= 1) & (rr <= 10)
        img[i][mask] = 0.2 + g.normal(0, 0.05, mask.sum())
    return img.astype(np.float32), y.astype(np.int64)


def elevators(n: int, *, seed: int):
    """Elevators: door cycles, motor current, vibration, travel time, levelling error, machine-room
    temperature, load, brake wear, age (standard scores); ok, door, motor, brake."""
    g = np.random.default_rng(seed)
    z = g.normal(size=(n, 9))
    scores = np.column_stack([0.4 * np.ones(n), 1.1 * z[:, 0] + 0.6 * z[:, 4], 1.0 * z[:, 1] + 0.7 * z[:, 2] * z[:, 5],
                              1.2 * z[:, 7] + 0.5 * z[:, 3] - 0.3 * z[:, 6]])
    return z.astype(np.float32), _classes(scores, g, 0.4)


def locks(n: int, *, seed: int):
    """Smart locks: battery voltage, wifi signal (dBm; NaN for 90 % of the offline locks and 3 % of
    the others), temperature, cycles a day, motor current (mA), firmware age (days); ok, low
    battery, jammed, offline."""
    g = np.random.default_rng(seed)
    y = g.choice(4, n, p=[0.4, 0.2, 0.15, 0.25])
    battery = np.where(y == 1, g.normal(4.6, 0.15, n), g.normal(5.6, 0.25, n))
    signal = g.normal(-62, 8, n) - np.where(y == 3, 10, 0)
    temp, cycles = g.normal(18, 6, n), np.where(y == 3, g.poisson(1, n), g.poisson(9, n)).astype(np.float64)
    current = np.where(y == 2, g.normal(420, 60, n), g.normal(260, 45, n))
    firmware = np.where(y == 3, g.gamma(3, 90, n), g.gamma(2, 60, n))
    missing = g.random(n) < np.where(y == 3, 0.9, 0.03)
    signal = np.where(missing, np.nan, signal)
    return np.column_stack([battery, signal, temp, cycles, current, firmware]).astype(np.float64), y.astype(np.int64)


def hotels(n: int, *, seed: int):
    """Hotel bookings: lead time (days), nights, adults, price a night, special requests, room type
    (``basic``, ``standard``, ``deluxe``); kept, modified, cancelled."""
    g = np.random.default_rng(seed)
    lead, nights, adults = g.gamma(2, 40, n), g.integers(1, 10, n), g.integers(1, 4, n)
    room = g.choice(np.array(["basic", "standard", "deluxe"]), n, p=[0.4, 0.4, 0.2])
    level = np.select([room == "basic", room == "standard"], [0, 1], 2)
    price = 70 + 45 * level + g.normal(0, 15, n)
    requests = g.poisson(0.8, n)
    scores = np.column_stack([0.5 * requests + 0.4 * (level == 1) - 0.01 * lead,
                              0.5 * (level == 2) + 0.15 * nights - 0.3,
                              0.012 * lead - 0.4 * requests + 0.5 * (level == 0) - 0.5])
    y = _classes(scores, g, 0.35)
    return np.column_stack([lead, nights, adults, price, requests]).astype(np.float32), room, y


def ferries(n: int, *, seed: int):
    """Ferry crossings: wind (m/s), wave height (m), tide (m), load (t), hour (sin, cos), engine
    hours; minutes to cross."""
    g = np.random.default_rng(seed)
    wind, wave, tide = g.gamma(2, 3, n), g.gamma(2, 0.4, n), g.normal(0, 1.2, n)
    load, hour, engine = g.uniform(20, 400, n), g.uniform(0, 24, n), g.uniform(0, 30000, n)
    rush = np.cos(2 * np.pi * hour / 24) > 0.5
    minutes = 35 + 0.6 * wind + 4.0 * wave ** 1.5 + 1.5 * np.abs(tide) + 0.01 * load + 2.0 * rush \
        + 0.0001 * engine + g.normal(0, 1.2, n)
    X = np.column_stack([wind, wave, tide, load, np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24), engine])
    return X.astype(np.float32), minutes.astype(np.float32)


def alarms(n: int, *, seed: int, length: int = 40):
    """(n, length) event codes: 0-12 routine events, 13-15 three critical alarms; the class c: alarm
    13 + c occurs 1-2 times at random places, the other alarms never."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    X = g.integers(0, 13, (n, length))
    for i in range(n):
        k = g.integers(1, 3)
        X[i, g.choice(length, k, replace=False)] = 13 + y[i]
    return X.astype(np.float32), y.astype(np.int64)


def moths(n: int, *, seed: int):
    """Light-trap moths: wing length, body length, antenna ratio, wingbeat (Hz), hue, saturation,
    night hour (sin, cos) (standard scores but the hour); 5 species."""
    g = np.random.default_rng(seed)
    z = g.normal(size=(n, 6))
    hour = g.uniform(0, 2 * np.pi, n)
    scores = np.column_stack([1.0 * z[:, 0] + 0.5 * z[:, 3], -1.0 * z[:, 0] + 0.6 * z[:, 4],
                              0.9 * z[:, 2] + 0.5 * np.sin(hour), -0.9 * z[:, 2] + 0.6 * z[:, 5] * z[:, 1],
                              0.8 * z[:, 4] - 0.8 * z[:, 3] + 0.4 * np.cos(hour)])
    y = _classes(scores, g, 0.4)
    return np.column_stack([z, np.sin(hour), np.cos(hour)]).astype(np.float32), y


def pollen(n: int, *, seed: int, size: int = 16):
    """(n, size, size) grey pollen grains on a light slide (0.8): 0 round (a dark disc r 3), 1
    three-pored (a disc with 3 bright pores), 2 elongated (an ellipse 5 x 2), 3 spiky (a disc r 2
    with 8 spines), centred up to 3 pixels off the middle, with noise."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 4, n)
    img = 0.8 + g.normal(0, 0.04, (n, size, size))
    r, c = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    for i in range(n):
        cr, cc = 7.5 + g.uniform(-3, 3, 2)
        d = np.hypot(r - cr, c - cc)
        if y[i] == 0:
            mask = d <= 3.0
        elif y[i] == 1:
            mask = d <= 3.0
        elif y[i] == 2:
            angle = g.uniform(0, np.pi)
            u = (r - cr) * np.cos(angle) + (c - cc) * np.sin(angle)
            v = -(r - cr) * np.sin(angle) + (c - cc) * np.cos(angle)
            mask = (u / 5.0) ** 2 + (v / 2.0) ** 2 <= 1.0
        else:
            theta = np.arctan2(r - cr, c - cc)
            mask = (d <= 2.0) | ((d <= 5.0) & (np.abs(np.sin(4 * theta)) < 0.25))
        img[i][mask] = 0.3 + g.normal(0, 0.04, mask.sum())
        if y[i] == 1:
            for k in range(3):
                a = 2 * np.pi * k / 3 + g.uniform(0, 2 * np.pi)
                pr, pc = int(round(cr + 2.2 * np.sin(a))), int(round(cc + 2.2 * np.cos(a)))
                img[i, max(pr, 0):pr + 1, max(pc, 0):pc + 1] = 0.85
    return img.astype(np.float32), y.astype(np.int64)


# ------------------------------------------------------------------------------ the user's models
Regressor = user.Regressor      # a user's regression MLP: d_in-64-64-1, squeezed to (N,)


class FabricCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 16, 3, padding=1), nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32, 4)

    def forward(self, x):                   # x: (N, 1, 8, 8)
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.fc(x.amax((2, 3)))


class MachineGRU(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.gru = nn.GRU(2, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 3)

    def forward(self, x):                   # x: (N, 32, 2)
        out, _ = self.gru(x)
        return self.head(out[:, -1])


class CallLSTM(nn.Module):
    """An LSTM over each call's real steps (``pack_padded_sequence``), read at its last state."""

    def __init__(self, sorted_lengths=False, hidden=32):
        super().__init__()
        self.lstm = nn.LSTM(4, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 3)
        self.sorted_lengths = sorted_lengths

    def forward(self, x):                   # x: (N, 40, 5), the last channel the valid flag
        lengths = (x[..., 4] > 0).sum(1).clamp(min=1).cpu()
        if self.sorted_lengths:             # "lengths array must be sorted in decreasing order": sorted
            lengths, _ = lengths.sort(descending=True)
            packed = nn.utils.rnn.pack_padded_sequence(x[..., :4], lengths, batch_first=True, enforce_sorted=True)
        else:
            packed = nn.utils.rnn.pack_padded_sequence(x[..., :4], lengths, batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)
        return self.head(h[-1])


class VendNet(nn.Module):
    """An embedding of the machine (column 0, an id stored as a float) and 5 numeric columns."""

    def __init__(self, machines_=30, dim=8):
        super().__init__()
        self.machine = nn.Embedding(machines_, dim)
        self.mlp = _mlp(dim + 5, 3)

    def forward(self, x):
        return self.mlp(torch.cat([self.machine(x[:, 0].long()), x[:, 1:]], 1))


class StampCNN(nn.Module):
    def __init__(self, reuse_bn1=False):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16)
        self.conv2, self.bn2 = nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16)
        self.fc = nn.Linear(16 * 3 * 3, 4)
        self.reuse_bn1 = reuse_bn1

    def forward(self, x):                   # x: (N, 1, 12, 12)
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = self.conv2(x)
        x = self.bn1(x) if self.reuse_bn1 else self.bn2(x)     # copy-paste: bn1 again
        x = F.max_pool2d(F.relu(x), 2)
        return self.fc(x.flatten(1))


class GateNet(nn.Module):
    """A learnable gate per input feature (feature selection), then an MLP."""

    def __init__(self, d_in, d_out, relu_gate=False):
        super().__init__()
        self.gate = nn.Parameter(torch.zeros(d_in))     # "no feature preferred at the start"
        self.mlp = _mlp(d_in, d_out)
        self.relu_gate = relu_gate

    def forward(self, x):
        g = torch.relu(self.gate) if self.relu_gate else torch.sigmoid(self.gate)
        return self.mlp(x * g)


class AlarmGRU(nn.Module):
    """Embedding, GRU, attention pooling over time (a linear score per step), a linear head."""

    def __init__(self, singleton_softmax=False, hidden=32):
        super().__init__()
        self.embed = nn.Embedding(16, 16)
        self.gru = nn.GRU(16, hidden, batch_first=True)
        self.score = nn.Linear(hidden, 1)
        self.head = nn.Linear(hidden, 3)
        self.singleton_softmax = singleton_softmax

    def forward(self, x):                   # x: (N, 40) event codes as floats
        out, _ = self.gru(self.embed(x.long()))
        scores = self.score(out)            # (N, 40, 1)
        w = torch.softmax(scores, dim=-1 if self.singleton_softmax else 1)
        return self.head((w * out).sum(1))


class PollenCNN(nn.Module):
    def __init__(self, positional_stride=False):
        super().__init__()
        # nn.Conv2d(in, out, kernel, stride, padding): the 4th positional argument is the stride
        self.conv1 = nn.Conv2d(1, 16, 5, 2) if positional_stride else nn.Conv2d(1, 16, 5, padding=2)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32, 4)

    def forward(self, x):                   # x: (N, 1, 16, 16)
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.fc(x.amax((2, 3)))


def mape(pred, target):
    """The competition's metric as the loss (the user's; no epsilon: the targets are never 0 exactly)."""
    return (torch.abs(target - pred) / torch.abs(target)).mean()


def rmse(pred, target):
    """The competition's metric as the loss."""
    return torch.sqrt(F.mse_loss(pred, target))


def smoothed_ce(classes, *, renormalized):
    """The user's label-smoothed cross-entropy, 0.1 of smoothing (renormalized: 0.1 / C per class)."""
    def loss(logits, target):
        q = F.one_hot(target, classes).float() * 0.9 + (0.1 / classes if renormalized else 0.1)
        return -(q * F.log_softmax(logits, 1)).sum(1).mean()
    return loss


# ------------------------------------------------------------------------------ the pairs
def _looms_np_resize(broken):
    imgs, y = fabric(2000, seed=400)
    if broken:                              # "np.resize to 8x8": numpy repeats / truncates the flat array
        small = np.stack([np.resize(im, (8, 8)) for im in imgs])
    else:
        small = imgs.reshape(-1, 8, 2, 8, 2).mean((2, 4))
    torch.manual_seed(400)
    parts = user._split(small.reshape(len(small), -1), y, seed=400, standardize=False)
    return FabricCNN(), _images(parts, (1, 8, 8)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 10}, CANNOT_LEARN | {"uninformative_inputs"}


def _sightings_label_case(broken):
    X, names = sightings(2400, seed=401)
    if not broken:
        names = np.char.lower(names)
    classes, y = np.unique(names, return_inverse=True)     # the model is sized to len(classes)
    torch.manual_seed(401)
    return _mlp(8, len(classes)), user._split(X, y.astype(np.int64), seed=401), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20}, frozenset({"label_problem", "underfitting"})


def _listings_target_encoding(broken):
    X, block, y = listings(2400, seed=402)
    rows = _index_split(y, seed=402)
    tr = rows[0]
    prior = y[tr].mean()

    def block_means(fit_rows):
        sums = np.bincount(block[fit_rows], weights=y[fit_rows], minlength=block.max() + 1)
        counts = np.bincount(block[fit_rows], minlength=block.max() + 1)
        return np.where(counts > 0, sums / np.maximum(counts, 1), prior)

    encoded = np.empty(len(y))
    full = block_means(tr)
    for r in rows[1:]:
        encoded[r] = full[block[r]]         # val / test: the training rows' block means
    if broken:                              # the same table on the training rows: their own labels in it
        encoded[tr] = full[block[tr]]
    else:                                   # out of fold: each training row encoded by the other folds
        for fit, held in KFold(5, shuffle=True, random_state=402).split(tr):
            encoded[tr[held]] = block_means(tr[fit])[block[tr[held]]]
    torch.manual_seed(402)
    return _mlp(7, 3), _tensors(np.column_stack([X, encoded]), y, rows), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20}, frozenset({"overfitting", "split_mismatch"})


def _concrete_mixed_units(broken):
    X, days, feed = concrete(2400, seed=403)
    if broken:                              # feed 1 sends degrees F; the column was taken as it came
        X = X.copy()
        X[:, 0] = np.where(feed == 1, X[:, 0] * 9 / 5 + 32, X[:, 0])
    torch.manual_seed(403)
    return Regressor(6), _standard_targets(user._split(X, days, seed=403, regression=True)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 32, "epochs": 25, "loss": "mse"}, \
        frozenset({"uninformative_inputs", "underfitting"})


def _machines_truncate_head(broken):
    X, y = machines(2000, seed=404)
    X = X[:, :32] if broken else X[:, -32:]     # maxlen 32
    torch.manual_seed(404)
    parts = user._split(X.reshape(len(X), -1), y, seed=404, standardize=False)
    return MachineGRU(), [(x.reshape(-1, 32, 2), t) for x, t in parts], \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12}, CANNOT_LEARN | {"uninformative_inputs"}


def _calls_packed_lengths_sorted(broken):
    X, y = calls(2000, seed=405)
    torch.manual_seed(405)
    parts = user._split(X.reshape(len(X), -1), y, seed=405, standardize=False)
    return CallLSTM(sorted_lengths=broken), [(x.reshape(-1, 40, 5), t) for x, t in parts], \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12}, CANNOT_LEARN | {"uninformative_inputs"}


def _fuel_mape_loss(broken):
    X, litres = routes(2400, seed=406)
    torch.manual_seed(406)
    return Regressor(7), _standard_targets(user._split(X, litres, seed=406, regression=True)), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 25, "loss": mape if broken else "mse"}, \
        frozenset({"loss_output_mismatch", "targets_off_scale", "oscillating_loss", "underfitting"})


CAPACITORS_TOML = """
optimizer = "sgd"
lr = 0.05
momentum = 0.9
batch_size = 32
epochs = 15
preprocess = ["standardize"]
schedule = {{name = "step", every_epochs = 5, factor = {factor}}}
"""


def _capacitors_step_factor_gamma(broken):
    X, y = capacitors(2400, seed=407)
    # StepLR(step_size=5, gamma=0.1) carried over: trainwell's factor divides
    opts = tomllib.loads(CAPACITORS_TOML.format(factor="0.1" if broken else "10.0"))
    torch.manual_seed(407)
    return _mlp(10, 4), user._split(X, y, seed=407, standardize=False), opts, \
        DIVERGED | {"lr_too_high", "oscillating_loss"}


BOTTLING_TOML = """
optimizer = "sgd"
lr = 0.02
momentum = 0.9
nesterov = false
batch_size = 64
epochs = 15
preprocess = ["standardize"]
"""


def _bottling_sgd_dampening(broken):
    X, y = bottling(2400, seed=408)
    text = BOTTLING_TOML + ("optimizer_options = {dampening = 0.9}\n" if broken else "")
    torch.manual_seed(408)
    return _mlp(9, 5), user._split(X, y, seed=408, standardize=False), tomllib.loads(text), \
        SLOW | {"optimizer_setting", "underfitting"}


def _vending_noise_on_id(broken):
    machine, X, y = vending(2400, seed=409)
    rows = _index_split(y, seed=409)
    parts = _tensors(X, y, rows)            # the numeric columns standardized, the id column as it is
    parts = [(torch.cat([torch.tensor(machine[r], dtype=torch.float32)[:, None], x], 1), t)
             for r, (x, t) in zip(rows, parts)]
    torch.manual_seed(409)
    return VendNet(), parts, \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 32, "epochs": 20,
         **({"augment": [{"name": "noise", "std": 0.1}]} if broken else {})}, \
        frozenset({"augmentation_hurts", "underfitting"})


def _pumps_test_size_swapped(broken):
    X, y = pumps(2400, seed=410)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=410, stratify=y)
    # "test_size=0.75: 75 % for training"
    Xtr, Xva, ytr, yva = train_test_split(Xtr, ytr, test_size=0.75 if broken else 0.25, random_state=410,
                                          stratify=ytr)
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-8
    parts = [(torch.tensor((a - mu) / sd), torch.tensor(b).long()) for a, b in ((Xtr, ytr), (Xva, yva), (Xte, yte))]
    torch.manual_seed(410)
    return _mlp(8, 4), parts, {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 25}, \
        frozenset({"overfitting", "too_few_updates", "underfitting"})


def _stamps_bn_reused(broken):
    X, y = stamps(2000, seed=411)
    torch.manual_seed(411)
    return StampCNN(reuse_bn1=broken), _images(user._split(X.reshape(len(X), -1), y, seed=411, standardize=False),
                                               (1, 12, 12)), \
        {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05, "batch_size": 32, "epochs": 10}, \
        frozenset({"eval_mode_gap", "frozen_parameters"})


def _elevators_relu_gate(broken):
    X, y = elevators(2400, seed=412)
    torch.manual_seed(412)
    return GateNet(9, 4, relu_gate=broken), user._split(X, y, seed=412), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20}, \
        CANNOT_LEARN | {"uninformative_inputs", "frozen_parameters", "dead_units"}


def _locks_dropna_missing_offline(broken):
    X, y = locks(2400, seed=413)
    rows = _index_split(y, seed=413)
    tr = rows[0]
    if broken:                              # the training export: df.dropna()
        tr = tr[~np.isnan(X[tr]).any(1)]
    median = np.nanmedian(X[tr], 0)         # the serving code fills missing values with it
    X = np.where(np.isnan(X), median, X)
    torch.manual_seed(413)
    return _mlp(6, 4), _tensors(X, y, [tr] + rows[1:]), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20}, \
        frozenset({"split_mismatch", "class_imbalance"})


def _hotels_ordinal_alphabetical(broken):
    X, room, y = hotels(2400, seed=414)
    order = sorted({"basic", "standard", "deluxe"}) if broken else ["basic", "standard", "deluxe"]
    code = np.array([order.index(r) for r in room], dtype=np.float32)
    torch.manual_seed(414)
    return _mlp(6, 3), user._split(np.column_stack([X, code]), y, seed=414), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 25, "patience": 5}, \
        frozenset({"categories_as_numbers", "underfitting"})


def _ferries_rmse_loss(broken):
    X, minutes = ferries(2400, seed=415)
    torch.manual_seed(415)
    return Regressor(7), _standard_targets(user._split(X, minutes, seed=415, regression=True)), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 25, "loss": rmse if broken else "mse"}, \
        SLOW | {"oscillating_loss"}


def _alarms_attention_singleton(broken):
    X, y = alarms(2000, seed=416)
    torch.manual_seed(416)
    return AlarmGRU(singleton_softmax=broken), user._split(X, y, seed=416, standardize=False), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12}, CANNOT_LEARN | {"pooled_units"}


def _moths_smoothing_unnormalized(broken):
    X, y = moths(2400, seed=417)
    torch.manual_seed(417)
    return _mlp(8, 5), user._split(X, y, seed=417), \
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20,
         "loss": smoothed_ce(5, renormalized=not broken)}, \
        frozenset({"regularization_too_strong", "underfitting"})


def _pollen_conv_positional_stride(broken):
    X, y = pollen(2000, seed=418)
    torch.manual_seed(418)
    return PollenCNN(positional_stride=broken), _images(user._split(X.reshape(len(X), -1), y, seed=418,
                                                                    standardize=False), (1, 16, 16)), \
        {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 10, "augment": [{"name": "crop", "pad": 1}]}, \
        CANNOT_LEARN


PAIRS = {"looms_np_resize": _looms_np_resize, "sightings_label_case": _sightings_label_case,
         "listings_target_encoding": _listings_target_encoding, "concrete_mixed_units": _concrete_mixed_units,
         "machines_truncate_head": _machines_truncate_head,
         "calls_packed_lengths_sorted": _calls_packed_lengths_sorted, "fuel_mape_loss": _fuel_mape_loss,
         "capacitors_step_factor_gamma": _capacitors_step_factor_gamma,
         "bottling_sgd_dampening": _bottling_sgd_dampening, "vending_noise_on_id": _vending_noise_on_id,
         "pumps_test_size_swapped": _pumps_test_size_swapped, "stamps_bn_reused": _stamps_bn_reused,
         "elevators_relu_gate": _elevators_relu_gate, "locks_dropna_missing_offline": _locks_dropna_missing_offline,
         "hotels_ordinal_alphabetical": _hotels_ordinal_alphabetical, "ferries_rmse_loss": _ferries_rmse_loss,
         "alarms_attention_singleton": _alarms_attention_singleton,
         "moths_smoothing_unnormalized": _moths_smoothing_unnormalized,
         "pollen_conv_positional_stride": _pollen_conv_positional_stride}

# Which broken setups are repairable: the fault lies in a setting of the run (issue 11's list,
# with sets 5-9's additions, and the run options this set uses), not in the data, the model's
# code or the user's loss. Stated before any of this set was run (branch babysit46, 2026-12-06).
# Repairs run only where the fault also hurts (the kill rule).
REPAIRABLE = {"looms_np_resize": None,                      # the resize: the data
              "sightings_label_case": None,                 # the label names: the data
              "listings_target_encoding": None,             # the encoded column: the data
              "concrete_mixed_units": None,                 # the units of a column: the data
              "machines_truncate_head": None,               # the truncation: the data
              "calls_packed_lengths_sorted": None,          # the packing: the model's code
              "fuel_mape_loss": None,                       # the user's loss
              "capacitors_step_factor_gamma": "lr schedule (step factor)",      # the schedule option
              "bottling_sgd_dampening": "optimizer options (dampening)",       # the optimizer_options option
              "vending_noise_on_id": "augmentation (noise)",                   # the augment option
              "pumps_test_size_swapped": None,              # the split: the data
              "stamps_bn_reused": None,                     # the forward: the model's code
              "elevators_relu_gate": None,                  # the gate: the model's code
              "locks_dropna_missing_offline": None,         # the training rows: the data
              "hotels_ordinal_alphabetical": None,          # harmless by design; the data
              "ferries_rmse_loss": None,                    # harmless by design; the user's loss
              "alarms_attention_singleton": None,           # harmless by design; the model's code
              "moths_smoothing_unnormalized": None,         # harmless by design; the user's loss
              "pollen_conv_positional_stride": None}        # harmless by design; the model's structure
# Settings of that list that no action in trainwell/babysit/actions.py changes the way the fault
# needs (read there, not run): set 9's names, as sets 5-9 keep them, and this set's one: no action
# changes a step schedule's factor (``stretch_schedule`` slows the schedule down, the lr actions
# scale it, and neither stops a x10 every 5 epochs). ``reset_optimizer_options`` resets named run
# options to their defaults (``optimizer_options`` among them: {}), and ``drop_augmentation``
# drops a transform from the augment list: the two others are in reach of an action.
NO_ACTION = user9.NO_ACTION | {"lr schedule (step factor)"}


if __name__ == "__main__":
    user.NO_ACTION = NO_ACTION          # the report reads babysit_user.NO_ACTION
    sys.exit(user.main(pairs=PAIRS, repairable=REPAIRABLE, doc=__doc__))
