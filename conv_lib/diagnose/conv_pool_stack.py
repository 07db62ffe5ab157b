"""Notebook 04, conv and pool layers on batches: the checks of conv2d and max_pool2d.

    check_conv2d       conv2d(x, w, b, stride=1, padding=0): x (N, C_in, H, W),
                       w (C_out, C_in, kH, kW), b (C_out,) -> (N, C_out, Ho, Wo),
                       and ValueError for a filter of the wrong depth
    check_max_pool2d   max_pool2d(x, size=2, stride=2): x (N, C, H, W) -> (N, C, Ho, Wo)

The batch's misconceptions (batch_candidates: the images mixed, dropped or
summed; notebook 05 reuses them), pooling across channels, averaging instead
of the maximum, a window that moves by its size, and notebooks 02-03's
misconceptions image by image. The shapes of a stack and the receptive field,
notebook 04's other exercises, are in conv_pool_stack_shapes. CONV2D and
MAX_POOL2D, at the end, describe each exercise once for both checks.
"""

import random

import numpy as np

import conv_lib

from .exercise import DEPTH_MISMATCH, EXPECTED_ERROR, Case, Exercise, grid
from .many_filters import multi_out_candidates
from .multi_channel import check_depth_mismatch, image_reshape_candidate
from .plain import (add, average, channels_last_by_reshape, corr, cropped, elementwise_max, index_steps_by_stride, plus,
                    pooled, random_batch, shape_of)
from .runner import Runner
from .single_channel import loop_slips, size_reason
from .verdict import Verdict, short_traceback


def _drop_last_position(nested):
    """Each map without its last row and column: what a loop that forgets the +1 gives."""
    if not isinstance(nested[0][0], list):
        return [row[:-1] for row in nested[:-1]]
    return [_drop_last_position(item) for item in nested]


def batch_candidates(name, answers, combined=()):
    """Wrong handlings of the batch axis, as (codes, answer, explanation).

    answers: the right answer for each image (nested lists).
    combined: (answer, words) pairs, one answer standing for the whole batch
    (the images summed, say); words say what the learner's function did.
    """
    swapped = (
        ["batch-mixed"],
        [list(group) for group in zip(*answers)],
        f"{name} returned the axes in the order (channels, images, ...): the batch axis comes first, (N, C, H, W)",
    )
    if len(answers) == 1:
        yield (
            ["batch-mixed"],
            answers[0],
            f"{name} dropped the batch axis: the answer for a batch of images has one result per "
            "image, out[n] for image x[n], even when the batch holds a single image (shape (N, ...))",
        )
        if len(answers[0]) > 1:
            yield swapped
        return
    N, first = len(answers), answers[0]
    for shaped in ([first], first):
        yield (
            ["batch-mixed"],
            shaped,
            f"{name} returned the result of the first image only: every image x[n] of the batch "
            "gets its own result out[n]; loop over the images",
        )
    yield (
        ["batch-mixed"],
        [first] * N,
        f"{name} gives every image the result of the first one: for image n use x[n], not x[0]",
    )
    for answer, words in combined:
        for shaped in ([answer], answer, [answer] * N):
            yield (
                ["batch-mixed"],
                shaped,
                f"{name} {words}: each image x[n] gets its own result out[n], computed from x[n] alone",
            )
    yield swapped


