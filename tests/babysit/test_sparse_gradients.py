"""An embedding built with ``sparse=True``: fit's first step refuses an optimizer that cannot take
sparse gradients, the pre-flight refuses it the same way and the doctor names the raise (a
``model_raises`` finding, set 23's ``stores_sparse_embedding_adam``); with one that can (SGD), they
check the model instead of failing inside their own gradient reads and Adam references."""
import pytest
import torch
from torch import nn

import trainwell
from trainwell.babysit.preflight import preflight
from trainwell.babysit.probe_steps import refuses_sparse
from trainwell.errors import ConfigError


class IdsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 4, sparse=True)
        self.head = nn.Sequential(nn.Linear(4 + 3, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        return self.head(torch.cat([self.emb(x[:, 0].long()), x[:, 1:]], 1))


@pytest.fixture(scope="module")
def ids():
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, 20, (400,), generator=g)
    X = torch.cat([codes[:, None].float(), torch.randn(400, 3, generator=g)], 1)
    return X, codes % 3


def test_an_optimizer_that_takes_sparse_gradients_is_checked_not_crashed(ids):
    X, y = ids
    torch.manual_seed(0)
    model = IdsNet()
    diagnosis = trainwell.doctor(model, (X[:300], y[:300]), (X[300:], y[300:]), optimizer="sgd", lr=0.1,
                                 epochs=1, budget_s=3, device="cpu")
    assert not any(f.code == "model_raises" for f in diagnosis.findings)
    assert model.emb.sparse                                        # the caller's model is untouched
    assert not any(f.code == "model_raises" for f in preflight(model, X, y, optimizer="sgd", lr=0.1, budget_s=3))


@pytest.mark.parametrize("optimizer, message", [
    ("adam", "optimizer 'adam' does not support sparse gradients; use torch.optim.SparseAdam"),   # fit's own
    (torch.optim.RMSprop, "cannot step on the sparse gradients of an embedding built with sparse=True")])
def test_one_that_cannot_is_refused_as_fit_refuses_it_and_the_doctor_names_the_raise(ids, optimizer, message):
    X, y = ids
    diagnosis = trainwell.doctor(IdsNet(), (X[:300], y[:300]), (X[300:], y[300:]), optimizer=optimizer, lr=1e-3,
                                 epochs=1, budget_s=3, device="cpu")
    assert [f.code for f in diagnosis.findings] == ["model_raises"]
    found = diagnosis.primary
    assert message in found.message and found.severity == "error"
    assert found.evidence["stage"] == "step" and found.evidence["sparse_modules"] == ["emb"]
    assert "sparse=False" in found.fix and found.where == "emb"
    with pytest.raises(ConfigError, match=message):
        preflight(IdsNet(), X, y, optimizer=optimizer, lr=1e-3, budget_s=3)


def test_fit_refuses_adam_on_sparse_gradients_with_the_message_the_doctor_gives(ids):
    X, y = ids
    with pytest.raises(ConfigError, match="optimizer 'adam' does not support sparse gradients"):
        trainwell.fit(IdsNet(), (X[:300], y[:300]), (X[300:], y[300:]), optimizer="adam", lr=1e-3, epochs=1,
                      device="cpu", progress=False)


def test_a_loss_that_raises_beside_a_sparse_embedding_is_named_not_raised(ids):
    """The trial step meets the user's loss failing (a ValueError, not a sparse refusal): the
    pre-flight goes on and names the loss as it does for a dense embedding, it does not crash."""
    X, y = ids

    def shifted(out, t):
        return nn.functional.cross_entropy(out, t[:-1])

    found = [f.code for f in preflight(IdsNet(), X, y, loss=shifted, optimizer="sgd", lr=0.1, budget_s=3)]
    assert "loss_output_mismatch" in found


@pytest.mark.parametrize("exc, refuses", [
    (RuntimeError("RMSprop does not support sparse gradients"), True),                   # PyTorch's refusal
    (ConfigError("optimizer 'adam' does not support sparse gradients; use torch.optim.SparseAdam"), True),
    (RuntimeError("mat1 and mat2 shapes cannot be multiplied (8x4 and 7x16)"), False),   # the model failing
    (ValueError("a sparse loss of the user's own"), False)])                           # not an optimizer's type
def test_only_an_optimizers_refusal_of_sparse_gradients_reads_as_one(exc, refuses):
    assert refuses_sparse(exc) is refuses
