import gzip
import os
import pickle
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from trainwell.data import files
from trainwell.data.sources import load
from trainwell.errors import ConfigError, DataError


def all_rows(s):
    parts = [p for p in (s.train, s.val, s.test) if p is not None]
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


# ---------------------------------------------------------------- npy / npz

def test_npy_pair_is_memory_mapped_and_split(tmp_path):
    X = np.arange(200, dtype=np.float32).reshape(50, 4)           # row i holds 4i .. 4i+3
    y = (np.arange(50) % 5).astype(np.int64)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", y)
    assert isinstance(files.read_npy(tmp_path / "x.npy"), np.memmap)
    s = load("npy", path=str(tmp_path / "x.npy"), labels=str(tmp_path / "y.npy"), test_size=10, val_size=5,
             shape=[2, 2])
    assert s.input_shape == (2, 2) and s.num_classes == 5 and len(s.test[0]) == 10
    Xa, ya = all_rows(s)
    rows = (Xa.reshape(-1, 4)[:, 0] / 4).long()
    assert sorted(rows.tolist()) == list(range(50))
    assert torch.equal(ya, rows % 5)                                # labels stay with their rows
    assert torch.bincount(s.test[1]).tolist() == [2] * 5            # stratified


def test_npy_errors(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(tmp_path / "y.npy", np.zeros(3, np.int64))
    np.save(tmp_path / "x.npy", np.zeros((4, 2), np.float32))
    np.save(tmp_path / "s.npy", np.array(["a", "b", "c", "d"]))
    with pytest.raises(DataError, match=r"obj.npy: cannot read X without unpickling"):
        load("npy", path=tmp_path / "obj.npy", labels=tmp_path / "y.npy")
    with pytest.raises(DataError, match=r"y.npy: 3 labels but .*x.npy has 4 samples"):
        load("npy", path=tmp_path / "x.npy", labels=tmp_path / "y.npy")
    with pytest.raises(DataError, match=r"s.npy: X has dtype <U1; expected numbers"):
        load("npy", path=tmp_path / "s.npy", labels=tmp_path / "y.npy")
    with pytest.raises(DataError, match=r"data.path = .*missing.npy.: no such file or folder"):
        load("npy", path=tmp_path / "missing.npy", labels=tmp_path / "y.npy")
    np.savez(tmp_path / "a.npz", X=np.zeros((3, 2)))
    with pytest.raises(DataError, match=r"a.npz: is a .npz archive; use source = \"npz\""):
        load("npy", path=tmp_path / "a.npz", labels=tmp_path / "y.npy")


def test_npz_single_set(tmp_path):
    X = np.random.default_rng(0).normal(size=(30, 3))
    y = np.linspace(0, 1, 30)                                         # float targets: regression
    np.savez(tmp_path / "d.npz", X=X, y=y)
    s = load("npz", path=tmp_path / "d.npz", test_size=0.2, val_size=0)
    assert s.num_classes is None and s.val is None and len(s.test[0]) == 6
    Xa, ya = all_rows(s)
    order = torch.argsort(ya)
    assert torch.allclose(Xa[order].double(), torch.from_numpy(X), atol=1e-6)


def test_npz_given_splits(tmp_path):
    rng = np.random.default_rng(1)
    xt, yt = rng.normal(size=(40, 2)), np.arange(40) % 4
    xs, ys = rng.normal(size=(12, 2)), np.arange(12) % 4
    np.savez_compressed(tmp_path / "k.npz", x_train=xt, y_train=yt, x_test=xs, y_test=ys)
    s = load("npz", path=tmp_path / "k.npz", val_size=8)
    assert torch.allclose(s.test[0].double(), torch.from_numpy(xs), atol=1e-6)
    assert torch.equal(s.test[1], torch.from_numpy(ys))
    assert len(s.val[0]) == 8 and len(s.train[0]) == 32 and s.num_classes == 4


def test_npz_errors(tmp_path):
    np.savez(tmp_path / "keys.npz", a=np.zeros(3), b=np.zeros(3))
    with pytest.raises(DataError, match=r"keys.npz: expected arrays 'X' and 'y', or 'x_train' and 'y_train'.*"
                                        r"found a, b"):
        load("npz", path=tmp_path / "keys.npz")
    np.savez(tmp_path / "half.npz", x_train=np.zeros((4, 2)), y_train=np.zeros(4), x_test=np.zeros((2, 2)))
    with pytest.raises(DataError, match=r"half.npz: has 'x_test' but not 'y_test'"):
        load("npz", path=tmp_path / "half.npz")
    np.savez(tmp_path / "obj.npz", X=np.array([None, 1], dtype=object), y=np.zeros(2))
    with pytest.raises(DataError, match=r"obj.npz: array 'X' cannot be read without unpickling"):
        load("npz", path=tmp_path / "obj.npz")
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(DataError, match=r"one.npy: is a single .npy array"):
        load("npz", path=tmp_path / "one.npy")


# ---------------------------------------------------------------- CSV

def write(path, text):
    path.write_text(text)
    return path


def test_csv_header_label_by_name(tmp_path):
    rows = "\n".join(f"{i},{i * 0.5},{i % 3}" for i in range(30))
    p = write(tmp_path / "t.csv", "\ufeffa,b,label\n" + rows + "\n\n")       # with an Excel BOM
    s = load("csv", path=str(p), label="label", test_size=6, val_size=3)
    assert s.input_shape == (2,) and s.num_classes == 3 and s.meta["columns"] == ["a", "b"]
    assert s.meta["source"] == "csv"
    Xa, ya = all_rows(s)
    order = torch.argsort(Xa[:, 0])
    assert torch.equal(Xa[order, 0], torch.arange(30.)) and torch.allclose(Xa[order, 1], torch.arange(30.) * 0.5)
    assert torch.equal(ya[order], torch.arange(30) % 3)


def test_csv_without_header_label_by_index_and_detection(tmp_path):
    p = write(tmp_path / "n.csv", "\n".join(f"{i % 2};{i};{-i}" for i in range(20)))
    s = load("csv", path=p, label=0, delimiter=";", test_size=0, val_size=0)
    assert len(s.train[0]) == 20                                     # no row taken as a header
    assert torch.equal(s.train[1], torch.arange(20) % 2) and torch.equal(s.train[0][:, 1], -torch.arange(20.))


def test_csv_class_names_and_regression(tmp_path):
    p = write(tmp_path / "names.csv", "x,kind\n" + "\n".join(f"{i},{['cat', 'ant', 'bee'][i % 3]}" for i in range(12)))
    s = load("csv", path=p, label="kind", label_names=True, test_size=0, val_size=0)
    assert s.meta["classes"] == ["ant", "bee", "cat"]
    assert s.train[1].tolist() == [[2, 0, 1][i % 3] for i in range(12)]
    p = write(tmp_path / "reg.csv", "x,y\n" + "\n".join(f"{i},{i / 10}" for i in range(10)))
    s = load("csv", path=p, task="regression", test_size=0, val_size=0)
    assert s.num_classes is None and torch.allclose(s.train[1], torch.arange(10.) / 10)


def test_csv_shape_option(tmp_path):
    lines = [",".join(str(v) for v in [k % 2] + list(range(k, k + 4))) for k in range(6)]
    p = write(tmp_path / "img.csv", "\n".join(lines))
    s = load("csv", path=p, label=0, shape=[1, 2, 2], test_size=0, val_size=0)
    assert s.input_shape == (1, 2, 2) and torch.equal(s.train[0][3], torch.tensor([[[3., 4.], [5., 6.]]]))


@pytest.mark.parametrize("text, options, message", [
    ("a,b,label\n1,2,0\n3,abc,1\n", dict(label="label"), r"bad.csv row 3, column 'b': 'abc' is not a finite number"),
    ("1,2,0\n3,4,seven\n", {}, r"bad.csv row 2, column 2: 'seven' is not an integer class id >= 0 \(use label_names"),
    ("a,label\n1,0\n2,-1\n", dict(label="label"), r"bad.csv row 3, column 'label': '-1' is not an integer class id"),
    ("a,b,label\n1,2,0\n3,nan,1\n", {}, r"bad.csv row 3, column 'b': 'nan' is not a finite number"),
    ("1,2,0\n3,4\n", {}, r"bad.csv row 2: 2 fields, expected 3 like the first row"),
    ("a,b,label\n1,2,0\n", dict(label="lable"), r"bad.csv: no column named 'lable' \(did you mean 'label'\?\); "
                                               r"columns: a, b, label"),
    ("1,2,0\n", dict(label=5), r"bad.csv: label = 5: the file has 3 columns"),
    ("1,2,0\n", dict(label="y", header=False), r"bad.csv: label = 'y' names a column but the file has no header"),
    ("a,b\n", {}, r"bad.csv: no data rows after the header"),
    ("\n\n", {}, r"bad.csv: the file is empty"),
    ("0\n1\n", {}, r"bad.csv: only the label column; expected feature columns besides it"),
    ("x,t\n1,high\n", dict(task="regression"), r"bad.csv row 2, column 't': 'high' is not a finite number"),
])
def test_csv_errors_name_file_row_and_column(tmp_path, text, options, message):
    p = write(tmp_path / "bad.csv", text)
    with pytest.raises(DataError, match=message):
        load("csv", path=p, test_size=0, val_size=0, **options)


def test_csv_bad_options(tmp_path):
    p = write(tmp_path / "ok.csv", "1,0\n2,1\n")
    with pytest.raises(ConfigError, match="csv: task = 'rank'"):
        load("csv", path=p, task="rank")
    with pytest.raises(ConfigError, match="csv: delimiter = ';;': must be one character"):
        load("csv", path=p, delimiter=";;")


# ---------------------------------------------------------------- MNIST IDX

def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    header = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(files.IDX_TYPES[code]).tobytes()


def write_mnist(folder, n_train=40, n_test=10, *, gz=False, dot_names=False):
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        for kind, arr, dims in (("images", images, 3), ("labels", labels, 1)):
            name = f"{prefix}-{kind}{'.' if dot_names else '-'}idx{dims}-ubyte"
            data = idx_bytes(arr)
            if gz:
                name, data = name + ".gz", gzip.compress(data)
            (folder / name).write_bytes(data)
        out[prefix] = (images, labels)
    return out


@pytest.mark.parametrize("gz, dot_names", [(False, False), (True, False), (False, True)])
def test_mnist_folder(tmp_path, gz, dot_names):
    raw = write_mnist(tmp_path / "mnist", gz=gz, dot_names=dot_names)
    s = load("mnist", path=tmp_path / "mnist", val_size=10)
    assert s.input_shape == (1, 28, 28) and s.num_classes == 10 and s.meta["source"] == "mnist"
    assert torch.allclose(s.test[0], torch.from_numpy(raw["t10k"][0]).float()[:, None] / 255)
    assert torch.equal(s.test[1], torch.from_numpy(raw["t10k"][1]).long())
    assert len(s.train[0]) == 30 and len(s.val[0]) == 10 and torch.bincount(s.val[1]).tolist() == [1] * 10
    assert float(s.train[0].max()) <= 1.0


def test_mnist_without_test_files_carves_a_test_split(tmp_path):
    write_mnist(tmp_path / "m")
    for f in (tmp_path / "m").glob("t10k*"):
        f.unlink()
    s = load("mnist", path=tmp_path / "m", test_size=10, val_size=0)
    assert len(s.test[0]) == 10 and len(s.train[0]) == 30


def test_read_idx_types_and_errors(tmp_path):
    p = tmp_path / "a.idx"
    p.write_bytes(idx_bytes(np.array([[1.5, -2.0]]), code=0x0D))
    assert np.array_equal(files.read_idx(p), np.array([[1.5, -2.0]], dtype=np.float32))
    p.write_bytes(b"\x12\x34\x08\x01" + b"\0" * 8)
    with pytest.raises(DataError, match=r"a.idx: magic number 0x12340801 is not IDX.*0x00000803 images"):
        files.read_idx(p)
    p.write_bytes(idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(DataError, match=r"a.idx: 1 dimensions \(magic 0x00000801\); expected 3 \(magic 0x00000803\)"):
        files.read_idx(p, ndim=3)
    p.write_bytes(idx_bytes(np.zeros((4, 3), np.uint8))[:-2])
    with pytest.raises(DataError, match=r"a.idx: sizes \[4, 3\] need 12 data bytes, found 10"):
        files.read_idx(p)
    p.write_bytes(b"\0\0")
    with pytest.raises(DataError, match="a.idx: 2 bytes; an IDX file starts with a 4-byte magic number"):
        files.read_idx(p)
    p.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DataError, match="a.idx: cannot read"):
        files.read_idx(p)


def test_mnist_folder_errors(tmp_path):
    folder = tmp_path / "m"
    write_mnist(folder)
    (folder / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.full(40, 12, np.uint8)))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte: label 12 found; expected digits 0-9"):
        load("mnist", path=folder)
    (folder / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(39, np.uint8)))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte: 39 labels but train-images-idx3-ubyte has 40"):
        load("mnist", path=folder)
    (folder / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match=r"has train-images-idx3-ubyte but not train-labels-idx1-ubyte"):
        load("mnist", path=folder)
    with pytest.raises(DataError, match=r"data.path = .*empty.: no such file or folder"):
        load("mnist", path=tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: expected train-images-idx3-ubyte and train-labels-idx1-ubyte"):
        load("mnist", path=tmp_path / "empty")


# ---------------------------------------------------------------- CIFAR-10

def write_cifar(folder, batches=2, n=20, *, protocol=2, byte_keys=True, test=True):
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    out = []
    names = [f"data_batch_{i + 1}" for i in range(batches)] + (["test_batch"] if test else [])
    for name in names:
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.permutation(np.arange(n) % 10)]
        key = (lambda k: k.encode()) if byte_keys else (lambda k: k)
        batch = {key("batch_label"): b"training batch", key("data"): data, key("labels"): labels,
                 key("filenames"): [b"x.png"] * n}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=protocol)
        out.append((data, labels))
    return out


