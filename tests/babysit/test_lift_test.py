"""The experiment's accuracy test as one statistic (``interventions.lifted``): a fix's lift counts
when (lift - MIN_LIFT) exceeds SAMPLING_Z standard errors of the lift, the held rows' sampling and
the run-to-run spread combined (``lift_error``). Constructed cases: a lift past MIN_LIFT and past
two sampling errors separately, but not past both together (info), and a lift far beyond the noise
on a setup whose two runs differ by 12 points (a warning, where three times one repeat's
difference hid it)."""
import math

import torch

from trainwell.babysit import interventions as iv
from trainwell.babysit.findings import make


def _arm(name, acc, **extra):
    return iv.Arm(name, "", name, before=2.3, after=1.0 - acc, steps=100, acc=acc, rows=512, extra=extra)


def _grade(setup, repeat, fix):
    fix.extra["grades"] = True
    return iv.grade([make("bad_initial_loss", "3x")], setup, [repeat, fix])[0]


def test_a_lift_past_min_lift_and_the_sampling_error_separately_but_not_together_is_info():
    """90.0 % against 94.7 % on 512 rows, the repeat at 90.5 %: the lift (4.7 points) exceeds
    MIN_LIFT (3) and two sampling errors (3.4) and three times the repeat's difference (1.5), but
    its excess over 3 points, 1.7, is inside two standard errors of the lift (3.5)."""
    setup, repeat, fix = _arm("setup", 0.900), _arm("setup (repeat)", 0.905, repeat=True), _arm("reinit", 0.947)
    lift = fix.acc - setup.acc
    sampling = math.sqrt(2 * 0.9235 * 0.0765 / 512)
    assert lift > iv.MIN_LIFT and lift > iv.SAMPLING_Z * sampling and lift > iv.NOISE_FACTOR * 0.005
    assert lift - iv.MIN_LIFT < iv.SAMPLING_Z * iv.lift_error(setup, fix, 0.005)
    assert not iv.significant(setup, fix, repeat)
    f = _grade(setup, repeat, fix)
    assert f.severity == "info" and not f.evidence["harm"]["hurts"]


def test_a_lift_far_beyond_the_noise_of_an_unstable_setup_stays_a_warning():
    """The setup's two runs end 60 % and 72 % right (a setup still in flux at the arms' steps); the
    fix reaches 93 %: 33 points, 2.4 standard errors of the lift beyond MIN_LIFT (the spread's
    share: 12 points). Three times one repeat's difference, 36 points, had called it noise: a single
    draw of the spread decided, not its size against the lift."""
    setup, repeat, fix = _arm("setup", 0.60), _arm("setup (repeat)", 0.72, repeat=True), _arm("reinit", 0.93)
    assert fix.acc - setup.acc < iv.NOISE_FACTOR * 0.12
    assert iv.significant(setup, fix, repeat)
    f = _grade(setup, repeat, fix)
    assert f.severity == "warning" and f.evidence["harm"]["hurts"] and f.evidence["harm"]["fix"] == "reinit"


def test_a_lift_well_beyond_both_is_a_warning_and_one_below_min_lift_never_counts():
    """80 % against 95 %, the repeat at 81 %: a warning. A lift under MIN_LIFT (2.5 points) is never
    significant, however small the spread."""
    setup, repeat = _arm("setup", 0.80), _arm("setup (repeat)", 0.81, repeat=True)
    assert _grade(setup, repeat, _arm("reinit", 0.95)).severity == "warning"
    still = _arm("setup (repeat)", 0.80, repeat=True)
    assert not iv.significant(setup, _arm("reinit", 0.825), still)
    assert not iv.lifted(setup, _arm("reinit", 0.825))


def test_the_lift_error_matches_simulated_runs_and_holds_the_test_level():
    """An independent reference: two runs per arm simulated as binomial draws on 512 rows around an
    accuracy that moves from run to run by N(0, sigma^2). The lift's standard deviation over 20,000
    simulated pairs matches ``lift_error`` given the repeat's expected spread (E[d^2] = 2 sigma^2),
    and at a true lift of exactly MIN_LIFT the test calls about Phi(-SAMPLING_Z) = 2.3 % of them
    lifted (the level of a one-sided z test)."""
    gen = torch.Generator().manual_seed(0)
    n, sigma, draws, base_p = 512, 0.02, 20000, 0.85

    def runs(p):
        centre = (p + sigma * torch.randn(draws, generator=gen, dtype=torch.float64)).clamp(0, 1)
        return torch.binomial(torch.full((draws,), float(n), dtype=torch.float64), centre, generator=gen) / n
    setup_acc, fix_acc = runs(base_p), runs(base_p + iv.MIN_LIFT)
    lift = fix_acc - setup_acc
    expected = iv.lift_error(_arm("setup", base_p), _arm("fix", base_p + iv.MIN_LIFT), math.sqrt(2) * sigma)
    assert abs(lift.std().item() / expected - 1) < 0.03
    called = sum(iv.lifted(_arm("setup", s), _arm("fix", f), math.sqrt(2) * sigma)
                 for s, f in zip(setup_acc.tolist(), fix_acc.tolist())) / draws
    phi = 0.5 * math.erfc(iv.SAMPLING_Z / math.sqrt(2))
    assert abs(called - phi) < 0.006
