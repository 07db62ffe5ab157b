"""Small cases whose answers were worked out by hand, as a learner would check them.

The main case follows the cs231n notes' demo: a 5x5x3 input padded to 7x7x3,
two 3x3x3 filters, stride 2, padding 1, giving a 3x3x2 output.
"""

import numpy as np
import pytest

import conv_lib
from conv_lib import conv2d, conv2d_reference, corr2d, conv2d_multi_in, max_pool2d, avg_pool2d, output_size

X = np.array(
    [
        [[1, 0, 2, 1, 0], [0, 1, 1, 0, 2], [2, 2, 0, 1, 1], [1, 0, 0, 2, 0], [0, 1, 2, 0, 1]],
        [[0, 2, 1, 0, 1], [1, 0, 0, 2, 2], [0, 1, 2, 1, 0], [2, 1, 0, 0, 1], [1, 2, 0, 1, 0]],
        [[2, 1, 0, 0, 1], [0, 0, 1, 2, 1], [1, 2, 1, 0, 0], [0, 1, 2, 1, 2], [2, 0, 1, 1, 0]],
    ]
)  # (C_in=3, H=5, W=5)
W = np.array(
    [
        [[[1, 0, -1], [0, 1, 0], [-1, 0, 1]], [[0, 1, 0], [1, -1, 1], [0, 1, 0]], [[-1, -1, 0], [0, 0, 1], [1, 0, 0]]],
        [[[0, 0, 1], [1, 0, 0], [0, 1, -1]], [[1, -1, 0], [0, 0, 0], [-1, 1, 1]], [[0, 1, 1], [-1, 0, 0], [0, 0, 1]]],
    ]
)  # (C_out=2, C_in=3, kH=3, kW=3)
B = np.array([1, 0])

# Worked by hand. Filter 0 at output (0, 0) sees the padded top-left corner:
#   channel 0: [[0,0,0],[0,1,0],[0,0,1]] * [[1,0,-1],[0,1,0],[-1,0,1]]  -> 1 + 1 = 2
#   channel 1: [[0,0,0],[0,0,2],[0,1,0]] * [[0,1,0],[1,-1,1],[0,1,0]]   -> 2 + 1 = 3
#   channel 2: [[0,0,0],[0,2,1],[0,0,0]] * [[-1,-1,0],[0,0,1],[1,0,0]]  -> 1     = 1
#   summed over channels, plus the one bias: 2 + 3 + 1 + 1 = 7
# Filter 1 at output (1, 1) (rows 2..4, columns 2..4 of the padded input):
#   channel 0: 0, channel 1: -1, channel 2: 2; bias 0  -> 1
EXPECTED = np.array(
    [
        [[7, 3, 4], [8, 4, 2], [4, 2, 3]],
        [[0, 4, 3], [5, 1, 3], [-1, 7, 0]],
    ]
)  # (C_out=2, Ho=3, Wo=3)


@pytest.mark.parametrize("implementation", [conv2d, conv2d_reference])
def test_cs231n_demo_two_filters_pad_1_stride_2(implementation):
    out = implementation(X[None], W, B, stride=2, padding=1)
    assert out.shape == (1, 2, 3, 3)
    np.testing.assert_array_equal(out[0], EXPECTED)


def test_each_output_value_is_the_sum_over_channels_plus_one_bias():
    # The per-channel responses for filter 0 at (0, 0), worked out above: 2, 3 and 1.
    padded = conv_lib.pad2d(X, 1)
    per_channel = [corr2d(padded[c, 0:3, 0:3], W[0, c])[0, 0] for c in range(3)]
    assert per_channel == [2, 3, 1]
    assert sum(per_channel) + B[0] == EXPECTED[0, 0, 0]


def test_two_filters_give_two_maps_not_two_times_three():
    out = conv2d(X[None], W, B, stride=2, padding=1)
    assert out.shape[1] == 2  # one map per filter, whatever the input's 3 channels


def test_corr2d_single_channel_by_hand():
    # d2l's example: a 3x3 input and a 2x2 kernel.
    x = np.arange(9).reshape(3, 3)  # [[0,1,2],[3,4,5],[6,7,8]]
    k = np.array([[0, 1], [2, 3]])
    # 0*0+1*1+3*2+4*3 = 19, 1*0+2*1+4*2+5*3 = 25, 3*0+4*1+6*2+7*3 = 37, 4*0+5*1+7*2+8*3 = 43
    np.testing.assert_array_equal(corr2d(x, k), [[19, 25], [37, 43]])


def test_corr2d_does_not_flip_the_kernel():
    x = np.zeros((3, 3))
    x[1, 1] = 1.0  # one bright pixel in the middle
    k = np.array([[1, 2], [3, 4]])
    # The window at (0, 0) sees the bright pixel under k[1, 1] = 4; a flipped kernel would give 1.
    assert corr2d(x, k)[0, 0] == 4


def test_conv2d_multi_in_by_hand():
    # d2l's two-channel example: each channel meets its own kernel channel, then the two maps are added.
    x = np.array([[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]])
    k = np.array([[[0, 1], [2, 3]], [[1, 2], [3, 4]]])
    # channel 0 gives [[19, 25], [37, 43]], channel 1 gives [[37, 47], [67, 77]]
    np.testing.assert_array_equal(conv2d_multi_in(x, k), [[56, 72], [104, 120]])
    # the filter's one bias is added once to the summed map (not once per channel)
    np.testing.assert_array_equal(conv2d_multi_in(x, k, 1.0), [[57, 73], [105, 121]])


def test_dilation_by_hand():
    x = np.arange(25).reshape(5, 5)
    k = np.array([[1, 0], [0, 1]])
    # dilation 2: taps at (0,0) and (2,2) of each window -> x[0,0] + x[2,2] = 0 + 12
    out = corr2d(x, k, dilation=2)
    assert out.shape == (3, 3)
    assert out[0, 0] == 12 and out[2, 2] == 12 + 24


def test_max_and_average_pooling_by_hand():
    x = np.array([[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 2], [3, 1, 1, 1]])[None, None]
    np.testing.assert_array_equal(max_pool2d(x), [[[[4, 5], [3, 7]]]])
    np.testing.assert_array_equal(avg_pool2d(x), [[[[2.5, 2.0], [1.25, 2.75]]]])


@pytest.mark.parametrize(
    "n, k, padding, stride, dilation, expected",
    [
        (224, 3, 1, 1, 1, 224),  # VGG's 3x3 convolutions keep the size
        (224, 2, 0, 2, 1, 112),  # VGG's 2x2 pools halve it
        (5, 3, 1, 2, 1, 3),  # the cs231n demo: (5 + 2 - 3) / 2 + 1
        (7, 3, 0, 1, 2, 3),  # a dilated 3-tap kernel spans 5: 7 - 5 + 1
        (227, 11, 0, 4, 1, 55),  # AlexNet's first layer
        (6, 3, 0, 2, 1, 2),  # floor((6 - 3) / 2) + 1: the last column is never reached
    ],
)
def test_output_size_by_hand(n, k, padding, stride, dilation, expected):
    assert output_size(n, k, padding, stride, dilation) == expected
