"""A model whose output cannot see a difference its targets depend on (babysit/blind_model.py)."""
import torch
from torch import nn

from trainwell.babysit import blind_model, constant_ids


def pairs(n=1500, seed=0, *, ordered=True):
    """Two ids of one vocabulary (0..9) and two numeric columns; three classes read from the ids: by the
    first id's own effect and the step from the first to the second (``ordered``), else by the unordered
    pair alone (their sum: a symmetric relation)."""
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randint(0, 10, (n,), generator=g), torch.randint(0, 10, (n,), generator=g)
    num = torch.randn(n, 2, generator=g)
    effect = torch.linspace(-2, 2, 10)[torch.randperm(10, generator=g)]
    score = (effect[a] - effect[b]) if ordered else (effect[a] + effect[b])
    score = score + 0.3 * num[:, 0] + 0.3 * torch.randn(n, generator=g)
    cuts = torch.quantile(score, torch.tensor([1 / 3, 2 / 3]))
    y = torch.bucketize(score, cuts)
    return torch.cat([torch.stack([a, b], 1).float(), num], 1), y


class PairNet(nn.Module):
    """Columns 0 and 1 through embeddings of one vocabulary: ``mode`` "sum" (one table, summed),
    "tied" (one table, concatenated) or "two" (a table each, concatenated)."""

    def __init__(self, mode):
        super().__init__()
        torch.manual_seed(0)
        self.mode = mode
        self.first = nn.Embedding(10, 8)
        self.second = nn.Embedding(10, 8) if mode == "two" else None
        width = 8 if mode == "sum" else 16
        self.mlp = nn.Sequential(nn.Linear(width + 2, 32), nn.ReLU(), nn.Linear(32, 3))

    def forward(self, x):
        a, b = x[:, 0].long(), x[:, 1].long()
        if self.mode == "sum":
            route = self.first(a) + self.first(b)
        else:
            route = torch.cat([self.first(a), (self.second or self.first)(b)], 1)
        return self.mlp(torch.cat([route, x[:, 2:]], 1))


def test_one_table_summed_over_two_ordered_roles_is_found_and_names_the_swap():
    X, y = pairs()
    assert blind_model.invariances(PairNet("sum"), X) == [{"kind": "permute", "slots": [0, 1]}]
    found = blind_model.check_blind_model(PairNet("sum"), X, y, class_ids=True)
    assert [f.code for f in found] == ["uninformative_inputs"] and found[0].severity == "warning"
    f = found[0]
    assert f.evidence["transformation"] == "permute" and f.evidence["slots"] == [0, 1]
    assert "columns 0, 1 swapped" in f.message
    # the probes taught to ignore the order lose at least the kill rule's 3 points, significantly
    assert any(r["given"] - r["blind"] >= 0.03 and r["p"] < f.evidence["p_threshold"] for r in f.evidence["probes"])


def test_separate_or_tied_tables_that_keep_the_order_are_quiet():
    X, y = pairs()
    for mode in ("two", "tied"):        # tied: one table, the two vectors concatenated (not summed)
        assert blind_model.invariances(PairNet(mode), X) == []
        assert blind_model.check_blind_model(PairNet(mode), X, y, class_ids=True) == []


def test_a_symmetric_model_on_symmetric_data_is_quiet():
    X, y = pairs(ordered=False)         # the targets read the unordered pair: the swap changes nothing
    assert blind_model.invariances(PairNet("sum"), X) != []
    assert blind_model.check_blind_model(PairNet("sum"), X, y, class_ids=True) == []


