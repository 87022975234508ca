"""Two inputs the model reads as distinct that hold the same arrays: ``uninformative_inputs``.

The fault: one array copied where two were meant. ``np.stack([after, after], 1)`` for a before / after
pair of frames, the same sensor's trace read twice into a window of channels. The model is built for
distinct inputs (its first layer takes one filter per channel), the data gives it one input twice,
and what the other was meant to carry is gone before trainwell sees the rows: no lr or init recovers
it. The copy itself is plain in the rows: two slices along an input axis, each an array (a channel's
image, a channel's trace), equal in every training row read while they vary from row to row, bit for
bit or up to a scale and a shift (a per-channel normalization after the copy, ``Normalize(mean,
std)``: the two whole arrays' correlation within ``AFFINE`` of +-1, read on up to ``AFFINE_SLICES``
slices). Measured arrays never do that by chance: two real recordings (two frames, two sensors)
differ somewhere in their noise, so such equality of whole arrays over ``MIN_ROWS`` or more rows is
a copy.

What the check reads, on at most ``ROWS`` training rows on the host (before any loss is computed):

* images ``(N, C, H, W)``: their channels;
* a window ``(N, A, B)`` (channels first or last): its slices along each of the two axes (token ids
  too: two texts of a pair, ``(N, 2, L)``, one copied over the other);
* a table ``(N, D)``: its columns, reported as ``info`` only. A column repeated in a table is common
  and harmless by design (scikit-learn's ``make_classification`` has ``n_repeated`` features, a
  column kept twice after a join, a feature appended twice), and one number per row cannot tell that
  from a copy that replaced another column; a whole array copied over another channel has no such
  use;
* slices that do not vary are left out: a slice with one content in ``input_content.CONSTANT_ROWS``
  of the rows (a padding channel, the zero border pixels of a digit) carries nothing to copy, and
  two of them equal is no loss;
* along a window's axes, which may be its steps, a resampling repeats slices by design: a
  sample-and-hold or a nearest-neighbour upsampling (``np.repeat``) repeats most of them, each in a
  group of its own. There copies in several groups that hold more than ``SHARE`` of the varying
  slices are read as a resampling; one group (a copy-paste repeats one array), or copies of a few
  slices, are a fault. An image's channel axis has no resampling, so any copy there counts.

One copy is a format, not a fault: a grey image stored as RGB (``Image.convert("RGB")``, a grey scan
fed to a network built for colour) holds its one channel three times, and nothing was meant to be
there instead. A 3-channel image whose three channels are all one is reported as ``info``; any other
copy of an array (two of two channels, two of three) is a ``warning`` that names the slices.
"""
from __future__ import annotations

import torch

from trainwell.babysit.findings import Finding, make
from trainwell.babysit.input_content import CONSTANT_ROWS

ROWS = 2000               # the training rows read (data_checks.STATS_ROWS: the input statistics' sample)
MIN_ROWS = 50             # fewer rows read: two slices can be equal by chance (a handful of coded values)
MAX_SLICES = 1024         # slices compared along one axis at most (input_content.MAX_COLUMNS: wider inputs
                          # are left alone; the comparison sorts the slices' contents, slices x rows numbers)
AFFINE = 1e-6             # a copy up to a scale and a shift: 1 - |correlation| of the two whole arrays <= 1e-6
                          # (float32 rounding leaves ~1e-7; two real recordings share far less than 99.9999%
                          # of their variance: their noise alone is more than 1e-6 of it)
MAX_VALUES = 2 ** 24      # the numbers compared along one axis at most (134 MB as float64): wide rows are
                          # read on fewer of the rows, never fewer than MIN_ROWS
AFFINE_SLICES = 64        # slices compared by correlation at most (slices^2 products); more: bit for bit only
SHARE = 0.5               # along a column or step axis, copies in several groups holding more than half the
                          # varying slices are a resampling (a nearest-neighbour upsampling by 2 repeats all)
RGB = 3                   # a colour image's channels: three copies of one are a grey image stored as colour
LISTED = 10               # the pairs named in the message


def _varying(s: torch.Tensor) -> bool:
    """Whether one slice ``(N, k)`` (its content per row) takes more than one content in more than
    ``1 - CONSTANT_ROWS`` of the rows. A slice of one number a row (a table's column) is counted
    by a 1-D ``torch.unique``: the same counts as ``dim=0``'s row-wise one, at a 1-D sort's price
    (~25x less on the CPU: a digits table's 64 columns, 80 ms -> 3 ms)."""
    if s.shape[1] == 1:
        _, counts = torch.unique(s.reshape(-1), return_counts=True)
    else:
        _, counts = torch.unique(s, dim=0, return_counts=True)
    return bool(counts.max() < CONSTANT_ROWS * s.shape[0])


