"""Data sources by name: scikit-learn's bundled sets, synthetic generators and file loaders.

Every source returns a :class:`Splits` of CPU tensors (the trainer moves them to the training
device once). Two plain dicts are the registry: ``SOURCES`` (name -> loader) and
``SOURCE_OPTIONS`` (name -> {option: Option}), read by ``load``, the config validator
(``check_data_table``) and ``docs/data.md``. ``load(name, **options)`` rejects an unknown option or
a value of the wrong type with a ConfigError before anything is read.
"""
from __future__ import annotations

from pathlib import Path, PurePath

import numpy as np

from trainwell.data import files, synthetic
from trainwell.data.splits import Pair, Splits, as_pair, build_splits, check_folds, stratified_split
from trainwell.errors import ConfigError, DataError
from trainwell.options import MAX_NUMPY_SEED, Option, check_options, did_you_mean, misspelt_key, seed_range

__all__ = ["Pair", "Splits", "as_pair", "stratified_split", "digits", "iris", "wine", "breast_cancer",
           "SOURCES", "SOURCE_OPTIONS", "check_source_options", "check_data_table", "check_paths", "load"]


# ---------------------------------------------------------------- scikit-learn's bundled sets

def digits(*, seed: int = 0, test_size=500, val_size=200, stratify: bool = True, folds=None,
           fold: int = 0, images: bool = False) -> Splits:
    """scikit-learn's bundled 8x8 digits (1797 samples, 10 classes), pixels scaled to [0, 1].

    Stratified split with ``test_size`` test samples (500, seed 0 is the issue's reference split)
    and ``val_size`` validation samples taken from the rest. ``images=True`` keeps the 1x8x8 shape.
    """
    from sklearn.datasets import load_digits  # lazy: slow to import (~2 s)

    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)
    return build_splits((X, d.target.astype(np.int64)), test_size=test_size, val_size=val_size,
                        seed=seed, stratify=stratify, folds=folds, fold=fold,
                        shape=(1, 8, 8) if images else None,
                        num_classes=10, name="digits", meta={"image_shape": (1, 8, 8)})


def _bundled(loader_name: str, name: str, *, seed, test_size, val_size, stratify, folds, fold) -> Splits:
    import sklearn.datasets  # lazy: slow to import (~2 s)

    d = getattr(sklearn.datasets, loader_name)()
    return build_splits((d.data.astype(np.float32), d.target.astype(np.int64)), test_size=test_size,
                        val_size=val_size, seed=seed, stratify=stratify, folds=folds, fold=fold,
                        num_classes=len(d.target_names), name=name,
                        meta={"classes": [str(c) for c in d.target_names],
                              "features": [str(f) for f in d.feature_names]})


def iris(*, seed: int = 0, test_size=0.2, val_size=0.1, stratify: bool = True, folds=None,
         fold: int = 0) -> Splits:
    """Fisher's iris: 150 samples, 4 features (cm), 3 classes. Raw features (standardize them)."""
    return _bundled("load_iris", "iris", seed=seed, test_size=test_size, val_size=val_size,
                    stratify=stratify, folds=folds, fold=fold)


def wine(*, seed: int = 0, test_size=0.2, val_size=0.1, stratify: bool = True, folds=None,
         fold: int = 0) -> Splits:
    """UCI wine: 178 samples, 13 chemical features on very different scales, 3 classes."""
    return _bundled("load_wine", "wine", seed=seed, test_size=test_size, val_size=val_size,
                    stratify=stratify, folds=folds, fold=fold)


def breast_cancer(*, seed: int = 0, test_size=0.2, val_size=0.1, stratify: bool = True, folds=None,
                  fold: int = 0) -> Splits:
    """Wisconsin diagnostic breast cancer: 569 samples, 30 features, 2 classes (0 malignant, 1 benign)."""
    return _bundled("load_breast_cancer", "breast_cancer", seed=seed, test_size=test_size,
                    val_size=val_size, stratify=stratify, folds=folds, fold=fold)


# ---------------------------------------------------------------- the registry

