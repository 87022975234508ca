"""Preprocessing fitted on the training split only: centering, standardization, PCA, whitening,
missing-value codes, quantile maps.

notes 002: "At inference time: apply the same transformation (e.g. mean subtraction) with values
extracted from the training data." So every transform here is fitted once, ``fit(X_train)``, and
then applied unchanged to every split: ``forward(X)`` never looks at the statistics of ``X``.

Each transform is a small ``nn.Module`` whose statistics are **buffers**. They are therefore part
of ``state_dict()``: saved in safetensors with the model (as ``nn.Sequential(preprocess, model)``
or as a file of their own) and restored by ``load_state_dict``. Buffers start empty and take the
shape of what is loaded, so ``make_preprocess(spec)`` followed by ``load_state_dict(saved)`` (or
``safetensors.torch.load_model``) gives back the fitted pipeline without refitting.

Statistics are computed in float64 and stored in float32. Inputs are ``(N, D)`` features or
``(N, C, H, W)`` images (any ``(N, ...)``); PCA and whitening flatten each sample to ``D`` values.

    pre = fit_preprocess(["center", {"name": "zca", "eps": 1e-2}], X_train)
    X_test_white = pre(X_test)          # the training mean and whitening matrix
"""
from __future__ import annotations

import torch
from torch import nn

from trainwell.errors import ConfigError, DataError
from trainwell.options import Option, check_options, did_you_mean, misspelt_key, must_be


# ----------------------------------------------------------------------------- option checks
def set_options(obj, options: dict, **values) -> None:
    """Check a constructor's keywords against ``{name: Option}`` and set them as attributes of
    ``obj``; errors name the entry and the option: ``zca.eps = -1.0: must be a number > 0``."""
    for key, value in check_options(obj.name, values, options, label="{where}.{name}").items():
        setattr(obj, key, value)


def _not_both_k_and_variance(owner: str, k, variance) -> None:
    if k is not None and variance is not None:
        raise ConfigError(f"{owner}: give k (components kept) or variance (fraction kept), not both "
                          f"(got k = {k}, variance = {variance})")


