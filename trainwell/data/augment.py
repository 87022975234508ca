"""Batched augmentation: ``aug(x, generator) -> x`` on the training device, replayable exactly.

notes 002: "Every transformation that yields a valid image ... all these are random (within
reasonable ranges): horizontal / vertical flips, rotations and translations, noise, scaling,
cropping, color variations." There is no torchvision here, and per-sample PIL transforms would
be slow anyway: every op below works on a whole batch ``(N, C, H, W)`` with tensor operations
(gather, ``affine_grid`` + ``grid_sample``, masks), with per-sample random parameters and no
Python loop over samples (airbench's recipe).

**Replay.** Every op draws all of its randomness from the ``generator`` it is given, a fixed
number of draws per call for a given batch shape. The trainer checkpoints that generator's state,
so a resumed run sees exactly the augmented batches it would have seen. When the generator lives
on another device than ``x`` (the trainer's is a CPU generator), the op draws one seed from it and
makes its draws on ``x``'s device from that seed: no host-device copy of random tensors, still
exact replay on the same device.

**Valid images.** Ops that can leave the input's value range (interpolation fill, noise, jitter,
cutout's fill value) clamp to the range of the input batch, ``[x.min(), x.max()]`` (computed on
the device; no host sync). Shapes, device and dtype are preserved (integer images are rounded back).

    aug = make_augment([{"name": "crop", "pad": 4}, "hflip", {"name": "rotate", "degrees": 10}])
    xb = aug(xb, generator)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from trainwell.data.transforms import build_from_spec, describe, set_options
from trainwell.errors import ConfigError
from trainwell.options import Option, must_be


# ----------------------------------------------------------------------------- random draws
def _generator_for(generator: torch.Generator, device: torch.device) -> torch.Generator:
    """``generator`` itself when it lives on ``device``; else a device generator seeded from it."""
    if not isinstance(generator, torch.Generator):
        raise ConfigError(f"augmentation needs a torch.Generator (got {type(generator).__name__}); "
                          f"the trainer checkpoints it so that resumed runs replay augmentation exactly")
    if generator.device == device:
        return generator
    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device)[0])
    return torch.Generator(device=device).manual_seed(seed)


def _uniform(n: int, low: float, high: float, g: torch.Generator, device) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=g, device=device)


def _chosen(n: int, p: float, g: torch.Generator, device) -> torch.Tensor:
    """Which samples the op applies to: a Bernoulli(p) draw per sample (always drawn, for replay)."""
    return torch.rand(n, generator=g, device=device) < p


def _where(mask: torch.Tensor, new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    return torch.where(mask.view(-1, *([1] * (old.ndim - 1))), new, old)


# ----------------------------------------------------------------------------- dtypes and range
def _working(x: torch.Tensor) -> torch.Tensor:
    """A floating copy to compute in: integer images -> float32; half on CPU -> float32."""
    if not torch.is_floating_point(x):
        return x.float()
    if x.device.type == "cpu" and x.dtype in (torch.float16, torch.bfloat16):
        return x.float()
    return x


def _restore(y: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    if not torch.is_floating_point(like):
        info = torch.iinfo(like.dtype)
        return y.round().clamp(info.min, info.max).to(like.dtype)
    return y.to(like.dtype)


def _clamp_to_range(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Clamp ``y`` to ``[x.min(), x.max()]`` of the input batch (0-d device tensors: no sync)."""
    return torch.clamp(y, min=x.amin().to(y.dtype), max=x.amax().to(y.dtype))


# ----------------------------------------------------------------------------- options
def _padding(*allowed: str):
    return must_be(lambda v: v in allowed, " or ".join(repr(a) for a in allowed))


_PROBABILITY = must_be(lambda v: 0 <= v <= 1, "a probability in [0, 1]")
_STRENGTH = must_be(lambda v: 0 <= v <= 1, "a number in [0, 1]")
_P = Option(float, 1.0, "probability per sample", check=_PROBABILITY)
_AFFINE_PADDING = Option(str, "zeros", "fill outside the image: 'zeros', 'border' or 'reflection'",
                         source="torch grid_sample's padding modes",
                         check=_padding("zeros", "border", "reflection"))
_DEGREES = Option(float, 10.0, "angle drawn uniformly from [−degrees, degrees]",
                  source="notes 002 (rotations 'within reasonable ranges'): 10° keeps a 6 from becoming a 9",
                  check=must_be(lambda v: 0 <= v <= 180, "a number of degrees in [0, 180]"))
