"""The doctor's backstop over every experiment (doctor.py, budget.py): each training is priced
before it runs and left out when it would end past ``wall_s`` of the backstop's seconds (the nominal
seconds spent at the budget's rate), the run options' checks rank before the lr arms, and a part
that runs past the backstop stops. The rate here is a fake (``RATE``, beyond ``RATE_TRUSTED``) and
the wall clock a fake paced to the budget's spending, so nothing depends on the machine's load; the
real clocks: each experiment's CPU seconds against its price, read beside plain training steps
measured on the same thread around it, and one doctor beside busy processes pinned to its CPU (the
backstop must not see them)."""
import math
import time

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import augment_check, batch_check, budget as budget_module, interventions, schedule_check
from trainwell.babysit.budget import SAFETY_FACTOR, Budget
from trainwell.babysit.doctor import doctor, mark_ungraded, said_by_part
from trainwell.babysit.probe_steps import make_optimizer, train_step
from trainwell.nn.losses import make_loss
from trainwell.optim.schedules import make_schedule
from babysit_loop import digits
from test_augment_check import _cnn as bars_cnn, bars
from test_budget import PINNABLE, on_one_cpu_beside

FAST = {"progress": False, "report": False, "device": "cpu"}
RATE = 12.0         # the fake machine: its measured rate, 12 seconds per nominal second


def milestones(step):
    """MultiStepLR milestones meant as epochs (10, 13) stepped per batch: lr x0.01 after step 13."""
    return 0.1 ** sum(step >= m for m in (10, 13))


def relu_mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


@pytest.fixture(scope="module")
def data():
    X, y, Xv, yv = digits()
    return (X, y), (Xv, yv)


@pytest.fixture(scope="module")
def free_run(data):
    """(diagnosis, budget, priced trainings) of ``_run`` without a backstop, run once for the module:
    on the fake clock it is deterministic (test_with_room_for_everything_the_backstop_changes_nothing
    compares two such runs finding by finding), and the tests only read it."""
    calls = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        free, budget = _run(data, monkeypatch, record=calls)
    return free, budget, calls


def _run(data, monkeypatch, *, wall_s=None, jump_after=None, jump=0.0, record=None, load=1.0, starved=False):
    """The doctor on a schedule that decays early (its experiment and the lr arms both run) at a
    measured rate of ``RATE`` seconds per nominal second, the backstop jumping by ``jump`` seconds once
    ``jump_after`` nominal seconds are spent (a part that ran past its price). The wall clock reads
    ``load`` x the backstop's seconds (a machine that busy); ``starved``: the jump is the wall clock's
    alone (the doctor stopped getting a CPU: no work done)."""
    holder = {}

    def jumped():
        return jump if holder and jump_after is not None and holder["budget"].spent > jump_after else 0.0

    def got():
        return RATE * holder["budget"].spent if holder else 0.0
    opts = {**FAST, "epochs": 4, "batch_size": 32, "optimizer": "sgd", "momentum": 0.9, "lr": 0.05, "seed": 1,
            "schedule": milestones}
    with monkeypatch.context() as m:
        m.setattr(budget_module, "measure_rate", lambda model, x, work: RATE)
        m.setattr(time, "perf_counter", lambda: load * got() + jumped())
        if not starved:
            elapsed = Budget.backstop_elapsed
            m.setattr(Budget, "backstop_elapsed", lambda self: elapsed(self) + jumped())
        if record is not None:
            fits = Budget.fits_wall

            def recorded(self, seconds, parts, **kw):
                record.append((parts, self.root.spent, seconds, kw.get("behind", False)))
                return fits(self, seconds, parts, **kw)
            m.setattr(Budget, "fits_wall", recorded)
        budget = Budget(60.0)
        holder["budget"] = budget
        return doctor(relu_mlp(), *data, budget=budget, wall_s=wall_s, **opts), budget


def _codes(diagnosis, severities=("error", "warning")):
    return sorted(f.code for f in diagnosis.findings if f.severity in severities)


def _finding(f):
    return f.code, f.severity, f.where, f.message, repr(f.evidence)


def _skipped(diagnosis):
    return [s for f in diagnosis.findings if f.code == "check_skipped" and f.evidence.get("backstop")
            for s in f.evidence["skipped"]]