def copies(x: torch.Tensor, dim: int) -> tuple[list[list[int]], int]:
    """The groups (each sorted, at least 2) of slices of ``x`` along ``dim`` (not the rows' dim 0)
    that are equal in every row and vary from row to row, and the number of varying slices;
    ``([], 0)`` when there are more than ``MAX_SLICES`` slices or fewer than 2."""
    count = x.shape[dim]
    if not 2 <= count <= MAX_SLICES:
        return [], 0
    slices = x.movedim(dim, 0).reshape(count, x.shape[0], -1)          # (S, N, k)
    varying = [j for j in range(count) if _varying(slices[j])]
    if len(varying) < 2:
        return [], len(varying)
    flat = slices[varying].reshape(len(varying), -1).double()
    if len(varying) <= AFFINE_SLICES:               # equal up to a scale and a shift: |correlation| ~ 1
        z = flat - flat.mean(dim=1, keepdim=True)
        z = z / z.norm(dim=1, keepdim=True)
        same = (1 - (z @ z.T).abs()) <= AFFINE
        group = [int(same[i].nonzero()[0]) for i in range(len(varying))]   # the first slice it copies
    else:
        group = torch.unique(flat, dim=0, return_inverse=True)[1].tolist()
    groups: dict[int, list[int]] = {}
    for j, g in zip(varying, group):
        groups.setdefault(g, []).append(j)
    return sorted(g for g in groups.values() if len(g) > 1), len(varying)


def _axes(x: torch.Tensor) -> list[tuple[int, str, bool]]:
    """The axes read, what their slices are called and whether the axis is an image's channels
    (no resampling repeats those): a table's columns, images' channels, a window's slices along
    dim 1 and along dim 2 (its channels or its steps, either way round)."""
    if x.ndim == 2:
        return [(1, "columns", False)]       # reported as info only (check_duplicate_inputs)
    if x.ndim == 3:
        return [(1, "slices along dim 1", False), (2, "slices along dim 2", False)]
    if x.ndim == 4:
        return [(1, "channels", True)]
    return []


def check_duplicate_inputs(X) -> list[Finding]:
    """``uninformative_inputs`` for slices of the input copied from one another (see the module
    docstring): a warning naming the copies, ``info`` for a grey image stored as RGB and for a
    table's repeated columns; ``[]`` when no copy is found or the inputs are not a tensor of
    numbers (floats or ids) of 2-4 dims with ``MIN_ROWS`` finite rows."""
    if not torch.is_tensor(X) or X.dtype == torch.bool or X.is_complex() or not 2 <= X.ndim <= 4:
        return []
    rows = max(MIN_ROWS, min(ROWS, MAX_VALUES // max(1, X[0].numel())))    # wide rows: as many as fit MAX_VALUES
    x = X[:rows].detach().cpu()
    x = x[torch.isfinite(x.reshape(x.shape[0], -1)).all(dim=1)]
    if x.shape[0] < MIN_ROWS:
        return []
    for dim, name, channels in _axes(x):
        groups, varying = copies(x, dim)
        if not groups or (not channels and len(groups) > 1 and sum(map(len, groups)) > SHARE * varying):
            continue
        # a format, not a fault: a grey image stored as RGB; a table's repeated column (one number a row)
        grey = x.ndim == 4 and x.shape[1] == RGB and groups == [list(range(RGB))]
        table = x.ndim == 2
        listed = "; ".join(f"{name} {g}" for g in groups[:LISTED]) + (" ..." if len(groups) > LISTED else "")
        exact = all(torch.equal(x.select(dim, g[0]), x.select(dim, j)) for g in groups for j in g[1:])
        scaled = "" if exact else " up to a scale and a shift"
        evidence = {"exact": exact, "copies": groups, "axis": dim, "slices": int(x.shape[dim]), "rows_read": int(x.shape[0])}
        if grey:
            return [make("uninformative_inputs",
                         f"the images' {RGB} channels are one channel three times in every one of the "
                         f"{x.shape[0]} training rows read: grey images stored as colour (this is no fault "
                         f"where the images are grey; where they were in colour, the colour was lost before "
                         f"the model)", evidence=evidence, severity="info", where="input channels")]
        if table:
            return [make("uninformative_inputs",
                         f"input {listed} hold the same numbers{scaled} in every one of the {x.shape[0]} training "
                         f"rows read: each repeat adds nothing the first does not carry (harmless where it is meant; "
                         f"where a column was copied over another, what that one carried is lost)",
                         evidence=evidence, severity="info", where="input columns")]
        return [make("uninformative_inputs",
                     f"input {listed} hold the same numbers{scaled} in every one of the {x.shape[0]} training rows "
                     f"read, though they vary from row to row: the model takes its {x.shape[dim]} {name} as distinct "
                     f"inputs, but one array was copied where another was meant (np.stack([a, a], 1), one "
                     f"sensor's trace read twice), so what the other should carry never reaches it",
                     evidence=evidence, severity="warning", where=f"input {name}",
                     fix="fill each slice from its own source (np.stack([before, after], 1), not the same "
                         "array twice); where the copy is meant, drop it")]
    return []
