"""Data from files: .npy/.npz, CSV, MNIST IDX, CIFAR-10 python batches, a folder of images per class.

Every loader validates what it reads and raises a :class:`DataError` that names the file, the row
or field, and what was expected. Nothing here runs the plain unpickler: ``allow_pickle=False``
for numpy files, and CIFAR-10 batches go through :class:`SafeUnpickler`, which only builds numpy
arrays and refuses every other global (a pickle can run any code it names, e.g. ``os.system``).
"""
from __future__ import annotations

import codecs
import csv as csv_module
import gzip
import importlib
import math
import pickle
import re
import struct
from pathlib import Path

import numpy as np

from trainwell.data.splits import Splits, build_splits, check_finite
from trainwell.errors import ConfigError, DataError
from trainwell.options import did_you_mean


def _existing(path, *, folder: bool = False) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"{p}: {'folder' if folder else 'file'} not found")
    if folder and not p.is_dir():
        raise DataError(f"{p}: expected a folder, found a file")
    if not folder and p.is_dir():
        raise DataError(f"{p}: expected a file, found a folder")
    return p


def _numeric(p: Path, what: str, a: np.ndarray) -> np.ndarray:
    if a.dtype.kind not in "biuf":
        raise DataError(f"{p}: {what} has dtype {a.dtype}; expected numbers (bool, int, uint or float)")
    return a


def _rows(p: Path, what: str, a: np.ndarray) -> np.ndarray:
    """``a`` if it has rows (one sample or label each): a 0-d array is one number."""
    if a.ndim == 0:
        raise DataError(f"{p}: {what} holds a single number; expected an array with one sample per row")
    return a


# ---------------------------------------------------------------- .npy / .npz

def read_npy(path, *, what: str = "array") -> np.ndarray:
    """A numeric .npy array, memory-mapped read-only (``mmap_mode="r"``), never unpickled."""
    p = _existing(path)
    try:
        a = np.load(p, mmap_mode="r", allow_pickle=False)
    except ValueError as e:
        raise DataError(f"{p}: cannot read {what} without unpickling ({e}); save numeric arrays") from None
    except (OSError, EOFError) as e:
        raise DataError(f"{p}: not a .npy file ({e})") from None
    if not isinstance(a, np.ndarray):
        a.close()
        raise DataError(f"{p}: is a .npz archive; use source = \"npz\" for it")
    return _numeric(p, what, a)


def npy(*, path, labels, seed: int = 0, test_size=0.2, val_size=0.1, stratify: bool = True,
        folds=None, fold: int = 0, shape=None) -> Splits:
    """Inputs from ``path`` (.npy, one sample per row) and labels from ``labels`` (.npy), both
    memory-mapped; integer labels are class ids, float labels regression targets."""
    X = _rows(Path(path), "X", read_npy(path, what="X"))
    y = _rows(Path(labels), "labels", read_npy(labels, what="labels"))
    if len(X) != len(y):
        raise DataError(f"{Path(labels)}: {len(y)} labels but {Path(path)} has {len(X)} samples; they must match")
    check_finite(X, f"{Path(path)}:")
    check_finite(y, f"{Path(labels)}:")
    return build_splits((X, y), test_size=test_size, val_size=val_size, seed=seed, stratify=stratify,
                        folds=folds, fold=fold, shape=shape, name=str(Path(path)), meta={"source": "npy"})


NPZ_KEYS = {"train": ("x_train", "y_train"), "val": ("x_val", "y_val"), "test": ("x_test", "y_test")}


