"""Step time and test accuracy of SGD with momentum vs the SAM family, every optimizer by name.

    .venv/bin/python bench/bench_sam.py                        # step times only
    .venv/bin/python bench/bench_sam.py --epochs 20 --seeds 5  # plus test accuracy, mean ± std

Every optimizer is built by ``build_optimizer(name, ...)`` (``VARIANTS``): momentum-0.9 SGD alone
or as the base of sam, asam, eg_sam, og_sam, ao_sam and efficient SAM (every=5; start_fraction=0.75,
SAM only in the last quarter).

Step time: a plain loop in the trainer's closure protocol (optimizers that need the closure get
it, others get ``closure(); step()``), an MLP 64-256-256-10 on scikit-learn's digits, batch 128.
Every optimizer runs ``--steps`` steps per repeat. Inside a repeat the optimizers take turns in
chunks of ``--chunk`` steps (the order rotating from chunk to chunk), so on a shared, noisy machine
they all see the same load; each repeat gives every optimizer's time and its ratio to SGD with
momentum in that same repeat. The table shows the medians over ``--repeats`` (repeat 0 warms up
and is dropped) of the wall-clock time per step, of that ratio, and of the same ratio in CPU time
of the (single) training thread, which other jobs on the machine disturb much less.
Goals (issue 5): SAM ≤ 2.05×, AO-SAM and efficient SAM ≤ 1.3×.

Accuracy: ``trainwell.fit(..., optimizer=name, optimizer_options=options, seed=s)`` for seeds
0 .. ``--seeds``-1 on each task in ``TASKS`` (digits and two synthetic sets with a fixed split;
the seed moves the initialization and the batch order), fit's cosine schedule and decoupled weight
decay 5e-4, the same lr, momentum and batch size for every optimizer.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import trainwell
from trainwell.data.sources import load
from trainwell.optim.factory import build_optimizer
from trainwell.train.loop import needs_closure

LR, MOMENTUM, BATCH = 0.05, 0.9, 128

# label -> (registered name, its options); every one on SGD with momentum 0.9 (the common
# option `momentum`, which the wrappers pass to their base "sgd")
VARIANTS = {
    "SGD-momentum": ("sgd", {}),
    "SAM": ("sam", {"rho": 0.05}),                                  # Foret et al. 2021
    "ASAM": ("asam", {"rho": 0.5}),                                 # Kwon et al. 2021 (ρ 0.5 with SGD)
    "EG-SAM": ("eg_sam", {"rho": 0.05}),
    "OG-SAM": ("og_sam", {"rho": 0.05}),
    "AO-SAM": ("ao_sam", {"rho": 0.05}),
    "SAM every=5": ("sam", {"rho": 0.05, "every": 5}),
    "SAM last 25%": ("sam", {"rho": 0.05, "start_fraction": 0.75}),
}

# task -> (data for fit: a source name or Splits, the model table)
TASKS = {
    "digits": (lambda: "digits", {"type": "mlp", "widths": [256, 256]}),
    "spirals": (lambda: load("spirals", seed=0, samples_per_class=500),     # 1500 points, 3 arms
                {"type": "mlp", "widths": [128, 128]}),
    "teacher": (lambda: load("teacher", seed=0),                           # 2000 x 20, 4 classes
                {"type": "mlp", "widths": [128, 128]}),
}


def build(label: str, model: torch.nn.Module, total_steps: int) -> torch.optim.Optimizer:
    name, options = VARIANTS[label]
    return build_optimizer(name, model, lr=LR, momentum=MOMENTUM, model=model, total_steps=total_steps,
                           **options)


def mlp(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                               torch.nn.ReLU(), torch.nn.Linear(256, 10))


class Stepper:
    """``run(n)``: n optimizer steps over shuffled mini-batches, in the trainer's closure protocol."""

    def __init__(self, model, opt, X, y, *, batch_size: int = BATCH, seed: int = 0):
        self.model, self.opt, self.X, self.y, self.batch_size = model, opt, X, y, batch_size
        self.g = torch.Generator().manual_seed(seed)
        self.order, self.pos = torch.randperm(len(X), generator=self.g), 0
        self.takes_closure = needs_closure(opt)

    def run(self, steps: int) -> None:
        model, opt, X, y, batch_size = self.model, self.opt, self.X, self.y, self.batch_size
        for _ in range(steps):
            if self.pos + batch_size > len(X):
                self.order, self.pos = torch.randperm(len(X), generator=self.g), 0
            idx = self.order[self.pos:self.pos + batch_size]
            self.pos += batch_size
            xb, yb = X[idx], y[idx]

            def closure(backward: bool = True):
                loss = torch.nn.functional.cross_entropy(model(xb), yb)
                if not backward:
                    return loss
                opt.zero_grad(set_to_none=True)
                loss.backward()
                return loss.detach()

            if self.takes_closure:
                opt.step(closure)
            else:
                closure()
                opt.step()


