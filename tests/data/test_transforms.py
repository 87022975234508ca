"""Preprocessing fitted on the training split: formulas against numpy/scikit-learn, train-statistics
reuse on test data, whitening covariances, and saving/loading through state_dict and safetensors."""
import numpy as np
import pytest
import torch
from safetensors.torch import load_model, save_model
from sklearn.decomposition import PCA as SkPCA
from sklearn.preprocessing import StandardScaler
from torch import nn

from trainwell.data.transforms import (PCA, PREPROCESSING, Center, PCAWhiten, Pipeline, Standardize, ZCAWhiten,
                                       describe, fit_preprocess, make_preprocess)
from trainwell.errors import ConfigError, DataError


def correlated(n=600, d=6, seed=0):
    """Features with very different scales and strong correlations, not centered."""
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(d, d, generator=g, dtype=torch.float64) * torch.logspace(-1, 1, d, dtype=torch.float64)
    return (torch.randn(n, d, generator=g, dtype=torch.float64) @ mix + 3.0).float()


def images(n=400, c=3, h=4, w=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    scale = torch.tensor([1.0, 2.0, 0.5, 3.0][:c]).view(1, c, 1, 1)
    shift = torch.tensor([0.2, -1.0, 4.0, 2.0][:c]).view(1, c, 1, 1)
    smooth = torch.randn(n, c, h, w, generator=g).cumsum(-1)         # correlated neighbouring pixels
    return smooth * scale + shift


def cov(Y):
    Y = Y.reshape(Y.shape[0], -1).double()
    Y = Y - Y.mean(0)
    return Y.T @ Y / Y.shape[0]


# ----------------------------------------------------------------------------- centering
def test_center_mean_image_is_zero_on_train_and_uses_train_mean_on_test():
    X = images()
    pre = Center().fit(X)
    assert pre.mean.shape == (3, 4, 4)
    assert pre(X).mean(0).abs().max() < 1e-5
    shifted = X[:50] + 2.5                             # test data from another distribution
    out = pre(shifted)
    assert torch.allclose(out.mean(0), torch.full((3, 4, 4), 2.5) + (X[:50].mean(0) - X.mean(0)), atol=1e-5)
    assert out.mean().item() == pytest.approx(2.5 + (X[:50].mean() - X.mean()).item(), abs=1e-4)


def test_center_per_channel_subtracts_one_mean_per_channel():
    X = images()
    pre = Center(per_channel=True).fit(X)
    assert pre.mean.shape == (3, 1, 1)
    expected = X.double().mean(dim=(0, 2, 3))
    assert torch.allclose(pre.mean.flatten().double(), expected, atol=1e-6)
    out = pre(X)
    assert out.mean(dim=(0, 2, 3)).abs().max() < 1e-5
    # a mean image would also zero each pixel's mean; a per-channel mean does not
    assert out.mean(0).abs().max() > 0.05


# ----------------------------------------------------------------------------- standardization
def test_standardize_matches_sklearn_and_reuses_train_statistics():
    data = correlated(n=900)
    X, X_test = data[:600], data[600:] * 2.0          # test data twice as spread out
    pre = Standardize().fit(X)
    scaler = StandardScaler().fit(X.double().numpy())
    assert np.allclose(pre(X_test).double().numpy(), scaler.transform(X_test.double().numpy()), atol=1e-4)
    out = pre(X)
    assert out.mean(0).abs().max() < 1e-5
    assert torch.allclose(out.std(0, unbiased=False), torch.ones(6), atol=1e-4)
    assert pre(X_test).std(0, unbiased=False).min() > 1.5        # not re-fitted on the test data


def test_standardize_constant_feature_is_only_centered():
    X = torch.randn(200, 3)
    X[:, 1] = 7.0                                       # e.g. a blank border pixel of every digit
    pre = Standardize().fit(X)
    assert pre.scale[1].item() == 1.0
    test = torch.tensor([[0.0, 8.0, 0.0]])
    assert pre(test)[0, 1].item() == pytest.approx(1.0)   # centered, not divided by ~0


def test_standardize_per_channel_gives_unit_variance_channels():
    X = images()
    out = Standardize(per_channel=True).fit(X)(X)
    assert torch.allclose(out.std(dim=(0, 2, 3), unbiased=False), torch.ones(3), atol=1e-4)
    assert out.mean(dim=(0, 2, 3)).abs().max() < 1e-5


# ----------------------------------------------------------------------------- PCA
@pytest.mark.parametrize("variance", [0.5, 0.9, 0.99])
def test_pca_variance_rule_matches_sklearn(variance):
    X = correlated(d=8)
    pre = PCA(variance=variance).fit(X)
    sk = SkPCA(n_components=variance, svd_solver="full").fit(X.double().numpy())
    k = pre.matrix.shape[1]
    assert k == sk.n_components_
    S = torch.linalg.eigvalsh(cov(X)).flip(0)
    share = torch.cumsum(S, 0) / S.sum()
    assert share[k - 1] >= variance and (k == 1 or share[k - 2] < variance)   # the fewest that reach it
    ours = pre(X).double().numpy()
    theirs = sk.transform(X.double().numpy())
    signs = np.sign((ours * theirs).sum(0))            # eigenvectors are defined up to sign
    assert np.allclose(ours * signs, theirs, atol=1e-3)


def test_pca_k_components_and_output_shape():
    X = images()
    pre = PCA(k=5).fit(X)
    out = pre(X)
    assert out.shape == (400, 5) and pre.output_shape((3, 4, 4)) == (5,)
    C = cov(out)
    assert torch.allclose(C, torch.diag(pre.eigenvalues.double()), atol=1e-3 * pre.eigenvalues[0].item())
    assert (pre.eigenvalues[:-1] >= pre.eigenvalues[1:]).all()


def test_pca_errors():
    with pytest.raises(ConfigError, match="not both"):
        PCA(k=2, variance=0.9)
    with pytest.raises(ConfigError, match=r"pca\.variance = 1\.5"):
        PCA(variance=1.5)
    with pytest.raises(DataError, match="k = 9 components but the samples have only 6"):
        PCA(k=9).fit(correlated())


# ----------------------------------------------------------------------------- whitening
def test_pca_whitening_has_unit_diagonal_covariance():
    X = correlated()
    pre = PCAWhiten(eps=1e-8).fit(X)
    C = cov(pre(X))
    assert torch.allclose(torch.diagonal(C), torch.ones(6, dtype=torch.float64), atol=1e-3)
    assert (C - torch.diag(torch.diagonal(C))).abs().max() < 1e-3


def test_pca_whitening_eps_shrinks_small_directions_as_formula():
    X = correlated()
    eps = 1.0
    pre = PCAWhiten(eps=eps).fit(X)
    S = torch.linalg.eigvalsh(cov(X)).flip(0)
    assert torch.allclose(torch.diagonal(cov(pre(X))), S / (S + eps), atol=1e-3)


def test_zca_whitening_identity_covariance_symmetric_and_closest_to_input():
    X = correlated()
    pre = ZCAWhiten(eps=1e-8).fit(X)
    out = pre(X)
    assert torch.allclose(cov(out), torch.eye(6, dtype=torch.float64), atol=1e-3)
    W = pre.matrix.double()
    assert torch.allclose(W, W.T, atol=1e-5)
    assert torch.linalg.eigvalsh(W).min() > 0           # symmetric positive definite: no rotation
    # any other whitening is Q W for an orthogonal Q; ZCA's output is the closest to the input
    Xc = (X - X.mean(0)).double()
    zca_distance = ((Xc @ W - Xc) ** 2).sum(1).mean()
    pca = PCAWhiten(eps=1e-8).fit(X)
    assert ((Xc @ pca.matrix.double() - Xc) ** 2).sum(1).mean() > zca_distance
    g = torch.Generator().manual_seed(3)
    for _ in range(5):
        Q, _r = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=torch.float64))
        assert ((Xc @ W @ Q - Xc) ** 2).sum(1).mean() > zca_distance


