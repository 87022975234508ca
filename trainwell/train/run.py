"""A finished (or loaded) run: the trained model, its history, and evaluate/predict."""
from __future__ import annotations

import contextlib
import copy
import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_model, save, save_model

from trainwell.data.sources import Splits, as_pair
from trainwell.ensembles.combine import is_ensemble_dir, load_ensemble
from trainwell.ensembles.mc_dropout import mc_predict
from trainwell.errors import DataError
from trainwell.options import did_you_mean
from trainwell.nn.losses import LOSSES, REGRESSION_LOSSES, accuracy_fn, class_probabilities, make_loss
from trainwell.train.metrics import evaluate_model, read_metrics
from trainwell.train.precision import Precision
from trainwell.train.parts import build_model_from_info, build_preprocess_from_info
from trainwell.train.checkpoint import IN_MEMORY_BYTES
from trainwell.train.controls import widen_linear
from trainwell.train.rundir import atomic_path, atomic_write_bytes
from trainwell.train.state import Stop, StopKind

SPLIT_NAMES = ("train", "val", "test")             # the Splits fields evaluate("name") reads
PREDICT_OUTPUTS = ("auto", "class", "raw", "proba")

@dataclass
class Run:
    """What ``fit`` returns and ``load_run`` gives back.

    ``preprocess`` (fitted on the training split) is applied by ``evaluate`` and ``predict``
    before the model, so raw inputs go in.
    """

    model: torch.nn.Module
    config: dict
    history: list[dict] = field(default_factory=list)
    run_dir: Path | None = None
    preprocess: torch.nn.Module | None = None
    results: dict = field(default_factory=dict)
    stopped: Stop | None = None       # why training ended (kind and message)
    repairs: list = field(default_factory=list)
    findings: object = None           # the babysitter's Diagnosis (None when babysit = "off")
    splits: Splits | None = field(default=None, repr=False)
    sample_shape: tuple | None = None     # shape of one raw input sample (before preprocessing)
    evidence: dict = field(default_factory=dict, repr=False)  # the monitor's sampled series
    loss_fn: object = field(default=None, repr=False)   # the training loss (fit's run; not saved)
    regression: bool | None = None    # targets are values, not classes (None: judged by the loss name)

    @property
    def device(self) -> torch.device:
        p = next(self.model.parameters(), None)
        return p.device if p is not None else torch.device("cpu")

    def _inputs(self, X) -> torch.Tensor:
        X = torch.as_tensor(X).to(self.device)
        if self.sample_shape is not None and tuple(X.shape[1:]) != tuple(self.sample_shape):
            if X.ndim >= 1 and X[0].numel() == math.prod(self.sample_shape):
                X = X.reshape(-1, *self.sample_shape)   # e.g. flat rows for 1x8x8 images
            else:
                raise DataError(f"inputs have samples of shape {tuple(X.shape[1:])}; this run was "
                                f"trained on samples of shape {tuple(self.sample_shape)}")
        X = X.float() if not torch.is_floating_point(X) or X.dtype == torch.float64 else X
        if self.preprocess is not None:
            X = self.preprocess.to(self.device)(X)
        return X

    def evaluate(self, data, *, batch_size: int | None = None, loss=None) -> dict:
        """Loss and accuracy on ``data``: an ``(X, y)`` pair or a split name ("val", "test"),
        in batches of ``batch_size`` (default: the run's ``eval_batch_size``). ``loss``: the loss
        to report (default: the run's; a loaded run trained with your own loss function needs it
        passed again, since a function is not saved with the run)."""
        if isinstance(data, str):
            held = [name for name in SPLIT_NAMES if self.splits is not None and getattr(self.splits, name) is not None]
            if data not in held:
                raise DataError(f"evaluate({data!r}): this run has no {data!r} split"
                                f"{did_you_mean(data, held)}; its splits: {', '.join(held) or '(none)'}; "
                                f"or pass (X, y)")
            pair = getattr(self.splits, data)
            X, y = pair
        else:
            X, y = as_pair(*data, name="evaluate data")
        X, y = self._inputs(X), y.to(self.device)
        own = loss is None
        if own:
            loss = self.loss_fn if self.loss_fn is not None else self._named_loss()
        elif isinstance(loss, str):
            loss = make_loss(loss)
        name = self.config["loss"]
        counts = accuracy_fn(name if own and name in LOSSES else loss, y)   # a function: by the targets' dtype
        with self.autocast():
            return evaluate_model(self.model, loss, counts, X, y, batch_size=batch_size or self.config["eval_batch_size"])

    def _named_loss(self):
        """The run's loss rebuilt from its config name; a user's function cannot be."""
        c = self.config
        if c["loss"] not in LOSSES:
            raise DataError(f"evaluate: this run was trained with the loss function {c['loss']!r}, which "
                            f"is not saved with a run; pass it again: run.evaluate(data, loss=fn)")
        return make_loss(c["loss"], label_smoothing=c["label_smoothing"],
                         huber_delta=c["huber_delta"], hinge_margin=c["hinge_margin"])

    def autocast(self):
        """The autocast context of the run's ``precision`` (evaluation computes as training did)."""
        return Precision(self.config.get("precision", "fp32"), self.device).autocast()

    @torch.no_grad()
    def predict(self, X, *, output: str = "auto", batch_size: int | None = None,
                mc_dropout: int | None = None):
        """Predictions for raw inputs ``X``: class ids for classification losses
        (``output="auto"`` or ``"class"``), the raw outputs with ``output="raw"``,
        probabilities with ``output="proba"``; in batches of ``batch_size`` (default: the
        run's ``eval_batch_size``). ``mc_dropout=T``: an ``MCPrediction`` (mean and spread of
        T passes with only dropout active; of probabilities, or of raw outputs for regression
        and ``output="raw"``; ensembles/mc_dropout.py)."""
        if output not in PREDICT_OUTPUTS:
            raise DataError(f"predict(output={output!r}): unknown{did_you_mean(output, PREDICT_OUTPUTS)}; "
                            f"allowed: {', '.join(PREDICT_OUTPUTS)}")
        X = self._inputs(X)
        batch_size = batch_size or self.config["eval_batch_size"]
        regression = self.regression if self.regression is not None else self.config["loss"] in REGRESSION_LOSSES
        if mc_dropout is not None:
            return mc_predict(self.model, X, passes=mc_dropout, batch_size=batch_size,
                              probabilities=None if output == "raw" or regression else
                              functools.partial(class_probabilities, own_loss=self.own_loss))
        was_training = self.model.training
        self.model.eval()
        with self.autocast():
            outs = torch.cat([self.model(X[i:i + batch_size]) for i in range(0, X.shape[0], batch_size)])
        outs = outs.float() if outs.dtype in (torch.bfloat16, torch.float16) else outs
        self.model.train(was_training)
        regression = self.regression if self.regression is not None else self.config["loss"] in REGRESSION_LOSSES
        if output == "raw" or (output == "auto" and regression):
            return outs
        probs = class_probabilities(outs, own_loss=self.own_loss)
        if outs.ndim == 1 or outs.shape[-1] == 1:        # one score a row: P(class 1), in its shape
            return probs[:, 1].reshape(outs.shape) if output == "proba" else (probs[:, 1] > 0.5).long()
        return probs if output == "proba" else outs.argmax(dim=-1)

    @property
    def own_loss(self) -> bool:
        """Trained with a user's own loss function, whose model may output probabilities
        (``losses.class_probabilities``): fit's run holds the function; a loaded run knows only
        its name, which is the user's when it is none of ``LOSSES``."""
        if self.loss_fn is not None:
            return all(self.loss_fn is not f for f in LOSSES.values())
        return self.config["loss"] not in LOSSES


