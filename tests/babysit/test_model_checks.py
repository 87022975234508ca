"""model_checks.py: a forward / backward that raises, a model that mixes the rows of a batch, a loss
that mixes rows; each with a broken case and a healthy twin."""
import inspect

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.babysit import model_checks as mc
from trainwell.babysit import preflight as pf
from trainwell.babysit import findings
from trainwell.babysit.findings import Diagnosis
from trainwell.babysit.registry import CODES
from trainwell.errors import ConfigError, ModelError

X = torch.randn(64, 10, generator=torch.Generator().manual_seed(0))
Y = (X[:, 0] > 0).long() + (X[:, 1] > 0).long()


def codes(findings):
    return {f.code for f in findings}


def line_of(text, fn):
    """The line number of ``text`` in ``fn``'s source (this file)."""
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


# ------------------------------------------------------------------------------ a model that raises
class Gated(nn.Module):
    """sigmoid(a x) gated by tanh(b x); ``inplace``: the gate multiplied into sigmoid's saved output."""

    def __init__(self, inplace=False):
        super().__init__()
        self.a, self.b, self.c, self.inplace = nn.Linear(10, 32), nn.Linear(10, 32), nn.Linear(32, 3), inplace

    def forward(self, x):
        h = torch.sigmoid(self.a(x))
        if self.inplace:
            h.mul_(torch.tanh(self.b(x)))
        else:
            h = h * torch.tanh(self.b(x))
        return self.c(h)