def _conv2d_cases(seed, hidden):
    """(x, w, b, padding, stride) cases, x: N images of C_in maps, w: C_out filters of C_in kernels."""
    generator = random.Random(seed)
    shapes = [  # N, C_in, C_out, H, W, kH, kW, padding, stride
        (1, 2, 3, 4, 4, 2, 2, 0, 1),
        (2, 3, 2, 5, 6, 3, 3, 0, 1),
        (1, 1, 4, 5, 4, 3, 2, 1, 1),
        (2, 2, 3, 7, 6, 3, 3, 1, 2),
        (2, 3, 1, 4, 5, 2, 3, 2, 1),  # one filter: its axis stays, (N, 1, Ho, Wo)
        (2, 3, 3, 6, 5, 2, 2, 0, 2),
    ]
    if hidden:
        shapes = [
            (2, 3, 2, 6, 6, 3, 3, 1, 1),
            (1, 2, 4, 5, 7, 2, 3, 0, 2),
            (3, 1, 2, 4, 4, 3, 3, 2, 2),
            (2, 4, 3, 5, 5, 2, 2, 1, 1),
            (1, 3, 3, 7, 6, 3, 2, 1, 3),
            (2, 2, 1, 5, 4, 2, 2, 1, 2),  # one filter
        ]
    cases = []
    for N, C_in, C_out, rows, columns, kH, kW, padding, stride in shapes:
        x = random_batch(generator, N, C_in, rows, columns)
        w = random_batch(generator, C_out, C_in, kH, kW)
        b = [generator.randint(-3, 3) + 0.5 for _ in range(C_out)]
        cases.append((x, w, b, padding, stride))
    return cases


def settings_ignored(name, padding, stride, answer_with):
    """[output-size]: the answers of a batch convolution that ignores its padding, its stride or both.

    answer_with(padding, stride): the right answer computed with other settings.
    Yields (codes, answer, explanation) for each setting left out.
    """
    fixes = {
        "padding": "pad every channel of every image with `padding` zeros on each side first",
        "stride": "move the window `stride` pixels at a time",
    }
    for other_padding, other_stride in [(0, stride), (padding, 1), (0, 1)]:
        if (other_padding, other_stride) == (padding, stride):
            continue
        ignored = [setting for setting, used, wanted in [("padding", other_padding, padding), ("stride", other_stride, stride)]
                   if used != wanted]
        yield (
            ["output-size"],
            answer_with(other_padding, other_stride),
            f"{name} ignores the {' and the '.join(ignored)}: " + ", and ".join(fixes[setting] for setting in ignored),
        )


def _expected_conv2d(x, w, b, padding, stride, correlate=None):
    """y[n][f] = sum over c of corr(x[n][c] padded, w[f][c]) with the stride, plus b[f].

    correlate(channel, kernel): one channel's response made another way (a loop's slip).
    """
    correlate = correlate or (lambda channel, kernel: corr(channel, kernel, padding, stride))
    return [
        [plus(add(*[correlate(image[c], w[f][c]) for c in range(len(image))]), b[f]) for f in range(len(w))]
        for image in x
    ]


def _conv2d_candidates(x, w, b, padding, stride, expected):
    """What a learner holding each misconception would return for conv2d on the batch x."""
    unbiased = _expected_conv2d(x, w, [0] * len(w), padding, stride)
    summed = [add(*maps) for maps in zip(*unbiased)]
    yield from batch_candidates("conv2d", expected, [
        ([plus(summed[f], b[f]) for f in range(len(w))], "adds the images of the batch together"),
        ([add(*maps) for maps in zip(*expected)], "adds the images of the batch together"),
    ])
    # Notebooks 02 and 03's misconceptions, image by image, each channel padded and strided.
    def correlate(channel, kernel):
        return corr(channel, kernel, padding, stride)

    per_image = [list(multi_out_candidates(image, w, b, "conv2d", image_reshape=False, correlate=correlate)) for image in x]
    for options in zip(*per_image):
        codes, _, explanation = options[0]
        yield codes, [answer for _, answer, _ in options], explanation
    yield from settings_ignored("conv2d", padding, stride, lambda padding, stride: _expected_conv2d(x, w, b, padding, stride))
    yield (
        ["output-size"],
        _drop_last_position(expected),
        "conv2d misses the last row and column of window positions: a window fits "
        "floor((n + 2*padding - k) / stride) + 1 times (the +1)",
    )
    for codes, correlate, finish, explanation in loop_slips("conv2d", padding, stride):
        slipped = _expected_conv2d(x, w, b, padding, stride, correlate)
        yield codes, [[finish(map_) for map_ in image] for image in slipped], explanation
    if len(x[0]) > 1:
        scrambled = [channels_last_by_reshape(image) for image in x]
        yield image_reshape_candidate("conv2d", _expected_conv2d(scrambled, w, b, padding, stride))


