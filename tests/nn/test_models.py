import inspect

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from trainwell.errors import ConfigError
from trainwell.nn.activations import Maxout
from trainwell.nn.dropout import Dropout
from trainwell.nn.models import (COMMON_OPTIONS, MODEL_OPTIONS, MODELS, BasicBlock, build_model,
                                 check_output_activation, mlp, output_size)
from trainwell.nn.norms import BatchRenorm
from trainwell.options import Option


def _types(model):
    return [type(m).__name__ for m in model.modules()]


def test_mlp_keeps_its_original_signature_and_layout():
    model = mlp((8, 8), 10, widths=[32, 16], activation="tanh", dropout=0.1)
    assert _types(model)[1:] == ["Flatten", "Linear", "Tanh", "Dropout", "Linear", "Tanh",
                                 "Dropout", "Linear"]
    assert model(torch.randn(3, 8, 8)).shape == (3, 10)


@pytest.mark.parametrize("norm", ["none", "batch", "layer", "group", "weight", "batch_renorm"])
@pytest.mark.parametrize("position", ["before", "after"])
def test_mlp_norms_sit_on_the_chosen_side_of_the_nonlinearity(norm, position):
    model = build_model({"type": "mlp", "widths": [16, 8], "norm": norm, "norm_position": position,
                         "activation": "elu"}, (12,), 3)
    assert model(torch.randn(5, 12)).shape == (5, 3)
    names = _types(model)
    if norm == "weight":
        assert parametrize.is_parametrized(model[1], "weight")
    elif norm != "none":
        i_norm = next(i for i, n in enumerate(names) if "Norm" in n or n == "BatchRenorm")
        assert (i_norm < names.index("ELU")) == (position == "before")
        assert (model[1].bias is None) == (position == "before")  # the norm's β replaces the bias


def test_maxout_widens_the_layer_before_it():
    model = build_model({"type": "mlp", "widths": [10], "activation": {"name": "maxout", "k": 3},
                         "norm": "batch"}, (4,), 2)
    assert model[1].out_features == 30 and model[2].num_features == 30
    assert isinstance(model[3], Maxout) and model[4].in_features == 10
    cnn = build_model({"type": "cnn", "activation": "maxout", "norm": "batch",
                       "norm_position": "after"}, (1, 8, 8), 2)
    assert cnn[0].out_channels == 64 and cnn[2].num_features == 32
    assert cnn(torch.randn(2, 1, 8, 8)).shape == (2, 2)


def test_output_size_is_the_notes_formula():
    assert output_size(7, 3, 0, 1, where="x") == 5     # notes 001: (7 − 3)/1 + 1
    assert output_size(7, 3, 0, 2, where="x") == 3
    assert output_size(32, 5, 2, 1, where="x") == 32
    with pytest.raises(ConfigError, match="N = 7, F = 3, P = 0, stride = 3"):
        output_size(7, 3, 0, 3, where="x")               # (7 − 3)/3 + 1 = 2.33
    assert output_size(7, 3, 0, 3, where="x", exact=False) == 2


def test_cnn_sizes_match_the_formula_layer_by_layer():
    layers = [{"type": "conv", "channels": 8, "kernel": 5, "padding": 0},            # 15 -> 11
              {"type": "conv", "channels": 8, "kernel": 3, "stride": 2, "padding": 0},  # -> 5
              {"type": "pool", "kind": "avg", "kernel": 3, "stride": 1},             # -> 3
              {"type": "conv", "channels": 4, "kernel": 3, "padding": 1}]            # -> 3
    model = build_model({"type": "cnn", "layers": layers, "global_pool": False}, (2, 15, 15), 5)
    sizes = []
    hooks = [m.register_forward_hook(lambda mod, i, o: sizes.append(tuple(o.shape[1:])))
             for m in model if isinstance(m, (nn.Conv2d, nn.AvgPool2d))]
    assert model(torch.randn(2, 2, 15, 15)).shape == (2, 5)
    for h in hooks:
        h.remove()
    assert sizes == [(8, 11, 11), (8, 5, 5), (8, 3, 3), (4, 3, 3)]
    assert model[-1].in_features == 4 * 3 * 3


