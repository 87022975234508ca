"""Every part of the doctor runs within its share of the budget, and a part the budget cannot pay
for is named in the ``check_skipped`` info, never left out unsaid (babysit/budget.py, doctor.py;
issue 11: "pre-flight plus probe <= 60 s")."""
import torch
from torch import nn

from trainwell.babysit import interventions
from trainwell.babysit.budget import Budget
from trainwell.babysit.doctor import doctor

FAST = {"progress": False, "report": False, "device": "cpu", "wall_s": None}


class SlowCNN(nn.Module):
    """A user's CNN whose step costs ~30x a small MLP's: two 16-channel convolutions on 16x16 images."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 16, 3, padding=1), nn.Conv2d(16, 16, 3, padding=1)
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return self.fc(x.mean((2, 3)))


def images(n=400, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    X = 0.5 * torch.randn(n, 1, 16, 16, generator=g) + y.float().view(-1, 1, 1, 1)
    return X, y


def recorded_shares(monkeypatch) -> list:
    """Every share the doctor opens, to read its ``seconds`` and ``spent`` after the run."""
    shares = []
    share = Budget.share

    def recording(self, seconds):
        opened = share(self, seconds)
        shares.append(opened)
        return opened
    monkeypatch.setattr(Budget, "share", recording)
    return shares


def test_a_slow_setup_stays_within_a_small_budget_and_names_what_it_left_out(monkeypatch):
    """A budget of 2 nominal seconds on a slow CNN: the pre-flight spends its half, the experiment
    (which starts only with MIN_EXPERIMENT_S left) is left out and said so in the check_skipped info,
    and the whole run spends the budget and at most one step and one evaluation beyond it."""
    torch.manual_seed(0)
    X, y = images()
    shares = recorded_shares(monkeypatch)
    budget = Budget(2.0)
    d = doctor(SlowCNN(), (X[:320], y[:320]), (X[320:], y[320:]), budget=budget, optimizer="adam", lr=1e-3,
               epochs=2, batch_size=32, **FAST)
    over = budget.step_cost(32) + budget.forward_cost(256)      # one step and one evaluation past a limit
    assert budget.spent <= budget.seconds + over, budget.spent
    for s in shares:                                             # every part within its own share
        assert s.spent <= s.seconds + over, (s.seconds, s.spent)
    skipped = [f for f in d.findings if f.code == "check_skipped"]
    assert len(skipped) == 1 and skipped[0].severity == "info"
    assert any(part.startswith("the experiment") for part in skipped[0].evidence["skipped"]), skipped[0].message
    assert "nominal seconds left out" in skipped[0].message


def test_without_room_the_experiment_and_probe_are_named_and_with_room_nothing_is():
    """The experiment and the probe start only with enough of the budget left; where they do not
    the check_skipped info names both (before: nothing said); a budget with room names neither."""
    torch.manual_seed(0)
    X = torch.randn(400, 8)
    y = (X[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    small = doctor(model, (X, y), budget_s=0.5, optimizer="adam", lr=1e-3, epochs=2, **FAST)
    said = [p for f in small.findings if f.code == "check_skipped" for p in f.evidence["skipped"]]
    assert any(p.startswith("the experiment") for p in said), said
    roomy = doctor(model, (X, y), budget_s=60.0, optimizer="adam", lr=1e-3, epochs=2, **FAST)
    assert "check_skipped" not in {f.code for f in roomy.findings}, [(f.code, f.message) for f in roomy.findings]


def test_arms_the_nominal_budget_cannot_pay_for_are_named_not_dropped_unsaid():
    """An experiment whose budget is spent before its last arms: the arms left out are recorded as
    unpaid on the root (the doctor names them), the backstop's list stays empty (no clock involved)."""
    torch.manual_seed(0)
    X = torch.randn(600, 8)
    y = (X[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 2))
    budget = Budget(0.05)
    baseline, arms = interventions.experiment(model, X, y, nn.CrossEntropyLoss(), optimizer="sgd", lr=0.01,
                                              budget=budget, repeat=True, part="the experiment")
    left = baseline.extra.get("left_out", []) + [a.name for a in arms if a.extra.get("timed_out")]
    assert left, "the budget should leave arms out"
    assert budget.unpaid and not budget.dropped
    assert all(p.startswith("the experiment: ") for p in budget.unpaid)
