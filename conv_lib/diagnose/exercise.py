"""A graded function, described once for the notebook's check and the independent check.

Every graded function of the course has two checks that must agree:

    the notebook's check  check_<name>(function, seed=0, hidden=False, ...) in this package:
                          the learner runs it under the exercise (visible), and nbgrader's
                          hidden test cell runs it again with hidden=True, in the learner's kernel;
    the independent check autograder/integrity.py calls the function again, outside the
                          learner's kernel, on inputs the grader chose (Case), and compares
                          the answers in the grader's own process. A test cell that nbgrader
                          passed but this check fails was forged: the submission is `tampered`.
                          So it must never be stricter than the notebook's check.

An Exercise holds both: its assignment and name, its signature (with its arrays'
shapes), the check, and the builder of the independent check's cases. Each
notebook's module (single_channel, multi_channel, ...) defines its exercises at
its end; the package lists them all in conv_lib.diagnose.EXERCISES.

Here too: the kinds of value a Case may expect (Draws, SameAs, DiffersFrom for a
random result), the Rng argument, and grid(), the independent check's input arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: A Case's expected value when the call must raise ValueError (any subclass passes, as in the notebook's checks).
EXPECTED_ERROR = "ValueError"
#: The refusal of a filter whose depth is not the input's channel count (notebooks 02-04), in Case.refusal's words.
DEPTH_MISMATCH = "the filters' depth differs from the input's channels"


@dataclass(frozen=True)
class Exercise:
    """One graded function of the course.

    assignment: its notebook, solutions/<assignment>/<assignment>.ipynb, whose solution cell
        `name` defines it and whose autograded test cell `test_cell` grades it.
    name: the function's name, also the grade_id of its solution cell.
    signature: how the notebooks call it, with the shapes of its arrays.
    check: the notebook's check, check(function, seed=0, hidden=False, ...) raising a
        Misconception when the function is wrong.
    independent_cases: independent_cases(rng) -> [Case]: the independent check's calls and
        expected answers for a numpy Generator rng (seeded per submission by the grader).
    """

    assignment: str
    name: str
    signature: str
    check: Callable
    independent_cases: Callable

    @property
    def test_cell(self):
        """The grade_id of the autograded test cell that grades this function."""
        return f"{self.name}_tests"


def grid(rng, *shape):
    """float64 array of the given shape with whole values in -3..3, like the notebook checks' inputs."""
    return rng.integers(-3, 4, size=shape).astype(np.float64)


@dataclass(frozen=True)
class Case:
    """One call of a graded function.

    grade_id: the function's solution cell (its Exercise's name); function: its name.
    args, kwargs: each an np.ndarray, int, float, bool, None or str, or a tuple
        or list of these (nested: a list of layer specs, a list of arrays).
    expected: an np.ndarray (int64 for "shapes" and "table" results: compared
        exactly), an int, the string "ValueError" (the call must raise it), a tuple
        of np.ndarrays (an "arrays" result, one per part), or for a random result a
        Draws, SameAs or DiffersFrom.
    result: a key of RESULT_KINDS: how the harness turns the returned value into an array.
    row_names: for a "table" result, the names of the rows compared (conv1_1, ...,
        fc8), in order; the harness leaves out any other row that counts nothing
        (0 params and 0 macs), as check_vgg16_table ignores it.
    part_names: for an "arrays" result, the name of each part, in order (dx, dw, db).
    label: a name by which a SameAs or DiffersFrom of the same function refers to this case.
    refusal: for an expected "ValueError", what is wrong with the call, in words without numbers
        ("the filters' depth differs from the input's channels"), for the message when it is not refused.
    """

    grade_id: str
    function: str
    args: tuple
    kwargs: dict
    expected: object
    result: str = "array"
    row_names: tuple = ()
    part_names: tuple = ()
    label: str = ""
    refusal: str = ""


@dataclass(frozen=True)
class Rng:
    """A case argument: a fresh numpy Generator, np.random.default_rng(seed), made by the harness for each call."""

    seed: int


@dataclass(frozen=True)
class Draws:
    """The expected of a random result: an array of real numbers of exactly this shape, finite,
    and not all equal. With std (a large draw), also as check_he_init wants it: the
    standard deviation within HE_STD_TOLERANCE of std, the mean within HE_MEAN_STANDARD_ERRORS
    standard errors of 0, and a kurtosis of at least HE_FLAT_KURTOSIS (normal, not uniform)."""

    shape: tuple
    std: float | None = None


@dataclass(frozen=True)
class SameAs:
    """The expected of a random result: exactly the array of the case labelled `label` (same function)."""

    label: str


@dataclass(frozen=True)
class DiffersFrom:
    """The expected of a random result: any array but the one of the case labelled `label` (same function)."""

    label: str
