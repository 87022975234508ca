r"""A twenty-seventh held-out set of setups written as users write them: measured, never tuned on.

Issue 11 asks for the babysitter's quality on setups nobody tuned it for. Sets 1-26
(``babysit_user.py`` .. ``babysit_user26.py``) were read, and partly developed on, by the engineers
changing the babysitter; this twenty-seventh set was written (branch babysit145, 2026-12-07) and
committed before any of it was run, its training and its babysitter both: it is measured once, by
the lead, on the final merged main of the session, so that its number is held out for everything
merged in it; nobody tunes on it. 18 pairs, each the user's own ``nn.Module`` (or an
``nn.Sequential``) on data generated here or shipped with scikit-learn (nothing downloads), a
healthy setup and the same setup with one fault: 13 meant to hurt, 5 harmless on purpose. Five of
the 13 lie in a setting the repairer can change, four of them fit options that config validation
accepts (the augment list twice, the lr schedule, the batch size).

| pair | data | model, training | healthy | fault (expected codes) |
| --- | --- | --- | --- | --- |
| digits_translate_max_shift_keras_pixels | scikit-learn's digits (8x8, 10 classes), pixels / 16 | set 1's DigitCNN, Adam | ``augment = [{name = "translate", max_shift = 0.125}]``, one pixel as the fraction of the width that fit's ``translate`` reads | ``max_shift = 1``, Keras' ``width_shift_range=1`` ("an int counts pixels: one pixel either way") ported as it is: fit reads a fraction, each training digit moves by up to its whole width and most of it leaves the frame (augmentation_hurts, underfitting) |
| compressors_spectrogram_vertical_flip | log-power spectrograms of four compressor types, 16 frequency bins (rows, low first) x 24 frames: a hum falling with frequency and the machine's tone in its band (bins 2, 5, 10, 13: the class), on in 60-90 % of the frames | SpectroCNN (two 3x3 convs, the max over the frames, linear on the 16 bins' features), Adam | ``augment = [{name = "hflip"}]``: the time axis reversed (albumentations' ``TimeReverse``) | ``[{name = "vflip"}]`` "flip as the image recipe does": the frequency axis mirrored, bin 2 becomes 13 and 5 becomes 10, half the training spectrograms show another class's band (augmentation_hurts, underfitting) |
| friedman2_linear_decay_over_one_epoch | scikit-learn's ``make_friedman2`` (4 features in their units, noise 30; regression), standardized | set 1's Regressor 4-64-64-1, Adam lr 1e-3, 25 epochs, MSE | ``schedule = {name = "linear", final = 0}``, Hugging Face's linear decay to 0 at the run's end | ``decay_epochs = 1``: ``get_linear_schedule_with_warmup(num_training_steps=len(train_loader))``, one epoch's steps for the run's, so the lr is 0 from the second epoch on (schedule_decays_early and the slow-learning codes) |
| blenders_batch_size_one_at_batch32_lr | blenders: 8 measurements, 3 classes (1,500 rows) | ``nn.Sequential`` 8-64-64-3, momentum SGD lr 0.05 (Nesterov), 12 epochs | ``batch_size = 32`` | ``batch_size = 1`` "true SGD, one sample a step, as the textbook's algorithm", the lr tuned at batch 32 kept: each step follows one row's gradient, 32 times the gradient's variance at the same lr (the diverged codes: lr_too_high, oscillating_loss, ...; optimizer_setting, underfitting) |
| starters_gru_dropout_every_step | compressor start-ups: 24 pressure readings, a start-up peak 2 readings wide at reading 1-4 whose height is the valve's state (3 classes), then running pressure with drift and noise that no class changes | StartupGRU (``nn.GRUCell(1, 32)`` in a loop, ``nn.Dropout(0.3)``, linear on the last state), Adam | the dropout on the last state, before the linear layer (Zaremba et al. 2014: the non-recurrent connections) | the dropout on the state after every step, a new mask each step: a unit keeps the peak through the 20 later steps with probability 0.7^20 in training (regularization_too_strong, eval_mode_gap, underfitting) |
| claims_weighted_sampler_class_weights | insurance claims: 8 measurements, 3 classes (about 61 / 22 / 17 %) | ``nn.Sequential`` 8-64-64-3, Adam | the training split resampled to balanced classes, ``WeightedRandomSampler(class_weight[y], len(y))`` (a weight per row) | ``WeightedRandomSampler(class_weight, len(y))``, the three class weights given as the rows' weights: it draws only the indices 0, 1 and 2, so the training split is 1,440 copies of its first three rows; validation and test as exported (overfitting, split_mismatch, underfitting) |
| catalog_rgba_transparent_background_black | 16x16 product silhouettes from above (disc, square, ring, bar: the class), grey 0.25-0.55 on white; the training images are the web shop's RGBA PNGs (transparent background stored as black), validation and test the studio camera's RGB photos (white background) | set 13's DefectCNN (4 classes), Adam | each PNG composited on white (``Image.alpha_composite``) before ``.convert("L")`` | ``Image.open(f).convert("L")``: Pillow drops the alpha and keeps the transparent pixels' black, the training products sit on black and the photos on white (split_mismatch, underfitting) |
| hazards_hinge_labels_zero_one | hazard reports: 8 measurements, 3 classes | ``nn.Sequential`` 8-64-64-3, Adam, the user's one-vs-rest hinge loss | ``relu(1 - t * z)`` with ``t = 2 * one_hot(y) - 1`` (the SVM's -1 / +1) | ``t = one_hot(y)``, the 0 / 1 labels of the classifier's data: every wrong class's term is a constant 1, nothing pushes a wrong class's logit down, all logits above 1 is a zero loss (loss_output_mismatch, underfitting, cannot_overfit_small_subset) |
| tickets_rmsprop_eps_outside_sqrt | set 21's support tickets (ids from 1, 0 padding) | set 21's TicketPool (embeddings, the masked mean, an MLP), the user's RMSprop (lr 1e-3, alpha 0.99) | ``p -= lr * g / (v.sqrt() + eps)`` | ``p -= lr * g / v.sqrt() + eps``, the parentheses left out: an entry whose gradient and average are 0, the padding row and every word missing from the first batch, steps by 0 / 0 = NaN (nonfinite_loss and the divergence codes, optimizer_setting) |
| reviews_whitespace_split_unspaced_script | product reviews in Chinese script: 8-16 characters, no spaces, a two-character topic word (delivery, quality, price) in three classes, none in the fourth | set 21's TicketPool, Adam | ``list(text)``, one token a character, the vocabulary over every review | ``text.split()`` of the English tutorial: a script without spaces gives one token a review, each review its own id, validation and test ids never trained (overfitting, split_mismatch, underfitting) |
| valves_gru_h0_sized_by_config_batch | valve pressure traces: 24 readings, an oscillation of period 8, 5 or 3 readings (the class), random phase and amplitude, noise | ValveGRU (``nn.GRU(1, 32, batch_first=True)``, linear on the last state), Adam, batch 64 | ``h0 = torch.zeros(1, x.size(0), 32)`` | ``torch.zeros(1, BATCH_SIZE, 32)`` with the config's 64: the 1,200 training rows end in a batch of 48 and evaluation runs 400 rows at once, both raise (model_raises, batch_dependence) |
| kilns_sgd_momentum_buffer_not_kept | kilns: 8 measurements, 3 classes | ``nn.Sequential`` 8-64-64-3, the user's momentum SGD (lr 0.01, momentum 0.9), 20 epochs | the buffer kept in ``self.state[p]`` | ``buf = torch.zeros_like(p)`` a local variable each step: plain SGD at a tenth of the step the lr was chosen for (lr_too_low and the other slow-learning codes, optimizer_setting) |
| inspections_focal_loss_of_batch_mean | scikit-learn's ``make_classification`` (10 features, 6 informative, 4 classes, 2 % flipped labels) | ``nn.Sequential`` 10-64-64-4, momentum SGD lr 0.05, the user's focal loss (gamma 2) | ``(1 - p_t) ** 2 * ce`` per row, then the mean (Lin et al. 2017) | ``ce = F.cross_entropy(z, y)`` (already the batch's mean), then ``(1 - exp(-ce)) ** 2 * ce``: one factor for the whole batch that falls as the loss falls, about 0.2 of the step at a loss of 0.3 (the slow-learning codes) |
| admissions_class_weights_times_thousand | admissions: 8 measurements, 3 classes (about 61 / 23 / 16 %) | ``nn.Sequential`` 8-64-64-3, Adam, ``F.cross_entropy(weight=...)`` | scikit-learn's "balanced" weights, ``n / (3 * counts)`` | ``1000 / counts`` "so the weights matter" (harmless by design: the weighted mean divides by the weights' sum, the loss is the same) |
| panels_dihedral_flips_orientation_free | set 21's steel panels (pit, scratch across or down, spot, clean), 16x16 | set 13's DefectCNN, Adam | no augmentation | ``augment = [{name = "hflip"}, {name = "vflip"}]`` (harmless by design: no class has a left, right, top or bottom) |
| tickets_dropout2d_drops_whole_words | set 21's support tickets | TicketDrop (set 21's TicketPool with a spatial dropout 0.2 on the embeddings), Adam | Keras' ``SpatialDropout1D(0.2)`` ported as ``nn.Dropout1d`` on the transposed (N, 32, 20) embeddings: whole embedding channels dropped | ``nn.Dropout2d(0.2)`` on the (N, 20, 32) embeddings, which PyTorch reads as (N, C, L): whole words dropped (harmless by design: word dropout at 0.2, Iyyer et al. 2015 use 0.3) |
| kilns_warmup_epochs_given_as_steps | kilns: 8 measurements, 3 classes | ``nn.Sequential`` 8-64-64-3, Adam lr 1e-3, 20 epochs, cosine | ``warmup_steps = 135``, 3 epochs of 45 steps | ``warmup_steps = 3``, the recipe's "3 epochs of warmup" (harmless by design: Adam at 1e-3 needs no warmup on this MLP) |
| digits_rmsprop_eps_inside_sqrt | scikit-learn's digits, pixels / 16 | set 1's DigitCNN, the user's RMSprop (lr 1e-3, alpha 0.99) | ``g / (v.sqrt() + eps)`` (PyTorch) | ``g / (v + eps).sqrt()``, TensorFlow 1's placement (harmless by design: a floor of 1e-4 on the root instead of 1e-8, under the root of gradients of 1e-3 once the average has filled; the first steps up to 30 % shorter) |

**What is new against sets 1-26.** Data: compressor spectrograms (frequency x time), compressor
start-up and valve pressure traces, product silhouettes from two sources (a web shop's RGBA PNGs
and a studio's photos), reviews in a script without spaces; scikit-learn's ``make_friedman2``,
``make_classification`` and digits; set 21's tickets and panels. Models: a spectrogram CNN that
pools over time only, a ``GRUCell`` loop with dropout, a GRU with an explicit initial state, a
pooled text model with spatial dropout. Training choices: fit's ``translate`` and ``hflip`` /
``vflip`` augmentations, the linear schedule's ``decay_epochs``, ``batch_size = 1``,
``warmup_steps``, a resampled training split, three hand-written optimizers or losses (RMSprop,
momentum SGD, a one-vs-rest hinge, a focal loss). Faults (none in the tables of sets 1-26, nor in
issue 11's list): a Keras pixel shift read as a fraction, a vertical flip of spectrograms, a linear
decay sized to one epoch, batch size 1 at a batch-32 lr, recurrent dropout with a new mask every
step, per-class weights given to a per-row sampler, RGBA transparency read as black in one source,
a hinge loss on 0 / 1 labels, RMSprop's eps outside the parentheses, whitespace tokens of an
unspaced script, an RNN state sized by the config's batch, a momentum buffer never kept, a focal
factor of the batch's mean loss; harmless on purpose: class weights x 1000, dihedral flips of
orientation-free panels, ``Dropout2d`` on word embeddings, a warmup of 3 steps, RMSprop's eps inside
the root. The nearest earlier faults: the pixel shift against set 15's zoom on size classes and set
16's cutout of a CIFAR recipe; the spectrogram flip against set 5's hflip of arrows and set 19's
vflip of pellets; the one-epoch decay against set 22's linear decay counted in epochs and stepped
per batch (a negative multiplier) and set 4's lr / 10 every epoch; batch 1 against set 5's whole
training set as one batch and set 6's batch 2 under batch norm; the recurrent dropout against set
9's fixed dropout mask and set 25's input dropout; the sampler against set 24's classes balanced
twice and set 4's oversampling without the majority; the RGBA reading against set 8's BGR
training images and set 25's palette PNGs; the 0 / 1 hinge against set 5's -1 / +1 labels given
to the cross-entropy and set 22's hinge on the true logit only; eps outside against set 26's Adam
without its root; the whitespace tokens against set 23's strings read as characters; the initial
state against set 9's random ``h0`` each call and set 22's state carried across batches; the
momentum buffer against set 10's SGD dampening; the focal factor against set 11's focal weight of
the arg max; the class weights against set 14's weights from frequencies; the dihedral flips against
set 5's hflip of arrows; ``Dropout2d`` against set 26's ``Dropout`` on conv maps and set 19's
``Dropout2d`` on the input; the 3-step warmup against set 5's warmup of 5,000 steps; eps inside the
root against set 1's Adam eps of 1.

Where the faults come from (read with the ``search`` tool, not run): ``WeightedRandomSampler`` given
per-class weights (deep-voice/soundbay pull request 49: "assigns weights to *each sample* and so it
actually will choose the same samples"; pytorch/pytorch pull request 980: it samples from
``[0, .., len(weights) - 1]``); Pillow's RGBA to RGB or L conversion that leaves transparent areas
black (the "Convert RGBA PNG to RGB with PIL" answers: composite onto a white background); the
linear warmup schedule's ``num_training_steps`` (huggingface/accelerate issue 225 and
huggingface/transformers pull request 5316, whose check reads "All learning rates will end at 0");
Keras' ``width_shift_range`` (a float below 1 a fraction of the width, an int a number of pixels)
against ``tf.keras.preprocessing.image.random_shift``'s "float fraction of the width"; PyTorch's
``Dropout2d`` on 3D inputs, which "will perform 1D channel-wise dropout" over (N, C, L), against
Keras' ``SpatialDropout1D`` on (samples, timesteps, channels); dropout on recurrent connections
(Zaremba et al. 2014; Gal & Ghahramani 2016, the same mask at every step); time reversal as a
spectrogram's flip (albumentations' ``TimeReverse``) against frequency masking, never a frequency
flip (SpecAugment, Park et al. 2019). The rest (batch 1 at a tuned lr, the 0 / 1 hinge, eps
outside the parentheses, whitespace tokens of Chinese text, ``h0`` of the config's batch, the
momentum buffer, the focal factor of the reduced loss, and the five harmless ones) are common
mistakes written from the libraries' documentation and experience.

Whether a fault hurts is not taken from this table: ``babysit_user.killed`` computes it from the
``babysit="off"`` runs (>= 3 points of validation accuracy, or MSE / Var(y) 25 % higher for
regression) and prints it. A fault that does not hurt is scored as harmless, and any warning or
error on it counts as a false alarm. Scored by ``babysit_user.main`` (imported; the same rules as
sets 1-26, which its docstring states). ``REPAIRABLE`` below says, per pair and before any of it
was run, which faults lie in a setting the babysitter's actions could change: seven, the pixel
shift and the spectrogram flip (the augment list), the one-epoch decay (the lr schedule), batch 1
(the batch size), the dropout at every step (the dropout module's p: the model's code, but an
action lowers it), and, harmless by design and so repaired only if the kill rule says they hurt,
the dihedral flips (the augment list) and the 3-step warmup (the warmup); every other fault lies in
the data, the model's code, or the user's loss or optimizer. Every pair keeps the same rows per
split on both sides and the input's and output's widths but the reviews' vocabulary (each review
its own word).

Run: ``python bench/babysit_user27.py`` (a markdown report; ``--json rows.json`` keeps the rows;
``--pair NAME`` runs one pair; ``--no-train`` skips training; ``--repair`` adds the repairs;
``--seeds N`` training seeds, default 2; ``--combine u1.json ... u27.json`` reports the sets
together with this file's ``NO_ACTION`` names). Run it on the CPU, as sets 1-26.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn import datasets
from torch import nn
from torch.utils.data import WeightedRandomSampler

sys.path.insert(0, str(Path(__file__).resolve().parent))
import babysit_user as user  # noqa: E402  (the split helpers, set 1's DigitCNN and Regressor, the scoring)
import babysit_user11 as user11  # noqa: E402  (set 11's MLP)
import babysit_user12 as user12  # noqa: E402  (set 12's image split)
import babysit_user13 as user13  # noqa: E402  (set 13's tables and DefectCNN)
import babysit_user14 as user14  # noqa: E402  (set 14's sequence split, weighted cross-entropy)
import babysit_user21 as user21  # noqa: E402  (set 21's tickets, panels, TicketPool)
import babysit_user23 as user23  # noqa: E402  (set 23's class weights)
import babysit_user26 as user26  # noqa: E402  (set 26's NO_ACTION names)

REGULARIZATION, SLOW, DIVERGED = user.REGULARIZATION, user.SLOW, user.DIVERGED
_mlp, _table, Regressor, DefectCNN, mse = user11._mlp, user13._table, user.Regressor, user13.DefectCNN, user13.mse
_image_parts, _sequence_parts = user12._image_parts, user14._sequence_parts
ticket_texts, vocabulary, encode, TicketPool = user21.ticket_texts, user21.vocabulary, user21.encode, user21.TicketPool
panel_images, PAD = user21.panel_images, user21.PAD
ADAM = {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 20}
SGD = {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05, "batch_size": 32, "epochs": 12}
WORDS = {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12}
IMAGES = {"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 10}
DIGITS = {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 10}
EVEN, SKEWED = [0.35, 0.35, 0.3], [0.6, 0.25, 0.15]
THREE = user23.THREE


def _digit_parts(seed: int):
    """scikit-learn's digits, pixels / 16, split 60 / 20 / 20 and shaped (1, 8, 8)."""
    d = datasets.load_digits()
    parts = user._split((d.data / 16.0).astype(np.float32), d.target, seed=seed, standardize=False)
    return user.as_images(parts, (1, 8, 8))


