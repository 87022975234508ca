"""Marks that could tell inputs that lost what predicts the target, measured alone on every side.

Set 26 has three data faults that leave the model's inputs without the information that predicts
the target: a rolling mean assigned by position (``presses``), timestamps read in the wrong unit
(``bikes``), error codes stripped by a regex (``logs``). The babysitter sees only the training rows,
the targets and the model, so a general check needs a mark that such a loss leaves in them and that
healthy data does not carry. This script measures the candidate marks (no doctor, no training) on
every side of the user sets, so that each candidate is judged by what it would alarm on:

* ``A_few_levels``: a table column of 2 to ``FEW_LEVELS`` values beside at least two continuous
  columns (a reading collapsed to a few steps);
* ``B_every_row_id``: token ids read by an embedding: an id other than the padding in at least
  ``EVERY_ROW`` of the rows (the informative token turned into one word);
* ``B2_once_moving``: such an id exactly once in ``EVERY_ROW`` of the rows, at no one position in
  ``FIXED_POSITION`` of them (a slot of the line whose content was erased);
* ``C_unrelated``: a varying table column with no relation to the targets (``label_relation``'s
  chi-square test of independence at p > ``NO_RELATION``; a regression's targets cut at their
  quintiles).

``--intervene SET PAIR`` runs the notes' "overfit a small subset" as an experiment on one pair's
two sides: the user's model (Adam 1e-3, batches of 64) fitted on the training rows as given and
with each table column permuted (retrained, one seed), and memorizing the first 20 / 128 / 512
training rows. ``--eos`` reads mark B2 on set 21's tickets with an end token appended to each
(what a tokenizer adds to every sequence before padding)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_lost_info_scan.py --sets 1 2 ... 26 [--json OUT]
    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_lost_info_scan.py --intervene 26 PAIR
    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/babysit_lost_info_scan.py --eos
"""
from __future__ import annotations

import copy
import importlib
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from babysit_reach import SETS, on_prepared, scan, timed  # noqa: E402
from trainwell.babysit.label_relation import column_relations  # noqa: E402

ROWS = 2000             # training rows read (data_checks.STATS_ROWS)
FEW_LEVELS = 12         # mark A: a column of at most 12 values (a month, an hour in two-hour steps)
CONTINUOUS = 0.9        # ... beside columns holding a value of their own in >= 90 % of the rows
EVERY_ROW = 0.99        # marks B, B2: an id in >= 99 % of the rows
FIXED_POSITION = 0.9    # mark B2: no one position holds the id in 90 % of its rows
NO_RELATION = 0.05      # mark C: no evidence of a relation to the targets at 5 %
QUINTILES = (0.2, 0.4, 0.6, 0.8)
MEMORIZED = ((20, 300), (128, 1000), (512, 2000))   # --intervene: rows memorized and full-batch steps


def id_marks(ids: torch.Tensor, *, pad: int = 0) -> dict:
    """Marks B and B2 on a (rows, positions) tensor of token ids."""
    every_row, moving = [], []
    for v in torch.unique(ids).tolist():
        if v == pad:
            continue
        hit = ids == v
        count = hit.sum(1)
        if float((count > 0).double().mean()) < EVERY_ROW:
            continue
        every_row.append(v)
        once = count == 1
        if float(once.double().mean()) >= EVERY_ROW:
            positions = torch.bincount(hit[once].double().argmax(1))
            if int(positions.max()) < FIXED_POSITION * int(once.sum()):
                moving.append(v)
    return {"every_row": every_row, "moving": moving}


def table_marks(x: torch.Tensor, t: torch.Tensor) -> dict:
    """Marks A and C on a float table ``x`` and its targets ``t`` (class ids or values)."""
    levels = torch.tensor([torch.unique(x[:, j]).numel() for j in range(x.shape[1])])
    continuous = int((levels >= CONTINUOUS * x.shape[0]).sum())
    few = ((levels >= 2) & (levels <= FEW_LEVELS)).nonzero().flatten().tolist() if continuous >= 2 else []
    if torch.is_floating_point(t):
        values = t.reshape(t.shape[0], -1)[:, 0].double()
        edges = torch.quantile(values, torch.tensor(QUINTILES, dtype=torch.float64))
        classes = torch.bucketize(values, edges)
    else:
        classes = t.reshape(-1).long()
    rel = column_relations(x, classes) if classes.shape[0] == x.shape[0] else None
    unrelated = [] if rel is None else \
        rel["columns"][(rel["p"] > NO_RELATION) & (levels[rel["columns"]] > 1)].tolist()
    return {"levels": levels.tolist(), "few_levels": few, "unrelated": unrelated}


