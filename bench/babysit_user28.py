r"""A twenty-eighth held-out set of setups written as users write them: measured, never tuned on.

Issue 11 asks for the babysitter's quality on setups nobody tuned it for. Sets 1-27
(``babysit_user.py`` .. ``babysit_user27.py``) were read, and partly developed on, by the engineers
changing the babysitter; this twenty-eighth set was written (branch babysit152, 2026-12-07) and
committed before any of it was run, its training and its babysitter both: it is measured once, by
the lead, on the final merged main of the session, so that its number is held out for everything
merged in it; nobody tunes on it. 18 pairs, each the user's own ``nn.Module`` (or an
``nn.Sequential``) on data generated here or shipped with scikit-learn (nothing downloads), a
healthy setup and the same setup with one fault: 13 meant to hurt, 5 harmless on purpose. Five of
the 13 lie in a fit option that config validation accepts and an action changes (the augment list
twice, the lr schedule twice, the lr multipliers).

| pair | data | model, training | healthy | fault (expected codes) |
| --- | --- | --- | --- | --- |
| valves_crop_augment_on_signal_rows | set 27's valve pressure traces (24 readings, period 8, 5 or 3: the class), standardized, shaped (1, 1, 24) "as a one-row image" | RowCNN (two 1x5 convs, the max over time, linear), Adam | no augmentation | ``augment = [{name = "crop", pad = 3}]`` "a random time shift, as the image recipe's crop": the crop pads the one row's height too and keeps a one-row window, six times in seven a padding row: most training traces are blank (augmentation_hurts, underfitting) |
| inspections_plateau_threshold_keras_min_delta | scikit-learn's ``make_classification`` (12 features, 8 informative, 5 classes of 2 clusters) | ``nn.Sequential`` 12-64-64-5, momentum SGD lr 0.01, 30 epochs | ``schedule = {name = "plateau", factor = 0.2, patience = 2}`` (the relative threshold 1e-4) | ``threshold = 0.1``, the Keras recipe's ``ReduceLROnPlateau(min_delta=0.1)`` (absolute, on a loss in the hundreds) read by fit as relative: the validation loss must fall 10 % in 3 epochs (3.5 % an epoch) or the lr is cut 5x (schedule_decays_early and the slow-learning codes) |
| springs_noise_augment_deterministic_regression | spring-mass resonances: stiffness, mass, and two columns that do not matter; the frequency ``sqrt(k / m) / 2 pi`` with noise 1 % (regression), standardized | set 1's Regressor 4-64-64-1, Adam, 25 epochs, MSE | no augmentation | ``augment = [{name = "noise", std = 0.3}]`` "Gaussian noise as a regularizer (Keras' GaussianNoise(0.3))" on a target without noise: the net learns the frequency averaged over inputs 0.3 sd away, a bias where it bends (light masses) (augmentation_hurts, underfitting) |
| digits_caffe_head_lr_mult_from_scratch | scikit-learn's digits, pixels / 16 | set 1's DigitCNN, momentum SGD lr 0.05, 10 epochs | one lr | ``lr_mults = {fc = 10}``, Caffe's fine-tuning ``lr_mult: 10`` for the new classifier, on a net trained from scratch: the head at lr 0.5 with momentum 0.9 (the diverged codes: lr_too_high, oscillating_loss, ...; optimizer_setting) |
| swells_fourier_features_redrawn_by_init | wave height over a harbour (x, y; regression): ``sin(6 pi x) cos(4 pi y) + 0.5 sin(8 pi (x + y))``, noise 0.05, standardized | FourierNet (a frozen ``nn.Linear(2, 64)`` drawn N(0, 5^2): Tancik et al. 2020's random Fourier features, sin and cos, an MLP 128-64-64-1), Adam, 25 epochs | the model's own init | ``init = "kaiming_normal"`` "He init for the ReLU MLP": fit redraws every ``nn.Linear``, the frozen projection too, at std 1: frequencies 5x lower than the waves' (underfitting and the slow-learning codes, cannot_overfit_small_subset). Since babysit162 fit's init leaves frozen tensors as they are (fastai's rule): the pair now measures He's scale on the layers that train (R^2 84.5 -> 95.8 against 98.3) |
| tickets_multihead_attention_sequence_first | set 21's support tickets (ids from 1, 0 padding) | TicketAttention (embeddings, ``nn.MultiheadAttention(32, 2)`` self-attention, the masked mean, an MLP), Adam | ``batch_first=True`` for the (N, 20, 32) embeddings | ``batch_first`` left at PyTorch's default False: the module reads (N, 20, 32) as (L, N, E), each position attends over the batch's tickets at that position (batch_dependence, underfitting) |
| digits_adamw_decay_without_lr | scikit-learn's digits, pixels / 16 | set 1's DigitCNN, the user's AdamW (lr 1e-3, weight decay 0.01) | ``p *= 1 - lr * wd`` (Loshchilov & Hutter 2019, PyTorch's AdamW) | ``p *= 1 - wd``, the lr left out: 1 % of every weight a step, the weights held near lr / wd = 0.1 (regularization_too_strong, underfitting, optimizer_setting) |
| claims_lognormal_amount_standardized_raw | insurance claims: the amount (log-normal, median 1,100, sigma 2.5 in log units) and 5 measurements; small, medium, large claim handling (3 classes) set mostly by the log amount | ``nn.Sequential`` 6-64-64-3, Adam | the amount's log, then every column standardized | the amount standardized as it is: its sd is set by the tail (about 260,000 on these rows), the three classes' median amounts lie within 0.05 standard scores of each other (unnormalized_inputs and the slow-learning codes) |
| weaves_jpeg_recompressed_training_uploads | 16x16 fabric swatches, stripes of period 2, 4 or 8 pixels across or down (fine, medium, coarse weave) or plain (4 classes), grey 0.4-0.6, amplitude 0.04-0.06, noise 0.02; the training swatches from the web form's uploads, validation and test from the line camera | set 13's DefectCNN (4 classes), Adam | every swatch saved as PNG (8 bits) | the uploads recompressed by the form at JPEG quality 10 ("to fit the upload limit"): the fine stripes quantized away in training only, a fine swatch as flat as a plain one (split_mismatch, underfitting) |
| species_mae_loss_twenty_classes | scikit-learn's ``make_classification`` (16 features, 10 informative, 20 classes) | ``nn.Sequential`` 16-64-64-20, momentum SGD lr 0.05, 20 epochs | ``F.cross_entropy`` | the user's MAE on the probabilities, ``(1 - softmax(z)[y]).mean()``, "robust to label noise" (Ghosh et al. 2017): its gradient is weighted by ``p_y (1 - p_y)``, about 0.05 for 20 classes at the start and smaller still for a hard row (Zhang & Sabuncu 2018: MAE underfits) (the slow-learning codes, loss_output_mismatch, cannot_overfit_small_subset) |
| sorters_long_run_without_early_stopping | parcel sorter readings: 8 measurements, 3 classes, label noise 1.0 on the scores (900 training rows) | ``nn.Sequential`` 8-256-256-3, Adam, 100 epochs | ``patience = 10`` (early stopping on the validation loss, the best weights restored) | no ``patience``: the recipe's 100 epochs run out, the net memorizes the noisy labels (overfitting) |
| tickets_flatten_embeddings_keras_tutorial | set 21's support tickets | TicketFlat (embeddings flattened, 20 x 32 = 640, into ``Linear(640, 64)``, as the Keras tutorial's ``Flatten()`` after ``Embedding``), Adam | set 21's TicketPool: the masked mean over the words | the flattened embeddings: a weight block per position, the topic word at any of 16 places learned 16 times from a sixteenth of the rows (overfitting, underfitting) |
| hoppers_sgdr_mult_default_ends_mid_cycle | hopper readings: 8 measurements, 3 classes | ``nn.Sequential`` 8-64-64-3, momentum SGD lr 0.1, 16 epochs | ``schedule = {name = "cosine_restarts", period_epochs = 4, mult = 1}``, PyTorch's ``CosineAnnealingWarmRestarts(T_0=4)`` (T_mult 1): the run ends at a cycle's end | ``{name = "cosine_restarts", period_epochs = 4}``, fit's default ``mult = 2``: cycles of 4, 8, 16 epochs, a restart at epoch 12 and the run ends 4 epochs into the 16-epoch cycle at 0.85 of the peak lr (the diverged codes, underfitting) |
| grades_svm_hinge_counts_true_class | grades: 8 measurements, 3 classes | ``nn.Sequential`` 8-64-64-3, Adam, the user's multiclass hinge (Weston & Watkins 1999) | ``sum_{j != y} relu(z_j - z_y + 1)`` | the sum over every j, the true class too (CS231n's "don't forget to skip j = y") (harmless by design: the true class adds ``relu(1) = 1``, a constant with no gradient) |
| wells_tanh_net_kaiming_relu_gain | well readings: 8 measurements, 3 classes | TanhMLP (``nn.Sequential`` 8-64-64-64-3, Tanh), Adam | ``init = {name = "kaiming_normal", activation = "tanh"}`` (gain 5/3) | ``init = "kaiming_normal"``, which keeps ReLU's gain sqrt 2 on the user's own module (docs/init.md) (harmless by design: 15 % smaller weights on a 3-layer tanh net) |
| digits_adam_step_counted_per_tensor | scikit-learn's digits, pixels / 16 | set 1's DigitCNN, the user's Adam (lr 1e-3) | the step counted once a step, per parameter (``state["step"]``) | one counter in the group incremented inside the loop over the 6 tensors: the bias correction runs 6x ahead (harmless by design: it only changes the first few dozen steps) |
| digits_crop_reflect_padding | scikit-learn's digits, pixels / 16 | set 1's DigitCNN, Adam | ``augment = [{name = "crop", pad = 1}]`` (zeros, docs/augmentation.md's pad for 8x8 digits) | ``padding = "reflect"``, airbench94's padding (harmless by design: a one-pixel shift whose new edge mirrors a mostly blank column) |
| tickets_unknown_words_as_padding | support tickets with a long tail: set 21's words and 1-3 order numbers of 3,000 each; the vocabulary built on the training split only | set 21's TicketPool (the masked mean skips id 0), Adam | a word outside the vocabulary read as one UNK id, after the vocabulary's | ``vocab.get(w, 0)``: an unknown word read as the padding id, left out of the mean (harmless by design: the UNK id is never trained, and an order number tells no class) |

**What is new against sets 1-27.** Data: spring-mass resonances, wave heights over a plane, log-normal
claim amounts, woven fabric swatches from two sources (web-form uploads and a line camera),
tickets with a long tail of order numbers, scikit-learn's ``make_classification`` at 5 and 20
classes; set 27's valve traces, set 21's tickets, digits. Models: a CNN of 1xk convs on one-row
"images", random Fourier features in a frozen ``nn.Linear``, self-attention through
``nn.MultiheadAttention``, flattened embeddings, a deep tanh MLP. Training choices: fit's ``crop``
and ``noise`` augmentations, ``lr_mults``, the plateau schedule's ``threshold``, ``cosine_restarts``'
``mult``, ``init``, ``patience``; a hand-written AdamW, Adam, multiclass hinge and MAE. Faults (none in
the tables of sets 1-27, nor in issue 11's list): an image crop on one-row signals, a Keras
absolute ``min_delta`` read as a relative threshold, input noise on a noiseless regression, Caffe's
head lr multiplier on a net from scratch, fit's init redrawing frozen Fourier features,
``MultiheadAttention`` without ``batch_first``, AdamW's decay without the lr, a log-normal amount
standardized raw, JPEG-recompressed uploads in training only, an MAE loss on 20 classes, a long run
without early stopping, flattened word embeddings, SGDR's ``mult`` left at fit's default; harmless
on purpose: a hinge that counts the true class, ReLU's gain on a tanh net, Adam's step counted per
tensor, reflection padding in a digit crop, unknown words read as padding. The nearest earlier
faults: the one-row crop against set 27's Keras pixel shift and set 16's CIFAR cutout (image
recipes on the wrong image); the plateau threshold against set 26's plateau patience 0 and set 8's
plateau mode; input noise against set 8's noise of 5 and set 10's noise on an id column (noise of
the wrong scale or on the wrong column, here the right scale on a target without noise); the head
multiplier against set 15's frozen body from scratch; the redrawn Fourier features against set
25's Xavier init on a deep ReLU net and set 26's fan-out init; the attention's axes against set
19's attention pooling with its softmax over the batch axis and set 10's over a singleton axis;
the AdamW decay against set 26's AdamW value as an L2 penalty and set 27's momentum buffer; the
log-normal amount against set 18's log after scaling and set 15's outliers dropped; the JPEG uploads against set 8's BGR
training images and set 27's RGBA PNGs; the MAE against set 11's Brier loss; the long run against
set 14's ``restore_best = false`` and set 7's early stopping's ``min_delta``; the flattened
embeddings against set 23's flattened conv map cut to the head's width; SGDR's ``mult`` against set
9's restarts every epoch; the hinge against set 27's 0 / 1 hinge and set 22's hinge on the true
logit; ReLU's gain against set 25's Xavier on ReLU; the step counter against set 11's bias
correction off; the reflect crop against set 16's CIFAR cutout; unknown words against set 21's
vocabulary from 0 masked as padding.

Where the faults come from (read with the ``search`` tool, not run): ``nn.MultiheadAttention``'s
``batch_first`` default (om-ai-lab/OmDet issue 19: "Shouldn't this MultiHeadAttention be
initialized with ``batch_first=True``... This causes inconsistencies when using the model for batch
inference"; kyegomez/movie-gen issue 8; pytorch/pytorch issue 122959); Keras' absolute
``min_delta`` against PyTorch's relative ``threshold`` (tensorflow/tensorflow issue 33675,
keras-team/keras issue 15863 and issue 10924's recipe with ``min_delta=0.04``; Lightning-AI issue
673: "If ``threshold_mode=rel`` is used, and loss is not reducing significantly, learning rate will
reduce"). The rest (the crop on one-row signals, input noise on a noiseless target, Caffe's
``lr_mult: 10`` for the new layer, fit's init over frozen layers (docs/init.md: "redraws the weight
of every ``nn.Linear`` ... wherever it sits"), AdamW without the lr, a raw log-normal column, JPEG
uploads, MAE for noisy labels (Ghosh et al. 2017; Zhang & Sabuncu 2018), early stopping left out,
the Keras tutorial's ``Flatten()`` after ``Embedding``, PyTorch's ``T_mult = 1`` against fit's
``mult = 2``, and the five harmless ones) are common mistakes written from the libraries'
documentation and experience.

Whether a fault hurts is not taken from this table: ``babysit_user.killed`` computes it from the
``babysit="off"`` runs (>= 3 points of validation accuracy, or MSE / Var(y) 25 % higher for
regression) and prints it. A fault that does not hurt is scored as harmless, and any warning or
error on it counts as a false alarm. Scored by ``babysit_user.main`` (imported; the same rules as
sets 1-27, which its docstring states). ``REPAIRABLE`` below says, per pair and before any of it
was run, which faults lie in a setting the babysitter's actions could change: seven, five meant
to hurt (the one-row crop and the input noise: the augment list; the plateau threshold and SGDR's
``mult``: the lr schedule; the head's lr multiplier: the lr, which an action lowers; fit options
config validation accepts) and, harmless by design and so repaired only if the kill rule says they
hurt, ReLU's gain on the tanh net (the init) and the reflect crop (the augment list); every
other fault lies in the data, the model's code, the user's loss or optimizer, or a fit
option no action changes (the init over a frozen layer: no action restores the model's own draw;
early stopping's ``patience``). Every pair keeps the same rows per split on both sides and the
input's and output's widths.

Run: ``python bench/babysit_user28.py`` (a markdown report; ``--json rows.json`` keeps the rows;
``--pair NAME`` runs one pair; ``--no-train`` skips training; ``--repair`` adds the repairs;
``--seeds N`` training seeds, default 2; ``--combine u1.json ... u28.json`` reports the sets
together with this file's ``NO_ACTION`` names). Run it on the CPU, as sets 1-27.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn import datasets
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import babysit_user as user  # noqa: E402  (the split helpers, set 1's DigitCNN and Regressor, the scoring)
import babysit_user11 as user11  # noqa: E402  (set 11's MLP)
import babysit_user12 as user12  # noqa: E402  (set 12's image split)
import babysit_user13 as user13  # noqa: E402  (set 13's tables and DefectCNN)
import babysit_user14 as user14  # noqa: E402  (set 14's sequence split)
import babysit_user21 as user21  # noqa: E402  (set 21's tickets, TicketPool)
import babysit_user23 as user23  # noqa: E402  (set 23's three classes)
import babysit_user27 as user27  # noqa: E402  (set 27's valve traces, digit split, NO_ACTION names)

REGULARIZATION, INIT, SLOW, DIVERGED = user.REGULARIZATION, user.INIT, user.SLOW, user.DIVERGED
_mlp, _table, Regressor, DefectCNN, mse = user11._mlp, user13._table, user.Regressor, user13.DefectCNN, user13.mse
_image_parts, _sequence_parts = user12._image_parts, user14._sequence_parts
ticket_texts, vocabulary, encode, TicketPool = user21.ticket_texts, user21.vocabulary, user21.encode, user21.TicketPool
PAD, TEXT_LENGTH, _digit_parts, valve_traces = user21.PAD, user21.TEXT_LENGTH, user27._digit_parts, user27.valve_traces
ADAM = {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20}
SGD = {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05, "batch_size": 32, "epochs": 12}
WORDS = {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12}
IMAGES = {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 10}
DIGITS = {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 10}
EVEN = [0.35, 0.35, 0.3]
THREE = user23.THREE


# ------------------------------------------------------------------------------ the user's signals and tables
class RowCNN(nn.Module):
    """A 2-D CNN over signals shaped (1, 1, L), "a one-row image": conv 1-16 and 16-16 with 1x5
    kernels (padding 0, 2; ReLU), the max over time, a linear layer."""

    def __init__(self, classes: int = 3):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 16, (1, 5), padding=(0, 2)), nn.Conv2d(16, 16, (1, 5), padding=(0, 2))
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        return self.fc(F.relu(self.conv2(F.relu(self.conv1(x)))).flatten(2).amax(2))


def spring_rows(n: int, *, seed: int):
    """Spring-mass systems: stiffness 100-1000 N/m, mass 0.5-5 kg, temperature and humidity (which do
    not matter); the resonance frequency ``sqrt(k / m) / 2 pi`` in Hz with 1 % noise."""
    g = np.random.default_rng(seed)
    k, m = g.uniform(100, 1000, n), g.uniform(0.5, 5.0, n)
    X = np.column_stack([k, m, g.normal(20, 5, n), g.uniform(30, 90, n)])
    f = np.sqrt(k / m) / (2 * np.pi)
    return X.astype(np.float32), (f * (1 + g.normal(0, 0.01, n))).astype(np.float32)


def swell_heights(n: int, *, seed: int):
    """Wave height at (x, y) in [0, 1]^2 over a harbour: ``sin(6 pi x) cos(4 pi y) + 0.5 sin(8 pi
    (x + y))``, noise 0.05."""
    g = np.random.default_rng(seed)
    xy = g.uniform(0, 1, (n, 2))
    h = np.sin(6 * np.pi * xy[:, 0]) * np.cos(4 * np.pi * xy[:, 1]) + 0.5 * np.sin(8 * np.pi * xy.sum(1))
    return xy.astype(np.float32), (h + g.normal(0, 0.05, n)).astype(np.float32)


FOURIER_SCALE = 5.0                                 # std of the projection, per standard score of x and y


class FourierNet(nn.Module):
    """Random Fourier features (Tancik et al. 2020): a frozen ``nn.Linear(2, features)`` drawn
    N(0, ``FOURIER_SCALE``^2), sin and cos of it, an MLP 2 x features-64-64-1."""

    def __init__(self, *, features: int = 64):
        super().__init__()
        self.proj = nn.Linear(2, features, bias=False)
        nn.init.normal_(self.proj.weight, 0.0, FOURIER_SCALE)
        self.proj.requires_grad_(False)
        self.net = nn.Sequential(nn.Linear(2 * features, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, x):
        z = self.proj(x)
        return self.net(torch.cat([torch.sin(z), torch.cos(z)], 1)).squeeze(1)


CLAIM_BANDS = (4.5, 7.0, 9.5)                       # log amounts of small, medium, large claims' handling


def claim_rows(n: int, *, seed: int, log_amount: bool):
    """Insurance claims: the amount (log-normal, log median 7, sigma 2.5) and 5 standard-score
    measurements; 3 classes scored by the log amount's distance to ``CLAIM_BANDS`` and a little by
    the measurements, noise 0.4. Column 0 is the amount, or its log with ``log_amount``."""
    g = np.random.default_rng(seed)
    la, z = 7.0 + 2.5 * g.normal(size=n), g.normal(size=(n, 5))
    scores = -1.5 * np.abs(la[:, None] - np.asarray(CLAIM_BANDS)[None]) + 0.4 * z[:, :3]
    y = user.noisy_classes(scores, g, 0.4)
    return np.column_stack([la if log_amount else np.exp(la), z]).astype(np.float32), y


# ------------------------------------------------------------------------------ the user's images
WEAVE_PERIODS = (0, 2, 4, 8)                        # plain, fine, medium, coarse (stripes of period p pixels)


def weave_swatches(n: int, *, seed: int, size: int = 16):
    """(n, size, size) fabric swatches: grey 0.4-0.6, stripes of ``WEAVE_PERIODS`` pixels (the class;
    a square wave of amplitude 0.04-0.06 at a random offset, across or down), noise 0.02."""
    g = np.random.default_rng(seed)
    y = g.integers(0, len(WEAVE_PERIODS), n)
    t = np.arange(size)
    X = g.uniform(0.4, 0.6, (n, 1, 1)) + g.normal(0, 0.02, (n, size, size))
    for i, k in enumerate(y):
        period = WEAVE_PERIODS[k]
        if period:
            stripes = g.uniform(0.04, 0.06) * np.where(((t + g.integers(period)) // (period // 2)) % 2 == 0, 1, -1)
            X[i] += stripes[:, None] if g.random() < 0.5 else stripes[None, :]
    return X.astype(np.float32), y.astype(np.int64)


def saved_as(X: np.ndarray, *, jpeg_quality: int | None) -> np.ndarray:
    """Each image as the user's files hold it, read back in [0, 1]: 8-bit PNG, or JPEG at ``jpeg_quality``."""
    out = []
    for a in X:
        im = Image.fromarray(user27._grey_bytes(a), "L")
        if jpeg_quality is not None:
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=jpeg_quality)
            buf.seek(0)
            im = Image.open(buf)
        out.append(np.asarray(im, dtype=np.float32) / 255.0)
    return np.stack(out)


