"""Ids computed from the inputs that are one value on every row, or a few values where the inputs
carry many: ``uninformative_inputs``.

An embedding's ids come from the data (a category column cast to integers) or from the model's own
code (positions ``torch.arange(L)``, a [CLS] id, an id made from a measured value by
``torch.bucketize``, ``round`` or ``clamp``). An embedding of several rows whose ids are computed from
the inputs but come out as *one value on every row* reads one row of its table: what the inputs say
through it reaches the model as a constant. It happens when the values the ids are made from are in
other units than the code expects: a column standardized by a ``preprocess`` before a
``torch.bucketize`` whose edges are in years puts every member in the first band; a clamp or a
floor division meant for another range does the same. The same fault short of one value is a
*collapse*: a cast that truncates standard scores to -1, 0 and 1 and a clamp that maps them to 0 and 1
make codes 0-18 one token; a vocabulary or hash table far smaller than the codes it is given, an
integer division by the wrong base do the like. Its mark: a column the ids are read from carries many
more distinct values than the ids take (a cast or lookup that keeps the codes gives one id per value),
and either the ids reach few of the rows the table was built with (the table is sized to the ids the
code expects) or that column's values are codes, each on several rows (a measured float is one value
per row, and binning it is a choice). A binning of a measured column that fills its table and an id
column cast as it is stay quiet. The collapse's harm is what the ids lose (Weinberger et al. 2009:
the hashing trick costs little only while collisions are rare): the probes read the columns' codes
one-hot, and the ids one-hot in their place.

Read on the pre-flight's host rows (at most ``first_layer.ROWS``, at least ``first_layer.MIN_ROWS``),
one eval-mode forward with a pre-hook on every ``nn.Embedding`` and ``nn.EmbeddingBag``:

1. *One id on every row*: a call whose ids have a leading dimension of the rows read and take a
   single value, on an embedding of at least 2 rows (a table of one row is a learned vector by
   design). *Collapsed ids* (inputs that are a table): a column they are read from (step 2)
   carries at least ``SPREAD`` times as many distinct values as the ids take, and the ids take at
   most ``TABLE_SHARE`` of the table's rows or that column's values repeat (``REPEATS`` rows a value).
2. *Computed from the inputs*: the same forward with the inputs scaled by each of ``SCALES`` gives
   other ids (positions, a constant [CLS] id and ids from a buffer do not move). For a table, the
   columns whose scaling alone moves the ids are the ones read.
3. *What is lost matters* (the intervention, tables only). One id: ``first_layer``'s probes (a
   linear model and nearest neighbours, out of fold) predict the targets better with those columns
   than with them set to their mean, at ``first_layer.ALPHA`` split over the probes
   (``unmatched_join.block_gain``). Collapsed ids: the probes on the columns (codes one-hot) against
   on the ids one-hot in their place (what the model can tell apart), by ``first_layer.significant_drop``
   (the kill rule's drop at ``first_layer.ALPHA``). Then a warning; otherwise, or for inputs that
   are not a table, ``info``.

Ids *coded row by row* (``row_codes``: an encoder fitted inside the loop over the rows, so each row's
ids are the ranks of its own distinct values, 1 .. k) are read here too: the rows read as dense ranks,
then again on the slices an embedding reads (``id_slices``), a warning without a probe (an id that
names another word in every row tells the embedding nothing whatever the targets).

Quiet for models without an embedding (no forward), a forward that fails (the other checks say so),
and ids that vary with the values they are read from.
"""
from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from trainwell.babysit import first_layer, row_codes, unmatched_join
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.hooks import hooks_held

SCALES = (100.0, -100.0)   # the inputs scaled: ids computed from them move (a bucketize's edges, a clamp's
                           # range, a rounding are crossed), positions and constant ids do not
MAX_COLUMNS = 64           # wider tables are not searched column by column for the ones the ids read
TABLE_SHARE = 0.25         # collapsed ids reach at most a quarter of the table's rows: three in four never read
SPREAD = 4                 # ... and a column they are read from carries 4x as many distinct values as the ids:
                           # a cast or lookup that keeps the codes gives one id per value (ratio <= 1)
