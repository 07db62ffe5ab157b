"""Grouped and depthwise convolution (conv2d's groups=): where the channel-summing rule bends.

The oracle is scipy (test_against_scipy.scipy_conv2d with groups): scipy.signal.correlate2d
of each filter channel with the input channel of its group (filter f of group g = f // (C_out/groups), channel c
meets input channel g*C_in/groups + c), summed over the group's channels only,
plus the bias; stride by subsampling the stride-1 result, dilation by spreading
the kernel's taps apart with zeros. Hand-computed numbers check the smallest cases.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.signal import correlate2d

import conv_lib
import conv_lib.ops
from conv_lib import conv2d, conv2d_fast, conv2d_reference
from conv_lib.shapes import channels_of_filter, group_counts, group_of_filter
from test_against_scipy import scipy_conv2d


@st.composite
def grouped_cases(draw, depthwise=False):
    groups = draw(st.integers(1, 4))
    depth = 1 if depthwise else draw(st.integers(1, 3))  # C_in / groups
    filters_per_group = draw(st.integers(1, 3))  # C_out / groups (the channel multiplier when depthwise)
    kH, kW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    span = ((kH - 1) * dilation[0] + 1, (kW - 1) * dilation[1] + 1)
    H = draw(st.integers(max(1, span[0] - 2 * padding[0]), 10))
    W = draw(st.integers(max(1, span[1] - 2 * padding[1]), 10))
    N = draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((N, groups * depth, H, W))
    w = rng.standard_normal((groups * filters_per_group, depth, kH, kW))
    b = rng.standard_normal(groups * filters_per_group) if draw(st.booleans()) else None
    return x, w, b, stride, padding, dilation, groups


@given(grouped_cases())
def test_grouped_fast_reference_and_scipy_agree(case):
    x, w, b, stride, padding, dilation, groups = case
    expected = scipy_conv2d(x, w, b, stride, padding, dilation, groups)
    np.testing.assert_allclose(conv2d_reference(x, w, b, stride, padding, dilation, groups), expected,
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(conv2d_fast(x, w, b, stride, padding, dilation, groups), expected,
                               rtol=1e-10, atol=1e-10)


@given(grouped_cases(depthwise=True))
def test_depthwise_with_any_channel_multiplier_agrees_with_scipy(case):
    x, w, b, stride, padding, dilation, groups = case  # groups == C_in: the dedicated depthwise path
    expected = scipy_conv2d(x, w, b, stride, padding, dilation, groups)
    np.testing.assert_allclose(conv2d(x, w, b, stride, padding, dilation, groups), expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(conv2d_reference(x, w, b, stride, padding, dilation, groups), expected,
                               rtol=1e-10, atol=1e-10)


@given(grouped_cases(depthwise=True), st.integers(1, 3))
def test_depthwise_agrees_whatever_the_band_of_channels(case, channels_per_band):
    # The depthwise path pads a band of channels at a time; force small bands (a shorter last band too).
    x, w, b, stride, padding, dilation, groups = case
    plane_bytes = (x.shape[2] + 2 * padding[0]) * (x.shape[3] + 2 * padding[1]) * x.itemsize
    original = conv_lib.ops.DEPTHWISE_BAND_BYTES
    conv_lib.ops.DEPTHWISE_BAND_BYTES = channels_per_band * plane_bytes
    try:
        out = conv2d_fast(x, w, b, stride, padding, dilation, groups)
    finally:
        conv_lib.ops.DEPTHWISE_BAND_BYTES = original
    np.testing.assert_allclose(out, scipy_conv2d(x, w, b, stride, padding, dilation, groups),
                               rtol=1e-10, atol=1e-10)


def test_depthwise_with_channel_multiplier_2_by_scipy(rng):
    # 3 input channels, 6 maps: maps 0 and 1 come from channel 0, maps 2 and 3 from channel 1, ...
    x, w, b = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((6, 1, 3, 3)), rng.standard_normal(6)
    out = conv2d(x, w, b, stride=2, padding=1, groups=3)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for n in range(2):
        for f in range(6):
            expected = correlate2d(padded[n, f // 2], w[f, 0], mode="valid")[::2, ::2] + b[f]
            np.testing.assert_allclose(out[n, f], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("groups, depth, C_out", [(2, 3, 4), (3, 2, 6), (6, 1, 6), (6, 1, 12)])
def test_fast_and_reference_keep_float32(rng, groups, depth, C_out):
    x = rng.standard_normal((2, groups * depth, 11, 10)).astype(np.float32)
    w = rng.standard_normal((C_out, depth, 3, 3)).astype(np.float32)
    b = rng.standard_normal(C_out).astype(np.float32)
    fast, reference = conv2d_fast(x, w, b, 2, 1, 1, groups), conv2d_reference(x, w, b, 2, 1, 1, groups)
    assert fast.dtype == np.float32 and reference.dtype == np.float32
    np.testing.assert_allclose(fast, reference, rtol=1e-5, atol=1e-5)


def test_groups_1_is_the_usual_rule(rng):
    x, w, b = rng.standard_normal((2, 4, 7, 7)), rng.standard_normal((5, 4, 3, 3)), rng.standard_normal(5)
    np.testing.assert_array_equal(conv2d(x, w, b, 1, 1, 1, 1), conv2d(x, w, b, 1, 1))
    np.testing.assert_array_equal(conv2d(x, w, b, groups=1), conv2d_fast(x, w, b))


def test_two_channels_two_groups_by_hand():
    # Channel 0 and channel 1, one 2x2 filter each (groups=2): each map is its own channel's correlation.
    x = np.array([[[[0, 1, 2], [3, 4, 5], [6, 7, 8]],
                   [[1, 2, 3], [4, 5, 6], [7, 8, 9]]]], dtype=float)
    w = np.array([[[[0, 1], [2, 3]]], [[[1, 2], [3, 4]]]], dtype=float)  # (2 filters, 1 channel, 2, 2)
    # channel 0 with [[0, 1], [2, 3]]: 0*0 + 1*1 + 3*2 + 4*3 = 19 at the top-left
    # channel 1 with [[1, 2], [3, 4]]: 1*1 + 2*2 + 4*3 + 5*4 = 37 at the top-left
    expected = np.array([[[[19, 25], [37, 43]], [[37, 47], [67, 77]]]], dtype=float)
    for conv in (conv2d, conv2d_reference):
        np.testing.assert_array_equal(conv(x, w, groups=2), expected)
    # One filter made of both channels, groups=1: the two maps are summed (the usual rule).
    np.testing.assert_array_equal(conv2d(x, w.reshape(1, 2, 2, 2)), expected.sum(axis=1, keepdims=True))


def test_depthwise_by_hand_with_bias_and_padding():
    # One 2x2 image per channel, a 3x3 filter of ones per channel, padding 1: each output
    # number sums the channel's pixels in the window (all 4 of them at every position), plus the bias.
    x = np.array([[[[1, 2], [3, 4]], [[10, 20], [30, 40]]]], dtype=float)
    out = conv2d(x, np.ones((2, 1, 3, 3)), np.array([0.5, -1.0]), padding=1, groups=2)
    np.testing.assert_array_equal(out, [[[[10.5] * 2] * 2, [[99.0] * 2] * 2]])


# --------------------------------------------------------------------------
# Errors that teach
# --------------------------------------------------------------------------


@pytest.fixture(params=[conv2d, conv2d_reference], ids=["fast", "reference"])
def conv(request):
    return request.param


def test_a_full_depth_filter_with_groups_is_told_its_depth(conv):
    with pytest.raises(ValueError) as error:
        conv(np.zeros((1, 64, 8, 8)), np.zeros((128, 64, 3, 3)), groups=2)
    assert str(error.value) == ("with groups=2 each filter has one channel per input channel of its group: "
                                "w should have 64 / 2 = 32 channels, it has 64")


def test_input_channels_that_do_not_split_into_groups(conv):
    with pytest.raises(ValueError, match=r"with groups=3 the input's 64 channels must split into 3 equal groups, "
                                         r"but 64 is not a multiple of 3"):
        conv(np.zeros((1, 64, 8, 8)), np.zeros((66, 21, 3, 3)), groups=3)


def test_filters_that_do_not_split_into_groups(conv):
    with pytest.raises(ValueError, match=r"the 63 filters must split into 2 equal groups .* 63 is not a multiple of 2"):
        conv(np.zeros((1, 64, 8, 8)), np.zeros((63, 32, 3, 3)), groups=2)


@pytest.mark.parametrize("groups, message", [
    (0, "groups must be a positive integer (1 or more), got 0"),
    (-2, "groups must be a positive integer (1 or more), got -2"),
    (True, "groups must be a whole number, got True (bool)"),
    (2.0, "groups must be a whole number, got 2.0 (float)"),
])
def test_groups_must_be_a_positive_whole_number(conv, groups, message):
    with pytest.raises(ValueError) as error:
        conv(np.zeros((1, 4, 5, 5)), np.zeros((4, 2, 3, 3)), groups=groups)
    assert str(error.value) == message


def test_groups_1_keeps_the_central_message(conv):
    with pytest.raises(ValueError, match="one channel per input channel") as error:
        conv(np.zeros((1, 64, 8, 8)), np.zeros((128, 32, 3, 3)), groups=1)
    assert "the filters have 32 channels, the input has 64" in str(error.value)


# --------------------------------------------------------------------------
# Which channels a filter reads, written once in conv_lib.shapes (the demo and the pictures use it)
# --------------------------------------------------------------------------


def test_a_filter_reads_its_groups_channels_only():
    # 6 channels, 4 filters, 2 groups: filters 0-1 read channels 0-2, filters 2-3 read channels 3-5.
    assert [list(channels_of_filter(f, 6, 4, 2)) for f in range(4)] == [[0, 1, 2], [0, 1, 2], [3, 4, 5], [3, 4, 5]]
    assert [group_of_filter(f, 4, 2) for f in range(4)] == [0, 0, 1, 1]
    # groups=1: every filter reads every channel; depthwise with a multiplier of 2: one channel, two filters each.
    assert all(list(channels_of_filter(f, 3, 5, 1)) == [0, 1, 2] for f in range(5))
    assert [list(channels_of_filter(f, 3, 6, 3)) for f in range(6)] == [[0], [0], [1], [1], [2], [2]]


def test_a_filter_reads_exactly_the_channels_that_change_its_map():
    rng = np.random.default_rng(3)
    C_in, C_out, groups = 6, 4, 2
    x, w = rng.standard_normal((1, C_in, 5, 5)), rng.standard_normal((C_out, C_in // groups, 3, 3))
    before = conv_lib.conv2d(x, w, groups=groups)
    for c in range(C_in):
        nudged = x.copy()
        nudged[0, c] += 1.0
        changed = {f for f in range(C_out) if not np.allclose(conv_lib.conv2d(nudged, w, groups=groups)[0, f], before[0, f])}
        assert changed == {f for f in range(C_out) if c in channels_of_filter(f, C_in, C_out, groups)}


def test_the_allowed_group_counts_divide_both_channels_and_filters():
    assert group_counts(4, 6) == (1, 2)
    assert group_counts(32, 32) == (1, 2, 4, 8, 16, 32)
    assert group_counts(3, 4) == (1,)