# ----------------------------------------------------------------------------- the base class
class Transform(nn.Module):
    """A preprocessing step: ``fit(X_train) -> self`` computes buffers; ``forward(X)`` applies them.

    Subclasses set ``name`` (the registry key), ``OPTIONS`` (``{option: Option}``, the keywords
    of their constructor, which checks them with ``set_options``) and implement ``_fit(X64)``
    (``X64`` a float64 tensor of shape ``(N, ...)``) and ``_transform(X)``. Every buffer is empty
    until fitted or loaded.
    """

    name = ""
    OPTIONS: dict[str, Option] = {}

    @property
    def fitted(self) -> bool:
        return all(b.numel() > 0 for b in self._buffers.values())

    # What ``fit`` needs beyond the mean: None, "var" (per reduced position, like the mean) or
    # "cov" (the D x D covariance of flattened samples). data/streaming.py computes the same
    # moments chunk by chunk and hands them to ``fit_moments``.
    SECOND_MOMENT: str | None = None

    def fit(self, X) -> "Transform":
        X64 = _training_tensor(X, self.name)
        with torch.no_grad():
            self._fit(X64)
        return self

    def reduce_dims(self, ndim: int) -> tuple:
        """The dimensions of an ``ndim``-d batch the mean is taken over (samples, and pixels when
        the statistics are per channel)."""
        return (0,)

    def _fit(self, X):
        """The moments of ``X`` (float64, in memory), then ``fit_moments``."""
        dims = self.reduce_dims(X.ndim)
        mean = X.mean(dim=dims, keepdim=True)
        second = None
        if self.SECOND_MOMENT == "var":
            second = ((X - mean) ** 2).mean(dim=dims, keepdim=True)
        elif self.SECOND_MOMENT == "cov":
            centered = (X - mean).reshape(X.shape[0], -1)
            second = centered.T @ centered / X.shape[0]
        self.fit_moments(mean, second)

    def fit_moments(self, mean: torch.Tensor, second: torch.Tensor | None) -> None:
        """Set the buffers from the training mean (keepdim shape: 1 x sample, or 1 x C x 1 x 1
        per channel) and the ``SECOND_MOMENT`` (float64)."""
        raise NotImplementedError

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if not self.fitted:
            raise ConfigError(f"preprocess {self.name!r} is not fitted: call .fit(X_train) first "
                              f"(or build it with fit_preprocess(spec, X_train))")
        X = torch.as_tensor(X)
        if not torch.is_floating_point(X):
            X = X.float()
        self._check_shape(X)
        return self._transform(X)

    def output_shape(self, sample_shape: tuple) -> tuple:
        """The shape of one transformed sample (PCA changes it; the others keep it)."""
        return tuple(sample_shape)

    def _register_empty(self, *names: str) -> None:
        for name in names:
            self.register_buffer(name, torch.empty(0))

    def _store(self, name: str, value: torch.Tensor) -> None:
        buf = getattr(self, name)
        self._buffers[name] = value.to(device=buf.device, dtype=torch.float32).contiguous()

    def _check_shape(self, X: torch.Tensor) -> None:
        expected = tuple(self.mean.shape)
        if tuple(X.shape[1:]) != expected:
            raise DataError(f"preprocess {self.name!r}: samples have shape {tuple(X.shape[1:])} but it "
                            f"was fitted on samples of shape {expected}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # Buffers take the shape of the saved statistics (an unfitted module has empty buffers).
        for name, buf in list(self._buffers.items()):
            incoming = state_dict.get(prefix + name)
            if buf is not None and incoming is not None and incoming.shape != buf.shape:
                self._buffers[name] = torch.empty(incoming.shape, dtype=buf.dtype, device=buf.device)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)
        problem = self._loaded_problem() if self.fitted else None
        if problem:
            error_msgs.append(f"{prefix or self.name}: {problem}")

    def _loaded_problem(self) -> str | None:
        """What is wrong with loaded statistics for this module's options (None: nothing)."""
        return None

    def extra_repr(self) -> str:
        options = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.OPTIONS)
        return options + ("" if self.fitted else ", unfitted")


def _training_tensor(X, name: str) -> torch.Tensor:
    """The training data as float64, with errors that say what is wrong with it."""
    try:
        X = torch.as_tensor(X)
    except (TypeError, ValueError, RuntimeError) as e:
        raise DataError(f"preprocess {name!r}: training data is not an array ({e})") from None
    if X.ndim < 2:
        raise DataError(f"preprocess {name!r}: training data must be (N, D) or (N, C, H, W); "
                        f"got shape {tuple(X.shape)}")
    if X.shape[0] < 2:
        raise DataError(f"preprocess {name!r}: needs at least 2 training samples to fit (got {X.shape[0]})")
    X = X.detach().to(torch.float64)
    if not bool(torch.isfinite(X).all()):   # once per fit, not per step
        raise DataError(f"preprocess {name!r}: training data contains NaN or infinite values")
    return X


def _channel_dims(ndim: int, name: str) -> tuple:
    if ndim < 3:
        raise DataError(f"preprocess {name!r} with per_channel = true needs images (N, C, H, W); "
                        f"got {ndim}-d data")
    return (0, *range(2, ndim))


# ----------------------------------------------------------------------------- center, standardize
class Center(Transform):
    """Subtract the training mean: the mean image (AlexNet) or one mean per channel (VGGNet).

    x' = x − μ,  μ = mean over training samples (and over pixels when ``per_channel``).
    notes 000/004: "In practice for images: center only."
    """

    name = "center"
    OPTIONS = {"per_channel": Option(bool, False, "one mean per channel of (N, C, H, W) images instead "
                                     "of a mean image", source="notes 000/004: per-channel mean, e.g. VGGNet")}

    def __init__(self, *, per_channel: bool = False):
        super().__init__()
        set_options(self, self.OPTIONS, per_channel=per_channel)
        self._register_empty("mean")

    def reduce_dims(self, ndim):
        return _channel_dims(ndim, self.name) if self.per_channel else (0,)

    def fit_moments(self, mean, second):
        self._store("mean", mean[0])

    def _transform(self, X):
        return X - self.mean.to(X.dtype)

    def _check_shape(self, X):
        _check_stat_shape(self, X)

    def _loaded_problem(self):
        return _per_channel_problem(self)


