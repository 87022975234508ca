"""Streaming from host arrays (data/streaming.py): the same batches and weights as the in-memory
path, exact resume (also after kill -9), chunked statistics, bounded memory, errors."""
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import trainwell
from trainwell.config import make_config
from trainwell.data import streaming
from trainwell.data.batches import Batches
from trainwell.data.streaming import HostRows, StreamBatches, fit_streamed, place, streamed_moments
from trainwell.data.transforms import fit_preprocess
from trainwell.errors import ConfigError, DataError
from trainwell.train.parts import resolve_data

import stream_job  # beside this file: pytest puts the folder on sys.path


def _files(tmp_path, n=600, d=12, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(n, d)) * 3 + 1).astype(dtype)
    y = ((X[:, 0] > 1).astype(np.int64) + 2 * (X[:, 1] > 1)).astype(np.int64)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    return tmp_path / "X.npy", tmp_path / "y.npy"


def _fit(tmp_path, stream, **options):
    X, y = tmp_path / "X.npy", tmp_path / "y.npy"
    common = dict(model={"type": "mlp", "widths": [32], "dropout": 0.1}, epochs=2, batch_size=32,
                  device="cpu", progress=False, babysit="off", seed=3, report=False)
    common.update(options)
    model = common.pop("model")
    return trainwell.fit(model, "npy", data={"source": "npy", "path": str(X), "labels": str(y)},
                         stream=stream, **common)


def _same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# ------------------------------------------------------------------ the order of Batches
@pytest.mark.parametrize("shuffle, replacement, drop_last, batch_size",
                         [(True, False, False, 7), (True, True, False, 8), (False, False, True, 6),
                          (True, False, True, 64)])
def test_stream_batches_yield_what_batches_yield(shuffle, replacement, drop_last, batch_size):
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(50, 3, generator=g), torch.randint(0, 4, (50,), generator=g)
    options = dict(batch_size=batch_size, shuffle=shuffle, replacement=replacement, drop_last=drop_last, seed=9)
    memory, streamed = Batches(X, y, **options), StreamBatches(HostRows(X.numpy()), y, **options)
    assert len(memory) == len(streamed)
    for _ in range(3):                                   # three epochs: the generator moves on alike
        got, want = list(streamed), list(memory)
        assert len(got) == len(want)
        for (xa, ya), (xb, yb) in zip(got, want):
            assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_prefetch_and_a_mid_epoch_state_dict_resume_the_same_batches():
    X, y = np.arange(90 * 2, dtype=np.float32).reshape(90, 2), torch.arange(90)
    a = StreamBatches(HostRows(X), y, batch_size=8, seed=1)
    it = iter(a)
    [next(it) for _ in range(5)]
    saved = {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in a.state_dict().items()}
    rest = [yb for _, yb in it]
    b = StreamBatches(HostRows(X), y, batch_size=8, seed=123, prefetch=False)
    b.load_state_dict(saved)
    again = [yb for _, yb in b]
    assert len(again) == len(rest) == len(a) - 5
    assert all(torch.equal(p, q) for p, q in zip(rest, again))