_MAX_SHIFT = Option(float, 0.1, "shift drawn uniformly from [−max_shift, max_shift] × width (height)",
                    source="0.1 ≈ ±3 px on 32×32, close to He et al. 2016's pad-4 crop",
                    check=must_be(lambda v: 0 <= v <= 1, "a fraction of the image size in [0, 1]"))
_MIN_SCALE = Option(float, 0.9, "smallest zoom factor (< 1 shrinks)",
                    source="notes 002 ('scaling'): ±10%, ~3 px across a 32-pixel object",
                    check=must_be(lambda v: v > 0, "a number > 0"))
_MAX_SCALE = Option(float, 1.1, "largest zoom factor (> 1 enlarges; at least min_scale)",
                    source="notes 002 ('scaling'): ±10%, ~3 px across a 32-pixel object")


# ----------------------------------------------------------------------------- base class
class Augmentation:
    """An op: ``name`` (registry key), ``OPTIONS`` (``{option: Option}``, the keywords of its
    constructor, which checks them with ``set_options``) and ``_apply(x, g)``. ``images = True``
    ops need ``(N, C, H, W)`` input."""

    name = ""
    OPTIONS: dict[str, Option] = {}
    images = True

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if self.images and x.ndim != 4:
            raise ConfigError(f"augment {self.name!r} needs images (N, C, H, W); got a batch of shape "
                              f"{tuple(x.shape)}. For flat features use \"noise\", or give the data "
                              f"an image shape")
        if x.shape[0] == 0:
            return x
        return self._apply(x, _generator_for(generator, x.device))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={getattr(self, k)!r}' for k in self.OPTIONS)})"


# ----------------------------------------------------------------------------- flips
class HFlip(Augmentation):
    """Mirror left-right with probability p (Krizhevsky et al. 2012; notes 002/004)."""

    name = "hflip"
    OPTIONS = {"p": _P._replace(default=0.5, source="Krizhevsky et al. 2012, airbench")}

    def __init__(self, *, p: float = 0.5):
        set_options(self, self.OPTIONS, p=p)

    def _apply(self, x, g):
        return _where(_chosen(x.shape[0], self.p, g, x.device), x.flip(-1), x)


class VFlip(Augmentation):
    """Mirror top-bottom with probability p (notes 002; only where upside-down is still valid)."""

    name = "vflip"
    OPTIONS = {"p": _P._replace(default=0.5, source="trainwell convention: as hflip")}

    def __init__(self, *, p: float = 0.5):
        set_options(self, self.OPTIONS, p=p)

    def _apply(self, x, g):
        return _where(_chosen(x.shape[0], self.p, g, x.device), x.flip(-2), x)


# ----------------------------------------------------------------------------- pad and crop
class Crop(Augmentation):
    """Pad each side by ``pad`` pixels, then take a random H×W crop per sample.

    Equivalent to an integer translation by up to ±pad pixels in each direction, filled with
    zeros (the mean after centering) or a reflection. Done with two ``gather`` calls on index
    grids: no interpolation, no per-sample loop. pad = 4 with zeros on 32×32 CIFAR images is
    He et al. 2016's setting (after Krizhevsky et al. 2012's random crops); airbench94 uses
    2 with reflection. Scale it with the image: 1 for 8×8 digits.
    """

    name = "crop"
    OPTIONS = {"pad": Option(int, 4, "pixels added on each side before cropping",
                             source="He et al. 2016: 4 for 32×32",
                             check=must_be(lambda v: v >= 0, "a whole number of pixels >= 0")),
               "padding": Option(str, "zeros", "fill of the padded border: 'zeros' or 'reflect'",
                                 source="He et al. 2016 (zeros); airbench94 (reflect)",
                                 check=_padding("zeros", "reflect")),
               "p": _P._replace(doc="probability per sample (unchosen samples keep the center crop, "
                                    "the input)")}

    def __init__(self, *, pad: int = 4, padding: str = "zeros", p: float = 1.0):
        set_options(self, self.OPTIONS, pad=pad, padding=padding, p=p)

    def _apply(self, x, g):
        N, C, H, W = x.shape
        pad = self.pad
        if self.padding == "reflect" and pad >= min(H, W):
            raise ConfigError(f"crop.pad = {pad}: reflect padding needs pad < image size ({H}×{W})")
        offsets = torch.randint(0, 2 * pad + 1, (2, N), generator=g, device=x.device)
        offsets = torch.where(_chosen(N, self.p, g, x.device), offsets, pad)
        if pad == 0:
            return x
        work = _working(x)
        padded = F.pad(work, (pad,) * 4, mode="constant" if self.padding == "zeros" else "reflect")
        rows = offsets[0][:, None] + torch.arange(H, device=x.device)          # (N, H)
        cols = offsets[1][:, None] + torch.arange(W, device=x.device)          # (N, W)
        out = padded.gather(2, rows[:, None, :, None].expand(N, C, H, W + 2 * pad))
        out = out.gather(3, cols[:, None, None, :].expand(N, C, H, W))
        return _restore(out, x)


