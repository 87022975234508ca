"""Double descent (notes 004, "The Double Descent Phenomenon"; Belkin et al. 2019, Nakkiran et al.
2020): with label noise and no regularization, test error against model size rises as the model
becomes just able to fit the noisy training set (the interpolation threshold) and falls again as
the model grows past it.

Setting (chosen so the sweep runs in minutes on a 2-core CPU): the bundled digits, a training
subset of ``--train`` samples whose labels are replaced with a different random class with
probability ``--noise``, standardized; one-hidden-layer ReLU MLPs of each width in ``--widths``,
trained by ``trainwell.fit`` with full-batch Adam (lr ``--lr``), no weight decay, no early stopping,
no best-weights restore, for ``--epochs`` epochs; test error on the 500 held-out digits (clean
labels). Each width for each seed in ``--seeds``.

    python examples/double_descent/double_descent.py --out runs/double_descent

Writes OUT/double_descent.csv (width, parameters, seed, train and test error), OUT/by_width.png
(mean train/test error against width) and OUT/by_epoch.png (train/test error against epochs for
the interpolation threshold: the narrowest width that fits the noisy training set) and prints the table. README.md beside this file records
what was observed.
"""
from __future__ import annotations

import argparse
import csv
import statistics
from pathlib import Path

import torch

import trainwell
from trainwell.data.sources import load
from trainwell.geometry import plots

WIDTHS = [2, 4, 6, 8, 12, 16, 24, 48, 128, 512]
INTERPOLATED = 0.02     # a mean train error this low counts as fitting the noisy labels


def noisy_subset(n: int, noise: float, seed: int):
    """``n`` training digits with a fraction ``noise`` of labels moved to another class."""
    splits = load("digits")
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(splits.train[0].shape[0], generator=g)[:n]
    X, y = splits.train[0][idx].float(), splits.train[1][idx].clone()
    flip = torch.rand(n, generator=g) < noise
    y[flip] = (y[flip] + torch.randint(1, 10, (int(flip.sum()),), generator=g)) % 10
    return (X, y), (splits.test[0].float(), splits.test[1]), float(flip.float().mean())


def run_width(width: int, train, test, *, epochs: int, seed: int, lr: float):
    run = trainwell.fit({"type": "mlp", "widths": [width]}, train, val=test, optimizer="adam", lr=lr,
                        batch_size=train[0].shape[0], epochs=epochs, weight_decay=0.0, schedule="constant", seed=seed,
                        preprocess=["standardize"], restore_best=False, babysit="off", progress=False,
                        device="cpu")
    params = sum(p.numel() for p in run.model.parameters())
    last = run.history[-1]
    return params, 1 - last["train_acc"], 1 - last["val_acc"], run.history


def main() -> None:
    ap = argparse.ArgumentParser(description="double descent: test error against width with label noise")
    ap.add_argument("--out", default="runs/double_descent")
    ap.add_argument("--widths", type=int, nargs="+", default=WIDTHS)
    ap.add_argument("--train", type=int, default=400, help="training samples (default 400)")
    ap.add_argument("--noise", type=float, default=0.4, help="fraction of wrong labels (default 0.4)")
    ap.add_argument("--epochs", type=int, default=2000, help="full-batch steps (default 2000)")
    ap.add_argument("--lr", type=float, default=3e-3, help="Adam's learning rate (default 3e-3)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = ap.parse_args()
    torch.set_num_threads(1)    # tiny models: a second thread only adds synchronisation
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, histories = [], {}
    for seed in args.seeds:
        train, test, flipped = noisy_subset(args.train, args.noise, seed)
        for w in args.widths:
            params, train_err, test_err, history = run_width(w, train, test, epochs=args.epochs, seed=seed, lr=args.lr)
            rows.append({"width": w, "parameters": params, "seed": seed, "train_error": train_err,
                         "test_error": test_err, "flipped": flipped})
            histories[(seed, w)] = history
            print(f"seed {seed} width {w:4d} ({params:6d} parameters): train error {train_err:.3f}, "
                  f"test error {test_err:.3f}", flush=True)
    with open(out / "double_descent.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    mean = {w: {k: statistics.mean(r[k] for r in rows if r["width"] == w) for k in ("train_error", "test_error")}
            for w in args.widths}
    plots.series(args.widths, {"train error": [mean[w]["train_error"] for w in args.widths],
                               "test error": [mean[w]["test_error"] for w in args.widths]},
                 out / "by_width.png", title=f"double descent: {args.train} digits, {args.noise:.0%} label noise",
                 xlabel="hidden width", ylabel="error", logx=True)
    # the interpolation threshold: the narrowest width that fits the noisy training set
    fits = [w for w in args.widths if mean[w]["train_error"] <= INTERPOLATED]
    threshold = fits[0] if fits else args.widths[-1]
    h = histories[(args.seeds[0], threshold)]
    plots.series([m["epoch"] + 1 for m in h], {"train error": [1 - m["train_acc"] for m in h],
                                              "test error": [1 - m["val_acc"] for m in h]},
                 out / "by_epoch.png", title=f"width {threshold}: error against epochs", xlabel="epoch",
                 ylabel="error", logx=True)
    before = [w for w in args.widths if w < threshold]
    best_before = min(before, key=lambda w: mean[w]["test_error"]) if before else threshold
    print(f"interpolation threshold (train error <= {INTERPOLATED:.0%}): width {threshold}, test error "
          f"{mean[threshold]['test_error']:.3f}; best narrower width {best_before}: "
          f"{mean[best_before]['test_error']:.3f}; widest ({args.widths[-1]}): {mean[args.widths[-1]]['test_error']:.3f}")

if __name__ == "__main__":
    main()
