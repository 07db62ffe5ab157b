"""Check each graded function of a submission independently of nbgrader.

Why: nbgrader runs the hidden tests in the student's own kernel, so the
student's code can forge a pass (`get_ipython().set_custom_exc(...)` swallowing
the failure, numpy monkeypatched, ...). This module therefore checks every
graded function a second time:

    cases_for   the grader chooses inputs (seeded by the submission) and
                computes the expected answers, here, in the trusted process:
                each graded function's Exercise (conv_lib.diagnose.EXERCISES,
                one module per notebook) says how;
    prepare     writes the notebook's code cells, the inputs and the harness
                (integrity_harness.py) into a work folder;
    run         (the caller's) runs the harness in a sandbox: it executes the
                student's cells in a fresh process, calls each function where
                nbgrader's test cell of it stands (after the cells before it)
                and saves plain arrays or error names to out/;
    judge       reads out/ back WITHOUT trusting it (regular files only, size
                limits, no pickle, headers checked) and compares, here.

A test cell that nbgrader passed but judge fails marks the submission as
tampered (the caller decides that). Hence the rule for the cases: never
stricter than the nbgrader checks (conv_lib.diagnose); tests/test_exercises.py
holds both checks to it.

The your-own-loops rule is enforced here too, where the student cannot switch
it off: the harness puts tripwires on the ready-made convolutions before the
student's cells run (conv_lib's functions that the function's notebook check
forbids, read from that check: forbidden_calls; other libraries' from
conv_lib.diagnose.runner.READY_MADE_ELSEWHERE), armed only while a graded
function is called. A call is reported on the harness's stderr, which `run`
returns to the grader, and recorded in out/; either fails the function with
a [reference-call] verdict (CheckResult.kind), naming what it called.

A case that failed only because the check hit a limit (time, memory, file
size, the sandbox stopping the run: Ending) fails with a [limit] verdict
rather than a disagreement: the caller withholds the points without calling
the submission tampered. The student's output goes to /dev/null, so printing
exhausts nothing. The inputs are integer-valued float64 arrays with
small biases, as there; the functions are called the way those checks call
them (padding, stride and a pool's size by keyword, the rest by position); a
depth mismatch is the same kind (the input deeper than the filters); an
expected ValueError accepts any subclass of it, as diagnose's isinstance does:
the harness records the names of the error's classes ("kinds"), and the case
passes if "ValueError" is among them; and a table's extra rows that count
nothing are left out, as check_vgg16_table does.

Arguments are plain data: arrays (sent in inputs.npz), JSON numbers, bools,
None and strings, and tuples and lists of these (a layer spec such as
("conv", 64, 3, 1, 1), a list of weight arrays); and Rng(seed), which the
harness turns into a fresh np.random.default_rng(seed) for each call. Results
come back as one array each, or for "arrays" one per part (out/<i>.part<k>.npy);
a case's `result` says how the harness makes it (RESULT_KINDS): np.asarray of
what the function returned, the arrays of a fixed-length tuple (conv2d_backward's
(dx, dw, db)), or, for a list of shapes or a table of layers, a whole-number
array the harness builds row by row.

Random results (he_init) have no one right answer. Their cases expect a
Draws (the shape; on a large draw also the mean, standard deviation and
kurtosis, within conv_lib.diagnose's own tolerances), or a relation to another
case of the same function, named by its label: SameAs (a generator with the
same seed must give the identical array) or DiffersFrom (another seed, another
array). The judge compares the two results read back, here.

Messages name the function, the case number (its out/<i> file) and what was
wrong, with shapes at most (and in a shape list or a table, which row and
column; a table's row by its layer's name, such as conv1_2): never an input or
expected value, and of what the harness wrote (the student's code could have
written it) only an error's class name, and only if it is an identifier.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import shutil
import stat
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from autograder.feedback import is_autograder_test_cell
from autograder.sandbox import STOPPED
from conv_lib.diagnose import (
    EXERCISES,
    HE_FLAT_KURTOSIS,
    HE_MEAN_STANDARD_ERRORS,
    HE_STD_TOLERANCE,
    exercises_of,
)
from conv_lib.diagnose.exercise import EXPECTED_ERROR, DiffersFrom, Draws, Rng, SameAs
from conv_lib.diagnose.runner import READY_MADE_ELSEWHERE, forbidden_by

HARNESS = Path(__file__).with_name("integrity_harness.py")
TRIPWIRES = Path(__file__).with_name("integrity_tripwires.py")  # imported by the harness, beside it
DEFAULT_CELL_SECONDS = 30
OUT = "out"
MISSING_FUNCTION = "function {name} is not defined in the notebook"  # as integrity_harness.MISSING_FUNCTION
READY_MADE = "ready_made.json"  # as integrity_harness.READY_MADE
REFERENCE_CALL = "ReferenceCall"  # as integrity_tripwires.REFERENCE_CALL
#: A tripwire's report on the harness's stderr (integrity_tripwires.REPORT): case, what was called, what ran.
KEPT_STDERR_LINES = ("reference-call ",)
"""The stderr lines sandbox.run must keep whatever follows them: the tripwires' reports."""
REPORT = re.compile(r"^reference-call (\d{1,6}) ([A-Za-z_][\w.<>]{0,199}) ([A-Za-z_][\w.<>]{0,199})$", re.MULTILINE)
#: A name a ready-made call may be shown by: a dotted name in conv_lib or a library of READY_MADE_ELSEWHERE.
LIBRARY_NAME = re.compile(r"(?:%s)\.[\w.<>]{1,199}" % "|".join(
    sorted({"conv_lib", *(module.split(".")[0] for module in READY_MADE_ELSEWHERE)})))
