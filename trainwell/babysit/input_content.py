"""Inputs that carry (almost) nothing about the targets: ``uninformative_inputs``.

The fault: features that take one value in nearly every row, so that most rows look alike. The
common way to make it is a cast after scaling (``((x - min) / (max - min)).long()``: every feature
is 0 except in its maximum row), a wrong column, a broken join, an image read as all-black. The
symptom alone proves nothing: a bag of words, one-hot categories and the border pixels of MNIST
are zero in nearly every row too, and train well. What tells them apart is what the identical rows
cost. A model gives identical inputs identical outputs, so grouping the training rows by their
input vector bounds any model's training fit (no experiment needed; ``fit_ceiling``):

* class ids: the best training accuracy is the share of rows that carry their group's majority
  label; it is set against always guessing the commonest class (``informative`` = the share of the
  gap from that guess to 100 % the inputs can close);
* a regression: the best training R^2 is the share of the targets' variance between the groups.

The finding needs both: most features constant in ``CONSTANT_ROWS`` of the rows, and inputs that
can close less than ``INFORMATIVE_SHARE`` of the gap. Bags of words and images have distinct rows
(each document, each digit differs somewhere), so their ceiling is 100 % and they stay quiet.
Read on at most ``ROWS`` training rows on the host, before any loss is computed.
"""
from __future__ import annotations

import torch

from trainwell.babysit.findings import Finding, make

ROWS = 2000               # the training rows read (preflight.STATS_ROWS: the input statistics' sample)
CONSTANT_ROWS = 0.99      # a feature is near-constant when one value fills >= 99% of the rows
CONSTANT_FEATURES = 0.5   # ... and the symptom is present when at least half the (non-constant-by-design)
                          # features are near-constant
INFORMATIVE_SHARE = 0.5   # the inputs can close less than half of the gap from the trivial guess to a
                          # perfect training fit: a model on them cannot do better than that, whatever
                          # it is (issue 11: inputs cast to integers cost 92 -> 50 %)
LISTED = 10               # the near-constant columns named in the evidence


def near_constant(x: torch.Tensor) -> torch.Tensor:
    """A bool per column of the 2-D ``x``: one value fills at least ``CONSTANT_ROWS`` of the rows."""
    s, _ = torch.sort(x, dim=0)
    n = x.shape[0]
    k = max(int(CONSTANT_ROWS * n + 0.5), 1)
    # a value filling k of n sorted rows fills some window s[i] .. s[i + k - 1]
    same = (s[k - 1:] == s[:n - k + 1])
    return same.any(dim=0)


def fit_ceiling(x: torch.Tensor, y: torch.Tensor, *, class_ids: bool) -> dict:
    """The best training fit any model can reach when identical input rows get identical outputs:
    ``{"groups", "ceiling", "trivial", "informative"}`` (accuracies for class ids, R^2 otherwise:
    ``trivial`` 0)."""
    _, group = torch.unique(x, dim=0, return_inverse=True)
    groups = int(group.max()) + 1
    n = x.shape[0]
    if class_ids:
        labels = y.reshape(-1).long()
        labels = labels - labels.min()
        classes = int(labels.max()) + 1
        counts = torch.zeros(groups, classes, dtype=torch.float64)
        counts.index_put_((group, labels), torch.ones(n, dtype=torch.float64), accumulate=True)
        ceiling = float(counts.max(dim=1).values.sum()) / n
        trivial = float(counts.sum(dim=0).max()) / n
    else:
        t = y.reshape(n, -1).double()
        sums = torch.zeros(groups, t.shape[1], dtype=torch.float64).index_add_(0, group, t)
        sizes = torch.bincount(group, minlength=groups).double()[:, None]
        within = float(((t - (sums / sizes)[group]) ** 2).sum())
        total = float(((t - t.mean(dim=0)) ** 2).sum())
        ceiling = 1.0 - within / total if total > 0 else 1.0
        trivial = 0.0
    informative = (ceiling - trivial) / (1.0 - trivial) if trivial < 1.0 else 1.0
    return {"groups": groups, "ceiling": ceiling, "trivial": trivial, "informative": informative}


def check_inputs_informative(X, y, *, class_ids: bool) -> list[Finding]:
    """``uninformative_inputs``: most features near-constant and identical input rows that cap any
    model's training fit below ``INFORMATIVE_SHARE`` of the way from the trivial guess (see the
    module docstring). ``class_ids``: the targets are class ids (else a regression's values)."""
    if X.shape[0] < 10 or not torch.is_tensor(y) or y.shape[0] != X.shape[0]:
        return []
    n = min(X.shape[0], ROWS)
    x = X[:n].reshape(n, -1).detach().cpu()
    t = y[:n].detach().cpu()
    if not torch.is_floating_point(x):
        x = x.double()
    rows = torch.isfinite(x).all(dim=1) & (torch.isfinite(t.reshape(n, -1)).all(dim=1) if torch.is_floating_point(t)
                                           else torch.ones(n, dtype=torch.bool))
    x, t = x[rows], t[rows]
    class_ids = class_ids and t.reshape(t.shape[0], -1).shape[1] == 1    # one label per row (else: columns' R^2)
    if x.shape[0] < 10 or (class_ids and torch.is_floating_point(t) and not bool((t == t.round()).all())):
        return []
    constant = near_constant(x)
    share = float(constant.double().mean())
    if share < CONSTANT_FEATURES:
        return []
    bound = fit_ceiling(x, t, class_ids=class_ids)
    if bound["informative"] >= INFORMATIVE_SHARE:
        return []
    columns = constant.nonzero().flatten()
    measure = "accuracy" if class_ids else "R^2"
    trivial = (f", always guessing the commonest class scores {100 * bound['trivial']:.1f}%" if class_ids else "")
    return [make("uninformative_inputs",
                 f"the inputs carry almost nothing: {int(constant.sum())} of {x.shape[1]} features take one value in "
                 f">= {100 * CONSTANT_ROWS:.0f}% of the rows (columns {columns[:LISTED].tolist()}"
                 f"{' ...' if columns.numel() > LISTED else ''}), so the {x.shape[0]} training rows read show only "
                 f"{bound['groups']} distinct inputs; identical inputs get identical outputs, so no model can fit "
                 f"the training rows better than {measure} {bound['ceiling']:.3f}{trivial}",
                 evidence={"near_constant_features": int(constant.sum()), "features": int(x.shape[1]),
                           "near_constant_share": share, "columns": columns[:LISTED].tolist(),
                           "distinct_rows": bound["groups"], "rows": int(x.shape[0]), "fit_ceiling": bound["ceiling"],
                           "trivial_fit": bound["trivial"], "informative_share": bound["informative"],
                           "measure": measure},
                 fix="check the input pipeline: scale to floats without casting to integers (x = (x - min) / "
                     "(max - min) stays float), read the right columns, and keep the features' variation")]
