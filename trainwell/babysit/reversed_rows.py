"""Rows of a class stored in the other time order: ``label_problem``.

"Look at your data" (notes: data preprocessing; Karpathy's recipe, step 1): a series read backwards looks
like a series, and nothing raises. Two sources stacked as exported, one of which lists its readings newest
first (a second site's historian, a firmware that writes its log backwards), labels kept: that source's
rising days read as falling. Wherever a class is told by its direction in time, its rows now come in two
orientations, and the reversed ones look like another class (the same data as labels swapped between two
classes that are each other's reverse: both are reported as this). Two measurements per class, both needed:

1. *Two mirrored modes of direction* (``direction_modes``). A row's antisymmetric part, a = (x - flip(x)) / 2
   along the time axis, changes sign under reversal and nothing else of the row does. Projected on the
   class's main axis of antisymmetric variation (the leading right singular vector of its rows' a), the rows
   of a class read in one orientation cluster around +mu; a share rho stored reversed adds a mode at -mu.
   The projections are fitted as (1 - rho) N(mu, s^2) + rho N(-mu, s^2) (EM, a mixture whose second
   component is the first's mirror); found when rho >= ``MIN_SHARE`` (``MIN_ROWS`` rows at least) and the
   modes stand ``SEPARATION`` spreads from 0: a mixture of two normals of one spread has two modes only when
   their means lie more than two spreads apart (Schilling, Watkins & Watkins 2002, "Is human height
   bimodal?", The American Statistician 56). A class with a direction and noise has one mode (its rows that
   point the other way are its tail, nearer 0 than -mu); a class without one (a symmetric peak) centres at 0.
2. *The reversed mode reads as another class* (``reversed_classes``). The ``first_layer.NEIGHBOURS`` nearest
   rows of every row (all classes; the row itself left out) vote a class for it, as given and flipped in
   time. As given, the second mode's rows are voted some other class c' more often than their own, while the
   first mode's rows are voted their own class more often than c' (the class reads as itself in one order and
   as c' in the other); flipped, the second mode's rows are voted their own label more often than as given,
   by at least ``MIN_GAIN`` of the votes on average and significantly (one-sided, normal approximation of the
   paired differences' mean, at ``first_layer.ALPHA`` split over the classes). Classes that hold both
   orientations on purpose (a random-phase tone, a ramp class that goes either way) are voted their own
   label in either order: their second mode is a thinner part of their own region, and flipping a row into
   the thicker mode gains it votes (the density is higher there) without making it read as another class
   first. Classes defined by direction in healthy data have a single mode.

Read on class ids with signals (N, C, L) or (N, L, C) (time: the longer axis, at least ``MIN_STEPS``
steps), at most ``ROWS`` rows and ``MAX_VALUES`` entries of every labelled split together (split_checks
passes them: the same ids name the same classes in each), on the host. Not found: a reversed source below
``MIN_SHARE`` of a class, or one that reverses half of every class (no class then has a direction left:
``class_pairs``' to read).
"""
from __future__ import annotations

import math

import torch

from trainwell.babysit import first_layer
from trainwell.babysit.findings import Finding, make

ROWS = 2000               # rows read (split_checks.RELATION_ROWS: distances are n x n)
MIN_STEPS = 8             # a time axis of at least 8 steps (a day of 3-hourly readings)
MAX_VALUES = 2 ** 24      # the entries read at most (128 MB as float64; duplicate_inputs.MAX_VALUES)
DIMS = 64                 # wider rows are compared through a seeded random projection (split_checks.RELATION_DIMS)
MIN_SHARE = 0.05          # the second mode holds at least 5 % of its class's rows ...
MIN_ROWS = 30             # ... and at least 30 rows (the paired test's normal approximation)
SEPARATION = 1.0          # modes at +-mu, mu >= 1 spread: two modes (Schilling et al. 2002)
MIN_GAIN = 0.1            # flipped, the neighbours vote the label a tenth more often (one neighbour in ten)
EM_STEPS = 100            # the mirror mixture's EM iterations (1-D, converges in tens)


