import pytest
import torch

from trainwell.errors import ConfigError, DataError
from trainwell.geometry.directions import (combine, load_directions, normalize, random_direction,
                                           random_directions, save_directions, weights_of)

from geometry_helpers import small_cnn


def test_filter_normalization_gives_each_filter_the_weights_filter_norm():
    w = weights_of(small_cnn())
    d = random_direction(w, seed=3)
    for name, t in w.items():
        if t.dim() <= 1:
            assert torch.count_nonzero(d[name]) == 0, name     # the paper's default: 1-D zeroed
            continue
        for i in range(t.shape[0]):
            assert torch.allclose(d[name][i].norm(), t[i].norm(), rtol=1e-5), (name, i)


def test_one_d_include_moves_biases_along_the_weights_and_layer_normalization():
    w = weights_of(small_cnn())
    d = random_direction(w, seed=3, one_d="include")
    assert torch.equal(d["0.bias"], w["0.bias"]) and torch.equal(d["1.weight"], w["1.weight"])
    layer = random_direction(w, seed=3, normalization="layer")
    assert torch.allclose(layer["4.weight"].norm(), w["4.weight"].norm(), rtol=1e-5)
    raw = random_direction(w, seed=3, normalization="none")
    assert not torch.allclose(raw["4.weight"].norm(), w["4.weight"].norm(), rtol=1e-2)


def test_directions_are_seeded_and_distinct():
    w = weights_of(small_cnn())
    a, b = random_directions(w, seed=5)
    again = random_direction(w, seed=5)
    assert torch.equal(a["0.weight"], again["0.weight"])
    assert not torch.equal(a["0.weight"], b["0.weight"])


def test_save_and_load_round_trip_with_the_seed(tmp_path):
    w = weights_of(small_cnn())
    ds = random_directions(w, seed=7)
    path = save_directions(tmp_path / "d.safetensors", ds, meta={"seed": 7, "normalization": "filter"})
    loaded, meta = load_directions(path)
    assert meta == {"seed": 7, "normalization": "filter"}
    assert all(torch.equal(x[k], y[k]) for x, y in zip(ds, loaded) for k in w)
    (tmp_path / "bad.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(DataError, match="bad.safetensors: not a trainwell directions file"):
        load_directions(tmp_path / "bad.safetensors")


def test_combine_and_bad_choices():
    w = weights_of(small_cnn())
    d = random_direction(w, seed=0)
    moved = combine(w, [d], [0.5])
    assert torch.allclose(moved["4.weight"], w["4.weight"] + 0.5 * d["4.weight"])
    with pytest.raises(ConfigError, match="normalization = 'filters': unknown; allowed: filter, layer, none"):
        normalize(d, w, normalization="filters")
    with pytest.raises(ConfigError, match="one_d = 'no'"):
        normalize(d, w, one_d="no")