def test_every_training_is_priced_before_it_runs_and_the_run_options_rank_before_the_lr_arms(data, monkeypatch,
                                                                                            free_run):
    free, spent, calls = free_run
    assert "schedule_decays_early" in _codes(free) and not _skipped(free)
    names = [n for parts, *_ in calls for n in ([parts] if isinstance(parts, str) else parts[:1])]
    # the setup, the arms, the training on, the schedule's checks and the probe are each priced
    assert "the experiment: the arm 'setup'" in names and "the probe" in names
    assert "the schedule check (schedule_decays_early)" in names
    assert any(n.startswith("the schedule check (schedule_decays_early): the arm") for n in names)
    lr = [(at, price) for parts, at, price, behind in calls if not isinstance(parts, str)
          and parts[0].startswith("the experiment: the arm 'lr")]
    assert lr and all(behind for parts, at, price, behind in calls if not isinstance(parts, str)
                      and parts[0].startswith("the experiment: the arm 'lr"))
    # a wall that holds everything but the lr arms: they go (behind the schedule's reserved price),
    # the schedule's experiment runs and finds what it found without a backstop
    schedule_price = schedule_check.cost(spent, schedule=milestones, total_steps=4 * 44, batch_size=32)
    at, price = lr[0]
    wall_s = RATE * (at + schedule_price + price / 2)
    cut, budget = _run(data, monkeypatch, wall_s=wall_s)
    skipped = _skipped(cut)
    assert skipped and skipped[0] == "the experiment: the arm 'lr x0.1'", skipped
    assert "schedule_decays_early" in _codes(cut)
    assert [f for f in cut.findings if f.code == "schedule_decays_early"][0].evidence == \
        [f for f in free.findings if f.code == "schedule_decays_early"][0].evidence
    assert RATE * budget.spent <= wall_s


@pytest.mark.parametrize("share", [0.2, 0.4, 0.7])
def test_a_doctor_whose_experiments_exceed_the_wall_ends_within_it_and_names_what_it_left_out(data, monkeypatch,
                                                                                             free_run, share):
    free, spent, _ = free_run
    wall_s = RATE * share * spent.spent
    cut, budget = _run(data, monkeypatch, wall_s=wall_s)
    step = budget.step_cost(32) + 3 * budget.forward_cost(512)      # one step and an arm's evaluations
    assert RATE * budget.spent <= wall_s + RATE * step
    skipped = _skipped(cut)
    assert skipped and all(isinstance(s, str) and s.startswith("the ") for s in skipped)
    note = [f for f in cut.findings if f.code == "check_skipped" and f.evidence.get("backstop")][0]
    assert note.severity == "info" and f"backstop ({wall_s:g} s)" in note.message


def test_a_part_the_backstop_outruns_stops_and_says_where(data, monkeypatch, free_run):
    """The prediction let an arm start, then the work ran past its price (the backstop jumps by twice
    the wall limit, short of the budget's safety stop): the arm
    stops at its next step, nothing after it runs, and the note names the arm cut and the parts left out."""
    free, spent, _ = free_run
    at, wall_s = 0.5 * spent.spent, RATE * spent.spent + 1.0
    cut, budget = _run(data, monkeypatch, wall_s=wall_s, jump_after=at, jump=2 * wall_s)
    assert not budget.clock_stopped
    step = budget.step_cost(32) + 3 * budget.forward_cost(512)
    assert budget.spent <= at + 2 * step
    skipped = _skipped(cut)
    assert any("cut at step" in s for s in skipped) and "the probe" in skipped, skipped


def test_on_a_loaded_machine_the_backstop_leaves_out_nothing_a_quiet_one_runs(data, monkeypatch, free_run):
    """A machine at load 10 (the wall clock runs 10x the backstop's seconds): with a backstop that
    holds everything on a quiet machine, the findings are the quiet machine's, evidence included, and
    nothing is left out, though the wall clock passed the backstop's seconds 6 times over (a backstop
    on the wall clock cut the experiments there)."""
    free, spent, _ = free_run
    wall_s = RATE * spent.spent * 1.5
    quiet, _ = _run(data, monkeypatch, wall_s=wall_s)
    loaded, budget = _run(data, monkeypatch, wall_s=wall_s, load=10.0)
    assert 10.0 * RATE * budget.spent > 6 * wall_s
    assert "check_skipped" not in _codes(loaded, ("info",)) and not budget.dropped
    assert [_finding(f) for f in loaded.findings] == [_finding(f) for f in quiet.findings]
    assert _codes(loaded) == _codes(free) and "schedule_decays_early" in _codes(loaded)