class SquareNet(nn.Module):
    """Column 0 read only as its square (its sign lost), the others as given."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.mlp = nn.Sequential(nn.Linear(3, 32), nn.Tanh(), nn.Linear(32, 1))

    def forward(self, x):
        return self.mlp(torch.cat([x[:, :1] ** 2, x[:, 1:]], 1))


def test_a_signed_value_read_as_its_square_is_found_where_the_sign_matters():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(1500, 3, generator=g)
    signed = (1.5 * X[:, 0] + 0.5 * X[:, 1] + 0.3 * torch.randn(1500, generator=g)).unsqueeze(1)
    found = blind_model.check_blind_model(SquareNet(), X, signed, class_ids=False)
    assert [(f.evidence["transformation"], f.evidence["slots"]) for f in found] == [("sign", [0])]
    assert "sign of input column 0 flipped" in found[0].message
    # the same model where the targets read the magnitude only: quiet
    even = (1.5 * X[:, 0] ** 2 + 0.5 * X[:, 1] + 0.3 * torch.randn(1500, generator=g)).unsqueeze(1)
    assert blind_model.check_blind_model(SquareNet(), X, even, class_ids=False) == []


class BagNet(nn.Module):
    """A sequence (rows, positions, features) read as the mean of its positions' encodings: a bag."""

    def __init__(self, features=2):
        super().__init__()
        torch.manual_seed(0)
        self.enc = nn.Sequential(nn.Linear(features, 16), nn.ReLU())
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        return self.head(self.enc(x).mean(1))


def test_a_bag_of_positions_is_found_only_where_the_order_matters():
    g = torch.Generator().manual_seed(2)
    X = torch.randn(1500, 6, 2, generator=g)
    first = (X[:, 0, 0] > 0).long()                  # the label is the first position's sign: order matters
    found = blind_model.check_blind_model(BagNet(), X, first, class_ids=True)
    assert [f.evidence["slots"] for f in found] == [[0, 1, 2, 3, 4, 5]]
    assert "positions 0, 1, 2, 3, 4, 5 put in any order" in found[0].message
    any_pos = (X[:, :, 0].sum(1) > 0).long()          # the label is a sum over the positions: a bag is right
    assert blind_model.check_blind_model(BagNet(), X, any_pos, class_ids=True) == []


def test_a_plain_mlp_and_too_few_rows_are_quiet_without_probes():
    X, y = pairs()
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 3))
    assert blind_model.invariances(mlp, X) == []
    assert blind_model.check_blind_model(PairNet("sum"), X[:100], y[:100], class_ids=True) == []


def test_the_check_leaves_the_random_state_and_the_model_alone():
    X, y = pairs()
    net = PairNet("sum")
    before = [p.detach().clone() for p in net.parameters()]
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    blind_model.check_blind_model(net, X, y, class_ids=True)
    assert torch.equal(torch.rand(3), expected)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))


class BothWaysNet(nn.Module):
    """A sequence (rows, steps) read forwards and backwards by one GRU and the two readings summed."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.gru = nn.GRU(1, 16, batch_first=True)
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        seq = x.unsqueeze(-1)
        return self.head(self.gru(seq)[1][-1] + self.gru(seq.flip(1))[1][-1])


def test_a_sequence_read_both_ways_and_summed_is_found_where_direction_matters():
    g = torch.Generator().manual_seed(3)
    start, slope = torch.randn(1500, 1, generator=g), torch.randn(1500, 1, generator=g)
    X = start + slope * torch.linspace(-1, 1, 8) + 0.3 * torch.randn(1500, 8, generator=g)
    assert blind_model.invariances(BothWaysNet(), X) == [{"kind": "reverse", "slots": list(range(8))}]
    rising = (slope[:, 0] > 0).long()                 # the direction of the trend: reversal flips it
    found = blind_model.check_blind_model(BothWaysNet(), X, rising, class_ids=True)
    assert [f.evidence["transformation"] for f in found] == ["reverse"]
    assert "columns in reverse order" in found[0].message
    level = (start[:, 0] > 0).long()                  # the series' level: the same read either way
    assert blind_model.check_blind_model(BothWaysNet(), X, level, class_ids=True) == []


def test_the_canonical_form_is_one_per_orbit():
    g = torch.Generator().manual_seed(4)
    x = torch.randn(50, 5, 3, generator=g)
    group = {"kind": "permute", "slots": [0, 2, 3]}
    shuffled = x.clone()
    shuffled[:, [0, 2, 3]] = x[:, [3, 0, 2]]
    assert torch.equal(blind_model.canonical(shuffled, group), blind_model.canonical(x, group))
    assert torch.equal(blind_model.canonical(x.flip(1), {"kind": "reverse"}), blind_model.canonical(x, {"kind": "reverse"}))
    sign = {"kind": "sign", "slots": [1]}
    assert torch.equal(blind_model.canonical(blind_model._flipped(x, 1), sign), blind_model.canonical(x, sign))
    # and nothing else is merged: rows that differ outside the transformation keep differing
    other = x.clone()
    other[:, 4] += 1
    assert not torch.equal(blind_model.canonical(other, group)[:, 4], blind_model.canonical(x, group)[:, 4])


class SetNet(nn.Module):
    """A set of points (rows, points, 2) read by a shared encoder and a max over the points (DeepSets)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.enc = nn.Sequential(nn.Linear(2, 16), nn.ReLU())
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        return self.head(self.enc(x).amax(1))