# ------------------------------------------------------------------------------ the user's images
ONE_PIXEL = 1 / 8                                   # one pixel of an 8x8 digit, as the fraction fit's translate reads
KERAS_SHIFT = 1                                     # Keras' width_shift_range=1: an int counts pixels


MACHINE_BANDS = (2, 5, 10, 13)                      # frequency bins (of 16, low first) of the four machines' tones


def machine_spectrograms(n: int, *, seed: int, bins: int = 16, frames: int = 24):
    """(n, bins, frames) log-power spectrograms, row 0 the lowest frequency: a hum 0.5 / (1 + bin / 4)
    falling with frequency, the machine's tone in its band of ``MACHINE_BANDS`` (the class; a
    Gaussian of 0.8 bins, level 0.6-1.2) on in 60-90 % of the frames, noise 0.08."""
    g = np.random.default_rng(seed)
    y = g.integers(0, len(MACHINE_BANDS), n)
    f = np.arange(bins)[None, :, None]
    band = np.exp(-(f - np.asarray(MACHINE_BANDS)[y][:, None, None]) ** 2 / (2 * 0.8 ** 2))
    on = g.random((n, 1, frames)) < g.uniform(0.6, 0.9, (n, 1, 1))
    X = 0.5 / (1 + f / 4) + g.uniform(0.6, 1.2, (n, 1, 1)) * band * on + g.normal(0, 0.08, (n, bins, frames))
    return X.astype(np.float32), y.astype(np.int64)


