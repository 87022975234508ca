"""Labels that don't belong to their rows, or inputs that lost what the labels need: which one the data says.

``learnable.check_labels_learnable`` memorizes a few training rows and scores rows it never saw; at
chance, it reports ``label_problem`` ("the labels do not belong to their rows"). Two faults end
there. Labels shuffled apart from their rows are independent of every input column. Inputs that
lost their information (an angle in degrees through ``np.sin``, a wrong column, a mangled
transform) leave the labels related to the columns that survived, but too weakly, or through too
few of them, for a model to carry what it memorized over to new rows.

The test that tells them apart (``column_relations``) asks each input column alone: a chi-square
test of independence between the column, cut into ``BINS`` equal-count bins (its own values when it
has fewer), and the class ids, on up to ``ROWS`` training rows. Labels independent of the rows
make every column's p-value uniform, so with a Bonferroni bound over the columns read (``ALPHA``
over their count) no column passes, but once in 1 / ``ALPHA`` setups. When some column does pass,
the labels depend on the inputs and the finding is reread (``reread``): ``label_problem`` becomes
``uninformative_inputs`` (a warning) naming the columns that relate and those that do not, and
saying what the data cannot tell: part of the labels may still be noise (labels that partly belong
relate to the columns too). Columns are read one at a time: a relation only through several columns
together (an XOR of two) shows in none of them, and the finding stays ``label_problem``.

Inputs of whole numbers read as tokens (ids at positions: a review's words, a basket's items) can
relate to the labels only jointly: which ids a row holds matters, not which id sits at position 3, so
no column alone relates by construction. Their reading (``bag_probe``) counts each value per row (a
bag of the values, at most ``MAX_COLUMNS`` of them) and asks a naive Bayes fitted on half the rows to
tell the class ids of the other half: labels independent of the rows let it beat the commonest
class's share beyond a binomial tail of ``ALPHA`` once in 1 / ``ALPHA`` setups. When it does, the
labels belong to their rows through what the rows hold together, and the memorized rows failing on
unseen ones says only that this model does not carry that few memorized rows over to new ones (an
attention or embedding model needs more rows to learn what a token means): the ``label_problem``
stays, at ``info``, with that said (``_joint``). Where neither reading relates, independent labels
and inputs that lost everything look alike.

When no column relates, the finding stays ``label_problem`` and says what the data shows: the labels
are unrelated to every input column as the model receives them. Labels moved apart from their rows
and inputs that no longer hold what the labels are about (the wrong columns, a sequence cut at the
wrong end) look the same from the rows and labels alone, so the message names both and the fix
checks both.
"""
from __future__ import annotations


import torch

from trainwell.babysit.findings import Finding, make

ROWS = 2000               # the training rows read (data_checks.STATS_ROWS)
BINS = 10                 # equal-count bins per column (deciles)
MIN_EXPECTED = 5.0        # ... fewer bins when a bin x class cell would expect < 5 rows (Cochran's rule)
ALPHA = 1e-3              # the chance that independent labels show a related column in a setup (Bonferroni)
MAX_COLUMNS = 4096        # columns tested (a sample of them beyond this)
LISTED = 10               # columns named in the message
CODE_VALUES = 64          # merged_codes: a related column of whole numbers with at most 64 distinct values (ids,
                          # codes) has each value put into the same rows ...
PROBE_ROWS = 16           # ... these many, and values whose outputs are bit-identical there the model cannot tell apart


def _bins(column: torch.Tensor, bins: int) -> torch.Tensor:
    """The bin index of each row: the column's own distinct values when it has at most ``bins``,
    else equal-count bins by rank (ties split by row order, which labels independent of the rows
    cannot follow)."""
    values, inverse = torch.unique(column, return_inverse=True)
    if values.numel() <= bins:
        return inverse
    rank = torch.empty_like(inverse)
    rank[torch.argsort(column, stable=True)] = torch.arange(column.numel())
    return rank * bins // column.numel()


