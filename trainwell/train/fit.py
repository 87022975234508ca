"""``trainwell.fit``: resolve options once, build the parts, run the Trainer, write the run.

One run: validate options -> load data and fit preprocessing on the training split -> build or
take the model, initialize -> optimizer, schedule, penalties -> the loop -> evaluate -> report.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from trainwell.babysit.baseline_check import check_baseline
from trainwell.babysit.findings import Diagnosis, Finding
from trainwell.babysit.model_checks import model_error, refuse_model_raises
from trainwell.babysit.monitor import Monitor
from trainwell.config import Config, make_config, write_toml
from trainwell.data.augment import make_augment
from trainwell.data.sources import Splits
from trainwell.data.streaming import HostRows, apply_module, check_sample, fit_streamed, place
from trainwell.data.transforms import Pipeline, fit_preprocess
from trainwell.errors import ConfigError, TrainwellError
from trainwell.nn.losses import accuracy_fn
from trainwell.nn.models import build_model, check_output_activation
from trainwell.nn.transfer import Unfreeze
from trainwell.optim.factory import own_settings
from trainwell.train.average import average_schedule, make_averager
from trainwell.train.calibration import model_calibration
from trainwell.train.callbacks import EarlyStopping
from trainwell.train.checkpoint import load_latest
from trainwell.train.distributed import (Distributed, distribute, entered_together, from_rank0, join,
                                        rank_options, shard_of)
from trainwell.train.extend import check_continuation, continuation, reopen
from trainwell.train.loggers import Tracker, make_trackers
from trainwell.train.loop import StepParts, Trainer, total_steps
from trainwell.train.metrics import MetricsLog, evaluate_model
from trainwell.train.parts import (apply_transfer, babysit_callbacks, build_grad_hooks,
                                   build_optimizer_for, build_schedule_for,
                                   check_model_fits_data, data_table, initialize, make_batches,
                                   num_outputs, resolve_data, resolve_device, resolve_model_spec)
from trainwell.train.regularizers import build_constraint, build_loss, build_penalty
from trainwell.train.precision import (Precision, backend_settings, check_precision, compile_model, note,
                                       to_channels_last, use_channels_last)
from trainwell.train.progress import Progress
from trainwell.train.run import Run, atomic_save_model, read_json_object
from trainwell.train.state import Stop, StopKind
from trainwell.train.rundir import atomic_write_json, clear_run, lock_run_dir, make_run_dir

# Options that may differ between a run and its resumption without changing the result.
RESUME_MAY_CHANGE = {"resume", "extend", "overwrite", "progress", "report", "callbacks", "device", "stream", "run_dir", "check_every",
                     "log", "log_dir", "mlflow_uri", "mlflow_experiment", "mlflow_parent"}
SHOWN_CHANGES = 4       # a refused resume names this many changed options (a readable line)
# babysit.json keeps the monitor's series evenly thinned to at most these lengths, so its size
# (and the report's figures) does not grow with the length of the run.
EVIDENCE_SAMPLES = 400
EVIDENCE_ACTIVATIONS = 20


@contextlib.contextmanager
def _locked_run_dir(config: Config, *, total_steps: int, metrics: MetricsLog | None) -> Iterator[Path | None]:
    """The run's directory, checked, prepared and locked for this process while the run writes
    there (None without a ``run_dir``); ``total_steps``: the run's length (a continuation's
    must go beyond the step the run reached); ``metrics``: the Trainer's metrics.jsonl, started
    here for a new run and closed when the block ends."""
    if config.run_dir is None:
        yield None
        return
    run_dir = _open_run_dir(config)
    with lock_run_dir(run_dir):
        if config.extend:
            _record_continuation(config, run_dir, total_steps)
        elif config.resume:
            _check_resume_options(config, run_dir)
        else:
            if config.overwrite:
                clear_run(run_dir)        # the old run's files; the user's own files stay
            _start_run_dir(config, run_dir, metrics)
        try:
            yield run_dir
        finally:
            metrics.close()


def check_before_launch(options: dict) -> None:
    """What ``trainwell fit --nproc N`` checks before torchrun starts (docs/distributed.md), so bad
    input fails once, in one line: the options, the data (a source's files are read and checked,
    then let go), and the run directory (a resume's saved run and its options; a new run's
    directory: writable, free, not holding another run), which it locks only for the check and
    writes nothing to but the lock file."""
    options = dict(options)
    options.pop("model", None)
    config = make_config(options)
    resolve_data(None, None, None, config)
    if config.run_dir is None:
        return
    run_dir = _open_run_dir(config)
    with lock_run_dir(run_dir):
        if config.resume and not config.extend:
            _check_resume_options(config, run_dir)
        elif not config.resume and not config.overwrite:
            _refuse_a_second_run(run_dir)


def _open_run_dir(config: Config) -> Path:
    """``config.run_dir``, made where it is missing; refused when it is a link (``real_run_dir``)
    or, on a resume, when it holds no run (no config.json)."""
    run_dir = real_run_dir(Path(config.run_dir))
    if config.resume and not (run_dir / "config.json").exists() and not run_dir.is_file():
        raise ConfigError(f"resume: {run_dir} holds no run (no config.json) to continue")
    make_run_dir(run_dir)
    return run_dir


def real_run_dir(run_dir: Path) -> Path:
    """``run_dir``, refused when it is a symlink: a run (a fit, an ensemble, a connecting curve)
    writes only into a real directory, never through a link (train/rundir.py; its
    ``make_directory`` refuses a linked output folder too)."""
    if run_dir.is_symlink():
        raise ConfigError(f"run_dir = {str(run_dir)!r} is a symlink (to {os.readlink(run_dir)!r}); a run "
                          f"writes only into a real directory: give the directory itself")
    return run_dir


def _refuse_a_second_run(run_dir: Path) -> None:
    if (run_dir / "metrics.jsonl").exists() or (run_dir / "checkpoints").exists():
        raise ConfigError(f"run_dir = {str(run_dir)!r} already holds a run; pass resume = true to "
                          f"continue it, overwrite = true to start over there, or choose a new "
                          f"directory")


def _check_resume_options(config: Config, run_dir: Path) -> None:
    before = read_json_object(run_dir / "config.json", "the run's resolved options")
    now = config.to_dict()
    changed = sorted(k for k in now if k not in RESUME_MAY_CHANGE and before.get(k) != _jsonable(now[k]))
    if changed:
        detail = ", ".join(f"{k}: {before.get(k)!r} -> {now[k]!r}" for k in changed[:SHOWN_CHANGES])
        raise ConfigError(f"resume: options differ from the run in {run_dir} ({detail}); "
                          f"an exact resume needs the same options")


def _record_continuation(config: Config, run_dir: Path, total_steps: int) -> None:
    """Check a continuation's options against the run's and save them as the run's options (with
    ``resume`` and ``extend`` false, as a new run's are): a continued run that is killed then
    resumes exactly with ``--resume`` alone."""
    before = read_json_object(run_dir / "config.json", "the run's resolved options")
    now = _jsonable(config.to_dict())
    check_continuation(before, now, may_change=RESUME_MAY_CHANGE, run_dir=run_dir,
                       total_steps=total_steps)
    _save_options({**config.to_dict(), "resume": False, "extend": False}, run_dir)


def _start_run_dir(config: Config, run_dir: Path, metrics: MetricsLog) -> None:
    _refuse_a_second_run(run_dir)
    _save_options({**config.to_dict(), "overwrite": False}, run_dir)   # a later --resume continues this run
    metrics.start()               # empty: a run stopped before its first epoch has one too


def _save_options(resolved: dict, run_dir: Path) -> None:
    """The run's resolved options: config.json (what a resume's options are checked against) and
    config.toml (what ``trainwell fit --resume DIR`` reads)."""
    atomic_write_json(resolved, run_dir / "config.json")
    write_toml(resolved, run_dir / "config.toml")


def _with_run_record(config: Config, *, given: bool, steps_per_epoch: int) -> Config:
    """``config`` with the run's ``continued`` record (train/extend.py): on a resume, the saved
    run's record unless the caller gave one (``given``); with ``extend``, plus the entry for this
    continuation, read from the run's newest checkpoint. A new run's config is returned as it is."""
    if not config.resume or config.run_dir is None:
        return config
    saved = Path(config.run_dir) / "config.json"
    if not saved.is_file():
        return config                       # _locked_run_dir says what is missing
    before = read_json_object(saved, "the run's resolved options")
    record = list(config.continued) if given else list(before.get("continued") or [])
    if config.extend:
        found = load_latest(Path(config.run_dir) / "checkpoints", map_location="cpu")
        if found is None:
            raise ConfigError(f"--continue: {config.run_dir} holds no checkpoint to continue from")
        counters = found[1]["counters"]
        old_total = steps_per_epoch * int(before.get("epochs", config.epochs))
        if before.get("max_steps") is not None:
            old_total = min(old_total, int(before["max_steps"]))
        record.append(continuation(before, counters, Stop.from_value(counters.get("stop")), old_total))
    return dataclasses.replace(config, continued=record)


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


@dataclass
class Prepared:
    """Everything resolved from (model, data, options) before training: shared by fit and doctor."""

    config: Config
    splits: Splits
    model: nn.Module
    spec: dict | None                 # the builder table, when trainwell built the model
    input_shape: tuple
    preprocess: nn.Module | None
    train: tuple
    val: tuple | None
    test: tuple | None
    loss_fn: object
    accuracy: object
    transfer: dict                    # {"report": TransferReport | None, "frozen": [names]}


def users_optimizer_config(config: Config, options: dict) -> Config:
    """The config of a run whose optimizer the user built: ``fit`` keeps that optimizer's own lr and
    weight decay (``build_optimizer``), so the config says them, and whatever reads the run's lr (the
    doctor's probes and arms, the repairer, SWA's lr, the report) reads the one it runs with. An lr or
    weight decay given beside it that differs is not used: a warning names it."""
    own = own_settings(config.optimizer)
    for key, value in own.items():
        given = options.get(key)
        if given is not None and not math.isclose(float(given), value, rel_tol=1e-6):
            warnings.warn(f"{key} = {given!r} is not used: the optimizer you built "
                          f"({type(config.optimizer).__name__}) keeps its own {key} {value:g}; set it on the "
                          f"optimizer, or pass its name (optimizer = 'sgd', 'adam', ...) for fit to build it")
    return dataclasses.replace(config, **own)


def prepare(model, train, val, test, options: dict, *, check: bool = True) -> Prepared:
    """Validate options, load data, fit preprocessing on the training split, build the model,
    move everything to the device and initialize. ``check=False`` skips the model/data fit
    check (``doctor`` diagnoses those problems instead of raising)."""
    if isinstance(model, dict):
        options["model"] = model  # a model table is the config's `model` option
    config = make_config(options)
    if isinstance(train, str):    # the run records the source it trains on, not the table's default
        given = options.get("data") or {}
        if given.get("source") not in (None, train):
            warnings.warn(f"data.source = {given['source']!r} is not used: the data argument names the "
                          f"source {train!r} (the table's options, for {given['source']!r}, are left out)")
        config = dataclasses.replace(config, data=data_table(train, config.data))
    if isinstance(config.optimizer, torch.optim.Optimizer):
        config = users_optimizer_config(config, options)
    device = resolve_device(config.device)
    splits = place(resolve_data(train, val, test, config), config.stream, device)
    check_monitor_has_data(config, splits)
    preprocess = None
    input_shape = tuple(splits.input_shape or splits.train[0].shape[1:])
    if config.preprocess:
        fit_on = fit_streamed if isinstance(splits.train[0], HostRows) else fit_preprocess
        preprocess = fit_on(config.preprocess, splits.train[0])
        input_shape = tuple(preprocess.output_shape(input_shape))
    torch.manual_seed(config.seed)
    spec = None
    if model is None or isinstance(model, dict):
        spec = resolve_model_spec(config.model, input_shape, splits)
        check_output_activation(spec.get("output_activation", "none"), config.loss)
        model = build_model(spec, input_shape, num_outputs(splits, config.loss))
    elif not isinstance(model, nn.Module):
        raise ConfigError(f"model must be a torch.nn.Module or a model table, got {type(model).__name__}")

    def on_device(pair):
        if pair is None:
            return None
        X = pair[0]
        if isinstance(X, HostRows):         # streamed: preprocessed per batch, on the device
            return X.bind(device, preprocess), pair[1].to(device)
        if preprocess is not None:
            with torch.no_grad():
                X = preprocess(X)
        X = X.to(device)
        return (to_channels_last(X) if channels_last else X), pair[1].to(device)

    check_precision(config.precision, device)
    channels_last = use_channels_last(config.channels_last, model, device)   # docs/speed.md
    train_pair, val_pair, test_pair = (on_device(p) for p in (splits.train, splits.val, splits.test))
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    if config.init is not None and not config.resume:
        initialize(model, config.init, train_pair[0], seed=config.seed)
    transfer = apply_transfer(config, model)
    loss_fn = build_loss(config)
    if check:
        check_model_fits_data(model, loss_fn, train_pair, config.loss, val=val_pair, test=test_pair)
    return Prepared(config, splits, model, spec, input_shape, preprocess, train_pair, val_pair,
                    test_pair, loss_fn, accuracy_fn(config.loss, train_pair[1]), transfer)


def check_monitor_has_data(config: Config, splits: Splits) -> None:
    """Early stopping and the plateau schedule watch ``monitor``; a ``val_`` metric needs a
    validation split, or they would silently do nothing. Raised before any model is built."""
    if not config.monitor.startswith("val_") or splits.val is not None:
        return
    spec = config.schedule
    plateau = (spec == "plateau" or (isinstance(spec, dict) and spec.get("name") == "plateau")
               or hasattr(spec, "observe"))
    users = ([f"patience = {config.patience} (early stopping)"] if config.patience is not None else []) \
        + (["schedule = \"plateau\""] if plateau else [])
    if users:
        verb = "need" if len(users) > 1 else "needs"
        raise ConfigError(f"{' and '.join(users)} {verb} validation data for monitor = {config.monitor!r}, "
                          f"but there is none: pass val=(X, y) to fit, use a data source with a "
                          f"validation split (data.val_size > 0), or monitor a training metric "
                          f"(monitor = \"train_loss\")")


def make_trainer(p: Prepared, *, run_dir=None, step_fn=None, extra_callbacks=(),
                 dist: Distributed | None = None) -> Trainer:
    """The Trainer for a prepared run: optimizer, batches, schedule, penalties and callbacks;
    with ``dist``, one rank's (train/distributed.py)."""
    config = p.config
    batches = make_batches(config, p.train, **shard_of(dist))
    total = total_steps(config, len(batches))

    def optimizer_factory(model, **overrides):
        return build_optimizer_for(dataclasses.replace(config, **overrides), model, total_steps=total)

    averager = make_averager(config, steps_per_epoch=len(batches), loss_fn=p.loss_fn, accuracy=p.accuracy)
    # under DDP every rank's monitor samples its shard and the sums are all-reduced; rank 0's
    # judges and repairs, its stops and repairs reach the other ranks at the checks (Trainer._agree)
    babysitter = babysit_callbacks(config, len(batches))
    monitor = next((c for c in babysitter if isinstance(c, Monitor)), None)
    if dist is not None and not dist.is_main:
        babysitter = [monitor] if monitor is not None else []
    callbacks = [*config.callbacks, *extra_callbacks, *averager, *babysitter,
                 *make_trackers(config, monitor=monitor)]
    if config.unfreeze_at is not None and p.transfer["frozen"]:
        callbacks.insert(0, Unfreeze(config.unfreeze_at, p.transfer["frozen"],
                                     lr_mult=config.unfreeze_lr_mult))
    if config.patience is not None:
        callbacks.append(EarlyStopping(patience=config.patience, monitor=config.monitor))
    if config.progress:
        callbacks.append(Progress())
    schedule = average_schedule(config, build_schedule_for(config, total, len(batches)), len(batches))
    parts = StepParts(schedule=schedule,
                      penalty=build_penalty(config, p.model), grad_hooks=build_grad_hooks(config, p.model),
                      augment=make_augment(config.augment) if config.augment else None,
                      constraint=build_constraint(config, p.model))
    optimizer = build_optimizer_for(config, p.model, total_steps=total)
    note(compile_model(p.model, config.compile, optimizer))     # in place; docs/speed.md
    trainer = Trainer(p.model, optimizer, p.loss_fn,
                      config=config, batches=batches, val=p.val, accuracy=p.accuracy, callbacks=callbacks,
                      step_fn=step_fn, parts=parts, run_dir=run_dir, optimizer_factory=optimizer_factory,
                      precision=Precision(config.precision, batches.X.device))
    if dist is not None:
        distribute(trainer, dist)
        if monitor is not None:           # the same sampled steps on every rank, rank 0's after a repair
            monitor.use_distributed(dist)
            trainer.controls.journal.share("monitor", monitor.schedule, monitor.follow)
    return trainer


