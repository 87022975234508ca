"""The live monitor in a plain PyTorch loop: healthy runs stay quiet, broken ones are flagged early."""
import math
import random
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from babysit_loop import digits, mlp, train
from trainwell.babysit import monitor as monitor_module
from trainwell.babysit.cost import StepWork, sampling_period
from trainwell.babysit.monitor import SAMPLE_ONLY_RULES, Monitor
from trainwell.babysit import rules as RULES_MODULE
from trainwell.babysit.rules import RULES
from trainwell.train.state import StopKind

X, Y, XV, YV = digits()


def run(model=None, epochs=4, **kw):
    m = Monitor(every=kw.pop("every", 5))
    state = train(model or mlp(), X, Y, val=(XV, YV), epochs=epochs, callbacks=[m], **kw)
    return m, state


def test_healthy_run_has_no_findings():
    m, state = run(lr=0.1)
    assert m.findings == [] and m.errors == []
    assert state.history[-1]["val_acc"] > 0.85
    assert state.extras["babysit"]["samples"] == len(m.samples) > 10


def test_healthy_adam_run_has_no_findings():
    m, _ = run(optimizer=lambda p: torch.optim.Adam(p, lr=1e-3))
    assert m.findings == [], [str(f) for f in m.findings]


def test_lr_too_high_is_flagged_in_the_first_epoch():
    """lr 5 spikes one sample (26.6 at step 6, 11x the initial) and the net dies at a constant loss
    near its initial: the epoch's mean (351) holds the explosion, read at the first epoch's end
    (state.epoch 1 at its validation); one sample alone is no level (rules.exploded_level)."""
    m, _ = run(lr=5.0, epochs=2)
    codes = {f.code: f for f in m.findings}
    assert "lr_too_high" in codes and codes["lr_too_high"].evidence["epoch"] <= 1
    assert "lower lr from 5" in codes["lr_too_high"].fix


def test_nan_loss_stops_training_without_raising():
    model = mlp()
    with torch.no_grad():
        model[0].weight.mul_(1e30)
    m, state = run(model, lr=1e3, epochs=3)
    assert "nonfinite_loss" in {f.code for f in m.findings}
    assert state.stop.kind == StopKind.DIVERGED and state.stop.message.startswith("babysitter:") and state.epoch == 1
    assert "nonfinite_loss" in {f["code"] for f in state.extras["babysit"]["findings"]}


def test_lr_too_low_is_flagged_after_one_epoch():
    m, _ = run(lr=1e-6, epochs=2)
    f = [f for f in m.findings if f.code == "lr_too_low"]
    assert f and f[0].evidence["epoch"] <= 1 and "raise lr from 1e-06" in f[0].fix


def test_vanishing_gradients_in_a_deep_sigmoid_net():
    m, _ = run(mlp((64,) + (64,) * 8 + (10,), act=nn.Sigmoid), lr=0.1, epochs=1)
    f = [f for f in m.findings if f.code == "vanishing_gradients"]
    assert f and f[0].where == "0"


def test_a_broken_state_is_recorded_not_raised():
    m = Monitor(every=1)
    state = type("S", (), {"model": mlp(), "step": 0, "extras": {}, "history": [], "metrics": {}, "stop": None})()
    m.on_fit_start(state)
    m.on_before_step(state)
    state.step = 1
    m.on_after_step(state)          # no loss, no optimizer: must not raise
    m.on_validation_end(state)
    m.on_fit_end(state)
    assert m.errors and state.extras["babysit"]["errors"] == m.errors


def test_auto_sampling_period_keeps_overhead_low():
    """The period comes from the cost model of the counted step; the measured share is a
    wall-clock ratio, so its bound is loose."""
    m = Monitor()                   # every=None: the cost model's period
    train(mlp(), X, Y, epochs=6, callbacks=[m], lr=0.1)
    assert m.work.macs == 64 * (64 * 128 + 128 * 64 + 64 * 10) and m.work.tensors == 3
    assert m.every == sampling_period(m.work, overhead=0.02, activation_every=4, max_every=1000) > 1
    assert 2 <= len(m.samples) < m._steps_seen / 2
    assert m.overhead < 0.35


def test_auto_sampling_flags_lr_too_high_in_the_first_epoch():
    m = Monitor()
    train(mlp(), X, Y, val=(XV, YV), epochs=2, callbacks=[m], lr=5.0)
    codes = {f.code: f for f in m.findings}
    assert "lr_too_high" in codes and codes["lr_too_high"].evidence["epoch"] <= 1    # 1: the first epoch's end
    assert m.samples[0]["step"] == 1 and m.samples[1]["step"] <= 22     # the initial loss; then epoch 1's end