@short_traceback
def check_conv2d(conv2d, seed=0, hidden=False, picture=None):
    """Check a learner's ``conv2d(x, w, b, stride=1, padding=0)``; raise Misconception if wrong.

    conv2d: x (N, C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,) -> (N, C_out, Ho, Wo).
    seed, hidden, picture: as in check_corr2d (a picture shows the first image that differs).
    Also checks that a filter of the wrong depth raises ValueError. The hidden check
    reports calls to conv_lib's conv2d, conv2d_reference and conv2d_fast (corr2d,
    conv2d_multi_in and pad2d are allowed).
    """
    runner = Runner(
        conv2d, "conv2d", hidden, {"conv2d", "conv2d_reference", "conv2d_fast"}, numbers_hidden=True,
        hint=". Remember the axes: x[n, c] is channel c of image n, w[f, c] is channel c of filter f, "
             "and the answer has shape (N, C_out, Ho, Wo).",
    )
    verdict = Verdict(runner, picture)
    for x, w, b, padding, stride in _conv2d_cases(seed, hidden):
        given = runner.array(np.array(x, dtype=float), np.array(w, dtype=float), np.array(b, dtype=float),
                             stride=stride, padding=padding)
        expected = _expected_conv2d(x, w, b, padding, stride)
        case = f"x of shape {shape_of(x)}, w of shape {shape_of(w)}, padding={padding}, stride={stride}"
        sizes = [(len(x[0][0]), len(w[0][0]), padding, stride), (len(x[0][0][0]), len(w[0][0][0]), padding, stride)]
        verdict.case(case, given, expected, lambda x=x, w=w, b=b, padding=padding, stride=stride, expected=expected:
                     _conv2d_candidates(x, w, b, padding, stride, expected), size_reason(sizes))
    x = np.ones((1, 3, 4, 4))
    check_depth_mismatch(verdict, 3, 2, lambda: runner.call(x, np.ones((2, 2, 2, 2)), np.zeros(2)))
    verdict.judge()


def _max_pool2d_cases(seed, hidden):
    """(x, size, stride, defaults) cases; defaults: call max_pool2d(x) with its default size and stride."""
    generator = random.Random(seed)
    shapes = [  # N, C, H, W, size, stride, call with the defaults
        (1, 2, 4, 4, 2, 2, True),
        (2, 3, 6, 8, 2, 2, True),
        (2, 2, 5, 6, 2, 1, False),
        (1, 3, 7, 7, 3, 2, False),  # overlapping windows
        (1, 3, 7, 5, 2, 2, True),  # odd height: the last row has no window
    ]
    if hidden:
        shapes = [(2, 3, 8, 6, 2, 2, True), (3, 2, 6, 5, 2, 1, False), (1, 4, 9, 7, 3, 2, False),
                  (2, 3, 7, 9, 2, 2, True), (1, 2, 10, 8, 4, 3, False)]
    return [
        (random_batch(generator, N, C, rows, columns, -9, 9), size, stride, defaults)
        for N, C, rows, columns, size, stride, defaults in shapes
    ]


