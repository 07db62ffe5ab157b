"""Notebook 06: each wrong idea about a convolution's gradients or He's initialisation is named by exactly its code.

Like tests/test_diagnose_stack.py: the wrong implementations below are written
the way a learner with that misconception would write them, and each must earn
exactly the codes listed, in the visible check and in the hidden one, for
several seeds. The right implementations are written here independently of
conv_lib.diagnose (numpy windows; conv_lib's forward conv2d with a dilation;
exact finite differences of a forward pass; scipy) and must pass.
"""

import math
import re

import numpy as np
import pytest
import scipy.signal

import conv_lib
from conv_lib import diagnose
from conv_lib.diagnose import Misconception
from conv_lib.diagnose import learning_filters, plain
from misconception_tools import (
    assert_named_exactly,
    assert_quick,
    assert_right_passes,
    codes_earned,
    codes_of,
    failure,
    listed_codes,
    not_started,
)

# --------------------------------------------------------------------------
# conv2d_backward(dout, x, w, b, stride=1, padding=0) -> (dx, dw, db)
# --------------------------------------------------------------------------


def pad(x, padding):
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def windows(x_padded, kH, kW, stride, Ho, Wo):
    """(i, j, rows, columns) of every output position's window."""
    for i in range(Ho):
        for j in range(Wo):
            yield i, j, slice(i * stride, i * stride + kH), slice(j * stride, j * stride + kW)


def backward_with(db_rule=None, dw_rule=None, dx_rule=None, crop=True, dx_stride=None, dw_stride=None):
    """A conv2d_backward written with numpy windows; each argument can hold one misconception.

    db_rule(dout) -> db; dw_rule(n, f, c) -> where image n's share of w[f, c] goes, a list of (f, c)
    pairs; dx_rule(f, c, C_out) -> whether filter f's channel c goes back to dx channel c;
    crop False keeps the padding; dx_stride, dw_stride: the stride each gradient uses.
    """

    def conv2d_backward(dout, x, w, b, stride=1, padding=0):
        N, C_in, H, W = x.shape
        C_out, _, kH, kW = w.shape
        Ho, Wo = dout.shape[2:]
        xp = pad(x, padding)
        dxp, dw = np.zeros(xp.shape), np.zeros(w.shape)
        for i, j, rows, columns in windows(xp, kH, kW, dw_stride or stride, Ho, Wo):
            for n in range(N):
                for f in range(C_out):
                    for c in range(C_in):
                        for target in (dw_rule(n, f, c) if dw_rule else [(f, c)]):
                            dw[target] += dout[n, f, i, j] * xp[n, c, rows, columns]
        for i, j, rows, columns in windows(xp, kH, kW, dx_stride or stride, Ho, Wo):
            for f in range(C_out):
                for c in range(C_in):
                    if dx_rule is None or dx_rule(f, c, C_out):
                        dxp[:, c, rows, columns] += dout[:, f, i, j][:, None, None] * w[f, c]
        dx = dxp[:, :, padding : padding + H, padding : padding + W] if crop else dxp
        db = db_rule(dout) if db_rule else dout.sum(axis=(0, 2, 3))
        return dx, dw, db

    return conv2d_backward


backward_right = backward_with()


def backward_with_allowed_helpers(dout, x, w, b, stride=1, padding=0):
    """dw and dx by conv_lib's forward conv2d: dw correlates x with dout, dilated by the stride; dx is the
    full convolution of the dilated dout with w, channels and filters swapped, kernel turned around."""
    N, C_in, H, W = x.shape
    C_out, _, kH, kW = w.shape
    _, _, Ho, Wo = dout.shape
    dw = conv_lib.conv2d(x.transpose(1, 0, 2, 3), dout.transpose(1, 0, 2, 3), padding=padding, dilation=stride)
    dw = dw[:, :, :kH, :kW].transpose(1, 0, 2, 3)
    dilated = np.zeros((N, C_out, (Ho - 1) * stride + 1, (Wo - 1) * stride + 1))
    dilated[:, :, ::stride, ::stride] = dout
    full = conv_lib.conv2d(dilated, w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1], padding=(kH - 1, kW - 1))
    dxp = np.zeros((N, C_in, H + 2 * padding, W + 2 * padding))
    dxp[:, :, : full.shape[2], : full.shape[3]] = full
    return dxp[:, :, padding : padding + H, padding : padding + W], dw, dout.sum(axis=(0, 2, 3))


