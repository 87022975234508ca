"""Values coded row by row, so that a value names nothing across rows: ``uninformative_inputs``.

An encoder fitted on each row alone (``LabelEncoder().fit_transform(words)`` inside the loop over the
tickets, ``np.unique(row, return_inverse=True)`` or ``pd.factorize`` per row, a palette PNG whose
palette is each image's own greys ordered by how often they occur, read with ``np.array(Image.open(f))``)
turns every row's values into the ranks of its own distinct values: id 3 is the third word of *this*
ticket in sorted order, index 5 the sixth commonest grey of *this* image. The same value then names
another word or grey in every row (a dark pit and a bright spot, both a few pixels of a rare grey, get
the same index), so no weight of an embedding or a filter can learn what it means: the code keeps only
how many distinct values each row has and how they repeat (notes 002: a transformation is fitted once,
on the training data, and applied to every row; the same reasoning as ``value_codes``' per-split codes).

Its mark is that of **dense ranks** (``find_row_codes``): the values read lie on one grid (origin the
smallest value read, step the smallest gap between values: the codes 0, 1, 2 ... after any one affine
scaling, such as ``/ 255`` or a global standardization), and every row's levels on it, with the
origin (the padding id, or rank 0), are the first levels of the grid without a gap, 0 .. k_i - 1,
where k_i is the row's own count of distinct values. A row that draws k of a common vocabulary's G
ids, or of an image's grey levels, holds exactly the lowest k only by chance (one in C(G - 1, k - 1)
of the (k - 1)-subsets of the other levels with equal odds: one in 36 for k = 3 of 10 levels, one in
5,005 for 7 of 16); ranks hold them in every row. Measured on the rows that do not fill the whole
grid (a row that holds every level, a Likert answer sheet that uses all five, is a prefix of
anything), which must be at least half the rows read; a prefix in ``ROW_SHARE`` of them. What stays
quiet, by construction:

* fewer than ``MIN_LEVELS`` levels in the median row: binary images, flags, small counts (0, 1, 2 fill
  from 0 because small counts are the common ones);
* one count of levels in ``ROW_SHARE`` of the rows: a fixed alphabet every row fills (DNA's four
  letters) or a ranking of the same items in every row (each judge's ranks of eight wines);
* rows whose values other than the origin run in order along the row (``SORTED``): position ids and
  counters, 0, 1, 2 ... by place, not codes;
* values that are numbers, not ids (no embedding reads them: ``value_codes`` calls it), where each
  level is not held by ``REPEATS`` entries on average in the median row: a ranking of the row's items,
  each rank once (a column is an item, and its rank is what it says), is no palette.

Counts of rare events that never skip a level (a row of Poisson counts with 4 or more levels and no
gap in its tail in ``ROW_SHARE`` of the rows) read the same; on them a code by frequency would be the
identity. Read on at most ``value_codes.ROWS`` rows on the host (``MAX_VALUES`` values, at least
``MIN_ROWS`` rows); inputs of more than ``MAX_LEVELS`` grid levels (continuous readings) are left at
the grid test, read on the first ``FIRST_VALUES`` values.
"""
from __future__ import annotations

import torch

from trainwell.babysit.findings import Finding, make

ROW_SHARE = 0.99          # dense ranks in 99% of the rows that do not fill the grid (input_content.CONSTANT_ROWS'
                          # share): a few rows of a vocabulary's lowest ids by chance do not make a code
PARTIAL_ROWS = 0.5        # ... and those rows at least half the rows read: most rows hold fewer levels than the grid
MIN_LEVELS = 4            # the median row holds 4 levels or more, the origin counted: with 2 or 3 (a binary image,
                          # counts 0-2) a prefix is what most data show
SORTED = 0.5              # rows whose non-origin values run in order along the row: an index in half of them or more
REPEATS = 4               # numbers: each level held by 4 entries or more on average in the median row
                          # (constant_ids.REPEATS: a code stands for several values, a rank of items for one)
MAX_LEVELS = 4096         # more levels: continuous readings, not codes (the grid test ends there)
GRID_TOLERANCE = 1e-3     # a value on the grid: within 0.1% of a step of a level (float32 rounding after a scaling)
MIN_ROWS = 100            # fewer rows read: not judged (value_codes.MIN_ROWS)
MAX_VALUES = 1 << 20      # the values read: wide rows (large images) are read on fewer rows, at least MIN_ROWS
FIRST_VALUES = 1 << 16    # the values the grid test reads first: more than MAX_LEVELS distinct ends it there


