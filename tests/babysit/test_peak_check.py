"""The lr a schedule reaches later in the run, probed from a snapshot (babysit/peak_check.py)."""
import math

import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import peak_check
from trainwell.babysit.doctor import doctor
from trainwell.optim.schedules import cosine, one_cycle, warmup


def classes(n=2000, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(4, 8, generator=g) * 1.5
    y = torch.randint(0, 4, (n,), generator=g)
    return centres[y] + torch.randn(n, 8, generator=g), y


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 4))


X, Y = classes()
KW = dict(optimizer="sgd", lr=0.05, options={"momentum": 0.9}, batch_size=32, seed=0)


def step_up(at, factor):
    """A user's schedule function that multiplies the lr by ``factor`` from step ``at`` on."""
    return lambda step: factor if step >= at else 1.0


def test_peak_is_the_largest_multiplier_over_the_run():
    assert peak_check.peak(lambda s: 1.0, 500) == (0, 1.0)
    assert peak_check.peak(step_up(300, 10.0), 500) == (300, 10.0)
    # a triangle of period 200 between 1 and 4: its first top at step 100
    tri = lambda s: 1.0 + 3.0 * (1 - abs((s % 200) - 100) / 100)
    assert peak_check.peak(tri, 1000) == (100, 4.0)
    # a run longer than POINTS steps is sampled, its last step included
    at, top = peak_check.peak(lambda s: 1.0 + s / 1e6, 3 * peak_check.POINTS + 7)
    assert at == 3 * peak_check.POINTS + 6 and math.isclose(top, 1.0 + at / 1e6)


def test_trainwells_own_schedules_are_never_candidates():
    # the configured lr is their peak: warmups rise to it, decays fall from it
    for schedule in (cosine(total=900), one_cycle(total=900), warmup(cosine(total=900), steps=90), None):
        assert peak_check.candidate(schedule, 900) is None
    assert peak_check.candidate(step_up(450, peak_check.PEAK_RATIO * 0.99), 900) is None
    assert peak_check.candidate(step_up(450, peak_check.PEAK_RATIO), 900) == (450, peak_check.PEAK_RATIO)

    class Plateau:                              # a schedule with state: its lr follows the metric
        def __call__(self, step):
            return 5.0

        def observe(self, value):
            pass
    assert peak_check.candidate(Plateau(), 900) is None


def test_a_peak_that_diverges_is_named_with_its_step_and_lr():
    found = peak_check.check_peak(net(), X, Y, F.cross_entropy, schedule=step_up(600, 100.0), total_steps=900, **KW)
    assert [f.code for f in found] == ["lr_too_high"]
    f = found[0]
    ev = f.evidence
    assert f.severity == "warning" and f.where == "schedule" and ev["schedule_peak"]
    assert ev["step"] == 600 and math.isclose(ev["peak_lr"], 5.0) and ev["diverges"]
    # the control from the same snapshot, at the configured lr, does not rise
    assert ev["control"] <= ev["snapshot"] < ev["start"]
    assert not math.isfinite(ev["peak"]) or ev["peak"] > peak_check.RISE * ev["snapshot"]
    assert "step 600" in f.message and "lr 5" in f.message


def test_a_peak_the_setup_trains_at_is_quiet():
    # 2.5x an Adam lr of 1e-3: above PEAK_RATIO, so probed, and it trains on
    r = peak_check.experiment(net(), X, Y, F.cross_entropy, schedule=step_up(300, 2.5), total_steps=900,
                              optimizer="adam", lr=1e-3, batch_size=32, seed=0)
    assert r is not None and not r["diverges"] and r["peak"] < r["snapshot"]
    assert peak_check.check_peak(net(), X, Y, F.cross_entropy, schedule=step_up(300, 2.5), total_steps=900,
                                 optimizer="adam", lr=1e-3, batch_size=32, seed=0) == []


def test_the_model_is_untouched():
    model = net()
    before = [p.clone() for p in model.parameters()]
    peak_check.experiment(model, X, Y, F.cross_entropy, schedule=step_up(600, 100.0), total_steps=900, **KW)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_the_doctor_probes_a_schedule_that_rises_past_the_configured_lr():
    tr, va = (X[:1600], Y[:1600]), (X[1600:], Y[1600:])
    d = doctor(net(), tr, va, optimizer="sgd", lr=0.05, momentum=0.9, batch_size=32, epochs=15,
               schedule=step_up(500, 100.0), probe=False)
    f = next(f for f in d.findings if f.code == "lr_too_high")
    assert f.evidence["schedule_peak"] and f.evidence["step"] == 500
    quiet = doctor(net(), tr, va, optimizer="sgd", lr=0.05, momentum=0.9, batch_size=32, epochs=15,
                   schedule="cosine", probe=False, wall_s=None)
    assert not any(f.code == "lr_too_high" and f.evidence.get("schedule_peak") for f in quiet.findings)
