import torch
import torch.nn.functional as F
from torch import nn

import pytest

from trainwell.babysit.gradcheck import ERROR_THRESHOLD, WARN_THRESHOLD, NotCheckable, gradcheck
from trainwell.babysit.preflight import preflight


class BadSquare(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x                    # wrong: d(x^2)/dx = 2x


class Net(nn.Module):
    def __init__(self, bad):
        super().__init__()
        torch.manual_seed(0)
        self.a, self.b, self.bad = nn.Linear(5, 7), nn.Linear(7, 3), bad

    def forward(self, x):
        h = self.a(x)
        return self.b(BadSquare.apply(h) if self.bad else h * h)


def test_correct_gradients_pass_and_a_wrong_backward_is_caught():
    x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    good = gradcheck(Net(False), x, y, F.cross_entropy)
    assert max(r["rel_error"] for r in good) < 1e-6
    bad = {r["name"]: r["rel_error"] for r in gradcheck(Net(True), x, y, F.cross_entropy)}
    assert bad["a.weight"] > ERROR_THRESHOLD and bad["b.weight"] < 1e-6    # only upstream of the bug


def test_the_model_is_not_modified():
    net = Net(False)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    gradcheck(net, torch.randn(4, 5), torch.randint(0, 3, (4,)), F.cross_entropy)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert next(net.parameters()).dtype == torch.float32 and net.a.weight.grad is None


def _stack(depth, act, std, width=32, bad=False):
    torch.manual_seed(1)
    layers, d = [], 20
    for _ in range(depth):
        lin = nn.Linear(d, width)
        nn.init.normal_(lin.weight, std=std)
        layers += [lin, act()]
        d = width
    layers.append(nn.Linear(d, 5))

    class Deep(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(*layers)

        def forward(self, x):
            h = self.body[:2](x)
            return self.body[2:](BadSquare.apply(h) if bad else h * h)
    return Deep()


def test_deep_nets_whose_units_vanish_or_explode_pass_with_autograd_gradients():
    # autograd is right on all of these; the raw finite-difference disagreement is large because
    # the gradients sit below the difference's rounding noise (vanishing) or its truncation error
    x, y = torch.randn(16, 20), torch.randint(0, 5, (16,))
    for act, std in ((nn.Sigmoid, 0.3), (nn.Tanh, 0.01), (nn.ReLU, 0.01), (nn.Identity, 0.6)):
        results = gradcheck(_stack(9, act, std), x, y, F.cross_entropy)
        assert max(r["rel_error"] for r in results) < ERROR_THRESHOLD, (act, std)
    raw = max(r["raw_error"] for r in gradcheck(_stack(9, nn.Tanh, 0.01), x, y, F.cross_entropy))
    assert raw > ERROR_THRESHOLD          # what the plain relative error reported before


def test_a_wrong_backward_in_a_deep_net_is_still_caught_and_tensors_are_sampled():
    x, y = torch.randn(16, 20), torch.randint(0, 5, (16,))
    results = gradcheck(_stack(9, nn.Tanh, 0.3, bad=True), x, y, F.cross_entropy, max_tensors=6)
    names = [r["name"] for r in results]
    assert len(names) == 6 and names[0] == "body.0.weight" and names[-1] == "body.18.bias"
    assert {r["name"]: r["rel_error"] for r in results}["body.0.weight"] > ERROR_THRESHOLD
    assert max(r["rel_error"] for r in results if not r["name"].startswith("body.0.")) < ERROR_THRESHOLD


def test_a_loss_module_with_class_weights_is_checked_in_float64():
    """nn.CrossEntropyLoss(weight=...) holds a float32 buffer: converted with the model, the check
    runs (it raised autograd's "expected scalar type Double but found Float" before)."""
    x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    loss = nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5]))
    good = gradcheck(Net(False), x, y, loss)
    assert max(r["rel_error"] for r in good) < 1e-6
    assert loss.weight.dtype == torch.float32            # the user's module is not converted
    bad = {r["name"]: r["rel_error"] for r in gradcheck(Net(True), x, y, loss)}
    assert bad["a.weight"] > ERROR_THRESHOLD


def test_a_loss_function_holding_float32_tensors_is_not_checkable():
    weight = torch.tensor([1.0, 2.0, 0.5])
    x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    with pytest.raises(NotCheckable, match="float64"):
        gradcheck(Net(False), x, y, lambda out, t: F.cross_entropy(out, t, weight=weight))


def _one_vs_rest(cast):
    """BCE of each logit against its one-hot column; ``cast``: the target's dtype (None: the logits')."""
    def loss(out, t):
        target = F.one_hot(t, out.shape[1])
        return F.binary_cross_entropy_with_logits(out, target.to(cast or out.dtype))
    return loss


