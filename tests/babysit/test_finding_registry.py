"""The finding registry: one complete record per code, the tables derived from it, the docs page
that describes every record, and the repair actions the planners choose from."""
import importlib
import numbers
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from trainwell.babysit import plans, rules
from trainwell.babysit.actions import ACTIONS, Plan, Rollback, make_plan
from trainwell.babysit.findings import make
from trainwell.babysit.registry import (CAUSES, CODES, PHASES, PRIORITY, SEVERITIES, TRAINING_SYMPTOMS, Group,
                                        Runs, members)

DOCS = (Path(__file__).parents[2] / "docs" / "babysitter.md").read_text()


def _constant(name):
    module, attr = name.split(".")
    return getattr(importlib.import_module(f"trainwell.babysit.{module}"), attr)


@pytest.mark.parametrize("code", list(CODES))
def test_every_record_is_complete_and_consistent(code):
    spec = CODES[code]
    assert spec.code == code and spec.phase in PHASES and spec.severity in SEVERITIES
    assert (spec.runs is not None) == (spec.phase == "training")          # in-training codes have a rule
    assert spec.plan is None or spec.plan.__module__ == plans.__name__
    assert all(isinstance(g, Group) for g in spec.groups)
    for name in spec.explains + spec.explains_in_training:
        assert isinstance(name, Group) or name in CODES, name
    assert spec.settle_epochs >= 0 and (not spec.settle_epochs or spec.plan is not None)
    assert not spec.stops_unrepaired or spec.plan is not None            # it can only fail to repair with a planner


@pytest.mark.parametrize("code", [c for c, s in CODES.items() if s.thresholds])
def test_named_thresholds_exist_where_the_record_says(code):
    for name in CODES[code].thresholds:
        assert re.fullmatch(r"[a-z_]+\.[A-Z_]+", name), name
        assert isinstance(_constant(name), numbers.Real), name


def test_the_two_meanings_of_fatal_keep_their_sets():
    """The monitor stops the run only on a NaN loss; the repairer stops on the errors it cannot
    repair that make training meaningless (or crash in the loss)."""
    assert {c for c, s in CODES.items() if s.stops_run} == {"nonfinite_loss"}
    assert {c for c, s in CODES.items() if s.stops_unrepaired} == {
        "nonfinite_data", "label_problem", "loss_output_mismatch", "nonfinite_loss", "loss_exploding",
        "uninformative_inputs", "model_raises"}
    assert {c for c, s in CODES.items() if s.unhealthy} == {
        "nonfinite_loss", "loss_exploding", "lr_too_high", "exploding_gradients", "exploding_activations", "dead_units"}


def test_priority_is_the_registry_order_and_groups_expand_to_their_members():
    assert PRIORITY == tuple(CODES) and len(set(PRIORITY)) == len(CODES)
    assert members(Group.DIVERGED) == ("nonfinite_loss", "loss_exploding", "exploding_gradients",
                                        "oscillating_loss", "lr_too_high", "update_ratio_high")
    assert set(members(Group.UNIT_STATISTICS)) == set(members(Group.INIT)) - {"symmetric_init"}
    assert set(members(Group.OPTIMIZATION)) == {c for c, s in CODES.items() if s.phase == "training"} - {"overfitting"}


def test_causes_are_derived_from_what_each_record_explains():
    for symptom, causes in CAUSES.items():
        assert symptom not in causes
        for cause in causes:
            named = {n for n in CODES[cause].explains if isinstance(n, str)}
            groups = [g for g in CODES[cause].explains if isinstance(g, Group)]
            assert symptom in named or any(symptom in members(g) for g in groups), (cause, symptom)
    # a data fault explains every symptom of the optimization; an init fault no divergence
    for code in members(Group.OPTIMIZATION):
        assert "nonfinite_data" in CAUSES[code]
    assert "dead_units" not in CAUSES["loss_exploding"] and "exploding_activations" in CAUSES["loss_exploding"]
    assert set(TRAINING_SYMPTOMS) == set(members(Group.UNIT_STATISTICS))
    assert all(set(v) == set(members(Group.DIVERGED)) | {"vanishing_gradients"} for v in TRAINING_SYMPTOMS.values())


def test_the_ranking_reads_what_the_records_explain():
    """The ranking reads the records: class_imbalance explains nothing, so an unrelated warning
    does not outrank the error it cannot cause."""
    from trainwell.babysit.findings import Diagnosis
    assert Diagnosis([make("plateau", "flat"), make("unshuffled_data", "runs")]).primary.code == "unshuffled_data"
    assert Diagnosis([make("plateau", "flat"), make("class_imbalance", "10:1")]).primary.code == "class_imbalance"
    assert "class_imbalance" not in CAUSES["plateau"] and "unshuffled_data" in CAUSES["plateau"]


