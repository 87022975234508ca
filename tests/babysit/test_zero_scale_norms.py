"""init_checks.check_zero_scale_norms: a normalization layer whose scale (gamma) is zero on every
channel ("zero gamma", Goyal et al. 2017) is symmetric_init's W = 0 one layer on, a warning graded
by the re-initialization that resets it (set 6's dice_zero_init_residual)."""
import torch
import torch.nn.functional as F
from torch import nn

from trainwell.babysit import init_checks
from trainwell.babysit.actions import reinitialize


class Block(nn.Module):
    def __init__(self, c=8):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)

    def forward(self, x):
        return F.relu(x + self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))


def resnet(zero_gamma: bool):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), Block(), Block(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(8, 4))
    if zero_gamma:
        for block in (model[2], model[3]):
            nn.init.zeros_(block.bn2.weight)
    return model


X, Y = torch.randn(32, 1, 8, 8), torch.randint(0, 4, (32,))


def check(model):
    layers, _ = init_checks.hidden_and_output_layers(model, X)
    return init_checks.check_symmetry(model, X, Y, F.cross_entropy, layers)


def test_a_zero_gamma_residual_init_is_a_symmetric_init_warning():
    found = check(resnet(zero_gamma=True))
    assert [f.code for f in found] == ["symmetric_init"]
    assert found[0].severity == "warning" and found[0].where == "2.bn2, 3.bn2"
    assert found[0].evidence["zero_scale_norms"] == {"2.bn2": 8, "3.bn2": 8}


def test_the_healthy_twin_and_a_reinitialized_model_are_quiet():
    assert check(resnet(zero_gamma=False)) == []
    model = resnet(zero_gamma=True)
    reinitialize(model, seed=0)                      # resets the norms: gamma 1
    assert check(model) == []


def test_norms_without_a_scale_or_frozen_are_not_read():
    plain = nn.Sequential(nn.Linear(6, 16), nn.LayerNorm(16, elementwise_affine=False), nn.ReLU(), nn.Linear(16, 3))
    frozen = nn.Sequential(nn.Linear(6, 16), nn.LayerNorm(16), nn.ReLU(), nn.Linear(16, 3))
    nn.init.zeros_(frozen[1].weight)
    frozen[1].weight.requires_grad_(False)
    assert init_checks.zero_scale_norms(plain) == {} and init_checks.zero_scale_norms(frozen) == {}
