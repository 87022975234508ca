"""Rows each multiplied by a factor of their own, spread over decades: ``uninformative_inputs`` (a warning).

The fault: every row divided by one of its own values, as price windows are taken relative to their
first price (``x / x[:, :1] - 1``), applied where that value can be near zero (a zero-mean signal, a
count that can be 0.001). The quotient of a value by a continuous quantity whose density is not zero
at 0 has a Pareto tail of index 1 (P(1 / |z| > t) ~ 2 f(0) / t: the Cauchy's tail), so the rows'
scales spread over orders of magnitude and their signs flip at random, while every column, each
mixing all the rows, can look standardized. What a row's own pattern says sits under a factor that
has nothing to do with its target: the few largest rows set every feature's spread and the others
are squeezed near one point.

Two measurements, both needed:

1. *The rows' scales spread over decades* (``row_scales``): each row's robust scale, the median over
   its entries of |x - the column's median| / the column's median absolute deviation (columns whose
   deviation is 0 are left out; at least ``MIN_FEATURES`` must remain), so that one large entry does
   not set it: a factor shared by the row's entries does. The ``TAIL`` and 1 - ``TAIL`` quantiles of
   the rows' scales at least ``SPREAD`` apart (data_checks.SCALE_SPREAD's two decades). A standard
   normal divisor gives ~200 between the 1st and 99th percentiles; rows of standardized independent
   columns ~2-3; a natural size shared by a row's entries (a customer's spend in every category,
   log-normal) reaches 100 only at a log-spread of 1.
2. *The scale hides what the rows say* (the intervention): the probes of ``first_layer`` (a linear
   model, nearest neighbours and, for signals and images, random convolutions; fitted on 2/3 of the
   rows, scored on the rest) on the rows each divided by its own scale do better than on the rows as
   they are, by the kill rule (``first_layer.MIN_DROP`` of accuracy, ``first_layer.LOSS_RATIO`` of
   squared error) and significantly (``first_layer.significant_drop``: paired tests at
   ``first_layer.ALPHA`` split over the probes). Where the row's size is information (the big
   customer buys more), dividing it out loses that and the probes do no better: quiet. Where the scale
   comes from the source and says nothing (recordings at gains 100x apart) the finding stands too:
   its fix also says to divide each row by a robust scale of its own.

Read on at most ``first_layer.ROWS`` training rows on the host (a row's scale on at most ``ENTRIES`` of
its entries), before any loss is computed; inputs that are not floats, or of fewer than
``first_layer.MIN_ROWS`` rows, are not read.
"""
from __future__ import annotations

import torch

from trainwell.babysit import first_layer
from trainwell.babysit.findings import Finding, make

MIN_FEATURES = 8          # a row's scale is the median of at least 8 of its entries (one large entry cannot set it)
TAIL = 0.01               # the rows' scales are compared at their 1st and 99th percentiles ...
SPREAD = 100.0            # ... at least 100x apart: two decades (data_checks.SCALE_SPREAD's spread of feature scales)
DEVIATION_FLOOR = 1e-12   # a column whose median absolute deviation is under this share of its size does not vary
ENTRIES = 4096            # a wider row's scale is read on this many of its entries, evenly spaced (a median of
                          # thousands moves by a few % at most)


def row_scales(x: torch.Tensor) -> torch.Tensor | None:
    """Each row's robust scale (see the module docstring) of the 2-D float64 ``x``; None when fewer than
    ``MIN_FEATURES`` columns vary."""
    med = x.median(dim=0).values
    mad = (x - med).abs().median(dim=0).values
    varying = mad > DEVIATION_FLOOR * (1 + med.abs())
    if int(varying.sum()) < MIN_FEATURES:
        return None
    return ((x[:, varying] - med[varying]).abs() / mad[varying]).median(dim=1).values


