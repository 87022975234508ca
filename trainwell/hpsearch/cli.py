"""``trainwell search CONFIG.toml`` and ``trainwell search --resume STUDY_DIR``.

The config is a normal ``trainwell fit`` config plus a ``[search]`` table (docs/search.md); the
table and its space are checked before any trial, and bad input exits 2 with one line naming the
key (cli.py's ``_run``).
"""
from __future__ import annotations

import atexit
import gc
from pathlib import Path

from trainwell.config import apply_sets, check_file_options, read_toml
from trainwell.errors import ConfigError
from trainwell.hpsearch.api import run_search
from trainwell.hpsearch.studydir import is_study_dir, read_search_file

SEARCH_HELP = ("hyperparameter search from a config with a [search] table (docs/search.md): "
               "trials.csv, best.toml and report.html in the study directory")


def skip_exit_collection() -> None:
    """Leave the objects alive at this process's exit out of the interpreter's last garbage
    collection (``gc.freeze`` at exit). A search has imported torch, torch._dynamo, scikit-learn,
    Optuna and matplotlib, and that collection walks each of their millions of objects to free
    memory the exit gives back anyway: ~0.37 s of one core a command (0.47 -> 0.10 s of CPU from
    the last line to the end, BENCHMARKS.md, issue 13, tenth pass). Run at exit (atexit: after
    the work, before the interpreter's teardown), so a process that goes on after the command
    (the tests that call ``main``) collects as before; the atexit handlers, the flushes of the
    standard streams and every object freed by its reference count run as before, and only
    garbage caught in a reference cycle at exit is left unfinalized."""
    atexit.unregister(gc.freeze)        # once, however many searches this process ran
    atexit.register(gc.freeze)


def cmd_search(args) -> int:
    skip_exit_collection()
    if args.resume:
        if not is_study_dir(args.resume):
            raise ConfigError(f"--resume {args.resume}: no search.toml there; is it a directory that "
                              f"trainwell search wrote?")
        options, table = read_search_file(args.resume)
        options = apply_sets({**options, "search": table}, args.set or [])
        table = options.pop("search")
        stem = Path(args.resume).name
    else:
        if args.config is None:
            raise ConfigError("search needs a CONFIG.toml with a [search] table (or --resume STUDY_DIR)")
        options = apply_sets(read_toml(args.config), args.set or [])
        stem = Path(args.config).stem
        table = options.pop("search", None)
        if table is None:
            raise ConfigError(f"{args.config}: no [search] table; add one, e.g. [search.space] "
                              f"lr = {{low = 1e-4, high = 1}} (docs/search.md)")
        if args.dir:
            table["dir"] = args.dir
    check_file_options(options, str(args.config or args.resume))
    for flag, key in ((args.workers, "workers"), (args.storage, "storage")):
        if flag is not None:
            table[key] = flag
    result = run_search(None, None, options, table, resume=bool(args.resume), progress=not args.quiet,
                        stem=stem)
    for message in result.messages:
        print(message)
    print(f"study: {result.study_dir}")
    if result.best_trial is None:
        print("no trial finished: see trials.csv for the prune reasons and errors")
        return 1
    print(f"best: trial {result.best_trial}, {result.metric} = {result.best_value:.4g}, "
          + ", ".join(f"{k} = {v!r}" for k, v in result.best_params.items()))
    print(f"best config: {result.study_dir / 'best.toml'} (trainwell fit runs it as it is)")
    print(f"report: {result.study_dir / 'report.html'}")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("search", help=SEARCH_HELP)
    p.add_argument("config", nargs="?", metavar="CONFIG", help="a config with a [search] table")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override an option (TOML value)")
    p.add_argument("--resume", metavar="STUDY_DIR", help="continue the search in STUDY_DIR")
    p.add_argument("--dir", help="the study directory (default: search.dir, else searches/NAME-TIMESTAMP)")
    p.add_argument("--workers", type=int, help="worker processes on this machine (search.workers)")
    p.add_argument("--storage", metavar="URL", help="an Optuna storage URL or journal file (search.storage); "
                   "searches started on several machines with the same URL join one study")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=cmd_search)
