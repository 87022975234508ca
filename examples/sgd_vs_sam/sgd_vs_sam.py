"""SGD against SAM on the same model and data: is the SAM solution flatter? (notes 004: flat vs
sharp minima, the reason SAM exists; Foret et al. 2021).

For each seed in ``--seeds``, the digits MLP (64-256-256-10, standardized inputs) is trained twice
by ``trainwell.fit`` with the same seed, options and batches: SGD with momentum 0.9, and SAM
(rho 0.05) around the same SGD. Each solution gets ``trainwell.sharpness`` (top Hessian eigenvalue
by Lanczos, Hutchinson trace, m-sharpness with m 128 and rho 0.05, on the full training split),
the 1-D line from its initial weights (``start="init"``), and a 2-D filter-normalized surface
(seed 0) with the same grid for both. The script prints a table (mean over seeds and each seed)
and writes OUT/sgd_vs_sam.json and OUT/sgd_vs_sam_lines.png / _surfaces.png (the seed-0 runs).

    python examples/sgd_vs_sam/sgd_vs_sam.py --out runs/sgd_vs_sam --seeds 0 1 2

README.md beside this file records what was measured.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np
import torch

import trainwell
from trainwell.geometry import plots

COMMON = dict(model={"type": "mlp", "widths": [256, 256]}, preprocess=["standardize"], epochs=30, lr=0.05,
              momentum=0.9, batch_size=64, device="cpu", progress=False, babysit="off", report=True)
OPTIMIZERS = {"sgd": {"optimizer": "sgd"},
              "sam": {"optimizer": "sam", "optimizer_options": {"base": "sgd", "rho": 0.05}}}   # Foret et al.


def one(out: Path, name: str, seed: int, steps: int, epochs: int, trace_samples: int) -> dict:
    options = {**COMMON, **OPTIMIZERS[name], "epochs": epochs}
    run_dir = out / f"{name}-{seed}"
    run = trainwell.fit(options.pop("model"), "digits", run_dir=str(run_dir), seed=seed, **options)
    s = trainwell.sharpness(run_dir, trace_samples=trace_samples)
    line = trainwell.landscape(run_dir, start="init")
    surface = trainwell.landscape(run_dir, steps=steps, test=False)
    centre = steps // 2
    return {"test_acc": run.results["test"]["acc"], "train_loss": s["loss"],
            "top_eigenvalue": s["top_eigenvalues"][0], "trace": s["trace"], "m_sharpness": s["m_sharpness"],
            "surface_mean_rise": float((surface.values["train_loss"] - surface.values["train_loss"][centre, centre]).mean()),
            "line": line, "surface": surface}


def main() -> None:
    ap = argparse.ArgumentParser(description="SGD vs SAM: sharpness and landscapes")
    ap.add_argument("--out", default="runs/sgd_vs_sam")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--steps", type=int, default=21, help="surface grid points per axis (default 21)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--trace-samples", type=int, default=50, help="Hutchinson probes (default 50)")
    args = ap.parse_args()
    torch.set_num_threads(1)    # small models: a second thread only adds synchronisation
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {name: [one(out, name, seed, args.steps, args.epochs, args.trace_samples) for seed in args.seeds] for name in OPTIMIZERS}
    keys = ["test_acc", "train_loss", "top_eigenvalue", "trace", "m_sharpness", "surface_mean_rise"]
    print(f"{'':4} " + " ".join(f"{k:>17}" for k in keys))
    for name, rows in results.items():
        print(f"{name:4} " + " ".join(f"{statistics.mean(r[k] for r in rows):17.4g}" for k in keys))
        for seed, r in zip(args.seeds, rows):
            print(f"  s{seed} " + " ".join(f"{r[k]:17.4g}" for k in keys))
    (out / "sgd_vs_sam.json").write_text(json.dumps(
        {name: [{k: r[k] for k in keys} for r in rows] for name, rows in results.items()}, indent=1))
    first = {name: rows[0] for name, rows in results.items()}
    alphas = first["sgd"]["line"].axes[0].numpy()
    plots.series(alphas, {f"{n} train loss": first[n]["line"].values["train_loss"].numpy() for n in first},
                 out / "sgd_vs_sam_lines.png", title="init (0) -> solution (1)", xlabel="alpha", ylabel="train loss")
    axis = first["sgd"]["surface"].axes[0].numpy()
    c = len(axis) // 2
    plots.series(axis, {f"{n} train loss (direction 1)": np.asarray(first[n]["surface"].values["train_loss"][:, c])
                        for n in first}, out / "sgd_vs_sam_surfaces.png",
                 title="cut through the 2-D surfaces", xlabel="coordinate along direction 1", ylabel="train loss")


if __name__ == "__main__":
    main()
