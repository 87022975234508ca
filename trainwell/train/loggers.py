"""Experiment tracking: the run's numbers where users already look (TensorBoard, MLflow).

``log = ["tensorboard", "mlflow"]`` adds one callback per tracker. Each logs, once per epoch and
never inside a step (the loop has already synced these numbers, so no host sync is added):

- scalars: ``train/loss``, ``train/acc``, ``val/loss``, ``val/acc``, ``lr``, ``epoch_seconds``,
  at the optimizer step the epoch ended on;
- the babysitter's per-layer statistics, when it watches the run: from the epoch's latest
  sample, the gradient norm, weight norm and update/weight ratio of every layer, as histograms
  over the layers (TensorBoard) and as per-layer scalars (``update_ratio/<layer>``; both);
- at the end: the config as hyperparameters with the final metrics (val/test loss and accuracy,
  epochs, steps), and, with a run directory, the report, model and run files as artifacts (MLflow;
  TensorBoard gets the config as text).

Buffered: TensorBoard's writer queues events and its background thread writes them (flushed at
each checkpoint, so what a checkpoint covers is on disk); MLflow gets the epoch's metrics in one
request at its end (``log_batch``; ~1 ms on a local store, a round trip to a server). A resumed run
continues its own records: TensorBoard drops events logged after the checkpoint (``purge_step``),
and MLflow continues the same run (its id is kept in ``state.extras``, which is checkpointed) and
first sends the checkpointed epochs it had not received.

Both are optional dependencies, imported only when a run asks for them (each takes seconds to
import): ``pip install "trainwell[tensorboard]"`` / ``"trainwell[mlflow]"``.
"""
from __future__ import annotations

import abc
import contextlib
import importlib.util
import json
import math
import os
import time
from pathlib import Path

import numpy as np

from trainwell.errors import ConfigError
from trainwell.options import did_you_mean
from trainwell.train.callbacks import Callback

MLFLOW_BATCH = 100         # params per log_batch request (MLflow's documented limit: 100)
MLFLOW_METRICS = 1000      # metrics per log_batch request (MLflow's documented limit: 1000)
MLFLOW_PARAM_CHARS = 6000  # MLflow's limit on a param's value (mlflow.utils.validation)
EPOCH_SCALARS = {"train/loss": "train_loss", "train/acc": "train_acc", "val/loss": "val_loss",
                 "val/acc": "val_acc", "lr": "lr", "epoch_seconds": "seconds"}
LAYER_STATS = ("grad_norm", "weight_norm", "update_ratio")     # the babysitter's per-layer samples
# The files of a run directory logged as MLflow artifacts, when present (docs/training.md, Runs).
ARTIFACTS = ("report.html", "model.safetensors", "model.json", "preprocess.safetensors", "config.toml",
             "results.json", "babysit.json")


def flat_params(config: dict, prefix: str = "") -> dict:
    """The config as flat hyperparameters: nested tables become ``model.type``, lists and
    other values their JSON text; None values are left out (MLflow and TensorBoard take
    numbers, strings and booleans)."""
    out = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flat_params(value, name + "."))
        elif isinstance(value, (bool, int, float, str)):
            out[name] = value
        elif value is not None:
            out[name] = json.dumps(value, default=str)
    return out


def final_metrics(results: dict) -> dict:
    """The run's final numbers from ``results.json``'s dict: ``test/acc``, ``val/loss``, ...,
    ``epochs``, ``steps`` (finite numbers only)."""
    out = {"epochs": results.get("epochs"), "steps": results.get("steps")}
    for split in ("val", "test"):
        for key, value in (results.get(split) or {}).items():
            out[f"final/{split}_{key}"] = value
    return {k: float(v) for k, v in out.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}


def new_layer_samples(samples: list[dict], after: int) -> list[dict]:
    """The babysitter's samples taken after step ``after`` (its list is public and only grows,
    except when a rollback resets it)."""
    return [s for s in samples if s["step"] > after]