def column_relations(X, y) -> dict | None:
    """Per input column, the chi-square test of independence from the class ids ``y``:
    ``{"p": p-values, "columns": their column indices, "related": the indices with p < ALPHA / count,
    "threshold"}``; None when there are too few rows or classes to test."""
    from scipy.stats import chi2

    n = min(X.shape[0], ROWS)
    x = X[:n].reshape(n, -1).detach().cpu().double()
    labels = y[:n].detach().cpu().reshape(-1).long()
    keep = torch.isfinite(x).all(dim=1)
    x, labels = x[keep], labels[keep]
    labels = torch.unique(labels, return_inverse=True)[1]
    classes, n = int(labels.max()) + 1 if labels.numel() else 0, x.shape[0]
    bins = min(BINS, int(n / (MIN_EXPECTED * max(classes, 1))))
    if classes < 2 or bins < 2:
        return None
    columns = torch.arange(x.shape[1])
    if columns.numel() > MAX_COLUMNS:
        columns = torch.randperm(x.shape[1], generator=torch.Generator().manual_seed(0))[:MAX_COLUMNS].sort().values
    class_share = torch.bincount(labels, minlength=classes).double() / n
    p = torch.ones(columns.numel(), dtype=torch.float64)
    for i, j in enumerate(columns.tolist()):
        b = _bins(x[:, j], bins)
        k = int(b.max()) + 1
        if k < 2:
            continue
        table = torch.zeros(k, classes, dtype=torch.float64)
        table.index_put_((b, labels), torch.ones(n, dtype=torch.float64), accumulate=True)
        expected = table.sum(dim=1, keepdim=True) * class_share
        stat = float(((table - expected) ** 2 / expected.clamp_min(1e-12)).sum())
        p[i] = float(chi2.sf(stat, (k - 1) * (classes - 1)))
    threshold = ALPHA / columns.numel()
    return {"p": p, "columns": columns, "related": columns[p < threshold], "threshold": threshold}


