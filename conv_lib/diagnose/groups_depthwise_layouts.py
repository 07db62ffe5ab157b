"""Notebook 07, where the rule bends: the checks of the separable counts and of the frameworks' layouts.

    check_separable_params     separable_params(c_in, c_out, k) -> c_in*(k*k + 1) + c_out*(c_in + 1)
    check_separable_macs       separable_macs(c_in, c_out, k, h, w) -> h*w*c_in*k*k + h*w*c_in*c_out
    check_to_conv_lib_layout   to_conv_lib_layout(kernel, source): a Keras kernel (kH, kW, C_in, C_out)
                               or PyTorch's weight (C_out, C_in/groups, kH, kW) -> (C_out, C_in/groups, kH, kW),
                               and ValueError for any other source
    check_to_channels_first    to_channels_first(x): x (N, H, W, C) -> (N, C, H, W)

A depthwise-separable layer is a depthwise step (c_in filters of k x k, one input
channel each, one bias each) and a pointwise step (c_out filters of c_in x 1 x 1,
one bias each); its multiply-accumulates for output maps h x w are one per
weight per output number (biases add none, as conv_lib.models.layer_macs counts).
The counts' misconceptions: a step left out, the biases left out, a standard
convolution's count, the depthwise step counted as a full convolution. The
layouts': reshape instead of transpose (a Keras kernel [kernel-reshaped]; images
channels-last, notebooks 02-04's [reshape-not-transpose]), a transpose in the
wrong order (only non-square kernels and images with H != W show kH and kW, or H
and W, swapped), one framework's weights handled as the other's, and an unknown
source not refused. SEPARABLE_PARAMS, SEPARABLE_MACS, TO_CONV_LIB_LAYOUT and
TO_CHANNELS_FIRST, at the end, describe each exercise once for both checks.
"""

import itertools
import random

import numpy as np

from .exercise import EXPECTED_ERROR, Case, Exercise, grid
from .groups_depthwise import refusal_problem
from .plain import reshaped, shape_of, transposed
from .runner import ALL_CONVOLUTIONS, Runner, whole_or_number
from .verdict import Verdict, first_difference, position_words, short_traceback

# --------------------------------------------------------------------------
# The counts of a depthwise-separable layer
# --------------------------------------------------------------------------


def separable_params_mistakes(c_in, c_out, k):
    """(wrong count, codes, reason) for the usual wrong ways of counting a depthwise-separable layer's parameters."""
    depthwise, pointwise = c_in * (k * k + 1), c_out * (c_in + 1)
    return [
        (depthwise, ["separable-no-pointwise"], "that is the depthwise step alone: add the pointwise step, c_out "
                                                "filters of c_in weights plus a bias each"),
        (c_in * k * k, ["separable-no-pointwise", "separable-no-bias"], "that is the depthwise step's weights alone: "
                                                                        "add their biases, and the pointwise step"),
        (c_in * k * k + c_out * c_in, ["separable-no-bias"], "the biases are missing: each depthwise filter and each "
                                                             "pointwise filter has one"),
        (c_in * k * k + pointwise, ["separable-no-bias"], "the depthwise filters' biases are missing: each of the "
                                                          "c_in filters has one"),
        (depthwise + c_out * c_in, ["separable-no-bias"], "the pointwise filters' biases are missing: each of the "
                                                          "c_out filters has one"),
        (c_out * (c_in * k * k + 1), ["separable-counted-standard"], "that is a standard convolution's count, c_out "
                                                                     "filters of c_in x k x k: the separable layer "
                                                                     "replaces it by a depthwise and a pointwise step"),
        (c_in * (c_in * k * k + 1) + pointwise, ["depthwise-as-full"], "the depthwise step is counted as a full "
                                                                       "convolution: each of its c_in filters is k x k "
                                                                       "on one channel, not c_in x k x k"),
        (pointwise, ["separable-no-depthwise"], "that is the pointwise step alone: add the depthwise step, c_in "
                                                "filters of k x k plus a bias each"),
    ]


