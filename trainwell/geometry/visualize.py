"""Inside a trained network (notes 001, lecture 10 "Visualizing NNs"; notes 004 "Visualization"):
the first layer's filters as images, t-SNE of the penultimate layer's activations coloured by
class, saliency maps and occlusion maps. Each function takes a model and inputs (as the model
sees them) and returns arrays; ``visualize(run_dir)`` draws them for a run.

- Filters: "first layer, visualize the filter weights" (notes 001): a conv layer's kernels, or a
  linear layer's rows shaped like the input image.
- t-SNE (van der Maaten & Hinton 2008, scikit-learn's ``TSNE``) of the inputs to the last linear
  layer.
- Saliency (Simonyan et al. 2014): ``|d score_c / d x|``, the maximum over channels.
- Occlusion (Zeiler & Fergus 2014; notes 001: "place grey boxes and block the image"): a patch of
  the inputs' mean value slides over the image; the map is the drop in the class probability.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from trainwell.errors import ConfigError

TSNE_SAMPLES = 500       # t-SNE is O(n log n) per iteration; 500 points take seconds
TSNE_PERPLEXITY = 30.0   # van der Maaten & Hinton 2008 / scikit-learn's default
SHOWN_IMAGES = 8
SHOWN_FILTERS = 64
OCCLUSION_PATCH = 2      # pixels: a quarter of a digit's 8-pixel side
OCCLUSION_STRIDE = 1


@dataclass
class ImageShape:
    """How the model's flat or image inputs map to images: ``(C, H, W)`` and the model's shape."""

    image: tuple
    model: tuple

    def to_images(self, X: torch.Tensor) -> torch.Tensor:
        return X.reshape(X.shape[0], *self.image)

    def to_model(self, images: torch.Tensor) -> torch.Tensor:
        return images.reshape(images.shape[0], *self.model)


def image_shape(sample_shape) -> ImageShape | None:
    """Images behind the model's inputs: (C, H, W) as they are, (H, W) as one channel, a flat
    vector of a square size as a square one-channel image; None when there is no image."""
    shape = tuple(sample_shape)
    if len(shape) == 3:
        return ImageShape(shape, shape)
    if len(shape) == 2:
        return ImageShape((1, *shape), shape)
    if len(shape) == 1 and math.isqrt(shape[0]) ** 2 == shape[0]:
        side = math.isqrt(shape[0])
        return ImageShape((1, side, side), shape)
    return None


def first_layer_filters(model: nn.Module, shape: ImageShape | None) -> np.ndarray | None:
    """The first conv layer's kernels (N, kh, kw) or (N, kh, kw, 3) for RGB inputs (other channel
    counts: the mean over channels), or the first linear layer's rows shaped as the input image;
    None when neither exists."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            w = module.weight.detach().cpu()
            w = w.permute(0, 2, 3, 1) if w.shape[1] == 3 else w.mean(dim=1)
            return w[:SHOWN_FILTERS].numpy()
        if isinstance(module, nn.Linear):
            if shape is None or module.in_features != math.prod(shape.image):
                return None
            rows = module.weight.detach().cpu()[:SHOWN_FILTERS].reshape(-1, *shape.image)
            rows = rows.permute(0, 2, 3, 1) if shape.image[0] == 3 else rows.mean(dim=1)
            return rows.numpy()
    return None


def _last_linear(model: nn.Module) -> nn.Linear:
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ConfigError("penultimate activations: the model has no nn.Linear output layer")
    return layers[-1]


@torch.no_grad()
def penultimate(model: nn.Module, X: torch.Tensor, *, batch_size: int = 1024) -> torch.Tensor:
    """The inputs of the model's last nn.Linear (the last hidden layer's activations), eval mode."""
    model = copy.deepcopy(model).eval()
    seen = []
    handle = _last_linear(model).register_forward_pre_hook(lambda m, args: seen.append(args[0].flatten(1)))
    try:
        for i in range(0, X.shape[0], batch_size):
            model(X[i:i + batch_size])
    finally:
        handle.remove()
    return torch.cat(seen).cpu()


# The fewest samples t-SNE embeds: the perplexity, at most (n − 1)/3, stays above 1 neighbour.
MIN_TSNE_SAMPLES = 5


def tsne(features: torch.Tensor, *, seed: int = 0, perplexity: float = TSNE_PERPLEXITY) -> np.ndarray:
    """2-D t-SNE embedding of ``features`` (scikit-learn, PCA initialization, seeded)."""
    from sklearn.manifold import TSNE   # lazily: scikit-learn's manifold module is slow to import

    n = features.shape[0]
    if n < MIN_TSNE_SAMPLES:
        raise ConfigError(f"t-SNE needs at least {MIN_TSNE_SAMPLES} samples, got {n}")
    return TSNE(n_components=2, perplexity=min(perplexity, (n - 1) / 3), init="pca",
                random_state=seed).fit_transform(features.double().numpy())


def saliency(model: nn.Module, X: torch.Tensor, classes: torch.Tensor, shape: ImageShape) -> torch.Tensor:
    """``max_channels |d logit_c / d x|`` for each input and its class c: (N, H, W)."""
    model = copy.deepcopy(model).eval()
    images = shape.to_images(X.detach()).clone().requires_grad_(True)
    logits = model(shape.to_model(images))
    score = logits.gather(1, classes.reshape(-1, 1)).sum()
    (grad,) = torch.autograd.grad(score, images)
    return grad.abs().amax(dim=1).cpu()


def check_occlusion(shape: ImageShape, patch: int, stride: int) -> None:
    """``occlusion``'s patch within the images and a stride >= 1; ``trainwell.visualize`` checks
    them before it draws, so a bad one leaves no figures half drawn."""
    _, H, W = shape.image
    if not 1 <= patch <= min(H, W) or stride < 1:
        raise ConfigError(f"patch = {patch}, stride = {stride}: need 1 <= patch <= {min(H, W)} and stride >= 1")


@torch.no_grad()
def occlusion(model: nn.Module, X: torch.Tensor, classes: torch.Tensor, shape: ImageShape, *,
              fill: torch.Tensor, patch: int = OCCLUSION_PATCH, stride: int = OCCLUSION_STRIDE) -> torch.Tensor:
    """For each input, the drop in the probability of its class when a ``patch`` x ``patch``
    square (set to ``fill``, one value per channel: grey = the inputs' mean) covers each position
    (stride ``stride``); a map (N, H', W') with H' = (H - patch) // stride + 1."""
    check_occlusion(shape, patch, stride)
    _, H, W = shape.image
    model = copy.deepcopy(model).eval()
    images = shape.to_images(X)
    base = torch.softmax(model(X), dim=-1).gather(1, classes.reshape(-1, 1)).squeeze(1)
    rows, cols = range(0, H - patch + 1, stride), range(0, W - patch + 1, stride)
    maps = torch.zeros(X.shape[0], len(rows), len(cols))
    fill = fill.reshape(1, -1, 1, 1).to(X.device, X.dtype)
    for n in range(X.shape[0]):
        batch = images[n].expand(len(rows) * len(cols), *shape.image).clone()
        for k, (i, j) in enumerate((i, j) for i in rows for j in cols):
            batch[k, :, i:i + patch, j:j + patch] = fill[0]
        p = torch.softmax(model(shape.to_model(batch)), dim=-1)[:, classes[n]]
        maps[n] = (base[n] - p).reshape(len(rows), len(cols)).cpu()
    return maps