def npz(*, path, seed: int = 0, test_size=0.2, val_size=0.1, stratify: bool = True, folds=None,
        fold: int = 0, shape=None) -> Splits:
    """A .npz archive holding either ``X`` (or ``x``) and ``y`` — one set, split by
    ``test_size``/``val_size`` — or ``x_train``/``y_train`` with optional ``x_val``/``y_val`` and
    ``x_test``/``y_test`` (Keras' names); splits that are missing are carved from the training set.
    Members of a .npz cannot be memory-mapped: save large arrays as .npy files (source "npy")."""
    p = _existing(path)
    try:
        archive = np.load(p, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{p}: not a .npz archive ({e})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(f"{p}: is a single .npy array, not a .npz archive; use source = \"npy\"")
    with archive:
        keys = set(archive.files)

        def member(key):
            try:
                a = _rows(p, f"array {key!r}", _numeric(p, f"array {key!r}", archive[key]))
            except ValueError as e:
                raise DataError(f"{p}: array {key!r} cannot be read without unpickling ({e})") from None
            check_finite(a, f"{p}: array {key!r}")
            return a

        x_single = "X" if "X" in keys else "x" if "x" in keys else None
        if "x_train" in keys or "y_train" in keys:
            pairs = {}
            for split, (xk, yk) in NPZ_KEYS.items():
                if xk in keys or yk in keys:
                    missing = yk if xk in keys else xk
                    if missing not in keys:
                        raise DataError(f"{p}: has {xk if xk in keys else yk!r} but not {missing!r}; "
                                        f"each split needs both")
                    pairs[split] = (member(xk), member(yk))
        elif x_single and "y" in keys:
            pairs = {"train": (member(x_single), member("y"))}
        else:
            raise DataError(f"{p}: expected arrays 'X' and 'y', or 'x_train' and 'y_train' (optionally "
                            f"'x_val'/'y_val', 'x_test'/'y_test'); found {', '.join(sorted(keys)) or 'none'}")
    return build_splits(pairs["train"], val=pairs.get("val"), test=pairs.get("test"), test_size=test_size,
                        val_size=val_size, seed=seed, stratify=stratify, folds=folds, fold=fold, shape=shape,
                        name=str(p), meta={"source": "npz"})


# ---------------------------------------------------------------- CSV

TASKS = ("classification", "regression")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _label_index(p: Path, label, header: list[str] | None, ncols: int) -> int:
    if isinstance(label, str):
        if header is None:
            raise DataError(f"{p}: label = {label!r} names a column but the file has no header row; "
                            f"give the column index instead")
        if label not in header:
            raise DataError(f"{p}: no column named {label!r}{did_you_mean(label, header)}; "
                            f"columns: {', '.join(header)}")
        return header.index(label)
    if not -ncols <= label < ncols:
        raise DataError(f"{p}: label = {label}: the file has {ncols} columns (0-based index, -1 = last)")
    return label % ncols


def csv(*, path, label=-1, header=None, delimiter: str = ",", task: str = "classification",
        label_names: bool = False, seed: int = 0, test_size=0.2, val_size=0.1, stratify: bool = True,
        folds=None, fold: int = 0, shape=None) -> Splits:
    """A CSV file with one sample per row: every column a number except the ``label`` column.

    ``header=None`` detects a header row (the first row is a header when none of its feature fields
    is a number; naming the label column implies one). Labels are integer class ids >= 0, class
    names with ``label_names=True`` (numbered in sorted order, kept in ``meta["classes"]``), or
    numbers with ``task="regression"``. Errors name the file, the row (its line in the file) and the
    column (its header name, or its 0-based index).
    """
    if task not in TASKS:
        raise ConfigError(f"csv: task = {task!r}: must be one of {', '.join(TASKS)}")
    if len(delimiter) != 1:
        raise ConfigError(f"csv: delimiter = {delimiter!r}: must be one character")
    p = _existing(path)
    rows = _csv_rows(p, delimiter)
    ncols = len(rows[0][1])
    if header is None:
        first_label = _label_index(p, label, None, ncols) if not isinstance(label, str) else None
        header = isinstance(label, str) or not any(
            _is_number(v) for i, v in enumerate(rows[0][1]) if i != first_label)
    names = rows.pop(0)[1] if header else None
    if not rows:
        raise DataError(f"{p}: no data rows after the header")
    col = _label_index(p, label, names, ncols)
    for line, row in rows:
        if len(row) != ncols:
            raise DataError(f"{p} row {line}: {len(row)} fields, expected {ncols} like the first row")

    def column_name(i):
        return f"column {names[i]!r}" if names else f"column {i}"

    features = [i for i in range(ncols) if i != col]
    if not features:
        raise DataError(f"{p}: only the label column; expected feature columns besides it")
    X = _csv_features(p, rows, features, column_name)
    meta = {"source": "csv", "columns": [names[i] for i in features] if names else None}
    y, classes = _csv_labels(p, rows, col, column_name, task=task, label_names=label_names)
    if classes is not None:
        meta["classes"] = classes
    return build_splits((X.astype(np.float32), y), test_size=test_size, val_size=val_size, seed=seed,
                        stratify=stratify, folds=folds, fold=fold, shape=shape, name=str(p), meta=meta)


def _csv_rows(p: Path, delimiter: str) -> list[tuple[int, list[str]]]:
    """The file's non-blank rows as (line in the file, stripped fields); at least one."""
    rows = []
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:     # -sig: drop an Excel BOM
            reader = csv_module.reader(f, delimiter=delimiter)
            for row in reader:
                if any(field.strip() for field in row):
                    rows.append((reader.line_num, [field.strip() for field in row]))
    except (UnicodeDecodeError, csv_module.Error) as e:
        raise DataError(f"{p}: not a readable UTF-8 CSV file ({e})") from None
    if not rows:
        raise DataError(f"{p}: the file is empty")
    return rows


def _csv_features(p: Path, rows, features: list[int], column_name) -> np.ndarray:
    """The feature columns as float64 (rows × features); the first cell that is not a finite
    number is a DataError naming its row and column."""
    cells = [[row[i] for i in features] for _, row in rows]
    try:
        X = np.array(cells, dtype=np.float64).reshape(len(rows), len(features))
    except ValueError:      # numpy's parser is stricter than float(); find the cell, or use float()
        X = None
    if X is None or not np.isfinite(X).all():
        for (line, row) in rows:
            for i in features:
                if not _is_number(row[i]) or not math.isfinite(float(row[i])):
                    raise DataError(f"{p} row {line}, {column_name(i)}: {row[i]!r} is not a finite number")
        X = np.array([[float(v) for v in r] for r in cells], dtype=np.float64).reshape(len(rows), len(features))
    return X


def _csv_labels(p: Path, rows, col: int, column_name, *, task: str, label_names: bool):
    """The label column -> (y, class names or None): float32 targets for a regression, class ids
    numbered in sorted name order with ``label_names``, else integer class ids >= 0 as written."""
    raw = [row[col] for _, row in rows]
    if task == "regression":
        bad = next((k for k, v in enumerate(raw) if not _is_number(v) or not math.isfinite(float(v))), None)
        if bad is not None:
            raise DataError(f"{p} row {rows[bad][0]}, {column_name(col)}: {raw[bad]!r} is not a finite "
                            f"number (task = \"regression\")")
        return np.array(raw, dtype=np.float32), None
    if label_names:
        classes = sorted(set(raw))
        lookup = {c: k for k, c in enumerate(classes)}
        return np.array([lookup[v] for v in raw], dtype=np.int64), classes
    bad = next((k for k, v in enumerate(raw) if not re.fullmatch(r"\+?[0-9]+", v)), None)
    if bad is not None:
        raise DataError(f"{p} row {rows[bad][0]}, {column_name(col)}: {raw[bad]!r} is not an integer "
                        f"class id >= 0 (use label_names = true for class names, or task = "
                        f"\"regression\" for numeric targets)")
    return np.array(raw, dtype=np.int64), None


# ---------------------------------------------------------------- MNIST IDX

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path, *, ndim: int | None = None) -> np.ndarray:
    """An IDX array (LeCun's MNIST format), raw or gzip-compressed.

    Layout: magic ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian uint32 sizes, then the data
    in big-endian order. Checked: the magic number, the type code, ``ndim`` when given, and that the
    data has exactly prod(sizes) items.
    """
    p = _existing(path)
    try:
        raw = p.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"{p}: cannot read ({e})") from None
    if len(raw) < 4:
        raise DataError(f"{p}: {len(raw)} bytes; an IDX file starts with a 4-byte magic number")
    zero, code, dims = struct.unpack(">HBB", raw[:4])
    if zero != 0 or code not in IDX_TYPES:
        raise DataError(f"{p}: magic number 0x{raw[:4].hex()} is not IDX; expected 0x0000TTNN with type "
                        f"TT in {', '.join(f'{t:02x}' for t in IDX_TYPES)} (MNIST: 0x00000803 images, "
                        f"0x00000801 labels)")
    if ndim is not None and dims != ndim:
        raise DataError(f"{p}: {dims} dimensions (magic 0x{raw[:4].hex()}); expected {ndim} "
                        f"(magic 0x00000{code:x}0{ndim})")
    if len(raw) < 4 + 4 * dims:
        raise DataError(f"{p}: header ends early; expected {dims} sizes of 4 bytes after the magic number")
    sizes = struct.unpack(f">{dims}I", raw[4:4 + 4 * dims])
    dtype = np.dtype(IDX_TYPES[code])
    expected = math.prod(sizes) * dtype.itemsize
    found = len(raw) - 4 - 4 * dims
    if found != expected:
        raise DataError(f"{p}: sizes {list(sizes)} need {expected} data bytes, found {found}")
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * dims).reshape(sizes)


