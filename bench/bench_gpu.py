"""Issue 12's GPU goals in one prepared script: run it on a machine with an NVIDIA GPU.

    python bench/bench_gpu.py                    # everything, about 8 minutes on one H200
    python bench/bench_gpu.py --sections a,b,c   # the timings only, no test suite
    python bench/bench_gpu.py --smoke            # tiny sizes on whatever device is there (CPU ok)
    python bench/bench_gpu.py --no-compile       # leave out the compile runner (its first compile)
    python bench/bench_gpu.py --sections b,c --device cpu --threads 1 --mlp-n 12800   # the CPU side

Sections (medians of ``--repeats`` timed runs after one untimed warm-up run of each runner; the
runners of a section take turns within each repeat, so they all see the same machine state):

(a) airbench-style CNN: conv widths 24/64/256/256, batch norm and GELU, 50,000 random
    CIFAR-shaped 3x32x32 inputs and labels generated on the device, batch 1024, 2 epochs of SGD
    (momentum 0.9, Nesterov). Runners: a hand-written fp32 loop; the hand-written loop with bf16
    autocast and channels-last; ``trainwell.fit`` fp32; fit with precision="bf16", channels_last=True
    (babysit "off" and "watch"); fit bf16 + channels-last + compile=True.
    Goal: fit bf16+CL (babysit off) <= 1.05x the hand-written bf16+CL loop.
(b) MLP 784-512-512-10, batch 128, 50,000 random inputs: fit babysit="watch" vs "off".
    Goal: watch <= 1.02x off.
(c) the same MLP: fit optimizer="sam" vs its base (SGD, momentum 0.9). Goal: <= 2.05x.
(d) the CUDA tests (tests/train/test_precision.py -k cuda) and the full suite, each under a time
    limit (``--suite-timeout``); their exit status and output tails.

Writes ``$OUT/gpu_bench.json`` and ``$OUT/gpu_bench.md`` (``OUT`` defaults to ./gpu-results).
Every timed run ends with ``torch.cuda.synchronize()``; the hand-written loops sync once per
epoch (the epoch's loss), as airbench does.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import trainwell

ROOT = Path(__file__).resolve().parents[1]
FULL = dict(cnn_n=50_000, cnn_hw=32, cnn_batch=1024, cnn_epochs=2, mlp_n=50_000, mlp_batch=128, mlp_epochs=2)
SMOKE = dict(cnn_n=64, cnn_hw=8, cnn_batch=32, cnn_epochs=1, mlp_n=256, mlp_batch=128, mlp_epochs=1)
CNN_WIDTHS = (24, 64, 256, 256)          # airbench's widths (Keller Jordan, airbench94)
LR, MOMENTUM = 0.05, 0.9
GOALS = {"fit_bf16_cl_over_hand_bf16_cl": 1.05, "watch_over_off": 1.02, "sam_over_base": 2.05}


# ------------------------------------------------------------------ models and data
def conv_bn(c_in: int, c_out: int) -> list:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.GELU()]


def airbench_cnn(seed: int = 0) -> nn.Module:
    """A stem conv (24) and three blocks (conv, max-pool, BN, GELU, conv, BN, GELU) of 64, 256, 256."""
    torch.manual_seed(seed)
    layers = conv_bn(3, CNN_WIDTHS[0])
    for c_in, c_out in zip(CNN_WIDTHS, CNN_WIDTHS[1:]):
        first = conv_bn(c_in, c_out)
        layers += [first[0], nn.MaxPool2d(2), *first[1:], *conv_bn(c_out, c_out)]
    return nn.Sequential(*layers, nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(CNN_WIDTHS[-1], 10))


def mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


def random_data(n: int, shape: tuple, device) -> tuple:
    """Inputs and labels generated on the device (seeded)."""
    g = torch.Generator(device=device).manual_seed(0)
    X = torch.randn(n, *shape, generator=g, device=device)
    y = torch.randint(0, 10, (n,), generator=g, device=device)
    return X, y


def sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


# ------------------------------------------------------------------ runners
def hand_loop(model, X, y, *, epochs: int, batch: int, bf16: bool = False, channels_last: bool = False):
    """The hand-written loop: data on the device, a seeded permutation per epoch, index slices,
    SGD (momentum 0.9, Nesterov), the epoch's mean loss read once per epoch."""
    device = X.device
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        X = X.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, nesterov=True)
    gen = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(X.shape[0], generator=gen).to(device)
        total = torch.zeros((), device=device)
        for i in range(0, X.shape[0], batch):
            idx = order[i:i + batch]
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                loss = F.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach()
        losses.append(float(total) / -(-X.shape[0] // batch))
    return losses


def fit_runner(model, X, y, *, epochs: int, batch: int, **options):
    options = {"optimizer": "sgd", "babysit": "off", **options}
    run = trainwell.fit(model, (X, y), epochs=epochs, batch_size=batch, lr=LR, momentum=MOMENTUM,
                        progress=False, report=False, device=str(X.device), **options)
    return [m["train_loss"] for m in run.history]


def timed(fn, device) -> float:
    sync(device)
    started = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - started


def compare(runners: dict, device, repeats: int) -> dict:
    """{name: {"median_s", "times_s", "warmup_s"}}: one untimed warm-up of each runner (cuDNN's
    autotuner, compile), then ``repeats`` rounds in which every runner runs once, in turn."""
    out = {name: {"warmup_s": timed(fn, device), "times_s": []} for name, fn in runners.items()}
    for _ in range(repeats):
        for name, fn in runners.items():
            out[name]["times_s"].append(timed(fn, device))
    for value in out.values():
        value["median_s"] = statistics.median(value["times_s"])
    return out


def section_a(size: dict, device, repeats: int, *, compile_runner: bool = True) -> dict:
    X, y = random_data(size["cnn_n"], (3, size["cnn_hw"], size["cnn_hw"]), device)
    kw = dict(epochs=size["cnn_epochs"], batch=size["cnn_batch"])
    runners = {
        "hand fp32": lambda: hand_loop(airbench_cnn(), X, y, **kw),
        "hand bf16+CL": lambda: hand_loop(airbench_cnn(), X, y, bf16=True, channels_last=True, **kw),
        "fit fp32": lambda: fit_runner(airbench_cnn(), X, y, channels_last=False, **kw),
        "fit bf16+CL": lambda: fit_runner(airbench_cnn(), X, y, precision="bf16", channels_last=True, **kw),
        "fit bf16+CL watch": lambda: fit_runner(airbench_cnn(), X, y, precision="bf16", channels_last=True,
                                                babysit="watch", **kw),
        "fit bf16+CL compile": lambda: fit_runner(airbench_cnn(), X, y, precision="bf16", channels_last=True,
                                                  compile=True, **kw),
    }
    if not compile_runner:
        del runners["fit bf16+CL compile"]
    times = compare(runners, device, repeats)
    m = {k: v["median_s"] for k, v in times.items()}
    ratios = {"fit_bf16_cl_over_hand_bf16_cl": m["fit bf16+CL"] / m["hand bf16+CL"],
              "fit_fp32_over_hand_fp32": m["fit fp32"] / m["hand fp32"],
              "hand_fp32_over_hand_bf16_cl": m["hand fp32"] / m["hand bf16+CL"],
              "fit_fp32_over_fit_bf16_cl": m["fit fp32"] / m["fit bf16+CL"],
              "fit_watch_over_off_bf16_cl": m["fit bf16+CL watch"] / m["fit bf16+CL"]}
    if compile_runner:
        ratios["fit_compile_over_eager_bf16_cl"] = m["fit bf16+CL compile"] / m["fit bf16+CL"]
    return {"times": times, "ratios": ratios}


def mlp_ratio(size: dict, device, repeats: int, *, ratio: str, base: tuple, other: tuple) -> dict:
    """The MLP job timed with ``fit`` options ``base`` and ``other`` (each ``(name, options)``);
    ``ratio`` = other's median / base's."""
    X, y = random_data(size["mlp_n"], (784,), device)
    kw = dict(epochs=size["mlp_epochs"], batch=size["mlp_batch"])
    runners = {name: (lambda o=options: fit_runner(mlp(), X, y, **o, **kw)) for name, options in (base, other)}
    times = compare(runners, device, repeats)
    paired = [o / b for o, b in zip(times[other[0]]["times_s"], times[base[0]]["times_s"])]
    # the median of the per-round ratios too: the two runs of a round see the same machine load
    return {"times": times, "ratios": {ratio: times[other[0]]["median_s"] / times[base[0]]["median_s"],
                                       f"{ratio}_per_round": statistics.median(paired)}}


def section_b(size: dict, device, repeats: int) -> dict:
    return mlp_ratio(size, device, repeats, ratio="watch_over_off", base=("fit off", {}),
                     other=("fit watch", {"babysit": "watch"}))


def section_c(size: dict, device, repeats: int) -> dict:
    return mlp_ratio(size, device, repeats, ratio="sam_over_base", base=("fit sgd", {}),
                     other=("fit sam", {"optimizer": "sam"}))


def section_d(timeout: int, smoke: bool) -> dict:
    """The CUDA-marked tests, then the full suite (skipped with --smoke), each under ``timeout``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    commands = {"cuda tests": [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "tests/train/test_precision.py", "-k", "cuda", "-rs"]}
    if not smoke:
        workers = str(max(2, min(8, (os.cpu_count() or 2) // 2)))
        commands["full suite"] = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", workers]
    out = {}
    for name, command in commands.items():
        started = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
            rc, text = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as e:
            rc, text = "timeout", (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) \
                else (e.stdout or "")
        out[name] = {"command": " ".join(command), "returncode": rc,
                     "seconds": round(time.perf_counter() - started, 1), "tail": text[-6000:]}
    return out


# ------------------------------------------------------------------ the summary
def markdown(result: dict) -> str:
    lines = [f"# bench_gpu.py on {result['device_name']}", "",
             f"torch {result['torch']}, {'smoke sizes' if result['smoke'] else 'full sizes'}, "
             f"repeats {result['repeats']}, sizes {result['sizes']}", ""]
    for key in ("a", "b", "c"):
        if key not in result["sections"]:
            continue
        section = result["sections"][key]
        lines += [f"## ({key})", "", "| runner | median s | runs s | warm-up s |", "| --- | --- | --- | --- |"]
        for name, t in section["times"].items():
            runs = ", ".join(f"{v:.3f}" for v in t["times_s"])
            lines.append(f"| {name} | {t['median_s']:.3f} | {runs} | {t['warmup_s']:.2f} |")
        lines.append("")
        for k, v in section["ratios"].items():
            goal = f" (goal <= {GOALS[k]}: {'met' if v <= GOALS[k] else 'NOT met'})" if k in GOALS else ""
            lines.append(f"- {k}: **{v:.3f}**{goal}")
        lines.append("")
    for name, t in result["sections"].get("d", {}).items():
        lines += [f"## (d) {name}: exit {t['returncode']} in {t['seconds']} s", "", "```",
                  t["tail"][-2500:], "```", ""]
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (runs on a CPU in seconds)")
    parser.add_argument("--sections", default="a,b,c,d", help="which of a,b,c,d to run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--suite-timeout", type=int, default=240, help="seconds per pytest command in (d)")
    parser.add_argument("--mlp-n", type=int, help="(b), (c): training inputs (default 50,000; 256 with --smoke)")
    parser.add_argument("--mlp-epochs", type=int, help="(b), (c): epochs (default 2; 1 with --smoke)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--no-compile", action="store_true", help="(a) without the compile=True runner")
    parser.add_argument("--out", default=os.environ.get("OUT", "gpu-results"))
    args = parser.parse_args(argv)
    size = dict(SMOKE if args.smoke else FULL)
    size.update({k: v for k, v in (("mlp_n", args.mlp_n), ("mlp_epochs", args.mlp_epochs)) if v is not None})
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = sorted(set(sections) - {"a", "b", "c", "d"})
    if unknown:
        parser.error(f"--sections: unknown {unknown}; allowed: a, b, c, d")
    result = {"device": str(device), "torch": torch.__version__, "python": platform.python_version(),
              "device_name": (torch.cuda.get_device_name(device) if device.type == "cuda"
                              else platform.processor() or "cpu"),
              "smoke": args.smoke, "repeats": args.repeats, "threads": torch.get_num_threads(), "sizes": size,
              "goals": GOALS, "sections": {}}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs = {"a": lambda *a: section_a(*a, compile_runner=not args.no_compile), "b": section_b, "c": section_c}
    for key in sections:
        started = time.perf_counter()
        if key == "d":
            result["sections"]["d"] = section_d(args.suite_timeout, args.smoke)
        else:
            result["sections"][key] = runs[key](size, device, args.repeats)
        print(f"({key}) done in {time.perf_counter() - started:.1f} s", flush=True)
        # written after every section: a run cut short by a time limit keeps what it measured
        (out / "gpu_bench.json").write_text(json.dumps(result, indent=1))
        (out / "gpu_bench.md").write_text(markdown(result))
    print(markdown(result))
    return result


if __name__ == "__main__":
    main()