def forward(x, w, stride, padding):
    """conv2d without a bias, by numpy windows: (N, C_out, Ho, Wo)."""
    xp = pad(x, padding)
    C_out, _, kH, kW = w.shape
    Ho, Wo = (xp.shape[2] - kH) // stride + 1, (xp.shape[3] - kW) // stride + 1
    out = np.zeros((x.shape[0], C_out, Ho, Wo))
    for i, j, rows, columns in windows(xp, kH, kW, stride, Ho, Wo):
        out[:, :, i, j] = np.einsum("nchw,fchw->nf", xp[:, :, rows, columns], w)
    return out


def backward_by_finite_differences(dout, x, w, b, stride=1, padding=0):
    """The loss sum(dout * out) is linear in x, in w and in b, so a step of one is an exact difference."""

    def gradient(array, loss):
        grad = np.zeros(array.shape)
        for index in np.ndindex(array.shape):
            step = np.zeros(array.shape)
            step[index] = 1.0
            grad[index] = loss(array + step) - loss(array)
        return grad

    dx = gradient(x, lambda x_: np.sum(dout * forward(x_, w, stride, padding)))
    dw = gradient(w, lambda w_: np.sum(dout * forward(x, w_, stride, padding)))
    db = gradient(b, lambda b_: np.sum(dout * b_[None, :, None, None]))
    return dx, dw, db


def backward_with_scipy(dout, x, w, b, stride=1, padding=0):
    """scipy's 2-D correlation and convolution on the dilated dout: right, but ready-made."""
    N, C_in, H, W = x.shape
    C_out, _, kH, kW = w.shape
    _, _, Ho, Wo = dout.shape
    xp = pad(x, padding)
    dilated = np.zeros((N, C_out, (Ho - 1) * stride + 1, (Wo - 1) * stride + 1))
    dilated[:, :, ::stride, ::stride] = dout
    dw = np.array([[sum(scipy.signal.correlate2d(xp[n, c], dilated[n, f], mode="valid")[:kH, :kW] for n in range(N))
                    for c in range(C_in)] for f in range(C_out)])
    dxp = np.zeros(xp.shape)
    for n in range(N):
        for c in range(C_in):
            full = sum(scipy.signal.convolve2d(dilated[n, f], w[f, c], mode="full") for f in range(C_out))
            dxp[n, c, : full.shape[0], : full.shape[1]] = full
    return dxp[:, :, padding : padding + H, padding : padding + W], dw, dout.sum(axis=(0, 2, 3))


def backward_with_the_library(dout, x, w, b, stride=1, padding=0):
    from conv_lib.backward import conv2d_backward_reference

    return conv2d_backward_reference(dout, x, w, stride=stride, padding=padding)


def backward_with_a_layer(dout, x, w, b, stride=1, padding=0):
    from conv_lib.layers import Conv2d

    layer = Conv2d(w, b, stride=stride, padding=padding)
    layer.forward(x)
    return layer.backward(dout), layer.dw, layer.db


def replace(index, make):
    """backward_right with its answer number `index` (0 dx, 1 dw, 2 db) replaced by make(answer, dout, x, w)."""

    def conv2d_backward(dout, x, w, b, stride=1, padding=0):
        answer = list(backward_right(dout, x, w, b, stride, padding))
        answer[index] = make(answer[index], dout, x, w)
        return tuple(answer)

    return conv2d_backward


# db
backward_db_first_image = backward_with(db_rule=lambda dout: dout[0].sum(axis=(1, 2)))
backward_db_mean = backward_with(db_rule=lambda dout: dout.mean(axis=(0, 2, 3)))
backward_db_is_dout = backward_with(db_rule=lambda dout: dout)
backward_db_per_image = backward_with(db_rule=lambda dout: dout.sum(axis=(2, 3)))
backward_db_per_position = backward_with(db_rule=lambda dout: dout.sum(axis=0))
backward_db_of_everything = backward_with(db_rule=lambda dout: dout.sum())
# dw
def backward_dw_pairs_channel_f_with_map_c(dout, x, w, b, stride=1, padding=0):
    """dw[f, c] from x's channel f and dout's map c (square layers only: elsewhere the indices would not fit)."""
    dx, dw, db = backward_right(dout, x, w, b, stride, padding)
    if x.shape[1] != w.shape[0]:
        return dx, dw, db
    return dx, dw.transpose(1, 0, 2, 3), db


backward_dw_axes_swapped = replace(1, lambda dw, dout, x, w: dw.transpose(1, 0, 2, 3))


