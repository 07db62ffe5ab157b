"""The fast conv2d, the readable reference, conv2d_multi_in and an independent oracle agree.

The oracle is scipy: scipy.signal.correlate2d of each (filter channel, input
channel) pair, summed over channels, plus the bias; stride by subsampling the
stride-1 result, dilation by spreading the kernel's taps apart with zeros.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.signal import correlate2d

import conv_lib
import conv_lib.ops
from conv_lib import (
    avg_pool2d,
    avg_pool2d_reference,
    conv2d,
    conv2d_fast,
    conv2d_multi_in,
    conv2d_reference,
    max_pool2d,
    max_pool2d_reference,
)


def dilate_kernel(k, dilation):
    """Insert dilation-1 zeros between the taps of a 2-D kernel."""
    kH, kW = k.shape
    spread = np.zeros(((kH - 1) * dilation[0] + 1, (kW - 1) * dilation[1] + 1), dtype=k.dtype)
    spread[:: dilation[0], :: dilation[1]] = k
    return spread


def scipy_conv2d(x, w, b, stride, padding, dilation, groups=1):
    """The channel-summing rule computed with scipy, one channel pair at a time.

    With groups, filter f of group g = f // (C_out/groups) sums only its group's channels:
    its channel c meets input channel g*C_in/groups + c.
    """
    N, C_in = x.shape[:2]
    C_out, depth = w.shape[:2]
    assert depth * groups == C_in
    x = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    maps = []
    for n in range(N):
        for f in range(C_out):
            first = f // (C_out // groups) * depth  # the first input channel of the filter's group
            total = sum(correlate2d(x[n, first + c], dilate_kernel(w[f, c], dilation), mode="valid")
                        for c in range(depth))
            maps.append(total[:: stride[0], :: stride[1]] + (0 if b is None else b[f]))
    return np.array(maps).reshape(N, C_out, *maps[0].shape)


@st.composite
def conv_cases(draw):
    kH, kW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    span = ((kH - 1) * dilation[0] + 1, (kW - 1) * dilation[1] + 1)
    H = draw(st.integers(max(1, span[0] - 2 * padding[0]), 12))
    W = draw(st.integers(max(1, span[1] - 2 * padding[1]), 12))
    N, C_in, C_out = draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C_in, H, W))
    w = rng.standard_normal((C_out, C_in, kH, kW))
    b = rng.standard_normal(C_out) if draw(st.booleans()) else None
    return x, w, b, stride, padding, dilation


@given(conv_cases())
def test_fast_reference_and_scipy_agree(case):
    x, w, b, stride, padding, dilation = case
    expected = scipy_conv2d(x, w, b, stride, padding, dilation)
    np.testing.assert_allclose(conv2d_reference(x, w, b, stride, padding, dilation), expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(conv2d_fast(x, w, b, stride, padding, dilation), expected, rtol=1e-10, atol=1e-10)


@given(conv_cases(), st.integers(1, 4))
def test_fast_path_agrees_whatever_the_band_height(case, rows_per_band):
    # The fast path computes the output in bands of rows. Force short bands so that band
    # boundaries, a shorter last band and bands lying wholly in the padding are exercised.
    x, w, b, stride, padding, dilation = case
    original = conv_lib.ops.band_rows
    conv_lib.ops.band_rows = lambda *shape: rows_per_band
    try:
        out = conv2d_fast(x, w, b, stride, padding, dilation)
    finally:
        conv_lib.ops.band_rows = original
    np.testing.assert_allclose(out, scipy_conv2d(x, w, b, stride, padding, dilation), rtol=1e-10, atol=1e-10)


def scipy_single_filter(x, w, b, stride, dilation):
    """One filter (C_in, kH, kW) on one image (C_in, H, W) with scipy: the channel sum, then b once."""
    total = sum(correlate2d(x[c], dilate_kernel(w[c], dilation), mode="valid") for c in range(x.shape[0]))
    return total[:: stride[0], :: stride[1]] + b


@st.composite
def single_filter_cases(draw):
    kH, kW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    H = draw(st.integers((kH - 1) * dilation[0] + 1, 12))
    W = draw(st.integers((kW - 1) * dilation[1] + 1, 12))
    C_in = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((C_in, H, W))
    w = rng.standard_normal((C_in, kH, kW))
    b = draw(st.floats(-5, 5))
    return x, w, b, stride, dilation


@given(single_filter_cases())
def test_conv2d_multi_in_agrees_with_scipy(case):
    x, w, b, stride, dilation = case
    expected = scipy_single_filter(x, w, b, stride, dilation)
    np.testing.assert_allclose(conv2d_multi_in(x, w, b, stride, dilation), expected, rtol=1e-10, atol=1e-10)
    # and with conv2d, which holds the same filter as the only one of a layer, on a batch of one image
    np.testing.assert_allclose(conv2d(x[None], w[None], np.array([b]), stride, 0, dilation)[0, 0], expected,
                               rtol=1e-10, atol=1e-10)


def test_conv2d_multi_in_adds_the_bias_exactly_once(rng):
    # Three channels, so a bias added per channel would show as 3 * b, and one added per tap as 27 * b.
    x = rng.standard_normal((3, 6, 7))
    w = rng.standard_normal((3, 3, 3))
    b = 2.5
    with_bias, without_bias = conv2d_multi_in(x, w, b), conv2d_multi_in(x, w)
    np.testing.assert_allclose(without_bias, scipy_single_filter(x, w, 0.0, (1, 1), (1, 1)), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(with_bias, scipy_single_filter(x, w, b, (1, 1), (1, 1)), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(with_bias - without_bias, np.full((4, 5), b), rtol=1e-12)
    # a numpy number, e.g. b[f] of a layer's biases, is the same bias
    np.testing.assert_array_equal(conv2d_multi_in(x, w, np.array([0.0, b])[1]), with_bias)


def test_conv2d_multi_in_keeps_float32(rng):
    x, w = rng.standard_normal((2, 5, 5)).astype(np.float32), rng.standard_normal((2, 3, 3)).astype(np.float32)
    assert conv2d_multi_in(x, w, 0.5).dtype == np.float32


def test_bands_hold_about_one_output_but_never_fewer_than_768_pixels():
    band_rows = conv_lib.ops.band_rows
    # VGG16 conv1_2, float32: the output is 12.8 MB, so a band's scratch stops at 8 MiB:
    # 8 MiB / (576 taps * 4 bytes) = 3640 pixels = 17 rows of 224 (16.25, rounded up).
    assert band_rows(64, 224, 224, 576, 4) == 17
    # conv2_2: the output (6,422,528 bytes) fits under 8 MiB, so the scratch is about the output:
    # 6,422,528 / (1152 taps * 4 bytes) = 1393 pixels = 13 rows of 112 (12.4, rounded up).
    assert band_rows(128, 112, 112, 1152, 4) == 13
    # conv4_2: one output's worth would be 87 pixels, too thin; 768 pixels is 28 rows = all of it.
    assert band_rows(512, 28, 28, 4608, 4) == 28
    # A tiny teaching example is done in one band.
    assert band_rows(2, 3, 3, 27, 8) == 3


def test_vgg_sized_layer_agrees_with_scipy(rng):
    x = rng.standard_normal((1, 64, 28, 28)).astype(np.float32)
    w = rng.standard_normal((8, 64, 3, 3)).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    expected = scipy_conv2d(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), (1, 1), (1, 1), (1, 1))
    np.testing.assert_allclose(conv2d(x, w, b, padding=1), expected, rtol=1e-4, atol=1e-4)


@st.composite
def pool_cases(draw):
    size = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    H, W = draw(st.integers(size[0], 9)), draw(st.integers(size[1], 9))
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal((draw(st.integers(1, 2)), draw(st.integers(1, 3)), H, W))
    return x, size, stride


@given(pool_cases())
def test_pooling_fast_and_reference_agree(case):
    x, size, stride = case
    np.testing.assert_array_equal(max_pool2d(x, size, stride), max_pool2d_reference(x, size, stride))
    np.testing.assert_allclose(avg_pool2d(x, size, stride), avg_pool2d_reference(x, size, stride), rtol=1e-12)


@pytest.mark.parametrize("size", [2, 3])
def test_pooling_matches_block_reshape_when_windows_tile_the_image(rng, size):
    # An independent oracle: with stride == size and a divisible image, pooling is a
    # reduction over non-overlapping blocks.
    x = rng.standard_normal((2, 3, 6 * size, 4 * size))
    blocks = x.reshape(2, 3, 6, size, 4, size)
    np.testing.assert_array_equal(max_pool2d(x, size, size), blocks.max(axis=(3, 5)))
    np.testing.assert_allclose(avg_pool2d(x, size, size), blocks.mean(axis=(3, 5)), rtol=1e-12)
