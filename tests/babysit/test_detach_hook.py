"""A user's callback hook that puts the weights back (``parameters_reset``) is repaired by no longer
calling that hook (``detach_hook``): its other hooks still run, the change is named in the record
and kept on resume, and a watched run's finding is acted on only when one hook is the candidate."""
import copy

import pytest
import torch
from sklearn.datasets import make_classification
from torch import nn

import trainwell
from trainwell.babysit.actions import ACTIONS, Rollback
from trainwell.babysit.findings import make
from trainwell.babysit.plans import plan_parameters_reset
from trainwell.errors import ConfigError
from trainwell.train.callbacks import Callback, Hooks


class Restart(Callback):
    """Loads the weights it saw at the run's start back at every epoch end (a stale checkpoint
    reloaded), and counts the epochs it saw start (a hook that does something else)."""

    def __init__(self):
        self.saved, self.starts = None, 0

    def on_fit_start(self, state):
        self.saved = copy.deepcopy(state.model.state_dict())

    def on_epoch_start(self, state):
        self.starts += 1

    def on_epoch_end(self, state):
        state.model.load_state_dict(self.saved)


def _data():
    X, y = make_classification(n_samples=900, n_features=12, n_informative=8, n_classes=3, random_state=4)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y)


def _mlp():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(12, 64), nn.ReLU(), nn.Linear(64, 3))


def _fit(callbacks, babysit, **extra):
    X, y = _data()
    options = dict(optimizer="adam", lr=3e-3, batch_size=32, epochs=12, seed=0, progress=False, report=False,
                   run_dir=None, device="cpu", babysit=babysit)
    return trainwell.fit(_mlp(), (X[:600], y[:600]), val=(X[600:], y[600:]), callbacks=list(callbacks),
                         **{**options, **extra})


def test_hooks_detach_one_hook_of_one_callback():
    a, b = Restart(), Restart()
    hooks = Hooks([a, b])
    assert hooks.detach("Restart", "on_epoch_end") == 2 and hooks.bound["on_epoch_end"] == []
    assert len(hooks.bound["on_epoch_start"]) == 2          # the callbacks' other hooks still run
    assert hooks.detach("Other", "on_epoch_start") == 0 and hooks.detach("Restart", "no_such_hook") == 0


def test_controls_refuse_a_hook_the_run_does_not_have():
    class Try(Callback):
        def on_fit_start(self, state):
            with pytest.raises(ConfigError, match="no callback 'Nope' with a hook 'on_epoch_end'"):
                state.controls.detach_hook("Nope", "on_epoch_end")
    X, y = _data()
    trainwell.fit(_mlp(), (X[:60], y[:60]), epochs=1, callbacks=[Try()], progress=False, report=False,
                  run_dir=None, babysit="off")


def test_the_planner_detaches_the_hook_a_finding_names_and_only_one_candidate():
    measured = make("parameters_reset", "x", evidence={"callback": "Restart", "hook": "on_epoch_end"})
    plan = plan_parameters_reset(measured, None)
    assert plan.action is ACTIONS["detach_hook"] and plan.rollback is Rollback.LAST
    assert plan.options == {"callback": "Restart", "hook": "on_epoch_end"}
    one = make("parameters_reset", "x", evidence={"candidates": [["Restart", "on_epoch_end"]]})
    assert plan_parameters_reset(one, None).options == {"callback": "Restart", "hook": "on_epoch_end"}
    several = make("parameters_reset", "x", evidence={"candidates": [["Restart", "on_epoch_end"],
                                                                     ["Restart", "on_epoch_start"]]})
    said = plan_parameters_reset(several, None)
    assert isinstance(said, str) and "Restart.on_epoch_end, Restart.on_epoch_start" in said


def test_repair_mode_detaches_the_resetting_hook_and_ends_near_the_run_without_it():
    class Once(Restart):                    # the same callback with its reload guarded to run never
        def on_epoch_end(self, state):
            pass

    class OnlyReload(Callback):             # the fault alone: one in-run hook, the reload
        def __init__(self):
            self.saved = None

        def on_fit_start(self, state):
            self.saved = copy.deepcopy(state.model.state_dict())

        def on_epoch_end(self, state):
            state.model.load_state_dict(self.saved)
    broken = _fit([OnlyReload()], "off")
    repaired = _fit([OnlyReload()], "repair")
    twin = _fit([Once()], "off")
    acts = [(r["code"], r["action"], r["detail"]) for r in repaired.repairs]
    assert ("parameters_reset", "detach_hook", "OnlyReload.on_epoch_end no longer called (its other hooks still "
                                               "run)") in acts, acts
    assert twin.results["val"]["acc"] > broken.results["val"]["acc"] + 0.05      # the fault hurts
    assert repaired.results["val"]["acc"] >= twin.results["val"]["acc"] - 0.02      # issue 11's 2 points


def test_a_detached_hook_stays_detached_on_resume(tmp_path, crash_at):
    class Detach(Callback):                 # detached once, at the start of the first run only
        def on_fit_start(self, state):
            if state.step == 0:
                state.controls.detach_hook("Restart", "on_epoch_end")
    options = dict(epochs=4, checkpoint_every=5)
    whole = _fit([Restart(), Detach()], "off", run_dir=str(tmp_path / "whole"), **options)
    with pytest.raises(crash_at.error):
        _fit([Restart(), Detach(), crash_at(50)], "off", run_dir=str(tmp_path / "cut"), **options)
    resumed_callback = Restart()
    resumed = _fit([resumed_callback], "off", run_dir=str(tmp_path / "cut"), resume=True, **options)
    assert resumed_callback.starts >= 1             # the callback's other hook ran on the resumed epochs
    assert all(torch.equal(a, b) for a, b in zip(whole.model.state_dict().values(),
                                                 resumed.model.state_dict().values()))