def _grid_levels(x: torch.Tensor) -> torch.Tensor | None:
    """The level of each value of the 2-D ``x`` on the grid its values lie on (origin the smallest
    value, step the smallest gap between distinct values), long, 0 at the origin; None when the
    values are not on one grid of at most ``MAX_LEVELS`` levels."""
    if torch.unique(x.reshape(-1)[:FIRST_VALUES]).numel() > MAX_LEVELS:
        return None                                         # continuous readings: no need to sort them all
    distinct = torch.unique(x)
    if distinct.numel() < 2 or distinct.numel() > MAX_LEVELS:
        return None
    origin, step = distinct[0], float(distinct.diff().min())
    span = float(distinct[-1] - origin)
    if not step > 0 or span / step > MAX_LEVELS:
        return None
    z = (x - origin) / step
    if float((z - z.round()).abs().max()) > GRID_TOLERANCE:
        return None
    return z.round().long()


def find_row_codes(x: torch.Tensor, *, numbers: bool) -> dict | None:
    """``{"levels", "median_levels", "partial_rows", "prefix_share", "rows", "row_levels"}`` when the
    rows of ``x`` (N, L: each row's values flattened) read as dense ranks fitted per row (see the
    module docstring), else None. ``numbers``: the values are read as numbers (no embedding reads
    them), so each level must also stand for ``REPEATS`` entries in the median row."""
    if x.ndim != 2 or x.shape[0] < MIN_ROWS or x.shape[1] < MIN_LEVELS:
        return None
    x = x[:max(MIN_ROWS, MAX_VALUES // x.shape[1])]
    z = _grid_levels(x)
    if z is None:
        return None
    n, levels = z.shape[0], int(z.max()) + 1
    present = torch.zeros(n, levels, dtype=torch.bool)
    present.scatter_(1, z, True)
    present[:, 0] = True                                    # the origin: padding, or the code 0
    held = present.sum(1)
    top = levels - 1 - present.flip(1).int().argmax(1)      # each row's highest level
    partial = held < levels
    if float(partial.double().mean()) < PARTIAL_ROWS:
        return None                                         # most rows hold every level: not a code
    median = int(held.median())
    _, counts = torch.unique(held, return_counts=True)
    if median < MIN_LEVELS or float(counts.max()) >= ROW_SHARE * n:
        return None
    if numbers and x.shape[1] < REPEATS * median:
        return None
    prefix = (top + 1 == held)[partial]
    share = float(prefix.double().mean())
    if share < ROW_SHARE or _sorted_share(z) >= SORTED:
        return None
    return {"levels": levels, "median_levels": median, "partial_rows": int(partial.sum()),
            "prefix_share": share, "rows": n, "row_levels": held[:5].tolist()}


def _sorted_share(z: torch.Tensor) -> float:
    """The share of rows whose levels other than the origin run in order (non-decreasing) along the row."""
    ahead = torch.cummax(torch.where(z > 0, z, -1), dim=1).values   # the largest non-origin level so far
    ok = (z == ahead) | (z == 0)                                     # each non-origin level the largest so far
    return float(ok.all(dim=1).double().mean())


def row_codes_finding(found: dict, *, where: str, what: str, fix: str) -> Finding:
    """``uninformative_inputs`` (a warning) for dense ranks fitted per row (``find_row_codes``)."""
    return make(
        "uninformative_inputs",
        f"{what} look coded row by row: every row's values are the first levels of one grid of "
        f"{found['levels']} (0 .. k - 1 with no gap, k the row's own count of distinct values: "
        f"{found['row_levels']} in the first rows, {found['median_levels']} in the median row), in "
        f"{100 * found['prefix_share']:.1f}% of the {found['partial_rows']} rows that hold fewer than all the levels: "
        f"ranks of each row's own distinct values, so the same value names another word or grey in every row and "
        f"no weight can learn what it means (an encoder fitted inside the loop over the rows, a palette of each "
        f"image's own colours)",
        evidence={**found, "row_codes": True}, severity="warning", where=where, fix=fix)
