"""``trainwell landscape | sharpness | connect | visualize``: the geometry commands
(docs/geometry.md, docs/visualize.md). ``add_parsers(sub)`` adds them to the main parser."""
from __future__ import annotations

from pathlib import Path

from trainwell.geometry.directions import NORMALIZATIONS, ONE_D
from trainwell.geometry.hessian import METHODS, SAM_M, SAM_RHO, TRACE_SAMPLES
from trainwell.geometry.connect import KINDS as CURVE_KINDS
from trainwell.geometry.landscape import BN_POLICIES, POINTS_PER_PASS, SURFACE_SPAN, SURFACE_STEPS
from trainwell.geometry.visualize import OCCLUSION_PATCH, OCCLUSION_STRIDE, SHOWN_IMAGES, TSNE_SAMPLES


def cmd_landscape(args) -> int:
    from trainwell.geometry.run_landscape import landscape

    start = "init" if args.from_ == "init" else None
    result = landscape(args.run_dir, to=args.to, start=start, plane=args.plane, seed=args.seed,
                       normalization=args.normalization, one_d=args.one_d, span=args.span,
                       steps=args.steps, bn=args.bn, subset=args.subset, test=not args.no_test,
                       points_per_pass=args.points_per_pass)
    loss = result.values["train_loss"]
    print(f"{result.kind}: train loss from {float(loss.min()):.4g} to {float(loss.max()):.4g} "
          f"over {loss.numel()} points")
    if result.meta.get("sampling_error") is not None:
        print(f"subset of {result.meta['subset']} samples: standard error of the loss "
              f"{result.meta['sampling_error']:.2g}")
    print(f"files: {args.run_dir}/geometry/")
    return 0


def cmd_sharpness(args) -> int:
    from trainwell.geometry.run_sharpness import sharpness

    r = sharpness(args.run_dir, k=args.k, method=args.method, trace_samples=args.trace_samples,
                  rho=args.rho, m=args.m, subset=args.subset, seed=args.seed)
    print(f"top Hessian eigenvalues: {', '.join(f'{v:.5g}' for v in r['top_eigenvalues'])} "
          f"({r['eigen_seconds']:.1f} s, {r['method']})")
    print(f"Hessian trace (Hutchinson, {r['trace_samples']} probes): {r['trace']:.5g} +- {r['trace_stderr']:.2g}")
    print(f"m-sharpness (rho {r['rho']}, m {r['m']}): {r['m_sharpness']:.5g}")
    print(f"file: {args.run_dir}/geometry/sharpness.json")
    return 0


def cmd_connect(args) -> int:
    from trainwell.geometry.connect import connect

    options = {k: v for k, v in (("epochs", args.epochs), ("lr", args.lr)) if v is not None}
    run_dir = args.run_dir or f"{args.run_a.rstrip('/')}-connect-{Path(args.run_b).name}"
    r = connect(args.run_a, args.run_b, run_dir=run_dir, kind=args.kind, bends=args.bends,
                resume=args.resume, progress=not args.quiet, **options)
    for name in ("line", "curve"):
        s = r[f"{name}_summary"]
        accs = "".join(f", {split} accuracy drops up to {100 * s[f'{split}_acc_max_drop']:.1f} points"
                       for split in ("train", "test") if f"{split}_acc_max_drop" in s)
        print(f"{name}: train loss barrier {s['train_loss_barrier']:.4g}{accs}")
    print(f"run: {run_dir} (connect_values.json, geometry/connect.png)")
    return 0