class Standardize(Transform):
    """Subtract the training mean and divide by the training standard deviation.

    x' = (x − μ) / σ,  σ² = mean((x − μ)²) over training samples (per feature, or per channel).
    Features whose training variance is ≤ ``eps`` are only centered (σ taken as 1), as in
    scikit-learn's StandardScaler: dividing a constant training feature (the blank border of a
    digit) by ~0 would blow up any test value there. notes 004: "Scale input variables to have
    similar diagonal covariances ... Rescaling to 1 is a good choice."
    """

    name = "standardize"
    OPTIONS = {"per_channel": Option(bool, False, "one mean and std per channel of (N, C, H, W) images",
                                     source="notes 000/004: per-channel statistics"),
               "eps": Option(float, 1e-8, "variance at or below which a feature is only centered",
                             source="scikit-learn's StandardScaler rule (constant features are only "
                                    "centered); 1e-8: trainwell convention",
                             check=must_be(lambda v: v >= 0, "a number >= 0"))}

    def __init__(self, *, per_channel: bool = False, eps: float = 1e-8):
        super().__init__()
        set_options(self, self.OPTIONS, per_channel=per_channel, eps=eps)
        self._register_empty("mean", "scale")

    SECOND_MOMENT = "var"

    def reduce_dims(self, ndim):
        return _channel_dims(ndim, self.name) if self.per_channel else (0,)

    def fit_moments(self, mean, var):
        scale = torch.where(var > self.eps, var.sqrt(), torch.ones_like(var))
        self._store("mean", mean[0])
        self._store("scale", scale[0])

    def _transform(self, X):
        return (X - self.mean.to(X.dtype)) / self.scale.to(X.dtype)

    def _check_shape(self, X):
        _check_stat_shape(self, X)

    def _loaded_problem(self):
        return _per_channel_problem(self)


def _check_stat_shape(t: Transform, X: torch.Tensor) -> None:
    if not t.per_channel:
        return Transform._check_shape(t, X)
    channels = t.mean.shape[0]
    if X.ndim != t.mean.ndim + 1 or X.shape[1] != channels:
        raise DataError(f"preprocess {t.name!r} (per_channel): samples have shape {tuple(X.shape[1:])} "
                        f"but it was fitted on images with {channels} channels")


def _per_channel_problem(t: Transform) -> str | None:
    is_channelwise = t.mean.ndim >= 2 and all(s == 1 for s in t.mean.shape[1:])
    if t.per_channel and not is_channelwise:
        return (f"per_channel = true but the saved mean has shape {tuple(t.mean.shape)} "
                f"(a mean image, saved with per_channel = false)")
    return None


# ----------------------------------------------------------------------------- PCA and whitening
class _Linear(Transform):
    """x' = (x − μ) W on flattened samples, W from the eigendecomposition of the training covariance.

    notes 000: "After centring the data compute the covariance matrix cov = Xᵀ X / N; compute
    its SVD U, S, V = svd(cov); de-correlate the data: Xrot = X U." (``eigh`` gives the same U, S
    for a symmetric positive semi-definite matrix.) Buffers: ``mean`` (one sample's shape),
    ``matrix`` W (D × k) and ``eigenvalues`` S (k, the variances along the kept directions).
    Subclasses define ``_matrix(S, U) -> W`` from the eigenvalues and eigenvectors kept.
    """

    def __init__(self):
        super().__init__()
        self._register_empty("mean", "matrix", "eigenvalues")

    SECOND_MOMENT = "cov"

    def fit_moments(self, mean, cov):
        S, U = torch.linalg.eigh(cov)                     # ascending
        S, U = S.flip(0).clamp_min(0), U.flip(1)          # descending; round-off can give -1e-17
        k = self._components(S)
        self._store("mean", mean[0])
        self._store("eigenvalues", S[:k])
        self._store("matrix", self._matrix(S[:k], U[:, :k]))

    def _components(self, S: torch.Tensor) -> int:
        return S.shape[0]

    def _transform(self, X):
        flat = X.reshape(X.shape[0], -1) - self.mean.reshape(-1).to(X.dtype)
        return flat @ self.matrix.to(X.dtype)