def backward_dw_summed_over_channels(dout, x, w, b, stride=1, padding=0):
    """Every channel of a filter gets the same gradient: the sum over the channels."""
    dx, dw, db = backward_right(dout, x, w, b, stride, padding)
    return dx, np.repeat(dw.sum(axis=1, keepdims=True), w.shape[1], axis=1), db


backward_dw_first_image = backward_with(dw_rule=lambda n, f, c: [(f, c)] if n == 0 else [])
backward_dw_batch_mean = replace(1, lambda dw, dout, x, w: dw / len(x))
# dx


def backward_dx_not_flipped(dout, x, w, b, stride=1, padding=0):
    """The full correlation of dout with w: as if the kernel were turned around before spreading it back
    (dw and db do not depend on w)."""
    return backward_right(dout, x, w[:, :, ::-1, ::-1], b, stride, padding)


backward_dx_not_cropped = backward_with(crop=False)
backward_dx_last_filter_only = backward_with(dx_rule=lambda f, c, C_out: f == C_out - 1)


def backward_dx_filter_c_only(dout, x, w, b, stride=1, padding=0):
    """dx[n, c] from filter c only (where there is a filter c for every channel)."""
    if w.shape[0] < w.shape[1]:
        return backward_right(dout, x, w, b, stride, padding)
    return backward_with(dx_rule=lambda f, c, C_out: f == c)(dout, x, w, b, stride, padding)


def backward_dx_one_map_per_filter(dout, x, w, b, stride=1, padding=0):
    """dx keeps each filter's part apart: (N, C_out, C_in, H, W)."""
    parts = [backward_right(dout[:, f : f + 1], x, w[f : f + 1], b[f : f + 1], stride, padding)[0] for f in range(w.shape[0])]
    dx, dw, db = backward_right(dout, x, w, b, stride, padding)
    return np.stack(parts, axis=1), dw, db


backward_dx_stride_ignored = backward_with(dx_stride=1)


def backward_dx_drops_the_unreached_rows(dout, x, w, b, stride=1, padding=0):
    """dx as the full convolution of the dilated dout, without the rows and columns that no window reached."""
    dx, dw, db = backward_right(dout, x, w, b, stride, padding)
    Ho, Wo = dout.shape[2:]
    kH, kW = w.shape[2:]
    rows, columns = (Ho - 1) * stride + kH - 2 * padding, (Wo - 1) * stride + kW - 2 * padding
    return dx[:, :, :rows, :columns], dw, db


# the answer as a whole
def backward_two_arrays(dout, x, w, b, stride=1, padding=0):
    dx, dw, db = backward_right(dout, x, w, b, stride, padding)
    return dx, dw


def backward_as_a_dict(dout, x, w, b, stride=1, padding=0):
    dx, dw, db = backward_right(dout, x, w, b, stride, padding)
    return {"dx": dx, "dw": dw, "db": db}


def backward_in_another_order(dout, x, w, b, stride=1, padding=0):
    dx, dw, db = backward_right(dout, x, w, b, stride, padding)
    return dw, dx, db


def backward_as_a_list(dout, x, w, b, stride=1, padding=0):
    return [array.tolist() for array in backward_right(dout, x, w, b, stride, padding)]


def backward_no_return(dout, x, w, b, stride=1, padding=0):
    backward_right(dout, x, w, b, stride, padding)


def backward_without_the_bias_argument(dout, x, w, stride=1, padding=0):
    return backward_right(dout, x, w, None, stride, padding)


def backward_db_none(dout, x, w, b, stride=1, padding=0):
    dx, dw, db = backward_right(dout, x, w, b, stride, padding)
    return dx, dw, None


# --------------------------------------------------------------------------
# he_init(c_out, c_in, k, rng) -> (c_out, c_in, k, k)
# --------------------------------------------------------------------------


def he_with(std=lambda c_out, c_in, k: math.sqrt(2 / (c_in * k * k)), draw="normal", shape=None):
    """An he_init; each argument can hold one misconception. draw: "normal", "normal-by-loc"
    (rng.normal(std) with the std taken for the mean), "uniform" (bound std) or "uniform-matched"
    (a uniform with the right std: bound sqrt(3) * std)."""

    def he_init(c_out, c_in, k, rng):
        size = shape(c_out, c_in, k) if shape else (c_out, c_in, k, k)
        scale = std(c_out, c_in, k)
        if draw == "normal":
            return rng.normal(0.0, scale, size=size)
        if draw == "normal-by-loc":
            return rng.normal(scale, size=size)
        if draw == "uniform":
            return rng.uniform(-scale, scale, size=size)
        return rng.uniform(-math.sqrt(3) * scale, math.sqrt(3) * scale, size=size)

    return he_init


