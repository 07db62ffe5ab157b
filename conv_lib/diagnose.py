"""Name the wrong idea behind a wrong answer.

The graded notebooks call ``check_<function>(student_function)``. A check runs
the learner's function on small crafted inputs, compares each answer with the
expected one, and when they differ it works out *which* misconception produces
exactly the learner's numbers: it recomputes the answer the way a learner who
believes "channels are averaged" or "each filter channel makes its own map"
would, and sees which of those matches. The failure is a ``Misconception``
(an ``AssertionError``) whose message starts with stable codes in square
brackets, for example::

    [no-channel-sum] conv2d_multi_in returned 3 maps, one per input channel ...

Codes (see ``CODES`` for the sentence each one stands for):

    no-channel-sum, mean-not-sum, channel-pairing, one-channel-only,
    missing-bias, bias-per-channel, flipped-kernel, output-size,
    per-filter-per-channel, filters-summed, filter-depth, filter-count,
    depth-check, reference-call, no-return, not-an-array, raises, wrong-values

Trust: the expected answers are computed here in plain Python (lists and
loops), never with numpy's or the library's convolution, so a learner's
notebook cannot change them by replacing a library function. Numpy is used
only to turn the learner's answer into numbers. Hidden checks (``hidden=True``)
use other random inputs, also watch for calls to a ready-made convolution
(``[reference-call]``), and keep inputs and expected values out of the message.
"""

import functools
import math
import os
import random
import sys
from contextlib import contextmanager

import numpy as np

CODES = {
    "no-channel-sum": "one map per input channel instead of their sum",
    "mean-not-sum": "the channel responses are averaged instead of summed",
    "channel-pairing": "filter channels meet the wrong input channels",
    "one-channel-only": "only one input channel is used",
    "missing-bias": "the bias is left out",
    "bias-per-channel": "the bias is added once per input channel instead of once per map",
    "flipped-kernel": "the kernel is flipped (true convolution) instead of cross-correlation",
    "output-size": "the output size (padding, stride or the +1) is wrong",
    "per-filter-per-channel": "C_out * C_in maps instead of C_out",
    "filters-summed": "the filters are summed instead of the channels",
    "filter-depth": "a filter is counted as one k x k slice instead of C_in of them",
    "filter-count": "the parameters of one filter instead of all C_out filters",
    "depth-check": "a filter whose depth differs from the input's channel count is not refused",
    "reference-call": "a ready-made convolution is called instead of implementing the rule",
    "no-return": "the function returns None",
    "not-an-array": "the answer is not an array of numbers",
    "raises": "the function raises an error",
    "wrong-values": "wrong numbers that match no known misconception",
}


class Misconception(AssertionError):
    """A wrong answer, with the codes of the misconceptions that explain it.

    codes:    tuple of codes from CODES, most important first.
    expected: the expected answer (array or number), or None in hidden checks.
    given:    the learner's answer, or None in hidden checks.
    str(error) starts with the codes in square brackets, then plain sentences.
    """

    def __init__(self, codes, explanation, expected=None, given=None):
        self.codes = tuple(codes)
        self.expected, self.given = expected, given
        super().__init__(" ".join(f"[{code}]" for code in self.codes) + " " + explanation)


# --------------------------------------------------------------------------
# Expected answers in plain Python: lists of lists, loops, no numpy
# --------------------------------------------------------------------------


def _pad(x, padding):
    """x: list of H rows of W numbers; returns it surrounded by ``padding`` zeros."""
    width = len(x[0]) + 2 * padding
    zeros = [[0] * width for _ in range(padding)]
    return zeros + [[0] * padding + list(row) + [0] * padding for row in x] + [r[:] for r in zeros]


def _output_size(n, k, padding, stride):
    return (n + 2 * padding - k) // stride + 1


def _corr(x, k, padding=0, stride=1):
    """Cross-correlation of one channel x (H x W lists) with one kernel k (kH x kW lists)."""
    x = _pad(x, padding)
    kH, kW = len(k), len(k[0])
    Ho = _output_size(len(x), kH, 0, stride)
    Wo = _output_size(len(x[0]), kW, 0, stride)
    return [
        [
            sum(x[i * stride + u][j * stride + v] * k[u][v] for u in range(kH) for v in range(kW))
            for j in range(Wo)
        ]
        for i in range(Ho)
    ]


