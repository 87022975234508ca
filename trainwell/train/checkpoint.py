"""Safe checkpoints: every tensor in one safetensors file, the rest of the state in one JSON manifest.

A checkpoint named ``ckpt-00000412`` in ``directory`` is two files:

    ckpt-00000412.3f9a0c1d2e4b5a6f.safetensors   every tensor, keyed by its path in the state
    ckpt-00000412.json                           the manifest: the state's structure, with
                                                 placeholders for tensors, and both checksums

The manifest is written last and is the commit marker: a checkpoint exists when its manifest
does. Both files are written to a new temporary file (``rundir.write_new_temp``), fsynced, renamed
into place with ``os.replace`` and the directory fsynced, so a crash at any moment (``kill -9``, power loss) leaves either the
previous checkpoints or a complete new one (inside ``rundir.unsynced()`` there is no fsync: a
killed process still leaves one or the other, a power cut may not). Nothing is ever unpickled (docs/checkpoints.md).

One process writes to a directory at a time (rank 0 under DDP): a save removes the temporary and
unreferenced files that an earlier, interrupted save left behind.
"""
from __future__ import annotations

import datetime
import functools
import hashlib
import json
import math
import os
import re
import struct
import warnings
from collections import OrderedDict
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import load_file, save, save_file

from trainwell.errors import CheckpointError, ConfigError
from trainwell.train.rundir import fsync_directory, fsync_file, new_temp, write_new_temp

FORMAT = "trainwell-checkpoint"
VERSION = 2                                   # bump when the manifest's meaning changes
# Versions read: 1 checksummed the body with its keys sorted, so the file needed a second encoding
READ_VERSIONS = (1, 2)
NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]+")  # no dots: the first dot ends the name in file names
DEFAULT_PREFIX = "ckpt-"
PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt")
_TENSOR_FILE = re.compile(r"([A-Za-z0-9_-]+)\.[0-9a-f]{16}\.safetensors")
_TEMP_FILE = re.compile(r"\.[A-Za-z0-9_-]+\.[A-Za-z0-9_]+\.(safetensors|json)\.tmp")
_CHUNK = 1 << 20
# Tensors up to this size are serialized in memory, hashed there and written with one open (for a
# small model ~0.5 ms less than writing the file and reading it back to hash it); larger ones are
# written by safetensors and read back, so a checkpoint never holds a second copy of a large state.
IN_MEMORY_BYTES = 64 << 20


