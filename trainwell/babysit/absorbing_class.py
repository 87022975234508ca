"""A class that holds rows of every other class: rows without a label given one class's id.

An export with one one-hot column per class where nobody annotated some rows (all zeros), read by
``onehot.argmax(1)``; a label column's missing values filled with 0 (``fillna(0)``); a lookup whose
misses default to the first class: each turns the rows without a label into rows of one class, and
those rows come from every class. That class's rows are then a mixture: its own rows and a share of
every other class's rows, which no model can tell from the rows they copy. The loss keeps the
entropy of that share in every other class's region and the model learns to call part of each
class the default one.

The measure (``absorbing_classes``): the probes of class_pairs.py (logistic regression and
nearest neighbours, out of fold on a table's labelled rows) give each row log-probabilities. For a
class c and another class k, the rows of k are ranked by the log-odds log p_k - log p_c and the
``CORE`` share of them most like k against c marks k's core; ``inside`` is the share of c's rows
whose log-odds reach that core and no other class's core against c (a row in the cores of two
classes lies where they overlap: a copy of neither for certain), ``mirror`` the share of k's rows
that reach c's core (the same cut with the classes swapped). Two real classes that overlap put as
many rows into each other's core as the overlap makes (``inside`` ~ ``mirror`` when their spreads
are alike); rows of k copied into c
land in k's core at the rate ``CORE`` whatever the overlap, so ``inside`` exceeds ``mirror`` by
``CORE`` times the share of c's rows that are copies of k. The copied share (inside - mirror) /
``CORE`` is the mixture proportion read at the most k-like rows (Blanchard, Lee & Scott 2010;
Scott 2015, "A rate of convergence for mixture proportion estimation").

A class c is reported when, for every other class k, ``inside`` exceeds ``mirror`` in a
one-sided two-proportion z-test at ``first_layer.ALPHA`` split over the ordered pairs (a class
that holds the rows of only some classes is overlap or a merged pair, not a default id), and the
copied shares summed over the other classes reach ``MIN_SHARE`` of its rows.

Classes cut from a noisy output that the inputs leave at noise over part of their range (a turbine
off the wind makes no power: there the noise alone picks low, medium or high) give the top class
rows like those of each lower class; they are rows of the region the lower classes share, in the
cores of both, which the exclusive count leaves out.

Quiet: fewer than three classes, or a class with fewer than ``class_pairs.MIN_CLASS_ROWS`` rows (with
two classes "every other class" is one, and a default id cannot be told from a broad class or from
positive-unlabelled data), inputs that are not a table of numbers (the probes read raw columns, see
class_pairs.py). Not told apart, from the rows and labels alone: a real catch-all class ("other",
"background") whose rows are spread over every other class's region, and part of one class's inputs
mangled into the other classes' range (a duration's whole days dropped: long stays read as short);
the message names all three. Missed: rows without a
label whose classes overlap each other (their copies fall in several cores) or that come from only
some classes.
"""
from __future__ import annotations

import math

import torch

from trainwell.babysit.class_pairs import MIN_CLASS_ROWS, features, normal_quantile, out_of_fold_log_probs, probe_rows
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.first_layer import ALPHA

CORE = 0.25         # the share of a class's rows, most like it against another class, that marks its core
                    # (a copied row lands there at this rate; real overlap thins faster toward the core)
MIN_SHARE = 0.05    # the copied shares summed over the other classes: at least 5% of the class's rows
                    # (fewer is within the label noise a hand-labelled set carries; Northcutt et al. 2021
                    # measured 3.3% on average over ten test sets)


def absorbing_classes(X, y, *, seed: int = 0) -> list[dict]:
    """The classes of the table ``X`` / class ids ``y`` that hold rows of every other class (the
    module docstring's test), each ``{"class", "rows", "share", "pairs"}`` where ``pairs`` lists per
    other class ``{"other", "inside", "mirror", "z"}`` and ``share`` the summed copied share."""
    rows = probe_rows(X, y, seed=seed)
    if rows is None:
        return []
    X, y, gen = rows
    ids, counts = torch.unique(y, return_counts=True)
    judged = [int(c) for c, n in zip(ids, counts) if n >= MIN_CLASS_ROWS]
    if len(judged) < 3 or len(judged) != len(ids):
        return []
    logps = out_of_fold_log_probs(features(X, gen), y, int(y.max()) + 1, seed=seed)
    logp = sum(logps.values()) / len(logps)
    z_cut = normal_quantile(1 - ALPHA / (len(judged) * (len(judged) - 1)))
    found = []
    for c in judged:
        of_c = y == c
        others = [k for k in judged if k != c]
        # per other class k, which of c's rows lie in k's core against c (the CORE share of k's rows
        # most like k against c): a row in two classes' cores is a copy of neither for certain
        odds = {k: logp[:, k] - logp[:, c] for k in others}
        in_core = {k: odds[k][of_c] >= torch.quantile(odds[k][y == k], 1 - CORE) for k in others}
        cores_held = torch.stack(list(in_core.values())).sum(0)
        pairs = []
        for k in others:
            of_k = odds[k][y == k]
            inside = float((in_core[k] & (cores_held == 1)).double().mean())
            mirror = float((of_k <= torch.quantile(odds[k][of_c], CORE)).double().mean())
            pooled = (inside * int(of_c.sum()) + mirror * len(of_k)) / (int(of_c.sum()) + len(of_k))
            sd = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / int(of_c.sum()) + 1 / len(of_k)))
            pairs.append({"other": k, "inside": inside, "mirror": mirror, "z": (inside - mirror) / sd})
        share = sum(max(p["inside"] - p["mirror"], 0.0) for p in pairs) / CORE
        if all(p["z"] > z_cut for p in pairs) and share >= MIN_SHARE:
            found.append({"class": c, "rows": int((y == c).sum()), "share": share, "pairs": pairs})
    return found


def check_absorbing_classes(X, y, *, seed: int = 0) -> list[Finding]:
    """``label_problem`` (a warning) naming the classes that hold rows of every other class."""
    found = absorbing_classes(X, y, seed=seed)
    if not found:
        return []
    named = "; ".join(
        f"class {f['class']} ({f['rows']} rows, about {100 * min(f['share'], 1.0):.0f}% of them like other classes' "
        f"rows: " + ", ".join(f"{100 * p['inside']:.1f}% in class {p['other']}'s core against "
                              f"{100 * p['mirror']:.1f}% the other way" for p in f["pairs"]) + ")"
        for f in found)
    return [make("label_problem",
                 f"{named}: its rows include rows like those of every other class, as when rows without a label "
                 f"get one class's id (argmax of an all-zero one-hot row, a missing label filled with 0, a lookup's "
                 f"default) or when part of this class's inputs lost what sets them apart (a value wrapped or cut "
                 f"into the other classes' range); a real catch-all class looks the same. A model cannot tell those "
                 f"rows from the classes they look like",
                 evidence={"classes": found, "core": CORE, "min_share": MIN_SHARE, "alpha": ALPHA},
                 severity="warning", where=f"class {found[0]['class']}",
                 fix="drop the rows that carry no label (e.g. keep onehot.sum(1) == 1 before argmax, drop missing "
                     "labels instead of filling them) or give them an id of their own; if every row has its label, "
                     "check how this class's inputs were computed (a duration's days dropped, a value wrapped)")]
