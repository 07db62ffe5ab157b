"""Bad input gets a ValueError that names what was expected and what was given."""

import numpy as np
import pytest

from conv_lib import avg_pool2d, conv2d, conv2d_multi_in, conv2d_reference, corr2d, max_pool2d, output_size, pad2d


@pytest.fixture(params=[conv2d, conv2d_reference], ids=["fast", "reference"])
def conv(request):
    return request.param


def test_filter_depth_must_equal_input_channels(conv):
    x = np.zeros((1, 64, 8, 8))
    w = np.zeros((128, 3, 3, 3))  # filters made for an RGB image, applied to 64 maps
    with pytest.raises(ValueError, match="one channel per input channel") as error:
        conv(x, w)
    assert "filters have 3 channels" in str(error.value)
    assert "input has 64" in str(error.value)


def test_channels_last_image_gets_told_to_move_channels_first(conv):
    photo_batch = np.zeros((1, 32, 32, 3))  # (N, H, W, C), as images are loaded
    with pytest.raises(ValueError, match="the filters have 3 channels, the input has 32") as error:
        conv(photo_batch, np.zeros((64, 3, 3, 3)))
    assert "x.transpose(0, 3, 1, 2)" in str(error.value)
    with pytest.raises(ValueError, match=r"x.transpose\(2, 0, 1\) for one image"):
        conv2d_multi_in(np.zeros((32, 32, 3)), np.zeros((3, 3, 3)))


def test_no_channels_last_hint_when_it_would_not_help(conv):
    with pytest.raises(ValueError) as error:
        conv(np.zeros((1, 64, 8, 8)), np.zeros((128, 3, 3, 3)))
    assert "transpose" not in str(error.value)


def test_single_image_without_batch_axis_gets_a_hint(conv):
    with pytest.raises(ValueError, match=r"x must have 4 axes \(N, C_in, H, W\), but it has 3 \(shape \(3, 8, 8\)\)") as error:
        conv(np.zeros((3, 8, 8)), np.zeros((4, 3, 3, 3)))
    assert "x[None]" in str(error.value)


def test_weights_of_the_wrong_rank(conv):
    with pytest.raises(ValueError, match=r"w must have 4 axes \(C_out, C_in, kH, kW\), but it has 3"):
        conv(np.zeros((1, 3, 8, 8)), np.zeros((3, 3, 3)))


@pytest.mark.parametrize("name", ["stride", "dilation"])
@pytest.mark.parametrize("value", [0, -1])
def test_stride_and_dilation_must_be_positive(conv, name, value):
    with pytest.raises(ValueError, match=rf"{name} must be a positive integer \(1 or more\), got {value}"):
        conv(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), **{name: value})


def test_padding_must_not_be_negative(conv):
    with pytest.raises(ValueError, match="padding must be zero or more, got -1"):
        conv(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), padding=-1)


def test_stride_must_be_a_whole_number(conv):
    with pytest.raises(ValueError, match=r"stride must be a whole number, got 1.5"):
        conv(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), stride=1.5)


def test_kernel_larger_than_the_padded_input(conv):
    with pytest.raises(ValueError, match=r"kernel spans 5 pixels but the padded input is only 4 pixels \(2 \+ 2\*1 padding\)"):
        conv(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 5, 5)), padding=1)


def test_dilated_kernel_larger_than_the_input_mentions_dilation(conv):
    with pytest.raises(ValueError, match=r"spans 5 pixels \(a 3-tap kernel with dilation 2\)"):
        conv(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)), dilation=2)


def test_bias_needs_one_value_per_filter(conv):
    with pytest.raises(ValueError, match=r"one bias per filter: expected shape \(64,\) for 64 filters, got shape \(3,\)"):
        conv(np.zeros((1, 3, 8, 8)), np.zeros((64, 3, 3, 3)), np.zeros(3))


@pytest.mark.parametrize(
    "bad, words",
    [
        (np.array([["a", "b"]]), "must hold numbers, got dtype <U1"),
        ([[1, 2], [3]], "could not turn it into one"),
        (np.zeros((1, 1, 3, 3), dtype=complex), "must hold real numbers"),
        (np.array([[[[None]]]]), "rectangular array of numbers"),
    ],
)
def test_non_numeric_arrays(conv, bad, words):
    with pytest.raises(ValueError, match=words):
        conv(bad, np.zeros((1, 1, 1, 1)))


def test_empty_axes_are_refused(conv):
    with pytest.raises(ValueError, match="must not have empty axes"):
        conv(np.zeros((0, 1, 3, 3)), np.zeros((1, 1, 1, 1)))


def test_pair_with_three_values():
    with pytest.raises(ValueError, match=r"stride must be one int or a pair \(rows, columns\), got 3 values"):
        conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), stride=(1, 1, 1))


def test_single_channel_functions_explain_their_shapes():
    with pytest.raises(ValueError, match=r"x must have 2 axes \(H, W\)") as error:
        corr2d(np.zeros((3, 5, 5)), np.zeros((3, 3)))
    assert "conv2d handles many" in str(error.value)
    with pytest.raises(ValueError, match="filters have 2 channels, the input has 3"):
        conv2d_multi_in(np.zeros((3, 5, 5)), np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match=r"b must be one number, the filter's one bias, but it has shape \(4,\).*b\[f\]"):
        conv2d_multi_in(np.zeros((3, 5, 5)), np.zeros((3, 3, 3)), np.zeros(4))
    with pytest.raises(ValueError, match=r"pad2d needs at least 2 axes \(H, W\)"):
        pad2d(np.zeros(5), 1)


@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
def test_pooling_errors(pool):
    with pytest.raises(ValueError, match=r"x must have 4 axes \(N, C, H, W\)"):
        pool(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match="size must be a positive integer"):
        pool(np.zeros((1, 1, 4, 4)), size=0)
    with pytest.raises(ValueError, match="kernel spans 5 pixels but the padded input is only 4"):
        pool(np.zeros((1, 1, 4, 4)), size=5)


def test_output_size_errors():
    with pytest.raises(ValueError, match="the input size n must be a positive integer"):
        output_size(0, 3)
    with pytest.raises(ValueError, match="no window fits"):
        output_size(2, 3)
    with pytest.raises(ValueError, match=r"the kernel size k must be a whole number, got \(3, 3\)"):
        output_size(5, (3, 3))  # output_size works on one axis at a time