def test_the_sampled_steps_do_not_depend_on_the_clock(monkeypatch):
    """A loaded machine (a clock that runs 50x slower in the monitor's samples, or steps that
    take ten times longer) samples the same steps as a quiet one: the schedule is by step count."""
    def sampled(slow_sample, slow_step):
        now = [0.0]
        monkeypatch.setattr(monitor_module, "time", SimpleNamespace(perf_counter=lambda: now[0]))
        m = Monitor()
        real = m._sample

        def sample(state):
            real(state)
            now[0] += slow_sample

        m._sample = sample

        class Tick:
            def on_after_step(self, state):
                now[0] += slow_step
        train(mlp(), X, Y, epochs=3, callbacks=[Tick(), m], lr=0.1)
        return [s["step"] for s in m.samples], m.every
    quiet = sampled(1e-4, 1e-3)
    assert sampled(5e-3, 1e-3) == quiet and sampled(1e-4, 1e-2) == quiet


def test_the_cost_model_samples_rarer_when_a_sample_is_dear_relative_to_a_step():
    small = StepWork(macs=10_000, elements=1_000, calls=5, params=10_000, tensors=3)
    big_batch = StepWork(macs=10_000_000, elements=1_000_000, calls=5, params=10_000, tensors=3)
    every = [sampling_period(w, overhead=0.02, activation_every=4, max_every=1000) for w in (small, big_batch)]
    assert every[0] > every[1] >= 1
    gpu = StepWork(macs=10_000_000, elements=1_000_000, calls=5, params=10_000, tensors=3, device="cuda")
    assert 1 <= sampling_period(gpu, overhead=0.02, activation_every=4, max_every=1000) <= 1000


def test_sample_only_rules_ignore_the_history():
    """The epoch end skips these rules when no sample arrived since it last ran them."""
    rng = random.Random(0)
    names = ["0.weight", "2.weight"]
    for trial in range(30):
        samples = [{"step": i * 7 + 1, "epoch": i // 5, "loss": rng.choice([2.3, 0.5, 5.0, float("nan")]) * rng.random(),
                    "lr": 0.1, "batch_finite": True,
                    "grad_norm": {n: rng.choice([1e-9, 1e-3, 1.0, 1e3]) for n in names},
                    "weight_norm": {n: rng.uniform(0.5, 5) for n in names},
                    "update_ratio": {n: rng.choice([1e-7, 1e-3, 0.1]) for n in names}} for i in range(rng.randint(0, 40))]
        histories = [[], [{"epoch": e + 1, "lr": 0.1, "train_loss": rng.choice([2.3, 0.1, float("nan"), 50.0]),
                           "train_acc": rng.random(), "val_loss": rng.choice([None, 1.0, 9.0]), "val_acc": rng.random()}
                          for e in range(rng.randint(1, 8))]]
        ctx = {"initial_loss": 2.3, "steps_per_epoch": 20, "max_lr": 0.1, "final": bool(trial % 2)}
        for name in SAMPLE_ONLY_RULES:
            found = [[(f.code, f.where, f.message) for f in RULES[name](samples, h, ctx)] for h in histories]
            assert found[0] == found[1], name


def test_the_trainers_divergence_stop_is_reported_without_a_sample():
    """The trainer stops on its own window mean (> 3x the initial loss) between two samples: the
    monitor reports what stopped the run, with the numbers."""
    m = Monitor(every=1000)
    state = SimpleNamespace(step=51, epoch=0, history=[], metrics={"epoch": 1, "train_loss": 7.3},
                            diverged={"loss": 7.42, "initial_loss": 2.44, "step": 51, "lr": 7.9, "factor": 3.0},
                            extras={}, stop="the loss rose to 7.42 ...")
    m.on_validation_end(state)
    [f] = m.findings
    assert f.code == "loss_exploding" and f.evidence["ratio"] == pytest.approx(7.42 / 2.44)
    assert "step 51" in f.message and f.fix.startswith("lower lr from 7.9")
    m.on_validation_end(state)
    assert len(m.findings) == 1                                    # once
    nan = Monitor(every=1000)
    nan.on_validation_end(SimpleNamespace(**{**vars(state), "diverged": {**state.diverged, "loss": math.nan}}))
    assert [f.code for f in nan.findings] == ["nonfinite_loss"]


