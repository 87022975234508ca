"""Every option of a run, in one dataclass: defaults, types, checks, docs and sources.

The same names are ``fit()`` keywords, TOML keys and ``--set`` keys. Each field's metadata holds
its ``Option`` (``OPTIONS`` maps every name to it): the validator, ``trainwell options`` and
``docs/options.md`` read it. A table option (``data``, ``model``, ``preprocess``, ``augment``,
``init``, ``schedule``) is checked by the validator of its registry, which lives beside it.
"""
from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from torch.optim import Optimizer

from trainwell.data.augment import check_augment_spec
from trainwell.data.sources import check_data_table
from trainwell.data.streaming import check_stream
from trainwell.data.transforms import check_preprocess_spec
from trainwell.errors import ConfigError
from trainwell.nn.init import check_init_spec
from trainwell.nn.losses import LOSSES
from trainwell.nn.models import check_model_table
from trainwell.nn.transfer import prefix_map_problem, prefixes_problem
from trainwell.optim.factory import check_optimizer_name
from trainwell.optim.schedules import check_schedule_spec
from trainwell.options import (FLOAT32_MAX, MAX_TORCH_SEED, Option, at_least_one, check_option, did_you_mean,
                               must_be, non_negative, one_of, positive, seed_range, unit_interval)
from trainwell.train.average import check_average_spec
from trainwell.train.callbacks import HOOKS
from trainwell.train.distributed import SAM_SYNC_MODES
from trainwell.train.loggers import check_log
from trainwell.train.precision import CHANNELS_LAST, COMPILE_MODES, MATMUL_PRECISIONS, PRECISIONS
from trainwell.train.rundir import atomic_write_text

MONITORS = ("val_loss", "val_acc", "train_loss", "train_acc")
BABYSIT_MODES = ("watch", "repair", "off")
CHECKPOINT_AT = ("epochs", "end")   # when a run with a run_dir writes checkpoints (docs/checkpoints.md)


def opt(default, doc: str, *, types=None, check=None, source: str = "", python_only: bool = False,
        in_files: bool = True):
    """A config field and its ``Option``: ``types`` accepted (the default's type when not given),
    ``check(value) -> error text or None`` (a table's validator may also raise a ConfigError that
    names a key inside the table). ``python_only``: Python may also pass an object, which is not
    checked; ``in_files=False``: only Python may set it (a config file or ``--set`` cannot)."""
    option = Option(type(default) if types is None else types, default, doc, source=source, check=check)
    meta = dict(option=option, python_only=python_only, in_files=in_files)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


def _optimizer_name(name):
    """``check_optimizer_name`` raises for an unknown name; what it returns is no error text."""
    check_optimizer_name(name)
    return None


SHORT_REPR = 60   # characters: a longer value (a callback object's repr) is named by its type


def _short(value) -> str:
    shown = repr(value)
    return f"a {type(value).__name__}" if "\n" in shown or len(shown) > SHORT_REPR else shown


def check_callbacks(callbacks) -> list:
    """A list of callback objects, each defining at least one of the trainer's hooks."""
    if not isinstance(callbacks, (list, tuple)):
        raise ConfigError(f"callbacks = {_short(callbacks)}: must be a list of callback objects, "
                          f"e.g. callbacks=[MyCallback()]")
    for i, item in enumerate(callbacks):
        if isinstance(item, type):
            raise ConfigError(f"callbacks[{i}] = {item.__name__}: a class; pass an instance, "
                              f"e.g. {item.__name__}()")
        if not any(callable(getattr(item, hook, None)) for hook in HOOKS):
            raise ConfigError(f"callbacks[{i}] = {_short(item)}: not a callback: it defines none of "
                              f"the hooks {', '.join(HOOKS)} (subclass trainwell.Callback)")
    return list(callbacks)


CONTINUED_KEYS = ("epoch", "step", "total_steps")     # one entry of `continued` (train/extend.py)


def check_continued(entries) -> str | None:
    """Config check of ``continued``: tables {epoch, step, total_steps} of non-negative integers
    (total_steps >= 1), in increasing step order."""
    steps = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) != set(CONTINUED_KEYS):
            return f"entry {i} must be a table with exactly the keys {', '.join(CONTINUED_KEYS)}"
        if not all(isinstance(entry[k], int) and not isinstance(entry[k], bool) and entry[k] >= 0
                   for k in CONTINUED_KEYS) or entry["total_steps"] < 1:
            return f"entry {i}: epoch, step and total_steps must be integers >= 0 (total_steps >= 1)"
        steps.append(entry["step"])
    if steps != sorted(steps):
        return "entries must be in increasing step order"
    return None


