"""Notebook 07, where the rule bends: the check of conv2d_grouped.

    check_conv2d_grouped   conv2d_grouped(x, w, b, groups, stride=1, padding=0): x (N, C_in, H, W),
                           w (C_out, C_in/groups, kH, kW), b (C_out,) -> (N, C_out, Ho, Wo), and
                           ValueError for filters of the wrong depth or channels that do not split
                           into equal groups

Grouped convolution splits the channel-summing rule into groups: filter f belongs
to group g = f // (C_out/groups) and sums only that group's C_in/groups input
channels, x[:, g*C_in/groups : (g+1)*C_in/groups]. Depthwise (groups = C_in) is
the one place where one map per input channel, without a sum, is right: the
answer notebook 02 calls [no-channel-sum] elsewhere.

The misconceptions: groups ignored (every filter reads all channels, or the
first group's), a filter reading another group's channels [wrong-group], a
depthwise layer that sums its channels [depthwise-summed], the input split
into groups of C_out/groups [group-size-from-c-out], no refusal of filters of
the wrong depth or of channels that do not split [groups-check]; and notebooks
02-04's, group by group (the bias, a flipped kernel, the batch, padding and
stride slips). A wrong group size often crashes on a layer with more filters
than input channels (the slice runs past the last channel): such a crash is
part of that idea's answers, so the check runs every case before it judges.
The counts and the frameworks' layouts are in groups_depthwise_layouts.
CONV2D_GROUPED, at the end, describes the exercise once for both checks.
"""

import random

import numpy as np

import conv_lib

from .codes import Misconception
from .conv_pool_stack import batch_candidates, settings_ignored
from .exercise import EXPECTED_ERROR, Case, Exercise, grid
from .multi_channel import single_filter_candidates
from .plain import add, corr, plus, random_batch, scaled, shape_of
from .runner import ALL_CONVOLUTIONS, Runner
from .single_channel import loop_slips, size_reason
from .verdict import Verdict, same, short_traceback

#: The conv_lib functions conv2d_grouped may call: the rule of notebooks 01-02, applied group by group.
GROUPED_ALLOWED = {"corr2d", "conv2d_multi_in"}  # and pad2d, which is no convolution

_NAME = "conv2d_grouped"


def _grouped(x, w, b, reads, correlate, bias=None):
    """y[n][f] = the sum over (channel, kernel) in reads(f) of correlate(x[n][channel], w[f][kernel]), plus bias(f).

    reads(f): the (input channel, kernel channel) pairs filter f sums, or None when the learner's
    slice would run past the input's channels (the answer is then a crash: None).
    """
    bias = bias or (lambda f: b[f])
    pairs = [reads(f) for f in range(len(w))]
    if any(pair is None for pair in pairs):
        return None
    zero = scaled(correlate(x[0][0], w[0][0]), 0)
    return [[plus(add(zero, *[correlate(image[c], w[f][k]) for c, k in pairs[f]]), bias(f)) for f in range(len(w))]
            for image in x]


