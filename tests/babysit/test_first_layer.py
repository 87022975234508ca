"""What reaches the first trainable layer (babysit/first_layer.py): information lost before it
(``uninformative_inputs``) and category ids fed as numbers (``categories_as_numbers``)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import first_layer as fl
from trainwell.babysit.preflight import preflight


def stripes(n=900, seed=0, size=12):
    """Bright vertical lines 1 pixel wide on even columns (class 0) or odd ones (class 1), with noise:
    a 2x2 max-pool maps both classes onto the same image."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.zeros(n, 1, size, size)
    cols = torch.arange(size)
    for c in (0, 1):
        x[y == c] += ((cols % 2) == c).float() * (torch.rand((y == c).sum(), 1, 1, size, generator=g) < 0.5).float()
    return x + 0.05 * torch.randn(x.shape, generator=g), y


class SmallCNN(nn.Module):
    def __init__(self, pool_first=False):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.fc = nn.Linear(8, 2)
        self.pool_first = pool_first

    def forward(self, x):
        if self.pool_first:
            x = F.max_pool2d(x, 2)
        return self.fc(F.relu(self.conv(x)).mean((2, 3)))


def vitals(n=1500, seed=0):
    """Standardized readings; the class is set by how low column 0 or column 1 is."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g)
    y = (x[:, 0] < -0.6).long() + 2 * (x[:, 1] < -0.6).long()
    y[y == 3] = 1
    return x, y


def mlp(act_first=False, d=6, out=3):
    if act_first:
        return nn.Sequential(nn.ReLU(), nn.Linear(d, 32), nn.ReLU(), nn.Linear(32, out))
    return nn.Sequential(nn.Linear(d, 32), nn.ReLU(), nn.Linear(32, out))


def codes(found):
    return [f.code for f in found]


# ------------------------------------------------------------------------------ entry layers
def test_entry_layers_of_a_plain_net_see_every_input_entry():
    x, _ = vitals(64)
    e = fl.entry_layers(mlp(), x)
    assert e["names"] == ["0"] and not e["ignored"].any()


def test_invertible_transforms_before_the_first_layer_ignore_nothing():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(12, 2)

        def forward(self, x):
            return self.fc(torch.cat([torch.log1p(x.abs()) * x.sign(), 2 * x + 1], 1))
    x = torch.randn(64, 6)
    e = fl.entry_layers(Scaled(), x)
    assert e["names"] == ["fc"] and not e["ignored"].any()


def test_both_branches_of_a_wide_model_are_entry_layers_and_a_later_layer_is_not():
    class Wide(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.head = nn.Linear(3, 8), nn.Linear(3, 8), nn.Linear(16, 2)

        def forward(self, x):
            return self.head(torch.cat([self.a(x[:, :3]), self.b(x[:, 3:])], 1))
    e = fl.entry_layers(Wide(), torch.randn(32, 6))
    assert e["names"] == ["a", "b"] and not e["ignored"].any()


def test_a_frozen_first_layer_is_still_the_entry_layer():
    model = mlp()
    model[0].requires_grad_(False)
    assert fl.entry_layers(model, torch.randn(16, 6))["names"] == ["0"]


def test_ids_cast_for_an_embedding_are_not_checkable():
    class Embedded(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.fc = nn.Embedding(10, 4), nn.Linear(4, 2)

        def forward(self, x):
            return self.fc(self.emb(x.long()).mean(1))
    x = torch.randint(0, 10, (64, 5)).float()
    assert fl.entry_layers(Embedded(), x) is None
    y = (x[:, 0] > 4).long()
    assert fl.check_what_reaches(Embedded(), x.repeat(10, 1), y.repeat(10), class_ids=True) == []


def test_a_max_pool_first_ignores_three_quarters_of_the_pixels():
    x, _ = stripes(64)
    e = fl.entry_layers(SmallCNN(pool_first=True), x)
    assert e["inputs"][0].shape[1:] == (1, 6, 6)
    assert float(e["ignored"].float().mean()) == pytest.approx(0.75, abs=0.02)


# ------------------------------------------------------------------------------ information lost before the first layer
def test_a_max_pool_before_the_first_conv_that_hides_the_classes_is_found_and_its_twin_is_quiet():
    x, y = stripes()
    found = fl.check_what_reaches(SmallCNN(pool_first=True), x, y, class_ids=True)
    assert codes(found) == ["uninformative_inputs"]
    f = found[0]
    assert f.severity == "warning" and f.where == "conv" and f.evidence["ignored_share"] > 0.7
    assert f.evidence["raw_score"] - f.evidence["layer_score"] >= fl.MIN_DROP
    assert f.evidence["p"] < f.evidence["p_threshold"]
    assert fl.check_what_reaches(SmallCNN(), x, y, class_ids=True) == []


def test_a_relu_before_the_first_linear_on_standardized_inputs_is_found_and_its_twin_is_quiet():
    x, y = vitals()
    found = fl.check_what_reaches(mlp(act_first=True), x, y, class_ids=True)
    assert codes(found) == ["uninformative_inputs"] and found[0].where == "1"
    assert 0.4 < found[0].evidence["ignored_share"] < 0.6
    assert fl.check_what_reaches(mlp(), x, y, class_ids=True) == []


def test_a_relu_first_on_inputs_that_are_never_negative_loses_nothing():
    x, y = vitals()
    x = x - x.min(0).values                  # shifted to >= 0: the ReLU is the identity on them
    assert fl.check_what_reaches(mlp(act_first=True), x, y, class_ids=True) == []


def test_slicing_away_noise_columns_is_quiet_and_slicing_away_the_signal_is_found():
    x, y = vitals()

    class Sliced(nn.Module):
        def __init__(self, keep):
            super().__init__()
            self.keep, self.net = keep, mlp(d=len(keep))

        def forward(self, x):
            return self.net(x[:, self.keep])
    assert fl.check_what_reaches(Sliced([0, 1, 2]), x, y, class_ids=True) == []
    found = fl.check_what_reaches(Sliced([1, 2, 3]), x, y, class_ids=True)
    assert codes(found) == ["uninformative_inputs"]


class SteppedCell(nn.Module):
    """An LSTM cell stepped over the time axis in the forward's own loop, reading ``steps`` steps."""
    def __init__(self, steps):
        super().__init__()
        self.cell, self.head, self.steps = nn.LSTMCell(1, 16), nn.Linear(16, 3), steps

    def forward(self, x):
        h = c = x.new_zeros(x.shape[0], 16)
        for t in range(self.steps):
            h, c = self.cell(x[:, t:t + 1], (h, c))
        return self.head(h)


