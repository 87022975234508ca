"""A plain-PyTorch training loop driving the trainer's hooks on a duck-typed state, and the
small data sets and models the babysitter tests use (the way users write them)."""
from __future__ import annotations

import math
import time
from types import SimpleNamespace

import torch
from torch import nn

_DIGITS = None

# Config lines for the options fit accepts beyond a plain optimizer: `trainwell doctor` and
# `trainwell lr-find` must take each of them (issue 10).
OPTIMIZER_OPTION_CONFIGS = {
    "lr_mults": 'lr_mults = { "1" = 0.1 }',
    "freeze": 'freeze = ["1"]',
    "optimizer_options": 'nesterov = false\noptimizer_options = { dampening = 0.1 }',
    "sam": 'optimizer = "sam"\noptimizer_options = { rho = 0.1 }',
}


# fit's options for a quiet, short CPU run the babysitter's repair tests drive themselves
QUIET_FIT = {"progress": False, "report": False, "device": "cpu", "babysit": "off", "schedule": "constant"}


def digits(*, standardize: bool = True):
    """sklearn digits as tensors: (X_train, y_train, X_val, y_val); 1400 / 397 rows."""
    global _DIGITS
    if _DIGITS is None:
        from sklearn.datasets import load_digits
        d = load_digits()
        g = torch.Generator().manual_seed(0)
        perm = torch.randperm(len(d.target), generator=g)
        _DIGITS = (torch.tensor(d.data, dtype=torch.float32)[perm], torch.tensor(d.target)[perm])
    X, y = _DIGITS
    if standardize:
        mean, std = X[:1400].mean(0), X[:1400].std(0)
        X = (X - mean) / (std + 1e-8)
    return X[:1400], y[:1400], X[1400:], y[1400:]


def mlp(widths=(64, 128, 64, 10), act=nn.ReLU, *, seed: int = 0, dropout: float = 0.0):
    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(act())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def tanh_net(depth: int, scale: float, *, width: int = 64, dropout: float = 0.0):
    """A digits tanh MLP (``depth`` hidden layers) with every weight matrix scaled by ``scale``
    (notes 004: W*1.0-scale init saturates tanh units)."""
    torch.manual_seed(0)
    layers, w = [], 64
    for _ in range(depth):
        layers += [nn.Linear(w, width), nn.Tanh()] + ([nn.Dropout(dropout)] if dropout else [])
        w = width
    net = nn.Sequential(*layers, nn.Linear(w, 10))
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                m.weight.mul_(scale)
    return net


def train(model, X, y, *, loss_fn=None, optimizer=None, lr=0.1, epochs=3, batch_size=64, val=None,
          callbacks=(), shuffle=True, seed=0):
    """Mini-batch training with the trainer's hook order; returns the state."""
    loss_fn = loss_fn or nn.functional.cross_entropy
    opt = optimizer(model.parameters()) if optimizer else torch.optim.SGD(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    n = X.shape[0]
    spe = math.ceil(n / batch_size)
    state = SimpleNamespace(model=model, optimizer=opt, loss_fn=loss_fn, step=0, epoch=0, batch_index=0,
                            steps_per_epoch=spe, total_steps=spe * epochs, batch=None, loss=None, history=[],
                            metrics={}, stop=None, lr_scale=1.0, lr=opt.param_groups[0]["lr"], config={},
                            run_dir=None, extras={}, initial_loss=None)

    def hook(name):
        for cb in callbacks:
            fn = getattr(cb, name, None)
            if fn is not None:
                fn(state)

    hook("on_fit_start")
    started = time.perf_counter()
    while state.stop is None and state.epoch < epochs:
        hook("on_epoch_start")
        order = torch.randperm(n, generator=g) if shuffle else torch.arange(n)
        loss_sum = torch.zeros(())
        correct = torch.zeros(())
        for i in range(spe):
            idx = order[i * batch_size:(i + 1) * batch_size]
            xb, yb = X[idx], y[idx]
            state.batch_index, state.batch = i, (xb, yb)
            hook("on_before_step")
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            state.loss = loss.detach()
            state.step += 1
            loss_sum += loss.detach() * xb.shape[0]
            if not torch.is_floating_point(yb):
                correct += (out.argmax(1) == yb).sum()
            hook("on_after_step")
            if state.stop is not None:
                break
        state.epoch += 1
        metrics = {"epoch": state.epoch, "lr": state.lr, "train_loss": float(loss_sum / n),
                   "train_acc": float(correct / n) if not torch.is_floating_point(y) else None,
                   "val_loss": None, "val_acc": None, "seconds": time.perf_counter() - started}
        if val is not None:
            with torch.no_grad():
                model.eval()
                out = model(val[0])
                model.train()
                metrics["val_loss"] = float(loss_fn(out, val[1]))
                if not torch.is_floating_point(val[1]):
                    metrics["val_acc"] = float((out.argmax(1) == val[1]).float().mean())
        state.metrics = metrics
        hook("on_validation_end")
        state.history.append(metrics)
        hook("on_epoch_end")
    hook("on_fit_end")
    return state


def as_the_doctor_calls(check, model, train_rows, val_rows, **options):
    """``check(prepared, X, y, loss, ...)`` with the inputs the doctor gives a pre-flight check that
    trains (doctor.py: the prepared run, its check sample, the probe's lr and optimizer options), no
    budget: a check's own test without the doctor's other checks around it."""
    from trainwell.babysit.loss_kinds import resolve_loss
    from trainwell.babysit.probe_steps import probe_lr
    from trainwell.data.streaming import check_sample
    from trainwell.train.fit import prepare
    from trainwell.train.parts import optimizer_options

    opts = {**options, "run_dir": None, "resume": False, "progress": False, "babysit": "off", "report": False,
            "log": [], "overwrite": False, "extend": False}     # as the doctor sets them
    p = prepare(model, train_rows, val_rows, None, opts, check=False)
    c = p.config
    probe_options = {k: v for k, v in optimizer_options(c).items() if k not in ("lr", "weight_decay")}
    return check(p, *check_sample(*p.train, seed=c.seed), resolve_loss(c.loss)[0], optimizer=c.optimizer,
                 lr=probe_lr(c.optimizer, c.lr, probe_options), weight_decay=c.weight_decay or 0.0,
                 options=probe_options, batch_size=c.batch_size, seed=c.seed)
