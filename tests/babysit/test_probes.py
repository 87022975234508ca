import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit.probes import (STAT_NAMES, ActivationRecorder, UpdateProbe, activation_statistics,
                                      gradient_norms, input_std)


class Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.act = nn.Linear(6, 8), nn.Linear(8, 3), nn.Tanh()

    def forward(self, x):
        return torch.sigmoid(self.b(self.act(F.relu(self.a(x)))))


def test_statistics_match_an_independent_computation():
    torch.manual_seed(0)
    a = torch.randn(50, 4, 3) * 2
    s = activation_statistics(torch.tanh(a), "tanh").tolist()
    t = torch.tanh(a)
    assert abs(s[0] - t.mean().item()) < 1e-6 and abs(s[1] - t.std().item()) < 1e-6
    assert abs(s[2] - (t.abs() > 0.99).float().mean().item()) < 1e-6
    r = torch.relu(a)
    r[:, 1] = 0.0                                     # channel 1 never positive: dead
    dead = activation_statistics(r, "relu").tolist()[3]
    assert abs(dead - 0.25) < 1e-6


def test_recorder_names_module_and_functional_calls_and_excludes_output():
    model = Functional()
    x = torch.randn(32, 6)
    with ActivationRecorder(model) as rec:
        out = model(x)
    stats = rec.stats(exclude=out)
    assert list(stats) == ["model.relu#0", "act"]           # the output sigmoid is excluded
    assert stats["act"]["family"] == "tanh" and stats["model.relu#0"]["dead"] is not None
    assert torch._C._len_torch_function_stack() == 0       # nothing left hooked
    assert not model.a._forward_hooks and not model._forward_pre_hooks


def test_update_ratio_and_grad_norms():
    w = nn.Parameter(torch.ones(3, 4))
    probe = UpdateProbe([w])
    probe.before()
    with torch.no_grad():
        w.add_(0.01)
    update, weight = probe.after()
    assert abs(update.item() / weight.item() - 0.01) < 1e-6
    w.grad = torch.full((3, 4), 2.0)
    assert abs(gradient_norms([w]).item() - (12 * 4) ** 0.5) < 1e-5


def mlp(act=nn.ReLU):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), act(), nn.Linear(16, 16), act(), nn.Linear(16, 3))


def exact(a, family):
    return dict(zip(STAT_NAMES, activation_statistics(a, family).tolist()))


def test_recorder_statistics_match_the_exact_ones_on_every_path():
    model, x = mlp(), torch.randn(64, 6)
    model[2].bias.data.fill_(-10.0)                          # layer 3's units are all dead
    hidden = {"1": torch.relu(model[0](x)), "3": torch.relu(model[2](torch.relu(model[0](x))))}
    rec = ActivationRecorder(model, forward_only=True)
    for hooks_only in (False, True):                         # intercepted, then hooks only
        rec.start()
        assert bool(torch.nn.modules.module._global_forward_pre_hooks) != hooks_only
        model(x)
        model(x)                                             # a second forward (SAM) is not recorded
        rec.stop()
        stats = rec.stats()
        assert list(stats) == ["1", "3"]
        for name, a in hidden.items():
            want = exact(a, "relu")
            assert stats[name]["dead"] == want["dead"] and stats[name]["nonfinite"] == 0
            for key in ("mean", "std", "signal"):
                assert abs(stats[name][key] - want[key]) < 1e-5, key
    assert stats["3"]["dead"] == 1.0
    assert torch._C._len_torch_function_stack() == 0
    assert not torch.nn.modules.module._global_forward_hooks and not model[1]._forward_hooks


def test_recorder_saturation_and_nonfinite_fall_back_to_the_exact_path():
    a = torch.randn(40, 8) * 3
    for family, fn in (("tanh", torch.tanh), ("sigmoid", torch.sigmoid)):
        model = nn.Sequential(nn.Identity())
        rec = ActivationRecorder(model).start()
        out = fn(model(a))
        rec.stop()
        got, want = rec.stats()["model." + fn.__name__ + "#0"], exact(out, family)
        assert abs(got["saturated"] - want["saturated"]) < 1e-6 and abs(got["std"] - want["std"]) < 1e-5
    bad = a.clone()
    bad[0, 0] = float("nan")
    with ActivationRecorder(model) as rec:
        torch.relu(bad)
    assert rec.stats()["model.relu#0"]["nonfinite"] == 1.0


def test_recorder_keeps_intercepting_functional_calls_and_relearns_after_a_swap():
    model, x = Functional(), torch.randn(32, 6)
    rec = ActivationRecorder(model, forward_only=True)
    for _ in range(3):                                       # F.relu in forward: never hooks-only
        rec.start()
        out = model(x)
        rec.stop()
        assert list(rec.stats(exclude=out)) == ["model.relu#0", "act"]
    model = mlp()
    rec = ActivationRecorder(model, forward_only=True)
    for swap in (False, False, True, False):
        if swap:                                             # a repair swaps an activation module
            model[3] = nn.Tanh()
        rec.start()
        model(x[:, :6])
        rec.stop()
        stats = rec.stats()
        assert list(stats) == ["1", "3"]
        assert stats["3"]["family"] == ("tanh" if isinstance(model[3], nn.Tanh) else "relu")


