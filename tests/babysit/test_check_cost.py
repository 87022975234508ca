"""What the pre-flight's readings of the rows and the model cost, in counts (not time), and that the
cheaper readings find exactly what the full ones find: the category-ids check reads its test only
where it decides and remembers its profiles over the repairer's rounds (first_layer.py,
``periodic_columns.remembered``), the periodic check screens its columns in one sort, and the
pooled-units check runs a layer's zeroed forward only while the layer's verdict is open
(pooled_units.py)."""
import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from trainwell.babysit import first_layer as fl
from trainwell.babysit import periodic_columns as pc
from trainwell.babysit import pooled_units as pu
from test_first_layer import flights_like


def mlp(d, out=3, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 32), nn.ReLU(), nn.Linear(32, out))


def ids_table(seed=0, n=3000):
    """``flights_like``'s table with a measured column of few values and a second id column beside it:
    five columns, four through the profiles, one of them an id column found."""
    x, y, _ = flights_like(seed=seed, n=n)
    g = np.random.default_rng(seed + 10)
    effect = g.normal(0.0, 1.0, 30)
    other = g.integers(0, 30, n)
    y = torch.tensor(np.digitize(effect[other] + y.numpy() + g.normal(0, 0.3, n), [0.5, 1.5]))
    extra = torch.tensor(np.column_stack([other, g.integers(0, 12, n)]).astype(np.float32))
    return torch.cat([x, (extra - extra.mean(0)) / extra.std(0)], 1), y


@pytest.fixture
def sf_calls(monkeypatch):
    """Calls of the chi-square and F survival functions the category test reads."""
    calls = {"sf": 0}
    for dist in (stats.chi2, stats.f):
        original = dist.sf

        def counted(*a, _original=original, **k):
            calls["sf"] += 1
            return _original(*a, **k)
        monkeypatch.setattr(dist, "sf", counted)
    return calls


def test_the_category_test_is_read_only_for_columns_rough_and_spread_enough(sf_calls):
    """The findings equal a reference built from ``roughness`` (which reads every column's test);
    the survival function runs once per column that passes ``ROUGH`` and ``MIN_SNR``, fewer times
    than the columns tested."""
    x, y = ids_table()
    model = mlp(x.shape[1])
    found = fl.check_what_reaches(model, x, y, class_ids=True)
    read = sf_calls["sf"]
    readings = {j: fl.roughness(x[:fl.ID_ROWS, j], y[:fl.ID_ROWS], class_ids=True) for j in range(x.shape[1])}
    tested = {j: r for j, r in readings.items() if r is not None}
    candidates = [j for j, r in tested.items() if r["rough"] >= fl.ROUGH and r["snr"] >= fl.MIN_SNR]
    assert read == len(candidates) < len(tested)
    rough = sorted(j for j in candidates if tested[j]["p"] < fl.ALPHA / len(tested))
    assert [f.code for f in found] == ["categories_as_numbers"]
    assert found[0].evidence["columns"] == rough == [2]
    assert found[0].evidence["columns_tested"] == len(tested)
    j = found[0].evidence["column"]
    assert found[0].evidence["p"] == tested[j]["p"] and found[0].evidence["roughness"] == tested[j]["rough"]


def test_interior_ranks_equal_a_second_unique():
    """``_interior``'s ranks are ``torch.unique(values[rows], return_inverse=True)[1]``, on columns
    with ties, rare values at the ends and inside, and negative values."""
    g = torch.Generator().manual_seed(0)
    for trial in range(20):
        k = int(torch.randint(10, 60, (1,), generator=g))
        values = torch.randint(-k, k, (1500,), generator=g).float() * 0.37
        values[:3] = 1e3                        # a rare value at the top end
        values[3:5] = 0.185                     # a rare value inside the range
        interior = fl._interior(values)
        if interior is None:
            continue
        rows, count, ranks = interior
        reference = torch.unique(values[rows], return_inverse=True)[1]
        assert torch.equal(ranks, reference) and count == int(reference.max()) + 1


