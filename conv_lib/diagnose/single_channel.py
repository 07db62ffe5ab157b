"""Notebook 01, one channel: the checks of conv_output_size and corr2d.

    check_conv_output_size   conv_output_size(n, k, padding=0, stride=1) -> int
    check_corr2d             corr2d(x, k, padding=0, stride=1): x (H, W), k (kH, kW) -> (Ho, Wo)

A wrong answer is named: a flipped kernel, the padding or the stride ignored,
the +1 forgotten, or the output-size formula that gives the learner's number
(WRONG_OUTPUT_SIZE_FORMULAS). The later notebooks' checks reuse those formulas
to say why an output has the wrong size (wrong_size_reason, size_reason).
CONV_OUTPUT_SIZE and CORR2D, at the end, describe each exercise once for the
notebook's check and the independent check.
"""

import random

import numpy as np

import conv_lib

from .exercise import Case, Exercise, grid
from .plain import (corr, flip, index_steps_by_stride, output_size, pad_bottom_right, random_grid, shape_of,
                    start_not_strided)
from .runner import ALL_CONVOLUTIONS, Runner, whole_or_number
from .verdict import Verdict, close, short_traceback


def _corr2d_cases(seed, hidden):
    """(x, k, padding, stride) cases, simplest first. Visible: seed 0; hidden: other seeds."""
    generator = random.Random(seed)
    cases = []
    if not hidden:
        cases.append(([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[0, 1], [2, 3]], 0, 1))
    for rows, columns, kH, kW, padding, stride in [
        (5, 6, 3, 2, 0, 1),
        (5, 5, 3, 3, 1, 1),
        (7, 6, 3, 3, 0, 2),
        (8, 7, 3, 2, 2, 3),
    ] + ([(6, 9, 2, 4, 1, 2), (4, 4, 4, 4, 0, 1), (9, 5, 1, 1, 0, 2)] if hidden else []):
        cases.append(
            (random_grid(generator, rows, columns), random_grid(generator, kH, kW), padding, stride)
        )
    return cases


@short_traceback
def check_corr2d(corr2d, seed=0, hidden=False, picture=None):
    """Check a learner's ``corr2d(x, k, padding=0, stride=1)``; raise Misconception if wrong.

    corr2d: the learner's function, x: (H, W), k: (kH, kW) -> (Ho, Wo).
    seed: chooses the random inputs. hidden: other inputs, watch for ready-made
    convolutions, no values in messages. picture: optional callable
    ``picture(expected, given, title=...)`` drawn before a visible failure.
    """
    runner = Runner(corr2d, "corr2d", hidden, ALL_CONVOLUTIONS)
    verdict = Verdict(runner, picture)
    for x, k, padding, stride in _corr2d_cases(seed, hidden):
        given = runner.array(np.array(x, dtype=float), np.array(k, dtype=float), padding=padding, stride=stride)
        expected = corr(x, k, padding, stride)
        case = f"a {shape_of(x)} input, a {shape_of(k)} kernel, padding={padding}, stride={stride}"

        def candidates(x=x, k=k, padding=padding, stride=stride):
            yield (
                ["flipped-kernel"],
                corr(x, flip(k), padding, stride),
                "your corr2d flips the kernel (true convolution). In CNNs the kernel slides "
                "unflipped: out[i, j] = sum of x[i+u, j+v] * k[u, v].",
            )
            for other_padding, other_stride in [(0, stride), (padding, 1), (0, 1)]:
                if (other_padding, other_stride) == (padding, stride):
                    continue
                ignored = " and ".join(
                    name
                    for name, used, wanted in [("padding", other_padding, padding), ("stride", other_stride, stride)]
                    if used != wanted
                )
                which = (
                    f"with padding={padding}, stride={stride} your output is the one for "
                    f"padding={other_padding}, stride={other_stride}: "
                    if not hidden else "on a hidden case "
                )
                for codes, kernel in [(["output-size"], k), (["flipped-kernel", "output-size"], flip(k))]:
                    yield (
                        codes,
                        corr(x, kernel, other_padding, other_stride),
                        f"{which}the {ignored} is ignored"
                        + (" (and the kernel is flipped)" if len(codes) == 2 else "")
                        + ".",
                    )
            yield from loop_candidates("corr2d", x, k, padding, stride)

        verdict.case(case, given, expected, candidates)
    verdict.judge()


def _unchanged(map_):
    return map_


