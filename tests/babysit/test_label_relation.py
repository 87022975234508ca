"""Labels apart from their rows against inputs that lost what the labels need (babysit/label_relation.py)."""
import numpy as np
import pytest
import torch
from scipy.stats import chi2_contingency

from trainwell.babysit import label_relation as lr
from trainwell.babysit.findings import make

N = 1500


def _unseen_at_chance():
    """A label_problem as learnable.check_labels_learnable makes it (its evidence keys)."""
    return make("label_problem", "the labels do not belong to their rows",
                evidence={"memorized_acc": 1.0, "memorized_target": 0.93, "unseen_acc": 0.34, "chance": 0.33,
                          "margin": 0.07, "rows": 128, "unseen_rows": 384}, severity="warning")


def _turbine_like(seed=0):
    """Class ids by a power that rises with the speed (column 2); columns 0 and 1 are a direction's
    sin / cos taken in the wrong units (noise); column 3 carries nothing."""
    g = np.random.default_rng(seed)
    direction, speed = g.uniform(0, 360, N), g.gamma(4.0, 2.2, N)
    power = np.clip(speed * np.cos(np.radians(direction - 250)), 0, None) ** 3 + g.normal(0, 40, N)
    y = np.digitize(power, np.quantile(power, [1 / 3, 2 / 3]))
    x = np.column_stack([np.sin(direction), np.cos(direction), speed, g.normal(size=N)])
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y)


def test_the_p_values_are_pearsons_chi_square_on_the_binned_columns():
    x, y = _turbine_like()
    rel = lr.column_relations(x, y)
    for j in range(x.shape[1]):
        bins = lr._bins(x[:, j].double(), lr.BINS).numpy()
        table = np.zeros((bins.max() + 1, 3))
        np.add.at(table, (bins, y.numpy()), 1)
        assert rel["p"][j].item() == pytest.approx(chi2_contingency(table, correction=False)[1], rel=1e-6)
    assert rel["related"].tolist() == [2]        # only the speed: the direction's features turned to noise


def test_independent_labels_pass_the_bonferroni_bound_about_once_in_a_thousand_setups():
    g = torch.Generator().manual_seed(0)
    hits = 0
    for _ in range(200):
        x = torch.randn(600, 20, generator=g)
        y = torch.randint(0, 4, (600,), generator=g)
        hits += lr.column_relations(x, y)["related"].numel() > 0
    assert hits <= 2          # expected 200 x ALPHA = 0.2


def test_labels_that_relate_to_some_columns_are_reread_as_inputs_that_lost_information():
    x, y = _turbine_like()
    (f,) = lr.reread([_unseen_at_chance()], x, y)
    assert f.code == "uninformative_inputs" and f.severity == "warning"
    assert f.evidence["related_columns"] == [2] and f.evidence["unrelated_columns"] == [0, 1, 3]
    assert f.evidence["reread_from"] == "label_problem" and f.evidence["unseen_acc"] == 0.34
    assert "cannot tell" in f.message         # partial label noise relates to the columns too


def test_labels_shuffled_apart_from_their_rows_stay_a_label_problem():
    x, y = _turbine_like()
    shuffled = y[torch.randperm(N, generator=torch.Generator().manual_seed(1))]
    (f,) = lr.reread([_unseen_at_chance()], x, shuffled)
    assert f.code == "label_problem"


def test_a_relation_through_two_columns_together_stays_a_label_problem():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(N, 2, generator=g)
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).long()          # XOR: neither column alone says anything
    assert lr.column_relations(x, y)["related"].numel() == 0
    assert lr.reread([_unseen_at_chance()], x, y)[0].code == "label_problem"


def test_other_findings_and_other_label_problems_pass_unchanged():
    x, y = _turbine_like()
    other = make("label_problem", "ids out of range", evidence={"max_id": 7})
    kept = make("unnormalized_inputs", "scale", evidence={})
    assert lr.reread([other, kept], x, y) == [other, kept]


