"""Backward passes are right: checked against oracles that share no code with them.

Oracles:
- numerical gradients (central differences) of the FORWARD operations in conv_lib.ops;
- scipy: for a convolution y = x * w (cross-correlation), the weight gradient
  dw[f, c] is the cross-correlation of input channel c with map f's gradient
  dout[n, f], summed over the batch ('valid' mode), and the input gradient is
  the full convolution of dout with the filters, summed over the filters;
  with a stride, dout is spread out with stride-1 zeros first;
- the rules themselves: db is dout summed; dw[f, c] depends only on input
  channel c and map f; ReLU passes the gradient where x > 0.
And gradcheck itself must say "tiny" for right gradients and "large" for a wrong one.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.signal import convolve2d, correlate2d

from conv_lib.backward import (conv2d_backward, conv2d_backward_reference, linear_backward, max_pool2d_backward,
                               max_pool2d_backward_reference, relu_backward)
from conv_lib.gradcheck import gradcheck, numerical_gradient, relative_errors
from conv_lib.ops import conv2d_reference, max_pool2d, max_pool2d_reference, relu

# A right gradient gives relative errors of about 1e-10..1e-7 in these checks; an element
# whose gradient happens to be near zero (say 1e-3) can reach a few 1e-7, as float64
# round-off in the loss leaves about 1e-10 of absolute noise in the numerical gradient.
GOOD = 1e-6

BACKWARDS = pytest.mark.parametrize("backward", [conv2d_backward_reference, conv2d_backward], ids=["reference", "fast"])


# --------------------------------------------------------------------------
# The scipy oracle
# --------------------------------------------------------------------------


def spread(dout_map, stride):
    """Insert stride-1 zeros between the numbers of a 2-D gradient map (a strided output, spread back out)."""
    Ho, Wo = dout_map.shape
    out = np.zeros(((Ho - 1) * stride[0] + 1, (Wo - 1) * stride[1] + 1))
    out[:: stride[0], :: stride[1]] = dout_map
    return out


def scipy_conv2d_backward(dout, x, w, stride, padding):
    """dx, dw, db of y = conv2d(x, w, b, stride, padding), one (filter, channel) pair at a time with scipy."""
    N, C_in, H, W = x.shape
    C_out, _, kH, kW = w.shape
    x_padded = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    dx_padded = np.zeros_like(x_padded)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(C_out):
            g = spread(dout[n, f], stride)
            for c in range(C_in):
                dw[f, c] += correlate2d(x_padded[n, c], g, mode="valid")[:kH, :kW]
                full = convolve2d(g, w[f, c], mode="full")  # may stop short of the padded edge
                dx_padded[n, c, : full.shape[0], : full.shape[1]] += full
    dx = dx_padded[:, :, padding[0] : padding[0] + H, padding[1] : padding[1] + W]
    return dx, dw, dout.sum(axis=(0, 2, 3))


@st.composite
def conv_cases(draw):
    kH, kW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    H = draw(st.integers(max(1, kH - 2 * padding[0]), 9))
    W = draw(st.integers(max(1, kW - 2 * padding[1]), 9))
    N, C_in, C_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((N, C_in, H, W))
    w = rng.standard_normal((C_out, C_in, kH, kW))
    dout = rng.standard_normal(conv2d_reference(x, w, stride=stride, padding=padding).shape)
    return dout, x, w, stride, padding


@given(conv_cases())
def test_conv2d_backward_reference_fast_and_scipy_agree(case):
    dout, x, w, stride, padding = case
    expected = scipy_conv2d_backward(dout, x, w, stride, padding)
    for backward in (conv2d_backward_reference, conv2d_backward):
        for name, got, want in zip(("dx", "dw", "db"), backward(dout, x, w, stride, padding), expected):
            assert got.shape == want.shape, name
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=f"{backward.__name__}: {name}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_and_reference_agree_on_an_odd_case_in_each_dtype(rng, dtype):
    # 7x10 input, 3 channels in, 5 filters of 2x3, stride (2, 3), padding (1, 2).
    x = rng.standard_normal((2, 3, 7, 10)).astype(dtype)
    w = rng.standard_normal((5, 3, 2, 3)).astype(dtype)
    dout = rng.standard_normal((2, 5, 4, 4)).astype(dtype)  # Ho = (7+2-2)//2+1, Wo = (10+4-3)//3+1
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    fast_answers = conv2d_backward(dout, x, w, stride=(2, 3), padding=(1, 2))
    reference_answers = conv2d_backward_reference(dout, x, w, stride=(2, 3), padding=(1, 2))
    for fast, reference in zip(fast_answers, reference_answers):
        assert fast.dtype == reference.dtype == dtype
        np.testing.assert_allclose(fast, reference, rtol=tolerance, atol=tolerance)


# --------------------------------------------------------------------------
# Against numerical gradients of the forward pass
# --------------------------------------------------------------------------


def weighted_sum(y, weights):
    """A scalar loss whose gradient with respect to y is `weights`: sum(y * weights)."""
    return float(np.sum(y * weights))


@BACKWARDS
@pytest.mark.parametrize("stride, padding, kernel", [(1, 0, (3, 3)), (2, 1, (3, 2)), (3, 2, (2, 4)), ((1, 2), (2, 0), (1, 3))])
def test_conv2d_backward_matches_numerical_gradients(backward, rng, stride, padding, kernel):
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((4, 3) + kernel)
    b = rng.standard_normal(4)
    dout = rng.standard_normal(conv2d_reference(x, w, b, stride, padding).shape)
    loss = lambda x, w, b: weighted_sum(conv2d_reference(x, w, b, stride, padding), dout)
    assert gradcheck(lambda z: (loss(z, w, b), backward(dout, z, w, stride, padding)[0]), x) < GOOD
    assert gradcheck(lambda z: (loss(x, z, b), backward(dout, x, z, stride, padding)[1]), w) < GOOD
    assert gradcheck(lambda z: (loss(x, w, z), backward(dout, x, w, stride, padding)[2]), b) < GOOD


# --------------------------------------------------------------------------
# The channel rules, checked as rules
# --------------------------------------------------------------------------


@BACKWARDS
def test_the_bias_gradient_is_dout_summed_over_batch_and_positions(backward, rng):
    x, w = rng.standard_normal((3, 2, 6, 6)), rng.standard_normal((4, 2, 3, 3))
    dout = rng.standard_normal((3, 4, 4, 4))
    _, _, db = backward(dout, x, w)
    np.testing.assert_allclose(db, [dout[:, f].sum() for f in range(4)], rtol=1e-12)


@BACKWARDS
def test_dw_f_c_depends_only_on_input_channel_c_and_map_f(backward, rng):
    # Filter f's channel c only ever met input channel c, and only fed map f.
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    dout = rng.standard_normal((2, 4, 4, 4))
    _, dw = backward(dout, x, w)[:2]
    changed_x, changed_dout = x.copy(), dout.copy()
    changed_x[:, [0, 2]] = rng.standard_normal((2, 2, 6, 6))      # every input channel but 1
    changed_dout[:, [0, 1, 3]] = rng.standard_normal((2, 3, 4, 4))  # every map but 2
    _, dw_changed = backward(changed_dout, changed_x, w)[:2]
    np.testing.assert_allclose(dw_changed[2, 1], dw[2, 1], rtol=1e-12)
    assert not np.allclose(dw_changed[2, 0], dw[2, 0]) and not np.allclose(dw_changed[0, 1], dw[0, 1])


@BACKWARDS
def test_dx_of_a_channel_collects_that_channel_of_every_filter(backward, rng):
    # dx[:, c] is the sum over filters f of what filter channel w[f, c] sends back:
    # running the backward with one filter at a time and adding up gives the same.
    x, w = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3))
    dout = rng.standard_normal((2, 4, 5, 5))
    dx = backward(dout, x, w, padding=1)[0]
    one_filter_at_a_time = sum(backward(dout[:, f : f + 1], x, w[f : f + 1], padding=1)[0] for f in range(4))
    np.testing.assert_allclose(dx, one_filter_at_a_time, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------
# Max pooling, ReLU, linear
# --------------------------------------------------------------------------


@pytest.mark.parametrize("backward", [max_pool2d_backward_reference, max_pool2d_backward], ids=["reference", "fast"])
@pytest.mark.parametrize("size, stride", [(2, 2), (3, 2), (2, 1), (3, 3), ((2, 3), (1, 2))])
def test_max_pool_backward_matches_numerical_gradients(backward, rng, size, stride):
    x = rng.standard_normal((2, 3, 7, 8))  # no ties among random numbers; overlapping windows for stride < size
    dout = rng.standard_normal(max_pool2d(x, size, stride).shape)
    loss = lambda z: weighted_sum(max_pool2d_reference(z, size, stride), dout)
    assert gradcheck(lambda z: (loss(z), backward(dout, z, size, stride)), x) < 1e-6  # see GOOD


@st.composite
def pool_cases(draw):
    size = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    H, W = draw(st.integers(size[0], 8)), draw(st.integers(size[1], 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.integers(-2, 3, (draw(st.integers(1, 2)), draw(st.integers(1, 3)), H, W)).astype(float)  # many ties
    dout = rng.standard_normal(max_pool2d(x, size, stride).shape)
    return dout, x, size, stride


@given(pool_cases())
def test_max_pool_backward_fast_and_reference_agree_even_with_ties(case):
    dout, x, size, stride = case
    np.testing.assert_allclose(max_pool2d_backward(dout, x, size, stride),
                               max_pool2d_backward_reference(dout, x, size, stride), rtol=1e-12, atol=1e-12)


def test_a_tie_sends_the_gradient_to_the_first_maximum_in_reading_order():
    x = np.array([[[[1.0, 5.0], [5.0, 5.0]]]])
    dx = max_pool2d_backward(np.array([[[[7.0]]]]), x)
    np.testing.assert_array_equal(dx, [[[[0, 7], [0, 0]]]])


def test_overlapping_windows_add_their_gradients_at_a_shared_maximum():
    # 3 windows of size 2, stride 1, along a row: the 9 is the maximum of the first two.
    x = np.array([[[[1.0, 9.0, 2.0, 3.0]]]])
    dx = max_pool2d_backward(np.array([[[[10.0, 20.0, 30.0]]]]), x, size=(1, 2), stride=1)
    np.testing.assert_array_equal(dx, [[[[0, 30, 0, 30]]]])


def test_relu_passes_the_gradient_where_the_input_was_positive_only(rng):
    x = np.array([-2.0, -0.0, 0.0, 0.5, 3.0])
    np.testing.assert_array_equal(relu_backward(np.full(5, 7.0), x), [0, 0, 0, 7, 7])
    x = rng.standard_normal((2, 3, 4, 4))
    dout = rng.standard_normal(x.shape)
    assert gradcheck(lambda z: (weighted_sum(relu(z), dout), relu_backward(dout, z)), x) < GOOD


def test_linear_backward_matches_numerical_gradients_and_the_sums(rng):
    x, w, b = rng.standard_normal((5, 6)), rng.standard_normal((3, 6)), rng.standard_normal(3)
    dout = rng.standard_normal((5, 3))
    loss = lambda x, w, b: weighted_sum(x @ w.T + b, dout)
    assert gradcheck(lambda z: (loss(z, w, b), linear_backward(dout, z, w)[0]), x) < GOOD
    assert gradcheck(lambda z: (loss(x, z, b), linear_backward(dout, x, z)[1]), w) < GOOD
    dx, dw, db = linear_backward(dout, x, w)
    np.testing.assert_allclose(dw, sum(np.outer(dout[n], x[n]) for n in range(5)), rtol=1e-12)
    np.testing.assert_allclose(db, dout.sum(axis=0), rtol=1e-12)


# --------------------------------------------------------------------------
# gradcheck itself
# --------------------------------------------------------------------------


def test_numerical_gradient_of_a_known_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    np.testing.assert_allclose(numerical_gradient(lambda z: np.sum(z**3), x), 3 * x**2, rtol=1e-8)


def test_numerical_gradient_leaves_x_unchanged_and_works_in_float64():
    x = np.array([1.0, 2.0], dtype=np.float32)
    seen = []
    numerical_gradient(lambda z: seen.append(z.dtype) or float(np.sum(z)), x)
    assert set(seen) == {np.dtype(np.float64)}
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_gradcheck_is_tiny_for_a_right_gradient_and_large_for_a_wrong_one(rng):
    x, w = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3))
    dout = rng.standard_normal((1, 3, 4, 4))
    loss = lambda z: weighted_sum(conv2d_reference(x, z), dout)
    right = lambda z: (loss(z), conv2d_backward(dout, x, z)[1])
    wrong = lambda z: (loss(z), conv2d_backward(dout, x, z)[1][:, :, ::-1, ::-1])  # the classic slip: a flipped kernel
    assert gradcheck(right, w) < GOOD
    assert gradcheck(wrong, w) > 1e-3


def test_relative_error_follows_its_formula():
    errors = relative_errors(np.array([1.0, 0.0, 3.0, 0.0]), np.array([1.0, 0.0, 1.0, 1e-12]))
    # equal: 0; both zero: 0 (no division by zero); |3-1|/(3+1) = 0.5; below the floor: 1e-12/1e-10
    np.testing.assert_allclose(errors, [0.0, 0.0, 0.5, 1e-2])


def test_gradcheck_explains_a_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"gradient shaped like x: expected \(3,\), got \(1, 3\)"):
        gradcheck(lambda z: (np.sum(z), np.ones((1, 3))), np.zeros(3))
    with pytest.raises(ValueError, match=r"must return one number .* shape \(3,\)"):
        numerical_gradient(lambda z: z, np.zeros(3))


# --------------------------------------------------------------------------
# Errors teach
# --------------------------------------------------------------------------


@BACKWARDS
def test_dout_of_the_wrong_shape_names_the_expected_and_the_given(backward):
    x, w = np.zeros((2, 3, 8, 8)), np.zeros((4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"dout must have the shape of conv2d's output \(N, C_out, Ho, Wo\): "
                                         r"expected \(2, 4, 8, 8\) for this input, got \(2, 4, 6, 6\)"):
        backward(np.zeros((2, 4, 6, 6)), x, w, padding=1)  # the padding was forgotten


@BACKWARDS
def test_filters_and_input_must_agree_on_channels_backwards_too(backward):
    with pytest.raises(ValueError, match="the filters have 3 channels, the input has 64"):
        backward(np.zeros((1, 8, 6, 6)), np.zeros((1, 64, 8, 8)), np.zeros((8, 3, 3, 3)))


def test_pool_relu_and_linear_backward_explain_wrong_shapes():
    with pytest.raises(ValueError, match=r"max_pool2d's output \(N, C, Ho, Wo\): "
                                         r"expected \(1, 2, 4, 4\) for this input, got \(1, 2, 8, 8\)"):
        max_pool2d_backward(np.zeros((1, 2, 8, 8)), np.zeros((1, 2, 8, 8)))
    with pytest.raises(ValueError, match=r"expected \(2, 3\) for this input, got \(3, 2\)"):
        relu_backward(np.zeros((3, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"x has 12 numbers per image \(shape \(5, 12\)\), "
                                         r"so w must have shape \(n_out, 12\); got \(3, 10\)"):
        linear_backward(np.zeros((5, 3)), np.zeros((5, 12)), np.zeros((3, 10)))
    with pytest.raises(ValueError, match=r"x must have 2 axes \(N, n_in\).*Flatten the images first"):
        linear_backward(np.zeros((5, 3)), np.zeros((5, 1, 4, 4)), np.zeros((3, 16)))