def _betas(v):
    if len(v) != 2 or not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in v):
        return "must be two numbers in [0, 1), e.g. [0.9, 0.999]"
    return None


@dataclass
class Config:
    # --- data and model (tables; from the CLI/TOML, or when fit() gets names instead of objects)
    data: dict = opt({"source": "digits"}, "data source and its options, e.g. {source = \"digits\"}",
                     check=check_data_table, source="docs/data.md")
    model: dict = opt({"type": "auto"},
                      "model builder and its options when no nn.Module is given; \"auto\" is a "
                      "batch-normed CNN for images, an MLP (256, 256) otherwise",
                      check=check_model_table, source="docs/models.md; docs/defaults.md")
    preprocess: list = opt([], "preprocessing fitted on the training split, applied to every split "
                           "and saved with the run", check=check_preprocess_spec,
                           source="notes 000/002/004; docs/preprocessing.md")
    augment: list = opt([], "batched augmentations applied to training batches",
                        check=check_augment_spec, source="docs/augmentation.md")
    init: str | dict | None = opt(None, "weight initialization scheme (name or {name=..., ...}); None "
                                  "keeps the model's own", types=(str, dict, type(None)),
                                  check=check_init_spec, source="docs/init.md")
    # --- streaming (docs/data.md)
    stream: bool | str = opt("auto", "keep the inputs on the host (a memory-mapped .npy file, or RAM) "
                             "and copy each batch to the device: true, false, or \"auto\" (stream when "
                             "they would take more than half the device's free memory)",
                             types=(bool, str), check=check_stream,
                             source="trainwell convention; docs/data.md (streaming)")
    # --- transfer learning (docs/transfer.md)
    transfer_from: str | Path | None = opt(
        None, "load weights by name from a run directory or .safetensors file (shapes that differ, "
        "e.g. a new head, are skipped and reported)", types=(str, Path, type(None)),
        source="notes 001/002 (transfer learning)")
    transfer_prefix_map: dict = opt({}, "rename source weights: {\"old_prefix.\" = \"new_prefix.\"}",
                                    check=prefix_map_problem, source="trainwell convention; docs/transfer.md")
    transfer_exclude: list = opt([], "model prefixes never loaded (e.g. a head with the same shape)",
                                 check=prefixes_problem, source="trainwell convention; docs/transfer.md")
    transfer_strict: bool = opt(False, "fail unless every weight matches by name and shape",
                                source="trainwell convention; docs/transfer.md")
    freeze: list = opt([], "prefixes of parameters to freeze, or [\"body\"] for all but the head; "
                       "batch-norm statistics in a frozen part stay fixed",
                       check=prefixes_problem,
                       source="notes 001/002: small data, similar task: train only the head")
    unfreeze_at: int | None = opt(None, "epoch after which the frozen part is unfrozen (None: never)",
                                  types=(int, type(None)), check=non_negative,
                                  source="notes 002 (transfer: train the new layers first, then "
                                         "fine-tune the complete network); docs/transfer.md")
    unfreeze_lr_mult: float = opt(0.1, "lr multiplier of the unfrozen part", types=float, check=positive,
                                  source="notes 002: fine-tune with ~1/10 of the original lr")
    # --- loss (from Python also a function (output, target) -> loss)
    loss: str | Callable = opt("cross_entropy", "training loss", check=one_of(LOSSES), python_only=True,
                               source="notes 003 (design choices: output units and losses)")
    label_smoothing: float = opt(0.0, "cross-entropy target (1-s)·onehot + s/C", types=float,
                                 check=unit_interval, source="Szegedy et al. 2016; notes 003")
    huber_delta: float = opt(1.0, "Huber loss threshold", types=float, check=positive,
                             source="Huber 1964 (δ = 1 as torch.nn.HuberLoss); docs/losses.md")
    hinge_margin: float = opt(1.0, "multiclass hinge margin Δ", types=float, check=positive,
                              source="notes 003 (SVM loss)")
    # --- optimizer (from Python also an optimizer, its class, or a callable params -> optimizer)
    optimizer: str | Optimizer | Callable = opt(
        "sgd", "optimizer name (sgd, adam, sam, ... or any torch.optim class name)",
        check=_optimizer_name, python_only=True, source="notes 001/003/004; docs/optimization.md")
    lr: float = opt(0.05, "base learning rate ε₀", types=float, check=positive,
                    source="tuned on digits (docs/defaults.md)")
    momentum: float = opt(0.9, "momentum α (sgd, rmsprop)", types=float, check=unit_interval,
                          source="notes 001: α = 0.9 is common")
    nesterov: bool | None = opt(None, "Nesterov momentum (sgd); None: on when momentum > 0 "
                                "(true with momentum = 0 is an error)", types=(bool, type(None)),
                                source="notes 001/003")
    betas: list = opt([0.9, 0.999], "Adam β₁, β₂", types=(list, tuple), check=_betas,
                      source="Kingma & Ba 2015; notes 004")
    eps: float | None = opt(None, "ε added to denominators (adam, rmsprop, adagrad, ...); None: the "
                            "optimizer's own (1e-8; the notes' 1e-7 for rmsprop_notes / adagrad_notes)",
                            types=(float, type(None)), check=positive, source="notes 003/004")
    bias_correction: bool = opt(True, "Adam bias correction of m and v", source="notes 004")
    weight_decay: float = opt(5e-4, "decoupled weight decay λ: w ← w − lr·λ·w", types=float,
                              check=non_negative, source="Loshchilov & Hutter 2019; notes 004 (AdamW)")
    l2: float = opt(0.0, "coupled L2 penalty added to the loss", types=float, check=non_negative,
                    source="notes 000/001")
    l1: float = opt(0.0, "L1 penalty λ·Σ|w| added to the loss", types=float, check=non_negative,
                    source="notes 000")
    max_norm: float | None = opt(None, "max-norm constraint: after each step, rescale every unit's "
                                 "incoming weight vector (a weight row, a conv filter) to L2 norm <= c",
                                 types=(float, type(None)), check=positive,
                                 source="notes 004 (constraints on the weights' squared values); "
                                        "Srivastava et al. 2014: c = 3-4")
    no_decay_bias_norm: bool = opt(True, "no weight decay / penalty on biases and norm parameters",
                                   source="timm's parameter-group rule")
    lr_mults: dict = opt({}, "lr multiplier per parameter-name prefix, e.g. {\"0\" = 0.1}",
                         source="notes 001 (transfer learning: fine-tune at 1/10 the lr)")
    optimizer_options: dict = opt({}, "extra keyword arguments for the optimizer class",
                                  source="trainwell convention; docs/optimization.md")
    # --- schedule (from Python also a function step -> multiplier)
    schedule: str | dict | Callable = opt("cosine", "lr schedule name or {name = ..., options}",
                                          types=(str, dict), check=check_schedule_spec, python_only=True,
                                          source="notes 000/001/003; docs/schedules.md")
    warmup_steps: int = opt(0, "linear warmup steps before the schedule", check=non_negative,
                            source="Goyal et al. 2017")
    # --- gradients
    clip_value: float | None = opt(None, "clip each gradient entry to [-c, c]", types=(float, type(None)),
                                   check=positive, source="notes 001")
    clip_norm: float | None = opt(None, "rescale gradients so their global L2 norm is <= c",
                                  types=(float, type(None)), check=positive,
                                  source="Pascanu et al. 2013; notes 001")
    grad_noise: float = opt(0.0, "annealed gradient noise η: σ_t² = η/(1+t)^γ", types=float,
                            check=non_negative, source="Neelakantan et al. 2015; notes 001")
    grad_noise_gamma: float = opt(0.55, "gradient noise decay γ", types=float, check=non_negative,
                                  source="Neelakantan et al. 2015")
    # --- loop
    epochs: int = opt(40, "maximum epochs", check=at_least_one,
                      source="notes 003 (an epoch: one pass over the shuffled data); docs/defaults.md")
    max_steps: int | None = opt(None, "maximum optimizer steps (None: no limit)", types=(int, type(None)),
                                check=at_least_one,
                                source="trainwell convention; docs/training.md (stopping)")
    batch_size: int = opt(64, "mini-batch size; >= the number of samples gives full-batch GD",
                          check=at_least_one, source="notes 000 (batch vs stochastic GD)")
    shuffle: bool = opt(True, "reshuffle every epoch (False keeps the given order)",
                        source="notes 003 (practical SGD: shuffle, then consecutive batches)")
    replacement: bool = opt(False, "sample batches with replacement instead of shuffling",
                            source="notes 003 (canonical SGD samples with replacement)")
    drop_last: bool = opt(False, "drop the last incomplete batch",
                          source="trainwell convention; docs/training.md (batches)")
    eval_batch_size: int = opt(2048, "batch size for evaluation", check=at_least_one,
                               source="trainwell convention; docs/training.md (batches)")
    seed: int = opt(0, "seed for initialization, batch order, dropout and augmentation",
                    check=seed_range(MAX_TORCH_SEED, "torch's generators take 64-bit seeds"),
                    source="trainwell convention; docs/training.md (reproducibility)")
    device: str = opt("auto", "\"auto\" (cuda when present), \"cpu\", \"cuda\", \"cuda:1\", ...",
                      source="trainwell convention; docs/training.md (batches)")
    # --- speed (docs/speed.md)
    precision: str = opt("fp32", "arithmetic of the forward pass and loss: \"fp32\", \"bf16\" (autocast) or "
                         "\"fp16\" (autocast with a GradScaler); weights and optimizer stay float32",
                         check=one_of(PRECISIONS),
                         source="PyTorch AMP docs; Micikevicius et al. 2018 (loss scaling); docs/speed.md")
    channels_last: str | bool = opt("auto", "channels-last memory for conv nets: \"auto\" (on for conv nets "
                                    "on CUDA), true, false", types=(str, bool),
                                    check=must_be(lambda v: v in CHANNELS_LAST, '"auto", true or false'),
                                    source="PyTorch channels-last tutorial; docs/speed.md")
    compile: bool | str = opt(False, "torch.compile the model: false, true, \"max-autotune\" (Newton's "
                              "double backward stays eager, with a note)", types=(bool, str),
                              check=must_be(lambda v: v in COMPILE_MODES, 'false, true or "max-autotune"'),
                              source="PyTorch torch.compile docs; docs/speed.md")
    cudnn_benchmark: bool = opt(True, "let cuDNN time its convolution algorithms (fast for fixed shapes; "
                                "not bit-reproducible across runs on a GPU)",
                                source="PyTorch performance tuning guide; docs/speed.md")
    matmul_precision: str = opt("highest", "float32 matmuls: \"highest\" (true fp32), \"high\" (TF32 on "
                                "Ampere+ GPUs), \"medium\" (bf16 passes)", check=one_of(MATMUL_PRECISIONS),
                                source="torch.set_float32_matmul_precision; docs/speed.md")
    # --- stopping
    patience: int | None = opt(None, "early stopping: epochs without improvement of `monitor` (None: off)",
                               types=(int, type(None)), check=at_least_one,
                               source="notes 003 (early stopping)")
    monitor: str = opt("val_loss", "metric for early stopping, best weights and plateau schedules",
                       check=one_of(MONITORS),
                       source="notes 003 (early stopping: check the validation error); docs/training.md")
    min_delta: float = opt(0.0, "smallest change of `monitor` that counts as an improvement",
                           types=float, check=non_negative,
                           source="trainwell convention; docs/training.md (stopping)")
    restore_best: bool = opt(True, "with early stopping, end with the best weights seen",
                             source="notes 003/004 (early stopping); docs/training.md")
    divergence_factor: float = opt(3.0, "abort when the loss exceeds this × its initial value",
                                   types=float, check=must_be(lambda v: v > 1, "> 1"),
                                   source="notes 004: cost > 3× original cost → break out early")
    check_every: int = opt(50, "steps between the divergence checks (one host sync each)",
                           check=at_least_one,
                           source="trainwell convention (STYLE 10: few host syncs); docs/training.md")
    # --- averaging (docs/ensembles.md)
    average: dict | None = opt(None, "average the weights during the run: {method = \"ema\", decay = 0.999} "
                               "or {method = \"swa\", start = 0.75}; validation, best weights and the saved "
                               "model use the average", types=(dict, type(None)), check=check_average_spec,
                               source="notes 004 (parameter averaging); Izmailov et al. 2018; docs/ensembles.md")
    # --- babysitter
    babysit: str = opt("watch", "the babysitter: \"watch\" monitors and reports findings, \"repair\" "
                       "also rolls back and fixes what it finds, \"off\"", check=one_of(BABYSIT_MODES),
                       source="notes 004 (babysitting the learning process); docs/babysitter.md")
    # --- distributed (docs/distributed.md)
    sync_batchnorm: bool = opt(False, "with several ranks (torchrun, --nproc): batch norm statistics over "
                               "the global batch (SyncBatchNorm; CUDA only) instead of each rank's",
                               source="PyTorch SyncBatchNorm; docs/distributed.md")
    sam_sync: str = opt("global", "with several ranks, the SAM family's perturbation: \"global\" uses the "
                        "all-reduced gradient (= one process with the global batch), \"local\" each "
                        "rank's own (m-sharpness, m = the per-rank batch)", check=one_of(SAM_SYNC_MODES),
                        source="Foret et al. 2021 (m-sharpness); docs/distributed.md")
    # --- run directory
    run_dir: str | Path | None = opt(None, "directory for config, metrics, checkpoints and report "
                                     "(None: none)", types=(str, Path, type(None)),
                                     source="trainwell convention; docs/training.md (runs)")
    resume: bool = opt(False, "continue the run in run_dir from its newest good checkpoint",
                       source="trainwell convention; docs/checkpoints.md")
    overwrite: bool = opt(False, "start over in a run_dir that holds a run: the old run's files are "
                          "removed first (other files stay)",
                          source="trainwell convention; docs/training.md (runs)")
    extend: bool = opt(False, "with resume: continue a run that ended for more epochs (a larger epochs "
                       "or max_steps); the schedule restarts where it ended (CLI: --continue)",
                       source="trainwell convention; docs/checkpoints.md (continuing)")
    continued: list = opt([], "where this run was continued for more epochs: [{epoch, step, "
                          "total_steps}], written by extend; the schedule restarts at each",
                          check=check_continued, source="trainwell convention; docs/checkpoints.md")
    checkpoint_every: int | None = opt(None, "steps between checkpoints (None: every epoch)",
                                       types=(int, type(None)), check=at_least_one,
                                       source="trainwell convention; docs/checkpoints.md")
    keep_checkpoints: int = opt(2, "checkpoints kept on disk", check=at_least_one,
                                source="trainwell convention (2 leaves a fallback); docs/checkpoints.md")
    checkpoint_at: str = opt("epochs", "when checkpoints are written: \"epochs\" (every epoch end, and "
                             "every checkpoint_every steps), \"end\" (once, when the run ends: a run "
                             "killed before that starts over on resume)", check=one_of(CHECKPOINT_AT),
                             source="trainwell convention; docs/checkpoints.md")
    report: bool = opt(True, "write report.html at the end when there is a run_dir",
                       source="notes 004 (monitor and visualize the loss and accuracy); docs/report.md")
    progress: bool = opt(True, "show progress: a bar with live loss and accuracy on a terminal, one "
                         "line per epoch when the output is a file or pipe",
                         source="trainwell convention; docs/training.md")
    # --- experiment tracking (docs/tracking.md)
    log: list = opt([], "experiment trackers: \"tensorboard\", \"mlflow\" (optional packages: pip "
                    "install \"trainwell[tensorboard]\" / \"trainwell[mlflow]\"); once per epoch",
                    check=check_log, source="trainwell convention; docs/tracking.md")
    log_dir: str | None = opt(None, "TensorBoard's event files (None: RUN_DIR/tensorboard)",
                              types=(str, type(None)),
                              source="TensorBoard (SummaryWriter log_dir); docs/tracking.md")
    mlflow_uri: str | None = opt(None, "MLflow tracking URI (None: MLflow's default, the "
                                 "MLFLOW_TRACKING_URI environment variable first)",
                                 types=(str, type(None)), source="MLflow docs; docs/tracking.md")
    mlflow_experiment: str = opt("trainwell", "MLflow experiment the run is logged under",
                                 source="trainwell convention; docs/tracking.md")
    mlflow_parent: str | None = opt(None, "MLflow run id this run is logged under as a child run "
                                    "(trainwell search and ensemble set it for their trials and members)",
                                    types=(str, type(None)),
                                    source="MLflow docs (nested runs: the mlflow.parentRunId tag); "
                                           "docs/tracking.md")
    callbacks: list = opt([], "callback objects (Python only: a config file cannot set them)",
                          types=(list, tuple), in_files=False,
                          source="trainwell convention; docs/training.md (callbacks)")

    def __post_init__(self):
        if self.nesterov is None:          # the default: Nesterov whenever there is momentum
            self.nesterov = self.momentum > 0

    def to_dict(self) -> dict:
        """JSON/TOML-friendly view: callables shown by their name."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "callbacks":
                v = [type(c).__name__ for c in v]
            elif isinstance(v, Path):
                v = str(v)
            elif callable(v) and not isinstance(v, (dict, list)):
                v = getattr(v, "__name__", type(v).__name__)
            out[f.name] = v
        return out


FIELDS = {f.name: f for f in dataclasses.fields(Config)}
OPTIONS = {name: f.metadata["option"] for name, f in FIELDS.items()}


def check_value(key: str, value):
    """Validate one option; return the (normalized) value or raise ConfigError naming the key.

    Its own loop rather than ``options.check_options``: an unknown key points to ``trainwell
    options`` instead of listing all names, Python objects (a loss function, an optimizer, a
    schedule) pass unchecked, and callbacks are checked as objects."""
    if key not in OPTIONS:
        raise ConfigError(f"unknown option {key!r}{did_you_mean(key, OPTIONS)}; "
                          f"see `trainwell options` for the list")
    if key == "callbacks":
        return check_callbacks(value)
    if FIELDS[key].metadata["python_only"] and not isinstance(value, (str, int, float, list, dict)):
        return value
    return check_option(key, value, OPTIONS[key])


def make_config(options: dict) -> Config:
    """Validate every key/value and return a Config (defaults for the rest)."""
    checked = {key: check_value(key, value) for key, value in options.items()}
    if checked.get("resume") and not checked.get("run_dir"):
        raise ConfigError("resume = true needs run_dir: the run directory to continue")
    if checked.get("overwrite") and checked.get("resume"):
        raise ConfigError("overwrite = true and resume = true: choose one (overwrite starts the run "
                          "over, resume continues it)")
    if checked.get("extend") and not checked.get("resume"):
        raise ConfigError("extend = true needs resume = true (and run_dir): it continues a saved run "
                          "(CLI: trainwell fit --resume RUN_DIR --continue --set epochs=...)")
    config = Config(**checked)
    # lr_mults' own values are checked with the model's names (optim/groups.py); here only that a
    # group's lr = lr × lr_mult fits in float32
    top_mult = max((m for m in config.lr_mults.values() if isinstance(m, (int, float))
                    and not isinstance(m, bool) and math.isfinite(m)), default=1.0)
    if config.lr * top_mult > FLOAT32_MAX:
        raise ConfigError(f"lr = {config.lr!r} with lr_mults up to {top_mult!r}: a group's learning "
                          f"rate lr × lr_mult = {config.lr * top_mult:.1e} is beyond float32's largest "
                          f"value {FLOAT32_MAX:.1e}, which torch holds it in; lower lr or lr_mults")
    if config.checkpoint_at == "end" and config.checkpoint_every is not None:
        raise ConfigError(f"checkpoint_every = {config.checkpoint_every} with checkpoint_at = \"end\": "
                          f"an end-only run writes no checkpoint within it; leave checkpoint_every "
                          f"unset, or use checkpoint_at = \"epochs\"")
    if checked.get("nesterov") is True and config.momentum == 0 and config.optimizer == "sgd":
        raise ConfigError("nesterov = true needs momentum > 0 (got momentum = 0.0); set momentum "
                          "(e.g. 0.9), or leave nesterov unset / false")
    return config


def check_file_options(options: dict, where: str) -> dict:
    """Reject options that only Python can set (``callbacks``) in options read from a config
    file or ``--set``; ``where`` names the source in the message."""
    for key, value in options.items():
        if key in FIELDS and not FIELDS[key].metadata["in_files"]:
            raise ConfigError(f"{where}: {key} = {_short(value)}: {key} can only be set from Python "
                              f"(trainwell.fit(..., {key}=[...])), not in a config file")
    return options


def read_toml(path) -> dict:
    """Read a TOML config file into a dict, with errors that name the file and line."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read the config ({e})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None


