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
    found = trainwell.doctor(TokenBag(), (X[:400], y[:400]), val=(X[400:500], y[400:500]), device="cpu",
                             wall_s=None)
    unnormalized = [f for f in found if f.code == "unnormalized_inputs"]
    assert [f.severity for f in unnormalized] == ["info"]
    assert "IndexError" in unnormalized[0].evidence["fix_refused"]["standardize inputs"]
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


class ClampedTokenBag(TokenBag):
    """The ids clamped into the vocabulary after the cast (a clamp added after an IndexError): standardized
    inputs no longer raise, they become other ids."""

    def forward(self, x):
        return self.head(self.embed(x.long().clamp(0, VOCAB - 1)).mean(dim=1))


def test_reads_as_ids_is_true_only_where_no_gradient_reaches_the_inputs():
    from trainwell.babysit.model_checks import reads_as_ids
    X, _ = tokens(64)
    assert reads_as_ids(ClampedTokenBag(), X) and reads_as_ids(TokenBag(), X)
    mlp = nn.Sequential(nn.Linear(LENGTH, 8), nn.ReLU(), nn.Linear(8, 2))
    assert not reads_as_ids(mlp, X)
    mlp.requires_grad_(False)                    # frozen weights still compute with the inputs' values
    assert not reads_as_ids(mlp, X)
    assert not reads_as_ids(TokenBag(), X + 100.0)       # the forward raises: raises_on's to say
    model = ClampedTokenBag().train()
    reads_as_ids(model, X)
    assert model.training                                # the mode is restored


def test_ids_clamped_after_the_cast_are_not_standardized_by_the_doctor_or_the_repairer():
    X, y = tokens()
    torch.manual_seed(0)
    found = trainwell.doctor(ClampedTokenBag(), (X[:400], y[:400]), val=(X[400:500], y[400:500]), device="cpu",
                             wall_s=None)
    unnormalized = [f for f in found if f.code == "unnormalized_inputs"]
    assert unnormalized and all(f.severity == "info" for f in unnormalized)
    assert "no gradient reaches" in unnormalized[0].evidence["fix_refused"]["standardize inputs"]
    torch.manual_seed(0)
    run = trainwell.fit(ClampedTokenBag(), (X[:400], y[:400]), val=(X[400:500], y[400:500]), test=(X[500:], y[500:]),
                        epochs=10, babysit="repair", device="cpu", progress=False, report=False)
    assert "standardize" not in {r["action"] for r in run.repairs}
    assert run.results["test"]["acc"] > 0.8