SOURCES = {
    "digits": digits, "iris": iris, "wine": wine, "breast_cancer": breast_cancer,
    "spirals": synthetic.spirals, "blobs": synthetic.blobs, "moons": synthetic.moons,
    "circles": synthetic.circles, "teacher": synthetic.teacher, "shapes": synthetic.shapes,
    "npy": files.npy, "npz": files.npz, "csv": files.csv, "mnist": files.mnist,
    "cifar10": files.cifar10, "image_folder": files.image_folder,
}

# NUM keeps ints as ints: a split size is a count when an int, a fraction when a float.
INT, NUM, BOOL, STR, PATH = (int,), (int, float), (bool,), (str,), (str, PurePath)
SIZE = "an int count, or a fraction in [0, 1) of the samples it is carved from"


# The split of a source without its own default: 20% test, then 10% of the rest for validation
# (trainwell convention; digits keeps its reference split of 500 and 200 samples).
TEST_SIZE, VAL_SIZE = 0.2, 0.1


def _split_size(size) -> str | None:
    """A split size's range, checked with the config (``splits.split_count`` checks it again
    against the rows it is carved from): a count >= 0, or a fraction in [0, 1)."""
    if isinstance(size, float) and not 0 <= size < 1:
        return "a fraction must be in [0, 1) (or give an int count)"
    if isinstance(size, int) and size < 0:
        return "must be >= 0"
    return None


def _split_options(test_size=TEST_SIZE, val_size=VAL_SIZE, *, given=False) -> dict:
    where = " (only when the files have no test set)" if given else ""
    return {
        "seed": Option(INT, 0, "seed of the split (and of generated data)",
                       check=seed_range(MAX_NUMPY_SEED, "scikit-learn's random_state")),
        "test_size": Option(NUM, test_size, f"test split: {SIZE}{where}", check=_split_size),
        "val_size": Option(NUM, val_size, f"validation split, taken after the test split: {SIZE}",
                           check=_split_size),
        "stratify": Option(BOOL, True, "keep class proportions in every split"),
        "folds": Option((int, type(None)), None, "k-fold cross-validation: the validation split is fold "
                        "`fold` of `folds` over the train+val pool (val_size is then unused); none: off"),
        "fold": Option(INT, 0, "which fold, 0..folds-1, is the validation split (with `folds`)"),
    }


def _path(doc: str) -> dict:
    return {"path": Option(PATH, None, doc, required=True)}


_SHAPE = {"shape": Option((list, tuple, type(None)), None, "reshape each sample, e.g. [1, 28, 28]")}
_IMAGES = {"size": Option((int, list, tuple, type(None)), None, "resize every image to size or [height, width]"),
           "mode": Option(STR, "rgb", "\"rgb\" (3 channels) or \"grayscale\" (1 channel)")}