class AddSkip(nn.Module):
    """``h += skip(x)`` on tanh's output (which tanh's backward needs)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.a, self.skip, self.c, self.inplace = nn.Linear(10, 16), nn.Linear(10, 16), nn.Linear(16, 3), inplace

    def forward(self, x):
        h = torch.tanh(self.a(x))
        if self.inplace:
            h += self.skip(x)
        else:
            h = h + self.skip(x)
        return self.c(h)


class Reshaper(nn.Module):
    """A forward that reshapes to a width the next layer does not take (``wrong``)."""

    def __init__(self, wrong=False):
        super().__init__()
        self.a, self.c, self.wrong = nn.Linear(10, 12), nn.Linear(12, 3), wrong

    def forward(self, x):
        h = self.a(x)
        h = h.reshape(-1, 6) if self.wrong else h
        return self.c(h)


class HalfInput(nn.Module):
    """A float64 layer fed float32 inputs (``wrong``): a dtype error in forward."""

    def __init__(self, wrong=False):
        super().__init__()
        self.a = nn.Linear(10, 3).double() if wrong else nn.Linear(10, 3)

    def forward(self, x):
        return self.a(x)


@pytest.mark.parametrize("broken,healthy,node", [
    (Gated(True), Gated(False), "SigmoidBackward0"), (AddSkip(True), AddSkip(False), "TanhBackward0")])
def test_a_backward_that_raises_names_the_forward_line_anomaly_mode_records(broken, healthy, node):
    found = mc.check_model_runs(broken, X, Y, F.cross_entropy)
    assert codes(found) == {"model_raises"} and found[0].severity == "error"
    f = found[0]
    want = line_of("h = torch.sigmoid" if node.startswith("Sigmoid") else "h = torch.tanh", type(broken).forward)
    assert f.evidence["stage"] == "backward" and f.evidence["node"] == node
    assert f.evidence["file"] == __file__ and f.evidence["line"] == want and f.where == f"{__file__}:{want}"
    assert f.evidence["error_type"] == "RuntimeError" and "inplace operation" in f.message
    assert mc.check_model_runs(healthy, X, Y, F.cross_entropy) == []


@pytest.mark.parametrize("broken,healthy,text,error", [
    (Reshaper(True), Reshaper(False), "return self.c(h)", "RuntimeError"),
    (HalfInput(True), HalfInput(False), "return self.a(x)", "RuntimeError")])
def test_a_forward_that_raises_names_the_users_frame(broken, healthy, text, error):
    found = mc.check_model_runs(broken, X, Y, F.cross_entropy)
    assert codes(found) == {"model_raises"}
    f = found[0]
    assert f.evidence["stage"] == "forward" and f.evidence["error_type"] == error
    assert f.evidence["line"] == line_of(text, type(broken).forward) and f.evidence["source"] == text
    assert mc.check_model_runs(healthy, X, Y, F.cross_entropy) == []


def test_trainwell_errors_propagate_and_a_failing_loss_is_left_to_check_loss_output():
    class Strict(nn.Module):
        def forward(self, x):
            raise ConfigError("model.width = 0: must be > 0")
    with pytest.raises(ConfigError, match="width"):
        mc.check_model_runs(Strict(), X, Y, F.cross_entropy)
    # a loss that cannot take the output is loss_output_mismatch's; the model's own backward still runs
    assert mc.check_model_runs(Gated(False), X, Y.float(), F.cross_entropy) == []
    assert codes(mc.check_model_runs(Gated(True), X, Y.float()[:, None], F.cross_entropy)) == {"model_raises"}


def test_the_doctor_returns_a_diagnosis_instead_of_raising_and_ranks_it_first():
    d = trainwell.doctor(AddSkip(True), (X, Y), epochs=1, budget_s=5)
    assert d.codes == ["model_raises"] and not d.ok and d.primary.code == "model_raises"
    healthy = pf.preflight(AddSkip(False), X, Y, cheap_only=True)    # the doctor's pre-flight, its cheap part
    assert "model_raises" not in codes(healthy)


def test_preflight_reports_a_model_that_fails_on_the_inputs():
    found = pf.preflight(Reshaper(True), X, Y, cheap_only=True)
    assert codes(found) == {"model_raises"}

    class FixedBatch(nn.Module):        # runs on check_model_runs' 32 rows, fails on the probe's 64
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(10, 3)

        def forward(self, x):
            return self.a(x).view(32, 3)
    found = pf.preflight(FixedBatch(), X, Y, cheap_only=True)
    assert codes(found) == {"model_raises"} and found[0].evidence["source"] == "return self.a(x).view(32, 3)"


# ------------------------------------------------------------------------------ rows of a batch
class Seq(nn.Module):
    """A recurrent / attention model on (N, T, F) inputs."""

    def __init__(self, kind, batch_first, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.kind = kind
        if kind == "attention":
            self.core = nn.MultiheadAttention(4, 2, batch_first=batch_first)
        else:
            self.core = getattr(nn, kind)(4, 8, batch_first=batch_first)
        self.head = nn.Linear(4 if kind == "attention" else 8, 3)

    def forward(self, x):
        if self.kind == "attention":
            out, _ = self.core(x, x, x)
        else:
            out, _ = self.core(x)
        return self.head(out[:, -1])


class Centered(nn.Module):
    """``x - x.mean(0)`` (``broken``: the batch mean) or ``x - x.mean(1)`` (the row's own mean)."""

    def __init__(self, broken):
        super().__init__()
        self.dim, self.a = 0 if broken else 1, nn.Linear(10, 3)

    def forward(self, x):
        return self.a(x - x.mean(self.dim, keepdim=True))


class SoftmaxAxis(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.a, self.dim = nn.Linear(10, 3), dim

    def forward(self, x):
        return F.log_softmax(self.a(x), dim=self.dim)


class SwapView(nn.Module):
    """(N, C, L) features flattened with ``view(L, -1)`` (``broken``: the batch axis swapped) or
    ``flatten(1)``."""

    def __init__(self, broken):
        super().__init__()
        self.conv, self.head, self.broken = nn.Conv1d(1, 4, 3, padding=1), nn.Linear(40, 3), broken

    def forward(self, x):
        h = self.conv(x[:, None, :])                        # (N, 4, 10)
        h = h.transpose(0, 1).reshape(x.shape[0], -1) if self.broken else h.flatten(1)
        return self.head(h)


SEQ = torch.randn(16, 6, 4, generator=torch.Generator().manual_seed(1))
IMG = torch.randn(16, 3, 8, 8, generator=torch.Generator().manual_seed(2))


@pytest.mark.parametrize("model,x", [
    (Seq("GRU", False), SEQ), (Seq("LSTM", False), SEQ), (Seq("attention", False), SEQ),
    (Centered(True), X), (SoftmaxAxis(0), X), (SwapView(True), X)])
def test_a_model_that_mixes_rows_is_an_error_naming_the_dependence(model, x):
    torch.manual_seed(1)            # the evidence's row names a dependence whatever the draw: re-initialized
    for p in model.parameters():
        p.data.normal_(0, 0.5)
    found = mc.check_batch_dependence(model, x)
    assert codes(found) == {"batch_dependence"} and found[0].severity == "error"
    e = found[0].evidence
    assert max(e["change_permuted"], e["change_first_half_alone"]) > mc.BATCH_TOLERANCE
    assert e["depends_on"] and e["row"] not in e["depends_on"]


def _cnn(norm):
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), norm(8), nn.ReLU(), nn.Dropout(0.5), nn.Flatten(),
                         nn.Linear(8 * 64, 3))