def test_the_monitor_schedules_rules_from_the_records():
    from trainwell.babysit import monitor
    assert set(monitor.PER_SAMPLE_RULES) == {c for c, s in CODES.items() if s.runs is Runs.PER_SAMPLE}
    assert set(monitor.SAMPLE_ONLY_RULES) == {c for c, s in CODES.items() if s.runs is Runs.SAMPLES_ONLY}
    assert set(monitor.EPOCH_RULES) == set(rules.RULES) - set(monitor.SAMPLE_ONLY_RULES)
    assert monitor.STOPS_RUN == ("nonfinite_loss",)


@pytest.mark.parametrize("code", list(CODES))
def test_docs_page_documents_every_record(code):
    spec = CODES[code]
    heading = f"#### `{code}` ({spec.severity})"
    assert heading in DOCS, code
    entry = DOCS.split(heading, 1)[1].split("\n#", 1)[0]
    assert f"- **Threshold:** {spec.threshold}." in entry, code
    assert f"- **Fix:** {spec.fix}." in entry, code
    for name in spec.thresholds:
        assert f"`{name}` = {_constant(name):g}" in entry, (code, name)
    if spec.runs is not None:
        assert f"- **Rule:** `rules.{code}`" in entry, code
    assert (f"`plans.{spec.plan.__name__}`" if spec.plan else "none (reported only)") in entry, code
    assert ("the monitor stops the run on it" in entry) == spec.stops_run, code


# ------------------------------------------------------------------------------ actions and plans
def test_every_action_is_documented_and_settles_known_codes():
    for name, action in ACTIONS.items():
        assert action.name == name and isinstance(action.rollback, Rollback) and callable(action.apply)
        assert f"| `{name}` |" in DOCS, name
        assert set(action.settles) <= set(CODES)


def test_a_plan_is_a_typed_value_with_the_actions_default_rollback():
    plan = make_plan("reinit", "why")
    assert isinstance(plan, Plan) and plan.action is ACTIONS["reinit"] and plan.rollback is Rollback.START
    assert make_plan("lower_lr", "why", rollback=Rollback.NONE, factor=3.0).rollback is Rollback.NONE
    with pytest.raises(Exception):
        plan.reason = "changed"                 # frozen


class FakeControls:
    """The controls an action may use, recording each call."""

    def __init__(self, model):
        self.model, self.lr_scale, self.calls = model, 1.0, []

    def set_lr_scale(self, scale):
        self.lr_scale = scale
        self.calls.append(("set_lr_scale", scale))

    def __getattr__(self, name):               # set_clip_norm, rebuild_optimizer, add_preprocess, set_shuffle
        return lambda *args, **kwargs: self.calls.append((name, *args, *kwargs.items()))


@pytest.mark.parametrize("name, options, expected", [
    ("lower_lr", {"factor": 10.0, "clip_norm": 2.5}, [("set_lr_scale", 0.1), ("set_clip_norm", 2.5)]),
    ("raise_lr", {"factor": 4.0, "momentum": True},
     [("set_lr_scale", 4.0), ("rebuild_optimizer", ("momentum", 0.9), ("nesterov", True))]),
    ("clip", {"clip_norm": 1.0}, [("set_clip_norm", 1.0)]),
    ("standardize", {}, [("add_preprocess", "standardize")]),
    ("impute", {"codes": [[0, -999.0]]},
     [("add_preprocess", "impute", ("codes", [[0, -999.0]])), ("add_preprocess", "standardize")]),
    ("shuffle", {}, [("set_shuffle", True)]),
    ("set_weight_decay", {"weight_decay": 1e-3}, [("rebuild_optimizer", ("weight_decay", 1e-3))]),
    ("reinit", {}, [("rebuild_optimizer",), ("model_changed",)]),
])
def test_actions_change_the_run_through_its_controls(name, options, expected):
    torch.manual_seed(0)
    controls = FakeControls(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)))
    ACTIONS[name].apply(controls, options, seed=0)
    assert controls.calls == expected


def test_model_actions_edit_the_model_in_place():
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2), nn.Softmax(dim=1))
    changed = []
    controls = SimpleNamespace(model=model, rebuild_optimizer=lambda **o: None,
                               model_changed=lambda: changed.append(True))
    assert ACTIONS["remove_output_activation"].apply(controls, {"name": "3"}, seed=0) == "3 -> Identity"
    assert isinstance(model[3], nn.Identity)
    assert ACTIONS["swap_activations"].apply(controls, {}, seed=0).startswith("1 activations -> ReLU")
    assert isinstance(model[1], nn.ReLU)
    ACTIONS["shrink_output_layer"].apply(controls, {"scale": 0.1}, seed=0)
    assert float(model[2].bias.detach().abs().sum()) == 0.0
    assert len(changed) == 3                    # each said the model is another one (controls.model_changed)