def test_a_cell_stepped_in_a_loop_receives_every_step_and_one_that_stops_short_is_found():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(1200, 12, generator=g)
    y = (x[:, 6:].mean(1) > 0.2).long() + (x[:, 6:].mean(1) > -0.2).long()      # the class is in the late steps
    e = fl.entry_layers(SteppedCell(12), x[:64])
    assert e["names"] == ["cell"] and e["calls"] == {"cell": list(range(12))}
    assert e["inputs"][0].shape == (64, 12) and not e["ignored"].any()
    assert torch.equal(fl.received(SteppedCell(12), x[:64], ["cell"], calls=e["calls"])[0], x[:64])
    assert fl.check_what_reaches(SteppedCell(12), x, y, class_ids=True) == []
    found = fl.check_what_reaches(SteppedCell(4), x, y, class_ids=True)         # the loop reads steps 0-3
    assert codes(found) == ["uninformative_inputs"] and found[0].evidence["ignored_share"] == pytest.approx(8 / 12)
    assert found[0].evidence["received_shapes"] == [(4,)]


def test_a_regression_target_lost_before_the_first_layer_is_judged_by_squared_error():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(1500, 4, generator=g)
    t = (x[:, 0] + 0.1 * torch.randn(1500, generator=g))[:, None]
    found = fl.check_what_reaches(mlp(act_first=True, d=4, out=1), x, t, class_ids=False)
    assert codes(found) == ["uninformative_inputs"]
    assert found[0].evidence["layer_score"] >= fl.LOSS_RATIO * found[0].evidence["raw_score"]
    assert fl.check_what_reaches(mlp(d=4, out=1), x, t, class_ids=False) == []


def test_too_few_rows_are_not_judged():
    x, y = vitals(fl.MIN_ROWS - 1)
    assert fl.check_what_reaches(mlp(act_first=True), x, y, class_ids=True) == []


def test_the_preflight_reports_information_lost_before_the_first_layer():
    x, y = vitals()
    found = preflight(mlp(act_first=True), x, y, cheap_only=True)
    assert "uninformative_inputs" in codes(found)