def he_right(c_out, c_in, k, rng):
    return rng.standard_normal((c_out, c_in, k, k)) * np.sqrt(2.0 / (c_in * k * k))


he_right_by_normal = he_with()


def he_in_float32(c_out, c_in, k, rng):
    return rng.standard_normal((c_out, c_in, k, k), dtype=np.float32) * np.float32(math.sqrt(2 / (c_in * k * k)))


he_fan_out = he_with(std=lambda c_out, c_in, k: math.sqrt(2 / (c_out * k * k)))
he_fan_c_in = he_with(std=lambda c_out, c_in, k: math.sqrt(2 / c_in))
he_fan_c_out = he_with(std=lambda c_out, c_in, k: math.sqrt(2 / c_out))
he_fan_k_squared = he_with(std=lambda c_out, c_in, k: math.sqrt(2 / (k * k)))
he_variance_as_std = he_with(std=lambda c_out, c_in, k: 2 / (c_in * k * k))
he_lecun = he_with(std=lambda c_out, c_in, k: math.sqrt(1 / (c_in * k * k)))
he_glorot = he_with(std=lambda c_out, c_in, k: math.sqrt(2 / (c_in * k * k + c_out * k * k)))
he_uniform_right_std = he_with(draw="uniform-matched")
he_uniform_bound = he_with(draw="uniform")
he_glorot_uniform = he_with(std=lambda c_out, c_in, k: math.sqrt(6 / (c_in * k * k + c_out * k * k)), draw="uniform")
he_loc_for_scale = he_with(draw="normal-by-loc")
he_filters_second = he_with(shape=lambda c_out, c_in, k: (c_in, c_out, k, k))
he_flattened = he_with(shape=lambda c_out, c_in, k: (c_out, c_in * k * k))


def he_global_random(c_out, c_in, k, rng):
    return np.random.standard_normal((c_out, c_in, k, k)) * np.sqrt(2 / (c_in * k * k))


def he_fixed_seed(c_out, c_in, k, rng):
    return np.random.default_rng(0).standard_normal((c_out, c_in, k, k)) * np.sqrt(2 / (c_in * k * k))


def he_own_generator(c_out, c_in, k, rng):
    return np.random.default_rng().standard_normal((c_out, c_in, k, k)) * np.sqrt(2 / (c_in * k * k))


def he_seeds_the_global_generator(c_out, c_in, k, rng):
    np.random.seed(1)
    return np.random.randn(c_out, c_in, k, k) * np.sqrt(2 / (c_in * k * k))


def he_zeros(c_out, c_in, k, rng):
    return np.zeros((c_out, c_in, k, k))


def he_with_the_library(c_out, c_in, k, rng):
    from conv_lib.models import init_params

    return init_params([("conv", c_out, k, 1, 0)], (c_in, k, k), rng, dtype=np.float64)[0][0]


def he_with_the_layers_he_init(c_out, c_in, k, rng):
    from conv_lib.layers import he_init

    return he_init(c_out, c_in, k, rng, dtype=np.float64)


for _name, _function in list(globals().items()):  # the functions the factories made, named for the test ids
    if _name.startswith(("backward_", "he_")) and getattr(_function, "__name__", "") in ("conv2d_backward", "he_init"):
        _function.__name__ = _name

# --------------------------------------------------------------------------
# The table of checks, right answers and misconceptions
# --------------------------------------------------------------------------

CHECKS = {"conv2d_backward": diagnose.check_conv2d_backward, "he_init": diagnose.check_he_init}

RIGHT = [
    ("conv2d_backward", backward_right),
    ("conv2d_backward", backward_with_allowed_helpers),
    ("conv2d_backward", backward_by_finite_differences),
    ("conv2d_backward", backward_as_a_list),
    ("he_init", he_right),
    ("he_init", he_right_by_normal),
    ("he_init", he_in_float32),
]

