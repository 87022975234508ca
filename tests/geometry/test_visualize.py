import json

import numpy as np
import pytest
import torch
from torch import nn

from trainwell.cli import main
from trainwell.errors import ConfigError
from trainwell.geometry.visualize import (ImageShape, first_layer_filters, image_shape, occlusion,
                                          penultimate, saliency, tsne)

from geometry_helpers import small_cnn


def test_image_shapes():
    assert image_shape((64,)).image == (1, 8, 8) and image_shape((3, 4, 5)).image == (3, 4, 5)
    assert image_shape((10,)) is None and image_shape((4, 4)).image == (1, 4, 4)


def test_first_layer_filters_are_the_weights():
    model = small_cnn()
    f = first_layer_filters(model, image_shape((1, 4, 4)))
    assert np.allclose(f, model[0].weight.detach()[:, 0].numpy())
    mlp = nn.Sequential(nn.Linear(16, 5), nn.ReLU(), nn.Linear(5, 2))
    rows = first_layer_filters(mlp, image_shape((16,)))
    assert np.allclose(rows[2], mlp[0].weight.detach()[2].reshape(4, 4).numpy())
    assert first_layer_filters(mlp, None) is None


def test_penultimate_is_the_input_of_the_last_linear_layer(images):
    X, _ = images
    model = small_cnn().eval()
    with torch.no_grad():
        expected = model[3](model[2](model[1](model[0](X))))
    assert torch.allclose(penultimate(model, X, batch_size=7), expected, atol=1e-6)


def test_tsne_is_seeded_and_separates_clusters():
    g = torch.Generator().manual_seed(0)
    feats = torch.cat([torch.randn(20, 10, generator=g), torch.randn(20, 10, generator=g) + 20])
    a, b = tsne(feats, seed=1), tsne(feats, seed=1)
    assert a.shape == (40, 2) and np.allclose(a, b)
    gap = np.linalg.norm(a[:20].mean(0) - a[20:].mean(0))
    assert gap > 3 * max(a[:20].std(0).max(), a[20:].std(0).max())
    with pytest.raises(ConfigError, match="at least 5 samples"):
        tsne(feats[:3])


def test_saliency_of_a_linear_model_is_its_weights():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    X, classes = torch.randn(4, 1, 4, 4), torch.tensor([0, 2, 1, 2])
    s = saliency(model, X, classes, ImageShape((1, 4, 4), (1, 4, 4)))
    for n, c in enumerate(classes):
        assert torch.allclose(s[n], model[1].weight[c].abs().reshape(4, 4).detach())


def test_occlusion_only_matters_where_the_model_looks():
    class OnePixel(nn.Module):     # the logit of class 1 is pixel (2, 3); class 0 is 0
        def forward(self, x):
            v = x.reshape(x.shape[0], 4, 4)[:, 2, 3]
            return torch.stack([torch.zeros_like(v), v], dim=1)

    X = torch.zeros(1, 16)
    X[0, 2 * 4 + 3] = 3.0
    maps = occlusion(OnePixel(), X, torch.tensor([1]), image_shape((16,)), fill=torch.zeros(1), patch=2)
    assert maps.shape == (1, 3, 3)
    p = torch.softmax(torch.tensor([0.0, 3.0]), 0)[1].item()
    covering = {(i, j) for i in range(3) for j in range(3) if i <= 2 <= i + 1 and j <= 3 <= j + 1}
    for i in range(3):
        for j in range(3):
            expected = p - 0.5 if (i, j) in covering else 0.0
            assert maps[0, i, j].item() == pytest.approx(expected, abs=1e-6)
    with pytest.raises(ConfigError, match="patch = 5"):
        occlusion(OnePixel(), X, torch.tensor([1]), image_shape((16,)), fill=torch.zeros(1), patch=5)


def test_cli_visualize_draws_every_figure(digits_runs, capsys):
    run_a, *_ = digits_runs
    assert main(["visualize", str(run_a), "--tsne-samples", "60", "--images", "3"]) == 0
    assert "tsne.png" in capsys.readouterr().out
    listed = json.loads((run_a / "geometry" / "figures.json").read_text())
    for png in ("filters.png", "tsne.png", "saliency.png", "occlusion.png"):
        assert png in listed and (run_a / "geometry" / png).is_file()
    assert "occlusion maps" in (run_a / "report.html").read_text()


@pytest.mark.parametrize("options, message", [
    (dict(images=-1), "images = -1: must be an integer >= 1"),
    (dict(images=0), "images = 0: must be an integer >= 1"),
    (dict(tsne_samples=4), "tsne_samples = 4: must be an integer >= 5"),
])
def test_visualize_refuses_counts_out_of_range_before_reading_the_run(tmp_path, options, message):
    """A negative --images would slice all but the last rows; the check names the option first."""
    from trainwell.geometry.run_visualize import visualize
    with pytest.raises(ConfigError, match=message):
        visualize(tmp_path / "no_run", **options)


def test_visualize_checks_the_occlusion_patch_before_drawing_any_figure(digits_runs):
    """The patch was checked when occlusion, the last figure, was drawn: the filters, t-SNE and
    saliency PNGs were written and left out of figures.json and the report."""
    from trainwell.geometry.run_visualize import visualize
    run = digits_runs[2]
    before = sorted((run / "geometry").glob("*.png")) if (run / "geometry").is_dir() else []
    with pytest.raises(ConfigError, match="patch = 9, stride = 1: need 1 <= patch <= 8"):
        visualize(run, patch=9, tsne_samples=60, images=3)
    after = sorted((run / "geometry").glob("*.png")) if (run / "geometry").is_dir() else []
    assert after == before
