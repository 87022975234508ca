"""Model builders from config: ``build_model({"type": "mlp", ...}, input_shape, num_outputs)``.

``input_shape`` (one sample, without the batch dim) and ``num_outputs`` come from the data; the
table chooses the architecture. ``MODELS`` maps a type to its builder and ``MODEL_OPTIONS`` lists
every builder option as ``{option: Option}`` for the config validator (``check_model_table``) and
docs/models.md. Options shared by all builders (``COMMON_OPTIONS``): activation, norm,
norm_position, dropout, dropout_mode, output_activation.

A hidden block is  Linear/Conv -> [norm] -> activation -> [norm] -> [dropout]  with the norm on
the side named by ``norm_position`` (notes 004: batch norm "usually inserted after fully connected
or convolutional layers, and before nonlinearity", hence "before" by default). With maxout the
Linear/Conv is k× wider (see trainwell.nn.activations).
"""
from __future__ import annotations

import math

from torch import nn

from trainwell.errors import ConfigError
from trainwell.nn.activations import make_activation, width_factor
from trainwell.nn.dropout import DROPOUT_MODES, make_dropout
from trainwell.nn.norms import norm_layer, norm_name_and_options, reparametrize
from trainwell.options import Option, check_options, closest, did_you_mean, must_be

# notes 003 "Which activation at output node?": identity for unbounded outputs, sigmoid for a
# 0/1 output, softmax for a distribution over classes. trainwell's losses take raw scores (logits)
# and apply the sigmoid/softmax inside, stably, so "none" is the default and the only choice that
# matches cross_entropy, bce, hinge and kl_div (see check_output_activation).
OUTPUT_ACTIVATIONS = {
    "none": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "softmax": lambda: nn.Softmax(dim=1),
    "log_softmax": lambda: nn.LogSoftmax(dim=1),
    "tanh": nn.Tanh,
}
LOGIT_LOSSES = ("cross_entropy", "bce", "hinge", "kl_div")
NORM_POSITIONS = ("before", "after")

COMMON_OPTIONS = {
    "activation": Option((str, dict), "relu", "hidden activation: a name or {name=..., options} "
                         "(see ACTIVATIONS)", source="notes 004: 'Use ReLU nonlinearity'"),
    "norm": Option((str, dict), "none", "normalization: none, batch, layer, group, instance, weight, "
                   "batch_renorm; a name or {name=..., options} (see NORMS)"),
    "norm_position": Option(str, "before", "norm 'before' or 'after' the nonlinearity",
                            source="notes 004: batch norm before the nonlinearity"),
    "dropout": Option(float, 0.0, "drop probability p after every hidden block (notes 000: p_keep = 0.5)",
                      check=must_be(lambda p: 0 <= p < 1, "a drop probability in [0, 1)")),
    "dropout_mode": Option(str, "inverted", "'inverted' (scale by 1/(1−p) in training) or 'vanilla' "
                           "(scale by 1−p at test time)", source="notes 000: inverted dropout is more common"),
    "output_activation": Option(str, "none", "none (logits, for trainwell's losses), sigmoid, softmax, "
                                "log_softmax, tanh", source="notes 003 (which activation at the output node)"),
}
_IMAGE_SHAPE = Option((list, tuple, type(None)), None, "reshape flat inputs to this (C, H, W), e.g. "
                      "[1, 8, 8] for digits")


# --- shared pieces -------------------------------------------------------------------------

def _check_common(o: dict, where: str):
    norm_name_and_options(o["norm"])
    make_activation(o["activation"])
    if o["norm_position"] not in NORM_POSITIONS:
        raise ConfigError(f"{where}.norm_position = {o['norm_position']!r}; allowed: before, after")
    if o["output_activation"] not in OUTPUT_ACTIVATIONS:
        raise ConfigError(f"{where}.output_activation = {o['output_activation']!r}; allowed: "
                          f"{', '.join(OUTPUT_ACTIVATIONS)}")
    if o["dropout_mode"] not in DROPOUT_MODES:
        raise ConfigError(f"{where}.dropout_mode = {o['dropout_mode']!r}; allowed: "
                          f"{', '.join(DROPOUT_MODES)}")
    make_dropout(o["dropout"], mode=o["dropout_mode"])


