"""Fit the budgets' prices (babysit/cost.py ``BUDGET_COSTS``) to timed training steps and evaluations.

For each model of the generated benchmark's grid (MLP, CNN, ResNet on 8x8 digits) and two user-style
16x16 residual CNNs, at batch sizes from 16 to a full batch of 1200 rows: count the work
(``cost.measure_work``), time a training step (SGD with momentum, cross-entropy, the optimizer
step) and an evaluation forward on 512 rows, and fit seconds per convolution flop, per other flop,
per element and per dispatched op by non-negative least squares on the relative error. The times
are the process's CPU seconds (median of ``--repeats`` x ``--steps`` steps), so that a loaded machine
measures about what a quiet one's single thread would: run with ``OMP_NUM_THREADS=1``.

Run: ``OMP_NUM_THREADS=1 python bench/budget_costs.py`` (about 3 minutes quiet): a table of measured
against priced seconds, with the fitted constants and those in cost.py.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import LinearRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
import babysit_gen as gen  # noqa: E402
import doctor_time  # noqa: E402

from trainwell.babysit import cost  # noqa: E402


def models():
    import babysit_user5 as u5
    for seed in (1, 4, 14, 0, 9, 11, 12, 5, 6, 10):       # MLPs, CNNs, ResNets of the generated grid
        p = gen.parent(seed)
        model, splits, _ = gen.build(p)
        yield p.name, model, splits.train[0], int(splits.train[1].max()) + 1 if p.data != "regression" else 1
    yield "textures resnet", u5.TextureResNet(), torch.randn(1200, 1, 16, 16), 4
    yield "fullbatch resnet16", doctor_time.FullBatchCNN(), torch.randn(1200, 1, 16, 16), 4


def cpu_time(fn, *, steps, repeats) -> float:
    times = []
    fn()                                            # warm: allocations, kernel selection
    for _ in range(repeats):
        t = time.process_time()
        for _ in range(steps):
            fn()
        times.append((time.process_time() - t) / steps)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default="", help="also write the counts and the timings here")
    args = ap.parse_args(argv)
    samples = []                                    # (name, kind, rows, count, measured seconds)
    for name, model, X, classes in models():
        work = cost.measure_work(model, X[:256])
        for rows in (16, 64, 256, 1200):
            x = X[torch.arange(rows) % X.shape[0]]
            y = torch.randint(0, classes, (rows,)) if classes > 1 else torch.randn(rows)
            opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
            loss_fn = F.cross_entropy if classes > 1 else (lambda o, t: F.mse_loss(o.squeeze(-1), t))
            model.train()

            def step():
                opt.zero_grad(set_to_none=True)
                loss_fn(model(x), y).backward()
                opt.step()
            samples.append((name, "step", rows, work.step(rows), work.params,
                            cpu_time(step, steps=args.steps, repeats=args.repeats), cost.spill(work, rows)))
        model.eval()
        xe = X[torch.arange(512) % X.shape[0]]

        def evaluate():
            with torch.no_grad():
                model(xe)
        samples.append((name, "forward", 512, work.forward(512), 0,
                        cpu_time(evaluate, steps=args.steps, repeats=args.repeats), cost.spill(work, 512)))
        model.train()
        print(f"counted and timed {name}", flush=True)
    # seconds = conv_flops a + flops b + (elements + OPTIMIZER_PASSES x params) c + spilled elements e
    #           + (ops + STEP_OPS) d
    design = np.array([[c.conv_flops, c.flops, c.elements + cost.OPTIMIZER_PASSES * params, c.ops
                        + (cost.STEP_OPS if kind == "step" else cost.EVAL_OPS), c.elements * spill]
                       for _, kind, _, c, params, _, spill in samples])
    measured = np.array([s[5] for s in samples])
    if args.json:
        Path(args.json).write_text(json.dumps({"design": design.tolist(), "measured": measured.tolist(),
                                               "names": [s[:3] for s in samples]}))
    fit = LinearRegression(positive=True, fit_intercept=False).fit(design / measured[:, None], np.ones(len(samples)))
    fitted = cost.BudgetCosts(*fit.coef_[:4])
    print(f"fitted: {fitted}, spilled element {fit.coef_[4]:.3g}\nin cost.py: {cost.BUDGET_COSTS['cpu']}")
    print("| model | pass | rows | measured ms | priced ms (cost.py) | priced / measured | fitted / measured |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    budget_costs = cost.BUDGET_COSTS["cpu"]
    ratios = []
    for (name, kind, rows, c, params, t, _), d in zip(samples, design):
        now = float(d @ np.array([budget_costs.conv_flop, budget_costs.flop, budget_costs.element, budget_costs.op,
                                  budget_costs.spilled_element]))
        new = float(d @ fit.coef_)
        ratios.append(now / t)
        print(f"| {name} | {kind} | {rows} | {1e3 * t:.2f} | {1e3 * now:.2f} | {now / t:.2f} | {new / t:.2f} |")
    print(f"priced / measured: min {min(ratios):.2f}, median {statistics.median(ratios):.2f}, max {max(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
