"""A fix is tried only where it applies: the final activation removed grades only a finding about
probability rows; inputs standardized are not given to a model that reads them as ids; and the
doctor's experiment trains at the largest lr the run's schedule reaches."""
import math

import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.babysit import interventions
from trainwell.babysit.findings import make
from trainwell.babysit.model_checks import raises_on
from trainwell.babysit.peak_check import experiment_multiplier
from trainwell.optim.schedules import ReduceOnPlateau


def test_the_output_activation_arm_grades_only_a_finding_about_probability_rows():
    marked = make("loss_output_mismatch", "a softmax before cross-entropy", evidence={interventions.GRADED: True})
    plain = make("loss_output_mismatch", "the loss mixes the rows of the batch")
    assert interventions.graded_fixes(marked) == ("remove output activation",)
    assert interventions.graded_fixes(plain) == ()
    scaled = make("unnormalized_inputs", "not centered")
    assert interventions.graded_fixes(scaled) == ("standardize inputs", "quantile inputs")


def _table(n=600, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=g)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).long() + (X[:, 2] > 0.8).long()
    return X, y


def test_a_loss_that_mixes_the_rows_is_the_finding_not_graded_away_by_an_absent_activation():
    """``-logp[:, target]`` averages every row's log-probability of every label in the batch: the
    loss arm measures that cross-entropy trains far better; no final activation exists whose removal
    could grade it, so it stays a warning and explains the subset that cannot be memorized."""
    X, y = _table()

    def loss(out, target):
        return -F.log_softmax(out, 1)[:, target].mean()

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 3))
    d = trainwell.doctor(net, (X[:400], y[:400]), (X[400:], y[400:]), loss=loss, optimizer="adam", lr=1e-3,
                         epochs=10, batch_size=32, probe=False, wall_s=None)
    mismatch = d.filter(code="loss_output_mismatch").findings
    assert mismatch and all(f.severity == "warning" for f in mismatch)
    assert d.ranked()[0].code == "loss_output_mismatch"


class IdNet(nn.Module):
    """Column 0 holds an id (0, or 30..69) looked up in an embedding; the rest are numbers."""

    def __init__(self):
        super().__init__()
        self.ids = nn.Embedding(70, 4)
        self.head = nn.Sequential(nn.Linear(4 + 3, 32), nn.ReLU(), nn.Linear(32, 2))

    def forward(self, x):
        return self.head(torch.cat([self.ids(x[:, 0].long()), x[:, 1:]], 1))


def _ids(n=800, seed=1):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(30, 70, (n,), generator=g)
    ids[torch.rand(n, generator=g) < 0.08] = 0          # a real id far below the others
    rest = torch.randn(n, 3, generator=g)
    y = ((ids % 2 == 0) ^ (rest[:, 0] > 0)).long()
    return torch.cat([ids[:, None].float(), rest], 1), y


def test_an_id_column_is_no_missing_value_code_when_the_model_indexes_with_it():
    X, y = _ids()
    torch.manual_seed(0)
    d = trainwell.doctor(IdNet(), (X[:600], y[:600]), (X[600:], y[600:]), optimizer="adam", lr=1e-2, epochs=5,
                         probe=False, wall_s=None)
    scaled = d.filter(code="unnormalized_inputs").findings
    assert scaled and all(f.severity == "info" and "fix_refused" in f.evidence for f in scaled)


def test_the_repairer_does_not_standardize_ids_the_model_indexes_an_embedding_with():
    """Whatever the pre-flight finds, the run ends with a model: a preprocessing the model raises
    on is tried first and left out (``Controls.preprocessed_rows``), noted as unrepaired."""
    X, y = _ids()
    torch.manual_seed(0)
    run = trainwell.fit(IdNet(), (X[:600], y[:600]), (X[600:], y[600:]), optimizer="adam", lr=1e-2, epochs=3,
                        babysit="repair", seed=0, device="cpu", progress=False, run_dir=None)
    assert not any(r["action"] in ("standardize", "impute") for r in run.repairs)
    assert run.predict(X[600:]).shape[0] == 200


def test_the_controls_try_a_preprocessing_on_the_model_before_it_is_added():
    X, y = _ids()
    torch.manual_seed(0)

    class Try(trainwell.Callback):
        def on_fit_start(self, state):
            model = state.controls.model
            self.raised = raises_on(model, state.controls.preprocessed_rows([{"name": "standardize"}]))
            self.plain = raises_on(model, state.controls.preprocessed_rows([{"name": "impute", "codes": [[1, 0.0]]}]))

    spy = Try()
    trainwell.fit(IdNet(), (X[:600], y[:600]), epochs=1, callbacks=[spy], device="cpu", progress=False,
                  run_dir=None)
    assert spy.raised is not None and "IndexError" in spy.raised
    assert spy.plain is None


def test_the_experiment_trains_at_a_schedule_peak_below_the_configured_lr():
    assert experiment_multiplier(lambda step: 1e-3 * 0.5 ** (step // 600), 2000) == 1e-3
    assert experiment_multiplier(lambda step: 0.5 * (1 + math.cos(math.pi * step / 2000)), 2000) == 1.0
    assert experiment_multiplier(lambda step: min(1.0, (step + 1) / 100), 2000) == 1.0      # a warmup reaches 1
    assert experiment_multiplier(lambda step: 3.0, 2000) == 1.0         # above 1: peak_check's candidate
    assert experiment_multiplier(lambda step: 0.0, 2000) == 1.0         # never positive: the configured lr
    assert experiment_multiplier(ReduceOnPlateau(), 2000) == 1.0
    assert experiment_multiplier(None, 2000) == 1.0


def test_a_schedule_function_that_returns_the_lr_is_found_too_low():
    """fit multiplies the configured lr by the schedule's value: a function that returns the lr
    itself (1e-3 x 0.5 ** k) trains at 1e-6; the experiment, at that lr, finds the lr arms help."""
    X, y = _table()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 3))
    d = trainwell.doctor(net, (X[:400], y[:400]), (X[400:], y[400:]), optimizer="adam", lr=1e-3, epochs=20,
                         batch_size=32, schedule=lambda step: 1e-3 * 0.5 ** (step // 600), probe=False, wall_s=None)
    low = d.filter(code="lr_too_low").findings
    assert low and low[0].severity == "warning" and "1e-06" in low[0].message
