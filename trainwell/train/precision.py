"""How the step computes: mixed precision, channels-last memory, torch.compile, cuDNN and TF32.

``Precision`` is the one object the trainer asks about the numeric format of a step:

    amp = Precision("bf16", device)
    with amp.autocast():                  # forward and loss (and evaluation) in bf16
        loss = loss_fn(model(x), y)
    amp.backward(loss)                    # fp16: scaler.scale(loss).backward()
    amp.unscale(optimizer)                # fp16: p.grad is the true gradient from here on
    clip_grad_norm_(...)                  # hooks see the unscaled gradient
    amp.step(optimizer)                   # fp16: scaler.step (skips on inf/NaN gradients)
    amp.update()                          # fp16: scaler.update; amp.skipped says if it skipped

``precision = "fp32"`` makes every call a no-op (no autocast, no scaler). ``"bf16"`` autocasts
without a scaler: bfloat16 has float32's exponent range, so gradients do not underflow.
``"fp16"`` autocasts and scales the loss with a ``torch.amp.GradScaler`` so small gradients
survive float16's range (Micikevicius et al. 2018, "Mixed precision training", loss scaling;
PyTorch AMP docs, "Automatic Mixed Precision"). The parameters, the optimizer state and the
gradients stay float32 in every mode; only autocast's op list runs in 16 bits.

The other settings are per-run switches with process-global effects, set for the length of a
fit by ``backend_settings`` and put back after it: ``torch.backends.cudnn.benchmark`` (cuDNN times
its convolution algorithms for the first shapes it sees; worth it for fixed shapes) and
``torch.set_float32_matmul_precision`` (``"high"``/``"medium"`` let float32 matmuls use TF32 /
bf16 tensor cores on Ampere and later GPUs). ``channels_last`` and ``compile`` change the model
(and the inputs) once, before training. Source for all of them: the PyTorch performance tuning
guide and AMP docs; docs/speed.md.
"""
from __future__ import annotations

import contextlib
import warnings

import torch
from torch import nn

from trainwell.errors import ConfigError

# Autocast's 16-bit type of each precision (None: float32, no autocast).
PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
CHANNELS_LAST = ("auto", True, False)
COMPILE_MODES = (False, True, "max-autotune")
MATMUL_PRECISIONS = ("highest", "high", "medium")   # torch.set_float32_matmul_precision's names


class Precision:
    """Autocast and loss scaling for one run (see the module docstring for the call order).

    ``init_scale``: the GradScaler's first scale under fp16 (PyTorch's default 2**16).
    """

    def __init__(self, precision: str = "fp32", device="cpu", *, init_scale: float = 2.0 ** 16):
        if precision not in PRECISIONS:
            raise ConfigError(f"precision = {precision!r}: allowed: {', '.join(PRECISIONS)}")
        self.name = precision
        self.device = torch.device(device)
        self.dtype = PRECISIONS[precision]
        self.scaler = (torch.amp.GradScaler(self.device.type, init_scale=init_scale)
                       if precision == "fp16" else None)
        # fp16: whether the last update() skipped its step (a 0-d device bool, never synced here)
        self.skipped: torch.Tensor | None = None
        self._one = None

    @property
    def scaled(self) -> bool:
        """Whether losses are scaled (fp16): gradients must be unscaled before they are read."""
        return self.scaler is not None

    def autocast(self):
        """The context the forward pass and the loss run in (a no-op context under fp32)."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor) -> None:
        """``loss.backward()``, of the scaled loss under fp16."""
        (loss if self.scaler is None else self.scaler.scale(loss)).backward()

    def unscale(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale in place (fp16; once per step)."""
        if self.scaler is not None:
            self.scaler.unscale_(optimizer)

    def step(self, optimizer) -> None:
        """``optimizer.step()``; under fp16 through the scaler, which skips it on inf/NaN."""
        if self.scaler is None:
            optimizer.step()
        else:
            self.scaler.step(optimizer)

    def update(self) -> None:
        """After the step (fp16): adjust the scale and record in ``skipped`` whether the step was
        skipped. The scale only falls on an inf/NaN gradient (backoff), so skipped is "the scale
        fell": read on the device, no host sync."""
        if self.scaler is None:
            return
        if self._one is None:
            self._one = torch.ones((), device=self.device)
        before = self.scaler.scale(self._one)
        self.scaler.update()
        self.skipped = self.scaler.scale(self._one) < before

    def state_dict(self) -> dict:
        """The scaler's state (JSON numbers: scale, growth tracker and factors); {} without one."""
        if self.scaler is None:
            return {}
        return {k: float(v) if isinstance(v, float) else v for k, v in self.scaler.state_dict().items()}

    def load_state_dict(self, saved: dict) -> None:
        if self.scaler is not None and saved:
            self.scaler.load_state_dict(dict(saved))