@pytest.mark.parametrize("protocol, byte_keys", [(2, True), (4, False), (5, True)])
def test_cifar10_batches(tmp_path, protocol, byte_keys):
    raw = write_cifar(tmp_path / "c", protocol=protocol, byte_keys=byte_keys)
    s = load("cifar10", path=tmp_path / "c", val_size=10)
    assert s.input_shape == (3, 32, 32) and s.num_classes == 10 and len(s.train[0]) == 30
    data, labels = raw[-1]
    expected = torch.from_numpy(data).float().reshape(-1, 3, 32, 32) / 255
    assert torch.allclose(s.test[0], expected) and s.test[1].tolist() == labels
    # the first 1024 values of a row are the red plane, row-major
    assert torch.isclose(s.test[0][0, 0, 1, 0], torch.tensor(data[0, 32] / 255.0, dtype=torch.float32))
    assert torch.isclose(s.test[0][0, 2, 0, 0], torch.tensor(data[0, 2048] / 255.0, dtype=torch.float32))


def test_cifar10_batch_written_by_old_numpy(tmp_path):
    """The real batches name numpy.core.multiarray (numpy 1.x); numpy 2 writes numpy._core."""
    write_cifar(tmp_path / "c", batches=1, test=False, protocol=2)
    p = tmp_path / "c" / "data_batch_1"
    old = p.read_bytes().replace(b"numpy._core.multiarray\n_reconstruct", b"numpy.core.multiarray\n_reconstruct")
    assert b"numpy.core.multiarray" in old
    p.write_bytes(old)
    X, y = files.read_cifar_batch(p)
    assert X.shape == (20, 3, 32, 32) and X.dtype == np.uint8 and len(y) == 20


