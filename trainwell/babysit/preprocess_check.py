"""What the run's own preprocessing throws away (``uninformative_inputs``).

The ``preprocess`` steps a config names run on the inputs before the model sees them, fitted on the
training split. A step that drops directions or overwrites values can lose what the labels need, and
then no model and no lr recovers it: a ``pca`` with a variance share on columns in their own units
keeps the columns whose units are large (notes 000: PCA is taken on centered data whose dimensions
are comparable; a pressure in kPa outweighs a vibration in mm/s by its units alone), an ``impute``
whose code is a real value (a count of 0) makes rows that differ the same.

The same probes as ``first_layer.py`` compare the training rows before and after the pipeline
(``first_layer.probe_drop``: a linear and a nearest-neighbour probe, each on features standardized
on its fitted rows, scored on held-out rows with a paired test), so a rescaling of the columns never
reads as a loss, and the same rule judges a drop: at least the kill rule
(``first_layer.MIN_DROP`` of accuracy or ``LOSS_RATIO`` of squared error) and significant at
``first_layer.ALPHA`` split over the probes. A pipeline that is an invertible affine map of the rows
(``standardize``, a full ``pca``, whitening) loses nothing and is not probed (the nearest-neighbour
probe is not invariant to a whitening). Where the whole pipeline loses, each prefix of it is probed
to name the first step after which the loss shows.
"""
from __future__ import annotations

import torch

from trainwell.babysit import first_layer
from trainwell.babysit.findings import Finding, make

AFFINE = 1e-6   # share of the output's variance an affine fit of the inputs leaves: float rounding, not a loss


def _lossless(X: torch.Tensor, Z: torch.Tensor) -> bool:
    """Whether ``Z`` is an invertible affine map of ``X`` on these rows (a rescaling, a rotation, a
    whitening: nothing lost, though a distance-based probe reads it differently): ``Z`` fits
    ``[X, 1] W`` to ``AFFINE`` of its variance and keeps ``X``'s rank."""
    X, Z = X.reshape(X.shape[0], -1).double(), Z.reshape(Z.shape[0], -1).double()
    A = torch.cat([X - X.mean(0), torch.ones(X.shape[0], 1, dtype=X.dtype)], 1)
    Zc = Z - Z.mean(0)
    W = torch.linalg.lstsq(A, Zc, driver="gelsd").solution     # SVD: constant columns make A rank-deficient
    left = float(((A @ W - Zc) ** 2).sum()) / max(float((Zc ** 2).sum()), 1e-300)
    return left <= AFFINE and torch.linalg.matrix_rank(Zc) >= torch.linalg.matrix_rank(X - X.mean(0))


def _probe(X: torch.Tensor, Z: torch.Tensor, y: torch.Tensor, *, class_ids: bool, seed: int) -> dict | None:
    """The probe with the largest significant drop from ``X`` to ``Z`` (None: no such drop)."""
    results = first_layer.probe_drop(X, [Z], y, class_ids=class_ids, seed=seed)
    worst = first_layer.significant_drop(results, class_ids)
    return None if worst is None else {**worst, "probes": results}


def check_preprocess(preprocess, X, y, *, seed: int = 0) -> list[Finding]:
    """``uninformative_inputs`` (a warning) when a probe on the training rows after the fitted
    ``preprocess`` pipeline does significantly worse than the same probe on the rows before it.
    ``X``: the raw training inputs (a tensor; streamed inputs are not checked), ``y``: their targets
    (class ids where they are integers)."""
    if preprocess is None or not isinstance(X, torch.Tensor) or not torch.is_floating_point(X):
        return []
    class_ids = not torch.is_floating_point(y)
    n = min(X.shape[0], first_layer.ROWS)
    if n < first_layer.MIN_ROWS or (class_ids and torch.unique(y[:n]).numel() < 2):
        return []
    gen = torch.Generator().manual_seed(seed)
    rows = torch.randperm(X.shape[0], generator=gen)[:n]
    X, y = X[rows].cpu(), y[rows].cpu()
    if not torch.isfinite(X).all():     # NaN codes: the probes cannot read the raw rows
        return []
    steps = list(preprocess.children())
    device = next((b.device for b in preprocess.buffers()), X.device)
    with torch.no_grad():
        outputs, Z = [], X.to(device)
        for step in steps:
            Z = step(Z)
            outputs.append(Z.cpu())
    if not outputs:
        return []
    if X[0].numel() < n // 2 and _lossless(X, outputs[-1]):
        return []
    worst = _probe(X.double(), outputs[-1].double(), y, class_ids=class_ids, seed=seed)
    if worst is None:
        return []
    first = next((i for i, Z in enumerate(outputs[:-1])
                  if _probe(X.double(), Z.double(), y, class_ids=class_ids, seed=seed) is not None),
                 len(outputs) - 1)
    name = type(steps[first]).__name__
    score = ("accuracy {:.2f} on the raw rows and {:.2f} after it" if class_ids
             else "squared error {:.3g} on the raw rows and {:.3g} after it").format(worst["raw"], worst["layers"])
    return [make(
        "uninformative_inputs",
        f"the run's preprocessing loses what the inputs say about the targets: after step {first + 1} "
        f"({name}) of {len(steps)}, {tuple(X.shape[1:])} per row become {tuple(outputs[-1].shape[1:])}, and a "
        f"{worst['probe']} probe scores {score} ({int(n * first_layer.HELD_OUT)} held-out training rows, "
        f"paired p = {worst['p']:.2g}): no model can learn what the step threw away",
        evidence={"preprocess_step": first, "transform": name, "input_shape": tuple(X.shape[1:]),
                  "output_shape": tuple(outputs[-1].shape[1:]), "probes": worst["probes"],
                  "probe": worst["probe"], "raw_score": worst["raw"], "preprocessed_score": worst["layers"],
                  "p": worst["p"], "p_threshold": worst["p_threshold"]},
        where="preprocess", severity="warning",
        fix=f"change or drop the {name} step: standardize the columns before a pca (or keep every component), "
            "impute only a code that never occurs as a real value")]
