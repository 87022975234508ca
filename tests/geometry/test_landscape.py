import copy
import math

import pytest
import torch
import torch.nn.functional as F

from trainwell.errors import ConfigError, DataError
from trainwell.geometry import landscape as L
from trainwell.geometry.directions import combine, difference, random_directions, weights_of

from geometry_helpers import small_cnn


def reference_values(model, weights, X, y, *, recompute=False):
    """Loss and accuracy with the weights loaded into a plain copy (no functional_call)."""
    m = copy.deepcopy(model)
    with torch.no_grad():
        for name, p in m.named_parameters():
            p.copy_(weights[name])
        if recompute:
            for mod in m.modules():
                if isinstance(mod, torch.nn.BatchNorm2d):
                    mod.reset_running_stats()
                    mod.momentum = None
            m.train()
            m(X)
        m.eval()
        out = m(X)
    return float(F.cross_entropy(out, y)), float((out.argmax(1) == y).float().mean())


def state_of(model):
    return {k: v.clone() for k, v in model.state_dict().items()}, model.training


def test_surface_points_match_a_plain_evaluation_and_leave_the_model_unchanged(images):
    X, y = images
    model = small_cnn().train()
    model(X)                                  # non-trivial running statistics
    before, training = state_of(model)
    ls = L.surface(model, (X, y), steps=5, seed=2, points_per_pass=4)
    after, still = state_of(model)
    assert still == training and all(torch.equal(before[k], after[k]) for k in before)
    ds = random_directions(weights_of(model), seed=2)
    for i, j in [(0, 0), (2, 2), (4, 1), (3, 4)]:
        coords = [ls.axes[0][i].item(), ls.axes[1][j].item()]
        loss, acc = reference_values(model, combine(weights_of(model), ds, coords), X, y)
        assert ls.values["train_loss"][i, j].item() == pytest.approx(loss, rel=1e-5, abs=1e-6)
        assert ls.values["train_acc"][i, j].item() == pytest.approx(acc, abs=1e-6)


def test_batched_and_one_point_passes_agree(images):
    X, y = images
    model = small_cnn()
    a = L.surface(model, (X, y), steps=4, points_per_pass=16)
    b = L.surface(model, (X, y), steps=4, points_per_pass=1)
    c = L.surface(model, (X, y), steps=4, points_per_pass=16, batch_size=7)   # data in batches
    assert torch.allclose(a.values["train_loss"], b.values["train_loss"], rtol=1e-5)
    assert torch.allclose(a.values["train_loss"], c.values["train_loss"], rtol=1e-5)


def test_recomputed_batch_norm_statistics(images):
    X, y = images
    model = small_cnn()
    start, end = weights_of(model), weights_of(small_cnn(seed=1))
    line = L.interpolate(model, start, end, (X, y), alphas=[0.0, 0.3, 1.0], bn="recompute")
    for k, alpha in enumerate([0.0, 0.3, 1.0]):
        w = combine(start, [difference(end, start)], [alpha])
        loss, _ = reference_values(model, w, X, y, recompute=True)
        assert line.values["train_loss"][k].item() == pytest.approx(loss, rel=1e-4)
    frozen = L.interpolate(model, start, end, (X, y), alphas=[0.3])
    assert frozen.values["train_loss"][0].item() != pytest.approx(line.values["train_loss"][1].item(), rel=1e-3)


def test_interpolation_ends_are_the_two_weight_sets_and_test_split(images):
    X, y = images
    model = small_cnn()
    start, end = weights_of(model), weights_of(small_cnn(seed=1))
    line = L.interpolate(model, start, end, (X, y), test=(X[:20], y[:20]))
    assert line.axes[0][0].item() == pytest.approx(-0.5) and line.axes[0][-1].item() == pytest.approx(1.5)
    at = {round(a.item(), 4): k for k, a in enumerate(line.axes[0])}
    assert line.values["train_loss"][at[0.0]].item() == pytest.approx(reference_values(model, start, X, y)[0], rel=1e-5)
    assert line.values["train_loss"][at[1.0]].item() == pytest.approx(reference_values(model, end, X, y)[0], rel=1e-5)
    assert line.values["test_loss"][at[1.0]].item() == pytest.approx(
        reference_values(model, end, X[:20], y[:20])[0], rel=1e-5)