def loop_slips(name, padding, stride):
    """The slips of a convolution's loops: the window not moved by the stride, the loop counter
    used as the output index, zeros on one side only.

    Yields (codes, correlate, finish, explanation): correlate(x, k) gives one channel's
    response (lists) as that slip does, for x one (H, W) channel and k one (kH, kW) kernel;
    finish(map) is what the loop then does to the whole map (the bias added, if any): the
    positions a counter stepping by the stride never reaches stay zero.
    """
    if stride > 1:
        yield (
            ["start-not-strided"],
            lambda x, k: start_not_strided(x, k, padding, stride),
            _unchanged,
            f"{name} has the right output size, but window i starts at row i: with a stride it starts "
            "at i * stride (and column j at j * stride). In a loop: x[i*stride : i*stride + kH, ...]; "
            "vectorised: take every stride-th window.",
        )
        yield (
            ["index-steps-by-stride"],
            lambda x, k: corr(x, k, padding, 1),
            lambda map_: index_steps_by_stride(map_, stride),
            f"{name}'s loop counter steps by the stride and is also used as the output index, so the output "
            "has the stride-1 size with zeros between the windows. Count windows with i in range(Ho), "
            "store at out[i], and start the window at i * stride.",
        )
    if padding > 0:
        for amount in (padding, 2 * padding):
            yield (
                ["one-sided-padding"],
                lambda x, k, amount=amount: corr(pad_bottom_right(x, amount), k, 0, stride),
                _unchanged,
                f"{name} adds the zeros below and to the right only: padding puts `padding` zeros on "
                "every side, above and to the left too (np.pad(x, padding), or pad2d).",
            )


def loop_candidates(name, x, k, padding, stride):
    """The loops' slips on one map (the +1 forgotten, and loop_slips). Yields (codes, answer, explanation)."""
    full = corr(x, k, padding, stride)
    if len(full) > 1 and len(full[0]) > 1:
        yield (
            ["output-size"],
            [row[:-1] for row in full[:-1]],
            f"{name} misses the last row and column of positions: a window of size k fits "
            "floor((n + 2*padding - k) / stride) + 1 times (the +1 counts the first position).",
        )
    for codes, correlate, finish, explanation in loop_slips(name, padding, stride):
        yield codes, finish(correlate(x, k)), explanation


