"""The order of ``Diagnosis.ranked``: a structural cause (the data, the labels, the model's wiring) before
the generic learnability symptoms it leaves (a subset it cannot overfit, an initial loss off ln C, an lr
an experiment confirmed), the symptom first where nothing explains it, and a group named in ``explains``
standing for its symptoms, not for the settings that slow learning (``registry.group_causes``)."""
import pytest

from trainwell.babysit.findings import Diagnosis, make
from trainwell.babysit.registry import CAUSES, Group, group_causes, members

CONFIRMED_LR = {"cause": "lr 0.02 instead of 0.002", "rank": 1}     # an intervention's lr arm that helped


def _order(*findings):
    return [f.code for f in Diagnosis(findings).ranked()]


@pytest.mark.parametrize("cause, symptoms", [
    # the user-set broken setups whose doctor found both (sets 4, 5, 6, 8, 10, 11, 16, 19, 20)
    ("partly_used_module", ["cannot_overfit_small_subset"]),          # an LSTM read at its first step
    ("unregistered_modules", ["cannot_overfit_small_subset", "lr_too_low"]),   # layers in a Python list
    ("uninformative_inputs", ["cannot_overfit_small_subset", "exploding_activations"]),  # inputs cast to int
    ("loss_output_mismatch", ["lr_too_low"]),                          # a cross-entropy averaged over classes
    ("pooled_units", ["lr_too_low"]),                                  # pooled over the channel axis
    ("gradient_mismatch", ["cannot_overfit_small_subset"]),            # an LSTMCell detached each step
    ("label_problem", ["bad_initial_loss"]),
])
def test_a_structural_cause_ranks_before_the_generic_symptoms_it_leaves(cause, symptoms):
    """Notes 004's order: check the data and the model before the optimizer. The symptom is found too
    (an error beside a warning cause, an lr the experiment confirmed with its rank) and still comes
    after the finding that explains it, in either order of discovery."""
    found = [make(s, "symptom", evidence=CONFIRMED_LR if s == "lr_too_low" else None) for s in symptoms]
    for findings in ([*found, make(cause, "cause")], [make(cause, "cause"), *found]):
        assert _order(*findings)[0] == cause


def test_a_split_that_trains_on_too_few_rows_ranks_before_the_overfitting_it_leaves():
    size = make("split_mismatch", "45 training rows, 480 validation rows", where="validation size")
    few = make("overfitting", "45 rows are too few", where="training size")
    assert _order(few, size) == ["split_mismatch", "overfitting"]


@pytest.mark.parametrize("symptom, evidence", [
    ("cannot_overfit_small_subset", None), ("bad_initial_loss", None), ("lr_too_low", CONFIRMED_LR)])
def test_a_symptom_with_no_structural_finding_ranks_first(symptom, evidence):
    """Where no finding explains it (a plain lr too low, an output layer too large at init), the symptom
    is the diagnosis: a warning found beside it that explains none of it (class shares) does not move
    ahead of it."""
    alone = make(symptom, "symptom", evidence=evidence)
    assert Diagnosis([alone]).primary is alone
    assert "class_imbalance" not in CAUSES.get(symptom, ())
    assert _order(make("class_imbalance", "10:1"), alone) == [symptom, "class_imbalance"]


def test_slow_learning_names_its_symptoms_not_the_settings_that_slow_it():
    """``Group.SLOW`` holds the slow run's symptoms (lr_too_low, update_ratio_low, plateau, underfitting)
    and the settings that cause them (a late warmup, an early decay, too few updates, a stop too soon, batch
    norm over tiny batches, a callback that puts the weights back): a code that explains slow learning explains
    the symptoms only, so a low-rank score or vanishing gradients does not rank a callback that resets the
    weights (an error) or a late warmup behind itself."""
    assert group_causes(Group.SLOW) == {"schedule_starts_late", "schedule_decays_early", "too_few_updates",
                                        "stops_too_soon", "batch_norm_small_batch", "parameters_reset"}
    assert not group_causes(Group.DATA) and not group_causes(Group.INIT) and not group_causes(Group.OPTIMIZATION)
    for setting in group_causes(Group.SLOW):
        assert "low_rank_logits" not in CAUSES.get(setting, ()) and "vanishing_gradients" not in CAUSES.get(setting, ())
    assert _order(make("low_rank_logits", "rank 1"), make("parameters_reset", "hook"))[0] == "parameters_reset"
    assert _order(make("vanishing_gradients", "flat"), make("schedule_starts_late", "warmup"))[0] == \
        "schedule_starts_late"
    assert _order(make("vanishing_gradients", "flat"), make("schedule_decays_early", "decay"))[0] == \
        "schedule_decays_early"
    # the group still reaches its symptoms, and a record that names a setting directly still explains it
    for symptom in set(members(Group.SLOW)) - group_causes(Group.SLOW):
        assert "partly_used_module" in CAUSES[symptom] and "low_rank_logits" in CAUSES[symptom], symptom
    assert "parameters_reset" in CAUSES["stops_too_soon"]