# (function graded, wrong implementation, codes in the visible check (None: it passes), codes in the hidden check)
WRONG = [
    ("conv2d_backward", backward_db_first_image, ("db-not-summed",), ("db-not-summed",)),
    ("conv2d_backward", backward_db_mean, ("db-not-summed",), ("db-not-summed",)),
    ("conv2d_backward", backward_db_is_dout, ("db-not-summed",), ("db-not-summed",)),
    ("conv2d_backward", backward_db_per_image, ("db-not-summed",), ("db-not-summed",)),
    ("conv2d_backward", backward_db_per_position, ("db-not-summed",), ("db-not-summed",)),
    ("conv2d_backward", backward_db_of_everything, ("db-not-summed",), ("db-not-summed",)),
    ("conv2d_backward", backward_dw_pairs_channel_f_with_map_c, ("dw-channel-mixup",), ("dw-channel-mixup",)),
    ("conv2d_backward", backward_dw_axes_swapped, ("dw-channel-mixup",), ("dw-channel-mixup",)),
    ("conv2d_backward", backward_dw_summed_over_channels, ("dw-channel-mixup",), ("dw-channel-mixup",)),
    ("conv2d_backward", backward_dw_first_image, ("dw-batch-not-summed",), ("dw-batch-not-summed",)),
    ("conv2d_backward", backward_dw_batch_mean, ("dw-batch-not-summed",), ("dw-batch-not-summed",)),
    ("conv2d_backward", backward_dx_not_flipped, ("dx-not-flipped",), ("dx-not-flipped",)),
    ("conv2d_backward", backward_dx_not_cropped, ("output-size",), ("output-size",)),
    ("conv2d_backward", backward_dx_last_filter_only, ("dx-channel-sum",), ("dx-channel-sum",)),
    ("conv2d_backward", backward_dx_filter_c_only, ("dx-channel-sum",), ("dx-channel-sum",)),
    ("conv2d_backward", backward_dx_one_map_per_filter, ("dx-channel-sum",), ("dx-channel-sum",)),
    ("conv2d_backward", backward_dx_stride_ignored, ("output-size",), ("output-size",)),
    ("conv2d_backward", backward_dx_drops_the_unreached_rows, ("output-size",), ("output-size",)),
    ("conv2d_backward", backward_two_arrays, ("not-a-tuple",), ("not-a-tuple",)),
    ("conv2d_backward", backward_as_a_dict, ("not-a-tuple",), ("not-a-tuple",)),
    ("conv2d_backward", backward_in_another_order, ("not-a-tuple",), ("not-a-tuple",)),
    ("conv2d_backward", backward_no_return, ("no-return",), ("no-return",)),
    ("conv2d_backward", backward_db_none, ("not-an-array",), ("not-an-array",)),
    ("conv2d_backward", backward_without_the_bias_argument, ("raises",), ("raises",)),
    ("conv2d_backward", backward_with_scipy, ("reference-call",), ("reference-call",)),
    ("conv2d_backward", backward_with_the_library, ("reference-call",), ("reference-call",)),
    ("conv2d_backward", backward_with_a_layer, ("reference-call",), ("reference-call",)),
    ("he_init", he_fan_out, ("fan-in-wrong",), ("fan-in-wrong",)),
    ("he_init", he_fan_c_in, ("fan-in-wrong",), ("fan-in-wrong",)),
    ("he_init", he_fan_c_out, ("fan-in-wrong",), ("fan-in-wrong",)),
    ("he_init", he_fan_k_squared, ("fan-in-wrong",), ("fan-in-wrong",)),
    ("he_init", he_variance_as_std, ("variance-not-std",), ("variance-not-std",)),
    ("he_init", he_lecun, ("xavier-not-he",), ("xavier-not-he",)),
    ("he_init", he_glorot, ("xavier-not-he",), ("xavier-not-he",)),
    ("he_init", he_uniform_right_std, ("uniform-not-normal",), ("uniform-not-normal",)),
    ("he_init", he_uniform_bound, ("uniform-not-normal",), ("uniform-not-normal",)),
    ("he_init", he_glorot_uniform, ("uniform-not-normal", "xavier-not-he"), ("uniform-not-normal", "xavier-not-he")),
    ("he_init", he_loc_for_scale, ("wrong-values",), ("wrong-values",)),
    ("he_init", he_zeros, ("wrong-values",), ("wrong-values",)),
    ("he_init", he_filters_second, ("wrong-shape",), ("wrong-shape",)),
    ("he_init", he_flattened, ("wrong-shape",), ("wrong-shape",)),
    ("he_init", he_global_random, ("rng-ignored",), ("rng-ignored",)),
    ("he_init", he_fixed_seed, ("rng-ignored",), ("rng-ignored",)),
    ("he_init", he_own_generator, ("rng-ignored",), ("rng-ignored",)),
    ("he_init", he_seeds_the_global_generator, ("rng-ignored",), ("rng-ignored",)),
    ("he_init", he_with_the_library, ("reference-call",), ("reference-call",)),
    ("he_init", he_with_the_layers_he_init, ("reference-call",), ("reference-call",)),
]