def _flip(k):
    """The kernel turned by 180 degrees: what true convolution slides over the input."""
    return [row[::-1] for row in k[::-1]]


def _add(*maps):
    return [[sum(values) for values in zip(*rows)] for rows in zip(*maps)]


def _plus(a, constant):
    return [[value + constant for value in row] for row in a]


def _scale(a, factor):
    return [[value * factor for value in row] for row in a]


def _shape(a):
    """Shape of nested lists."""
    shape = []
    while isinstance(a, list):
        shape.append(len(a))
        a = a[0] if a else None
    return tuple(shape)


def _random_grid(generator, rows, columns, low=-3, high=4):
    return [[generator.randint(low, high) for _ in range(columns)] for _ in range(rows)]


# --------------------------------------------------------------------------
# Running the learner's function
# --------------------------------------------------------------------------

#: Where ready-made convolutions live. Code from these files called directly
#: by the learner's function counts as a reference call.
_LIBRARY_FOLDERS = (
    os.sep + os.path.join("scipy", "signal") + os.sep,
    os.sep + os.path.join("scipy", "ndimage") + os.sep,
    os.sep + "torch" + os.sep,
)
_NUMPY_CONVOLUTIONS = {"convolve", "correlate"}
_OWN_FOLDER = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _is_ready_made(code, forbidden_library_functions):
    """Is ``code`` a convolution the learner was asked to write themselves?"""
    filename = code.co_filename
    if filename.startswith(_OWN_FOLDER):
        return code.co_name in forbidden_library_functions
    if any(folder in filename for folder in _LIBRARY_FOLDERS):
        return True
    return "numpy" in filename and filename.endswith("numeric.py") and code.co_name in _NUMPY_CONVOLUTIONS


@contextmanager
def _watch_for_ready_made_calls(forbidden_library_functions):
    """Record ready-made convolutions called while the block runs (sys.setprofile).

    Yields a list that receives a readable name for each such call. Calls made
    *inside* a library (one library function calling another) are not counted.
    """
    seen = []

    def profile(frame, event, argument):
        if event == "call" and _is_ready_made(frame.f_code, forbidden_library_functions):
            caller = frame.f_back.f_code if frame.f_back else None
            inside_a_library = caller is not None and (
                caller.co_filename.startswith(_OWN_FOLDER) or _is_ready_made(caller, set())
            )
            if not inside_a_library:
                seen.append(f"{frame.f_globals.get('__name__', '?')}.{frame.f_code.co_name}")
        elif event == "c_call":  # PyTorch's convolutions are compiled functions
            name = getattr(argument, "__name__", "")
            if "torch" in str(getattr(argument, "__module__", "") or "") and "conv" in name:
                seen.append(f"torch's {name}")

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield seen
    finally:
        sys.setprofile(previous)


class _Runner:
    """Calls the learner's function and turns its answer into numbers or a Misconception."""

    def __init__(self, function, name, hidden, forbidden_library_functions, hint=""):
        self.function, self.name, self.hidden = function, name, hidden
        self.forbidden = forbidden_library_functions
        self.hint = hint  # added to the message when the learner's function crashes

    def call(self, *args, **kwargs):
        if self.hidden:
            with _watch_for_ready_made_calls(self.forbidden) as seen:
                answer = self._call(args, kwargs)
            if seen:
                raise Misconception(
                    ["reference-call"],
                    f"{self.name} calls {seen[0]}, a ready-made convolution. Write the loops "
                    "yourself: the point of this exercise is the rule, not the library.",
                )
            return answer
        return self._call(args, kwargs)

    def _call(self, args, kwargs):
        try:
            return self.function(*args, **kwargs)
        except NotImplementedError:
            raise
        except Misconception:
            raise
        except Exception as error:
            shown = ", ".join(_describe(a) for a in args)
            raise Misconception(
                ["raises"],
                f"{self.name}({shown}) raised {type(error).__name__}: {error}{self.hint}",
            ) from error

    def array(self, *args, **kwargs):
        """Call, then return the answer as a float64 array."""
        answer = self.call(*args, **kwargs)
        if answer is None:
            raise Misconception(["no-return"], f"{self.name} returned None: did you forget `return`?")
        try:
            array = np.array(answer, dtype=float)
        except (TypeError, ValueError):
            raise Misconception(
                ["not-an-array"],
                f"{self.name} must return a numpy array of numbers, got {type(answer).__name__}",
            ) from None
        return array


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    return repr(value)