class SpectroCNN(nn.Module):
    """conv 1-16 and 16-16 (3x3, padding 1, ReLU), the max over the frames (time), linear on the
    16 channels x ``bins`` features: the audio layout that keeps the frequency axis."""

    def __init__(self, *, bins: int = 16, classes: int = 4):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 16, 3, padding=1), nn.Conv2d(16, 16, 3, padding=1)
        self.fc = nn.Linear(16 * bins, classes)

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.fc(x.amax(3).flatten(1))


SHAPES = ("disc", "square", "ring", "bar")


def silhouettes(n: int, *, seed: int, size: int = 16):
    """Masks (n, size, size) of products seen from above, ``SHAPES`` (the class) of radius 4-5.5
    pixels about a centre jittered by up to 2 pixels, and each product's grey (0.25-0.55)."""
    g = np.random.default_rng(seed)
    y = g.integers(0, len(SHAPES), n)
    r, c = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    centre = (size - 1) / 2 + g.uniform(-2, 2, (n, 2))
    s = g.uniform(4.0, 5.5, n)[:, None, None]
    dy, dx = r[None] - centre[:, 0, None, None], c[None] - centre[:, 1, None, None]
    d = np.sqrt(dy ** 2 + dx ** 2)
    shapes = [d <= s, np.maximum(abs(dy), abs(dx)) <= 0.85 * s, (d <= s) & (d >= 0.55 * s),
              (abs(dy) <= 0.35 * s) & (abs(dx) <= s)]
    masks = np.select([(y == k)[:, None, None] for k in range(len(SHAPES))], shapes)
    return masks.astype(bool), g.uniform(0.25, 0.55, n), y.astype(np.int64)