# ---------------------------------------------------------------------------------- public API
def save_checkpoint(directory, state: dict, *, name: str | None = None, keep: int = 2) -> Path:
    """Writes ``state`` as checkpoint ``name`` in ``directory``; returns the manifest's path.

    ``state`` is a dict of tensors (any device), dicts (str or int keys), lists, tuples, str, int,
    float (nan/inf too), bool and None. ``name`` must sort by recency among the directory's names
    (digits compare as numbers); default ``ckpt-<n>`` with n one more than the largest such n
    there. After the new checkpoint is complete, all others but the ``keep - 1`` newest are
    deleted; the new one is always kept. Saving an existing name replaces it atomically.
    """
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ConfigError(f"keep = {keep!r}: must be an integer >= 1 (checkpoints kept on disk, "
                          f"the new one included)")
    if name is not None and not (isinstance(name, str) and NAME_PATTERN.fullmatch(name)):
        raise ConfigError(f"checkpoint name {name!r}: use letters, digits, '-' and '_' only "
                          f"(e.g. 'ckpt-00000412')")
    if not isinstance(state, dict):
        raise CheckpointError(f"cannot checkpoint a {type(state).__name__}: the state must be a dict")
    tensors: dict[str, torch.Tensor] = {}
    tree = _encode(state, (), tensors)        # raises on unsupported values, before any write
    directory = Path(directory)
    created = _make_directory(directory)
    name = name if name is not None else _next_name(directory)
    manifest = directory / f"{name}.json"

    temps: list[Path] = []
    try:
        # 1. tensors: temp file -> fsync -> rename to a name carrying its hash -> fsync directory.
        #    A different hash gets a different file, so the previous manifest of the same name
        #    still points at intact tensors until step 2 commits.
        metadata = {"format": FORMAT, "version": str(VERSION)}
        if sum(t.nbytes for t in tensors.values()) <= IN_MEMORY_BYTES:
            data = save(tensors, metadata=metadata)    # hashed as serialized, written with one open
            digest, size = hashlib.sha256(data).hexdigest(), len(data)
            tensor_temp = _temp_with(directory, name, ".safetensors", data, temps)
        else:                                          # no second copy in memory: written, read back
            tensor_temp = _temp_path(directory, name, ".safetensors", temps)
            save_file(tensors, str(tensor_temp), metadata=metadata)
            digest, size = _hash_and_fsync(tensor_temp)
        tensor_file = directory / f"{name}.{digest[:16]}.safetensors"
        os.replace(tensor_temp, tensor_file)
        fsync_directory(directory)
        # 2. the manifest, the commit marker: same protocol; after this rename the checkpoint exists
        body = {"name": name,
                "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "torch": torch.__version__,
                "tensors": {"file": tensor_file.name, "sha256": digest, "bytes": size,
                            "count": len(tensors)},
                "state": tree}
        manifest_temp = _temp_with(directory, name, ".json", _manifest_text(body), temps)
        os.replace(manifest_temp, manifest)
        fsync_directory(directory)
    finally:
        for temp in temps:
            if os.path.lexists(temp):
                os.unlink(temp)

    # 3. housekeeping, only once the new checkpoint is complete: prune manifests first, then the
    #    tensor files no manifest references (so a crash here leaves files, never a dangling manifest).
    #    A directory this save created holds its two files alone: nothing to list or prune.
    if created:
        return manifest
    others = [m for m in list_checkpoints(directory) if m != manifest]
    for old in others[keep - 1:]:
        os.unlink(old)
    fsync_directory(directory)
    _remove_leftovers(directory, kept=others[:keep - 1], written={manifest.stem: tensor_file.name})
    return manifest


def load_checkpoint(path_or_name, *, map_location=None) -> dict:
    """Verifies and rebuilds a checkpoint: its manifest path, its name with directory
    (``runs/a/checkpoints/ckpt-00000412``) or its tensor file. Tensors come back on CPU, or on
    ``map_location`` (a device or device string) when given."""
    manifest = _manifest_path(Path(path_or_name))
    body = _read_manifest(manifest)
    info = body["tensors"]
    tensor_file = manifest.parent / info["file"]
    where = f"checkpoint {manifest} (tensor file {tensor_file.name})"
    try:
        data = tensor_file.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{where}: the tensor file is missing") from None
    except OSError as e:
        raise CheckpointError(f"{where}: cannot read the tensor file ({e.strerror})") from None
    if len(data) != info["bytes"]:
        problem = "truncated" if len(data) < info["bytes"] else "longer than written"
        raise CheckpointError(f"{where}: the tensor file is {problem} "
                              f"({len(data)} bytes, the manifest says {info['bytes']})")
    digest = hashlib.sha256(data).hexdigest()
    if digest != info["sha256"]:
        raise CheckpointError(f"{where}: SHA-256 checksum mismatch (file has {digest[:16]}..., "
                              f"manifest says {info['sha256'][:16]}...): the tensor file is corrupted")
    try:
        tensors = load_safetensors_bytes(data)
    except SafetensorError as e:
        raise CheckpointError(f"{where}: not a readable safetensors file ({e})") from None
    if len(tensors) != info["count"]:
        raise CheckpointError(f"{where}: holds {len(tensors)} tensors, the manifest says {info['count']}")
    if map_location is not None:
        tensors = {k: v.to(map_location) for k, v in tensors.items()}
    try:
        return _decode(body["state"], tensors, ())
    except (KeyError, TypeError, ValueError, IndexError, struct.error) as e:
        raise CheckpointError(f"{where}: the manifest does not match the tensors or is malformed "
                              f"({type(e).__name__}: {e})") from None