def test_fit_reports_the_divergence_it_stopped_on():
    import trainwell
    from trainwell.data.sources import digits as digits_splits

    torch.manual_seed(0)
    run = trainwell.fit(nn.Linear(64, 10), digits_splits(), lr=8.0, momentum=0.0, nesterov=False, batch_size=16, epochs=12,
                        progress=False, report=False, run_dir=None, device="cpu")   # the CPU trajectory's stop
    assert run.stopped.kind == StopKind.DIVERGED and run.stopped.message.startswith("the loss rose to")
    assert {"loss_exploding", "nonfinite_loss"} & set(run.findings.codes), run.findings.codes


def test_layers_frozen_by_an_lr_multiplier_of_zero_are_not_judged():
    """Fine-tuning holds the first layer still (lr_mults {"0": 0}): no update is no problem there."""
    import trainwell
    from trainwell.data.sources import digits as digits_splits

    m = Monitor(every=5)
    trainwell.fit(mlp(), digits_splits(), lr=0.05, epochs=3, lr_mults={"0": 0.0}, babysit="off", callbacks=[m],
                  progress=False, report=False, run_dir=None)
    assert "0.weight" not in m.samples[-1]["update_ratio"] and m.samples[-1]["update_ratio"]
    assert "update_ratio_low" not in {f.code for f in m.findings}
    held_a_little = Monitor(every=5)
    trainwell.fit(mlp(), digits_splits(), lr=0.05, epochs=1, lr_mults={"0": 0.1}, babysit="off",
                  callbacks=[held_a_little], progress=False, report=False, run_dir=None)
    assert "0.weight" in held_a_little.samples[-1]["update_ratio"]


def _drive(monitor, losses, **state_fields):
    """Feed ``losses`` to the monitor's hooks as consecutive sampled steps of a fake run."""
    w = nn.Parameter(torch.ones(4, 4))
    state = SimpleNamespace(model=nn.Module(), step=0, epoch=0, batch=None, lr=0.1, history=[], metrics={},
                            stop=None, extras={}, steps_per_epoch=50, **state_fields)
    state.model.w = w
    monitor.on_fit_start(state)
    for loss in losses:
        monitor.on_before_step(state)
        with torch.no_grad():
            w.sub_(1e-3)
        w.grad = torch.ones_like(w)
        state.step += 1
        state.loss = torch.tensor(loss)
        monitor.on_after_step(state)
    return state


def test_the_runs_divergence_factor_reaches_the_rules():
    """A run configured to allow 10x its initial loss is not reported as exploding at 4x."""
    losses = [1.0, 1.0, 1.0, 4.0, 4.0]
    default = Monitor(every=1, activation_every=0)
    _drive(default, losses, config=SimpleNamespace(divergence_factor=3.0))
    assert "loss_exploding" in {f.code for f in default.findings}
    lenient = Monitor(every=1, activation_every=0)
    _drive(lenient, losses, config=SimpleNamespace(divergence_factor=10.0))
    assert "loss_exploding" not in {f.code for f in lenient.findings}
    assert lenient.initial_loss == 1.0


def test_reset_trajectory_restarts_the_samples_and_hands_back_the_findings():
    m = Monitor(every=1, activation_every=0)
    state = _drive(m, [1.0, 1.0, 1.0, 9.0, 9.0])
    found = list(m.findings)
    assert found and m.samples
    abandoned = m.reset_trajectory(state.step)
    assert abandoned == found and m.findings == [] and m.samples == []
    assert m.initial_loss == 1.0                       # the reference survives a rollback
    m.on_before_step(state)                            # the very next step is sampled
    state.step += 1
    m.on_after_step(state)
    assert [s["step"] for s in m.samples] == [state.step]


def test_withdrawn_findings_can_be_reported_again():
    m = Monitor(every=1, activation_every=0)
    _drive(m, [1.0, 1.0, 1.0, 9.0, 9.0])
    exploding = [f for f in m.findings if f.code == "loss_exploding"]
    m.withdraw(exploding)
    assert "loss_exploding" not in {f.code for f in m.findings}
    assert m.diagnosis.add(exploding[0])


class _Alone:
    """A Distributed stand-in: rank ``rank`` of a job whose other ranks add nothing (the sums
    come back as they went: the job's values are this process's). Counts the all-reduces."""

    def __init__(self, rank):
        self.rank, self.world, self.is_main, self.reduced = rank, 1, rank == 0, []

    def all_reduce_sum(self, tensor):
        self.reduced.append(tensor.numel())
        return tensor.clone()


