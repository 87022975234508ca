"""split_mismatch: a column that holds the training rows' own labels (label_leak.py)."""
from types import SimpleNamespace

import torch

from trainwell.babysit import label_leak as ll
from trainwell.babysit.split_checks import check_splits


def stores(n, *, seed, stores=600, classes=3):
    """Sales rows: 3 numeric columns and a store id with its own effect; the class is the bucket of
    a noisy score (the store's effect in it)."""
    g = torch.Generator().manual_seed(seed)
    store = torch.randint(0, stores, (n,), generator=g)
    effect = torch.randn(stores, generator=g)[store]
    X = torch.randn(n, 3, generator=g)
    score = effect + 0.8 * X[:, 0] - 0.5 * X[:, 1] + 0.6 * torch.randn(n, generator=g)
    cuts = torch.quantile(score, torch.linspace(0, 1, classes + 1)[1:-1])
    return X, store, torch.bucketize(score, cuts)


def encode(store, y, fit_rows, rows, stores=600):
    """Each store's mean class over ``fit_rows``, read at ``rows`` (the overall mean for a store no
    fitted row has)."""
    sums = torch.zeros(stores).index_add_(0, store[fit_rows], y[fit_rows].float())
    counts = torch.zeros(stores).index_add_(0, store[fit_rows], torch.ones(len(fit_rows)))
    table = torch.where(counts > 0, sums / counts.clamp_min(1), y[fit_rows].float().mean())
    return table[store[rows]]


def encoded_splits(leak: bool, *, seed=0, n=3000):
    X, store, y = stores(n, seed=seed)
    train, val = torch.arange(0, 2 * n // 3), torch.arange(2 * n // 3, n)
    if leak:                       # the training rows encoded with their own labels in the means
        enc = encode(store, y, train, train)
    else:                          # out of fold: each fifth of the training rows from the other four
        enc = torch.empty(len(train))
        fold = train % 5
        for f in range(5):
            enc[fold == f] = encode(store, y, train[fold != f], train[fold == f])
    column = torch.cat([enc, encode(store, y, train, val)])
    Xe = torch.cat([X, column[:, None]], 1)
    return SimpleNamespace(train=(Xe[train], y[train]), val=(Xe[val], y[val]), test=None)


def test_a_target_encoding_with_the_rows_own_labels_is_named():
    """Named, then graded by what it costs (mismatch_cost.py): the validation rows score 1.6 points worse than
    a probe fitted on as many of their own rows teaches (the healthy twin, encoded out of fold, 2.2 points
    better than the leak), less than the kill rule's 3, so the finding is info here."""
    found = [f for f in check_splits(encoded_splits(True)) if f.code == "split_mismatch"]
    assert [f.where for f in found] == ["column 3"]
    leak = found[0].evidence["columns"][0]
    assert leak["column"] == 3 and leak["gap"] >= ll.MIN_GAP and leak["train"] > leak["split_score"]
    cost = found[0].evidence["cost"]["validation"]
    assert cost["split"] > cost["own"] and not cost["own_costs"] and found[0].severity == "info"


def test_the_same_encoding_out_of_fold_is_quiet():
    for seed in range(3):
        assert [f for f in check_splits(encoded_splits(False, seed=seed)) if f.severity != "info"] == []


def test_a_regression_column_filled_from_the_training_targets_is_named():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(1500, 4, generator=g)
    y = X[:, 0] - 0.5 * X[:, 1] + 0.5 * torch.randn(1500, generator=g)
    X[:1000, 3] = y[:1000] + 0.3 * torch.randn(1000, generator=g)      # training rows: the target itself
    found = ll.leaking_columns((X[:1000], y[:1000]), {"validation": (X[1000:], y[1000:])})
    assert [f["column"] for f in found] == [3]
    clean = X.clone()
    clean[:, 3] = torch.randn(1500, generator=g)
    assert ll.leaking_columns((clean[:1000], y[:1000]), {"validation": (clean[1000:], y[1000:])}) == []


def test_other_class_shares_in_training_are_no_leak():
    """Training resampled to equal classes (balanced accuracy compares the columns across shares)."""
    g = torch.Generator().manual_seed(2)
    X = torch.randn(6000, 5, generator=g)
    y = torch.bucketize(X[:, 0] + 0.7 * torch.randn(6000, generator=g), torch.tensor([0.3, 1.2]))
    train = torch.cat([torch.nonzero(y[:4000] == c)[:, 0][:400] for c in range(3)])
    assert ll.leaking_columns((X[train], y[train]), {"validation": (X[4000:], y[4000:])}) == []


def test_images_and_small_splits_are_not_judged():
    splits = encoded_splits(True)
    X, y = splits.train
    assert ll.leaking_columns((X.reshape(-1, 1, 2, 2), y), {"validation": splits.val}) == []
    assert ll.leaking_columns((X, y), {"validation": (splits.val[0][:50], splits.val[1][:50])}) == []


def _recency_resampled(seed, *, half_life=25.0, n=1440, held=480):
    """Set 14's stores_recency_resample_hours: stationary rows (3 classes from columns 0 and 1), the
    training rows redrawn with replacement with weight 0.5 ** (age / half_life) over ages of 0-730 days
    (a short half-life: about 250 distinct rows of 1,440); the validation rows as drawn."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n + held, 5, generator=g)
    y = torch.bucketize(X[:, 0] - 0.6 * X[:, 1] + 0.9 * torch.randn(n + held, generator=g), torch.tensor([-0.5, 0.5]))
    age = 730 * torch.rand(n, generator=g)
    pick = torch.multinomial(0.5 ** (age / half_life), n, replacement=True, generator=g)
    return (X[pick], y[pick]), (X[n:], y[n:]), pick


def test_a_training_split_resampled_with_replacement_is_no_leak():
    """Halves cut row by row put a row's copies in both: the deciles' majority is read on "held-out" rows
    it was fitted on, 10-14 points above the validation rows on some column at every seed. Equal rows in
    one half: the halves are distinct rows, and nothing is named."""
    for seed in range(3):
        train, val, pick = _recency_resampled(seed)
        assert 2 * ll.MIN_ROWS <= len(torch.unique(pick)) < 300
        assert ll.leaking_columns(train, {"validation": val}) == []
        fit, held = ll.halves(train[0], torch.Generator().manual_seed(seed))
        assert not set(pick[fit].tolist()) & set(pick[held].tolist()) and len(fit) + len(held) == len(pick)
    assert ll.halves(val[0][:150], torch.Generator()) is None     # fewer distinct rows than two halves of MIN_ROWS
