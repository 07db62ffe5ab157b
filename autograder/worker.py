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
   here, with tripwires on the ready-made convolutions. A test cell that
   passed in the kernel but fails here was forged from inside the notebook
   (or dodged the your-own-loops rule): it scores 0 and the submission is
   `tampered`; one that only hit a limit of the check scores 0 too, and the
   submission waits for a person (`needs_manual_grade`).
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import tempfile
import time
from functools import partial
from pathlib import Path

import nbformat

from . import confinement, copied_cells, inert, integrity, results, sandbox
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
from .feedback_exporter import FeedbackPageExporter, compile_templates, remember_cells
from .stage_times import Stopwatch

TIMEOUT_ERROR = "CellTimeoutError"
#: How long nbclient waits for a cell's last output once the cell has ended (its default, 4 s, is short on a busy machine).
IOPUB_SECONDS = 10
#: How long one feedback page may take to make; a slower one is replaced by a short page saying why.
FEEDBACK_SECONDS = 60


_worker = None
_slot = None  # the lock file that keeps this process's worker number its own (sandbox.claim_slot)


class NoFreeSlot(RuntimeError):
    """Every worker number of this machine's local pools is held by a grading process."""


def start_worker(settings, worker_ids):
    """Process-pool initializer: take a worker number (the pool's, unless another grading run on this
    machine holds it: then a free one, sandbox.claim_slot), make the worker."""
    global _worker, _slot
    quiet_warnings()
    number, _slot = sandbox.claim_slot(sandbox.LOCAL_SLOTS, preferred=worker_ids.get())
    if number is None:
        raise NoFreeSlot(f"more than {len(sandbox.LOCAL_SLOTS)} local grading workers on this machine at once")
    _worker = Worker(settings, number)


def grade_task(student_id, assignment, notebook_path):
    """Process-pool task: grade one submission (see Worker.grade)."""
    return _worker.grade(student_id, assignment, Path(notebook_path)).to_dict()