UPLOAD_QUALITY = 10                                 # the web form's JPEG quality


def weave_parts(*, seed: int, jpeg_uploads: bool, n: int = 2000):
    """The swatches split 60 / 20 / 20 (stratified): the training split from the uploads (PNG, or
    JPEG at ``UPLOAD_QUALITY`` with ``jpeg_uploads``), validation and test from the camera (PNG)."""
    X, y = weave_swatches(n, seed=seed)
    parts = _image_parts(X, y, seed=seed, shape=(1, 16, 16))
    quality = UPLOAD_QUALITY if jpeg_uploads else None
    return [(torch.tensor(saved_as(x[:, 0].numpy(), jpeg_quality=quality if k == 0 else None)).unsqueeze(1), t)
            for k, (x, t) in enumerate(parts)]


# ------------------------------------------------------------------------------ the user's text
class TicketAttention(nn.Module):
    """Word embeddings, ``nn.MultiheadAttention(d, 2)`` self-attention over them (``batch_first``
    as given), the mean over the words that are not padding, an MLP."""

    def __init__(self, *, words: int, batch_first: bool = True, d: int = 32, classes: int = 4):
        super().__init__()
        self.emb = nn.Embedding(words, d)
        self.attn = nn.MultiheadAttention(d, 2, batch_first=batch_first)
        self.head = nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, classes))

    def forward(self, x):
        ids = x.long()
        keep = (ids != PAD).unsqueeze(-1).float()
        e = self.emb(ids)
        h, _ = self.attn(e, e, e, need_weights=False)
        return self.head((h * keep).sum(1) / keep.sum(1).clamp(min=1.0))