REPEATS = 4                # ... or ids of any share, where that column's values are codes: each on 4 rows or
                           # more on average (a measured float is one value per row)
LISTED = 5                 # columns named in the message


def _ids(model: nn.Module, x: torch.Tensor) -> list | None:
    """``[(name, num_embeddings, ids)]`` of every embedding call in one eval-mode forward of ``x``
    (no gradients), None when the forward fails."""
    calls, hooks = [], []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
            hooks.append(module.register_forward_pre_hook(
                lambda m, args, name=name: calls.append((name, m.num_embeddings, args[0].detach().clone()))))
    try:
        with hooks_held(hooks), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model(x)
    except Exception:                   # the model's own errors are model_raises' to report
        return None
    return calls


def _moved(calls: list, other: list | None, k: int) -> bool:
    """Whether call ``k``'s ids differ in ``other`` (a failed or differently shaped forward counts as moved)."""
    if other is None or len(other) != len(calls):
        return True
    return not torch.equal(calls[k][2], other[k][2])


def check_constant_ids(model: nn.Module, X, y, *, class_ids: bool, seed: int = 0) -> list[Finding]:
    """``uninformative_inputs`` for an embedding whose ids are computed from the inputs and are one
    value on every row read, or collapsed to a few ids where the columns they are read from carry many
    more values (see the module docstring): a warning where what the ids lose tells the probes about
    the targets, else ``info``."""
    if not any(isinstance(m, (nn.Embedding, nn.EmbeddingBag)) for m in model.modules()):
        return []
    if not torch.is_tensor(X) or not torch.is_floating_point(X) or X.shape[0] < first_layer.MIN_ROWS:
        return []
    device = next((p.device for p in model.parameters()), X.device)
    x = X[:first_layer.ROWS].to(device)
    work = copy.deepcopy(model).eval()
    calls = _ids(work, x)
    if not calls:
        return []
    found = _row_coded_ids(work, x)
    n = x.shape[0]
    scaled = [_ids(work, x * s) for s in SCALES]
    for k, (name, size, ids) in enumerate(calls):
        if size < 2 or ids.dim() == 0 or ids.shape[0] != n:
            continue
        distinct = torch.unique(ids).numel()
        if distinct > 1 and (x.dim() != 2 or _spread(x, range(x.shape[1])) < SPREAD * distinct):
            continue            # ids that vary: a collapse needs a table column of many more values
        if not any(_moved(calls, other, k) for other in scaled):
            continue
        columns = _columns(work, x, calls, k)
        if distinct == 1:
            found.append(_constant_finding(x, y, calls[k], columns, class_ids=class_ids, seed=seed))
        elif _collapsed(x, columns, distinct, size):
            found.append(_collapse_finding(x, y, calls[k], columns, class_ids=class_ids, seed=seed))
    return found


def _row_coded_ids(work: nn.Module, x: torch.Tensor) -> list[Finding]:
    """``uninformative_inputs`` for ids coded row by row (``row_codes.find_row_codes``): the rows read
    as dense ranks, on the slices an embedding reads (``id_slices``) where those are not all of them."""
    rows = x.reshape(x.shape[0], -1).double().cpu()
    if row_codes.find_row_codes(rows, numbers=False) is None:
        return []
    slices = id_slices(work, x)
    if not slices:
        return []
    found = row_codes.find_row_codes(x[:, slices].reshape(x.shape[0], -1).double().cpu(), numbers=False)
    if found is None:
        return []
    return [row_codes.row_codes_finding(
        {**found, "slices": slices[:LISTED]}, where="embedding ids",
        what=f"the ids the model's embeddings read (input slices {slices[:LISTED]}{' ...' if len(slices) > LISTED else ''})",
        fix="fit one encoder on the training split's values and apply it to every row and split "
            "(LabelEncoder().fit(all_training_words), then .transform(words) per row; a vocabulary built once), "
            "never an encoder fitted inside the loop over the rows")]


def _spread(x: torch.Tensor, columns) -> int:
    """The most distinct values any of ``columns`` of the table ``x`` carries (0 for none)."""
    return max((torch.unique(x[:, j]).numel() for j in columns), default=0)