def test_cnn_errors_name_the_layer_and_its_numbers():
    layers = [{"type": "conv", "channels": 4, "kernel": 3, "padding": 0},
              {"type": "conv", "channels": 4, "kernel": 5, "padding": 0}]
    with pytest.raises(ConfigError, match=r"model.layers\[1\] \(conv\) height: input size N = 4, "
                                          r"F = 5, P = 0, stride = 1.*smaller than the filter"):
        build_model({"type": "cnn", "layers": layers}, (1, 6, 6), 2)
    strided = [{"type": "conv", "channels": 4, "kernel": 3, "stride": 2}]
    with pytest.raises(ConfigError, match=r"layers\[0\].*N = 8, F = 3, P = 1, stride = 2.*= 4.5 "
                                          r"is not an integer"):
        build_model({"type": "cnn", "layers": strided}, (1, 8, 8), 2)
    model = build_model({"type": "cnn", "layers": strided, "exact_sizes": False}, (1, 8, 8), 2)
    assert model(torch.randn(1, 1, 8, 8)).shape == (1, 2)
    with pytest.raises(ConfigError, match=r"layers\[0\]: unknown option 'filters'; allowed: "
                                          r"channels, kernel, padding, stride, type"):
        build_model({"type": "cnn", "layers": [{"type": "conv", "filters": 3}]}, (1, 8, 8), 2)
    with pytest.raises(ConfigError, match="needs image inputs.*image_shape"):
        build_model({"type": "cnn"}, (64,), 10)


@pytest.mark.parametrize("layer, message", [
    ({"type": "pool", "kernel": 2, "padding": 2}, r"model.layers\[1\].padding = 2: a pool layer's padding "
                                                  r"must be in 0..1 \(at most half its window, kernel = 2\)"),
    ({"type": "pool", "kernel": 3, "stride": 1, "padding": 2}, r"layers\[1\].padding = 2: .* in 0..1"),
    ({"type": "pool", "kernel": 0}, r"model.layers\[1\].kernel = 0: must be an integer >= 1 \(window F\)"),
    ({"type": "pool", "stride": 0}, r"model.layers\[1\].stride = 0: must be an integer >= 1"),
    ({"type": "conv", "kernel": 0}, r"model.layers\[1\].kernel = 0: must be an integer >= 1 \(filter size F"),
    ({"type": "conv", "stride": 0}, r"model.layers\[1\].stride = 0: must be an integer >= 1 \(stride"),
    ({"type": "conv", "padding": -1}, r"model.layers\[1\].padding = -1: must be an integer >= 0"),
    ({"type": "pool", "padding": -1}, r"model.layers\[1\].padding = -1: must be an integer >= 0"),
])
def test_cnn_layer_options_out_of_range_are_config_errors_naming_the_option(layer, message):
    layers = [{"type": "conv", "channels": 4, "kernel": 3}, layer]
    with pytest.raises(ConfigError, match=message):
        build_model({"type": "cnn", "layers": layers}, (1, 8, 8), 2)


def test_pool_padding_up_to_half_the_window_builds_and_runs():
    for kernel, padding, size in ((2, 1, 5), (3, 1, 8), (3, 0, 6)):        # P = F // 2 is allowed
        layers = [{"type": "pool", "kind": "max", "kernel": kernel, "padding": padding}]
        model = build_model({"type": "cnn", "layers": layers, "global_pool": False,
                             "exact_sizes": False}, (1, size, size), 2)
        assert model(torch.randn(2, 1, size, size)).shape == (2, 2)


def test_cnn_reshapes_flat_inputs_and_takes_2d_images():
    flat = build_model({"type": "cnn", "image_shape": [1, 8, 8]}, (64,), 10)
    x = torch.randn(4, 64)
    assert flat(x).shape == (4, 10)
    plain = build_model({"type": "cnn"}, (8, 8), 10)
    with torch.no_grad():
        for a, b in zip(plain.parameters(), flat.parameters(), strict=True):
            a.copy_(b)
    assert torch.allclose(plain(x.view(4, 8, 8)), flat(x))
    with pytest.raises(ConfigError, match="C·H·W = 64"):
        build_model({"type": "cnn", "image_shape": [1, 7, 7]}, (64,), 10)


def test_resnet_has_bn_after_each_conv_and_projection_shortcuts_where_shapes_change():
    model = build_model({"type": "resnet", "widths": [8, 16, 16], "blocks": [2, 1, 1],
                         "stem_channels": 4}, (3, 8, 8), 7)
    assert model(torch.randn(2, 3, 8, 8)).shape == (2, 7)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(convs) == len(bns) == 1 + 2 * 4 + 3  # stem, 2 per block, 3 projections
    blocks = [m for m in model if isinstance(m, BasicBlock)]
    projected = [not isinstance(b.shortcut, nn.Identity) for b in blocks]
    assert projected == [True, False, True, True]  # 4->8, 8->8, 8->16 stride 2, 16->16 stride 2
    assert blocks[3].shortcut[0].stride == (2, 2) and blocks[3].shortcut[0].kernel_size == (1, 1)