def test_a_set_model_on_points_stored_in_sorted_order_is_quiet():
    # the points are stored sorted by their first coordinate, so position 5 always holds the largest:
    # a probe on the stored order reads "the largest x" from one column, and so does one on the points
    # in any order once they are put in canonical (sorted) order, which the max-pooled model can compute
    g = torch.Generator().manual_seed(5)
    pts = torch.randn(1500, 6, 2, generator=g)
    pts = pts.gather(1, pts[:, :, :1].argsort(1).expand(-1, -1, 2))
    label = (pts[:, :, 0].amax(1) > 1.0).long()
    assert [t["kind"] for t in blind_model.invariances(SetNet(), pts)] == ["permute"]
    assert blind_model.check_blind_model(SetNet(), pts, label, class_ids=True) == []


def test_an_invariance_of_the_initial_values_alone_is_not_the_structures():
    # every weight one constant: the untrained MLP is a function of the inputs' sum, so any permutation of
    # the columns leaves its output; moved off those values it is not, and the check is quiet
    X, y = pairs()
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 3))
    for layer in (mlp[0], mlp[2]):
        nn.init.constant_(layer.weight, 0.05)
        nn.init.zeros_(layer.bias)
    assert blind_model.invariances(mlp, X) == []
    assert blind_model.check_blind_model(mlp, X, y, class_ids=True) == []


class TicketBag(nn.Module):
    """Word ids (rows, steps; 0 padding) read as the mean of their embeddings over the words: a bag."""

    def __init__(self, words):
        super().__init__()
        torch.manual_seed(0)
        self.emb = nn.Embedding(words, 16)
        self.head = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 3))

    def forward(self, x):
        ids = x.long()
        keep = (ids != 0).unsqueeze(-1).float()
        return self.head((self.emb(ids) * keep).sum(1) / keep.sum(1).clamp(min=1.0))


def tickets(n=1500, seed=6, *, words=30, steps=10):
    """Tickets of 4-8 filler words and their class's topic word (ids 1..words-1, 0 padding at the end),
    3 classes: the topic word first in half of the rows, at a random place in the others (typed tickets
    open with the topic). The class is in the bag of words; the position only echoes it."""
    g = torch.Generator().manual_seed(seed)
    topics = torch.randperm(words - 1, generator=g)[:3] + 1
    fillers = torch.tensor([v for v in range(1, words) if v not in topics.tolist()])
    y = torch.randint(0, 3, (n,), generator=g)
    X = torch.zeros(n, steps)
    for i in range(n):
        k = int(torch.randint(4, 9, (1,), generator=g))
        row = fillers[torch.randint(0, len(fillers), (k,), generator=g)].tolist()
        at = 0 if i % 2 else int(torch.randint(0, k + 1, (1,), generator=g))
        row.insert(at, int(topics[y[i]]))
        X[i, :len(row)] = torch.tensor(row, dtype=torch.float32)
    return X, y