def _find(folder: Path, stems) -> Path | None:
    for stem in stems:
        for suffix in ("", ".gz"):
            if (folder / (stem + suffix)).is_file():
                return folder / (stem + suffix)
    return None


def _read_mnist_pair(folder: Path, prefix: str):
    images = _find(folder, [f"{prefix}-images-idx3-ubyte", f"{prefix}-images.idx3-ubyte"])
    labels = _find(folder, [f"{prefix}-labels-idx1-ubyte", f"{prefix}-labels.idx1-ubyte"])
    if images is None and labels is None:
        return None
    if images is None or labels is None:
        missing = f"{prefix}-images-idx3-ubyte" if images is None else f"{prefix}-labels-idx1-ubyte"
        raise DataError(f"{folder}: has {(labels or images).name} but not {missing}[.gz]")
    X = read_idx(images, ndim=3)
    y = read_idx(labels, ndim=1)
    for p, a in ((images, X), (labels, y)):
        if a.dtype != np.uint8:
            raise DataError(f"{p}: values of type {a.dtype}; expected unsigned bytes (type code 0x08)")
    if len(X) != len(y):
        raise DataError(f"{labels}: {len(y)} labels but {images.name} has {len(X)} images")
    if len(y) and y.max() > 9:
        raise DataError(f"{labels}: label {y.max()} found; expected digits 0-9")
    return (X[:, None] / np.float32(255)).astype(np.float32), y.astype(np.int64)


