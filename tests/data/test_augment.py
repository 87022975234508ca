"""Batched augmentation: exact replay from the generator state, geometry against known moves,
counts and statistics, valid ranges, dtype/device, and config errors."""
import pytest
import torch

from trainwell.data.augment import (AUGMENTATIONS, ColorJitter, Compose, Contrast, Crop, Cutout, HFlip, Noise,
                                    Rotate, Saturation, Scale, Translate, VFlip, affine_images,
                                    describe_augmentations, make_augment)
from trainwell.errors import ConfigError


def batch(n=32, c=3, h=8, w=8, seed=0):
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed))


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


ALL = sorted(AUGMENTATIONS)


# ----------------------------------------------------------------------------- replay
@pytest.mark.parametrize("name", ALL)
def test_same_generator_state_gives_identical_output(name):
    op = AUGMENTATIONS[name]()
    x = batch()
    g = gen(7)
    state = g.get_state()
    first = op(x, g)
    g.set_state(state)
    again = op(x, g)
    assert torch.equal(first, again)
    assert not torch.equal(op(x, g), first)           # the generator moved on: a new draw


def test_resumed_sequence_of_batches_replays_exactly():
    aug = make_augment([{"name": "crop", "pad": 2}, "hflip", {"name": "rotate", "degrees": 10}, "cutout",
                        "color_jitter", "noise"])
    xs = [batch(seed=s) for s in range(4)]
    g = gen(1)
    full = [aug(x, g) for x in xs]
    g = gen(1)
    aug(xs[0], g)
    saved = g.get_state()                              # what the trainer checkpoints
    g2 = torch.Generator()
    g2.set_state(saved)
    resumed = [aug(x, g2) for x in xs[1:]]
    assert all(torch.equal(a, b) for a, b in zip(full[1:], resumed))


@pytest.mark.parametrize("name", ALL)
def test_probability_zero_is_exact_identity_and_keeps_shape_dtype(name):
    op = AUGMENTATIONS[name](p=0.0)
    x = batch().double()
    out = op(x, gen())
    assert out.dtype == torch.float64 and out.shape == x.shape and torch.equal(out, x)


# ----------------------------------------------------------------------------- flips
def test_hflip_twice_with_p1_is_identity_and_once_mirrors():
    x = batch()
    flip = HFlip(p=1.0)
    assert torch.equal(flip(x, gen()), x.flip(-1))
    assert torch.equal(flip(flip(x, gen()), gen(1)), x)
    assert torch.equal(VFlip(p=1.0)(x, gen()), x.flip(-2))


def test_hflip_probability_flips_about_half_of_the_samples():
    x = torch.arange(2000 * 4, dtype=torch.float32).view(2000, 1, 1, 4)
    out = HFlip(p=0.5)(x, gen())
    flipped = (out[:, 0, 0, 0] != x[:, 0, 0, 0]).float().mean().item()
    assert 0.45 < flipped < 0.55


# ----------------------------------------------------------------------------- crop
def test_crop_with_pad_zero_is_identity():
    x = batch()
    assert torch.equal(Crop(pad=0)(x, gen()), x)


@pytest.mark.parametrize("padding", ["zeros", "reflect"])
def test_crop_output_is_a_window_of_the_padded_image_and_differs_per_sample(padding):
    x = batch(n=64, c=2, h=6, w=6)
    pad = 2
    out = Crop(pad=pad, padding=padding)(x, gen(3))
    mode = "constant" if padding == "zeros" else "reflect"
    padded = torch.nn.functional.pad(x, (pad,) * 4, mode=mode)
    found = []
    for i in range(x.shape[0]):                        # independent reference: search every window
        hits = [(dy, dx) for dy in range(2 * pad + 1) for dx in range(2 * pad + 1)
                if torch.equal(padded[i, :, dy:dy + 6, dx:dx + 6], out[i])]
        assert hits, f"sample {i} is not a crop of its padded image"
        found.append(hits[0])
    assert len(set(found)) > 10                        # per-sample offsets, not one for the batch