def test_zca_keeps_image_shape_and_whitens_pixels():
    X = images(n=800)
    pre = fit_preprocess(["center", {"name": "zca", "eps": 1e-6}], X)
    out = pre(X)
    assert out.shape == X.shape
    assert torch.allclose(cov(out), torch.eye(48, dtype=torch.float64), atol=2e-3)
    X_test = images(n=100, seed=5) + 1.0
    assert pre(X_test).mean().abs() > 0.1              # the training mean and matrix, not refitted


def _numpy_reference(name, options, X_train, X_test):
    """The transform of X_test computed with NumPy from the training split only (float64)."""
    tr = X_train.reshape(len(X_train), -1).double().numpy()
    te = X_test.reshape(len(X_test), -1).double().numpy()
    mean = tr.mean(axis=0)
    S, U = np.linalg.eigh((tr - mean).T @ (tr - mean) / len(tr))
    S, U = np.clip(S[::-1], 0, None), U[:, ::-1]
    k = options.get("k", len(S))
    if name == "pca":
        W = U[:, :k]
    elif name == "pca_whiten":
        W = U[:, :k] / np.sqrt(S[:k] + options["eps"])
    else:
        W = U / np.sqrt(S + options["eps"]) @ U.T
    return (te - mean) @ W


@pytest.mark.parametrize("name, options", [
    ("pca", {"k": 4}), ("pca", {}), ("pca_whiten", {"k": 5, "eps": 1e-3}), ("zca", {"eps": 1e-3})])
