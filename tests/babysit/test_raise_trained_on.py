"""A raised lr (``interventions.RAISE_CODE``) read where both trained on to the run's end: against
both runs of the setup there (the repeat trains on too) and shown to lead by ``MIN_LIFT``."""
import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import interventions as iv


def _arm(name, code, after, acc, later=None, steps=100, later_steps=190):
    a = iv.Arm(name, code, name, before=1.393, after=after, steps=steps, acc=acc, rows=512)
    if later:
        a.longer = iv.Arm(name, code, name, before=1.393, after=later[0], steps=later_steps, acc=later[1], rows=512)
    return a


def _setup_and_repeat(setup_later, repeat_later, accs=(0.723, 0.637)):
    """Set 15's healthy DefectCNN at Adam 2e-3 (a 190-step run that ends at 99.4 % validation
    accuracy): its two runs at step 100 (``accs``: 72 and 64 %) and trained on to step 190."""
    setup = _arm("setup", "", 1.229, accs[0], setup_later)
    repeat = _arm("setup (repeat)", "", 1.245, accs[1])
    repeat.extra["repeat"] = True
    if repeat_later:
        repeat.extra["trained_on"] = iv.Arm("setup (repeat)", "", "", before=1.393, after=repeat_later[0],
                                            steps=190, acc=repeat_later[1], rows=512)
    return setup, repeat


def test_a_raised_lr_is_no_cause_when_the_setups_better_run_ends_within_the_lifts_error():
    """lr x10 ends at 100 % where the setup trained on ends at 89.3 % and its repeat at 95.5 %: 4.5
    points ahead of the better run, 1.5 past MIN_LIFT and within 2 standard errors (1.8): no cause.
    One run of the setup alone (main's reading) made it a cause (10.7 points)."""
    raised = _arm("lr x10", "lr_too_low", 0.0705, 0.994, (0.0093, 1.0))
    setup, repeat = _setup_and_repeat((0.748, 0.893), (0.737, 0.955))
    assert iv.best_trained_on(setup.longer, repeat) is repeat.extra["trained_on"]
    assert iv.caught_up(setup, raised, repeat)
    assert iv.helpful(setup, [repeat, raised], run_steps=190) == []
    alone, repeat_not_trained_on = _setup_and_repeat((0.748, 0.893), None)
    assert not iv.caught_up(alone, raised, repeat_not_trained_on)
    assert iv.helpful(alone, [repeat_not_trained_on, raised], run_steps=190) == [raised]


def test_a_raised_lr_that_leads_both_runs_stays_a_cause():
    """Both runs of the setup end far behind (set 13's healthy castings CNN, whose real runs end at
    65 %: 62 and 66 % at step 100, 82 and 83 % trained on, against lr x10's 97 %): the raise is a
    cause, read against either run."""
    raised = _arm("lr x10", "lr_too_low", 0.25, 0.969, (0.10, 0.969))
    setup, repeat = _setup_and_repeat((0.795, 0.816), (0.80, 0.83), accs=(0.619, 0.662))
    assert not iv.caught_up(setup, raised, repeat)
    assert iv.helpful(setup, [repeat, raised], run_steps=190) == [raised]


def test_the_one_statistic_reads_only_a_raised_lr():
    """A 4.5-point lead at 98 % on 512 rows is not shown to be MIN_LIFT (``shown_lift``); an 8-point
    lead is. Without the repeat trained on, and for a lowered lr (lr_too_high), the separate margins
    stay (4.5 points: more than MIN_LIFT and 2 standard errors)."""
    setup = iv.Arm("s", "", "", acc=0.955, rows=512)
    assert not iv.shown_lift(setup, iv.Arm("a", "lr_too_low", "", acc=1.0, rows=512))
    assert iv.shown_lift(iv.Arm("s", "", "", acc=0.92, rows=512), iv.Arm("a", "lr_too_low", "", acc=1.0, rows=512))
    raised = _arm("lr x10", "lr_too_low", 0.0705, 0.994, (0.0093, 1.0))
    one_run, no_repeat = _setup_and_repeat((0.737, 0.955), None)
    assert not iv.caught_up(one_run, raised, no_repeat)    # without the repeat trained on: the separate margins
    lowered = _arm("lr x0.1", "lr_too_high", 0.0705, 0.994, (0.0093, 1.0))
    setup, repeat = _setup_and_repeat((0.737, 0.955), (0.737, 0.955))
    assert not iv.caught_up(setup, lowered, repeat)


def _slow_net_and_data():
    torch.manual_seed(0)
    X = torch.randn(1200, 8)
    y = (X[:, 0] + X[:, 1] > 0).long() + (X[:, 2] > 0.5).long()
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3)), X, y


def test_the_repeat_trains_on_to_the_setups_step_only_for_a_raised_lr():
    """SGD at 1e-4 (a lr far too low): lr x10 and more help and train on; the repeat trains on to
    the setup's step after them (``extra["trained_on"]``), on its own batches. With the lr arms
    off nothing raised trains on, and the repeat stays at the arms' steps."""
    net, X, y = _slow_net_and_data()
    base, arms = iv.experiment(net, X, y, F.cross_entropy, optimizer="sgd", lr=1e-4, batch_size=32, steps=20,
                               repeat=True, run_steps=200)
    repeat = next(a for a in arms if a.extra.get("repeat"))
    assert any(a.code == iv.RAISE_CODE and a.longer is not None for a in arms)
    assert base.longer is not None and repeat.extra["trained_on"].steps == base.longer.steps
    assert repeat.longer is None            # ``confirmed`` reads the setting arms as before
    assert repeat.extra["trained_on"].after != base.longer.after
    net, X, y = _slow_net_and_data()
    base, arms = iv.experiment(net, X, y, F.cross_entropy, optimizer="sgd", lr=1e-4, batch_size=32, steps=20,
                               repeat=True, run_steps=200, lr_arms=False)
    repeat = next(a for a in arms if a.extra.get("repeat"))
    assert "trained_on" not in repeat.extra
