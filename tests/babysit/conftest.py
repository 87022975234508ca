"""Fixtures of the babysitter's experiment tests: a 4-class task that still learns after a few
hundred steps, and a small MLP for it."""
import pytest
import torch
from sklearn.datasets import make_classification
from torch import nn


@pytest.fixture(scope="module")
def four_class():
    """(X, y): 1200 rows, 10 features, 4 classes; held accuracy still rises after a few hundred steps."""
    X, y = make_classification(n_samples=1200, n_features=10, n_informative=6, n_classes=4, random_state=0)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y)


@pytest.fixture
def four_class_mlp():
    """A factory of the same seeded 10-32-4 ReLU MLP."""
    def make():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 4))
    return make