def _flat(nested):
    """All numbers of nested lists, in reading order."""
    if not isinstance(nested, list):
        return [nested]
    return [value for item in nested for value in _flat(item)]


def _close(a, b):
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)


def _same(given, expected):
    """Does the learner's array equal the expected nested lists (shape and values)?

    Compared in plain Python (ndarray.tolist and math.isclose), so a notebook
    that replaced numpy functions cannot change the verdict.
    """
    if given.shape != _shape(expected):
        return False
    return all(_close(g, e) for g, e in zip(_flat(given.tolist()), _flat(expected)))


def _first_difference(given, expected):
    """Index and both values at the first position where the arrays differ."""
    shape = _shape(expected)
    for flat_index, (g, e) in enumerate(zip(_flat(given.tolist()), _flat(expected))):
        if not _close(g, e):
            index = []
            for length in reversed(shape):
                index.append(flat_index % length)
                flat_index //= length
            return tuple(reversed(index)), _number(e), _number(g)
    raise AssertionError("the arrays are equal")


def _number(value):
    value = float(value)
    return int(value) if value.is_integer() else round(value, 4)


def _position(index):
    if len(index) == 2:
        return f"(row {index[0]}, column {index[1]})"
    return str(index)


def _fail(runner, codes, explanation, expected, given, picture):
    """Raise the Misconception; in a visible check, draw it first if a picture maker was given."""
    if runner.hidden:
        raise Misconception(codes, explanation)
    if picture is not None and given is not None and np.ndim(given) >= 2:
        headline = " ".join(f"[{code}]" for code in codes) + " " + explanation.split(". ")[0].rstrip(".")
        picture(np.array(expected, dtype=float), given, title=headline)
    raise Misconception(codes, explanation, expected=np.array(expected, dtype=float), given=given)


def _unexplained(runner, case, given, expected, picture):
    """The learner's answer differs, and no known misconception explains it."""
    if runner.hidden:
        wrong = "output has the wrong shape" if given.shape != _shape(expected) else "numbers are wrong"
        explanation = f"on a hidden case the {wrong}. Check the rule and the output-size formula by hand."
        codes = ["output-size"] if given.shape != _shape(expected) else ["wrong-values"]
        raise Misconception(codes, explanation)
    if given.shape != _shape(expected):
        explanation = (
            f"for {case} the output should have shape {_shape(expected)}, but yours has shape "
            f"{given.shape}. Check the output-size rule: floor((n + 2*padding - k) / stride) + 1."
        )
        return _fail(runner, ["output-size"], explanation, expected, given, picture)
    index, want, got = _first_difference(given, expected)
    explanation = (
        f"for {case} the numbers are wrong; first wrong value at {_position(index)}: expected {want}, "
        f"got {got}. Recompute that value by hand."
    )
    return _fail(runner, ["wrong-values"], explanation, expected, given, picture)


def _match(runner, case, given, expected, candidates, picture):
    """Explain a wrong answer by the first candidate misconception that reproduces it exactly."""
    for codes, answer, explanation in candidates:
        if _same(given, answer):
            return _fail(runner, codes, explanation, expected, given, picture)
    return _unexplained(runner, case, given, expected, picture)


def _check_case(runner, case, given, expected, candidates, picture):
    if not _same(given, expected):
        _match(runner, case, given, expected, candidates(), picture)