def test_held_out_data_goes_through_the_training_statistics(name, options):
    """Fit on train, transform test: equal to a NumPy reference built from the train split alone,
    and far from what test-fitted statistics would give (the test data is shifted and rescaled)."""
    X_train = correlated(n=500, seed=0)
    shuffled = torch.randperm(6, generator=torch.Generator().manual_seed(1))
    X_test = 1.5 * correlated(n=200, seed=7)[:, shuffled] + 5           # another distribution
    pre = fit_preprocess([{"name": name, **options}], X_train)
    out = pre(X_test).double().numpy()
    ref = _numpy_reference(name, options, X_train, X_test)
    if name != "zca":                       # eigenvectors are defined up to sign: align each column
        ref = ref * np.sign((ref * out).sum(axis=0))
    scale = np.abs(ref).max()
    assert out.shape == ref.shape
    assert np.abs(out - ref).max() < 1e-4 * scale
    refit = fit_preprocess([{"name": name, **options}], X_test)(X_test).double().numpy()
    assert np.abs(refit.mean(axis=0)).max() < 1e-4 * scale  # test-fitted statistics would center it,
    assert (np.abs(out.mean(axis=0)) / out.std(axis=0)).max() > 0.5   # the training mean does not


# ----------------------------------------------------------------------------- saving and loading
SPECS = [
    ["center"],
    [{"name": "center", "per_channel": True}, {"name": "standardize", "per_channel": True}],
    ["standardize", {"name": "pca", "variance": 0.9}],
    [{"name": "pca_whiten", "k": 7}],
    ["center", {"name": "zca", "eps": 1e-2}],
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: "+".join(e if isinstance(e, str) else e["name"] for e in s))
def test_state_dict_round_trip_gives_identical_outputs(spec, tmp_path):
    X, X_test = images(), images(n=30, seed=9)
    fitted = fit_preprocess(spec, X)
    fresh = make_preprocess(spec)
    assert not fresh.fitted
    fresh.load_state_dict(fitted.state_dict())
    assert fresh.fitted and torch.equal(fresh(X_test), fitted(X_test))
    save_model(fitted, str(tmp_path / "pre.safetensors"))
    from_file = make_preprocess(spec)
    load_model(from_file, str(tmp_path / "pre.safetensors"), strict=True)
    assert torch.equal(from_file(X_test), fitted(X_test))


def test_saved_inside_the_model_with_nn_sequential(tmp_path):
    X = images()
    spec = ["center", {"name": "zca", "eps": 1e-2}]
    torch.manual_seed(0)
    model = nn.Sequential(fit_preprocess(spec, X), nn.Flatten(), nn.Linear(48, 3))
    save_model(model, str(tmp_path / "model.safetensors"))
    restored = nn.Sequential(make_preprocess(spec), nn.Flatten(), nn.Linear(48, 3))
    load_model(restored, str(tmp_path / "model.safetensors"), strict=True)
    assert torch.equal(restored(X[:10]), model(X[:10]))
    assert any(k.endswith("matrix") for k in model.state_dict())


def test_loading_statistics_saved_with_other_options_is_an_error():
    X = images()
    saved = make_preprocess(["center"]).fit(X).state_dict()
    with pytest.raises(RuntimeError, match="per_channel = true but the saved mean"):
        make_preprocess([{"name": "center", "per_channel": True}]).load_state_dict(saved)
    saved = make_preprocess([{"name": "pca", "k": 3}]).fit(X).state_dict()
    with pytest.raises(RuntimeError, match="k = 4 but the saved matrix keeps 3"):
        make_preprocess([{"name": "pca", "k": 4}]).load_state_dict(saved)


# ----------------------------------------------------------------------------- errors and config
def test_unfitted_transform_has_a_clear_error():
    with pytest.raises(ConfigError, match="'zca' is not fitted: call .fit"):
        ZCAWhiten()(torch.randn(4, 3))


