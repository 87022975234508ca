"""The command line: ``trainwell fit | doctor | lr-find | demo | report | predict | options |
ensemble | distill | search | landscape | sharpness | connect | visualize | completion``.

Every config is validated before any work. Bad input prints one line naming the key, value
or file and what is allowed, and exits with status 2; never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import tokenize
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from trainwell.babysit.doctor import doctor
from trainwell.completion import add_parser as add_completion_parser
from trainwell.config import (apply_sets, check_file_options, options_markdown, options_text,
                              read_toml)
from trainwell.data.files import read_inputs
from trainwell.data.streaming import CHECK_ROWS, check_sample
from trainwell.ensembles import cli as ensemble_cli
from trainwell.errors import ConfigError, DataError, TrainwellError
from trainwell.geometry import cli as geometry_cli
from trainwell.hpsearch import cli as search_cli
from trainwell.hpsearch.studydir import is_study_dir
from trainwell.train import distributed
from trainwell.train.fit import check_before_launch, fit
from trainwell.train.run import load_run
from trainwell.train.rundir import atomic_write
from trainwell.train.state import FAILED, StopKind

BAD_INPUT = 2          # a config, option, data or checkpoint error: one line on stderr
INTERRUPTED = 130      # 128 + SIGINT, the shell's convention for Ctrl-C
BROKEN_PIPE = 141      # 128 + SIGPIPE: what a shell reports for a tool whose reader went away
ROWS_NAMED = 10        # how many bad rows an error message lists before "and N more"
PACKAGE = Path(__file__).resolve().parent
DESCRIPTION = ("Train PyTorch models from TOML configs, with a babysitter that checks the "
               "training. 'trainwell COMMAND --help' tells more; docs/training.md has the details.")


def _fit_exit_statuses() -> str:
    """The ``trainwell fit --help`` epilog, from the stop kinds (``Stop.failed`` decides 0 or 1)."""
    planned = ", ".join(k.value for k in StopKind if k not in FAILED)
    failed = ", ".join(k.value for k in StopKind if k in FAILED)
    return ("exit status:\n"
            f"  0    training finished or stopped as planned ({planned})\n"
            f"  1    the run failed ({failed})\n"
            f"  {BAD_INPUT}    bad input: a config, option, data or checkpoint error (one line on stderr)\n"
            f"  {INTERRUPTED}  interrupted (Ctrl-C)")


def _unique_run_dir(base: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = base.with_name(f"{base.name}-{stamp}")
    n = 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{stamp}-{n}")
    return path


def _summary(run) -> str:
    lines = [f"run: {run.run_dir}", f"stopped: {run.stopped}"]
    test = run.results.get("test")
    if test:
        acc = f", accuracy {test['acc']:.4f}" if test.get("acc") is not None else ""
        lines.append(f"test: loss {test['loss']:.4f}{acc}")
    lines += _babysitter_summary(run)
    if run.run_dir is not None and (Path(run.run_dir) / "report.html").exists():
        lines.append(f"report: {Path(run.run_dir) / 'report.html'}")
    return "\n".join(lines)


def _babysitter_summary(run) -> list[str]:
    """The babysitter's verdict for the terminal: its findings, root cause first, and the repairs
    it made; and, when a run that finished had an error finding, why the exit status is still 0."""
    if run.findings is None or run.config.get("babysit") == "off":
        return []
    if not run.findings.findings and not run.repairs:
        return ["babysitter: no problems found"]
    lines = ["babysitter (root cause first):"]
    lines += ["  " + line for line in run.findings.format().splitlines()]
    if run.repairs:
        lines.append(f"repairs ({len(run.repairs)}):")
        lines += [f"  step {r['step']} (epoch {r['epoch'] + 1}), {r['code']}: {r['action']}: "
                  + r["reason"].removeprefix(f"{r['code']}: ") for r in run.repairs]
    elif run.config.get("babysit") == "watch":
        lines.append('repairs: none (babysit = "watch" only reports; --set babysit=repair '
                     "rolls back and repairs)")
    if not run.findings.ok and run.stopped is not None and not run.stopped.failed:
        lines.append(f"exit status 0: the run ended as planned ({run.stopped.kind.value}); the exit status "
                     "reads how a run stopped, not its findings ('trainwell doctor' exits 1 on an "
                     "error finding)")
    return lines


def _read_config(path, sets, *, saved_run: bool = False) -> dict:
    """A config file with its ``--set`` overrides applied. Options only Python can set
    (``callbacks``) are refused, except in a run's own config.toml, where older versions of
    trainwell recorded the callbacks' names: those are dropped."""
    options = read_toml(path)
    if saved_run:
        options.pop("callbacks", None)
    check_file_options(options, str(path))
    return check_file_options(apply_sets(options, sets or []), "--set")