def signal_rows(X, y):
    """``(rows (n, C, L) float64 with time last, ids)``: at most ``ROWS`` finite rows of a signal input and
    their class ids (a seeded sample), or None when ``X`` is not (N, C, L) / (N, L, C) with a time axis of
    ``MIN_STEPS`` or the targets are not one class id (>= 0) a row."""
    if (not torch.is_tensor(X) or not torch.is_tensor(y) or X.dim() != 3 or not torch.is_floating_point(X)
            or torch.is_floating_point(y) or y.dim() != 1 or y.shape[0] != X.shape[0]):
        return None
    if max(X.shape[1:]) < MIN_STEPS:
        return None
    n = min(ROWS, MAX_VALUES // (X.shape[1] * X.shape[2]))
    pick = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(0))[:n]
    x, t = X.detach()[pick].cpu().double(), y.detach()[pick].cpu().long()
    x = x if x.shape[2] >= x.shape[1] else x.transpose(1, 2)
    keep = torch.isfinite(x).flatten(1).all(1)
    return (x[keep], t[keep]) if t.numel() and t.min() >= 0 else None


def mirror_mixture(p: torch.Tensor) -> dict:
    """EM fit of (1 - rho) N(mu, s^2) + rho N(-mu, s^2) to the projections ``p`` (mu >= 0):
    ``{"rho", "mu", "s", "second": each row's posterior of the -mu mode}``."""
    rho = float((p < 0).double().mean().clamp(0.01, 0.5))
    mu, s2 = float(p.abs().mean()), float(p.var()) + 1e-12
    for _ in range(EM_STEPS):
        w = torch.sigmoid(torch.tensor(math.log(rho / (1 - rho))) - 2 * mu * p / s2)   # posterior of -mu
        rho = float(w.mean().clamp(1e-6, 1 - 1e-6))
        mu = float(((1 - 2 * w) * p).mean())
        s2 = float(((1 - w) * (p - mu) ** 2 + w * (p + mu) ** 2).mean()) + 1e-12
    return {"rho": rho, "mu": mu, "s": math.sqrt(s2), "second": w}


def direction_modes(a: torch.Tensor) -> dict | None:
    """The mirror mixture of one class's antisymmetric parts ``a`` (rows flattened, projected) along their main
    axis, oriented so that the larger mode is +mu; None unless it has two modes (see the docstring)."""
    u = torch.linalg.svd(a, full_matrices=False).Vh[0]
    p = a @ u
    p = p if p.sum() >= 0 else -p
    fit = mirror_mixture(p)
    rows = fit["second"] > 0.5
    if fit["mu"] < SEPARATION * fit["s"] or fit["rho"] < MIN_SHARE or int(rows.sum()) < MIN_ROWS:
        return None
    return dict(fit, rows=rows)


def _projected(x: torch.Tensor) -> torch.Tensor:
    """Rows flattened, through a seeded random projection to ``DIMS`` columns when wider."""
    f = x.flatten(1)
    if f.shape[1] <= DIMS:
        return f
    gen = torch.Generator().manual_seed(0)
    return f @ torch.randn(f.shape[1], DIMS, generator=gen, dtype=f.dtype) / math.sqrt(DIMS)


def class_votes(f: torch.Tensor, queries: torch.Tensor, t: torch.Tensor, classes: int) -> torch.Tensor:
    """(queries, classes): the share of the ``first_layer.NEIGHBOURS`` rows of ``f`` nearest each of
    ``queries`` (the query's own row ``i`` left out) labelled each class."""
    d = torch.cdist(queries, f)
    d.fill_diagonal_(float("inf"))
    near = t[d.topk(first_layer.NEIGHBOURS, dim=1, largest=False).indices]
    return torch.nn.functional.one_hot(near, classes).double().mean(1)