def separable_macs_mistakes(c_in, c_out, k, h, w):
    """(wrong count, codes, reason) for the usual wrong ways of counting a depthwise-separable layer's
    multiply-accumulates for output maps h x w."""
    positions = h * w
    return [
        (positions * c_in * k * k, ["separable-no-pointwise"], "that is the depthwise step alone: add the pointwise "
                                                               "step's c_in products per output number, for c_out maps"),
        (positions * c_in * c_out, ["separable-no-depthwise"], "that is the pointwise step alone: add the depthwise "
                                                               "step's k * k products per output number, for c_in maps"),
        (positions * c_out * c_in * k * k, ["separable-counted-standard"], "that is a standard convolution's count: "
                                                                           "the separable layer replaces it by a "
                                                                           "depthwise and a pointwise step"),
        (positions * c_in * c_in * k * k + positions * c_in * c_out, ["depthwise-as-full"],
         "the depthwise step is counted as a full convolution: each of its c_in output numbers sums k * k "
         "products of one channel, not c_in * k * k"),
        (c_in * k * k + c_in * c_out, ["macs-wrong"], "that counts each weight once per map: a weight is used once "
                                                      "for every output number, so multiply by h * w"),
        (positions * c_in * (k * k + 1) + positions * c_out * (c_in + 1), ["macs-wrong"],
         "the biases are counted as products: a bias is added, never multiplied"),
    ]


def _count_cases(seed, hidden, visible, draw):
    if not hidden:
        return visible
    generator = random.Random(seed)
    return [draw(generator) for _ in range(8)]


def _check_count(runner, name, cases, expected_of, formula, mistakes, fix):
    """A count's check: the learner's count on each case, a wrong one named by the mistake that gives it
    on every case. formula(*case) writes the expected count's sum with the case's numbers."""
    verdict = Verdict(runner, equal=lambda given, answer: given == answer,
                      describe=lambda probe: (["wrong-values"], f"{probe.case}: {fix}."))
    for case_numbers in cases:
        given = whole_or_number(runner, runner.call(*case_numbers), "whole number")
        expected = expected_of(*case_numbers)
        arguments = ", ".join(map(str, case_numbers))
        case = (f"{name}({arguments}) should be {formula(*case_numbers)} = {expected}, you gave {given}"
                if not runner.hidden else f"{name} gives a wrong answer on a hidden case")
        verdict.case(case, given, expected, lambda case_numbers=case_numbers, case=case: [
            (codes, value, f"{case}: {reason}.") for value, codes, reason in mistakes(*case_numbers)])
    verdict.judge()


def separable_params_expected(c_in, c_out, k):
    return c_in * (k * k + 1) + c_out * (c_in + 1)


def separable_macs_expected(c_in, c_out, k, h, w):
    return h * w * c_in * k * k + h * w * c_in * c_out


@short_traceback
def check_separable_params(separable_params, seed=0, hidden=False):
    """Check a learner's ``separable_params(c_in, c_out, k)``: the depthwise step's c_in filters of k x k plus
    a bias each, and the pointwise step's c_out filters of c_in x 1 x 1 plus a bias each.

    A wrong count is named by the usual mistake that gives the learner's count on every case.
    """
    runner = Runner(separable_params, "separable_params", hidden, ALL_CONVOLUTIONS | {"layer_params", "summary"},
                    ready_made="parameter count (conv_lib.models)", numbers_hidden=True,
                    instead="Count them yourself: the point of this exercise is the rule, not the library.")
    cases = _count_cases(seed, hidden, [(3, 8, 3), (32, 64, 3), (1, 1, 1), (16, 32, 5), (64, 128, 3), (4, 2, 1)],
                         lambda g: (g.randint(2, 512), g.randint(2, 512), g.choice([1, 3, 5, 7])))
    _check_count(runner, "separable_params", cases, separable_params_expected,
                 lambda c_in, c_out, k: f"{c_in}*({k}*{k} + 1) + {c_out}*({c_in} + 1)", separable_params_mistakes,
                 "count the depthwise step (c_in filters of k x k, a bias each) and the pointwise step (c_out "
                 "filters of c_in weights, a bias each), and add them")


