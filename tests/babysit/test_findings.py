import json

import pytest

from trainwell.babysit.findings import Diagnosis, Finding, make
from trainwell.babysit.registry import CODES, PHASES, SEVERITIES
from trainwell.errors import ConfigError

ISSUE_CODES = {
    "bad_initial_loss", "gradient_mismatch", "cannot_overfit_small_subset", "regularization_not_effective",
    "symmetric_init", "vanishing_activations", "exploding_activations", "saturated_units", "dead_units",
    "unnormalized_inputs", "nonfinite_data", "label_problem", "class_imbalance", "unshuffled_data",
    "loss_output_mismatch", "nonfinite_loss", "loss_exploding", "lr_too_high", "lr_too_low",
    "oscillating_loss", "plateau", "vanishing_gradients", "exploding_gradients", "update_ratio_high",
    "update_ratio_low", "overfitting", "underfitting",
}


def test_registry_covers_every_issue_code_with_a_source_and_threshold():
    assert ISSUE_CODES <= set(CODES)
    for code, spec in CODES.items():
        assert spec.code == code and spec.phase in PHASES, code
        assert spec.severity in SEVERITIES, code
        for key in ("measures", "threshold", "source", "fix"):
            assert isinstance(getattr(spec, key), str) and len(getattr(spec, key)) >= 3, (code, key)


def test_finding_validates_code_and_severity():
    with pytest.raises(ConfigError, match="unknown"):
        Finding("no_such_code", "error", "x")
    with pytest.raises(ConfigError, match="severity"):
        Finding("plateau", "fatal", "x")


def test_make_uses_registry_defaults():
    f = make("plateau", "stalled")
    assert f.severity == CODES["plateau"].severity and f.fix == CODES["plateau"].fix
    assert make("plateau", "x", severity="info", fix="do y").fix == "do y"


def test_diagnosis_ok_dedup_filter_and_json():
    d = Diagnosis([make("plateau", "a", where="fc1"), make("plateau", "again", where="fc1"),
                   make("plateau", "b", where="fc2"), make("nonfinite_loss", "nan", evidence={"loss": float("nan")})])
    assert len(d) == 3 and not d.ok and d.codes == ["plateau", "nonfinite_loss"]
    assert "nonfinite_loss" in d and "overfitting" not in d
    assert len(d.filter(code="plateau")) == 2 and len(d.filter(severity="error")) == 1
    assert len(d.filter(code={"plateau", "nonfinite_loss"}, where="fc2")) == 1
    data = json.loads(d.to_json())       # NaN evidence must still be valid JSON
    assert data["ok"] is False and data["findings"][2]["evidence"]["loss"] == "nan"
    text = d.format(evidence=True)
    assert text.splitlines()[0].startswith("ERROR") and "1 error, 2 warnings, 0 infos" in text
    assert Diagnosis().ok and str(Diagnosis()) == "no problems found"


def test_evidence_text_shortens_long_lists_of_numbers():
    # batch_dependence's depends_on: a list of row ids (ints) longer than six
    d = Diagnosis([make("batch_dependence", "rows", evidence={"depends_on": list(range(15)), "w": [0.5] * 8})])
    text = d.format(evidence=True)
    assert "depends_on=[0, 1, 2, 3, 4, 5, ...]" in text and "w=[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, ...]" in text


def test_primary_is_the_root_cause_not_its_symptom():
    """Exploding activations at init explain a NaN loss; unnormalized inputs explain an exploding
    loss; an unrelated warning does not outrank an error it cannot cause."""
    d = Diagnosis([make("nonfinite_loss", "nan"), make("exploding_activations", "big", evidence={"step": 0}),
                   make("class_imbalance", "10:1")])
    assert [f.code for f in d.ranked()] == ["exploding_activations", "class_imbalance", "nonfinite_loss"]
    assert Diagnosis([make("loss_exploding", "x"), make("unnormalized_inputs", "y")]).primary.code == "unnormalized_inputs"
    assert Diagnosis([make("gradient_mismatch", "x"), make("class_imbalance", "y")]).primary.code == "gradient_mismatch"
    assert Diagnosis([make("plateau", "i", severity="info")]).primary is None


def test_units_that_die_during_training_are_a_symptom_of_large_updates():
    at_init = make("dead_units", "dead", evidence={"step": 0})
    in_training = make("dead_units", "dead", evidence={"step": 120})
    assert not at_init.in_training and in_training.in_training
    assert Diagnosis([in_training, make("update_ratio_high", "big")]).primary.code == "update_ratio_high"
    assert Diagnosis([at_init, make("update_ratio_high", "big")]).primary.code == "dead_units"


