"""ignored_classes.py: a loss whose gradient is exactly zero for every row of a real class. The
ignore rule of CrossEntropyLoss and a user's mask are both found, a void label outside the
model's classes and a saturated healthy model stay quiet."""
import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import ignored_classes as ic
from trainwell.babysit.preflight import preflight


def task(n=600, classes=3, seed=0):
    """Gaussian blobs: ``classes`` class ids 0..C-1, 6 features."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (n,), generator=g)
    centres = torch.randn(classes, 6, generator=g) * 2
    return centres[y] + torch.randn(n, 6, generator=g), y


def net(classes=3, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, classes))


def test_class_batch_takes_up_to_the_quota_of_every_class():
    y = torch.tensor([0] * 50 + [1] * 3 + [2] * 30 + [7] * 1)
    rows = ic.class_batch(y, per_class=16)
    ids, counts = torch.unique(y[rows], return_counts=True)
    assert ids.tolist() == [0, 1, 2, 7] and counts.tolist() == [16, 3, 16, 1]
    assert rows.unique().numel() == rows.numel()


def test_cross_entropy_ignore_index_on_a_real_class_is_a_label_problem():
    X, y = task()
    found = ic.check_ignored_classes(net(), X, y, nn.CrossEntropyLoss(ignore_index=0))
    assert [f.code for f in found] == ["label_problem"] and found[0].severity == "error"
    assert found[0].evidence["real_ignored"] == [0] and found[0].evidence["ignore_index"] == 0
    share = float((y == 0).double().mean())
    assert abs(found[0].evidence["training_share"] - share) < 1e-12
    assert ic.check_ignored_classes(net(), X, y, nn.CrossEntropyLoss()) == []


def test_a_users_mask_is_found_as_well_as_the_option():
    X, y = task(classes=4)

    def masked(out, t):                     # "class 2 is noisy, leave it out"
        keep = t != 2
        return F.cross_entropy(out[keep], t[keep])

    found = ic.check_ignored_classes(net(4), X, y, masked)
    assert found and found[0].evidence["real_ignored"] == [2] and found[0].evidence["ignore_index"] is None


def test_a_void_label_outside_the_models_classes_is_the_rules_purpose():
    X, y = task()
    y = torch.where(torch.arange(len(y)) % 10 == 0, torch.tensor(255), y)    # void rows, as in segmentation
    loss = nn.CrossEntropyLoss(ignore_index=255)
    assert ic.ignored_classes(net(), X, y, loss)["ignored_classes"] == [255]
    assert ic.check_ignored_classes(net(), X, y, loss) == []


def test_a_saturated_model_is_not_read_as_ignoring_its_class():
    """A model that already predicts class 1 with probability exactly 1 (float32) has exactly zero
    gradients on class 1's rows at its own outputs; at the rotated outputs it does not."""
    X, y = task()
    model = net()
    with torch.no_grad():
        model[2].weight.zero_()
        model[2].bias.copy_(torch.tensor([0.0, 1000.0, 0.0]))
    with torch.no_grad():
        out = model(X)
    zero = ic._zero_rows(nn.CrossEntropyLoss(), out, y)
    assert bool(zero[y == 1].all()) and not bool(zero[y != 1].any())
    assert ic.ignored_classes(model, X, y, nn.CrossEntropyLoss()) is None


def test_regression_targets_a_single_output_and_a_loss_that_reaches_no_row_are_not_judged():
    X, y = task()
    assert ic.ignored_classes(net(1), X, X[:, 0], nn.MSELoss()) is None
    assert ic.ignored_classes(net(1), X, (X[:, 0] > 0).long(), nn.MSELoss()) is None
    assert ic.ignored_classes(net(), X, y, lambda o, t: o.sum() * 0) is None    # dead everywhere: another fault


def test_preflight_names_the_ignored_class():
    X, y = task()
    found = preflight(net(), X, y, loss=nn.CrossEntropyLoss(ignore_index=0), cheap_only=True)
    assert [f.code for f in found if f.severity == "error"] == ["label_problem"]
    assert preflight(net(), X, y, loss=nn.CrossEntropyLoss(), cheap_only=True) == []


def test_a_class_weight_of_zero_ignores_its_class_too():
    X, y = task()
    loss = nn.CrossEntropyLoss(weight=torch.tensor([1.0, 0.0, 1.0]))
    found = ic.check_ignored_classes(net(), X, y, loss)
    assert found and found[0].evidence["real_ignored"] == [1]
    assert ic.check_ignored_classes(net(), X, y, nn.CrossEntropyLoss(weight=torch.tensor([1.0, 0.2, 1.0]))) == []


def test_many_classes_take_fewer_rows_each_and_are_still_judged():
    X, y = task(n=3000, classes=200)
    model = net(200)
    loss = nn.CrossEntropyLoss(ignore_index=7)
    found = ic.ignored_classes(model, X, y, loss)
    assert found["ignored_classes"] == [7] and found["rows_checked"] <= ic.MIN_ROWS * 200 + ic.BATCH_ROWS


def worst_row(out, y):
    """The per-row cross-entropy's largest value: one row of the batch gets the gradient."""
    return F.cross_entropy(out, y, reduction="none").max()


def top_quarter(out, y):
    """Online hard example mining over a quarter of the batch (the k worst rows' mean)."""
    rows = F.cross_entropy(out, y, reduction="none")
    return rows.topk(max(1, rows.shape[0] // 4)).values.mean()


def test_a_loss_that_selects_rows_of_the_batch_ignores_no_class():
    # the worst row (or the worst quarter) of the class batch lies in one or two classes: the others
    # get no gradient there, but each class's rows alone do, so no class is ignored
    X, y = task()
    assert ic.ignored_classes(net(), X, y, worst_row) is None
    assert ic.check_ignored_classes(net(), X, y, top_quarter) == []
    assert ic.reached_alone(worst_row, net()(X[y == 1]).detach(), y[y == 1])


def test_a_mask_still_ignores_its_class_in_a_batch_of_that_class_alone():
    def masked(out, y):
        rows = F.cross_entropy(out, y, reduction="none")
        return rows[y != 2].mean()

    X, y = task()
    assert not ic.reached_alone(masked, net()(X[y == 2]).detach(), y[y == 2])     # the mean of no rows: NaN
    assert ic.check_ignored_classes(net(), X, y, masked)[0].evidence["real_ignored"] == [2]
