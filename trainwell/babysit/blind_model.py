"""A model blind to a difference the data shows: ``uninformative_inputs``.

A model can be built so that its output cannot change under some change of its inputs: one
embedding table looked up for two roles and summed (origin and destination of a route: A to B
reads as B to A), a sum or mean over a sequence's positions (a bag: the order is lost), a column
squared or taken as an absolute value (its sign is lost). That is right where the data is
symmetric the same way (a distance between two points, a bag of words for a topic) and a fault
where the labels depend on what the model cannot see: no training closes the gap, and nothing
about the run looks wrong except a plateau. The evidence is both halves, and the finding names the
transformation:

1. *The model is exactly invariant* (on the untrained model, in eval mode, under a forked RNG):
   the inputs' slices along dim 1 (a table's columns, a sequence's positions, an image's
   channels; at most ``MAX_SLOTS``) that the output reads (replacing one by its values on other
   rows moves the output by more than ``SILENT`` of its RMS) are tried in pairs: a pair whose swap
   leaves the output within ``SILENT`` of its RMS, on ``ROWS`` rows where the swap changes at least
   ``MIN_CHANGED`` of them, joins one group (pairs chain: every position of a bag is one group); a
   read slice whose sign flip leaves the output so is its own transformation (both signs on at
   least ``MIN_SIGNED`` of the rows); so is the whole axis reversed (at least ``MIN_REVERSED``
   slices read, not all in one group: a sequence read both ways and summed). Screened on
   ``SCREEN_ROWS`` rows, confirmed on ``ROWS`` and again on a copy with every parameter moved by
   ``cut_gradient.NUDGE`` of its RMS (``module_use.nudged``): an invariance of the structure holds
   at any weights, one of the initial values (every weight one constant: a sum of the inputs) does
   not.
2. *The labels depend on it* (out of fold, as ``first_layer``'s probes): on up to
   ``first_layer.ROWS`` rows in ``unmatched_join.FOLDS`` folds, each probe (a linear model and
   nearest neighbours) is fitted on the other folds' rows as given and, a second time, on every row's
   ``canonical`` form under the transformation (a group's slices sorted, a sign's absolute value, a
   row or its reverse, whichever comes first): the maximal invariant, so the second probe can read
   everything an invariant model can (a set model's maximum, an unordered pair) and nothing else. Where
   the second probe predicts the held rows worse by the kill rule's margin (``first_layer.MIN_DROP``
   points of accuracy or ``first_layer.LOSS_RATIO`` x the squared error) at ``first_layer.ALPHA``
   split over the probes and the transformations tested (at most ``MAX_TESTED``), the data shows the
   difference the model cannot: a warning. *Ids are categories*: the slices the model feeds to an
   embedding (``constant_ids.id_slices``: scaling one alone moves the ids its pre-hooks read) are
   read one-hot on both sides, and on the second the one-hots of the slices the
   transformation moves are averaged over its orbit (``probe_sides``: a group's give each id's count,
   the multiset, itself a maximal invariant; the axis reversed, each position's with its mirror's,
   beside the canonical row one-hot): the linear functions of the first side's one-hots that the
   transformation leaves alone. Ids read as numbers and sorted scatter one id over many positions'
   values: a linear probe then reads less from a bag than the bag model can (a false alarm on a bag of
   words whose topic word often opens the row) and nothing of which word came first (a miss). Where
   the ids take more values than the rows read / ``constant_ids.REPEATS`` (too few rows to learn what
   each id says) the transformation is not tested: ``info`` says so.

Quiet for a model that reads no two slices alike (every model that concatenates its inputs into a
layer at random initial weights), a transformation the labels do not depend on (a symmetric model on
symmetric data), tied weights that are not summed over the roles, and inputs of more than
``MAX_SLOTS`` slices along dim 1. Ids looked up by ``F.embedding`` or ``F.one_hot`` in the forward are
read as numbers (the recogniser hooks ``nn.Embedding`` and ``nn.EmbeddingBag`` modules).
"""
from __future__ import annotations

import copy
import warnings

import numpy as np
import torch
from torch import nn

from trainwell.babysit import constant_ids, first_layer, unmatched_join
from trainwell.babysit.cut_gradient import first_tensor
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.module_use import nudged

