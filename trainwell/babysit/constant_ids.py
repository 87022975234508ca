"""Ids computed from the inputs that are one value on every row: ``uninformative_inputs``.

An embedding's ids come from the data (a category column cast to integers) or from the model's own
code (positions ``torch.arange(L)``, a [CLS] id, an id made from a measured value by
``torch.bucketize``, ``round`` or ``clamp``). An embedding of several rows whose ids are computed from
the inputs but come out as *one value on every row* reads one row of its table: what the inputs say
through it reaches the model as a constant. It happens when the values the ids are made from are in
other units than the code expects: a column standardized by a ``preprocess`` before a
``torch.bucketize`` whose edges are in years puts every member in the first band; a clamp or a
floor division meant for another range does the same.

Read on the pre-flight's host rows (at most ``first_layer.ROWS``, at least ``first_layer.MIN_ROWS``),
one eval-mode forward with a pre-hook on every ``nn.Embedding`` and ``nn.EmbeddingBag``:

1. *One id on every row*: a call whose ids have a leading dimension of the rows read and take a
   single value, on an embedding of at least 2 rows (a table of one row is a learned vector by
   design).
2. *Computed from the inputs*: the same forward with the inputs scaled by each of ``SCALES`` gives
   other ids (positions, a constant [CLS] id and ids from a buffer do not move). For a table, the
   columns whose scaling alone moves the ids are the ones read.
3. *What those columns say matters* (the intervention, tables only): ``first_layer``'s probes (a
   linear model and nearest neighbours, out of fold) predict the targets better with those columns
   than with them set to their mean, at ``first_layer.ALPHA`` split over the probes
   (``unmatched_join.block_gain``): then a warning; otherwise, or for inputs that are not a table,
   ``info``.

Quiet for models without an embedding (no forward), a forward that fails (the other checks say so),
and ids that vary over the rows.
"""
from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from trainwell.babysit import first_layer, unmatched_join
from trainwell.babysit.findings import Finding, make

SCALES = (100.0, -100.0)   # the inputs scaled: ids computed from them move (a bucketize's edges, a clamp's
                           # range, a rounding are crossed), positions and constant ids do not
MAX_COLUMNS = 64           # wider tables are not searched column by column for the ones the ids read
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
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model(x)
    except Exception:                   # the model's own errors are model_raises' to report
        return None
    finally:
        for hook in hooks:
            hook.remove()
    return calls


def _moved(calls: list, other: list | None, k: int) -> bool:
    """Whether call ``k``'s ids differ in ``other`` (a failed or differently shaped forward counts as moved)."""
    if other is None or len(other) != len(calls):
        return True
    return not torch.equal(calls[k][2], other[k][2])


def check_constant_ids(model: nn.Module, X, y, *, class_ids: bool, seed: int = 0) -> list[Finding]:
    """``uninformative_inputs`` for an embedding whose ids are computed from the inputs and are one
    value on every row read (see the module docstring): a warning where the columns they are read
    from help the probes, else ``info``."""
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
    n = x.shape[0]
    scaled = [_ids(work, x * s) for s in SCALES]
    found = []
    for k, (name, size, ids) in enumerate(calls):
        if size < 2 or ids.dim() == 0 or ids.shape[0] != n or torch.unique(ids).numel() != 1:
            continue
        if not any(_moved(calls, other, k) for other in scaled):
            continue
        found.append(_finding(work, x, y, calls, k, class_ids=class_ids, seed=seed))
    return found


def _columns(work: nn.Module, x: torch.Tensor, calls: list, k: int) -> list[int]:
    """The columns of a table ``x`` whose scaling alone (by ``SCALES``) moves call ``k``'s ids."""
    if x.dim() != 2 or x.shape[1] > MAX_COLUMNS:
        return []
    read = []
    for j in range(x.shape[1]):
        for s in SCALES:
            z = x.clone()
            z[:, j] = z[:, j] * s
            if _moved(calls, _ids(work, z), k):
                read.append(j)
                break
    return read


def _finding(work, x, y, calls, k, *, class_ids: bool, seed: int) -> Finding:
    name, size, ids = calls[k]
    value = int(ids.reshape(-1)[0])
    columns = _columns(work, x, calls, k)
    results = None
    if columns and torch.is_tensor(y) and y.shape[0] >= x.shape[0]:
        t = y[:x.shape[0]].cpu()
        block = {"rows": torch.zeros(x.shape[0], dtype=torch.bool), "columns": columns,
                 "values": x[:, columns].double().mean(0).tolist()}
        table = x.detach().double().cpu()
        cls = class_ids and t.dim() == 1 and torch.unique(t).numel() >= 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = unmatched_join.block_gain(table, t, block, class_ids=cls, seed=seed)
    matters = bool(results) and any(r["p"] < first_layer.ALPHA / len(results) for r in results)
    listed = columns[:LISTED]
    said = (f"the embedding {name} ({size} rows) is given id {value} on every one of the {x.shape[0]} rows read, "
            f"though its ids are computed from the inputs (scaling them by {' or '.join(f'{s:g}' for s in SCALES)} "
            f"moves the ids)")
    if listed:
        said += f"; they are read from input columns {listed}{' ...' if len(columns) > len(listed) else ''}"
    if results:
        scores = "; ".join(f"{r['probe']} {r['with']:.3g} with them, {r['without']:.3g} without" for r in results)
        said += (f", and those columns {'tell' if matters else 'do not measurably tell'} the probes about the "
                 f"targets ({'accuracy' if class_ids else 'squared error'}: {scores})")
    said += (": only one row of its table is read, and what the inputs say through it reaches the model as a "
             "constant")
    return make("uninformative_inputs", said,
                evidence={"embedding": name, "num_embeddings": size, "id": value, "rows": int(x.shape[0]),
                          "columns": columns, "probes": results, "constant_ids": True},
                where=name, severity="warning" if matters else "info",
                fix="check the values the ids are made from against what the code that makes them expects: "
                    "their units (a preprocess such as standardize changes them before a torch.bucketize whose "
                    "edges are in the raw units: leave those columns out of it, or bin before scaling), and "
                    "the range of a clamp, rounding or integer division")