def test_recorder_names_a_module_called_twice():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.act = nn.Linear(4, 8), nn.Linear(8, 8), nn.ReLU()

        def forward(self, x):
            return self.b(self.act(self.b(self.act(self.a(x)))))

    model, x = Shared(), torch.randn(16, 4)
    rec = ActivationRecorder(model, forward_only=True)
    for _ in range(2):
        rec.start()
        model(x)
        rec.stop()
        assert list(rec.stats()) == ["act", "act#1"]


def test_update_probe_refills_the_same_buffers():
    w = nn.Parameter(torch.ones(3, 4))
    probe = UpdateProbe([w])
    for step in (0.01, 0.03):
        probe.before()
        buffers = probe._buffers
        with torch.no_grad():
            w.add_(step)
        update, weight = probe.after()
        expected = step * (12 ** 0.5)
        assert abs(update.item() - expected) < 1e-5 and abs(weight.item() - torch.linalg.norm(w - step).item()) < 1e-4
    probe.before()
    assert probe._buffers is buffers and probe._buffers[0] is buffers[0]


def test_input_std_matches_torch():
    x = torch.randn(20, 5) * 3 + 1
    assert abs(input_std(x) - x.std().item()) < 1e-5
    x[0, 0] = float("inf")
    clean = x.clone()
    clean[0, 0] = 0.0
    assert abs(input_std(x) - clean.std().item()) < 1e-5


def test_recorder_statistics_of_convolution_channels():
    torch.manual_seed(0)
    a = torch.randn(8, 4, 5, 5) * torch.tensor([0.1, 1.0, 3.0, 1.0]).view(1, 4, 1, 1) + 2.0
    a[:, 3] = -1.0                                            # channel 3 never positive: dead
    model = nn.Sequential(nn.Identity())
    with ActivationRecorder(model) as rec:
        torch.relu(a.clone())
        torch.tanh(a)
    stats, want = rec.stats(), exact(torch.relu(a), "relu")
    for key in STAT_NAMES:
        got = stats["model.relu#0"][key]
        assert (got is None and want[key] != want[key]) or abs(got - want[key]) < 1e-5, key    # None: NaN
    assert stats["model.relu#0"]["dead"] == 0.25
    want = exact(torch.tanh(a), "tanh")
    assert abs(stats["model.tanh#0"]["saturated"] - want["saturated"]) < 1e-6
    assert abs(stats["model.tanh#0"]["signal"] - want["signal"]) < 1e-5


def test_shard_sums_add_up_to_the_whole_batchs_statistics():
    """activation_sums of a batch's row shards (one with a single row), added as the DDP
    all-reduce adds them, give the whole batch's statistics (stats_from_sums) to 1e-6 of the exact
    ones (computed in float32): mean, std, saturated, dead, non-finite count and signal, for every
    family, dense and conv, with a dead unit and a NaN."""
    from trainwell.babysit.probes import activation_sums, layer_stats, stats_from_sums
    torch.manual_seed(0)
    dense = torch.randn(9, 6, dtype=torch.float64) * 3 + 1
    dense[:, 2] = -1.0                                       # a unit never positive: dead
    conv = torch.randn(5, 3, 4, 4, dtype=torch.float64)
    conv[1, 0, 2, 2] = float("nan")
    for a in (dense, conv):
        for family, fn in (("relu", torch.relu), ("tanh", torch.tanh), ("sigmoid", torch.sigmoid),
                           ("other", F.leaky_relu)):
            out = fn(a)
            want = exact(out, family)
            total = sum(activation_sums(part, family) for part in (out[:1], out[1:4], out[4:]))
            got = stats_from_sums(total.tolist(), family)
            for key in STAT_NAMES:
                assert (got[key] is None and want[key] != want[key]) or \
                    abs(got[key] - want[key]) <= 1e-6 * max(1.0, abs(want[key])), (family, key, got[key], want[key])
    model, x = mlp(), dense[:, :6].float()
    with ActivationRecorder(model, reducible=True) as alone:  # read alone: this process's batch
        model(x)
    with ActivationRecorder(model, reducible=True) as shard:
        model(x)
    layout, flat = shard.sums()                               # what a rank all-reduces
    assert [name for name, _, _ in layout] == ["1", "3"] and flat.dtype == torch.float64
    assert layer_stats(layout, flat.tolist()) == alone.stats()


def test_a_functional_activation_freed_before_the_output_is_not_taken_for_it():
    """Under no_grad the relu's output is freed inside the forward, and Python may give its id to
    the model's output: excluding the output by id dropped the relu (2 forwards in 3 before)."""
    torch.manual_seed(0)
    for _ in range(50):
        model = Functional()
        with torch.no_grad(), ActivationRecorder(model) as rec:
            out = model(torch.randn(32, 6))
        assert list(rec.stats(exclude=out)) == ["model.relu#0", "act"]


def test_the_live_recorder_leaves_out_an_output_activation_and_what_the_output_views():
    """forward_only (the monitor): a sigmoid whose output is the model's output, directly (a module)
    or through a view (``torch.sigmoid(z).squeeze(-1)``), is no hidden layer; the hidden ones stay."""
    class ProbabilityHead(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden, self.act, self.out = nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 1)

        def forward(self, x):
            return torch.sigmoid(self.out(self.act(self.hidden(x)))).squeeze(-1)
    x = torch.randn(32, 6)
    for model, hidden in ((ProbabilityHead(), ["act"]),
                          (nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid()), ["1"])):
        rec = ActivationRecorder(model, forward_only=True)
        for _ in range(3):                                   # the intercepting and the hooks-only paths
            rec.start()
            model(x)
            rec.stop()
            assert list(rec.stats()) == hidden
