"""constant_ids.py: an embedding whose ids are computed from the inputs and are one value on every row."""
import torch
from torch import nn

from trainwell.babysit.constant_ids import check_constant_ids


class Banded(nn.Module):
    """Column 0 binned by ``torch.bucketize`` at edges in raw units, the band embedded, the other
    columns beside it."""

    def __init__(self, edges=(25.0, 35.0, 45.0, 55.0, 65.0)):
        super().__init__()
        torch.manual_seed(0)
        self.register_buffer("edges", torch.tensor(edges))
        self.band = nn.Embedding(len(edges) + 1, 4)
        self.head = nn.Linear(4 + 3, 3)

    def forward(self, x):
        return self.head(torch.cat([self.band(torch.bucketize(x[:, 0].contiguous(), self.edges)), x[:, 1:]], 1))


class Positions(nn.Module):
    """Learned positions (``arange``) and a [CLS] id of 0 added to a projection of each step."""

    def __init__(self, steps=4):
        super().__init__()
        torch.manual_seed(0)
        self.pos, self.cls, self.proj, self.head = nn.Embedding(steps, 4), nn.Embedding(2, 4), nn.Linear(1, 4), nn.Linear(4, 3)

    def forward(self, x):
        n, steps = x.shape
        h = self.proj(x.unsqueeze(-1)) + self.pos(torch.arange(steps)) + self.cls(torch.zeros(n, 1, dtype=torch.long))
        return self.head(h.mean(1))


def members(n=1500, seed=0, *, relates=True):
    """Ages 18-80 in years; the class is the age band when ``relates``, else random; 3 noise columns."""
    g = torch.Generator().manual_seed(seed)
    age = 18 + 62 * torch.rand(n, generator=g)
    y = torch.bucketize(age, torch.tensor([35.0, 55.0])) if relates else torch.randint(0, 3, (n,), generator=g)
    return torch.cat([age[:, None], torch.randn(n, 3, generator=g)], 1), y


def standardized(x):
    return (x - x.mean(0)) / x.std(0)


def test_ids_binned_from_a_standardized_column_are_one_band_and_named():
    x, y = members()
    found = check_constant_ids(Banded(), standardized(x), y, class_ids=True)
    assert len(found) == 1 and found[0].code == "uninformative_inputs" and found[0].severity == "warning"
    e = found[0].evidence
    assert e["embedding"] == "band" and e["id"] == 0 and e["columns"] == [0] and e["num_embeddings"] == 6
    assert "given id 0 on every one of the 1500 rows" in found[0].message and "bucketize" in found[0].fix


def test_ids_that_vary_positions_and_constant_ids_not_computed_from_the_inputs_are_quiet():
    x, y = members()
    assert check_constant_ids(Banded(), x, y, class_ids=True) == []                  # the raw ages: bands vary
    assert check_constant_ids(Positions(), standardized(x), y, class_ids=True) == []  # arange and a [CLS] id
    assert check_constant_ids(nn.Sequential(nn.Linear(4, 3)), x, y, class_ids=True) == []   # no embedding


def test_a_constant_band_of_a_column_the_targets_do_not_depend_on_is_info():
    x, y = members(relates=False)
    found = check_constant_ids(Banded(), standardized(x), y, class_ids=True)
    assert len(found) == 1 and found[0].severity == "info" and found[0].evidence["columns"] == [0]


def test_too_few_rows_or_a_model_that_raises_are_quiet_and_the_model_is_left_alone():
    x, y = members()
    model = Banded()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert check_constant_ids(model, standardized(x)[:100], y[:100], class_ids=True) == []

    class Raises(Banded):
        def forward(self, x):
            raise RuntimeError("shape")
    assert check_constant_ids(Raises(), standardized(x), y, class_ids=True) == []
    check_constant_ids(model, standardized(x), y, class_ids=True)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items()) and model.training


