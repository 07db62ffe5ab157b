"""VGG16's configuration, written once, gives the published shapes and parameter counts;
models.forward, with init_params' weights, agrees with scipy on VGG16's first layers and on odd stacks;
grouped and depthwise layers count their parameters and multiply-adds by the hand formulas."""

import numpy as np
import pytest
from scipy.signal import correlate

import conv_lib.ops
from conv_lib.models import (
    compare_blocks,
    depthwise_separable_block,
    forward,
    init_params,
    layer_macs,
    layer_names,
    layer_output_shape,
    layer_params,
    standard_block,
    summary,
    vgg16,
    vgg16_conv_layers,
)


def vgg16_conv_part():
    """VGG16's layer specs up to its last pool: 13 [conv, ReLU] pairs and 5 pools."""
    return [layer for layer in vgg16() if layer[0] in ("conv", "relu", "pool")]


def scipy_conv2d(x, w, b, stride, padding):
    """The channel-summing rule with scipy: each filter (C_in, k, k) correlated with the
    padded image (C_in, H, W) over all channels at once ('valid' leaves one channel),
    subsampled by the stride, plus the filter's bias.

    x: (N, C_in, H, W); w: (C_out, C_in, k, k); b: (C_out,). Returns (N, C_out, Ho, Wo).
    """
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return np.stack([
        [correlate(image, w[f], mode="valid")[0, ::stride, ::stride] + b[f] for f in range(len(w))]
        for image in x
    ])