def test_under_ddp_one_all_reduce_per_sample_gives_the_values_of_one_process():
    """A monitor under DDP reads the job's values from its shard sums (one all-reduce a sampled
    step, none on the others): with nothing added by other ranks they are one process's (loss,
    norms, every activation statistic, the period from the counted work), and so are the
    findings; a rank other than 0 samples alike but reports nothing. (Shards that add up:
    test_probes.py, and two real ranks: tests/train/test_distributed.py.)"""
    runs = {}
    for name, d in (("one", None), ("rank0", _Alone(0)), ("rank1", _Alone(1))):
        m = Monitor(activation_every=1)
        if d is not None:
            m.use_distributed(d)
        state = train(mlp(), X, Y, val=(XV, YV), lr=5.0, epochs=1, callbacks=[m])
        runs[name] = (m, d, state)
    one, rank0, rank1 = (runs[k][0] for k in ("one", "rank0", "rank1"))
    assert len(runs["rank0"][1].reduced) == len(rank0.samples) == len(one.samples) >= 2
    assert one.every == rank0.every == rank1.every
    for a, b in zip(one.samples, rank0.samples):
        assert a["step"] == b["step"] and a["grad_norm"] == b["grad_norm"]
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-6)
    for a, b in zip(one.activations, rank0.activations):
        for layer, stats in a["layers"].items():
            for key, value in stats.items():
                assert value == (pytest.approx(b["layers"][layer][key], rel=1e-5, abs=1e-6)
                                 if isinstance(value, float) else b["layers"][layer][key]), (layer, key)
    assert [f.key for f in one.findings] == [f.key for f in rank0.findings] and one.findings
    assert rank1.findings == [] and rank1.samples == rank0.samples and "babysit" not in runs["rank1"][2].extras


def test_a_rank_follows_rank_0s_schedule_and_its_restarts():
    m = Monitor(every=5)
    m.use_distributed(_Alone(1))
    m.samples = [{"step": 3}]
    rank0 = Monitor(every=5)
    rank0._next, rank0._sampled = 8, 2
    m.follow(rank0.schedule())
    assert (m._next, m.every, m.samples) == (8, 5, [{"step": 3}])
    rank0.reset_trajectory(6)                          # a repair's rollback on rank 0
    m.follow(rank0.schedule())
    assert m._next == 7 and m.samples == []


def _shrinking_tanh(seed=0):
    """Six tanh layers at std 0.03 and zero biases (gain ~0.17 a layer): the activations vanish
    with depth."""
    torch.manual_seed(seed)
    layers, width = [], 64
    for out in (32, 32, 32, 32, 32, 10):
        lin = nn.Linear(width, out)
        nn.init.normal_(lin.weight, std=0.03)
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.Tanh()]
        width = out
    return nn.Sequential(*layers[:-1])


def test_activation_records_are_capped_by_max_samples():
    m = Monitor(every=1, activation_every=1, max_samples=3)
    state = train(mlp(), X, Y, epochs=1, lr=0.1, callbacks=[m])
    assert len(m.samples) == 3 and len(m.activations) == 3
    assert [a["step"] for a in m.activations] == [state.step - 2, state.step - 1, state.step]
    resumed = Monitor(every=1, activation_every=1, max_samples=3)
    resumed.load_state_dict(m.state_dict())
    assert resumed.activations == m.activations


def test_vanishing_activations_are_judged_after_the_cap():
    """The in-training check skips only the run's first record (the pre-flight's to judge), not
    every record once the capped list stops growing."""
    m = Monitor(every=1, activation_every=1, max_samples=1)
    train(_shrinking_tanh(), X, Y, epochs=1, lr=1e-4, callbacks=[m])
    assert len(m.activations) == 1
    assert "vanishing_activations" in {f.code for f in m.findings}
    first_only = Monitor(every=1000, activation_every=1, max_samples=1)
    train(_shrinking_tanh(), X, Y, epochs=1, lr=1e-4, callbacks=[first_only])
    assert len(first_only.activations) == 1
    assert "vanishing_activations" not in {f.code for f in first_only.findings}


def _dead(share):
    return monitor_module.make("dead_units", f"{100 * share:.0f}% dead", where="net.3", evidence={})


