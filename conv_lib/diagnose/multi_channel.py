"""Notebook 02, many channels, one filter: the check of conv2d_multi_in.

    check_conv2d_multi_in    conv2d_multi_in(x, w, b=0.0): x (C_in, H, W), w (C_in, kH, kW),
                             a number b -> (Ho, Wo), and ValueError for a filter of the wrong depth

The channel-summing rule's misconceptions: one map per channel [no-channel-sum],
the mean [mean-not-sum], the wrong pairing of kernel and input channels
[channel-pairing], one channel only, the bias left out or added per channel,
a flipped kernel, no depth check. Notebook 03's and 04's checks reuse them
filter by filter (single_filter_candidates). CONV2D_MULTI_IN, at the end,
describes the exercise once for both checks.
"""

import random

import numpy as np

import conv_lib

from .codes import Misconception
from .exercise import DEPTH_MISMATCH, EXPECTED_ERROR, Case, Exercise, grid
from .plain import add, channels_last_by_reshape, corr, flip, plus, random_maps, scaled, shape_of
from .runner import ALL_CONVOLUTIONS, Runner
from .verdict import Verdict, short_traceback


def _channel_responses(x, w, kernel=lambda k: k, correlate=corr):
    """responses[c][d] = correlate(x[d], kernel(w[c])): every kernel channel against every input channel."""
    return [[correlate(x_channel, kernel(w_channel)) for x_channel in x] for w_channel in w]


def single_filter_candidates(x, w, b, name, label="", correlate=corr):
    """What a learner holding each misconception would return for one filter w (C_in lists) and bias b.

    Yields (codes, answer, explanation); label ("filter 2: ") says which filter in notebook 03.
    correlate(channel, kernel): one channel's response (notebook 04's adds its padding and stride).
    """
    C = len(x)
    for flipped in (False, True):
        responses = _channel_responses(x, w, flip if flipped else (lambda k: k), correlate)
        own = [responses[c][c] for c in range(C)]  # kernel channel c with input channel c
        flip_codes = ["flipped-kernel"] if flipped else []
        flip_note = " (and the kernel is flipped: CNNs cross-correlate)" if flipped else ""
        total = add(*own)

        def say(text):
            return label + text + flip_note + "."

        if flipped:
            yield flip_codes, plus(total, b), label + f"{name} flips the kernel: CNN layers slide it unflipped (cross-correlation)."
        yield (
            ["no-channel-sum"] + flip_codes,
            [plus(response, b) for response in own],
            say(f"{name} returned {C} maps, one per input channel. The rule adds the {C} channel "
                "responses (plus one bias) into ONE map"),
        )
        yield (
            ["no-channel-sum"] + flip_codes,
            own,
            say(f"{name} returned {C} maps, one per input channel. The rule adds the {C} channel "
                "responses (plus one bias) into ONE map"),
        )
        if C > 1:
            for bias, bias_note in [(b, ""), (b / C, ""), (0, " (and the bias is missing)")]:
                yield (
                    ["mean-not-sum"] + flip_codes,
                    plus(scaled(total, 1 / C), bias),
                    say(f"{name} averages the {C} channel responses; the rule sums them" + bias_note),
                )
        # When b is 0 these equal the right answer, and only wrong answers are matched.
        yield (
            ["missing-bias"] + flip_codes,
            total,
            say(f"{name} leaves out the bias b: add it once to the summed map"),
        )
        window = len(w[0]) * len(w[0][0])
        if window > 1 or C > 1:
            yield (
                ["bias-per-product"] + flip_codes,
                plus(total, b * C * window),
                say(f"{name} adds the bias to every product in the window, so the map gets b times "
                    f"C_in * kH * kW = {C * window} instead of b once. Add b once, after the channel sum"),
            )
        if C > 1:
            for c in range(C):
                yield (
                    ["kernel-shared"] + flip_codes,
                    plus(add(*[responses[c][d] for d in range(C)]), b),
                    say(f"{name} slides one kernel, w[{c}], over every input channel. The filter has a kernel "
                        "per input channel: w[c] meets x[c]"),
                )
        if C > 1:
            yield (
                ["bias-per-channel"] + flip_codes,
                plus(total, C * b),
                say(f"{name} adds the bias to each of the {C} channel responses, so the map gets "
                    f"{C} x b. A filter has ONE bias, added once after the sum"),
            )
        if C > 1:
            for c in range(C):
                for bias in (b, 0):
                    yield (
                        ["one-channel-only"] + flip_codes,
                        plus(own[c], bias),
                        say(f"{name} uses only input channel {c}. Every input channel contributes: "
                            "kernel channel c meets input channel c, and all C_in responses are summed"),
                    )
            for order in _pairings(C):
                yield (
                    ["channel-pairing"] + flip_codes,
                    plus(add(*[responses[c][order[c]] for c in range(C)]), b),
                    say(f"{name} pairs kernel channels {list(range(C))} with input channels {order}. "
                        "Kernel channel c belongs to input channel c: 0 with 0, 1 with 1, and so on"),
                )
            yield (
                ["channel-pairing"] + flip_codes,
                plus(add(*[responses[c][d] for c in range(C) for d in range(C)]), b),
                say(f"{name} applies every kernel channel to every input channel. Each kernel channel "
                    "meets only its own input channel"),
            )