def test_data_errors_name_the_problem():
    pre = Center().fit(torch.randn(10, 4))
    with pytest.raises(DataError, match=r"shape \(5,\) but it was fitted on samples of shape \(4,\)"):
        pre(torch.randn(3, 5))
    with pytest.raises(DataError, match="per_channel = true needs images"):
        Center(per_channel=True).fit(torch.randn(10, 4))
    with pytest.raises(DataError, match="NaN"):
        Standardize().fit(torch.tensor([[1.0, float("nan")], [2.0, 3.0]]))
    with pytest.raises(DataError, match="at least 2 training samples"):
        Center().fit(torch.randn(1, 4))
    pc = Center(per_channel=True).fit(images())
    with pytest.raises(DataError, match="3 channels"):
        pc(torch.randn(2, 1, 4, 4))


def test_config_errors_name_entry_and_option():
    with pytest.raises(ConfigError, match=r"preprocess\[1\]: unknown preprocess 'zac' \(did you mean 'zca'\?\)"):
        make_preprocess(["center", "zac"])
    with pytest.raises(ConfigError, match=r"preprocess\[0\] \(zca\): unknown option 'epsilon' \(did you mean 'eps'\?\)"):
        make_preprocess([{"name": "zca", "epsilon": 0.1}])
    with pytest.raises(ConfigError, match=r"preprocess\[0\]: zca\.eps = -1\.0: must be a number > 0"):
        make_preprocess([{"name": "zca", "eps": -1}])
    with pytest.raises(ConfigError, match="needs name"):
        make_preprocess([{"eps": 0.1}])
    with pytest.raises(ConfigError, match="must be a list"):
        make_preprocess(3)


def test_registry_description_lists_every_option_with_its_default():
    info = describe(PREPROCESSING)
    assert set(info) == {"center", "standardize", "pca", "pca_whiten", "zca", "impute", "quantile"}
    assert info["zca"]["options"]["eps"]["default"] == 1e-5
    assert info["pca_whiten"]["options"]["eps"]["default"] == 1e-5
    assert info["standardize"]["options"]["per_channel"]["default"] is False
    for name, cls in PREPROCESSING.items():
        for option, meta in info[name]["options"].items():
            assert meta["doc"] and getattr(cls(), option) == meta["default"]


def test_pipeline_fits_each_step_on_the_previous_output():
    X = correlated()
    pre = fit_preprocess(["standardize", {"name": "pca", "k": 3}], X)
    assert isinstance(pre, Pipeline) and pre.output_shape((6,)) == (3,)
    Z = StandardScaler().fit_transform(X.double().numpy())
    sk = SkPCA(n_components=3, svd_solver="full").fit(Z)
    assert np.allclose(pre[1].eigenvalues.double().numpy(), sk.explained_variance_ * (599 / 600), rtol=1e-4)


def test_integer_images_are_accepted_and_output_is_float():
    X = torch.randint(0, 256, (50, 1, 4, 4), dtype=torch.uint8)
    out = Center(per_channel=True).fit(X)(X)
    assert out.dtype == torch.float32
    assert out.mean().abs() < 1e-4


def test_a_fitted_transform_moves_between_devices_and_dtypes_like_any_module():
    # nn.Module.to() goes through Module._apply; a transform must not shadow it
    from trainwell.data.transforms import fit_preprocess

    X = torch.randn(50, 4, generator=torch.Generator().manual_seed(0))
    pre = fit_preprocess(["standardize"], X).to("cpu").double()
    assert pre(X.double()).dtype == torch.float64


# ------------------------------------------------------------------------------ impute
def test_impute_replaces_each_code_by_its_columns_training_median_and_resumes_exactly():
    from trainwell.data.transforms import Impute
    g = torch.Generator().manual_seed(0)
    X = torch.randn(200, 3, generator=g)
    X[::10, 1] = -999.0
    X[5::20, 1] = -998.0
    X[::25, 2] = 9999.0
    pre = fit_preprocess([{"name": "impute", "codes": [[1, -999.0], [1, -998.0], [2, 9999.0]]}], X)
    out = pre(X)
    m1 = X[:, 1][(X[:, 1] != -999.0) & (X[:, 1] != -998.0)].double().median().float()
    m2 = X[:, 2][X[:, 2] != 9999.0].double().median().float()
    assert torch.equal(out[::10, 1], m1.expand(20)) and torch.equal(out[5::20, 1], m1.expand(10))
    assert torch.equal(out[::25, 2], m2.expand(8)) and torch.equal(out[:, 0], X[:, 0])
    test = torch.tensor([[0.5, -999.0, 1.0]])                    # the training median, not the test rows'
    assert pre(test)[0, 1] == m1
    again = Impute(codes=[[1, -999.0], [1, -998.0], [2, 9999.0]])
    again.load_state_dict(pre[0].state_dict())
    assert torch.equal(again(X), out)


