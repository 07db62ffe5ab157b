"""float32 stays float32; and the channel-summing rule, checked as a rule."""

import numpy as np
import pytest

from conv_lib import avg_pool2d, conv2d, conv2d_reference, max_pool2d, pad2d, relu


@pytest.mark.parametrize("conv", [conv2d, conv2d_reference])
def test_float32_stays_float32(conv, rng):
    x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = np.zeros(4, np.float32)
    assert conv(x, w, b, padding=1).dtype == np.float32
    for op in (relu, max_pool2d, avg_pool2d, lambda a: pad2d(a, 1)):
        assert op(x).dtype == np.float32


def test_integers_and_lists_become_float64():
    x = [[[[1, 2], [3, 4]]]]
    assert conv2d(x, [[[[1]]]]).dtype == np.float64
    assert relu(np.array([-1, 2])).dtype == np.float64


def test_mixed_float32_and_float64_computes_in_float64(rng):
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    w = rng.standard_normal((1, 2, 3, 3))  # float64
    assert conv2d(x, w).dtype == np.float64


def test_relu_clips_negatives_only():
    np.testing.assert_array_equal(relu(np.array([-2.0, -0.0, 0.5, 3.0])), [0, 0, 0.5, 3])


def test_64_filters_on_rgb_give_64_maps(rng):
    # VGG's first layer: 64 filters, each of depth 3, make 64 maps (not 64 x 3).
    out = conv2d(rng.standard_normal((1, 3, 16, 16)), rng.standard_normal((64, 3, 3, 3)), padding=1)
    assert out.shape == (1, 64, 16, 16)


def test_128_filters_on_64_pooled_maps_give_128_maps_not_8192(rng):
    pooled = max_pool2d(rng.standard_normal((1, 64, 16, 16)))
    assert pooled.shape == (1, 64, 8, 8)  # pooling never changes the channel count
    out = conv2d(pooled, rng.standard_normal((128, 64, 3, 3)), padding=1)
    assert out.shape == (1, 128, 8, 8)


def test_filter_channel_c_only_ever_meets_input_channel_c(rng):
    # Change input channel 1 only: the output moves by exactly what filter channel 1
    # sees there; zeroing filter channel 1 makes the change invisible.
    x = rng.standard_normal((1, 3, 6, 6))
    w = rng.standard_normal((2, 3, 3, 3))
    changed = x.copy()
    changed[0, 1] += rng.standard_normal((6, 6))
    w_without_channel_1 = w.copy()
    w_without_channel_1[:, 1] = 0
    np.testing.assert_allclose(conv2d(changed, w_without_channel_1), conv2d(x, w_without_channel_1))
    assert not np.allclose(conv2d(changed, w), conv2d(x, w))


def test_output_is_the_sum_of_single_channel_convolutions_plus_bias(rng):
    x = rng.standard_normal((1, 3, 7, 7))
    w = rng.standard_normal((2, 3, 3, 3))
    b = np.array([0.5, -1.0])
    per_channel = [conv2d(x[:, [c]], w[:, [c]]) for c in range(3)]  # each channel on its own
    np.testing.assert_allclose(conv2d(x, w, b), sum(per_channel) + b[:, None, None], rtol=1e-12)


def test_pooling_never_mixes_channels(rng):
    x = rng.standard_normal((1, 4, 6, 6))
    for pool in (max_pool2d, avg_pool2d):
        for c in range(4):
            np.testing.assert_array_equal(pool(x)[:, c], pool(x[:, [c]])[:, 0])