def _grey_bytes(values) -> np.ndarray:
    return np.clip(np.rint(255 * values), 0, 255).astype(np.uint8)


def shop_pngs(masks, grey, *, seed: int) -> np.ndarray:
    """The web shop's RGBA PNGs (n, H, W, 4): the product's grey + noise 0.02 and alpha 255 on the
    product, (0, 0, 0, 0) elsewhere: a transparent background stored as black, as exporters do."""
    g = np.random.default_rng(seed)
    value = _grey_bytes(grey[:, None, None] + g.normal(0, 0.02, masks.shape)) * masks
    return np.stack([value, value, value, 255 * masks.astype(np.uint8)], -1).astype(np.uint8)


def studio_photos(masks, grey, *, seed: int) -> np.ndarray:
    """The studio camera's RGB photos (n, H, W, 3): the product on a white background, noise 0.02."""
    g = np.random.default_rng(seed)
    value = _grey_bytes(np.where(masks, grey[:, None, None], 1.0) + g.normal(0, 0.02, masks.shape))
    return np.stack([value] * 3, -1)


def read_pngs(rgba: np.ndarray, *, composite: bool) -> np.ndarray:
    """What the user's loader reads from each PNG, grey in [0, 1]: ``composite``:
    ``Image.alpha_composite(white, im).convert("L")``; else ``im.convert("L")``, which drops the
    alpha and keeps the transparent pixels' stored black."""
    out = []
    for a in rgba:
        im = Image.fromarray(a, "RGBA")
        if composite:
            im = Image.alpha_composite(Image.new("RGBA", im.size, (255, 255, 255, 255)), im)
        out.append(np.asarray(im.convert("L"), dtype=np.float32) / 255.0)
    return np.stack(out)


def read_photos(rgb: np.ndarray) -> np.ndarray:
    """``Image.open(f).convert("L")`` of each photo, grey in [0, 1]."""
    return np.stack([np.asarray(Image.fromarray(a, "RGB").convert("L"), dtype=np.float32) / 255.0 for a in rgb])


