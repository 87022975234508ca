"""The parts a run is built from, each resolved once from the validated Config: device, data,
model table, initialization, transfer, optimizer, schedule, penalties, gradient hooks, batches,
checkpointer and the babysitter's callbacks. ``fit`` and ``doctor`` assemble them.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors.torch import load_model
from torch import nn

from trainwell.babysit.monitor import Monitor
from trainwell.babysit.repair import Repairer
from trainwell.babysit.plateau_mode import PlateauWatch
from trainwell.babysit.reset_watch import ResetWatch, in_run_hooks
from trainwell.babysit.stop_watch import StopWatch
from trainwell.babysit.task_shapes import check_single_output
from trainwell.config import Config
from trainwell.data.batches import Batches
from trainwell.data.sources import Splits, as_pair, check_paths, check_source_options, load as load_source
from trainwell.data.splits import check_finite, class_count
from trainwell.data.streaming import HostRows, StreamBatches, host_pair, is_host_input, load_npy_rows
from trainwell.data.transforms import make_preprocess
from trainwell.errors import ConfigError, DataError
from trainwell.nn.activations import activation_gain, split_spec
from trainwell.nn.init import INIT_OPTIONS, init as init_weights
from trainwell.nn.losses import CLASS_ID_LOSSES, target_problem
from trainwell.nn.models import build_model
from trainwell.nn.transfer import all_but_head, freeze, load_weights
from trainwell.optim.factory import build_optimizer, optimizer_options
from trainwell.optim.penalties import GradientNoise, clip_gradients
from trainwell.optim.schedules import make_schedule, negative_at, plateau_in
from trainwell.train.extend import continued_schedule
from trainwell.train.metrics import monitor_mode

# LSUV rescales each layer from its output variance on one mini-batch (Mishkin & Matas 2015);
# trainwell's batch is this many training inputs (docs/init.md).
LSUV_BATCH = 512
# The babysitter in repair mode samples on fixed steps, this many times an epoch, so a seeded
# run repairs the same way every time (watch mode calibrates its own period).
REPAIR_SAMPLES_PER_EPOCH = 4
# Gradient noise draws from its own generator, seeded with the run's seed + 2 (the augmentation
# generator takes seed + 1: train/loop.py), so neither stream moves the other.
GRAD_NOISE_SEED_OFFSET = 2


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"device = {name!r}: not a device; allowed: auto, cpu, cuda, cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device = {name!r}: CUDA is not available on this machine; use \"auto\" or \"cpu\"")
    return device


def data_table(name: str, table: dict) -> dict:
    """The data table of a run given the source name ``name``: that name, with ``table``'s options
    when the table is for the same source or names none (a table of another source holds that
    source's options). What the run records and what a rebuild from its config (resume,
    geometry) loads."""
    options = dict(table)
    configured = options.pop("source", None)
    if configured is not None and configured != name:
        options = {}
    return {"source": name, **options}


def resolve_data(train, val, test, config: Config) -> Splits:
    """Data as a Splits: a source name (uses config.data options), a Splits, or (X, y) pairs.

    The validation and test splits are checked here, before any work (a bad value there would
    surface only when they are evaluated): inputs and float targets finite, class ids in
    0..num_classes-1. Integer labels without a count (``(X, y)`` pairs) get the largest id + 1
    over all splits, as a source counts them. The training split is checked against the model
    by ``check_model_fits_data`` (``doctor`` diagnoses it instead)."""
    if isinstance(train, Splits):
        splits = train
    elif isinstance(train, str) or train is None:
        options = data_table(train, config.data) if train else dict(config.data)
        name = options.pop("source", None)
        if not name:
            raise ConfigError("data.source is missing: name a data source, e.g. source = \"digits\"")
        # The split has its own seed (data.seed, default 0): the training seed does not move it.
        if name == "npy" and config.stream is not False:    # kept memory-mapped (data/streaming.py)
            splits = load_npy_rows(**check_paths(check_source_options(name, options)))
        else:
            splits = load_source(name, **options)
    elif isinstance(train, (tuple, list)) and len(train) == 2:
        host = config.stream is not False and is_host_input(train[0])
        X, y = host_pair(*train) if host else as_pair(*train, name="train")
        splits = Splits((X, y), input_shape=tuple(X.shape[1:]))
    else:
        raise DataError("train data must be (X, y), a Splits, or a source name such as \"digits\" "
                        f"(got {type(train).__name__})")
    if val is not None:
        splits.val = as_pair(*val, name="val")
    if test is not None:
        splits.test = as_pair(*test, name="test")
    pairs = {name: pair for name, pair in (("train", splits.train), ("val", splits.val),
                                           ("test", splits.test)) if pair is not None}
    for name, (X, y) in pairs.items():
        if name == "train":
            continue
        if tuple(X.shape[1:]) != tuple(splits.train[0].shape[1:]):
            raise DataError(f"{name}: samples have shape {tuple(X.shape[1:])} but training samples "
                            f"have {tuple(splits.train[0].shape[1:])}")
        check_finite(X, f"{name}: X")
        check_finite(y, f"{name}: y")
    y = splits.train[1]
    if torch.is_floating_point(y):
        return splits
    labels = {name: pair[1] for name, pair in pairs.items()}
    if splits.num_classes is None:
        splits.num_classes = class_count(labels, name="")
    elif 0 <= int(y.min()) and int(y.max()) < splits.num_classes:
        # training labels out of range are reported against the model (or diagnosed by doctor),
        # and held-out labels shifted with them are the same fault
        class_count({k: v for k, v in labels.items() if k != "train"}, name="", num_classes=splits.num_classes)
    return splits


def num_outputs(splits: Splits, loss) -> int:
    y = splits.train[1]
    if splits.num_classes is not None and loss in ("cross_entropy", "hinge", "kl_div"):
        return splits.num_classes
    if loss == "bce":
        return 1 if y.ndim == 1 else y.shape[1]
    if not torch.is_floating_point(y) and splits.num_classes is not None:
        return splits.num_classes
    return 1 if y.ndim == 1 else y.shape[1]


def resolve_model_spec(spec: dict, input_shape, splits: Splits) -> dict:
    """Turn ``{"type": "auto", ...}`` into a concrete builder table: a batch-normed CNN when the
    samples are images (C, H, W) or the source says they are (``meta["image_shape"]``), else an
    MLP with two hidden layers of 256. Other keys in the table are passed through."""
    spec = dict(spec)
    if spec.get("type", "auto") != "auto":
        return spec
    spec.pop("type", None)
    image_shape = splits.meta.get("image_shape")
    if len(input_shape) == 3 or (image_shape and math.prod(image_shape) == math.prod(input_shape)):
        auto = {"type": "cnn", "norm": "batch"}
        if len(input_shape) != 3:
            auto["image_shape"] = list(image_shape)
    else:
        auto = {"type": "mlp", "widths": [256, 256]}
    return {**auto, **spec}


def build_model_from_info(info: dict, run_dir=None) -> nn.Module:
    if info.get("spec") is None:
        raise DataError(f"{run_dir}: this run trained your own nn.Module ({info.get('class')}); "
                        f"pass it to load_run(run_dir, model=...) to load its weights")
    return build_model(info["spec"], info["input_shape"], info["num_outputs"])


def build_preprocess_from_info(info: dict, run_dir):
    """The fitted preprocessing saved with a run (None when the run had none)."""
    if not info.get("preprocess"):
        return None
    module = make_preprocess(info["preprocess"])
    load_model(module, str(Path(run_dir) / "preprocess.safetensors"), device="cpu", strict=True)
    return module


def init_activation(model: nn.Module, name, options: dict) -> dict:
    """The activation options a scheme that takes one (kaiming, geometric) should use for a model
    trainwell built (``model.builder_spec``), when the init table sets none of activation, alpha
    or gain: ``{"activation": "tanh"}``, plus ``gain`` for an activation table with options (e.g.
    ``{name = "leaky_relu", alpha = 0.2}``). Empty for other schemes and for the user's own modules."""
    spec = getattr(model, "builder_spec", None)
    if (not isinstance(spec, dict) or "activation" not in INIT_OPTIONS.get(name, {})
            or {"activation", "alpha", "gain"} & set(options)):
        return {}
    activation, act_options = split_spec(spec.get("activation", "relu"), {}, "model.activation")
    filled = {"activation": activation}
    if act_options:
        filled["gain"] = activation_gain(activation, **act_options)
    return filled


