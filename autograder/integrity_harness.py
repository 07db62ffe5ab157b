"""Run a student's notebook code and call its graded functions on the grader's inputs.

This script is copied into a folder, with integrity_tripwires.py and nothing
else of the grader, and run there in a sandbox by autograder/integrity.py; it
imports only the standard library, numpy, IPython and that module (never the
`autograder` package). Usage:

    python integrity_harness.py WORKDIR [CELL_SECONDS] [quick]

WORKDIR holds what autograder/integrity.py `prepare` wrote:

    cells.json    the notebook's code cells (sources, in order), test cells left out
    cases.json    [{"index": i, "function": name, "args": [...], "kwargs": {...},
                    "result": kind, "after_cell": n}, ...]; each argument is
                  {"array": "a3"} (an array of inputs.npz), {"value": <JSON
                  number, bool, null or string>}, {"rng": seed} (a fresh
                  np.random.default_rng(seed) for the call), or {"tuple": [...]} or
                  {"list": [...]} of arguments (nested: layer specs, lists of arrays);
                  result (optional, default "array") is one of RESULT_KINDS:
                  how the returned value becomes an array (convert_result);
                  row_names (optional, for "table") the names of the rows compared;
                  parts (for "arrays") how many arrays the function returns;
                  after_cell (optional, default: all cells) is how many cells run
                  before the case is called: where nbgrader's test cell of the
                  function stood, so a later cell that rebinds the name changes nothing;
                  forbidden (null: none refused) the conv_lib functions it may not call
    ready_made.json  {module: [name patterns]}: other libraries' ready-made convolutions
    inputs.npz    the input arrays

It runs the cells in order in one IPython InteractiveShell (so `%matplotlib
inline` and other magics work; a cell's error is recorded and the next cell
runs), calls each case's function once its after_cell cells have run, and
writes, as soon as the case is done,

    out/<i>.npy   the result as an array (np.asarray of it, or for "shapes"
                  and "table" a whole-number array built row by row),
                  np.save(..., allow_pickle=False)
    out/<i>.part<k>.npy  for "arrays", part k of the returned tuple, the same way
    out/<i>.json  {"error": name, "kinds": [names of its classes], "message": ...}
                  when the call raised, the function is missing, or the result
                  does not convert to its kind of array ("NotAnArray"), or the
                  call reached a ready-made convolution ("ReferenceCall")

Before any cell runs, each ready-made convolution gets a tripwire
(integrity_tripwires.py), armed only while a case's function runs: a call
then is recorded, reported on the harness's own stderr (which the grader reads
outside the sandbox) and refused, and the case's outcome is a ReferenceCall
error whatever the function did about it.

Cells after the last one a case waits for do not run: they cannot change a
result already written (notebook 05's last cells would run all of VGG16).
The student's stdout and stderr go to /dev/null (no file to fill) and each
cell's outcome to WORKDIR/cell_status.json. Every cell and every call gets a
soft time limit (CELL_SECONDS, default 30) from signal.setitimer; stopping
code that never returns to Python (a long C loop) is the sandbox's job.

The student's code runs in this same process and could rewrite any of it:
the grader trusts nothing this script writes and checks every file it reads
back; the tripwires' reports on stderr are the one record the student's code
cannot take back.
"""

import os

# Before anything (a notebook cell, IPython) can import matplotlib.
os.environ["MPLBACKEND"] = "Agg"

import itertools  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
import types  # noqa: E402
from collections.abc import Mapping, Set  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from numpy.random import default_rng  # noqa: E402  (bound before any student cell can replace it)
from traitlets.config import Config  # noqa: E402

try:  # beside this script, in the check's folder (autograder/integrity.py's prepare copies both)
    from integrity_tripwires import make_tripwires, reference_call_record  # noqa: E402
except ImportError:  # this module imported from the autograder package, as the tests do
    from autograder.integrity_tripwires import make_tripwires, reference_call_record  # noqa: E402