def feedback_task(course_root_config, row, target):
    """Process-pool task: write nbgrader's feedback page of one graded
    submission (row: its results.Row), or, if nbgrader cannot make it within
    FEEDBACK_SECONDS, a short page saying why (results.problem_page).
    Returns {"problem": "" or why there is no page, "seconds": {"feedback page": seconds}}."""
    watch = Stopwatch()
    with watch.stage("feedback page"):
        problem = _worker.feedback(course_root_config, row.student_id, row.assignment, Path(target))
        if problem:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            Path(target).write_text(results.problem_page(row, problem), encoding="utf-8")
    return {"problem": problem, "seconds": watch.seconds}


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

        share_gradebook_engines()
        server = sandbox.shared_fork_server()
        if server is not None:
            server.start()  # it imports the sandboxed processes' libraries while this worker sets up
        self.settings = settings
        self.number = number
        self.sandbox_user = sandbox.UID_BASE + number
        confinement.remove_leftovers()
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
        config.Execute.iopub_timeout = IOPUB_SECONDS
        # The kernel and its sandbox are thrown away at once: nothing waits for the kernel to say goodbye.
        config.Execute.shutdown_kernel = "immediate"
        config.SandboxedKernelManager.scratch_root = str(self.scratch_root)
        config.SandboxedKernelManager.sandbox_user = self.sandbox_user
        config.SandboxedKernelManager.memory_mb = settings.memory_mb
        config.SandboxedKernelManager.disk_mb = settings.disk_mb
        config.SandboxedKernelManager.deadline_seconds = float(settings.notebook_seconds())
        self.config = config
        self.api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        self.kinds = {}
        self.sources = {}
        self._feedback_apis = {}
        self._prepared_pages = set()  # (id of a course's feedback api, assignment) prepare_pages prepared

    # -- grading ---------------------------------------------------------

    def grade(self, student_id, assignment, notebook_path):
        """Autograde one submission, then check it independently.

        notebook_path: the staged notebook. Returns a Graded.
        """
        from .kernel import begin_notebook

        submitted = self.root / "submitted" / student_id / assignment
        autograded = self.root / "autograded" / student_id / assignment
        for folder in (submitted, autograded):
            shutil.rmtree(folder, ignore_errors=True)
        submitted.mkdir(parents=True)
        staged = nbformat.read(notebook_path, as_version=4)
        unknown_cells = copied_cells.drop_unknown_cells(staged, self.source_notebook(assignment))
        nbformat.write(staged, submitted / f"{assignment}.ipynb")

        run = begin_notebook()
        watch = Stopwatch()
        with watch.stage("nbgrader"):
            outcome = self.api.autograde(assignment, student_id, force=True, create=True)
        notebook_file = autograded / f"{assignment}.ipynb"

        kinds = self.cell_kinds(assignment)
        if outcome.get("success") and notebook_file.exists() and not run.stopped:
            with watch.stage("nbgrader"):
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
            status, message = explain_failure(outcome, run, self.settings)
            cells = [CellResult(grade_id, kind, 0.0, points) for grade_id, (kind, points) in kinds.items()]
            graded = Graded(student_id, assignment, status, message, cells)
        if run.dropped:
            graded.message = "; ".join(filter(None, [graded.message, output_cut_message(run)]))
        if unknown_cells:
            graded.message = "; ".join(filter(None, [graded.message, *unknown_cells]))

        with watch.stage("independent check"):
            self.check_independently(graded, notebook, notebook_file if notebook_file.exists() else None)
        if graded.notebook is None and notebook_file.exists():
            graded.notebook = notebook_file.read_text(encoding="utf-8")
        if graded.notebook is not None:
            with watch.stage("inert copy"):
                # Once, here: the formgrader and the feedback pages show only this inert copy.
                graded.notebook = inert.inert_notebook_text(graded.notebook)
        graded.seconds = stage_seconds(watch, run)
        return graded

    def check_independently(self, graded, notebook, notebook_file):
        """Re-run the graded functions in a fresh sandbox and overrule any
        test cell that passed in the kernel but fails here: it scores 0.

        Why it failed decides the status (see overruled_status): wrong values
        or a ready-made call make the submission `tampered` (the pass inside
        the notebook was false; a [reference-call] message says what was
        called); a limit of the check alone (time, memory, file size) makes
        it `needs_manual_grade` with a [limit] message, since it proves
        nothing either way: the points wait for a person, so a notebook that
        exhausts the check on purpose keeps no forged points."""
        seed_text = f"{self.settings.secret}:{graded.student_id}:{graded.assignment}"
        passed_in_kernel = {cell.grade_id for cell in graded.cells if cell.kind == "test" and cell.points > 0}
        if not passed_in_kernel or not integrity.cases_for(graded.assignment, seed_text):
            return  # nothing to overrule: the check can only take points away
        workdir = sandbox.make_scratch(tempfile.mkdtemp(prefix="c-", dir=self.scratch_root), self.sandbox_user,
                                       self.settings.disk_mb)
        try:
            os.chmod(workdir, 0o755)
            run = partial(self._run_sandboxed, timeout=max(2 * self.settings.timeout, 60))
            verdicts = integrity.check(notebook, graded.assignment, seed_text, workdir, run,
                                       cell_seconds=self.settings.timeout,
                                       reference=self.source_notebook(graded.assignment),
                                       test_cells=passed_in_kernel)
        finally:
            sandbox.remove_scratch(workdir)
        overruled = {}
        for cell in graded.cells:
            verdict = verdicts.get(cell.grade_id)
            if cell.kind != "test" or verdict is None or verdict.passed or cell.points <= 0:
                continue
            overruled[cell.grade_id] = verdict.kind
            cell.points = 0.0
            cell.message = overruled_message(verdict)
        if overruled:
            graded.status, graded.message = overruled_status(graded.status, overruled)
            if notebook_file is not None:
                graded.notebook = mark_forged(nbformat.read(notebook_file, as_version=4), overruled)

    def _run_sandboxed(self, argv, workdir, timeout):
        sandbox.give_to_sandbox(workdir, self.sandbox_user)
        return sandbox.run(argv, scratch=Path(workdir), sandbox_user=self.sandbox_user,
                           limits=sandbox.Limits(memory_mb=self.settings.memory_mb, disk_mb=self.settings.disk_mb),
                           timeout=timeout, keep_lines=integrity.KEPT_STDERR_LINES)

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
        outcome: Graded.to_dict() with its notebook (already inert: Worker.grade).
        Returns (html, problem): the page's text, or None and the reason
        nbgrader could not make it (within FEEDBACK_SECONDS).
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

    def feedback(self, course_config, student_id, assignment, target, seconds=None):
        """nbgrader's generate_feedback for one submission of the course
        (whose gradebook only the parent writes; here it is only read), made
        within `seconds` (default FEEDBACK_SECONDS) and written to target with
        the pages' Content-Security-Policy (inert.with_page_policy).
        course_config: {"root", "source", "autograded", "feedback", "db_url"}.
        Returns "" when the page was written, else why it could not be made."""
        api = self.feedback_api(course_config)
        self.prepare_pages(api, assignment)
        page = Path(course_config["root"]) / course_config["feedback"] / student_id / assignment / f"{assignment}.html"
        seconds = FEEDBACK_SECONDS if seconds is None else seconds
        problem = within_deadline(partial(make_feedback_page, api, assignment, student_id, page), seconds)
        if problem:
            return problem
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(inert.with_page_policy(page.read_text(encoding="utf-8")), encoding="utf-8")
        return ""

    def prepare_pages(self, api, assignment):
        """Once per course and assignment, here, before a page's process is forked: do what every page
        would otherwise do again in its own process. Render the assignment's source notebook's cells
        with the pages' exporter, as they show in a graded notebook (feedback_exporter.remember_cells),
        so that a page renders only what the learner changed; compile nbformat's notebook validator;
        open the course gradebook once (its database driver). Only the speed of pages depends on it."""
        key = (id(api), assignment)  # feedback_api keeps one api per course for the worker's life
        if key in self._prepared_pages:
            return
        self._prepared_pages.add(key)
        from nbgrader.api import Gradebook

        source = self.source_notebook(assignment)
        try:
            remember_cells(api.config, api.coursedir, source, lexer=GRADED_LEXER)
            nbformat.validate(source, relax_add_props=True)  # as nbconvert validates each page's notebook
            with Gradebook(api.coursedir.db_url, results.COURSE_ID) as gradebook:
                gradebook.students  # noqa: B018 - the query is what is wanted
        except Exception:  # noqa: BLE001 - an optimization only; the page itself says what goes wrong
            pass

    def feedback_api(self, course_config):
        """The NbGraderAPI that makes the feedback pages of the course at course_config (made once)."""
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
            config.GenerateFeedback.exporter_class = FeedbackPageExporter
            coursedir = CourseDirectory(config=config)
            # Compiled here, once: each page is made in a forked process, which would compile them again.
            compile_templates(config, coursedir)
            self._feedback_apis[key] = NbGraderAPI(coursedir=coursedir, config=config)
        return self._feedback_apis[key]