def initialize(model: nn.Module, scheme, X: torch.Tensor, *, seed: int) -> None:
    """Apply an init scheme; data-dependent ones (LSUV) get a batch of (preprocessed) training
    inputs drawn with the run's seed. Schemes with a gain per activation use the model's own
    activation when trainwell built the model and the scheme does not name one (``init_activation``):
    ``init = "kaiming_normal"`` with ``model.activation = "tanh"`` gets tanh's gain 5/3, not ReLU's √2."""
    options = dict(scheme) if isinstance(scheme, dict) else {"name": scheme}
    name = options.pop("name", None)
    options.update(init_activation(model, name, options))
    if "data" in INIT_OPTIONS.get(name, {}):
        g = torch.Generator().manual_seed(seed)
        idx = torch.randperm(X.shape[0], generator=g)[:LSUV_BATCH].to(X.device)
        options["data"] = X.index_select(0, idx)
    init_weights(model, name, **options)


def build_optimizer_for(config: Config, model, *, total_steps: int | None = None):
    """The run's optimizer from ``config.optimizer`` and its options, through the one resolver
    (``build_optimizer``: param groups, decoupled decay; the SAM family also gets the module, for
    batch-norm statistics, and the run's length). An optimizer or a ``params -> optimizer``
    callable of the user's keeps its own settings."""
    return build_optimizer(config.optimizer, model, total_steps=total_steps, **optimizer_options(config))