def test_a_doctor_starved_of_the_cpu_ends_by_the_wall_clock_safety_stop(data, monkeypatch, free_run):
    """Half-way the thread stops getting a CPU (the wall clock jumps past the safety stop, no work
    done): the backstop never reaches its seconds, the wall-clock safety stop ends the doctor, and a
    check_skipped info says what went."""
    free, spent, _ = free_run
    jump = 2 * SAFETY_FACTOR * 60.0
    cut, budget = _run(data, monkeypatch, wall_s=RATE * spent.spent * 1.5, jump_after=0.5 * spent.spent, jump=jump,
                       starved=True)
    assert budget.clock_stopped and not budget.dropped and not _skipped(cut)     # the safety stop's, not the backstop's
    assert budget.spent < spent.spent and "check_skipped" in _codes(cut, ("info",))


@pytest.mark.slow
@PINNABLE
def test_beside_busy_processes_on_its_cpu_the_doctor_finds_what_it_finds_alone(data):
    """The real clock and real competitors: four busy processes pinned to the doctor's CPU take about
    four fifths of it. With a backstop 3x the seconds the doctor's work read alone, the wall clock
    runs past it and the doctor still runs every part: the same findings, evidence included, and no
    check_skipped."""
    opts = {**FAST, "epochs": 4, "batch_size": 32, "optimizer": "sgd", "momentum": 0.9, "lr": 0.05, "seed": 1,
            "schedule": milestones}
    with on_one_cpu_beside(0):                              # alone, on the same one CPU and one thread
        doctor(relu_mlp(), *data, wall_s=None, **opts)      # the first call in a process pays one-time costs
        alone = Budget(60.0)
        reference = doctor(relu_mlp(), *data, budget=alone, wall_s=None, **opts)
    wall_s = 3.0 * alone.backstop_elapsed()
    with on_one_cpu_beside(4):
        started = time.perf_counter()
        loaded = doctor(relu_mlp(), *data, wall_s=wall_s, **opts)
        wall = time.perf_counter() - started
    assert wall > wall_s, (wall, wall_s)                    # the competitors did take the CPU
    assert "check_skipped" not in _codes(loaded, ("info",)), [f.message for f in loaded.findings]
    assert [_finding(f) for f in loaded.findings] == [_finding(f) for f in reference.findings]


def test_with_room_for_everything_the_backstop_changes_nothing(data, monkeypatch, free_run):
    free, spent, _ = free_run
    roomy, _ = _run(data, monkeypatch, wall_s=RATE * spent.spent * 1.5)
    assert [(f.code, f.severity, f.evidence) for f in roomy.findings] == \
        [(f.code, f.severity, f.evidence) for f in free.findings]



def test_the_note_names_each_experiments_parts_under_it():
    assert said_by_part(["the experiment: the arm 'lr x10'", "the experiment: the rest of the arm 'lr x100' (cut at "
                         "step 7)", "the batch-size check (too_few_updates)", "the probe"]) == \
        ("the experiment's arm 'lr x10', rest of the arm 'lr x100' (cut at step 7); "
         "the batch-size check (too_few_updates); the probe")