# ----------------------------------------------------------------------------- affine family
def affine_images(x: torch.Tensor, *, angle: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor,
                  padding: str = "zeros") -> torch.Tensor:
    """Rotate by ``angle`` degrees, zoom by ``scale`` and move by ``shift`` = (dx, dy) pixels,
    per sample (tensors of shape (N,), (N,), (N, 2)), about the image center, bilinear.

    Output pixel p (centered pixel coordinates) takes the input at M (p − t), with
    M = R(−angle) / scale, so content moves by +t (dx right, dy down) and a scale > 1 zooms in.
    The map is built in pixel units and converted to ``affine_grid``'s normalized coordinates
    (align_corners=False), so non-square images rotate without shearing.
    """
    N, C, H, W = x.shape
    work = _working(x)
    a = torch.deg2rad(angle.to(work.dtype))
    cos, sin = torch.cos(a) / scale.to(work.dtype), torch.sin(a) / scale.to(work.dtype)
    dx, dy = shift[:, 0].to(work.dtype), shift[:, 1].to(work.dtype)
    # M = [[cos, sin], [−sin, cos]] (already / scale), b = −M t in pixels; in normalized
    # coordinates D⁻¹ M D and D⁻¹ b with D = diag(W/2, H/2). Python scalars only: no host->device copy.
    theta = torch.stack([
        torch.stack([cos, sin * (H / W), -(cos * dx + sin * dy) / (W / 2)], -1),
        torch.stack([-sin * (W / H), cos, -(-sin * dx + cos * dy) / (H / 2)], -1),
    ], -2)                                                                              # (N, 2, 3)
    grid = F.affine_grid(theta, [N, C, H, W], align_corners=False)
    out = F.grid_sample(work, grid, mode="bilinear", padding_mode=padding, align_corners=False)
    return _restore(_clamp_to_range(out, work), x)


class Affine(Augmentation):
    """Random rotation, zoom and translation per sample in one resampling (notes 002:
    "rotations and translations ... scaling"). One ``grid_sample`` for the whole batch."""

    name = "affine"
    OPTIONS = {"degrees": _DEGREES, "max_shift": _MAX_SHIFT, "min_scale": _MIN_SCALE,
               "max_scale": _MAX_SCALE, "padding": _AFFINE_PADDING, "p": _P}

    def __init__(self, *, degrees: float = 10.0, max_shift: float = 0.1, min_scale: float = 0.9,
                 max_scale: float = 1.1, padding: str = "zeros", p: float = 1.0):
        # Affine.OPTIONS, not self.OPTIONS: translate, rotate and scale fix the options they lack
        set_options(self, Affine.OPTIONS, degrees=degrees, max_shift=max_shift, min_scale=min_scale,
                    max_scale=max_scale, padding=padding, p=p)
        if self.max_scale < self.min_scale:
            raise ConfigError(f"{self.name}.max_scale = {self.max_scale!r}: must be a number >= "
                              f"min_scale ({self.min_scale})")

    def _apply(self, x, g):
        N, _, H, W = x.shape
        dev = x.device
        angle = _uniform(N, -self.degrees, self.degrees, g, dev)
        scale = _uniform(N, self.min_scale, self.max_scale, g, dev)
        dx = _uniform(N, -self.max_shift * W, self.max_shift * W, g, dev)
        dy = _uniform(N, -self.max_shift * H, self.max_shift * H, g, dev)
        shift = torch.stack([dx, dy], dim=1)
        chosen = _chosen(N, self.p, g, dev)
        out = affine_images(x, angle=angle, scale=scale, shift=shift, padding=self.padding)
        return _where(chosen, out, x)