def check_precision(value, device: torch.device) -> None:
    """ConfigError for a precision this device cannot run (fp16/bf16 autocast needs the device
    type's autocast support; torch 2.13 supports both on CPU and CUDA)."""
    if value not in PRECISIONS:
        raise ConfigError(f"precision = {value!r}: allowed: {', '.join(PRECISIONS)}")
    if PRECISIONS[value] is not None and not torch.amp.is_autocast_available(device.type):
        raise ConfigError(f"precision = {value!r}: torch has no autocast for device {device.type!r}; "
                          f"use precision = \"fp32\"")


def check_scaler_fits(precision: Precision, optimizer) -> None:
    """fp16 scales the loss; a closure optimizer that reads the loss and gradients itself
    (L-BFGS, Newton, BFGS, Nesterov look-ahead) would see the scaled values: only the SAM
    family (a ``scaler`` attribute) unscales them. ConfigError for the others."""
    needs_closure = isinstance(optimizer, torch.optim.LBFGS) or getattr(optimizer, "requires_closure", False)
    if precision.scaled and needs_closure and not hasattr(optimizer, "scaler"):
        raise ConfigError(f"precision = \"fp16\" with optimizer {type(optimizer).__name__}: it reads the loss "
                          "and gradients itself, and fp16's loss scaling would change them; use "
                          "precision = \"bf16\" (no scaling) or \"fp32\"")


def attach_scaler(precision: Precision, optimizer) -> None:
    """Give an optimizer that unscales on its own (the SAM family's ``scaler``) the run's scaler."""
    if precision.scaled and hasattr(optimizer, "scaler") and getattr(optimizer, "requires_closure", False):
        optimizer.scaler = precision.scaler


# ------------------------------------------------------------------ channels-last
def is_conv_net(model: nn.Module) -> bool:
    """Whether ``model`` has a 2-d convolution (channels-last helps only those)."""
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


def use_channels_last(setting, model: nn.Module, device: torch.device) -> bool:
    """``channels_last``: True/False as given; ``"auto"``: on for conv nets on CUDA, where cuDNN's
    NHWC kernels are faster with tensor cores; off on the CPU."""
    if setting not in CHANNELS_LAST:
        raise ConfigError(f"channels_last = {setting!r}: allowed: \"auto\", true, false")
    if setting == "auto":
        return device.type == "cuda" and is_conv_net(model)
    return bool(setting)


def to_channels_last(X: torch.Tensor) -> torch.Tensor:
    """A 4-d batch (N, C, H, W) in channels-last memory order (same values); others unchanged."""
    return X.contiguous(memory_format=torch.channels_last) if X.ndim == 4 else X


# ------------------------------------------------------------------ torch.compile
# Optimizers that differentiate the closure's loss twice (Newton's Hessian: create_graph=True):
# torch.compile's AOTAutograd has no double backward, so their runs stay eager.
EAGER_ONLY_OPTIMIZERS = ("Newton",)


def compile_model(model: nn.Module, mode, optimizer=None) -> str | None:
    """Compile ``model``'s forward in place (``nn.Module.compile``: the state_dict keys stay the
    same, so checkpoints and saved models are unchanged). Returns a note when it stays eager."""
    if mode not in COMPILE_MODES:
        raise ConfigError(f"compile = {mode!r}: allowed: false, true, \"max-autotune\"")
    if mode is False:
        return None
    if optimizer is not None and type(optimizer).__name__ in EAGER_ONLY_OPTIMIZERS:
        return (f"compile = {mode!r}: optimizer {type(optimizer).__name__} differentiates the loss twice "
                "(its Hessian), which torch.compile cannot; the model runs eager")
    model.compile(mode="max-autotune" if mode == "max-autotune" else None)
    return None


def note(message: str | None) -> None:
    """One line for the log (a warning, shown once per message)."""
    if message:
        warnings.warn(message, stacklevel=3)


# ------------------------------------------------------------------ process-wide switches
@contextlib.contextmanager
def backend_settings(*, cudnn_benchmark: bool = True, matmul_precision: str = "highest"):
    """Set cuDNN's autotuner and the float32 matmul precision for the block, then restore them."""
    if matmul_precision not in MATMUL_PRECISIONS:
        raise ConfigError(f"matmul_precision = {matmul_precision!r}: allowed: {', '.join(MATMUL_PRECISIONS)}")
    before = torch.backends.cudnn.benchmark, torch.get_float32_matmul_precision()
    torch.backends.cudnn.benchmark = bool(cudnn_benchmark)
    torch.set_float32_matmul_precision(matmul_precision)
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = before[0]
        torch.set_float32_matmul_precision(before[1])