def parse_set(assignment: str) -> tuple[list[str], Any]:
    """``"model.widths=[128, 64]"`` -> (["model", "widths"], [128, 64]); values are TOML values,
    and anything else that does not parse as one is taken as a string (``--set optimizer=adam``);
    a value that starts as a table, a list or a quoted string must parse."""
    if "=" not in assignment:
        raise ConfigError(f"--set {assignment!r}: expected key=value, e.g. --set lr=0.01")
    key, raw = (s.strip() for s in assignment.split("=", 1))
    if not key:
        raise ConfigError(f"--set {assignment!r}: the key is empty")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError as e:
        if raw[:1] in "{[\"'":        # meant as a table, a list or a quoted string: say why it fails
            raise ConfigError(f"--set {assignment!r}: {raw!r} is not a valid TOML value ({e}); e.g. "
                              f"--set 'data={{source = \"csv\", path = \"train.csv\"}}'") from None
        value = raw
    return key.split("."), value


def apply_sets(options: dict, assignments) -> dict:
    """Apply ``--set`` overrides to a (nested) options dict, returning a new dict."""
    options = {k: (dict(v) if isinstance(v, dict) else v) for k, v in options.items()}
    for assignment in assignments:
        path, value = parse_set(assignment)
        target = options
        for part in path[:-1]:
            if part not in target:
                target[part] = {}
            if not isinstance(target[part], dict):
                raise ConfigError(f"--set {assignment!r}: {part!r} is not a table")
            target = target[part]
        target[path[-1]] = value
    return options