def cmd_fit(args) -> int:
    if args.threads is not None and args.nproc is None:   # one process takes OMP_NUM_THREADS itself
        raise ConfigError(f"--threads {args.threads}: only with --nproc N (torch threads per process); "
                          f"for one process set OMP_NUM_THREADS={args.threads}")
    if args.resume:
        run_dir = Path(args.resume)
        if not (run_dir / "config.toml").exists():
            raise ConfigError(f"--resume {run_dir}: no config.toml there; is it a trainwell run directory?")
        # a CONFIG given too is the one resumed with: fit checks it against the run's own options
        # (an exact resume refuses a difference, --continue allows its length), never ignores it
        options = (_read_config(args.config, args.set) if args.config is not None
                   else _read_config(run_dir / "config.toml", args.set, saved_run=True))
        options.update(resume=True, run_dir=str(run_dir), extend=args.continue_run)
    elif args.continue_run:
        raise ConfigError("--continue needs --resume RUN_DIR: the run to continue, e.g. trainwell fit "
                          "--resume runs/mine --continue --set epochs=60")
    else:
        if args.config is None:
            raise ConfigError("fit needs a CONFIG.toml (or --resume RUN_DIR)")
        options = _read_config(args.config, args.set)
    if not options.get("run_dir"):
        stem = Path(args.config).stem if args.config else "run"
        options["run_dir"] = str(_unique_run_dir(Path("runs") / stem))
    if args.quiet:
        options["progress"] = False
    if args.nproc is not None:        # checked here, then run as N ranks (docs/distributed.md)
        check_before_launch(options)
        return distributed.launch_fit(args, run_dir=options["run_dir"])
    run = fit(options.pop("model", None), None, **options)
    if distributed.is_main_process():
        print(_summary(run))
    return _exit_status(run)


def _exit_status(run) -> int:
    """1 when the run failed (it diverged, or the babysitter could not repair it), else 0."""
    return 1 if run.stopped is not None and run.stopped.failed else 0


def _options_from(args) -> dict:
    options = _read_config(args.config, args.set)
    options["progress"] = False
    return options


def cmd_doctor(args) -> int:
    options = _options_from(args)
    diagnosis = doctor(options.pop("model", None), None, budget_s=args.budget, **options)
    print(diagnosis.format(evidence=args.evidence) if diagnosis.findings else
          "doctor: no problems found")
    return 0 if diagnosis.ok else 1


def cmd_lr_find(args) -> int:
    from trainwell.babysit.lr_find import lr_find
    from trainwell.train.fit import prepare
    from trainwell.train.parts import optimizer_options

    options = _options_from(args)
    options.update(run_dir=None, babysit="off")
    p = prepare(options.pop("model", None), None, None, None, options)
    rows = max(CHECK_ROWS, args.steps * p.config.batch_size)   # streamed inputs: the rows it reads
    result = lr_find(p.model, *check_sample(*p.train, seed=p.config.seed, rows=rows), loss=p.config.loss, optimizer=p.config.optimizer,
                     start=args.start, end=args.end, steps=args.steps,
                     batch_size=p.config.batch_size, seed=p.config.seed, **optimizer_options(p.config))
    out = Path(args.out)
    result.plot(out)
    print(f"suggested lr: {result.suggestion:.3g}" if result.suggestion else
          "no steady descent found: widen --start/--end or check the setup with `trainwell doctor`")
    print(f"plot: {out}")
    return 0


def cmd_demo(args) -> int:
    run_dir = args.run_dir or str(_unique_run_dir(Path("runs") / "demo"))
    print("trainwell demo: the default recipe on scikit-learn's bundled digits "
          "(1797 8x8 images, 500 held out for test)")
    options = {} if args.epochs is None else {"epochs": args.epochs}
    run = fit(None, "digits", run_dir=run_dir, progress=not args.quiet, **options)
    print(_summary(run))
    return _exit_status(run)


def cmd_report(args) -> int:
    from trainwell.report.ensemble_html import is_ensemble, write_ensemble_report   # lazily:
    from trainwell.report.html import write_report   # matplotlib is slow to import
    from trainwell.hpsearch.report import write_study_report   # lazily: matplotlib, as above

    run_dir = Path(args.run_dir)
    if is_study_dir(run_dir):
        write = write_study_report
    else:
        write = write_ensemble_report if is_ensemble(run_dir) else write_report
    path = write(run_dir)
    print(f"report: {path}")
    return 0