VISIBLE_SEEDS = [0, 1, 2]
HIDDEN_SEEDS = [7, 41, 61, 62, 123]


# --------------------------------------------------------------------------
# Right answers pass; each misconception earns exactly its code
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name, right", RIGHT, ids=[right.__name__ for _, right in RIGHT])
@pytest.mark.parametrize("seed", VISIBLE_SEEDS)
def test_a_right_implementation_passes_visible_and_hidden_checks(name, right, seed):
    assert_right_passes(CHECKS[name], right, seed)


@pytest.mark.parametrize("name, wrong, visible_codes, hidden_codes", WRONG, ids=[wrong.__name__ for _, wrong, _, _ in WRONG])
def test_each_misconception_is_named_by_exactly_its_code(name, wrong, visible_codes, hidden_codes):
    assert_named_exactly(CHECKS[name], wrong, visible_codes, hidden_codes, VISIBLE_SEEDS, HIDDEN_SEEDS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_the_wrong_implementations_earn_every_new_code(name):
    new = {"conv2d_backward": {"not-a-tuple", "db-not-summed", "dw-channel-mixup", "dw-batch-not-summed",
                               "dx-not-flipped", "dx-channel-sum", "output-size"},
           "he_init": {"wrong-shape", "rng-ignored", "fan-in-wrong", "variance-not-std", "xavier-not-he",
                       "uniform-not-normal"}}[name]
    assert new <= codes_earned([row for row in WRONG if row[0] == name])
    assert new <= set(diagnose.CODES) and new <= listed_codes()


# --------------------------------------------------------------------------
# Hidden checks keep inputs and expected values to themselves
# --------------------------------------------------------------------------

#: Formulas of the rules that hidden messages may quote: their digits are no inputs.
RULE_TEXT = re.compile(
    r"sqrt\(\d / \(fan_in \+ fan_out\)\)|sqrt\(\d / fan_in\)|\b\d / fan_in\b|b / sqrt\(3\)|\[0, 1\)"
    r"|(?:mean|around) 0\b|normal\(0, |\w*2d\w*"
)


def digits_outside_the_rules(message):
    return re.findall(r"\d+", RULE_TEXT.sub("", message))


@pytest.mark.parametrize("name, wrong, visible_codes, hidden_codes", WRONG, ids=[wrong.__name__ for _, wrong, _, _ in WRONG])
def test_hidden_failures_reveal_no_inputs_or_expected_values(name, wrong, visible_codes, hidden_codes):
    for seed in HIDDEN_SEEDS:
        error = failure(CHECKS[name], wrong, seed=seed, hidden=True)
        assert error.expected is None and error.given is None
        if error.codes != ("raises",):  # a crash shows the learner's own error and the arrays' shapes
            assert digits_outside_the_rules(str(error)) == [], str(error)


def test_visible_failures_name_the_gradient_and_where_it_is_wrong():
    error = failure(diagnose.check_conv2d_backward, backward_dw_summed_over_channels)
    assert re.match(r"\[dw-channel-mixup\] for dout of shape \(2, 3, 3, 2\), x of shape \(2, 2, 5, 4\), w of shape "
                    r"\(3, 2, 3, 3\), stride=1, padding=0: dw is wrong for filter \d, channel \d, at \(row \d, column \d\): "
                    r"expected -?\d+, got -?\d+\. every channel of a filter gets the same gradient", str(error)), str(error)
    assert error.expected.shape == error.given.shape == (3, 2, 3, 3)
    db = str(failure(diagnose.check_conv2d_backward, backward_db_first_image))
    assert re.search(r": db is wrong for filter \d: expected -?\d+, got -?\d+\. db adds up the first image", db), db
    dx = str(failure(diagnose.check_conv2d_backward, backward_dx_not_cropped))
    assert "dx has shape (2, 3, 7, 7), but it should have the shape of x, (2, 3, 5, 5)" in dx and "crop the padding off" in dx


def test_a_wrong_order_says_which_shapes_came_back():
    assert str(failure(diagnose.check_conv2d_backward, backward_in_another_order)) == (
        "[not-a-tuple] conv2d_backward must return the three gradients as a tuple, (dx, dw, db), in this order: "
        "yours returned arrays of shapes [(1, 1, 2, 2), (1, 1, 4, 4), (1,)], which are the shapes of the three "
        "gradients in another order (dx (1, 1, 4, 4), dw (1, 1, 2, 2), db (1,))")


def test_he_init_messages_give_the_measured_and_the_expected_spread():
    text = str(failure(diagnose.check_he_init, he_fan_out))
    assert text.startswith("[fan-in-wrong] he_init(24, 72, 5, rng) (fan_in = 72*5*5 = 1800): its 43,200 weights have mean ")
    assert "He's weights have mean 0 and standard deviation sqrt(2 / fan_in) = 0.0333" in text
    assert "the fan-in is taken as c_out * k * k (the fan-out)" in text
    hidden = str(failure(diagnose.check_he_init, he_fan_out, seed=5, hidden=True))
    assert hidden.startswith("[fan-in-wrong] on a hidden layer size the weights have the wrong standard deviation: ")


def test_a_global_generator_is_named():
    assert "not from np.random's own functions" in str(failure(diagnose.check_he_init, he_global_random))
    assert "do not seed anything inside he_init" in str(failure(diagnose.check_he_init, he_fixed_seed))


# --------------------------------------------------------------------------
# Not started, crashes, pictures, tampering
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CHECKS))
@pytest.mark.parametrize("hidden", [False, True])
def test_a_still_empty_exercise_fails_with_not_implemented_error(name, hidden):
    with pytest.raises(NotImplementedError):
        CHECKS[name](not_started, hidden=hidden)