def mnist(*, path, seed: int = 0, test_size=0.2, val_size=0.1, stratify: bool = True, folds=None,
          fold: int = 0) -> Splits:
    """MNIST (or Fashion-MNIST) from a folder with ``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte`` and optionally ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``
    (each raw or ``.gz``; ``-images.idx3-ubyte`` spellings too). Pixels scaled to [0, 1], samples
    1×28×28. The t10k files are the test split; without them ``test_size`` is carved from train."""
    folder = _existing(path, folder=True)
    train = _read_mnist_pair(folder, "train")
    if train is None:
        raise DataError(f"{folder}: expected train-images-idx3-ubyte and train-labels-idx1-ubyte "
                        f"(raw or .gz) in this folder")
    test = _read_mnist_pair(folder, "t10k")
    return build_splits(train, test=test, test_size=test_size, val_size=val_size, seed=seed,
                        stratify=stratify, folds=folds, fold=fold, num_classes=10, name=str(folder),
                        meta={"source": "mnist"})


# ---------------------------------------------------------------- CIFAR-10 python batches

def _numpy_module(*names):
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(names[0])


def _allowed_globals() -> dict:
    multiarray = _numpy_module("numpy._core.multiarray", "numpy.core.multiarray")
    numeric = _numpy_module("numpy._core.numeric", "numpy.core.numeric")
    allowed = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
               ("_codecs", "encode"): codecs.encode}
    for module in ("numpy._core", "numpy.core"):      # numpy 2 writes _core; old pickles say core
        allowed[(f"{module}.multiarray", "_reconstruct")] = multiarray._reconstruct
        allowed[(f"{module}.multiarray", "scalar")] = multiarray.scalar
        allowed[(f"{module}.numeric", "_frombuffer")] = numeric._frombuffer
    return allowed


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that can only build numpy arrays, dtypes and scalars (what a CIFAR-10 batch
    holds, besides dicts, lists, ints and bytes) and refuses every other global with a DataError."""

    def __init__(self, file, *, path):
        super().__init__(file, encoding="bytes")     # CIFAR-10 batches are Python 2 pickles
        self.path = path
        self.allowed = _allowed_globals()

    def find_class(self, module, name):
        if (module, name) in self.allowed:
            return self.allowed[(module, name)]
        raise DataError(f"{self.path}: refused to unpickle the global {module}.{name}: a CIFAR-10 batch "
                        f"holds only numpy arrays, lists and bytes; this file may be malicious")

    def persistent_load(self, pid):
        raise DataError(f"{self.path}: refused a persistent id in the pickle; not a CIFAR-10 batch")


def read_cifar_batch(path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch -> (uint8 images n×3×32×32, int64 labels), via :class:`SafeUnpickler`.

    Expected: a dict with ``data`` (uint8 array n×3072: 1024 red, 1024 green, 1024 blue values, each
    a row-major 32×32 plane) and ``labels`` (n ints in 0..9); keys may be bytes (Python 2 pickles).
    """
    p = _existing(path)
    try:
        with open(p, "rb") as f:
            batch = SafeUnpickler(f, path=p).load()
    except DataError:
        raise
    except Exception as e:     # a corrupt pickle can raise nearly anything; report it as bad data
        raise DataError(f"{p}: not a CIFAR-10 python batch (cannot unpickle: {type(e).__name__}: {e})") from None
    if not isinstance(batch, dict):
        raise DataError(f"{p}: holds a {type(batch).__name__}; expected a dict with 'data' and 'labels'")
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    for key in ("data", "labels"):
        if key not in batch:
            raise DataError(f"{p}: no {key!r} field; expected a dict with 'data' and 'labels' "
                            f"(found {', '.join(map(str, batch))})")
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        what = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataError(f"{p}: field 'data' is a {what}; expected a uint8 array of shape (n, 3072)")
    try:
        labels = np.asarray(batch["labels"], dtype=np.int64).reshape(-1)
    except (TypeError, ValueError):
        raise DataError(f"{p}: field 'labels' must be a list of integer class ids") from None
    if len(labels) != len(data):
        raise DataError(f"{p}: field 'labels' has {len(labels)} entries but 'data' has {len(data)} rows")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"{p}: field 'labels' has {labels.min() if labels.min() < 0 else labels.max()}; "
                        f"expected class ids 0-9")
    return data.reshape(-1, 3, 32, 32), labels


