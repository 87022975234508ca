"""Rows held at one value of their own over most of the row: ``uninformative_inputs``.

"Look at your data" (notes: data preprocessing; Karpathy's recipe, step 1): plot a few rows before
training. A series resampled from readings it failed to read arrives as one value repeated: ``np.interp``
over timestamps that decrease (numpy does not check that ``xp`` increases: every grid point past the
first timestamp reads that one reading; numpy issues 10448 and 25811), a forward fill over a feed that
stopped, a nearest-neighbour lookup that matched one reading. Such a row keeps one number of what it
measured, and the model cannot learn its label from the rest of it.

Two measurements, both needed (the pattern and its cost, as ``filled_rows``):

1. *The flat rows* (``flat_rows``): rows in which one value fills more than ``FLAT_SHARE`` of the entries
   (that value is then the row's median, so one pass finds it), each with a value of its own: values
   shared by more than ``value_codes.MIN_SHARE`` of the rows are a padding, a background or a code
   (zero-padded traces, a black border, a clipped bound), not a row that lost its readings. The rows are
   read against the others: at least ``filled_rows.MIN_FILLED`` and at most ``filled_rows.MAX_FILLED`` of
   the rows are flat, and the others hold distinct readings (a typical one repeats at most ``TIES`` of its
   entries: continuous readings, where an exact repeat is a step that wrote one number twice). A sensor
   quantized to a few levels repeats its values on every row and stays out.
2. *The flat rows learn worse* (``filled_rows.filled_worse``: a linear and a nearest-neighbour probe fitted
   on 2/3 of the rows leave ``first_layer.LOSS_RATIO`` times the share of the targets' spread unexplained
   on the flat held-out rows that they leave on the others, one-sided Mann-Whitney at
   ``first_layer.ALPHA``). A sensor that really held still (a class of its own, a level that says the
   label) is predicted as well as the others, and stays quiet.

Read on the inputs with at least ``MIN_ENTRIES`` entries a row (a series, a signal, an image; a short
table row is ``filled_rows``' and ``value_codes``' to read), at most ``ROWS`` training rows and ``MAX_VALUES``
entries on the host (images of more than 80,000 entries are not read).
Not found: a fill over less than half of each row (the rest of the row still carries its readings).
"""
from __future__ import annotations

import torch

from trainwell.babysit import first_layer
from trainwell.babysit.filled_rows import MAX_FILLED, MIN_FILLED, filled_worse
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.value_codes import MIN_SHARE

ROWS = 3000               # the training rows read (filled_rows.ROWS: ~1,000 held out for the probes)
MIN_ENTRIES = 8           # a row of at least 8 entries (a day of 3-hourly readings; shorter rows are table rows)
FLAT_SHARE = 0.5          # a flat row: one value fills more than half its entries (then it is the median)
MAX_VALUES = 2 ** 24      # the entries read at most (128 MB as float64; duplicate_inputs.MAX_VALUES): wide images
                          # are read on fewer rows, and not at all below first_layer.MIN_ROWS of them
TIES = 0.1                # the other rows: a typical one repeats at most a tenth of its entries (distinct readings)
SHOWN = 3                 # rows quoted in a message