def test_a_crash_is_reported_with_the_learners_error_and_the_shapes():
    def conv2d_backward(dout, x, w, b, stride=1, padding=0):
        return x[:, 9]

    with pytest.raises(Misconception, match=r"^\[raises\] conv2d_backward\(array of shape \(1, 1, 3, 3\), array of shape "
                                            r"\(1, 1, 4, 4\), array of shape \(1, 1, 2, 2\), array of shape \(1,\)\) "
                                            r"raised IndexError: "):
        diagnose.check_conv2d_backward(conv2d_backward)

    def he_init(c_out, c_in, k, rng):
        return rng.standard_normal(c_out, c_in, k, k)

    with pytest.raises(Misconception, match=r"^\[raises\] he_init\(4, 3, 3, rng\) raised TypeError: "):
        diagnose.check_he_init(he_init)


def test_a_visible_failure_draws_the_first_filter_or_image_that_differs():
    drawn = []
    picture = lambda expected, given, title: drawn.append((expected.shape, given.shape, title))  # noqa: E731
    with pytest.raises(Misconception):
        diagnose.check_conv2d_backward(backward_dw_summed_over_channels, picture=picture)
    ((expected, given, title),) = drawn
    assert expected == given == (2, 3, 3) and title.startswith("[dw-channel-mixup] dw is wrong for filter ")
    assert re.search(r"\(dw of filter \d\)$", title)
    drawn.clear()
    with pytest.raises(Misconception):
        diagnose.check_conv2d_backward(backward_db_mean, picture=picture)
    assert drawn == []  # db is one number per filter: nothing to draw


def test_the_course_picture_can_draw_every_visible_gradient_failure():
    plots = pytest.importorskip("conv_lib.plots")
    for wrong in (backward_dx_not_flipped, backward_dx_not_cropped, backward_dw_axes_swapped, backward_dw_first_image,
                  backward_dx_one_map_per_filter, backward_dx_drops_the_unreached_rows):
        with pytest.raises(Misconception):
            diagnose.check_conv2d_backward(wrong, picture=plots.show_mismatch)
    plots.plt.close("all")


def test_hidden_checks_draw_nothing():
    with pytest.raises(Misconception):
        diagnose.check_conv2d_backward(backward_dx_not_flipped, seed=5, hidden=True, picture=pytest.fail)