class Exploit:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return os.system, (f"touch {self.target}",)


def test_cifar10_refuses_a_malicious_pickle(tmp_path):
    folder = tmp_path / "c"
    write_cifar(folder, batches=1)
    marker = tmp_path / "pwned"
    with open(folder / "data_batch_1", "wb") as f:
        pickle.dump({b"data": Exploit(marker), b"labels": [0]}, f, protocol=2)
    with pytest.raises(DataError, match=r"data_batch_1: refused to unpickle the global (posix|nt|os)\.system"):
        load("cifar10", path=folder)
    assert not marker.exists()
    with open(folder / "data_batch_1", "wb") as f:                  # any other class too
        pickle.dump({b"data": torch.nn.Linear(1, 1)}, f)
    with pytest.raises(DataError, match=r"refused to unpickle the global torch\.nn\.modules\.linear\.Linear"):
        files.read_cifar_batch(folder / "data_batch_1")


def test_cifar10_errors(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    with pytest.raises(DataError, match=r"c: no data_batch_\* files"):
        load("cifar10", path=folder)
    p = folder / "data_batch_1"
    for obj, message in [
        ([1, 2], r"holds a list; expected a dict with 'data' and 'labels'"),
        ({b"data": np.zeros((2, 3072), np.uint8)}, r"no 'labels' field"),
        ({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]},
         r"field 'data' is a uint8 array of shape \(2, 100\); expected a uint8 array of shape \(n, 3072\)"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, r"'labels' has 1 entries but 'data' has 2 rows"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, r"'labels' has 10; expected class ids 0-9"),
    ]:
        with open(p, "wb") as f:
            pickle.dump(obj, f, protocol=2)
        with pytest.raises(DataError, match=message):
            load("cifar10", path=folder)
    p.write_bytes(b"not a pickle at all")
    with pytest.raises(DataError, match=r"data_batch_1: not a CIFAR-10 python batch \(cannot unpickle"):
        load("cifar10", path=folder)


