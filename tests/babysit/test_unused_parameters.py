"""vanishing_gradients compares the relative gradients of the parameters the loss reads: a parameter
whose gradient is exactly 0 in every sample is unused (the output ignores it), not vanishing."""
import torch
from torch import nn

from babysit_loop import train
from trainwell.babysit import rules as R
from trainwell.babysit.monitor import Monitor

CTX = {"initial_loss": 1.4, "steps_per_epoch": 20, "max_lr": 5e-3, "final": False}


def samples(grads_of_step, n=12):
    out = []
    for i in range(n):
        grads = grads_of_step(i)
        out.append({"step": i * 5 + 1, "epoch": 0, "loss": 1.4 - 0.01 * i, "lr": 5e-3, "weight_decay": 0.0,
                    "batch_finite": True, "grad_norm": grads, "weight_norm": {k: 10.0 for k in grads},
                    "update_ratio": {k: 5e-3 * g / 10.0 for k, g in grads.items()}})   # SGD: lr x the gradient
    return out


def test_a_parameter_with_an_exactly_zero_gradient_in_every_sample_is_unused_not_vanishing():
    s = samples(lambda i: {"lstm.weight_ih": 1.0, "lstm.weight_hh": 0.0, "head.weight": 2.0})
    assert R.unused_parameters(s) == ["lstm.weight_hh"]
    assert R.vanishing_gradients(s, [], CTX) == []


def test_a_small_nonzero_gradient_still_vanishes():
    """The same series with the gradient 1e-6 instead of 0 (a product of small derivatives) fires,
    and so does one that is 0 on some samples only (the rule is 'every sample')."""
    tiny = samples(lambda i: {"0.weight": 1e-6, "2.weight": 1.0})
    assert R.unused_parameters(tiny) == []
    f = R.vanishing_gradients(tiny, [], CTX)
    assert [x.code for x in f] == ["vanishing_gradients"] and f[0].where == "0"
    sometimes = samples(lambda i: {"0.weight": 0.0 if i % 2 else 1e-6, "2.weight": 1.0})
    assert R.unused_parameters(sometimes) == []
    assert [x.code for x in R.vanishing_gradients(sometimes, [], CTX)] == ["vanishing_gradients"]


def test_no_gradient_anywhere_is_still_nothing_learns():
    """Every parameter exactly 0: the total-norm branch ("nothing learns") is judged before the
    unused parameters are set aside."""
    s = samples(lambda i: {"0.weight": 0.0, "2.weight": 0.0})
    f = R.vanishing_gradients(s, [], CTX)
    assert [x.code for x in f] == ["vanishing_gradients"] and "nothing learns" in f[0].message


class FirstStepLSTM(nn.Module):
    """An LSTM read at its first time step: its recurrent weights multiply the initial state 0, so
    their gradient is exactly 0 on every batch."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 16, batch_first=True)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, 0])


def test_an_lstm_read_at_its_first_step_in_a_real_loop_gets_no_vanishing_gradients():
    g = torch.Generator().manual_seed(0)
    X = nn.functional.one_hot(torch.randint(0, 4, (640, 8), generator=g), 4).float()
    y = X.sum(1).argmax(1)
    torch.manual_seed(0)
    m = Monitor(every=2)
    train(FirstStepLSTM(), X, y, optimizer=lambda p: torch.optim.Adam(p, lr=5e-3), epochs=2, callbacks=[m])
    assert "lstm.weight_hh_l0" in R.unused_parameters(m.samples)
    assert "lstm.weight_ih_l0" not in R.unused_parameters(m.samples)
    assert "vanishing_gradients" not in {f.code for f in m.findings}
