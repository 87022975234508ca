"""The repairer judges an lr change by its replay and never leaves a given-up run worse than before
its repairs: a rollback replays the run to the step the change was made for, and the same finding
read there no milder means the change did not touch it (undone, the code left unrepaired); a run
given up during training ends on its best state (repair.py: ``_replayed_unchanged``,
``_end_on_best``)."""
import pytest
import torch

from trainwell.babysit.findings import make
from trainwell.babysit.monitor import Monitor
from trainwell.babysit.repair import Repairer
from trainwell.data.sources import digits
from trainwell.train.fit import make_trainer, prepare
from trainwell.train.state import StopKind

from babysit_loop import QUIET_FIT, mlp


def digits_mlp():
    return mlp((64, 64, 10))


@pytest.fixture(scope="module")
def data():
    return digits()


class Spike:
    """Reports ``loss_exploding`` through the monitor at the steps of ``at(steps_per_epoch)`` ({step:
    [loss read on the first pass, on the second, ...]}), as a batch whose own loss is far out would on
    every replay; placed between the monitor and the repairer, so the repairer reads it at that step."""

    def __init__(self, monitor, at):
        self.monitor, self.make_at, self.at, self.passes = monitor, at, {}, {}

    def on_fit_start(self, state):
        self.at = self.make_at(state.steps_per_epoch)

    def on_after_step(self, state):
        losses = self.at.get(state.step)
        seen = self.passes.get(state.step, 0)
        if losses is None or seen >= len(losses):
            return
        self.passes[state.step] = seen + 1
        self.monitor._add(state, make("loss_exploding", "one batch's loss", fix="lower the lr",
                                      evidence={"loss": losses[seen], "initial_loss": 2.3, "lr": state.lr}))


class Weights:
    """The model's weights at each epoch end, first pass only."""

    def __init__(self):
        self.at = {}

    def on_epoch_end(self, state):
        self.at.setdefault(state.epoch, {k: v.clone() for k, v in state.model.state_dict().items()})


def _fit(data, at, *, max_repairs=3, epochs=4):
    monitor = Monitor()
    repairer, weights = Repairer(monitor, max_repairs=max_repairs), Weights()
    p = prepare(digits_mlp(), data, None, None, {**QUIET_FIT, "epochs": epochs})
    state = make_trainer(p, extra_callbacks=[monitor, Spike(monitor, at), repairer, weights]).fit()
    return repairer, state, weights


def test_a_cut_whose_replay_reads_the_same_loss_is_undone_not_stacked(data):
    """A cut rolled back to the last epoch end replays to the step it was made for, where the same
    batch reads the same loss: the cut did not touch it. No second cut is stacked on that step (before:
    three cuts there, then the run was given up); the cut is undone (back to that step with the lr
    it had) and the code is left unrepaired, the run going on to its last epoch."""
    repairer, state, _ = _fit(data, lambda spe: {spe + 5: [17.4, 17.4, 17.4, 17.4]})
    actions = [(r["step"], r["action"]) for r in repairer.repairs]
    assert [a for _, a in actions] == ["lower_lr", "undo_lr_change"], repairer.repairs
    assert len({s for s, a in actions if a == "lower_lr"}) == sum(a == "lower_lr" for _, a in actions)
    assert state.controls.lr_scale == 1.0 and state.stop.kind is StopKind.FINISHED
    assert repairer.repairs[1]["rolled_back_to"]["step"] == repairer.repairs[0]["step"]
    assert "did not touch" in repairer.unrepaired[-1]["reason"]
    assert [h["epoch"] for h in state.history] == [1, 2, 3, 4]


def test_a_replay_that_reads_a_milder_loss_is_repaired_again(data):
    """An lr far too high cut once still diverges at the same step, less: the change works, not
    enough, and the planner's second (sized) cut is made there."""
    repairer, state, _ = _fit(data, lambda spe: {spe + 5: [180.0, 20.0]})
    cuts = [r for r in repairer.repairs if r["code"] == "loss_exploding"]
    assert [r["action"] for r in cuts] == ["lower_lr", "lower_lr"] and cuts[0]["step"] == cuts[1]["step"], cuts
    assert state.stop.kind is StopKind.FINISHED


def test_a_run_given_up_in_training_ends_on_its_best_state(data):
    """One repair allowed: the cut rolls back to the first epoch's end, and a later finding on the cut
    trajectory gives the run up. It ends on the state before the repair, the first epoch's weights
    with the lr it had (before: at the cut trajectory's last step, under the cut lr)."""
    repairer, state, weights = _fit(data, lambda spe: {spe + 5: [17.4], spe + 10: [17.4]}, max_repairs=1)
    assert state.stop.kind is StopKind.UNREPAIRABLE and "best state: step" in state.stop.message
    assert state.extras["babysit"]["ended_on"]["epoch"] == 1 and state.controls.lr_scale == 1.0
    final = state.model.state_dict()
    assert all(torch.equal(final[k], v) for k, v in weights.at[1].items())
