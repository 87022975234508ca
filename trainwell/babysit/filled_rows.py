"""Rows whose features were filled in wholesale: ``uninformative_inputs``.

**Rows filled in wholesale** (``check_filled_rows``, a warning). A left join whose keys do not match
(codes that lost their leading zeros, ids of another system, a date read as text), a lookup that
failed, a feature service that timed out: every joined column of those rows is missing together, and
``fillna(0)`` (or the mean, or -1) writes one value into all of them. What the model receives on those
rows is the same vector of filled columns for every row, and whatever the joined table said about them
is lost. Missing values that come together in a block of columns are a *pattern* of missingness
(Little & Rubin 2019, "Statistical Analysis with Missing Data", ch. 1: the pattern is read from which
entries are missing together, before any model of why), and a pattern left in by a fill is not a value
the rows really have. Two measurements, both needed:

1. *The block* (``filled_block``): columns that vary (at least ``MIN_DISTINCT`` distinct values on the
   rows not filled: measurements, not flags or codes) and whose commonest value fills between
   ``MIN_FILLED`` and ``MAX_FILLED`` of the rows, those rows the same for every column of the block
   (their overlap, intersection over union, at least ``SAME_ROWS``); at least ``MIN_COLUMNS`` columns.
   One column's repeated value is a missing-value code (``value_codes``) or a zero-inflated quantity;
   a continuous column repeats one exact value by chance only on a grid, and two independent columns
   repeat theirs on the same rows only if one step wrote both.
2. *The filled rows learn worse* (``filled_worse``): the same probes as ``first_layer`` (a linear model
   and ``first_layer.NEIGHBOURS`` nearest neighbours, fitted on 2/3 of the rows, scored on the rest)
   leave at least ``first_layer.LOSS_RATIO`` times the share of the targets' spread unexplained on the
   filled held-out rows that they leave on the others (regression: squared error over the group's
   target variance; class ids: the error rate over the group's majority-guess error), one-sided
   Mann-Whitney test at ``first_layer.ALPHA`` split over the probes. A block whose rows are as well
   predicted as the others lost nothing the targets need (a structural zero: no loan, no balance),
   and stays quiet.

Read on tables only (a 2-D input of at most ``MAX_COLUMNS`` columns), on at most ``ROWS`` training rows
on the host, before any loss is computed.
"""
from __future__ import annotations

import torch

from trainwell.babysit import first_layer
from trainwell.babysit.findings import Finding, make

ROWS = 3000               # the training rows read (first_layer.ROWS' order: ~1,000 held out for the probes)
MIN_FILLED = 0.05         # a block fills at least 5 % of the rows (value_codes.MIN_SHARE is 1 %: a block of
                          # columns is read where its rows are enough for a probe to score them)
MAX_FILLED = 0.95         # ... and leaves at least 5 % of the rows with their own values to compare against
MIN_DISTINCT = 20         # a column varies: at least 20 distinct values on the rows not filled (flags, codes
                          # and small counts repeat their values by design)
SAME_ROWS = 0.99          # the columns' filled rows overlap (intersection over union) at least this much
MIN_COLUMNS = 2           # a block: two or more columns filled on the same rows
MIN_HELD = 30             # held-out rows each group needs for the test
MAX_COLUMNS = 1024        # wider inputs are not read (input_content.MAX_COLUMNS: columns pairwise)
LISTED = 10               # the columns named in a message


def _table(X, y):
    """The first ``ROWS`` rows of a finite 2-D table as float64 on the host, their targets; None when not a table."""
    if not torch.is_tensor(X) or X.dim() != 2 or not 2 <= X.shape[1] <= MAX_COLUMNS or X.shape[0] < first_layer.MIN_ROWS:
        return None
    n = min(X.shape[0], ROWS)
    x, t = X[:n].detach().cpu().double(), y[:n].detach().cpu()
    rows = torch.isfinite(x).all(dim=1)
    if torch.is_floating_point(t):
        rows &= torch.isfinite(t.reshape(n, -1)).all(dim=1)
    return x[rows], t[rows]


def _commonest(column: torch.Tensor) -> tuple[float, int, int]:
    """The commonest value of ``column``, its row count and the number of distinct values besides it."""
    values, counts = torch.unique(column, return_counts=True)
    top = int(counts.argmax())
    return float(values[top]), int(counts[top]), values.numel() - 1


def filled_block(x: torch.Tensor) -> dict | None:
    """The largest block of at least ``MIN_COLUMNS`` varying columns of ``x`` whose commonest values
    fill the same rows (see the module docstring): ``{"columns", "values", "rows": a bool mask,
    "share"}``; None if there is none."""
    n = x.shape[0]
    masks, fills, cols = [], [], []
    for j in range(x.shape[1]):
        value, count, others = _commonest(x[:, j])
        if MIN_FILLED * n <= count <= MAX_FILLED * n and others >= MIN_DISTINCT:
            masks.append(x[:, j] == value)
            fills.append(value)
            cols.append(j)
    if len(cols) < MIN_COLUMNS:
        return None
    M = torch.stack(masks).double()
    both = M @ M.T
    union = M.sum(1)[:, None] + M.sum(1)[None] - both
    same = both >= SAME_ROWS * union
    best = None
    for i in range(len(cols)):                  # each column's block: the columns filled on its rows
        members = same[i].nonzero().flatten().tolist()
        if len(members) >= MIN_COLUMNS and (best is None or len(members) > len(best)):
            best = members
    if best is None:
        return None
    rows = M[best].bool().all(0)
    return {"columns": [cols[i] for i in best], "values": [fills[i] for i in best], "rows": rows,
            "share": float(rows.double().mean())}


