"""`conv-course grade`: a folder of submissions in, grades and feedback out.

    collect      submissions.collect: nbgrader's layout or an LMS download,
                 each file checked and staged (or given a clear problem)
    register     the course gradebook learns the assignments (nbgrader's
                 generate_assignment, into a throw-away release folder)
    grade        by one of two runners that take the same arguments:
                 local_pool.py, long-lived worker processes of this machine,
                 or with --cluster, cluster.py, Dask workers. Either runs the
                 grader of worker.py, one submission at a time per worker:
                 nbgrader autograde in a sandboxed kernel, then the
                 independent check
    record       as each result comes, this process alone writes it into the
                 course gradebook (results.record), then reads its scores back
    feedback     nbgrader's generate_feedback makes the pages: local_pool.py
                 has a worker make each page from the course gradebook once
                 its result is recorded; on the cluster each page comes back
                 with its result and this process writes it. Submissions that
                 could not run get a page saying why
    late         each row is marked late or not (late_work.py: --deadline against
                 the file's time, or Canvas's LATE marker), and --late-penalty
                 lowers its score; auto_score and manual_score stay as graded
    write        OUT/grades.csv, OUT/tests.csv (as results come, and once more at
                 the end), OUT/feedback/<student>/<assignment>.html, and at the
                 start OUT/students.csv (lms_students.py: the Canvas or Moodle
                 learner of each id, for `conv-course export`); at the end
                 OUT/similarity.csv (similarity.py; --no-similarity skips it),
                 OUT/run.json (journal.write_run: this run's options, which
                 `conv-course feedback` and the report read), and the report

OUT/progress.jsonl (journal.py) lists what is recorded, so that a run that
stops resumes where it was: a submission graded by an earlier run into the
same OUT, unchanged, is kept (--force grades it again). What the steps share
(the course's paths, Course, Settings, what each assignment grades, the
feedback pages) is in course.py.

A crash of one submission is contained at each step: its kernel is in a
sandbox; a worker process that dies is replaced and its submission retried
(local_pool.py: once; cluster.py: by the scheduler), then reported as `error`.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import (
    confinement,
    inert,
    journal,
    late_work,
    lms_students,
    local_pool,
    results,
    sandbox,
    similarity,
    submissions,
)
from .course import (
    CONFIG_FILE,
    SOLUTIONS,
    CellResult,
    Course,
    FeedbackPages,
    Graded,
    Settings,
    graded_assignments,
    last_error_line,
    load_course_config,
    progress_bar,
)
from .new_gradebook import start_gradebook
from .stage_times import StageTimes, Stopwatch


class GradingError(RuntimeError):
    """The grader itself cannot run (not a problem of one submission)."""


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
    disk_mb: int = 256  # a sandbox's scratch folder
    notebook_timeout: int = 0  # seconds for a whole notebook; 0: 4 x timeout, at least 30
    deadline: str = ""  # ISO 8601 (late_work.parse_deadline); "" marks late only what Canvas marked
    late_penalty: str = ""  # e.g. "10%/day,max=50%" (late_work.parse_penalty); "" deducts nothing
    similarity: bool = True  # write OUT/similarity.csv (similarity.py)
    report: bool = True  # call report.write_report at the end, when that module is there


@dataclass(frozen=True)
class LateRules:
    """The parsed --deadline and --late-penalty of a run (each None when not given)."""

    deadline: late_work.Deadline | None = None
    penalty: late_work.Penalty | None = None

    @classmethod
    def parse(cls, deadline_text, penalty_text):
        """Both texts read by late_work; GradingError with late_work's teaching message otherwise."""
        try:
            return cls(late_work.parse_deadline(deadline_text) if deadline_text else None,
                       late_work.parse_penalty(penalty_text) if penalty_text else None)
        except late_work.LateWorkError as error:
            raise GradingError(str(error)) from error

    @classmethod
    def of_run(cls, run):
        """The rules an earlier grade run used, from its OUT/run.json (journal.read_run): its deadline as the
        instant it was then (`late_from`), whatever this machine's time zone is now."""
        try:
            deadline = (late_work.Deadline(run["deadline"], datetime.fromisoformat(run["late_from"]))
                        if run.get("deadline") and run.get("late_from") else None)
            penalty = late_work.parse_penalty(run["late_penalty"]) if run.get("late_penalty") else None
        except (late_work.LateWorkError, TypeError, ValueError) as error:
            raise GradingError(f"{journal.RUN_FILE} of the last grade run cannot be read: {error}") from error
        return cls(deadline, penalty)


