"""Helpers for the tests of the independent check (tests/test_integrity*.py): notebooks cut to
their graded cells with some answers replaced, the check run on them, and what its messages may show."""

import re
import subprocess
import types

import nbformat

from autograder import integrity, integrity_harness
from autograder.feedback import is_autograder_test_cell
from notebook_tools import SOLUTIONS

ASSIGNMENTS = ["01_single_channel", "02_multi_channel", "03_many_filters", "04_conv_pool_stack", "05_vgg16",
               "06_learning_filters", "07_groups_depthwise"]
SEED = "student-42/01_single_channel"
#: Two submissions' seed texts: the independent check draws its random cases from each.
SEED_TEXTS = ("ann/secret-1", "ben/secret-2")


def run(argv, cwd):
    subprocess.run(argv, cwd=cwd, timeout=60, check=True)


def solution(assignment):
    return nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", as_version=4)


def graded_cells_only(notebook):
    """The notebook cut to its setup, answer and test cells: the same functions, quicker to run."""
    keep = {"setup"} | {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells
                        if cell.metadata.get("nbgrader", {}).get("solution")}
    notebook.cells = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") in keep
                      or is_autograder_test_cell(cell)]
    return notebook


def with_answer(notebook, grade_id, source):
    """The notebook with the answer cell `grade_id` replaced by `source`."""
    (cell,) = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    cell.source = source
    return notebook


def with_cell_before(notebook, grade_id, source):
    """The notebook with a new code cell inserted before the cell `grade_id`."""
    index = next(i for i, cell in enumerate(notebook.cells) if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    notebook.cells.insert(index, nbformat.v4.new_code_cell(source))
    return notebook


def check(notebook, workdir, assignment="01_single_channel", **options):
    return integrity.check(notebook, assignment, SEED, workdir, run, **options)


def messages(results):
    return [result.message for result in results.values() if not result.passed]


def assert_no_values(message):
    """A message names the function, the case and shapes only: no decimals, no array printout."""
    assert not re.search(r"\d\.\d|\[|SECRET", message), message


def judge_one(tmp_path, case, write):
    """judge_case on a single case whose out/0 file `write(out_dir)` writes."""
    out = tmp_path / "out"
    out.mkdir(parents=True, exist_ok=True)
    write(out)
    with integrity.open_out_dir(tmp_path) as fd:
        return integrity.judge_case(fd, 0, case)


def independent_problem(exercise, function, seed_text, tmp_path):
    """The independent check's message for the function ("" when it passes), its cases called in-process."""
    cases = [case for case in integrity.cases_for(exercise.assignment, seed_text) if case.function == exercise.name]
    encoded, arrays = integrity.encode_cases(cases, {})
    workdir = tmp_path / f"independent-{seed_text.replace('/', '-')}"
    (workdir / integrity.OUT).mkdir(parents=True)
    shell = types.SimpleNamespace(user_ns={exercise.name: function})
    integrity_harness.run_cases(shell, encoded, arrays, workdir / integrity.OUT, seconds=60)
    return integrity.judge(workdir, cases)[exercise.test_cell].message
