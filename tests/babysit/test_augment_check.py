"""augment_check: a transform that changes the label (a flip of left/right bars) is found and named, with
the run's augmentation trained against one arm per transform without it; a label-preserving one (a
1-pixel crop, small noise) stays quiet; the repair drops the named transform."""
import pytest
import torch
from torch import nn

from trainwell.babysit import augment_check
from trainwell.babysit.actions import ACTIONS
from trainwell.babysit.findings import Diagnosis, make
from trainwell.babysit.registry import CODES
from trainwell.nn.losses import make_loss


def bars(n, seed=0):
    """8x8 images, 4 classes: a bright 2-pixel bar near the left, right, top or bottom edge (at one of
    three offsets), on noise of std 0.3. A horizontal flip turns left into right; a vertical one top
    into bottom; a 1-pixel shift keeps every class."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 4, (n,), generator=g)
    X = 0.3 * torch.randn(n, 1, 8, 8, generator=g)
    offset = torch.randint(0, 3, (n,), generator=g)
    for o in range(3):
        X[(y == 0) & (offset == o), 0, :, o:o + 2] += 1
        X[(y == 1) & (offset == o), 0, :, 6 - o:8 - o] += 1
        X[(y == 2) & (offset == o), 0, o:o + 2, :] += 1
        X[(y == 3) & (offset == o), 0, 6 - o:8 - o, :] += 1
    return X, y


def _cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 64, 4))


def _check(augment):
    X, y = bars(1500)
    return augment_check.check_augment(_cnn(), X, y, make_loss("cross_entropy"), augment=augment, total_steps=600,
                                       optimizer="adam", lr=1e-3, batch_size=32, steps=60)


def test_a_flip_of_left_and_right_is_found_and_named():
    found = _check([{"name": "crop", "pad": 1}, "hflip"])
    assert [(f.code, f.severity, f.evidence["transform"], f.evidence["drop"]) for f in found] == [
        ("augmentation_hurts", "warning", "hflip", 1)]
    f = found[0]
    assert f.evidence["kept"] == [{"name": "crop", "pad": 1}]
    assert f.evidence["fix_acc"] > f.evidence["setup_acc"] and f.evidence["longer"]["fix_acc"] > \
        f.evidence["longer"]["setup_acc"]
    assert "the augmentation hflip costs the held (un-augmented) rows" in f.message and f.fix == "drop hflip from augment"


@pytest.mark.parametrize("augment", [[{"name": "crop", "pad": 1}], [{"name": "noise", "std": 0.1}]])
def test_a_label_preserving_augmentation_is_quiet(augment):
    assert _check(augment) == []


def test_no_augmentation_runs_no_experiment(monkeypatch):
    monkeypatch.setattr(augment_check.interventions, "experiment", lambda *a, **k: pytest.fail("ran"))
    assert augment_check.check_augment(_cnn(), *bars(10), make_loss("cross_entropy"), augment=[], total_steps=600,
                                       optimizer="adam", lr=1e-3) == []


def test_the_repair_drops_the_named_transform():
    f = make("augmentation_hurts", "hflip hurts", evidence={"drop": 1, "transform": "hflip"})
    plan = CODES["augmentation_hurts"].plan(f, None)
    assert plan.action is ACTIONS["drop_augmentation"] and plan.options == {"index": 1, "name": "hflip"}
    calls = []

    class Controls:
        augment = [{"name": "crop", "pad": 1}, "hflip", "vflip"]

        def set_augment(self, specs):
            calls.append(specs)
    assert ACTIONS["drop_augmentation"].apply(Controls(), plan.options, seed=0) == "augmentation hflip dropped"
    assert calls == [[{"name": "crop", "pad": 1}, "vflip"]]
    assert isinstance(CODES["augmentation_hurts"].plan(make("augmentation_hurts", "x"), None), str)


# --- the transform's scale against the rows' (added_variance) ---------------------------------------------
def test_added_variance_of_noise_is_its_variance_over_the_rows():
    g = torch.Generator().manual_seed(11)
    X = torch.randn(4000, 6, generator=g)       # standardized features: variance 1 each
    for std in (0.05, 0.5, 2.0):
        # an independent reference: Var(x + s z) = Var(x) + s^2 for independent noise, within the sampled
        # covariance of x and z (2 s / sqrt(rows x features) a standard error: 3 of them)
        assert augment_check.added_variance({"name": "noise", "std": std, "clamp": False}, X, rows=4000) == \
            pytest.approx(std ** 2, rel=0.1, abs=3 * 2 * std / (4000 * 6) ** 0.5)


def test_moving_values_adds_no_variance():
    X, _ = bars(600)
    assert abs(augment_check.added_variance("hflip", X)) < 0.05
    assert augment_check.added_variance({"name": "cutout", "size": 0.5}, X) < 0.05
    assert augment_check.added_variance("hflip", torch.randn(50, 3)) is None     # an image op on flat rows
    assert augment_check.added_variance({"name": "cutout", "size": 4.0}, X) is None   # options fit refuses


def flat_classes(n, seed=0):
    """4 classes of 8 standardized features: class k's mean 3.5 standard deviations out along feature k."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 4, (n,), generator=g)
    X = torch.randn(n, 8, generator=g)
    X[torch.arange(n), y] += 3.5
    return (X - X.mean(0)) / X.std(0), y