class Translate(Affine):
    """Random sub-pixel shift per sample, up to ±max_shift of the width and height (bilinear).
    For whole-pixel shifts without interpolation use "crop"."""

    name = "translate"
    OPTIONS = {"max_shift": _MAX_SHIFT, "padding": _AFFINE_PADDING, "p": _P}

    def __init__(self, *, max_shift: float = 0.1, padding: str = "zeros", p: float = 1.0):
        super().__init__(degrees=0.0, max_shift=max_shift, min_scale=1.0, max_scale=1.0,
                         padding=padding, p=p)


class Rotate(Affine):
    """Random rotation per sample by an angle in [−degrees, degrees] about the image center.
    10° is small enough that digits and objects stay recognizable (notes 002: "within
    reasonable ranges"); a 6 does not become a 9."""

    name = "rotate"
    OPTIONS = {"degrees": _DEGREES, "padding": _AFFINE_PADDING, "p": _P}

    def __init__(self, *, degrees: float = 10.0, padding: str = "zeros", p: float = 1.0):
        super().__init__(degrees=degrees, max_shift=0.0, min_scale=1.0, max_scale=1.0,
                         padding=padding, p=p)


class Scale(Affine):
    """Random zoom per sample by a factor in [min_scale, max_scale] about the image center
    (notes 002: "scaling"); ±10% by default, a change of ~3 px across a 32-pixel object."""

    name = "scale"
    OPTIONS = {"min_scale": _MIN_SCALE, "max_scale": _MAX_SCALE, "padding": _AFFINE_PADDING, "p": _P}

    def __init__(self, *, min_scale: float = 0.9, max_scale: float = 1.1, padding: str = "zeros",
                 p: float = 1.0):
        super().__init__(degrees=0.0, max_shift=0.0, min_scale=min_scale, max_scale=max_scale,
                         padding=padding, p=p)


# ----------------------------------------------------------------------------- noise
class Noise(Augmentation):
    """Add Gaussian noise N(0, std²) to every input value; also for flat (N, D) features.

    notes 000: "Injecting noise in the input to a neural network can also be seen as a form of
    data augmentation"; notes 004: "Noise as a regularizer" (related to, not the same as, an L2
    penalty). ``std`` is in input units: 0.1 is 10% of a standardized feature or of a [0, 1] pixel.
    """

    name = "noise"
    images = False
    OPTIONS = {"std": Option(float, 0.1, "standard deviation of the added noise, in input units",
                             source="trainwell convention: 10% of a standardized feature or a [0, 1] pixel",
                             check=must_be(lambda v: v >= 0, "a number >= 0")),
               "clamp": Option(bool, True, "clamp to the batch's [min, max] so images stay valid "
                                           "(false for features)"),
               "p": _P}

    def __init__(self, *, std: float = 0.1, clamp: bool = True, p: float = 1.0):
        set_options(self, self.OPTIONS, std=std, clamp=clamp, p=p)

    def _apply(self, x, g):
        work = _working(x)
        noise = torch.randn(work.shape, generator=g, device=x.device, dtype=work.dtype)
        out = work + self.std * noise
        if self.clamp:
            out = _clamp_to_range(out, work)
        return _where(_chosen(x.shape[0], self.p, g, x.device), _restore(out, x), x)


# ----------------------------------------------------------------------------- color
# ITU-R BT.601 luma weights (as PIL's convert("L") and torchvision's rgb_to_grayscale).
_LUMA = (0.299, 0.587, 0.114)


def _strength(doc: str) -> Option:
    """A color strength: 0.2 changes the value range or the contrast by at most ±20%, so the image
    stays recognizable."""
    return Option(float, 0.2, doc, source="trainwell convention: ±20% keeps the image recognizable",
                  check=_STRENGTH)


def _brightness(work, amount):
    """x + δ·(max − min) of the batch: an additive shift that means the same after centering."""
    span = (work.amax() - work.amin())
    return work + amount.view(-1, 1, 1, 1) * span


def _contrast(work, factor):
    """m + f·(x − m), m the sample's mean value: f < 1 flattens, f > 1 sharpens contrast."""
    mean = work.mean(dim=(1, 2, 3), keepdim=True)
    return mean + factor.view(-1, 1, 1, 1) * (work - mean)