def build_schedule_for(config: Config, total_steps: int, steps_per_epoch: int):
    """The run's lr schedule over ``total_steps``; a continued run's restarts where it was
    continued (``config.continued``, train/extend.py)."""
    return continued_schedule(config.continued, total_steps,
                              lambda length: _schedule(config, length, steps_per_epoch))


def _schedule(config: Config, total_steps: int, steps_per_epoch: int):
    spec = config.schedule
    if callable(spec) and not isinstance(spec, (str, dict)):
        bad = None if hasattr(spec, "observe") else negative_at(spec, total_steps)   # a plateau's follows the metric
        if bad is not None:
            raise ConfigError(f"schedule: the function gives {bad[1]:g} at step {bad[0]} of the run's {total_steps}; "
                              "a schedule gives a finite multiplier >= 0 of the configured lr (a negative lr "
                              "climbs the loss)")
        return spec
    if not isinstance(spec, (str, Mapping)):
        raise ConfigError(_not_a_schedule(spec, total_steps, steps_per_epoch))
    if isinstance(spec, str):
        name, options = spec, {}
    else:
        options = dict(spec)
        name = options.pop("name", None)
        if name is None:
            raise ConfigError("schedule: a table needs name = \"...\" (e.g. name = \"step\")")
    if name == "plateau" and "mode" not in options:
        options["mode"] = monitor_mode(config.monitor)  # follow `monitor`
    return make_schedule(name, total_steps=total_steps, steps_per_epoch=steps_per_epoch,
                         warmup_steps=config.warmup_steps, **options)


def _not_a_schedule(spec, total_steps: int, steps_per_epoch: int) -> str:
    """Why ``spec`` is no schedule, in the user's terms. A torch scheduler (``LambdaLR``, ``StepLR``,
    ...) steps its own optimizer when the user's loop calls ``step()``, per epoch or per batch as that
    loop chooses; ``fit`` sets the lr itself at every batch, so the scheduler's rule comes as a function
    of the step, written for the step (a rule of the epoch called per batch decays 45x too soon at 45
    batches an epoch)."""
    said = f"schedule = {type(spec).__name__} object: must be a schedule's name, a table or a function step -> multiplier"
    if not (callable(getattr(spec, "step", None)) and hasattr(spec, "optimizer")):
        return said
    return (f"{said}; a torch scheduler steps its optimizer in your own loop, while fit sets the lr at each of "
            f"the run's {total_steps} steps ({steps_per_epoch} an epoch): pass its rule as a function of the "
            f"step (a LambdaLR's lr_lambda of the epoch e as lambda step: rule(step // {steps_per_epoch})), or a "
            "named schedule (StepLR(step_size, gamma) is {name = \"step\", every_epochs = step_size, "
            "factor = 1 / gamma}; ReduceLROnPlateau is \"plateau\")")