def _max_pool2d_candidates(x, size, stride, expected):
    """What a learner holding each misconception would return for max_pool2d on the batch x."""
    C = len(x[0])
    yield from batch_candidates("max_pool2d", expected, [
        ([elementwise_max(*maps) for maps in zip(*expected)], "takes the maximum over the images of the batch"),
    ])
    if C > 1:
        mixed = [pooled(elementwise_max(*image), size, stride) for image in x]
        one_channel = (
            "max_pool2d took the maximum across channels as well, leaving one map per image: pooling works on "
            "each channel on its own, so an input with C channels gives an output with C channels"
        )
        yield ["pool-mixes-channels"], [[m] for m in mixed], one_channel
        yield ["pool-mixes-channels"], mixed, one_channel
        summed = [pooled(add(*image), size, stride) for image in x]
        for answer in ([[m] for m in summed], summed, [[m] * C for m in summed]):
            yield (
                ["pool-mixes-channels"],
                answer,
                "max_pool2d adds the channels together before pooling: pooling works on each channel on its "
                "own, out[n, c] comes from x[n, c] only, and C channels in give C channels out",
            )
        yield (
            ["pool-mixes-channels"],
            [[m] * C for m in mixed],
            "max_pool2d gives every channel the maximum over all channels of the window: pooling works "
            "on each channel on its own, out[n, c] comes from x[n, c] only",
        )
    yield (
        ["avg-not-max"],
        [[pooled(channel, size, stride, average) for channel in image] for image in x],
        "max_pool2d averages each window: max pooling keeps the largest value of the window",
    )
    if stride != size:
        yield (
            ["output-size"],
            [[pooled(channel, size, size) for channel in image] for image in x],
            "max_pool2d moves the window by its size instead of by the stride: the windows start "
            "stride pixels apart (they overlap when stride < size)",
        )
    if stride != 1:
        yield (
            ["output-size"],
            [[pooled(channel, size, 1) for channel in image] for image in x],
            "max_pool2d ignores the stride: the window moves stride pixels at a time",
        )
    if stride > 1:
        yield (
            ["start-not-strided"],
            [[cropped(pooled(channel, size, 1), len(expected[0][0]), len(expected[0][0][0])) for channel in image]
             for image in x],
            "max_pool2d has the right output size, but window i starts at row i: it starts at i * stride "
            "(and column j at j * stride). In a loop: x[n, c, i*stride : i*stride + size, ...]",
        )
        yield (
            ["index-steps-by-stride"],
            [[index_steps_by_stride(pooled(channel, size, 1), stride) for channel in image] for image in x],
            "max_pool2d's loop counter steps by the stride and is also used as the output index, so the output "
            "has the stride-1 size with zeros between the windows. Count windows with i in range(Ho), store "
            "at out[..., i, j], and start the window at i * stride",
        )
    yield (
        ["output-size"],
        _drop_last_position(expected),
        "max_pool2d misses the last row and column of windows: a window fits "
        "floor((n - size) / stride) + 1 times (the +1)",
    )
    yield (
        ["output-size"],
        [[pooled(channel, size, stride, max, ceil=True) for channel in image] for image in x],
        "max_pool2d keeps a last window that sticks out of the input (rounding up): only whole "
        "windows count, floor((n - size) / stride) + 1",
    )


@short_traceback
def check_max_pool2d(max_pool2d, seed=0, hidden=False, picture=None):
    """Check a learner's ``max_pool2d(x, size=2, stride=2)``; raise Misconception if wrong.

    max_pool2d: x (N, C, H, W) -> (N, C, Ho, Wo), Ho = floor((H - size) / stride) + 1, per channel.
    Some cases call max_pool2d(x) with its default size and stride. Arguments as in
    check_conv2d; the hidden check reports calls to conv_lib's pooling functions.
    """
    runner = Runner(
        max_pool2d, "max_pool2d", hidden,
        {"max_pool2d", "max_pool2d_reference", "avg_pool2d", "avg_pool2d_reference"},
        hint=". x has shape (N, C, H, W); each channel of each image is pooled on its own.",
        ready_made="pooling", numbers_hidden=True,
    )
    verdict = Verdict(runner, picture)
    for x, size, stride, defaults in _max_pool2d_cases(seed, hidden):
        array = np.array(x, dtype=float)
        given = runner.array(array) if defaults else runner.array(array, size=size, stride=stride)
        expected = [[pooled(channel, size, stride) for channel in image] for image in x]
        call = "max_pool2d(x) (size=2, stride=2 by default)" if defaults else f"max_pool2d(x, size={size}, stride={stride})"
        case = f"{call} with x of shape {shape_of(x)}"
        sizes = [(len(x[0][0]), size, 0, stride), (len(x[0][0][0]), size, 0, stride)]
        verdict.case(case, given, expected,
                     lambda x=x, size=size, stride=stride, expected=expected: _max_pool2d_candidates(x, size, stride, expected),
                     size_reason(sizes, pooling=True))
    verdict.judge()