def test_a_finding_that_names_its_setting_outranks_the_symptoms_it_leaves():
    """Units that die under a weight decay of 1 and the stalled loss follow from the decay that
    the underfitting finding names."""
    decayed = make("underfitting", "decay", evidence={"cause": "weight_decay"})
    symptoms = [make("dead_units", "dead", evidence={"step": 80}), make("plateau", "flat")]
    assert Diagnosis([*symptoms, decayed]).primary is decayed
    assert Diagnosis([*symptoms, make("underfitting", "plain")]).primary.code == "dead_units"
    assert Diagnosis([make("nonfinite_loss", "nan"), decayed]).primary.code == "nonfinite_loss"   # errors first


def test_units_dead_at_init_explain_a_stuck_loss_not_a_diverging_one():
    dead = make("dead_units", "dead", evidence={"step": 1})
    assert Diagnosis([make("nonfinite_loss", "nan"), dead]).primary.code == "nonfinite_loss"
    assert Diagnosis([make("vanishing_gradients", "flat"), dead]).primary is dead
    assert Diagnosis([make("nonfinite_loss", "nan"), make("exploding_activations", "big")]).primary.code \
        == "exploding_activations"


def test_huge_outputs_at_init_explain_a_diverging_loss():
    """A regression net whose last layer is 30x too large starts at a huge loss and then explodes."""
    d = Diagnosis([make("loss_exploding", "x"), make("bad_initial_loss", "900x", evidence={"ratio": 900.0})])
    assert d.primary.code == "bad_initial_loss"


def test_a_bouncing_loss_reads_as_oscillating_before_rising():
    d = Diagnosis([make("lr_too_high", "rising"), make("oscillating_loss", "bouncing")])
    assert d.primary.code == "oscillating_loss"


def test_activations_that_grow_one_way_explain_rank_one_class_scores():
    """An all-positive init (every parameter U[0, 1)) blows the activations up along one direction,
    and the class scores follow it (rank 1): the init's symptom is the root cause, read first, as
    is saturation; a narrow layer with healthy units leaves low_rank_logits first."""
    low_rank = make("low_rank_logits", "rank 1 of 9", evidence={"score_rank": 1})
    exploding = make("exploding_activations", "std 88", evidence={"harm": {"hurts": True}})
    assert Diagnosis([low_rank, exploding]).primary is exploding
    assert Diagnosis([low_rank, make("saturated_units", "95%")]).primary.code == "saturated_units"
    assert Diagnosis([low_rank, make("class_imbalance", "10:1")]).primary is low_rank


def test_a_numeric_rank_in_the_evidence_is_not_an_experiment_rank():
    """``evidence["rank"]`` is the experiment's order of the causes it confirmed (Diagnosis.ranked
    reads it); the scores' numeric rank is kept under another key, so it does not move a finding."""
    from trainwell.babysit.loss_checks import check_logit_rank
    import torch
    out = torch.arange(4.0).reshape(4, 1) * torch.tensor([[1.0, -2.0, 3.0]])   # rank 1 scores, 3 classes
    found = check_logit_rank(out, "cross_entropy")
    assert [f.code for f in found] == ["low_rank_logits"] and "rank" not in found[0].evidence


def test_a_confirmed_setting_does_not_outrank_a_fault_of_an_evaluated_split():
    """An lr the experiment confirmed on held training rows ranks behind a shift of the validation
    split's inputs of its severity; it still ranks before findings that name no cause and before a
    split finding of a lower severity, and findings that name no cause keep the registry's order."""
    lr = make("lr_too_low", "lr x10 trains better", evidence={"cause": "lr 0.02", "rank": 1})
    val = make("split_mismatch", "validation inputs shifted", where="validation")
    test = make("split_mismatch", "test inputs shifted", where="test")
    under = make("underfitting", "the loss stays high")
    assert [(f.code, f.where) for f in Diagnosis([lr, under, val, test]).ranked()] == [
        ("split_mismatch", "validation"), ("split_mismatch", "test"), ("lr_too_low", None), ("underfitting", None)]
    info = make("split_mismatch", "class shares differ", where="validation", severity="info")
    assert [f.code for f in Diagnosis([info, lr]).ranked()] == ["lr_too_low", "split_mismatch"]
    labels = make("label_problem", "labels look shuffled")
    assert [f.code for f in Diagnosis([val, labels]).ranked()] == ["label_problem", "split_mismatch"]
    error = make("loss_output_mismatch", "bounded output", evidence={"cause": "clamp"}, severity="error")
    assert [f.code for f in Diagnosis([val, error]).ranked()] == ["loss_output_mismatch", "split_mismatch"]
    recoded = make("split_mismatch", "validation labels coded otherwise", where="validation labels")
    assert [(f.code, f.where) for f in Diagnosis([lr, recoded]).ranked()] == [
        ("split_mismatch", "validation labels"), ("lr_too_low", None)]     # a place on the split counts too
    from trainwell.babysit.findings import on_evaluated_split
    assert not on_evaluated_split(make("dead_units", "x", where="validation_head"))   # a layer named like one
    assert not on_evaluated_split(make("dead_units", "x"))
