"""docs/optimization.md "Gradient noise": the config's `grad_noise` (η) and `grad_noise_gamma` (γ)
are the noise `fit` adds to the gradients, σ_t² = η / (1 + t)^γ at the trainer's step t
(tests/optim/test_penalties.py checks GradientNoise built by hand; this, the config's way in)."""
import math
from types import SimpleNamespace

import pytest
import torch

from trainwell.config import make_config
from trainwell.train.parts import build_grad_hooks


@pytest.mark.parametrize("step", [0, 99])
def test_the_configs_eta_and_gamma_set_the_noise_std_at_the_trainers_step(step):
    config = make_config({"grad_noise": 0.5, "grad_noise_gamma": 1.0})
    weight = torch.nn.Parameter(torch.zeros(200_000))
    (hook,) = build_grad_hooks(config, torch.nn.ParameterList([weight]))
    weight.grad = torch.zeros_like(weight)
    hook(SimpleNamespace(config=config, step=step))
    expected = math.sqrt(0.5 / (1 + step) ** 1.0)     # γ = 0.55 (the default) would give 0.2 at step 99
    assert weight.grad.std().item() == pytest.approx(expected, rel=0.01)
    assert abs(weight.grad.mean().item()) < 0.01 * expected


def test_no_noise_hook_without_grad_noise():
    assert build_grad_hooks(make_config({"grad_noise": 0.0, "grad_noise_gamma": 1.0}), torch.nn.Linear(2, 2)) == []