def test_a_loss_that_computes_in_float32_is_not_checkable_not_a_wrong_gradient():
    """A target made with .float() makes the loss float32 on float64 outputs: a finite difference at
    h = 1e-6 moves it by less than its rounding (both read 0), which read as a wrong gradient."""
    x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    with pytest.raises(NotCheckable, match="float32"):
        gradcheck(Net(False), x, y, _one_vs_rest(torch.float32))
    good = gradcheck(Net(False), x, y, _one_vs_rest(None))             # the same loss in the outputs' dtype
    assert max(r["rel_error"] for r in good) < 1e-6
    bad = {r["name"]: r["rel_error"] for r in gradcheck(Net(True), x, y, _one_vs_rest(None))}
    assert bad["a.weight"] > ERROR_THRESHOLD                          # ... still catches a wrong backward
    torch.manual_seed(0)
    X, Y = torch.randn(256, 5), torch.randint(0, 3, (256,))
    found = preflight(Net(False), X, Y, loss=_one_vs_rest(torch.float32), lr=0.05, budget_s=20.0)
    assert "gradient_mismatch" not in {f.code for f in found}
    skipped = [f for f in found if f.code == "check_skipped" and "gradient check" in f.evidence["skipped"]]
    assert skipped and skipped[0].severity == "info" and "float32" in skipped[0].message


def test_preflight_skips_the_gradient_check_it_cannot_run_and_says_so():
    torch.manual_seed(0)
    X, y = torch.randn(256, 5), torch.randint(0, 3, (256,))
    weight = torch.tensor([1.0, 2.0, 0.5])
    found = preflight(Net(False), X, y, loss=lambda out, t: F.cross_entropy(out, t, weight=weight), lr=0.05,
                      budget_s=20.0)
    skipped = [f for f in found if f.code == "check_skipped" and "gradient check" in f.evidence["skipped"]]
    assert skipped and skipped[0].severity == "info" and "float64" in skipped[0].message


class ZeroBranch(nn.Module):
    """relu(h + branch(h)) after a ReLU stem, with the branch's last scale at zero: the branch adds
    exactly 0, so the block's ReLU sits on the stem's exact zeros (its kink) whatever the input."""

    def __init__(self, last, *, bad=False):
        super().__init__()
        torch.manual_seed(2)
        self.stem, self.fc, self.out, self.bad = nn.Linear(6, 16), nn.Linear(16, 16), nn.Linear(16, 4), bad
        self.norm = {"batchnorm": nn.BatchNorm1d(16), "layernorm": nn.LayerNorm(16), "linear": nn.Identity()}[last]
        if last == "linear":
            nn.init.zeros_(self.fc.weight)
            nn.init.zeros_(self.fc.bias)
        else:
            nn.init.zeros_(self.norm.weight)

    def forward(self, x):
        h = self.stem(x)
        h = F.relu(BadSquare.apply(h) if self.bad else h)
        return self.out(F.relu(h + self.norm(self.fc(h))))


@pytest.mark.parametrize("last", ["batchnorm", "layernorm", "linear"])
def test_a_zero_initialized_branch_reads_as_correct_and_a_wrong_backward_behind_it_is_caught(last):
    # the branch's parameters see the block's ReLU kinks exactly at the point: their centered
    # differences at h and 2h agree (both the mean of the one-sided slopes) and differ from
    # autograd's one-sided slope; the one-sided differences' jump is the difference's own uncertainty
    x, y = torch.randn(32, 6), torch.randint(0, 4, (32,))
    results = gradcheck(ZeroBranch(last), x, y, F.cross_entropy, coords=8)
    assert max(r["rel_error"] for r in results) < WARN_THRESHOLD, results
    assert max(r["raw_error"] for r in results) > ERROR_THRESHOLD    # the disagreement that was read as a fault
    bad = {r["name"]: r["rel_error"] for r in gradcheck(ZeroBranch(last, bad=True), x, y, F.cross_entropy, coords=8)}
    assert bad["stem.weight"] > ERROR_THRESHOLD