def _normed_first(norm, norm_position) -> bool:
    """Does a norm layer (with its own shift β) directly follow the Linear/Conv? Then no bias."""
    name, _ = norm_name_and_options(norm)
    return norm_position == "before" and name not in ("none", "weight")


def _hidden_block(layer: nn.Module, width: int, *, spatial: bool, activation, norm, norm_position,
                  dropout, dropout_mode) -> list[nn.Module]:
    """layer -> [norm] -> activation -> [norm] -> [dropout]; ``layer`` outputs width·k features."""
    k = width_factor(activation)
    before = norm_layer(norm, width * k, spatial=spatial) if norm_position == "before" else None
    after = norm_layer(norm, width, spatial=spatial) if norm_position == "after" else None
    parts = [reparametrize(layer, norm), before, make_activation(activation), after,
             make_dropout(dropout, mode=dropout_mode)]
    return [p for p in parts if p is not None]


def _positive_ints(values, where: str) -> list[int]:
    values = list(values)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values):
        raise ConfigError(f"{where} = {values!r}: must be a list of positive integers")
    return values


def _image_input(input_shape, image_shape, where: str):
    """(C, H, W) of the images and the layers that bring the input there."""
    input_shape = tuple(input_shape)
    if image_shape is not None:
        image_shape = tuple(_positive_ints(image_shape, f"{where}.image_shape"))
        if len(image_shape) != 3 or math.prod(image_shape) != math.prod(input_shape):
            raise ConfigError(f"{where}.image_shape = {list(image_shape)}: must be [C, H, W] with "
                              f"C·H·W = {math.prod(input_shape)} (the input shape is {input_shape})")
        return image_shape, [nn.Flatten(), nn.Unflatten(1, image_shape)]
    if len(input_shape) == 3:
        return input_shape, []
    if len(input_shape) == 2:
        return (1,) + input_shape, [nn.Unflatten(1, (1, input_shape[0]))]  # (N, H, W) -> (N, 1, H, W)
    shape = square_image_shape(math.prod(input_shape))
    if shape is None:
        raise ConfigError(f"{where}: needs image inputs (C, H, W) or (H, W), got samples of shape "
                          f"{input_shape}, which are not images; use model.type = \"mlp\" (or \"auto\")")
    raise ConfigError(f"{where}: needs image inputs (C, H, W) or (H, W), got shape {input_shape}; if "
                      f"each sample is a flattened image, set {where}.image_shape, e.g. {list(shape)}")


# The smallest side of an image a flat sample is taken to be: digits' 8×8 are the smallest images
# trainwell ships; a 2×2 "image" (iris's 4 features) is better read as 4 features.
MIN_IMAGE_SIDE = 8
IMAGE_CHANNELS = (1, 3)    # grey or RGB: what a flat sample's (C, H, W) is guessed to be