def _kinds(data):
    """Each run-option experiment on a setup that is its candidate: (name, model, inputs, batch, run, price)."""
    (X, y), _ = data
    g = torch.Generator().manual_seed(0)
    ce = make_loss("cross_entropy")
    late = make_schedule("cosine", total_steps=176, steps_per_epoch=44, warmup_steps=5000)
    Xf, yf = torch.randn(1200, 64, generator=g), torch.randint(0, 10, (1200,), generator=g)
    Xf += 2 * nn.functional.one_hot(yf, 64).float()
    Xb, yb = bars(1500)                         # bars at an edge: hflip swaps left and right
    flips = [{"name": "crop", "pad": 1}, "hflip"]
    sgd = {"optimizer": "sgd", "lr": 0.05}
    return [
        ("schedule decay", relu_mlp, X, 32,
         lambda m, b: schedule_check.check_schedule(m, X, y, ce, schedule=milestones, total_steps=176, batch_size=32,
                                                    budget=b, **sgd),
         lambda b: schedule_check.cost(b, schedule=milestones, total_steps=176, batch_size=32)),
        ("schedule start", relu_mlp, X, 32,
         lambda m, b: schedule_check.check_schedule(m, X, y, ce, schedule=late, total_steps=176, batch_size=32,
                                                    budget=b, **sgd),
         lambda b: schedule_check.cost(b, schedule=late, total_steps=176, batch_size=32)),
        ("batch size", relu_mlp, Xf, 1200,
         lambda m, b: batch_check.check_batch(m, Xf, yf, ce, total_steps=8, optimizer="adam", lr=1e-3,
                                              batch_size=1200, budget=b),
         lambda b: batch_check.cost(b, total_steps=8, batch_size=1200, rows=1200, optimizer="adam")),
        ("augmentation", bars_cnn, Xb, 32,
         lambda m, b: augment_check.check_augment(m, Xb, yb, ce, augment=flips, total_steps=600, optimizer="adam",
                                                  lr=1e-3, batch_size=32, budget=b),
         lambda b: augment_check.cost(b, augment=flips, batch_size=32, total_steps=600)),
    ]


REFERENCE_S = 0.5    # nominal seconds of the plain training steps each kind's CPU seconds are read beside
WARM_STEPS = 3       # untimed steps first
KIND_RANGE = 3.0     # a kind's CPU seconds per nominal second within 3x of the plain steps' (measured 0.9x-2.0x
                     # at load average 7-9 on 2 cores, where the plain steps' own ratio moved 0.36-1.02)
MACHINE_RANGE = 20.0  # the plain steps' CPU seconds within 20x of their price on any machine (cost.py's
                      # constants were fitted on the development machine: 0.39x-4.1x per pass there)


def _plain_steps_cpu(make, inputs, batch, budget):
    """Thread CPU seconds and nominal price of plain SGD training steps of a fresh ``make()`` on
    ``batch`` rows: the reference a kind is read beside (its own model and batch size, so the
    cost model's error on this model cancels, and the machine's speed and load now)."""
    model = make()
    x = inputs[:batch]
    with torch.no_grad():
        y = model(x).argmax(dim=-1)
    opt = make_optimizer("sgd", model, lr=1e-3)
    count = max(5, math.ceil(REFERENCE_S / budget.step_cost(batch)))
    for _ in range(WARM_STEPS):             # first calls allocate: not what a step costs
        train_step(model, opt, F.cross_entropy, x, y)
    start = time.thread_time()
    for _ in range(count):
        train_step(model, opt, F.cross_entropy, x, y)
    return time.thread_time() - start, count * budget.step_cost(batch)