def test_crop_reflect_needs_pad_smaller_than_the_image():
    with pytest.raises(ConfigError, match="reflect padding needs pad < image size"):
        Crop(pad=8, padding="reflect")(batch(), gen())


# ----------------------------------------------------------------------------- affine family
def test_known_translation_moves_a_known_pixel():
    x = torch.zeros(2, 1, 7, 9)
    x[:, 0, 3, 4] = 1.0
    shift = torch.tensor([[2.0, 1.0], [-3.0, 0.0]])    # (dx right, dy down) in pixels
    out = affine_images(x, angle=torch.zeros(2), scale=torch.ones(2), shift=shift)
    expected = torch.zeros_like(x)
    expected[0, 0, 4, 6] = 1.0
    expected[1, 0, 3, 1] = 1.0
    assert torch.allclose(out, expected, atol=1e-5)


def test_rotation_by_90_degrees_and_scale_2_move_known_pixels():
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 3] = 1.0                                # one pixel right of the center
    rot = affine_images(x, angle=torch.tensor([90.0]), scale=torch.ones(1), shift=torch.zeros(1, 2))
    assert rot[0, 0, 3, 2] == pytest.approx(1.0, abs=1e-5) and rot.sum() == pytest.approx(1.0, abs=1e-4)
    wide = torch.zeros(1, 1, 5, 9)                    # non-square: no shear from normalized coordinates
    wide[0, 0, 2, 6] = 1.0                             # two pixels right of the center (2, 4)
    rot = affine_images(wide, angle=torch.tensor([90.0]), scale=torch.ones(1), shift=torch.zeros(1, 2))
    assert rot[0, 0, 4, 4] == pytest.approx(1.0, abs=1e-5)
    x = torch.zeros(1, 1, 9, 9)
    x[0, 0, 4, 5] = 1.0
    zoom = affine_images(x, angle=torch.zeros(1), scale=torch.tensor([2.0]), shift=torch.zeros(1, 2))
    assert zoom[0, 0, 4].argmax().item() == 6         # distance 1 from the center becomes 2


def test_rotation_by_zero_and_scale_one_are_identity():
    x = batch(h=10, w=7)
    assert torch.allclose(Rotate(degrees=0.0)(x, gen()), x, atol=1e-5)
    assert torch.allclose(Scale(min_scale=1.0, max_scale=1.0)(x, gen()), x, atol=1e-5)
    assert torch.allclose(Translate(max_shift=0.0)(x, gen()), x, atol=1e-5)


def test_rotation_angles_differ_per_sample_and_stay_in_range():
    x = torch.zeros(16, 1, 15, 15)
    x[:, 0, 7, 12] = 1.0                               # a dot 5 pixels right of the center
    out = Rotate(degrees=30.0)(x, gen(2))
    ys, xs = torch.meshgrid(torch.arange(15.0), torch.arange(15.0), indexing="ij")
    mass = out[:, 0].sum((1, 2))
    cy, cx = (out[:, 0] * ys).sum((1, 2)) / mass - 7, (out[:, 0] * xs).sum((1, 2)) / mass - 7
    angles = torch.rad2deg(torch.atan2(cy, cx))
    assert angles.abs().max() <= 30.5
    assert angles.std() > 5                            # different samples, different angles


def test_translate_shifts_within_max_shift():
    x = torch.zeros(64, 1, 20, 20)
    x[:, 0, 10, 10] = 1.0
    out = Translate(max_shift=0.1)(x, gen(4))
    ys, xs = torch.meshgrid(torch.arange(20.0), torch.arange(20.0), indexing="ij")
    mass = out[:, 0].sum((1, 2))
    dx = (out[:, 0] * xs).sum((1, 2)) / mass - 10
    dy = (out[:, 0] * ys).sum((1, 2)) / mass - 10
    assert dx.abs().max() <= 2.0 + 1e-4 and dy.abs().max() <= 2.0 + 1e-4
    assert dx.abs().max() > 1.0 and dy.abs().max() > 1.0


