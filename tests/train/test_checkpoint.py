import hashlib
import json
import math
import os
import pickle
import struct
import warnings
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save, save_file
from torch import nn

from trainwell.errors import CheckpointError, ConfigError
from trainwell.train.checkpoint import (list_checkpoints, load_checkpoint, load_latest,
                                        read_tensors, save_checkpoint)

import save_kill_job  # beside this file: pytest puts the folder on sys.path


# ------------------------------------------------------------------------------------ helpers
def assert_identical(a, b, where="state"):
    """Same structure, same container types, same key order, bit-identical tensors and floats."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert a.device == b.device, where
        ab = a.detach().contiguous().reshape(-1).view(torch.uint8)
        bb = b.detach().contiguous().reshape(-1).view(torch.uint8)
        assert torch.equal(ab, bb), f"{where}: tensor bytes differ"
    elif isinstance(a, float):
        assert struct.pack(">d", a) == struct.pack(">d", b), f"{where}: {a!r} != {b!r}"
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        assert [type(k) for k in a] == [type(k) for k in b], f"{where}: key types differ"
        for k in a:
            assert_identical(a[k], b[k], f"{where}[{k!r}]")
        assert_identical(getattr(a, "_metadata", None), getattr(b, "_metadata", None),
                         f"{where}._metadata")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _model(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


def _step(model, opt, x, y):
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()


OPTIMIZERS = {
    "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4),
    "adam": lambda p: torch.optim.Adam(p, lr=1e-2, betas=(0.8, 0.95), weight_decay=1e-3),
}


def _state(step=412, loss=0.5):
    return {"counters": {"epoch": 3, "step": step}, "history": [{"loss": loss}],
            "w": torch.arange(6.0).reshape(2, 3) * step}


# ------------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_model_and_optimizer_round_trip_and_resume_bit_identically(tmp_path, optimizer):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(16, 5, generator=g), torch.randint(0, 3, (16,), generator=g)
    model = _model(0)
    opt = OPTIMIZERS[optimizer](model.parameters())
    for _ in range(3):
        _step(model, opt, x, y)
    gen = torch.Generator().manual_seed(5)
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(),
             "schedule": {"step": 3, "base": 0.1},
             "rng": {"torch": torch.get_rng_state(), "batches": gen.get_state()},
             "counters": {"epoch": 3, "step": 412, "initial_loss": None},
             "history": [{"epoch": 1, "loss": 1.25, "acc": float("nan")},
                         {"epoch": 2, "loss": float("inf"), "acc": 0.1 + 0.2}],
             "extra": {"flag": True, "note": "résumé ✓"}}
    path = save_checkpoint(tmp_path, state, name="ckpt-00000412")
    loaded = load_checkpoint(path)
    assert_identical(state, loaded)
    assert 0 in loaded["optimizer"]["state"]                      # int keys stay ints
    assert isinstance(loaded["optimizer"]["param_groups"][0]["params"][0], int)
    if optimizer == "adam":
        assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.8, 0.95)
    assert isinstance(loaded["model"], OrderedDict) and loaded["model"]._metadata

    twin = _model(123)                                            # different weights before loading
    twin_opt = OPTIMIZERS[optimizer](twin.parameters())
    twin.load_state_dict(loaded["model"])
    twin_opt.load_state_dict(loaded["optimizer"])
    _step(model, opt, x, y)
    _step(twin, twin_opt, x, y)
    for (name, a), b in zip(model.state_dict().items(), twin.state_dict().values()):
        assert torch.equal(a, b), name


def test_rng_state_round_trip_reproduces_the_same_numbers(tmp_path):
    torch.manual_seed(11)
    torch.rand(7)
    gen = torch.Generator().manual_seed(3)
    torch.randperm(10, generator=gen)
    save_checkpoint(tmp_path, {"rng": {"torch": torch.get_rng_state(), "batches": gen.get_state()}})
    expected = (torch.rand(5), torch.randperm(20, generator=gen))
    torch.manual_seed(999)
    _, loaded = load_latest(tmp_path)
    torch.set_rng_state(loaded["rng"]["torch"])
    fresh = torch.Generator()
    fresh.set_state(loaded["rng"]["batches"])
    assert torch.equal(torch.rand(5), expected[0])
    assert torch.equal(torch.randperm(20, generator=fresh), expected[1])


def test_edge_values_come_back_exactly(tmp_path):
    odd_nan = struct.unpack(">d", bytes.fromhex("fff8000000000123"))[0]   # negative nan, payload
    base = torch.arange(12.0).reshape(3, 4)
    half_nan = torch.tensor([float("nan"), -0.0, float("inf")], dtype=torch.bfloat16)
    state = {
        "floats": [float("nan"), float("inf"), -float("inf"), -0.0, 5e-324, 1 / 3, 1e308, odd_nan],
        "ints": [0, -1, 2 ** 80, True, False, None],
        "mixed_keys": {1: "int", "1": "str", 2.5: "float", None: "none", False: "bool"},
        "nested": {"empty": {}, "list": [], "tuple": (), "tup": (1, (2.0, "x"), [None])},
        "text": "quote \" backslash \\ newline \n ünïcode \ud800",
        "views": {"t": base.t(), "row": base[1], "whole": base, "again": base},   # shared storage
        "dtypes": {str(dt): torch.tensor([1, 0, 1]).to(dt) for dt in
                   (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
                    torch.float16, torch.bfloat16, torch.float32, torch.float64)},
        "bf16_nan": half_nan, "scalar": torch.tensor(3.5), "empty": torch.empty(0, 4),
        0: {"0": torch.zeros(1), "a/b": torch.ones(1)}, "0": {0: torch.full((1,), 2.0)},
    }
    loaded = load_checkpoint(save_checkpoint(tmp_path, state))
    assert_identical(state, loaded)
    assert loaded["views"]["t"].is_contiguous()
    assert loaded["ints"][3] is True and type(loaded["ints"][0]) is int


def test_map_location_places_tensors_on_the_given_device(tmp_path):
    path = save_checkpoint(tmp_path, {"w": torch.ones(2, 2), "n": 3})
    assert load_checkpoint(path)["w"].device.type == "cpu"
    assert load_checkpoint(path, map_location="meta")["w"].device.type == "meta"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_tensors_saved_from_cuda_load_on_cpu(tmp_path):
    w = torch.randn(4, 4, device="cuda")
    loaded = load_checkpoint(save_checkpoint(tmp_path, {"w": w}))
    assert loaded["w"].device.type == "cpu" and torch.equal(loaded["w"], w.cpu())


def test_unsupported_values_are_refused_before_anything_is_written(tmp_path):
    target = tmp_path / "ckpts"
    with pytest.raises(CheckpointError, match=r"state\['extra'\]\['s'\]: a set"):
        save_checkpoint(target, {"extra": {"s": {1, 2}}, "w": torch.ones(1)})
    with pytest.raises(CheckpointError, match=r"tuple key"):
        save_checkpoint(target, {"extra": {(1, 2): 3}})
    with pytest.raises(CheckpointError, match="sparse_coo"):
        save_checkpoint(target, {"w": torch.eye(2).to_sparse()})
    assert not target.exists()
    with pytest.raises(ConfigError, match="keep = 0"):
        save_checkpoint(target, {}, keep=0)
    with pytest.raises(ConfigError, match="'../x'"):
        save_checkpoint(target, {}, name="../x")


def test_pickle_is_never_used(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")
    for attr in ("load", "loads", "Unpickler", "dump", "dumps", "Pickler"):
        monkeypatch.setattr(pickle, attr, refuse)
    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(torch, "save", refuse)
    model = _model(0)
    path = save_checkpoint(tmp_path, {"model": model.state_dict()})
    assert_identical(load_checkpoint(path)["model"], model.state_dict())
    save_file({"a": torch.ones(2)}, tmp_path / "w.safetensors")
    assert torch.equal(read_tensors(tmp_path / "w.safetensors")["a"], torch.ones(2))


# ----------------------------------------------------------------------------- the format
def test_manifest_is_json_with_placeholders_and_checksums(tmp_path):
    path = save_checkpoint(tmp_path, {"opt": {0: {"m": torch.ones(3)}}, "betas": (0.9, 0.999),
                                      "loss": float("nan")}, name="ckpt-7")
    doc = json.loads(path.read_text())
    assert doc["format"] == "trainwell-checkpoint" and doc["version"] == 2
    body = doc["body"]
    tensor_file = tmp_path / body["tensors"]["file"]
    assert tensor_file.name.startswith("ckpt-7.") and tensor_file.suffix == ".safetensors"
    assert body["tensors"]["bytes"] == tensor_file.stat().st_size and body["tensors"]["count"] == 1
    assert body["tensors"]["sha256"] == hashlib.sha256(tensor_file.read_bytes()).hexdigest()
    state = body["state"]["dict"]
    assert state["opt"] == {"items": [[0, {"dict": {"m": {"tensor": "opt/0/m", "dtype": "float32",
                                                           "shape": [3]}}}]]}
    assert state["betas"] == {"tuple": [0.9, 0.999]}
    assert state["loss"] == {"float": "7ff8000000000000"}
    assert "NaN" not in path.read_text()           # strict JSON, readable by any parser


# ------------------------------------------------------------------------------- corruption
def _truncate(path, keep_fraction=0.5):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep_fraction)])


def _flip_last_byte(path):
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


def _edit_counter(path):
    doc = json.loads(path.read_text())
    doc["body"]["state"]["dict"]["counters"]["dict"]["step"] += 1   # valid JSON, wrong checksum
    path.write_text(json.dumps(doc))


def _bump_version(path):
    doc = json.loads(path.read_text())
    doc["version"] = 99
    path.write_text(json.dumps(doc))


def _retype_tensor_with_valid_checksum(path):
    doc = json.loads(path.read_text())
    doc["body"]["state"]["dict"]["w"]["dtype"] = "float64"
    canonical = json.dumps(doc["body"], separators=(",", ":"), ensure_ascii=True)   # version 2: keys in order
    doc["body_sha256"] = hashlib.sha256(canonical.encode()).hexdigest()
    path.write_text(json.dumps(doc))


CORRUPTIONS = {  # what to damage, how, and what the error must say
    "truncate_tensors": ("tensors", _truncate, "truncated"),
    "flip_tensor_byte": ("tensors", _flip_last_byte, "checksum mismatch"),
    "delete_tensors": ("tensors", os.unlink, "missing"),
    "truncate_manifest": ("manifest", _truncate, "truncated or not valid JSON"),
    "edit_manifest": ("manifest", _edit_counter, "checksum does not match"),
    "unknown_version": ("manifest", _bump_version, "unknown format version 99"),
    "manifest_disagrees": ("manifest", _retype_tensor_with_valid_checksum,
                           "does not match the tensors"),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_corruption_is_detected_and_load_latest_falls_back(tmp_path, corruption):
    target, damage, reason = CORRUPTIONS[corruption]
    good = save_checkpoint(tmp_path, _state(step=100), name="ckpt-00000100")
    bad = save_checkpoint(tmp_path, _state(step=200), name="ckpt-00000200")
    tensor_file = tmp_path / json.loads(bad.read_text())["body"]["tensors"]["file"]
    damaged = tensor_file if target == "tensors" else bad
    damage(damaged)
    with pytest.raises(CheckpointError, match=reason) as info:
        load_checkpoint(bad)
    assert damaged.name in str(info.value)
    with pytest.warns(UserWarning, match=damaged.name) as caught:
        found = load_latest(tmp_path)
    assert reason in str(caught[0].message)
    assert found is not None and found[0] == good
    assert_identical(found[1], _state(step=100))


def test_load_latest_returns_none_without_a_good_checkpoint(tmp_path):
    assert load_latest(tmp_path / "missing") is None
    assert load_latest(tmp_path) is None
    only = save_checkpoint(tmp_path, _state())
    _flip_last_byte(only)
    with pytest.warns(UserWarning, match=only.name):
        assert load_latest(tmp_path) is None


# ------------------------------------------------------------------------------------ crashes
def test_crash_between_the_two_writes_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    first = save_checkpoint(tmp_path, _state(step=1), name="ckpt-1")
    real_replace, calls = os.replace, []

    def replace_then_crash(src, dst):
        calls.append(dst)
        if len(calls) == 2:                         # the manifest's rename: the commit
            raise OSError("simulated crash before the manifest is committed")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_then_crash)
    with pytest.raises(OSError, match="simulated crash"):
        save_checkpoint(tmp_path, _state(step=2), name="ckpt-2")
    monkeypatch.undo()
    assert str(calls[0]).endswith(".safetensors")       # tensors were published first
    assert list_checkpoints(tmp_path) == [first]         # the orphan is not a checkpoint
    assert len(list(tmp_path.glob("ckpt-2.*.safetensors"))) == 1
    assert not list(tmp_path.glob(".*.tmp"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # nothing to skip: no partial checkpoint
        path, state = load_latest(tmp_path)
    assert path == first and state["counters"]["step"] == 1
    third = save_checkpoint(tmp_path, _state(step=3), name="ckpt-3")
    assert sorted(p.name.split(".")[0] for p in tmp_path.iterdir()) == ["ckpt-1", "ckpt-1",
                                                                       "ckpt-3", "ckpt-3"]
    assert load_latest(tmp_path)[0] == third


# where kill -9 lands -> the step that load_latest must find afterwards
KILL_POINTS = {"fsync1": 1,      # tensors written to a temp file, not yet fsynced
               "replace1": 1,    # tensors fsynced, not yet renamed
               "fsync2": 1,      # tensors renamed, directory not yet fsynced
               "fsync3": 1,      # manifest written to a temp file, not yet fsynced
               "replace2": 1,    # manifest fsynced, not yet renamed: the commit
               "fsync4": 2,      # manifest renamed (committed), directory not yet fsynced
               "unlink1": 2,     # pruning the old checkpoint's manifest
               "unlink2": 2}     # removing the old checkpoint's tensor file


def test_kill_9_at_any_point_leaves_a_loadable_checkpoint(tmp_path, forked):
    procs = {point: forked.Process(target=save_kill_job.main, args=(str(tmp_path / point), point))
             for point in KILL_POINTS}
    for proc in procs.values():
        proc.start()
    for point, proc in procs.items():
        proc.join(timeout=120)
        err = (tmp_path / f"{point}.err").read_text()
        assert proc.exitcode == -9, f"{point}: not killed (exit code {proc.exitcode}): {err}"
    for point, step in KILL_POINTS.items():
        directory = tmp_path / point
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            path, state = load_latest(directory)
        assert state["step"] == step, point
        assert path.name == f"ckpt-{step}.json"
        # the next save cleans up what the killed one left behind
        save_checkpoint(directory, {"step": 3}, name="ckpt-3", keep=1)
        assert sorted(p.name.split(".")[0] for p in directory.iterdir()) == ["ckpt-3", "ckpt-3"], point


# ------------------------------------------------------------------------- names and pruning
def test_keep_prunes_the_oldest_and_never_the_new_one(tmp_path):
    for step in (1, 2, 3, 4, 5):
        save_checkpoint(tmp_path, _state(step=step), name=f"ckpt-{step}", keep=2)
    assert [p.stem for p in list_checkpoints(tmp_path)] == ["ckpt-5", "ckpt-4"]
    assert len(list(tmp_path.glob("*.safetensors"))) == 2
    save_checkpoint(tmp_path, _state(step=6), name="ckpt-6", keep=1)
    assert [p.name.split(".")[0] for p in tmp_path.iterdir()] == ["ckpt-6", "ckpt-6"]
    # a name that sorts older than the others is still the one just written: it is kept
    save_checkpoint(tmp_path, _state(step=0), name="ckpt-0", keep=1)
    assert [p.stem for p in list_checkpoints(tmp_path)] == ["ckpt-0"]


def test_names_sort_numerically_and_default_names_count_up(tmp_path):
    save_checkpoint(tmp_path, _state(step=9), name="ckpt-9", keep=5)
    save_checkpoint(tmp_path, _state(step=10), name="ckpt-0000000010", keep=5)
    assert load_latest(tmp_path)[1]["counters"]["step"] == 10
    other = tmp_path / "auto"
    names = [save_checkpoint(other, _state(step=s), keep=5).stem for s in range(3)]
    assert names == ["ckpt-00000000", "ckpt-00000001", "ckpt-00000002"]
    assert load_latest(other)[1]["counters"]["step"] == 2


def test_saving_an_existing_name_replaces_it_atomically(tmp_path, monkeypatch):
    first = save_checkpoint(tmp_path, _state(step=7), name="ckpt-7")
    again = save_checkpoint(tmp_path, _state(step=8), name="ckpt-7")
    assert first == again and load_checkpoint(again)["counters"]["step"] == 8
    assert len(list(tmp_path.glob("ckpt-7.*.safetensors"))) == 1
    # a crash while replacing it leaves the old version intact (new tensors go to a new file)
    real_replace, calls = os.replace, []

    def replace_then_crash(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("simulated crash")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_then_crash)
    with pytest.raises(OSError):
        save_checkpoint(tmp_path, _state(step=9), name="ckpt-7")
    monkeypatch.undo()
    assert_identical(load_checkpoint(again), _state(step=8))


def test_a_checkpoint_loads_by_manifest_name_or_tensor_file(tmp_path):
    path = save_checkpoint(tmp_path, _state(step=5), name="ckpt-5")
    tensor_file = next(tmp_path.glob("ckpt-5.*.safetensors"))
    for ref in (path, str(path), tmp_path / "ckpt-5", tensor_file):
        assert load_checkpoint(ref)["counters"]["step"] == 5
    with pytest.raises(CheckpointError, match="no such manifest"):
        load_checkpoint(tmp_path / "ckpt-6")
    with pytest.raises(CheckpointError, match="is a directory"):
        load_checkpoint(tmp_path)


# ------------------------------------------------------------------------- refusing pickles
def test_read_tensors_reads_safetensors_exactly(tmp_path):
    tensors = {"w": torch.randn(3, 4), "i": torch.arange(5)}
    save_file(tensors, tmp_path / "w.safetensors")
    loaded = read_tensors(tmp_path / "w.safetensors")
    assert loaded.keys() == tensors.keys()
    for k in tensors:
        assert_identical(tensors[k], loaded[k])


def test_a_safetensors_header_that_starts_like_a_pickle_is_not_refused(tmp_path):
    for n in range(800):                          # header length 0x280 = bytes 80 02 ...
        data = save({"w": torch.ones(2)}, metadata={"pad": "x" * n})
        if data[:2] == b"\x80\x02":
            break
    assert data[:2] == b"\x80\x02"
    (tmp_path / "w.safetensors").write_bytes(data)
    assert torch.equal(read_tensors(tmp_path / "w.safetensors")["w"], torch.ones(2))


def _torch_save_zip(path):
    torch.save({"w": torch.ones(2)}, path)


def _torch_save_legacy(path):
    torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=False)


def _plain_pickle(path):
    path.write_bytes(pickle.dumps({"w": [1.0, 2.0]}, protocol=4))


@pytest.mark.parametrize("filename, write, why", [
    ("model.pt", _torch_save_zip, "ends in .pt"),
    ("model.pth", _torch_save_zip, "ends in .pth"),
    ("model.bin", _torch_save_zip, "ends in .bin"),
    ("model.ckpt", _torch_save_zip, "ends in .ckpt"),
    ("model.pkl", _plain_pickle, "ends in .pkl"),
    ("renamed.safetensors", _torch_save_zip, "zip archive"),
    ("renamed.weights", _torch_save_legacy, "pickle protocol opcode"),
    ("renamed.data", _plain_pickle, "pickle protocol opcode"),
])
def test_files_that_need_unpickling_are_refused(tmp_path, filename, write, why):
    path = tmp_path / filename
    write(path)
    with pytest.raises(CheckpointError) as info:
        read_tensors(path)
    message = str(info.value)
    assert filename in message and why in message
    assert "unpickling, which trainwell refuses for security" in message
    assert "torch.load(..., weights_only=True)" in message and "safetensors.torch.save_file" in message


def test_other_non_safetensors_files_are_refused(tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"hello, these are not tensors")
    with pytest.raises(CheckpointError, match="junk.safetensors: not a safetensors file"):
        read_tensors(junk)
    with pytest.raises(CheckpointError, match="no such file"):
        read_tensors(tmp_path / "absent.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(save({"w": torch.ones(100)})[:-8])
    with pytest.raises(CheckpointError, match="bad.safetensors: not a valid safetensors file"):
        read_tensors(bad)


def test_nan_and_inf_floats_survive_exactly(tmp_path):
    values = [float("nan"), float("inf"), float("-inf"), -0.0, math.pi, 2.0 ** -1074]
    loaded = load_checkpoint(save_checkpoint(tmp_path, {"v": values, "d": {"x": float("nan")}}))
    assert [struct.pack(">d", v) for v in loaded["v"]] == [struct.pack(">d", v) for v in values]
    assert math.isnan(loaded["d"]["x"])


def test_a_state_saved_in_memory_and_one_saved_through_a_file_hold_the_same(tmp_path, monkeypatch):
    """Small states are serialized in memory and hashed there; states over IN_MEMORY_BYTES are
    written by safetensors and read back to hash: both give the same safetensors header (as JSON:
    safetensors orders the metadata's keys as its hash map does, so the bytes may differ), the
    same tensor bytes, a manifest whose hash is the file's, and the same state loaded back."""
    from trainwell.train import checkpoint

    def parts(manifest):
        body = json.loads(manifest.read_text())["body"]
        data = (manifest.parent / body["tensors"]["file"]).read_bytes()
        size = int.from_bytes(data[:8], "little")
        assert hashlib.sha256(data).hexdigest() == body["tensors"]["sha256"] and len(data) == body["tensors"]["bytes"]
        return json.loads(data[8:8 + size]), data[8 + size:]

    state = _state(step=7)
    small = save_checkpoint(tmp_path / "memory", state, name="ckpt-7")
    monkeypatch.setattr(checkpoint, "IN_MEMORY_BYTES", 0)
    large = save_checkpoint(tmp_path / "file", state, name="ckpt-7")
    assert parts(small) == parts(large)
    for manifest in (small, large):
        loaded = load_checkpoint(manifest)
        assert torch.equal(loaded["w"], state["w"]) and loaded["counters"] == state["counters"]
        assert len(list(manifest.parent.iterdir())) == 2          # no temp file left


def test_a_save_reads_back_only_the_manifests_it_did_not_just_write(tmp_path, monkeypatch):
    """The housekeeping knows the new manifest's tensor file: it reads only the older manifests
    it keeps (to spare their tensor files), and still removes an orphaned tensor file."""
    from trainwell.train import checkpoint

    read = []
    real = checkpoint._referenced_tensor_file
    monkeypatch.setattr(checkpoint, "_referenced_tensor_file", lambda m: read.append(m.name) or real(m))
    save_checkpoint(tmp_path, {"w": torch.ones(2)}, name="ckpt-1", keep=2)
    assert read == []
    orphan = tmp_path / "ckpt-0.0123456789abcdef.safetensors"
    orphan.write_bytes(b"left by a killed save")
    save_checkpoint(tmp_path, {"w": torch.zeros(2)}, name="ckpt-2", keep=2)
    assert read == ["ckpt-1.json"] and not orphan.exists()
    save_checkpoint(tmp_path, {"w": torch.full((2,), 3.0)}, name="ckpt-3", keep=2)
    assert read == ["ckpt-1.json", "ckpt-2.json"]
    assert [m.name for m in list_checkpoints(tmp_path)] == ["ckpt-3.json", "ckpt-2.json"]
    assert len(list(tmp_path.glob("*.safetensors"))) == 2
    assert torch.equal(load_checkpoint(tmp_path / "ckpt-2")["w"], torch.zeros(2))


class _Count(int):
    pass


def test_plain_containers_are_encoded_as_the_general_rule_encodes_them(tmp_path):
    """Dicts and lists of plain scalars take a short path; what the general rule treats apart
    (non-finite floats, subclasses, non-str keys, OrderedDicts) still comes back exactly."""
    from trainwell.train.checkpoint import _encode

    plain = {"epoch": 3, "loss": 0.25, "name": "a", "done": False, "note": None}
    assert _encode(plain, (), {}) == {"dict": plain}
    assert _encode([1, 2.5, "x", None, True], (), {}) == {"list": [1, 2.5, "x", None, True]}
    assert _encode({"loss": float("inf")}, (), {}) == {"dict": {"loss": {"float": "7ff0000000000000"}}}
    assert _encode([float("nan")], (), {}) == {"list": [{"float": "7ff8000000000000"}]}
    state = {"flat": {"a": float("-inf"), "b": 1.0}, "counts": [_Count(2)], "keys": {1: 2.0},
             "ordered": OrderedDict(a=1), "bools": [True, 0]}
    loaded = load_checkpoint(save_checkpoint(tmp_path, state, name="ckpt-1"))
    assert_identical(loaded, {**state, "counts": [2]})


def test_the_manifest_body_is_encoded_once_for_the_file_and_its_checksum(tmp_path, monkeypatch):
    """Version 2: the file's body is its canonical text (compact, keys in their order), so one
    encoding serves both and the checksum is of exactly the bytes written."""
    from trainwell.train import checkpoint

    encoded = []
    real = checkpoint._canonical
    monkeypatch.setattr(checkpoint, "_canonical", lambda *a: encoded.append(a) or real(*a))
    state = {"w": torch.ones(2), "history": [{"loss": 0.5, "epoch": 1}], "x": float("nan"), "b": "\u00e9"}
    path = save_checkpoint(tmp_path, state, name="ckpt-1")
    assert len(encoded) == 1
    text = path.read_text()
    doc = json.loads(text)
    canonical = json.dumps(doc["body"], separators=(",", ":"), ensure_ascii=True)
    assert f'  "body": {canonical}\n' in text
    assert doc["body_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert [line.split(":")[0] for line in text.splitlines()[1:-1]] == [
        '  "format"', '  "version"', '  "body_sha256"', '  "body"']
    assert_identical(load_checkpoint(path), state)              # key order kept: not sorted


def test_a_version_1_manifest_with_its_sorted_checksum_still_loads(tmp_path):
    """Checkpoints written before version 2 (checksum of the body with sorted keys, any layout)."""
    state = {"w": torch.arange(3.0), "b": 1, "a": [0.5]}
    path = save_checkpoint(tmp_path, state, name="ckpt-1")
    doc = json.loads(path.read_text())
    doc["version"] = 1
    sorted_body = json.dumps(doc["body"], sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    doc["body_sha256"] = hashlib.sha256(sorted_body.encode()).hexdigest()
    path.write_text(json.dumps(doc, indent=1))
    assert_identical(load_checkpoint(path), state)
    doc["version"] = 2                      # the same file claiming version 2: its checksum is wrong
    path.write_text(json.dumps(doc, indent=1))
    with pytest.raises(CheckpointError, match="checksum does not match"):
        load_checkpoint(path)


def test_a_save_into_a_directory_it_creates_skips_the_housekeeping_listings(tmp_path, monkeypatch):
    # a search trial's end checkpoint: the directory is new, so nothing in it can need pruning
    import trainwell.train.checkpoint as checkpoint
    listed = []
    real_list, real_leftovers = checkpoint.list_checkpoints, checkpoint._remove_leftovers
    monkeypatch.setattr(checkpoint, "list_checkpoints", lambda d: listed.append(d) or real_list(d))
    monkeypatch.setattr(checkpoint, "_remove_leftovers", lambda d, **k: listed.append(d) or real_leftovers(d, **k))
    fresh = tmp_path / "run" / "checkpoints"           # its parent is missing too
    save_checkpoint(fresh, _state(step=1), name="ckpt-1", keep=1)
    assert listed == []
    assert sorted(p.name.split(".")[0] for p in fresh.iterdir()) == ["ckpt-1", "ckpt-1"]
    assert_identical(load_latest(fresh)[1], _state(step=1))
    # an existing directory: the housekeeping runs, and removes what an interrupted save left
    (fresh / ".ckpt-0.abc123.safetensors.tmp").write_bytes(b"left by a kill")
    save_checkpoint(fresh, _state(step=2), name="ckpt-2", keep=1)
    assert listed and sorted(p.name.split(".")[0] for p in fresh.iterdir()) == ["ckpt-2", "ckpt-2"]
    # a file in the way is refused, as before
    blocked = tmp_path / "file"
    blocked.write_text("x")
    with pytest.raises(FileExistsError):
        save_checkpoint(blocked, _state(step=1), name="ckpt-1")