ROWS = 256              # rows the model's invariance is confirmed on
SCREEN_ROWS = 16        # ... and screened on, pair by pair
SILENT = 1e-5           # an output unchanged to float32 rounding (~1e-6 of its RMS, module_use.SILENT's)
MAX_SLOTS = 32          # slices along dim 1 searched pairwise (496 pairs)
MIN_CHANGED = 0.5       # a swap or flip changes at least half the rows read: not two copies of one column
MIN_SIGNED = 0.1        # a sign flip: at least 10 % of the rows on each side of zero
MIN_REVERSED = 3        # the whole axis reversed: at least 3 slices read (two are a swap)
MAX_TESTED = 4          # transformations whose data half is tested (the alpha is split over them)
SORT_KEYS = 4           # a group's slices are put in order by their first 4 values (lexicographic)
LISTED = 6              # slices named in the message


def _output(work: nn.Module, x: torch.Tensor) -> torch.Tensor | None:
    """``work``'s first output tensor on ``x`` (eval mode, no gradients) as float64, None where the
    forward fails or is not a finite float tensor."""
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = first_tensor(work(x))
    except Exception:                   # an input the model cannot take (a negative id): not invariant
        return None
    if out is None or not torch.is_floating_point(out) or not bool(torch.isfinite(out).all()):
        return None
    return out.detach().double()


def _same(work: nn.Module, x: torch.Tensor, z: torch.Tensor, base: torch.Tensor, scale: float) -> bool:
    """The output on ``z`` equals ``base`` (the output on ``x``) within ``SILENT`` x ``scale``."""
    out = _output(work, z)
    return out is not None and out.shape == base.shape and float((out - base).abs().max()) <= SILENT * scale


def _swapped(x: torch.Tensor, i: int, j: int) -> torch.Tensor:
    z = x.clone()
    z[:, i], z[:, j] = x[:, j], x[:, i]
    return z


def _flipped(x: torch.Tensor, j: int) -> torch.Tensor:
    z = x.clone()
    z[:, j] = -x[:, j]
    return z


def _changed(a: torch.Tensor, b: torch.Tensor) -> float:
    """The share of rows on which the slices ``a`` and ``b`` differ."""
    return float((a != b).reshape(a.shape[0], -1).any(dim=1).double().mean())


def invariances(model: nn.Module, x: torch.Tensor) -> list[dict]:
    """The transformations the model's output is exactly invariant to (the module docstring's half
    1): ``[{"kind": "permute", "slots": [...]}]`` for each group of slices any of whose pairs swap
    without moving the output, ``[{"kind": "sign", "slots": [j]}]`` for each slice whose sign flip
    does not, ``[{"kind": "reverse", "slots": [0, ..]}]`` where reversing dim 1 does not. ``x``: the
    model's float inputs (the first ``ROWS`` rows are read)."""
    if not torch.is_floating_point(x) or x.dim() < 2 or not 2 <= x.shape[1] <= MAX_SLOTS:
        return []
    work = copy.deepcopy(model).eval()
    other = nudged(work, 0).eval()      # an invariance of the structure holds at any weights, one of the init's
    found = []                          # values (every weight 0.05: a sum of the inputs) does not
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        full, small = x[:ROWS], x[:SCREEN_ROWS]
        base_full, base_small, base_other = _output(work, full), _output(work, small), _output(other, full)
        if base_full is None or base_small is None or base_other is None:
            return []
        scale, small_scale, other_scale = (float(b.pow(2).mean().sqrt()) for b in (base_full, base_small, base_other))
        if not scale > 0 or not small_scale > 0 or not other_scale > 0:
            return []

        def confirmed(z: torch.Tensor) -> bool:
            """The output on ``z`` (``ROWS`` rows) is the one on them as given, at both sets of weights."""
            return _same(work, full, z, base_full, scale) and _same(other, full, z, base_other, other_scale)

        shifted = torch.roll(torch.arange(full.shape[0]), 1)   # each row given another row's slice
        read = []
        for j in range(full.shape[1]):
            z = full.clone()
            z[:, j] = full[shifted, j]
            if _changed(full[:, j], z[:, j]) >= MIN_CHANGED and not _same(work, full, z, base_full, scale):
                read.append(j)
        parent = {j: j for j in read}

        def root(j):
            while parent[j] != j:
                j = parent[j]
            return j

        for a, i in enumerate(read):
            for j in read[a + 1:]:
                if root(i) == root(j) or _changed(full[:, i], full[:, j]) < MIN_CHANGED:
                    continue
                if _same(work, small, _swapped(small, i, j), base_small, small_scale) and confirmed(_swapped(full, i, j)):
                    parent[root(j)] = root(i)
        groups = {}
        for j in read:
            groups.setdefault(root(j), []).append(j)
        found += [{"kind": "permute", "slots": g} for g in groups.values() if len(g) >= 2]
        # the whole axis reversed (a sequence read both ways and summed), where no group already holds it all
        if len(read) >= MIN_REVERSED and not any(len(g) == full.shape[1] for g in groups.values()) \
                and _changed(full, full.flip(1)) >= MIN_CHANGED \
                and _same(work, small, small.flip(1), base_small, small_scale) and confirmed(full.flip(1)):
            found.append({"kind": "reverse", "slots": list(range(full.shape[1]))})
        for j in read:
            v = full[:, j].reshape(full.shape[0], -1)
            if min(float((v > 0).any(1).double().mean()), float((v < 0).any(1).double().mean())) < MIN_SIGNED:
                continue
            if _same(work, small, _flipped(small, j), base_small, small_scale) and confirmed(_flipped(full, j)):
                found.append({"kind": "sign", "slots": [j]})
    return found