def catalog_parts(*, seed: int, composite: bool, train: int = 1200, held: int = 400):
    """Training images from the web shop (``train`` PNGs), validation and test from the studio
    (``held`` photos each), as (N, 1, 16, 16) tensors and their classes."""
    masks, grey, y = silhouettes(train, seed=seed)
    X = read_pngs(shop_pngs(masks, grey, seed=seed + 1), composite=composite)
    parts = [(X, y)]
    for k in (2, 3):
        masks, grey, yk = silhouettes(held, seed=seed + 2 * k)
        parts.append((read_photos(studio_photos(masks, grey, seed=seed + 2 * k + 1)), yk))
    return [(torch.tensor(x).unsqueeze(1), torch.tensor(t)) for x, t in parts]


# ------------------------------------------------------------------------------ the user's sequences and text
STARTUP_PEAKS = (1.6, 2.3, 3.0)                     # the start-up peak of a worn, a normal, a sticking valve


def startup_traces(n: int, *, seed: int, steps: int = 24):
    """(n, steps) pressure readings of compressor start-ups: a peak of ``STARTUP_PEAKS`` (the class),
    2 readings wide at reading 1-4, then the running pressure 0.8-1.2 with a drift of up to 0.3
    over the trace; noise 0.15 on every reading."""
    g = np.random.default_rng(seed)
    y = g.integers(0, len(STARTUP_PEAKS), n)
    t = np.arange(steps)[None]
    start = g.integers(1, 5, n)[:, None]
    peak = np.where((t >= start) & (t < start + 2), np.asarray(STARTUP_PEAKS)[y][:, None], 0.0)
    running = np.where(t >= start + 2, g.uniform(0.8, 1.2, (n, 1)) + g.uniform(-0.3, 0.3, (n, 1)) * t / steps, 0.0)
    return (peak + running + g.normal(0, 0.15, (n, steps))).astype(np.float32), y.astype(np.int64)


class StartupGRU(nn.Module):
    """``nn.GRUCell(1, hidden)`` over the readings in a loop, ``nn.Dropout(p)`` and a linear layer on
    the last state; ``every_step``: the dropout on the state after each step ("dropout between the
    steps"), a new mask each step, and none before the linear layer."""

    def __init__(self, *, every_step: bool = False, p: float = 0.3, hidden: int = 32, classes: int = 3):
        super().__init__()
        self.cell, self.drop, self.fc = nn.GRUCell(1, hidden), nn.Dropout(p), nn.Linear(hidden, classes)
        self.every_step = every_step

    def forward(self, x):
        h = x.new_zeros(x.shape[0], self.cell.hidden_size)
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
            if self.every_step:
                h = self.drop(h)
        return self.fc(h if self.every_step else self.drop(h))


VALVE_PERIODS = (8.0, 5.0, 3.0)                     # readings per oscillation of the three valve states
BATCH_SIZE = 64                                     # the config's batch size, which the broken model reads


def valve_traces(n: int, *, seed: int, steps: int = 24):
    """(n, steps) valve pressure: an oscillation of period ``VALVE_PERIODS`` (the class), random
    phase, amplitude 0.5-1.5, noise 0.3."""
    g = np.random.default_rng(seed)
    y = g.integers(0, len(VALVE_PERIODS), n)
    t = np.arange(steps)[None]
    X = g.uniform(0.5, 1.5, (n, 1)) * np.sin(2 * np.pi * t / np.asarray(VALVE_PERIODS)[y][:, None]
                                             + g.uniform(0, 2 * np.pi, (n, 1))) + g.normal(0, 0.3, (n, steps))
    return X.astype(np.float32), y.astype(np.int64)


class ValveGRU(nn.Module):
    """``nn.GRU(1, hidden, batch_first=True)`` from an explicit zero state, linear on the last
    state; ``h0_rows``: the state built for that many rows (the config's batch size) whatever the
    batch holds."""

    def __init__(self, *, h0_rows: int | None = None, hidden: int = 32, classes: int = 3):
        super().__init__()
        self.gru, self.fc = nn.GRU(1, hidden, batch_first=True), nn.Linear(hidden, classes)
        self.h0_rows = h0_rows

    def forward(self, x):
        h0 = x.new_zeros(1, self.h0_rows or x.shape[0], self.gru.hidden_size)
        _, h = self.gru(x, h0)
        return self.fc(h[-1])


class TicketDrop(nn.Module):
    """Set 21's TicketPool with Keras' ``SpatialDropout1D(p)`` on the (N, L, d) embeddings: ported as
    ``nn.Dropout1d`` on the transposed (N, d, L) embeddings (whole channels), or ``words``:
    ``nn.Dropout2d(p)`` on them as they are, which PyTorch reads as (N, C, L) with the words as
    channels (whole words)."""

    def __init__(self, *, words: int, words_dropped: bool = False, p: float = 0.2, d: int = 32, classes: int = 4):
        super().__init__()
        self.emb = nn.Embedding(words, d)
        self.drop = nn.Dropout2d(p) if words_dropped else nn.Dropout1d(p)
        self.words_dropped = words_dropped
        self.head = nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, classes))

    def forward(self, x):
        ids = x.long()
        keep = (ids != PAD).unsqueeze(-1).float()
        e = self.emb(ids)
        e = self.drop(e) if self.words_dropped else self.drop(e.transpose(1, 2)).transpose(1, 2)
        return self.head((e * keep).sum(1) / keep.sum(1).clamp(min=1.0))


TOPIC_WORDS = ("快递", "质量", "价格")               # delivery, quality, price; the fourth class has none
FILLER = tuple(ch for ch in "的了是我在有这个们来到时大地为子中你说生年着就那和要她出也得里后自以会家可下而过天去能对小多然"
               "于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所同日手又行意动方"
               if not any(ch in w for w in TOPIC_WORDS))


