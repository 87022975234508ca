"""Columns whose tail sets their scale, whose bulk the labels read: ``unnormalized_inputs``.

notes 002 (preprocessing): scale the features so that they have comparable ranges. Standardizing
divides a column by its standard deviation, and a heavy tail sets that: an amount drawn log-normal
with sigma 2.5 (log units) has a standard deviation hundreds of times its median, so after
(x - mean) / std the middle 80 % of its rows lie within 0.05 standard scores of each other (0.07 on
set 28's 1,440 claims) where a normal column's span 2.56. A network at its init reads those rows as
nearly one value (what sets them apart reaches its first layer 35-50x weaker than through a column
of comparable scale) while the
tail's rows, tens of standard scores out, dominate the gradient of the column's weights. Scaling is
no cure (it is what made the column so); a monotone map before it is: the log of an amount, or a
quantile map (scikit-learn's ``QuantileTransformer``; the preprocess ``quantile``).

``squashed_columns`` measures, per column of a table (2-D inputs; a sample of
``label_relation.MAX_COLUMNS`` columns of a wider one) on up to ``data_checks.STATS_ROWS`` rows, the
spread of its middle rows (``BULK`` to 1 - ``BULK`` percentiles) over its standard deviation,
scale-free: a normal column gives 2.56, a uniform one 2.77, a log-normal of sigma 1, 2 or 3 about
1.5, 0.24 and 0.006 (population values; a sample's standard deviation varies with its largest rows:
of 1,440 rows drawn log-normal with sigma 2.5, 77 % are squashed, with sigma 3, 99 %).
A column is squashed below ``SQUASHED``, a tenth of a normal column's (an order of magnitude, as
``data_checks.WHOLE_SCALE``), where its middle band holds at least ``MIN_DISTINCT`` distinct values: a
flag, a small count or a sparse column whose middle rows sit at one or a few values has no spread
there to lose.

A squashed column costs the run only where the labels depend on what sets its middle rows apart:
a flat background whose rare ink makes the tail (a pixel), or an id, is read through its tail or
not at all. ``heavy_tailed_columns`` keeps the squashed columns whose middle rows relate to the
targets by ``label_relation.column_relations``' chi-square test on their rank bins (classes, or a
1-D target cut into ``label_relation.BINS`` rank bins), at ``label_relation.ALPHA`` over the columns
tested (Bonferroni): scale-free, it reads the order of the rows the scaling squeezes together. A
column that relates there carries what the labels need, so the unseen-rows reading of the labels
(``label_relation.reread``: memorized rows that do not carry over, ``uninformative_inputs`` or
``label_problem``) and the class probes' overlap (``absorbing_class``) are what a model at that
scale shows: the finding names them in ``evidence["explains"]``; the doctor's experiment grades it
by training the columns quantile-mapped (``interventions``' "quantile inputs"), and a finding it
makes ``info`` explains nothing.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from trainwell.babysit.label_relation import ALPHA, BINS, MAX_COLUMNS, column_relations
from trainwell.babysit.value_codes import MIN_DISTINCT
from trainwell.data.transforms import Quantile

STATS_ROWS = 2000         # the rows read (data_checks.STATS_ROWS)
BULK = 0.1                # the middle band: 10th to 90th percentile (80 % of the rows)
NORMAL_BULK = 2.5631      # a normal column's band over its std: 2 x Phi^-1(0.9)
SQUASHED = NORMAL_BULK / 10   # squashed: a band an order of magnitude narrower than a normal column's
EXPLAINS = ("uninformative_inputs", "label_problem")   # the label checks a squashed column that relates misleads


def _band(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each column's ``BULK`` and 1 - ``BULK`` percentiles (linear interpolation, as ``torch.quantile``,
    which refuses inputs of more than 2^24 values: a wide flattened table), from the sorted columns."""
    s = x.T.contiguous().sort(dim=1).values      # a column per row: a sort along contiguous memory

    def at(p):
        pos = p * (x.shape[0] - 1)
        lo = int(pos)
        return s[:, lo] + (pos - lo) * (s[:, min(lo + 1, x.shape[0] - 1)] - s[:, lo])
    return at(BULK), at(1 - BULK)


