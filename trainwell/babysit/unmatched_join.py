"""A join that left most rows unmatched and told the others nothing: ``uninformative_inputs`` (a warning).

``filled_rows`` finds a block of columns filled in on the same rows (a left join whose keys did not
match, its missing values filled) where those rows learn worse than the others. A key read another
way can also match the rows it does match *wrongly*: dates parsed month first (pandas' default on
``dd/mm/YYYY`` text) give days 13-31 no match and days 1-12 the row of another date, codes of
another system collide with the wrong ids. Then the filled rows learn no worse than the matched
ones, because neither group gets what the joined table says about it, and ``filled_rows`` is quiet.
This check reads the same block and asks the matched rows instead:

1. *Most rows were filled* (``filled_rows.filled_block``, its share at least ``MAJORITY``): the join
   matched fewer rows than it missed.
2. *The joined columns tell the matched rows nothing* (the intervention): on the matched rows alone,
   the probes of ``first_layer`` (a linear model and nearest neighbours; each matched row scored
   once, by probes fitted on the other ``FOLDS`` - 1 folds, at most ``first_layer.ROWS`` rows) with
   the block's columns and with those columns set to their fill value (as if every row were
   unmatched); the columns carry nothing when no probe does better with them,
   paired on the same rows (class ids: McNemar's exact test; regression: a one-sided Wilcoxon
   signed-rank test on the squared errors; ``first_layer.paired_scores``) at ``GAIN_ALPHA`` split
   over the probes. A real relation shows at that level on a few hundred rows (a depot table's
   columns that set most of a delay: p < 1e-60); what the warning needs is no relation seen at all. A
   table the user joined in for its relation to the target gives the rows it matches that relation;
   a join that gives the majority nothing and the rest no relation either has a key that does not
   mean the same on both sides (or joined a table that does not matter: the warning says both).

Needs at least ``first_layer.MIN_ROWS`` matched rows; read on tables (``filled_rows``' reading: at
most ``filled_rows.ROWS`` rows of a 2-D input), before any loss is computed.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from trainwell.babysit import first_layer, filled_rows
from trainwell.babysit.findings import Finding, make

MAJORITY = 0.5            # the block fills at least half the rows: the join missed more rows than it matched
FOLDS = 3                 # the matched rows are scored out of fold, each once (first_layer.HELD_OUT's 1/3 per fold)
GAIN_ALPHA = 0.05         # the columns tell the matched rows something when a probe gains from them at this level
                          # (split over the probes): the conventional level for a relation seen at all, so the
                          # warning needs a relation too weak to show at it


def block_gain(x: torch.Tensor, t: torch.Tensor, block: dict, *, class_ids: bool, seed: int = 0) -> list[dict] | None:
    """Each probe's score on the matched rows (those ``block`` did not fill), predicted out of fold
    (``FOLDS``: every matched row is scored once, by probes fitted on the other folds), with the block's
    columns as they are and set to their fill values: ``[{"probe", "with", "without", "p"}]`` (accuracy
    for class ids, mean squared error otherwise; ``p``: one-sided, that the probe does worse without
    them); None when fewer than ``first_layer.MIN_ROWS`` rows matched."""
    matched = ~block["rows"]
    if int(matched.sum()) < first_layer.MIN_ROWS:
        return None
    gen = torch.Generator().manual_seed(seed)
    order = matched.nonzero().flatten()
    order = order[torch.randperm(order.numel(), generator=gen)][:first_layer.ROWS]
    x, t = x[order], t[order]
    n = x.shape[0]
    filled = x.clone()
    filled[:, block["columns"]] = torch.tensor(block["values"], dtype=x.dtype)
    target = t.reshape(-1).long().numpy() if class_ids else t.double().reshape(n, -1).numpy()
    if not class_ids and target.shape[1] == 1:
        target = target[:, 0]
    kind = "classes" if class_ids else "values"
    folds = torch.arange(n) % FOLDS
    out = []
    for probe in ("linear", "neighbours"):
        guess = {}
        for side, F in (("with", x), ("without", filled)):
            pred = np.empty(target.shape, dtype=target.dtype)
            for k in range(FOLDS):
                rows = torch.cat([(folds != k).nonzero().flatten(), (folds == k).nonzero().flatten()])
                fit = int((folds != k).sum())
                features = first_layer.probe_features(F[rows], fit, gen)
                pred[rows[fit:].numpy()] = first_layer.fit_predict(kind, probe, features, target[rows.numpy()], fit)
            guess[side] = pred
        scores = first_layer.paired_scores(kind, target, guess["with"], guess["without"])
        out.append({"probe": probe, "with": scores["raw"], "without": scores["layers"], "p": scores["p"]})
    return out


def check_unmatched_join(X, y, *, class_ids: bool, seed: int = 0) -> list[Finding]:
    """``uninformative_inputs`` (a warning) for a block of columns filled on at least ``MAJORITY`` of the
    rows that no probe predicts the rows it did not fill better from, at ``GAIN_ALPHA`` (see the module docstring)."""
    read = (filled_rows.read_block(X, y, class_ids=class_ids)
            if torch.is_tensor(y) and y.shape[0] == getattr(X, "shape", [0])[0] else None)
    if read is None or read[3]["share"] < MAJORITY:
        return []
    x, t, class_ids, block = read
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = block_gain(x, t, block, class_ids=class_ids, seed=seed)
    if results is None or any(r["p"] < GAIN_ALPHA / len(results) for r in results):
        return []
    columns = block["columns"]
    shown = ", ".join(f"{c} = {v:.4g}" for c, v in list(zip(columns, block["values"]))[:filled_rows.LISTED])
    measure = "accuracy" if class_ids else "squared error"
    scores = "; ".join(f"{r['probe']} {r['with']:.3g} with them, {r['without']:.3g} without" for r in results)
    listed = columns[:filled_rows.LISTED]
    return [make(
        "uninformative_inputs",
        f"{block['share']:.0%} of the training rows have columns {listed}{' ...' if len(columns) > len(listed) else ''} "
        f"filled in together with one value each ({shown}), and on the other rows those columns tell the probes "
        f"nothing ({measure}: {scores}): a join or lookup that matched fewer rows than it missed and told the "
        f"rows it matched nothing about their targets, as a key read another way does (dates parsed month first "
        f"where the text is day first, codes of another system matching the wrong rows), or a table that does "
        f"not matter",
        evidence={"columns": columns, "fill_values": block["values"], "filled_share": block["share"],
                  "matched_rows": int((~block["rows"]).sum()), "probes": results, "rows": int(x.shape[0]),
                  "unmatched_join": True},
        where=f"input columns {listed}", severity="warning",
        fix="check the join or lookup that made these columns: parse its keys in the same format on both sides "
            "(pd.to_datetime(..., format=...) or dayfirst=True for dd/mm dates, one type and padding for codes), "
            "count the rows it leaves unmatched before filling, and check a few matched rows by hand")]
