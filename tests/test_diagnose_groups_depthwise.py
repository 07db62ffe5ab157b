"""Notebook 07: each wrong idea about grouped and depthwise convolution, separable counts and the
frameworks' layouts is named by exactly its code.

Like tests/test_diagnose_stack.py: the wrong implementations below are written the way a learner
with that misconception would write them, and each must earn exactly the codes listed, in the
visible check and in the hidden one; the right ones (plain loops, conv_lib.conv2d_multi_in per
filter, scipy per channel is refused) pass both for several seeds. The corpus of learner answers
(tests/learner_answers_groups_depthwise.py) is also run here on its own, so that it holds before
the solution notebook exists; the independent check's cases agree with numbers computed by hand
and with scipy.
"""


import numpy as np
import pytest
import scipy.signal

import conv_lib
import conv_lib.layers
from conv_lib import diagnose
from conv_lib.diagnose import Misconception
from conv_lib.diagnose.groups_depthwise import conv2d_grouped_independent_cases, expected_grouped
from conv_lib.diagnose.groups_depthwise_layouts import (
    separable_macs_independent_cases,
    separable_params_independent_cases,
    to_channels_first_independent_cases,
    to_conv_lib_layout_independent_cases,
)
from learner_answers_groups_depthwise import (
    CONV2D_GROUPED,
    SEPARABLE_MACS,
    SEPARABLE_PARAMS,
    TO_CHANNELS_FIRST,
    TO_CONV_LIB_LAYOUT,
)
from misconception_tools import codes_of, failure, table_tests
from integrity_tools import SEED_TEXTS
from test_against_scipy import scipy_conv2d

CORPUS = CONV2D_GROUPED + SEPARABLE_PARAMS + SEPARABLE_MACS + TO_CONV_LIB_LAYOUT + TO_CHANNELS_FIRST
BY_NAME = {exercise.name: exercise for exercise in diagnose.EXERCISES}

# --------------------------------------------------------------------------
# conv2d_grouped(x, w, b, groups, stride=1, padding=0)
# --------------------------------------------------------------------------


def refuse_bad_groups(x, w, groups):
    C_in, C_out = x.shape[1], w.shape[0]
    if C_in % groups or C_out % groups:
        raise ValueError(f"{C_in} channels and {C_out} filters do not split into {groups} groups")
    if w.shape[1] * groups != C_in:
        raise ValueError(f"each filter needs C_in/groups = {C_in // groups} channels, w has {w.shape[1]}")


def window_sum(image, kernel, stride):
    kH, kW = kernel.shape
    Ho, Wo = (image.shape[0] - kH) // stride + 1, (image.shape[1] - kW) // stride + 1
    return np.array([[np.sum(image[i * stride:i * stride + kH, j * stride:j * stride + kW] * kernel) for j in range(Wo)]
                     for i in range(Ho)])