def test_units_dead_during_training_warn_only_when_they_hurt():
    """CS231n: 'as much as 40% of your network can be dead': a dead share the net trains with is
    info; it is a warning when the loss is not falling or the share grew since the earliest record."""
    grade = monitor_module.grade_unit_symptom
    first = {"net.3": {"dead": 0.45, "std": 0.3}}
    same = {"net.3": {"dead": 0.46, "std": 0.3}}
    assert grade(_dead(0.46), same, first, loss=0.5, initial_loss=2.3).severity == "info"      # trains
    stalled = grade(_dead(0.46), same, first, loss=2.25, initial_loss=2.3)                       # < 5% fallen
    assert stalled.severity == "warning" and stalled.evidence["harm"]["stalled"]
    grew = grade(_dead(0.7), {"net.3": {"dead": 0.7}}, first, loss=0.5, initial_loss=2.3)
    assert grew.severity == "warning" and grew.evidence["harm"]["grew"]
    assert grade(_dead(0.46), same, None, loss=2.3, initial_loss=2.3).severity == "info"         # init: the pre-flight's
    quiet = monitor_module.make("vanishing_activations", "quiet", where="net.3", evidence={})
    shrunk = grade(quiet, {"net.3": {"std": 0.1}}, first, loss=0.5, initial_loss=2.3)
    assert shrunk.severity == "warning" and shrunk.evidence["harm"]["grew"]
    other = monitor_module.make("symmetric_init", "not a unit statistic", where="net.3", evidence={})
    severity = other.severity
    assert grade(other, same, first, loss=0.5, initial_loss=2.3).severity == severity           # not graded
    assert "harm" not in other.evidence


def _big(where="net.3", severity="warning"):
    return monitor_module.make("exploding_activations", f"activations grow at {where}", where=where,
                               evidence={}, severity=severity)


def test_large_activations_during_training_warn_only_when_they_hurt():
    """A net that fits grows its weights and with them its activations: large activations in
    training are info while the loss falls and the layer grew less than GROWN times since the
    earliest record; a stalled loss or a hundredfold growth keeps the warning; NaN/inf stay errors."""
    grade, grown = monitor_module.grade_unit_symptom, monitor_module.GROWN
    first = {"net.3": {"std": 0.1}}
    fitting = grade(_big(), {"net.3": {"std": 0.9}}, first, loss=0.5, initial_loss=1.1)      # 9x, loss halved
    assert fitting.severity == "info" and not fitting.evidence["harm"]["hurts"]
    assert "9x" in fitting.message and "1.1 -> 0.5" in fitting.message
    stalled = grade(_big(), {"net.3": {"std": 0.9}}, first, loss=1.08, initial_loss=1.1)     # < 5% fallen
    assert stalled.severity == "warning" and stalled.evidence["harm"]["stalled"]
    blown = grade(_big(), {"net.3": {"std": 0.1 * grown * 1.01}}, first, loss=0.5, initial_loss=1.1)
    assert blown.severity == "warning" and blown.evidence["harm"]["grew"] and "went from 0.1" in blown.message
    edge = grade(_big(), {"net.3": {"std": 0.1 * grown * 0.99}}, first, loss=0.5, initial_loss=1.1)
    assert edge.severity == "info"
    inf = grade(_big(), {"net.3": {"std": math.inf}}, first, loss=0.5, initial_loss=1.1)
    assert inf.severity == "warning" and inf.evidence["harm"]["grew"]
    nan = grade(_big(severity="error"), {"net.3": {"std": math.nan}}, first, loss=0.5, initial_loss=1.1)
    assert nan.severity == "error" and "harm" not in nan.evidence
    assert grade(_big(), {"net.3": {"std": 0.9}}, None, loss=1.1, initial_loss=1.1).severity == "info"
    unknown = grade(_big(), {"net.3": {"std": 0.9}}, first, loss=None, initial_loss=None)      # no loss yet
    assert unknown.severity == "info" and "grew 9x" in unknown.message


def test_a_harmless_unit_symptom_becomes_a_warning_when_a_later_record_shows_harm():
    m = Monitor()
    state = SimpleNamespace(step=10, epoch=1, extras={})
    m._add_unit_symptom(state, monitor_module.grade_unit_symptom(
        _dead(0.46), {"net.3": {"dead": 0.46}}, {"net.3": {"dead": 0.45}}, 0.5, 2.3))
    assert [f.severity for f in m.findings] == ["info"]
    m._add_unit_symptom(state, monitor_module.grade_unit_symptom(
        _dead(0.8), {"net.3": {"dead": 0.8}}, {"net.3": {"dead": 0.45}}, 0.5, 2.3))
    assert [f.severity for f in m.findings] == ["warning"]


