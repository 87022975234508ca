"""The SAM family through the trainer (``trainwell.fit``): the same augmented batch in both passes,
batch-norm statistics from the unperturbed pass only, clipping on the stepped gradient only."""

import copy

import pytest
import torch
from torch import nn

import trainwell
from trainwell.train.loop import default_step

SAM_FAMILY = ["sam", "asam", "eg_sam", "og_sam", "ao_sam"]

# one full-batch step, nothing but the optimizer acting on the weights
ONE_STEP = dict(batch_size=10_000, shuffle=False, max_steps=1, epochs=1, weight_decay=0.0, momentum=0.0,
                nesterov=False, schedule="constant", progress=False, babysit="off", device="cpu")


class Recording(nn.Module):
    """An MLP that keeps every training-mode input it sees (the inputs of each pass)."""

    def __init__(self, batch_norm: bool = False):
        super().__init__()
        torch.manual_seed(0)
        norm = [nn.BatchNorm1d(16)] if batch_norm else []
        self.net = nn.Sequential(nn.Linear(2, 16), *norm, nn.Tanh(), nn.Linear(16, 3))
        self.seen = []

    def forward(self, x):
        if self.training:
            self.seen.append(x.detach().clone())
        return self.net(x)


def _counting_step(optimizers):
    def step_fn(state, closure):
        optimizers.append(state.optimizer)
        return default_step(state, closure)
    return step_fn


@pytest.mark.parametrize("name", ["sam", "og_sam"])
def test_both_passes_see_the_same_augmented_batch_and_augmentation_is_drawn_once_per_step(blobs, name):
    """Per SAM step: two forwards on the identical augmented batch. One augmentation draw per step:
    the SAM run's batches are exactly plain SGD's (same seed), not every other draw."""
    X, y = blobs
    runs = {}
    for optimizer in ("sgd", name):
        model = Recording()
        trainwell.fit(model, (X, y), optimizer=optimizer, augment=[{"name": "noise", "std": 0.3, "clamp": False}],
                      batch_size=64, epochs=1, max_steps=3, lr=0.05, seed=3, progress=False, babysit="off",
                      device="cpu")
        runs[optimizer] = model.seen
    plain, sam = runs["sgd"], runs[name]
    assert len(plain) == 3 and len(sam) == 6
    for step in range(3):
        assert torch.equal(sam[2 * step], sam[2 * step + 1])          # both passes, one batch
        assert torch.equal(sam[2 * step], plain[step])                # the draw of plain SGD's step
    assert not torch.equal(plain[0], plain[1])
    assert not any(torch.equal(plain[0], X[i:i + 64]) for i in range(0, 300, 64))   # augmented


@pytest.mark.parametrize("name", SAM_FAMILY)
def test_batch_norm_statistics_come_only_from_the_unperturbed_pass_through_fit(blobs, name):
    X, y = blobs
    model = Recording(batch_norm=True)
    twin = copy.deepcopy(model)
    optimizers = []
    trainwell.fit(model, (X, y), optimizer=name, lr=0.5, optimizer_options={"rho": 0.5},
                  step_fn=_counting_step(optimizers), **ONE_STEP)
    assert optimizers[0].sam_steps == 1 and len(model.seen) == 2      # a two-pass step happened
    twin.train()
    twin(X)                                                           # one plain forward at w0
    bn, bn_twin = model.net[1], twin.net[1]
    assert torch.equal(bn.running_mean, bn_twin.running_mean)
    assert torch.equal(bn.running_var, bn_twin.running_var)
    assert int(bn.num_batches_tracked) == int(bn_twin.num_batches_tracked) == 1


def _grads(model, X, y):
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(X), y).backward()
    return [p.grad.clone() for p in model.parameters()]


def _norm(tensors):
    return torch.stack([t.norm() for t in tensors]).norm()


@pytest.mark.parametrize("name, clip", [("eg_sam", {"clip_norm": 0.05}), ("sam", {"clip_value": 0.01}),
                                        ("og_sam", {"clip_norm": 0.05})])
def test_clipping_applies_to_the_stepped_gradient_only(blobs, name, clip):
    """w1 = w0 − lr·clip(∇L(w̃)) where w̃ is built from the UNclipped g (issue 5: "clipping applies
    after the second pass"). EG-SAM's −lr·g and a clip by value would show a clipped g in w̃."""
    X, y = blobs
    lr, rho = 0.5, 0.2
    model = Recording()
    w0 = [p.detach().clone() for p in model.parameters()]
    trainwell.fit(model, (X, y), optimizer=name, lr=lr, optimizer_options={"rho": rho}, **clip, **ONE_STEP)

    probe = Recording()
    g = _grads(probe, X, y)                                           # first pass: raw gradient
    scale = rho / (_norm(g) + 1e-12)
    with torch.no_grad():
        for p, w, gi in zip(probe.parameters(), w0, g):
            p.copy_(w + scale * gi - (lr * gi if name != "sam" else 0))
    g2 = _grads(probe, X, y)                                          # second pass at w̃
    if "clip_norm" in clip:
        assert _norm(g2) > 2 * clip["clip_norm"]                      # clipping was active
        g2 = [t * clip["clip_norm"] / (_norm(g2) + 1e-6) for t in g2]
    else:
        assert max(t.abs().max() for t in g2) > 2 * clip["clip_value"]
        g2 = [t.clamp(-clip["clip_value"], clip["clip_value"]) for t in g2]
    for p, w, gi in zip(model.parameters(), w0, g2):
        torch.testing.assert_close(p.detach(), w - lr * gi, rtol=1e-5, atol=1e-6)


def test_clipping_applies_once_on_plain_steps_of_efficient_sam_and_ao_sam(blobs):
    """A plain step of AO-SAM (its threshold never reached) is SGD with the clipped gradient."""
    X, y = blobs
    runs = []
    for optimizer, options in (("sgd", {}), ("ao_sam", {"c_start": 1e6, "c_end": 1e6})):
        model = Recording()
        optimizers = []
        trainwell.fit(model, (X, y), optimizer=optimizer, lr=0.5, optimizer_options=options, clip_norm=0.05,
                      step_fn=_counting_step(optimizers), **{**ONE_STEP, "max_steps": 3, "batch_size": 100})
        runs.append([p.detach() for p in model.parameters()])
        if optimizer == "ao_sam":
            assert optimizers[0].sam_steps == 0
    for a, b in zip(*runs):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