def grouped_right(x, w, b, groups, stride=1, padding=0):
    refuse_bad_groups(x, w, groups)
    per_in, per_out = x.shape[1] // groups, w.shape[0] // groups
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return np.stack([np.stack([
        sum(window_sum(image[(f // per_out) * per_in + c], w[f, c], stride) for c in range(per_in)) + b[f]
        for f in range(w.shape[0])]) for image in x])


def grouped_with_conv2d_multi_in(x, w, b, groups, stride=1, padding=0):
    refuse_bad_groups(x, w, groups)
    per_in, per_out = x.shape[1] // groups, w.shape[0] // groups
    x = conv_lib.pad2d(x, padding)
    return np.stack([np.stack([conv_lib.conv2d_multi_in(image[(f // per_out) * per_in:(f // per_out + 1) * per_in], w[f],
                                                        b[f], stride=stride) for f in range(w.shape[0])]) for image in x])


def grouped_dealt_in_turn(x, w, b, groups, stride=1, padding=0):
    refuse_bad_groups(x, w, groups)
    per_in = x.shape[1] // groups
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return np.stack([np.stack([
        sum(window_sum(image[(f % groups) * per_in + c], w[f, c], stride) for c in range(per_in)) + b[f]
        for f in range(w.shape[0])]) for image in x])


def grouped_ignores_groups(x, w, b, groups, stride=1, padding=0):
    refuse_bad_groups(x, w, groups)
    return grouped_right(x, np.tile(w, (1, groups, 1, 1)), b, 1, stride, padding)


def grouped_depthwise_summed(x, w, b, groups, stride=1, padding=0):
    if groups == x.shape[1]:
        refuse_bad_groups(x, w, groups)
        summed = np.repeat(w, groups, axis=1)  # each filter's one kernel for every channel
        return grouped_right(x, summed, b, 1, stride, padding)
    return grouped_right(x, w, b, groups, stride, padding)


def grouped_input_groups_of_c_out(x, w, b, groups, stride=1, padding=0):
    refuse_bad_groups(x, w, groups)
    size = w.shape[0] // groups
    x = conv_lib.pad2d(x, padding)
    return np.stack([np.stack([conv_lib.conv2d_multi_in(image[(f // size) * size:(f // size + 1) * size], w[f], b[f],
                                                        stride=stride) for f in range(w.shape[0])]) for image in x])


def grouped_no_bias(x, w, b, groups, stride=1, padding=0):
    return grouped_right(x, w, np.zeros_like(b), groups, stride, padding)


def grouped_flipped(x, w, b, groups, stride=1, padding=0):
    return grouped_right(x, w[:, :, ::-1, ::-1], b, groups, stride, padding)


def grouped_ignores_padding(x, w, b, groups, stride=1, padding=0):
    return grouped_right(x, w, b, groups, stride, 0)


def grouped_first_image_only(x, w, b, groups, stride=1, padding=0):
    return grouped_right(x[:1], w, b, groups, stride, padding)


def grouped_no_refusals(x, w, b, groups, stride=1, padding=0):
    per_in, per_out = x.shape[1] // groups, max(w.shape[0] // groups, 1)
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return np.stack([np.stack([
        sum(window_sum(image[min((f // per_out) * per_in + c, image.shape[0] - 1)], w[f, c], stride)
            for c in range(min(per_in, w.shape[1]))) + b[f]
        for f in range(w.shape[0])]) for image in x])


def grouped_no_split_check(x, w, b, groups, stride=1, padding=0):
    if w.shape[1] != x.shape[1] // groups:
        raise ValueError("w must have C_in/groups channels")
    return grouped_no_refusals(x, w, b, groups, stride, padding)


def grouped_with_the_library(x, w, b, groups, stride=1, padding=0):
    refuse_bad_groups(x, w, groups)
    per_in, per_out = x.shape[1] // groups, w.shape[0] // groups
    return np.concatenate([conv_lib.conv2d_reference(x[:, g * per_in:(g + 1) * per_in], w[g * per_out:(g + 1) * per_out],
                                                     b[g * per_out:(g + 1) * per_out], stride=stride, padding=padding)
                           for g in range(groups)], axis=1)


def grouped_with_scipy(x, w, b, groups, stride=1, padding=0):
    refuse_bad_groups(x, w, groups)
    per_in, per_out = x.shape[1] // groups, w.shape[0] // groups
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return np.stack([np.stack([
        sum(scipy.signal.correlate2d(image[(f // per_out) * per_in + c], w[f, c], mode="valid")
            for c in range(per_in))[::stride, ::stride] + b[f] for f in range(w.shape[0])]) for image in x])


# --------------------------------------------------------------------------
# The counts and the layouts
# --------------------------------------------------------------------------


def separable_params_right(c_in, c_out, k):
    return c_in * (k * k + 1) + c_out * (c_in + 1)


def separable_params_standard(c_in, c_out, k):
    return c_out * (c_in * k * k + 1)


def separable_params_without_biases(c_in, c_out, k):
    return c_in * k * k + c_out * c_in


def separable_macs_right(c_in, c_out, k, h, w):
    return h * w * c_in * (k * k + c_out)


def separable_macs_depthwise_only(c_in, c_out, k, h, w):
    return h * w * c_in * k * k


def separable_macs_depthwise_full(c_in, c_out, k, h, w):
    return h * w * c_in * c_in * k * k + h * w * c_in * c_out


def layout_right(kernel, source):
    if source == "keras":
        return np.einsum("hwio->oihw", kernel)
    if source == "pytorch":
        return kernel
    raise ValueError("source must be 'keras' or 'pytorch'")


def layout_reshaped(kernel, source):
    if source == "keras":
        kH, kW, C_in, C_out = kernel.shape
        return kernel.reshape(C_out, C_in, kH, kW)
    return layout_right(kernel, source)


def layout_height_and_width_swapped(kernel, source):
    return kernel.transpose(3, 2, 1, 0) if source == "keras" else layout_right(kernel, source)


def layout_pytorch_like_keras(kernel, source):
    if source not in ("keras", "pytorch"):
        raise ValueError(source)
    return kernel.transpose(3, 2, 0, 1)


def layout_accepts_anything(kernel, source):
    return kernel.transpose(3, 2, 0, 1) if source == "keras" else kernel


def channels_first_right(x):
    return np.stack([np.stack([image[:, :, c] for c in range(image.shape[2])]) for image in x])


def channels_first_reshaped(x):
    N, H, W, C = x.shape
    return x.reshape(N, C, H, W)


def channels_first_swapaxes(x):
    return np.swapaxes(x, 1, 3)


CHECKS = {
    "conv2d_grouped": diagnose.check_conv2d_grouped,
    "separable_params": diagnose.check_separable_params,
    "separable_macs": diagnose.check_separable_macs,
    "to_conv_lib_layout": diagnose.check_to_conv_lib_layout,
    "to_channels_first": diagnose.check_to_channels_first,
}

RIGHT = [
    ("conv2d_grouped", grouped_right),
    ("conv2d_grouped", grouped_with_conv2d_multi_in),
    ("separable_params", separable_params_right),
    ("separable_macs", separable_macs_right),
    ("to_conv_lib_layout", layout_right),
    ("to_channels_first", channels_first_right),
]

# (function graded, wrong implementation, codes in the visible check (None: it passes), codes in the hidden check)
WRONG = [
    ("conv2d_grouped", grouped_dealt_in_turn, ("wrong-group",), ("wrong-group",)),
    ("conv2d_grouped", grouped_ignores_groups, ("groups-ignored",), ("groups-ignored",)),
    ("conv2d_grouped", grouped_depthwise_summed, ("depthwise-summed",), ("depthwise-summed",)),
    ("conv2d_grouped", grouped_input_groups_of_c_out, ("group-size-from-c-out",), ("group-size-from-c-out",)),
    ("conv2d_grouped", grouped_no_bias, ("missing-bias",), ("missing-bias",)),
    ("conv2d_grouped", grouped_flipped, ("flipped-kernel",), ("flipped-kernel",)),
    ("conv2d_grouped", grouped_ignores_padding, ("output-size",), ("output-size",)),
    ("conv2d_grouped", grouped_first_image_only, ("batch-mixed",), ("batch-mixed",)),
    ("conv2d_grouped", grouped_no_refusals, ("depth-check", "groups-check"), ("depth-check", "groups-check")),
    ("conv2d_grouped", grouped_no_split_check, ("groups-check",), ("groups-check",)),
    ("conv2d_grouped", grouped_with_the_library, ("reference-call",), ("reference-call",)),
    ("conv2d_grouped", grouped_with_scipy, ("reference-call",), ("reference-call",)),
    ("separable_params", separable_params_standard, ("separable-counted-standard",), ("separable-counted-standard",)),
    ("separable_params", separable_params_without_biases, ("separable-no-bias",), ("separable-no-bias",)),
    ("separable_macs", separable_macs_depthwise_only, ("separable-no-pointwise",), ("separable-no-pointwise",)),
    ("separable_macs", separable_macs_depthwise_full, ("depthwise-as-full",), ("depthwise-as-full",)),
    ("to_conv_lib_layout", layout_reshaped, ("kernel-reshaped",), ("kernel-reshaped",)),
    ("to_conv_lib_layout", layout_height_and_width_swapped, ("wrong-axis-order",), ("wrong-axis-order",)),
    ("to_conv_lib_layout", layout_pytorch_like_keras, ("source-mixed-up",), ("source-mixed-up",)),
    ("to_conv_lib_layout", layout_accepts_anything, ("source-check",), ("source-check",)),
    ("to_channels_first", channels_first_reshaped, ("reshape-not-transpose",), ("reshape-not-transpose",)),
    ("to_channels_first", channels_first_swapaxes, ("wrong-axis-order",), ("wrong-axis-order",)),
]

# Right answers pass; each misconception earns exactly its codes, visible and hidden; an empty exercise
# raises NotImplementedError; hidden failures show no numbers; every check is fast enough for a notebook
# (misconception_tools.table_tests). The corpus of learners' answers is tested in test_learner_answers.py.
(test_a_right_implementation_passes_visible_and_hidden_checks, test_each_misconception_is_named_by_exactly_its_code,
 test_hidden_failures_reveal_no_inputs_or_expected_values, test_a_still_empty_exercise_fails_with_not_implemented_error,
 test_every_check_takes_well_under_a_second) = table_tests(CHECKS, RIGHT, WRONG, hidden_seeds=[7, 41])


def test_the_corpus_earns_every_new_code():
    earned = {code for row in CORPUS for code in row.expected or ()}
    new = {"groups-ignored", "wrong-group", "depthwise-summed", "group-size-from-c-out", "groups-check",
           "separable-no-pointwise", "separable-no-depthwise", "separable-no-bias", "separable-counted-standard",
           "depthwise-as-full", "kernel-reshaped", "wrong-axis-order", "source-mixed-up", "source-check"}
    assert new <= set(diagnose.CODES) and new <= earned
    assert len(CORPUS) >= 40


# --------------------------------------------------------------------------
# Ready-made calls, crashes and messages
# --------------------------------------------------------------------------


@pytest.mark.parametrize("hidden", [False, True])
def test_the_librarys_conv2d_with_groups_is_a_reference_call(hidden):
    def conv2d_grouped(x, w, b, groups, stride=1, padding=0):
        refuse_bad_groups(x, w, groups)
        return conv_lib.conv2d(x, w, b, stride=stride, padding=padding, groups=groups)

    error = failure(diagnose.check_conv2d_grouped, conv2d_grouped, seed=7 if hidden else 0, hidden=hidden)
    assert error.codes == ("reference-call",)
    assert str(error).startswith("[reference-call] conv2d_grouped calls conv_lib.ops.conv2d")


@pytest.mark.parametrize("hidden", [False, True])
def test_a_layer_that_calls_conv2d_is_a_reference_call_as_the_tripwires_see_it(hidden):
    def conv2d_grouped(x, w, b, groups, stride=1, padding=0):
        refuse_bad_groups(x, w, groups)
        return np.concatenate([conv_lib.layers.Conv2d(w[f:f + 1], b[f:f + 1], stride=stride, padding=padding).forward(
            x[:, (f // (w.shape[0] // groups)) * w.shape[1]:(f // (w.shape[0] // groups) + 1) * w.shape[1]])
            for f in range(w.shape[0])], axis=1)

    assert codes_of(diagnose.check_conv2d_grouped, conv2d_grouped, seed=7 if hidden else 0, hidden=hidden) == (
        "reference-call",)


def test_the_allowed_calls_are_corr2d_conv2d_multi_in_and_pad2d():
    from conv_lib.diagnose.runner import forbidden_by
    assert forbidden_by(diagnose.check_conv2d_grouped) == {"conv2d", "conv2d_reference", "conv2d_fast"}
    assert forbidden_by(diagnose.check_to_conv_lib_layout) is None
    assert forbidden_by(diagnose.check_to_channels_first) is None
    assert {"layer_params", "conv2d"} <= forbidden_by(diagnose.check_separable_params)
    assert {"layer_macs", "conv2d"} <= forbidden_by(diagnose.check_separable_macs)


def test_a_crash_no_idea_explains_is_reported_with_the_learners_error():
    def conv2d_grouped(x, w, b, groups, stride=1, padding=0):
        return x[:, 99]

    with pytest.raises(Misconception, match=r"^\[raises\] conv2d_grouped\(array of shape \(1, 2, 3, 3\), .* raised IndexError: "
                                            r".*Remember the two group sizes") as caught:
        diagnose.check_conv2d_grouped(conv2d_grouped)
    assert isinstance(caught.value.__cause__, IndexError)


def test_a_wrong_group_size_that_crashes_where_it_runs_past_the_channels_is_named():
    """The filters' group size used for the input runs past the last channel when C_out > C_in (a
    channel multiplier): conv2d_multi_in refuses the short slice. The crash is that idea's answer there."""
    error = failure(diagnose.check_conv2d_grouped, grouped_input_groups_of_c_out)
    assert error.codes == ("group-size-from-c-out",)
    assert "C_in/groups" in str(error) and "raise" not in str(error)


def test_a_depthwise_sum_points_back_at_the_no_channel_sum_rule():
    message = str(failure(diagnose.check_conv2d_grouped, grouped_depthwise_summed))
    assert message.startswith("[depthwise-summed] ") and "[no-channel-sum]" in message
    assert "one map per input channel without a sum" in message


def test_a_visible_failure_draws_the_first_image_that_differs():
    drawn = []
    diagnose_error = None
    try:
        diagnose.check_conv2d_grouped(grouped_dealt_in_turn, picture=lambda expected, given, title: drawn.append(
            (expected.shape, given.shape, title)))
    except Misconception as error:
        diagnose_error = error
    assert diagnose_error is not None and len(drawn) == 1
    expected_shape, given_shape, title = drawn[0]
    assert expected_shape == given_shape and title.startswith("[wrong-group] ")


def test_the_refusals_name_what_was_accepted():
    message = str(failure(diagnose.check_conv2d_grouped, grouped_no_refusals))
    first, second = message.splitlines()
    assert first.startswith("[depth-check] conv2d_grouped accepted filters as deep as the whole input")
    assert second.startswith("[groups-check] ")


# --------------------------------------------------------------------------
# The independent check's expected answers, by hand and by scipy
# --------------------------------------------------------------------------


def test_the_depthwise_example_by_hand():
    """Notebook 02's two channels, depthwise: one map per channel, [[19, 25], [37, 43]] and [[37, 47], [67, 77]];
    their sum is notebook 02's [[56, 72], [104, 120]]."""
    x = [[[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]
    w = [[[[0, 1], [2, 3]]], [[[1, 2], [3, 4]]]]
    by_hand = [[[[19, 25], [37, 43]], [[37, 47], [67, 77]]]]
    assert expected_grouped(x, w, [0, 0], 2, 0, 1) == by_hand
    got = conv_lib.conv2d_reference(np.array(x, float), np.array(w, float), np.zeros(2), groups=2)
    assert got.tolist() == by_hand
    assert (got.sum(axis=1) == [[[56, 72], [104, 120]]]).all()


@pytest.mark.parametrize("seed_text", SEED_TEXTS)
def test_the_independent_cases_agree_with_scipy_and_with_conv_lib_groups(seed_text):
    from autograder.integrity import rng_for
    cases = conv2d_grouped_independent_cases(rng_for(seed_text))
    computed = [case for case in cases if isinstance(case.expected, np.ndarray)]
    assert len(computed) == 7 and len(cases) == 10
    kinds = set()
    for case in computed:
        x, w, b, groups = case.args
        kinds.add((groups == 1, groups == x.shape[1], w.shape[0] > x.shape[1]))
        stride, padding = (case.kwargs["stride"],) * 2, (case.kwargs["padding"],) * 2
        np.testing.assert_allclose(case.expected, scipy_conv2d(x, w, b, stride, padding, (1, 1), groups))
        np.testing.assert_allclose(case.expected, conv_lib.conv2d(x, w, b, groups=groups, **case.kwargs))
    assert {(True, False, True), (False, True, False), (False, True, True), (False, False, True)} <= kinds


def test_the_separable_counts_by_hand():
    """MobileNet's second layer: 32 channels in, 64 out, 3x3, maps of 112 x 112."""
    params = {case.args: case.expected for case in separable_params_independent_cases(np.random.default_rng(0))}
    assert params[(32, 64, 3)] == 32 * 9 + 32 + 64 * 32 + 64 == 2432
    macs = {case.args: case.expected for case in separable_macs_independent_cases(np.random.default_rng(0))}
    assert macs[(32, 64, 3, 112, 112)] == 112 * 112 * 32 * 9 + 112 * 112 * 32 * 64 == 29_302_784
    # the biases add no products, as conv_lib.models counts a layer
    from conv_lib.models import layer_macs
    pointwise = layer_macs(("conv", 64, 1, 1, 0), (32, 112, 112), (64, 112, 112))
    assert macs[(32, 64, 3, 112, 112)] - 112 * 112 * 32 * 9 == pointwise


def test_the_layout_cases_by_hand():
    layouts = to_conv_lib_layout_independent_cases(np.random.default_rng(0))
    for case in layouts:
        kernel, source = case.args
        if source == "keras":
            kH, kW, C_in, C_out = kernel.shape
            assert case.expected.shape == (C_out, C_in, kH, kW)
            assert case.expected[C_out - 1, 0, kH - 1, 0] == kernel[kH - 1, 0, 0, C_out - 1]
        elif source == "pytorch":
            assert (case.expected == kernel).all()
        else:
            assert case.expected == "ValueError"
    assert any(case.args[1] == "keras" and case.args[0].shape[0] != case.args[0].shape[1] for case in layouts)
    for case in to_channels_first_independent_cases(np.random.default_rng(0)):
        (x,) = case.args
        assert x.shape[1] != x.shape[2]
        assert (case.expected[:, 0] == x[:, :, :, 0]).all() and (case.expected[:, -1] == x[:, :, :, -1]).all()
