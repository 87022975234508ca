"""The trained model against a simple baseline on the same rows (babysit/baseline_check.py):
found where the model ends materially and significantly below a linear or nearest-neighbour
probe, quiet where it matches or beats them, and at the end of a babysat ``fit``."""
import math

import pytest
import torch
from torch import nn

import trainwell
from trainwell.babysit import baseline_check, first_layer
from trainwell.babysit.baseline_check import check_baseline
from trainwell.babysit.findings import Diagnosis, make


def _linear_task(n=1500, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    w = torch.randn(d, generator=g)
    return X, (X @ w > 0).long(), w


class _Fixed(nn.Module):
    """A "trained model" whose outputs are a given function of the inputs."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return self.fn(x) * self.scale


def _split(X, y, n_fit=1000):
    return (X[:n_fit], y[:n_fit]), (X[n_fit:], y[n_fit:])


def test_a_model_that_ignores_half_the_features_is_below_the_linear_baseline():
    X, y, w = _linear_task()
    half = torch.cat([w[:4], torch.zeros(4)])       # the rule the labels follow, its last 4 columns dropped
    model = _Fixed(lambda x: torch.stack([-(x @ half), x @ half], 1))
    found = check_baseline(model, *_split(X, y), loss="cross_entropy")
    assert [f.code for f in found] == ["below_baseline"]
    e = found[0].evidence
    assert e["baseline_score"] - e["model_score"] >= first_layer.MIN_DROP
    assert e["p"] < e["p_threshold"] == pytest.approx(first_layer.ALPHA / len(e["probes"]))
    assert e["val_rows"] == 500 and e["fit_rows"] == 1000 and e["metric"] == "accuracy"
    assert [r["probe"] for r in e["probes"]] == ["linear"]


def test_the_paired_p_value_is_mcnemars_exact_tail():
    X, y, w = _linear_task()
    half = torch.cat([w[:4], torch.zeros(4)])
    model = _Fixed(lambda x: torch.stack([-(x @ half), x @ half], 1))
    (Xf, yf), (Xv, yv) = _split(X, y)
    pred = (Xv @ half > 0).long()
    results = baseline_check.compare(Xf, yf, Xv, yv, pred, class_ids=True)
    linear = next(r for r in results if r["probe"] == "linear")
    # the linear probe's own predictions, refitted here: the discordant rows and their binomial tail
    from sklearn.linear_model import LogisticRegression
    mean, std = Xf.double().mean(0), Xf.double().std(0)
    probe = LogisticRegression(max_iter=200).fit(((Xf - mean) / std).numpy(), yf.numpy())
    base = torch.tensor(probe.predict(((Xv - mean) / std).numpy()))
    lost = int(((base == yv) & (pred != yv)).sum())
    won = int(((base != yv) & (pred == yv)).sum())
    tail = sum(math.comb(lost + won, k) for k in range(lost, lost + won + 1)) / 2 ** (lost + won)
    assert linear["p"] == pytest.approx(tail, rel=1e-6, abs=1e-300)
    assert linear["baseline"] == pytest.approx(float((base == yv).double().mean()))
    assert linear["model"] == pytest.approx(float((pred == yv).double().mean()))
    assert check_baseline(model, (Xf, yf), (Xv, yv), loss="cross_entropy")


def test_a_model_as_good_as_the_rule_is_quiet():
    X, y, w = _linear_task()
    model = _Fixed(lambda x: torch.stack([-(x @ w), x @ w], 1))
    assert check_baseline(model, *_split(X, y), loss="cross_entropy") == []


def test_a_small_gap_is_quiet_however_significant():
    """A model 1-2 points below the probe on the same rows is under the kill rule's margin."""
    X, y, w = _linear_task(n=6000)
    noisy = w + 0.08 * torch.randn(8, generator=torch.Generator().manual_seed(1))
    model = _Fixed(lambda x: torch.stack([-(x @ noisy), x @ noisy], 1))
    (Xf, yf), (Xv, yv) = _split(X, y, n_fit=5000)
    pred = (Xv @ noisy > 0).long()
    gap = max(r["baseline"] - r["model"] for r in baseline_check.compare(Xf, yf, Xv, yv, pred, class_ids=True))
    assert 0 < gap < first_layer.MIN_DROP
    assert check_baseline(model, (Xf, yf), (Xv, yv), loss="cross_entropy") == []


def test_one_logit_under_bce_is_read_by_its_sign():
    X, y, w = _linear_task()
    half = torch.cat([w[:4], torch.zeros(4)])
    yf = y.float()
    assert check_baseline(_Fixed(lambda x: (x @ w)[:, None]), *_split(X, yf), loss="bce") == []
    found = check_baseline(_Fixed(lambda x: (x @ half)[:, None]), *_split(X, yf), loss="bce")
    assert [f.code for f in found] == ["below_baseline"]


def test_regression_below_ridge_is_found_and_the_rule_itself_is_quiet():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(1500, 6, generator=g)
    w = torch.randn(6, generator=g)
    y = X @ w + 0.3 * torch.randn(1500, generator=g)
    found = check_baseline(_Fixed(lambda x: (x[:, :3] @ w[:3])[:, None]), *_split(X, y[:, None]), loss="mse")
    assert [f.code for f in found] == ["below_baseline"]
    e = found[0].evidence
    assert e["metric"] == "squared error" and e["model_score"] >= first_layer.LOSS_RATIO * e["baseline_score"]
    assert check_baseline(_Fixed(lambda x: (x @ w)[:, None]), *_split(X, y[:, None]), loss="mse") == []


def test_a_ratio_of_two_small_errors_on_a_near_perfect_fit_is_quiet():
    """1.5x ridge's squared error, but the excess is a small share of the targets' variance (R^2 0.999
    against 0.9995): under VARIANCE_DROP, not material."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(1500, 6, generator=g)
    w = torch.randn(6, generator=g)
    y = (X @ w + 0.05 * torch.randn(1500, generator=g))[:, None]
    off = w + 0.02 * torch.randn(6, generator=torch.Generator().manual_seed(3))
    model = _Fixed(lambda x: (x @ off)[:, None])
    (Xf, yf), (Xv, yv) = _split(X, y)
    ridge = next(r for r in baseline_check.compare(Xf, yf, Xv, yv, Xv @ off, class_ids=False) if r["probe"] == "linear")
    assert ridge["model"] >= first_layer.LOSS_RATIO * ridge["baseline"]
    assert ridge["model"] - ridge["baseline"] < baseline_check.VARIANCE_DROP * float(yv.var(unbiased=False))
    assert check_baseline(model, (Xf, yf), (Xv, yv), loss="mse") == []


def test_images_are_judged_on_their_pixels_by_the_linear_probe():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (900,), generator=g)
    X = 0.3 * torch.randn(900, 1, 8, 8, generator=g)
    X[y == 1, 0, 2:5, 2:5] += 1.0                       # class 1: a bright patch
    found = check_baseline(_Fixed(lambda x: torch.zeros(x.shape[0], 2)), *_split(X, y, 600), loss="cross_entropy")
    assert [f.code for f in found] == ["below_baseline"]
    assert [r["probe"] for r in found[0].evidence["probes"]] == ["linear"]


@pytest.mark.parametrize("case", ["no validation", "too few rows", "one score under an own loss", "nonfinite"])
def test_what_cannot_be_judged_is_quiet(case):
    X, y, w = _linear_task()
    model = _Fixed(lambda x: torch.zeros(x.shape[0], 2))      # far below any baseline
    train, val = _split(X, y)
    loss = "cross_entropy"
    if case == "no validation":
        val = None
    elif case == "too few rows":
        val = (val[0][:baseline_check.VAL_MIN - 1], val[1][:baseline_check.VAL_MIN - 1])
    elif case == "one score under an own loss":
        model, loss = _Fixed(lambda x: torch.zeros(x.shape[0], 1)), (lambda out, t: out.mean())
    else:
        model = _Fixed(lambda x: torch.full((x.shape[0], 2), float("nan")))
    assert check_baseline(model, train, val, loss=loss) == []


def test_it_ranks_after_a_cause_and_last_among_warnings():
    symptom = make("below_baseline", "below")
    assert Diagnosis([symptom, make("uninformative_inputs", "x", severity="warning")]).primary.code != "below_baseline"
    assert Diagnosis([symptom, make("class_imbalance", "10:1")]).primary.code == "class_imbalance"


class _DropsColumns(nn.Module):
    """A user's model whose forward keeps only the first ``keep`` columns (a slice left in)."""

    def __init__(self, d, keep):
        super().__init__()
        self.keep = keep
        self.net = nn.Sequential(nn.Linear(keep, 32), nn.ReLU(), nn.Linear(32, 2))

    def forward(self, x):
        return self.net(x[:, :self.keep])


@pytest.mark.parametrize("keep,found", [(8, False), (3, True)])
def test_fit_reports_it_at_the_end_of_a_babysat_run(keep, found):
    X, y, _ = _linear_task(n=1600)
    options = dict(epochs=8, batch_size=64, lr=1e-2, optimizer="adam", progress=False, report=False, seed=0)
    run = trainwell.fit(_DropsColumns(8, keep), (X[:1200], y[:1200]), (X[1200:], y[1200:]), babysit="watch", **options)
    hits = [f for f in run.findings.findings if f.code == "below_baseline"]
    assert bool(hits) == found
    assert all(f.severity == "warning" and f.evidence["step"] == run.results["steps"]
               and f.evidence["epoch"] == run.results["epochs"] for f in hits)
    off = trainwell.fit(_DropsColumns(8, keep), (X[:1200], y[:1200]), (X[1200:], y[1200:]), babysit="off", **options)
    assert off.findings is None or "below_baseline" not in off.findings.codes


@pytest.mark.parametrize("losses,early,falling", [([1.0, 0.5], False, True), ([1.0, 0.8, 0.6, 0.5], False, True),
                                                  ([1.0, 0.52, 0.51, 0.50], False, False),
                                                  ([1.0, 0.5], True, None)])
def test_a_run_that_ends_while_its_loss_falls_is_not_judged(losses, early, falling):
    """Too short, not broken: quiet when the loss still fell by rules.STALLED over the last 3 epochs
    (or the run had fewer) and the run was not stopped early; judged otherwise."""
    from trainwell.babysit.rules import STALLED
    X, y, w = _linear_task()
    half = torch.cat([w[:4], torch.zeros(4)])
    model = _Fixed(lambda x: torch.stack([-(x @ half), x @ half], 1))
    history = [{"train_loss": v} for v in losses]
    if falling is not None:
        assert baseline_check.still_falling(history) == falling
        assert falling == (len(losses) < 3 or (losses[-3] - losses[-1]) / losses[-3] >= STALLED)
    found = check_baseline(model, *_split(X, y), loss="cross_entropy", history=history, stopped_early=early)
    assert [f.code for f in found] == ([] if falling and not early else ["below_baseline"])