def test_embedded_ids_are_read_as_categories_so_a_bag_of_words_on_a_bag_label_is_quiet():
    # a bag model, and the class is the bag's: as numbers, the ids' order carried what a linear probe read
    # (the topic word's id at position 0) and sorting them lost it (the false alarm of set 22's tickets)
    X, y = tickets(seed=10)             # topic ids whose numbers a linear probe reads at position 0
    net = TicketBag(30)
    permute = blind_model.invariances(net, X[:256])[0]
    assert permute["kind"] == "permute" and constant_ids.id_slices(net, X[:256]) != []
    as_numbers = blind_model.blind_gain(X.double(), y, permute, class_ids=True)
    assert any(r["p"] < 1e-4 and r["given"] - r["blind"] >= 0.03 for r in as_numbers)   # what the old probe read
    assert blind_model.check_blind_model(net, X, y, class_ids=True) == []
    as_ids = blind_model.blind_gain(X.double(), y, permute, class_ids=True, ids=set(constant_ids.id_slices(net, X[:256])))
    assert all(r["blind"] >= r["given"] for r in as_ids)        # the bag (the ids' counts) reads the class best


def test_embedded_ids_whose_order_carries_the_class_still_warn():
    # two marker words in every ticket: the class is which comes first, and a bag cannot tell
    X, _ = tickets(seed=7)
    g = torch.Generator().manual_seed(7)
    first = torch.randint(0, 2, (X.shape[0],), generator=g)
    X[:, 0], X[:, 3] = torch.where(first == 1, 28.0, 29.0), torch.where(first == 1, 29.0, 28.0)
    found = blind_model.check_blind_model(TicketBag(30), X, first, class_ids=True)
    assert [f.code for f in found][:1] == ["uninformative_inputs"] and found[0].severity == "warning"
    assert found[0].evidence["id_slices"] != []


def test_embedded_ids_shuffled_against_the_labels_are_quiet():
    X, y = tickets(seed=8)
    shuffled = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(8))]
    assert blind_model.check_blind_model(TicketBag(30), X, shuffled, class_ids=True) == []


def test_a_vocabulary_too_big_for_the_rows_is_not_tested_and_says_so():
    g = torch.Generator().manual_seed(9)
    X = torch.randint(1, 1000, (1500, 6), generator=g).float()
    y = (X[:, 0] > 500).long()                        # the first word's id: what a bag loses, but not estimable
    found = blind_model.check_blind_model(TicketBag(1000), X, y, class_ids=True)
    assert [f.severity for f in found] == ["info"]
    assert found[0].evidence["vocabulary"] > 1500 / constant_ids.REPEATS and "not tested" in found[0].message


def test_the_slices_an_embedding_reads_are_named_and_numeric_ones_are_not():
    X, _ = pairs()
    assert constant_ids.id_slices(PairNet("two"), X[:256]) == [0, 1]
    torch.manual_seed(0)
    assert constant_ids.id_slices(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)), X[:256]) == []


class BothWaysIds(nn.Module):
    """Word ids (rows, steps) embedded and read forwards and backwards by one GRU, the two readings summed."""

    def __init__(self, words):
        super().__init__()
        torch.manual_seed(0)
        self.emb = nn.Embedding(words, 8)
        self.gru = nn.GRU(8, 16, batch_first=True)
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        seq = self.emb(x.long())
        return self.head(self.gru(seq)[1][-1] + self.gru(seq.flip(1))[1][-1])


def test_embedded_ids_read_both_ways_warn_where_the_direction_matters_and_not_for_a_bag_label():
    g = torch.Generator().manual_seed(10)
    X = torch.randint(1, 20, (1500, 8), generator=g).float()
    first = torch.randint(0, 2, (1500,), generator=g)
    X[:, 1], X[:, 5] = torch.where(first == 1, 20.0, 21.0), torch.where(first == 1, 21.0, 20.0)
    net = BothWaysIds(22)
    assert {"kind": "reverse", "slots": list(range(8))} in blind_model.invariances(net, X[:256])
    found = [f for f in blind_model.check_blind_model(net, X, first, class_ids=True) if f.severity == "warning"]
    assert [f.evidence["transformation"] for f in found] == ["reverse"]
    has_word = (X == 7).any(1).long()                 # a word anywhere: the same read either way
    assert blind_model.check_blind_model(net, X, has_word, class_ids=True) == []
