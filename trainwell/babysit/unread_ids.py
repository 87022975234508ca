"""Ids that occur as content in the rows and that the model never learns from: ``uninformative_inputs``.

A sequence of ids is padded with one id at one end (0, by habit), and the model is told which id is
padding: a mask ``ids != 0`` before a mean or an attention, or ``nn.Embedding(padding_idx=0)``, whose
row 0 is held at zero and never trained. Both are right while the padding id is only padding. A
vocabulary numbered from 0 (``enumerate`` over the sorted words) gives the first word the padding's
id: the mask then drops that word wherever it occurs, and ``padding_idx`` holds its vector at zero, so
the model cannot learn the word: every row that holds it reads as the same row without it. Nothing
about the run looks wrong but the accuracy that word carried. The data shows which ids are content and
the model shows which it never learns from (a parameter trains only through a path to the loss, notes
001; PyTorch's ``nn.Embedding``: the entries at ``padding_idx`` do not contribute to the gradient); the
evidence is both, and the targets' dependence on it:

1. *Content* (the data). In each embedding call whose ids are a (rows, steps) array of at least
   ``MIN_STEPS`` steps (the ids of the forward of half 2, read by hooks as ``constant_ids._ids`` reads them),
   padding is a run of one id at one end of a row; an id occurs *as content* where another id comes
   both before and after it in its row (a word between other words). An id is content where it occurs
   so in at least ``MIN_CONTENT`` of the rows (padding never does: its runs touch an end).
   A call none of whose content ids is read is left to the checks of cut paths (a causal mask that
   leaves a [CLS] token reading itself: every id unread, none singled out).
2. *Never learned from* (the model, untrained, eval mode, forked RNG). The output projected on a fixed
   random direction is differentiated by the embedding's table, once at the initial weights and once
   after every parameter moved by ``cut_gradient.NUDGE`` of its RMS (``module_use.nudged``: a path
   closed only by a zero at initialization opens); a content id whose row gets exactly zero gradient at
   both never trains (a vocabulary's word under a mask, or the embedding's ``padding_idx``), where other
   content ids of the same call do (the model reads the words, not that one). One forward
   a candidate says which: the row redrawn at the table's RMS leaves the output within ``SILENT`` of its
   RMS (the mask: the model never reads the id), or it moves (``padding_idx``: the id reads as a fixed
   vector of zeros, the padding's). At most ``MAX_TESTED`` candidates, the most frequent as content.
3. *What it costs* (the intervention on the data): ``first_layer``'s probes (a linear model and nearest
   neighbours) are fitted on each row's counts of its ``MAX_BAG`` most frequent ids with a count of the
   id's content occurrences, and again without that count (what the model can tell: the row as if the
   word were padding); a drop by the kill rule's margin at ``first_layer.ALPHA`` split over the probes
   (``first_layer.significant_drop``) makes it a warning, else info.

Quiet for an id that is only padding (masked or ``padding_idx``: the runs at one end), ids the model
learns from, ids given one per row (a table's column: no steps), and models without an embedding.
"""
from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from trainwell.babysit import first_layer
from trainwell.babysit.cut_gradient import first_tensor
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.hooks import hooks_held
from trainwell.babysit.module_use import nudged

MIN_STEPS = 3          # ids with a step before and after another: at least 3 steps a row
MIN_CONTENT = 0.01     # an id is content where it stands between other ids in at least 1 % of the rows read
MAX_TESTED = 4         # content ids never learned from that are confirmed and probed (one forward each)
SILENT = 1e-5          # an output unchanged to float32 rounding (module_use.SILENT's, blind_model.SILENT's)
MAX_BAG = 256          # the probes read the counts of the rows' most frequent ids (wider bags: the tail cut)


def inside(ids: torch.Tensor) -> torch.Tensor:
    """Where each entry of ``ids`` (rows, steps) stands between other ids: outside the run of one id that
    opens its row and the run that closes it (padding is such a run)."""
    leading = (ids == ids[:, :1]).long().cumprod(1).bool()
    trailing = (ids == ids[:, -1:]).long().flip(1).cumprod(1).flip(1).bool()
    return ~leading & ~trailing


def content_rows(ids: torch.Tensor) -> dict:
    """``{id: rows}``: for each id that stands between other ids (another id before it and another after
    it in its row), the number of rows where it does. Padding, a run of one id touching an end of each
    row, never does. ``ids``: (rows, steps)."""
    between = inside(ids)
    if not bool(between.any()):
        return {}
    rows = torch.nonzero(between)[:, 0]
    pairs = torch.unique(torch.stack([rows, ids[between]], 1), dim=0)      # (row, id) once per row
    values, counts = torch.unique(pairs[:, 1], return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts)}