def load_latest(directory, *, map_location=None) -> tuple[Path, dict] | None:
    """The newest checkpoint in ``directory`` that verifies, as ``(manifest path, state)``.
    Checkpoints that do not verify are skipped with a warning naming the file and the reason;
    None when the directory holds no good checkpoint (or does not exist)."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise CheckpointError(f"{directory} is a file, not a checkpoint directory")
    for manifest in list_checkpoints(directory):
        try:
            return manifest, load_checkpoint(manifest, map_location=map_location)
        except CheckpointError as e:
            warnings.warn(f"skipping a checkpoint that does not verify: {e}; "
                          f"falling back to the previous one", stacklevel=2)
    return None


def list_checkpoints(directory) -> list[Path]:
    """Manifests of the committed checkpoints in ``directory``, newest first (by name; digit runs
    compare as numbers, so ``ckpt-10`` is newer than ``ckpt-9``). Temporary and orphaned tensor
    files from an interrupted save are never listed."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir()
             if p.suffix == ".json" and NAME_PATTERN.fullmatch(p.stem) and p.is_file()]
    return sorted(found, key=lambda p: (_natural_key(p.stem), p.stem), reverse=True)


class Checkpointer:
    """A run's checkpoint directory: one checkpoint per save, named by its step, ``keep`` kept."""

    def __init__(self, directory, *, keep: int):
        self.directory, self.keep = Path(directory), keep

    def save(self, state: dict, step: int) -> Path:
        return save_checkpoint(self.directory, state, name=f"{DEFAULT_PREFIX}{step:010d}", keep=self.keep)

    def latest(self) -> tuple[Path, dict] | None:
        """The newest checkpoint that verifies (see ``load_latest``), or None."""
        return load_latest(self.directory)


def read_tensors(path) -> dict[str, torch.Tensor]:
    """Tensors from a user-supplied safetensors file (e.g. pretrained weights), on CPU.
    Files that would need unpickling (``torch.save`` output, pickles) are refused."""
    path = Path(path)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise CheckpointError(_pickle_refusal(path, f"its name ends in {path.suffix} "
                                                    f"(PyTorch's pickle-based torch.save format)"))
    try:
        with open(path, "rb") as f:
            head = f.read(9)
            size = os.fstat(f.fileno()).st_size
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read it ({e.strerror})") from None
    # a safetensors file: 8-byte little-endian header length, then a JSON header starting with "{"
    looks_safetensors = (len(head) == 9 and head[8:9] == b"{"
                         and 8 + int.from_bytes(head[:8], "little") <= size)
    if not looks_safetensors:
        if head[:4] == b"PK\x03\x04":
            raise CheckpointError(_pickle_refusal(path, "it is a zip archive (the torch.save format)"))
        if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
            raise CheckpointError(_pickle_refusal(path, "it starts with the pickle protocol opcode"))
        raise CheckpointError(f"{path}: not a safetensors file (trainwell reads tensors only from "
                              f"safetensors files: an 8-byte header length, then a JSON header)")
    try:
        return load_file(str(path), device="cpu")
    except SafetensorError as e:
        raise CheckpointError(f"{path}: not a valid safetensors file ({e})") from None


# ------------------------------------------------------------------- state <-> JSON + tensors
# JSON nodes: null/true/false, ints, finite floats and strings stand for themselves; every
# container is an object whose key is its type tag, so int dict keys and tuples come back exactly:
#   {"dict": {"k": node}}                 dict with str keys only
#   {"items": [[key, node], ...]}         dict with any other scalar keys (torch optimizer state)
#     + "ordered": true                   it was an OrderedDict (module.state_dict())
#     + "metadata": node                  its ``_metadata`` (module versions, read by load_state_dict)
#   {"list": [...]}, {"tuple": [...]}
#   {"float": "7ff8000000000000"}         a non-finite float, its IEEE-754 bits (nan payload kept)
#   {"tensor": key, "dtype": "float32", "shape": [3, 4]}   a tensor in the safetensors file
_SCALARS = "tensors, dicts, lists, tuples, str, int, float, bool and None"