DEFAULT_CELL_SECONDS = 30.0
CELL_STATUS = "cell_status.json"
#: Other libraries' ready-made convolutions: {module: [fnmatch patterns of names]} (make_tripwires).
READY_MADE = "ready_made.json"
OUT = "out"
#: The message of a case whose function the notebook does not define
#: (autograder/integrity.py recognises it).
MISSING_FUNCTION = "function {name} is not defined in the notebook"
#: The error name recorded when a result cannot be saved as an array of numbers.
NOT_AN_ARRAY = "NotAnArray"
MESSAGE_CHARACTERS = 300
MAX_KINDS = 32
#: At most this many shapes or table rows, and numbers in one shape, are read from a result.
MAX_ROWS = 1000
MAX_ROW_ITEMS = 8
#: The kinds of result a case may ask for (cases.json's "result"; see convert_result).
RESULT_KINDS = ("array", "shapes", "table", "arrays")
#: At most this many parts in an "arrays" result.
MAX_PARTS = 8
INT64 = np.iinfo(np.int64)


class SoftTimeout(BaseException):
    """Raised inside a cell or a call that ran past the soft time limit.

    A BaseException, so that a student's `except Exception:` does not swallow it;
    IPython still catches it and records it as the cell's error.
    """


# --------------------------------------------------------------------------
# Time limit and output
# --------------------------------------------------------------------------


def _raise_soft_timeout(signum, frame):
    raise SoftTimeout("stopped by the soft time limit")