def _collapsed(x: torch.Tensor, columns: list[int], distinct: int, size: int) -> bool:
    """``distinct`` ids read from ``columns`` are a collapse: a column carries ``SPREAD`` times as many
    values, and either the ids reach at most ``TABLE_SHARE`` of the table's rows or that column's values
    are codes (each on ``REPEATS`` rows or more on average: a measured value is nearly one per row)."""
    spread = _spread(x, columns)
    return spread >= SPREAD * distinct and (distinct <= TABLE_SHARE * size or spread * REPEATS <= x.shape[0])


def _slice_moves(work: nn.Module, x: torch.Tensor, calls: list, j: int, k: int | None = None) -> bool:
    """Whether scaling slice ``j`` of ``x`` along dim 1 alone (by one of ``SCALES``) moves call ``k``'s
    ids (any call's for ``k`` None)."""
    for s in SCALES:
        z = x.clone()
        z[:, j] = z[:, j] * s
        other = _ids(work, z)
        if any(_moved(calls, other, i) for i in (range(len(calls)) if k is None else [k])):
            return True
    return False


def _columns(work: nn.Module, x: torch.Tensor, calls: list, k: int) -> list[int]:
    """The columns of a table ``x`` whose scaling alone (by ``SCALES``) moves call ``k``'s ids."""
    if x.dim() != 2 or x.shape[1] > MAX_COLUMNS:
        return []
    return [j for j in range(x.shape[1]) if _slice_moves(work, x, calls, j, k)]


def id_slices(model: nn.Module, x: torch.Tensor) -> list[int]:
    """The slices of ``x`` along dim 1 (a table's columns, a sequence's positions) that an embedding's
    ids are read from: scaling one alone by ``SCALES`` moves the ids of some ``nn.Embedding`` or
    ``nn.EmbeddingBag`` call (step 2 of the module docstring, on any call). The model reads those values
    as categories, not as numbers. ``[]`` for a model without an embedding, a forward that fails and
    inputs of more than ``MAX_COLUMNS`` slices."""
    if not any(isinstance(m, (nn.Embedding, nn.EmbeddingBag)) for m in model.modules()) \
            or x.dim() < 2 or x.shape[1] > MAX_COLUMNS:
        return []
    work = copy.deepcopy(model).eval()
    calls = _ids(work, x)
    if not calls:
        return []
    return [j for j in range(x.shape[1]) if _slice_moves(work, x, calls, j)]


def _as_categories(table: torch.Tensor, columns: list[int]) -> torch.Tensor:
    """``table`` with each of ``columns`` whose values are codes (each on ``REPEATS`` rows or more on
    average) one-hot encoded, the other columns first. The probes then read those values as a lookup
    would, one category each: a code's number says nothing about its class, so a linear probe of the
    numbers misses what the codes tell."""
    parts = [table[:, [j for j in range(table.shape[1]) if j not in columns]]]
    for j in columns:
        levels, codes = torch.unique(table[:, j], return_inverse=True)
        parts.append(nn.functional.one_hot(codes, levels.numel()).double() if levels.numel() * REPEATS <= table.shape[0]
                     else table[:, j:j + 1])
    return torch.cat(parts, 1)


def _targets(x: torch.Tensor, y, class_ids: bool):
    """The targets of the rows read and whether the probes score them as classes; None without them."""
    if not torch.is_tensor(y) or y.shape[0] < x.shape[0]:
        return None, False
    t = y[:x.shape[0]].cpu()
    return t, class_ids and t.dim() == 1 and torch.unique(t).numel() >= 2


def _ids_finding(message: str, evidence: dict, matters: bool) -> Finding:
    return make("uninformative_inputs", message, evidence={**evidence, "constant_ids": True},
                where=evidence["embedding"], severity="warning" if matters else "info",
                fix="check the values the ids are made from against what the code that makes them expects: "
                    "their units (a preprocess such as standardize changes them before a torch.bucketize whose "
                    "edges are in the raw units, or before a cast and clamp of codes: leave those columns out of "
                    "it, or bin before scaling), the range of a clamp, rounding or integer division, and a "
                    "vocabulary or hash table smaller than the codes it is given")