#: Statuses whose score a late penalty lowers: those of a notebook that was graded. An invalid file scores
#: 0 on its tests already and a missing one has nothing; both are still marked late when they are.
PENALISED = {"ok", "needs_manual_grade", "tampered", "timeout", "error"}


def mark_late(row, submitted_at, marked_late, rules):
    """Set row.late, and lower row.score by the late penalty (row.auto_score and row.manual_score stay as
    graded). submitted_at: the file's time (0 or None: unknown); marked_late: the LMS's marker."""
    lateness = late_work.how_late(submitted_at or None, rules.deadline, marked_late)
    deducted = late_work.deduction(row.max_score, lateness, rules.penalty) if row.status in PENALISED else 0.0
    if deducted:
        row.score = late_work.penalised_score(row.score, row.max_score, lateness, rules.penalty)
    row.late = late_work.late_column(lateness, deducted)
    return row


def default_jobs():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def grade(submissions_dir, out, options=Options(), course=None):
    """Grade every submission in submissions_dir; write the CSVs and the
    feedback into out. Returns (rows, summary text). Raises GradingError when
    the grader cannot run at all."""
    started = time.perf_counter()
    started_at = datetime.now().astimezone()
    course = course or Course.default()
    out = Path(out)
    rules = LateRules.parse(options.deadline, options.late_penalty)
    all_kinds = graded_assignments()
    known = list(all_kinds)
    unknown = [name for name in options.assignments if name not in known]
    if unknown:
        raise GradingError(f"no such assignment: {', '.join(unknown)} (this course has {', '.join(known)})")
    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable as error:
        raise GradingError(str(error)) from error
    sandbox.precompile_course_code()

    out.mkdir(parents=True, exist_ok=True)
    work = confinement.temporary_folder("work")
    os.chmod(work, 0o755)
    try:
        try:
            found, notes = submissions.collect(Path(submissions_dir), work / "staged", known,
                                               only=list(options.assignments) or None)
        except (FileNotFoundError, NotADirectoryError) as error:
            raise GradingError(str(error)) from error
        lms_students.record(found, out)  # who each Canvas or Moodle number is, for `conv-course export`
        chosen = sorted(set(options.assignments) or {s.assignment for s in found if s.assignment in known})
        register(course, chosen, work)
        kinds = {name: all_kinds[name] for name in chosen}

        tasks = [s for s in found if s.problem is None and s.assignment in kinds]
        settings = Settings.here(course.db, work, timeout=options.timeout, memory_mb=options.memory_mb,
                                 disk_mb=options.disk_mb, notebook_timeout=options.notebook_timeout,
                                 secret=options.secret or os.environ.get("CONV_COURSE_SECRET", "conv-channels"))
        progress = journal.Journal(out)
        pages = FeedbackPages(out / "feedback", course)
        if options.force:
            progress.forget(chosen)
            for assignment in chosen:
                for page in pages.root.glob(f"*/{assignment}.html"):
                    page.unlink()
        digests = [journal.fingerprint(s.notebook, SOLUTIONS / s.assignment / f"{s.assignment}.ipynb",
                                       (settings.timeout, settings.memory_mb, settings.secret, settings.disk_mb,
                                        settings.notebook_seconds())) for s in tasks]
        with course.gradebook() as gradebook:
            rows = store_problems(course, gradebook, found, kinds, chosen, rules)
            to_grade = []
            for submission, digest in zip(tasks, digests):
                row = resumed_row(gradebook, progress, submission, digest, kinds, options, pages)
                if row is None:
                    to_grade.append((submission, digest))
                else:
                    rows.append(mark_late(row, submission.submitted_at, submission.marked_late, rules))
            kept = len(tasks) - len(to_grade)
            if kept:
                notes = [*notes, f"{kept} submission(s) graded by an earlier run into {out} were kept "
                                 "(same notebook, tests and options); --force grades them again"]

            def recorded(index, outcome):
                # Here, in this process, as each result comes: into the
                # gradebook and the progress file.
                submission, digest = to_grade[index]
                watch = Stopwatch()
                with watch.stage("recording"):
                    row = store_outcome(course, gradebook, submission, outcome, kinds[submission.assignment])
                stages.add({**(outcome.get("seconds") or {}), **watch.seconds})
                rows.append(mark_late(row, submission.submitted_at, submission.marked_late, rules))
                # An earlier page must not pass for this result's, should the run stop before its page is made.
                pages.page(row.student_id, row.assignment).unlink(missing_ok=True)
                progress.add(row.student_id, row.assignment, digest, outcome["status"], outcome["message"],
                             {grade_id: message for grade_id, _, _, message in row.tests or []},
                             submission.submitted_at or None, submission.marked_late)
                csvs.result_recorded(rows)
                return row

            # The CSVs follow the results as they come (not only after the last
            # feedback page): every CSV_EVERY_SECONDS, and as soon as the last is in.
            csvs = CsvWriter(out, len(to_grade))
            stages = StageTimes()  # where the time went, for run.json

            def crash(index, message):
                submission = to_grade[index][0]
                return crashed(submission.student_id, submission.assignment, kinds[submission.assignment], message)

            # The two ways to run the grading take the same arguments.
            cluster_error = ()  # nothing to catch on this machine's pool
            if options.cluster:
                from . import cluster  # Dask (a second of importing) only for a run on a cluster

                runner, where, place = cluster, options.cluster, f"on the cluster {options.cluster}"
                cluster_error = cluster.ClusterError
            else:
                jobs = min(options.jobs or default_jobs(), max(len(to_grade), 1))
                runner, where, place = local_pool, jobs, f"with {jobs} job(s)"
            if to_grade:
                bar = progress_bar(len(to_grade), "grading", options.progress)
                try:
                    runner.run(where, settings, course.db, [s for s, _ in to_grade],
                               pages if options.feedback else None, recorded, crash, bar, on_seconds=stages.add)
                except cluster_error as error:
                    raise GradingError(str(error)) from error
                finally:
                    bar.close()
            for row in rows:
                if row.status in ("invalid", "missing") and options.feedback:
                    pages.write(row)
        results.write_csvs(rows, out)
        notes = [*notes, *late_notes(found, rules)]
        if options.similarity:
            write_similarity_safely(work / "staged", out, notes)
        seconds = time.perf_counter() - started
        run = run_record(options, rules, chosen, started_at, seconds,
                         None if options.cluster else where, stages.summary() if to_grade else {})
        journal.write_run(out, run)
        if options.report:
            report_hook(out, run, notes)
        pace = f", {seconds / len(to_grade):.2f} s per notebook" if to_grade else ""
        timing = f"took {seconds:.1f} s {place}{pace}"
        return rows, results.summary(rows, notes) + "\n" + timing + "\n" + caps_line(settings, options)
    finally:
        sandbox.remove_scratch(work)


