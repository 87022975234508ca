"""Train/val/test splits and k-fold indices: stratified by class and seeded.

A split is computed on *indices* (``split_indices``) and then applied to the arrays, so a
memory-mapped array is gathered once per split instead of being loaded whole and then copied.
Stratification (each split keeps the class proportions of the whole set) uses scikit-learn's
``StratifiedShuffleSplit`` through ``train_test_split``; ``digits`` with seed 0 keeps the exact
split it always had.

Sizes: an ``int`` is a number of samples; a ``float`` in [0, 1) is a fraction of the *whole* data
set, rounded up (``ceil(f * n)``, scikit-learn's rounding for test sets). ``0`` means no such split.
Notes 000/004 ("cross-validation strategy"): tune on the validation split, report the test split.
k-fold cross-validation (``build_splits(..., folds=k, fold=i)``, ``data.folds``/``data.fold`` in a
config): the test split is carved as usual and the validation split is fold i of a seeded,
stratified k-fold split of what remains, so runs with fold = 0..k-1 validate on disjoint sets.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from trainwell.errors import ConfigError, DataError, LabelError, NonFiniteError

Pair = tuple[torch.Tensor, torch.Tensor]


@dataclass
class Splits:
    """Train/val/test pairs ``(X, y)`` plus what a model builder needs to know."""

    train: Pair
    val: Pair | None = None
    test: Pair | None = None
    num_classes: int | None = None          # None for regression
    input_shape: tuple[int, ...] = ()       # shape of one sample
    meta: dict = field(default_factory=dict)


def as_pair(X, y, *, name: str = "data") -> Pair:
    """Convert arrays/tensors to a float input tensor and a label tensor, checking lengths."""
    X = torch.as_tensor(np.asarray(X) if not isinstance(X, torch.Tensor) else X)
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y)
    if X.shape[0] != y.shape[0]:
        raise DataError(f"{name}: X has {X.shape[0]} rows but y has {y.shape[0]}; they must match")
    if X.shape[0] == 0:
        raise DataError(f"{name}: no samples")
    if not torch.is_floating_point(X):
        X = X.float()
    elif X.dtype == torch.float64:
        X = X.float()
    if torch.is_floating_point(y) and y.dtype == torch.float64:
        y = y.float()
    return X, y


# Rows of a numpy array (a memory-mapped file) searched for NaN/inf at a time, so the search
# holds a bounded slice and its mask in memory, not the whole file (trainwell convention).
FINITE_CHECK_ROWS = 65536


def check_finite(a, where: str) -> None:
    """DataError naming the row and column of the first NaN/inf in ``a`` (a numpy array, memory-
    mapped or not, or a tensor; one sample per row), e.g. ``train: X row 17, column 2 is nan``.
    Integer arrays are always finite. Training on NaN/inf gives a NaN loss, never a model.
    Streamed rows (data/streaming.py ``HostRows``) check their host array themselves."""
    if hasattr(a, "check_finite"):
        return a.check_finite(where)
    if isinstance(a, torch.Tensor):
        if not torch.is_floating_point(a) or bool(torch.isfinite(a).all()):
            return
        blocks = [(0, a.detach().cpu().double().numpy())]    # numpy has no bfloat16; only on failure
    else:
        if np.asarray(a[:0]).dtype.kind not in "fc":
            return
        blocks = ((start, np.asarray(a[start:start + FINITE_CHECK_ROWS]))
                  for start in range(0, len(a), FINITE_CHECK_ROWS))
    for start, block in blocks:
        bad = ~np.isfinite(block)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            row, column = start + index[0], index[1:]
            at = f"row {row}" + (f", column {column[0]}" if len(column) == 1 else
                                 f", position {list(column)}" if column else "")
            raise NonFiniteError(f"{where} {at} is {block[index]}: every value must be a finite number "
                            f"(drop or impute the samples with NaN/inf)")


def class_count(labels: dict, *, name: str = "data", num_classes: int | None = None) -> int:
    """The number of classes of integer labels ``{split: y}`` (tensors or arrays; split None is
    all the data before it is split): ``num_classes`` when given, else the largest id + 1 over all
    splits. Every id must be >= 0, one per sample, and below the count: the error names the split,
    the row and the label. A count above the number of samples means the labels are not ids
    0..K-1 (ids such as 10¹² would build a 10¹²-output model), and says how to renumber them."""
    ids = {split: np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y) for split, y in labels.items()}

    def where(split):
        return f"{name} ({split})" if name and split else split or name

    for split, y in ids.items():
        if y.ndim != 1:
            raise LabelError(f"{where(split)}: class labels must be one id per sample (got shape "
                            f"{tuple(y.shape)}); one-hot rows: pass y.argmax(1), or float class "
                            f"probabilities with loss = \"cross_entropy\"; multi-hot rows (several labels "
                            f"a sample): pass them as float with loss = \"bce\"; an id per position (a "
                            f"tagger's (N, T), a segmentation's (N, H, W)) is no target fit trains: train "
                            f"with a Trainer and check with babysit.preflight (docs/babysitter.md, Task "
                            f"shapes)")
        if len(y) and y.min() < 0:
            row = int(np.argmax(y < 0))
            raise LabelError(f"{where(split)} row {row}: class ids must be >= 0 (found {int(y[row])}; "
                            f"ids are 0..K-1 for K classes)")
    top = max((int(y.max()) for y in ids.values() if len(y)), default=-1)
    samples = sum(len(y) for y in ids.values())
    if num_classes is None:
        if top + 1 > samples:
            split, y = next((s, y) for s, y in ids.items() if len(y) and int(y.max()) == top)
            raise LabelError(f"{where(split)} row {int(np.argmax(y == top))}: label {top} would make "
                            f"{top + 1} classes for {samples} samples; class ids are 0..K-1 (renumber "
                            f"them, e.g. np.unique(y, return_inverse=True)[1], or use label_names = "
                            f"true for a CSV)")
        return top + 1
    for split, y in ids.items():
        if len(y) and int(y.max()) >= num_classes:
            row = int(np.argmax(y >= num_classes))
            raise LabelError(f"{where(split)} row {row}: class id {int(y[row])} found but the data has "
                            f"{num_classes} classes (ids 0..{num_classes - 1})")
    return num_classes


def is_classes(y) -> bool:
    """True when labels are integer class ids (classification), False for float targets."""
    return np.issubdtype(np.asarray(y).dtype, np.integer)


# A fraction times n lands a hair above an integer in float arithmetic (0.1 * 30 is
# 3.0000000000000004); subtracting this before rounding up keeps that integer.
FRACTION_ROUND_OFF = 1e-9


def split_count(size, n: int, *, key: str) -> int:
    """A split size (count or fraction of ``n``) as a number of samples."""
    if isinstance(size, bool) or not isinstance(size, (int, float)):
        raise ConfigError(f"{key} = {size!r}: must be a number of samples (int) or a fraction in [0, 1)")
    if isinstance(size, float):
        if not 0 <= size < 1:
            raise ConfigError(f"{key} = {size!r}: a fraction must be in [0, 1) (or give an int count)")
        return math.ceil(size * n - FRACTION_ROUND_OFF)
    if size < 0:
        raise ConfigError(f"{key} = {size!r}: must be >= 0")
    return size


def split_indices(y, *, test_size, val_size=0, seed: int = 0, stratify: bool = True, name: str = "data"):
    """Seeded (and, for class labels, stratified) split of ``range(len(y))``.

    Returns ``(train_idx, val_idx, test_idx)`` as int64 numpy arrays; ``val_idx``/``test_idx`` are
    ``None`` when their size is 0. The validation split is taken from what the test split leaves.
    """
    from sklearn.model_selection import train_test_split  # lazy: slow to import (~2 s)

    y = np.asarray(y)
    n = len(y)
    n_test = split_count(test_size, n, key="test_size")
    n_val = split_count(val_size, n, key="val_size")
    if n - n_test - n_val < 1:
        raise DataError(f"{name}: {n} samples cannot give {n_test} test and {n_val} validation samples "
                        f"and still leave training samples; lower test_size/val_size")
    strat = stratify and is_classes(y) and y.ndim == 1
    if strat:
        classes, counts = np.unique(y, return_counts=True)
        for count_needed, key in ((n_test, "test_size"), (n_val, "val_size")):
            if 0 < count_needed < len(classes):
                raise DataError(f"{name}: {key} gives {count_needed} samples but a stratified split needs "
                                f"at least one per class ({len(classes)} classes); raise {key} or pass "
                                f"stratify = false")
        if (n_test or n_val) and counts.min() < 2:
            rare = classes[counts.argmin()]
            raise DataError(f"{name}: class {rare} has only {counts.min()} sample; a stratified split needs "
                            f"at least 2 per class (or pass stratify = false)")
    index = np.arange(n, dtype=np.int64)
    test = val = None
    if n_test:
        index, test = train_test_split(index, test_size=n_test, stratify=y if strat else None,
                                       random_state=seed)
    if n_val:
        index, val = train_test_split(index, test_size=n_val, stratify=y[index] if strat else None,
                                      random_state=seed)
    return index, val, test


def stratified_split(X: np.ndarray, y: np.ndarray, *, test_size, val_size=0, seed=0, stratify=True):
    """Stratified, seeded split into ``(train, val, test)`` numpy ``(X, y)`` pairs (val/test ``None``
    when their size is 0)."""
    y = np.asarray(y)
    train, val, test = split_indices(y, test_size=test_size, val_size=val_size, seed=seed, stratify=stratify)

    def take(idx):
        return None if idx is None else (np.asarray(X[idx]), y[idx])

    return take(train), take(val), take(test)


def kfold_indices(y, k: int, *, stratified: bool = True, seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``k`` seeded folds as ``[(train_idx, val_idx), ...]`` int64 tensors; every sample is in exactly
    one ``val_idx``. ``stratified=True`` keeps class proportions in each fold (needs integer labels
    with at least ``k`` samples per class); float targets are split without stratification."""
    from sklearn.model_selection import KFold, StratifiedKFold  # lazy: slow to import (~2 s)

    y = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
    n = len(y)
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise ConfigError(f"k = {k!r}: must be an integer >= 2")
    if k > n:
        raise DataError(f"k = {k}: more folds than samples ({n})")
    strat = stratified and is_classes(y) and y.ndim == 1
    if strat:
        classes, counts = np.unique(y, return_counts=True)
        if counts.min() < k:
            raise DataError(f"k = {k}: class {classes[counts.argmin()]} has only {counts.min()} samples, fewer "
                            f"than the folds; lower k or pass stratified = false")
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    else:
        splitter = KFold(n_splits=k, shuffle=True, random_state=seed)
    return [(torch.from_numpy(tr.astype(np.int64)), torch.from_numpy(va.astype(np.int64)))
            for tr, va in splitter.split(np.zeros((n, 1)), y if strat else None)]


