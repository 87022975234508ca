"""Small models shared by the geometry tests."""
import torch
from torch import nn


def small_cnn(seed=0):
    """Conv -> batch norm -> ReLU -> linear on 1x4x4 images, 3 classes."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(3 * 16, 3))