# ------------------------------------------------------------------------------ category ids as numbers
def flights_like(n=3000, seed=0, ids=25, one_hot=False):
    """Two measured columns and an id column whose effect is drawn at random per id."""
    g = np.random.default_rng(seed)
    effect = g.normal(0.0, 1.0, ids)
    hour = g.uniform(0, 24, n)
    count = g.integers(0, 15, n)
    site = g.integers(0, ids, n)
    score = effect[site] + 0.8 * np.sin(2 * np.pi * hour / 24) + 0.1 * count + g.normal(0, 0.5, n)
    y = np.digitize(score, np.quantile(score, [0.5, 0.8]))
    cols = [hour, count] + ([np.eye(ids)[site]] if one_hot else [site])
    x = np.column_stack(cols).astype(np.float32)
    x = (x - x.mean(0)) / x.std(0)
    return torch.tensor(x), torch.tensor(y), torch.tensor(score, dtype=torch.float32)


def test_a_label_encoded_id_column_is_found_and_its_one_hot_twin_is_quiet():
    x, y, _ = flights_like()
    found = fl.check_what_reaches(mlp(d=3), x, y, class_ids=True)
    assert codes(found) == ["categories_as_numbers"]
    f = found[0]
    assert f.evidence["columns"] == [2] and f.evidence["values"] == 23 and f.evidence["roughness"] >= fl.ROUGH
    x1, y1, _ = flights_like(one_hot=True)
    assert fl.check_what_reaches(mlp(d=x1.shape[1]), x1, y1, class_ids=True) == []


def test_an_id_column_under_a_regression_target_is_found():
    x, _, score = flights_like(seed=1)
    found = fl.check_what_reaches(mlp(d=3, out=1), x, score[:, None], class_ids=False)
    assert codes(found) == ["categories_as_numbers"] and found[0].evidence["column"] == 2


def test_measured_columns_with_few_values_are_not_ids():
    g = np.random.default_rng(4)
    hour = g.integers(0, 24, 4000)
    count = g.integers(0, 20, 4000)
    y = ((np.sin(2 * np.pi * hour / 24) + 0.15 * count + g.normal(0, 0.5, 4000)) > 1.0).astype(int)
    x = torch.tensor(np.column_stack([hour, count]).astype(np.float32))
    for j in (0, 1):
        r = fl.roughness(x[:, j], torch.tensor(y), class_ids=True)
        assert r["p"] < 1e-6 and r["rough"] < fl.ROUGH, (j, r)
    assert fl.check_what_reaches(mlp(d=2, out=2), x, torch.tensor(y), class_ids=True) == []


def test_an_id_column_unrelated_to_the_labels_is_quiet():
    g = np.random.default_rng(5)
    x = torch.tensor(np.column_stack([g.normal(size=3000), g.integers(0, 30, 3000)]).astype(np.float32))
    y = torch.tensor((x[:, 0] > 0).long().numpy())
    assert fl.check_what_reaches(mlp(d=2, out=2), x, y, class_ids=True) == []


def test_roughness_matches_a_direct_computation():
    g = np.random.default_rng(6)
    v = g.integers(0, 11, 3000)
    share = np.array([.5, .1, .9, .2, .8, .3, .7, .1, .9, .5, .5])
    y = (g.random(3000) < share[v]).astype(int)
    r = fl.roughness(torch.tensor(v, dtype=torch.float32), torch.tensor(y), class_ids=True)
    profiles, noise = [], []
    for k in range(1, 10):                  # the lowest and the highest value are left out
        yk = y[v == k]
        p = np.array([(yk == 0).mean(), (yk == 1).mean()])
        profiles.append(p)
        noise.append((p * (1 - p)).sum() / (len(yk) - 1))

    def d(a, b):
        return ((profiles[a] - profiles[b]) ** 2).sum() - noise[a] - noise[b]
    adjacent = np.mean([d(k, k + 1) for k in range(8)])
    pairs = np.mean([d(a, b) for a in range(9) for b in range(a + 1, 9)])
    assert r["values"] == 9 and r["rough"] == pytest.approx(adjacent / pairs, rel=1e-9)
    assert r["snr"] == pytest.approx(pairs / (2 * np.mean(noise)), rel=1e-9)
    assert r["rough"] > 1.0                 # alternating shares: neighbours differ more than any two