# Values of exactly these types stand for themselves in the manifest (a float when finite)
_PLAIN_TYPES = frozenset((str, int, bool, type(None)))


def _plain(value) -> bool:
    kind = type(value)
    return kind in _PLAIN_TYPES or (kind is float and math.isfinite(value))


def _encode(value, path: tuple, tensors: dict):
    kind = type(value)
    # a plain dict or list of plain scalars, such as an epoch of the history: itself, with its tag
    if kind is dict and all(type(k) is str and _plain(v) for k, v in value.items()):
        return {"dict": dict(value)}
    if kind is list and all(_plain(v) for v in value):
        return {"list": list(value)}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {"float": struct.pack(">d", value).hex()}
    if isinstance(value, torch.Tensor):
        return _encode_tensor(value, path, tensors)
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            node = {"dict": {str(k): _encode(v, path + (k,), tensors) for k, v in value.items()}}
        else:
            node = {"items": [[_encode_key(k, path), _encode(v, path + (k,), tensors)]
                              for k, v in value.items()]}
        if isinstance(value, OrderedDict):
            node["ordered"] = True
        metadata = getattr(value, "_metadata", None)
        if metadata is not None:
            node["metadata"] = _encode(metadata, path + ("_metadata",), tensors)
        return node
    if isinstance(value, (list, tuple)):
        tag = "tuple" if isinstance(value, tuple) else "list"
        return {tag: [_encode(v, path + (i,), tensors) for i, v in enumerate(value)]}
    raise CheckpointError(f"cannot checkpoint {_show(path)}: a {type(value).__name__}; "
                          f"checkpoints hold {_SCALARS}")


def _encode_key(key, path: tuple):
    if key is None or isinstance(key, (bool, int, float, str)):
        return _encode(key, path, {})
    raise CheckpointError(f"cannot checkpoint {_show(path)}: it has a {type(key).__name__} key "
                          f"{key!r}; dict keys must be str, int, float, bool or None")


def _encode_tensor(tensor: torch.Tensor, path: tuple, tensors: dict) -> dict:
    if tensor.layout != torch.strided:
        raise CheckpointError(f"cannot checkpoint {_show(path)}: a {tensor.layout} tensor; "
                              f"only dense tensors can be saved (call .to_dense() first)")
    if not _dtype_supported(tensor.dtype):
        raise CheckpointError(f"cannot checkpoint {_show(path)}: safetensors cannot store "
                              f"dtype {tensor.dtype}")
    base = "/".join(str(p) for p in path) or "state"
    key, n = base, 1
    while key in tensors or key == "__metadata__":   # e.g. keys 0 and "0" in one dict
        n += 1
        key = f"{base}#{n}"
    # a contiguous CPU copy of its own: safetensors refuses views and shared storage (tied weights)
    tensors[key] = tensor.detach().to(device="cpu", memory_format=torch.contiguous_format, copy=True)
    return {"tensor": key, "dtype": str(tensor.dtype).removeprefix("torch."),
            "shape": list(tensor.shape)}


@functools.lru_cache(maxsize=None)
def _dtype_supported(dtype: torch.dtype) -> bool:
    try:
        save({"x": torch.zeros(0, dtype=dtype)})
    except (KeyError, ValueError, TypeError, RuntimeError, SafetensorError):
        return False
    return True