SOURCE_OPTIONS = {
    "digits": {**_split_options(500, 200),
               "images": Option(BOOL, False, "samples as 1x8x8 images instead of 64-vectors")},
    "iris": _split_options(),
    "wine": _split_options(),
    "breast_cancer": _split_options(),
    "spirals": {**_split_options(),
                "classes": Option(INT, 3, "number of spiral arms K"),
                "samples_per_class": Option(INT, 100, "points per arm"),
                "noise": Option(NUM, 0.2, "std of the Gaussian noise on each point's angle")},
    "blobs": {**_split_options(),
              "classes": Option(INT, 3, "number of Gaussian blobs"),
              "samples": Option(INT, 600, "total points"),
              "features": Option(INT, 2, "input dimension"),
              "spread": Option(NUM, 1.0, "std of each blob")},
    "moons": {**_split_options(),
              "samples": Option(INT, 600, "total points"),
              "noise": Option(NUM, 0.1, "std of the Gaussian noise")},
    "circles": {**_split_options(),
                "samples": Option(INT, 600, "total points"),
                "noise": Option(NUM, 0.05, "std of the Gaussian noise"),
                "factor": Option(NUM, 0.5, "inner radius / outer radius, in (0, 1)")},
    "teacher": {**_split_options(),
                "task": Option(STR, "classification", "\"classification\" or \"regression\""),
                "samples": Option(INT, 2000, "total samples"),
                "features": Option(INT, 20, "input dimension"),
                "hidden": Option((list, tuple), [64], "hidden widths of the teacher network"),
                "classes": Option(INT, 4, "classes (classification)"),
                "outputs": Option(INT, 1, "target dimension (regression)"),
                "noise": Option(NUM, 0.0, "std of Gaussian noise on the targets / logits")},
    "shapes": {**_split_options(),
               "classes": Option(INT, 4, f"number of shape classes, taken in order from "
                                         f"{', '.join(synthetic.SHAPES)}"),
               "samples_per_class": Option(INT, 250, "images per class"),
               "size": Option(INT, 16, "image height and width in pixels"),
               "channels": Option(INT, 1, "1 (gray) or 3 (a random color per image)"),
               "noise": Option(NUM, 0.1, "std of the Gaussian pixel noise (pixels clipped to [0, 1])")},
    "npy": {**_path("inputs X: a .npy file (memory-mapped)"), **_split_options(),
            "labels": Option(PATH, None, "labels y: a .npy file with one label per row of X", required=True),
            **_SHAPE},
    "npz": {**_path("a .npz file with X/y or x_train/y_train[/x_val/y_val][/x_test/y_test]"),
            **_split_options(given=True), **_SHAPE},
    "csv": {**_path("a CSV file, one sample per row"), **_split_options(),
            "label": Option((str, int), -1, "label column: a header name or a 0-based index (-1: last)"),
            "header": Option((bool, type(None)), None, "first row is a header (None: detect)"),
            "delimiter": Option(STR, ",", "field separator"),
            "task": Option(STR, "classification", "\"classification\" (integer class ids) or \"regression\""),
            "label_names": Option(BOOL, False, "labels are class names, numbered in sorted order"),
            **_SHAPE},
    "mnist": {**_path("a folder with the four MNIST IDX files (raw or .gz)"),
              **_split_options(given=True)},
    "cifar10": {**_path("the cifar-10-batches-py folder"), **_split_options(given=True)},
    "image_folder": {**_path("a folder with one subfolder of images per class"),
                     **_split_options(), **_IMAGES},
}


def check_source_options(name: str, options: dict) -> dict:
    """Validate a source's option names and types (no data is read); return them with defaults
    filled in. Errors name the key as the [data] table spells it (``data.test_size = ...``)."""
    if not isinstance(name, str) or name not in SOURCES:
        raise ConfigError(f"data.source = {name!r}: unknown data source{did_you_mean(name, SOURCES)}; "
                          f"allowed: {', '.join(sorted(SOURCES))}")
    spec = SOURCE_OPTIONS[name]
    filled = check_options(f"data (source {name!r})", options, spec, label="data.{name}")
    # folds and fold depend on each other and on val_size: checked beyond their types here
    if "folds" in spec:
        check_folds(options.get("folds"), options.get("fold", 0))
        if "fold" in options and options.get("folds") is None:
            raise ConfigError(f"data.fold = {options['fold']!r}: needs data.folds, the number of folds k")
        if options.get("folds") is not None and "val_size" in options:
            raise ConfigError(f"data.val_size = {options['val_size']!r} and data.folds = "
                              f"{options['folds']!r}: with folds the validation split is fold `fold` "
                              f"of the train+val pool; remove val_size")
    return filled


def check_data_table(table: dict) -> None:
    """Config validation of the [data] table: its source and that source's options, before any
    data is read. A table without ``source`` leaves the source to fit's data argument
    (``fit(model, "iris")``), and ``load`` checks the options then."""
    options = dict(table)
    source = options.pop("source", None)
    if source is not None:
        check_source_options(source, options)
    elif misspelt_key(table, "source"):
        raise ConfigError(f"data: no source{misspelt_key(table, 'source')}")


# The options of the file sources that name a file or folder to read.
PATH_KEYS = ("path", "labels")


def load(name: str, **options) -> Splits:
    """Load a source by name with its options (checked against ``SOURCE_OPTIONS`` first); a file
    or folder that does not exist is a DataError naming its key (``data.path = 'x.npy': ...``)."""
    options = check_paths(check_source_options(name, options))
    return SOURCES[name](**options)


def check_paths(options: dict) -> dict:
    """``options``, once every file or folder they name exists (else a DataError naming the key)."""
    for key in PATH_KEYS:
        if options.get(key) is not None and not Path(options[key]).expanduser().exists():
            raise DataError(f"data.{key} = {str(options[key])!r}: no such file or folder")
    return options