def build_grad_hooks(config: Config, model: nn.Module) -> list:
    """Gradient noise then clipping, applied after every backward (clipping last: it bounds
    what the optimizer sees). Parameters without a gradient (frozen) are skipped."""
    params = list(model.parameters())
    hooks = []
    if config.grad_noise:
        noise = GradientNoise(eta=config.grad_noise, gamma=config.grad_noise_gamma,
                              seed=config.seed + GRAD_NOISE_SEED_OFFSET)
        hooks.append(_NoiseHook(noise, params))
    if config.clip_value is not None or config.clip_norm is not None:
        # read from the run's config at each step: a repair may turn the configured clip_norm off
        # (train/controls.py set_clip_norm(configured=True))
        hooks.append(lambda state: clip_gradients([p for p in params if p.grad is not None],
                                                  value=state.config.clip_value, norm=state.config.clip_norm))
    return hooks


class _NoiseHook:
    """Adds annealed noise at the trainer's step count; its generator is checkpointed. Its eta is
    read from the run's config at each step: a repair may lower it or turn it off
    (train/controls.py set_regularization(grad_noise=...)); a run built without noise gets none."""

    def __init__(self, noise, params):
        self.noise, self.params = noise, params

    def __call__(self, state):
        self.noise.eta = float(state.config.grad_noise)
        self.noise(self.params, step=state.step)

    def state_dict(self):
        return self.noise.state_dict()

    def load_state_dict(self, state):
        self.noise.load_state_dict(state)


def apply_transfer(config: Config, model: nn.Module) -> dict:
    """Load weights from another run and freeze parts, as configured (after init, before the
    optimizer is built: frozen parameters stay out of its groups until Unfreeze adds them)."""
    report = None
    if config.transfer_from is not None and not config.resume:
        if isinstance(config.transfer_from, (str, Path)) and not Path(config.transfer_from).exists():
            raise DataError(f"transfer_from = {str(config.transfer_from)!r}: no such run directory "
                            f"or .safetensors file")
        report = load_weights(model, config.transfer_from, strict=config.transfer_strict,
                              prefix_map=config.transfer_prefix_map or None,
                              exclude=tuple(config.transfer_exclude))
    prefixes = list(config.freeze)
    if prefixes == ["body"]:
        prefixes = all_but_head(model)
    frozen = freeze(model, prefixes) if prefixes else []
    return {"report": report, "frozen": prefixes if frozen else []}


