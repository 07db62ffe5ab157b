"""What every part of a grading run shares: where the course is and what it grades.

The grading client (grade.py), its two ways to run the grading (local_pool.py
and cluster.py) and the grading workers (worker.py) all read this module, and
it reads none of them:

    REPO, SOLUTIONS, CONFIG_FILE   this installation of the course
    Course                         where nbgrader keeps the course's grading state
    Settings                       what a grading worker is told when it starts
    Graded, CellResult             what a worker sends back for one submission
    graded_cells, graded_assignments   what each assignment grades
    FeedbackPages                  OUT/feedback/<student>/<assignment>.html
    load_course_config, last_error_line, quiet_warnings, progress_bar
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from . import release, results

REPO = release.REPO
SOLUTIONS = release.SOLUTIONS
CONFIG_FILE = release.CONFIG


@dataclass(frozen=True)
class Course:
    """Where nbgrader keeps this course's grading state.

    root: the course folder; submitted, autograded, feedback: folders relative
    to root; source: the nbgrader sources, relative to root; db: the gradebook.
    The default is the repository's (autograder/gradebook.db and the
    autograder/submitted, autograded and feedback folders, as in
    autograder/nbgrader_config.py); `--course DIR` keeps them in DIR instead.
    """

    root: Path
    source: str
    submitted: str
    autograded: str
    feedback: str
    db: Path

    @classmethod
    def default(cls):
        return cls(REPO, "solutions", "autograder/submitted", "autograder/autograded", "autograder/feedback",
                   REPO / "autograder" / "gradebook.db")

    @classmethod
    def in_folder(cls, folder):
        folder = Path(folder).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        link = folder / "source"
        if not link.exists():
            link.symlink_to(SOLUTIONS)
        return cls(folder, "source", "submitted", "autograded", "feedback", folder / "gradebook.db")

    @property
    def db_url(self):
        return f"sqlite:///{self.db}"

    def gradebook(self):
        """nbgrader's Gradebook of the course (a context manager)."""
        from nbgrader.api import Gradebook

        quiet_warnings()
        return Gradebook(self.db_url, results.COURSE_ID)

    def folder(self, which, student, assignment):
        return self.root / getattr(self, which) / student / assignment

    def nbgrader_paths(self):
        return {"root": str(self.root), "source": self.source, "autograded": self.autograded,
                "feedback": self.feedback, "db_url": self.db_url}


@dataclass(frozen=True)
class Settings:
    """What every worker needs to know, sent once when it starts.

    course_db: the course gradebook file, copied as each worker's own;
    solutions: the folder of nbgrader source notebooks;
    config_file: autograder/nbgrader_config.py (feedback preprocessors etc.);
    timeout: seconds per cell; memory_mb: all of a sandbox's processes
    together (and each one's address space); disk_mb: a sandbox's scratch
    folder; notebook_timeout: seconds for a whole notebook (0: the default,
    notebook_seconds());
    secret: mixed into the seeds of the independent check's inputs.
    """

    course_db: str
    solutions: str
    config_file: str
    timeout: int = 60
    memory_mb: int = 2048
    secret: str = "conv-channels"
    work_root: str = ""
    disk_mb: int = 256
    notebook_timeout: int = 0

    def notebook_seconds(self):
        """Seconds a whole notebook may run: notebook_timeout, or by default
        4 x the cell timeout and at least 30."""
        return self.notebook_timeout or default_notebook_timeout(self.timeout)

    @classmethod
    def here(cls, course_db, work_root, **knobs):
        """Settings for this installation of the course (its solutions/ and
        nbgrader config); knobs: timeout, memory_mb, disk_mb, notebook_timeout, secret."""
        return cls(course_db=str(course_db), solutions=str(SOLUTIONS), config_file=str(CONFIG_FILE),
                   work_root=str(work_root), **knobs)


def default_notebook_timeout(cell_timeout):
    """The default of --notebook-timeout: 4 x the cell timeout, at least 30 s."""
    return max(4 * cell_timeout, 30)


@dataclass
class CellResult:
    """One graded cell of a submission: a test cell or a written answer."""

    grade_id: str
    kind: str  # "test" (autograded) or "written" (graded by a person)
    points: float
    max_points: float
    message: str = ""
    needs_manual_grade: bool = False  # a written answer nbgrader could not score by itself


@dataclass
class Graded:
    """What a worker sends back for one submission."""

    student_id: str
    assignment: str
    status: str  # ok, timeout, error, tampered (invalid/missing never reach a worker)
    message: str = ""
    cells: list = field(default_factory=list)
    notebook: str | None = None  # the autograded notebook, JSON text
    seconds: dict = field(default_factory=dict)  # {stage: seconds} (stage_times.STAGES)

    def to_dict(self):
        return asdict(self)