class _GatedBlocks(nn.Module):
    """Residual blocks ``x + gate(f(x))`` whose gate starts at exactly 0 (``kind``): "zero_last", the
    branch's last Linear initialized to 0 (Fixup); "bn_gamma", a BatchNorm1d after the branch with
    gamma 0 (Goyal et al. 2017); "constant", a zero factor that is a plain tensor, never trained."""

    def __init__(self, kind, *, width=48, blocks=3):
        super().__init__()
        torch.manual_seed(3)
        self.kind = kind
        self.stem = nn.Linear(64, width)
        self.branches = nn.ModuleList(nn.Sequential(nn.Linear(width, width), nn.Tanh(), nn.Linear(width, width))
                                      for _ in range(blocks))
        self.norms = nn.ModuleList(nn.BatchNorm1d(width) for _ in range(blocks))
        self.head = nn.Linear(width, 10)
        with torch.no_grad():
            for branch, norm in zip(self.branches, self.norms):
                if kind == "zero_last":
                    branch[2].weight.zero_()
                    branch[2].bias.zero_()
                if kind == "bn_gamma":
                    norm.weight.zero_()
        self.register_buffer("factor", torch.zeros(1))

    def forward(self, x):
        h = self.stem(x)
        for branch, norm in zip(self.branches, self.norms):
            out = branch(h)
            if self.kind == "bn_gamma":
                out = norm(out)
            elif self.kind == "constant":
                out = self.factor * out
            h = h + out
        return self.head(h)


@pytest.mark.parametrize("kind, optimizer, early", [
    ("zero_last", lambda p: torch.optim.SGD(p, lr=0.05), 10),
    ("bn_gamma", lambda p: torch.optim.Adam(p, lr=1e-4), 20)])
def test_a_branch_behind_a_zero_initialized_trained_gate_is_not_vanishing(kind, optimizer, early):
    """While the gate is small its branch's gradient is ~1e-4 of the stem's (the first ``early``
    samples): read alone that is vanishing; with the fit's first sample it is an opened gate."""
    m, state = run(_GatedBlocks(kind), optimizer=optimizer, epochs=2, every=1)
    first, window = m.state_dict()["first_sample"], m.samples[:early]
    gated = set(RULES_MODULE.gated_at_init(first, window))
    assert "branches.0.0.weight" in gated and "stem.weight" not in gated and "head.weight" not in gated
    ctx = {"initial_loss": m.initial_loss}
    # read on the gradients alone: Adam's steps move the small-gradient branch too (rules.barely_learning)
    window = [dict(s, update_ratio={}) for s in window]
    assert RULES_MODULE.vanishing_gradients(window, [], ctx)[0].where.startswith("branches.")
    assert RULES_MODULE.vanishing_gradients(window, [], dict(ctx, first_sample=first)) == []
    assert "vanishing_gradients" not in {f.code for f in m.findings}, [str(f) for f in m.findings]


def test_a_zero_factor_that_is_not_trained_leaves_its_branch_unused_not_gated():
    m, _ = run(_GatedBlocks("constant"), optimizer=lambda p: torch.optim.Adam(p, lr=1e-3), epochs=2, every=2)
    assert RULES_MODULE.gated_at_init(m.state_dict()["first_sample"], m.samples) == []
    assert "branches.0.0.weight" in RULES_MODULE.unused_parameters(m.samples)


def test_the_first_sample_survives_a_reset_and_a_checkpoint():
    m, _ = run(_GatedBlocks("zero_last"), epochs=1, every=3)
    first = m.state_dict()["first_sample"]
    assert first["step"] == 1 and first["grad_norm"]["branches.1.0.weight"] == 0.0
    m.reset_trajectory(50)
    resumed = Monitor()
    resumed.load_state_dict(m.state_dict())
    assert resumed.state_dict()["first_sample"] == first


def test_a_checkpoint_from_before_the_first_sample_was_kept_takes_no_later_sample_as_the_first():
    """An older checkpoint holds no first sample: a sample taken after the resume is mid-run, not the
    gradient at the initial weights, and is not kept as one."""
    m, _ = run(_GatedBlocks("zero_last"), epochs=1, every=3)
    saved = m.state_dict()
    del saved["first_sample"]
    resumed = Monitor(every=3)
    resumed.load_state_dict(saved)
    resumed.reset_trajectory(0)                     # sample again from the next step
    train(_GatedBlocks("zero_last"), X, Y, val=(XV, YV), epochs=1, callbacks=[resumed])
    assert resumed.samples and not resumed.state_dict()["first_sample"]
