"""Shared helpers of the notebook tests (tests/test_notebooks_*.py and
tests/test_nbgrader_end_to_end.py): which assignments exist, what the
nbgrader metadata of a cell says, running nbgrader with the course config,
executing a notebook, grading a set of submissions, the functions a
solution notebook defines (and a learner's answer defined beside them), and
a small toy assignment that exercises the machinery before (and besides)
the real ones.

Assignments are found, never listed: every folder solutions/<name>/ holding
a notebook is one (autograder.release.find_assignments).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import html.parser
import os
import shutil
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.release import (  # noqa: F401 (re-exported for the tests)
    CONFIG,
    NOTEBOOKS,
    REPO,
    SOLUTIONS,
    ReleaseError,
    find_assignments,
    notebooks_in,
    release,
    run_nbgrader,
)

NO_ASSIGNMENTS = "no assignments in solutions/ yet (each is a folder solutions/<name>/ holding <name>.ipynb)"

BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"

# How long one cell may run when a test executes a notebook (the same as
# nbgrader's Execute.timeout in autograder/nbgrader_config.py).
CELL_TIMEOUT = 120


# --- which assignments ---------------------------------------------------------


def assignment_params(source_root=SOLUTIONS, graded_only=False):
    """pytest parameters, one per assignment of source_root; a single skipped
    one, with the reason, while there is none yet. With graded_only, an
    assignment without graded cells (the lecture demo, solutions/demo/) is a
    skipped parameter that says so: there is nothing to grade in it."""
    names = find_assignments(source_root)
    if not names:
        return [pytest.param(None, id="no-assignments", marks=pytest.mark.skip(reason=NO_ASSIGNMENTS))]
    if not graded_only:
        return names
    return [
        name if is_graded_assignment(name, source_root)
        else pytest.param(name, marks=pytest.mark.skip(reason=ungraded_reason(name)))
        for name in names
    ]


def solution_notebooks(name, source_root=SOLUTIONS):
    return notebooks_in(Path(source_root) / name)


def is_graded_assignment(name, source_root=SOLUTIONS):
    """Whether any notebook of the assignment has a graded cell (an
    autograder test or a written answer). An assignment without one, such as
    the lecture demo, is released and run like the others but never graded
    or validated."""
    return any(
        nbgrader_meta(cell).get("grade")
        for path in notebooks_in(Path(source_root) / name)
        for cell in read_notebook(path).cells
    )


def graded_assignments(source_root=SOLUTIONS):
    """The assignments of source_root that have graded cells, sorted."""
    return [name for name in find_assignments(source_root) if is_graded_assignment(name, source_root)]


def ungraded_reason(name):
    return f"{name} has no graded cells (a demo, not an exercise): nothing to grade or validate"


# --- nbgrader cell metadata ----------------------------------------------------


def read_notebook(path):
    return nbformat.read(str(path), as_version=4)


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell):
    return nbgrader_meta(cell).get("grade_id")


def is_solution_cell(cell):
    """A cell the student writes: nbgrader solution (autograded answer or
    manually graded answer)."""
    return bool(nbgrader_meta(cell).get("solution"))


def is_test_cell(cell):
    """An nbgrader "Autograder tests" cell: graded, not written by the student."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def points(cell):
    return float(nbgrader_meta(cell).get("points", 0))


def points_of_tests(notebook):
    """{grade_id: points} of the autograder test cells, in notebook order."""
    return {grade_id(cell): points(cell) for cell in notebook.cells if is_test_cell(cell)}


def solution_sources(notebook):
    """{grade_id: source} of the solution cells of a notebook."""
    return {grade_id(cell): cell.source for cell in notebook.cells if is_solution_cell(cell)}