def atomic_save_model(model: torch.nn.Module, path: Path) -> None:
    """Weights to safetensors, written atomically (train/rundir.py), as safetensors' ``save_model``
    writes them. A state of distinct tensors up to ``IN_MEMORY_BYTES`` is serialized in memory
    (``safetensors.torch.save``: the same bytes) and written through the temp file's own
    descriptor: ``save_model`` writes a file by name, and safetensors writes its own temp file
    and renames it over ours, a second create and rename, ~0.1-0.7 ms more a file (BENCHMARKS.md,
    "Per-trial cost, eighth pass"). Tensors that share storage (tied weights) and larger states
    still go through ``save_model``: it keeps one name of each shared group, as ``load_model``
    expects, and writes without a second copy in memory."""
    state = model.state_dict()
    if _distinct_storages(state) and sum(t.nbytes for t in state.values()) <= IN_MEMORY_BYTES:
        atomic_write_bytes(path, save({k: v.contiguous() for k, v in state.items()}))
        return
    with atomic_path(path) as temp:
        save_model(model, str(temp))


def _distinct_storages(state: dict) -> bool:
    """No two tensors of ``state`` on one storage (what ``safetensors.torch.save`` refuses)."""
    storages = {(t.device, t.untyped_storage().data_ptr()) for t in state.values()}
    return len(storages) == len(state)


