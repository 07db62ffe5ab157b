"""Notebooks 04 and 05: each wrong idea about a conv stack is named by exactly its code.

Like tests/test_diagnose.py: the wrong implementations below are written the way
a learner with that misconception would write them, and each must earn exactly
the codes listed, in the visible check and in the hidden one. The right
implementations are written here independently of conv_lib.diagnose (plain
numpy loops, a receptive field computed backwards) and must pass both checks
for several seeds. The hand-computed numbers of VGG16 are checked on their own.
"""

import re
import time

import numpy as np
import pytest
import scipy.signal

import conv_lib
from conv_lib import diagnose
from conv_lib.diagnose import Misconception
from misconception_tools import codes_of, failure
from conv_lib.models import LayerRow

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
    return np.stack([np.stack([conv_lib.conv2d_multi_in(image, w[f], stride=stride) + b[f] for f in range(w.shape[0])])
                     for image in x])


def conv2d_every_channel_its_own_map(x, w, b, stride=1, padding=0):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return np.stack([np.stack([window_sum(image[c], w[f, c], stride) + b[f] for f in range(w.shape[0]) for c in range(x.shape[1])])
                     for image in x])


def conv2d_sums_filters(x, w, b, stride=1, padding=0):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return np.stack([np.stack([sum(window_sum(image[c], w[f, c], stride) for f in range(w.shape[0])) for c in range(x.shape[1])])
                     for image in x])


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
    r, jump = start, 1
    for layer in layers:
        if layer[0] not in kinds:
            continue
        k, stride, padding = windows([layer])[0]
        stride = stride if use_strides else 1
        if early:
            jump *= stride
        r += widen(k, padding) * jump
        if not early:
            jump *= stride
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
# Notebook 05: vgg16_table(input_shape=(3, 224, 224))
# --------------------------------------------------------------------------

VGG16_BLOCKS = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]