class Tracker(Callback, abc.ABC):
    """What both trackers share: epoch scalars and the babysitter's samples, gathered at each
    epoch end; ``finish(run)`` after fit has written the run. ``monitor``: the babysitter's
    Monitor (its public ``samples``), or None."""

    name = ""

    def __init__(self, *, monitor=None):
        self.monitor = monitor
        self._layers_logged = 0           # the last step whose layer statistics were logged

    def on_epoch_end(self, state):
        m = state.metrics
        scalars = {tag: float(m[key]) for tag, key in EPOCH_SCALARS.items()
                   if isinstance(m.get(key), (int, float)) and math.isfinite(m[key])}
        self.scalars(scalars, state.step)
        new = new_layer_samples(self.monitor.samples, self._layers_logged) if self.monitor is not None else []
        if new:                           # the epoch's latest sample: one set of layer statistics per epoch
            sample = new[-1]
            layers = {stat: {layer: v for layer, v in sample[stat].items()
                             if v is not None and math.isfinite(v)} for stat in LAYER_STATS}
            self.layers(layers, sample["step"])
            self._layers_logged = sample["step"]

    def on_fit_end(self, state):
        self.flush()

    # what each tracker implements
    @abc.abstractmethod
    def scalars(self, values: dict, step: int) -> None:
        """Log ``{tag: value}`` at optimizer step ``step``."""

    @abc.abstractmethod
    def layers(self, stats: dict, step: int) -> None:
        """Log ``{stat: {layer: value}}`` (LAYER_STATS) of one babysitter sample."""

    @abc.abstractmethod
    def flush(self) -> None:
        """Write what is buffered."""

    @abc.abstractmethod
    def finish(self, run) -> None:
        """After fit has written the run: hyperparameters, final metrics, artifacts; close."""


class TensorBoardLogger(Tracker):
    """TensorBoard event files in ``log_dir`` (``tensorboard --logdir RUN_DIR/tensorboard``)."""

    name = "tensorboard"

    def __init__(self, log_dir, *, monitor=None):
        super().__init__(monitor=monitor)
        self.log_dir = Path(log_dir)
        self.writer = None
        self._values: dict[int, list] = {}      # step -> the summary values of this epoch end

    def on_fit_start(self, state):
        # function-local: tensorboard is optional and slow to import (~1.5 s)
        from torch.utils.tensorboard import SummaryWriter

        # a resumed run drops what a killed one logged after its checkpoint
        try:
            self.writer = SummaryWriter(str(self.log_dir), purge_step=state.step + 1 if state.step else None)
        except OSError as e:
            raise ConfigError(f"log_dir = {str(self.log_dir)!r}: cannot write TensorBoard's event files "
                              f"there ({e.strerror})") from None
        self._layers_logged = state.step

    def on_epoch_end(self, state):
        super().on_epoch_end(state)
        self._write()

    def on_checkpoint(self, state):
        self.writer.flush()               # what the checkpoint covers is on disk before it

    def scalars(self, values, step):
        from torch.utils.tensorboard.summary import scalar   # optional, slow: see on_fit_start

        self._values.setdefault(step, []).extend(v for tag, value in values.items()
                                                 for v in scalar(tag, value).value)

    def layers(self, stats, step):
        from torch.utils.tensorboard.summary import histogram   # optional, slow: see on_fit_start

        out = self._values.setdefault(step, [])
        for stat, per_layer in stats.items():
            if per_layer:
                values = np.asarray(list(per_layer.values()), dtype=np.float64)
                out.extend(histogram(f"layers/{stat}", values, self.writer.default_bins).value)
        self.scalars({f"update_ratio/{layer}": value for layer, value in stats["update_ratio"].items()}, step)

    def _write(self):
        """The epoch end's values as one summary per step: one event for the writer's thread
        (an event per value costs a thread hand-over each, most of the time measured)."""
        from tensorboard.compat.proto.summary_pb2 import Summary   # optional: see on_fit_start

        values, self._values = self._values, {}
        for step, items in sorted(values.items()):
            self.writer.file_writer.add_summary(Summary(value=items), step)

    def flush(self):
        if self.writer is not None:
            self._write()
            self.writer.flush()

    def finish(self, run):
        self.writer.add_text("config", "```\n" + json.dumps(run.config, indent=1, default=str) + "\n```")
        self.writer.add_hparams(flat_params(run.config), final_metrics(run.results) or {"final/none": 0.0},
                                run_name="hparams")
        self.writer.close()