def check_folds(folds, fold) -> None:
    """``folds`` is None (no k-fold) or an integer k >= 2; ``fold`` an integer in 0..k-1."""
    if folds is None:
        if isinstance(fold, bool) or fold != 0:
            raise ConfigError(f"data.fold = {fold!r}: needs data.folds, the number of folds k "
                              f"(e.g. folds = 5, fold = {fold!r})")
        return
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ConfigError(f"data.folds = {folds!r}: must be an integer >= 2 (the number of folds k)")
    if isinstance(fold, bool) or not isinstance(fold, int) or not 0 <= fold < folds:
        raise ConfigError(f"data.fold = {fold!r}: must be an integer in 0..{folds - 1} (which of the "
                          f"{folds} folds is the validation split)")


def fold_split(y, pool: np.ndarray, *, folds: int, fold: int, seed: int = 0, stratify: bool = True,
               name: str = "data") -> tuple[np.ndarray, np.ndarray]:
    """Fold ``fold`` of a seeded (stratified) ``folds``-fold split of the indices ``pool`` into
    ``y``: ``(train_idx, val_idx)``, each an index into ``y``. The folds are ``kfold_indices`` of
    ``y[pool]``, so ``fold = 0..folds-1`` give disjoint validation splits that cover the pool."""
    check_folds(folds, fold)
    labels = np.asarray(y)[pool]
    if folds > len(pool):
        raise DataError(f"{name}: data.folds = {folds}: more folds than the {len(pool)} samples of the "
                        f"train+val pool; lower folds")
    strat = stratify and is_classes(labels) and labels.ndim == 1
    if strat:
        classes, counts = np.unique(labels, return_counts=True)
        if counts.min() < folds:
            raise DataError(f"{name}: data.folds = {folds}: class {classes[counts.argmin()]} has only "
                            f"{counts.min()} samples in the train+val pool, fewer than the folds; lower "
                            f"folds or pass stratify = false")
    train, val = kfold_indices(labels, folds, stratified=strat, seed=seed)[fold]
    return pool[train.numpy()], pool[val.numpy()]