#: The codes that start a verdict's message when a case failed for a reason other than its values.
REFERENCE_CODE, LIMIT_CODE = "[reference-call]", "[limit]"

MAX_RESULT_BYTES = 64 * 2**20
MAX_ERROR_BYTES = 64 * 2**10
MAX_HEADER_BYTES = 10_000
RTOL, ATOL = 1e-6, 1e-9
NUMBER_KINDS, TEXT_KINDS = "biufc", "US"  # numpy dtype kinds; text arrays are saved without pickle too
NOT_NUMBERS = "returned something that is not an array of numbers"
INT64_MAX = np.iinfo(np.int64).max
ERROR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,59}")

#: Each graded function's grade_id -> the grade_id of its nbgrader test cell.
TEST_CELL = {exercise.name: exercise.test_cell for exercise in EXERCISES}

#: Case.result -> what the instructor is told when the harness could not turn
#: the function's return value into that kind of array (integrity_harness.convert_result):
#:   array   np.asarray(returned), numbers;
#:   shapes  a list of (C, H, W) shapes -> int64 (layers, 3);
#:   table   a list of layer rows (dicts or objects with name, output_shape,
#:           params, macs) -> int64 (rows, 5), one row [params, macs, C or n, H, W]
#:           (see conv_lib.diagnose.vgg16.table_row) per row named in Case.row_names or counting params or macs;
#:   arrays  a tuple (or list) of exactly len(Case.part_names) arrays of numbers, each
#:           np.asarray, saved as out/<i>.part<k>.npy ("{parts}" in its message: their names).
RESULT_KINDS = {
    "array": NOT_NUMBERS,
    "arrays": "returned something that is not a tuple of arrays of numbers, ({parts})",
    "shapes": "returned something that is not a list of (C, H, W) shapes of whole numbers",
    "table": "returned something that is not a list of layer rows (name, output_shape, params, macs) "
             "with whole numbers",
}
#: The whole-number arrays' columns, what a row of them is, and the message for
#: the first wrong number in them.
COLUMNS = {"shapes": ("C", "H", "W"), "table": ("params", "macs", "C (or n)", "H", "W")}
ROWS = {"shapes": "shapes (one per layer)",
        "table": "rows named after a layer or counting params or macs (ReLU and flatten rows left out)"}
WRONG_ROW = {
    "shapes": "returned a wrong shape for the layer at index {row} (its {column} is wrong; "
              "one shape per layer, as expected)",
    "table": "returned wrong {column} in the row for {name} (the rows are as many as expected)",
}


@dataclass(frozen=True)
class CheckResult:
    """passed: every case of the function passed; message: "" then, else one line for the instructor.

    kind: why it failed: "" for a disagreement (wrong values, a wrong error, no result),
    "reference-call" when the function called a ready-made convolution (the message starts
    with [reference-call]), "limit" when it failed only by hitting a limit of the check
    (time, memory, file size: the message starts with [limit]).
    """

    passed: bool
    message: str
    kind: str = ""