def _trivial(t, *, class_ids: bool) -> float:
    """The trivial guess's loss on a group's targets: the commonest class's error rate, or the targets' variance."""
    t = torch.as_tensor(t)
    if class_ids:
        return 1.0 - float(torch.bincount(t.long()).max()) / len(t)
    return float(t.double().reshape(len(t), -1).var(0, unbiased=False).sum())


def filled_worse(x: torch.Tensor, t: torch.Tensor, filled: torch.Tensor, *, class_ids: bool,
                 seed: int = 0) -> dict | None:
    """Whether the probes predict the rows ``filled`` worse than the others (see the module
    docstring): the probe that shows it most, ``{"probe", "filled", "others", "p", "p_threshold"}``
    (each group's loss over its trivial guess's); None when neither does."""
    from scipy.stats import mannwhitneyu
    gen = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    order = torch.randperm(n, generator=gen)
    fit = n - int(n * first_layer.HELD_OUT)
    x, t, filled = x[order], t[order], filled[order]
    held = filled[fit:].numpy()
    if min(int(held.sum()), int((~filled[fit:]).sum())) < MIN_HELD:
        return None
    target = t.reshape(-1).long().numpy() if class_ids else t.double().reshape(n, -1).numpy()
    if not class_ids and target.shape[1] == 1:
        target = target[:, 0]
    features = first_layer.probe_features(x, fit, gen)
    kind = "classes" if class_ids else "values"
    bound = first_layer.ALPHA / 2
    worst = None
    for probe in ("linear", "neighbours"):
        pred = first_layer.fit_predict(kind, probe, features, target, fit)
        y_held = target[fit:]
        loss = (pred != y_held).astype(float) if class_ids else ((pred - y_held) ** 2).reshape(len(y_held), -1).sum(1)
        # each row's loss in units of its group's trivial guess: a group that is harder to guess is no fault
        on = loss[held] / max(_trivial(y_held[held], class_ids=class_ids), 1e-12)
        off = loss[~held] / max(_trivial(y_held[~held], class_ids=class_ids), 1e-12)
        filled_u, others_u = float(on.mean()), float(off.mean())
        p = float(mannwhitneyu(on, off, alternative="greater").pvalue)
        if p < bound and filled_u >= first_layer.LOSS_RATIO * others_u and (
                worst is None or filled_u / max(others_u, 1e-12) > worst["filled"] / max(worst["others"], 1e-12)):
            worst = {"probe": probe, "filled": filled_u, "others": others_u, "p": p, "p_threshold": bound}
    return worst


def check_filled_rows(X, y, *, class_ids: bool, seed: int = 0) -> list[Finding]:
    """``uninformative_inputs`` (a warning) for a block of columns filled in on the same rows that
    the probes predict worse than the others (see the module docstring)."""
    read = read_block(X, y, class_ids=class_ids)
    if read is None:
        return []
    x, t, class_ids, block = read
    worse = filled_worse(x, t, block["rows"], class_ids=class_ids, seed=seed)
    if worse is None:
        return []
    columns = block["columns"]
    shown = ", ".join(f"{c} = {v:.4g}" for c, v in list(zip(columns, block["values"]))[:LISTED])
    measure = "error rate over the commonest class's" if class_ids else "squared error over the targets' variance"
    return [make(
        "uninformative_inputs",
        f"{block['share']:.0%} of the training rows have columns {columns[:LISTED]}{' ...' if len(columns) > LISTED else ''} "
        f"filled in together with one value each ({shown}) while those columns vary on the other rows, and a "
        f"{worse['probe']} probe predicts those rows worse ({measure}: {worse['filled']:.2f} on them, "
        f"{worse['others']:.2f} on the others; one-sided p = {worse['p']:.2g}): a join or lookup that matched "
        f"none of these rows (keys in another format: codes that lost their leading zeros, ids of another "
        f"system) with its missing values filled in, so what the joined columns say about them is lost",
        evidence={"columns": columns, "fill_values": block["values"], "filled_share": block["share"],
                  "probe": worse["probe"], "filled_unexplained": worse["filled"], "others_unexplained": worse["others"],
                  "p": worse["p"], "p_threshold": worse["p_threshold"], "rows": int(x.shape[0])},
        where=f"input columns {columns[:LISTED]}", severity="warning",
        fix="check the join or lookup that made these columns: match the keys' format on both sides (zero-padded "
            "codes, one type), count the rows it leaves unmatched before filling, and keep a missing indicator "
            "column where rows really have no value")]


def read_block(X, y, *, class_ids: bool):
    """``(x, t, class_ids, block)``: the rows ``check_filled_rows`` reads (at most ``ROWS`` finite rows
    of a 2-D table, as float64 on the host), their targets, whether they are class ids of one column
    with at least two classes, and their ``filled_block``; None when ``X`` is not such a table, the
    targets hold one class, or no block is filled. Also for the checks that read the same block
    (``unmatched_join``)."""
    table = _table(X, y)
    if table is None:
        return None
    x, t = table
    class_ids = class_ids and t.reshape(t.shape[0], -1).shape[1] == 1
    if class_ids and torch.unique(t).numel() < 2:
        return None
    block = filled_block(x)
    return None if block is None else (x, t, class_ids, block)