def share_gradebook_engines():
    """Make nbgrader's gradebooks in this process share one SQLAlchemy engine per database URL.

    nbgrader opens its gradebook about ten times for each submission (autograde's steps, the worker's
    reading of the grades, the feedback page), and each Gradebook made its own engine, which compiled
    every query again (about 30 ms of each submission's nbgrader stage here). An engine keeps the queries
    it compiled. nbgrader's Gradebook.close() still returns the engine's connections each time; a process
    forked for a page (within_deadline) drops any it inherited without closing them for this one."""
    import sqlalchemy
    from nbgrader import api

    if getattr(api.create_engine, "shared_engines", None) is not None:
        return
    engines = {}

    def create_engine(url, **options):
        key = (str(url), tuple(sorted(options.items())))
        if key not in engines:
            engines[key] = sqlalchemy.create_engine(url, **options)
        return engines[key]

    create_engine.shared_engines = engines
    api.create_engine = create_engine
    os.register_at_fork(after_in_child=lambda: [engine.dispose(close=False) for engine in engines.values()])


def stage_seconds(watch, run):
    """{stage: seconds} of one graded submission: the worker's stages (watch, whose "nbgrader" holds the
    whole autograde call) and the kernel's (run.watch), which "nbgrader" is then left without."""
    seconds = dict(watch.seconds)
    for stage, value in run.watch.seconds.items():
        seconds[stage] = value
        if "nbgrader" in seconds:
            seconds["nbgrader"] -= value
    if "nbgrader" in seconds:
        seconds["nbgrader"] = max(seconds["nbgrader"], 0.0)
    return {stage: round(value, 4) for stage, value in seconds.items()}


