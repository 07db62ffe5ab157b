"""Comparing an answer with the expected one, and the messages that say what is wrong.

same() compares in plain Python (a notebook cannot change the verdict by
replacing numpy). A Verdict gathers the answers of all the cases of one check
and names a misconception only when it fits: the answers that idea would give
equal the learner's on every case where both were computed (a right answer
included). Every problem is listed, one line each, a ready-made call first.
unexplained() describes a wrong answer no misconception explains (its size, or
its first wrong value); fail() and refuse() raise the Misconception, drawing
the expected and the given maps first in a visible check, and keeping numbers
out of a hidden check's message (hidden_words). A visible check's message for a
wrong array answer of an EXPLORABLE function ends with a line to run that shows
the function at work (explore_line; conv_lib.widgets.explore reads EXPLORABLE's
case adapters, and nothing here imports the widgets).
"""

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .codes import CODES, Misconception, listed
from .plain import flatten, shape_of
from .runner import runners_of_this_check


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
    r"\+ ?1\b|- ?1\b|2\*padding|\b(?:conv\d+_\d+|relu\d+(?:_\d+)?|pool\d+|fc\d+)\b|\w+2d\w*\b|[Vv][Gg][Gg]16|\[0\]|max\(x, 0\)"
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


def draw_mismatch(picture, codes, explanation, expected, given):
    """Draw the expected and the given maps, titled with the codes and the explanation's first sentence,
    if a picture maker was given and the answer has maps to show."""
    shown = picture_arrays(expected, given) if picture is not None and given is not None and np.ndim(given) >= 2 else None
    if shown is not None:
        headline = " ".join(f"[{code}]" for code in codes) + " " + explanation.split(". ")[0].rstrip(".")
        picture(shown[0], shown[1], title=headline + shown[2])


def fail(runner, codes, explanation, expected, given, picture):
    """Raise the Misconception; in a visible check, draw it first if a picture maker was given."""
    if runner.hidden:
        raise Misconception(codes, hidden_words(codes, explanation) if runner.numbers_hidden else explanation)
    draw_mismatch(picture, codes, explanation, expected, given)
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


def idea_of(codes, explanation):
    """What makes two candidates, on two cases, the same idea: their codes and their sentence
    with the case's numbers, lists and shapes taken out."""
    return tuple(codes), re.sub(r"[\d\[\](),.\s-]+", " ", explanation).strip()


class _Probe:
    """One case of a check: the learner's answer, the expected one, and the candidate ideas."""

    def __init__(self, case, given, expected, candidates, size_reason, equal):
        self.case, self.given, self.expected = case, given, expected
        self.size_reason, self.equal = size_reason, equal
        self._candidates, self._ideas = candidates, None

    @property
    def right(self):
        return self.equal(self.given, self.expected)

    def candidates(self):
        """[(codes, answer, explanation)], computed once."""
        if self._ideas is None:
            self._ideas = list(self._candidates()) if self._candidates is not None else []
        return self._ideas

    def fits(self, idea):
        """None when the idea was not computed on this case, else whether one of its answers is the learner's."""
        answers = [answer for codes, answer, explanation in self.candidates() if idea_of(codes, explanation) == idea]
        if not answers:
            return None
        return any(self.equal(self.given, answer) for answer in answers)


#: Verdicts judged while this is a list are appended to it (the tests' view of every check's ideas).
RECORDED = None


class Verdict:
    """The answers of every case of one check, judged together.

    case(...) records a case's answer and the ideas that could explain it; problem(...)
    records a problem found outside the cases (a missing depth check); judge() raises one
    Misconception that lists each problem on a line of its own: a ready-made call first,
    then the wrong answers (each named by an idea that fits every case, else described),
    then the other problems. An idea fits when, on every case where it was computed, one
    of its answers equals the learner's: a right answer where the idea would give a wrong
    one rules it out.

    equal(given, answer): do two answers agree (default: same, for arrays);
    describe(probe) -> (codes, explanation): a wrong answer that no idea explains
    (default: its size, or its first wrong value).
    """

    def __init__(self, runner, picture=None, equal=None, describe=None):
        self.runner, self.picture = runner, picture
        self.equal = equal or same
        self.describe = describe or self.describe_array
        self.probes, self.problems = [], []

    def case(self, case, given, expected, candidates=None, size_reason=None):
        """Record one case. candidates: callable -> iterable of (codes, answer, explanation)."""
        self.probes.append(_Probe(case, given, expected, candidates, size_reason, self.equal))

    def problem(self, codes, explanation):
        self.problems.append((list(codes), explanation))

    def fitting(self, probe):
        """The candidate of the probe that fits every case and explains the most wrong cases
        (the first one tried among equals), or None."""
        others = [other for other in self.probes if other is not probe]
        best, best_count = None, 0
        for codes, answer, explanation in probe.candidates():
            if not self.equal(probe.given, answer):
                continue
            fits = [other.fits(idea_of(codes, explanation)) for other in others]
            if False in fits:
                continue
            count = sum(1 for other, fit in zip(others, fits) if fit and not other.right)
            if best is None or count > best_count:
                best, best_count = (codes, answer, explanation), count
        return best

    def describe_array(self, probe):
        """(codes, explanation) for a wrong array answer that no idea explains."""
        try:
            unexplained(self.runner, probe.case, probe.given, probe.expected, None, probe.size_reason)
        except Misconception as error:
            return list(error.codes), error.explanation
        raise AssertionError("unexplained always raises")

    def record(self):
        """Let the tests see this verdict's cases and ideas (while RECORDED is a list)."""
        if RECORDED is not None:
            RECORDED.append(self)

    def judge(self):
        self.record()
        found = []  # (codes, explanation, probe or None); a ready-made call is added by short_traceback
        explained = set()
        for probe in self.probes:
            if probe.right or any(probe.fits(idea) for idea in explained):
                continue
            named = self.fitting(probe)
            if named is not None:
                codes, answer, explanation = named
                explained.add(idea_of(codes, explanation))
            else:
                codes, explanation = self.describe(probe)
            if not any(list(codes) == known for known, _, _ in found):
                found.append((list(codes), explanation, probe))
        found += [(codes, explanation, None) for codes, explanation in self.problems]
        if found:
            self.raise_for(found)

    def raise_for(self, found):
        """Raise one Misconception listing the found problems; in a visible check, draw the first wrong answer
        and, when it is an array, end with the line that explores it (explore_line)."""
        runner = self.runner
        hide = runner.hidden and runner.numbers_hidden
        joined = listed([Misconception(codes, hidden_words(codes, explanation) if hide else explanation)
                         for codes, explanation, _ in found])
        first_wrong = next(((codes, explanation, probe) for codes, explanation, probe in found if probe is not None), None)
        if not runner.hidden and first_wrong is not None:
            codes, explanation, probe = first_wrong
            joined.given, joined.expected = probe.given, probe.expected
            if isinstance(probe.given, np.ndarray):
                draw_mismatch(self.picture, codes, explanation, probe.expected, probe.given)
                joined.expected = np.array(probe.expected, dtype=float)
                joined = with_explore_line(joined, runner.name)  # a wrong map: the learner can watch it made
        raise joined


