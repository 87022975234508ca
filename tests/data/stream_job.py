"""A streamed run for tests/data/test_streaming.py's kill -9 test, in a process of its own (the
``forked`` fixture of tests/conftest.py).

``main([DATA_DIR, RUN_DIR, "--resume"?, "--hang-at", STEP?])``: trains on DATA_DIR/X.npy and
DATA_DIR/y.npy with stream = true, a checkpoint every 4 steps; ``--hang-at`` writes
RUN_DIR/hanging after that step and then sleeps, so the test's SIGKILL lands mid-epoch after a
checkpoint.
"""
import time
from pathlib import Path

import trainwell


class HangAt(trainwell.Callback):
    def __init__(self, step, run_dir):
        self.step, self.run_dir = step, Path(run_dir)

    def on_after_step(self, state):
        if state.step == self.step:
            (self.run_dir / "hanging").write_text(str(state.step))
            time.sleep(600)


def main(argv):
    data, run_dir = Path(argv[0]), argv[1]
    callbacks = [HangAt(int(argv[argv.index("--hang-at") + 1]), run_dir)] if "--hang-at" in argv else []
    trainwell.fit({"type": "mlp", "widths": [32], "dropout": 0.2}, "npy",
                  data={"source": "npy", "path": str(data / "X.npy"), "labels": str(data / "y.npy")},
                  stream=True, preprocess=["standardize"], epochs=3, batch_size=32, checkpoint_every=4,
                  device="cpu", seed=5, run_dir=run_dir, resume="--resume" in argv, report=False,
                  progress=False, babysit="off", callbacks=callbacks)
