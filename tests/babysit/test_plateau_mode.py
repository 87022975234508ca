"""plateau_mode: a plateau schedule whose mode is against its monitor's direction is found before
training, graded by the course a copy of it gives on a metric that improves every epoch, and repaired
by setting the mode (the set_plateau_mode control: as a run configured so, kept on resume)."""
import pytest
import torch
from torch import nn

import trainwell
from trainwell.babysit.actions import ACTIONS
from trainwell.babysit.findings import make
from trainwell.babysit.plans import plan_schedule_decays_early
from trainwell.babysit.plateau_mode import check_plateau_mode, course, improving, run_epochs
from trainwell.babysit.run_options import check_run_options
from trainwell.config import Config
from trainwell.errors import ConfigError
from trainwell.optim.schedules import ReduceOnPlateau, cosine, make_schedule, plateau_in, warmup
from trainwell.train.callbacks import Callback
from trainwell.train.metrics import monitor_mode


def _plateau(**options):
    return make_schedule("plateau", total_steps=1000, steps_per_epoch=10, **options)


@pytest.mark.parametrize("monitor, mode", [("val_loss", "min"), ("train_loss", "min"), ("val_acc", "max"),
                                           ("train_acc", "max")])
def test_a_plateau_that_follows_its_monitor_is_no_finding(monitor, mode):
    assert monitor_mode(monitor) == mode
    assert check_plateau_mode(_plateau(mode=mode, patience=1), monitor=monitor, epochs=30) == []


def test_no_plateau_schedule_is_no_finding():
    assert check_plateau_mode(cosine(total=100), monitor="val_acc", epochs=30) == []
    assert check_plateau_mode(None, monitor="val_acc", epochs=30) == []


def test_min_on_an_accuracy_cuts_every_patience_plus_one_epochs():
    # an independent count: the first epoch sets the best, each later one is "no better"; a cut after
    # patience + 1 such epochs, so the lr drops at epochs 4, 7, 10, ... for patience 2, until the
    # multiplier's change falls under the schedule's PLATEAU_MIN_CHANGE (1e-8 - 1e-9 < 1e-8: 8 cuts)
    [f] = check_plateau_mode(_plateau(mode="min", patience=2), monitor="val_acc", epochs=30)
    assert (f.code, f.severity) == ("schedule_decays_early", "warning")
    assert f.evidence["cuts"] == list(range(4, 28, 3))
    assert f.evidence["fallen_epoch"] == 7 and f.evidence["mode"] == "max" and f.evidence["plateau_mode"] == "min"
    assert f.evidence["end_mult"] == pytest.approx(0.1 ** 8)
    assert 'mode = "min"' in f.message and 'monitor = "val_acc"' in f.message and '"max"' in f.fix


def test_max_on_a_loss_is_found_too_and_cooldown_spaces_the_cuts():
    [f] = check_plateau_mode(_plateau(mode="max", patience=1, cooldown=2), monitor="val_loss", epochs=20)
    assert f.evidence["mode"] == "min"
    # cut after 2 bad epochs (epoch 3), then 2 cooldown epochs that reset the count, then 2 more
    assert f.evidence["cuts"][:3] == [3, 7, 11]


def test_a_contradiction_that_cuts_late_is_only_info():
    # patience 10 of 30 epochs: cuts at 12 and 23, 1 % of the lr only at 23 (77 % of the run)
    [f] = check_plateau_mode(_plateau(mode="min", patience=10), monitor="val_acc", epochs=30)
    assert f.severity == "info" and f.evidence["cuts"] == [12, 23]
    [g] = check_plateau_mode(_plateau(mode="min", patience=10), monitor="val_acc", epochs=8)
    assert g.severity == "info" and g.evidence["cuts"] == [] and "no cut yet" in g.message


def test_the_right_mode_on_the_same_improving_metric_never_cuts():
    for mode in ("min", "max"):
        assert set(course(_plateau(mode=mode, patience=0), improving(mode, 40))) == {1.0}


def test_a_plateau_inside_a_warmup_is_found():
    inner = ReduceOnPlateau(mode="min", patience=1)
    schedule = warmup(inner, steps=50)
    assert plateau_in(schedule) is inner
    assert check_plateau_mode(schedule, monitor="val_acc", epochs=20)[0].severity == "warning"


def test_run_epochs_counts_the_batches():
    assert run_epochs(None, total_steps=900, rows=1440, batch_size=32) == 20