def spread(scales: torch.Tensor) -> dict | None:
    """The rows' scales at the ``TAIL``, 0.5 and 1 - ``TAIL`` quantiles and their outer ratio, over the
    rows whose scale is above 0; None when fewer than half the rows have one."""
    positive = scales[scales > 0]
    if positive.numel() < scales.numel() / 2:
        return None
    low, mid, high = torch.quantile(positive, torch.tensor([TAIL, 0.5, 1 - TAIL], dtype=positive.dtype)).tolist()
    return {"low": low, "median": mid, "high": high, "ratio": high / low}


def check_row_scale(X, y, *, class_ids: bool, seed: int = 0) -> list[Finding]:
    """``uninformative_inputs`` (a warning) when the training rows' own scales spread over at least
    ``SPREAD`` and the probes predict the rows better with each divided by its scale (see the module
    docstring). ``X``, ``y``: the training rows and targets; ``class_ids``: the targets are class ids."""
    if not torch.is_tensor(X) or not torch.is_floating_point(X) or not torch.is_tensor(y) \
            or X.dim() < 2 or X.shape[0] != y.shape[0] or X.shape[0] < first_layer.MIN_ROWS:
        return []
    n = min(X.shape[0], first_layer.ROWS)
    x, t = X[:n].detach().cpu(), y[:n].detach().cpu()
    rows = torch.isfinite(x.reshape(n, -1)).all(dim=1)
    if torch.is_floating_point(t):
        rows &= torch.isfinite(t.reshape(n, -1)).all(dim=1)
    x, t = x[rows], t[rows]
    class_ids = class_ids and t.reshape(t.shape[0], -1).shape[1] == 1
    if x.shape[0] < first_layer.MIN_ROWS or (class_ids and torch.unique(t).numel() < 2):
        return []
    flat = x.reshape(x.shape[0], -1)
    if flat.shape[1] > ENTRIES:             # a wide row's scale read on ENTRIES of its entries, evenly spaced
        flat = flat[:, torch.linspace(0, flat.shape[1] - 1, ENTRIES).long()]
    scales = row_scales(flat.double())
    if scales is None:
        return []
    seen = spread(scales)
    if seen is None or seen["ratio"] < SPREAD:
        return []
    divisor = torch.where(scales > 0, scales, torch.ones_like(scales)).to(x.dtype).reshape(-1, *[1] * (x.dim() - 1))
    results = first_layer.probe_drop(x / divisor, [x], t, class_ids=class_ids, seed=seed)
    better = first_layer.significant_drop(results, class_ids)
    if better is None:
        return []
    measure = "accuracy" if class_ids else "squared error"
    return [make(
        "uninformative_inputs",
        f"each training row carries a scale of its own, spread over decades (the rows' robust scales: "
        f"{seen['low']:.3g} at the {TAIL:g} quantile, {seen['median']:.3g} at the median, "
        f"{seen['high']:.3g} at the {1 - TAIL:g}, {seen['ratio']:.0f}x apart), and a {better['probe']} probe "
        f"predicts the rows better with each divided by its own scale ({measure} {better['raw']:.3g} against "
        f"{better['layers']:.3g} on the rows as they are; one-sided p = {better['p']:.2g}): a factor that tells "
        f"nothing about the target hides what the rows say, as when each row is divided by one of its own values "
        f"(x / x[:, :1]) that can be near zero",
        evidence={"row_scale_low": seen["low"], "row_scale_median": seen["median"], "row_scale_high": seen["high"],
                  "row_scale_ratio": seen["ratio"], "probe": better["probe"], "rescaled": better["raw"],
                  "as_given": better["layers"], "p": better["p"], "p_threshold": better["p_threshold"],
                  "rows": int(x.shape[0]), "per_row_factor": True},
        severity="warning",
        fix="scale every row by one factor from the training split (x / x_train.std()) instead of each row by one "
            "of its own values; where a ratio is meant, divide by a value that cannot be near zero, or take "
            "differences (x - x[:, :1]); where the rows' scale comes from the source and says nothing (a "
            "recording's gain), divide each row by a robust scale of its own (its RMS)")]