@pytest.mark.parametrize("codes, words", [([], "non-empty list"), ([[1]], "pairs"), ([["a", 1.0]], "pairs"),
                                          ([[-1, 0.0]], "column index >= 0"), (None, "codes is required")])
def test_impute_options_are_checked(codes, words):
    with pytest.raises(ConfigError, match=words):
        fit_preprocess([{"name": "impute", "codes": codes}], torch.randn(10, 2))


def test_impute_names_a_column_the_data_lacks_and_an_all_code_column():
    with pytest.raises(DataError, match="column 5"):
        fit_preprocess([{"name": "impute", "codes": [[5, 0.0]]}], torch.randn(10, 2))
    X = torch.randn(10, 2)
    X[:, 1] = -1.0
    with pytest.raises(DataError, match="only its codes"):
        fit_preprocess([{"name": "impute", "codes": [[1, -1.0]]}], X)


# ------------------------------------------------------------------------------ quantile
def heavy_table(n, seed):
    """A log-normal amount (sigma 2.5), a normal column, a Poisson count (ties) and a constant column."""
    g = np.random.default_rng(seed)
    return np.column_stack([np.exp(7 + 2.5 * g.normal(size=n)), g.normal(size=n), g.poisson(2.0, n),
                            np.ones(n)]).astype(np.float32)


@pytest.mark.parametrize("n_quantiles", [1000, 50])
def test_quantile_equals_scikit_learns_quantile_transformer_on_training_and_new_rows(n_quantiles):
    from sklearn.preprocessing import QuantileTransformer
    X, new = heavy_table(3000, 0), heavy_table(500, 1)
    new[:, 3] = np.random.default_rng(2).normal(size=500)          # beyond a constant column's training value
    new[:5, 0] = [1e-9, 1e12, 0.0, 3.0, 1e7]                        # beyond the training range, and inside it
    pre = fit_preprocess([{"name": "quantile", "n_quantiles": n_quantiles}], torch.tensor(X))
    reference = QuantileTransformer(n_quantiles=n_quantiles, output_distribution="normal", subsample=3000,
                                    random_state=0).fit(X.astype(np.float64))
    for rows in (X, new):
        assert np.allclose(pre(torch.tensor(rows)).numpy(), reference.transform(rows.astype(np.float64)), atol=1e-5)


def test_quantile_maps_only_its_columns_spreads_a_heavy_tail_and_resumes_exactly():
    from trainwell.data.transforms import Quantile
    X = torch.tensor(heavy_table(2000, 0))
    pre = fit_preprocess([{"name": "quantile", "columns": [0]}, "standardize"], X)
    out = pre(X)
    scaled = fit_preprocess(["standardize"], X)(X)
    band = lambda c: float(c.quantile(0.9) - c.quantile(0.1))       # noqa: E731 (the middle 80 % of the rows)
    assert band(scaled[:, 0]) < 0.5 and band(out[:, 0]) > 2.0       # standardized raw: a sliver; mapped: a normal's
    assert torch.allclose(out[:, 1:3], scaled[:, 1:3])              # the other columns only standardized
    again = Pipeline(Quantile(columns=[0]), Standardize())
    again.load_state_dict(pre.state_dict())
    assert torch.equal(again(X), out)


def test_quantile_options_and_shapes_are_checked():
    with pytest.raises(ConfigError, match="column indices"):
        make_preprocess([{"name": "quantile", "columns": []}])
    with pytest.raises(ConfigError, match=">= 2"):
        make_preprocess([{"name": "quantile", "n_quantiles": 1}])
    with pytest.raises(DataError, match="column 5"):
        fit_preprocess([{"name": "quantile", "columns": [5]}], torch.randn(10, 2))
    with pytest.raises(DataError, match=r"\(N, D\)"):
        fit_preprocess(["quantile"], torch.randn(10, 2, 3))
    pre = fit_preprocess(["quantile"], torch.randn(10, 2))
    with pytest.raises(DataError, match="2 features"):
        pre(torch.randn(4, 3))
