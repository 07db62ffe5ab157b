"""Notebook 03, many filters: the checks of conv2d_multi_out and conv_layer_params.

    check_conv2d_multi_out   conv2d_multi_out(x, w, b): x (C_in, H, W), w (C_out, C_in, kH, kW),
                             b (C_out,) -> (C_out, Ho, Wo), and ValueError for the wrong depth
    check_conv_layer_params  conv_layer_params(c_in, c_out, k) -> C_out * (C_in * k * k + 1)

The layer's misconceptions: C_out * C_in maps [per-filter-per-channel], the
filters summed instead of the channels [filters-summed], the axes of w swapped,
one bias for all filters; and notebook 02's, filter by filter. For the count:
the bias left out or per channel, a filter of depth one, one filter only.
CONV2D_MULTI_OUT and CONV_LAYER_PARAMS, at the end, describe each exercise once.
"""

import random

import numpy as np

import conv_lib

from .codes import Misconception
from .exercise import EXPECTED_ERROR, Case, Exercise, grid
from .multi_channel import check_depth_mismatch, expected_single_filter, single_filter_candidates
from .plain import add, corr, plus, random_batch, random_maps, shape_of
from .runner import ALL_CONVOLUTIONS, Runner, whole_or_number
from .verdict import check_case, fail, short_traceback


def _multi_out_cases(seed, hidden):
    """(x, w, b) cases with w: C_out lists of C_in lists of kernels."""
    generator = random.Random(seed)
    cases = []
    if not hidden:
        # d2l: the two-channel filter K, then K + 1 and K + 2 as filters 2 and 3.
        x = [[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]]
        K = [[[0, 1], [2, 3]], [[1, 2], [3, 4]]]
        cases.append((x, [[[[v + f for v in row] for row in k] for k in K] for f in range(3)], [0, 0, 0]))
    shapes = [(3, 2, 5, 5, 3, 3), (1, 4, 4, 5, 2, 2), (4, 1, 5, 4, 2, 3), (3, 3, 4, 4, 2, 2)]
    if hidden:
        shapes = [(5, 3, 6, 5, 3, 2), (2, 2, 4, 4, 3, 3), (2, 6, 3, 4, 1, 1), (3, 1, 4, 4, 3, 3)]
    for C_in, C_out, rows, columns, kH, kW in shapes:
        x = random_maps(generator, C_in, rows, columns)
        w = random_batch(generator, C_out, C_in, kH, kW)
        b = [generator.randint(-3, 3) + 0.5 for _ in range(C_out)]
        cases.append((x, w, b))
    return cases


def multi_out_candidates(x, w, b, name="conv2d_multi_out"):
    """What a learner holding each misconception of notebooks 02-03 would return for the filters w."""
    C_in, C_out = len(x), len(w)
    if C_in != C_out:
        for bias_of_channel in (lambda c: 0, lambda c: sum(b)):
            yield (
                ["filters-summed"],
                [plus(add(*[corr(x[c], w[f][c]) for f in range(C_out)]), bias_of_channel(c)) for c in range(C_in)],
                f"{name} returned {C_in} maps, one per input channel, by adding up the "
                f"{C_out} filters. It is the other way round: each filter sums over the channels, "
                f"so {C_out} filters give {C_out} maps",
            )
    if C_in == C_out and C_in > 1:
        yield (
            ["channel-pairing"],
            [expected_single_filter(x, [w[c][f] for c in range(C_in)], b[f]) for f in range(C_out)],
            f"{name} uses w[c, f] where the rule needs w[f, c]: the first axis of w picks "
            "the filter, the second its channel, which meets input channel c",
        )
    for shared_bias, note in [(b[0], "b[0] for every filter"), (sum(b), "the sum of all biases")]:
        if any(value != shared_bias for value in b):
            yield (
                ["missing-bias"],
                [expected_single_filter(x, w[f], shared_bias) for f in range(C_out)],
                f"{name} adds {note}: filter f gets its own bias b[f]",
            )
    # Otherwise, explain filter by filter with notebook 02's misconceptions.
    per_filter = [list(single_filter_candidates(x, w[f], b[f], name, f"filter {f}: ")) for f in range(C_out)]
    for index in range(len(per_filter[0])):
        codes, _, explanation = per_filter[0][index]
        yield codes, [per_filter[f][index][1] for f in range(C_out)], explanation.replace("filter 0: ", "for every filter, ")


@short_traceback
def check_conv2d_multi_out(conv2d_multi_out, seed=0, hidden=False, picture=None):
    """Check a learner's ``conv2d_multi_out(x, w, b)``; raise Misconception if wrong.

    conv2d_multi_out: x (C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,) -> (C_out, Ho, Wo).
    Arguments as in check_corr2d.
    """
    runner = Runner(
        conv2d_multi_out, "conv2d_multi_out", hidden, ALL_CONVOLUTIONS - {"corr2d", "conv2d_multi_in"},
        hint=". Remember the axes: w[f] is filter f, of shape (C_in, kH, kW), and w[f, c] is its channel c.",
    )
    for x, w, b in _multi_out_cases(seed, hidden):
        given = runner.array(np.array(x, dtype=float), np.array(w, dtype=float), np.array(b, dtype=float))
        expected = [expected_single_filter(x, w[f], b[f]) for f in range(len(w))]
        C_in, C_out = len(x), len(w)
        case = f"x of shape {shape_of(x)}, w of shape {shape_of(w)}"
        Ho, Wo = shape_of(expected)[1:]
        maps = int(np.prod(given.shape[:-2])) if given.ndim >= 2 else 0
        if C_in > 1 and maps == C_out * C_in and given.shape[-2:] == (Ho, Wo):
            fail(
                runner,
                ["per-filter-per-channel"],
                f"conv2d_multi_out returned {maps} maps (shape {given.shape}) for {C_out} filters on "
                f"{C_in} channels: one per filter and channel. Each filter sums its {C_in} channel "
                f"responses into one map, so {C_out} filters give {C_out} maps (shape {(C_out, Ho, Wo)}).",
                expected, None, picture,
            )
        check_case(runner, case, given, expected, lambda x=x, w=w, b=b: multi_out_candidates(x, w, b), picture)
    check_depth_mismatch(
        runner, 3, 2, lambda: runner.call(np.ones((3, 4, 4)), np.ones((2, 2, 2, 2)), np.zeros(2))
    )