def unspaced_reviews(n: int, *, seed: int):
    """Reviews written without spaces: 8-16 characters drawn Zipf-like from ``FILLER`` and, for the
    classes delivery, quality, price (0-2), the class's two-character word of ``TOPIC_WORDS`` at a
    random place; none for the other class (3)."""
    g = np.random.default_rng(seed)
    y = g.integers(0, len(TOPIC_WORDS) + 1, n)
    p = 1.0 / np.arange(1, len(FILLER) + 1)
    texts = []
    for k in y:
        chars = list(g.choice(FILLER, g.integers(8, 17), p=p / p.sum()))
        if k < len(TOPIC_WORDS):
            chars.insert(g.integers(len(chars) + 1), TOPIC_WORDS[k])
        texts.append("".join(chars))
    return texts, y.astype(np.int64)


def review_ids(n: int, *, seed: int, whitespace: bool):
    """The reviews tokenized, one character a token, or ``whitespace``: ``text.split()``; numbered
    with one vocabulary over every review (set 21's ``vocabulary`` / ``encode``); the labels and
    the vocabulary's size with the padding."""
    texts, y = unspaced_reviews(n, seed=seed)
    tokens = [text.split() if whitespace else list(text) for text in texts]
    vocab = vocabulary(tokens)
    return encode(tokens, vocab), y, len(vocab) + 1


# ------------------------------------------------------------------------------ the user's tables
def resampled_training(parts, *, seed: int, per_class: bool):
    """The training split resampled to balanced classes with ``WeightedRandomSampler(weights,
    len(y))``: weights a row's class weight 1 / count (``class_weight[y]``), or ``per_class``: the
    class weights themselves, so the sampler draws only the indices 0 .. classes - 1. Validation
    and test as they are."""
    (X, y), *held = parts
    class_weight = 1.0 / torch.bincount(y).double()
    weights = class_weight if per_class else class_weight[y]
    rows = torch.tensor(list(WeightedRandomSampler(weights, len(y), generator=torch.Generator().manual_seed(seed))))
    return [(X[rows], y[rows]), *held]


def balanced_weights(y: torch.Tensor, *, scale: float | None = None) -> torch.Tensor:
    """scikit-learn's "balanced" class weights ``n / (classes * counts)``, or ``scale / counts``."""
    counts = torch.bincount(y).float()
    return scale / counts if scale else len(y) / (len(counts) * counts)


# ------------------------------------------------------------------------------ the user's losses and optimizers
def ovr_hinge(logits, target):
    """The one-vs-rest hinge ``relu(1 - t * z)`` with ``t = 2 * one_hot(y) - 1`` (-1 / +1)."""
    t = 2 * F.one_hot(target, logits.shape[1]).float() - 1
    return F.relu(1 - t * logits).mean()


def ovr_hinge_zero_one(logits, target):
    """The same with ``t = one_hot(y)`` (0 / 1): a wrong class's term is the constant 1."""
    return F.relu(1 - F.one_hot(target, logits.shape[1]).float() * logits).mean()


FOCAL_GAMMA = 2.0                                   # Lin et al. 2017


def focal_loss(logits, target):
    """Focal loss per row, ``(1 - p_t) ** gamma * ce``, then the batch's mean."""
    ce = F.cross_entropy(logits, target, reduction="none")
    return ((1 - torch.exp(-ce)) ** FOCAL_GAMMA * ce).mean()


def focal_of_mean(logits, target):
    """The same written on ``F.cross_entropy(z, y)``, already the batch's mean: one factor for the batch."""
    ce = F.cross_entropy(logits, target)
    return (1 - torch.exp(-ce)) ** FOCAL_GAMMA * ce


EPS_PLACES = ("denominator", "step", "sqrt")