# Slack for float64 round-off in the cumulative share of the variance (~1e-16 per term): with
# variance = 1.0 every component with nonzero variance is kept, and no more.
SHARE_ROUND_OFF = 1e-12
_COMPONENTS = must_be(lambda k: k >= 1, "a whole number >= 1 (components kept) or none")
_SHARE = must_be(lambda v: 0 < v <= 1, "a fraction in (0, 1] (share of the variance kept) or none")
_WHITEN_EPS = Option(float, 1e-5, "ε added to each eigenvalue before the square root",
                     source="CS231n via notes 000/004: Xrot / np.sqrt(S + 1e-5)",
                     check=must_be(lambda v: v > 0, "a number > 0"))


class _Reduces(_Linear):
    """PCA-based transforms keep k components, given directly or as a fraction of the variance."""

    def _components(self, S):
        D = S.shape[0]
        if self.k is not None:
            if self.k > D:
                raise DataError(f"preprocess {self.name!r}: k = {self.k} components but the samples "
                                f"have only {D} values")
            return self.k
        if self.variance is None:
            return D
        total = S.sum()
        if total <= 0:
            raise DataError(f"preprocess {self.name!r}: the training data has zero variance")
        kept = torch.cumsum(S, 0) / total
        # the fewest components whose share of the variance reaches `variance`
        return int((kept < self.variance - SHARE_ROUND_OFF).sum()) + 1

    def output_shape(self, sample_shape):
        if not self.fitted:
            raise ConfigError(f"preprocess {self.name!r}: the output size is known only after fit")
        return (self.matrix.shape[1],)

    def _loaded_problem(self):
        if self.k is not None and self.matrix.shape[1] != self.k:
            return f"k = {self.k} but the saved matrix keeps {self.matrix.shape[1]} components"
        return None


class PCA(_Reduces):
    """Project centered samples onto the top-k eigenvectors of the training covariance.

    x' = (x − μ) U_k, output shape (N, k). k from ``k``, or the fewest components whose
    eigenvalues sum to at least ``variance`` of the total, or all D when neither is given
    (a pure rotation: notes 000 "de-correlate the data"). Output covariance: diag(S_1..S_k).
    """

    name = "pca"
    OPTIONS = {"k": Option((int, type(None)), None, "number of principal components kept, e.g. 144; "
                           "none: all, or set by variance",
                           source="notes 004: 'top 144 eigenvectors' of CIFAR images", check=_COMPONENTS),
               "variance": Option((float, type(None)), None, "keep the fewest components explaining at "
                                  "least this fraction of the variance, e.g. 0.99",
                                  source="scikit-learn's PCA(n_components=0.99) rule", check=_SHARE)}

    def __init__(self, *, k: int | None = None, variance: float | None = None):
        super().__init__()
        set_options(self, self.OPTIONS, k=k, variance=variance)
        _not_both_k_and_variance(self.name, self.k, self.variance)

    def _matrix(self, S, U):
        return U