def test_affine_ops_stay_in_the_input_range():
    x = batch() * 0.5 + 0.25                           # values in [0.25, 0.75]
    for op in (Rotate(degrees=45.0), Scale(min_scale=0.5, max_scale=1.5), Translate(max_shift=0.3)):
        out = op(x, gen())
        assert out.min() >= x.min() and out.max() <= x.max()


# ----------------------------------------------------------------------------- noise
def test_noise_has_the_requested_std_and_works_on_flat_inputs():
    x = torch.zeros(4000, 50)
    out = Noise(std=0.3, clamp=False)(x, gen())
    assert out.std().item() == pytest.approx(0.3, rel=0.02)
    assert out.mean().abs().item() < 0.01
    clamped = Noise(std=0.3)(batch(), gen())
    assert clamped.min() >= 0 and clamped.max() <= 1


# ----------------------------------------------------------------------------- color
def test_jitter_keeps_the_range_and_changes_samples_differently():
    x = batch(n=64)
    out = ColorJitter(brightness=0.5, contrast=0.5, saturation=0.5)(x, gen())
    assert out.min() >= x.min() and out.max() <= x.max()
    change = (out - x).mean((1, 2, 3))
    assert change.std() > 0.01


def test_contrast_scales_deviation_from_the_mean_within_strength():
    x = batch(n=64) * 0.2 + 0.4                        # values in [0.4, 0.6]
    x[0] = torch.linspace(-10, 10, 3 * 64).view(3, 8, 8)   # a wide batch range: nothing clamps
    out = Contrast(strength=0.3)(x, gen())
    ratio = out[1:].std((1, 2, 3)) / x[1:].std((1, 2, 3))
    assert ratio.min() >= 0.7 - 1e-4 and ratio.max() <= 1.3 + 1e-4 and ratio.std() > 0.05
    assert torch.allclose(out[1:].mean((1, 2, 3)), x[1:].mean((1, 2, 3)), atol=1e-5)


def test_saturation_leaves_gray_pixels_alone_and_needs_rgb():
    gray = batch(c=1).expand(-1, 3, -1, -1).contiguous()
    assert torch.allclose(Saturation(strength=0.5)(gray, gen()), gray, atol=1e-5)
    with pytest.raises(ConfigError, match="saturation needs 3-channel"):
        ColorJitter()(batch(c=1), gen())
    assert ColorJitter(saturation=0.0)(batch(c=1), gen()).shape == (32, 1, 8, 8)


# ----------------------------------------------------------------------------- cutout
def _ones_with_zero_in_range(*shape):
    x = torch.ones(*shape)
    x[0, 0, 0, 0] = -1.0            # the batch's range is [-1, 1]: the fill value 0 is a valid value
    return x


def test_cutout_inside_zeroes_exactly_the_square_area():
    x = _ones_with_zero_in_range(20, 3, 8, 8)
    op = Cutout(size=0.5, inside=True)
    out = op(x, gen())
    assert op.side(8, 8) == 4
    assert (out == 0).sum().item() == 20 * 3 * 4 * 4
    assert ((out == 0).sum((1, 2, 3)) == 3 * 16).all()


def test_cutout_paper_rule_gives_a_clipped_square_per_sample():
    x = _ones_with_zero_in_range(200, 1, 8, 8)
    out = Cutout(size=0.5)(x, gen(5))
    holes = out[:, 0] == 0
    rows, cols = holes.any(2).sum(1), holes.any(1).sum(1)
    assert (holes.sum((1, 2)) == rows * cols).all()    # one rectangle per sample
    assert rows.max() == 4 and cols.max() == 4 and rows.min() >= 2 and cols.min() >= 2
    assert (rows < 4).any()                            # squares at the border are clipped
    assert len({tuple(h.nonzero()[0].tolist()) for h in holes}) > 20