class TicketFlat(nn.Module):
    """Word embeddings flattened (``TEXT_LENGTH`` x d) into ``Linear(TEXT_LENGTH * d, 64)``, ReLU, a
    linear layer: the Keras tutorial's ``Embedding``, ``Flatten()``, ``Dense``."""

    def __init__(self, *, words: int, d: int = 32, classes: int = 4):
        super().__init__()
        self.emb = nn.Embedding(words, d)
        self.head = nn.Sequential(nn.Linear(TEXT_LENGTH * d, 64), nn.ReLU(), nn.Linear(64, classes))

    def forward(self, x):
        return self.head(self.emb(x.long()).flatten(1))


TAIL_TOKENS = 3000                                  # order numbers, each rare


def tail_tickets(n: int, *, seed: int):
    """Set 21's tickets with 1-3 tokens of a long tail (``TAIL_TOKENS`` order numbers,
    uniform) put in at random places; the tail tells no class."""
    texts, y = ticket_texts(n, seed=seed)
    g = np.random.default_rng(seed + 1)
    for words in texts:
        for _ in range(g.integers(1, 4)):
            words.insert(g.integers(len(words) + 1), f"ord{g.integers(TAIL_TOKENS)}")
    return texts, y


def unknown_word_parts(*, seed: int, unknown_as_padding: bool, n: int = 2000):
    """The tail tickets split 60 / 20 / 20 (stratified), the vocabulary built on the training
    split (ids from 1), a word outside it read as the UNK id after the vocabulary's, or with
    ``unknown_as_padding`` as ``PAD`` (``vocab.get(w, 0)``); the parts and the embedding's rows."""
    texts, y = tail_tickets(n, seed=seed)
    rows = user._split(np.arange(n)[:, None], y, seed=seed, standardize=False)
    vocab = vocabulary([texts[int(i)] for i in rows[0][0][:, 0]])
    unknown = PAD if unknown_as_padding else len(vocab) + 1
    parts = []
    for idx, t in rows:
        ids = np.full((len(idx), TEXT_LENGTH), PAD, dtype=np.float32)
        for r, i in enumerate(idx[:, 0]):
            row = [vocab.get(w, unknown) for w in texts[int(i)]][:TEXT_LENGTH]
            ids[r, :len(row)] = row
        parts.append((torch.tensor(ids), t))
    return parts, len(vocab) + 2


