"""Streaming: inputs that stay on the host (a memory-mapped ``.npy`` file, or an array in RAM)
and reach the training device one batch at a time, for data larger than the device's memory.

``HostRows`` is a split's inputs as the host array plus the split's row indices (a split of a
memory-mapped file never copies the file); indexing it (``X[i:j]``, ``X[idx]``,
``X.index_select(0, idx)``) gathers those rows on the host, copies them to the device and applies
the preprocessing there, so evaluation, LSUV and the model check use it like a tensor.
``StreamBatches`` follows the protocol of ``data.batches.Batches`` (``len``, ``new_epoch``,
iteration yielding ``(xb, yb)`` on the device, ``state_dict``/``load_state_dict``, ``X``/``y``)
and draws the same seeded order, so a streamed run and an in-memory run of the same data take
the same steps. Each batch is gathered in sorted row order (sequential reads of the file) and
put back in the drawn order; with CUDA it is gathered into pinned memory and copied with
``non_blocking=True`` on a side stream; a background thread gathers the next batch while the
current one trains (numpy's gather releases the GIL). Preprocessing is fitted on the training
split chunk by chunk in float64 (``fit_streamed``): the moments ``Transform.fit_moments`` takes.

Whether a run streams is the ``stream`` option (``place``): true, false, or "auto" (stream when
the inputs would take more than ``AUTO_STREAM_SHARE`` of the device's free memory).
"""
from __future__ import annotations

import dataclasses
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePath

import numpy as np
import torch
from torch import nn

from trainwell.data import files
from trainwell.data.batches import draw_order, global_steps, shard_indices
from trainwell.data.splits import Splits, as_pair, check_finite, class_count, fold_split, split_indices
from trainwell.data.transforms import Pipeline, make_preprocess
from trainwell.errors import ConfigError, DataError

# "auto" streams when the inputs (as float32) would take more than half the device's free
# memory: the other half is left for the model, its activations and the optimizer's state
# (trainwell convention; docs/data.md, streaming).
AUTO_STREAM_SHARE = 0.5
# The chunked statistics read this many bytes of float64 rows at a time (bounded memory).
STATS_CHUNK_BYTES = 64 * 2**20
# The babysitter's pre-flight checks on streamed data read a seeded sample of this many rows,
# kept in file order (its own probes read at most STATS_ROWS = 2000 rows; babysit/preflight.py).
CHECK_ROWS = 4096
STREAM_MODES = (True, False, "auto")
# Host dtypes torch cannot take as they are: converted to float32 on the host (the others travel
# as stored, e.g. uint8 images at a quarter of the bytes, and become float32 on the device).
HOST_CONVERTED = {np.dtype(np.uint16), np.dtype(np.uint32), np.dtype(np.uint64)}


def check_stream(value) -> str | None:
    """The ``stream`` option: true, false or "auto" (error text for the config validator)."""
    if value is True or value is False or value == "auto":
        return None
    return 'must be true, false or "auto"'


def torch_dtype(dtype: np.dtype) -> torch.dtype:
    """The torch dtype of a numpy dtype (the one ``torch.from_numpy`` gives)."""
    return torch.from_numpy(np.empty(0, dtype)).dtype