def read_rows(X, y):
    """At most ``ROWS`` finite rows (``MAX_VALUES`` entries) of ``X`` flattened to float64 on the host, their
    targets; None when ``X`` has fewer than ``MIN_ENTRIES`` entries a row or too few rows for the probes."""
    if not torch.is_tensor(X) or X.dim() < 2 or not torch.is_floating_point(X) or X.shape[0] < first_layer.MIN_ROWS:
        return None
    entries = X[0].numel()
    n = min(X.shape[0], ROWS, MAX_VALUES // max(entries, 1))
    if entries < MIN_ENTRIES or n < first_layer.MIN_ROWS:
        return None
    x, t = X[:n].detach().cpu().reshape(n, -1).double(), y[:n].detach().cpu()
    keep = torch.isfinite(x).all(1)
    if torch.is_floating_point(t):
        keep &= torch.isfinite(t.reshape(n, -1)).all(1)
    return x[keep], t[keep]


def repeated_share(x: torch.Tensor) -> torch.Tensor:
    """Each row's share of entries equal to the entry before it once the row is sorted: 0 for distinct
    readings, (k - 1) / entries for one value written k times."""
    s = x.sort(dim=1).values
    return (s[:, 1:] == s[:, :-1]).double().sum(1) / x.shape[1]


def flat_rows(x: torch.Tensor) -> dict | None:
    """The rows of ``x`` held at a value of their own (see the module docstring): ``{"rows": a bool
    mask, "values", "share", "others_repeat"}``; None when there are none, too few or too many, or the
    other rows repeat their readings too."""
    n = x.shape[0]
    value = x.median(dim=1).values
    flat = (x == value[:, None]).double().mean(1) > FLAT_SHARE
    if not flat.any():
        return None
    values, inverse, counts = torch.unique(value[flat], return_inverse=True, return_counts=True)
    own = torch.zeros_like(flat)
    own[flat] = counts[inverse] <= MIN_SHARE * n        # a value many rows share is a pad or a code
    share = float(own.double().mean())
    if not MIN_FILLED <= share <= MAX_FILLED:
        return None
    others = float(repeated_share(x[~flat]).median())
    if others > TIES:
        return None
    return {"rows": own, "values": value[own], "share": share, "others_repeat": others}


def check_flat_rows(X, y, *, class_ids: bool, seed: int = 0) -> list[Finding]:
    """``uninformative_inputs`` (a warning) for rows held at a value of their own over most of their
    entries that the probes predict worse than the others (see the module docstring)."""
    read = read_rows(X, y)
    if read is None:
        return []
    x, t = read
    class_ids = class_ids and t.reshape(t.shape[0], -1).shape[1] == 1
    if class_ids and torch.unique(t).numel() < 2:
        return []
    flat = flat_rows(x)
    if flat is None:
        return []
    worse = filled_worse(x, t, flat["rows"], class_ids=class_ids, seed=seed)
    if worse is None:
        return []
    rows = flat["rows"].nonzero().flatten()
    shown = ", ".join(f"row {int(i)} = {float(v):.4g}" for i, v in zip(rows[:SHOWN], flat["values"][:SHOWN]))
    measure = "error rate over the commonest class's" if class_ids else "squared error over the targets' variance"
    return [make(
        "uninformative_inputs",
        f"{flat['share']:.0%} of the training rows hold one value of their own over more than half of their "
        f"{x.shape[1]} entries ({shown}) while the other rows hold distinct readings (a typical one repeats "
        f"{flat['others_repeat']:.0%} of its entries), and a {worse['probe']} probe predicts those rows worse "
        f"({measure}: {worse['filled']:.2f} on them, {worse['others']:.2f} on the others; one-sided p = "
        f"{worse['p']:.2g}): a resampling or fill that read one reading for the whole row (np.interp over "
        f"timestamps that decrease, a newest-first export: numpy does not check that xp increases; a forward "
        f"fill over a feed that stopped), so what the row measured is lost",
        evidence={"flat_share": flat["share"], "entries": int(x.shape[1]), "others_repeat": flat["others_repeat"],
                  "probe": worse["probe"], "flat_unexplained": worse["filled"], "others_unexplained": worse["others"],
                  "p": worse["p"], "p_threshold": worse["p_threshold"], "rows": int(x.shape[0]),
                  "flat_rows": rows[:SHOWN].tolist()},
        where="input rows", severity="warning",
        fix="plot a few of these rows beside their raw readings: sort each series by its timestamps before "
            "np.interp (it needs increasing xp) or resample with a method that checks the order, and drop or "
            "mark rows whose feed stopped instead of filling them")]