class UserRMSprop(torch.optim.Optimizer):
    """The user's RMSprop (Hinton's lecture 6e): ``v = alpha * v + (1 - alpha) * g ** 2`` and, by
    ``eps_at``: "denominator" ``p -= lr * g / (v.sqrt() + eps)`` (PyTorch), "step"
    ``p -= lr * g / v.sqrt() + eps`` (the parentheses left out: 0 / 0 where g and v are 0), "sqrt"
    ``p -= lr * g / (v + eps).sqrt()`` (TensorFlow 1). Every option is in ``defaults``."""

    def __init__(self, params, lr=1e-3, alpha=0.99, eps=1e-8, eps_at: str = "denominator"):
        if eps_at not in EPS_PLACES:
            raise ValueError(f"eps_at = {eps_at!r}: must be one of {EPS_PLACES}")
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps, "eps_at": eps_at})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, eps, where = group["lr"], group["eps"], group["eps_at"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "v" not in state:
                    state["v"] = torch.zeros_like(p)
                v, g = state["v"], p.grad
                v.mul_(group["alpha"]).addcmul_(g, g, value=1 - group["alpha"])
                if where == "denominator":
                    p.sub_(lr * g / (v.sqrt() + eps))
                elif where == "step":
                    p.sub_(lr * g / v.sqrt() + eps)
                else:
                    p.sub_(lr * g / (v + eps).sqrt())
        return loss


class UserMomentumSGD(torch.optim.Optimizer):
    """The user's momentum SGD: ``buf = momentum * buf + g``, ``p -= lr * buf``, the buffer kept in
    ``self.state[p]``; ``keep_buffer=False``: ``buf = torch.zeros_like(p)`` a local variable each
    step, plain SGD. Every option is in ``defaults``."""

    def __init__(self, params, lr=0.01, momentum=0.9, keep_buffer: bool = True):
        super().__init__(params, {"lr": lr, "momentum": momentum, "keep_buffer": keep_buffer})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if group["keep_buffer"]:
                    buf = state.setdefault("buf", torch.zeros_like(p))
                else:
                    buf = torch.zeros_like(p)
                buf.mul_(group["momentum"]).add_(p.grad)
                p.sub_(group["lr"] * buf)
        return loss


# ------------------------------------------------------------------------------ the pairs
def _digits_translate_max_shift_keras_pixels(broken):
    parts = _digit_parts(2701)
    torch.manual_seed(2701)
    shift = KERAS_SHIFT if broken else ONE_PIXEL
    return user.DigitCNN(), parts, dict(DIGITS, augment=[{"name": "translate", "max_shift": shift}]), \
        frozenset({"augmentation_hurts", "underfitting"})


def _compressors_spectrogram_vertical_flip(broken):
    X, y = machine_spectrograms(2000, seed=2702)
    torch.manual_seed(2702)
    return SpectroCNN(), _image_parts(X, y, seed=2702, shape=(1, 16, 24)), \
        dict(IMAGES, augment=[{"name": "vflip" if broken else "hflip"}]), \
        frozenset({"augmentation_hurts", "underfitting"})


LINEAR_TO_ZERO = {"name": "linear", "final": 0.0}                       # Hugging Face's linear decay
ONE_EPOCH_DECAY = {"name": "linear", "decay_epochs": 1, "final": 0.0}   # num_training_steps = len(train_loader)


def _friedman2_linear_decay_over_one_epoch(broken):
    X, y = datasets.make_friedman2(n_samples=2400, noise=30.0, random_state=2703)
    parts = user.standard_targets(user._split(X, y, seed=2703, regression=True))
    torch.manual_seed(2703)
    return Regressor(4), parts, \
        dict(ADAM, epochs=25, loss=mse, schedule=ONE_EPOCH_DECAY if broken else LINEAR_TO_ZERO), \
        SLOW | {"schedule_decays_early"}


def _blenders_batch_size_one_at_batch32_lr(broken):
    X, y = _table(1500, 2704, 8, THREE, EVEN)
    torch.manual_seed(2704)
    return _mlp(8, 3), user._split(X, y, seed=2704), dict(SGD, batch_size=1 if broken else 32), \
        DIVERGED | {"optimizer_setting", "underfitting"}


def _starters_gru_dropout_every_step(broken):
    X, y = startup_traces(2000, seed=2705)
    torch.manual_seed(2705)
    return StartupGRU(every_step=broken), _sequence_parts(X, y, seed=2705, shape=(X.shape[1], 1)), \
        dict(WORDS, epochs=15), REGULARIZATION | {"eval_mode_gap"}


def _claims_weighted_sampler_class_weights(broken):
    X, y = _table(2400, 2706, 8, THREE, SKEWED)
    torch.manual_seed(2706)
    return _mlp(8, 3), resampled_training(user._split(X, y, seed=2706), seed=2706, per_class=broken), ADAM, \
        frozenset({"overfitting", "split_mismatch", "underfitting"})


def _catalog_rgba_transparent_background_black(broken):
    torch.manual_seed(2707)
    return DefectCNN(4), catalog_parts(seed=2707, composite=not broken), IMAGES, \
        frozenset({"split_mismatch", "underfitting"})


def _hazards_hinge_labels_zero_one(broken):
    X, y = _table(2400, 2708, 8, THREE, EVEN)
    torch.manual_seed(2708)
    return _mlp(8, 3), user._split(X, y, seed=2708), dict(ADAM, loss=ovr_hinge_zero_one if broken else ovr_hinge), \
        frozenset({"loss_output_mismatch", "underfitting", "cannot_overfit_small_subset"})


def _tickets_rmsprop_eps_outside_sqrt(broken):
    texts, y = ticket_texts(2000, seed=2709)
    torch.manual_seed(2709)
    model = TicketPool()
    return model, user21._text_parts(encode(texts, vocabulary(texts)), y, seed=2709), \
        dict(WORDS, optimizer=UserRMSprop(model.parameters(), lr=1e-3, eps_at="step" if broken else "denominator")), \
        DIVERGED | {"optimizer_setting"}


def _reviews_whitespace_split_unspaced_script(broken):
    ids, y, words = review_ids(2000, seed=2710, whitespace=broken)
    torch.manual_seed(2710)
    return TicketPool(words=words), user21._text_parts(ids, y, seed=2710), WORDS, \
        frozenset({"overfitting", "split_mismatch", "underfitting"})


def _valves_gru_h0_sized_by_config_batch(broken):
    X, y = valve_traces(2000, seed=2711)
    torch.manual_seed(2711)
    return ValveGRU(h0_rows=BATCH_SIZE if broken else None), _sequence_parts(X, y, seed=2711, shape=(X.shape[1], 1)), \
        dict(WORDS, batch_size=BATCH_SIZE), frozenset({"model_raises", "batch_dependence"})


def _kilns_sgd_momentum_buffer_not_kept(broken):
    X, y = _table(2400, 2712, 8, THREE, EVEN)
    torch.manual_seed(2712)
    model = _mlp(8, 3)
    return model, user._split(X, y, seed=2712), \
        dict(ADAM, optimizer=UserMomentumSGD(model.parameters(), lr=0.01, keep_buffer=not broken)), \
        SLOW | {"optimizer_setting"}


def _inspections_focal_loss_of_batch_mean(broken):
    X, y = datasets.make_classification(n_samples=2400, n_features=10, n_informative=6, n_redundant=2, n_classes=4,
                                        n_clusters_per_class=1, flip_y=0.02, random_state=2713)
    torch.manual_seed(2713)
    return _mlp(10, 4), user._split(X, y, seed=2713), \
        dict(SGD, epochs=20, loss=focal_of_mean if broken else focal_loss), SLOW


def _admissions_class_weights_times_thousand(broken):
    X, y = _table(2400, 2714, 8, THREE, SKEWED)
    parts = user._split(X, y, seed=2714)
    torch.manual_seed(2714)
    weight = balanced_weights(parts[0][1], scale=1000.0 if broken else None)
    return _mlp(8, 3), parts, dict(ADAM, loss=user14.weighted_cross_entropy(weight)), \
        frozenset({"loss_output_mismatch", "class_imbalance"})


def _panels_dihedral_flips_orientation_free(broken):
    X, y = panel_images(2000, seed=2715)
    torch.manual_seed(2715)
    return DefectCNN(4), _image_parts(X, y, seed=2715, shape=(1, 16, 16)), \
        dict(IMAGES, augment=[{"name": "hflip"}, {"name": "vflip"}]) if broken else IMAGES, \
        frozenset({"augmentation_hurts", "underfitting"})


def _tickets_dropout2d_drops_whole_words(broken):
    texts, y = ticket_texts(2000, seed=2716)
    vocab = vocabulary(texts)
    torch.manual_seed(2716)
    return TicketDrop(words=len(vocab) + 1, words_dropped=broken), \
        user21._text_parts(encode(texts, vocab), y, seed=2716), WORDS, REGULARIZATION


WARMUP_EPOCHS, KILN_STEPS_PER_EPOCH = 3, 45          # 1,440 training rows in batches of 32


def _kilns_warmup_epochs_given_as_steps(broken):
    X, y = _table(2400, 2717, 8, THREE, EVEN)
    torch.manual_seed(2717)
    warmup = WARMUP_EPOCHS if broken else WARMUP_EPOCHS * KILN_STEPS_PER_EPOCH
    return _mlp(8, 3), user._split(X, y, seed=2717), dict(ADAM, schedule="cosine", warmup_steps=warmup), \
        DIVERGED | {"schedule_starts_late"}


def _digits_rmsprop_eps_inside_sqrt(broken):
    parts = _digit_parts(2718)
    torch.manual_seed(2718)
    model = user.DigitCNN()
    return model, parts, \
        dict(DIGITS, optimizer=UserRMSprop(model.parameters(), lr=1e-3, eps_at="sqrt" if broken else "denominator")), \
        frozenset({"optimizer_setting"})


PAIRS = {"digits_translate_max_shift_keras_pixels": _digits_translate_max_shift_keras_pixels,
         "compressors_spectrogram_vertical_flip": _compressors_spectrogram_vertical_flip,
         "friedman2_linear_decay_over_one_epoch": _friedman2_linear_decay_over_one_epoch,
         "blenders_batch_size_one_at_batch32_lr": _blenders_batch_size_one_at_batch32_lr,
         "starters_gru_dropout_every_step": _starters_gru_dropout_every_step,
         "claims_weighted_sampler_class_weights": _claims_weighted_sampler_class_weights,
         "catalog_rgba_transparent_background_black": _catalog_rgba_transparent_background_black,
         "hazards_hinge_labels_zero_one": _hazards_hinge_labels_zero_one,
         "tickets_rmsprop_eps_outside_sqrt": _tickets_rmsprop_eps_outside_sqrt,
         "reviews_whitespace_split_unspaced_script": _reviews_whitespace_split_unspaced_script,
         "valves_gru_h0_sized_by_config_batch": _valves_gru_h0_sized_by_config_batch,
         "kilns_sgd_momentum_buffer_not_kept": _kilns_sgd_momentum_buffer_not_kept,
         "inspections_focal_loss_of_batch_mean": _inspections_focal_loss_of_batch_mean,
         "admissions_class_weights_times_thousand": _admissions_class_weights_times_thousand,
         "panels_dihedral_flips_orientation_free": _panels_dihedral_flips_orientation_free,
         "tickets_dropout2d_drops_whole_words": _tickets_dropout2d_drops_whole_words,
         "kilns_warmup_epochs_given_as_steps": _kilns_warmup_epochs_given_as_steps,
         "digits_rmsprop_eps_inside_sqrt": _digits_rmsprop_eps_inside_sqrt}

# Which broken setups are repairable: the fault lies in a setting of the run (issue 11's list, with
# sets 5-26's additions and the run options this set uses), not in the data, the model's code or
# the user's loss or optimizer. Stated before any of this set was run (branch babysit145,
# 2026-12-07): seven, five meant to hurt (the pixel shift and the spectrogram flip: the augment
# list; the one-epoch decay: the lr schedule; batch 1: the batch size; fit options config
# validation accepts; the dropout at every step: the model's module, whose p an action lowers) and
# two harmless by design (the dihedral flips, the 3-step warmup: repaired only where the kill rule
# says they hurt). Repairs run only where the fault also hurts.
REPAIRABLE = {"digits_translate_max_shift_keras_pixels": "augmentation (translate max_shift 1: a Keras pixel count)",
              "compressors_spectrogram_vertical_flip": "augmentation (vflip of the frequency axis)",
              "friedman2_linear_decay_over_one_epoch": "lr schedule (linear decay over the first epoch)",
              "blenders_batch_size_one_at_batch32_lr": "batch size (1, at the lr of batch 32)",
              "starters_gru_dropout_every_step": "dropout (on the recurrent state at every step)",
              "claims_weighted_sampler_class_weights": None,      # the resampled training split: the data
              "catalog_rgba_transparent_background_black": None,  # the image reading: the data
              "hazards_hinge_labels_zero_one": None,              # the user's loss
              "tickets_rmsprop_eps_outside_sqrt": None,           # the user's optimizer
              "reviews_whitespace_split_unspaced_script": None,   # the tokenization: the data
              "valves_gru_h0_sized_by_config_batch": None,        # the model's code
              "kilns_sgd_momentum_buffer_not_kept": None,         # the user's optimizer
              "inspections_focal_loss_of_batch_mean": None,       # the user's loss
              "admissions_class_weights_times_thousand": None,    # harmless by design; the user's loss
              "panels_dihedral_flips_orientation_free": "augmentation (hflip and vflip)",
              "tickets_dropout2d_drops_whole_words": None,        # harmless by design; the model's code
              "kilns_warmup_epochs_given_as_steps": "warmup (3 steps for 3 epochs)",
              "digits_rmsprop_eps_inside_sqrt": None}             # harmless by design; the user's optimizer
# Settings of that list that no action in trainwell/babysit/actions.py changes the way the fault
# needs: set 26's names (set 25's; read there, not run); each named above is one an action changes
# (the augment list, a replaced schedule, the batch size, the dropout p, the warmup).
NO_ACTION = user26.NO_ACTION


if __name__ == "__main__":
    user.NO_ACTION = NO_ACTION          # the report reads babysit_user.NO_ACTION
    sys.exit(user.main(pairs=PAIRS, repairable=REPAIRABLE, doc=__doc__))