def test_check_run_options_reports_it_without_training(four_class, four_class_mlp, monkeypatch):
    from trainwell.babysit import interventions
    monkeypatch.setattr(interventions, "experiment", lambda *a, **k: pytest.fail("trained"))
    X, y = four_class
    config = Config(monitor="val_acc", schedule={"name": "plateau", "mode": "min", "patience": 2})
    found = check_run_options(four_class_mlp(), X, y, nn.functional.cross_entropy,
                              schedule=_plateau(mode="min", patience=2), total_steps=30 * 38, optimizer="sgd",
                              lr=0.01, batch_size=32, config=config)
    assert [(f.code, f.severity) for f in found] == [("schedule_decays_early", "warning")]


def test_the_plan_sets_the_monitors_mode():
    f = make("schedule_decays_early", "m", evidence={"plateau_mode": "min", "mode": "max"})
    plan = plan_schedule_decays_early(f, None)
    assert plan.action is ACTIONS["set_plateau_mode"] and plan.options == {"mode": "max"}


# --- the control -----------------------------------------------------------------------------------
def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))


class AtStart(Callback):
    def __init__(self, change):
        self.change = change

    def on_fit_start(self, state):
        self.change(state.controls)


def _fit(blobs, callbacks=(), **extra):
    X, y = blobs
    options = dict(epochs=8, batch_size=32, lr=0.1, seed=3, progress=False, report=False, babysit="off",
                   run_dir=None, device="cpu", monitor="val_acc")
    options.update(extra)
    return trainwell.fit(_mlp(), (X[:240], y[:240]), val=(X[240:], y[240:]), callbacks=list(callbacks), **options)


def _same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values()))


def test_set_plateau_mode_at_start_trains_as_the_run_configured_so(blobs):
    wrong = {"name": "plateau", "mode": "min", "patience": 0}
    repaired = _fit(blobs, [AtStart(lambda c: c.set_plateau_mode("max"))], schedule=wrong)
    plain = _fit(blobs, schedule={"name": "plateau", "mode": "max", "patience": 0})
    assert _same_weights(repaired, plain)
    assert not _same_weights(_fit(blobs, schedule=wrong), plain)       # the mode mattered


def test_a_resumed_run_keeps_the_set_plateau_mode(blobs, tmp_path, crash_at):
    options = dict(schedule={"name": "plateau", "mode": "min", "patience": 0}, checkpoint_every=5)
    whole = _fit(blobs, [AtStart(lambda c: c.set_plateau_mode("max"))], run_dir=tmp_path / "whole", **options)
    with pytest.raises(crash_at.error):
        _fit(blobs, [AtStart(lambda c: c.set_plateau_mode("max")), crash_at(30)], run_dir=tmp_path / "cut",
             **options)
    resumed = _fit(blobs, run_dir=tmp_path / "cut", resume=True, **options)
    assert _same_weights(whole, resumed)


def test_set_plateau_mode_names_what_it_needs(blobs):
    with pytest.raises(ConfigError, match="set_plateau_mode: the run's lr schedule is no plateau schedule"):
        _fit(blobs, [AtStart(lambda c: c.set_plateau_mode("max"))], schedule="cosine")
    with pytest.raises(ConfigError, match=r"set_plateau_mode: mode = 'up': must be \"min\" or \"max\""):
        _fit(blobs, [AtStart(lambda c: c.set_plateau_mode("up"))], schedule="plateau")


def test_a_watched_run_reports_the_contradiction_at_fit_start(blobs):
    run = _fit(blobs, babysit="watch", schedule={"name": "plateau", "mode": "min", "patience": 0}, epochs=6)
    [f] = [f for f in run.findings.findings if f.code == "schedule_decays_early"]
    assert f.evidence["mode"] == "max" and f.severity == "warning" and f.evidence["cuts"] == [2, 3, 4, 5]
    quiet = _fit(blobs, babysit="watch", schedule={"name": "plateau", "patience": 0}, epochs=6)
    assert "schedule_decays_early" not in [f.code for f in quiet.findings.findings]


def test_the_plateau_watch_is_added_only_for_a_plateau_schedule():
    from trainwell.train.parts import babysit_callbacks
    names = lambda config: [type(c).__name__ for c in babysit_callbacks(config, 10)]     # noqa: E731
    assert "PlateauWatch" in names(Config(schedule="plateau"))
    assert "PlateauWatch" in names(Config(schedule={"name": "plateau", "mode": "min"}))
    assert "PlateauWatch" not in names(Config(schedule="cosine"))
    assert "PlateauWatch" not in names(Config(schedule="plateau", babysit="repair"))   # its settings test has it