def region_lines(source, begin, end):
    """The lines strictly between the begin and end markers (e.g. ### BEGIN
    HIDDEN TESTS / ### END HIDDEN TESTS) of a cell source."""
    inside, lines = False, []
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def outside_regions(source, *markers):
    """The lines of source outside every (begin, end) region given."""
    lines, inside = [], None
    for line in source.splitlines():
        if inside is None:
            started = [end for begin, end in markers if begin in line]
            if started:
                inside = started[0]
            else:
                lines.append(line)
        elif inside in line:
            inside = None
    return lines


def secret_lines(notebook, solutions=True, hidden_tests=True):
    """The stripped lines a student must not see: those of the solution
    regions (a solution cell without BEGIN SOLUTION is a solution as a whole)
    and/or of the hidden-test regions, less any line that also appears
    outside such regions (finding that one elsewhere proves nothing) and
    lines too short to mean anything (`pass`, `)`) or comments."""
    inside, outside = set(), set()
    for cell in notebook.cells:
        source = cell.source
        if is_solution_cell(cell) and BEGIN_SOLUTION not in source:
            if solutions:
                inside.update(source.splitlines())
            continue
        if solutions:
            inside.update(region_lines(source, BEGIN_SOLUTION, END_SOLUTION))
        if hidden_tests:
            inside.update(region_lines(source, BEGIN_HIDDEN, END_HIDDEN))
        outside.update(outside_regions(source, (BEGIN_SOLUTION, END_SOLUTION), (BEGIN_HIDDEN, END_HIDDEN)))
    inside = {line.strip() for line in inside}
    outside = {line.strip() for line in outside}
    return {line for line in inside - outside if len(line) >= 8 and not line.startswith("#")}


def text_lines(text):
    return {line.strip() for line in text.splitlines() if line.strip()}