@short_traceback
def check_separable_macs(separable_macs, seed=0, hidden=False):
    """Check a learner's ``separable_macs(c_in, c_out, k, h, w)``: for output maps h x w, the depthwise step's
    k * k products per output number of its c_in maps, plus the pointwise step's c_in products per output
    number of its c_out maps (biases add no products).

    A wrong count is named by the usual mistake that gives the learner's count on every case.
    """
    runner = Runner(separable_macs, "separable_macs", hidden, ALL_CONVOLUTIONS | {"layer_macs", "summary"},
                    ready_made="multiply-accumulate count (conv_lib.models)", numbers_hidden=True,
                    instead="Count them yourself: the point of this exercise is the rule, not the library.")
    cases = _count_cases(seed, hidden, [(3, 8, 3, 4, 5), (32, 64, 3, 112, 112), (1, 1, 1, 1, 1), (16, 32, 5, 7, 9),
                                        (64, 128, 3, 56, 56), (4, 2, 1, 3, 2)],
                         lambda g: (g.randint(2, 512), g.randint(2, 512), g.choice([1, 3, 5, 7]), g.randint(1, 64),
                                    g.randint(1, 64)))
    _check_count(runner, "separable_macs", cases, separable_macs_expected,
                 lambda c_in, c_out, k, h, w: f"{h}*{w}*{c_in}*{k}*{k} + {h}*{w}*{c_in}*{c_out}", separable_macs_mistakes,
                 "count one product per weight per output number: h * w * c_in * k * k for the depthwise step, "
                 "h * w * c_in * c_out for the pointwise step, and add them")


# --------------------------------------------------------------------------
# The frameworks' layouts
# --------------------------------------------------------------------------

#: The order of transpose that turns a Keras kernel (kH, kW, C_in, C_out) into conv_lib's (C_out, C_in, kH, kW).
KERAS_ORDER = (3, 2, 0, 1)
#: The order of transpose that turns channels-last images (N, H, W, C) into conv_lib's (N, C, H, W).
CHANNELS_FIRST_ORDER = (0, 3, 1, 2)
IDENTITY = (0, 1, 2, 3)
#: A source that is neither "keras" nor "pytorch": to_conv_lib_layout must refuse it.
UNKNOWN_SOURCE = "caffe"


def _distinct_values(generator, shape):
    """An array (nested lists) of the shape holding distinct whole numbers, so that no two ways of moving
    its axes give the same answer unless they are the same move."""
    count = 1
    for length in shape:
        count *= length
    return reshaped(generator.sample(range(-99, 100), count), *shape)


def _layout_describe(runner, rule):
    """describe for a layout check: a wrong answer no idea explains, its shape or its first wrong value."""

    def describe(probe):
        expected_shape = shape_of(probe.expected)
        if runner.hidden:
            wrong = "shape" if probe.given.shape != expected_shape else "numbers"
            return ["wrong-values"], f"on a hidden case the answer has the wrong {wrong}. {rule}."
        if probe.given.shape != expected_shape:
            return ["wrong-values"], (f"for {probe.case} the answer should have shape {expected_shape}, yours has "
                                      f"shape {probe.given.shape}. {rule}.")
        index, want, got = first_difference(probe.given, probe.expected)
        return ["wrong-values"], (f"for {probe.case} the numbers are in the wrong places; first wrong value at "
                                  f"{position_words(index)}: expected {want}, got {got}. {rule}.")

    return describe