class Codes(nn.Module):
    """Event codes per step cast to ids and clamped to the table (``x.long().clamp(0, codes - 1)``),
    embedded, averaged over the steps, linear."""

    def __init__(self, codes=24):
        super().__init__()
        torch.manual_seed(0)
        self.codes, self.emb, self.head = codes, nn.Embedding(codes, 8), nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.emb(x.long().clamp(0, self.codes - 1)).mean(1))


def code_sequences(n=1500, steps=8, codes=20, seed=0):
    """Codes 0..codes-1 per step; the class: which of the alert codes 0, 1, 2 appears first (any step)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(3, codes, (n, steps), generator=g)
    y = torch.randint(0, 3, (n,), generator=g)
    x[torch.arange(n), torch.randint(0, steps, (n,), generator=g)] = y
    return x.float(), y


def test_codes_standardized_before_a_cast_and_clamp_collapse_to_a_few_ids_and_are_named():
    x, y = code_sequences()
    found = check_constant_ids(Codes(), standardized(x), y, class_ids=True)
    assert len(found) == 1 and found[0].code == "uninformative_inputs" and found[0].severity == "warning"
    e = found[0].evidence
    assert e["embedding"] == "emb" and 1 < e["distinct_ids"] <= 6 and e["distinct_values"] == 20
    assert e["columns"] == list(range(8)) and "only" in found[0].message


def test_ids_that_keep_the_codes_a_large_vocabulary_and_bins_filling_their_table_are_quiet():
    x, y = code_sequences()
    assert check_constant_ids(Codes(), x, y, class_ids=True) == []                  # one id per code
    assert check_constant_ids(Codes(codes=1000), x, y, class_ids=True) == []       # 20 of 1000 rows: as the data says
    ages, bands = members()
    assert check_constant_ids(Banded(), ages, bands, class_ids=True) == []         # 6 bands of 6 rows, from 1500 ages


class Hashed(nn.Module):
    """The hashing trick on a category column: ``x[:, 0].long() % buckets``, embedded, beside the other columns."""

    def __init__(self, buckets):
        super().__init__()
        torch.manual_seed(0)
        self.buckets, self.emb, self.head = buckets, nn.Embedding(buckets, 8), nn.Linear(8 + 2, 3)

    def forward(self, x):
        return self.head(torch.cat([self.emb(x[:, 0].long() % self.buckets), x[:, 1:]], 1))


def categories(n=1500, seed=0, *, relates=True):
    """60 categories (column 0), each with its class when ``relates``, else random classes; 2 noise columns."""
    g = torch.Generator().manual_seed(seed)
    cat = torch.randint(0, 60, (n,), generator=g)
    y = torch.randperm(60, generator=g)[cat] % 3 if relates else torch.randint(0, 3, (n,), generator=g)
    return torch.cat([cat[:, None].float(), torch.randn(n, 2, generator=g)], 1), y


def test_codes_hashed_into_far_fewer_buckets_than_they_are_collapse_and_matter():
    x, y = categories()
    found = check_constant_ids(Hashed(8), x, y, class_ids=True)       # 60 codes into 8 rows: 8 of 8 rows reached
    assert len(found) == 1 and found[0].severity == "warning" and found[0].evidence["distinct_ids"] == 8
    assert found[0].evidence["columns"] == [0] and found[0].evidence["distinct_values"] == 60
    assert check_constant_ids(Hashed(997), x, y, class_ids=True) == []   # one bucket per code: as the data says


def test_a_collapse_of_codes_the_targets_do_not_depend_on_is_info():
    x, y = categories(relates=False)
    found = check_constant_ids(Hashed(8), x, y, class_ids=True)
    assert len(found) == 1 and found[0].severity == "info"


def test_one_class_among_the_rows_read_is_scored_as_the_probes_scored_it():
    """Class ids of one class: the probes fit squared error (no classifier on one class), and the message
    names that unit, not accuracy."""
    x, _ = members()
    found = check_constant_ids(Banded(), standardized(x), torch.zeros(x.shape[0], dtype=torch.long), class_ids=True)
    assert len(found) == 1 and found[0].evidence["probes"]
    assert "squared error:" in found[0].message and "accuracy" not in found[0].message