def read_json_object(path: Path, what: str, keys=()) -> dict:
    """The JSON object in ``path`` (``what`` it holds, for the message), which must hold ``keys``;
    a one-line DataError when it is missing, unreadable, not valid JSON or not such an object."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: missing ({what}); is this a finished trainwell run directory?") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read it ({e.strerror})") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text; the file is corrupted ({what})") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: truncated or not valid JSON ({e.msg} at line {e.lineno}, "
                        f"column {e.colno}); the file is corrupted ({what})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{path}: expected a JSON object {{...}} ({what}), got {type(obj).__name__}")
    missing = [k for k in keys if k not in obj]
    if missing:
        raise DataError(f"{path}: lacks {', '.join(map(repr, missing))} ({what}); the file is "
                        f"corrupted or from another program")
    return obj


def _load_weights(module: torch.nn.Module, path: Path, what: str) -> None:
    """Loads safetensors weights into ``module``; a one-line DataError naming the file when it
    is missing, unreadable, not safetensors, or holds weights of another shape."""
    if not path.is_file():
        raise DataError(f"{path}: missing ({what}); is this a finished trainwell run directory?")
    with _safetensors_errors(path, "the model"):
        load_model(module, str(path), device="cpu")


@contextlib.contextmanager
def _safetensors_errors(path: Path, owner: str):
    """Turns the errors of reading a safetensors file into one DataError line naming it."""
    try:
        yield
    except SafetensorError as e:
        raise DataError(f"{path}: not a readable safetensors file ({e}); the file is corrupted") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read it ({e.strerror})") from None
    except RuntimeError as e:
        raise DataError(f"{path}: weights do not fit {owner}: {e}") from None


def _widen_as_saved(model: torch.nn.Module, widened: dict, info_path) -> None:
    """The entry layers a repair widened for refitted rows (``model.json``'s ``widened``: {layer name:
    input columns}, ``Controls.widen_entry``) given those widths in ``model``; their weights are the
    run's, loaded next. ``DataError`` naming the layer where ``model`` has no such ``nn.Linear``."""
    for name, width in widened.items():
        try:
            layer = model.get_submodule(name)
        except AttributeError:
            raise DataError(f"{info_path}: widened = {{{name!r}: {width}}}: the model has no layer {name!r} "
                            f"(pass the model the run trained)") from None
        if not isinstance(layer, torch.nn.Linear):
            raise DataError(f"{info_path}: widened = {{{name!r}: {width}}}: the model's {name!r} is a "
                            f"{type(layer).__name__}, not an nn.Linear (pass the model the run trained)")
        if layer.in_features != width:
            widen_linear(model, name, width, seed=0)


def load_run(run_dir, *, model: torch.nn.Module | None = None) -> Run:
    """Give back a finished run: its model (built from the saved spec, or the ``model`` you pass
    for a run that trained your own nn.Module), fitted preprocessing, config and history."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        problem = "is a file" if run_dir.exists() else "does not exist"
        raise DataError(f"{run_dir}: {problem}; pass a trainwell run directory")
    if is_ensemble_dir(run_dir):        # an ensemble: its members are runs (ensembles/combine.py)
        return _load_ensemble_dir(run_dir, model)
    info_path = run_dir / "model.json"
    info = read_json_object(info_path, "the model's description", keys=("spec",))
    config = read_json_object(run_dir / "config.json", "the run's resolved options",
                              keys=("loss", "eval_batch_size"))
    if model is None:
        try:
            model = build_model_from_info(info, run_dir)
        except (TypeError, KeyError, IndexError) as e:
            raise DataError(f"{info_path}: its model description cannot be built "
                            f"({type(e).__name__}: {e}); the file is corrupted") from None
    _widen_as_saved(model, info.get("widened") or {}, info_path)
    _load_weights(model, run_dir / "model.safetensors", "the trained weights")
    preprocess = _load_preprocess(info, run_dir)
    history = read_metrics(run_dir) if (run_dir / "metrics.jsonl").exists() else []
    results_path = run_dir / "results.json"
    results = read_json_object(results_path, "the run's results") if results_path.exists() else {}
    shape = info.get("sample_shape")
    return Run(model=model, config=config, history=history, run_dir=run_dir, preprocess=preprocess,
               results=results, stopped=_stop_of(results), repairs=results.get("repairs", []),
               sample_shape=tuple(shape) if shape is not None else None, regression=info.get("regression"))


def _load_ensemble_dir(run_dir: Path, model: torch.nn.Module | None):
    """An ensemble directory; each member is loaded with ``load_run`` (a copy of ``model`` each)."""
    config = read_json_object(run_dir / "config.json", "the ensemble's options",
                              keys=("loss", "eval_batch_size"))
    results_path = run_dir / "results.json"
    results = read_json_object(results_path, "the ensemble's results") if results_path.exists() else {}
    return load_ensemble(run_dir, lambda path: load_run(path, model=copy.deepcopy(model)), config, results, [])


def _load_preprocess(info: dict, run_dir: Path) -> torch.nn.Module | None:
    """The run's fitted preprocessing; a one-line DataError naming the weights file when it is
    missing or corrupted."""
    path = run_dir / "preprocess.safetensors"
    if info.get("preprocess") and not path.is_file():
        raise DataError(f"{path}: missing (the fitted preprocessing); is this a finished trainwell "
                        f"run directory?")
    with _safetensors_errors(path, "the preprocessing"):
        return build_preprocess_from_info(info, run_dir)


def _stop_of(results: dict) -> Stop | None:
    """The stop reason saved in results.json (runs saved before stop kinds existed: a message)."""
    if results.get("stopped") is None:
        return None
    kind = results.get("stop_kind", StopKind.CALLBACK.value)
    if kind not in {k.value for k in StopKind}:
        raise DataError(f"results.json: stop_kind = {kind!r} is not a stop kind; allowed: "
                        f"{', '.join(k.value for k in StopKind)} (the file is corrupted)")
    return Stop(StopKind(kind), results["stopped"])