def image_reshape_candidate(name, answer):
    """(codes, answer, explanation) of an image turned channels-last with reshape instead of transpose."""
    return (
        ["reshape-not-transpose"],
        answer,
        f"{name} turns the image channels-last with reshape: reshape keeps the numbers in order, so each "
        "'channel' mixes pixels of every channel. Use transpose (x.transpose(1, 2, 0)) to move an axis",
    )


def _pairings(C):
    """Wrong ways of pairing kernel channel c with an input channel: reversed and rolled orders."""
    orders = [list(range(C))[::-1]] + [[(c + shift) % C for c in range(C)] for shift in range(1, C)]
    unique = []
    for order in orders:
        if order != list(range(C)) and order not in unique:
            unique.append(order)
    return unique


def _multi_in_cases(seed, hidden):
    """(x, w, b) cases; b None means "use the default b"."""
    generator = random.Random(seed)
    cases = []
    if not hidden:
        # d2l's two-channel example: [[56, 72], [104, 120]].
        cases.append(
            ([[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]],
             [[[0, 1], [2, 3]], [[1, 2], [3, 4]]], None)
        )
    shapes = [(3, 5, 6, 3, 3, 2), (3, 4, 4, 2, 2, -1), (1, 4, 5, 2, 3, 1), (4, 6, 5, 2, 3, 0.5),
              (2, 3, 3, 3, 3, -0.5)]  # the last: a kernel as large as the input, one position
    if hidden:
        shapes = [(3, 6, 6, 3, 3, 1.5), (5, 5, 7, 2, 3, -2), (2, 4, 4, 1, 1, 3), (1, 3, 3, 3, 3, 0.25)]
    for C, rows, columns, kH, kW, b in shapes:
        x = random_maps(generator, C, rows, columns)
        w = random_maps(generator, C, kH, kW)
        cases.append((x, w, b))
    return cases


def expected_single_filter(x, w, b, correlate=corr):
    """One filter's map: the sum over c of correlate(x[c], w[c]), plus b."""
    return plus(add(*[correlate(x[c], w[c]) for c in range(len(x))]), b)


def depth_mismatch_problem(runner, x_channels, w_channels, call):
    """The function must refuse a filter whose depth differs from the input's channel count.

    Returns the [depth-check] problem as (codes, explanation), or None when call() raises ValueError.
    """
    try:
        call()
    except Misconception as error:
        if error.codes[-1:] == ("raises",) and isinstance(error.__cause__, ValueError):
            return None
        if error.codes[-1:] != ("raises",):
            raise
        return (
            ["depth-check"],
            f"{runner.name} with an input of {x_channels} channels and filters of {w_channels} channels "
            f"must raise ValueError, but it raised {type(error.__cause__).__name__}: {error.__cause__}",
        )
    return (
        ["depth-check"],
        f"{runner.name} accepted an input with {x_channels} channels and filters with {w_channels} channels. "
        "Each filter needs one channel per input channel: raise ValueError naming both counts.",
    )