def test_checks_do_not_trust_what_the_notebook_may_have_replaced(monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    monkeypatch.setattr(np, "array_equal", lambda *args, **kwargs: True)
    monkeypatch.setattr(np, "std", lambda *args, **kwargs: 0.0333)
    monkeypatch.setattr(np, "mean", lambda *args, **kwargs: 0.0)
    monkeypatch.setattr(conv_lib, "conv2d", lambda *args, **kwargs: np.zeros((1, 1, 1, 1)))
    assert codes_of(diagnose.check_conv2d_backward, backward_dx_not_flipped) == ("dx-not-flipped",)
    assert codes_of(diagnose.check_he_init, he_variance_as_std) == ("variance-not-std",)


# --------------------------------------------------------------------------
# The expected gradients, and the he_init sizes, checked independently
# --------------------------------------------------------------------------


@pytest.mark.parametrize("hidden, seed", [(False, 0), (True, 61)])
def test_the_expected_gradients_are_exact_finite_differences(hidden, seed):
    for dout, x, w, b, stride, padding in learning_filters._backward_cases(seed, hidden):
        arrays = [np.array(value, dtype=float) for value in (dout, x, w, b)]
        dx, dw, db = backward_by_finite_differences(*arrays, stride=stride, padding=padding)
        xpad = [[plain.pad(channel, padding) for channel in image] for image in x]
        padded = (len(x[0][0]) + 2 * padding, len(x[0][0][0]) + 2 * padding)
        np.testing.assert_array_equal(np.array(learning_filters._dx(dout, w, padded, stride, padding)), dx)
        np.testing.assert_array_equal(np.array(learning_filters._dw(dout, xpad, np.shape(w), stride)), dw)
        np.testing.assert_array_equal(np.array(learning_filters._db(dout)), db)
        np.testing.assert_array_equal(backward_with_scipy(*arrays, stride, padding)[0], dx)


def test_the_cases_cover_what_the_misconceptions_need():
    for hidden, seed in [(False, 0), (True, 7)]:
        cases = learning_filters._backward_cases(seed, hidden)
        shapes = [(np.shape(x), np.shape(w), stride, padding) for _, x, w, _, stride, padding in cases]
        assert {x[0] for x, _, _, _ in shapes} == {1, 2}
        assert any(x[1] == w[0] > 1 and x[0] > 1 for x, w, _, _ in shapes)       # square channels, a batch
        assert any(w[0] > x[1] > 1 for x, w, _, _ in shapes)                      # more filters than channels
        assert {stride for _, _, stride, _ in shapes} == {1, 2} and {p for *_, p in shapes} == {0, 1}
        assert all(3 <= side <= 6 for x, _, _, _ in shapes for side in x[2:])
        assert all(1 <= side <= 3 for _, w, _, _ in shapes for side in w[2:])


def scales(c_out, c_in, k):
    """Every standard deviation that check_he_init tells apart, by name."""
    fan_in, fan_out = c_in * k * k, c_out * k * k
    return {"right": math.sqrt(2 / fan_in), "fan_out": math.sqrt(2 / fan_out), "c_in": math.sqrt(2 / c_in),
            "c_out": math.sqrt(2 / c_out), "k*k": math.sqrt(2 / (k * k)), "c_in*k": math.sqrt(2 / (c_in * k)),
            "all": math.sqrt(2 / (c_out * fan_in)), "variance": 2 / fan_in, "lecun": math.sqrt(1 / fan_in),
            "glorot": math.sqrt(2 / (fan_in + fan_out)), "glorot-bound": math.sqrt(6 / (fan_in + fan_out)),
            "lecun-variance": 1 / fan_in, "uniform-bound": math.sqrt(2 / fan_in / 3)}


@pytest.mark.parametrize("size", [(24, 72, 5), *diagnose.HE_LARGE_SIZES])
def test_the_large_draws_tell_every_scale_apart(size):
    c_out, c_in, k = size
    assert c_out * c_in * k * k >= 30_000
    named = scales(*size)
    same_code = [{"fan_out", "c_in", "c_out", "k*k", "c_in*k", "all"}, {"lecun", "glorot", "glorot-bound"}]
    for (a, x), (b, y) in [(p, q) for p in named.items() for q in named.items() if p[0] < q[0]]:
        if not any({a, b} <= group for group in same_code):  # the same code needs no telling apart
            assert abs(math.log(x / y)) >= 0.12, (a, b)
    # One standard error of the sample's standard deviation is 1 / sqrt(2 n): the tolerance is over seven of them.
    assert diagnose.HE_STD_TOLERANCE > 7 / math.sqrt(2 * c_out * c_in * k * k)


def test_the_right_he_init_passes_for_many_seeds():
    for seed in range(30):
        assert codes_of(diagnose.check_he_init, he_right, seed=seed, hidden=seed % 2 == 1) is None


# --------------------------------------------------------------------------
# Fast enough for a notebook
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name, function", [(n, f) for n, f in RIGHT if f is not backward_by_finite_differences]
                         + [(name, wrong) for name, wrong, _, _ in WRONG],
                         ids=[f.__name__ for n, f in RIGHT if f is not backward_by_finite_differences]
                         + [wrong.__name__ for _, wrong, _, _ in WRONG])
def test_every_check_takes_well_under_a_second(name, function):
    assert_quick(CHECKS[name], function)
