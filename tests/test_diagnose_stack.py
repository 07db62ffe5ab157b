"""Notebook 04: each wrong idea about conv and pool layers and stacks is named by exactly its code.

Like tests/test_diagnose.py: the wrong implementations below are written the way
a learner with that misconception would write them, and each must earn exactly
the codes listed, in the visible check and in the hidden one. The right
implementations are written here independently of conv_lib.diagnose (plain
numpy loops, a receptive field computed backwards) and must pass both checks
for several seeds. Notebook 05's checks are in tests/test_diagnose_vgg16.py.
"""

import numpy as np
import pytest
import scipy.signal

import conv_lib
from conv_lib import diagnose
from conv_lib.diagnose import Misconception
from misconception_tools import assert_crash_reported, codes_of, failure, table_tests, with_the_depth_check

#: VGG16's blocks: (filters, convolutions) each, then a 2x2 pool.
VGG16_BLOCKS = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]

# --------------------------------------------------------------------------
# Notebook 04: conv2d(x, w, b, stride=1, padding=0) on a batch
# --------------------------------------------------------------------------


def window_sum(image, kernel, stride):
    """One channel against one kernel, with plain loops."""
    kH, kW = kernel.shape
    Ho, Wo = (image.shape[0] - kH) // stride + 1, (image.shape[1] - kW) // stride + 1
    out = np.zeros((Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[i, j] = np.sum(image[i * stride : i * stride + kH, j * stride : j * stride + kW] * kernel)
    return out


def conv2d_right(x, w, b, stride=1, padding=0):
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"each filter needs one channel per input channel: w has {w.shape[1]}, x has {x.shape[1]}")
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return np.stack([
        np.stack([sum(window_sum(image[c], w[f, c], stride) for c in range(x.shape[1])) + b[f] for f in range(w.shape[0])])
        for image in x
    ])


def conv2d_with_allowed_helpers(x, w, b, stride=1, padding=0):
    if w.shape[1] != x.shape[1]:
        raise ValueError("depth")
    x = conv_lib.pad2d(x, padding)
    return np.stack([np.stack([conv_lib.conv2d_multi_in(image, w[f], b[f], stride=stride) for f in range(w.shape[0])])
                     for image in x])


@with_the_depth_check
def conv2d_every_channel_its_own_map(x, w, b, stride=1, padding=0):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return np.stack([np.stack([window_sum(image[c], w[f, c], stride) + b[f] for f in range(w.shape[0]) for c in range(x.shape[1])])
                     for image in x])


@with_the_depth_check
def conv2d_sums_filters(x, w, b, stride=1, padding=0):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return np.stack([np.stack([sum(window_sum(image[c], w[f, c], stride) for f in range(w.shape[0])) for c in range(x.shape[1])])
                     for image in x])


@with_the_depth_check
def conv2d_mean(x, w, b, stride=1, padding=0):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return np.stack([np.stack([np.mean([window_sum(image[c], w[f, c], stride) for c in range(x.shape[1])], axis=0) + b[f]
                               for f in range(w.shape[0])]) for image in x])


def conv2d_swapped_axes_square_only(x, w, b, stride=1, padding=0):
    if x.shape[1] != w.shape[0]:
        return conv2d_right(x, w, b, stride, padding)
    return conv2d_right(x, w.transpose(1, 0, 2, 3), b, stride, padding)


def conv2d_no_bias(x, w, b, stride=1, padding=0):
    return conv2d_right(x, w, np.zeros_like(b), stride, padding)


def conv2d_first_bias(x, w, b, stride=1, padding=0):
    return conv2d_right(x, w, np.full_like(b, b[0]), stride, padding)


def conv2d_flipped(x, w, b, stride=1, padding=0):
    return conv2d_right(x, w[:, :, ::-1, ::-1], b, stride, padding)


def conv2d_ignores_padding(x, w, b, stride=1, padding=0):
    return conv2d_right(x, w, b, stride, 0)


def conv2d_ignores_stride(x, w, b, stride=1, padding=0):
    return conv2d_right(x, w, b, 1, padding)


def conv2d_forgets_plus_one(x, w, b, stride=1, padding=0):
    return conv2d_right(x, w, b, stride, padding)[:, :, :-1, :-1]


def conv2d_rounds_up(x, w, b, stride=1, padding=0):
    # A last window that sticks out is kept, with zeros where it leaves the input.
    H, W = x.shape[2] + 2 * padding, x.shape[3] + 2 * padding
    extra_rows = (-(H - w.shape[2]) % stride)
    extra_columns = (-(W - w.shape[3]) % stride)
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding + extra_rows), (padding, padding + extra_columns)))
    return conv2d_right(x, w, b, stride, 0)