@dataclass(frozen=True)
class Ending:
    """How the harness's run ended, as the grader saw it from outside the sandbox.

    limit: "" when it ended by itself, else the limit that stopped it ("the time limit of the
    whole check", ...); reported: {case index: (what was called, what ran)}, the tripwires'
    reports read from its stderr.
    """

    limit: str = ""
    reported: dict = field(default_factory=dict)


# --------------------------------------------------------------------------
# Cases: inputs chosen here, by each exercise's independent_cases
# --------------------------------------------------------------------------


def rng_for(seed_text):
    """A numpy Generator seeded by the SHA-256 of seed_text: the same text, the same cases."""
    digest = hashlib.sha256(seed_text.encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest, "big"))


def cases_for(assignment, seed_text):
    """The cases of an assignment, the same for the same seed_text; [] for an assignment without checks.

    One numpy Generator, seeded by seed_text, makes every exercise's cases in turn (exercises_of's order).
    """
    rng = rng_for(seed_text)
    return [case for exercise in exercises_of(assignment) for case in exercise.independent_cases(rng)]


# --------------------------------------------------------------------------
# Preparing the work folder
# --------------------------------------------------------------------------


def cell_source(cell):
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def teaching_cells(reference):
    """{cell id: source} of the reference (source) notebook's code cells that
    nbgrader does not mark: the course's own demonstrations and pictures."""
    if reference is None:
        return {}
    return {
        cell.get("id"): cell_source(cell)
        for cell in reference.cells
        if cell.get("cell_type") == "code" and not cell.get("metadata", {}).get("nbgrader") and cell.get("id")
    }


def harness_cells(notebook, reference=None):
    """Every code cell's source, in order, except nbgrader's autograder test cells.

    reference: the assignment's source notebook, or None. With it, the quick
    pass: a teaching cell the student left exactly as the course wrote it (same
    id, same source, no nbgrader metadata) is replaced by an empty cell, which
    keeps every position but skips its pictures. Graded functions rarely need
    those cells; when a function fails the quick pass, `check` runs the full one.
    """
    unchanged = teaching_cells(reference)
    sources = []
    for cell in notebook.cells:
        if cell.get("cell_type") == "code" and not is_autograder_test_cell(cell):
            source = cell_source(cell)
            skip = not cell.get("metadata", {}).get("nbgrader") and unchanged.get(cell.get("id")) == source
            sources.append("" if skip else source)
    return sources