class MLflowLogger(Tracker):
    """An MLflow run in ``experiment`` at ``uri`` (None: MLflow's own default, the
    ``MLFLOW_TRACKING_URI`` environment variable first)."""

    name = "mlflow"

    def __init__(self, *, uri=None, experiment="trainwell", run_name=None, parent=None, monitor=None):
        super().__init__(monitor=monitor)
        self.uri, self.experiment, self.run_name, self.parent = uri, experiment, run_name, parent
        self.client = self.run_id = None
        self._buffer: list = []           # the epoch's metrics, sent at its end

    def on_fit_start(self, state):
        # function-local: mlflow is optional and slow to import (~2.5 s)
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        try:
            self.client = MlflowClient(self.uri)
            saved = state.extras.get("mlflow_run_id")
            if saved:                              # a resumed run continues its MLflow run
                self.run_id = saved
                self.client.update_run(saved, status="RUNNING")
                self._backfill(state)
                self.flush()
            else:
                tags = {PARENT_TAG: self.parent} if self.parent else None
                self.run_id = self.client.create_run(experiment_id(self.client, self.experiment),
                                                     run_name=self.run_name, tags=tags).info.run_id
                state.extras["mlflow_run_id"] = self.run_id
                self._params(flat_params(state.config.to_dict()))
        except MlflowException as e:
            where = self.uri or os.environ.get("MLFLOW_TRACKING_URI") or "MLflow's default URI"
            raise ConfigError(f"log = [\"mlflow\"]: cannot start an MLflow run at {where}: "
                              f"{str(e).splitlines()[0]}") from None
        self._layers_logged = state.step

    def _backfill(self, state):
        """Epochs of the checkpointed history that a killed run had not yet sent."""
        sent = max((m.step for m in self.client.get_metric_history(self.run_id, "train/loss")), default=-1)
        for metrics in state.history:
            if metrics["step"] > sent:
                self.scalars({tag: float(metrics[key]) for tag, key in EPOCH_SCALARS.items()
                              if isinstance(metrics.get(key), (int, float))
                              and math.isfinite(metrics[key])}, metrics["step"])

    def _params(self, params: dict):
        from mlflow.entities import Param   # optional, slow: see on_fit_start

        items = [Param(k, str(v)[:MLFLOW_PARAM_CHARS]) for k, v in params.items()]
        for i in range(0, len(items), MLFLOW_BATCH):
            self.client.log_batch(self.run_id, params=items[i:i + MLFLOW_BATCH])

    def _add(self, values: dict, step: int):
        from mlflow.entities import Metric  # optional, slow: see on_fit_start

        now = int(time.time() * 1000)
        self._buffer += [Metric(key, value, now, step) for key, value in values.items()]

    def scalars(self, values, step):
        self._add(values, step)

    def layers(self, stats, step):
        self._add({f"{stat}/{layer}": v for stat, per_layer in stats.items()
                   for layer, v in per_layer.items()}, step)

    def on_epoch_end(self, state):
        super().on_epoch_end(state)
        self.flush()                      # the epoch's metrics in one request

    def flush(self):
        """Send what is buffered, one request per MLFLOW_METRICS metrics. Synchronous: MLflow's
        background queue (``synchronous=False``) costs a second of shutdown at the run's end
        (set_terminated joins its threads), more than a local store's requests (~1 ms)."""
        metrics, self._buffer = self._buffer, []
        for i in range(0, len(metrics), MLFLOW_METRICS):
            self.client.log_batch(self.run_id, metrics=metrics[i:i + MLFLOW_METRICS])

    def finish(self, run):
        self._add(final_metrics(run.results), run.results.get("steps") or 0)
        self.flush()
        if run.run_dir is not None:
            for name in ARTIFACTS:
                if (Path(run.run_dir) / name).is_file():
                    self.client.log_artifact(self.run_id, str(Path(run.run_dir) / name))
        failed = run.stopped is not None and run.stopped.failed
        self.client.set_terminated(self.run_id, status="FAILED" if failed else "FINISHED")