def _decode(node, tensors: dict, path: tuple):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if "tensor" in node:
        tensor = tensors.get(node["tensor"])
        if tensor is None:
            raise ValueError(f"tensor {node['tensor']!r} ({_show(path)}) is not in the tensor file")
        if str(tensor.dtype).removeprefix("torch.") != node["dtype"] or list(tensor.shape) != node["shape"]:
            raise ValueError(f"tensor {node['tensor']!r} is {tensor.dtype} {list(tensor.shape)}, "
                             f"the manifest says {node['dtype']} {node['shape']}")
        return tensor
    if "float" in node:
        return struct.unpack(">d", bytes.fromhex(node["float"]))[0]
    if "list" in node:
        return [_decode(v, tensors, path + (i,)) for i, v in enumerate(node["list"])]
    if "tuple" in node:
        return tuple(_decode(v, tensors, path + (i,)) for i, v in enumerate(node["tuple"]))
    if "dict" in node or "items" in node:
        items = node["dict"].items() if "dict" in node else [(_decode(k, {}, path), v)
                                                             for k, v in node["items"]]
        pairs = [(k, _decode(v, tensors, path + (k,))) for k, v in items]
        out = OrderedDict(pairs) if node.get("ordered") or "metadata" in node else dict(pairs)
        if "metadata" in node:
            out._metadata = _decode(node["metadata"], tensors, path + ("_metadata",))
        return out
    raise ValueError(f"unknown node {sorted(node)} at {_show(path)}")


def _show(path: tuple) -> str:
    return "state" + "".join(f"[{p!r}]" for p in path)


