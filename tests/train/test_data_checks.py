"""Every split's data is checked before any work: labels in the model's range, finite
inputs, targets that suit the loss. A bad value is a DataError naming the split, the row and the
column, and no run directory is made; the CLI answers it with exit status 2 and one line."""
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import trainwell
from trainwell.cli import main
from trainwell.data.splits import Splits
from trainwell.errors import DataError
from trainwell.nn.losses import make_loss
from trainwell.train.parts import check_model_fits_data

QUICK = {"epochs": 1, "progress": False, "device": "cpu", "report": False}


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4)).astype(np.float32)
    return X, rng.integers(0, 3, 120)


def _refused(tmp_path, match, *args, **options):
    """fit raises a one-line DataError matching ``match`` and leaves no run directory."""
    run_dir = tmp_path / "run"
    with pytest.raises(DataError, match=match) as e:
        trainwell.fit(*args, run_dir=run_dir, **QUICK, **options)
    assert "\n" not in str(e.value)
    assert not run_dir.exists()
    return str(e.value)


# ------------------------------------------------------------------ held-out labels

def test_held_out_labels_beyond_the_training_labels_get_an_output(data, tmp_path):
    """(X, y) pairs count classes over every split, as a data source does: a validation or test
    label above the training labels gets its output, and the final evaluation scores it."""
    X, y = data
    run = trainwell.fit(None, (X, y), val=(X[:10], np.full(10, 5)), test=(X[:10], np.full(10, 4)),
                        **QUICK)
    assert run.model(torch.as_tensor(X[:1])).shape == (1, 6)
    assert run.results["val"]["acc"] is not None and run.results["test"]["acc"] is not None


def test_held_out_labels_outside_the_datas_classes_are_refused_before_training(data, tmp_path):
    X, y = data
    splits = Splits((torch.as_tensor(X), torch.as_tensor(y)), num_classes=3, input_shape=(4,))
    _refused(tmp_path, r"^val row 2: class id 5 found but the data has 3 classes \(ids 0\.\.2\)$",
             None, splits, val=(X[:10], np.array([0, 1, 5, 2, 0, 0, 0, 0, 0, 0])))
    _refused(tmp_path, r"^test row 0: class ids must be >= 0 \(found -1;", None, (X, y),
             test=(X[:10], np.full(10, -1)))
    iris = np.zeros((10, 4), np.float32)
    _refused(tmp_path, "test row 0: class id 7 found but the data has 3 classes", None, "iris",
             test=(iris, np.full(10, 7)))


def test_held_out_labels_beyond_your_models_outputs_are_refused():
    """With your own model the range is its number of outputs (fit passes val and test)."""
    model = nn.Linear(4, 3)
    train = (torch.randn(8, 4), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1]))
    check_model_fits_data(model, make_loss("cross_entropy"), train, "cross_entropy",
                          val=(torch.randn(2, 4), torch.tensor([2, 1])), test=None)
    with pytest.raises(DataError, match=r"^test: labels go up to 5 but the model has 3 outputs; "
                                        r"cross_entropy needs one output per class \(0\.\.5\)$"):
        check_model_fits_data(model, make_loss("cross_entropy"), train, "cross_entropy",
                              val=(torch.randn(2, 4), torch.tensor([2, 1])),
                              test=(torch.randn(2, 4), torch.tensor([5, 1])))


# ------------------------------------------------------------------ NaN / inf

