"""Attacks on the records: CSV formulas, student ids that collide or are spoofed, copied cells.

- copied cells: a pasted copy of the test cell, of the answer cell (the answer
  written in the copy) and of the written answer (likewise) must not cost a
  correct notebook its points; the run's notes name the copied cell;
- CSV formulas: an exception class named like a spreadsheet formula, raised by
  the graded function, and student ids starting with `-` or `=` must land in
  grades.csv and tests.csv as text (a leading quote), and read back as they were;
- ids: `ålice` and `ølice` are two students; `d'Arcy` and `d Arcy`, which give
  one id, are graded apart and the run says so on stderr too; a Moodle full name
  made to look like student 4242's file name never replaces 4242's own file.

See tests/attack_set.py for how an attack is written and graded."""

from __future__ import annotations

import copy
import csv
import os

from attack_set import Attack, notebook_attack
from notebook_tools import NOTEBOOKS, grade_id, read_notebook
from submission_set import MEAN_NOT_SUM, MULTI, MULTI_POINTS, WAITS, _write, answered, correct, notebook_text

from autograder import results, student_ids

FORMULA_CLASS = '=HYPERLINK("http://x","y")'
# A BaseException passes through the check, so tests.csv's message starts with the class's name.
RAISES_A_FORMULA = f'''
def conv2d_multi_in(x, w, b=0.0):
    raise type({FORMULA_CLASS!r}, (BaseException,), {{}})("+cmd|' /C calc'!A0")
'''
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
T0 = 1_700_000_000


def released_source(cell_grade_id):
    """The source of a cell as the student receives it (an answer cell holds its stub)."""
    released = read_notebook(NOTEBOOKS / MULTI / f"{MULTI}.ipynb")
    return next(cell.source for cell in released.cells if grade_id(cell) == cell_grade_id)


def with_copy(notebook, cell_grade_id, cell_id, answer_in_copy=False):
    """The notebook with a copy of the named cell pasted right after it (same nbgrader metadata).

    answer_in_copy: the student wrote the answer into the copy and left the
    original as released (its stub)."""
    result = copy.deepcopy(notebook)
    index = next(i for i, cell in enumerate(result.cells) if grade_id(cell) == cell_grade_id)
    pasted = copy.deepcopy(result.cells[index])
    pasted.id = cell_id
    if answer_in_copy:
        result.cells[index].source = released_source(cell_grade_id)
    result.cells.insert(index + 1, pasted)
    return result


def copied_cell(student, cell_grade_id, answer_in_copy=False, status=WAITS):
    """A correct notebook with a copy of one of its nbgrader cells: graded in full, the copy named."""
    notebook = with_copy(correct(), cell_grade_id, f"pasted-{student}", answer_in_copy)
    return notebook_attack(student, "copied-cell", notebook, status, MULTI_POINTS,
                           message=f"copies of the nbgrader cell '{cell_grade_id}'")


def csv_cells(run):
    """Every cell of grades.csv and tests.csv as written, header lines left out."""
    cells = []
    for name in ("grades.csv", "tests.csv"):
        with open(run.out / name, newline="", encoding="utf-8") as handle:
            cells += [cell for line in list(csv.reader(handle))[1:] for cell in line]
    return cells


def no_formula_in_the_csvs(run, attack):
    """No cell of either CSV starts like a formula; the formula-named class is there, quoted."""
    formulas = [cell for cell in csv_cells(run) if cell.startswith(FORMULA_STARTS)]
    assert formulas == [], f"CSV cells a spreadsheet would run: {formulas}"
    assert any(cell.startswith("'" + FORMULA_CLASS) for cell in csv_cells(run)), run.messages(attack.student)


def id_reads_back(student_id):
    """verify: the id is written as text (quoted when it starts like a formula) and read back as it was."""

    def verify(run, attack):
        assert attack.student == results.spreadsheet_text(student_id)
        assert not any(cell.startswith(FORMULA_STARTS) for cell in csv_cells(run))
        assert results.read_statuses(run.out)[student_id, MULTI] == attack.status
        assert results.read_test_messages(run.out)[student_id, MULTI] == {"conv2d_multi_in_tests": ""}

    return verify


def unusual_id(folder_name, student_id):
    """A correct notebook in the folder `folder_name`; its row is the student `student_id`, as grades.csv shows it."""

    def write(folder):
        _write(folder / folder_name / MULTI / f"{MULTI}.ipynb", notebook_text(correct()))

    return Attack(results.spreadsheet_text(student_id), "csv-formula-id", write, WAITS, MULTI_POINTS,
                  verify=id_reads_back(student_id))


def flat_file(name, notebook, mtime=T0):
    """write: one LMS-named file in the submissions folder, modified at mtime."""

    def write(folder):
        path = _write(folder / name, notebook_text(notebook))
        os.utime(path, (mtime, mtime))

    return write


MOODLE_OWN = f"Bob Brown_4242_assignsubmission_file_{MULTI}.ipynb"
MOODLE_SPOOF = f"Eve_4242_assignsubmission_file_x_9999_assignsubmission_file_{MULTI}.ipynb"


def collision_said_on_stderr(run, attack):
    assert "student id collision" in run.process.stderr and "d Arcy" in run.process.stderr, run.process.stderr[-2000:]


def attacks():
    """This module's attacks (attack_set.Attack)."""
    wrong = answered({"conv2d_multi_in": MEAN_NOT_SUM})
    return [
        copied_cell("copied_test_cell", "conv2d_multi_in_tests"),
        copied_cell("copied_answer_cell", "conv2d_multi_in", answer_in_copy=True),
        copied_cell("copied_written_answer", "explain_channel_sum", answer_in_copy=True),
        notebook_attack("formula_exception", "csv-formula", answered({"conv2d_multi_in": RAISES_A_FORMULA}),
                        WAITS, 0.0, message=FORMULA_CLASS, verify=no_formula_in_the_csvs),
        unusual_id("-x", "-x"),
        unusual_id("=1+1", "_1+1"),
        notebook_attack("ålice", "id-collision", correct(), WAITS, MULTI_POINTS),
        notebook_attack("ølice", "id-collision", wrong, WAITS, 0.0, message="[mean-not-sum]"),
        Attack(student_ids.distinct("d'Arcy"), "id-collision", flat_file(f"d'Arcy_{MULTI}.ipynb", correct()),
               WAITS, MULTI_POINTS, message="student id collision", verify=collision_said_on_stderr),
        Attack(student_ids.distinct("d Arcy"), "id-collision", flat_file(f"d Arcy_{MULTI}.ipynb", wrong),
               WAITS, 0.0, message="[mean-not-sum]"),
        Attack("4242", "moodle-spoof", flat_file(MOODLE_OWN, correct(), T0), WAITS, MULTI_POINTS),
        Attack("9999", "moodle-spoof", flat_file(MOODLE_SPOOF, wrong, T0 + 60), "invalid", 0.0,
               message="holds the Moodle student numbers 4242 and 9999"),
    ]