@pytest.mark.parametrize("n", [40, 43])
def test_ranks_share_one_global_batch(n):
    """world = 2 ranks with batch B cover what one process with batch 2B sees per step; a last
    partial global batch of m rows gives each rank m // 2 of them."""
    X, y = np.arange(n, dtype=np.float32).reshape(n, 1), torch.arange(n)
    whole = [yb for _, yb in StreamBatches(HostRows(X), y, batch_size=8, seed=4)]
    ranks = [[yb for _, yb in StreamBatches(HostRows(X), y, batch_size=4, seed=4, rank=r, world=2)]
             for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == len(whole)
    for step, both in enumerate(zip(*ranks)):
        want = whole[step][:2 * (len(whole[step]) // 2)]
        assert torch.equal(torch.cat(both), want)


def test_gather_reads_in_sorted_order_and_returns_the_drawn_order():
    reads = []

    class Recording(np.ndarray):
        def __getitem__(self, key):
            if isinstance(key, np.ndarray):
                reads.append(key.copy())
            return super().__getitem__(key)

    X = np.arange(30, dtype=np.float32).reshape(10, 3).view(Recording)
    rows = HostRows(X, indices=np.array([7, 2, 9, 0, 5]))
    out = rows.gather(np.array([2, 0, 4, 1]))
    assert np.array_equal(out[:, 0], [27, 21, 15, 6])    # rows 9, 7, 5, 2 in the asked order
    assert np.array_equal(reads[-1], [2, 5, 7, 9])       # read in file order


# ------------------------------------------------------------------ the same run
def test_a_streamed_run_gives_the_in_memory_run_bit_for_bit(tmp_path):
    _files(tmp_path)
    memory = _fit(tmp_path, False, preprocess=["standardize"], init="lsuv")
    streamed = _fit(tmp_path, True, preprocess=["standardize"], init="lsuv")
    assert _same_weights(memory.model, streamed.model)
    assert memory.history[-1]["train_loss"] == streamed.history[-1]["train_loss"]
    assert memory.results["val"] == streamed.results["val"]
    assert memory.results["test"] == streamed.results["test"]
    pre_m, pre_s = memory.preprocess.state_dict(), streamed.preprocess.state_dict()
    assert all(torch.allclose(pre_m[k], pre_s[k], rtol=1e-6, atol=0) for k in pre_m)


def test_a_memory_mapped_array_streams_from_python_and_matches_tensors(tmp_path):
    X_path, y_path = _files(tmp_path, n=300, d=6)
    y = torch.from_numpy(np.load(y_path))
    options = dict(epochs=2, batch_size=16, device="cpu", progress=False, babysit="off", seed=2, report=False)
    torch.manual_seed(0)
    memory = trainwell.fit({"type": "mlp", "widths": [16]}, (torch.from_numpy(np.load(X_path)), y), **options)
    torch.manual_seed(0)
    mapped = np.load(X_path, mmap_mode="r")
    streamed = trainwell.fit({"type": "mlp", "widths": [16]}, (mapped, y), stream=True, **options)
    torch.manual_seed(0)
    by_path = trainwell.fit({"type": "mlp", "widths": [16]}, (str(X_path), y), stream=True, **options)
    assert _same_weights(memory.model, streamed.model) and _same_weights(memory.model, by_path.model)


def test_stream_true_keeps_an_in_memory_source_on_the_host():
    options = dict(epochs=1, batch_size=32, device="cpu", progress=False, babysit="off", seed=0, report=False)
    memory = trainwell.fit(None, "blobs", **options)
    streamed = trainwell.fit(None, "blobs", stream=True, **options)
    assert _same_weights(memory.model, streamed.model)
    splits = place(resolve_data("blobs", None, None, make_config({"stream": True})), True, torch.device("cpu"))
    assert all(isinstance(pair[0], HostRows) for pair in (splits.train, splits.val, splits.test))


def test_the_repairer_standardizes_streamed_inputs_as_it_does_tensors(tmp_path):
    _files(tmp_path)                                     # mean 1, std 3: not normalized
    memory = _fit(tmp_path, False, babysit="repair", epochs=1)
    streamed = _fit(tmp_path, True, babysit="repair", epochs=1)
    assert [r["action"] for r in streamed.repairs] == [r["action"] for r in memory.repairs]
    assert "standardize" in [r["action"] for r in streamed.repairs]
    assert _same_weights(memory.model, streamed.model)


# ------------------------------------------------------------------ resume
def test_a_crash_mid_epoch_resumes_bit_identically(tmp_path, crash_at):
    _files(tmp_path)
    whole = _fit(tmp_path, True, run_dir=tmp_path / "whole", checkpoint_every=5, epochs=3)
    with pytest.raises(crash_at.error):
        _fit(tmp_path, True, run_dir=tmp_path / "cut", checkpoint_every=5, epochs=3, callbacks=[crash_at(22)])
    resumed = _fit(tmp_path, True, run_dir=tmp_path / "cut", checkpoint_every=5, epochs=3, resume=True)
    assert _same_weights(whole.model, resumed.model)
    strip = lambda h: [{k: v for k, v in m.items() if k != "seconds"} for m in h]
    assert strip(whole.history) == strip(resumed.history)


def _job(forked, *args):
    proc = forked.Process(target=stream_job.main, args=([str(a) for a in args],))
    proc.start()
    return proc


def test_kill_9_mid_epoch_then_resume_gives_bit_identical_weights(tmp_path, forked):
    _files(tmp_path)
    ref = _job(forked, tmp_path, tmp_path / "ref")
    killed = _job(forked, tmp_path, tmp_path / "killed", "--hang-at", 10)    # after the checkpoint at step 8
    marker = tmp_path / "killed" / "hanging"
    deadline = time.monotonic() + 120
    while not marker.exists() and killed.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), "the job ended or timed out before it hung"
    killed.kill()
    killed.join(timeout=60)
    assert killed.exitcode == -signal.SIGKILL
    assert not (tmp_path / "killed" / "model.safetensors").exists()
    resumed = _job(forked, tmp_path, tmp_path / "killed", "--resume")
    resumed.join(timeout=300)
    ref.join(timeout=300)
    assert resumed.exitcode == 0 and ref.exitcode == 0
    expected, got = load_file(tmp_path / "ref" / "model.safetensors"), load_file(tmp_path / "killed" / "model.safetensors")
    assert expected.keys() == got.keys() and all(torch.equal(expected[k], got[k]) for k in expected)


# ------------------------------------------------------------------ chunked statistics
@pytest.mark.parametrize("spec", ["center", "standardize", {"name": "standardize", "per_channel": True},
                                  {"name": "center", "per_channel": True}, "pca", {"name": "zca", "eps": 0.1},
                                  ["center", {"name": "pca_whiten", "k": 5}]])
def test_chunked_statistics_equal_the_in_memory_ones(spec):
    g = np.random.default_rng(1)
    X = (g.normal(size=(257, 2, 3, 2)) * g.uniform(0.5, 4, size=(1, 2, 3, 2)) + 2).astype(np.float32)
    memory = fit_preprocess(spec, torch.from_numpy(X))
    streamed = fit_streamed(spec, HostRows(X), chunk_bytes=8 * 12 * 10)      # 26 chunks of 10 rows
    a, b = memory.state_dict(), streamed.state_dict()
    assert a.keys() == b.keys()
    for k in a:                                           # eigenvectors: equal up to their sign
        got = b[k].abs() if k.endswith("matrix") and "zca" not in str(spec) else b[k]
        want = a[k].abs() if k.endswith("matrix") and "zca" not in str(spec) else a[k]
        assert torch.allclose(got, want, rtol=1e-5, atol=1e-6), k


def test_chunked_moments_match_float64_to_1e_12():
    g = np.random.default_rng(2)
    X = (g.normal(size=(1000, 7)) * 5 + 3)
    step = trainwell.data.transforms.Standardize()
    mean, var = streamed_moments(HostRows(X), step, chunk_bytes=8 * 7 * 33)
    X64 = torch.from_numpy(X)
    assert torch.allclose(mean[0], X64.mean(0), rtol=1e-12, atol=0)
    assert torch.allclose(var[0], X64.var(0, unbiased=False), rtol=1e-12, atol=0)
    cov_step = trainwell.data.transforms.PCA()
    _, cov = streamed_moments(HostRows(X), cov_step, chunk_bytes=8 * 7 * 33)
    assert torch.allclose(cov, torch.from_numpy(np.cov(X, rowvar=False, bias=True)), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ bounded memory
def _rss_anon() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    raise OSError("no RssAnon")


def test_a_file_larger_than_the_limit_streams_with_bounded_memory(tmp_path, monkeypatch):
    n, d = 40_000, 400                                    # 64 MB of float32
    X = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32, shape=(n, d))
    for start in range(0, n, 5000):
        X[start:start + 5000] = np.random.default_rng(start).normal(size=(5000, d))
    X.flush()
    del X
    np.save(tmp_path / "y.npy", np.arange(n) % 3)
    monkeypatch.setattr(streaming, "free_memory", lambda device: 32 * 2**20)   # a device of 32 MB
    gathered = []
    gather = HostRows.gather
    monkeypatch.setattr(HostRows, "gather", lambda self, p, out=None: gathered.append(len(p)) or gather(self, p, out))
    try:
        before = _rss_anon()
    except OSError:
        before = None
    run = trainwell.fit(torch.nn.Linear(d, 3), "npy", epochs=1, batch_size=256, device="cpu", progress=False,
                        babysit="off", report=False, eval_batch_size=256, preprocess=["standardize"],
                        data={"source": "npy", "path": str(tmp_path / "X.npy"), "labels": str(tmp_path / "y.npy"),
                              "test_size": 0.1, "val_size": 0.1})
    assert run.stopped.kind.value == "finished"          # "auto" streamed it: 64 MB > half of 32 MB
    assert max(gathered) <= 256 and sum(gathered) >= n   # every row read, never more than a batch at once
    if before is not None:                                # anonymous memory: not the file's page cache
        assert _rss_anon() - before < 24 * 2**20, "streaming held more than a few batches in memory"


def test_auto_streams_only_what_does_not_fit(tmp_path, monkeypatch):
    _files(tmp_path)
    splits = streaming.load_npy_rows(path=tmp_path / "X.npy", labels=tmp_path / "y.npy")
    monkeypatch.setattr(streaming, "free_memory", lambda device: 10**12)
    assert isinstance(place(splits, "auto", torch.device("cpu")).train[0], torch.Tensor)
    splits = streaming.load_npy_rows(path=tmp_path / "X.npy", labels=tmp_path / "y.npy")
    monkeypatch.setattr(streaming, "free_memory", lambda device: 1000)
    assert isinstance(place(splits, "auto", torch.device("cpu")).train[0], HostRows)
    in_ram = trainwell.data.sources.load("blobs")          # in RAM and training on the CPU: stays
    assert isinstance(place(in_ram, "auto", torch.device("cpu")).train[0], torch.Tensor)


# ------------------------------------------------------------------ bad input
def test_the_stream_option_is_checked():
    with pytest.raises(ConfigError, match=r"stream = 'yes': must be true, false or \"auto\""):
        make_config({"stream": "yes"})


@pytest.mark.parametrize("problem", ["labels", "object", "shape", "scalar"])
def test_bad_files_are_one_line_errors_naming_the_file(tmp_path, problem):
    X, y = _files(tmp_path, n=50, d=4)
    data = {"source": "npy", "path": str(X), "labels": str(y)}
    if problem == "labels":
        np.save(y, np.arange(49) % 2)
        message = r"y\.npy: 49 labels but .*X\.npy has 50 samples"
    elif problem == "object":
        np.save(X, np.array([[1, "a"]] * 50, dtype=object))
        message = r"X\.npy: cannot read X without unpickling"
    elif problem == "shape":
        data["shape"] = [3, 3]
        message = r"X\.npy: shape = \[3, 3\] has 9 values but each sample has 4"
    else:
        np.save(X, np.float32(1.0))
        message = r"X\.npy: X holds a single number"
    with pytest.raises(DataError, match=message) as e:
        trainwell.fit(None, "npy", data=data, stream=True, epochs=1, device="cpu", progress=False)
    assert "\n" not in str(e.value)


def test_bad_python_inputs_are_one_line_errors():
    with pytest.raises(DataError, match=r"train: X has 5 rows but y has 4"):
        streaming.host_pair(np.zeros((5, 2), np.float32).view(np.memmap), np.zeros(4))
    with pytest.raises(DataError, match="expected one sample per row"):
        streaming.host_pair(np.zeros(5, np.float32).view(np.memmap), np.zeros(5))


def test_check_sample_is_a_seeded_sample_in_file_order():
    X, y = np.arange(10_000, dtype=np.float32).reshape(5000, 2), torch.arange(5000)
    xs, ys = streaming.check_sample(HostRows(X), y, seed=1, rows=300)
    assert xs.shape == (300, 2) and torch.equal(xs[:, 0], 2 * ys.float())
    assert torch.all(ys[1:] > ys[:-1])                    # file order: unsorted data stays unsorted
    again, _ = streaming.check_sample(HostRows(X), y, seed=1, rows=300)
    assert torch.equal(xs, again)
    tensors = (torch.from_numpy(X), y)
    assert streaming.check_sample(*tensors)[0] is tensors[0]      # tensors are used as they are


def test_an_ensemble_of_a_memory_mapped_source_trains_its_members(tmp_path):
    _files(tmp_path, n=300, d=6)
    data = {"source": "npy", "path": str(tmp_path / "X.npy"), "labels": str(tmp_path / "y.npy")}
    for stream in ("auto", True):
        run = trainwell.ensemble({"type": "mlp", "widths": [8]}, "npy", data=data, method="average",
                                 members=2, epochs=1, device="cpu", progress=False, babysit="off", stream=stream)
        assert len(run.members) == 2 and run.results["test"]["n"] == 60


def test_impute_fits_on_streamed_rows_as_in_memory(tmp_path):
    """A median needs every value of its column: the streamed fit gathers the coded columns chunk
    by chunk (several chunks here) and gives the fills the in-memory fit gives; the steps before
    it apply to each chunk first."""
    g = np.random.default_rng(0)
    X = g.normal(size=(600, 4)).astype(np.float32)
    X[::7, 1] = -999.0
    X[3::11, 3] = 9999.0
    np.save(tmp_path / "X.npy", X)
    rows = HostRows(np.load(tmp_path / "X.npy", mmap_mode="r"))
    spec = [{"name": "impute", "codes": [[1, -999.0], [3, 9999.0]]}, "standardize"]
    streamed = fit_streamed(spec, rows, chunk_bytes=4 * 8 * 64)             # 64 rows a chunk
    memory = fit_preprocess(spec, torch.from_numpy(X))
    assert torch.allclose(streamed[0].fill, memory[0].fill) and torch.equal(streamed[0].code, memory[0].code)
    assert torch.allclose(streamed(torch.from_numpy(X)), memory(torch.from_numpy(X)), atol=1e-5)
    shifted = fit_streamed([{"name": "center"}, {"name": "impute", "codes": [[0, 5.0]]}], rows, chunk_bytes=2048)
    assert shifted[1].fill.numel() == 1 and abs(float(shifted[1].fill)) < 0.2   # the centred column's median


def test_the_impute_repair_acts_on_streamed_inputs(tmp_path):
    """A missing-value code (-999 in 15% of a column's rows) on memory-mapped rows streamed: the
    babysitter's repair imputes and standardizes as it does in memory (the streamed fit of
    impute's medians), and the run ends where the in-memory one does."""
    g = np.random.default_rng(0)
    X = g.normal(size=(3000, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 2] > 0).astype(np.int64)
    X[g.random(3000) < 0.15, 2] = -999.0
    np.save(tmp_path / "X.npy", X[:2400])
    runs = {}
    for stream in (True, False):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(6, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
        runs[stream] = trainwell.fit(model, (np.load(tmp_path / "X.npy", mmap_mode="r"), y[:2400]),
                                     (X[2400:], y[2400:]), babysit="repair", stream=stream, epochs=4,
                                     progress=False, report=False, device="cpu")
    assert [r["action"] for r in runs[True].repairs] == ["impute"] == [r["action"] for r in runs[False].repairs]
    assert runs[True].results["val"]["acc"] >= runs[False].results["val"]["acc"] - 0.02


def test_a_step_added_to_preprocessed_streamed_rows_is_fitted_on_what_they_read(tmp_path):
    """Rows already read through a fitted step (``HostRows.then``, a repair's earlier step): the
    next step's statistics are those of the preprocessed rows, as in memory, not of the raw file."""
    g = np.random.default_rng(1)
    X = (g.normal(size=(500, 3)) * 50 + 20).astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    rows = HostRows(np.load(tmp_path / "X.npy", mmap_mode="r"))
    scale = fit_preprocess([{"name": "center"}], torch.from_numpy(X))
    then = fit_streamed([{"name": "standardize"}], rows.then(scale), chunk_bytes=1024)
    assert torch.allclose(then[0].mean, torch.zeros(3), atol=1e-3)       # centred already
    assert torch.allclose(then[0].scale, torch.from_numpy(X).double().std(0, unbiased=False).float(), rtol=1e-4)


def test_quantile_fits_on_streamed_rows_as_in_memory(tmp_path):
    """A quantile map needs every value of its columns: gathered chunk by chunk (several chunks),
    it maps as the in-memory fit does."""
    g = np.random.default_rng(0)
    X = np.column_stack([np.exp(2.5 * g.normal(size=600)), g.normal(size=(600, 2))]).astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    rows = HostRows(np.load(tmp_path / "X.npy", mmap_mode="r"))
    spec = [{"name": "quantile", "columns": [0]}, "standardize"]
    streamed = fit_streamed(spec, rows, chunk_bytes=4 * 3 * 64)             # 64 rows a chunk
    memory = fit_preprocess(spec, torch.from_numpy(X))
    assert torch.equal(streamed[0].quantiles, memory[0].quantiles)
    assert torch.allclose(streamed(torch.from_numpy(X)), memory(torch.from_numpy(X)), atol=1e-5)