def _row_gradients(work: nn.Module, x: torch.Tensor, direction_seed: int) -> tuple | None:
    """``(calls, grads)`` of one eval-mode forward: ``calls`` ``[(name, num_embeddings, ids)]`` of every
    embedding call (as ``constant_ids._ids``), ``grads`` ``{embedding name: gradient of its table}`` of the
    output projected on a fixed random direction (a sum would cancel through a softmax); None where the
    forward or backward fails."""
    tables = {name: m for name, m in work.named_modules()
              if isinstance(m, (nn.Embedding, nn.EmbeddingBag)) and m.weight.requires_grad}
    if not tables:
        return None
    calls = []
    hooks = [m.register_forward_pre_hook(lambda m, args, name=name: calls.append(
        (name, m.num_embeddings, args[0].detach().clone()))) for name, m in tables.items()]
    try:
        with hooks_held(hooks), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = first_tensor(work(x))
            if out is None or not torch.is_floating_point(out) or not out.requires_grad:
                return None
            gen = torch.Generator().manual_seed(direction_seed)
            r = torch.randn(out.shape, generator=gen, dtype=torch.float64).to(out.device, out.dtype)
            grads = torch.autograd.grad((out * r).sum(), [m.weight for m in tables.values()], allow_unused=True)
    except Exception:                   # the model's own errors are model_raises' to report
        return None
    return calls, {name: (torch.zeros_like(m.weight) if g is None else g.to_dense())
                   for (name, m), g in zip(tables.items(), grads)}


def _output(work: nn.Module, x: torch.Tensor) -> torch.Tensor | None:
    """``work``'s first output tensor on ``x`` without gradients as float64; None where the forward fails."""
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = first_tensor(work(x))
    except Exception:                   # noqa: BLE001 - a redrawn row the forward cannot take: read as moved
        return None
    return out.detach().double() if out is not None and torch.is_floating_point(out) else None


def _row_read(work: nn.Module, name: str, v: int, x: torch.Tensor, base: torch.Tensor, seed: int) -> bool:
    """Whether redrawing row ``v`` of embedding ``name`` (at its table's RMS) moves the output by more
    than ``SILENT`` of its RMS."""
    table = dict(work.named_modules())[name].weight
    kept = table[v].detach().clone()
    gen = torch.Generator().manual_seed(seed)
    scale = float(table.detach().float().pow(2).mean().sqrt()) or 1.0
    with torch.no_grad():
        table[v] = torch.randn(table.shape[1], generator=gen).to(table.device, table.dtype) * scale
    out = _output(work, x)
    with torch.no_grad():
        table[v] = kept
    rms = float(base.pow(2).mean().sqrt())
    return out is None or out.shape != base.shape or float((out - base).abs().max()) > SILENT * max(rms, 1e-12)


def unlearned_content(model: nn.Module, x: torch.Tensor, *, seed: int = 0) -> list[dict]:
    """The content ids (half 1) whose embedding row never trains (half 2): ``[{"embedding", "id",
    "content_rows", "share", "positions", "read", "padding_idx", "ids"}]``, the most frequent first, at most
    ``MAX_TESTED``; ``read``: redrawing the row moves the output (a fixed zero row, ``padding_idx``)."""
    work = copy.deepcopy(model).eval()
    n = x.shape[0]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        first = _row_gradients(work, x, seed)
        if first is None:
            return []
        calls, grads = first
        content = {}
        for name, size, ids in calls:
            if ids.dim() != 2 or ids.shape[0] != n or ids.shape[1] < MIN_STEPS:
                continue
            words = {v: rows for v, rows in content_rows(ids.cpu()).items() if rows >= MIN_CONTENT * n and 0 <= v < size}
            unread = {v for v in words if not bool(grads[name][v].any())}
            if len(unread) == len(words):
                continue                # no id of the call is read: the path is cut (module_use, first_layer)
            for v in unread:
                if words[v] > content.get((name, v), (0, None))[0]:
                    content[(name, v)] = (words[v], ids.cpu())
        if not content:
            return []
        second = _row_gradients(nudged(work, seed).eval(), x, seed)
        if second is None:
            return []
        idle = sorted(((rows, name, v, ids) for (name, v), (rows, ids) in content.items()
                       if not bool(second[1][name][v].any())), key=lambda c: -c[0])
        base = _output(work, x) if idle else None
        if base is None:
            return []
        modules = dict(work.named_modules())
        found = []
        for k, (rows, name, v, ids) in enumerate(idle[:MAX_TESTED]):
            pad = getattr(modules[name], "padding_idx", None)
            read = _row_read(work, name, v, x, base, seed + k)
            if read and pad != v:
                continue                # a zero gradient through a step function: not a row left out
            positions = float(((ids == v) & inside(ids)).double().mean())
            found.append({"embedding": name, "id": v, "content_rows": rows, "share": rows / n, "positions": positions,
                          "read": read, "padding_idx": pad == v, "ids": ids})
    return found


