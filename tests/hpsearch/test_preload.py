"""What worker 0 imports before it forks the others (``WORKER_PRELOAD``, study.py): each module is
one that a trial's first fit imports anyway, so the preload moves an import and adds none, and
the one that comes from torch (``torch._dynamo``) is imported by torch's own optimizer, which no
public option keeps from importing it (BENCHMARKS.md, "per-trial cost, eleventh pass")."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import trainwell
from trainwell.hpsearch.study import WORKER_PRELOAD

ROOT = Path(trainwell.__file__).resolve().parents[1]

PROBE = """
import json, sys
import trainwell.cli, trainwell.hpsearch.study     # what `trainwell search` imports before a trial
before = {m: m in sys.modules for m in PRELOAD}
import torch
torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)     # torch's own optimizer, nothing else
by_optimizer = "torch._dynamo" in sys.modules
import trainwell
trainwell.fit({"type": "mlp", "widths": [8]}, "digits", device="cpu", epochs=1, batch_size=256,
              progress=False, babysit="off")
print(json.dumps({"before": before, "by_optimizer": by_optimizer,
                  "after": {m: m in sys.modules for m in PRELOAD}}))
"""


@pytest.mark.slow    # a fresh interpreter importing torch and a first trial: its cost is its property
def test_every_preloaded_module_is_one_a_first_trial_imports_and_the_command_has_not():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1", "TORCH_COMPILE_DISABLE": "1"}   # torch's switch for compile: still imported
    code = f"PRELOAD = {list(WORKER_PRELOAD)!r}\n{PROBE}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    # each is imported by the command itself (Optuna, the study) or by a first fit of digits
    assert all(seen["before"][m] or seen["after"][m] for m in WORKER_PRELOAD), seen
    # the slow ones are not imported by the command itself: the preload is where they are paid
    assert not any(seen["before"][m] for m in ("torch._dynamo", "sklearn.datasets", "sklearn.model_selection"))
    assert seen["by_optimizer"]     # torch.optim's add_param_group imports torch._dynamo (torch._disable_dynamo)