def square_image_shape(size: int) -> tuple[int, int, int] | None:
    """(C, H, H) with C in IMAGE_CHANNELS and H >= MIN_IMAGE_SIDE whose product is ``size``: the
    shape a flat sample of ``size`` numbers could have as an image, or None."""
    for channels in IMAGE_CHANNELS:
        side = math.isqrt(size // channels)
        if side >= MIN_IMAGE_SIDE and channels * side * side == size:
            return channels, side, side
    return None


def output_size(n: int, kernel: int, padding: int, stride: int, *, where: str,
                exact: bool = True) -> int:
    """Spatial output size (N + 2P − F)/stride + 1 (notes 001 "CNN sizes"), with a ConfigError
    when the filter does not fit (< 1) or, if ``exact``, when the division leaves a remainder
    (PyTorch would silently drop the last rows/columns)."""
    span = n + 2 * padding - kernel
    if span < 0 or (exact and span % stride):
        why = "is smaller than the filter" if span < 0 else "is not an integer"
        raise ConfigError(f"{where}: input size N = {n}, F = {kernel}, P = {padding}, stride = "
                          f"{stride}: (N + 2P − F)/stride + 1 = ({n} + {2 * padding} − {kernel})/"
                          f"{stride} + 1 = {span / stride + 1:g} {why}")
    return span // stride + 1


def _head(fan_in: int, num_outputs: int, output_activation: str) -> list[nn.Module]:
    out = [nn.Linear(fan_in, num_outputs)]
    if output_activation != "none":
        out.append(OUTPUT_ACTIVATIONS[output_activation]())
    return out


# --- mlp -----------------------------------------------------------------------------------

def mlp(input_shape, num_outputs, *, widths=(256, 256), activation="relu", norm="none",
        norm_position="before", dropout=0.0, dropout_mode="inverted",
        output_activation="none") -> nn.Module:
    """A multilayer perceptron: Flatten, a hidden block per width, then Linear(num_outputs)."""
    o = dict(activation=activation, norm=norm, norm_position=norm_position, dropout=dropout,
             dropout_mode=dropout_mode)
    _check_common({**o, "output_activation": output_activation}, "model")
    layers: list[nn.Module] = [nn.Flatten()]
    fan_in = math.prod(input_shape)
    bias = not _normed_first(norm, norm_position)
    for w in _positive_ints(widths, "model.widths"):
        k = width_factor(activation)
        layers += _hidden_block(nn.Linear(fan_in, w * k, bias=bias), w, spatial=False, **o)
        fan_in = w
    return nn.Sequential(*layers, *_head(fan_in, num_outputs, output_activation))


# --- cnn -----------------------------------------------------------------------------------

def _layer_option(types, default, doc: str, *, least: int | None = None, source: str = "") -> Option:
    """A conv/pool layer option; an integer ``least`` is its smallest value (the error repeats the doc)."""
    check = None if least is None else must_be(lambda v: v >= least, f"an integer >= {least} ({doc})")
    return Option(types, default, doc, source=source, check=check)


CNN_LAYER_OPTIONS = {
    "conv": {"type": _layer_option(str, "conv", "a convolution + the hidden block"),
             "channels": _layer_option(int, 32, "output channels"),
             "kernel": _layer_option(int, 3, "filter size F (square)", least=1),
             "stride": _layer_option(int, 1, "stride; 2 halves the size (a strided conv instead of pooling)",
                                     least=1),
             "padding": _layer_option((int, type(None)), None, "zero padding P; default F // 2 ('same' at "
                                      "stride 1 for odd F)", least=0,
                                      source="notes 001: common to zero-pad the border")},
    "pool": {"type": _layer_option(str, "pool", "spatial pooling"),
             "kind": _layer_option(str, "max", "'max' or 'avg'"),
             "kernel": _layer_option(int, 2, "window F", least=1),
             "stride": _layer_option((int, type(None)), None, "stride; default = kernel", least=1),
             "padding": _layer_option(int, 0, "zero padding P, at most kernel // 2 (PyTorch's rule)",
                                      least=0)},
}
DEFAULT_CNN_LAYERS = [
    {"type": "conv", "channels": 32, "kernel": 3},
    {"type": "pool", "kind": "max", "kernel": 2},
    {"type": "conv", "channels": 64, "kernel": 3},
    {"type": "pool", "kind": "max", "kernel": 2},
]


def cnn(input_shape, num_outputs, *, layers=None, global_pool=True, head_widths=(),
        image_shape=None, exact_sizes=True, activation="relu", norm="none",
        norm_position="before", dropout=0.0, dropout_mode="inverted",
        output_activation="none") -> nn.Module:
    """A convolutional network from a list of conv/pool layer tables, then global average pooling
    (or flatten), hidden Linear blocks of ``head_widths``, and Linear(num_outputs).

    Every layer's output size is checked with (N + 2P − F)/stride + 1; a layer that does not fit
    raises ConfigError naming ``model.layers[i]``, N, F, P and the stride."""
    o = dict(activation=activation, norm=norm, norm_position=norm_position, dropout=dropout,
             dropout_mode=dropout_mode)
    _check_common({**o, "output_activation": output_activation}, "model")
    (channels, h, w), modules = _image_input(input_shape, image_shape, "model")
    layers = DEFAULT_CNN_LAYERS if layers is None else layers
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ConfigError(f"model.layers = {layers!r}: must be a non-empty list of layer tables")
    bias = not _normed_first(norm, norm_position)
    k = width_factor(activation)
    for i, spec in enumerate(layers):
        where = f"model.layers[{i}]"
        kind = spec.get("type") if isinstance(spec, dict) else None
        if not isinstance(kind, str) or kind not in CNN_LAYER_OPTIONS:
            raise ConfigError(f"{where} = {spec!r}: needs type = 'conv' or 'pool'")
        s = check_options(where, spec, CNN_LAYER_OPTIONS[kind], label="{where}.{name}")
        f = s["kernel"]
        stride = s["stride"] or f
        pad = f // 2 if s["padding"] is None else s["padding"]
        if kind == "pool" and pad > f // 2:
            # PyTorch's pools need P <= F // 2 (a window must not lie wholly in the padding).
            raise ConfigError(f"{where}.padding = {pad!r}: a pool layer's padding must be in "
                              f"0..{f // 2} (at most half its window, kernel = {f})")
        where = f"{where} ({kind})"
        h = output_size(h, f, pad, stride, where=where + " height", exact=exact_sizes)
        w = output_size(w, f, pad, stride, where=where + " width", exact=exact_sizes)
        if kind == "conv":
            out = _positive_ints([s["channels"]], where + ".channels")[0]
            conv = nn.Conv2d(channels, out * k, f, stride=stride, padding=pad, bias=bias)
            modules += _hidden_block(conv, out, spatial=True, **o)
            channels = out
        elif s["kind"] in ("max", "avg"):
            pool = nn.MaxPool2d if s["kind"] == "max" else nn.AvgPool2d
            modules.append(pool(f, stride=stride, padding=pad))
        else:
            raise ConfigError(f"{where}.kind = {s['kind']!r}; allowed: max, avg")
    if global_pool:
        modules += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        fan_in = channels
    else:
        modules.append(nn.Flatten())
        fan_in = channels * h * w
    for width in _positive_ints(head_widths, "model.head_widths"):
        modules += _hidden_block(nn.Linear(fan_in, width * k, bias=bias), width, spatial=False, **o)
        fan_in = width
    return nn.Sequential(*modules, *_head(fan_in, num_outputs, output_activation))


# --- resnet --------------------------------------------------------------------------------

class BasicBlock(nn.Module):
    """Two 3×3 convs with a shortcut (He et al. 2016): out = act(N₂(conv₂(act(N₁(conv₁ x)))) + s(x))
    with norm_position "before"; with "after" each norm follows its nonlinearity. s is the identity,
    or a projection 1×1 conv (stride s) + norm when the channels or the size change."""

    def __init__(self, c_in, c_out, *, stride, kernel, activation, norm, norm_position, dropout,
                 dropout_mode):
        super().__init__()
        k = width_factor(activation)
        bias = not _normed_first(norm, norm_position)
        before = norm_position == "before"
        conv1 = nn.Conv2d(c_in, c_out * k, kernel, stride=stride, padding=kernel // 2, bias=bias)
        self.branch = nn.Sequential(*_hidden_block(
            conv1, c_out, spatial=True, activation=activation, norm=norm,
            norm_position=norm_position, dropout=dropout, dropout_mode=dropout_mode))
        self.conv2 = reparametrize(nn.Conv2d(c_out, c_out * k, kernel, padding=kernel // 2,
                                             bias=bias), norm)
        self.norm2 = (norm_layer(norm, c_out * k, spatial=True) if before else None) or nn.Identity()
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out * k:
            proj = reparametrize(nn.Conv2d(c_in, c_out * k, 1, stride=stride, bias=bias), norm)
            proj_norm = norm_layer(norm, c_out * k, spatial=True) if before else None
            self.shortcut = nn.Sequential(*[m for m in (proj, proj_norm) if m is not None])
        self.act = make_activation(activation)
        self.norm_out = (norm_layer(norm, c_out, spatial=True) if not before else None) or nn.Identity()

    def forward(self, x):
        h = self.norm2(self.conv2(self.branch(x)))
        return self.norm_out(self.act(h + self.shortcut(x)))


def resnet(input_shape, num_outputs, *, widths=(16, 32, 64), blocks=2, stem_channels=16,
           kernel=3, image_shape=None, activation="relu", norm="batch", norm_position="before",
           dropout=0.0, dropout_mode="inverted", output_activation="none") -> nn.Module:
    """A small residual network (He et al. 2016, CIFAR variant): a ``kernel`` conv stem, one stage
    per width (``blocks`` BasicBlocks each; every stage after the first starts with stride 2),
    global average pooling, Linear(num_outputs). Batch norm after each conv by default; dropout
    sits between a block's two convs (Zagoruyko & Komodakis 2016)."""
    o = dict(activation=activation, norm=norm, norm_position=norm_position, dropout=dropout,
             dropout_mode=dropout_mode)
    _check_common({**o, "output_activation": output_activation}, "model")
    (channels, h, w), modules = _image_input(input_shape, image_shape, "model")
    widths = _positive_ints(widths, "model.widths")
    blocks = [blocks] * len(widths) if isinstance(blocks, int) else list(blocks)
    _positive_ints(blocks, "model.blocks")
    if len(blocks) != len(widths):
        raise ConfigError(f"model.blocks = {blocks}: one count per stage; widths has {len(widths)}")
    k = width_factor(activation)
    stem_channels, kernel = _positive_ints([stem_channels, kernel], "model.stem_channels/kernel")
    h = output_size(h, kernel, kernel // 2, 1, where="model stem height")
    w = output_size(w, kernel, kernel // 2, 1, where="model stem width")
    stem = nn.Conv2d(channels, stem_channels * k, kernel, padding=kernel // 2,
                     bias=not _normed_first(norm, norm_position))
    modules += _hidden_block(stem, stem_channels, spatial=True, **{**o, "dropout": 0.0})
    c = stem_channels
    for stage, (width, n) in enumerate(zip(widths, blocks)):
        for b in range(n):
            stride = 2 if stage > 0 and b == 0 else 1
            # PyTorch floors; He et al. 2016 halve 32 -> 16 -> 8 with 3×3 stride-2 convs this way.
            where = f"model stage {stage} block {b}"
            h = output_size(h, kernel, kernel // 2, stride, where=where + " height", exact=False)
            w = output_size(w, kernel, kernel // 2, stride, where=where + " width", exact=False)
            modules.append(BasicBlock(c, width, stride=stride, kernel=kernel, **o))
            c = width
    modules += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*modules, *_head(c, num_outputs, output_activation))


# --- registry and entry point --------------------------------------------------------------

MODELS = {"mlp": mlp, "cnn": cnn, "resnet": resnet}

MODEL_OPTIONS = {
    "mlp": {"widths": Option((list, tuple), [256, 256], "hidden layer widths",
                             source="docs/defaults.md"), **COMMON_OPTIONS},
    "cnn": {
        "layers": Option((list, tuple, type(None)), None, "conv/pool layer tables (CNN_LAYER_OPTIONS); "
                         "None = conv32, maxpool2, conv64, maxpool2"),
        "global_pool": Option(bool, True, "global average pooling before the head (else flatten)",
                              source="Lin et al. 2014 (network in network)"),
        "head_widths": Option((list, tuple), [], "hidden Linear widths after the conv stack"),
        "image_shape": _IMAGE_SHAPE,
        "exact_sizes": Option(bool, True, "require (N + 2P − F)/stride to be an integer",
                              source="notes 001 (CNN sizes)"),
        **COMMON_OPTIONS,
    },
    "resnet": {
        "widths": Option((list, tuple), [16, 32, 64], "channels per stage", source="He et al. 2016, CIFAR"),
        "blocks": Option((int, list, tuple), 2, "residual blocks per stage (one int or one per stage)",
                         source="He et al. 2016 (CIFAR: 3 per stage in ResNet-20); 2 is smaller"),
        "stem_channels": Option(int, 16, "channels of the first conv", source="He et al. 2016, CIFAR"),
        "kernel": Option(int, 3, "conv filter size", source="He et al. 2016"),
        "image_shape": _IMAGE_SHAPE,
        **COMMON_OPTIONS,
        "norm": COMMON_OPTIONS["norm"]._replace(
            default="batch", doc="as for all builders; batch after each conv by default",
            source="He et al. 2016"),
    },
}


def check_output_activation(output_activation: str, loss) -> None:
    """The notes' rule (notes 003): the output activation must match the loss. trainwell's
    classification losses take raw scores, so a sigmoid/softmax output would be applied twice."""
    if output_activation not in OUTPUT_ACTIVATIONS:
        raise ConfigError(f"model.output_activation = {output_activation!r}; allowed: "
                          f"{', '.join(OUTPUT_ACTIVATIONS)}")
    if isinstance(loss, str) and loss in LOGIT_LOSSES and output_activation != "none":
        raise ConfigError(f"model.output_activation = {output_activation!r} with loss = {loss!r}: "
                          f"the loss applies the sigmoid/softmax itself to raw outputs; use "
                          f"output_activation = 'none'")


def build_model(spec: dict, input_shape, num_outputs) -> nn.Module:
    """Build a model from a config table such as ``{"type": "mlp", "widths": [256]}``. The
    returned module carries the resolved table as ``model.builder_spec``."""
    spec = dict(spec)
    kind = spec.pop("type", "mlp")
    if not isinstance(kind, str) or kind not in MODELS:
        raise ConfigError(f"model.type = {kind!r}: unknown{did_you_mean(kind, MODELS)}; "
                          f"allowed: {', '.join(sorted(MODELS))}")
    options = check_options(f"model ({kind})", spec, MODEL_OPTIONS[kind])
    model = MODELS[kind](tuple(input_shape), num_outputs, **options)
    # The resolved table (defaults filled in) stays with the model as plain data: an init scheme
    # from config reads its activation for the gain (trainwell.train.parts.initialize).
    model.builder_spec = {"type": kind, **options}
    return model


# The options "auto" accepts: those of both builders it may choose (cnn for images, mlp otherwise).
AUTO_OPTIONS = {name: o for name, o in MODEL_OPTIONS["cnn"].items() if name in MODEL_OPTIONS["mlp"]}


def _check_auto_names(options: dict) -> None:
    """Names "auto" does not take: one that a builder takes says which type to choose; a typo gets
    the closest name of any builder (``widht`` -> ``widths``, which needs type = "mlp")."""
    for name in sorted(set(options) - set(AUTO_OPTIONS)):
        known = sorted({n for spec in MODEL_OPTIONS.values() for n in spec})
        meant = name if name in known else closest(name, known)
        if meant is None or meant in AUTO_OPTIONS:
            continue                      # check_options names it: the allowed list, did you mean
        types = [kind for kind, spec in MODEL_OPTIONS.items() if meant in spec]
        guess = "" if meant == name else f" (did you mean {meant!r}?)"
        raise ConfigError(f"model (auto): option {name!r}{guess}: {meant!r} belongs to model.type "
                          f"{' or '.join(map(repr, types))}, and \"auto\" takes only the options all of "
                          f"its choices share ({', '.join(sorted(AUTO_OPTIONS))}); set model.type = "
                          f"{types[0]!r} to use it")


def check_model_table(table: dict) -> str | None:
    """Config validation of the [model] table: its type and the names and types of its options,
    before any data is read (sizes that depend on the data are checked when the model is built)."""
    options = dict(table)
    kind = options.pop("type", "auto")
    if not isinstance(kind, str):
        return f"type = {kind!r}: must be a name: auto, " + ", ".join(sorted(MODEL_OPTIONS))
    if kind == "auto":
        allowed = AUTO_OPTIONS
        _check_auto_names(options)
    elif kind in MODEL_OPTIONS:
        allowed = MODEL_OPTIONS[kind]
    else:
        return f"type {kind!r} is unknown{did_you_mean(kind, MODEL_OPTIONS)}; allowed: auto, " \
               + ", ".join(sorted(MODEL_OPTIONS))
    check_options(f"model ({kind})", options, allowed)
    return None
