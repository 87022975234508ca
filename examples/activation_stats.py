"""The notes' activation-statistics experiment (notes 004, "Lets look at some activation statistics").

A 10-layer net of 500 units per layer (no biases), unit-Gaussian input of 1000 × 500, five setups:

    tanh, W ~ N(0, 0.01²)      -> activations collapse to 0
    tanh, W ~ N(0, 1)          -> units saturate at ±1
    tanh, Xavier               -> std decays gently (layer 10 ≈ 0.23)
    relu, Xavier               -> std halves every ~2 layers (layer 10 ≈ 0.03)
    relu, He (Kaiming)         -> std stays ≈ 0.8

Run:  python examples/activation_stats.py --out DIR
Prints the per-layer mean/std tables and a comparison with the notes' stds at layers 1 and 10
(NOTES_STD, the "notes" column), and writes DIR/activation_stats.csv, DIR/means_stds.png and
DIR/histograms_<setup>.png (histograms of every layer, 30 bins on [−1, 1] as in the notes).
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import torch
from torch import nn

from trainwell.nn.activations import make_activation
from trainwell.nn.init import init

# (setup name, activation, init scheme, scheme options); notes 004's Xavier is W/√fan_in, which
# for these square 500 × 500 layers equals Glorot's 2/(fan_in + fan_out).
SETUPS = [
    ("tanh_small", "tanh", "small_normal", {"std": 0.01}),
    ("tanh_unit", "tanh", "small_normal", {"std": 1.0}),
    ("tanh_xavier", "tanh", "xavier_normal", {}),
    ("relu_xavier", "relu", "xavier_normal", {}),
    ("relu_he", "relu", "kaiming_normal", {"activation": "relu"}),
]

# notes 004: (layer 1, layer 10) std of each setup; the "notes" column of the printed comparison
# table and of the CSV, and the reference numbers in docs/init.md.
NOTES_STD = {
    "tanh_small": (0.213081, 0.000000),
    "tanh_unit": (0.981879, 0.981736),
    "tanh_xavier": (0.627953, 0.228008),
    "relu_xavier": (0.582273, 0.026076),
    "relu_he": (0.825232, 0.844523),
}


def deep_net(activation: str, *, layers: int = 10, width: int = 500) -> nn.Sequential:
    """``layers`` × (Linear(width, width, no bias) -> activation), as in the notes' numpy code."""
    mods = []
    for _ in range(layers):
        mods += [nn.Linear(width, width, bias=False), make_activation(activation)]
    return nn.Sequential(*mods)


def activation_statistics(*, setups=SETUPS, layers: int = 10, width: int = 500, batch: int = 1000,
                          seed: int = 0) -> dict:
    """Per-layer activations' mean and std for each setup: ``{setup: {"mean": [...], "std": [...],
    "activations": [tensor per layer]}}`` plus ``"input": (mean, std)``."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, width, generator=g)  # notes 004: D = np.random.randn(1000, 500)
    out = {"input": (x.mean().item(), x.std().item())}
    for i, (name, activation, scheme, options) in enumerate(SETUPS if setups is None else setups):
        net = init(deep_net(activation, layers=layers, width=width), scheme, seed=seed + i, **options)
        acts, h = [], x
        with torch.no_grad():
            for j in range(0, len(net), 2):
                h = net[j + 1](net[j](h))
                acts.append(h)
        out[name] = {"mean": [a.mean().item() for a in acts],
                     "std": [a.std().item() for a in acts], "activations": acts}
    return out


def notes_std(name: str, layer: int) -> float | None:
    """The notes' std for ``layer`` (1-based) of a setup: known for layers 1 and 10 only."""
    first, tenth = NOTES_STD.get(name, (None, None))
    return {1: first, 10: tenth}.get(layer)


def format_table(stats: dict) -> str:
    """The notes' per-layer printout for every setup, then a comparison table: our std and the
    notes' std (the "notes" column) at layers 1 and 10."""
    lines = [f"input layer had mean {stats['input'][0]:f} and std {stats['input'][1]:f}"]
    names = [name for name, *_ in SETUPS if name in stats]
    for name, _, scheme, options in SETUPS:
        if name not in stats:
            continue
        lines.append(f"\n{name}  ({scheme} {options or ''})".rstrip())
        for j, (m, s) in enumerate(zip(stats[name]["mean"], stats[name]["std"])):
            lines.append(f"hidden layer {j + 1} had mean {m:f} and std {s:f}")
    lines += ["", "std compared with notes 004 (10 layers of 500 units, 1000 samples)",
              f"{'setup':<12} {'layer':>5} {'ours':>10} {'notes':>10}"]
    for name in names:
        for layer in (1, 10):
            if layer <= len(stats[name]["std"]):
                ours, notes = stats[name]["std"][layer - 1], notes_std(name, layer)
                notes = "-" if notes is None else f"{notes:.6f}"
                lines.append(f"{name:<12} {layer:>5} {ours:>10.6f} {notes:>10}")
    return "\n".join(lines)


def write_outputs(stats: dict, out: Path) -> list[Path]:
    """The CSV table, the means/stds figure and one histogram figure per setup."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out.mkdir(parents=True, exist_ok=True)
    names = [s[0] for s in SETUPS if s[0] in stats]
    paths = [out / "activation_stats.csv"]
    with open(paths[0], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["setup", "layer", "mean", "std", "notes_std"])
        for name in names:
            for j, (m, s) in enumerate(zip(stats[name]["mean"], stats[name]["std"])):
                notes = notes_std(name, j + 1)
                w.writerow([name, j + 1, f"{m:.6g}", f"{s:.6g}", "" if notes is None else f"{notes:.6g}"])

    fig = Figure(figsize=(11, 4.2))
    ax_mean, ax_std = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for name in names:
        layers = range(1, len(stats[name]["std"]) + 1)
        ax_mean.plot(layers, stats[name]["mean"], "o-", label=name)
        ax_std.plot(layers, stats[name]["std"], "o-", label=name)
    ax_mean.set(title="layer mean", xlabel="layer")
    ax_std.set(title="layer std (log scale)", xlabel="layer", yscale="log")
    ax_std.legend(fontsize=8)
    fig.tight_layout()
    FigureCanvasAgg(fig).print_png(out / "means_stds.png")
    paths.append(out / "means_stds.png")

    for name in names:
        acts = stats[name]["activations"]
        fig = Figure(figsize=(2 * len(acts), 2.4))
        for j, a in enumerate(acts):
            ax = fig.add_subplot(1, len(acts), j + 1)
            ax.hist(a.flatten().numpy(), 30, range=(-1, 1))  # notes 004: plt.hist(H.ravel(), 30, ...)
            ax.set_title(f"layer {j + 1}", fontsize=8)
            ax.tick_params(labelsize=6)
        fig.suptitle(name)
        fig.tight_layout()
        path = out / f"histograms_{name}.png"
        FigureCanvasAgg(fig).print_png(path)
        paths.append(path)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("activation_stats"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    stats = activation_statistics(seed=args.seed)
    print(format_table(stats))
    for path in write_outputs(stats, args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
