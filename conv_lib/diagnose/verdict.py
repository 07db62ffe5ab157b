"""Comparing an answer with the expected one, and the messages that say what is wrong.

same() compares in plain Python (a notebook cannot change the verdict by
replacing numpy); match_misconception() names the first candidate misconception
that reproduces the learner's answer exactly; unexplained() describes a wrong
answer no misconception explains (its size, or its first wrong value); fail()
and refuse() raise the Misconception, drawing the expected and the given maps
first in a visible check, and keeping numbers out of a hidden check's message
(hidden_words).
"""

import functools
import math
import re

import numpy as np

from .codes import CODES, Misconception
from .plain import flatten, shape_of


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)


def same(given, expected):
    """Does the learner's array equal the expected nested lists (shape and values)?

    Compared in plain Python (ndarray.tolist and math.isclose), so a notebook
    that replaced numpy functions cannot change the verdict.
    """
    if given.shape != shape_of(expected):
        return False
    return all(close(g, e) for g, e in zip(flatten(given.tolist()), flatten(expected)))


def first_difference(given, expected):
    """Index and both values at the first position where the arrays differ."""
    shape = shape_of(expected)
    for flat_index, (g, e) in enumerate(zip(flatten(given.tolist()), flatten(expected))):
        if not close(g, e):
            index = []
            for length in reversed(shape):
                index.append(flat_index % length)
                flat_index //= length
            return tuple(reversed(index)), shown_number(e), shown_number(g)
    raise AssertionError("the arrays are equal")


def shown_number(value):
    value = float(value)
    return int(value) if value.is_integer() else round(value, 4)


def position_words(index):
    words = ("image", "channel", "row", "column")[-len(index):] if len(index) <= 4 else None
    if words is None:
        return str(index)
    return "(" + ", ".join(f"{word} {value}" for word, value in zip(words, index)) + ")"


#: Numbers that belong to a rule, not to an input: "+1", "k - 1", "2*padding", VGG's layer
#: names, function names (max_pool2d), b[0], max(x, 0) and the fixed parts of a VGG block
#: (3x3, padding 1, stride 2).
RULE_NUMBERS = re.compile(
    r"\+ ?1\b|- ?1\b|2\*padding|\b(?:conv\d+_\d+|relu\d+(?:_\d+)?|pool\d+|fc\d+)\b|\w+2d\b|[Vv][Gg][Gg]16|\[0\]|max\(x, 0\)"
    r"|\b[23]x[23]\b|padding 1\b|stride 2\b"
)


def hidden_words(codes, explanation):
    """A hidden check's explanation: as it is if it shows no numbers, else the sentences of its codes."""
    if any(character.isdigit() for character in RULE_NUMBERS.sub("", explanation)):
        return "on a hidden case your answer shows this mistake: " + "; ".join(CODES[code] for code in codes) + "."
    return explanation


def refuse(runner, codes, explanation, hidden_explanation=None):
    """Raise a Misconception for an answer that is not an array (no picture, nothing attached)."""
    if runner.hidden:
        explanation = hidden_words(codes, hidden_explanation or explanation)
    raise Misconception(codes, explanation)


def picture_arrays(expected, given):
    """What a picture of maps can show: of a batch (N, C, H, W), the first image that differs.

    Returns (expected, given, words naming the image) or None when there is nothing a
    picture of (H, W) or (C, H, W) maps could show.
    """
    expected, which = np.array(expected, dtype=float), ""
    if expected.ndim == 4:
        n = 0
        if given.shape == expected.shape:
            n = next((i for i in range(len(expected)) if not same(given[i], expected[i].tolist())), 0)
        expected, which = expected[n], f" (image {n} of the batch)"
        if given.ndim == 4 and given.shape[0] > n:
            given = given[n]
    if expected.ndim not in (2, 3) or given.ndim not in (2, 3) or 0 in given.shape:
        return None
    return expected, given, which


def fail(runner, codes, explanation, expected, given, picture):
    """Raise the Misconception; in a visible check, draw it first if a picture maker was given."""
    if runner.hidden:
        raise Misconception(codes, hidden_words(codes, explanation) if runner.numbers_hidden else explanation)
    shown = picture_arrays(expected, given) if picture is not None and given is not None and np.ndim(given) >= 2 else None
    if shown is not None:
        headline = " ".join(f"[{code}]" for code in codes) + " " + explanation.split(". ")[0].rstrip(".")
        picture(shown[0], shown[1], title=headline + shown[2])
    raise Misconception(codes, explanation, expected=np.array(expected, dtype=float), given=given)


def unexplained(runner, case, given, expected, picture, size_reason=None):
    """The learner's answer differs, and no known misconception explains it.

    size_reason: optional callable (given's last two axes) -> why that size is wrong,
    or None; used when only the height and width of the answer are wrong.
    """
    shape = shape_of(expected)
    if size_reason is not None and given.ndim == len(shape) and given.shape[:-2] == shape[:-2] and given.shape != shape:
        reason = size_reason(given.shape[-2:])
        if reason is not None:
            where = "on a hidden case" if runner.hidden else f"for {case}"
            explanation = (
                f"{where} the output has {given.shape[-2]} x {given.shape[-1]} positions where the rule gives "
                f"{shape[-2]} x {shape[-1]}: {reason}." if not runner.hidden else f"{where} the output has the wrong size: {reason}."
            )
            return fail(runner, ["output-size"], explanation, expected, given, picture)
    if runner.hidden:
        wrong = "output has the wrong shape" if given.shape != shape_of(expected) else "numbers are wrong"
        explanation = f"on a hidden case the {wrong}. Check the rule and the output-size formula by hand."
        codes = ["output-size"] if given.shape != shape_of(expected) else ["wrong-values"]
        raise Misconception(codes, explanation)
    if given.shape != shape_of(expected):
        explanation = (
            f"for {case} the output should have shape {shape_of(expected)}, but yours has shape "
            f"{given.shape}. Check the output-size rule: floor((n + 2*padding - k) / stride) + 1."
        )
        return fail(runner, ["output-size"], explanation, expected, given, picture)
    index, want, got = first_difference(given, expected)
    explanation = (
        f"for {case} the numbers are wrong; first wrong value at {position_words(index)}: expected {want}, "
        f"got {got}. Recompute that value by hand."
    )
    return fail(runner, ["wrong-values"], explanation, expected, given, picture)


def match_misconception(runner, case, given, expected, candidates, picture, size_reason=None):
    """Explain a wrong answer by the first candidate misconception that reproduces it exactly."""
    for codes, answer, explanation in candidates:
        if same(given, answer):
            return fail(runner, codes, explanation, expected, given, picture)
    return unexplained(runner, case, given, expected, picture, size_reason)


def check_case(runner, case, given, expected, candidates, picture, size_reason=None):
    if not same(given, expected):
        match_misconception(runner, case, given, expected, candidates(), picture, size_reason)


def short_traceback(check):
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