class PCAWhiten(_Reduces):
    """PCA, then divide each component by its standard deviation: covariance ≈ identity.

    x' = (x − μ) U_k diag(1 / √(S_k + ε)), output shape (N, k). ε keeps directions of near-zero
    variance (pixel noise) from being amplified without bound; with ε the output covariance is
    diag(S / (S + ε)), ≈ 1 where S ≫ ε. ε = 1e-5 is the CS231n value (notes 000/004 borrow
    from CS231n: "Xwhite = Xrot / np.sqrt(S + 1e-5)").
    """

    name = "pca_whiten"
    OPTIONS = {"eps": _WHITEN_EPS,
               "k": Option((int, type(None)), None, "number of components kept (none: all, or set by "
                           "variance)", check=_COMPONENTS),
               "variance": Option((float, type(None)), None, "keep the fewest components explaining at "
                                  "least this fraction of the variance",
                                  source="scikit-learn's PCA(n_components=0.99) rule", check=_SHARE)}

    def __init__(self, *, eps: float = 1e-5, k: int | None = None, variance: float | None = None):
        super().__init__()
        set_options(self, self.OPTIONS, eps=eps, k=k, variance=variance)
        _not_both_k_and_variance(self.name, self.k, self.variance)

    def _matrix(self, S, U):
        return U / torch.sqrt(S + self.eps)


class ZCAWhiten(_Linear):
    """Zero-phase (Mahalanobis) whitening: whiten, then rotate back to the pixel basis.

    x' = (x − μ) W,  W = U diag(1 / √(S + ε)) Uᵀ (symmetric). Output keeps the input's shape
    (whitened images still look like images: edges), covariance ≈ I. Among all whitening
    matrices, ZCA's output is the closest to its input in mean squared distance (Kessy, Lewin &
    Strimmer 2018, "Optimal whitening and decorrelation"). ε as for PCA whitening (CS231n 1e-5);
    on images with more pixels than samples raise it (e.g. 1e-2) so the null space is not amplified.
    """

    name = "zca"
    OPTIONS = {"eps": _WHITEN_EPS}

    def __init__(self, *, eps: float = 1e-5):
        super().__init__()
        set_options(self, self.OPTIONS, eps=eps)

    def _matrix(self, S, U):
        return (U / torch.sqrt(S + self.eps)) @ U.T

    def _transform(self, X):
        return super()._transform(X).reshape(X.shape)

    def _loaded_problem(self):
        D = self.mean.numel()
        if tuple(self.matrix.shape) != (D, D):
            return f"the saved matrix has shape {tuple(self.matrix.shape)}, expected ({D}, {D})"
        return None


# ----------------------------------------------------------------------------- missing-value codes
def _codes_ok(codes) -> bool:
    return isinstance(codes, (list, tuple)) and len(codes) > 0 and all(
        isinstance(c, (list, tuple)) and len(c) == 2 and isinstance(c[0], int) and not isinstance(c[0], bool)
        and c[0] >= 0 and isinstance(c[1], (int, float)) and not isinstance(c[1], bool) for c in codes)