def test_a_forward_that_builds_float32_layers_is_not_checkable():
    """A layer made inside ``forward`` (float32, whatever the copy's dtype) meets float64 inputs:
    PyTorch's message names the types ("Input type (double) and bias type (float)")."""
    class BuildsInForward(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(4, 3)

        def forward(self, x):
            return self.head(torch.relu(nn.Conv1d(1, 4, 5)(x).amax(-1)))

    x, y = torch.randn(8, 1, 12), torch.randint(0, 3, (8,))
    with pytest.raises(NotCheckable, match="float64"):
        gradcheck(BuildsInForward(), x, y, F.cross_entropy)


def _self_paced(detach):
    """Cross-entropy with each row weighted by its label's probability (held fixed, or not)."""
    def loss(out, t):
        nll = F.cross_entropy(out, t, reduction="none")
        p = torch.exp(-nll)
        return ((p.detach() if detach else p) * nll).mean()
    return loss


def test_a_mismatch_that_lies_in_the_loss_is_told_apart_from_one_in_the_model():
    """A weight held fixed in the loss (``detach()``) makes autograd differ from the loss's own
    derivative while the model's gradients are right: in_the_loss. A wrong backward in the model,
    and a loss that cuts its gradient whole (a float rewrapped), are not."""
    from trainwell.babysit.gradcheck import in_the_loss
    x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    held = {r["name"]: r for r in gradcheck(Net(False), x, y, _self_paced(True))}
    wrong = [n for n, r in held.items() if r["rel_error"] > ERROR_THRESHOLD]
    assert wrong                                       # the finite differences see the detached weight
    assert in_the_loss(Net(False), x, y, _self_paced(True), wrong)
    assert max(r["rel_error"] for r in gradcheck(Net(False), x, y, _self_paced(False))) < 1e-6
    model_bug = [r["name"] for r in gradcheck(Net(True), x, y, F.cross_entropy) if r["rel_error"] > ERROR_THRESHOLD]
    assert model_bug and not in_the_loss(Net(True), x, y, F.cross_entropy, model_bug)

    def rewrapped(out, t):
        return torch.tensor(F.cross_entropy(out, t).item(), dtype=out.dtype, requires_grad=True)
    assert not in_the_loss(Net(False), x, y, rewrapped, ["a.weight"])

    class FlippedSquare(torch.autograd.Function):       # a loss's own backward, its sign flipped
        @staticmethod
        def forward(ctx, d):
            ctx.save_for_backward(d)
            return d * d

        @staticmethod
        def backward(ctx, g):
            (d,) = ctx.saved_tensors
            return -2 * d * g

    def flipped(out, t):
        return FlippedSquare.apply(out - F.one_hot(t, 3).to(out.dtype)).mean()
    wrong = [r["name"] for r in gradcheck(Net(False), x, y, flipped) if r["rel_error"] > ERROR_THRESHOLD]
    assert wrong and not in_the_loss(Net(False), x, y, flipped, wrong)


def test_preflight_grades_a_stop_gradient_in_the_users_loss_as_info_and_a_wrong_backward_as_an_error():
    torch.manual_seed(0)
    X, y = torch.randn(256, 5), torch.randint(0, 3, (256,))
    held = [f for f in preflight(Net(False), X, y, loss=_self_paced(True), lr=0.05, budget_s=20.0)
            if f.code == "gradient_mismatch"]
    assert held and all(f.severity == "info" for f in held)
    assert any(f.evidence["in_the_loss"] and "the loss itself stops part of its gradient" in f.message for f in held)
    bug = [f for f in preflight(Net(True), X, y, loss=F.cross_entropy, lr=0.05, budget_s=20.0)
           if f.code == "gradient_mismatch" and f.severity == "error"]
    assert bug and not any(f.evidence["in_the_loss"] for f in bug)


class WordPool(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.emb = nn.Embedding(30, 8, scale_grad_by_freq=scale)
        self.head = nn.Linear(8, 3)

    def forward(self, ids):
        return self.head(self.emb(ids).mean(1))


@pytest.mark.parametrize("scale", [False, True])
def test_an_embedding_whose_gradient_pytorch_scales_by_frequency_is_left_out(scale):
    """scale_grad_by_freq divides each row's gradient by its id's count in the batch (PyTorch's
    option): autograd's gradient is not dL/dw by design, so the check leaves that weight out
    instead of calling PyTorch's backward wrong; without the option the weight is checked and agrees."""
    torch.manual_seed(0)
    ids = torch.randint(0, 6, (32, 10))                    # 6 ids over 320 places: counts of ~50
    y = torch.randint(0, 3, (32,))
    checked = {c["name"]: c for c in gradcheck(WordPool(scale), ids, y, F.cross_entropy)}
    assert ("emb.weight" in checked) is not scale
    assert all(c["rel_error"] <= WARN_THRESHOLD for c in checked.values())
    assert "gradient_mismatch" not in [f.code for f in preflight(WordPool(scale), ids, y, budget_s=3)]


class FloatIds(nn.Module):
    """Word ids stored as floats, cast inside the forward (set 26's logs, set 21's tickets)."""

    def __init__(self, words):
        super().__init__()
        torch.manual_seed(0)
        self.emb, self.head = nn.Embedding(words, 8), nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.emb(x.long()).mean(1))


def test_ids_stored_as_floats_up_to_the_vocabulary_are_checked_without_a_jitter_past_it():
    words = 5000
    x = torch.randint(0, words, (16, 20)).float()
    x[:, 0] = words - 1                 # the jitter (1e-3 of the ids' spread, ~1.4) pushes some past
    y = torch.randint(0, 3, (16,))
    rows = gradcheck(FloatIds(words), x, y, F.cross_entropy)
    assert rows and max(r["rel_error"] for r in rows) < 1e-6