def canonical(x: torch.Tensor, t: dict) -> torch.Tensor:
    """Every row of ``x`` in one form per orbit of the transformation ``t`` (a maximal invariant: two
    rows get the same form exactly when ``t`` maps one to the other): a group's slices sorted by their
    first ``SORT_KEYS`` values, a slice's absolute value for a sign, the row or its reverse along dim 1,
    whichever comes first in order. A probe on it can read everything a model invariant to ``t`` can."""
    if t["kind"] == "sign":
        z = x.clone()
        z[:, t["slots"][0]] = x[:, t["slots"][0]].abs()
        return z
    if t["kind"] == "reverse":
        a, b = x.reshape(x.shape[0], -1), x.flip(1).reshape(x.shape[0], -1)
        differ = a != b
        first = differ.double().argmax(1)                               # the first entry where they differ
        rows = torch.arange(x.shape[0])
        keep = ~differ.any(1) | (a[rows, first] <= b[rows, first])
        return torch.where(keep.reshape((-1,) + (1,) * (x.dim() - 1)), x, x.flip(1))
    slots = torch.tensor(t["slots"])
    part = x[:, slots].reshape(x.shape[0], slots.numel(), -1)           # (rows, group, values per slice)
    order = torch.arange(slots.numel()).expand(x.shape[0], -1)
    for k in reversed(range(min(SORT_KEYS, part.shape[2]))):          # lexicographic: stable sorts, last key first
        key = part[torch.arange(x.shape[0]).unsqueeze(1), order, k]
        order = order.gather(1, key.argsort(dim=1, stable=True))
    z = x.clone()
    z[:, slots] = x[:, slots][torch.arange(x.shape[0]).unsqueeze(1), order]
    return z


