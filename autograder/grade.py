"""`conv-course grade`: a folder of submissions in, grades and feedback out.

    collect      submissions.collect: nbgrader's layout or an LMS download,
                 each file checked and staged (or given a clear problem)
    register     the course gradebook learns the assignments (nbgrader's
                 generate_assignment, into a throw-away release folder)
    grade        a pool of long-lived workers (worker.py), one submission at a
                 time each: nbgrader autograde in a sandboxed kernel, then the
                 independent check
    record       this process alone writes the course gradebook
                 (results.record), then reads every score back from it
    feedback     the workers run nbgrader's generate_feedback (reading the
                 gradebook only); submissions that could not run get a page
                 saying why
    write        OUT/grades.csv, OUT/tests.csv, OUT/feedback/<student>/<assignment>.html

OUT/progress.jsonl (journal.py) lists what is recorded, so that a run that
stops resumes where it was: a submission graded by an earlier run into the
same OUT, unchanged, is kept (--force grades it again). With --cluster, the
grade and feedback steps run as Dask tasks instead of local workers
(cluster.py); the rest is the same.

A crash of one submission is contained at each step: its kernel is in a
sandbox; a worker process that dies is replaced and its submission retried
once, then reported as `error`.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from . import journal, release, results, sandbox, submissions, worker

REPO = release.REPO
SOLUTIONS = release.SOLUTIONS
CONFIG_FILE = REPO / "autograder" / "nbgrader_config.py"


class GradingError(RuntimeError):
    """The grader itself cannot run (not a problem of one submission)."""


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
class Options:
    """The knobs of a grading run (see `conv-course grade --help`)."""

    assignments: tuple = ()
    jobs: int = 0
    timeout: int = 60
    memory_mb: int = 2048
    progress: bool = True
    secret: str = ""
    feedback: bool = True
    cluster: str = ""  # a Dask scheduler's address, or local:N (cluster.py); "" grades on this machine
    force: bool = False  # grade again what an earlier run into the same OUT graded


def default_jobs():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def grade(submissions_dir, out, options=Options(), course=None):
    """Grade every submission in submissions_dir; write the CSVs and the
    feedback into out. Returns (rows, summary text). Raises GradingError when
    the grader cannot run at all."""
    started = time.perf_counter()
    course = course or Course.default()
    out = Path(out)
    all_kinds = graded_assignments()
    known = list(all_kinds)
    unknown = [name for name in options.assignments if name not in known]
    if unknown:
        raise GradingError(f"no such assignment: {', '.join(unknown)} (this course has {', '.join(known)})")
    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable as error:
        raise GradingError(str(error)) from error

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="conv-course-"))
    os.chmod(work, 0o755)
    try:
        try:
            found, notes = submissions.collect(Path(submissions_dir), work / "staged", known,
                                               only=list(options.assignments) or None)
        except (FileNotFoundError, NotADirectoryError) as error:
            raise GradingError(str(error)) from error
        chosen = sorted(set(options.assignments) or {s.assignment for s in found if s.assignment in known})
        register(course, chosen, work)
        kinds = {name: all_kinds[name] for name in chosen}

        tasks = [s for s in found if s.problem is None and s.assignment in kinds]
        settings = worker.Settings(
            course_db=str(course.db), solutions=str(SOLUTIONS), config_file=str(CONFIG_FILE),
            timeout=options.timeout, memory_mb=options.memory_mb,
            secret=options.secret or os.environ.get("CONV_COURSE_SECRET", "conv-channels"),
            work_root=str(work),
        )
        progress = journal.Journal(out)
        feedback_root = out / "feedback"
        if options.force:
            progress.forget(chosen)
            for assignment in chosen:
                for page in feedback_root.glob(f"*/{assignment}.html"):
                    page.unlink()
        digests = [journal.fingerprint(s.notebook, SOLUTIONS / s.assignment / f"{s.assignment}.ipynb",
                                       (settings.timeout, settings.memory_mb, settings.secret)) for s in tasks]
        with course.gradebook() as gradebook:
            rows = store_problems(course, gradebook, found, kinds, chosen)
            to_grade = []
            for submission, digest in zip(tasks, digests):
                row = resumed_row(gradebook, progress, submission, digest, kinds, options, feedback_root)
                if row is None:
                    to_grade.append((submission, digest))
                else:
                    rows.append(row)
            kept = len(tasks) - len(to_grade)
            if kept:
                notes = [*notes, f"{kept} submission(s) graded by an earlier run into {out} were kept "
                                 "(same notebook, tests and options); --force grades them again"]

            def recorded(index, outcome):
                # Here, in this process, as each result comes: into the
                # gradebook and the progress file.
                submission, digest = to_grade[index]
                row = store_outcome(course, gradebook, submission, outcome, kinds[submission.assignment])
                rows.append(row)
                # An earlier page must not pass for this result's, should the run stop before its page is made.
                feedback_page(feedback_root, row.student_id, row.assignment).unlink(missing_ok=True)
                progress.add(row.student_id, row.assignment, digest, outcome["status"], outcome["message"],
                             {grade_id: message for grade_id, _, _, message in row.tests or []})
                return row

            def crash(student, assignment, message=None):
                outcome = crashed(student, assignment, kinds[assignment])
                return {**outcome, "message": message} if message else outcome

            if options.cluster:
                where = f"on the cluster {options.cluster}"
                grade_on_cluster(options, settings, course, to_grade, recorded, crash, feedback_root)
            else:
                jobs = min(options.jobs or default_jobs(), max(len(to_grade), 1))
                where = f"with {jobs} job(s)"
                grade_here(options, settings, course, to_grade, jobs, recorded, crash, feedback_root)
            for row in rows:
                if row.status in ("invalid", "missing") and options.feedback:
                    feedback_call(course, row, False, feedback_root)
        results.write_csvs(rows, out)
        seconds = time.perf_counter() - started
        pace = f", {seconds / len(to_grade):.2f} s per notebook" if to_grade else ""
        timing = f"took {seconds:.1f} s {where}{pace}"
        return rows, results.summary(rows, notes) + "\n" + timing
    finally:
        sandbox.remove_scratch(work)


def grade_here(options, settings, course, to_grade, jobs, recorded, crash, feedback_root):
    """Grade [(submission, digest)] on this machine's worker processes (WorkerPool)."""
    if not to_grade:
        return

    def then(index, outcome):
        # Then its feedback page is made by a worker, from the course gradebook.
        row = recorded(index, outcome)
        if options.feedback:
            return feedback_call(course, row, bool(outcome.get("notebook")), feedback_root)
        return None

    with WorkerPool(settings, jobs) as pool:
        pool.run([(worker.grade_task, (s.student_id, s.assignment, str(s.notebook))) for s, _ in to_grade],
                 "grading", options.progress, on_crash=lambda args: crash(args[0], args[1]), then=then)