def test_resnet_block_adds_the_identity_shortcut():
    block = BasicBlock(4, 4, stride=1, kernel=3, activation="relu", norm="none",
                       norm_position="before", dropout=0.0, dropout_mode="inverted")
    nn.init.zeros_(block.conv2.weight)
    nn.init.zeros_(block.conv2.bias)
    x = torch.randn(2, 4, 5, 5)
    assert torch.equal(block(x), torch.relu(x))  # branch contributes 0: out = act(x + 0)


@pytest.mark.parametrize("norm", ["batch", "group", "instance", "layer", "weight", "batch_renorm", "none"])
def test_every_norm_builds_and_trains_a_step_in_cnn_and_resnet(norm):
    torch.manual_seed(0)
    x, y = torch.randn(8, 1, 8, 8), torch.randint(0, 3, (8,))
    for spec in ({"type": "cnn", "norm": {"name": norm, "groups": 4} if norm == "group" else norm},
                 {"type": "resnet", "widths": [8, 8], "blocks": 1, "stem_channels": 8,
                  "norm": {"name": norm, "groups": 4} if norm == "group" else norm,
                  "norm_position": "after", "dropout": 0.2}):
        model = build_model(spec, (1, 8, 8), 3)
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        assert torch.isfinite(loss) and all(p.grad is not None for p in model.parameters())


def test_batch_renorm_steps_are_saved_with_the_model():
    model = build_model({"type": "mlp", "widths": [4], "norm": "batch_renorm"}, (3,), 2)
    model(torch.randn(6, 3))
    model(torch.randn(6, 3))
    key = next(k for k in model.state_dict() if k.endswith("steps"))
    assert model.state_dict()[key].item() == 2
    assert isinstance(model[2], BatchRenorm)


def test_dropout_modes_reach_the_layers():
    model = build_model({"type": "mlp", "widths": [4, 4], "dropout": 0.5, "dropout_mode": "vanilla"},
                        (3,), 2)
    drops = [m for m in model.modules() if isinstance(m, Dropout)]
    assert len(drops) == 2 and all(d.mode == "vanilla" and d.p == 0.5 for d in drops)
    model.eval()
    x = torch.randn(5, 3)
    assert torch.equal(model(x), model(x))


def test_output_activation_and_its_rule():
    probs = build_model({"type": "mlp", "widths": [4], "output_activation": "softmax"}, (3,), 5)
    assert torch.allclose(probs(torch.randn(6, 3)).sum(1), torch.ones(6))
    assert isinstance(build_model({"type": "mlp"}, (3,), 5)[-1], nn.Linear)  # logits by default
    with pytest.raises(ConfigError, match="with loss = 'cross_entropy'.*use output_activation = 'none'"):
        check_output_activation("softmax", "cross_entropy")
    check_output_activation("tanh", "mse")
    check_output_activation("none", "bce")


def test_option_registry_matches_the_builders_and_rejects_unknown_options():
    assert set(MODEL_OPTIONS) == set(MODELS)
    for kind, options in MODEL_OPTIONS.items():
        params = inspect.signature(MODELS[kind]).parameters
        assert set(options) == {p for p in params if p not in ("input_shape", "num_outputs")}
        for name, option in options.items():
            d = params[name].default
            assert isinstance(option, Option) and option.doc, (kind, name)
            assert (list(d) if isinstance(d, tuple) else d) == option.default, (kind, name)
        assert set(COMMON_OPTIONS) <= set(options)
    with pytest.raises(ConfigError, match="model \\(mlp\\): unknown option 'width' \\(did you mean 'widths'\\?\\); allowed: "
                                          "activation, dropout, dropout_mode, norm"):
        build_model({"type": "mlp", "width": 3}, (3,), 2)
    with pytest.raises(ConfigError, match="norm_position = 'middle'; allowed: before, after"):
        build_model({"type": "mlp", "norm_position": "middle"}, (3,), 2)
    with pytest.raises(ConfigError, match="allowed: cnn, mlp, resnet"):
        build_model({"type": "vit"}, (3,), 2)


@pytest.mark.parametrize("input_shape, message", [
    ((64,), r"flattened image, set model.image_shape, e.g. \[1, 8, 8\]"),        # digits
    ((3072,), r"e.g. \[3, 32, 32\]"),                                              # CIFAR
    ((2,), r"shape \(2,\), which are not images; use model.type = \"mlp\""),      # moons
    ((4,), r"shape \(4,\), which are not images"),                                 # iris: not 1×2×2
    ((100,), r"e.g. \[1, 10, 10\]"),
    ((50,), "which are not images"),
])
def test_image_shape_is_suggested_only_for_inputs_that_could_be_images(input_shape, message):
    # "set model.image_shape, e.g. [1, 8, 8] for digits" only where the inputs could be images
    with pytest.raises(ConfigError, match=message):
        build_model({"type": "cnn"}, input_shape, 3)