def test_plane_passes_through_the_three_solutions(images):
    X, y = images
    model = small_cnn()
    ws = [weights_of(small_cnn(seed=s)) for s in range(3)]
    ls = L.plane(model, *ws, (X, y), steps=6)
    pts = ls.meta["points"]
    assert pts[0] == (0.0, 0.0) and pts[1][1] == 0.0
    # the orthonormal basis rebuilt from the points gives back the third solution
    u = difference(ws[1], ws[0])
    un = {k: t / pts[1][0] for k, t in u.items()}
    v = {k: ws[2][k] - ws[0][k] - pts[2][0] * un[k] for k in u}
    vn = {k: t / pts[2][1] for k, t in v.items()}
    back = combine(ws[0], [un, vn], pts[2])
    assert all(torch.allclose(back[k], ws[2][k], atol=1e-5) for k in back)
    with pytest.raises(ConfigError, match="lie on one line"):
        L.plane(model, ws[0], ws[1], combine(ws[0], [u], [2.0]), (X, y))


def test_an_interrupted_grid_resumes_and_computes_only_the_rest(images, tmp_path, monkeypatch):
    X, y = images
    model = small_cnn()
    path = tmp_path / "grid.safetensors"
    full = L.surface(model, (X, y), steps=5, points_per_pass=4)
    calls = []
    real = L.Evaluator.batched

    def dying(self, stacked):
        calls.append(next(iter(stacked.values())).shape[0])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, stacked)

    monkeypatch.setattr(L.Evaluator, "batched", dying)
    with pytest.raises(KeyboardInterrupt):
        L.surface(model, (X, y), steps=5, points_per_pass=4, path=path)
    monkeypatch.setattr(L.Evaluator, "batched", real)
    counted = []
    monkeypatch.setattr(L.Evaluator, "batched", lambda self, s: counted.append(1) or real(self, s))
    resumed = L.surface(model, (X, y), steps=5, points_per_pass=4, path=path)
    assert len(counted) == math.ceil((25 - 8) / 4)            # two passes of 4 were saved
    assert torch.equal(resumed.values["train_loss"], full.values["train_loss"])
    with pytest.raises(DataError, match="grid.safetensors: holds a grid with other settings \\(seed\\)"):
        L.surface(model, (X, y), steps=5, seed=1, path=path)


def test_subset_is_seeded_and_reports_its_sampling_error(images):
    X, y = images
    model = small_cnn()
    a = L.surface(model, (X, y), steps=3, subset=30, seed=4)
    b = L.surface(model, (X, y), steps=3, subset=30, seed=4)
    assert torch.equal(a.values["train_loss"], b.values["train_loss"])
    idx = torch.randperm(60, generator=torch.Generator().manual_seed(4))[:30]
    with torch.no_grad():
        per = F.cross_entropy(model.eval()(X[idx]), y[idx], reduction="none").double()
    expected = per.std().item() / math.sqrt(30) * math.sqrt(30 / 59)
    assert a.meta["sampling_error"] == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ConfigError, match="subset = 100: must be an integer in 2..60"):
        L.surface(model, (X, y), subset=100)
    with pytest.raises(ConfigError, match="bn = 'live'"):
        L.surface(model, (X, y), bn="live")
    for span in (float("nan"), float("inf"), 0.0):    # a NaN span passed `span <= 0`: a grid of NaN
        with pytest.raises(ConfigError, match=rf"span = {span}: need steps >= 2 and a finite span > 0"):
            L.surface(model, (X, y), steps=3, span=span)


def test_non_finite_values_are_json_strings():
    ls = L.Landscape("line", [torch.tensor([0.0, 1.0])], {"train_loss": torch.tensor([0.5, float("inf")])})
    assert ls.to_dict()["values"]["train_loss"] == [0.5, "inf"]