def grade_on_cluster(options, settings, course, to_grade, recorded, crash, feedback_root):
    """Grade [(submission, digest)] on Dask (cluster.py); each result brings its feedback page."""
    from . import cluster

    if not to_grade:
        return

    def on_result(index, outcome):
        row = recorded(index, outcome)
        if options.feedback and outcome.get("feedback_page"):
            target = feedback_page(feedback_root, row.student_id, row.assignment)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(outcome["feedback_page"], encoding="utf-8")
        elif options.feedback:  # it did not run, or nbgrader could not make its page
            feedback_call(course, row, False, feedback_root)

    bar = progress_bar(len(to_grade), "grading", options.progress)
    try:
        cluster.run(options.cluster, settings, course.db, [s for s, _ in to_grade], options.feedback, on_result,
                    lambda index, message: crash(to_grade[index][0].student_id, to_grade[index][0].assignment, message),
                    bar)
    except cluster.ClusterError as error:
        raise GradingError(str(error)) from error
    finally:
        bar.close()


def resumed_row(gradebook, progress, submission, digest, kinds, options, feedback_root):
    """The row of a submission an earlier run into the same OUT graded exactly
    as this one would (journal.py), read back from the gradebook; None when it
    must be graded (new, changed, or its result or feedback page is gone)."""
    from nbgrader.api import MissingEntry

    entry = progress.finished(submission.student_id, submission.assignment, digest)
    if entry is None:
        return None
    if options.feedback and not feedback_page(feedback_root, submission.student_id, submission.assignment).exists():
        return None
    try:
        return results.read_row(gradebook, submission.student_id, submission.assignment, entry["status"],
                                entry["message"], kinds[submission.assignment], entry["messages"])
    except MissingEntry:
        return None


def graded_assignments():
    """{assignment: its graded cells (worker.graded_cells)} for the
    assignments of solutions/ with something to grade: a notebook named like
    its folder, with graded cells (so not the lecture demo)."""
    found = {}
    for name in release.find_assignments(SOLUTIONS):
        source = SOLUTIONS / name / f"{name}.ipynb"
        cells = worker.graded_cells(source) if source.exists() else {}
        if cells:
            found[name] = cells
    return found


def crashed(student, assignment, kinds):
    """The result of a submission whose worker process died twice on it."""
    cells = [worker.CellResult(grade_id, kind, 0.0, points) for grade_id, (kind, points) in kinds.items()]
    return worker.Graded(student, assignment, "error",
                         "grading this submission crashed the grading process twice", cells).to_dict()