# --------------------------------------------------------------------------
# The independent check's cases: inputs chosen by the grader, expected answers
# made with conv_lib in the grader's own process (autograder/integrity.py),
# never in the learner's kernel. Never stricter than the checks above.
# --------------------------------------------------------------------------


def conv2d_independent_cases(rng):
    """x: (N, C_in, H, W), w: (C_out, C_in, kH, kW), b: (C_out,); batches, non-square,
    stride 1..3, padding 0..2, both always passed (as check_conv2d does); then a depth
    mismatch; then a square layer (C_in == C_out), the one kind on which w's first two
    axes can be swapped with no error (notebook 03's [channel-pairing])."""

    def layer(N, C_in, C_out, H, W, kH, kW, stride, padding):
        x, w = grid(rng, N, C_in, H, W), grid(rng, C_out, C_in, kH, kW)
        b = rng.integers(-3, 3, size=C_out) + 0.5
        expected = conv_lib.conv2d_reference(x, w, b, stride=stride, padding=padding)
        return Case("conv2d", "conv2d", (x, w, b), {"stride": stride, "padding": padding}, expected)

    cases = [layer(*shape) for shape in [  # N, C_in, C_out, H, W, kH, kW, stride, padding
        (1, 1, 2, 5, 7, 3, 2, 1, 0),
        (2, 3, 4, 6, 5, 3, 3, 1, 1),
        (3, 2, 1, 7, 6, 2, 3, 2, 0),
        (2, 4, 5, 5, 6, 3, 3, 2, 2),
        (1, 2, 3, 8, 7, 4, 3, 3, 1),
        (1, 1, 5, 4, 5, 1, 1, 1, 2),
    ]]
    depth_mismatch = (grid(rng, 1, 3, 4, 4), grid(rng, 2, 2, 2, 2), np.zeros(2))  # the input deeper, as check_conv2d
    cases.append(Case("conv2d", "conv2d", depth_mismatch, {}, EXPECTED_ERROR, refusal=DEPTH_MISMATCH))
    # The square layer: case 1's images and its first three filters, with stride 2 (no new
    # draws from rng, so the cases of the exercises after this one stay as they were).
    x, w, b = cases[1].args
    square = (x, w[:3], b[:3])
    cases.append(Case("conv2d", "conv2d", square, {"stride": 2, "padding": 1},
                      conv_lib.conv2d_reference(*square, stride=2, padding=1)))
    return cases


def max_pool2d_independent_cases(rng):
    """x: (N, C, H, W); the defaults (size 2, stride 2), size 3 stride 2, size 2 stride 1,
    odd sizes (the last row and column left over), and only negative values."""
    cases = []
    for N, C, H, W, window, negative in [
        (1, 1, 4, 6, None, False),
        (2, 3, 7, 7, (3, 2), False),
        (1, 2, 5, 6, (2, 1), False),
        (2, 2, 5, 7, (2, 2), False),
        (2, 3, 6, 5, (2, 2), True),
    ]:
        x = rng.integers(-9, 0, size=(N, C, H, W)).astype(np.float64) if negative else grid(rng, N, C, H, W)
        size, stride = window or (2, 2)
        kwargs = {} if window is None else {"size": size, "stride": stride}
        cases.append(Case("max_pool2d", "max_pool2d", (x,), kwargs, conv_lib.max_pool2d_reference(x, size, stride)))
    return cases


# --------------------------------------------------------------------------
# The exercises of notebook 04 (conv2d and max_pool2d), each described once for both checks
# --------------------------------------------------------------------------

CONV2D = Exercise(
    "04_conv_pool_stack", "conv2d",
    "conv2d(x, w, b, stride=1, padding=0): x (N, C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,) -> (N, C_out, Ho, Wo)",
    check_conv2d, conv2d_independent_cases,
)

MAX_POOL2D = Exercise(
    "04_conv_pool_stack", "max_pool2d",
    "max_pool2d(x, size=2, stride=2): x (N, C, H, W) -> (N, C, Ho, Wo)",
    check_max_pool2d, max_pool2d_independent_cases,
)