class Impute(Transform):
    """Replace a column's missing-value code by the column's training median (of its other rows).

    x'_j = m_j where x_j == code_j, else x_j; m_j = median of the training rows whose x_j != code_j.
    ``codes``: ``[[column, code], ...]`` on (N, D) features (the babysitter's missing-value check
    names them: babysit/value_codes.py). A column may carry several codes; each is left out of its
    median. The preprocessing a user writes (``df[col].replace(code, np.nan).fillna(median)``,
    notes 002: statistics from the training split only); standardize after it.
    """

    name = "impute"
    OPTIONS = {"codes": Option((list, tuple, type(None)), None, "[[column, code], ...]: the value in that column "
                               "that stands for a missing reading (required to fit)",
                               source="notes 002: preprocessing statistics from the training split",
                               check=must_be(lambda v: v is None or _codes_ok(v),
                                             "a non-empty list of [column index >= 0, number] pairs"))}

    def __init__(self, *, codes=None):
        super().__init__()
        set_options(self, self.OPTIONS, codes=codes)
        self._register_empty("column", "code", "fill")

    def _columns(self, shape: tuple) -> list[int]:
        """The coded columns, checked against the training data's ``shape``."""
        if self.codes is None:
            raise ConfigError("preprocess 'impute': codes is required: [[column, code], ...] (the value in each "
                              "column that stands for a missing reading)")
        if len(shape) != 2:
            raise DataError(f"preprocess 'impute': needs (N, D) features; got training data of shape {tuple(shape)}")
        columns = [int(c) for c, _ in self.codes]
        if max(columns) >= shape[1]:
            raise DataError(f"preprocess 'impute': codes name column {max(columns)} but the training data has "
                            f"{shape[1]} columns")
        return columns

    def _fit(self, X):
        self._fit_columns({c: X[:, c] for c in self._columns(tuple(X.shape))})

    def fit_chunks(self, chunks) -> None:
        """Streamed rows (data/streaming.fit_streamed): the coded columns gathered chunk by chunk
        (a median needs every value of its column, not the whole rows: memory of N values per
        coded column), then fitted as in memory."""
        values = {}
        for chunk in chunks:
            for c in self._columns(tuple(chunk.shape)):
                values.setdefault(c, []).append(chunk[:, c].double())
        if not values:
            raise DataError("preprocess 'impute': no training rows to fit on")
        self._fit_columns({c: torch.cat(parts) for c, parts in values.items()})

    def _fit_columns(self, values: dict) -> None:
        """The fills from each coded column's training values (``values[column]``, 1-d)."""
        columns = [int(c) for c, _ in self.codes]
        fills = []
        for c in columns:
            column_codes = torch.tensor([float(v) for j, v in self.codes if j == c], dtype=torch.float64)
            rest = values[c][~torch.isin(values[c], column_codes.to(torch.float32).double())]
            if rest.numel() == 0:
                raise DataError(f"preprocess 'impute': column {c} holds only its codes in the training data")
            fills.append(float(rest.median()))
        self._store("column", torch.tensor(columns, dtype=torch.float64))
        self._store("code", torch.tensor([float(v) for _, v in self.codes], dtype=torch.float64))
        self._store("fill", torch.tensor(fills, dtype=torch.float64))

    def fit_moments(self, mean, second):
        raise DataError("preprocess 'impute': fits from its columns' values (fit or fit_chunks), not from moments")

    def _check_shape(self, X):
        if X.ndim != 2 or X.shape[1] <= int(self.column.max()):
            raise DataError(f"preprocess 'impute': samples have shape {tuple(X.shape[1:])} but it was fitted on "
                            f"features with column {int(self.column.max())}")

    def _transform(self, X):
        X = X.clone()
        for c, code, fill in zip(self.column.long().tolist(), self.code.to(X.dtype), self.fill.to(X.dtype)):
            X[:, c] = torch.where(X[:, c] == code, fill, X[:, c])
        return X


# ----------------------------------------------------------------------------- heavy tails
def _columns_ok(columns) -> bool:
    return columns is None or (isinstance(columns, (list, tuple)) and len(columns) > 0 and all(
        isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in columns))


BOUNDS = 1e-7   # scikit-learn's BOUNDS_THRESHOLD: a value within it of the training extremes maps to them


def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """``np.interp`` row by row: ``x`` (k, N) against the non-decreasing knots ``xp`` (k, Q) and their
    values ``fp`` (Q,); the last knot of a run of equal ones, as numpy's search takes it."""
    j = (torch.searchsorted(xp.contiguous(), x.contiguous(), right=True) - 1).clamp(0, xp.shape[1] - 2)
    x0, x1 = xp.gather(1, j), xp.gather(1, j + 1)
    f0, f1 = fp[j], fp[j + 1]
    t = torch.where(x1 > x0, (x - x0) / (x1 - x0).clamp_min(torch.finfo(x.dtype).tiny), torch.zeros_like(x))
    return torch.where(x >= xp[:, -1:], fp[-1].expand_as(x), f0 + t.clamp(0, 1) * (f1 - f0))