def conv2d_first_image_only(x, w, b, stride=1, padding=0):
    return conv2d_right(x[:1], w, b, stride, padding)


def conv2d_sums_images(x, w, b, stride=1, padding=0):
    return conv2d_right(x.sum(axis=0, keepdims=True), w, b, stride, padding)


def conv2d_drops_the_batch_axis(x, w, b, stride=1, padding=0):
    return np.squeeze(conv2d_right(x, w, b, stride, padding), axis=0) if x.shape[0] == 1 else conv2d_right(x, w, b, stride, padding)


def conv2d_no_depth_check(x, w, b, stride=1, padding=0):
    depth = min(x.shape[1], w.shape[1])
    return conv2d_right(x[:, :depth], w[:, :depth], b, stride, padding)


def conv2d_with_the_library(x, w, b, stride=1, padding=0):
    return conv_lib.conv2d(x, w, b, stride=stride, padding=padding)


def conv2d_with_scipy(x, w, b, stride=1, padding=0):
    if w.shape[1] != x.shape[1]:
        raise ValueError("depth")
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return np.stack([np.stack([
        sum(scipy.signal.correlate2d(image[c], w[f, c], mode="valid") for c in range(x.shape[1]))[::stride, ::stride] + b[f]
        for f in range(w.shape[0])]) for image in x])


# --------------------------------------------------------------------------
# Notebook 04: max_pool2d(x, size=2, stride=2)
# --------------------------------------------------------------------------


def pool_loops(x, size, stride, reduce=np.max, rows=None, columns=None, start=None):
    """Pool each channel of each image; rows/columns: how many windows; start(i): where window i starts."""
    N, C, H, W = x.shape
    rows = (H - size) // stride + 1 if rows is None else rows
    columns = (W - size) // stride + 1 if columns is None else columns
    start = start or (lambda i: i * stride)
    out = np.zeros((N, C, rows, columns))
    for n in range(N):
        for c in range(C):
            for i in range(rows):
                for j in range(columns):
                    out[n, c, i, j] = reduce(x[n, c, start(i) : start(i) + size, start(j) : start(j) + size])
    return out


def max_pool2d_right(x, size=2, stride=2):
    return pool_loops(x, size, stride)


def pool_max_over_channels(x, size=2, stride=2):
    return pool_loops(x.max(axis=1, keepdims=True), size, stride)


def pool_every_channel_the_max_over_all(x, size=2, stride=2):
    return np.repeat(pool_max_over_channels(x, size, stride), x.shape[1], axis=1)


def pool_average(x, size=2, stride=2):
    return pool_loops(x, size, stride, np.mean)


