"""What the run's own preprocessing throws away (babysit/preprocess_check.py): found where a step
loses what the labels need, quiet where the pipeline only rescales, rotates or whitens."""
import pytest
import torch
from sklearn.datasets import load_breast_cancer
from torch import nn

import trainwell
from trainwell.babysit.preprocess_check import _lossless, check_preprocess
from trainwell.data.transforms import fit_preprocess


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)      # 30 columns in their units: areas in the 100s-1000s
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y)


def _check(spec, X, y):
    return check_preprocess(fit_preprocess(spec, X), X, y)


def test_pca_on_columns_in_their_units_is_found_and_named(cancer):
    found = _check([{"name": "pca", "variance": 0.95}], *cancer)
    assert [f.code for f in found] == ["uninformative_inputs"]
    f = found[0]
    assert f.where == "preprocess" and f.severity == "warning"
    assert f.evidence["transform"] == "PCA" and f.evidence["preprocess_step"] == 0
    assert f.evidence["output_shape"][0] < 30
    assert f.evidence["p"] < f.evidence["p_threshold"]
    assert "PCA" in f.message and "standardize" in f.fix


@pytest.mark.parametrize("spec", [["standardize"], ["center"], ["standardize", {"name": "pca", "variance": 0.95}],
                                  ["pca_whiten"], ["zca"], [{"name": "pca"}]])
def test_pipelines_that_keep_the_information_are_quiet(cancer, spec):
    assert _check(spec, *cancer) == []


def test_the_step_named_is_the_first_that_loses(cancer):
    found = _check(["center", {"name": "pca", "variance": 0.95}, "standardize"], *cancer)
    assert [f.evidence["transform"] for f in found] == ["PCA"]
    assert found[0].evidence["preprocess_step"] == 1


def _counts(n=1500, seed=0):
    """Rows whose class is read from a count that is 0 in about half of them (a real value)."""
    g = torch.Generator().manual_seed(seed)
    claims = torch.poisson(torch.full((n,), 0.8), generator=g)
    noise = torch.randn(n, 3, generator=g)
    y = (claims > 0).long() + (claims > 2).long()
    return torch.cat([claims[:, None], noise], 1), y


def test_an_impute_whose_code_is_a_real_value_is_found():
    X, y = _counts()
    found = _check([{"name": "impute", "codes": [[0, 0.0]]}, "standardize"], X, y)
    assert [f.code for f in found] == ["uninformative_inputs"]
    assert found[0].evidence["transform"] == "Impute"
    assert found[0].evidence["raw_score"] - found[0].evidence["preprocessed_score"] >= 0.03


def test_an_impute_of_a_true_missing_code_is_quiet():
    X, y = _counts()
    X = X.clone()
    X[::10, 1] = -999.0                   # a code in a noise column: replacing it loses nothing
    assert _check([{"name": "impute", "codes": [[1, -999.0]]}, "standardize"], X, y) == []


def test_lossless_against_a_map_of_known_rank():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(400, 6, generator=g, dtype=torch.float64)
    M = torch.randn(6, 6, generator=g, dtype=torch.float64)      # invertible with probability 1
    assert _lossless(X, X @ M + 3.0)
    assert not _lossless(X, X @ M[:, :4])                      # a projection: rank 4 of 6
    assert not _lossless(X, torch.relu(X @ M))                 # not affine


def test_nothing_to_check_without_preprocessing_or_with_nan_codes(cancer):
    X, y = cancer
    assert check_preprocess(None, X, y) == []
    Xn = X.clone()
    Xn[0, 0] = float("nan")
    assert check_preprocess(fit_preprocess([{"name": "pca", "variance": 0.95}], X), Xn, y) == []


def test_the_doctor_reports_it():
    X, y = _counts(1800)
    model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 3))
    found = trainwell.doctor(model, (X[:1500], y[:1500]), val=(X[1500:], y[1500:]), device="cpu", epochs=2,
                             preprocess=[{"name": "impute", "codes": [[0, 0.0]]}, "standardize"], probe=False)
    assert any(f.code == "uninformative_inputs" and f.where == "preprocess" for f in found.findings)