def _saturation(work, factor, owner):
    """gray + f·(x − gray), gray the BT.601 luma of each pixel (3-channel images only)."""
    if work.shape[1] != 3:
        raise ConfigError(f"augment {owner!r}: saturation needs 3-channel (RGB) images; got "
                          f"{work.shape[1]} channel(s) (set saturation = 0 for gray images)")
    r, g, b = _LUMA
    gray = r * work[:, 0:1] + g * work[:, 1:2] + b * work[:, 2:3]
    return gray + factor.view(-1, 1, 1, 1) * (work - gray)


class ColorJitter(Augmentation):
    """Random brightness, contrast and saturation per sample, in that order, clamped to the batch
    range (notes 002 "color variations", notes 004 "contrast", "tint" after Krizhevsky et al. 2012).

    brightness: x + δ·(max − min), δ ~ U[−b, b]; contrast: m + f·(x − m), f ~ U[1 − c, 1 + c];
    saturation: gray + f·(x − gray), f ~ U[1 − s, 1 + s]. 0.2 is a moderate strength: at most
    ±20% of the value range or of the contrast, so the image stays recognizable.
    """

    name = "color_jitter"
    OPTIONS = {"brightness": _strength("largest additive shift as a fraction of the batch's value range"),
               "contrast": _strength("largest relative change of contrast"),
               "saturation": _strength("largest relative change of saturation (3-channel images; 0 for gray)"),
               "p": _P}

    def __init__(self, *, brightness: float = 0.2, contrast: float = 0.2, saturation: float = 0.2,
                 p: float = 1.0):
        # ColorJitter.OPTIONS, not self.OPTIONS: brightness, contrast and saturation name their one
        # option `strength`
        set_options(self, ColorJitter.OPTIONS, brightness=brightness, contrast=contrast,
                    saturation=saturation, p=p)

    def _apply(self, x, g):
        N, dev = x.shape[0], x.device
        work = _working(x)
        # all draws happen whatever the options, so that replay does not depend on them
        delta = _uniform(N, -self.brightness, self.brightness, g, dev).to(work.dtype)
        contrast = _uniform(N, 1 - self.contrast, 1 + self.contrast, g, dev).to(work.dtype)
        saturation = _uniform(N, 1 - self.saturation, 1 + self.saturation, g, dev).to(work.dtype)
        chosen = _chosen(N, self.p, g, dev)
        out = work
        if self.brightness > 0:
            out = _brightness(out, delta)
        if self.contrast > 0:
            out = _contrast(out, contrast)
        if self.saturation > 0:
            out = _saturation(out, saturation, self.name)
        out = _clamp_to_range(out, work)
        return _where(chosen, _restore(out, x), x)


class Brightness(ColorJitter):
    """Random additive brightness per sample: x + δ·(max − min), δ ~ U[−strength, strength]."""

    name = "brightness"
    OPTIONS = {"strength": _strength("largest shift as a fraction of the batch's value range"), "p": _P}

    def __init__(self, *, strength: float = 0.2, p: float = 1.0):
        set_options(self, self.OPTIONS, strength=strength, p=p)
        super().__init__(brightness=self.strength, contrast=0.0, saturation=0.0, p=self.p)


class Contrast(ColorJitter):
    """Random contrast per sample: m + f·(x − m), f ~ U[1 − strength, 1 + strength]."""

    name = "contrast"
    OPTIONS = {"strength": _strength("largest relative change of contrast"), "p": _P}

    def __init__(self, *, strength: float = 0.2, p: float = 1.0):
        set_options(self, self.OPTIONS, strength=strength, p=p)
        super().__init__(brightness=0.0, contrast=self.strength, saturation=0.0, p=self.p)


class Saturation(ColorJitter):
    """Random saturation per RGB sample: gray + f·(x − gray), f ~ U[1 − strength, 1 + strength]."""

    name = "saturation"
    OPTIONS = {"strength": _strength("largest relative change of saturation"), "p": _P}

    def __init__(self, *, strength: float = 0.2, p: float = 1.0):
        set_options(self, self.OPTIONS, strength=strength, p=p)
        super().__init__(brightness=0.0, contrast=0.0, saturation=self.strength, p=self.p)


