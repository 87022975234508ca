"""``trainwell ensemble CONFIG.toml``: the config's run options plus an ``[ensemble]`` table
(``method``, ``members`` and the method's options, ``ENSEMBLE_METHODS``).
``trainwell distill TEACHER_RUN CONFIG.toml``: the student's run options plus an optional
``[distill]`` table (``temperature``, ``alpha``)."""
from __future__ import annotations

import time
from pathlib import Path

from trainwell.config import apply_sets, check_file_options, read_toml
from trainwell.ensembles.distill import DISTILL_OPTIONS, distill
from trainwell.ensembles.methods import DEFAULT_MEMBERS, ensemble
from trainwell.errors import ConfigError
from trainwell.options import check_options


def _read(path, sets) -> dict:
    options = read_toml(path)
    check_file_options(options, str(path))
    return check_file_options(apply_sets(options, sets or []), "--set")


def _table(options: dict, key: str, path) -> dict:
    table = options.pop(key, None)
    if table is None:
        raise ConfigError(f"{path}: needs an [{key}] table (e.g. method = \"average\", members = 5)")
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {key} = {table!r}: must be a table such as [{key}]")
    return dict(table)


def cmd_ensemble(args) -> int:
    options = _read(args.config, args.set)
    table = _table(options, "ensemble", args.config)
    method = table.pop("method", "average")
    members = table.pop("members", DEFAULT_MEMBERS)
    if not options.get("run_dir"):
        options["run_dir"] = str(Path("runs") / f"{Path(args.config).stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    options["progress"] = False if args.quiet else options.get("progress", True)
    result = ensemble(options.pop("model", None), None, method=method, members=members,
                      method_options=table, **options)
    print(summary(result))
    return 0


def cmd_distill(args) -> int:
    options = _read(args.config, args.set)
    table = options.pop("distill", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{args.config}: distill = {table!r}: must be a table such as [distill]")
    table = check_options("distill", table, DISTILL_OPTIONS, label="distill.{name}")
    if not options.get("run_dir"):
        options["run_dir"] = str(Path("runs") / f"{Path(args.config).stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    options["progress"] = False if args.quiet else options.get("progress", True)
    run = distill(options.pop("model", None), args.teacher, None, **table, **options)
    test = run.results.get("test")
    print(f"student: {run.run_dir}")
    if test:
        print(f"test: loss {test['loss']:.4f}, accuracy {test['acc']:.4f}")
    return 0


def summary(result) -> str:
    """The ensemble and its members on the test (else validation) split, one line each."""
    lines = [f"ensemble: {result.run_dir} ({result.info['method']}, {len(result.members)} members)"]
    split = "test" if result.results.get("test") else "val"
    ens = result.results.get(split)
    if ens:
        def line(name, r):
            if r.get("acc") is None:
                return f"  {name}: loss {r['loss']:.4f}"
            return f"  {name}: accuracy {r['acc']:.4f}, NLL {r['nll']:.4f}, ECE {r['ece']:.4f}"
        lines.append(f"{split}:")
        lines += [line(f"member {i}", m[split]) for i, m in enumerate(result.results["members"])]
        lines.append(line("ensemble", ens))
    return "\n".join(lines)


def add_parsers(sub) -> None:
    p = sub.add_parser("ensemble", help="train an ensemble (average, vote, bagging, boosting, snapshot, "
                       "fge) from a TOML config with an [ensemble] table")
    p.add_argument("config", metavar="CONFIG", help="the config file, CONFIG.toml, with an [ensemble] table")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override an option (TOML value), e.g. --set ensemble.members=3")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_ensemble)

    p = sub.add_parser("distill", help="train a student on a teacher run's (or ensemble's) soft targets")
    p.add_argument("teacher", metavar="TEACHER_RUN", help="a run or ensemble directory")
    p.add_argument("config", metavar="CONFIG", help="the student's config, CONFIG.toml, with an optional "
                   "[distill] table (temperature, alpha)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override an option (TOML value)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_distill)
