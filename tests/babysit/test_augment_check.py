"""augment_check: a transform that changes the label (a flip of left/right bars) is found and named, with
the run's augmentation trained against one arm per transform without it; a label-preserving one (a
1-pixel crop, small noise) stays quiet; the repair drops the named transform."""
import pytest
import torch
from torch import nn

from trainwell.babysit import augment_check
from trainwell.babysit.actions import ACTIONS
from trainwell.babysit.findings import make
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