def input_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype inputs train in, as ``splits.as_pair`` converts them: integers and float64 become
    float32, float32/float16/bfloat16 stay."""
    if not dtype.is_floating_point or dtype == torch.float64:
        return torch.float32
    return dtype


@dataclass(frozen=True)
class HostRows:
    """Rows ``indices`` (None: all) of a host array, each reshaped to ``sample_shape``; indexing
    gives device tensors on ``device`` with ``transform`` applied. ``checked``: the array was
    already searched for NaN/inf (the npy source does it when it opens the file)."""

    array: np.ndarray
    indices: np.ndarray | None = None
    sample_shape: tuple = ()
    device: torch.device = torch.device("cpu")
    transform: nn.Module | None = None
    name: str = "data"
    checked: bool = False

    def __post_init__(self):
        if not self.sample_shape:
            object.__setattr__(self, "sample_shape", tuple(self.array.shape[1:]))

    # ---------------------------------------------------------------- tensor-like reading
    def __len__(self) -> int:
        return len(self.array) if self.indices is None else len(self.indices)

    @property
    def shape(self) -> torch.Size:
        sample = self.sample_shape
        if self.transform is not None and hasattr(self.transform, "output_shape"):
            sample = self.transform.output_shape(sample)
        return torch.Size((len(self), *sample))

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the inputs on the device (``input_dtype`` of the stored one)."""
        return input_dtype(torch_dtype(self.host_dtype))

    @property
    def nbytes(self) -> int:
        """The bytes these rows take as training inputs on the device (float32 or float16)."""
        return len(self) * math.prod(self.sample_shape) * self.dtype.itemsize

    def __getitem__(self, key) -> torch.Tensor:
        if isinstance(key, slice):
            positions = np.arange(len(self))[key]
        elif isinstance(key, (int, np.integer)):
            # one row at a time is what torch.as_tensor(rows) would do, row by row, for ever
            raise TypeError(f"{self.name}: streamed rows are read in batches (X[i:j], X[indices]); "
                            f"for one tensor of a sample use data.streaming.check_sample")
        else:
            positions = np.asarray(key.cpu() if isinstance(key, torch.Tensor) else key)
            positions = np.flatnonzero(positions) if positions.dtype == bool else positions.astype(np.int64)
        return self.to_device(torch.from_numpy(self.gather(positions)))

    def index_select(self, dim: int, index: torch.Tensor) -> torch.Tensor:
        if dim != 0:
            raise ValueError("HostRows.index_select: rows only (dim = 0)")
        return self[index]

    def gather(self, positions: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The raw rows at ``positions`` (of this split) in that order, read from the array in
        sorted order (sequential reads of a file), written into ``out`` when given."""
        rows = positions if self.indices is None else self.indices[positions]
        if out is None:
            out = np.empty((len(rows), *self.sample_shape), dtype=self.host_dtype)
        if len(rows) and self.indices is None and rows[-1] - rows[0] == len(rows) - 1 \
                and np.all(np.diff(rows) == 1):                  # a contiguous range: one slice
            out[...] = self.array[rows[0]:rows[-1] + 1].reshape(out.shape)
            return out
        by_row = np.argsort(rows, kind="stable")
        out[by_row] = self.array[rows[by_row]].reshape(len(rows), *self.sample_shape)
        return out

    @property
    def host_dtype(self) -> np.dtype:
        return np.dtype(np.float32) if self.array.dtype in HOST_CONVERTED else self.array.dtype

    def to_device(self, host: torch.Tensor, *, non_blocking: bool = False) -> torch.Tensor:
        """Raw rows (a host tensor) as training inputs: on the device, in the training dtype,
        preprocessed."""
        x = host.to(self.device, non_blocking=non_blocking).to(self.dtype)
        if self.transform is not None:
            with torch.no_grad():
                x = self.transform(x)
        return x

    # ---------------------------------------------------------------- derived views
    def bind(self, device, transform: nn.Module | None = None) -> "HostRows":
        """These rows read onto ``device`` through ``transform`` (moved there)."""
        device = torch.device(device)
        return dataclasses.replace(self, device=device,
                                   transform=None if transform is None else transform.to(device))

    def then(self, module: nn.Module) -> "HostRows":
        """These rows with ``module`` applied after the current transform (a repair's added
        preprocessing)."""
        module = module.to(self.device)
        steps = [self.transform, module] if self.transform is not None else [module]
        return dataclasses.replace(self, transform=nn.Sequential(*steps))

    def materialize(self) -> np.ndarray:
        """The rows as one in-memory array (the path a split that is not streamed takes)."""
        rows = self.array if self.indices is None else self.array[self.indices]
        rows = np.asarray(rows).reshape(len(self), *self.sample_shape)
        return rows if rows.flags.writeable else np.array(rows)    # a read-only map: read it once

    def chunks(self, *, chunk_bytes: int = STATS_CHUNK_BYTES):
        """The raw rows as CPU float64 tensors of a bounded size, in file order (the statistics
        do not depend on the order)."""
        rows = None if self.indices is None else np.sort(self.indices)
        per_row = max(1, math.prod(self.sample_shape)) * 8
        step = max(1, chunk_bytes // per_row)
        for start in range(0, len(self), step):
            if rows is None:
                block = self.array[start:start + step]
            else:
                block = self.array[rows[start:start + step]]
            block = np.asarray(block, dtype=np.float64).reshape(-1, *self.sample_shape)
            yield torch.from_numpy(block)

    def check_finite(self, where: str) -> None:
        """``splits.check_finite`` on the host array (every row of the file), once."""
        if not self.checked:
            check_finite(self.array, where)
            object.__setattr__(self, "checked", True)


def apply_module(X, module: nn.Module):
    """``module`` applied to inputs: a tensor now, streamed rows from each batch on."""
    if isinstance(X, HostRows):
        return X.then(module)
    with torch.no_grad():
        return module(X)


def check_sample(X, y, *, seed: int = 0, rows: int = CHECK_ROWS) -> tuple:
    """``(X, y)`` for checks that read the data (the babysitter's pre-flight): the tensors as
    they are, or a seeded sample of ``rows`` streamed rows kept in file order (an unshuffled
    file still reads as unshuffled)."""
    if not isinstance(X, HostRows) or len(X) <= rows:
        return (X[:] if isinstance(X, HostRows) else X), y
    g = np.random.default_rng(seed)
    positions = np.sort(g.choice(len(X), size=rows, replace=False))
    return X[positions], y[torch.from_numpy(positions).to(y.device)]


# -------------------------------------------------------------------- statistics, chunk by chunk
@torch.no_grad()
def chunks_after(X: HostRows, before=(), *, chunk_bytes: int = STATS_CHUNK_BYTES):
    """``X``'s rows chunk by chunk (float64, bounded size) as the run reads them (through the
    preprocessing bound to them, ``X.transform``: a step added later is fitted on what the steps
    before it output), then through the fitted steps ``before``."""
    for chunk in X.chunks(chunk_bytes=chunk_bytes):
        if X.transform is not None:
            with torch.no_grad():
                chunk = X.transform(chunk.to(X.device)).double().cpu()
        for done in before:
            chunk = done(chunk)
        yield chunk


def streamed_moments(X: HostRows, step, before=(), *, chunk_bytes: int = STATS_CHUNK_BYTES):
    """The mean (keepdim) and ``step.SECOND_MOMENT`` of ``X``'s rows after the fitted steps
    ``before``, accumulated over chunks in float64: two passes (the mean, then the centered
    second moment), the same formulas ``Transform._fit`` evaluates in memory."""
    def passes():
        return chunks_after(X, before, chunk_bytes=chunk_bytes)

    total, count = None, 0
    for chunk in passes():
        dims = step.reduce_dims(chunk.ndim)
        s = chunk.sum(dim=dims, keepdim=True)
        total = s if total is None else total + s
        count += chunk.numel() // s.numel()
    mean = total / count
    if step.SECOND_MOMENT is None:
        return mean, None
    second = None
    for chunk in passes():
        if step.SECOND_MOMENT == "var":
            term = ((chunk - mean) ** 2).sum(dim=step.reduce_dims(chunk.ndim), keepdim=True)
        else:
            centered = (chunk - mean).reshape(chunk.shape[0], -1)
            term = centered.T @ centered
        second = term if second is None else second + term
    return mean, second / (count if step.SECOND_MOMENT == "var" else len(X))


def fit_streamed(spec, X: HostRows, *, chunk_bytes: int = STATS_CHUNK_BYTES) -> Pipeline:
    """``transforms.fit_preprocess`` for streamed rows: each step fitted on the output of the
    steps before it, from moments accumulated chunk by chunk (bounded memory)."""
    pipeline = spec if isinstance(spec, Pipeline) else make_preprocess(spec)
    for i, step in enumerate(pipeline):
        if len(X) < 2:
            raise DataError(f"preprocess {step.name!r}: needs at least 2 training samples to fit "
                            f"(got {len(X)})")
        if hasattr(step, "fit_chunks"):      # a step fitted from values, not moments (impute's medians)
            step.fit_chunks(chunks_after(X, list(pipeline)[:i], chunk_bytes=chunk_bytes))
            continue
        mean, second = streamed_moments(X, step, list(pipeline)[:i], chunk_bytes=chunk_bytes)
        step.fit_moments(mean, second)
    return pipeline


# -------------------------------------------------------------------- where the inputs live
def is_host_input(X) -> bool:
    """A memory-mapped array or a path to a .npy file: inputs that can stay on the host."""
    return isinstance(X, (np.memmap, str, PurePath)) or (
        isinstance(X, np.ndarray) and isinstance(X.base, np.memmap))


def host_pair(X, y, *, name: str = "train") -> tuple:
    """``(HostRows, labels tensor)`` from a memory-mapped array (or a .npy path) and labels."""
    if isinstance(X, (str, PurePath)):
        X = files.read_npy(X, what="X")
        where = str(X.filename) if isinstance(X, np.memmap) else name
    else:
        where = name
        if X.dtype.kind not in "biuf":
            raise DataError(f"{where}: X has dtype {X.dtype}; expected numbers (bool, int, uint or float)")
    if X.ndim < 2:
        raise DataError(f"{where}: X has shape {tuple(X.shape)}; expected one sample per row (N, ...)")
    labels = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y)
    if labels.shape[0] != len(X):
        raise DataError(f"{where}: X has {len(X)} rows but y has {labels.shape[0]}; they must match")
    if len(X) == 0:
        raise DataError(f"{where}: no samples")
    return HostRows(X, name=where), labels.float() if labels.dtype == torch.float64 else labels


def load_npy_rows(*, path, labels, seed: int = 0, test_size=0.2, val_size=0.1, stratify: bool = True,
                  folds=None, fold: int = 0, shape=None) -> Splits:
    """The npy source (``data.files.npy``) without reading the inputs: the same checks and the
    same seeded split (``split_indices``, ``fold_split``), each split kept as the memory-mapped
    file and its indices."""
    X = files.read_npy(path, what="X")
    y = files.read_npy(labels, what="labels")
    name = str(Path(path))
    for p, what, a in ((Path(path), "X", X), (Path(labels), "labels", y)):
        if a.ndim == 0:
            raise DataError(f"{p}: {what} holds a single number; expected an array with one sample per row")
    if len(X) != len(y):
        raise DataError(f"{Path(labels)}: {len(y)} labels but {name} has {len(X)} samples; they must match")
    check_finite(X, f"{name}:")
    check_finite(y, f"{Path(labels)}:")
    y = np.array(y, dtype=np.float32 if np.issubdtype(y.dtype, np.floating) else np.int64)
    classes = np.issubdtype(y.dtype, np.integer)
    if classes:
        class_count({None: y}, name=name)
    tr, va, te = split_indices(y, test_size=test_size, val_size=0 if folds is not None else val_size,
                               seed=seed, stratify=stratify, name=name)
    if folds is not None:
        tr, va = fold_split(y, tr, folds=folds, fold=fold, seed=seed, stratify=stratify, name=name)
    sample = tuple(X.shape[1:])
    if shape is not None:
        if math.prod(shape) != math.prod(sample):
            raise DataError(f"{name}: shape = {list(shape)} has {math.prod(shape)} values but each "
                            f"sample has {math.prod(sample)} ({list(sample)})")
        sample = tuple(shape)
    whole = va is None and te is None
    pairs = {split: None if idx is None else
             (HostRows(X, None if whole else idx, sample_shape=sample, name=f"{name} ({split})", checked=True),
              torch.from_numpy(y if whole else y[idx]))
             for split, idx in (("train", tr), ("val", va), ("test", te))}
    labels_of = {split: pair[1] for split, pair in pairs.items() if pair is not None}
    num_classes = class_count(labels_of, name=name) if classes else None
    return Splits(pairs["train"], pairs["val"], pairs["test"], num_classes=num_classes,
                  input_shape=sample, meta={"source": "npy"})


def free_memory(device: torch.device) -> int:
    """Bytes free on ``device``: CUDA's free memory, or the host's available memory."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def place(splits: Splits, stream, device: torch.device) -> Splits:
    """The splits as the run uses them: streamed (every split's inputs as ``HostRows``) or in
    memory (tensors). ``stream``: true streams any inputs (an in-memory source's arrays stay in
    host RAM); false reads memory-mapped inputs into memory; "auto" streams memory-mapped
    inputs when they would take more than ``AUTO_STREAM_SHARE`` of the device's free memory,
    and in-memory inputs when the device is a GPU they would not fit."""
    if check_stream(stream):
        raise ConfigError(f"stream = {stream!r}: {check_stream(stream)}")
    names = [n for n in ("train", "val", "test") if getattr(splits, n) is not None]
    hosted = any(isinstance(getattr(splits, n)[0], HostRows) for n in names)
    if stream == "auto":
        size = sum(_nbytes(getattr(splits, n)[0]) for n in names)
        too_big = size > AUTO_STREAM_SHARE * free_memory(device)
        stream = too_big and (hosted or device.type == "cuda")
    for n in names:
        X, y = getattr(splits, n)
        if stream and not isinstance(X, HostRows):
            array = X.detach().cpu().numpy() if X.dtype != torch.bfloat16 else X.detach().cpu().float().numpy()
            X = HostRows(array, name=n)
        elif not stream and isinstance(X, HostRows):
            X, y = as_pair(X.materialize(), y, name=X.name)
        setattr(splits, n, (X, y))
    return splits


def _nbytes(X) -> int:
    return X.nbytes if isinstance(X, HostRows) else X.numel() * input_dtype(X.dtype).itemsize


# -------------------------------------------------------------------- batches
class StreamBatches:
    """Seeded, resumable mini-batches of streamed rows ``X`` (``HostRows``) and labels ``y``.

    The order and the checkpointed state are those of ``Batches`` with the same options. Rows
    are gathered on the host (a thread prefetches the next batch when ``prefetch``), pinned and
    copied without blocking when the device is a GPU. ``rank``/``world``: this process's shard of
    each global batch of ``batch_size * world`` rows (DDP).
    """

    def __init__(self, X: HostRows, y: torch.Tensor, *, batch_size: int, shuffle: bool = True,
                 replacement: bool = False, drop_last: bool = False, seed: int = 0, rank: int = 0,
                 world: int = 1, prefetch: bool = True):
        if not 0 <= rank < world:
            raise ValueError(f"rank {rank} is outside 0..{world - 1} (world size {world})")
        self.X, self.y = X, y
        self.n = len(X)
        self.batch_size = max(1, min(batch_size, self.n // world))
        self.shuffle, self.replacement, self.drop_last = shuffle, replacement, drop_last
        self.rank, self.world = rank, world
        self.generator = torch.Generator().manual_seed(seed)
        self.order: torch.Tensor | None = None   # this epoch's indices (CPU)
        self.position = 0                        # index of the next batch in this epoch
        self.labels = y.detach().cpu().numpy()
        self.pin = X.is_cuda                     # pinned memory only when copying to a GPU
        self.prefetcher = ThreadPoolExecutor(1, thread_name_prefix="trainwell-prefetch") if prefetch else None
        self.copy_stream = torch.cuda.Stream(X.device) if X.is_cuda else None

    def __len__(self) -> int:
        return global_steps(self.n, batch_size=self.batch_size, world=self.world, drop_last=self.drop_last)

    def new_epoch(self) -> None:
        self.order = draw_order(self.n, self.generator, shuffle=self.shuffle, replacement=self.replacement)
        self.position = 0

    def host_batch(self, step: int) -> tuple:
        """Step ``step``'s rows and labels on the host (pinned when the device is a GPU)."""
        positions = shard_indices(self.order, step, batch_size=self.batch_size, rank=self.rank,
                                  world=self.world).numpy()
        shape = (len(positions), *self.X.sample_shape)
        xb = torch.empty(shape, dtype=torch_dtype(self.X.host_dtype), pin_memory=self.pin)
        self.X.gather(positions, out=xb.numpy())
        yb = torch.from_numpy(self.labels[positions])
        return xb, (yb.pin_memory() if self.pin else yb)

    def to_device(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple:
        if self.copy_stream is None:
            return self.X.to_device(xb), yb.to(self.y.device)
        current = torch.cuda.current_stream(self.X.device)
        self.copy_stream.wait_stream(current)
        with torch.cuda.stream(self.copy_stream):
            xd = xb.to(self.X.device, non_blocking=True)
            yd = yb.to(self.X.device, non_blocking=True)
        current.wait_stream(self.copy_stream)
        xd.record_stream(current)          # freed only after the work queued on the compute stream
        yd.record_stream(current)
        return self.X.to_device(xd), yd

    def __iter__(self):
        """Yield the remaining batches of the current epoch (starting one if none is open)."""
        if self.order is None or self.position >= len(self):
            self.new_epoch()
        steps = len(self)
        pending = self._start(self.position)
        while self.position < steps:
            host = pending.result() if self.prefetcher is not None else pending
            self.position += 1
            if self.position < steps:
                pending = self._start(self.position)
            yield self.to_device(*host)
        self.order = None

    def _start(self, step: int):
        if self.prefetcher is None:
            return self.host_batch(step)
        return self.prefetcher.submit(self.host_batch, step)

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state(),
                "order": self.order.clone() if self.order is not None else None,
                "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        order = state["order"]
        self.order = order.cpu() if order is not None else None
        self.position = int(state["position"])