def _read_from(columns: list[int]) -> str:
    listed = columns[:LISTED]
    return f"; they are read from input columns {listed}{' ...' if len(columns) > len(listed) else ''}" if listed else ""


def _constant_finding(x, y, call, columns, *, class_ids: bool, seed: int) -> Finding:
    """One id on every row: the probes with the columns read and with them set to their means."""
    name, size, ids = call
    value = int(ids.reshape(-1)[0])
    t, cls = _targets(x, y, class_ids)
    results = None
    if columns and t is not None:
        block = {"rows": torch.zeros(x.shape[0], dtype=torch.bool), "columns": columns,
                 "values": x[:, columns].double().mean(0).tolist()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = unmatched_join.block_gain(x.detach().double().cpu(), t, block, class_ids=cls, seed=seed)
    matters = bool(results) and any(r["p"] < first_layer.ALPHA / len(results) for r in results)
    said = (f"the embedding {name} ({size} rows) is given id {value} on every one of the {x.shape[0]} rows read, "
            f"though its ids are computed from the inputs (scaling them by {' or '.join(f'{s:g}' for s in SCALES)} "
            f"moves the ids)") + _read_from(columns)
    if results:
        scores = "; ".join(f"{r['probe']} {r['with']:.3g} with them, {r['without']:.3g} without" for r in results)
        said += (f", and those columns {'tell' if matters else 'do not measurably tell'} the probes about the "
                 f"targets ({'accuracy' if cls else 'squared error'}: {scores})")
    said += ": only one row of its table is read, and what the inputs say through it reaches the model as a constant"
    return _ids_finding(said, {"embedding": name, "num_embeddings": size, "id": value, "rows": int(x.shape[0]),
                               "columns": columns, "probes": results}, matters)


def _collapse_finding(x, y, call, columns, *, class_ids: bool, seed: int) -> Finding:
    """A few ids where the columns carry many values: the probes with the columns read (one-hot where they
    are codes) and with the ids one-hot in their place (what the model can see through the lookup),
    judged by ``first_layer.significant_drop`` (the kill rule's drop at ``first_layer.ALPHA``)."""
    name, size, ids = call
    values, spread = torch.unique(ids), _spread(x, columns)
    t, cls = _targets(x, y, class_ids)
    results, drop = None, None
    if t is not None:
        table = x.detach().double().cpu()
        kept = table[:, [j for j in range(table.shape[1]) if j not in columns]]
        _, codes = torch.unique(ids.cpu(), return_inverse=True)
        seen = torch.cat([kept, nn.functional.one_hot(codes, values.numel()).double().reshape(x.shape[0], -1)], 1)
        results = first_layer.probe_drop(_as_categories(table, columns), [seen], t, class_ids=cls, seed=seed)
        drop = first_layer.significant_drop(results, cls)
    said = (f"the embedding {name} ({size} rows) is given only {values.numel()} distinct ids "
            f"({', '.join(str(int(v)) for v in values[:LISTED])}{' ...' if values.numel() > LISTED else ''}) on the "
            f"{x.shape[0]} rows read, where an input column they are read from carries {spread} distinct values, "
            f"and its ids are computed from the inputs (scaling them by {' or '.join(f'{s:g}' for s in SCALES)} "
            f"moves the ids)") + _read_from(columns)
    if results:
        scores = "; ".join(f"{r['probe']} {r['raw']:.3g} from the values, {r['layers']:.3g} through the ids"
                           for r in results)
        said += (f"; the probes {'lose' if drop else 'do not measurably lose'} what the targets depend on through "
                 f"the ids ({'accuracy' if cls else 'squared error'}: {scores})")
    said += ": values the inputs tell apart reach the model as one id"
    return _ids_finding(said, {"embedding": name, "num_embeddings": size, "id": int(values[0]),
                               "rows": int(x.shape[0]), "distinct_ids": int(values.numel()),
                               "distinct_values": spread, "columns": columns, "probes": results},
                        drop is not None)