def _layout_cases(seed, hidden):
    """(source, kernel) cases: Keras kernels (kH, kW, C_in, C_out), some with kH != kW, and PyTorch's weights."""
    generator = random.Random(seed)
    cases = []
    if not hidden:
        cases.append(("keras", reshaped(list(range(24)), 2, 3, 2, 2)))  # kH 2, kW 3, C_in 2, C_out 2: 0 ... 23
    shapes = [("keras", (3, 2, 3, 4)), ("keras", (3, 3, 2, 3)), ("pytorch", (4, 3, 2, 3)), ("pytorch", (6, 1, 3, 2)),
              ("keras", (1, 3, 4, 2))]
    if hidden:
        shapes = [("keras", (2, 3, 4, 3)), ("keras", (3, 3, 3, 2)), ("pytorch", (3, 4, 3, 2)), ("pytorch", (4, 1, 2, 3)),
                  ("keras", (3, 1, 2, 4))]
    return cases + [(source, _distinct_values(generator, shape)) for source, shape in shapes]


def _layout_candidates(name, source, kernel):
    """What a learner holding each misconception would return for a kernel of the source."""
    shape = shape_of(kernel)
    if source == "keras":
        kH, kW, C_in, C_out = shape
        yield (["kernel-reshaped"], reshaped(kernel, C_out, C_in, kH, kW),
               f"{name} reshapes the Keras kernel to (C_out, C_in, kH, kW): reshape keeps the numbers in their "
               "order, so they land in the wrong places. The kernel's axes are (kH, kW, C_in, C_out): move them "
               "with kernel.transpose(3, 2, 0, 1)")
        for order in itertools.permutations(range(4)):
            if order == IDENTITY:
                yield (["source-mixed-up"], kernel,
                       f"{name} returns the Keras kernel as it is: Keras stores (kH, kW, C_in, C_out), so it needs "
                       "kernel.transpose(3, 2, 0, 1); only PyTorch's weights are already in conv_lib's layout")
            elif order != KERAS_ORDER:
                yield (["wrong-axis-order"], transposed(kernel, order),
                       f"{name} moves the Keras kernel's axes with transpose{order}, which gives shape "
                       f"{tuple(shape[axis] for axis in order)}: the kernel is (kH, kW, C_in, C_out), and conv_lib's "
                       "(C_out, C_in, kH, kW) takes its axes in the order (3, 2, 0, 1)")
        return
    yield (["source-mixed-up", "kernel-reshaped"], reshaped(kernel, shape[3], shape[2], shape[0], shape[1]),
           f"{name} reshapes PyTorch's weights as if they were a Keras kernel: PyTorch's nn.Conv2d weight is already "
           "(C_out, C_in/groups, kH, kW), conv_lib's layout: return it as it is")
    for order in itertools.permutations(range(4)):
        if order == KERAS_ORDER:
            yield (["source-mixed-up"], transposed(kernel, order),
                   f"{name} moves PyTorch's weights as if they were a Keras kernel: PyTorch's nn.Conv2d weight is "
                   "already (C_out, C_in/groups, kH, kW), conv_lib's layout: return it as it is")
        elif order != IDENTITY:
            yield (["source-mixed-up", "wrong-axis-order"], transposed(kernel, order),
                   f"{name} moves PyTorch's weights with transpose{order}: they are already (C_out, C_in/groups, "
                   "kH, kW), conv_lib's layout (return them as they are); and a Keras kernel's axes go in the "
                   "order (3, 2, 0, 1)")