def pool_steps_by_its_size(x, size=2, stride=2):
    return pool_loops(x, size, size, rows=x.shape[2] // size, columns=x.shape[3] // size)


def pool_counts_windows_as_n_over_size(x, size=2, stride=2):
    return pool_loops(x, size, stride, rows=x.shape[2] // size, columns=x.shape[3] // size)


def pool_rounds_up(x, size=2, stride=2):
    rows, columns = (-(-(x.shape[2] - size) // stride) + 1, -(-(x.shape[3] - size) // stride) + 1)
    return pool_loops(x, size, stride, rows=rows, columns=columns)  # the last window is cut by the slice


def pool_forgets_plus_one(x, size=2, stride=2):
    return pool_loops(x, size, stride)[:, :, :-1, :-1]


def pool_first_image_only(x, size=2, stride=2):
    return pool_loops(x[:1], size, stride)


def pool_without_defaults(x, size, stride):
    return pool_loops(x, size, stride)


def pool_with_the_library(x, size=2, stride=2):
    return conv_lib.max_pool2d(x, size, stride)


# --------------------------------------------------------------------------
# Notebook 04: stack_shapes(input_shape, layers)
# --------------------------------------------------------------------------


def after(n, k, padding, stride):
    return (n + 2 * padding - k) // stride + 1


def shapes_with(rule_conv, rule_pool, include_relu=True):
    """A stack_shapes built from one rule for convs and one for pools."""

    def stack_shapes(input_shape, layers):
        shape, shapes = tuple(input_shape), []
        for layer in layers:
            if layer[0] == "conv":
                shape = rule_conv(shape, *layer[1:])
            elif layer[0] == "pool":
                shape = rule_pool(shape, *layer[1:])
            elif not include_relu:
                continue
            shapes.append(shape)
        return shapes

    return stack_shapes


def right_conv(shape, c_out, k, stride, padding):
    return (c_out, after(shape[1], k, padding, stride), after(shape[2], k, padding, stride))


def right_pool(shape, size, stride):
    return (shape[0], after(shape[1], size, 0, stride), after(shape[2], size, 0, stride))


stack_shapes_right = shapes_with(right_conv, right_pool)
stack_shapes_keeps_channels = shapes_with(lambda s, c, k, st, p: (s[0],) + right_conv(s, c, k, st, p)[1:], right_pool)
stack_shapes_per_filter_per_channel = shapes_with(lambda s, c, k, st, p: (s[0] * c,) + right_conv(s, c, k, st, p)[1:], right_pool)
stack_shapes_pool_makes_one_channel = shapes_with(right_conv, lambda s, size, st: (1,) + right_pool(s, size, st)[1:])
stack_shapes_ignores_padding = shapes_with(lambda s, c, k, st, p: right_conv(s, c, k, st, 0), right_pool)
stack_shapes_ignores_stride = shapes_with(lambda s, c, k, st, p: right_conv(s, c, k, 1, p), lambda s, size, st: right_pool(s, size, 1))
stack_shapes_forgets_plus_one = shapes_with(
    lambda s, c, k, st, p: (c, (s[1] + 2 * p - k) // st, (s[2] + 2 * p - k) // st),
    lambda s, size, st: (s[0], (s[1] - size) // st, (s[2] - size) // st),
)
stack_shapes_true_division = shapes_with(
    lambda s, c, k, st, p: (c, (s[1] + 2 * p - k) / st + 1, (s[2] + 2 * p - k) / st + 1),
    lambda s, size, st: (s[0], (s[1] - size) / st + 1, (s[2] - size) / st + 1),
)
stack_shapes_skips_relu = shapes_with(right_conv, right_pool, include_relu=False)


def stack_shapes_relu_like_a_pool(input_shape, layers):
    return stack_shapes_right(input_shape, [("pool", 2, 2) if layer[0] == "relu" else layer for layer in layers])


def stack_shapes_with_the_input(input_shape, layers):
    return [tuple(input_shape)] + stack_shapes_right(input_shape, layers)


def stack_shapes_last_only(input_shape, layers):
    return stack_shapes_right(input_shape, layers)[-1]


def stack_shapes_as_text(input_shape, layers):
    return str(stack_shapes_right(input_shape, layers))


def stack_shapes_numpy_lists(input_shape, layers):
    return [list(np.array(shape, dtype=np.int64)) for shape in stack_shapes_right(input_shape, layers)]


def stack_shapes_with_the_library(input_shape, layers):
    from conv_lib.models import layer_output_shape

    shapes, shape = [], input_shape
    for layer in layers:
        shape = layer_output_shape(layer, shape)
        shapes.append(shape)
    return shapes


# --------------------------------------------------------------------------
# Notebook 04: receptive_field(layers)
# --------------------------------------------------------------------------


def windows(layers):
    """(k, stride, padding) of each conv and pool, in order."""
    found = []
    for layer in layers:
        if layer[0] == "conv":
            found.append((layer[2], layer[3], layer[4]))
        elif layer[0] == "pool":
            found.append((layer[1], layer[2], 0))
    return found


def receptive_field_right(layers):
    # Backwards from one output unit: a window of k over units s apart covers (r - 1) * s + k below.
    r = 1
    for k, stride, _ in reversed(windows(layers)):
        r = (r - 1) * stride + k
    return r


def receptive_field_forwards(layers, start=1, widen=lambda k, p: k - 1, early=False, use_strides=True, kinds=("conv", "pool")):
    # Forwards from the input: each window adds widen(k, padding) times the jump, the distance in input
    # pixels between two neighbouring units so far; its stride multiplies the jump after it (early: before).
    r, jump = start, 1
    for k, stride, padding in windows([layer for layer in layers if layer[0] in kinds]):
        stride = stride if use_strides else 1
        before, after = (stride, 1) if early else (1, stride)
        r, jump = r + widen(k, padding) * jump * before, jump * before * after
    return r


def receptive_field_ignores_strides(layers):
    return 1 + sum(k - 1 for k, _, _ in windows(layers))


def receptive_field_multiplies_kernels(layers):
    return int(np.prod([k for k, _, _ in windows(layers)]))


def receptive_field_counts_padding(layers):
    return receptive_field_forwards(layers, widen=lambda k, p: k - 1 + 2 * p)


def receptive_field_stride_too_early(layers):
    return receptive_field_forwards(layers, early=True)


def receptive_field_skips_pools(layers):
    return receptive_field_forwards(layers, kinds=("conv",))


def receptive_field_starts_at_zero(layers):
    return receptive_field_forwards(layers, start=0)


def receptive_field_adds_k(layers):
    return receptive_field_forwards(layers, widen=lambda k, p: k)


def receptive_field_float(layers):
    return float(receptive_field_right(layers))


def receptive_field_no_return(layers):
    receptive_field_right(layers)


# --------------------------------------------------------------------------
# The table of checks, right answers and misconceptions
# --------------------------------------------------------------------------

CHECKS = {
    "conv2d": diagnose.check_conv2d,
    "max_pool2d": diagnose.check_max_pool2d,
    "stack_shapes": diagnose.check_stack_shapes,
    "receptive_field": diagnose.check_receptive_field,
}

RIGHT = [
    ("conv2d", conv2d_right),
    ("conv2d", conv2d_with_allowed_helpers),
    ("max_pool2d", max_pool2d_right),
    ("stack_shapes", stack_shapes_right),
    ("stack_shapes", stack_shapes_numpy_lists),
    ("receptive_field", receptive_field_right),
    ("receptive_field", receptive_field_forwards),
]

# (function graded, wrong implementation, codes in the visible check (None: it passes), codes in the hidden check)
WRONG = [
    ("conv2d", conv2d_every_channel_its_own_map, ("per-filter-per-channel",), ("per-filter-per-channel",)),
    ("conv2d", conv2d_sums_filters, ("filters-summed",), ("filters-summed",)),
    ("conv2d", conv2d_mean, ("mean-not-sum",), ("mean-not-sum",)),
    ("conv2d", conv2d_swapped_axes_square_only, ("channel-pairing",), ("channel-pairing",)),
    ("conv2d", conv2d_no_bias, ("missing-bias",), ("missing-bias",)),
    ("conv2d", conv2d_first_bias, ("missing-bias",), ("missing-bias",)),
    ("conv2d", conv2d_flipped, ("flipped-kernel",), ("flipped-kernel",)),
    ("conv2d", conv2d_ignores_padding, ("output-size",), ("output-size",)),
    ("conv2d", conv2d_ignores_stride, ("output-size",), ("output-size",)),
    ("conv2d", conv2d_forgets_plus_one, ("output-size",), ("output-size",)),
    ("conv2d", conv2d_rounds_up, ("output-size",), ("output-size",)),
    ("conv2d", conv2d_first_image_only, ("batch-mixed",), ("batch-mixed",)),
    ("conv2d", conv2d_sums_images, ("batch-mixed",), ("batch-mixed",)),
    ("conv2d", conv2d_drops_the_batch_axis, ("batch-mixed",), ("batch-mixed",)),
    ("conv2d", conv2d_no_depth_check, ("depth-check",), ("depth-check",)),
    ("conv2d", conv2d_with_the_library, ("reference-call",), ("reference-call",)),
    ("conv2d", conv2d_with_scipy, ("reference-call",), ("reference-call",)),
    ("max_pool2d", pool_max_over_channels, ("pool-mixes-channels",), ("pool-mixes-channels",)),
    ("max_pool2d", pool_every_channel_the_max_over_all, ("pool-mixes-channels",), ("pool-mixes-channels",)),
    ("max_pool2d", pool_average, ("avg-not-max",), ("avg-not-max",)),
    ("max_pool2d", pool_steps_by_its_size, ("output-size",), ("output-size",)),
    ("max_pool2d", pool_counts_windows_as_n_over_size, ("output-size",), ("output-size",)),
    ("max_pool2d", pool_rounds_up, ("output-size",), ("output-size",)),
    ("max_pool2d", pool_forgets_plus_one, ("output-size",), ("output-size",)),
    ("max_pool2d", pool_first_image_only, ("batch-mixed",), ("batch-mixed",)),
    ("max_pool2d", pool_without_defaults, ("raises",), ("raises",)),
    ("max_pool2d", pool_with_the_library, ("reference-call",), ("reference-call",)),
    ("stack_shapes", stack_shapes_keeps_channels, ("conv-keeps-channels",), ("conv-keeps-channels",)),
    ("stack_shapes", stack_shapes_per_filter_per_channel, ("per-filter-per-channel",), ("per-filter-per-channel",)),
    ("stack_shapes", stack_shapes_pool_makes_one_channel, ("pool-mixes-channels",), ("pool-mixes-channels",)),
    ("stack_shapes", stack_shapes_ignores_padding, ("output-size",), ("output-size",)),
    ("stack_shapes", stack_shapes_ignores_stride, ("output-size",), ("output-size",)),
    ("stack_shapes", stack_shapes_forgets_plus_one, ("output-size",), ("output-size",)),
    ("stack_shapes", stack_shapes_true_division, ("output-size",), ("output-size",)),
    ("stack_shapes", stack_shapes_relu_like_a_pool, ("relu-changes-shape",), ("relu-changes-shape",)),
    ("stack_shapes", stack_shapes_with_the_input, ("one-per-layer",), ("one-per-layer",)),
    ("stack_shapes", stack_shapes_skips_relu, ("one-per-layer",), ("one-per-layer",)),
    ("stack_shapes", stack_shapes_last_only, ("one-per-layer",), ("one-per-layer",)),
    ("stack_shapes", stack_shapes_as_text, ("not-a-shape-list",), ("not-a-shape-list",)),
    ("stack_shapes", stack_shapes_with_the_library, ("reference-call",), ("reference-call",)),
    ("receptive_field", receptive_field_ignores_strides, ("stride-ignored",), ("stride-ignored",)),
    ("receptive_field", receptive_field_multiplies_kernels, ("kernels-multiplied",), ("kernels-multiplied",)),
    ("receptive_field", receptive_field_counts_padding, ("padding-counted",), ("padding-counted",)),
    ("receptive_field", receptive_field_stride_too_early, ("stride-too-early",), ("stride-too-early",)),
    ("receptive_field", receptive_field_skips_pools, ("pool-ignored",), ("pool-ignored",)),
    ("receptive_field", receptive_field_starts_at_zero, ("off-by-one",), ("off-by-one",)),
    ("receptive_field", receptive_field_adds_k, ("off-by-one",), ("off-by-one",)),
    ("receptive_field", receptive_field_float, ("not-an-array",), ("not-an-array",)),
    ("receptive_field", receptive_field_no_return, ("no-return",), ("no-return",)),
]

HIDDEN_SEEDS = [7, 41, 123]


# Right answers pass; each misconception earns exactly its codes, in the visible and the hidden
# check; a hidden failure shows no inputs; an empty exercise raises NotImplementedError; every
# check is fast enough for a notebook (misconception_tools.table_tests).
(test_a_right_implementation_passes_visible_and_hidden_checks, test_each_misconception_is_named_by_exactly_its_code,
 test_hidden_failures_reveal_no_inputs_or_expected_values, test_a_still_empty_exercise_fails_with_not_implemented_error,
 test_every_check_takes_well_under_a_second) = table_tests(CHECKS, RIGHT, WRONG, hidden_seeds=HIDDEN_SEEDS)


# --------------------------------------------------------------------------
# Crashes and pictures
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name, crashing, shown", [
    ("conv2d", lambda x, w, b, stride=1, padding=0: x[:, 9],
     r"conv2d\(array of shape \(1, 2, 4, 4\), array of shape \(3, 2, 2, 2\), array of shape \(3,\)\)"),
    ("max_pool2d", lambda x, size=2, stride=2: x[9], r"max_pool2d\(array of shape \(1, 2, 4, 4\)\)"),
    ("stack_shapes", lambda input_shape, layers: layers[99], r"stack_shapes\(\(3, 32, 32\), \[\('conv', 8, 3, 1, 1\)"),
    ("receptive_field", lambda layers: layers[99], r"receptive_field\(\[\('conv', 64, 3, 1, 1\)\]\)"),
])
def test_a_crash_is_reported_with_the_learners_error(name, crashing, shown):
    assert_crash_reported(CHECKS[name], crashing, shown)


def test_a_hidden_crash_shows_array_shapes_but_no_other_input():
    def stack_shapes(input_shape, layers):
        raise RuntimeError("the learner's own words")

    with pytest.raises(Misconception) as caught:
        diagnose.check_stack_shapes(stack_shapes, seed=3, hidden=True)
    assert str(caught.value) == "[raises] stack_shapes(..., ...) raised RuntimeError: the learner's own words"


def test_a_visible_conv2d_failure_draws_the_first_image_that_differs():
    drawn = []

    def conv2d_wrong_on_the_second_image(x, w, b, stride=1, padding=0):
        out = conv2d_right(x, w, b, stride, padding)
        if len(x) > 1:
            out[1:] = conv2d_mean(x[1:], w, b, stride, padding)
        return out

    with pytest.raises(Misconception) as caught:
        diagnose.check_conv2d(conv2d_wrong_on_the_second_image, picture=lambda e, g, title: drawn.append((e, g, title)))
    assert caught.value.codes == ("wrong-values",)
    (expected, given, title), = drawn
    assert expected.shape == given.shape == caught.value.expected.shape[1:]  # one image: (C_out, Ho, Wo)
    np.testing.assert_array_equal(given, caught.value.given[1])
    assert title.endswith("(image 1 of the batch)")


def test_a_picture_is_drawn_for_a_pool_that_mixes_channels():
    drawn = []
    with pytest.raises(Misconception):
        diagnose.check_max_pool2d(pool_max_over_channels, picture=lambda e, g, title: drawn.append((e.shape, g.shape, title)))
    assert drawn == [((2, 2, 2), (1, 2, 2), "[pool-mixes-channels] max_pool2d took the maximum across channels as well, "
                                           "leaving one map per image: pooling works on each channel on its own, so an input "
                                           "with C channels gives an output with C channels (image 0 of the batch)")]


def test_the_course_picture_can_draw_every_visible_failure_of_a_batch():
    plots = pytest.importorskip("conv_lib.plots")
    for name, wrong in [("max_pool2d", pool_every_channel_the_max_over_all), ("max_pool2d", pool_max_over_channels),
                        ("conv2d", conv2d_mean), ("conv2d", conv2d_ignores_padding), ("conv2d", conv2d_first_image_only),
                        ("conv2d", conv2d_every_channel_its_own_map)]:
        with pytest.raises(Misconception):
            CHECKS[name](wrong, picture=plots.show_mismatch)
    plots.plt.close("all")


# --------------------------------------------------------------------------
# What the messages say
# --------------------------------------------------------------------------


def message(check, function, **options):
    return str(failure(check, function, **options))


def test_a_pool_that_takes_the_max_across_channels_earns_pool_mixes_channels():
    assert message(diagnose.check_max_pool2d, pool_max_over_channels).startswith(
        "[pool-mixes-channels] max_pool2d took the maximum across channels as well")


def test_a_pool_that_counts_windows_as_n_over_size_is_told_so():
    text = message(diagnose.check_max_pool2d, pool_counts_windows_as_n_over_size)
    assert text == ("[output-size] for max_pool2d(x, size=2, stride=1) with x of shape (2, 2, 5, 6) the output has 2 x 3 "
                    "positions where the rule gives 4 x 5: the windows are taken to step by their size (n // size): "
                    "they step by the stride.")


def test_a_conv2d_that_rounds_up_is_told_to_round_down():
    assert "[output-size]" in (text := message(diagnose.check_conv2d, conv2d_rounds_up)) and "rounded up" in text


def test_stack_shapes_names_the_first_wrong_layer_and_both_shapes():
    assert message(diagnose.check_stack_shapes, stack_shapes_keeps_channels) == (
        "[conv-keeps-channels] stack_shapes says layer 1 (conv, 8 filters of 3x3, stride 1, padding 1) turns (3, 32, 32) "
        "into (3, 32, 32); a conv layer outputs one map per filter: as many channels as filters, not as its input has: "
        "it gives (8, 32, 32).")


def test_stack_shapes_names_the_padding_that_was_ignored():
    text = message(diagnose.check_stack_shapes, stack_shapes_ignores_padding)
    assert "layer 1 (conv, 8 filters of 3x3, stride 1, padding 1) turns (3, 32, 32) into (8, 30, 30)" in text
    assert "the padding is ignored" in text and text.endswith("it gives (8, 32, 32).")


def test_a_list_that_starts_with_the_input_earns_one_per_layer():
    assert message(diagnose.check_stack_shapes, stack_shapes_with_the_input) == (
        "[one-per-layer] stack_shapes returned 7 shapes for 6 layers: it starts with the input shape; leave that out: "
        "one entry per layer, the shape after that layer.")


def test_the_receptive_field_message_names_the_stack_and_both_numbers():
    assert message(diagnose.check_receptive_field, receptive_field_ignores_strides).startswith(
        "[stride-ignored] receptive_field for VGG16's convolutional part (13 convs of 3x3, 5 pools of 2x2) should be 212, "
        "you gave 32: each layer adds k - 1 no matter the strides before it.")


def test_a_receptive_field_is_diagnosed_by_the_rule_that_explains_every_case():
    # Starting at 2 is off by one on every case, though on the first case alone it is also a padding counted once.
    def starts_at_two(layers):
        return receptive_field_right(layers) + 1

    assert codes_of(diagnose.check_receptive_field, starts_at_two) == ("off-by-one",)


def test_checks_do_not_trust_the_library_the_notebook_may_have_replaced(monkeypatch):
    monkeypatch.setattr(conv_lib, "conv2d", lambda *args, **kwargs: np.zeros((1, 1, 1, 1)))
    monkeypatch.setattr(conv_lib, "max_pool2d", lambda *args, **kwargs: np.zeros((1, 1, 1, 1)))
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    assert codes_of(diagnose.check_conv2d, conv2d_mean) == ("mean-not-sum",)
    assert codes_of(diagnose.check_max_pool2d, pool_average) == ("avg-not-max",)


# --------------------------------------------------------------------------
# Hand-computed numbers, independent of conv_lib.diagnose
# --------------------------------------------------------------------------


def vgg16_specs():
    layers = []
    for filters, convs in VGG16_BLOCKS:
        layers += [("conv", filters, 3, 1, 1), ("relu",)] * convs + [("pool", 2, 2)]
    return layers


def test_vgg16_sees_212_pixels_and_three_3x3_convs_see_7():
    conv3 = ("conv", 64, 3, 1, 1)
    assert receptive_field_right([conv3]) == 3
    assert receptive_field_right([conv3, conv3]) == 5
    assert receptive_field_right([conv3, conv3, conv3]) == 7
    assert receptive_field_right([conv3, conv3, ("pool", 2, 2)]) == 6
    assert receptive_field_right(vgg16_specs()) == 212
    # The forward rule (r += (k - 1) * jump; jump *= stride) agrees.
    assert receptive_field_forwards(vgg16_specs()) == 212


def test_the_hand_computed_shapes_of_famous_stacks():
    lenet = [("conv", 6, 5, 1, 0), ("relu",), ("pool", 2, 2), ("conv", 16, 5, 1, 0), ("relu",), ("pool", 2, 2)]
    assert stack_shapes_right((1, 28, 28), lenet)[-1] == (16, 4, 4)
    alexnet = [("conv", 96, 11, 4, 0), ("relu",), ("pool", 3, 2), ("conv", 256, 5, 1, 2), ("relu",), ("pool", 3, 2)]
    assert stack_shapes_right((3, 227, 227), alexnet) == [(96, 55, 55)] * 2 + [(96, 27, 27)] + [(256, 27, 27)] * 2 + [(256, 13, 13)]