def test_a_special_value_at_the_end_of_a_smooth_range_is_not_read_as_ids():
    g = np.random.default_rng(7)
    count = g.integers(0, 15, 4000)          # a count whose zero means something else
    y = np.where(count == 0, 2, (g.random(4000) < 0.3 + 0.02 * count).astype(int))
    r = fl.roughness(torch.tensor(count, dtype=torch.float32), torch.tensor(y), class_ids=True)
    assert r["rough"] < fl.ROUGH


def test_too_few_or_too_many_values_are_not_read():
    x = torch.tensor(np.arange(3000) % (fl.MIN_VALUES + 1), dtype=torch.float32)
    assert fl.roughness(x, torch.tensor(np.arange(3000) % 2), class_ids=True) is None
    x = torch.tensor(np.arange(3000) % (fl.MAX_VALUES + 1), dtype=torch.float32)
    assert fl.roughness(x, torch.tensor(np.arange(3000) % 2), class_ids=True) is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_on_a_gpu_the_checks_read_the_host_rows_and_the_model_on_the_device():
    x, y = vitals()
    model = mlp(act_first=True).cuda()
    assert codes(fl.check_what_reaches(model, x, y, class_ids=True)) == ["uninformative_inputs"]
    xs, ys, _ = flights_like()
    assert codes(fl.check_what_reaches(mlp(d=3).cuda(), xs, ys, class_ids=True)) == ["categories_as_numbers"]


# ------------------------------------------------------------------------------ category ids read jointly
def _standard(cols):
    x = np.column_stack(cols).astype(np.float32)
    return torch.tensor((x - x.mean(0)) / x.std(0))


def entity_table(n=4000, seed=0, own_effect=0.0):
    """Rows of 14 depots: each depot's two measured attributes (floor area, staff), one column each,
    and a reading of the row; the target is smooth in the two attributes together (plus, with
    ``own_effect``, a random effect of the depot itself that no attribute explains)."""
    g = np.random.default_rng(seed)
    area, staff, own = g.normal(size=(3, 14))
    depot = g.integers(0, 14, n)
    reading = g.normal(size=n)
    score = area[depot] + staff[depot] + own_effect * own[depot] + 0.5 * reading + g.normal(0, 0.4, n)
    return _standard([area[depot], staff[depot], reading]), torch.tensor(score[:, None], dtype=torch.float32)


def test_an_entitys_attributes_each_rough_alone_are_smooth_together_and_quiet():
    x, y = entity_table()
    alone = [fl.roughness(x[:, j], y, class_ids=False) for j in (0, 1)]
    assert max(r["rough"] for r in alone) >= fl.ROUGH        # one attribute alone reads as ids
    assert fl.joint_roughness(x, 0, [1], y, class_ids=False) < fl.ROUGH
    assert fl.companions(x, 0, [1]) == [[1]]
    assert fl.check_what_reaches(mlp(d=3, out=1), x, y, class_ids=False) == []


def test_an_id_with_its_own_effect_stays_rough_beside_its_attributes():
    x, y = entity_table(own_effect=2.0)
    depot = torch.unique(x[:, 0], return_inverse=True)[1].float()   # the depot's number, beside its attributes
    x = torch.cat([x, ((depot - depot.mean()) / depot.std())[:, None]], 1)
    found = fl.check_what_reaches(mlp(d=4, out=1), x, y, class_ids=False)
    assert "categories_as_numbers" in codes(found) and 3 in found[0].evidence["columns"]
    joint = found[0].evidence["joint_roughness"]
    assert joint and min(joint.values()) >= fl.ROUGH           # read with every companion set, still rough


def test_one_half_of_a_cyclic_pair_is_read_with_the_other():
    g = np.random.default_rng(3)
    hour = g.integers(0, 24, 5000)
    angle = 2 * np.pi * hour / 24
    # a smooth daily profile odd about midnight: hours h and 24 - h (one value of cos) differ most
    daily = np.sin(angle) + np.sin(3 * angle)
    y = torch.tensor((daily + g.normal(0, 0.5, 5000) > 0.0).astype(np.int64))
    x = _standard([np.sin(angle), np.cos(angle), g.normal(size=5000)])
    assert fl.roughness(x[:, 1], y, class_ids=True)["rough"] >= fl.ROUGH    # cos alone folds h onto 24 - h
    assert fl.joint_roughness(x, 1, [0], y, class_ids=True) < fl.ROUGH
    assert fl.check_what_reaches(mlp(d=3, out=2), x, y, class_ids=True) == []


