"""unread_ids.py: an id that stands between other ids in the rows while the model never learns from it
(a vocabulary numbered from 0 under a padding mask ``ids != 0`` or ``padding_idx=0``)."""
import torch
from torch import nn

from trainwell.babysit.unread_ids import check_unread_ids, content_rows, unlearned_content

WORDS, STEPS = 12, 12


def tickets(n=1200, seed=0, *, first=0, pad=0, length=STEPS, left=False):
    """Rows of 5-10 word ids ``first`` .. ``first + WORDS - 1`` padded with ``pad`` at the end (``left``: at
    the start); class 1 holds word ``first`` (put in the middle of the row), class 0 does not."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.full((n, length), float(pad))
    for i in range(n):
        k = int(torch.randint(5, 11, (1,), generator=g))
        words = first + 1 + torch.randint(0, WORDS - 1, (k,), generator=g)
        if y[i] == 1:
            words[int(torch.randint(1, k - 1, (1,), generator=g))] = first
        x[i, :k] = words.float()
    return (x.flip(1) if left else x), y


class MaskedMean(nn.Module):
    """Word embeddings, the mean over the steps whose id is not ``pad``, linear."""

    def __init__(self, words=WORDS + 1, pad=0):
        super().__init__()
        torch.manual_seed(0)
        self.emb, self.head, self.pad = nn.Embedding(words, 8), nn.Linear(8, 2), pad

    def forward(self, x):
        ids = x.long()
        keep = (ids != self.pad).unsqueeze(-1).float()
        return self.head((self.emb(ids) * keep).sum(1) / keep.sum(1).clamp(min=1.0))


class PaddedMean(nn.Module):
    """Word embeddings with ``padding_idx``, the mean over every step, linear."""

    def __init__(self, words=WORDS + 1, padding_idx=0):
        super().__init__()
        torch.manual_seed(0)
        self.emb, self.head = nn.Embedding(words, 8, padding_idx=padding_idx), nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.emb(x.long()).mean(1))


def test_content_is_an_id_between_others_and_padding_a_run_at_an_end():
    ids = torch.tensor([[3, 0, 4, 0, 0], [0, 0, 5, 3, 3], [7, 7, 7, 7, 7]])
    assert content_rows(ids) == {0: 1, 4: 1, 5: 1}   # 0 between 3 and 4; the runs at either end are not content


def test_a_vocabulary_from_zero_under_a_mask_ids_not_zero_is_found_and_named():
    x, y = tickets(first=0, pad=0)               # word 0 is the padding's id
    found = check_unread_ids(MaskedMean(), x, y, class_ids=True)
    assert len(found) == 1 and found[0].code == "uninformative_inputs" and found[0].severity == "warning"
    e = found[0].evidence
    assert e["id"] == 0 and e["embedding"] == "emb" and not e["padding_idx"] and e["share"] > 0.3
    assert "number the vocabulary from 1" in found[0].fix and "masks the id out" in found[0].message


def test_padding_idx_on_a_real_word_is_found_though_the_data_pads_with_another_id():
    x, y = tickets(first=0, pad=WORDS)           # word 0 real, padding WORDS: the table's row 0 never trains
    found = check_unread_ids(PaddedMean(words=WORDS + 1, padding_idx=0), x, y, class_ids=True)
    assert len(found) == 1 and found[0].evidence["padding_idx"] and found[0].evidence["id"] == 0
    assert found[0].severity == "warning" and "padding_idx" in found[0].message


def test_the_same_models_on_a_vocabulary_from_one_with_zero_only_padding_are_quiet():
    for left in (False, True):                   # padded at the end or at the start
        x, y = tickets(first=1, pad=0, left=left)
        assert check_unread_ids(MaskedMean(), x, y, class_ids=True) == []
        assert check_unread_ids(PaddedMean(), x, y, class_ids=True) == []


def test_a_masked_word_the_targets_do_not_depend_on_is_info():
    x, _ = tickets(first=0, pad=0)
    y = torch.randint(0, 2, (x.shape[0],), generator=torch.Generator().manual_seed(5))
    found = check_unread_ids(MaskedMean(), x, y, class_ids=True)
    assert len(found) == 1 and found[0].severity == "info"


def test_ids_the_model_reads_and_tables_of_one_id_a_row_are_quiet():
    x, y = tickets(first=0, pad=0)
    assert check_unread_ids(PaddedMean(padding_idx=None), x, y, class_ids=True) == []    # no mask: row 0 trains
    codes = torch.randint(0, 5, (1200, 1)).float()                                       # one id a row: no steps
    assert unlearned_content(MaskedMean(words=5), codes) == []
    assert check_unread_ids(nn.Sequential(nn.Linear(STEPS, 2)), x, y, class_ids=True) == []   # no embedding


class ReadsFirst(MaskedMean):
    """A path cut after the embedding (its vectors times 0): no word's row is read, none singled out."""

    def forward(self, x):
        return self.head(self.emb(x.long()).mean(1) * 0)


def test_an_embedding_none_of_whose_content_ids_is_read_is_left_to_the_cut_path_checks():
    x, y = tickets(first=0, pad=0)
    assert check_unread_ids(ReadsFirst(), x, y, class_ids=True) == []


def test_the_cost_is_one_backward_then_one_more_and_two_forwards_where_a_content_row_gets_no_gradient():
    x, y = tickets(first=0, pad=0)
    model = MaskedMean()
    calls = {"n": 0}
    model.register_forward_pre_hook(lambda m, a: calls.__setitem__("n", calls["n"] + 1))
    # deepcopy keeps the hook: every forward of the copies counts
    check_unread_ids(model, x, y, class_ids=True)
    assert calls["n"] == 2 + 1 + 1         # the ids and gradients, again nudged, the output, one redrawn row
    calls["n"] = 0
    check_unread_ids(model, *tickets(first=1, pad=0), class_ids=True)
    assert calls["n"] == 1                 # every content id's row has a gradient: one forward and backward