class Quantile(Transform):
    """Map columns through their training quantiles onto a standard normal (scikit-learn's
    ``QuantileTransformer(output_distribution="normal")``).

    x'_j = Phi^-1(F_j(x_j)), F_j the piecewise-linear map of column j's ``n_quantiles`` training
    quantiles onto [0, 1] (ties averaged, values beyond the training range at its ends) and Phi^-1
    the standard normal's quantile function, clipped at +-5.2 (scikit-learn's bounds). ``columns``:
    the columns mapped (none: every column); the others pass unchanged. For a heavy-tailed column
    (an amount, a count of many values) whose standard deviation its tail sets, so that standardizing
    leaves most rows in a sliver of its range (notes 002: features of comparable scale; the
    babysitter's ``unnormalized_inputs`` names such columns): a monotone map keeps the order of the
    rows and spreads them. Fitted by scikit-learn, applied in torch; ``(N, D)`` features only.
    """

    name = "quantile"
    OPTIONS = {"columns": Option((list, tuple, type(None)), None, "the columns mapped (none: every column)",
                                 check=must_be(_columns_ok, "a non-empty list of column indices >= 0 or none")),
               "n_quantiles": Option(int, 1000, "training quantiles kept per column (at most the rows)",
                                     source="scikit-learn's QuantileTransformer default",
                                     check=must_be(lambda v: v >= 2, "a whole number >= 2"))}

    def __init__(self, *, columns=None, n_quantiles: int = 1000):
        super().__init__()
        set_options(self, self.OPTIONS, columns=columns, n_quantiles=n_quantiles)
        self._register_empty("features", "column", "quantiles", "references")

    def _columns(self, shape: tuple) -> list[int]:
        """The mapped columns, checked against the training data's ``shape``."""
        if len(shape) != 2:
            raise DataError(f"preprocess 'quantile': needs (N, D) features; got training data of shape {tuple(shape)}")
        columns = list(range(shape[1])) if self.columns is None else [int(c) for c in self.columns]
        if max(columns) >= shape[1]:
            raise DataError(f"preprocess 'quantile': columns name column {max(columns)} but the training data has "
                            f"{shape[1]} columns")
        return columns

    def _fit(self, X):
        columns = self._columns(tuple(X.shape))
        self._fit_columns(X[:, columns], columns, X.shape[1])

    def fit_chunks(self, chunks) -> None:
        """Streamed rows (data/streaming.fit_streamed): the mapped columns gathered chunk by chunk
        (N values per mapped column in memory), then fitted as in memory."""
        parts, width = [], None
        for chunk in chunks:
            width = chunk.shape[1] if chunk.ndim == 2 else None
            parts.append(chunk[:, self._columns(tuple(chunk.shape))].double())
        if not parts:
            raise DataError("preprocess 'quantile': no training rows to fit on")
        self._fit_columns(torch.cat(parts), self._columns((1, width)), width)

    def _fit_columns(self, values: torch.Tensor, columns: list, width: int) -> None:
        from sklearn.preprocessing import QuantileTransformer

        fitted = QuantileTransformer(n_quantiles=min(self.n_quantiles, values.shape[0]), output_distribution="normal",
                                     subsample=values.shape[0], random_state=0).fit(values.numpy())
        self._store("features", torch.tensor([float(width)]))
        self._store("column", torch.tensor(columns, dtype=torch.float64))
        self._store("quantiles", torch.from_numpy(fitted.quantiles_))
        self._store("references", torch.from_numpy(fitted.references_))

    def fit_moments(self, mean, second):
        raise DataError("preprocess 'quantile': fits from its columns' values (fit or fit_chunks), not from moments")

    def _check_shape(self, X):
        if X.ndim != 2 or X.shape[1] != int(self.features):
            raise DataError(f"preprocess 'quantile': samples have shape {tuple(X.shape[1:])} but it was fitted on "
                            f"{int(self.features)} features")

    def _transform(self, X):
        columns = self.column.long()
        x = X[:, columns].double().T                        # (k, N)
        q, ref = self.quantiles.double().T, self.references.double()
        u = 0.5 * (_interp(x, q, ref) - _interp(-x, -q.flip(1), -ref.flip(0)))
        u = torch.where(x - BOUNDS < q[:, :1], 0.0, torch.where(x + BOUNDS > q[:, -1:], 1.0, u))   # scikit-learn's order
        edge = BOUNDS - torch.finfo(torch.float64).eps
        z = torch.special.ndtri(u.clamp(edge, 1 - edge))
        out = X.clone()
        out[:, columns] = z.T.to(X.dtype)
        return out