def value_counts(X) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(counts, values)``: per row of ``X`` (at most ``ROWS``), how often each of its distinct values
    occurs (an (n, V) matrix, V at most ``MAX_COLUMNS``, the commonest values when there are more); None
    unless every finite value is a whole number and there are at least two columns and two values
    (the bag of a row's tokens or ids)."""
    n = min(X.shape[0], ROWS)
    x = X[:n].reshape(n, -1).detach().cpu().double()
    if x.shape[1] < 2:
        return None
    finite = x[torch.isfinite(x)]
    if finite.numel() == 0 or not bool((finite == finite.round()).all()):
        return None
    values, counts = torch.unique(finite, return_counts=True)
    if values.numel() < 2:
        return None
    if values.numel() > MAX_COLUMNS:
        values = values[counts.argsort(descending=True, stable=True)[:MAX_COLUMNS]].sort().values
    present = torch.isfinite(x)
    index = torch.searchsorted(values, torch.where(present, x, values[0]).contiguous())
    kept = present & (index < values.numel()) & (values[index.clamp_max(values.numel() - 1)] == x)
    bag = torch.zeros(n, values.numel(), dtype=torch.float64)
    bag.scatter_add_(1, index.clamp_max(values.numel() - 1), kept.double())
    return bag, values


def bag_probe(X, y) -> dict | None:
    """How well the bag of each row's values (``value_counts``) tells the class ids on rows it was not
    fitted on: a multinomial naive Bayes (Laplace-smoothed value frequencies per class, the standard
    model of a bag of words: McCallum & Nigam 1998) fitted on each half of the rows and scored on the
    other. Under labels independent of the rows, each held-out row is right with probability at most
    the commonest class's share, so the count right is at most Binomial(rows, that share): ``p`` is
    that tail at the count. ``{"acc", "majority", "p", "rows", "values"}``; None where the inputs are
    not whole numbers or there are fewer than two classes."""
    from scipy.stats import binom

    bag = value_counts(X)
    if bag is None:
        return None
    counts, values = bag
    labels = torch.unique(y[:counts.shape[0]].detach().cpu().reshape(-1).long(), return_inverse=True)[1]
    classes, n = int(labels.max()) + 1 if labels.numel() else 0, counts.shape[0]
    if classes < 2 or n < 2 * classes:
        return None
    half = torch.arange(n) % 2 == 0
    right = 0
    for fit in (half, ~half):
        onehot = torch.nn.functional.one_hot(labels[fit], classes).double()
        per_class = onehot.T @ counts[fit] + 1.0                       # Laplace smoothing
        log_theta = per_class.log() - per_class.sum(dim=1, keepdim=True).log()
        log_prior = (onehot.sum(dim=0) + 1.0).log()
        scores = counts[~fit] @ log_theta.T + log_prior
        right += int((scores.argmax(dim=1) == labels[~fit]).sum())
    majority = float(torch.bincount(labels, minlength=classes).max()) / n
    return {"acc": right / n, "majority": majority, "p": float(binom.sf(right - 1, n, majority)), "rows": n,
            "values": int(values.numel())}


def merged_codes(model, X, column: int) -> list[list[float]] | None:
    """The values of an id or code ``column`` (whole numbers, at most ``CODE_VALUES`` of them) that
    ``model`` cannot tell apart: each value is put into the same ``PROBE_ROWS`` rows (the rest of each
    row as it is) and values whose outputs are bit-identical on every row form a group (an id taken
    modulo the buckets, a clamp or a cast before the first weights; or large codes fed unscaled into
    units that saturate to their limit in float32). An exact tie of two different inputs through
    weights at random values is rarely chance. Groups of two values or more, largest first; None when
    the column is no code or the model does not run on the rows (eval mode, no gradients)."""
    rows = X[:PROBE_ROWS].reshape(min(PROBE_ROWS, X.shape[0]), -1)
    values = torch.unique(X.reshape(X.shape[0], -1)[:, column])
    whole = values.double() == values.double().round()
    if values.numel() < 2 or values.numel() > CODE_VALUES or not bool(whole.all()):
        return None
    device = next((q.device for q in model.parameters()), X.device)
    batch = rows.repeat(values.numel(), 1)
    batch[:, column] = values.repeat_interleave(rows.shape[0]).to(batch.dtype)
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            out = model(batch.reshape(-1, *X.shape[1:]).to(device))
    except Exception:
        return None
    finally:
        model.train(was_training)
    if not isinstance(out, torch.Tensor) or out.shape[0] != batch.shape[0]:
        return None
    per_value = out.reshape(values.numel(), -1).cpu()
    groups: dict[bytes, list[float]] = {}
    for value, outputs in zip(values.tolist(), per_value):
        groups.setdefault(outputs.double().numpy().tobytes(), []).append(value)
    return sorted((g for g in groups.values() if len(g) > 1), key=len, reverse=True)


def _merged_message(model, X, related: list) -> tuple[str, dict]:
    """The sentence (and evidence) naming the related code columns whose values the model merges."""
    if model is None:
        return "", {}
    merged = {}
    for column in related[:LISTED]:
        groups = merged_codes(model, X, column)
        if groups:
            merged[column] = groups
    if not merged:
        return "", {}
    column, groups = next(iter(merged.items()))
    shown = "; ".join(f"{{{', '.join(f'{v:g}' for v in g[:6])}{', ...' if len(g) > 6 else ''}}}" for g in groups[:3])
    return (f"; the model itself cannot tell some of column {column}'s values apart: put into the same "
            f"{PROBE_ROWS} rows, {sum(len(g) for g in groups)} of its values give bit-identical outputs in "
            f"{len(groups)} group(s) ({shown}{' ...' if len(groups) > 3 else ''}): its forward merges them (an id "
            "taken modulo too few buckets, a clamp or a cast; or, for large codes fed unscaled, units saturated at "
            "their limit)", {"merged_values": {int(c): [g[:LISTED] for g in gs[:LISTED]] for c, gs in merged.items()}})


def reread(findings: list[Finding], X, y, model=None) -> list[Finding]:
    """``findings`` with a ``label_problem`` of the unseen-rows check (evidence ``unseen_acc``)
    reread as ``uninformative_inputs`` when some input column relates to the labels (see the
    module docstring); other findings unchanged. With ``model``, a related column of ids or codes
    whose values the model maps to identical outputs (``merged_codes``) is named as where the
    information is lost."""
    out = []
    for f in findings:
        if f.code != "label_problem" or "unseen_acc" not in f.evidence:
            out.append(f)
            continue
        rel = column_relations(X, y)
        if rel is None:
            out.append(f)
            continue
        if rel["related"].numel() == 0:
            joint = bag_probe(X, y)
            out.append(_joint(f, rel, joint) if joint is not None and joint["p"] < ALPHA else _unrelated(f, rel))
            continue
        related = rel["related"].tolist()
        unrelated = rel["columns"][rel["p"] >= rel["threshold"]].tolist()
        strongest = int(rel["columns"][rel["p"].argmin()])
        p_min = float(rel["p"].min())
        e = f.evidence
        merged, merged_evidence = _merged_message(model, X, related)
        out.append(make(
            "uninformative_inputs",
            f"a model that memorizes {e['rows']} training rows (accuracy {e['memorized_acc']:.2f}) scores "
            f"{e['unseen_acc']:.2f} on {e['unseen_rows']} rows it did not see, no better than chance "
            f"({e['chance']:.2f}), yet the labels do depend on the inputs: {len(related)} of "
            f"{rel['columns'].numel()} columns relate to them beyond chance (column {strongest}: chi-square "
            f"p = {p_min:.2g}; columns {related[:LISTED]}{' ...' if len(related) > LISTED else ''}), "
            f"{len(unrelated)} show no relation"
            + (f" (columns {unrelated[:LISTED]}{' ...' if len(unrelated) > LISTED else ''})" if unrelated else "")
            + ": the labels belong to their rows at least in part, and what the model memorized does not carry "
              "over; the inputs may have lost what the labels need (a feature mangled on its way: wrong units "
              "into sin / cos, a broken join or cast), or part of the labels may be noise: the data cannot "
              "tell which" + merged,
            evidence={**e, "related_columns": related[:LISTED], "related": len(related),
                      "unrelated_columns": unrelated[:LISTED], "unrelated": len(unrelated),
                      "columns_tested": int(rel["columns"].numel()), "min_p": p_min,
                      "p_threshold": rel["threshold"], "reread_from": "label_problem", **merged_evidence},
            severity="warning",
            fix="check the pipeline of the columns that relate to nothing (units, transforms, joins) against "
                "the raw data; if the inputs are right, check the labels' noise (a few relabelled by hand)"))
    return out


def _unrelated(f: Finding, rel: dict) -> Finding:
    """``f`` (a ``label_problem`` at chance on unseen rows) restated where no input column relates to
    the labels: which side lost the relation, the labels or the inputs, the data cannot tell."""
    e = f.evidence
    return make(
        "label_problem",
        f"a model that memorizes {e['rows']} training rows (accuracy {e['memorized_acc']:.2f}) scores "
        f"{e['unseen_acc']:.2f} on {e['unseen_rows']} rows it did not see, no better than chance "
        f"({e['chance']:.2f}), and no input column alone relates to the labels (none of {rel['columns'].numel()} "
        f"passes a chi-square test of independence at p < {rel['threshold']:.2g}; the smallest p is "
        f"{float(rel['p'].min()):.2g}): the labels are unrelated to the inputs as the model receives them. "
        "Either the labels do not belong to their rows (shuffled, sorted or joined apart from them) or the "
        "inputs do not hold what the labels are about (the wrong columns, a sequence cut at the wrong end, a "
        "transform that erased it): the rows and labels alone cannot tell which",
        evidence={**e, "related": 0, "columns_tested": int(rel["columns"].numel()), "min_p": float(rel["p"].min()),
                  "p_threshold": rel["threshold"]},
        severity=f.severity,
        fix="check that inputs and labels are aligned (the same row order after any shuffle, sort, join or split) "
            "and that the label column is the right one; then that the inputs hold the part of the raw data the "
            "labels are about (the right columns; of a sequence cut to a length, the end that carries the outcome)")


def _joint(f: Finding, rel: dict, joint: dict) -> Finding:
    """``f`` (a ``label_problem`` at chance on unseen rows, no column alone related) at ``info`` where the
    bag of each row's values tells the labels on held-out rows (``bag_probe``): the labels belong to
    their rows through the values the rows hold together; what failed is this model on the memorized rows."""
    e = f.evidence
    return make(
        "label_problem",
        f"a model that memorizes {e['rows']} training rows (accuracy {e['memorized_acc']:.2f}) scores "
        f"{e['unseen_acc']:.2f} on {e['unseen_rows']} rows it did not see, no better than chance "
        f"({e['chance']:.2f}); no input column alone relates to the labels (the smallest p of "
        f"{rel['columns'].numel()} is {float(rel['p'].min()):.2g}), but which values a row holds does: a naive "
        f"Bayes on each row's counts of its {joint['values']} values scores {joint['acc']:.2f} on {joint['rows']} "
        f"held-out rows against the commonest class's {joint['majority']:.2f} (binomial p = {joint['p']:.2g}). "
        f"The labels belong to their rows through what the rows hold together (tokens, ids), and "
        f"{e['rows']} memorized rows are too few for this model to carry over to new ones: no evidence of a "
        "label problem",
        evidence={**e, "related": 0, "columns_tested": int(rel["columns"].numel()), "min_p": float(rel["p"].min()),
                  "p_threshold": rel["threshold"], "bag": joint},
        severity="info",
        fix="nothing to fix in the labels; if the model learns poorly, check how it reads the tokens (its "
            "attention, pooling and embeddings) and train it on more rows")