def test_a_companion_that_splits_the_rows_does_not_excuse_an_id():
    x, y, _ = flights_like(seed=2)
    flag = torch.tensor(np.random.default_rng(9).integers(0, 2, x.shape[0]), dtype=torch.float32)
    x = torch.cat([x, flag[:, None]], 1)                        # a binary column unrelated to the id
    r = fl.joint_roughness(x, 2, [3], y, class_ids=True)
    assert r is not None and r >= fl.ROUGH                      # each group's step is along the id
    assert codes(fl.check_what_reaches(mlp(d=4), x, y, class_ids=True)) == ["categories_as_numbers"]


def test_a_joint_reading_of_too_thin_groups_is_not_taken():
    x, y, _ = flights_like(seed=3)
    fine = torch.tensor(np.random.default_rng(4).integers(0, 200, x.shape[0]), dtype=torch.float32)
    x = torch.cat([x, fine[:, None]], 1)                        # 23 x 200 groups: ~1 row each
    assert fl.joint_roughness(x, 2, [3], y, class_ids=True) is None


# ------------------------------------------------------------------------------ positions the first layer never reads
def odd_dots(n=900, seed=0, size=12):
    """Noise, and 4 dots at random odd (row, column) positions, bright (class 1) or dark (class 0):
    a 1x1 convolution with stride 2 reads the even positions only, where there is noise alone."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = 0.05 * torch.randn(n, 1, size, size, generator=g)
    odd = size // 2
    for _ in range(4):
        r, c = 2 * torch.randint(0, odd, (n,), generator=g) + 1, 2 * torch.randint(0, odd, (n,), generator=g) + 1
        x[torch.arange(n), 0, r, c] += 2.0 * y - 1.0
    return x, y


class StridedCNN(nn.Module):
    """A first conv of ``kernel`` and ``stride`` (``padding``), ReLU, a global max, linear."""

    def __init__(self, kernel=1, stride=2, padding=0, zero=False):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, kernel, stride, padding)
        if zero:
            nn.init.zeros_(self.conv.weight)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(F.relu(self.conv(x)).flatten(2).amax(2))


def test_a_stride_wider_than_the_kernel_skips_the_positions_the_classes_need_and_its_twins_are_quiet():
    x, y = odd_dots()
    found = fl.check_what_reaches(StridedCNN(kernel=1, stride=2), x, y, class_ids=True)
    assert codes(found) == ["uninformative_inputs"]
    f = found[0]
    assert f.where == "conv" and f.evidence["unread"] and f.evidence["ignored_share"] == pytest.approx(0.75)
    assert f.evidence["raw_score"] - f.evidence["layer_score"] >= fl.MIN_DROP
    # the kernel as wide as the stride reads every position; a zero init reads them too once it trains
    assert fl.check_what_reaches(StridedCNN(kernel=3, stride=1, padding=1), x, y, class_ids=True) == []
    assert fl.check_what_reaches(StridedCNN(kernel=2, stride=2), x, y, class_ids=True) == []
    assert fl.check_what_reaches(StridedCNN(kernel=3, stride=1, padding=1, zero=True), x, y, class_ids=True) == []


def test_positions_skipped_where_the_classes_are_not_are_quiet():
    x, y = odd_dots()
    x = x[:, :, 1:, 1:]             # the dots now at even positions, which a stride of 2 reads
    assert fl.entry_layers(StridedCNN(kernel=1, stride=2), x[:64])["unread"].float().mean() > 0.5
    assert fl.check_what_reaches(StridedCNN(kernel=1, stride=2), x, y, class_ids=True) == []


class ReluGate(nn.Module):
    """A learned gate per input column, ``x * relu(gate)``, then an MLP: the gate's sign decides what passes."""

    def __init__(self, d=6):
        super().__init__()
        self.gate = nn.Parameter(torch.zeros(d))
        self.body = mlp(d=d)

    def forward(self, x):
        return self.body(x * torch.relu(self.gate))


def test_entries_a_gate_closes_at_one_draw_are_read_at_the_other():
    x, _ = vitals(64)
    assert not fl.entry_layers(ReluGate(), x)["unread"].any()