def test_too_few_rows_per_class_are_not_tested():
    x = torch.randn(30, 3)
    y = torch.arange(30) % 10
    assert lr.column_relations(x, y) is None
    assert lr.reread([_unseen_at_chance()], x, y)[0].code == "label_problem"


def test_labels_unrelated_to_every_column_name_both_sides_the_data_cannot_tell_apart():
    """Sequences cut at the wrong end (the class shows only in steps that were cut off) and labels
    shuffled apart from their rows leave the same data: labels independent of every column. The
    finding stays a label_problem and names both causes, with the column test's numbers."""
    g = torch.Generator().manual_seed(4)
    head = torch.randn(N, 16, 2, generator=g).reshape(N, -1)      # the first 16 steps: noise in both classes
    y = torch.randint(0, 3, (N,), generator=g)
    (f,) = lr.reread([_unseen_at_chance()], head, y)
    assert f.code == "label_problem" and f.severity == "warning"
    assert f.evidence["related"] == 0 and f.evidence["columns_tested"] == 32
    assert f.evidence["min_p"] >= f.evidence["p_threshold"] and f.evidence["unseen_acc"] == 0.34
    assert "do not belong to their rows" in f.message and "do not hold what the labels are about" in f.message
    assert "cannot tell" in f.message and "the end that carries the outcome" in f.fix


class _CategoryNet(torch.nn.Module):
    """Two numeric columns and an embedding of a category id (column 2), optionally taken modulo
    ``buckets`` (the hashing trick with too few buckets)."""

    def __init__(self, categories=12, buckets=None):
        super().__init__()
        self.buckets = buckets
        self.embed = torch.nn.Embedding(buckets or categories, 4)
        self.out = torch.nn.Linear(6, 3)

    def forward(self, x):
        ids = x[:, 2].long()
        return self.out(torch.cat([x[:, :2], self.embed(ids % self.buckets if self.buckets else ids)], 1))