def graded_cells(source_notebook):
    """{grade_id: (kind, points)} in notebook order: "test" for autograder
    test cells, "written" for answers a person grades.
    source_notebook: the nbgrader source, a path or an already read notebook."""
    notebook = source_notebook
    if not isinstance(notebook, nbformat.NotebookNode):
        notebook = nbformat.read(source_notebook, as_version=4)
    cells = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            kind = "written" if meta.get("solution") or cell.cell_type == "markdown" else "test"
            cells[meta["grade_id"]] = (kind, float(meta.get("points", 0)))
    return cells


def graded_assignments():
    """{assignment: its graded cells (graded_cells)} for the assignments of
    solutions/ with something to grade: a notebook named like its folder,
    with graded cells (so not the lecture demo)."""
    found = {}
    for name in release.find_assignments(SOLUTIONS):
        source = SOLUTIONS / name / f"{name}.ipynb"
        cells = graded_cells(source) if source.exists() else {}
        if cells:
            found[name] = cells
    return found


@dataclass(frozen=True)
class FeedbackPages:
    """The feedback pages of a run, OUT/feedback/<student>/<assignment>.html.

    root: OUT/feedback; course: the Course from whose gradebook and
    autograded notebooks nbgrader's generate_feedback makes the pages.
    """

    root: Path
    course: Course

    def page(self, student, assignment):
        """Where OUT/feedback/<student>/<assignment>.html is."""
        return self.root / student / f"{assignment}.html"

    def write(self, row, html=None, why=""):
        """Write the page of row (a results.Row): html, a page nbgrader made
        (a worker gave it the pages' Content-Security-Policy), or by default
        the short page saying why there is none (results.problem_page; why:
        what stopped nbgrader's page, when known)."""
        target = self.page(row.student_id, row.assignment)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(results.problem_page(row, why) if html is None else html, encoding="utf-8")


def load_course_config(config_file):
    """The traitlets Config of autograder/nbgrader_config.py."""
    from traitlets.config.loader import PyFileConfigLoader

    folder, name = os.path.split(os.path.abspath(config_file))
    return PyFileConfigLoader(name, path=folder).load_config()


#: nbgrader's closing words when a step failed, which only point at the traceback above them in its log.
NBGRADER_BOILERPLATE = re.compile(r"Please see the( the)? above traceback|There was an error processing assignment")
_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Exit|Interrupt)(?::|$)")
_FRAME_LINE = re.compile(r'^File "(?:.*/site-packages/)?(?P<file>[^"]*)", line \d+, in (?P<function>\S+)')


def last_error_line(outcome):
    """The line that says what went wrong, from an NbGraderAPI call's outcome: the last exception in
    its error and log, with the function that raised it ("KeyError: 'grade_id' (in
    nbgrader/preprocessors/overwritecells.py, add_missing_task_cells)"), never nbgrader's closing
    "Please see the above traceback"; else its last error line; else that it gave none."""
    text = (outcome.get("error") or "") + "\n" + (outcome.get("log") or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    meaningful = [line for line in lines if not NBGRADER_BOILERPLATE.search(line)]
    for index in range(len(lines) - 1, -1, -1):
        if _EXCEPTION_LINE.match(lines[index]) and lines[index] in meaningful:
            frames = [_FRAME_LINE.match(line) for line in lines[:index]]
            frame = next((f for f in reversed(frames) if f), None)
            where = f" (in {frame['file']}, {frame['function']})" if frame else ""
            return (lines[index][:300] + where)[:400]
    errors = [line for line in meaningful if "error" in line.lower() and not line.endswith("(most recent call last):")]
    return (errors or ["nbgrader stopped without saying why (its log holds no error)"])[-1][:300]


def quiet_warnings():
    """nbgrader 0.9.6's gradebook makes SQLAlchemy warn about its own
    autoflush on every new submission, and nbformat warns about notebooks
    saved without cell ids (nbgrader reads them as they are): neither means
    anything to an instructor, and both would bury the progress bar."""
    import warnings

    from nbformat.validator import MissingIDFieldWarning
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)
    warnings.filterwarnings("ignore", category=MissingIDFieldWarning)


def progress_bar(total, label, enabled):
    """A tqdm bar on stderr, counting notebooks; silent when not enabled or nothing to count."""
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="notebook", disable=not enabled or total == 0,
                file=sys.stderr, dynamic_ncols=True)
