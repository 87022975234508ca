"""Loss surfaces against ``loss-landscapes``, the Hessian's top eigenvalue against an explicit
Hessian and PyHessian, and a mode-connecting curve (issue 15).

    .venv-bench/bin/python bench/bench_geometry.py                  # everything (~15 min, loaded CPU)
    .venv-bench/bin/python bench/bench_geometry.py --only surface --repeats 3

Run with the benchmark venv (it has ``loss-landscapes`` and ``PyHessian``; trainwell comes from
``PYTHONPATH`` or the editable install). Every model is trained by ``trainwell.fit`` on the
bundled digits (CPU) and opened with ``trainwell.geometry.runs.open_run``: the data is the full
training split as the model sees it (1297 samples, preprocessed).

Surfaces: 51 x 51 points. trainwell's directions (Gaussian, filter-normalized, seed 0) are given
to ``loss_landscapes.random_plane`` (its ``rand_u_like`` and ``orthogonal_to`` return them, with
``normalization=None``); that function rescales each direction to ``|w| / distance / steps`` a
step and walks the grid in place, starting half a step off centre, so trainwell evaluates exactly
those coordinates (``evaluate_grid`` with the same ``coords``). Both run the model in eval mode
(frozen batch norm). The table gives the medians over ``--repeats`` of each wall time, taken in
turns, their ratio, and the largest absolute and relative difference between the two grids.

Hessian: the top eigenvalue of an MLP 64-16-10 (1,210 parameters) on 300 digits against
``torch.linalg.eigvalsh`` of ``torch.func.hessian``; of the digits CNN against PyHessian's power
iteration (full training split as one batch, ``tol=1e-3`` and 100 iterations, its defaults);
with the time of each.

Curve: two digits MLP 64-32-10 runs (seeds 2k and 2k+1, 10 epochs), a Bezier curve (one bend)
trained for ``--curve-epochs`` epochs with their options; the accuracy drop below the endpoints'
mean at the straight line's midpoint and the worst along the line and along the curve (21 points,
test split).
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

import trainwell
from trainwell.geometry.connect import connect
from trainwell.geometry.directions import dot, random_directions, weights_of
from trainwell.geometry.hessian import HessianOperator, explicit_hessian, top_eigenvalues
from trainwell.geometry.landscape import evaluate_grid, make_evaluator
from trainwell.geometry.runs import open_run

STEPS = 51
MODELS = {
    "mlp": dict(model={"type": "mlp", "widths": [256, 256]}, preprocess=["standardize"], epochs=20, lr=0.05),
    "cnn": dict(model={"type": "cnn", "norm": "batch", "layers": [
        {"type": "conv", "channels": 32}, {"type": "pool", "kind": "max", "kernel": 2},
        {"type": "conv", "channels": 64}, {"type": "pool", "kind": "max", "kernel": 2}]},
        data={"source": "digits", "images": True}, epochs=10, lr=0.05),
    # --surface-size small: the same shapes, narrower (a loaded 2-core machine)
    "mlp_small": dict(model={"type": "mlp", "widths": [64, 64]}, preprocess=["standardize"], epochs=20, lr=0.05),
    "cnn_small": dict(model={"type": "cnn", "norm": "batch", "layers": [
        {"type": "conv", "channels": 8}, {"type": "pool", "kind": "max", "kernel": 2},
        {"type": "conv", "channels": 16}, {"type": "pool", "kind": "max", "kernel": 2}]},
        data={"source": "digits", "images": True}, epochs=10, lr=0.05),
    # the curve's endpoints: a narrow MLP, whose two solutions are far apart in function space
    "mlp32": dict(model={"type": "mlp", "widths": [32]}, preprocess=["standardize"], epochs=10, lr=0.05),
}


def train(base: Path, name: str, seed: int = 0):
    options = dict(MODELS[name])
    run_dir = base / f"{name}-{seed}"
    data = options.pop("data", None)
    trainwell.fit(options.pop("model"), None if data else "digits", run_dir=str(run_dir), seed=seed,
                  device="cpu", progress=False, report=False, babysit="off",
                  **({"data": data} if data else {}), **options)
    return run_dir


def loss_landscapes_grid(model, X, y, d1, d2, *, steps: int, distance: float):
    """``loss_landscapes.random_plane`` with our two directions."""
    import loss_landscapes
    import loss_landscapes.main as llm
    from loss_landscapes.metrics import Loss
    from loss_landscapes.model_interface.model_parameters import ModelParameters

    names = [k for k, _ in model.named_parameters()]
    given = iter([ModelParameters([d1[k].clone() for k in names]), ModelParameters([d2[k].clone() for k in names])])
    llm.rand_u_like = lambda example: next(given)
    llm.orthogonal_to = lambda vector: next(given)
    metric = Loss(torch.nn.functional.cross_entropy, X, y)
    return torch.tensor(loss_landscapes.random_plane(model, metric, distance=distance, steps=steps,
                                                     normalization=None, deepcopy_model=True))


def surface_case(run_dir: Path, repeats: int, one_point: bool) -> dict:
    rd = open_run(run_dir)
    model = copy.deepcopy(rd.model).eval()
    X, y = rd.train
    w = weights_of(model)
    d1, d2 = random_directions(w, seed=0)
    norm_w = dot(w, w) ** 0.5
    distance = norm_w / (2 * dot(d1, d1) ** 0.5)      # so the grid spans about [-1, 1] of d1
    step = [(norm_w / distance / STEPS) / dot(d, d) ** 0.5 for d in (d1, d2)]
    # random_plane's point [i][j] is start + (i - steps/2) s1 + (j + 1 - steps/2) s2 in even
    # columns i and (j - steps/2) s2 in odd ones: its zig-zag walk inserts the odd columns one
    # step lower (a quirk of loss-landscapes 3.x, reproduced here so the same points are compared)
    i, j = torch.meshgrid(torch.arange(STEPS, dtype=torch.float64), torch.arange(STEPS, dtype=torch.float64),
                          indexing="ij")
    c1 = (i - STEPS / 2) * step[0]
    c2 = (j + 1 - (i % 2) - STEPS / 2) * step[1]
    coords = torch.stack([c1.reshape(-1), c2.reshape(-1)], 1).float()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    times = {"trainwell": [], "loss-landscapes": []}
    if one_point:
        times["trainwell (vmap, 32 points/pass)"] = []
    ours = theirs = None
    for _ in range(repeats):
        t = time.perf_counter()
        ev, _ = make_evaluator(model, (X, y), loss="cross_entropy")
        ours = evaluate_grid(ev, w, [d1, d2], coords)["train_loss"].reshape(STEPS, STEPS)
        times["trainwell"].append(time.perf_counter() - t)
        if one_point:
            t = time.perf_counter()
            ev1, _ = make_evaluator(model, (X, y), loss="cross_entropy", points_per_pass=32)
            evaluate_grid(ev1, w, [d1, d2], coords)
            times["trainwell (vmap, 32 points/pass)"].append(time.perf_counter() - t)
        t = time.perf_counter()
        theirs = loss_landscapes_grid(model, X, y, d1, d2, steps=STEPS, distance=distance)
        times["loss-landscapes"].append(time.perf_counter() - t)
    unchanged = all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    diff = (ours.double() - theirs.double()).abs()
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"parameters": sum(v.numel() for v in w.values()), "samples": X.shape[0],
            "seconds": med, "speedup": med["loss-landscapes"] / med["trainwell"],
            "max_abs_diff": float(diff.max()), "max_rel_diff": float((diff / theirs.double().abs()).max()),
            "loss_range": [float(ours.min()), float(ours.max())], "model_unchanged": unchanged}


def explicit_top_eigenvalue(base: Path) -> dict:
    from trainwell.data.sources import load

    s = load("digits")
    X, y = s.train[0][:300].float(), s.train[1][:300]
    X = (X - X.mean(0)) / (X.std(0) + 1e-6)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.Tanh(), torch.nn.Linear(16, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(200):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    t = time.perf_counter()
    H = explicit_hessian(model, X, y)
    exact = float(torch.linalg.eigvalsh(H)[-1])
    t_exact = time.perf_counter() - t
    out = {"parameters": H.shape[0], "explicit": exact, "explicit_seconds": t_exact}
    for method in ("lanczos", "power"):
        t = time.perf_counter()
        value = top_eigenvalues(HessianOperator(model, X, y), method=method)[0]
        out[method] = value
        out[f"{method}_seconds"] = time.perf_counter() - t
        out[f"{method}_rel_err"] = abs(value - exact) / abs(exact)
    return out


def pyhessian_top_eigenvalue(run_dir: Path) -> dict:
    from pyhessian import hessian as PyHessian

    rd = open_run(run_dir)
    X, y = rd.train
    out = {"parameters": sum(p.numel() for p in rd.model.parameters())}
    for method in ("lanczos", "power"):
        t = time.perf_counter()
        out[method] = top_eigenvalues(HessianOperator(rd.model, X, y), method=method)[0]
        out[f"{method}_seconds"] = time.perf_counter() - t
    model = copy.deepcopy(rd.model).eval()
    torch.manual_seed(0)
    t = time.perf_counter()
    values, _ = PyHessian(model, torch.nn.CrossEntropyLoss(), data=(X, y), cuda=False).eigenvalues(top_n=1)
    out["pyhessian"] = float(values[0])
    out["pyhessian_seconds"] = time.perf_counter() - t
    for method in ("lanczos", "power"):
        out[f"{method}_rel_diff"] = abs(out[method] - out["pyhessian"]) / abs(out["pyhessian"])
    return out


def curve_case(base: Path, pair: int, epochs: int) -> dict:
    runs = [train(base, "mlp32", seed=2 * pair + k) for k in (0, 1)]
    t = time.perf_counter()
    r = connect(runs[0], runs[1], run_dir=base / f"curve-{pair}", epochs=epochs)
    ends = {s: (r["curve"][f"{s}_acc"][0] + r["curve"][f"{s}_acc"][-1]) / 2 for s in ("train", "test")}
    mid = len(r["t"]) // 2
    return {"seeds": [2 * pair, 2 * pair + 1], "seconds": time.perf_counter() - t, "endpoint_mean_acc": ends,
            "line_mid_drop_test": ends["test"] - r["line"]["test_acc"][mid],
            "line_max_drop_test": r["line_summary"]["test_acc_max_drop"],
            "curve_max_drop_test": r["curve_summary"]["test_acc_max_drop"],
            "curve_max_drop_train": r["curve_summary"]["train_acc_max_drop"],
            "line_loss_barrier_train": r["line_summary"]["train_loss_barrier"],
            "curve_loss_barrier_train": r["curve_summary"]["train_loss_barrier"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["surface", "hessian", "curve"], help="one part only")
    ap.add_argument("--repeats", type=int, default=3, help="surface timings: repeats (median)")
    ap.add_argument("--surface-size", choices=["full", "small"], default="full",
                    help="surfaces: the example MLP 64-256-256-10 and CNN (32, 64 channels), or "
                         "64-64-64-10 and 8, 16 channels")
    ap.add_argument("--one-point", action="store_true", help="surfaces: also time trainwell's vmap path "
                    "(32 points per pass; the default on CUDA)")
    ap.add_argument("--pairs", type=int, default=3, help="curve: pairs of runs (seeds)")
    ap.add_argument("--curve-epochs", type=int, default=20, help="curve: training epochs")
    ap.add_argument("--out", default="bench_geometry.json", help="where to write the numbers")
    args = ap.parse_args()
    torch.set_num_threads(1)   # one thread: comparable on a shared machine
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-geometry-") as tmp:
        base = Path(tmp)
        if args.only in (None, "hessian"):
            cnn = train(base, "cnn")
        if args.only in (None, "surface"):
            small = "_small" if args.surface_size == "small" else ""
            runs = {name: train(base, name + small) for name in ("mlp", "cnn")}
            results["surface"] = {name + small: surface_case(run, args.repeats, args.one_point)
                                  for name, run in runs.items()}
            print(json.dumps(results["surface"], indent=1), flush=True)
        if args.only in (None, "hessian"):
            results["hessian_explicit"] = explicit_top_eigenvalue(base)
            print(json.dumps(results["hessian_explicit"], indent=1), flush=True)
            results["hessian_pyhessian"] = pyhessian_top_eigenvalue(cnn)
            print(json.dumps(results["hessian_pyhessian"], indent=1), flush=True)
        if args.only in (None, "curve"):
            results["curve"] = [curve_case(base, p, args.curve_epochs) for p in range(args.pairs)]
            print(json.dumps(results["curve"], indent=1), flush=True)
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