@pytest.mark.parametrize("model,x", [
    (Seq("GRU", True), SEQ), (Seq("LSTM", True), SEQ), (Seq("attention", True), SEQ),
    (Centered(False), X), (SoftmaxAxis(1), X), (SwapView(False), X),
    (_cnn(nn.BatchNorm2d), IMG), (_cnn(lambda c: nn.GroupNorm(2, c)), IMG),
    (nn.Sequential(nn.Linear(10, 32), nn.LayerNorm(32), nn.GELU(), nn.Dropout(0.9), nn.Linear(32, 3)), X)])
def test_row_independent_models_stay_quiet(model, x):
    assert mc.check_batch_dependence(model, x) == []


def test_batch_norm_in_training_mode_is_no_dependence_but_a_noisy_eval_forward_is_not_judged():
    bn = nn.Sequential(nn.Linear(10, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    assert bn.training and mc.check_batch_dependence(bn, X) == [] and bn.training    # judged in eval mode

    class Noisy(nn.Module):         # noise in eval mode too: two runs on the same batch differ
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(10, 3)

        def forward(self, x):
            return self.a(x - x.mean(0)) + torch.randn(x.shape[0], 3)
    assert mc.check_batch_dependence(Noisy(), X) == []


# ------------------------------------------------------------------------------ a loss that mixes rows
def mse_broadcast(pred, target):            # (N, 1) - (N,) -> (N, N)
    return ((pred - target) ** 2).mean()


def mse_squeezed(pred, target):
    return ((pred.squeeze(1) - target) ** 2).mean()


def ce_batch_axis(logits, target):          # log-softmax over the batch: rows compete
    return -F.log_softmax(logits, dim=0).gather(1, target[:, None]).mean()


def ce_class_axis(logits, target):
    return -F.log_softmax(logits, dim=1).gather(1, target[:, None]).mean()


def mse_batch_centered(pred, target):       # depends on the other rows' targets
    return ((pred.squeeze(1) - (target - target.mean())) ** 2).mean()


def ce_summed(logits, target):
    return F.cross_entropy(logits, target, reduction="sum")


def weighted_ce(logits, target):            # class weights: a weighted mean over the rows
    return F.cross_entropy(logits, target, weight=torch.tensor([0.2, 1.0, 3.0]))


def hardest_half(logits, target):           # online hard-example mining: a mean of the largest row losses
    rows = F.cross_entropy(logits, target, reduction="none")
    return rows.topk(max(1, rows.numel() // 2)).values.mean()


OUT = torch.randn(32, 3, generator=torch.Generator().manual_seed(3))
PRED = torch.randn(32, 1, generator=torch.Generator().manual_seed(4))
TARGET = torch.randn(32, generator=torch.Generator().manual_seed(5)) * 2 + 1


def test_a_broadcast_mse_is_an_error_with_the_shapes_and_the_per_row_mean():
    found = mc.check_loss_rows(PRED, TARGET, mse_broadcast)
    assert codes(found) == {"loss_output_mismatch"} and found[0].severity == "error"
    e = found[0].evidence
    assert e["broadcast_shape"] == (32, 32) and e["output_shape"] == (32, 1) and e["target_shape"] == (32,)
    # independent reference: the broadcast loss is mean_ij (p_i - y_j)^2, the rows' own mean_i (p_i - y_i)^2
    p, t = PRED[:16, 0].double(), TARGET[:16].double()
    assert e["batch_loss"] == pytest.approx(float(((p[:, None] - t[None, :]) ** 2).mean()), rel=1e-5)
    assert e["per_row_mean"] == pytest.approx(float(((p - t) ** 2).mean()), rel=1e-5)
    assert mc.check_loss_rows(PRED, TARGET, mse_squeezed) == []


@pytest.mark.parametrize("loss,out,y", [(ce_batch_axis, OUT, Y[:32]), (mse_batch_centered, PRED, TARGET)])
def test_a_loss_that_couples_rows_without_a_broadcast_is_a_warning(loss, out, y):
    found = mc.check_loss_rows(out, y, loss)
    assert codes(found) == {"loss_output_mismatch"} and found[0].severity == "warning"
    assert "contrastive" in found[0].message and "broadcast_shape" not in found[0].evidence


def ce_plus_batch_error_rate(logits, target):   # + a metric of the batch's arg max: no gradient, and
    return F.cross_entropy(logits, target) + (logits.argmax(1) != target).float().mean() ** 2   # no row sum


def test_a_loss_whose_value_alone_mixes_rows_is_info_and_one_whose_gradient_mixes_stays_a_warning():
    found = mc.check_loss_rows(OUT, Y[:32], ce_plus_batch_error_rate)
    assert codes(found) == {"loss_output_mismatch"} and found[0].severity == "info"
    e = found[0].evidence
    assert e["value_only"] and e["gradient_off_direction"] <= mc.LOSS_TOLERANCE
    # independent reference: the batch loss is the mean cross-entropy plus the squared error rate
    o, t = OUT[:16].double(), Y[:16]
    assert e["batch_loss"] == pytest.approx(float(F.cross_entropy(o, t) + (o.argmax(1) != t).double().mean() ** 2),
                                            rel=1e-5)
    # the same metric as a weight on the rows' losses is a combination of them: quiet; with a term whose
    # gradient couples the rows (a softmax over the batch axis) it stays a warning
    assert mc.check_loss_rows(OUT, Y[:32], lambda z, y: F.cross_entropy(z, y) * (1 + (z.argmax(1) != y).float()
                                                                                .mean() ** 2)) == []
    found = mc.check_loss_rows(OUT, Y[:32], lambda z, y: ce_plus_batch_error_rate(z, y) + ce_batch_axis(z, y))
    assert codes(found) == {"loss_output_mismatch"} and found[0].severity == "warning"


@pytest.mark.parametrize("loss,out,y", [
    (ce_class_axis, OUT, Y[:32]), (F.cross_entropy, OUT, Y[:32]), (ce_summed, OUT, Y[:32]),
    (weighted_ce, OUT, Y[:32]), (nn.CrossEntropyLoss(label_smoothing=0.1), OUT, Y[:32]),
    (nn.CrossEntropyLoss(weight=torch.tensor([3.0, 1.0, 0.5]), label_smoothing=0.1), OUT, Y[:32]),
    (hardest_half, OUT, Y[:32]), (F.mse_loss, PRED[:, 0], TARGET), (F.huber_loss, PRED, TARGET[:, None]),
    (nn.KLDivLoss(reduction="batchmean"), F.log_softmax(OUT, 1), F.softmax(OUT.flip(0), 1)),
    (F.binary_cross_entropy_with_logits, PRED, (TARGET[:, None] > 1).float())])
def test_per_row_losses_under_any_reduction_stay_quiet(loss, out, y):
    assert mc.check_loss_rows(out, y, loss) == []


def test_preflight_reports_the_broadcast_loss_and_the_doctor_ranks_it_first():
    torch.manual_seed(0)
    Xr = torch.randn(400, 5)
    yr = Xr[:, 0] * 2 + Xr[:, 1]
    net = nn.Sequential(nn.Linear(5, 32), nn.SiLU(), nn.Linear(32, 1))
    found = pf.preflight(net, Xr, yr, loss=mse_broadcast, cheap_only=True)
    assert "loss_output_mismatch" in codes(found)
    d = Diagnosis(found + [findings.make("cannot_overfit_small_subset", "x")])
    assert d.ranked()[0].code == "loss_output_mismatch"
    assert "loss_output_mismatch" not in codes(pf.preflight(net, Xr, yr, loss=mse_squeezed, cheap_only=True))


@pytest.mark.parametrize("babysit", ["watch", "repair"])
def test_a_babysat_fit_refuses_to_train_with_the_doctors_message(babysit):
    with pytest.raises(ModelError, match=r"model_raises: the backward pass raised RuntimeError in TanhBackward0") as info:
        trainwell.fit(AddSkip(True), (X, Y), epochs=1, babysit=babysit, progress=False)
    assert f"test_model_checks.py:{line_of('h = torch.tanh', AddSkip.forward)}" in str(info.value)
    assert isinstance(info.value, RuntimeError)        # what fit raised before, still catchable as such


def test_an_unbabysat_fit_raises_the_users_exception_and_a_healthy_babysat_fit_trains():
    with pytest.raises(RuntimeError, match="inplace operation") as info:
        trainwell.fit(AddSkip(True), (X, Y), epochs=1, babysit="off", progress=False)
    assert not isinstance(info.value, ModelError)
    run = trainwell.fit(AddSkip(False), (X, Y), epochs=1, babysit="repair", progress=False)
    assert run.results["steps"] > 0


def test_an_exception_the_model_does_not_raise_passes_through_a_babysat_fit_unchanged():
    class Crash(Exception):
        pass

    class Crasher(trainwell.Callback):
        def on_after_step(self, state):
            if state.step == 2:
                raise Crash("a callback's own failure")
    with pytest.raises(Crash):
        trainwell.fit(AddSkip(False), (X, Y), epochs=1, batch_size=16, babysit="watch", progress=False,
                      callbacks=[Crasher()])
    assert mc.model_error(Crash("x"), AddSkip(False), X, Y, F.cross_entropy) is None
    assert isinstance(mc.model_error(RuntimeError("x"), AddSkip(True), X, Y, F.cross_entropy), ModelError)


# ------------------------------------------------------------------ a batch statistic that fades
BIG = torch.randn(256, 10, generator=torch.Generator().manual_seed(3))


class BatchSum(nn.Module):
    """``x.sum(0)`` added to every row: the same in any order, but growing with the batch."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(10, 3)

    def forward(self, x):
        return self.a(x + 0.3 * x.sum(0, keepdim=True))


class BatchPosition(nn.Module):
    """Each row gets an encoding of its place in the batch (a positional table indexed by the batch)."""

    def __init__(self):
        super().__init__()
        self.a, self.pe = nn.Linear(10, 3), nn.Embedding(512, 3)

    def forward(self, x):
        return self.a(x) + self.pe(torch.arange(x.shape[0]))


def _bn_without_running_stats():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(10, 32), nn.BatchNorm1d(32, track_running_stats=False), nn.ReLU(),
                         nn.Linear(32, 3))


@pytest.mark.parametrize("make", [_bn_without_running_stats, lambda: Centered(True), lambda: SoftmaxAxis(0)])
def test_a_batch_statistic_that_fades_as_the_batch_grows_is_info(make):
    found = mc.check_batch_dependence(make(), BIG)
    assert codes(found) == {"batch_dependence"} and found[0].severity == "info"
    e = found[0].evidence
    assert e["fades"] and e["change_permuted"] <= mc.BATCH_TOLERANCE < e["change_first_half_alone"]
    assert 0 < e["change_large"] <= mc.DECAY * e["change_small"]
    # on too few rows to see it fade it stays an error
    assert mc.check_batch_dependence(make(), BIG[:64])[0].severity == "error"


@pytest.mark.parametrize("model", [BatchSum(), BatchPosition()])
def test_a_statistic_that_grows_or_a_place_in_the_batch_stays_an_error(model):
    found = mc.check_batch_dependence(model, BIG)
    assert codes(found) == {"batch_dependence"} and found[0].severity == "error"
    assert "fades" not in found[0].evidence


class PackedLSTM(nn.Module):
    """An LSTM over each row's valid steps (the last channel a 0/1 valid flag) read at its last state;
    ``sort_apart``: the lengths sorted for ``enforce_sorted=True`` without their rows."""

    def __init__(self, sort_apart):
        super().__init__()
        self.lstm, self.head, self.sort_apart = nn.LSTM(3, 8, batch_first=True), nn.Linear(8, 3), sort_apart

    def forward(self, x):
        lengths = (x[..., 3] > 0).sum(1).clamp(min=1)
        if self.sort_apart:
            lengths = lengths.sort(descending=True).values
        packed = nn.utils.rnn.pack_padded_sequence(x[..., :3], lengths, batch_first=True,
                                                   enforce_sorted=self.sort_apart)
        return self.head(self.lstm(packed)[1][0][-1])


def test_rows_that_meet_only_through_a_value_without_gradient_are_named_so():
    """Lengths sorted apart from their rows read each row to another row's length: the outputs move
    with the batch, but no gradient joins the rows (a length is an integer). The message says so
    and the fix names the per-row value; the same LSTM with enforce_sorted=False is row-wise."""
    g = torch.Generator().manual_seed(3)
    lengths = torch.randint(2, 11, (16,), generator=g)
    x = torch.randn(16, 10, 4, generator=g)
    x[..., 3] = (torch.arange(10)[None] < lengths[:, None]).float()
    torch.manual_seed(0)
    found = mc.check_batch_dependence(PackedLSTM(True), x)
    assert codes(found) == {"batch_dependence"} and found[0].severity == "error"
    assert found[0].evidence["depends_on"] == []
    assert "no gradient joins the rows" in found[0].message and "lengths" in found[0].fix
    assert mc.check_batch_dependence(PackedLSTM(False), x) == []
    # a dependence through the gradient keeps the registry's fix (the batch axis)
    torch.manual_seed(1)
    mixed = mc.check_batch_dependence(Seq("GRU", False), SEQ)
    assert mixed[0].evidence["depends_on"] and mixed[0].fix == CODES["batch_dependence"].fix
class Squeezer(nn.Module):
    """A conv-free image head written for full batches: ``squeeze()`` also drops the batch axis of a
    one-row batch, so the loss's backward fails on that batch only."""
    def __init__(self, squeeze: bool):
        super().__init__()
        self.hidden, self.out, self.squeeze = nn.Linear(5, 8), nn.Linear(8, 3), squeeze

    def forward(self, x):
        h = torch.relu(self.hidden(x)).unsqueeze(-1)        # (N, 8, 1)
        return self.out(h.squeeze() if self.squeeze else h.squeeze(-1))


def test_a_forward_that_fails_on_the_epochs_last_batch_only_is_named_with_that_batch():
    x, y = torch.randn(65, 5), torch.randint(0, 3, (65,))
    assert mc.check_model_runs(Squeezer(True), x, y, F.cross_entropy) == []       # full batches pass
    found = mc.check_last_batch(Squeezer(True), x, y, F.cross_entropy, rows=65, batch_size=32)
    assert codes(found) == {"model_raises"}
    assert "last batch of each epoch (1 of 65 training rows at batch size 32)" in found[0].message
    assert found[0].evidence["last_batch_rows"] == 1 and "drop_last" in found[0].fix
    assert mc.check_last_batch(Squeezer(False), x, y, F.cross_entropy, rows=65, batch_size=32) == []
    assert mc.check_last_batch(Squeezer(True), x, y, F.cross_entropy, rows=65, batch_size=32, drop_last=True) == []
    assert mc.check_last_batch(Squeezer(True), x, y, F.cross_entropy, rows=64, batch_size=32) == []   # no partial batch


def test_the_doctor_names_a_model_that_fails_on_the_epochs_last_batch():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(97, 5, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    d = trainwell.doctor(Squeezer(True), (x, y), epochs=1, batch_size=32, budget_s=5)
    assert d.primary.code == "model_raises" and "1 of 97" in d.primary.message
    assert "model_raises" not in trainwell.doctor(Squeezer(False), (x, y), epochs=1, batch_size=32, budget_s=5,
                                            wall_s=None).codes


def test_a_batch_standardization_in_forward_fades_on_every_draw_of_rows():
    """``(x - x.mean()) / x.std()`` over the whole batch: its sampling error shrinks as 1 / sqrt(n),
    so between 16 and 128 rows it falls to ~0.35 of itself; averaged over 16 draws of rows (not
    one), every draw of the rows reads it as a statistic that fades (info), not as an error."""
    from trainwell.babysit.model_checks import check_batch_dependence

    class BatchStandardized(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 4))

        def forward(self, x):
            return self.net((x - x.mean()) / x.std())

    g = torch.Generator().manual_seed(0)
    light = 1 + torch.rand(2000, 1, 1, 1, generator=g)          # each image under its own light
    X = light * torch.rand(2000, 1, 8, 8, generator=g)
    torch.manual_seed(0)
    model = BatchStandardized()
    for seed in range(6):
        rows = torch.randperm(2000, generator=torch.Generator().manual_seed(seed))
        found = check_batch_dependence(model, X[rows[:256]], seed=seed, pool=X[rows])
        assert [f.severity for f in found] == ["info"] and found[0].evidence["fades"]


class BatchShareGate(nn.Module):
    """Each row's hidden units weighted by a gate normalized over the batch axis (``torch.softmax(...,
    dim=0)`` where ``dim=1`` / a sigmoid was meant): a row's weight is its share of the batch (~1 / n),
    so its output and the dependence both shrink as the batch grows; a bias keeps the outputs' RMS."""

    def __init__(self, dim):
        super().__init__()
        self.hidden, self.gate, self.out, self.dim = nn.Linear(10, 24), nn.Linear(24, 24), nn.Linear(24, 4), dim
        nn.init.constant_(self.out.bias, 2.0)

    def forward(self, x):
        h = torch.relu(self.hidden(x))
        return self.out(torch.softmax(self.gate(h), dim=self.dim) * h)


def test_a_softmax_over_the_batch_whose_rows_signal_shrinks_with_it_is_an_error_not_a_fading_statistic():
    """The dependence fades against the outputs' RMS (the bias stays, the rows' part falls as 1 / n),
    but not against how much the rows differ from each other: an error, not info; the same gate over
    the features (dim=1) is row-wise."""
    torch.manual_seed(2)
    found = mc.check_batch_dependence(BatchShareGate(0), BIG)
    assert codes(found) == {"batch_dependence"} and found[0].severity == "error"
    assert "fades" not in found[0].evidence and found[0].evidence["change_permuted"] <= mc.BATCH_TOLERANCE
    # the old unit (the outputs' RMS, the bias in it) reads it as fading: the spread is what tells them apart
    model = BatchShareGate(0).eval()
    with torch.no_grad():
        inside, alone = model(BIG[:64]), model(BIG[:32])
        big_inside, big_alone = model(BIG), model(BIG[:128])
    rms = lambda a, b: float((a - b).abs().mean() / a.pow(2).mean().sqrt())
    assert rms(big_inside[:128], big_alone) <= mc.DECAY * rms(inside[:32], alone)
    torch.manual_seed(2)
    assert mc.check_batch_dependence(BatchShareGate(1), BIG) == []