WRONG_OUTPUT_SIZE_FORMULAS = [
    (lambda n, k, p, s: (n + 2 * p - k) // s, "the +1 is missing (a window that fits exactly once still makes one position)"),
    (lambda n, k, p, s: (n - k) // s + 1, "the padding is ignored: the input grows by 2*padding"),
    (lambda n, k, p, s: (n + p - k) // s + 1, "the padding is counted once: it is added on both sides, 2*padding"),
    (lambda n, k, p, s: n + 2 * p - k + 1, "the stride is ignored: divide by the stride"),
    (lambda n, k, p, s: -(-(n + 2 * p - k) // s) + 1, "rounded up: a window that does not fit is dropped, round down"),
    (lambda n, k, p, s: (n + 2 * p - k) / s + 1, "not rounded down: use // so the answer is a whole number"),
]


def _output_size_cases(seed, hidden):
    cases = [(5, 3, 0, 1), (5, 3, 1, 1), (7, 3, 0, 2), (6, 3, 0, 2), (7, 3, 1, 2), (224, 3, 1, 1), (224, 2, 0, 2)]
    if hidden:
        generator = random.Random(seed)
        cases = [(1, 1, 0, 1), (8, 4, 1, 3), (227, 11, 0, 4)]
        while len(cases) < 20:
            n, k = generator.randint(1, 40), generator.randint(1, 7)
            padding, stride = generator.randint(0, 3), generator.randint(1, 4)
            if k <= n + 2 * padding:
                cases.append((n, k, padding, stride))
    return cases


@short_traceback
def check_conv_output_size(conv_output_size, seed=0, hidden=False):
    """Check a learner's ``conv_output_size(n, k, padding=0, stride=1)`` -> int.

    Raises Misconception with code [output-size] naming the first wrong case and,
    when one common wrong formula gives the learner's answer on every case (the
    right ones included), what that formula forgets.
    """
    runner = Runner(conv_output_size, "conv_output_size", hidden, ALL_CONVOLUTIONS | {"output_size"})
    verdict = Verdict(
        runner,
        equal=lambda given, answer: isinstance(given, int) and given == answer if isinstance(answer, int)
        else close(given, answer),
        describe=lambda probe: (["output-size"], f"{probe.case}. Use floor((n + 2*padding - k) / stride) + 1."),
    )
    for n, k, padding, stride in _output_size_cases(seed, hidden):
        given = whole_or_number(runner, runner.call(n, k, padding=padding, stride=stride), "int")
        if isinstance(given, np.integer):
            given = int(given)
        expected = output_size(n, k, padding, stride)
        if not hidden:
            case = (f"conv_output_size({n}, {k}, padding={padding}, stride={stride}) should be "
                    f"floor(({n} + 2*{padding} - {k}) / {stride}) + 1 = {expected}, you gave {given!r}")
        else:
            case = "conv_output_size gives a wrong answer on a hidden case"

        def candidates(n=n, k=k, padding=padding, stride=stride, case=case, given=given, expected=expected):
            if given == expected:
                yield ["output-size"], given, f"{case}: return an int (use //), not {type(given).__name__}."
            for formula, reason in WRONG_OUTPUT_SIZE_FORMULAS:
                yield ["output-size"], formula(n, k, padding, stride), f"{case}: {reason}."

        verdict.case(case, given, expected, candidates)
    verdict.judge()


#: A pool's wrong output size: windows taken to tile the input, as if the stride were the size.
POOL_TILES = (lambda n, k, p, s: n // k, "the windows are taken to step by their size (n // size): they step by the stride")


def wrong_size_reason(sizes, given, pooling=False):
    """Which wrong output-size formula gives the sizes ``given``; None if none does.

    sizes: (n, k, padding, stride) for each axis (rows, columns); given: the learner's sizes.
    """
    formulas = WRONG_OUTPUT_SIZE_FORMULAS + ([POOL_TILES] if pooling else [])
    right = tuple(output_size(*axis) for axis in sizes)
    for formula, reason in formulas:
        answers = tuple(formula(*axis) for axis in sizes)
        if answers != right and len(given) == len(answers) and all(close(a, g) for a, g in zip(answers, given)):
            return reason
    return None


def size_reason(sizes, pooling=False):
    """A size_reason for unexplained: why the learner's (Ho, Wo) is wrong, or None."""
    return lambda given: wrong_size_reason(sizes, tuple(given), pooling)


# --------------------------------------------------------------------------
# The independent check's cases: inputs chosen by the grader, expected answers
# made with conv_lib in the grader's own process (autograder/integrity.py),
# never in the learner's kernel. Never stricter than the checks above.
# --------------------------------------------------------------------------


def conv_output_size_independent_cases(rng):
    """(n, k, padding, stride) combinations; n random where the combination leaves it free."""
    combos = [(3, 0, 1), (3, 1, 1), (2, 0, 2), (3, 1, 2), (5, 2, 3), (4, 0, 3), (1, 0, 1)]
    cases = []
    for k, padding, stride in combos:
        n = int(rng.integers(max(k - 2 * padding, 1), 30))
        cases.append(Case("conv_output_size", "conv_output_size", (n, k), {"padding": padding, "stride": stride},
                          conv_lib.output_size(n, k, padding, stride)))
    for n, k, padding, stride in [(224, 3, 1, 1), (227, 11, 0, 4)]:  # VGG, AlexNet's first layer
        cases.append(Case("conv_output_size", "conv_output_size", (n, k), {"padding": padding, "stride": stride},
                          conv_lib.output_size(n, k, padding, stride)))
    return cases


def corr2d_independent_cases(rng):
    """x: (H, W), k: (kH, kW); non-square, padding 0..2, stride 1..3 (some not dividing)."""
    cases = []
    for H, W, kH, kW, padding, stride in [
        (5, 7, 3, 2, 0, 1),
        (6, 5, 2, 3, 1, 1),
        (7, 8, 3, 3, 1, 2),
        (8, 6, 2, 4, 2, 3),
        (9, 9, 4, 3, 0, 2),
    ]:
        x, k = grid(rng, H, W), grid(rng, kH, kW)
        expected = conv_lib.corr2d(conv_lib.pad2d(x, padding), k, stride=stride)
        cases.append(Case("corr2d", "corr2d", (x, k), {"padding": padding, "stride": stride}, expected))
    return cases


# --------------------------------------------------------------------------
# The exercises of notebook 01, each described once for both checks
# --------------------------------------------------------------------------

CONV_OUTPUT_SIZE = Exercise(
    "01_single_channel", "conv_output_size",
    "conv_output_size(n, k, padding=0, stride=1) -> int",
    check_conv_output_size, conv_output_size_independent_cases,
)

CORR2D = Exercise(
    "01_single_channel", "corr2d",
    "corr2d(x, k, padding=0, stride=1): x (H, W), k (kH, kW) -> (Ho, Wo)",
    check_corr2d, corr2d_independent_cases,
)