@contextmanager
def soft_time_limit(seconds):
    """Raise SoftTimeout in the block's code once `seconds` (wall clock) have passed.

    The alarm may fire just as the block ends: callers catch SoftTimeout around the `with`.
    """
    previous = signal.signal(signal.SIGALRM, _raise_soft_timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def redirect_student_io():
    """Send file descriptors 1 and 2, and sys.stdout/sys.stderr, to /dev/null; read stdin from /dev/null.

    Descriptors, not only the Python objects, so that output of C code and
    child processes goes there too; an input() call meets end of file
    instead of waiting. Nothing reads what the student prints, and /dev/null
    counts against no limit: a function that prints a flood is checked like
    any other. Returns a text file on the original stderr, for the harness's
    own messages (and the tripwires' reports).
    """
    sys.stdout.flush()
    sys.stderr.flush()
    stdin = os.open(os.devnull, os.O_RDONLY)
    os.dup2(stdin, 0)
    os.close(stdin)
    original_stderr = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    return original_stderr


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------


def write_atomically(path, write):
    """Call write(binary_file) on a temporary file, then rename it to `path`,
    so that a process killed halfway leaves no half-written result."""
    temporary = path.with_name(path.name + ".partial")
    with open(temporary, "wb") as file:
        write(file)
    os.replace(temporary, path)


def write_json(path, value):
    write_atomically(path, lambda file: file.write(json.dumps(value).encode("utf-8")))


def read_inputs(workdir):
    """cells: list of str; cases: list of dict; inputs: {name: ndarray} from inputs.npz."""
    cells = json.loads((workdir / "cells.json").read_text(encoding="utf-8"))
    cases = json.loads((workdir / "cases.json").read_text(encoding="utf-8"))
    with np.load(workdir / "inputs.npz", allow_pickle=False) as npz:
        inputs = {name: npz[name] for name in npz.files}
    if not isinstance(cells, list) or not all(isinstance(source, str) for source in cells):
        raise ValueError("cells.json must hold a list of cell sources (strings)")
    if not isinstance(cases, list) or not all(isinstance(case, dict) for case in cases):
        raise ValueError("cases.json must hold a list of cases (objects)")
    unknown = {str(case.get("result")) for case in cases if case.get("result", "array") not in RESULT_KINDS}
    if unknown:
        raise ValueError(f"cases.json asks for results of unknown kinds {sorted(unknown)}; known: {RESULT_KINDS}")
    if not all(isinstance(name, str) for case in cases for name in case.get("row_names", [])):
        raise ValueError("cases.json's row_names must be lists of strings")
    for case in cases:
        parts = case.get("parts")
        if case.get("result") == "arrays" and not (type(parts) is int and 1 <= parts <= MAX_PARTS):
            raise ValueError(f"an \"arrays\" case needs parts, a number of arrays from 1 to {MAX_PARTS}")
        forbidden = case.get("forbidden")
        if forbidden is not None and not (isinstance(forbidden, list) and all(isinstance(n, str) for n in forbidden)):
            raise ValueError("a case's forbidden must be null or a list of conv_lib function names")
    return cells, cases, inputs


def forbidden_anywhere(cases):
    """The conv_lib function names that any case forbids (each case's "forbidden")."""
    return {name for case in cases for name in case.get("forbidden") or ()}


def ready_made_elsewhere(workdir):
    """{module: [fnmatch patterns]} of READY_MADE (written by autograder/integrity.py's prepare)."""
    table = json.loads((workdir / READY_MADE).read_text(encoding="utf-8"))
    if not (isinstance(table, dict) and all(isinstance(patterns, list) and all(isinstance(p, str) for p in patterns)
                                            for patterns in table.values())):
        raise ValueError(f"{READY_MADE} must map module names to lists of name patterns")
    return table


# --------------------------------------------------------------------------
# Running the cells
# --------------------------------------------------------------------------


class HarnessShell(InteractiveShell):
    """IPython's shell without a GUI event loop: `%matplotlib inline` needs none
    (the base class refuses every enable_gui call, even the inline backend's)."""

    def enable_gui(self, gui=None):
        if gui is not None:
            print(f"The integrity check has no GUI: %matplotlib {gui} draws nothing here.")


def make_shell(workdir):
    """A fresh IPython shell that keeps no history on disk."""
    os.environ.setdefault("IPYTHONDIR", str(workdir / ".ipython"))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.colors = "nocolor"
    # Nobody reads the check's tracebacks (its stdout is thrown away; a cell's outcome is its error's
    # class): the plain ones, not IPython's default, which reads and parses the source of every frame.
    config.InteractiveShell.xmode = "Plain"
    return HarnessShell.instance(config=config)


def run_cell(shell, source, seconds):
    """Run one cell; return its outcome: "ok", "error: <Name>" or "stopped by the soft time limit"."""
    try:
        with soft_time_limit(seconds):
            result = shell.run_cell(source, store_history=False)
    except SoftTimeout:
        return f"stopped by the soft time limit ({seconds:g} s)"
    error = result.error_before_exec or result.error_in_exec
    if isinstance(error, SoftTimeout):
        return f"stopped by the soft time limit ({seconds:g} s)"
    return "ok" if error is None else f"error: {type(error).__name__}"


def cases_by_cell(cases, cell_count):
    """{n: the cases to call once n cells have run}; n is clamped to 0..cell_count."""
    due = {}
    for case in cases:
        after = case.get("after_cell")
        after = cell_count if not isinstance(after, int) else min(max(after, 0), cell_count)
        due.setdefault(after, []).append(case)
    return due


def run_notebook(shell, cells, cases, inputs, workdir, seconds, tripwires=None):
    """Run the cells in order, whatever the earlier ones did, recording each outcome
    as it comes; call each case as soon as the cells before its test cell have run
    (with tripwires, as run_cases takes them). Stop after the last cell a case waits for."""
    due = cases_by_cell(cases, len(cells))
    outcomes = []
    run_cases(shell, due.get(0, []), inputs, workdir / OUT, seconds, tripwires)
    for number, source in enumerate(cells[: max(due, default=0)], start=1):
        outcomes.append(run_cell(shell, source, seconds))
        write_json(workdir / CELL_STATUS, outcomes)
        run_cases(shell, due.get(number, []), inputs, workdir / OUT, seconds, tripwires)


# --------------------------------------------------------------------------
# Calling the graded functions
# --------------------------------------------------------------------------


def error_record(error):
    """{"error": class name, "kinds": names of its classes (MRO), "message": first line, cut}."""
    kind = type(error)
    try:
        text = str(error)
    except BaseException:  # a student's exception whose __str__ fails
        text = ""
    lines = text[:MESSAGE_CHARACTERS].splitlines()
    return {
        "error": kind.__name__,
        "kinds": [cls.__name__ for cls in kind.__mro__][:MAX_KINDS],
        "message": lines[0] if lines else "",
    }


def argument(spec, inputs):
    """One argument of a case: a fresh copy of an input array, a JSON value, or a
    tuple or list of arguments (decoded afresh for every call, like the arrays)."""
    if "array" in spec:
        return inputs[spec["array"]].copy()  # a copy, so in-place changes stay in their call
    if "tuple" in spec:
        return tuple(argument(item, inputs) for item in spec["tuple"])
    if "list" in spec:
        return [argument(item, inputs) for item in spec["list"]]
    if "rng" in spec:
        return default_rng(spec["rng"])  # a fresh generator, so that the same seed gives the same draws
    return spec["value"]


def not_an_array(error):
    """The error record of a result that cannot be saved as an array of numbers."""
    return error_record(error) | {"error": NOT_AN_ARRAY, "kinds": [NOT_AN_ARRAY]}


def call_case(namespace, case, inputs, seconds, tripwires=None):
    """Call the case's function and turn its result into an array, each under the soft time limit
    (a result's __array__ is student code too). Returns ("result", ndarray) or ("error", record).

    tripwires (make_tripwires), when given and the case says what it forbids: armed for the
    call and the conversion; a ready-made call recorded then makes the outcome a ReferenceCall
    error, whatever the function did with the tripwire's exception.
    """
    if tripwires is None or case.get("forbidden") is None:
        return call_and_convert(namespace, case, inputs, seconds)
    index = int(case["index"])
    tripwires.sweep(namespace)
    with tripwires.armed(index, case["forbidden"]):
        outcome = call_and_convert(namespace, case, inputs, seconds)
    calls = tripwires.calls_in(index)
    return ("error", reference_call_record(calls)) if calls else outcome


def call_and_convert(namespace, case, inputs, seconds):
    """call_case's call and conversion, without tripwires."""
    name = case["function"]
    function = namespace.get(name)
    if not callable(function):
        return "error", {"error": "NameError", "kinds": ["NameError", "Exception"],
                         "message": MISSING_FUNCTION.format(name=name)}
    args = [argument(spec, inputs) for spec in case.get("args", [])]
    kwargs = {key: argument(spec, inputs) for key, spec in case.get("kwargs", {}).items()}
    try:
        with soft_time_limit(seconds):
            result = function(*args, **kwargs)
    except BaseException as error:  # SoftTimeout and SystemExit included: all are the case's outcome
        return "error", error_record(error)
    try:
        with soft_time_limit(seconds):
            return "result", convert_result(result, case)
    except BaseException as error:
        return "error", not_an_array(error)


def as_number_array(result):
    """np.asarray(result); raise TypeError when that does not give an array numpy can save without pickle."""
    if result is None:
        raise TypeError("the function returned None")
    array = np.asarray(result)
    if array.dtype.hasobject:
        raise TypeError(f"the result is not an array of numbers (an array of Python objects made from {type(result).__name__})")
    return array


def limited_items(sequence, limit, what):
    """The items of a list, tuple, array or other iterable, as a list; TypeError for
    a str, bytes, dict, set or None, or for more than `limit` items (read no further)."""
    if sequence is None or isinstance(sequence, (str, bytes, Mapping, Set)):
        raise TypeError(f"expected a list of {what}, got {type(sequence).__name__}")
    items = list(itertools.islice(iter(sequence), limit + 1))
    if len(items) > limit:
        raise TypeError(f"more than {limit} {what}")
    return items


def whole_number(value):
    """The int of a whole number (Python or numpy int, a float without a fraction, a
    0-d array of one) that fits int64; TypeError otherwise. A bool is no number."""
    array = np.asarray(value)
    if array.shape != () or array.dtype.kind not in "iuf":
        raise TypeError(f"expected a whole number, got {type(value).__name__}")
    number = array.item()
    if isinstance(number, float):
        if not number.is_integer():
            raise TypeError("expected a whole number, got a fraction, inf or nan")
        number = int(number)
    if not INT64.min <= number <= INT64.max:
        raise TypeError("the number does not fit in 64 bits")
    return number


def whole_numbers(sequence, what):
    """[int, ...] of a short sequence of whole numbers (a shape)."""
    return [whole_number(item) for item in limited_items(sequence, MAX_ROW_ITEMS, what)]


def shape_rows(result):
    """A list of (C, H, W) shapes (tuples, lists or arrays) -> int64 array (shapes, 3)."""
    rows = [whole_numbers(shape, "numbers in a shape") for shape in limited_items(result, MAX_ROWS, "shapes")]
    if any(len(row) != 3 for row in rows):
        raise TypeError("each shape must hold 3 numbers, (C, H, W)")
    return np.array(rows, dtype=np.int64).reshape(len(rows), 3)


def row_field(row, key):
    """row[key] of a dict (any mapping), else the attribute (a LayerRow-like object)."""
    return row[key] if isinstance(row, Mapping) else getattr(row, key)


def padded_shape(shape):
    """[C, H, W] of an output shape (C, H, W), or [n, 1, 1] of a flat one (n,)."""
    numbers = whole_numbers(shape, "numbers in a shape")
    if len(numbers) not in (1, 3):
        raise TypeError("an output shape must be (C, H, W) or (n,)")
    return numbers + [1] * (3 - len(numbers))


def is_compared_row(name, params, macs, row_names):
    """Is a table row part of the check? Yes if its name (stripped, any case) is one of
    row_names, or if it counts something; a row such as ("relu1_1", 0, 0) is left out."""
    named = isinstance(name, str) and name.strip().lower() in row_names
    return named or params != 0 or macs != 0


def table_rows(result, row_names):
    """A table of layers -> int64 array (rows, 5), one [params, macs, C or n, H, W]
    per compared row (is_compared_row), in order.

    result: a list of rows, each a dict with the keys "name", "output_shape",
    "params" and "macs", or an object with those attributes (conv_lib's LayerRow);
    output_shape (C, H, W) or (n,); params and macs whole numbers.
    row_names: the names of the rows to compare (conv1_1, ..., fc8).
    """
    rows = []
    for row in limited_items(result, MAX_ROWS, "rows"):
        params, macs = whole_number(row_field(row, "params")), whole_number(row_field(row, "macs"))
        if is_compared_row(row_field(row, "name"), params, macs, row_names):
            rows.append([params, macs, *padded_shape(row_field(row, "output_shape"))])
    return np.array(rows, dtype=np.int64).reshape(len(rows), 5)


def array_parts(result, parts):
    """A tuple or list of exactly `parts` arrays of numbers (conv2d_backward's (dx, dw, db)) -> a tuple
    of arrays (as_number_array); TypeError for anything else (one array, a dict, another count)."""
    if not isinstance(result, (tuple, list)):
        raise TypeError(f"expected a tuple of {parts} arrays, got {type(result).__name__}")
    if len(result) != parts:
        raise TypeError(f"expected a tuple of {parts} arrays, got {len(result)} items")
    return tuple(as_number_array(item) for item in result)


def convert_result(result, case):
    """The array saved in out/ for a case's result, made as its "result" kind asks:
    "array" np.asarray (as_number_array), "shapes" shape_rows, "table" table_rows;
    "arrays" a tuple of arrays (array_parts)."""
    kind = case.get("result", "array")
    if kind == "shapes":
        return shape_rows(result)
    if kind == "table":
        return table_rows(result, set(case.get("row_names", [])))
    if kind == "arrays":
        return array_parts(result, case["parts"])
    return as_number_array(result)


def save_array(path, array):
    write_atomically(path, lambda file: np.save(file, array, allow_pickle=False))


def write_outcome(out_dir, index, outcome):
    """Write out/<index>.npy for a result array (out/<index>.part<k>.npy for each part of a tuple of them),
    out/<index>.json for an error or a result that cannot be saved (then no part is left behind)."""
    kind, value = outcome
    if kind == "result":
        paths = [out_dir / f"{index}.part{part}.npy" for part in range(len(value))] if isinstance(value, tuple) else []
        try:
            if paths:
                for path, array in zip(paths, value):
                    save_array(path, array)
            else:
                save_array(out_dir / f"{index}.npy", value)
            return
        except BaseException as error:
            for path in paths:  # with what write_atomically may have left of them
                path.unlink(missing_ok=True)
                path.with_name(path.name + ".partial").unlink(missing_ok=True)
            value = not_an_array(error)
    write_json(out_dir / f"{index}.json", value)


def run_cases(shell, cases, inputs, out_dir, seconds, tripwires=None):
    """Call each case's function as the namespace holds it now; write each outcome at once.
    tripwires: as call_case takes them (None: no ready-made call is refused)."""
    for case in cases:
        write_outcome(out_dir, int(case["index"]), call_case(shell.user_ns, case, inputs, seconds, tripwires))


# --------------------------------------------------------------------------
# The quick pass: no pictures
# --------------------------------------------------------------------------

#: Modules that only draw. In the quick pass (`quick` on the command line)
#: they are do-nothing stand-ins: importing matplotlib costs more than the
#: rest of the check. A function that fails the quick pass is checked again
#: by a full pass with the real modules, so a stand-in can never cost a point.
PICTURE_MODULES = ("matplotlib", "matplotlib.pyplot", "conv_lib.plots", "conv_lib.widgets", "ipywidgets")


def _do_nothing(*args, **kwargs):
    return None


class NoPictures(types.ModuleType):
    """A module whose every public name is a function that does nothing."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _do_nothing


def leave_out_pictures():
    for name in PICTURE_MODULES:
        sys.modules[name] = NoPictures(name)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def parse_arguments(argv):
    """(workdir, cell_seconds, quick) from [script, WORKDIR, CELL_SECONDS?, "quick"?]."""
    quick = argv[-1] == "quick"
    if quick:
        argv = argv[:-1]
    if len(argv) not in (2, 3):
        raise SystemExit(f"usage: python {Path(argv[0]).name} WORKDIR [CELL_SECONDS] [quick]")
    seconds = float(argv[2]) if len(argv) == 3 else DEFAULT_CELL_SECONDS
    if not seconds > 0:
        raise SystemExit(f"CELL_SECONDS must be a positive number of seconds, got {argv[2]!r}")
    return Path(argv[1]).resolve(), seconds, quick


def main(argv):
    workdir, seconds, quick = parse_arguments(argv)
    if quick:
        leave_out_pictures()
    cells, cases, inputs = read_inputs(workdir)
    out_dir = workdir / OUT
    out_dir.mkdir(exist_ok=True)
    harness_stderr = redirect_student_io()
    try:
        tripwires = make_tripwires(forbidden_anywhere(cases), ready_made_elsewhere(workdir), harness_stderr.fileno())
        run_notebook(make_shell(workdir), cells, cases, inputs, workdir, seconds, tripwires)
    except BaseException:
        # The harness itself failed (or was stopped): say so where the caller sees it.
        traceback.print_exc(file=harness_stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