#: The pygments lexer of every graded notebook: the one ipykernel names in the language_info it reports,
#: which nbclient writes into the notebook it runs (and nbconvert highlights its code with).
GRADED_LEXER = "ipython3"


def make_feedback_page(api, assignment, student_id, page):
    """nbgrader's generate_feedback of one submission; "" when it made `page`, else why not."""
    outcome = api.generate_feedback(assignment, student_id, force=True)
    if not outcome.get("success") or not page.exists():
        return f"nbgrader could not make the feedback page: {last_error_line(outcome)}"
    return ""


def within_deadline(make, seconds):
    """make() (which returns "" or a problem, as text) run in a child process forked from this
    one, stopped (SIGKILL) once it has run `seconds`. Returns make()'s answer, or why there is none.

    A process, not a thread: the slow part of a page can be one long regular-expression match
    (nbconvert on markdown made to be slow), which only ending its process stops for sure.
    Forking keeps nbgrader, already started in this worker, so a page costs no new start-up."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: make the page, say how it went, and leave without clean-up
        answer = "the feedback page could not be made"
        try:
            os.close(read_end)
            answer = make()
        except BaseException as error:  # noqa: BLE001 - reported to the parent, which goes on
            answer = f"making the feedback page failed: {error!r}"[:300]
        finally:
            os.write(write_end, answer.encode("utf-8", "replace")[:4000])
            os._exit(0)
    os.close(write_end)
    try:
        answer, finished = read_until_closed(read_end, time.monotonic() + seconds)
    finally:
        os.close(read_end)
    if not finished:
        os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    if not finished:
        return (f"the feedback page took longer than {seconds:g} s to make (the notebook holds something "
                "very slow to render, such as a huge markdown cell), so it was stopped")
    return answer


def read_until_closed(handle, deadline):
    """(the text written to the pipe `handle` until its writer closed it, whether it closed
    before `deadline`, a time.monotonic() time)."""
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([handle], [], [], left)[0]:
            return "", False
        chunk = os.read(handle, 4096)
        if not chunk:
            return b"".join(chunks).decode("utf-8", "replace"), True
        chunks.append(chunk)


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


def output_cut_message(run):
    """What the row says of a notebook whose output was cut (run: NotebookRun)."""
    from .kernel import megabytes

    return (f"the notebook printed too much: {megabytes(run.printed)} of output, of which the grader kept "
            f"{megabytes(run.printed - run.dropped)} and dropped the rest")


def overruled_message(verdict):
    """tests.csv's message for a test cell that passed in the kernel and failed the independent
    check (verdict: its integrity.CheckResult), starting with the code of what happened."""
    if verdict.kind == "reference-call":
        return (f"{verdict.message}; found when the function was checked on its own, "
                "so the pass inside the notebook does not count")
    if verdict.kind == "limit":
        return (f"{verdict.message}; a limit of the check, not a wrong answer: "
                "the points wait for a person to look")
    return (f"[tampered] the checks passed inside the notebook, but the function failed "
            f"the same kind of checks run on its own ({verdict.message})")


def overruled_status(status, overruled):
    """(status, message) of a submission whose test cells in overruled ({grade_id: CheckResult.kind})
    passed in the kernel and failed the independent check. A disagreement or a ready-made call
    makes an "ok" submission `tampered`; limits alone make it `needs_manual_grade`, never `tampered`."""
    forged = [grade_id for grade_id, kind in overruled.items() if kind != "limit"]
    limited = [grade_id for grade_id, kind in overruled.items() if kind == "limit"]
    lines = []
    if forged:
        lines.append("tests passed inside the notebook but not when the functions were checked on their own: "
                     + ", ".join(forged))
    if limited:
        lines.append("the check of the functions on their own stopped at a limit for: " + ", ".join(limited)
                     + " (their points wait for a person)")
    if status == "ok":
        status = "tampered" if forged else "needs_manual_grade"
    return status, "; ".join(lines)


#: What the feedback page says in a test cell whose pass was overruled, by CheckResult.kind.
OVERRULED_PAGE_LINES = {
    "": "[tampered] these checks passed inside the notebook, but the function failed them "
        "when run on its own: something in the notebook changed how the checks ran",
    "reference-call": "[reference-call] the function calls a ready-made convolution (seen when it was run on "
                      "its own, out of the notebook's reach): write the loops yourself",
    "limit": "[limit] the function could not be checked on its own within the limits of the check "
             "(time, memory or file size): a person will look at it",
}


def mark_forged(notebook, overruled):
    """The autograded notebook with a visible error in each overruled test cell
    (overruled: {grade_id: CheckResult.kind}), so the feedback says why the
    points are gone. Returns JSON text."""
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in overruled:
            cell.outputs.append(nbformat.v4.new_output(
                "error", ename="IntegrityCheck", evalue=OVERRULED_PAGE_LINES[overruled[grade_id]], traceback=[],
            ))
    return nbformat.writes(notebook)


def explain_failure(outcome, run, settings):
    """(status, message) for a notebook nbgrader could not run to the end, or
    whose sandbox was stopped. run: the kernel's NotebookRun; settings: Settings."""
    from .kernel import LARGEST_MESSAGE

    text = (outcome.get("error") or "") + (outcome.get("log") or "")
    timeout = settings.timeout
    if run.stopped.startswith(("disk", "memory")):
        return "error", confinement.stop_message(run.stopped, settings.memory_mb, settings.disk_mb)
    if run.stopped == "deadline":
        allowed = (f"the whole notebook ran longer than the {settings.notebook_seconds()} s allowed "
                   "for a notebook (--notebook-timeout), so its kernel was stopped")
        if run.interrupts:
            return "timeout", f"a cell kept running after the {timeout} s limit and the interrupt, and {allowed}"
        return "timeout", f"{allowed}; no cell ran past the {timeout} s limit for a cell"
    if "Timeout waiting for IOPub output" in text:
        return "timeout", (
            f"the notebook did not finish: a cell's output was still coming {IOPUB_SECONDS} s after the cell "
            "ended (it kept printing after the interrupt, it printed more than "
            f"{LARGEST_MESSAGE // 2**20} MB in one go, which the grader does not read, or the machine was too busy), "
            "so its kernel was stopped"
        )
    if TIMEOUT_ERROR in text or re.search(r"Timeout waiting for", text):
        return "timeout", (
            f"the notebook did not finish: a cell kept running after the {timeout} s limit "
            "and the interrupt, so its kernel was stopped"
        )
    if "DeadKernelError" in text or "Kernel died" in text or "kernel died" in text:
        return "error", (
            "the kernel died while running the notebook (a cell ended the Python process, "
            "e.g. with os._exit, or it ran out of memory)"
        )
    return "error", f"nbgrader could not grade the notebook: {last_error_line(outcome)}"