def step_times(X, y, *, steps: int, repeats: int, chunk: int = 10) -> dict:
    """label -> (median wall s/step, median wall ratio to SGD, median CPU-time ratio, SAM-step share)."""
    labels = list(VARIANTS)
    wall = {label: [] for label in labels}
    ratio = {label: [] for label in labels}
    cpu_ratio = {label: [] for label in labels}
    sam_fraction = {}
    for r in range(repeats + 1):                        # repeat 0 warms up and is dropped
        steppers = {}
        for label in labels:
            model = mlp(0)
            steppers[label] = Stepper(model, build(label, model, steps), X, y, seed=r)
        spent = {label: [0.0, 0.0] for label in labels}
        for i, start in enumerate(range(0, steps, chunk)):
            n = min(chunk, steps - start)
            for label in labels[i % len(labels):] + labels[:i % len(labels)]:
                w0, c0 = time.perf_counter(), time.thread_time()
                steppers[label].run(n)
                spent[label][0] += time.perf_counter() - w0
                spent[label][1] += time.thread_time() - c0
        if r > 0:
            base_wall, base_cpu = spent["SGD-momentum"]
            for label in labels:
                wall[label].append(spent[label][0] / steps)
                ratio[label].append(spent[label][0] / base_wall)
                cpu_ratio[label].append(spent[label][1] / base_cpu)
        for label in labels:
            sam_fraction[label] = getattr(steppers[label].opt, "sam_steps", 0) / steps
    return {label: (statistics.median(wall[label]), statistics.median(ratio[label]),
                    statistics.median(cpu_ratio[label]), sam_fraction[label]) for label in labels}


def accuracies(task: str, *, epochs: int, seeds: int) -> dict:
    """label -> (test accuracies over seeds, fit's seconds per run)."""
    make_data, model_table = TASKS[task]
    data = make_data()
    out = {}
    for label, (name, options) in VARIANTS.items():
        accs, seconds = [], []
        for seed in range(seeds):
            run = trainwell.fit(model_table, data, optimizer=name, optimizer_options=options, lr=LR,
                                momentum=MOMENTUM, nesterov=False, batch_size=BATCH, epochs=epochs,
                                seed=seed, progress=False, babysit="off")
            accs.append(run.results["test"]["acc"])
            seconds.append(run.results["seconds"])
        out[label] = (accs, statistics.mean(seconds))
    return out


def _mean_std(values) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * statistics.mean(values):.2f} ± {100 * std:.2f}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="timed steps per optimizer and repeat")
    parser.add_argument("--repeats", type=int, default=5, help="timing repeats (median reported)")
    parser.add_argument("--chunk", type=int, default=10, help="steps per turn when interleaving optimizers")
    parser.add_argument("--epochs", type=int, default=0, help="epochs for the accuracy tables (0: skip)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds for the accuracy tables")
    parser.add_argument("--tasks", default=",".join(TASKS), help=f"accuracy tasks, from {', '.join(TASKS)}")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    X, y = load("digits", seed=0).train

    timing = step_times(X, y, steps=args.steps, repeats=args.repeats, chunk=args.chunk)
    print(f"Step time, MLP 64-256-256-10 on digits, batch {BATCH}, median of {args.repeats} repeats x "
          f"{args.steps} steps (interleaved in chunks of {args.chunk}), {args.threads} thread(s)\n")
    print("| optimizer | name, options | ms / step | x SGD-momentum | x SGD-momentum, CPU time | SAM-type steps |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for label, (t, r, cpu, frac) in timing.items():
        name, options = VARIANTS[label]
        print(f"| {label} | `{name}` {options or ''} | {1e3 * t:.3f} | {r:.2f} | {cpu:.2f} | {100 * frac:.0f}% |")

    if args.epochs > 0:
        for task in args.tasks.split(","):
            accs = accuracies(task, epochs=args.epochs, seeds=args.seeds)
            widths = TASKS[task][1]["widths"]
            print(f"\nTest accuracy on {task}, MLP {widths}, `trainwell.fit` {args.epochs} epochs, batch {BATCH}, "
                  f"lr {LR} cosine, momentum {MOMENTUM}, weight decay 5e-4, {args.seeds} seeds (mean ± std)\n")
            print("| optimizer | test accuracy (%) | s / run |")
            print("| --- | ---: | ---: |")
            for label, (a, seconds) in accs.items():
                print(f"| {label} | {_mean_std(a)} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