def late_notes(found, rules):
    """The summary's notes on late work: file times that look like those of an unpacked zip (late_work)."""
    if rules.deadline is None:
        return []
    judged = [s.submitted_at for s in found if s.marked_late is None]
    warning = late_work.times_look_copied(judged)
    return [warning] if warning else []


def write_similarity_safely(staging, out, notes):
    """OUT/similarity.csv (similarity.write_similarity, from the staged notebooks). A failure there never
    fails the grading run: it becomes a note of the summary."""
    try:
        similarity.write_similarity(staging, out, notes=notes)
    except Exception as error:  # the copying signal is advice; the grades are written already
        notes.append(f"similarity.csv could not be written ({one_line(error)})")


def run_record(options, rules, chosen, started_at, seconds, jobs, stages=None):
    """The dict of OUT/run.json (journal.py describes it): this run's options, how long it took, and
    where that time went (stages: stage_times.StageTimes.summary() of the submissions graded)."""
    return {
        "started": started_at.isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "jobs": jobs,
        "cluster": options.cluster,
        "assignments": list(chosen),
        "deadline": rules.deadline.text if rules.deadline else None,
        "late_from": rules.deadline.late_from.isoformat() if rules.deadline else None,
        "late_penalty": rules.penalty.text if rules.penalty else None,
        "similarity": options.similarity,
        "feedback": options.feedback,
        "stages": stages or {},
    }