def cifar10(*, path, seed: int = 0, test_size=0.2, val_size=0.1, stratify: bool = True, folds=None,
            fold: int = 0) -> Splits:
    """CIFAR-10 from the ``cifar-10-batches-py`` folder: ``data_batch_*`` (training) and
    ``test_batch`` (test; without it ``test_size`` is carved from training). Pixels in [0, 1],
    samples 3×32×32."""
    folder = _existing(path, folder=True)
    batches = sorted(folder.glob("data_batch_*"))
    if not batches:
        raise DataError(f"{folder}: no data_batch_* files; expected the cifar-10-batches-py folder")
    parts = [read_cifar_batch(b) for b in batches]

    def scale(X):
        return (X / np.float32(255)).astype(np.float32)

    train = (scale(np.concatenate([X for X, _ in parts])), np.concatenate([y for _, y in parts]))
    test = None
    if (folder / "test_batch").is_file():
        X, y = read_cifar_batch(folder / "test_batch")
        test = (scale(X), y)
    return build_splits(train, test=test, test_size=test_size, val_size=val_size, seed=seed,
                        stratify=stratify, folds=folds, fold=fold, num_classes=10, name=str(folder),
                        meta={"source": "cifar10", "classes": list(CIFAR10_CLASSES)})


CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


# ---------------------------------------------------------------- a folder of images per class

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
MODES = {"rgb": "RGB", "grayscale": "L"}


