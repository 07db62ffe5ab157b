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
    depth-check, reference-call, no-return, not-an-array, raises, wrong-values,
    batch-mixed, pool-mixes-channels, avg-not-max, conv-keeps-channels,
    relu-changes-shape, one-per-layer, not-a-shape-list, stride-ignored,
    kernels-multiplied, padding-counted, stride-too-early, pool-ignored,
    off-by-one, fc-input-size, pool-has-params, macs-wrong, input-shape-ignored,
    not-a-table, relu-missing, pool-missing, padding-missing, relu-before-bias,
    block-incomplete, not-a-tuple, db-not-summed, dw-channel-mixup,
    dw-batch-not-summed, dx-not-flipped, dx-channel-sum, wrong-shape,
    rng-ignored, fan-in-wrong, variance-not-std, xavier-not-he,
    uniform-not-normal

Trust: the expected answers are computed here in plain Python (lists and
loops), never with numpy's or the library's convolution, so a learner's
notebook cannot change them by replacing a library function. Numpy is used
only to turn the learner's answer into numbers (and, for check_he_init, to
make the numpy Generators passed to the learner's function; the statistics of
its draws are computed in plain Python). Hidden checks (``hidden=True``)
use other random inputs, also watch for calls to a ready-made convolution
(``[reference-call]``), and keep inputs and expected values out of the message.
"""

import functools
import math
import os
import random
import re
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
    # Notebook 04: conv2d on a batch, max_pool2d, stack_shapes, receptive_field
    "batch-mixed": "the images of a batch are mixed, dropped or summed instead of each getting its own result",
    "pool-mixes-channels": "pooling mixes the channels instead of working on each channel on its own",
    "avg-not-max": "each window is averaged instead of keeping its maximum",
    "conv-keeps-channels": "a conv layer keeps its input's channel count instead of giving one map per filter",
    "relu-changes-shape": "a ReLU changes the shape, though it works number by number",
    "one-per-layer": "not exactly one shape per layer (the input not included)",
    "not-a-shape-list": "the answer is not a list of (C, H, W) shapes",
    "stride-ignored": "the strides of earlier layers are ignored: each layer adds (k - 1) times the jump",
    "kernels-multiplied": "the kernel sizes are multiplied instead of each layer adding (k - 1) times the jump",
    "padding-counted": "padding is counted in the receptive field",
    "stride-too-early": "a layer's own stride multiplies the jump before its own window is added",
    "pool-ignored": "pooling layers are left out of the receptive field",
    "off-by-one": "the receptive field is off by one: it starts at one pixel and a window of k adds k - 1",
    # Notebook 05: vgg16_table and vgg_block
    "fc-input-size": "the first fully connected layer's input is not the flattened C*H*W of the last pool",
    "pool-has-params": "a pooling layer is given parameters or multiply-accumulates",
    "macs-wrong": "multiply-accumulates are not one per weight per output number",
    "input-shape-ignored": "the input_shape argument is ignored",
    "not-a-table": "the answer is not a list of rows with name, output_shape, params and macs",
    "relu-missing": "a ReLU is missing after a convolution",
    "pool-missing": "the max pool at the end of the block is missing",
    "padding-missing": "the convolutions are not padded (padding one keeps the height and the width)",
    "relu-before-bias": "the ReLU is applied before the bias is added",
    "block-incomplete": "only the first convolution of the block is applied",
    # Notebook 06: conv2d_backward and he_init
    "not-a-tuple": "the answer is not the three gradients (dx, dw, db), in this order",
    "db-not-summed": "db is not the sum of dout over the whole batch and every position",
    "dw-channel-mixup": "dw[f, c] pairs the wrong map of dout with the wrong channel of x",
    "dw-batch-not-summed": "dw does not add the parts of all the images of the batch",
    "dx-not-flipped": "dx correlates dout with w instead of the full convolution (the kernel turned around)",
    "dx-channel-sum": "dx[n, c] does not add the parts of all the filters",
    "wrong-shape": "the weights do not have the shape (c_out, c_in, k, k)",
    "rng-ignored": "the draws do not come from the generator rng that is passed in",
    "fan-in-wrong": "the fan-in is not c_in * k * k, the number of inputs one output number sums over",
    "variance-not-std": "2 / fan_in is used as the standard deviation: it is the variance, take its square root",
    "xavier-not-he": "Xavier's (or LeCun's) scale instead of He's sqrt(2 / fan_in)",
    "uniform-not-normal": "the weights are drawn from a uniform distribution instead of a normal one",
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
    """Calls the learner's function and turns its answer into numbers or a Misconception.

    forbidden_library_functions: names of conv_lib functions the learner must not
    call (a hidden check reports them as [reference-call], like scipy's and
    torch's convolutions); None when any library call is allowed.
    ready_made: what such a call is, in the message ("convolution", "pooling");
    instead: the sentence after it, saying what to do instead.
    numbers_hidden: in a hidden check, a message that would show numbers is
    replaced by the sentences of its codes (see _hidden_words).
    """

    def __init__(self, function, name, hidden, forbidden_library_functions, hint="",
                 ready_made="convolution", numbers_hidden=False,
                 instead="Write the loops yourself: the point of this exercise is the rule, not the library."):
        self.function, self.name, self.hidden = function, name, hidden
        self.watch = forbidden_library_functions is not None
        self.forbidden = forbidden_library_functions or set()
        self.hint = hint  # added to the message when the learner's function crashes
        self.ready_made, self.numbers_hidden = ready_made, numbers_hidden
        self.instead = instead  # what a [reference-call] message asks for instead

    def call(self, *args, **kwargs):
        if self.hidden and self.watch:
            with _watch_for_ready_made_calls(self.forbidden) as seen:
                answer = self._call(args, kwargs)
            if seen:
                raise Misconception(
                    ["reference-call"],
                    f"{self.name} calls {seen[0]}, a ready-made {self.ready_made}. {self.instead}",
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
            shown = ", ".join(_describe(a, self.hidden) for a in args)
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


def _describe(value, hidden=False):
    """An argument as a crash message shows it: arrays by their shape; in a hidden check, nothing else."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    if isinstance(value, np.random.Generator):
        return "rng"
    if isinstance(value, (list, tuple)) and any(isinstance(item, np.ndarray) for item in value):
        inner = ", ".join(_describe(item, hidden) for item in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return "..." if hidden else repr(value)


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
    words = ("image", "channel", "row", "column")[-len(index):] if len(index) <= 4 else None
    if words is None:
        return str(index)
    return "(" + ", ".join(f"{word} {value}" for word, value in zip(words, index)) + ")"


#: Numbers that belong to a rule, not to an input: "+1", "k - 1", "2*padding", VGG's layer
#: names, function names (max_pool2d), b[0], max(x, 0) and the fixed parts of a VGG block
#: (3x3, padding 1, stride 2).
_RULE_NUMBERS = re.compile(
    r"\+ ?1\b|- ?1\b|2\*padding|\b(?:conv\d+_\d+|relu\d+(?:_\d+)?|pool\d+|fc\d+)\b|\w+2d\b|[Vv][Gg][Gg]16|\[0\]|max\(x, 0\)"
    r"|\b[23]x[23]\b|padding 1\b|stride 2\b"
)


def _hidden_words(codes, explanation):
    """A hidden check's explanation: as it is if it shows no numbers, else the sentences of its codes."""
    if any(character.isdigit() for character in _RULE_NUMBERS.sub("", explanation)):
        return "on a hidden case your answer shows this mistake: " + "; ".join(CODES[code] for code in codes) + "."
    return explanation


def _refuse(runner, codes, explanation, hidden_explanation=None):
    """Raise a Misconception for an answer that is not an array (no picture, nothing attached)."""
    if runner.hidden:
        explanation = _hidden_words(codes, hidden_explanation or explanation)
    raise Misconception(codes, explanation)


def _picture_arrays(expected, given):
    """What a picture of maps can show: of a batch (N, C, H, W), the first image that differs.

    Returns (expected, given, words naming the image) or None when there is nothing a
    picture of (H, W) or (C, H, W) maps could show.
    """
    expected, which = np.array(expected, dtype=float), ""
    if expected.ndim == 4:
        n = 0
        if given.shape == expected.shape:
            n = next((i for i in range(len(expected)) if not _same(given[i], expected[i].tolist())), 0)
        expected, which = expected[n], f" (image {n} of the batch)"
        if given.ndim == 4 and given.shape[0] > n:
            given = given[n]
    if expected.ndim not in (2, 3) or given.ndim not in (2, 3) or 0 in given.shape:
        return None
    return expected, given, which


def _fail(runner, codes, explanation, expected, given, picture):
    """Raise the Misconception; in a visible check, draw it first if a picture maker was given."""
    if runner.hidden:
        raise Misconception(codes, _hidden_words(codes, explanation) if runner.numbers_hidden else explanation)
    shown = _picture_arrays(expected, given) if picture is not None and given is not None and np.ndim(given) >= 2 else None
    if shown is not None:
        headline = " ".join(f"[{code}]" for code in codes) + " " + explanation.split(". ")[0].rstrip(".")
        picture(shown[0], shown[1], title=headline + shown[2])
    raise Misconception(codes, explanation, expected=np.array(expected, dtype=float), given=given)


def _unexplained(runner, case, given, expected, picture, size_reason=None):
    """The learner's answer differs, and no known misconception explains it.

    size_reason: optional callable (given's last two axes) -> why that size is wrong,
    or None; used when only the height and width of the answer are wrong.
    """
    shape = _shape(expected)
    if size_reason is not None and given.ndim == len(shape) and given.shape[:-2] == shape[:-2] and given.shape != shape:
        reason = size_reason(given.shape[-2:])
        if reason is not None:
            where = "on a hidden case" if runner.hidden else f"for {case}"
            explanation = (
                f"{where} the output has {given.shape[-2]} x {given.shape[-1]} positions where the rule gives "
                f"{shape[-2]} x {shape[-1]}: {reason}." if not runner.hidden else f"{where} the output has the wrong size: {reason}."
            )
            return _fail(runner, ["output-size"], explanation, expected, given, picture)
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


def _match(runner, case, given, expected, candidates, picture, size_reason=None):
    """Explain a wrong answer by the first candidate misconception that reproduces it exactly."""
    for codes, answer, explanation in candidates:
        if _same(given, answer):
            return _fail(runner, codes, explanation, expected, given, picture)
    return _unexplained(runner, case, given, expected, picture, size_reason)


def _check_case(runner, case, given, expected, candidates, picture, size_reason=None):
    if not _same(given, expected):
        _match(runner, case, given, expected, candidates(), picture, size_reason)


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
            yield flip_codes, _plus(total, b), label + f"{name} flips the kernel: CNN layers slide it unflipped (cross-correlation)."
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


def _multi_out_candidates(x, w, b, name="conv2d_multi_out"):
    """What a learner holding each misconception of notebooks 02-03 would return for the filters w."""
    C_in, C_out = len(x), len(w)
    if C_in != C_out:
        for bias_of_channel in (lambda c: 0, lambda c: sum(b)):
            yield (
                ["filters-summed"],
                [_plus(_add(*[_corr(x[c], w[f][c]) for f in range(C_out)]), bias_of_channel(c)) for c in range(C_in)],
                f"{name} returned {C_in} maps, one per input channel, by adding up the "
                f"{C_out} filters. It is the other way round: each filter sums over the channels, "
                f"so {C_out} filters give {C_out} maps",
            )
    if C_in == C_out and C_in > 1:
        yield (
            ["channel-pairing"],
            [_expected_single_filter(x, [w[c][f] for c in range(C_in)], b[f]) for f in range(C_out)],
            f"{name} uses w[c, f] where the rule needs w[f, c]: the first axis of w picks "
            "the filter, the second its channel, which meets input channel c",
        )
    for shared_bias, note in [(b[0], "b[0] for every filter"), (sum(b), "the sum of all biases")]:
        if any(value != shared_bias for value in b):
            yield (
                ["missing-bias"],
                [_expected_single_filter(x, w[f], shared_bias) for f in range(C_out)],
                f"{name} adds {note}: filter f gets its own bias b[f]",
            )
    # Otherwise, explain filter by filter with notebook 02's misconceptions.
    per_filter = [list(_single_filter_candidates(x, w[f], b[f], name, f"filter {f}: ")) for f in range(C_out)]
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


def _conv_params_mistakes(c_in, c_out, k):
    """(wrong count, codes, reason) for the usual wrong ways of counting a conv layer's parameters."""
    return [
        (c_out * c_in * k * k, ["missing-bias"], "the biases are missing: each filter has one"),
        (c_out * c_in * (k * k + 1), ["bias-per-channel"], "a bias per channel: each filter has ONE bias, not one per channel"),
        (c_out * (k * k + 1), ["filter-depth"], "each filter has c_in channels of k x k weights, one per input channel, not one"),
        (c_out * k * k, ["filter-depth", "missing-bias"], "each filter has c_in channels of k x k weights, and one bias"),
        (c_in * k * k + 1, ["filter-count"], "that is one filter; the layer has c_out of them"),
    ]


@_short_traceback
def check_conv_layer_params(conv_layer_params, seed=0, hidden=False):
    """Check a learner's ``conv_layer_params(c_in, c_out, k)``: C_out filters of (C_in, k, k), plus C_out biases."""
    runner = _Runner(conv_layer_params, "conv_layer_params", hidden, _ALL_CONVOLUTIONS)
    for c_in, c_out, k in _params_cases(seed, hidden):
        given = _whole_or_number(runner, runner.call(c_in, c_out, k), "whole number")
        expected = c_out * (c_in * k * k + 1)
        if given == expected:
            continue
        codes, reason = next(((codes, reason) for value, codes, reason in _conv_params_mistakes(c_in, c_out, k)
                              if value == given and value != expected),
                             (["wrong-values"], "count the weights of one filter (C_in * k * k), add its bias, times C_out"))
        shown = f"conv_layer_params({c_in}, {c_out}, {k}) should be {c_out} * ({c_in}*{k}*{k} + 1) = {expected}, you gave {given}"
        if hidden:
            shown = "conv_layer_params gives a wrong answer on a hidden case"
        raise Misconception(codes, f"{shown}: {reason}.")


# --------------------------------------------------------------------------
# Notebook 04: conv2d on a batch, max_pool2d, stack_shapes, receptive_field
# --------------------------------------------------------------------------


def _subsample(nested, stride):
    """Every stride-th row and column of each map in nested lists: a stride-1 answer made strided."""
    if stride == 1:
        return nested
    if not isinstance(nested[0][0], list):  # one map: rows of numbers
        return [row[::stride] for row in nested[::stride]]
    return [_subsample(item, stride) for item in nested]


def _drop_last_position(nested):
    """Each map without its last row and column: what a loop that forgets the +1 gives."""
    if not isinstance(nested[0][0], list):
        return [row[:-1] for row in nested[:-1]]
    return [_drop_last_position(item) for item in nested]


def _batch_candidates(name, answers, combined=()):
    """Wrong handlings of the batch axis, as (codes, answer, explanation).

    answers: the right answer for each image (nested lists).
    combined: (answer, words) pairs, one answer standing for the whole batch
    (the images summed, say); words say what the learner's function did.
    """
    if len(answers) == 1:
        yield (
            ["batch-mixed"],
            answers[0],
            f"{name} dropped the batch axis: the answer for a batch of images has one result per "
            "image, out[n] for image x[n], even when the batch holds a single image (shape (N, ...))",
        )
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
    yield (
        ["batch-mixed"],
        [list(group) for group in zip(*answers)],
        f"{name} returned the axes in the order (channels, images, ...): the batch axis comes first, (N, C, H, W)",
    )


#: A pool's wrong output size: windows taken to tile the input, as if the stride were the size.
_POOL_TILES = (lambda n, k, p, s: n // k, "the windows are taken to step by their size (n // size): they step by the stride")


def _wrong_size_reason(sizes, given, pooling=False):
    """Which wrong output-size formula gives the sizes ``given``; None if none does.

    sizes: (n, k, padding, stride) for each axis (rows, columns); given: the learner's sizes.
    """
    formulas = _WRONG_OUTPUT_SIZE_FORMULAS + ([_POOL_TILES] if pooling else [])
    right = tuple(_output_size(*axis) for axis in sizes)
    for formula, reason in formulas:
        answers = tuple(formula(*axis) for axis in sizes)
        if answers != right and len(given) == len(answers) and all(_close(a, g) for a, g in zip(answers, given)):
            return reason
    return None


def _size_reason(sizes, pooling=False):
    """A size_reason for _unexplained: why the learner's (Ho, Wo) is wrong, or None."""
    return lambda given: _wrong_size_reason(sizes, tuple(given), pooling)


def _conv2d_cases(seed, hidden):
    """(x, w, b, padding, stride) cases, x: N images of C_in maps, w: C_out filters of C_in kernels."""
    generator = random.Random(seed)
    shapes = [  # N, C_in, C_out, H, W, kH, kW, padding, stride
        (1, 2, 3, 4, 4, 2, 2, 0, 1),
        (2, 3, 2, 5, 6, 3, 3, 0, 1),
        (1, 1, 4, 5, 4, 3, 2, 1, 1),
        (2, 2, 3, 7, 6, 3, 3, 1, 2),
        (1, 3, 1, 4, 5, 2, 3, 2, 1),
        (2, 3, 3, 6, 5, 2, 2, 0, 2),
    ]
    if hidden:
        shapes = [
            (2, 3, 2, 6, 6, 3, 3, 1, 1),
            (1, 2, 4, 5, 7, 2, 3, 0, 2),
            (3, 1, 2, 4, 4, 3, 3, 2, 2),
            (2, 4, 3, 5, 5, 2, 2, 1, 1),
            (1, 3, 3, 7, 6, 3, 2, 1, 3),
        ]
    cases = []
    for N, C_in, C_out, rows, columns, kH, kW, padding, stride in shapes:
        x = [[_random_grid(generator, rows, columns) for _ in range(C_in)] for _ in range(N)]
        w = [[_random_grid(generator, kH, kW) for _ in range(C_in)] for _ in range(C_out)]
        b = [generator.randint(-3, 3) + 0.5 for _ in range(C_out)]
        cases.append((x, w, b, padding, stride))
    return cases


def _expected_conv2d(x, w, b, padding, stride):
    """y[n][f] = sum over c of corr(x[n][c] padded, w[f][c]) with the stride, plus b[f]."""
    return [
        [_plus(_add(*[_corr(image[c], w[f][c], padding, stride) for c in range(len(image))]), b[f]) for f in range(len(w))]
        for image in x
    ]


def _conv2d_candidates(x, w, b, padding, stride, expected):
    """What a learner holding each misconception would return for conv2d on the batch x."""
    unbiased = _expected_conv2d(x, w, [0] * len(w), padding, stride)
    summed = [_add(*maps) for maps in zip(*unbiased)]
    yield from _batch_candidates("conv2d", expected, [
        ([_plus(summed[f], b[f]) for f in range(len(w))], "adds the images of the batch together"),
        ([_add(*maps) for maps in zip(*expected)], "adds the images of the batch together"),
    ])
    # Notebooks 02 and 03's misconceptions, image by image, on the padded input.
    per_image = [list(_multi_out_candidates([_pad(channel, padding) for channel in image], w, b, "conv2d")) for image in x]
    for options in zip(*per_image):
        codes, _, explanation = options[0]
        yield codes, [_subsample(answer, stride) for _, answer, _ in options], explanation
    fixes = {
        "padding": "pad every channel of every image with `padding` zeros on each side first",
        "stride": "move the window `stride` pixels at a time",
    }
    for other_padding, other_stride in [(0, stride), (padding, 1), (0, 1)]:
        if (other_padding, other_stride) == (padding, stride):
            continue
        ignored = [name for name, used, wanted in [("padding", other_padding, padding), ("stride", other_stride, stride)]
                   if used != wanted]
        yield (
            ["output-size"],
            _expected_conv2d(x, w, b, other_padding, other_stride),
            f"conv2d ignores the {' and the '.join(ignored)}: " + ", and ".join(fixes[name] for name in ignored),
        )
    yield (
        ["output-size"],
        _drop_last_position(expected),
        "conv2d misses the last row and column of window positions: a window fits "
        "floor((n + 2*padding - k) / stride) + 1 times (the +1)",
    )


@_short_traceback
def check_conv2d(conv2d, seed=0, hidden=False, picture=None):
    """Check a learner's ``conv2d(x, w, b, stride=1, padding=0)``; raise Misconception if wrong.

    conv2d: x (N, C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,) -> (N, C_out, Ho, Wo).
    seed, hidden, picture: as in check_corr2d (a picture shows the first image that differs).
    Also checks that a filter of the wrong depth raises ValueError. The hidden check
    reports calls to conv_lib's conv2d, conv2d_reference and conv2d_fast (corr2d,
    conv2d_multi_in and pad2d are allowed).
    """
    runner = _Runner(
        conv2d, "conv2d", hidden, {"conv2d", "conv2d_reference", "conv2d_fast"}, numbers_hidden=True,
        hint=". Remember the axes: x[n, c] is channel c of image n, w[f, c] is channel c of filter f, "
             "and the answer has shape (N, C_out, Ho, Wo).",
    )
    for x, w, b, padding, stride in _conv2d_cases(seed, hidden):
        given = runner.array(np.array(x, dtype=float), np.array(w, dtype=float), np.array(b, dtype=float),
                             stride=stride, padding=padding)
        expected = _expected_conv2d(x, w, b, padding, stride)
        if _same(given, expected):
            continue
        N, C_in, C_out = len(x), len(x[0]), len(w)
        shape = _shape(expected)
        case = f"x of shape {_shape(x)}, w of shape {_shape(w)}, padding={padding}, stride={stride}"
        if (C_in > 1 and given.ndim >= 4 and given.shape[0] == N and given.shape[-2:] == shape[-2:]
                and math.prod(given.shape[1:-2]) == C_out * C_in):
            _fail(
                runner,
                ["per-filter-per-channel"],
                f"conv2d returned {C_out * C_in} maps per image (shape {given.shape}) for {C_out} filters on "
                f"{C_in} channels: one per filter and channel. Each filter sums its {C_in} channel "
                f"responses into one map, so {C_out} filters give {C_out} maps (shape {shape}).",
                expected, None, picture,
            )
        sizes = [(len(x[0][0]), len(w[0][0]), padding, stride), (len(x[0][0][0]), len(w[0][0][0]), padding, stride)]
        _match(runner, case, given, expected, _conv2d_candidates(x, w, b, padding, stride, expected), picture,
               _size_reason(sizes))
    x = np.ones((1, 3, 4, 4))
    _check_depth_mismatch(runner, 3, 2, lambda: runner.call(x, np.ones((2, 2, 2, 2)), np.zeros(2)))


def _pool(grid, size, stride, reduce=max, ceil=False):
    """Pooling of one map: reduce (max, or _mean) over each size x size window, moving stride at a time.

    ceil: also keep a last window that sticks out of the map (cut to what is inside).
    """
    rows, columns = len(grid), len(grid[0])
    count = (lambda n: -(-(n - size) // stride) + 1) if ceil else (lambda n: (n - size) // stride + 1)
    return [
        [
            reduce([grid[r][c] for r in range(i * stride, min(i * stride + size, rows))
                    for c in range(j * stride, min(j * stride + size, columns))])
            for j in range(count(columns))
        ]
        for i in range(count(rows))
    ]


def _mean(values):
    return sum(values) / len(values)


def _largest(*maps):
    """Elementwise maximum of maps of one shape."""
    return [[max(values) for values in zip(*rows)] for rows in zip(*maps)]


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
        ([[_random_grid(generator, rows, columns, -9, 9) for _ in range(C)] for _ in range(N)], size, stride, defaults)
        for N, C, rows, columns, size, stride, defaults in shapes
    ]


def _max_pool2d_candidates(x, size, stride, expected):
    """What a learner holding each misconception would return for max_pool2d on the batch x."""
    C = len(x[0])
    yield from _batch_candidates("max_pool2d", expected, [
        ([_largest(*maps) for maps in zip(*expected)], "takes the maximum over the images of the batch"),
    ])
    if C > 1:
        mixed = [_pool(_largest(*image), size, stride) for image in x]
        one_channel = (
            "max_pool2d took the maximum across channels as well, leaving one map per image: pooling works on "
            "each channel on its own, so an input with C channels gives an output with C channels"
        )
        yield ["pool-mixes-channels"], [[m] for m in mixed], one_channel
        yield ["pool-mixes-channels"], mixed, one_channel
        yield (
            ["pool-mixes-channels"],
            [[m] * C for m in mixed],
            "max_pool2d gives every channel the maximum over all channels of the window: pooling works "
            "on each channel on its own, out[n, c] comes from x[n, c] only",
        )
    yield (
        ["avg-not-max"],
        [[_pool(channel, size, stride, _mean) for channel in image] for image in x],
        "max_pool2d averages each window: max pooling keeps the largest value of the window",
    )
    if stride != size:
        yield (
            ["output-size"],
            [[_pool(channel, size, size) for channel in image] for image in x],
            "max_pool2d moves the window by its size instead of by the stride: the windows start "
            "stride pixels apart (they overlap when stride < size)",
        )
    if stride != 1:
        yield (
            ["output-size"],
            [[_pool(channel, size, 1) for channel in image] for image in x],
            "max_pool2d ignores the stride: the window moves stride pixels at a time",
        )
    yield (
        ["output-size"],
        _drop_last_position(expected),
        "max_pool2d misses the last row and column of windows: a window fits "
        "floor((n - size) / stride) + 1 times (the +1)",
    )
    yield (
        ["output-size"],
        [[_pool(channel, size, stride, max, ceil=True) for channel in image] for image in x],
        "max_pool2d keeps a last window that sticks out of the input (rounding up): only whole "
        "windows count, floor((n - size) / stride) + 1",
    )


@_short_traceback
def check_max_pool2d(max_pool2d, seed=0, hidden=False, picture=None):
    """Check a learner's ``max_pool2d(x, size=2, stride=2)``; raise Misconception if wrong.

    max_pool2d: x (N, C, H, W) -> (N, C, Ho, Wo), Ho = floor((H - size) / stride) + 1, per channel.
    Some cases call max_pool2d(x) with its default size and stride. Arguments as in
    check_conv2d; the hidden check reports calls to conv_lib's pooling functions.
    """
    runner = _Runner(
        max_pool2d, "max_pool2d", hidden,
        {"max_pool2d", "max_pool2d_reference", "avg_pool2d", "avg_pool2d_reference"},
        hint=". x has shape (N, C, H, W); each channel of each image is pooled on its own.",
        ready_made="pooling", numbers_hidden=True,
    )
    for x, size, stride, defaults in _max_pool2d_cases(seed, hidden):
        array = np.array(x, dtype=float)
        given = runner.array(array) if defaults else runner.array(array, size=size, stride=stride)
        expected = [[_pool(channel, size, stride) for channel in image] for image in x]
        call = "max_pool2d(x) (size=2, stride=2 by default)" if defaults else f"max_pool2d(x, size={size}, stride={stride})"
        case = f"{call} with x of shape {_shape(x)}"
        sizes = [(len(x[0][0]), size, 0, stride), (len(x[0][0][0]), size, 0, stride)]
        _check_case(runner, case, given, expected, lambda: _max_pool2d_candidates(x, size, stride, expected),
                    picture, _size_reason(sizes, pooling=True))


# Layer specs, as in conv_lib.models: ("conv", c_out, k, stride, padding), ("pool", size, stride), ("relu",).


def _layer_shape(layer, shape):
    """The (C, H, W) after one layer spec, in plain Python."""
    if layer[0] == "conv":
        _, c_out, k, stride, padding = layer
        return (c_out, _output_size(shape[1], k, padding, stride), _output_size(shape[2], k, padding, stride))
    if layer[0] == "pool":
        _, size, stride = layer
        return (shape[0], _output_size(shape[1], size, 0, stride), _output_size(shape[2], size, 0, stride))
    return tuple(shape)


def _stack_shapes(input_shape, layers, size=None, kinds=("conv", "pool")):
    """The shape after each layer; size(n, k, padding, stride), if given, replaces the output-size rule for kinds."""
    shapes, shape = [], tuple(input_shape)
    for layer in layers:
        right = _layer_shape(layer, shape)
        if size is not None and layer[0] in kinds:
            right = (right[0],) + tuple(size(*axis) for axis in _window_sizes(layer, shape))
        shape = right
        shapes.append(shape)
    return shapes


def _stack_size_reason(input_shape, layers, shapes):
    """The wrong output-size formula that gives the heights and widths of the learner's whole list, or None.

    One layer alone can leave two formulas possible (with stride 2, ignoring a padding of 1
    and forgetting the +1 give the same size); the whole list tells them apart.
    """
    for formula, reason in _WRONG_OUTPUT_SIZE_FORMULAS + [_POOL_TILES]:
        for kinds in (("conv", "pool"), ("conv",), ("pool",)):
            try:
                replayed = _stack_shapes(input_shape, layers, formula, kinds)
            except (ArithmeticError, IndexError):
                continue
            if all(_same_shape(given[1:], shape[1:]) for given, shape in zip(shapes, replayed)):
                return reason
    return None


def _window_sizes(layer, shape):
    """(n, k, padding, stride) for the rows and the columns of a conv or pool layer on ``shape``."""
    if layer[0] == "conv":
        _, _, k, stride, padding = layer
    else:
        _, k, stride = layer
        padding = 0
    return [(shape[1], k, padding, stride), (shape[2], k, padding, stride)]


def _layer_words(layer):
    if layer[0] == "conv":
        _, c_out, k, stride, padding = layer
        return f"conv, {c_out} filters of {k}x{k}, stride {stride}, padding {padding}"
    if layer[0] == "pool":
        return f"pool, {layer[1]}x{layer[1]}, stride {layer[2]}"
    return layer[0]


def _layer_mistakes(layer, shape_in, given):
    """(codes, reasons) for a wrong shape ``given`` after one layer whose input (shape_in) is right."""
    kind, right = layer[0], _layer_shape(layer, shape_in)
    if kind == "relu":
        return ["relu-changes-shape"], ["a ReLU works number by number, max(x, 0): its output has the shape of its input"]
    if len(given) != 3:
        return ["not-a-shape-list"], ["a shape here is three numbers, (C, H, W)"]
    codes, reasons = [], []
    if given[0] != right[0]:
        if kind == "pool":
            codes.append("pool-mixes-channels")
            reasons.append("pooling works on each channel on its own, so it keeps the channel count")
        elif given[0] == shape_in[0]:
            codes.append("conv-keeps-channels")
            reasons.append("a conv layer outputs one map per filter: as many channels as filters, not as its input has")
        elif shape_in[0] > 1 and given[0] == shape_in[0] * right[0]:
            codes.append("per-filter-per-channel")
            reasons.append("each filter sums its channel responses into ONE map: as many channels as filters, "
                           "not filters times input channels")
        else:
            codes.append("wrong-values")
            reasons.append("a conv layer outputs one map per filter: as many channels as filters")
    if tuple(given[1:]) != right[1:]:
        codes.append("output-size")
        reason = _wrong_size_reason(_window_sizes(layer, shape_in), tuple(given[1:]), pooling=kind == "pool")
        if reason is None and kind == "pool" and tuple(given[1:]) == tuple(shape_in[1:]):
            reason = "the pool keeps the height and the width: its windows, stride apart, fit floor((n - size) / stride) + 1 times"
        reasons.append(reason or "height and width are each floor((n + 2*padding - k) / stride) + 1")
    return codes, reasons


def _stack_shapes_cases(seed, hidden):
    """(input_shape, layers) cases."""
    if not hidden:
        vgg_blocks = [("conv", 64, 3, 1, 1), ("relu",), ("conv", 64, 3, 1, 1), ("relu",), ("pool", 2, 2),
                      ("conv", 128, 3, 1, 1), ("relu",), ("conv", 128, 3, 1, 1), ("relu",), ("pool", 2, 2)]
        return [
            ((3, 32, 32), [("conv", 8, 3, 1, 1), ("relu",), ("pool", 2, 2), ("conv", 16, 3, 1, 1), ("relu",), ("pool", 2, 2)]),
            ((1, 28, 28), [("conv", 6, 5, 1, 0), ("relu",), ("pool", 2, 2), ("conv", 16, 5, 1, 0), ("relu",), ("pool", 2, 2)]),
            ((3, 224, 224), vgg_blocks),
            ((3, 227, 227), [("conv", 96, 11, 4, 0), ("relu",), ("pool", 3, 2), ("conv", 256, 5, 1, 2), ("relu",), ("pool", 3, 2)]),
            ((2, 7, 9), [("conv", 4, 3, 2, 1), ("pool", 2, 2)]),
        ]
    generator = random.Random(seed)
    return [_random_stack(generator) for _ in range(4)]


def _random_stack(generator):
    """A random (input_shape, layers) with a padded conv, a strided conv, a pool and a relu."""
    while True:
        shape = (generator.randint(1, 4), generator.randint(16, 40), generator.randint(16, 40))
        input_shape, layers = shape, []
        for _ in range(generator.randint(5, 8)):
            kind = generator.choice(["conv", "conv", "pool", "relu"])
            if kind == "conv":
                c_out = generator.choice([c for c in (2, 3, 5, 6, 8, 12, 16, 32) if c != shape[0]])
                k, padding = generator.choice([(1, 0), (3, 0), (3, 1), (5, 0), (5, 2)])
                layer = ("conv", c_out, k, generator.choice([1, 2]), padding)
            elif kind == "pool":
                size = generator.choice([2, 3])
                layer = ("pool", size, generator.choice([s for s in (1, 2, 3) if s <= size]))
            else:
                layer = ("relu",)
            if kind != "relu" and any(n + 2 * p < k for n, k, p, _ in _window_sizes(layer, shape)):
                continue  # the window would not fit
            layers.append(layer)
            shape = _layer_shape(layer, shape)

        def has(test):
            return any(test(layer) for layer in layers)

        if (has(lambda layer: layer[0] == "conv" and layer[4] > 0) and has(lambda layer: layer[0] == "conv" and layer[3] > 1)
                and has(lambda layer: layer[0] == "pool" and layer[1] != layer[2]) and has(lambda layer: layer[0] == "relu")):
            return input_shape, layers


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _is_whole(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _shape_list(runner, answer):
    """The learner's answer as a list of tuples of numbers; a Misconception when it is not such a list."""
    if answer is None:
        raise Misconception(["no-return"], f"{runner.name} returned None: did you forget `return`?")
    if isinstance(answer, np.ndarray):
        answer = answer.tolist()
    if not isinstance(answer, (list, tuple)):
        _refuse(runner, ["not-a-shape-list"],
                f"{runner.name} must return a list with one (C, H, W) tuple per layer, got {type(answer).__name__}")
    if len(answer) == 3 and all(_is_number(value) for value in answer):
        _refuse(runner, ["one-per-layer"],
                f"{runner.name} returned one shape, {tuple(answer)}: return a list with the shape after "
                "each layer, one (C, H, W) per layer",
                f"{runner.name} returned one shape: return a list with the shape after each layer, one per layer")
    shapes = []
    for index, entry in enumerate(answer):
        if isinstance(entry, np.ndarray):
            entry = entry.tolist()
        if not isinstance(entry, (list, tuple)) or not all(_is_number(value) for value in entry):
            _refuse(runner, ["not-a-shape-list"],
                    f"entry {index} of {runner.name}'s list is {entry!r}: each entry is a shape, a tuple of "
                    "numbers (C, H, W)",
                    f"an entry of {runner.name}'s list is not a shape: each entry is a tuple of numbers (C, H, W)")
        shapes.append(tuple(entry))
    return shapes


def _same_shape(given, expected):
    return len(given) == len(expected) and all(_close(g, e) for g, e in zip(given, expected))


def _shown(shape):
    """A shape as the learner wrote it, with numpy's numbers as plain ones."""
    return tuple(value.item() if isinstance(value, np.generic) else value for value in shape)


def _refuse_entry_count(runner, shapes, input_shape, layers):
    """The list does not have one entry per layer: say what it seems to hold instead."""
    if len(shapes) == len(layers) + 1 and _same_shape(shapes[0], input_shape):
        reason = "it starts with the input shape; leave that out: one entry per layer, the shape after that layer"
    elif len(shapes) == sum(layer[0] != "relu" for layer in layers):
        reason = "it skips the ReLU layers; every layer gets an entry, a ReLU too (its shape is its input's)"
    else:
        reason = "the list needs one entry per layer, the shape after that layer"
    _refuse(runner, ["one-per-layer"],
            f"{runner.name} returned {len(shapes)} shape{'' if len(shapes) == 1 else 's'} for {len(layers)} layers: {reason}.",
            f"on a hidden stack {runner.name} returned the wrong number of shapes: {reason}.")


@_short_traceback
def check_stack_shapes(stack_shapes, seed=0, hidden=False):
    """Check a learner's ``stack_shapes(input_shape, layers)``: the (C, H, W) after each layer.

    input_shape: (C, H, W); layers: specs ("conv", c_out, k, stride, padding),
    ("pool", size, stride), ("relu",). The answer is a list with one shape per layer
    (lists or tuples of ints, numpy's too). A visible failure names the first wrong
    layer, what it gave and what it should give.
    """
    runner = _Runner(stack_shapes, "stack_shapes", hidden, {"layer_output_shape", "summary"},
                     ready_made="shape calculation (conv_lib.models)", numbers_hidden=True)
    for input_shape, layers in _stack_shapes_cases(seed, hidden):
        shapes = _shape_list(runner, runner.call(tuple(input_shape), [tuple(layer) for layer in layers]))
        expected = _stack_shapes(input_shape, layers)
        if len(shapes) != len(layers):
            _refuse_entry_count(runner, shapes, input_shape, layers)
        for index, (layer, given, right) in enumerate(zip(layers, shapes, expected)):
            if _same_shape(given, right):
                continue
            shape_in = expected[index - 1] if index else tuple(input_shape)
            codes, reasons = _layer_mistakes(layer, shape_in, given)
            if "output-size" in codes:
                reasons[-1] = _stack_size_reason(input_shape, layers, shapes) or reasons[-1]
            _refuse(runner, codes,
                    f"stack_shapes says layer {index + 1} ({_layer_words(layer)}) turns {shape_in} into "
                    f"{_shown(given)}; {'; '.join(reasons)}: it gives {right}.",
                    f"on a hidden stack a {layer[0]} layer gives the wrong shape: {'; '.join(reasons)}.")
        for index, given in enumerate(shapes):
            if not all(_is_whole(value) for value in given):
                _refuse(runner, ["output-size"],
                        f"stack_shapes gives layer {index + 1}'s shape as {_shown(given)}: sizes are whole "
                        "numbers; use // (floor division) so they stay ints",
                        "stack_shapes gives a shape with numbers that are not ints: use // (floor division)")


def _receptive_field(layers, start=1, widen=lambda k, p: k - 1, strides=True, early=False, pools=True):
    """Receptive field of one output after the stack, along one side, in input pixels.

    The rule (the defaults): r = 1, jump j = 1; each conv or pool adds (k - 1) * j, then j *= stride.
    The other arguments give the misconceptions: start (r's first value), widen (what a
    window of k with padding p adds), strides (False: ignored), early (the stride
    applied before the layer's own window), pools (False: pooling layers left out).
    """
    r, jump = start, 1
    for layer in layers:
        if layer[0] == "conv":
            _, _, k, stride, padding = layer
        elif layer[0] == "pool" and pools:
            _, k, stride = layer
            padding = 0
        else:
            continue
        stride = stride if strides else 1
        if early:
            jump *= stride
        r += widen(k, padding) * jump
        if not early:
            jump *= stride
    return r


def _kernels_multiplied(layers):
    product = 1
    for layer in layers:
        if layer[0] in ("conv", "pool"):
            product *= layer[2] if layer[0] == "conv" else layer[1]
    return product


#: (codes, the misconception's receptive field, why it is wrong), most telling first.
_RECEPTIVE_FIELD_MISTAKES = [
    (["stride-ignored"], lambda layers: _receptive_field(layers, strides=False),
     "each layer adds k - 1 no matter the strides before it. After a layer with stride s, neighbouring "
     "outputs are s input pixels apart, so a later window of k adds (k - 1) x jump, where the jump is "
     "the product of the strides of the layers before it"),
    (["kernels-multiplied"], _kernels_multiplied,
     "the kernel sizes are multiplied. Stacked windows overlap: each layer widens the field by "
     "(k - 1) x jump, added to what the layers before it see"),
    (["padding-counted"], lambda layers: _receptive_field(layers, widen=lambda k, p: k - 1 + 2 * p),
     "the padding is counted. Padding adds zeros around a layer's input, it does not widen what one "
     "output sees: leave it out"),
    (["stride-too-early"], lambda layers: _receptive_field(layers, early=True),
     "a layer's stride multiplies the jump before its own window is added. The stride spaces out this "
     "layer's outputs, so it only matters for the layers after it: add (k - 1) x jump, then multiply "
     "the jump by the stride"),
    (["pool-ignored"], lambda layers: _receptive_field(layers, pools=False),
     "the pooling layers are left out. A pool's window widens the field like a conv's (k - 1) x jump, "
     "and its stride multiplies the jump"),
    (["off-by-one"], lambda layers: _receptive_field(layers, start=0),
     "off by one: before any layer an output sees one pixel, so r starts at one, not zero"),
    (["off-by-one"], lambda layers: _receptive_field(layers, start=2),
     "off by one: before any layer an output sees one pixel, so r starts at one"),
    (["off-by-one"], lambda layers: _receptive_field(layers, widen=lambda k, p: k),
     "one too many per layer: a window of k pixels slid over a field of r pixels sees r + k - 1 of them, "
     "so each layer adds (k - 1) x jump, not k x jump"),
    (["off-by-one", "padding-counted"], lambda layers: _receptive_field(layers, widen=lambda k, p: k - 1 + p),
     "the padding is counted (once per layer). Padding adds zeros around a layer's input, it does not "
     "widen what one output sees: leave it out"),
]


def _receptive_field_cases(seed, hidden):
    """(words for the stack, layers) cases."""
    conv3, pool2 = ("conv", 64, 3, 1, 1), ("pool", 2, 2)
    if not hidden:
        vgg16 = []
        for convs in (2, 2, 3, 3, 3):
            vgg16 += [conv3, ("relu",)] * convs + [pool2]
        return [
            ("one 3x3 conv", [conv3]),
            ("two 3x3 convs", [conv3, ("relu",), conv3]),
            ("three 3x3 convs (which see as far as one 7x7)", [conv3, ("relu",), conv3, ("relu",), conv3]),
            ("conv 3x3, conv 3x3, 2x2 pool", [conv3, ("relu",), conv3, ("relu",), pool2]),
            ("VGG16's convolutional part (13 convs of 3x3, 5 pools of 2x2)", vgg16),
            ("conv 3x3 stride 2, conv 3x3 stride 2, conv 3x3",
             [("conv", 8, 3, 2, 1), ("relu",), ("conv", 16, 3, 2, 1), ("relu",), ("conv", 16, 3, 1, 1)]),
            ("conv 11x11 stride 4, pool 3x3 stride 2, conv 5x5 padding 2, pool 3x3 stride 2 (AlexNet)",
             [("conv", 96, 11, 4, 0), ("relu",), ("pool", 3, 2), ("conv", 256, 5, 1, 2), ("relu",), ("pool", 3, 2)]),
        ]
    generator = random.Random(seed)
    cases = []
    while len(cases) < 6:
        layers = []
        for _ in range(generator.randint(3, 8)):
            kind = generator.choice(["conv", "conv", "pool", "relu"])
            if kind == "conv":
                k, padding = generator.choice([(1, 0), (3, 0), (3, 1), (5, 2), (7, 3), (2, 0)])
                layers.append(("conv", 8, k, generator.choice([1, 1, 2, 3]), padding))
            elif kind == "pool":
                layers.append(("pool", generator.choice([2, 3]), generator.choice([1, 2, 3])))
            else:
                layers.append(("relu",))
        if sum(layer[0] in ("conv", "pool") for layer in layers) >= 2:
            cases.append(("a hidden stack", layers))
    return cases


@_short_traceback
def check_receptive_field(receptive_field, seed=0, hidden=False):
    """Check a learner's ``receptive_field(layers)`` -> int, in input pixels along one side.

    layers: specs as in check_stack_shapes. The rule: r = 1, jump = 1; each conv or pool
    with kernel k and stride s does r += (k - 1) * jump, then jump *= s; ReLU and padding
    change nothing. The mistake named is one that explains every case the learner got wrong.
    """
    runner = _Runner(receptive_field, "receptive_field", hidden, set(), numbers_hidden=True)
    cases = _receptive_field_cases(seed, hidden)
    answers = []
    for words, layers in cases:
        given = _whole_or_number(runner, runner.call([tuple(layer) for layer in layers]), "int")
        answers.append((words, layers, given, _receptive_field(layers)))
    wrong = [(words, layers, given, expected) for words, layers, given, expected in answers if given != expected]
    if not wrong:
        for words, layers, given, expected in answers:
            if not _is_whole(given):
                _refuse(runner, ["not-an-array"],
                        f"receptive_field for {words} gives {given!r}: return an int (a number of pixels)",
                        "receptive_field must return an int (a number of pixels)")
        return
    # The mistake that explains every case, else the one that explains the first wrong case.
    consistent = [(codes, reason) for codes, rule, reason in _RECEPTIVE_FIELD_MISTAKES
                  if all(given == rule(layers) for _, layers, given, _ in answers)]
    words, layers, given, expected = wrong[0]
    first = [(codes, reason) for codes, rule, reason in _RECEPTIVE_FIELD_MISTAKES if given == rule(layers)]
    codes, reason = (consistent or first or [(["wrong-values"],
                     "start with r = 1 and jump = 1; per conv or pool, r += (k - 1) * jump, then jump *= stride")])[0]
    _refuse(runner, codes,
            f"receptive_field for {words} should be {expected}, you gave {given}: {reason}.",
            f"receptive_field gives a wrong answer on a hidden stack: {reason}.")


# --------------------------------------------------------------------------
# Notebook 05: vgg16_table and vgg_block
# --------------------------------------------------------------------------

#: VGG16, configuration D of Simonyan & Zisserman (2015): each number a 3x3 conv with
#: that many filters (stride 1, padding 1), each "M" a 2x2 max pool with stride 2;
#: then three fully connected layers. Written out here so that no notebook can change it.
_VGG16_D = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
_VGG16_FC = (4096, 4096, 1000)
_TABLE_KEYS = ("name", "output_shape", "params", "macs")


def _vgg16_rows(input_shape):
    """The expected table, one dict per conv, pool and fully connected layer, in plain Python.

    Keys: name, kind ("conv", "pool", "linear"), shape_in, output_shape, params, macs.
    """
    C, H, W = input_shape
    rows, block, index = [], 1, 0
    for entry in _VGG16_D:
        shape_in = (C, H, W)
        if entry == "M":
            H, W = _output_size(H, 2, 0, 2), _output_size(W, 2, 0, 2)
            rows.append(dict(name=f"pool{block}", kind="pool", shape_in=shape_in, output_shape=(C, H, W), params=0, macs=0))
            block, index = block + 1, 0
            continue
        index += 1
        H, W = _output_size(H, 3, 1, 1), _output_size(W, 3, 1, 1)
        rows.append(dict(name=f"conv{block}_{index}", kind="conv", shape_in=shape_in, output_shape=(entry, H, W),
                         params=entry * (C * 3 * 3 + 1), macs=H * W * entry * C * 3 * 3))
        C = entry
    n_in = C * H * W  # flatten
    for number, n_out in enumerate(_VGG16_FC, start=block):
        rows.append(dict(name=f"fc{number}", kind="linear", shape_in=(n_in,), output_shape=(n_out,),
                         params=n_out * (n_in + 1), macs=n_in * n_out))
        n_in = n_out
    return rows


def _table_rows(runner, answer):
    """The learner's rows as dicts with name, output_shape, params and macs; a Misconception if no table."""
    if answer is None:
        raise Misconception(["no-return"], f"{runner.name} returned None: did you forget `return`?")
    if not isinstance(answer, (list, tuple)):
        _refuse(runner, ["not-a-table"],
                f"{runner.name} must return a list of rows, one per layer, got {type(answer).__name__}")
    keys = "each row is a dict with the keys 'name', 'output_shape', 'params' and 'macs'"
    rows = []
    for index, row in enumerate(answer):
        missing = [key for key in _TABLE_KEYS if (key not in row if isinstance(row, dict) else not hasattr(row, key))]
        if missing:
            _refuse(runner, ["not-a-table"],
                    f"row {index} of the table ({type(row).__name__} {row!r:.60}) has no {' and no '.join(map(repr, missing))}: {keys}",
                    f"a row of the table has no {' and no '.join(map(repr, missing))}: {keys}")
        values = {key: row[key] if isinstance(row, dict) else getattr(row, key) for key in _TABLE_KEYS}
        name, shape = values["name"], values["output_shape"]
        if not isinstance(name, str):
            _refuse(runner, ["not-a-table"], f"row {index} has the name {name!r}: a name is a string, such as 'conv1_1'",
                    "a row's name is not a string: names are strings such as 'conv1_1'")
        shape = shape.tolist() if isinstance(shape, np.ndarray) else shape
        if not isinstance(shape, (tuple, list)) or not shape or not all(_is_number(value) for value in shape):
            _refuse(runner, ["not-a-table"],
                    f"the output_shape of {name} is {shape!r}: a tuple of ints, such as (64, 224, 224), or (4096,) "
                    "for a fully connected layer",
                    f"the output_shape of {name} is not a tuple of ints, such as (C, H, W), or (n,) for a fully connected layer")
        if not all(_is_whole(value) for value in shape):
            _refuse(runner, ["output-size"], f"the output_shape of {name} is {_shown(shape)}: sizes are whole numbers; "
                    "use // (floor division) so they stay ints",
                    f"the output_shape of {name} holds numbers that are not ints: use // (floor division)")
        for key in ("params", "macs"):
            if not _is_whole(values[key]):
                _refuse(runner, ["not-a-table"], f"{key} of {name} is {values[key]!r}: a count, an int",
                        f"{key} of {name} is not an int: it is a count")
        rows.append(dict(name=name.strip().lower(), output_shape=tuple(int(v) for v in shape),
                         params=int(values["params"]), macs=int(values["macs"])))
    return rows


def _known_rows(runner, rows, expected):
    """The learner's rows for VGG16's conv, pool and fc layers, in order; extra rows must count nothing."""
    names = [row["name"] for row in expected]
    for row in rows:
        if row["name"] in names or (row["params"] == 0 and row["macs"] == 0):
            continue
        if row["name"].startswith(("relu", "flatten", "drop")):
            _refuse(runner, ["wrong-values"],
                    f"row {row['name']} has {row['params']:,} params and {row['macs']:,} macs: a ReLU, flatten or "
                    "dropout has no weights and does no multiply-accumulates, so both are zero",
                    f"row {row['name']} counts params or macs: a ReLU, flatten or dropout has no weights and does "
                    "no multiply-accumulates, so both are zero")
        _refuse(runner, ["not-a-table"],
                f"row {row['name']!r} is no layer of VGG16: the rows are named conv1_1, conv1_2, pool1, conv2_1, "
                "..., pool5, fc6, fc7, fc8",
                "a row of the table is named after no layer of VGG16: the rows are named conv1_1, conv1_2, "
                "pool1, conv2_1, ..., pool5, fc6, fc7, fc8")
    known = [row for row in rows if row["name"] in names]
    found = [row["name"] for row in known]
    if found != names:
        missing = [name for name in names if name not in found]
        twice = [name for name in names if found.count(name) > 1]
        problem = (f"it has no row {missing[0]}" if missing else f"{twice[0]} comes twice" if twice
                   else "its rows are in another order")
        _refuse(runner, ["not-a-table"],
                "the table needs one row per conv, pool and fully connected layer, named conv1_1, conv1_2, pool1, "
                f"conv2_1, ..., pool5, fc6, fc7, fc8, in this order (ReLU and flatten rows may be added): {problem}")
    return known


def _fc_input_mistakes(row, expected, input_shape):
    """(wrong n_in, why) for fc6: what else a learner may think flatten hands over."""
    if row["name"] != "fc6":
        return []
    C, H, W = next(other for other in expected if other["name"] == "pool5")["output_shape"]
    flat = C * H * W
    wrong = [
        (C, f"fc6's input is counted as the {C} channels of pool5: flatten hands over all of pool5's "
            f"C*H*W = {C}*{H}*{W} = {flat:,} numbers"),
        (H * W, f"fc6's input is counted as one channel's {H}*{W}: flatten hands over all "
                f"C*H*W = {C}*{H}*{W} = {flat:,} numbers"),
        (math.prod(input_shape), f"fc6's input is counted as the image's {'*'.join(map(str, input_shape))} numbers: "
                                 f"fc6 sees pool5's output, flattened, C*H*W = {flat:,}"),
        (512 * 7 * 7, "fc6's input is taken as 512*7*7 = 25,088, pool5's size for a 224 x 224 image: "
                      f"flatten pool5's output for this input, C*H*W = {flat:,}"),
    ]
    unique = []
    for value, why in wrong:
        if value != flat and value not in [seen for seen, _ in unique]:
            unique.append((value, why))
    return unique


def _params_mistakes(row, expected, input_shape):
    """(wrong params, codes, reason) for one row of the table."""
    if row["kind"] == "conv":
        return _conv_params_mistakes(row["shape_in"][0], row["output_shape"][0], 3)
    n_in, n_out = row["shape_in"][0], row["output_shape"][0]
    mistakes = [
        (n_out * n_in, ["missing-bias"], "the biases are missing: each output number has one"),
        (n_out * n_in + 1, ["missing-bias"], "one bias for the whole layer: each output number has its own"),
    ]
    for wrong_n_in, why in _fc_input_mistakes(row, expected, input_shape):
        mistakes.append((n_out * (wrong_n_in + 1), ["fc-input-size"], why))
        mistakes.append((n_out * wrong_n_in, ["fc-input-size", "missing-bias"], why + "; and each output has a bias"))
    return mistakes


def _macs_mistakes(row, expected, input_shape):
    """(wrong macs, codes, reason) for one row of the table."""
    flops = (["macs-wrong"], "that counts FLOPs: a multiply-accumulate is one multiply and one add; FLOPs would be "
                             "twice. Count each multiply-add once")
    if row["kind"] == "conv":
        c_in, (c_out, Ho, Wo) = row["shape_in"][0], row["output_shape"]
        right = Ho * Wo * c_out * c_in * 9
        return [
            (2 * right, *flops),
            (c_out * c_in * 9, ["macs-wrong"], "counted once per output map instead of once per output number: each of "
                                               "the Ho*Wo*C_out output numbers takes C_in*k*k multiply-accumulates"),
            (Ho * Wo * c_in * 9, ["macs-wrong"], "that is one filter's count: each of the C_out filters makes its own map"),
            (Ho * Wo * c_out * 9, ["filter-depth"], "each output number sums over all C_in input channels: "
                                                     "C_in*k*k multiply-accumulates, not k*k"),
            (Ho * Wo * c_out * (c_in * 9 + 1), ["macs-wrong"], "the bias is counted: adding it is no multiply-accumulate; "
                                                                "count C_in*k*k per output number"),
        ]
    n_in, n_out = row["shape_in"][0], row["output_shape"][0]
    mistakes = [
        (2 * n_in * n_out, *flops),
        (n_out * (n_in + 1), ["macs-wrong"], "the bias is counted: adding it is no multiply-accumulate; count n_in per output"),
    ]
    for wrong_n_in, why in _fc_input_mistakes(row, expected, input_shape):
        mistakes.append((n_out * wrong_n_in, ["fc-input-size"], why))
    return mistakes


def _rule_words(row, column):
    """How the right count of one row is made, with its numbers."""
    if row["kind"] == "pool":
        return "0"
    if row["kind"] == "conv":
        c_in, (c_out, Ho, Wo) = row["shape_in"][0], row["output_shape"]
        if column == "params":
            return f"{c_out} filters x ({c_in}*3*3 weights + 1 bias) = {row['params']:,}"
        return f"{Ho}*{Wo} positions x {c_out} filters x {c_in}*3*3 multiply-accumulates = {row['macs']:,}"
    n_in, n_out = row["shape_in"][0], row["output_shape"][0]
    if column == "params":
        return f"{n_out} outputs x ({n_in:,} weights + 1 bias) = {row['params']:,}"
    return f"{n_in:,} inputs x {n_out} outputs = {row['macs']:,}"


def _check_table_column(runner, column, rows, known, expected, standard, input_shape):
    """The first row whose params (or macs) are wrong, named with the misconception behind it."""
    for got, row, usual in zip(known, expected, standard):
        if got[column] == row[column]:
            continue
        mistakes = (_params_mistakes if column == "params" else _macs_mistakes)(row, expected, input_shape)
        if row["kind"] == "pool":
            mistakes = [(got[column], ["pool-has-params"],
                         "a max pool only compares numbers: it has no weights and does no multiply-accumulates")]
        if standard is not expected:
            mistakes.append((usual[column], ["input-shape-ignored"], "the count is the one for the default input: use input_shape"))
        codes, reason = next(((codes, reason) for value, codes, reason in mistakes if value == got[column]),
                             (["wrong-values"], "count again: " + ("weights plus one bias per output" if column == "params"
                                                                  else "one multiply-accumulate per weight per output position")))
        total, right_total = sum(r[column] for r in rows), sum(r[column] for r in expected)
        if "fc-input-size" in codes:
            hidden_reason = ("fc6's input is pool5's output flattened, C*H*W numbers, and those depend on the input size"
                             + ("; and each output has a bias" if "missing-bias" in codes else ""))
        else:
            hidden_reason = reason
        _refuse(runner, codes,
                f"vgg16_table's row {row['name']} has {got[column]:,} {column}, but it should be "
                f"{_rule_words(row, column)}: {reason}. (Your table's total is {total:,} {column}; it should be {right_total:,}.)",
                f"on a hidden input size, row {row['name']} has the wrong {column}: {hidden_reason}.")


def _check_table_shapes(runner, known, expected, standard):
    """The first row whose output_shape is wrong, named with the misconception behind it."""
    for got, row, usual in zip(known, expected, standard):
        given = got["output_shape"]
        if given == row["output_shape"]:
            continue
        if len(given) != len(row["output_shape"]):
            _refuse(runner, ["not-a-table"],
                    f"the output_shape of {row['name']} is {given}: a conv or pool layer gives (C, H, W), a fully "
                    "connected layer (n,)")
        if standard is not expected and given == usual["output_shape"]:
            codes, reasons = ["input-shape-ignored"], ["the shapes are the ones for the default input: start from input_shape"]
        elif row["kind"] == "linear":
            codes, reasons = ["output-size"], ["a fully connected layer with n outputs gives n numbers, shape (n,)"]
        else:
            layer = ("conv", row["output_shape"][0], 3, 1, 1) if row["kind"] == "conv" else ("pool", 2, 2)
            codes, reasons = _layer_mistakes(layer, row["shape_in"], given)
        _refuse(runner, codes,
                f"vgg16_table's row {row['name']} has output_shape {given}, but on an input of {row['shape_in']} "
                f"it gives {row['output_shape']}: {'; '.join(reasons)}.",
                f"on a hidden input size, row {row['name']} has the wrong output_shape: {'; '.join(reasons)}.")


@_short_traceback
def check_vgg16_table(vgg16_table, seed=0, hidden=False):
    """Check a learner's ``vgg16_table(input_shape=(3, 224, 224))``: one row per layer of VGG16.

    Each row is a dict (or an object with these attributes, like conv_lib.models.LayerRow)
    with name ("conv1_1", ..., "pool5", "fc6", "fc7", "fc8"), output_shape (a tuple),
    params and macs (ints). ReLU and flatten rows may be added with 0 params and 0 macs.
    The visible check calls vgg16_table(); the hidden one also calls it with two other
    input sizes ((3, 32, 32) and one chosen by seed).
    """
    runner = _Runner(vgg16_table, "vgg16_table", hidden, {"summary", "layer_params", "layer_macs", "layer_output_shape"},
                     ready_made="table (conv_lib.models)", numbers_hidden=True)
    standard = _vgg16_rows((3, 224, 224))
    inputs = [None]
    if hidden:
        inputs += [(3, 32, 32), random.Random(seed).choice([(3, 64, 64), (1, 64, 96), (3, 96, 96), (3, 100, 120), (1, 48, 48)])]
    for input_shape in inputs:
        rows = _table_rows(runner, runner.call() if input_shape is None else runner.call(input_shape))
        input_shape = input_shape or (3, 224, 224)
        expected = _vgg16_rows(input_shape)
        known = _known_rows(runner, rows, expected)
        usual = standard if input_shape != (3, 224, 224) else expected
        _check_table_shapes(runner, known, expected, usual)
        for column in ("params", "macs"):
            _check_table_column(runner, column, rows, known, expected, usual, input_shape)


def _relu(grid):
    return [[max(value, 0) for value in row] for row in grid]


def _vgg_block(x, weights, biases, relu="each", bias=True, padding=1, convs=None, pool=max):
    """A VGG block on the batch x, in plain Python: each image through n x [3x3 conv, ReLU], then a pool.

    The defaults are the rule. The other values give the misconceptions: relu "none", "end"
    (after the last conv only) or "before-bias" (ReLU, then the bias); bias False; padding 0;
    convs 1 (only the first conv); pool None (no pool) or _mean (average pooling).
    """
    layers = list(zip(weights, biases))[:convs]
    out = []
    for image in x:
        maps = image
        for index, (w, b) in enumerate(layers):
            sums = [_add(*[_corr(maps[c], w[f][c], padding) for c in range(len(maps))]) for f in range(len(w))]
            if relu == "before-bias":
                maps = [_plus(_relu(total), b[f] if bias else 0) for f, total in enumerate(sums)]
                continue
            maps = [_plus(total, b[f] if bias else 0) for f, total in enumerate(sums)]
            if relu == "each" or (relu == "end" and index == len(layers) - 1):
                maps = [_relu(m) for m in maps]
        out.append([_pool(m, 2, 2, pool) for m in maps] if pool else maps)
    return out


def _vgg_block_cases(seed, hidden):
    """(x, weights, biases) cases; weights[i]: C_out_i filters of C_in_i kernels of 3x3."""
    generator = random.Random(seed)
    shapes = [(1, 1, 4, 4, [2]), (2, 2, 6, 6, [3, 2]), (1, 3, 8, 6, [2, 3, 2]), (2, 2, 7, 8, [2, 2])]
    if hidden:
        shapes = [(2, 3, 6, 8, [2, 3]), (1, 2, 8, 8, [3, 2, 2]), (2, 1, 4, 6, [3]), (1, 2, 5, 7, [2, 2])]
    cases = []
    for N, C, rows, columns, filters in shapes:
        x = [[_random_grid(generator, rows, columns) for _ in range(C)] for _ in range(N)]
        weights, biases, channels = [], [], C
        for count in filters:
            weights.append([[_random_grid(generator, 3, 3, -2, 2) for _ in range(channels)] for _ in range(count)])
            biases.append([generator.randint(-4, 2) + 0.5 for _ in range(count)])
            channels = count
        cases.append((x, weights, biases))
    return cases


def _vgg_block_candidates(x, weights, biases, expected):
    """What a learner holding each misconception would return for vgg_block."""
    n, rows, columns = len(weights), len(x[0][0]), len(x[0][0][0])

    def block(**options):
        return _vgg_block(x, weights, biases, **options)

    yield from _batch_candidates("vgg_block", expected)
    yield (["pool-missing"], block(pool=None),
           "vgg_block leaves out the max pool: after the convolutions a 2x2 max pool with stride 2 halves the height and the width")
    yield ["relu-missing"], block(relu="none"), "vgg_block has no ReLU: each convolution is followed by a ReLU, max(x, 0)"
    if n > 1:
        yield (["relu-missing"], block(relu="end"),
               "vgg_block applies the ReLU only at the end: each convolution is followed by its own ReLU, "
               "before the next convolution sees its output")
    yield (["relu-before-bias"], block(relu="before-bias"),
           "vgg_block applies the ReLU before adding the bias: the bias belongs to the convolution, relu(conv + b)")
    yield ["missing-bias"], block(bias=False), "vgg_block leaves out the biases: convolution i adds biases[i][f] to its map f"
    if n > 1:
        yield (["block-incomplete"], block(convs=1),
               "vgg_block applies only the first convolution: the block runs all of them in turn, each on "
               "the output of the one before")
    if min(rows, columns) >= 2 * n + 2:
        yield (["padding-missing"], block(padding=0),
               "vgg_block does not pad: each 3x3 convolution uses padding 1, which keeps the height and the width")
    yield ["avg-not-max"], block(pool=_mean), "vgg_block averages each window: the block ends with a max pool"


def _vgg_block_size_mistake(given, x, weights, expected):
    """(codes, explanation) when only the height and width of the answer are wrong in a known way, else None."""
    n, rows, columns = len(weights), len(x[0][0]), len(x[0][0][0])
    shape = _shape(expected)
    if given.ndim != 4 or given.shape[:2] != shape[:2]:
        return None
    if given.shape[2:] == (rows, columns):
        return ["pool-missing"], ("vgg_block keeps the height and the width: the block ends with a 2x2 max pool "
                                  "with stride 2, which halves them")
    if given.shape[2:] == ((rows - 2 * n) // 2, (columns - 2 * n) // 2):
        return ["padding-missing"], ("vgg_block's convolutions shrink the maps: each 3x3 convolution uses padding 1, "
                                     "which keeps the height and the width")
    return None


def _fits(mistake, entry):
    """Does the mistake (codes, explanation) give the learner's answer in this case, where it applies?"""
    x, weights, biases, given, expected = entry
    answers = [answer for codes, answer, explanation in _vgg_block_candidates(x, weights, biases, expected)
               if (codes, explanation) == mistake]
    return not answers or any(_same(given, answer) for answer in answers)


@_short_traceback
def check_vgg_block(vgg_block, seed=0, hidden=False, picture=None):
    """Check a learner's ``vgg_block(x, weights, biases)``; raise Misconception if wrong.

    vgg_block: x (N, C, H, W); weights a list of n arrays (C_out_i, C_in_i, 3, 3); biases a
    list of n arrays (C_out_i,) -> n x [3x3 conv with padding 1, ReLU], then a 2x2 max pool
    with stride 2: (N, C_out_n, H // 2, W // 2). Calling conv_lib's conv2d, relu and
    max_pool2d is allowed. Arguments as in check_conv2d.
    """
    runner = _Runner(
        vgg_block, "vgg_block", hidden, None, numbers_hidden=True,
        hint=". weights[i] has shape (C_out, C_in, 3, 3) and biases[i] shape (C_out,); each convolution uses "
             "padding 1 and is followed by a ReLU; then a 2x2 max pool with stride 2.",
    )
    answered = []  # (x, weights, biases, given, expected) for each case
    for x, weights, biases in _vgg_block_cases(seed, hidden):
        try:
            given = runner.array(np.array(x, dtype=float), [np.array(w, dtype=float) for w in weights],
                                 [np.array(b, dtype=float) for b in biases])
        except Misconception:
            if any(not _same(entry[3], entry[4]) for entry in answered):
                break  # explain the wrong answer already given
            raise
        answered.append((x, weights, biases, given, _vgg_block(x, weights, biases)))
    wrong = [entry for entry in answered if not _same(entry[3], entry[4])]
    if not wrong:
        return
    x, weights, biases, given, expected = wrong[0]
    matches = [(codes, explanation) for codes, answer, explanation in _vgg_block_candidates(x, weights, biases, expected)
               if _same(given, answer)]
    if matches:
        # One case can fit two mistakes (when every window holds a positive number, a ReLU
        # before the bias looks like no ReLU at all): name the one that fits every case.
        codes, explanation = next((match for match in matches if all(_fits(match, entry) for entry in answered)), matches[0])
        _fail(runner, codes, explanation, expected, given, picture)
    mistake = _vgg_block_size_mistake(given, x, weights, expected)
    if mistake is not None:
        _fail(runner, mistake[0], mistake[1], expected, given, picture)
    case = f"x of shape {_shape(x)} and {len(weights)} convolution(s) with weights of shapes {[_shape(w) for w in weights]}"
    _unexplained(runner, case, given, expected, picture)


# --------------------------------------------------------------------------
# Notebook 06: conv2d_backward and he_init
# --------------------------------------------------------------------------

_GRADIENTS = ("dx", "dw", "db")
#: The names of each gradient's axes, for "dw is wrong for filter 1, channel 0, at (row 0, column 2)".
_GRADIENT_AXES = {"dx": ("image", "channel", "row", "column"), "dw": ("filter", "channel", "row", "column"),
                  "db": ("filter",)}
#: Each gradient has the shape of what it is the gradient of.
_GRADIENT_SHAPES = {"dx": "the shape of x, (N, C_in, H, W)", "dw": "the shape of w, (C_out, C_in, kH, kW)",
                    "db": "the shape of b, (C_out,): one number per filter"}
#: Each gradient's rule, for a wrong answer that no known misconception explains.
_GRADIENT_RULES = {
    "db": "db[f] is the sum of dout[n, f, i, j] over every image n and every position (i, j)",
    "dw": "dw[f, c, u, v] adds, over every image n and every position (i, j), dout[n, f, i, j] times the "
          "padded x[n, c] at row i*stride + u, column j*stride + v",
    "dx": "each dout[n, f, i, j] sends dout[n, f, i, j] * w[f, c] back onto the window of the padded x[n, c] "
          "it came from (top left corner at row i*stride, column j*stride); dx[n, c] adds these over every "
          "filter f and position (i, j), and then the padding is cropped off",
}


def _weight_part(x_map, dout_map, kH, kW, stride):
    """One image's share of dw[f][c], (kH, kW) lists.

    x_map: the padded channel c of the image (Hp x Wp lists); dout_map: map f of dout (Ho x Wo).
    [u][v] = sum over positions (i, j) of dout_map[i][j] * x_map[i*stride + u][j*stride + v].
    """
    positions = [(i, j, g) for i, row in enumerate(dout_map) for j, g in enumerate(row)]
    return [[sum(g * x_map[i * stride + u][j * stride + v] for i, j, g in positions) for v in range(kW)]
            for u in range(kH)]


def _spread(dout_map, kernel, rows, columns, stride):
    """One filter's share of a padded channel of dx, (rows, columns) lists.

    Each dout_map[i][j] (Ho x Wo) times kernel (kH x kW) is added onto the window whose
    top left corner is (i*stride, j*stride): the window it came from.
    """
    out = [[0] * columns for _ in range(rows)]
    for i, row in enumerate(dout_map):
        for j, g in enumerate(row):
            for u, kernel_row in enumerate(kernel):
                for v, value in enumerate(kernel_row):
                    out[i * stride + u][j * stride + v] += g * value
    return out


def _crop(grid, padding):
    """A padded map (lists) without its `padding` outer rows and columns."""
    if padding == 0:
        return grid
    return [row[padding:-padding] for row in grid[padding:-padding]]


def _db(dout, images=None, scale=1):
    """db (C_out,): db[f] = scale * the sum over images n (all, or those listed) and positions of dout[n][f].

    dout: N images of C_out maps (Ho x Wo lists). The defaults are the rule.
    """
    images = range(len(dout)) if images is None else images
    return [scale * sum(sum(sum(row) for row in dout[n][f]) for n in images) for f in range(len(dout[0]))]


def _dw(dout, xpad, shape, stride, pairs=None, images=None, scale=1):
    """dw (C_out, C_in, kH, kW) lists.

    dout: (N, C_out, Ho, Wo) lists; xpad: the padded x, (N, C_in, Hp, Wp) lists; shape: w's shape.
    dw[f][c] = scale * the sum over images n and over (map m, channel d) in pairs(f, c) of
    _weight_part(xpad[n][d], dout[n][m]). The defaults are the rule: pairs(f, c) = [(f, c)],
    every image, scale 1; the other values give the misconceptions.
    """
    C_out, C_in, kH, kW = shape
    pairs = pairs or (lambda f, c: [(f, c)])
    images = range(len(dout)) if images is None else images
    return [[_scale(_add(*[_weight_part(xpad[n][d], dout[n][m], kH, kW, stride) for n in images for m, d in pairs(f, c)]),
                    scale) for c in range(C_in)] for f in range(C_out)]


def _dx(dout, w, padded_size, stride, padding, filters=None, kernel=None, scale=1):
    """dx (N, C_in, H, W) lists; with padding 0 where the rule pads, the padded dx (N, C_in, Hp, Wp).

    dout: (N, C_out, Ho, Wo) lists; w: (C_out, C_in, kH, kW) lists; padded_size: (Hp, Wp).
    dx[n][c] = the padding cropped off scale * the sum over filters f in filters(c) of
    _spread(dout[n][f], kernel(w[f][c])). The defaults are the rule: every filter, w as it
    is, scale 1; the other values give the misconceptions.
    """
    C_out, C_in = len(w), len(w[0])
    filters = filters or (lambda c: range(C_out))
    kernel = kernel or (lambda k: k)
    rows, columns = padded_size
    return [[_crop(_scale(_add(*[_spread(image[f], kernel(w[f][c]), rows, columns, stride) for f in filters(c)]), scale),
                   padding) for c in range(C_in)] for image in dout]


def _backward_cases(seed, hidden):
    """(dout, x, w, b, stride, padding) cases as nested lists; dout has the shape of the layer's output.

    Whole numbers everywhere, as in the forward checks; b's values play no part in the gradients.
    """
    generator = random.Random(seed)
    shapes = [  # N, C_in, C_out, H, W, kH, kW, stride, padding
        (1, 1, 1, 4, 4, 2, 2, 1, 0),
        (2, 2, 3, 5, 4, 3, 3, 1, 0),
        (2, 3, 3, 5, 5, 3, 3, 1, 1),
        (1, 2, 2, 6, 5, 3, 2, 2, 1),  # the last row and column of the padded x are in no window
        (2, 3, 2, 4, 6, 1, 1, 2, 0),
        (2, 2, 2, 6, 6, 2, 2, 2, 1),
    ]
    if hidden:
        shapes = [
            (2, 3, 2, 5, 6, 3, 3, 1, 1),
            (1, 2, 3, 6, 6, 2, 3, 2, 0),
            (2, 2, 2, 5, 5, 3, 3, 2, 1),
            (2, 1, 3, 4, 5, 2, 2, 1, 1),
            (1, 3, 3, 6, 4, 1, 2, 1, 0),
            (2, 2, 1, 3, 3, 3, 3, 1, 1),
        ]
    cases = []
    for N, C_in, C_out, rows, columns, kH, kW, stride, padding in shapes:
        Ho, Wo = _output_size(rows, kH, padding, stride), _output_size(columns, kW, padding, stride)
        x = [[_random_grid(generator, rows, columns) for _ in range(C_in)] for _ in range(N)]
        w = [[_random_grid(generator, kH, kW, -2, 2) for _ in range(C_in)] for _ in range(C_out)]
        b = [generator.randint(-3, 3) + 0.5 for _ in range(C_out)]
        dout = [[_random_grid(generator, Ho, Wo) for _ in range(C_out)] for _ in range(N)]
        cases.append((dout, x, w, b, stride, padding))
    return cases


def _db_candidates(dout):
    """What a learner holding each misconception would return for db."""
    N, C_out = len(dout), len(dout[0])
    Ho, Wo = len(dout[0][0]), len(dout[0][0][0])
    rule = "db[f] is the SUM of dout[n, f, i, j] over every image n of the batch and every position (i, j)"
    if N > 1:
        yield ["db-not-summed"], _db(dout, images=[0]), f"db adds up the first image of the batch only: {rule}"
        yield (["db-not-summed"], _db(dout, scale=1 / N),
               f"db averages over the batch: the bias is added for every image, so its gradient adds up: {rule}")
    yield (["db-not-summed"], _db(dout, scale=1 / (N * Ho * Wo)),
           f"db is the mean of dout: the bias is added at every position of every image, so its gradient adds up: {rule}")
    if N > 1 and Ho * Wo > 1:
        yield ["db-not-summed"], _db(dout, scale=1 / (Ho * Wo)), f"db averages over the positions: {rule}"
    yield (["db-not-summed"], [_db([image]) for image in dout],
           f"db keeps one row per image: sum over the batch too, so that db has one number per filter: {rule}")
    yield (["db-not-summed"], [_add(*[image[f] for image in dout]) for f in range(C_out)],
           f"db keeps one number per position: sum over the positions too, so that db has one number per filter: {rule}")
    yield ["db-not-summed"], dout, f"db is dout itself: {rule}"
    everything = sum(_db(dout))
    for shaped in ([everything, [everything] * C_out] if C_out > 1 else [everything]):
        yield ["db-not-summed"], shaped, f"db adds up every map of dout: {rule}; map f only"
    yield (["db-not-summed"], [sum(_db([image])) for image in dout],
           f"db adds up every map of dout, image by image: {rule}; map f only")


def _dw_candidates(dout, xpad, shape, stride):
    """What a learner holding each misconception would return for dw."""
    C_out, C_in = shape[:2]
    N = len(dout)

    def dw(**options):
        return _dw(dout, xpad, shape, **({"stride": stride} | options))

    if C_in == C_out and C_in > 1:
        yield (["dw-channel-mixup"], dw(pairs=lambda f, c: [(c, f)]),
               "dw[f, c] is computed from channel f of x and map c of dout: it is the other way round. Map f of "
               "dout is filter f's output, and filter f's channel c saw channel c of x")
    if C_in > 1:
        yield (["dw-channel-mixup"], dw(pairs=lambda f, c: [(f, d) for d in range(C_in)]),
               "every channel of a filter gets the same gradient, made from all the channels of x together: "
               "dw[f, c] comes from channel c of x only, the channel that w[f, c] saw")
    if C_out > 1:
        yield (["dw-channel-mixup"], dw(pairs=lambda f, c: [(m, c) for m in range(C_out)]),
               "every filter gets the same gradient, made from all the maps of dout together: dw[f, c] comes "
               "from map f of dout only, the output of filter f")
    if N > 1:
        yield (["dw-batch-not-summed"], dw(images=[0]),
               "dw uses the first image of the batch only: every image adds its own part, so dw[f, c] sums "
               "over the images n")
        yield (["dw-batch-not-summed"], dw(scale=1 / N),
               "dw averages over the batch: the loss adds up the images, so their parts of dw add up too; "
               "do not divide by N")
    if stride > 1:
        yield (["output-size"], dw(stride=1),
               "dw ignores the stride: dout[n, f, i, j] saw the window of x whose top left corner is at "
               "row i*stride, column j*stride")


def _dx_candidates(dout, w, padded_size, stride, padding):
    """What a learner holding each misconception would return for dx."""
    C_out, C_in = len(w), len(w[0])

    def dx(**options):
        return _dx(dout, w, padded_size, **({"stride": stride, "padding": padding} | options))

    flipped = ("dx correlates dout with w: going back, each dout[n, f, i, j] spreads w[f] over the window it "
               "came from, which is the FULL convolution of dout with w, a correlation with w turned upside "
               "down and left to right")
    yield ["dx-not-flipped"], dx(kernel=_flip), flipped
    if padding:
        crop = "dx is the gradient of the padded input: crop the padding off, dx has the shape of x"
        yield ["output-size"], dx(padding=0), crop
        yield ["dx-not-flipped", "output-size"], dx(padding=0, kernel=_flip), f"{flipped}; and {crop}"
    if C_out > 1:
        every = "every filter f has a channel c that saw x[n, c], so dx[n, c] adds the parts of all the filters"
        if C_out >= C_in > 1:
            yield ["dx-channel-sum"], dx(filters=lambda c: [c]), f"dx[n, c] uses filter c only: {every}"
        yield (["dx-channel-sum"], dx(filters=lambda c: [C_out - 1]),
               f"dx[n, c] keeps the part of the last filter only (`=` where `+=` belongs?): {every}")
        yield ["dx-channel-sum"], dx(filters=lambda c: [0]), f"dx[n, c] uses the first filter only: {every}"
        yield ["dx-channel-sum"], dx(scale=1 / C_out), f"dx averages over the filters: {every}"
    if stride > 1:
        yield (["output-size"], dx(stride=1),
               "dx ignores the stride: dout[n, f, i, j] goes back to the window of x whose top left corner is "
               "at row i*stride, column j*stride")


def _gradient_size_mistake(name, given_shape, case_shapes):
    """(codes, explanation) when the shape of a gradient is wrong in a known way, else None.

    case_shapes: dict with N, C_in, C_out, H, W, kH, kW, Ho, Wo, stride, padding.
    """
    s = case_shapes
    N, C_in, C_out, p = s["N"], s["C_in"], s["C_out"], s["padding"]
    if name == "db":
        return ["db-not-summed"], ("db has one number per filter, the shape of b: add up dout over the batch and "
                                   "over the positions, db[f] = the sum of dout[:, f]")
    if name == "dw" and C_in != C_out and given_shape == (C_in, C_out, s["kH"], s["kW"]):
        return ["dw-channel-mixup"], ("dw has its axes in the order (C_in, C_out, kH, kW): dw has the shape of w, "
                                      "(C_out, C_in, kH, kW), and dw[f, c] belongs to w[f, c]")
    if name != "dx":
        return None
    if len(given_shape) == 5 and sorted(given_shape[1:3]) == sorted((C_in, C_out)) and given_shape[3:] == (s["H"], s["W"]):
        return ["dx-channel-sum"], ("dx keeps one map per filter and channel: every filter f has a channel c that saw "
                                    "x[n, c], so dx[n, c] adds the parts of all the filters")
    if len(given_shape) != 4 or given_shape[:2] != (N, C_in):
        return None
    reached = ((s["Ho"] - 1) * s["stride"] + s["kH"], (s["Wo"] - 1) * s["stride"] + s["kW"])
    if p and given_shape[2:] == (s["H"] + 2 * p, s["W"] + 2 * p):
        return ["output-size"], "dx is the gradient of the padded input: crop the padding off, dx has the shape of x"
    if given_shape[2:] in (reached, (reached[0] - 2 * p, reached[1] - 2 * p)):
        return ["output-size"], ("dx leaves out the last rows or columns of x that no window reached: they get a "
                                 "gradient of zero, and dx has the shape of x")
    return None


def _gradient_position(name, index):
    """"filter 1, channel 0, at (row 0, column 2)" for an index into a gradient."""
    named = [f"{axis} {value}" for axis, value in zip(_GRADIENT_AXES[name], index)]
    if len(named) == 4:
        return f"{named[0]}, {named[1]}, at ({named[2]}, {named[3]})"
    return ", ".join(named)


def _gradient_picture(name, expected, given):
    """(expected, given, words) of the first image (dx) or filter (dw) that differs, or None (db, odd shapes)."""
    if name == "db" or given.ndim != 4:
        return None
    expected = np.array(expected, dtype=float)
    first = 0
    if given.shape == expected.shape:
        first = next((i for i in range(len(expected)) if not _same(given[i], expected[i].tolist())), 0)
    if given.shape[0] <= first or 0 in given.shape:
        return None
    return expected[first], given[first], f" ({name} of {'image' if name == 'dx' else 'filter'} {first})"


def _fail_gradient(runner, name, codes, explanation, expected, given, case, picture):
    """Raise the Misconception for a wrong gradient; a visible check names where and draws it first."""
    if runner.hidden:
        raise Misconception(codes, _hidden_words(codes, f"on a hidden case {name} is wrong: {explanation}."))
    shape = _shape(expected)
    if given.shape == shape:
        index, want, got = _first_difference(given, expected)
        where = f"{name} is wrong for {_gradient_position(name, index)}: expected {want}, got {got}"
    else:
        where = f"{name} has shape {given.shape}, but it should have {_GRADIENT_SHAPES[name].split(', (')[0]}, {shape}"
    shown = _gradient_picture(name, expected, given) if picture is not None else None
    if shown is not None:
        picture(shown[0], shown[1], title=" ".join(f"[{code}]" for code in codes) + f" {where}" + shown[2])
    raise Misconception(codes, f"for {case}: {where}. {explanation}.",
                        expected=np.array(expected, dtype=float), given=given)


def _check_gradient(runner, name, given, expected, candidates, case_shapes, case, picture):
    """Explain a wrong gradient by the first misconception that reproduces it exactly, else by its shape or rule."""
    for codes, answer, explanation in candidates:
        if _same(given, answer):
            _fail_gradient(runner, name, codes, explanation, expected, given, case, picture)
    if given.shape != _shape(expected):
        mistake = _gradient_size_mistake(name, given.shape, case_shapes)
        codes, explanation = mistake or (["output-size"], f"{name} has {_GRADIENT_SHAPES[name]}")
        _fail_gradient(runner, name, codes, explanation, expected, given, case, picture)
    _fail_gradient(runner, name, ["wrong-values"], f"{_GRADIENT_RULES[name]}. Recompute that value by hand",
                   expected, given, case, picture)


def _three_gradients(runner, answer, shapes):
    """The learner's answer as {"dx": array, "dw": array, "db": array}; a Misconception when it is not three arrays.

    A tuple or a list of three is accepted. shapes: the expected shape of each gradient.
    """
    if answer is None:
        raise Misconception(["no-return"], f"{runner.name} returned None: did you forget `return dx, dw, db`?")
    order = "conv2d_backward must return the three gradients as a tuple, (dx, dw, db), in this order"
    if not isinstance(answer, (tuple, list)) or len(answer) != 3:
        what = (f"an array of shape {answer.shape}" if isinstance(answer, np.ndarray)
                else f"a {type(answer).__name__} of {len(answer)} items" if isinstance(answer, (tuple, list))
                else f"a {type(answer).__name__}")
        _refuse(runner, ["not-a-tuple"], f"{order}; yours returned {what}", f"{order}: `return dx, dw, db`")
    arrays = {}
    for name, value in zip(_GRADIENTS, answer):
        if value is None:
            _refuse(runner, ["not-an-array"], f"{runner.name} returned None as {name}: compute {name} and return it")
        try:
            arrays[name] = np.array(value, dtype=float)
        except (TypeError, ValueError):
            _refuse(runner, ["not-an-array"],
                    f"{runner.name} must return arrays of numbers, but its {name} is a {type(value).__name__}")
    given = [arrays[name].shape for name in _GRADIENTS]
    wanted = [shapes[name] for name in _GRADIENTS]
    if given != wanted and sorted(given) == sorted(wanted) and len(set(wanted)) == 3:
        _refuse(runner, ["not-a-tuple"],
                f"{order}: yours returned arrays of shapes {given}, which are the shapes of the three gradients "
                f"in another order ({', '.join(f'{name} {shape}' for name, shape in zip(_GRADIENTS, wanted))})",
                f"{order}: yours returns them in another order")
    return arrays


@_short_traceback
def check_conv2d_backward(conv2d_backward, seed=0, hidden=False, picture=None):
    """Check a learner's ``conv2d_backward(dout, x, w, b, stride=1, padding=0)``; raise Misconception if wrong.

    The gradients of out = conv2d(x, w, b, stride, padding) (cross-correlation): dout
    (N, C_out, Ho, Wo), x (N, C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,) (its values
    play no part) -> (dx, dw, db) with the shapes of x, w and b, as a tuple (a list passes too).
    Called as conv2d_backward(dout, x, w, b, stride=stride, padding=padding). Each case
    checks db, then dw, then dx, and names the gradient that is wrong. seed, hidden,
    picture: as in check_conv2d (a picture shows the first image of dx, or filter of dw,
    that differs). The hidden check reports calls to conv_lib's conv2d_backward,
    conv2d_backward_reference and layers' backward methods, and to scipy's, numpy's or
    torch's convolutions (conv_lib's forward conv2d, corr2d and pad2d are allowed).
    """
    runner = _Runner(
        conv2d_backward, "conv2d_backward", hidden, {"conv2d_backward", "conv2d_backward_reference", "backward"},
        ready_made="convolution or backward pass", numbers_hidden=True,
        hint=". dout has shape (N, C_out, Ho, Wo), x (N, C_in, H, W), w (C_out, C_in, kH, kW) and b (C_out,); "
             "return (dx, dw, db) with the shapes of x, w and b.",
    )
    for dout, x, w, b, stride, padding in _backward_cases(seed, hidden):
        answer = runner.call(*(np.array(value, dtype=float) for value in (dout, x, w, b)), stride=stride, padding=padding)
        (N, C_out, Ho, Wo), (_, C_in, H, W), (_, _, kH, kW) = _shape(dout), _shape(x), _shape(w)
        xpad = [[_pad(channel, padding) for channel in image] for image in x]
        padded_size = (H + 2 * padding, W + 2 * padding)
        expected = {"dx": _dx(dout, w, padded_size, stride, padding), "dw": _dw(dout, xpad, _shape(w), stride),
                    "db": _db(dout)}
        given = _three_gradients(runner, answer, {name: _shape(value) for name, value in expected.items()})
        case_shapes = dict(N=N, C_in=C_in, C_out=C_out, H=H, W=W, kH=kH, kW=kW, Ho=Ho, Wo=Wo, stride=stride, padding=padding)
        case = (f"dout of shape {_shape(dout)}, x of shape {_shape(x)}, w of shape {_shape(w)}, "
                f"stride={stride}, padding={padding}")
        candidates = {
            "db": lambda: _db_candidates(dout),
            "dw": lambda: _dw_candidates(dout, xpad, _shape(w), stride),
            "dx": lambda: _dx_candidates(dout, w, padded_size, stride, padding),
        }
        for name in ("db", "dw", "dx"):
            if not _same(given[name], expected[name]):
                _check_gradient(runner, name, given[name], expected[name], candidates[name](), case_shapes, case, picture)


#: check_he_init's tolerances on its large draw (autograder/integrity.py judges with the same ones):
#: the standard deviation within 3% of sqrt(2 / fan_in) (one standard error of the sample's is
#: 1 / sqrt(2 n), 0.4% for 30,000 numbers), the mean within 6 standard errors (the measured
#: standard deviation / sqrt(n)) of 0, and a kurtosis above 2.4 (a normal distribution's is 3,
#: a uniform one's 1.8).
HE_STD_TOLERANCE = 0.03
HE_MEAN_STANDARD_ERRORS = 6
HE_FLAT_KURTOSIS = 2.4

#: Layer sizes (c_out, c_in, k) of the large draws of hidden checks: over 30,000 weights each,
#: and sizes where every wrong scale of _he_std_mistakes is at least 12% from the others and
#: from the right one, so the standard deviation tells them apart.
HE_LARGE_SIZES = ((40, 120, 3), (16, 48, 7), (64, 84, 3), (80, 60, 3), (48, 36, 5), (32, 24, 7), (56, 72, 3))


def _he_init_cases(seed, hidden):
    """(small layer sizes (c_out, c_in, k) for the shape, the large one for the statistics, generator seeds)."""
    generator = random.Random(seed)
    small = [(4, 3, 3), (8, 1, 5), (2, 6, 1)]
    large = (24, 72, 5)  # fan_in 1,800: the standard deviation is sqrt(2 / 1800) = 1/30
    if hidden:
        small = [(5, 2, 3), (3, 7, 1), (6, 4, 5), (1, 3, 2)]
        large = generator.choice(HE_LARGE_SIZES)
    seeds = generator.sample(range(1, 2**31), len(small) + 3)
    return small, large, seeds


def _say(runner, codes, visible, hidden):
    """Raise a Misconception with the visible or the hidden explanation (the hidden one shows rules, no inputs)."""
    raise Misconception(codes, hidden if runner.hidden else visible)


def _he_shape_reason(given, c_out, c_in, k):
    """Why the shape ``given`` of he_init's weights is wrong, in words without the layer's numbers."""
    if given == (c_in, c_out, k, k):
        return "the first axis picks the filter: the weights have shape (c_out, c_in, k, k), c_out filters of c_in channels"
    if given == (k, k, c_in, c_out):
        return "that is the (k, k, c_in, c_out) order of some libraries: here the filters come first, (c_out, c_in, k, k)"
    if len(given) == 2 and math.prod(given) == c_out * c_in * k * k:
        return "the weights are flattened: keep them as (c_out, c_in, k, k), c_out filters of c_in channels of k x k"
    return "a conv layer's weights have shape (c_out, c_in, k, k): c_out filters, each with c_in channels of k x k"


def _he_draw(runner, c_out, c_in, k, rng_seed):
    """he_init(c_out, c_in, k, rng) with a fresh Generator seeded rng_seed, its shape checked; its numbers as a list."""
    given = runner.array(c_out, c_in, k, np.random.default_rng(rng_seed))
    call = f"he_init({c_out}, {c_in}, {k}, rng)"
    if given.shape != (c_out, c_in, k, k):
        reason = _he_shape_reason(given.shape, c_out, c_in, k)
        _say(runner, ["wrong-shape"], f"{call} returned shape {given.shape}, expected {(c_out, c_in, k, k)}: {reason}.",
             f"on a hidden layer size he_init returned the wrong shape: {reason}.")
    values = _flat(given.tolist())
    if not all(math.isfinite(value) for value in values):
        _say(runner, ["wrong-values"], f"{call} returned inf or nan: the weights are numbers drawn from rng.",
             "on a hidden layer size he_init returned inf or nan: the weights are numbers drawn from rng.")
    if len(values) > 1 and len(set(values)) == 1:
        _say(runner, ["wrong-values"],
             f"{call} returned {_number(values[0])} for every weight: the weights are random draws, "
             "rng.standard_normal((c_out, c_in, k, k)) * sqrt(2 / fan_in).",
             "on a hidden layer size he_init returned the same number for every weight: the weights are random "
             "draws, rng.standard_normal((c_out, c_in, k, k)) * sqrt(2 / fan_in).")
    return values


def _check_he_generator(runner, size, seeds):
    """The same seed must give the same weights, another seed other weights: the draws come from rng."""
    first, again, other = (_he_draw(runner, *size, rng_seed) for rng_seed in (seeds[0], seeds[0], seeds[1]))
    if first != again:
        why = ("two generators made with the same seed gave different weights: draw from the rng passed in "
               "(rng.standard_normal or rng.normal), not from np.random's own functions or a generator of your own")
        _say(runner, ["rng-ignored"], f"he_init({size[0]}, {size[1]}, {size[2]}, rng): {why}.", f"{why}.")
    if first == other:
        why = ("generators made with different seeds gave the same weights: do not seed anything inside he_init, "
               "draw from the rng passed in (rng.standard_normal or rng.normal)")
        _say(runner, ["rng-ignored"], f"he_init({size[0]}, {size[1]}, {size[2]}, rng): {why}.", f"{why}.")


def _moments(values):
    """(mean, standard deviation, kurtosis) of a list of numbers, in plain Python; kurtosis nan if all are equal."""
    n = len(values)
    mean = math.fsum(values) / n
    deviations = [value - mean for value in values]
    variance = math.fsum(d * d for d in deviations) / n
    kurtosis = math.fsum(d ** 4 for d in deviations) / n / variance**2 if variance > 0 else math.nan
    return mean, math.sqrt(variance), kurtosis


def _he_std_mistakes(c_out, c_in, k, flat):
    """(codes, the standard deviation that mistake gives, why) for the usual wrong scales.

    flat: the draws look uniform; then the bounds of a uniform distribution taken for
    He's standard deviation are candidates too (codes [] : nothing wrong but the distribution).
    """
    fan_in, fan_out = c_in * k * k, c_out * k * k
    fan = "fan_in is the number of inputs one output number sums over, c_in * k * k"
    mistakes = [
        (["fan-in-wrong"], math.sqrt(2 / fan_out), f"the fan-in is taken as c_out * k * k (the fan-out): {fan}"),
        (["fan-in-wrong"], math.sqrt(2 / c_in),
         f"the fan-in is taken as c_in, without the k * k taps of each channel: {fan}"),
        (["fan-in-wrong"], math.sqrt(2 / c_out), f"the fan-in is taken as c_out: {fan}"),
        (["fan-in-wrong"], math.sqrt(2 / (k * k)),
         f"the fan-in is taken as k * k, one channel's taps: a filter sums over all its channels, so {fan}"),
        (["fan-in-wrong"], math.sqrt(2 / (c_in * k)),
         f"the fan-in is taken as c_in * k: each channel has k * k taps, so {fan}"),
        (["fan-in-wrong"], math.sqrt(2 / (c_out * fan_in)),
         f"the fan-in is taken as all the weights of the layer, c_out * c_in * k * k: {fan}"),
        (["variance-not-std"], 2 / fan_in,
         "the standard deviation is 2 / fan_in, which is the variance: the standard deviation is its square root, "
         "sqrt(2 / fan_in)"),
        (["xavier-not-he"], math.sqrt(1 / fan_in),
         "the standard deviation is sqrt(1 / fan_in), LeCun's scale: He's is sqrt(2 / fan_in), twice the variance, "
         "because a ReLU sets about half of its inputs to zero"),
        (["xavier-not-he"], math.sqrt(2 / (fan_in + fan_out)),
         "the standard deviation is Xavier's (Glorot's) sqrt(2 / (fan_in + fan_out)): He's is sqrt(2 / fan_in), "
         "made for ReLU layers"),
        (["xavier-not-he"], math.sqrt(6 / (fan_in + fan_out)),
         "the standard deviation is sqrt(6 / (fan_in + fan_out)), the bound of Xavier's uniform distribution: "
         "He's is sqrt(2 / fan_in)"),
        (["xavier-not-he", "variance-not-std"], 1 / fan_in,
         "the standard deviation is 1 / fan_in: that is LeCun's variance; He's standard deviation is sqrt(2 / fan_in)"),
    ]
    if flat:
        mistakes += [
            ([], math.sqrt(2 / fan_in), "the standard deviation is right"),
            ([], math.sqrt(2 / fan_in / 3),
             "sqrt(2 / fan_in) is used as the bound b of a uniform distribution on [-b, b], whose standard "
             "deviation is b / sqrt(3)"),
        ]
    return mistakes


def _closest_mistake(std, mistakes):
    """The mistake whose standard deviation is within HE_STD_TOLERANCE of std and closest to it, or None."""
    fitting = [m for m in mistakes if abs(std / m[1] - 1) <= HE_STD_TOLERANCE]
    return min(fitting, key=lambda m: abs(math.log(std / m[1])), default=None)


def _check_he_statistics(runner, size, rng_seed):
    """On a large draw: normal (kurtosis), mean 0, standard deviation sqrt(2 / fan_in), within the tolerances."""
    c_out, c_in, k = size
    values = _he_draw(runner, c_out, c_in, k, rng_seed)
    mean, std, kurtosis = _moments(values)
    right = math.sqrt(2 / (c_in * k * k))
    call = f"he_init({c_out}, {c_in}, {k}, rng) (fan_in = {c_in}*{k}*{k} = {c_in * k * k})"
    shown_mean = f"{mean:.4f}".replace("-0.0000", "0.0000")
    measured = f"its {len(values):,} weights have mean {shown_mean} and standard deviation {std:.4f}"
    rule = f"He's weights have mean 0 and standard deviation sqrt(2 / fan_in) = {right:.4f}"
    flat = kurtosis < HE_FLAT_KURTOSIS
    mean_right = abs(mean) <= HE_MEAN_STANDARD_ERRORS * std / math.sqrt(len(values))
    std_right = abs(std / right - 1) <= HE_STD_TOLERANCE
    if flat:
        uniform = ("the weights are spread evenly, as a uniform distribution's (rng.uniform, rng.random): He's are "
                   "normal, rng.standard_normal((c_out, c_in, k, k)) * sqrt(2 / fan_in)")
        mistake = _closest_mistake(std, _he_std_mistakes(c_out, c_in, k, flat)) if mean_right else None
        codes, why = ["uniform-not-normal"], uniform
        if not mean_right:
            why += "; and their mean is not 0 (rng.random gives numbers in [0, 1))"
        elif mistake is not None and mistake[0]:
            codes, why = codes + mistake[0], f"{why}; and {mistake[2]}"
        _say(runner, codes, f"{call}: {measured}, and they look uniform: {why}.",
             f"on a hidden layer size the weights look uniform: {why}.")
    if not std_right and abs(mean - right) <= HE_MEAN_STANDARD_ERRORS * std / math.sqrt(len(values)):
        why = ("rng.normal's first argument is the mean (loc), its second the standard deviation (scale): "
               "rng.normal(0, sqrt(2 / fan_in), size=(c_out, c_in, k, k))")
        _say(runner, ["wrong-values"], f"{call}: {measured}; {rule}: {why}.",
             f"on a hidden layer size the weights have the standard deviation for their mean: {why}.")
    if not mean_right:
        why = "draw around 0: rng.standard_normal((c_out, c_in, k, k)) * sqrt(2 / fan_in)"
        _say(runner, ["wrong-values"], f"{call}: {measured}; {rule}: {why}.",
             f"on a hidden layer size the weights do not have mean 0: {why}.")
    if not std_right:
        mistake = _closest_mistake(std, _he_std_mistakes(c_out, c_in, k, flat=False))
        codes, why = mistake[0::2] if mistake else (["wrong-values"], "scale standard normal draws by sqrt(2 / fan_in)")
        _say(runner, codes, f"{call}: {measured}; {rule}: {why}.",
             f"on a hidden layer size the weights have the wrong standard deviation: {why}.")


@_short_traceback
def check_he_init(he_init, seed=0, hidden=False):
    """Check a learner's ``he_init(c_out, c_in, k, rng)``; raise Misconception if wrong.

    he_init: ints c_out, c_in, k and a numpy Generator rng -> weights (c_out, c_in, k, k) drawn
    from a normal distribution with mean 0 and standard deviation sqrt(2 / (c_in * k * k)).
    Called by position, each time with a fresh np.random.default_rng(seed). Checks the
    shape on small layers; that the draws come from rng (the same seed twice gives the same
    weights, another seed others); and on a large layer (over 30,000 weights) the mean, the
    standard deviation and the kurtosis within HE_MEAN_STANDARD_ERRORS, HE_STD_TOLERANCE and
    HE_FLAT_KURTOSIS. The hidden check uses other sizes and seeds and reports calls to
    conv_lib's initialisers (conv_lib.models.init_params) and torch's.
    """
    runner = _Runner(he_init, "he_init", hidden, {"he_init", "init_params"},
                     ready_made="initialisation", numbers_hidden=True,
                     instead="Draw the weights from rng yourself: the point of this exercise is the scale.",
                     hint=". he_init(c_out, c_in, k, rng) returns an array of shape (c_out, c_in, k, k); rng is a "
                          "numpy Generator: draw with rng.standard_normal(shape) or rng.normal(0, std, size=shape).")
    small, large, seeds = _he_init_cases(seed, hidden)
    for size, rng_seed in zip(small, seeds):
        _he_draw(runner, *size, rng_seed)
    _check_he_generator(runner, small[0], seeds[len(small):])
    _check_he_statistics(runner, large, seeds[-1])
