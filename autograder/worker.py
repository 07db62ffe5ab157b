"""One grading worker: a long-lived process that grades submission after
submission with nbgrader's own autograde, called in-process.

Why long-lived: starting nbgrader costs about 2.6 s per process, more than
running a notebook. Each worker pays it once, then calls
`NbGraderAPI.autograde` for every submission it is given.

Why its own gradebook: sqlite dislikes concurrent writers. Each worker has a
private nbgrader course folder (a copy of the course gradebook, its own
submitted/ and autograded/ folders); it sends back plain results
(course.Graded), and the parent process alone writes them into the course
gradebook (`results.py`). How workers are started and fed is the business of
local_pool.py (processes of this machine) or cluster.py (Dask workers).

Each submission is graded twice, by two processes that cannot see each other:
1. nbgrader runs the notebook, hidden tests included, in a sandboxed kernel
   (`kernel.py`), and records each test cell's points in the worker gradebook;
2. `integrity.check` runs the student's code cells again in a fresh sandbox,
   calls the graded functions on inputs chosen here and compares the arrays
   here. A test cell that passed in the kernel but fails here was forged from
   inside the notebook: it scores 0 and the submission is `tampered`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from functools import partial
from pathlib import Path

import nbformat

from . import integrity, results, sandbox
from .course import (
    CellResult,
    Graded,
    Settings,
    graded_cells,
    last_error_line,
    load_course_config,
    quiet_warnings,
)
from .feedback import problem_lines

TIMEOUT_ERROR = "CellTimeoutError"


_worker = None


def start_worker(settings, worker_ids):
    """Process-pool initializer: take a worker number, make the worker."""
    global _worker
    quiet_warnings()
    _worker = Worker(settings, worker_ids.get())


def grade_task(student_id, assignment, notebook_path):
    """Process-pool task: grade one submission (see Worker.grade)."""
    return _worker.grade(student_id, assignment, Path(notebook_path)).to_dict()


def feedback_task(course_root_config, student_id, assignment, target, fallback_page):
    """Process-pool task: write nbgrader's feedback page of one graded
    submission, or fallback_page (HTML) if nbgrader cannot make it."""
    problem = _worker.feedback(course_root_config, student_id, assignment, Path(target))
    if problem:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(fallback_page, encoding="utf-8")
    return problem


class Worker:
    """Grades submissions in its own nbgrader course folder."""

    def __init__(self, settings: Settings, number: int):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.preprocessors import (
            AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades,
        )
        from nbconvert.preprocessors import ClearMetadataPreprocessor

        from .kernel import SandboxedExecute

        self.settings = settings
        self.number = number
        self.sandbox_user = sandbox.UID_BASE + number
        self.root = Path(tempfile.mkdtemp(prefix=f"w{number}-", dir=settings.work_root or None))
        (self.root / "source").symlink_to(Path(settings.solutions).resolve())
        shutil.copy(settings.course_db, self.root / "gradebook.db")
        self.scratch_root = self.root / "s"
        self.scratch_root.mkdir()
        os.chmod(self.root, 0o755)
        os.chmod(self.scratch_root, 0o755)

        config = load_course_config(settings.config_file)
        config.CourseDirectory.root = str(self.root)
        config.CourseDirectory.source_directory = "source"
        config.CourseDirectory.release_directory = "release"
        config.CourseDirectory.submitted_directory = "submitted"
        config.CourseDirectory.autograded_directory = "autograded"
        config.CourseDirectory.feedback_directory = "feedback"
        config.CourseDirectory.db_url = f"sqlite:///{self.root / 'gradebook.db'}"
        config.Autograde.autograde_preprocessors = [
            SandboxedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
            SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
        ]
        # A deleted test cell comes back from the source, hidden tests included.
        config.OverwriteCells.add_missing_cells = True
        config.Execute.timeout = settings.timeout
        config.Execute.interrupt_on_timeout = True
        config.SandboxedKernelManager.scratch_root = str(self.scratch_root)
        config.SandboxedKernelManager.sandbox_user = self.sandbox_user
        config.SandboxedKernelManager.memory_mb = settings.memory_mb
        config.SandboxedKernelManager.deadline_seconds = float(max(4 * settings.timeout, 30))
        self.config = config
        self.api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        self.kinds = {}
        self.sources = {}
        self._feedback_apis = {}

    # -- grading ---------------------------------------------------------

    def grade(self, student_id, assignment, notebook_path):
        """Autograde one submission, then check it independently.

        notebook_path: the staged notebook. Returns a Graded.
        """
        from .kernel import SandboxedKernelManager

        submitted = self.root / "submitted" / student_id / assignment
        autograded = self.root / "autograded" / student_id / assignment
        for folder in (submitted, autograded):
            shutil.rmtree(folder, ignore_errors=True)
        submitted.mkdir(parents=True)
        shutil.copy(notebook_path, submitted / f"{assignment}.ipynb")

        hits = SandboxedKernelManager.deadline_hits
        outcome = self.api.autograde(assignment, student_id, force=True, create=True)
        overran = SandboxedKernelManager.deadline_hits > hits
        notebook_file = autograded / f"{assignment}.ipynb"

        kinds = self.cell_kinds(assignment)
        if outcome.get("success") and notebook_file.exists():
            notebook = nbformat.read(notebook_file, as_version=4)
            cells = self.read_grades(student_id, assignment, notebook, kinds)
            timed_out = any(
                output.get("ename") == TIMEOUT_ERROR
                for cell in notebook.cells if cell.cell_type == "code"
                for output in cell.get("outputs", []) if output.get("output_type") == "error"
            )
            graded = Graded(student_id, assignment, "timeout" if timed_out else "ok", cells=cells)
            if timed_out:
                graded.message = f"a cell ran longer than {self.settings.timeout} s and was interrupted"
        else:
            notebook = nbformat.read(submitted / f"{assignment}.ipynb", as_version=4)
            status, message = explain_failure(outcome, overran, self.settings.timeout)
            cells = [CellResult(grade_id, kind, 0.0, points) for grade_id, (kind, points) in kinds.items()]
            graded = Graded(student_id, assignment, status, message, cells)

        self.check_independently(graded, notebook, notebook_file if notebook_file.exists() else None)
        if graded.notebook is None and notebook_file.exists():
            graded.notebook = notebook_file.read_text(encoding="utf-8")
        return graded

    def check_independently(self, graded, notebook, notebook_file):
        """Re-run the graded functions in a fresh sandbox and overrule any
        test cell that passed in the kernel but fails here (`tampered`)."""
        seed_text = f"{self.settings.secret}:{graded.student_id}:{graded.assignment}"
        passed_in_kernel = {cell.grade_id for cell in graded.cells if cell.kind == "test" and cell.points > 0}
        if not passed_in_kernel or not integrity.cases_for(graded.assignment, seed_text):
            return  # nothing to overrule: the check can only take points away
        workdir = sandbox.make_scratch(tempfile.mkdtemp(prefix="c-", dir=self.scratch_root), self.sandbox_user)
        try:
            os.chmod(workdir, 0o755)
            run = partial(self._run_sandboxed, timeout=max(2 * self.settings.timeout, 60))
            verdicts = integrity.check(notebook, graded.assignment, seed_text, workdir, run,
                                       cell_seconds=self.settings.timeout,
                                       reference=self.source_notebook(graded.assignment),
                                       test_cells=passed_in_kernel)
        finally:
            sandbox.remove_scratch(workdir)
        forged = []
        for cell in graded.cells:
            verdict = verdicts.get(cell.grade_id)
            if cell.kind != "test" or verdict is None or verdict.passed:
                continue
            if cell.points > 0:
                forged.append(cell.grade_id)
                cell.points = 0.0
                cell.message = (
                    f"[tampered] the checks passed inside the notebook, but the function failed "
                    f"the same kind of checks run on its own ({verdict.message})"
                )
        if forged:
            if graded.status == "ok":
                graded.status = "tampered"
            graded.message = (
                "tests passed inside the notebook but not when the functions were checked on their own: "
                + ", ".join(forged)
            )
            if notebook_file is not None:
                graded.notebook = mark_forged(nbformat.read(notebook_file, as_version=4), forged)

    def _run_sandboxed(self, argv, workdir, timeout):
        sandbox.give_to_sandbox(workdir, self.sandbox_user)
        return sandbox.run(argv, scratch=Path(workdir), sandbox_user=self.sandbox_user,
                           limits=sandbox.Limits(memory_mb=self.settings.memory_mb), timeout=timeout)

    def source_notebook(self, assignment):
        """The assignment's nbgrader source notebook (read once)."""
        if assignment not in self.sources:
            self.sources[assignment] = nbformat.read(Path(self.settings.solutions) / assignment / f"{assignment}.ipynb", as_version=4)
        return self.sources[assignment]

    def cell_kinds(self, assignment):
        """{grade_id: (kind, max points)} of the assignment's graded cells, from its source."""
        if assignment not in self.kinds:
            self.kinds[assignment] = graded_cells(self.source_notebook(assignment))
        return self.kinds[assignment]

    def read_grades(self, student_id, assignment, notebook, kinds):
        """Each graded cell's points, from the worker's gradebook (nbgrader's
        Gradebook API), and each failing test's first line, from the notebook."""
        from nbgrader.api import Gradebook

        messages = failure_messages(notebook)
        cells = []
        with Gradebook(self.config.CourseDirectory.db_url, "conv-channels") as gradebook:
            submission = gradebook.find_submission_notebook(assignment, assignment, student_id)
            scores = {grade.name: grade for grade in submission.grades}
            for grade_id, (kind, max_points) in kinds.items():
                grade = scores.get(grade_id)
                points = float(grade.auto_score or 0.0) if grade is not None else 0.0
                cells.append(CellResult(grade_id, kind, points, max_points,
                                        messages.get(grade_id, "") if kind == "test" else "",
                                        bool(grade is not None and grade.needs_manual_grade)))
        return cells

    # -- feedback --------------------------------------------------------

    def own_course_paths(self):
        """This worker's nbgrader folders, in the form feedback() takes."""
        return {"root": str(self.root), "source": "source", "autograded": "autograded",
                "feedback": "feedback", "db_url": self.config.CourseDirectory.db_url}

    def feedback_from_own_gradebook(self, outcome):
        """The feedback page of a submission this worker has just graded, for a
        worker that shares no disk with the course (cluster.py).

        The final result (the independent check's verdict included) is
        recorded in this worker's copy of the course gradebook exactly as the
        course gradebook records it (results.record, which keeps manual
        scores), then nbgrader's generate_feedback makes the page from it.
        outcome: Graded.to_dict() with its notebook. Returns (html, problem):
        the page's text, or None and the reason nbgrader could not make it.
        """
        from nbgrader.api import Gradebook

        student, assignment = outcome["student_id"], outcome["assignment"]
        with Gradebook(self.config.CourseDirectory.db_url, results.COURSE_ID) as gradebook:
            results.record(gradebook, outcome, self.cell_kinds(assignment))
        graded_notebook = self.root / "autograded" / student / assignment / f"{assignment}.ipynb"
        graded_notebook.parent.mkdir(parents=True, exist_ok=True)
        graded_notebook.write_text(outcome["notebook"], encoding="utf-8")
        target = self.root / "pages" / student / f"{assignment}.html"
        problem = self.feedback(self.own_course_paths(), student, assignment, target)
        if problem:
            return None, problem
        page = target.read_text(encoding="utf-8")
        target.unlink()
        return page, ""

    def feedback(self, course_config, student_id, assignment, target):
        """nbgrader's generate_feedback for one submission of the course
        (whose gradebook only the parent writes; here it is only read), copied
        to target. course_config: {"root", "autograded", "feedback", "db_url"}."""
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        key = json.dumps(course_config, sort_keys=True)
        if key not in self._feedback_apis:
            config = load_course_config(self.settings.config_file)
            config.CourseDirectory.root = course_config["root"]
            config.CourseDirectory.source_directory = course_config["source"]
            config.CourseDirectory.autograded_directory = course_config["autograded"]
            config.CourseDirectory.feedback_directory = course_config["feedback"]
            config.CourseDirectory.db_url = course_config["db_url"]
            self._feedback_apis[key] = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        api = self._feedback_apis[key]
        outcome = api.generate_feedback(assignment, student_id, force=True)
        page = Path(course_config["root"]) / course_config["feedback"] / student_id / assignment / f"{assignment}.html"
        if not outcome.get("success") or not page.exists():
            return f"nbgrader could not make the feedback page: {last_error_line(outcome)}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(page, target)
        return ""