def _mlp_check(std, steps=100):
    X, y = flat_classes(2000)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 4))
    return augment_check.check_augment(model, X, y, make_loss("cross_entropy"),
                                       augment=[{"name": "noise", "std": std}], total_steps=900,
                                       optimizer="adam", lr=1e-3, batch_size=32, steps=steps)


@pytest.mark.parametrize("steps", [60, 100])    # 60: the repairer's settings test on a 900-step run
def test_noise_above_the_signal_is_found_by_its_held_loss(monkeypatch, steps):
    """std 3 on standardized features ("3 %" meant): trained on, the held accuracy is within the
    sampling noise of the clean arm's (96 against 99 %) while the held loss stays 10x higher; the
    transform's measured scale (above the signal) lets the loss decide."""
    [f] = _mlp_check(3.0, steps=steps)
    assert (f.code, f.severity, f.evidence["transform"]) == ("augmentation_hurts", "warning", "noise")
    assert f.evidence["added_variance"] > augment_check.ABOVE_SIGNAL
    assert f.evidence["longer"]["fix_loss"] < 0.5 * f.evidence["longer"]["setup_loss"]
    assert "the rows' own variance" in f.message
    monkeypatch.setattr(augment_check, "ABOVE_SIGNAL", float("inf"))    # by accuracy alone: not ahead
    assert _mlp_check(3.0, steps=steps) == []


def test_loss_only_strips_the_accuracies_of_an_arm_and_its_trained_on_copy():
    from trainwell.babysit.interventions import Arm
    arm = Arm("a", "c", "x", after=1.0, acc=0.5, mid_acc=0.4, longer=Arm("a", "c", "x", after=0.5, acc=0.7))
    bare = augment_check._loss_only(arm)
    assert (bare.acc, bare.mid_acc, bare.longer.acc, bare.after, bare.longer.after) == (None, None, None, 1.0, 0.5)
    assert arm.acc == 0.5 and augment_check._loss_only(None) is None


def test_small_noise_on_the_same_rows_is_quiet():
    assert _mlp_check(0.05) == []


def _stalled_check(std, monkeypatch, steps=100):
    """``_mlp_check``'s data and model at Adam 2e-5, where nothing trains in 100 steps with the noise or
    without it; the lrs the experiment ran at (and, in ``runs``, the steps of each pass)."""
    lrs, measure = [], augment_check._measure
    monkeypatch.setattr(augment_check, "_measure",
                        lambda *a, **k: lrs.append(k["lr"]) or runs.append(k["steps"]) or measure(*a, **k))
    runs.clear()
    X, y = flat_classes(2000)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 4))
    found = augment_check.check_augment(model, X, y, make_loss("cross_entropy"),
                                        augment=[{"name": "noise", "std": std}], total_steps=900,
                                        optimizer="adam", lr=2e-5, batch_size=32, steps=steps)
    return found, lrs


runs = []


def test_a_stalled_experiment_runs_again_at_the_raised_lr_and_explains_the_low_lr(monkeypatch):
    """Noise of std 30 on standardized features at an lr 50x below Adam's default: the first pass cannot
    tell (every arm flat); at 10x the lr the clean arm classifies, the noisy setup stays near chance
    as it did at the run's lr, so the transform explains lr_too_low and ranks before it."""
    found, lrs = _stalled_check(30.0, monkeypatch)
    assert lrs == [2e-5, augment_check.RAISED_LR * 2e-5]
    [f] = found
    assert (f.code, f.evidence["transform"], f.evidence["lr"], f.evidence["explains"]) == (
        "augmentation_hurts", "noise", augment_check.RAISED_LR * 2e-5, ["lr_too_low"])
    assert f.evidence["fix_acc"] > f.evidence["setup_acc"] + 0.2 and "measured at lr 0.0002" in f.message
    low = make("lr_too_low", "the lr x10 arm trains better", evidence={"cause": "lr", "rank": 1})
    assert [g.code for g in Diagnosis([low, f]).ranked()] == ["augmentation_hurts", "lr_too_low"]


