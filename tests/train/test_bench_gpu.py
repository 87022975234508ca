"""bench/bench_gpu.py, the script the lead runs on a GPU, runs end to end at --smoke sizes."""
import importlib.util
import json
import math
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "bench_gpu", Path(__file__).resolve().parents[2] / "bench" / "bench_gpu.py")
bench_gpu = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench_gpu)


@pytest.mark.slow    # every section of the GPU bench end to end, on the CPU: its cost is its property
def test_the_smoke_run_writes_every_ratio_and_both_summaries(tmp_path):
    bench_gpu.main(["--smoke", "--sections", "a,b,c", "--repeats", "1", "--no-compile",
                    "--device", "cpu", "--out", str(tmp_path)])
    result = json.loads((tmp_path / "gpu_bench.json").read_text())
    ratios = {k: v for s in result["sections"].values() for k, v in s["ratios"].items()}
    assert set(bench_gpu.GOALS) <= set(ratios)
    assert all(math.isfinite(v) and v > 0 for v in ratios.values())
    text = (tmp_path / "gpu_bench.md").read_text()
    assert "fit_bf16_cl_over_hand_bf16_cl" in text and "sam_over_base" in text


def test_the_airbench_cnn_has_the_issues_widths():
    import torch
    net = bench_gpu.airbench_cnn()
    convs = [m.out_channels for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs[0] == 24 and sorted(set(convs)) == [24, 64, 256]
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
