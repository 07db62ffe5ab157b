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

from .exercise import DEPTH_MISMATCH, EXPECTED_ERROR, Case, Exercise, grid
from .multi_channel import (check_depth_mismatch, expected_single_filter, image_reshape_candidate,
                            single_filter_candidates)
from .plain import (add, channels_last_by_reshape, corr, plus, random_batch, random_maps, reshaped, scaled,
                    shape_of)
from .runner import ALL_CONVOLUTIONS, Runner, whole_or_number
from .verdict import Verdict, short_traceback


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


def dealt_in_blocks(f, C_in, C_out):
    """The channel of filter f when C_out filters are split into C_in blocks of nearly equal size
    (as np.array_split does: the first C_out % C_in blocks one larger)."""
    small, larger = divmod(C_out, C_in)
    channel, first = 0, 0
    while f >= first + small + (channel < larger):
        first += small + (channel < larger)
        channel += 1
    return channel


def multi_out_candidates(x, w, b, name="conv2d_multi_out", image_reshape=True, correlate=corr):
    """What a learner holding each misconception of notebooks 02-03 would return for the filters w.

    image_reshape: also the image turned channels-last with reshape (conv2d makes that
    answer itself). correlate(channel, kernel): one channel's response (notebook 04's adds
    its padding and stride).
    """
    C_in, C_out = len(x), len(w)
    kH, kW = len(w[0][0]), len(w[0][0][0])
    if C_out == 1:
        yield (
            ["axis-dropped"],
            expected_single_filter(x, w[0], b[0], correlate),
            f"{name} dropped the filter axis for a single filter (squeeze, or returning the map itself): "
            "one filter still gives shape (1, Ho, Wo), C_out maps for C_out filters",
        )
    Ho, Wo = shape_of(correlate(x[0], w[0][0]))
    for bias_of, bias_note in [(lambda f: b[f], ""), (lambda f: 0, " (and no bias)")]:
        responses = [[plus(correlate(x[c], w[f][c]), bias_of(f)) for c in range(C_in)] for f in range(C_out)]
        by_channel = [[responses[f][c] for f in range(C_out)] for c in range(C_in)]
        for answer in (responses, [m for maps in responses for m in maps], [m for maps in by_channel for m in maps]):
            yield (
                ["per-filter-per-channel"],
                answer,
                f"{name} returned {C_out * C_in} maps for {C_out} filters on {C_in} channels: one per filter "
                f"and channel{bias_note}. Each filter sums its {C_in} channel responses into one map, so "
                f"{C_out} filters give {C_out} maps (shape {(C_out, Ho, Wo)})",
            )
    for combine, how in [(lambda maps: add(*maps), "adding up"), (lambda maps: scaled(add(*maps), 1 / C_out), "averaging")]:
        for bias_of_channel in (lambda c: 0, lambda c: sum(b), lambda c: sum(b) / C_out):
            yield (
                ["filters-summed"],
                [plus(combine([correlate(x[c], w[f][c]) for f in range(C_out)]), bias_of_channel(c)) for c in range(C_in)],
                f"{name} returned {C_in} maps, one per input channel, by {how} the "
                f"{C_out} filters. It is the other way round: each filter sums over the channels, "
                f"so {C_out} filters give {C_out} maps",
            )
    if C_in > 1:
        for channel_of in (lambda f: f % C_in, lambda f: dealt_in_blocks(f, C_in, C_out)):
            for kernel_of in (lambda f, c: w[f][c], lambda f, c: w[f][0]):
                yield (
                    ["filter-reads-one-channel"],
                    [plus(correlate(x[channel_of(f)], kernel_of(f, channel_of(f))), b[f]) for f in range(C_out)],
                    f"{name} deals the filters out to the input channels (in turn, or in blocks), so each filter "
                    f"reads one channel. Every filter reads ALL {C_in} input channels, one kernel channel each, "
                    "and sums them",
                )
    if C_in > 1 and C_out > 1:
        layout = reshaped(w, C_in, C_out, kH, kW)
        yield (
            ["reshape-not-transpose"],
            [expected_single_filter(x, [layout[c][f] for c in range(C_in)], b[f], correlate) for f in range(C_out)],
            f"{name} reads w with reshape as if it were (C_in, C_out, kH, kW): reshape keeps the numbers in "
            "order, so it scrambles filters and channels. w is (C_out, C_in, kH, kW): w[f, c] is what you need",
        )
    if C_in > 1 and image_reshape:
        scrambled = channels_last_by_reshape(x)
        yield image_reshape_candidate(name, [expected_single_filter(scrambled, w[f], b[f], correlate) for f in range(C_out)])
    if C_in == C_out and C_in > 1:
        yield (
            ["channel-pairing"],
            [expected_single_filter(x, [w[c][f] for c in range(C_in)], b[f], correlate) for f in range(C_out)],
            f"{name} uses w[c, f] where the rule needs w[f, c]: the first axis of w picks "
            "the filter, the second its channel, which meets input channel c",
        )
    for shared_bias, note in [(b[0], "b[0] for every filter"), (sum(b), "the sum of all biases")]:
        if any(value != shared_bias for value in b):
            yield (
                ["missing-bias"],
                [expected_single_filter(x, w[f], shared_bias, correlate) for f in range(C_out)],
                f"{name} adds {note}: filter f gets its own bias b[f]",
            )
    # Otherwise, explain filter by filter with notebook 02's misconceptions; one map per input
    # channel, filter by filter, is [per-filter-per-channel] above.
    per_filter = [[candidate for candidate in single_filter_candidates(x, w[f], b[f], name, f"filter {f}: ", correlate)
                   if "no-channel-sum" not in candidate[0]] for f in range(C_out)]
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
    verdict = Verdict(runner, picture)
    for x, w, b in _multi_out_cases(seed, hidden):
        given = runner.array(np.array(x, dtype=float), np.array(w, dtype=float), np.array(b, dtype=float))
        expected = [expected_single_filter(x, w[f], b[f]) for f in range(len(w))]
        case = f"x of shape {shape_of(x)}, w of shape {shape_of(w)}"
        verdict.case(case, given, expected, lambda x=x, w=w, b=b: multi_out_candidates(x, w, b))
    check_depth_mismatch(
        verdict, 3, 2, lambda: runner.call(np.ones((3, 4, 4)), np.ones((2, 2, 2, 2)), np.zeros(2))
    )
    verdict.judge()


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
    """Check a learner's ``conv_layer_params(c_in, c_out, k)``: C_out filters of (C_in, k, k), plus C_out biases.

    A wrong count is named by the usual mistake that gives the learner's count on every case.
    """
    runner = Runner(conv_layer_params, "conv_layer_params", hidden, ALL_CONVOLUTIONS | {"layer_params", "summary"},
                    ready_made="parameter count (conv_lib.models)",
                    instead="Count them yourself: the point of this exercise is the rule, not the library.")
    verdict = Verdict(
        runner, equal=lambda given, answer: given == answer,
        describe=lambda probe: (["wrong-values"], f"{probe.case}: count the weights of one filter (C_in * k * k), "
                                "add its bias, times C_out."),
    )
    for c_in, c_out, k in _params_cases(seed, hidden):
        given = whole_or_number(runner, runner.call(c_in, c_out, k), "whole number")
        expected = c_out * (c_in * k * k + 1)
        case = (f"conv_layer_params({c_in}, {c_out}, {k}) should be {c_out} * ({c_in}*{k}*{k} + 1) = {expected}, "
                f"you gave {given}") if not hidden else "conv_layer_params gives a wrong answer on a hidden case"
        verdict.case(case, given, expected,
                     lambda c_in=c_in, c_out=c_out, k=k, case=case: [
                         (codes, value, f"{case}: {reason}.") for value, codes, reason in conv_params_mistakes(c_in, c_out, k)])
    verdict.judge()


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
    cases.append(Case("conv2d_multi_out", "conv2d_multi_out", depth_mismatch, {}, EXPECTED_ERROR, refusal=DEPTH_MISMATCH))
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