# ------------------------------------------------------------------------------ the user's losses and optimizers
def ww_hinge(logits, target):
    """Weston & Watkins' multiclass hinge, ``sum_{j != y} relu(z_j - z_y + 1)``, the mean over rows."""
    margins = F.relu(logits - logits.gather(1, target[:, None]) + 1)
    return margins.masked_fill(F.one_hot(target, logits.shape[1]).bool(), 0.0).sum(1).mean()


def ww_hinge_all_classes(logits, target):
    """The same summed over every j, the true class's ``relu(0 + 1) = 1`` too."""
    return F.relu(logits - logits.gather(1, target[:, None]) + 1).sum(1).mean()


def mae_on_probabilities(logits, target):
    """The user's MAE between the softmax and the one-hot labels, halved: ``(1 - p_y).mean()``."""
    return (1 - logits.softmax(1).gather(1, target[:, None])).mean()


class UserAdamW(torch.optim.Optimizer):
    """The user's Adam / AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019): ``m``, ``v``, the bias
    correction at step t, ``p -= lr * m_hat / (v_hat.sqrt() + eps)``, then the decay ``p *= 1 - lr *
    wd``, or ``p *= 1 - wd`` with ``decay_times_lr=False``; t counted per parameter
    (``state["step"]``), or with ``step_per_tensor`` from one counter of the group incremented for
    each tensor. Every option is in ``defaults``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *,
                 decay_times_lr: bool = True, step_per_tensor: bool = False):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "decay_times_lr": decay_times_lr, "step_per_tensor": step_per_tensor,
                                  "tensor_steps": 0})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            (b1, b2), lr, wd = group["betas"], group["lr"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "m" not in state:
                    state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                group["tensor_steps"] += 1
                state["step"] = group["tensor_steps"] if group["step_per_tensor"] else state["step"] + 1
                t, g = state["step"], p.grad
                state["m"].mul_(b1).add_(g, alpha=1 - b1)
                state["v"].mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat, v_hat = state["m"] / (1 - b1 ** t), state["v"] / (1 - b2 ** t)
                p.sub_(lr * m_hat / (v_hat.sqrt() + group["eps"]))
                p.mul_(1 - (lr * wd if group["decay_times_lr"] else wd))
        return loss


# ------------------------------------------------------------------------------ the pairs
CROP_SHIFT = {"name": "crop", "pad": 3}             # the image recipe's crop, "a random time shift"


def _valves_crop_augment_on_signal_rows(broken):
    X, y = valve_traces(2000, seed=2801)
    torch.manual_seed(2801)
    return RowCNN(), _sequence_parts(X, y, seed=2801, shape=(1, 1, X.shape[1])), \
        dict(IMAGES, augment=[CROP_SHIFT]) if broken else IMAGES, frozenset({"augmentation_hurts", "underfitting"})


PLATEAU = {"name": "plateau", "factor": 0.2, "patience": 2}
KERAS_MIN_DELTA = 0.1                               # ReduceLROnPlateau(min_delta=0.1): absolute in Keras


def _inspections_plateau_threshold_keras_min_delta(broken):
    X, y = datasets.make_classification(n_samples=2400, n_features=12, n_informative=8, n_redundant=2, n_classes=5,
                                        n_clusters_per_class=2, class_sep=1.0, flip_y=0.02, random_state=2802)
    torch.manual_seed(2802)
    schedule = dict(PLATEAU, threshold=KERAS_MIN_DELTA) if broken else PLATEAU
    return _mlp(12, 5), user._split(X, y, seed=2802), dict(SGD, lr=0.01, epochs=30, schedule=schedule), \
        SLOW | {"schedule_decays_early"}


INPUT_NOISE = {"name": "noise", "std": 0.3}         # Keras' GaussianNoise(0.3)


def _springs_noise_augment_deterministic_regression(broken):
    X, y = spring_rows(2400, seed=2803)
    parts = user.standard_targets(user._split(X, y, seed=2803, regression=True))
    torch.manual_seed(2803)
    opts = dict(ADAM, epochs=25, loss=mse)
    return Regressor(4), parts, dict(opts, augment=[INPUT_NOISE]) if broken else opts, \
        frozenset({"augmentation_hurts", "underfitting"})


CAFFE_HEAD_MULT = {"fc": 10.0}                      # Caffe's lr_mult: 10 on the new classifier


def _digits_caffe_head_lr_mult_from_scratch(broken):
    parts = _digit_parts(2804)
    torch.manual_seed(2804)
    opts = dict(SGD, epochs=10)
    return user.DigitCNN(), parts, dict(opts, lr_mults=CAFFE_HEAD_MULT) if broken else opts, \
        DIVERGED | {"optimizer_setting"}


def _swells_fourier_features_redrawn_by_init(broken):
    X, y = swell_heights(2400, seed=2805)
    parts = user.standard_targets(user._split(X, y, seed=2805, regression=True))
    torch.manual_seed(2805)
    opts = dict(ADAM, epochs=25, loss=mse)
    return FourierNet(), parts, dict(opts, init="kaiming_normal") if broken else opts, \
        SLOW | {"cannot_overfit_small_subset"}


def _tickets_multihead_attention_sequence_first(broken):
    texts, y = ticket_texts(2000, seed=2806)
    vocab = vocabulary(texts)
    torch.manual_seed(2806)
    return TicketAttention(words=len(vocab) + 1, batch_first=not broken), \
        user21._text_parts(encode(texts, vocab), y, seed=2806), WORDS, frozenset({"batch_dependence", "underfitting"})


ADAMW_DECAY = 0.01                                  # torch.optim.AdamW's default weight decay


def _digits_adamw_decay_without_lr(broken):
    parts = _digit_parts(2807)
    torch.manual_seed(2807)
    model = user.DigitCNN()
    optimizer = UserAdamW(model.parameters(), lr=1e-3, weight_decay=ADAMW_DECAY, decay_times_lr=not broken)
    return model, parts, dict(DIGITS, optimizer=optimizer), REGULARIZATION | {"optimizer_setting"}


def _claims_lognormal_amount_standardized_raw(broken):
    X, y = claim_rows(2400, seed=2808, log_amount=not broken)
    torch.manual_seed(2808)
    return _mlp(6, 3), user._split(X, y, seed=2808), ADAM, SLOW | {"unnormalized_inputs"}


def _weaves_jpeg_recompressed_training_uploads(broken):
    torch.manual_seed(2809)
    return DefectCNN(4), weave_parts(seed=2809, jpeg_uploads=broken), IMAGES, \
        frozenset({"split_mismatch", "underfitting"})


def _species_mae_loss_twenty_classes(broken):
    X, y = datasets.make_classification(n_samples=3000, n_features=16, n_informative=10, n_redundant=2, n_classes=20,
                                        n_clusters_per_class=1, class_sep=1.5, random_state=2810)
    torch.manual_seed(2810)
    return _mlp(16, 20), user._split(X, y, seed=2810), \
        dict(SGD, epochs=20, loss=mae_on_probabilities if broken else F.cross_entropy), \
        SLOW | {"loss_output_mismatch", "cannot_overfit_small_subset"}


LONG_RUN = dict(ADAM, epochs=100)                   # the recipe's epochs, written for early stopping
EARLY_STOP = {"patience": 10}


def _sorters_long_run_without_early_stopping(broken):
    X, y = _table(1500, 2811, 8, THREE, EVEN, noise=1.0)
    torch.manual_seed(2811)
    return _mlp(8, 3, width=256), user._split(X, y, seed=2811), LONG_RUN if broken else dict(LONG_RUN, **EARLY_STOP), \
        frozenset({"overfitting"})


def _tickets_flatten_embeddings_keras_tutorial(broken):
    texts, y = ticket_texts(2000, seed=2812)
    vocab = vocabulary(texts)
    torch.manual_seed(2812)
    model = TicketFlat(words=len(vocab) + 1) if broken else TicketPool(words=len(vocab) + 1)
    return model, user21._text_parts(encode(texts, vocab), y, seed=2812), WORDS, \
        frozenset({"overfitting", "underfitting"})


SGDR = {"name": "cosine_restarts", "period_epochs": 4}      # CosineAnnealingWarmRestarts(T_0=4)


def _hoppers_sgdr_mult_default_ends_mid_cycle(broken):
    X, y = _table(2400, 2813, 8, THREE, EVEN)
    torch.manual_seed(2813)
    return _mlp(8, 3), user._split(X, y, seed=2813), \
        dict(SGD, lr=0.1, epochs=16, schedule=SGDR if broken else dict(SGDR, mult=1)), DIVERGED | {"underfitting"}


def _grades_svm_hinge_counts_true_class(broken):
    X, y = _table(2400, 2814, 8, THREE, EVEN)
    torch.manual_seed(2814)
    return _mlp(8, 3), user._split(X, y, seed=2814), \
        dict(ADAM, loss=ww_hinge_all_classes if broken else ww_hinge), frozenset({"loss_output_mismatch"})


def tanh_mlp(d_in: int, d_out: int, width: int = 64) -> nn.Sequential:
    """The user's MLP of three tanh layers."""
    return nn.Sequential(nn.Linear(d_in, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(),
                         nn.Linear(width, width), nn.Tanh(), nn.Linear(width, d_out))


TANH_INIT = {"name": "kaiming_normal", "activation": "tanh"}


def _wells_tanh_net_kaiming_relu_gain(broken):
    X, y = _table(2400, 2815, 8, THREE, EVEN)
    torch.manual_seed(2815)
    return tanh_mlp(8, 3), user._split(X, y, seed=2815), dict(ADAM, init="kaiming_normal" if broken else TANH_INIT), \
        INIT


def _digits_adam_step_counted_per_tensor(broken):
    parts = _digit_parts(2816)
    torch.manual_seed(2816)
    model = user.DigitCNN()
    return model, parts, dict(DIGITS, optimizer=UserAdamW(model.parameters(), lr=1e-3, step_per_tensor=broken)), \
        frozenset({"optimizer_setting"})


DIGIT_CROP = {"name": "crop", "pad": 1}


def _digits_crop_reflect_padding(broken):
    parts = _digit_parts(2817)
    torch.manual_seed(2817)
    return user.DigitCNN(), parts, \
        dict(DIGITS, augment=[dict(DIGIT_CROP, padding="reflect") if broken else DIGIT_CROP]), \
        frozenset({"augmentation_hurts"})


def _tickets_unknown_words_as_padding(broken):
    parts, words = unknown_word_parts(seed=2818, unknown_as_padding=broken)
    torch.manual_seed(2818)
    return TicketPool(words=words), parts, WORDS, frozenset({"split_mismatch"})


PAIRS = {"valves_crop_augment_on_signal_rows": _valves_crop_augment_on_signal_rows,
         "inspections_plateau_threshold_keras_min_delta": _inspections_plateau_threshold_keras_min_delta,
         "springs_noise_augment_deterministic_regression": _springs_noise_augment_deterministic_regression,
         "digits_caffe_head_lr_mult_from_scratch": _digits_caffe_head_lr_mult_from_scratch,
         "swells_fourier_features_redrawn_by_init": _swells_fourier_features_redrawn_by_init,
         "tickets_multihead_attention_sequence_first": _tickets_multihead_attention_sequence_first,
         "digits_adamw_decay_without_lr": _digits_adamw_decay_without_lr,
         "claims_lognormal_amount_standardized_raw": _claims_lognormal_amount_standardized_raw,
         "weaves_jpeg_recompressed_training_uploads": _weaves_jpeg_recompressed_training_uploads,
         "species_mae_loss_twenty_classes": _species_mae_loss_twenty_classes,
         "sorters_long_run_without_early_stopping": _sorters_long_run_without_early_stopping,
         "tickets_flatten_embeddings_keras_tutorial": _tickets_flatten_embeddings_keras_tutorial,
         "hoppers_sgdr_mult_default_ends_mid_cycle": _hoppers_sgdr_mult_default_ends_mid_cycle,
         "grades_svm_hinge_counts_true_class": _grades_svm_hinge_counts_true_class,
         "wells_tanh_net_kaiming_relu_gain": _wells_tanh_net_kaiming_relu_gain,
         "digits_adam_step_counted_per_tensor": _digits_adam_step_counted_per_tensor,
         "digits_crop_reflect_padding": _digits_crop_reflect_padding,
         "tickets_unknown_words_as_padding": _tickets_unknown_words_as_padding}

# Which broken setups are repairable: the fault lies in a setting of the run (issue 11's list, with
# sets 5-27's additions and the run options this set uses), not in the data, the model's code or
# the user's loss or optimizer. Stated before any of this set was run (branch babysit152,
# 2026-12-07): seven, five meant to hurt (the one-row crop and the input noise: the augment list;
# the plateau threshold and SGDR's mult: the lr schedule; the head's lr multiplier: the lr; fit
# options config validation accepts) and two harmless by design (ReLU's gain on the tanh net: the
# init; the reflect crop: the augment list; repaired only where the kill rule says they hurt).
# Repairs run only where the fault also hurts.
REPAIRABLE = {"valves_crop_augment_on_signal_rows": "augmentation (crop of one-row signals)",
              "inspections_plateau_threshold_keras_min_delta": "lr schedule (plateau threshold 0.1)",
              "springs_noise_augment_deterministic_regression": "augmentation (input noise 0.3)",
              "digits_caffe_head_lr_mult_from_scratch": "lr (the head's lr multiplier 10)",
              "swells_fourier_features_redrawn_by_init": None,   # the init over the model's frozen layer
              "tickets_multihead_attention_sequence_first": None,  # the model's code
              "digits_adamw_decay_without_lr": None,               # the user's optimizer
              "claims_lognormal_amount_standardized_raw": None,    # the data's preprocessing
              "weaves_jpeg_recompressed_training_uploads": None,   # the data
              "species_mae_loss_twenty_classes": None,             # the user's loss
              "sorters_long_run_without_early_stopping": None,     # early stopping's patience
              "tickets_flatten_embeddings_keras_tutorial": None,   # the model's code
              "hoppers_sgdr_mult_default_ends_mid_cycle": "lr schedule (cosine restarts, mult 2)",
              "grades_svm_hinge_counts_true_class": None,          # harmless by design; the user's loss
              "wells_tanh_net_kaiming_relu_gain": "init (ReLU's gain on a tanh net)",
              "digits_adam_step_counted_per_tensor": None,         # harmless by design; the user's optimizer
              "digits_crop_reflect_padding": "augmentation (crop with reflect padding)",
              "tickets_unknown_words_as_padding": None}            # harmless by design; the data
# Settings of that list that no action in trainwell/babysit/actions.py changes the way the fault
# needs: set 27's names (set 26's; read there, not run); each named above is one an action changes
# (the augment list, a replaced schedule, the lr scale, the init).
NO_ACTION = user27.NO_ACTION


if __name__ == "__main__":
    user.NO_ACTION = NO_ACTION          # the report reads babysit_user.NO_ACTION
    sys.exit(user.main(pairs=PAIRS, repairable=REPAIRABLE, doc=__doc__))
