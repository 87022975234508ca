"""The repairer's underfitting in a run with augmentation: the augmentation is tested before the lr is
raised (repair.Repairer._augmentation_first): a shift that moves most of each image out of the frame is
found by augment_check's experiment from the start and dropped; a label-preserving augmentation is
kept and the planner's own plan follows."""
import torch
from torch import nn

import trainwell
from trainwell.babysit import augment_check, interventions
from trainwell.babysit.repair import Repairer

from test_augment_check import bars

RUN = {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 10, "progress": False, "report": False,
       "run_dir": None, "seed": 0}
WHOLE_SHIFT = [{"name": "translate", "max_shift": 1.0}]    # Keras' 1 pixel read as a fraction: the whole width


def _cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 64, 4))


def _fit(augment):
    X, y = bars(960)
    return trainwell.fit(_cnn(), (X[:640], y[:640]), val=(X[640:], y[640:]), babysit="repair", augment=augment,
                         **RUN)


def _accuracy(run):
    X, y = bars(400, seed=1)
    return float((run.predict(X, output="raw").argmax(1) == y).float().mean())


def test_an_underfitting_run_whose_augmentation_hurts_drops_it(monkeypatch):
    """The settings test at fit start finds nothing (as on set 27's digits, whose CNN leaves chance
    after more steps than its 22 an arm; here it is left out); the monitor's underfitting then tests
    the shift at the experiment's own steps from the start: it is dropped (not the lr raised), and
    the run ends as one without it."""
    monkeypatch.setattr(Repairer, "_settings_test", lambda self, state: [])
    run = _fit(WHOLE_SHIFT)
    assert [(r["code"], r["action"]) for r in run.repairs][:1] == [("augmentation_hurts", "drop_augmentation")]
    assert run.repairs[0]["step"] > 0 and run.repairs[0]["rolled_back_to"]["step"] == 0
    assert run.repairs[0]["detail"] == "augmentation translate dropped (no augmentation left)"
    assert any(f.code == "augmentation_hurts" for f in run.findings)
    assert _accuracy(run) > 0.9


def test_the_augmentation_is_tested_once_per_augmentation_in_force(monkeypatch):
    """A test that finds nothing leaves the planner's plan, and the same augmentation is not tested again."""
    calls = []

    def quiet(*a, **k):
        calls.append(k["augment"])
        return []
    monkeypatch.setattr(augment_check, "check_augment", quiet)
    monkeypatch.setattr(Repairer, "_settings_test", lambda self, state: [])
    run = _fit(WHOLE_SHIFT)
    assert calls == [WHOLE_SHIFT]
    assert run.repairs and run.repairs[0]["code"] == "underfitting"


def _arm(name, after, acc, longer=None, **extra):
    return interventions.Arm(name, augment_check.CODE if "drop" in extra else "", name, before=1.4, after=after,
                             steps=100, acc=acc, rows=512, extra=extra, longer=longer)


def test_confirm_grades_an_arm_within_the_noise_where_the_runs_trained_on_have_settled():
    """At the arms' steps the repeat differs from the setup by 10 points, so a 20-point lift is within
    NOISE_FACTOR x that spread; trained on, the two runs with the transform are 1 point apart and the arm
    30 points ahead: ``confirm`` reports it, the doctor's test (no ``confirm``) does not."""
    base = _arm("setup", 0.90, 0.60, longer=_arm("setup", 0.80, 0.65))
    base.longer.steps = 300
    repeat = _arm("setup (repeat)", 0.80, 0.70, longer=_arm("setup (repeat)", 0.79, 0.66), repeat=True)
    repeat.longer.steps = 300
    arm = _arm("without translate", 0.70, 0.80, longer=_arm("without translate", 0.20, 0.96), drop=0, kept=[])
    arm.longer.steps = 300
    args = (base, [repeat, arm], repeat, WHOLE_SHIFT, [0.0])
    assert augment_check._hurting(*args, total_steps=300) == []
    assert [a.name for _, a in augment_check._hurting(*args, total_steps=300, confirm=True)] == ["without translate"]
