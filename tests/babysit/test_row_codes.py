"""row_codes.py: values coded row by row (dense ranks fitted per row), through value_codes and constant_ids."""
import torch
from torch import nn

from trainwell.babysit.constant_ids import check_constant_ids
from trainwell.babysit.row_codes import find_row_codes
from trainwell.babysit.value_codes import check_value_codes

VOCAB, LENGTH, PAD = 60, 20, 0


def tickets(n=600, seed=0):
    """Rows of 6-16 words of a 60-word vocabulary (ids 1..60, padding 0 to 20 places); the class is
    whether one of words 1-15 occurs."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.full((n, LENGTH), PAD, dtype=torch.long)
    for i in range(n):
        k = int(torch.randint(6, 17, (1,), generator=g))
        ids[i, :k] = torch.randint(1, VOCAB + 1, (k,), generator=g)
    y = ((ids >= 1) & (ids <= 15)).any(1).long()
    return ids, y


def per_row_ranks(ids):
    """Each row's ids through an encoder fitted on that row alone (``LabelEncoder().fit_transform(words) + 1``):
    a word's id is its rank among the row's distinct words, sorted."""
    out = torch.full_like(ids, PAD)
    for i, row in enumerate(ids):
        words = row[row != PAD]
        out[i, :words.numel()] = torch.unique(words, return_inverse=True)[1] + 1
    return out


def panels(n=600, seed=0):
    """16x16 greys 0.5 +- 0.05 on 16 levels, a dark or a bright 2x2 patch anywhere (the class), as /255 values
    of an 8-bit file."""
    g = torch.Generator().manual_seed(seed)
    x = 0.5 + 0.05 * torch.randn(n, 1, 16, 16, generator=g)
    y = torch.randint(0, 2, (n,), generator=g)
    for i in range(n):
        r, c = (int(v) for v in torch.randint(0, 14, (2,), generator=g))
        x[i, 0, r:r + 2, c:c + 2] = 0.1 if y[i] == 0 else 0.9
    return (x * 15).round().clamp(0, 15) * 17 / 255, y


def palette(x):
    """Each image's 16 grey levels ordered by how often they occur in it: the pixel's index / 255."""
    levels = (x * 255 / 17).round().long().reshape(x.shape[0], -1)
    out = torch.empty_like(levels)
    for i, row in enumerate(levels):
        counts = torch.bincount(row, minlength=16)
        rank = torch.empty(16, dtype=torch.long)
        rank[torch.sort(-counts, stable=True).indices] = torch.arange(16)
        out[i] = rank[row]
    return (out.double() / 255).reshape(x.shape)


class Pool(nn.Module):
    """Embeddings of the ids (float columns cast), the mean over the words, a linear head."""

    def __init__(self, words=VOCAB + 1):
        super().__init__()
        torch.manual_seed(0)
        self.emb, self.head = nn.Embedding(words, 8), nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.emb(x.long()).mean(1))


def test_ids_ranked_within_each_row_are_found_and_one_vocabulary_is_quiet():
    ids, y = tickets()
    found = check_constant_ids(Pool(), per_row_ranks(ids).float(), y, class_ids=True)
    coded = [f for f in found if f.evidence.get("row_codes")]
    assert len(coded) == 1 and coded[0].code == "uninformative_inputs" and coded[0].severity == "warning"
    assert coded[0].evidence["prefix_share"] == 1.0 and coded[0].evidence["slices"][:3] == [0, 1, 2]
    assert "LabelEncoder().fit" in coded[0].fix
    assert not [f for f in check_constant_ids(Pool(), ids.float(), y, class_ids=True) if f.evidence.get("row_codes")]


def test_palette_indices_per_image_are_found_and_greys_are_quiet():
    x, _ = panels()
    found = [f for f in check_value_codes(palette(x).float()) if f.evidence.get("row_codes")]
    assert len(found) == 1 and found[0].code == "uninformative_inputs" and "convert" in found[0].fix
    assert not [f for f in check_value_codes(x.float()) if f.evidence.get("row_codes")]


def test_numbers_need_each_level_repeated_ids_do_not():
    ids, _ = tickets()
    coded = per_row_ranks(ids).double()
    assert find_row_codes(coded, numbers=False) is not None
    assert find_row_codes(coded, numbers=True) is None          # 20 places for ~10 levels: no palette


def test_healthy_ordinal_tables_rankings_positions_and_alphabets_are_quiet():
    g = torch.Generator().manual_seed(1)
    likert = torch.randint(0, 5, (800, 20), generator=g).double()         # 20 answers 0-4: most rows use all five
    assert find_row_codes(likert, numbers=True) is None
    judges = torch.argsort(torch.rand(800, 8, generator=g), 1).double()    # each judge's ranks of 8 wines
    assert find_row_codes(judges, numbers=True) is None and find_row_codes(judges, numbers=False) is None
    lengths = torch.randint(4, 21, (800,), generator=g)
    positions = torch.arange(20).expand(800, 20) * (torch.arange(20) < lengths[:, None])   # position ids, 0-padded
    assert find_row_codes(positions.double(), numbers=False) is None
    dna = torch.randint(1, 5, (800, 30), generator=g).double()              # four letters, every row holds them all
    assert find_row_codes(dna, numbers=False) is None
    binary = (torch.rand(800, 64, generator=g) < 0.2).double()              # binary images: two levels
    assert find_row_codes(binary, numbers=True) is None
    counts = torch.poisson(torch.full((800, 200), 0.2), generator=g)        # a sparse bag of words' counts
    assert find_row_codes(counts, numbers=True) is None
    assert find_row_codes(torch.randn(800, 64, generator=g).double(), numbers=True) is None   # readings: no grid


def test_rows_that_skip_a_level_past_the_share_end_the_code():
    ids, _ = tickets()
    coded = per_row_ranks(ids)

    def skipped(rows):
        c = coded.clone()
        c[:rows, 0] = c.max() + 5                       # each of these rows holds a level past its own ranks
        return find_row_codes(c.double(), numbers=False)
    assert skipped(3) is not None                       # 0.5% of the rows: within ROW_SHARE
    assert skipped(20) is None                          # 3.3%: a vocabulary's ids, not ranks
