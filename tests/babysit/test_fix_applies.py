"""A fix the model cannot take: token ids passed as numbers that the model casts to an embedding's
indices. Standardizing them makes the forward raise, so the doctor's ``unnormalized_inputs`` is
``info`` that says so, the experiment leaves the arm out instead of raising, and a repaired run
trains the model as it is."""
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.babysit import interventions as iv
from trainwell.babysit.findings import make
from trainwell.babysit.model_checks import raises_on

VOCAB, LENGTH = 12, 10


class TokenBag(nn.Module):
    """Mean of the tokens' embeddings: the ids arrive as floats (trainwell's inputs) and are cast."""

    def __init__(self):
        super().__init__()
        self.embed, self.head = nn.Embedding(VOCAB, 16), nn.Linear(16, 2)

    def forward(self, x):
        return self.head(self.embed(x.long()).mean(dim=1))


def tokens(rows=600, seed=0):
    """Sequences of ids 0..11; class 1 when token 3 occurs more often than token 7."""
    X = torch.randint(0, VOCAB, (rows, LENGTH), generator=torch.Generator().manual_seed(seed))
    return X.float(), ((X == 3).sum(dim=1) > (X == 7).sum(dim=1)).long()


def test_raises_on_names_the_error_and_restores_the_mode():
    model = TokenBag().train()
    X, _ = tokens(8)
    assert raises_on(model, X) is None
    said = raises_on(model, X - 20.0)
    assert said.startswith("IndexError") and model.training


def test_the_doctor_says_the_standardizing_fix_does_not_apply():
    X, y = tokens()
    torch.manual_seed(0)
    found = trainwell.doctor(TokenBag(), (X[:400], y[:400]), val=(X[400:500], y[400:500]), device="cpu")
    unnormalized = [f for f in found if f.code == "unnormalized_inputs"]
    assert [f.severity for f in unnormalized] == ["info"]
    assert "IndexError" in unnormalized[0].evidence["fix_raises"]["standardize inputs"]
    assert "model_raises" not in {f.code for f in found}


def test_a_repaired_run_trains_the_model_as_it_is():
    X, y = tokens()
    torch.manual_seed(0)
    run = trainwell.fit(TokenBag(), (X[:400], y[:400]), val=(X[400:500], y[400:500]), test=(X[500:], y[500:]),
                        epochs=10, babysit="repair", device="cpu", progress=False, report=False)
    assert run.stopped.kind.value == "finished" and run.repairs == []
    assert run.results["test"]["acc"] > 0.8


def test_an_arm_whose_change_makes_the_model_raise_is_left_out_and_its_symptom_is_info():
    X, y = tokens()
    torch.manual_seed(0)
    baseline, arms = iv.experiment(TokenBag(), X, y, F.cross_entropy, optimizer="adam", lr=1e-3, steps=20,
                                   symptoms=["unnormalized_inputs"], settings=False, repeat=True)
    assert "standardize inputs" not in {a.name for a in arms}
    assert baseline.extra["raised"]["standardize inputs"].startswith("IndexError")
    symptom = make("unnormalized_inputs", "the inputs are not normalized")
    graded = iv.grade([symptom], baseline, arms)
    assert graded[0].severity == "info" and "does not apply" in graded[0].message