def test_each_experiment_kind_is_priced_as_it_charges_and_near_its_cpu_seconds(data):
    """Each run option's price before it runs (its module's ``cost``, what the doctor reserves and the
    backstop reads) is what its experiment then charges, within 25% (its arms all run and help here,
    so the training on is part of it). Its CPU seconds per nominal second are read beside plain
    training steps of the same model, measured right before and after it on the same thread (one
    torch thread): a loaded machine slows both alike, so their ratio is within ``KIND_RANGE`` of 1
    unless the kind's charges misstate its work (a step priced at a quarter fails here)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for name, make, inputs, batch, run, price in _kinds(data):
            budget, model = Budget(1000.0), make()
            budget.count(model, inputs[:batch])
            priced, before = price(budget), budget.spent
            ref_before = _plain_steps_cpu(make, inputs, batch, budget)
            start = time.thread_time()
            found = run(model, budget)
            cpu, charged = time.thread_time() - start, budget.spent - before
            ref_after = _plain_steps_cpu(make, inputs, batch, budget)
            assert found and found[0].severity == "warning", (name, found)
            assert 0.8 * priced <= charged <= 1.25 * priced, (name, priced, charged)
            plain = (ref_before[0] + ref_after[0]) / (ref_before[1] + ref_after[1])    # CPU s per nominal s
            assert 1 / MACHINE_RANGE <= plain <= MACHINE_RANGE, (name, plain)
            assert 1 / KIND_RANGE <= (cpu / priced) / plain <= KIND_RANGE, (name, cpu, priced, plain)
    finally:
        torch.set_num_threads(threads)


def test_a_pre_flight_the_backstop_outruns_stops_its_runs_and_says_why(data, monkeypatch, free_run):
    """A part runs past its price early in the pre-flight (the backstop jumps): its short runs stop at
    their next step, the checks after them and every experiment are left out, and the notes say the
    backstop passed."""
    free, spent, _ = free_run
    wall_s = RATE * spent.spent + 1.0
    cut, budget = _run(data, monkeypatch, wall_s=wall_s, jump_after=0.02 * spent.spent, jump=2 * wall_s)
    notes = [f for f in cut.findings if f.code == "check_skipped"]
    assert any("backstop" in f.message and "passed" in f.message for f in notes), [f.message for f in notes]
    assert budget.spent < 0.5 * spent.spent
    assert "schedule_decays_early" not in _codes(cut)


def test_a_symptom_whose_grading_the_backstop_left_out_stays_a_warning_and_says_so(data, monkeypatch):
    """Inputs x1000 (unnormalized_inputs, graded by the standardized inputs' arm): with room, graded;
    with a wall that leaves the experiment's arms out, still a warning, marked ungraded."""
    (X, y), val = data

    def run(wall_s):
        with monkeypatch.context() as m:
            m.setattr(budget_module, "measure_rate", lambda model, x, work: RATE)
            budget = Budget(60.0)
            return doctor(relu_mlp(), (1000 * X, y), (1000 * val[0], val[1]), budget=budget, wall_s=wall_s,
                          **FAST, epochs=4, batch_size=32, optimizer="sgd", lr=0.05, seed=1), budget
    free, spent = run(None)
    graded = [f for f in free.findings if f.code == "unnormalized_inputs"]
    assert graded and not graded[0].evidence.get("ungraded")
    cut, _ = run(RATE * spent.spent * 0.25)
    left = [f for f in cut.findings if f.code == "unnormalized_inputs"]
    assert _skipped(cut) and left and left[0].severity == "warning" and left[0].evidence["ungraded"], \
        [(f.code, f.message) for f in cut.findings]
    assert "not graded" in left[0].message


def test_a_cause_whose_training_on_the_backstop_left_out_stays_a_warning_and_says_so(data, monkeypatch):
    """lr 1e-4 under plain SGD: lr x1000 names lr_too_low, and the setup and the arm train on towards the
    run's steps (the test of whether the setup catches up). With room, graded: no mark. With a wall that
    fits every arm but not the training on, the cause is named from the arms' steps alone: still a
    warning (its graded form may be one), marked ungraded and saying what was left out."""
    (X, y), _ = data

    def run(wall_s, record=None):
        with monkeypatch.context() as m:
            m.setattr(budget_module, "measure_rate", lambda model, x, work: RATE)
            if record is not None:
                fits = Budget.fits_wall

                def recorded(self, seconds, parts, **kw):
                    record.append((parts, self.root.spent, seconds))
                    return fits(self, seconds, parts, **kw)
                m.setattr(Budget, "fits_wall", recorded)
            budget = Budget(60.0, wall_s=wall_s)
            baseline, arms = interventions.experiment(relu_mlp(), X, y, F.cross_entropy, optimizer="sgd", lr=1e-4,
                                                      batch_size=32, steps=30, seed=1, repeat=True, run_steps=120,
                                                      budget=budget)
        found = interventions.findings(baseline, arms, run_steps=120)
        found = mark_ungraded(found, baseline, arms, budget)
        return found, baseline, budget
    calls = []
    free, baseline, _ = run(None, calls)
    assert [f.code for f in free] == ["lr_too_low"] and not free[0].evidence.get("ungraded")
    assert baseline.longer is not None and not baseline.extra.get("trained_on_cut")
    at, price = next((at, price) for parts, at, price in calls
                     if not isinstance(parts, str) and "trained on" in parts[0])
    cut, baseline, budget = run(RATE * (at + price / 2))
    assert baseline.extra["trained_on_cut"] and baseline.longer is None
    assert any("trained on" in part for part in budget.dropped), budget.dropped
    assert [f.code for f in cut] == ["lr_too_low"] and cut[0].severity == "warning" and cut[0].evidence["ungraded"]
    assert "left out the training on" in cut[0].message