def _labels(y) -> np.ndarray:
    """Labels as an owned array: integer or bool -> int64 class ids, float -> float32 targets."""
    y = np.asarray(y)
    return np.array(y, dtype=np.float32 if np.issubdtype(y.dtype, np.floating) else np.int64)


def build_splits(train, *, val=None, test=None, test_size=0, val_size=0, seed: int = 0,
                 stratify: bool = True, folds: int | None = None, fold: int = 0, shape=None,
                 num_classes: int | None = None, name: str = "data", meta: dict | None = None) -> Splits:
    """A :class:`Splits` from numpy ``(X, y)`` pairs (memory-mapped arrays welcome).

    Splits that are not given are carved out of ``train``: first ``test_size``, then ``val_size``
    (fractions are of the ``train`` pair given here). With ``folds = k`` the validation split is
    instead fold ``fold`` (0..k-1) of a seeded, stratified k-fold split of the train+val pool
    (what is left after the test split, plus a given ``val``); ``val_size`` is then unused.
    ``shape`` reshapes each sample (e.g. flat 784-vectors to ``(1, 28, 28)``). Integer labels are
    class ids (>= 0; ``num_classes`` defaults to the largest id + 1 over all splits); float labels
    are regression targets. ``name`` starts error messages (a source name or a file path) and is
    ``meta["source"]`` unless ``meta`` sets it.
    """
    check_folds(folds, fold)
    X, y = train
    y = _labels(y)
    if len(X) != len(y):
        raise DataError(f"{name}: X has {len(X)} samples but y has {len(y)}; they must match")
    if is_classes(y):   # rows of the file, before a stratified split counts the classes
        given_labels = {split: _labels(pair[1]) for split, pair in (("val", val), ("test", test)) if pair}
        class_count({None: y, **given_labels}, name=name, num_classes=num_classes)
    tr, va, te = split_indices(y, test_size=0 if test is not None else test_size,
                               val_size=0 if val is not None or folds is not None else val_size,
                               seed=seed, stratify=stratify, name=name)
    if folds is not None:
        if val is not None:                  # the files' validation split joins the pool
            if te is not None:               # a carved test split is taken before X is replaced
                test, te = (np.asarray(X[te]), y[te]), None
            Xv, yv = val
            if tuple(Xv.shape[1:]) != tuple(X.shape[1:]):
                raise DataError(f"{name}: validation samples have shape {tuple(Xv.shape[1:])} but training "
                                f"samples have {tuple(X.shape[1:])}")
            X = np.concatenate([np.asarray(X[tr]), np.asarray(Xv)])
            y = np.concatenate([y[tr], _labels(yv)])
            tr, val = np.arange(len(y), dtype=np.int64), None
        tr, va = fold_split(y, tr, folds=folds, fold=fold, seed=seed, stratify=stratify, name=name)
    carved = {"train": None if va is None and te is None else tr, "val": va, "test": te}
    given = {"val": val, "test": test}
    out = {}
    for split in ("train", "val", "test"):
        if given.get(split) is not None:
            Xs, ys = given[split]
            idx = None
        elif split == "train" or carved[split] is not None:
            Xs, ys, idx = X, y, carved[split]
        else:
            out[split] = None
            continue
        Xs, ys = (Xs, _labels(ys)) if idx is None else (Xs[idx], _labels(ys)[idx])
        if not Xs.flags.writeable:           # a whole memory-mapped (read-only) array: read it once
            Xs = np.array(Xs)
        if shape is not None:
            shape = tuple(shape)
            if math.prod(shape) != math.prod(Xs.shape[1:]):
                raise DataError(f"{name}: shape = {list(shape)} has {math.prod(shape)} values but each "
                                f"sample has {math.prod(Xs.shape[1:])} ({list(Xs.shape[1:])})")
            Xs = Xs.reshape(len(Xs), *shape)
        out[split] = as_pair(Xs, ys, name=f"{name} ({split})")
    labels = {split: p[1] for split, p in out.items() if p is not None}
    if not torch.is_floating_point(labels["train"]):
        num_classes = class_count(labels, name=name, num_classes=num_classes)
    else:
        num_classes = None
    return Splits(out["train"], out["val"], out["test"], num_classes=num_classes,
                  input_shape=tuple(out["train"][0].shape[1:]), meta={"source": name, **(meta or {})})
