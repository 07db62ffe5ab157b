"""autograder.copied_cells, as staging applies it: a pasted copy of an nbgrader cell costs a notebook nothing.

Each test submits a notebook whose nbgrader cells were copied and pasted and
reads the staged notebook: one cell per grade_id keeps nbgrader's metadata,
the others are ordinary cells, and the warnings name the copied cell.
"""

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from test_submissions import put, run


@pytest.fixture
def sub(tmp_path):
    """The SUBMISSIONS folder."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    return folder


def nbgrader_cell(source: str, grade_id: str, cell_id: str, **flags) -> nbformat.NotebookNode:
    """A code cell as nbgrader releases it: its metadata and the checksum of its released source."""
    from nbgrader.utils import compute_checksum

    cell = new_code_cell(source)
    cell.id = cell_id
    cell.metadata.nbgrader = {"grade_id": grade_id, "schema_version": 3, "grade": False, "solution": False,
                              "locked": False, "task": False, **flags}
    cell.metadata.nbgrader["checksum"] = compute_checksum(cell)
    return cell


def released() -> list[nbformat.NotebookNode]:
    """A solution cell (a stub) and its test cell, as released."""
    return [nbgrader_cell("def f():\n    raise NotImplementedError()", "f", "cell-1", solution=True),
            nbgrader_cell("assert f() == 1", "f_tests", "cell-2", grade=True, locked=True, points=1)]


def staged_graded_cells(sub: Path, cells: list) -> tuple[list[tuple[int, str]], list[str]]:
    """Submit a notebook of these cells: [(position, grade_id)] of the staged cells that nbgrader grades,
    and the warnings."""
    put(sub / "alice_01_single_channel.ipynb", nbformat.writes(new_notebook(cells=cells)))
    rows, warnings = run(sub)
    staged = nbformat.read(rows["alice", "01_single_channel"].notebook, as_version=4)
    graded = [(i + 1, c.metadata["nbgrader"]["grade_id"]) for i, c in enumerate(staged.cells) if "nbgrader" in c.metadata]
    return graded, warnings


@pytest.mark.filterwarnings("ignore::nbformat.warnings.DuplicateCellId")  # writing the test's notebook
def test_a_pasted_copy_of_a_test_cell_runs_as_an_ordinary_cell_and_the_last_copy_is_graded(sub):
    solution, tests = released()
    solution.source = "def f():\n    return 1"
    copy = nbformat.from_dict(json.loads(json.dumps(tests)))  # the same metadata and id
    graded, warnings = staged_graded_cells(sub, [solution, tests, copy])
    assert graded == [(1, "f"), (3, "f_tests")]
    assert warnings == ["alice/01_single_channel: the notebook holds 2 copies of the nbgrader cell 'f_tests' "
                        "(cells 2 and 3); cell 3 is graded (the last copy), the other copy runs as an ordinary cell"]


def test_of_copies_of_an_answer_cell_the_last_one_the_student_changed_is_graded(sub):
    stub, tests = released()
    answer, untouched = (nbformat.from_dict(json.loads(json.dumps(stub))) for _ in range(2))
    answer.id, untouched.id = "pasted-1", "pasted-2"
    answer.source = "def f():\n    return 1"
    graded, warnings = staged_graded_cells(sub, [stub, answer, untouched, tests])
    assert graded == [(2, "f"), (4, "f_tests")]
    assert warnings == ["alice/01_single_channel: the notebook holds 3 copies of the nbgrader cell 'f' (cells 1, 2 "
                        "and 3); cell 2 is graded (the last one changed), the other copies run as ordinary cells"]


def test_nbgrader_metadata_that_names_no_cell_is_dropped(sub):
    solution, tests = released()
    emptied = new_code_cell("print('a copy nbgrader emptied')", metadata={"nbgrader": {}})
    graded, warnings = staged_graded_cells(sub, [solution, emptied, tests])
    assert graded == [(1, "f"), (3, "f_tests")]
    assert warnings == ["alice/01_single_channel: cell 2 carries nbgrader metadata without a grade_id; "
                        "it runs as an ordinary cell"]




def test_a_cell_claiming_a_grade_id_the_course_lacks_runs_as_an_ordinary_cell():
    """A student's own "graded" cell (points of their choosing) is not the
    course's: nbgrader would stop at it, so it loses its nbgrader marks and
    runs like any other cell; the course's own cells keep theirs."""
    from autograder.copied_cells import drop_unknown_cells

    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    source.cells[0].metadata["nbgrader"] = {"grade": True, "grade_id": "tests", "points": 2}
    submitted = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("y = 2")])
    submitted.cells[0].metadata["nbgrader"] = {"grade": True, "grade_id": "tests", "points": 2}
    submitted.cells[1].metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "points": 50}
    notes = drop_unknown_cells(submitted, source)
    assert "nbgrader" not in submitted.cells[1].metadata and submitted.cells[1].source == "y = 2"
    assert submitted.cells[0].metadata["nbgrader"]["grade_id"] == "tests"
    assert notes == ["cell 2 claims to be the nbgrader cell 'bonus', which the assignment does not have; "
                     "it runs as an ordinary cell"]