def _right_reads(C_in, C_out, groups):
    """Filter f reads its group's channels: group g = f // (C_out/groups), channels g*C_in/groups + c with kernel c."""
    per_in, per_out = C_in // groups, C_out // groups
    return lambda f: [((f // per_out) * per_in + c, c) for c in range(per_in)]


def expected_grouped(x, w, b, groups, padding, stride, correlate=None):
    """The grouped layer's answer, in plain Python: each filter sums its own group's channels."""
    correlate = correlate or (lambda channel, kernel: corr(channel, kernel, padding, stride))
    return _grouped(x, w, b, _right_reads(len(x[0]), len(w), groups), correlate)


def _group_of_image(image, f, C_out, groups):
    """The channels of one image that filter f reads."""
    per_in, per_out = len(image) // groups, C_out // groups
    g = f // per_out
    return image[g * per_in:(g + 1) * per_in]


def _slice_by_output_size(C_in, C_out, groups, length=None, how="zip"):
    """The reads of a learner who splits the input into groups of C_out/groups: group g's slice starts
    at g*C_out/groups and holds `length` channels (C_out/groups: a slice; None: as many as w has), cut
    at the last channel as numpy cuts a slice. how: "zip" pairs the slice's channels with w[f]'s while
    both last; "crash" is None (a crash) when a slice does not hold C_in/groups channels (a helper that
    checks the depth, or an index past the end, raises); "broadcast" pairs them as numpy broadcasts
    one channel against many, and crashes where numpy cannot."""
    per_in, per_out = C_in // groups, C_out // groups

    def reads(f):
        start = (f // per_out) * per_out
        held = max(0, min(start + (per_in if length is None else length), C_in) - start)
        if held == per_in or how == "zip":
            return [(start + c, c) for c in range(min(per_in, held))]
        if how == "broadcast" and per_in == 1:
            return [(start + c, 0) for c in range(held)]
        if how == "broadcast" and held == 1:
            return [(start, c) for c in range(per_in)]
        return None

    return reads


def grouped_candidates(x, w, b, groups, padding, stride, expected):
    """What a learner holding each misconception would return for conv2d_grouped on the batch x.

    Yields (codes, answer, explanation); an answer None stands for a crash.
    """
    C_in, C_out = len(x[0]), len(w)
    per_in, per_out = C_in // groups, C_out // groups

    def correlate(channel, kernel):
        return corr(channel, kernel, padding, stride)

    def answer(reads, bias=None):
        return _grouped(x, w, b, reads, correlate, bias)

    unbiased = answer(_right_reads(C_in, C_out, groups), lambda f: 0)
    summed = [add(*maps) for maps in zip(*unbiased)]
    yield from batch_candidates(_NAME, expected, [
        ([plus(summed[f], b[f]) for f in range(C_out)], "adds the images of the batch together"),
    ])
    if groups > 1:
        ignored = (
            f"{_NAME} lets every filter read the same channels whatever its group (all C_in of them, w's "
            "channels tiled or repeated to match, or the first group's), as if groups were 1. Filter f "
            "belongs to group g = f // (C_out/groups) and reads only that group's C_in/groups channels, "
            "x[:, g*C_in/groups : (g+1)*C_in/groups]."
        )
        for reads in (lambda f: [(c, c % per_in) for c in range(C_in)],
                      lambda f: [(c, c // groups) for c in range(C_in)],
                      lambda f: [(c, c) for c in range(per_in)]):
            yield ["groups-ignored"], answer(reads), ignored
        elsewhere = (
            f"{_NAME} gives a filter another group's channels. The filters of a group are neighbours: "
            "filter f belongs to group g = f // (C_out/groups) (not f % groups), and group g reads input "
            "channels g*C_in/groups up to (g+1)*C_in/groups - 1."
        )
        for group_of in (lambda f: f % groups, lambda f: (f // per_out + 1) % groups,
                         lambda f: (f // per_out - 1) % groups, lambda f: groups - 1 - f // per_out):
            yield (["wrong-group"], answer(lambda f, group_of=group_of: [(group_of(f) * per_in + c, c)
                                                                       for c in range(per_in)]), elsewhere)
    if per_in != per_out:
        sized = (
            f"{_NAME} splits the input channels into groups of C_out/groups: a group of the input holds "
            "C_in/groups channels (w.shape[1]), a group of the filters C_out/groups; group g reads "
            "x[:, g*C_in/groups : (g+1)*C_in/groups]."
        )
        for length in (per_out, None):
            for how in ("zip", "crash", "broadcast"):
                yield ["group-size-from-c-out"], answer(_slice_by_output_size(C_in, C_out, groups, length, how)), sized
    if groups == C_in and C_in > 1:
        depthwise_rule = (
            "In a depthwise layer (groups = C_in) each filter reads ONE input channel, x[:, f // (C_out/groups)], "
            "and its map is that channel's response plus b[f]: depthwise is the one place where one map per "
            "input channel without a sum, the mistake [no-channel-sum] everywhere else, is right."
        )
        yield (["depthwise-summed"], answer(lambda f: [(c, 0) for c in range(C_in)]),
               f"{_NAME} slides each filter's kernel over every input channel and sums the responses. " + depthwise_rule)
        if per_out == 1:
            total = [add(*maps) for maps in unbiased]
            one_map = (f"{_NAME} sums the channels' responses into one map, as if the kernels were the channels "
                       "of one filter. " + depthwise_rule)
            for bias in (b[0], sum(b), 0):
                yield ["depthwise-summed"], [[plus(map_, bias)] for map_ in total], one_map
            yield ["depthwise-summed"], [[plus(map_, b[f]) for f in range(C_out)] for map_ in total], one_map
    # Notebook 02's ideas, group by group (one map per channel is not one of them here: it is
    # [per-filter-per-channel]'s shape, or depthwise's right answer).
    per_filter = [[[candidate for candidate in single_filter_candidates(
        _group_of_image(image, f, C_out, groups), w[f], b[f], _NAME, "", correlate)
        if "no-channel-sum" not in candidate[0]] for f in range(C_out)] for image in x]
    for index in range(len(per_filter[0][0])):
        codes, _, explanation = per_filter[0][0][index]
        yield codes, [[per_filter[n][f][index][1] for f in range(C_out)] for n in range(len(x))], explanation
    yield from settings_ignored(_NAME, padding, stride,
                                lambda padding, stride: expected_grouped(x, w, b, groups, padding, stride))
    for codes, slipped, finish, explanation in loop_slips(_NAME, padding, stride):
        maps = expected_grouped(x, w, b, groups, padding, stride, slipped)
        yield codes, [[finish(map_) for map_ in image] for image in maps], explanation


def _grouped_cases(seed, hidden):
    """(x, w, b, groups, padding, stride) cases: x N images of C_in maps, w C_out filters of C_in/groups kernels."""
    generator = random.Random(seed)
    cases = []
    if not hidden:
        # Notebook 02's two-channel example, depthwise: the two maps [[19, 25], [37, 43]] and [[37, 47], [67, 77]],
        # whose sum, [[56, 72], [104, 120]], is notebook 02's answer with the two kernels as one filter.
        x = [[[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]
        cases.append((x, [[[[0, 1], [2, 3]]], [[[1, 2], [3, 4]]]], [0, 0], 2, 0, 1))
    shapes = [  # N, C_in, C_out, groups, H, W, kH, kW, padding, stride
        (1, 2, 3, 1, 4, 5, 2, 2, 0, 1),  # groups 1: the rule of notebooks 02-04
        (2, 4, 6, 2, 5, 4, 3, 2, 0, 1),  # two groups, more filters than channels
        (1, 4, 2, 2, 5, 5, 2, 2, 1, 1),  # two groups, fewer filters than channels
        (1, 6, 6, 3, 5, 6, 3, 3, 1, 2),  # three groups, padding and stride
        (1, 3, 3, 3, 6, 6, 3, 3, 1, 2),  # depthwise
        (2, 2, 4, 2, 4, 5, 3, 2, 1, 1),  # depthwise with a channel multiplier of 2
    ]
    if hidden:
        shapes = [
            (2, 3, 2, 1, 5, 5, 3, 3, 1, 1),
            (1, 4, 6, 2, 5, 6, 2, 3, 0, 1),
            (2, 6, 2, 2, 4, 4, 2, 2, 1, 1),
            (1, 6, 3, 3, 6, 5, 3, 2, 1, 2),
            (2, 4, 4, 4, 5, 5, 3, 3, 1, 1),
            (1, 3, 6, 3, 6, 6, 2, 2, 0, 2),
        ]
    for N, C_in, C_out, groups, rows, columns, kH, kW, padding, stride in shapes:
        x = random_batch(generator, N, C_in, rows, columns)
        w = random_batch(generator, C_out, C_in // groups, kH, kW)
        b = [generator.randint(-3, 3) + 0.5 for _ in range(C_out)]
        cases.append((x, w, b, groups, padding, stride))
    return cases


def _same_or_both_crashed(given, answer):
    """Do two answers agree? None is a crash: it agrees with a crash only."""
    if given is None or answer is None:
        return given is None and answer is None
    if not isinstance(given, np.ndarray):  # two ideas' answers compared (the tests')
        try:
            given = np.array(given, dtype=float)
        except ValueError:
            return False
    return same(given, answer)


#: The refusals conv2d_grouped owes: (code, x shape, w shape, groups, what is wrong, what to check).
#: The independent check's message says what is wrong in REFUSAL_WORDS[code] (no numbers).
REFUSAL_WORDS = {"depth-check": "the filters' depth is not C_in/groups",
                 "groups-check": "the channels or the filters do not split into equal groups"}
REFUSALS = [
    ("depth-check", (1, 4, 4, 4), (2, 4, 2, 2), 2, "filters as deep as the whole input (4 channels) with groups=2",
     "in a grouped layer each filter reads its group's C_in/groups channels: w has shape "
     "(C_out, C_in/groups, kH, kW). Raise ValueError when w.shape[1] * groups != C_in"),
    ("groups-check", (1, 4, 4, 4), (3, 2, 2, 2), 2, "3 filters in 2 groups",
     "the filters must split into equal groups: raise ValueError when C_out % groups != 0"),
    ("groups-check", (1, 5, 4, 4), (4, 2, 2, 2), 2, "an input of 5 channels in 2 groups",
     "the input channels must split into equal groups: raise ValueError when C_in % groups != 0"),
]


def refusal_problem(runner, what, fix, call):
    """None when call() raises ValueError; else the explanation of what the function did instead."""
    try:
        call()
    except Misconception as error:
        if error.codes[-1:] != ("raises",):
            raise
        if isinstance(error.__cause__, ValueError):
            return None
        return (f"{runner.name} with {what} must raise ValueError, but it raised "
                f"{type(error.__cause__).__name__}: {error.__cause__}. {fix[0].upper()}{fix[1:]}.")
    return f"{runner.name} accepted {what}: {fix}."


@short_traceback
def check_conv2d_grouped(conv2d_grouped, seed=0, hidden=False, picture=None):
    """Check a learner's ``conv2d_grouped(x, w, b, groups, stride=1, padding=0)``; raise Misconception if wrong.

    conv2d_grouped: x (N, C_in, H, W), w (C_out, C_in/groups, kH, kW), b (C_out,) -> (N, C_out, Ho, Wo);
    filter f belongs to group g = f // (C_out/groups) and sums input channels g*C_in/groups ...
    (g+1)*C_in/groups - 1. seed, hidden, picture: as in check_conv2d. Also checks that filters of the
    wrong depth, and channels that do not split into equal groups, raise ValueError. Every case is
    called before the answers are judged: a crash where a wrong group size runs past the input's
    channels is part of that idea. The check reports calls to conv_lib's conv2d (its groups= too),
    conv2d_reference and conv2d_fast, also through a layer (conv_lib.layers.Conv2d), as the
    independent check's tripwires do (corr2d, conv2d_multi_in and pad2d are allowed).
    """
    runner = Runner(
        conv2d_grouped, _NAME, hidden, ALL_CONVOLUTIONS - GROUPED_ALLOWED, numbers_hidden=True,
        hint=". Remember the two group sizes: a group holds C_in/groups input channels and C_out/groups filters; "
             "w has shape (C_out, C_in/groups, kH, kW), and filter f belongs to group f // (C_out/groups).",
    )
    verdict = Verdict(runner, picture, equal=_same_or_both_crashed)
    crashes = []
    for x, w, b, groups, padding, stride in _grouped_cases(seed, hidden):
        try:
            given, crash = runner.array(np.array(x, dtype=float), np.array(w, dtype=float), np.array(b, dtype=float),
                                        groups, stride=stride, padding=padding), None
        except Misconception as error:
            if error.codes != ("raises",):
                raise
            given, crash = None, error
        crashes.append(crash)
        expected = expected_grouped(x, w, b, groups, padding, stride)
        case = (f"x of shape {shape_of(x)}, w of shape {shape_of(w)}, groups={groups}, padding={padding}, "
                f"stride={stride}")
        sizes = [(len(x[0][0]), len(w[0][0]), padding, stride), (len(x[0][0][0]), len(w[0][0][0]), padding, stride)]
        verdict.case(case, given, expected,
                     lambda x=x, w=w, b=b, groups=groups, padding=padding, stride=stride, expected=expected:
                     grouped_candidates(x, w, b, groups, padding, stride, expected), size_reason(sizes))

    def describe(probe):
        crash = crashes[verdict.probes.index(probe)]
        if crash is not None:
            raise crash  # no idea explains it: the crash itself is the answer's problem, as in every check
        return verdict.describe_array(probe)

    verdict.describe = describe
    for code, x_shape, w_shape, groups, what, fix in REFUSALS:
        if any(code == codes[0] for codes, _ in verdict.problems):
            continue
        problem = refusal_problem(runner, what, fix, lambda: runner.call(
            np.ones(x_shape), np.ones(w_shape), np.zeros(w_shape[0]), groups, stride=1, padding=0))
        if problem is not None:
            verdict.problem([code], problem)
    verdict.judge()


# --------------------------------------------------------------------------
# The independent check's cases: inputs chosen by the grader, expected answers
# made with conv_lib in the grader's own process (autograder/integrity.py),
# never in the learner's kernel. Never stricter than the checks above.
# --------------------------------------------------------------------------


def conv2d_grouped_independent_cases(rng):
    """x: (N, C_in, H, W), w: (C_out, C_in/groups, kH, kW), b: (C_out,); groups 1, 2 and 3, depthwise with
    and without a channel multiplier, padding and stride always passed (as check_conv2d_grouped does);
    then the three refusals of the check: filters as deep as the input, C_out and C_in not divisible."""

    def layer(N, C_in, C_out, groups, H, W, kH, kW, stride, padding):
        x, w = grid(rng, N, C_in, H, W), grid(rng, C_out, C_in // groups, kH, kW)
        b = rng.integers(-3, 3, size=C_out) + 0.5
        expected = conv_lib.conv2d_reference(x, w, b, stride=stride, padding=padding, groups=groups)
        return Case(_NAME, _NAME, (x, w, b, groups), {"stride": stride, "padding": padding}, expected)

    cases = [layer(*shape) for shape in [  # N, C_in, C_out, groups, H, W, kH, kW, stride, padding
        (2, 3, 4, 1, 5, 6, 3, 2, 1, 1),
        (1, 4, 6, 2, 6, 5, 3, 3, 1, 0),
        (2, 6, 3, 3, 5, 6, 2, 3, 2, 1),
        (1, 4, 2, 2, 5, 5, 2, 2, 1, 2),
        (2, 3, 3, 3, 6, 7, 3, 3, 2, 1),
        (1, 2, 6, 2, 5, 4, 3, 2, 1, 1),
        (2, 4, 8, 4, 6, 6, 3, 3, 2, 0),
    ]]
    for code, x_shape, w_shape, groups, _, _ in REFUSALS:
        refused = (grid(rng, *x_shape), grid(rng, *w_shape), np.zeros(w_shape[0]), groups)
        cases.append(Case(_NAME, _NAME, refused, {"stride": 1, "padding": 0}, EXPECTED_ERROR,
                          refusal=REFUSAL_WORDS[code]))
    return cases


# --------------------------------------------------------------------------
# The grouped convolution of notebook 07, described once for both checks
# --------------------------------------------------------------------------

CONV2D_GROUPED = Exercise(
    "07_groups_depthwise", "conv2d_grouped",
    "conv2d_grouped(x, w, b, groups, stride=1, padding=0): x (N, C_in, H, W), w (C_out, C_in/groups, kH, kW), "
    "b (C_out,) -> (N, C_out, Ho, Wo)",
    check_conv2d_grouped, conv2d_grouped_independent_cases,
)