def fit(model=None, train="digits", val=None, *, test=None, step_fn=None, **options) -> Run:
    """Train ``model`` (any nn.Module, a model table such as ``{"type": "mlp"}``, or None for the
    configured default) on ``train`` and return a :class:`Run`.

    ``train``: ``(X, y)`` arrays/tensors, a :class:`Splits`, or a source name ("digits").
    ``options``: the config keys (``lr=``, ``optimizer=``, ``epochs=``, ...; see docs/options.md).
    ``step_fn(state, closure) -> loss`` replaces the default optimizer step.
    """
    given_record = "continued" in options
    dist = join(resolve_device(str(options.get("device", "auto"))))   # under torchrun: one rank
    if dist is not None:
        options["device"] = str(dist.device)
    p = prepare(model, train, val, test, options)
    p.config = rank_options(p.config, dist)   # ranks > 0 write nothing
    steps_per_epoch = len(make_batches(p.config, p.train, **shard_of(dist)))
    record = from_rank0(dist, lambda: _with_run_record(p.config, given=given_record,   # rank 0 reads it
                                                       steps_per_epoch=steps_per_epoch).continued)
    p.config = config = dataclasses.replace(p.config, continued=record)
    trainer = make_trainer(p, run_dir=config.run_dir, step_fn=step_fn, dist=dist)   # may still raise:
    if config.preprocess and dist is None:     # a repair may refit the configured preprocess (controls.refit_preprocess)
        trainer.controls.keep_raw_inputs(p.splits.train, p.splits.val, specs=config.preprocess, pipeline=p.preprocess)
    locked = _locked_run_dir(config, total_steps=trainer.state.total_steps,   # then the directory
                             metrics=trainer.metrics_log)
    with backend_settings(cudnn_benchmark=config.cudnn_benchmark, matmul_precision=config.matmul_precision), \
            entered_together(dist, locked) as run_dir:                      # (rank 0's, under DDP)
        if config.resume:
            if not trainer.load_latest_checkpoint():
                warnings.warn(f"resume: no usable checkpoint in {run_dir}; starting from the beginning")
            reopen(trainer.state, config.continued)    # a continuation trains on from where it ended
            if trainer.metrics_log is not None:    # None on ranks > 0
                trainer.metrics_log.replace(trainer.state.history)

        try:
            state = trainer.fit()
        except Exception as exc:    # a babysat run names the user's failing line (babysit/model_checks.py)
            named = None if config.babysit == "off" or isinstance(exc, TrainwellError) else model_error(
                exc, p.model, *check_sample(*p.train, seed=config.seed), p.loss_fn, seed=config.seed)
            if named is None:       # not the model's forward / backward (a callback's, say): as raised
                raise
            raise named from exc
        if config.babysit != "off":     # the repairer's pre-flight found a model that cannot run
            babysit = state.extras.get("babysit", {})
            refuse_model_raises(babysit.get("findings", []), babysit.get("repairs", []))

        # The run's model is the evaluated one: a callback's eval_model (an EMA copy, say) or the
        # trained model; the test split gets the preprocessing repairs added during training.
        model, added = state.evaluated_model, trainer.controls.added_preprocess
        results = {"stopped": state.stop.message, "stop_kind": state.stop.kind.value,
                   "epochs": state.epoch, "steps": state.step,
                   "best_epoch": state.best.get("epoch"), "best_value": state.best.get("value"),
                   "monitor": config.monitor, "continued": config.continued,
                   "seconds": sum(m["seconds"] for m in state.history)}
        refitted = trainer.controls.preprocess_refitted     # the configured preprocess a repair replaced
        test = trainer.controls.through_configured(p.splits.test) if refitted else p.test
        for name, pair in (("val", trainer.val), ("test", _preprocessed(test, added))):
            with trainer.precision.autocast():    # evaluation computes as training did
                # under DDP each rank scores its rows and the sums are all-reduced (trainer.val_shard)
                results[name] = None if pair is None else evaluate_model(
                    model, p.loss_fn, p.accuracy, *pair, batch_size=config.eval_batch_size, **trainer.val_shard)
                if pair is not None:          # NLL and ECE of a classifier (train/calibration.py)
                    results[name].update(model_calibration(model, *pair, batch_size=config.eval_batch_size,
                                                           own_loss=callable(config.loss), **trainer.val_shard))
        babysit = from_rank0(dist, lambda: state.extras.get("babysit", {}))   # the babysitter is rank 0's
        results["repairs"] = babysit.get("repairs", [])
        preprocess = trainer.controls.configured_pipeline if refitted else p.preprocess
        if added:
            steps = [*(preprocess.children() if preprocess is not None else ()),
                     *(c for m in added for c in m.children())]
            preprocess = Pipeline(*steps)
        findings = Diagnosis([Finding(**f) for f in babysit.get("findings", [])])
        if config.babysit != "off" and dist is None:    # the trained model against a baseline (babysit/baseline_check.py)
            findings.extend(end_of_run_findings(model, trainer, config, state))
        run = Run(model=model, config=_jsonable(config.to_dict()), history=state.history, run_dir=run_dir,
                  preprocess=preprocess, results=results, stopped=state.stop, splits=p.splits,
                  repairs=results["repairs"], findings=findings,
                  sample_shape=tuple(p.splits.train[0].shape[1:]), loss_fn=p.loss_fn, regression=p.accuracy is None)
        if run_dir is not None:
            run.evidence = monitor_evidence(trainer)
            preprocess_spec = [*(trainer.controls.configured_preprocess if refitted else config.preprocess),
                               *trainer.controls.preprocess]
            _write_outputs(run, p.spec, p.splits, config, p.input_shape, preprocess_spec,
                           p.transfer["report"], widened=trainer.controls.widened)
        for tracker in (c for c in trainer.hooks.callbacks if isinstance(c, Tracker)):
            tracker.finish(run)           # hyperparameters, final metrics, the run's files
        if dist is not None:
            dist.barrier()                # every rank returns once rank 0 has written the run
            trainer.leave_distributed()   # the DDP replica's hooks go now, not at interpreter exit
        return run


