import pytest
import torch

import trainwell


@pytest.fixture
def images():
    """60 random 1x4x4 images with 3 classes (a CNN-sized problem, fast)."""
    g = torch.Generator().manual_seed(1)
    return torch.randn(60, 1, 4, 4, generator=g), torch.arange(60) % 3


@pytest.fixture(scope="session")
def digits_runs(tmp_path_factory):
    """Three short digits MLP runs (seeds 0, 1, 2) on the CPU: run directories."""
    base = tmp_path_factory.mktemp("geometry-runs")
    dirs = []
    for seed in (0, 1, 2):
        run_dir = base / f"mlp{seed}"
        trainwell.fit({"type": "mlp", "widths": [16]}, "digits", run_dir=str(run_dir), epochs=2,
                      seed=seed, device="cpu", progress=False, report=True, babysit="off")
        dirs.append(run_dir)
    return dirs