def test_cifar10_without_test_batch(tmp_path):
    write_cifar(tmp_path / "c", batches=2, test=False)
    s = load("cifar10", path=tmp_path / "c", test_size=10, val_size=0)
    assert len(s.test[0]) == 10 and len(s.train[0]) == 30


# ---------------------------------------------------------------- image folder

def write_images(folder, classes=("cat", "dog"), per_class=4, size=(6, 5), mode="RGB"):
    rng = np.random.default_rng(0)
    for name in classes:
        (folder / name).mkdir(parents=True)
        for i in range(per_class):
            shape = (size[0], size[1], 3) if mode == "RGB" else size
            Image.fromarray(rng.integers(0, 256, size=shape, dtype=np.uint8), mode).save(folder / name / f"{i}.png")
    (folder / classes[0] / "notes.txt").write_text("not an image, ignored")


def test_image_folder_rgb_and_grayscale(tmp_path):
    write_images(tmp_path / "imgs")
    s = load("image_folder", path=tmp_path / "imgs", test_size=2, val_size=2)
    assert s.input_shape == (3, 6, 5) and s.num_classes == 2 and s.meta["classes"] == ["cat", "dog"]
    assert torch.bincount(s.test[1]).tolist() == [1, 1]
    one = np.array(Image.open(tmp_path / "imgs" / "dog" / "3.png"))
    X, y = all_rows(s)
    match = (X == torch.from_numpy(one).permute(2, 0, 1).float() / 255).flatten(1).all(1)
    assert match.sum() == 1 and y[match].item() == 1
    g = load("image_folder", path=tmp_path / "imgs", mode="grayscale", test_size=0, val_size=0)
    gray = np.array(Image.open(tmp_path / "imgs" / "cat" / "0.png").convert("L"))
    assert g.input_shape == (1, 6, 5) and torch.allclose(g.train[0][0, 0], torch.from_numpy(gray).float() / 255)