# ----------------------------------------------------------------------------- pipeline and config
class Pipeline(nn.Sequential):
    """Transforms applied in order; ``fit`` fits each one on the output of the ones before it."""

    def fit(self, X) -> "Pipeline":
        X = torch.as_tensor(X).to(torch.float64)
        with torch.no_grad():
            for step in self:
                step.fit(X)
                X = step(X)
        return self

    @property
    def fitted(self) -> bool:
        return all(step.fitted for step in self)

    def output_shape(self, sample_shape: tuple) -> tuple:
        for step in self:
            sample_shape = step.output_shape(sample_shape)
        return tuple(sample_shape)


PREPROCESSING = {
    "center": Center,
    "standardize": Standardize,
    "pca": PCA,
    "pca_whiten": PCAWhiten,
    "zca": ZCAWhiten,
    "impute": Impute,
    "quantile": Quantile,
}


def describe(registry: dict) -> dict:
    """Machine-readable options of every entry: ``{name: {"doc", "options": {opt: {"default",
    "doc", "source"}}}}``, read from each class's ``OPTIONS``."""
    return {name: {"doc": (cls.__doc__ or "").strip().splitlines()[0],
                   "options": {opt: {"default": o.default, "doc": o.doc, "source": o.source}
                               for opt, o in cls.OPTIONS.items()}}
            for name, cls in registry.items()}


def build_from_spec(spec, registry: dict, *, key: str) -> list:
    """Instantiate each entry of a config list (``"name"`` or ``{"name": ..., **options}``).

    Errors name the list (``key``), the entry's index, the name or option and what is allowed.
    """
    if isinstance(spec, (str, dict)):
        spec = [spec]
    if not isinstance(spec, (list, tuple)):
        raise ConfigError(f"{key} = {spec!r}: must be a list of names or tables, "
                          f"e.g. [\"center\", {{name = \"zca\", eps = 0.01}}]")
    built = []
    for i, entry in enumerate(spec):
        where = f"{key}[{i}]"
        if isinstance(entry, str):
            name, options = entry, {}
        elif isinstance(entry, dict):
            options = dict(entry)
            name = options.pop("name", None)
            if not isinstance(name, str):
                raise ConfigError(f"{where} = {entry!r}: a table needs name = one of "
                                  f"{', '.join(sorted(registry))}{misspelt_key(entry, 'name')}")
        else:
            raise ConfigError(f"{where} = {entry!r}: must be a name or a table with name = ...")
        if not isinstance(name, str) or name not in registry:
            raise ConfigError(f"{where}: unknown {key} {name!r}{did_you_mean(name, registry)}; "
                              f"allowed: {', '.join(sorted(registry))}")
        cls = registry[name]
        options = check_options(f"{where} ({name})", options, cls.OPTIONS, label=f"{where}: {name}.{{name}}")
        try:
            built.append(cls(**options))
        except ConfigError as e:     # a rule between options, e.g. pca's k and variance
            raise ConfigError(f"{where}: {e}") from None
    return built


def make_preprocess(spec) -> Pipeline:
    """An unfitted pipeline from config, e.g. ``["center", {"name": "zca", "eps": 1e-2}]``."""
    return Pipeline(*build_from_spec(spec, PREPROCESSING, key="preprocess"))


def check_preprocess_spec(spec) -> None:
    """Config validation of ``preprocess``: building the unfitted pipeline checks every entry's
    name and options (nothing is fitted)."""
    make_preprocess(spec)


def fit_preprocess(spec, X_train) -> Pipeline:
    """Build the pipeline from config and fit it on the training inputs (and only on them)."""
    return make_preprocess(spec).fit(X_train)
