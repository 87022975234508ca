"""``trainwell.visualize(run_dir, ...)``: the first layer's filters, t-SNE of the penultimate
layer, saliency and occlusion maps of a run (trainwell/geometry/visualize.py), as PNGs in
``run_dir/geometry/`` and a section of the run's report."""
from __future__ import annotations

import numpy as np
import torch

from trainwell.errors import ConfigError
from trainwell.geometry.run_landscape import add_figures, refresh_report
from trainwell.geometry.runs import check_seed, open_run
from trainwell.geometry.visualize import (MIN_TSNE_SAMPLES, OCCLUSION_PATCH, OCCLUSION_STRIDE, SHOWN_IMAGES,
                                          TSNE_SAMPLES, check_occlusion, first_layer_filters, image_shape,
                                          occlusion, penultimate, saliency, tsne)
from trainwell.options import MAX_NUMPY_SEED
from trainwell.train.rundir import lock_run_dir, make_directory


def visualize(run_dir, *, model=None, images: int = SHOWN_IMAGES, tsne_samples: int = TSNE_SAMPLES,
              patch: int = OCCLUSION_PATCH, stride: int = OCCLUSION_STRIDE, seed: int = 0) -> dict:
    """Draws the figures that apply to the run's model and data; returns ``{png name: title}``
    and, under "skipped", why a figure was not drawn."""
    from trainwell.geometry import plots   # lazily: matplotlib is slow to import

    check_seed(seed, MAX_NUMPY_SEED, "scikit-learn's random_state, t-SNE's seed")
    for name, value, least in (("images", images, 1), ("tsne_samples", tsne_samples, MIN_TSNE_SAMPLES)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ConfigError(f"{name} = {value!r}: must be an integer >= {least}")
    rd = open_run(run_dir, model=model)
    X, y = rd.test if rd.test is not None else rd.train
    shape = image_shape(rd.train[0].shape[1:])
    out = make_directory(rd.out_dir)
    figures, skipped = {}, {}
    integer_classes = not torch.is_floating_point(y)
    if shape is not None and integer_classes:     # occlusion is drawn last: its options first
        check_occlusion(shape, patch, stride)
    with lock_run_dir(rd.run.run_dir):
        filters = first_layer_filters(rd.model, shape)
        if filters is None:
            skipped["filters"] = "the first layer is neither a conv layer nor a linear layer on images"
        else:
            plots.image_grid(filters, out / "filters.png", title="first-layer filters")
            figures["filters.png"] = ("first-layer filters", "The first layer's weights as images, each "
                                      "scaled to its own range (notes 001: learned features should show structure).")
        if integer_classes:
            idx = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(seed))[:tsne_samples]
            points = tsne(penultimate(rd.model, X[idx]), seed=seed)
            plots.scatter(points, y[idx].cpu().numpy(), out / "tsne.png", title="t-SNE of the penultimate layer")
            figures["tsne.png"] = ("t-SNE of the penultimate layer", f"{len(idx)} samples of the "
                                   f"{'test' if rd.test is not None else 'training'} split, coloured by class.")
        else:
            skipped["tsne"] = "regression targets have no classes to colour by"
        if shape is None or not integer_classes:
            skipped["saliency"] = skipped["occlusion"] = "needs image inputs and class labels"
        else:
            Xs, ys = X[:images], y[:images]
            shown = shape.to_images(Xs).detach().cpu()
            shown = shown[:, 0] if shape.image[0] == 1 else shown.permute(0, 2, 3, 1)
            sal = saliency(rd.model, Xs, ys, shape).numpy()
            labels = [f"class {int(c)}" for c in ys]
            if shape.image[0] == 1:       # the images above their maps (RGB: the maps alone)
                sal, labels = np.concatenate([shown.numpy(), sal]), labels + ["saliency"] * len(labels)
            plots.image_grid(sal, out / "saliency.png", title="saliency |d score / d input|",
                             labels=labels, cols=len(ys))
            figures["saliency.png"] = ("saliency maps", "Test images (top) and the gradient magnitude of "
                                       "their class score (bottom; Simonyan et al. 2014).")
            fill = rd.train[0].reshape(rd.train[0].shape[0], *shape.image).mean(dim=(0, 2, 3))
            occ = occlusion(rd.model, Xs, ys, shape, fill=fill, patch=patch, stride=stride)
            plots.image_grid(occ.numpy(), out / "occlusion.png", cmap="magma", cols=len(ys),
                             title=f"occlusion: probability drop ({patch}x{patch} grey patch)",
                             labels=[f"class {int(c)}" for c in ys])
            figures["occlusion.png"] = ("occlusion maps", f"Drop in the probability of the true class when "
                                        f"a {patch}x{patch} patch of the mean input value covers each position "
                                        f"(Zeiler & Fergus 2014; notes 001).")
        add_figures(out, figures)
    refresh_report(rd.run.run_dir)
    return {**{png: title for png, (title, _) in figures.items()}, "skipped": skipped}