def failure_messages(notebook):
    """{test cell grade_id: the first line of its error, and each further problem it lists}, e.g.
    "[reference-call] conv2d_multi_in calls ... | [depth-check] conv2d_multi_in accepted ..."."""
    messages = {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and grade_id:
                first, *further = problem_lines((output.get("evalue") or "").strip()) or [""]
                if not first.startswith("["):
                    first = f"{output.get('ename', 'Error')}: {first}".rstrip(": ")
                problems = [first, *further]
                messages[grade_id] = results.PROBLEM_SEPARATOR.join(problem[:300] for problem in problems[:6])
                break
    return messages


def mark_forged(notebook, forged):
    """The autograded notebook with a visible error in each forged test cell,
    so the feedback says why the points are gone. Returns JSON text."""
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in forged:
            cell.outputs.append(nbformat.v4.new_output(
                "error", ename="IntegrityCheck",
                evalue="[tampered] these checks passed inside the notebook, but the function failed them "
                       "when run on its own: something in the notebook changed how the checks ran",
                traceback=[],
            ))
    return nbformat.writes(notebook)


def explain_failure(outcome, overran, timeout):
    """(status, message) for a notebook nbgrader could not run to the end."""
    text = (outcome.get("error") or "") + (outcome.get("log") or "")
    if overran or TIMEOUT_ERROR in text or re.search(r"Timeout waiting for", text):
        return "timeout", (
            f"the notebook did not finish: a cell kept running after the {timeout} s limit "
            "and the interrupt, so its kernel was stopped"
        )
    if "DeadKernelError" in text or "Kernel died" in text or "kernel died" in text:
        return "error", (
            "the kernel died while running the notebook (a cell ended the Python process, "
            "e.g. with os._exit, or it ran out of memory)"
        )
    return "error", f"the notebook could not be run: {last_error_line(outcome)}"