def reversal_gain(gain: torch.Tensor) -> tuple[float, float]:
    """The mean of the paired vote differences ``gain`` (flipped minus as given) and its one-sided p-value
    (normal approximation of the mean)."""
    mean, se = float(gain.mean()), float(gain.std()) / math.sqrt(gain.numel())
    if se == 0:
        return mean, 0.0 if mean > 0 else 1.0
    return mean, 0.5 * math.erfc(mean / se / math.sqrt(2))


def reversed_classes(x: torch.Tensor, t: torch.Tensor) -> list[dict]:
    """Per class with a second, mirrored mode that reads as another class and that its neighbours vote its
    label more often flipped (see the module docstring): ``{"class", "rows", "share", "mu_over_s",
    "reads_as", "as_given", "as_other", "flipped", "p", "p_threshold"}``."""
    flipped = x.flip(2)
    f, fr = _projected(x), _projected(flipped)
    ids = torch.unique(t)
    bound = first_layer.ALPHA / max(len(ids), 1)
    votes = fv = None
    found = []
    for c in ids.tolist():
        mine = t == c
        if int(mine.sum()) < 2 * MIN_ROWS:
            continue
        modes = direction_modes((f[mine] - fr[mine]) / 2)    # the projection is linear: it keeps the sign flip
        if modes is None:
            continue
        if votes is None:           # the neighbours are read once, for the first class with two modes
            k = int(t.max()) + 1
            votes, fv = class_votes(f, f, t, k), class_votes(f, fr, t, k)
        first, second = (mine.nonzero().flatten()[rows] for rows in (~modes["rows"], modes["rows"]))
        given = votes[second].mean(0)
        others = given.clone()
        others[c] = -1.0
        other = int(others.argmax())         # the class the second order is voted most, its own left out
        # the second order reads as the class `other`, the class's main order as its own
        reads_other = given[other] > given[c] and votes[first, c].mean() > votes[first, other].mean()
        gain, p = reversal_gain(fv[second, c] - votes[second, c])
        if reads_other and gain >= MIN_GAIN and p < bound:
            found.append({"class": c, "rows": int(second.numel()), "share": modes["rho"],
                          "mu_over_s": modes["mu"] / modes["s"], "reads_as": other,
                          "as_given": float(given[c]), "as_other": float(given[other]),
                          "flipped": float(fv[second, c].mean()), "p": p, "p_threshold": bound})
    return found


def check_reversed_rows(X, y) -> list[Finding]:
    """``label_problem`` (a warning) for classes of a signal whose rows come in two time orders, the
    second of which reads as another class (see the module docstring)."""
    read = signal_rows(X, y)
    if read is None:
        return []
    x, t = read
    classes = reversed_classes(x, t)
    if not classes:
        return []
    said = "; ".join(f"class {c['class']}: {c['rows']} rows ({c['share']:.0%} of the class, modes {c['mu_over_s']:.1f} "
                     f"spreads from 0), voted class {c['reads_as']} by {c['as_other']:.2f} of their neighbours and "
                     f"their label by {c['as_given']:.2f} as given, their label by {c['flipped']:.2f} flipped "
                     f"(one-sided p = {c['p']:.2g})" for c in classes)
    return [make(
        "label_problem",
        f"rows of {len(classes)} class(es) run in both time orders along the last axis of {x.shape[2]} steps, "
        f"and the rows of the second order read as another class until they are flipped ({said}): rows stored "
        f"newest first (a second source's export stacked as it came), or labels swapped between two classes "
        f"that are each other's reverse",
        evidence={"classes": classes, "rows": int(x.shape[0]), "steps": int(x.shape[2])},
        where=f"classes {[c['class'] for c in classes]}", severity="warning",
        fix="check the time order of each source before stacking: sort every series by its timestamps (or "
            "flip the rows of the source that exports newest first), then compare these rows' labels with "
            "their profiles")]