def test_vgg16_has_13_convolutions_with_the_published_channel_counts():
    layers = vgg16_conv_layers()
    assert [layer["C_out"] for layer in layers] == [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    assert layers[0] == dict(name="conv1_1", C_in=3, C_out=64, H=224, W=224)
    assert layers[-1] == dict(name="conv5_3", C_in=512, C_out=512, H=14, W=14)


def test_vgg16_conv_parameters_total_14_714_688():
    # each layer: C_out filters of C_in*3*3 weights, plus C_out biases
    total = sum(l["C_out"] * (l["C_in"] * 9 + 1) for l in vgg16_conv_layers())
    assert total == 14_714_688
    params = init_params(vgg16_conv_part(), (3, 224, 224), np.random.default_rng(0))
    assert len(params) == 13
    assert sum(w.size + b.size for w, b in params) == total


def test_vgg16_conv_part_shape_on_a_small_image(rng):
    layers = vgg16_conv_part()
    params = init_params(layers, (3, 32, 32), rng, dtype=np.float64)
    out = forward(layers, params, rng.standard_normal((1, 3, 32, 32)))
    assert out.shape == (1, 512, 1, 1)  # five 2x2 pools: 32 -> 1


def test_vgg16_first_layer_is_conv_then_relu(rng):
    layers = vgg16()[:2]
    assert layers == [("conv", 64, 3, 1, 1), ("relu",)]
    (w, b), = params = init_params(layers, (3, 32, 32), rng, dtype=np.float64)
    b += rng.standard_normal(64)  # a bias that is not zero, so that adding it is checked too
    x = rng.standard_normal((1, 3, 32, 32))
    expected = np.maximum(scipy_conv2d(x, w, b, 1, 1), 0)
    np.testing.assert_allclose(forward(layers, params, x), expected, rtol=1e-10, atol=1e-12)


def test_forward_runs_the_layers_in_the_order_given(rng):
    # A ReLU after a pool, and a last convolution with no ReLU after it.
    layers = [("conv", 3, 3, 1, 1), ("pool", 2, 2), ("relu",), ("conv", 2, 1, 1, 0)]
    params = init_params(layers, (2, 6, 6), rng, dtype=np.float64)
    (w1, b1), (w2, b2) = params
    x = rng.standard_normal((1, 2, 6, 6))
    expected = scipy_conv2d(x, w1, b1, 1, 1).reshape(1, 3, 3, 2, 3, 2).max(axis=(3, 5))
    expected = scipy_conv2d(np.maximum(expected, 0), w2, b2, 1, 0)
    np.testing.assert_allclose(forward(layers, params, x), expected, rtol=1e-10, atol=1e-12)
    assert (forward(layers, params, x) < 0).any()  # the last conv has no ReLU after it


# Odd stacks: stride, padding and kernel sizes other than VGG's, one input channel,
# non-square images, several images; each convolution followed by a ReLU.
# (N, C_in, H, W), [(c_out, k, stride, padding), ...]
ODD_STACKS = [
    ((2, 1, 7, 9), [(3, 3, 2, 1), (2, 1, 1, 0)]),
    ((1, 3, 10, 6), [(4, 5, 1, 2), (2, 3, 3, 2)]),
    ((3, 2, 5, 11), [(1, 2, 1, 1), (3, 4, 2, 3)]),
]


@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize("x_shape, convolutions", ODD_STACKS)
@pytest.mark.parametrize("rows_per_band", [None, 1, 2])
def test_forward_on_odd_stacks_agrees_with_scipy(x_shape, convolutions, dtype, tolerance, rows_per_band, rng, monkeypatch):
    if rows_per_band:  # short bands: band boundaries, a shorter last band, bands wholly in the padding
        monkeypatch.setattr(conv_lib.ops, "band_rows", lambda *shape: rows_per_band)
    layers = [spec for c_out, k, stride, padding in convolutions for spec in (("conv", c_out, k, stride, padding), ("relu",))]
    params = init_params(layers, x_shape[1:], rng, dtype=dtype)
    for _, b in params:
        b += rng.standard_normal(b.shape).astype(dtype)  # biases that are not zero, so that adding them is checked
    x = rng.standard_normal(x_shape).astype(dtype)
    out = forward(layers, params, x)
    assert out.dtype == dtype
    expected = x.astype(np.float64)
    for (c_out, k, stride, padding), (w, b) in zip(convolutions, params):
        expected = np.maximum(scipy_conv2d(expected, w.astype(np.float64), b.astype(np.float64), stride, padding), 0)
    np.testing.assert_allclose(out, expected, rtol=tolerance, atol=tolerance)
    assert (out == 0).any() and (out > 0).any()


# --------------------------------------------------------------------------
# Grouped convolutions and MobileNet's depthwise separable block
# --------------------------------------------------------------------------

def test_a_grouped_layer_by_hand():
    # 64 -> 128 channels, 3x3, groups=4: each filter sees 64/4 = 16 channels.
    layer = ("conv", 128, 3, 1, 1, 4)
    assert layer_output_shape(layer, (64, 56, 56)) == (128, 56, 56)
    assert layer_params(layer, (64, 56, 56)) == 128 * (16 * 9 + 1) == 18_560
    assert layer_macs(layer, (64, 56, 56), (128, 56, 56)) == 128 * 56 * 56 * 16 * 9
    # The same layer without groups: 4 times the weights and the multiply-adds.
    assert layer_params(layer[:5], (64, 56, 56)) == 128 * (64 * 9 + 1)


def test_a_depthwise_layer_by_hand():
    layer = ("conv", 32, 3, 2, 1, 32)  # stride 2: 112 -> 56
    assert layer_output_shape(layer, (32, 112, 112)) == (32, 56, 56)
    assert layer_params(layer, (32, 112, 112)) == 32 * (1 * 9 + 1) == 320
    assert layer_macs(layer, (32, 112, 112), (32, 56, 56)) == 32 * 56 * 56 * 9


@pytest.mark.parametrize("c_in, c_out, side", [(32, 64, 112), (128, 128, 56), (512, 1024, 7), (3, 5, 9)])
def test_the_separable_block_against_the_hand_formula(c_in, c_out, side):
    shape = (c_in, side, side)
    standard, separable = summary(standard_block(c_in, c_out), shape), summary(depthwise_separable_block(c_in, c_out), shape)
    assert standard.params == c_out * (c_in * 9 + 1)
    assert separable.params == c_in * (9 + 1) + c_out * (c_in + 1)
    assert standard.macs == side * side * c_out * c_in * 9
    assert separable.macs == side * side * c_in * 9 + side * side * c_in * c_out
    assert standard[-1].output_shape == separable[-1].output_shape == (c_out, side, side)
    assert standard.macs / separable.macs == pytest.approx(1 / (1 / c_out + 1 / 9))


def test_mobilenet_sizes_save_about_8x_and_the_summary_says_dw_and_pw():
    comparison = compare_blocks(32, 64, (32, 112, 112))
    assert comparison.standard.params == 18_496 and comparison.separable.params == 2_432
    assert comparison.params_ratio == pytest.approx(18_496 / 2_432)
    assert 7.5 < comparison.macs_ratio < 8  # 1 / (1/64 + 1/9) = 7.89
    printed = str(comparison)
    assert "18,496" in printed and "2,432" in printed and "7.9x" in printed
    rows = str(summary(depthwise_separable_block(32, 64), (32, 112, 112))).splitlines()
    assert [row.split()[0] for row in rows] == ["layer", "input", "dw1_1", "relu1_1", "pw1_2", "relu1_2", "total"]
    # activations: dw (32, 112, 112) and pw (64, 112, 112) = 1,204,224 values x 4 bytes = 4.8 MB
    assert rows[-1].split()[1:] == ["2,432", "29,302,784", "4.8"]
    with pytest.raises(ValueError, match="the input must have c_in = 32 channels"):
        compare_blocks(32, 64, (3, 112, 112))


def test_grouped_layers_are_named_for_what_they_are_and_vgg_keeps_its_names():
    layers = [("conv", 8, 3, 1, 1), ("conv", 8, 3, 1, 1, 8), ("relu",), ("conv", 16, 1, 1, 0),
              ("conv", 16, 3, 1, 1, 4), ("conv", 32, 1, 1, 0), ("pool", 2, 2), ("conv", 32, 1, 1, 0)]
    assert layer_names(layers, 3) == ["conv1_1", "dw1_2", "relu1_2", "pw1_3", "gconv1_4", "pw1_5", "pool1", "conv2_1"]
    names = layer_names(vgg16())
    assert names[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"] and names[-1] == "fc8"
    assert layer_names(vgg16(), 3) == names


@pytest.mark.parametrize("layer, shape, message", [
    (("conv", 64, 3, 1, 1, 3), (32, 8, 8), r"groups=3: its input's channels \(32\) must split into 3 equal groups"),
    (("conv", 10, 3, 1, 1, 4), (32, 8, 8), r"groups=4: its filters \(10\) must split into 4 equal groups"),
    (("conv", 8, 3, 1, 1, 0), (8, 8, 8), r"groups must be a positive integer"),
])
def test_groups_that_do_not_split_the_channels_are_refused(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer_output_shape(layer, shape, 2)


def test_forward_runs_grouped_and_depthwise_layers_as_scipy_does(rng):
    layers = [("conv", 6, 3, 1, 1, 2), ("relu",)] + depthwise_separable_block(6, 4, stride=2)
    params = init_params(layers, (4, 9, 9), rng, dtype=np.float64)
    assert [w.shape for w, _ in params] == [(6, 2, 3, 3), (6, 1, 3, 3), (4, 6, 1, 1)]
    x = rng.standard_normal((2, 4, 9, 9))

    def grouped(images, w, b, stride, padding, groups):
        depth, per_group = images.shape[1] // groups, len(w) // groups
        return np.concatenate([
            scipy_conv2d(images[:, g * depth : (g + 1) * depth], w[g * per_group : (g + 1) * per_group],
                         b[g * per_group : (g + 1) * per_group], 1, padding)[:, :, ::stride, ::stride]
            for g in range(groups)], axis=1)

    (w1, b1), (w2, b2), (w3, b3) = params
    expected = np.maximum(grouped(x, w1, b1, 1, 1, 2), 0)
    expected = np.maximum(grouped(expected, w2, b2, 2, 1, 6), 0)
    expected = np.maximum(grouped(expected, w3, b3, 1, 0, 1), 0)
    out = forward(layers, params, x)
    assert out.shape == (2, 4, 5, 5)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