def squashed_columns(X) -> dict[int, float]:
    """``{column: band / std}`` for the columns of a 2-D float table whose middle band (``BULK`` to
    1 - ``BULK`` percentiles, at least ``MIN_DISTINCT`` distinct values in it) spans less than
    ``SQUASHED`` of their standard deviation, on up to ``STATS_ROWS`` rows; columns holding
    non-finite values are left to ``nonfinite_data``."""
    if not torch.is_tensor(X) or X.ndim != 2 or not torch.is_floating_point(X) or X.shape[0] < 2:
        return {}
    x = X[:STATS_ROWS].detach().cpu()
    columns = torch.arange(x.shape[1])
    if columns.numel() > MAX_COLUMNS:       # a wide flattened table: a sample of its columns (a sort of each)
        columns = torch.randperm(x.shape[1], generator=torch.Generator().manual_seed(0))[:MAX_COLUMNS].sort().values
    x = x[:, columns].double()
    finite = torch.isfinite(x).all(dim=0)
    std = x.std(dim=0)
    low, high = _band(torch.nan_to_num(x))
    ratio = (high - low) / std.clamp_min(1e-300)
    out = {}
    for i in torch.nonzero(finite & (std > 0) & (ratio < SQUASHED)).flatten().tolist():
        band = x[:, i][(x[:, i] >= low[i]) & (x[:, i] <= high[i])]
        if torch.unique(band).numel() >= MIN_DISTINCT:
            out[int(columns[i])] = float(ratio[i])
    return out


def label_groups(y) -> torch.Tensor | None:
    """The targets as group ids the chi-square test reads: class ids as they are, a 1-D (or (N, 1))
    float target of more than ``BINS`` values cut into ``BINS`` rank bins; None for other targets."""
    if not torch.is_tensor(y) or y.shape[0] < 2 or y.reshape(y.shape[0], -1).shape[1] != 1:
        return None
    t = y.reshape(-1).detach().cpu()
    if not torch.is_floating_point(t):
        return t.long()
    if not bool(torch.isfinite(t).all()):
        return None
    values, groups = torch.unique(t, return_inverse=True)
    if values.numel() <= BINS:
        return groups
    rank = torch.empty(t.numel(), dtype=torch.long)
    rank[torch.argsort(t, stable=True)] = torch.arange(t.numel())
    return rank * BINS // t.numel()


def heavy_tailed_columns(X, y) -> dict[int, dict]:
    """``{column: {"bulk_spread", "p"}}``: the ``squashed_columns`` whose middle-band rows relate to
    the targets ``y`` (``label_groups``) by ``column_relations``' chi-square test at ``ALPHA`` over the
    squashed columns tested; empty where ``y`` cannot be grouped."""
    squashed = squashed_columns(X)
    groups = label_groups(y) if squashed else None
    if groups is None:
        return {}
    groups = groups[:min(X.shape[0], STATS_ROWS)]
    out = {}
    for j, spread in squashed.items():
        column = X[:STATS_ROWS, j:j + 1].detach().cpu().double()
        low, high = _band(column)
        band = (column[:, 0] >= low) & (column[:, 0] <= high)
        rel = column_relations(column[band], groups[band])
        if rel is not None and float(rel["p"][0]) < ALPHA / len(squashed):
            out[j] = {"bulk_spread": spread, "p": float(rel["p"][0])}
    return out


def heavy_tail_reason(found: dict) -> str:
    """The ``unnormalized_inputs`` reason for ``heavy_tailed_columns``' ``found``."""
    columns = sorted(found, key=lambda j: found[j]["bulk_spread"])
    j = columns[0]
    return (f"{len(columns)} column(s) {columns[:10]}{' ...' if len(columns) > 10 else ''} have a heavy tail that sets "
            f"their scale: the middle 80 % of column {j}'s rows spans {found[j]['bulk_spread']:.2g} of its standard "
            f"deviation (a normal column's: {NORMAL_BULK:.2f}), so scaled by it most rows sit in a sliver of its range, "
            f"yet their order relates to the targets (chi-square p = {found[j]['p']:.2g} on those rows): map the "
            f"column monotonically before scaling (its log, or preprocess quantile)")


def quantile_arm(model, X, y, loss_fn) -> Callable | None:
    """``interventions``' fitted edit for the "quantile inputs" arm: a forward pre-hook that maps the
    ``heavy_tailed_columns`` of the rows ``X`` (targets ``y``) through the preprocess ``quantile``
    fitted on those rows, as the repair would; None where no column is heavy-tailed."""
    columns = sorted(heavy_tailed_columns(X, y))
    if not columns:
        return None
    device = next((p.device for p in model.parameters()), X.device)
    mapped = Quantile().fit(X[:, columns].detach().cpu()).to(device)     # those columns' values alone in memory

    def mapping(module, args):
        x = args[0].clone()
        x[:, columns] = mapped(args[0][:, columns])
        return (x, *args[1:])

    def edit(net, seed):
        net.register_forward_pre_hook(mapping)
    return edit