def _one_hot(v: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """``v`` (rows, ...) with each value one-hot over ``levels`` (sorted, holding every value of ``v``),
    flattened per row."""
    codes = torch.searchsorted(levels, v.contiguous())
    return nn.functional.one_hot(codes, levels.numel()).double().reshape(v.shape[0], -1)


def _blocks(x: torch.Tensor, ids: set, levels: torch.Tensor) -> list[torch.Tensor]:
    """Each slice of ``x`` along dim 1 as the probes read it, (rows, features): an id slice one-hot over
    ``levels`` (a category, as the embedding reads it), any other as its values."""
    return [_one_hot(x[:, j], levels) if j in ids else x[:, j].reshape(x.shape[0], -1) for j in range(x.shape[1])]


def id_slots(x: torch.Tensor, t: dict, ids: set) -> set:
    """The slices of ``x`` read one-hot under ``t``: the id slices, and for the axis reversed their
    mirrors too (a position's one-hot is averaged with its mirror's)."""
    return ids | {x.shape[1] - 1 - j for j in ids} if t["kind"] == "reverse" else set(ids)


def id_levels(x: torch.Tensor, t: dict, ids: set) -> torch.Tensor:
    """The values the slices ``id_slots`` of ``x`` take, as given and in ``canonical`` form under ``t``."""
    ids = id_slots(x, t, ids)
    if not ids:
        return torch.zeros(0, dtype=x.dtype)
    slots = sorted(ids)
    return torch.unique(torch.cat([x[:, slots].reshape(-1), canonical(x, t)[:, slots].reshape(-1)]))


def probe_sides(x: torch.Tensor, t: dict, ids: set) -> dict:
    """What the probes read of the rows ``x``: ``{"given", "blind"}``, (rows, features). Slices that are
    not ids: as given and in ``canonical`` form under ``t``. Id slices (``ids``: what the model feeds to an
    embedding) one-hot, and on the blind side the one-hots of the id slices ``t`` moves averaged over the
    transformation's orbit (a group's slices: the ids' counts, the multiset, a maximal invariant; the
    axis reversed: each position's one-hot with its mirror's, beside the canonical row one-hot, which
    keeps what the average loses): the linear functions of the given side's one-hots that ``t`` leaves
    unchanged, where sorting ids or a row's reverse by their numbers would scatter one id over many
    features and leave a linear probe less than the model can read."""
    levels, ids = id_levels(x, t, ids), id_slots(x, t, ids)
    given = _blocks(x, ids, levels)
    moved = [j for j in t["slots"] if j in ids]
    if t["kind"] == "permute":
        numeric = [j for j in t["slots"] if j not in ids]
        z = canonical(x, {"kind": "permute", "slots": numeric}) if len(numeric) >= 2 else x
        blind = _blocks(z, ids, levels)
        if moved:
            counts = torch.stack([blind[j] for j in moved]).mean(0)
            blind = [counts if j in moved else b for j, b in enumerate(blind)]
    elif t["kind"] == "reverse" and moved:
        mirrored = _blocks(x.flip(1), ids, levels)
        blind = [(a + b) / 2 for a, b in zip(given, mirrored)] + _blocks(canonical(x, t), ids, levels)
    else:
        blind = _blocks(canonical(x, t), ids, levels)
    return {"given": torch.cat(given, 1), "blind": torch.cat(blind, 1)}


def blind_gain(x: torch.Tensor, t_rows: torch.Tensor, t: dict, *, class_ids: bool, ids: set = frozenset(),
               seed: int = 0) -> list[dict]:
    """Each probe's out-of-fold score on the rows ``x`` as given and in their ``canonical`` form under
    ``t`` (``probe_sides``: the slices in ``ids`` read as categories): ``[{"probe", "given", "blind",
    "p"}]`` (accuracy for class ids, mean squared error otherwise; ``p``: one-sided, that the probe on
    the canonical form does worse)."""
    gen = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    target = t_rows.reshape(-1).long().numpy() if class_ids else t_rows.double().reshape(n, -1).numpy()
    if not class_ids and target.shape[1] == 1:
        target = target[:, 0]
    kind = "classes" if class_ids else "values"
    folds = torch.arange(n) % unmatched_join.FOLDS
    sides = probe_sides(x, t, set(ids))
    out = []
    for probe in ("linear", "neighbours"):
        guess = {side: np.empty(target.shape, dtype=target.dtype) for side in sides}
        for k in range(unmatched_join.FOLDS):
            rows = torch.cat([(folds != k).nonzero().flatten(), (folds == k).nonzero().flatten()])
            fit = int((folds != k).sum())
            for side, F in sides.items():
                features = first_layer.probe_features(F[rows], fit, gen)
                guess[side][rows[fit:].numpy()] = first_layer.fit_predict(kind, probe, features, target[rows.numpy()], fit)
        scores = first_layer.paired_scores(kind, target, guess["given"], guess["blind"])
        out.append({"probe": probe, "given": scores["raw"], "blind": scores["layers"], "p": scores["p"]})
    return out


def _worse(r: dict, class_ids: bool) -> bool:
    if class_ids:
        return r["given"] - r["blind"] >= first_layer.MIN_DROP
    return r["blind"] >= first_layer.LOSS_RATIO * r["given"]


def _named(t: dict, shape: tuple) -> str:
    what = "columns" if len(shape) == 2 else "positions" if len(shape) == 3 else "slices along dim 1"
    slots = t["slots"][:LISTED]
    listed = ", ".join(map(str, slots)) + (" ..." if len(t["slots"]) > LISTED else "")
    if t["kind"] == "sign":
        return f"the sign of input {what[:-1]} {listed} flipped"
    if t["kind"] == "reverse":
        return f"the input's {what} in reverse order"
    if len(t["slots"]) == 2:
        return f"input {what} {listed} swapped"
    return f"input {what} {listed} put in any order"


def _vocabulary_too_big(inv: dict, shape: tuple, ids: list, vocabulary: int, rows: int) -> Finding:
    """``info``: the transformation is not tested, its id slices' vocabulary being too big for the rows
    read to show what each id says (fewer than ``constant_ids.REPEATS`` rows an id on average)."""
    return make(
        "uninformative_inputs",
        f"the model's output does not change with {_named(inv, shape)}, but whether the targets depend on that "
        f"difference is not tested: the model reads input slices {ids[:LISTED]}{' ...' if len(ids) > LISTED else ''} "
        f"as ids (an embedding's), whose {vocabulary} distinct values are too many for the {rows} rows read "
        f"(at least {constant_ids.REPEATS} rows an id on average), and an id's number says nothing of what it means",
        evidence={"transformation": inv["kind"], "slots": inv["slots"], "id_slices": ids,
                  "vocabulary": vocabulary, "rows": rows},
        severity="info", where="model")


def check_blind_model(model: nn.Module, X, y, *, class_ids: bool, seed: int = 0) -> list[Finding]:
    """``uninformative_inputs`` (a warning) for each transformation the model's output is exactly
    invariant to while probes on the rows' canonical form under it predict the targets worse (the module docstring)."""
    if not torch.is_tensor(X) or not torch.is_floating_point(X) or X.dim() < 2 or not torch.is_tensor(y) \
            or X.shape[0] < first_layer.MIN_ROWS or y.shape[0] != X.shape[0] or not 2 <= X.shape[1] <= MAX_SLOTS:
        return []
    device = next((p.device for p in model.parameters()), X.device)
    found = invariances(model, X[:ROWS].to(device))[:MAX_TESTED]
    if not found:
        return []
    x, t = X[:first_layer.ROWS].detach().double().cpu(), y[:first_layer.ROWS].detach().cpu()
    cls = class_ids and t.dim() == 1 and torch.unique(t).numel() >= 2
    if not cls and not torch.is_floating_point(t):
        return []
    ids = set(constant_ids.id_slices(model, X[:ROWS].to(device)))   # read as categories (the embedding's ids)
    bound = first_layer.ALPHA / (2 * len(found))
    findings = []
    for k, inv in enumerate(found):
        vocabulary = id_levels(x, inv, ids).numel()
        if vocabulary * constant_ids.REPEATS > x.shape[0]:
            findings.append(_vocabulary_too_big(inv, tuple(X.shape), sorted(ids), vocabulary, x.shape[0]))
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = blind_gain(x, t, inv, class_ids=cls, ids=ids, seed=seed + k)
        hits = [r for r in results if r["p"] < bound and _worse(r, cls)]
        if not hits:
            continue
        named = _named(inv, tuple(X.shape))
        measure = "accuracy" if cls else "squared error"
        scores = "; ".join(f"{r['probe']} {r['given']:.3g} as given, {r['blind']:.3g} in canonical form "
                           f"(p = {r['p']:.2g})" for r in results)
        findings.append(make(
            "uninformative_inputs",
            f"the model's output does not change with {named} (to {SILENT:g} of its RMS on {min(ROWS, X.shape[0])} "
            f"rows, though it reads each of them), while the targets depend on that difference: probes fitted out "
            f"of fold on the rows as given and on their canonical form under it (what a model blind to it can read) "
            f"score ({measure}) {scores}; no training can show the model what its structure hides (one "
            f"embedding summed over two roles, a sum over positions where order matters, a square of a signed "
            f"value)",
            evidence={"transformation": inv["kind"], "slots": inv["slots"], "probes": results,
                      "p_threshold": bound, "id_slices": sorted(ids)},
            severity="warning", where="model",
            fix="give each role its own parameters (one embedding per column, or concatenate the looked-up "
                "vectors instead of summing them); keep the positions' order (a recurrent or convolutional "
                "layer, position embeddings); read the signed value, not its square or absolute value"))
    return findings
