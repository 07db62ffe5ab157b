"""VGG16's configuration, written once, gives the published shapes and parameter counts;
forward's fused convolution + ReLU (conv_lib.ops.conv2d_relu) agrees with scipy."""

import numpy as np
import pytest
from scipy.signal import correlate

import conv_lib.ops
from conv_lib import conv2d_reference
from conv_lib.models import forward, init_params, vgg16, vgg16_conv_layers
from conv_lib.ops import conv2d_relu


def vgg16_conv_part():
    """VGG16's layer specs up to its last pool: 13 [conv, ReLU] pairs and 5 pools."""
    return [layer for layer in vgg16() if layer[0] in ("conv", "relu", "pool")]


def scipy_conv2d(x, w, b, stride, padding, dilation):
    """The channel-summing rule with scipy: each filter (C_in, kH, kW), its taps spread
    apart by the dilation, correlated with the padded image (C_in, H, W) over all channels
    at once ('valid' leaves one channel), subsampled by the stride, plus the bias."""
    x = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    C_out, C_in, kH, kW = w.shape
    spread = np.zeros((C_out, C_in, (kH - 1) * dilation[0] + 1, (kW - 1) * dilation[1] + 1), dtype=w.dtype)
    spread[:, :, :: dilation[0], :: dilation[1]] = w
    return np.stack([
        [correlate(image, spread[f], mode="valid")[0, :: stride[0], :: stride[1]] + b[f] for f in range(C_out)]
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
    expected = np.maximum(scipy_conv2d(x, w, b, (1, 1), (1, 1), (1, 1)), 0)
    np.testing.assert_allclose(forward(layers, params, x), expected, rtol=1e-10, atol=1e-12)


def test_a_relu_not_after_a_convolution_still_runs(rng):
    # ReLU after a pool (and a conv with no ReLU after it): nothing is fused there.
    layers = [("conv", 3, 3, 1, 1), ("pool", 2, 2), ("relu",), ("conv", 2, 1, 1, 0)]
    params = init_params(layers, (2, 6, 6), rng, dtype=np.float64)
    (w1, b1), (w2, b2) = params
    x = rng.standard_normal((1, 2, 6, 6))
    expected = scipy_conv2d(x, w1, b1, (1, 1), (1, 1), (1, 1)).reshape(1, 3, 3, 2, 3, 2).max(axis=(3, 5))
    expected = scipy_conv2d(np.maximum(expected, 0), w2, b2, (1, 1), (0, 0), (1, 1))
    np.testing.assert_allclose(forward(layers, params, x), expected, rtol=1e-10, atol=1e-12)
    assert (forward(layers, params, x) < 0).any()  # the last conv has no ReLU after it


# Odd shapes for the fused path: stride, padding and dilation different along rows and
# columns, non-square images and kernels, one input channel, several images.
# (N, C_in, H, W), (C_out, kH, kW), stride, padding, dilation
ODD_SHAPES = [
    ((2, 1, 7, 9), (3, 3, 2), (2, 1), (1, 0), (1, 2)),
    ((1, 3, 10, 6), (4, 1, 3), (1, 1), (0, 2), (1, 1)),
    ((1, 5, 8, 8), (2, 3, 3), (3, 3), (2, 2), (2, 2)),
    ((3, 2, 5, 11), (1, 2, 4), (1, 2), (1, 3), (2, 1)),
]


@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation", ODD_SHAPES)
@pytest.mark.parametrize("rows_per_band", [None, 1, 2])
def test_conv2d_relu_agrees_with_scipy_and_the_reference(
    x_shape, w_shape, stride, padding, dilation, dtype, tolerance, rows_per_band, rng, monkeypatch
):
    if rows_per_band:  # short bands: band boundaries, a shorter last band, bands wholly in the padding
        monkeypatch.setattr(conv_lib.ops, "band_rows", lambda *shape: rows_per_band)
    C_out, kH, kW = w_shape
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal((C_out, x_shape[1], kH, kW)).astype(dtype)
    b = rng.standard_normal(C_out).astype(dtype)
    out = conv2d_relu(x, w, b, stride, padding, dilation)
    assert out.dtype == dtype
    expected = np.maximum(scipy_conv2d(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                                       stride, padding, dilation), 0)
    np.testing.assert_allclose(out, expected, rtol=tolerance, atol=tolerance)
    reference = np.maximum(conv2d_reference(x, w, b, stride, padding, dilation), 0)
    np.testing.assert_allclose(out, reference, rtol=tolerance, atol=tolerance)
    assert (out == 0).any() and (out > 0).any()


def test_conv2d_relu_without_bias(rng):
    x, w = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    expected = np.maximum(scipy_conv2d(x, w, np.zeros(3), (1, 1), (1, 1), (1, 1)), 0)
    np.testing.assert_allclose(conv2d_relu(x, w, padding=1), expected, rtol=1e-10, atol=1e-12)