@pytest.mark.parametrize("split", ["train", "val", "test"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_inputs_from_python_name_the_split_row_and_column(data, tmp_path, split, bad):
    X, y = data
    Xb = X.copy()
    Xb[17, 2] = bad
    pairs = {"train": (X, y), "val": (X[:30], y[:30]), "test": (X[:30], y[:30])}
    pairs[split] = (Xb, y) if split == "train" else (Xb[:30], y[:30])
    _refused(tmp_path, rf"^{split}: X row 17, column 2 is {bad}: every value must be a finite number",
             None, pairs["train"], val=pairs["val"], test=pairs["test"])


def test_nonfinite_regression_targets_and_image_inputs_are_refused(data, tmp_path):
    X, _ = data
    target = X[:, 0].copy()
    target[40] = np.nan
    _refused(tmp_path, r"^train: y row 40 is nan", None, (X, target), loss="mse")
    images = np.zeros((20, 1, 3, 3), np.float32)
    images[6, 0, 1, 2] = np.inf
    _refused(tmp_path, r"^train: X row 6, position \[0, 1, 2\] is inf", nn.Sequential(nn.Flatten(), nn.Linear(9, 2)),
             (images, np.arange(20) % 2))


def test_nonfinite_values_in_npy_and_npz_files_are_refused_at_load_time(data, tmp_path):
    X, y = data
    Xb = X.copy()
    Xb[33, 1] = np.nan
    np.save(tmp_path / "x.npy", Xb)
    np.save(tmp_path / "y.npy", y)
    _refused(tmp_path, rf"^{tmp_path / 'x.npy'}: row 33, column 1 is nan", None, "npy",
             data={"source": "npy", "path": str(tmp_path / "x.npy"), "labels": str(tmp_path / "y.npy")})
    np.savez(tmp_path / "a.npz", x_train=X, y_train=y, x_test=Xb, y_test=y)
    _refused(tmp_path, rf"^{tmp_path / 'a.npz'}: array 'x_test' row 33, column 1 is nan", None, "npz",
             data={"source": "npz", "path": str(tmp_path / "a.npz")})
    np.save(tmp_path / "t.npy", np.where(np.arange(120) == 9, np.inf, X[:, 0]))
    _refused(tmp_path, rf"^{tmp_path / 't.npy'}: row 9 is inf", None, "npy",
             data={"source": "npy", "path": str(tmp_path / "x.npy").replace("x.npy", "y.npy"),
                   "labels": str(tmp_path / "t.npy")})


def test_the_search_of_a_large_file_reads_it_in_slices(tmp_path, monkeypatch):
    """A memory-mapped file is searched a slice of rows at a time; the row is the file's row."""
    from trainwell.data import splits

    monkeypatch.setattr(splits, "FINITE_CHECK_ROWS", 4)
    a = np.zeros((10, 3), np.float32)
    a[9, 2] = np.nan
    np.save(tmp_path / "x.npy", a)
    with pytest.raises(DataError, match=r"^x: row 9, column 2 is nan"):
        splits.check_finite(np.load(tmp_path / "x.npy", mmap_mode="r"), "x:")
    splits.check_finite(np.arange(10), "integers are always finite")


def test_the_cli_answers_nonfinite_data_with_status_2_and_one_line(data, tmp_path, capsys):
    X, y = data
    X = X.copy()
    X[5, 0] = np.nan
    np.savez(tmp_path / "nan.npz", X=X, y=y)
    config = tmp_path / "nan.toml"
    config.write_text(f'epochs = 1\nprogress = false\nrun_dir = "{tmp_path / "run"}"\n'
                      f'[data]\nsource = "npz"\npath = "{tmp_path / "nan.npz"}"\n')
    assert main(["fit", str(config), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "row 5, column 0 is nan" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------ one class

def test_a_single_class_data_set_is_refused_before_training(data, tmp_path, capsys):
    X, _ = data
    _refused(tmp_path, r"^train: every label is class 0: cross_entropy needs at least 2 classes",
             None, (X, np.zeros(120, np.int64)))
    rows = "\n".join(f"{a:.3f},{b:.3f},1" for a, b in X[:40, :2])
    (tmp_path / "one.csv").write_text("a,b,label\n" + rows + "\n")
    config = tmp_path / "one.toml"
    config.write_text(f'epochs = 1\nprogress = false\nrun_dir = "{tmp_path / "run"}"\n'
                      f'[data]\nsource = "csv"\npath = "{tmp_path / "one.csv"}"\n')
    assert main(["fit", str(config), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "every label is class 1" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------ one-hot / probabilities

def test_one_hot_and_probability_targets_train_with_cross_entropy(data):
    X, y = data
    one_hot = np.eye(3, dtype=np.float32)[y]
    run = trainwell.fit(None, (X, one_hot), val=(X[:30], one_hot[:30]), epochs=3, **{
        k: v for k, v in QUICK.items() if k != "epochs"})
    assert run.model(torch.as_tensor(X[:1])).shape == (1, 3)
    predicted = run.model(torch.as_tensor(X[:30])).argmax(1).numpy()
    assert run.results["val"]["acc"] == pytest.approx((predicted == y[:30]).mean())
    soft = 0.7 * one_hot + 0.1    # label-smoothed rows: still distributions
    trainwell.fit(None, (X, soft), **QUICK)


@pytest.mark.parametrize("targets, loss, message", [
    (lambda y: np.eye(3, dtype=np.float32)[y] * 2, "cross_entropy",
     "float targets of shape (N, 3) are class probabilities for cross_entropy, but not every row is "
     "non-negative and sums to 1"),
    (lambda y: np.eye(3, dtype=np.float32)[y], "hinge",
     "loss = 'hinge' needs integer class ids of shape (N,), got float targets of shape (120, 3): "
     "for one-hot rows pass y.argmax(1)"),
    (lambda y: y, "kl_div", "loss = \"kl_div\" needs class probabilities of shape (N, 3)"),
    (lambda y: y.astype(np.float32), "kl_div",
     "loss = \"kl_div\" needs class probabilities of shape (N, 3), got targets of shape (120,)"),
])
def test_targets_the_loss_cannot_take_say_what_to_pass(data, tmp_path, targets, loss, message):
    X, y = data
    text = _refused(tmp_path, "^train: ", None if loss != "kl_div" else nn.Linear(4, 3), (X, targets(y)),
                    loss=loss)
    assert message in text, text


def test_one_hot_rows_wider_than_the_model_are_named():
    model = nn.Linear(4, 3)
    with pytest.raises(DataError, match=r"rows of 4 class probabilities but the model has 3 outputs"):
        check_model_fits_data(model, make_loss("cross_entropy"), (torch.randn(6, 4), torch.eye(4)[[0, 1, 2, 3, 0, 1]]),
                              "cross_entropy")


# ------------------------------------------------------------------ labels in words

def test_whole_number_float_labels_say_cast_or_mse(data, tmp_path):
    X, y = data
    text = _refused(tmp_path, r"^train: the labels are whole numbers stored as float32", None,
                    (X, y.astype(np.float32)))
    assert "cast them to integers" in text and 'loss = "mse"' in text
    text = _refused(tmp_path, r"^train: the targets are float32 numbers", None, (X, X[:, 0]))
    assert 'loss = "mse"' in text


@pytest.mark.parametrize("label, message", [
    (-1, r"row 7: class ids must be >= 0 \(found -1;"),
    (10**12, r"row 7: label 1000000000000 would make 1000000000001 classes for 120 samples; class ids "
             r"are 0\.\.K-1"),
])
def test_odd_labels_are_named_with_their_row_not_as_a_rare_class(data, tmp_path, label, message):
    """Labels -1 or 10¹² are named as labels with their row, before the stratified split counts
    them as a class ("class -1 has only 1 sample")."""
    X, y = data
    y = y.copy()
    y[7] = label
    np.savez(tmp_path / "odd.npz", X=X, y=y)
    text = _refused(tmp_path, message, None, "npz", data={"source": "npz", "path": str(tmp_path / "odd.npz")})
    assert "only 1 sample" not in text
    _refused(tmp_path, message, None, (X, y))


def test_a_model_wider_than_the_classes_is_warned_about():
    model = nn.Linear(4, 7)
    train = (torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2]))
    with pytest.warns(UserWarning, match=r"^the model has 7 outputs but the labels are classes 0\.\.2: "
                                         r"outputs 3\.\.6 are never a target; give the last layer 3 outputs$"):
        check_model_fits_data(model, make_loss("cross_entropy"), train, "cross_entropy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_model_fits_data(nn.Linear(4, 3), make_loss("cross_entropy"), train, "cross_entropy")


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float64])
def test_nonfinite_tensors_of_every_float_type_are_located(dtype):
    from trainwell.data.splits import check_finite

    X = torch.zeros(5, 3, dtype=dtype)
    X[3, 1] = float("nan")
    with pytest.raises(DataError, match=r"^train: X row 3, column 1 is nan"):
        check_finite(X, "train: X")