def marks(p, X, y) -> dict:
    """The scan's row for one prepared side: the marks found and what they read."""
    n = min(X.shape[0], ROWS)
    x, t = X[:n].detach().cpu(), y[:n].detach().cpu()
    embeds = any(isinstance(m, (nn.Embedding, nn.EmbeddingBag)) for m in p.model.modules())
    integral = not torch.is_floating_point(x) or bool((x == x.round()).all())
    if embeds and integral and x.dim() == 2:
        info = id_marks(x.long())
        alarms = ["B_every_row_id"] * bool(info["every_row"]) + ["B2_once_moving"] * bool(info["moving"])
    elif torch.is_floating_point(x) and x.dim() == 2:
        info = table_marks(x, t)
        alarms = ["A_few_levels"] * bool(info["few_levels"]) + ["C_unrelated"] * bool(info["unrelated"])
    else:
        return {"alarms": [], "skipped": "neither token ids nor a table"}
    return {"alarms": alarms, "info": info}


def side(model, tr, va, te, opts, expected=frozenset()) -> dict:
    return on_prepared(timed(marks), model, tr, va, te, opts, sample=True)


def _loss(regression: bool):
    if regression:
        return lambda out, t: F.mse_loss(out.reshape(t.shape), t)
    return F.cross_entropy


def _fit(model, X, y, loss, *, steps: int, batch: int | None = 64) -> nn.Module:
    torch.manual_seed(0)
    m = copy.deepcopy(model)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    for _ in range(steps):
        rows = torch.randint(0, X.shape[0], (batch,)) if batch else slice(None)
        opt.zero_grad()
        loss(m(X[rows]), y[rows]).backward()
        opt.step()
    return m


def intervene(set_number: int, pair: str) -> None:
    """Print, per side of ``pair``: the training and validation loss with each table column permuted
    against as given (the column's share of what the model fits), and the training accuracy (or loss)
    after memorizing ``MEMORIZED`` rows."""
    module = importlib.import_module(SETS[set_number])
    for broken in (False, True):
        model, (tr, va, _), _, _ = module.PAIRS[pair](broken)
        (X, y), (Xv, yv) = tr, va
        regression = torch.is_floating_point(y)
        loss = _loss(regression)
        line = [f"{pair} {'broken' if broken else 'healthy'}:"]

        @torch.no_grad()
        def scored(m, A, Av):
            return float(loss(m(A), y)), float(loss(m(Av), yv))
        if X.dim() == 2:
            base = scored(_fit(model, X, y, loss, steps=600), X, Xv)
            line.append(f"as given train {base[0]:.3f} val {base[1]:.3f}; permuted (train/val change):")
            g = torch.Generator().manual_seed(1)
            for j in range(X.shape[1]):
                Z, Zv = X.clone(), Xv.clone()
                Z[:, j] = X[torch.randperm(X.shape[0], generator=g), j]
                Zv[:, j] = Xv[torch.randperm(Xv.shape[0], generator=g), j]
                r = scored(_fit(model, Z, y, loss, steps=600), Z, Zv)
                line.append(f"col {j} {r[0] - base[0]:+.3f}/{r[1] - base[1]:+.3f}")
        for rows, steps in MEMORIZED:
            m = _fit(model, X[:rows], y[:rows], loss, steps=steps, batch=None)
            with torch.no_grad():
                out = m(X[:rows])
                fit = float(loss(out, y[:rows])) if regression \
                    else float((out.argmax(1) == y[:rows]).float().mean())
            line.append(f"memorized {rows} rows: {'loss' if regression else 'accuracy'} {fit:.3f}")
        print(" ".join(line), flush=True)


def eos_tickets() -> None:
    """Mark B2 on set 21's tickets as written and with an end token appended to each."""
    import babysit_user21 as user21
    texts, _ = user21.ticket_texts(2000, seed=2615)
    for name, rows in (("as written", texts), ("end token appended", [list(t) + ["<eos>"] for t in texts])):
        vocab = user21.vocabulary(rows)
        print(f"set 21 tickets, {name}: {id_marks(torch.as_tensor(user21.encode(rows, vocab)).long())}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    if sys.argv[1:2] == ["--intervene"]:
        intervene(int(sys.argv[2]), sys.argv[3])
    elif sys.argv[1:2] == ["--eos"]:
        eos_tickets()
    else:
        raise SystemExit(scan(side, sys.argv[1:], description=__doc__.splitlines()[0]))