def one_line(error):
    """An exception as one short line for the summary: 'ValueError: what it said'."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:200]}" if text else type(error).__name__


def report_hook(out, run, notes):
    """Write the report (report.write_report(out, run=run)). A failure there never fails the grading
    run: it becomes a note of the summary. report.py (matplotlib) is imported only here, at the end."""
    from . import report

    try:
        return report.write_report(out, run=run)
    except Exception as error:  # the report reads what is written already; the grades stand without it
        notes.append(f"the report could not be written ({one_line(error)})")
        return None


def caps_line(settings, options):
    """The caps each sandbox had and what enforced them (on this machine; a
    cluster's workers choose for their own machines)."""
    mechanisms = confinement.mechanisms()
    where = "on this machine" if not options.cluster else "on this machine (each cluster worker chooses for its own)"
    return (f"sandbox caps {where}: "
            + mechanisms.describe(settings.memory_mb, settings.disk_mb, confinement.files_allowed(settings.disk_mb))
            + f"; {settings.timeout} s a cell, {settings.notebook_seconds()} s a notebook")


#: How often, at most, grades.csv and tests.csv are written again while results come.
CSV_EVERY_SECONDS = 5.0


class CsvWriter:
    """Writes OUT/grades.csv and OUT/tests.csv while a run records its results: at most every
    CSV_EVERY_SECONDS, and at once when the last of `expected` results is recorded, so the
    grades are on disk before the remaining feedback pages are made (a slow page delays
    nothing but itself)."""

    def __init__(self, out, expected):
        self.out, self.expected = out, expected
        self.recorded, self.written_at = 0, time.monotonic()

    def result_recorded(self, rows):
        """One more result is recorded; rows: every row of the run so far."""
        self.recorded += 1
        if self.recorded >= self.expected or time.monotonic() - self.written_at >= CSV_EVERY_SECONDS:
            results.write_csvs(rows, self.out)
            self.written_at = time.monotonic()


def resumed_row(gradebook, progress, submission, digest, kinds, options, pages):
    """The row of a submission an earlier run into the same OUT graded exactly
    as this one would (journal.py), read back from the gradebook; None when it
    must be graded (new, changed, or its result or feedback page is gone)."""
    from nbgrader.api import MissingEntry

    entry = progress.finished(submission.student_id, submission.assignment, digest)
    if entry is None:
        return None
    if options.feedback and not pages.page(submission.student_id, submission.assignment).exists():
        return None
    try:
        return results.read_row(gradebook, submission.student_id, submission.assignment, entry["status"],
                                entry["message"], kinds[submission.assignment], entry["messages"])
    except MissingEntry:
        return None


def crashed(student, assignment, kinds, message):
    """The result of a submission no worker could grade (message says why): `error`, every cell 0."""
    cells = [CellResult(grade_id, kind, 0.0, points) for grade_id, (kind, points) in kinds.items()]
    return Graded(student, assignment, "error", message, cells).to_dict()


def register(course, assignments, work):
    """Make sure the course gradebook knows each assignment and its cells:
    nbgrader's generate_assignment, called in this process (no second
    nbgrader start-up), released into a throw-away folder."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    course.db.parent.mkdir(parents=True, exist_ok=True)
    if not assignments:
        return
    start_gradebook(course.db)  # without nbgrader's alembic process
    config = load_course_config(CONFIG_FILE)
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
                               f"{last_error_line(outcome)}")


def store_problems(course, gradebook, found, kinds, chosen, rules=LateRules()):
    """The rows of the submissions that will not run: invalid files, unknown
    assignments, and students with nothing for an assignment (missing). An
    invalid submission of a known assignment scores 0 in the gradebook too,
    so an earlier grade of that student does not linger there. Each invalid
    file is marked late when it is (mark_late)."""
    rows = []
    students = sorted({s.student_id for s in found} | {student.id for student in gradebook.students})
    seen = {(s.student_id, s.assignment) for s in found}
    for s in found:
        key = (s.student_id, s.assignment)
        if s.assignment not in kinds:
            if s.problem:
                rows.append(mark_late(results.empty_row(*key, "invalid", s.problem, {}), s.submitted_at,
                                      s.marked_late, rules))
        elif s.problem:
            shutil.rmtree(course.folder("autograded", *key), ignore_errors=True)
            results.record_failure(gradebook, *key, kinds[s.assignment])
            row = results.read_row(gradebook, *key, "invalid", s.problem, kinds[s.assignment], {})
            row.score, row.auto_score = row.manual_score, 0.0
            rows.append(mark_late(row, s.submitted_at, s.marked_late, rules))
    for student in students:
        for assignment in chosen:
            if (student, assignment) not in seen:
                rows.append(results.empty_row(student, assignment, "missing", "no submission found", kinds[assignment]))
    return rows


def store_outcome(course, gradebook, submission, outcome, kinds):
    """Record one worker result in the course gradebook, copy its notebooks
    into the course folders (for the formgrader and the feedback; both
    inert, see autograder/inert.py), and read its row back from the gradebook."""
    key = (submission.student_id, submission.assignment)
    submitted, autograded = course.folder("submitted", *key), course.folder("autograded", *key)
    shutil.rmtree(autograded, ignore_errors=True)
    submitted.mkdir(parents=True, exist_ok=True)
    store_inert_copy(Path(submission.notebook), submitted / f"{submission.assignment}.ipynb")
    if outcome.get("notebook"):  # made inert by the worker (worker.Worker.grade)
        autograded.mkdir(parents=True, exist_ok=True)
        (autograded / f"{submission.assignment}.ipynb").write_text(outcome["notebook"], encoding="utf-8")
    results.record(gradebook, outcome, kinds)
    messages = {cell["grade_id"]: cell["message"] for cell in outcome["cells"]}
    return results.read_row(gradebook, *key, outcome["status"], outcome["message"], kinds, messages)


def store_inert_copy(notebook, target):
    """Write the notebook file at `notebook`, made inert (inert.py), to target: the submitted/
    copy the formgrader may show. A file that is no notebook (the worker could not grade it
    either) gets no copy."""
    try:
        text = inert.inert_notebook_text(notebook.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        target.unlink(missing_ok=True)
        return
    target.write_text(text, encoding="utf-8")


def regenerate_feedback(out, options=Options(), course=None):
    """`conv-course feedback`: after manual grading, re-read the scores from
    the gradebook into OUT's CSVs and make every feedback page again. The late
    penalty of the last grade run (OUT/run.json) is applied again, to the
    submissions OUT/progress.jsonl knows the time of; the others keep their
    `late` cell."""
    from nbgrader.api import MissingEntry

    course = course or Course.default()
    out = Path(out)
    statuses = results.read_statuses(out)
    if not statuses:
        raise GradingError(f"no grades.csv in {out}: run `conv-course grade SUBMISSIONS --out {out}` first")
    run = journal.read_run(out)
    rules = LateRules.of_run(run)
    entries, late_cells = journal.Journal(out).entries, results.read_late(out)
    messages = results.read_test_messages(out)
    kinds = graded_assignments()
    pages = FeedbackPages(out / "feedback", course)
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
            entry = entries.get((student, assignment))
            if entry is not None and "submitted_at" in entry and status in PENALISED:
                mark_late(row, entry.get("submitted_at"), entry.get("marked_late"), rules)
            else:
                row.late = late_cells.get((student, assignment), "")
            rows.append(row)
            ran = (course.folder("autograded", student, assignment) / f"{assignment}.ipynb").exists()
            call = local_pool.feedback_call(pages, row, ran)
            if call:
                calls.append(call)
    work = confinement.temporary_folder("work")
    try:
        settings = Settings.here(course.db, work)
        with local_pool.WorkerPool(settings, min(options.jobs or default_jobs(), max(len(calls), 1))) as pool:
            pool.run(calls, "feedback", options.progress)
    finally:
        sandbox.remove_scratch(work)
    results.write_csvs(rows, out)
    return rows, results.summary(rows)