def register(course, assignments, work):
    """Make sure the course gradebook knows each assignment and its cells:
    nbgrader's generate_assignment, called in this process (no second
    nbgrader start-up), released into a throw-away folder."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    course.db.parent.mkdir(parents=True, exist_ok=True)
    if not assignments:
        return
    config = worker.load_course_config(CONFIG_FILE)
    # As autograder/release.py: the root is the sources' parent, where
    # nbgrader's assignment pattern finds them.
    config.CourseDirectory.root = str(SOLUTIONS.parent)
    config.CourseDirectory.source_directory = SOLUTIONS.name
    config.CourseDirectory.release_directory = os.path.relpath(work / "release", SOLUTIONS.parent)
    config.CourseDirectory.db_url = course.db_url
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    for name in assignments:
        outcome = api.generate_assignment(name, force=True, create=True)
        if not outcome.get("success"):
            raise GradingError(f"could not register {name} in the gradebook {course.db}: "
                               f"{worker.last_error_line(outcome)}")


class WorkerPool:
    """Long-lived grading workers (worker.Worker), each with its own number
    (hence its own sandbox user and gradebook). A worker process that dies
    is replaced; the task it was running is tried once more."""

    def __init__(self, settings, jobs, initializer=worker.start_worker):
        self.settings, self.jobs = settings, max(1, jobs)
        self.initializer = initializer
        self.context = multiprocessing.get_context("spawn")
        self.executor = None

    def __enter__(self):
        self._start()
        return self

    def __exit__(self, *exc):
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)

    def _start(self):
        numbers = self.context.Queue()
        for number in range(self.jobs):
            numbers.put(number)
        self.executor = ProcessPoolExecutor(self.jobs, mp_context=self.context,
                                            initializer=self.initializer, initargs=(self.settings, numbers))

    def run(self, calls, label, progress, on_crash=None, then=None):
        """Run [(function, args)] on the workers; returns the results in order.

        At most one task per worker is in flight, so when a worker process
        dies the suspects are the few tasks then running. Each suspect is then
        run again alone: one that kills its worker a second time gets
        on_crash(args) as its result (without on_crash, the error is raised);
        the others finish normally. A task that raises gets on_crash too.

        then(index, result), if given, is called here as each result comes
        and may return a follow-up call (function, args) for the workers,
        which runs among the remaining tasks; a follow-up's result is not
        returned, and a follow-up that fails is dropped (it must leave its
        own trace, as the feedback pages do).
        """
        calls = list(calls)
        count = len(calls)
        done = {}
        queue, suspects = deque(range(count)), deque()
        bar = progress_bar(count, label, progress)

        def finish(index, result):
            done[index] = result
            if index >= count:
                return
            bar.update(1)
            follow_up = then(index, result) if then is not None else None
            if follow_up is not None:
                calls.append(follow_up)
                queue.append(len(calls) - 1)

        def failed(index, result):
            finish(index, None if index >= count or on_crash is None else result())

        while queue or suspects:
            alone = bool(suspects)
            batch = deque([suspects.popleft()]) if alone else queue
            in_flight = {}
            try:
                while batch or in_flight:
                    while batch and len(in_flight) < self.jobs:
                        index = batch.popleft()
                        in_flight[self.executor.submit(calls[index][0], *calls[index][1])] = index
                    finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                    for future in finished:
                        index = in_flight.pop(future)
                        try:
                            result = future.result()
                        except BrokenProcessPool:
                            in_flight[future] = index
                            raise
                        except Exception as error:  # a bug of the grader on this task
                            if on_crash is None and index < count:
                                raise
                            failed(index, lambda i=index, e=error: {
                                **on_crash(calls[i][1]),
                                "message": f"the grader failed on this submission: {e!r}"[:300]})
                            continue
                        finish(index, result)
            except BrokenProcessPool:
                self.executor.shutdown(wait=False, cancel_futures=True)
                self._start()
                for index in in_flight.values():
                    if not alone:
                        suspects.append(index)  # it was running when a worker died
                    elif on_crash is None and index < count:
                        raise
                    else:  # alone, it killed its worker again: it is the culprit
                        failed(index, lambda i=index: on_crash(calls[i][1]))
        bar.close()
        return [done[i] for i in range(count)]


def progress_bar(total, label, enabled):
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="notebook", disable=not enabled or total == 0,
                file=sys.stderr, dynamic_ncols=True)


def store_problems(course, gradebook, found, kinds, chosen):
    """The rows of the submissions that will not run: invalid files, unknown
    assignments, and students with nothing for an assignment (missing). An
    invalid submission of a known assignment scores 0 in the gradebook too,
    so an earlier grade of that student does not linger there."""
    rows = []
    students = sorted({s.student_id for s in found} | {student.id for student in gradebook.students})
    seen = {(s.student_id, s.assignment) for s in found}
    for s in found:
        key = (s.student_id, s.assignment)
        if s.assignment not in kinds:
            if s.problem:
                rows.append(results.empty_row(*key, "invalid", s.problem, {}))
        elif s.problem:
            shutil.rmtree(course.folder("autograded", *key), ignore_errors=True)
            results.record_failure(gradebook, *key, kinds[s.assignment])
            row = results.read_row(gradebook, *key, "invalid", s.problem, kinds[s.assignment], {})
            row.score, row.auto_score = row.manual_score, 0.0
            rows.append(row)
    for student in students:
        for assignment in chosen:
            if (student, assignment) not in seen:
                rows.append(results.empty_row(student, assignment, "missing", "no submission found", kinds[assignment]))
    return rows


def store_outcome(course, gradebook, submission, outcome, kinds):
    """Record one worker result in the course gradebook, copy its notebooks
    into the course folders (for the formgrader and the feedback), and read
    its row back from the gradebook."""
    key = (submission.student_id, submission.assignment)
    submitted, autograded = course.folder("submitted", *key), course.folder("autograded", *key)
    shutil.rmtree(autograded, ignore_errors=True)
    submitted.mkdir(parents=True, exist_ok=True)
    shutil.copy(submission.notebook, submitted / f"{submission.assignment}.ipynb")
    if outcome.get("notebook"):
        autograded.mkdir(parents=True, exist_ok=True)
        (autograded / f"{submission.assignment}.ipynb").write_text(outcome["notebook"], encoding="utf-8")
    results.record(gradebook, outcome, kinds)
    messages = {cell["grade_id"]: cell["message"] for cell in outcome["cells"]}
    return results.read_row(gradebook, *key, outcome["status"], outcome["message"], kinds, messages)


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


def feedback_page(feedback_root, student, assignment):
    """Where OUT/feedback/<student>/<assignment>.html is."""
    return feedback_root / student / f"{assignment}.html"


def feedback_call(course, row, ran, feedback_root):
    """The worker call that makes OUT/feedback/<student>/<assignment>.html
    with nbgrader's generate_feedback when the notebook ran (the page says
    what went wrong if nbgrader cannot make it); otherwise that page is
    written here and None returned."""
    target = feedback_page(feedback_root, row.student_id, row.assignment)
    if ran:
        return (worker.feedback_task, (course.nbgrader_paths(), row.student_id, row.assignment, str(target),
                                       results.problem_page(row)))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(results.problem_page(row), encoding="utf-8")
    return None


def regenerate_feedback(out, options=Options(), course=None):
    """`conv-course feedback`: after manual grading, re-read the scores from
    the gradebook into OUT's CSVs and make every feedback page again."""
    from nbgrader.api import MissingEntry

    course = course or Course.default()
    out = Path(out)
    statuses = results.read_statuses(out)
    if not statuses:
        raise GradingError(f"no grades.csv in {out}: run `conv-course grade SUBMISSIONS --out {out}` first")
    messages = results.read_test_messages(out)
    kinds = graded_assignments()
    feedback_root = out / "feedback"
    rows, calls = [], []
    with course.gradebook() as gradebook:
        for (student, assignment), status in sorted(statuses.items()):
            row = None
            if assignment in kinds and status != "missing":
                try:
                    row = results.read_row(gradebook, student, assignment,
                                           "ok" if status == "needs_manual_grade" else status, "",
                                           kinds[assignment], messages.get((student, assignment), {}))
                except MissingEntry:
                    pass
            row = row or results.empty_row(student, assignment, status, "", kinds.get(assignment, {}))
            rows.append(row)
            ran = (course.folder("autograded", student, assignment) / f"{assignment}.ipynb").exists()
            call = feedback_call(course, row, ran, feedback_root)
            if call:
                calls.append(call)
    work = Path(tempfile.mkdtemp(prefix="conv-course-"))
    try:
        settings = worker.Settings(course_db=str(course.db), solutions=str(SOLUTIONS), config_file=str(CONFIG_FILE),
                                   work_root=str(work))
        with WorkerPool(settings, min(options.jobs or default_jobs(), max(len(calls), 1))) as pool:
            pool.run(calls, "feedback", options.progress)
    finally:
        sandbox.remove_scratch(work)
    results.write_csvs(rows, out)
    return rows, results.summary(rows)