def _short_traceback(check):
    """Raise a check's Misconception with a traceback that ends at the check itself.

    The message is what the learner needs; the frames inside this module would
    only push it off the screen (and out of sight in nbgrader's Validate dialog).
    """

    @functools.wraps(check)
    def run(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except Misconception as error:
            raise error.with_traceback(None)  # the cause (a crash in the learner's code) stays attached

    return run


# --------------------------------------------------------------------------
# Notebook 01: corr2d and conv_output_size
# --------------------------------------------------------------------------

_ALL_CONVOLUTIONS = {"corr2d", "conv2d_multi_in", "conv2d", "conv2d_reference", "conv2d_fast"}


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
            (_random_grid(generator, rows, columns), _random_grid(generator, kH, kW), padding, stride)
        )
    return cases


@_short_traceback
def check_corr2d(corr2d, seed=0, hidden=False, picture=None):
    """Check a learner's ``corr2d(x, k, padding=0, stride=1)``; raise Misconception if wrong.

    corr2d: the learner's function, x: (H, W), k: (kH, kW) -> (Ho, Wo).
    seed: chooses the random inputs. hidden: other inputs, watch for ready-made
    convolutions, no values in messages. picture: optional callable
    ``picture(expected, given, title=...)`` drawn before a visible failure.
    """
    runner = _Runner(corr2d, "corr2d", hidden, _ALL_CONVOLUTIONS)
    for x, k, padding, stride in _corr2d_cases(seed, hidden):
        given = runner.array(np.array(x, dtype=float), np.array(k, dtype=float), padding=padding, stride=stride)
        expected = _corr(x, k, padding, stride)
        case = f"a {_shape(x)} input, a {_shape(k)} kernel, padding={padding}, stride={stride}"

        def candidates(x=x, k=k, padding=padding, stride=stride):
            yield (
                ["flipped-kernel"],
                _corr(x, _flip(k), padding, stride),
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
                for codes, kernel in [(["output-size"], k), (["flipped-kernel", "output-size"], _flip(k))]:
                    yield (
                        codes,
                        _corr(x, kernel, other_padding, other_stride),
                        f"{which}the {ignored} is ignored"
                        + (" (and the kernel is flipped)" if len(codes) == 2 else "")
                        + ".",
                    )
            full = _corr(x, k, padding, stride)
            yield (
                ["output-size"],
                [row[:-1] for row in full[:-1]],
                "your output misses the last row and column of positions: a window of size k "
                "fits n - k + 1 times (the +1), so loop over range(n - k + 1) for stride 1.",
            )

        _check_case(runner, case, given, expected, candidates, picture)


_WRONG_OUTPUT_SIZE_FORMULAS = [
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


def _whole_or_number(runner, answer, kind):
    """The learner's answer if it is a real number; otherwise a Misconception saying so."""
    if answer is None:
        raise Misconception(["no-return"], f"{runner.name} returned None: did you forget `return`?")
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.integer, np.floating)):
        raise Misconception(["not-an-array"], f"{runner.name} must return one {kind}, got {type(answer).__name__}")
    return answer


@_short_traceback
def check_conv_output_size(conv_output_size, seed=0, hidden=False):
    """Check a learner's ``conv_output_size(n, k, padding=0, stride=1)`` -> int.

    Raises Misconception with code [output-size] naming the case and, when a
    common wrong formula reproduces the learner's answer, what that formula forgets.
    """
    runner = _Runner(conv_output_size, "conv_output_size", hidden, _ALL_CONVOLUTIONS | {"output_size"})
    for n, k, padding, stride in _output_size_cases(seed, hidden):
        given = _whole_or_number(runner, runner.call(n, k, padding=padding, stride=stride), "int")
        expected = _output_size(n, k, padding, stride)
        if isinstance(given, (int, np.integer)) and given == expected:
            continue
        formula = f"floor(({n} + 2*{padding} - {k}) / {stride}) + 1 = {expected}"
        if not hidden:
            case = f"conv_output_size({n}, {k}, padding={padding}, stride={stride}) should be {formula}, you gave {given!r}"
        else:
            case = "conv_output_size gives a wrong answer on a hidden case"
        if given == expected:
            raise Misconception(["output-size"], f"{case}: return an int (use //), not {type(given).__name__}.")
        reasons = [reason for formula_of, reason in _WRONG_OUTPUT_SIZE_FORMULAS if formula_of(n, k, padding, stride) == given]
        why = f": {reasons[0]}." if reasons else ". Use floor((n + 2*padding - k) / stride) + 1."
        raise Misconception(["output-size"], case + why)