def test_square_image_shape_is_a_factorization():
    from trainwell.nn.models import square_image_shape
    for size in range(1, 5000):
        shape = square_image_shape(size)
        if shape is not None:
            c, h, w = shape
            assert c * h * w == size and h == w >= 8 and c in (1, 3)
    assert square_image_shape(28 * 28) == (1, 28, 28) and square_image_shape(3 * 64) == (3, 8, 8) and square_image_shape(150) is None


@pytest.mark.parametrize("table, message", [
    ({"widht": [3]}, r"option 'widht' \(did you mean 'widths'\?\): 'widths' belongs to model.type 'mlp' "
                     r"or 'resnet'.*set model.type = 'mlp'"),
    ({"widths": [3]}, r"option 'widths': 'widths' belongs to model.type 'mlp'"),
    ({"layers": []}, r"'layers' belongs to model.type 'cnn'"),
    ({"activaton": "relu"}, r"unknown option 'activaton' \(did you mean 'activation'\?\)"),
    ({"type": "mlp", "widht": [3]}, r"model \(mlp\): unknown option 'widht' \(did you mean 'widths'\?\)"),
    ({"type": "resnet", "blokcs": 2}, r"unknown option 'blokcs' \(did you mean 'blocks'\?\)"),
])
def test_a_typo_in_the_model_table_gets_a_did_you_mean(table, message):
    from trainwell.config import make_config
    with pytest.raises(ConfigError, match=message):
        make_config({"model": table})


def test_auto_picks_a_batch_normed_cnn_for_images_and_an_mlp_otherwise():
    """docs/models.md (`auto`): images, or flat samples whose source declares an image shape of
    their size, get the CNN with batch norm; other samples the 256-256 MLP; given options win."""
    from types import SimpleNamespace

    from trainwell.train.parts import resolve_model_spec

    def resolved(spec, input_shape, meta=None):
        return resolve_model_spec(spec, input_shape, SimpleNamespace(meta=meta or {}))

    digits = resolved({"type": "auto"}, (64,), {"image_shape": (1, 8, 8)})
    assert digits == {"type": "cnn", "norm": "batch", "image_shape": [1, 8, 8]}
    assert resolved({}, (3, 8, 8)) == {"type": "cnn", "norm": "batch"}
    assert resolved({"type": "auto"}, (64,), {"image_shape": (1, 4, 4)}) == {"type": "mlp", "widths": [256, 256]}
    assert resolved({"type": "auto"}, (4,)) == {"type": "mlp", "widths": [256, 256]}
    assert resolved({"type": "auto", "norm": "none"}, (3, 8, 8))["norm"] == "none"
    assert resolved({"type": "mlp", "widths": [8]}, (3, 8, 8)) == {"type": "mlp", "widths": [8]}
    model = build_model(digits, (64,), 10)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert model(torch.randn(2, 64)).shape == (2, 10)


def test_cnn_head_widths_are_hidden_blocks_between_the_pool_and_the_output():
    """docs/models.md (cnn): `head_widths` adds a Linear + the hidden block per entry after the stack."""
    model = build_model({"type": "cnn", "head_widths": [16, 8], "dropout": 0.1}, (1, 8, 8), 10)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 16), (16, 8), (8, 10)]
    assert sum(isinstance(m, Dropout) for m in model.modules()) == 2 + 2    # two conv blocks + two head blocks
    assert model(torch.randn(3, 1, 8, 8)).shape == (3, 10)


@pytest.mark.parametrize("table, message", [
    ({"activation": {"name": "leaky_relu", "alpha": -2.0}}, "activation leaky_relu: alpha = -2.0: must be in [0, 1)"),
    ({"activation": {"name": "leaky_relu", "alpha": 1.5}}, "activation leaky_relu: alpha = 1.5: must be in [0, 1)"),
    ({"activation": {"name": "elu", "alpha": -1.0}}, "activation elu: alpha = -1.0: must be a number >= 0"),
    ({"norm": {"name": "batch", "momentum": 2.0}}, "norm batch: momentum = 2.0: must be a number in [0, 1]"),
    ({"norm": {"name": "layer", "eps": 0.0}}, "norm layer: eps = 0.0: must be a number > 0"),
    ({"norm": {"name": "batch_renorm", "eps": -1.0}}, "norm batch_renorm: eps = -1.0: must be a number > 0"),
])
def test_activation_and_norm_options_out_of_range_are_config_errors(table, message):
    """docs/models.md: a slope that makes max(αx, x) no leaky ReLU, a running-statistics weight
    outside [0, 1] (the running statistics would diverge), an ε that is not positive."""
    with pytest.raises(ConfigError) as error:
        build_model({"type": "mlp", **table}, (4,), 2)
    assert message in str(error.value)