# ----------------------------------------------------------------------------- cutout
class Cutout(Augmentation):
    """Set a random square of each image to ``value`` (DeVries & Taylor 2017, "Improved
    regularization of CNNs with cutout").

    The square has side round(size × min(H, W)); its center is uniform over the pixels and the
    part outside the image is dropped (as in the paper), or, with ``inside``, the whole square
    stays inside. size 0.5 = 16×16 on CIFAR-10, the paper's setting. value 0 is the mean after
    centering, black for raw [0, 1] images. A value outside the batch's range [x.min(), x.max()]
    is clamped to it, so the output stays a valid image.
    """

    name = "cutout"
    OPTIONS = {"size": Option(float, 0.5, "side of the square as a fraction of the image",
                              source="DeVries & Taylor 2017: 16/32 on CIFAR-10",
                              check=must_be(lambda v: 0 < v <= 1, "a fraction in (0, 1]")),
               "inside": Option(bool, False, "keep the whole square inside the image",
                                source="DeVries & Taylor 2017 (false: the square may cross the border)"),
               "value": Option(float, 0.0, "value written into the square, clamped to the batch's "
                                           "range [min, max]", source="0: the mean after centering"),
               "p": _P}

    def __init__(self, *, size: float = 0.5, inside: bool = False, value: float = 0.0, p: float = 1.0):
        set_options(self, self.OPTIONS, size=size, inside=inside, value=value, p=p)

    def side(self, H: int, W: int) -> int:
        return max(1, round(self.size * min(H, W)))

    def _apply(self, x, g):
        N, _, H, W = x.shape
        s, dev = self.side(H, W), x.device
        if self.inside:
            top = torch.randint(0, H - s + 1, (N,), generator=g, device=dev)
            left = torch.randint(0, W - s + 1, (N,), generator=g, device=dev)
        else:
            top = torch.randint(0, H, (N,), generator=g, device=dev) - s // 2
            left = torch.randint(0, W, (N,), generator=g, device=dev) - s // 2
        chosen = _chosen(N, self.p, g, dev)
        r, c = torch.arange(H, device=dev), torch.arange(W, device=dev)
        in_rows = (r >= top[:, None]) & (r < top[:, None] + s)                   # (N, H)
        in_cols = (c >= left[:, None]) & (c < left[:, None] + s)                 # (N, W)
        mask = in_rows[:, :, None] & in_cols[:, None, :] & chosen[:, None, None]  # (N, H, W)
        # Valid images: the fill is clamped to the batch's range like every other op's output
        # (0-d device tensors: no host sync), so value = 2 on [0, 1] images writes 1.
        work = x.dtype if torch.is_floating_point(x) else torch.float32
        fill = torch.tensor(self.value, dtype=work, device=dev)
        fill = fill.clamp(x.amin().to(work), x.amax().to(work))
        return torch.where(mask[:, None], _restore(fill, x), x)


# ----------------------------------------------------------------------------- compose, config
class Compose(Augmentation):
    """Apply ops in order, each drawing from the same generator."""

    name = "compose"
    images = False

    def __init__(self, ops=()):
        self.ops = list(ops)
        for op in self.ops:
            if not callable(op):
                raise ConfigError(f"compose: {op!r} is not callable as op(x, generator)")

    def _apply(self, x, g):
        for op in self.ops:
            x = op(x, g)
        return x

    def __len__(self) -> int:
        return len(self.ops)

    def __repr__(self) -> str:
        return f"Compose({self.ops!r})"


AUGMENTATIONS = {
    "hflip": HFlip,
    "vflip": VFlip,
    "crop": Crop,
    "translate": Translate,
    "rotate": Rotate,
    "scale": Scale,
    "affine": Affine,
    "noise": Noise,
    "brightness": Brightness,
    "contrast": Contrast,
    "saturation": Saturation,
    "color_jitter": ColorJitter,
    "cutout": Cutout,
}


def describe_augmentations() -> dict:
    """``{name: {"doc", "options": {opt: {"default", "doc"}}}}`` for validation and docs."""
    return describe(AUGMENTATIONS)


def make_augment(spec) -> Compose:
    """Augmentation from config, e.g. ``[{"name": "crop", "pad": 2}, "hflip"]``."""
    return Compose(build_from_spec(spec, AUGMENTATIONS, key="augment"))


def check_augment_spec(spec) -> None:
    """Config validation of ``augment``: building the ops checks every entry's name and options."""
    make_augment(spec)