@pytest.mark.parametrize("value", [5.0, -3.0, 0.5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8])
def test_cutout_fill_is_clamped_so_outputs_stay_valid_images(value, dtype):
    x = batch()                                         # pixels in [0, 1]
    x = (x * 200 + 20).round().to(dtype) if dtype == torch.uint8 else x
    value = value * 100 if dtype == torch.uint8 else value     # 500, -300, 50 for uint8
    out = Cutout(size=0.5, inside=True, value=value)(x, gen())
    low, high = x.min(), x.max()
    assert out.dtype == dtype and (out >= low).all() and (out <= high).all()
    holes = out != x
    expected = torch.tensor(value).clamp(float(low), float(high)).round() if dtype == torch.uint8 else \
        torch.tensor(value).clamp(float(low), float(high))
    assert holes.any() and (out[holes].double() == expected.double()).all()


# ----------------------------------------------------------------------------- dtypes, shapes, errors
@pytest.mark.parametrize("dtype", [torch.float16, torch.float64, torch.uint8])
@pytest.mark.parametrize("name", ALL)
def test_dtype_and_shape_are_preserved(name, dtype):
    x = (batch() * 255).to(dtype) if dtype == torch.uint8 else batch().to(dtype)
    out = AUGMENTATIONS[name]()(x, gen())
    assert out.dtype == dtype and out.shape == x.shape and out.device == x.device


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", ALL)
def test_cuda_batch_with_the_trainers_cpu_generator(name):
    x = batch().cuda().half()
    g = gen(3)
    state = g.get_state()
    out = AUGMENTATIONS[name]()(x, g)
    assert out.device == x.device and out.dtype == torch.float16
    g.set_state(state)
    assert torch.equal(AUGMENTATIONS[name]()(x, g), out)


@pytest.mark.parametrize("name", [n for n in ALL if n != "noise"])
def test_image_ops_reject_flat_inputs_with_a_clear_error(name):
    with pytest.raises(ConfigError, match=rf"augment '{name}' needs images \(N, C, H, W\); got a batch of shape \(4, 10\)"):
        AUGMENTATIONS[name]()(torch.rand(4, 10), gen())


def test_config_errors_name_entry_option_and_value():
    with pytest.raises(ConfigError, match=r"augment\[1\]: unknown augment 'hflp' \(did you mean 'hflip'\?\)"):
        make_augment(["crop", "hflp"])
    with pytest.raises(ConfigError, match=r"augment\[0\] \(crop\): unknown option 'padd'"):
        make_augment([{"name": "crop", "padd": 2}])
    with pytest.raises(ConfigError, match=r"augment\[0\]: rotate\.degrees = -5\.0: must be a number of degrees in \[0, 180\]"):
        make_augment([{"name": "rotate", "degrees": -5}])
    with pytest.raises(ConfigError, match=r"hflip\.p = 2\.0: must be a probability in \[0, 1\]"):
        make_augment([{"name": "hflip", "p": 2}])
    with pytest.raises(ConfigError, match="crop.padding = 'wrap'"):
        Crop(padding="wrap")
    with pytest.raises(ConfigError, match="torch.Generator"):
        HFlip()(batch(), 0)


def test_make_augment_builds_ops_in_order_and_description_matches_defaults():
    aug = make_augment([{"name": "crop", "pad": 2}, "hflip", {"name": "rotate", "degrees": 10}])
    assert isinstance(aug, Compose) and [type(op) for op in aug.ops] == [Crop, HFlip, Rotate]
    assert aug.ops[0].pad == 2 and aug.ops[2].degrees == 10.0
    info = describe_augmentations()
    assert set(info) == set(AUGMENTATIONS)
    assert info["crop"]["options"]["pad"]["default"] == 4
    assert info["hflip"]["options"]["p"]["default"] == 0.5
    for name, cls in AUGMENTATIONS.items():
        for option, meta in info[name]["options"].items():
            assert meta["doc"] and getattr(cls(), option) == meta["default"]
    assert torch.equal(make_augment([])(batch(), gen()), batch())
