"""fit() against a hand-written loop on one device, and one trainwell checkout against another.

    python bench/bench_device.py [--device cuda] [--repeats 3] [--compare OTHER_CHECKOUT]

Each repeat runs, in a fresh subprocess per checkout (so two versions of trainwell can be
timed side by side, interleaved, on the same machine state): a hand-written loop (data on the
device, a seeded permutation, index slices, SGD with momentum 0.9, one host sync per epoch),
then ``trainwell.fit`` with the same model, data and optimizer, with ``babysit="off"`` and
``babysit="watch"``. Times exclude the subprocess start and CUDA initialization (a warm-up run
comes first). Reported: the median seconds of each runner and its ratio to the hand loop,
per checkout; with ``--compare``, the ratio of the two checkouts' fit times.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

JOB = dict(features=784, widths=[512, 512], classes=10, train=50_000, val=10_000, epochs=3,
           batch_size=128, lr=0.05)   # issue 12's MLP 784-512-512-10 at batch 128


def _child(device: str, small: bool) -> dict:
    if small:
        JOB.update(train=2_000, val=500, epochs=1)
    import torch
    import torch.nn.functional as F
    from torch import nn

    import trainwell

    torch.backends.cuda.matmul.allow_tf32 = False
    g = torch.Generator().manual_seed(0)
    n = JOB["train"] + JOB["val"]
    X = torch.randn(n, JOB["features"], generator=g)
    y = (X @ torch.randn(JOB["features"], JOB["classes"], generator=g)).argmax(1)
    X, y = X.to(device), y.to(device)
    train, val = (X[:JOB["train"]], y[:JOB["train"]]), (X[JOB["train"]:], y[JOB["train"]:])

    def model():
        torch.manual_seed(0)
        sizes = [JOB["features"], *JOB["widths"]]
        layers = [m for a, b in zip(sizes, sizes[1:]) for m in (nn.Linear(a, b), nn.ReLU())]
        return nn.Sequential(*layers, nn.Linear(sizes[-1], JOB["classes"])).to(device)

    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def hand(epochs):
        net = model()
        opt = torch.optim.SGD(net.parameters(), lr=JOB["lr"], momentum=0.9)
        gen = torch.Generator(device="cpu").manual_seed(0)
        Xt, yt = train
        for _ in range(epochs):
            perm = torch.randperm(Xt.shape[0], generator=gen).to(device)
            loss_sum = torch.zeros((), device=device)
            for i in range(0, Xt.shape[0], JOB["batch_size"]):
                idx = perm[i:i + JOB["batch_size"]]
                xb, yb = Xt.index_select(0, idx), yt.index_select(0, idx)
                loss = F.cross_entropy(net(xb), yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                loss_sum += loss.detach()
            with torch.no_grad():
                net.eval()
                F.cross_entropy(net(val[0]), val[1]).item()
                net.train()
            loss_sum.item()

    def fit(epochs, babysit):
        trainwell.fit(model(), train, val=val, optimizer="sgd", lr=JOB["lr"], momentum=0.9,
                      weight_decay=0.0, schedule="constant", epochs=epochs, batch_size=JOB["batch_size"],
                      progress=False, report=False, babysit=babysit, device=device)

    runners = {"hand": hand, "fit_off": lambda e: fit(e, "off"), "fit_watch": lambda e: fit(e, "watch")}
    for run in runners.values():       # warm-up: kernels, allocator, first calls
        run(1)
    out = {}
    for name, run in runners.items():
        sync()
        t = time.perf_counter()
        run(JOB["epochs"])
        sync()
        out[name] = time.perf_counter() - t
    out["device_name"] = torch.cuda.get_device_name() if device.startswith("cuda") else device
    out["torch"] = torch.__version__
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compare", help="another trainwell checkout, timed beside this one")
    parser.add_argument("--small", action="store_true", help="a tiny job: checks the script runs")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.device, args.small)))
        return 0
    here = Path(__file__).resolve().parents[1]
    trees = {"this": here} | ({"compare": Path(args.compare).resolve()} if args.compare else {})
    times = {name: [] for name in trees}
    for _ in range(args.repeats):
        for name, tree in trees.items():
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), os.environ.get("PYTHONPATH", "")])}
            done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--device", args.device]
                                  + (["--small"] if args.small else []),
                                  env=env, capture_output=True, text=True, check=True)
            times[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    first = times["this"][0]
    job = {**JOB, **(dict(train=2_000, val=500, epochs=1) if args.small else {})}
    print(f"device: {first['device_name']}, torch {first['torch']}, job {job}, {args.repeats} repeats (medians)")
    print("| checkout | hand loop s | fit off s | fit watch s | off / hand | watch / hand | watch / off |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    medians = {}
    for name, runs in times.items():
        m = {k: statistics.median(r[k] for r in runs) for k in ("hand", "fit_off", "fit_watch")}
        medians[name] = m
        print(f"| {name} | {m['hand']:.2f} | {m['fit_off']:.2f} | {m['fit_watch']:.2f} | "
              f"{m['fit_off'] / m['hand']:.3f} | {m['fit_watch'] / m['hand']:.3f} | {m['fit_watch'] / m['fit_off']:.3f} |")
    if "compare" in medians:
        for key in ("fit_off", "fit_watch"):
            ratios = [a[key] / a["hand"] / (b[key] / b["hand"]) for a, b in zip(times["this"], times["compare"])]
            print(f"{key}: this / compare (each over its own hand loop), median of {len(ratios)}: "
                  f"{statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