@pytest.fixture
def profile_reads(monkeypatch):
    calls = {"profiles": 0}
    original = fl._profiles

    def counted(*a, **k):
        calls["profiles"] += 1
        return original(*a, **k)
    monkeypatch.setattr(fl, "_profiles", counted)
    return calls


def test_a_recheck_on_the_same_rows_reads_the_profiles_once(profile_reads):
    """Inside ``periodic_columns.remembered()`` a second reading of the same rows and columns reads
    no profile and returns equal findings; a caller's edit of them does not reach what is kept; a
    changed row, other targets or another set of columns reaching the entry layers are read again;
    outside the block every reading is fresh."""
    x, y = ids_table(seed=1)
    model = mlp(x.shape[1])
    entries = fl.entry_layers(model, x[:fl.GRAD_ROWS])
    plain = fl.check_category_ids(x, y, class_ids=True, entries=entries)
    per_read = profile_reads["profiles"]
    assert per_read > 0 and [f.code for f in plain] == ["categories_as_numbers"]
    with pc.remembered():
        first = fl.check_category_ids(x, y, class_ids=True, entries=entries)
        second = fl.check_category_ids(x, y, class_ids=True, entries=entries)
        assert profile_reads["profiles"] == 2 * per_read
        assert [f.to_dict() for f in second] == [f.to_dict() for f in first] == [f.to_dict() for f in plain]
        columns = list(plain[0].evidence["columns"])
        second[0].evidence["columns"].append(99)
        assert fl.check_category_ids(x, y, class_ids=True, entries=entries)[0].evidence["columns"] == columns
        moved = x.clone()
        moved[7, 0] += 0.5
        fl.check_category_ids(moved, y, class_ids=True, entries=entries)
        assert profile_reads["profiles"] == 3 * per_read
        fl.check_category_ids(moved, (y + 1) % 3, class_ids=True, entries=entries)
        assert profile_reads["profiles"] == 4 * per_read
        narrower = {**entries, "ignored": entries["ignored"].clone()}
        narrower["ignored"][:, 0] = True        # column 0 no longer reaches the entry layer
        fl.check_category_ids(moved, (y + 1) % 3, class_ids=True, entries=narrower)
        assert profile_reads["profiles"] > 4 * per_read
    count = profile_reads["profiles"]
    fl.check_category_ids(x, y, class_ids=True, entries=entries)
    assert profile_reads["profiles"] == count + per_read


def test_the_remembered_rows_are_a_copy():
    """An in-place change of the caller's rows after a reading is a change: read again."""
    x, y = ids_table(seed=2)
    entries = fl.entry_layers(mlp(x.shape[1]), x[:fl.GRAD_ROWS])
    with pc.remembered():
        before = fl.check_category_ids(x, y, class_ids=True, entries=entries)
        x[:, 2] = x[:, 2].sort().values         # the id column put in order along the rows: no longer the ids
        x[:, 3] = 0.0
        after = fl.check_category_ids(x, y, class_ids=True, entries=entries)
    assert [f.code for f in before] == ["categories_as_numbers"] and after == []


def test_periodic_columns_screened_in_one_sort_equal_a_unique_per_column():
    """The distinct-value count of the sort equals ``torch.unique`` per column (ties, -0.0 and 0.0,
    a constant column), and the columns read are those the per-column screen reads."""
    g = torch.Generator().manual_seed(0)
    n = 600
    x = torch.stack([torch.rand(n, generator=g, dtype=torch.float64),              # continuous: read
                     torch.randint(0, 5, (n,), generator=g).double(),               # a grid: too few values
                     torch.full((n,), 3.0, dtype=torch.float64),                    # constant
                     torch.cat([torch.rand(n - 1, generator=g, dtype=torch.float64), torch.tensor([50.0])]),  # far
                     torch.where(torch.arange(n) < 300, torch.rand(n, generator=g, dtype=torch.float64), 0.0)],
                    1)
    x[0, 4], x[1, 4] = -0.0, 0.0
    ordered = x.sort(0).values
    distinct = 1 + (ordered[1:] != ordered[:-1]).sum(0)
    assert distinct.tolist() == [torch.unique(x[:, j]).numel() for j in range(x.shape[1])]
    y = (torch.sin(2 * torch.pi * 40 * x[:, 0]) > 0).long()
    entries = {"ignored": torch.zeros(8, x.shape[1], dtype=torch.bool), "names": ["0"]}
    with pc.remembered():
        pc.check_periodic(x.float(), y, class_ids=True, entries=entries, alpha=fl.ALPHA, numeric=fl.NUMERIC)
        read = pc._remembered["periodic"][0]
    expected = [j for j in range(x.shape[1]) if torch.unique(x[:, j]).numel() >= pc.DISTINCT * n
                and bool(torch.isfinite(x[:, j]).all()) and pc.spread_out(x[:, j].float().double())]
    assert list(read[3]) == expected == [0]