def _image_size(size):
    if size is None:
        return None
    hw = (size, size) if isinstance(size, int) else tuple(size)
    if len(hw) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in hw):
        raise ConfigError(f"image_folder: size = {size!r}: must be a positive int or [height, width]")
    return hw


def image_folder(*, path, size=None, mode: str = "rgb", seed: int = 0, test_size=0.2, val_size=0.1,
                 stratify: bool = True, folds=None, fold: int = 0) -> Splits:
    """Images in ``path/<class name>/``, one subfolder per class (class ids in sorted name order,
    kept in ``meta["classes"]``). Read with Pillow, converted to ``mode``, resized (bilinear) to
    ``size`` when given — otherwise all images must have the same size — and scaled to [0, 1];
    samples C×H×W."""
    from PIL import Image, UnidentifiedImageError  # lazy: only this source reads image files

    if mode not in MODES:
        raise ConfigError(f"image_folder: mode = {mode!r}: must be one of {', '.join(MODES)}")
    hw = _image_size(size)
    folder = _existing(path, folder=True)
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise DataError(f"{folder}: no class subfolders; expected {folder}/<class name>/<image files>")
    images, labels, first = [], [], None
    for c, name in enumerate(classes):
        found = sorted(f for f in (folder / name).iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise DataError(f"{folder / name}: no images ({', '.join(IMAGE_SUFFIXES)}); every class folder "
                            f"needs at least one")
        for f in found:
            try:
                with Image.open(f) as im:
                    im = im.convert(MODES[mode])
                    if hw is not None:
                        im = im.resize((hw[1], hw[0]), Image.BILINEAR)
                    a = np.asarray(im, dtype=np.uint8)
            except (UnidentifiedImageError, OSError, ValueError) as e:
                raise DataError(f"{f}: not an image Pillow can read ({e})") from None
            if first is None:
                first = (f, a.shape)
            elif a.shape != first[1]:
                raise DataError(f"{f}: {a.shape[1]}x{a.shape[0]} pixels but {first[0]} is "
                                f"{first[1][1]}x{first[1][0]}; pass size = [height, width] to resize")
            images.append(a)
            labels.append(c)
    X = np.stack(images)
    X = (X[:, None] if X.ndim == 3 else X.transpose(0, 3, 1, 2)) / np.float32(255)
    return build_splits((X.astype(np.float32), np.array(labels, dtype=np.int64)), test_size=test_size,
                        val_size=val_size, seed=seed, stratify=stratify, folds=folds, fold=fold,
                        num_classes=len(classes), name=str(folder),
                        meta={"source": "image_folder", "classes": classes})


def read_inputs(path) -> np.ndarray:
    """Unlabelled inputs for ``trainwell predict``: ``.npy``, ``.npz`` (key ``X`` or ``x``), or a
    ``.csv`` of numbers (an optional header line is skipped), one sample per row."""
    p = _existing(path)
    suffix = p.suffix.lower()
    if suffix == ".npy":
        return np.array(read_npy(p, what="inputs"))  # a writable copy of the memory map
    if suffix == ".npz":
        with np.load(p, allow_pickle=False) as archive:
            key = next((k for k in ("X", "x", "x_test") if k in archive.files), None)
            if key is None:
                raise DataError(f"{p}: no inputs array; expected a key X (found: {', '.join(archive.files)})")
            return _numeric(p, key, archive[key])
    if suffix == ".csv":
        rows = []
        with open(p, newline="") as f:
            for line_no, row in enumerate(csv_module.reader(f), start=1):
                if not row:
                    continue
                if line_no == 1 and not all(_is_number(v) for v in row):
                    continue  # a header
                for col, value in enumerate(row, start=1):
                    if not _is_number(value):
                        raise DataError(f"{p} row {line_no}, column {col}: {value!r} is not a number")
                rows.append([float(v) for v in row])
        if not rows:
            raise DataError(f"{p}: no rows of numbers")
        if len({len(r) for r in rows}) != 1:
            raise DataError(f"{p}: rows have different numbers of columns")
        return np.asarray(rows, dtype=np.float32)
    raise DataError(f"{p}: unsupported input file type {suffix!r}; use .npy, .npz or .csv")