def end_of_run_findings(model, trainer: Trainer, config: Config, state) -> list:
    """The checks that read the trained model on the run's rows, once at the end of a babysat run:
    ``below_baseline`` (babysit/baseline_check.py) on the training rows and the validation rows
    as the model saw them, and the run's epoch curve; never raises (a failing check reports nothing)."""
    batches = trainer.batches
    try:
        found = check_baseline(model, (batches.X, batches.y), trainer.val, loss=config.loss, seed=config.seed,
                               history=state.history, stopped_early=state.stop.kind is StopKind.EARLY_STOPPING)
    except Exception as exc:      # the run's result stands without the check
        warnings.warn(f"babysitter: the end-of-run baseline check failed: {type(exc).__name__}: {exc}")
        return []
    for f in found:                 # when it was found, as the monitor dates its findings
        f.evidence.setdefault("step", state.step)
        f.evidence.setdefault("epoch", state.epoch)
    return found


@torch.no_grad()
def _preprocessed(pair, modules) -> tuple | None:
    """``(X, y)`` with ``modules`` applied to ``X`` in order (None stays None)."""
    if pair is None:
        return None
    X = pair[0]
    for module in modules:
        X = apply_module(X, module)
    return X, pair[1]


def _write_outputs(run: Run, spec, splits: Splits, config: Config, input_shape, preprocess_spec,
                   transfer_report=None, *, widened: dict | None = None) -> None:
    run_dir = run.run_dir
    atomic_save_model(run.model, run_dir / "model.safetensors")
    info = {"spec": spec, "class": type(run.model).__name__,
            "input_shape": list(input_shape),
            "sample_shape": list(run.sample_shape),
            "num_outputs": num_outputs(splits, config.loss), "num_classes": splits.num_classes,
            "regression": run.regression, "preprocess": preprocess_spec or None}
    if widened:                       # entry layers a repair widened for its refitted rows (Controls.widen_entry)
        info["widened"] = widened
    if run.preprocess is not None:
        atomic_save_model(run.preprocess, run_dir / "preprocess.safetensors")
    atomic_write_json(info, run_dir / "model.json")
    atomic_write_json(_finite(run.results), run_dir / "results.json")
    if transfer_report is not None:
        atomic_write_json(transfer_report.to_dict(), run_dir / "transfer.json")
    if config.babysit != "off":
        atomic_write_json(_finite({"findings": [f.to_dict() for f in run.findings.findings],
                                   "repairs": run.repairs, **run.evidence}), run_dir / "babysit.json")
    if config.report:
        from trainwell.report.html import write_report   # lazily: matplotlib is slow to import
        write_report(run_dir)


def monitor_evidence(trainer: Trainer, *, max_samples: int = EVIDENCE_SAMPLES,
                     max_activations: int = EVIDENCE_ACTIVATIONS) -> dict:
    """The babysitter's sampled series for the report (evenly thinned to bounded sizes)."""
    monitor = next((c for c in trainer.hooks.callbacks if isinstance(c, Monitor)), None)
    if monitor is None:
        return {}

    def thin(items, most):
        if len(items) <= most:
            return list(items)
        return [items[round(i * (len(items) - 1) / (most - 1))] for i in range(most)]

    samples = [{k: s.get(k) for k in ("step", "epoch", "loss", "lr", "grad_norm", "update_ratio")}
               for s in thin(monitor.samples, max_samples)]
    return {"samples": samples, "activations": thin(monitor.activations, max_activations)}


def _finite(obj):
    """JSON has no NaN: non-finite floats become strings ("nan", "inf")."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj
