"""vanishing_gradients reads how fast each layer learns: a lookup table (nn.Embedding,
nn.EmbeddingBag) on the rows its batch read, and a small gradient an adaptive optimizer rescales
into a normal step is no vanishing. A deep sigmoid net under SGD still vanishes."""
import pytest
import torch
from torch import nn

from babysit_loop import digits, mlp, train
from trainwell.babysit import rules as R
from trainwell.babysit.monitor import Monitor
from trainwell.babysit.probes import lookup_tables, touched_row_norms

CTX = {"initial_loss": 1.4, "steps_per_epoch": 20, "max_lr": 2e-3, "final": False}
VOCAB, LENGTH, CLASSES = 5000, 20, 4


def tickets(n: int, *, seed: int):
    """n documents of LENGTH word ids drawn by Zipf's law from VOCAB words, the class told by three
    cue words of its own (ids 50 + 10 x class ...), put first."""
    g = torch.Generator().manual_seed(seed)
    p = 1.0 / torch.arange(1, VOCAB + 1).float()
    ids = torch.multinomial(p / p.sum(), n * LENGTH, replacement=True, generator=g).view(n, LENGTH)
    y = torch.randint(0, CLASSES, (n,), generator=g)
    for k in range(3):
        ids[:, k] = 50 + 10 * y + torch.randint(0, 10, (n,), generator=g)
    return ids, y


class MeanPooled(nn.Module):
    """Word embeddings (PyTorch's N(0, 1) init), the mean over the words, an MLP."""

    def __init__(self, *, bag: bool):
        super().__init__()
        torch.manual_seed(0)
        self.emb = nn.EmbeddingBag(VOCAB, 32, mode="mean") if bag else nn.Embedding(VOCAB, 32)
        self.bag = bag
        self.head = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, CLASSES))

    def forward(self, x):
        return self.head(self.emb(x) if self.bag else self.emb(x).mean(1))


X, Y = tickets(2400, seed=0)
XV, YV = tickets(600, seed=1)


def whole_table_reading(samples) -> float:
    """The smallest / largest relative gradient ||g|| / ||w|| read on whole weights, as the rule did
    before it read a lookup table's rows and the update ratios."""
    grads, weights = R._median_by_layer(samples, "grad_norm"), R._median_by_layer(samples, "weight_norm")
    rel = [grads[n] / weights[n] for n in grads]
    return min(rel) / max(rel)


@pytest.mark.parametrize("bag, optimizer", [
    (False, lambda p: torch.optim.Adam(p, lr=2e-3)),
    (True, lambda p: torch.optim.Adam(p, lr=2e-3)),
    (False, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9))])
def test_a_healthy_mean_pooled_embedding_classifier_gets_no_vanishing_gradients(bag, optimizer):
    """Its table's gradient reaches the ~300 rows a batch reads of 5000, each divided by the 20
    words pooled: read on the whole table it is under 1e-3 of the head's (the old false alarm, sets
    25 and 26's tickets and logs); on the rows read, and with Adam's rescaled steps, it learns."""
    m = Monitor(every=5)
    state = train(MeanPooled(bag=bag), X, Y, val=(XV, YV), epochs=3, callbacks=[m], optimizer=optimizer)
    assert state.history[-1]["val_acc"] > 0.75
    early = m.samples[:8]
    assert whole_table_reading(early) < R.VANISH                # what fired before
    assert R.vanishing_gradients(early, [], {"initial_loss": m.initial_loss}) == []
    assert "vanishing_gradients" not in {f.code for f in m.findings}, [str(f) for f in m.findings]


def test_a_deep_sigmoid_net_still_gets_vanishing_gradients():
    x, y, xv, yv = digits()
    m = Monitor(every=5)
    train(mlp((64,) + (64,) * 8 + (10,), act=nn.Sigmoid), x, y, val=(xv, yv), epochs=1, callbacks=[m], lr=0.1)
    f = [f for f in m.findings if f.code == "vanishing_gradients"]
    assert f and f[0].where == "0" and f[0].evidence["update_ratio"]["0.weight"] is not None


def test_the_rows_a_batch_read_are_the_tables_measure():
    """SGD (updates lr x the gradient): whole, the table's 1e-3 gradient on a weight of 100 is 1e-4
    of the head's relative gradient; on the rows the batches read (norm 5) it is 2e-3, and so is its
    update ratio read there: not vanishing."""
    def sample(i, touched):
        s = {"step": i, "epoch": 0, "loss": 1.3, "lr": 0.1, "weight_decay": 0.0, "batch_finite": True,
             "grad_norm": {"emb.weight": 1e-3, "head.weight": 0.1},
             "weight_norm": {"emb.weight": 100.0, "head.weight": 1.0},
             "update_ratio": {"emb.weight": 1e-6, "head.weight": 1e-2}}
        return dict(s, touched_weight_norm={"emb.weight": 5.0}) if touched else s
    assert R.vanishing_gradients([sample(i, False) for i in range(6)], [], CTX)[0].where == "emb"
    assert R.vanishing_gradients([sample(i, True) for i in range(6)], [], CTX) == []


def test_a_small_gradient_that_still_moves_its_weights_is_not_vanishing():
    """Adam divides each gradient by its own running scale: a 1e-6 relative gradient whose weights
    move like the head's learns. The same gradient moved by SGD (lr x it) barely does."""
    def sample(i, first_layer_update):
        return {"step": i, "epoch": 0, "loss": 1.3, "lr": 1e-3, "weight_decay": 0.0, "batch_finite": True,
                "grad_norm": {"0.weight": 1e-6, "2.weight": 1.0}, "weight_norm": {"0.weight": 1.0, "2.weight": 1.0},
                "update_ratio": {"0.weight": first_layer_update, "2.weight": 1e-3}}
    assert R.vanishing_gradients([sample(i, 1e-3) for i in range(6)], [], CTX) == []
    found = R.vanishing_gradients([sample(i, 1e-9) for i in range(6)], [], CTX)
    assert found[0].where == "0" and found[0].evidence["update_ratio"] == {"0.weight": 1e-9, "2.weight": 1e-3}


def test_touched_row_norms_reads_the_rows_with_a_gradient_dense_or_sparse():
    for sparse in (False, True):
        emb = nn.Embedding(10, 3, sparse=sparse)
        with torch.no_grad():
            emb.weight.copy_(torch.arange(10.0).unsqueeze(1).expand(10, 3))
        emb(torch.tensor([[2, 4, 4]])).sum().backward()
        want = torch.tensor(3 * (2.0 ** 2 + 4.0 ** 2)).sqrt()
        assert torch.allclose(touched_row_norms([emb.weight]), want.reshape(1))
    model = MeanPooled(bag=True)
    params = [p for p in model.parameters() if p.ndim >= 2]
    assert lookup_tables(model, params) == [0]
    assert touched_row_norms([nn.Linear(2, 2).weight]).tolist() == [0.0]     # no gradient yet
