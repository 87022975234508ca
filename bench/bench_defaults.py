"""The default recipe (`trainwell demo`) over several seeds: test accuracy mean ± std and time.

    python bench/bench_defaults.py [--seeds 5]

The data split is fixed (digits: stratified, 500 test samples, data seed 0); the training seed
(initialization, batch order) varies.
"""
import argparse
import statistics
import time

import torch

import trainwell


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    accs, times = [], []
    for seed in range(args.seeds):
        t = time.perf_counter()
        run = trainwell.fit(None, "digits", seed=seed, progress=False)
        times.append(time.perf_counter() - t)
        accs.append(run.results["test"]["acc"])
        print(f"seed {seed}: test acc {accs[-1]:.4f}  ({times[-1]:.1f} s)")
    print("\n| seeds | test accuracy mean ± std | min | max | median seconds |\n|---|---|---|---|---|")
    print(f"| {args.seeds} | {100 * statistics.mean(accs):.2f} ± {100 * statistics.stdev(accs):.2f} % | "
          f"{100 * min(accs):.1f} % | {100 * max(accs):.1f} % | {statistics.median(times):.1f} |")
    print(f"(torch {torch.__version__}, {torch.get_num_threads()} threads)")


if __name__ == "__main__":
    main()