def _params_cases(seed, hidden):
    cases = [(3, 64, 3), (64, 128, 3), (1, 1, 1), (3, 2, 5), (64, 64, 1)]
    if hidden:
        generator = random.Random(seed)
        cases = [(generator.randint(2, 512), generator.randint(2, 512), generator.choice([1, 3, 5, 7])) for _ in range(8)]
    return cases


def conv_params_mistakes(c_in, c_out, k):
    """(wrong count, codes, reason) for the usual wrong ways of counting a conv layer's parameters."""
    return [
        (c_out * c_in * k * k, ["missing-bias"], "the biases are missing: each filter has one"),
        (c_out * c_in * (k * k + 1), ["bias-per-channel"], "a bias per channel: each filter has ONE bias, not one per channel"),
        (c_out * (k * k + 1), ["filter-depth"], "each filter has c_in channels of k x k weights, one per input channel, not one"),
        (c_out * k * k, ["filter-depth", "missing-bias"], "each filter has c_in channels of k x k weights, and one bias"),
        (c_in * k * k + 1, ["filter-count"], "that is one filter; the layer has c_out of them"),
    ]


@short_traceback
def check_conv_layer_params(conv_layer_params, seed=0, hidden=False):
    """Check a learner's ``conv_layer_params(c_in, c_out, k)``: C_out filters of (C_in, k, k), plus C_out biases."""
    runner = Runner(conv_layer_params, "conv_layer_params", hidden, ALL_CONVOLUTIONS)
    for c_in, c_out, k in _params_cases(seed, hidden):
        given = whole_or_number(runner, runner.call(c_in, c_out, k), "whole number")
        expected = c_out * (c_in * k * k + 1)
        if given == expected:
            continue
        codes, reason = next(((codes, reason) for value, codes, reason in conv_params_mistakes(c_in, c_out, k)
                              if value == given and value != expected),
                             (["wrong-values"], "count the weights of one filter (C_in * k * k), add its bias, times C_out"))
        shown = f"conv_layer_params({c_in}, {c_out}, {k}) should be {c_out} * ({c_in}*{k}*{k} + 1) = {expected}, you gave {given}"
        if hidden:
            shown = "conv_layer_params gives a wrong answer on a hidden case"
        raise Misconception(codes, f"{shown}: {reason}.")


# --------------------------------------------------------------------------
# The independent check's cases: inputs chosen by the grader, expected answers
# made with conv_lib in the grader's own process (autograder/integrity.py),
# never in the learner's kernel. Never stricter than the checks above.
# --------------------------------------------------------------------------


def conv2d_multi_out_independent_cases(rng):
    """x: (C_in, H, W), w: (C_out, C_in, kH, kW), b: (C_out,); then a depth mismatch."""
    cases = []
    for C_in, C_out, H, W, kH, kW in [
        (1, 4, 6, 5, 2, 2),
        (2, 3, 5, 7, 3, 2),
        (3, 6, 6, 6, 3, 3),
        (4, 1, 5, 4, 2, 3),
        (2, 2, 4, 5, 1, 1),
    ]:
        x, w = grid(rng, C_in, H, W), grid(rng, C_out, C_in, kH, kW)
        b = rng.integers(-3, 3, size=C_out) + 0.5
        expected = conv_lib.conv2d_reference(x[None], w, b)[0]
        cases.append(Case("conv2d_multi_out", "conv2d_multi_out", (x, w, b), {}, expected))
    depth_mismatch = (grid(rng, 3, 4, 4), grid(rng, 2, 2, 2, 2), np.zeros(2))
    cases.append(Case("conv2d_multi_out", "conv2d_multi_out", depth_mismatch, {}, EXPECTED_ERROR))
    return cases


def conv_layer_params_independent_cases(rng):
    """(c_in, c_out, k): VGG16 layers, a 1x1 layer, and random small layers."""
    layers = [(3, 64, 3), (64, 128, 3), (512, 512, 3), (64, 32, 1)]
    layers += [(int(rng.integers(1, 17)), int(rng.integers(1, 65)), int(rng.choice([1, 3, 5, 7]))) for _ in range(2)]
    return [Case("conv_layer_params", "conv_layer_params", (c_in, c_out, k), {}, c_out * (c_in * k * k + 1))
            for c_in, c_out, k in layers]


# --------------------------------------------------------------------------
# The exercises of notebook 03, each described once for both checks
# --------------------------------------------------------------------------

CONV2D_MULTI_OUT = Exercise(
    "03_many_filters", "conv2d_multi_out",
    "conv2d_multi_out(x, w, b): x (C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,) -> (C_out, Ho, Wo)",
    check_conv2d_multi_out, conv2d_multi_out_independent_cases,
)

CONV_LAYER_PARAMS = Exercise(
    "03_many_filters", "conv_layer_params",
    "conv_layer_params(c_in, c_out, k) -> int",
    check_conv_layer_params, conv_layer_params_independent_cases,
)