class Draws(nn.Module):
    """An MLP whose eval-mode forward adds noise drawn from torch's generator."""

    def __init__(self):
        super().__init__()
        self.net = mlp(6)

    def forward(self, x):
        return self.net(x + 1e-3 * torch.randn_like(x))


class FeatureMean(nn.Module):
    """A Linear's units averaged into one number before the head: pooled."""

    def __init__(self):
        super().__init__()
        self.a, self.head = nn.Linear(6, 16), nn.Linear(1, 3)

    def forward(self, x):
        return self.head(torch.tanh(self.a(x)).mean(-1, keepdim=True))


def forwards(model, x):
    """``pooled_layers``' findings on ``model`` and the forwards it ran."""
    calls = {"n": 0}
    handle = model.register_forward_pre_hook(lambda m, a: calls.__setitem__("n", calls["n"] + 1))
    try:
        return pu.pooled_layers(model, x), calls["n"]
    finally:
        handle.remove()


def test_a_layer_whose_permutation_moves_the_output_runs_no_zeroed_forward():
    """A plain MLP of 2 Linear layers: the base forward and one permuted forward a layer (1 + 2), not
    the 1 + 2 x 2 of reading every layer zeroed; nothing pooled either way."""
    x = torch.randn(8, 6)
    found, n = forwards(mlp(6), x)
    assert found == [] and n == 1 + 2


def test_a_pooled_layer_still_runs_its_zeroed_forward_and_is_found():
    """``a``'s units averaged: its permuted output equals the base, so its zeroed forward runs (the
    verdict open) and it is found; the head, whose permutation moves the output, does not."""
    found, n = forwards(FeatureMean(), torch.randn(8, 6))
    assert [r["layer"] for r in found] == ["a"] and n == 1 + 2 + 1


def test_a_forward_that_draws_runs_every_forward_and_leaves_the_generator_where_it_did():
    """An eval-mode forward that draws from torch's generator: every layer's zeroed forward runs,
    so the generator ends where a reading of every forward leaves it."""
    x = torch.randn(8, 6)
    model = Draws()
    torch.manual_seed(5)
    found, n = forwards(model, x)
    after = torch.get_rng_state()
    assert found == [] and n == 1 + 2 * 2
    torch.manual_seed(5)
    for _ in range(n):
        with torch.no_grad():
            model.eval()(x)
    assert torch.equal(after, torch.get_rng_state())


def test_ranked_class_ids_give_the_profiles_of_a_unique():
    """``_profiles`` on ranks read once over every row equals ``_profiles`` on the raw ids of the
    rows read, with a class absent from them and ids that are not 0..c-1."""
    g = torch.Generator().manual_seed(1)
    y = torch.randint(0, 5, (900,), generator=g) * 7 - 3
    rows = y != 11                              # class 11 absent from the rows read
    k = 12
    inverse = torch.randint(0, k, (int(rows.sum()),), generator=g)
    inverse[:k] = torch.arange(k)
    plain = fl._profiles(inverse, k, y[rows], class_ids=True)
    ranked = fl._profiles(inverse, k, fl._ranks(y)[rows], class_ids=True, ranked=True)
    assert torch.equal(plain[0], ranked[0]) and torch.equal(plain[1], ranked[1]) and plain[2]() == ranked[2]()
    assert plain[0].shape == (k, 4)