def _categories(seed=5):
    """Class ids that follow a category id of 12 values (column 2: its id modulo 3, for 80% of the rows;
    ids c and c + 8 have different classes); two numeric columns of noise."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, 12, (N,), generator=g)
    y = torch.where(torch.rand(N, generator=g) < 0.8, ids % 3, torch.randint(0, 3, (N,), generator=g))
    return torch.cat([torch.randn(N, 2, generator=g), ids[:, None].float()], 1), y


def test_ids_the_model_merges_are_named_as_where_the_information_is_lost():
    """Category ids taken modulo 8 inside the forward: ids c and c + 8 give bit-identical outputs
    whatever the weights, so the reread names column 2's merged values; the same model with an
    embedding per id merges none, and a numeric column is not probed."""
    torch.manual_seed(0)
    x, y = _categories()
    groups = lr.merged_codes(_CategoryNet(buckets=8), x, 2)
    assert sorted(groups) == [[0.0, 8.0], [1.0, 9.0], [2.0, 10.0], [3.0, 11.0]]
    assert lr.merged_codes(_CategoryNet(), x, 2) == []
    assert lr.merged_codes(_CategoryNet(buckets=8), x, 0) is None          # not whole numbers
    (f,) = lr.reread([_unseen_at_chance()], x, y, model=_CategoryNet(buckets=8))
    assert f.code == "uninformative_inputs" and 2 in f.evidence["related_columns"]
    assert f.evidence["merged_values"][2] == groups
    assert "cannot tell some of column 2's values apart" in f.message
    (plain,) = lr.reread([_unseen_at_chance()], x, y, model=_CategoryNet())
    assert "merged_values" not in plain.evidence and "cannot tell some" not in plain.message


def _token_rows(seed=7, length=48, vocab=50):
    """(N, length) token ids as floats: ids 1..vocab-1 at random, and half the rows (class 1) hold id 0
    once at a random position; the class is whether a row holds it anywhere, which no position alone
    shows (each position holds it in 1 / length of class 1's rows)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(1, vocab, (N, length), generator=g)
    y = torch.randint(0, 2, (N,), generator=g)
    where = torch.randint(0, length, (N,), generator=g)
    x[y == 1, where[y == 1]] = 0
    return x.float(), y


def test_value_counts_are_each_rows_bag_of_values():
    x = torch.tensor([[3.0, 1.0, 3.0], [1.0, 1.0, 7.0]])
    counts, values = lr.value_counts(x)
    assert values.tolist() == [1.0, 3.0, 7.0]
    assert counts.tolist() == [[1.0, 2.0, 0.0], [2.0, 0.0, 1.0]]
    assert lr.value_counts(torch.tensor([[0.5, 1.0], [2.0, 3.0]])) is None      # not whole numbers
    assert lr.value_counts(torch.tensor([[1.0], [2.0]])) is None                # one column: nothing joint


def test_value_counts_keep_the_commonest_values_when_there_are_more_than_max_columns(monkeypatch):
    monkeypatch.setattr(lr, "MAX_COLUMNS", 2)
    counts, values = lr.value_counts(torch.tensor([[5.0, 5.0, 9.0], [5.0, 9.0, 1.0], [9.0, 5.0, 2.0]]))
    assert values.tolist() == [5.0, 9.0] and counts.tolist() == [[2.0, 1.0], [1.0, 1.0], [1.0, 1.0]]


def test_tokens_that_relate_only_as_a_bag_make_the_label_problem_info():
    """A token model's labels: which ids a row holds, not which id sits where. No column alone relates,
    the count of id 0 per row does: the labels belong to their rows, the finding is info."""
    x, y = _token_rows()
    assert lr.column_relations(x, y)["related"].numel() == 0
    (f,) = lr.reread([_unseen_at_chance()], x, y)
    assert f.code == "label_problem" and f.severity == "info"
    assert f.evidence["bag"]["acc"] > 0.95 and f.evidence["bag"]["p"] < lr.ALPHA
    assert "no evidence of a label problem" in f.message


def test_tokens_with_labels_shuffled_apart_stay_a_label_problem_at_its_severity():
    x, y = _token_rows()
    shuffled = y[torch.randperm(N, generator=torch.Generator().manual_seed(3))]
    (f,) = lr.reread([_unseen_at_chance()], x, shuffled)
    assert f.code == "label_problem" and f.severity == "warning" and "bag" not in f.evidence


def test_independent_labels_pass_the_bag_reading_about_once_in_a_thousand_setups():
    g = torch.Generator().manual_seed(5)
    hits = 0
    for _ in range(200):
        x = torch.randint(0, 30, (600, 24), generator=g).float()
        y = torch.randint(0, 3, (600,), generator=g)
        hits += lr.bag_probe(x, y)["p"] < lr.ALPHA
    assert hits <= 2          # expected 200 x ALPHA = 0.2 (the binomial bound is conservative)


def test_the_bag_probe_is_naive_bayes_scored_across_halves():
    """Against an independent reference: scikit-learn's MultinomialNB (alpha 1) fitted on each half."""
    from sklearn.naive_bayes import MultinomialNB
    x, y = _token_rows(seed=9)
    x[:, :8] = torch.randint(0, 3, (N, 8), generator=torch.Generator().manual_seed(1)).float()
    counts, _ = lr.value_counts(x)
    half = (torch.arange(N) % 2 == 0).numpy()
    right = 0
    for fit in (half, ~half):
        nb = MultinomialNB(alpha=1.0).fit(counts.numpy()[fit], y.numpy()[fit])
        right += int((nb.predict(counts.numpy()[~fit]) == y.numpy()[~fit]).sum())
    probe = lr.bag_probe(x, y)
    assert probe["acc"] == pytest.approx(right / N, abs=2 / N)
