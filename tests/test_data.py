"""The digits load offline, in the course's layout, with a split that never changes."""

import numpy as np
import pytest
from sklearn.datasets import load_digits as sklearn_load_digits

from conv_lib.data import enlarge, load_digits, split_keys, stratified_split


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_shapes_dtypes_and_sizes_of_the_default_split(digits):
    assert digits.x_train.shape == (1438, 1, 16, 16) and digits.x_test.shape == (359, 1, 16, 16)
    assert digits.x_train.dtype == digits.x_test.dtype == np.float32
    assert digits.y_train.shape == (1438,) and digits.y_test.shape == (359,)
    assert digits.y_train.dtype == digits.y_test.dtype == np.int64
    assert digits.class_names == ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")


def test_pixels_are_scaled_to_0_1_from_17_grey_levels(digits):
    assert digits.x_train.min() == 0.0 and digits.x_train.max() == 1.0
    np.testing.assert_array_equal(np.unique(digits.x_train * 16), np.arange(17))  # the levels 0..16, all used


def test_every_image_is_in_exactly_one_set_and_matches_scikit_learns(digits):
    assert sorted(np.concatenate([digits.train_index, digits.test_index])) == list(range(1797))
    original = sklearn_load_digits()
    np.testing.assert_array_equal(digits.y_test, original.target[digits.test_index])
    np.testing.assert_array_equal(load_digits(size=8).x_test[:, 0] * 16, original.images[digits.test_index])


def test_each_digit_keeps_its_share_in_the_test_set(digits):
    everything = np.bincount(np.concatenate([digits.y_train, digits.y_test]))
    tested = np.bincount(digits.y_test, minlength=10)
    np.testing.assert_array_equal(tested, np.round(0.2 * everything))  # 35 to 37 of each digit


def test_the_split_is_fixed_by_the_seed(digits):
    np.testing.assert_array_equal(load_digits().test_index, digits.test_index)
    assert not np.array_equal(load_digits(seed=1).test_index, digits.test_index)
    # Written down once: a change in numpy, scikit-learn or this code that moves the split fails here.
    assert digits.test_index[:8].tolist() == [2, 4, 31, 32, 33, 37, 41, 42]
    assert int(digits.test_index.sum()) == 322_671


def splitmix64(state, count):
    """SplitMix64 as published, in Python's unbounded integers cut to 64 bits."""
    mask, outputs = 2**64 - 1, []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        outputs.append(z ^ (z >> 31))
    return outputs


@pytest.mark.parametrize("seed", [0, 1, 2**40 + 7])
def test_split_keys_are_the_splitmix64_sequence(seed):
    assert split_keys(50, seed).tolist() == splitmix64(seed, 50)
    assert splitmix64(0, 1) == [0xE220A8397B1DCDAF]  # the well-known first output from state 0


def test_stratified_split_on_a_small_example():
    labels = np.array([0] * 10 + [1] * 5)
    train, test = stratified_split(labels, 0.2, seed=3)
    assert np.bincount(labels[test]).tolist() == [2, 1] and len(train) == 12


def test_sizes_8_and_16_hold_the_same_picture():
    small, large = load_digits(size=8), load_digits(size=16)
    assert small.x_train.shape == (1438, 1, 8, 8)
    np.testing.assert_array_equal(large.x_train[:, :, ::2, ::2], small.x_train)  # each pixel became a 2x2 block
    np.testing.assert_array_equal(large.x_train[:, :, 1::2, 1::2], small.x_train)


def test_enlarge_repeats_each_pixel_as_a_block():
    np.testing.assert_array_equal(enlarge(np.array([[[1, 2], [3, 4]]]), 2),
                                  [[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]])


@pytest.mark.parametrize("size", [12, 4])
def test_a_size_that_is_not_a_multiple_of_8_is_explained(size):
    with pytest.raises(ValueError, match=f"size must be a multiple of 8 .*, got {size}"):
        load_digits(size=size)


def test_the_test_fraction_must_be_a_share():
    with pytest.raises(ValueError, match="test_fraction must be between 0 and 1"):
        load_digits(test_fraction=20)