def test_image_folder_resize(tmp_path):
    write_images(tmp_path / "imgs", size=(6, 5))
    Image.new("RGB", (9, 7), (255, 0, 0)).save(tmp_path / "imgs" / "dog" / "big.png")
    with pytest.raises(DataError, match=r"big.png: 9x7 pixels but .*0.png is 5x6; pass size = \[height, width\]"):
        load("image_folder", path=tmp_path / "imgs")
    s = load("image_folder", path=tmp_path / "imgs", size=[4, 8], test_size=0, val_size=0)
    assert s.input_shape == (3, 4, 8)
    red = s.train[0][s.train[1] == 1][-1]              # big.png sorts last in "dog"
    assert torch.allclose(red[0], torch.ones(4, 8)) and torch.allclose(red[1:], torch.zeros(2, 4, 8))
    assert load("image_folder", path=tmp_path / "imgs", size=3, test_size=0, val_size=0).input_shape == (3, 3, 3)


def test_image_folder_errors(tmp_path):
    with pytest.raises(ConfigError, match="image_folder: mode = 'cmyk': must be one of rgb, grayscale"):
        load("image_folder", path=tmp_path, mode="cmyk")
    with pytest.raises(ConfigError, match=r"image_folder: size = \[0, 4\]"):
        load("image_folder", path=tmp_path, size=[0, 4])
    with pytest.raises(DataError, match="no class subfolders"):
        load("image_folder", path=tmp_path)
    write_images(tmp_path / "imgs")
    (tmp_path / "imgs" / "empty").mkdir()
    with pytest.raises(DataError, match=r"imgs/empty: no images .* every class folder needs at least one"):
        load("image_folder", path=tmp_path / "imgs")
    (tmp_path / "imgs" / "empty" / "broken.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(DataError, match=r"broken.png: not an image Pillow can read"):
        load("image_folder", path=tmp_path / "imgs")
    with pytest.raises(DataError, match=r"0.png: expected a folder, found a file"):
        load("image_folder", path=tmp_path / "imgs" / "cat" / "0.png")