@torch.no_grad()
def check_model_fits_data(model: nn.Module, loss_fn, train_pair, loss_name, *, val=None, test=None) -> None:
    """One forward and loss on two training samples (eval mode: no statistics change), so a
    shape or label mismatch is reported in words before any work, not as a traceback mid-run:
    the training inputs and targets must be finite and the targets suit the loss
    (``target_problem``), and the class ids of every split given (``val``, ``test``: pairs or
    None) must be below the model's number of outputs."""
    X, y = train_pair
    was_training = model.training
    model.eval()
    try:
        try:
            out = model(X[:2])
        except (RuntimeError, ValueError, IndexError) as e:
            # fit trains in float32 (docs/data.md): a model cast by .double() meets float32 rows
            cast = ("; fit gives the model float32 inputs and its parameters are float64: drop the "
                    ".double() (or call model.float())" if torch.is_floating_point(X) and X.dtype != torch.float64
                    and any(q.dtype == torch.float64 for q in model.parameters()) else "")
            raise DataError(f"the model does not accept the training inputs: samples have shape "
                            f"{tuple(X.shape[1:])} ({type(e).__name__}: {str(e).splitlines()[0]}){cast}") from None
        check_single_output(out)
        check_finite(X, "train: X")
        check_finite(y, "train: y")
        problem = target_problem(loss_name, y, out.shape[1] if out.ndim == 2 else 1)
        if problem:
            raise DataError(f"train: {problem}")
        if (not torch.is_floating_point(y) and isinstance(loss_name, str) and loss_name in CLASS_ID_LOSSES
                and out.ndim == 2):
            tops = []
            for split, pair in (("train", train_pair), ("val", val), ("test", test)):
                if pair is None:
                    continue
                tops.append(int(pair[1].max()))
                if tops[-1] >= out.shape[1]:
                    raise DataError(f"{split}: labels go up to {tops[-1]} but the model has {out.shape[1]} "
                                    f"outputs; {loss_name} needs one output per class (0..{tops[-1]})")
            # your own model wider than the classes (one trainwell builds has one output per class
            # of the data, some of which a split may lack); stacklevel: the caller of the no_grad wrapper
            if max(tops) + 1 < out.shape[1] and getattr(model, "builder_spec", None) is None:
                warnings.warn(f"the model has {out.shape[1]} outputs but the labels are classes "
                              f"0..{max(tops)}: outputs {max(tops) + 1}..{out.shape[1] - 1} are never a "
                              f"target; give the last layer {max(tops) + 1} outputs", stacklevel=3)
        try:
            loss_fn(out, y[:2])
        except (RuntimeError, ValueError, IndexError) as e:
            raise DataError(f"loss = {loss_name!r} does not fit the model's outputs {tuple(out.shape)} "
                            f"and targets {tuple(y[:2].shape)} of dtype {y.dtype} "
                            f"({type(e).__name__}: {str(e).splitlines()[0]})") from None
    finally:
        model.train(was_training)


def make_batches(config: Config, train_pair, *, rank: int = 0, world: int = 1) -> Batches | StreamBatches:
    """In-memory ``Batches``, or ``StreamBatches`` when the inputs are streamed (``HostRows``);
    ``rank`` of ``world`` takes its shard of each global step."""
    kind = StreamBatches if isinstance(train_pair[0], HostRows) else Batches
    batches = kind(*train_pair, batch_size=config.batch_size, shuffle=config.shuffle,
                   replacement=config.replacement, drop_last=config.drop_last, seed=config.seed,
                   rank=rank, world=world)
    if len(batches) == 0:
        raise ConfigError(f"batch_size = {config.batch_size} with drop_last = true leaves no batch "
                          f"from {train_pair[0].shape[0]} samples")
    return batches


def _plateau_named(spec) -> bool:
    """Whether the ``schedule`` option is a plateau schedule (its name, or the object itself)."""
    if isinstance(spec, dict):
        return spec.get("name") == "plateau"
    return spec == "plateau" or plateau_in(spec) is not None


def babysit_callbacks(config: Config, steps_per_epoch: int) -> list:
    """The babysitter's callbacks for ``babysit = "watch" | "repair" | "off"``. Watching samples
    at a period calibrated to stay under 2 % of step time; repairing samples on fixed steps
    (``REPAIR_SAMPLES_PER_EPOCH``)."""
    if config.babysit == "off":
        return []
    # compile: the activation probes' forward hooks would make torch.compile retrace the model
    # on every sample, so a compiled run's monitor keeps the gradient and update statistics only
    activations = {"activation_every": 0} if config.compile else {}
    # the user's callbacks that run during the run may put the weights back (reset_watch.py): watched
    # then, at one copy of the weights and one host sync an epoch; other runs pay nothing
    resets = (lambda m: [ResetWatch(m)]) if in_run_hooks(config.callbacks or []) else (lambda m: [])
    if config.babysit == "watch":
        monitor = Monitor(**activations)
        # a plateau schedule's mode against its monitor (plateau_mode.py; the repairer's settings test has it)
        plateau = [PlateauWatch(monitor)] if _plateau_named(config.schedule) else []
        return [monitor, *plateau, *resets(monitor), StopWatch(monitor)]
    monitor = Monitor(every=max(1, steps_per_epoch // REPAIR_SAMPLES_PER_EPOCH), **activations)
    return [monitor, Repairer(monitor), *resets(monitor), StopWatch(monitor)]     # StopWatch last: it updates their summary