def check_depth_mismatch(verdict, x_channels, w_channels, call):
    """Record the [depth-check] problem, if any, with the verdict's others."""
    problem = depth_mismatch_problem(verdict.runner, x_channels, w_channels, call)
    if problem is not None:
        verdict.problem(*problem)


@short_traceback
def check_conv2d_multi_in(conv2d_multi_in, seed=0, hidden=False, picture=None):
    """Check a learner's ``conv2d_multi_in(x, w, b=0.0)``; raise Misconception if wrong.

    conv2d_multi_in: x (C_in, H, W), w (C_in, kH, kW), scalar b -> (Ho, Wo).
    Arguments as in check_corr2d. Also checks that a depth mismatch raises ValueError.
    """
    runner = Runner(conv2d_multi_in, "conv2d_multi_in", hidden, ALL_CONVOLUTIONS - {"corr2d"})
    verdict = Verdict(runner, picture)
    for x, w, b in _multi_in_cases(seed, hidden):
        arguments = (np.array(x, dtype=float), np.array(w, dtype=float))
        given = runner.array(*arguments) if b is None else runner.array(*arguments, b)
        expected = expected_single_filter(x, w, b or 0)
        case = f"x of shape {shape_of(x)}, w of shape {shape_of(w)}, b={b or 0}"

        def candidates(x=x, w=w, b=b or 0):
            yield from single_filter_candidates(x, w, b, "conv2d_multi_in")
            if len(x) > 1:
                yield image_reshape_candidate("conv2d_multi_in", expected_single_filter(channels_last_by_reshape(x), w, b))

        verdict.case(case, given, expected, candidates)
    x = np.ones((3, 4, 4))
    check_depth_mismatch(verdict, 3, 2, lambda: runner.call(x, np.ones((2, 2, 2)), 0.0))
    verdict.judge()


# --------------------------------------------------------------------------
# The independent check's cases: inputs chosen by the grader, expected answers
# made with conv_lib in the grader's own process (autograder/integrity.py),
# never in the learner's kernel. Never stricter than the checks above.
# --------------------------------------------------------------------------


def conv2d_multi_in_independent_cases(rng):
    """x: (C_in, H, W), w: (C_in, kH, kW), b a number (left at its default once); then a depth mismatch."""
    cases = []
    for C_in, H, W, kH, kW, b in [
        (1, 5, 7, 2, 3, 0.5),
        (2, 6, 5, 3, 2, -1.5),
        (3, 7, 8, 3, 3, None),
        (5, 4, 6, 2, 2, 2.25),
        (3, 6, 6, 1, 1, -3.0),
    ]:
        x, w = grid(rng, C_in, H, W), grid(rng, C_in, kH, kW)
        bias = 0.0 if b is None else b
        expected = conv_lib.conv2d_reference(x[None], w[None], np.array([bias]))[0, 0]
        cases.append(Case("conv2d_multi_in", "conv2d_multi_in", (x, w) if b is None else (x, w, b), {}, expected))
    depth_mismatch = (grid(rng, 3, 5, 5), grid(rng, 2, 2, 2), 0.0)  # the input deeper than the filter, as diagnose
    cases.append(Case("conv2d_multi_in", "conv2d_multi_in", depth_mismatch, {}, EXPECTED_ERROR, refusal=DEPTH_MISMATCH))
    return cases


# --------------------------------------------------------------------------
# The exercises of notebook 02, each described once for both checks
# --------------------------------------------------------------------------

CONV2D_MULTI_IN = Exercise(
    "02_multi_channel", "conv2d_multi_in",
    "conv2d_multi_in(x, w, b=0.0): x (C_in, H, W), w (C_in, kH, kW) -> (Ho, Wo)",
    check_conv2d_multi_in, conv2d_multi_in_independent_cases,
)