class _TextOfHtml(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def html_text(page):
    """The text of an HTML page, tags removed and entities decoded, so that
    syntax-highlighted code reads as its source lines again."""
    parser = _TextOfHtml()
    parser.feed(page)
    return "".join(parser.parts)


# --- building submissions ------------------------------------------------------


def with_sources(notebook, sources):
    """A copy of notebook whose cells with the given grade_ids get the given
    sources. Every grade_id must name a solution cell."""
    result = copy.deepcopy(notebook)
    found = set()
    for cell in result.cells:
        if is_solution_cell(cell) and grade_id(cell) in sources:
            cell.source = sources[grade_id(cell)]
            found.add(grade_id(cell))
    missing = set(sources) - found
    assert not missing, f"no solution cell with grade_id {sorted(missing)}"
    return result


def solved(released, solutions):
    """The released notebook with every solution cell answered as in the
    solutions notebook (cells matched by grade_id): a perfect submission."""
    return with_sources(released, solution_sources(solutions))


def write_notebook(notebook, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


# --- running nbgrader and notebooks ----------------------------------------------


@contextlib.contextmanager
def scripts_on_path():
    """nbgrader's Gradebook runs `alembic` by name: inside this block the
    venv's scripts come first on PATH (`make test` does not activate it)."""
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = sysconfig.get_path("scripts") + os.pathsep + old
    try:
        yield
    finally:
        os.environ["PATH"] = old


def execute_notebook(path, timeout=CELL_TIMEOUT):
    """Run every cell of the notebook at path, as a student's Run All would
    (in the notebook's folder, errors do not stop the run); return the
    executed notebook."""
    notebook = read_notebook(path)
    client = NotebookClient(
        notebook, timeout=timeout, allow_errors=True, kernel_name="python3",
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    client.execute()
    return notebook


def errors(notebook):
    """(index, cell, error output) for every error output of the notebook."""
    return [
        (index, cell, output)
        for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"
        for output in cell.get("outputs", []) if output.output_type == "error"
    ]


def first_line(source):
    lines = source.strip().splitlines()
    return lines[0] if lines else "(empty)"


# --- grading a course -------------------------------------------------------------


@dataclass
class GradedCourse:
    """The result of grading submissions with nbgrader in a course folder."""

    root: Path
    db_url: str
    sources: dict = field(default_factory=dict)  # assignment -> its source folder
    students: dict = field(default_factory=dict)  # assignment -> [student ids]

    def feedback(self, student, assignment):
        """The text of the student's feedback pages for the assignment."""
        pages = sorted((self.root / "feedback" / student / assignment).glob("*.html"))
        assert pages, f"no feedback page for {student}/{assignment} in {self.root / 'feedback'}"
        return "\n".join(page.read_text(encoding="utf-8") for page in pages)

    def scores(self, student, assignment):
        """{grade_id: (score, max_score)} of every graded cell of the
        student's submission, read from nbgrader's gradebook."""
        from nbgrader.api import Gradebook

        result = {}
        with scripts_on_path(), Gradebook(self.db_url) as gradebook:
            submission = gradebook.find_submission(assignment, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    result[grade.name] = (grade.score, grade.max_score)
        return result


def course_flags(root):
    """nbgrader flags that move the whole course, gradebook included, into
    root (the config's db_url would otherwise still name the repository's)."""
    return [
        f"--CourseDirectory.root={root}",
        "--CourseDirectory.source_directory=source",
        "--CourseDirectory.release_directory=release",
        "--CourseDirectory.submitted_directory=submitted",
        "--CourseDirectory.autograded_directory=autograded",
        "--CourseDirectory.feedback_directory=feedback",
        f"--CourseDirectory.db_url=sqlite:///{root / 'gradebook.db'}",
    ]


def grade_course(root, sources, submissions):
    """Release, autograde and make feedback for a set of submissions, in a
    fresh course folder root, with the course config.

    sources: {assignment: its source folder (holding one notebook)}.
    submissions: {assignment: {student: {grade_id: source}}}; each student
    submits the released notebook with those solution cells replaced (an
    empty dict: the released notebook untouched). nbgrader runs three times
    in all (release, autograde, feedback), whatever the number of
    assignments and students: each run costs about 2 s of start-up.
    """
    root = Path(root)
    for assignment in submissions:
        shutil.copytree(Path(sources[assignment]), root / "source" / assignment)
    release(root / "source", root / "release", list(submissions), gradebook=root / "gradebook.db")

    for assignment, students in submissions.items():
        (released,) = notebooks_in(root / "release" / assignment)
        notebook = read_notebook(released)
        for student, answers in students.items():
            write_notebook(with_sources(notebook, answers), root / "submitted" / student / assignment / released.name)

    flags = course_flags(root)
    run_nbgrader("autograde", "*", *flags, cwd=root)
    run_nbgrader("generate_feedback", "*", *flags, cwd=root)
    return GradedCourse(
        root=root, db_url=f"sqlite:///{root / 'gradebook.db'}",
        sources={assignment: Path(sources[assignment]) for assignment in submissions},
        students={assignment: list(students) for assignment, students in submissions.items()},
    )


# --- the solutions' functions, and a learner's answer beside them -------------------


@functools.lru_cache(maxsize=None)
def solution_notebook(assignment):
    """The assignment's source notebook, read once (the tests only read it)."""
    return nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", as_version=4)


def without_magics(source):
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))


@functools.lru_cache(maxsize=None)
def solution_namespace(assignment):
    """The names the assignment's setup cell and solution code cells define, run here (no teaching cells)."""
    namespace = {"__name__": f"solution_{assignment}"}
    for cell in solution_notebook(assignment).cells:
        if cell.cell_type == "code" and (grade_id(cell) == "setup" or is_solution_cell(cell)):
            exec(compile(without_magics(cell.source), f"<{assignment}:{grade_id(cell)}>", "exec"), namespace)
    return namespace


@contextlib.contextmanager
def conv_lib_restored():
    """Whatever a block does to conv_lib's modules (a hostile answer replaces a check), undone after it."""
    saved = {module_name: dict(vars(module)) for module_name, module in list(sys.modules.items())
             if module_name.split(".")[0] == "conv_lib"}
    try:
        yield
    finally:
        for module_name, attributes in saved.items():
            namespace = vars(sys.modules[module_name])
            for added in set(namespace) - set(attributes):
                del namespace[added]
            namespace.update(attributes)


def defined(assignment, name, source):
    """The function `name` that `source` defines, run in the namespace of the assignment's solution."""
    namespace = dict(solution_namespace(assignment))
    with conv_lib_restored():
        exec(compile(source, f"<{name}>", "exec"), namespace)
    return namespace[name]


# --- a toy assignment ------------------------------------------------------------------


def _meta(gid, **flags):
    return {"nbgrader": {"schema_version": 3, "grade_id": gid, **flags}}


def toy_notebook(teaching_cell_calls_student_code=False):
    """A two-function nbgrader source notebook in the course's conventions:
    solution cells, test cells with hidden tests raising a misconception
    code, a manually graded answer, locked and plain cells. With
    teaching_cell_calls_student_code, a plain cell calls an unfinished
    function, which a released notebook must not do."""
    v4 = nbformat.v4
    cells = [
        v4.new_markdown_cell("# Toy assignment", metadata=_meta("toy_intro", grade=False, solution=False, locked=True)),
        v4.new_code_cell(
            "from pathlib import Path\n\n"
            "class Misconception(AssertionError):\n"
            '    """A wrong idea, named by the code in brackets."""\n\n'
            "DATA = Path('data.txt').read_text().split()",
        ),
        v4.new_code_cell(
            'def double(x):\n    """Return twice x."""\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION',
            metadata=_meta("double", grade=False, solution=True, locked=False),
        ),
        v4.new_code_cell(
            'assert double(1) == 2, "[not-double] double(1) should be 2"\n'
            "### BEGIN HIDDEN TESTS\n"
            "if double(-7) != -14:\n"
            '    raise Misconception("[sign-lost] double(-7) should be -14")\n'
            "### END HIDDEN TESTS",
            metadata=_meta("double_tests", grade=True, solution=False, locked=True, points=2),
        ),
        v4.new_code_cell(
            'def square(x):\n    """Return x times x."""\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION',
            metadata=_meta("square", grade=False, solution=True, locked=False),
        ),
        v4.new_code_cell(
            'assert square(2) == 4, "[not-square] square(2) should be 4"\n'
            "### BEGIN HIDDEN TESTS\n"
            "if square(int(DATA[0])) != 9:\n"
            '    raise Misconception("[square-is-double] square(3) should be 9, not 6")\n'
            "### END HIDDEN TESTS",
            metadata=_meta("square_tests", grade=True, solution=False, locked=True, points=3),
        ),
        v4.new_markdown_cell(
            "### BEGIN SOLUTION\nDoubling adds a number to itself once more.\n### END SOLUTION",
            metadata=_meta("explain_double", grade=True, solution=True, locked=False, points=2),
        ),
        v4.new_code_cell(
            'import os\n\nif not os.environ.get("NBGRADER_EXECUTION"):\n    print("slow or interactive work here")'
        ),
    ]
    if teaching_cell_calls_student_code:
        cells.append(v4.new_code_cell("print(square(5))"))
    return v4.new_notebook(
        cells=cells,
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


TOY = "toy"
# A wrong answer for the toy, in the shape of the real WRONG_SUBMISSIONS.
TOY_WRONG = {"square_is_double": {"square": "def square(x):\n    return x + x\n"}}
TOY_CODES = {"square_is_double": ["[square-is-double]"]}


def write_toy_assignment(source_root, name=TOY, **options):
    """An assignment folder source_root/<name>/ with the toy notebook and a
    data file it reads; returns the notebook's path."""
    folder = Path(source_root) / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.txt").write_text("3\n")
    return write_notebook(toy_notebook(**options), folder / f"{name}.ipynb")