# ------------------------------------------------------------------------------ manifest files
def _canonical(body: dict, version: int = VERSION) -> str:
    """The manifest body as its checksum covers it: compact ASCII JSON, its keys in their order
    (version 1: sorted). Parsing it and encoding it again gives the same text (json keeps an
    object's key order, and a float's repr reads back as the same float)."""
    return json.dumps(body, sort_keys=version == 1, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def _body_sha256(body: dict, version: int = VERSION) -> str:
    """Checksum of the manifest body in its canonical form, so it does not depend on the file's
    layout."""
    return hashlib.sha256(_canonical(body, version).encode("ascii")).hexdigest()


def _manifest_text(body: dict) -> bytes:
    """The manifest file: one top-level key a line, the body in its canonical form, encoded once
    for the file and its checksum both (version 1 encoded it twice: ~0.15 ms of a small run's
    end checkpoint)."""
    canonical = _canonical(body)
    digest = hashlib.sha256(canonical.encode("ascii")).hexdigest()
    return (f'{{\n  "format": {json.dumps(FORMAT)},\n  "version": {VERSION},\n  "body_sha256": "{digest}",\n'
            f'  "body": {canonical}\n}}\n').encode("ascii")


def _manifest_path(path: Path) -> Path:
    if path.is_dir():
        raise CheckpointError(f"{path} is a directory; use load_latest({str(path)!r}) or name a "
                              f"checkpoint in it")
    if path.suffix == ".json":
        return path
    if path.name.endswith(".safetensors"):
        return path.with_name(path.name.split(".")[0] + ".json")
    return path.with_name(path.name + ".json")


def _read_manifest(manifest: Path) -> dict:
    try:
        text = manifest.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {manifest}: no such manifest file") from None
    except OSError as e:
        raise CheckpointError(f"checkpoint {manifest}: cannot read the manifest ({e.strerror})") from None
    except UnicodeDecodeError:
        raise CheckpointError(f"checkpoint {manifest}: the manifest is not UTF-8 text (corrupted)") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        raise CheckpointError(f"checkpoint {manifest}: the manifest is truncated or not valid JSON "
                              f"({e.msg} at line {e.lineno}, column {e.colno})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {manifest}: not a trainwell checkpoint manifest "
                              f"(no \"format\": \"{FORMAT}\")")
    version = document.get("version")
    if isinstance(version, bool) or version not in READ_VERSIONS:
        raise CheckpointError(f"checkpoint {manifest}: unknown format version "
                              f"{version!r} (this trainwell reads versions "
                              f"{', '.join(map(str, READ_VERSIONS))}; was it written by a newer trainwell?)")
    body = document.get("body")
    if not isinstance(body, dict) or _body_sha256(body, version) != document.get("body_sha256"):
        raise CheckpointError(f"checkpoint {manifest}: the manifest's checksum does not match its "
                              f"body: the file was changed or corrupted")
    tensors = body.get("tensors")
    if ("state" not in body or not isinstance(tensors, dict)
            or not {"file", "sha256", "bytes", "count"} <= set(tensors)
            or not _TENSOR_FILE.fullmatch(str(tensors["file"]))):
        raise CheckpointError(f"checkpoint {manifest}: the manifest lacks \"state\" or a valid "
                              f"\"tensors\" entry (file, sha256, bytes, count)")
    return body


def _referenced_tensor_file(manifest: Path) -> str | None:
    """The tensor file a manifest names, without verifying; None when it cannot be parsed."""
    try:
        return json.loads(manifest.read_text(encoding="utf-8"))["body"]["tensors"]["file"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _next_name(directory: Path) -> str:
    numbers = [int(m.stem[len(DEFAULT_PREFIX):]) for m in list_checkpoints(directory)
               if m.stem.startswith(DEFAULT_PREFIX) and m.stem[len(DEFAULT_PREFIX):].isdigit()]
    return f"{DEFAULT_PREFIX}{max(numbers, default=-1) + 1:08d}"


def _natural_key(name: str) -> list:
    return [int(part) if i % 2 else part for i, part in enumerate(re.split(r"(\d+)", name))]


# --------------------------------------------------------------------------- durable file ops
def _make_directory(directory: Path) -> bool:
    """Creates ``directory`` (and its parents); True when this call created it, so that it holds
    nothing but what this process writes next (a search trial's end checkpoint: its two listings
    and the pruning they serve, ~0.05 ms, are skipped; BENCHMARKS.md, "per-trial cost, eleventh
    pass"). An existing directory: False; a file in the way: FileExistsError, as ``mkdir``."""
    try:
        directory.mkdir()
    except FileNotFoundError:            # a parent is missing: made first (another may make it too)
        directory.parent.mkdir(parents=True, exist_ok=True)
        return _make_directory(directory)
    except FileExistsError:
        if not directory.is_dir():
            raise
        return False
    return True


def _temp_path(directory: Path, name: str, suffix: str, temps: list) -> Path:
    temp = new_temp(directory, prefix=f".{name}.", suffix=f"{suffix}.tmp")
    temps.append(temp)
    return temp


def _temp_with(directory: Path, name: str, suffix: str, data: bytes, temps: list) -> Path:
    temp = write_new_temp(directory, prefix=f".{name}.", suffix=f"{suffix}.tmp", data=data)
    temps.append(temp)
    return temp


def _hash_and_fsync(path: Path) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    with open(path, "r+b") as f:
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
        fsync_file(f.fileno())
    return sha.hexdigest(), size


def _remove_leftovers(directory: Path, *, kept: list[Path], written: dict[str, str]) -> None:
    """Deletes what interrupted saves and pruning left: temp files and tensor files that no
    manifest references. ``kept``: the other manifests in ``directory``, read here; ``written``:
    the tensor file of each manifest this process has just written, by name (not read back).
    Files of a manifest that cannot be parsed are left for inspection."""
    referenced, unreadable = set(written.values()), set()
    for manifest in kept:
        file = _referenced_tensor_file(manifest)
        if file is None:
            unreadable.add(manifest.stem)
        else:
            referenced.add(file)
    removed = False
    for path in directory.iterdir():
        tensor_file = _TENSOR_FILE.fullmatch(path.name)
        orphan = (tensor_file is not None and path.name not in referenced
                  and tensor_file.group(1) not in unreadable)
        if orphan or _TEMP_FILE.fullmatch(path.name):
            os.unlink(path)
            removed = True
    if removed:
        fsync_directory(directory)


def _pickle_refusal(path: Path, why: str) -> str:
    target = path.with_suffix(".safetensors")
    return (f"{path}: {why}, so reading it would need unpickling, which trainwell refuses for "
            f"security (unpickling can run code hidden in the file). Convert it once, in an "
            f"environment you trust: load it yourself with torch.load(..., weights_only=True) and "
            f"save the tensors with safetensors.torch.save_file, e.g. "
            f"save_file(torch.load({str(path)!r}, weights_only=True), {str(target)!r}) "
            f"(save_file takes a flat dict of name -> tensor: take checkpoint['state_dict'] first "
            f"if it holds more, and .clone() tensors that share memory)")