def write_toml(config: dict, path) -> None:
    """Write the resolved config (None values become comments: TOML has no null; Python-only
    options such as ``callbacks`` are left out: a config file cannot set them), atomically,
    never through an existing file or link (``train.rundir.atomic_write_text``)."""
    config = {k: v for k, v in config.items() if k not in FIELDS or FIELDS[k].metadata["in_files"]}

    def clean(d):
        return {k: clean(v) if isinstance(v, dict) else v for k, v in d.items() if v is not None}

    nulls = sorted(k for k, v in config.items() if v is None)
    text = tomli_w.dumps(clean(config))
    if nulls:
        text = "# unset (None): " + ", ".join(nulls) + "\n" + text
    atomic_write_text(path, text)


def toml_value(value) -> str:
    """``value`` as an inline TOML value on one line: ``[256, 256]``, ``{source = "digits"}``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).removeprefix("v = ").rstrip("\n")


def toml_key(key: str) -> str:
    """A bare key when TOML allows one, else a quoted key (``"0.weight"``)."""
    bare = key and all(c.isalnum() or c in "_-" for c in key) and key.isascii()
    return key if bare else toml_value(key)


def options_text() -> str:
    """Every option with its default, as TOML a config file can start from (``trainwell options``):
    each default preceded by a comment with its doc and source; an option without a default
    (None) or that only Python can set is shown commented out. Read back with ``tomllib``, the
    text gives every default that a config file can hold."""
    lines = ["# trainwell options: every option with its default (docs/options.md has the table).",
             "# Copy what you change into your config; an option shown commented out has no default."]
    for name, o in OPTIONS.items():
        source = f" [{o.source}]" if o.source else ""
        python = " (Python: also an object)" if FIELDS[name].metadata["python_only"] else ""
        lines.append(f"\n# {o.doc}{source}{python}")
        if not FIELDS[name].metadata["in_files"]:
            lines.append(f"# {name}: Python only (trainwell.fit(..., {name}=...)), not in a config file")
        elif o.default is None:
            lines.append(f"# {name}: unset by default (None)")
        else:
            lines.append(f"{name} = {toml_value(o.default)}")
    return "\n".join(lines)


def options_markdown() -> str:
    """The options table of docs/options.md, generated from the registry (a test keeps it current)."""
    rows = ["| option | default | meaning | source |", "| --- | --- | --- | --- |"]
    for name, o in OPTIONS.items():
        doc = o.doc.replace("|", "\\|")
        rows.append(f"| `{name}` | `{o.default!r}` | {doc} | {o.source} |")
    return "\n".join(rows)