def vgg16_table_with(conv_params=lambda c_in, c_out: c_out * (c_in * 9 + 1),
                     conv_macs=lambda h, w, c_in, c_out: h * w * c_out * c_in * 9,
                     fc_params=lambda n_in, n_out: n_out * (n_in + 1),
                     fc_macs=lambda n_in, n_out: n_in * n_out,
                     fc6_input=lambda c, h, w, image: c * h * w,
                     pool=lambda c, h, w: (c, h // 2, w // 2),
                     pool_params=lambda c: 0,
                     padding=1,
                     ignore_input=False,
                     row=lambda name, shape, params, macs: {"name": name, "output_shape": shape, "params": params, "macs": macs},
                     relu_rows=False):
    """A vgg16_table written with plain loops; each argument can hold one misconception."""

    def vgg16_table(input_shape=(3, 224, 224)):
        image = (3, 224, 224) if ignore_input else tuple(input_shape)
        c, h, w = image
        rows = []
        for block, (filters, convs) in enumerate(VGG16_BLOCKS, start=1):
            for index in range(1, convs + 1):
                h, w = h + 2 * padding - 2, w + 2 * padding - 2
                rows.append(row(f"conv{block}_{index}", (filters, h, w), conv_params(c, filters), conv_macs(h, w, c, filters)))
                if relu_rows:
                    rows.append(row(f"relu{block}_{index}", (filters, h, w), 0, 0))
                c = filters
            c, h, w = pool(c, h, w)
            rows.append(row(f"pool{block}", (c, h, w), pool_params(c), 0))
        n_in = fc6_input(c, h, w, image)
        if relu_rows:
            rows.append(row("flatten", (c * h * w,), 0, 0))
        for number, n_out in zip((6, 7, 8), (4096, 4096, 1000)):
            rows.append(row(f"fc{number}", (n_out,), fc_params(n_in, n_out), fc_macs(n_in, n_out)))
            n_in = n_out
        return rows

    return vgg16_table


vgg16_table_right = vgg16_table_with()
vgg16_table_layer_rows = vgg16_table_with(
    row=lambda name, shape, params, macs: LayerRow(name, name.rstrip("_0123456789"), shape, params, macs), relu_rows=True)
vgg16_table_no_bias = vgg16_table_with(conv_params=lambda c_in, c_out: c_out * c_in * 9)
vgg16_table_bias_per_channel = vgg16_table_with(conv_params=lambda c_in, c_out: c_out * c_in * 10)
vgg16_table_flat_filters = vgg16_table_with(conv_params=lambda c_in, c_out: c_out * 10)
vgg16_table_fc6_sees_channels = vgg16_table_with(fc6_input=lambda c, h, w, image: c)
vgg16_table_fc6_sees_the_image = vgg16_table_with(fc6_input=lambda c, h, w, image: int(np.prod(image)))
vgg16_table_fc6_hard_coded = vgg16_table_with(fc6_input=lambda c, h, w, image: 25088)
vgg16_table_pool_params = vgg16_table_with(pool_params=lambda c: c * 4)
vgg16_table_pools_keep_size = vgg16_table_with(pool=lambda c, h, w: (c, h, w), fc6_input=lambda c, h, w, image: 25088)
vgg16_table_no_padding = vgg16_table_with(padding=0)
vgg16_table_macs_per_map = vgg16_table_with(conv_macs=lambda h, w, c_in, c_out: c_out * c_in * 9)
vgg16_table_flops = vgg16_table_with(conv_macs=lambda h, w, c_in, c_out: 2 * h * w * c_out * c_in * 9,
                                     fc_macs=lambda n_in, n_out: 2 * n_in * n_out)
vgg16_table_ignores_input = vgg16_table_with(ignore_input=True)
vgg16_table_of_tuples = vgg16_table_with(row=lambda name, shape, params, macs: (name, shape, params, macs))


def vgg16_table_relu_with_params(input_shape=(3, 224, 224)):
    rows = vgg16_table_right(input_shape)
    return rows[:1] + [{"name": "relu1_1", "output_shape": rows[0]["output_shape"], "params": 64, "macs": 0}] + rows[1:]


def vgg16_table_without_pool3(input_shape=(3, 224, 224)):
    return [row for row in vgg16_table_right(input_shape) if row["name"] != "pool3"]


def vgg16_table_as_dict(input_shape=(3, 224, 224)):
    return {row["name"]: row for row in vgg16_table_right(input_shape)}


def vgg16_table_from_the_library(input_shape=(3, 224, 224)):
    from conv_lib.models import summary, vgg16

    return list(summary(vgg16(), input_shape))


# --------------------------------------------------------------------------
# Notebook 05: vgg_block(x, weights, biases)
# --------------------------------------------------------------------------


def block_with(relu="each", bias=True, padding=1, convs=None, pool=np.max):
    """A vgg_block written with plain loops; each argument can hold one misconception."""

    def vgg_block(x, weights, biases):
        layers = list(zip(weights, biases))[:convs]
        for index, (w, b) in enumerate(layers):
            b = b if bias else np.zeros_like(b)
            if relu == "before-bias":
                x = np.maximum(conv2d_right(x, w, np.zeros_like(b), padding=padding), 0) + b[None, :, None, None]
                continue
            x = conv2d_right(x, w, b, padding=padding)
            if relu == "each" or (relu == "end" and index == len(layers) - 1):
                x = np.maximum(x, 0)
        return pool_loops(x, 2, 2, pool) if pool is not None else x

    return vgg_block


vgg_block_right = block_with()


def vgg_block_with_the_library(x, weights, biases):
    for w, b in zip(weights, biases):
        x = conv_lib.relu(conv_lib.conv2d(x, w, b, padding=1))
    return conv_lib.max_pool2d(x, 2, 2)


vgg_block_no_relu = block_with(relu="none")
vgg_block_relu_at_the_end = block_with(relu="end")
vgg_block_relu_before_bias = block_with(relu="before-bias")
vgg_block_no_bias = block_with(bias=False)
vgg_block_no_padding = block_with(padding=0)
vgg_block_first_conv_only = block_with(convs=1)
vgg_block_no_pool = block_with(pool=None)
vgg_block_average_pool = block_with(pool=np.mean)


# --------------------------------------------------------------------------
# The table of checks, right answers and misconceptions
# --------------------------------------------------------------------------

CHECKS = {
    "conv2d": diagnose.check_conv2d,
    "max_pool2d": diagnose.check_max_pool2d,
    "stack_shapes": diagnose.check_stack_shapes,
    "receptive_field": diagnose.check_receptive_field,
    "vgg16_table": diagnose.check_vgg16_table,
    "vgg_block": diagnose.check_vgg_block,
}

RIGHT = [
    ("conv2d", conv2d_right),
    ("conv2d", conv2d_with_allowed_helpers),
    ("max_pool2d", max_pool2d_right),
    ("stack_shapes", stack_shapes_right),
    ("stack_shapes", stack_shapes_numpy_lists),
    ("receptive_field", receptive_field_right),
    ("receptive_field", receptive_field_forwards),
    ("vgg16_table", vgg16_table_right),
    ("vgg16_table", vgg16_table_layer_rows),
    ("vgg_block", vgg_block_right),
    ("vgg_block", vgg_block_with_the_library),
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
    ("conv2d", conv2d_with_the_library, None, ("reference-call",)),
    ("conv2d", conv2d_with_scipy, None, ("reference-call",)),
    ("max_pool2d", pool_max_over_channels, ("pool-mixes-channels",), ("pool-mixes-channels",)),
    ("max_pool2d", pool_every_channel_the_max_over_all, ("pool-mixes-channels",), ("pool-mixes-channels",)),
    ("max_pool2d", pool_average, ("avg-not-max",), ("avg-not-max",)),
    ("max_pool2d", pool_steps_by_its_size, ("output-size",), ("output-size",)),
    ("max_pool2d", pool_counts_windows_as_n_over_size, ("output-size",), ("output-size",)),
    ("max_pool2d", pool_rounds_up, ("output-size",), ("output-size",)),
    ("max_pool2d", pool_forgets_plus_one, ("output-size",), ("output-size",)),
    ("max_pool2d", pool_first_image_only, ("batch-mixed",), ("batch-mixed",)),
    ("max_pool2d", pool_without_defaults, ("raises",), ("raises",)),
    ("max_pool2d", pool_with_the_library, None, ("reference-call",)),
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
    ("stack_shapes", stack_shapes_with_the_library, None, ("reference-call",)),
    ("receptive_field", receptive_field_ignores_strides, ("stride-ignored",), ("stride-ignored",)),
    ("receptive_field", receptive_field_multiplies_kernels, ("kernels-multiplied",), ("kernels-multiplied",)),
    ("receptive_field", receptive_field_counts_padding, ("padding-counted",), ("padding-counted",)),
    ("receptive_field", receptive_field_stride_too_early, ("stride-too-early",), ("stride-too-early",)),
    ("receptive_field", receptive_field_skips_pools, ("pool-ignored",), ("pool-ignored",)),
    ("receptive_field", receptive_field_starts_at_zero, ("off-by-one",), ("off-by-one",)),
    ("receptive_field", receptive_field_adds_k, ("off-by-one",), ("off-by-one",)),
    ("receptive_field", receptive_field_float, ("not-an-array",), ("not-an-array",)),
    ("receptive_field", receptive_field_no_return, ("no-return",), ("no-return",)),
    ("vgg16_table", vgg16_table_no_bias, ("missing-bias",), ("missing-bias",)),
    ("vgg16_table", vgg16_table_bias_per_channel, ("bias-per-channel",), ("bias-per-channel",)),
    ("vgg16_table", vgg16_table_flat_filters, ("filter-depth",), ("filter-depth",)),
    ("vgg16_table", vgg16_table_fc6_sees_channels, ("fc-input-size",), ("fc-input-size",)),
    ("vgg16_table", vgg16_table_fc6_sees_the_image, ("fc-input-size",), ("fc-input-size",)),
    ("vgg16_table", vgg16_table_fc6_hard_coded, None, ("fc-input-size",)),
    ("vgg16_table", vgg16_table_pool_params, ("pool-has-params",), ("pool-has-params",)),
    ("vgg16_table", vgg16_table_pools_keep_size, ("output-size",), ("output-size",)),
    ("vgg16_table", vgg16_table_no_padding, ("output-size",), ("output-size",)),
    ("vgg16_table", vgg16_table_macs_per_map, ("macs-wrong",), ("macs-wrong",)),
    ("vgg16_table", vgg16_table_flops, ("macs-wrong",), ("macs-wrong",)),
    ("vgg16_table", vgg16_table_ignores_input, None, ("input-shape-ignored",)),
    ("vgg16_table", vgg16_table_of_tuples, ("not-a-table",), ("not-a-table",)),
    ("vgg16_table", vgg16_table_without_pool3, ("not-a-table",), ("not-a-table",)),
    ("vgg16_table", vgg16_table_as_dict, ("not-a-table",), ("not-a-table",)),
    ("vgg16_table", vgg16_table_relu_with_params, ("wrong-values",), ("wrong-values",)),
    ("vgg16_table", vgg16_table_from_the_library, None, ("reference-call",)),
    ("vgg_block", vgg_block_no_relu, ("relu-missing",), ("relu-missing",)),
    ("vgg_block", vgg_block_relu_at_the_end, ("relu-missing",), ("relu-missing",)),
    ("vgg_block", vgg_block_relu_before_bias, ("relu-before-bias",), ("relu-before-bias",)),
    ("vgg_block", vgg_block_no_bias, ("missing-bias",), ("missing-bias",)),
    ("vgg_block", vgg_block_no_padding, ("padding-missing",), ("padding-missing",)),
    ("vgg_block", vgg_block_first_conv_only, ("block-incomplete",), ("block-incomplete",)),
    ("vgg_block", vgg_block_no_pool, ("pool-missing",), ("pool-missing",)),
    ("vgg_block", vgg_block_average_pool, ("avg-not-max",), ("avg-not-max",)),
]

HIDDEN_SEEDS = [7, 41, 123]


def numbers_outside_the_rules(message):
    """Digits left in a message once the rules' own numbers ("+1", "k - 1", "2*padding", conv1_1, max_pool2d, b[0], 3x3 ...) are gone.

    A crash ([raises]) shows the learner's own error and the shapes of the arrays passed, as in
    notebooks 01-03, and the depth check's input is the same as in the visible check: those may show numbers.
    """
    rules = (r"\+ ?1\b|- ?1\b|2\*padding|\b(?:conv\d+_\d+|relu\d+(?:_\d+)?|pool\d+|fc\d+)\b|\w+2d\b|[Vv][Gg][Gg]16|\[0\]|max\(x, 0\)"
             r"|\b[23]x[23]\b|padding 1\b|stride 2\b")
    kept = re.sub(rules, "", message)
    return re.findall(r"\d+", kept)


# --------------------------------------------------------------------------
# Right answers pass; each misconception earns exactly its code
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name, right", RIGHT, ids=[right.__name__ for _, right in RIGHT])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_right_implementation_passes_visible_and_hidden_checks(name, right, seed):
    assert codes_of(CHECKS[name], right, seed=seed) is None
    assert codes_of(CHECKS[name], right, seed=seed + 100, hidden=True) is None


@pytest.mark.parametrize("name, wrong, visible_codes, hidden_codes", WRONG, ids=[wrong.__name__ for _, wrong, _, _ in WRONG])
def test_each_misconception_is_named_by_exactly_its_code(name, wrong, visible_codes, hidden_codes):
    assert codes_of(CHECKS[name], wrong) == visible_codes
    for seed in HIDDEN_SEEDS:
        assert codes_of(CHECKS[name], wrong, seed=seed, hidden=True) == hidden_codes, seed


@pytest.mark.parametrize("name, wrong, visible_codes, hidden_codes", WRONG, ids=[wrong.__name__ for _, wrong, _, _ in WRONG])
def test_hidden_failures_reveal_no_inputs_or_expected_values(name, wrong, visible_codes, hidden_codes):
    error = failure(CHECKS[name], wrong, seed=7, hidden=True)
    assert error.expected is None and error.given is None
    if error.codes not in (("raises",), ("depth-check",)):
        assert numbers_outside_the_rules(str(error)) == [], str(error)


def test_every_code_has_a_wrong_implementation_that_earns_it():
    # tests/test_diagnose.py covers the codes of notebooks 01-03, test_diagnose_learning.py those of 06.
    from test_diagnose import WRONG as WRONG_01_TO_03
    from test_diagnose_learning import WRONG as WRONG_06

    earned = {code for _, _, visible, hidden in WRONG + WRONG_01_TO_03 + WRONG_06 for code in (visible or ()) + hidden}
    assert earned | {"raises", "wrong-values"} == set(diagnose.CODES)


def test_the_module_docstring_lists_every_code():
    listed = set(re.findall(r"[a-z]+(?:-[a-z]+)+|raises", diagnose.__doc__.split("Codes")[1].split("Trust")[0]))
    assert listed == set(diagnose.CODES)


# --------------------------------------------------------------------------
# Not started, crashes, pictures
# --------------------------------------------------------------------------


def not_started(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize("name", sorted(CHECKS))
@pytest.mark.parametrize("hidden", [False, True])
def test_a_still_empty_exercise_fails_with_not_implemented_error(name, hidden):
    with pytest.raises(NotImplementedError):
        CHECKS[name](not_started, hidden=hidden)


@pytest.mark.parametrize("name, crashing, shown", [
    ("conv2d", lambda x, w, b, stride=1, padding=0: x[:, 9],
     r"conv2d\(array of shape \(1, 2, 4, 4\), array of shape \(3, 2, 2, 2\), array of shape \(3,\)\)"),
    ("max_pool2d", lambda x, size=2, stride=2: x[9], r"max_pool2d\(array of shape \(1, 2, 4, 4\)\)"),
    ("stack_shapes", lambda input_shape, layers: layers[99], r"stack_shapes\(\(3, 32, 32\), \[\('conv', 8, 3, 1, 1\)"),
    ("receptive_field", lambda layers: layers[99], r"receptive_field\(\[\('conv', 64, 3, 1, 1\)\]\)"),
    ("vgg16_table", lambda input_shape=(3, 224, 224): input_shape[99], r"vgg16_table\(\)"),
    ("vgg_block", lambda x, weights, biases: weights[99],
     r"vgg_block\(array of shape \(1, 1, 4, 4\), \[array of shape \(2, 1, 3, 3\)\], \[array"),
])
def test_a_crash_is_reported_with_the_learners_error(name, crashing, shown):
    with pytest.raises(Misconception, match=rf"^\[raises\] {shown}.* raised (IndexError|TypeError): ") as caught:
        CHECKS[name](crashing)
    assert isinstance(caught.value.__cause__, (IndexError, TypeError))


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
                        ("conv2d", conv2d_every_channel_its_own_map), ("vgg_block", vgg_block_no_pool)]:
        with pytest.raises(Misconception):
            CHECKS[name](wrong, picture=plots.show_mismatch)
    plots.plt.close("all")


def test_hidden_checks_draw_nothing():
    with pytest.raises(Misconception):
        diagnose.check_vgg_block(vgg_block_no_relu, seed=5, hidden=True, picture=pytest.fail)


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


def test_flops_are_told_apart_from_multiply_accumulates():
    text = message(diagnose.check_vgg16_table, vgg16_table_flops)
    assert text.startswith("[macs-wrong] vgg16_table's row conv1_1 has 173,408,256 macs, but it should be "
                           "224*224 positions x 64 filters x 3*3*3 multiply-accumulates = 86,704,128")
    assert "a multiply-accumulate is one multiply and one add; FLOPs would be twice" in text
    assert text.endswith("(Your table's total is 30,940,528,640 macs; it should be 15,470,264,320.)")


def test_fc6_counted_as_512_inputs_is_told_the_flattened_size():
    text = message(diagnose.check_vgg16_table, vgg16_table_fc6_sees_channels)
    assert text.startswith("[fc-input-size] vgg16_table's row fc6 has 2,101,248 params, but it should be "
                           "4096 outputs x (25,088 weights + 1 bias) = 102,764,544")
    assert "C*H*W = 512*7*7 = 25,088" in text


def test_a_table_missing_a_row_says_which():
    assert message(diagnose.check_vgg16_table, vgg16_table_without_pool3).endswith(": it has no row pool3")


def test_a_table_of_tuples_says_what_a_row_is():
    assert "each row is a dict with the keys 'name', 'output_shape', 'params' and 'macs'" in message(
        diagnose.check_vgg16_table, vgg16_table_of_tuples)


def test_a_vgg_block_without_relu_says_where_the_relu_goes():
    assert message(diagnose.check_vgg_block, vgg_block_no_relu) == (
        "[relu-missing] vgg_block has no ReLU: each convolution is followed by a ReLU, max(x, 0)")


def test_checks_do_not_trust_the_library_the_notebook_may_have_replaced(monkeypatch):
    import conv_lib.models

    monkeypatch.setattr(conv_lib, "conv2d", lambda *args, **kwargs: np.zeros((1, 1, 1, 1)))
    monkeypatch.setattr(conv_lib, "max_pool2d", lambda *args, **kwargs: np.zeros((1, 1, 1, 1)))
    monkeypatch.setattr(conv_lib.models, "VGG16_CONV_CONFIG", (64, "M"), raising=False)
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    assert codes_of(diagnose.check_conv2d, conv2d_mean) == ("mean-not-sum",)
    assert codes_of(diagnose.check_max_pool2d, pool_average) == ("avg-not-max",)
    assert codes_of(diagnose.check_vgg16_table, vgg16_table_right) is None


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


def test_the_vgg16_table_has_torchvisions_totals_and_rows():
    rows = {row["name"]: row for row in vgg16_table_right()}
    assert sum(row["params"] for row in rows.values()) == 138_357_544
    assert sum(row["params"] for name, row in rows.items() if name.startswith("conv")) == 14_714_688
    assert sum(row["macs"] for row in rows.values()) == 15_470_264_320
    assert (rows["conv1_1"]["output_shape"], rows["conv1_1"]["params"], rows["conv1_1"]["macs"]) == ((64, 224, 224), 1_792, 86_704_128)
    assert (rows["conv2_1"]["output_shape"], rows["conv2_1"]["params"]) == ((128, 112, 112), 73_856)
    assert rows["pool5"]["output_shape"] == (512, 7, 7)
    assert (rows["fc6"]["output_shape"], rows["fc6"]["params"]) == ((4096,), 102_764_544)
    assert (rows["fc8"]["output_shape"], rows["fc8"]["params"]) == ((1000,), 4_097_000)
    small = {row["name"]: row for row in vgg16_table_right((3, 32, 32))}
    assert small["pool5"]["output_shape"] == (512, 1, 1) and small["fc6"]["params"] == 4096 * (512 + 1)


def test_a_table_off_by_one_anywhere_fails():
    def fc8_one_short(input_shape=(3, 224, 224)):
        rows = vgg16_table_right(input_shape)
        rows[-1]["params"] -= 1
        return rows

    assert codes_of(diagnose.check_vgg16_table, fc8_one_short) == ("wrong-values",)


def test_the_hand_computed_shapes_of_famous_stacks():
    lenet = [("conv", 6, 5, 1, 0), ("relu",), ("pool", 2, 2), ("conv", 16, 5, 1, 0), ("relu",), ("pool", 2, 2)]
    assert stack_shapes_right((1, 28, 28), lenet)[-1] == (16, 4, 4)
    alexnet = [("conv", 96, 11, 4, 0), ("relu",), ("pool", 3, 2), ("conv", 256, 5, 1, 2), ("relu",), ("pool", 3, 2)]
    assert stack_shapes_right((3, 227, 227), alexnet) == [(96, 55, 55)] * 2 + [(96, 27, 27)] + [(256, 27, 27)] * 2 + [(256, 13, 13)]


# --------------------------------------------------------------------------
# Fast enough for a notebook
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name, function", RIGHT + [(name, wrong) for name, wrong, _, _ in WRONG],
                         ids=[f.__name__ for _, f in RIGHT] + [wrong.__name__ for _, wrong, _, _ in WRONG])
def test_every_check_takes_well_under_a_second(name, function):
    for options in ({}, {"seed": 7, "hidden": True}):
        start = time.perf_counter()
        failure(CHECKS[name], function, **options)
        assert time.perf_counter() - start < 0.5, options