# Tracker name -> the module it needs and the pip extra that installs it.
LOGGERS = {"tensorboard": ("tensorboard", "trainwell[tensorboard]"),
           "mlflow": ("mlflow", "trainwell[mlflow]")}


def check_log(names) -> str | None:
    """Config check of ``log``: known tracker names, each once, whose package is installed
    (found without importing it)."""
    for name in names:
        if not isinstance(name, str) or name not in LOGGERS:
            return f"unknown tracker {name!r}{did_you_mean(name, LOGGERS)}; allowed: {', '.join(LOGGERS)}"
    if len(set(names)) != len(names):
        return "names a tracker twice"
    for name in names:
        module, extra = LOGGERS[name]
        if importlib.util.find_spec(module) is None:
            return (f"{name!r} needs the {module} package, which is not installed: "
                    f"pip install \"{extra}\" (or pip install {module})")
    return None


def make_trackers(config, *, monitor=None) -> list[Tracker]:
    """The trackers ``config.log`` names, configured from ``config``."""
    trackers = []
    for name in config.log:
        if name == "tensorboard":
            log_dir = config.log_dir or (Path(config.run_dir) / "tensorboard" if config.run_dir else None)
            if log_dir is None:
                raise ConfigError("log = [\"tensorboard\"] needs a place for its event files: set run_dir "
                                  "(they go in RUN_DIR/tensorboard) or log_dir")
            if config.log_dir is not None and Path(log_dir).exists() and not Path(log_dir).is_dir():
                raise ConfigError(f"log_dir = {str(log_dir)!r} is a file, not a directory; TensorBoard "
                                  f"writes its event files into a directory")
            trackers.append(TensorBoardLogger(log_dir, monitor=monitor))
        else:
            run_name = Path(config.run_dir).name if config.run_dir else None
            trackers.append(MLflowLogger(uri=config.mlflow_uri, experiment=config.mlflow_experiment,
                                         run_name=run_name, parent=config.mlflow_parent, monitor=monitor))
    return trackers


PARENT_TAG = "mlflow.parentRunId"    # MLflow's tag that nests a run under another (MLflow docs)


def experiment_id(client, name: str) -> str:
    """The id of the MLflow experiment ``name``, created when missing."""
    found = client.get_experiment_by_name(name)
    return found.experiment_id if found else client.create_experiment(name)


@contextlib.contextmanager
def parent_run(options: dict, name: str):
    """For ``trainwell search`` and ``ensemble``: when ``options`` log to MLflow, an MLflow run
    named ``name`` that the trials or members are nested under; yields ``options`` with
    ``mlflow_parent`` set to it (unchanged when MLflow is not asked for). The parent run ends
    FINISHED, or FAILED when the body raised."""
    if "mlflow" not in (options.get("log") or []):
        yield options
        return
    from mlflow import MlflowClient      # function-local: mlflow is optional and slow to import
    from mlflow.exceptions import MlflowException

    try:
        client = MlflowClient(options.get("mlflow_uri"))
        run_id = client.create_run(experiment_id(client, options.get("mlflow_experiment") or "trainwell"),
                                   run_name=name).info.run_id
    except MlflowException as e:
        raise ConfigError(f"log = [\"mlflow\"]: cannot start an MLflow run at "
                          f"{options.get('mlflow_uri') or 'MLflow default URI'}: {str(e).splitlines()[0]}") from None
    status = "FAILED"
    try:
        yield {**options, "mlflow_parent": run_id}
        status = "FINISHED"
    finally:
        client.set_terminated(run_id, status=status)