# What numpy raises on a damaged or non-numeric file: an object array refused by
# allow_pickle=False (ValueError), a damaged header (SyntaxError, TokenError, ValueError), a
# damaged or cut-off archive (BadZipFile, zlib.error, EOFError, OSError), an archive whose flags
# say encrypted (RuntimeError, NotImplementedError).
NUMPY_READ_ERRORS = (ValueError, SyntaxError, tokenize.TokenError, zipfile.BadZipFile, zlib.error,
                     EOFError, OSError, RuntimeError, NotImplementedError)


def _predict_inputs(path) -> np.ndarray:
    """``read_inputs`` plus what a prediction needs: at least one sample, and finite numbers
    (a NaN row would get a made-up class). What the reader lets through becomes a one-line
    error: a CSV that is not UTF-8, a numpy file that is damaged or only unpickling could read."""
    try:
        X = read_inputs(path)
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text (byte {e.object[e.start]:#04x} at offset {e.start}); "
                        f"save the CSV as UTF-8") from None
    except TrainwellError:
        raise
    except NUMPY_READ_ERRORS as e:
        raise DataError(f"{path}: not a readable numeric array ({type(e).__name__}: {e}); "
                        f"save numbers with numpy.save or numpy.savez") from None
    if X.ndim == 0:
        raise DataError(f"{path}: holds a single number; expected an array with one sample per row")
    if len(X) == 0:
        raise DataError(f"{path}: no samples (an array of shape {X.shape}); nothing to predict")
    # float32, as run.predict makes integers and float64; float16 it would pass to a float32
    # model as it is (a dtype mismatch), and longdouble torch cannot take at all
    with np.errstate(over="ignore"):         # beyond float32's range becomes inf: refused below
        X = X.astype(np.float32, copy=False)
    bad = np.flatnonzero(~np.isfinite(X.reshape(len(X), -1)).all(axis=1))
    if len(bad):
        rows = ", ".join(str(i) for i in bad[:ROWS_NAMED])
        more = f" and {len(bad) - ROWS_NAMED} more" if len(bad) > ROWS_NAMED else ""
        raise DataError(f"{path}: {len(bad)} of {len(X)} samples hold NaN, inf or a number too large "
                        f"for float32, at row{'s' * (len(bad) > 1)} {rows}{more} (counting data rows "
                        f"from 0); fix or drop them, a model cannot predict from them")
    return X


def cmd_predict(args) -> int:
    run = load_run(args.run_dir)
    X = _predict_inputs(args.data)
    mc = {} if args.mc_dropout is None else {"mc_dropout": args.mc_dropout}
    preds = run.predict(X, output=args.output, **mc)
    if hasattr(preds, "spread"):          # MC dropout: the mean's columns, then the spread's
        preds = np.concatenate([preds.mean.reshape(len(X), -1).cpu().numpy(),
                                preds.spread.reshape(len(X), -1).cpu().numpy()], axis=1)
    else:
        preds = preds.cpu().numpy()
    if args.out:
        out = Path(args.out)
        try:
            if out.suffix == ".npy":              # a new file renamed over the path, never through a link
                atomic_write(out, lambda f: np.save(f, preds))
            else:
                atomic_write(out, lambda f: np.savetxt(f, preds.reshape(len(preds), -1), delimiter=",", fmt="%.6g"))
        except DataError as e:                    # "<path>: cannot write it (...)"
            raise DataError(f"--out {e}") from None
        print(f"{len(preds)} predictions written to {out}")
    else:
        for row in preds.reshape(len(preds), -1):
            print(",".join(f"{v:.6g}" for v in row))
    return 0


def cmd_options(args) -> int:
    print(options_markdown() if args.markdown else options_text())
    return 0


def positive_seconds(text: str) -> float:
    """An argparse type: a finite number of seconds > 0 (``doctor --budget``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a number of seconds > 0") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: must be a number of seconds > 0")
    return value


class OneLineParser(argparse.ArgumentParser):
    """argparse's parser whose usage errors are one line, as every other bad input is: the
    command, what is wrong and where the help is, exit status 2 (argparse's own)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    import trainwell     # the package's __init__ owns the version; this module imports without it

    parser = OneLineParser(prog="trainwell", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {trainwell.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("fit", help="train from a TOML config", epilog=_fit_exit_statuses(),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", nargs="?", metavar="CONFIG", help="the config file, CONFIG.toml "
                   "('trainwell options' lists the keys)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override an option (TOML value), e.g. --set lr=0.01 --set model.widths=[128]")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its newest good checkpoint")
    p.add_argument("--continue", dest="continue_run", action="store_true",
                   help="with --resume: train a run that ended for more epochs, e.g. --resume RUN "
                   "--continue --set epochs=60; the schedule restarts where the run ended and the run "
                   "records it (docs/checkpoints.md)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    distributed.add_launch_arguments(p)
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("doctor", help="check a config before training: pre-flight checks and a "
                       "short probe run; exit status 1 when a finding has severity error")
    p.add_argument("config", metavar="CONFIG", help="the config file, CONFIG.toml")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override an option (TOML value)")
    p.add_argument("--budget", type=positive_seconds, default=60.0,
                   help="nominal seconds for all checks: steps priced by the cost model, not timed (default 60)")
    p.add_argument("--evidence", action="store_true", help="print the measured numbers too")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("lr-find", help="learning-rate range test (Smith 2017) with a robust suggestion")
    p.add_argument("config", metavar="CONFIG", help="the config file, CONFIG.toml")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override an option (TOML value)")
    p.add_argument("--start", type=float, default=1e-7, help="first lr (default 1e-7)")
    p.add_argument("--end", type=float, default=10.0, help="last lr (default 10)")
    p.add_argument("--steps", type=int, default=100, help="steps of the sweep (default 100)")
    p.add_argument("--out", default="lr_find.png", help="where to write the plot (default lr_find.png)")
    p.set_defaults(func=cmd_lr_find)

    p = sub.add_parser("demo", help="train the default recipe on the bundled digits")
    p.add_argument("--run-dir", help="where to write the run (default runs/demo-TIMESTAMP)")
    p.add_argument("--epochs", type=int, help="train this many epochs instead of the recipe's "
                   "(a quick look; the recipe's accuracy needs all of them)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("report", help="(re)write RUN_DIR/report.html (or a search's STUDY_DIR/report.html)")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory that trainwell fit wrote, or a "
                   "study directory that trainwell search wrote")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("predict", help="predict with a trained run on a .npy/.npz/.csv file")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory that trainwell fit wrote")
    p.add_argument("data", metavar="DATA",
                   help="inputs: .npy, .npz (key X), or .csv (numbers, no label column)")
    p.add_argument("--output", choices=("auto", "class", "raw", "proba"), default="auto",
                   help="class: class ids; proba: class probabilities; raw: the model's outputs; "
                   "auto (default): class ids for a classification loss, raw outputs for regression")
    p.add_argument("--out", help="write predictions to a .npy or .csv file instead of printing")
    p.add_argument("--mc-dropout", type=int, metavar="T", help="MC dropout: T passes with only dropout "
                   "active; prints the mean class probabilities (raw outputs for regression or --output "
                   "raw), then their spread (standard deviation)")
    p.set_defaults(func=cmd_predict)

    ensemble_cli.add_parsers(sub)

    add_completion_parser(sub, build_parser)
    p = sub.add_parser("options", help="print every config option's default as TOML (a config to "
                       "start from), each with its meaning and source")
    p.add_argument("--markdown", action="store_true", help="as the docs/options.md table instead")
    p.set_defaults(func=cmd_options)
    search_cli.add_parsers(sub)
    geometry_cli.add_parsers(sub)
    return parser


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's flush at exit does not fail again
    on a closed pipe (the recipe of the Python docs, "Note on SIGPIPE")."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):    # a stream without a file (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _one_line_warnings(show_other):
    """A ``warnings.showwarning`` that prints trainwell's own warnings as one line for people, like
    its errors (no category, source path or code line), and hands others to ``show_other``."""
    def show(message, category, filename, lineno, file=None, line=None):
        if Path(filename).resolve().is_relative_to(PACKAGE):
            print(f"trainwell: warning: {message}", file=file or sys.stderr)
        else:
            show_other(message, category, filename, lineno, file, line)
    return show


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _one_line_warnings(warnings.showwarning)
        return _run(args)


def _run(args) -> int:
    try:
        status = args.func(args)
        sys.stdout.flush()           # a reader that went away shows here, not at exit
        return status
    except TrainwellError as e:
        if not distributed.leave_error(e):   # a rank of --nproc: its launcher prints it once
            print(f"trainwell: error: {e}", file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        print("trainwell: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:          # `trainwell predict ... | head -1`: stop quietly, as CLI tools do
        _discard_stdout()
        return BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