@short_traceback
def check_to_conv_lib_layout(to_conv_lib_layout, seed=0, hidden=False, picture=None):
    """Check a learner's ``to_conv_lib_layout(kernel, source)``; raise Misconception if wrong.

    source "keras": a Keras/TensorFlow Conv2D kernel (kH, kW, C_in, C_out) -> kernel.transpose(3, 2, 0, 1);
    source "pytorch": PyTorch's nn.Conv2d weight, already (C_out, C_in/groups, kH, kW) -> the same numbers.
    Any other source must raise ValueError. seed, hidden, picture: as in check_conv2d.
    """
    name = "to_conv_lib_layout"
    runner = Runner(to_conv_lib_layout, name, hidden, None, numbers_hidden=True,
                    hint='. source is "keras" (kernel (kH, kW, C_in, C_out)) or "pytorch" (weight (C_out, C_in/groups, '
                         'kH, kW)).')
    verdict = Verdict(runner, picture, describe=_layout_describe(
        runner, "A Keras kernel (kH, kW, C_in, C_out) becomes conv_lib's (C_out, C_in, kH, kW) with one transpose; "
                "PyTorch's weights are already in that layout"))
    for source, kernel in _layout_cases(seed, hidden):
        given = runner.array(np.array(kernel, dtype=float), source)
        expected = transposed(kernel, KERAS_ORDER) if source == "keras" else kernel
        case = f"a {source} kernel of shape {shape_of(kernel)}"
        verdict.case(case, given, expected, lambda source=source, kernel=kernel: _layout_candidates(name, source, kernel))
    problem = refusal_problem(runner, f'source="{UNKNOWN_SOURCE}"',
                              'raise ValueError for any source but "keras" and "pytorch", naming the two',
                              lambda: runner.call(np.ones((3, 3, 2, 4)), UNKNOWN_SOURCE))
    if problem is not None:
        verdict.problem(["source-check"], problem)
    verdict.judge()


def _channels_first_cases(seed, hidden):
    """Channels-last images (N, H, W, C), H != W, as lists."""
    generator = random.Random(seed)
    cases = [] if hidden else [reshaped(list(range(12)), 1, 2, 3, 2)]  # N 1, H 2, W 3, C 2: 0 ... 11
    shapes = [(2, 3, 4, 3), (1, 4, 5, 2), (2, 5, 3, 4)]
    if hidden:
        shapes = [(1, 3, 2, 3), (2, 4, 6, 2), (1, 6, 4, 3), (3, 2, 5, 2)]
    return cases + [_distinct_values(generator, shape) for shape in shapes]


def _channels_first_candidates(name, x):
    N, H, W, C = shape_of(x)
    yield (["reshape-not-transpose"], reshaped(x, N, C, H, W),
           f"{name} turns the images channels-first with reshape: reshape keeps the numbers in their order, so each "
           "'channel' mixes pixels of every channel. Move the axis with transpose: x.transpose(0, 3, 1, 2)")
    for order in itertools.permutations(range(4)):
        if order not in (CHANNELS_FIRST_ORDER, IDENTITY):
            shape = tuple(shape_of(x)[axis] for axis in order)
            yield (["wrong-axis-order"], transposed(x, order),
                   f"{name} moves the axes with transpose{order}, which gives shape {shape}: the images are "
                   "(N, H, W, C), and channels first (N, C, H, W) takes their axes in the order (0, 3, 1, 2)")


@short_traceback
def check_to_channels_first(to_channels_first, seed=0, hidden=False, picture=None):
    """Check a learner's ``to_channels_first(x)``: channels-last images (N, H, W, C), as Keras, TensorFlow
    and image files store them, -> conv_lib's (N, C, H, W), x.transpose(0, 3, 1, 2).

    seed, hidden, picture: as in check_conv2d.
    """
    name = "to_channels_first"
    runner = Runner(to_channels_first, name, hidden, None, numbers_hidden=True,
                    hint=". x has shape (N, H, W, C); the answer (N, C, H, W).")
    verdict = Verdict(runner, picture, describe=_layout_describe(
        runner, "Images (N, H, W, C) become channels-first (N, C, H, W) with one transpose"))
    for x in _channels_first_cases(seed, hidden):
        given = runner.array(np.array(x, dtype=float))
        case = f"x of shape {shape_of(x)}"
        verdict.case(case, given, transposed(x, CHANNELS_FIRST_ORDER), lambda x=x: _channels_first_candidates(name, x))
    verdict.judge()


# --------------------------------------------------------------------------
# The independent check's cases: inputs chosen by the grader, expected answers
# made in the grader's own process (autograder/integrity.py), never in the
# learner's kernel. Never stricter than the checks above.
# --------------------------------------------------------------------------