# --------------------------------------------------------------------------
# The functions a learner can watch at work: conv_lib.widgets.explore(function)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Explorable:
    """A graded function whose wrong answer conv_lib.widgets.explore shows window by window.

    as_batch(*args, **kwargs): one call of the check, as one batch convolution
        (x (N, C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,), stride, padding);
        the answer (Ho, Wo), (C_out, Ho, Wo) or (N, C_out, Ho, Wo) gets its missing
        leading axes of length one (any answer: explore prepends them up to four axes).
    axes: the axes of the function's answer, the last of ("image", "filter", "row", "column").
    bias: whether the function adds a bias (corr2d has none).
    """

    as_batch: Callable
    axes: tuple
    bias: bool = True


#: The explorable functions, by name: each one's case adapter, described once. Its check is
#: conv_lib.diagnose's check_<name>; a visible check's message for a wrong array answer
#: ends with explore_line(name).
EXPLORABLE = {
    "corr2d": Explorable(lambda x, k, padding=0, stride=1: (x[None, None], k[None, None], [0.0], stride, padding),
                         ("row", "column"), bias=False),
    "conv2d_multi_in": Explorable(lambda x, w, b=0.0: (x[None], w[None], [b], 1, 0), ("row", "column")),
    "conv2d_multi_out": Explorable(lambda x, w, b: (x[None], w, b, 1, 0), ("filter", "row", "column")),
    "conv2d": Explorable(lambda x, w, b, stride=1, padding=0: (x, w, b, stride, padding),
                         ("image", "filter", "row", "column")),
}


def explore_line(name):
    """The last line of a visible check's message for a wrong array answer of an explorable function:
    one line to run in the notebook (the test cell imports only diagnose and plots)."""
    return f"See your function at work: import conv_lib.widgets; conv_lib.widgets.explore({name})"


def with_explore_line(error, name):
    """error with explore_line(name) as its last line, when the function is explorable; else error itself."""
    if name not in EXPLORABLE:
        return error
    told = Misconception(error.codes, error.explanation + "\n" + explore_line(name), expected=error.expected,
                         given=error.given, first_codes=error.first_codes)
    told.__cause__ = error.__cause__
    return told


def with_ready_made_call(runners, error):
    """error (a Misconception, or None when the check passed) with a first line for a ready-made
    call that one of the check's runners saw; error itself when there was none or it names one."""
    seen = [runner for runner in runners if runner.ready_made_calls]
    if not seen or (error is not None and "reference-call" in error.codes):
        return error
    ready = Misconception(["reference-call"], seen[0].ready_made_message())
    if error is None:
        return ready
    joined = listed([ready, error])
    joined.expected, joined.given = error.expected, error.given  # the picture's numbers stay the wrong answer's
    return joined


def short_traceback(check):
    """Run a check; raise its Misconception with a traceback that ends at the check itself.

    The message is what the learner needs; the frames inside this module would
    only push it off the screen (and out of sight in nbgrader's Validate dialog).
    A ready-made call any of the check's Runners saw heads the message as its own
    problem, [reference-call], whatever else the check found (and even when it found nothing).
    """

    @functools.wraps(check)
    def run(*args, **kwargs):
        with runners_of_this_check() as runners:
            try:
                result = check(*args, **kwargs)
            except Misconception as error:
                raise with_ready_made_call(runners, error).with_traceback(None)  # the learner's crash stays attached
            except NotImplementedError as error:  # the function is still the handed-out stub: one friendly line
                raise NotImplementedError(*error.args).with_traceback(None) from None
            ready = with_ready_made_call(runners, None)
            if ready is not None:
                raise ready.with_traceback(None)
            return result

    return run