def cmd_visualize(args) -> int:
    from trainwell.geometry.run_visualize import visualize

    drawn = visualize(args.run_dir, images=args.images, tsne_samples=args.tsne_samples, patch=args.patch,
                      stride=args.stride, seed=args.seed)
    skipped = drawn.pop("skipped")
    for png, title in drawn.items():
        print(f"{title}: {args.run_dir}/geometry/{png}")
    for name, why in skipped.items():
        print(f"{name}: not drawn ({why})")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("landscape", help="loss landscape of a run: a 2-D surface around the solution, "
                       "the line from init (--from init) or to another run (--to), or a plane (--plane)")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a finished run directory")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--to", metavar="OTHER_RUN", help="1-D: the line from this run's weights to OTHER_RUN's")
    which.add_argument("--from", dest="from_", choices=["init"], help="1-D: the line from the initial weights")
    which.add_argument("--plane", nargs=2, metavar=("RUN_B", "RUN_C"), help="2-D: the plane through three runs")
    p.add_argument("--steps", type=int, default=SURFACE_STEPS, help=f"grid points per axis (default {SURFACE_STEPS})")
    p.add_argument("--span", type=float, default=SURFACE_SPAN, help=f"surface coordinates in [-SPAN, SPAN] (default {SURFACE_SPAN})")
    p.add_argument("--seed", type=int, default=0, help="seed of the random directions and of the subset (default 0)")
    p.add_argument("--normalization", choices=list(NORMALIZATIONS), default="filter", help="direction scaling (default filter)")
    p.add_argument("--one-d", choices=list(ONE_D), default="zero",
                   help="1-D parameters (biases, norm weights): zero (the paper's default) or include")
    p.add_argument("--bn", choices=list(BN_POLICIES), default="frozen", help="batch-norm statistics (default frozen)")
    p.add_argument("--subset", type=int, help="evaluate on this many seeded training samples (default: all)")
    p.add_argument("--no-test", action="store_true", help="do not evaluate the test split")
    p.add_argument("--points-per-pass", type=int, default=POINTS_PER_PASS,
                   help="grid points per batched (vmapped) forward (default: 32 on CUDA, 1 on the CPU)")
    p.set_defaults(func=cmd_landscape)

    p = sub.add_parser("sharpness", help="top Hessian eigenvalues, Hessian trace and SAM's m-sharpness "
                       "of a run's solution")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a finished run directory")
    p.add_argument("--k", type=int, default=1, help="how many top eigenvalues (default 1)")
    p.add_argument("--method", choices=list(METHODS), default="lanczos", help="eigenvalue method (default lanczos)")
    p.add_argument("--trace-samples", type=int, default=TRACE_SAMPLES,
                   help=f"Hutchinson probes (default {TRACE_SAMPLES})")
    p.add_argument("--rho", type=float, default=SAM_RHO, help=f"m-sharpness radius (default {SAM_RHO})")
    p.add_argument("--m", type=int, default=SAM_M, help=f"m-sharpness batch size (default {SAM_M})")
    p.add_argument("--subset", type=int, help="use this many seeded training samples (default: all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the probes and the subset (default 0)")
    p.set_defaults(func=cmd_sharpness)

    p = sub.add_parser("connect", help="train a low-loss curve between two runs' solutions (mode "
                       "connectivity) and compare it with the straight line")
    p.add_argument("run_a", metavar="RUN_A", help="a finished run directory (its options train the curve)")
    p.add_argument("run_b", metavar="RUN_B", help="a finished run of the same model")
    p.add_argument("--run-dir", help="where the curve's run goes (default RUN_A-connect-RUN_B)")
    p.add_argument("--kind", choices=list(CURVE_KINDS), default="bezier", help="curve (default bezier)")
    p.add_argument("--bends", type=int, default=1, help="bends of the curve (default 1)")
    p.add_argument("--epochs", type=int, help="epochs (default: RUN_A's)")
    p.add_argument("--lr", type=float, help="learning rate (default: RUN_A's)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted curve run in --run-dir")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_connect)

    p = sub.add_parser("visualize", help="inside a run's network: first-layer filters, t-SNE of the "
                       "penultimate layer, saliency and occlusion maps (PNGs and a report section)")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a finished run directory")
    p.add_argument("--images", type=int, default=SHOWN_IMAGES, help=f"test images for saliency and occlusion (default {SHOWN_IMAGES})")
    p.add_argument("--tsne-samples", type=int, default=TSNE_SAMPLES, help=f"samples in the t-SNE plot (default {TSNE_SAMPLES})")
    p.add_argument("--patch", type=int, default=OCCLUSION_PATCH, help=f"occlusion patch side in pixels (default {OCCLUSION_PATCH})")
    p.add_argument("--stride", type=int, default=OCCLUSION_STRIDE, help=f"occlusion stride (default {OCCLUSION_STRIDE})")
    p.add_argument("--seed", type=int, default=0, help="seed of the t-SNE and its samples (default 0)")
    p.set_defaults(func=cmd_visualize)
