"""Precision lost in a cast (babysit/value_codes.find_rounded): a column stored in a short float format
whose step at its magnitude is coarse against its spread; quiet where the cast keeps the column."""
import numpy as np
import pytest
import torch

from trainwell.babysit.preflight import preflight
from trainwell.babysit.value_codes import ROUNDED_NOISE, check_value_codes, find_rounded
from torch import nn


def _coords(n=2000, seed=0):
    """Latitudes and longitudes of one city (47.36-47.40, 8.50-8.56) and a unit-scale column."""
    rng = np.random.default_rng(seed)
    return np.stack([47.38 + 0.01 * rng.standard_normal(n), 8.53 + 0.012 * rng.standard_normal(n),
                     rng.standard_normal(n)], 1)


def test_coordinates_cast_to_half_precision_are_found_with_their_noise():
    x = torch.tensor(_coords().astype(np.float16).astype(np.float64))
    found = find_rounded(x)
    assert [c["column"] for c in found] == [0]      # longitudes in [8, 16): a step of 2^-7 keeps 96 % of them
    lat = found[0]
    assert lat["format"] == "float16" and lat["step"] == 2.0 ** -5      # [32, 64): 2^5 x 2^-10
    assert lat["noise_share"] == pytest.approx(lat["step"] ** 2 / 12 / float(x[:, 0].std()) ** 2)
    assert lat["noise_share"] >= ROUNDED_NOISE
    f = check_value_codes(x)
    assert [(f_.code, f_.severity) for f_ in f] == [("uninformative_inputs", "warning")]
    assert "float16" in f[0].message and f[0].evidence["columns"] == [0]


def test_bfloat16_is_the_coarsest_format_named():
    rng = np.random.default_rng(1)
    v = torch.tensor(10 + 0.05 * rng.standard_normal((1500, 1))).to(torch.bfloat16).double()   # step 1/16 in [8, 16)
    assert [c["format"] for c in find_rounded(v)] == ["bfloat16"]


def test_casts_that_keep_the_column_are_quiet():
    rng = np.random.default_rng(2)
    assert find_rounded(torch.tensor(_coords())) == []                                    # float64 readings
    assert find_rounded(torch.tensor(_coords().astype(np.float32).astype(np.float64))) == []
    unit = rng.standard_normal((2000, 4)).astype(np.float16).astype(np.float64)            # standardized, then cast
    assert find_rounded(torch.tensor(unit)) == []
    halves = rng.integers(2, 11, (2000, 1)) / 2.0                                           # ratings in half steps
    assert find_rounded(torch.tensor(halves)) == []
    counts = rng.poisson(3.0, (2000, 2)).astype(np.float64)                                 # integers: a grid by nature
    assert find_rounded(torch.tensor(counts)) == []


def test_the_preflight_reports_it():
    X = torch.tensor(_coords().astype(np.float16).astype(np.float32))
    y = (X[:, 2] > 0).long()
    model = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2))
    found = preflight(model, X, y, cheap_only=True, seed=0)
    assert any(f.code == "uninformative_inputs" and "rounded" in f.evidence for f in found)


def test_data_on_a_coarser_grid_of_its_own_is_quiet():
    from sklearn.datasets import load_digits
    X, _ = load_digits(return_X_y=True)
    shifted = torch.tensor(X / 16.0 + 50.0)     # sixteenths at 50: float16 numbers, two of its steps apart
    assert bool((shifted.to(torch.float16).double() == shifted).all())
    assert find_rounded(shifted) == []