# --------------------------------------------------------------------------
# Notebook 02: conv2d_multi_in, the channel-summing rule for one filter
# --------------------------------------------------------------------------


def _channel_responses(x, w, kernel=lambda k: k):
    """responses[c][d] = corr(x[d], kernel(w[c])): every kernel channel against every input channel."""
    return [[_corr(x_channel, kernel(w_channel)) for x_channel in x] for w_channel in w]


def _single_filter_candidates(x, w, b, name, label=""):
    """What a learner holding each misconception would return for one filter w (C_in lists) and bias b.

    Yields (codes, answer, explanation); label ("filter 2: ") says which filter in notebook 03.
    """
    C = len(x)
    for flipped in (False, True):
        responses = _channel_responses(x, w, _flip if flipped else (lambda k: k))
        own = [responses[c][c] for c in range(C)]  # kernel channel c with input channel c
        flip_codes = ["flipped-kernel"] if flipped else []
        flip_note = " (and the kernel is flipped: CNNs cross-correlate)" if flipped else ""
        total = _add(*own)

        def say(text):
            return label + text + flip_note + "."

        if flipped:
            yield flip_codes, _plus(total, b), say(f"{name} flips the kernel: CNN layers slide it unflipped")
        yield (
            ["no-channel-sum"] + flip_codes,
            [_plus(response, b) for response in own],
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
                    _plus(_scale(total, 1 / C), bias),
                    say(f"{name} averages the {C} channel responses; the rule sums them" + bias_note),
                )
        # When b is 0 these equal the right answer, and only wrong answers are matched.
        yield (
            ["missing-bias"] + flip_codes,
            total,
            say(f"{name} leaves out the bias b: add it once to the summed map"),
        )
        if C > 1:
            yield (
                ["bias-per-channel"] + flip_codes,
                _plus(total, C * b),
                say(f"{name} adds the bias to each of the {C} channel responses, so the map gets "
                    f"{C} x b. A filter has ONE bias, added once after the sum"),
            )
        if C > 1:
            for c in range(C):
                for bias in (b, 0):
                    yield (
                        ["one-channel-only"] + flip_codes,
                        _plus(own[c], bias),
                        say(f"{name} uses only input channel {c}. Every input channel contributes: "
                            "kernel channel c meets input channel c, and all C_in responses are summed"),
                    )
            for order in _pairings(C):
                yield (
                    ["channel-pairing"] + flip_codes,
                    _plus(_add(*[responses[c][order[c]] for c in range(C)]), b),
                    say(f"{name} pairs kernel channels {list(range(C))} with input channels {order}. "
                        "Kernel channel c belongs to input channel c: 0 with 0, 1 with 1, and so on"),
                )
            yield (
                ["channel-pairing"] + flip_codes,
                _plus(_add(*[responses[c][d] for c in range(C) for d in range(C)]), b),
                say(f"{name} applies every kernel channel to every input channel. Each kernel channel "
                    "meets only its own input channel"),
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
    shapes = [(3, 5, 6, 3, 3, 2), (3, 4, 4, 2, 2, -1), (1, 4, 5, 2, 3, 1), (4, 6, 5, 2, 3, 0.5)]
    if hidden:
        shapes = [(3, 6, 6, 3, 3, 1.5), (5, 5, 7, 2, 3, -2), (2, 4, 4, 1, 1, 3), (1, 3, 3, 3, 3, 0.25)]
    for C, rows, columns, kH, kW, b in shapes:
        x = [_random_grid(generator, rows, columns) for _ in range(C)]
        w = [_random_grid(generator, kH, kW) for _ in range(C)]
        cases.append((x, w, b))
    return cases


def _expected_single_filter(x, w, b):
    return _plus(_add(*[_corr(x[c], w[c]) for c in range(len(x))]), b)


def _check_depth_mismatch(runner, x_channels, w_channels, call):
    """The function must refuse a filter whose depth differs from the input's channel count."""
    try:
        call()
    except NotImplementedError:
        raise
    except Misconception as error:
        if error.codes != ("raises",) or not isinstance(error.__cause__, ValueError):
            raise Misconception(
                ["depth-check"],
                f"{runner.name} with an input of {x_channels} channels and filters of {w_channels} channels "
                f"must raise ValueError, but it raised {type(error.__cause__).__name__}: {error.__cause__}",
            ) from None
        return
    raise Misconception(
        ["depth-check"],
        f"{runner.name} accepted an input with {x_channels} channels and filters with {w_channels} channels. "
        "Each filter needs one channel per input channel: raise ValueError naming both counts.",
    )


@_short_traceback
def check_conv2d_multi_in(conv2d_multi_in, seed=0, hidden=False, picture=None):
    """Check a learner's ``conv2d_multi_in(x, w, b=0.0)``; raise Misconception if wrong.

    conv2d_multi_in: x (C_in, H, W), w (C_in, kH, kW), scalar b -> (Ho, Wo).
    Arguments as in check_corr2d. Also checks that a depth mismatch raises ValueError.
    """
    runner = _Runner(conv2d_multi_in, "conv2d_multi_in", hidden, _ALL_CONVOLUTIONS - {"corr2d"})
    for x, w, b in _multi_in_cases(seed, hidden):
        arguments = (np.array(x, dtype=float), np.array(w, dtype=float))
        given = runner.array(*arguments) if b is None else runner.array(*arguments, b)
        expected = _expected_single_filter(x, w, b or 0)
        case = f"x of shape {_shape(x)}, w of shape {_shape(w)}, b={b or 0}"

        def candidates(x=x, w=w, b=b or 0):
            return _single_filter_candidates(x, w, b, "conv2d_multi_in")

        _check_case(runner, case, given, expected, candidates, picture)
    x = np.ones((3, 4, 4))
    _check_depth_mismatch(runner, 3, 2, lambda: runner.call(x, np.ones((2, 2, 2)), 0.0))


# --------------------------------------------------------------------------
# Notebook 03: conv2d_multi_out and conv_layer_params
# --------------------------------------------------------------------------


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
        x = [_random_grid(generator, rows, columns) for _ in range(C_in)]
        w = [[_random_grid(generator, kH, kW) for _ in range(C_in)] for _ in range(C_out)]
        b = [generator.randint(-3, 3) + 0.5 for _ in range(C_out)]
        cases.append((x, w, b))
    return cases


def _multi_out_candidates(x, w, b):
    C_in, C_out = len(x), len(w)
    if C_in != C_out:
        for bias_of_channel in (lambda c: 0, lambda c: sum(b)):
            yield (
                ["filters-summed"],
                [_plus(_add(*[_corr(x[c], w[f][c]) for f in range(C_out)]), bias_of_channel(c)) for c in range(C_in)],
                f"conv2d_multi_out returned {C_in} maps, one per input channel, by adding up the "
                f"{C_out} filters. It is the other way round: each filter sums over the channels, "
                f"so {C_out} filters give {C_out} maps",
            )
    if C_in == C_out and C_in > 1:
        yield (
            ["channel-pairing"],
            [_expected_single_filter(x, [w[c][f] for c in range(C_in)], b[f]) for f in range(C_out)],
            "conv2d_multi_out uses w[c, f] where the rule needs w[f, c]: the first axis of w picks "
            "the filter, the second its channel, which meets input channel c",
        )
    for shared_bias, note in [(b[0], "b[0] for every filter"), (sum(b), "the sum of all biases")]:
        if any(value != shared_bias for value in b):
            yield (
                ["missing-bias"],
                [_expected_single_filter(x, w[f], shared_bias) for f in range(C_out)],
                f"conv2d_multi_out adds {note}: filter f gets its own bias b[f]",
            )
    # Otherwise, explain filter by filter with notebook 02's misconceptions.
    per_filter = [list(_single_filter_candidates(x, w[f], b[f], "conv2d_multi_out", f"filter {f}: ")) for f in range(C_out)]
    for index in range(len(per_filter[0])):
        codes, _, explanation = per_filter[0][index]
        yield codes, [per_filter[f][index][1] for f in range(C_out)], explanation.replace("filter 0: ", "for every filter, ")


@_short_traceback
def check_conv2d_multi_out(conv2d_multi_out, seed=0, hidden=False, picture=None):
    """Check a learner's ``conv2d_multi_out(x, w, b)``; raise Misconception if wrong.

    conv2d_multi_out: x (C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,) -> (C_out, Ho, Wo).
    Arguments as in check_corr2d.
    """
    runner = _Runner(
        conv2d_multi_out, "conv2d_multi_out", hidden, _ALL_CONVOLUTIONS - {"corr2d", "conv2d_multi_in"},
        hint=". Remember the axes: w[f] is filter f, of shape (C_in, kH, kW), and w[f, c] is its channel c.",
    )
    for x, w, b in _multi_out_cases(seed, hidden):
        given = runner.array(np.array(x, dtype=float), np.array(w, dtype=float), np.array(b, dtype=float))
        expected = [_expected_single_filter(x, w[f], b[f]) for f in range(len(w))]
        C_in, C_out = len(x), len(w)
        case = f"x of shape {_shape(x)}, w of shape {_shape(w)}"
        Ho, Wo = _shape(expected)[1:]
        maps = int(np.prod(given.shape[:-2])) if given.ndim >= 2 else 0
        if C_in > 1 and maps == C_out * C_in and given.shape[-2:] == (Ho, Wo):
            _fail(
                runner,
                ["per-filter-per-channel"],
                f"conv2d_multi_out returned {maps} maps (shape {given.shape}) for {C_out} filters on "
                f"{C_in} channels: one per filter and channel. Each filter sums its {C_in} channel "
                f"responses into one map, so {C_out} filters give {C_out} maps (shape {(C_out, Ho, Wo)}).",
                expected, None, picture,
            )
        _check_case(runner, case, given, expected, lambda x=x, w=w, b=b: _multi_out_candidates(x, w, b), picture)
    _check_depth_mismatch(
        runner, 3, 2, lambda: runner.call(np.ones((3, 4, 4)), np.ones((2, 2, 2, 2)), np.zeros(2))
    )


def _params_cases(seed, hidden):
    cases = [(3, 64, 3), (64, 128, 3), (1, 1, 1), (3, 2, 5), (64, 64, 1)]
    if hidden:
        generator = random.Random(seed)
        cases = [(generator.randint(2, 512), generator.randint(2, 512), generator.choice([1, 3, 5, 7])) for _ in range(8)]
    return cases


@_short_traceback
def check_conv_layer_params(conv_layer_params, seed=0, hidden=False):
    """Check a learner's ``conv_layer_params(c_in, c_out, k)``: C_out filters of (C_in, k, k), plus C_out biases."""
    runner = _Runner(conv_layer_params, "conv_layer_params", hidden, _ALL_CONVOLUTIONS)
    for c_in, c_out, k in _params_cases(seed, hidden):
        given = _whole_or_number(runner, runner.call(c_in, c_out, k), "whole number")
        expected = c_out * (c_in * k * k + 1)
        if given == expected:
            continue
        known = [
            (c_out * c_in * k * k, ["missing-bias"], "the biases are missing: each filter has one"),
            (c_out * c_in * (k * k + 1), ["bias-per-channel"], "a bias per channel: each filter has ONE bias, not one per channel"),
            (c_out * (k * k + 1), ["filter-depth"], "each filter has c_in channels of k x k weights, one per input channel, not one"),
            (c_out * k * k, ["filter-depth", "missing-bias"], "each filter has c_in channels of k x k weights, and one bias"),
            (c_in * k * k + 1, ["filter-count"], "that is one filter; the layer has c_out of them"),
        ]
        codes, reason = next(((codes, reason) for value, codes, reason in known if value == given and value != expected),
                             (["wrong-values"], "count the weights of one filter (C_in * k * k), add its bias, times C_out"))
        shown = f"conv_layer_params({c_in}, {c_out}, {k}) should be {c_out} * ({c_in}*{k}*{k} + 1) = {expected}, you gave {given}"
        if hidden:
            shown = "conv_layer_params gives a wrong answer on a hidden case"
        raise Misconception(codes, f"{shown}: {reason}.")