def bags(ids: torch.Tensor, v: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(with, without)``: each row's counts of its ``MAX_BAG`` most frequent ids other than ``v``, with
    and without a last column counting ``v``'s content occurrences (between other ids)."""
    values, inverse = torch.unique(ids, return_inverse=True)
    counts = torch.zeros(ids.shape[0], values.numel(), dtype=torch.float64)
    counts.scatter_add_(1, inverse, torch.ones_like(inverse, dtype=torch.float64))
    keep = [int(j) for j in counts.sum(0).argsort(descending=True) if int(values[j]) != v][:MAX_BAG]
    word = ((ids == v) & inside(ids)).sum(1, keepdim=True).double()
    without = counts[:, keep]
    return torch.cat([without, word], 1), without


def check_unread_ids(model: nn.Module, X, y, *, class_ids: bool, seed: int = 0) -> list[Finding]:
    """``uninformative_inputs`` for each id that stands between other ids in the rows (content) and whose
    embedding row never trains (the module docstring): a warning where the probes lose the targets without
    its count, else ``info``."""
    if not any(isinstance(m, (nn.Embedding, nn.EmbeddingBag)) for m in model.modules()):
        return []
    if not torch.is_tensor(X) or X.dim() < 2 or X.shape[0] < first_layer.MIN_ROWS:
        return []
    device = next((p.device for p in model.parameters()), X.device)
    x = X[:first_layer.ROWS].to(device)
    findings = []
    for c in unlearned_content(model, x, seed=seed):
        findings.append(_finding(c, x.shape[0], y, class_ids=class_ids, seed=seed))
    return findings


def _finding(c: dict, n: int, y, *, class_ids: bool, seed: int) -> Finding:
    t = y[:n].cpu() if torch.is_tensor(y) and y.shape[0] >= n else None
    cls = t is not None and class_ids and t.dim() == 1 and torch.unique(t).numel() >= 2
    results, drop = None, None
    if t is not None and (cls or torch.is_floating_point(t)):
        with_word, without = bags(c["ids"], c["id"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = first_layer.probe_drop(with_word, [without], t, class_ids=cls, seed=seed)
        drop = first_layer.significant_drop(results, cls)
    how = ("its row is the embedding's padding_idx, held at zero and never trained: the id reads as the padding's "
           "fixed vector" if c["padding_idx"] else
           "redrawing its row leaves the output unchanged: the model masks the id out (a padding mask such as "
           "ids != {v}) wherever it occurs").format(v=c["id"])
    said = (f"id {c['id']} of the embedding {c['embedding']} stands between other ids (content, not padding at an "
            f"end of the row) in {c['content_rows']} of the {n} rows read ({100 * c['share']:.1f} %; "
            f"{100 * c['positions']:.1f} % of the positions), but its row "
            f"gets exactly zero gradient at the initial weights and after every weight is moved: {how}, so the model "
            f"can never learn what that id means")
    if results:
        scores = "; ".join(f"{r['probe']} {r['raw']:.3g} with its count, {r['layers']:.3g} without" for r in results)
        said += (f"; probes on the rows' id counts {'lose' if drop else 'do not measurably lose'} what the targets "
                 f"depend on without it ({'accuracy' if cls else 'squared error'}: {scores})")
    return make("uninformative_inputs", said,
                evidence={"unread_ids": True, "embedding": c["embedding"], "id": c["id"],
                          "content_rows": c["content_rows"], "share": c["share"], "positions": c["positions"], "rows": n,
                          "padding_idx": c["padding_idx"], "probes": results,
                          "p_threshold": drop["p_threshold"] if drop else None},
                where=c["embedding"], severity="warning" if drop else "info",
                fix=f"number the vocabulary from 1 and keep {c['id']} for padding only (or pad with an id no word "
                    f"has, and give that id to the mask or padding_idx)")