def test_a_stall_under_noise_below_the_signal_runs_no_second_pass(monkeypatch):
    found, lrs = _stalled_check(0.3, monkeypatch)
    assert lrs == [2e-5] and found == []


def test_stalled_reads_the_setup_and_its_finished_repeat():
    """set 26's roasts_color_jitter_simclr_strength in the repairer's 20-step pass: the setup with SimCLR's
    colour jitter fell 4.8 %, its repeat 4.4 %, the arm without the jitter 9.8 % (33 %, 46 % and 35 % of
    the held rows right): an arm that moves a little is no verdict while the setup has not left its start."""
    from trainwell.babysit.interventions import STUCK, Arm
    flat = Arm("s", "c", "x", before=1.0, after=1.0 - STUCK / 2)
    repeat = Arm("r", "", "x", before=1.0, after=1.0 - STUCK / 2, extra={"repeat": True})
    moved_repeat = Arm("r", "", "x", before=1.0, after=1.0 - 2 * STUCK, extra={"repeat": True})
    moved = Arm("a", "c", "x", before=1.0, after=1.0 - 2 * STUCK)
    out = Arm("t", "", "x", before=1.0, after=0.1, extra={"repeat": True, "timed_out": True})
    assert augment_check.stalled(flat, [repeat, moved]) and augment_check.stalled(flat, [out])
    assert not augment_check.stalled(flat, [moved_repeat, moved])
    assert not augment_check.stalled(Arm("s", "c", "x", before=1.0, after=0.5), [repeat])
    assert augment_check.stalled(Arm("n", "c", "x", before=1.0, after=float("nan")), [])   # non-finite: no fall


def test_the_raised_pass_trains_the_experiment_s_steps_within_the_run(monkeypatch):
    _stalled_check(30.0, monkeypatch, steps=30)
    assert runs == [30, 100]
    assert augment_check.raised_steps(30, 60) == 60 and augment_check.raised_steps(120, 900) == 120


def test_a_setup_that_learns_at_the_raised_lr_with_its_augmentation_ends_the_second_pass(monkeypatch):
    """Noise of std 1.5 (2.25x the rows' variance, above the signal) at Adam 2e-5: the first pass stays
    flat; the setup alone at 10x the lr learns with the noise, so the stall was the lr's and the arms do
    not run again."""
    learns = []
    probe = augment_check._learns_at
    monkeypatch.setattr(augment_check, "_learns_at", lambda *a, **k: learns.append(probe(*a, **k)) or learns[-1])
    found, lrs = _stalled_check(1.5, monkeypatch)
    assert learns == [True] and lrs == [2e-5] and found == []


def test_a_short_pass_that_stalls_runs_again_at_the_run_s_lr_for_the_experiment_s_steps(monkeypatch):
    """Noise of std 3 on standardized features (above the signal) at Adam 2e-4 in a 20-step pass (the
    repairer's settings test): every arm stays flat in 20 steps, the setup learns at the run's own lr in
    100, so the stall was the steps', not the lr's: the arms run again at the run's lr for 100 steps and
    the noise is found there (the raised lr, where the setup learns with its noise, would end the check)."""
    passes, measure = [], augment_check._measure
    monkeypatch.setattr(augment_check, "_measure",
                        lambda *a, **k: passes.append((k["lr"], k["steps"])) or measure(*a, **k))
    X, y = flat_classes(2000)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 4))
    found = augment_check.check_augment(model, X, y, make_loss("cross_entropy"),
                                        augment=[{"name": "noise", "std": 3.0}], total_steps=900,
                                        optimizer="adam", lr=2e-4, batch_size=32, steps=20)
    assert passes == [(2e-4, 20), (2e-4, 100)]
    [f] = found
    assert (f.code, f.evidence["transform"], f.evidence["lr"], f.evidence["steps"]) == (
        "augmentation_hurts", "noise", 2e-4, 100)
    assert "explains" not in f.evidence and "measured at lr" not in f.message