def separable_params_independent_cases(rng):
    """(c_in, c_out, k): MobileNet's layers, a 1x1 layer, and random small layers."""
    layers = [(32, 64, 3), (512, 512, 3), (3, 16, 5), (64, 32, 1)]
    layers += [(int(rng.integers(1, 65)), int(rng.integers(1, 129)), int(rng.choice([1, 3, 5, 7]))) for _ in range(2)]
    return [Case("separable_params", "separable_params", layer, {}, separable_params_expected(*layer)) for layer in layers]


def separable_macs_independent_cases(rng):
    """(c_in, c_out, k, h, w): MobileNet's layers, a 1x1 layer, and random small layers with h != w."""
    layers = [(32, 64, 3, 112, 112), (512, 512, 3, 14, 14), (3, 16, 5, 7, 9), (64, 32, 1, 28, 28)]
    layers += [(int(rng.integers(1, 65)), int(rng.integers(1, 129)), int(rng.choice([1, 3, 5, 7])),
                int(rng.integers(1, 57)), int(rng.integers(1, 57))) for _ in range(2)]
    return [Case("separable_macs", "separable_macs", layer, {}, separable_macs_expected(*layer)) for layer in layers]


def to_conv_lib_layout_independent_cases(rng):
    """Keras kernels (kH, kW, C_in, C_out), non-square ones among them, PyTorch's weights (a grouped one
    too), then a source that is neither and must be refused."""
    cases = []
    for source, shape in [("keras", (3, 2, 4, 5)), ("keras", (1, 3, 2, 3)), ("keras", (3, 3, 3, 2)),
                          ("pytorch", (5, 3, 2, 3)), ("pytorch", (4, 1, 3, 3))]:
        kernel = grid(rng, *shape)
        expected = kernel.transpose(KERAS_ORDER) if source == "keras" else kernel.copy()
        cases.append(Case("to_conv_lib_layout", "to_conv_lib_layout", (kernel, source), {}, expected))
    cases.append(Case("to_conv_lib_layout", "to_conv_lib_layout", (grid(rng, 3, 3, 2, 4), UNKNOWN_SOURCE), {},
                      EXPECTED_ERROR, refusal='the source is neither "keras" nor "pytorch"'))
    return cases


def to_channels_first_independent_cases(rng):
    """Channels-last images (N, H, W, C) with H != W, one channel and several."""
    cases = []
    for shape in [(1, 4, 6, 3), (2, 5, 3, 2), (3, 2, 7, 1), (2, 6, 4, 4)]:
        x = grid(rng, *shape)
        cases.append(Case("to_channels_first", "to_channels_first", (x,), {}, x.transpose(CHANNELS_FIRST_ORDER)))
    return cases


# --------------------------------------------------------------------------
# The counts and layouts of notebook 07, each described once for both checks
# --------------------------------------------------------------------------

SEPARABLE_PARAMS = Exercise(
    "07_groups_depthwise", "separable_params",
    "separable_params(c_in, c_out, k) -> int",
    check_separable_params, separable_params_independent_cases,
)

SEPARABLE_MACS = Exercise(
    "07_groups_depthwise", "separable_macs",
    "separable_macs(c_in, c_out, k, h, w) -> int",
    check_separable_macs, separable_macs_independent_cases,
)

TO_CONV_LIB_LAYOUT = Exercise(
    "07_groups_depthwise", "to_conv_lib_layout",
    "to_conv_lib_layout(kernel, source): kernel (kH, kW, C_in, C_out) from \"keras\" or (C_out, C_in/groups, kH, kW) "
    "from \"pytorch\" -> (C_out, C_in/groups, kH, kW)",
    check_to_conv_lib_layout, to_conv_lib_layout_independent_cases,
)

TO_CHANNELS_FIRST = Exercise(
    "07_groups_depthwise", "to_channels_first",
    "to_channels_first(x): x (N, H, W, C) -> (N, C, H, W)",
    check_to_channels_first, to_channels_first_independent_cases,
)