def cells_before_test_cells(notebook):
    """{test cell grade_id: how many harness cells come before it}: where nbgrader calls the function.

    The harness calls a function's cases at that point, as nbgrader's test cell
    does, so that a later cell rebinding the name (`from conv_lib import corr2d`)
    does not make an honest notebook look tampered.
    """
    positions, count = {}, 0
    for cell in notebook.cells:
        if is_autograder_test_cell(cell):
            positions.setdefault(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id"), count)
        elif cell.get("cell_type") == "code":
            count += 1
    return positions


def encode_argument(value, arrays):
    """A case argument as plain JSON data for the harness (integrity_harness.argument decodes it):

    {"array": name}      an np.ndarray, added to `arrays` (inputs.npz) under that name;
    {"value": value}     a number, bool, None or str;
    {"rng": seed}        an Rng: a fresh np.random.default_rng(seed) in the harness;
    {"tuple": [...]}     a tuple, {"list": [...]} a list, of encoded items (nesting allowed).
    Anything else (a dict, an object) raises TypeError: nothing but plain data goes to the harness.
    """
    if isinstance(value, np.ndarray):
        name = f"a{len(arrays)}"
        arrays[name] = value
        return {"array": name}
    if isinstance(value, Rng):
        if type(value.seed) is not int or not 0 <= value.seed < 2**63:
            raise TypeError("an Rng's seed must be an int in 0 .. 2**63 - 1")
        return {"rng": value.seed}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    if isinstance(value, (tuple, list)):
        return {"tuple" if isinstance(value, tuple) else "list": [encode_argument(item, arrays) for item in value]}
    raise TypeError(f"a case argument must be an array, a number, a bool, None, a str, or a tuple or list of "
                    f"these, not {type(value).__name__}")


def encode_cases(cases, positions):
    """(cases.json's list, {array name: array}) for the harness.

    positions: cells_before_test_cells of the notebook; a case whose test cell is
    not in the notebook is called after all cells.
    """
    arrays = {}
    encoded = [
        {
            "index": index,
            "function": case.function,
            "args": [encode_argument(value, arrays) for value in case.args],
            "kwargs": {key: encode_argument(value, arrays) for key, value in case.kwargs.items()},
            "result": case.result,
        }
        | ({"row_names": list(case.row_names)} if case.row_names else {})
        | ({"parts": len(case.part_names)} if case.result == "arrays" else {})
        | ({"after_cell": positions[TEST_CELL[case.grade_id]]} if TEST_CELL[case.grade_id] in positions else {})
        | {"forbidden": forbidden_calls(case.grade_id)}
        for index, case in enumerate(cases)
    ]
    return encoded, arrays


@cache
def forbidden_calls(name):
    """The sorted conv_lib function names the graded function `name` may not call, [] when only other
    libraries' convolutions are refused, None when nothing is: what its notebook check's Runner
    watches for (conv_lib.diagnose.runner.forbidden_by), so that both checks enforce one list."""
    forbidden = forbidden_by(next(exercise.check for exercise in EXERCISES if exercise.name == name))
    return None if forbidden is None else sorted(forbidden)


def prepare(workdir, notebook, cases, cell_seconds=DEFAULT_CELL_SECONDS, reference=None):
    """Write cells.json, cases.json, inputs.npz, ready_made.json, integrity_harness.py and
    integrity_tripwires.py into workdir (emptying out/).

    Returns the argv to run with cwd=workdir; its paths are relative to workdir,
    so the folder may appear elsewhere inside the sandbox.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(workdir / OUT, ignore_errors=True)  # never judge an earlier run's results
    (workdir / OUT).mkdir()
    encoded, arrays = encode_cases(cases, cells_before_test_cells(notebook))
    (workdir / "cells.json").write_text(json.dumps(harness_cells(notebook, reference)), encoding="utf-8")
    (workdir / "cases.json").write_text(json.dumps(encoded, allow_nan=False), encoding="utf-8")
    np.savez(workdir / "inputs.npz", **arrays)
    (workdir / READY_MADE).write_text(json.dumps({module: list(patterns) for module, patterns
                                                  in READY_MADE_ELSEWHERE.items()}), encoding="utf-8")
    shutil.copyfile(HARNESS, workdir / HARNESS.name)
    shutil.copyfile(TRIPWIRES, workdir / TRIPWIRES.name)
    quick = ["quick"] if reference is not None else []  # no pictures either (PICTURE_MODULES)
    return [sys.executable, HARNESS.name, ".", str(cell_seconds), *quick]


# --------------------------------------------------------------------------
# Reading out/ back, trusting nothing
# --------------------------------------------------------------------------


class Unreadable(Exception):
    """A result file that is not a plain .npy of numbers or a small JSON error record."""


@contextmanager
def open_out_dir(workdir):
    """A descriptor of workdir/out (None if it is missing or not a real directory)."""
    try:
        fd = os.open(Path(workdir) / OUT, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        yield None
        return
    try:
        yield fd
    finally:
        os.close(fd)


def read_small_file(dir_fd, name, limit):
    """The bytes of the regular file `name` in dir_fd, or None if there is none.

    Raises Unreadable for a symlink, a FIFO, a device or anything over `limit` bytes.
    """
    if dir_fd is None:
        return None
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise Unreadable(f"{name} cannot be opened as a plain file ({type(error).__name__})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(f"{name} is not a regular file")
        if info.st_size > limit:
            raise Unreadable(f"{name} is larger than {limit} bytes")
        with os.fdopen(os.dup(fd), "rb") as file:
            data = file.read(limit + 1)
        if len(data) > limit:
            raise Unreadable(f"{name} is larger than {limit} bytes")
        return data
    finally:
        os.close(fd)


def npy_header(data):
    """(shape, dtype) from a .npy file's header, checking that the data that follows has exactly that size."""
    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(stream, max_header_size=MAX_HEADER_BYTES)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(stream, max_header_size=MAX_HEADER_BYTES)
    else:
        raise Unreadable("the .npy format version is neither 1 nor 2")
    if dtype.hasobject or dtype.kind not in NUMBER_KINDS + TEXT_KINDS:
        raise Unreadable(f"the .npy file holds neither numbers nor text (dtype kind {dtype.kind!r})")
    if math.prod(shape) * dtype.itemsize != len(data) - stream.tell():
        raise Unreadable("the .npy header does not match the file's size")
    return shape, dtype


def load_npy(data):
    """The array of a .npy file's bytes: header checked first, then np.load without pickle."""
    try:
        npy_header(data)
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except Unreadable:
        raise
    except Exception as error:
        raise Unreadable(f"not a valid .npy file ({type(error).__name__})") from None
    if not isinstance(array, np.ndarray):
        raise Unreadable("not a single array")
    return array


def load_error(data):
    """(error name, kinds, message) from a JSON error record; a name that is no identifier is replaced."""
    try:
        record = json.loads(data.decode("utf-8"))
    except Exception as error:
        raise Unreadable(f"the error record is not valid JSON ({type(error).__name__})") from None
    if not isinstance(record, dict):
        raise Unreadable("the error record is not a JSON object")

    def name(value):
        return value if isinstance(value, str) and ERROR_NAME.fullmatch(value) else "an error without a valid name"

    kinds = record.get("kinds")
    kinds = tuple(name(kind) for kind in kinds[:64]) if isinstance(kinds, list) else ()
    message = record.get("message")
    return name(record.get("error")), kinds, message if isinstance(message, str) else ""


def read_outcome(dir_fd, index, parts=0):
    """("result", ndarray), ("error", (name, kinds, message)) or ("missing", None) for case `index`.

    parts: for an "arrays" case, how many parts: the result is then the tuple of the
    arrays in out/<index>.part0.npy, out/<index>.part1.npy, ...; if only some of them are there
    (the process stopped between two), the outcome is "missing".
    """
    names = [f"{index}.part{part}.npy" for part in range(parts)] if parts else [f"{index}.npy"]
    files = [read_small_file(dir_fd, name, MAX_RESULT_BYTES) for name in names]
    error = read_small_file(dir_fd, f"{index}.json", MAX_ERROR_BYTES)
    written = [data for data in files if data is not None]
    if written and error is not None:
        raise Unreadable("both a result and an error were written")
    if error is not None:
        return "error", load_error(error)
    if len(written) < len(files):
        return "missing", None
    arrays = tuple(load_npy(data) for data in files)
    return "result", arrays if parts else arrays[0]


# --------------------------------------------------------------------------
# Judging
# --------------------------------------------------------------------------


def shape_text(shape):
    """"(3, 4)"; for many axes just how many (a shape is all a message may show of an array)."""
    return str(tuple(int(n) for n in shape)) if len(shape) <= 6 else f"with {len(shape)} axes"


def not_that_kind(case):
    """What the instructor is told when a result is not the case's kind of array (RESULT_KINDS)."""
    return RESULT_KINDS.get(case.result, NOT_NUMBERS).replace("{parts}", ", ".join(case.part_names))


def array_problem(result, expected):
    """What is wrong with an array result (expected: ndarray), or ""."""
    if result.shape != expected.shape:
        return f"returned shape {shape_text(result.shape)}, expected {shape_text(expected.shape)}"
    with np.errstate(all="ignore"):
        if not np.allclose(result.astype(np.complex128 if result.dtype.kind == "c" else np.float64),
                           expected.astype(np.float64), rtol=RTOL, atol=ATOL):
            return f"returned wrong values (the shape {shape_text(expected.shape)} is right)"
    return ""


def whole_array_problem(result, case):
    """What is wrong with a whole-number array result ("shapes" and "table" cases), or "".

    Compared exactly: a count of 15 billion multiply-adds off by one is wrong,
    which rtol would let pass. The harness sends int64; anything else is forged.
    """
    expected, columns = case.expected, COLUMNS.get(case.result)
    if result.shape != expected.shape:
        if columns and result.ndim == 2 and result.shape[1] == len(columns):
            return f"returned {result.shape[0]} {ROWS[case.result]}, expected {expected.shape[0]}"
        return f"returned shape {shape_text(result.shape)}, expected {shape_text(expected.shape)}"
    if result.dtype.kind not in "iu" or (result.dtype.kind == "u" and result.size and result.max() > INT64_MAX):
        return not_that_kind(case)
    wrong = np.argwhere(result.astype(np.int64) != expected)
    if not len(wrong):
        return ""
    if columns is None or expected.ndim != 2:
        return f"returned wrong values (the shape {shape_text(expected.shape)} is right)"
    row, column = (int(n) for n in wrong[0])
    name = case.row_names[row] if row < len(case.row_names) else f"row {row}"
    return WRONG_ROW[case.result].format(row=row, column=columns[column], name=name)


def number_problem(result, expected):
    """What is wrong with a number result (expected: int), or "". A bool is not a number here."""
    if result.shape != ():
        return f"returned an array of shape {shape_text(result.shape)}, expected one number"
    if result.dtype.kind not in "iuf":
        return f"returned a {'bool' if result.dtype.kind == 'b' else 'non-real value'}, expected a whole number"
    value = result.item()
    if not (math.isfinite(value) and value == expected):
        return "returned a wrong number"
    return ""


def expects_error(case):
    """Must the case's call raise ValueError? (A string expected; arrays never compare to strings.)"""
    return isinstance(case.expected, str) and case.expected == EXPECTED_ERROR


def error_problem(name, kinds, message, case):
    """What an error outcome means for the case, or "" when it was the expected ValueError."""
    if expects_error(case) and (name == EXPECTED_ERROR or EXPECTED_ERROR in kinds):
        return ""
    if name == "NameError" and message == MISSING_FUNCTION.format(name=case.function):
        return f"could not be called: {case.function} is not defined in the notebook (renamed, or its cell failed?)"
    if name == "NotAnArray":
        return not_that_kind(case)
    if name == "SoftTimeout":
        return "did not return within the time limit"
    return f"raised {name}" + (f", expected {EXPECTED_ERROR}" if expects_error(case) else "")


def case_problem(outcome, case):
    """"" when the outcome is the expected one, else what went wrong (no values)."""
    kind, value = outcome
    if kind == "missing":
        return "gave no result (the process stopped early)"
    if kind == "error":
        return error_problem(*value, case)
    if expects_error(case):
        return f"returned a result, expected {EXPECTED_ERROR}" + (f" ({case.refusal})" if case.refusal else "")
    if case.result == "arrays":
        return parts_problem(value, case)
    if value.dtype.kind not in NUMBER_KINDS:
        return not_that_kind(case)
    if isinstance(case.expected, Draws):
        return draws_problem(value, case.expected)
    if isinstance(case.expected, (SameAs, DiffersFrom)):
        return ""  # compared with the case it names, by judge_case
    if isinstance(case.expected, np.ndarray) and case.expected.dtype.kind in "iu":
        return whole_array_problem(value, case)
    if isinstance(case.expected, np.ndarray):
        return array_problem(value, case.expected)
    return number_problem(value, case.expected)


def parts_problem(parts, case):
    """What is wrong with an "arrays" result (a tuple of arrays, one per part of case.part_names), or ""."""
    for name, result, expected in zip(case.part_names, parts, case.expected):
        if result.dtype.kind not in NUMBER_KINDS:
            return not_that_kind(case)
        if result.shape != expected.shape:
            return f"returned {name} of shape {shape_text(result.shape)}, expected {shape_text(expected.shape)}"
        if array_problem(result, expected):
            return f"returned wrong values in {name} (its shape {shape_text(expected.shape)} is right)"
    return ""


def draws_problem(result, draws):
    """What is wrong with a random result (draws: its Draws), or "". Real numbers are taken as
    diagnose.check_he_init takes them (as float64), with its tolerances, so never more strictly."""
    if result.shape != tuple(draws.shape):
        return f"returned shape {shape_text(result.shape)}, expected {shape_text(draws.shape)}"
    with np.errstate(all="ignore"):
        values = np.real(result).astype(np.float64).ravel()
        if not np.isfinite(values).all():
            return "returned inf or nan"
        if values.size > 1 and (values == values[0]).all():
            return "returned the same number for every weight"
        if draws.std is None:
            return ""
        mean, std = values.mean(), values.std()
        kurtosis = np.mean((values - mean) ** 4) / std**4
    if kurtosis < HE_FLAT_KURTOSIS:
        return "returned weights that are not normally distributed (flat, as uniform ones)"
    if abs(mean) > HE_MEAN_STANDARD_ERRORS * std / math.sqrt(values.size):
        return "returned weights whose mean is not 0"
    if abs(std / draws.std - 1) > HE_STD_TOLERANCE:
        return "returned weights with the wrong standard deviation"
    return ""


def labelled(cases, case):
    """The index of the case of the same function that case.expected (a SameAs or DiffersFrom) names, or None."""
    return next((index for index, other in enumerate(cases)
                 if other.function == case.function and other.label == case.expected.label), None)


def relation_problem(result, case, other, other_index):
    """What is wrong with a random result compared with the other case's outcome (SameAs, DiffersFrom), or ""."""
    kind, value = other
    if kind != "result" or not isinstance(value, np.ndarray) or value.dtype.kind not in NUMBER_KINDS:
        return f"could not be compared with case {other_index}, which left no usable result"
    same = result.shape == value.shape and bool(np.array_equal(result, value))
    if isinstance(case.expected, SameAs) and not same:
        return (f"returned other numbers than case {other_index} from a generator with the same seed "
                "(not drawn from rng alone?)")
    if isinstance(case.expected, DiffersFrom) and same:
        return f"returned the same numbers as case {other_index} from a generator with another seed (rng ignored?)"
    return ""


def reference_call_problem(called, ran):
    """What a ready-made call is, in the message: the names only if they look like library names."""
    called = called if LIBRARY_NAME.fullmatch(called or "") else "a ready-made convolution"
    ran = ran if LIBRARY_NAME.fullmatch(ran or "") and ran != called else ""
    return (f"calls {called}" + (f" (which runs {ran})" if ran else "")
            + ": a ready-made call, which the exercise does not allow (the function must use its own loops)")


def recorded_call(outcome):
    """(called, ran) of a ReferenceCall error record (its message: "called" or "called ran"), else None."""
    kind, value = outcome
    if kind != "error" or value[0] != REFERENCE_CALL:
        return None
    called, _, ran = value[2].partition(" ")
    return called, ran or called


def limit_problem(outcome, ending):
    """What a case's failure by a limit of the check is (no answer was compared), or ""."""
    kind, value = outcome
    if kind == "missing" and ending.limit:
        return f"gave no result: the check was stopped by {ending.limit}"
    if kind != "error":
        return ""
    name, _, message = value
    if name == "SoftTimeout":
        return "did not return within the time limit"
    if name == "MemoryError":
        return "ran out of memory (the memory limit of the check)"
    if name == "OSError" and message.startswith("[Errno 27]"):
        return "hit the file-size limit of the check"
    return ""


def judge_case(dir_fd, index, case, cases=(), ending=Ending()):
    """"" if case `index` passed, else the instructor's message "function: case i ...", which starts
    with [reference-call] when the function called a ready-made convolution (reported on the
    harness's stderr, in ending.reported, or recorded in out/), and with [limit] when it failed
    by a limit of the check (ending.limit, or a time, memory or file-size error).

    cases: the cases judged, in order; a SameAs or DiffersFrom finds there the case it names
    (without it, or if it is not there, the case fails).
    """
    parts = len(case.part_names) if case.result == "arrays" else 0
    code, reported = "", ending.reported.get(index)
    try:
        outcome = read_outcome(dir_fd, index, parts)
        call = reported or recorded_call(outcome)
        limit = limit_problem(outcome, ending)
        if call:
            code, problem = REFERENCE_CODE, reference_call_problem(*call)
        elif limit:
            code, problem = LIMIT_CODE, limit
        else:
            problem = case_problem(outcome, case)
        if not problem and isinstance(case.expected, (SameAs, DiffersFrom)):
            other = labelled(cases, case)
            problem = (f"refers to a case labelled {case.expected.label!r} that is not judged" if other is None
                       else relation_problem(outcome[1], case, read_outcome(dir_fd, other), other))
    except Unreadable as error:
        problem = f"left an unusable result ({error})"
    except Exception as error:  # never let a crafted file crash the grader
        problem = f"left a result that could not be judged ({type(error).__name__})"
    if reported and code != REFERENCE_CODE:  # the report outside the sandbox outweighs whatever out/ holds
        code, problem = REFERENCE_CODE, reference_call_problem(*reported)
    return (f"{code} " if code else "") + f"{case.function}: case {index} {problem}" if problem else ""


def judge(workdir, cases, ending=Ending()):
    """{test cell grade_id: CheckResult}: a test cell passes iff every case of its function passed.

    ending: how the harness's run ended (Ending: a limit that stopped it, the tripwires' reports).
    The message is the first failing case's of the verdict's kind, plus how many more cases failed.
    """
    problems = {TEST_CELL[case.grade_id]: [] for case in cases}
    with open_out_dir(workdir) as dir_fd:
        for index, case in enumerate(cases):
            problem = judge_case(dir_fd, index, case, cases, ending)
            if problem:
                problems[TEST_CELL[case.grade_id]].append(problem)
    return {cell: verdict(found) for cell, found in problems.items()}


def verdict(problems):
    """The CheckResult of a function's failing cases' messages: a ready-made call first, then a
    disagreement, and a limit only when nothing else failed."""
    if not problems:
        return CheckResult(True, "")
    by_kind = {"reference-call": [p for p in problems if p.startswith(REFERENCE_CODE)],
               "limit": [p for p in problems if p.startswith(LIMIT_CODE)]}
    by_kind[""] = [p for p in problems if p not in by_kind["reference-call"] and p not in by_kind["limit"]]
    kind = next(kind for kind in ("reference-call", "", "limit") if by_kind[kind])
    more = len(problems) - 1
    return CheckResult(False, by_kind[kind][0] + (f" (and {more} more failing case{'s' * (more > 1)})" if more else ""),
                       kind)


def ending_of(returned):
    """The Ending of a run from what `run` returned: None (nothing known), the string "timeout"
    (run raised subprocess.TimeoutExpired), or (returncode or None after the sandbox's time limit,
    stderr text) as sandbox.run returns them."""
    if returned is None:
        return Ending()
    if returned == "timeout":
        return Ending("the time limit of the whole check")
    returncode, stderr = returned
    stderr = stderr if isinstance(stderr, str) else ""
    reported = {}
    for match in REPORT.finditer(stderr):
        reported.setdefault(int(match.group(1)), (match.group(2), match.group(3)))
    # sandbox.run appends its STOPPED line last; one the student's code wrote earlier counts for nothing.
    stopped = [line[len(STOPPED):] for line in stderr.splitlines()[-1:] if line.startswith(STOPPED)]
    limit = ("the time limit of the whole check" if returncode is None
             else f"the sandbox's limit ({stopped[-1][:200]})" if stopped
             else "the CPU-time limit" if returncode in (-24, 128 + 24)
             else "a kill (the memory or CPU-time limit)" if returncode in (-9, 128 + 9) else "")
    return Ending(limit, reported)


def check(notebook, assignment, seed_text, workdir, run, cell_seconds=DEFAULT_CELL_SECONDS, reference=None,
          test_cells=None):
    """Prepare workdir, run the harness with `run(argv, workdir)`, judge what it left.

    run: the caller's sandbox runner, run with cwd=workdir; it returns None or, as
    sandbox.run, (returncode, stderr tail), which tell a run stopped by a limit and
    the tripwires' reports of ready-made calls (ending_of); it may raise
    subprocess.TimeoutExpired, and then what the harness wrote so far is judged
    (any other error of `run` is the caller's and propagates).
    reference: the source notebook; given, a quick pass skips the unchanged
    teaching cells first, and only if a function fails there are all cells
    run again (so a failure always comes from the full notebook).
    test_cells: check only the functions of these test cells (grade_ids),
    e.g. those nbgrader passed: a verdict can only take points away.
    Returns {} for an assignment without checks.
    """
    cases = cases_for(assignment, seed_text)
    if test_cells is not None:
        cases = [case for case in cases if TEST_CELL[case.grade_id] in test_cells]
    if not cases:
        return {}
    workdir = Path(workdir)
    passes = [reference, None] if reference is not None else [None]
    for skip_from in passes:
        argv = prepare(workdir, notebook, cases, cell_seconds, reference=skip_from)
        try:
            returned = run(argv, workdir)
        except subprocess.TimeoutExpired:
            returned = "timeout"
        verdicts = judge(workdir, cases, ending_of(returned))
        if all(result.passed for result in verdicts.values()):
            break
    return verdicts
